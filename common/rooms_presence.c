/*
 * rooms_presence.c: the presence rows of every node in the store
 * (rooms_presence.h), in rooms_db.h's dialect, so that they run on SQLite
 * and on PostgreSQL alike.  A node writes its rows at most once a second
 * and reads the others' for its trays: a few statements a second per
 * node, never per packet.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, include <libpq-fe.h>, call json_, call sqlite3_, call PQ, call rooms_ring_, call rooms_ws_, call rooms_people_
 */

#include <string.h>

#include "rooms_db.h"
#include "rooms_presence.h"


/* Runs bound statement s that returns no rows, and gives it back. */
static int
rooms_presence_done(rooms_db_stmt_t *s, int bad)
{
    int  rc;

    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    rc = bad ? ROOMS_DB_ERROR : rooms_db_step(s);
    rooms_db_finalize(s);

    return rc == ROOMS_DB_DONE ? ROOMS_STORE_OK
           : rc == ROOMS_DB_BUSY ? ROOMS_STORE_BUSY : ROOMS_STORE_ERROR;
}


int
rooms_presence_put(rooms_store_t *st, int64_t node,
    const rooms_presence_t *rows, size_t n, int64_t now, int64_t expires_at)
{
    int               own, rc, bad;
    size_t            i;
    rooms_db_t       *db;
    rooms_db_stmt_t  *s;

    db = rooms_store_db(st);

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    s = rooms_db_prepare(db, "DELETE FROM presence WHERE node = ?1"
                             " OR expires_at < ?2");
    bad = s == NULL || rooms_db_bind_int(s, 1, node)
          | rooms_db_bind_int(s, 2, now);
    rc = rooms_presence_done(s, bad);

    for (i = 0; i < n && rc == ROOMS_STORE_OK; i++) {
        s = rooms_db_prepare(db, "INSERT INTO presence (node, room_id, code,"
                                 " person, role, name, expires_at, began)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        bad = s == NULL || rooms_db_bind_int(s, 1, node)
              | rooms_db_bind_int(s, 2, rows[i].room_id)
              | rooms_db_bind_text(s, 3, rows[i].code)
              | rooms_db_bind_blob(s, 4, rows[i].person, ROOMS_HASH_LEN)
              | rooms_db_bind_int(s, 5, rows[i].role)
              | rooms_db_bind_text(s, 6, rows[i].name)
              | rooms_db_bind_int(s, 7, expires_at)
              | rooms_db_bind_int(s, 8, rows[i].began);
        rc = rooms_presence_done(s, bad);
    }

    return rooms_store_tx_end(st, own, rc);
}


/*
 * A read of the other nodes' rows: sql bound with ?1 this node, ?2 now
 * (rows expired before it are not read) and ?3 the most rows wanted.
 * NULL on an error (the statement is gone then).
 */
static rooms_db_stmt_t *
rooms_presence_query(rooms_store_t *st, const char *sql, int64_t node,
    int64_t now, size_t max)
{
    rooms_db_stmt_t  *s;

    s = rooms_db_prepare(rooms_store_db(st), sql);
    if (s == NULL) {
        return NULL;
    }

    if ((rooms_db_bind_int(s, 1, node) | rooms_db_bind_int(s, 2, now)
         | rooms_db_bind_int(s, 3, (int64_t) max)) != 0)
    {
        rooms_db_finalize(s);
        return NULL;
    }

    return s;
}


int
rooms_presence_get(rooms_store_t *st, int64_t node, int64_t now,
    rooms_presence_t *rows, size_t max, size_t *n)
{
    int                rc;
    size_t             len;
    const char        *text;
    rooms_db_stmt_t   *s;
    rooms_presence_t  *p;

    *n = 0;

    s = rooms_presence_query(st,
            "SELECT room_id, code, person, role, name, began FROM presence"
            " WHERE node <> ?1 AND expires_at >= ?2"
            " ORDER BY room_id, node LIMIT ?3", node, now, max);
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    while ((rc = rooms_db_step(s)) == ROOMS_DB_ROW) {
        p = &rows[*n];
        memset(p, 0, sizeof(rooms_presence_t));

        p->room_id = rooms_db_column_int(s, 0);

        text = rooms_db_column_text(s, 1);
        len = text ? strlen(text) : 0;
        /* a code of another length is no room of ours: skipped */
        if (len != ROOMS_CODE_LEN
            || rooms_db_column_bytes(s, 2) != ROOMS_HASH_LEN)
        {
            continue;
        }

        memcpy(p->code, text, ROOMS_CODE_LEN);
        memcpy(p->person, rooms_db_column_blob(s, 2), ROOMS_HASH_LEN);
        p->role = (int) rooms_db_column_int(s, 3);

        text = rooms_db_column_text(s, 4);
        len = text ? strlen(text) : 0;
        len = len > ROOMS_NAME_MAX_BYTES ? ROOMS_NAME_MAX_BYTES : len;
        memcpy(p->name, text ? text : "", len);

        p->began = rooms_db_column_int(s, 5);

        (*n)++;
    }

    rooms_db_finalize(s);

    return rc == ROOMS_DB_DONE ? ROOMS_STORE_OK : ROOMS_STORE_ERROR;
}


int
rooms_presence_split(rooms_store_t *st, int64_t node, int64_t now,
    rooms_presence_call_t *calls, size_t max, size_t *n)
{
    int               rc;
    rooms_db_stmt_t  *s;

    *n = 0;

    /* the node's own rows say which rooms it has (presence_room) */
    s = rooms_presence_query(st,
            "SELECT room_id, node, MIN(began) FROM presence"
            " WHERE node <> ?1 AND expires_at >= ?2"
            " AND room_id IN (SELECT room_id FROM presence WHERE node = ?1)"
            " GROUP BY room_id, node ORDER BY room_id, node LIMIT ?3",
            node, now, max);
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    while ((rc = rooms_db_step(s)) == ROOMS_DB_ROW) {
        calls[*n].room_id = rooms_db_column_int(s, 0);
        calls[*n].node = rooms_db_column_int(s, 1);
        calls[*n].began = rooms_db_column_int(s, 2);
        (*n)++;
    }

    rooms_db_finalize(s);

    return rc == ROOMS_DB_DONE ? ROOMS_STORE_OK : ROOMS_STORE_ERROR;
}
