/*
 * link.c: the control socket and the rings towards the nginx workers
 * (see link.h).
 *
 * Owns: every system call on the control socket, its connections, the
 * eventfds and the ring segment; who may connect (the socket file's mode
 * and owner, the peer's credentials); when a full ring towards an nginx
 * worker is reported and resynced (what it lost is resync.c's).
 * Must never: block; read a ring record further than rooms_ring_read()
 * hands it to the SFU.
 * May not: include <sys/epoll.h>, call epoll_, call clock_gettime, call sendmmsg, call recvmmsg, call json_
 */

#define _GNU_SOURCE                 /* accept4, struct ucred */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "rooms_limits.h"
#include "rooms_proto.h"
#include "rooms_ring.h"

#include "link.h"
#include "resync.h"


/* control connections still saying hello, beyond the ring slots */
#define W_PENDING_MAX      16

/* a connection that has not sent its hello by then is closed */
#define W_HELLO_MS         5000

/* ring records read per doorbell round before looking at the rest */
#define W_RING_BATCH       256

/* refused connections are logged at most this often, with a count */
#define W_REFUSE_LOG_MS    1000

/* supplementary groups of a peer looked at (SO_PEERGROUPS) */
#define W_PEER_GROUPS      64

#define W_CONNS  (ROOMS_RING_MAX_PEERS + W_PENDING_MAX)


typedef struct rooms_link_conn_s  rooms_link_conn_t;

/* one control connection: saying hello, or holding a slot */
struct rooms_link_conn_s {
    rooms_link_t      *link;
    int                fd;                  /* -1: free */
    unsigned           active;              /* welcomed: holds slot */
    unsigned           slot;
    uint32_t           pid;
    uint32_t           uid;                 /* SO_PEERCRED's, for logs */
    uint64_t           since_ms;
    uint64_t           now;                 /* of the records being read */
    size_t             got;
    unsigned char      hello[sizeof(rooms_proto_hello_t)];
    int                bell_in;             /* to_worker: nginx rings it */
    int                bell_out;            /* from_worker: we ring it */
    rooms_ring_t       in;
    rooms_ring_t       out;
    unsigned           dirty;               /* pushed since the last ring */
    rooms_resync_t     resync;              /* what the full out ring lost */
    rooms_loop_ev_t    ev_conn;
    rooms_loop_ev_t    ev_bell;
};


struct rooms_link_s {
    rooms_loop_t        *loop;
    sfu_t               *sfu;
    sfu_io_t            *io;
    const char          *path;
    unsigned             index;             /* of workers (the welcome) */
    unsigned             workers;
    rooms_link_access_t  access;
    uid_t                self;              /* our effective uid */
    uint64_t             refused;           /* peers refused, not logged */
    uint64_t             refused_log_ms;    /* the last refusal logged */
    int                  listen;
    int                  memfd;
    void                *seg;
    size_t               seg_size;
    rooms_loop_ev_t      ev_listen;
    rooms_link_conn_t    conns[W_CONNS];
    int                  slot_conn[ROOMS_RING_MAX_PEERS];   /* -1: free */
};


static void w_on_bell(rooms_loop_ev_t *ev, uint64_t now);
static void w_on_conn(rooms_loop_ev_t *ev, uint64_t now);
static int w_on_record(void *ctx, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload);


int
rooms_link_record(void *ctx, uint16_t type, uint64_t id, const void *payload,
    size_t len)
{
    int                 rc;
    unsigned            slot;
    rooms_link_t       *w = ctx;
    rooms_link_conn_t  *c;

    slot = ROOMS_PROTO_SLOT(id);

    if (slot >= ROOMS_RING_MAX_PEERS || w->slot_conn[slot] < 0) {
        rooms_log(ROOMS_LOG_DEBUG, "record for slot %u, which has no nginx "
              "worker: dropped", slot);
        return -1;
    }

    c = &w->conns[w->slot_conn[slot]];

    /*
     * A refused push is said once a second, with a count, and made right
     * once the ring drains (rooms_link_poll()); meanwhile a ring that
     * overflowed keeps some records back (resync.h).
     */
    rc = rooms_resync_push(&c->resync, &c->out, type, id, payload, len);

    if (rc > 0) {
        c->dirty = 1;
    }

    return rc >= 0 ? 0 : -1;
}


/*
 * For each ring towards an nginx worker: the line saying how many records
 * a full one dropped (at most once a second), and, once a ring that
 * overflowed has drained, its resync (resync.h).
 */
void
rooms_link_poll(rooms_link_t *w, uint64_t now)
{
    int                 n;
    unsigned            i;
    uint64_t            lost;
    rooms_link_conn_t  *c;

    for (i = 0; i < ROOMS_RING_MAX_PEERS; i++) {
        if (w->slot_conn[i] < 0) {
            continue;
        }

        c = &w->conns[w->slot_conn[i]];

        if (rooms_resync_log_due(&c->resync, now, &lost)) {
            rooms_log(ROOMS_LOG_WARN, "ring to nginx slot %u (pid %u) is "
                      "full: %llu records dropped since the last line (%llu "
                      "in all); that nginx worker is resynced once it has "
                      "read its ring", i, (unsigned) c->pid,
                      (unsigned long long) lost,
                      (unsigned long long) c->resync.drops);
        }

        if (!rooms_resync_due(&c->resync, &c->out)) {
            continue;
        }

        n = rooms_resync_run(&c->resync, &c->out, w->sfu, i, now, w->io);
        c->dirty = 1;

        if (n < 0) {
            continue;
        }

        rooms_log(ROOMS_LOG_WARN, "ring to nginx slot %u (pid %u) drained: "
                  "resynced, %d connections that lost records closed "
                  "(%u), the counts sent again%s", i, (unsigned) c->pid, n,
                  ROOMS_PROTO_CLOSE_RESYNC,
                  c->resync.kept_lost ? "; some BAN, ROLE or HOST_ABSENT "
                  "records were lost (see the count below)" : "");

        if (c->resync.kept_lost) {
            rooms_log(ROOMS_LOG_ERR, "ring to nginx slot %u: %llu BAN, ROLE "
                      "or HOST_ABSENT records lost for good (more than %u "
                      "bytes waited)", i,
                      (unsigned long long) c->resync.kept_lost,
                      (unsigned) ROOMS_RESYNC_KEPT_MAX);
            c->resync.kept_lost = 0;
        }
    }
}



unsigned
rooms_link_record_all(rooms_link_t *w, uint16_t type, const void *payload,
    size_t len)
{
    unsigned            i, n;
    rooms_link_conn_t  *c;

    n = 0;

    for (i = 0; i < ROOMS_RING_MAX_PEERS; i++) {
        if (w->slot_conn[i] < 0) {
            continue;
        }

        c = &w->conns[w->slot_conn[i]];

        /*
         * Such records (STATS) are sent again soon: a ring half full, or
         * waiting for its resync, gets none, so that one never marks a
         * ring for a resync it does not need.
         */
        if (c->resync.marked || rooms_ring_used(&c->out) > c->out.capacity / 2)
        {
            continue;
        }

        if (rooms_link_record(w, type, ROOMS_PROTO_CONN(i, 0), payload, len)
            == 0)
        {
            n++;
        }
    }

    return n;
}



/* Rings the doorbell of every nginx worker that got records. */
void
rooms_link_ring_bells(rooms_link_t *w)
{
    unsigned            i;
    rooms_link_conn_t  *c;

    for (i = 0; i < ROOMS_RING_MAX_PEERS; i++) {
        if (w->slot_conn[i] < 0) {
            continue;
        }

        c = &w->conns[w->slot_conn[i]];

        if (c->dirty) {
            c->dirty = 0;

            if (rooms_ring_doorbell_ring(c->bell_out) != 0) {
                rooms_log(ROOMS_LOG_WARN, "doorbell of slot %u: %s", i,
                      strerror(errno));
            }
        }
    }
}



static void
w_conn_close(rooms_link_conn_t *c, uint64_t now, const char *why)
{
    unsigned       slot;
    rooms_link_t  *w = c->link;

    if (c->fd < 0) {
        return;
    }

    rooms_loop_del(w->loop, c->fd);
    close(c->fd);
    c->fd = -1;

    if (!c->active) {
        return;
    }

    slot = c->slot;

    rooms_log(ROOMS_LOG_INFO, "nginx worker disconnected: slot %u pid %u (%s)",
          slot, (unsigned) c->pid, why);

    /*
     * What it pushed before it went is read first: a closing nginx
     * worker's last records are its DETACHes (a reload), and dropping
     * the slot must not overtake them.  A corrupt ring stops the reading.
     */
    c->now = now;

    while (rooms_ring_read(&c->in, w_on_record, c, W_RING_BATCH)
           == W_RING_BATCH)
    {
        /* void */
    }

    /* its participants leave; nothing more goes to its ring */
    w->slot_conn[slot] = -1;
    sfu_drop_slot(w->sfu, slot, now, w->io);
    rooms_resync_free(&c->resync);

    rooms_loop_del(w->loop, c->bell_in);
    close(c->bell_in);
    close(c->bell_out);
    c->bell_in = -1;
    c->bell_out = -1;
    c->active = 0;
}



static void
w_welcome_refuse(rooms_link_conn_t *c, uint64_t now, uint32_t status,
    const char *why)
{
    rooms_proto_welcome_t  wel;

    memset(&wel, 0, sizeof(wel));
    wel.magic = ROOMS_PROTO_MAGIC;
    wel.version = ROOMS_PROTO_VERSION;
    wel.status = status;

    (void) rooms_ring_send_fds(c->fd, &wel, sizeof(wel), NULL, 0);

    rooms_log(ROOMS_LOG_WARN, "nginx worker refused: %s", why);
    w_conn_close(c, now, why);
}



/* The hello is complete: check it, give a slot, send the welcome. */
static void
w_hello(rooms_link_conn_t *c, uint64_t now)
{
    int                    fds[3];
    unsigned               slot;
    rooms_link_t          *w = c->link;
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
        if (w->slot_conn[slot] < 0) {
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
        rooms_log(ROOMS_LOG_ERR, "eventfd: %s", strerror(errno));
        goto failed;
    }

    /*
     * Whatever the slot's previous holder left in either ring is about
     * connections that are gone: empty both.  We are the only producer
     * of the outgoing ring, and its consumer is gone, so consuming it
     * here is safe.
     */
    if (rooms_ring_get(&c->in, w->seg, slot, ROOMS_RING_TO_WORKER) != 0
        || rooms_ring_get(&tmp, w->seg, slot, ROOMS_RING_FROM_WORKER) != 0)
    {
        goto failed;
    }

    rooms_ring_discard(&c->in);
    rooms_ring_discard(&tmp);

    if (rooms_ring_get(&c->out, w->seg, slot, ROOMS_RING_FROM_WORKER) != 0) {
        goto failed;
    }

    rooms_resync_init(&c->resync);

    memset(&wel, 0, sizeof(wel));
    wel.magic = ROOMS_PROTO_MAGIC;
    wel.version = ROOMS_PROTO_VERSION;
    wel.status = ROOMS_PROTO_WELCOME_OK;
    wel.slot = slot;
    wel.index = w->index;
    wel.workers = w->workers;

    fds[0] = w->memfd;
    fds[1] = c->bell_in;
    fds[2] = c->bell_out;

    if (rooms_ring_send_fds(c->fd, &wel, sizeof(wel), fds, 3)
        != (ssize_t) sizeof(wel))
    {
        rooms_log(ROOMS_LOG_WARN, "welcome to pid %u: %s", (unsigned) hello.pid,
              strerror(errno));
        goto failed;
    }

    c->ev_bell.handler = w_on_bell;
    c->ev_bell.data = c;

    if (rooms_loop_add(w->loop, c->bell_in, &c->ev_bell) != 0) {
        rooms_log(ROOMS_LOG_ERR, "epoll_ctl: %s", strerror(errno));
        goto failed;
    }

    c->active = 1;
    c->slot = slot;
    c->pid = hello.pid;
    c->dirty = 0;
    w->slot_conn[slot] = (int) (c - w->conns);

    rooms_log(ROOMS_LOG_INFO, "nginx worker connected: slot %u pid %u uid %u",
          slot, (unsigned) hello.pid, (unsigned) c->uid);

    /*
     * Its ring was emptied before the welcome, and nginx reads it from
     * the start: the room counts queued now reach it (COUNT records).
     */
    sfu_slot_add(w->sfu, slot, w->io);

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
w_conn_read(rooms_link_conn_t *c, uint64_t now)
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



/*
 * Whether the peer on fd may hold a ring slot: root, our own user, or the
 * nginx workers' user or group (rooms_link_access_t).  Its uid, gid and
 * pid go to *cred for the log.  A slot holder is trusted with JOIN records
 * (roles included), so nobody else may have one, whatever the socket
 * file's mode says.
 */
static int
w_peer_allowed(rooms_link_t *w, int fd, struct ucred *cred)
{
    gid_t      groups[W_PEER_GROUPS];
    size_t     i, n;
    socklen_t  len;

    len = sizeof(struct ucred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) != 0
        || len != sizeof(struct ucred))
    {
        memset(cred, 0xff, sizeof(struct ucred));
        return 0;
    }

    if (cred->uid == 0 || cred->uid == w->self
        || (w->access.uid != (uid_t) -1 && cred->uid == w->access.uid))
    {
        return 1;
    }

    if (w->access.gid == (gid_t) -1) {
        return 0;
    }

    if (cred->gid == w->access.gid) {
        return 1;
    }

#ifdef SO_PEERGROUPS
    len = sizeof(groups);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
        n = len / sizeof(gid_t);

        for (i = 0; i < n; i++) {
            if (groups[i] == w->access.gid) {
                return 1;
            }
        }
    }
#else
    (void) groups;
    (void) i;
    (void) n;
#endif

    return 0;
}


static void
w_refuse_peer(rooms_link_t *w, const struct ucred *cred, uint64_t now)
{
    char  more[64];

    if (w->refused_log_ms != 0 && now - w->refused_log_ms < W_REFUSE_LOG_MS) {
        w->refused++;
        return;
    }

    more[0] = '\0';

    if (w->refused != 0) {
        snprintf(more, sizeof(more), " (and %llu more since the last line)",
                 (unsigned long long) w->refused);
    }

    rooms_log(ROOMS_LOG_WARN, "control connection refused: pid %ld uid %ld "
              "gid %ld is not root, the media worker's user, or the nginx "
              "workers' user or group (--socket-user, --socket-group)%s",
              (long) cred->pid, (long) (int) cred->uid,
              (long) (int) cred->gid, more);

    w->refused = 0;
    w->refused_log_ms = now ? now : 1;
}


static void
w_accept(rooms_link_t *w, uint64_t now)
{
    int                 fd;
    unsigned            i;
    struct ucred        cred;
    rooms_link_conn_t  *c;

    for ( ;; ) {
        fd = accept4(w->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }

            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                rooms_log(ROOMS_LOG_WARN, "accept: %s", strerror(errno));
            }

            return;
        }

        if (!w_peer_allowed(w, fd, &cred)) {
            w_refuse_peer(w, &cred, now);
            close(fd);
            continue;
        }

        c = NULL;

        for (i = 0; i < W_CONNS; i++) {
            if (w->conns[i].fd < 0) {
                c = &w->conns[i];
                break;
            }
        }

        if (c == NULL) {
            rooms_log(ROOMS_LOG_WARN, "too many control connections: refused");
            close(fd);
            continue;
        }

        memset(c, 0, sizeof(rooms_link_conn_t));
        c->link = w;
        c->fd = fd;
        c->bell_in = -1;
        c->bell_out = -1;
        c->since_ms = now;
        c->uid = (uint32_t) cred.uid;
        c->ev_conn.handler = w_on_conn;
        c->ev_conn.data = c;

        if (rooms_loop_add(w->loop, fd, &c->ev_conn) != 0) {
            rooms_log(ROOMS_LOG_ERR, "epoll_ctl: %s", strerror(errno));
            close(fd);
            c->fd = -1;
        }
    }
}



/* one record from an nginx worker's ring, to the SFU */
static int
w_on_record(void *ctx, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload)
{
    rooms_link_conn_t  *c = ctx;

    sfu_record(c->link->sfu, c->now, hdr, payload, c->link->io);

    return 0;
}



static void
w_bell(rooms_link_conn_t *c, uint64_t now)
{
    int            n;
    unsigned       slot;
    rooms_link_t  *w = c->link;

    (void) rooms_ring_doorbell_drain(c->bell_in);

    c->now = now;

    for ( ;; ) {
        n = rooms_ring_read(&c->in, w_on_record, c, W_RING_BATCH);

        if (n == ROOMS_RING_CORRUPT) {
            slot = c->slot;
            rooms_log(ROOMS_LOG_ERR, "ring from nginx slot %u is corrupt: "
                  "dropping that worker", slot);
            w_conn_close(c, now, "corrupt ring");
            return;
        }

        if (n < W_RING_BATCH) {
            return;
        }

        /* a long backlog: send what it produced before reading on */
        w->io->flush(w->io->ctx, w->io);
        rooms_link_ring_bells(w);
    }
}



static int
w_control_open(const char *path, const rooms_link_access_t *access)
{
    int                 fd, rc;
    mode_t              mask, mode;
    struct stat         st;
    struct sockaddr_un  sun;

    if (strlen(path) >= sizeof(sun.sun_path)) {
        rooms_log(ROOMS_LOG_ERR, "--control path is too long");
        return -1;
    }

    /* a stale socket of a previous run; anything else is not ours */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            rooms_log(ROOMS_LOG_ERR, "%s exists and is not a socket", path);
            return -1;
        }

        if (unlink(path) != 0) {
            rooms_log(ROOMS_LOG_ERR, "unlink %s: %s", path, strerror(errno));
            return -1;
        }
    }

    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rooms_log(ROOMS_LOG_ERR, "socket: %s", strerror(errno));
        return -1;
    }

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path) + 1);

    /*
     * The file is made usable by our own user only, then given to the
     * nginx workers' user and group: at no moment can anyone else connect.
     */
    mask = umask(0177);
    rc = bind(fd, (struct sockaddr *) &sun, sizeof(sun));
    (void) umask(mask);

    if (rc != 0) {
        rooms_log(ROOMS_LOG_ERR, "bind %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }

    mode = access->gid != (gid_t) -1 ? 0660 : 0600;

    if ((access->uid != (uid_t) -1 || access->gid != (gid_t) -1)
        && chown(path, access->uid, access->gid) != 0)
    {
        rooms_log(ROOMS_LOG_ERR, "chown %s to uid %ld gid %ld: %s (a media "
                  "worker that is not root can give the socket only to a "
                  "group it is in: --socket-group)", path,
                  (long) (int) access->uid, (long) (int) access->gid,
                  strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }

    if (chmod(path, mode) != 0) {
        rooms_log(ROOMS_LOG_ERR, "chmod %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }

    if (listen(fd, 64) != 0) {
        rooms_log(ROOMS_LOG_ERR, "listen %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }

    return fd;
}



static void
w_on_conn(rooms_loop_ev_t *ev, uint64_t now)
{
    rooms_link_conn_t  *c = ev->data;

    if (c->fd >= 0) {
        w_conn_read(c, now);
    }
}


static void
w_on_bell(rooms_loop_ev_t *ev, uint64_t now)
{
    rooms_link_conn_t  *c = ev->data;

    if (c->fd >= 0 && c->active) {
        w_bell(c, now);
    }
}


static void
w_on_listen(rooms_loop_ev_t *ev, uint64_t now)
{
    w_accept(ev->data, now);
}


rooms_link_t *
rooms_link_open(rooms_loop_t *loop, const char *path,
    const rooms_link_access_t *access, size_t capacity, sfu_t *sfu,
    sfu_io_t *io)
{
    unsigned       i;
    rooms_link_t  *w;

    w = calloc(1, sizeof(rooms_link_t));
    if (w == NULL) {
        rooms_log(ROOMS_LOG_ERR, "out of memory");
        return NULL;
    }

    w->loop = loop;
    w->sfu = sfu;
    w->io = io;
    w->path = path;
    w->index = 0;
    w->workers = 1;
    w->access = *access;
    w->self = geteuid();
    w->listen = -1;
    w->memfd = -1;

    for (i = 0; i < W_CONNS; i++) {
        w->conns[i].link = w;
        w->conns[i].fd = -1;
        w->conns[i].bell_in = -1;
        w->conns[i].bell_out = -1;
    }

    for (i = 0; i < ROOMS_RING_MAX_PEERS; i++) {
        w->slot_conn[i] = -1;
    }

    w->seg_size = rooms_ring_segment_size(ROOMS_RING_MAX_PEERS, capacity);
    w->memfd = rooms_ring_memfd_create(w->seg_size, &w->seg);

    if (w->memfd < 0
        || rooms_ring_segment_init(w->seg, w->seg_size, ROOMS_RING_MAX_PEERS,
                                   capacity) != 0)
    {
        rooms_log(ROOMS_LOG_ERR, "cannot make the ring segment: %s",
                  strerror(errno));
        goto failed;
    }

    w->listen = w_control_open(path, access);
    if (w->listen < 0) {
        goto failed;
    }

    w->ev_listen.handler = w_on_listen;
    w->ev_listen.data = w;

    if (rooms_loop_add(loop, w->listen, &w->ev_listen) != 0) {
        rooms_log(ROOMS_LOG_ERR, "epoll: %s", strerror(errno));
        goto failed;
    }

    return w;

failed:

    rooms_link_close(w);
    return NULL;
}


void
rooms_link_expire(rooms_link_t *w, uint64_t now)
{
    unsigned            i;
    rooms_link_conn_t  *c;

    for (i = 0; i < W_CONNS; i++) {
        c = &w->conns[i];

        if (c->fd >= 0 && !c->active && now - c->since_ms >= W_HELLO_MS) {
            w_conn_close(c, now, "no hello");
        }
    }
}


void
rooms_link_set_shard(rooms_link_t *link, unsigned index, unsigned workers)
{
    link->index = index;
    link->workers = workers;
}


void
rooms_link_close(rooms_link_t *w)
{
    unsigned  i;

    if (w == NULL) {
        return;
    }

    for (i = 0; i < W_CONNS; i++) {
        rooms_resync_free(&w->conns[i].resync);

        if (w->conns[i].fd >= 0) {
            close(w->conns[i].fd);
        }
        if (w->conns[i].bell_in >= 0) {
            close(w->conns[i].bell_in);
        }
        if (w->conns[i].bell_out >= 0) {
            close(w->conns[i].bell_out);
        }
    }

    if (w->listen >= 0) {
        close(w->listen);
        unlink(w->path);
    }

    if (w->seg != NULL) {
        munmap(w->seg, w->seg_size);
    }

    if (w->memfd >= 0) {
        close(w->memfd);
    }

    free(w);
}
