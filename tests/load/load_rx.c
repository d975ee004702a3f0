/*
 * load_rx.c: what a participant receives on its UDP socket.
 *
 * STUN goes to the ICE agent, DTLS to the client, SRTCP is unprotected and
 * acted on (load_media.c), SRTP is counted from its header alone (the RTP
 * header and its extensions are not encrypted): per receiving line the
 * packets, duplicates, reordering and gaps; a gap on a video line is
 * NACKed at once and again while it stays open (as Chromium does; a gap
 * that stays open asks for a keyframe with a PLI); RTX repairs are
 * unprotected to read the sequence number they repair.  One packet in
 * `--sample` is fully unprotected and its payload compared with the
 * encoded media: a corrupt or misrouted stream shows up.  The relay
 * latency of each packet is read from its abs-send-time, which the
 * publisher (in this process, on this clock) wrote and the SFU forwards.
 * Transport feedback about what arrives goes back to the server (the
 * project's twcc.c), so its estimate of our downlink is a browser's.
 *
 * Owns: the receive window of each line (load_rx_t), the NACK retries,
 * the first packet from each publisher (the join time).
 * Must never: unprotect every packet (the tool's CPU must stay the
 * server's to measure), or count a gap before the line's first packet.
 * May not: include sfu.h
 */

#include <stdio.h>
#include <string.h>

#include "load.h"
#include "rtcp.h"
#include "rtp.h"


void
load_rx_line_reset(load_rx_t *l)
{
    memset(l, 0, sizeof(*l));
    l->pub = -1;
    l->pt = l->rtx_pt = -1;
}


typedef struct {
    uint32_t        ssrc;
    uint16_t        seq;
    unsigned        pt, padding;
    size_t          payload_off;
    int             mid;              /* -1 none */
    int             twcc;             /* -1 none */
    int64_t         abs;              /* -1 none */
} load_hdr_t;


static int
load_parse_header(load_peer_t *p, const uint8_t *b, size_t len,
    load_hdr_t *h)
{
    size_t    off, end, el;
    unsigned  id, two, k;
    int       mid;

    if (len < 12 || (b[0] >> 6) != 2) {
        return -1;
    }
    h->pt = b[1] & 0x7f;
    h->padding = (b[0] & 0x20) != 0;
    h->seq = (uint16_t) (b[2] << 8 | b[3]);
    h->ssrc = (uint32_t) b[8] << 24 | (uint32_t) b[9] << 16
              | (uint32_t) b[10] << 8 | b[11];
    h->mid = h->twcc = -1;
    h->abs = -1;
    off = 12 + 4 * (size_t) (b[0] & 0x0f);

    if (b[0] & 0x10) {
        if (off + 4 > len) {
            return -1;
        }
        two = b[off] == 0x10 && (b[off + 1] & 0xf0) == 0;
        if (!two && !(b[off] == 0xbe && b[off + 1] == 0xde)) {
            off += 4 + 4 * (size_t) (b[off + 2] << 8 | b[off + 3]);
            goto done;
        }
        end = off + 4 + 4 * (size_t) (b[off + 2] << 8 | b[off + 3]);
        if (end > len) {
            return -1;
        }
        off += 4;
        while (off < end) {
            if (b[off] == 0) {
                off++;
                continue;
            }
            if (two) {
                if (off + 2 > end) break;
                id = b[off];
                el = b[off + 1];
                off += 2;
            } else {
                id = b[off] >> 4;
                el = (b[off] & 0x0f) + 1u;
                if (id == 15) break;
                off += 1;
            }
            if (off + el > end) {
                break;
            }
            if (id == p->rx_ext_twcc && el == 2) {
                h->twcc = b[off] << 8 | b[off + 1];
            } else if (id == p->rx_ext_abs && el == 3) {
                h->abs = (int64_t) b[off] << 16 | b[off + 1] << 8
                         | b[off + 2];
            } else if (id == p->rx_ext_mid && el <= 3) {
                mid = 0;
                for (k = 0; k < el; k++) {
                    if (b[off + k] < '0' || b[off + k] > '9') {
                        mid = -1;
                        break;
                    }
                    mid = mid * 10 + (b[off + k] - '0');
                }
                h->mid = mid;
            }
            off += el;
        }
        off = end;
    }
done:
    if (off > len) {
        return -1;
    }
    h->payload_off = off;
    return 0;
}


static int
load_find_line(load_peer_t *p, const load_hdr_t *h, int *rtx)
{
    unsigned  i;

    if (h->mid >= (p->is_sub ? 0 : 2) && h->mid < (int) p->nlines) {
        load_rx_t *l = &p->lines[h->mid];
        if (l->ssrc == h->ssrc || l->rtx_ssrc == h->ssrc) {
            *rtx = l->rtx_ssrc == h->ssrc;
            return h->mid;
        }
    }
    for (i = p->is_sub ? 0 : 2; i < p->nlines; i++) {
        if (p->lines[i].ssrc == h->ssrc) {
            *rtx = 0;
            return (int) i;
        }
        if (p->lines[i].rtx_ssrc == h->ssrc) {
            *rtx = 1;
            return (int) i;
        }
    }
    return -1;
}


static void
load_missing_drop(load_rx_t *l, uint16_t seq, int recovered)
{
    unsigned  i;

    for (i = 0; i < l->nmissing; i++) {
        if (l->missing[i].seq == seq) {
            l->missing[i] = l->missing[--l->nmissing];
            if (recovered) {
                l->recovered++;
            }
            return;
        }
    }
}


#define SEEN(l, s)   ((l)->seen[((s) & (LOAD_RXWIN - 1)) >> 3] \
                      & (1u << ((s) & 7)))
#define MARK(l, s)   ((l)->seen[((s) & (LOAD_RXWIN - 1)) >> 3] \
                      |= (uint8_t) (1u << ((s) & 7)))
#define CLEAR(l, s)  ((l)->seen[((s) & (LOAD_RXWIN - 1)) >> 3] \
                      &= (uint8_t) ~(1u << ((s) & 7)))


/* one arrival of seq on line l; repair: it came as RTX */
static void
load_seq(load_peer_t *p, load_rx_t *l, uint16_t seq, int repair,
    uint64_t now)
{
    int64_t  ext, s;

    if (!l->started) {
        if (repair) {
            return;
        }
        l->started = 1;
        l->base = l->top = seq;
        memset(l->seen, 0, sizeof(l->seen));
        MARK(l, l->top);
        l->packets++;
        return;
    }

    ext = l->top + (int16_t) (seq - (uint16_t) l->top);

    if (ext > l->top) {
        if (repair) {
            return;                     /* a repair of what never went */
        }
        if (ext - l->top > LOAD_RXWIN) {
            /* a jump: what the window held is judged, then restart */
            load_rx_close_line(l);
            l->base = l->top = ext;
            memset(l->seen, 0, sizeof(l->seen));
            MARK(l, ext);
            l->packets++;
            l->nmissing = 0;
            return;
        }
        for (s = l->top + 1; s <= ext; s++) {
            if (s - LOAD_RXWIN >= l->base && !SEEN(l, s - LOAD_RXWIN)) {
                l->lost++;              /* left the window unrepaired */
            }
            CLEAR(l, s);
            if (s < ext && l->kind == 'v' && l->nmissing < LOAD_MISSING) {
                l->missing[l->nmissing].seq = (uint16_t) s;
                l->missing[l->nmissing].tries = 0;
                l->missing[l->nmissing].next_us = now;
                l->nmissing++;
            }
        }
        l->top = ext;
        MARK(l, ext);
        l->packets++;
        return;
    }

    if (l->top - ext >= LOAD_RXWIN || ext < l->base) {
        return;                         /* older than the window */
    }
    if (SEEN(l, ext)) {
        if (!repair) {
            l->dups++;
        }
        return;
    }
    MARK(l, ext);
    if (repair) {
        load_missing_drop(l, seq, 1);
    } else {
        l->packets++;
        l->reordered++;
        load_missing_drop(l, seq, 0);
    }
}


/* what the window still holds unrepaired is lost */
void
load_rx_close_line(load_rx_t *l)
{
    int64_t  s;

    if (!l->started) {
        return;
    }
    s = l->top - LOAD_RXWIN + 1;
    if (s < l->base) {
        s = l->base;
    }
    for (; s <= l->top; s++) {
        if (!SEEN(l, s)) {
            l->lost++;
            MARK(l, s);
        }
    }
}


void
load_rx_close(load_peer_t *p)
{
    unsigned  i;

    for (i = p->is_sub ? 0 : 2; i < p->nlines; i++) {
        load_rx_close_line(&p->lines[i]);
        p->lines[i].started = 0;
    }
}


static void
load_check_joined(load_peer_t *p, uint64_t now)
{
    unsigned  i, videos, voices, need, slots;

    if (p->joined_us) {
        return;
    }

    /* Janus forwards every voice, ngx_rooms the audio_slots loudest */
    slots = load_run.opt.janus ? p->npresent : load_run.opt.audio_slots;
    videos = voices = 0;
    for (i = 0; i < p->npresent; i++) {
        voices += p->first_a[p->present[i]] != 0;
        videos += p->first_v[p->present[i]] != 0;
    }
    need = p->npresent < 16 ? p->npresent : 16;
    if (videos >= need
        && voices >= (p->npresent < slots ? p->npresent : slots))
    {
        p->joined_us = now;
    }
}


/* the full check of a sampled packet: it decrypts, and its payload is
 * one the publishers encoded, of the line's kind */
static void
load_sample(load_peer_t *p, load_rx_t *l, const uint8_t *buf, size_t len)
{
    uint8_t      b[LOAD_DGRAM];
    size_t       n = len;
    rooms_rtp_t  r;
    rooms_vp8_t  v;
    int          rc;

    memcpy(b, buf, len);
    rc = rooms_srtp_unprotect(&p->srtp, b, &n);
    if (rc == ROOMS_SRTP_REPLAY) {
        return;
    }
    p->sampled++;
    if (rc != ROOMS_SRTP_OK) {
        p->auth_fail++;
        p->corrupt++;
        if (load_run.opt.verbose) {
            load_log(p, "sample fails SRTP (%d): %zu bytes, ssrc %u seq %u "
                     "on mid %u (ssrc %u rtx %u), pt %u", rc, len,
                     (unsigned) (buf[8] << 24 | buf[9] << 16 | buf[10] << 8
                                 | buf[11]),
                     (unsigned) (buf[2] << 8 | buf[3]), (unsigned) (l - p->lines),
                     l->ssrc, l->rtx_ssrc, buf[1] & 0x7fu);
        }
        return;
    }
    if (rooms_rtp_parse(b, n, &r) != 0) {
        p->corrupt++;
        return;
    }
    if (l->kind == 'a') {
        if (r.pt != (l->pt >= 0 ? (unsigned) l->pt : LOAD_PT_OPUS)) {
            p->misrouted++;
        } else if (!load_media_known(b + r.payload_off, r.payload_len)) {
            p->corrupt++;
        }
        return;
    }
    if (r.pt != (l->pt >= 0 ? (unsigned) l->pt : LOAD_PT_VP8)) {
        p->misrouted++;
        return;
    }
    if (rooms_rtp_vp8_parse(b + r.payload_off, r.payload_len, &v) != 0
        || !load_media_known(b + r.payload_off + v.desc_len,
                             r.payload_len - v.desc_len))
    {
        p->corrupt++;
    }
}


static void
load_rtx(load_peer_t *p, load_rx_t *l, const uint8_t *buf, size_t len,
    uint64_t now)
{
    uint8_t      b[LOAD_DGRAM];
    size_t       n = len;
    rooms_rtp_t  r;

    memcpy(b, buf, len);
    if (rooms_srtp_unprotect(&p->srtp, b, &n) != ROOMS_SRTP_OK
        || rooms_rtp_parse(b, n, &r) != 0 || r.payload_len < 2)
    {
        return;                         /* padding: a probe */
    }
    p->rx_rtx++;
    load_seq(p, l, (uint16_t) (b[r.payload_off] << 8
                               | b[r.payload_off + 1]), 1, now);
}


static void
load_rtp(load_peer_t *p, uint8_t *buf, size_t len, uint64_t now)
{
    load_hdr_t  h;
    load_rx_t  *l;
    int         i, rtx;
    uint32_t    nowabs, d;

    if (load_parse_header(p, buf, len, &h) != 0) {
        p->corrupt++;
        return;
    }
    p->rx_packets++;
    p->rx_bytes += len;

    if (h.twcc >= 0) {
        rooms_twcc_input(&p->twcc, (int64_t) now, (uint16_t) h.twcc);
    }

    i = load_find_line(p, &h, &rtx);
    if (i < 0) {
        return;                         /* an SSRC no answer announced */
    }
    l = &p->lines[i];

    if (rtx) {
        load_rtx(p, l, buf, len, now);
        return;
    }

    load_seq(p, l, h.seq, 0, now);

    if (l->pub >= 0 && l->pub < LOAD_MAX_PEERS) {
        uint64_t *first = l->kind == 'a' ? p->first_a : p->first_v;
        if (first[l->pub] == 0) {
            first[l->pub] = now;
            if (p->first_rx_us == 0) {
                p->first_rx_us = now;
            }
            load_check_joined(p, now);
        }
    }

    /* Janus stamps its own abs-send-time on what it sends: the
     * publisher's time is not there to measure from */
    if (h.abs >= 0 && load_run.measuring && !load_run.opt.janus) {
        nowabs = (uint32_t) (((now << 18) / 1000000) & 0xffffff);
        d = (nowabs - (uint32_t) h.abs) & 0xffffff;
        /* "before it was sent": the two clocks' error, under 4 us */
        load_report_latency(d >= 0x800000 ? 0
                            : (uint64_t) d * 1000000 / (1u << 18));
    }

    /* and the line's first packet: libsrtp learns the stream's rollover
     * counter from it (a line that starts just before its sequence
     * numbers wrap would otherwise fail every later sample) */
    if (load_run.opt.sample
        && (h.seq % load_run.opt.sample == 0 || l->packets == 1))
    {
        load_sample(p, l, buf, len);
    }
}


static void
load_rtcp(load_peer_t *p, uint8_t *buf, size_t len, uint64_t now)
{
    size_t  n = len;

    if (rooms_srtp_unprotect_rtcp(&p->srtp, buf, &n) != ROOMS_SRTP_OK) {
        return;
    }
    p->rx_rtcp++;
    load_media_rtcp(p, buf, n, now);
}


void
load_rx_input(load_peer_t *p, uint8_t *buf, size_t len, uint64_t now)
{
    if (len == 0) {
        return;
    }
    if (buf[0] <= 3) {
        load_ice_input(p, buf, len, now);
    } else if (buf[0] >= 20 && buf[0] <= 63) {
        load_dtls_input(p, buf, len, now);
    } else if (buf[0] >= 128 && buf[0] <= 191 && p->srtp_on) {
        if (rooms_rtp_is_rtcp(buf, len)) {
            load_rtcp(p, buf, len, now);
        } else {
            load_rtp(p, buf, len, now);
        }
    }
}


/* NACKs due, transport feedback due */
void
load_rx_tick(load_peer_t *p, uint64_t now)
{
    uint8_t         b[LOAD_DGRAM];
    uint16_t        lost[LOAD_MISSING];
    unsigned        i, k, n, pli;
    uint64_t        retry;
    int             len;
    load_rx_t      *l;
    load_missing_t *m;

    if (!p->srtp_on) {
        return;
    }

    /* a round trip and a little: the impairment's delay both ways */
    retry = 2 * (uint64_t) load_run.opt.delay_ms * 1000 + 30000;

    for (i = p->is_sub ? 0 : 2; i < p->nlines; i++) {
        l = &p->lines[i];
        if (l->nmissing == 0) {
            continue;
        }
        n = 0;
        pli = 0;
        for (k = 0; k < l->nmissing; k++) {
            m = &l->missing[k];
            if (m->next_us > now) {
                continue;
            }
            if (m->tries >= LOAD_NACK_TRIES) {
                /* given up: the decoder would ask for a keyframe */
                *m = l->missing[--l->nmissing];
                k--;
                pli = 1;
                continue;
            }
            m->tries++;
            m->next_us = now + retry;
            lost[n++] = m->seq;
        }
        if (n) {
            /* the NACK builder wants the numbers in order */
            for (k = 1; k < n; k++) {
                uint16_t v = lost[k];
                unsigned j = k;
                while (j > 0 && (int16_t) (lost[j - 1] - v) > 0) {
                    lost[j] = lost[j - 1];
                    j--;
                }
                lost[j] = v;
            }
            len = (int) rooms_rtcp_build_nack(b, sizeof(b) - 32,
                                              p->audio.ssrc, l->ssrc, lost,
                                              n);
            if (len > 0) {
                p->nacks_out++;
                load_send_rtcp(p, b, (size_t) len);
            }
        }
        if (pli) {
            len = (int) rooms_rtcp_build_pli(b, sizeof(b) - 32,
                                             p->audio.ssrc, l->ssrc);
            if (len > 0) {
                load_send_rtcp(p, b, (size_t) len);
            }
        }
    }

    if (p->rx_ext_twcc) {
        int64_t due = rooms_twcc_timeout(&p->twcc);
        while (due >= 0 && due <= (int64_t) now) {
            len = rooms_twcc_poll(&p->twcc, (int64_t) now, b,
                                  sizeof(b) - 32);
            if (len <= 0) {
                break;
            }
            load_send_rtcp(p, b, (size_t) len);
            due = rooms_twcc_timeout(&p->twcc);
        }
    }
}
