
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_people.h: who is in which room now, across nginx workers, and
 * "your people" (ngx_rooms_people.c), for the signaling (joins and leaves),
 * the tray (ngx_rooms_tray.c) and the calendar feed.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_PEOPLE_H_INCLUDED_
#define _NGX_ROOMS_PEOPLE_H_INCLUDED_


#include "ngx_rooms.h"

#include "rooms_people.h"


/* what a participant's role in a room is, in the presence table */
#define NGX_ROOMS_PRESENT_GUEST  0
#define NGX_ROOMS_PRESENT_HOST   1          /* host or co-host */


/* one participant of a room now, as ngx_rooms_people_snapshot() copies it */
typedef struct {
    int64_t                      room_id;
    u_char                       code[ROOMS_CODE_LEN];
    u_char                       person[ROOMS_HASH_LEN];
    ngx_uint_t                   role;
    size_t                       name_len;
    u_char                       name[ROOMS_NAME_MAX_BYTES];
} ngx_rooms_present_t;


/*
 * At postconfiguration (a "rooms" location exists): the presence zone and
 * the link-down handler.  NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_rooms_people_init(ngx_conf_t *cf);

/*
 * init_process: finds this cycle's presence zone; worker 0 expires the
 * relations past ROOMS_PEOPLE_TTL every hour and, when the store is
 * shared by several nodes (PostgreSQL), writes this node's presence into
 * it (common/rooms_presence.h) once a second when it changed, and orders
 * the move of a call another node runs too, begun there later; every
 * worker carries those orders for its own connections.
 */
void ngx_rooms_people_init_process(ngx_cycle_t *cycle);

/*
 * exit_process: when the store is shared by several nodes (PostgreSQL),
 * this node's presence as it is now goes into the store at once.
 */
void ngx_rooms_people_exit_process(ngx_cycle_t *cycle);

/*
 * Who is asking, as the people relation knows them: the SHA-256 of the
 * signed-in id ("user:" and the id) when rooms_user names one, otherwise
 * token_hash, the SHA-256 of the browser's guest token (NULL: none).
 * NGX_OK with self filled, or NGX_DECLINED (an anonymous browser without a
 * token: nobody's person yet).
 */
ngx_int_t ngx_rooms_people_self(ngx_http_request_t *r,
    const u_char *token_hash, u_char *self);

/*
 * A participant (connection id conn, of this nginx worker) was welcomed
 * in a room: it is present, and becomes the person of everyone present
 * there (when the call has at most ROOMS_PEOPLE_CALL_MAX people).  Called
 * from the signaling once the welcome or resumed went out.
 */
void ngx_rooms_people_enter(ngx_http_request_t *r, int64_t room_id,
    const u_char *code, uint64_t conn, const u_char *person,
    const u_char *name, size_t name_len, ngx_uint_t role);

/*
 * Who closes a connection told to move (its room's call runs on another
 * node now, docs/scaling.md "Adding a node"): the signaling registers it
 * at postconfiguration; it gets the connection id of a participant of
 * this nginx worker, outside any lock, and closes it 4412.
 */
typedef void (*ngx_rooms_people_move_pt)(uint64_t conn);

void ngx_rooms_people_on_move(ngx_rooms_people_move_pt handler);

/*
 * Whether this node moved room_id's call to another node within the last
 * `within` seconds (so its hosts left for that node, not the room).
 */
ngx_uint_t ngx_rooms_people_moved(int64_t room_id, time_t within);

/* That connection's participant left (or detached): no longer present. */
void ngx_rooms_people_leave(uint64_t conn);

/*
 * Bumped on every change of who is present anywhere (any nginx worker):
 * the tray compares it to its last to know when to look again.
 */
ngx_atomic_uint_t ngx_rooms_people_gen(void);

/*
 * A copy of who is present, grouped by room (entries of a room are
 * consecutive), allocated from pool; *n of them.  Entries of nginx
 * workers that died are dropped first.  NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_rooms_people_snapshot(ngx_pool_t *pool,
    ngx_rooms_present_t **out, ngx_uint_t *n);

/*
 * "The people of X": self's people (the relation in the store, not
 * expired, met last first), then those the rooms_policy people() hook
 * names for the signed-in person r asks for (with an empty name), not
 * twice.  At most max into out, *n of them.  NGX_OK or NGX_ERROR (the
 * store failed; logged).  For the calendar feed and one-off requests:
 * the hook's answer is copied into r->pool.
 */
ngx_int_t ngx_rooms_people_of(ngx_http_request_t *r, const u_char *self,
    rooms_person_t *out, ngx_uint_t max, ngx_uint_t *n);

/* The store's part of ngx_rooms_people_of() alone. */
ngx_int_t ngx_rooms_people_stored(ngx_http_request_t *r, const u_char *self,
    rooms_person_t *out, ngx_uint_t max, ngx_uint_t *n);

/*
 * The hook's part alone: the person hashes (ROOMS_HASH_LEN bytes each)
 * of the site's friends of the signed-in person of r, from r->pool; NULL
 * when there are none (no hook, anonymous, a failed hook).  A live tray
 * asks once, at its hello.
 */
ngx_array_t *ngx_rooms_people_site(ngx_http_request_t *r);

/*
 * Forgets self's person whose id (ngx_rooms_people_id()) is id, or every
 * person of self when id is NULL; *n receives how many.  NGX_OK,
 * NGX_ROOMS_BUSY or NGX_ERROR.
 */
ngx_int_t ngx_rooms_people_forget(ngx_http_request_t *r, const u_char *self,
    ngx_str_t *id, ngx_uint_t *n);

/*
 * The opaque id under which self sees other (hex, 32 characters): a hash
 * of both, so that it names the relation and never tells other's hash.
 */
#define NGX_ROOMS_PEOPLE_ID_LEN  32

void ngx_rooms_people_id(const u_char *self, const u_char *other,
    u_char *id);

/* The creator of a new room (when it had a guest token or a user). */
void ngx_rooms_people_owner_set(ngx_http_request_t *r, int64_t room_id);

/* 1 with owner filled, 0 when unknown, NGX_ERROR. */
ngx_int_t ngx_rooms_people_owner(int64_t room_id, u_char *owner);

/*
 * The guest token a request presents in its X-Rooms-Guest header (never
 * a URL, which logs keep), hashed into token_hash.  NGX_OK, or
 * NGX_DECLINED when there is none or it is not a guest token's shape.
 */
ngx_int_t ngx_rooms_people_header_token(ngx_http_request_t *r,
    u_char *token_hash);


#endif /* _NGX_ROOMS_PEOPLE_H_INCLUDED_ */
