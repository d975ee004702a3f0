/*
 * rooms_sched.h: scheduled rooms in the store: reminders, each browser's
 * calendar feed, and room.starting_soon's once-only mark.
 *
 * Owns: the statements on the reminders and calendar_feeds tables and on
 * rooms.soon_sent (the tables are rooms_store.c's schema), the bounds on
 * reminders per room and per browser, and what "scheduled" means for a
 * feed.  Browsers are known only by the SHA-256 of their browser token
 * (ROOMS_HASH_LEN bytes); feed secrets only by their SHA-256.
 * Must never keep a token or a feed secret in clear, and never read the
 * clock: "now" is always an argument.
 *
 * May not: include <ngx_core.h>, include <sqlite3.h>, include <jansson.h>
 */

#ifndef ROOMS_SCHED_H
#define ROOMS_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_store.h"


/*
 * Why these bounds: anyone with the link may ask to be reminded, and a
 * new browser token costs a script nothing, so a room's reminders are
 * bounded to keep one link from filling the store; twice the hard
 * participant limit still lets everyone who might come ask.  A browser's
 * are bounded because every notice tick and every feed reads them: 64
 * scheduled rooms at once is more than a person follows.
 */
#define ROOMS_SCHED_PER_ROOM     (2 * ROOMS_PARTICIPANTS_LIMIT)
#define ROOMS_SCHED_PER_BROWSER  64

/* a feed keeps a room this long after its start, as calendars show past events */
#define ROOMS_SCHED_FEED_PAST    (7 * 86400)

#define ROOMS_SCHED_ASKED        0     /* "Remind me" */
#define ROOMS_SCHED_HOSTS        1     /* the browser that created it */

/* results besides ROOMS_STORE_OK, _BUSY and _ERROR */
#define ROOMS_SCHED_ROOM_FULL    3     /* ROOMS_SCHED_PER_ROOM asked */
#define ROOMS_SCHED_BROWSER_FULL 4     /* ROOMS_SCHED_PER_BROWSER asked */


/* A scheduled room as a feed, a notice or an event needs it. */
typedef struct {
    int64_t        id;
    char           code[ROOMS_CODE_LEN + 1];
    char           title[ROOMS_TITLE_MAX_BYTES + 1];
    uint8_t        activity;
    int64_t        start_at;
    int64_t        created_at;
    int64_t        ended_at;
    unsigned char  token_hash[ROOMS_HASH_LEN];   /* whose row (due only) */
} rooms_sched_room_t;

/* Called per room found; a non-zero return stops the walk. */
typedef int (*rooms_sched_each_pt)(void *data, const rooms_sched_room_t *r);


/*
 * Records that the browser token_hash wants kind (ASKED, HOSTS) for the
 * room, at time now.  Asking twice changes nothing.  ASKED is refused
 * past the bounds (ROOMS_SCHED_ROOM_FULL, ROOMS_SCHED_BROWSER_FULL);
 * HOSTS drops the browser's oldest HOSTS row instead.  ROOMS_STORE_OK,
 * _BUSY or _ERROR otherwise.
 */
int rooms_sched_add(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN], int kind, int64_t now);

/* Forgets the browser's "Remind me" for the room (none is no error). */
int rooms_sched_forget(rooms_store_t *st, int64_t room_id,
    const unsigned char token_hash[ROOMS_HASH_LEN]);

/*
 * How many browsers asked to be reminded of the room (*count), and
 * whether token_hash (when not NULL) is one of them (*asked).
 */
int rooms_sched_count(rooms_store_t *st, int64_t room_id,
    const unsigned char *token_hash, unsigned *count, int *asked);

/*
 * The reminders due at now: every (room, browser) that asked, of a room
 * not ended whose start is after now and at most lead seconds away.
 * each() gets the browser in r->token_hash.
 */
int rooms_sched_due(rooms_store_t *st, int64_t now, int64_t lead,
    rooms_sched_each_pt each, void *data);

/*
 * room.starting_soon: every room not ended, scheduled (its start later
 * than its creation), starting after now and at most lead seconds away,
 * and not yet marked, is marked and body() writes its event (up to
 * ROOMS_STORE_EVENT_MAX bytes, its length returned; 0 stores nothing),
 * which is added to the outbox (bounded by max) in the same transaction
 * as the mark: a room's event is stored once, across restarts.
 * *dropped receives what the outbox dropped.
 */
typedef size_t (*rooms_sched_body_pt)(void *data, const rooms_sched_room_t *r,
    unsigned char *buf);

int rooms_sched_soon(rooms_store_t *st, int64_t now, int64_t lead,
    rooms_sched_body_pt body, void *data, unsigned max, unsigned *dropped);

/*
 * The browser's calendar feed: rooms_sched_feed_set() gives it the
 * secret whose SHA-256 is feed_hash (a new one replaces the old, which
 * then finds nothing), and its person in the people relation
 * (people_hash; NULL: unknown); rooms_sched_feed_drop() revokes it;
 * rooms_sched_feed_find() gives the browser of a feed, and its person
 * (zeros when unknown): ROOMS_STORE_OK, ROOMS_STORE_NOT_FOUND or
 * ROOMS_STORE_ERROR.
 */
int rooms_sched_feed_set(rooms_store_t *st,
    const unsigned char token_hash[ROOMS_HASH_LEN],
    const unsigned char feed_hash[ROOMS_HASH_LEN],
    const unsigned char *people_hash, int64_t now);
int rooms_sched_feed_drop(rooms_store_t *st,
    const unsigned char token_hash[ROOMS_HASH_LEN]);
int rooms_sched_feed_find(rooms_store_t *st,
    const unsigned char feed_hash[ROOMS_HASH_LEN],
    unsigned char token_hash[ROOMS_HASH_LEN],
    unsigned char people_hash[ROOMS_HASH_LEN]);

/*
 * The rooms of a browser's feed, by start: those it asked to be reminded
 * of or created, not ended, scheduled (a start later than the creation),
 * and starting after now - ROOMS_SCHED_FEED_PAST; each room once.
 */
int rooms_sched_feed_rooms(rooms_store_t *st,
    const unsigned char token_hash[ROOMS_HASH_LEN], int64_t now,
    rooms_sched_each_pt each, void *data);


/*
 * The scheduled rooms that owner_hash created (room_owners, the people
 * relation's) that its people may see: audience "friends" or "public"
 * (never "link"; "group:<id>" needs the asker's groups, which a calendar
 * app's request has not), not ended, starting after now -
 * ROOMS_SCHED_FEED_PAST.
 */
int rooms_sched_feed_owned(rooms_store_t *st,
    const unsigned char owner_hash[ROOMS_HASH_LEN], int64_t now,
    rooms_sched_each_pt each, void *data);


#endif /* ROOMS_SCHED_H */
