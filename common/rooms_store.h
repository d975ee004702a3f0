/*
 * rooms_store.h: durable room state in one SQLite file (WAL).
 *
 * Owns: the schema, its version and its migrations, and every statement
 * that reads or writes rooms, retired invite codes and removal bans.  Must
 * never be shared across fork(): each process opens its own handle.  Must
 * never keep host keys or guest tokens in clear.
 */

#ifndef ROOMS_STORE_H
#define ROOMS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_room.h"


#define ROOMS_STORE_SCHEMA_VERSION  2

#define ROOMS_STORE_OK         0
#define ROOMS_STORE_NOT_FOUND  1
#define ROOMS_STORE_GONE       2      /* a code retired by rotation */
#define ROOMS_STORE_ERROR     -1


typedef struct rooms_store_s  rooms_store_t;


/*
 * Opens (creating when missing) the store at path: WAL journal, a busy
 * timeout, the schema created, or migrated from an older version.
 * Returns NULL with a message in err on failure (unwritable directory, a
 * newer schema, not a database).
 */
rooms_store_t *rooms_store_open(const char *path, char *err, size_t errlen);

void rooms_store_close(rooms_store_t *st);

/* The last error's message, for logs. */
const char *rooms_store_errmsg(rooms_store_t *st);

/* Inserts a new room; sets room->id. */
int rooms_store_insert(rooms_store_t *st, rooms_room_t *room);

/*
 * Finds the room whose current code is code.  Returns ROOMS_STORE_OK with
 * room filled, ROOMS_STORE_GONE for a retired code, ROOMS_STORE_NOT_FOUND
 * or ROOMS_STORE_ERROR.
 */
int rooms_store_find(rooms_store_t *st, const char *code,
    rooms_room_t *room);

/* Writes the mutable fields (title, audience, admission, locked, cap). */
int rooms_store_update(rooms_store_t *st, const rooms_room_t *room);

/*
 * Gives the room new_code and retires its current code, atomically.
 * room->code is updated on success.
 */
int rooms_store_rotate(rooms_store_t *st, rooms_room_t *room,
    const char *new_code);

/*
 * The current code of the room with store id room_id (a rotation may have
 * replaced the one a caller knew).  ROOMS_STORE_OK, ROOMS_STORE_NOT_FOUND
 * or ROOMS_STORE_ERROR.
 */
int rooms_store_code(rooms_store_t *st, int64_t room_id,
    char code[ROOMS_CODE_LEN + 1]);

/* Marks the room ended at time now; room->ended_at is set on success. */
int rooms_store_end(rooms_store_t *st, rooms_room_t *room, int64_t now);

/*
 * Bans a guest token from a room for the room's lifetime: token_hash is
 * the SHA-256 of the token (tokens are never stored in clear).  Banning a
 * banned token again succeeds and changes nothing.
 */
int rooms_store_ban(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN]);

/* 1 when the token is banned from the room, 0 if not, ROOMS_STORE_ERROR. */
int rooms_store_is_banned(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN]);


#endif /* ROOMS_STORE_H */
