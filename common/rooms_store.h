/*
 * rooms_store.h: durable room state in one SQLite file (WAL) or one
 * PostgreSQL database (rooms_db.h).
 *
 * Owns: the schema, its version and its migrations, and every statement
 * that reads or writes rooms, retired invite codes, removal bans and
 * co-host credentials.  Must
 * never be shared across fork(): each process opens its own handle.  Must
 * never keep host keys or guest tokens in clear.
 *
 * May not: include <ngx_core.h>, include <sqlite3.h>, include <libpq-fe.h>, include <jansson.h>
 */

#ifndef ROOMS_STORE_H
#define ROOMS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_db.h"
#include "rooms_room.h"


#define ROOMS_STORE_SCHEMA_VERSION  9

#define ROOMS_STORE_OK         0
#define ROOMS_STORE_NOT_FOUND  1
#define ROOMS_STORE_GONE       2      /* a code retired by rotation */
#define ROOMS_STORE_ERROR     -1
#define ROOMS_STORE_BUSY      -2      /* another process holds the lock */

/*
 * Every write below returns ROOMS_STORE_BUSY when it needs the write lock
 * and another process holds it: outside rooms_store_begin() a write takes
 * it without waiting (or, for one of several statements, waiting
 * ROOMS_STORE_WAIT_MS), and nothing is changed then.
 */

/*
 * How long a writer waits for the store's write lock, in milliseconds.
 * nginx's own workers hold it well under a millisecond per change, so
 * this covers a queue of them; a longer hold is another program's (a
 * backup, the sqlite3 shell), and waiting it out would stall the event
 * loop of the nginx worker that waits.  No other statement ever waits.
 */
#define ROOMS_STORE_WAIT_MS    50
#define ROOMS_STORE_OPEN_WAIT_MS  2000


typedef struct rooms_store_s  rooms_store_t;


/*
 * Opens (creating when missing) the store at where: a file path (SQLite,
 * WAL journal) or a postgresql:// URI (rooms_db_open()); the schema
 * created, or migrated from an older version (waiting up to
 * ROOMS_STORE_OPEN_WAIT_MS for the write lock: it runs before any
 * request).
 * Returns NULL with a message in err on failure (unwritable directory, a
 * newer schema, not a database, a server that cannot be reached; never
 * the URI's password).
 */
rooms_store_t *rooms_store_open(const char *where, char *err, size_t errlen);

void rooms_store_close(rooms_store_t *st);

/*
 * Proves the store writable now, as "nginx -t" must: a store that can
 * only be read (a read-only mount, an immutable file) opens and reads
 * fine, and would fail every change later.  Writes the schema version
 * again, which needs the disk as any write does (a full disk fails it).
 * ROOMS_STORE_OK; ROOMS_STORE_ERROR with what and why in err (the file,
 * and the system's reason); ROOMS_STORE_BUSY when another program held
 * the write lock for ROOMS_STORE_OPEN_WAIT_MS (nothing is known).
 */
int rooms_store_check_write(rooms_store_t *st, char *err, size_t errlen);

/*
 * The store's connection, for the files of common/ that keep tables of
 * their own in it (rooms_people.c, rooms_sched.c), with its transactions
 * below.
 */
rooms_db_t *rooms_store_db(rooms_store_t *st);

/* The last error's message, for logs. */
const char *rooms_store_errmsg(rooms_store_t *st);

/*
 * Writes and the write lock.  rooms_store_begin() takes the write lock
 * (rooms_db_begin(): SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory
 * lock), waiting at most wait_ms for another process to
 * release it: ROOMS_STORE_OK, ROOMS_STORE_BUSY (it did not, nothing is
 * open) or ROOMS_STORE_ERROR.  Every write below may run inside it; one
 * that needs several statements opens (and ends) its own transaction
 * only when none is open.  rooms_store_commit() ends it: ROOMS_STORE_OK,
 * or ROOMS_STORE_ERROR with everything since the begin rolled back (the
 * disk is full, an I/O error).  rooms_store_rollback() drops it, when
 * one is open, and keeps the last error's message.  Reads never wait: in
 * SQLite's WAL mode, as in PostgreSQL, they see the last commit while
 * another process writes.
 */
int rooms_store_begin(rooms_store_t *st, int wait_ms);
int rooms_store_commit(rooms_store_t *st);
void rooms_store_rollback(rooms_store_t *st);

/*
 * A write of several statements, inside the caller's transaction or its
 * own: rooms_store_tx() opens one when none is (waiting at most
 * ROOMS_STORE_WAIT_MS) and returns 1, or 0 inside the caller's, or
 * ROOMS_STORE_BUSY / ROOMS_STORE_ERROR.  rooms_store_tx_end() takes what
 * it returned (own) and the write's result rc: its own transaction is
 * committed (rc OK) or rolled back; inside the caller's, a failure is the
 * caller's to roll back.  Returns the result.
 */
int rooms_store_tx(rooms_store_t *st);
int rooms_store_tx_end(rooms_store_t *st, int own, int rc);

/* Inserts a new room; sets room->id. */
int rooms_store_insert(rooms_store_t *st, rooms_room_t *room);

/*
 * Finds the room whose current code is code.  Returns ROOMS_STORE_OK with
 * room filled, ROOMS_STORE_GONE for a retired code, ROOMS_STORE_NOT_FOUND
 * or ROOMS_STORE_ERROR.
 */
int rooms_store_find(rooms_store_t *st, const char *code,
    rooms_room_t *room);

/*
 * Writes the mutable fields (title, audience, admission, locked, cap,
 * host_absent) and the next revision: room->rev + 1, which room->rev
 * becomes on success.  The revision orders the room's states for the
 * media worker (docs/protocol.md), so every stored change of state bumps
 * it, under the caller's lock.
 */
int rooms_store_update(rooms_store_t *st, rooms_room_t *room);

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

/*
 * Marks the room ended at time now; room->ended_at is set and room->rev
 * bumped on success.
 */
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


/*
 * Co-host credentials.  A host makes a participant co-host; that
 * participant gets a co-host key of its own (stored here as its SHA-256
 * only), bound to the participant's guest token, revocable by the host.
 * A ban (rooms_store_ban) revokes the banned token's credentials in the
 * same transaction.
 */
typedef struct {
    int64_t        id;                              /* the API's id */
    char           name[ROOMS_NAME_MAX_BYTES + 1];  /* when made co-host */
    int64_t        created_at;
} rooms_cohost_t;

/*
 * Stores a new active credential: key_hash for the guest whose token
 * hashes to token_hash, named name, at time now; *id receives its id.
 * That token's earlier active credential, if any, is revoked first (one
 * per guest), and when ROOMS_COHOSTS_MAX are active the oldest is revoked
 * to make room, all in one transaction.
 */
int rooms_store_cohost_add(rooms_store_t *st, int64_t room_id,
    const unsigned char key_hash[ROOMS_HASH_LEN],
    const unsigned char token_hash[ROOMS_HASH_LEN], const char *name,
    int64_t now, int64_t *id);

/*
 * 1 when key_hash is an active co-host credential of the room (token_hash,
 * when not NULL, receives the guest token hash it is bound to), 0 if not,
 * ROOMS_STORE_ERROR.
 */
int rooms_store_cohost_check(rooms_store_t *st, int64_t room_id,
    const unsigned char key_hash[ROOMS_HASH_LEN],
    unsigned char *token_hash);

/*
 * Revokes the room's active credential with that id at time now
 * (token_hash, when not NULL, receives the guest token hash it was bound
 * to).  ROOMS_STORE_OK, ROOMS_STORE_NOT_FOUND (no active credential has
 * that id in that room) or ROOMS_STORE_ERROR.
 */
int rooms_store_cohost_revoke(rooms_store_t *st, int64_t room_id,
    int64_t id, int64_t now, unsigned char *token_hash);

/*
 * Revokes every active credential of the room bound to token_hash (none
 * is no error).  ROOMS_STORE_OK or ROOMS_STORE_ERROR.
 */
int rooms_store_cohost_revoke_token(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN], int64_t now);

/*
 * The room's active credentials, oldest first: at most max into out, the
 * number in *n.  ROOMS_STORE_OK or ROOMS_STORE_ERROR.
 */
int rooms_store_cohost_list(rooms_store_t *st, int64_t room_id,
    rooms_cohost_t *out, unsigned max, unsigned *n);


/*
 * Expiry (nginx's rooms_expire).  A room is in use when people are in it:
 * rooms_store_used() records that at time now, writing at most once per
 * ROOMS_STORE_USED_EVERY seconds per room (a no-op otherwise).
 * ROOMS_STORE_OK or ROOMS_STORE_ERROR.
 */
#define ROOMS_STORE_USED_EVERY  3600

int rooms_store_used(rooms_store_t *st, int64_t room_id, int64_t now);

/*
 * Purges, in one transaction, every room that ended before the time
 * before, and every room not ended with nothing since then: not created,
 * not scheduled to start and nobody in it (rooms_store_used()).  Its
 * retired codes, bans and co-host credentials go with it; its codes then
 * answer as never known.  *purged receives how many rooms went.
 * ROOMS_STORE_OK or ROOMS_STORE_ERROR (nothing purged).
 */
int rooms_store_expire(rooms_store_t *st, int64_t before, int64_t *purged);

/*
 * The webhook outbox: events waiting to be delivered, oldest first, each
 * a body of at most ROOMS_STORE_EVENT_MAX bytes under an id that grows
 * and is never given twice.
 */
#define ROOMS_STORE_EVENT_MAX  2048

/*
 * Appends body (len bytes), made at now, keeping at most max rows: when
 * the outbox is full the oldest rows go first, and *dropped receives how
 * many went.  In the caller's transaction, or in its own.
 * ROOMS_STORE_OK, ROOMS_STORE_BUSY or ROOMS_STORE_ERROR.
 */
int rooms_store_outbox_add(rooms_store_t *st, const void *body, size_t len,
    int64_t now, unsigned max, unsigned *dropped);

/*
 * The oldest event after the id after (0: the oldest of all): 1 with its
 * id and body (at most cap bytes, *len its length), 0 when there is none,
 * ROOMS_STORE_ERROR.  A read: it never waits for a writer.
 */
int rooms_store_outbox_next(rooms_store_t *st, int64_t after, int64_t *id,
    void *body, size_t cap, size_t *len);

/*
 * Removes the event id (delivered).  ROOMS_STORE_OK (also when it was
 * gone), ROOMS_STORE_BUSY or ROOMS_STORE_ERROR.
 */
int rooms_store_outbox_remove(rooms_store_t *st, int64_t id);


#endif /* ROOMS_STORE_H */
