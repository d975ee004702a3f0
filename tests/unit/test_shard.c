/*
 * test_shard.c: the choice of a room's media worker (rooms_shard.*).
 *
 * Covers: one worker takes every room, and out-of-range counts fall back
 * to worker 0; the choice is a pure function (the same answer twice, as
 * two nginx workers must give); 100000 consecutive store ids spread
 * evenly over 2, 3 and 8 workers (within 5% of a fair share); going from
 * n to n + 1 workers moves only rooms to the new worker, about
 * 1 / (n + 1) of them, and going back moves them home; a few fixed
 * answers, so that a change of the weight function (which would move
 * live rooms at an upgrade) cannot pass unnoticed.
 */

#include <stdint.h>
#include <string.h>

#include "rooms_shard.h"
#include "tap.h"


#define NROOMS  100000


int
main(void)
{
    int64_t   id;
    unsigned  n, w, a, b, counts[ROOMS_SHARD_MAX], moved, wrong, bad;
    unsigned  ns[] = { 2, 3, 8 };
    unsigned  i;

    bad = 0;
    for (id = 1; id <= 1000; id++) {
        bad += rooms_shard_pick(id, 1) != 0
               || rooms_shard_pick(id, 0) != 0
               || rooms_shard_pick(id, ROOMS_SHARD_MAX + 1) != 0;
    }
    is_int(bad, 0, "one worker (or a count out of range) takes every room");

    bad = 0;
    for (id = -500; id <= 500; id++) {
        w = rooms_shard_pick(id, 7);
        bad += w >= 7 || rooms_shard_pick(id, 7) != w;
    }
    is_int(bad, 0, "the choice is in range and the same every time");

    for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        n = ns[i];
        memset(counts, 0, sizeof(counts));

        for (id = 1; id <= NROOMS; id++) {
            counts[rooms_shard_pick(id, n)]++;
        }

        bad = 0;
        for (w = 0; w < n; w++) {
            long  fair = NROOMS / n;
            long  d = (long) counts[w] - fair;

            if (d < 0) {
                d = -d;
            }

            if (d * 20 > fair) {
                diag("%u workers: worker %u has %u rooms", n, w, counts[w]);
                bad++;
            }
        }
        is_int(bad, 0, "%u workers: consecutive ids spread evenly", n);
    }

    for (n = 1; n < 8; n++) {
        moved = 0;
        wrong = 0;

        for (id = 1; id <= NROOMS; id++) {
            a = rooms_shard_pick(id, n);
            b = rooms_shard_pick(id, n + 1);

            if (a != b) {
                moved++;
                wrong += b != n;
            }
        }

        is_int(wrong, 0, "%u -> %u workers: rooms move only to the new one",
               n, n + 1);
        ok(moved > NROOMS / (n + 1) * 95 / 100
           && moved < NROOMS / (n + 1) * 105 / 100,
           "%u -> %u workers: %u rooms of %u move (about 1/%u)",
           n, n + 1, moved, NROOMS, n + 1);
    }

    /* fixed answers: the function two builds must share */
    {
        unsigned  got[8];

        for (id = 1; id <= 8; id++) {
            got[id - 1] = rooms_shard_pick(id, 2);
        }

        diag("rooms 1..8 over 2 workers: %u %u %u %u %u %u %u %u",
             got[0], got[1], got[2], got[3], got[4], got[5], got[6], got[7]);
        ok(got[0] == 0 && got[1] == 1 && got[2] == 1 && got[3] == 1
           && got[4] == 1 && got[5] == 1 && got[6] == 0 && got[7] == 0,
           "rooms 1..8 over 2 workers go where they always went");
    }

    return done_testing();
}
