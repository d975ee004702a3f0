/*
 * rooms_sched.c: scheduled rooms in the store (see rooms_sched.h).
 *
 * Statements are written in rooms_db.h's dialect, so that they run on
 * SQLite and on PostgreSQL alike, and prepared at each call (the
 * connection keeps them: rooms_db_prepare()): they run at a person's
 * click or once a second per nginx worker, not per packet.  Writes take
 * the lock as the store's own do: without waiting more than
 * ROOMS_STORE_WAIT_MS, and ROOMS_STORE_BUSY when another program holds
 * it.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, include <libpq-fe.h>, call json_, call sqlite3_, call PQ, call rooms_ring_, call rooms_ws_
 */

#include <string.h>

#include "rooms_db.h"
#include "rooms_sched.h"


/* room.starting_soon events stored by one rooms_sched_soon() call */
#define ROOMS_SCHED_SOON_BATCH  64


/* the room's columns every walk reads, in rooms_sched_row()'s order */
#define ROOMS_SCHED_COLS                                                      \
    "r.id, r.code, r.title, r.activity, r.start_at, r.created_at,"           \
    " r.ended_at"


/*
 * sql's statement, kept by the connection (rooms_db_finalize() gives it
 * back); NULL on failure.
 */
static rooms_db_stmt_t *
rooms_sched_prepare(rooms_store_t *st, const char *sql)
{
    return rooms_db_prepare(rooms_store_db(st), sql);
}


/*
 * Runs a bound statement that returns no rows, and gives it back
 * (finalized).  bad: a bind failed (the statement is given back, not
 * run).
 */
static int
rooms_sched_run(rooms_db_stmt_t *s, int bad)
{
    int  rc;

    rc = bad ? ROOMS_DB_ERROR : rooms_db_step(s);
    rooms_db_finalize(s);

    switch (rc) {
    case ROOMS_DB_DONE:
        return ROOMS_STORE_OK;
    case ROOMS_DB_BUSY:
        return ROOMS_STORE_BUSY;
    default:
        return ROOMS_STORE_ERROR;
    }
}


/* One integer of a bound one-row query (finalized), or -1. */
static int64_t
rooms_sched_int(rooms_db_stmt_t *s, int bad)
{
    int64_t  n;

    n = !bad && rooms_db_step(s) == ROOMS_DB_ROW ? rooms_db_column_int(s, 0)
                                                 : -1;
    rooms_db_finalize(s);

    return n;
}


static void
rooms_sched_text(rooms_db_stmt_t *s, int col, char *out, size_t size)
{
    const char  *t;
    size_t       n;

    t = rooms_db_column_text(s, col);
    n = t ? strlen(t) : 0;

    if (n >= size) {
        n = size - 1;
    }

    if (n) {
        memcpy(out, t, n);
    }

    out[n] = '\0';
}


/* The ROOMS_SCHED_COLS of a row into r (and a token hash at column 7). */
static void
rooms_sched_row(rooms_db_stmt_t *s, rooms_sched_room_t *r, int with_token)
{
    const void  *b;

    memset(r, 0, sizeof(rooms_sched_room_t));

    r->id = rooms_db_column_int(s, 0);
    rooms_sched_text(s, 1, r->code, sizeof(r->code));
    rooms_sched_text(s, 2, r->title, sizeof(r->title));
    r->activity = (uint8_t) rooms_db_column_int(s, 3);
    r->start_at = rooms_db_column_int(s, 4);
    r->created_at = rooms_db_column_int(s, 5);
    r->ended_at = rooms_db_column_int(s, 6);

    if (with_token) {
        b = rooms_db_column_blob(s, 7);

        if (b != NULL && rooms_db_column_bytes(s, 7) == ROOMS_HASH_LEN) {
            memcpy(r->token_hash, b, ROOMS_HASH_LEN);
        }
    }
}


/* Calls each() per row of a bound statement (finalized). */
static int
rooms_sched_walk(rooms_db_stmt_t *s, int bad, int with_token,
    rooms_sched_each_pt each, void *data)
{
    int                 rc;
    rooms_sched_room_t  r;

    if (bad) {
        rooms_db_finalize(s);
        return ROOMS_STORE_ERROR;
    }

    while ((rc = rooms_db_step(s)) == ROOMS_DB_ROW) {
        rooms_sched_row(s, &r, with_token);

        if (each(data, &r) != 0) {
            rc = ROOMS_DB_DONE;
            break;
        }
    }

    rooms_db_finalize(s);

    return rc == ROOMS_DB_DONE ? ROOMS_STORE_OK : ROOMS_STORE_ERROR;
}


int
rooms_sched_add(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN], int kind, int64_t now)
{
    int               own, rc, bad;
    int64_t           n;
    rooms_db_stmt_t  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    /* already there: nothing to bound */
    s = rooms_sched_prepare(st, "SELECT count(*) FROM reminders WHERE"
                            " room_id = ?1 AND token_hash = ?2 AND kind = ?3");
    if (s == NULL) {
        return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
    }

    bad = rooms_db_bind_int(s, 1, room_id)
          | rooms_db_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN)
          | rooms_db_bind_int(s, 3, kind);
    n = rooms_sched_int(s, bad);

    if (n != 0) {
        return rooms_store_tx_end(st, own,
                                  n < 0 ? ROOMS_STORE_ERROR : ROOMS_STORE_OK);
    }

    if (kind == ROOMS_SCHED_ASKED) {
        s = rooms_sched_prepare(st, "SELECT count(*) FROM reminders WHERE"
                                " room_id = ?1 AND kind = 0");
        if (s == NULL) {
            return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
        }

        n = rooms_sched_int(s, rooms_db_bind_int(s, 1, room_id));

        if (n < 0 || n >= ROOMS_SCHED_PER_ROOM) {
            return rooms_store_tx_end(st, own, n < 0 ? ROOMS_STORE_ERROR
                                                     : ROOMS_SCHED_ROOM_FULL);
        }
    }

    s = rooms_sched_prepare(st, "SELECT count(*) FROM reminders WHERE"
                            " token_hash = ?1 AND kind = ?2");
    if (s == NULL) {
        return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
    }

    bad = rooms_db_bind_blob(s, 1, token_hash, ROOMS_HASH_LEN)
          | rooms_db_bind_int(s, 2, kind);
    n = rooms_sched_int(s, bad);

    if (n < 0) {
        return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
    }

    if (n >= ROOMS_SCHED_PER_BROWSER) {
        if (kind == ROOMS_SCHED_ASKED) {
            return rooms_store_tx_end(st, own, ROOMS_SCHED_BROWSER_FULL);
        }

        /* a host's feed keeps its newest rooms */
        s = rooms_sched_prepare(st, "DELETE FROM reminders WHERE"
                                " token_hash = ?1 AND kind = 1 AND"
                                " room_id IN (SELECT room_id FROM reminders"
                                "  WHERE token_hash = ?1 AND kind = 1"
                                "  ORDER BY created_at, room_id LIMIT ?2)");
        if (s == NULL) {
            return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
        }

        bad = rooms_db_bind_blob(s, 1, token_hash, ROOMS_HASH_LEN)
              | rooms_db_bind_int(s, 2, n - ROOMS_SCHED_PER_BROWSER + 1);

        rc = rooms_sched_run(s, bad);

        if (rc != ROOMS_STORE_OK) {
            return rooms_store_tx_end(st, own, rc);
        }
    }

    s = rooms_sched_prepare(st, "INSERT INTO reminders (room_id, token_hash,"
                            " kind, created_at) VALUES (?1, ?2, ?3, ?4)");
    if (s == NULL) {
        return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
    }

    bad = rooms_db_bind_int(s, 1, room_id)
          | rooms_db_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN)
          | rooms_db_bind_int(s, 3, kind)
          | rooms_db_bind_int(s, 4, now);

    return rooms_store_tx_end(st, own, rooms_sched_run(s, bad));
}


int
rooms_sched_forget(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN])
{
    int               bad;
    rooms_db_stmt_t  *s;

    s = rooms_sched_prepare(st, "DELETE FROM reminders WHERE room_id = ?1"
                            " AND token_hash = ?2 AND kind = 0");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    bad = rooms_db_bind_int(s, 1, room_id)
          | rooms_db_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN);

    return rooms_sched_run(s, bad);
}


int
rooms_sched_count(rooms_store_t *st, int64_t room_id,
    const unsigned char *token_hash, unsigned *count, int *asked)
{
    int               bad;
    int64_t           n;
    rooms_db_stmt_t  *s;

    s = rooms_sched_prepare(st, "SELECT count(*) FROM reminders WHERE"
                            " room_id = ?1 AND kind = 0");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    n = rooms_sched_int(s, rooms_db_bind_int(s, 1, room_id));

    if (n < 0) {
        return ROOMS_STORE_ERROR;
    }

    *count = (unsigned) n;
    *asked = 0;

    if (token_hash == NULL) {
        return ROOMS_STORE_OK;
    }

    s = rooms_sched_prepare(st, "SELECT count(*) FROM reminders WHERE"
                            " room_id = ?1 AND token_hash = ?2 AND kind = 0");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    bad = rooms_db_bind_int(s, 1, room_id)
          | rooms_db_bind_blob(s, 2, token_hash, ROOMS_HASH_LEN);
    n = rooms_sched_int(s, bad);

    if (n < 0) {
        return ROOMS_STORE_ERROR;
    }

    *asked = n > 0;

    return ROOMS_STORE_OK;
}


int
rooms_sched_due(rooms_store_t *st, int64_t now, int64_t lead,
    rooms_sched_each_pt each, void *data)
{
    int               bad;
    rooms_db_stmt_t  *s;

    /* now + lead is bound: no arithmetic on parameters of unknown type */
    s = rooms_sched_prepare(st, "SELECT " ROOMS_SCHED_COLS ", m.token_hash"
                            " FROM rooms r JOIN reminders m"
                            " ON m.room_id = r.id AND m.kind = 0"
                            " WHERE r.start_at > ?1 AND r.start_at <= ?2"
                            " AND r.ended_at = 0");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    bad = rooms_db_bind_int(s, 1, now)
          | rooms_db_bind_int(s, 2, now + lead);

    return rooms_sched_walk(s, bad, 1, each, data);
}


int
rooms_sched_soon(rooms_store_t *st, int64_t now, int64_t lead,
    rooms_sched_body_pt body, void *data, unsigned max, unsigned *dropped)
{
    int                  rc, found;
    size_t               len;
    unsigned             d, n;
    rooms_db_stmt_t     *s;
    rooms_sched_room_t   r;
    unsigned char        buf[ROOMS_STORE_EVENT_MAX];

    *dropped = 0;

    /*
     * One room per transaction, oldest start first; at most
     * ROOMS_SCHED_SOON_BATCH a call, so that a burst of rooms starting
     * at once never holds an nginx worker's event loop: the rest come at
     * the next call.
     */
    for (n = 0; n < ROOMS_SCHED_SOON_BATCH; n++) {
        rc = rooms_store_begin(st, ROOMS_STORE_WAIT_MS);
        if (rc != ROOMS_STORE_OK) {
            return rc;
        }

        s = rooms_sched_prepare(st, "SELECT " ROOMS_SCHED_COLS
                                " FROM rooms r WHERE r.soon_sent = 0"
                                " AND r.ended_at = 0"
                                " AND r.start_at > r.created_at"
                                " AND r.start_at > ?1"
                                " AND r.start_at <= ?2"
                                " ORDER BY r.start_at, r.id LIMIT 1");
        if (s == NULL) {
            rooms_store_rollback(st);
            return ROOMS_STORE_ERROR;
        }

        rc = (rooms_db_bind_int(s, 1, now)
              | rooms_db_bind_int(s, 2, now + lead)) == 0
             ? rooms_db_step(s) : ROOMS_DB_ERROR;
        found = rc == ROOMS_DB_ROW;

        if (found) {
            rooms_sched_row(s, &r, 0);
        }

        rooms_db_finalize(s);

        if (!found) {
            rooms_store_rollback(st);
            return rc == ROOMS_DB_DONE ? ROOMS_STORE_OK : ROOMS_STORE_ERROR;
        }

        s = rooms_sched_prepare(st, "UPDATE rooms SET soon_sent = 1"
                                " WHERE id = ?1 AND soon_sent = 0");
        if (s == NULL) {
            rooms_store_rollback(st);
            return ROOMS_STORE_ERROR;
        }

        rc = rooms_sched_run(s, rooms_db_bind_int(s, 1, r.id));

        if (rc == ROOMS_STORE_OK) {
            len = body(data, &r, buf);

            if (len > 0) {
                rc = rooms_store_outbox_add(st, buf, len, now, max, &d);

                if (rc == ROOMS_STORE_OK) {
                    *dropped += d;
                }
            }
        }

        if (rc != ROOMS_STORE_OK) {
            rooms_store_rollback(st);
            return rc;
        }

        rc = rooms_store_commit(st);
        if (rc != ROOMS_STORE_OK) {
            return rc;
        }
    }

    return ROOMS_STORE_OK;
}


int
rooms_sched_feed_set(rooms_store_t *st,
    const unsigned char token_hash[ROOMS_HASH_LEN],
    const unsigned char feed_hash[ROOMS_HASH_LEN],
    const unsigned char *people_hash, int64_t now)
{
    int                          own, rc, bad;
    rooms_db_stmt_t             *s;
    static const unsigned char   none[ROOMS_HASH_LEN];

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    /*
     * A replace of every row the new one would collide with: the
     * browser's old feed, and (never in practice: a hash of 32 random
     * bytes) another browser's with the same secret.
     */
    s = rooms_sched_prepare(st, "DELETE FROM calendar_feeds"
                            " WHERE token_hash = ?1 OR feed_hash = ?2");
    if (s == NULL) {
        return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
    }

    bad = rooms_db_bind_blob(s, 1, token_hash, ROOMS_HASH_LEN)
          | rooms_db_bind_blob(s, 2, feed_hash, ROOMS_HASH_LEN);

    rc = rooms_sched_run(s, bad);
    if (rc != ROOMS_STORE_OK) {
        return rooms_store_tx_end(st, own, rc);
    }

    s = rooms_sched_prepare(st, "INSERT INTO calendar_feeds"
                            " (token_hash, feed_hash, people_hash,"
                            " created_at) VALUES (?1, ?2, ?3, ?4)");
    if (s == NULL) {
        return rooms_store_tx_end(st, own, ROOMS_STORE_ERROR);
    }

    bad = rooms_db_bind_blob(s, 1, token_hash, ROOMS_HASH_LEN)
          | rooms_db_bind_blob(s, 2, feed_hash, ROOMS_HASH_LEN)
          | rooms_db_bind_blob(s, 3, people_hash ? people_hash : none,
                               ROOMS_HASH_LEN)
          | rooms_db_bind_int(s, 4, now);

    return rooms_store_tx_end(st, own, rooms_sched_run(s, bad));
}


int
rooms_sched_feed_drop(rooms_store_t *st,
    const unsigned char token_hash[ROOMS_HASH_LEN])
{
    rooms_db_stmt_t  *s;

    s = rooms_sched_prepare(st, "DELETE FROM calendar_feeds"
                            " WHERE token_hash = ?1");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    return rooms_sched_run(s, rooms_db_bind_blob(s, 1, token_hash,
                                                 ROOMS_HASH_LEN));
}


int
rooms_sched_feed_find(rooms_store_t *st,
    const unsigned char feed_hash[ROOMS_HASH_LEN],
    unsigned char token_hash[ROOMS_HASH_LEN],
    unsigned char people_hash[ROOMS_HASH_LEN])
{
    int               rc;
    const void       *b, *p;
    rooms_db_stmt_t  *s;

    s = rooms_sched_prepare(st, "SELECT token_hash, people_hash"
                            " FROM calendar_feeds WHERE feed_hash = ?1");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    rc = rooms_db_bind_blob(s, 1, feed_hash, ROOMS_HASH_LEN) == 0
         ? rooms_db_step(s) : ROOMS_DB_ERROR;

    if (rc == ROOMS_DB_ROW) {
        b = rooms_db_column_blob(s, 0);
        p = rooms_db_column_blob(s, 1);

        if (b == NULL || rooms_db_column_bytes(s, 0) != ROOMS_HASH_LEN) {
            rc = ROOMS_DB_DONE;

        } else {
            memcpy(token_hash, b, ROOMS_HASH_LEN);

            if (p != NULL && rooms_db_column_bytes(s, 1) == ROOMS_HASH_LEN) {
                memcpy(people_hash, p, ROOMS_HASH_LEN);

            } else {
                memset(people_hash, 0, ROOMS_HASH_LEN);
            }
        }
    }

    rooms_db_finalize(s);

    switch (rc) {
    case ROOMS_DB_ROW:
        return ROOMS_STORE_OK;
    case ROOMS_DB_DONE:
        return ROOMS_STORE_NOT_FOUND;
    default:
        return ROOMS_STORE_ERROR;
    }
}


int
rooms_sched_feed_rooms(rooms_store_t *st,
    const unsigned char token_hash[ROOMS_HASH_LEN], int64_t now,
    rooms_sched_each_pt each, void *data)
{
    int               bad;
    rooms_db_stmt_t  *s;

    s = rooms_sched_prepare(st, "SELECT " ROOMS_SCHED_COLS " FROM rooms r"
                            " WHERE r.id IN (SELECT room_id FROM reminders"
                            "  WHERE token_hash = ?1)"
                            " AND r.ended_at = 0"
                            " AND r.start_at > r.created_at"
                            " AND r.start_at >= ?2"
                            " ORDER BY r.start_at, r.id");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    bad = rooms_db_bind_blob(s, 1, token_hash, ROOMS_HASH_LEN)
          | rooms_db_bind_int(s, 2, now - ROOMS_SCHED_FEED_PAST);

    return rooms_sched_walk(s, bad, 0, each, data);
}


int
rooms_sched_feed_owned(rooms_store_t *st,
    const unsigned char owner_hash[ROOMS_HASH_LEN], int64_t now,
    rooms_sched_each_pt each, void *data)
{
    int               bad;
    rooms_db_stmt_t  *s;

    s = rooms_sched_prepare(st, "SELECT " ROOMS_SCHED_COLS " FROM rooms r"
                            " JOIN room_owners o ON o.room_id = r.id"
                            " WHERE o.owner_hash = ?1"
                            " AND r.audience IN ('friends', 'public')"
                            " AND r.ended_at = 0"
                            " AND r.start_at > r.created_at"
                            " AND r.start_at >= ?2"
                            " ORDER BY r.start_at, r.id");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    bad = rooms_db_bind_blob(s, 1, owner_hash, ROOMS_HASH_LEN)
          | rooms_db_bind_int(s, 2, now - ROOMS_SCHED_FEED_PAST);

    return rooms_sched_walk(s, bad, 0, each, data);
}
