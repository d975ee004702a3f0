/*
 * test_store.c: the SQLite store (rooms_store.*) on real files.
 *
 * Covers: schema creation (user_version, WAL, tables, read back through
 * the sqlite3 API), insert and find of every stored field, unknown and
 * retired codes, update, rotate and end persisting across close and
 * reopen, two handles on one file as two nginx workers have, and the
 * refusals: a newer schema, a missing directory, a file that is not a
 * database.  Schema 2: bans (per room, idempotent, surviving a reopen,
 * seen by a second handle, refused for a room that does not exist), the
 * current code of a room by id, and the migration of a version 1 file
 * (made here with version 1's own statements) that keeps its rooms and
 * retired codes and can then hold bans.  Schema 3: host_absent and the
 * revision stored and bumped, and co-host credentials (test_cohosts).
 * The write lock (test_lock): reads go on while another handle holds
 * it, writes are refused BUSY and change nothing, and writes inside a
 * caller's transaction commit only with it.  Everything happens in a fresh
 * mkdtemp() directory that is removed at the end.  Then, when
 * ROOMS_TEST_PG names a PostgreSQL database (make test-pg), the same
 * calls on it: the schema and its version, rooms, two connections, bans,
 * co-hosts, the write lock, expiry and the outbox (the database is
 * emptied of the store's tables before, between and after).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "rooms_store.h"
#include "tap.h"


#define NOW  1795285800      /* 2026-11-21T18:30:00Z */

#define CODE1  "AAAAAAAAAAAAAAAAAAAAAA"
#define CODE2  "Bb-_0123456789xyzXYZqw"
#define CODE3  "CCCCCCCCCCCCCCCCCCCCCQ"
#define CODE4  "DDDDDDDDDDDDDDDDDDDDDg"


static char  dir[64];


static void
path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}


/*
 * Runs a one-value query; "" on error.  A file through the raw sqlite3
 * API (read-only: the file is seen as it is), a PostgreSQL URI through a
 * connection of its own.
 */
static void
query_text(const char *path, const char *sql, char *out, size_t size)
{
    sqlite3          *db;
    sqlite3_stmt     *stmt;
    rooms_db_t       *pg;
    rooms_db_stmt_t  *s;
    char              err[256];

    out[0] = '\0';

    if (rooms_db_is_uri(path)) {
        pg = rooms_db_open(path, err, sizeof(err));
        if (pg == NULL) {
            diag("query_text: %s", err);
            return;
        }

        s = rooms_db_prepare(pg, sql);

        if (s != NULL && rooms_db_step(s) == ROOMS_DB_ROW
            && rooms_db_column_text(s, 0) != NULL)
        {
            snprintf(out, size, "%s", rooms_db_column_text(s, 0));
        }

        rooms_db_finalize(s);
        rooms_db_close(pg);
        return;
    }

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return;
    }

    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step(stmt) == SQLITE_ROW
            && sqlite3_column_text(stmt, 0) != NULL)
        {
            snprintf(out, size, "%s",
                     (const char *) sqlite3_column_text(stmt, 0));
        }

        sqlite3_finalize(stmt);
    }

    sqlite3_close(db);
}


/*
 * Empties a PostgreSQL database of the store's tables, for a test that
 * needs a new store (on SQLite: a new file).
 */
static void
reset_pg(const char *where)
{
    char         err[256];
    rooms_db_t  *db;

    db = rooms_db_open(where, err, sizeof(err));
    if (db == NULL) {
        tap_bail_out("cannot open %s: %s", where, err);
    }

    if (rooms_db_exec(db, "DROP TABLE IF EXISTS rooms, retired_codes, bans,"
                          " cohosts, webhook_outbox, people, room_owners,"
                          " reminders, calendar_feeds, presence, rooms_db_version"
                          " CASCADE") != 0)
    {
        tap_bail_out("cannot empty %s: %s", where, rooms_db_errmsg(db));
    }

    rooms_db_close(db);
}


static void
sample_room(rooms_room_t *room, const char *code)
{
    unsigned  i;

    memset(room, 0, sizeof(rooms_room_t));

    memcpy(room->code, code, ROOMS_CODE_LEN + 1);

    for (i = 0; i < ROOMS_HASH_LEN; i++) {
        room->host_hash[i] = (unsigned char) (i * 37 + 1);
    }

    room->host_hash[5] = 0;             /* a zero byte inside the blob */

    strcpy(room->title, "Caf\xc3\xa9 \"night\" \xf0\x9f\x8e\x89 'quoted'");
    strcpy(room->audience, "group:club.7");
    room->activity = 4;
    room->admission = ROOMS_ADMISSION_KNOCK;
    room->locked = 1;
    room->max_participants = 1000;
    room->start_at = NOW + 86400;
    room->created_at = NOW;
    room->host_absent = ROOMS_HOST_ABSENT_END;
}


/* Compares every stored field; participants are live, not stored. */
static int
same_room(const rooms_room_t *a, const rooms_room_t *b)
{
    return a->id == b->id
           && strcmp(a->code, b->code) == 0
           && memcmp(a->host_hash, b->host_hash, ROOMS_HASH_LEN) == 0
           && strcmp(a->title, b->title) == 0
           && strcmp(a->audience, b->audience) == 0
           && a->activity == b->activity
           && a->admission == b->admission
           && a->locked == b->locked
           && a->max_participants == b->max_participants
           && a->start_at == b->start_at
           && a->created_at == b->created_at
           && a->ended_at == b->ended_at
           && a->host_absent == b->host_absent
           && a->rev == b->rev;
}


static rooms_store_t *
open_ok(const char *path, const char *what)
{
    char            err[256];
    rooms_store_t  *st;

    err[0] = '\0';
    st = rooms_store_open(path, err, sizeof(err));

    if (!ok(st != NULL, "open %s", what)) {
        diag("%s", err);
    }

    return st;
}


/* The schema made on PostgreSQL: the same tables and version. */
static void
test_schema_pg(const char *where)
{
    char            v[256];
    rooms_store_t  *st;

    st = open_ok(where, "a new PostgreSQL store");
    if (st == NULL) {
        tap_bail_out("cannot open a store on PostgreSQL");
    }

    query_text(where, "SELECT version FROM rooms_db_version", v, sizeof(v));
    is_str(v, "9", "the schema version is 9");

    query_text(where, "SELECT string_agg(tablename, ',' ORDER BY tablename)"
               " FROM pg_tables WHERE schemaname = current_schema()",
               v, sizeof(v));
    is_str(v, "bans,calendar_feeds,cohosts,people,presence,reminders,"
           "retired_codes,room_owners,rooms,rooms_db_version,webhook_outbox",
           "the tables exist");

    query_text(where, "SELECT data_type FROM information_schema.columns"
               " WHERE table_name = 'rooms' AND column_name = 'host_hash'",
               v, sizeof(v));
    is_str(v, "bytea", "a BLOB is a bytea");

    rooms_store_close(st);

    st = open_ok(where, "the same store again");
    query_text(where, "SELECT version FROM rooms_db_version", v, sizeof(v));
    is_str(v, "9", "the version is still 9");
    rooms_store_close(st);
}


static void
test_schema(const char *db)
{
    char            v[128];
    rooms_store_t  *st;

    st = open_ok(db, "a new file");
    if (st == NULL) {
        tap_bail_out("cannot open a store in %s", dir);
    }

    ok(access(db, F_OK) == 0, "the database file exists");

    query_text(db, "PRAGMA user_version", v, sizeof(v));
    is_str(v, "9", "user_version is 9");
    is_int(ROOMS_STORE_SCHEMA_VERSION, 9, "the module's schema version");

    query_text(db, "PRAGMA journal_mode", v, sizeof(v));
    is_str(v, "wal", "journal_mode is wal");

    query_text(db, "SELECT group_concat(name, ',') FROM (SELECT name FROM"
               " sqlite_master WHERE type = 'table' ORDER BY name)",
               v, sizeof(v));
    is_str(v, "bans,calendar_feeds,cohosts,people,presence,reminders,"
           "retired_codes,room_owners,rooms,sqlite_sequence,webhook_outbox",
           "the tables exist");

    rooms_store_close(st);

    /* a second open of an existing store keeps it as it is */
    st = open_ok(db, "the same file again");
    query_text(db, "PRAGMA user_version", v, sizeof(v));
    is_str(v, "9", "user_version is still 9");
    rooms_store_close(st);
}


static void
test_rooms(const char *db)
{
    int             rc;
    char            n[64], sql[160];
    rooms_room_t    a, b, got, before, ghost;
    rooms_store_t  *st;

    st = open_ok(db, "for rooms");
    if (st == NULL) {
        tap_bail_out("cannot reopen the store");
    }

    sample_room(&a, CODE1);
    a.participants = 9;                /* live: must not come back */

    is_int(rooms_store_insert(st, &a), ROOMS_STORE_OK, "insert a room");
    ok(a.id > 0, "insert sets the id (%lld)", (long long) a.id);

    memset(&got, 0x5a, sizeof(got));
    is_int(rooms_store_find(st, CODE1, &got), ROOMS_STORE_OK,
           "find it by code");

    a.participants = 0;
    ok(same_room(&got, &a), "every stored field comes back identical");
    is_int(got.participants, 0, "participants are not stored");
    is_int(got.ended_at, 0, "a new room is not ended");
    is_str(got.title, a.title, "the UTF-8 title with quotes comes back");
    ok(memcmp(got.host_hash, a.host_hash, ROOMS_HASH_LEN) == 0,
       "the host hash comes back byte for byte");

    sample_room(&b, CODE2);
    strcpy(b.title, "");
    strcpy(b.audience, "link");
    b.activity = 0;
    b.admission = ROOMS_ADMISSION_OPEN;
    b.locked = 0;
    b.max_participants = 2;
    b.start_at = NOW;
    memset(b.host_hash, 0xff, ROOMS_HASH_LEN);

    is_int(rooms_store_insert(st, &b), ROOMS_STORE_OK, "insert a second");
    ok(b.id > a.id, "the second gets a new id");
    ok(rooms_store_find(st, CODE2, &got) == ROOMS_STORE_OK
       && same_room(&got, &b),
       "the second comes back with its own fields");
    ok(rooms_store_find(st, CODE1, &got) == ROOMS_STORE_OK
       && same_room(&got, &a),
       "the first is untouched");

    before = b;
    b.id = 0;
    is_int(rooms_store_insert(st, &b), ROOMS_STORE_ERROR,
           "a duplicate code is refused");
    ok(rooms_store_errmsg(st) != NULL && rooms_store_errmsg(st)[0] != '\0',
       "with a message (%s)", rooms_store_errmsg(st));
    b = before;

    memset(&got, 0x5a, sizeof(got));
    is_int(rooms_store_find(st, "ZZZZZZZZZZZZZZZZZZZZZZ", &got),
           ROOMS_STORE_NOT_FOUND, "an unknown code is not found");
    is_int(rooms_store_find(st, "", &got), ROOMS_STORE_NOT_FOUND,
           "an empty code is not found");
    is_int(rooms_store_find(st, "AAAAAAAAAAAAAAAAAAAAA", &got),
           ROOMS_STORE_NOT_FOUND, "a prefix of a code is not found");

    /* update: only the mutable fields */
    strcpy(a.title, "Renamed");
    strcpy(a.audience, "public");
    a.admission = ROOMS_ADMISSION_OPEN;
    a.locked = 0;
    a.max_participants = 3;
    a.host_absent = ROOMS_HOST_ABSENT_LOCK;
    is_int(rooms_store_update(st, &a), ROOMS_STORE_OK, "update");
    is_int(a.rev, 1, "an update bumps the revision to 1");

    rooms_store_close(st);

    st = open_ok(db, "after update");
    if (st == NULL) {
        tap_bail_out("cannot reopen the store");
    }

    ok(rooms_store_find(st, CODE1, &got) == ROOMS_STORE_OK
       && same_room(&got, &a) && strcmp(got.title, "Renamed") == 0
       && strcmp(got.audience, "public") == 0 && got.locked == 0
       && got.admission == ROOMS_ADMISSION_OPEN
       && got.max_participants == 3
       && got.host_absent == ROOMS_HOST_ABSENT_LOCK && got.rev == 1,
       "the update (host_absent and revision too) persists across close "
       "and reopen");
    ok(rooms_store_find(st, CODE2, &got) == ROOMS_STORE_OK
       && same_room(&got, &b),
       "the other room did not change");

    /* rotate */
    is_int(rooms_store_rotate(st, &a, CODE3), ROOMS_STORE_OK, "rotate");
    is_str(a.code, CODE3, "rotate updates room->code");
    is_int(rooms_store_find(st, CODE1, &got), ROOMS_STORE_GONE,
           "the old code is gone");

    memset(&got, 0, sizeof(got));
    rc = rooms_store_find(st, CODE3, &got);
    ok(rc == ROOMS_STORE_OK && got.id == a.id && same_room(&got, &a),
       "the new code finds the same room, same id");

    /* a rotation onto a code in use fails and changes nothing */
    before = a;
    is_int(rooms_store_rotate(st, &a, CODE2), ROOMS_STORE_ERROR,
           "rotating onto another room's code fails");
    is_str(a.code, CODE3, "room->code is kept on failure");
    ok(rooms_store_find(st, CODE3, &got) == ROOMS_STORE_OK
       && same_room(&got, &before),
       "the failed rotation left the room as it was");
    ok(rooms_store_find(st, CODE2, &got) == ROOMS_STORE_OK
       && got.id == b.id,
       "and the other room keeps its code");

    query_text(db, "SELECT count(*) FROM retired_codes", n, sizeof(n));
    is_str(n, "1", "exactly one retired code after the failed rotation");

    /* end */
    is_int(rooms_store_end(st, &b, NOW + 600), ROOMS_STORE_OK, "end");
    is_int(b.ended_at, NOW + 600, "end sets room->ended_at");
    is_int(b.rev, 1, "and bumps the revision");

    rooms_store_close(st);

    st = open_ok(db, "after rotate and end");
    if (st == NULL) {
        tap_bail_out("cannot reopen the store");
    }

    ok(rooms_store_find(st, CODE2, &got) == ROOMS_STORE_OK
       && got.ended_at == NOW + 600 && same_room(&got, &b),
       "ended_at persists across close and reopen");
    is_int(rooms_store_find(st, CODE1, &got), ROOMS_STORE_GONE,
           "the retired code is still gone after reopen");
    ok(rooms_store_find(st, CODE3, &got) == ROOMS_STORE_OK
       && got.id == a.id && got.ended_at == 0,
       "the rotated room is still found by its new code");

    /* ending twice is refused and keeps the first end */
    is_int(rooms_store_end(st, &b, NOW + 9999), ROOMS_STORE_ERROR,
           "a second end is refused");
    is_int(b.ended_at, NOW + 600, "a refused end leaves room->ended_at");
    ok(rooms_store_find(st, CODE2, &got) == ROOMS_STORE_OK
       && got.ended_at == NOW + 600,
       "a second end does not move ended_at in the store");

    /* a stale copy (another worker ended the room) is refused too */
    got.ended_at = 0;
    is_int(rooms_store_end(st, &got, NOW + 7777), ROOMS_STORE_ERROR,
           "ending a room already ended in the store, from a stale copy, "
           "is refused");
    is_int(got.ended_at, 0, "and leaves the stale copy's ended_at");
    ok(rooms_store_find(st, CODE2, &got) == ROOMS_STORE_OK
       && got.ended_at == NOW + 600,
       "ended_at in the store is still the first end");

    /* a room id that does not exist: nothing to update or end */
    ghost = a;
    ghost.id = b.id + 1000;
    strcpy(ghost.title, "Ghost");
    is_int(rooms_store_update(st, &ghost), ROOMS_STORE_ERROR,
           "update of a room id that does not exist is refused");
    is_int(rooms_store_end(st, &ghost, NOW + 60), ROOMS_STORE_ERROR,
           "end of a room id that does not exist is refused");
    is_int(ghost.ended_at, 0, "and does not set room->ended_at");

    ghost.id = 0;
    is_int(rooms_store_update(st, &ghost), ROOMS_STORE_ERROR,
           "update of id 0 (never inserted) is refused");
    is_int(rooms_store_end(st, &ghost, NOW + 60), ROOMS_STORE_ERROR,
           "end of id 0 (never inserted) is refused");

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM rooms WHERE"
             " title = 'Ghost' OR ended_at IN (%lld, %lld)",
             (long long) NOW + 60, (long long) NOW + 7777);
    query_text(db, sql, n, sizeof(n));
    is_str(n, "0", "no row was touched by the refused calls");

    /* an update that writes the same values still matches its row */
    ok(rooms_store_find(st, CODE3, &got) == ROOMS_STORE_OK,
       "find the rotated room");
    is_int(rooms_store_update(st, &got), ROOMS_STORE_OK,
           "an update with unchanged values succeeds");

    /* and so does an update after the refusals: the handle is sound */
    strcpy(got.title, "Still fine");
    is_int(rooms_store_update(st, &got), ROOMS_STORE_OK,
           "an update after the refusals succeeds");
    ok(rooms_store_find(st, CODE3, &got) == ROOMS_STORE_OK
       && strcmp(got.title, "Still fine") == 0, "and is stored");

    rooms_store_close(st);
}


static void
test_two_handles(const char *db)
{
    rooms_room_t    r, got;
    rooms_store_t  *w1, *w2;

    w1 = open_ok(db, "worker 1");
    w2 = open_ok(db, "worker 2");

    if (w1 == NULL || w2 == NULL) {
        tap_bail_out("cannot open two handles");
    }

    /* the second handle has read before the first writes */
    is_int(rooms_store_find(w2, CODE4, &got), ROOMS_STORE_NOT_FOUND,
           "worker 2 does not see the room yet");

    sample_room(&r, CODE4);
    is_int(rooms_store_insert(w1, &r), ROOMS_STORE_OK,
           "worker 1 inserts");
    ok(rooms_store_find(w2, CODE4, &got) == ROOMS_STORE_OK
       && same_room(&got, &r),
       "worker 2 sees the insert");

    strcpy(r.title, "From worker 2");
    r.locked = 0;
    is_int(rooms_store_update(w2, &r), ROOMS_STORE_OK, "worker 2 updates");
    ok(rooms_store_find(w1, CODE4, &got) == ROOMS_STORE_OK
       && strcmp(got.title, "From worker 2") == 0 && got.locked == 0,
       "worker 1 sees the update");

    is_int(rooms_store_rotate(w1, &r, "EEEEEEEEEEEEEEEEEEEEEw"),
           ROOMS_STORE_OK, "worker 1 rotates");
    is_int(rooms_store_find(w2, CODE4, &got), ROOMS_STORE_GONE,
           "worker 2 sees the old code gone");
    ok(rooms_store_find(w2, "EEEEEEEEEEEEEEEEEEEEEw", &got)
       == ROOMS_STORE_OK && got.id == r.id,
       "worker 2 finds the new code");

    rooms_store_close(w1);
    rooms_store_close(w2);
}


static void
test_bans(const char *db)
{
    char            code[ROOMS_CODE_LEN + 1], n[64];
    unsigned        i;
    rooms_room_t    a, b;
    rooms_store_t  *st, *w2;
    unsigned char   t1[ROOMS_HASH_LEN], t2[ROOMS_HASH_LEN];

    for (i = 0; i < ROOMS_HASH_LEN; i++) {
        t1[i] = (unsigned char) (i * 7 + 3);
        t2[i] = t1[i];
    }

    t1[0] = 0;                          /* a zero byte inside the blob */
    t2[ROOMS_HASH_LEN - 1] ^= 1;        /* differs in the last byte only */

    st = open_ok(db, "for bans");
    w2 = open_ok(db, "a second handle for bans");
    if (st == NULL || w2 == NULL) {
        tap_bail_out("cannot reopen the store");
    }

    sample_room(&a, "FFFFFFFFFFFFFFFFFFFFFA");
    sample_room(&b, "GGGGGGGGGGGGGGGGGGGGGA");

    if (rooms_store_insert(st, &a) != ROOMS_STORE_OK
        || rooms_store_insert(st, &b) != ROOMS_STORE_OK)
    {
        tap_bail_out("cannot insert rooms for bans");
    }

    is_int(rooms_store_is_banned(st, a.id, t1), 0, "nobody is banned yet");
    is_int(rooms_store_ban(st, a.id, t1), ROOMS_STORE_OK, "ban a token");
    is_int(rooms_store_is_banned(st, a.id, t1), 1, "it is banned");
    is_int(rooms_store_is_banned(w2, a.id, t1), 1,
           "a second handle (another nginx worker) sees the ban");
    is_int(rooms_store_is_banned(st, a.id, t2), 0,
           "a token one bit apart is not");
    is_int(rooms_store_is_banned(st, b.id, t1), 0,
           "the same token in another room is not");
    is_int(rooms_store_ban(st, a.id, t1), ROOMS_STORE_OK,
           "banning it again succeeds");
    snprintf(n, sizeof(n), "SELECT count(*) FROM bans WHERE room_id = %lld",
             (long long) a.id);
    query_text(db, n, code, sizeof(code));
    is_str(code, "1", "and keeps one row");
    ok(rooms_store_ban(st, 999999, t1) == ROOMS_STORE_ERROR,
       "a ban for a room that does not exist is refused");

    is_int(rooms_store_code(st, a.id, code), ROOMS_STORE_OK,
           "the code of a room by id");
    is_str(code, "FFFFFFFFFFFFFFFFFFFFFA", "is its code");
    is_int(rooms_store_rotate(st, &a, "HHHHHHHHHHHHHHHHHHHHHA"),
           ROOMS_STORE_OK, "rotate it");
    ok(rooms_store_code(w2, a.id, code) == ROOMS_STORE_OK
       && strcmp(code, "HHHHHHHHHHHHHHHHHHHHHA") == 0,
       "by id, the new code");
    is_int(rooms_store_code(st, 999999, code), ROOMS_STORE_NOT_FOUND,
           "an id nobody has: not found");

    rooms_store_close(st);
    rooms_store_close(w2);

    st = open_ok(db, "after the bans");
    is_int(rooms_store_is_banned(st, a.id, t1), 1,
           "the ban survives a reopen, and the rotation");
    rooms_store_close(st);
}


/* A version 1 store, as the module of that version wrote it. */
static const char  v1_schema[] =
    "PRAGMA journal_mode = WAL;"
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
    ");"
    "INSERT INTO rooms VALUES (7, 'IIIIIIIIIIIIIIIIIIIIIA',"
    " x'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',"
    " 'Old room', 2, 'link', 0, 1, 12, 1700000000, 1690000000, 0);"
    "INSERT INTO rooms VALUES (8, 'JJJJJJJJJJJJJJJJJJJJJA',"
    " x'ff112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',"
    " 'Ended', 6, 'friends', 1, 0, 50, 1700000000, 1690000000,"
    " 1700000500);"
    "INSERT INTO retired_codes VALUES ('KKKKKKKKKKKKKKKKKKKKKA', 7,"
    " 1695000000);"
    "PRAGMA user_version = 1;";


static void
test_migration(void)
{
    char            path[128], v[128], err[256];
    sqlite3        *db;
    rooms_room_t    got;
    rooms_store_t  *st;
    unsigned char   t[ROOMS_HASH_LEN];

    path_in(path, sizeof(path), "v1.db");

    if (sqlite3_open(path, &db) != SQLITE_OK
        || sqlite3_exec(db, v1_schema, NULL, NULL, NULL) != SQLITE_OK)
    {
        tap_bail_out("cannot write %s: %s", path, sqlite3_errmsg(db));
    }

    sqlite3_close(db);

    query_text(path, "PRAGMA user_version", v, sizeof(v));
    is_str(v, "1", "a version 1 store");

    err[0] = '\0';
    st = rooms_store_open(path, err, sizeof(err));
    if (!ok(st != NULL, "opens: it is migrated")) {
        diag("%s", err);
        tap_bail_out("the migration failed");
    }

    query_text(path, "PRAGMA user_version", v, sizeof(v));
    is_str(v, "9", "user_version is 9 now");
    query_text(path, "SELECT group_concat(name, ',') FROM (SELECT name FROM"
               " sqlite_master WHERE type = 'table' ORDER BY name)",
               v, sizeof(v));
    is_str(v, "bans,calendar_feeds,cohosts,people,presence,reminders,"
           "retired_codes,room_owners,rooms,sqlite_sequence,webhook_outbox",
           "the bans, cohosts, outbox, people, owners, schedule and "
           "presence tables were added");

    is_int(rooms_store_find(st, "IIIIIIIIIIIIIIIIIIIIIA", &got),
           ROOMS_STORE_OK, "its room is still there");
    ok(got.id == 7 && strcmp(got.title, "Old room") == 0
       && got.activity == 2 && got.locked == 1
       && got.max_participants == 12 && got.start_at == 1700000000
       && got.created_at == 1690000000 && got.ended_at == 0
       && got.host_hash[0] == 0x00 && got.host_hash[31] == 0xff
       && got.host_absent == ROOMS_HOST_ABSENT_STAY && got.rev == 0,
       "with every field, stay_open and revision 0 added");
    ok(rooms_store_find(st, "JJJJJJJJJJJJJJJJJJJJJA", &got)
       == ROOMS_STORE_OK && got.ended_at == 1700000500,
       "the ended room too");
    is_int(rooms_store_find(st, "KKKKKKKKKKKKKKKKKKKKKA", &got),
           ROOMS_STORE_GONE, "its retired code is still gone");

    memset(t, 0xab, sizeof(t));
    is_int(rooms_store_ban(st, 7, t), ROOMS_STORE_OK,
           "the migrated store holds bans");
    is_int(rooms_store_is_banned(st, 7, t), 1, "and reads them");

    rooms_store_close(st);

    st = open_ok(path, "the migrated store again");
    query_text(path, "PRAGMA user_version", v, sizeof(v));
    is_str(v, "9", "a second open leaves version 9 as it is");
    is_int(rooms_store_is_banned(st, 7, t), 1, "the ban is kept");
    rooms_store_close(st);
}


/*
 * Schema 3: co-host credentials (add, check bound to the token, one per
 * token, the ROOMS_COHOSTS_MAX bound revoking the oldest, revoke by id and
 * by token, list, a ban revoking them) and the revision moving with each
 * stored change.
 */
static void
test_cohosts(const char *db)
{
    char            v[64];
    int64_t         id, first, ids[ROOMS_COHOSTS_MAX + 2];
    unsigned        i, n;
    unsigned char   key[ROOMS_HASH_LEN], key2[ROOMS_HASH_LEN];
    unsigned char   tok[ROOMS_HASH_LEN], tok2[ROOMS_HASH_LEN];
    unsigned char   out[ROOMS_HASH_LEN];
    rooms_room_t    r, other, got;
    rooms_store_t  *st;
    rooms_cohost_t  list[ROOMS_COHOSTS_MAX + 4];

    st = open_ok(db, "for co-hosts");
    if (st == NULL) {
        tap_bail_out("cannot open the store");
    }

    sample_room(&r, "CoHostRoomAAAAAAAAAAAA");
    sample_room(&other, "CoHostRoomBBBBBBBBBBBB");
    is_int(rooms_store_insert(st, &r), ROOMS_STORE_OK, "a room");
    is_int(rooms_store_insert(st, &other), ROOMS_STORE_OK, "another room");

    memset(key, 0x11, sizeof(key));
    memset(key2, 0x22, sizeof(key2));
    memset(tok, 0x33, sizeof(tok));
    memset(tok2, 0x44, sizeof(tok2));

    is_int(rooms_store_cohost_check(st, r.id, key, NULL), 0,
           "an unknown key is no co-host");

    id = 0;
    is_int(rooms_store_cohost_add(st, r.id, key, tok, "Ada", NOW, &id),
           ROOMS_STORE_OK, "add a co-host");
    ok(id > 0, "it has an id");
    first = id;

    memset(out, 0, sizeof(out));
    is_int(rooms_store_cohost_check(st, r.id, key, out), 1,
           "its key is active");
    ok(memcmp(out, tok, ROOMS_HASH_LEN) == 0,
       "and bound to the guest token it was given with");
    is_int(rooms_store_cohost_check(st, other.id, key, NULL), 0,
           "in its room only");

    is_int(rooms_store_cohost_list(st, r.id, list, 8, &n), ROOMS_STORE_OK,
           "list");
    ok(n == 1 && list[0].id == id && strcmp(list[0].name, "Ada") == 0
       && list[0].created_at == NOW, "lists it with its name and time");

    /* a second credential for the same guest replaces the first */
    is_int(rooms_store_cohost_add(st, r.id, key2, tok, "Ada", NOW + 1, &id),
           ROOMS_STORE_OK, "the same guest made co-host again");
    is_int(rooms_store_cohost_check(st, r.id, key, NULL), 0,
           "the first key is revoked");
    is_int(rooms_store_cohost_check(st, r.id, key2, NULL), 1,
           "the new one is active");
    rooms_store_cohost_list(st, r.id, list, 8, &n);
    is_int(n, 1, "one credential per guest");

    /* revoke by id */
    is_int(rooms_store_cohost_revoke(st, r.id, first, NOW + 2, NULL),
           ROOMS_STORE_NOT_FOUND, "a revoked id cannot be revoked again");
    is_int(rooms_store_cohost_revoke(st, other.id, id, NOW + 2, NULL),
           ROOMS_STORE_NOT_FOUND, "nor revoked through another room");
    memset(out, 0, sizeof(out));
    is_int(rooms_store_cohost_revoke(st, r.id, id, NOW + 2, out),
           ROOMS_STORE_OK, "revoke by id");
    ok(memcmp(out, tok, ROOMS_HASH_LEN) == 0, "it names the token");
    is_int(rooms_store_cohost_check(st, r.id, key2, NULL), 0,
           "the key no longer works");
    rooms_store_cohost_list(st, r.id, list, 8, &n);
    is_int(n, 0, "and is not listed");

    /* at most ROOMS_COHOSTS_MAX active: the oldest makes room */
    for (i = 0; i < ROOMS_COHOSTS_MAX + 1; i++) {
        memset(key, 0x50 + i, sizeof(key));
        memset(tok2, 0x80 + i, sizeof(tok2));
        ids[i] = 0;
        rooms_store_cohost_add(st, r.id, key, tok2, "Many", NOW + 10 + i,
                               &ids[i]);
    }

    is_int(rooms_store_cohost_list(st, r.id, list,
                                   ROOMS_COHOSTS_MAX + 4, &n),
           ROOMS_STORE_OK, "list a full room");
    is_int(n, ROOMS_COHOSTS_MAX, "ROOMS_COHOSTS_MAX are active");
    ok(list[0].id == ids[1] && list[n - 1].id == ids[ROOMS_COHOSTS_MAX],
       "the oldest was revoked, oldest first");
    memset(key, 0x50, sizeof(key));
    is_int(rooms_store_cohost_check(st, r.id, key, NULL), 0,
           "the oldest key no longer works");

    /* a ban revokes the banned guest's credential */
    memset(key, 0x51, sizeof(key));
    memset(tok2, 0x81, sizeof(tok2));
    is_int(rooms_store_cohost_check(st, r.id, key, NULL), 1,
           "a co-host's key works");
    is_int(rooms_store_ban(st, r.id, tok2), ROOMS_STORE_OK, "ban it");
    is_int(rooms_store_is_banned(st, r.id, tok2), 1, "it is banned");
    is_int(rooms_store_cohost_check(st, r.id, key, NULL), 0,
           "and its co-host key is revoked");

    /* revoke by token, none is no error */
    memset(key, 0x52, sizeof(key));
    memset(tok2, 0x82, sizeof(tok2));
    is_int(rooms_store_cohost_revoke_token(st, r.id, tok2, NOW + 50),
           ROOMS_STORE_OK, "revoke by token");
    is_int(rooms_store_cohost_check(st, r.id, key, NULL), 0,
           "its key no longer works");
    is_int(rooms_store_cohost_revoke_token(st, r.id, tok2, NOW + 51),
           ROOMS_STORE_OK, "revoking nothing is no error");

    /* a revocation at time 0 is still a revocation */
    memset(key, 0x53, sizeof(key));
    memset(tok2, 0x83, sizeof(tok2));
    rooms_store_cohost_revoke_token(st, r.id, tok2, 0);
    is_int(rooms_store_cohost_check(st, r.id, key, NULL), 0,
           "revoked at time 0 stays revoked");

    /* a room that does not exist holds no co-hosts */
    is_int(rooms_store_cohost_add(st, r.id + 999, key, tok, "Nobody", NOW,
                                  &id),
           ROOMS_STORE_ERROR, "no co-host for a room that does not exist");

    /* the revision: every update and the end bump it by one */
    is_int(rooms_store_find(st, "CoHostRoomAAAAAAAAAAAA", &got),
           ROOMS_STORE_OK, "find the room");
    is_int(got.rev, 0, "a new room is at revision 0");
    got.locked = 0;
    rooms_store_update(st, &got);
    rooms_store_update(st, &got);
    is_int(got.rev, 2, "two updates: revision 2");
    rooms_store_end(st, &got, NOW + 100);
    is_int(got.rev, 3, "the end: revision 3");
    rooms_store_find(st, "CoHostRoomAAAAAAAAAAAA", &got);
    is_int(got.rev, 3, "as stored");
    query_text(db, "SELECT rev FROM rooms WHERE code ="
               " 'CoHostRoomAAAAAAAAAAAA'", v, sizeof(v));
    is_str(v, "3", "read back through sqlite3");

    rooms_store_close(st);
}


/*
 * Expiry: rooms ended, or with nothing in them (created, scheduled, used),
 * before the limit go with their retired codes, bans and co-host
 * credentials; every other room and what refers to it stays.
 */
#define DAY  86400

static int64_t
expire_room(rooms_store_t *st, const char *code, int64_t created,
    int64_t start, int64_t ended)
{
    rooms_room_t  r;

    sample_room(&r, code);
    r.created_at = created;
    r.start_at = start;

    if (rooms_store_insert(st, &r) != ROOMS_STORE_OK) {
        tap_bail_out("insert %s: %s", code, rooms_store_errmsg(st));
    }

    if (ended && rooms_store_end(st, &r, ended) != ROOMS_STORE_OK) {
        tap_bail_out("end %s", code);
    }

    return r.id;
}


static void
test_expire(const char *path)
{
    char            v[256], sql[320];
    int64_t         purged, old_never, old_used, old_ended, new_ended, fresh,
                    ahead, long_ago, id;
    unsigned char   t[ROOMS_HASH_LEN], k[ROOMS_HASH_LEN];
    rooms_room_t    got;
    rooms_store_t  *st;

    st = open_ok(path, "for expiry");
    if (st == NULL) {
        tap_bail_out("cannot open %s", path);
    }

    /* 40 days old, nobody ever in it */
    old_never = expire_room(st, "EAAAAAAAAAAAAAAAAAAAAA", NOW - 40 * DAY,
                            NOW - 40 * DAY, 0);
    /* 40 days old, people in it 2 days ago */
    old_used = expire_room(st, "EBBBBBBBBBBBBBBBBBBBBA", NOW - 40 * DAY,
                           NOW - 40 * DAY, 0);
    /* ended 35 days ago, with a retired code, a ban and a co-host */
    old_ended = expire_room(st, "ECCCCCCCCCCCCCCCCCCCCA", NOW - 40 * DAY,
                            NOW - 40 * DAY, 0);
    /* ended 5 days ago */
    new_ended = expire_room(st, "EDDDDDDDDDDDDDDDDDDDDA", NOW - 40 * DAY,
                            NOW - 40 * DAY, NOW - 5 * DAY);
    /* created yesterday */
    fresh = expire_room(st, "EEEEEEEEEEEEEEEEEEEEEA", NOW - DAY, NOW - DAY, 0);
    /* made 40 days ago for a start 10 days ahead */
    ahead = expire_room(st, "EFFFFFFFFFFFFFFFFFFFFA", NOW - 40 * DAY,
                        NOW + 10 * DAY, 0);
    /* people in it last 31 days ago */
    long_ago = expire_room(st, "EGGGGGGGGGGGGGGGGGGGGA", NOW - 90 * DAY,
                           NOW - 90 * DAY, 0);

    /* used: at most one write an hour */
    is_int(rooms_store_used(st, old_used, NOW - 2 * DAY), ROOMS_STORE_OK,
           "used: records people in a room");
    is_int(rooms_store_used(st, old_used, NOW - 2 * DAY + 60),
           ROOMS_STORE_OK, "used again a minute later");
    snprintf(sql, sizeof(sql), "SELECT used_at FROM rooms WHERE id = %lld",
             (long long) old_used);
    query_text(path, sql, v, sizeof(v));
    is_int(atoll(v), NOW - 2 * DAY, "a minute later is not written");
    rooms_store_used(st, old_used, NOW - 2 * DAY + ROOMS_STORE_USED_EVERY);
    query_text(path, sql, v, sizeof(v));
    is_int(atoll(v), NOW - 2 * DAY + ROOMS_STORE_USED_EVERY,
           "an hour later it is");
    rooms_store_used(st, long_ago, NOW - 31 * DAY);

    /* what refers to the rooms */
    memset(t, 0x11, sizeof(t));
    memset(k, 0x22, sizeof(k));
    sample_room(&got, "ECCCCCCCCCCCCCCCCCCCCA");
    if (rooms_store_find(st, "ECCCCCCCCCCCCCCCCCCCCA", &got) != ROOMS_STORE_OK
        || rooms_store_rotate(st, &got, "EHHHHHHHHHHHHHHHHHHHHA")
           != ROOMS_STORE_OK
        || rooms_store_ban(st, old_ended, t) != ROOMS_STORE_OK
        || rooms_store_cohost_add(st, old_ended, k, t, "Co", NOW - 38 * DAY,
                                  &id) != ROOMS_STORE_OK
        || rooms_store_end(st, &got, NOW - 35 * DAY) != ROOMS_STORE_OK
        || rooms_store_ban(st, new_ended, t) != ROOMS_STORE_OK)
    {
        tap_bail_out("cannot set up the expiry rooms: %s",
                     rooms_store_errmsg(st));
    }

    purged = -1;
    is_int(rooms_store_expire(st, NOW - 30 * DAY, &purged), ROOMS_STORE_OK,
           "expire: rooms idle or ended for 30 days");
    is_int(purged, 3, "three rooms purged");

    is_int(rooms_store_find(st, "EAAAAAAAAAAAAAAAAAAAAA", &got),
           ROOMS_STORE_NOT_FOUND, "a room nobody was ever in is gone");
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM rooms WHERE id = %lld",
             (long long) old_never);
    query_text(path, sql, v, sizeof(v));
    is_str(v, "0", "its row too");
    is_int(rooms_store_find(st, "EHHHHHHHHHHHHHHHHHHHHA", &got),
           ROOMS_STORE_NOT_FOUND, "a room ended 35 days ago is gone");
    is_int(rooms_store_find(st, "ECCCCCCCCCCCCCCCCCCCCA", &got),
           ROOMS_STORE_NOT_FOUND, "and its retired code is unknown");
    is_int(rooms_store_find(st, "EGGGGGGGGGGGGGGGGGGGGA", &got),
           ROOMS_STORE_NOT_FOUND, "a room last used 31 days ago is gone");

    ok(rooms_store_find(st, "EBBBBBBBBBBBBBBBBBBBBA", &got) == ROOMS_STORE_OK
       && got.id == old_used, "a room used 2 days ago stays");
    ok(rooms_store_find(st, "EDDDDDDDDDDDDDDDDDDDDA", &got) == ROOMS_STORE_OK
       && got.id == new_ended, "a room ended 5 days ago stays");
    ok(rooms_store_find(st, "EEEEEEEEEEEEEEEEEEEEEA", &got) == ROOMS_STORE_OK
       && got.id == fresh, "a room made yesterday stays");
    ok(rooms_store_find(st, "EFFFFFFFFFFFFFFFFFFFFA", &got) == ROOMS_STORE_OK
       && got.id == ahead, "a room scheduled ahead stays");

    snprintf(sql, sizeof(sql), "SELECT (SELECT count(*) FROM bans WHERE"
             " room_id = %lld) || ',' || (SELECT count(*) FROM cohosts WHERE"
             " room_id = %lld) || ',' || (SELECT count(*) FROM retired_codes"
             " WHERE room_id = %lld)", (long long) old_ended,
             (long long) old_ended, (long long) old_ended);
    query_text(path, sql, v, sizeof(v));
    is_str(v, "0,0,0", "its ban, co-host and retired code went with it");
    is_int(rooms_store_is_banned(st, new_ended, t), 1,
           "a kept room keeps its ban");

    is_int(rooms_store_expire(st, NOW - 30 * DAY, &purged), ROOMS_STORE_OK,
           "expire again");
    is_int(purged, 0, "nothing more to purge");

    rooms_store_close(st);
}


static void
test_refusals(void)
{
    int             fd;
    char            path[128], wal[128], err[256], mode[64];
    sqlite3        *db;
    unsigned        i;
    unsigned char   junk[4096];
    rooms_store_t  *st;

    /* a store written by a newer module */
    path_in(path, sizeof(path), "v99.db");

    if (sqlite3_open(path, &db) != SQLITE_OK
        || sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL)
           != SQLITE_OK)
    {
        tap_bail_out("cannot write %s", path);
    }

    sqlite3_close(db);

    strcpy(err, "");
    st = rooms_store_open(path, err, sizeof(err));
    ok(st == NULL, "user_version 99: open fails");
    ok(strstr(err, "schema") != NULL, "and says why (%s)", err);
    rooms_store_close(st);

    /*
     * a newer store in rollback-journal mode is left exactly as it was:
     * journal_mode=WAL is lasting, so a refused open must not set it
     */
    path_in(path, sizeof(path), "v99-delete.db");

    if (sqlite3_open(path, &db) != SQLITE_OK
        || sqlite3_exec(db, "PRAGMA journal_mode = DELETE;"
                        " CREATE TABLE theirs (x);"
                        " PRAGMA user_version = 99", NULL, NULL, NULL)
           != SQLITE_OK)
    {
        tap_bail_out("cannot write %s", path);
    }

    sqlite3_close(db);

    query_text(path, "PRAGMA journal_mode", mode, sizeof(mode));
    if (strcmp(mode, "delete") != 0) {
        tap_bail_out("%s: journal_mode is \"%s\", not delete", path, mode);
    }

    strcpy(err, "");
    st = rooms_store_open(path, err, sizeof(err));
    ok(st == NULL, "user_version 99, journal delete: open fails");
    ok(strstr(err, "schema") != NULL, "and says why (%s)", err);
    rooms_store_close(st);

    path_in(wal, sizeof(wal), "v99-delete.db-wal");
    ok(access(wal, F_OK) != 0, "no -wal file was left beside it");

    query_text(path, "PRAGMA journal_mode", mode, sizeof(mode));
    is_str(mode, "delete", "the refused store's journal_mode is still "
           "delete");
    query_text(path, "PRAGMA user_version", mode, sizeof(mode));
    is_str(mode, "99", "its user_version is still 99");
    query_text(path, "SELECT group_concat(name, ',') FROM sqlite_master",
               mode, sizeof(mode));
    is_str(mode, "theirs", "and no table was added to it");

    /* a directory that does not exist */
    path_in(path, sizeof(path), "missing/rooms.db");

    strcpy(err, "");
    st = rooms_store_open(path, err, sizeof(err));
    ok(st == NULL, "a path in a missing directory: open fails");
    ok(err[0] != '\0', "with a message (%s)", err);
    rooms_store_close(st);
    ok(access(path, F_OK) != 0, "and nothing was created");

    /* garbage */
    path_in(path, sizeof(path), "garbage.db");

    for (i = 0; i < sizeof(junk); i++) {
        junk[i] = (unsigned char) (i * 131 + 7);
    }

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || write(fd, junk, sizeof(junk)) != (ssize_t) sizeof(junk)
        || close(fd) != 0)
    {
        tap_bail_out("cannot write %s: %s", path, strerror(errno));
    }

    strcpy(err, "");
    st = rooms_store_open(path, err, sizeof(err));
    ok(st == NULL, "a file that is not a database: open fails");
    ok(strstr(err, "not a database") != NULL, "with a message (%s)", err);
    rooms_store_close(st);

    /* a short error buffer is cut, not overrun */
    memset(err, 'x', sizeof(err));
    path_in(path, sizeof(path), "v99.db");
    st = rooms_store_open(path, err, 8);
    ok(st == NULL && strlen(err) == 7 && err[8] == 'x',
       "the message respects errlen");
    rooms_store_close(st);
}


/* Removes dir and the files in it; returns 0 when it is gone. */
static int
remove_dir(const char *d)
{
    DIR            *dp;
    char            path[512];
    struct dirent  *de;

    dp = opendir(d);
    if (dp == NULL) {
        return -1;
    }

    while ((de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s", d, de->d_name);

        if (unlink(path) != 0) {
            diag("cannot remove %s: %s", path, strerror(errno));
        }
    }

    closedir(dp);

    return rmdir(d);
}


/* After a bail out, the directory must not outlive the test either. */
/*
 * The write lock: one handle (another program, or a worker) holds it; the
 * other reads all the same, and every write of it is refused BUSY at once
 * or after its wait, changing nothing; once the lock is free it writes.
 * A write of several statements inside a caller's transaction commits
 * nothing by itself: the caller's rollback drops it all.
 */
static void
test_lock(const char *db)
{
    unsigned char   token[ROOMS_HASH_LEN];
    rooms_room_t    r, got;
    rooms_store_t  *holder, *w;

    holder = open_ok(db, "the lock holder");
    w = open_ok(db, "a worker");

    if (holder == NULL || w == NULL) {
        tap_bail_out("cannot open two handles");
    }

    sample_room(&r, "LLLLLLLLLLLLLLLLLLLLLA");
    is_int(rooms_store_insert(w, &r), ROOMS_STORE_OK, "a room to lock");

    is_int(rooms_store_begin(holder, 0), ROOMS_STORE_OK,
           "the holder takes the write lock");

    is_int(rooms_store_begin(w, 20), ROOMS_STORE_BUSY,
           "a begin that waited 20 ms is refused BUSY");
    ok(rooms_store_find(w, r.code, &got) == ROOMS_STORE_OK
       && same_room(&got, &r), "reads go on while the lock is held");

    strcpy(r.title, "Not stored");
    is_int(rooms_store_update(w, &r), ROOMS_STORE_BUSY,
           "a single write outside a transaction does not wait: BUSY");
    memset(token, 7, sizeof(token));
    is_int(rooms_store_ban(w, r.id, token), ROOMS_STORE_BUSY,
           "a ban (its own transaction) is refused BUSY");
    is_int(rooms_store_rotate(w, &r, "MMMMMMMMMMMMMMMMMMMMMA"),
           ROOMS_STORE_BUSY, "a rotation is refused BUSY");
    ok(strcmp(r.code, "LLLLLLLLLLLLLLLLLLLLLA") == 0,
       "the refused rotation left the code as it was");

    rooms_store_rollback(holder);

    ok(rooms_store_find(w, "LLLLLLLLLLLLLLLLLLLLLA", &got) == ROOMS_STORE_OK
       && strcmp(got.title, "Not stored") != 0 && got.rev == 0,
       "nothing a refused write asked for is stored");
    is_int(rooms_store_is_banned(w, r.id, token), 0,
           "the refused ban is not stored");

    /* inside the caller's transaction, then rolled back */
    is_int(rooms_store_begin(w, 20), ROOMS_STORE_OK,
           "once free, the lock is taken");
    is_int(rooms_store_rotate(w, &r, "MMMMMMMMMMMMMMMMMMMMMA"),
           ROOMS_STORE_OK, "a rotation inside it");
    is_int(rooms_store_ban(w, r.id, token), ROOMS_STORE_OK,
           "a ban inside it");
    rooms_store_rollback(w);
    is_int(rooms_store_find(holder, "MMMMMMMMMMMMMMMMMMMMMA", &got),
           ROOMS_STORE_NOT_FOUND, "the rolled back rotation is not stored");
    is_int(rooms_store_is_banned(holder, r.id, token), 0,
           "nor the rolled back ban");

    /* and committed */
    is_int(rooms_store_begin(w, 20), ROOMS_STORE_OK, "the lock again");
    is_int(rooms_store_ban(w, r.id, token), ROOMS_STORE_OK, "a ban");
    is_int(rooms_store_commit(w), ROOMS_STORE_OK, "committed");
    is_int(rooms_store_is_banned(holder, r.id, token), 1,
           "the other handle sees the committed ban");

    rooms_store_close(holder);
    rooms_store_close(w);
}


static void
cleanup(void)
{
    if (dir[0] != '\0' && access(dir, F_OK) == 0) {
        (void) remove_dir(dir);
    }
}


/*
 * Schema 5: the webhook outbox (appended in order, read after an id,
 * bounded by dropping the oldest, removed once delivered, kept across a
 * close).
 */
static void
test_outbox(const char *path)
{
    char            body[64];
    size_t          len;
    int64_t         id, first;
    unsigned        dropped, i;
    rooms_store_t  *st;

    st = open_ok(path, "for the outbox");
    if (st == NULL) {
        return;
    }

    is_int(rooms_store_outbox_next(st, 0, &id, body, sizeof(body), &len), 0,
           "an empty outbox has no next event");

    for (i = 0; i < 3; i++) {
        snprintf(body, sizeof(body), "{\"n\":%u}", i);
        is_int(rooms_store_outbox_add(st, body, strlen(body), NOW, 3,
                                      &dropped),
               ROOMS_STORE_OK, "an event goes into the outbox");
        is_int((int) dropped, 0, "nothing dropped below the bound");
    }

    is_int(rooms_store_outbox_next(st, 0, &first, body, sizeof(body), &len),
           1, "the oldest event comes first");
    is_int((int) len, 7, "with its body's length");
    ok(memcmp(body, "{\"n\":0}", 7) == 0, "and its body");

    is_int(rooms_store_outbox_add(st, "{\"n\":3}", 7, NOW, 3, &dropped),
           ROOMS_STORE_OK, "a fourth event into a full outbox of 3");
    is_int((int) dropped, 1, "drops one");
    is_int(rooms_store_outbox_next(st, 0, &id, body, sizeof(body), &len), 1,
           "the oldest now");
    ok(memcmp(body, "{\"n\":1}", 7) == 0 && id > first,
       "the oldest went, not the newest");

    is_int(rooms_store_outbox_remove(st, id), ROOMS_STORE_OK,
           "a delivered event is removed");
    is_int(rooms_store_outbox_remove(st, id), ROOMS_STORE_OK,
           "removing it twice is no error");
    is_int(rooms_store_outbox_next(st, id, &id, body, sizeof(body), &len), 1,
           "the next after it");
    ok(memcmp(body, "{\"n\":2}", 7) == 0, "is the one after it, in order");

    is_int(rooms_store_outbox_add(st, body, ROOMS_STORE_EVENT_MAX + 1, NOW, 3,
                                  &dropped),
           ROOMS_STORE_ERROR, "a body over ROOMS_STORE_EVENT_MAX is refused");

    rooms_store_close(st);

    st = open_ok(path, "the outbox again");
    if (st == NULL) {
        return;
    }

    is_int(rooms_store_outbox_next(st, 0, &id, body, sizeof(body), &len), 1,
           "events survive a close");
    ok(memcmp(body, "{\"n\":2}", 7) == 0, "in order");
    rooms_store_close(st);
}


int
main(void)
{
    char         db[128], path[128];
    const char  *tmp, *pg;

    tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/rooms-store-XXXXXX",
             tmp && tmp[0] && strlen(tmp) < 40 ? tmp : "/tmp");

    if (mkdtemp(dir) == NULL) {
        tap_bail_out("mkdtemp: %s", strerror(errno));
    }

    atexit(cleanup);

    path_in(db, sizeof(db), "rooms.db");

    test_schema(db);
    test_rooms(db);
    test_two_handles(db);
    test_bans(db);
    test_migration();
    test_cohosts(db);
    path_in(path, sizeof(path), "expire.db");
    test_expire(path);
    path_in(path, sizeof(path), "outbox.db");
    test_outbox(path);
    test_lock(db);
    test_refusals();

    ok(remove_dir(dir) == 0, "the temporary directory is removed");

    /* the same calls on PostgreSQL, when a database is given */
    pg = getenv("ROOMS_TEST_PG");

    if (pg != NULL && pg[0] != '\0') {
        diag("engine: postgresql");
        reset_pg(pg);
        test_schema_pg(pg);
        test_rooms(pg);
        test_two_handles(pg);
        test_bans(pg);
        test_cohosts(pg);
        test_lock(pg);
        reset_pg(pg);
        test_expire(pg);
        reset_pg(pg);
        test_outbox(pg);
        reset_pg(pg);

    } else {
        diag("skip: the PostgreSQL part (ROOMS_TEST_PG is not set)");
    }

    return done_testing();
}
