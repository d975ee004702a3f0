
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
 * At postconfiguration: registers the
 * handlers of the BAN, COUNT, RESYNC and HOST_ABSENT records and of the
 * link's loss with the media link.  NGX_ERROR when one cannot be.
 */
ngx_int_t ngx_rooms_records_init(ngx_conf_t *cf);


#endif /* _NGX_ROOMS_RECORDS_H_INCLUDED_ */
