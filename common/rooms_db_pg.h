/*
 * rooms_db_pg.h: what the two files of rooms_db.h's PostgreSQL engine
 * share (rooms_db_pg.c: statements, transactions, the schema version;
 * rooms_db_pg_conn.c: the connection and every bounded wait on it), and
 * nothing else includes.
 *
 * Owns: the engine's connection and statement records, its bounds and
 * the lock's key.  Must never be included outside rooms_db_pg*.c.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, call json_, call rooms_store_, call rooms_people_, call rooms_sched_, call sqlite3_
 */

#ifndef ROOMS_DB_PG_H
#define ROOMS_DB_PG_H

#include <stdint.h>

#include <libpq-fe.h>

#include "rooms_db_int.h"


/*
 * The bounds (rooms_db_pg_conn.c says how they are kept).  A store statement answers in well under a
 * millisecond on a local server; these only stop a dead one from
 * stalling every request of an nginx worker for longer.
 */
#define ROOMS_DB_PG_CONNECT_MS    2000
#define ROOMS_DB_PG_ANSWER_MS     3000
#define ROOMS_DB_PG_STATEMENT_MS  2000
#define ROOMS_DB_PG_RETRY_MS      5000

/*
 * A row lock or the write lock another connection holds is waited for
 * this long, then BUSY: the time a few writers' commit flushes take on a
 * loaded server, short enough that the nginx worker waiting stalls no
 * one for long (SQLite's writes outside a transaction do not wait at
 * all: they hold its lock for microseconds).
 */
#define ROOMS_DB_PG_LOCK_MS       50

/* the advisory lock's key: the bytes of "rooms"; fixed (pg-log.md) */
#define ROOMS_DB_PG_LOCK_KEY      "491495845235"

/* PostgreSQL's type ids (pg_type.h, stable since long) */
#define ROOMS_DB_PG_INT8     20
#define ROOMS_DB_PG_TEXT     25
#define ROOMS_DB_PG_BYTEA    17
#define ROOMS_DB_PG_BOOL     16

/* the highest ?N a statement may use */
#define ROOMS_DB_PG_PARAMS_MAX  64


typedef struct {
    rooms_db_t   db;
    PGconn      *conn;           /* NULL while down */
    char        *uri;
    unsigned     gen;            /* bumped at each connection */
    unsigned     names;          /* statement names given */
    int64_t      retry_at;       /* ms, monotonic: no new try before */
    unsigned     tx_gen;         /* the connection a transaction is on */
    char         down[ROOMS_DB_ERR_LEN];   /* why the last try failed */
    unsigned     tx:1;           /* begun, not yet committed or rolled back */
    unsigned     ended:1;        /* the server said it ends the connection */
} rooms_db_pg_t;

typedef struct {
    rooms_db_stmt_t   s;
    char             *sql;                /* with $N */
    int               nparams;
    unsigned          writes:1;           /* INSERT, UPDATE, DELETE */
    unsigned          gen;                /* prepared on; 0: never */
    char              name[16];
    unsigned int      ptypes[ROOMS_DB_PG_PARAMS_MAX];  /* prepared with */

    unsigned int      types[ROOMS_DB_PG_PARAMS_MAX];   /* bound */
    char             *values[ROOMS_DB_PG_PARAMS_MAX];
    int               lengths[ROOMS_DB_PG_PARAMS_MAX];
    int               formats[ROOMS_DB_PG_PARAMS_MAX];

    PGresult         *res;
    int               row;                /* the current row, -1 before */
    int64_t           changes;
    unsigned char   **blobs;              /* decoded bytea, per column */
    size_t           *blob_lens;
    int               nblobs;
} rooms_db_pg_stmt_t;


/*
 * The connection (rooms_db_pg_conn.c).  Each call that fails keeps its
 * message in pg->db.err, never with the URI.
 */

/* A new connection to pg->uri within ROOMS_DB_PG_CONNECT_MS: 0 or -1. */
int rooms_db_pg_connect(rooms_db_pg_t *pg);

/*
 * A usable connection before a new exchange, made again when the server
 * ended the last one: 0, or -1 (down, or a transaction whose connection
 * went).
 */
int rooms_db_pg_ready(rooms_db_pg_t *pg);

/* Ends the connection; the next call may make a new one at once. */
void rooms_db_pg_drop(rooms_db_pg_t *pg);

/*
 * The answer to what was just sent, waited for at most
 * ROOMS_DB_PG_ANSWER_MS + wait_ms: the first error, or the last result;
 * NULL when none came in time or the connection broke (then dropped).
 */
PGresult *rooms_db_pg_results(rooms_db_pg_t *pg, int wait_ms);

/* sql (statements without parameters) sent and answered, or NULL. */
PGresult *rooms_db_pg_query(rooms_db_pg_t *pg, const char *sql, int wait_ms);

/* The one integer (or boolean) a query answers, or -1. */
int64_t rooms_db_pg_int(rooms_db_pg_t *pg, const char *sql);

/* 1 when res is a success; 1 when it failed for a lock not had in time */
int rooms_db_pg_ok(PGresult *res);
int rooms_db_pg_busy(PGresult *res);

/* pg's message: what, then libpq's msg on one line */
void rooms_db_pg_err(rooms_db_pg_t *pg, const char *what, const char *msg);

int64_t rooms_db_pg_now(void);


#endif /* ROOMS_DB_PG_H */
