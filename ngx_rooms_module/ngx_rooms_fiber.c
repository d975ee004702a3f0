
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_fiber.c: the module's handlers in fibers, on nginx's events.
 *
 * Owns: starting a handler in a fiber (a content handler, a body's post
 * handler, anything else with or without a request); what a fiber waits
 * for on nginx's events (a socket of the store ready, a deadline, a
 * wake-up); holding a request while its fiber waits (count and blocked,
 * as nginx's own thread tasks hold one) and finalizing it once the fiber
 * ends; the fiber's slot for the store handle it holds.  Why fibers: the
 * store is called from some 60 places as plain calls (a change checks,
 * writes and commits in one path); a fiber keeps each path as it is
 * written while its waits go to nginx's epoll, as lua-nginx-module's
 * coroutines do for its sockets.  docs/scaling.md has the measure
 * against a thread pool.
 * Must never suspend a fiber while this process holds a shared zone's
 * mutex (every other handler needing it would spin), never resume a
 * fiber from inside another, never free a request a fiber still uses.
 *
 * May not: include jansson.h, call json_, include rooms_ring.h, include rooms_ws.h, call rooms_store_, call ngx_rooms_dir_, call ngx_rooms_control_, call ngx_rooms_signal_, call ngx_rooms_ws_, call ngx_rooms_api_, call ngx_rooms_media_
 */


#include "ngx_rooms_fiber.h"
#include "ngx_rooms_shm.h"

#include <poll.h>

#include "rooms_fiber.h"


#define NGX_ROOMS_FIBER_HANDLER  0
#define NGX_ROOMS_FIBER_POST     1
#define NGX_ROOMS_FIBER_GO       2

/* a timer fired while its last run still waits: tried again this soon */
#define NGX_ROOMS_FIBER_TIMER_AGAIN  100


typedef struct {
    rooms_fiber_t               *fiber;
    ngx_uint_t                   kind;
    ngx_http_request_t          *request;
    ngx_http_handler_pt          handler;
    ngx_rooms_fiber_pt           fn;
    ngx_rooms_fiber_pt           done;
    void                        *data;
    ngx_int_t                    rc;             /* handler's */
    void                        *slot;           /* the store handle held */
    ngx_event_t                  timer;          /* a wait's deadline */
    ngx_event_t                  wake;           /* posted: resume */
    int                          ready;          /* 1 ready, 0 time */
    unsigned                     held:1;         /* request held */
} ngx_rooms_fiber_ctx_t;


/* a timer's run, in a fiber */
typedef struct {
    ngx_event_t                 *ev;
    ngx_event_handler_pt         handler;
    ngx_uint_t                  *busy;
} ngx_rooms_fiber_tick_t;


static ngx_rooms_fiber_pt  ngx_rooms_fiber_give_back;


static ngx_int_t ngx_rooms_fiber_new(ngx_rooms_fiber_ctx_t *ctx);
static ngx_int_t ngx_rooms_fiber_start(ngx_rooms_fiber_ctx_t *ctx);
static void ngx_rooms_fiber_main(void *data);
static void ngx_rooms_fiber_continue(ngx_rooms_fiber_ctx_t *ctx);
static void ngx_rooms_fiber_ended(ngx_rooms_fiber_ctx_t *ctx);
static void ngx_rooms_fiber_io(ngx_event_t *ev);
static void ngx_rooms_fiber_timeout(ngx_event_t *ev);
static void ngx_rooms_fiber_woken(ngx_event_t *ev);
static int ngx_rooms_fiber_block(int fd, int in, int ms);
static void ngx_rooms_fiber_tick(void *data);
static void ngx_rooms_fiber_ticked(void *data);


ngx_int_t
ngx_rooms_fiber_handler(ngx_http_request_t *r, ngx_http_handler_pt h)
{
    ngx_int_t               rc;
    ngx_rooms_fiber_ctx_t  *ctx;

    if (rooms_fiber_current() != NULL) {
        return h(r);
    }

    ctx = ngx_calloc(sizeof(ngx_rooms_fiber_ctx_t), r->connection->log);
    if (ctx == NULL) {
        return h(r);
    }

    ctx->kind = NGX_ROOMS_FIBER_HANDLER;
    ctx->request = r;
    ctx->handler = h;

    rc = ngx_rooms_fiber_start(ctx);

    if (rc == NGX_AGAIN) {
        /* the content phase's finalize(NGX_DONE) drops this count */
        r->main->count++;
        return NGX_DONE;
    }

    rc = ctx->rc;
    ngx_free(ctx);

    return rc;
}


void
ngx_rooms_fiber_post(ngx_http_request_t *r, ngx_http_handler_pt h)
{
    ngx_rooms_fiber_ctx_t  *ctx;

    if (rooms_fiber_current() != NULL) {
        ngx_http_finalize_request(r, h(r));
        return;
    }

    ctx = ngx_calloc(sizeof(ngx_rooms_fiber_ctx_t), r->connection->log);
    if (ctx == NULL) {
        ngx_http_finalize_request(r, h(r));
        return;
    }

    ctx->kind = NGX_ROOMS_FIBER_POST;
    ctx->request = r;
    ctx->handler = h;

    if (ngx_rooms_fiber_start(ctx) == NGX_AGAIN) {
        return;
    }

    ngx_http_finalize_request(r, ctx->rc);
    ngx_free(ctx);
}


ngx_int_t
ngx_rooms_fiber_go(ngx_http_request_t *r, ngx_rooms_fiber_pt fn, void *data,
    ngx_rooms_fiber_pt done)
{
    ngx_int_t               rc;
    ngx_rooms_fiber_ctx_t  *ctx;

    if (rooms_fiber_current() != NULL) {
        /* already in one: a plain call, whose waits suspend that one */
        fn(data);
        return NGX_OK;
    }

    ctx = ngx_calloc(sizeof(ngx_rooms_fiber_ctx_t), ngx_cycle->log);
    if (ctx == NULL) {
        fn(data);
        return NGX_OK;
    }

    ctx->kind = NGX_ROOMS_FIBER_GO;
    ctx->request = r;
    ctx->fn = fn;
    ctx->data = data;
    ctx->done = done;

    rc = ngx_rooms_fiber_start(ctx);

    if (rc == NGX_OK) {
        ngx_free(ctx);
    }

    return rc;
}


ngx_int_t
ngx_rooms_fiber_spawn(ngx_rooms_fiber_pt fn, void *data,
    ngx_rooms_fiber_pt done)
{
    ngx_rooms_fiber_ctx_t  *ctx;

    ctx = ngx_calloc(sizeof(ngx_rooms_fiber_ctx_t), ngx_cycle->log);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->kind = NGX_ROOMS_FIBER_GO;
    ctx->fn = fn;
    ctx->data = data;
    ctx->done = done;

    if (ngx_rooms_fiber_new(ctx) != NGX_OK) {
        ngx_free(ctx);
        return NGX_ERROR;
    }

    /* its first run, from the event loop: never from inside a fiber */
    ngx_post_event(&ctx->wake, &ngx_posted_events);

    return NGX_OK;
}


/* ctx's fiber and its events, or NGX_ERROR (logged: none to be had) */
static ngx_int_t
ngx_rooms_fiber_new(ngx_rooms_fiber_ctx_t *ctx)
{
    ctx->fiber = rooms_fiber_new(ngx_rooms_fiber_main, ctx);

    if (ctx->fiber == NULL) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "rooms: no fiber to be had (%d at most), a store "
                      "call may block this worker", ROOMS_FIBER_MAX);
        return NGX_ERROR;
    }

    rooms_fiber_set_user(ctx->fiber, ctx);

    ctx->timer.handler = ngx_rooms_fiber_timeout;
    ctx->timer.data = ctx;
    ctx->timer.log = ngx_cycle->log;
    ctx->wake.handler = ngx_rooms_fiber_woken;
    ctx->wake.data = ctx;
    ctx->wake.log = ngx_cycle->log;

    return NGX_OK;
}


/*
 * Runs ctx's work in a new fiber until it ends (NGX_OK) or waits
 * (NGX_AGAIN: its request, if any, is held from now on).  Without a
 * fiber to be had, the work runs as a plain call (its waits block).
 */
static ngx_int_t
ngx_rooms_fiber_start(ngx_rooms_fiber_ctx_t *ctx)
{
    ngx_http_request_t  *r;

    if (ngx_rooms_fiber_new(ctx) != NGX_OK) {
        ngx_rooms_fiber_main(ctx);
        return NGX_OK;
    }

    if (rooms_fiber_resume(ctx->fiber)) {
        return NGX_OK;
    }

    r = ctx->request;

    if (r != NULL) {
        /*
         * Held as nginx's thread tasks hold a request: blocked keeps a
         * termination meanwhile (a client gone, an error) from freeing
         * it; ngx_rooms_fiber_ended() lets it go.  A fiber with no
         * response of its own holds a count too, dropped at its end.
         */
        if (ctx->kind == NGX_ROOMS_FIBER_GO) {
            ngx_rooms_fiber_hold(r);

        } else {
            r->main->blocked++;
        }

        ctx->held = 1;
    }

    return NGX_AGAIN;
}


static void
ngx_rooms_fiber_main(void *data)
{
    ngx_rooms_fiber_ctx_t  *ctx = data;

    if (ctx->kind == NGX_ROOMS_FIBER_GO) {
        ctx->fn(ctx->data);

    } else {
        ctx->rc = ctx->handler(ctx->request);
    }

    if (ctx->slot != NULL && ngx_rooms_fiber_give_back != NULL) {
        ngx_rooms_fiber_give_back(&ctx->slot);
    }
}


static void
ngx_rooms_fiber_continue(ngx_rooms_fiber_ctx_t *ctx)
{
    if (rooms_fiber_resume(ctx->fiber)) {
        ngx_rooms_fiber_ended(ctx);
    }
}


/* A fiber that waited has ended: its request let go, or finalized. */
static void
ngx_rooms_fiber_ended(ngx_rooms_fiber_ctx_t *ctx)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;

    if (!ctx->held) {
        if (ctx->done) {
            ctx->done(ctx->data);
        }

        ngx_free(ctx);
        return;
    }

    c = r->connection;

    switch (ctx->kind) {

    case NGX_ROOMS_FIBER_HANDLER:
    case NGX_ROOMS_FIBER_POST:
        r->main->blocked--;
        ngx_http_finalize_request(r, ctx->rc);
        break;

    default: /* NGX_ROOMS_FIBER_GO */

        if (ctx->done) {
            /* the request still held: done may use it */
            ctx->done(ctx->data);
        }

        ngx_rooms_fiber_release(r);
        break;
    }

    ngx_free(ctx);

    ngx_http_run_posted_requests(c);
}


void
ngx_rooms_fiber_hold(ngx_http_request_t *r)
{
    r->main->count++;
    r->main->blocked++;
}


void
ngx_rooms_fiber_release(ngx_http_request_t *r)
{
    ngx_connection_t  *c;

    c = r->connection;
    r->main->blocked--;

    /*
     * Our count goes: a request ended meanwhile is freed by this (nginx
     * 1.22 has no "terminated" flag: an error termination that waited
     * for us left c->error set, and NGX_ERROR finishes it).
     */
    ngx_http_finalize_request(r, c->error ? NGX_ERROR : NGX_DONE);
}


void
ngx_rooms_fiber_timer(ngx_event_t *ev, ngx_event_handler_pt h,
    ngx_uint_t *busy)
{
    ngx_rooms_fiber_tick_t  *t;

    if (*busy) {
        if (!ev->timer_set) {
            ngx_add_timer(ev, NGX_ROOMS_FIBER_TIMER_AGAIN);
        }

        return;
    }

    t = ngx_alloc(sizeof(ngx_rooms_fiber_tick_t), ev->log);
    if (t == NULL) {
        h(ev);
        return;
    }

    t->ev = ev;
    t->handler = h;
    t->busy = busy;

    *busy = 1;

    if (ngx_rooms_fiber_go(NULL, ngx_rooms_fiber_tick, t,
                           ngx_rooms_fiber_ticked)
        == NGX_OK)
    {
        ngx_rooms_fiber_ticked(t);
    }
}


static void
ngx_rooms_fiber_tick(void *data)
{
    ngx_rooms_fiber_tick_t  *t = data;

    t->handler(t->ev);
}


static void
ngx_rooms_fiber_ticked(void *data)
{
    ngx_rooms_fiber_tick_t  *t = data;

    *t->busy = 0;
    ngx_free(t);
}


ngx_uint_t
ngx_rooms_fiber_can_wait(void)
{
    return rooms_fiber_current() != NULL && ngx_rooms_shm_held() == 0;
}


int
ngx_rooms_fiber_wait(void *data, int fd, int in, int ms)
{
    ngx_int_t               rc;
    ngx_event_t            *ev;
    rooms_fiber_t          *f;
    ngx_connection_t       *c;
    ngx_rooms_fiber_ctx_t  *ctx;

    f = rooms_fiber_current();

    if (f == NULL || data != NULL) {
        /* no fiber, or the handle of code that cannot wait */
        return ngx_rooms_fiber_block(fd, in, ms);
    }

    if (ngx_rooms_shm_held()) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "rooms: a store call waits under a shared zone's "
                      "mutex: it blocks this worker");
        return ngx_rooms_fiber_block(fd, in, ms);
    }

    ctx = rooms_fiber_user(f);
    c = NULL;
    ev = NULL;

    if (fd >= 0) {
        c = ngx_get_connection(fd, ngx_cycle->log);
        if (c == NULL) {
            return ngx_rooms_fiber_block(fd, in, ms);
        }

        c->data = ctx;
        ev = in ? c->read : c->write;
        ev->handler = ngx_rooms_fiber_io;
        ev->log = ngx_cycle->log;

        /* level-triggered: an answer already there wakes at once */
        rc = ngx_add_event(ev, in ? NGX_READ_EVENT : NGX_WRITE_EVENT, 0);

        if (rc != NGX_OK) {
            c->fd = (ngx_socket_t) -1;
            ngx_free_connection(c);
            return ngx_rooms_fiber_block(fd, in, ms);
        }
    }

    ctx->ready = 0;
    ngx_add_timer(&ctx->timer, (ngx_msec_t) (ms > 0 ? ms : 1));

    rooms_fiber_yield();

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (c != NULL) {
        (void) ngx_del_event(ev, in ? NGX_READ_EVENT : NGX_WRITE_EVENT, 0);

        /* with accept_mutex, a readiness may be queued behind the timer */
        if (ev->posted) {
            ngx_delete_posted_event(ev);
        }

        /* the socket is libpq's: nginx must not count it as its own */
        c->fd = (ngx_socket_t) -1;
        ngx_free_connection(c);
    }

    return ctx->ready;
}


static void
ngx_rooms_fiber_io(ngx_event_t *ev)
{
    ngx_connection_t       *c = ev->data;
    ngx_rooms_fiber_ctx_t  *ctx = c->data;

    ctx->ready = 1;
    ngx_rooms_fiber_continue(ctx);
}


static void
ngx_rooms_fiber_timeout(ngx_event_t *ev)
{
    ngx_rooms_fiber_ctx_t  *ctx = ev->data;

    ctx->ready = 0;
    ngx_rooms_fiber_continue(ctx);
}


static void
ngx_rooms_fiber_woken(ngx_event_t *ev)
{
    ngx_rooms_fiber_continue(ev->data);
}


/* The wait of code that cannot be suspended: poll(), or a sleep. */
static int
ngx_rooms_fiber_block(int fd, int in, int ms)
{
    int            n;
    struct pollfd  pfd;

    if (fd < 0) {
        ngx_msleep(ms);
        return 0;
    }

    pfd.fd = fd;
    pfd.events = in ? POLLIN : POLLOUT;
    pfd.revents = 0;

    n = poll(&pfd, 1, ms);

    if (n > 0) {
        return 1;
    }

    return (n < 0 && ngx_errno != NGX_EINTR) ? -1 : 0;
}


void **
ngx_rooms_fiber_slot(void)
{
    rooms_fiber_t          *f;
    ngx_rooms_fiber_ctx_t  *ctx;

    f = rooms_fiber_current();

    if (f == NULL) {
        return NULL;
    }

    ctx = rooms_fiber_user(f);

    return &ctx->slot;
}


void
ngx_rooms_fiber_on_end(ngx_rooms_fiber_pt release)
{
    ngx_rooms_fiber_give_back = release;
}


void *
ngx_rooms_fiber_self(void)
{
    rooms_fiber_t  *f;

    f = rooms_fiber_current();

    return f != NULL ? rooms_fiber_user(f) : NULL;
}


void
ngx_rooms_fiber_park(void)
{
    rooms_fiber_yield();
}


void
ngx_rooms_fiber_wake(void *fiber)
{
    ngx_rooms_fiber_ctx_t  *ctx = fiber;

    ngx_post_event(&ctx->wake, &ngx_posted_events);
}
