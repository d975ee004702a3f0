/*
 * fuzz_twcc.c: libFuzzer target for the transport-wide-cc feedback parser
 * (worker/twcc.*).
 *
 * Feeds any bytes to the FCI parser (with room for every status, for
 * two, and for none) and to the whole-packet parser, and checks three
 * properties: the cap never changes the verdict or the count; the parsed
 * statuses are consistent (consecutive sequence numbers, no delta on a
 * lost packet, the received count); and a feedback of at most a window
 * of statuses survives rebuild -> parse: its received packets, given to a
 * fresh receiver at their arrival times, come back in packets of at most
 * 1200 bytes with the same arrival times (modulo the 24-bit reference
 * time's wrap), and the lost ones between them come back lost.  A
 * property failure aborts.
 *
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -Iworker \
 *         tests/fuzz/fuzz_twcc.c worker/twcc.c -o build/fuzz_twcc
 *     build/fuzz_twcc -max_total_time=60
 *
 * Without libFuzzer, -DROOMS_FUZZ_MAIN builds a main() that runs the
 * target once over each file named on the command line.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "twcc.h"


/* the reference time's period: 2^24 * 64 ms */
#define PERIOD_US  ((int64_t) (1 << 24) * ROOMS_TWCC_REF_US)

/*
 * Added to every arrival so the receiver's clock stays >= 0: the
 * reference time goes down to -2^23 * 64 ms, and a window of deltas moves
 * at most 1024 * 32768 * 250 us (8.4e9) from it.  A multiple of 64 ms, so
 * the rebuilt deltas are exact.
 */
#define OFFSET_US  (((int64_t) 1 << 23) + ((int64_t) 1 << 18)) \
                   * ROOMS_TWCC_REF_US


static rooms_twcc_status_t  all[65536], two[2];
static rooms_twcc_status_t  back[ROOMS_TWCC_WINDOW], got[ROOMS_TWCC_WINDOW];
static rooms_twcc_t         rx;


static void
check_statuses(const rooms_twcc_info_t *info, int n)
{
    int       i;
    unsigned  received;

    received = 0;

    for (i = 0; i < n; i++) {
        if (all[i].seq != (uint16_t) (info->base_seq + i) || all[i].status > 2
            || (all[i].status == ROOMS_TWCC_NOT_RECEIVED
                && (all[i].delta != 0 || all[i].at_us != 0))
            || (all[i].status == ROOMS_TWCC_SMALL_DELTA
                && (all[i].delta < 0 || all[i].delta > 255)))
        {
            abort();
        }

        received += all[i].status != ROOMS_TWCC_NOT_RECEIVED;
    }

    if (received != info->received || info->status_count != n) {
        abort();
    }
}


/*
 * all[0..n) (n <= a window) -> a receiver -> feedback -> parse -> back[]:
 * the statuses from the first received to the last come back, each once,
 * received exactly when they were, at the same time modulo the period.
 */
static void
round_trip(const rooms_twcc_info_t *info, int n)
{
    int                i, k, m, len, first, last;
    int64_t            now, d;
    uint8_t            pkt[1500];
    unsigned           fb;
    rooms_twcc_info_t  bi;

    rooms_twcc_init(&rx, 7, 9);
    first = -1;
    last = -1;
    now = 0;

    for (i = 0; i < n; i++) {
        back[i].status = 0xff;

        if (all[i].status == ROOMS_TWCC_NOT_RECEIVED) {
            continue;
        }

        if (rooms_twcc_input(&rx, all[i].at_us + OFFSET_US, all[i].seq) != 1)
        {
            abort();
        }

        first = first < 0 ? i : first;
        last = i;

        if (all[i].at_us + OFFSET_US > now) {
            now = all[i].at_us + OFFSET_US;
        }
    }

    fb = 0;

    while ((len = rooms_twcc_poll(&rx, now, pkt, sizeof(pkt))) > 0) {
        m = rooms_twcc_parse_packet(pkt, (size_t) len, &bi, got,
                                    ROOMS_TWCC_WINDOW);

        if (len > ROOMS_TWCC_MAX_LEN || len % 4 != 0 || m <= 0
            || m > ROOMS_TWCC_WINDOW || bi.fb_count != (uint8_t) fb
            || bi.sender_ssrc != 7 || bi.media_ssrc != 9 || ++fb > 2048)
        {
            abort();
        }

        for (k = 0; k < m; k++) {
            i = (uint16_t) (got[k].seq - info->base_seq);

            if (i < first || i > last || back[i].status != 0xff) {
                abort();
            }

            back[i] = got[k];
        }
    }

    if (len < 0 || rooms_twcc_timeout(&rx) != -1) {
        abort();
    }

    for (i = first; first >= 0 && i <= last; i++) {
        if (back[i].status == 0xff
            || (all[i].status == ROOMS_TWCC_NOT_RECEIVED)
               != (back[i].status == ROOMS_TWCC_NOT_RECEIVED))
        {
            abort();
        }

        if (all[i].status != ROOMS_TWCC_NOT_RECEIVED) {
            d = (back[i].at_us - all[i].at_us - OFFSET_US) % PERIOD_US;

            if (d != 0) {
                abort();
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                n, n2, n0, p;
    size_t             pad;
    rooms_twcc_info_t  info, info2;

    n = rooms_twcc_parse_fci(data, size, &info, all, 65536);
    n2 = rooms_twcc_parse_fci(data, size, &info2, two, 2);
    n0 = rooms_twcc_parse_fci(data, size, &info2, NULL, 0);

    /* the cap changes what is written, never the verdict */
    if (n != n2 || n != n0) {
        abort();
    }

    if (n >= 2 && (all[1].seq != two[1].seq || all[1].status != two[1].status
                   || all[1].delta != two[1].delta
                   || all[1].at_us != two[1].at_us))
    {
        abort();
    }

    if (n > 0) {
        check_statuses(&info, n);

        if (n <= ROOMS_TWCC_WINDOW) {
            round_trip(&info, n);
        }
    }

    /* the same bytes as a whole packet: it must refuse or agree */
    p = rooms_twcc_parse_packet(data, size, &info2, got, 16);

    if (p > 0) {
        pad = (data[0] & 0x20) ? data[size - 1] : 0;

        if (data[1] != 205 || (data[0] & 0x1f) != 15
            || rooms_twcc_parse_fci(data + 12, size - 12 - pad, &info, NULL, 0)
               != p)
        {
            abort();
        }
    }

    return 0;
}


#include "fuzz_main.h"
