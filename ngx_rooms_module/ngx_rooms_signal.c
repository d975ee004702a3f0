
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_signal.c: the signaling of docs/protocol.md, over the
 * WebSocket connections of ngx_rooms_ws.c.
 *
 * Owns: the meaning of each message a browser sends: the join
 * (ngx_rooms_signal_join()), whose admission ngx_rooms_admit.c decides
 * (this file sends its refusals), each connection's role (host, co-host
 * or guest) and guest token once admitted, the check that host actions
 * come from a host or co-host (ngx_rooms_signal_host_action()), and the
 * traffic between one browser and the media worker: the join becomes a
 * JOIN record, later messages SIGNAL records, the end of the WebSocket a
 * LEAVE record; the worker's SIGNAL, CLOSE and ROLE records (handlers
 * registered at postconfiguration) come back to the browser they are
 * about, the welcome with its guest token
 * (ngx_rooms_signal_relay()).  Every error message and close code a
 * browser sees is chosen here, but those of an admission's refusal
 * (ngx_rooms_admit.c).  The webhook's participant.joined (as the welcome
 * passes) and participant.left (as a welcomed WebSocket ends, not
 * detached) are told from here, by the one nginx worker that holds the
 * WebSocket, through the control file.
 * Must never write the store or change a room itself (the control file
 * does, ngx_rooms_control.c), and never touch a socket or a frame (the
 * WebSocket file does).
 * May not: call rooms_store_, call rooms_ws_, include rooms_ring.h, call ngx_rooms_dir_change, call ngx_rooms_dir_add, call ngx_rooms_dir_count, call ngx_rooms_dir_get, call ngx_rooms_policy_, call ngx_rooms_control_banned, call ngx_rooms_api_, call ngx_rooms_router_, call ngx_rooms_page_, call ngx_rooms_media_init_process
 *
 * Hosts and guests.  A join that carries the room's host key (its SHA-256
 * equals the stored hash, compared in constant time) makes the connection
 * a host's; any other well-formed key makes it a guest's, like no key
 * (ngx_rooms_admit.c reads them).  Every joiner has a guest token: the
 * one its join carried, or a new one drawn there.  The JOIN record
 * carries the role and the token's hash; the token itself is added here
 * to the worker's welcome as it passes, so it reaches that browser alone
 * and never the media worker.  lock and end
 * take the HTTP API's path to the control file
 * (ngx_rooms_control_change_joined()), which tells the media worker;
 * remove, mute, admit, deny, cohost and uncohost go to the media worker,
 * which knows whom an id names.
 *
 * Co-hosts.  A host's cohost makes the worker send a ROLE record for the
 * new co-host's WebSocket: the control file draws a co-host key and
 * stores its hash bound to that browser's guest token, and the key is
 * sent to that browser alone ({"type":"role"}).  A later join with the key
 * and the same guest token is a co-host's while the key is active (the
 * store says so at the join); with another token, or once revoked, a
 * guest's.  A co-host may do what a host does but end the room and make or
 * unmake co-hosts; its lock is checked against the store again, under the
 * store's write lock.
 *
 * Resuming after a reload.  Every welcome carries a resume token drawn
 * here (128 bits; the JOIN carries its hash, the media worker keeps it
 * with the participant).  A WebSocket closed because this nginx worker
 * is closing for a reload (ngx_exiting, and a newer configuration runs:
 * ngx_rooms_dir_superseded()) becomes a DETACH record, not a LEAVE (a
 * graceful stop, nginx -s quit, closes it 4412 and leaves instead: the
 * node is drained, ngx_rooms_signal_going_away()): the media worker
 * keeps the participant and its media session for
 * ROOMS_RESUME_GRACE_MS.  The browser then opens a new
 * WebSocket (served by a new worker) whose first message is "resume"
 * instead of "join", with its resume token and the join's credentials;
 * the role is read from those as for a join, and a RESUME record asks
 * the worker for the participant.  Its "resumed" gets the next resume
 * token here, as the welcome got the first: a token resumes once.
 * Tokens are never logged.
 *
 * The lobby.  The JOIN record carries the room's admission as read at
 * the join; the media worker keeps a guest of a "knock" room waiting
 * (it answers "waiting") until a host admits it, and only then sends the
 * welcome.  So the welcome, into which the guest token goes, is not
 * always the first message the worker sends a connection.
 */


#include "ngx_rooms_signal.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_admit.h"
#include "ngx_rooms_control.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_media.h"
#include "ngx_rooms_metrics.h"
#include "ngx_rooms_people.h"
#include "ngx_rooms_turn.h"
#include "ngx_rooms_ws.h"

#include <jansson.h>

#include "rooms_msg.h"


#define NGX_ROOMS_SIGNAL_JOIN_TIMEOUT  10000
#define NGX_ROOMS_SIGNAL_NAME_MAX      64      /* characters */


/* one browser's signaling, over its WebSocket */
typedef struct {
    ngx_http_request_t          *request;
    ngx_rooms_ws_t              *ws;
    uint64_t                     id;             /* 0 until joined */

    u_char                       code[ROOMS_CODE_LEN];
    int64_t                      room_id;        /* the store's, at join */
    u_char                       key_hash[ROOMS_HASH_LEN];  /* (co-)host's */
    u_char                       token[ROOMS_GUEST_TOKEN_LEN + 1];
    u_char                       resume[ROOMS_GUEST_TOKEN_LEN + 1];
    u_char                       token_hash[ROOMS_HASH_LEN];  /* people */

    unsigned                     host:1;         /* joined with the key */
    unsigned                     cohost:1;       /* a co-host key, now */
    unsigned                     welcomed:1;     /* the token went out */
    unsigned                     join_seen:1;    /* a join was handled */
    unsigned                     waiting:1;      /* in the lobby (counted) */
    unsigned                     joined:1;       /* participant.joined went */
    unsigned                     moved:1;        /* closed 4412: its node stops */

    /* for the webhook events (participant.joined, participant.left) */
    int64_t                      pid;            /* the worker's id */
    const char                  *role;
    size_t                       name_len;
    u_char                       name[ROOMS_NAME_MAX_BYTES];
} ngx_rooms_signal_ctx_t;


static void ngx_rooms_signal_message(void *data, const u_char *text,
    size_t len, ngx_uint_t binary);
static void ngx_rooms_signal_no_join(void *data);
static void ngx_rooms_signal_leave(void *data, uint64_t id);
static void ngx_rooms_signal_event(ngx_rooms_signal_ctx_t *ctx,
    ngx_rooms_event_e type);
static void ngx_rooms_signal_join(ngx_rooms_signal_ctx_t *ctx, json_t *msg);
static void ngx_rooms_signal_resume(ngx_rooms_signal_ctx_t *ctx,
    json_t *msg);
static ngx_int_t ngx_rooms_signal_resume_token(ngx_rooms_signal_ctx_t *ctx,
    u_char *hash);
static void ngx_rooms_signal_join_record(ngx_rooms_signal_ctx_t *ctx,
    rooms_room_t *room, ngx_str_t *name, u_char *token_hash);
static void ngx_rooms_signal_host_action(ngx_rooms_signal_ctx_t *ctx,
    const rooms_msg_type_t *mt, json_t *msg, const u_char *data, size_t len);
static void ngx_rooms_signal_forward(ngx_rooms_signal_ctx_t *ctx,
    const u_char *data, size_t len);
static void ngx_rooms_signal_sent(ngx_rooms_signal_ctx_t *ctx,
    ngx_int_t rc);
static void ngx_rooms_signal_record(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
static void ngx_rooms_signal_count(ngx_rooms_signal_ctx_t *ctx, json_t *msg,
    json_t *type);
static ngx_int_t ngx_rooms_signal_relay(ngx_rooms_signal_ctx_t *ctx,
    const u_char *payload, size_t len);
static void ngx_rooms_signal_close_record(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
static void ngx_rooms_signal_role(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
static void ngx_rooms_signal_promoted(ngx_rooms_signal_ctx_t *ctx,
    int64_t room_id, u_char *token_hash, const char *name, ngx_log_t *log);
static void ngx_rooms_signal_demoted(ngx_rooms_signal_ctx_t *ctx,
    int64_t room_id, u_char *token_hash, ngx_log_t *log);
static void ngx_rooms_signal_send_json(ngx_rooms_signal_ctx_t *ctx,
    json_t *out);
static void ngx_rooms_signal_link_down(ngx_uint_t worker, ngx_uint_t n);
static void ngx_rooms_signal_present(ngx_rooms_signal_ctx_t *ctx);
static ngx_int_t ngx_rooms_signal_name(json_t *v, ngx_str_t *name);
static void ngx_rooms_signal_proven(ngx_rooms_signal_ctx_t *ctx,
    ngx_rooms_admit_t *a);
static void ngx_rooms_signal_refused(ngx_rooms_signal_ctx_t *ctx,
    ngx_rooms_admit_t *a);
static void ngx_rooms_signal_refuse(ngx_rooms_signal_ctx_t *ctx,
    const char *code, const char *message, unsigned close_code);
static void ngx_rooms_signal_media_down(ngx_rooms_signal_ctx_t *ctx,
    ngx_int_t rc);
static ngx_uint_t ngx_rooms_signal_proven_role(ngx_rooms_signal_ctx_t *ctx);
static void ngx_rooms_signal_error(ngx_rooms_signal_ctx_t *ctx,
    const char *code, const char *message, const char *start_at);


static void ngx_rooms_signal_going_away(void *data);
static void ngx_rooms_signal_move(uint64_t conn);


static ngx_rooms_ws_handler_t  ngx_rooms_signal_ws_handler = {
    NGX_ROOMS_SIGNAL_JOIN_TIMEOUT,
    ngx_rooms_signal_no_join,
    ngx_rooms_signal_message,
    ngx_rooms_signal_leave,
    ngx_rooms_signal_going_away
};


ngx_int_t
ngx_rooms_signal_init(ngx_conf_t *cf)
{
    if (ngx_rooms_media_on_record(cf, ROOMS_PROTO_SIGNAL,
                                  ngx_rooms_signal_record)
        != NGX_OK
        || ngx_rooms_media_on_record(cf, ROOMS_PROTO_CLOSE,
                                     ngx_rooms_signal_close_record)
           != NGX_OK
        || ngx_rooms_media_on_record(cf, ROOMS_PROTO_ROLE,
                                     ngx_rooms_signal_role)
           != NGX_OK
        || ngx_rooms_media_on_link_down(cf, ngx_rooms_signal_link_down)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_rooms_people_on_move(ngx_rooms_signal_move);

    return NGX_OK;
}


ngx_int_t
ngx_rooms_signal_handler(ngx_http_request_t *r, rooms_room_t *room,
    rooms_error_t *err)
{
    char                     accept[ROOMS_WS_ACCEPT_LEN + 1];
    ngx_int_t                rc;
    ngx_rooms_signal_ctx_t  *ctx;

    rc = ngx_rooms_ws_check(r, accept, err);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_rooms_signal_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ngx_memcpy(ctx->code, room->code, ROOMS_CODE_LEN);

    ctx->ws = ngx_rooms_ws_create(r, &ngx_rooms_signal_ws_handler, ctx);
    if (ctx->ws == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_rooms_ws_start(ctx->ws, accept);
}


/* The first message did not come in time. */
static void
ngx_rooms_signal_no_join(void *data)
{
    ngx_rooms_signal_ctx_t  *ctx = data;

    ngx_log_error(NGX_LOG_INFO, ctx->request->connection->log, 0,
                  "rooms: no join within %d ms of the WebSocket upgrade",
                  NGX_ROOMS_SIGNAL_JOIN_TIMEOUT);
    ngx_rooms_ws_close(ctx->ws, NGX_ROOMS_SIGNAL_CLOSE_NO_JOIN,
                       "join timeout");
}


/*
 * A joined WebSocket is closing or gone: the media worker is told.  While
 * this nginx worker is closing (a reload), the WebSocket goes with it and
 * not by its browser's choice: DETACH keeps the participant for its
 * browser to resume on a new worker.  A DETACH that finds the ring full
 * is not retried: the media worker detaches what is left on the slot
 * when this process's link closes.
 */
static void
ngx_rooms_signal_leave(void *data, uint64_t id)
{
    ngx_rooms_signal_ctx_t  *ctx = data;

    /* present no more here: a resume on another worker enters again */
    ngx_rooms_people_leave(id);

    if (ctx->waiting) {
        ctx->waiting = 0;
        ngx_rooms_metrics_add(NGX_ROOMS_M_LOBBY_WAITING, -1);
    }

    if (ngx_exiting && !ctx->moved) {
        (void) ngx_rooms_media_push(ROOMS_PROTO_DETACH, id, NULL, 0);
        return;
    }

    ngx_rooms_media_leave(id);

    if (ctx->joined) {
        ctx->joined = 0;
        ngx_rooms_signal_event(ctx, NGX_ROOMS_EVENT_LEFT);
    }
}


/*
 * This nginx worker is closing.  On a reload (a newer configuration runs
 * beside it) the browser resumes its call on a new worker of this node:
 * close 1001, and the leave is a DETACH.  When the node stops (nginx -s
 * quit: docs/scaling.md, "Draining a node"), nothing here will take the
 * call back: close 4412, and the leave is a LEAVE, so that the media
 * worker lets the participant go at once.  The browser joins again
 * through the same address, which the front sends to another node.
 */
static void
ngx_rooms_signal_going_away(void *data)
{
    ngx_rooms_signal_ctx_t  *ctx = data;

    ngx_rooms_main_conf_t   *rmcf;

    rmcf = ngx_http_get_module_main_conf(ctx->request, ngx_rooms_module);

    if (ngx_rooms_dir_superseded(rmcf)) {
        ngx_rooms_ws_close(ctx->ws, ROOMS_WS_CLOSE_GOING_AWAY,
                           "server shutting down");
        return;
    }

    ctx->moved = 1;
    ngx_rooms_ws_close(ctx->ws, ROOMS_PROTO_CLOSE_MOVED, "moved");
}


/*
 * The room's call runs on another node now, begun there later (a node
 * added: docs/scaling.md, "Adding a node"; ngx_rooms_people.c decides):
 * close 4412 as a drain does, and the leave is a LEAVE.  The browser
 * joins again through the same address, which the front sends to that
 * node.
 */
static void
ngx_rooms_signal_move(uint64_t conn)
{
    ngx_rooms_signal_ctx_t  *ctx;

    ctx = ngx_rooms_ws_find(conn);

    if (ctx == NULL || ctx->moved) {
        return;
    }

    ctx->moved = 1;
    ngx_rooms_ws_close(ctx->ws, ROOMS_PROTO_CLOSE_MOVED, "moved");
    ngx_rooms_ws_wake(ctx->ws);
}


/* One text message: JSON with a "type" (docs/protocol.md). */
static void
ngx_rooms_signal_message(void *data, const u_char *text, size_t len,
    ngx_uint_t binary)
{
    ngx_rooms_signal_ctx_t  *ctx = data;

    json_t                  *msg, *v;
    const char              *type;
    json_error_t             jerr;
    const rooms_msg_type_t  *mt;

    if (binary) {
        ngx_rooms_signal_refuse(ctx, "bad_message",
                                "messages are JSON in text frames",
                                NGX_ROOMS_SIGNAL_CLOSE_BAD);
        return;
    }

    msg = json_loadb((const char *) text, len, JSON_REJECT_DUPLICATES, &jerr);

    if (msg == NULL || !json_is_object(msg)) {
        json_decref(msg);
        ngx_rooms_signal_refuse(ctx, "bad_message",
                                "a message is a JSON object",
                                NGX_ROOMS_SIGNAL_CLOSE_BAD);
        return;
    }

    v = json_object_get(msg, "type");
    type = json_is_string(v) ? json_string_value(v) : NULL;

    if (type == NULL) {
        ngx_rooms_signal_refuse(ctx, "bad_message",
                                "a message needs a string \"type\"",
                                NGX_ROOMS_SIGNAL_CLOSE_BAD);
        goto done;
    }

    /* one table says who may send what, and which side acts on it */
    mt = rooms_msg_type(type, json_string_length(v));

    if (!ctx->join_seen && ngx_exiting) {
        /* a closing worker takes no one in: the browser goes elsewhere */
        ngx_rooms_signal_going_away(ctx);
        goto done;
    }

    if (!ctx->join_seen) {
        if (mt != NULL && mt->id == ROOMS_MSG_JOIN) {
            ngx_rooms_signal_join(ctx, msg);

        } else if (mt != NULL && mt->id == ROOMS_MSG_RESUME) {
            ngx_rooms_signal_resume(ctx, msg);

        } else {
            ngx_rooms_signal_refuse(ctx, "bad_message",
                                    "the first message must be a join",
                                    NGX_ROOMS_SIGNAL_CLOSE_BAD);
        }

        goto done;
    }

    if (mt == NULL || mt->id == ROOMS_MSG_JOIN || mt->id == ROOMS_MSG_RESUME)
    {
        ngx_rooms_signal_refuse(ctx, "bad_message",
                                mt != NULL ? "already joined"
                                           : "unknown message type",
                                NGX_ROOMS_SIGNAL_CLOSE_BAD);
        goto done;
    }

    if (mt->from != ROOMS_MSG_ANYONE) {
        ngx_rooms_signal_host_action(ctx, mt, msg, text, len);
        goto done;
    }

    ngx_rooms_signal_forward(ctx, text, len);

    if (mt->id == ROOMS_MSG_LEAVE) {
        ngx_rooms_ws_close(ctx->ws, ROOMS_WS_CLOSE_NORMAL, "bye");
    }

done:

    json_decref(msg);
}


/* A message for the media worker, verbatim: it parses what it needs. */
static void
ngx_rooms_signal_forward(ngx_rooms_signal_ctx_t *ctx, const u_char *data,
    size_t len)
{
    ngx_int_t  rc;

    rc = ngx_rooms_media_push(ROOMS_PROTO_SIGNAL, ctx->id, data, len);

    if (rc != NGX_OK) {
        ngx_rooms_signal_refuse(ctx, "media_unavailable",
                                rc == NGX_BUSY
                            ? "the media server is overloaded; join again"
                            : "the media server is unavailable",
                                NGX_ROOMS_SIGNAL_CLOSE_LATER);
    }
}


/*
 * remove, mute, admit, deny, lock, end, cohost, uncohost and stop_share.
 * This is the one place where nginx checks that they come from a host or
 * a co-host:
 * end, cohost and uncohost from a host only, the others from either.
 * From anyone else (a waiting guest too) they are answered not_host and
 * change nothing, and the connection stays open.  The media worker checks
 * the role again (worker/sfu.c) for what reaches it, and it alone knows
 * whom an id names (a co-host may not remove a host or a co-host); a
 * co-host's lock is checked again against the store, under the directory
 * lock, so a revoked co-host cannot lock.
 */
static void
ngx_rooms_signal_host_action(ngx_rooms_signal_ctx_t *ctx,
    const rooms_msg_type_t *mt, json_t *msg, const u_char *data, size_t len)
{
    json_t                 *v;
    ngx_int_t               rc;
    ngx_log_t              *log;
    rooms_patch_t           patch;
    rooms_error_t           err;
    ngx_rooms_main_conf_t  *rmcf;

    if (!ctx->host && (mt->from == ROOMS_MSG_HOST || !ctx->cohost)) {
        ngx_rooms_signal_error(ctx, "not_host", "only the host can do this",
                               NULL);
        return;
    }

    ngx_rooms_metrics_host_action(mt->id);

    if (mt->at == ROOMS_MSG_RELAY) {
        v = json_object_get(msg, "id");

        if (mt->target && !json_is_string(v)) {
            ngx_rooms_signal_refuse(ctx, "bad_message",
                                    "remove, mute, admit, deny, cohost, "
                                    "uncohost and stop_share need a "
                                    "participant's \"id\"",
                                    NGX_ROOMS_SIGNAL_CLOSE_BAD);
            return;
        }

        /* the media worker knows whom the id names */
        ngx_rooms_signal_forward(ctx, data, len);
        return;
    }

    log = ctx->request->connection->log;
    rmcf = ngx_http_get_module_main_conf(ctx->request, ngx_rooms_module);

    /*
     * Through the HTTP API's path, on the room this connection joined; a
     * rotation since the join retired the code it knows, and the control
     * file looks the current one up once, by id.
     */

    if (mt->id == ROOMS_MSG_LOCK) {
        v = json_object_get(msg, "locked");

        if (!json_is_boolean(v)) {
            ngx_rooms_signal_refuse(ctx, "bad_message",
                                    "lock needs a boolean \"locked\"",
                                    NGX_ROOMS_SIGNAL_CLOSE_BAD);
            return;
        }

        ngx_memzero(&patch, sizeof(rooms_patch_t));
        patch.has_locked = 1;
        patch.locked = json_is_true(v);

        rc = ngx_rooms_control_change_joined(rmcf, log, ctx->code,
                                             ctx->room_id, ctx->key_hash,
                                             !ctx->host, NGX_ROOMS_UPDATE,
                                             &patch, &err);

    } else { /* end */
        rc = ngx_rooms_control_change_joined(rmcf, log, ctx->code,
                                             ctx->room_id, ctx->key_hash,
                                             !ctx->host, NGX_ROOMS_END, NULL,
                                             &err);
    }

    /*
     * On success everyone in the room, this host too, hears of it from
     * the media worker: {"type":"room",...}, or room_ended and 4403.
     */

    switch (rc) {

    case NGX_OK:
        break;

    case NGX_ROOMS_REFUSED:
        ngx_rooms_signal_error(ctx, err.code, err.message, NULL);
        break;

    case NGX_ROOMS_BUSY:
        ngx_rooms_signal_error(ctx, "storage_busy",
                               "the room store is locked by another "
                               "program; nothing changed, try again in a "
                               "moment", NULL);
        break;

    case NGX_ERROR:
        ngx_rooms_signal_error(ctx, "storage_unavailable",
                               "the change could not be stored; nothing "
                               "changed", NULL);
        break;

    default:
        ngx_rooms_signal_error(ctx, "not_found", "the room is gone", NULL);
        break;
    }
}


/*
 * A join: the name, the optional host key, co-host key and guest token,
 * the room read afresh, the role, admission, then the JOIN record.  The
 * media worker counts people (room_full) and keeps a knock room's lobby:
 * the JOIN carries the room's state as read here, with its revision, so
 * the worker can tell it from a newer one it has heard of.
 */
static void
ngx_rooms_signal_join(ngx_rooms_signal_ctx_t *ctx, json_t *msg)
{
    u_char        key_hash[ROOMS_HASH_LEN];
    u_char        cohost_hash[ROOMS_HASH_LEN];
    u_char        token_hash[ROOMS_HASH_LEN];
    ngx_int_t          has_key, has_cohost_key;
    ngx_str_t          name;
    rooms_room_t       room;
    ngx_rooms_admit_t  a;

    ctx->join_seen = 1;

    if (ngx_rooms_signal_name(json_object_get(msg, "name"), &name)
        != NGX_OK)
    {
        ngx_rooms_signal_refuse(ctx, "bad_message",
                                "a name is 1 to 64 characters, without "
                                "control, line-breaking or text-direction "
                                "characters",
                                NGX_ROOMS_SIGNAL_CLOSE_BAD);
        return;
    }

    ctx->name_len = ngx_min(name.len, ROOMS_NAME_MAX_BYTES);
    ngx_memcpy(ctx->name, name.data, ctx->name_len);

    ngx_memzero(&a, sizeof(ngx_rooms_admit_t));
    a.request = ctx->request;

    if (ngx_rooms_admit_secrets(&a, msg, key_hash, cohost_hash, token_hash,
                                &has_key, &has_cohost_key)
        != NGX_OK
        || ngx_rooms_admit_room(&a, ctx->code, &room) != NGX_OK
        || ngx_rooms_admit_role(&a, &room, has_key, key_hash,
                                has_cohost_key, cohost_hash, token_hash)
           != NGX_OK
        || ngx_rooms_admit_check(&a, &room, token_hash) != NGX_OK)
    {
        ngx_rooms_signal_refused(ctx, &a);
        return;
    }

    ngx_memcpy(ctx->token, a.token, sizeof(ctx->token));
    ngx_rooms_signal_proven(ctx, &a);
    ngx_memcpy(ctx->token_hash, token_hash, ROOMS_HASH_LEN);
    ngx_rooms_signal_join_record(ctx, &room, &name, token_hash);
}


/*
 * A resume: the first message of a browser whose WebSocket went with a
 * closing nginx worker (docs/protocol.md, "Resuming after a reload").  It
 * carries the join's credentials (host_key, cohost_key, guest_token: the
 * guest token is required) and its resume_token.  The room is read afresh
 * and the role as for a join; admission is not asked again, since the
 * participant is in the room already, and the media worker, which knows
 * whether it still is, answers "resumed" or resume_failed with 4410.
 */
static void
ngx_rooms_signal_resume(ngx_rooms_signal_ctx_t *ctx, json_t *msg)
{
    /* the record: four hashes in hex, a role and a room id */
    char                 text[4 * ROOMS_HASH_HEX_LEN + 256];
    int                  n;
    u_char               key_hash[ROOMS_HASH_LEN];
    u_char               cohost_hash[ROOMS_HASH_LEN];
    u_char               token_hash[ROOMS_HASH_LEN];
    u_char               resume_hash[ROOMS_HASH_LEN];
    u_char               next_hash[ROOMS_HASH_LEN];
    json_t              *v;
    uint64_t             id;
    ngx_int_t            rc, has_key, has_cohost_key;
    ngx_str_t            name;
    rooms_room_t         room;
    ngx_rooms_admit_t    a;
    rooms_msg_resume_t   rec;

    ctx->join_seen = 1;

    v = json_object_get(msg, "resume_token");

    if (!json_is_string(v)
        || !rooms_token_is_guest((u_char *) json_string_value(v),
                                 json_string_length(v))
        || !json_is_string(json_object_get(msg, "guest_token")))
    {
        ngx_rooms_signal_refuse(ctx, "bad_message",
                                "resume needs a resume_token and the "
                                "guest_token",
                                NGX_ROOMS_SIGNAL_CLOSE_BAD);
        return;
    }

    rooms_token_hash((u_char *) json_string_value(v), json_string_length(v),
                     resume_hash);

    ngx_memzero(&a, sizeof(ngx_rooms_admit_t));
    a.request = ctx->request;

    if (ngx_rooms_admit_secrets(&a, msg, key_hash, cohost_hash, token_hash,
                                &has_key, &has_cohost_key)
        != NGX_OK)
    {
        ngx_rooms_signal_refused(ctx, &a);
        return;
    }

    /* the welcome has passed: the browser knows its guest token */
    ngx_memzero(ctx->token, sizeof(ctx->token));

    /* the name it joined with, when it says it again (for the tray) */
    if (ngx_rooms_signal_name(json_object_get(msg, "name"), &name) == NGX_OK)
    {
        ctx->name_len = ngx_min(name.len, ROOMS_NAME_MAX_BYTES);
        ngx_memcpy(ctx->name, name.data, ctx->name_len);
    }

    if (ngx_rooms_admit_room(&a, ctx->code, &room) != NGX_OK
        || ngx_rooms_admit_role(&a, &room, has_key, key_hash,
                                has_cohost_key, cohost_hash, token_hash)
           != NGX_OK)
    {
        ngx_rooms_signal_refused(ctx, &a);
        return;
    }

    ngx_rooms_signal_proven(ctx, &a);

    if (ngx_rooms_signal_resume_token(ctx, next_hash) != NGX_OK) {
        return;
    }

    id = ngx_rooms_media_conn_id(room.id);

    if (id == 0) {
        ngx_rooms_signal_media_down(ctx, NGX_ERROR);
        return;
    }

    ngx_memzero(&rec, sizeof(rooms_msg_resume_t));
    rec.room = room.id;
    rec.role = ngx_rooms_signal_proven_role(ctx);
    rooms_token_hash_hex(token_hash, rec.token);
    rooms_token_hash_hex(resume_hash, rec.resume);
    rooms_token_hash_hex(next_hash, rec.next);

    n = rooms_msg_resume_encode(&rec, text, sizeof(text));

    if (n < 0) {
        ngx_rooms_signal_refuse(ctx, "internal_error",
                                "the resume could not be encoded",
                                ROOMS_WS_CLOSE_INTERNAL);
        return;
    }

    rc = ngx_rooms_media_push(ROOMS_PROTO_RESUME, id, text, (size_t) n);

    if (rc != NGX_OK) {
        ngx_rooms_signal_media_down(ctx, rc);
        return;
    }

    ctx->id = id;
    ctx->room_id = room.id;
    ngx_memcpy(ctx->token_hash, token_hash, ROOMS_HASH_LEN);
    ngx_rooms_ws_register(ctx->ws, id);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "rooms ws: resuming in room %L as id %uL", room.id, id);
}


/*
 * Draws the resume token the next welcome or resumed hands out, into
 * ctx->resume, and its SHA-256 into hash.  NGX_ERROR once refused.
 */
static ngx_int_t
ngx_rooms_signal_resume_token(ngx_rooms_signal_ctx_t *ctx, u_char *hash)
{
    if (rooms_token_guest((char *) ctx->resume) != 0) {
        ngx_log_error(NGX_LOG_ALERT, ctx->request->connection->log, 0,
                      "rooms: the random source failed");
        ngx_rooms_signal_refuse(ctx, "internal_error",
                                "the server cannot draw a token",
                                ROOMS_WS_CLOSE_INTERNAL);
        return NGX_ERROR;
    }

    rooms_token_hash(ctx->resume, ROOMS_GUEST_TOKEN_LEN, hash);

    return NGX_OK;
}


/*
 * The JOIN record of an admitted join; the connection is registered
 * under its new id once the record is queued.
 */
static void
ngx_rooms_signal_join_record(ngx_rooms_signal_ctx_t *ctx, rooms_room_t *room,
    ngx_str_t *name, u_char *token_hash)
{
    /*
     * a name of ROOMS_NAME_MAX_BYTES, each byte escaped as \u00XX at
     * worst, and the other fields in well under 512 bytes
     */
    char                   text[6 * ROOMS_NAME_MAX_BYTES + 512];
    int                    n;
    u_char                 resume_hash[ROOMS_HASH_LEN];
    uint64_t               id;
    ngx_int_t              rc;
    rooms_msg_join_t       join;
    ngx_rooms_loc_conf_t  *rlcf;

    id = ngx_rooms_media_conn_id(room->id);

    if (id == 0) {
        ngx_rooms_signal_media_down(ctx, NGX_ERROR);
        return;
    }

    if (ngx_rooms_signal_resume_token(ctx, resume_hash) != NGX_OK) {
        return;
    }

    rlcf = ngx_http_get_module_loc_conf(ctx->request, ngx_rooms_module);

    ngx_memzero(&join, sizeof(rooms_msg_join_t));
    join.room = room->id;
    ngx_cpystrn((u_char *) join.code, (u_char *) room->code,
                sizeof(join.code));
    join.rev = room->rev;
    join.max = (unsigned) room->max_participants;
    ngx_memcpy(join.name, name->data,
               ngx_min(name->len, sizeof(join.name) - 1));
    join.role = ngx_rooms_signal_proven_role(ctx);
    rooms_token_hash_hex(token_hash, join.token);
    join.locked = room->locked;
    join.knock = room->admission == ROOMS_ADMISSION_KNOCK;
    join.host_absent = room->host_absent;
    join.grace = (uint64_t) rlcf->host_grace;
    join.video_slots = (unsigned) rlcf->video_slots;
    join.audio_slots = (unsigned) rlcf->audio_slots;
    rooms_token_hash_hex(resume_hash, join.resume);

    n = rooms_msg_join_encode(&join, text, sizeof(text));

    if (n < 0) {
        ngx_rooms_signal_refuse(ctx, "internal_error",
                                "the join could not be encoded",
                                ROOMS_WS_CLOSE_INTERNAL);
        return;
    }

    rc = ngx_rooms_media_push(ROOMS_PROTO_JOIN, id, text, (size_t) n);

    if (rc != NGX_OK) {
        ngx_rooms_signal_media_down(ctx, rc);
        return;
    }

    ctx->id = id;
    ctx->room_id = room->id;
    ngx_rooms_ws_register(ctx->ws, id);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                   "rooms ws: joined room %L as id %uL, %s", room->id, id,
                   ctx->host ? "host" : (ctx->cohost ? "cohost" : "guest"));
}


/*
 * A display name: a string, trimmed of white space, 1 to 64 characters
 * (code points; the frame was valid UTF-8), one line of printable text as
 * a title is (rooms_text_check(): no C0 or C1 control, DEL, line or
 * paragraph separator, bidirectional override or isolate).
 */
static ngx_int_t
ngx_rooms_signal_name(json_t *v, ngx_str_t *name)
{
    size_t   chars;
    u_char  *p, *last;

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

    /* the same rule as a room's title: no controls, no direction tricks */
    if (rooms_text_check((char *) p, last - p, &chars) != 0) {
        return NGX_DECLINED;
    }

    if (chars == 0 || chars > NGX_ROOMS_SIGNAL_NAME_MAX) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The media worker cannot take what this connection asks (no link, or
 * its ring refused the record: rc, NGX_BUSY when full): the browser is
 * told to come back (1013), as the protocol says.
 */
static void
ngx_rooms_signal_media_down(ngx_rooms_signal_ctx_t *ctx, ngx_int_t rc)
{
    ngx_rooms_signal_refuse(ctx, "media_unavailable",
                            rc == NGX_BUSY
                            ? "the media server is overloaded; try again "
                              "shortly"
                            : "the media server is unavailable; try again "
                              "shortly",
                            NGX_ROOMS_SIGNAL_CLOSE_LATER);
}


/* the role the record names: what this connection proved */
static ngx_uint_t
ngx_rooms_signal_proven_role(ngx_rooms_signal_ctx_t *ctx)
{
    return ctx->host ? ROOMS_MSG_ROLE_HOST
           : ctx->cohost ? ROOMS_MSG_ROLE_COHOST : ROOMS_MSG_ROLE_GUEST;
}


/* The role the admission's credentials proved becomes this connection's. */
static void
ngx_rooms_signal_proven(ngx_rooms_signal_ctx_t *ctx, ngx_rooms_admit_t *a)
{
    ctx->host = a->host;
    ctx->cohost = a->cohost;

    if (a->host || a->cohost) {
        ngx_memcpy(ctx->key_hash, a->key_hash, ROOMS_HASH_LEN);
    }
}


/* The refusal the admission chose, as ngx_rooms_signal_refuse() sends. */
static void
ngx_rooms_signal_refused(ngx_rooms_signal_ctx_t *ctx, ngx_rooms_admit_t *a)
{
    ngx_rooms_signal_error(ctx, a->code, a->message,
                           a->start_at[0] ? a->start_at : NULL);
    ngx_rooms_ws_close(ctx->ws, a->close, a->reason);
}


/* An error message, then the close frame. */
static void
ngx_rooms_signal_refuse(ngx_rooms_signal_ctx_t *ctx, const char *code,
    const char *message, unsigned close_code)
{
    ngx_rooms_signal_error(ctx, code, message, NULL);
    ngx_rooms_ws_close(ctx->ws, close_code, code);
}


/* {"type":"error","code":...,"message":...[,"start_at":...]} */
static void
ngx_rooms_signal_error(ngx_rooms_signal_ctx_t *ctx, const char *code,
    const char *message, const char *start_at)
{
    char    *text;
    json_t  *err;

    /* an error between the join and the welcome that ends the join */
    if (ctx->join_seen && !ctx->welcomed) {
        ngx_rooms_metrics_refusal(code, ngx_strlen(code));
    }

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
    (void) ngx_rooms_ws_send(ctx->ws, (u_char *) text,
                             ngx_strlen(text));
    free(text);
}


/* A SIGNAL record: a message from the media worker for one browser. */
static void
ngx_rooms_signal_record(const rooms_proto_hdr_t *hdr, const u_char *payload)
{
    ngx_http_request_t      *r;
    ngx_rooms_signal_ctx_t  *ctx;

    ctx = ngx_rooms_ws_find(hdr->id);

    if (ctx == NULL) {
        /* a WebSocket that has closed since */
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "rooms ws: record %ui for unknown id %uL dropped",
                       (ngx_uint_t) hdr->type, hdr->id);
        return;
    }

    if (ctx->welcomed) {
        ngx_rooms_signal_sent(ctx, ngx_rooms_ws_send(ctx->ws, payload,
                                                     hdr->len));
        return;
    }

    /*
     * Before the welcome: it is relayed, and the people met are stored
     * (ngx_rooms_people_enter()) before the page is told more, so that
     * "your people" lists them as soon as the call has begun.  That write
     * may wait, in the media link's fiber: the WebSocket is held.
     */
    r = ctx->request;
    ngx_rooms_fiber_hold(r);

    ngx_rooms_signal_sent(ctx, ngx_rooms_signal_relay(ctx, payload,
                                                      hdr->len));

    ngx_rooms_fiber_release(r);
}


/* What came of a record's message to the page, and the page woken. */
static void
ngx_rooms_signal_sent(ngx_rooms_signal_ctx_t *ctx, ngx_int_t rc)
{
    switch (rc) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        ngx_rooms_ws_close(ctx->ws, ROOMS_WS_CLOSE_POLICY, "too slow");
        break;

    default:
        ngx_rooms_ws_close(ctx->ws, ROOMS_WS_CLOSE_INTERNAL, NULL);
        break;
    }

    ngx_rooms_ws_wake(ctx->ws);
}


/* A CLOSE record: the media worker closes one browser's WebSocket. */
static void
ngx_rooms_signal_close_record(const rooms_proto_hdr_t *hdr,
    const u_char *payload)
{
    char                     reason[ROOMS_WS_CONTROL_MAX - 1];
    size_t                   len;
    unsigned                 code;
    ngx_rooms_signal_ctx_t  *ctx;

    ctx = ngx_rooms_ws_find(hdr->id);

    if (ctx == NULL) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ngx_cycle->log, 0,
                       "rooms ws: record %ui for unknown id %uL dropped",
                       (ngx_uint_t) hdr->type, hdr->id);
        return;
    }

    /* payload bytes are in shared memory: read each once, into here */
    code = ROOMS_WS_CLOSE_NORMAL;
    len = 0;

    if (hdr->len >= 2) {
        code = (unsigned) payload[0] << 8 | payload[1];
        len = ngx_min(hdr->len - 2, sizeof(reason) - 1);
        ngx_memcpy(reason, payload + 2, len);
    }

    reason[len] = '\0';

    ngx_rooms_ws_close(ctx->ws, code, reason);
    ngx_rooms_ws_wake(ctx->ws);
}


/*
 * A media worker is gone: everyone whose room it carried rejoins (the
 * rooms of the others go on).
 */
static void
ngx_rooms_signal_link_down(ngx_uint_t worker, ngx_uint_t n)
{
    ngx_rooms_ws_close_all(NGX_ROOMS_MEDIA_ID_MASK,
                           ngx_rooms_media_id_bits(worker),
                           NGX_ROOMS_SIGNAL_CLOSE_RESTART,
                           "media worker restarting");
}


/*
 * The worker's answers to a join until its welcome: the welcome gets this
 * browser's guest_token and resume_token, which only nginx knows (the
 * worker has their hashes); likewise a "resumed" gets the next
 * resume_token.  Whatever comes before it passes as it is: an error before a
 * CLOSE (room_full), or "waiting" for a guest at a knock room's door,
 * whose welcome comes when a host admits it, and gets the token then.
 * Parsed only until the welcome passed: a host or an open room's guest
 * once, a waiting guest twice.
 */
static ngx_int_t
ngx_rooms_signal_relay(ngx_rooms_signal_ctx_t *ctx, const u_char *payload,
    size_t len)
{
    char          *text;
    json_t        *msg, *type, *v;
    ngx_int_t      rc;
    ngx_uint_t     welcome;
    json_error_t   jerr;

    msg = json_loadb((const char *) payload, len, 0, &jerr);
    type = json_object_get(msg, "type");
    welcome = json_is_string(type)
              && ngx_strcmp(json_string_value(type), "welcome") == 0;

    if (!welcome
        && (!json_is_string(type)
            || ngx_strcmp(json_string_value(type), "resumed") != 0))
    {
        /* an error before the CLOSE, or waiting: as it is */
        ngx_rooms_signal_count(ctx, msg, type);
        json_decref(msg);
        return ngx_rooms_ws_send(ctx->ws, payload, len);
    }

    /* who joined, for the webhook: once the welcome is sent */
    v = json_object_get(msg, "id");
    ctx->pid = json_is_integer(v) ? (int64_t) json_integer_value(v) : 0;
    v = json_object_get(msg, "role");
    ctx->role = !json_is_string(v) ? "guest"
                : ngx_strcmp(json_string_value(v), "host") == 0 ? "host"
                : ngx_strcmp(json_string_value(v), "cohost") == 0 ? "cohost"
                : "guest";

    text = NULL;

    if ((!welcome
         || (json_object_set_new(msg, "guest_token",
                                 json_stringn((char *) ctx->token,
                                              ROOMS_GUEST_TOKEN_LEN))
             == 0
             /* its own TURN credential, when TURN servers are set */
             && ngx_rooms_turn_welcome(
                    ngx_http_get_module_main_conf(ctx->request,
                                                  ngx_rooms_module), msg)
                == NGX_OK))
        && json_object_set_new(msg, "resume_token",
                               json_stringn((char *) ctx->resume,
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
    ngx_memzero(ctx->resume, sizeof(ctx->resume));

    if (welcome) {
        /* a "resumed" after a reload is the same join going on */
        ngx_rooms_metrics_add(NGX_ROOMS_M_JOINS, 1);
    }

    if (ctx->waiting) {
        ctx->waiting = 0;
        ngx_rooms_metrics_add(NGX_ROOMS_M_LOBBY_WAITING, -1);
    }

    rc = ngx_rooms_ws_send(ctx->ws, (u_char *) text,
                           ngx_strlen(text));
    ngx_explicit_memzero(text, ngx_strlen(text));
    free(text);

    if (!ctx->joined) {
        /*
         * A "resumed" is the same participant going on after a reload: its
         * join was told, and its leave (DETACH) was not; its leave will be.
         */
        ctx->joined = 1;
        ngx_rooms_signal_present(ctx);

        if (welcome) {
            ngx_rooms_signal_event(ctx, NGX_ROOMS_EVENT_JOINED);
        }
    }

    return rc;
}


/* Welcomed: present in the room, for the tray and "your people". */
static void
ngx_rooms_signal_present(ngx_rooms_signal_ctx_t *ctx)
{
    u_char  self[ROOMS_HASH_LEN];

    if (ngx_rooms_people_self(ctx->request, ctx->token_hash, self) != NGX_OK)
    {
        return;
    }

    ngx_rooms_people_enter(ctx->request, ctx->room_id, ctx->code, ctx->id,
                           self, ctx->name, ctx->name_len,
                           ngx_strcmp(ctx->role, "guest") == 0
                           ? NGX_ROOMS_PRESENT_GUEST
                           : NGX_ROOMS_PRESENT_HOST);
}


/*
 * The metrics of what the media worker answers a join before its welcome:
 * "waiting" puts a guest in the lobby, an error refuses the join.
 */
static void
ngx_rooms_signal_count(ngx_rooms_signal_ctx_t *ctx, json_t *msg,
    json_t *type)
{
    json_t  *code;

    if (!json_is_string(type)) {
        return;
    }

    if (ngx_strcmp(json_string_value(type), "waiting") == 0) {
        if (!ctx->waiting) {
            ctx->waiting = 1;
            ngx_rooms_metrics_add(NGX_ROOMS_M_LOBBY_WAITING, 1);
        }

        return;
    }

    code = json_object_get(msg, "code");

    if (ngx_strcmp(json_string_value(type), "error") == 0
        && json_is_string(code))
    {
        ngx_rooms_metrics_refusal(json_string_value(code),
                                  json_string_length(code));
    }
}


/*
 * A ROLE record: a host made the participant of a WebSocket co-host, or
 * a guest again; the media worker has changed its role already and told
 * the room.  A new co-host gets a key of its own (drawn and stored by the
 * control file), sent to that browser alone.  When the key cannot be
 * drawn or stored, the browser is told its role without a key (the
 * failure is logged): it acts as co-host until it leaves, except that its
 * lock is refused, and it rejoins as a guest.  A demotion revokes every
 * credential of the token, whether or not the WebSocket is still here.
 */
static void
ngx_rooms_signal_role(const rooms_proto_hdr_t *hdr, const u_char *payload)
{
    u_char                   buf[2048], token[ROOMS_HASH_LEN];
    ngx_log_t               *log;
    const char              *why;
    rooms_msg_role_t         rec;
    ngx_http_request_t      *r;
    ngx_rooms_signal_ctx_t  *ctx;

    r = NULL;
    ctx = ngx_rooms_ws_find(hdr->id);
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

    if (rooms_msg_role_decode((char *) buf, hdr->len, &rec, &why) != 0
        || rooms_token_hash_from_hex(rec.token, ROOMS_HASH_HEX_LEN, token)
           != 0)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms: a malformed ROLE record from the media worker "
                      "was dropped");
        return;
    }

    /*
     * A key is stored (and a demotion's keys revoked) before the answer:
     * the store may make this wait, in the media link's fiber; the
     * WebSocket is held meanwhile, so that a close cannot free it.
     */
    if (ctx) {
        r = ctx->request;
        ngx_rooms_fiber_hold(r);
    }

    if (rec.cohost) {
        ngx_rooms_signal_promoted(ctx, rec.room, token, rec.name, log);

    } else {
        ngx_rooms_signal_demoted(ctx, rec.room, token, log);
    }

    if (ctx) {
        ngx_rooms_ws_wake(ctx->ws);
        ngx_rooms_fiber_release(r);
    }
}


/* ctx is NULL when the WebSocket has closed since: no key is drawn then */
static void
ngx_rooms_signal_promoted(ngx_rooms_signal_ctx_t *ctx, int64_t room_id,
    u_char *token_hash, const char *name, ngx_log_t *log)
{
    char                    key[ROOMS_HOST_KEY_LEN + 1];
    u_char                  key_hash[ROOMS_HASH_LEN];
    json_t                 *out;
    ngx_rooms_main_conf_t  *rmcf;

    if (ctx == NULL) {
        return;
    }

    rmcf = ngx_http_get_module_main_conf(ctx->request, ngx_rooms_module);

    out = NULL;

    if (ngx_rooms_control_cohost_grant(rmcf, log, room_id, token_hash, name,
                                       key, key_hash)
        == NGX_OK)
    {
        ngx_memcpy(ctx->key_hash, key_hash, ROOMS_HASH_LEN);

        out = json_pack("{s:s,s:s,s:s}", "type", "role", "role", "cohost",
                        "cohost_key", key);

        ngx_explicit_memzero(key, sizeof(key));
    }

    ctx->cohost = 1;

    if (out == NULL) {
        out = json_pack("{s:s,s:s}", "type", "role", "role", "cohost");
    }

    ngx_rooms_signal_send_json(ctx, out);
}


static void
ngx_rooms_signal_demoted(ngx_rooms_signal_ctx_t *ctx, int64_t room_id,
    u_char *token_hash, ngx_log_t *log)
{
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    ngx_rooms_control_cohost_demote(rmcf, log, room_id, token_hash);

    if (ctx == NULL) {
        return;
    }

    ctx->cohost = 0;
    ngx_memzero(ctx->key_hash, ROOMS_HASH_LEN);

    ngx_rooms_signal_send_json(ctx,
                               json_pack("{s:s,s:s}", "type", "role", "role",
                                         "guest"));
}


/* Sends out (released here) to the browser, and wipes the text after. */
static void
ngx_rooms_signal_send_json(ngx_rooms_signal_ctx_t *ctx, json_t *out)
{
    char  *text;

    text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);

    if (text == NULL) {
        ngx_rooms_ws_close(ctx->ws, ROOMS_WS_CLOSE_INTERNAL, NULL);
        return;
    }

    if (ngx_rooms_ws_send(ctx->ws, (u_char *) text, ngx_strlen(text))
        != NGX_OK)
    {
        ngx_rooms_ws_close(ctx->ws, ROOMS_WS_CLOSE_POLICY, "too slow");
    }

    ngx_explicit_memzero(text, ngx_strlen(text));
    free(text);
}


/*
 * participant.joined and participant.left (rooms_webhook): told by the
 * nginx worker that holds the participant's WebSocket, so each once.
 */
static void
ngx_rooms_signal_event(ngx_rooms_signal_ctx_t *ctx, ngx_rooms_event_e type)
{
    ngx_rooms_event_who_t   who;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    if (rmcf == NULL || rmcf->webhook == NULL) {
        return;
    }

    who.id = ctx->pid;
    who.role = ctx->role ? ctx->role : "guest";
    who.name.data = ctx->name;
    who.name.len = ctx->name_len;

    ngx_rooms_control_event(rmcf, type, ctx->room_id, ctx->code, &who);
}
