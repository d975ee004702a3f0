
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_api.h: the JSON API (ngx_rooms_api.c), one entry point per
 * endpoint, for the router; and its error answers, for the router's own
 * refusals.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_API_H_INCLUDED_
#define _NGX_ROOMS_API_H_INCLUDED_


#include "ngx_rooms.h"


/* the actions that take a body: ngx_rooms_api_action() */
#define NGX_ROOMS_API_CREATE  1      /* POST api/rooms, code NULL */
#define NGX_ROOMS_API_PATCH   2      /* PATCH api/rooms/<code> */
#define NGX_ROOMS_API_ROTATE  3      /* POST api/rooms/<code>/invite */
#define NGX_ROOMS_API_END     4      /* DELETE api/rooms/<code> */


/*
 * Each returns what the content handler returns.  code is a well-formed
 * room code (ROOMS_CODE_LEN bytes); the method has been checked, and the
 * body discarded for all but ngx_rooms_api_action(), which reads it.
 */
ngx_int_t ngx_rooms_api_action(ngx_http_request_t *r, ngx_uint_t op,
    u_char *code);
ngx_int_t ngx_rooms_api_get(ngx_http_request_t *r, u_char *code);
ngx_int_t ngx_rooms_api_cohost_list(ngx_http_request_t *r, u_char *code);
ngx_int_t ngx_rooms_api_cohost_revoke(ngx_http_request_t *r, u_char *code,
    ngx_str_t *id);

/*
 * API errors ({"error":{"code","message"}}): err as it is; status, code
 * and message; 405 with the Allow header (it discards the body); and the
 * answer to a directory lookup that found no live room (rc is what
 * ngx_rooms_dir_get() returned: 404, 410 or 503).
 */
ngx_int_t ngx_rooms_api_error(ngx_http_request_t *r, rooms_error_t *err);

/*
 * nginx refused an API request with its own 413 or 429 page: in the
 * header filter, ngx_rooms_api_error_page() makes the headers the API's
 * JSON error (NGX_OK, or NGX_ERROR); in the body filter,
 * ngx_rooms_api_error_page_body() gives the JSON body the first time and
 * NULL after, with *drop set when nginx's page must be dropped.
 */
ngx_int_t ngx_rooms_api_error_page(ngx_http_request_t *r);
ngx_chain_t *ngx_rooms_api_error_page_body(ngx_http_request_t *r,
    ngx_uint_t *drop);
ngx_int_t ngx_rooms_api_fail(ngx_http_request_t *r, int status,
    const char *code, const char *message);
ngx_int_t ngx_rooms_api_not_allowed(ngx_http_request_t *r,
    const char *allow);
ngx_int_t ngx_rooms_api_lookup_failed(ngx_http_request_t *r, ngx_int_t rc);

/*
 * For the API's other files (ngx_rooms_schedule.c, ngx_rooms_ics.c): the
 * public base of links (no final slash); 503 storage_busy; and whether
 * the request's "Authorization: Bearer" is the room's host key (NGX_OK)
 * or not (NGX_DECLINED; nothing is sent).
 */
ngx_int_t ngx_rooms_api_base(ngx_http_request_t *r, ngx_str_t *base);
ngx_int_t ngx_rooms_api_store_busy(ngx_http_request_t *r);
ngx_int_t ngx_rooms_api_is_host(ngx_http_request_t *r, rooms_room_t *room);

/*
 * A JSON answer of the other files that serve API addresses (the tray, scheduled rooms):
 * json, malloc()ed, is freed here; sent with the API's headers.
 */
ngx_int_t ngx_rooms_api_json(ngx_http_request_t *r, ngx_uint_t status,
    char *json);


#endif /* _NGX_ROOMS_API_H_INCLUDED_ */
