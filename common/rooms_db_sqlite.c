/*
 * rooms_db_sqlite.c: rooms_db.h's SQLite engine, one file per store.
 *
 * Owns: the sqlite3 handle, its journal (WAL, synchronous=NORMAL), its
 * busy timeout, the write lock as BEGIN IMMEDIATE, the schema version as
 * PRAGMA user_version, and an admin's reading of SQLite's errors (which
 * file, and the system's reason).  Must never hold a table name or a
 * statement of the product.
 *
 * WAL mode lets every nginx worker read while one writes; synchronous=
 * NORMAL keeps a commit off fsync (WAL stays durable across a process
 * crash, and across power loss up to the last checkpoint).  WAL is a
 * lasting mode, so it is set at the first statement or transaction, not
 * at the opening: a store the caller refuses after reading its version
 * (a newer schema) is left exactly as it was, and a file with tables but
 * no version (somebody else's) is never switched.  A file system without
 * shared memory refuses WAL, and then every statement fails, since
 * workers would block each other.  No statement waits for the lock but
 * rooms_db_begin()'s (and the opening's, which runs before any request).
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <libpq-fe.h>, call json_, call rooms_store_, call rooms_people_, call rooms_sched_, call PQ
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <sqlite3.h>

#include "rooms_db_int.h"


/*
 * How long the opening waits for another process's lock (a first
 * worker's switch to WAL, a migration): it runs before any request.
 */
#define ROOMS_DB_SQLITE_OPEN_WAIT_MS  2000


typedef struct {
    rooms_db_t      db;
    sqlite3        *h;
    char           *path;           /* as given: for messages */
    int             busy_left;      /* ms a BEGIN may still wait */
    unsigned        journal:1;      /* WAL set, or not to be set */
} rooms_db_sqlite_t;

typedef struct {
    rooms_db_stmt_t  s;
    sqlite3_stmt    *h;
    int64_t          changes;       /* of its last run to the end */
} rooms_db_sqlite_stmt_t;


static const rooms_db_engine_t  rooms_db_sqlite_engine;


static sqlite3 *
rooms_db_sqlite_h(rooms_db_t *db)
{
    return ((rooms_db_sqlite_t *) db)->h;
}


/* 1 when the file system of path's folder is mounted read-only */
static int
rooms_db_sqlite_read_only_fs(const char *path)
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
 * Keeps what went wrong as the connection's message, for an admin:
 * SQLite's message, and for a failed system call which file and why
 * ("disk I/O error" alone says neither).
 */
static void
rooms_db_sqlite_why(rooms_db_t *db)
{
    int          code, sys;
    sqlite3     *h;
    const char  *file, *hint, *path;

    h = rooms_db_sqlite_h(db);
    code = sqlite3_extended_errcode(h);
    sys = sqlite3_system_errno(h);
    path = ((rooms_db_sqlite_t *) db)->path;

    /* SQLite's own "full" carries no errno */
    if ((code & 0xff) == SQLITE_FULL) {
        sys = ENOSPC;
    }

    /* SQLite tells a file it could not create as missing */
    if (rooms_db_sqlite_read_only_fs(path)) {
        sys = EROFS;
    }

    if (sys == 0 || (code & 0xff) == SQLITE_CORRUPT
        || (code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_BUSY)
    {
        rooms_db_set_err(db, "%s", sqlite3_errmsg(h));
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

    rooms_db_set_err(db, "%s: \"%s%s: %s%s", sqlite3_errmsg(h), path, file,
                     strerror(sys), hint);
}


static int
rooms_db_sqlite_exec(rooms_db_t *db, const char *sql)
{
    if (sqlite3_exec(rooms_db_sqlite_h(db), sql, NULL, NULL, NULL)
        == SQLITE_OK)
    {
        return 0;
    }

    rooms_db_sqlite_why(db);

    return -1;
}


/* The single integer a query returns, or -1 (the message kept). */
static int64_t
rooms_db_sqlite_int(rooms_db_t *db, const char *sql)
{
    int64_t        n;
    sqlite3_stmt  *stmt;

    if (sqlite3_prepare_v2(rooms_db_sqlite_h(db), sql, -1, &stmt, NULL)
        != SQLITE_OK)
    {
        rooms_db_sqlite_why(db);
        return -1;
    }

    n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;

    if (n < 0) {
        rooms_db_sqlite_why(db);
    }

    sqlite3_finalize(stmt);

    return n;
}


static int rooms_db_sqlite_foreign(rooms_db_t *db);


/*
 * WAL and synchronous=NORMAL, once, outside a transaction (SQLite cannot
 * switch inside one), on a file this module may own: 0, or -1 with the
 * message kept.  The busy timeout covers another worker's switch.
 */
static int
rooms_db_sqlite_journal(rooms_db_t *db)
{
    int                 wal;
    sqlite3_stmt       *stmt;
    rooms_db_sqlite_t  *sq = (rooms_db_sqlite_t *) db;

    if (sq->journal || !sqlite3_get_autocommit(sq->h)) {
        return 0;
    }

    switch (rooms_db_sqlite_foreign(db)) {
    case 0:
        break;
    case 1:
        /* somebody else's: left as it is, for the caller to refuse */
        sq->journal = 1;
        return 0;
    default:
        return -1;
    }

    sqlite3_busy_timeout(sq->h, ROOMS_DB_SQLITE_OPEN_WAIT_MS);

    if (sqlite3_prepare_v2(sq->h, "PRAGMA journal_mode=WAL", -1, &stmt,
                           NULL)
        != SQLITE_OK)
    {
        rooms_db_sqlite_why(db);
        sqlite3_busy_timeout(sq->h, 0);
        return -1;
    }

    wal = sqlite3_step(stmt) == SQLITE_ROW
          && sqlite3_stricmp((const char *) sqlite3_column_text(stmt, 0),
                             "wal") == 0;

    if (!wal) {
        rooms_db_sqlite_why(db);
        rooms_db_set_err(db, "the store cannot use WAL journaling (%s)",
                         db->err[0] ? db->err : "refused");
    }

    sqlite3_finalize(stmt);
    sqlite3_busy_timeout(sq->h, 0);

    if (!wal || rooms_db_sqlite_exec(db, "PRAGMA synchronous=NORMAL") != 0) {
        return -1;
    }

    sq->journal = 1;

    return 0;
}


rooms_db_t *
rooms_db_sqlite_open(const char *path, char *err, size_t errlen)
{
    rooms_db_sqlite_t  *sq;

    sq = calloc(1, sizeof(rooms_db_sqlite_t));
    if (sq == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    sq->db.kind = ROOMS_DB_SQLITE;
    sq->db.engine = &rooms_db_sqlite_engine;
    sq->path = strdup(path);

    if (sq->path == NULL) {
        snprintf(err, errlen, "out of memory");
        free(sq);
        return NULL;
    }

    if (sqlite3_open_v2(path, &sq->h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                        | SQLITE_OPEN_NOMUTEX, NULL)
        != SQLITE_OK)
    {
        if (sq->h == NULL) {
            snprintf(err, errlen, "cannot open");
            free(sq->path);
            free(sq);
            return NULL;
        }

        rooms_db_sqlite_why(&sq->db);
        goto failed;
    }

    sqlite3_busy_timeout(sq->h, ROOMS_DB_SQLITE_OPEN_WAIT_MS);

    if (rooms_db_sqlite_exec(&sq->db, "PRAGMA foreign_keys=ON") != 0) {
        goto failed;
    }

    /* a file that is not a database fails here, before any change */
    if (rooms_db_sqlite_int(&sq->db, "PRAGMA user_version") < 0) {
        goto failed;
    }

    sqlite3_busy_timeout(sq->h, 0);

    return &sq->db;

failed:

    snprintf(err, errlen, "%s", sq->db.err);
    rooms_db_close(&sq->db);

    return NULL;
}


static void
rooms_db_sqlite_close(rooms_db_t *db)
{
    sqlite3_close(rooms_db_sqlite_h(db));
    free(((rooms_db_sqlite_t *) db)->path);
    free(db);
}


static rooms_db_stmt_t *
rooms_db_sqlite_prepare(rooms_db_t *db, const char *sql)
{
    rooms_db_sqlite_stmt_t  *s;

    s = calloc(1, sizeof(rooms_db_sqlite_stmt_t));
    if (s == NULL) {
        rooms_db_set_err(db, "out of memory");
        return NULL;
    }

    s->s.db = db;

    if (rooms_db_sqlite_journal(db) != 0) {
        free(s);
        return NULL;
    }

    if (sqlite3_prepare_v3(rooms_db_sqlite_h(db), sql, -1,
                           SQLITE_PREPARE_PERSISTENT, &s->h, NULL)
        != SQLITE_OK)
    {
        rooms_db_sqlite_why(db);
        free(s);
        return NULL;
    }

    return &s->s;
}


static void
rooms_db_sqlite_finalize(rooms_db_stmt_t *stmt)
{
    sqlite3_finalize(((rooms_db_sqlite_stmt_t *) stmt)->h);
    free(stmt);
}


static sqlite3_stmt *
rooms_db_sqlite_stmt(rooms_db_stmt_t *stmt)
{
    return ((rooms_db_sqlite_stmt_t *) stmt)->h;
}


static int
rooms_db_sqlite_bound(rooms_db_stmt_t *stmt, int rc)
{
    if (rc == SQLITE_OK) {
        return 0;
    }

    rooms_db_sqlite_why(stmt->db);

    return ROOMS_DB_ERROR;
}


static int
rooms_db_sqlite_bind_int(rooms_db_stmt_t *stmt, int i, int64_t v)
{
    return rooms_db_sqlite_bound(stmt,
               sqlite3_bind_int64(rooms_db_sqlite_stmt(stmt), i, v));
}


static int
rooms_db_sqlite_bind_blob(rooms_db_stmt_t *stmt, int i, const void *p,
    size_t len)
{
    /* a zero-length blob, not NULL, when p is NULL */
    return rooms_db_sqlite_bound(stmt,
               sqlite3_bind_blob64(rooms_db_sqlite_stmt(stmt), i,
                                   p != NULL ? p : "", len,
                                   SQLITE_TRANSIENT));
}


static int
rooms_db_sqlite_bind_text(rooms_db_stmt_t *stmt, int i, const char *s)
{
    return rooms_db_sqlite_bound(stmt,
               sqlite3_bind_text(rooms_db_sqlite_stmt(stmt), i, s, -1,
                                 SQLITE_TRANSIENT));
}


static int
rooms_db_sqlite_step(rooms_db_stmt_t *stmt)
{
    int                      rc;
    rooms_db_sqlite_stmt_t  *s = (rooms_db_sqlite_stmt_t *) stmt;

    rc = sqlite3_step(s->h);

    switch (rc) {
    case SQLITE_ROW:
        return ROOMS_DB_ROW;

    case SQLITE_DONE:
        s->changes = sqlite3_stmt_readonly(s->h)
                     ? 0 : sqlite3_changes64(sqlite3_db_handle(s->h));
        return ROOMS_DB_DONE;

    case SQLITE_BUSY:
        rooms_db_sqlite_why(stmt->db);
        return ROOMS_DB_BUSY;

    default:
        rooms_db_sqlite_why(stmt->db);
        return ROOMS_DB_ERROR;
    }
}


static int64_t
rooms_db_sqlite_column_int(rooms_db_stmt_t *stmt, int col)
{
    return sqlite3_column_int64(rooms_db_sqlite_stmt(stmt), col);
}


static const void *
rooms_db_sqlite_column_blob(rooms_db_stmt_t *stmt, int col)
{
    return sqlite3_column_blob(rooms_db_sqlite_stmt(stmt), col);
}


static size_t
rooms_db_sqlite_column_bytes(rooms_db_stmt_t *stmt, int col)
{
    return (size_t) sqlite3_column_bytes(rooms_db_sqlite_stmt(stmt), col);
}


static const char *
rooms_db_sqlite_column_text(rooms_db_stmt_t *stmt, int col)
{
    return (const char *) sqlite3_column_text(rooms_db_sqlite_stmt(stmt),
                                              col);
}


static void
rooms_db_sqlite_reset(rooms_db_stmt_t *stmt)
{
    sqlite3_reset(rooms_db_sqlite_stmt(stmt));
    sqlite3_clear_bindings(rooms_db_sqlite_stmt(stmt));
}


static int64_t
rooms_db_sqlite_changes(rooms_db_stmt_t *stmt)
{
    return ((rooms_db_sqlite_stmt_t *) stmt)->changes;
}


/*
 * SQLite's busy handler while BEGIN IMMEDIATE waits for another
 * connection's write lock, when the caller gave a wait of its own: the
 * waits go through it (the module's suspend the handler rather than
 * nginx's event loop), short at first (a writer holds the lock for
 * microseconds), then up to 10 ms, for wait_ms in all.
 */
static int
rooms_db_sqlite_busy(void *data, int count)
{
    int                 ms;
    rooms_db_sqlite_t  *sq = data;

    if (sq->busy_left <= 0) {
        return 0;
    }

    ms = count < 3 ? 1 : (count < 6 ? 5 : 10);
    ms = ms < sq->busy_left ? ms : sq->busy_left;
    sq->busy_left -= ms;

    if (sq->db.wait(sq->db.wait_data, -1, 0, ms) < 0) {
        return 0;
    }

    return 1;
}


static int
rooms_db_sqlite_begin(rooms_db_t *db, int wait_ms)
{
    int       rc;
    sqlite3  *h = rooms_db_sqlite_h(db);

    db->err[0] = '\0';

    /* a file SQLite could open for reading only would fail every write */
    if (sqlite3_db_readonly(h, "main") == 1) {
        const char  *path = sqlite3_db_filename(h, "main");

        rooms_db_set_err(db, "\"%s\" can only be read (%s): every change "
                         "would fail", path,
                         rooms_db_sqlite_read_only_fs(path)
                         ? "its file system is mounted read-only: "
                           "Read-only file system"
                         : "a read-only mount of the file, an immutable "
                           "file, or no write permission");
        return ROOMS_DB_ERROR;
    }

    if (rooms_db_sqlite_journal(db) != 0) {
        return ROOMS_DB_ERROR;
    }

    if (db->wait != NULL) {
        ((rooms_db_sqlite_t *) db)->busy_left = wait_ms;
        sqlite3_busy_handler(h, rooms_db_sqlite_busy, db);

    } else {
        sqlite3_busy_timeout(h, wait_ms);
    }

    rc = sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_busy_timeout(h, 0);

    switch (rc) {
    case SQLITE_OK:
        return ROOMS_DB_DONE;
    case SQLITE_BUSY:
        rooms_db_sqlite_why(db);
        return ROOMS_DB_BUSY;
    default:
        rooms_db_sqlite_why(db);
        return ROOMS_DB_ERROR;
    }
}


static void
rooms_db_sqlite_rollback(rooms_db_t *db)
{
    sqlite3  *h = rooms_db_sqlite_h(db);

    /* the message of what failed stays: ROLLBACK's own is not kept */
    if (!sqlite3_get_autocommit(h)) {
        (void) sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
    }
}


static int
rooms_db_sqlite_commit(rooms_db_t *db)
{
    if (rooms_db_sqlite_exec(db, "COMMIT") == 0) {
        return ROOMS_DB_DONE;
    }

    rooms_db_sqlite_rollback(db);

    return ROOMS_DB_ERROR;
}


/* rooms_db_exec(): the journal first, as every statement */
static int
rooms_db_sqlite_exec_sql(rooms_db_t *db, const char *sql)
{
    if (rooms_db_sqlite_journal(db) != 0) {
        return -1;
    }

    return rooms_db_sqlite_exec(db, sql);
}


static int
rooms_db_sqlite_in_tx(rooms_db_t *db)
{
    return !sqlite3_get_autocommit(rooms_db_sqlite_h(db));
}


static int
rooms_db_sqlite_version_get(rooms_db_t *db)
{
    return (int) rooms_db_sqlite_int(db, "PRAGMA user_version");
}


static int
rooms_db_sqlite_version_set(rooms_db_t *db, int version)
{
    char  sql[48];

    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);

    return rooms_db_sqlite_exec(db, sql);
}


static int
rooms_db_sqlite_foreign(rooms_db_t *db)
{
    int64_t  version, tables;

    version = rooms_db_sqlite_int(db, "PRAGMA user_version");
    if (version != 0) {
        return version < 0 ? -1 : 0;
    }

    tables = rooms_db_sqlite_int(db, "SELECT count(*) FROM sqlite_master");

    return tables < 0 ? -1 : tables > 0;
}


static const rooms_db_engine_t  rooms_db_sqlite_engine = {
    rooms_db_sqlite_close,
    rooms_db_sqlite_prepare,
    rooms_db_sqlite_finalize,
    rooms_db_sqlite_bind_int,
    rooms_db_sqlite_bind_blob,
    rooms_db_sqlite_bind_text,
    rooms_db_sqlite_step,
    rooms_db_sqlite_column_int,
    rooms_db_sqlite_column_blob,
    rooms_db_sqlite_column_bytes,
    rooms_db_sqlite_column_text,
    rooms_db_sqlite_reset,
    rooms_db_sqlite_changes,
    rooms_db_sqlite_exec_sql,
    rooms_db_sqlite_begin,
    rooms_db_sqlite_commit,
    rooms_db_sqlite_rollback,
    rooms_db_sqlite_in_tx,
    rooms_db_sqlite_version_get,
    rooms_db_sqlite_version_set,
    rooms_db_sqlite_foreign,
};
