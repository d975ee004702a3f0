/*
 * rooms_people.c: "your people" and the rooms' owners in the store.
 *
 * Statements are prepared at each call: each runs a few times per join
 * or per tray refresh, not per packet, and the store's own prepared set
 * (rooms_store.c) stays its own.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, call json_, call rooms_ring_, call rooms_ws_
 */

#include <string.h>

#include <sqlite3.h>

#include "rooms_people.h"


/* ROOMS_STORE_OK, BUSY or ERROR for a statement's last step */
static int
rooms_people_rc(int rc)
{
    switch (rc) {
    case SQLITE_DONE:
    case SQLITE_ROW:
    case SQLITE_OK:
        return ROOMS_STORE_OK;
    case SQLITE_BUSY:
        return ROOMS_STORE_BUSY;
    default:
        return ROOMS_STORE_ERROR;
    }
}


/* prepares sql; NULL on failure */
static sqlite3_stmt *
rooms_people_prepare(rooms_store_t *st, const char *sql)
{
    sqlite3_stmt  *s;

    if (sqlite3_prepare_v2(rooms_store_db(st), sql, -1, &s, NULL)
        != SQLITE_OK)
    {
        return NULL;
    }

    return s;
}


/* runs a statement that returns no rows, and finalizes it */
static int
rooms_people_done(sqlite3_stmt *s)
{
    int  rc;

    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    rc = sqlite3_step(s);
    sqlite3_finalize(s);

    return rooms_people_rc(rc);
}


/* self meets other (named name): the row written or refreshed, bounded */
static int
rooms_people_one(rooms_store_t *st, const unsigned char *self,
    const unsigned char *other, const char *name, int64_t now)
{
    int            rc;
    sqlite3_stmt  *s;

    s = rooms_people_prepare(st,
            "INSERT INTO people (self_hash, other_hash, name, last_at)"
            " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (self_hash, other_hash)"
            " DO UPDATE SET name = excluded.name,"
            " last_at = max(last_at, excluded.last_at)");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    sqlite3_bind_blob(s, 1, self, ROOMS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, other, ROOMS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);

    rc = rooms_people_done(s);
    if (rc != ROOMS_STORE_OK) {
        return rc;
    }

    /* the bound: the ones met longest ago go, both ways */
    s = rooms_people_prepare(st,
            "DELETE FROM people WHERE self_hash = ?1 AND other_hash IN"
            " (SELECT other_hash FROM people WHERE self_hash = ?1"
            "  ORDER BY last_at DESC LIMIT -1 OFFSET ?2)");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    sqlite3_bind_blob(s, 1, self, ROOMS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, ROOMS_PEOPLE_MAX);

    return rooms_people_done(s);
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
    int            rc;
    size_t         len;
    const void    *blob;
    sqlite3_stmt  *s;

    *n = 0;

    s = rooms_people_prepare(st,
            "SELECT other_hash, name, last_at FROM people"
            " WHERE self_hash = ?1 AND last_at > ?2"
            " ORDER BY last_at DESC LIMIT ?3");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    sqlite3_bind_blob(s, 1, self, ROOMS_HASH_LEN, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now - ROOMS_PEOPLE_TTL);
    sqlite3_bind_int(s, 3, (int) max);

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        blob = sqlite3_column_blob(s, 0);

        if (blob == NULL
            || sqlite3_column_bytes(s, 0) != ROOMS_HASH_LEN)
        {
            continue;
        }

        memcpy(out[*n].hash, blob, ROOMS_HASH_LEN);

        len = (size_t) sqlite3_column_bytes(s, 1);
        if (len > ROOMS_NAME_MAX_BYTES) {
            len = ROOMS_NAME_MAX_BYTES;
        }

        if (len) {
            memcpy(out[*n].name, sqlite3_column_text(s, 1), len);
        }

        out[*n].name[len] = '\0';
        out[*n].last_at = sqlite3_column_int64(s, 2);
        (*n)++;
    }

    sqlite3_finalize(s);

    return rc == SQLITE_DONE ? ROOMS_STORE_OK : ROOMS_STORE_ERROR;
}


int
rooms_people_forget(rooms_store_t *st, const unsigned char *self,
    const unsigned char *other, unsigned *n)
{
    int            own, rc;
    sqlite3_stmt  *s;

    *n = 0;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    /* self's own rows (how many people self had), then the other way */
    s = rooms_people_prepare(st, other != NULL
            ? "DELETE FROM people WHERE self_hash = ?1 AND other_hash = ?2"
            : "DELETE FROM people WHERE self_hash = ?1");

    if (s != NULL) {
        sqlite3_bind_blob(s, 1, self, ROOMS_HASH_LEN, SQLITE_STATIC);

        if (other != NULL) {
            sqlite3_bind_blob(s, 2, other, ROOMS_HASH_LEN, SQLITE_STATIC);
        }
    }

    rc = rooms_people_done(s);

    if (rc != ROOMS_STORE_OK) {
        return rooms_store_tx_end(st, own, rc);
    }

    *n = (unsigned) sqlite3_changes(rooms_store_db(st));

    s = rooms_people_prepare(st, other != NULL
            ? "DELETE FROM people WHERE self_hash = ?2 AND other_hash = ?1"
            : "DELETE FROM people WHERE other_hash = ?1");

    if (s != NULL) {
        sqlite3_bind_blob(s, 1, self, ROOMS_HASH_LEN, SQLITE_STATIC);

        if (other != NULL) {
            sqlite3_bind_blob(s, 2, other, ROOMS_HASH_LEN, SQLITE_STATIC);
        }
    }

    /* a relation only the other side kept still counts as one */
    if (other != NULL && *n == 0 && rc == ROOMS_STORE_OK) {
        rc = rooms_people_done(s);
        *n = (unsigned) sqlite3_changes(rooms_store_db(st));
        return rooms_store_tx_end(st, own, rc);
    }

    rc = rooms_people_done(s);

    return rooms_store_tx_end(st, own, rc);
}


int
rooms_people_expire(rooms_store_t *st, int64_t before)
{
    int            own, rc;
    sqlite3_stmt  *s;

    own = rooms_store_tx(st);
    if (own < 0) {
        return own;
    }

    s = rooms_people_prepare(st, "DELETE FROM people WHERE last_at < ?1");
    if (s != NULL) {
        sqlite3_bind_int64(s, 1, before);
    }

    rc = rooms_people_done(s);

    if (rc == ROOMS_STORE_OK) {
        rc = rooms_people_done(rooms_people_prepare(st,
                 "DELETE FROM room_owners WHERE room_id NOT IN"
                 " (SELECT id FROM rooms)"));
    }

    return rooms_store_tx_end(st, own, rc);
}


int
rooms_people_owner_set(rooms_store_t *st, int64_t room_id,
    const unsigned char *owner)
{
    sqlite3_stmt  *s;

    s = rooms_people_prepare(st,
            "INSERT OR IGNORE INTO room_owners (room_id, owner_hash)"
            " VALUES (?1, ?2)");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    sqlite3_bind_int64(s, 1, room_id);
    sqlite3_bind_blob(s, 2, owner, ROOMS_HASH_LEN, SQLITE_STATIC);

    return rooms_people_done(s);
}


int
rooms_people_owner_get(rooms_store_t *st, int64_t room_id,
    unsigned char *owner)
{
    int            rc, found;
    const void    *blob;
    sqlite3_stmt  *s;

    s = rooms_people_prepare(st,
            "SELECT owner_hash FROM room_owners WHERE room_id = ?1");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    sqlite3_bind_int64(s, 1, room_id);

    found = 0;
    rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        blob = sqlite3_column_blob(s, 0);

        if (blob != NULL && sqlite3_column_bytes(s, 0) == ROOMS_HASH_LEN) {
            memcpy(owner, blob, ROOMS_HASH_LEN);
            found = 1;
        }
    }

    sqlite3_finalize(s);

    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return ROOMS_STORE_ERROR;
    }

    return found;
}


int
rooms_people_soon(rooms_store_t *st, int64_t now, int64_t until,
    char (*codes)[ROOMS_CODE_LEN + 1], unsigned max, unsigned *n)
{
    int            rc;
    const char    *code;
    sqlite3_stmt  *s;

    *n = 0;

    s = rooms_people_prepare(st,
            "SELECT code FROM rooms WHERE ended_at = 0 AND audience != 'link'"
            " AND start_at > ?1 AND start_at <= ?2"
            " ORDER BY start_at LIMIT ?3");
    if (s == NULL) {
        return ROOMS_STORE_ERROR;
    }

    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, until);
    sqlite3_bind_int(s, 3, (int) max);

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        code = (const char *) sqlite3_column_text(s, 0);

        if (code == NULL || strlen(code) != ROOMS_CODE_LEN) {
            continue;
        }

        memcpy(codes[*n], code, ROOMS_CODE_LEN + 1);
        (*n)++;
    }

    sqlite3_finalize(s);

    return rc == SQLITE_DONE ? ROOMS_STORE_OK : ROOMS_STORE_ERROR;
}
