/*
 * rooms_db_int.h: what rooms_db.c shares with its two engines
 * (rooms_db_sqlite.c, rooms_db_pg.c), and nothing else includes.
 *
 * Owns: the connection and statement records every engine starts with,
 * and the table of an engine's calls.  Must never be included outside
 * rooms_db*.c: the store's files see rooms_db.h only.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, call json_, call rooms_store_, call rooms_people_, call rooms_sched_
 */

#ifndef ROOMS_DB_INT_H
#define ROOMS_DB_INT_H

#include "rooms_db.h"


/* an error message: an engine's text plus the file or server it names */
#define ROOMS_DB_ERR_LEN  512


typedef struct {
    void              (*close)(rooms_db_t *db);

    /* a new statement of the engine (its record starts with the shared) */
    rooms_db_stmt_t  *(*prepare)(rooms_db_t *db, const char *sql);
    void              (*finalize)(rooms_db_stmt_t *stmt);

    int               (*bind_int)(rooms_db_stmt_t *stmt, int i, int64_t v);
    int               (*bind_blob)(rooms_db_stmt_t *stmt, int i,
                                   const void *p, size_t len);
    int               (*bind_text)(rooms_db_stmt_t *stmt, int i,
                                   const char *s);
    int               (*step)(rooms_db_stmt_t *stmt);
    int64_t           (*column_int)(rooms_db_stmt_t *stmt, int col);
    const void       *(*column_blob)(rooms_db_stmt_t *stmt, int col);
    size_t            (*column_bytes)(rooms_db_stmt_t *stmt, int col);
    const char       *(*column_text)(rooms_db_stmt_t *stmt, int col);
    void              (*reset)(rooms_db_stmt_t *stmt);
    int64_t           (*changes)(rooms_db_stmt_t *stmt);

    int               (*exec)(rooms_db_t *db, const char *sql);
    int               (*begin)(rooms_db_t *db, int wait_ms);
    int               (*commit)(rooms_db_t *db);
    void              (*rollback)(rooms_db_t *db);
    int               (*in_tx)(rooms_db_t *db);

    int               (*version_get)(rooms_db_t *db);
    int               (*version_set)(rooms_db_t *db, int version);
    int               (*foreign)(rooms_db_t *db);
} rooms_db_engine_t;


/* the first member of each engine's connection record */
struct rooms_db_s {
    rooms_db_kind_t           kind;
    const rooms_db_engine_t  *engine;
    rooms_db_stmt_t          *stmts;        /* every statement kept */
    unsigned                  nstmts;
    unsigned                  closing:1;    /* in rooms_db_close() */
    rooms_db_wait_pt          wait;         /* NULL: poll(), sleep */
    void                     *wait_data;
    char                      err[ROOMS_DB_ERR_LEN];
};

/* the first member of each engine's statement record */
struct rooms_db_stmt_s {
    rooms_db_t               *db;
    rooms_db_stmt_t          *next;         /* in db->stmts */
    char                     *sql;          /* as the caller wrote it */
    unsigned                  in_use:1;     /* prepared, not finalized */
};


/* the engines' openers: NULL with a message in err (never a password) */
rooms_db_t *rooms_db_sqlite_open(const char *path, char *err, size_t errlen);
rooms_db_t *rooms_db_pg_open(const char *uri, char *err, size_t errlen);

/*
 * The dialect's "?N" parameters as PostgreSQL's "$N", outside string
 * literals, quoted names and comments: a malloc()ed copy, or NULL.
 */
char *rooms_db_dollars(const char *sql);

/*
 * SQLite's DDL in PostgreSQL's words (rooms_db.h lists them): a
 * malloc()ed copy, or NULL.
 */
char *rooms_db_ddl_pg(const char *sql);

/* Sets db's message (printf-style), for the engines. */
void rooms_db_set_err(rooms_db_t *db, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;


#endif /* ROOMS_DB_INT_H */
