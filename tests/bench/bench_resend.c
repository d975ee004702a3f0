/*
 * bench_resend.c: CPU time of the resend of repairs towards a subscriber
 * (worker/resend.c), the work its transport feedback now adds: per
 * status a feedback reports (one slot look-up, whatever the packet), and
 * per repair sent (a NACK's answer also looks whether the packet was
 * resent before: a pass over the slots).  Feedback as at 5% loss: 100
 * statuses, 5 of them repairs, one of those lost.
 *
 * Prints the median of 7 runs.  A benchmark, not a test: nothing here
 * passes or fails on time.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resend.h"


#define FEEDBACKS  20000
#define STATUSES   100
#define RUNS       7


static double
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);

    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}


static int
cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


static rooms_resend_t       rs;
static rooms_twcc_status_t  st[STATUSES];


/* one run: ns per status (*per_repair: ns per repair recorded) */
static double
run(double *per_repair)
{
    int                 f, k;
    double              t0, t1, t_sent;
    uint16_t            tw;
    int64_t             now;
    rooms_resend_due_t  out[8];
    volatile size_t     sink;

    rooms_resend_init(&rs);
    tw = 0;
    now = 0;
    t_sent = 0;
    sink = 0;
    t0 = now_ns();

    for (f = 0; f < FEEDBACKS; f++) {
        now += 50000;

        t1 = now_ns();
        for (k = 0; k < 5; k++) {
            rooms_resend_sent(&rs, now, (uint16_t) (tw + k * 20), 1,
                              (uint16_t) (f * 5 + k), 1100, 0);
        }
        t_sent += now_ns() - t1;

        for (k = 0; k < STATUSES; k++) {
            st[k].seq = (uint16_t) (tw + k);
            st[k].status = k == 40 ? ROOMS_TWCC_NOT_RECEIVED
                                   : ROOMS_TWCC_SMALL_DELTA;
        }

        sink += rooms_resend_feedback(&rs, now + 40000, st, STATUSES,
                                      2000000, out, 8);
        tw = (uint16_t) (tw + STATUSES);
    }

    (void) sink;
    *per_repair = t_sent / (FEEDBACKS * 5.0);

    /* the statuses' share: the whole loop less the recording */
    return (now_ns() - t0 - t_sent) / ((double) FEEDBACKS * STATUSES);
}


int
main(void)
{
    int     i;
    double  a[RUNS], b[RUNS];

    for (i = 0; i < RUNS; i++) {
        a[i] = run(&b[i]);
    }

    qsort(a, RUNS, sizeof(double), cmp);
    qsort(b, RUNS, sizeof(double), cmp);

    printf("repairs resent on feedback (worker/resend.c), median of %d x "
           "%d feedbacks of %d statuses:\n", RUNS, FEEDBACKS, STATUSES);
    printf("  per status reported (filling them in included): %.1f ns\n",
           a[RUNS / 2]);
    printf("  per repair recorded (a NACK's answer, its pass over %d "
           "slots): %.1f ns\n", ROOMS_RESEND_SLOTS, b[RUNS / 2]);

    return 0;
}
