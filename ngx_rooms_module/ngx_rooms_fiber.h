
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_fiber.h: handlers run in fibers (ngx_rooms_fiber.c), so that
 * a store call that waits suspends its handler, not nginx's event loop.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_FIBER_H_INCLUDED_
#define _NGX_ROOMS_FIBER_H_INCLUDED_


#include "ngx_rooms.h"


typedef void (*ngx_rooms_fiber_pt)(void *data);


/*
 * A content handler h for r, run in a fiber: what h returns when it ran
 * to its end at once; NGX_DONE when it waits (r is held meanwhile, and
 * finalized with what h returns once it ends).  Without a fiber to be
 * had (ROOMS_FIBER_MAX), h runs as a plain call.
 */
ngx_int_t ngx_rooms_fiber_handler(ngx_http_request_t *r,
    ngx_http_handler_pt h);

/*
 * The same for a request body's post handler: r is finalized with what h
 * returns, now or once h ends.
 */
void ngx_rooms_fiber_post(ngx_http_request_t *r, ngx_http_handler_pt h);

/*
 * fn(data) in a fiber, for anything else (a WebSocket message, a timer, a
 * record of the media worker): NGX_OK when it ran to its end at once,
 * NGX_AGAIN when it waits; then done(data), when set, runs on nginx's
 * stack once fn has ended.  With r set, r is held while fn waits (a
 * request ended meanwhile is freed only after).  data must outlive fn.
 */
ngx_int_t ngx_rooms_fiber_go(ngx_http_request_t *r, ngx_rooms_fiber_pt fn,
    void *data, ngx_rooms_fiber_pt done);

/*
 * fn(data) in a fiber of its own, started from nginx's event loop soon
 * after (also when called inside another fiber, which goes on at once):
 * for a store write nobody waits for.  done(data), when set, runs once fn
 * has ended; data is the caller's to free there.  NGX_ERROR when no
 * fiber could be had (nothing runs).
 */
ngx_int_t ngx_rooms_fiber_spawn(ngx_rooms_fiber_pt fn, void *data,
    ngx_rooms_fiber_pt done);

/*
 * A timer's handler h (which may wait for the store) run in a fiber: ev
 * fires into this.  Runs of one timer never overlap: while one waits, a
 * firing of ev is put off by NGX_ROOMS_FIBER_TIMER_AGAIN ms.  busy is
 * the timer's own flag, zero at first.
 */
void ngx_rooms_fiber_timer(ngx_event_t *ev, ngx_event_handler_pt h,
    ngx_uint_t *busy);

/*
 * Holds r while the running fiber uses it across a wait (a request not
 * its own, such as another tray's WebSocket), and lets it go: a request
 * ended meanwhile is freed by the release.
 */
void ngx_rooms_fiber_hold(ngx_http_request_t *r);
void ngx_rooms_fiber_release(ngx_http_request_t *r);

/*
 * rooms_db's wait (rooms_db_set_wait()): in a fiber that may wait (no
 * shared zone's mutex held), the fiber is suspended until fd is ready
 * on nginx's events, or ms pass; anywhere else, poll() or a sleep.
 */
int ngx_rooms_fiber_wait(void *data, int fd, int in, int ms);

/* 1 in a fiber that may be suspended now, else 0 */
ngx_uint_t ngx_rooms_fiber_can_wait(void);

/*
 * The running fiber's slot for the store handle it holds (NULL outside a
 * fiber), and the function that gives a held handle back when its fiber
 * ends (set once, by ngx_rooms_handles.c).
 */
void **ngx_rooms_fiber_slot(void);
void ngx_rooms_fiber_on_end(ngx_rooms_fiber_pt release);

/*
 * Parks the running fiber until ngx_rooms_fiber_wake() is given what
 * ngx_rooms_fiber_self() returned (a handle given back, ...).
 */
void *ngx_rooms_fiber_self(void);
void ngx_rooms_fiber_park(void);
void ngx_rooms_fiber_wake(void *fiber);


#endif /* _NGX_ROOMS_FIBER_H_INCLUDED_ */
