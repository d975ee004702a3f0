
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_tray.h: the tray of rooms open to you (ngx_rooms_tray.c):
 * GET api/tray, its live WebSocket api/tray/ws, and api/people.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_TRAY_H_INCLUDED_
#define _NGX_ROOMS_TRAY_H_INCLUDED_


#include "ngx_rooms.h"


/*
 * Each returns what the content handler returns; the method is checked,
 * the body discarded.  id: the person api/people/<id> names, or NULL for
 * every person (DELETE api/people).
 */
ngx_int_t ngx_rooms_tray_get(ngx_http_request_t *r);
ngx_int_t ngx_rooms_tray_ws(ngx_http_request_t *r);
ngx_int_t ngx_rooms_tray_people(ngx_http_request_t *r, ngx_str_t *id);

/* init_process and exit_process: the live trays' timer */
void ngx_rooms_tray_init_process(ngx_cycle_t *cycle);
void ngx_rooms_tray_exit_process(void);


#endif /* _NGX_ROOMS_TRAY_H_INCLUDED_ */
