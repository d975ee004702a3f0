/*
 * tcp.c: ICE over TCP, the sockets (see tcp.h).
 *
 * Owns: every system call on the TCP sockets.
 * Must never: block, or free a connection inside the wait but from its
 * own handler.
 * May not: include rooms_ring.h, include <sys/epoll.h>, call rooms_ring_, call epoll_, call clock_gettime
 */

#define _GNU_SOURCE                 /* accept4 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "frame.h"
#include "tcp.h"
#include "udp.h"


/* bytes read in one call */
#define W_TCP_READ         16384

/*
 * Reads per connection per wakeup: 4 x 16 KiB, so one flooding peer
 * leaves the loop to the others (epoll calls again while more waits).
 */
#define W_TCP_READS        4

/* connections accepted per wakeup of the listener, for the same reason */
#define W_TCP_ACCEPTS      16

/* how often idle connections are looked for */
#define W_TCP_CHECK_MS     1000

/*
 * Slots: twice the connections, since a connection pushed out or broken
 * keeps its slot until rooms_tcp_expire() frees it, outside the wait
 * (another event of the same wait may still name it).
 */
#define W_TCP_SLOTS        (2 * ROOMS_TCP_MAX_CONNS)


typedef struct {
    int                  fd;
    unsigned             slot;
    uint8_t              validated;    /* we answered a check on it */
    uint8_t              dead;         /* broken: closed in expire */
    uint8_t              writing;      /* watching for output */
    uint64_t             opened_ms;
    uint64_t             last_ms;      /* its last whole packet */
    rooms_stun_addr_t    remote;       /* via: ROOMS_VIA_TCP + slot */
    rooms_loop_ev_t      ev;
    rooms_tcp_t         *tcp;
    rooms_frame_in_t     in;
    rooms_frame_out_t    out;
} rooms_tcp_conn_t;


struct rooms_tcp_s {
    int                  fd;
    rooms_loop_t        *loop;
    rooms_loop_ev_t      ev;
    sfu_t               *sfu;
    sfu_io_t            *io;
    uint64_t             now;          /* of the last wakeup */
    uint64_t             next_check;
    unsigned             paused;       /* the listener, not watched */
    unsigned             nconns;
    unsigned             ndead;
    uint64_t             tx_fail;
    uint64_t             closed_bad;
    rooms_tcp_conn_t    *conns[W_TCP_SLOTS];
    uint8_t              rx[W_TCP_READ];
};


static void
rooms_tcp_free(rooms_tcp_t *t, rooms_tcp_conn_t *c)
{
    rooms_loop_del(t->loop, c->fd);
    close(c->fd);

    if (c->dead) {
        t->ndead--;
    }

    t->conns[c->slot] = NULL;
    t->nconns--;
    free(c);
}


/* marks c broken: it is closed outside the wait (rooms_tcp_expire) */
static void
rooms_tcp_kill(rooms_tcp_conn_t *c, const char *why)
{
    char  text[64];

    if (c->dead) {
        return;
    }

    c->dead = 1;
    c->tcp->ndead++;

    rooms_log(ROOMS_LOG_DEBUG, "ICE-TCP %s: %s",
              rooms_stun_addr_format(&c->remote, text, sizeof(text)), why);
}


/* writes what c has queued, as far as the socket takes it */
static void
rooms_tcp_write(rooms_tcp_conn_t *c)
{
    size_t          n;
    ssize_t         w;
    const uint8_t  *p;

    while ((n = rooms_frame_peek(&c->out, &p)) > 0) {
        w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (w > 0) {
            rooms_frame_done(&c->out, (size_t) w);
            continue;
        }

        if (w < 0 && errno == EINTR) {
            continue;
        }

        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }

        rooms_tcp_kill(c, w < 0 ? strerror(errno) : "closed");
        return;
    }

    /* watched for output while something waits, and only then */
    if ((rooms_frame_queued(&c->out) > 0) != c->writing) {
        c->writing = !c->writing;
        (void) rooms_loop_want_write(c->tcp->loop, c->fd, &c->ev,
                                     c->writing);
    }
}


void
rooms_tcp_send(void *ctx, const sfu_dgram_t *d)
{
    rooms_tcp_t       *t = ctx;
    unsigned           slot;
    rooms_tcp_conn_t  *c;

    slot = (unsigned) d->addr.via - ROOMS_VIA_TCP;
    c = slot < W_TCP_SLOTS ? t->conns[slot] : NULL;

    /* a session of a connection now gone, its slot maybe someone's else */
    if (c == NULL || c->dead || !rooms_stun_addr_equal(&c->remote, &d->addr))
    {
        t->tx_fail++;
        return;
    }

    /* the SFU answers nothing but a check with integrity */
    c->validated = 1;

    if (rooms_frame_put(&c->out, d->data, d->len) != 0) {
        /* a peer that does not read: its media drops, nobody waits */
        t->tx_fail++;
        return;
    }

    rooms_tcp_write(c);
}


/* A connection is readable, writable, or hung up. */
static void
rooms_tcp_on_conn(rooms_loop_ev_t *ev, uint64_t now)
{
    rooms_tcp_conn_t  *c = ev->data;
    rooms_tcp_t       *t = c->tcp;
    int                rc;
    size_t             off, used, len;
    ssize_t            n;
    uint64_t           now_us;
    unsigned           round;
    const uint8_t     *pkt;

    t->now = now;

    if (c->dead) {
        rooms_tcp_free(t, c);
        return;
    }

    rooms_tcp_write(c);

    for (round = 0; round < W_TCP_READS && !c->dead; round++) {
        n = recv(c->fd, t->rx, sizeof(t->rx), MSG_DONTWAIT);

        if (n < 0 && errno == EINTR) {
            continue;
        }

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }

        if (n <= 0) {
            rooms_tcp_kill(c, n == 0 ? "closed by the peer" : strerror(errno));
            break;
        }

        /* arrival times, as udp.c: one clock reading per read */
        now_us = rooms_loop_now_us();

        for (off = 0; off < (size_t) n && !c->dead; off += used) {
            rc = rooms_frame_take(&c->in, t->rx + off, (size_t) n - off,
                                  &used, &pkt, &len);

            if (rc < 0) {
                t->closed_bad++;
                rooms_tcp_kill(c, "bad framing");
                break;
            }

            if (rc == 1) {
                c->last_ms = now;
                sfu_udp_input_us(t->sfu, now_us, &c->remote,
                                 (uint8_t *) pkt, len, t->io);
            }
        }

        if ((size_t) n < sizeof(t->rx)) {
            break;
        }
    }

    t->io->flush(t->io->ctx, t->io);

    if (c->dead) {
        rooms_tcp_free(t, c);
    }
}


/*
 * Whether a new connection from remote may stay (ROOMS_TCP_MAX_PER_IP,
 * ROOMS_TCP_MAX_CONNS): 0, after pushing out the oldest unanswered one
 * when all are taken, or -1.
 */
static int
rooms_tcp_admit(rooms_tcp_t *t, const rooms_stun_addr_t *remote)
{
    unsigned           i, same;
    rooms_tcp_conn_t  *c, *oldest;

    same = 0;
    oldest = NULL;

    for (i = 0; i < W_TCP_SLOTS; i++) {
        c = t->conns[i];

        if (c == NULL || c->dead || c->validated) {
            continue;
        }

        if (c->remote.family == remote->family
            && memcmp(c->remote.ip, remote->ip, 16) == 0)
        {
            same++;
        }

        if (oldest == NULL || c->opened_ms < oldest->opened_ms) {
            oldest = c;
        }
    }

    if (same >= ROOMS_TCP_MAX_PER_IP) {
        return -1;
    }

    if (t->nconns - t->ndead < ROOMS_TCP_MAX_CONNS) {
        return 0;
    }

    if (oldest == NULL) {
        return -1;                      /* all answered: browsers in calls */
    }

    t->closed_bad++;
    rooms_tcp_kill(oldest, "pushed out by a newer connection");

    return 0;
}


/* The listener is readable: new connections. */
static void
rooms_tcp_on_accept(rooms_loop_ev_t *ev, uint64_t now)
{
    rooms_tcp_t              *t = ev->data;
    int                       fd, one;
    unsigned                  i, slot;
    socklen_t                 alen;
    rooms_tcp_conn_t         *c;
    rooms_stun_addr_t         remote;
    struct sockaddr_storage   ss;

    t->now = now;

    for (i = 0; i < W_TCP_ACCEPTS; i++) {
        alen = sizeof(ss);
        fd = accept4(t->fd, (struct sockaddr *) &ss, &alen,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }

            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS
                || errno == ENOMEM)
            {
                /*
                 * out of descriptors or memory: the listener stays
                 * readable, so it is not watched for a while (else the
                 * loop would spin on it)
                 */
                rooms_log(ROOMS_LOG_WARN, "ICE-TCP accept: %s: not "
                          "accepting for %d ms", strerror(errno),
                          W_TCP_CHECK_MS);
                rooms_loop_del(t->loop, t->fd);
                t->paused = 1;
                t->next_check = now + W_TCP_CHECK_MS;

            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                rooms_log(ROOMS_LOG_WARN, "ICE-TCP accept: %s",
                          strerror(errno));
            }

            return;
        }

        if (rooms_udp_addr_from_sockaddr(&remote, (struct sockaddr *) &ss,
                                         alen) != 0
            || rooms_tcp_admit(t, &remote) != 0)
        {
            t->closed_bad++;
            close(fd);
            continue;
        }

        for (slot = 0; slot < W_TCP_SLOTS; slot++) {
            if (t->conns[slot] == NULL) {
                break;
            }
        }

        if (slot == W_TCP_SLOTS
            || (c = calloc(1, sizeof(rooms_tcp_conn_t))) == NULL)
        {
            t->closed_bad++;
            close(fd);
            continue;
        }

        one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        remote.via = (uint16_t) (ROOMS_VIA_TCP + slot);
        c->fd = fd;
        c->slot = slot;
        c->remote = remote;
        c->tcp = t;
        c->opened_ms = now;
        c->last_ms = now;
        c->ev.handler = rooms_tcp_on_conn;
        c->ev.data = c;
        rooms_frame_in_init(&c->in);
        rooms_frame_out_init(&c->out);

        if (rooms_loop_add(t->loop, fd, &c->ev) != 0) {
            close(fd);
            free(c);
            continue;
        }

        t->conns[slot] = c;
        t->nconns++;
    }
}


void
rooms_tcp_expire(rooms_tcp_t *t, uint64_t now)
{
    unsigned           i;
    rooms_tcp_conn_t  *c;

    if (t == NULL || (t->ndead == 0 && now < t->next_check)) {
        return;
    }

    if (now >= t->next_check) {
        t->next_check = now + W_TCP_CHECK_MS;

        if (t->paused && rooms_loop_add(t->loop, t->fd, &t->ev) == 0) {
            t->paused = 0;
        }
    }

    for (i = 0; i < W_TCP_SLOTS; i++) {
        c = t->conns[i];

        if (c == NULL) {
            continue;
        }

        if (!c->dead && !c->validated
            && now >= c->opened_ms + ROOMS_TCP_FIRST_MS)
        {
            t->closed_bad++;
            rooms_tcp_kill(c, "no check answered in time");

        } else if (!c->dead && now >= c->last_ms + ROOMS_TCP_IDLE_MS) {
            rooms_tcp_kill(c, "idle");
        }

        if (c->dead) {
            rooms_tcp_free(t, c);
        }
    }
}


/* a listening socket on ip:port (v6only 0 for "::"): the fd, or -1 */
static int
rooms_tcp_listen(const char *ip, uint16_t port)
{
    int                  fd, one, zero, family;
    socklen_t            len;
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));

    if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
        family = AF_INET;
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        len = sizeof(sin);

    } else if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1) {
        family = AF_INET6;
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        len = sizeof(sin6);

    } else {
        errno = EINVAL;
        return -1;
    }

    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }

    one = 1;
    zero = 0;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (family == AF_INET6) {
        (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    }

    if (bind(fd, family == AF_INET ? (struct sockaddr *) &sin
                                   : (struct sockaddr *) &sin6, len) != 0
        || listen(fd, 128) != 0)
    {
        one = errno;
        close(fd);
        errno = one;
        return -1;
    }

    return fd;
}


rooms_tcp_t *
rooms_tcp_open(rooms_loop_t *loop, const char *bind_ip, uint16_t port,
    sfu_io_t *io)
{
    rooms_tcp_t  *t;

    t = calloc(1, sizeof(rooms_tcp_t));
    if (t == NULL) {
        rooms_log(ROOMS_LOG_ERR, "out of memory");
        return NULL;
    }

    if (bind_ip != NULL) {
        t->fd = rooms_tcp_listen(bind_ip, port);

    } else {
        /* IPv6 and IPv4 on one socket; IPv4 alone without IPv6 */
        t->fd = rooms_tcp_listen("::", port);
        bind_ip = "::";

        if (t->fd < 0 && errno == EAFNOSUPPORT) {
            t->fd = rooms_tcp_listen("0.0.0.0", port);
            bind_ip = "0.0.0.0";
        }
    }

    if (t->fd < 0) {
        /* the caller says how much it matters */
        rooms_log(ROOMS_LOG_INFO, "ICE-TCP: listen on %s port %u: %s",
                  bind_ip, (unsigned) port, strerror(errno));
        free(t);
        return NULL;
    }

    t->loop = loop;
    t->io = io;
    t->ev.handler = rooms_tcp_on_accept;
    t->ev.data = t;

    if (rooms_loop_add(loop, t->fd, &t->ev) != 0) {
        rooms_log(ROOMS_LOG_ERR, "epoll: %s", strerror(errno));
        close(t->fd);
        free(t);
        return NULL;
    }

    return t;
}


void
rooms_tcp_set_sfu(rooms_tcp_t *t, sfu_t *sfu)
{
    t->sfu = sfu;
}


void
rooms_tcp_close(rooms_tcp_t *t)
{
    unsigned  i;

    if (t == NULL) {
        return;
    }

    for (i = 0; i < W_TCP_SLOTS; i++) {
        if (t->conns[i] != NULL) {
            rooms_tcp_free(t, t->conns[i]);
        }
    }

    if (!t->paused) {
        rooms_loop_del(t->loop, t->fd);
    }

    close(t->fd);
    free(t);
}


unsigned
rooms_tcp_conns(const rooms_tcp_t *t)
{
    return t != NULL ? t->nconns - t->ndead : 0;
}


uint64_t
rooms_tcp_tx_fail(const rooms_tcp_t *t)
{
    return t != NULL ? t->tx_fail : 0;
}


uint64_t
rooms_tcp_closed_bad(const rooms_tcp_t *t)
{
    return t != NULL ? t->closed_bad : 0;
}
