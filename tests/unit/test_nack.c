/*
 * test_nack.c: the NACKs the SFU sends a publisher, and when it asks
 * again (worker/nack.*), on a virtual clock.
 *
 * Covers: a gap asked at once and tracked; asked again a repair time
 * later (100 ms before any repair was timed), not a millisecond sooner;
 * a repair cancels it (and a second copy, or a copy nobody asked for, is
 * not wanted); the late original too, without timing anything; repairs
 * of numbers asked once time the repair time (RFC 6298 smoothing) and
 * the next asks follow it, within its bounds; repairs after two asks time
 * nothing; five asks at most, then none, and given up a second after the
 * first ask (a repair after that is not wanted); a subscriber asking
 * for a number asked already asks again only after half a repair time,
 * once for two subscribers, and does not move the timer's schedule; the
 * bound of tracked numbers (the oldest given up for a new
 * one); two streams with the same numbers kept apart, one poll per
 * stream, forget() of one; at most one NACK's worth per poll; the 16-bit
 * wrap; and a long random run against the invariants (bounds, asks per
 * number, nothing older than the age after a poll, next() never in the
 * past, the counters adding up).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nack.h"
#include "tap.h"


static rooms_nack_t  nk;


/* one number asked: returns the count rooms_nack_ask() put out */
static size_t
ask1(uint64_t now, uint32_t stream, uint16_t seq)
{
    uint16_t  out[1];

    return rooms_nack_ask(&nk, now, stream, &seq, 1, out);
}


/* polls at now until nothing is due: numbers asked again, given up */
static unsigned
drain(uint64_t now, unsigned *gone, uint16_t *seqs, size_t cap)
{
    unsigned          n, k;
    rooms_nack_due_t  due;

    n = 0;

    if (gone != NULL) {
        *gone = 0;
    }

    while (rooms_nack_poll(&nk, now, &due)) {
        for (k = 0; k < due.n; k++) {
            if (seqs != NULL && n < cap) {
                seqs[n] = due.seq[k];
            }

            n++;
        }

        if (gone != NULL) {
            *gone += due.gone;
        }
    }

    return n;
}


static void
test_gap_retry_repair(void)
{
    size_t    n;
    uint64_t  w;
    uint16_t  lost[3] = { 101, 102, 103 }, out[8], again[8];
    unsigned  asks, gone;

    rooms_nack_init(&nk);
    is_int(rooms_nack_next(&nk), (long long) ROOMS_NACK_NEVER,
           "empty: nothing next");

    n = rooms_nack_ask(&nk, 1000, 7, lost, 3, out);
    ok(n == 3 && out[0] == 101 && out[1] == 102 && out[2] == 103,
       "a gap of three: all three asked at once");
    is_int(nk.n, 3, "and tracked");
    is_int(nk.asked, 3, "three first asks counted");
    is_int(rooms_nack_rto(&nk), ROOMS_NACK_RTT0_MS,
           "no repair timed yet: asked again after %d ms", ROOMS_NACK_RTT0_MS);
    is_int(rooms_nack_next(&nk), 1000 + ROOMS_NACK_RTT0_MS,
           "next due then");

    is_int(drain(1099, NULL, NULL, 0), 0, "99 ms later: nothing due");
    is_int(drain(1100, &gone, again, 8), 3, "100 ms later: all three again");
    ok(again[0] == 101 && again[2] == 103 && gone == 0,
       "the same numbers, none given up");
    is_int(nk.again, 3, "three asks again counted");
    is_int(drain(1100, NULL, NULL, 0), 0, "and not twice at the same time");

    asks = rooms_nack_arrived(&nk, 1130, 7, 102, 1, &w);
    is_int(asks, 2, "102's repair: it took two asks");
    is_int(w, 130, "130 ms after its first ask");
    is_int(nk.srtt_ms, 0, "a repair after two asks times nothing (Karn)");
    is_int(nk.repaired, 1, "repaired counted");
    is_int(nk.repaired_again, 1, "after asking again");
    is_int(rooms_nack_arrived(&nk, 1131, 7, 102, 1, &w), 0,
           "a second copy of it is not wanted");
    is_int(rooms_nack_arrived(&nk, 1131, 7, 555, 1, &w), 0,
           "nor a copy nobody asked for (a probe)");
    is_int(rooms_nack_arrived(&nk, 1131, 8, 101, 1, &w), 0,
           "nor one of another stream with the same number");

    /* the late original of 101: wanted, times nothing */
    is_int(rooms_nack_arrived(&nk, 1150, 7, 101, 0, &w), 2,
           "101 arrives late itself: no longer wanted after");
    is_int(nk.srtt_ms, 0, "and times nothing");

    is_int(drain(1200, NULL, again, 8), 1, "at 200 ms only 103 is asked");
    is_int(again[0], 103, "103");
    is_int(nk.n, 1, "one tracked");
}


static void
test_timing(void)
{
    int       i;
    uint64_t  w, t;
    unsigned  rto;

    rooms_nack_init(&nk);

    /* first repair in 60 ms: srtt 60, rttvar 30 */
    ask1(0, 1, 10);
    is_int(rooms_nack_arrived(&nk, 60, 1, 10, 1, &w), 1,
           "a repair after one ask");
    is_int(nk.srtt_ms, 60, "the first sample is the repair time");
    is_int(nk.rttvar_ms, 30, "its variation half of it");
    is_int(rooms_nack_rto(&nk), 120, "asked again after srtt + 2 * rttvar");

    /* steady repairs of 60 ms: the variation decays, srtt * 5/4 holds */
    for (i = 0; i < 40; i++) {
        t = 1000 + 1000 * (uint64_t) i;
        ask1(t, 1, (uint16_t) (20 + i));
        rooms_nack_arrived(&nk, t + 60, 1, (uint16_t) (20 + i), 1, &w);
    }

    is_int(nk.srtt_ms, 60, "steady 60 ms repairs: srtt 60");
    is_int(rooms_nack_rto(&nk), 75,
           "never at the mean itself: srtt * 5/4 = 75");

    ask1(100000, 1, 500);
    is_int(drain(100074, NULL, NULL, 0), 0, "74 ms after: not yet");
    is_int(drain(100075, NULL, NULL, 0), 1, "75 ms after: asked again");

    /* slow repairs move it up, to its ceiling */
    for (i = 0; i < 60; i++) {
        t = 200000 + 2000 * (uint64_t) i;
        ask1(t, 1, (uint16_t) (1000 + i));
        rooms_nack_arrived(&nk, t + 900, 1, (uint16_t) (1000 + i), 1, &w);
    }

    rto = rooms_nack_rto(&nk);
    is_int(rto, ROOMS_NACK_RTO_MAX_MS, "900 ms repairs: asked again after "
           "%d ms at most", ROOMS_NACK_RTO_MAX_MS);

    /* fast ones down to its floor */
    for (i = 0; i < 80; i++) {
        t = 400000 + 1000 * (uint64_t) i;
        ask1(t, 1, (uint16_t) (2000 + i));
        rooms_nack_arrived(&nk, t + 1, 1, (uint16_t) (2000 + i), 1, &w);
    }

    is_int(rooms_nack_rto(&nk), ROOMS_NACK_RTO_MIN_MS,
           "1 ms repairs: never sooner than %d ms", ROOMS_NACK_RTO_MIN_MS);

    /* a repair that came at once (0 ms) still counts as 1 */
    rooms_nack_init(&nk);
    ask1(5, 1, 1);
    rooms_nack_arrived(&nk, 5, 1, 1, 1, &w);
    is_int(nk.srtt_ms, 1, "a 0 ms repair times 1 ms (0 means none)");
}


static void
test_give_up(void)
{
    int       i;
    uint64_t  w;
    unsigned  asks, gone, total_gone;

    rooms_nack_init(&nk);

    ask1(0, 3, 9);
    asks = 1;
    total_gone = 0;

    for (i = 1; i <= 20; i++) {
        asks += drain(100 * (uint64_t) i, &gone, NULL, 0);
        total_gone += gone;

        if (i == 9) {
            is_int(asks, ROOMS_NACK_TRIES,
                   "asked %d times by 900 ms, every 100 ms, then no more",
                   ROOMS_NACK_TRIES);
            is_int(total_gone, 0, "still wanted at 900 ms");
            is_int(ask1(950, 3, 9), 0,
                   "a subscriber asking again then asks nothing more");
        }
    }

    is_int(asks, ROOMS_NACK_TRIES, "no ask after that");
    is_int(total_gone, 1, "given up once");
    is_int(nk.given_up, 1, "counted");
    is_int(nk.n, 0, "nothing tracked");
    is_int(rooms_nack_arrived(&nk, 2001, 3, 9, 1, &w), 0,
           "its repair after that is not wanted");
    is_int(rooms_nack_next(&nk), (long long) ROOMS_NACK_NEVER,
           "nothing next");

    /* given up exactly at the age, asked or not */
    rooms_nack_init(&nk);
    ask1(0, 3, 9);
    drain(100, NULL, NULL, 0);
    drain(ROOMS_NACK_AGE_MS - 1, &gone, NULL, 0);
    is_int(gone, 0, "not given up 1 ms before the age");
    drain(ROOMS_NACK_AGE_MS, &gone, NULL, 0);
    is_int(gone, 1, "given up at the age");

    /* long repair times: asks cannot fit, the age still holds */
    rooms_nack_init(&nk);
    ask1(0, 3, 1);
    rooms_nack_arrived(&nk, 700, 3, 1, 1, &w);      /* rto 450 (ceiling) */
    ask1(10000, 3, 2);
    asks = 1;

    for (i = 1; i <= 30; i++) {
        asks += drain(10000 + 50 * (uint64_t) i, &gone, NULL, 0);
    }

    is_int(asks, 3, "a 450 ms repair time: three asks fit in the second "
           "(0, 450, 900)");
    is_int(nk.n, 0, "then given up at the age");
}


static void
test_asked_already(void)
{
    size_t    n;
    uint16_t  lost[2] = { 40, 41 }, out[4];

    rooms_nack_init(&nk);

    rooms_nack_ask(&nk, 0, 2, lost, 2, out);
    n = rooms_nack_ask(&nk, 10, 2, lost, 2, out);
    is_int(n, 0, "a subscriber asking 10 ms after us: nothing more asked");
    n = rooms_nack_ask(&nk, 49, 2, lost, 2, out);
    is_int(n, 0, "nor at 49 ms, within half a repair time");
    is_int(nk.again, 0, "no ask again counted");

    n = rooms_nack_ask(&nk, 50, 2, lost, 2, out);
    ok(n == 2 && out[0] == 40 && out[1] == 41,
       "half a repair time (50 ms) after: asked again");
    n = rooms_nack_ask(&nk, 52, 2, lost, 2, out);
    is_int(n, 0, "a second subscriber 2 ms later: nothing more");
    is_int(nk.again, 2, "two asks again counted");
    is_int(drain(99, NULL, NULL, 0), 0, "the timer: nothing at 99 ms");
    is_int(drain(100, NULL, NULL, 0), 2,
           "and at 100 ms, a repair time after the first ask (not after "
           "the subscriber's)");
    is_int(drain(199, NULL, NULL, 0), 0, "then not before 200 ms");
    is_int(drain(200, NULL, NULL, 0), 2, "at 200 ms again");

    /* the same number twice in one ask: asked once */
    rooms_nack_init(&nk);
    lost[1] = 40;
    n = rooms_nack_ask(&nk, 0, 2, lost, 2, out);
    is_int(n, 1, "a number twice in one NACK: asked once");
    is_int(nk.n, 1, "tracked once");
}


static void
test_bound(void)
{
    int       i;
    uint64_t  w;
    uint16_t  seq;

    rooms_nack_init(&nk);

    for (i = 0; i < 200; i++) {
        ask1((uint64_t) i, 5, (uint16_t) i);
    }

    is_int(nk.n, ROOMS_NACK_MAX, "%d numbers asked: %d tracked",
           200, ROOMS_NACK_MAX);
    is_int(nk.given_up, 200 - ROOMS_NACK_MAX, "the oldest given up");
    is_int(rooms_nack_arrived(&nk, 300, 5, 0, 1, &w), 0,
           "the first one is no longer wanted");
    is_int(rooms_nack_arrived(&nk, 300, 5, 199, 1, &w), 1,
           "the last one is");
    seq = (uint16_t) (200 - ROOMS_NACK_MAX);
    is_int(rooms_nack_arrived(&nk, 300, 5, seq, 1, &w), 1,
           "the oldest kept one is");
}


static void
test_streams(void)
{
    unsigned          k, n1, n2, calls;
    uint64_t          w;
    uint16_t          lost[100], out[100];
    rooms_nack_due_t  due;

    rooms_nack_init(&nk);

    for (k = 0; k < 100; k++) {
        lost[k] = (uint16_t) (65520 + k);            /* across the wrap */
    }

    rooms_nack_ask(&nk, 0, 0x11, lost, 30, out);
    rooms_nack_ask(&nk, 0, 0x12, lost, 30, out);
    is_int(nk.n, 60, "the same 30 numbers of two streams: 60 tracked");
    is_int(rooms_nack_arrived(&nk, 10, 0x11, 65535, 1, &w), 1,
           "65535 of one stream repaired");
    is_int(rooms_nack_arrived(&nk, 10, 0x12, 65535, 1, &w), 1,
           "and of the other, separately");
    is_int(rooms_nack_arrived(&nk, 10, 0x11, 0, 1, &w), 1,
           "0, past the wrap");

    n1 = n2 = calls = 0;

    while (rooms_nack_poll(&nk, 200, &due)) {
        calls++;
        n1 += due.stream == 0x11 ? due.n : 0;
        n2 += due.stream == 0x12 ? due.n : 0;
    }

    is_int(calls, 2, "one poll per stream");
    ok(n1 == 28 && n2 == 29, "each asks again what is still missing "
       "(%u, %u)", n1, n2);

    rooms_nack_forget(&nk, 0x11);
    is_int(nk.n, 29, "forget one stream: the other's stay");
    is_int(rooms_nack_arrived(&nk, 300, 0x11, 65520, 1, &w), 0,
           "the forgotten one's are not wanted");

    /* one NACK's worth per poll */
    rooms_nack_init(&nk);
    rooms_nack_ask(&nk, 0, 9, lost, 50, out);
    rooms_nack_ask(&nk, 0, 9, lost + 50, 50, out);
    ok(rooms_nack_poll(&nk, 100, &due) && due.n == ROOMS_NACK_BATCH,
       "100 due: the first poll asks %d", ROOMS_NACK_BATCH);
    ok(rooms_nack_poll(&nk, 100, &due) && due.n == 100 - ROOMS_NACK_BATCH,
       "the next the other %d", 100 - ROOMS_NACK_BATCH);
    ok(!rooms_nack_poll(&nk, 100, &due), "then nothing");
}


/* a long random run against the invariants */
static void
test_random(void)
{
    int        i, bad_bound, bad_tries, bad_age, bad_next, bad_out;
    size_t     n, k;
    uint64_t   now, w, next;
    uint16_t   lost[8], out[8], base;
    unsigned   asks_seen, r;
    rooms_nack_due_t  due;

    rooms_nack_init(&nk);
    srand(9);
    now = 0;
    base = 65000;
    bad_bound = bad_tries = bad_age = bad_next = bad_out = 0;
    asks_seen = 0;

    for (i = 0; i < 200000; i++) {
        now += (uint64_t) (rand() % 7);
        r = (unsigned) rand() % 100;

        if (r < 10) {
            /* a gap of 1 to 8 in one of three streams */
            n = 1 + (size_t) (rand() % 8);

            for (k = 0; k < n; k++) {
                lost[k] = (uint16_t) (base + k);
            }

            base = (uint16_t) (base + n + 1);
            k = rooms_nack_ask(&nk, now, (uint32_t) (rand() % 3), lost, n,
                               out);
            bad_out += k > n;
            asks_seen += (unsigned) k;

        } else if (r < 20) {
            /* a subscriber asks for something recent */
            lost[0] = (uint16_t) (base - 1 - rand() % 40);
            asks_seen += (unsigned) rooms_nack_ask(&nk, now,
                (uint32_t) (rand() % 3), lost, 1, out);

        } else if (r < 35) {
            /* a repair (or a late original) of something recent */
            (void) rooms_nack_arrived(&nk, now, (uint32_t) (rand() % 3),
                                      (uint16_t) (base - 1 - rand() % 40),
                                      rand() % 4 != 0, &w);

        } else {
            while (rooms_nack_poll(&nk, now, &due)) {
                asks_seen += due.n;
                bad_out += due.n > ROOMS_NACK_BATCH;
            }

            for (k = 0; k < nk.n; k++) {
                bad_age += now - nk.seqs[k].first_ms >= ROOMS_NACK_AGE_MS;
            }

            next = rooms_nack_next(&nk);
            bad_next += next <= now;
        }

        bad_bound += nk.n > ROOMS_NACK_MAX;

        for (k = 0; k < nk.n; k++) {
            bad_tries += nk.seqs[k].tries > ROOMS_NACK_TRIES
                         || nk.seqs[k].tries == 0;
        }
    }

    is_int(bad_bound, 0, "200000 random steps: never more than %d tracked",
           ROOMS_NACK_MAX);
    is_int(bad_tries, 0, "never more than %d asks a number",
           ROOMS_NACK_TRIES);
    is_int(bad_age, 0, "after a poll nothing is as old as the age");
    is_int(bad_next, 0, "after a poll next() is never now or before");
    is_int(bad_out, 0, "never more out than asked, nor than a batch");
    ok(asks_seen == nk.asked + nk.again,
       "every ask put out is counted (%u = %llu + %llu)", asks_seen,
       (unsigned long long) nk.asked, (unsigned long long) nk.again);
    ok(nk.asked == nk.repaired + nk.given_up + nk.n,
       "every number asked was repaired, given up, or is tracked "
       "(%llu = %llu + %llu + %u)", (unsigned long long) nk.asked,
       (unsigned long long) nk.repaired, (unsigned long long) nk.given_up,
       nk.n);
    ok(nk.again > 0 && nk.repaired_again > 0 && nk.given_up > 0,
       "the run asked again (%llu), repaired after that (%llu) and gave up "
       "(%llu)", (unsigned long long) nk.again,
       (unsigned long long) nk.repaired_again,
       (unsigned long long) nk.given_up);
}


int
main(void)
{
    test_gap_retry_repair();
    test_timing();
    test_give_up();
    test_asked_already();
    test_bound();
    test_streams();
    test_random();

    return done_testing();
}
