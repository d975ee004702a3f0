/*
 * sfu_media.c: the SFU's packet path.  A publisher's RTP is matched to
 * its stream (by SSRC, or learned by mid), counted for receiver reports,
 * and forwarded to every receiving line bound to the stream: rebuilt
 * with the subscriber's header extension ids, rewritten (SSRC, sequence,
 * timestamp: forward.h) and protected; a video stream's packets are kept
 * once, as they came, in its NACK history, which all its subscribers
 * share.  A gap in a stream is asked for (sfu_nack.c, which tracks the
 * asks), and only repairs still wanted go on.  A PLI goes up to a
 * publisher when someone wants its keyframe (throttled).
 * Binding a receiving line to a stream (its SSRC, rewriting state and
 * RTX stream) is here too.  The RTCP peers send, the NACK answers from
 * the histories and the estimator's probes are sfu_feedback.c's, which
 * builds its packets with this file's builders (sfu_media_build*(),
 * sfu_media_stamp()).
 *
 * Forwarding rebuilds each packet's header extension block with the
 * subscriber's ids: its own mid value (Chromium demuxes by mid, so the
 * publisher's would misroute), abs-send-time and audio level when both
 * sides negotiated them; and, where the subscriber negotiated
 * transport-cc, our own transport-wide sequence number: one counter per
 * subscriber's BUNDLE, recorded in its estimator (bwe.h) with the send
 * time, which its transport feedback turns into its estimate.  NACK
 * resends, RTX and probes are new transport packets and get new numbers.
 * The publisher's own RTX is never forwarded.
 *
 * Owns: bindings (sfu_line_t.bound and the publisher's subscriber list),
 * the per-line forwarding state, the NACK histories, the keyframe
 * requests waiting for their throttle (sfu_net_t.kf_pending).
 * Must never: allocate per packet (a stream's history is allocated once,
 * when it is first forwarded), build or read JSON, know of rooms, or
 * read a peer's RTCP (sfu_feedback.c, which calls this file: never back).
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, call json_, call malloc, call calloc, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 * May not: call sfu_rtcp, call sfu_bwe_probe, call sfu_probe_, call sfu_feedback_, call sfu_nack_poll, call rooms_nack_
 */

#include <stdio.h>
#include <string.h>

#include "rtcp.h"
#include "rtp.h"
#include "sfu_peer.h"


static sfu_line_t *sfu_learn_layer(sfu_t *sfu, sfu_peer_t *p,
    const rooms_rtp_t *pkt, int *li);
static sfu_line_t *sfu_learn_rtx(sfu_t *sfu, sfu_peer_t *p,
    const rooms_rtp_t *pkt, int *li);
static size_t sfu_repair(const sfu_line_t *pub, int li,
    const rooms_rtp_t *rtx, uint8_t *out);
static void sfu_demux(sfu_peer_t *p, const rooms_rtp_t *pkt, sfu_line_t **pub,
    sfu_line_t **rtx, int *li);
static sfu_line_t *sfu_learn_by_mid(sfu_t *sfu, sfu_peer_t *p,
    const rooms_rtp_t *pkt);
static unsigned sfu_layer_packet(sfu_line_t *pub, int li, uint64_t now,
    const rooms_rtp_t *pkt);


/* one header extension element to write */
typedef struct {
    unsigned        id;
    const uint8_t  *data;
    size_t          len;
} sfu_ext_t;

static const uint8_t  sfu_twcc_zero[ROOMS_RTP_TWCC_LEN];


/*
 * Stamps the next transport-wide sequence number of subscriber s on
 * pkt[0..len) (built with the element's place) and records the send in
 * its estimator, with cluster (0, or the probe's).  SRTP's tag is
 * counted in the bytes: it crosses the link too.
 */
void
sfu_media_stamp(sfu_peer_t *s, uint64_t now_us, uint8_t *pkt, size_t len,
    unsigned cluster)
{
    rooms_rtp_t  r;

    /* one extension id for the BUNDLE (sfu_peer.c: ext_twcc) */
    if (!s->bwe_on || rooms_rtp_parse(pkt, len, &r) != 0
        || rooms_rtp_set_twcc_seq(pkt, &r, s->ext_twcc, s->tx_seq) != 0)
    {
        return;
    }

    rooms_bwe_sent(&s->bwe, (int64_t) now_us, s->tx_seq,
                   len + ROOMS_SRTP_MAX_TRAILER, cluster);
    s->tx_seq++;
}


/* The RTP clock of the codecs we accept: Opus and VP8. */
uint32_t
sfu_clock_rate(rooms_sdp_kind_e kind)
{
    return kind == ROOMS_SDP_KIND_AUDIO ? 48000 : 90000;
}


/* An SSRC for p to receive on: random, not 0, unused on p's lines. */
static uint32_t
sfu_pick_ssrc(sfu_t *sfu, sfu_peer_t *p)
{
    unsigned     i, tries, clash;
    uint32_t     v;
    sfu_line_t  *l;

    for (tries = 0; tries < 16; tries++) {
        if (sfu_random(sfu, &v, sizeof(v)) != 0) {
            return 0;
        }

        clash = (v == 0 || v == p->fb_ssrc);

        for (i = 0; i < p->nlines && !clash; i++) {
            l = &p->lines[i];
            clash = (l->out_ssrc != 0
                     && (l->out_ssrc == v || l->rtx_out_ssrc == v))
                    || (l->has_ssrc && (l->ssrc == v || l->rtx_ssrc == v));
        }

        if (!clash) {
            return v;
        }
    }

    return 0;
}


static void
sfu_send_pli(sfu_t *sfu, sfu_line_t *pub, sfu_io_t *io)
{
    size_t        n;
    sfu_peer_t   *p;
    sfu_dgram_t  *d;
    p = pub->owner;

    unsigned      k;
    size_t        m;

    d = sfu_out(sfu, io);
    if (d == NULL) {
        return;
    }

    if (pub->nlayers == 0) {
        n = rooms_rtcp_build_pli(d->data, sizeof(d->data)
                                 - ROOMS_SRTCP_MAX_TRAILER, p->fb_ssrc,
                                 pub->ssrc);

    } else {
        /*
         * Simulcast: a PLI for each layer known, in one compound.  A
         * subscriber switching layers waits for a keyframe of its target,
         * and one request serves every subscriber of every layer.
         */
        n = 0;

        for (k = 0; k < pub->nlayers; k++) {
            if (!pub->layers[k].has_ssrc) {
                continue;
            }

            m = rooms_rtcp_build_pli(d->data + n, sizeof(d->data) - n
                                     - ROOMS_SRTCP_MAX_TRAILER, p->fb_ssrc,
                                     pub->layers[k].ssrc);
            if (m == 0) {
                return;
            }

            n += m;
        }
    }

    if (n == 0 || rooms_srtp_protect_rtcp(&p->srtp, d->data, &n) != 0) {
        return;
    }

    sfu_commit(sfu, io, &p->addr, n);
    sfu->stats.pli_sent++;

    sfu_log(sfu, SFU_LOG_DEBUG, "PLI to %s for ssrc %u", p->id,
            (unsigned) pub->ssrc);
}


/*
 * Someone wants a keyframe of stream pub: a PLI now, or when the 500 ms
 * throttle allows (sfu_poll sends it).  A publisher without keys yet is
 * skipped: its first frame is a keyframe anyway.
 */
void
sfu_want_keyframe(sfu_t *sfu, uint64_t now, sfu_line_t *pub, sfu_io_t *io)
{
    sfu_peer_t  *p;

    p = pub->owner;

    if (!pub->publishing || pub->kind != ROOMS_SDP_KIND_VIDEO
        || !pub->has_ssrc || !p->srtp_ready || !p->has_addr)
    {
        return;
    }

    if (rooms_kf_allow(&pub->kf, (int64_t) now)) {
        sfu_send_pli(sfu, pub, io);
        return;
    }

    if (!pub->kf_queued) {
        sfu_queue_insert_tail(&sfu->net->kf_pending, &pub->kf_link);
        pub->kf_queued = 1;
    }
}


/*
 * A receiving line stops carrying its stream.  It keeps its outgoing
 * stream (SSRC, rewriting, RTX) for the next one it carries, and its
 * owner's streams map has changed.
 */
void
sfu_unbind(sfu_line_t *l)
{
    if (l->bound == NULL) {
        return;
    }

    sfu_queue_remove(&l->sub_link);
    l->bound = NULL;
    l->owner->map_changed = 1;
}


void
sfu_hist_drop(sfu_line_t *l)
{
    unsigned  k;

    rooms_hist_free(&l->hist);

    for (k = 0; k < ROOMS_LAYER_MAX; k++) {
        rooms_hist_free(&l->layers[k].hist);
    }

    l->hist_failed = 0;
}


/* A publishing line stops being a stream: its subscribers lose it. */
void
sfu_unpublish(sfu_line_t *l)
{
    sfu_queue_t  *q;

    while (!sfu_queue_empty(&l->subscribers)) {
        q = l->subscribers.next;
        sfu_unbind(sfu_queue_data(q, sfu_line_t, sub_link));
    }

    if (l->kf_queued) {
        sfu_queue_remove(&l->kf_link);
        l->kf_queued = 0;
    }

    sfu_nack_forget(l, -1);
    l->publishing = 0;
    l->has_ssrc = 0;
    l->ssrc = 0;
    l->rtx_ssrc = 0;
    memset(&l->rx, 0, sizeof(sfu_rx_t));
    memset(&l->voice, 0, sizeof(rooms_voice_t));
    sfu_hist_drop(l);
    l->nlayers = 0;
    memset(l->layers, 0, sizeof(l->layers));
    memset(&l->lpub, 0, sizeof(l->lpub));
}


/*
 * Makes receiving line l of p carry stream pub, in place of what it
 * carried.  A line that carried a stream before keeps its outgoing one:
 * the same SSRC, and sequence numbers and timestamps that continue from
 * the last packet sent (rooms_fwd_switch()), so the browser's receiver
 * goes on as with one sender; a NACK is answered for the packets of the
 * stream it carries now (those of the previous one are repaired by the
 * keyframe the switch asks for).  A line that never carried one draws
 * its SSRC, and a video line with NACK its RTX SSRC.  The publisher is
 * asked for a keyframe, the only place a decoder can start.
 */
int
sfu_bind(sfu_t *sfu, uint64_t now, sfu_peer_t *p, sfu_line_t *l,
    sfu_line_t *pub, sfu_io_t *io)
{
    uint32_t  ssrc;

    if (l->out_ssrc == 0) {
        ssrc = sfu_pick_ssrc(sfu, p);
        if (ssrc == 0) {
            return -1;
        }

        l->out_ssrc = ssrc;
        rooms_fwd_init(&l->fwd, ssrc, sfu_clock_rate(l->kind),
                       (uint16_t) sfu_random32(sfu), sfu_random32(sfu));

    } else {
        rooms_fwd_switch(&l->fwd);
    }

    if (l->kind == ROOMS_SDP_KIND_VIDEO && (l->neg.fb & ROOMS_SDP_FB_NACK)
        && l->rtx_out_ssrc == 0)
    {
        /*
         * An RTX stream for the NACK answers.  It is drawn for every
         * video line with NACK, so a later offer that adds RTX finds
         * one; it is announced and used only while the line negotiates
         * RTX.
         */
        l->rtx_out_ssrc = sfu_pick_ssrc(sfu, p);
        l->rtx_seq = (uint16_t) sfu_random32(sfu);

        if (l->rtx_out_ssrc == 0) {
            /* NACKs are then answered with plain resends */
            sfu_log(sfu, SFU_LOG_WARN, "no RTX SSRC for %s mid %s",
                    p->id, l->mid);
        }
    }

    sfu_unbind(l);

    l->bound = pub;
    l->bound_ms = now;
    l->fwd_first = 0;
    l->fwd_keyframe = 0;
    l->layer = ROOMS_LAYER_NONE;
    l->target = ROOMS_LAYER_NONE;
    snprintf(l->track, sizeof(l->track), "%s-%s", pub->owner->id, pub->mid);
    sfu_queue_insert_tail(&pub->subscribers, &l->sub_link);
    p->map_changed = 1;

    sfu_log(sfu, SFU_LOG_DEBUG, "%s mid %s receives %s of %s (ssrc %u)",
            p->id, l->mid, sfu_kind_name(l->kind), pub->owner->id,
            (unsigned) l->out_ssrc);

    if (p->srtp_ready) {
        sfu_want_keyframe(sfu, now, pub, io);
    }

    return 0;
}


/*
 * The bytes of the extension block holding el[0..count), its 4-byte
 * header included (0 when count is 0); *two is set when an id needs the
 * two-byte form (RFC 8285: the one-byte form holds ids 1..14).
 */
static size_t
sfu_ext_size(const sfu_ext_t *el, unsigned count, unsigned *two)
{
    size_t    ext;
    unsigned  i;

    *two = 0;
    ext = 0;

    if (count == 0) {
        return 0;
    }

    for (i = 0; i < count; i++) {
        if (el[i].id > 14) {
            *two = 1;
        }
    }

    for (i = 0; i < count; i++) {
        ext += (*two ? 2 : 1) + el[i].len;
    }

    return 4 + ((ext + 3) & ~(size_t) 3);
}


/* Writes the block of sfu_ext_size() bytes at out (count > 0). */
static void
sfu_ext_write(uint8_t *out, const sfu_ext_t *el, unsigned count,
    unsigned two, size_t size)
{
    unsigned   i;
    uint8_t   *e;

    out[0] = two ? 0x10 : 0xbe;
    out[1] = two ? 0x00 : 0xde;
    out[2] = (uint8_t) (((size - 4) / 4) >> 8);
    out[3] = (uint8_t) ((size - 4) / 4);
    e = out + 4;

    for (i = 0; i < count; i++) {
        if (two) {
            *e++ = (uint8_t) el[i].id;
            *e++ = (uint8_t) el[i].len;

        } else {
            *e++ = (uint8_t) ((el[i].id << 4) | (el[i].len - 1));
        }

        memcpy(e, el[i].data, el[i].len);
        e += el[i].len;
    }

    while (e < out + size) {
        *e++ = 0;
    }
}


/*
 * Writes into out the packet pkt as subscriber line sub sends it: the
 * fixed header and CSRCs as they are, a new extension block with sub's
 * ids, then the payload and padding.  Returns the length, or 0 when it
 * would exceed a history slot.
 */
size_t
sfu_media_build(const sfu_line_t *sub, const rooms_rtp_t *pkt,
    const uint8_t *abs, const uint8_t *level, uint8_t *out)
{
    size_t     fixed, ext, n, total, mid_len;
    uint8_t    tw[ROOMS_RTP_TWCC_LEN];
    unsigned   two, count;
    sfu_ext_t  el[4];

    count = 0;
    mid_len = strlen(sub->mid);

    /*
     * the subscriber's next transport-wide number, written here rather
     * than stamped after (no second parse per packet); sfu_forward()
     * records it and moves on once the packet goes
     */
    if (sub->neg.ext_twcc && sub->owner->bwe_on) {
        tw[0] = (uint8_t) (sub->owner->tx_seq >> 8);
        tw[1] = (uint8_t) sub->owner->tx_seq;
        el[count].id = sub->neg.ext_twcc;
        el[count].data = tw;
        el[count++].len = ROOMS_RTP_TWCC_LEN;
    }

    if (sub->neg.ext_mid && mid_len > 0) {
        el[count].id = sub->neg.ext_mid;
        el[count].data = (const uint8_t *) sub->mid;
        el[count++].len = mid_len;
    }

    if (sub->neg.ext_abs_send_time && abs != NULL) {
        el[count].id = sub->neg.ext_abs_send_time;
        el[count].data = abs;
        el[count++].len = ROOMS_RTP_ABS_SEND_TIME_LEN;
    }

    if (sub->neg.ext_audio_level && level != NULL) {
        el[count].id = sub->neg.ext_audio_level;
        el[count].data = level;
        el[count++].len = 1;
    }

    ext = sfu_ext_size(el, count, &two);

    fixed = ROOMS_RTP_HEADER_LEN + 4 * (size_t) pkt->csrc_count;
    total = fixed + ext + (pkt->len - pkt->payload_off);

    if (total > ROOMS_HIST_SLOT) {
        return 0;
    }

    memcpy(out, pkt->buf, fixed);
    out[0] = (uint8_t) ((out[0] & ~0x10) | (count ? 0x10 : 0));
    n = fixed;

    if (count) {
        sfu_ext_write(out + n, el, count, two, ext);
        n += ext;
    }

    /* payload and padding as they were (P keeps its meaning) */
    memcpy(out + n, pkt->buf + pkt->payload_off, pkt->len - pkt->payload_off);

    return n + pkt->len - pkt->payload_off;
}


/*
 * The extensions of a packet on sub's RTX stream, into el[2]: a
 * transport-wide number slot (when sub's estimator runs) and sub's mid.
 * Returns how many.
 */
static unsigned
sfu_rtx_exts(sfu_line_t *sub, sfu_ext_t el[2])
{
    size_t    mid_len;
    unsigned  count;

    count = 0;
    mid_len = strlen(sub->mid);

    if (sub->neg.ext_twcc && sub->owner->bwe_on) {
        el[count].id = sub->neg.ext_twcc;
        el[count].data = sfu_twcc_zero;
        el[count++].len = ROOMS_RTP_TWCC_LEN;
    }

    if (sub->neg.ext_mid && mid_len > 0) {
        el[count].id = sub->neg.ext_mid;
        el[count].data = (const uint8_t *) sub->mid;
        el[count++].len = mid_len;
    }

    return count;
}


/*
 * Writes into out (SFU_DGRAM_MAX bytes) the RTX packet (RFC 4588 §4)
 * that resends the kept packet pkt[0..len) of subscriber line sub: its
 * fixed header and CSRCs with sub's RTX payload type, RTX SSRC and next
 * RTX sequence number (marker and timestamp kept); an extension block
 * with sub's mid only (a stale abs-send-time would read as queuing delay
 * to the receiver's bandwidth estimate); then the original sequence
 * number, the one sub saw, and the original payload without its padding.
 * Returns the length, or 0.
 */
size_t
sfu_media_build_rtx(sfu_line_t *sub, const uint8_t *pkt, size_t len,
    uint8_t *out)
{
    size_t       fixed, ext, n;
    unsigned     two, count;
    sfu_ext_t    el[2];         /* twcc and mid */
    rooms_rtp_t  r;

    if (rooms_rtp_parse(pkt, len, &r) != 0) {
        return 0;
    }

    count = sfu_rtx_exts(sub, el);

    ext = sfu_ext_size(el, count, &two);
    fixed = ROOMS_RTP_HEADER_LEN + 4 * (size_t) r.csrc_count;

    /* the kept packet is at most a slot; this leaves SRTP its tag */
    if (fixed + ext + 2 + r.payload_len
        > SFU_DGRAM_MAX - ROOMS_SRTP_MAX_TRAILER)
    {
        return 0;
    }

    memcpy(out, pkt, fixed);

    /* no padding (P), and X only for the mid */
    out[0] = (uint8_t) ((out[0] & ~0x30) | (count ? 0x10 : 0));
    n = fixed;

    if (count) {
        sfu_ext_write(out + n, el, count, two, ext);
        n += ext;
    }

    out[n] = (uint8_t) (r.seq >> 8);
    out[n + 1] = (uint8_t) r.seq;
    n += 2;

    memcpy(out + n, pkt + r.payload_off, r.payload_len);
    n += r.payload_len;

    rooms_rtp_set_pt(out, (unsigned) sub->neg.rtx_pt);
    rooms_rtp_set_ssrc(out, sub->rtx_out_ssrc);
    rooms_rtp_set_seq(out, sub->rtx_seq++);

    return n;
}


/*
 * A padding-only packet (RFC 3550 §5.1: P set, the last byte the count)
 * of bytes bytes (at most 255 of padding) on sub's RTX stream, with its
 * mid and a transport-wide number slot: what a probe sends when sub has
 * no packet left to copy (its lines paused for longer than the history
 * holds).  The browser's transport feedback counts it; its RTX receiver
 * drops it, having no payload.  Returns its length, or 0.
 */
size_t
sfu_media_build_padding(sfu_line_t *sub, size_t bytes, uint8_t *out)
{
    size_t       ext, n, pad;
    unsigned     two, count;
    sfu_ext_t    el[2];         /* twcc and mid */

    count = sfu_rtx_exts(sub, el);

    ext = sfu_ext_size(el, count, &two);
    n = ROOMS_RTP_HEADER_LEN + ext;
    pad = bytes > n ? bytes - n : 1;

    /* the count is one byte */
    if (pad > 255) {
        pad = 255;
    }

    if (n + pad > SFU_DGRAM_MAX - ROOMS_SRTP_MAX_TRAILER) {
        return 0;
    }

    memset(out, 0, n + pad);
    out[0] = (uint8_t) (0x80 | 0x20 | (count ? 0x10 : 0));

    if (count) {
        sfu_ext_write(out + ROOMS_RTP_HEADER_LEN, el, count, two, ext);
    }

    out[n + pad - 1] = (uint8_t) pad;

    rooms_rtp_set_pt(out, (unsigned) sub->neg.rtx_pt);
    rooms_rtp_set_ssrc(out, sub->rtx_out_ssrc);
    rooms_rtp_set_seq(out, sub->rtx_seq++);
    out[4] = (uint8_t) (sub->fwd.last_ts >> 24);
    out[5] = (uint8_t) (sub->fwd.last_ts >> 16);
    out[6] = (uint8_t) (sub->fwd.last_ts >> 8);
    out[7] = (uint8_t) sub->fwd.last_ts;

    return n + pad;
}


/*
 * The NACK history of stream pub (of its layer li, or -1): allocated
 * with SFU_HIST_SLOTS, halved for each layer below the top, when create
 * is set and there is none yet.  NULL when there is none (audio, or no
 * memory: forwarding goes on, NACKs go unanswered).
 */
rooms_hist_t *
sfu_media_hist(sfu_t *sfu, sfu_line_t *pub, int li, unsigned create)
{
    size_t         n;
    rooms_hist_t  *h;

    if (pub->kind != ROOMS_SDP_KIND_VIDEO
        || (li >= 0 && (unsigned) li >= pub->nlayers))
    {
        return NULL;
    }

    h = li >= 0 ? &pub->layers[li].hist : &pub->hist;

    if (h->data != NULL || !create || pub->hist_failed) {
        return h->data != NULL ? h : NULL;
    }

    n = li >= 0 ? SFU_HIST_SLOTS >> (pub->nlayers - 1 - (unsigned) li)
                : SFU_HIST_SLOTS;

    if (rooms_hist_init(h, n) != 0) {
        pub->hist_failed = 1;
        sfu_log(sfu, SFU_LOG_WARN, "no memory for a NACK history of %s "
                "mid %s", pub->owner->id, pub->mid);
        return NULL;
    }

    return h;
}


/*
 * The join's last phases in the log (docs/join-time.md): the first packet
 * a receiving line forwards since it was bound, and its first keyframe.
 * Two lines at most per binding, at debug level: bounded by the bindings.
 */
static void
sfu_forward_first(sfu_t *sfu, sfu_line_t *sub, unsigned keyframe)
{
    const char  *what;

    /* keyframe: known of simulcast layers only (sfu_layer_packet()) */
    what = sub->fwd_first ? "first keyframe"
           : keyframe ? "first packet, a keyframe" : "first packet";

    sub->fwd_first = 1;
    sub->fwd_keyframe |= keyframe;

    sfu_log(sfu, SFU_LOG_DEBUG, "forwarded to %s mid %s: %s of %s's %s",
            sub->owner->id, sub->mid, what, sub->bound->owner->id,
            sfu_kind_name(sub->kind));
}


/*
 * A line that forwards no layer yet starts on a keyframe of a smaller
 * layer than its target: that keyframe comes first (a subscription asks
 * every layer for one at once, and the smaller is fewer packets through
 * the publisher's pacer), so the first picture is not held back for the
 * target's; the line moves up at the target's own keyframe, which the
 * same request brought (docs/join-time.md).
 */
static unsigned
sfu_layer_first(const sfu_line_t *sub, int li)
{
    return sub->layer == ROOMS_LAYER_NONE && sub->target >= 0
           && li < sub->target;
}


/*
 * A subscriber sees its target layer's packets but no keyframe of it: the
 * request its switch made was lost, or the publisher let it go (Chromium
 * drops one that comes as a layer starts, whose own first keyframe the
 * subscriber missed).  After SFU_KF_STUCK_MS of waiting it asks again, and
 * again each SFU_KF_STUCK_MS while it waits (the publisher's own throttle
 * still applies).  Why 1 s: a keyframe answers a request within a round
 * trip and a frame or two (a few hundred ms here); a second ask any
 * sooner would mostly bring a keyframe nobody needs.
 */
#define SFU_KF_STUCK_MS  1000

static void
sfu_kf_stuck(sfu_t *sfu, uint64_t now, sfu_line_t *sub, sfu_io_t *io)
{
    if (sub->kf_wait_ms == 0) {
        sub->kf_wait_ms = now;
        return;
    }

    if (now - sub->kf_wait_ms >= SFU_KF_STUCK_MS) {
        sub->kf_wait_ms = now;
        sfu->stats.kf_stuck++;
        sfu_log(sfu, SFU_LOG_DEBUG, "%s mid %s waits for a keyframe of "
                "%s's layer %d: asked again", sub->owner->id, sub->mid,
                sub->bound->owner->id, sub->target);
        sfu_want_keyframe(sfu, now, sub->bound, io);
    }
}


static void
sfu_forward(sfu_t *sfu, uint64_t now_us, sfu_line_t *pub, int li,
    unsigned keyframe, const rooms_rtp_t *pkt, sfu_io_t *io)
{
    uint64_t       now;

    int            seq;
    size_t         n, len;
    unsigned       sent;
    sfu_peer_t    *s;
    sfu_line_t    *sub;
    sfu_queue_t   *q;
    sfu_dgram_t   *d;
    rooms_hist_t  *h;
    const uint8_t *abs, *level, *v;

    now = now_us / 1000;
    abs = NULL;
    level = NULL;

    if (pub->neg.ext_abs_send_time
        && rooms_rtp_ext_find(pkt, pub->neg.ext_abs_send_time, &v, &len) == 0
        && len == ROOMS_RTP_ABS_SEND_TIME_LEN)
    {
        abs = v;
    }

    if (pub->neg.ext_audio_level
        && rooms_rtp_ext_find(pkt, pub->neg.ext_audio_level, &v, &len) == 0
        && len == 1)
    {
        level = v;
    }

    sent = 0;

    for (q = pub->subscribers.next; q != &pub->subscribers; q = q->next) {
        sub = sfu_queue_data(q, sfu_line_t, sub_link);
        s = sub->owner;

        if (!s->srtp_ready || !s->has_addr) {
            continue;
        }

        /*
         * Simulcast: one layer at a time.  A subscriber moves to its
         * target at a keyframe of the target, never between, so its
         * decoder never sees a frame it cannot decode; its outgoing
         * stream goes on (rooms_fwd_switch(): the SSRC stays, sequence
         * numbers, timestamps and VP8 PictureID and TL0PICIDX continue).
         */
        if (li >= 0 && sub->layer != li) {
            if (!keyframe && sub->target == li) {
                sfu_kf_stuck(sfu, now, sub, io);
                continue;
            }

            if (!keyframe || (sub->target != li
                              && !sfu_layer_first(sub, li)))
            {
                continue;
            }

            /* another SSRC starts a new source anyway; this says so */
            rooms_fwd_switch(&sub->fwd);
            sub->layer = li;
            sub->kf_wait_ms = 0;
            sfu->stats.layer_switches++;
        }

        d = sfu_out(sfu, io);
        if (d == NULL) {
            continue;
        }

        n = sfu_media_build(sub, pkt, abs, level, d->data);

        if (n == 0) {
            sfu->stats.fwd_dropped++;
            continue;
        }

        seq = rooms_fwd_rewrite(&sub->fwd, (int64_t) now, d->data, n);

        if (seq == ROOMS_FWD_DROP) {
            sfu->stats.fwd_dropped++;
            continue;
        }

        /* VP8, the answer's one video codec: its numbers continue too */
        if (pub->kind == ROOMS_SDP_KIND_VIDEO) {
            rooms_fwd_vp8(&sub->fwd, d->data + n - (pkt->len
                                                    - pkt->payload_off),
                          pkt->payload_len);
        }

        rooms_rtp_set_pt(d->data, (unsigned) sub->neg.pt);

        /* sfu_media_build() wrote s->tx_seq: the estimator's record of it */
        if (sub->neg.ext_twcc && s->bwe_on) {
            rooms_bwe_sent(&s->bwe, (int64_t) now_us, s->tx_seq++,
                           n + ROOMS_SRTP_MAX_TRAILER, 0);
        }

        sent |= (sub->neg.fb & ROOMS_SDP_FB_NACK) != 0;

        if (rooms_srtp_protect(&s->srtp, d->data, &n) != 0) {
            sfu->stats.fwd_dropped++;
            continue;
        }

        sfu_commit(sfu, io, &s->addr, n);
        sfu->stats.fwd++;

        if (!sub->fwd_first || (keyframe && !sub->fwd_keyframe)) {
            sfu_forward_first(sfu, sub, keyframe);
        }
    }

    /* once for all its subscribers: as it came, for their NACKs */
    if (sent && (h = sfu_media_hist(sfu, pub, li, 1)) != NULL) {
        (void) rooms_hist_put(h, pkt->buf, pkt->len);
    }
}


/*
 * The publishing line of p (and layer, *li, or -1) that pkt belongs to,
 * by the SSRCs known: its stream in *pub, or its retransmissions in
 * *rtx.  Neither when the SSRC is not known yet.
 */
static void
sfu_demux(sfu_peer_t *p, const rooms_rtp_t *pkt, sfu_line_t **pub,
    sfu_line_t **rtx, int *li)
{
    unsigned     i, k;
    sfu_line_t  *l;

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (!l->publishing) {
            continue;
        }

        for (k = 0; k < l->nlayers; k++) {
            if (l->layers[k].has_ssrc && l->layers[k].ssrc == pkt->ssrc) {
                *pub = l;
                *li = (int) k;
                return;
            }

            if (l->layers[k].rtx_ssrc != 0
                && l->layers[k].rtx_ssrc == pkt->ssrc)
            {
                *rtx = l;
                *li = (int) k;
                return;
            }
        }

        if (l->nlayers > 0) {
            continue;
        }

        if (l->has_ssrc && l->ssrc == pkt->ssrc) {
            *pub = l;
            return;
        }

        if (l->has_ssrc && l->rtx_ssrc != 0 && l->rtx_ssrc == pkt->ssrc) {
            *rtx = l;
            return;
        }
    }
}


/*
 * No a=ssrc (rid simulcast, other browsers): the line of p whose mid pkt
 * names, with pkt's payload type and no stream yet, takes its SSRC.
 */
static sfu_line_t *
sfu_learn_by_mid(sfu_t *sfu, sfu_peer_t *p, const rooms_rtp_t *pkt)
{
    char            mid[ROOMS_SDP_MID_MAX + 1];
    size_t          n;
    unsigned        i;
    sfu_line_t     *l;
    const uint8_t  *v;

    if (p->ext_mid == 0
        || rooms_rtp_ext_find(pkt, p->ext_mid, &v, &n) != 0
        || n == 0 || n > ROOMS_SDP_MID_MAX)
    {
        return NULL;
    }

    memcpy(mid, v, n);
    mid[n] = '\0';

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (l->publishing && !l->has_ssrc && l->nlayers == 0
            && (int) pkt->pt == l->neg.pt && strcmp(l->mid, mid) == 0)
        {
            l->has_ssrc = 1;
            l->ssrc = pkt->ssrc;

            sfu_log(sfu, SFU_LOG_DEBUG, "%s mid %s sends ssrc %u", p->id, mid,
                    (unsigned) pkt->ssrc);
            return l;
        }
    }

    return NULL;
}


void
sfu_rtp(sfu_t *sfu, uint64_t now_us, sfu_peer_t *p, const uint8_t *buf,
    size_t len, sfu_io_t *io)
{
    int           li;
    size_t        n;
    uint8_t       repair[SFU_DGRAM_MAX];
    uint64_t      now;
    unsigned      keyframe;
    sfu_rx_t     *rx;
    sfu_line_t   *pub, *rtx;
    rooms_rtp_t   pkt;
    const uint8_t *lv;

    now = now_us / 1000;

    if (rooms_rtp_parse(buf, len, &pkt) != 0) {
        sfu->stats.rx_bad++;
        return;
    }

    /* every packet of the transport counts, RTX and padding too */
    sfu_twcc_packet(sfu, now_us, p, &pkt);

    pub = NULL;
    rtx = NULL;
    li = -1;

    sfu_demux(p, &pkt, &pub, &rtx, &li);

    /* a simulcast layer's retransmissions name it by repaired-rid */
    if (pub == NULL && rtx == NULL && p->ext_rrid != 0) {
        rtx = sfu_learn_rtx(sfu, p, &pkt, &li);
    }

    /*
     * The publisher's retransmission (RFC 4588) of a packet we NACKed:
     * the packet it repairs, as it was, goes the normal way (late, its
     * subscribers' rewriting places it); padding-only ones (probes), the
     * copies we did not ask for and any other payload type stop here.
     */
    if (rtx != NULL) {
        if ((int) pkt.pt != rtx->neg.rtx_pt || pkt.payload_len < 2
            || pkt.payload_off + pkt.payload_len > sizeof(repair))
        {
            return;
        }

        n = sfu_repair(rtx, li, &pkt, repair);

        if (rooms_rtp_parse(repair, n, &pkt) != 0
            || !sfu_nack_arrived(sfu, now, rtx, li, pkt.seq, 1))
        {
            return;
        }

        pub = rtx;
        sfu->stats.rtx_received++;
    }

    /*
     * Simulcast: a layer's SSRC is learned from the rid its first packets
     * carry (RFC 8852); retransmissions carry repaired-rid instead.
     */
    if (pub == NULL && p->ext_rid != 0) {
        pub = sfu_learn_layer(sfu, p, &pkt, &li);
    }

    if (pub == NULL) {
        pub = sfu_learn_by_mid(sfu, p, &pkt);
    }

    if (pub == NULL) {
        sfu->stats.rtp_unknown_ssrc++;
        return;
    }

    /*
     * a gap before this packet: ask the publisher for what is missing;
     * one we asked for that comes late after all is not asked again
     */
    if (rtx == NULL && pub->kind == ROOMS_SDP_KIND_VIDEO
        && (pub->neg.fb & ROOMS_SDP_FB_NACK))
    {
        rx = li >= 0 ? &pub->layers[li].rx : &pub->rx;

        if (rx->started && (int16_t) (uint16_t) (pkt.seq - rx->max_seq) < 0) {
            (void) sfu_nack_arrived(sfu, now, pub, li, pkt.seq, 0);

        } else {
            sfu_nack_gap(sfu, now, pub, li, pkt.seq, io);
        }
    }

    /*
     * every packet of the stream counts, whatever its payload type; a
     * repair is not a second arrival of its number (our receiver reports
     * say what the link lost, as the browser's own do)
     */
    if (rtx == NULL) {
        sfu_rx_packet(li >= 0 ? &pub->layers[li].rx : &pub->rx, now,
                      sfu_clock_rate(pub->kind), pkt.seq, pkt.ts);
    }

    /* the codec we accepted only (no RED, no RTX padding probes) */
    if ((int) pkt.pt != pub->neg.pt) {
        return;
    }

    pub->rx_packets++;
    keyframe = li >= 0 ? sfu_layer_packet(pub, li, now, &pkt) : 0;

    /* how loud the voice is: who is heard (sfu_voice.c) */
    if (pub->kind == ROOMS_SDP_KIND_AUDIO && pub->neg.ext_audio_level
        && rooms_rtp_ext_find(&pkt, pub->neg.ext_audio_level, &lv, &n) == 0
        && n == 1)
    {
        rooms_voice_level(&pub->voice, now, lv[0] & 0x7f);
        sfu->voice_heard = 1;
    }

    if (keyframe) {
        rooms_kf_keyframe(&pub->kf);
    }

    sfu_forward(sfu, now_us, pub, li, keyframe, &pkt, io);
}


/*
 * The layer of one of p's simulcast lines whose rid pkt names (with its
 * mid, when both are negotiated): its SSRC is pkt's from now on.  The
 * line, with *li set, or NULL.
 */
static sfu_line_t *
sfu_learn_layer(sfu_t *sfu, sfu_peer_t *p, const rooms_rtp_t *pkt, int *li)
{
    size_t          n, mn;
    unsigned        i, k;
    sfu_line_t     *l;
    const uint8_t  *v, *mv;

    if (rooms_rtp_ext_find(pkt, p->ext_rid, &v, &n) != 0 || n == 0
        || n > ROOMS_SDP_RID_MAX)
    {
        return NULL;
    }

    mv = NULL;
    mn = 0;

    if (p->ext_mid != 0
        && rooms_rtp_ext_find(pkt, p->ext_mid, &mv, &mn) != 0)
    {
        mv = NULL;
    }

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (!l->publishing || l->nlayers == 0 || (int) pkt->pt != l->neg.pt
            || (mv != NULL && (strlen(l->mid) != mn
                               || memcmp(l->mid, mv, mn) != 0)))
        {
            continue;
        }

        for (k = 0; k < l->nlayers; k++) {
            if (strlen(l->layers[k].rid) == n
                && memcmp(l->layers[k].rid, v, n) == 0)
            {
                /* a layer that restarts with another SSRC starts over */
                memset(&l->layers[k].rx, 0, sizeof(sfu_rx_t));
                sfu_nack_forget(l, (int) k);
                l->layers[k].has_ssrc = 1;
                l->layers[k].ssrc = pkt->ssrc;
                l->has_ssrc = 1;
                *li = (int) k;

                sfu_log(sfu, SFU_LOG_DEBUG, "%s mid %s layer %s sends "
                        "ssrc %u", p->id, l->mid, l->layers[k].rid,
                        (unsigned) pkt->ssrc);
                return l;
            }
        }
    }

    return NULL;
}


/*
 * The simulcast layer whose retransmissions pkt carries, named by its
 * repaired-rid: its RTX SSRC from now on.  The line, with *li set, or
 * NULL.
 */
static sfu_line_t *
sfu_learn_rtx(sfu_t *sfu, sfu_peer_t *p, const rooms_rtp_t *pkt, int *li)
{
    size_t          n;
    unsigned        i, k;
    sfu_line_t     *l;
    const uint8_t  *v;

    if (rooms_rtp_ext_find(pkt, p->ext_rrid, &v, &n) != 0 || n == 0
        || n > ROOMS_SDP_RID_MAX)
    {
        return NULL;
    }

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (!l->publishing || (int) pkt->pt != l->neg.rtx_pt) {
            continue;
        }

        for (k = 0; k < l->nlayers; k++) {
            if (strlen(l->layers[k].rid) == n
                && memcmp(l->layers[k].rid, v, n) == 0
                && l->layers[k].has_ssrc)
            {
                l->layers[k].rtx_ssrc = pkt->ssrc;
                *li = (int) k;

                sfu_log(sfu, SFU_LOG_DEBUG, "%s mid %s layer %s repairs "
                        "with ssrc %u", p->id, l->mid, l->layers[k].rid,
                        (unsigned) pkt->ssrc);
                return l;
            }
        }
    }

    return NULL;
}


/*
 * Writes into out the packet the retransmission rtx repairs (RFC 4588
 * §4: its payload starts with the original sequence number): the header
 * with the stream's SSRC, payload type and that number, without padding,
 * then the original payload.  The caller checked the payload holds the 2
 * bytes and fits out.  Returns its length.
 */
static size_t
sfu_repair(const sfu_line_t *pub, int li, const rooms_rtp_t *rtx,
    uint8_t *out)
{
    const uint8_t  *osn;

    osn = rtx->buf + rtx->payload_off;

    memcpy(out, rtx->buf, rtx->payload_off);
    out[0] &= (uint8_t) ~0x20;
    memcpy(out + rtx->payload_off, osn + 2, rtx->payload_len - 2);

    rooms_rtp_set_seq(out, (uint16_t) ((osn[0] << 8) | osn[1]));
    rooms_rtp_set_ssrc(out, li >= 0 ? pub->layers[li].ssrc : pub->ssrc);
    rooms_rtp_set_pt(out, (unsigned) pub->neg.pt);

    return rtx->payload_off + rtx->payload_len - 2;
}


/*
 * What the layer chooser reads of layer li of pub, from one of its
 * packets: its bitrate over about a second, that it is arriving, and its
 * picture size from each keyframe (RFC 6386 §9.1: after the 3-byte frame
 * tag, the start code 9d 01 2a, then 14-bit width and height).  Returns
 * 1 when pkt starts a keyframe.
 */
static unsigned
sfu_layer_packet(sfu_line_t *pub, int li, uint64_t now,
    const rooms_rtp_t *pkt)
{
    uint64_t        span;
    sfu_layer_t    *ly;
    rooms_vp8_t     vp8;
    rooms_layer_t  *lp;
    const uint8_t  *b;

    ly = &pub->layers[li];
    lp = &pub->lpub.layer[li];

    if (ly->win_start == 0 || now < ly->win_start) {
        ly->win_start = now;
        ly->win_bytes = 0;
    }

    ly->win_bytes += pkt->len;
    ly->last_ms = now;
    lp->active = 1;
    span = now - ly->win_start;

    if (span >= 1000) {
        rooms_layer_rate(lp, (uint32_t) (ly->win_bytes * 8000 / span));
        ly->win_start = now;
        ly->win_bytes = 0;
    }

    if (pub->kind != ROOMS_SDP_KIND_VIDEO
        || rooms_rtp_vp8_parse(pkt->buf + pkt->payload_off,
                               pkt->payload_len, &vp8) != 0
        || !vp8.keyframe)
    {
        return 0;
    }

    b = pkt->buf + pkt->payload_off + vp8.desc_len;

    if (pkt->payload_len >= vp8.desc_len + 10
        && b[3] == 0x9d && b[4] == 0x01 && b[5] == 0x2a)
    {
        lp->width = (uint16_t) ((b[6] | (b[7] << 8)) & 0x3fff);
        lp->height = (uint16_t) ((b[8] | (b[9] << 8)) & 0x3fff);
    }

    return 1;
}


/* A keyframe of each video stream peer receives: its subscriptions start. */
void
sfu_want_keyframes(sfu_t *sfu, uint64_t now, sfu_peer_t *peer, sfu_io_t *io)
{
    unsigned     i;
    sfu_line_t  *l;

    for (i = 0; i < peer->nlines; i++) {
        l = &peer->lines[i];

        if (l->bound != NULL && l->kind == ROOMS_SDP_KIND_VIDEO) {
            sfu_want_keyframe(sfu, now, l->bound, io);
        }
    }
}


/* Keyframe requests the throttle held back: those due now go. */
uint64_t
sfu_keyframes_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    int64_t       wait;
    uint64_t      next, t;
    sfu_line_t   *l;
    sfu_queue_t  *q, *qn, *list;

    next = SFU_NEVER;
    list = &sfu->net->kf_pending;

    for (q = list->next; q != list; q = qn) {
        qn = q->next;
        l = sfu_queue_data(q, sfu_line_t, kf_link);

        wait = rooms_kf_timeout(&l->kf, (int64_t) now);

        if (wait > 0) {
            t = now + (uint64_t) wait;
            if (t < next) {
                next = t;
            }
            continue;
        }

        sfu_queue_remove(&l->kf_link);
        l->kf_queued = 0;

        if (wait == 0) {
            sfu_want_keyframe(sfu, now, l, io);
        }
    }

    return next;
}
