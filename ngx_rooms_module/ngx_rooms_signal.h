
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_signal.h: WebSocket signaling (ngx_rooms_signal.c), for the
 * router and the lifecycle.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_store.h
 */


#ifndef _NGX_ROOMS_SIGNAL_H_INCLUDED_
#define _NGX_ROOMS_SIGNAL_H_INCLUDED_


#include "ngx_rooms.h"


/*
 * At postconfiguration: registers the handlers of the media worker's
 * SIGNAL, CLOSE and ROLE records and of the link's loss.
 */
ngx_int_t ngx_rooms_signal_init(ngx_conf_t *cf);

/*
 * The WebSocket endpoint of a room that exists.  Returns what the content
 * handler returns (NGX_DONE once the connection is upgraded), or
 * NGX_DECLINED with err set when the handshake is refused: the caller
 * sends err as the API's other errors.
 */
ngx_int_t ngx_rooms_signal_handler(ngx_http_request_t *r,
    rooms_room_t *room, rooms_error_t *err);


#endif /* _NGX_ROOMS_SIGNAL_H_INCLUDED_ */
