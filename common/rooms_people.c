/*
 * rooms_people.c: "your people" and the rooms' owners in the store.
 *
 * Statements are written in rooms_db.h's dialect, so that they run on
 * SQLite and on PostgreSQL alike, and prepared at each call (the
 * connection keeps them: rooms_db_prepare()): each runs a few times per
 * join or per tray refresh, not per packet.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, include <libpq-fe.h>, call json_, call sqlite3_, call PQ, call rooms_ring_, call rooms_ws_
 */

#include <string.h>

#include "rooms_db.h"
#include "rooms_people.h"


/* ROOMS_STORE_OK, BUSY or ERROR for a statement's last step */
static int
rooms_people_rc(int rc)
{
    switch (rc) {
    case ROOMS_DB_DONE:
    case ROOMS_DB_ROW:
        return ROOMS_STORE_OK;
    case ROOMS_DB_BUSY:
        return ROOMS_STORE_BUSY;
    default:
        return ROOMS_STORE_ERROR;
    }
}


/*
 * sql's statement, kept by the connection (rooms_db_finalize() gives it
 * back); NULL on failure.
 */
static rooms_db_stmt_t *
rooms_people_prepare(rooms_store_t *st, const char *sql)
{
    return rooms_db_prepare(rooms_store_db(st), sql);
}


/*
 * Runs a bound statement that returns no rows, and gives it back
 * (finalized); *changed, when not NULL, receives the rows it changed.
 * bad: a bind failed (the statement is given back, not run).
 */
static int
rooms_people_done(rooms_db_stmt_t *s, int bad, int64_t *changed)
{
    int  rc;

    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    rc = bad ? ROOMS_DB_ERROR : rooms_db_step(s);

    if (changed != NULL) {
        *changed = rc == ROOMS_DB_DONE ? rooms_db_changes(s) : 0;
    }

    rooms_db_finalize(s);

    return rooms_people_rc(rc);
}


/* self meets other (named name): the row written or refreshed, bounded */
static int
rooms_people_one(rooms_store_t *st, const unsigned char *self,
    const unsigned char *other, const char *name, int64_t now)
{
    int               rc, bad;
    rooms_db_stmt_t  *s;

    s = rooms_people_prepare(st,
            "INSERT INTO people (self_hash, other_hash, name, last_at)"
            " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (self_hash, other_hash)"
            " DO UPDATE SET name = excluded.name,"
            " last_at = CASE WHEN excluded.last_at > people.last_at"
            " THEN excluded.last_at ELSE people.last_at END");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    bad = rooms_db_bind_blob(s, 1, self, ROOMS_HASH_LEN)
          | rooms_db_bind_blob(s, 2, other, ROOMS_HASH_LEN)
          | rooms_db_bind_text(s, 3, name)
          | rooms_db_bind_int(s, 4, now);

    rc = rooms_people_done(s, bad, NULL);
    if (rc != ROOMS_STORE_OK) {
        return rc;
    }

    /*
     * The bound: the ones met longest ago go, both ways.  "NOT IN the
     * newest" rather than "LIMIT -1 OFFSET max", which PostgreSQL lacks;
     * other_hash orders those met at the same second.
     */
    s = rooms_people_prepare(st,
            "DELETE FROM people WHERE self_hash = ?1 AND other_hash NOT IN"
            " (SELECT other_hash FROM people WHERE self_hash = ?1"
            "  ORDER BY last_at DESC, other_hash LIMIT ?2)");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    bad = rooms_db_bind_blob(s, 1, self, ROOMS_HASH_LEN)
          | rooms_db_bind_int(s, 2, ROOMS_PEOPLE_MAX);

    return rooms_people_done(s, bad, NULL);
}


int
rooms_people_meet(rooms_store_t *st, const unsigned char *a,
    const char *a_name, const unsigned char *b, const char *b_name,
    int64_t now)
{
    int  own, rc;

    if (memcmp(a, b, ROOMS_HASH_LEN) == 0) {
        return ROOMS_STORE_OK;
    }

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    rc = rooms_people_one(st, a, b, b_name, now);

    if (rc == ROOMS_STORE_OK) {
        rc = rooms_people_one(st, b, a, a_name, now);
    }

    return rooms_store_tx_end(st, own, rc);
}


int
rooms_people_list(rooms_store_t *st, const unsigned char *self,
    int64_t now, rooms_person_t *out, unsigned max, unsigned *n)
{
    int               rc;
    size_t            len;
    const void       *blob;
    const char       *name;
    rooms_db_stmt_t  *s;

    *n = 0;
    rc = ROOMS_DB_DONE;

    s = rooms_people_prepare(st,
            "SELECT other_hash, name, last_at FROM people"
            " WHERE self_hash = ?1 AND last_at > ?2"
            " ORDER BY last_at DESC LIMIT ?3");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    if ((rooms_db_bind_blob(s, 1, self, ROOMS_HASH_LEN)
         | rooms_db_bind_int(s, 2, now - ROOMS_PEOPLE_TTL)
         | rooms_db_bind_int(s, 3, max)) != 0)
    {
        rooms_db_finalize(s);
        return ROOMS_STORE_ERROR;
    }

    while (*n < max && (rc = rooms_db_step(s)) == ROOMS_DB_ROW) {
        blob = rooms_db_column_blob(s, 0);

        if (blob == NULL
            || rooms_db_column_bytes(s, 0) != ROOMS_HASH_LEN)
        {
            continue;
        }

        memcpy(out[*n].hash, blob, ROOMS_HASH_LEN);

        name = rooms_db_column_text(s, 1);
        len = name != NULL ? strlen(name) : 0;

        if (len > ROOMS_NAME_MAX_BYTES) {
            len = ROOMS_NAME_MAX_BYTES;
        }

        if (len) {
            memcpy(out[*n].name, name, len);
        }

        out[*n].name[len] = '\0';
        out[*n].last_at = rooms_db_column_int(s, 2);
        (*n)++;
    }

    if (*n == max) {
        rc = ROOMS_DB_DONE;
    }

    rooms_db_finalize(s);

    return rc == ROOMS_DB_DONE ? ROOMS_STORE_OK : ROOMS_STORE_ERROR;
}


int
rooms_people_forget(rooms_store_t *st, const unsigned char *self,
    const unsigned char *other, unsigned *n)
{
    int               own, rc, bad;
    int64_t           changed;
    rooms_db_stmt_t  *s;

    *n = 0;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    /* self's own rows (how many people self had), then the other way */
    s = rooms_people_prepare(st, other != NULL
            ? "DELETE FROM people WHERE self_hash = ?1 AND other_hash = ?2"
            : "DELETE FROM people WHERE self_hash = ?1");

    bad = 0;

    if (s != NULL) {
        bad = rooms_db_bind_blob(s, 1, self, ROOMS_HASH_LEN);

        if (other != NULL) {
            bad |= rooms_db_bind_blob(s, 2, other, ROOMS_HASH_LEN);
        }
    }

    rc = rooms_people_done(s, bad, &changed);

    if (rc != ROOMS_STORE_OK) {
        return rooms_store_tx_end(st, own, rc);
    }

    *n = (unsigned) changed;

    s = rooms_people_prepare(st, other != NULL
            ? "DELETE FROM people WHERE self_hash = ?2 AND other_hash = ?1"
            : "DELETE FROM people WHERE other_hash = ?1");

    bad = 0;

    if (s != NULL) {
        bad = rooms_db_bind_blob(s, 1, self, ROOMS_HASH_LEN);

        if (other != NULL) {
            bad |= rooms_db_bind_blob(s, 2, other, ROOMS_HASH_LEN);
        }
    }

    rc = rooms_people_done(s, bad, &changed);

    /* a relation only the other side kept still counts as one */
    if (other != NULL && *n == 0 && rc == ROOMS_STORE_OK) {
        *n = (unsigned) changed;
    }

    return rooms_store_tx_end(st, own, rc);
}


int
rooms_people_expire(rooms_store_t *st, int64_t before)
{
    int               own, rc, bad;
    rooms_db_stmt_t  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    s = rooms_people_prepare(st, "DELETE FROM people WHERE last_at < ?1");
    bad = s != NULL ? rooms_db_bind_int(s, 1, before) : 0;

    rc = rooms_people_done(s, bad, NULL);

    if (rc == ROOMS_STORE_OK) {
        rc = rooms_people_done(rooms_people_prepare(st,
                 "DELETE FROM room_owners WHERE room_id NOT IN"
                 " (SELECT id FROM rooms)"), 0, NULL);
    }

    return rooms_store_tx_end(st, own, rc);
}


int
rooms_people_owner_set(rooms_store_t *st, int64_t room_id,
    const unsigned char *owner)
{
    int               bad;
    rooms_db_stmt_t  *s;

    s = rooms_people_prepare(st,
            "INSERT INTO room_owners (room_id, owner_hash)"
            " VALUES (?1, ?2) ON CONFLICT DO NOTHING");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    bad = rooms_db_bind_int(s, 1, room_id)
          | rooms_db_bind_blob(s, 2, owner, ROOMS_HASH_LEN);

    return rooms_people_done(s, bad, NULL);
}


int
rooms_people_owner_get(rooms_store_t *st, int64_t room_id,
    unsigned char *owner)
{
    int               rc, found;
    const void       *blob;
    rooms_db_stmt_t  *s;

    s = rooms_people_prepare(st,
            "SELECT owner_hash FROM room_owners WHERE room_id = ?1");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    found = 0;
    rc = rooms_db_bind_int(s, 1, room_id) == 0 ? rooms_db_step(s)
                                                : ROOMS_DB_ERROR;

    if (rc == ROOMS_DB_ROW) {
        blob = rooms_db_column_blob(s, 0);

        if (blob != NULL && rooms_db_column_bytes(s, 0) == ROOMS_HASH_LEN) {
            memcpy(owner, blob, ROOMS_HASH_LEN);
            found = 1;
        }
    }

    rooms_db_finalize(s);

    if (rc != ROOMS_DB_ROW && rc != ROOMS_DB_DONE) {
        return ROOMS_STORE_ERROR;
    }

    return found;
}


int
rooms_people_soon(rooms_store_t *st, int64_t now, int64_t until,
    char (*codes)[ROOMS_CODE_LEN + 1], unsigned max, unsigned *n)
{
    int               rc;
    const char       *code;
    rooms_db_stmt_t  *s;

    *n = 0;
    rc = ROOMS_DB_DONE;

    s = rooms_people_prepare(st,
            "SELECT code FROM rooms WHERE ended_at = 0 AND audience != 'link'"
            " AND start_at > ?1 AND start_at <= ?2"
            " ORDER BY start_at LIMIT ?3");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    if ((rooms_db_bind_int(s, 1, now)
         | rooms_db_bind_int(s, 2, until)
         | rooms_db_bind_int(s, 3, max)) != 0)
    {
        rooms_db_finalize(s);
        return ROOMS_STORE_ERROR;
    }

    while (*n < max && (rc = rooms_db_step(s)) == ROOMS_DB_ROW) {
        code = rooms_db_column_text(s, 0);

        if (code == NULL || strlen(code) != ROOMS_CODE_LEN) {
            continue;
        }

        memcpy(codes[*n], code, ROOMS_CODE_LEN + 1);
        (*n)++;
    }

    if (*n == max) {
        rc = ROOMS_DB_DONE;
    }

    rooms_db_finalize(s);

    return rc == ROOMS_DB_DONE ? ROOMS_STORE_OK : ROOMS_STORE_ERROR;
}
