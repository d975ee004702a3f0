/*
 * rooms_db_pg.c: rooms_db.h's PostgreSQL engine, through libpq.
 *
 * Owns: named prepared statements on the connection (rooms_db_pg_conn.c
 * keeps the connection itself), their parameters and rows, the write
 * lock as a transaction-level advisory lock, and the schema version's own
 * one-row table (rooms_db_version).  Must never hold a table name or a
 * statement of the product, and never put the URI (its password) in a
 * message.
 *
 * Types.  A parameter's type is the type it was bound with (int8, text
 * or bytea): the statement is prepared at its first run, when those are
 * known, and again if a later run binds other types.  So "?2 - ?3" needs
 * no cast.  Rows come as text (bytea decoded once per cell).  Statements
 * are prepared again after a reconnection (the server forgot them).
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, call json_, call rooms_store_, call rooms_people_, call rooms_sched_, call sqlite3_
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rooms_db_pg.h"


static const rooms_db_engine_t  rooms_db_pg_engine;


rooms_db_t *
rooms_db_pg_open(const char *uri, char *err, size_t errlen)
{
    char               *msg;
    rooms_db_pg_t      *pg;
    PQconninfoOption   *opts;

    /* libpq's own message may quote a piece of the URI: not given */
    msg = NULL;
    opts = PQconninfoParse(uri, &msg);

    if (opts == NULL) {
        PQfreemem(msg);
        snprintf(err, errlen, "the PostgreSQL URI cannot be read (its form: "
                 "postgresql://user:password@host:port/database?param=value,"
                 " or postgresql:///database?host=/socket/folder)");
        return NULL;
    }

    PQconninfoFree(opts);

    pg = calloc(1, sizeof(rooms_db_pg_t));
    if (pg == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    pg->db.kind = ROOMS_DB_POSTGRESQL;
    pg->db.engine = &rooms_db_pg_engine;
    pg->uri = strdup(uri);

    if (pg->uri == NULL || rooms_db_pg_connect(pg) != 0) {
        snprintf(err, errlen, "%s",
                 pg->uri != NULL ? pg->db.err : "out of memory");
        rooms_db_close(&pg->db);
        return NULL;
    }

    return &pg->db;
}


static void
rooms_db_pg_close(rooms_db_t *db)
{
    rooms_db_pg_t  *pg = (rooms_db_pg_t *) db;

    if (pg->conn != NULL) {
        PQfinish(pg->conn);
    }

    if (pg->uri != NULL) {
        /* the password is not left in freed memory */
        memset(pg->uri, 0, strlen(pg->uri));
        free(pg->uri);
    }

    free(pg);
}


static rooms_db_stmt_t *
rooms_db_pg_prepare(rooms_db_t *db, const char *sql)
{
    int                  n;
    const char          *p;
    rooms_db_pg_t       *pg = (rooms_db_pg_t *) db;
    rooms_db_pg_stmt_t  *s;

    s = calloc(1, sizeof(rooms_db_pg_stmt_t));
    if (s == NULL) {
        rooms_db_set_err(db, "out of memory");
        return NULL;
    }

    s->s.db = db;
    s->row = -1;
    s->sql = rooms_db_dollars(sql);

    if (s->sql == NULL) {
        rooms_db_set_err(db, "out of memory");
        free(s);
        return NULL;
    }

    /* the highest $N (literals hold none: rooms_db_dollars left them) */
    for (p = s->sql; (p = strchr(p, '$')) != NULL; p++) {
        n = atoi(p + 1);

        if (n > s->nparams) {
            s->nparams = n;
        }
    }

    if (s->nparams > ROOMS_DB_PG_PARAMS_MAX) {
        rooms_db_set_err(db, "a statement has more than %d parameters",
                         ROOMS_DB_PG_PARAMS_MAX);
        free(s->sql);
        free(s);
        return NULL;
    }

    snprintf(s->name, sizeof(s->name), "r%u", ++pg->names);

    for (p = sql; *p == ' ' || *p == '\n' || *p == '\t'; p++) {
        /* void */
    }

    s->writes = strncasecmp(p, "INSERT", 6) == 0
                || strncasecmp(p, "UPDATE", 6) == 0
                || strncasecmp(p, "DELETE", 6) == 0;

    return &s->s;
}


static void
rooms_db_pg_clear(rooms_db_pg_stmt_t *s)
{
    int  i;

    PQclear(s->res);
    s->res = NULL;
    s->row = -1;

    for (i = 0; i < s->nblobs; i++) {
        if (s->blobs[i] != NULL) {
            PQfreemem(s->blobs[i]);
            s->blobs[i] = NULL;
        }
    }
}


static void
rooms_db_pg_reset(rooms_db_stmt_t *stmt)
{
    int                  i;
    rooms_db_pg_stmt_t  *s = (rooms_db_pg_stmt_t *) stmt;

    rooms_db_pg_clear(s);

    for (i = 0; i < s->nparams; i++) {
        free(s->values[i]);
        s->values[i] = NULL;
        s->types[i] = 0;
        s->lengths[i] = 0;
        s->formats[i] = 0;
    }
}


static void
rooms_db_pg_finalize(rooms_db_stmt_t *stmt)
{
    char                 sql[48];
    PGresult            *res;
    rooms_db_pg_t       *pg = (rooms_db_pg_t *) stmt->db;
    rooms_db_pg_stmt_t  *s = (rooms_db_pg_stmt_t *) stmt;

    rooms_db_pg_reset(stmt);

    /* one not kept by rooms_db.c goes from the server too */
    if (!pg->db.closing && pg->conn != NULL && s->gen == pg->gen
        && PQtransactionStatus(pg->conn) == PQTRANS_IDLE)
    {
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
        res = rooms_db_pg_query(pg, sql, 0);
        PQclear(res);
    }

    free(s->blobs);
    free(s->blob_lens);
    free(s->sql);
    free(s);
}


static int
rooms_db_pg_bind(rooms_db_stmt_t *stmt, int i, unsigned type, int format,
    const void *p, size_t len)
{
    char                *v;
    rooms_db_pg_stmt_t  *s = (rooms_db_pg_stmt_t *) stmt;

    if (i < 1 || i > s->nparams) {
        rooms_db_set_err(stmt->db, "no parameter %d in the statement", i);
        return ROOMS_DB_ERROR;
    }

    if (len > 0x7fffffff) {
        rooms_db_set_err(stmt->db, "a parameter of %zu bytes", len);
        return ROOMS_DB_ERROR;
    }

    v = malloc(len + 1);
    if (v == NULL) {
        rooms_db_set_err(stmt->db, "out of memory");
        return ROOMS_DB_ERROR;
    }

    if (len > 0) {
        memcpy(v, p, len);
    }

    v[len] = '\0';

    i--;
    free(s->values[i]);
    s->values[i] = v;
    s->types[i] = type;
    s->lengths[i] = (int) len;
    s->formats[i] = format;

    return 0;
}


static int
rooms_db_pg_bind_int(rooms_db_stmt_t *stmt, int i, int64_t v)
{
    char  buf[24];
    int   n;

    n = snprintf(buf, sizeof(buf), "%lld", (long long) v);

    return rooms_db_pg_bind(stmt, i, ROOMS_DB_PG_INT8, 0, buf, (size_t) n);
}


static int
rooms_db_pg_bind_blob(rooms_db_stmt_t *stmt, int i, const void *p,
    size_t len)
{
    /* bytea in binary: the bytes as they are */
    return rooms_db_pg_bind(stmt, i, ROOMS_DB_PG_BYTEA, 1, p, len);
}


static int
rooms_db_pg_bind_text(rooms_db_stmt_t *stmt, int i, const char *t)
{
    return rooms_db_pg_bind(stmt, i, ROOMS_DB_PG_TEXT, 0, t, strlen(t));
}


/* Prepares s on this connection with the types bound now: 0 or -1. */
static int
rooms_db_pg_prepare_now(rooms_db_pg_t *pg, rooms_db_pg_stmt_t *s)
{
    PGresult  *res;

    if (s->gen == pg->gen
        && memcmp(s->ptypes, s->types, s->nparams * sizeof(s->types[0]))
           == 0)
    {
        return 0;
    }

    if (s->gen == pg->gen) {
        /* other types than before: a new name (the old one dropped) */
        char  sql[48];

        snprintf(sql, sizeof(sql), "DEALLOCATE %s", s->name);
        res = rooms_db_pg_query(pg, sql, 0);

        if (!rooms_db_pg_ok(res)) {
            PQclear(res);
            return -1;
        }

        PQclear(res);
        snprintf(s->name, sizeof(s->name), "r%u", ++pg->names);
    }

    s->gen = 0;

    if (!PQsendPrepare(pg->conn, s->name, s->sql, s->nparams,
                       (const Oid *) s->types))
    {
        rooms_db_pg_err(pg, "PostgreSQL unavailable",
                        PQerrorMessage(pg->conn));
        rooms_db_pg_drop(pg);
        return -1;
    }

    res = rooms_db_pg_results(pg, 0);

    if (!rooms_db_pg_ok(res)) {
        PQclear(res);
        return -1;
    }

    PQclear(res);

    memcpy(s->ptypes, s->types, sizeof(s->types));
    s->gen = pg->gen;

    return 0;
}


static int
rooms_db_pg_run(rooms_db_pg_t *pg, rooms_db_pg_stmt_t *s)
{
    int          n;
    PGresult    *res;
    const char  *tag;

    if (rooms_db_pg_ready(pg) != 0 || rooms_db_pg_prepare_now(pg, s) != 0) {
        return ROOMS_DB_ERROR;
    }

    if (!PQsendQueryPrepared(pg->conn, s->name, s->nparams,
                             (const char *const *) s->values, s->lengths,
                             s->formats, 0))
    {
        rooms_db_pg_err(pg, "PostgreSQL unavailable",
                        PQerrorMessage(pg->conn));
        rooms_db_pg_drop(pg);
        return ROOMS_DB_ERROR;
    }

    res = rooms_db_pg_results(pg, 0);

    if (!rooms_db_pg_ok(res)) {
        n = rooms_db_pg_busy(res) ? ROOMS_DB_BUSY : ROOMS_DB_ERROR;
        PQclear(res);
        return n;
    }

    s->res = res;
    s->row = -1;

    tag = PQcmdStatus(res);
    s->changes = strncmp(tag, "INSERT", 6) == 0
                 || strncmp(tag, "UPDATE", 6) == 0
                 || strncmp(tag, "DELETE", 6) == 0
                 ? atoll(PQcmdTuples(res)) : 0;

    n = PQnfields(res);

    if (n > s->nblobs) {
        free(s->blobs);
        free(s->blob_lens);
        s->blobs = calloc(n, sizeof(s->blobs[0]));
        s->blob_lens = calloc(n, sizeof(s->blob_lens[0]));

        if (s->blobs == NULL || s->blob_lens == NULL) {
            s->nblobs = 0;
            rooms_db_set_err(&pg->db, "out of memory");
            return ROOMS_DB_ERROR;
        }

        s->nblobs = n;
    }

    return ROOMS_DB_DONE;
}


static int rooms_db_pg_begin(rooms_db_t *db, int wait_ms);
static int rooms_db_pg_commit(rooms_db_t *db);
static void rooms_db_pg_rollback(rooms_db_t *db);
static int rooms_db_pg_in_tx(rooms_db_t *db);


static int
rooms_db_pg_step(rooms_db_stmt_t *stmt)
{
    int                  i, rc;
    rooms_db_pg_t       *pg = (rooms_db_pg_t *) stmt->db;
    rooms_db_pg_stmt_t  *s = (rooms_db_pg_stmt_t *) stmt;

    if (s->res == NULL) {
        /*
         * A write outside a transaction takes the write lock as SQLite's
         * does: it never slips between the reads and writes of another
         * connection's transaction (a revision read and bumped).  Three
         * exchanges instead of one; the commit's flush costs more than
         * they do (docs/scaling.md).  Unlike SQLite's, it waits for the
         * lock, ROOMS_DB_PG_LOCK_MS at most: a PostgreSQL writer holds it
         * through its commit's flush, milliseconds rather than SQLite's
         * microseconds, so a one-statement write that did not wait met
         * another worker's background write now and then (503
         * storage_busy, t/033 under make test-pg once in four runs).
         */
        if (s->writes && !rooms_db_pg_in_tx(stmt->db)) {
            rc = rooms_db_pg_begin(stmt->db, ROOMS_DB_PG_LOCK_MS);

            if (rc != ROOMS_DB_DONE) {
                return rc;
            }

            rc = rooms_db_pg_run(pg, s);

            if (rc == ROOMS_DB_DONE) {
                rc = rooms_db_pg_commit(stmt->db);

            } else {
                rooms_db_pg_rollback(stmt->db);
            }

            if (rc != ROOMS_DB_DONE) {
                rooms_db_pg_clear(s);
                return rc;
            }

        } else {
            rc = rooms_db_pg_run(pg, s);

            /*
             * A read outside a transaction whose connection broke (not
             * one that did not answer in time) runs once more, on a new
             * connection: the server may have ended the old one an
             * instant before, unseen.  A read changes nothing.
             */
            if (rc == ROOMS_DB_ERROR && !s->writes
                && !rooms_db_pg_in_tx(stmt->db) && pg->conn == NULL
                && pg->retry_at == 0)
            {
                rc = rooms_db_pg_run(pg, s);
            }

            if (rc != ROOMS_DB_DONE) {
                return rc;
            }
        }
    }

    for (i = 0; i < s->nblobs; i++) {
        if (s->blobs[i] != NULL) {
            PQfreemem(s->blobs[i]);
            s->blobs[i] = NULL;
        }
    }

    if (s->row + 1 < PQntuples(s->res)) {
        s->row++;
        return ROOMS_DB_ROW;
    }

    s->row = PQntuples(s->res);

    return ROOMS_DB_DONE;
}


/* The cell's text, or NULL (no row, no column, SQL NULL). */
static const char *
rooms_db_pg_cell(rooms_db_pg_stmt_t *s, int col)
{
    if (s->res == NULL || s->row < 0 || s->row >= PQntuples(s->res)
        || col < 0 || col >= PQnfields(s->res)
        || PQgetisnull(s->res, s->row, col))
    {
        return NULL;
    }

    return PQgetvalue(s->res, s->row, col);
}


static int64_t
rooms_db_pg_column_int(rooms_db_stmt_t *stmt, int col)
{
    const char  *v;

    v = rooms_db_pg_cell((rooms_db_pg_stmt_t *) stmt, col);

    if (v == NULL) {
        return 0;
    }

    /* a boolean comes as "t" or "f" */
    if (v[0] == 't' || v[0] == 'f') {
        return v[0] == 't';
    }

    return strtoll(v, NULL, 10);
}


static const void *
rooms_db_pg_column_blob(rooms_db_stmt_t *stmt, int col)
{
    size_t               n;
    const char          *v;
    rooms_db_pg_stmt_t  *s = (rooms_db_pg_stmt_t *) stmt;

    v = rooms_db_pg_cell(s, col);

    if (v == NULL) {
        return NULL;
    }

    if (PQftype(s->res, col) != ROOMS_DB_PG_BYTEA) {
        return v;
    }

    if (s->blobs[col] == NULL) {
        s->blobs[col] = PQunescapeBytea((const unsigned char *) v, &n);
        s->blob_lens[col] = s->blobs[col] != NULL ? n : 0;
    }

    return s->blobs[col];
}


static size_t
rooms_db_pg_column_bytes(rooms_db_stmt_t *stmt, int col)
{
    rooms_db_pg_stmt_t  *s = (rooms_db_pg_stmt_t *) stmt;

    if (rooms_db_pg_cell(s, col) == NULL) {
        return 0;
    }

    if (PQftype(s->res, col) != ROOMS_DB_PG_BYTEA) {
        return (size_t) PQgetlength(s->res, s->row, col);
    }

    (void) rooms_db_pg_column_blob(stmt, col);

    return s->blob_lens[col];
}


static const char *
rooms_db_pg_column_text(rooms_db_stmt_t *stmt, int col)
{
    return rooms_db_pg_cell((rooms_db_pg_stmt_t *) stmt, col);
}


static int64_t
rooms_db_pg_changes(rooms_db_stmt_t *stmt)
{
    return ((rooms_db_pg_stmt_t *) stmt)->changes;
}


static int
rooms_db_pg_exec(rooms_db_t *db, const char *sql)
{
    int             rc;
    char           *ddl;
    PGresult       *res;
    rooms_db_pg_t  *pg = (rooms_db_pg_t *) db;

    ddl = rooms_db_ddl_pg(sql);
    if (ddl == NULL) {
        rooms_db_set_err(db, "out of memory");
        return -1;
    }

    res = rooms_db_pg_query(pg, ddl, 0);
    free(ddl);

    rc = rooms_db_pg_ok(res) ? 0 : -1;
    PQclear(res);

    return rc;
}


/* 1 when the server has a transaction open on this connection */
static int
rooms_db_pg_open_tx(rooms_db_pg_t *pg)
{
    if (pg->conn == NULL) {
        return 0;
    }

    switch (PQtransactionStatus(pg->conn)) {
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
    case PQTRANS_ACTIVE:
        return 1;
    default:
        return 0;
    }
}


/*
 * Inside a transaction: one begun and not ended by the caller (even when
 * its connection went: the caller still ends it), or one the server has.
 */
static int
rooms_db_pg_in_tx(rooms_db_t *db)
{
    rooms_db_pg_t  *pg = (rooms_db_pg_t *) db;

    return pg->tx || rooms_db_pg_open_tx(pg);
}


static void
rooms_db_pg_rollback(rooms_db_t *db)
{
    PGresult       *res;
    rooms_db_pg_t  *pg = (rooms_db_pg_t *) db;
    char            keep[ROOMS_DB_ERR_LEN];

    pg->tx = 0;

    if (!rooms_db_pg_open_tx(pg)) {
        return;
    }

    /* the message of what failed stays: ROLLBACK's own is not kept */
    memcpy(keep, db->err, sizeof(keep));
    res = rooms_db_pg_query(pg, "ROLLBACK", 0);
    PQclear(res);
    memcpy(db->err, keep, sizeof(keep));
}


static int
rooms_db_pg_begin(rooms_db_t *db, int wait_ms)
{
    int             rc;
    char            sql[256];
    PGresult       *res;
    rooms_db_pg_t  *pg = (rooms_db_pg_t *) db;

    if (pg->tx) {
        rooms_db_set_err(db, "a transaction is already open");
        return ROOMS_DB_ERROR;
    }

    db->err[0] = '\0';

    if (wait_ms == 0) {
        snprintf(sql, sizeof(sql), "BEGIN;"
                 " SELECT pg_try_advisory_xact_lock(" ROOMS_DB_PG_LOCK_KEY
                 ")");

    } else {
        snprintf(sql, sizeof(sql), "BEGIN; SET LOCAL lock_timeout = %d;"
                 " SELECT pg_advisory_xact_lock(" ROOMS_DB_PG_LOCK_KEY ");"
                 " SET LOCAL lock_timeout = %d", wait_ms,
                 ROOMS_DB_PG_LOCK_MS);
    }

    res = rooms_db_pg_query(pg, sql, wait_ms);

    /* a connection that broke unseen: BEGIN changed nothing, once more */
    if (res == NULL && pg->conn == NULL && pg->retry_at == 0) {
        res = rooms_db_pg_query(pg, sql, wait_ms);
    }

    if (rooms_db_pg_ok(res)) {
        rc = ROOMS_DB_DONE;

        /* pg_try_advisory_xact_lock() said "f": another holds it */
        if (wait_ms == 0 && PQntuples(res) == 1
            && strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        {
            rooms_db_set_err(db, "the store's write lock is held by "
                             "another connection");
            rc = ROOMS_DB_BUSY;
        }

    } else {
        rc = rooms_db_pg_busy(res) ? ROOMS_DB_BUSY : ROOMS_DB_ERROR;
    }

    PQclear(res);

    if (rc != ROOMS_DB_DONE) {
        rooms_db_pg_rollback(db);
        return rc;
    }

    pg->tx = 1;
    pg->tx_gen = pg->gen;

    return rc;
}


static int
rooms_db_pg_commit(rooms_db_t *db)
{
    int             rc;
    PGresult       *res;
    rooms_db_pg_t  *pg = (rooms_db_pg_t *) db;

    /* none open, or its connection went: nothing can be committed */
    if (!pg->tx || pg->conn == NULL || pg->tx_gen != pg->gen
        || !rooms_db_pg_open_tx(pg))
    {
        if (pg->tx) {
            rooms_db_set_err(db, "PostgreSQL unavailable: the connection "
                             "was lost inside a transaction, which is "
                             "rolled back");

        } else {
            rooms_db_set_err(db, "no transaction to commit");
        }

        rooms_db_pg_rollback(db);
        return ROOMS_DB_ERROR;
    }

    if (pg->conn != NULL
        && PQtransactionStatus(pg->conn) == PQTRANS_INERROR)
    {
        /* a statement failed: its message stays, nothing is committed */
        rooms_db_pg_rollback(db);
        return ROOMS_DB_ERROR;
    }

    pg->tx = 0;
    res = rooms_db_pg_query(pg, "COMMIT", 0);

    /* a transaction that failed answers COMMIT with ROLLBACK */
    rc = rooms_db_pg_ok(res) && strcmp(PQcmdStatus(res), "COMMIT") == 0
         ? ROOMS_DB_DONE : ROOMS_DB_ERROR;

    if (rc != ROOMS_DB_DONE && rooms_db_pg_ok(res)) {
        rooms_db_set_err(db, "PostgreSQL rolled the transaction back");
    }

    PQclear(res);

    if (rc != ROOMS_DB_DONE) {
        rooms_db_pg_rollback(db);
    }

    return rc;
}


static int
rooms_db_pg_version_get(rooms_db_t *db)
{
    int64_t         has;
    rooms_db_pg_t  *pg = (rooms_db_pg_t *) db;

    has = rooms_db_pg_int(pg, "SELECT to_regclass('rooms_db_version')"
                              " IS NOT NULL");

    if (has <= 0) {
        return (int) has;
    }

    return (int) rooms_db_pg_int(pg, "SELECT coalesce(max(version), 0)"
                                     " FROM rooms_db_version");
}


static int
rooms_db_pg_version_set(rooms_db_t *db, int version)
{
    int             rc;
    int64_t         has;
    char            sql[256];
    PGresult       *res;
    rooms_db_pg_t  *pg = (rooms_db_pg_t *) db;

    /*
     * The table is made only when missing: a user that may write the
     * store's tables but not create any (a DBA's migration user made
     * them) can still prove the store writable.
     */
    has = rooms_db_pg_int(pg, "SELECT to_regclass('rooms_db_version')"
                              " IS NOT NULL");

    if (has < 0) {
        return -1;
    }

    snprintf(sql, sizeof(sql),
             "%s DELETE FROM rooms_db_version;"
             " INSERT INTO rooms_db_version (version) VALUES (%d)",
             has ? "" : "CREATE TABLE rooms_db_version"
                        " (version BIGINT NOT NULL);", version);

    res = rooms_db_pg_query(pg, sql, 0);
    rc = rooms_db_pg_ok(res) ? 0 : -1;
    PQclear(res);

    return rc;
}


static int
rooms_db_pg_foreign(rooms_db_t *db)
{
    int             version;
    int64_t         tables;
    rooms_db_pg_t  *pg = (rooms_db_pg_t *) db;

    version = rooms_db_pg_version_get(db);

    if (version != 0) {
        return version < 0 ? -1 : 0;
    }

    tables = rooms_db_pg_int(pg, "SELECT count(*) FROM pg_catalog.pg_tables"
                                 " WHERE schemaname = current_schema()"
                                 " AND tablename <> 'rooms_db_version'");

    return tables < 0 ? -1 : tables > 0;
}


static const rooms_db_engine_t  rooms_db_pg_engine = {
    rooms_db_pg_close,
    rooms_db_pg_prepare,
    rooms_db_pg_finalize,
    rooms_db_pg_bind_int,
    rooms_db_pg_bind_blob,
    rooms_db_pg_bind_text,
    rooms_db_pg_step,
    rooms_db_pg_column_int,
    rooms_db_pg_column_blob,
    rooms_db_pg_column_bytes,
    rooms_db_pg_column_text,
    rooms_db_pg_reset,
    rooms_db_pg_changes,
    rooms_db_pg_exec,
    rooms_db_pg_begin,
    rooms_db_pg_commit,
    rooms_db_pg_rollback,
    rooms_db_pg_in_tx,
    rooms_db_pg_version_get,
    rooms_db_pg_version_set,
    rooms_db_pg_foreign,
};
