/*
 * bench_resend.c: CPU time of the resend of repairs towards a subscriber
 * (worker/resend.c), the work the SFU adds: per status of a subscriber's
 * transport feedback (one slot look-up, whatever the packet; feedback as
 * at 5% loss: 100 statuses, 5 of them repairs, one of those lost), and
 * per NACK answer recorded (it looks for an earlier resend of the same
 * packet, a pass over the slots, only while resends of ours are in
 * flight).  Prints the median of 7 runs.  A benchmark, not a test:
 * nothing here passes or fails on time.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resend.h"


#define FEEDBACKS  20000
#define STATUSES   100
#define SENT       1000000
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


/* one run: ns per status reported */
static double
run_feedback(void)
{
    int                 f, k;
    double              t0;
    uint16_t            tw;
    int64_t             now;
    rooms_resend_due_t  out[8];
    volatile size_t     sink;

    rooms_resend_init(&rs);
    tw = 0;
    now = 0;
    sink = 0;
    t0 = now_ns();

    for (f = 0; f < FEEDBACKS; f++) {
        now += 50000;

        for (k = 0; k < 5; k++) {
            rooms_resend_sent(&rs, now, (uint16_t) (tw + k * 20), 1,
                              (uint16_t) (f * 5 + k), 1100, 0);
        }

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

    /* the recording and the filling in included: an upper bound */
    return (now_ns() - t0) / ((double) FEEDBACKS * STATUSES);
}


/*
 * One run: ns per NACK answer recorded, with `inflight` resends of ours
 * waiting for their feedback (0: no pass over the slots).
 */
static double
run_sent(unsigned inflight)
{
    int       i;
    double    t0;
    unsigned  k;

    rooms_resend_init(&rs);

    for (k = 0; k < inflight; k++) {
        rooms_resend_sent(&rs, 0, (uint16_t) (200 + k), 2,
                          (uint16_t) (60000 + k), 1100, 1);
    }

    t0 = now_ns();

    for (i = 0; i < SENT; i++) {
        rooms_resend_sent(&rs, i, (uint16_t) (i & 127), 1, (uint16_t) i,
                          1100, 0);
    }

    return (now_ns() - t0) / SENT;
}


int
main(void)
{
    int     i;
    double  a[RUNS], b[RUNS], c[RUNS];

    for (i = 0; i < RUNS; i++) {
        a[i] = run_feedback();
        b[i] = run_sent(0);
        c[i] = run_sent(4);
    }

    qsort(a, RUNS, sizeof(double), cmp);
    qsort(b, RUNS, sizeof(double), cmp);
    qsort(c, RUNS, sizeof(double), cmp);

    printf("repairs resent on feedback (worker/resend.c), median of %d "
           "runs (CPU time):\n", RUNS);
    printf("  per status of a feedback (100 statuses, 5 repairs recorded, "
           "1 lost): %.1f ns\n", a[RUNS / 2]);
    printf("  per NACK answer recorded, no resend in flight: %.1f ns\n",
           b[RUNS / 2]);
    printf("  per NACK answer recorded, 4 resends in flight (a pass over "
           "%d slots): %.1f ns\n", ROOMS_RESEND_SLOTS, c[RUNS / 2]);

    return 0;
}
