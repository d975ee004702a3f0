/*
 * bench_srtp.c: CPU time to protect and unprotect one 1200-byte RTP packet
 * with each SRTP profile, through worker/srtp.c and libsrtp2 on OpenSSL.
 *
 * Prints the median of 7 runs per figure, in ns per packet, and the ratio
 * of each figure to the cheapest one measured in the same run (the floor),
 * because this machine is shared and absolute numbers drift.  A benchmark,
 * not a test: nothing here passes or fails on time.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srtp.h"


#define PACKETS  100000
#define RUNS     7
#define SIZE     1200


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


/* median ns per packet of protect (unprotect = 0) or unprotect (1) */
static double
measure(unsigned profile, int unprotect)
{
    int           r;
    size_t        i, len, klen;
    double        t0, runs[RUNS];
    uint8_t       material[64], pkt[SIZE + 64];
    static uint8_t  sealed[PACKETS][SIZE + 32];
    static size_t   sealed_len[PACKETS];
    rooms_srtp_t  tx, rx;

    memset(material, 0x5a, sizeof(material));
    klen = rooms_srtp_keying_len(profile);

    for (r = 0; r < RUNS; r++) {
        rooms_srtp_create(&tx, profile, material, klen, 1);
        rooms_srtp_create(&rx, profile, material, klen, 0);

        if (unprotect) {
            for (i = 0; i < PACKETS; i++) {
                memset(pkt, (int) i, SIZE);
                pkt[0] = 0x80;
                pkt[1] = 96;
                pkt[2] = (uint8_t) (i >> 8);
                pkt[3] = (uint8_t) i;
                pkt[8] = 1;
                len = SIZE;
                rooms_srtp_protect(&tx, pkt, &len);
                memcpy(sealed[i], pkt, len);
                sealed_len[i] = len;
            }
        }

        t0 = now_ns();

        for (i = 0; i < PACKETS; i++) {
            if (unprotect) {
                len = sealed_len[i];
                if (rooms_srtp_unprotect(&rx, sealed[i], &len) != 0) {
                    fprintf(stderr, "unprotect failed at %zu\n", i);
                    exit(1);
                }

            } else {
                pkt[0] = 0x80;
                pkt[1] = 96;
                pkt[2] = (uint8_t) (i >> 8);
                pkt[3] = (uint8_t) i;
                pkt[8] = 1;
                len = SIZE;
                rooms_srtp_protect(&tx, pkt, &len);
            }
        }

        runs[r] = (now_ns() - t0) / PACKETS;

        rooms_srtp_destroy(&tx);
        rooms_srtp_destroy(&rx);
    }

    qsort(runs, RUNS, sizeof(double), cmp_double);

    return runs[RUNS / 2];
}


int
main(void)
{
    int         i;
    double      v[4], floor;
    const char  *names[4] = {
        "protect   AES_CM_128_HMAC_SHA1_80",
        "unprotect AES_CM_128_HMAC_SHA1_80",
        "protect   AEAD_AES_128_GCM",
        "unprotect AEAD_AES_128_GCM",
    };

    rooms_srtp_global_init();

    v[0] = measure(ROOMS_SRTP_AES128_CM_SHA1_80, 0);
    v[1] = measure(ROOMS_SRTP_AES128_CM_SHA1_80, 1);
    v[2] = measure(ROOMS_SRTP_AEAD_AES_128_GCM, 0);
    v[3] = measure(ROOMS_SRTP_AEAD_AES_128_GCM, 1);

    floor = v[0];
    for (i = 1; i < 4; i++) {
        if (v[i] < floor) {
            floor = v[i];
        }
    }

    printf("SRTP on libsrtp2+OpenSSL, %d-byte RTP, median of %d x %d "
           "packets (CPU time)\n", SIZE, RUNS, PACKETS);

    for (i = 0; i < 4; i++) {
        printf("  %-36s %8.0f ns/packet  %5.2fx floor\n", names[i], v[i],
               v[i] / floor);
    }

    return 0;
}
