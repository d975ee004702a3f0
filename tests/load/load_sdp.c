/*
 * load_sdp.c: the offer a Chromium participant of room.js makes, and what
 * the tool needs from the answer.
 *
 * Owns: the text of the offer: a sendonly audio line (Opus) and a
 * sendonly video line (VP8 with RTX; rids q, h, f with a=simulcast:send
 * when the welcome said simulcast, else SSRCs in an FID group), then the
 * recvonly lines the last `renegotiate` asked for, pruned to the codecs
 * and extensions the server forwards (what devices.js's pruneRecv keeps);
 * and reading the answer: the server's ICE credentials, candidate and
 * fingerprint, the extension ids, each receiving line's SSRC and RTX SSRC.
 * Must never: offer what the tool does not do (no RED, no FEC, no H.264),
 * or accept an answer without credentials, a candidate or a fingerprint.
 * May not: include sfu.h, call rooms_srtp_
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "load.h"


typedef struct {
    char    *buf;
    size_t   cap, len;
    int      over;
} load_sb_t;


static void
put(load_sb_t *b, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    if (b->over) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= b->cap - b->len) {
        b->over = 1;
        return;
    }
    b->len += (size_t) n;
}


static void
put_common(load_peer_t *p, load_sb_t *b, unsigned mid)
{
    put(b, "c=IN IP4 %s\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
        "a=candidate:1 1 udp 2122260223 %s %u typ host generation 0"
        " network-id 1\r\n"
        "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=ice-options:trickle\r\n"
        "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=mid:%u\r\n",
        load_run.opt.local_ip, load_run.opt.local_ip,
        (unsigned) p->local_port, p->ufrag, p->pwd, load_run.fingerprint,
        mid);
}


static void
put_audio(load_peer_t *p, load_sb_t *b, unsigned mid, int send)
{
    put(b, "m=audio 9 UDP/TLS/RTP/SAVPF %u\r\n", LOAD_PT_OPUS);
    put_common(p, b, mid);
    put(b, "a=extmap:%u urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
        "a=extmap:%u http://www.webrtc.org/experiments/rtp-hdrext/"
        "abs-send-time\r\n"
        "a=extmap:%u http://www.ietf.org/id/draft-holmer-rmcat-transport-"
        "wide-cc-extensions-01\r\n"
        "a=extmap:%u urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=%s\r\n", LOAD_EXT_LEVEL, LOAD_EXT_ABS, LOAD_EXT_TWCC, LOAD_EXT_MID,
        send ? "sendonly" : "recvonly");
    if (send) {
        put(b, "a=msid:load-%u load-a%u\r\n", p->index, p->index);
    }
    put(b, "a=rtcp-mux\r\na=rtcp-rsize\r\n"
        "a=rtpmap:%u opus/48000/2\r\na=rtcp-fb:%u transport-cc\r\n"
        "a=fmtp:%u minptime=10;useinbandfec=1\r\n",
        LOAD_PT_OPUS, LOAD_PT_OPUS, LOAD_PT_OPUS);
    if (send) {
        put(b, "a=ssrc:%u cname:load-%u\r\n"
            "a=ssrc:%u msid:load-%u load-a%u\r\n", p->audio.ssrc, p->index,
            p->audio.ssrc, p->index, p->index);
    }
}


static void
put_video(load_peer_t *p, load_sb_t *b, unsigned mid, int send)
{
    put(b, "m=video 9 UDP/TLS/RTP/SAVPF %u %u\r\n", LOAD_PT_VP8,
        LOAD_PT_RTX);
    put_common(p, b, mid);
    put(b, "a=extmap:%u http://www.webrtc.org/experiments/rtp-hdrext/"
        "abs-send-time\r\n"
        "a=extmap:%u http://www.ietf.org/id/draft-holmer-rmcat-transport-"
        "wide-cc-extensions-01\r\n"
        "a=extmap:%u urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
        LOAD_EXT_ABS, LOAD_EXT_TWCC, LOAD_EXT_MID);
    if (send) {
        put(b, "a=extmap:%u urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
            "\r\na=extmap:%u urn:ietf:params:rtp-hdrext:sdes:"
            "repaired-rtp-stream-id\r\n", LOAD_EXT_RID, LOAD_EXT_RRID);
    }
    put(b, "a=%s\r\n", send ? "sendonly" : "recvonly");
    if (send) {
        put(b, "a=msid:load-%u load-v%u\r\n", p->index, p->index);
    }
    put(b, "a=rtcp-mux\r\na=rtcp-rsize\r\n"
        "a=rtpmap:%u VP8/90000\r\n"
        "a=rtcp-fb:%u goog-remb\r\na=rtcp-fb:%u transport-cc\r\n"
        "a=rtcp-fb:%u ccm fir\r\na=rtcp-fb:%u nack\r\n"
        "a=rtcp-fb:%u nack pli\r\n"
        "a=rtpmap:%u rtx/90000\r\na=fmtp:%u apt=%u\r\n",
        LOAD_PT_VP8, LOAD_PT_VP8, LOAD_PT_VP8, LOAD_PT_VP8, LOAD_PT_VP8,
        LOAD_PT_VP8, LOAD_PT_RTX, LOAD_PT_RTX, LOAD_PT_VP8);
    if (!send) {
        return;
    }
    if (p->simulcast) {
        /* as Chromium: rids and no SSRCs, the server learns them */
        put(b, "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\n"
            "a=simulcast:send q;h;f\r\n");
    } else {
        put(b, "a=ssrc-group:FID %u %u\r\n"
            "a=ssrc:%u cname:load-%u\r\na=ssrc:%u msid:load-%u load-v%u\r\n"
            "a=ssrc:%u cname:load-%u\r\na=ssrc:%u msid:load-%u load-v%u\r\n",
            p->video[0].ssrc, p->video[0].rtx_ssrc,
            p->video[0].ssrc, p->index, p->video[0].ssrc, p->index, p->index,
            p->video[0].rtx_ssrc, p->index, p->video[0].rtx_ssrc, p->index,
            p->index);
    }
}


/*
 * Our own two lines first (mids 0 and 1), then the receiving lines: as
 * media.js, recvonly transceivers are added as asked and never removed,
 * audio ones first the first time, so mids keep their kind.
 */
int
load_sdp_offer(load_peer_t *p, char *buf, size_t cap)
{
    load_sb_t  b = { buf, cap, 0, 0 };
    unsigned   i, na, nv;

    /* grow the receiving lines to what was asked, keeping the old ones */
    na = nv = 0;
    for (i = 2; i < p->nlines; i++) {
        na += p->lines[i].kind == 'a';
        nv += p->lines[i].kind == 'v';
    }
    if (p->nlines < 2) {
        p->nlines = 2;
        p->lines[0].kind = 'A';      /* ours: not received on */
        p->lines[1].kind = 'V';
        p->lines[0].pub = p->lines[1].pub = -1;
    }
    while (na < p->want_audio && p->nlines < LOAD_MAX_LINES) {
        load_rx_line_reset(&p->lines[p->nlines]);
        p->lines[p->nlines++].kind = 'a';
        na++;
    }
    while (nv < p->want_video && p->nlines < LOAD_MAX_LINES) {
        load_rx_line_reset(&p->lines[p->nlines]);
        p->lines[p->nlines++].kind = 'v';
        nv++;
    }

    put(&b, "v=0\r\no=- %u%06u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "a=group:BUNDLE", 4000 + p->index, p->offers);
    for (i = 0; i < p->nlines; i++) {
        put(&b, " %u", i);
    }
    put(&b, "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS load-%u\r\n",
        p->index);

    for (i = 0; i < p->nlines; i++) {
        if (p->lines[i].kind == 'A' || p->lines[i].kind == 'a') {
            put_audio(p, &b, i, p->lines[i].kind == 'A');
        } else {
            put_video(p, &b, i, p->lines[i].kind == 'V');
        }
    }

    return b.over ? -1 : 0;
}


static int
hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}


/*
 * Reads an answer to our offer (ngx_rooms, Janus's to a publisher) or,
 * offer set, Janus's offer to a subscriber: then every m= line is one we
 * receive on, from the first.
 */
static int
load_sdp_read(load_peer_t *p, const char *sdp, int offer)
{
    const char  *s, *e;
    char         line[4096], ip[64], codec[32];
    int          m, hi, lo, pt, apt;
    unsigned     n, port, a, bb, id, have_fp, have_cand, first;
    size_t       len, k;
    load_rx_t   *l;

    m = -1;
    have_fp = have_cand = 0;
    first = offer ? 0 : 2;

    for (n = first; n < p->nlines; n++) {
        p->lines[n].active = 0;
    }

    for (s = sdp; *s; s = *e ? e + 1 : e) {
        e = strchr(s, '\n');
        if (e == NULL) {
            e = s + strlen(s);
        }
        len = (size_t) (e - s);
        if (len && s[len - 1] == '\r') {
            len--;
        }
        if (len >= sizeof(line)) {
            continue;
        }
        memcpy(line, s, len);
        line[len] = '\0';

        if (strncmp(line, "m=", 2) == 0) {
            m++;
            if (offer && m >= (int) p->nlines && m < LOAD_MAX_LINES) {
                load_rx_line_reset(&p->lines[m]);
                p->lines[m].kind = strncmp(line, "m=audio", 7) == 0 ? 'a'
                                   : strncmp(line, "m=video", 7) == 0 ? 'v'
                                   : 0;
                p->lines[m].pt = p->lines[m].rtx_pt = -1;
                p->nlines = (unsigned) m + 1;
            }
            continue;
        }
        /* credentials and fingerprint: session level (Janus) or media */
        if (sscanf(line, "a=ice-ufrag:%255s", p->rufrag) == 1
            || sscanf(line, "a=ice-pwd:%255s", p->rpwd) == 1)
        {
            continue;
        }
        if (strncmp(line, "a=fingerprint:sha-256 ", 22) == 0
            && strlen(line) >= 22 + 95)
        {
            const char *f = line + 22;
            for (k = 0; k < 32; k++) {
                hi = hexval(f[3 * k]);
                lo = hexval(f[3 * k + 1]);
                if (hi < 0 || lo < 0) {
                    return -1;
                }
                p->rfp[k] = (uint8_t) (hi << 4 | lo);
            }
            have_fp = 1;
            continue;
        }
        if (m < 0 || m >= (int) p->nlines) {
            continue;
        }
        l = &p->lines[m];

        if (sscanf(line, "a=mid:%15s", l->mid) == 1) {
            continue;
        }
        if (strcmp(line, "a=setup:active") == 0 && !offer) {
            p->dtls_server = 1;
            continue;
        }
        if (sscanf(line, "a=rtpmap:%d %31[^/]", &pt, codec) == 2) {
            if (strcasecmp(codec, "opus") == 0 || strcasecmp(codec, "VP8") == 0) {
                if (l->pt < 0 || !offer) {
                    l->pt = pt;
                }
            } else if (strcasecmp(codec, "rtx") == 0) {
                l->rtx_pt = l->rtx_pt < 0 ? -2 - pt : l->rtx_pt;
            }
            continue;
        }
        if (sscanf(line, "a=fmtp:%d apt=%d", &pt, &apt) == 2
            && l->rtx_pt == -2 - pt && apt == l->pt)
        {
            l->rtx_pt = pt;
            continue;
        }

        if (sscanf(line, "a=candidate:%*s %*u udp %*u %63s %u typ host",
                   ip, &port) == 2 && !p->have_remote)
        {
            p->remote.sin_family = AF_INET;
            p->remote.sin_port = htons((uint16_t) port);
            if (inet_pton(AF_INET, ip, &p->remote.sin_addr) == 1) {
                p->have_remote = 1;
            }
            continue;
        }
        if (strncmp(line, "a=candidate:", 12) == 0) {
            have_cand = 1;
        }
        if (sscanf(line, "a=extmap:%u ", &id) == 1) {
            if (strstr(line, "ssrc-audio-level")) {
                p->ext_level = id;
            } else if (strstr(line, "abs-send-time")) {
                p->ext_abs = p->rx_ext_abs = id;
            } else if (strstr(line, "transport-wide-cc")) {
                p->ext_twcc = p->rx_ext_twcc = id;
            } else if (strstr(line, "sdes:mid")) {
                p->ext_mid = p->rx_ext_mid = id;
            } else if (strstr(line, "repaired-rtp-stream-id")) {
                p->ext_rrid = id;
            } else if (strstr(line, "rtp-stream-id")) {
                p->ext_rid = id;
            }
            continue;
        }
        if (m >= (int) first && (strcmp(line, "a=sendonly") == 0
                       || strcmp(line, "a=sendrecv") == 0))
        {
            l->active = 1;
            continue;
        }
        if (m >= (int) first
            && sscanf(line, "a=ssrc-group:FID %u %u", &a, &bb) == 2)
        {
            if (l->ssrc != a) {
                l->started = 0;          /* a new stream on this line */
                l->nmissing = 0;
            }
            l->ssrc = a;
            l->rtx_ssrc = bb;
            continue;
        }
        if (m >= (int) first && sscanf(line, "a=ssrc:%u ", &a) == 1
            && l->rtx_ssrc != a)
        {
            if (l->ssrc != a) {
                l->started = 0;          /* a new stream on this line */
                l->nmissing = 0;
            }
            l->ssrc = a;
        }
    }

    (void) have_cand;
    if (!have_fp || !p->have_remote || p->rufrag[0] == '\0'
        || p->rpwd[0] == '\0')
    {
        return -1;
    }
    return 0;
}


int
load_sdp_answer(load_peer_t *p, const char *sdp)
{
    return load_sdp_read(p, sdp, 0);
}


int
load_sdp_janus_offer(load_peer_t *p, const char *sdp)
{
    return load_sdp_read(p, sdp, 1);
}


/* our answer to Janus's offer: every line received on, DTLS client */
int
load_sdp_janus_answer(load_peer_t *p, char *buf, size_t cap)
{
    load_sb_t   b = { buf, cap, 0, 0 };
    unsigned    i;
    load_rx_t  *l;
    const char *ip = load_run.opt.local_ip;

    put(&b, "v=0\r\no=- %u%06u 2 IN IP4 %s\r\ns=-\r\nt=0 0\r\n"
        "a=group:BUNDLE", 7000 + p->index, p->offers, ip);
    for (i = 0; i < p->nlines; i++) {
        if (p->lines[i].kind) {
            put(&b, " %s", p->lines[i].mid);
        }
    }
    put(&b, "\r\na=msid-semantic: WMS\r\n");

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];
        if (l->kind == 0 || l->pt < 0) {
            put(&b, "m=%s 0 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\n"
                "a=mid:%s\r\na=inactive\r\n",
                l->kind == 'a' ? "audio" : l->kind == 'v' ? "video"
                                                           : "application",
                l->mid);
            continue;
        }
        if (l->rtx_pt >= 0) {
            put(&b, "m=video 9 UDP/TLS/RTP/SAVPF %d %d\r\n", l->pt,
                l->rtx_pt);
        } else {
            put(&b, "m=%s 9 UDP/TLS/RTP/SAVPF %d\r\n",
                l->kind == 'a' ? "audio" : "video", l->pt);
        }
        put(&b, "c=IN IP4 %s\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
            "a=candidate:1 1 udp 2122260223 %s %u typ host\r\n"
            "a=end-of-candidates\r\n"
            "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
            "a=fingerprint:sha-256 %s\r\na=setup:active\r\na=mid:%s\r\n",
            ip, ip, (unsigned) p->local_port, p->ufrag, p->pwd,
            load_run.fingerprint, l->mid);
        if (p->rx_ext_mid) {
            put(&b, "a=extmap:%u urn:ietf:params:rtp-hdrext:sdes:mid\r\n",
                p->rx_ext_mid);
        }
        if (p->rx_ext_abs) {
            put(&b, "a=extmap:%u http://www.webrtc.org/experiments/"
                "rtp-hdrext/abs-send-time\r\n", p->rx_ext_abs);
        }
        if (p->rx_ext_twcc) {
            put(&b, "a=extmap:%u http://www.ietf.org/id/draft-holmer-rmcat-"
                "transport-wide-cc-extensions-01\r\n", p->rx_ext_twcc);
        }
        put(&b, "a=%s\r\na=rtcp-mux\r\na=rtcp-rsize\r\n",
            l->active ? "recvonly" : "inactive");
        if (l->kind == 'a') {
            put(&b, "a=rtpmap:%d opus/48000/2\r\n"
                "a=rtcp-fb:%d transport-cc\r\n"
                "a=fmtp:%d minptime=10;useinbandfec=1\r\n", l->pt, l->pt,
                l->pt);
        } else {
            put(&b, "a=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d goog-remb\r\n"
                "a=rtcp-fb:%d transport-cc\r\na=rtcp-fb:%d ccm fir\r\n"
                "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n", l->pt,
                l->pt, l->pt, l->pt, l->pt, l->pt);
            if (l->rtx_pt >= 0) {
                put(&b, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n",
                    l->rtx_pt, l->rtx_pt, l->pt);
            }
        }
    }
    return b.over ? -1 : 0;
}
