/*
 * twcc.c: transport-wide congestion control feedback, receiver side.
 *
 * The window is a ring of arrival times indexed by the extended sequence
 * number modulo ROOMS_TWCC_WINDOW; a slot stands for exactly one number
 * of [end - WINDOW, end), because slots are cleared as end moves past
 * them.  [next, end) is what the next feedback covers: it ends with a
 * received packet (end - 1 is the highest recorded) and may start with
 * lost ones.
 *
 * Chunks are chosen greedily by an encoder that holds at most one
 * chunk's worth of pending symbols: a run while they are all equal (up to
 * 8191), a one-bit vector for 14 symbols that are all "not received" or
 * "small delta", a two-bit vector for 7 otherwise.  The size of a prefix
 * is then exact (emitted chunks plus one for the pending symbols), which
 * is what lets a packet stop at its capacity without building it twice.
 *
 * May not: include <sys/socket.h>, include <stdlib.h>, include sfu.h, call malloc, call json_, call clock_gettime, call time, call rand
 */

#include <string.h>

#include "rtcp.h"
#include "twcc.h"


#define ROOMS_TWCC_EMPTY      INT64_MIN
#define ROOMS_TWCC_MASK       (ROOMS_TWCC_WINDOW - 1)
#define ROOMS_TWCC_HDR_LEN    20       /* RTCP header, SSRCs, fixed FCI */
#define ROOMS_TWCC_RUN_MAX    8191     /* 13-bit run length */
#define ROOMS_TWCC_ONE_BIT    14       /* symbols of a one-bit vector */
#define ROOMS_TWCC_TWO_BIT    7        /* symbols of a two-bit vector */
#define ROOMS_TWCC_REF_WRAP   (1 << 24)


/* the greedy chunk encoder */
typedef struct {
    uint8_t         sym[ROOMS_TWCC_ONE_BIT];   /* the first pending ones */
    unsigned        n;            /* pending symbols */
    unsigned        same;         /* all pending symbols are sym[0] */
    unsigned        has2;         /* one of them is LARGE_DELTA */
    unsigned        chunks;       /* emitted */
} rooms_twcc_enc_t;


static uint16_t
rooms_twcc_get16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}


static void
rooms_twcc_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


static void
rooms_twcc_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


/* a / b rounded towards minus infinity, b > 0 */
static int64_t
rooms_twcc_floor_div(int64_t a, int64_t b)
{
    int64_t  q;

    q = a / b;

    if (a % b != 0 && a < 0) {
        q--;
    }

    return q;
}


static int64_t *
rooms_twcc_slot(rooms_twcc_t *t, int64_t ext)
{
    return &t->arrival[(uint64_t) ext & ROOMS_TWCC_MASK];
}


static void
rooms_twcc_clear(rooms_twcc_t *t)
{
    size_t  i;

    for (i = 0; i < ROOMS_TWCC_WINDOW; i++) {
        t->arrival[i] = ROOMS_TWCC_EMPTY;
    }
}


void
rooms_twcc_init(rooms_twcc_t *t, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    memset(t, 0, sizeof(rooms_twcc_t));

    t->sender_ssrc = sender_ssrc;
    t->media_ssrc = media_ssrc;
    t->interval_us = ROOMS_TWCC_INTERVAL_US;

    rooms_twcc_clear(t);
}


/* starts the window at ext: whatever was waiting is given up */
static void
rooms_twcc_restart(rooms_twcc_t *t, int64_t ext)
{
    if (t->started) {
        t->abandoned += (uint64_t) (t->end - t->next);
        t->resyncs++;
        rooms_twcc_clear(t);
    }

    t->started = 1;
    t->more = 0;
    t->next = ext;
    t->end = ext;
}


int
rooms_twcc_input(rooms_twcc_t *t, int64_t now_us, uint16_t twcc_seq)
{
    int64_t   ext, e, *slot;
    unsigned  was_idle;

    if (!t->started || now_us > t->last_us) {
        t->last_us = now_us;
    }

    if (!t->started) {
        rooms_twcc_restart(t, twcc_seq);
        ext = twcc_seq;

    } else {
        /* unwrapped to the nearest of the highest recorded */
        ext = t->end - 1
              + (int16_t) (uint16_t) (twcc_seq - (uint16_t) (t->end - 1));

        if (ext < t->end - ROOMS_TWCC_WINDOW
            || ext >= t->end + ROOMS_TWCC_WINDOW)
        {
            if (++t->strays < ROOMS_TWCC_RESYNC) {
                t->dropped++;
                return 0;
            }

            rooms_twcc_restart(t, ext);
        }
    }

    t->strays = 0;
    was_idle = (t->next == t->end);

    if (ext >= t->end) {
        /* the slots of (end - 1, ext] stood for numbers a window older */
        for (e = t->end; e <= ext && e < t->end + ROOMS_TWCC_WINDOW; e++) {
            *rooms_twcc_slot(t, e) = ROOMS_TWCC_EMPTY;
        }

        t->end = ext + 1;

        if (t->next < t->end - ROOMS_TWCC_WINDOW) {
            t->abandoned += (uint64_t) (t->end - ROOMS_TWCC_WINDOW - t->next);
            t->next = t->end - ROOMS_TWCC_WINDOW;
        }
    }

    slot = rooms_twcc_slot(t, ext);

    if (*slot != ROOMS_TWCC_EMPTY) {
        t->duplicates++;
        return 0;
    }

    *slot = now_us;
    t->recorded++;

    if (ext < t->next) {
        /* reported lost (or before the first): report again from here */
        t->late++;
        t->next = ext;
    }

    if (was_idle) {
        t->pending_us = now_us;
    }

    return 1;
}


int64_t
rooms_twcc_timeout(const rooms_twcc_t *t)
{
    int64_t  due;

    if (!t->started || t->next == t->end) {
        return -1;
    }

    if (t->more || t->end - t->next >= ROOMS_TWCC_BURST) {
        return t->last_us;
    }

    due = t->pending_us;

    if (t->sent && t->last_fb_us + t->interval_us > due) {
        due = t->last_fb_us + t->interval_us;
    }

    return due;
}


/* whether sym can join the pending symbols without emitting a chunk */
static int
rooms_twcc_enc_fits(const rooms_twcc_enc_t *e, unsigned sym)
{
    if (e->n < ROOMS_TWCC_TWO_BIT) {
        return 1;
    }

    if (e->n < ROOMS_TWCC_ONE_BIT && !e->has2
        && sym != ROOMS_TWCC_LARGE_DELTA)
    {
        return 1;
    }

    return e->same && sym == e->sym[0] && e->n < ROOMS_TWCC_RUN_MAX;
}


static void
rooms_twcc_enc_put(rooms_twcc_enc_t *e, uint8_t *chunks, uint16_t chunk)
{
    if (chunks != NULL) {
        rooms_twcc_put16(chunks + 2 * e->chunks, chunk);
    }

    e->chunks++;
}


/* a vector chunk of the first n pending symbols (the rest are 0) */
static void
rooms_twcc_enc_vector(rooms_twcc_enc_t *e, uint8_t *chunks, unsigned n,
    unsigned two_bit)
{
    unsigned  i;
    uint16_t  c;

    if (two_bit) {
        c = 0xc000;

        for (i = 0; i < n; i++) {
            c |= (uint16_t) (e->sym[i] << (12 - 2 * i));
        }

    } else {
        c = 0x8000;

        for (i = 0; i < n; i++) {
            c |= (uint16_t) ((e->sym[i] & 1) << (13 - i));
        }
    }

    rooms_twcc_enc_put(e, chunks, c);
}


/* emits the chunk that makes room for one more symbol */
static void
rooms_twcc_enc_emit(rooms_twcc_enc_t *e, uint8_t *chunks)
{
    unsigned  i;

    if (e->same) {
        rooms_twcc_enc_put(e, chunks, (uint16_t) (e->sym[0] << 13 | e->n));
        e->n = 0;
        return;
    }

    if (e->n == ROOMS_TWCC_ONE_BIT && !e->has2) {
        rooms_twcc_enc_vector(e, chunks, ROOMS_TWCC_ONE_BIT, 0);
        e->n = 0;
        return;
    }

    /* 7 or more mixed symbols that a one-bit vector cannot end with */
    rooms_twcc_enc_vector(e, chunks, ROOMS_TWCC_TWO_BIT, 1);

    e->n -= ROOMS_TWCC_TWO_BIT;
    e->same = 1;
    e->has2 = 0;

    for (i = 0; i < e->n; i++) {
        e->sym[i] = e->sym[i + ROOMS_TWCC_TWO_BIT];
        e->same &= (e->sym[i] == e->sym[0]);
        e->has2 |= (e->sym[i] == ROOMS_TWCC_LARGE_DELTA);
    }
}


/* adds a symbol; chunks is where emitted chunks go, NULL to count only */
static void
rooms_twcc_enc_add(rooms_twcc_enc_t *e, uint8_t *chunks, unsigned sym)
{
    if (!rooms_twcc_enc_fits(e, sym)) {
        rooms_twcc_enc_emit(e, chunks);
    }

    if (e->n == 0) {
        e->same = 1;
        e->has2 = 0;
    }

    if (e->n < ROOMS_TWCC_ONE_BIT) {
        e->sym[e->n] = (uint8_t) sym;
    }

    if (sym != e->sym[0]) {
        e->same = 0;
    }

    if (sym == ROOMS_TWCC_LARGE_DELTA) {
        e->has2 = 1;
    }

    e->n++;
}


/* the chunk of the symbols still pending at the end of a packet */
static void
rooms_twcc_enc_finish(rooms_twcc_enc_t *e, uint8_t *chunks)
{
    if (e->n == 0) {
        return;
    }

    if (e->same) {
        rooms_twcc_enc_emit(e, chunks);

    } else {
        /* mixed: at most 14 without a large delta, else at most 7 */
        rooms_twcc_enc_vector(e, chunks, e->n, e->has2);
        e->n = 0;
    }
}


int
rooms_twcc_poll(rooms_twcc_t *t, int64_t now_us, uint8_t *out, size_t cap)
{
    size_t            budget, dlen, size, pad;
    int64_t           due, ext, arr, ref, last, delta;
    unsigned          sym, count;
    uint8_t           deltas[ROOMS_TWCC_MAX_LEN];
    rooms_twcc_enc_t  enc, trial;

    due = rooms_twcc_timeout(t);

    if (due < 0 || now_us < due) {
        return 0;
    }

    if (cap < ROOMS_TWCC_MIN_LEN) {
        return -1;
    }

    if (now_us > t->last_us) {
        t->last_us = now_us;
    }

    budget = cap < ROOMS_TWCC_MAX_LEN ? cap : ROOMS_TWCC_MAX_LEN;

    /* the reference time: the first received packet's arrival */
    for (ext = t->next; *rooms_twcc_slot(t, ext) == ROOMS_TWCC_EMPTY; ext++) {
        /* end - 1 is received, so this stops inside [next, end) */
    }

    ref = rooms_twcc_floor_div(*rooms_twcc_slot(t, ext), ROOMS_TWCC_REF_US);
    last = ref * ROOMS_TWCC_REF_US;

    memset(&enc, 0, sizeof(rooms_twcc_enc_t));
    dlen = 0;
    count = 0;

    for (ext = t->next; ext < t->end; ext++) {
        arr = *rooms_twcc_slot(t, ext);
        delta = 0;

        if (arr == ROOMS_TWCC_EMPTY) {
            sym = ROOMS_TWCC_NOT_RECEIVED;

        } else {
            delta = rooms_twcc_floor_div(arr - last + ROOMS_TWCC_DELTA_US / 2,
                                         ROOMS_TWCC_DELTA_US);

            if (delta < INT16_MIN || delta > INT16_MAX) {
                /* never the first received: it is within 64 ms of ref */
                break;
            }

            sym = (delta >= 0 && delta <= 0xff) ? ROOMS_TWCC_SMALL_DELTA
                                                : ROOMS_TWCC_LARGE_DELTA;
        }

        trial = enc;
        rooms_twcc_enc_add(&trial, NULL, sym);

        /* a symbol's value is the size of its delta in bytes */
        size = ROOMS_TWCC_HDR_LEN + 2 * (trial.chunks + (trial.n > 0))
               + dlen + sym;

        if (((size + 3) & ~(size_t) 3) > budget) {
            /* never the first status: 24 bytes hold any one */
            break;
        }

        rooms_twcc_enc_add(&enc, out + ROOMS_TWCC_HDR_LEN, sym);

        if (sym == ROOMS_TWCC_SMALL_DELTA) {
            deltas[dlen++] = (uint8_t) delta;

        } else if (sym == ROOMS_TWCC_LARGE_DELTA) {
            rooms_twcc_put16(deltas + dlen, (uint16_t) (int16_t) delta);
            dlen += 2;
        }

        last += delta * ROOMS_TWCC_DELTA_US;
        count++;
    }

    rooms_twcc_enc_finish(&enc, out + ROOMS_TWCC_HDR_LEN);

    size = ROOMS_TWCC_HDR_LEN + 2 * enc.chunks;
    memcpy(out + size, deltas, dlen);
    size += dlen;

    /* zero padding to 32 bits, its count in its last byte, the P bit */
    pad = (4 - size % 4) % 4;

    if (pad != 0) {
        memset(out + size, 0, pad);
        size += pad;
        out[size - 1] = (uint8_t) pad;
    }

    out[0] = (uint8_t) (0x80 | (pad != 0 ? 0x20 : 0) | ROOMS_RTCP_FMT_TWCC);
    out[1] = ROOMS_RTCP_RTPFB;
    rooms_twcc_put16(out + 2, (uint16_t) (size / 4 - 1));
    rooms_twcc_put32(out + 4, t->sender_ssrc);
    rooms_twcc_put32(out + 8, t->media_ssrc);
    rooms_twcc_put16(out + 12, (uint16_t) t->next);
    rooms_twcc_put16(out + 14, (uint16_t) count);
    rooms_twcc_put32(out + 16,
        (uint32_t) ((uint64_t) ref & (ROOMS_TWCC_REF_WRAP - 1)) << 8
        | t->fb_count);

    t->fb_count++;
    t->feedbacks++;
    t->next += count;
    t->more = (t->next != t->end);
    t->sent = 1;
    t->last_fb_us = now_us;

    return (int) size;
}


/* symbol j of a chunk */
static unsigned
rooms_twcc_chunk_sym(uint16_t c, unsigned j)
{
    if (!(c & 0x8000)) {
        return (c >> 13) & 3;
    }

    if (!(c & 0x4000)) {
        return (c >> (13 - j)) & 1;
    }

    return (c >> (12 - 2 * j)) & 3;
}


/* how many symbols a chunk holds; 0 for an empty run */
static unsigned
rooms_twcc_chunk_len(uint16_t c)
{
    if (!(c & 0x8000)) {
        return c & 0x1fff;
    }

    return (c & 0x4000) ? ROOMS_TWCC_TWO_BIT : ROOMS_TWCC_ONE_BIT;
}


int
rooms_twcc_parse_fci(const uint8_t *fci, size_t len,
    rooms_twcc_info_t *info, rooms_twcc_status_t *out, size_t cap)
{
    size_t    off, doff;
    int32_t   ref, delta;
    int64_t   at;
    unsigned  count, left, n, j, sym, idx, received;
    uint16_t  c;

    if (len < ROOMS_TWCC_FCI_MIN) {
        return -1;
    }

    count = rooms_twcc_get16(fci + 2);

    if (count == 0) {
        return -1;
    }

    /* signed 24 bits */
    ref = (int32_t) (((uint32_t) fci[4] << 16) | ((uint32_t) fci[5] << 8)
                     | fci[6]);

    if (ref & 0x800000) {
        ref -= ROOMS_TWCC_REF_WRAP;
    }

    /* the chunks: check them and find where the deltas start */
    off = ROOMS_TWCC_FCI_MIN;
    left = count;

    while (left > 0) {
        if (len - off < 2) {
            return -1;
        }

        c = rooms_twcc_get16(fci + off);
        n = rooms_twcc_chunk_len(c);

        if (n == 0) {
            return -1;
        }

        n = n < left ? n : left;

        for (j = 0; j < n; j++) {
            if (rooms_twcc_chunk_sym(c, j) == 3) {
                return -1;
            }
        }

        left -= n;
        off += 2;
    }

    /* the statuses again, with their deltas */
    doff = off;
    off = ROOMS_TWCC_FCI_MIN;
    at = (int64_t) ref * ROOMS_TWCC_REF_US;
    idx = 0;
    received = 0;

    while (idx < count) {
        c = rooms_twcc_get16(fci + off);
        off += 2;
        n = rooms_twcc_chunk_len(c);
        n = n < count - idx ? n : count - idx;

        for (j = 0; j < n; j++, idx++) {
            sym = rooms_twcc_chunk_sym(c, j);
            delta = 0;

            if (sym == ROOMS_TWCC_SMALL_DELTA) {
                if (len - doff < 1) {
                    return -1;
                }

                delta = fci[doff++];

            } else if (sym == ROOMS_TWCC_LARGE_DELTA) {
                if (len - doff < 2) {
                    return -1;
                }

                delta = (int16_t) rooms_twcc_get16(fci + doff);
                doff += 2;
            }

            if (sym != ROOMS_TWCC_NOT_RECEIVED) {
                at += (int64_t) delta * ROOMS_TWCC_DELTA_US;
                received++;
            }

            if (idx < cap) {
                out[idx].seq = (uint16_t) (rooms_twcc_get16(fci) + idx);
                out[idx].status = (uint8_t) sym;
                out[idx].delta = delta;
                out[idx].at_us = sym != ROOMS_TWCC_NOT_RECEIVED ? at : 0;
            }
        }
    }

    /* unsignalled zero padding to 32 bits at most */
    if (len - doff > 3) {
        return -1;
    }

    info->base_seq = rooms_twcc_get16(fci);
    info->status_count = (uint16_t) count;
    info->ref_time = ref;
    info->fb_count = fci[7];
    info->received = received;

    return (int) count;
}


int
rooms_twcc_parse_packet(const uint8_t *pkt, size_t len,
    rooms_twcc_info_t *info, rooms_twcc_status_t *out, size_t cap)
{
    size_t  body;
    int     rc;

    if (len < 12 || len % 4 != 0 || (pkt[0] >> 6) != 2
        || (pkt[0] & 0x1f) != ROOMS_RTCP_FMT_TWCC
        || pkt[1] != ROOMS_RTCP_RTPFB
        || 4 * ((size_t) rooms_twcc_get16(pkt + 2) + 1) != len)
    {
        return -1;
    }

    body = len;

    if (pkt[0] & 0x20) {
        if (pkt[len - 1] == 0 || pkt[len - 1] > len - 12) {
            return -1;
        }

        body -= pkt[len - 1];
    }

    rc = rooms_twcc_parse_fci(pkt + 12, body - 12, info, out, cap);

    if (rc < 0) {
        return -1;
    }

    info->sender_ssrc = ((uint32_t) pkt[4] << 24) | ((uint32_t) pkt[5] << 16)
                        | ((uint32_t) pkt[6] << 8) | pkt[7];
    info->media_ssrc = ((uint32_t) pkt[8] << 24) | ((uint32_t) pkt[9] << 16)
                       | ((uint32_t) pkt[10] << 8) | pkt[11];

    return rc;
}
