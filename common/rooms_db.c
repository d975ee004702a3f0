/*
 * rooms_db.c: what the two engines of rooms_db.h share: choosing the
 * engine from where, the statements kept per connection, the dialect's
 * "?N" as PostgreSQL's "$N", and SQLite's DDL in PostgreSQL's words.
 *
 * Owns: the dispatch to an engine and the cache of prepared statements.
 * Must never talk to an engine's library itself (sqlite3_, PQ): that is
 * rooms_db_sqlite.c's and rooms_db_pg.c's.
 *
 * Statements: rooms_db_prepare() returns the connection's statement of
 * the same text when one is free, and prepares a new one only when none
 * is; rooms_db_finalize() resets it and keeps it for the next caller.
 * The store's files prepare at each call (their statements run at a
 * person's click, not per packet), and this keeps PostgreSQL from parsing
 * and planning each of them again, which would double its round trips.
 * At most ROOMS_DB_STMTS_MAX are kept: past that a finalized statement
 * is really finalized (a caller that builds many texts cannot grow the
 * cache without bound).
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, include <libpq-fe.h>, call json_, call rooms_store_, call rooms_people_, call rooms_sched_, call sqlite3_, call PQ
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rooms_db_int.h"


/* the statements a connection keeps; the store's files have about 80 */
#define ROOMS_DB_STMTS_MAX  256


int
rooms_db_is_uri(const char *where)
{
    return strncmp(where, "postgresql://", sizeof("postgresql://") - 1) == 0
           || strncmp(where, "postgres://", sizeof("postgres://") - 1) == 0;
}


char *
rooms_db_redact(const char *where, char *out, size_t size)
{
    size_t       n, o;
    const char  *p, *at, *colon, *q, *end;

    if (size == 0) {
        return out;
    }

    o = 0;

#define ROOMS_DB_PUT(from, len)                                               \
    do {                                                                      \
        n = (len);                                                            \
        if (n > size - 1 - o) {                                               \
            n = size - 1 - o;                                                 \
        }                                                                     \
        memcpy(out + o, (from), n);                                           \
        o += n;                                                               \
    } while (0)

    if (!rooms_db_is_uri(where)) {
        ROOMS_DB_PUT(where, strlen(where));
        out[o] = '\0';
        return out;
    }

    p = strstr(where, "://") + 3;
    ROOMS_DB_PUT(where, (size_t) (p - where));

    /*
     * "user:password@": the last '@' ends it (a password may hold one
     * unescaped); the first ':' before it starts the password
     */
    at = strrchr(p, '@');
    colon = at != NULL ? memchr(p, ':', (size_t) (at - p)) : NULL;

    if (colon != NULL) {
        ROOMS_DB_PUT(p, (size_t) (colon + 1 - p));
        ROOMS_DB_PUT("***", 3);
        p = at;
    }

    /* "password=..." among the parameters */
    q = strchr(p, '?');
    end = p + strlen(p);

    while (q != NULL) {
        q++;
        ROOMS_DB_PUT(p, (size_t) (q - p));
        p = q;

        if (strncasecmp(q, "password=", 9) == 0) {
            ROOMS_DB_PUT(q, 9);
            ROOMS_DB_PUT("***", 3);
            p = strchr(q, '&');

            if (p == NULL) {
                p = end;
            }
        }

        q = strchr(p, '&');
    }

    ROOMS_DB_PUT(p, (size_t) (end - p));

#undef ROOMS_DB_PUT

    out[o] = '\0';

    return out;
}


rooms_db_t *
rooms_db_open(const char *where, char *err, size_t errlen)
{
    if (where == NULL || where[0] == '\0') {
        snprintf(err, errlen, "no store given");
        return NULL;
    }

    if (rooms_db_is_uri(where)) {
        return rooms_db_pg_open(where, err, errlen);
    }

    return rooms_db_sqlite_open(where, err, errlen);
}


void
rooms_db_close(rooms_db_t *db)
{
    rooms_db_stmt_t  *s, *next;

    if (db == NULL) {
        return;
    }

    db->closing = 1;

    for (s = db->stmts; s != NULL; s = next) {
        next = s->next;
        free(s->sql);
        db->engine->finalize(s);
    }

    db->stmts = NULL;
    db->engine->close(db);
}


rooms_db_kind_t
rooms_db_kind(rooms_db_t *db)
{
    return db->kind;
}


void
rooms_db_set_wait(rooms_db_t *db, rooms_db_wait_pt wait, void *data)
{
    db->wait = wait;
    db->wait_data = data;
}


const char *
rooms_db_errmsg(rooms_db_t *db)
{
    return db->err[0] != '\0' ? db->err : "no error";
}


void
rooms_db_set_err(rooms_db_t *db, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(db->err, sizeof(db->err), fmt, args);
    va_end(args);
}


rooms_db_stmt_t *
rooms_db_prepare(rooms_db_t *db, const char *sql)
{
    size_t            len;
    rooms_db_stmt_t  *s;

    for (s = db->stmts; s != NULL; s = s->next) {
        if (!s->in_use && strcmp(s->sql, sql) == 0) {
            s->in_use = 1;
            return s;
        }
    }

    s = db->engine->prepare(db, sql);
    if (s == NULL) {
        return NULL;
    }

    len = strlen(sql);

    s->db = db;
    s->sql = malloc(len + 1);

    if (s->sql == NULL) {
        rooms_db_set_err(db, "out of memory");
        db->engine->finalize(s);
        return NULL;
    }

    memcpy(s->sql, sql, len + 1);
    s->in_use = 1;

    if (db->nstmts < ROOMS_DB_STMTS_MAX) {
        s->next = db->stmts;
        db->stmts = s;
        db->nstmts++;

    } else {
        s->next = s;        /* not kept: rooms_db_finalize() frees it */
    }

    return s;
}


void
rooms_db_finalize(rooms_db_stmt_t *stmt)
{
    if (stmt == NULL) {
        return;
    }

    stmt->db->engine->reset(stmt);

    if (stmt->next == stmt) {
        free(stmt->sql);
        stmt->db->engine->finalize(stmt);
        return;
    }

    stmt->in_use = 0;
}


int
rooms_db_bind_int(rooms_db_stmt_t *stmt, int i, int64_t v)
{
    return stmt->db->engine->bind_int(stmt, i, v);
}


int
rooms_db_bind_blob(rooms_db_stmt_t *stmt, int i, const void *p, size_t len)
{
    return stmt->db->engine->bind_blob(stmt, i, p, len);
}


int
rooms_db_bind_text(rooms_db_stmt_t *stmt, int i, const char *s)
{
    return stmt->db->engine->bind_text(stmt, i, s);
}


int
rooms_db_step(rooms_db_stmt_t *stmt)
{
    return stmt->db->engine->step(stmt);
}


int64_t
rooms_db_column_int(rooms_db_stmt_t *stmt, int col)
{
    return stmt->db->engine->column_int(stmt, col);
}


const void *
rooms_db_column_blob(rooms_db_stmt_t *stmt, int col)
{
    return stmt->db->engine->column_blob(stmt, col);
}


size_t
rooms_db_column_bytes(rooms_db_stmt_t *stmt, int col)
{
    return stmt->db->engine->column_bytes(stmt, col);
}


const char *
rooms_db_column_text(rooms_db_stmt_t *stmt, int col)
{
    return stmt->db->engine->column_text(stmt, col);
}


void
rooms_db_reset(rooms_db_stmt_t *stmt)
{
    stmt->db->engine->reset(stmt);
}


int64_t
rooms_db_changes(rooms_db_stmt_t *stmt)
{
    return stmt->db->engine->changes(stmt);
}


int
rooms_db_exec(rooms_db_t *db, const char *sql)
{
    return db->engine->exec(db, sql);
}


int
rooms_db_begin(rooms_db_t *db, int wait_ms)
{
    return db->engine->begin(db, wait_ms < 0 ? 0 : wait_ms);
}


int
rooms_db_commit(rooms_db_t *db)
{
    return db->engine->commit(db);
}


void
rooms_db_rollback(rooms_db_t *db)
{
    db->engine->rollback(db);
}


int
rooms_db_in_tx(rooms_db_t *db)
{
    return db->engine->in_tx(db);
}


int
rooms_db_version_get(rooms_db_t *db)
{
    return db->engine->version_get(db);
}


int
rooms_db_version_set(rooms_db_t *db, int version)
{
    return db->engine->version_set(db, version);
}


int
rooms_db_foreign(rooms_db_t *db)
{
    return db->engine->foreign(db);
}


/*
 * The length of what starts at p and is copied as it is: a string
 * literal, a quoted name or a comment (0 for anything else).  An
 * unterminated one runs to the end.
 */
static size_t
rooms_db_opaque(const char *p)
{
    const char  *q;

    if (p[0] == '\'' || p[0] == '"') {
        for (q = p + 1; *q != '\0'; q++) {
            if (*q == p[0]) {
                if (q[1] != p[0]) {         /* '' inside: a quote */
                    return (size_t) (q + 1 - p);
                }

                q++;
            }
        }

        return strlen(p);
    }

    if (p[0] == '-' && p[1] == '-') {
        q = strchr(p, '\n');
        return q != NULL ? (size_t) (q - p) : strlen(p);
    }

    if (p[0] == '/' && p[1] == '*') {
        q = strstr(p + 2, "*/");
        return q != NULL ? (size_t) (q + 2 - p) : strlen(p);
    }

    return 0;
}


char *
rooms_db_dollars(const char *sql)
{
    char    *out, *o;
    size_t   n;

    /* "?N" and "$N" have the same length */
    out = malloc(strlen(sql) + 1);
    if (out == NULL) {
        return NULL;
    }

    o = out;

    while (*sql != '\0') {
        n = rooms_db_opaque(sql);

        if (n > 0) {
            memcpy(o, sql, n);
            o += n;
            sql += n;
            continue;
        }

        *o++ = (*sql == '?' && isdigit((unsigned char) sql[1])) ? '$' : *sql;
        sql++;
    }

    *o = '\0';

    return out;
}


/* 1 when the word at p (of length n) is w, in any case */
static int
rooms_db_word_is(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(p, w, n) == 0;
}


/* the word after p's blanks: its start in *w, its length returned */
static size_t
rooms_db_next_word(const char *p, const char **w)
{
    const char  *q;

    while (isspace((unsigned char) *p)) {
        p++;
    }

    for (q = p; isalnum((unsigned char) *q) || *q == '_'; q++) {
        /* void */
    }

    *w = p;

    return (size_t) (q - p);
}


char *
rooms_db_ddl_pg(const char *sql)
{
    char        *out, *o;
    size_t       n, k;
    const char  *w, *w2, *w3, *put;

    /*
     * the longest growth: "INTEGER PRIMARY KEY" (19) becomes 51 bytes,
     * "BLOB" (4) 5: never more than 3 times the text
     */
    out = malloc(3 * strlen(sql) + 1);
    if (out == NULL) {
        return NULL;
    }

    o = out;

    while (*sql != '\0') {
        n = rooms_db_opaque(sql);

        if (n > 0) {
            memcpy(o, sql, n);
            o += n;
            sql += n;
            continue;
        }

        if (!isalpha((unsigned char) *sql) && *sql != '_') {
            *o++ = *sql++;
            continue;
        }

        n = rooms_db_next_word(sql, &w);
        put = NULL;
        k = n;

        if (rooms_db_word_is(w, n, "INTEGER")) {
            size_t  n2, n3;

            n2 = rooms_db_next_word(w + n, &w2);
            n3 = rooms_db_next_word(w2 + n2, &w3);

            if (rooms_db_word_is(w2, n2, "PRIMARY")
                && rooms_db_word_is(w3, n3, "KEY"))
            {
                put = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
                k = (size_t) (w3 + n3 - w);

            } else {
                put = "BIGINT";
            }

        } else if (rooms_db_word_is(w, n, "BLOB")) {
            put = "BYTEA";

        } else if (rooms_db_word_is(w, n, "AUTOINCREMENT")) {
            put = "";

        } else if (rooms_db_word_is(w, n, "WITHOUT")) {
            size_t  n2;

            n2 = rooms_db_next_word(w + n, &w2);

            if (rooms_db_word_is(w2, n2, "ROWID")) {
                put = "";
                k = (size_t) (w2 + n2 - w);
            }
        }

        if (put != NULL) {
            memcpy(o, put, strlen(put));
            o += strlen(put);

        } else {
            memcpy(o, w, n);
            o += n;
        }

        sql = w + k;
    }

    *o = '\0';

    return out;
}
