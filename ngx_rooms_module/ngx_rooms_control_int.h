
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_control_int.h: the control subsystem's private helpers
 * (ngx_rooms_control.c), for ngx_rooms_records.c and no other file: the
 * store's write lock, a room's write and its ROOM record, a ban's write.
 * Each is described where it is defined.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_CONTROL_INT_H_INCLUDED_
#define _NGX_ROOMS_CONTROL_INT_H_INCLUDED_


#include "ngx_rooms_control.h"


ngx_rooms_main_conf_t *ngx_rooms_control_conf(void);
ngx_int_t ngx_rooms_control_begin(rooms_store_t *store, ngx_log_t *log);
ngx_int_t ngx_rooms_control_write(rooms_store_t *store, ngx_log_t *log,
    rooms_room_t *room, ngx_uint_t action);
ngx_int_t ngx_rooms_control_room(rooms_room_t *room, ngx_uint_t what,
    ngx_log_t *log);
ngx_int_t ngx_rooms_control_store_ban(rooms_store_t *store, int64_t room_id,
    u_char *token_hash);

/*
 * Applies the host-absent policy (end or lock) to the room with store id
 * room_id, known by code (empty or retired: its current one is read by
 * id), and tells the people in it.  NGX_ROOMS_BUSY when the store is
 * locked (nothing changed); anything else is done or logged.
 */
ngx_int_t ngx_rooms_control_absent(ngx_rooms_main_conf_t *rmcf,
    int64_t room_id, char *code, ngx_uint_t end);


#endif /* _NGX_ROOMS_CONTROL_INT_H_INCLUDED_ */
