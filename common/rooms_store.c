/*
 * rooms_store.c: the store behind the room directory, on SQLite or
 * PostgreSQL (rooms_db.h: one dialect, one schema, the same migrations).
 *
 * Statements are prepared once per connection.  A rotation writes the
 * retired code and the new one in one transaction, so no instant exists
 * where the old code is neither live nor gone.  Times are the caller's
 * or this process's clock (time()), never the database's: both engines
 * then store the same numbers.
 *
 * Schema versions (rooms_db_version_get()) and their migrations:
 *     1  rooms, retired_codes
 *     2  bans: the guest tokens a host removed, per room
 *     3  rooms.host_absent and rooms.rev; cohosts: co-host credentials
 *     4  rooms.used_at: when people were last seen in the room (expiry)
 *     5  webhook_outbox: the webhook events not delivered yet, in order
 *     6  people (who met whom, by hash) and room_owners (who created a
 *        room): rooms_people.c reads and writes them
 *     7  reminders, calendar_feeds, rooms.soon_sent: scheduled rooms
 *        (rooms_sched.c)
 *     8  presence: each node's people in calls, for the other nodes'
 *        trays (rooms_presence.c)
 *     9  presence.began: when the node's call in that room began, so
 *        that the older of two nodes with the same room's call yields
 *        (docs/scaling.md, "Adding a node")
 * A store is migrated step by step, in one transaction, from whatever
 * version it has up to ROOMS_STORE_SCHEMA_VERSION; a newer one is refused
 * untouched.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, include <libpq-fe.h>, call json_, call rooms_ring_, call rooms_ws_, call sqlite3_, call PQ
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rooms_store.h"


enum {
    ROOMS_SQL_INSERT = 0,
    ROOMS_SQL_FIND,
    ROOMS_SQL_FIND_RETIRED,
    ROOMS_SQL_UPDATE,
    ROOMS_SQL_RETIRE,
    ROOMS_SQL_RECODE,
    ROOMS_SQL_END,
    ROOMS_SQL_BAN,
    ROOMS_SQL_IS_BANNED,
    ROOMS_SQL_CODE,
    ROOMS_SQL_BAN_COHOSTS,
    ROOMS_SQL_COHOST_INSERT,
    ROOMS_SQL_COHOST_ACTIVE,
    ROOMS_SQL_COHOST_REVOKE_OLDEST,
    ROOMS_SQL_COHOST_CHECK,
    ROOMS_SQL_COHOST_GET,
    ROOMS_SQL_COHOST_REVOKE,
    ROOMS_SQL_COHOST_REVOKE_TOKEN,
    ROOMS_SQL_COHOST_LIST,
    ROOMS_SQL_USED,
    ROOMS_SQL_OUTBOX_COUNT,
    ROOMS_SQL_OUTBOX_DROP,
    ROOMS_SQL_OUTBOX_ADD,
    ROOMS_SQL_OUTBOX_NEXT,
    ROOMS_SQL_OUTBOX_REMOVE,
    ROOMS_SQL_N
};


struct rooms_store_s {
    rooms_db_t       *db;
    rooms_db_stmt_t  *stmt[ROOMS_SQL_N];
};


/*
 * rooms_migrations[v] takes a store from version v to v + 1.  A released
 * step never changes: a store of any released version must migrate the
 * same way.
 */
static const char  *rooms_migrations[ROOMS_STORE_SCHEMA_VERSION] = {

    /* 0 -> 1: rooms and the codes rotations retired */
    "CREATE TABLE rooms ("
    "  id               INTEGER PRIMARY KEY,"
    "  code             TEXT NOT NULL UNIQUE,"
    "  host_hash        BLOB NOT NULL,"
    "  title            TEXT NOT NULL,"
    "  activity         INTEGER NOT NULL,"
    "  audience         TEXT NOT NULL,"
    "  admission        INTEGER NOT NULL,"
    "  locked           INTEGER NOT NULL,"
    "  max_participants INTEGER NOT NULL,"
    "  start_at         INTEGER NOT NULL,"
    "  created_at       INTEGER NOT NULL,"
    "  ended_at         INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE retired_codes ("
    "  code             TEXT PRIMARY KEY,"
    "  room_id          INTEGER NOT NULL REFERENCES rooms(id),"
    "  retired_at       INTEGER NOT NULL"
    ");",

    /* 1 -> 2: removal bans, by the SHA-256 of the guest token */
    "CREATE TABLE bans ("
    "  room_id          INTEGER NOT NULL REFERENCES rooms(id),"
    "  token_hash       BLOB NOT NULL,"
    "  created_at       INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, token_hash)"
    ") WITHOUT ROWID;",

    /*
     * 2 -> 3: the host-absent policy, the revision that orders a room's
     * states, and co-host credentials (SHA-256 of the key, bound to the
     * SHA-256 of the guest token it was given with; revoked_at 0 while
     * active)
     */
    "ALTER TABLE rooms ADD COLUMN host_absent INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE rooms ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE cohosts ("
    "  id               INTEGER PRIMARY KEY,"
    "  room_id          INTEGER NOT NULL REFERENCES rooms(id),"
    "  key_hash         BLOB NOT NULL UNIQUE,"
    "  token_hash       BLOB NOT NULL,"
    "  name             TEXT NOT NULL,"
    "  created_at       INTEGER NOT NULL,"
    "  revoked_at       INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX cohosts_room ON cohosts (room_id, revoked_at);",

    /* 3 -> 4: when people were last seen in a room (0: never), for expiry */
    "ALTER TABLE rooms ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;",

    /*
     * 4 -> 5: the webhook outbox, oldest first; AUTOINCREMENT so that an
     * id is never given twice, even after the newest row went
     */
    "CREATE TABLE webhook_outbox ("
    "  id               INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  created_at       INTEGER NOT NULL,"
    "  body             BLOB NOT NULL"
    ");",

    /*
     * 5 -> 6: "your people" (rooms_people.h): two people who were in a call
     * together, by the SHA-256 of each one's guest token (or signed-in id),
     * one row each way; and who created a room, for the "friends"
     * audience.  No foreign key: the rooms' purge stays as it is, and
     * rooms_people_expire() drops the owners of rooms that went.
     */
    "CREATE TABLE people ("
    "  self_hash        BLOB NOT NULL,"
    "  other_hash       BLOB NOT NULL,"
    "  name             TEXT NOT NULL,"
    "  last_at          INTEGER NOT NULL,"
    "  PRIMARY KEY (self_hash, other_hash)"
    ") WITHOUT ROWID;"
    "CREATE INDEX people_last ON people (last_at);"
    "CREATE TABLE room_owners ("
    "  room_id          INTEGER PRIMARY KEY,"
    "  owner_hash       BLOB NOT NULL"
    ");",

    /*
     * 6 -> 7: scheduled rooms (rooms_sched.c).  reminders: the browsers
     * (SHA-256 of their browser token) that asked to be reminded of a
     * room (kind 0) or created it (kind 1, for their calendar feed);
     * calendar_feeds: each browser's secret feed address, as its SHA-256,
     * and its person in the people relation (people_hash, zeros when
     * unknown), whose people's rooms the feed lists too;
     * rooms.soon_sent: room.starting_soon was stored in the outbox (once)
     */
    "CREATE TABLE reminders ("
    "  room_id          INTEGER NOT NULL REFERENCES rooms(id),"
    "  token_hash       BLOB NOT NULL,"
    "  kind             INTEGER NOT NULL,"
    "  created_at       INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, token_hash, kind)"
    ") WITHOUT ROWID;"
    "CREATE INDEX reminders_token ON reminders (token_hash, kind);"
    "CREATE TABLE calendar_feeds ("
    "  token_hash       BLOB PRIMARY KEY,"
    "  feed_hash        BLOB NOT NULL UNIQUE,"
    "  people_hash      BLOB NOT NULL,"
    "  created_at       INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "ALTER TABLE rooms ADD COLUMN soon_sent INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX rooms_start ON rooms (start_at);",

    /*
     * 7 -> 8: presence on every node (rooms_presence.c): each node's
     * people in calls, by person hash, replaced whole by that node and
     * gone by themselves after expires_at (a node that died), for the
     * trays of the other nodes (docs/scaling.md)
     */
    "CREATE TABLE presence ("
    "  node             INTEGER NOT NULL,"
    "  room_id          INTEGER NOT NULL,"
    "  code             TEXT NOT NULL,"
    "  person           BLOB NOT NULL,"
    "  role             INTEGER NOT NULL,"
    "  name             TEXT NOT NULL,"
    "  expires_at       INTEGER NOT NULL"
    ");"
    "CREATE INDEX presence_node ON presence (node);"
    "CREATE INDEX presence_expires ON presence (expires_at);",

    /*
     * 8 -> 9: when each node's call in a room began (ms since the epoch,
     * the node's clock), and rooms found by id: a node whose call in a
     * room is older than another node's yields it (rooms_presence.c)
     */
    "ALTER TABLE presence ADD COLUMN began INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX presence_room ON presence (room_id);",
};


static const char  *rooms_sql[ROOMS_SQL_N] = {
    "INSERT INTO rooms (code, host_hash, title, activity, audience,"
    " admission, locked, max_participants, start_at, created_at, ended_at,"
    " host_absent, rev)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, 0)"
    " RETURNING id",

    "SELECT id, code, host_hash, title, activity, audience, admission,"
    " locked, max_participants, start_at, created_at, ended_at,"
    " host_absent, rev"
    " FROM rooms WHERE code = ?1",

    "SELECT 1 FROM retired_codes WHERE code = ?1",

    "UPDATE rooms SET title = ?2, audience = ?3, admission = ?4,"
    " locked = ?5, max_participants = ?6, host_absent = ?7, rev = ?8"
    " WHERE id = ?1",

    "INSERT INTO retired_codes (code, room_id, retired_at)"
    " VALUES (?1, ?2, ?3)",

    "UPDATE rooms SET code = ?2 WHERE id = ?1",

    "UPDATE rooms SET ended_at = ?2, rev = rev + 1"
    " WHERE id = ?1 AND ended_at = 0",

    /* banning twice is no error: the first ban's time is kept */
    "INSERT INTO bans (room_id, token_hash, created_at)"
    " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",

    "SELECT 1 FROM bans WHERE room_id = ?1 AND token_hash = ?2",

    "SELECT code FROM rooms WHERE id = ?1",

    /* a ban ends the banned guest's co-host credentials */
    "UPDATE cohosts SET revoked_at = ?3"
    " WHERE room_id = ?1 AND token_hash = ?2 AND revoked_at = 0",

    "INSERT INTO cohosts (room_id, key_hash, token_hash, name, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",

    "SELECT count(*) FROM cohosts WHERE room_id = ?1 AND revoked_at = 0",

    "UPDATE cohosts SET revoked_at = ?2 WHERE id ="
    " (SELECT id FROM cohosts WHERE room_id = ?1 AND revoked_at = 0"
    "  ORDER BY id LIMIT 1)",

    "SELECT token_hash FROM cohosts"
    " WHERE room_id = ?1 AND key_hash = ?2 AND revoked_at = 0",

    "SELECT token_hash FROM cohosts"
    " WHERE room_id = ?1 AND id = ?2 AND revoked_at = 0",

    "UPDATE cohosts SET revoked_at = ?3"
    " WHERE room_id = ?1 AND id = ?2 AND revoked_at = 0",

    "UPDATE cohosts SET revoked_at = ?3"
    " WHERE room_id = ?1 AND token_hash = ?2 AND revoked_at = 0",

    "SELECT id, name, created_at FROM cohosts"
    " WHERE room_id = ?1 AND revoked_at = 0 ORDER BY id LIMIT ?2",

    /* at most one write per room and ROOMS_STORE_USED_EVERY */
    "UPDATE rooms SET used_at = ?2"
    " WHERE id = ?1 AND used_at <= ?2 - ?3",

    "SELECT count(*) FROM webhook_outbox",

    "DELETE FROM webhook_outbox WHERE id IN"
    " (SELECT id FROM webhook_outbox ORDER BY id LIMIT ?1)",

    "INSERT INTO webhook_outbox (created_at, body) VALUES (?1, ?2)",

    "SELECT id, body FROM webhook_outbox WHERE id > ?1 ORDER BY id LIMIT 1",

    "DELETE FROM webhook_outbox WHERE id = ?1",
};


/*
 * The rooms rooms_store_expire() purges: ended before ?1, or not ended
 * with nothing (creation, scheduled start, people in it) since ?1.
 */
#define ROOMS_SQL_EXPIRED                                                     \
    "SELECT id FROM rooms WHERE CASE WHEN ended_at != 0 THEN ended_at < ?1"   \
    " ELSE created_at < ?1 AND start_at < ?1 AND used_at < ?1 END"

static const char  *rooms_sql_expire[] = {
    "DELETE FROM reminders WHERE room_id IN (" ROOMS_SQL_EXPIRED ")",
    "DELETE FROM bans WHERE room_id IN (" ROOMS_SQL_EXPIRED ")",
    "DELETE FROM cohosts WHERE room_id IN (" ROOMS_SQL_EXPIRED ")",
    "DELETE FROM retired_codes WHERE room_id IN (" ROOMS_SQL_EXPIRED ")",
    "DELETE FROM rooms WHERE id IN (" ROOMS_SQL_EXPIRED ")",
};


/*
 * Brings the store up to ROOMS_STORE_SCHEMA_VERSION in one transaction.
 * The version is read again under the write lock: another process (a
 * second nginx, "nginx -t") may have migrated it meanwhile.
 */
static int
rooms_store_migrate(rooms_store_t *st, char *err, size_t errlen)
{
    int  rc, version;

    rc = rooms_db_begin(st->db, ROOMS_STORE_OPEN_WAIT_MS);

    if (rc != ROOMS_DB_DONE) {
        snprintf(err, errlen, "%s", rc == ROOMS_DB_BUSY
                 ? "another program held the store's write lock"
                 : rooms_db_errmsg(st->db));
        return -1;
    }

    version = rooms_db_version_get(st->db);

    if (version < 0 || version > ROOMS_STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "schema version %d cannot be migrated to "
                 "this module's %d", version, ROOMS_STORE_SCHEMA_VERSION);
        rooms_db_rollback(st->db);
        return -1;
    }

    /* a version 0 store with tables is somebody else's: leave it be */
    if (version == 0 && rooms_db_foreign(st->db) != 0) {
        snprintf(err, errlen, "not an ngx_rooms store (it has tables "
                 "but no schema version)");
        rooms_db_rollback(st->db);
        return -1;
    }

    for ( /* void */ ; version < ROOMS_STORE_SCHEMA_VERSION; version++) {
        if (rooms_db_exec(st->db, rooms_migrations[version]) != 0) {
            goto failed;
        }
    }

    if (rooms_db_version_set(st->db, ROOMS_STORE_SCHEMA_VERSION) != 0
        || rooms_db_commit(st->db) != ROOMS_DB_DONE)
    {
        goto failed;
    }

    return 0;

failed:

    snprintf(err, errlen, "migrating the schema from version %d failed: %s",
             version, rooms_db_errmsg(st->db));

    rooms_db_rollback(st->db);

    return -1;
}


rooms_store_t *
rooms_store_open(const char *where, char *err, size_t errlen)
{
    int             i, version;
    rooms_store_t  *st;

    st = calloc(1, sizeof(rooms_store_t));
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    /* SQLite: WAL, synchronous=NORMAL, foreign keys (rooms_db_sqlite.c) */
    st->db = rooms_db_open(where, err, errlen);
    if (st->db == NULL) {
        free(st);
        return NULL;
    }

    version = rooms_db_version_get(st->db);

    if (version < 0) {
        goto failed;
    }

    if (version > ROOMS_STORE_SCHEMA_VERSION) {
        snprintf(err, errlen, "schema version %d is newer than this "
                 "module's %d", version, ROOMS_STORE_SCHEMA_VERSION);
        rooms_store_close(st);
        return NULL;
    }

    if (version < ROOMS_STORE_SCHEMA_VERSION
        && rooms_store_migrate(st, err, errlen) != 0)
    {
        rooms_store_close(st);
        return NULL;
    }

    for (i = 0; i < ROOMS_SQL_N; i++) {
        st->stmt[i] = rooms_db_prepare(st->db, rooms_sql[i]);

        if (st->stmt[i] == NULL) {
            goto failed;
        }
    }

    return st;

failed:

    snprintf(err, errlen, "%s", rooms_db_errmsg(st->db));
    rooms_store_close(st);

    return NULL;
}


int
rooms_store_check_write(rooms_store_t *st, char *err, size_t errlen)
{
    int  rc;

    rc = rooms_db_begin(st->db, ROOMS_STORE_OPEN_WAIT_MS);

    if (rc == ROOMS_DB_BUSY) {
        snprintf(err, errlen, "another program holds its write lock");
        return ROOMS_STORE_BUSY;
    }

    /* a write that changes nothing, but needs the disk as any write does */
    if (rc != ROOMS_DB_DONE
        || rooms_db_version_set(st->db, ROOMS_STORE_SCHEMA_VERSION) != 0
        || rooms_db_commit(st->db) != ROOMS_DB_DONE)
    {
        snprintf(err, errlen, "%s", rooms_db_errmsg(st->db));
        rooms_db_rollback(st->db);
        return ROOMS_STORE_ERROR;
    }

    return ROOMS_STORE_OK;
}


void
rooms_store_close(rooms_store_t *st)
{
    int  i;

    if (st == NULL) {
        return;
    }

    for (i = 0; i < ROOMS_SQL_N; i++) {
        rooms_db_finalize(st->stmt[i]);
    }

    rooms_db_close(st->db);
    free(st);
}


const char *
rooms_store_errmsg(rooms_store_t *st)
{
    return rooms_db_errmsg(st->db);
}


rooms_db_t *
rooms_store_db(rooms_store_t *st)
{
    return st->db;
}


/* rooms_db's answers in the store's words */
static int
rooms_store_rc(int rc)
{
    switch (rc) {
    case ROOMS_DB_DONE:
        return ROOMS_STORE_OK;
    case ROOMS_DB_BUSY:
        return ROOMS_STORE_BUSY;
    default:
        return ROOMS_STORE_ERROR;
    }
}


int
rooms_store_begin(rooms_store_t *st, int wait_ms)
{
    return rooms_store_rc(rooms_db_begin(st->db, wait_ms));
}


int
rooms_store_commit(rooms_store_t *st)
{
    return rooms_store_rc(rooms_db_commit(st->db));
}


void
rooms_store_rollback(rooms_store_t *st)
{
    rooms_db_rollback(st->db);
}


/* rooms_store.h says what these two return */
int
rooms_store_tx(rooms_store_t *st)
{
    int  rc;

    if (rooms_db_in_tx(st->db)) {
        return 0;
    }

    rc = rooms_store_begin(st, ROOMS_STORE_WAIT_MS);

    return rc == ROOMS_STORE_OK ? 1 : rc;
}


int
rooms_store_tx_end(rooms_store_t *st, int own, int rc)
{
    if (!own) {
        return rc;
    }

    if (rc == ROOMS_STORE_OK) {
        return rooms_store_commit(st);
    }

    rooms_store_rollback(st);

    return rc;
}


/*
 * Runs a bound statement that returns no rows, then resets it (its
 * rooms_db_changes() stay readable).
 */
static int
rooms_store_done(rooms_db_stmt_t *stmt)
{
    int  rc;

    rc = rooms_db_step(stmt);
    rooms_db_reset(stmt);

    return rooms_store_rc(rc);
}


/*
 * Runs a bound statement that returns one row or none, then resets it:
 * 1 with the row's first column copied to out (a blob of len bytes; out
 * may be NULL), 0 for none, ROOMS_STORE_ERROR.
 */
static int
rooms_store_blob(rooms_db_stmt_t *s, unsigned char *out, size_t len)
{
    int          rc;
    const void  *blob;

    rc = rooms_db_step(s);

    if (rc == ROOMS_DB_ROW && out != NULL) {
        blob = rooms_db_column_blob(s, 0);

        if (blob != NULL && rooms_db_column_bytes(s, 0) == len) {
            memcpy(out, blob, len);

        } else {
            memset(out, 0, len);
        }
    }

    rooms_db_reset(s);

    switch (rc) {
    case ROOMS_DB_ROW:
        return 1;
    case ROOMS_DB_DONE:
        return 0;
    default:
        return ROOMS_STORE_ERROR;
    }
}


/*
 * Runs a bound INSERT ... RETURNING id, then resets it: ROOMS_STORE_OK
 * with the new row's id in *id, ROOMS_STORE_BUSY or ROOMS_STORE_ERROR.
 */
static int
rooms_store_insert_id(rooms_db_stmt_t *s, int64_t *id)
{
    int  rc;

    rc = rooms_db_step(s);

    if (rc == ROOMS_DB_ROW) {
        *id = rooms_db_column_int(s, 0);
        rc = rooms_db_step(s);
    }

    rooms_db_reset(s);

    return rc == ROOMS_DB_ROW ? ROOMS_STORE_ERROR : rooms_store_rc(rc);
}


int
rooms_store_insert(rooms_store_t *st, rooms_room_t *room)
{
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_INSERT];

    rooms_db_bind_text(s, 1, room->code);
    rooms_db_bind_blob(s, 2, room->host_hash, ROOMS_HASH_LEN);
    rooms_db_bind_text(s, 3, room->title);
    rooms_db_bind_int(s, 4, room->activity);
    rooms_db_bind_text(s, 5, room->audience);
    rooms_db_bind_int(s, 6, room->admission);
    rooms_db_bind_int(s, 7, room->locked);
    rooms_db_bind_int(s, 8, room->max_participants);
    rooms_db_bind_int(s, 9, room->start_at);
    rooms_db_bind_int(s, 10, room->created_at);
    rooms_db_bind_int(s, 11, room->host_absent);

    return rooms_store_insert_id(s, &room->id);
}


static void
rooms_store_text(rooms_db_stmt_t *s, int col, char *out, size_t size)
{
    size_t       n;
    const char  *p;

    p = rooms_db_column_text(s, col);

    if (p == NULL) {
        out[0] = '\0';
        return;
    }

    n = rooms_db_column_bytes(s, col);

    /* the API never stores more; a hand-edited store is cut, not overrun */
    if (n >= size) {
        n = size - 1;
    }

    memcpy(out, p, n);
    out[n] = '\0';
}


int
rooms_store_find(rooms_store_t *st, const char *code, rooms_room_t *room)
{
    int               rc;
    rooms_db_stmt_t  *s;
    const void       *hash;

    s = st->stmt[ROOMS_SQL_FIND];
    rooms_db_bind_text(s, 1, code);

    rc = rooms_db_step(s);

    if (rc == ROOMS_DB_ROW) {
        memset(room, 0, sizeof(rooms_room_t));

        room->id = rooms_db_column_int(s, 0);
        rooms_store_text(s, 1, room->code, sizeof(room->code));

        hash = rooms_db_column_blob(s, 2);
        if (hash != NULL && rooms_db_column_bytes(s, 2) == ROOMS_HASH_LEN) {
            memcpy(room->host_hash, hash, ROOMS_HASH_LEN);
        }

        rooms_store_text(s, 3, room->title, sizeof(room->title));
        room->activity = (uint8_t) rooms_db_column_int(s, 4);
        rooms_store_text(s, 5, room->audience, sizeof(room->audience));
        room->admission = (uint8_t) rooms_db_column_int(s, 6);
        room->locked = (uint8_t) rooms_db_column_int(s, 7);
        room->max_participants = (uint16_t) rooms_db_column_int(s, 8);
        room->start_at = rooms_db_column_int(s, 9);
        room->created_at = rooms_db_column_int(s, 10);
        room->ended_at = rooms_db_column_int(s, 11);
        room->host_absent = (uint8_t) rooms_db_column_int(s, 12);
        room->rev = rooms_db_column_int(s, 13);
    }

    rooms_db_reset(s);

    if (rc == ROOMS_DB_ROW) {
        return ROOMS_STORE_OK;
    }

    if (rc != ROOMS_DB_DONE) {
        return ROOMS_STORE_ERROR;
    }

    s = st->stmt[ROOMS_SQL_FIND_RETIRED];
    rooms_db_bind_text(s, 1, code);

    switch (rooms_store_blob(s, NULL, 0)) {
    case 1:
        return ROOMS_STORE_GONE;
    case 0:
        return ROOMS_STORE_NOT_FOUND;
    default:
        return ROOMS_STORE_ERROR;
    }
}


int
rooms_store_update(rooms_store_t *st, rooms_room_t *room)
{
    int               rc;
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_UPDATE];

    rooms_db_bind_int(s, 1, room->id);
    rooms_db_bind_text(s, 2, room->title);
    rooms_db_bind_text(s, 3, room->audience);
    rooms_db_bind_int(s, 4, room->admission);
    rooms_db_bind_int(s, 5, room->locked);
    rooms_db_bind_int(s, 6, room->max_participants);
    rooms_db_bind_int(s, 7, room->host_absent);
    rooms_db_bind_int(s, 8, room->rev + 1);

    rc = rooms_store_done(s);

    if (rc != ROOMS_STORE_OK) {
        return rc;
    }

    if (rooms_db_changes(s) != 1) {
        return ROOMS_STORE_ERROR;
    }

    room->rev++;

    return ROOMS_STORE_OK;
}


int
rooms_store_rotate(rooms_store_t *st, rooms_room_t *room,
    const char *new_code)
{
    int               own, rc;
    rooms_db_stmt_t  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    s = st->stmt[ROOMS_SQL_RETIRE];
    rooms_db_bind_text(s, 1, room->code);
    rooms_db_bind_int(s, 2, room->id);
    rooms_db_bind_int(s, 3, (int64_t) time(NULL));

    rc = rooms_store_done(s);

    if (rc == ROOMS_STORE_OK) {
        s = st->stmt[ROOMS_SQL_RECODE];
        rooms_db_bind_int(s, 1, room->id);
        rooms_db_bind_text(s, 2, new_code);

        rc = rooms_store_done(s);

        if (rc == ROOMS_STORE_OK && rooms_db_changes(s) != 1) {
            rc = ROOMS_STORE_ERROR;
        }
    }

    rc = rooms_store_tx_end(st, own, rc);

    if (rc == ROOMS_STORE_OK) {
        memcpy(room->code, new_code, ROOMS_CODE_LEN + 1);
    }

    return rc;
}


int
rooms_store_end(rooms_store_t *st, rooms_room_t *room, int64_t now)
{
    int               rc;
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_END];
    rooms_db_bind_int(s, 1, room->id);
    rooms_db_bind_int(s, 2, now);

    rc = rooms_store_done(s);

    if (rc != ROOMS_STORE_OK) {
        return rc;
    }

    /* ending twice is refused: the first end time is the true one */
    if (rooms_db_changes(s) != 1) {
        return ROOMS_STORE_ERROR;
    }

    room->ended_at = now;
    room->rev++;

    return ROOMS_STORE_OK;
}


/* a revocation time is never 0, which means "active" */
static int64_t
rooms_store_revoke_time(int64_t now)
{
    return now > 0 ? now : 1;
}


int
rooms_store_ban(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN])
{
    int               i, own, rc;
    int64_t           now;
    rooms_db_stmt_t  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    rc = ROOMS_STORE_OK;
    now = (int64_t) time(NULL);

    /* the ban, and the end of the banned guest's co-host credentials */
    for (i = 0; i < 2 && rc == ROOMS_STORE_OK; i++) {
        s = st->stmt[i == 0 ? ROOMS_SQL_BAN : ROOMS_SQL_BAN_COHOSTS];
        rooms_db_bind_int(s, 1, room_id);
        rooms_db_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN);
        rooms_db_bind_int(s, 3, i == 0 ? now : rooms_store_revoke_time(now));

        rc = rooms_store_done(s);
    }

    return rooms_store_tx_end(st, own, rc);
}


int
rooms_store_is_banned(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN])
{
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_IS_BANNED];
    rooms_db_bind_int(s, 1, room_id);
    rooms_db_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN);

    return rooms_store_blob(s, NULL, 0);
}


int
rooms_store_code(rooms_store_t *st, int64_t room_id,
    char code[ROOMS_CODE_LEN + 1])
{
    int               rc;
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_CODE];
    rooms_db_bind_int(s, 1, room_id);

    rc = rooms_db_step(s);

    if (rc == ROOMS_DB_ROW) {
        rooms_store_text(s, 0, code, ROOMS_CODE_LEN + 1);
    }

    rooms_db_reset(s);

    switch (rc) {
    case ROOMS_DB_ROW:
        return ROOMS_STORE_OK;
    case ROOMS_DB_DONE:
        return ROOMS_STORE_NOT_FOUND;
    default:
        return ROOMS_STORE_ERROR;
    }
}


/* The count a bound count(*) returns (reset), or -1. */
static int64_t
rooms_store_count(rooms_db_stmt_t *s)
{
    int64_t  n;

    n = rooms_db_step(s) == ROOMS_DB_ROW ? rooms_db_column_int(s, 0) : -1;
    rooms_db_reset(s);

    return n;
}


int
rooms_store_cohost_add(rooms_store_t *st, int64_t room_id,
    const unsigned char key_hash[ROOMS_HASH_LEN],
    const unsigned char token_hash[ROOMS_HASH_LEN], const char *name,
    int64_t now, int64_t *id)
{
    int               own;
    int64_t           active;
    rooms_db_stmt_t  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    /* one credential per guest: a new one replaces the old */
    if (rooms_store_cohost_revoke_token(st, room_id, token_hash, now)
        != ROOMS_STORE_OK)
    {
        goto failed;
    }

    /* the oldest goes first when the room has ROOMS_COHOSTS_MAX */
    for ( ;; ) {
        s = st->stmt[ROOMS_SQL_COHOST_ACTIVE];
        rooms_db_bind_int(s, 1, room_id);

        active = rooms_store_count(s);

        if (active < 0) {
            goto failed;
        }

        if (active < ROOMS_COHOSTS_MAX) {
            break;
        }

        s = st->stmt[ROOMS_SQL_COHOST_REVOKE_OLDEST];
        rooms_db_bind_int(s, 1, room_id);
        rooms_db_bind_int(s, 2, rooms_store_revoke_time(now));

        if (rooms_store_done(s) != ROOMS_STORE_OK
            || rooms_db_changes(s) != 1)
        {
            goto failed;
        }
    }

    s = st->stmt[ROOMS_SQL_COHOST_INSERT];
    rooms_db_bind_int(s, 1, room_id);
    rooms_db_bind_blob(s, 2, key_hash, ROOMS_HASH_LEN);
    rooms_db_bind_blob(s, 3, token_hash, ROOMS_HASH_LEN);
    rooms_db_bind_text(s, 4, name);
    rooms_db_bind_int(s, 5, now);

    if (rooms_store_insert_id(s, id) != ROOMS_STORE_OK) {
        goto failed;
    }

    return rooms_store_tx_end(st, own, ROOMS_STORE_OK);

failed:

    return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
}


int
rooms_store_cohost_check(rooms_store_t *st, int64_t room_id,
    const unsigned char key_hash[ROOMS_HASH_LEN],
    unsigned char *token_hash)
{
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_COHOST_CHECK];
    rooms_db_bind_int(s, 1, room_id);
    rooms_db_bind_blob(s, 2, key_hash, ROOMS_HASH_LEN);

    return rooms_store_blob(s, token_hash, ROOMS_HASH_LEN);
}


int
rooms_store_cohost_revoke(rooms_store_t *st, int64_t room_id, int64_t id,
    int64_t now, unsigned char *token_hash)
{
    int               own, rc;
    rooms_db_stmt_t  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    s = st->stmt[ROOMS_SQL_COHOST_GET];
    rooms_db_bind_int(s, 1, room_id);
    rooms_db_bind_int(s, 2, id);

    rc = rooms_store_blob(s, token_hash, ROOMS_HASH_LEN);

    if (rc != 1) {
        return rooms_store_tx_end(st, own, rc == 0 ? ROOMS_STORE_NOT_FOUND
                                                   : ROOMS_STORE_ERROR);
    }

    s = st->stmt[ROOMS_SQL_COHOST_REVOKE];
    rooms_db_bind_int(s, 1, room_id);
    rooms_db_bind_int(s, 2, id);
    rooms_db_bind_int(s, 3, rooms_store_revoke_time(now));

    rc = rooms_store_done(s);

    if (rc == ROOMS_STORE_OK && rooms_db_changes(s) != 1) {
        rc = ROOMS_STORE_ERROR;
    }

    return rooms_store_tx_end(st, own, rc);
}


int
rooms_store_cohost_revoke_token(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN], int64_t now)
{
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_COHOST_REVOKE_TOKEN];
    rooms_db_bind_int(s, 1, room_id);
    rooms_db_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN);
    rooms_db_bind_int(s, 3, rooms_store_revoke_time(now));

    return rooms_store_done(s);
}


int
rooms_store_cohost_list(rooms_store_t *st, int64_t room_id,
    rooms_cohost_t *out, unsigned max, unsigned *n)
{
    int               rc;
    rooms_db_stmt_t  *s;

    *n = 0;

    s = st->stmt[ROOMS_SQL_COHOST_LIST];
    rooms_db_bind_int(s, 1, room_id);
    rooms_db_bind_int(s, 2, max);

    while ((rc = rooms_db_step(s)) == ROOMS_DB_ROW && *n < max) {
        out[*n].id = rooms_db_column_int(s, 0);
        rooms_store_text(s, 1, out[*n].name, sizeof(out[*n].name));
        out[*n].created_at = rooms_db_column_int(s, 2);
        (*n)++;
    }

    rooms_db_reset(s);

    return rc == ROOMS_DB_DONE || rc == ROOMS_DB_ROW ? ROOMS_STORE_OK
                                                     : ROOMS_STORE_ERROR;
}


int
rooms_store_used(rooms_store_t *st, int64_t room_id, int64_t now)
{
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_USED];
    rooms_db_bind_int(s, 1, room_id);
    rooms_db_bind_int(s, 2, now);
    rooms_db_bind_int(s, 3, ROOMS_STORE_USED_EVERY);

    return rooms_store_done(s);
}


int
rooms_store_expire(rooms_store_t *st, int64_t before, int64_t *purged)
{
    int               own, rc;
    size_t            i;
    rooms_db_stmt_t  *s;

    *purged = 0;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    /* what refers to a room first, the room last: all or nothing */
    for (i = 0; i < sizeof(rooms_sql_expire) / sizeof(rooms_sql_expire[0]);
         i++)
    {
        s = rooms_db_prepare(st->db, rooms_sql_expire[i]);
        if (s == NULL) {
            return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
        }

        rooms_db_bind_int(s, 1, before);
        rc = rooms_db_step(s);

        /* the last statement's rows are the rooms */
        *purged = rooms_db_changes(s);
        rooms_db_finalize(s);

        if (rc != ROOMS_DB_DONE) {
            *purged = 0;
            return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
        }
    }

    rc = rooms_store_tx_end(st, own, ROOMS_STORE_OK);

    if (rc != ROOMS_STORE_OK) {
        *purged = 0;
    }

    return rc;
}


int
rooms_store_outbox_add(rooms_store_t *st, const void *body, size_t len,
    int64_t now, unsigned max, unsigned *dropped)
{
    int               own, rc;
    int64_t           n;
    rooms_db_stmt_t  *s;

    *dropped = 0;

    if (len > ROOMS_STORE_EVENT_MAX || max == 0) {
        return ROOMS_STORE_ERROR;
    }

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    n = rooms_store_count(st->stmt[ROOMS_SQL_OUTBOX_COUNT]);

    if (n < 0) {
        return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
    }

    rc = ROOMS_STORE_OK;

    if (n >= (int64_t) max) {
        /* full: the oldest make room, so the newest state is never lost */
        s = st->stmt[ROOMS_SQL_OUTBOX_DROP];
        rooms_db_bind_int(s, 1, n - max + 1);
        rc = rooms_store_done(s);

        if (rc == ROOMS_STORE_OK) {
            *dropped = (unsigned) rooms_db_changes(s);
        }
    }

    if (rc == ROOMS_STORE_OK) {
        s = st->stmt[ROOMS_SQL_OUTBOX_ADD];
        rooms_db_bind_int(s, 1, now);
        rooms_db_bind_blob(s, 2, body, len);
        rc = rooms_store_done(s);
    }

    rc = rooms_store_tx_end(st, own, rc);

    if (rc != ROOMS_STORE_OK) {
        *dropped = 0;
    }

    return rc;
}


int
rooms_store_outbox_next(rooms_store_t *st, int64_t after, int64_t *id,
    void *body, size_t cap, size_t *len)
{
    int               rc;
    size_t            n;
    const void       *b;
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_OUTBOX_NEXT];
    rooms_db_bind_int(s, 1, after);

    rc = rooms_db_step(s);

    if (rc == ROOMS_DB_ROW) {
        *id = rooms_db_column_int(s, 0);
        b = rooms_db_column_blob(s, 1);
        n = rooms_db_column_bytes(s, 1);

        if (b == NULL || n == 0 || n > cap) {
            /* written by no version of this code: skipped as empty */
            *len = 0;

        } else {
            memcpy(body, b, n);
            *len = n;
        }
    }

    rooms_db_reset(s);

    switch (rc) {
    case ROOMS_DB_ROW:
        return 1;
    case ROOMS_DB_DONE:
        return 0;
    default:
        return ROOMS_STORE_ERROR;
    }
}


int
rooms_store_outbox_remove(rooms_store_t *st, int64_t id)
{
    rooms_db_stmt_t  *s;

    s = st->stmt[ROOMS_SQL_OUTBOX_REMOVE];
    rooms_db_bind_int(s, 1, id);

    return rooms_store_done(s);
}
