
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_pages.h: the HTML pages and the embedded web client
 * (ngx_rooms_pages.c), for the router; and the table of embedded files,
 * which web/embed.sh generates at ./configure time.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_store.h
 */


#ifndef _NGX_ROOMS_PAGES_H_INCLUDED_
#define _NGX_ROOMS_PAGES_H_INCLUDED_


#include "ngx_rooms.h"


/* a file of the web client, embedded at ./configure time */
typedef struct {
    ngx_str_t                    name;
    ngx_str_t                    type;
    ngx_str_t                    body;
} ngx_rooms_asset_t;


/* ends with a null name; generated (objs/ngx_rooms_assets.c) */
extern ngx_rooms_asset_t  ngx_rooms_assets[];


/* Each returns what the content handler returns. */
ngx_int_t ngx_rooms_page_index(ngx_http_request_t *r);
ngx_int_t ngx_rooms_page_room(ngx_http_request_t *r, ngx_uint_t status,
    rooms_room_t *room);
ngx_int_t ngx_rooms_page_asset(ngx_http_request_t *r, ngx_str_t *name);
ngx_int_t ngx_rooms_page_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, const char *text);


#endif /* _NGX_ROOMS_PAGES_H_INCLUDED_ */
