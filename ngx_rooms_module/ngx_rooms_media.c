
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_media.c: this nginx worker's links to the media workers.
 *
 * Owns: one link per media worker of the host (rooms-worker --workers):
 * the first at rooms_media_socket, whose welcome says how many there
 * are, the others at "<socket>.<i>"; which one carries a room
 * (rooms_shard_pick(), common/rooms_shard.h), and connection ids that
 * name it, so that every record about a room or one of its WebSockets
 * goes to that one.  For each link: the control socket, the hello/welcome
 * handshake of common/rooms_proto.h, the shared ring segment and the two
 * eventfd doorbells it brings, connection ids, pushing records (a LEAVE
 * that finds the ring full is kept and retried), reading the media
 * worker's records and handing each to the handler registered for its
 * type at postconfiguration (ngx_rooms_media_on_record()), telling the
 * handlers registered with ngx_rooms_media_on_link_down() when the link
 * is lost, and reconnecting.  What a record means is its handler's
 * business: this file reads no payload, and knows no other file of the
 * module by name.
 * Must never block the event loop: connecting, the handshake and the
 * rings all run on nginx events, a full ring refuses at once, and the
 * media worker may be absent at any time, including when nginx starts.
 *
 * Each link is a small state machine, one per process and media worker:
 *
 *     off --(rooms_media_socket set)--> connecting --(hello sent)-->
 *     waiting for the welcome --(welcome, 3 fds, segment checked)--> up
 *
 * Any failure (connect refused, EOF, a short or bad welcome, another
 * protocol version, a corrupt ring) tears everything down: the segment
 * is unmapped, the link-down handlers run when the link was up, with
 * the media worker's index (the signaling closes the WebSockets of its
 * rooms with 1012, the records set its rooms' participant counts to 0;
 * the other links and their rooms go on), and a timer tries again after
 * 1 s, doubling up to 5 s.
 * Failures are logged once per kind, then again at most once a minute
 * while they last, so an absent media worker never floods the log.
 *
 * The control socket stays open while the link is up: EOF on it is how
 * the media worker's exit is seen.  Records arrive on the ring
 * FROM_WORKER of the slot the welcome assigned; its eventfd is registered
 * in nginx's event loop as a connection whose read handler drains the
 * doorbell first and then the ring, in bounded batches.  Records go out
 * on the ring TO_WORKER, each push followed by a ring of the media
 * worker's doorbell.  A LEAVE that finds the ring full is kept and
 * retried, so the media worker never keeps a participant whose WebSocket
 * is gone.
 *
 * May not: call json_, include jansson.h, call rooms_store_, call ngx_rooms_dir_, call ngx_rooms_control_, call ngx_rooms_signal_, call ngx_rooms_ws_, call ngx_rooms_api_, call ngx_rooms_router_, call ngx_rooms_page_
 */


#include "ngx_rooms_media.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_metrics.h"

#include <sys/socket.h>
#include <sys/un.h>

#include "rooms_ring.h"
#include "rooms_shard.h"


#define NGX_ROOMS_MEDIA_OFF         0
#define NGX_ROOMS_MEDIA_IDLE        1      /* waiting to retry */
#define NGX_ROOMS_MEDIA_CONNECTING  2      /* hello not sent yet */
#define NGX_ROOMS_MEDIA_WELCOME     3      /* waiting for the welcome */
#define NGX_ROOMS_MEDIA_UP          4

/* what failed, so that a repeated failure is logged only once a minute */
#define NGX_ROOMS_MEDIA_ABSENT      1
#define NGX_ROOMS_MEDIA_BROKEN      2
#define NGX_ROOMS_MEDIA_VERSION     3
#define NGX_ROOMS_MEDIA_LOST        4

#define NGX_ROOMS_MEDIA_RETRY_MIN   1000
#define NGX_ROOMS_MEDIA_RETRY_MAX   5000
#define NGX_ROOMS_MEDIA_HANDSHAKE   5000   /* the welcome's deadline */
#define NGX_ROOMS_MEDIA_LOG_EVERY   60     /* seconds between reminders */
#define NGX_ROOMS_MEDIA_LEAVE_RETRY 100
#define NGX_ROOMS_MEDIA_BATCH       256    /* records per event */

#define NGX_ROOMS_MEDIA_NFDS        3      /* memfd, to and from worker */

/* ".<index>" of the sockets beside rooms_media_socket: ".63" at most */
#define NGX_ROOMS_MEDIA_SUFFIX_LEN  3

/*
 * A connection id (rooms_proto.h) is the ring slot and a 48-bit counter;
 * the counter's top 8 bits name the media worker the connection's room
 * lives on, so that each record finds its link, and the rest count the
 * joins of one link: 2^40 joins in one process's life, it never wraps.
 */
#define NGX_ROOMS_MEDIA_COUNTER_MASK  0xffffffffffULL
#define NGX_ROOMS_MEDIA_WORKER_SHIFT  40
#define NGX_ROOMS_MEDIA_WORKER_BITS   0xffULL


typedef struct {
    ngx_uint_t                   state;
    ngx_uint_t                   index;          /* of the media workers */
    ngx_log_t                   *log;

    struct sockaddr_un           addr;
    socklen_t                    addrlen;
    int                          type;           /* SOCK_SEQPACKET first */

    ngx_connection_t            *ctl;            /* the control socket */
    ngx_connection_t            *bell;           /* from_worker eventfd */
    int                          to_worker;      /* eventfd, or -1 */

    void                        *seg;
    size_t                       seg_size;
    rooms_ring_t                 tx;             /* TO_WORKER */
    rooms_ring_t                 rx;             /* FROM_WORKER */
    unsigned                     slot;

    uint64_t                     counter;        /* last id handed out */
    uint64_t                     first;          /* first id of this link */

    ngx_event_t                  retry;
    ngx_msec_t                   backoff;

    /* LEAVE records that found the ring full */
    uint64_t                    *leaves;
    ngx_uint_t                   nleaves;
    ngx_uint_t                   leaves_max;
    ngx_event_t                  leave_retry;

    ngx_uint_t                   fail_kind;      /* last one logged */
    time_t                       fail_logged;
    ngx_uint_t                   fail_count;     /* since the last log */
    ngx_uint_t                   full_logged;
    ngx_uint_t                   links;          /* made, this process */

    /* the ring is read in a fiber: a record's handler may wait */
    ngx_int_t                    read_rc;        /* records, or CORRUPT */
    unsigned                     reading:1;      /* a read waits */
    unsigned                     read_again:1;   /* rung meanwhile */
} ngx_rooms_media_link_t;


static ngx_int_t ngx_rooms_media_start(ngx_uint_t index);
static void ngx_rooms_media_stop(ngx_rooms_media_link_t *ml,
    ngx_uint_t tell);
static ngx_int_t ngx_rooms_media_workers_set(ngx_rooms_media_link_t *ml,
    ngx_uint_t n);
static ngx_int_t ngx_rooms_media_push_link(ngx_rooms_media_link_t *ml,
    uint16_t type, uint64_t id, const void *payload, size_t len);
static void ngx_rooms_media_connect(ngx_rooms_media_link_t *ml);
static void ngx_rooms_media_ctl_write(ngx_event_t *wev);
static void ngx_rooms_media_ctl_read(ngx_event_t *rev);
static ngx_int_t ngx_rooms_media_send_hello(ngx_rooms_media_link_t *ml);
static ngx_int_t ngx_rooms_media_recv_welcome(ngx_rooms_media_link_t *ml);
static ngx_int_t ngx_rooms_media_attach(ngx_rooms_media_link_t *ml,
    int *fds, unsigned slot);
static void ngx_rooms_media_bell_handler(ngx_event_t *rev);
static void ngx_rooms_media_read(void *data);
static void ngx_rooms_media_read_done(void *data);
static int ngx_rooms_media_record(void *data, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload);
static void ngx_rooms_media_retry_handler(ngx_event_t *ev);
static void ngx_rooms_media_leave_handler(ngx_event_t *ev);
static void ngx_rooms_media_flush_leaves(ngx_rooms_media_link_t *ml);
static void ngx_rooms_media_fail(ngx_rooms_media_link_t *ml, ngx_uint_t kind,
    ngx_uint_t level, ngx_err_t err, const char *fmt, ...);
static void ngx_rooms_media_close(ngx_rooms_media_link_t *ml);
static void ngx_rooms_media_empty_handler(ngx_event_t *ev);


/*
 * One link per media worker of the host.  Link 0 goes to
 * rooms_media_socket; its welcome says how many media workers there are
 * (ngx_rooms_media_n), and links 1 .. n - 1 go to the sockets beside it.
 */
static ngx_rooms_media_link_t  ngx_rooms_media_links[ROOMS_SHARD_MAX];
static ngx_uint_t              ngx_rooms_media_n;        /* 0: not known */
static ngx_uint_t              ngx_rooms_media_nlinks;   /* started */
static ngx_uint_t              ngx_rooms_media_src;      /* being read */

static u_char                  ngx_rooms_media_path[sizeof(
                                   ((struct sockaddr_un *) 0)->sun_path)];
static ngx_log_t              *ngx_rooms_media_log;
static ngx_uint_t              ngx_rooms_media_conns;    /* connection_n */


/*
 * Called from init_process.  The path was checked at "nginx -t"; it is
 * copied into the process, which never refers to a cycle's memory
 * afterwards (a single-process reload frees the old cycle).
 */
ngx_int_t
ngx_rooms_media_init_process(ngx_cycle_t *cycle, ngx_str_t *path)
{
    ngx_memzero(ngx_rooms_media_links, sizeof(ngx_rooms_media_links));
    ngx_rooms_media_n = 0;
    ngx_rooms_media_nlinks = 0;
    ngx_rooms_media_src = 0;

    if (path == NULL || path->len == 0) {
        return NGX_OK;
    }

    if (path->len + NGX_ROOMS_MEDIA_SUFFIX_LEN
        >= sizeof(ngx_rooms_media_path))
    {
        /* refused at "nginx -t"; a guard for a changed check */
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "rooms_media_socket \"%V\" is too long", path);
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_rooms_media_path, path->data, path->len);
    ngx_rooms_media_path[path->len] = '\0';
    ngx_rooms_media_log = cycle->log;
    ngx_rooms_media_conns = cycle->connection_n;

    return ngx_rooms_media_start(0);
}


/*
 * Starts the link to media worker index: its socket is the configured
 * path for 0, "<path>.<index>" beside it for the others.
 */
static ngx_int_t
ngx_rooms_media_start(ngx_uint_t index)
{
    u_char                  *p;
    ngx_rooms_media_link_t  *ml = &ngx_rooms_media_links[index];

    if (ml->state != NGX_ROOMS_MEDIA_OFF) {
        return NGX_OK;
    }

    ngx_memzero(ml, sizeof(ngx_rooms_media_link_t));

    ml->index = index;
    ml->to_worker = -1;
    ml->log = ngx_rooms_media_log;
    ml->addr.sun_family = AF_UNIX;

    p = ngx_cpymem(ml->addr.sun_path, ngx_rooms_media_path,
                   ngx_strlen(ngx_rooms_media_path));

    if (index > 0) {
        p = ngx_sprintf(p, ".%ui", index);
    }

    *p = '\0';

    ml->addrlen = offsetof(struct sockaddr_un, sun_path)
                  + (p - (u_char *) ml->addr.sun_path) + 1;
    ml->type = SOCK_SEQPACKET;

    ml->retry.handler = ngx_rooms_media_retry_handler;
    ml->retry.log = ml->log;
    ml->retry.data = ml;
    ml->retry.cancelable = 1;

    ml->leave_retry.handler = ngx_rooms_media_leave_handler;
    ml->leave_retry.log = ml->log;
    ml->leave_retry.data = ml;
    ml->leave_retry.cancelable = 1;

    /* every connection leaves at most once: this bounds the retry list */
    ml->leaves_max = ngx_rooms_media_conns;
    ml->leaves = ngx_alloc(ml->leaves_max * sizeof(uint64_t), ml->log);
    if (ml->leaves == NULL) {
        return NGX_ERROR;
    }

    ml->backoff = NGX_ROOMS_MEDIA_RETRY_MIN;
    ml->state = NGX_ROOMS_MEDIA_IDLE;

    if (index >= ngx_rooms_media_nlinks) {
        ngx_rooms_media_nlinks = index + 1;
    }

    ngx_rooms_media_connect(ml);

    return NGX_OK;
}


/*
 * Ends one link for good: the process exits (tell 0), or the host runs
 * fewer media workers now (tell 1: a link still up then is lost like any
 * other, its rooms' WebSockets and counts go).
 */
static void
ngx_rooms_media_stop(ngx_rooms_media_link_t *ml, ngx_uint_t tell)
{
    ngx_uint_t              i;
    ngx_rooms_main_conf_t  *rmcf;

    if (ml->state == NGX_ROOMS_MEDIA_OFF) {
        return;
    }

    if (tell && ml->state == NGX_ROOMS_MEDIA_UP) {
        rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_rooms_module);

        for (i = 0; rmcf != NULL && i < rmcf->nlink_down; i++) {
            rmcf->link_down[i](ml->index, ngx_rooms_media_n);
        }
    }

    ngx_rooms_media_close(ml);

    if (ml->retry.timer_set) {
        ngx_del_timer(&ml->retry);
    }

    if (ml->leave_retry.timer_set) {
        ngx_del_timer(&ml->leave_retry);
    }

    ngx_free(ml->leaves);
    ml->leaves = NULL;
    ml->state = NGX_ROOMS_MEDIA_OFF;
}


void
ngx_rooms_media_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_rooms_media_nlinks; i++) {
        ngx_rooms_media_stop(&ngx_rooms_media_links[i], 0);
    }
}


/*
 * A welcome from ml said the host runs n media workers.  The first one
 * starts the links to the others; another n (rooms-worker restarted with
 * another --workers: every media worker was gone, so every link was
 * down) moves the rooms (rooms_shard_pick()) and starts or ends links to
 * match.  NGX_ERROR when n is out of range.
 */
static ngx_int_t
ngx_rooms_media_workers_set(ngx_rooms_media_link_t *ml, ngx_uint_t n)
{
    ngx_uint_t  i;

    if (n == 0 || n > ROOMS_SHARD_MAX || ml->index >= n) {
        return NGX_ERROR;
    }

    if (n == ngx_rooms_media_n) {
        return NGX_OK;
    }

    if (ngx_rooms_media_n != 0) {
        ngx_log_error(NGX_LOG_NOTICE, ml->log, 0,
                      "rooms: the host runs %ui media workers now (it ran "
                      "%ui): rooms go to the one rooms_shard_pick() names",
                      n, ngx_rooms_media_n);
    }

    for (i = n; i < ngx_rooms_media_nlinks; i++) {
        ngx_rooms_media_stop(&ngx_rooms_media_links[i], 1);
    }

    if (ngx_rooms_media_nlinks > n) {
        ngx_rooms_media_nlinks = n;
    }

    ngx_rooms_media_n = n;

    for (i = 1; i < n; i++) {
        if (ngx_rooms_media_start(i) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


uint64_t
ngx_rooms_media_conn_id(int64_t room)
{
    ngx_uint_t               index;
    ngx_rooms_media_link_t  *ml;

    if (ngx_rooms_media_n == 0) {
        return 0;
    }

    index = rooms_shard_pick(room, (unsigned) ngx_rooms_media_n);
    ml = &ngx_rooms_media_links[index];

    if (ml->state != NGX_ROOMS_MEDIA_UP) {
        return 0;
    }

    ml->counter = (ml->counter + 1) & NGX_ROOMS_MEDIA_COUNTER_MASK;

    return ROOMS_PROTO_CONN(ml->slot,
                            ((uint64_t) index << NGX_ROOMS_MEDIA_WORKER_SHIFT)
                            | ml->counter);
}


ngx_uint_t
ngx_rooms_media_worker_of(uint64_t id)
{
    return (ngx_uint_t) ((id >> NGX_ROOMS_MEDIA_WORKER_SHIFT)
                         & NGX_ROOMS_MEDIA_WORKER_BITS);
}


ngx_uint_t
ngx_rooms_media_workers(void)
{
    return ngx_rooms_media_n;
}


ngx_uint_t
ngx_rooms_media_source(void)
{
    return ngx_rooms_media_src;
}


ngx_int_t
ngx_rooms_media_push(uint16_t type, uint64_t id, const void *payload,
    size_t len)
{
    ngx_uint_t  index;

    index = ngx_rooms_media_worker_of(id);

    if (id == 0 || index >= ngx_rooms_media_nlinks) {
        return NGX_DECLINED;
    }

    return ngx_rooms_media_push_link(&ngx_rooms_media_links[index], type, id,
                                     payload, len);
}


ngx_int_t
ngx_rooms_media_push_room(int64_t room, uint16_t type, const void *payload,
    size_t len)
{
    if (ngx_rooms_media_n == 0) {
        return NGX_DECLINED;
    }

    return ngx_rooms_media_push_link(
               &ngx_rooms_media_links[rooms_shard_pick(room,
                                          (unsigned) ngx_rooms_media_n)],
               type, 0, payload, len);
}


static ngx_int_t
ngx_rooms_media_push_link(ngx_rooms_media_link_t *ml, uint16_t type,
    uint64_t id, const void *payload, size_t len)
{
    int       rc;
    uint64_t  n;

    n = id & NGX_ROOMS_MEDIA_COUNTER_MASK;

    /*
     * An id from before the last reconnect means nothing to the worker;
     * id 0 names no connection (a ROOM record).
     */
    if (ml->state != NGX_ROOMS_MEDIA_UP
        || (id != 0
            && (ROOMS_PROTO_SLOT(id) != ml->slot
                || n < ml->first || n > ml->counter)))
    {
        return NGX_DECLINED;
    }

    rc = rooms_ring_push(&ml->tx, type, 0, id, payload, len);

    switch (rc) {

    case ROOMS_RING_OK:
        break;

    case ROOMS_RING_FULL:
        ngx_rooms_metrics_add(NGX_ROOMS_M_RING_FULL, 1);

        if (!ml->full_logged) {
            ngx_log_error(NGX_LOG_WARN, ml->log, 0,
                          "rooms: the ring to media worker %ui is full, "
                          "it is overloaded or stalled; refusing "
                          "signaling messages until it catches up",
                          ml->index);
            ml->full_logged = 1;
        }

        return NGX_BUSY;

    default:
        ngx_rooms_metrics_add(NGX_ROOMS_M_RING_ERROR, 1);
        ngx_log_error(NGX_LOG_ERR, ml->log, 0,
                      "rooms: a %uz-byte record cannot be queued for the "
                      "media worker: %s", len, rooms_ring_strerror(rc));
        return NGX_ERROR;
    }

    ml->full_logged = 0;

    if (rooms_ring_doorbell_ring(ml->to_worker) == -1) {
        /* the record is queued; the worker sees it on its next wakeup */
        ngx_log_error(NGX_LOG_ALERT, ml->log, ngx_errno,
                      "rooms: ringing the media worker's doorbell failed");
    }

    return NGX_OK;
}


/*
 * A LEAVE must not be lost: the media worker would keep the participant
 * (and show it to the others) until its media times out.  One that finds
 * the ring full is kept and retried.
 */
void
ngx_rooms_media_leave(uint64_t id)
{
    ngx_rooms_media_link_t  *ml;

    if (ngx_rooms_media_push(ROOMS_PROTO_LEAVE, id, NULL, 0) != NGX_BUSY) {
        return;
    }

    ml = &ngx_rooms_media_links[ngx_rooms_media_worker_of(id)];

    if (ml->nleaves == ml->leaves_max) {
        ngx_log_error(NGX_LOG_ERR, ml->log, 0,
                      "rooms: a LEAVE for the media worker was lost");
        return;
    }

    ml->leaves[ml->nleaves++] = id;

    if (!ml->leave_retry.timer_set) {
        ngx_add_timer(&ml->leave_retry, NGX_ROOMS_MEDIA_LEAVE_RETRY);
    }
}


static void
ngx_rooms_media_connect(ngx_rooms_media_link_t *ml)
{
    int                      s;
    ngx_err_t                err;
    ngx_connection_t        *c;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

again:

    s = socket(AF_UNIX, ml->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s == -1) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ALERT,
                             ngx_socket_errno, "socket() failed");
        return;
    }

    if (connect(s, (struct sockaddr *) &ml->addr, ml->addrlen) == -1) {
        err = ngx_socket_errno;

        if (err != NGX_EINPROGRESS) {
            close(s);

            /* a media worker that listens on a stream socket */
            if (err == EPROTOTYPE && ml->type == SOCK_SEQPACKET) {
                ml->type = SOCK_STREAM;
                goto again;
            }

            if (err == NGX_ENOENT || err == NGX_ECONNREFUSED) {
                ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_ABSENT, NGX_LOG_NOTICE,
                                     err, "the media worker is not "
                                     "running: connect() failed");
                return;
            }

            /* EAGAIN: its backlog is full, try later like any failure */
            ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, err,
                                 "connect() failed");
            return;
        }
    }

    c = ngx_get_connection(s, ml->log);
    if (c == NULL) {
        close(s);
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                             "no free connection for the control socket");
        return;
    }

    c->data = ml;
    c->read->log = ml->log;
    c->write->log = ml->log;
    c->read->handler = ngx_rooms_media_ctl_read;
    c->write->handler = ngx_rooms_media_ctl_write;

    /* the handshake deadline must not hold up a graceful shutdown */
    c->read->cancelable = 1;
    c->write->cancelable = 1;

    ml->ctl = c;
    ml->state = NGX_ROOMS_MEDIA_CONNECTING;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                             "the control socket cannot be watched");
        return;
    }

    ngx_add_timer(c->read, NGX_ROOMS_MEDIA_HANDSHAKE);

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ml->log, 0,
                   "rooms media: connecting to %s", ml->addr.sun_path);

    /* a unix socket is usually connected at once */
    ngx_rooms_media_ctl_write(c->write);
}


static void
ngx_rooms_media_ctl_write(ngx_event_t *wev)
{
    ngx_connection_t        *c = wev->data;
    ngx_rooms_media_link_t  *ml = c->data;

    if (ml->state != NGX_ROOMS_MEDIA_CONNECTING) {
        return;
    }

    if (ngx_rooms_media_send_hello(ml) != NGX_OK) {
        return;
    }

    ml->state = NGX_ROOMS_MEDIA_WELCOME;

    /* the welcome may be in already */
    ngx_rooms_media_ctl_read(ml->ctl->read);
}


static void
ngx_rooms_media_ctl_read(ngx_event_t *rev)
{
    u_char                   buf[64];
    ssize_t                  n;
    ngx_err_t                err;
    ngx_uint_t               i;
    ngx_connection_t        *c = rev->data;
    ngx_rooms_media_link_t  *ml = c->data;

    if (rev->timedout) {
        rev->timedout = 0;
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                             "the media worker sent no welcome within "
                             "%d ms", NGX_ROOMS_MEDIA_HANDSHAKE);
        return;
    }

    switch (ml->state) {

    case NGX_ROOMS_MEDIA_WELCOME:
        (void) ngx_rooms_media_recv_welcome(ml);
        return;

    case NGX_ROOMS_MEDIA_UP:
        break;

    default:
        return;
    }

    /* nothing follows the welcome: only its EOF is expected */

    for (i = 0; /* void */; i++) {

        if (i == NGX_ROOMS_MEDIA_BATCH) {
            /* a chatty peer must not hold the event loop */
            ngx_post_event(rev, &ngx_posted_events);
            return;
        }

        n = recv(ml->ctl->fd, buf, sizeof(buf), 0);

        if (n > 0) {
            ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ml->log, 0,
                           "rooms media: %z unexpected bytes ignored", n);
            continue;
        }

        if (n == 0) {
            ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_LOST, NGX_LOG_ERR, 0,
                                 "lost the media worker (it closed the "
                                 "control socket)");
            return;
        }

        err = ngx_socket_errno;

        if (err == NGX_EAGAIN) {
            break;
        }

        if (err == NGX_EINTR) {
            continue;
        }

        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_LOST, NGX_LOG_ERR, err,
                             "lost the media worker: recv() failed");
        return;
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_LOST, NGX_LOG_ERR, 0,
                             "the control socket cannot be watched");
    }
}


static ngx_int_t
ngx_rooms_media_send_hello(ngx_rooms_media_link_t *ml)
{
    ssize_t                  n;
    ngx_err_t                err;
    rooms_proto_hello_t      hello;

    ngx_memzero(&hello, sizeof(rooms_proto_hello_t));

    hello.magic = ROOMS_PROTO_MAGIC;
    hello.version = ROOMS_PROTO_VERSION;
    hello.pid = (uint32_t) ngx_pid;

    do {
        n = send(ml->ctl->fd, &hello, sizeof(rooms_proto_hello_t),
                 MSG_NOSIGNAL);
        err = ngx_socket_errno;
    } while (n == -1 && err == NGX_EINTR);

    if (n == (ssize_t) sizeof(rooms_proto_hello_t)) {

        /* a level-triggered event method would report it forever */
        if (ml->ctl->write->active
            && (ngx_event_flags & NGX_USE_LEVEL_EVENT))
        {
            (void) ngx_del_event(ml->ctl->write, NGX_WRITE_EVENT, 0);
        }

        return NGX_OK;
    }

    if (n == -1 && (err == NGX_EAGAIN || err == NGX_ENOTCONN)) {
        /* still connecting: the write event comes back */
        ml->ctl->write->ready = 0;

        if (ngx_handle_write_event(ml->ctl->write, 0) != NGX_OK) {
            ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                                 "the control socket cannot be watched");
            return NGX_ERROR;
        }

        return NGX_AGAIN;
    }

    if (n == -1 && (err == NGX_ECONNREFUSED || err == NGX_ENOENT)) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_ABSENT, NGX_LOG_NOTICE, err,
                             "the media worker is not running");
        return NGX_ERROR;
    }

    ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR,
                         n == -1 ? err : 0,
                         "sending the hello to the media worker failed");
    return NGX_ERROR;
}


static ngx_int_t
ngx_rooms_media_recv_welcome(ngx_rooms_media_link_t *ml)
{
    int                      fds[NGX_ROOMS_MEDIA_NFDS], nfds, i;
    ssize_t                  n;
    ngx_err_t                err;
    rooms_proto_welcome_t    w;

    nfds = NGX_ROOMS_MEDIA_NFDS;

    n = rooms_ring_recv_fds(ml->ctl->fd, &w, sizeof(rooms_proto_welcome_t),
                            fds, &nfds);

    if (n == -1) {
        err = ngx_socket_errno;

        if (err == NGX_EAGAIN) {
            if (ngx_handle_read_event(ml->ctl->read, 0) != NGX_OK) {
                ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                                     "the control socket cannot be "
                                     "watched");
                return NGX_ERROR;
            }

            return NGX_AGAIN;
        }

        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, err,
                             "receiving the welcome failed");
        return NGX_ERROR;
    }

    if (n == 0) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                             "the media worker closed the control socket "
                             "before its welcome");
        return NGX_ERROR;
    }

    /* a refusal of another version may be of that version's size */
    if (n < (ssize_t) offsetof(rooms_proto_welcome_t, index)
        || w.magic != ROOMS_PROTO_MAGIC
        || (w.status == ROOMS_PROTO_WELCOME_OK
            && n != (ssize_t) sizeof(rooms_proto_welcome_t)))
    {
        for (i = 0; i < nfds; i++) {
            close(fds[i]);
        }

        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                             "the media worker's welcome is malformed "
                             "(%z bytes); is \"%s\" its socket?",
                             n, ml->addr.sun_path);
        return NGX_ERROR;
    }

    if (w.status != ROOMS_PROTO_WELCOME_OK || nfds != NGX_ROOMS_MEDIA_NFDS)
    {
        for (i = 0; i < nfds; i++) {
            close(fds[i]);
        }

        switch (w.status) {

        case ROOMS_PROTO_WELCOME_VERSION:
            ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_VERSION, NGX_LOG_ERR, 0,
                                 "the media worker speaks protocol "
                                 "version %uD and this module version %d: "
                                 "install the module and the media worker "
                                 "from the same build",
                                 w.version, ROOMS_PROTO_VERSION);
            break;

        case ROOMS_PROTO_WELCOME_FULL:
            ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                                 "the media worker has no ring slot left "
                                 "for this nginx worker (more nginx "
                                 "workers than it serves?)");
            break;

        default:
            ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                                 "the media worker refused the hello "
                                 "(status %uD, %d descriptors)",
                                 w.status, nfds);
            break;
        }

        return NGX_ERROR;
    }

    if (w.index != ml->index
        || ngx_rooms_media_workers_set(ml, w.workers) != NGX_OK)
    {
        for (i = 0; i < nfds; i++) {
            close(fds[i]);
        }

        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                             "the media worker at this socket says it is "
                             "number %uD of %uD, and number %ui was "
                             "expected here", w.index, w.workers,
                             ml->index);
        return NGX_ERROR;
    }

    return ngx_rooms_media_attach(ml, fds, w.slot);
}


/*
 * fds: the memfd, the to_worker eventfd and the from_worker eventfd of
 * the welcome that assigned slot.  Each is owned by the link from here
 * on, so a failure anywhere below leaves nothing open.
 */
static ngx_int_t
ngx_rooms_media_attach(ngx_rooms_media_link_t *ml, int *fds,
    unsigned slot)
{
    int                      rc;
    void                    *seg;
    size_t                   size;
    ngx_err_t                err;
    ngx_connection_t        *c;

    seg = rooms_ring_memfd_map(fds[0], &size);
    err = ngx_errno;
    close(fds[0]);

    ml->to_worker = fds[1];

    c = ngx_get_connection(fds[2], ml->log);
    if (c == NULL) {
        close(fds[2]);

        if (seg) {
            munmap(seg, size);
        }

        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                             "no free connection for the doorbell");
        return NGX_ERROR;
    }

    c->data = ml;
    c->read->log = ml->log;
    c->write->log = ml->log;
    c->read->handler = ngx_rooms_media_bell_handler;
    c->write->handler = ngx_rooms_media_empty_handler;
    ml->bell = c;

    if (seg == NULL) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, err,
                             "the ring segment cannot be mapped");
        return NGX_ERROR;
    }

    ml->seg = seg;
    ml->seg_size = size;

    rc = rooms_ring_segment_check(seg, size);

    if (rc == ROOMS_RING_EVERSION) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_VERSION, NGX_LOG_ERR, 0,
                             "the media worker's ring segment is of "
                             "protocol version %uD and this module's is "
                             "%d: install the module and the media worker "
                             "from the same build",
                             ((rooms_ring_seg_hdr_t *) seg)->version,
                             ROOMS_PROTO_VERSION);
        return NGX_ERROR;
    }

    if (rc == ROOMS_RING_OK) {
        rc = rooms_ring_get(&ml->tx, seg, slot, ROOMS_RING_TO_WORKER);
    }

    if (rc == ROOMS_RING_OK) {
        rc = rooms_ring_get(&ml->rx, seg, slot, ROOMS_RING_FROM_WORKER);
    }

    if (rc != ROOMS_RING_OK) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                             "the media worker's ring segment is unusable "
                             "(slot %ud): %s", slot, rooms_ring_strerror(rc));
        return NGX_ERROR;
    }

    /*
     * What a previous holder of the slot left was about gone connections,
     * and the media worker emptied the ring before its welcome.  What is
     * in it now was sent for this link, starting with the counts of the
     * rooms people are in (COUNT records), so it is read, not discarded.
     */

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_BROKEN, NGX_LOG_ERR, 0,
                             "the doorbell cannot be watched");
        return NGX_ERROR;
    }

    if (ml->ctl->read->timer_set) {
        ngx_del_timer(ml->ctl->read);
    }

    ml->state = NGX_ROOMS_MEDIA_UP;

    if (ml->links++ > 0) {
        ngx_rooms_metrics_add(NGX_ROOMS_M_LINK_RECONNECTS, 1);
    }
    ml->slot = slot;
    ml->first = ml->counter + 1;
    ml->backoff = NGX_ROOMS_MEDIA_RETRY_MIN;

    ngx_log_error(NGX_LOG_NOTICE, ml->log, 0,
                  "rooms: connected to the media worker at \"%s\" "
                  "(ring slot %ud, %uz-byte segment; media worker %ui of "
                  "%ui)", ml->addr.sun_path, slot, size, ml->index,
                  ngx_rooms_media_n);

    ml->fail_kind = 0;
    ml->fail_count = 0;

    /*
     * Records may be waiting already, and an EOF that came with the
     * welcome would not be reported again by an edge-triggered epoll.
     */
    ngx_post_event(c->read, &ngx_posted_events);
    ngx_post_event(ml->ctl->read, &ngx_posted_events);

    return NGX_OK;
}


static void
ngx_rooms_media_bell_handler(ngx_event_t *rev)
{
    ngx_connection_t        *c = rev->data;
    ngx_rooms_media_link_t  *ml = c->data;

    if (ml->state != NGX_ROOMS_MEDIA_UP) {
        return;
    }

    /* the doorbell first, then the ring: a push in between is not lost */

    if (rooms_ring_doorbell_drain(ml->bell->fd) == -1) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_LOST, NGX_LOG_ALERT, ngx_errno,
                             "reading the doorbell failed");
        return;
    }

    if (ml->reading) {
        /* a record's handler waits for the store: read on after it */
        ml->read_again = 1;
        return;
    }

    ml->reading = 1;

    if (ngx_rooms_fiber_go(NULL, ngx_rooms_media_read, ml,
                           ngx_rooms_media_read_done)
        == NGX_OK)
    {
        ngx_rooms_media_read_done(ml);
    }
}


/*
 * The records of the ring, in order, in a fiber: a handler that writes
 * the store (a ban, a count's "used", a co-host's key) may wait, and the
 * records after it wait with it, so that their order holds (a BAN before
 * its CLOSE).  Each record is handled in the ring and consumed after its
 * handler; the handlers copy what they keep before any wait.  A link
 * that went down or was made again meanwhile is not read on: its ring
 * may be gone.
 */
static void
ngx_rooms_media_read(void *data)
{
    ngx_rooms_media_link_t  *ml = data;

    int                   rc;
    ngx_int_t             n;
    ngx_uint_t            links;
    rooms_proto_hdr_t     hdr;
    const unsigned char  *payload;

    links = ml->links;

    for (n = 0; n < NGX_ROOMS_MEDIA_BATCH; n++) {
        rc = rooms_ring_peek(&ml->rx, &hdr, &payload);

        if (rc == ROOMS_RING_EMPTY) {
            break;
        }

        if (rc != ROOMS_RING_OK) {
            ml->read_rc = ROOMS_RING_CORRUPT;
            return;
        }

        (void) ngx_rooms_media_record(ml, &hdr, payload);

        if (ml->state != NGX_ROOMS_MEDIA_UP || ml->links != links) {
            ml->read_rc = 0;
            return;
        }

        (void) rooms_ring_pop(&ml->rx);
    }

    ml->read_rc = n;
}


static void
ngx_rooms_media_read_done(void *data)
{
    ngx_rooms_media_link_t  *ml = data;

    ngx_int_t     n;
    ngx_event_t  *rev;

    ml->reading = 0;
    n = ml->read_rc;

    if (ml->state != NGX_ROOMS_MEDIA_UP) {
        return;
    }

    rev = ml->bell->read;

    if (n == ROOMS_RING_CORRUPT) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_LOST, NGX_LOG_ALERT, 0,
                             "the ring from the media worker is corrupt");
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ml->log, 0,
                   "rooms media: %d records", n);

    if (n == NGX_ROOMS_MEDIA_BATCH || ml->read_again) {
        /* let other connections run, then go on */
        ml->read_again = 0;
        ngx_post_event(rev, &ngx_posted_events);
    }

    /* the worker made progress: it may have room for what waited */
    if (ml->nleaves) {
        ngx_rooms_media_flush_leaves(ml);
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_rooms_media_fail(ml, NGX_ROOMS_MEDIA_LOST, NGX_LOG_ERR, 0,
                             "the doorbell cannot be watched");
    }
}


static int
ngx_rooms_media_record(void *data, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload)
{
    ngx_rooms_main_conf_t   *rmcf;
    ngx_rooms_media_link_t  *ml = data;

    if (ROOMS_PROTO_SLOT(hdr->id) != ml->slot) {
        ngx_log_debug2(NGX_LOG_DEBUG_EVENT, ml->log, 0,
                       "rooms media: record type %ui for another slot's "
                       "id %uL dropped", (ngx_uint_t) hdr->type, hdr->id);
        return 0;
    }

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    if (rmcf == NULL
        || hdr->type >= NGX_ROOMS_RECORD_TYPES
        || rmcf->records[hdr->type] == NULL)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ml->log, 0,
                       "rooms media: record type %ui ignored",
                       (ngx_uint_t) hdr->type);
        return 0;
    }

    /* which media worker sent it, for the handlers that ask */
    ngx_rooms_media_src = ml->index;

    rmcf->records[hdr->type](hdr, payload);

    return 0;
}


ngx_int_t
ngx_rooms_media_on_record(ngx_conf_t *cf, ngx_uint_t type,
    ngx_rooms_record_pt handler)
{
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_rooms_module);

    if (type >= NGX_ROOMS_RECORD_TYPES || rmcf->records[type] != NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "rooms: a second handler for record type %ui", type);
        return NGX_ERROR;
    }

    rmcf->records[type] = handler;

    return NGX_OK;
}


ngx_int_t
ngx_rooms_media_on_link_down(ngx_conf_t *cf, ngx_rooms_link_down_pt handler)
{
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_rooms_module);

    if (rmcf->nlink_down == NGX_ROOMS_LINK_DOWN_MAX) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "rooms: too many link-down handlers");
        return NGX_ERROR;
    }

    rmcf->link_down[rmcf->nlink_down++] = handler;

    return NGX_OK;
}


static void
ngx_rooms_media_retry_handler(ngx_event_t *ev)
{
    ngx_rooms_media_link_t  *ml = ev->data;

    if (ml->state == NGX_ROOMS_MEDIA_IDLE) {
        ngx_rooms_media_connect(ml);
    }
}


static void
ngx_rooms_media_leave_handler(ngx_event_t *ev)
{
    ngx_rooms_media_flush_leaves(ev->data);
}


static void
ngx_rooms_media_flush_leaves(ngx_rooms_media_link_t *ml)
{
    ngx_int_t                rc;
    ngx_uint_t               i;

    for (i = 0; i < ml->nleaves; i++) {
        rc = ngx_rooms_media_push(ROOMS_PROTO_LEAVE, ml->leaves[i], NULL, 0);
        if (rc == NGX_BUSY) {
            break;
        }
    }

    ngx_memmove(ml->leaves, ml->leaves + i,
                (ml->nleaves - i) * sizeof(uint64_t));
    ml->nleaves -= i;

    if (ml->nleaves && !ml->leave_retry.timer_set) {
        ngx_add_timer(&ml->leave_retry, NGX_ROOMS_MEDIA_LEAVE_RETRY);
    }
}


/*
 * Tears the link down and schedules the next attempt.  A kind of failure
 * is logged when it first happens and then at most once a minute while it
 * repeats; a link that was up closes its WebSockets with 1012.
 */
static void
ngx_rooms_media_fail(ngx_rooms_media_link_t *ml, ngx_uint_t kind,
    ngx_uint_t level, ngx_err_t err,
    const char *fmt, ...)
{
    u_char                   msg[NGX_MAX_ERROR_STR];
    u_char                  *p;
    va_list                  args;
    ngx_uint_t               i, was_up;
    ngx_rooms_main_conf_t   *rmcf;

    was_up = (ml->state == NGX_ROOMS_MEDIA_UP);

    ngx_rooms_media_close(ml);

    ml->state = NGX_ROOMS_MEDIA_IDLE;

    if (was_up) {
        ml->backoff = NGX_ROOMS_MEDIA_RETRY_MIN;

        /* nobody is in a room without the media worker */
        rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                                   ngx_rooms_module);

        for (i = 0; rmcf != NULL && i < rmcf->nlink_down; i++) {
            rmcf->link_down[i](ml->index, ngx_rooms_media_n);
        }
    }

    if (kind != ml->fail_kind
        || ngx_time() - ml->fail_logged >= NGX_ROOMS_MEDIA_LOG_EVERY)
    {
        va_start(args, fmt);
        p = ngx_vslprintf(msg, msg + sizeof(msg), fmt, args);
        va_end(args);

        if (ml->fail_count) {
            ngx_log_error(level, ml->log, err,
                          "rooms: %*s (\"%s\", %ui more failures since the "
                          "last report; retrying every %M ms at most)",
                          p - msg, msg, ml->addr.sun_path, ml->fail_count,
                          (ngx_msec_t) NGX_ROOMS_MEDIA_RETRY_MAX);

        } else {
            ngx_log_error(level, ml->log, err,
                          "rooms: %*s (\"%s\"; joins are refused until it "
                          "is back, retrying in %M ms)",
                          p - msg, msg, ml->addr.sun_path, ml->backoff);
        }

        ml->fail_kind = kind;
        ml->fail_logged = ngx_time();
        ml->fail_count = 0;

    } else {
        ml->fail_count++;
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_add_timer(&ml->retry, ml->backoff);

    ml->backoff = ngx_min(ml->backoff * 2, NGX_ROOMS_MEDIA_RETRY_MAX);
}


/* Closes the sockets and unmaps the segment, whatever state they are in. */
static void
ngx_rooms_media_close(ngx_rooms_media_link_t *ml)
{

    if (ml->ctl) {
        ngx_close_connection(ml->ctl);
        ml->ctl = NULL;
    }

    if (ml->bell) {
        /*
         * The media worker holds the same eventfd: closing ours would not
         * take it out of epoll, so it is deleted from the set explicitly.
         */
        if (ml->bell->read->active) {
            (void) ngx_del_event(ml->bell->read, NGX_READ_EVENT, 0);
        }

        ngx_close_connection(ml->bell);
        ml->bell = NULL;
    }

    if (ml->to_worker != -1) {
        close(ml->to_worker);
        ml->to_worker = -1;
    }

    if (ml->seg) {
        munmap(ml->seg, ml->seg_size);
        ml->seg = NULL;
        ml->seg_size = 0;
    }

    ngx_memzero(&ml->tx, sizeof(rooms_ring_t));
    ngx_memzero(&ml->rx, sizeof(rooms_ring_t));

    /* the media worker drops every connection of the slot at EOF */
    ml->nleaves = 0;

    if (ml->leave_retry.timer_set) {
        ngx_del_timer(&ml->leave_retry);
    }

    ml->full_logged = 0;
}


static void
ngx_rooms_media_empty_handler(ngx_event_t *ev)
{
    return;
}
