/*
 * test_forward.c: the forwarding core (worker/forward.*), on a virtual
 * clock.
 *
 * Covers: the subscriber's stream stays continuous across three source
 * switches whose sequence numbers jump (no gap, no duplicate at a
 * switch), while a loss inside a source stays a gap so it can be NACKed;
 * reordering and duplicates inside a source are kept as they came;
 * packets older than a switch are dropped; 16-bit sequence and 32-bit
 * timestamp wrap; the timestamp jump at a switch follows the wall clock
 * (and is at least 1); a forced switch on the same SSRC; the NACK
 * history's hits, misses, window and wrap; one history of a source's
 * packets answering two subscribers with different rewrites (the source
 * number each one's NACK maps to, the bytes replayed); the keyframe
 * throttle; VP8's PictureID and TL0PICIDX continued across a simulcast
 * switch (15-bit and 7-bit, their wraps, late repairs, NACK answers,
 * descriptors without them or cut short).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "tap.h"


#define OUT_SSRC  0xaaaa5555u


static size_t
make_pkt(uint8_t *b, uint32_t ssrc, uint16_t seq, uint32_t ts)
{
    size_t  i;

    b[0] = 0x80;
    b[1] = 96;
    b[2] = (uint8_t) (seq >> 8);
    b[3] = (uint8_t) seq;
    b[4] = (uint8_t) (ts >> 24);
    b[5] = (uint8_t) (ts >> 16);
    b[6] = (uint8_t) (ts >> 8);
    b[7] = (uint8_t) ts;
    b[8] = (uint8_t) (ssrc >> 24);
    b[9] = (uint8_t) (ssrc >> 16);
    b[10] = (uint8_t) (ssrc >> 8);
    b[11] = (uint8_t) ssrc;

    for (i = 0; i < 20; i++) {
        b[12 + i] = (uint8_t) (seq + i);
    }

    return 32;
}


static uint16_t
seq_of(const uint8_t *b)
{
    return (uint16_t) ((b[2] << 8) | b[3]);
}


static uint32_t
ts_of(const uint8_t *b)
{
    return ((uint32_t) b[4] << 24) | ((uint32_t) b[5] << 16)
           | ((uint32_t) b[6] << 8) | b[7];
}


static uint32_t
ssrc_of(const uint8_t *b)
{
    return ((uint32_t) b[8] << 24) | ((uint32_t) b[9] << 16)
           | ((uint32_t) b[10] << 8) | b[11];
}


/* forwards one packet; returns the result, leaves the packet in b */
static int
fwd(rooms_fwd_t *f, int64_t now, uint8_t *b, uint32_t ssrc, uint16_t seq,
    uint32_t ts)
{
    size_t  n;

    n = make_pkt(b, ssrc, seq, ts);

    return rooms_fwd_rewrite(f, now, b, n);
}


static void
test_switches(void)
{
    int          bad, r, i;
    uint8_t      b[64];
    uint32_t     ts_a;
    rooms_fwd_t  f;

    /* seq and ts start just before their wrap */
    rooms_fwd_init(&f, OUT_SSRC, 90000, 65534, 0xffffff00);

    /* source A: seq 100.., ts +3000 per packet (one frame each) */
    r = fwd(&f, 1000, b, 0x1, 100, 5000);
    is_int(r, 65534, "first packet gets seq0");
    ok(ts_of(b) == 0xffffff00, "first packet gets ts0");
    ok(ssrc_of(b) == OUT_SSRC, "SSRC rewritten");
    is_int(b[12], 100 & 0xff, "payload untouched");

    r = fwd(&f, 1033, b, 0x1, 101, 8000);
    is_int(r, 65535, "A: next seq");
    ok(ts_of(b) == 0xffffff00u + 3000u, "A: ts wraps past 2^32 (%u)",
       ts_of(b));

    r = fwd(&f, 1066, b, 0x1, 102, 11000);
    is_int(r, 0, "A: seq wraps to 0");

    /* 103 is lost upstream: the gap stays so the subscriber NACKs it */
    r = fwd(&f, 1133, b, 0x1, 104, 17000);
    is_int(r, 2, "A: a loss inside a source stays a gap");
    ts_a = ts_of(b);

    /* switch 1: source B, far away in seq and ts, 40 ms later */
    r = fwd(&f, 1173, b, 0x2, 40000, 123456789);
    is_int(r, 3, "switch to B: seq continues (no gap, no duplicate)");
    ok(ts_of(b) == ts_a + 40 * 90, "switch to B: ts += 40 ms at 90 kHz");

    r = fwd(&f, 1180, b, 0x2, 40001, 123456789);
    is_int(r, 4, "B: next");
    ok(ts_of(b) == ts_a + 3600, "B: same frame, same ts");

    /* reordering inside B: 40003 before 40002, then a duplicate */
    r = fwd(&f, 1190, b, 0x2, 40003, 123459789);
    is_int(r, 6, "B: 40003 first");
    r = fwd(&f, 1191, b, 0x2, 40002, 123459789);
    is_int(r, 5, "B: late 40002 keeps its place");
    r = fwd(&f, 1192, b, 0x2, 40002, 123459789);
    is_int(r, 5, "B: a duplicate repeats its seq");

    /* older than B's first packet: its seq belongs to A's stream */
    r = fwd(&f, 1193, b, 0x2, 39999, 123453789);
    is_int(r, ROOMS_FWD_DROP, "B: older than the switch is dropped");
    is_int(seq_of(b), 39999, "a dropped packet is left unchanged");
    is_int((int) f.dropped, 1, "the drop is counted");

    /* switch 2: source C in the same millisecond as B's last new ts */
    r = fwd(&f, 1190, b, 0x3, 7, 0);
    is_int(r, 7, "switch to C: seq after the highest sent (6)");
    ok(ts_of(b) == ts_a + 3600 + 3000 + 1,
       "switch to C at no elapsed time: ts + 1");

    /* switch 3: back to A, 100 ms later, its seq moved on meanwhile */
    r = fwd(&f, 1290, b, 0x1, 180, 250000);
    is_int(r, 8, "switch back to A: seq continues");
    ok(ts_of(b) == ts_a + 3601 + 3000 + 100 * 90,
       "switch back to A: ts += 100 ms");
    is_int((int) f.switches, 3, "three switches counted");

    /* a long run in one source across several 16-bit wraps */
    bad = 0;

    for (i = 1; i < 200000; i++) {
        r = fwd(&f, 1290 + i, b, 0x1, (uint16_t) (180 + i),
                250000 + 3000 * (uint32_t) i);

        if (r != (uint16_t) (8 + i)) {
            bad++;
        }
    }

    is_int(bad, 0, "200000 packets in one source: seq follows, no drop");
    is_int((int) f.dropped, 1, "still only one drop");
}


static void
test_forced_and_short(void)
{
    int          r;
    uint8_t      b[64];
    rooms_fwd_t  f;

    rooms_fwd_init(&f, OUT_SSRC, 48000, 1000, 0);

    fwd(&f, 0, b, 0x9, 500, 960);
    r = fwd(&f, 20, b, 0x9, 501, 1920);
    is_int(r, 1001, "audio: second packet");

    /* the publisher restarted the stream under the same SSRC */
    rooms_fwd_switch(&f);
    r = fwd(&f, 40, b, 0x9, 3, 77);
    is_int(r, 1002, "forced switch, same SSRC: seq continues");
    ok(ts_of(b) == 960 + 20 * 48, "forced switch: ts += 20 ms at 48 kHz");
    r = fwd(&f, 60, b, 0x9, 4, 77 + 960);
    is_int(r, 1003, "the new offsets stay after a forced switch");

    make_pkt(b, 0x9, 5, 0);
    is_int(rooms_fwd_rewrite(&f, 80, b, 11), ROOMS_FWD_DROP,
           "11 bytes: dropped");
    b[0] = 0x40;
    is_int(rooms_fwd_rewrite(&f, 80, b, 32), ROOMS_FWD_DROP,
           "V=1: dropped");
    is_int(seq_of(b), 5, "not rewritten");

    /* an old-timestamped packet (reordered) does not move last_ts back */
    rooms_fwd_init(&f, OUT_SSRC, 90000, 0, 1000);
    fwd(&f, 0, b, 0x1, 10, 90000);
    fwd(&f, 10, b, 0x1, 12, 93000);
    fwd(&f, 20, b, 0x1, 11, 90000);
    r = fwd(&f, 20, b, 0x2, 1, 5);
    ok(r == 3 && ts_of(b) == 1000 + 3000 + 10 * 90,
       "switch after reordering: from the highest seq and ts (%u)",
       ts_of(b));
}


static void
test_history(void)
{
    int             bad;
    size_t          i, len;
    uint8_t         b[ROOMS_HIST_SLOT + 1];
    uint16_t        newest;
    rooms_hist_t    h;
    const uint8_t  *p;

    memset(b, 0, sizeof(b));

    ok(rooms_hist_init(&h, 0) == -1, "history of 0 slots refused");
    ok(rooms_hist_init(&h, 3) == -1, "history of 3 slots refused");
    ok(rooms_hist_init(&h, 65536) == -1, "history of 65536 slots refused");
    is_int(rooms_hist_init(&h, ROOMS_HIST_DEFAULT), 0, "512 slots");

    ok(rooms_hist_get(&h, 0, &len) == NULL, "empty history: miss");

    /* 600 packets across the 16-bit wrap, payload lengths vary */
    for (i = 0; i < 600; i++) {
        make_pkt(b, OUT_SSRC, (uint16_t) (65200 + i), (uint32_t) i);
        rooms_hist_put(&h, b, 32 + i % 7);
    }

    newest = (uint16_t) (65200 + 599);

    p = rooms_hist_get(&h, newest, &len);
    ok(p != NULL && len == 32 + 599 % 7 && seq_of(p) == newest
       && p[12] == (uint8_t) newest, "newest: hit with its bytes");

    p = rooms_hist_get(&h, (uint16_t) (newest - 511), &len);
    ok(p != NULL && seq_of(p) == (uint16_t) (newest - 511),
       "511 behind the newest: hit");
    ok(rooms_hist_get(&h, (uint16_t) (newest - 512), &len) == NULL,
       "512 behind: too old, miss");
    ok(rooms_hist_get(&h, (uint16_t) (newest + 1), &len) == NULL,
       "ahead of the newest: miss");
    ok(rooms_hist_get(&h, 65535, &len) != NULL
       && rooms_hist_get(&h, 0, &len) != NULL,
       "both sides of the wrap are kept");

    bad = 0;

    for (i = 0; i < 512; i++) {
        p = rooms_hist_get(&h, (uint16_t) (newest - i), &len);

        if (p == NULL || seq_of(p) != (uint16_t) (newest - i)
            || len != 32 + (599 - i) % 7)
        {
            bad++;
        }
    }

    is_int(bad, 0, "every packet of the window comes back exact");

    /* a gap: the slot of the never-sent seq still holds one 512 older */
    make_pkt(b, OUT_SSRC, (uint16_t) (newest + 2), 0);
    rooms_hist_put(&h, b, 32);
    ok(rooms_hist_get(&h, (uint16_t) (newest + 1), &len) == NULL,
       "a seq never put is a miss, not the older one in its slot");
    newest = (uint16_t) (newest + 2);

    /* a late put inside the window replaces, one outside is refused */
    make_pkt(b, OUT_SSRC, (uint16_t) (newest - 5), 0);
    b[12] = 0xee;
    is_int(rooms_hist_put(&h, b, 40), 0, "a late put inside the window");
    p = rooms_hist_get(&h, (uint16_t) (newest - 5), &len);
    ok(p != NULL && p[12] == 0xee && len == 40, "the late put is served");
    make_pkt(b, OUT_SSRC, (uint16_t) (newest - 512), 0);
    is_int(rooms_hist_put(&h, b, 40), -1, "a put older than the window");

    is_int(rooms_hist_put(&h, b, ROOMS_HIST_SLOT + 1), -1,
           "1501 bytes do not fit a slot");
    is_int(rooms_hist_put(&h, b, 11), -1, "11 bytes are not RTP");
    memset(b + 12, 0x77, ROOMS_HIST_SLOT - 12);
    make_pkt(b, OUT_SSRC, (uint16_t) (newest + 1), 0);
    is_int(rooms_hist_put(&h, b, ROOMS_HIST_SLOT), 0, "1500 bytes fit");
    p = rooms_hist_get(&h, (uint16_t) (newest + 1), &len);
    ok(p != NULL && len == ROOMS_HIST_SLOT
       && p[ROOMS_HIST_SLOT - 1] == 0x77, "a full slot comes back whole");

    /* a jump far ahead: everything before is out of the window */
    make_pkt(b, OUT_SSRC, (uint16_t) (newest + 20000), 0);
    rooms_hist_put(&h, b, 32);
    ok(rooms_hist_get(&h, newest, &len) == NULL
       && rooms_hist_get(&h, (uint16_t) (newest + 20000), &len) != NULL,
       "after a jump ahead, the old window misses");

    rooms_hist_free(&h);
    ok(h.data == NULL && h.n == 0, "free clears");

    is_int(rooms_hist_init(&h, 16), 0, "16 slots");

    for (i = 0; i < 100000; i++) {
        make_pkt(b, OUT_SSRC, (uint16_t) i, 0);
        rooms_hist_put(&h, b, 32);
    }

    ok(rooms_hist_get(&h, (uint16_t) 99999, &len) != NULL
       && rooms_hist_get(&h, (uint16_t) (99999 - 15), &len) != NULL
       && rooms_hist_get(&h, (uint16_t) (99999 - 16), &len) == NULL,
       "16 slots after 100000 packets: the window is the last 16");
    rooms_hist_free(&h);
}


/*
 * One history of the source's own packets serves two subscribers with
 * different rewrites: each one's NACK (in its numbers) finds the
 * source's packet, and the replay gives it that subscriber's SSRC, seq
 * and ts, as the packet it was sent; numbers from before a switch, or
 * not sent yet, find nothing.
 */
static void
test_shared(void)
{
    int            i;
    size_t         len, klen;
    uint8_t        b[64], sent_a[64], sent_b[64], kept[64];
    uint16_t       in, out_a, out_b;
    rooms_fwd_t    a, c;
    rooms_hist_t   h;
    const uint8_t *k;

    rooms_fwd_init(&a, 0x1111, 90000, 100, 5000);
    rooms_fwd_init(&c, 0x2222, 90000, 60000, 77);
    ok(rooms_hist_init(&h, 16) == 0, "a shared history of 16");
    ok(rooms_fwd_source_seq(&a, 100, &in) == -1,
       "nothing sent yet: no source number");

    /* a took an earlier source first: its switch sits before these */
    len = make_pkt(b, 0x5, 9, 0);
    rooms_fwd_rewrite(&a, 0, b, len);
    rooms_fwd_switch(&a);

    out_a = out_b = 0;

    for (i = 0; i < 5; i++) {
        len = make_pkt(b, 0x77, (uint16_t) (40000 + i),
                       (uint32_t) (900 + 3000 * i));
        rooms_hist_put(&h, b, len);

        memcpy(sent_a, b, len);
        out_a = (uint16_t) rooms_fwd_rewrite(&a, 20 * i + 20, sent_a, len);
        memcpy(sent_b, b, len);
        out_b = (uint16_t) rooms_fwd_rewrite(&c, 20 * i + 20, sent_b, len);
    }

    ok(out_a != out_b, "the two rewrite differently (%u, %u)",
       (unsigned) out_a, (unsigned) out_b);

    ok(rooms_fwd_source_seq(&a, out_a, &in) == 0 && in == 40004
       && rooms_fwd_source_seq(&c, out_b, &in) == 0 && in == 40004,
       "each one's number of the last packet maps to the source's 40004");

    k = rooms_hist_get(&h, 40004, &klen);
    memcpy(kept, k, klen);
    ok(rooms_fwd_replay(&a, kept, klen) == out_a
       && memcmp(kept, sent_a, klen) == 0,
       "replayed for the first: the very bytes it was sent");
    memcpy(kept, k, klen);
    ok(rooms_fwd_replay(&c, kept, klen) == out_b
       && memcmp(kept, sent_b, klen) == 0,
       "replayed for the second: the bytes it was sent");

    ok(rooms_fwd_source_seq(&a, (uint16_t) (out_a - 5), &in) == -1,
       "the first's number from before its switch: not this source's");
    ok(rooms_fwd_source_seq(&c, (uint16_t) (out_b + 1), &in) == -1,
       "a number not sent yet: nothing");

    len = make_pkt(kept, 0x5, 9, 0);
    ok(rooms_fwd_replay(&a, kept, len) == ROOMS_FWD_DROP,
       "another source's packet is not replayed");

    rooms_hist_free(&h);
}


/*
 * A VP8 payload (RFC 7741 §4.2): X set, I (15- or 7-bit PictureID) and
 * L (TL0PICIDX) as asked, S on a frame's first packet; then 4 bytes.
 */
static size_t
vp8_payload(uint8_t *p, int pid, unsigned bits, int tl0)
{
    size_t  n;

    n = 0;
    p[n++] = 0x90;
    p[n++] = (uint8_t) ((pid >= 0 ? 0x80 : 0) | (tl0 >= 0 ? 0x40 : 0));

    if (pid >= 0 && bits == 15) {
        p[n++] = (uint8_t) (0x80 | (pid >> 8));
        p[n++] = (uint8_t) pid;

    } else if (pid >= 0) {
        p[n++] = (uint8_t) (pid & 0x7f);
    }

    if (tl0 >= 0) {
        p[n++] = (uint8_t) tl0;
    }

    memset(p + n, 0x5a, 4);

    return n + 4;
}


static unsigned
pid_of(const uint8_t *p)
{
    return (p[2] & 0x80) ? (unsigned) (((p[2] & 0x7f) << 8) | p[3])
                         : (unsigned) (p[2] & 0x7f);
}


static void
test_vp8(void)
{
    uint8_t      b[64], v[16];
    size_t       n;
    rooms_fwd_t  f;

    rooms_fwd_init(&f, OUT_SSRC, 90000, 100, 0);

    /* layer A: its numbers pass as they are */
    make_pkt(b, 0xa, 5000, 0);
    rooms_fwd_rewrite(&f, 0, b, 32);
    n = vp8_payload(v, 1000, 15, 200);
    rooms_fwd_vp8(&f, v, n);
    ok(pid_of(v) == 1000 && v[4] == 200, "the first source's PictureID "
       "and TL0PICIDX pass unchanged (%u, %u)", pid_of(v), v[4]);
    n = vp8_payload(v, 1001, 15, 201);
    rooms_fwd_vp8(&f, v, n);

    /*
     * a switch to layer B, whose encoder numbers from elsewhere (behind
     * A here): it goes on from A's, or the decoder takes its frames for
     * ones it already decoded
     */
    make_pkt(b, 0xb, 700, 3000);
    rooms_fwd_rewrite(&f, 40, b, 32);
    n = vp8_payload(v, 20, 15, 7);
    rooms_fwd_vp8(&f, v, n);
    ok(pid_of(v) == 1002 && v[4] == 202, "switch: B's keyframe is "
       "PictureID 1002, TL0PICIDX 202 (%u, %u)", pid_of(v), v[4]);
    ok(v[0] == 0x90 && v[1] == 0xc0 && (v[2] & 0x80) && v[5] == 0x5a
       && v[8] == 0x5a, "the rest of the descriptor and the payload "
       "unchanged");
    n = vp8_payload(v, 21, 15, 8);
    rooms_fwd_vp8(&f, v, n);
    ok(pid_of(v) == 1003 && v[4] == 203, "B's next frame: 1003, 203");

    /* a late repair of B keeps its place; the highest stays */
    n = vp8_payload(v, 20, 15, 7);
    rooms_fwd_vp8(&f, v, n);
    ok(pid_of(v) == 1002 && v[4] == 202, "a late packet of B: 1002, 202");

    /* a NACK answer from the history: as it was sent, fwd unchanged */
    n = vp8_payload(v, 21, 15, 8);
    rooms_fwd_vp8_replay(&f, v, n);
    ok(pid_of(v) == 1003 && v[4] == 203, "a NACK answer: 1003, 203");

    /* a switch to C, ahead by far and past the 15-bit wrap */
    make_pkt(b, 0xc, 9, 6000);
    rooms_fwd_rewrite(&f, 80, b, 32);
    n = vp8_payload(v, 32767, 15, 255);
    rooms_fwd_vp8(&f, v, n);
    ok(pid_of(v) == 1004 && v[4] == 204, "switch to C: 1004, 204 (%u, %u)",
       pid_of(v), v[4]);
    n = vp8_payload(v, 0, 15, 0);
    rooms_fwd_vp8(&f, v, n);
    ok(pid_of(v) == 1005 && v[4] == 205, "C wraps 32767 -> 0 and 255 -> 0: "
       "1005, 205");

    /* the subscriber's numbers wrap too */
    rooms_fwd_init(&f, OUT_SSRC, 90000, 100, 0);
    make_pkt(b, 0xa, 1, 0);
    rooms_fwd_rewrite(&f, 0, b, 32);
    n = vp8_payload(v, 32767, 15, 255);
    rooms_fwd_vp8(&f, v, n);
    make_pkt(b, 0xb, 1, 0);
    rooms_fwd_rewrite(&f, 40, b, 32);
    n = vp8_payload(v, 500, 15, 9);
    rooms_fwd_vp8(&f, v, n);
    ok(pid_of(v) == 0 && v[4] == 0, "after 32767 and 255: 0 and 0");

    /* a 7-bit PictureID wraps at 128 */
    rooms_fwd_init(&f, OUT_SSRC, 90000, 100, 0);
    make_pkt(b, 0xa, 1, 0);
    rooms_fwd_rewrite(&f, 0, b, 32);
    n = vp8_payload(v, 127, 7, -1);
    rooms_fwd_vp8(&f, v, n);
    make_pkt(b, 0xb, 1, 0);
    rooms_fwd_rewrite(&f, 40, b, 32);
    n = vp8_payload(v, 50, 7, -1);
    rooms_fwd_vp8(&f, v, n);
    ok(pid_of(v) == 0 && !(v[2] & 0x80), "7-bit: 127 then 0, still 7-bit");

    /* no X byte: nothing to do; cut short: left alone */
    v[0] = 0x10;
    v[1] = 0xab;
    rooms_fwd_vp8(&f, v, 2);
    ok(v[0] == 0x10 && v[1] == 0xab, "no extension: untouched");
    n = vp8_payload(v, 1234, 15, 3);
    rooms_fwd_vp8(&f, v, 3);
    ok(pid_of(v) == 1234 && v[4] == 3, "a descriptor cut short: untouched");
    rooms_fwd_vp8(&f, v, 0);
    ok(1, "an empty payload: no crash");
}


static void
test_throttle(void)
{
    rooms_kf_throttle_t  t;

    rooms_kf_init(&t, ROOMS_KF_INTERVAL_MS);

    is_int(rooms_kf_timeout(&t, 0), -1, "nothing pending at first");
    is_int(rooms_kf_allow(&t, 10000), 1, "the first request goes");
    is_int(rooms_kf_allow(&t, 10000), 0, "the same ms: suppressed");
    is_int(rooms_kf_allow(&t, 10499), 0, "499 ms later: suppressed");
    is_int(rooms_kf_timeout(&t, 10499), 1,
           "the suppressed request may go in 1 ms");
    is_int(rooms_kf_allow(&t, 10500), 1, "500 ms later: allowed");
    is_int(rooms_kf_timeout(&t, 10500), -1, "sending clears pending");
    is_int(rooms_kf_allow(&t, 10999), 0, "499 ms after that: suppressed");
    is_int(rooms_kf_timeout(&t, 11200), 0, "overdue pending: 0");
    is_int(rooms_kf_allow(&t, 11200), 1, "700 ms after: allowed");

    /* answered by a keyframe: the next may go ROOMS_KF_ANSWERED_MS on */
    rooms_kf_init(&t, ROOMS_KF_INTERVAL_MS);
    rooms_kf_keyframe(&t);
    is_int(rooms_kf_allow(&t, 20000), 1, "a keyframe before any request "
           "changes nothing: the first goes");
    is_int(rooms_kf_allow(&t, 20050), 0, "50 ms later, unanswered: "
           "suppressed");
    is_int(rooms_kf_timeout(&t, 20050), 450,
           "unanswered: pending for the whole interval");
    rooms_kf_keyframe(&t);
    is_int(rooms_kf_timeout(&t, 20060), 40,
           "answered: pending until 100 ms after the request");
    is_int(rooms_kf_allow(&t, 20099), 0, "answered, 99 ms: suppressed");
    is_int(rooms_kf_allow(&t, 20100), 1, "answered, 100 ms: allowed");
    is_int(rooms_kf_timeout(&t, 20100), -1, "and nothing pending");
    is_int(rooms_kf_allow(&t, 20250), 0, "a new request is unanswered "
           "again: 150 ms later suppressed");
    is_int(rooms_kf_allow(&t, 20600), 1, "500 ms later: allowed");

    rooms_kf_init(&t, 1000);
    is_int(rooms_kf_allow(&t, -5), 1, "any clock origin works");
    is_int(rooms_kf_allow(&t, 994), 0, "interval is a parameter: 999 ms");
    is_int(rooms_kf_allow(&t, 995), 1, "interval is a parameter: 1000 ms");
}


int
main(void)
{
    test_switches();
    test_forced_and_short();
    test_history();
    test_shared();
    test_throttle();
    test_vp8();

    return done_testing();
}
