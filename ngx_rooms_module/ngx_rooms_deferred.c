
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_deferred.c: the store writes this nginx worker keeps while
 * another program holds the store's write lock.
 *
 * Owns: the bounded list, oldest first, of writes a locked store refused
 * whose asker cannot try again (a ban from a BAN record, a co-host's
 * demotion, a HOST_ABSENT record's policy, a webhook event), the timer that has the
 * control file make them every NGX_ROOMS_RETRY_EVERY until stored, and
 * their lines in the log (kept, stored, lost).  The list is per process:
 * a ban kept here is seen by this worker's admission only.
 * Must never write the store itself (the control file's write function
 * does), never reorder writes, and never hold an exiting worker: its
 * timer is cancelable, and the exit makes one last try.
 * May not: call rooms_store_, call ngx_rooms_dir_, call ngx_rooms_control_, call ngx_rooms_media_, call ngx_rooms_signal_, call ngx_rooms_ws_, call ngx_rooms_api_, call ngx_rooms_router_, call ngx_rooms_page_, include jansson.h, call json_, include rooms_ring.h, include rooms_ws.h
 */


#include "ngx_rooms_deferred.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_metrics.h"


/*
 * Why 64: these come from hosts removing and demoting people and rooms
 * losing their last host, a few a minute on a busy server; 64 cover a
 * store locked for minutes.
 */
#define NGX_ROOMS_DEFER_MAX  64


static void ngx_rooms_deferred_retry(ngx_event_t *ev);
static void ngx_rooms_deferred_retry_run(ngx_event_t *ev);
static const char *ngx_rooms_deferred_name(ngx_rooms_deferred_t *d);


static ngx_rooms_deferred_t   ngx_rooms_deferred[NGX_ROOMS_DEFER_MAX];
static ngx_uint_t             ngx_rooms_ndeferred;
static ngx_rooms_deferred_pt  ngx_rooms_deferred_write;
static ngx_event_t            ngx_rooms_deferred_ev;
static ngx_uint_t             ngx_rooms_deferred_exiting;


void
ngx_rooms_deferred_init_process(ngx_cycle_t *cycle,
    ngx_rooms_deferred_pt write)
{
    ngx_rooms_ndeferred = 0;
    ngx_rooms_deferred_exiting = 0;
    ngx_rooms_deferred_write = write;

    ngx_rooms_deferred_ev.handler = ngx_rooms_deferred_retry;
    ngx_rooms_deferred_ev.log = cycle->log;
    ngx_rooms_deferred_ev.cancelable = 1;
}


void
ngx_rooms_deferred_add(ngx_rooms_deferred_t *d)
{
    if (ngx_rooms_deferred_write == NULL) {
        return;
    }

    if (ngx_rooms_ndeferred == NGX_ROOMS_DEFER_MAX) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "rooms_store: %d writes wait for the store's lock "
                      "already; a %s of room %L is lost",
                      NGX_ROOMS_DEFER_MAX, ngx_rooms_deferred_name(d),
                      d->room_id);

        if (d->kind == NGX_ROOMS_DEFER_EVENT) {
            ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_DROPPED, 1);
        }

        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "rooms_store is locked by another process: a %s of room "
                  "%L is kept, to be stored when it is free",
                  ngx_rooms_deferred_name(d), d->room_id);

    ngx_rooms_deferred[ngx_rooms_ndeferred++] = *d;

    if (!ngx_rooms_deferred_ev.timer_set) {
        ngx_add_timer(&ngx_rooms_deferred_ev, NGX_ROOMS_RETRY_EVERY);
    }
}


ngx_uint_t
ngx_rooms_deferred_banned(int64_t room_id, u_char *token_hash)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_rooms_ndeferred; i++) {
        if (ngx_rooms_deferred[i].kind == NGX_ROOMS_DEFER_BAN
            && ngx_rooms_deferred[i].room_id == room_id
            && rooms_token_hash_equal(ngx_rooms_deferred[i].token_hash,
                                      token_hash))
        {
            return 1;
        }
    }

    return 0;
}


ngx_uint_t
ngx_rooms_deferred_events(void)
{
    ngx_uint_t  i, n;

    n = 0;

    for (i = 0; i < ngx_rooms_ndeferred; i++) {
        n += ngx_rooms_deferred[i].kind == NGX_ROOMS_DEFER_EVENT;
    }

    return n;
}


void
ngx_rooms_deferred_exit_process(void)
{
    if (ngx_rooms_deferred_ev.timer_set) {
        ngx_del_timer(&ngx_rooms_deferred_ev);
    }

    if (ngx_rooms_ndeferred && ngx_rooms_deferred_write) {
        ngx_rooms_deferred_exiting = 1;
        ngx_rooms_deferred_retry(&ngx_rooms_deferred_ev);
    }

    ngx_rooms_deferred_write = NULL;
}


/*
 * Makes the kept writes, oldest first, until one meets the lock again;
 * that one and the rest wait for the next second, unless the worker is
 * exiting: then they are logged as lost.
 */
/* in a fiber: its store calls may wait (ngx_rooms_fiber_timer()) */
static void
ngx_rooms_deferred_retry(ngx_event_t *ev)
{
    static ngx_uint_t  busy;

    ngx_rooms_fiber_timer(ev, ngx_rooms_deferred_retry_run, &busy);
}


static void
ngx_rooms_deferred_retry_run(ngx_event_t *ev)
{
    ngx_int_t    rc;
    ngx_uint_t   i;

    for (i = 0; i < ngx_rooms_ndeferred; i++) {
        rc = ngx_rooms_deferred_write(&ngx_rooms_deferred[i]);

        if (rc == NGX_ROOMS_BUSY) {
            break;
        }

        if (rc == NGX_OK) {
            ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                          "rooms_store: a deferred %s of room %L is stored",
                          ngx_rooms_deferred_name(&ngx_rooms_deferred[i]),
                          ngx_rooms_deferred[i].room_id);
        }
    }

    ngx_memmove(ngx_rooms_deferred, &ngx_rooms_deferred[i],
                (ngx_rooms_ndeferred - i) * sizeof(ngx_rooms_deferred_t));
    ngx_rooms_ndeferred -= i;

    if (ngx_rooms_ndeferred == 0) {
        return;
    }

    if (ngx_rooms_deferred_exiting || ngx_exiting || ngx_terminate
        || ngx_quit)
    {
        ngx_log_error(NGX_LOG_ALERT, ev->log, 0,
                      "rooms_store is still locked by another process: %ui "
                      "writes (bans, demotions, host-absent policies, webhook "
                      "events) are "
                      "lost as this worker exits", ngx_rooms_ndeferred);

        for (i = 0; i < ngx_rooms_ndeferred; i++) {
            if (ngx_rooms_deferred[i].kind == NGX_ROOMS_DEFER_EVENT) {
                ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_DROPPED, 1);
            }
        }

        ngx_rooms_ndeferred = 0;
        return;
    }

    ngx_add_timer(ev, NGX_ROOMS_RETRY_EVERY);
}


static const char *
ngx_rooms_deferred_name(ngx_rooms_deferred_t *d)
{
    switch (d->kind) {
    case NGX_ROOMS_DEFER_BAN:
        return "ban";
    case NGX_ROOMS_DEFER_DEMOTE:
        return "co-host's demotion";
    case NGX_ROOMS_DEFER_EVENT:
        return "webhook event";
    default:
        return "host-absent policy";
    }
}
