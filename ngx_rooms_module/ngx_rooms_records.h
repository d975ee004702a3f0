
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_records.h: the handlers of the room records the media worker
 * sends (ngx_rooms_records.c), for ngx_rooms_control.c, which registers
 * them and makes the host-absent policies ngx_rooms_deferred.c kept.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_RECORDS_H_INCLUDED_
#define _NGX_ROOMS_RECORDS_H_INCLUDED_


#include "ngx_rooms.h"


/*
 * At postconfiguration (through ngx_rooms_control_init()): registers the
 * handlers of the BAN, COUNT, RESYNC and HOST_ABSENT records and of the
 * link's loss with the media link.  NGX_ERROR when one cannot be.
 */
ngx_int_t ngx_rooms_records_init(ngx_conf_t *cf);

/*
 * Applies the host-absent policy (end or lock) to the room with store id
 * room_id, known by code (empty or retired: its current one is read by
 * id), and tells the people in it.  NGX_ROOMS_BUSY when the store is
 * locked (nothing changed); anything else is done or logged.
 */
ngx_int_t ngx_rooms_records_absent(ngx_rooms_main_conf_t *rmcf,
    int64_t room_id, char *code, ngx_uint_t end);


#endif /* _NGX_ROOMS_RECORDS_H_INCLUDED_ */
