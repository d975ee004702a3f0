/*
 * test_people.c: "your people" in the store (rooms_people.*), on a real
 * SQLite file and, when ROOMS_TEST_PG names one (make test-pg), on a real
 * PostgreSQL database: the same checks on both engines.
 *
 * Covers: a meeting both ways, meeting oneself being nothing, names
 * (a full-length UTF-8 name) and times refreshed, an older meeting never
 * moving the time back, the expiry of a relation (ROOMS_PEOPLE_TTL), the
 * bound per person (the longest met go, hashes with zero bytes, in the
 * caller's transaction and in its own), forgetting one (also a relation
 * only the other side kept) and all, the expiry of rows and of the owners
 * of rooms gone, the owner set once, the scheduled rooms the tray may
 * list (rooms_people_soon: not "link", not ended, within the window, by
 * start, at most max), a second handle seeing it all as another nginx
 * worker does, and a write refused BUSY, changing nothing, while another
 * handle holds the write lock.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rooms_people.h"
#include "rooms_store.h"
#include "tap.h"
#include "engines.h"


#define NOW  1795285800      /* 2026-11-21T18:30:00Z */


static rooms_store_t *
open_ok(const char *where, const char *e, const char *what)
{
    char            err[256];
    rooms_store_t  *st;

    err[0] = '\0';
    st = rooms_store_open(where, err, sizeof(err));

    if (!ok(st != NULL, "%s: open %s", e, what)) {
        diag("%s", err);
    }

    return st;
}


static int64_t
room(rooms_store_t *st, const char *code, const char *audience,
    int64_t start)
{
    rooms_room_t  r;

    memset(&r, 0, sizeof(r));
    snprintf(r.code, sizeof(r.code), "%s", code);
    snprintf(r.title, sizeof(r.title), "Soon");
    snprintf(r.audience, sizeof(r.audience), "%s", audience);
    r.max_participants = 50;
    r.created_at = NOW - 60;
    r.start_at = start;

    if (rooms_store_insert(st, &r) != ROOMS_STORE_OK) {
        tap_bail_out("insert %s: %s", code, rooms_store_errmsg(st));
    }

    return r.id;
}


/* the person numbered i: its hash has zero bytes, as any hash may */
static void
someone(unsigned char *o, unsigned i)
{
    memset(o, 0, ROOMS_HASH_LEN);
    memcpy(o, &i, sizeof(i));
}


static void
test_people(const char *where, const char *e)
{
    char             name[ROOMS_NAME_MAX_BYTES + 1];
    char             codes[4][ROOMS_CODE_LEN + 1];
    unsigned         n, i;
    int64_t          id, gone;
    unsigned char    a[ROOMS_HASH_LEN], b[ROOMS_HASH_LEN], o[ROOMS_HASH_LEN];
    rooms_room_t     ended;
    rooms_store_t   *st, *st2;
    rooms_person_t  *list;

    st = open_ok(where, e, "a store for people");
    if (st == NULL) {
        return;
    }

    list = calloc(ROOMS_PEOPLE_MAX + 10, sizeof(rooms_person_t));
    if (list == NULL) {
        tap_bail_out("out of memory");
    }

    memset(a, 0xaa, sizeof(a));
    memset(b, 0xbb, sizeof(b));

    /* ---- meeting ---- */

    is_int(rooms_people_meet(st, a, "Anna", b, "Bruno", 1000),
           ROOMS_STORE_OK, "%s: Anna meets Bruno", e);
    is_int(rooms_people_meet(st, a, "Anna", a, "Anna", 1000),
           ROOMS_STORE_OK, "%s: meeting oneself is nothing", e);
    is_int(rooms_people_list(st, a, 2000, list, 10, &n), ROOMS_STORE_OK,
           "%s: Anna's people", e);
    ok(n == 1 && memcmp(list[0].hash, b, sizeof(b)) == 0
       && strcmp(list[0].name, "Bruno") == 0 && list[0].last_at == 1000,
       "%s: Bruno, by his hash and name, met at 1000", e);
    rooms_people_list(st, b, 2000, list, 10, &n);
    ok(n == 1 && strcmp(list[0].name, "Anna") == 0, "%s: and Bruno's: Anna",
       e);

    rooms_people_meet(st, b, "Bruno B.", a, "Anna", 1500);
    rooms_people_list(st, a, 2000, list, 10, &n);
    ok(n == 1 && strcmp(list[0].name, "Bruno B.") == 0
       && list[0].last_at == 1500, "%s: meeting again refreshes name and "
       "time", e);

    /* a full-length name of two-byte characters */
    for (i = 0; i + 2 <= ROOMS_NAME_MAX_BYTES; i += 2) {
        name[i] = (char) 0xc3;
        name[i + 1] = (char) 0xa9;
    }
    name[i] = '\0';

    rooms_people_meet(st, a, "Anna", b, name, 1200);
    rooms_people_list(st, a, 2000, list, 10, &n);
    ok(n == 1 && strcmp(list[0].name, name) == 0 && list[0].last_at == 1500,
       "%s: a meeting recorded late takes the name, never moves the time "
       "back", e);

    rooms_people_list(st, a, 1500 + ROOMS_PEOPLE_TTL, list, 10, &n);
    is_int(n, 0, "%s: past ROOMS_PEOPLE_TTL the relation is not listed", e);

    /* ---- the bound ---- */

    /* ROOMS_PEOPLE_MAX + 5 more people meet Anna, later, in one transaction */
    rooms_store_begin(st, 0);
    for (i = 0; i < ROOMS_PEOPLE_MAX + 5; i++) {
        someone(o, i);
        rooms_people_meet(st, a, "Anna", o, "Someone", 2000 + i);
    }
    is_int(rooms_store_commit(st), ROOMS_STORE_OK,
           "%s: in one transaction", e);
    rooms_people_list(st, a, 3000, list, ROOMS_PEOPLE_MAX + 10, &n);
    is_int(n, ROOMS_PEOPLE_MAX, "%s: Anna keeps ROOMS_PEOPLE_MAX people", e);
    ok(list[0].last_at == 2000 + ROOMS_PEOPLE_MAX + 4
       && list[n - 1].last_at == 2005, "%s: the ones met longest ago went",
       e);
    someone(o, 5);
    ok(memcmp(list[n - 1].hash, o, ROOMS_HASH_LEN) == 0,
       "%s: hashes with zero bytes read back whole", e);
    rooms_people_list(st, b, 3000, list, 10, &n);
    ok(n == 1, "%s: Bruno still knows Anna (his own bound is not hers)", e);

    /* one more, in its own transaction */
    someone(o, 1000);
    is_int(rooms_people_meet(st, a, "Anna", o, "Late", 4000),
           ROOMS_STORE_OK, "%s: one more meets Anna", e);
    rooms_people_list(st, a, 4000, list, ROOMS_PEOPLE_MAX + 10, &n);
    ok(n == ROOMS_PEOPLE_MAX && strcmp(list[0].name, "Late") == 0
       && list[n - 1].last_at == 2006, "%s: the bound holds outside a "
       "caller's transaction too", e);

    rooms_people_list(st, a, 4000, list, 2, &n);
    ok(n == 2 && list[0].last_at == 4000 && list[1].last_at == 2154,
       "%s: at most max, met last first", e);

    /* ---- a second handle: another nginx worker ---- */

    st2 = open_ok(where, e, "a second handle");
    if (st2 != NULL) {
        rooms_people_list(st2, a, 4000, list, ROOMS_PEOPLE_MAX + 10, &n);
        ok(n == ROOMS_PEOPLE_MAX && strcmp(list[0].name, "Late") == 0,
           "%s: it sees the same people", e);

        /* it holds the write lock: a meeting is refused, changes nothing */
        is_int(rooms_store_begin(st2, 0), ROOMS_STORE_OK,
               "%s: the second handle takes the write lock", e);
        someone(o, 2000);
        is_int(rooms_people_meet(st, a, "Anna", o, "Blocked", 5000),
               ROOMS_STORE_BUSY, "%s: a meeting meanwhile is BUSY", e);
        is_int(rooms_people_forget(st, a, NULL, &n), ROOMS_STORE_BUSY,
               "%s: and so is forgetting", e);
        rooms_store_rollback(st2);
        rooms_people_list(st, a, 5000, list, ROOMS_PEOPLE_MAX + 10, &n);
        ok(n == ROOMS_PEOPLE_MAX && strcmp(list[0].name, "Late") == 0,
           "%s: nothing changed", e);

        rooms_store_close(st2);
    }

    /* ---- forgetting ---- */

    is_int(rooms_people_forget(st, b, a, &n), ROOMS_STORE_OK,
           "%s: forget", e);
    is_int(n, 1, "%s: one relation", e);
    rooms_people_list(st, b, 3000, list, 10, &n);
    is_int(n, 0, "%s: Bruno has nobody", e);
    rooms_people_list(st, a, 3000, list, ROOMS_PEOPLE_MAX + 10, &n);
    for (i = 0; i < n && memcmp(list[i].hash, b, ROOMS_HASH_LEN) != 0; i++) {
        /* void */
    }
    is_int(i, n, "%s: and Anna no longer has Bruno", e);

    /* Anna dropped person 0 (her bound); person 0 still has Anna */
    someone(o, 0);
    rooms_people_list(st, o, 3000, list, 10, &n);
    is_int(n, 1, "%s: one that Anna's bound dropped still knows her", e);
    is_int(rooms_people_forget(st, a, o, &n), ROOMS_STORE_OK,
           "%s: Anna forgets that one", e);
    is_int(n, 1, "%s: a relation only the other side kept counts", e);
    rooms_people_list(st, o, 3000, list, 10, &n);
    is_int(n, 0, "%s: and is gone", e);

    is_int(rooms_people_forget(st, a, NULL, &n), ROOMS_STORE_OK,
           "%s: Anna forgets all", e);
    is_int(n, ROOMS_PEOPLE_MAX, "%s: all of them", e);
    someone(o, 100);
    rooms_people_list(st, o, 5000, list, 10, &n);
    is_int(n, 0, "%s: both ways", e);

    /* ---- expiry ---- */

    rooms_people_meet(st, a, "Anna", b, "Bruno", 1000);
    someone(o, 7);
    rooms_people_meet(st, a, "Anna", o, "Recent", 1002);
    is_int(rooms_people_expire(st, 1001), ROOMS_STORE_OK, "%s: expire", e);
    rooms_people_list(st, a, 1002, list, 10, &n);
    ok(n == 1 && strcmp(list[0].name, "Recent") == 0,
       "%s: a relation older than the limit is deleted, a newer kept", e);

    /* ---- owners ---- */

    id = room(st, "PeopleOOOOOOOOOOOOOOOO", "friends", NOW - 60);
    gone = id + 1000;
    is_int(rooms_people_owner_get(st, gone, o), 0, "%s: no owner known", e);
    is_int(rooms_people_owner_set(st, gone, a), ROOMS_STORE_OK,
           "%s: an owner", e);
    is_int(rooms_people_owner_set(st, gone, b), ROOMS_STORE_OK,
           "%s: a second is no error", e);
    ok(rooms_people_owner_get(st, gone, o) == 1
       && memcmp(o, a, ROOMS_HASH_LEN) == 0, "%s: the owner is set once", e);
    rooms_people_owner_set(st, id, b);
    is_int(rooms_people_expire(st, 0), ROOMS_STORE_OK,
           "%s: expire drops the owners of rooms gone", e);
    is_int(rooms_people_owner_get(st, gone, o), 0,
           "%s: that room never existed", e);
    ok(rooms_people_owner_get(st, id, o) == 1
       && memcmp(o, b, ROOMS_HASH_LEN) == 0,
       "%s: a room that exists keeps its owner", e);

    /* ---- the scheduled rooms the tray may list ---- */

    room(st, "PeopleLaterFriendsAAAA", "friends", NOW + 600);
    room(st, "PeopleSoonPublicAAAAAA", "public", NOW + 300);
    room(st, "PeopleLinkAAAAAAAAAAAA", "link", NOW + 200);
    room(st, "PeopleFarAAAAAAAAAAAAA", "public", NOW + 7200);
    room(st, "PeopleEdgeAAAAAAAAAAAA", "group:club", NOW + 3600);
    room(st, "PeopleEndedAAAAAAAAAAA", "public", NOW + 100);
    memset(&ended, 0, sizeof(ended));
    rooms_store_find(st, "PeopleEndedAAAAAAAAAAA", &ended);
    rooms_store_end(st, &ended, NOW);

    is_int(rooms_people_soon(st, NOW, NOW + 3600, codes, 4, &n),
           ROOMS_STORE_OK, "%s: the rooms starting soon", e);
    ok(n == 3 && strcmp(codes[0], "PeopleSoonPublicAAAAAA") == 0
       && strcmp(codes[1], "PeopleLaterFriendsAAAA") == 0
       && strcmp(codes[2], "PeopleEdgeAAAAAAAAAAAA") == 0,
       "%s: by start, up to the window's end; not link, ended, started or "
       "too far", e);
    rooms_people_soon(st, NOW, NOW + 3600, codes, 1, &n);
    ok(n == 1 && strcmp(codes[0], "PeopleSoonPublicAAAAAA") == 0,
       "%s: at most max", e);

    free(list);
    rooms_store_close(st);
}


int
main(void)
{
    test_on_engines("people", test_people);

    return done_testing();
}
