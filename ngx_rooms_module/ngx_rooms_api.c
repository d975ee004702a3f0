
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_api.c: the JSON API of docs/api.md.
 *
 * Owns: reading and bounding request bodies, the order of checks (room
 * exists, then the caller is its host, then the body is valid, then the
 * change is allowed), host authorization (only the host key
 * authenticates here: a co-host key is refused like any other wrong key),
 * the JSON answers and every API error response (the router and the
 * signaling answer their refusals through ngx_rooms_api_error()).  A
 * change itself is the control file's (ngx_rooms_control.c).
 * Must never trust a body before its size and type are checked, and never
 * answer 5xx to anything a client can send: 500 and 503 mean the server
 * itself failed (the store, memory).
 * May not: call rooms_store_, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_dir_change, call ngx_rooms_dir_add, call ngx_rooms_dir_count, call ngx_rooms_media_, call ngx_rooms_ws_, call ngx_rooms_signal_, call ngx_rooms_router_, call ngx_rooms_page_
 */


#include "ngx_rooms_api.h"
#include "ngx_rooms_control.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_schedule.h"
#include "ngx_rooms_identity.h"
#include "ngx_rooms_policy.h"
#include "ngx_rooms_people.h"

#include <jansson.h>


typedef struct {
    ngx_uint_t                   op;
    u_char                       code[ROOMS_CODE_LEN];
    ngx_chain_t                 *page;      /* replaces nginx's error page */
    unsigned                     page_sent:1;
} ngx_rooms_api_ctx_t;


static void ngx_rooms_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_rooms_body_action(ngx_http_request_t *r);
static ngx_int_t ngx_rooms_body(ngx_http_request_t *r, ngx_str_t *body,
    rooms_error_t *err);
static ngx_int_t ngx_rooms_create(ngx_http_request_t *r, ngx_str_t *body);
static ngx_int_t ngx_rooms_host_action(ngx_http_request_t *r,
    ngx_uint_t op, u_char *code, ngx_str_t *body);
static ngx_int_t ngx_rooms_host_auth(ngx_http_request_t *r, u_char *code,
    rooms_room_t *room, ngx_str_t *key, u_char *hash, ngx_int_t *answer);
static ngx_int_t ngx_rooms_change_failed(ngx_http_request_t *r,
    ngx_int_t rc, rooms_error_t *err);
static ngx_int_t ngx_rooms_host_key(ngx_http_request_t *r, ngx_str_t *key);
static ngx_int_t ngx_rooms_send_room(ngx_http_request_t *r,
    ngx_uint_t status, rooms_room_t *room, ngx_str_t *host_key);
static ngx_int_t ngx_rooms_send_json(ngx_http_request_t *r,
    ngx_uint_t status, char *json);
static ngx_int_t ngx_rooms_base(ngx_http_request_t *r, ngx_str_t *base);
static ngx_int_t ngx_rooms_api_busy(ngx_http_request_t *r);


/*
 * Bodies are bounded before they are read: a declared length over the
 * limit is refused at once; a chunked one is measured once read.
 */
ngx_int_t
ngx_rooms_api_action(ngx_http_request_t *r, ngx_uint_t op, u_char *code)
{
    ngx_int_t         rc;
    ngx_rooms_api_ctx_t  *ctx;

    if (r->headers_in.content_length_n > ROOMS_API_BODY_MAX) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_rooms_api_fail(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                  "body_too_large",
                                  "the body is larger than 8192 bytes");
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_rooms_api_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->op = op;

    if (code) {
        ngx_memcpy(ctx->code, code, ROOMS_CODE_LEN);
    }

    ngx_http_set_ctx(r, ctx, ngx_rooms_module);

    rc = ngx_http_read_client_request_body(r, ngx_rooms_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_rooms_body_handler(ngx_http_request_t *r)
{
    /* the action may wait for the store: in a fiber, not this worker */
    ngx_rooms_fiber_post(r, ngx_rooms_body_action);
}


static ngx_int_t
ngx_rooms_body_action(ngx_http_request_t *r)
{
    ngx_int_t         rc;
    ngx_str_t         body;
    rooms_error_t     err;
    ngx_rooms_api_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_rooms_module);

    rc = ngx_rooms_body(r, &body, &err);

    if (rc == NGX_DECLINED) {
        /* a refused body is answered, and its action never runs */
        return ngx_rooms_api_error(r, &err);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    switch (ctx->op) {

    case NGX_ROOMS_API_CREATE:
        return ngx_rooms_create(r, &body);

    default:
        return ngx_rooms_host_action(r, ctx->op, ctx->code, &body);
    }
}


/*
 * Gathers the body into one zero-terminated buffer and checks its size
 * and media type.  Returns NGX_OK; NGX_DECLINED with *err filled when the
 * body is refused (nothing is sent: the caller answers with *err and must
 * not run the action); or an HTTP status for a failure of the server.
 */
static ngx_int_t
ngx_rooms_body(ngx_http_request_t *r, ngx_str_t *body, rooms_error_t *err)
{
    u_char       *p;
    off_t         len;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_str_t    *type;
    ngx_chain_t  *cl;

    body->len = 0;
    body->data = (u_char *) "";

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? b->file_last - b->file_pos : b->last - b->pos;
    }

    if (len > ROOMS_API_BODY_MAX) {
        rooms_error(err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                    "the body is larger than 8192 bytes");
        return NGX_DECLINED;
    }

    if (len == 0) {
        return NGX_OK;
    }

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    if (type == NULL
        || type->len < sizeof("application/json") - 1
        || ngx_strncasecmp(type->data, (u_char *) "application/json",
                           sizeof("application/json") - 1) != 0
        || (type->len > sizeof("application/json") - 1
            && type->data[sizeof("application/json") - 1] != ';'
            && type->data[sizeof("application/json") - 1] != ' '))
    {
        rooms_error(err, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as application/json");
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, (size_t) len + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body->data = p;
    body->len = (size_t) len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = ngx_read_file(b->file, p, (size_t) (b->file_last
                                                    - b->file_pos),
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            p += n;

        } else {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
        }
    }

    *p = '\0';

    return NGX_OK;
}


static ngx_int_t
ngx_rooms_create(ngx_http_request_t *r, ngx_str_t *body)
{
    char                    key[ROOMS_HOST_KEY_LEN + 1];
    u_char                 *p;
    ngx_int_t               rc;
    ngx_str_t               host_key, reason;
    rooms_room_t            room;
    rooms_error_t           err;
    ngx_table_elt_t        *location;
    ngx_rooms_loc_conf_t   *rlcf;
    ngx_rooms_main_conf_t  *rmcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_rooms_module);
    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    if (rooms_parse_create((char *) body->data, body->len,
                           (unsigned) rlcf->max_participants, ngx_time(),
                           &room, &err)
        != 0)
    {
        return ngx_rooms_api_error(r, &err);
    }

    /* the site's rules (rooms_policy can_create()), on a valid room */
    if (ngx_rooms_policy_can_create(r, ngx_rooms_identity(r), &room, &reason)
        != NGX_OK)
    {
        return ngx_rooms_api_fail(r, NGX_HTTP_FORBIDDEN, "policy_denied",
                                  (char *) reason.data);
    }

    if (rooms_token_code(room.code) != 0 || rooms_token_host_key(key) != 0)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "rooms: the random source failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rooms_token_hash((u_char *) key, ROOMS_HOST_KEY_LEN, room.host_hash);
    room.created_at = ngx_time();

    rc = ngx_rooms_control_create(rmcf, r->connection->log, &room);

    if (rc == NGX_ROOMS_BUSY) {
        return ngx_rooms_api_busy(r);
    }

    if (rc != NGX_OK) {
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "storage_unavailable",
                                  "the room could not be stored; try again");
    }

    /* its creator's people may see a "friends" room in their tray */
    ngx_rooms_people_owner_set(r, room.id);

    location = ngx_list_push(&r->headers_out.headers);
    if (location == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, rlcf->prefix.len + sizeof("api/rooms/") - 1
                             + ROOMS_CODE_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    location->hash = 1;
    ngx_str_set(&location->key, "Location");
    location->value.data = p;
    p = ngx_cpymem(p, rlcf->prefix.data, rlcf->prefix.len);
    p = ngx_cpymem(p, "api/rooms/", sizeof("api/rooms/") - 1);
    p = ngx_cpymem(p, room.code, ROOMS_CODE_LEN);
    location->value.len = p - location->value.data;

    host_key.data = (u_char *) key;
    host_key.len = ROOMS_HOST_KEY_LEN;

    /* a scheduled room goes into its creator's calendar feed */
    ngx_rooms_schedule_created(r, &room);

    return ngx_rooms_send_room(r, NGX_HTTP_CREATED, &room, &host_key);
}


ngx_int_t
ngx_rooms_api_get(ngx_http_request_t *r, u_char *code)
{
    u_char                  hash[ROOMS_HASH_LEN];
    ngx_int_t               rc;
    ngx_str_t               key;
    rooms_room_t            room;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    rc = ngx_rooms_dir_get(rmcf, r->connection->log, code, &room);
    if (rc != NGX_OK) {
        return ngx_rooms_api_lookup_failed(r, rc);
    }

    /* anyone may read the public view; a host key shows the host's */

    if (r->headers_in.authorization == NULL) {
        return ngx_rooms_send_room(r, NGX_HTTP_OK, &room, NULL);
    }

    if (ngx_rooms_host_key(r, &key) != NGX_OK) {
        return ngx_rooms_api_fail(r, NGX_HTTP_UNAUTHORIZED, "missing_host_key",
                                  "use \"Authorization: Bearer <host_key>\"");
    }

    rooms_token_hash(key.data, key.len, hash);

    if (!rooms_token_hash_equal(hash, room.host_hash)) {
        return ngx_rooms_api_fail(r, NGX_HTTP_FORBIDDEN, "wrong_host_key",
                                  "the host key does not match this room");
    }

    return ngx_rooms_send_room(r, NGX_HTTP_OK, &room, &key);
}


/*
 * PATCH, rotate and end.  The order of checks is fixed: the room must
 * exist (404, 410), the caller must hold its key (401, 403), the body must
 * be valid (400, 415, 422), then the change must be allowed (409).  The
 * key is checked again under the directory lock, against the record the
 * change is applied to.
 */
static ngx_int_t
ngx_rooms_host_action(ngx_http_request_t *r, ngx_uint_t op, u_char *code,
    ngx_str_t *body)
{
    u_char                  hash[ROOMS_HASH_LEN];
    ngx_int_t               rc;
    ngx_str_t               key;
    ngx_uint_t              action;
    rooms_patch_t           patch, *pp;
    rooms_room_t            room;
    rooms_error_t           err;
    ngx_rooms_loc_conf_t   *rlcf;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);
    rlcf = ngx_http_get_module_loc_conf(r, ngx_rooms_module);

    if (ngx_rooms_host_auth(r, code, &room, &key, hash, &rc) != NGX_OK) {
        return rc;
    }

    pp = NULL;

    switch (op) {

    case NGX_ROOMS_API_PATCH:
        if (rooms_parse_patch((char *) body->data, body->len,
                              (unsigned) rlcf->max_participants, &patch,
                              &err)
            != 0)
        {
            return ngx_rooms_api_error(r, &err);
        }

        action = NGX_ROOMS_UPDATE;
        pp = &patch;
        break;

    case NGX_ROOMS_API_ROTATE:
        action = NGX_ROOMS_ROTATE;
        break;

    default: /* NGX_ROOMS_API_END */
        action = NGX_ROOMS_END;
        break;
    }

    rc = ngx_rooms_control_change(rmcf, r->connection->log, code, hash, 0,
                                  action, pp, &room, &err);

    if (rc != NGX_OK) {
        return ngx_rooms_change_failed(r, rc, &err);
    }

    return ngx_rooms_send_room(r, NGX_HTTP_OK, &room, &key);
}


/*
 * The first two checks of every host action: the room exists (404, 410),
 * and the caller holds its host key (401, 403); a co-host key is not one.
 * NGX_OK with the room, the key and its hash; otherwise the error is sent
 * and *answer is what the handler returns.
 */
static ngx_int_t
ngx_rooms_host_auth(ngx_http_request_t *r, u_char *code, rooms_room_t *room,
    ngx_str_t *key, u_char *hash, ngx_int_t *answer)
{
    ngx_int_t               rc;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    rc = ngx_rooms_dir_get(rmcf, r->connection->log, code, room);
    if (rc != NGX_OK) {
        *answer = ngx_rooms_api_lookup_failed(r, rc);
        return NGX_DECLINED;
    }

    if (ngx_rooms_host_key(r, key) != NGX_OK) {
        *answer = ngx_rooms_api_fail(r, NGX_HTTP_UNAUTHORIZED,
                                 "missing_host_key",
                                 "this action needs the room's host key: "
                                 "\"Authorization: Bearer <host_key>\"");
        return NGX_DECLINED;
    }

    rooms_token_hash(key->data, key->len, hash);

    if (!rooms_token_hash_equal(hash, room->host_hash)) {
        *answer = ngx_rooms_api_fail(r, NGX_HTTP_FORBIDDEN, "wrong_host_key",
                                 "the host key does not match this room");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* GET /api/rooms/<code>/cohosts: {"cohosts":[{id, name, created_at}]} */
ngx_int_t
ngx_rooms_api_cohost_list(ngx_http_request_t *r, u_char *code)
{
    u_char                  hash[ROOMS_HASH_LEN];
    char                    created[ROOMS_TIME_LEN + 1], *text;
    json_t                 *doc, *list, *item;
    unsigned                i, n;
    ngx_int_t               rc;
    ngx_str_t               key;
    rooms_room_t            room;
    rooms_cohost_t          cohosts[ROOMS_COHOSTS_MAX];
    ngx_rooms_main_conf_t  *rmcf;

    if (ngx_rooms_host_auth(r, code, &room, &key, hash, &rc) != NGX_OK) {
        return rc;
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    if (ngx_rooms_control_cohosts(rmcf, r->connection->log, room.id,
                                  cohosts, ROOMS_COHOSTS_MAX, &n)
        != NGX_OK)
    {
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "storage_unavailable",
                                  "rooms cannot be read right now");
    }

    list = json_array();
    doc = json_pack("{s:o}", "cohosts", list);

    if (doc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < n; i++) {
        rooms_time_format(cohosts[i].created_at, created);

        item = json_pack("{s:I,s:s,s:s}",
                         "id", (json_int_t) cohosts[i].id,
                         "name", cohosts[i].name,
                         "created_at", created);

        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(doc);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* json_dumps() allocates with malloc(), as ngx_rooms_send_json wants */
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);

    return ngx_rooms_send_json(r, NGX_HTTP_OK, text);
}


/*
 * DELETE /api/rooms/<code>/cohosts/<id>: the control file revokes the
 * credential under the directory lock (the host key checked again there)
 * and tells the media worker.
 */
ngx_int_t
ngx_rooms_api_cohost_revoke(ngx_http_request_t *r, u_char *code, ngx_str_t *id)
{
    u_char                  hash[ROOMS_HASH_LEN];
    ngx_int_t               rc, n;
    ngx_str_t               key;
    rooms_room_t            room;
    rooms_error_t           err;
    ngx_rooms_main_conf_t  *rmcf;

    if (ngx_rooms_host_auth(r, code, &room, &key, hash, &rc) != NGX_OK) {
        return rc;
    }

    /* ids are positive decimal integers, without sign or leading zero */
    n = (id->len && id->len <= NGX_INT64_LEN - 1 && id->data[0] != '0')
        ? ngx_atoi(id->data, id->len) : NGX_ERROR;

    if (n <= 0) {
        return ngx_rooms_api_fail(r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "this room has no active co-host with "
                                  "this id");
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    rc = ngx_rooms_control_cohost_revoke(rmcf, r->connection->log, code,
                                         hash, (int64_t) n, &room, &err);

    if (rc != NGX_OK) {
        return ngx_rooms_change_failed(r, rc, &err);
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


/* The answer to a host's change that was not made (rc is not NGX_OK). */
static ngx_int_t
ngx_rooms_change_failed(ngx_http_request_t *r, ngx_int_t rc,
    rooms_error_t *err)
{
    switch (rc) {

    case NGX_ROOMS_REFUSED:
        return ngx_rooms_api_error(r, err);

    case NGX_ROOMS_BUSY:
        return ngx_rooms_api_busy(r);

    case NGX_ERROR:
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "storage_unavailable",
                                  "the change could not be stored; nothing "
                                  "changed");

    default:
        return ngx_rooms_api_lookup_failed(r, rc);
    }
}


/* The answer to a directory lookup that found no live room. */
ngx_int_t
ngx_rooms_api_lookup_failed(ngx_http_request_t *r, ngx_int_t rc)
{
    switch (rc) {

    case NGX_DECLINED:
        return ngx_rooms_api_fail(r, NGX_HTTP_NOT_FOUND, "not_found",
                                  "no room has this code");

    case NGX_ROOMS_GONE:
        return ngx_rooms_api_fail(r, NGX_ROOMS_HTTP_GONE, "gone",
                                  "this invite code was replaced by the host; "
                                  "ask for the new link");

    default:
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "storage_unavailable",
                                  "rooms cannot be read right now");
    }
}


/*
 * Extracts the token of "Authorization: Bearer <token>".  NGX_DECLINED
 * when the header is missing or of another scheme.
 */
static ngx_int_t
ngx_rooms_host_key(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char     *p, *last;
    ngx_str_t  *value;

    if (r->headers_in.authorization == NULL) {
        return NGX_DECLINED;
    }

    value = &r->headers_in.authorization->value;

    if (value->len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(value->data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        return NGX_DECLINED;
    }

    p = value->data + sizeof("Bearer ") - 1;
    last = value->data + value->len;

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && last[-1] == ' ') {
        last--;
    }

    if (p == last) {
        return NGX_DECLINED;
    }

    key->data = p;
    key->len = last - p;

    return NGX_OK;
}


static ngx_int_t
ngx_rooms_send_room(ngx_http_request_t *r, ngx_uint_t status,
    rooms_room_t *room, ngx_str_t *host_key)
{
    char       *json, key[ROOMS_HOST_KEY_LEN + 1];
    ngx_str_t   base;

    if (ngx_rooms_base(r, &base) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a key that matched the stored hash has the key's exact shape */
    if (host_key && host_key->len == ROOMS_HOST_KEY_LEN) {
        ngx_memcpy(key, host_key->data, ROOMS_HOST_KEY_LEN);
        key[ROOMS_HOST_KEY_LEN] = '\0';

        json = rooms_render(room, ngx_time(), (char *) base.data, base.len,
                            key, ROOMS_VIEW_HOST);

    } else {
        json = rooms_render(room, ngx_time(), (char *) base.data, base.len,
                            NULL, ROOMS_VIEW_PUBLIC);
    }

    return ngx_rooms_send_json(r, status, json);
}


ngx_int_t
ngx_rooms_api_json(ngx_http_request_t *r, ngx_uint_t status, char *json)
{
    return ngx_rooms_send_json(r, status, json);
}


/* Sends a malloc()ed JSON document (freed here) with a newline. */
static ngx_int_t
ngx_rooms_send_json(ngx_http_request_t *r, ngx_uint_t status, char *json)
{
    size_t            len;
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(json);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        free(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, json, len);
    *b->last++ = '\n';
    free(json);

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;

    if (status == NGX_ROOMS_HTTP_UNPROCESSABLE_ENTITY) {
        ngx_str_set(&r->headers_out.status_line,
                    "422 Unprocessable Entity");
    }
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    /* host keys and invite codes must not linger in caches */
    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Content-Type-Options");
    ngx_str_set(&h->value, "nosniff");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_rooms_api_error(ngx_http_request_t *r, rooms_error_t *err)
{
    ngx_table_elt_t  *h;

    if (err->status == NGX_HTTP_UNAUTHORIZED) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "WWW-Authenticate");
        ngx_str_set(&h->value, "Bearer realm=\"rooms\"");
    }

    return ngx_rooms_send_json(r, err->status, rooms_render_error(err));
}


/*
 * nginx itself refused an API request before or while its body was read:
 * a body over client_max_body_size (413), or limit_req (429, with
 * "limit_req_status 429").  Its HTML page becomes the API's JSON error:
 * the headers here, the body in ngx_rooms_api_error_page_body().
 */
ngx_int_t
ngx_rooms_api_error_page(ngx_http_request_t *r)
{
    size_t                len;
    char                 *json;
    ngx_buf_t            *b;
    rooms_error_t         err;
    ngx_table_elt_t      *h;
    ngx_rooms_api_ctx_t  *ctx;

    if (r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        rooms_error(&err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                    "the body is larger than 8192 bytes");

    } else {
        rooms_error(&err, NGX_HTTP_TOO_MANY_REQUESTS, "too_many_requests",
                    "too many requests from this address: wait a moment "
                    "and try again");
    }

    ctx = ngx_http_get_module_ctx(r, ngx_rooms_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_rooms_api_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_rooms_module);
    }

    json = rooms_render_error(&err);
    if (json == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(json);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        free(json);
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, json, len);
    *b->last++ = '\n';
    free(json);

    b->last_buf = 1;
    b->last_in_chain = 1;

    ctx->page = ngx_alloc_chain_link(r->pool);
    if (ctx->page == NULL) {
        return NGX_ERROR;
    }

    ctx->page->buf = b;
    ctx->page->next = NULL;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return NGX_OK;
}


ngx_chain_t *
ngx_rooms_api_error_page_body(ngx_http_request_t *r, ngx_uint_t *drop)
{
    ngx_rooms_api_ctx_t  *ctx;

    *drop = 0;

    ctx = ngx_http_get_module_ctx(r, ngx_rooms_module);

    if (ctx == NULL || ctx->page == NULL) {
        return NULL;
    }

    /* nginx's page is dropped; ours goes once */
    *drop = 1;

    if (ctx->page_sent) {
        return NULL;
    }

    ctx->page_sent = 1;

    return ctx->page;
}


ngx_int_t
ngx_rooms_api_fail(ngx_http_request_t *r, int status, const char *code,
    const char *message)
{
    rooms_error_t  err;

    rooms_error(&err, status, code, "%s", message);

    return ngx_rooms_api_error(r, &err);
}


/*
 * 503 storage_busy with "Retry-After: 1": another program holds the
 * store's write lock; nothing changed, and the same request may simply
 * be sent again.
 */
static ngx_int_t
ngx_rooms_api_busy(ngx_http_request_t *r)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    ngx_str_set(&h->value, "1");

    return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE, "storage_busy",
                              "the room store is locked by another program; "
                              "nothing changed, try again in a moment");
}


ngx_int_t
ngx_rooms_api_not_allowed(ngx_http_request_t *r, const char *allow)
{
    ngx_table_elt_t  *h;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = (u_char *) allow;
    h->value.len = ngx_strlen(allow);

    return ngx_rooms_api_fail(r, NGX_HTTP_NOT_ALLOWED, "method_not_allowed",
                              "this method is not allowed here");
}


/*
 * The public base of invite links: rooms_base_url when set, otherwise the
 * scheme and Host of this request and the location's prefix.
 */
static ngx_int_t
ngx_rooms_base(ngx_http_request_t *r, ngx_str_t *base)
{
    u_char                    *p;
    ngx_str_t                  host;
    ngx_rooms_loc_conf_t      *rlcf;
    ngx_http_core_srv_conf_t  *cscf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_rooms_module);

    if (rlcf->base_url.len) {
        *base = rlcf->base_url;
        return NGX_OK;
    }

    if (r->headers_in.host) {
        host = r->headers_in.host->value;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

    p = ngx_pnalloc(r->pool, sizeof("https://") - 1 + host.len
                             + rlcf->prefix.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    base->data = p;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        p = ngx_cpymem(p, "https://", sizeof("https://") - 1);
    } else
#endif
    {
        p = ngx_cpymem(p, "http://", sizeof("http://") - 1);
    }

    p = ngx_cpymem(p, host.data, host.len);

    /* the prefix without its final slash */
    p = ngx_cpymem(p, rlcf->prefix.data, rlcf->prefix.len - 1);

    base->len = p - base->data;

    return NGX_OK;
}


/* For the other API files (ngx_rooms_schedule.c, ngx_rooms_ics.c). */

ngx_int_t
ngx_rooms_api_base(ngx_http_request_t *r, ngx_str_t *base)
{
    return ngx_rooms_base(r, base);
}


ngx_int_t
ngx_rooms_api_store_busy(ngx_http_request_t *r)
{
    return ngx_rooms_api_busy(r);
}


ngx_int_t
ngx_rooms_api_is_host(ngx_http_request_t *r, rooms_room_t *room)
{
    u_char     hash[ROOMS_HASH_LEN];
    ngx_str_t  key;

    if (ngx_rooms_host_key(r, &key) != NGX_OK) {
        return NGX_DECLINED;
    }

    rooms_token_hash(key.data, key.len, hash);

    return rooms_token_hash_equal(hash, room->host_hash)
           ? NGX_OK : NGX_DECLINED;
}
