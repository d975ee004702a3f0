
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_admit.h: a join's admission (ngx_rooms_admit.c), for the
 * signaling (ngx_rooms_signal.c), which sends the refusals.
 *
 * May not: include rooms_ring.h, include rooms_store.h, include ngx_rooms_ws.h
 */


#ifndef _NGX_ROOMS_ADMIT_H_INCLUDED_
#define _NGX_ROOMS_ADMIT_H_INCLUDED_


#include "ngx_rooms.h"

#include <jansson.h>


/* docs/protocol.md close codes (the signaling's, a refusal's among them) */
#define NGX_ROOMS_SIGNAL_CLOSE_RESTART  1012
#define NGX_ROOMS_SIGNAL_CLOSE_LATER    1013
#define NGX_ROOMS_SIGNAL_CLOSE_BAD      4400
#define NGX_ROOMS_SIGNAL_CLOSE_REFUSED  4403
#define NGX_ROOMS_SIGNAL_CLOSE_NO_JOIN  4408

/*
 * One join's or resume's admission: what its credentials proved, and,
 * once a call below has refused it, the refusal the signaling sends (an
 * error message with code, message and start_at when set, then the close
 * frame with close and reason).
 */
typedef struct {
    ngx_http_request_t  *request;                  /* the WebSocket's */

    unsigned             host:1;                   /* the room's host key */
    unsigned             cohost:1;                 /* an active co-host key */
    u_char               key_hash[ROOMS_HASH_LEN]; /* (co-)host's */
    u_char               token[ROOMS_GUEST_TOKEN_LEN + 1]; /* carried, or
                                                              drawn */

    const char          *code;
    const char          *message;
    char                 start_at[ROOMS_TIME_LEN + 1];  /* or "" */
    unsigned             close;
    const char          *reason;
} ngx_rooms_admit_t;


/*
 * The join's host_key, cohost_key and guest_token, each hashed (*has_key
 * and *has_cohost_key: NGX_OK when carried, NGX_DECLINED when absent or
 * null); a browser new to this room gets its guest token drawn here, into
 * a->token.  NGX_ERROR once the join is refused (a value of the wrong
 * shape: bad_message; the random source failed: internal_error).
 */
ngx_int_t ngx_rooms_admit_secrets(ngx_rooms_admit_t *a, json_t *msg,
    u_char *key_hash, u_char *cohost_hash, u_char *token_hash,
    ngx_int_t *has_key, ngx_int_t *has_cohost_key);

/*
 * The room of this code, read afresh into *room; NGX_ERROR once refused
 * (gone, not_found or storage_unavailable).
 */
ngx_int_t ngx_rooms_admit_room(ngx_rooms_admit_t *a, u_char *code,
    rooms_room_t *room);

/*
 * The role the join's or the resume's credentials give (one rule for
 * both), into a->host or a->cohost with a->key_hash: a key that is not
 * this room's makes a guest, like no key at all.  NGX_ERROR once refused
 * (the store failed).
 */
ngx_int_t ngx_rooms_admit_role(ngx_rooms_admit_t *a, rooms_room_t *room,
    ngx_int_t has_key, u_char *key_hash, ngx_int_t has_cohost_key,
    u_char *cohost_hash, u_char *token_hash);

/*
 * Admission, nginx's one check of who may come in, in this order
 * (docs/protocol.md): an ended room (room_ended), one that has not
 * started (not_started, with start_at), a guest token a host removed
 * (removed), a room locked to guests (locked), then the site's
 * rooms_policy can_join() for a guest (policy_denied with its reason, or
 * "knock": room->admission becomes the lobby's, as in a knock room).  A
 * host is never banned and gets past the lock and the policy; a co-host
 * is checked for a ban like a guest (a ban revokes its key anyway) and
 * gets past the lock and the policy like a host.  NGX_DECLINED once
 * refused.  Called after ngx_rooms_admit_role().
 */
ngx_int_t ngx_rooms_admit_check(ngx_rooms_admit_t *a, rooms_room_t *room,
    u_char *token_hash);


#endif /* _NGX_ROOMS_ADMIT_H_INCLUDED_ */
