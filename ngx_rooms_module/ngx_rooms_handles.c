
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_handles.c: the store handles of a process.
 *
 * Owns: the handles lent to fibers (opened at the worker's start, each
 * with the fiber's wait, so that a store call that must wait suspends
 * its fiber), lending one to a fiber at its first store call, the queue
 * of fibers waiting for one, and taking it back when the fiber ends
 * (with any transaction it left open rolled back).  The process's own
 * handle (rmcf->store: code that cannot wait, such as a request's
 * cleanup or the worker's exit) is ngx_rooms_control.c's.
 * Must never lend one handle to two fibers: a connection carries one
 * exchange and one transaction at a time.
 *
 * May not: include jansson.h, call json_, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_dir_, call ngx_rooms_control_, call ngx_rooms_signal_, call ngx_rooms_ws_, call ngx_rooms_api_, call ngx_rooms_media_
 */


#include "ngx_rooms_handles.h"
#include "ngx_rooms_fiber.h"

#include "rooms_db.h"
#include "rooms_fiber.h"


/*
 * Handles lent to fibers, per nginx worker.  Why 4: a change holds its
 * handle for a few round trips (about 0.4 ms on PostgreSQL, docs/
 * scaling.md), so 4 carry thousands of store calls a second per worker,
 * while each is a connection the database keeps: 4 per worker, plus the
 * worker's own, is 10 for a 2-core node.  Waits beyond it queue.
 */
#define NGX_ROOMS_HANDLES        4


static rooms_store_t  *ngx_rooms_handles_free[NGX_ROOMS_HANDLES];
static ngx_uint_t      ngx_rooms_handles_nfree;
static rooms_store_t  *ngx_rooms_handles_all[NGX_ROOMS_HANDLES];
static ngx_uint_t      ngx_rooms_handles_nall;

/* fibers waiting for a handle, first come first served */
static void           *ngx_rooms_handles_queue[ROOMS_FIBER_MAX];
static ngx_uint_t      ngx_rooms_handles_head;
static ngx_uint_t      ngx_rooms_handles_nqueued;

static rooms_store_t  *ngx_rooms_handles_own;


static void ngx_rooms_handles_release(void *data);


ngx_int_t
ngx_rooms_handles_init_process(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf)
{
    char            err[512];
    ngx_uint_t      i;
    rooms_store_t  *st;

    ngx_rooms_handles_own = rmcf->store;

    for (i = 0; i < NGX_ROOMS_HANDLES; i++) {
        st = rooms_store_open((char *) rmcf->store_path.data, err,
                              sizeof(err));
        if (st == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "rooms_store \"%V\" cannot be opened by the "
                          "worker: %s", &rmcf->store_name, err);
            return NGX_ERROR;
        }

        rooms_db_set_wait(rooms_store_db(st), ngx_rooms_fiber_wait, NULL);

        ngx_rooms_handles_all[ngx_rooms_handles_nall++] = st;
        ngx_rooms_handles_free[ngx_rooms_handles_nfree++] = st;
    }

    ngx_rooms_fiber_on_end(ngx_rooms_handles_release);

    return NGX_OK;
}


void
ngx_rooms_handles_exit_process(void)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_rooms_handles_nall; i++) {
        rooms_store_close(ngx_rooms_handles_all[i]);
    }

    ngx_rooms_handles_nall = 0;
    ngx_rooms_handles_nfree = 0;
    ngx_rooms_handles_own = NULL;
}


rooms_store_t *
ngx_rooms_store_handle(void)
{
    void        **slot;
    ngx_uint_t    tail;

    slot = ngx_rooms_fiber_slot();

    if (slot == NULL || ngx_rooms_handles_nall == 0) {
        return ngx_rooms_handles_own;
    }

    if (*slot != NULL) {
        return *slot;
    }

    for ( ;; ) {
        if (ngx_rooms_handles_nfree > 0) {
            *slot = ngx_rooms_handles_free[--ngx_rooms_handles_nfree];
            return *slot;
        }

        if (!ngx_rooms_fiber_can_wait()
            || ngx_rooms_handles_nqueued == ROOMS_FIBER_MAX)
        {
            /* cannot wait here: the worker's own, whose waits block */
            return ngx_rooms_handles_own;
        }

        tail = (ngx_rooms_handles_head + ngx_rooms_handles_nqueued)
               % ROOMS_FIBER_MAX;
        ngx_rooms_handles_queue[tail] = ngx_rooms_fiber_self();
        ngx_rooms_handles_nqueued++;

        ngx_rooms_fiber_park();
    }
}


/* A fiber ends: its handle back, and the first waiting fiber woken. */
static void
ngx_rooms_handles_release(void *data)
{
    void           **slot = data;
    rooms_store_t   *st;

    st = *slot;
    *slot = NULL;

    if (st == ngx_rooms_handles_own) {
        return;
    }

    /* a path that returned inside a transaction must not leave it open */
    rooms_store_rollback(st);

    ngx_rooms_handles_free[ngx_rooms_handles_nfree++] = st;

    if (ngx_rooms_handles_nqueued > 0) {
        ngx_rooms_fiber_wake(ngx_rooms_handles_queue[ngx_rooms_handles_head]);
        ngx_rooms_handles_head = (ngx_rooms_handles_head + 1)
                                 % ROOMS_FIBER_MAX;
        ngx_rooms_handles_nqueued--;
    }
}
