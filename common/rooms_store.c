/*
 * rooms_store.c: the SQLite store behind the room directory.
 *
 * WAL mode lets every nginx worker read while one writes; synchronous=
 * NORMAL keeps a commit off fsync (WAL stays durable across a process
 * crash, and across power loss up to the last checkpoint).  Statements are
 * prepared once per handle.  A rotation writes the retired code and the
 * new one in one transaction, so no instant exists where the old code is
 * neither live nor gone.
 *
 * Schema versions (PRAGMA user_version) and their migrations:
 *     1  rooms, retired_codes
 *     2  bans: the guest tokens a host removed, per room
 *     3  rooms.host_absent and rooms.rev; cohosts: co-host credentials
 *     4  rooms.used_at: when people were last seen in the room (expiry)
 *     5  webhook_outbox: the webhook events not delivered yet, in order
 *     6  people (who met whom, by hash) and room_owners (who created a
 *        room): rooms_people.c reads and writes them
 *     7  reminders, calendar_feeds, rooms.soon_sent: scheduled rooms
 *        (rooms_sched.c)
 * A store is migrated step by step, in one transaction, from whatever
 * version it has up to ROOMS_STORE_SCHEMA_VERSION; a newer one is refused
 * untouched.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, call json_, call rooms_ring_, call rooms_ws_
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include <sqlite3.h>

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
    sqlite3       *db;
    sqlite3_stmt  *stmt[ROOMS_SQL_N];
    char           err[256];        /* the message a rollback kept */
};


static void rooms_store_why(rooms_store_t *st, const char *path, char *err,
    size_t errlen);


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
};


static const char  *rooms_sql[ROOMS_SQL_N] = {
    "INSERT INTO rooms (code, host_hash, title, activity, audience,"
    " admission, locked, max_participants, start_at, created_at, ended_at,"
    " host_absent, rev)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11, 0)",

    "SELECT id, code, host_hash, title, activity, audience, admission,"
    " locked, max_participants, start_at, created_at, ended_at,"
    " host_absent, rev"
    " FROM rooms WHERE code = ?1",

    "SELECT 1 FROM retired_codes WHERE code = ?1",

    "UPDATE rooms SET title = ?2, audience = ?3, admission = ?4,"
    " locked = ?5, max_participants = ?6, host_absent = ?7, rev = ?8"
    " WHERE id = ?1",

    "INSERT INTO retired_codes (code, room_id, retired_at)"
    " VALUES (?1, ?2, strftime('%s', 'now'))",

    "UPDATE rooms SET code = ?2 WHERE id = ?1",

    "UPDATE rooms SET ended_at = ?2, rev = rev + 1"
    " WHERE id = ?1 AND ended_at = 0",

    /* banning twice is no error: the first ban's time is kept */
    "INSERT OR IGNORE INTO bans (room_id, token_hash, created_at)"
    " VALUES (?1, ?2, strftime('%s', 'now'))",

    "SELECT 1 FROM bans WHERE room_id = ?1 AND token_hash = ?2",

    "SELECT code FROM rooms WHERE id = ?1",

    /* a ban ends the banned guest's co-host credentials */
    "UPDATE cohosts SET revoked_at = max(strftime('%s', 'now'), 1)"
    " WHERE room_id = ?1 AND token_hash = ?2 AND revoked_at = 0",

    "INSERT INTO cohosts (room_id, key_hash, token_hash, name, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)",

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
    " ELSE max(created_at, start_at, used_at) < ?1 END"

static const char  *rooms_sql_expire[] = {
    "DELETE FROM reminders WHERE room_id IN (" ROOMS_SQL_EXPIRED ")",
    "DELETE FROM bans WHERE room_id IN (" ROOMS_SQL_EXPIRED ")",
    "DELETE FROM cohosts WHERE room_id IN (" ROOMS_SQL_EXPIRED ")",
    "DELETE FROM retired_codes WHERE room_id IN (" ROOMS_SQL_EXPIRED ")",
    "DELETE FROM rooms WHERE id IN (" ROOMS_SQL_EXPIRED ")",
};


static int
rooms_store_exec(rooms_store_t *st, const char *sql)
{
    return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK
           ? 0 : -1;
}


/* The single integer a query returns, or -1. */
static int
rooms_store_count(rooms_store_t *st, const char *sql)
{
    int            n;
    sqlite3_stmt  *stmt;

    if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        return -1;
    }

    n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    sqlite3_finalize(stmt);

    return n;
}


/*
 * Brings the store up to ROOMS_STORE_SCHEMA_VERSION in one transaction.
 * The version is read again under the write lock: another process (a
 * second nginx, "nginx -t") may have migrated it meanwhile.
 */
static int
rooms_store_migrate(rooms_store_t *st, char *err, size_t errlen)
{
    int   version;
    char  sql[32];

    if (rooms_store_exec(st, "BEGIN IMMEDIATE") != 0) {
        rooms_store_why(st, sqlite3_db_filename(st->db, "main"), err, errlen);
        return -1;
    }

    version = rooms_store_count(st, "PRAGMA user_version");

    if (version < 0 || version > ROOMS_STORE_SCHEMA_VERSION) {
        rooms_store_exec(st, "ROLLBACK");
        snprintf(err, errlen, "schema version %d cannot be migrated to "
                 "this module's %d", version, ROOMS_STORE_SCHEMA_VERSION);
        return -1;
    }

    /* a version 0 file with tables is somebody else's: leave it be */
    if (version == 0
        && rooms_store_count(st, "SELECT count(*) FROM sqlite_master") != 0)
    {
        rooms_store_exec(st, "ROLLBACK");
        snprintf(err, errlen, "not an ngx_rooms store (it has tables "
                 "but no schema version)");
        return -1;
    }

    for ( /* void */ ; version < ROOMS_STORE_SCHEMA_VERSION; version++) {
        if (rooms_store_exec(st, rooms_migrations[version]) != 0) {
            goto failed;
        }
    }

    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
             ROOMS_STORE_SCHEMA_VERSION);

    if (rooms_store_exec(st, sql) != 0 || rooms_store_exec(st, "COMMIT") != 0)
    {
        goto failed;
    }

    return 0;

failed:

    {
        char  why[384];

        rooms_store_why(st, sqlite3_db_filename(st->db, "main"), why,
                        sizeof(why));
        snprintf(err, errlen, "migrating the schema from version %d "
                 "failed: %s", version, why);
    }

    rooms_store_exec(st, "ROLLBACK");

    return -1;
}


rooms_store_t *
rooms_store_open(const char *path, char *err, size_t errlen)
{
    int             i, version, wal;
    sqlite3_stmt   *stmt;
    rooms_store_t  *st;

    st = sqlite3_malloc(sizeof(rooms_store_t));
    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    memset(st, 0, sizeof(rooms_store_t));

    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                        | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK)
    {
        goto failed;
    }

    /* only the migration below waits for the lock: requests never do */
    sqlite3_busy_timeout(st->db, ROOMS_STORE_OPEN_WAIT_MS);

    if (rooms_store_exec(st, "PRAGMA foreign_keys=ON") != 0) {
        goto failed;
    }

    version = rooms_store_count(st, "PRAGMA user_version");

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
        if (sqlite3_prepare_v3(st->db, rooms_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL)
            != SQLITE_OK)
        {
            goto failed;
        }
    }

    /*
     * Only a store this module owns, whose statements all compiled, is
     * switched to WAL (a lasting mode); a file system without shared
     * memory refuses WAL, and then the store is refused too, since
     * workers would block each other.
     */
    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &stmt,
                           NULL)
        != SQLITE_OK)
    {
        goto failed;
    }

    wal = sqlite3_step(stmt) == SQLITE_ROW
          && sqlite3_stricmp((const char *) sqlite3_column_text(stmt, 0),
                             "wal") == 0;
    sqlite3_finalize(stmt);

    if (!wal) {
        snprintf(err, errlen, "the store cannot use WAL journaling");
        rooms_store_close(st);
        return NULL;
    }

    if (rooms_store_exec(st, "PRAGMA synchronous=NORMAL") != 0) {
        goto failed;
    }

    sqlite3_busy_timeout(st->db, 0);

    return st;

failed:

    if (st->db != NULL) {
        rooms_store_why(st, path, err, errlen);

    } else {
        snprintf(err, errlen, "cannot open");
    }

    rooms_store_close(st);

    return NULL;
}


/* 1 when the file system of path's folder is mounted read-only */
static int
rooms_store_read_only_fs(const char *path)
{
    char            dir[4096];
    char           *slash;
    struct statvfs  vfs;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');

    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");

    } else {
        slash[slash == dir ? 1 : 0] = '\0';
    }

    return statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}


/*
 * What went wrong, for an admin: SQLite's message, and for a failed
 * system call which file and why ("disk I/O error" alone says neither).
 */
static void
rooms_store_why(rooms_store_t *st, const char *path, char *err, size_t errlen)
{
    int          code, sys;
    const char  *file, *hint;

    code = sqlite3_extended_errcode(st->db);
    sys = sqlite3_system_errno(st->db);

    /* SQLite's own "full" carries no errno */
    if ((code & 0xff) == SQLITE_FULL) {
        sys = ENOSPC;
    }

    /* SQLite tells a file it could not create as missing */
    if (rooms_store_read_only_fs(path)) {
        sys = EROFS;
    }

    if (sys == 0 || (code & 0xff) == SQLITE_CORRUPT
        || (code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_BUSY)
    {
        snprintf(err, errlen, "%s", sqlite3_errmsg(st->db));
        return;
    }

    /* the shared-memory index SQLite keeps beside a WAL store */
    switch (code) {
    case SQLITE_IOERR_SHMOPEN:
    case SQLITE_IOERR_SHMSIZE:
    case SQLITE_IOERR_SHMMAP:
    case SQLITE_IOERR_SHMLOCK:
        file = "-shm\"";
        break;
    default:
        file = "\" (or its -wal file)";
        break;
    }

    switch (sys) {
    case ENOSPC:
    case EDQUOT:
        hint = ": the file system is full";
        break;
    case EROFS:
        hint = ": the file system is read-only";
        break;
    case EACCES:
    case EPERM:
        hint = ": no permission (is the folder writable by nginx's "
               "worker user? is the file immutable?)";
        break;
    default:
        hint = "";
        break;
    }

    snprintf(err, errlen, "%s: \"%s%s: %s%s", sqlite3_errmsg(st->db),
             path, file, strerror(sys), hint);
}


int
rooms_store_check_write(rooms_store_t *st, char *err, size_t errlen)
{
    int          rc;
    const char  *path;
    char         sql[32];

    path = sqlite3_db_filename(st->db, "main");

    if (sqlite3_db_readonly(st->db, "main") == 1) {
        snprintf(err, errlen, "\"%s\" can only be read (%s): every change "
                 "would fail", path,
                 rooms_store_read_only_fs(path)
                 ? "its file system is mounted read-only: Read-only file "
                   "system"
                 : "a read-only mount of the file, an immutable file, or "
                   "no write permission");
        return ROOMS_STORE_ERROR;
    }

    rc = rooms_store_begin(st, ROOMS_STORE_OPEN_WAIT_MS);

    if (rc == ROOMS_STORE_BUSY) {
        snprintf(err, errlen, "another program holds its write lock");
        return ROOMS_STORE_BUSY;
    }

    /* a write that changes nothing, but needs the disk as any write does */
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
             ROOMS_STORE_SCHEMA_VERSION);

    if (rc != ROOMS_STORE_OK || rooms_store_exec(st, sql) != 0
        || sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    {
        rooms_store_why(st, path, err, errlen);

        if (!sqlite3_get_autocommit(st->db)) {
            (void) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        }

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
        sqlite3_finalize(st->stmt[i]);
    }

    sqlite3_close(st->db);
    sqlite3_free(st);
}


const char *
rooms_store_errmsg(rooms_store_t *st)
{
    if (sqlite3_errcode(st->db) == SQLITE_OK && st->err[0] != '\0') {
        return st->err;
    }

    return sqlite3_errmsg(st->db);
}


struct sqlite3 *
rooms_store_db(rooms_store_t *st)
{
    return st->db;
}


int
rooms_store_begin(rooms_store_t *st, int wait_ms)
{
    int  rc;

    st->err[0] = '\0';

    sqlite3_busy_timeout(st->db, wait_ms);
    rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_busy_timeout(st->db, 0);

    switch (rc) {
    case SQLITE_OK:
        return ROOMS_STORE_OK;
    case SQLITE_BUSY:
        return ROOMS_STORE_BUSY;
    default:
        return ROOMS_STORE_ERROR;
    }
}


int
rooms_store_commit(rooms_store_t *st)
{
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
        return ROOMS_STORE_OK;
    }

    rooms_store_rollback(st);

    return ROOMS_STORE_ERROR;
}


void
rooms_store_rollback(rooms_store_t *st)
{
    if (sqlite3_errcode(st->db) != SQLITE_OK) {
        snprintf(st->err, sizeof(st->err), "%s", sqlite3_errmsg(st->db));
    }

    if (!sqlite3_get_autocommit(st->db)) {
        (void) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
}


/* rooms_store.h says what these two return */
int
rooms_store_tx(rooms_store_t *st)
{
    int  rc;

    if (!sqlite3_get_autocommit(st->db)) {
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


/* Runs a bound statement that returns no rows, then resets it. */
static int
rooms_store_done(sqlite3_stmt *stmt)
{
    int  rc;

    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);

    switch (rc) {
    case SQLITE_DONE:
        return ROOMS_STORE_OK;
    case SQLITE_BUSY:
        return ROOMS_STORE_BUSY;
    default:
        return ROOMS_STORE_ERROR;
    }
}


/*
 * Runs a bound statement that returns one row or none, then resets it:
 * 1 with the row's first column copied to out (a blob of len bytes; out
 * may be NULL), 0 for none, ROOMS_STORE_ERROR.
 */
static int
rooms_store_blob(sqlite3_stmt *s, unsigned char *out, size_t len)
{
    int          rc;
    const void  *blob;

    rc = sqlite3_step(s);

    if (rc == SQLITE_ROW && out != NULL) {
        blob = sqlite3_column_blob(s, 0);

        if (blob != NULL && (size_t) sqlite3_column_bytes(s, 0) == len) {
            memcpy(out, blob, len);

        } else {
            memset(out, 0, len);
        }
    }

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);

    switch (rc) {
    case SQLITE_ROW:
        return 1;
    case SQLITE_DONE:
        return 0;
    default:
        return ROOMS_STORE_ERROR;
    }
}


int
rooms_store_insert(rooms_store_t *st, rooms_room_t *room)
{
    int            rc;
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_INSERT];

    sqlite3_bind_text(s, 1, room->code, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, room->host_hash, ROOMS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, room->title, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, room->activity);
    sqlite3_bind_text(s, 5, room->audience, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, room->admission);
    sqlite3_bind_int(s, 7, room->locked);
    sqlite3_bind_int(s, 8, room->max_participants);
    sqlite3_bind_int64(s, 9, room->start_at);
    sqlite3_bind_int64(s, 10, room->created_at);
    sqlite3_bind_int(s, 11, room->host_absent);

    rc = rooms_store_done(s);

    if (rc != ROOMS_STORE_OK) {
        return rc;
    }

    room->id = sqlite3_last_insert_rowid(st->db);

    return ROOMS_STORE_OK;
}


static void
rooms_store_text(sqlite3_stmt *s, int col, char *out, size_t size)
{
    size_t                n;
    const unsigned char  *p;

    p = sqlite3_column_text(s, col);
    n = (size_t) sqlite3_column_bytes(s, col);

    if (p == NULL) {
        out[0] = '\0';
        return;
    }

    /* the API never stores more; a hand-edited file is cut, not overrun */
    if (n >= size) {
        n = size - 1;
    }

    memcpy(out, p, n);
    out[n] = '\0';
}


int
rooms_store_find(rooms_store_t *st, const char *code, rooms_room_t *room)
{
    int            rc;
    sqlite3_stmt  *s;
    const void    *hash;

    s = st->stmt[ROOMS_SQL_FIND];
    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);

    rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        memset(room, 0, sizeof(rooms_room_t));

        room->id = sqlite3_column_int64(s, 0);
        rooms_store_text(s, 1, room->code, sizeof(room->code));

        hash = sqlite3_column_blob(s, 2);
        if (hash != NULL && sqlite3_column_bytes(s, 2) == ROOMS_HASH_LEN) {
            memcpy(room->host_hash, hash, ROOMS_HASH_LEN);
        }

        rooms_store_text(s, 3, room->title, sizeof(room->title));
        room->activity = (uint8_t) sqlite3_column_int(s, 4);
        rooms_store_text(s, 5, room->audience, sizeof(room->audience));
        room->admission = (uint8_t) sqlite3_column_int(s, 6);
        room->locked = (uint8_t) sqlite3_column_int(s, 7);
        room->max_participants = (uint16_t) sqlite3_column_int(s, 8);
        room->start_at = sqlite3_column_int64(s, 9);
        room->created_at = sqlite3_column_int64(s, 10);
        room->ended_at = sqlite3_column_int64(s, 11);
        room->host_absent = (uint8_t) sqlite3_column_int(s, 12);
        room->rev = sqlite3_column_int64(s, 13);
    }

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);

    if (rc == SQLITE_ROW) {
        return ROOMS_STORE_OK;
    }

    if (rc != SQLITE_DONE) {
        return ROOMS_STORE_ERROR;
    }

    s = st->stmt[ROOMS_SQL_FIND_RETIRED];
    sqlite3_bind_text(s, 1, code, -1, SQLITE_STATIC);

    rc = sqlite3_step(s);

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);

    switch (rc) {
    case SQLITE_ROW:
        return ROOMS_STORE_GONE;
    case SQLITE_DONE:
        return ROOMS_STORE_NOT_FOUND;
    default:
        return ROOMS_STORE_ERROR;
    }
}


int
rooms_store_update(rooms_store_t *st, rooms_room_t *room)
{
    int            rc;
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_UPDATE];

    sqlite3_bind_int64(s, 1, room->id);
    sqlite3_bind_text(s, 2, room->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, room->audience, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, room->admission);
    sqlite3_bind_int(s, 5, room->locked);
    sqlite3_bind_int(s, 6, room->max_participants);
    sqlite3_bind_int(s, 7, room->host_absent);
    sqlite3_bind_int64(s, 8, room->rev + 1);

    rc = rooms_store_done(s);

    if (rc != ROOMS_STORE_OK) {
        return rc;
    }

    if (sqlite3_changes(st->db) != 1) {
        return ROOMS_STORE_ERROR;
    }

    room->rev++;

    return ROOMS_STORE_OK;
}


int
rooms_store_rotate(rooms_store_t *st, rooms_room_t *room,
    const char *new_code)
{
    int            own, rc;
    sqlite3_stmt  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    s = st->stmt[ROOMS_SQL_RETIRE];
    sqlite3_bind_text(s, 1, room->code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, room->id);

    rc = rooms_store_done(s);

    if (rc == ROOMS_STORE_OK) {
        s = st->stmt[ROOMS_SQL_RECODE];
        sqlite3_bind_int64(s, 1, room->id);
        sqlite3_bind_text(s, 2, new_code, -1, SQLITE_STATIC);

        rc = rooms_store_done(s);

        if (rc == ROOMS_STORE_OK && sqlite3_changes(st->db) != 1) {
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
    int            rc;
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_END];
    sqlite3_bind_int64(s, 1, room->id);
    sqlite3_bind_int64(s, 2, now);

    rc = rooms_store_done(s);

    if (rc != ROOMS_STORE_OK) {
        return rc;
    }

    /* ending twice is refused: the first end time is the true one */
    if (sqlite3_changes(st->db) != 1) {
        return ROOMS_STORE_ERROR;
    }

    room->ended_at = now;
    room->rev++;

    return ROOMS_STORE_OK;
}


int
rooms_store_ban(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN])
{
    int            i, own, rc;
    sqlite3_stmt  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    rc = ROOMS_STORE_OK;

    /* the ban, and the end of the banned guest's co-host credentials */
    for (i = 0; i < 2 && rc == ROOMS_STORE_OK; i++) {
        s = st->stmt[i == 0 ? ROOMS_SQL_BAN : ROOMS_SQL_BAN_COHOSTS];
        sqlite3_bind_int64(s, 1, room_id);
        sqlite3_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN, SQLITE_STATIC);

        rc = rooms_store_done(s);
    }

    return rooms_store_tx_end(st, own, rc);
}


int
rooms_store_is_banned(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN])
{
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_IS_BANNED];
    sqlite3_bind_int64(s, 1, room_id);
    sqlite3_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN, SQLITE_STATIC);

    return rooms_store_blob(s, NULL, 0);
}


int
rooms_store_code(rooms_store_t *st, int64_t room_id,
    char code[ROOMS_CODE_LEN + 1])
{
    int            rc;
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_CODE];
    sqlite3_bind_int64(s, 1, room_id);

    rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        rooms_store_text(s, 0, code, ROOMS_CODE_LEN + 1);
    }

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);

    switch (rc) {
    case SQLITE_ROW:
        return ROOMS_STORE_OK;
    case SQLITE_DONE:
        return ROOMS_STORE_NOT_FOUND;
    default:
        return ROOMS_STORE_ERROR;
    }
}


/* a revocation time is never 0, which means "active" */
static int64_t
rooms_store_revoke_time(int64_t now)
{
    return now > 0 ? now : 1;
}


int
rooms_store_cohost_add(rooms_store_t *st, int64_t room_id,
    const unsigned char key_hash[ROOMS_HASH_LEN],
    const unsigned char token_hash[ROOMS_HASH_LEN], const char *name,
    int64_t now, int64_t *id)
{
    int            active, own;
    sqlite3_stmt  *s;

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
        sqlite3_bind_int64(s, 1, room_id);

        active = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0)
                                               : -1;
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);

        if (active < 0) {
            goto failed;
        }

        if (active < ROOMS_COHOSTS_MAX) {
            break;
        }

        s = st->stmt[ROOMS_SQL_COHOST_REVOKE_OLDEST];
        sqlite3_bind_int64(s, 1, room_id);
        sqlite3_bind_int64(s, 2, rooms_store_revoke_time(now));

        if (rooms_store_done(s) != ROOMS_STORE_OK
            || sqlite3_changes(st->db) != 1)
        {
            goto failed;
        }
    }

    s = st->stmt[ROOMS_SQL_COHOST_INSERT];
    sqlite3_bind_int64(s, 1, room_id);
    sqlite3_bind_blob(s, 2, key_hash, ROOMS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, token_hash, ROOMS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now);

    if (rooms_store_done(s) != ROOMS_STORE_OK) {
        goto failed;
    }

    *id = sqlite3_last_insert_rowid(st->db);

    return rooms_store_tx_end(st, own, ROOMS_STORE_OK);

failed:

    return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
}


int
rooms_store_cohost_check(rooms_store_t *st, int64_t room_id,
    const unsigned char key_hash[ROOMS_HASH_LEN],
    unsigned char *token_hash)
{
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_COHOST_CHECK];
    sqlite3_bind_int64(s, 1, room_id);
    sqlite3_bind_blob(s, 2, key_hash, ROOMS_HASH_LEN, SQLITE_STATIC);

    return rooms_store_blob(s, token_hash, ROOMS_HASH_LEN);
}


int
rooms_store_cohost_revoke(rooms_store_t *st, int64_t room_id, int64_t id,
    int64_t now, unsigned char *token_hash)
{
    int            own, rc;
    sqlite3_stmt  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    s = st->stmt[ROOMS_SQL_COHOST_GET];
    sqlite3_bind_int64(s, 1, room_id);
    sqlite3_bind_int64(s, 2, id);

    rc = rooms_store_blob(s, token_hash, ROOMS_HASH_LEN);

    if (rc != 1) {
        return rooms_store_tx_end(st, own, rc == 0 ? ROOMS_STORE_NOT_FOUND
                                                   : ROOMS_STORE_ERROR);
    }

    s = st->stmt[ROOMS_SQL_COHOST_REVOKE];
    sqlite3_bind_int64(s, 1, room_id);
    sqlite3_bind_int64(s, 2, id);
    sqlite3_bind_int64(s, 3, rooms_store_revoke_time(now));

    rc = rooms_store_done(s);

    if (rc == ROOMS_STORE_OK && sqlite3_changes(st->db) != 1) {
        rc = ROOMS_STORE_ERROR;
    }

    return rooms_store_tx_end(st, own, rc);
}


int
rooms_store_cohost_revoke_token(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN], int64_t now)
{
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_COHOST_REVOKE_TOKEN];
    sqlite3_bind_int64(s, 1, room_id);
    sqlite3_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, rooms_store_revoke_time(now));

    return rooms_store_done(s);
}


int
rooms_store_cohost_list(rooms_store_t *st, int64_t room_id,
    rooms_cohost_t *out, unsigned max, unsigned *n)
{
    int            rc;
    sqlite3_stmt  *s;

    *n = 0;

    s = st->stmt[ROOMS_SQL_COHOST_LIST];
    sqlite3_bind_int64(s, 1, room_id);
    sqlite3_bind_int(s, 2, (int) max);

    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
        out[*n].id = sqlite3_column_int64(s, 0);
        rooms_store_text(s, 1, out[*n].name, sizeof(out[*n].name));
        out[*n].created_at = sqlite3_column_int64(s, 2);
        (*n)++;
    }

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);

    return rc == SQLITE_DONE || rc == SQLITE_ROW ? ROOMS_STORE_OK
                                                 : ROOMS_STORE_ERROR;
}


int
rooms_store_used(rooms_store_t *st, int64_t room_id, int64_t now)
{
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_USED];
    sqlite3_bind_int64(s, 1, room_id);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, ROOMS_STORE_USED_EVERY);

    return rooms_store_done(s);
}


int
rooms_store_expire(rooms_store_t *st, int64_t before, int64_t *purged)
{
    int            own, rc;
    size_t         i;
    sqlite3_stmt  *s;

    *purged = 0;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    /* what refers to a room first, the room last: all or nothing */
    for (i = 0; i < sizeof(rooms_sql_expire) / sizeof(rooms_sql_expire[0]);
         i++)
    {
        if (sqlite3_prepare_v2(st->db, rooms_sql_expire[i], -1, &s, NULL)
            != SQLITE_OK)
        {
            return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
        }

        sqlite3_bind_int64(s, 1, before);
        rc = sqlite3_step(s);
        sqlite3_finalize(s);

        if (rc != SQLITE_DONE) {
            return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
        }
    }

    *purged = sqlite3_changes(st->db);

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
    int            own, n, rc;
    sqlite3_stmt  *s;

    *dropped = 0;

    if (len > ROOMS_STORE_EVENT_MAX || max == 0) {
        return ROOMS_STORE_ERROR;
    }

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    s = st->stmt[ROOMS_SQL_OUTBOX_COUNT];
    n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_reset(s);

    if (n < 0) {
        return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
    }

    rc = ROOMS_STORE_OK;

    if ((unsigned) n >= max) {
        /* full: the oldest make room, so the newest state is never lost */
        s = st->stmt[ROOMS_SQL_OUTBOX_DROP];
        sqlite3_bind_int64(s, 1, (int64_t) n - max + 1);
        rc = rooms_store_done(s);

        if (rc == ROOMS_STORE_OK) {
            *dropped = (unsigned) sqlite3_changes(st->db);
        }
    }

    if (rc == ROOMS_STORE_OK) {
        s = st->stmt[ROOMS_SQL_OUTBOX_ADD];
        sqlite3_bind_int64(s, 1, now);
        sqlite3_bind_blob(s, 2, body, (int) len, SQLITE_STATIC);
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
    int            rc, n;
    const void    *b;
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_OUTBOX_NEXT];
    sqlite3_bind_int64(s, 1, after);

    rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        b = sqlite3_column_blob(s, 1);
        n = sqlite3_column_bytes(s, 1);

        if (b == NULL || n <= 0 || (size_t) n > cap) {
            /* written by no version of this code: skipped as empty */
            *len = 0;

        } else {
            memcpy(body, b, (size_t) n);
            *len = (size_t) n;
        }
    }

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);

    switch (rc) {
    case SQLITE_ROW:
        return 1;
    case SQLITE_DONE:
        return 0;
    default:
        return ROOMS_STORE_ERROR;
    }
}


int
rooms_store_outbox_remove(rooms_store_t *st, int64_t id)
{
    sqlite3_stmt  *s;

    s = st->stmt[ROOMS_SQL_OUTBOX_REMOVE];
    sqlite3_bind_int64(s, 1, id);

    return rooms_store_done(s);
}
