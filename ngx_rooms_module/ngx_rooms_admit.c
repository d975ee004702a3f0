
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_admit.c: a join's admission, for the signaling
 * (ngx_rooms_signal.c).
 *
 * Owns: reading a join's or a resume's credentials (host_key, cohost_key,
 * guest_token: their shapes, their hashes, the guest token drawn for a
 * browser new to the room), the room read afresh for it, the role they
 * prove in that room (host, co-host or guest), and admission: ended,
 * not started, banned, locked, the site's policy, the lobby.  Each
 * refusal's error code, message and close code is chosen here and left
 * in the ngx_rooms_admit_t for the signaling to send.
 * Must never send anything to a browser or the media worker (the
 * signaling does), nor write the store or change a room (the control
 * file does).
 * May not: call ngx_rooms_signal_, call ngx_rooms_ws_, call ngx_rooms_media_, call rooms_store_, call ngx_rooms_dir_change, call ngx_rooms_dir_add, include rooms_ring.h, include ngx_rooms_ws.h, include ngx_rooms_signal.h
 */


#include "ngx_rooms_admit.h"
#include "ngx_rooms_control.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_identity.h"
#include "ngx_rooms_policy.h"

#include "rooms_ws.h"


/* the secrets a join may carry (ngx_rooms_admit_secret()) */
#define NGX_ROOMS_ADMIT_HOST_KEY      0
#define NGX_ROOMS_ADMIT_COHOST_KEY    1
#define NGX_ROOMS_ADMIT_GUEST_TOKEN   2


static ngx_int_t ngx_rooms_admit_secret(ngx_rooms_admit_t *a, json_t *v,
    ngx_uint_t kind, u_char *hash);
static ngx_int_t ngx_rooms_admit_cohost_check(ngx_rooms_admit_t *a,
    rooms_room_t *room, u_char *key_hash, u_char *token_hash);
static void ngx_rooms_admit_refuse(ngx_rooms_admit_t *a, const char *code,
    const char *message, unsigned close_code);


ngx_int_t
ngx_rooms_admit_secrets(ngx_rooms_admit_t *a, json_t *msg,
    u_char *key_hash, u_char *cohost_hash, u_char *token_hash,
    ngx_int_t *has_key, ngx_int_t *has_cohost_key)
{
    ngx_int_t  rc;

    *has_key = ngx_rooms_admit_secret(a, json_object_get(msg, "host_key"),
                                      NGX_ROOMS_ADMIT_HOST_KEY, key_hash);
    if (*has_key == NGX_ERROR) {
        return NGX_ERROR;
    }

    *has_cohost_key = ngx_rooms_admit_secret(a,
                                           json_object_get(msg, "cohost_key"),
                                           NGX_ROOMS_ADMIT_COHOST_KEY,
                                           cohost_hash);
    if (*has_cohost_key == NGX_ERROR) {
        return NGX_ERROR;
    }

    rc = ngx_rooms_admit_secret(a, json_object_get(msg, "guest_token"),
                                NGX_ROOMS_ADMIT_GUEST_TOKEN, token_hash);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        /* a browser new to this room: its token is drawn here */
        if (rooms_token_guest((char *) a->token) != 0) {
            ngx_log_error(NGX_LOG_ALERT, a->request->connection->log, 0,
                          "rooms: the random source failed");
            ngx_rooms_admit_refuse(a, "internal_error",
                                   "the server cannot draw a token",
                                   ROOMS_WS_CLOSE_INTERNAL);
            return NGX_ERROR;
        }

        rooms_token_hash(a->token, ROOMS_GUEST_TOKEN_LEN, token_hash);
    }

    return NGX_OK;
}


/*
 * The join's host_key, cohost_key or guest_token (kind): absent or null
 * is NGX_DECLINED; a value of the exact shape (a co-host key has a host
 * key's) is NGX_OK, with its SHA-256 in hash (a guest token is kept for
 * the welcome too); anything else is refused bad_message and NGX_ERROR.
 */
static ngx_int_t
ngx_rooms_admit_secret(ngx_rooms_admit_t *a, json_t *v, ngx_uint_t kind,
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

    case NGX_ROOMS_ADMIT_HOST_KEY:
        if (s == NULL || !rooms_token_is_host_key(s, len)) {
            ngx_rooms_admit_refuse(a, "bad_message",
                                   "host_key is not a host key",
                                   NGX_ROOMS_SIGNAL_CLOSE_BAD);
            return NGX_ERROR;
        }

        break;

    case NGX_ROOMS_ADMIT_COHOST_KEY:
        if (s == NULL || !rooms_token_is_host_key(s, len)) {
            ngx_rooms_admit_refuse(a, "bad_message",
                                   "cohost_key is not a co-host key",
                                   NGX_ROOMS_SIGNAL_CLOSE_BAD);
            return NGX_ERROR;
        }

        break;

    default: /* NGX_ROOMS_ADMIT_GUEST_TOKEN */
        if (s == NULL || !rooms_token_is_guest(s, len)) {
            ngx_rooms_admit_refuse(a, "bad_message",
                                   "guest_token is not a guest token",
                                   NGX_ROOMS_SIGNAL_CLOSE_BAD);
            return NGX_ERROR;
        }

        ngx_memcpy(a->token, s, ROOMS_GUEST_TOKEN_LEN);
        a->token[ROOMS_GUEST_TOKEN_LEN] = '\0';
        break;
    }

    rooms_token_hash(s, len, hash);

    return NGX_OK;
}


ngx_int_t
ngx_rooms_admit_room(ngx_rooms_admit_t *a, u_char *code, rooms_room_t *room)
{
    ngx_int_t               rc;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(a->request, ngx_rooms_module);

    rc = ngx_rooms_dir_get(rmcf, a->request->connection->log, code,
                           room);

    switch (rc) {

    case NGX_OK:
        return NGX_OK;

    case NGX_ROOMS_GONE:
        ngx_rooms_admit_refuse(a, "gone",
                               "this invite link was replaced by the host",
                               NGX_ROOMS_SIGNAL_CLOSE_REFUSED);
        break;

    case NGX_DECLINED:
        ngx_rooms_admit_refuse(a, "not_found", "no room has this code",
                               NGX_ROOMS_SIGNAL_CLOSE_REFUSED);
        break;

    default:
        ngx_rooms_admit_refuse(a, "storage_unavailable",
                               "rooms cannot be read right now",
                               NGX_ROOMS_SIGNAL_CLOSE_LATER);
        break;
    }

    return NGX_ERROR;
}


ngx_int_t
ngx_rooms_admit_role(ngx_rooms_admit_t *a, rooms_room_t *room,
    ngx_int_t has_key, u_char *key_hash, ngx_int_t has_cohost_key,
    u_char *cohost_hash, u_char *token_hash)
{
    if (has_key == NGX_OK && rooms_token_hash_equal(key_hash, room->host_hash))
    {
        a->host = 1;
        ngx_memcpy(a->key_hash, key_hash, ROOMS_HASH_LEN);
        return NGX_OK;
    }

    if (has_cohost_key == NGX_OK) {
        return ngx_rooms_admit_cohost_check(a, room, cohost_hash,
                                            token_hash);
    }

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
ngx_rooms_admit_cohost_check(ngx_rooms_admit_t *a, rooms_room_t *room,
    u_char *key_hash, u_char *token_hash)
{
    u_char                  bound[ROOMS_HASH_LEN];
    ngx_int_t               rc;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(a->request, ngx_rooms_module);

    rc = ngx_rooms_control_cohost_key(rmcf, a->request->connection->log,
                                      room->id, key_hash, bound);

    if (rc == NGX_ERROR) {
        ngx_rooms_admit_refuse(a, "storage_unavailable",
                               "rooms cannot be read right now",
                               NGX_ROOMS_SIGNAL_CLOSE_LATER);
        return NGX_ERROR;
    }

    if (rc == 1 && rooms_token_hash_equal(bound, token_hash)) {
        a->cohost = 1;
        ngx_memcpy(a->key_hash, key_hash, ROOMS_HASH_LEN);
    }

    return NGX_OK;
}


ngx_int_t
ngx_rooms_admit_check(ngx_rooms_admit_t *a, rooms_room_t *room,
    u_char *token_hash)
{
    ngx_int_t               banned;
    ngx_str_t               reason;
    const char             *state;
    ngx_rooms_main_conf_t  *rmcf;

    state = rooms_state(room, ngx_time());

    if (ngx_strcmp(state, "ended") == 0) {
        ngx_rooms_admit_refuse(a, "room_ended", "the host ended this room",
                               NGX_ROOMS_SIGNAL_CLOSE_REFUSED);
        return NGX_DECLINED;
    }

    if (ngx_strcmp(state, "scheduled") == 0) {
        rooms_time_format(room->start_at, a->start_at);
        ngx_rooms_admit_refuse(a, "not_started", "the room has not started",
                               NGX_ROOMS_SIGNAL_CLOSE_REFUSED);
        a->reason = "refused";
        return NGX_DECLINED;
    }

    if (a->host) {
        return NGX_OK;
    }

    rmcf = ngx_http_get_module_main_conf(a->request, ngx_rooms_module);

    banned = ngx_rooms_control_banned(rmcf, a->request->connection->log,
                                      room->id, token_hash);

    if (banned == NGX_ERROR) {
        ngx_rooms_admit_refuse(a, "storage_unavailable",
                               "rooms cannot be read right now",
                               NGX_ROOMS_SIGNAL_CLOSE_LATER);
        return NGX_DECLINED;
    }

    if (banned) {
        ngx_rooms_admit_refuse(a, "removed",
                               "the host removed you from this room",
                               NGX_ROOMS_SIGNAL_CLOSE_REFUSED);
        return NGX_DECLINED;
    }

    if (room->locked && !a->cohost) {
        ngx_rooms_admit_refuse(a, "locked", "the host locked this room",
                               NGX_ROOMS_SIGNAL_CLOSE_REFUSED);
        return NGX_DECLINED;
    }

    if (a->cohost) {
        return NGX_OK;
    }

    switch (ngx_rooms_policy_can_join(a->request,
                                      ngx_rooms_identity(a->request),
                                      room, &reason))
    {
    case NGX_OK:
        return NGX_OK;

    case NGX_ROOMS_POLICY_KNOCK:
        room->admission = ROOMS_ADMISSION_KNOCK;
        return NGX_OK;

    default:
        ngx_rooms_admit_refuse(a, "policy_denied", (char *) reason.data,
                               NGX_ROOMS_SIGNAL_CLOSE_REFUSED);
        return NGX_DECLINED;
    }
}


/*
 * The refusal the signaling sends: an error message with code and
 * message, then the close frame with close_code and, as its reason, the
 * code (the one exception, not_started, sets its own).
 */
static void
ngx_rooms_admit_refuse(ngx_rooms_admit_t *a, const char *code,
    const char *message, unsigned close_code)
{
    a->code = code;
    a->message = message;
    a->close = close_code;
    a->reason = code;
}
