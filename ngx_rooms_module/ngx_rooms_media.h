
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_media.h: this nginx worker's link to the media worker
 * (ngx_rooms_media.c): its lifecycle, connection ids, pushing records,
 * and the registration of the handlers it hands records to.
 *
 * May not: include jansson.h, include rooms_store.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_MEDIA_H_INCLUDED_
#define _NGX_ROOMS_MEDIA_H_INCLUDED_


#include "ngx_rooms.h"


/*
 * At postconfiguration: handler gets every record of type from the media
 * worker (one handler per type), and every handler registered with
 * ngx_rooms_media_on_link_down() runs, in the order registered, when a
 * link that was up is lost, with the index of that media worker and how
 * many there are (only that one's rooms are down).  NGX_ERROR (logged) for a second handler of a
 * type, or too many link-down handlers.
 */
ngx_int_t ngx_rooms_media_on_record(ngx_conf_t *cf, ngx_uint_t type,
    ngx_rooms_record_pt handler);
ngx_int_t ngx_rooms_media_on_link_down(ngx_conf_t *cf,
    ngx_rooms_link_down_pt handler);

/*
 * One link per nginx worker process and media worker.  path is the
 * control socket of media worker 0 (the others' are "<path>.<i>"); a
 * NULL path leaves the links off, so that joins are refused.
 */
ngx_int_t ngx_rooms_media_init_process(ngx_cycle_t *cycle, ngx_str_t *path);
void ngx_rooms_media_exit_process(ngx_cycle_t *cycle);

/*
 * A fresh connection id for a WebSocket of the room of store id room,
 * which lives on media worker rooms_shard_pick(room, n) of the n the
 * host runs (common/rooms_shard.h); 0 while that media worker's link is
 * down (or none has said yet how many there are).  The id names that
 * media worker (ngx_rooms_media_worker_of()), so that every record about
 * the connection goes to it.
 */
uint64_t ngx_rooms_media_conn_id(int64_t room);

/* The media worker a connection id of ngx_rooms_media_conn_id() names. */
ngx_uint_t ngx_rooms_media_worker_of(uint64_t id);

/*
 * The mask of a connection id that names its media worker: the ids of
 * media worker w are those with (id & mask) == ngx_rooms_media_id_bits(w).
 */
#define NGX_ROOMS_MEDIA_ID_MASK      (0xffULL << 40)
#define ngx_rooms_media_id_bits(w)   ((uint64_t) (w) << 40)

/* How many media workers the host runs, as the last welcome said (0). */
ngx_uint_t ngx_rooms_media_workers(void);

/*
 * Inside a record handler: the media worker that sent the record (the
 * counts and STATS of each are its own).
 */
ngx_uint_t ngx_rooms_media_source(void);

/*
 * Queues a record about connection id (from ngx_rooms_media_conn_id())
 * for its media worker and rings its doorbell.  Returns NGX_OK;
 * NGX_DECLINED when the link is down (or id belongs to an earlier link);
 * NGX_BUSY when the ring is full (never blocks); NGX_ERROR when the
 * record can never fit.
 */
ngx_int_t ngx_rooms_media_push(uint16_t type, uint64_t id,
    const void *payload, size_t len);

/* The same for a record about a room (id 0): to the room's media worker. */
ngx_int_t ngx_rooms_media_push_room(int64_t room, uint16_t type,
    const void *payload, size_t len);

/* Tells the media worker that id's WebSocket is gone; retried if full. */
void ngx_rooms_media_leave(uint64_t id);


#endif /* _NGX_ROOMS_MEDIA_H_INCLUDED_ */
