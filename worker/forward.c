/*
 * forward.c: per-subscriber RTP rewriting, the NACK history and the
 * keyframe request throttle.
 *
 * Sequence numbers are compared in an extended (64-bit) space built from
 * the 16-bit field by the smallest signed step from the highest value
 * seen, so the 16-bit wrap never looks like a jump back.  A packet more
 * than 32767 behind the newest would be read as ahead of it; nothing that
 * old is in flight on one RTP stream.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include srtp.h, include dtls.h, include sdp.h, include ice.h, call json_, call RAND_bytes, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <stdlib.h>
#include <string.h>

#include "forward.h"


#define ROOMS_FWD_VERSION   2
/* a switch after an hour of silence is as good as after 24 days: keep the
 * millisecond product far inside int64 */
#define ROOMS_FWD_GAP_MAX   (3600 * 1000)


static uint16_t
rooms_fwd_get16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}


static uint32_t
rooms_fwd_get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}


static void
rooms_fwd_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


static void
rooms_fwd_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


void
rooms_fwd_init(rooms_fwd_t *fwd, uint32_t out_ssrc, uint32_t clock_rate,
    uint16_t seq0, uint32_t ts0)
{
    memset(fwd, 0, sizeof(rooms_fwd_t));

    fwd->out_ssrc = out_ssrc;
    fwd->clock_rate = clock_rate;

    /* the first source continues from "one before" seq0, at ts0 itself */
    fwd->last_seq = (uint16_t) (seq0 - 1);
    fwd->last_ts = ts0;
}


void
rooms_fwd_switch(rooms_fwd_t *fwd)
{
    fwd->force_switch = 1;
}


/* offsets that make (seq, ts) of a new source follow what was sent */
static void
rooms_fwd_rebase(rooms_fwd_t *fwd, int64_t now_ms, uint32_t ssrc,
    uint16_t seq, uint32_t ts)
{
    int64_t   gap, step;
    uint32_t  out_ts;

    if (fwd->started) {
        gap = now_ms - fwd->last_ts_ms;

        if (gap > ROOMS_FWD_GAP_MAX) {
            gap = ROOMS_FWD_GAP_MAX;
        }

        step = gap * (int64_t) fwd->clock_rate / 1000;

        /* even at the same millisecond the subscriber must see time move */
        if (step < 1) {
            step = 1;
        }

        out_ts = fwd->last_ts + (uint32_t) step;
        fwd->switches++;

    } else {
        out_ts = fwd->last_ts;
    }

    fwd->seq_off = (uint16_t) (fwd->last_seq + 1 - seq);
    fwd->ts_off = out_ts - ts;

    fwd->src_ssrc = ssrc;
    fwd->has_src = 1;
    fwd->force_switch = 0;
    fwd->vp8_rebase = 1;

    /* seq + 2^32 keeps extended numbers of older packets positive */
    fwd->src_base = ((int64_t) 1 << 32) + seq;
    fwd->src_max = fwd->src_base;
}


int
rooms_fwd_rewrite(rooms_fwd_t *fwd, int64_t now_ms, uint8_t *pkt,
    size_t len)
{
    int64_t   ext;
    uint16_t  seq, out_seq;
    uint32_t  ssrc, ts, out_ts;

    if (len < 12 || (pkt[0] >> 6) != ROOMS_FWD_VERSION) {
        return ROOMS_FWD_DROP;
    }

    seq = rooms_fwd_get16(pkt + 2);
    ts = rooms_fwd_get32(pkt + 4);
    ssrc = rooms_fwd_get32(pkt + 8);

    if (!fwd->has_src || fwd->force_switch || ssrc != fwd->src_ssrc) {
        rooms_fwd_rebase(fwd, now_ms, ssrc, seq, ts);

    } else {
        ext = fwd->src_max
              + (int16_t) (uint16_t) (seq - (uint16_t) fwd->src_max);

        /* before the switch point: its slot was the previous source's */
        if (ext < fwd->src_base) {
            fwd->dropped++;
            return ROOMS_FWD_DROP;
        }

        if (ext > fwd->src_max) {
            fwd->src_max = ext;
        }
    }

    out_seq = (uint16_t) (seq + fwd->seq_off);
    out_ts = ts + fwd->ts_off;

    rooms_fwd_put16(pkt + 2, out_seq);
    rooms_fwd_put32(pkt + 4, out_ts);
    rooms_fwd_put32(pkt + 8, fwd->out_ssrc);

    if (!fwd->started || (int16_t) (uint16_t) (out_seq - fwd->last_seq) > 0) {
        fwd->last_seq = out_seq;
    }

    if (!fwd->started || (int32_t) (out_ts - fwd->last_ts) > 0) {
        fwd->last_ts = out_ts;
        fwd->last_ts_ms = now_ms;
    }

    fwd->started = 1;

    return out_seq;
}


int
rooms_fwd_source_seq(const rooms_fwd_t *fwd, uint16_t out_seq,
    uint16_t *in_seq)
{
    int64_t   ext;
    uint16_t  in;

    if (!fwd->has_src || !fwd->started) {
        return -1;
    }

    in = (uint16_t) (out_seq - fwd->seq_off);
    ext = fwd->src_max + (int16_t) (uint16_t) (in - (uint16_t) fwd->src_max);

    if (ext < fwd->src_base || ext > fwd->src_max) {
        return -1;
    }

    *in_seq = in;

    return 0;
}


/*
 * Where the PictureID (*pid, 7 or 15 bits in *bits) and TL0PICIDX (*tl0)
 * of the VP8 payload descriptor at p[0..len) are: their offsets, or -1
 * when absent.  Returns -1 when the descriptor does not fit in len.
 */
static int
rooms_fwd_vp8_find(const uint8_t *p, size_t len, int *pid, unsigned *bits,
    int *tl0)
{
    size_t  i;

    *pid = -1;
    *tl0 = -1;
    *bits = 0;

    /* X: the extension byte with I (PictureID), L (TL0PICIDX) */
    if (len < 2 || !(p[0] & 0x80)) {
        return len < 1 ? -1 : 0;
    }

    i = 2;

    if (p[1] & 0x80) {
        if (i >= len) {
            return -1;
        }

        *pid = (int) i;
        *bits = (p[i] & 0x80) ? 15 : 7;
        i += (p[i] & 0x80) ? 2 : 1;
    }

    if (p[1] & 0x40) {
        if (i >= len) {
            return -1;
        }

        *tl0 = (int) i;
        i++;
    }

    return i <= len ? 0 : -1;
}


static void
rooms_fwd_vp8_put(uint8_t *p, int pid, unsigned bits, int tl0,
    uint16_t out_pid, uint8_t out_tl0)
{
    if (pid >= 0) {
        if (bits == 15) {
            p[pid] = (uint8_t) (0x80 | ((out_pid >> 8) & 0x7f));
            p[pid + 1] = (uint8_t) (out_pid & 0xff);

        } else {
            p[pid] = (uint8_t) (out_pid & 0x7f);
        }
    }

    if (tl0 >= 0) {
        p[tl0] = out_tl0;
    }
}


static uint16_t
rooms_fwd_vp8_pid(const uint8_t *p, int pid, unsigned bits)
{
    return bits == 15 ? (uint16_t) (((p[pid] & 0x7f) << 8) | p[pid + 1])
                      : (uint16_t) (p[pid] & 0x7f);
}


void
rooms_fwd_vp8(rooms_fwd_t *fwd, uint8_t *payload, size_t len)
{
    int       pid, tl0;
    unsigned  bits;
    uint16_t  in_pid, out_pid, mask;
    uint8_t   in_tl0, out_tl0;

    if (rooms_fwd_vp8_find(payload, len, &pid, &bits, &tl0) != 0
        || (pid < 0 && tl0 < 0))
    {
        return;
    }

    mask = bits == 7 ? 0x7f : 0x7fff;
    in_pid = pid >= 0 ? rooms_fwd_vp8_pid(payload, pid, bits) : 0;
    in_tl0 = tl0 >= 0 ? payload[tl0] : 0;

    /* a new source goes on from the numbers the subscriber saw last */
    if (fwd->vp8_rebase) {
        fwd->vp8_rebase = 0;

        if (fwd->vp8_started) {
            fwd->pid_off = (uint16_t) ((fwd->last_pid + 1 - in_pid) & 0x7fff);
            fwd->tl0_off = (uint8_t) (fwd->last_tl0 + 1 - in_tl0);

        } else {
            fwd->pid_off = 0;
            fwd->tl0_off = 0;
        }
    }

    out_pid = (uint16_t) ((in_pid + fwd->pid_off) & mask);
    out_tl0 = (uint8_t) (in_tl0 + fwd->tl0_off);

    rooms_fwd_vp8_put(payload, pid, bits, tl0, out_pid, out_tl0);

    /* the highest sent, in each number's own modulus (a repair is late) */
    if (pid >= 0
        && (!fwd->vp8_started
            || (((out_pid - fwd->last_pid) & mask) != 0
                && ((out_pid - fwd->last_pid) & mask) < (mask + 1u) / 2)))
    {
        fwd->last_pid = out_pid;
    }

    if (tl0 >= 0
        && (!fwd->vp8_started || (int8_t) (uint8_t) (out_tl0 - fwd->last_tl0)
                                 > 0))
    {
        fwd->last_tl0 = out_tl0;
    }

    fwd->vp8_started = 1;
}


void
rooms_fwd_vp8_replay(const rooms_fwd_t *fwd, uint8_t *payload, size_t len)
{
    int       pid, tl0;
    unsigned  bits;
    uint16_t  mask;

    if (!fwd->vp8_started || fwd->vp8_rebase
        || rooms_fwd_vp8_find(payload, len, &pid, &bits, &tl0) != 0)
    {
        return;
    }

    mask = bits == 7 ? 0x7f : 0x7fff;

    rooms_fwd_vp8_put(payload, pid, bits, tl0,
                      pid >= 0 ? (uint16_t) ((rooms_fwd_vp8_pid(payload, pid,
                                                                bits)
                                              + fwd->pid_off) & mask)
                               : 0,
                      tl0 >= 0 ? (uint8_t) (payload[tl0] + fwd->tl0_off)
                               : 0);
}


int
rooms_fwd_replay(const rooms_fwd_t *fwd, uint8_t *pkt, size_t len)
{
    uint16_t  out_seq;

    if (len < 12 || (pkt[0] >> 6) != ROOMS_FWD_VERSION || !fwd->has_src
        || rooms_fwd_get32(pkt + 8) != fwd->src_ssrc)
    {
        return ROOMS_FWD_DROP;
    }

    out_seq = (uint16_t) (rooms_fwd_get16(pkt + 2) + fwd->seq_off);

    rooms_fwd_put16(pkt + 2, out_seq);
    rooms_fwd_put32(pkt + 4, rooms_fwd_get32(pkt + 4) + fwd->ts_off);
    rooms_fwd_put32(pkt + 8, fwd->out_ssrc);

    return out_seq;
}


int
rooms_hist_init(rooms_hist_t *h, size_t n)
{
    memset(h, 0, sizeof(rooms_hist_t));

    if (n == 0 || n > ROOMS_HIST_MAX || (n & (n - 1)) != 0) {
        return -1;
    }

    h->data = malloc(n * ROOMS_HIST_SLOT);
    h->ext = calloc(n, sizeof(uint64_t));
    h->lens = calloc(n, sizeof(uint16_t));

    if (h->data == NULL || h->ext == NULL || h->lens == NULL) {
        rooms_hist_free(h);
        return -1;
    }

    h->n = n;

    return 0;
}


void
rooms_hist_free(rooms_hist_t *h)
{
    free(h->data);
    free(h->ext);
    free(h->lens);

    memset(h, 0, sizeof(rooms_hist_t));
}


/* the extended number of seq next to the newest put */
static uint64_t
rooms_hist_extend(const rooms_hist_t *h, uint16_t seq)
{
    int16_t  d;

    d = (int16_t) (uint16_t) (seq - (uint16_t) h->newest);

    return h->newest + (uint64_t) (int64_t) d;
}


int
rooms_hist_put(rooms_hist_t *h, const uint8_t *pkt, size_t len)
{
    size_t    slot;
    uint16_t  seq;
    uint64_t  ext;

    if (len < 12 || len > ROOMS_HIST_SLOT || h->n == 0) {
        return -1;
    }

    seq = rooms_fwd_get16(pkt + 2);

    if (!h->any) {
        /* 2^32 + seq: older numbers stay positive and never 0 (empty) */
        h->newest = ((uint64_t) 1 << 32) + seq;
        h->any = 1;
    }

    ext = rooms_hist_extend(h, seq);

    if (ext + h->n <= h->newest) {
        return -1;
    }

    if (ext > h->newest) {
        h->newest = ext;
    }

    slot = seq & (h->n - 1);

    memcpy(h->data + slot * ROOMS_HIST_SLOT, pkt, len);
    h->ext[slot] = ext;
    h->lens[slot] = (uint16_t) len;

    return 0;
}


const uint8_t *
rooms_hist_get(const rooms_hist_t *h, uint16_t seq, size_t *len)
{
    size_t    slot;
    uint64_t  ext;

    if (!h->any) {
        return NULL;
    }

    ext = rooms_hist_extend(h, seq);

    /* ahead of the newest, or out of the window even if the slot kept it */
    if (ext > h->newest || h->newest - ext >= h->n) {
        return NULL;
    }

    slot = seq & (h->n - 1);

    if (h->ext[slot] != ext) {
        return NULL;
    }

    *len = h->lens[slot];

    return h->data + slot * ROOMS_HIST_SLOT;
}


void
rooms_kf_init(rooms_kf_throttle_t *t, unsigned interval_ms)
{
    memset(t, 0, sizeof(rooms_kf_throttle_t));
    t->interval_ms = interval_ms;
}


/* the least time from the last request to the next one */
static int64_t
rooms_kf_gap(const rooms_kf_throttle_t *t)
{
    return t->answered && t->interval_ms > ROOMS_KF_ANSWERED_MS
           ? ROOMS_KF_ANSWERED_MS : (int64_t) t->interval_ms;
}


int
rooms_kf_allow(rooms_kf_throttle_t *t, int64_t now_ms)
{
    if (!t->sent || now_ms - t->last_ms >= rooms_kf_gap(t)) {
        t->sent = 1;
        t->pending = 0;
        t->answered = 0;
        t->last_ms = now_ms;
        return 1;
    }

    t->pending = 1;

    return 0;
}


void
rooms_kf_keyframe(rooms_kf_throttle_t *t)
{
    t->answered = t->sent;
}


int64_t
rooms_kf_timeout(const rooms_kf_throttle_t *t, int64_t now_ms)
{
    int64_t  left;

    if (!t->pending) {
        return -1;
    }

    left = t->last_ms + rooms_kf_gap(t) - now_ms;

    return left > 0 ? left : 0;
}
