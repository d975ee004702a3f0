/*
 * rooms_presence.h: who is in which room now, on every node, in the
 * store (rooms_presence.c), for the module's presence table
 * (ngx_rooms_people.c) when several nodes share one store
 * (docs/scaling.md, "Presence across nodes").
 *
 * Each node keeps its own rows (its people in calls, by the person's
 * hash, never a token) and replaces them whole; every row carries an
 * expiry, so the rows of a node that died go by themselves.  A node
 * reads the other nodes' rows that have not expired, and finds the rooms
 * whose call another node runs too, with when that call began.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, include <libpq-fe.h>, call json_, call sqlite3_, call PQ
 */

#ifndef ROOMS_PRESENCE_H
#define ROOMS_PRESENCE_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_limits.h"
#include "rooms_store.h"


/* one person in a call on some node */
typedef struct {
    int64_t        room_id;
    char           code[ROOMS_CODE_LEN + 1];
    unsigned char  person[ROOMS_HASH_LEN];
    int            role;                      /* the module's, as it is */
    char           name[ROOMS_NAME_MAX_BYTES + 1];
    int64_t        began;    /* ms: when its node's call in the room began */
} rooms_presence_t;


/* another node's call in a room this node has people in */
typedef struct {
    int64_t        room_id;
    int64_t        node;
    int64_t        began;    /* ms, that node's clock: its earliest row's */
} rooms_presence_call_t;


/*
 * Node node's rows become rows[0..n), each good until expires_at, and
 * every row (of any node) expired at now goes, in one write transaction
 * (waiting at most ROOMS_STORE_WAIT_MS for the write lock).
 * ROOMS_STORE_OK, ROOMS_STORE_BUSY (nothing changed) or ROOMS_STORE_ERROR.
 */
int rooms_presence_put(rooms_store_t *st, int64_t node,
    const rooms_presence_t *rows, size_t n, int64_t now, int64_t expires_at);

/*
 * The rows of every node but node that have not expired at now, ordered
 * by room id, at most max of them into rows; *n receives how many.
 * ROOMS_STORE_OK or ROOMS_STORE_ERROR.
 */
int rooms_presence_get(rooms_store_t *st, int64_t node, int64_t now,
    rooms_presence_t *rows, size_t max, size_t *n);

/*
 * The calls of other nodes, not expired at now, in rooms where node has
 * rows too (the same room's call split across nodes): one entry per room
 * and other node, with the earliest began of that node's rows there,
 * ordered by room id, at most max into calls; *n receives how many.
 * ROOMS_STORE_OK or ROOMS_STORE_ERROR.
 */
int rooms_presence_split(rooms_store_t *st, int64_t node, int64_t now,
    rooms_presence_call_t *calls, size_t max, size_t *n);


#endif /* ROOMS_PRESENCE_H */
