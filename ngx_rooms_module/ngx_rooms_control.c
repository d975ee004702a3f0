
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_control.c: every change to a room a client asks for, and
 * the store's write lock every store write takes.
 *
 * Owns: the store handle of each process (opened, migrated, closed); the
 * one path of every change to a room a client asks for: a host's or
 * co-host's change from the API or a WebSocket (with the key checked
 * again under the store's write lock) and a co-host's revocation; each
 * runs through ngx_rooms_dir_change() on the store's record, stores what
 * it changes, and then tells the media worker what concerns the people in
 * the room (ROOM records, each with the room's revision); creating rooms,
 * storing bans, drawing, storing and revoking co-host keys, and the store
 * reads the API and the signaling need (bans, co-host keys); expiry
 * (rooms_expire): worker 0 purges rooms ended or unused for that long, at
 * its start and every hour; the webhook outbox (rooms_webhook):
 * room.created and room.ended stored in the transaction of the change,
 * room.opened and the participant events the signaling reports, each in
 * a transaction of its own, and the removal of a delivered event.  The
 * records the media worker sends (BAN, COUNT, RESYNC, HOST_ABSENT) and
 * the loss of its link are handled by ngx_rooms_records.c, through the
 * helpers of ngx_rooms_control_int.h; the two files are the control
 * subsystem, the only writer of the store.  The directory reads the
 * store on its own (a cache miss, a code by id) and writes it never.
 * Locks: a change takes the store's write lock, waiting at most
 * ROOMS_STORE_WAIT_MS, which serialises changes on every node; the zone
 * mutex guards shared memory only, and no store call is made under it
 * (ngx_rooms_shm.h): the callbacks below run without it.  A change the
 * store is too busy for is refused
 * (NGX_ROOMS_BUSY: the client is told to try again), and a write nobody
 * can be asked to repeat (a ban, a co-host's demotion, a host-absent
 * policy, all from the media worker or a WebSocket) is kept by
 * ngx_rooms_deferred.c and made again here every second until stored.
 * Must never store a change without the store's write lock, never
 * announce a change before it is stored, never call the store under a
 * zone mutex, never touch the directory's shared memory from a callback,
 * and never answer a client: the callers turn its results into
 * HTTP or WebSocket errors.
 * May not: include rooms_ring.h, include rooms_ws.h, call ngx_rooms_ws_, call ngx_rooms_signal_, call ngx_rooms_api_, call ngx_rooms_router_, call ngx_rooms_page_, call ngx_rooms_media_conn_id, call ngx_rooms_media_leave, include <jansson.h>, call json_, include ngx_rooms_records.h, call ngx_rooms_records_
 */


#include "ngx_rooms_control_int.h"
#include "ngx_rooms_handles.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_deferred.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_media.h"
#include "ngx_rooms_metrics.h"
#include "ngx_rooms_webhook.h"


#include "rooms_msg.h"


/* what a HOST_ABSENT record asks, and what came of it */
typedef struct {
    int64_t                      room_id;
    ngx_uint_t                   policy;         /* ROOMS_HOST_ABSENT_* */
    ngx_uint_t                   done;           /* NGX_ROOMS_UPDATE, END */
    rooms_store_t               *store;
} ngx_rooms_absent_t;


/*
 * A change that is no host action: revoking a co-host credential, in the
 * store, through ngx_rooms_dir_change() (the room's record stays).
 */
#define NGX_ROOMS_REVOKE     64


/* what a host action asks, checked on the store's record under its lock */
typedef struct {
    ngx_uint_t                   action;
    ngx_uint_t                   cohost;         /* hash is a co-host's */
    u_char                       hash[ROOMS_HASH_LEN];
    rooms_patch_t               *patch;
    rooms_store_t               *store;
    ngx_log_t                   *log;
    int64_t                      cohost_id;      /* NGX_ROOMS_REVOKE */
    u_char                       token_hash[ROOMS_HASH_LEN];  /* revoked */
    rooms_error_t                err;
} ngx_rooms_change_t;


static ngx_int_t ngx_rooms_control_insert(rooms_room_t *room, void *data);
static ngx_int_t ngx_rooms_control_apply(rooms_room_t *room, void *data);
static ngx_int_t ngx_rooms_control_allowed(rooms_room_t *room,
    ngx_rooms_change_t *change);
static ngx_int_t ngx_rooms_control_demote(rooms_room_t *room,
    u_char *token_hash, ngx_log_t *log);
static ngx_int_t ngx_rooms_control_tell(rooms_room_t *room, u_char *json,
    size_t len, const char *what, ngx_log_t *log);
static void ngx_rooms_control_expire(ngx_event_t *ev);
static void ngx_rooms_control_expire_run(ngx_event_t *ev);
static ngx_int_t ngx_rooms_control_purge(void *data);
static ngx_int_t ngx_rooms_control_commit(rooms_store_t *store,
    ngx_log_t *log);
static void ngx_rooms_control_busy(ngx_log_t *log, const char *what);
static ngx_int_t ngx_rooms_control_store_demote(rooms_store_t *store,
    int64_t room_id, u_char *token_hash, int64_t now);
static ngx_int_t ngx_rooms_control_deferred(ngx_rooms_deferred_t *d);
static ngx_int_t ngx_rooms_control_absent_change(ngx_rooms_main_conf_t *rmcf,
    u_char *code, ngx_rooms_absent_t *ha, rooms_room_t *room);
static ngx_int_t ngx_rooms_control_absent_apply(rooms_room_t *room,
    void *data);
static void ngx_rooms_control_room_event(rooms_store_t *store,
    ngx_rooms_event_e type, rooms_room_t *room);
static ngx_int_t ngx_rooms_control_outbox(rooms_store_t *store, u_char *body,
    size_t len);
static ngx_int_t ngx_rooms_control_outbox_now(rooms_store_t *store,
    u_char *body, size_t len);
static void ngx_rooms_control_event_write(void *data);


/*
 * Runs in the master (and under "nginx -t") before workers exist: opening
 * the store here creates it, migrates its schema and proves it usable,
 * writes included, so a wrong path, a read-only store or a full disk
 * fails the configuration test instead of the first request.
 */
ngx_int_t
ngx_rooms_control_init_module(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf)
{
    int             rc;
    char            err[512];
    rooms_store_t  *st;

    st = rooms_store_open((char *) rmcf->store_path.data, err, sizeof(err));
    if (st == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "rooms_store \"%V\" cannot be used: %s",
                      &rmcf->store_name, err);
        return NGX_ERROR;
    }

    rc = rooms_store_check_write(st, err, sizeof(err));

    rooms_store_close(st);

    if (rc == ROOMS_STORE_BUSY) {
        /* a backup may hold it for a while: no reason to refuse nginx */
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "rooms_store \"%V\": %s, so writing to it was not "
                      "tested", &rmcf->store_name, err);

    } else if (rc != ROOMS_STORE_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "rooms_store \"%V\" cannot be written: %s",
                      &rmcf->store_name, err);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* Each worker opens its own handle: one is never inherited across fork(). */
ngx_int_t
ngx_rooms_control_init_process(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf)
{
    char  err[512];

    rmcf->store = rooms_store_open((char *) rmcf->store_path.data, err,
                                   sizeof(err));
    if (rmcf->store == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "rooms_store \"%V\" cannot be opened by the worker "
                      "(%s): %s", &rmcf->store_name,
                      rooms_db_is_uri((char *) rmcf->store_path.data)
                      ? "is the database server up?"
                      : "is its directory writable by the worker user?",
                      err);
        return NGX_ERROR;
    }

    /* the handles fibers borrow, before anything may ask for one */
    if (ngx_rooms_handles_init_process(cycle, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_rooms_deferred_init_process(cycle, ngx_rooms_control_deferred);

    /*
     * Expiry runs in one worker: the first, at its start (so a restart
     * serves no expired room) and then every hour.  The timer is
     * cancelable: it never holds a graceful shutdown.  The run at the
     * start is made here, outside a fiber (the worker's own handle, whose
     * waits block), before the worker reads any request: the purge holds
     * no zone mutex, so nothing else would keep this worker's lookups
     * from reading a room it is about to purge.
     */
    if (rmcf->expire > 0 && ngx_worker == 0 && rmcf->shm_zone != NULL) {
        rmcf->expire_ev.handler = ngx_rooms_control_expire;
        rmcf->expire_ev.data = rmcf;
        rmcf->expire_ev.log = cycle->log;
        rmcf->expire_ev.cancelable = 1;

        ngx_rooms_control_expire_run(&rmcf->expire_ev);
    }

    return NGX_OK;
}


/* in a fiber: its store calls may wait (ngx_rooms_fiber_timer()) */
static void
ngx_rooms_control_expire(ngx_event_t *ev)
{
    static ngx_uint_t  busy;

    ngx_rooms_fiber_timer(ev, ngx_rooms_control_expire_run, &busy);
}


static void
ngx_rooms_control_expire_run(ngx_event_t *ev)
{
    ngx_int_t               n;
    ngx_msec_t              next;
    ngx_rooms_main_conf_t  *rmcf = ev->data;

    if (rmcf->store == NULL) {
        return;
    }

    next = NGX_ROOMS_EXPIRE_EVERY;

    n = ngx_rooms_control_begin(ngx_rooms_store_handle(), ev->log);

    if (n == NGX_OK) {
        n = ngx_rooms_dir_purge(rmcf, ev->log, ngx_rooms_control_purge,
                                rmcf);
        rooms_store_rollback(ngx_rooms_store_handle());
    }

    if (n == NGX_ROOMS_BUSY) {
        /* locked by another program: again in a minute */
        next = 60 * 1000;

    } else if (n == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                      "rooms_expire: the store could not be purged: %s",
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);

    } else if (n > 0) {
        ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                      "rooms_expire: %i rooms ended or unused for %T days "
                      "or more were purged", n, rmcf->expire / 86400);
    }

    if (!ngx_exiting && !ngx_terminate && !ngx_quit) {
        ngx_add_timer(ev, next);
    }
}


/*
 * Runs inside the store's write transaction, without the directory lock:
 * the purge itself (ngx_rooms_dir_purge).
 */
static ngx_int_t
ngx_rooms_control_purge(void *data)
{
    int64_t                 purged;
    ngx_rooms_main_conf_t  *rmcf = data;

    if (rooms_store_expire(ngx_rooms_store_handle(), (int64_t) ngx_time() - rmcf->expire,
                           &purged)
        != ROOMS_STORE_OK
        || rooms_store_commit(ngx_rooms_store_handle()) != ROOMS_STORE_OK)
    {
        return NGX_ERROR;
    }

    return (ngx_int_t) purged;
}


void
ngx_rooms_control_exit_process(ngx_rooms_main_conf_t *rmcf)
{
    if (rmcf->expire_ev.timer_set) {
        ngx_del_timer(&rmcf->expire_ev);
    }

    if (rmcf->store != NULL) {
        /* a last try of the kept writes, while the handle is open */
        ngx_rooms_deferred_exit_process();

        ngx_rooms_handles_exit_process();
        rooms_store_close(rmcf->store);
        rmcf->store = NULL;
    }
}


ngx_int_t
ngx_rooms_control_create(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    rooms_room_t *room)
{
    ngx_int_t           rc;
    ngx_rooms_change_t  change;

    ngx_memzero(&change, sizeof(ngx_rooms_change_t));

    change.store = ngx_rooms_store_handle();
    change.log = log;

    rc = ngx_rooms_control_begin(ngx_rooms_store_handle(), log);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_rooms_dir_add(rmcf, log, room, ngx_rooms_control_insert,
                           &change);

    rooms_store_rollback(ngx_rooms_store_handle());

    return rc;
}


/* Under the store's write lock: a new room goes into the store. */
static ngx_int_t
ngx_rooms_control_insert(rooms_room_t *room, void *data)
{
    ngx_rooms_change_t  *change = data;

    if (rooms_store_insert(change->store, room) != ROOMS_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, change->log, 0,
                      "rooms_store insert failed: %s",
                      rooms_store_errmsg(change->store));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    ngx_rooms_control_room_event(change->store, NGX_ROOMS_EVENT_ROOM_CREATED,
                                 room);

    return ngx_rooms_control_commit(change->store, change->log);
}


/*
 * A host's change to a room, whether it came as an HTTP request or from a
 * host's or co-host's WebSocket: the one path all take.  Once the change
 * is stored, the media worker hears of a lock, an end, an admission (a
 * switch to open lets the lobby in), a cap (for later admissions) or a
 * policy, and the people in the room of what concerns them.
 */
ngx_int_t
ngx_rooms_control_change(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    u_char *code, u_char *hash, ngx_uint_t cohost, ngx_uint_t action,
    rooms_patch_t *patch, rooms_room_t *room, rooms_error_t *err)
{
    ngx_int_t           rc;
    ngx_uint_t          what;
    ngx_rooms_change_t  change;

    ngx_memzero(&change, sizeof(ngx_rooms_change_t));

    change.action = action;
    change.cohost = cohost;
    change.patch = patch;
    change.store = ngx_rooms_store_handle();
    change.log = log;
    ngx_memcpy(change.hash, hash, ROOMS_HASH_LEN);

    rc = ngx_rooms_control_begin(ngx_rooms_store_handle(), log);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_rooms_dir_change(rmcf, log, code, ngx_rooms_control_apply,
                              &change, room);

    /* a refusal, or a failure, stored nothing */
    rooms_store_rollback(ngx_rooms_store_handle());

    if (rc == NGX_ROOMS_REFUSED) {
        *err = change.err;
        return rc;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (action == NGX_ROOMS_END) {
        (void) ngx_rooms_control_room(room, ROOMS_MSG_ROOM_ENDED, log);
        return NGX_OK;
    }

    if (action != NGX_ROOMS_UPDATE) {
        return NGX_OK;
    }

    what = (patch->has_locked ? ROOMS_MSG_ROOM_LOCKED : 0)
           | (patch->has_admission ? ROOMS_MSG_ROOM_ADMISSION : 0)
           | (patch->has_max ? ROOMS_MSG_ROOM_MAX : 0)
           | (patch->has_host_absent ? ROOMS_MSG_ROOM_HOST_ABSENT : 0);

    if (what) {
        (void) ngx_rooms_control_room(room, what, log);
    }

    return NGX_OK;
}


ngx_int_t
ngx_rooms_control_change_joined(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    u_char *code, int64_t room_id, u_char *hash, ngx_uint_t cohost,
    ngx_uint_t action, rooms_patch_t *patch, rooms_error_t *err)
{
    char          current[ROOMS_CODE_LEN + 1];
    ngx_int_t     rc;
    rooms_room_t  room;

    rc = ngx_rooms_control_change(rmcf, log, code, hash, cohost, action,
                                  patch, &room, err);

    if (rc != NGX_ROOMS_GONE) {
        return rc;
    }

    switch (rooms_store_code(ngx_rooms_store_handle(), room_id, current)) {

    case ROOMS_STORE_OK:
        break;

    case ROOMS_STORE_NOT_FOUND:
        return NGX_DECLINED;

    default:
        ngx_log_error(NGX_LOG_ERR, log, 0, "rooms_store lookup failed: %s",
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    ngx_memcpy(code, current, ROOMS_CODE_LEN);

    return ngx_rooms_control_change(rmcf, log, code, hash, cohost, action,
                                    patch, &room, err);
}


ngx_int_t
ngx_rooms_control_cohost_revoke(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    u_char *code, u_char *hash, int64_t id, rooms_room_t *room,
    rooms_error_t *err)
{
    ngx_int_t           rc;
    ngx_rooms_change_t  change;

    ngx_memzero(&change, sizeof(ngx_rooms_change_t));

    change.action = NGX_ROOMS_REVOKE;
    change.store = ngx_rooms_store_handle();
    change.log = log;
    change.cohost_id = id;
    ngx_memcpy(change.hash, hash, ROOMS_HASH_LEN);

    rc = ngx_rooms_control_begin(ngx_rooms_store_handle(), log);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_rooms_dir_change(rmcf, log, code, ngx_rooms_control_apply,
                              &change, room);

    rooms_store_rollback(ngx_rooms_store_handle());

    if (rc != NGX_OK) {
        *err = change.err;
        return rc;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "rooms: the host revoked co-host %L of room %L", id,
                  room->id);

    (void) ngx_rooms_control_demote(room, change.token_hash, log);

    return NGX_OK;
}


/*
 * Runs under the store's write lock (ngx_rooms_dir_change()), without the
 * directory lock, on a copy of the record the store gave under that
 * lock: checks who asks, then stores the change.  The store is asked in
 * the same transaction for a co-host's credential, and for a revocation,
 * so that neither races a change of the room.
 */
static ngx_int_t
ngx_rooms_control_apply(rooms_room_t *room, void *data)
{
    ngx_rooms_change_t  *change = data;

    int                  rc;

    if (ngx_rooms_control_allowed(room, change) != NGX_OK) {
        return NGX_ROOMS_REFUSED;
    }

    switch (change->action) {

    case NGX_ROOMS_UPDATE:
        if (rooms_apply_patch(room, change->patch, &change->err) != 0) {
            return NGX_ROOMS_REFUSED;
        }

        return ngx_rooms_control_write(change->store, change->log, room,
                                       NGX_ROOMS_UPDATE);

    case NGX_ROOMS_ROTATE:
        if (room->ended_at != 0) {
            rooms_error(&change->err, 409, "room_ended",
                        "the room has ended; its link cannot change");
            return NGX_ROOMS_REFUSED;
        }

        return ngx_rooms_control_write(change->store, change->log, room,
                                       NGX_ROOMS_ROTATE);

    case NGX_ROOMS_REVOKE:
        rc = rooms_store_cohost_revoke(change->store, room->id,
                                       change->cohost_id, ngx_time(),
                                       change->token_hash);

        if (rc == ROOMS_STORE_NOT_FOUND) {
            rooms_error(&change->err, 404, "not_found",
                        "this room has no active co-host with this id");
            return NGX_ROOMS_REFUSED;
        }

        if (rc != ROOMS_STORE_OK
            || ngx_rooms_control_commit(change->store, change->log)
               != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "rooms_store co-host revocation failed: %s",
                          rooms_store_errmsg(change->store));
            ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
            rooms_error(&change->err, 503, "storage_unavailable",
                        "the change could not be stored; nothing changed");
            return NGX_ROOMS_REFUSED;
        }

        return NGX_ROOMS_DIR_KEEP;

    default: /* NGX_ROOMS_END: ending an ended room changes nothing */
        if (room->ended_at != 0) {
            return NGX_ROOMS_DIR_KEEP;
        }

        return ngx_rooms_control_write(change->store, change->log, room,
                                       NGX_ROOMS_END);
    }
}


/*
 * Under the store's write lock: the host key's hash must be the room's; a
 * co-host key must be an active credential of the room, and may only
 * lock and unlock.  NGX_DECLINED with change->err set otherwise.
 */
static ngx_int_t
ngx_rooms_control_allowed(rooms_room_t *room, ngx_rooms_change_t *change)
{
    int  rc;

    if (!change->cohost) {
        if (rooms_token_hash_equal(change->hash, room->host_hash)) {
            return NGX_OK;
        }

        rooms_error(&change->err, 403, "wrong_host_key",
                    "the host key does not match this room");
        return NGX_DECLINED;
    }

    rc = rooms_store_cohost_check(change->store, room->id, change->hash,
                                  NULL);

    if (rc == ROOMS_STORE_ERROR) {
        rooms_error(&change->err, 503, "storage_unavailable",
                    "the change could not be stored; nothing changed");
        return NGX_DECLINED;
    }

    if (rc != 1
        || change->action != NGX_ROOMS_UPDATE
        || change->patch->has_title || change->patch->has_audience
        || change->patch->has_admission || change->patch->has_max
        || change->patch->has_host_absent || !change->patch->has_locked)
    {
        rooms_error(&change->err, 403, "not_host",
                    "only the host can do this");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Stores room as action changed it (a rotation draws the new code here),
 * and commits: inside the transaction the caller began, without the
 * directory lock.  Returns what the directory is to publish, or
 * NGX_ERROR (logged).
 */
ngx_int_t
ngx_rooms_control_write(rooms_store_t *store, ngx_log_t *log,
    rooms_room_t *room, ngx_uint_t action)
{
    int   rc;
    char  new_code[ROOMS_CODE_LEN + 1];

    switch (action) {

    case NGX_ROOMS_UPDATE:
        rc = rooms_store_update(store, room);
        break;

    case NGX_ROOMS_END:
        rc = rooms_store_end(store, room, ngx_time());

        if (rc == ROOMS_STORE_OK) {
            ngx_rooms_control_room_event(store, NGX_ROOMS_EVENT_ROOM_ENDED,
                                         room);
        }

        break;

    default: /* NGX_ROOMS_ROTATE */
        if (rooms_token_code(new_code) != 0) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "rooms: the random source failed");
            return NGX_ERROR;
        }

        rc = rooms_store_rotate(store, room, new_code);
        break;
    }

    if (rc != ROOMS_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "rooms_store write failed: %s",
                      rooms_store_errmsg(store));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    if (ngx_rooms_control_commit(store, log) != NGX_OK) {
        return NGX_ERROR;
    }

    return action == NGX_ROOMS_ROTATE ? NGX_ROOMS_DIR_ROTATE
                                      : NGX_ROOMS_DIR_UPDATE;
}


/*
 * Tells the media worker what changed in room, for the people in it and
 * those waiting in its lobby: a ROOM record, always with the room's
 * revision ("rev").  what is ROOMS_MSG_ROOM_ENDED, or any of LOCKED,
 * ADMISSION, MAX and HOST_ABSENT (each sent as room has it now); either
 * may carry ROOMS_MSG_ROOM_REASON when a host-absent policy caused it.
 * Returns what ngx_rooms_media_push_room() returns.
 */
ngx_int_t
ngx_rooms_control_room(rooms_room_t *room, ngx_uint_t what, ngx_log_t *log)
{
    int               n;
    char              buf[256];
    rooms_msg_room_t  rec;

    ngx_memzero(&rec, sizeof(rooms_msg_room_t));
    rec.room = room->id;
    rec.rev = room->rev;
    rec.locked = room->locked;
    rec.knock = room->admission == ROOMS_ADMISSION_KNOCK;
    rec.max = (unsigned) room->max_participants;
    rec.host_absent = room->host_absent;

    rec.has = (unsigned) what;

    /* every field at once is under 200 bytes: 20 characters an int64 */
    n = rooms_msg_room_encode(&rec, buf, sizeof(buf));
    if (n < 0) {
        return NGX_ERROR;
    }

    return ngx_rooms_control_tell(room, (u_char *) buf, (size_t) n,
                                  (what & ROOMS_MSG_ROOM_ENDED)
                                  ? "was ended" : "changed", log);
}


/*
 * A ROOM record that makes the co-host whose guest token hashes to
 * token_hash a guest again (its credential was revoked): {"room","rev",
 * "demote"}.
 */
static ngx_int_t
ngx_rooms_control_demote(rooms_room_t *room, u_char *token_hash,
    ngx_log_t *log)
{
    int               n;
    char              buf[256];
    rooms_msg_room_t  rec;

    ngx_memzero(&rec, sizeof(rooms_msg_room_t));
    rec.room = room->id;
    rec.rev = room->rev;
    rec.has = ROOMS_MSG_ROOM_DEMOTE;
    rooms_token_hash_hex(token_hash, rec.demote);

    n = rooms_msg_room_encode(&rec, buf, sizeof(buf));
    if (n < 0) {
        return NGX_ERROR;
    }

    return ngx_rooms_control_tell(room, (u_char *) buf, (size_t) n,
                                  "lost a co-host", log);
}


/* Pushes a ROOM record; what says what it was about, for the log. */
static ngx_int_t
ngx_rooms_control_tell(rooms_room_t *room, u_char *json, size_t len,
    const char *what, ngx_log_t *log)
{
    ngx_int_t  rc;

    rc = ngx_rooms_media_push_room(room->id, ROOMS_PROTO_ROOM, json, len);

    switch (rc) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        /*
         * No link from this nginx worker (none is configured, or it is
         * down, which is logged already): nobody is told.  When it is
         * down, this worker's WebSockets were closed with 1012 anyway.
         */
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "rooms media: no link, room %L not told", room->id);
        break;

    default:
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rooms: the media worker could not be told that room "
                      "%L %s", room->id, what);
        break;
    }

    return rc;
}


/*
 * When the key cannot be drawn or stored, the participant stays co-host
 * without a key until it leaves (the caller's business), except that its
 * lock is refused (a co-host's lock is checked against the store), and it
 * rejoins as a guest.
 */
ngx_int_t
ngx_rooms_control_cohost_grant(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *token_hash, const char *name,
    char key[ROOMS_HOST_KEY_LEN + 1], u_char *key_hash)
{
    int64_t    id;
    ngx_int_t  rc;

    if (rooms_token_host_key(key) != 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "rooms: the random source failed; a co-host of room "
                      "%L gets no key", room_id);
        return NGX_ERROR;
    }

    rooms_token_hash((u_char *) key, ROOMS_HOST_KEY_LEN, key_hash);

    rc = ngx_rooms_control_begin(ngx_rooms_store_handle(), log);

    if (rc == NGX_OK
        && (rooms_store_cohost_add(ngx_rooms_store_handle(), room_id, key_hash,
                                   token_hash, name, ngx_time(), &id)
            != ROOMS_STORE_OK
            || rooms_store_commit(ngx_rooms_store_handle()) != ROOMS_STORE_OK))
    {
        rooms_store_rollback(ngx_rooms_store_handle());
        rc = NGX_ERROR;
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms_store co-host insert failed: %s; a co-host "
                      "of room %L gets no key",
                      rc == NGX_ROOMS_BUSY
                      ? "the store is locked by another process"
                      : rooms_store_errmsg(ngx_rooms_store_handle()), room_id);
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        ngx_explicit_memzero(key, ROOMS_HOST_KEY_LEN + 1);
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "rooms: a participant of room %L is co-host %L",
                  room_id, id);

    return NGX_OK;
}


void
ngx_rooms_control_cohost_demote(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *token_hash)
{
    ngx_int_t             rc;
    ngx_rooms_deferred_t  d;

    rc = ngx_rooms_control_store_demote(ngx_rooms_store_handle(), room_id, token_hash,
                                        (int64_t) ngx_time());

    if (rc == NGX_ROOMS_BUSY) {
        ngx_memzero(&d, sizeof(ngx_rooms_deferred_t));
        d.kind = NGX_ROOMS_DEFER_DEMOTE;
        d.room_id = room_id;
        d.time = (int64_t) ngx_time();
        ngx_memcpy(d.token_hash, token_hash, ROOMS_HASH_LEN);

        ngx_rooms_deferred_add(&d);
        return;
    }

    if (rc != NGX_OK) {
        /* the key would work at the next join: loud */
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms_store co-host revocation failed: %s; "
                      "room %L", rooms_store_errmsg(ngx_rooms_store_handle()), room_id);
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "rooms: a co-host of room %L is a guest again", room_id);
}


ngx_int_t
ngx_rooms_control_cohost_key(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *key_hash, u_char *bound)
{
    int  rc;

    rc = rooms_store_cohost_check(ngx_rooms_store_handle(), room_id, key_hash, bound);

    if (rc == ROOMS_STORE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms_store co-host lookup failed: %s",
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    return rc == 1;
}


/* Bans are not cached in the directory: the store is asked each time. */
ngx_int_t
ngx_rooms_control_banned(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *token_hash)
{
    int  banned;

    /* a ban not stored yet holds all the same, in this process */
    if (ngx_rooms_deferred_banned(room_id, token_hash)) {
        return 1;
    }

    banned = rooms_store_is_banned(ngx_rooms_store_handle(), room_id, token_hash);

    if (banned == ROOMS_STORE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms_store ban lookup failed: %s",
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    return banned ? 1 : 0;
}


ngx_int_t
ngx_rooms_control_cohosts(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, rooms_cohost_t *cohosts, unsigned max, unsigned *n)
{
    if (rooms_store_cohost_list(ngx_rooms_store_handle(), room_id, cohosts, max, n)
        != ROOMS_STORE_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms_store co-host list failed: %s",
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Takes the store's write lock for a change, never under the directory
 * lock (no store call is made under a zone mutex, so nobody waits for the
 * store while holding the mutex every directory read needs).  It waits
 * ROOMS_STORE_WAIT_MS at most, and once that was not enough (another
 * program holds the lock), for the next second it does not wait at all:
 * each write only tries, so a flood of writes against a locked store
 * stalls this worker's event loop for one wait a second, not one each.
 * NGX_OK (the caller commits or rolls back), NGX_ROOMS_BUSY or NGX_ERROR
 * (logged).
 */
ngx_int_t
ngx_rooms_control_begin(rooms_store_t *store, ngx_log_t *log)
{
    static ngx_msec_t  locked_until;

    ngx_msec_int_t     wait;

    wait = (ngx_msec_int_t) (locked_until - ngx_current_msec) > 0
           ? 0 : ROOMS_STORE_WAIT_MS;

    switch (rooms_store_begin(store, (int) wait)) {

    case ROOMS_STORE_OK:
        locked_until = ngx_current_msec;
        return NGX_OK;

    case ROOMS_STORE_BUSY:
        if (wait) {
            ngx_time_update();
            locked_until = ngx_current_msec + 1000;
        }

        ngx_rooms_control_busy(log, "a change was refused");
        return NGX_ROOMS_BUSY;

    default:
        ngx_log_error(NGX_LOG_ERR, log, 0, "rooms_store write failed: %s",
                      rooms_store_errmsg(store));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }
}


/* Commits the caller's transaction: NGX_OK, or NGX_ERROR (logged). */
static ngx_int_t
ngx_rooms_control_commit(rooms_store_t *store, ngx_log_t *log)
{
    if (rooms_store_commit(store) != ROOMS_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "rooms_store write failed: %s",
                      rooms_store_errmsg(store));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Logs that another process holds the store's write lock: once a second
 * at most, with how many writes met it since the last line.
 */
static void
ngx_rooms_control_busy(ngx_log_t *log, const char *what)
{
    static time_t      last;
    static ngx_uint_t  n;

    n++;

    if (ngx_time() == last) {
        return;
    }

    last = ngx_time();

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "rooms_store is locked by another process (held over "
                  "%d ms): %s; %ui writes met the lock since the last "
                  "such line", ROOMS_STORE_WAIT_MS, what, n);
    n = 0;
}


/* A ban: NGX_OK, NGX_ROOMS_BUSY or NGX_ERROR. */
ngx_int_t
ngx_rooms_control_store_ban(rooms_store_t *store, int64_t room_id,
    u_char *token_hash)
{
    ngx_int_t  rc;

    rc = ngx_rooms_control_begin(store, ngx_cycle->log);
    if (rc != NGX_OK) {
        return rc;
    }

    if (rooms_store_ban(store, room_id, token_hash) != ROOMS_STORE_OK
        || rooms_store_commit(store) != ROOMS_STORE_OK)
    {
        rooms_store_rollback(store);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* A demotion: NGX_OK, NGX_ROOMS_BUSY or NGX_ERROR. */
static ngx_int_t
ngx_rooms_control_store_demote(rooms_store_t *store, int64_t room_id,
    u_char *token_hash, int64_t now)
{
    ngx_int_t  rc;

    rc = ngx_rooms_control_begin(store, ngx_cycle->log);
    if (rc != NGX_OK) {
        return rc;
    }

    if (rooms_store_cohost_revoke_token(store, room_id, token_hash, now)
        != ROOMS_STORE_OK
        || rooms_store_commit(store) != ROOMS_STORE_OK)
    {
        rooms_store_rollback(store);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Makes a write ngx_rooms_deferred.c kept: NGX_ROOMS_BUSY, NGX_OK or
 * NGX_ERROR (logged).
 */
static ngx_int_t
ngx_rooms_control_deferred(ngx_rooms_deferred_t *d)
{
    ngx_int_t               rc;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_rooms_control_conf();

    if (rmcf == NULL) {
        return NGX_ERROR;
    }

    switch (d->kind) {

    case NGX_ROOMS_DEFER_BAN:
        rc = ngx_rooms_control_store_ban(ngx_rooms_store_handle(), d->room_id,
                                         d->token_hash);
        break;

    case NGX_ROOMS_DEFER_DEMOTE:
        rc = ngx_rooms_control_store_demote(ngx_rooms_store_handle(), d->room_id,
                                            d->token_hash, d->time);
        break;

    case NGX_ROOMS_DEFER_EVENT:
        rc = ngx_rooms_control_outbox_now(ngx_rooms_store_handle(), d->event,
                                          d->event_len);
        if (rc == NGX_ERROR) {
            ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_DROPPED, 1);
        }

        return rc;

    default: /* NGX_ROOMS_DEFER_ABSENT: it logs its own failure */
        return ngx_rooms_control_absent(rmcf, d->room_id, d->code, d->end);
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms_store: a kept %s of room %L failed: %s",
                      d->kind == NGX_ROOMS_DEFER_BAN ? "ban" : "demotion",
                      d->room_id, rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
    }

    return rc;
}


/* The directory this process serves, or NULL when it has none. */
ngx_rooms_main_conf_t *
ngx_rooms_control_conf(void)
{
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    if (rmcf == NULL || rmcf->shm_zone == NULL || rmcf->store == NULL) {
        return NULL;
    }

    return rmcf;
}


/*
 * room.created and room.ended: in the transaction that creates or ends the
 * room, so the event is stored exactly when the change is.  A failure to
 * store the event does not undo the change (logged, counted as dropped).
 */
static void
ngx_rooms_control_room_event(rooms_store_t *store, ngx_rooms_event_e type,
    rooms_room_t *room)
{
    size_t                  len;
    u_char                  body[NGX_ROOMS_WEBHOOK_BODY_MAX];
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    if (rmcf == NULL || rmcf->webhook == NULL) {
        return;
    }

    len = ngx_rooms_webhook_body(body, type, room->id, (u_char *) room->code,
                                 NULL);

    if (len == 0 || ngx_rooms_control_outbox(store, body, len) != NGX_OK) {
        ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_DROPPED, 1);
    }
}


void
ngx_rooms_control_event(ngx_rooms_main_conf_t *rmcf, ngx_rooms_event_e type,
    int64_t room_id, const u_char *code, ngx_rooms_event_who_t *who)
{
    ngx_rooms_deferred_t  d, *dp;

    if (rmcf == NULL || rmcf->webhook == NULL || rmcf->store == NULL) {
        return;
    }

    ngx_memzero(&d, offsetof(ngx_rooms_deferred_t, event));

    d.event_len = ngx_rooms_webhook_body(d.event, type, room_id, code, who);

    if (d.event_len == 0) {
        ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_DROPPED, 1);
        return;
    }

    /*
     * Code that cannot wait (a WebSocket's cleanup: participant.left)
     * hands the write to a fiber of its own.
     */
    if (!ngx_rooms_fiber_can_wait()) {
        dp = ngx_alloc(sizeof(ngx_rooms_deferred_t), ngx_cycle->log);

        if (dp != NULL) {
            ngx_memcpy(dp, &d, sizeof(ngx_rooms_deferred_t));
            dp->room_id = room_id;

            if (ngx_rooms_fiber_spawn(ngx_rooms_control_event_write, dp,
                                      ngx_free)
                == NGX_OK)
            {
                return;
            }

            ngx_free(dp);
        }
    }

    d.room_id = room_id;
    ngx_rooms_control_event_write(&d);
}


/* An event's write: at once, or kept while the store is locked. */
static void
ngx_rooms_control_event_write(void *data)
{
    ngx_rooms_deferred_t  *d = data;

    ngx_int_t  rc;

    /* after the ones kept already: a participant's leave after its join */
    rc = ngx_rooms_deferred_events()
         ? NGX_ROOMS_BUSY
         : ngx_rooms_control_outbox_now(ngx_rooms_store_handle(), d->event,
                                        d->event_len);

    if (rc == NGX_ROOMS_BUSY) {
        d->kind = NGX_ROOMS_DEFER_EVENT;
        ngx_rooms_deferred_add(d);

    } else if (rc == NGX_ERROR) {
        ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_DROPPED, 1);
    }
}


/*
 * One event into the outbox, in the caller's transaction or its own:
 * NGX_OK, NGX_ROOMS_BUSY (its own found the store locked) or NGX_ERROR
 * (logged).  The events a full outbox drops are counted and logged here.
 */
static ngx_int_t
ngx_rooms_control_outbox(rooms_store_t *store, u_char *body, size_t len)
{
    unsigned  dropped;

    switch (rooms_store_outbox_add(store, body, len, (int64_t) ngx_time(),
                                   NGX_ROOMS_WEBHOOK_OUTBOX_MAX, &dropped))
    {
    case ROOMS_STORE_OK:
        break;

    case ROOMS_STORE_BUSY:
        return NGX_ROOMS_BUSY;

    default:
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms_webhook: an event could not be stored: %s",
                      rooms_store_errmsg(store));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    if (dropped) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "rooms_webhook: the outbox holds %d events, the most "
                      "it keeps: the %ud oldest were dropped (is the "
                      "receiver down?)", NGX_ROOMS_WEBHOOK_OUTBOX_MAX,
                      dropped);
        ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_DROPPED, dropped);
    }

    return NGX_OK;
}


/*
 * One event into the outbox in a transaction of its own, waiting for the
 * lock at most ROOMS_STORE_WAIT_MS as every change does (another nginx
 * worker's write is that short; a longer lock is another program's, and
 * the deferred writes wait it out): NGX_OK, NGX_ROOMS_BUSY or NGX_ERROR
 * (logged).
 */
static ngx_int_t
ngx_rooms_control_outbox_now(rooms_store_t *store, u_char *body, size_t len)
{
    ngx_int_t  rc;

    switch (rooms_store_begin(store, ROOMS_STORE_WAIT_MS)) {

    case ROOMS_STORE_OK:
        break;

    case ROOMS_STORE_BUSY:
        return NGX_ROOMS_BUSY;

    default:
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms_webhook: the store cannot be written: %s",
                      rooms_store_errmsg(store));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    rc = ngx_rooms_control_outbox(store, body, len);

    if (rc == NGX_OK) {
        rc = ngx_rooms_control_commit(store, ngx_cycle->log);
    }

    rooms_store_rollback(store);

    return rc;
}


ngx_int_t
ngx_rooms_control_webhook_delivered(ngx_rooms_main_conf_t *rmcf, int64_t id)
{
    switch (rooms_store_outbox_remove(ngx_rooms_store_handle(), id)) {

    case ROOMS_STORE_OK:
        return NGX_OK;

    case ROOMS_STORE_BUSY:
        return NGX_ROOMS_BUSY;

    default:
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms_webhook: delivered event %L could not be "
                      "removed from the outbox: %s", id,
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }
}


ngx_int_t
ngx_rooms_control_absent(ngx_rooms_main_conf_t *rmcf, int64_t room_id,
    char *code, ngx_uint_t end)
{
    char                    current[ROOMS_CODE_LEN + 1];
    ngx_int_t               rc;
    ngx_log_t              *log;
    rooms_room_t            r;
    ngx_rooms_absent_t      ha;

    log = ngx_cycle->log;

    ha.room_id = room_id;
    ha.policy = end ? ROOMS_HOST_ABSENT_END : ROOMS_HOST_ABSENT_LOCK;
    ha.done = 0;
    ha.store = ngx_rooms_store_handle();

    rc = NGX_ROOMS_GONE;

    if (code[0] != '\0') {
        rc = ngx_rooms_control_absent_change(rmcf, (u_char *) code, &ha,
                                             &r);
    }

    if (rc == NGX_ROOMS_GONE) {
        /* a rotation since the room's latest join: its code now, by id */

        switch (rooms_store_code(ngx_rooms_store_handle(), ha.room_id, current)) {

        case ROOMS_STORE_OK:
            rc = ngx_rooms_control_absent_change(rmcf, (u_char *) current,
                                                 &ha, &r);
            break;

        case ROOMS_STORE_NOT_FOUND:
            rc = NGX_DECLINED;
            break;

        default:
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "rooms_store lookup failed: %s",
                          rooms_store_errmsg(ngx_rooms_store_handle()));
            ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
            rc = NGX_ERROR;
            break;
        }
    }

    if (rc == NGX_ROOMS_BUSY) {
        return rc;
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms: the host-absent policy of room %L could not "
                      "be applied", ha.room_id);
        return rc;
    }

    if (rc != NGX_OK) {
        /* the room is no longer in the store */
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "rooms: the last host left room %L, which is gone",
                      ha.room_id);
        return rc;
    }

    if (ha.done == 0) {
        ngx_log_error(NGX_LOG_INFO, log, 0,
                      "rooms: the last host left room %L, which is ended, "
                      "locked already or no longer of policy \"%s\": "
                      "nothing changed", ha.room_id,
                      rooms_host_absent_name(ha.policy));
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "rooms: the last host left room %L, which is %s now "
                  "(host_absent)", ha.room_id,
                  ha.done == NGX_ROOMS_END ? "ended" : "locked");

    (void) ngx_rooms_control_room(&r, (ha.done == NGX_ROOMS_END
                                       ? ROOMS_MSG_ROOM_ENDED
                                       : ROOMS_MSG_ROOM_LOCKED)
                                      | ROOMS_MSG_ROOM_REASON, log);

    return NGX_OK;
}


/* ngx_rooms_dir_change() of the room whose current code is code */
static ngx_int_t
ngx_rooms_control_absent_change(ngx_rooms_main_conf_t *rmcf, u_char *code,
    ngx_rooms_absent_t *ha, rooms_room_t *room)
{
    ngx_int_t  rc;

    rc = ngx_rooms_control_begin(ngx_rooms_store_handle(), ngx_cycle->log);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_rooms_dir_change(rmcf, ngx_cycle->log, code,
                              ngx_rooms_control_absent_apply, ha, room);

    rooms_store_rollback(ngx_rooms_store_handle());

    if (rc == NGX_OK && room->id != ha->room_id) {
        /* codes are never reused: a worker's mistake, not a room */
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms: a HOST_ABSENT record names room %L by the "
                      "code of room %L; dropped", ha->room_id, room->id);
        return NGX_DECLINED;
    }

    return rc;
}


/*
 * Runs under the store's write lock, without the directory lock, on a
 * copy of the record the store gave under it (ngx_rooms_dir_change()).
 */
static ngx_int_t
ngx_rooms_control_absent_apply(rooms_room_t *room, void *data)
{
    ngx_rooms_absent_t  *ha = data;

    ngx_int_t            rc;

    ha->done = 0;

    if (room->id != ha->room_id
        || room->ended_at != 0
        || room->host_absent != ha->policy)
    {
        return NGX_ROOMS_DIR_KEEP;
    }

    if (ha->policy == ROOMS_HOST_ABSENT_END) {
        rc = ngx_rooms_control_write(ha->store, ngx_cycle->log, room,
                                     NGX_ROOMS_END);
        ha->done = (rc == NGX_ERROR) ? 0 : NGX_ROOMS_END;
        return rc;
    }

    if (room->locked) {
        return NGX_ROOMS_DIR_KEEP;
    }

    room->locked = 1;

    rc = ngx_rooms_control_write(ha->store, ngx_cycle->log, room,
                                 NGX_ROOMS_UPDATE);
    ha->done = (rc == NGX_ERROR) ? 0 : NGX_ROOMS_UPDATE;

    return rc;
}
