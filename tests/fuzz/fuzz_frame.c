/*
 * fuzz_frame.c: libFuzzer target for RFC 4571 framing (worker/frame.*),
 * what ICE over TCP reads from any peer.
 *
 * The input's first byte picks the size of the reads (1 to 256 bytes);
 * the rest is the byte stream.  It is fed twice: in those reads and in
 * one.  Properties: every packet handed out is 1 to ROOMS_FRAME_MAX
 * bytes; every call takes at least a byte or hands out a packet; both
 * feedings give the same packets and end the same way (a bad stream is
 * bad however it is split).  Each packet is then queued for output and
 * drained in reads of the same size: the bytes out are the framed
 * packets, in order.
 *
 * Build and run: `make fuzz` (FUZZ_SECONDS each target).  Without
 * libFuzzer (gcc), -DROOMS_FUZZ_MAIN gives a main() that runs each file
 * named on the command line once.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"


/* the packets of one feeding, as a byte string of (len, bytes)... */
typedef struct {
    uint8_t   bytes[1 << 17];
    size_t    len;
    int       bad;
} fuzz_out_t;


static rooms_frame_in_t   in;
static rooms_frame_out_t  q;
static fuzz_out_t         a, b;


static void
fuzz_feed(const uint8_t *data, size_t size, size_t step, fuzz_out_t *o)
{
    int             rc;
    size_t          off, end, used, plen;
    const uint8_t  *pkt;

    rooms_frame_in_init(&in);
    o->len = 0;
    o->bad = 0;

    for (off = 0; off < size && !o->bad; ) {
        end = off + step < size ? off + step : size;

        while (off < end) {
            rc = rooms_frame_take(&in, data + off, end - off, &used, &pkt,
                                  &plen);

            if (used > end - off || (rc == 0 && used == 0)) {
                abort();
            }

            off += used;

            if (rc < 0) {
                o->bad = 1;
                break;
            }

            if (rc == 1) {
                if (plen == 0 || plen > ROOMS_FRAME_MAX
                    || o->len + 2 + plen > sizeof(o->bytes))
                {
                    abort();
                }

                o->bytes[o->len++] = (uint8_t) (plen >> 8);
                o->bytes[o->len++] = (uint8_t) plen;
                memcpy(o->bytes + o->len, pkt, plen);
                o->len += plen;
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          step, off, n, plen, got;
    const uint8_t  *p;

    static uint8_t  drained[1 << 17];

    if (size < 1 || size > 65536) {
        return 0;
    }

    step = (size_t) data[0] + 1;
    data++;
    size--;

    fuzz_feed(data, size, step, &a);
    fuzz_feed(data, size, size > 0 ? size : 1, &b);

    if (a.bad != b.bad || a.len != b.len || memcmp(a.bytes, b.bytes, a.len))
    {
        abort();
    }

    /* what was read, queued again and drained: the same bytes */
    rooms_frame_out_init(&q);
    got = 0;

    for (off = 0; off < a.len; off += 2 + plen) {
        plen = ((size_t) a.bytes[off] << 8) | a.bytes[off + 1];

        while (rooms_frame_put(&q, a.bytes + off + 2, plen) != 0) {
            n = rooms_frame_peek(&q, &p);

            if (n == 0) {
                abort();                    /* empty, yet it refused */
            }

            n = n < step ? n : step;
            memcpy(drained + got, p, n);
            got += n;
            rooms_frame_done(&q, n);
        }
    }

    while ((n = rooms_frame_peek(&q, &p)) > 0) {
        memcpy(drained + got, p, n);
        got += n;
        rooms_frame_done(&q, n);
    }

    if (got != a.len || memcmp(drained, a.bytes, got) != 0) {
        abort();
    }

    return 0;
}


#include "fuzz_main.h"
