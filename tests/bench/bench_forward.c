/*
 * bench_forward.c: CPU time per forwarded packet at fan-out 49 (one
 * publisher, 49 subscribers: a 50-person room), through the worker's
 * real cores: SRTP unprotect of the inbound packet (worker/srtp.c on
 * libsrtp2+OpenSSL), header parse and route lookup, then per subscriber
 * a copy, rooms_fwd_rewrite() and rooms_fwd_vp8() (VP8's numbers),
 * rooms_hist_put() and SRTP protect with
 * that subscriber's own outbound context.
 *
 * Beside it, measured in the same run: the floor, protect alone per
 * egress packet, and the ratio forward/floor.  Both again with the
 * egress datagrams handed to the kernel by sendmmsg (49 per call) to a
 * UDP socket on 127.0.0.1 that nobody reads (its receive buffer fills,
 * the kernel then drops at the socket), so the send cost shows separately.
 * Both SRTP profiles.  Median of 5 runs, CPU time of the process
 * (CLOCK_PROCESS_CPUTIME_ID, kernel time of the sends included).  A
 * benchmark, not a test: it prints figures and never fails on time.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bwe.h"
#include "forward.h"
#include "rtp.h"
#include "srtp.h"
#include "twcc.h"


#define FANOUT    49
#define INBOUND   4000               /* inbound packets per run */
#define RUNS      5
#define SIZE      1200               /* plaintext RTP bytes */
#define BUFSZ     (SIZE + 64)
#define ROUTES    64                 /* route table slots (power of 2) */
#define PUB_SSRC  0x5eed0001u


typedef struct {
    uint32_t         ssrc;
    unsigned         n;
    unsigned         subs[FANOUT];
} route_t;


static rooms_srtp_t    subs[FANOUT];
static rooms_fwd_t     fwds[FANOUT];
static rooms_hist_t    hists[FANOUT];
static rooms_bwe_t     bwes[FANOUT];     /* one estimator per subscriber */
static rooms_twcc_t    twcc_in;          /* the publisher's feedback */
static uint16_t        tx_seq[FANOUT];
static uint8_t         sealed[INBOUND][BUFSZ];
static size_t          sealed_len[INBOUND];
static uint8_t         egress[FANOUT][BUFSZ];
static route_t         routes[ROUTES];
static uint16_t        in_seq;       /* the publisher's, across runs */

static int             send_fd = -1;
static struct sockaddr_in  dest;
static struct mmsghdr  msgs[FANOUT];
static struct iovec    iovs[FANOUT];
static unsigned long   send_short;


static double
cpu_ns(void)
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


static double
median(double *v)
{
    qsort(v, RUNS, sizeof(double), cmp_double);
    return v[RUNS / 2];
}


static void
keying(uint8_t *m, size_t len, unsigned who)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        m[i] = (uint8_t) (i * 13 + 1 + who * 7);
    }
}


/* an open-addressed SSRC -> subscribers table, as the router would keep */
static route_t *
route_find(uint32_t ssrc)
{
    unsigned  i, k;

    i = (ssrc * 2654435761u) >> 26;

    for (k = 0; k < ROUTES; k++) {
        if (routes[(i + k) & (ROUTES - 1)].ssrc == ssrc) {
            return &routes[(i + k) & (ROUTES - 1)];
        }
    }

    return NULL;
}


static void
route_setup(void)
{
    unsigned  i, k, slot;
    uint32_t  ssrc;

    /* 50 publishers' streams in the table, ours among them */
    for (k = 0; k < 50; k++) {
        ssrc = k == 0 ? PUB_SSRC : 0x1000 + k * 77;
        slot = (ssrc * 2654435761u) >> 26;

        while (routes[slot & (ROUTES - 1)].ssrc != 0) {
            slot++;
        }

        routes[slot & (ROUTES - 1)].ssrc = ssrc;
        routes[slot & (ROUTES - 1)].n = FANOUT;

        for (i = 0; i < FANOUT; i++) {
            routes[slot & (ROUTES - 1)].subs[i] = i;
        }
    }
}


/* fresh outbound contexts for every subscriber (outside the timing) */
static void
subs_create(unsigned profile)
{
    unsigned  k;
    uint8_t   m[64];

    for (k = 0; k < FANOUT; k++) {
        keying(m, sizeof(m), k + 1);
        rooms_srtp_create(&subs[k], profile, m,
                          rooms_srtp_keying_len(profile), 1);
    }
}


static void
subs_destroy(void)
{
    unsigned  k;

    for (k = 0; k < FANOUT; k++) {
        rooms_srtp_destroy(&subs[k]);
    }
}


/*
 * The publisher's packets of one run, protected by a browser-side (DTLS
 * client) context; *pub gets the matching fresh server context.
 */
static void
seal_inbound(unsigned profile, rooms_srtp_t *pub)
{
    size_t        i, len;
    uint8_t       m[64], *b;
    uint32_t      ts;
    rooms_srtp_t  client;

    keying(m, sizeof(m), 0);
    rooms_srtp_create(pub, profile, m, rooms_srtp_keying_len(profile), 1);
    rooms_srtp_create(&client, profile, m, rooms_srtp_keying_len(profile),
                      0);

    for (i = 0; i < INBOUND; i++) {
        b = sealed[i];

        memset(b, (int) i, SIZE);
        b[0] = 0x90;                         /* V=2, X */
        b[1] = 96;
        b[2] = (uint8_t) (in_seq >> 8);
        b[3] = (uint8_t) in_seq;
        ts = (uint32_t) (in_seq / 4) * 3000; /* 4 packets per frame */
        b[4] = (uint8_t) (ts >> 24);
        b[5] = (uint8_t) (ts >> 16);
        b[6] = (uint8_t) (ts >> 8);
        b[7] = (uint8_t) ts;
        b[8] = (uint8_t) (PUB_SSRC >> 24);
        b[9] = (uint8_t) (PUB_SSRC >> 16);
        b[10] = (uint8_t) (PUB_SSRC >> 8);
        b[11] = (uint8_t) PUB_SSRC;
        /* one-byte extensions: mid, abs-send-time, transport-cc */
        b[12] = 0xbe;
        b[13] = 0xde;
        b[14] = 0;
        b[15] = 3;
        b[16] = 0x40;
        b[17] = '0';
        b[18] = 0x22;
        b[22] = 0x31;
        b[25] = b[26] = b[27] = 0;
        b[28] = 0x90;                        /* VP8 descriptor */
        b[29] = 0x80;
        b[30] = (uint8_t) (i & 0x7f);
        b[31] = 0x01;                        /* a delta frame */

        len = SIZE;
        rooms_srtp_protect(&client, b, &len);
        sealed_len[i] = len;
        in_seq++;
    }

    rooms_srtp_destroy(&client);
}


/* hands the FANOUT egress datagrams to the kernel */
static void
send_all(const size_t *lens)
{
    int       rc;
    unsigned  k, done;

    for (k = 0; k < FANOUT; k++) {
        iovs[k].iov_len = lens[k];
    }

    done = 0;

    while (done < FANOUT) {
        rc = sendmmsg(send_fd, msgs + done, FANOUT - done, MSG_DONTWAIT);

        if (rc <= 0) {
            send_short += FANOUT - done;
            return;
        }

        done += (unsigned) rc;
    }
}


/* ns of CPU per egress packet for one run of the whole forwarding path */
static double
run_forward(unsigned profile, int with_send, int with_cc, int64_t *now_ms)
{
    int              r;
    size_t           i, len, elen[FANOUT];
    unsigned         k, s;
    double           t0;
    route_t         *route;
    uint16_t         twseq;
    rooms_rtp_t      rtp, out;
    rooms_srtp_t     pub;

    seal_inbound(profile, &pub);
    subs_create(profile);

    t0 = cpu_ns();

    for (i = 0; i < INBOUND; i++) {
        len = sealed_len[i];

        if (rooms_srtp_unprotect(&pub, sealed[i], &len) != ROOMS_SRTP_OK
            || rooms_rtp_parse(sealed[i], len, &rtp) != 0)
        {
            fprintf(stderr, "inbound packet %zu refused\n", i);
            exit(1);
        }

        route = route_find(rtp.ssrc);

        /* transport feedback to the publisher: the arrival recorded */
        if (with_cc && rooms_rtp_get_twcc_seq(&rtp, 3, &twseq) == 0) {
            (void) rooms_twcc_input(&twcc_in, *now_ms * 1000 + (int64_t) i,
                                    (uint16_t) (twseq + i));
        }

        /* 4 packets per 20 ms... a video frame every 33 ms is close */
        if (i % 4 == 0) {
            *now_ms += 33;
        }

        for (s = 0; s < route->n; s++) {
            k = route->subs[s];

            memcpy(egress[k], sealed[i], len);
            r = rooms_fwd_rewrite(&fwds[k], *now_ms, egress[k], len);

            if (r < 0) {
                continue;
            }

            /* VP8's PictureID and TL0PICIDX, as sfu_forward() does */
            rooms_fwd_vp8(&fwds[k], egress[k] + rtp.payload_off,
                          rtp.payload_len);

            /* our transport-wide number and the estimator's record */
            if (with_cc && rooms_rtp_parse(egress[k], len, &out) == 0
                && rooms_rtp_set_twcc_seq(egress[k], &out, 3, tx_seq[k]) == 0)
            {
                rooms_bwe_sent(&bwes[k], *now_ms * 1000, tx_seq[k]++,
                               len + 16, 0);
            }

            rooms_hist_put(&hists[k], egress[k], len);

            elen[k] = len;
            rooms_srtp_protect(&subs[k], egress[k], &elen[k]);
        }

        if (with_send) {
            send_all(elen);
        }
    }

    t0 = (cpu_ns() - t0) / ((double) INBOUND * FANOUT);

    rooms_srtp_destroy(&pub);
    subs_destroy();

    return t0;
}


/* the floor: protect alone (and optionally the send) per egress packet */
static double
run_floor(unsigned profile, int with_send)
{
    size_t    i, elen[FANOUT];
    unsigned  k;
    double    t0;
    uint16_t  seq;

    subs_create(profile);

    for (k = 0; k < FANOUT; k++) {
        memset(egress[k], 0x33, SIZE);
        egress[k][0] = 0x80;
        egress[k][1] = 96;
        egress[k][8] = (uint8_t) k;
    }

    t0 = cpu_ns();

    for (i = 0; i < INBOUND; i++) {
        seq = (uint16_t) i;

        for (k = 0; k < FANOUT; k++) {
            egress[k][2] = (uint8_t) (seq >> 8);
            egress[k][3] = (uint8_t) seq;
            elen[k] = SIZE;
            rooms_srtp_protect(&subs[k], egress[k], &elen[k]);
        }

        if (with_send) {
            send_all(elen);
        }
    }

    t0 = (cpu_ns() - t0) / ((double) INBOUND * FANOUT);

    subs_destroy();

    return t0;
}


/* rewrite + history put alone, on plaintext copies (no SRTP, no send) */
static double
run_rewrite(int64_t *now_ms)
{
    size_t    i, len;
    unsigned  k;
    double    t0;
    uint16_t  seq;

    t0 = cpu_ns();

    for (i = 0; i < INBOUND; i++) {
        seq = in_seq++;
        sealed[0][2] = (uint8_t) (seq >> 8);
        sealed[0][3] = (uint8_t) seq;
        len = SIZE;

        if (i % 4 == 0) {
            *now_ms += 33;
        }

        for (k = 0; k < FANOUT; k++) {
            memcpy(egress[k], sealed[0], len);

            if (rooms_fwd_rewrite(&fwds[k], *now_ms, egress[k], len) >= 0) {
                rooms_fwd_vp8(&fwds[k], egress[k] + 28, len - 28);
                rooms_hist_put(&hists[k], egress[k], len);
            }
        }
    }

    return (cpu_ns() - t0) / ((double) INBOUND * FANOUT);
}


static const char *
socket_setup(void)
{
    int                 rx, size;
    unsigned            k;
    socklen_t           alen;
    static char         why[128];

    rx = socket(AF_INET, SOCK_DGRAM, 0);
    send_fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (rx < 0 || send_fd < 0) {
        snprintf(why, sizeof(why), "socket: %s", strerror(errno));
        return why;
    }

    memset(&dest, 0, sizeof(dest));
    dest.sin_family = AF_INET;
    dest.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    alen = sizeof(dest);

    if (bind(rx, (struct sockaddr *) &dest, sizeof(dest)) != 0
        || getsockname(rx, (struct sockaddr *) &dest, &alen) != 0)
    {
        snprintf(why, sizeof(why), "bind: %s", strerror(errno));
        return why;
    }

    /* a large send buffer; FORCE passes wmem_max when run as root */
    size = 8 * 1024 * 1024;

    if (setsockopt(send_fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
                   sizeof(size)) != 0)
    {
        setsockopt(send_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    }

    /* rx stays open and is never read: nobody drains it */

    for (k = 0; k < FANOUT; k++) {
        iovs[k].iov_base = egress[k];
        memset(&msgs[k], 0, sizeof(struct mmsghdr));
        msgs[k].msg_hdr.msg_name = &dest;
        msgs[k].msg_hdr.msg_namelen = sizeof(dest);
        msgs[k].msg_hdr.msg_iov = &iovs[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
    }

    return NULL;
}


static void
bench_profile(unsigned profile, const char *name, const char *no_send)
{
    int      r;
    int64_t  now_ms;
    double   fw[RUNS], fl[RUNS], fws[RUNS], fls[RUNS], rw[RUNS], fc[RUNS];
    double   f, fo, fs, fos, w, c;

    now_ms = 0;

    for (r = 0; r < RUNS; r++) {
        fw[r] = run_forward(profile, 0, 0, &now_ms);
        fc[r] = run_forward(profile, 0, 1, &now_ms);
        fl[r] = run_floor(profile, 0);
        rw[r] = run_rewrite(&now_ms);

        if (no_send == NULL) {
            fws[r] = run_forward(profile, 1, 0, &now_ms);
            fls[r] = run_floor(profile, 1);
        }
    }

    f = median(fw);
    fo = median(fl);
    w = median(rw);
    c = median(fc);

    printf("%s\n", name);
    printf("  without send:\n");
    printf("    forward (unprotect+route+rewrite+history+protect) "
           "%7.0f ns/egress pkt\n", f);
    printf("    floor (protect alone)                             "
           "%7.0f ns/egress pkt\n", fo);
    printf("    ratio forward/floor                               "
           "%7.2fx\n", f / fo);
    printf("    (forward per inbound packet fanned out to %d        "
           "%7.1f us)\n", FANOUT, f * FANOUT / 1000);
    printf("    (rewrite+history alone, plaintext copy)            "
           "%6.0f ns/egress pkt)\n", w);
    printf("    forward + congestion control (transport-wide number\n"
           "      parsed, set and recorded in the subscriber's\n"
           "      estimator, the publisher's arrival recorded: an\n"
           "      upper bound, the SFU writes the number as it\n"
           "      builds the packet, with no parse)               "
           "%7.0f ns/egress pkt\n", c);
    printf("    ratio forward+cc/floor                            "
           "%7.2fx (added %.0f ns/egress pkt)\n", c / fo, c - f);

    if (no_send != NULL) {
        printf("  with sendmmsg: not measured (%s)\n", no_send);
        return;
    }

    fs = median(fws);
    fos = median(fls);

    printf("  with sendmmsg (%d datagrams per call, 127.0.0.1, "
           "undrained socket):\n", FANOUT);
    printf("    forward + sendmmsg                                "
           "%7.0f ns/egress pkt\n", fs);
    printf("    floor (protect + sendmmsg)                        "
           "%7.0f ns/egress pkt\n", fos);
    printf("    ratio forward/floor                               "
           "%7.2fx\n", fs / fos);
    printf("    (send cost alone, floor with - without            "
           "%7.0f ns/egress pkt)\n", fos - fo);
}


int
main(void)
{
    unsigned     k;
    const char  *no_send;

    if (rooms_srtp_global_init() != 0) {
        fprintf(stderr, "libsrtp init failed\n");
        return 1;
    }

    route_setup();
    rooms_twcc_init(&twcc_in, 1, 2);

    for (k = 0; k < FANOUT; k++) {
        rooms_bwe_init(&bwes[k], 800000, 50000, 20000000);
        rooms_fwd_init(&fwds[k], 0x70000000u + k, 90000,
                       (uint16_t) (k * 1000), k * 100000u);

        if (rooms_hist_init(&hists[k], ROOMS_HIST_DEFAULT) != 0) {
            fprintf(stderr, "history allocation failed\n");
            return 1;
        }
    }

    no_send = socket_setup();

    printf("forwarding at fan-out %d, %d-byte RTP (VP8, 3 extensions), "
           "median of %d runs x %d inbound = %d egress packets, "
           "CPU time (CLOCK_PROCESS_CPUTIME_ID)\n",
           FANOUT, SIZE, RUNS, INBOUND, INBOUND * FANOUT);
    printf("NACK history: %d subscribers x %d slots x %d bytes = "
           "%.1f MB\n", FANOUT, ROOMS_HIST_DEFAULT, ROOMS_HIST_SLOT,
           (double) FANOUT * ROOMS_HIST_DEFAULT * ROOMS_HIST_SLOT / 1e6);

    bench_profile(ROOMS_SRTP_AES128_CM_SHA1_80, "AES_CM_128_HMAC_SHA1_80",
                  no_send);
    bench_profile(ROOMS_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM", no_send);

    if (send_short) {
        printf("note: %lu datagrams were not accepted by sendmmsg\n",
               send_short);
    }

    for (k = 0; k < FANOUT; k++) {
        rooms_hist_free(&hists[k]);
    }

    return 0;
}
