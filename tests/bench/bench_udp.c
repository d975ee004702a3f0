/*
 * bench_udp.c: the media worker's own per-datagram cost on the UDP path,
 * outside forwarding (bench_forward has that): the egress flush
 * (worker/udp.c, rooms_udp_flush: address conversion, the batch per
 * socket, sendmmsg to a UDP socket on 127.0.0.1 that nobody reads, its
 * kernel time included), and the ingress demultiplexing of a datagram
 * from an address no session holds (sfu_udp_input_us: the first byte,
 * the ICE table's lookup by address, the count), which every media
 * packet pays before it reaches its session.  Median of 7 runs, CPU
 * time of the process, in ns per datagram.  A benchmark, not a test: it
 * prints figures and never fails on time.
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

#include "sfu.h"
#include "udp.h"


#define FANOUT    49                 /* datagrams per flush: a room of 50 */
#define FLUSHES   4000
#define INPUTS    400000
#define RUNS      7


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

    return x < y ? -1 : x > y;
}


static double
median(double *v)
{
    qsort(v, RUNS, sizeof(double), cmp_double);

    return v[RUNS / 2];
}


static int
bench_rng(void *ctx, void *buf, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        ((uint8_t *) buf)[i] = (uint8_t) (i * 131 + 7);
    }

    return 0;
}


int
main(void)
{
    int                  rx, r, k;
    double               fl[RUNS], in[RUNS];
    double               t0;
    char                 err[128];
    socklen_t            alen;
    uint8_t              pkt[1200];
    sfu_t               *sfu;
    sfu_io_t             io;
    sfu_conf_t           conf;
    rooms_udp_t         *u;
    rooms_stun_addr_t    to, from;
    struct sockaddr_in   dest;

    static sfu_dgram_t   q[FANOUT];

    rx = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&dest, 0, sizeof(dest));
    dest.sin_family = AF_INET;
    dest.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    alen = sizeof(dest);

    if (rx < 0 || bind(rx, (struct sockaddr *) &dest, sizeof(dest)) != 0
        || getsockname(rx, (struct sockaddr *) &dest, &alen) != 0)
    {
        fprintf(stderr, "bench_udp: socket: %s\n", strerror(errno));
        return 1;
    }

    /* rx stays open and is never read: nobody drains it */

#ifdef ROOMS_UDP_MAX_SOCKETS
    {
        const char  *ip = "127.0.0.1";
        u = rooms_udp_open(&ip, 1, 0, NULL);
    }
#else
    u = rooms_udp_open("127.0.0.1", 0);
#endif

    memset(&conf, 0, sizeof(conf));
    conf.announce_ip = "127.0.0.1";
    conf.port = 40000;
    conf.max_sessions = 1024;
    conf.rng = bench_rng;
    sfu = sfu_create(&conf, err, sizeof(err));

    if (u == NULL || sfu == NULL) {
        fprintf(stderr, "bench_udp: cannot start: %s\n", err);
        return 1;
    }

    memset(&to, 0, sizeof(to));
    to.family = 4;
    to.port = ntohs(dest.sin_port);
    memcpy(to.ip, &dest.sin_addr, 4);

    for (k = 0; k < FANOUT; k++) {
        q[k].addr = to;
        q[k].len = sizeof(pkt);
        memset(q[k].data, 0x80, sizeof(pkt));
    }

    memset(&io, 0, sizeof(io));
    io.q = q;
    io.cap = FANOUT;
    io.ctx = u;
    io.flush = rooms_udp_flush;

    /* an RTP-looking packet from an address without a session */
    memset(pkt, 0, sizeof(pkt));
    pkt[0] = 0x80;
    pkt[1] = 96;
    rooms_stun_addr_set(&from, "192.0.2.7", 5000);

    for (r = 0; r < RUNS; r++) {
        t0 = cpu_ns();

        for (k = 0; k < FLUSHES; k++) {
            io.n = FANOUT;
            rooms_udp_flush(u, &io);
        }

        fl[r] = (cpu_ns() - t0) / (FLUSHES * FANOUT);

        t0 = cpu_ns();

        for (k = 0; k < INPUTS; k++) {
            from.port = (uint16_t) (5000 + (k & 1023));
            sfu_udp_input_us(sfu, 1000000, &from, pkt, sizeof(pkt), &io);
        }

        in[r] = (cpu_ns() - t0) / INPUTS;
    }

    printf("UDP path, ns per datagram (median of %d runs)\n", RUNS);
    printf("    egress flush, %d per sendmmsg (kernel included)   %8.1f\n",
           FANOUT, median(fl));
    printf("    ingress demultiplexing, no session              %8.1f\n",
           median(in));

    sfu_destroy(sfu);
    rooms_udp_close(u);
    close(rx);

    return 0;
}
