/*
 * test_twcc.c: the transport-wide-cc feedback core (worker/twcc.*).
 *
 * Covers: exact bytes, worked out by hand from the draft's format, of a
 * run-length feedback (seqs 1..3), a two-bit status vector with a loss
 * and a large delta, a one-bit status vector with two losses, a negative
 * (reordered) delta; the 16-bit wrap; a gap too big for a 16-bit delta
 * splitting the feedback (and the largest delta that still fits); the
 * cadence and timeouts on a virtual clock; duplicates; a capacity too
 * small, and just enough for a part; splitting at 1200 bytes; the window
 * bounds (too old, too far ahead, resync, a jump that gives up statuses,
 * a late packet reported again); the parser refusing truncated and
 * malformed FCIs and packets; round trips of reproducible random arrival
 * patterns (losses, reordering, jitter, gaps) through build and parse.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp.h"
#include "twcc.h"
#include "tap.h"


#define SENDER   0x01020304
#define MEDIA    0x0a0b0c0d


/* what the feedback said last about each sequence number */
static int       rep_status[65536];       /* -1: never reported */
static int64_t   rep_at[65536];
static unsigned  rep_bad;                 /* packets that broke a rule */
static unsigned  rep_packets;
static unsigned  rep_fb_count;            /* expected feedback count */
static size_t    rep_max_len;

static rooms_twcc_status_t  st[65536];


static void
rep_reset(void)
{
    size_t  i;

    for (i = 0; i < 65536; i++) {
        rep_status[i] = -1;
        rep_at[i] = 0;
    }

    rep_bad = 0;
    rep_packets = 0;
    rep_fb_count = 0;
    rep_max_len = 0;
}


/* polls t at now until nothing is due, recording every packet parsed */
static unsigned
drain(rooms_twcc_t *t, int64_t now, size_t cap)
{
    int                n, i, len;
    uint8_t            pkt[1500];
    unsigned           packets;
    rooms_twcc_info_t  info;

    packets = 0;

    while ((len = rooms_twcc_poll(t, now, pkt, cap)) > 0) {
        packets++;
        rep_packets++;

        if ((size_t) len > rep_max_len) {
            rep_max_len = (size_t) len;
        }

        if (len > ROOMS_TWCC_MAX_LEN || (size_t) len > cap || len % 4 != 0) {
            rep_bad++;
        }

        n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 65536);

        if (n <= 0 || info.fb_count != (uint8_t) rep_fb_count
            || info.sender_ssrc != SENDER || info.media_ssrc != MEDIA)
        {
            rep_bad++;
            diag("bad packet: parse %d, fb count %u", n, info.fb_count);
            continue;
        }

        rep_fb_count++;

        for (i = 0; i < n; i++) {
            rep_status[st[i].seq] = st[i].status;
            rep_at[st[i].seq] = st[i].at_us;
        }

        if (packets > 10000) {
            rep_bad++;
            break;
        }
    }

    if (len < 0) {
        rep_bad++;
    }

    return packets;
}


static int
is_bytes(const uint8_t *got, size_t got_len, const uint8_t *want,
    size_t want_len, const char *name)
{
    int     rc;
    char    buf[4096];
    size_t  i, n;

    rc = ok(got_len == want_len && memcmp(got, want, want_len) == 0,
            "%s", name);

    if (!rc) {
        n = (size_t) snprintf(buf, sizeof(buf), "got %zu:", got_len);

        for (i = 0; i < got_len && n < sizeof(buf) - 8; i++) {
            n += (size_t) snprintf(buf + n, sizeof(buf) - n, " %02x",
                                   got[i]);
        }

        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "\nwant %zu:",
                               want_len);

        for (i = 0; i < want_len && n < sizeof(buf) - 8; i++) {
            n += (size_t) snprintf(buf + n, sizeof(buf) - n, " %02x",
                                   want[i]);
        }

        diag("%s", buf);
    }

    return rc;
}


/*
 * Seqs 1, 2, 3 at 129.000, 130.000 and 131.500 ms.  The reference time
 * is floor(129000 / 64000) = 2 (128 ms); the deltas in 250 us ticks are
 * 1000/250 = 4, 4, 1500/250 = 6, all small.  Three "received, small
 * delta" make one run-length chunk: T=0, S=01, length 3 = 0x2003.  20 +
 * 2 + 3 = 25 bytes, padded by 3 to 28 (7 words, length word 6), P set:
 *
 *   af cd 00 06   V=2 P=1 FMT=15, PT=205, length 6
 *   01 02 03 04   sender SSRC
 *   0a 0b 0c 0d   media SSRC
 *   00 01 00 03   base seq 1, status count 3
 *   00 00 02 00   reference time 2, feedback packet count 0
 *   20 03 04 04   run chunk; deltas 4, 4
 *   06 00 00 03   delta 6; padding, its count 3
 */
static void
test_vector_run(void)
{
    int                  len, n;
    uint8_t              pkt[1500];
    rooms_twcc_t         t;
    rooms_twcc_info_t    info;
    static const uint8_t want[] = {
        0xaf, 0xcd, 0x00, 0x06, 0x01, 0x02, 0x03, 0x04,
        0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x01, 0x00, 0x03,
        0x00, 0x00, 0x02, 0x00, 0x20, 0x03, 0x04, 0x04,
        0x06, 0x00, 0x00, 0x03
    };

    rooms_twcc_init(&t, SENDER, MEDIA);
    is_int(rooms_twcc_poll(&t, 0, pkt, sizeof(pkt)), 0,
           "nothing received: nothing to send");

    is_int(rooms_twcc_input(&t, 129000, 1), 1, "seq 1 recorded");
    rooms_twcc_input(&t, 130000, 2);
    rooms_twcc_input(&t, 131500, 3);

    len = rooms_twcc_poll(&t, 131500, pkt, sizeof(pkt));
    is_bytes(pkt, len > 0 ? (size_t) len : 0, want, sizeof(want),
             "seqs 1..3: run-length feedback, byte for byte");

    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 3 && info.base_seq == 1 && info.status_count == 3
       && info.ref_time == 2 && info.fb_count == 0 && info.received == 3
       && info.sender_ssrc == SENDER && info.media_ssrc == MEDIA,
       "parsed back: base 1, 3 statuses, ref 2, fb count 0");
    ok(st[0].seq == 1 && st[1].seq == 2 && st[2].seq == 3
       && st[0].at_us == 129000 && st[1].at_us == 130000
       && st[2].at_us == 131500 && st[2].delta == 6
       && st[2].status == ROOMS_TWCC_SMALL_DELTA,
       "parsed back: the arrival times exactly");

    is_int(rooms_twcc_parse_fci(pkt + 12, (size_t) len - 12 - 3, &info, st,
                                8), 3,
           "the FCI with its padding removed parses too");
    is_int(rooms_twcc_parse_fci(pkt + 12, (size_t) len - 12, &info, st, 8),
           3, "the FCI followed by 3 padding bytes parses too");

    is_int(rooms_twcc_poll(&t, 131500, pkt, sizeof(pkt)), 0,
           "all reported: nothing more");
    is_int(rooms_twcc_timeout(&t), -1, "idle: no timeout");
}


/*
 * Seqs 10, 11, 13, 14 at 256, 257, 258 and 326 ms (12 lost).  Reference
 * 256000 / 64000 = 4 exactly.  Deltas: 0, 4, 4 (from 257 ms: the lost
 * packet has none), then 68 ms = 272 ticks, too big for a byte: large,
 * 0x0110.  Symbols 01 01 00 01 10 in a two-bit vector chunk, the two
 * unused symbols 00: 11 01 01 00 01 10 00 00 = 0xd460.  20 + 2 + 5 =
 * 27 bytes, padded by 1:
 *
 *   af cd 00 06  01 02 03 04  0a 0b 0c 0d
 *   00 0a 00 05   base 10, 5 statuses
 *   00 00 04 00   ref 4, fb count 0
 *   d4 60 00 04   chunk; deltas 0, 4
 *   04 01 10 01   delta 4, delta 0x0110; padding count 1
 */
static void
test_vector_loss(void)
{
    int                  len, n;
    uint8_t              pkt[1500];
    rooms_twcc_t         t;
    rooms_twcc_info_t    info;
    static const uint8_t want[] = {
        0xaf, 0xcd, 0x00, 0x06, 0x01, 0x02, 0x03, 0x04,
        0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x0a, 0x00, 0x05,
        0x00, 0x00, 0x04, 0x00, 0xd4, 0x60, 0x00, 0x04,
        0x04, 0x01, 0x10, 0x01
    };

    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 256000, 10);
    rooms_twcc_input(&t, 257000, 11);
    rooms_twcc_input(&t, 258000, 13);
    rooms_twcc_input(&t, 326000, 14);

    len = rooms_twcc_poll(&t, 326000, pkt, sizeof(pkt));
    is_bytes(pkt, len > 0 ? (size_t) len : 0, want, sizeof(want),
             "a loss and a large delta: two-bit vector, byte for byte");

    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 5 && info.received == 4 && st[2].seq == 12
       && st[2].status == ROOMS_TWCC_NOT_RECEIVED && st[2].delta == 0
       && st[4].status == ROOMS_TWCC_LARGE_DELTA && st[4].delta == 272
       && st[4].at_us == 326000 && st[3].at_us == 258000,
       "parsed back: 12 not received, 14 a large delta at 326 ms");
}


/*
 * Seqs 100..113 but 102 and 105, 1 ms apart from 640 ms (ref 10, exact).
 * Symbols 1 1 0 1 1 0 1 1 1 1 1 1 1 1: fourteen, no large delta, mixed:
 * a one-bit vector, T=1 S=0 then the bits: 10 11011011111111 = 0xb6ff.
 * Deltas: 0, 4, (102 lost) 103 is 2 ms after 101: 8, 4, (105) 8, then 4
 * seven times: 12 bytes.  20 + 2 + 12 = 34, padded by 2 to 36 (length 8):
 *
 *   af cd 00 08  01 02 03 04  0a 0b 0c 0d
 *   00 64 00 0e   base 100, 14 statuses
 *   00 00 0a 00   ref 10, fb count 0
 *   b6 ff 00 04   chunk; deltas 0 4
 *   08 04 08 04   04 04 04 04   04 04 00 02
 */
static void
test_vector_one_bit(void)
{
    int                  len, i;
    uint8_t              pkt[1500];
    rooms_twcc_t         t;
    static const uint8_t want[] = {
        0xaf, 0xcd, 0x00, 0x08, 0x01, 0x02, 0x03, 0x04,
        0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x64, 0x00, 0x0e,
        0x00, 0x00, 0x0a, 0x00, 0xb6, 0xff, 0x00, 0x04,
        0x08, 0x04, 0x08, 0x04, 0x04, 0x04, 0x04, 0x04,
        0x04, 0x04, 0x00, 0x02
    };

    rooms_twcc_init(&t, SENDER, MEDIA);

    for (i = 0; i < 14; i++) {
        if (i != 2 && i != 5) {
            rooms_twcc_input(&t, 640000 + 1000 * i, (uint16_t) (100 + i));
        }
    }

    len = rooms_twcc_poll(&t, 700000, pkt, sizeof(pkt));
    is_bytes(pkt, len > 0 ? (size_t) len : 0, want, sizeof(want),
             "two losses in 14: one-bit vector, byte for byte");
}


/*
 * Seq 21 arrives at 319 ms, then seq 20 at 320 ms.  Reference from seq
 * 20 (the first received in sequence order): 320000 / 64000 = 5.  Deltas
 * 0, then -1 ms = -4 ticks: large (signed), 0xfffc.  Symbols 01 10 in a
 * two-bit vector: 11 01 10 00 00 00 00 00 = 0xd800.  20 + 2 + 3 = 25,
 * padded by 3:
 *
 *   af cd 00 06  01 02 03 04  0a 0b 0c 0d
 *   00 14 00 02   base 20, 2 statuses
 *   00 00 05 00   ref 5, fb count 0
 *   d8 00 00 ff   chunk; delta 0; first byte of -4
 *   fc 00 00 03
 */
static void
test_vector_negative(void)
{
    int                  len, n;
    uint8_t              pkt[1500];
    rooms_twcc_t         t;
    rooms_twcc_info_t    info;
    static const uint8_t want[] = {
        0xaf, 0xcd, 0x00, 0x06, 0x01, 0x02, 0x03, 0x04,
        0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x14, 0x00, 0x02,
        0x00, 0x00, 0x05, 0x00, 0xd8, 0x00, 0x00, 0xff,
        0xfc, 0x00, 0x00, 0x03
    };

    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 319000, 21);
    is_int(rooms_twcc_input(&t, 320000, 20), 1,
           "an older seq in the window is recorded");

    len = rooms_twcc_poll(&t, 320000, pkt, sizeof(pkt));
    is_bytes(pkt, len > 0 ? (size_t) len : 0, want, sizeof(want),
             "reordering: a negative delta, byte for byte");

    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 2 && st[1].delta == -4 && st[1].at_us == 319000
       && st[0].at_us == 320000, "parsed back: seq 21 1 ms before seq 20");
}


/* 65534, 65535, 0, 1: one run across the wrap */
static void
test_wrap(void)
{
    int                len, n;
    uint8_t            pkt[1500];
    rooms_twcc_t       t;
    rooms_twcc_info_t  info;

    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 1000000, 65534);
    rooms_twcc_input(&t, 1001000, 65535);
    rooms_twcc_input(&t, 1002000, 0);
    rooms_twcc_input(&t, 1003000, 1);

    len = rooms_twcc_poll(&t, 1003000, pkt, sizeof(pkt));
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 4 && info.base_seq == 65534 && pkt[20] == 0x20 && pkt[21] == 4,
       "wrap: base 65534, one run of 4");
    ok(st[0].seq == 65534 && st[1].seq == 65535 && st[2].seq == 0
       && st[3].seq == 1 && st[3].at_us == 1003000,
       "wrap: 65534, 65535, 0, 1 all received");

    /* a seq from before the wrap, late: still inside the window */
    rooms_twcc_input(&t, 1004000, 2);
    is_int(rooms_twcc_input(&t, 1005000, 65533), 1,
           "a late 65533 after the wrap is recorded");
    len = rooms_twcc_poll(&t, 1200000, pkt, sizeof(pkt));
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 6 && info.base_seq == 65533 && st[0].at_us == 1005000
       && st[5].seq == 2 && st[5].at_us == 1004000,
       "it is reported from 65533 to 2, the others again");
}


/*
 * Seq 1 at 0, seq 2 at 9 s: 36000 ticks do not fit 16 signed bits.  The
 * first feedback ends after seq 1 (20 + 2 + 1 = 23, padded by 1):
 *
 *   af cd 00 05  01 02 03 04  0a 0b 0c 0d
 *   00 01 00 01   base 1, 1 status
 *   00 00 00 00   ref 0, fb count 0
 *   20 01 00 01   run of 1; delta 0; padding count 1
 *
 * and the next starts at seq 2 with reference 9000000 / 64000 = 140
 * (8.96 s, 0x8c) and a delta of 40 ms = 160 ticks = 0xa0:
 *
 *   af cd 00 05  01 02 03 04  0a 0b 0c 0d
 *   00 02 00 01   00 00 8c 01   20 01 a0 01
 */
static void
test_split_delta(void)
{
    int                  len, n;
    uint8_t              pkt[1500];
    rooms_twcc_t         t;
    rooms_twcc_info_t    info;
    static const uint8_t want1[] = {
        0xaf, 0xcd, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04,
        0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x01, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x00, 0x01
    };
    static const uint8_t want2[] = {
        0xaf, 0xcd, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04,
        0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x02, 0x00, 0x01,
        0x00, 0x00, 0x8c, 0x01, 0x20, 0x01, 0xa0, 0x01
    };

    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 0, 1);
    rooms_twcc_input(&t, 9000000, 2);

    len = rooms_twcc_poll(&t, 9000000, pkt, sizeof(pkt));
    is_bytes(pkt, len > 0 ? (size_t) len : 0, want1, sizeof(want1),
             "9 s gap: the first feedback ends before it");
    is_int(rooms_twcc_timeout(&t), 9000000, "the rest is due at once");
    len = rooms_twcc_poll(&t, 9000000, pkt, sizeof(pkt));
    is_bytes(pkt, len > 0 ? (size_t) len : 0, want2, sizeof(want2),
             "9 s gap: the next starts there with a new reference time");
    is_int(rooms_twcc_poll(&t, 9000000, pkt, sizeof(pkt)), 0,
           "then nothing");

    /* backwards: seq 3 at 20 s, seq 4 at 11 s */
    rooms_twcc_input(&t, 20000000, 3);
    rooms_twcc_input(&t, 11000000, 4);
    rep_reset();
    rep_fb_count = t.fb_count;
    ok(drain(&t, 20000000, sizeof(pkt)) == 2 && rep_bad == 0
       && rep_at[3] == 20000000 && rep_at[4] == 11000000,
       "a -9 s delta splits too: two packets");

    /* the largest delta that fits: 32767 ticks = 8.19175 s */
    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 0, 1);
    rooms_twcc_input(&t, 8191750, 2);
    len = rooms_twcc_poll(&t, 8191750, pkt, sizeof(pkt));
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 2 && st[1].delta == 32767 && st[1].at_us == 8191750
       && rooms_twcc_timeout(&t) == -1,
       "a delta of 32767 ticks stays in one feedback");

    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 8192000, 1);
    rooms_twcc_input(&t, 0, 2);
    len = rooms_twcc_poll(&t, 8192000, pkt, sizeof(pkt));
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 2 && st[1].delta == -32768 && st[1].at_us == 0,
       "a delta of -32768 ticks stays in one feedback");
}


static void
test_cadence(void)
{
    int           i;
    uint8_t       pkt[1500];
    rooms_twcc_t  t;

    rooms_twcc_init(&t, SENDER, MEDIA);
    rep_reset();

    is_int(rooms_twcc_timeout(&t), -1, "new: no timeout");

    rooms_twcc_input(&t, 1000000, 0);
    is_int(rooms_twcc_timeout(&t), 1000000,
           "the first packet is due at once");
    is_int(drain(&t, 1000000, sizeof(pkt)), 1, "one feedback for it");
    is_int(rooms_twcc_timeout(&t), -1, "then nothing is due");

    for (i = 1; i <= 9; i++) {
        rooms_twcc_input(&t, 1000000 + 10000 * i, (uint16_t) i);
    }

    is_int(rooms_twcc_timeout(&t), 1100000,
           "packets 10 ms apart: due 100 ms after the last feedback");
    is_int(rooms_twcc_poll(&t, 1099999, pkt, sizeof(pkt)), 0,
           "not before");
    is_int(drain(&t, 1100000, sizeof(pkt)), 1, "at 1.1 s: one feedback");
    ok(rep_status[9] == ROOMS_TWCC_SMALL_DELTA && rep_at[9] == 1090000,
       "it covers seq 9");

    rooms_twcc_input(&t, 1150000, 10);
    is_int(rooms_twcc_timeout(&t), 1200000, "the next at 1.2 s");

    /* idle for a while: the next first packet goes at once */
    is_int(drain(&t, 1200000, sizeof(pkt)), 1, "seq 10 at 1.2 s");
    rooms_twcc_input(&t, 5000000, 11);
    is_int(rooms_twcc_timeout(&t), 5000000, "after 3.8 s idle: at once");
    drain(&t, 5000000, sizeof(pkt));

    /* a burst: 100 waiting statuses are due before the interval */
    for (i = 0; i < 99; i++) {
        rooms_twcc_input(&t, 5001000 + 50 * i, (uint16_t) (12 + i));
    }

    is_int(rooms_twcc_timeout(&t), 5100000, "99 waiting: at the interval");
    rooms_twcc_input(&t, 5006000, 111);
    ok(rooms_twcc_timeout(&t) <= 5006000, "the 100th: due now (%lld)",
       (long long) rooms_twcc_timeout(&t));
    is_int(drain(&t, 5006000, sizeof(pkt)), 1, "one feedback for 100");
    is_int(rep_status[111], ROOMS_TWCC_SMALL_DELTA, "up to seq 111");

    /* interval changed by the caller */
    t.interval_us = 50000;
    rooms_twcc_input(&t, 5010000, 112);
    is_int(rooms_twcc_timeout(&t), 5056000, "a 50 ms interval");
    is_int(rep_bad, 0, "every feedback parsed, counted in order");
    is_int(t.feedbacks, rep_packets, "feedbacks counted");
}


static void
test_duplicate(void)
{
    int                len, n;
    uint8_t            pkt[1500];
    rooms_twcc_t       t;
    rooms_twcc_info_t  info;

    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 64000, 5);
    is_int(rooms_twcc_input(&t, 70000, 5), 0, "a duplicate is ignored");
    rooms_twcc_input(&t, 65000, 6);
    is_int(rooms_twcc_input(&t, 66000, 5), 0, "again, not the newest");
    ok(t.duplicates == 2 && t.recorded == 2, "2 recorded, 2 duplicates");

    len = rooms_twcc_poll(&t, 70000, pkt, sizeof(pkt));
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 2 && st[0].at_us == 64000 && st[1].at_us == 65000,
       "reported once each, at the first arrival");

    is_int(rooms_twcc_input(&t, 80000, 5), 0,
           "a duplicate after it was reported is still one");
    is_int(rooms_twcc_timeout(&t), -1, "and makes no feedback due");
}


static void
test_cap(void)
{
    int                len, n;
    uint8_t            pkt[1500];
    rooms_twcc_t       t;
    rooms_twcc_info_t  info;

    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 64000, 1);
    rooms_twcc_input(&t, 65000, 2);
    rooms_twcc_input(&t, 66000, 3);

    memset(pkt, 0xee, sizeof(pkt));
    is_int(rooms_twcc_poll(&t, 70000, pkt, ROOMS_TWCC_MIN_LEN - 1), -1,
           "cap 23: too small");
    ok(pkt[0] == 0xee && t.fb_count == 0 && t.next == 1
       && rooms_twcc_timeout(&t) == 64000, "and nothing changed");

    /* 24 bytes: seq 1 and 2 (20 + 2 + 2 = 24); 3 would make 28 */
    len = rooms_twcc_poll(&t, 70000, pkt, ROOMS_TWCC_MIN_LEN);
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(len == 24 && n == 2 && pkt[24] == 0xee && !(pkt[0] & 0x20),
       "cap 24: two statuses, no padding needed, no byte past it");
    len = rooms_twcc_poll(&t, 70000, pkt, ROOMS_TWCC_MIN_LEN);
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(len == 24 && n == 1 && info.base_seq == 3 && info.fb_count == 1
       && st[0].at_us == 66000, "then the third");
    is_int(rooms_twcc_poll(&t, 70000, pkt, 0), 0,
           "nothing due: 0 even with no room");
}


/* 1000 packets 75 ms apart: every delta large; packets stay <= 1200 */
static void
test_split_size(void)
{
    int           i, bad, small;
    uint8_t       pkt[1500];
    unsigned      packets;
    rooms_twcc_t  t;

    rooms_twcc_init(&t, SENDER, MEDIA);
    rep_reset();

    for (i = 0; i < 1000; i++) {
        rooms_twcc_input(&t, 75000 * (int64_t) i, (uint16_t) (60000 + i));
    }

    packets = drain(&t, 75000000, sizeof(pkt));
    bad = 0;
    small = 0;

    for (i = 0; i < 1000; i++) {
        /* the first of each feedback is within 64 ms of its reference */
        small += rep_status[(uint16_t) (60000 + i)] == ROOMS_TWCC_SMALL_DELTA;

        if (rep_status[(uint16_t) (60000 + i)] <= 0
            || rep_at[(uint16_t) (60000 + i)] != 75000 * (int64_t) i)
        {
            bad++;
        }
    }

    ok(packets == 2 && small == 2 && rep_max_len <= ROOMS_TWCC_MAX_LEN
       && rep_bad == 0,
       "1000 large deltas: %u packets of at most %zu bytes", packets,
       rep_max_len);
    is_int(bad, 0, "all 1000 reported with their times");

    /* a small cap splits the same way, just more often */
    rooms_twcc_init(&t, SENDER, MEDIA);
    rep_reset();

    for (i = 0; i < 300; i++) {
        rooms_twcc_input(&t, 1000 * (int64_t) i, (uint16_t) i);
    }

    packets = drain(&t, 300000, 100);
    ok(packets > 1 && rep_max_len <= 100 && rep_bad == 0
       && rep_status[299] == ROOMS_TWCC_SMALL_DELTA,
       "cap 100: %u packets, all under it", packets);
}


static void
test_window(void)
{
    int                len, n, i;
    uint8_t            pkt[1500];
    rooms_twcc_t       t;
    rooms_twcc_info_t  info;

    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 64000, 1000);

    is_int(rooms_twcc_input(&t, 64000, (uint16_t) (1000 - 1025)), 0,
           "1025 behind the highest: dropped");
    is_int(rooms_twcc_input(&t, 64000, 1000 + 1025), 0,
           "1025 ahead of the highest: dropped");
    is_int(t.dropped, 2, "counted");

    /* a jump of exactly the window keeps it, gives up seq 1000 */
    is_int(rooms_twcc_input(&t, 65000, 1000 + 1024), 1,
           "1024 ahead: recorded");
    is_int(t.abandoned, 1, "seq 1000 given up unreported");
    len = rooms_twcc_poll(&t, 65000, pkt, sizeof(pkt));
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 1024);
    ok(n == 1024 && info.base_seq == 1001 && info.received == 1
       && st[1023].seq == 2024 && st[1023].at_us == 65000,
       "the feedback covers 1001..2024: 1023 lost, one received");
    ok(len == 28 && pkt[20] == 0x03 && pkt[21] == 0xff && pkt[22] == 0x20
       && pkt[23] == 0x01, "1023 lost in one run chunk (0x03ff), then 1");

    /* just out of the window, then the oldest in it */
    is_int(rooms_twcc_input(&t, 66000, 2024 - 1024), 0,
           "seq 1000, a window behind the highest, arriving late: dropped");
    is_int(rooms_twcc_input(&t, 66000, 2024 - 1023), 1,
           "seq 1001, reported lost, arriving late: recorded");
    is_int(t.late, 1, "counted late");

    /* a late packet in the window is reported again from there */
    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 64000, 1);
    rooms_twcc_input(&t, 65000, 2);
    rooms_twcc_input(&t, 66000, 4);
    rep_reset();
    drain(&t, 66000, sizeof(pkt));
    ok(rep_bad == 0 && rep_status[3] == ROOMS_TWCC_NOT_RECEIVED,
       "seq 3 reported lost");
    is_int(rooms_twcc_input(&t, 70000, 3), 1, "seq 3 after its feedback");
    is_int(t.late, 1, "counted late");
    len = rooms_twcc_poll(&t, 200000, pkt, sizeof(pkt));
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 2 && info.base_seq == 3 && st[0].at_us == 70000
       && st[1].at_us == 66000 && st[1].delta == -16,
       "reported from 3: 3 received, 4 again");

    /* a restart elsewhere: 16 in a row move the window */
    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 64000, 1);

    for (i = 0; i < ROOMS_TWCC_RESYNC - 1; i++) {
        rooms_twcc_input(&t, 65000 + i, (uint16_t) (30000 + i));
    }

    ok(t.resyncs == 0 && t.dropped == ROOMS_TWCC_RESYNC - 1,
       "15 far away: dropped");
    is_int(rooms_twcc_input(&t, 66000, 30000 + ROOMS_TWCC_RESYNC - 1), 1,
           "the 16th restarts the window there");
    ok(t.resyncs == 1 && t.abandoned == 1, "seq 1 was given up");
    rooms_twcc_input(&t, 67000, 30000 + ROOMS_TWCC_RESYNC);
    len = rooms_twcc_poll(&t, 67000, pkt, sizeof(pkt));
    n = rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8);
    ok(n == 2 && info.base_seq == 30000 + ROOMS_TWCC_RESYNC - 1,
       "feedback goes on from the new place");

    /* one stray between good packets never resyncs */
    rooms_twcc_init(&t, SENDER, MEDIA);

    for (i = 0; i < 100; i++) {
        rooms_twcc_input(&t, 64000 + i, (uint16_t) i);
        rooms_twcc_input(&t, 64000 + i, 40000);
    }

    ok(t.resyncs == 0 && t.dropped == 100 && t.recorded == 100,
       "100 strays among 100 good packets: all dropped, no resync");
}


/* malformed FCIs and packets: refused, without reading past them */
static void
test_parse_bad(void)
{
    int                len, rc;
    size_t             i, fci_len;
    uint8_t            pkt[64], f[64], *copy;
    unsigned           bad;
    rooms_twcc_t       t;
    rooms_twcc_info_t  info;

    rooms_twcc_init(&t, SENDER, MEDIA);
    rooms_twcc_input(&t, 256000, 10);
    rooms_twcc_input(&t, 257000, 11);
    rooms_twcc_input(&t, 258000, 13);
    rooms_twcc_input(&t, 326000, 14);
    len = rooms_twcc_poll(&t, 326000, pkt, sizeof(pkt));

    /* the FCI of test_vector_loss(): 8 + 2 + 5 = 15 bytes, then padding */
    fci_len = (size_t) len - 12;
    bad = 0;

    for (i = 0; i <= fci_len; i++) {
        /* exactly sized copies, so a sanitizer sees any overread */
        copy = malloc(i ? i : 1);
        memcpy(copy, pkt + 12, i);
        rc = rooms_twcc_parse_fci(copy, i, &info, st, 8);

        if ((i < 15 && rc != -1) || (i >= 15 && rc != 5)) {
            bad++;
            diag("fci of %zu bytes: %d", i, rc);
        }

        free(copy);
    }

    is_int(bad, 0, "every cut short of the deltas is refused");

    memcpy(f, pkt + 12, 15);
    memset(f + 15, 0, 4);
    is_int(rooms_twcc_parse_fci(f, 19, &info, st, 8), -1,
           "4 bytes after the deltas are refused");

    /* status count 0 */
    memcpy(f, pkt + 12, 15);
    f[2] = 0;
    f[3] = 0;
    is_int(rooms_twcc_parse_fci(f, 15, &info, st, 8), -1,
           "a status count of 0 is refused");

    /* a run of the reserved symbol, and an empty run */
    memcpy(f, "\x00\x01\x00\x02\x00\x00\x00\x00\x60\x02\x00\x00", 12);
    is_int(rooms_twcc_parse_fci(f, 12, &info, st, 8), -1,
           "a run of symbol 11 is refused");
    memcpy(f, "\x00\x01\x00\x02\x00\x00\x00\x00\x20\x00\x00\x00", 12);
    is_int(rooms_twcc_parse_fci(f, 12, &info, st, 8), -1,
           "an empty run is refused");

    /* two-bit vector: 01 11 counted, then 01 01 00 11 uncounted */
    memcpy(f, "\x00\x01\x00\x02\x00\x00\x00\x00\xdc\x00\x05\x00", 12);
    is_int(rooms_twcc_parse_fci(f, 12, &info, st, 8), -1,
           "symbol 11 among the counted statuses is refused");
    memcpy(f, "\x00\x01\x00\x02\x00\x00\x00\x00\xd4\x03\x05\x06", 12);
    rc = rooms_twcc_parse_fci(f, 12, &info, st, 8);
    ok(rc == 2 && st[1].at_us == 11 * 250, "past the count it is ignored");

    /* a run longer than the count covers only the count */
    memcpy(f, "\x00\x01\x00\x02\x00\x00\x00\x00\x20\x09\x05\x06", 12);
    rc = rooms_twcc_parse_fci(f, 12, &info, st, 8);
    ok(rc == 2 && info.received == 2, "a run of 9 for 2 statuses: 2");

    /* a chunk missing */
    memcpy(f, "\x00\x01\x00\x10\x00\x00\x00\x00\x20\x09", 10);
    is_int(rooms_twcc_parse_fci(f, 10, &info, st, 8), -1,
           "chunks short of the count are refused");

    /* a large count, a small cap: checked whole, cap entries written */
    memcpy(f, "\x00\x01\x1f\xff\xff\xff\xff\x00\x1f\xff\x00\x00", 12);
    st[2].seq = 777;
    rc = rooms_twcc_parse_fci(f, 12, &info, st, 2);
    ok(rc == 8191 && info.received == 0 && info.ref_time == -1
       && st[1].seq == 2 && st[2].seq == 777,
       "8191 lost, ref -1: count 8191, only 2 written");
    is_int(rooms_twcc_parse_fci(f, 12, &info, NULL, 0), 8191,
           "cap 0 and no array: checks only");

    /* whole packets */
    ok(rooms_twcc_parse_packet(pkt, (size_t) len, &info, st, 8) == 5,
       "the packet parses");

    memcpy(f, pkt, (size_t) len);
    f[1] = ROOMS_RTCP_PSFB;
    is_int(rooms_twcc_parse_packet(f, (size_t) len, &info, st, 8), -1,
           "PSFB is refused");
    memcpy(f, pkt, (size_t) len);
    f[0] = (uint8_t) ((f[0] & 0xe0) | ROOMS_RTCP_FMT_NACK);
    is_int(rooms_twcc_parse_packet(f, (size_t) len, &info, st, 8), -1,
           "a NACK is refused");
    memcpy(f, pkt, (size_t) len);
    f[0] = (uint8_t) (f[0] & 0x3f);
    is_int(rooms_twcc_parse_packet(f, (size_t) len, &info, st, 8), -1,
           "V=0 is refused");
    memcpy(f, pkt, (size_t) len);
    f[3]++;
    is_int(rooms_twcc_parse_packet(f, (size_t) len, &info, st, 8), -1,
           "a length word past the packet is refused");
    is_int(rooms_twcc_parse_packet(pkt, (size_t) len - 4, &info, st, 8), -1,
           "a packet shorter than its length word is refused");
    memcpy(f, pkt, (size_t) len);
    f[len - 1] = 0;
    is_int(rooms_twcc_parse_packet(f, (size_t) len, &info, st, 8), -1,
           "a padding count of 0 is refused");
    f[len - 1] = (uint8_t) (len - 11);
    is_int(rooms_twcc_parse_packet(f, (size_t) len, &info, st, 8), -1,
           "a padding count past the body is refused");
    f[len - 1] = 2;
    is_int(rooms_twcc_parse_packet(f, (size_t) len, &info, st, 8), -1,
           "a padding count that eats a delta is refused");
    is_int(rooms_twcc_parse_packet(pkt, 8, &info, st, 8), -1,
           "8 bytes are refused");
}


/* xorshift32: a reproducible sequence, not randomness */
static uint32_t
next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;

    return *s;
}


/*
 * n packets from seq0 on, each lost with probability loss/100, swapped
 * with the next with probability swap/100, arriving gap_us apart plus
 * jitter up to jitter_us, a long pause now and then; polled whenever
 * feedback is due.  Every packet that arrived must be reported received
 * at its arrival (within half a tick), every lost one not received.
 */
static void
round_trip(uint32_t seed, unsigned n, uint16_t seq0, unsigned loss,
    unsigned swap, int64_t gap_us, int64_t jitter_us, const char *name)
{
    int64_t       now, arr[4096], d;
    unsigned      i, j, tmp, order[4096], lost[4096], wrong, lo, hi, edge;
    uint16_t      seq;
    rooms_twcc_t  t;

    rooms_twcc_init(&t, SENDER, MEDIA);
    rep_reset();

    for (i = 0; i < n; i++) {
        order[i] = i;
        lost[i] = next_rand(&seed) % 100 < loss;
    }

    for (i = 0; i + 1 < n; i++) {
        if (next_rand(&seed) % 100 < swap) {
            tmp = order[i];
            order[i] = order[i + 1];
            order[i + 1] = tmp;
        }
    }

    now = 5000000;

    for (i = 0; i < n; i++) {
        now += gap_us + (jitter_us ? next_rand(&seed) % jitter_us : 0);

        if (next_rand(&seed) % 500 == 0) {
            now += 2000000;
        }

        j = order[i];
        arr[j] = now;

        if (!lost[j]) {
            rooms_twcc_input(&t, now, (uint16_t) (seq0 + j));
        }

        if (rooms_twcc_timeout(&t) >= 0 && rooms_twcc_timeout(&t) <= now) {
            drain(&t, now, ROOMS_TWCC_MAX_LEN);
        }
    }

    drain(&t, now + 1000000, ROOMS_TWCC_MAX_LEN);

    /* lost ones outside the received ones are never reported */
    lo = n;
    hi = 0;

    for (i = 0; i < n; i++) {
        if (!lost[i]) {
            lo = i < lo ? i : lo;
            hi = i;
        }
    }

    wrong = 0;

    for (i = 0; i < n; i++) {
        seq = (uint16_t) (seq0 + i);
        d = rep_at[seq] - arr[i];
        edge = (i < lo || i > hi) && rep_status[seq] == -1;

        if (lost[i] ? rep_status[seq] != ROOMS_TWCC_NOT_RECEIVED && !edge
                    : rep_status[seq] <= 0 || d < -125 || d > 125)
        {
            if (wrong++ < 5) {
                diag("%s: seq %u (%s) reported %d, %lld us off", name, seq,
                     lost[i] ? "lost" : "received", rep_status[seq],
                     (long long) d);
            }
        }
    }

    ok(wrong == 0 && rep_bad == 0 && rooms_twcc_timeout(&t) == -1,
       "%s: %u packets in %u feedbacks, all reported right", name, n,
       rep_packets);
}


static void
test_round_trips(void)
{
    round_trip(1, 3000, 0, 0, 0, 1000, 0, "no loss, 1 ms apart");
    round_trip(2, 3000, 65000, 10, 5, 2000, 3000,
               "10% loss, reordering, jitter, across the wrap");
    round_trip(3, 3000, 100, 50, 20, 100, 100000,
               "50% loss, heavy reordering, big jitter");
    round_trip(4, 4000, 32000, 90, 0, 5000, 0, "90% loss");
    round_trip(5, 4000, 65530, 5, 50, 50, 200,
               "a fast sender, half the packets swapped");
    round_trip(6, 2000, 7, 20, 10, 300000, 700000,
               "slow and bursty: large deltas");
}


int
main(void)
{
    test_vector_run();
    test_vector_loss();
    test_vector_one_bit();
    test_vector_negative();
    test_wrap();
    test_split_delta();
    test_cadence();
    test_duplicate();
    test_cap();
    test_split_size();
    test_window();
    test_parse_bad();
    test_round_trips();

    return done_testing();
}
