/*
 * rooms_db_pg_conn.c: the connection of rooms_db.h's PostgreSQL engine:
 * made, watched, made again, and every wait on it bounded.
 *
 * Owns: the libpq connection's life (connecting, the server's own bounds
 * set on it, a server that ended it, a dropped one made again) and the
 * exchanges' deadlines.  Must never hold a table name or a statement of
 * the product, and never put the URI (its password) in a message.
 *
 * Bounded waits.  A database that stops answering must not hold its
 * caller for long.  Every exchange is sent with libpq's asynchronous
 * calls and waited for against a deadline of our own, with poll() or the
 * caller's wait (rooms_db_set_wait(): the module's fibers suspend on
 * nginx's events instead): ROOMS_DB_PG_ANSWER_MS for a
 * statement (plus the lock wait a rooms_db_begin() was given), and
 * ROOMS_DB_PG_CONNECT_MS for a connection.  Past it the connection is
 * dropped (a server that is stopped, or a host gone from the network,
 * answers no cancel either) and the call fails.  The server's own
 * statement_timeout (ROOMS_DB_PG_STATEMENT_MS, shorter) ends a slow
 * statement first, keeping the connection.  A dropped connection is made
 * again at the next call; after a failed try, or a server that did not
 * answer, at most once per ROOMS_DB_PG_RETRY_MS: while the server stays
 * down, calls fail at once between tries.  Only the name lookup of a
 * host name (getaddrinfo, inside libpq) is not bounded here: a Unix
 * socket path or an address avoids it.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, call json_, call rooms_store_, call rooms_people_, call rooms_sched_, call sqlite3_
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rooms_db_pg.h"


int64_t
rooms_db_pg_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* libpq's message, on one line, without its trailing newline */
void
rooms_db_pg_err(rooms_db_pg_t *pg, const char *what, const char *msg)
{
    char    *p;
    size_t   n;

    if (msg == NULL || msg[0] == '\0') {
        msg = "no message";
    }

    rooms_db_set_err(&pg->db, "%s%s%s", what, what[0] ? ": " : "", msg);

    n = strlen(pg->db.err);

    while (n > 0 && (pg->db.err[n - 1] == '\n' || pg->db.err[n - 1] == ' ')) {
        pg->db.err[--n] = '\0';
    }

    for (p = pg->db.err; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\t') {
            *p = ' ';
        }
    }
}


/*
 * A failed result's message: the server's primary text (and its detail),
 * without libpq's "ERROR:" and the statement's position lines.
 */
void
rooms_db_pg_res_err(rooms_db_pg_t *pg, PGresult *res)
{
    const char  *primary, *detail;

    primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

    if (primary == NULL) {
        rooms_db_pg_err(pg, "PostgreSQL", PQresultErrorMessage(res));
        return;
    }

    rooms_db_set_err(&pg->db, "PostgreSQL: %s%s%s", primary,
                     detail != NULL ? " (" : "",
                     detail != NULL ? detail : "");

    if (detail != NULL) {
        size_t  n = strlen(pg->db.err);

        if (n + 1 < sizeof(pg->db.err)) {
            pg->db.err[n] = ')';
            pg->db.err[n + 1] = '\0';
        }
    }
}


/*
 * libpq's notices (a "skipping" of IF NOT EXISTS) are not for stderr.
 * One of severity FATAL is the server saying, while the connection was
 * idle, that it ends it (a restart, an administrator): noted, so that
 * the next call connects again rather than speak to a closing socket.
 */
static void
rooms_db_pg_notice(void *arg, const PGresult *res)
{
    const char     *severity;
    rooms_db_pg_t  *pg = arg;

    severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

    if (severity != NULL
        && (strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0))
    {
        pg->ended = 1;
    }
}


/*
 * Waits until the socket is ready for what libpq asks (in), or the
 * deadline passes: 1 ready, 0 the deadline, -1 an error.  With a wait
 * of the caller's (rooms_db_set_wait()), that waits instead of poll():
 * the module suspends the handler and nginx's event loop goes on.
 */
static int
rooms_db_pg_poll(rooms_db_pg_t *pg, int in, int64_t deadline)
{
    int            n;
    int64_t        left;
    struct pollfd  pfd;

    for ( ;; ) {
        left = deadline - rooms_db_pg_now();

        if (left <= 0) {
            return 0;
        }

        pfd.fd = PQsocket(pg->conn);
        pfd.events = in ? POLLIN : POLLOUT;
        pfd.revents = 0;

        if (pfd.fd < 0) {
            return -1;
        }

        if (pg->db.wait != NULL) {
            n = pg->db.wait(pg->db.wait_data, pfd.fd, in, (int) left);

            if (n != 0) {
                return n;
            }

            continue;
        }

        n = poll(&pfd, 1, (int) left);

        if (n > 0) {
            return 1;
        }

        if (n < 0 && errno != EINTR) {
            return -1;
        }
    }
}


/* A new connection, or -1 with the message kept (and a retry time). */
int
rooms_db_pg_connect(rooms_db_pg_t *pg)
{
    int                     ready;
    int64_t                 deadline;
    PGresult               *res;
    PostgresPollingStatusType  st;
    char                    sql[256];

    /*
     * Ours first, so that the URI's own (after the expanded dbname)
     * wins: a connect timeout for libpq too, and keepalives that find a
     * vanished peer on TCP.
     */
    static const char *const  keys[] = {
        "connect_timeout", "keepalives", "keepalives_idle",
        "keepalives_interval", "keepalives_count", "tcp_user_timeout",
        "application_name", "dbname", NULL
    };
    const char               *values[9];

    values[0] = "2";
    values[1] = "1";
    values[2] = "5";
    values[3] = "2";
    values[4] = "2";
    values[5] = "5000";
    values[6] = "ngx_rooms";
    values[7] = pg->uri;
    values[8] = NULL;

    deadline = rooms_db_pg_now() + ROOMS_DB_PG_CONNECT_MS;
    pg->retry_at = rooms_db_pg_now() + ROOMS_DB_PG_RETRY_MS;

    pg->conn = PQconnectStartParams(keys, values, 1);

    if (pg->conn == NULL) {
        rooms_db_set_err(&pg->db, "PostgreSQL unavailable: out of memory");
        return -1;
    }

    st = PGRES_POLLING_WRITING;

    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED
            || PQstatus(pg->conn) == CONNECTION_BAD)
        {
            rooms_db_pg_err(pg, "PostgreSQL unavailable",
                            PQerrorMessage(pg->conn));
            goto failed;
        }

        ready = rooms_db_pg_poll(pg, st == PGRES_POLLING_READING,
                                 deadline);

        if (ready == 0) {
            rooms_db_set_err(&pg->db, "PostgreSQL unavailable: no "
                             "connection within %d ms",
                             ROOMS_DB_PG_CONNECT_MS);
            goto failed;
        }

        if (ready < 0) {
            rooms_db_pg_err(pg, "PostgreSQL unavailable",
                            PQerrorMessage(pg->conn));
            goto failed;
        }

        st = PQconnectPoll(pg->conn);
    }

    PQsetNoticeReceiver(pg->conn, rooms_db_pg_notice, pg);
    pg->ended = 0;

    pg->gen++;

    /* the server's own bounds, and no NOTICE at all */
    snprintf(sql, sizeof(sql),
             "SET statement_timeout = %d; SET lock_timeout = %d;"
             " SET idle_in_transaction_session_timeout = %d;"
             " SET client_min_messages = warning",
             ROOMS_DB_PG_STATEMENT_MS, ROOMS_DB_PG_LOCK_MS,
             ROOMS_DB_PG_ANSWER_MS * 2);

    if (!PQsendQuery(pg->conn, sql)) {
        rooms_db_pg_err(pg, "PostgreSQL unavailable",
                        PQerrorMessage(pg->conn));
        goto failed;
    }

    for ( ;; ) {
        while (PQisBusy(pg->conn)) {
            if (rooms_db_pg_poll(pg, 1, deadline) != 1
                || !PQconsumeInput(pg->conn))
            {
                rooms_db_set_err(&pg->db, "PostgreSQL unavailable: no "
                                 "answer within %d ms",
                                 ROOMS_DB_PG_CONNECT_MS);
                goto failed;
            }
        }

        res = PQgetResult(pg->conn);
        if (res == NULL) {
            break;
        }

        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            rooms_db_pg_res_err(pg, res);
            PQclear(res);
            goto failed;
        }

        PQclear(res);
    }

    pg->retry_at = 0;

    return 0;

failed:

    PQfinish(pg->conn);
    pg->conn = NULL;
    memcpy(pg->down, pg->db.err, sizeof(pg->down));

    return -1;
}


/*
 * A usable connection before a new exchange, or -1.  An idle socket
 * that is readable means the server spoke first: it ended the
 * connection (a restart, an administrator).  Then, outside a
 * transaction, a new one is made at once.
 */
int
rooms_db_pg_ready(rooms_db_pg_t *pg)
{
    int            i;
    PGnotify      *n;
    struct pollfd  pfd;

    /*
     * A server that ends a connection sends an error, then closes: both
     * are read here (a few reads at most), so that the close is seen.
     */
    for (i = 0; i < 4 && pg->conn != NULL
                && PQtransactionStatus(pg->conn) == PQTRANS_IDLE; i++)
    {
        pfd.fd = PQsocket(pg->conn);
        pfd.events = POLLIN;
        pfd.revents = 0;

        if (pfd.fd >= 0 && poll(&pfd, 1, 0) <= 0) {
            break;
        }

        /* (PQisBusy() parses what came: a FATAL goes to the notices) */
        if (pfd.fd < 0 || !PQconsumeInput(pg->conn)
            || (PQisBusy(pg->conn), pg->ended)
            || PQstatus(pg->conn) == CONNECTION_BAD)
        {
            rooms_db_pg_drop(pg);
            break;
        }

        /* a notification: dropped */
        while ((n = PQnotifies(pg->conn)) != NULL) {
            PQfreemem(n);
        }
    }

    /*
     * A transaction whose connection went is gone: every statement of it
     * fails until the caller's rollback (or failed commit), never runs
     * on a new connection outside it.
     */
    if (pg->tx && (pg->conn == NULL || pg->tx_gen != pg->gen)) {
        rooms_db_set_err(&pg->db, "PostgreSQL unavailable: the connection "
                         "was lost inside a transaction, which is rolled "
                         "back");
        return -1;
    }

    if (pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_BAD) {
        rooms_db_pg_err(pg, "PostgreSQL unavailable",
                        PQerrorMessage(pg->conn));
        rooms_db_pg_drop(pg);
        return -1;
    }

    if (pg->conn != NULL) {
        return 0;
    }

    if (rooms_db_pg_now() < pg->retry_at) {
        /* why the last try failed, until the next */
        memcpy(pg->db.err, pg->down, sizeof(pg->down));
        return -1;
    }

    return rooms_db_pg_connect(pg);
}


/*
 * Ends the connection; the next call makes a new one at once (a server
 * that closed it, a restart), unless the drop was for a server that did
 * not answer: then not before ROOMS_DB_PG_RETRY_MS.
 */
void
rooms_db_pg_drop(rooms_db_pg_t *pg)
{
    if (pg->conn != NULL) {
        PQfinish(pg->conn);
        pg->conn = NULL;
    }

    pg->retry_at = 0;
}


/*
 * The results of what was just sent, within wait_ms more than
 * ROOMS_DB_PG_ANSWER_MS: the first error's, or the last one's.  NULL
 * (the message kept, the connection dropped) when none came in time or
 * the connection broke.
 */
PGresult *
rooms_db_pg_results(rooms_db_pg_t *pg, int wait_ms)
{
    int64_t    deadline;
    PGresult  *res, *kept;

    deadline = rooms_db_pg_now() + ROOMS_DB_PG_ANSWER_MS + wait_ms;
    kept = NULL;

    for ( ;; ) {
        while (PQisBusy(pg->conn)) {
            switch (rooms_db_pg_poll(pg, 1, deadline)) {
            case 1:
                if (PQconsumeInput(pg->conn)) {
                    continue;
                }

                /* fall through */
            case -1:
                rooms_db_pg_err(pg, "PostgreSQL unavailable",
                                PQerrorMessage(pg->conn));
                break;
            default:
                rooms_db_set_err(&pg->db, "PostgreSQL unavailable: no "
                                 "answer within %d ms",
                                 ROOMS_DB_PG_ANSWER_MS + wait_ms);
                break;
            }

            PQclear(kept);
            rooms_db_pg_drop(pg);

            if (strstr(pg->db.err, "no answer within") != NULL) {
                pg->retry_at = rooms_db_pg_now() + ROOMS_DB_PG_RETRY_MS;
                memcpy(pg->down, pg->db.err, sizeof(pg->down));
            }

            return NULL;
        }

        res = PQgetResult(pg->conn);

        if (res == NULL) {
            break;
        }

        switch (PQresultStatus(res)) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK:
        case PGRES_EMPTY_QUERY:
            if (kept != NULL
                && PQresultStatus(kept) != PGRES_COMMAND_OK
                && PQresultStatus(kept) != PGRES_TUPLES_OK
                && PQresultStatus(kept) != PGRES_EMPTY_QUERY)
            {
                PQclear(res);       /* an error before stays the answer */
                continue;
            }

            break;

        default:
            if (kept != NULL
                && PQresultStatus(kept) != PGRES_COMMAND_OK
                && PQresultStatus(kept) != PGRES_TUPLES_OK
                && PQresultStatus(kept) != PGRES_EMPTY_QUERY)
            {
                PQclear(res);
                continue;
            }

            break;
        }

        PQclear(kept);
        kept = res;
    }

    if (kept == NULL) {
        rooms_db_pg_err(pg, "PostgreSQL", PQerrorMessage(pg->conn));
        return NULL;
    }

    if (PQresultStatus(kept) != PGRES_COMMAND_OK
        && PQresultStatus(kept) != PGRES_TUPLES_OK
        && PQresultStatus(kept) != PGRES_EMPTY_QUERY)
    {
        rooms_db_pg_res_err(pg, kept);

        if (PQstatus(pg->conn) == CONNECTION_BAD) {
            rooms_db_pg_drop(pg);
        }
    }

    return kept;
}


/* 1 when res is a success */
int
rooms_db_pg_ok(PGresult *res)
{
    return res != NULL
           && (PQresultStatus(res) == PGRES_COMMAND_OK
               || PQresultStatus(res) == PGRES_TUPLES_OK
               || PQresultStatus(res) == PGRES_EMPTY_QUERY);
}


/* 1 when res failed because a lock was not had in time */
int
rooms_db_pg_busy(PGresult *res)
{
    const char  *state;

    state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

    /* lock_not_available, deadlock_detected, serialization_failure */
    return state != NULL
           && (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0
               || strcmp(state, "40001") == 0);
}


/* Runs sql (one or more statements, no parameters): its result or NULL */
PGresult *
rooms_db_pg_query(rooms_db_pg_t *pg, const char *sql, int wait_ms)
{
    if (rooms_db_pg_ready(pg) != 0) {
        return NULL;
    }

    if (!PQsendQuery(pg->conn, sql)) {
        rooms_db_pg_err(pg, "PostgreSQL unavailable",
                        PQerrorMessage(pg->conn));
        rooms_db_pg_drop(pg);
        return NULL;
    }

    return rooms_db_pg_results(pg, wait_ms);
}


/* The single integer a query returns, or -1. */
int64_t
rooms_db_pg_int(rooms_db_pg_t *pg, const char *sql)
{
    int64_t    n;
    PGresult  *res;

    res = rooms_db_pg_query(pg, sql, 0);

    n = rooms_db_pg_ok(res) && PQntuples(res) == 1 && PQnfields(res) >= 1
        && !PQgetisnull(res, 0, 0)
        ? (PQgetvalue(res, 0, 0)[0] == 't' ? 1
           : PQgetvalue(res, 0, 0)[0] == 'f' ? 0
           : strtoll(PQgetvalue(res, 0, 0), NULL, 10))
        : -1;

    if (rooms_db_pg_ok(res) && n < 0) {
        rooms_db_set_err(&pg->db, "PostgreSQL: no number where one was "
                         "expected");
    }

    PQclear(res);

    return n;
}
