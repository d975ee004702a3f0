/*
 * main.c: the media worker process (build/rooms-worker): its event loop.
 *
 *     rooms-worker --udp-port 40000 --announce-ip 127.0.0.1
 *                  --control /run/rooms/worker.sock [--bind-ip 0.0.0.0]
 *                  [--log-level info|debug]
 *
 * Owns: every system call and every clock reading of the media worker.
 * One epoll loop over the UDP socket (recvmmsg in, sendmmsg out), the
 * control socket nginx workers connect to, each nginx worker's control
 * connection (EOF means it is gone) and doorbell eventfd, and a signalfd
 * for SIGTERM and SIGINT.  The ring segment (one memfd, one ring pair per
 * nginx worker) is made once at start.  The SFU (sfu.h) does the rest:
 * this file hands it records, datagrams and the time, and sends what it
 * queued.
 *
 * Must never: block (every descriptor is non-blocking, and a full socket
 * or ring drops and counts rather than waits), trust what an nginx worker
 * writes into shared memory beyond what rooms_ring.h checks, or leave the
 * socket file behind on a clean exit.
 *
 * The control handshake (common/rooms_proto.h): an nginx worker connects
 * and sends a rooms_proto_hello_t; it gets a rooms_proto_welcome_t with
 * its slot and, when the status is OK, three descriptors: the ring
 * segment, the eventfd it rings after pushing to us ("to_worker"), and
 * the one we ring after pushing to it ("from_worker").  Each slot gets
 * fresh eventfds and emptied rings.  The socket is SOCK_SEQPACKET, as
 * rooms_ring_send_fds() expects (one call, one message: the hello and the
 * welcome keep their boundaries); the nginx side connects with it first.
 */

#define _GNU_SOURCE                 /* recvmmsg, sendmmsg, accept4 */

#include <errno.h>
#include <fcntl.h>
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
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <openssl/rand.h>

#include "rooms_limits.h"
#include "rooms_proto.h"
#include "rooms_ring.h"

#include "ice.h"
#include "sfu.h"
#include "stun.h"


/* datagrams per recvmmsg and per sendmmsg call */
#define W_BATCH            32

/*
 * recvmmsg calls per wakeup before the loop looks at everything else:
 * 16 x 32 datagrams keeps signaling and timers responsive under a flood.
 */
#define W_RX_ROUNDS        16

/* a received datagram: larger than any MTU, so truncation is visible */
#define W_RX_MAX           2048

/*
 * Outgoing datagrams queued before a sendmmsg flush.  One input packet
 * may fan out to 999 subscribers; the SFU flushes whenever it is full.
 */
#define W_TX_QUEUE         1024

/* the longest the loop sleeps: timers are never later than this */
#define W_WAIT_MAX_MS      100

/* control connections still saying hello, beyond the ring slots */
#define W_PENDING_MAX      16

/* a connection that has not sent its hello by then is closed */
#define W_HELLO_MS         5000

/* ring records read per doorbell round before looking at the rest */
#define W_RING_BATCH       256

/* socket buffers: a keyframe burst to 50 subscribers is ~4 MiB */
#define W_SOCKBUF          (8 * 1024 * 1024)


typedef enum {
    W_EV_UDP = 1,
    W_EV_LISTEN,
    W_EV_SIGNAL,
    W_EV_CONN,
    W_EV_BELL
} w_ev_type_e;


typedef struct {
    w_ev_type_e    type;
    unsigned       index;               /* conn: its index in w.conns */
} w_ev_t;


/* one control connection: saying hello, or holding a slot */
typedef struct {
    int            fd;                  /* -1: free */
    unsigned       active;              /* welcomed: holds slot */
    unsigned       slot;
    uint32_t       pid;
    uint64_t       since_ms;
    size_t         got;
    unsigned char  hello[sizeof(rooms_proto_hello_t)];
    int            bell_in;             /* to_worker: nginx rings it */
    int            bell_out;            /* from_worker: we ring it */
    rooms_ring_t   in;
    rooms_ring_t   out;
    unsigned       dirty;               /* pushed since the last ring */
    uint64_t       out_drops;           /* drops already logged */
    w_ev_t         ev_conn;
    w_ev_t         ev_bell;
} w_conn_t;


#define W_CONNS  (ROOMS_RING_MAX_PEERS + W_PENDING_MAX)

typedef struct {
    int            udp;
    int            udp_family;
    int            listen;
    int            sigfd;
    int            ep;
    int            memfd;
    void          *seg;
    size_t         seg_size;
    const char    *control;
    int            log_level;
    unsigned       stop;

    sfu_t         *sfu;
    sfu_io_t       io;
    sfu_dgram_t   *txq;
    uint64_t       tx_fail;

    w_conn_t       conns[W_CONNS];
    int            slot_conn[ROOMS_RING_MAX_PEERS];   /* -1: free */

    w_ev_t         ev_udp;
    w_ev_t         ev_listen;
    w_ev_t         ev_signal;

    /* receive batch */
    struct mmsghdr           rx_msgs[W_BATCH];
    struct iovec             rx_iov[W_BATCH];
    struct sockaddr_storage  rx_addr[W_BATCH];
    uint8_t                  rx_buf[W_BATCH][W_RX_MAX];
} w_t;


static w_t  w;


/* ---- clock and log ---- */


static uint64_t
w_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


static const char *
w_level_name(int level)
{
    switch (level) {
    case SFU_LOG_ERR:
        return "error";
    case SFU_LOG_WARN:
        return "warn";
    case SFU_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}


static void
w_log_line(void *ctx, int level, const char *line)
{
    char             stamp[32];
    struct tm        tm;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

    fprintf(stderr, "%s.%03ldZ rooms-worker [%s] %s\n", stamp,
            ts.tv_nsec / 1000000, w_level_name(level), line);
}


static void
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
w_log(int level, const char *fmt, ...)
{
    char     line[1024];
    va_list  args;

    if (level > w.log_level) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);

    w_log_line(NULL, level, line);
}


static int
w_rng(void *ctx, void *buf, size_t n)
{
    return RAND_bytes(buf, (int) n) == 1 ? 0 : -1;
}


/* ---- output: datagrams and records ---- */


/* Sends everything queued with sendmmsg; what the kernel refuses drops. */
static void
w_flush(void *ctx, sfu_io_t *io)
{
    int                      n;
    unsigned                 i, done, batch;
    socklen_t                alen;
    struct iovec             iov[W_BATCH];
    struct mmsghdr           msgs[W_BATCH];
    struct sockaddr_storage  addr[W_BATCH];

    done = 0;

    while (done < io->n) {
        batch = 0;

        while (batch < W_BATCH && done + batch < io->n) {
            alen = rooms_stun_addr_to_sockaddr(&io->q[done + batch].addr,
                                               w.udp_family, &addr[batch]);

            if (alen == 0) {
                /* an address this socket cannot reach: skip it */
                w.tx_fail++;
                io->q[done + batch] = io->q[io->n - 1];
                io->n--;
                continue;
            }

            iov[batch].iov_base = io->q[done + batch].data;
            iov[batch].iov_len = io->q[done + batch].len;
            memset(&msgs[batch], 0, sizeof(struct mmsghdr));
            msgs[batch].msg_hdr.msg_name = &addr[batch];
            msgs[batch].msg_hdr.msg_namelen = alen;
            msgs[batch].msg_hdr.msg_iov = &iov[batch];
            msgs[batch].msg_hdr.msg_iovlen = 1;
            batch++;
        }

        if (batch == 0) {
            break;
        }

        for (i = 0; i < batch; ) {
            n = sendmmsg(w.udp, &msgs[i], batch - i, 0);

            if (n > 0) {
                i += (unsigned) n;
                continue;
            }

            if (n == -1 && errno == EINTR) {
                continue;
            }

            if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                /* the socket buffer is full: never wait, drop the rest */
                w.tx_fail += batch - i;
                break;
            }

            /* this datagram failed (unreachable, ...): skip it */
            w.tx_fail++;
            w_log(SFU_LOG_DEBUG, "sendmmsg: %s", strerror(errno));
            i++;
        }

        done += batch;
    }

    io->n = 0;
}


static int
w_record(void *ctx, uint16_t type, uint64_t id, const void *payload,
    size_t len)
{
    int        rc;
    unsigned   slot;
    w_conn_t  *c;

    slot = ROOMS_PROTO_SLOT(id);

    if (slot >= ROOMS_RING_MAX_PEERS || w.slot_conn[slot] < 0) {
        w_log(SFU_LOG_DEBUG, "record for slot %u, which has no nginx "
              "worker: dropped", slot);
        return -1;
    }

    c = &w.conns[w.slot_conn[slot]];

    rc = rooms_ring_push(&c->out, type, 0, id, payload, len);

    if (rc != ROOMS_RING_OK) {
        w_log(SFU_LOG_WARN, "ring to nginx slot %u: %s (%llu dropped so "
              "far)", slot, rooms_ring_strerror(rc),
              (unsigned long long) rooms_ring_drops(&c->out));
        return -1;
    }

    c->dirty = 1;

    return 0;
}


/* Rings the doorbell of every nginx worker that got records. */
static void
w_ring_bells(void)
{
    unsigned   i;
    w_conn_t  *c;

    for (i = 0; i < ROOMS_RING_MAX_PEERS; i++) {
        if (w.slot_conn[i] < 0) {
            continue;
        }

        c = &w.conns[w.slot_conn[i]];

        if (c->dirty) {
            c->dirty = 0;

            if (rooms_ring_doorbell_ring(c->bell_out) != 0) {
                w_log(SFU_LOG_WARN, "doorbell of slot %u: %s", i,
                      strerror(errno));
            }
        }
    }
}


/* ---- control connections ---- */


static void
w_conn_close(w_conn_t *c, uint64_t now, const char *why)
{
    unsigned  slot;

    if (c->fd < 0) {
        return;
    }

    epoll_ctl(w.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;

    if (!c->active) {
        return;
    }

    slot = c->slot;

    w_log(SFU_LOG_INFO, "nginx worker disconnected: slot %u pid %u (%s)",
          slot, (unsigned) c->pid, why);

    /* its participants leave; nothing more goes to its ring */
    w.slot_conn[slot] = -1;
    sfu_drop_slot(w.sfu, slot, now, &w.io);

    epoll_ctl(w.ep, EPOLL_CTL_DEL, c->bell_in, NULL);
    close(c->bell_in);
    close(c->bell_out);
    c->bell_in = -1;
    c->bell_out = -1;
    c->active = 0;
}


static void
w_welcome_refuse(w_conn_t *c, uint64_t now, uint32_t status,
    const char *why)
{
    rooms_proto_welcome_t  wel;

    memset(&wel, 0, sizeof(wel));
    wel.magic = ROOMS_PROTO_MAGIC;
    wel.version = ROOMS_PROTO_VERSION;
    wel.status = status;

    (void) rooms_ring_send_fds(c->fd, &wel, sizeof(wel), NULL, 0);

    w_log(SFU_LOG_WARN, "nginx worker refused: %s", why);
    w_conn_close(c, now, why);
}


/* The hello is complete: check it, give a slot, send the welcome. */
static void
w_hello(w_conn_t *c, uint64_t now)
{
    int                    fds[3];
    unsigned               slot;
    struct epoll_event     ee;
    rooms_ring_t           tmp;
    rooms_proto_hello_t    hello;
    rooms_proto_welcome_t  wel;

    memcpy(&hello, c->hello, sizeof(hello));

    if (hello.magic != ROOMS_PROTO_MAGIC
        || hello.version != ROOMS_PROTO_VERSION)
    {
        w_welcome_refuse(c, now, ROOMS_PROTO_WELCOME_VERSION,
                         "protocol version mismatch");
        return;
    }

    for (slot = 0; slot < ROOMS_RING_MAX_PEERS; slot++) {
        if (w.slot_conn[slot] < 0) {
            break;
        }
    }

    if (slot == ROOMS_RING_MAX_PEERS) {
        w_welcome_refuse(c, now, ROOMS_PROTO_WELCOME_FULL,
                         "every ring slot is taken");
        return;
    }

    c->bell_in = rooms_ring_doorbell_create();
    c->bell_out = rooms_ring_doorbell_create();

    if (c->bell_in < 0 || c->bell_out < 0) {
        w_log(SFU_LOG_ERR, "eventfd: %s", strerror(errno));
        goto failed;
    }

    /*
     * Whatever the slot's previous holder left in either ring is about
     * connections that are gone: empty both.  We are the only producer
     * of the outgoing ring, and its consumer is gone, so consuming it
     * here is safe.
     */
    if (rooms_ring_get(&c->in, w.seg, slot, ROOMS_RING_TO_WORKER) != 0
        || rooms_ring_get(&tmp, w.seg, slot, ROOMS_RING_FROM_WORKER) != 0)
    {
        goto failed;
    }

    rooms_ring_discard(&c->in);
    rooms_ring_discard(&tmp);

    if (rooms_ring_get(&c->out, w.seg, slot, ROOMS_RING_FROM_WORKER) != 0) {
        goto failed;
    }

    c->out_drops = rooms_ring_drops(&c->out);

    memset(&wel, 0, sizeof(wel));
    wel.magic = ROOMS_PROTO_MAGIC;
    wel.version = ROOMS_PROTO_VERSION;
    wel.status = ROOMS_PROTO_WELCOME_OK;
    wel.slot = slot;

    fds[0] = w.memfd;
    fds[1] = c->bell_in;
    fds[2] = c->bell_out;

    if (rooms_ring_send_fds(c->fd, &wel, sizeof(wel), fds, 3)
        != (ssize_t) sizeof(wel))
    {
        w_log(SFU_LOG_WARN, "welcome to pid %u: %s", (unsigned) hello.pid,
              strerror(errno));
        goto failed;
    }

    c->ev_bell.type = W_EV_BELL;
    c->ev_bell.index = (unsigned) (c - w.conns);
    ee.events = EPOLLIN;
    ee.data.ptr = &c->ev_bell;

    if (epoll_ctl(w.ep, EPOLL_CTL_ADD, c->bell_in, &ee) != 0) {
        w_log(SFU_LOG_ERR, "epoll_ctl: %s", strerror(errno));
        goto failed;
    }

    c->active = 1;
    c->slot = slot;
    c->pid = hello.pid;
    c->dirty = 0;
    w.slot_conn[slot] = (int) (c - w.conns);

    w_log(SFU_LOG_INFO, "nginx worker connected: slot %u pid %u", slot,
          (unsigned) hello.pid);

    /*
     * Its ring was emptied before the welcome, and nginx reads it from
     * the start: the room counts queued now reach it (COUNT records).
     */
    sfu_slot_add(w.sfu, slot, &w.io);

    return;

failed:

    if (c->bell_in >= 0) {
        close(c->bell_in);
    }

    if (c->bell_out >= 0) {
        close(c->bell_out);
    }

    c->bell_in = -1;
    c->bell_out = -1;
    w_conn_close(c, now, "handshake failed");
}


static void
w_conn_read(w_conn_t *c, uint64_t now)
{
    ssize_t        n;
    unsigned char  junk[256];

    for ( ;; ) {
        if (!c->active && c->got < sizeof(c->hello)) {
            n = recv(c->fd, c->hello + c->got, sizeof(c->hello) - c->got, 0);

        } else {
            /* nothing is expected after the hello: read and ignore */
            n = recv(c->fd, junk, sizeof(junk), 0);
        }

        if (n > 0) {
            if (!c->active && c->got < sizeof(c->hello)) {
                c->got += (size_t) n;

                if (c->got == sizeof(c->hello)) {
                    w_hello(c, now);

                    if (c->fd < 0) {
                        return;
                    }
                }
            }

            continue;
        }

        if (n == 0) {
            w_conn_close(c, now, "EOF");
            return;
        }

        if (errno == EINTR) {
            continue;
        }

        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            w_conn_close(c, now, strerror(errno));
        }

        return;
    }
}


static void
w_accept(uint64_t now)
{
    int                 fd;
    unsigned            i;
    w_conn_t           *c;
    struct epoll_event  ee;

    for ( ;; ) {
        fd = accept4(w.listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }

            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                w_log(SFU_LOG_WARN, "accept: %s", strerror(errno));
            }

            return;
        }

        c = NULL;

        for (i = 0; i < W_CONNS; i++) {
            if (w.conns[i].fd < 0) {
                c = &w.conns[i];
                break;
            }
        }

        if (c == NULL) {
            w_log(SFU_LOG_WARN, "too many control connections: refused");
            close(fd);
            continue;
        }

        memset(c, 0, sizeof(w_conn_t));
        c->fd = fd;
        c->bell_in = -1;
        c->bell_out = -1;
        c->since_ms = now;
        c->ev_conn.type = W_EV_CONN;
        c->ev_conn.index = i;

        ee.events = EPOLLIN | EPOLLRDHUP;
        ee.data.ptr = &c->ev_conn;

        if (epoll_ctl(w.ep, EPOLL_CTL_ADD, fd, &ee) != 0) {
            w_log(SFU_LOG_ERR, "epoll_ctl: %s", strerror(errno));
            close(fd);
            c->fd = -1;
        }
    }
}


/* ---- ring records from nginx ---- */


static int
w_on_record(void *ctx, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload)
{
    sfu_record(w.sfu, *(uint64_t *) ctx, hdr, payload, &w.io);

    return 0;
}


static void
w_bell(w_conn_t *c, uint64_t now)
{
    int       n;
    unsigned  slot;

    (void) rooms_ring_doorbell_drain(c->bell_in);

    for ( ;; ) {
        n = rooms_ring_read(&c->in, w_on_record, &now, W_RING_BATCH);

        if (n == ROOMS_RING_CORRUPT) {
            slot = c->slot;
            w_log(SFU_LOG_ERR, "ring from nginx slot %u is corrupt: "
                  "dropping that worker", slot);
            w_conn_close(c, now, "corrupt ring");
            return;
        }

        if (n < W_RING_BATCH) {
            return;
        }

        /* a long backlog: send what it produced before reading on */
        w_flush(NULL, &w.io);
        w_ring_bells();
    }
}


/* ---- UDP ---- */


static void
w_udp_read(uint64_t now)
{
    int                 n, i;
    unsigned            round;
    rooms_stun_addr_t   src;

    for (round = 0; round < W_RX_ROUNDS; round++) {
        for (i = 0; i < W_BATCH; i++) {
            w.rx_iov[i].iov_base = w.rx_buf[i];
            w.rx_iov[i].iov_len = W_RX_MAX;
            memset(&w.rx_msgs[i], 0, sizeof(struct mmsghdr));
            w.rx_msgs[i].msg_hdr.msg_name = &w.rx_addr[i];
            w.rx_msgs[i].msg_hdr.msg_namelen = sizeof(w.rx_addr[i]);
            w.rx_msgs[i].msg_hdr.msg_iov = &w.rx_iov[i];
            w.rx_msgs[i].msg_hdr.msg_iovlen = 1;
        }

        n = recvmmsg(w.udp, w.rx_msgs, W_BATCH, MSG_DONTWAIT, NULL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }

            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                w_log(SFU_LOG_WARN, "recvmmsg: %s", strerror(errno));
            }

            return;
        }

        for (i = 0; i < n; i++) {
            if (w.rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                continue;
            }

            if (rooms_stun_addr_from_sockaddr(&src,
                    (struct sockaddr *) &w.rx_addr[i],
                    w.rx_msgs[i].msg_hdr.msg_namelen) != 0)
            {
                continue;
            }

            sfu_udp_input(w.sfu, now, &src, w.rx_buf[i], w.rx_msgs[i].msg_len,
                          &w.io);
        }

        w_flush(NULL, &w.io);

        if (n < W_BATCH) {
            return;
        }
    }
}


/* ---- setup ---- */


static int
w_udp_open(const char *bind_ip, uint16_t port)
{
    int                  fd, one, size;
    socklen_t            len;
    struct sockaddr_in   sin;
    struct sockaddr_in6  sin6;

    memset(&sin, 0, sizeof(sin));
    memset(&sin6, 0, sizeof(sin6));

    if (inet_pton(AF_INET, bind_ip, &sin.sin_addr) == 1) {
        w.udp_family = AF_INET;
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        len = sizeof(sin);

    } else if (inet_pton(AF_INET6, bind_ip, &sin6.sin6_addr) == 1) {
        w.udp_family = AF_INET6;
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        len = sizeof(sin6);

    } else {
        w_log(SFU_LOG_ERR, "bad --bind-ip \"%s\"", bind_ip);
        return -1;
    }

    fd = socket(w.udp_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        w_log(SFU_LOG_ERR, "socket: %s", strerror(errno));
        return -1;
    }

    one = 1;
    size = W_SOCKBUF;

    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    /* larger than the default is best effort (net.core.rmem_max caps) */
    (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));

    if (bind(fd, w.udp_family == AF_INET ? (struct sockaddr *) &sin
                                         : (struct sockaddr *) &sin6,
             len) != 0)
    {
        w_log(SFU_LOG_ERR, "bind UDP %s:%u: %s", bind_ip, (unsigned) port,
              strerror(errno));
        close(fd);
        return -1;
    }

    return fd;
}


static int
w_control_open(const char *path)
{
    int                 fd;
    struct stat         st;
    struct sockaddr_un  sun;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        w_log(SFU_LOG_ERR, "--control path is too long");
        return -1;
    }

    /* a stale socket of a previous run; anything else is not ours */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            w_log(SFU_LOG_ERR, "%s exists and is not a socket", path);
            return -1;
        }

        if (unlink(path) != 0) {
            w_log(SFU_LOG_ERR, "unlink %s: %s", path, strerror(errno));
            return -1;
        }
    }

    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        w_log(SFU_LOG_ERR, "socket: %s", strerror(errno));
        return -1;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);

    if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) != 0) {
        w_log(SFU_LOG_ERR, "bind %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }

    /* nginx workers run as another user (nobody, www-data) */
    if (chmod(path, 0666) != 0) {
        w_log(SFU_LOG_WARN, "chmod %s: %s", path, strerror(errno));
    }

    if (listen(fd, 64) != 0) {
        w_log(SFU_LOG_ERR, "listen %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }

    return fd;
}


static int
w_epoll_add(int fd, w_ev_t *ev, w_ev_type_e type)
{
    struct epoll_event  ee;

    ev->type = type;
    ev->index = 0;
    ee.events = EPOLLIN;
    ee.data.ptr = ev;

    return epoll_ctl(w.ep, EPOLL_CTL_ADD, fd, &ee);
}


static void
w_usage(void)
{
    fprintf(stderr,
            "usage: rooms-worker --udp-port PORT --announce-ip IP "
            "--control PATH\n"
            "                    [--bind-ip IP] [--log-level info|debug]\n");
}


static void
w_stats(void)
{
    const sfu_stats_t  *s;

    s = sfu_stats(w.sfu);

    w_log(SFU_LOG_INFO, "stats: rx %llu (stun %llu dtls %llu rtp %llu rtcp "
          "%llu unknown %llu bad %llu unprotect-fail %llu) tx %llu (dropped "
          "%llu, send failures %llu) forwarded %llu (dropped %llu) nack "
          "%llu pli %llu records %llu (dropped %llu) joins %llu knocks %llu "
          "leaves %llu timeouts %llu",
          (unsigned long long) s->rx, (unsigned long long) s->rx_stun,
          (unsigned long long) s->rx_dtls, (unsigned long long) s->rx_rtp,
          (unsigned long long) s->rx_rtcp, (unsigned long long) s->rx_unknown,
          (unsigned long long) s->rx_bad,
          (unsigned long long) s->unprotect_fail,
          (unsigned long long) s->tx, (unsigned long long) s->tx_dropped,
          (unsigned long long) w.tx_fail, (unsigned long long) s->fwd,
          (unsigned long long) s->fwd_dropped,
          (unsigned long long) s->nack_resent,
          (unsigned long long) s->pli_sent, (unsigned long long) s->records,
          (unsigned long long) s->records_dropped,
          (unsigned long long) s->joins, (unsigned long long) s->knocks,
          (unsigned long long) s->leaves,
          (unsigned long long) s->timeouts);
}


int
main(int argc, char **argv)
{
    int                  i, n, port, timeout;
    char                 err[256];
    w_ev_t              *ev;
    w_conn_t            *c;
    uint64_t             now, next, last_stats;
    sigset_t             mask;
    sfu_conf_t           conf;
    const char          *announce, *bind_ip, *level;
    struct epoll_event   events[64];
    struct signalfd_siginfo  si;

    port = 0;
    announce = NULL;
    bind_ip = "0.0.0.0";
    level = "info";
    w.control = NULL;

    for (i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            w_usage();
            return 2;
        }

        if (strcmp(argv[i], "--udp-port") == 0) {
            port = atoi(argv[++i]);

        } else if (strcmp(argv[i], "--announce-ip") == 0) {
            announce = argv[++i];

        } else if (strcmp(argv[i], "--control") == 0) {
            w.control = argv[++i];

        } else if (strcmp(argv[i], "--bind-ip") == 0) {
            bind_ip = argv[++i];

        } else if (strcmp(argv[i], "--log-level") == 0) {
            level = argv[++i];

        } else {
            w_usage();
            return 2;
        }
    }

    if (strcmp(level, "debug") == 0) {
        w.log_level = SFU_LOG_DEBUG;

    } else if (strcmp(level, "info") == 0) {
        w.log_level = SFU_LOG_INFO;

    } else {
        w_usage();
        return 2;
    }

    if (port <= 0 || port > 65535 || announce == NULL || w.control == NULL)
    {
        w_usage();
        return 2;
    }

    w.udp = -1;
    w.listen = -1;
    w.sigfd = -1;
    w.ep = -1;
    w.memfd = -1;

    for (i = 0; i < W_CONNS; i++) {
        w.conns[i].fd = -1;
        w.conns[i].bell_in = -1;
        w.conns[i].bell_out = -1;
    }

    for (i = 0; i < ROOMS_RING_MAX_PEERS; i++) {
        w.slot_conn[i] = -1;
    }

    signal(SIGPIPE, SIG_IGN);

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);

    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0
        || (w.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
    {
        w_log(SFU_LOG_ERR, "signalfd: %s", strerror(errno));
        return 1;
    }

    memset(&conf, 0, sizeof(conf));
    conf.announce_ip = announce;
    conf.port = (uint16_t) port;
    conf.max_sessions = ROOMS_ICE_MAX_SESSIONS;
    conf.log = w_log_line;
    conf.log_level = w.log_level;
    conf.rng = w_rng;

    w.sfu = sfu_create(&conf, err, sizeof(err));
    if (w.sfu == NULL) {
        w_log(SFU_LOG_ERR, "cannot start the SFU: %s", err);
        return 1;
    }

    w.txq = calloc(W_TX_QUEUE, sizeof(sfu_dgram_t));
    if (w.txq == NULL) {
        w_log(SFU_LOG_ERR, "out of memory");
        return 1;
    }

    w.io.q = w.txq;
    w.io.cap = W_TX_QUEUE;
    w.io.flush = w_flush;
    w.io.record = w_record;

    w.seg_size = rooms_ring_segment_size(ROOMS_RING_MAX_PEERS,
                                         ROOMS_RING_CAPACITY_DEFAULT);
    w.memfd = rooms_ring_memfd_create(w.seg_size, &w.seg);

    if (w.memfd < 0
        || rooms_ring_segment_init(w.seg, w.seg_size, ROOMS_RING_MAX_PEERS,
                                   ROOMS_RING_CAPACITY_DEFAULT) != 0)
    {
        w_log(SFU_LOG_ERR, "cannot make the ring segment: %s",
              strerror(errno));
        return 1;
    }

    w.udp = w_udp_open(bind_ip, (uint16_t) port);
    if (w.udp < 0) {
        return 1;
    }

    w.listen = w_control_open(w.control);
    if (w.listen < 0) {
        return 1;
    }

    w.ep = epoll_create1(EPOLL_CLOEXEC);

    if (w.ep < 0
        || w_epoll_add(w.udp, &w.ev_udp, W_EV_UDP) != 0
        || w_epoll_add(w.listen, &w.ev_listen, W_EV_LISTEN) != 0
        || w_epoll_add(w.sigfd, &w.ev_signal, W_EV_SIGNAL) != 0)
    {
        w_log(SFU_LOG_ERR, "epoll: %s", strerror(errno));
        unlink(w.control);
        return 1;
    }

    w_log(SFU_LOG_INFO, "started: pid %u, UDP %s:%d (announced %s), "
          "control %s, %u ring slots, DTLS fingerprint %s",
          (unsigned) getpid(), bind_ip, port, announce, w.control,
          ROOMS_RING_MAX_PEERS, sfu_fingerprint(w.sfu));

    last_stats = w_now();

    while (!w.stop) {
        now = w_now();
        next = sfu_poll(w.sfu, now, &w.io);
        w_flush(NULL, &w.io);
        w_ring_bells();

        /* hellos that never came */
        for (i = 0; i < W_CONNS; i++) {
            c = &w.conns[i];

            if (c->fd >= 0 && !c->active
                && now - c->since_ms >= W_HELLO_MS)
            {
                w_conn_close(c, now, "no hello");
            }
        }

        if (now - last_stats >= 60000) {
            last_stats = now;
            if (sfu_participants(w.sfu) > 0) {
                w_stats();
            }
        }

        timeout = W_WAIT_MAX_MS;

        if (next != SFU_NEVER) {
            timeout = next <= now ? 0
                      : next - now < W_WAIT_MAX_MS ? (int) (next - now)
                      : W_WAIT_MAX_MS;
        }

        n = epoll_wait(w.ep, events, 64, timeout);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }

            w_log(SFU_LOG_ERR, "epoll_wait: %s", strerror(errno));
            break;
        }

        now = w_now();

        for (i = 0; i < n; i++) {
            ev = events[i].data.ptr;

            switch (ev->type) {

            case W_EV_UDP:
                w_udp_read(now);
                break;

            case W_EV_LISTEN:
                w_accept(now);
                break;

            case W_EV_SIGNAL:
                while (read(w.sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                {
                    w_log(SFU_LOG_INFO, "signal %u: stopping",
                          (unsigned) si.ssi_signo);
                    w.stop = 1;
                }
                break;

            case W_EV_CONN:
                c = &w.conns[ev->index];
                if (c->fd >= 0) {
                    w_conn_read(c, now);
                }
                break;

            case W_EV_BELL:
                c = &w.conns[ev->index];
                if (c->fd >= 0 && c->active) {
                    w_bell(c, now);
                }
                break;
            }
        }

        w_flush(NULL, &w.io);
        w_ring_bells();
    }

    w_stats();

    for (i = 0; i < W_CONNS; i++) {
        if (w.conns[i].fd >= 0) {
            close(w.conns[i].fd);
        }
        if (w.conns[i].bell_in >= 0) {
            close(w.conns[i].bell_in);
        }
        if (w.conns[i].bell_out >= 0) {
            close(w.conns[i].bell_out);
        }
    }

    close(w.listen);
    unlink(w.control);
    close(w.udp);
    close(w.ep);
    close(w.sigfd);
    munmap(w.seg, w.seg_size);
    close(w.memfd);
    sfu_destroy(w.sfu);
    free(w.txq);

    w_log(SFU_LOG_INFO, "stopped");

    return 0;
}
