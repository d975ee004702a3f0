/*
 * test_frame.c: RFC 4571 framing of ICE over TCP (worker/frame.*).
 *
 * Covers: a stream of several packets split at every byte offset (and
 * fed one byte at a time) gives the same packets, whole and in order;
 * a zero length, and a length over ROOMS_FRAME_MAX, end the stream;
 * a packet whose peer never finishes it is never handed out (partial);
 * the largest packet passes; the output queue puts the length in front,
 * wraps around its end, takes a packet whole or not at all when full,
 * and refuses empty and over-long packets.
 */

#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "tap.h"


/* three packets of 1, 300 and ROOMS_FRAME_MAX bytes, framed */
static size_t
test_stream(uint8_t *s, size_t *lens)
{
    size_t  i, k, n, off;

    lens[0] = 1;
    lens[1] = 300;
    lens[2] = ROOMS_FRAME_MAX;
    off = 0;

    for (k = 0; k < 3; k++) {
        n = lens[k];
        s[off++] = (uint8_t) (n >> 8);
        s[off++] = (uint8_t) n;

        for (i = 0; i < n; i++) {
            s[off++] = (uint8_t) (k * 31 + i);
        }
    }

    return off;
}


/* feeds in[0..len) in one call series: packets into got, or -1 */
static int
test_feed(rooms_frame_in_t *f, const uint8_t *in, size_t len,
    uint8_t got[][ROOMS_FRAME_MAX], size_t *got_len, int *ngot)
{
    int             rc;
    size_t          off, used, plen;
    const uint8_t  *pkt;

    for (off = 0; off < len; off += used) {
        rc = rooms_frame_take(f, in + off, len - off, &used, &pkt, &plen);

        if (rc < 0) {
            return -1;
        }

        if (used == 0 && rc == 0) {
            return -2;                      /* no progress: a bug */
        }

        if (rc == 1) {
            memcpy(got[*ngot], pkt, plen);
            got_len[(*ngot)++] = plen;
        }
    }

    return 0;
}


static int
test_same(uint8_t got[][ROOMS_FRAME_MAX], const size_t *got_len, int ngot,
    const uint8_t *stream, const size_t *lens)
{
    int     k;
    size_t  off;

    if (ngot != 3) {
        return 0;
    }

    off = 0;

    for (k = 0; k < 3; k++) {
        off += 2;

        if (got_len[k] != lens[k] || memcmp(got[k], stream + off, lens[k]))
        {
            return 0;
        }

        off += lens[k];
    }

    return 1;
}


static void
test_splits(void)
{
    int               ngot, bad;
    size_t            len, cut, i, lens[3], got_len[3];
    rooms_frame_in_t  f;

    static uint8_t  stream[3 * (2 + ROOMS_FRAME_MAX)];
    static uint8_t  got[3][ROOMS_FRAME_MAX];

    len = test_stream(stream, lens);

    bad = 0;

    for (cut = 0; cut <= len; cut++) {
        rooms_frame_in_init(&f);
        ngot = 0;

        if (test_feed(&f, stream, cut, got, got_len, &ngot) != 0
            || test_feed(&f, stream + cut, len - cut, got, got_len, &ngot)
               != 0
            || !test_same(got, got_len, ngot, stream, lens)
            || rooms_frame_partial(&f))
        {
            bad++;
        }
    }

    is_int(bad, 0, "split in two at each of %zu offsets: the same three "
           "packets, whole and in order", len + 1);

    rooms_frame_in_init(&f);
    ngot = 0;
    bad = 0;

    for (i = 0; i < len; i++) {
        if (test_feed(&f, stream + i, 1, got, got_len, &ngot) != 0) {
            bad++;
        }

        /* a packet is out exactly when its last byte went in */
        if (i == 2 && ngot != 1) {
            bad++;
        }
    }

    ok(bad == 0 && test_same(got, got_len, ngot, stream, lens),
       "one byte at a time: the same three packets");
}


static void
test_bad(void)
{
    int               rc;
    size_t            used, plen;
    uint8_t           in[8];
    const uint8_t    *pkt;
    rooms_frame_in_t  f;

    rooms_frame_in_init(&f);
    in[0] = 0;
    in[1] = 0;
    in[2] = 0x16;
    rc = rooms_frame_take(&f, in, 3, &used, &pkt, &plen);
    is_int(rc, -1, "a zero length ends the stream");

    rooms_frame_in_init(&f);
    in[0] = (uint8_t) ((ROOMS_FRAME_MAX + 1) >> 8);
    in[1] = (uint8_t) (ROOMS_FRAME_MAX + 1);
    rc = rooms_frame_take(&f, in, 2, &used, &pkt, &plen);
    is_int(rc, -1, "a length over ROOMS_FRAME_MAX ends the stream");

    rooms_frame_in_init(&f);
    in[0] = 0xff;
    rc = rooms_frame_take(&f, in, 1, &used, &pkt, &plen);
    ok(rc == 0 && used == 1, "half a length prefix: nothing yet");
    in[0] = 0xff;
    rc = rooms_frame_take(&f, in, 1, &used, &pkt, &plen);
    is_int(rc, -1, "65535 completed across two reads ends it too");

    /* a peer that never finishes its packet: nothing ever comes out */
    rooms_frame_in_init(&f);
    in[0] = 0;
    in[1] = 100;
    memset(in + 2, 0x80, 6);
    rc = rooms_frame_take(&f, in, 8, &used, &pkt, &plen);
    ok(rc == 0 && used == 8 && rooms_frame_partial(&f),
       "6 bytes of a 100-byte packet: none handed out, partial");
    ok(!rooms_frame_partial(&(rooms_frame_in_t) { .have = 0 }),
       "an empty reader is not partial");
}


static void
test_out(void)
{
    int                 fails;
    size_t              n, i, total;
    uint8_t             pkt[1000];
    const uint8_t      *p;

    static rooms_frame_out_t  o;
    static uint8_t            all[2 * ROOMS_FRAME_OUT_CAP];

    rooms_frame_out_init(&o);
    memset(pkt, 0xab, sizeof(pkt));

    is_int(rooms_frame_put(&o, pkt, 0), -1, "an empty packet is refused");
    is_int(rooms_frame_put(&o, pkt, 0x10000), -1, "over 65535 is refused");
    is_int(rooms_frame_put(&o, pkt, 3), 0, "a packet is queued");
    n = rooms_frame_peek(&o, &p);
    ok(n == 5 && p[0] == 0 && p[1] == 3 && p[2] == 0xab,
       "with its length in front");
    rooms_frame_done(&o, 5);
    is_int((int) rooms_frame_queued(&o), 0, "and written");

    /* fill it: packets of 1000 (1002 with the prefix) until refused */
    fails = 0;
    i = 0;

    while (rooms_frame_put(&o, pkt, sizeof(pkt)) == 0) {
        i++;
    }

    ok(i == ROOMS_FRAME_OUT_CAP / 1002
       && rooms_frame_queued(&o) == i * 1002,
       "a full queue takes %zu packets, whole, and refuses the next", i);

    /* write half, refill: the queue wraps, the bytes stay in order */
    rooms_frame_done(&o, ROOMS_FRAME_OUT_CAP / 2 + 1);
    total = 0;

    for (i = 0; i < 2; i++) {
        pkt[0] = (uint8_t) (0x10 + i);
        if (rooms_frame_put(&o, pkt, sizeof(pkt)) != 0) {
            fails++;
        }
    }

    while ((n = rooms_frame_peek(&o, &p)) > 0) {
        memcpy(all + total, p, n);
        total += n;
        rooms_frame_done(&o, n);
    }

    /* 1000 is 0x03e8 */
    ok(fails == 0 && total > 2004
       && all[total - 2004] == 0x03 && all[total - 2003] == 0xe8
       && all[total - 2002] == 0x10 && all[total - 1002] == 0x03
       && all[total - 1001] == 0xe8 && all[total - 1000] == 0x11,
       "after wrapping, the last two packets come out whole, in order");
}


int
main(void)
{
    test_splits();
    test_bad();
    test_out();

    return done_testing();
}
