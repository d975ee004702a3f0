/*
 * test_sched.c: scheduled rooms in the store (rooms_sched.*) on a real
 * SQLite file and, when ROOMS_TEST_PG names one (make test-pg), on a real
 * PostgreSQL database: the same checks on both engines.
 *
 * Covers: "Remind me" (asking twice counts once, forgetting, who asked),
 * the bounds (ROOMS_SCHED_PER_ROOM browsers per room and
 * ROOMS_SCHED_PER_BROWSER rooms per browser refused past them; a
 * creator's feed keeps its newest rooms instead), the reminders due at a
 * time (only those that asked, only rooms not ended and within the lead
 * before their start), room.starting_soon stored once with its mark (also
 * from a second handle, as another nginx worker or a restart would see
 * it; none for a room never scheduled or too far away), the feed's secret
 * (set, found, replaced, dropped) and the rooms of a feed (asked and
 * created, scheduled, not ended, not another browser's), the rooms an
 * owner created that its people may see (for friends, not for the link),
 * and that rooms_store_expire() takes a room's reminders with it.  A
 * walk's callback may read the store between rows, as the calendar feed's
 * does.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rooms_people.h"
#include "rooms_sched.h"
#include "tap.h"
#include "engines.h"


#define NOW   1795285800      /* 2026-11-21T18:30:00Z */
#define LEAD  600


static void
token(unsigned char *t, unsigned n)
{
    memset(t, 0, ROOMS_HASH_LEN);
    memcpy(t, &n, sizeof(n));
    t[31] = 0x5a;
}


static int64_t
room(rooms_store_t *st, const char *code, int64_t start, const char *title)
{
    rooms_room_t  r;

    memset(&r, 0, sizeof(r));
    snprintf(r.code, sizeof(r.code), "%s", code);
    snprintf(r.title, sizeof(r.title), "%s", title);
    snprintf(r.audience, sizeof(r.audience), "link");
    r.max_participants = 50;
    r.created_at = NOW - 60;
    r.start_at = start;

    if (rooms_store_insert(st, &r) != ROOMS_STORE_OK) {
        tap_bail_out("insert %s: %s", code, rooms_store_errmsg(st));
    }

    return r.id;
}


/*
 * the walks' collector: ids (and the first token) in order; with st set,
 * it reads the store between rows (the room's code by its id), as the
 * calendar feed asks whether its person is banned
 */
typedef struct {
    int64_t         ids[256];
    unsigned        n;
    unsigned char   tok[ROOMS_HASH_LEN];
    rooms_store_t  *st;
    unsigned        read;
} seen_t;

static int
collect(void *data, const rooms_sched_room_t *r)
{
    char     code[ROOMS_CODE_LEN + 1];
    seen_t  *s = data;

    if (s->n == 0) {
        memcpy(s->tok, r->token_hash, ROOMS_HASH_LEN);
    }

    if (s->n < 256) {
        s->ids[s->n++] = r->id;
    }

    if (s->st != NULL
        && rooms_store_code(s->st, r->id, code) == ROOMS_STORE_OK
        && strcmp(code, r->code) == 0)
    {
        s->read++;
    }

    return 0;
}

static size_t
body(void *data, const rooms_sched_room_t *r, unsigned char *buf)
{
    (*(unsigned *) data)++;

    return (size_t) snprintf((char *) buf, ROOMS_STORE_EVENT_MAX,
                             "{\"soon\":\"%s\"}", r->code);
}


static void
test_sched(const char *where, const char *e)
{
    int             asked;
    char            err[256], ev[ROOMS_STORE_EVENT_MAX];
    size_t          len;
    int64_t         a, b, c, never, far, id;
    seen_t          s;
    unsigned        i, count, made, dropped;
    unsigned char   t1[ROOMS_HASH_LEN], t2[ROOMS_HASH_LEN];
    unsigned char   t3[ROOMS_HASH_LEN], f1[ROOMS_HASH_LEN];
    unsigned char   f2[ROOMS_HASH_LEN], out[ROOMS_HASH_LEN];
    unsigned char   person[ROOMS_HASH_LEN], zero[ROOMS_HASH_LEN];
    rooms_room_t    ended;
    rooms_store_t  *st, *st2;

    st = rooms_store_open(where, err, sizeof(err));
    if (st == NULL) {
        tap_bail_out("%s: open: %s", e, err);
    }

    a = room(st, "SchedAAAAAAAAAAAAAAAAA", NOW + 300, "Soon");
    b = room(st, "SchedBBBBBBBBBBBBBBBBB", NOW + 3600, "Later");
    never = room(st, "SchedNNNNNNNNNNNNNNNNN", NOW - 60, "Never scheduled");
    far = room(st, "SchedFFFFFFFFFFFFFFFFF", NOW + 86400, "Tomorrow");
    (void) far;

    memset(zero, 0, sizeof(zero));
    token(t1, 1);
    token(t2, 2);
    token(t3, 3);

    /* ---- Remind me ---- */

    is_int(rooms_sched_add(st, a, t1, ROOMS_SCHED_ASKED, NOW),
           ROOMS_STORE_OK, "%s: a browser asks", e);
    is_int(rooms_sched_add(st, a, t1, ROOMS_SCHED_ASKED, NOW + 1),
           ROOMS_STORE_OK, "%s: asking again is no error", e);
    is_int(rooms_sched_add(st, a, t2, ROOMS_SCHED_ASKED, NOW),
           ROOMS_STORE_OK, "%s: another asks", e);
    is_int(rooms_sched_add(st, a, t3, ROOMS_SCHED_HOSTS, NOW),
           ROOMS_STORE_OK, "%s: its creator is recorded", e);
    is_int(rooms_sched_count(st, a, t1, &count, &asked), ROOMS_STORE_OK,
           "%s: count", e);
    ok(count == 2 && asked == 1, "%s: 2 asked (twice counts once, the creator "
       "does not count), the first among them", e);
    rooms_sched_count(st, a, t3, &count, &asked);
    is_int(asked, 0, "%s: the creator did not ask", e);
    is_int(rooms_sched_forget(st, a, t2), ROOMS_STORE_OK, "%s: one forgets",
           e);
    rooms_sched_count(st, a, NULL, &count, &asked);
    is_int(count, 1, "%s: 1 left", e);

    /* ---- due ---- */

    memset(&s, 0, sizeof(s));
    is_int(rooms_sched_due(st, NOW, LEAD, collect, &s), ROOMS_STORE_OK,
           "%s: the reminders due", e);
    ok(s.n == 1 && s.ids[0] == a && memcmp(s.tok, t1, ROOMS_HASH_LEN) == 0,
       "%s: the one who asked about the room 5 minutes away", e);
    rooms_sched_add(st, b, t1, ROOMS_SCHED_ASKED, NOW);
    memset(&s, 0, sizeof(s));
    rooms_sched_due(st, NOW, LEAD, collect, &s);
    is_int(s.n, 1, "%s: not the room an hour away", e);
    memset(&s, 0, sizeof(s));
    rooms_sched_due(st, NOW + 3000, LEAD, collect, &s);
    ok(s.n == 1 && s.ids[0] == b, "%s: that one 50 minutes later; the first "
       "has started and is no longer due", e);

    /* ---- room.starting_soon ---- */

    made = 0;
    is_int(rooms_sched_soon(st, NOW, LEAD, body, &made, 100, &dropped),
           ROOMS_STORE_OK, "%s: starting soon", e);
    is_int(made, 1, "%s: one event: the room 5 minutes away, not the others",
           e);
    ok(rooms_store_outbox_next(st, 0, &id, ev, sizeof(ev), &len) == 1
       && len == strlen("{\"soon\":\"SchedAAAAAAAAAAAAAAAAA\"}")
       && memcmp(ev, "{\"soon\":\"SchedAAAAAAAAAAAAAAAAA\"}", len) == 0,
       "%s: in the outbox", e);

    st2 = rooms_store_open(where, err, sizeof(err));
    if (st2 == NULL) {
        tap_bail_out("%s: a second open: %s", e, err);
    }

    made = 0;
    rooms_sched_soon(st2, NOW + 1, LEAD, body, &made, 100, &dropped);
    rooms_sched_soon(st, NOW + 2, LEAD, body, &made, 100, &dropped);
    is_int(made, 0, "%s: never again, from either handle", e);
    rooms_store_close(st2);
    (void) never;

    /* ---- bounds ---- */

    for (i = 0; i < ROOMS_SCHED_PER_BROWSER; i++) {
        char  code[ROOMS_CODE_LEN + 1];

        snprintf(code, sizeof(code), "Many%018u", i);
        c = room(st, code, NOW + 7200 + i, "Many");

        if (rooms_sched_add(st, c, t2, ROOMS_SCHED_ASKED, NOW)
            != ROOMS_STORE_OK
            || rooms_sched_add(st, c, t2, ROOMS_SCHED_HOSTS, NOW + i)
               != ROOMS_STORE_OK)
        {
            break;
        }
    }

    is_int(i, ROOMS_SCHED_PER_BROWSER, "%s: a browser asks about 64 rooms",
           e);
    is_int(rooms_sched_add(st, a, t2, ROOMS_SCHED_ASKED, NOW),
           ROOMS_SCHED_BROWSER_FULL, "%s: a 65th is refused", e);
    is_int(rooms_sched_add(st, a, t2, ROOMS_SCHED_HOSTS, NOW + 999),
           ROOMS_STORE_OK, "%s: a 65th created room is kept", e);
    memset(&s, 0, sizeof(s));
    rooms_sched_feed_rooms(st, t2, NOW, collect, &s);
    is_int(s.n, ROOMS_SCHED_PER_BROWSER + 1,
           "%s: its feed: the 64 asked, and the newest created (the oldest "
           "created one, asked about too, stays)", e);

    for (i = 0; i < ROOMS_SCHED_PER_ROOM; i++) {
        unsigned char  t[ROOMS_HASH_LEN];

        token(t, 1000 + i);

        if (rooms_sched_add(st, b, t, ROOMS_SCHED_ASKED, NOW)
            != ROOMS_STORE_OK)
        {
            break;
        }
    }

    is_int(i, ROOMS_SCHED_PER_ROOM - 1, "%s: a room takes 2000 reminders in "
           "all (one was there)", e);
    token(t3, 99999);
    is_int(rooms_sched_add(st, b, t3, ROOMS_SCHED_ASKED, NOW),
           ROOMS_SCHED_ROOM_FULL, "%s: the next is refused", e);

    /* ---- feeds ---- */

    memset(f1, 0xf1, sizeof(f1));
    memset(f2, 0xf2, sizeof(f2));
    is_int(rooms_sched_feed_set(st, t1, f1, NULL, NOW), ROOMS_STORE_OK,
           "%s: a feed", e);
    ok(rooms_sched_feed_find(st, f1, out, person) == ROOMS_STORE_OK
       && memcmp(out, t1, ROOMS_HASH_LEN) == 0
       && memcmp(person, zero, ROOMS_HASH_LEN) == 0,
       "%s: found by its secret's hash, no person known", e);
    rooms_sched_feed_set(st, t1, f2, t3, NOW);
    is_int(rooms_sched_feed_find(st, f1, out, person), ROOMS_STORE_NOT_FOUND,
           "%s: a new secret: the old one finds nothing", e);
    ok(rooms_sched_feed_find(st, f2, out, person) == ROOMS_STORE_OK
       && memcmp(person, t3, ROOMS_HASH_LEN) == 0,
       "%s: the new does, with its person", e);

    memset(&s, 0, sizeof(s));
    s.st = st;
    is_int(rooms_sched_feed_rooms(st, t1, NOW, collect, &s), ROOMS_STORE_OK,
           "%s: a feed's rooms, reading the store between rows", e);
    ok(s.n == 2 && s.ids[0] == a && s.ids[1] == b,
       "%s: the feed lists the rooms it asked about, by start", e);
    is_int(s.read, 2, "%s: each read between rows found its room", e);
    rooms_sched_add(st, never, t1, ROOMS_SCHED_ASKED, NOW);
    memset(&s, 0, sizeof(s));
    rooms_sched_feed_rooms(st, t1, NOW, collect, &s);
    is_int(s.n, 2, "%s: not a room that was never scheduled", e);

    memset(&ended, 0, sizeof(ended));
    is_int(rooms_store_find(st, "SchedAAAAAAAAAAAAAAAAA", &ended),
           ROOMS_STORE_OK, "%s: the first room", e);
    rooms_store_end(st, &ended, NOW + 10);
    memset(&s, 0, sizeof(s));
    rooms_sched_feed_rooms(st, t1, NOW + 20, collect, &s);
    ok(s.n == 1 && s.ids[0] == b, "%s: an ended room leaves the feed", e);
    memset(&s, 0, sizeof(s));
    rooms_sched_due(st, NOW + 20, LEAD, collect, &s);
    is_int(s.n, 0, "%s: and is due to nobody", e);

    is_int(rooms_sched_feed_drop(st, t1), ROOMS_STORE_OK, "%s: revoked",
           e);
    is_int(rooms_sched_feed_find(st, f2, out, person), ROOMS_STORE_NOT_FOUND,
           "%s: finds nothing", e);

    /* ---- the rooms its people created ---- */

    {
        int64_t        friends, link;
        rooms_room_t   r;
        unsigned char  owner[ROOMS_HASH_LEN];

        memset(owner, 0x0f, sizeof(owner));
        owner[3] = 0;
        friends = room(st, "SchedOwnedFriendsAAAAA", NOW + 1800, "Friends");
        link = room(st, "SchedOwnedLinkAAAAAAAA", NOW + 1700, "Link");
        memset(&r, 0, sizeof(r));
        rooms_store_find(st, "SchedOwnedFriendsAAAAA", &r);
        snprintf(r.audience, sizeof(r.audience), "friends");
        is_int(rooms_store_update(st, &r), ROOMS_STORE_OK,
               "%s: a room for friends", e);
        rooms_people_owner_set(st, friends, owner);
        rooms_people_owner_set(st, link, owner);

        memset(&s, 0, sizeof(s));
        s.st = st;
        is_int(rooms_sched_feed_owned(st, owner, NOW, collect, &s),
               ROOMS_STORE_OK, "%s: the rooms an owner created", e);
        ok(s.n == 1 && s.ids[0] == friends && s.read == 1,
           "%s: the one for friends, not the one for the link", e);
        memset(&s, 0, sizeof(s));
        rooms_sched_feed_owned(st, t1, NOW, collect, &s);
        is_int(s.n, 0, "%s: nothing for one who created nothing", e);
    }

    /* ---- expiry ---- */

    {
        int64_t  purged;

        is_int(rooms_store_expire(st, NOW + 86400 * 3, &purged),
               ROOMS_STORE_OK, "%s: expire everything before three days on",
               e);
        memset(&s, 0, sizeof(s));
        rooms_sched_feed_rooms(st, t2, 0, collect, &s);
        rooms_sched_count(st, b, NULL, &count, &asked);
        ok(purged > 0 && s.n == 0 && count == 0,
           "%s: the rooms went, their reminders with them", e);
    }

    rooms_store_close(st);
}


int
main(void)
{
    test_on_engines("sched", test_sched);

    return done_testing();
}
