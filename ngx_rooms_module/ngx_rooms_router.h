
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_router.h: the content handler of "rooms" locations
 * (ngx_rooms_router.c), set by the "rooms" directive.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_store.h
 */


#ifndef _NGX_ROOMS_ROUTER_H_INCLUDED_
#define _NGX_ROOMS_ROUTER_H_INCLUDED_


#include "ngx_rooms.h"


ngx_int_t ngx_rooms_router_handler(ngx_http_request_t *r);


#endif /* _NGX_ROOMS_ROUTER_H_INCLUDED_ */
