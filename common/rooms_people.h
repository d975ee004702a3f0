/*
 * rooms_people.h: "your people", kept in the store (schema 6).
 *
 * Owns: the people and room_owners tables: who was in a call with whom
 * (each person by the SHA-256 of its guest token, or of its signed-in id:
 * never a token in clear), the bound per person, the expiry, forgetting;
 * who created a room; the scheduled rooms the tray may list.
 * Must never decide who may see a room (ngx_rooms_tray.c does), and never
 * touch the rooms table but to read it.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, call json_, call rooms_ring_, call rooms_ws_
 */

#ifndef ROOMS_PEOPLE_H
#define ROOMS_PEOPLE_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_store.h"


/*
 * At most this many people per person: the tray reads all of one's people
 * on every refresh (one indexed range), and a person knows well at most a
 * Dunbar number of others; meeting one more drops the one met longest ago.
 */
#define ROOMS_PEOPLE_MAX        150

/* a relation lasts this long after the last call together */
#define ROOMS_PEOPLE_TTL        (90 * 86400)

/*
 * Only a call of at most this many people makes them each other's people:
 * a crowd in a public room is an audience, not friends (and 1000 people
 * would write a million rows).
 */
#define ROOMS_PEOPLE_CALL_MAX   16


typedef struct {
    unsigned char  hash[ROOMS_HASH_LEN];
    char           name[ROOMS_NAME_MAX_BYTES + 1];   /* as last seen */
    int64_t        last_at;
} rooms_person_t;


/*
 * a and b (named a_name and b_name) were in a call together at now: each
 * is the other's person (both rows written or refreshed), and each keeps
 * at most ROOMS_PEOPLE_MAX (the longest met go).  In the caller's
 * transaction, or in its own.  ROOMS_STORE_OK, ROOMS_STORE_BUSY or
 * ROOMS_STORE_ERROR.
 */
int rooms_people_meet(rooms_store_t *st, const unsigned char *a,
    const char *a_name, const unsigned char *b, const char *b_name,
    int64_t now);

/*
 * The people of self not expired at now, met last first: at most max
 * into out, how many in *n.  ROOMS_STORE_OK or ROOMS_STORE_ERROR.
 */
int rooms_people_list(rooms_store_t *st, const unsigned char *self,
    int64_t now, rooms_person_t *out, unsigned max, unsigned *n);

/*
 * Forgets the relation of self and other both ways (other NULL: every
 * relation of self).  *n receives how many people were forgotten.
 * ROOMS_STORE_OK, ROOMS_STORE_BUSY or ROOMS_STORE_ERROR.
 */
int rooms_people_forget(rooms_store_t *st, const unsigned char *self,
    const unsigned char *other, unsigned *n);

/*
 * Drops the relations last refreshed before before, and the owners of
 * rooms that are gone.  ROOMS_STORE_OK, ROOMS_STORE_BUSY or
 * ROOMS_STORE_ERROR.
 */
int rooms_people_expire(rooms_store_t *st, int64_t before);

/* Who created the room: set once (a second set changes nothing). */
int rooms_people_owner_set(rooms_store_t *st, int64_t room_id,
    const unsigned char *owner);

/* 1 with the owner's hash in owner, 0 when nobody is known, or an error. */
int rooms_people_owner_get(rooms_store_t *st, int64_t room_id,
    unsigned char *owner);

/*
 * The codes of the rooms not ended, not "link", that start after now and
 * at or before until, soonest first: at most max into codes, *n of them.
 */
int rooms_people_soon(rooms_store_t *st, int64_t now, int64_t until,
    char (*codes)[ROOMS_CODE_LEN + 1], unsigned max, unsigned *n);


#endif /* ROOMS_PEOPLE_H */
