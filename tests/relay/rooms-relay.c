/*
 * rooms-relay.c: a userspace UDP impairment relay for the browser tests,
 * since this machine's kernel has no netem (issue 9, item 6).  Built alone:
 *
 *     cc -O2 -g -Wall -Wextra -Werror -o build/rooms-relay \
 *        tests/relay/rooms-relay.c
 *
 *     rooms-relay --listen 127.0.0.1:40000 --upstream 127.0.0.2:40000
 *                 --control /path/relay.sock [--seed N] [--idle SECONDS]
 *
 * In a test the media worker binds the upstream address (--bind-ip
 * 127.0.0.2) and announces the listen address (--announce-ip 127.0.0.1,
 * the same port), so browsers send to the relay and the worker is none the
 * wiser.  Each client (a source address seen on the listen socket) gets an
 * upstream socket of its own, connected to the upstream address from an
 * ephemeral port, so the worker sees one 5-tuple per browser; what the
 * worker sends back on that socket goes to that client from the listen
 * socket.
 *
 * Each client has two directions, up (client to upstream) and down
 * (upstream to client), and each direction its own rule, changeable at
 * run time, applied in this order:
 *
 *   1. loss: each datagram is dropped with probability `loss`, decided by
 *      a PRNG per direction seeded from --seed and the client's serial
 *      number (the order clients were first seen), so a run is repeatable;
 *   2. the bottleneck: with `rate` bits/s, datagrams wait in a FIFO that
 *      sends one at a time, each taking len * 8 / rate seconds (UDP
 *      payload bytes; no header overhead is charged); one that would take
 *      the FIFO over `queue` bytes is dropped (drop-tail);
 *   3. the line: a datagram leaving the bottleneck at t is delivered at
 *      t + delay, never before the one ahead of it (a shorter delay set
 *      at run time does not reorder).
 *
 * New clients copy the default rule ("*"); `set *` changes the default
 * and the same keys of every current client.  Control, on a unix stream
 * socket, one command a line, one answer line each ("ok ..." or
 * "error <reason>"):
 *
 *     set <client|*> <up|down|both> [loss=P] [delay=MS] [rate=BPS]
 *                                   [queue=BYTES]     (rate=0: unlimited)
 *     clients           every client with its rules and counters
 *     stats <client|*>  one client (or the default rule)
 *     reset             every rule back to pass-through, counters zeroed
 *     help
 *
 * A client is named as the relay sees it, "127.0.0.1:PORT" (IPv6
 * "[::1]:PORT").  Counters per direction: in (datagrams received), lost
 * (dropped by the loss rule), qdrop (dropped by the full bottleneck
 * queue), full (dropped because the relay holds RELAY_HELD_MAX bytes),
 * sent, bytes (sent), err (send failed), queue (bytes now in the
 * bottleneck FIFO), held (bytes now held in total).
 *
 * Owns: the listen socket, one upstream socket per client, the control
 * socket and its connections, and every datagram in flight between them.
 * One epoll loop; its timeout is the next datagram due (or the next idle
 * check), so an idle relay sleeps.
 *
 * Must never: block (every descriptor is non-blocking, a full socket
 * counts an error and drops), crash or exit on anything a peer or a
 * control client sends (a bad command gets "error <reason>", a datagram of
 * any size is relayed or dropped and counted), hold more than
 * RELAY_HELD_MAX bytes of datagrams or serve more than RELAY_MAX_CLIENTS
 * clients, reorder a direction's datagrams, or remove a file at the
 * control path that is not a socket.
 */

#define _GNU_SOURCE                 /* accept4 */

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>


/* a test room has a handful of browsers; 64 leaves room for reconnects
 * that the idle expiry has not yet reaped */
#define RELAY_MAX_CLIENTS     64
#define RELAY_IDLE_DEFAULT    60            /* seconds without a datagram */

/* the largest UDP payload (65507 over IPv4, 65527 over IPv6) fits, so
 * nothing is ever truncated; larger would need jumbograms */
#define RELAY_DGRAM_MAX       65536

/* without a rate, delay * arrival rate is unbounded: 32 MB holds a 10 s
 * delay at over 25 Mbit/s, far past what a test sends */
#define RELAY_HELD_MAX        (32 * 1024 * 1024)

#define RELAY_QUEUE_DEFAULT   65536
/* the queue must hold one full-size media datagram, and 16 MB at the
 * slowest rate is already hours of queueing */
#define RELAY_QUEUE_MIN       1500
#define RELAY_QUEUE_MAX       (16 * 1024 * 1024)
#define RELAY_DELAY_MAX       10000         /* ms */
/* below 1 kbit/s one datagram takes seconds: nothing a test means */
#define RELAY_RATE_MIN        1000
#define RELAY_RATE_MAX        100000000000ULL

/* datagrams read per readiness event, so a flood on one socket cannot
 * starve the timers and the other sockets (epoll is level-triggered) */
#define RELAY_BATCH           64
#define RELAY_SOCKBUF         (4 * 1024 * 1024)

#define RELAY_CTL_MAX         8
#define RELAY_CTL_LINE        1024
/* `clients` at 64 clients is under 64 KB (about 900 bytes a client at the
 * widest counters); input is read only while less than half is pending */
#define RELAY_CTL_OUT         (256 * 1024)
#define RELAY_CTL_ARGS        16

#define RELAY_NAME_LEN        64            /* "[ipv6]:port" and a NUL */

#define RELAY_UP              0
#define RELAY_DOWN            1

/* epoll tags: the kind in the high half, a slot in the low half */
#define RELAY_EV_UDP          1
#define RELAY_EV_CLIENT       2
#define RELAY_EV_CTL_LISTEN   3
#define RELAY_EV_CTL          4
#define RELAY_EV_SIGNAL       5
#define RELAY_TAG(kind, i)    (((uint64_t) (kind) << 32) | (uint32_t) (i))

#define RELAY_NEVER           UINT64_MAX


typedef struct relay_pkt_s  relay_pkt_t;

struct relay_pkt_s {
    relay_pkt_t  *next;
    uint64_t      due_us;           /* on the line: when it is delivered */
    size_t        len;
    uint8_t       data[];
};


typedef struct {
    relay_pkt_t  *head;
    relay_pkt_t  *tail;
    size_t        bytes;
} relay_fifo_t;


typedef struct {
    double        loss;             /* 0..1 */
    uint32_t      delay_ms;
    uint64_t      rate;             /* bits/s; 0: unlimited */
    size_t        queue;            /* bytes the bottleneck FIFO holds */
} relay_rule_t;


/* which keys a `set` gave */
#define RELAY_SET_LOSS    0x01
#define RELAY_SET_DELAY   0x02
#define RELAY_SET_RATE    0x04
#define RELAY_SET_QUEUE   0x08


typedef struct {
    relay_rule_t  rule;
    relay_fifo_t  link;             /* waiting for the bottleneck */
    relay_fifo_t  line;             /* past it, waiting for the delay */
    uint64_t      head_start;       /* when the link's head began to send */
    uint64_t      last_due;
    uint64_t      rng;

    uint64_t      in;
    uint64_t      lost;
    uint64_t      qdrop;
    uint64_t      full;
    uint64_t      sent;
    uint64_t      bytes;
    uint64_t      err;
} relay_dir_t;


typedef struct {
    int                      used;
    int                      fd;    /* the upstream socket */
    uint64_t                 serial;
    struct sockaddr_storage  addr;
    socklen_t                addrlen;
    uint64_t                 last_us;
    char                     name[RELAY_NAME_LEN];
    char                     via[RELAY_NAME_LEN];
    relay_dir_t              dir[2];
} relay_client_t;


typedef struct {
    int           fd;               /* -1: a free slot */
    int           eof;
    int           discard;          /* skipping the rest of a long line */
    int           want_out;         /* epoll waits for EPOLLOUT */
    size_t        in_len;
    size_t        out_off;
    size_t        out_len;
    char          in[RELAY_CTL_LINE];
    char          out[RELAY_CTL_OUT];
} relay_ctl_t;


static struct {
    int                      ep;
    int                      udp;
    int                      ctl_listen;
    int                      sigfd;
    const char              *ctl_path;

    struct sockaddr_storage  up_addr;
    socklen_t                up_len;
    char                     listen_name[RELAY_NAME_LEN];
    char                     up_name[RELAY_NAME_LEN];

    uint64_t                 seed;
    uint64_t                 serial;
    uint64_t                 idle_us;
    size_t                   held;

    uint64_t                 refused;   /* datagrams of clients not taken */
    uint64_t                 oversize;
    uint64_t                 rx_err;

    relay_rule_t             def[2];
    relay_client_t           clients[RELAY_MAX_CLIENTS];
    relay_ctl_t              ctl[RELAY_CTL_MAX];

    uint8_t                  buf[RELAY_DGRAM_MAX];
} r;


static void
relay_log(const char *fmt, ...)
{
    va_list  ap;

    va_start(ap, fmt);
    fputs("rooms-relay: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}


static uint64_t
relay_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


/* splitmix64: small, fast and good enough to decide losses */
static uint64_t
relay_rand(uint64_t *state)
{
    uint64_t  z;

    z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


static void
relay_rule_default(relay_rule_t *rule)
{
    rule->loss = 0;
    rule->delay_ms = 0;
    rule->rate = 0;
    rule->queue = RELAY_QUEUE_DEFAULT;
}


/* ---- addresses ---------------------------------------------------------- */


/* "1.2.3.4:5" or "[::1]:5"; 0 on success */
static int
relay_addr_parse(const char *text, struct sockaddr_storage *ss,
    socklen_t *len)
{
    char                  host[INET6_ADDRSTRLEN + 1];
    size_t                n;
    const char           *colon, *h, *p;
    unsigned long         port;
    char                 *end;
    struct sockaddr_in   *sin;
    struct sockaddr_in6  *sin6;

    memset(ss, 0, sizeof(struct sockaddr_storage));

    if (text[0] == '[') {
        h = text + 1;
        p = strchr(h, ']');

        if (p == NULL || p[1] != ':') {
            return -1;
        }

        n = (size_t) (p - h);
        colon = p + 1;

    } else {
        h = text;
        colon = strrchr(text, ':');

        if (colon == NULL) {
            return -1;
        }

        n = (size_t) (colon - h);
    }

    if (n == 0 || n >= sizeof(host)) {
        return -1;
    }

    memcpy(host, h, n);
    host[n] = '\0';

    p = colon + 1;

    if (*p < '0' || *p > '9') {
        return -1;
    }

    errno = 0;
    port = strtoul(p, &end, 10);

    if (errno != 0 || *end != '\0' || port > 65535) {
        return -1;
    }

    sin = (struct sockaddr_in *) ss;
    sin6 = (struct sockaddr_in6 *) ss;

    if (text[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t) port);
        *len = sizeof(struct sockaddr_in);
        return 0;
    }

    if (text[0] == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t) port);
        *len = sizeof(struct sockaddr_in6);
        return 0;
    }

    return -1;
}


static void
relay_addr_name(const struct sockaddr_storage *ss, char *name)
{
    char                       host[INET6_ADDRSTRLEN];
    const struct sockaddr_in   *sin;
    const struct sockaddr_in6  *sin6;

    if (ss->ss_family == AF_INET) {
        sin = (const struct sockaddr_in *) ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        snprintf(name, RELAY_NAME_LEN, "%s:%u", host, ntohs(sin->sin_port));

    } else if (ss->ss_family == AF_INET6) {
        sin6 = (const struct sockaddr_in6 *) ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        snprintf(name, RELAY_NAME_LEN, "[%s]:%u", host,
                 ntohs(sin6->sin6_port));

    } else {
        snprintf(name, RELAY_NAME_LEN, "?");
    }
}


static int
relay_addr_eq(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
    const struct sockaddr_in   *a4, *b4;
    const struct sockaddr_in6  *a6, *b6;

    if (a->ss_family != b->ss_family) {
        return 0;
    }

    if (a->ss_family == AF_INET) {
        a4 = (const struct sockaddr_in *) a;
        b4 = (const struct sockaddr_in *) b;

        return a4->sin_port == b4->sin_port
               && a4->sin_addr.s_addr == b4->sin_addr.s_addr;
    }

    if (a->ss_family == AF_INET6) {
        a6 = (const struct sockaddr_in6 *) a;
        b6 = (const struct sockaddr_in6 *) b;

        return a6->sin6_port == b6->sin6_port
               && memcmp(&a6->sin6_addr, &b6->sin6_addr,
                         sizeof(struct in6_addr)) == 0;
    }

    return 0;
}


/* ---- the datagram path -------------------------------------------------- */


static void
relay_fifo_push(relay_fifo_t *f, relay_pkt_t *p)
{
    p->next = NULL;

    if (f->tail) {
        f->tail->next = p;

    } else {
        f->head = p;
    }

    f->tail = p;
    f->bytes += p->len;
}


static relay_pkt_t *
relay_fifo_pop(relay_fifo_t *f)
{
    relay_pkt_t  *p;

    p = f->head;
    f->head = p->next;

    if (f->head == NULL) {
        f->tail = NULL;
    }

    f->bytes -= p->len;

    return p;
}


static void
relay_fifo_free(relay_fifo_t *f)
{
    relay_pkt_t  *p;

    while (f->head) {
        p = relay_fifo_pop(f);
        r.held -= p->len;
        free(p);
    }
}


static void
relay_send(relay_client_t *c, int which, const uint8_t *data, size_t len)
{
    ssize_t       n;
    relay_dir_t  *d;

    d = &c->dir[which];

    if (which == RELAY_UP) {
        n = send(c->fd, data, len, 0);

    } else {
        n = sendto(r.udp, data, len, 0, (struct sockaddr *) &c->addr,
                   c->addrlen);
    }

    /* a full socket buffer or a refused port: the datagram is lost, as it
     * would be on a real link; the counter tells the test */
    if (n < 0 || (size_t) n != len) {
        d->err++;
        return;
    }

    d->sent++;
    d->bytes += len;
}


/* microseconds the bottleneck takes to send len bytes at rate bits/s;
 * len <= 65536 keeps len * 8e6 far inside 64 bits */
static uint64_t
relay_tx_us(size_t len, uint64_t rate)
{
    return (uint64_t) len * 8000000 / rate;
}


static void
relay_to_line(relay_dir_t *d, relay_pkt_t *p, uint64_t t)
{
    p->due_us = t + (uint64_t) d->rule.delay_ms * 1000;

    /* a delay shortened at run time must not overtake what is in flight */
    if (p->due_us < d->last_due) {
        p->due_us = d->last_due;
    }

    d->last_due = p->due_us;
    relay_fifo_push(&d->line, p);
}


/* moves and delivers whatever is due by now; returns when this direction
 * next has something due, RELAY_NEVER if it holds nothing */
static uint64_t
relay_service(relay_client_t *c, int which, uint64_t now)
{
    uint64_t      done, next, t;
    relay_pkt_t  *p;
    relay_dir_t  *d;

    d = &c->dir[which];

    while (d->link.head) {
        p = d->link.head;

        if (d->rule.rate) {
            done = d->head_start + relay_tx_us(p->len, d->rule.rate);

            if (done > now) {
                break;
            }

        } else {
            /* the limit was lifted: what waited goes at once */
            done = now;
        }

        relay_fifo_pop(&d->link);

        /* the next one starts when this one is done, however late we
         * woke: the link keeps its rate over a slow loop */
        d->head_start = done;
        relay_to_line(d, p, done);
    }

    while (d->line.head && d->line.head->due_us <= now) {
        p = relay_fifo_pop(&d->line);
        relay_send(c, which, p->data, p->len);
        r.held -= p->len;
        free(p);
    }

    next = RELAY_NEVER;

    if (d->link.head) {
        next = d->rule.rate
               ? d->head_start + relay_tx_us(d->link.head->len, d->rule.rate)
               : now;
    }

    if (d->line.head) {
        t = d->line.head->due_us;

        if (t < next) {
            next = t;
        }
    }

    return next;
}


static void
relay_arrive(relay_client_t *c, int which, const uint8_t *data, size_t len,
    uint64_t now)
{
    double        x;
    relay_pkt_t  *p;
    relay_dir_t  *d;

    d = &c->dir[which];
    d->in++;
    c->last_us = now;

    if (d->rule.loss > 0) {
        x = (double) (relay_rand(&d->rng) >> 11) * 0x1.0p-53;

        if (x < d->rule.loss) {
            d->lost++;
            return;
        }
    }

    /* an empty link takes any datagram, however large: the queue bounds
     * the waiting, not the size of one datagram */
    if (d->link.head && d->link.bytes + len > d->rule.queue) {
        d->qdrop++;
        return;
    }

    if (r.held + len > RELAY_HELD_MAX) {
        d->full++;
        return;
    }

    if (d->rule.rate == 0 && d->rule.delay_ms == 0
        && d->link.head == NULL && d->line.head == NULL)
    {
        relay_send(c, which, data, len);
        return;
    }

    p = malloc(sizeof(relay_pkt_t) + len);

    if (p == NULL) {
        d->full++;
        return;
    }

    memcpy(p->data, data, len);
    p->len = len;
    r.held += len;

    if (d->rule.rate || d->link.head) {
        if (d->link.head == NULL) {
            d->head_start = now;
        }

        relay_fifo_push(&d->link, p);

    } else {
        relay_to_line(d, p, now);
    }

    (void) relay_service(c, which, now);
}


/* ---- clients ------------------------------------------------------------ */


static void
relay_dir_seed(relay_client_t *c)
{
    int       i;
    uint64_t  s;

    for (i = 0; i < 2; i++) {
        s = r.seed ^ (c->serial * 2 + (uint64_t) i) * 0xd1b54a32d192ed03ULL;
        c->dir[i].rng = relay_rand(&s);
    }
}


static relay_client_t *
relay_client_find(const struct sockaddr_storage *ss)
{
    int  i;

    for (i = 0; i < RELAY_MAX_CLIENTS; i++) {
        if (r.clients[i].used && relay_addr_eq(&r.clients[i].addr, ss)) {
            return &r.clients[i];
        }
    }

    return NULL;
}


static relay_client_t *
relay_client_by_name(const char *text)
{
    socklen_t                len;
    struct sockaddr_storage  ss;

    if (relay_addr_parse(text, &ss, &len) != 0) {
        return NULL;
    }

    return relay_client_find(&ss);
}


static relay_client_t *
relay_client_new(const struct sockaddr_storage *ss, socklen_t len,
    uint64_t now)
{
    int                      i, fd;
    socklen_t                slen;
    relay_client_t          *c;
    struct epoll_event       ee;
    struct sockaddr_storage  local;

    c = NULL;

    for (i = 0; i < RELAY_MAX_CLIENTS; i++) {
        if (!r.clients[i].used) {
            c = &r.clients[i];
            break;
        }
    }

    if (c == NULL) {
        return NULL;
    }

    fd = socket(r.up_addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);

    if (fd == -1) {
        relay_log("socket(): %s", strerror(errno));
        return NULL;
    }

    (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &(int) { RELAY_SOCKBUF },
                      sizeof(int));
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &(int) { RELAY_SOCKBUF },
                      sizeof(int));

    /* connecting binds an ephemeral port and keeps out every datagram
     * that is not from the upstream */
    if (connect(fd, (struct sockaddr *) &r.up_addr, r.up_len) == -1) {
        relay_log("connect(%s): %s", r.up_name, strerror(errno));
        close(fd);
        return NULL;
    }

    memset(c, 0, sizeof(relay_client_t));

    slen = sizeof(local);

    if (getsockname(fd, (struct sockaddr *) &local, &slen) == 0) {
        relay_addr_name(&local, c->via);

    } else {
        snprintf(c->via, RELAY_NAME_LEN, "?");
    }

    ee.events = EPOLLIN;
    ee.data.u64 = RELAY_TAG(RELAY_EV_CLIENT, c - r.clients);

    if (epoll_ctl(r.ep, EPOLL_CTL_ADD, fd, &ee) == -1) {
        relay_log("epoll_ctl(): %s", strerror(errno));
        close(fd);
        return NULL;
    }

    c->used = 1;
    c->fd = fd;
    c->serial = r.serial++;
    memcpy(&c->addr, ss, len);
    c->addrlen = len;
    c->last_us = now;
    relay_addr_name(ss, c->name);

    for (i = 0; i < 2; i++) {
        c->dir[i].rule = r.def[i];
    }

    relay_dir_seed(c);

    relay_log("client %s via %s", c->name, c->via);

    return c;
}


static void
relay_client_free(relay_client_t *c)
{
    int  i;

    for (i = 0; i < 2; i++) {
        relay_fifo_free(&c->dir[i].link);
        relay_fifo_free(&c->dir[i].line);
    }

    close(c->fd);
    c->used = 0;
    c->fd = -1;
}


static void
relay_udp_read(uint64_t now)
{
    int                      i;
    ssize_t                  n;
    socklen_t                len;
    relay_client_t          *c;
    struct sockaddr_storage  ss;

    for (i = 0; i < RELAY_BATCH; i++) {
        len = sizeof(ss);
        n = recvfrom(r.udp, r.buf, sizeof(r.buf), MSG_TRUNC,
                     (struct sockaddr *) &ss, &len);

        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }

            if (errno != EINTR) {
                r.rx_err++;
            }

            continue;
        }

        if ((size_t) n > sizeof(r.buf)) {
            r.oversize++;
            continue;
        }

        c = relay_client_find(&ss);

        if (c == NULL) {
            c = relay_client_new(&ss, len, now);

            if (c == NULL) {
                r.refused++;
                continue;
            }
        }

        relay_arrive(c, RELAY_UP, r.buf, (size_t) n, now);
    }
}


static void
relay_client_read(relay_client_t *c, uint64_t now)
{
    int      i;
    ssize_t  n;

    for (i = 0; i < RELAY_BATCH; i++) {
        n = recv(c->fd, r.buf, sizeof(r.buf), MSG_TRUNC);

        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }

            /* ECONNREFUSED: an earlier datagram found no upstream; the
             * error is reported once and the socket goes on */
            if (errno != EINTR && errno != ECONNREFUSED) {
                r.rx_err++;
            }

            continue;
        }

        if ((size_t) n > sizeof(r.buf)) {
            r.oversize++;
            continue;
        }

        relay_arrive(c, RELAY_DOWN, r.buf, (size_t) n, now);
    }
}


/* delivers what is due, reaps idle clients; returns the next wake time */
static uint64_t
relay_tick(uint64_t now)
{
    int              i, j;
    uint64_t         next, t;
    relay_client_t  *c;

    /* at most 64 clients * 2 directions, each a FIFO already sorted by
     * due time: scanning their heads is cheaper than keeping a heap */
    next = now + 1000000;

    for (i = 0; i < RELAY_MAX_CLIENTS; i++) {
        c = &r.clients[i];

        if (!c->used) {
            continue;
        }

        if (now - c->last_us > r.idle_us) {
            relay_log("client %s idle, forgotten", c->name);
            relay_client_free(c);
            continue;
        }

        for (j = 0; j < 2; j++) {
            t = relay_service(c, j, now);

            if (t < next) {
                next = t;
            }
        }
    }

    return next;
}


/* ---- control ------------------------------------------------------------ */


static void
relay_out(relay_ctl_t *k, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  ap;

    room = sizeof(k->out) - k->out_len;

    va_start(ap, fmt);
    n = vsnprintf(k->out + k->out_len, room, fmt, ap);
    va_end(ap);

    if (n < 0) {
        return;
    }

    /* cannot happen within the bounds above; cut rather than overrun */
    if ((size_t) n >= room) {
        n = (int) room - 1;
    }

    k->out_len += (size_t) n;
}


static void
relay_out_rule(relay_ctl_t *k, const char *dir, const relay_rule_t *rule)
{
    relay_out(k, " %s.loss=%g %s.delay=%u %s.rate=%llu %s.queue_max=%zu",
              dir, rule->loss, dir, rule->delay_ms, dir,
              (unsigned long long) rule->rate, dir, rule->queue);
}


static void
relay_out_client(relay_ctl_t *k, relay_client_t *c, uint64_t now)
{
    int           i;
    const char   *dn;
    relay_dir_t  *d;

    relay_out(k, "%s via=%s idle_ms=%llu", c->name, c->via,
              (unsigned long long) ((now - c->last_us) / 1000));

    for (i = 0; i < 2; i++) {
        d = &c->dir[i];
        dn = (i == RELAY_UP) ? "up" : "down";

        relay_out_rule(k, dn, &d->rule);
        relay_out(k, " %s.in=%llu %s.lost=%llu %s.qdrop=%llu %s.full=%llu"
                  " %s.sent=%llu %s.bytes=%llu %s.err=%llu %s.queue=%zu"
                  " %s.held=%zu",
                  dn, (unsigned long long) d->in,
                  dn, (unsigned long long) d->lost,
                  dn, (unsigned long long) d->qdrop,
                  dn, (unsigned long long) d->full,
                  dn, (unsigned long long) d->sent,
                  dn, (unsigned long long) d->bytes,
                  dn, (unsigned long long) d->err,
                  dn, d->link.bytes,
                  dn, d->link.bytes + d->line.bytes);
    }
}


/* a decimal unsigned integer, nothing else; 0 on success */
static int
relay_parse_uint(const char *s, uint64_t max, uint64_t *v)
{
    char                *end;
    unsigned long long   x;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    errno = 0;
    x = strtoull(s, &end, 10);

    if (errno != 0 || *end != '\0' || x > max) {
        return -1;
    }

    *v = x;

    return 0;
}


static void
relay_rule_apply(relay_rule_t *to, const relay_rule_t *from, unsigned set)
{
    if (set & RELAY_SET_LOSS) {
        to->loss = from->loss;
    }

    if (set & RELAY_SET_DELAY) {
        to->delay_ms = from->delay_ms;
    }

    if (set & RELAY_SET_RATE) {
        to->rate = from->rate;
    }

    if (set & RELAY_SET_QUEUE) {
        to->queue = from->queue;
    }
}


/* 0 when the rule changed, -1 when the answer is an error */
static int
relay_cmd_set(relay_ctl_t *k, char **arg, int n)
{
    int                      i, j, lo, hi;
    char                    *eq, *end;
    double                   loss;
    unsigned                 set;
    uint64_t                 v;
    socklen_t                len;
    relay_rule_t             rule;
    relay_client_t          *c;
    struct sockaddr_storage  ss;

    if (n < 4) {
        relay_out(k, "error usage: set <client|*> <up|down|both> "
                  "[loss=P] [delay=MS] [rate=BPS] [queue=BYTES]\n");
        return -1;
    }

    c = NULL;

    if (strcmp(arg[1], "*") != 0) {
        if (relay_addr_parse(arg[1], &ss, &len) != 0) {
            relay_out(k, "error bad client address, want IP:PORT or *\n");
            return -1;
        }

        c = relay_client_find(&ss);

        if (c == NULL) {
            relay_out(k, "error no such client (see `clients`)\n");
            return -1;
        }
    }

    if (strcmp(arg[2], "up") == 0) {
        lo = RELAY_UP;
        hi = RELAY_UP;

    } else if (strcmp(arg[2], "down") == 0) {
        lo = RELAY_DOWN;
        hi = RELAY_DOWN;

    } else if (strcmp(arg[2], "both") == 0) {
        lo = RELAY_UP;
        hi = RELAY_DOWN;

    } else {
        relay_out(k, "error direction must be up, down or both\n");
        return -1;
    }

    /* everything is checked before anything changes */
    relay_rule_default(&rule);
    set = 0;

    for (i = 3; i < n; i++) {
        eq = strchr(arg[i], '=');

        if (eq == NULL || eq[1] == '\0') {
            relay_out(k, "error want key=value, not a bare word\n");
            return -1;
        }

        *eq++ = '\0';

        if (strcmp(arg[i], "loss") == 0) {
            errno = 0;
            loss = strtod(eq, &end);

            if (errno != 0 || *end != '\0' || !isfinite(loss)
                || loss < 0 || loss > 1)
            {
                relay_out(k, "error loss must be a number from 0 to 1\n");
                return -1;
            }

            rule.loss = loss;
            set |= RELAY_SET_LOSS;

        } else if (strcmp(arg[i], "delay") == 0) {
            if (relay_parse_uint(eq, RELAY_DELAY_MAX, &v) != 0) {
                relay_out(k, "error delay must be whole ms from 0 to %d\n",
                          RELAY_DELAY_MAX);
                return -1;
            }

            rule.delay_ms = (uint32_t) v;
            set |= RELAY_SET_DELAY;

        } else if (strcmp(arg[i], "rate") == 0) {
            if (relay_parse_uint(eq, RELAY_RATE_MAX, &v) != 0
                || (v != 0 && v < RELAY_RATE_MIN))
            {
                relay_out(k, "error rate must be 0 (unlimited) or bits/s "
                          "from %d to %llu\n", RELAY_RATE_MIN,
                          (unsigned long long) RELAY_RATE_MAX);
                return -1;
            }

            rule.rate = v;
            set |= RELAY_SET_RATE;

        } else if (strcmp(arg[i], "queue") == 0) {
            if (relay_parse_uint(eq, RELAY_QUEUE_MAX, &v) != 0
                || v < RELAY_QUEUE_MIN)
            {
                relay_out(k, "error queue must be bytes from %d to %d\n",
                          RELAY_QUEUE_MIN, RELAY_QUEUE_MAX);
                return -1;
            }

            rule.queue = (size_t) v;
            set |= RELAY_SET_QUEUE;

        } else {
            relay_out(k, "error unknown key (loss, delay, rate, queue)\n");
            return -1;
        }
    }

    for (i = lo; i <= hi; i++) {
        if (c) {
            relay_rule_apply(&c->dir[i].rule, &rule, set);
            continue;
        }

        relay_rule_apply(&r.def[i], &rule, set);

        for (j = 0; j < RELAY_MAX_CLIENTS; j++) {
            if (r.clients[j].used) {
                relay_rule_apply(&r.clients[j].dir[i].rule, &rule, set);
            }
        }
    }

    relay_out(k, "ok\n");

    return 0;
}


static void
relay_cmd_reset(relay_ctl_t *k)
{
    int              i, j;
    relay_dir_t     *d;
    relay_client_t  *c;

    relay_rule_default(&r.def[RELAY_UP]);
    relay_rule_default(&r.def[RELAY_DOWN]);

    for (i = 0; i < RELAY_MAX_CLIENTS; i++) {
        c = &r.clients[i];

        if (!c->used) {
            continue;
        }

        for (j = 0; j < 2; j++) {
            d = &c->dir[j];
            d->rule = r.def[j];
            d->in = 0;
            d->lost = 0;
            d->qdrop = 0;
            d->full = 0;
            d->sent = 0;
            d->bytes = 0;
            d->err = 0;
        }

        relay_dir_seed(c);
    }

    r.refused = 0;
    r.oversize = 0;
    r.rx_err = 0;

    relay_out(k, "ok\n");
}


static void
relay_ctl_exec(relay_ctl_t *k, char *line, uint64_t now)
{
    int              i, n, used;
    char            *arg[RELAY_CTL_ARGS], *save, *tok;
    char             copy[RELAY_CTL_LINE];
    relay_client_t  *c;

    /* the line as given, for the log: tokenizing cuts it up */
    snprintf(copy, sizeof(copy), "%s", line);

    n = 0;

    for (tok = strtok_r(line, " \t\r", &save); tok;
         tok = strtok_r(NULL, " \t\r", &save))
    {
        if (n == RELAY_CTL_ARGS) {
            relay_out(k, "error too many words\n");
            return;
        }

        arg[n++] = tok;
    }

    if (n == 0) {
        relay_out(k, "error empty command\n");
        return;
    }

    if (strcmp(arg[0], "set") == 0) {
        if (relay_cmd_set(k, arg, n) == 0) {
            relay_log("%s", copy);
        }

        return;
    }

    if (strcmp(arg[0], "clients") == 0 && n == 1) {
        used = 0;

        for (i = 0; i < RELAY_MAX_CLIENTS; i++) {
            used += r.clients[i].used;
        }

        relay_out(k, "ok %d refused=%llu oversize=%llu rx_err=%llu held=%zu",
                  used, (unsigned long long) r.refused,
                  (unsigned long long) r.oversize,
                  (unsigned long long) r.rx_err, r.held);

        for (i = 0; i < RELAY_MAX_CLIENTS; i++) {
            if (r.clients[i].used) {
                relay_out(k, " | ");
                relay_out_client(k, &r.clients[i], now);
            }
        }

        relay_out(k, "\n");
        return;
    }

    if (strcmp(arg[0], "stats") == 0 && n == 2) {
        if (strcmp(arg[1], "*") == 0) {
            relay_out(k, "ok *");
            relay_out_rule(k, "up", &r.def[RELAY_UP]);
            relay_out_rule(k, "down", &r.def[RELAY_DOWN]);
            relay_out(k, "\n");
            return;
        }

        c = relay_client_by_name(arg[1]);

        if (c == NULL) {
            relay_out(k, "error no such client (see `clients`)\n");
            return;
        }

        relay_out(k, "ok ");
        relay_out_client(k, c, now);
        relay_out(k, "\n");
        return;
    }

    if (strcmp(arg[0], "reset") == 0 && n == 1) {
        relay_cmd_reset(k);
        relay_log("reset");
        return;
    }

    if (strcmp(arg[0], "help") == 0) {
        relay_out(k, "ok set <client|*> <up|down|both> [loss=P] [delay=MS] "
                  "[rate=BPS] [queue=BYTES]; clients; stats <client|*>; "
                  "reset\n");
        return;
    }

    relay_out(k, "error unknown command or wrong number of words "
              "(try help)\n");
}


static void
relay_ctl_close(relay_ctl_t *k)
{
    close(k->fd);
    k->fd = -1;
}


/* runs every complete line while the answers pending fit */
static void
relay_ctl_lines(relay_ctl_t *k, uint64_t now)
{
    char    *nl;
    size_t   used;

    while (k->out_len - k->out_off < RELAY_CTL_OUT / 2) {
        nl = memchr(k->in, '\n', k->in_len);

        if (nl == NULL) {
            if (k->in_len == sizeof(k->in)) {
                /* no command is this long: answer once, skip to the
                 * end of the line */
                if (!k->discard) {
                    relay_out(k, "error line too long\n");
                }

                k->discard = 1;
                k->in_len = 0;
                continue;
            }

            if (k->eof && k->in_len > 0 && !k->discard) {
                /* the last command, without its newline */
                nl = k->in + k->in_len;

            } else {
                return;
            }
        }

        used = (size_t) (nl - k->in);

        if (k->discard) {
            k->discard = 0;

        } else if (memchr(k->in, '\0', used) != NULL) {
            relay_out(k, "error NUL byte in command\n");

        } else {
            *nl = '\0';
            relay_ctl_exec(k, k->in, now);
        }

        used = (used < k->in_len) ? used + 1 : used;
        memmove(k->in, k->in + used, k->in_len - used);
        k->in_len -= used;
    }
}


static void
relay_ctl_flush(relay_ctl_t *k)
{
    ssize_t  n;

    while (k->out_off < k->out_len) {
        n = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
                 MSG_NOSIGNAL);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }

            /* the reader is gone: nothing more to say to it */
            k->eof = 1;
            k->out_off = 0;
            k->out_len = 0;
            return;
        }

        k->out_off += (size_t) n;
    }

    k->out_off = 0;
    k->out_len = 0;
}


static void
relay_ctl_event(relay_ctl_t *k, uint64_t now)
{
    int                 want;
    ssize_t             n;
    struct epoll_event  ee;

    relay_ctl_flush(k);

    while (!k->eof && k->out_len - k->out_off < RELAY_CTL_OUT / 2) {
        relay_ctl_lines(k, now);
        relay_ctl_flush(k);

        if (k->out_len - k->out_off >= RELAY_CTL_OUT / 2) {
            break;
        }

        n = recv(k->fd, k->in + k->in_len, sizeof(k->in) - k->in_len, 0);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                k->eof = 1;
            }

            break;
        }

        if (n == 0) {
            k->eof = 1;
            break;
        }

        k->in_len += (size_t) n;
    }

    relay_ctl_lines(k, now);
    relay_ctl_flush(k);

    if (k->eof && k->out_len == 0) {
        relay_ctl_close(k);
        return;
    }

    /* while answers wait, stop reading: level-triggered EPOLLIN would
     * otherwise wake us for input we refuse to take */
    want = (k->out_len > 0);

    if (want != k->want_out) {
        ee.events = want ? EPOLLOUT : EPOLLIN;
        ee.data.u64 = RELAY_TAG(RELAY_EV_CTL, k - r.ctl);

        if (epoll_ctl(r.ep, EPOLL_CTL_MOD, k->fd, &ee) == -1) {
            relay_ctl_close(k);
            return;
        }

        k->want_out = want;
    }
}


static void
relay_ctl_accept(void)
{
    int                 i, fd;
    relay_ctl_t        *k;
    struct epoll_event  ee;
    static const char   busy[] = "error too many control connections\n";

    for ( ;; ) {
        fd = accept4(r.ctl_listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            return;
        }

        k = NULL;

        for (i = 0; i < RELAY_CTL_MAX; i++) {
            if (r.ctl[i].fd == -1) {
                k = &r.ctl[i];
                break;
            }
        }

        if (k == NULL) {
            (void) send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL);
            close(fd);
            continue;
        }

        ee.events = EPOLLIN;
        ee.data.u64 = RELAY_TAG(RELAY_EV_CTL, i);

        if (epoll_ctl(r.ep, EPOLL_CTL_ADD, fd, &ee) == -1) {
            close(fd);
            continue;
        }

        k->fd = fd;
        k->eof = 0;
        k->discard = 0;
        k->want_out = 0;
        k->in_len = 0;
        k->out_off = 0;
        k->out_len = 0;
    }
}


/* ---- start -------------------------------------------------------------- */


static int
relay_ep_add(int fd, uint64_t tag)
{
    struct epoll_event  ee;

    ee.events = EPOLLIN;
    ee.data.u64 = tag;

    return epoll_ctl(r.ep, EPOLL_CTL_ADD, fd, &ee);
}


static int
relay_ctl_listen(const char *path)
{
    int                 fd;
    struct stat         st;
    struct sockaddr_un  sun;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        relay_log("control path too long: %s", path);
        return -1;
    }

    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            relay_log("%s exists and is not a socket", path);
            return -1;
        }

        /* a socket left by an earlier run */
        unlink(path);
    }

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd == -1) {
        relay_log("socket(AF_UNIX): %s", strerror(errno));
        return -1;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);

    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) == -1
        || listen(fd, 16) == -1)
    {
        relay_log("bind/listen %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }

    return fd;
}


static void
relay_usage(void)
{
    fprintf(stderr,
            "usage: rooms-relay --listen IP:PORT --upstream IP:PORT "
            "--control PATH\n"
            "                   [--seed N] [--idle SECONDS]\n");
}


int
main(int argc, char **argv)
{
    int                       i, n, timeout;
    uint64_t                  now, next, tag, v, idle;
    socklen_t                 listen_len;
    sigset_t                  mask;
    const char               *listen_text, *up_text;
    struct epoll_event        events[64];
    struct sockaddr_storage   listen_addr;
    struct signalfd_siginfo   si;

    listen_text = NULL;
    up_text = NULL;
    r.ctl_path = NULL;
    r.seed = 1;
    idle = RELAY_IDLE_DEFAULT;

    for (i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            relay_usage();
            return 2;
        }

        if (strcmp(argv[i], "--listen") == 0) {
            listen_text = argv[++i];

        } else if (strcmp(argv[i], "--upstream") == 0) {
            up_text = argv[++i];

        } else if (strcmp(argv[i], "--control") == 0) {
            r.ctl_path = argv[++i];

        } else if (strcmp(argv[i], "--seed") == 0) {
            if (relay_parse_uint(argv[++i], UINT64_MAX, &v) != 0) {
                relay_usage();
                return 2;
            }

            r.seed = v;

        } else if (strcmp(argv[i], "--idle") == 0) {
            if (relay_parse_uint(argv[++i], 86400, &idle) != 0 || idle == 0)
            {
                relay_usage();
                return 2;
            }

        } else {
            relay_usage();
            return 2;
        }
    }

    if (listen_text == NULL || up_text == NULL || r.ctl_path == NULL) {
        relay_usage();
        return 2;
    }

    if (relay_addr_parse(listen_text, &listen_addr, &listen_len) != 0) {
        relay_log("bad --listen \"%s\"", listen_text);
        return 2;
    }

    if (relay_addr_parse(up_text, &r.up_addr, &r.up_len) != 0) {
        relay_log("bad --upstream \"%s\"", up_text);
        return 2;
    }

    relay_addr_name(&listen_addr, r.listen_name);
    relay_addr_name(&r.up_addr, r.up_name);
    r.idle_us = idle * 1000000;

    relay_rule_default(&r.def[RELAY_UP]);
    relay_rule_default(&r.def[RELAY_DOWN]);

    for (i = 0; i < RELAY_CTL_MAX; i++) {
        r.ctl[i].fd = -1;
    }

    signal(SIGPIPE, SIG_IGN);

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);

    r.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    r.ep = epoll_create1(EPOLL_CLOEXEC);

    if (r.sigfd == -1 || r.ep == -1) {
        relay_log("signalfd/epoll: %s", strerror(errno));
        return 1;
    }

    r.udp = socket(listen_addr.ss_family,
                   SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (r.udp == -1) {
        relay_log("socket(): %s", strerror(errno));
        return 1;
    }

    (void) setsockopt(r.udp, SOL_SOCKET, SO_RCVBUF, &(int) { RELAY_SOCKBUF },
                      sizeof(int));
    (void) setsockopt(r.udp, SOL_SOCKET, SO_SNDBUF, &(int) { RELAY_SOCKBUF },
                      sizeof(int));

    if (bind(r.udp, (struct sockaddr *) &listen_addr, listen_len) == -1) {
        relay_log("bind %s: %s", r.listen_name, strerror(errno));
        return 1;
    }

    /* the control socket last: its existence tells a test we are ready */
    r.ctl_listen = relay_ctl_listen(r.ctl_path);

    if (r.ctl_listen == -1) {
        return 1;
    }

    if (relay_ep_add(r.udp, RELAY_TAG(RELAY_EV_UDP, 0)) == -1
        || relay_ep_add(r.ctl_listen, RELAY_TAG(RELAY_EV_CTL_LISTEN, 0)) == -1
        || relay_ep_add(r.sigfd, RELAY_TAG(RELAY_EV_SIGNAL, 0)) == -1)
    {
        relay_log("epoll_ctl(): %s", strerror(errno));
        unlink(r.ctl_path);
        return 1;
    }

    relay_log("listening on %s, upstream %s, control %s, seed %llu",
              r.listen_name, r.up_name, r.ctl_path,
              (unsigned long long) r.seed);

    for ( ;; ) {
        now = relay_now();
        next = relay_tick(now);

        /* round up: waking a little late keeps the rate (see
         * relay_service), waking early would only spin */
        timeout = (next <= now) ? 0 : (int) ((next - now + 999) / 1000);

        n = epoll_wait(r.ep, events, 64, timeout);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            relay_log("epoll_wait(): %s", strerror(errno));
            break;
        }

        now = relay_now();

        for (i = 0; i < n; i++) {
            tag = events[i].data.u64;

            switch (tag >> 32) {

            case RELAY_EV_UDP:
                relay_udp_read(now);
                break;

            case RELAY_EV_CLIENT:
                if (r.clients[(uint32_t) tag].used) {
                    relay_client_read(&r.clients[(uint32_t) tag], now);
                }
                break;

            case RELAY_EV_CTL_LISTEN:
                relay_ctl_accept();
                break;

            case RELAY_EV_CTL:
                if (r.ctl[(uint32_t) tag].fd != -1) {
                    relay_ctl_event(&r.ctl[(uint32_t) tag], now);
                }
                break;

            case RELAY_EV_SIGNAL:
                if (read(r.sigfd, &si, sizeof(si)) == sizeof(si)) {
                    relay_log("signal %u, exiting", si.ssi_signo);
                    goto done;
                }
                break;
            }
        }
    }

done:

    unlink(r.ctl_path);

    for (i = 0; i < RELAY_MAX_CLIENTS; i++) {
        if (r.clients[i].used) {
            relay_client_free(&r.clients[i]);
        }
    }

    return 0;
}
