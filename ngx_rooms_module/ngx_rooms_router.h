
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

/*
 * Installs the filters that give the API's addresses JSON where nginx
 * would answer its own HTML 413 (client_max_body_size) or 429
 * (limit_req with limit_req_status 429); at postconfiguration.
 */
ngx_int_t ngx_rooms_router_init_filters(ngx_conf_t *cf);


#endif /* _NGX_ROOMS_ROUTER_H_INCLUDED_ */
