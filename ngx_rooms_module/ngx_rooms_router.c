
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_router.c: which address does what, in a "rooms" location.
 *
 * Owns: the content handler: the path below the location, the method
 * each address allows, and the dispatch to the pages (ngx_rooms_pages.c),
 * the JSON API (ngx_rooms_api.c) and the signaling WebSocket
 * (ngx_rooms_signal.c); the lookup of the room an invite page or a
 * WebSocket address names, answered 404 or 410 before anything else;
 * which of nginx's own error pages on an API address (413, 429) become
 * the API's JSON errors (a header and a body filter).
 * Must never read a body, change a room or build JSON: what it refuses
 * is answered through the API's error answers.
 * May not: call json_, include jansson.h, call rooms_store_, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_dir_change, call ngx_rooms_dir_add, call ngx_rooms_dir_count, call ngx_rooms_control_, call ngx_rooms_media_, call ngx_rooms_ws_
 */


#include "ngx_rooms_router.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_api.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_pages.h"
#include "ngx_rooms_schedule.h"
#include "ngx_rooms_signal.h"
#include "ngx_rooms_tray.h"


static ngx_int_t ngx_rooms_route(ngx_http_request_t *r);
static ngx_int_t ngx_rooms_route_api(ngx_http_request_t *r,
    ngx_str_t *rest);
static ngx_int_t ngx_rooms_route_room(ngx_http_request_t *r, u_char *code);
static ngx_int_t ngx_rooms_route_page(ngx_http_request_t *r,
    ngx_str_t *code);
static ngx_int_t ngx_rooms_route_ws(ngx_http_request_t *r, u_char *code);
static ngx_int_t ngx_rooms_route_schedule(ngx_http_request_t *r,
    ngx_str_t *rest);
static ngx_int_t ngx_rooms_route_page_failed(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_rooms_route_tray(ngx_http_request_t *r,
    ngx_str_t *rest);
static ngx_int_t ngx_rooms_route_cohosts(ngx_http_request_t *r,
    u_char *code, u_char *p, u_char *last);
static ngx_int_t ngx_rooms_router_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_rooms_router_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_rooms_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_rooms_next_body_filter;


ngx_int_t
ngx_rooms_router_init_filters(ngx_conf_t *cf)
{
    ngx_rooms_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_rooms_router_header_filter;

    ngx_rooms_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_rooms_router_body_filter;

    return NGX_OK;
}


/*
 * Whether r, a 413 or 429 response, is for an API address of a "rooms"
 * location, but the WebSocket's (which keeps its own state in the
 * module's context): then the context, if any, is the API's.
 */
static ngx_uint_t
ngx_rooms_router_api_refusal(ngx_http_request_t *r)
{
    ngx_str_t              rest;
    ngx_uint_t             status;
    ngx_rooms_loc_conf_t  *rlcf;

    status = r->headers_out.status;

    if (r != r->main
        || (status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
            && status != NGX_HTTP_TOO_MANY_REQUESTS))
    {
        return 0;
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_rooms_module);

    if (rlcf == NULL || rlcf->enable != 1
        || r->uri.len < rlcf->prefix.len + sizeof("api/") - 1
        || ngx_strncmp(r->uri.data, rlcf->prefix.data, rlcf->prefix.len) != 0)
    {
        return 0;
    }

    rest.data = r->uri.data + rlcf->prefix.len;
    rest.len = r->uri.len - rlcf->prefix.len;

    return ngx_strncmp(rest.data, "api/", sizeof("api/") - 1) == 0
           && !(rest.len >= 3
                && ngx_strncmp(rest.data + rest.len - 3, "/ws", 3) == 0);
}


/*
 * Whether this response is nginx's own HTML page for a 413 or 429 on an
 * API address, with no error_page of the admin's for that status: clients
 * of the API read JSON errors only.
 */
static ngx_uint_t
ngx_rooms_router_nginx_page(ngx_http_request_t *r)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    if (!ngx_rooms_router_api_refusal(r)
        || r->headers_out.content_type.len != sizeof("text/html") - 1
        || ngx_strncmp(r->headers_out.content_type.data, "text/html",
                       sizeof("text/html") - 1) != 0)
    {
        return 0;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->error_pages) {
        err_page = clcf->error_pages->elts;

        for (i = 0; i < clcf->error_pages->nelts; i++) {
            if (err_page[i].status == (ngx_int_t) r->headers_out.status) {
                return 0;
            }
        }
    }

    return 1;
}


static ngx_int_t
ngx_rooms_router_header_filter(ngx_http_request_t *r)
{
    if (ngx_rooms_router_nginx_page(r)
        && ngx_rooms_api_error_page(r) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_rooms_next_header_filter(r);
}


static ngx_int_t
ngx_rooms_router_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_uint_t    drop;
    ngx_chain_t  *page;

    if (!ngx_rooms_router_api_refusal(r)) {
        return ngx_rooms_next_body_filter(r, in);
    }

    page = ngx_rooms_api_error_page_body(r, &drop);

    if (!drop) {
        return ngx_rooms_next_body_filter(r, in);
    }

    return page ? ngx_rooms_next_body_filter(r, page) : NGX_OK;
}


/*
 * Every request of the module runs in a fiber (ngx_rooms_fiber.c): a
 * store call on its path that must wait suspends it, not this worker.
 */
ngx_int_t
ngx_rooms_router_handler(ngx_http_request_t *r)
{
    return ngx_rooms_fiber_handler(r, ngx_rooms_route);
}


static ngx_int_t
ngx_rooms_route(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_str_t              rest, code, name;
    ngx_rooms_loc_conf_t  *rlcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_rooms_module);

    /* the path below the location: "", "r/<code>", "api/rooms/..." */

    if (r->uri.len >= rlcf->prefix.len
        && ngx_strncmp(r->uri.data, rlcf->prefix.data, rlcf->prefix.len) == 0)
    {
        rest.data = r->uri.data + rlcf->prefix.len;
        rest.len = r->uri.len - rlcf->prefix.len;

    } else if (r->uri.len == rlcf->prefix.len - 1) {
        rest.data = r->uri.data + r->uri.len;
        rest.len = 0;

    } else {
        ngx_str_set(&rest, "-");
    }

    if (rest.len >= 3 && ngx_strncmp(rest.data, "api", 3) == 0
        && (rest.len == 3 || rest.data[3] == '/'))
    {
        return ngx_rooms_route_api(r, &rest);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rest.len == 0) {
        return ngx_rooms_page_index(r);
    }

    rc = ngx_rooms_route_schedule(r, &rest);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (rest.len > 2 && ngx_strncmp(rest.data, "r/", 2) == 0) {
        code.data = rest.data + 2;
        code.len = rest.len - 2;
        return ngx_rooms_route_page(r, &code);
    }

    if (rest.len > 7 && ngx_strncmp(rest.data, "assets/", 7) == 0) {
        name.data = rest.data + 7;
        name.len = rest.len - 7;
        return ngx_rooms_page_asset(r, &name);
    }

    return ngx_rooms_page_error(r, NGX_HTTP_NOT_FOUND, "Not found",
                                "There is nothing at this address.");
}


static ngx_int_t
ngx_rooms_route_api(ngx_http_request_t *r, ngx_str_t *rest)
{
    u_char     *p, *last;
    ngx_str_t   code;

    p = rest->data;
    last = rest->data + rest->len;

    /* scheduled rooms (ngx_rooms_schedule.c): api/calendar, api/notices */
    if ((size_t) (last - p) == sizeof("api/calendar") - 1
        && ngx_strncmp(p, "api/calendar", sizeof("api/calendar") - 1) == 0)
    {
        if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_DELETE))) {
            return ngx_rooms_api_not_allowed(r, "POST, DELETE");
        }

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_rooms_schedule_calendar(r);
    }

    if ((size_t) (last - p) == sizeof("api/notices") - 1
        && ngx_strncmp(p, "api/notices", sizeof("api/notices") - 1) == 0)
    {
        if (r->method != NGX_HTTP_GET) {
            return ngx_rooms_api_not_allowed(r, "GET");
        }

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_rooms_schedule_notices(r);
    }

    if ((rest->len >= sizeof("api/tray") - 1
         && ngx_strncmp(p, "api/tray", sizeof("api/tray") - 1) == 0)
        || (rest->len >= sizeof("api/people") - 1
            && ngx_strncmp(p, "api/people", sizeof("api/people") - 1) == 0))
    {
        return ngx_rooms_route_tray(r, rest);
    }

    if (rest->len < sizeof("api/rooms") - 1
        || ngx_strncmp(p, "api/rooms", sizeof("api/rooms") - 1) != 0
        || (rest->len > sizeof("api/rooms") - 1
            && p[sizeof("api/rooms") - 1] != '/'))
    {
        goto not_found;
    }

    p += sizeof("api/rooms") - 1;

    if (p == last) {
        if (r->method != NGX_HTTP_POST) {
            return ngx_rooms_api_not_allowed(r, "POST");
        }

        return ngx_rooms_api_action(r, NGX_ROOMS_API_CREATE, NULL);
    }

    /* "/<code>" or "/<code>/invite" */

    code.data = ++p;

    while (p < last && *p != '/') {
        p++;
    }

    code.len = p - code.data;

    if (!rooms_token_is_code(code.data, code.len)) {
        goto not_found;
    }

    if (p == last) {
        return ngx_rooms_route_room(r, code.data);
    }

    if ((size_t) (last - p) == sizeof("/invite") - 1
        && ngx_strncmp(p, "/invite", sizeof("/invite") - 1) == 0)
    {
        if (r->method != NGX_HTTP_POST) {
            return ngx_rooms_api_not_allowed(r, "POST");
        }

        return ngx_rooms_api_action(r, NGX_ROOMS_API_ROTATE, code.data);
    }

    if ((size_t) (last - p) == sizeof("/ws") - 1
        && ngx_strncmp(p, "/ws", sizeof("/ws") - 1) == 0)
    {
        return ngx_rooms_route_ws(r, code.data);
    }

    if ((size_t) (last - p) == sizeof("/reminders") - 1
        && ngx_strncmp(p, "/reminders", sizeof("/reminders") - 1) == 0)
    {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST
                           |NGX_HTTP_DELETE)))
        {
            return ngx_rooms_api_not_allowed(r, "GET, HEAD, POST, DELETE");
        }

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_rooms_schedule_reminders(r, code.data);
    }

    if ((size_t) (last - p) >= sizeof("/cohosts") - 1
        && ngx_strncmp(p, "/cohosts", sizeof("/cohosts") - 1) == 0
        && ((size_t) (last - p) == sizeof("/cohosts") - 1
            || p[sizeof("/cohosts") - 1] == '/'))
    {
        return ngx_rooms_route_cohosts(r, code.data,
                                       p + sizeof("/cohosts") - 1, last);
    }

not_found:

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_rooms_api_fail(r, NGX_HTTP_NOT_FOUND, "not_found",
                              "no such room or API endpoint");
}


static ngx_int_t
ngx_rooms_route_page(ngx_http_request_t *r, ngx_str_t *code)
{
    ngx_int_t               rc;
    rooms_room_t            room;
    ngx_rooms_main_conf_t  *rmcf;

    if (!rooms_token_is_code(code->data, code->len)) {
        rc = NGX_DECLINED;

    } else {
        rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);
        rc = ngx_rooms_dir_get(rmcf, r->connection->log, code->data, &room);
    }

    if (rc == NGX_OK) {
        return ngx_rooms_page_room(r, NGX_HTTP_OK, &room);
    }

    return ngx_rooms_route_page_failed(r, rc);
}


/* The page of a lookup that found no live room (410, 404, 503). */
static ngx_int_t
ngx_rooms_route_page_failed(ngx_http_request_t *r, ngx_int_t rc)
{
    switch (rc) {
    case NGX_ROOMS_GONE:
        return ngx_rooms_page_error(r, NGX_ROOMS_HTTP_GONE,
                                    "This invite link was replaced",
                                    "The host gave this room a new link. "
                                    "Ask them for it.");

    case NGX_DECLINED:
        return ngx_rooms_page_error(r, NGX_HTTP_NOT_FOUND, "No such room",
                                    "Check the invite link: no room has "
                                    "this address.");

    default:
        return ngx_rooms_page_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                    "Rooms are unavailable",
                                    "The server cannot read its rooms "
                                    "right now. Try again shortly.");
    }
}


/*
 * The tray (ngx_rooms_tray.c): GET api/tray, its WebSocket api/tray/ws,
 * GET and DELETE api/people, DELETE api/people/<id>.  None takes a body.
 */
static ngx_int_t
ngx_rooms_route_tray(ngx_http_request_t *r, ngx_str_t *rest)
{
    ngx_str_t  id;

    if (rest->len == sizeof("api/tray/ws") - 1
        && ngx_strncmp(rest->data, "api/tray/ws", rest->len) == 0)
    {
        if (r->method != NGX_HTTP_GET) {
            return ngx_rooms_api_not_allowed(r, "GET");
        }

        return ngx_rooms_tray_ws(r);
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rest->len == sizeof("api/tray") - 1
        && ngx_strncmp(rest->data, "api/tray", rest->len) == 0)
    {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_rooms_api_not_allowed(r, "GET, HEAD");
        }

        return ngx_rooms_tray_get(r);
    }

    if (rest->len == sizeof("api/people") - 1
        && ngx_strncmp(rest->data, "api/people", rest->len) == 0)
    {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_DELETE))) {
            return ngx_rooms_api_not_allowed(r, "GET, HEAD, DELETE");
        }

        return ngx_rooms_tray_people(r, NULL);
    }

    if (rest->len > sizeof("api/people/") - 1
        && ngx_strncmp(rest->data, "api/people/", sizeof("api/people/") - 1)
           == 0)
    {
        if (r->method != NGX_HTTP_DELETE) {
            return ngx_rooms_api_not_allowed(r, "DELETE");
        }

        id.data = rest->data + sizeof("api/people/") - 1;
        id.len = rest->len - (sizeof("api/people/") - 1);

        return ngx_rooms_tray_people(r, &id);
    }

    return ngx_rooms_api_fail(r, NGX_HTTP_NOT_FOUND, "not_found",
                              "no such room or API endpoint");
}


/* api/rooms/<code>: read, change or end the room */
static ngx_int_t
ngx_rooms_route_room(ngx_http_request_t *r, u_char *code)
{
    switch (r->method) {

    case NGX_HTTP_GET:
    case NGX_HTTP_HEAD:
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_rooms_api_get(r, code);

    case NGX_HTTP_PATCH:
        return ngx_rooms_api_action(r, NGX_ROOMS_API_PATCH, code);

    case NGX_HTTP_DELETE:
        return ngx_rooms_api_action(r, NGX_ROOMS_API_END, code);

    default:
        return ngx_rooms_api_not_allowed(r, "GET, HEAD, PATCH, DELETE");
    }
}


/*
 * The signaling WebSocket (ngx_rooms_signal.c): a GET on a room that exists,
 * answered 404 or 410 as the rest of the API before the handshake is
 * looked at.
 */
static ngx_int_t
ngx_rooms_route_ws(ngx_http_request_t *r, u_char *code)
{
    ngx_int_t               rc;
    rooms_room_t            room;
    rooms_error_t           err;
    ngx_rooms_main_conf_t  *rmcf;

    if (r->method != NGX_HTTP_GET) {
        return ngx_rooms_api_not_allowed(r, "GET");
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    rc = ngx_rooms_dir_get(rmcf, r->connection->log, code, &room);

    if (rc != NGX_OK) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_rooms_api_lookup_failed(r, rc);
    }

    rc = ngx_rooms_signal_handler(r, &room, &err);

    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_rooms_api_error(r, &err);
}


/*
 * "/cohosts" (p at its end) and "/cohosts/<id>" of a room: GET (and HEAD)
 * lists the active co-hosts, DELETE revokes one.  Neither takes a body.
 */
static ngx_int_t
ngx_rooms_route_cohosts(ngx_http_request_t *r, u_char *code, u_char *p,
    u_char *last)
{
    ngx_str_t  id;

    if (p == last) {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_rooms_api_not_allowed(r, "GET, HEAD");
        }

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_rooms_api_cohost_list(r, code);
    }

    if (r->method != NGX_HTTP_DELETE) {
        return ngx_rooms_api_not_allowed(r, "DELETE");
    }

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* after the slash */
    id.data = p + 1;
    id.len = last - id.data;

    return ngx_rooms_api_cohost_revoke(r, code, &id);
}


/*
 * The calendar files (GET, HEAD; ngx_rooms_ics.c): r/<code>/event.ics of
 * a room, answered 404 or 410 as its page, and calendar/<secret>.ics.
 * NGX_DECLINED for any other path.
 */
static ngx_int_t
ngx_rooms_route_schedule(ngx_http_request_t *r, ngx_str_t *rest)
{
    u_char                 *p;
    ngx_int_t               rc;
    rooms_room_t            room;
    ngx_rooms_main_conf_t  *rmcf;

    p = rest->data;

    if (rest->len == 2 + ROOMS_CODE_LEN + sizeof("/event.ics") - 1
        && ngx_strncmp(p, "r/", 2) == 0
        && ngx_strncmp(p + 2 + ROOMS_CODE_LEN, "/event.ics",
                       sizeof("/event.ics") - 1) == 0)
    {
        if (!rooms_token_is_code(p + 2, ROOMS_CODE_LEN)) {
            rc = NGX_DECLINED;

        } else {
            rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);
            rc = ngx_rooms_dir_get(rmcf, r->connection->log, p + 2, &room);
        }

        if (rc == NGX_OK) {
            return ngx_rooms_ics_event(r, &room);
        }

        return ngx_rooms_route_page_failed(r, rc);
    }

    if (rest->len == sizeof("calendar/") - 1 + ROOMS_HOST_KEY_LEN
                     + sizeof(".ics") - 1
        && ngx_strncmp(p, "calendar/", sizeof("calendar/") - 1) == 0
        && ngx_strncmp(p + rest->len - 4, ".ics", 4) == 0)
    {
        p += sizeof("calendar/") - 1;

        if (!rooms_token_is_host_key(p, ROOMS_HOST_KEY_LEN)) {
            return ngx_rooms_page_error(r, NGX_HTTP_NOT_FOUND, "Not found",
                                        "There is nothing at this address.");
        }

        rc = ngx_rooms_ics_feed(r, p);

        if (rc == NGX_HTTP_NOT_FOUND) {
            return ngx_rooms_page_error(r, NGX_HTTP_NOT_FOUND, "Not found",
                                        "This calendar address was "
                                        "replaced or revoked.");
        }

        return rc;
    }

    return NGX_DECLINED;
}
