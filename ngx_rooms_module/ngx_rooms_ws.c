
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_ws.c: RFC 6455 WebSocket connections, for the signaling
 * (ngx_rooms_signal.c) at GET <prefix>api/rooms/<code>/ws.
 *
 * Owns: the handshake checks and the 101 answer, the upgraded connection
 * (framing through common/rooms_ws.h, pings, the idle and first-message
 * deadlines, the close handshake, a bounded send queue), and this
 * process's registry of connections by id.  Messages go up to the
 * handler the signaling gave ngx_rooms_ws_create(), as bytes: what they
 * mean is not known here.  Must never block, never buffer more than
 * NGX_ROOMS_WS_OUT_MAX bytes for a client, and never finalize a request
 * from another connection's event: work for a connection that arrives
 * from elsewhere (the media link) is queued and its write event posted
 * (ngx_rooms_ws_wake()).
 * May not: call json_, include jansson.h, call rooms_store_, include rooms_ring.h, call ngx_rooms_media_, call ngx_rooms_dir_, call ngx_rooms_control_, call ngx_rooms_signal_, call ngx_rooms_api_, call ngx_rooms_router_, call ngx_rooms_page_
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
 * A connection's life: upgraded (its first message must come within the
 * handler's first_timeout), registered (the signaling gave it an id, and
 * it sits in this process's registry, an rbtree keyed by id), closing
 * (its close frame is queued; it leaves the registry and the handler's
 * leave runs), then done once the close frame is out (5 s at most), with
 * a lingering close when the client may still be sending.  The pool
 * cleanup repeats the leaving, so no path out of the request forgets it.
 * A ping goes out every 30 s; 75 s without a byte from the client closes
 * the connection.  When this nginx worker closes (a reload, or the node
 * stopping), each connection is closed as its handler's going_away says
 * (the signaling: 1001 to resume, or 4412 to move), else 1001.
 *
 * Memory per connection is bounded: the parser, a 64 KiB message buffer,
 * a 4 KiB read buffer, and a send queue that grows on demand up to
 * NGX_ROOMS_WS_OUT_MAX and is released when it drains.
 */


#include "ngx_rooms_ws.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_metrics.h"


#define NGX_ROOMS_WS_READ_SIZE      4096
#define NGX_ROOMS_WS_READS          16         /* reads per event */
#define NGX_ROOMS_WS_OUT_MAX        (256 * 1024)
#define NGX_ROOMS_WS_OUT_MIN        4096
#define NGX_ROOMS_WS_OUT_KEEP       16384      /* kept once drained */
#define NGX_ROOMS_WS_PING           30000
#define NGX_ROOMS_WS_IDLE           75000
#define NGX_ROOMS_WS_CLOSE_TIMEOUT  5000

/* a close frame is never refused for room: it is the last frame */
#define NGX_ROOMS_WS_CLOSE_FRAME    (2 + ROOMS_WS_CONTROL_MAX)


struct ngx_rooms_ws_s {
    ngx_rbtree_node_t            node;           /* key: the id */
    ngx_http_request_t          *request;
    uint64_t                     id;             /* 0 until registered */

    ngx_rooms_ws_handler_t      *handler;
    void                        *data;           /* the handler's */

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

    unsigned                     first_seen:1;   /* a message came */
    unsigned                     registered:1;   /* in the registry */
    unsigned                     closing:1;      /* our close is queued */
    unsigned                     peer_closed:1;  /* theirs arrived */
    unsigned                     done:1;         /* finalized */

    /*
     * A message whose handler waits (for the store, in a fiber): input
     * stops until it ends, so that messages are handled in order; what
     * came after it waits in rest (within in, which is not read into
     * meanwhile).
     */
    const u_char                *msg;
    size_t                       msg_len;
    u_char                      *rest;
    size_t                       rest_len;
    unsigned                     msg_binary:1;
    unsigned                     waiting:1;
};


static ngx_uint_t ngx_rooms_ws_headers(ngx_http_request_t *r,
    ngx_str_t **key, ngx_str_t **version, ngx_uint_t *keys,
    ngx_uint_t *versions);
static ngx_int_t ngx_rooms_ws_has_token(ngx_str_t *value, const char *token);
static void ngx_rooms_ws_read_handler(ngx_event_t *rev);
static void ngx_rooms_ws_write_handler(ngx_event_t *wev);
static void ngx_rooms_ws_timer_handler(ngx_event_t *ev);
static ngx_int_t ngx_rooms_ws_read(ngx_rooms_ws_t *ctx);
static void ngx_rooms_ws_input(ngx_rooms_ws_t *ctx, u_char *data,
    size_t len);
static ngx_int_t ngx_rooms_ws_queue(ngx_rooms_ws_t *ctx, int opcode,
    const u_char *data, size_t len);
static void ngx_rooms_ws_set_timer(ngx_rooms_ws_t *ctx);
static void ngx_rooms_ws_run(ngx_rooms_ws_t *ctx);
static ngx_int_t ngx_rooms_ws_flush(ngx_rooms_ws_t *ctx);
static void ngx_rooms_ws_finalize(ngx_rooms_ws_t *ctx, ngx_int_t rc);
static void ngx_rooms_ws_detach(ngx_rooms_ws_t *ctx);
static void ngx_rooms_ws_message(void *data);
static void ngx_rooms_ws_message_done(void *data);
static void ngx_rooms_ws_going_away(ngx_rooms_ws_t *ctx);
static void ngx_rooms_ws_cleanup(void *data);


#define ngx_rooms_ws_ctx_of(n)                                                \
    ((ngx_rooms_ws_t *) ((u_char *) (n) - offsetof(ngx_rooms_ws_t, node)))


/* this process's registered WebSockets, by id */
static ngx_rbtree_t       ngx_rooms_ws_conns;
static ngx_rbtree_node_t  ngx_rooms_ws_sentinel;


void
ngx_rooms_ws_init_process(ngx_cycle_t *cycle)
{
    ngx_rbtree_init(&ngx_rooms_ws_conns, &ngx_rooms_ws_sentinel,
                    ngx_rbtree_insert_value);
}


/*
 * RFC 6455 4.2.1: GET over HTTP/1.1 (checked by the caller and here),
 * "Upgrade: websocket", "Connection: upgrade" among its tokens, one valid
 * Sec-WebSocket-Key, and "Sec-WebSocket-Version: 13" (another version is
 * answered 426 with the version this server speaks).
 */
ngx_int_t
ngx_rooms_ws_check(ngx_http_request_t *r,
    char accept[ROOMS_WS_ACCEPT_LEN + 1], rooms_error_t *err)
{
    ngx_str_t        *key, *version;
    ngx_uint_t        upgrade, keys, versions;
    ngx_table_elt_t  *vh;

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

    upgrade = ngx_rooms_ws_headers(r, &key, &version, &keys, &versions);

    if (!upgrade) {
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


/*
 * Reads the handshake's headers: returns 1 when both "Upgrade: websocket"
 * and "Connection: upgrade" are there; *key and *version point at the
 * last Sec-WebSocket-Key and Sec-WebSocket-Version, counted in *keys and
 * *versions.
 */
static ngx_uint_t
ngx_rooms_ws_headers(ngx_http_request_t *r, ngx_str_t **key,
    ngx_str_t **version, ngx_uint_t *keys, ngx_uint_t *versions)
{
    ngx_uint_t        i, upgrade, connection;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    upgrade = 0;
    connection = 0;
    *keys = 0;
    *versions = 0;
    *key = NULL;
    *version = NULL;

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
            (*keys)++;
            *key = &h[i].value;

        } else if (h[i].key.len == sizeof("Sec-WebSocket-Version") - 1
                   && ngx_strncasecmp(h[i].key.data,
                                      (u_char *) "Sec-WebSocket-Version",
                                      sizeof("Sec-WebSocket-Version") - 1)
                      == 0)
        {
            (*versions)++;
            *version = &h[i].value;
        }
    }

    return upgrade && connection;
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


ngx_rooms_ws_t *
ngx_rooms_ws_create(ngx_http_request_t *r, ngx_rooms_ws_handler_t *handler,
    void *data)
{
    u_char              *buf;
    ngx_pool_cleanup_t  *cln;
    ngx_rooms_ws_t      *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_rooms_ws_t));
    if (ctx == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ctx->id = 0;
     *     ctx->out = NULL;
     *     ctx->out_size = 0;
     *     ctx->out_pos = 0;
     *     ctx->out_last = 0;
     *     ctx->registered = 0;
     *     ctx->closing = 0;
     */

    buf = ngx_palloc(r->pool, ROOMS_WS_MESSAGE_MAX);
    if (buf == NULL) {
        return NULL;
    }

    ctx->in = ngx_palloc(r->pool, NGX_ROOMS_WS_READ_SIZE);
    if (ctx->in == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_rooms_ws_cleanup;
    cln->data = ctx;

    /* counted from here, so the cleanup's count is always the match */
    ngx_rooms_metrics_add(NGX_ROOMS_M_WS_CONNECTIONS, 1);

    ctx->request = r;
    ctx->handler = handler;
    ctx->data = data;
    rooms_ws_init(&ctx->parser, buf, ROOMS_WS_MESSAGE_MAX);

    ctx->timer.handler = ngx_rooms_ws_timer_handler;
    ctx->timer.data = ctx;
    ctx->timer.log = r->connection->log;

    ngx_http_set_ctx(r, ctx, ngx_rooms_module);

    return ctx;
}


ngx_int_t
ngx_rooms_ws_start(ngx_rooms_ws_t *ctx, char *accept)
{
    u_char                    *buf;
    size_t                     n;
    ngx_int_t                  rc;
    ngx_table_elt_t           *h;
    ngx_connection_t          *c;
    ngx_http_request_t        *r;
    ngx_http_core_loc_conf_t  *clcf;

    r = ctx->request;
    c = r->connection;

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
        ngx_rooms_ws_going_away(ctx);
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


/* This nginx worker is closing: the handler says how its browser goes. */
static void
ngx_rooms_ws_going_away(ngx_rooms_ws_t *ctx)
{
    if (ctx->closing) {
        return;
    }

    if (ctx->handler->going_away) {
        ctx->handler->going_away(ctx->data);
    }

    if (!ctx->closing) {
        ngx_rooms_ws_close(ctx, ROOMS_WS_CLOSE_GOING_AWAY,
                           "server shutting down");
    }
}


static void
ngx_rooms_ws_read_handler(ngx_event_t *rev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    ngx_rooms_ws_t      *ctx;

    c = rev->data;
    r = c->data;
    ctx = ngx_http_get_module_ctx(r, ngx_rooms_module);

    if (c->close) {
        /* a graceful shutdown (or reload) of this nginx worker */
        c->close = 0;
        c->idle = 0;
        ngx_rooms_ws_going_away(ctx);

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
    ngx_rooms_ws_t      *ctx;

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
    ngx_rooms_ws_t      *ctx;

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
        ngx_rooms_ws_going_away(ctx);

    } else if (!ctx->first_seen
               && (ngx_msec_int_t) (now - ctx->started)
                  >= (ngx_msec_int_t) ctx->handler->first_timeout)
    {
        /* the handler closes the connection, as its protocol says */
        ctx->first_seen = 1;
        ctx->handler->first_timedout(ctx->data);

        if (!ctx->closing) {
            ngx_rooms_ws_set_timer(ctx);
        }

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
ngx_rooms_ws_read(ngx_rooms_ws_t *ctx)
{
    ssize_t              n;
    ngx_uint_t           i;
    ngx_connection_t    *c;

    c = ctx->request->connection;

    for (i = 0; i < NGX_ROOMS_WS_READS; i++) {

        if (!c->read->ready || ctx->waiting) {
            /* a waiting message posts this event again once it ends */
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

    if (ctx->waiting) {
        return NGX_OK;
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
ngx_rooms_ws_input(ngx_rooms_ws_t *ctx, u_char *data, size_t len)
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
        case ROOMS_WS_EV_BINARY:
            ctx->first_seen = 1;
            ctx->msg = ev.data;
            ctx->msg_len = ev.len;
            ctx->msg_binary = (ev.type == ROOMS_WS_EV_BINARY);

            /* in a fiber: a store call of the handler may wait */
            if (ngx_rooms_fiber_go(ctx->request, ngx_rooms_ws_message, ctx,
                                   ngx_rooms_ws_message_done)
                == NGX_AGAIN)
            {
                ctx->waiting = 1;
                ctx->rest = data;
                ctx->rest_len = len;
                return;
            }

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


static void
ngx_rooms_ws_message(void *data)
{
    ngx_rooms_ws_t  *ctx = data;

    ctx->handler->message(ctx->data, ctx->msg, ctx->msg_len,
                          ctx->msg_binary);
}


/*
 * A message that waited is handled: the input after it goes on, and
 * what its handler queued goes out.  The request is still held here.
 */
static void
ngx_rooms_ws_message_done(void *data)
{
    ngx_rooms_ws_t    *ctx = data;
    ngx_connection_t  *c;

    ctx->waiting = 0;

    if (ctx->done) {
        return;
    }

    c = ctx->request->connection;

    if (ctx->rest_len && !ctx->closing) {
        ngx_rooms_ws_input(ctx, ctx->rest, ctx->rest_len);
    }

    if (!ctx->waiting) {
        /* what the socket holds was left unread: read it now */
        ngx_post_event(c->read, &ngx_posted_events);
    }

    ngx_rooms_ws_run(ctx);
}


/*
 * Appends one frame to the send queue.  Returns NGX_DECLINED when the
 * client has not taken NGX_ROOMS_WS_OUT_MAX bytes yet (a close frame
 * always fits), NGX_ERROR when memory runs out; nothing is queued after
 * a close frame.
 */
static ngx_int_t
ngx_rooms_ws_queue(ngx_rooms_ws_t *ctx, int opcode, const u_char *data,
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


ngx_int_t
ngx_rooms_ws_send(ngx_rooms_ws_t *ctx, const u_char *text, size_t len)
{
    return ngx_rooms_ws_queue(ctx, ROOMS_WS_OP_TEXT, text, len);
}


void
ngx_rooms_ws_wake(ngx_rooms_ws_t *ctx)
{
    ngx_post_event(ctx->request->connection->write, &ngx_posted_events);
}


void
ngx_rooms_ws_close(ngx_rooms_ws_t *ctx, unsigned code,
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
ngx_rooms_ws_set_timer(ngx_rooms_ws_t *ctx)
{
    ngx_msec_t      now;
    ngx_msec_int_t  left, t;

    now = ngx_current_msec;

    left = (ngx_msec_int_t) (ctx->last_ping + NGX_ROOMS_WS_PING - now);

    t = (ngx_msec_int_t) (ctx->last_recv + NGX_ROOMS_WS_IDLE - now);
    left = ngx_min(left, t);

    if (!ctx->first_seen) {
        t = (ngx_msec_int_t) (ctx->started + ctx->handler->first_timeout
                              - now);
        left = ngx_min(left, t);
    }

    ngx_add_timer(&ctx->timer, (ngx_msec_t) ngx_max(left, 1));
}


/* Sends what is queued; ends the connection once its close frame is out. */
static void
ngx_rooms_ws_run(ngx_rooms_ws_t *ctx)
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
ngx_rooms_ws_flush(ngx_rooms_ws_t *ctx)
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
ngx_rooms_ws_finalize(ngx_rooms_ws_t *ctx, ngx_int_t rc)
{
    ngx_http_request_t  *r;

    if (ctx->done) {
        /* once: a message's fiber may still run after it (held) */
        return;
    }

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


/* Leaves the registry and tells the handler, once. */
static void
ngx_rooms_ws_detach(ngx_rooms_ws_t *ctx)
{
    if (!ctx->registered) {
        return;
    }

    ngx_rbtree_delete(&ngx_rooms_ws_conns, &ctx->node);
    ctx->registered = 0;

    ctx->handler->leave(ctx->data, ctx->id);
}


void
ngx_rooms_ws_register(ngx_rooms_ws_t *ctx, uint64_t id)
{
    ctx->id = id;
    ctx->node.key = (ngx_rbtree_key_t) id;
    ngx_rbtree_insert(&ngx_rooms_ws_conns, &ctx->node);
    ctx->registered = 1;
}


void *
ngx_rooms_ws_find(uint64_t id)
{
    ngx_rbtree_key_t     key;
    ngx_rbtree_node_t   *node, *sentinel;
    ngx_rooms_ws_t      *ctx;

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

        return ctx->id == id ? ctx->data : NULL;
    }

    return NULL;
}


void
ngx_rooms_ws_close_all(uint64_t mask, uint64_t value, unsigned code,
    const char *reason)
{
    ngx_rbtree_node_t   *node, *next;
    ngx_rooms_ws_t      *ctx;

    if (ngx_rooms_ws_conns.root == ngx_rooms_ws_conns.sentinel) {
        return;
    }

    node = ngx_rbtree_min(ngx_rooms_ws_conns.root,
                          ngx_rooms_ws_conns.sentinel);

    while (node != NULL) {
        next = ngx_rbtree_next(&ngx_rooms_ws_conns, node);

        if (((uint64_t) node->key & mask) == value) {
            ngx_rbtree_delete(&ngx_rooms_ws_conns, node);

            ctx = ngx_rooms_ws_ctx_of(node);
            ctx->registered = 0;

            ngx_rooms_ws_close(ctx, code, reason);
        }

        node = next;
    }
}


/* Runs whenever the request is freed, by whatever path. */
static void
ngx_rooms_ws_cleanup(void *data)
{
    ngx_rooms_ws_t  *ctx = data;

    ngx_rooms_metrics_add(NGX_ROOMS_M_WS_CONNECTIONS, -1);
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
