/*
 * bench_nack.c: CPU time of the NACK tracker (worker/nack.c) per lost
 * packet, the work the SFU adds for each packet a publisher's link loses:
 * its ask when the gap shows, the polls that find it (and ask again once
 * when its repair is late), and its repair's arrival.  Measured with the
 * tracker nearly empty (a lost packet now and then, as at 5% loss) and
 * nearly full (ROOMS_NACK_MAX - 8 numbers of another stream waiting, the
 * worst its linear look-ups meet).  A packet that arrives in order costs
 * the SFU one comparison and no call here.
 *
 * Prints the median of 7 runs, in ns per lost packet.  A benchmark, not a
 * test: nothing here passes or fails on time.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nack.h"


#define LOSSES   200000
#define RUNS     7


static double
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


static rooms_nack_t  nk;


/* median ns per lost packet, with fill numbers of another stream kept */
static double
measure(unsigned fill)
{
    int               r;
    size_t            i;
    double            t0, runs[RUNS];
    uint16_t          seq, out[1];
    uint64_t          now, w;
    unsigned          k;
    rooms_nack_due_t  due;

    for (r = 0; r < RUNS; r++) {
        rooms_nack_init(&nk);

        /*
         * the background, asked "later" than the whole run: never due,
         * never given up, always looked past
         */
        for (k = 0; k < fill; k++) {
            seq = (uint16_t) k;
            rooms_nack_ask(&nk, 1000000000000ULL, 99, &seq, 1, out);
        }

        now = 0;
        t0 = now_ns();

        for (i = 0; i < LOSSES; i++) {
            seq = (uint16_t) i;
            now += 2;
            rooms_nack_ask(&nk, now, 1, &seq, 1, out);

            /* a poll before the repair time, and every other one late */
            (void) rooms_nack_poll(&nk, now + 10, &due);

            if (i & 1) {
                while (rooms_nack_poll(&nk, now + ROOMS_NACK_RTT0_MS, &due)) {
                    /* asked again */
                }
            }

            (void) rooms_nack_next(&nk);
            (void) rooms_nack_arrived(&nk, now + 50, 1, seq, 1, &w);
        }

        runs[r] = (now_ns() - t0) / LOSSES;
    }

    qsort(runs, RUNS, sizeof(double), cmp_double);

    return runs[RUNS / 2];
}


int
main(void)
{
    printf("NACK tracker (worker/nack.c), median of %d x %d lost packets "
           "(CPU time)\n", RUNS, LOSSES);
    printf("    per lost packet, tracker nearly empty        %8.1f ns\n",
           measure(0));
    printf("    per lost packet, %3d others tracked           %8.1f ns\n",
           ROOMS_NACK_MAX - 8, measure(ROOMS_NACK_MAX - 8));

    return 0;
}
