
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_ws.c: WebSocket signaling (docs/protocol.md) at
 * GET <prefix>api/rooms/<code>/ws.
 *
 * Owns: the handshake checks and the 101 answer, the upgraded connection
 * (framing through common/rooms_ws.h, pings, timeouts, a bounded send
 * queue), admission at "join" (ngx_rooms_ws_admit()), each connection's
 * role (host, co-host or guest) and guest token, the check that host
 * actions come from a host or co-host (ngx_rooms_ws_host_action()), and
 * the traffic between one browser and the media worker: join becomes a
 * JOIN record, later messages SIGNAL records, the end of the WebSocket a
 * LEAVE record; the worker's SIGNAL and CLOSE records come back through
 * ngx_rooms_ws_deliver(), its BAN records are stored there, and its ROLE
 * records draw, store or revoke co-host keys there.  Must never
 * block, never buffer more than NGX_ROOMS_WS_OUT_MAX bytes for a client,
 * and never finalize a request from another connection's event: work for
 * a connection that arrives from elsewhere (the media link) is queued and
 * its write event posted.
 *
 * How the upgrade works: the content handler checks the handshake, sends
 * the 101 header through the ordinary header filters (flushed with
 * ngx_http_send_special), takes a reference on the request (count++), and
 * returns NGX_DONE, as ngx_http_upstream does for proxied upgrades.  From
 * then on the connection's read and write handlers are this file's: it
 * reads and writes with c->recv and c->send, and bytes that came with the
 * handshake (r->header_in after the headers) are parsed first.  Until the
 * 101 has left r->out, nothing else is sent.  The request is finalized
 * once, at the end, from one of the connection's own events.
 *
 * A connection's life: upgraded (a join must come within 10 s), joined
 * (it has an id, ROOMS_PROTO_CONN(slot, n), and sits in this process's
 * registry, an rbtree keyed by id), closing (its close frame is queued;
 * it leaves the registry and the LEAVE record is pushed), then done once
 * the close frame is out (5 s at most), with a lingering close when the
 * client may still be sending.  The pool cleanup repeats the detach, so
 * no path out of the request forgets the LEAVE.  A ping goes out every
 * 30 s; 75 s without a byte from the client closes the connection.
 *
 * Memory per connection is bounded: the parser, a 64 KiB message buffer,
 * a 4 KiB read buffer, and a send queue that grows on demand up to
 * NGX_ROOMS_WS_OUT_MAX and is released when it drains.
 *
 * Hosts and guests.  A join that carries the room's host key (its SHA-256
 * equals the stored hash, compared in constant time) makes the connection
 * a host's; any other well-formed key makes it a guest's, like no key.
 * Every joiner has a guest token: the one its join carried, or a new one
 * drawn here.  The JOIN record carries the role and the token's hash; the
 * token itself is added here to the worker's welcome as it passes, so it
 * reaches that browser alone and never the media worker.  lock and end
 * are applied here, through the same path as the HTTP API
 * (ngx_rooms_host_change()), which tells the media worker; remove, mute,
 * admit, deny, cohost and uncohost go to the media worker, which knows
 * whom an id names.
 *
 * Co-hosts.  A host's cohost makes the worker send a ROLE record for the
 * new co-host's WebSocket: a co-host key is drawn here, its hash stored
 * bound to that browser's guest token, and the key sent to that browser
 * alone ({"type":"role"}).  A later join with the key and the same guest
 * token is a co-host's while the key is active (the store says so at the
 * join); with another token, or once revoked, a guest's.  A co-host may
 * do what a host does but end the room and make or unmake co-hosts; its
 * lock is checked against the store again, under the directory lock.
 *
 * The lobby.  The JOIN record carries the room's admission as read at
 * the join; the media worker keeps a guest of a "knock" room waiting
 * (it answers "waiting") until a host admits it, and only then sends the
 * welcome.  So the welcome, into which the guest token goes, is not
 * always the first message the worker sends a connection.
 */


#include "ngx_rooms.h"

#include <jansson.h>

#include "rooms_ws.h"


#define NGX_ROOMS_WS_READ_SIZE      4096
#define NGX_ROOMS_WS_READS          16         /* reads per event */
#define NGX_ROOMS_WS_OUT_MAX        (256 * 1024)
#define NGX_ROOMS_WS_OUT_MIN        4096
#define NGX_ROOMS_WS_OUT_KEEP       16384      /* kept once drained */
#define NGX_ROOMS_WS_PING           30000
#define NGX_ROOMS_WS_IDLE           75000
#define NGX_ROOMS_WS_JOIN_TIMEOUT   10000
#define NGX_ROOMS_WS_CLOSE_TIMEOUT  5000
#define NGX_ROOMS_WS_NAME_MAX       64         /* characters */

/* the secrets a join may carry (ngx_rooms_ws_secret()) */
#define NGX_ROOMS_WS_HOST_KEY       0
#define NGX_ROOMS_WS_COHOST_KEY     1
#define NGX_ROOMS_WS_GUEST_TOKEN    2

/* a close frame is never refused for room: it is the last frame */
#define NGX_ROOMS_WS_CLOSE_FRAME    (2 + ROOMS_WS_CONTROL_MAX)

/* docs/protocol.md close codes */
#define NGX_ROOMS_WS_CLOSE_RESTART  1012
#define NGX_ROOMS_WS_CLOSE_LATER    1013
#define NGX_ROOMS_WS_CLOSE_BAD      4400
#define NGX_ROOMS_WS_CLOSE_REFUSED  4403
#define NGX_ROOMS_WS_CLOSE_NO_JOIN  4408


typedef struct {
    ngx_rbtree_node_t            node;           /* key: the id */
    ngx_http_request_t          *request;
    uint64_t                     id;             /* 0 until joined */

    rooms_ws_parser_t            parser;
    u_char                      *in;             /* NGX_ROOMS_WS_READ_SIZE */

    u_char                      *out;            /* ngx_alloc()ed or NULL */
    size_t                       out_size;
    size_t                       out_pos;        /* sent up to here */
    size_t                       out_last;       /* queued up to here */

    ngx_event_t                  timer;
    ngx_msec_t                   started;
    ngx_msec_t                   last_recv;
    ngx_msec_t                   last_ping;

    u_char                       code[ROOMS_CODE_LEN];
    int64_t                      room_id;        /* the store's, at join */
    u_char                       key_hash[ROOMS_HASH_LEN];  /* (co-)host's */
    u_char                       token[ROOMS_GUEST_TOKEN_LEN + 1];

    unsigned                     host:1;         /* joined with the key */
    unsigned                     cohost:1;       /* a co-host key, now */
    unsigned                     welcomed:1;     /* the token went out */
    unsigned                     join_seen:1;    /* a join was handled */
    unsigned                     joined:1;       /* in the registry */
    unsigned                     closing:1;      /* our close is queued */
    unsigned                     peer_closed:1;  /* theirs arrived */
    unsigned                     done:1;         /* finalized */
} ngx_rooms_ws_ctx_t;


static ngx_int_t ngx_rooms_ws_check(ngx_http_request_t *r,
    char accept[ROOMS_WS_ACCEPT_LEN + 1], rooms_error_t *err);
static ngx_int_t ngx_rooms_ws_has_token(ngx_str_t *value, const char *token);
static ngx_int_t ngx_rooms_ws_upgrade(ngx_http_request_t *r,
    rooms_room_t *room, char *accept);
static void ngx_rooms_ws_read_handler(ngx_event_t *rev);
static void ngx_rooms_ws_write_handler(ngx_event_t *wev);
static void ngx_rooms_ws_timer_handler(ngx_event_t *ev);
static ngx_int_t ngx_rooms_ws_read(ngx_rooms_ws_ctx_t *ctx);
static void ngx_rooms_ws_input(ngx_rooms_ws_ctx_t *ctx, u_char *data,
    size_t len);
static void ngx_rooms_ws_message(ngx_rooms_ws_ctx_t *ctx,
    const u_char *data, size_t len);
static void ngx_rooms_ws_join(ngx_rooms_ws_ctx_t *ctx, json_t *msg);
static ngx_int_t ngx_rooms_ws_secret(ngx_rooms_ws_ctx_t *ctx, json_t *v,
    ngx_uint_t kind, u_char *hash);
static ngx_int_t ngx_rooms_ws_cohost_check(ngx_rooms_ws_ctx_t *ctx,
    rooms_room_t *room, u_char *key_hash, u_char *token_hash);
static ngx_int_t ngx_rooms_ws_admit(ngx_rooms_ws_ctx_t *ctx,
    rooms_room_t *room, u_char *token_hash);
static void ngx_rooms_ws_host_action(ngx_rooms_ws_ctx_t *ctx,
    const char *type, json_t *msg, const u_char *data, size_t len);
static ngx_int_t ngx_rooms_ws_change(ngx_rooms_ws_ctx_t *ctx,
    ngx_uint_t action, rooms_patch_t *patch, rooms_error_t *err);
static void ngx_rooms_ws_forward(ngx_rooms_ws_ctx_t *ctx,
    const u_char *data, size_t len);
static ngx_int_t ngx_rooms_ws_relay(ngx_rooms_ws_ctx_t *ctx,
    const u_char *payload, size_t len);
static void ngx_rooms_ws_ban(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
static void ngx_rooms_ws_role(ngx_rooms_ws_ctx_t *ctx,
    const rooms_proto_hdr_t *hdr, const u_char *payload);
static ngx_int_t ngx_rooms_ws_name(json_t *v, ngx_str_t *name);
static void ngx_rooms_ws_refuse(ngx_rooms_ws_ctx_t *ctx, const char *code,
    const char *message, unsigned close_code);
static void ngx_rooms_ws_error(ngx_rooms_ws_ctx_t *ctx, const char *code,
    const char *message, const char *start_at);
static ngx_int_t ngx_rooms_ws_queue(ngx_rooms_ws_ctx_t *ctx, int opcode,
    const u_char *data, size_t len);
static void ngx_rooms_ws_close(ngx_rooms_ws_ctx_t *ctx, unsigned code,
    const char *reason);
static void ngx_rooms_ws_set_timer(ngx_rooms_ws_ctx_t *ctx);
static void ngx_rooms_ws_run(ngx_rooms_ws_ctx_t *ctx);
static ngx_int_t ngx_rooms_ws_flush(ngx_rooms_ws_ctx_t *ctx);
static void ngx_rooms_ws_finalize(ngx_rooms_ws_ctx_t *ctx, ngx_int_t rc);
static void ngx_rooms_ws_detach(ngx_rooms_ws_ctx_t *ctx);
static ngx_rooms_ws_ctx_t *ngx_rooms_ws_find(uint64_t id);
static void ngx_rooms_ws_cleanup(void *data);


#define ngx_rooms_ws_ctx_of(n)                                                \
    ((ngx_rooms_ws_ctx_t *) ((u_char *) (n)                                   \
                             - offsetof(ngx_rooms_ws_ctx_t, node)))


/* this process's joined WebSockets, by id */
static ngx_rbtree_t       ngx_rooms_ws_conns;
static ngx_rbtree_node_t  ngx_rooms_ws_sentinel;


void
ngx_rooms_ws_init_process(ngx_cycle_t *cycle)
{
    ngx_rbtree_init(&ngx_rooms_ws_conns, &ngx_rooms_ws_sentinel,
                    ngx_rbtree_insert_value);
}


ngx_int_t
ngx_rooms_ws_handler(ngx_http_request_t *r, rooms_room_t *room,
    rooms_error_t *err)
{
    char       accept[ROOMS_WS_ACCEPT_LEN + 1];
    ngx_int_t  rc;

    rc = ngx_rooms_ws_check(r, accept, err);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_rooms_ws_upgrade(r, room, accept);
}


/*
 * RFC 6455 4.2.1: GET over HTTP/1.1 (checked by the caller and here),
 * "Upgrade: websocket", "Connection: upgrade" among its tokens, one valid
 * Sec-WebSocket-Key, and "Sec-WebSocket-Version: 13" (another version is
 * answered 426 with the version this server speaks).
 */
static ngx_int_t
ngx_rooms_ws_check(ngx_http_request_t *r,
    char accept[ROOMS_WS_ACCEPT_LEN + 1], rooms_error_t *err)
{
    ngx_str_t        *key, *version;
    ngx_uint_t        i, upgrade, connection, keys, versions;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *vh;

    if (r != r->main || r->http_version != NGX_HTTP_VERSION_11) {
        rooms_error(err, NGX_HTTP_BAD_REQUEST, "bad_handshake",
                    "a WebSocket handshake needs HTTP/1.1");
        return NGX_DECLINED;
    }

    if (r->headers_in.content_length_n > 0 || r->headers_in.chunked) {
        rooms_error(err, NGX_HTTP_BAD_REQUEST, "bad_handshake",
                    "a WebSocket handshake has no body");
        return NGX_DECLINED;
    }

    upgrade = 0;
    connection = 0;
    keys = 0;
    versions = 0;
    key = NULL;
    version = NULL;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == sizeof("Upgrade") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Upgrade",
                               sizeof("Upgrade") - 1) == 0)
        {
            upgrade |= (ngx_rooms_ws_has_token(&h[i].value, "websocket")
                        == NGX_OK);

        } else if (h[i].key.len == sizeof("Connection") - 1
                   && ngx_strncasecmp(h[i].key.data, (u_char *) "Connection",
                                      sizeof("Connection") - 1) == 0)
        {
            connection |= (ngx_rooms_ws_has_token(&h[i].value, "upgrade")
                           == NGX_OK);

        } else if (h[i].key.len == sizeof("Sec-WebSocket-Key") - 1
                   && ngx_strncasecmp(h[i].key.data,
                                      (u_char *) "Sec-WebSocket-Key",
                                      sizeof("Sec-WebSocket-Key") - 1) == 0)
        {
            keys++;
            key = &h[i].value;

        } else if (h[i].key.len == sizeof("Sec-WebSocket-Version") - 1
                   && ngx_strncasecmp(h[i].key.data,
                                      (u_char *) "Sec-WebSocket-Version",
                                      sizeof("Sec-WebSocket-Version") - 1)
                      == 0)
        {
            versions++;
            version = &h[i].value;
        }
    }

    if (!upgrade || !connection) {
        rooms_error(err, NGX_HTTP_BAD_REQUEST, "bad_handshake",
                    "this address speaks WebSocket only: send "
                    "\"Upgrade: websocket\" and "
                    "\"Connection: Upgrade\"");
        return NGX_DECLINED;
    }

    if (versions != 1) {
        rooms_error(err, NGX_HTTP_BAD_REQUEST, "bad_handshake",
                    "send one Sec-WebSocket-Version header");
        return NGX_DECLINED;
    }

    if (version->len != 2 || ngx_strncmp(version->data, "13", 2) != 0) {
        vh = ngx_list_push(&r->headers_out.headers);
        if (vh == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        vh->hash = 1;
        ngx_str_set(&vh->key, "Sec-WebSocket-Version");
        ngx_str_set(&vh->value, "13");

        /* nginx knows no reason phrase for 426 */
        ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");

        rooms_error(err, 426, "unsupported_websocket_version",
                    "this server speaks WebSocket version 13");
        return NGX_DECLINED;
    }

    if (keys != 1
        || rooms_ws_accept_key((char *) key->data, key->len, accept) != 0)
    {
        rooms_error(err, NGX_HTTP_BAD_REQUEST, "bad_handshake",
                    "send one valid Sec-WebSocket-Key (16 bytes in "
                    "base64)");
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* Is token one of the comma-separated, case-insensitive values? */
static ngx_int_t
ngx_rooms_ws_has_token(ngx_str_t *value, const char *token)
{
    size_t   len;
    u_char  *p, *last, *start, *end;

    len = ngx_strlen(token);
    p = value->data;
    last = value->data + value->len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < last && *p != ',') {
            p++;
        }

        end = p;

        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        if ((size_t) (end - start) == len
            && ngx_strncasecmp(start, (u_char *) token, len) == 0)
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_rooms_ws_upgrade(ngx_http_request_t *r, rooms_room_t *room, char *accept)
{
    u_char                    *buf;
    size_t                     n;
    ngx_int_t                  rc;
    ngx_table_elt_t           *h;
    ngx_connection_t          *c;
    ngx_pool_cleanup_t        *cln;
    ngx_rooms_ws_ctx_t        *ctx;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_rooms_ws_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ctx->id = 0;
     *     ctx->out = NULL;
     *     ctx->out_size = 0;
     *     ctx->out_pos = 0;
     *     ctx->out_last = 0;
     *     ctx->joined = 0;
     *     ctx->closing = 0;
     */

    buf = ngx_palloc(r->pool, ROOMS_WS_MESSAGE_MAX);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->in = ngx_palloc(r->pool, NGX_ROOMS_WS_READ_SIZE);
    if (ctx->in == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_rooms_ws_cleanup;
    cln->data = ctx;

    ctx->request = r;
    ngx_memcpy(ctx->code, room->code, ROOMS_CODE_LEN);
    rooms_ws_init(&ctx->parser, buf, ROOMS_WS_MESSAGE_MAX);

    ctx->timer.handler = ngx_rooms_ws_timer_handler;
    ctx->timer.data = ctx;
    ctx->timer.log = c->log;

    ngx_http_set_ctx(r, ctx, ngx_rooms_module);

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Upgrade");
    ngx_str_set(&h->value, "websocket");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, ROOMS_WS_ACCEPT_LEN);
    if (h->value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Sec-WebSocket-Accept");
    ngx_memcpy(h->value.data, accept, ROOMS_WS_ACCEPT_LEN);
    h->value.len = ROOMS_WS_ACCEPT_LEN;

    /* the header filter writes "Connection: upgrade" for a 101 */
    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;
    ngx_str_set(&r->headers_out.status_line, "101 Switching Protocols");
    r->headers_out.content_length_n = -1;
    r->keepalive = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return NGX_ERROR;
    }

    /* the header is in r->out until a flush: push it to the socket */
    if (ngx_http_send_special(r, NGX_HTTP_FLUSH) == NGX_ERROR) {
        return NGX_ERROR;
    }

    /* from here the connection is ours; the reference is dropped at the end */

    r->main->count++;

    c->log->action = "in WebSocket signaling";

    c->read->handler = ngx_rooms_ws_read_handler;
    c->write->handler = ngx_rooms_ws_write_handler;

    /* a graceful shutdown calls the read handler with c->close set */
    c->idle = 1;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        /* the write event below finalizes it */
        c->error = 1;
    }

    ctx->started = ngx_current_msec;
    ctx->last_recv = ctx->started;
    ctx->last_ping = ctx->started;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "rooms ws: upgraded, %uz bytes came along",
                   (size_t) (r->header_in->last - r->header_in->pos));

    /* frames sent together with the handshake come first */

    n = r->header_in->last - r->header_in->pos;

    if (n) {
        buf = r->header_in->pos;
        r->header_in->pos = r->header_in->last;
        ngx_rooms_ws_input(ctx, buf, n);
    }

    if (ngx_exiting) {
        ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_GOING_AWAY,
                           "server shutting down");
    }

    if (!ctx->closing) {
        ngx_rooms_ws_set_timer(ctx);
    }

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);

    } else if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        c->error = 1;
    }

    /* the write handler sends what the input queued, or finalizes */
    ngx_post_event(c->write, &ngx_posted_events);

    return NGX_DONE;
}


static void
ngx_rooms_ws_read_handler(ngx_event_t *rev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_rooms_ws_ctx_t  *ctx;

    c = rev->data;
    r = c->data;
    ctx = ngx_http_get_module_ctx(r, ngx_rooms_module);

    if (c->close) {
        /* a graceful shutdown (or reload) of this nginx worker */
        c->close = 0;
        c->idle = 0;
        ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_GOING_AWAY,
                           "server shutting down");

    } else if (ngx_rooms_ws_read(ctx) == NGX_DONE) {
        /* finalized: ctx may be gone */
        ngx_http_run_posted_requests(c);
        return;
    }

    ngx_rooms_ws_run(ctx);
    ngx_http_run_posted_requests(c);
}


static void
ngx_rooms_ws_write_handler(ngx_event_t *wev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_rooms_ws_ctx_t  *ctx;

    c = wev->data;
    r = c->data;
    ctx = ngx_http_get_module_ctx(r, ngx_rooms_module);

    if (!ctx->done) {
        ngx_rooms_ws_run(ctx);
    }

    ngx_http_run_posted_requests(c);
}


/*
 * The one timer of a connection: the join deadline, the next ping and the
 * idle deadline while open; the close deadline while closing.
 */
static void
ngx_rooms_ws_timer_handler(ngx_event_t *ev)
{
    ngx_msec_t           now;
    ngx_connection_t    *c;
    ngx_rooms_ws_ctx_t  *ctx;

    ctx = ev->data;
    c = ctx->request->connection;
    now = ngx_current_msec;

    if (ctx->closing) {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "rooms: the WebSocket close frame could not be sent "
                      "within %d ms", NGX_ROOMS_WS_CLOSE_TIMEOUT);
        c->timedout = 1;
        ngx_rooms_ws_finalize(ctx, NGX_ERROR);
        ngx_http_run_posted_requests(c);
        return;
    }

    if (ngx_exiting) {
        ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_GOING_AWAY,
                           "server shutting down");

    } else if (!ctx->join_seen
               && (ngx_msec_int_t) (now - ctx->started)
                  >= NGX_ROOMS_WS_JOIN_TIMEOUT)
    {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "rooms: no join within %d ms of the WebSocket upgrade",
                      NGX_ROOMS_WS_JOIN_TIMEOUT);
        ngx_rooms_ws_close(ctx, NGX_ROOMS_WS_CLOSE_NO_JOIN, "join timeout");

    } else if ((ngx_msec_int_t) (now - ctx->last_recv)
               >= NGX_ROOMS_WS_IDLE)
    {
        ngx_log_error(NGX_LOG_INFO, c->log, 0,
                      "rooms: nothing from the WebSocket client for %d ms",
                      NGX_ROOMS_WS_IDLE);
        ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_GOING_AWAY, "idle timeout");

    } else {
        if ((ngx_msec_int_t) (now - ctx->last_ping) >= NGX_ROOMS_WS_PING) {
            ctx->last_ping = now;

            if (ngx_rooms_ws_queue(ctx, ROOMS_WS_OP_PING, NULL, 0) != NGX_OK)
            {
                ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_POLICY, "too slow");
            }
        }

        if (!ctx->closing) {
            ngx_rooms_ws_set_timer(ctx);
        }
    }

    ngx_rooms_ws_run(ctx);
    ngx_http_run_posted_requests(c);
}


/* Returns NGX_DONE when the request was finalized, NGX_OK otherwise. */
static ngx_int_t
ngx_rooms_ws_read(ngx_rooms_ws_ctx_t *ctx)
{
    ssize_t              n;
    ngx_uint_t           i;
    ngx_connection_t    *c;

    c = ctx->request->connection;

    for (i = 0; i < NGX_ROOMS_WS_READS; i++) {

        if (!c->read->ready) {
            break;
        }

        n = c->recv(c, ctx->in, NGX_ROOMS_WS_READ_SIZE);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ngx_rooms_ws_finalize(ctx, NGX_ERROR);
            return NGX_DONE;
        }

        if (n == 0) {
            /*
             * The client shut its side down.  A close frame queued in
             * answer to its own may still go out: one try, no waiting.
             */
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                           "rooms ws: client closed");

            if (ctx->out_last > ctx->out_pos) {
                (void) ngx_rooms_ws_flush(ctx);
            }

            ngx_rooms_ws_finalize(ctx, NGX_DONE);
            return NGX_DONE;
        }

        ctx->last_recv = ngx_current_msec;

        /* after our close frame, input is read only to be dropped */
        if (!ctx->closing) {
            ngx_rooms_ws_input(ctx, ctx->in, (size_t) n);
        }
    }

    if (i == NGX_ROOMS_WS_READS && c->read->ready) {
        /* a busy client: let the others run first */
        ngx_post_event(c->read, &ngx_posted_events);
        return NGX_OK;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_rooms_ws_finalize(ctx, NGX_ERROR);
        return NGX_DONE;
    }

    return NGX_OK;
}


/* Feeds client bytes to the parser and acts on each event. */
static void
ngx_rooms_ws_input(ngx_rooms_ws_ctx_t *ctx, u_char *data, size_t len)
{
    size_t              n;
    ngx_log_t          *log;
    rooms_ws_event_t    ev;

    log = ctx->request->connection->log;

    while (len && !ctx->closing) {

        n = rooms_ws_feed(&ctx->parser, data, len, &ev);
        data += n;
        len -= n;

        switch (ev.type) {

        case ROOMS_WS_EV_NONE:
        case ROOMS_WS_EV_PONG:
            break;

        case ROOMS_WS_EV_TEXT:
            ngx_rooms_ws_message(ctx, ev.data, ev.len);
            break;

        case ROOMS_WS_EV_BINARY:
            ngx_rooms_ws_refuse(ctx, "bad_message",
                                "messages are JSON in text frames",
                                NGX_ROOMS_WS_CLOSE_BAD);
            break;

        case ROOMS_WS_EV_PING:
            if (ngx_rooms_ws_queue(ctx, ROOMS_WS_OP_PONG, ev.data, ev.len)
                != NGX_OK)
            {
                ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_POLICY, "too slow");
            }

            break;

        case ROOMS_WS_EV_CLOSE:
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                           "rooms ws: client close %ui", (ngx_uint_t) ev.code);

            /* echo its code: the close handshake is complete */
            ctx->peer_closed = 1;
            ngx_rooms_ws_close(ctx, ev.code, NULL);
            break;

        default: /* ROOMS_WS_EV_ERROR */
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "rooms: WebSocket protocol error: %s", ev.error);
            ngx_rooms_ws_close(ctx, ev.code, ev.error);
            break;
        }
    }
}


/* One text message: JSON with a "type" (docs/protocol.md). */
static void
ngx_rooms_ws_message(ngx_rooms_ws_ctx_t *ctx, const u_char *data,
    size_t len)
{
    json_t        *msg, *v;
    const char    *type;
    json_error_t   jerr;

    msg = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES, &jerr);

    if (msg == NULL || !json_is_object(msg)) {
        json_decref(msg);
        ngx_rooms_ws_refuse(ctx, "bad_message",
                            "a message is a JSON object",
                            NGX_ROOMS_WS_CLOSE_BAD);
        return;
    }

    v = json_object_get(msg, "type");
    type = json_is_string(v) ? json_string_value(v) : NULL;

    if (type == NULL) {
        ngx_rooms_ws_refuse(ctx, "bad_message",
                            "a message needs a string \"type\"",
                            NGX_ROOMS_WS_CLOSE_BAD);
        goto done;
    }

    if (!ctx->join_seen) {
        if (ngx_strcmp(type, "join") != 0) {
            ngx_rooms_ws_refuse(ctx, "bad_message",
                                "the first message must be a join",
                                NGX_ROOMS_WS_CLOSE_BAD);
            goto done;
        }

        ngx_rooms_ws_join(ctx, msg);
        goto done;
    }

    if (ngx_strcmp(type, "remove") == 0
        || ngx_strcmp(type, "mute") == 0
        || ngx_strcmp(type, "admit") == 0
        || ngx_strcmp(type, "deny") == 0
        || ngx_strcmp(type, "lock") == 0
        || ngx_strcmp(type, "end") == 0
        || ngx_strcmp(type, "cohost") == 0
        || ngx_strcmp(type, "uncohost") == 0)
    {
        ngx_rooms_ws_host_action(ctx, type, msg, data, len);
        goto done;
    }

    if (ngx_strcmp(type, "offer") != 0
        && ngx_strcmp(type, "media") != 0
        && ngx_strcmp(type, "view") != 0
        && ngx_strcmp(type, "leave") != 0)
    {
        ngx_rooms_ws_refuse(ctx, "bad_message",
                            ngx_strcmp(type, "join") == 0
                            ? "already joined" : "unknown message type",
                            NGX_ROOMS_WS_CLOSE_BAD);
        goto done;
    }

    ngx_rooms_ws_forward(ctx, data, len);

    if (ngx_strcmp(type, "leave") == 0) {
        ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_NORMAL, "bye");
    }

done:

    json_decref(msg);
}


/* A message for the media worker, verbatim: it parses what it needs. */
static void
ngx_rooms_ws_forward(ngx_rooms_ws_ctx_t *ctx, const u_char *data,
    size_t len)
{
    ngx_int_t  rc;

    rc = ngx_rooms_media_push(ROOMS_PROTO_SIGNAL, ctx->id, data, len);

    if (rc != NGX_OK) {
        ngx_rooms_ws_refuse(ctx, "media_unavailable",
                            rc == NGX_BUSY
                            ? "the media server is overloaded; join again"
                            : "the media server is unavailable",
                            NGX_ROOMS_WS_CLOSE_LATER);
    }
}


/*
 * remove, mute, admit, deny, lock, end, cohost and uncohost.  This is the
 * one place where nginx checks that they come from a host or a co-host:
 * end, cohost and uncohost from a host only, the others from either.
 * From anyone else (a waiting guest too) they are answered not_host and
 * change nothing, and the connection stays open.  The media worker checks
 * the role again (worker/sfu.c) for what reaches it, and it alone knows
 * whom an id names (a co-host may not remove a host or a co-host); a
 * co-host's lock is checked again against the store, under the directory
 * lock, so a revoked co-host cannot lock.
 */
static void
ngx_rooms_ws_host_action(ngx_rooms_ws_ctx_t *ctx, const char *type,
    json_t *msg, const u_char *data, size_t len)
{
    json_t         *v;
    ngx_int_t       rc;
    ngx_uint_t      host_only;
    rooms_patch_t   patch;
    rooms_error_t   err;

    host_only = (ngx_strcmp(type, "end") == 0
                 || ngx_strcmp(type, "cohost") == 0
                 || ngx_strcmp(type, "uncohost") == 0);

    if (!ctx->host && (host_only || !ctx->cohost)) {
        ngx_rooms_ws_error(ctx, "not_host", "only the host can do this",
                           NULL);
        return;
    }

    if (ngx_strcmp(type, "lock") != 0 && ngx_strcmp(type, "end") != 0) {
        v = json_object_get(msg, "id");

        if (!json_is_string(v)) {
            ngx_rooms_ws_refuse(ctx, "bad_message",
                                "remove, mute, admit, deny, cohost and "
                                "uncohost need a participant's \"id\"",
                                NGX_ROOMS_WS_CLOSE_BAD);
            return;
        }

        /* the media worker knows whom the id names */
        ngx_rooms_ws_forward(ctx, data, len);
        return;
    }

    if (ngx_strcmp(type, "lock") == 0) {
        v = json_object_get(msg, "locked");

        if (!json_is_boolean(v)) {
            ngx_rooms_ws_refuse(ctx, "bad_message",
                                "lock needs a boolean \"locked\"",
                                NGX_ROOMS_WS_CLOSE_BAD);
            return;
        }

        ngx_memzero(&patch, sizeof(rooms_patch_t));
        patch.has_locked = 1;
        patch.locked = json_is_true(v);

        rc = ngx_rooms_ws_change(ctx, NGX_ROOMS_UPDATE, &patch, &err);

    } else { /* end */
        rc = ngx_rooms_ws_change(ctx, NGX_ROOMS_END, NULL, &err);
    }

    /*
     * On success everyone in the room, this host too, hears of it from
     * the media worker: {"type":"room",...}, or room_ended and 4403.
     */

    switch (rc) {

    case NGX_OK:
        break;

    case NGX_ROOMS_REFUSED:
        ngx_rooms_ws_error(ctx, err.code, err.message, NULL);
        break;

    case NGX_ERROR:
        ngx_rooms_ws_error(ctx, "storage_unavailable",
                           "the change could not be stored; nothing "
                           "changed", NULL);
        break;

    default:
        ngx_rooms_ws_error(ctx, "not_found", "the room is gone", NULL);
        break;
    }
}


/*
 * A host's or co-host's change through the HTTP API's path
 * (ngx_rooms_host_change()), on the room this connection joined.  A
 * rotation since the join retired the code it knows: the room's current
 * one is looked up once, by id.
 */
static ngx_int_t
ngx_rooms_ws_change(ngx_rooms_ws_ctx_t *ctx, ngx_uint_t action,
    rooms_patch_t *patch, rooms_error_t *err)
{
    char                    code[ROOMS_CODE_LEN + 1];
    ngx_int_t               rc;
    ngx_log_t              *log;
    rooms_room_t            room;
    ngx_rooms_main_conf_t  *rmcf;

    log = ctx->request->connection->log;
    rmcf = ngx_http_get_module_main_conf(ctx->request, ngx_rooms_module);

    rc = ngx_rooms_host_change(rmcf, log, ctx->code, ctx->key_hash,
                               !ctx->host, action, patch, &room, err);

    if (rc != NGX_ROOMS_GONE) {
        return rc;
    }

    switch (rooms_store_code(rmcf->store, ctx->room_id, code)) {

    case ROOMS_STORE_OK:
        break;

    case ROOMS_STORE_NOT_FOUND:
        return NGX_DECLINED;

    default:
        ngx_log_error(NGX_LOG_ERR, log, 0, "rooms_store lookup failed: %s",
                      rooms_store_errmsg(rmcf->store));
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->code, code, ROOMS_CODE_LEN);

    return ngx_rooms_host_change(rmcf, log, ctx->code, ctx->key_hash,
                                 !ctx->host, action, patch, &room, err);
}


/*
 * A join: the name, the optional host key, co-host key and guest token,
 * the room read afresh, the role, admission, then the JOIN record.  The
 * media worker counts people (room_full) and keeps a knock room's lobby:
 * the JOIN carries the room's state as read here, with its revision, so
 * the worker can tell it from a newer one it has heard of.
 */
static void
ngx_rooms_ws_join(ngx_rooms_ws_ctx_t *ctx, json_t *msg)
{
    u_char                  key_hash[ROOMS_HASH_LEN];
    u_char                  cohost_hash[ROOMS_HASH_LEN];
    u_char                  token_hash[ROOMS_HASH_LEN];
    char                    token_hex[ROOMS_HASH_HEX_LEN + 1], *text;
    json_t                 *join;
    uint64_t                id;
    ngx_int_t               rc, has_key, has_cohost_key;
    ngx_str_t               name;
    rooms_room_t            room;
    ngx_connection_t       *c;
    ngx_rooms_loc_conf_t   *rlcf;
    ngx_rooms_main_conf_t  *rmcf;

    ctx->join_seen = 1;

    c = ctx->request->connection;

    if (ngx_rooms_ws_name(json_object_get(msg, "name"), &name) != NGX_OK) {
        ngx_rooms_ws_refuse(ctx, "bad_message",
                            "a name is 1 to 64 characters, without control "
                            "characters", NGX_ROOMS_WS_CLOSE_BAD);
        return;
    }

    has_key = ngx_rooms_ws_secret(ctx, json_object_get(msg, "host_key"),
                                  NGX_ROOMS_WS_HOST_KEY, key_hash);
    if (has_key == NGX_ERROR) {
        return;
    }

    has_cohost_key = ngx_rooms_ws_secret(ctx,
                                         json_object_get(msg, "cohost_key"),
                                         NGX_ROOMS_WS_COHOST_KEY,
                                         cohost_hash);
    if (has_cohost_key == NGX_ERROR) {
        return;
    }

    rc = ngx_rooms_ws_secret(ctx, json_object_get(msg, "guest_token"),
                             NGX_ROOMS_WS_GUEST_TOKEN, token_hash);
    if (rc == NGX_ERROR) {
        return;
    }

    if (rc == NGX_DECLINED) {
        /* a browser new to this room: its token is drawn here */
        if (rooms_token_guest((char *) ctx->token) != 0) {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "rooms: the random source failed");
            ngx_rooms_ws_refuse(ctx, "internal_error",
                                "the server cannot draw a token",
                                ROOMS_WS_CLOSE_INTERNAL);
            return;
        }

        rooms_token_hash(ctx->token, ROOMS_GUEST_TOKEN_LEN, token_hash);
    }

    rmcf = ngx_http_get_module_main_conf(ctx->request, ngx_rooms_module);

    rc = ngx_rooms_dir_get(rmcf, c->log, ctx->code, &room);

    switch (rc) {

    case NGX_OK:
        break;

    case NGX_ROOMS_GONE:
        ngx_rooms_ws_refuse(ctx, "gone",
                            "this invite link was replaced by the host",
                            NGX_ROOMS_WS_CLOSE_REFUSED);
        return;

    case NGX_DECLINED:
        ngx_rooms_ws_refuse(ctx, "not_found", "no room has this code",
                            NGX_ROOMS_WS_CLOSE_REFUSED);
        return;

    default:
        ngx_rooms_ws_refuse(ctx, "storage_unavailable",
                            "rooms cannot be read right now",
                            NGX_ROOMS_WS_CLOSE_LATER);
        return;
    }

    /* a key that is not this room's makes a guest, like no key at all */
    if (has_key == NGX_OK && rooms_token_hash_equal(key_hash, room.host_hash))
    {
        ctx->host = 1;
        ngx_memcpy(ctx->key_hash, key_hash, ROOMS_HASH_LEN);

    } else if (has_cohost_key == NGX_OK) {
        if (ngx_rooms_ws_cohost_check(ctx, &room, cohost_hash, token_hash)
            != NGX_OK)
        {
            return;
        }
    }

    if (ngx_rooms_ws_admit(ctx, &room, token_hash) != NGX_OK) {
        return;
    }

    id = ngx_rooms_media_conn_id();

    if (id == 0) {
        ngx_rooms_ws_refuse(ctx, "media_unavailable",
                            "the media server is unavailable; try again "
                            "shortly", NGX_ROOMS_WS_CLOSE_LATER);
        return;
    }

    rooms_token_hash_hex(token_hash, token_hex);

    rlcf = ngx_http_get_module_loc_conf(ctx->request, ngx_rooms_module);

    join = json_pack("{s:I,s:s,s:I,s:i,s:s%,s:s,s:s,s:b,s:s,s:s,s:I,s:I}",
                     "room", (json_int_t) room.id,
                     "code", room.code,
                     "rev", (json_int_t) room.rev,
                     "max", (int) room.max_participants,
                     "name", (char *) name.data, name.len,
                     "role", ctx->host ? "host"
                             : (ctx->cohost ? "cohost" : "guest"),
                     "token", token_hex,
                     "locked", (int) room.locked,
                     "admission", room.admission == ROOMS_ADMISSION_KNOCK
                                  ? "knock" : "open",
                     "host_absent", rooms_host_absent_name(room.host_absent),
                     "grace", (json_int_t) rlcf->host_grace,
                     "video_slots", (json_int_t) rlcf->video_slots);

    text = join ? json_dumps(join, JSON_COMPACT) : NULL;
    json_decref(join);

    if (text == NULL) {
        ngx_rooms_ws_refuse(ctx, "internal_error", "out of memory",
                            ROOMS_WS_CLOSE_INTERNAL);
        return;
    }

    rc = ngx_rooms_media_push(ROOMS_PROTO_JOIN, id, text, ngx_strlen(text));
    free(text);

    if (rc != NGX_OK) {
        ngx_rooms_ws_refuse(ctx, "media_unavailable",
                            rc == NGX_BUSY
                            ? "the media server is overloaded; try again "
                              "shortly"
                            : "the media server is unavailable; try again "
                              "shortly", NGX_ROOMS_WS_CLOSE_LATER);
        return;
    }

    ctx->id = id;
    ctx->room_id = room.id;
    ctx->node.key = (ngx_rbtree_key_t) id;
    ngx_rbtree_insert(&ngx_rooms_ws_conns, &ctx->node);
    ctx->joined = 1;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "rooms ws: joined room %L as id %uL, %s", room.id, id,
                   ctx->host ? "host" : (ctx->cohost ? "cohost" : "guest"));
}


/*
 * The join's host_key, cohost_key or guest_token (kind): absent or null
 * is NGX_DECLINED; a value of the exact shape (a co-host key has a host
 * key's) is NGX_OK, with its SHA-256 in hash (a guest token is kept for
 * the welcome too); anything else is refused bad_message and NGX_ERROR.
 */
static ngx_int_t
ngx_rooms_ws_secret(ngx_rooms_ws_ctx_t *ctx, json_t *v, ngx_uint_t kind,
    u_char *hash)
{
    size_t   len;
    u_char  *s;

    if (v == NULL || json_is_null(v)) {
        return NGX_DECLINED;
    }

    s = json_is_string(v) ? (u_char *) json_string_value(v) : NULL;
    len = s ? json_string_length(v) : 0;

    switch (kind) {

    case NGX_ROOMS_WS_HOST_KEY:
        if (s == NULL || !rooms_token_is_host_key(s, len)) {
            ngx_rooms_ws_refuse(ctx, "bad_message",
                                "host_key is not a host key",
                                NGX_ROOMS_WS_CLOSE_BAD);
            return NGX_ERROR;
        }

        break;

    case NGX_ROOMS_WS_COHOST_KEY:
        if (s == NULL || !rooms_token_is_host_key(s, len)) {
            ngx_rooms_ws_refuse(ctx, "bad_message",
                                "cohost_key is not a co-host key",
                                NGX_ROOMS_WS_CLOSE_BAD);
            return NGX_ERROR;
        }

        break;

    default: /* NGX_ROOMS_WS_GUEST_TOKEN */
        if (s == NULL || !rooms_token_is_guest(s, len)) {
            ngx_rooms_ws_refuse(ctx, "bad_message",
                                "guest_token is not a guest token",
                                NGX_ROOMS_WS_CLOSE_BAD);
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->token, s, ROOMS_GUEST_TOKEN_LEN);
        ctx->token[ROOMS_GUEST_TOKEN_LEN] = '\0';
        break;
    }

    rooms_token_hash(s, len, hash);

    return NGX_OK;
}


/*
 * A join's co-host key makes a co-host when it is an active credential of
 * this room bound to the guest token this join carries: a key copied to
 * another browser (another token), or revoked, joins as a guest, without
 * an error.  NGX_OK either way; NGX_ERROR when the store failed (refused
 * here).
 */
static ngx_int_t
ngx_rooms_ws_cohost_check(ngx_rooms_ws_ctx_t *ctx, rooms_room_t *room,
    u_char *key_hash, u_char *token_hash)
{
    int                     rc;
    u_char                  bound[ROOMS_HASH_LEN];
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(ctx->request, ngx_rooms_module);

    rc = rooms_store_cohost_check(rmcf->store, room->id, key_hash, bound);

    if (rc == ROOMS_STORE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "rooms_store co-host lookup failed: %s",
                      rooms_store_errmsg(rmcf->store));
        ngx_rooms_ws_refuse(ctx, "storage_unavailable",
                            "rooms cannot be read right now",
                            NGX_ROOMS_WS_CLOSE_LATER);
        return NGX_ERROR;
    }

    if (rc == 1 && rooms_token_hash_equal(bound, token_hash)) {
        ctx->cohost = 1;
        ngx_memcpy(ctx->key_hash, key_hash, ROOMS_HASH_LEN);
    }

    return NGX_OK;
}


/*
 * Admission, nginx's one check of who may come in, in this order
 * (docs/protocol.md): an ended room (room_ended), one that has not
 * started (not_started), a guest token a host removed (removed), a room
 * locked to guests (locked).  A host is never banned and gets past the
 * lock; a co-host is checked for a ban like a guest (a ban revokes its
 * key anyway) and gets past the lock like a host.  The refusal is sent
 * here; NGX_DECLINED then.
 */
static ngx_int_t
ngx_rooms_ws_admit(ngx_rooms_ws_ctx_t *ctx, rooms_room_t *room,
    u_char *token_hash)
{
    int                     banned;
    char                    start_at[ROOMS_TIME_LEN + 1];
    const char             *state;
    ngx_rooms_main_conf_t  *rmcf;

    state = rooms_state(room, ngx_time());

    if (ngx_strcmp(state, "ended") == 0) {
        ngx_rooms_ws_refuse(ctx, "room_ended", "the host ended this room",
                            NGX_ROOMS_WS_CLOSE_REFUSED);
        return NGX_DECLINED;
    }

    if (ngx_strcmp(state, "scheduled") == 0) {
        rooms_time_format(room->start_at, start_at);
        ngx_rooms_ws_error(ctx, "not_started", "the room has not started",
                           start_at);
        ngx_rooms_ws_close(ctx, NGX_ROOMS_WS_CLOSE_REFUSED, "refused");
        return NGX_DECLINED;
    }

    if (ctx->host) {
        return NGX_OK;
    }

    /* bans are not cached in the directory: the store is asked each time */

    rmcf = ngx_http_get_module_main_conf(ctx->request, ngx_rooms_module);

    banned = rooms_store_is_banned(rmcf->store, room->id, token_hash);

    if (banned == ROOMS_STORE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ctx->request->connection->log, 0,
                      "rooms_store ban lookup failed: %s",
                      rooms_store_errmsg(rmcf->store));
        ngx_rooms_ws_refuse(ctx, "storage_unavailable",
                            "rooms cannot be read right now",
                            NGX_ROOMS_WS_CLOSE_LATER);
        return NGX_DECLINED;
    }

    if (banned) {
        ngx_rooms_ws_refuse(ctx, "removed",
                            "the host removed you from this room",
                            NGX_ROOMS_WS_CLOSE_REFUSED);
        return NGX_DECLINED;
    }

    if (room->locked && !ctx->cohost) {
        ngx_rooms_ws_refuse(ctx, "locked", "the host locked this room",
                            NGX_ROOMS_WS_CLOSE_REFUSED);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A display name: a string, trimmed of white space, 1 to 64 characters
 * (code points; the frame was valid UTF-8), with no C0 or C1 control
 * character and no DEL.
 */
static ngx_int_t
ngx_rooms_ws_name(json_t *v, ngx_str_t *name)
{
    u_char      *p, *last;
    ngx_uint_t   chars;

    if (!json_is_string(v)) {
        return NGX_DECLINED;
    }

    p = (u_char *) json_string_value(v);
    last = p + json_string_length(v);

    while (p < last && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
        p++;
    }

    while (last > p
           && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\r'
               || last[-1] == '\n'))
    {
        last--;
    }

    name->data = p;
    name->len = last - p;

    chars = 0;

    for ( /* void */ ; p < last; p++) {

        if (*p < 0x20 || *p == 0x7f) {
            return NGX_DECLINED;
        }

        /* U+0080..U+009F are 0xc2 0x80..0x9f */
        if (*p == 0xc2 && p + 1 < last && p[1] >= 0x80 && p[1] <= 0x9f) {
            return NGX_DECLINED;
        }

        if ((*p & 0xc0) != 0x80) {
            chars++;
        }
    }

    if (chars == 0 || chars > NGX_ROOMS_WS_NAME_MAX) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* An error message, then the close frame. */
static void
ngx_rooms_ws_refuse(ngx_rooms_ws_ctx_t *ctx, const char *code,
    const char *message, unsigned close_code)
{
    ngx_rooms_ws_error(ctx, code, message, NULL);
    ngx_rooms_ws_close(ctx, close_code, code);
}


/* {"type":"error","code":...,"message":...[,"start_at":...]} */
static void
ngx_rooms_ws_error(ngx_rooms_ws_ctx_t *ctx, const char *code,
    const char *message, const char *start_at)
{
    char    *text;
    json_t  *err;

    if (start_at) {
        err = json_pack("{s:s,s:s,s:s,s:s}", "type", "error", "code", code,
                        "message", message, "start_at", start_at);

    } else {
        err = json_pack("{s:s,s:s,s:s}", "type", "error", "code", code,
                        "message", message);
    }

    text = err ? json_dumps(err, JSON_COMPACT) : NULL;
    json_decref(err);

    if (text == NULL) {
        return;
    }

    /* the close frame that follows is never refused */
    (void) ngx_rooms_ws_queue(ctx, ROOMS_WS_OP_TEXT, (u_char *) text,
                              ngx_strlen(text));
    free(text);
}


/*
 * Appends one frame to the send queue.  Returns NGX_DECLINED when the
 * client has not taken NGX_ROOMS_WS_OUT_MAX bytes yet (a close frame
 * always fits), NGX_ERROR when memory runs out; nothing is queued after
 * a close frame.
 */
static ngx_int_t
ngx_rooms_ws_queue(ngx_rooms_ws_ctx_t *ctx, int opcode, const u_char *data,
    size_t len)
{
    u_char  hdr[ROOMS_WS_HEADER_MAX], *out;
    size_t  hlen, used, need, size;

    if (ctx->closing) {
        return NGX_OK;
    }

    hlen = rooms_ws_frame_header(hdr, opcode, len);
    if (hlen == 0) {
        return NGX_ERROR;
    }

    used = ctx->out_last - ctx->out_pos;
    need = hlen + len;

    if (opcode != ROOMS_WS_OP_CLOSE && used + need > NGX_ROOMS_WS_OUT_MAX) {
        ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                      "rooms: the WebSocket client is too slow, %uz bytes "
                      "are waiting", used);
        return NGX_DECLINED;
    }

    if (ctx->out_size - ctx->out_last < need) {

        if (used + need <= ctx->out_size) {
            ngx_memmove(ctx->out, ctx->out + ctx->out_pos, used);

        } else {
            size = ngx_max(ctx->out_size * 2, NGX_ROOMS_WS_OUT_MIN);

            while (size < used + need) {
                size *= 2;
            }

            size = ngx_min(size, NGX_ROOMS_WS_OUT_MAX
                                 + NGX_ROOMS_WS_CLOSE_FRAME);

            out = ngx_alloc(size, ctx->request->connection->log);
            if (out == NULL) {
                return NGX_ERROR;
            }

            if (used) {
                ngx_memcpy(out, ctx->out + ctx->out_pos, used);
            }

            ngx_free(ctx->out);
            ctx->out = out;
            ctx->out_size = size;
        }

        ctx->out_pos = 0;
        ctx->out_last = used;
    }

    out = ngx_cpymem(ctx->out + ctx->out_last, hdr, hlen);

    if (len) {
        ngx_memcpy(out, data, len);
    }

    ctx->out_last += need;

    return NGX_OK;
}


/*
 * Starts the closing handshake: queues the close frame and leaves the
 * registry (the LEAVE record goes out now).  The connection ends once the
 * frame is sent, from its own write event.
 */
static void
ngx_rooms_ws_close(ngx_rooms_ws_ctx_t *ctx, unsigned code,
    const char *reason)
{
    u_char             payload[ROOMS_WS_CONTROL_MAX];
    size_t             len;
    ngx_connection_t  *c;

    if (ctx->closing || ctx->done) {
        return;
    }

    c = ctx->request->connection;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "rooms ws: closing with %ui \"%s\"", (ngx_uint_t) code,
                   reason ? reason : "");

    ngx_rooms_ws_detach(ctx);

    len = rooms_ws_close_payload(payload, code, reason);

    if (ngx_rooms_ws_queue(ctx, ROOMS_WS_OP_CLOSE, payload, len) != NGX_OK) {
        /* no memory for even that: the TCP close has to do */
        c->error = 1;
    }

    ctx->closing = 1;

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    ngx_add_timer(&ctx->timer, NGX_ROOMS_WS_CLOSE_TIMEOUT);

    ngx_post_event(c->write, &ngx_posted_events);
}


static void
ngx_rooms_ws_set_timer(ngx_rooms_ws_ctx_t *ctx)
{
    ngx_msec_t      now;
    ngx_msec_int_t  left, t;

    now = ngx_current_msec;

    left = (ngx_msec_int_t) (ctx->last_ping + NGX_ROOMS_WS_PING - now);

    t = (ngx_msec_int_t) (ctx->last_recv + NGX_ROOMS_WS_IDLE - now);
    left = ngx_min(left, t);

    if (!ctx->join_seen) {
        t = (ngx_msec_int_t) (ctx->started + NGX_ROOMS_WS_JOIN_TIMEOUT - now);
        left = ngx_min(left, t);
    }

    ngx_add_timer(&ctx->timer, (ngx_msec_t) ngx_max(left, 1));
}


/* Sends what is queued; ends the connection once its close frame is out. */
static void
ngx_rooms_ws_run(ngx_rooms_ws_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->request->connection->error) {
        ngx_rooms_ws_finalize(ctx, NGX_ERROR);
        return;
    }

    rc = ngx_rooms_ws_flush(ctx);

    if (rc == NGX_ERROR) {
        ngx_rooms_ws_finalize(ctx, NGX_ERROR);
        return;
    }

    if (rc == NGX_OK && ctx->closing) {
        ngx_rooms_ws_finalize(ctx, NGX_DONE);
    }
}


static ngx_int_t
ngx_rooms_ws_flush(ngx_rooms_ws_ctx_t *ctx)
{
    ssize_t              n;
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    /* the 101 may still sit in the output chain: it goes first */

    if (r->out || c->buffered) {
        if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (r->out || c->buffered) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                return NGX_ERROR;
            }

            return NGX_AGAIN;
        }
    }

    while (ctx->out_pos < ctx->out_last && c->write->ready) {

        n = c->send(c, ctx->out + ctx->out_pos, ctx->out_last - ctx->out_pos);

        if (n == NGX_ERROR) {
            c->error = 1;
            return NGX_ERROR;
        }

        if (n == NGX_AGAIN || n == 0) {
            break;
        }

        ctx->out_pos += n;
    }

    if (ctx->out_pos == ctx->out_last) {
        ctx->out_pos = 0;
        ctx->out_last = 0;

        /* a burst is over: give back what it needed */
        if (ctx->out_size > NGX_ROOMS_WS_OUT_KEEP) {
            ngx_free(ctx->out);
            ctx->out = NULL;
            ctx->out_size = 0;
        }
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    return ctx->out_last ? NGX_AGAIN : NGX_OK;
}


/*
 * Ends the request: NGX_DONE after a close handshake or a clean EOF (with
 * a lingering close when the client may still be sending), NGX_ERROR
 * otherwise.  Only ever called from this connection's own events.
 */
static void
ngx_rooms_ws_finalize(ngx_rooms_ws_ctx_t *ctx, ngx_int_t rc)
{
    ngx_http_request_t  *r;

    r = ctx->request;

    ngx_rooms_ws_detach(ctx);

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (ctx->timer.posted) {
        ngx_delete_posted_event(&ctx->timer);
    }

    ctx->done = 1;
    r->connection->idle = 0;

    if (rc == NGX_DONE && ctx->closing && !ctx->peer_closed) {
        r->lingering_close = 1;
    }

    ngx_http_finalize_request(r, rc);
}


/* Leaves the registry and tells the media worker, once. */
static void
ngx_rooms_ws_detach(ngx_rooms_ws_ctx_t *ctx)
{
    if (!ctx->joined) {
        return;
    }

    ngx_rbtree_delete(&ngx_rooms_ws_conns, &ctx->node);
    ctx->joined = 0;

    ngx_rooms_media_leave(ctx->id);
}


static ngx_rooms_ws_ctx_t *
ngx_rooms_ws_find(uint64_t id)
{
    ngx_rbtree_key_t     key;
    ngx_rbtree_node_t   *node, *sentinel;
    ngx_rooms_ws_ctx_t  *ctx;

    key = (ngx_rbtree_key_t) id;
    node = ngx_rooms_ws_conns.root;
    sentinel = ngx_rooms_ws_conns.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        ctx = ngx_rooms_ws_ctx_of(node);

        return ctx->id == id ? ctx : NULL;
    }

    return NULL;
}


void
ngx_rooms_ws_deliver(const rooms_proto_hdr_t *hdr, const u_char *payload)
{
    char                 reason[ROOMS_WS_CONTROL_MAX - 1];
    size_t               len;
    unsigned             code;
    ngx_rooms_ws_ctx_t  *ctx;

    if (hdr->type == ROOMS_PROTO_BAN) {
        /* stored whether or not the removed WebSocket is still here */
        ngx_rooms_ws_ban(hdr, payload);
        return;
    }

    ctx = ngx_rooms_ws_find(hdr->id);

    if (hdr->type == ROOMS_PROTO_ROLE) {
        /* a revocation is stored whether or not the WebSocket is here */
        ngx_rooms_ws_role(ctx, hdr, payload);

        if (ctx) {
            ngx_post_event(ctx->request->connection->write,
                           &ngx_posted_events);
        }

        return;
    }

    if (ctx == NULL) {
        /* a WebSocket that has closed since */
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "rooms ws: record %ui for unknown id %uL dropped",
                       (ngx_uint_t) hdr->type, hdr->id);
        return;
    }

    switch (hdr->type) {

    case ROOMS_PROTO_SIGNAL:
        switch (ctx->welcomed
                ? ngx_rooms_ws_queue(ctx, ROOMS_WS_OP_TEXT, payload, hdr->len)
                : ngx_rooms_ws_relay(ctx, payload, hdr->len))
        {
        case NGX_OK:
            break;

        case NGX_DECLINED:
            ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_POLICY, "too slow");
            break;

        default:
            ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_INTERNAL, NULL);
            break;
        }

        break;

    case ROOMS_PROTO_CLOSE:
        /* payload bytes are in shared memory: read each once, into here */
        code = ROOMS_WS_CLOSE_NORMAL;
        len = 0;

        if (hdr->len >= 2) {
            code = (unsigned) payload[0] << 8 | payload[1];
            len = ngx_min(hdr->len - 2, sizeof(reason) - 1);
            ngx_memcpy(reason, payload + 2, len);
        }

        reason[len] = '\0';

        ngx_rooms_ws_close(ctx, code, reason);
        break;

    default:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "rooms ws: record type %ui ignored",
                       (ngx_uint_t) hdr->type);
        return;
    }

    ngx_post_event(ctx->request->connection->write, &ngx_posted_events);
}


/*
 * The worker's answers to a join until its welcome: the welcome gets this
 * browser's guest_token, which only nginx knows (the worker has its
 * hash).  Whatever comes before it passes as it is: an error before a
 * CLOSE (room_full), or "waiting" for a guest at a knock room's door,
 * whose welcome comes when a host admits it, and gets the token then.
 * Parsed only until the welcome passed: a host or an open room's guest
 * once, a waiting guest twice.
 */
static ngx_int_t
ngx_rooms_ws_relay(ngx_rooms_ws_ctx_t *ctx, const u_char *payload,
    size_t len)
{
    char          *text;
    json_t        *msg, *type;
    ngx_int_t      rc;
    json_error_t   jerr;

    msg = json_loadb((const char *) payload, len, 0, &jerr);
    type = json_object_get(msg, "type");

    if (!json_is_string(type)
        || ngx_strcmp(json_string_value(type), "welcome") != 0)
    {
        /* an error before the CLOSE, or waiting: as it is */
        json_decref(msg);
        return ngx_rooms_ws_queue(ctx, ROOMS_WS_OP_TEXT, payload, len);
    }

    text = NULL;

    if (json_object_set_new(msg, "guest_token",
                            json_stringn((char *) ctx->token,
                                         ROOMS_GUEST_TOKEN_LEN))
        == 0)
    {
        text = json_dumps(msg, JSON_COMPACT);
    }

    json_decref(msg);

    if (text == NULL) {
        return NGX_ERROR;
    }

    ctx->welcomed = 1;
    ngx_memzero(ctx->token, sizeof(ctx->token));

    rc = ngx_rooms_ws_queue(ctx, ROOMS_WS_OP_TEXT, (u_char *) text,
                            ngx_strlen(text));
    free(text);

    return rc;
}


/*
 * A BAN record: a host removed a participant, and its guest token is
 * banned from the room for good.  The media worker sends it on the ring
 * of the removed WebSocket's nginx worker, before the CLOSE, so the ban
 * is stored before that browser can try again.
 */
static void
ngx_rooms_ws_ban(const rooms_proto_hdr_t *hdr, const u_char *payload)
{
    u_char                  buf[256], hash[ROOMS_HASH_LEN];
    json_t                 *msg, *room, *token;
    json_error_t            jerr;
    ngx_rooms_main_conf_t  *rmcf;

    /* {"room":<id>,"token":"<64 hex>"} is about 100 bytes */
    if (hdr->len >= sizeof(buf)) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms: a %uD-byte BAN record from the media worker "
                      "was dropped", hdr->len);
        return;
    }

    /* payload bytes are in shared memory: read each once, into here */
    ngx_memcpy(buf, payload, hdr->len);

    msg = json_loadb((char *) buf, hdr->len, JSON_REJECT_DUPLICATES, &jerr);
    room = json_object_get(msg, "room");
    token = json_object_get(msg, "token");

    if (!json_is_integer(room) || !json_is_string(token)
        || rooms_token_hash_from_hex(json_string_value(token),
                                     json_string_length(token), hash)
           != 0)
    {
        json_decref(msg);
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms: a malformed BAN record from the media worker "
                      "was dropped");
        return;
    }

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    if (rooms_store_ban(rmcf->store, json_integer_value(room), hash)
        != ROOMS_STORE_OK)
    {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms_store ban failed: %s; room %L",
                      rooms_store_errmsg(rmcf->store),
                      (int64_t) json_integer_value(room));

    } else {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "rooms: a participant was removed from room %L and "
                      "banned", (int64_t) json_integer_value(room));
    }

    json_decref(msg);
}


/*
 * A ROLE record: a host made the participant of this WebSocket (ctx, NULL
 * when it has closed since) co-host, or a guest again; the media worker
 * has changed its role already and told the room.  A new co-host gets a
 * key of its own, drawn here, stored as its hash bound to the guest
 * token, and sent to that browser alone.  When the key cannot be drawn or
 * stored, the browser is told its role without a key (the failure is
 * logged): it acts as co-host until it leaves, except that its lock is
 * refused (nginx checks a co-host's lock against the store), and it
 * rejoins as a guest.  A demotion revokes every credential of the token.
 */
static void
ngx_rooms_ws_role(ngx_rooms_ws_ctx_t *ctx, const rooms_proto_hdr_t *hdr,
    const u_char *payload)
{
    u_char                  buf[2048], token[ROOMS_HASH_LEN];
    u_char                  key_hash[ROOMS_HASH_LEN];
    char                    key[ROOMS_HOST_KEY_LEN + 1], *text;
    json_t                 *msg, *room, *role, *tok, *name, *out;
    int64_t                 room_id, id;
    ngx_int_t               cohost;
    ngx_log_t              *log;
    json_error_t            jerr;
    ngx_rooms_main_conf_t  *rmcf;

    log = ctx ? ctx->request->connection->log : ngx_cycle->log;

    /* a name is at most 256 bytes, some 1.6 KiB escaped */
    if (hdr->len >= sizeof(buf)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms: a %uD-byte ROLE record from the media worker "
                      "was dropped", hdr->len);
        return;
    }

    /* payload bytes are in shared memory: read each once, into here */
    ngx_memcpy(buf, payload, hdr->len);

    msg = json_loadb((char *) buf, hdr->len, JSON_REJECT_DUPLICATES, &jerr);
    room = json_object_get(msg, "room");
    role = json_object_get(msg, "role");
    tok = json_object_get(msg, "token");
    name = json_object_get(msg, "name");

    cohost = json_is_string(role)
             ? (ngx_strcmp(json_string_value(role), "cohost") == 0
                ? 1
                : (ngx_strcmp(json_string_value(role), "guest") == 0
                   ? 0 : -1))
             : -1;

    if (!json_is_integer(room) || cohost == -1 || !json_is_string(tok)
        || rooms_token_hash_from_hex(json_string_value(tok),
                                     json_string_length(tok), token)
           != 0
        || (cohost && !json_is_string(name)))
    {
        json_decref(msg);
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms: a malformed ROLE record from the media worker "
                      "was dropped");
        return;
    }

    room_id = json_integer_value(room);

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    if (!cohost) {
        json_decref(msg);

        if (rooms_store_cohost_revoke_token(rmcf->store, room_id, token,
                                            ngx_time())
            != ROOMS_STORE_OK)
        {
            /* the key would work at the next join: loud */
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "rooms_store co-host revocation failed: %s; "
                          "room %L", rooms_store_errmsg(rmcf->store),
                          room_id);

        } else {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "rooms: a co-host of room %L is a guest again",
                          room_id);
        }

        if (ctx == NULL) {
            return;
        }

        ctx->cohost = 0;
        ngx_memzero(ctx->key_hash, ROOMS_HASH_LEN);

        out = json_pack("{s:s,s:s}", "type", "role", "role", "guest");

        goto send;
    }

    if (ctx == NULL) {
        /* nobody to give the key to: none is drawn */
        json_decref(msg);
        return;
    }

    out = NULL;

    if (rooms_token_host_key(key) != 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "rooms: the random source failed; a co-host of room "
                      "%L gets no key", room_id);

    } else {
        rooms_token_hash((u_char *) key, ROOMS_HOST_KEY_LEN, key_hash);

        if (rooms_store_cohost_add(rmcf->store, room_id, key_hash, token,
                                   json_string_value(name), ngx_time(), &id)
            != ROOMS_STORE_OK)
        {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "rooms_store co-host insert failed: %s; a co-host "
                          "of room %L gets no key",
                          rooms_store_errmsg(rmcf->store), room_id);

        } else {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "rooms: a participant of room %L is co-host %L",
                          room_id, id);

            ngx_memcpy(ctx->key_hash, key_hash, ROOMS_HASH_LEN);

            out = json_pack("{s:s,s:s,s:s}", "type", "role", "role",
                            "cohost", "cohost_key", key);
        }

        ngx_explicit_memzero(key, sizeof(key));
    }

    json_decref(msg);

    ctx->cohost = 1;

    if (out == NULL) {
        out = json_pack("{s:s,s:s}", "type", "role", "role", "cohost");
    }

send:

    text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);

    if (text == NULL) {
        ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_INTERNAL, NULL);
        return;
    }

    if (ngx_rooms_ws_queue(ctx, ROOMS_WS_OP_TEXT, (u_char *) text,
                           ngx_strlen(text))
        != NGX_OK)
    {
        ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_POLICY, "too slow");
    }

    ngx_explicit_memzero(text, ngx_strlen(text));
    free(text);
}


/* The media worker is gone: everyone who joined through it rejoins. */
void
ngx_rooms_ws_media_down(void)
{
    ngx_rbtree_node_t   *node;
    ngx_rooms_ws_ctx_t  *ctx;

    while (ngx_rooms_ws_conns.root != ngx_rooms_ws_conns.sentinel) {
        node = ngx_rbtree_min(ngx_rooms_ws_conns.root,
                              ngx_rooms_ws_conns.sentinel);

        ngx_rbtree_delete(&ngx_rooms_ws_conns, node);

        ctx = ngx_rooms_ws_ctx_of(node);
        ctx->joined = 0;

        ngx_rooms_ws_close(ctx, NGX_ROOMS_WS_CLOSE_RESTART,
                           "media worker restarting");
    }
}


/* Runs whenever the request is freed, by whatever path. */
static void
ngx_rooms_ws_cleanup(void *data)
{
    ngx_rooms_ws_ctx_t  *ctx = data;

    ngx_rooms_ws_detach(ctx);

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (ctx->timer.posted) {
        ngx_delete_posted_event(&ctx->timer);
    }

    ngx_free(ctx->out);
    ctx->out = NULL;
}
