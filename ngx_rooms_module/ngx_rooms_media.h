
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
 * link that was up is lost.  NGX_ERROR (logged) for a second handler of a
 * type, or too many link-down handlers.
 */
ngx_int_t ngx_rooms_media_on_record(ngx_conf_t *cf, ngx_uint_t type,
    ngx_rooms_record_pt handler);
ngx_int_t ngx_rooms_media_on_link_down(ngx_conf_t *cf,
    ngx_rooms_link_down_pt handler);

/*
 * One link per nginx worker process.  path is the control socket; a NULL
 * path leaves the link off, so that joins are refused.
 */
ngx_int_t ngx_rooms_media_init_process(ngx_cycle_t *cycle, ngx_str_t *path);
void ngx_rooms_media_exit_process(ngx_cycle_t *cycle);

/* A fresh connection id, or 0 while the link is down. */
uint64_t ngx_rooms_media_conn_id(void);

/*
 * Queues a record for the media worker and rings its doorbell.  Returns
 * NGX_OK; NGX_DECLINED when the link is down (or id belongs to an earlier
 * link); NGX_BUSY when the ring is full (never blocks); NGX_ERROR when the
 * record can never fit.
 */
ngx_int_t ngx_rooms_media_push(uint16_t type, uint64_t id,
    const void *payload, size_t len);

/* Tells the media worker that id's WebSocket is gone; retried if full. */
void ngx_rooms_media_leave(uint64_t id);


#endif /* _NGX_ROOMS_MEDIA_H_INCLUDED_ */
