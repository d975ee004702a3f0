/*
 * frame.c: RFC 4571 framing (see frame.h).
 *
 * Owns: the framing state of one connection, each way.
 * Must never: read past what it is given, or keep a byte it was not
 * handed.
 * May not: include <sys/socket.h>, include <sys/epoll.h>, include sfu.h, call malloc, call calloc, call recv, call send, call read, call write, call clock_gettime
 */

#include <string.h>

#include "frame.h"


void
rooms_frame_in_init(rooms_frame_in_t *f)
{
    f->have = 0;
    f->ready = 0;
}


int
rooms_frame_take(rooms_frame_in_t *f, const uint8_t *in, size_t len,
    size_t *used, const uint8_t **pkt, size_t *pkt_len)
{
    size_t  want, n, took;

    if (f->ready) {
        /* the packet handed out last time is gone now */
        f->have = 0;
        f->ready = 0;
    }

    took = 0;

    /* the length prefix, one byte at a time if it comes so */
    while (f->have < 2 && took < len) {
        f->buf[f->have++] = in[took++];
    }

    if (f->have < 2) {
        *used = took;
        return 0;
    }

    want = ((size_t) f->buf[0] << 8) | f->buf[1];

    if (want == 0 || want > ROOMS_FRAME_MAX) {
        *used = took;
        return -1;
    }

    n = 2 + want - f->have;

    if (n > len - took) {
        n = len - took;
    }

    memcpy(f->buf + f->have, in + took, n);
    f->have += n;
    took += n;
    *used = took;

    if (f->have < 2 + want) {
        return 0;
    }

    f->ready = 1;
    *pkt = f->buf + 2;
    *pkt_len = want;

    return 1;
}


int
rooms_frame_partial(const rooms_frame_in_t *f)
{
    return f->have > 0 && !f->ready;
}


void
rooms_frame_out_init(rooms_frame_out_t *o)
{
    o->head = 0;
    o->len = 0;
}


/* copies src[0..n) to the queue's tail, wrapping */
static void
rooms_frame_copy(rooms_frame_out_t *o, const uint8_t *src, size_t n)
{
    size_t  tail, first;

    tail = (o->head + o->len) % ROOMS_FRAME_OUT_CAP;
    first = ROOMS_FRAME_OUT_CAP - tail;

    if (first > n) {
        first = n;
    }

    memcpy(o->buf + tail, src, first);
    memcpy(o->buf, src + first, n - first);
    o->len += n;
}


int
rooms_frame_put(rooms_frame_out_t *o, const uint8_t *pkt, size_t len)
{
    uint8_t  prefix[2];

    if (len == 0 || len > 0xffff
        || len + 2 > ROOMS_FRAME_OUT_CAP - o->len)
    {
        return -1;
    }

    prefix[0] = (uint8_t) (len >> 8);
    prefix[1] = (uint8_t) len;

    rooms_frame_copy(o, prefix, 2);
    rooms_frame_copy(o, pkt, len);

    return 0;
}


size_t
rooms_frame_peek(const rooms_frame_out_t *o, const uint8_t **p)
{
    size_t  n;

    n = ROOMS_FRAME_OUT_CAP - o->head;
    *p = o->buf + o->head;

    return n < o->len ? n : o->len;
}


void
rooms_frame_done(rooms_frame_out_t *o, size_t n)
{
    if (n > o->len) {
        n = o->len;
    }

    o->head = (o->head + n) % ROOMS_FRAME_OUT_CAP;
    o->len -= n;

    if (o->len == 0) {
        o->head = 0;
    }
}


size_t
rooms_frame_queued(const rooms_frame_out_t *o)
{
    return o->len;
}
