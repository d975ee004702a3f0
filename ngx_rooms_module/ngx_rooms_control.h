
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_control.h: every change to a room and every store write
 * (ngx_rooms_control.c), for the API, the signaling and the lifecycle.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_CONTROL_H_INCLUDED_
#define _NGX_ROOMS_CONTROL_H_INCLUDED_


#include "ngx_rooms.h"
#include "ngx_rooms_webhook.h"


/* a host's change to a room */
#define NGX_ROOMS_UPDATE    1      /* a patch */
#define NGX_ROOMS_ROTATE    2      /* a new invite code */
#define NGX_ROOMS_END       3


/*
 * The store handle: init_module opens the store (creating and migrating
 * it, so that "nginx -t" proves it usable) and closes it; each worker
 * opens its own in init_process and closes it in exit_process.  NGX_ERROR
 * is logged (emerg).
 */
ngx_int_t ngx_rooms_control_init_module(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf);
ngx_int_t ngx_rooms_control_init_process(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf);
void ngx_rooms_control_exit_process(ngx_rooms_main_conf_t *rmcf);

/*
 * Stores a new room (code, key hash and fields set) and caches it:
 * NGX_OK, NGX_ROOMS_BUSY (another program holds the store's write lock;
 * nothing was stored) or NGX_ERROR (logged).
 */
ngx_int_t ngx_rooms_control_create(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, rooms_room_t *room);

/*
 * A host's change (NGX_ROOMS_UPDATE with patch, ROTATE or END) to the room
 * whose current code is code, from the API or a host's WebSocket.  hash
 * is the SHA-256 of the host key presented, checked again under the
 * store's write lock.  With cohost set, hash is a co-host key's instead:
 * it must be an active co-host credential of the room (asked of the store
 * under that lock), and the change may only be a patch of
 * "locked"; anything else is refused not_host.  Once stored, the media
 * worker is told what concerns the people in the room (a ROOM record).
 * Returns what ngx_rooms_dir_change() returns, or NGX_ROOMS_BUSY when
 * another program holds the store's write lock (nothing changed); err is
 * set on NGX_ROOMS_REFUSED.
 */
ngx_int_t ngx_rooms_control_change(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, u_char *code, u_char *hash, ngx_uint_t cohost,
    ngx_uint_t action, rooms_patch_t *patch, rooms_room_t *room,
    rooms_error_t *err);

/*
 * The same change from a WebSocket that joined room room_id by code: a
 * rotation since then retired that code, so the room's current one is
 * read from the store by id, written back into code, and the change
 * tried once more.  NGX_DECLINED when the room is no longer stored.
 */
ngx_int_t ngx_rooms_control_change_joined(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, u_char *code, int64_t room_id, u_char *hash,
    ngx_uint_t cohost, ngx_uint_t action, rooms_patch_t *patch,
    rooms_error_t *err);

/*
 * The host (hash, checked again under the store's write lock) revokes the
 * co-host credential id of the room whose code is code; then the media
 * worker is told to make that co-host a guest if it is in the room.
 * Returns what ngx_rooms_dir_change() returns, or NGX_ROOMS_BUSY; err is
 * set on NGX_ROOMS_REFUSED (not_found for no such active credential).
 */
ngx_int_t ngx_rooms_control_cohost_revoke(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, u_char *code, u_char *hash, int64_t id,
    rooms_room_t *room, rooms_error_t *err);

/*
 * A new co-host of room room_id, the guest whose token hashes to
 * token_hash, named name: a key is drawn into key, and its hash, stored
 * bound to the token, into key_hash.  NGX_ERROR (logged) when no key
 * could be drawn or stored.  The caller wipes key once sent.
 */
ngx_int_t ngx_rooms_control_cohost_grant(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, int64_t room_id, u_char *token_hash, const char *name,
    char key[ROOMS_HOST_KEY_LEN + 1], u_char *key_hash);

/*
 * The guest of token_hash is a co-host no more: its keys are revoked (or,
 * while another program holds the store's lock, kept to be revoked as
 * soon as it is free).
 */
void ngx_rooms_control_cohost_demote(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, int64_t room_id, u_char *token_hash);

/*
 * Reads for the API and the signaling, logged when the store fails
 * (NGX_ERROR).  cohost_key: 1 when key_hash is an active co-host key of
 * the room, with the token hash it is bound to in bound, else 0.
 * banned: 1 when the guest token is banned from the room, else 0.
 * cohosts: the active co-hosts, at most max, their number in *n (NGX_OK).
 */
ngx_int_t ngx_rooms_control_cohost_key(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, int64_t room_id, u_char *key_hash, u_char *bound);
ngx_int_t ngx_rooms_control_banned(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, int64_t room_id, u_char *token_hash);
ngx_int_t ngx_rooms_control_cohosts(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, int64_t room_id, rooms_cohost_t *cohosts,
    unsigned max, unsigned *n);


/*
 * A webhook event (rooms_webhook) into the store's outbox, on its own:
 * room.opened and the participants' events.  A store locked by another
 * process keeps it (ngx_rooms_deferred.c).  Nothing when rooms_webhook is
 * off.  room.created and room.ended are written here too, in the very
 * transaction that creates or ends the room.
 */
void ngx_rooms_control_event(ngx_rooms_main_conf_t *rmcf,
    ngx_rooms_event_e type, int64_t room_id, const u_char *code,
    ngx_rooms_event_who_t *who);

/*
 * The webhook sender's: event id was delivered, out of the outbox with
 * it.  NGX_OK, NGX_ROOMS_BUSY (locked: ask again) or NGX_ERROR (logged).
 * Never waits for the lock.
 */
ngx_int_t ngx_rooms_control_webhook_delivered(ngx_rooms_main_conf_t *rmcf,
    int64_t id);


#endif /* _NGX_ROOMS_CONTROL_H_INCLUDED_ */
