/*
 * fuzz_bwe.c: libFuzzer target for the send-side bandwidth estimator
 * (worker/bwe.*).
 *
 * The input is a script: each step is an opcode byte and its operands.
 * Steps send packets (any sizes, probe clusters real or made up, the
 * 16-bit wrap, a counter that jumps), deliver feedback made of statuses
 * (numbers near the highest sent or anywhere, any status, any arrival
 * time, duplicates and reordering as the bytes fall), deliver raw bytes
 * through rooms_twcc_parse_fci() as the SFU would, poll the timer with
 * any wanted rate, and move the clock (sometimes backwards).  After each
 * step: the estimate is within [min, max], the rates are finite and not
 * negative, a probe asked for is bounded (1..15 packets of 200..1200
 * bytes, a positive interval, a target within max), and right after a
 * poll the timeout is -1 or later than the poll's time (a timer loop
 * never spins).  A property failure aborts; UBSan catches
 * overflows and float casts out of range.
 *
 *     make build/fuzz/fuzz_bwe
 *     build/fuzz/fuzz_bwe -max_total_time=60
 *
 * Without libFuzzer, -DROOMS_FUZZ_MAIN builds a main() that runs the
 * target once over each file named on the command line.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bwe.h"
#include "twcc.h"


#define MAX_STATUSES  256


static rooms_bwe_t          bwe;
static rooms_twcc_status_t  st[MAX_STATUSES];


typedef struct {
    const uint8_t  *p;
    size_t          n;
} input_t;


static unsigned
take8(input_t *in)
{
    unsigned  v;

    if (in->n == 0) {
        return 0;
    }

    v = in->p[0];
    in->p++;
    in->n--;

    return v;
}


static unsigned
take16(input_t *in)
{
    return (take8(in) << 8) | take8(in);
}


static uint64_t
take64(input_t *in)
{
    uint64_t  v;
    unsigned  i;

    v = 0;

    for (i = 0; i < 8; i++) {
        v = (v << 8) | take8(in);
    }

    return v;
}


static void
check(const rooms_bwe_t *b)
{
    uint32_t  e;

    e = rooms_bwe_estimate(b);

    if (e < b->min_bps || e > b->max_bps) {
        abort();
    }

    /* NaN fails both comparisons */
    if (!(b->delay_bps >= 0) || !(b->loss_bps >= 0)
        || !(b->delay_bps <= 4294967295.0) || !(b->loss_bps <= 4294967295.0)
        || !(b->threshold >= 6.0 && b->threshold <= 600.0)
        || b->rtt_us < 0)
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                i, k, n, rc;
    int64_t            now, t;
    uint16_t           seq, base;
    unsigned           op, cluster, want;
    input_t            in;
    rooms_bwe_probe_t  p;
    rooms_twcc_info_t  info;

    in.p = data;
    in.n = size;

    rooms_bwe_init(&bwe, take16(&in) * 100, 30000, 30000 + take16(&in) * 1000);
    now = 0;
    seq = (uint16_t) take16(&in);
    cluster = 0;

    while (in.n > 0) {
        op = take8(&in);

        switch (op % 6) {

        case 0:
            /* a burst of packets, some of the cluster asked for */
            n = (int) take8(&in) % 64;

            for (i = 0; i < n; i++) {
                k = (int) take8(&in);
                rooms_bwe_sent(&bwe, now, seq++, (size_t) k * 10,
                               (k & 1) ? cluster : (k & 2) ? (unsigned) k : 0u);
                now += take8(&in) * 50;
            }

            break;

        case 1:
            /* a feedback of statuses near the highest sent */
            base = (uint16_t) (seq - take16(&in) % 600);
            n = (int) take8(&in) % MAX_STATUSES;
            t = (int64_t) take16(&in) * 1000;

            for (i = 0; i < n; i++) {
                k = (int) take8(&in);
                st[i].seq = (k & 0x80) ? (uint16_t) take16(&in)
                                       : (uint16_t) (base + i);
                st[i].status = (uint8_t) (k % 3);
                st[i].delta = 0;
                t += (k & 0x40) ? (int64_t) take16(&in) * 250 - 4000000
                                : (k & 0x3f) * 250;
                st[i].at_us = st[i].status ? t : 0;
            }

            rooms_bwe_feedback(&bwe, now, st, (size_t) n);
            break;

        case 2:
            /* statuses with arrival times of any value */
            n = (int) take8(&in) % 16;

            for (i = 0; i < n; i++) {
                st[i].seq = (uint16_t) (seq - 1 - take8(&in));
                st[i].status = (uint8_t) (take8(&in) % 3);
                st[i].delta = 0;
                st[i].at_us = (int64_t) take64(&in);
            }

            rooms_bwe_feedback(&bwe, now, st, (size_t) n);
            break;

        case 3:
            /* raw bytes through the parser, as the SFU does */
            n = (int) take8(&in);

            if ((size_t) n > in.n) {
                n = (int) in.n;
            }

            rc = rooms_twcc_parse_fci(in.p, (size_t) n, &info, st,
                                      MAX_STATUSES);
            in.p += n;
            in.n -= (size_t) n;

            if (rc > 0) {
                rooms_bwe_feedback(&bwe, now, st,
                                   rc < MAX_STATUSES ? (size_t) rc
                                                     : MAX_STATUSES);
            }

            break;

        case 4:
            /* the timer, with what the caller would like to send */
            want = take16(&in) * 1000;

            if (rooms_bwe_poll(&bwe, now, want, &p)) {
                if (p.packets < 1 || p.packets > ROOMS_BWE_PROBE_PACKETS
                    || p.bytes < 200 || p.bytes > 1200
                    || p.interval_us <= 0 || p.target_bps > bwe.max_bps
                    || p.cluster == ROOMS_BWE_NO_PROBE)
                {
                    abort();
                }

                cluster = p.cluster;
            }

            /* right after a poll, the next one is later (no spinning) */
            t = rooms_bwe_timeout(&bwe);

            if (t != -1 && t <= bwe.now_us) {
                abort();
            }

            break;

        default:
            /* the clock: forward a little or a lot, or backwards */
            k = (int) take8(&in);
            now += (k & 0x80) ? (int64_t) take16(&in) * 1000
                              : (int64_t) (k & 0x7f) * 1000;

            if (k == 0x7f) {
                now -= 50000;
                now = now < 0 ? 0 : now;
            }

            if (k == 0x7e) {
                seq = (uint16_t) take16(&in);
            }

            break;
        }

        check(&bwe);
    }

    return 0;
}


#include "fuzz_main.h"
