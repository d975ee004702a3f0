/*
 * udp.c: the media worker's UDP socket (see udp.h).
 *
 * Owns: every system call on the UDP socket, and the sockaddr
 * conversions.
 * Must never: block, or wait for the socket to drain.
 * May not: include rooms_ring.h, include <sys/epoll.h>, call rooms_ring_, call epoll_, call clock_gettime
 */

#define _GNU_SOURCE                 /* recvmmsg, sendmmsg */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "loop.h"
#include "udp.h"


/* datagrams per recvmmsg and per sendmmsg call */
#define W_BATCH            32

/*
 * recvmmsg calls per wakeup before the loop looks at everything else:
 * 16 x 32 datagrams keeps signaling and timers responsive under a flood.
 */
#define W_RX_ROUNDS        16

/* a received datagram: larger than any MTU, so truncation is visible */
#define W_RX_MAX           2048

/* socket buffers: a keyframe burst to 50 subscribers is ~4 MiB */
#define W_SOCKBUF          (8 * 1024 * 1024)


struct rooms_udp_s {
    int                      fd[ROOMS_UDP_MAX_SOCKETS];
    int                      family[ROOMS_UDP_MAX_SOCKETS];
    unsigned                 n;
    uint64_t                 tx_fail;

    rooms_udp_tcp_pt         tcp;
    void                    *tcp_ctx;

    /* receive batch */
    struct mmsghdr           rx_msgs[W_BATCH];
    struct iovec             rx_iov[W_BATCH];
    struct sockaddr_storage  rx_addr[W_BATCH];
    uint8_t                  rx_buf[W_BATCH][W_RX_MAX];
};


int
rooms_udp_addr_from_sockaddr(rooms_stun_addr_t *addr,
    const struct sockaddr *sa, socklen_t salen)
{
    const struct sockaddr_in   *sin;
    const struct sockaddr_in6  *sin6;

    static const uint8_t  v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                           0xff, 0xff };

    memset(addr, 0, sizeof(*addr));

    if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
        sin = (const struct sockaddr_in *) sa;
        addr->family = 4;
        addr->port = ntohs(sin->sin_port);
        memcpy(addr->ip, &sin->sin_addr, 4);
        return 0;
    }

    if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
        sin6 = (const struct sockaddr_in6 *) sa;
        addr->port = ntohs(sin6->sin6_port);

        if (memcmp(sin6->sin6_addr.s6_addr, v4mapped, 12) == 0) {
            addr->family = 4;
            memcpy(addr->ip, sin6->sin6_addr.s6_addr + 12, 4);

        } else {
            addr->family = 6;
            memcpy(addr->ip, sin6->sin6_addr.s6_addr, 16);
        }

        return 0;
    }

    return -1;
}


socklen_t
rooms_udp_addr_to_sockaddr(const rooms_stun_addr_t *addr, int sock_family,
    struct sockaddr_storage *ss)
{
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    memset(ss, 0, sizeof(*ss));

    if (addr->family == 4 && sock_family == AF_INET) {
        sin = (struct sockaddr_in *) ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(addr->port);
        memcpy(&sin->sin_addr, addr->ip, 4);
        return sizeof(struct sockaddr_in);
    }

    if ((addr->family == 4 || addr->family == 6) && sock_family == AF_INET6) {
        sin6 = (struct sockaddr_in6 *) ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(addr->port);

        if (addr->family == 4) {
            sin6->sin6_addr.s6_addr[10] = 0xff;
            sin6->sin6_addr.s6_addr[11] = 0xff;
            memcpy(sin6->sin6_addr.s6_addr + 12, addr->ip, 4);

        } else {
            memcpy(sin6->sin6_addr.s6_addr, addr->ip, 16);
        }

        return sizeof(struct sockaddr_in6);
    }

    return 0;
}



/*
 * Sends everything queued with sendmmsg, in order, a batch per run of
 * datagrams for one socket (via); datagrams for TCP connections go to
 * the TCP side.  What the kernel refuses drops.
 */
void
rooms_udp_flush(void *ctx, sfu_io_t *io)
{
    rooms_udp_t             *u = ctx;
    int                      n;
    unsigned                 i, k, batch, via;
    socklen_t                alen;
    sfu_dgram_t             *d;
    struct iovec             iov[W_BATCH];
    struct mmsghdr           msgs[W_BATCH];
    struct sockaddr_storage  addr[W_BATCH];

    i = 0;

    while (i < io->n) {
        batch = 0;
        via = io->q[i].addr.via;

        while (batch < W_BATCH && i < io->n) {
            d = &io->q[i];

            if (d->addr.via >= ROOMS_VIA_TCP) {
                if (u->tcp != NULL) {
                    u->tcp(u->tcp_ctx, d);

                } else {
                    u->tx_fail++;
                }

                i++;
                continue;
            }

            if (d->addr.via != via) {
                if (batch > 0) {
                    break;
                }

                via = d->addr.via;
            }

            i++;

            alen = via < u->n ? rooms_udp_addr_to_sockaddr(&d->addr,
                                    u->family[via], &addr[batch])
                              : 0;

            if (alen == 0) {
                /* an address this socket cannot reach: skip it */
                u->tx_fail++;
                continue;
            }

            iov[batch].iov_base = d->data;
            iov[batch].iov_len = d->len;
            memset(&msgs[batch], 0, sizeof(struct mmsghdr));
            msgs[batch].msg_hdr.msg_name = &addr[batch];
            msgs[batch].msg_hdr.msg_namelen = alen;
            msgs[batch].msg_hdr.msg_iov = &iov[batch];
            msgs[batch].msg_hdr.msg_iovlen = 1;
            batch++;
        }

        for (k = 0; k < batch; ) {
            n = sendmmsg(u->fd[via], &msgs[k], batch - k, 0);

            if (n > 0) {
                k += (unsigned) n;
                continue;
            }

            if (n == -1 && errno == EINTR) {
                continue;
            }

            if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                /* the socket buffer is full: never wait, drop the rest */
                u->tx_fail += batch - k;
                break;
            }

            /* this datagram failed (unreachable, ...): skip it */
            u->tx_fail++;
            rooms_log(ROOMS_LOG_DEBUG, "sendmmsg: %s", strerror(errno));
            k++;
        }
    }

    io->n = 0;
}



void
rooms_udp_read(rooms_udp_t *u, unsigned via, uint64_t now, sfu_t *sfu,
    sfu_io_t *io)
{
    int                 n, i;
    uint64_t            now_us;
    unsigned            round;
    rooms_stun_addr_t   src;

    for (round = 0; round < W_RX_ROUNDS; round++) {
        for (i = 0; i < W_BATCH; i++) {
            u->rx_iov[i].iov_base = u->rx_buf[i];
            u->rx_iov[i].iov_len = W_RX_MAX;
            memset(&u->rx_msgs[i], 0, sizeof(struct mmsghdr));
            u->rx_msgs[i].msg_hdr.msg_name = &u->rx_addr[i];
            u->rx_msgs[i].msg_hdr.msg_namelen = sizeof(u->rx_addr[i]);
            u->rx_msgs[i].msg_hdr.msg_iov = &u->rx_iov[i];
            u->rx_msgs[i].msg_hdr.msg_iovlen = 1;
        }

        n = recvmmsg(u->fd[via], u->rx_msgs, W_BATCH, MSG_DONTWAIT, NULL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                rooms_log(ROOMS_LOG_WARN, "recvmmsg: %s", strerror(errno));
            }

            return;
        }

        /*
         * arrival times feed transport feedback in 250 µs steps: the
         * clock is read for each batch, not once per wakeup (now)
         */
        now_us = rooms_loop_now_us();

        for (i = 0; i < n; i++) {
            if (u->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                continue;
            }

            if (rooms_udp_addr_from_sockaddr(&src,
                    (struct sockaddr *) &u->rx_addr[i],
                    u->rx_msgs[i].msg_hdr.msg_namelen) != 0)
            {
                continue;
            }

            src.via = (uint16_t) via;

            sfu_udp_input_us(sfu, now_us, &src, u->rx_buf[i],
                             u->rx_msgs[i].msg_len, io);
        }

        rooms_udp_flush(u, io);

        if (n < W_BATCH) {
            return;
        }
    }
}



/* Binds one socket on bind_ip:port into u->fd[u->n]: 0, or -1 (logged). */
static int
rooms_udp_bind(rooms_udp_t *u, const char *bind_ip, uint16_t port)
{
    int                  fd, one, size, family;
    socklen_t            len;
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));

    if (inet_pton(AF_INET, bind_ip, &sin.sin_addr) == 1) {
        family = AF_INET;
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        len = sizeof(sin);

    } else if (inet_pton(AF_INET6, bind_ip, &sin6.sin6_addr) == 1) {
        family = AF_INET6;
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        len = sizeof(sin6);

    } else {
        rooms_log(ROOMS_LOG_ERR, "bad address to bind \"%s\"", bind_ip);
        return -1;
    }

    fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rooms_log(ROOMS_LOG_ERR, "socket: %s", strerror(errno));
        return -1;
    }

    one = 1;
    size = W_SOCKBUF;

    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    /* larger than the default is best effort (net.core.rmem_max caps) */
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));

    if (bind(fd, family == AF_INET ? (struct sockaddr *) &sin
                                   : (struct sockaddr *) &sin6,
             len) != 0)
    {
        rooms_log(ROOMS_LOG_ERR, "bind UDP %s port %u: %s", bind_ip,
                  (unsigned) port, strerror(errno));
        close(fd);
        return -1;
    }

    u->fd[u->n] = fd;
    u->family[u->n] = family;
    u->n++;

    return 0;
}


rooms_udp_t *
rooms_udp_open(const char *const *ips, unsigned n, uint16_t port,
    uint8_t *bound)
{
    unsigned      i;
    rooms_udp_t  *u;

    if (n == 0 || n > ROOMS_UDP_MAX_SOCKETS) {
        rooms_log(ROOMS_LOG_ERR, "%u UDP addresses (1 to %u)", n,
                  ROOMS_UDP_MAX_SOCKETS);
        return NULL;
    }

    u = calloc(1, sizeof(rooms_udp_t));
    if (u == NULL) {
        rooms_log(ROOMS_LOG_ERR, "out of memory");
        return NULL;
    }

    for (i = 0; i < n; i++) {
        if (rooms_udp_bind(u, ips[i], port) == 0) {
            if (bound != NULL) {
                bound[i] = 1;
            }

            continue;
        }

        if (bound == NULL) {
            rooms_udp_close(u);
            return NULL;
        }

        bound[i] = 0;
    }

    if (u->n == 0) {
        rooms_udp_close(u);
        return NULL;
    }

    return u;
}



void
rooms_udp_close(rooms_udp_t *u)
{
    unsigned  i;

    if (u == NULL) {
        return;
    }

    for (i = 0; i < u->n; i++) {
        close(u->fd[i]);
    }

    free(u);
}


unsigned
rooms_udp_count(const rooms_udp_t *u)
{
    return u->n;
}


int
rooms_udp_fd(const rooms_udp_t *u, unsigned via)
{
    return u->fd[via];
}


void
rooms_udp_set_tcp(rooms_udp_t *u, rooms_udp_tcp_pt tcp, void *ctx)
{
    u->tcp = tcp;
    u->tcp_ctx = ctx;
}


uint64_t
rooms_udp_tx_fail(const rooms_udp_t *u)
{
    return u->tx_fail;
}
