
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_directory.h: the room directory in the shared zone
 * (ngx_rooms_directory.c), for the files that read rooms (router, API,
 * signaling) and the one that changes them (ngx_rooms_control.c).
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_DIRECTORY_H_INCLUDED_
#define _NGX_ROOMS_DIRECTORY_H_INCLUDED_


#include "ngx_rooms.h"


/*
 * What a change callback has done, for the directory to publish: values
 * apart from the results in ngx_rooms.h, so that a refusal can never be
 * read as one.
 */
#define NGX_ROOMS_DIR_KEEP    16     /* nothing changed */
#define NGX_ROOMS_DIR_UPDATE  17     /* the record changed */
#define NGX_ROOMS_DIR_ROTATE  18     /* ... and has a new code */


/*
 * The caller of ngx_rooms_dir_add(), ngx_rooms_dir_change() and
 * ngx_rooms_dir_purge() has taken the store's write lock before
 * (ngx_rooms_control_begin()): that lock serialises the changes of every
 * process and node.  The zone mutex is never held across a callback (no
 * store call under it, ngx_rooms_shm.h).  A change callback runs on a copy
 * of the record the store gave under that write lock.  It stores what it
 * changes (ngx_rooms_control.c is the one file that writes the store),
 * commits, and returns NGX_ROOMS_DIR_KEEP, UPDATE or ROTATE for the
 * directory to publish; NGX_ROOMS_REFUSED (having noted why in data); or
 * NGX_ERROR when the store failed (logged).  It must not read or write
 * the directory's shared memory: it works on the copy only.
 */
typedef ngx_int_t (*ngx_rooms_change_pt)(rooms_room_t *room, void *data);


ngx_int_t ngx_rooms_zone_init(ngx_shm_zone_t *shm_zone, void *data);

/*
 * Fills room with the record whose current code is code (ROOMS_CODE_LEN
 * bytes), read from the store on a miss.  Returns NGX_OK, NGX_DECLINED,
 * NGX_ROOMS_GONE or NGX_ERROR.
 */
ngx_int_t ngx_rooms_dir_get(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    u_char *code, rooms_room_t *room);

/*
 * A new room (code, key hash and fields set): store() stores it (NGX_OK,
 * or NGX_ERROR when it could not), and then it is cached.  Returns what
 * store() returned.
 */
ngx_int_t ngx_rooms_dir_add(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    rooms_room_t *room, ngx_rooms_change_pt store, void *data);

/*
 * Runs handler on a copy of the current record, read from the store (a
 * "gone" node answers at once), and publishes what it stored: the store
 * first, then shared memory, so no worker ever sees a change that is not
 * durable.  room receives the record as the change left it, with the
 * live count.  Returns NGX_OK, NGX_DECLINED, NGX_ROOMS_GONE,
 * NGX_ROOMS_REFUSED or NGX_ERROR (the store could not be read or
 * written).
 */
ngx_int_t ngx_rooms_dir_change(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    u_char *code, ngx_rooms_change_pt handler, void *data,
    rooms_room_t *room);

/*
 * A COUNT record: the room with store id room_id has count people now,
 * as of the media worker's seq.  code (len bytes) is the code the media
 * worker knows it by; when a rotation retired it, the current one is
 * read from the store by id.  A room that is not cached is loaded like
 * any lookup, so the count is never lost to an eviction (and a room with
 * people in it is never evicted).  A count set by a higher seq stays
 * (NGX_ABORT: this one is stale).  Returns NGX_OK,
 * NGX_ABORT, NGX_DECLINED (no such room, or no place in the zone) or
 * NGX_ERROR.  *opened is 1 when this record took the room from nobody to
 * somebody: of all nginx workers that read the same record, only the one
 * that set it first.
 */
ngx_int_t ngx_rooms_dir_count(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *code, size_t len, ngx_uint_t count,
    int64_t seq, ngx_uint_t *opened);

/*
 * Expiry: purge() deletes rooms from the store (ngx_rooms_control.c) and
 * returns how many, or NGX_ERROR.  When any went, every cached room
 * nobody is in is then dropped from the zone (the store is the truth: the
 * rest is read again on the next miss), so no worker serves a purged
 * room.  Returns what purge() returned.
 */
typedef ngx_int_t (*ngx_rooms_purge_pt)(void *data);

ngx_int_t ngx_rooms_dir_purge(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    ngx_rooms_purge_pt purge, void *data);

/*
 * For the metrics: how many cached rooms have people in them, and how
 * many people in all (rooms with people are never evicted, so both are
 * whole).  Holds the zone mutex while it walks the cache.
 */
void ngx_rooms_dir_totals(ngx_rooms_main_conf_t *rmcf, ngx_uint_t *rooms,
    ngx_uint_t *people);

/*
 * Every cached room of media worker worker (rooms_shard_pick() among
 * workers; every room when workers is 0 or 1) whose count was set by a
 * seq up to seq has 0 people, and a count of a lower seq read later is
 * stale: a RESYNC record of that media worker (the counts it sent since
 * are the truth), or this process's link to it lost (seq: the highest
 * this process read from it; a count another process read since, of a
 * newer media worker perhaps, stays).  Another media worker's rooms are
 * left alone: their counts have a seq of their own.
 */
void ngx_rooms_dir_counts_reset(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, int64_t seq, ngx_uint_t worker, ngx_uint_t workers);


/*
 * The pid of the worker that delivers webhooks (0: none), in the zone, so
 * that it outlives a reload: the new worker 0 starts sending only once the
 * old one, which may be finishing a delivery, is gone.
 */
ngx_atomic_t *ngx_rooms_dir_webhook_sender(ngx_rooms_main_conf_t *rmcf);


/*
 * Whether this nginx worker closes because of a reload or because its
 * node stops (docs/scaling.md, "Draining a node"): nginx sends both the
 * same signal.  A reload's configuration takes the zone over in the
 * master before the old workers are told, and each such takeover counts
 * in the zone; ngx_rooms_dir_init_process() notes the count a worker
 * starts with.  ngx_rooms_dir_superseded() is 1 when a newer
 * configuration runs beside this closing worker (a reload: its browsers
 * resume on the new workers of this node), 0 when none does (nginx -s
 * quit: they go to another node).  A reload that resizes the zone makes
 * a new one and counts as a stop: the browsers join again from scratch.
 */
void ngx_rooms_dir_init_process(ngx_rooms_main_conf_t *rmcf);
ngx_uint_t ngx_rooms_dir_superseded(ngx_rooms_main_conf_t *rmcf);


#endif /* _NGX_ROOMS_DIRECTORY_H_INCLUDED_ */
