/*
 * test_room.c: the room record's rules and JSON (rooms_room.*).
 *
 * Covers: RFC 3339 parsing (zones, fractions, offsets, calendar limits,
 * malformed input) against epoch values checked with date(1), formatting
 * against gmtime_r(); create bodies (defaults, every field, every kind of
 * bad JSON); PATCH bodies; applying a patch (ended rooms, caps below the
 * people present); room states; the public and host JSON views, parsed
 * back with jansson; the error document.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "rooms_room.h"
#include "tap.h"


#define NOW   1795285800      /* 2026-11-21T18:30:00Z */
#define CAP   50

#define BASE  "https://rooms.example/sub"
#define CODE  "Ab3-_xYz0123456789qwer"
#define KEY   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ-_01234"


/* time */

static void
time_is(const char *s, int64_t want)
{
    int      rc;
    int64_t  got;

    got = -12345;
    rc = rooms_time_parse(s, strlen(s), &got);

    if (!ok(rc == 0 && got == want, "time \"%s\" is %lld", s,
            (long long) want))
    {
        diag("rc %d, got %lld", rc, (long long) got);
    }
}


static void
time_bad(const char *s, const char *why)
{
    int64_t  got;

    ok(rooms_time_parse(s, strlen(s), &got) == -1,
       "time \"%s\" rejected: %s", s, why);
}


static void
test_time_parse(void)
{
    int64_t  t;
    char     s[64];

    time_is("2026-11-21T18:30:00Z", 1795285800);
    time_is("2026-11-21t18:30:00z", 1795285800);
    time_is("2026-11-21T18:30:00.250Z", 1795285800);
    time_is("2026-11-21T18:30:00.123456789Z", 1795285800);
    time_is("2026-11-21T19:30:00+01:00", 1795285800);
    time_is("2026-11-21t19:30:00.250+01:00", 1795285800);
    time_is("2026-11-21T13:00:00-05:30", 1795285800);
    time_is("2026-11-21T18:30:00+01:00", 1795282200);
    time_is("2026-11-21T18:30:00-05:30", 1795305600);
    time_is("2026-11-21T18:30:00+00:00", 1795285800);
    time_is("2026-11-21T18:30:00-00:00", 1795285800);
    time_is("1970-01-01T00:00:00Z", 0);
    time_is("2026-01-01T00:00:00Z", 1767225600);
    time_is("2026-12-31T23:59:59Z", 1798761599);
    time_is("2028-02-29T00:00:00Z", 1835395200);
    time_is("2028-03-01T00:00:00Z", 1835481600);
    time_is("2000-02-29T12:34:56Z", 951827696);
    time_is("2024-02-29T23:59:59Z", 1709251199);
    time_is("2038-01-19T03:14:08Z", 2147483648LL);
    time_is("2100-01-01T00:00:00Z", 4102444800LL);

    /* an offset may not pull the first hours of 1970 before the epoch */
    time_is("1970-01-01T01:00:00+01:00", 0);
    time_is("1970-01-01T01:00:00.999+01:00", 0);
    time_is("1970-01-01T00:00:00-01:00", 3600);
    time_is("1970-01-01T23:59:00+23:59", 0);
    time_bad("1970-01-01T00:30:00+01:00", "half an hour before the epoch");
    time_bad("1970-01-01T00:59:59+01:00", "one second before the epoch");
    time_bad("1970-01-01T00:00:00+00:01", "a minute before the epoch");
    time_bad("1970-01-01T00:00:00+23:59", "the largest offset at the epoch");

    time_bad("2026-02-29T00:00:00Z", "not a leap year");
    time_bad("2100-02-29T00:00:00Z", "a century is not a leap year");
    time_bad("2026-04-31T00:00:00Z", "April has 30 days");
    time_bad("2026-13-01T00:00:00Z", "month 13");
    time_bad("2026-00-01T00:00:00Z", "month 0");
    time_bad("2026-11-00T00:00:00Z", "day 0");
    time_bad("2026-11-32T00:00:00Z", "day 32");
    time_bad("2026-11-21T24:00:00Z", "hour 24");
    time_bad("2026-11-21T18:60:00Z", "minute 60");
    time_bad("2026-11-21T18:30:61Z", "second 61");
    time_bad("1969-12-31T23:59:59Z", "before 1970");
    time_bad("2026-11-21T18:30:00", "missing zone");
    time_bad("2026-11-21T18:30:00.250", "missing zone after a fraction");
    time_bad("2026-11-21T18:30:00.Z", "a dot without digits");
    time_bad("2026-11-21T18:30:00Zx", "trailing garbage after Z");
    time_bad("2026-11-21T18:30:00+01:00x", "trailing garbage after offset");
    time_bad("2026-11-21T18:30:00+01:00Z", "offset and Z");
    time_bad("2026-11-21T18:30:00+0100", "offset without colon");
    time_bad("2026-11-21T18:30:00+01", "offset without minutes");
    time_bad("2026-11-21T18:30:00+24:00", "offset hour 24");
    time_bad("2026-11-21T18:30:00+01:60", "offset minute 60");
    time_bad("2026-11-21T18:30:00 Z", "space before zone");
    time_bad("2026-11-21X18:30:00Z", "bad separator");
    time_bad("2026/11/21T18:30:00Z", "slashes");
    time_bad("2026-11-21T18.30.00Z", "dots in the time");
    time_bad("26-11-21T18:30:00Z", "two-digit year");
    time_bad("2026-1-21T18:30:00Z", "one-digit month");
    time_bad("+026-11-21T18:30:00Z", "sign in the year");
    time_bad("2026-11-21T1a:30:00Z", "letter in the hour");
    time_bad("2026-11-21", "date only");
    time_bad("", "empty");
    time_bad("2026-11-21T18:30:00.123456789012345678901Z", "too long");

    /* a refused time leaves *out alone */
    t = 777;
    ok(rooms_time_parse("1970-01-01T00:30:00+01:00", 25, &t) == -1
       && t == 777, "a time before the epoch does not write *out");

    /* only s[0..len) is read */
    memcpy(s, "2026-11-21T18:30:00Zjunk", 25);
    t = 0;
    ok(rooms_time_parse(s, 20, &t) == 0 && t == 1795285800,
       "a 20-byte prefix parses on its own");
    ok(rooms_time_parse(s, 19, &t) == -1, "a 19-byte prefix is too short");
}


static void
format_is(int64_t t, const char *want)
{
    int64_t  back;
    char     out[ROOMS_TIME_LEN + 1];

    memset(out, 'x', sizeof(out));
    rooms_time_format(t, out);
    is_str(out, want, "format %lld", (long long) t);

    back = -1;
    ok(rooms_time_parse(out, strlen(out), &back) == 0 && back == t,
       "format then parse of %lld round-trips", (long long) t);
}


static void
test_time_format(void)
{
    int64_t    t, back;
    unsigned   n, bad;
    time_t     tt;
    struct tm  tm;
    char       out[ROOMS_TIME_LEN + 1], want[64];

    format_is(0, "1970-01-01T00:00:00Z");
    format_is(1795285800, "2026-11-21T18:30:00Z");
    format_is(1798761599, "2026-12-31T23:59:59Z");
    format_is(1835395200, "2028-02-29T00:00:00Z");
    format_is(951827696, "2000-02-29T12:34:56Z");
    format_is(2147483648LL, "2038-01-19T03:14:08Z");
    format_is(4102444799LL, "2099-12-31T23:59:59Z");
    format_is(4102444800LL, "2100-01-01T00:00:00Z");

    /* against the C library, across 1970..2100 */
    n = 0;
    bad = 0;

    for (t = 0; t <= 4102444800LL; t += 86400 * 37 + 3607) {
        tt = (time_t) t;
        gmtime_r(&tt, &tm);
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);

        rooms_time_format(t, out);

        back = -1;
        if (strcmp(out, want) != 0
            || rooms_time_parse(out, strlen(out), &back) != 0 || back != t)
        {
            if (bad++ < 5) {
                diag("t %lld: got %s, want %s, back %lld", (long long) t,
                     out, want, (long long) back);
            }
        }

        n++;
    }

    ok(n > 1000 && bad == 0,
       "format agrees with gmtime_r and round-trips (%u values)", n);
}


/* create */

static int
create_len(const char *body, size_t len, rooms_room_t *room,
    rooms_error_t *err)
{
    memset(err, 0, sizeof(rooms_error_t));

    return rooms_parse_create(body, len, CAP, NOW, room, err);
}


static int
create(const char *body, rooms_room_t *room, rooms_error_t *err)
{
    return create_len(body, strlen(body), room, err);
}


/* A create body that must succeed; returns 1 when it did. */
static int
create_ok(const char *body, rooms_room_t *room)
{
    rooms_error_t  err;

    if (!ok(create(body, room, &err) == 0, "create %s accepted", body)) {
        diag("%d %s: %s", err.status, err.code ? err.code : "(null)",
             err.message);
        return 0;
    }

    return 1;
}


static void
fails_len(const char *body, size_t len, int status, const char *code,
    const char *name)
{
    int            rc;
    rooms_room_t   room;
    rooms_error_t  err;

    rc = create_len(body, len, &room, &err);

    if (!ok(rc == -1 && err.status == status && err.code != NULL
            && strcmp(err.code, code) == 0 && err.message[0] != '\0',
            "create refused, %d %s: %s", status, code, name))
    {
        diag("rc %d, status %d, code %s, message %s", rc, err.status,
             err.code ? err.code : "(null)", err.message);
    }
}


static void
fails(const char *body, int status, const char *code)
{
    fails_len(body, strlen(body), status, code, body);
}


static void
test_create_defaults(void)
{
    rooms_room_t   room;
    rooms_error_t  err;

    memset(&room, 0x5a, sizeof(room));

    is_int(create_len(NULL, 0, &room, &err), 0, "an empty body is accepted");
    is_int(room.activity, ROOMS_ACTIVITY_DEFAULT, "default activity index");
    is_int(ROOMS_ACTIVITY_DEFAULT, 6, "the default activity is index 6");
    is_str(rooms_activities[room.activity].name, "chat",
           "the default activity is chat");
    is_int(room.admission, ROOMS_ADMISSION_OPEN, "default admission open");
    is_str(room.audience, "link", "default audience link");
    is_int(room.max_participants, CAP, "default max is the cap");
    is_int(room.start_at, NOW, "default start is now");
    is_str(room.title, "", "default title empty");
    is_int(room.locked, 0, "not locked");
    is_int(room.ended_at, 0, "not ended");
    is_int(room.participants, 0, "no participants");
    is_int(room.id, 0, "no id yet");

    memset(&room, 0x5a, sizeof(room));

    if (create_ok("{}", &room)) {
        ok(room.activity == 6 && room.admission == 0 && room.locked == 0
           && room.max_participants == CAP && room.start_at == NOW
           && strcmp(room.audience, "link") == 0 && room.title[0] == '\0',
           "{} gives the same defaults");
    }

    memset(&err, 0, sizeof(err));
    ok(rooms_parse_create(NULL, 0, ROOMS_PARTICIPANTS_LIMIT, NOW, &room,
                          &err) == 0
       && room.max_participants == ROOMS_PARTICIPANTS_LIMIT,
       "the default max follows the cap given");
}


static void
test_create_activity(void)
{
    unsigned       i;
    char           body[128];
    rooms_room_t   room;

    static const char  *names[] = {
        "drinks", "dancing", "family", "study_break", "game_night",
        "friends", "chat"
    };

    is_int(rooms_nactivities, 7, "seven activities");

    for (i = 0; i < 7 && i < rooms_nactivities; i++) {
        is_str(rooms_activities[i].name, names[i], "activity %u name", i);
        is_int(rooms_activity_find(names[i], strlen(names[i])), i,
               "rooms_activity_find(%s)", names[i]);

        snprintf(body, sizeof(body), "{\"activity\":\"%s\"}", names[i]);

        if (create_ok(body, &room)) {
            is_int(room.activity, i, "activity %s is index %u", names[i], i);
        }
    }

    is_int(rooms_activity_find("cha", 3), -1, "a prefix is not an activity");
    is_int(rooms_activity_find("chats", 5), -1, "a longer name is not one");
    is_int(rooms_activity_find("", 0), -1, "empty is not an activity");

    fails("{\"activity\":\"party\"}", 422, "invalid_field");
    fails("{\"activity\":\"Chat\"}", 422, "invalid_field");
    fails("{\"activity\":\"chat \"}", 422, "invalid_field");
    fails("{\"activity\":\"\"}", 422, "invalid_field");
    fails("{\"activity\":6}", 422, "invalid_field");
    fails("{\"activity\":null}", 422, "invalid_field");
}


/* {"title":"<s repeated n times>"} */
static void
title_body(char *body, size_t size, const char *s, unsigned n)
{
    size_t    len;
    unsigned  i;

    len = (size_t) snprintf(body, size, "{\"title\":\"");

    for (i = 0; i < n; i++) {
        len += (size_t) snprintf(body + len, size - len, "%s", s);
    }

    snprintf(body + len, size - len, "\"}");
}


static void
test_create_title(void)
{
    char           body[1024], want[1024];
    unsigned       i;
    rooms_room_t   room;
    rooms_error_t  err;

    if (create_ok("{\"title\":\"Friday \\u00e9 \\\"quoted\\\"\"}", &room)) {
        is_str(room.title, "Friday \xc3\xa9 \"quoted\"",
               "title unescaped into UTF-8");
    }

    fails("{\"title\":\"a\\u0001b\"}", 422, "invalid_field");
    fails("{\"title\":\"tab\\there\"}", 422, "invalid_field");
    fails("{\"title\":\"line\\nbreak\"}", 422, "invalid_field");
    fails("{\"title\":\"cr\\r\"}", 422, "invalid_field");
    fails("{\"title\":\"esc\\u001b[31m\"}", 422, "invalid_field");
    fails("{\"title\":\"del\\u007f\"}", 422, "invalid_field");
    fails("{\"title\":5}", 422, "invalid_field");
    fails("{\"title\":null}", 422, "invalid_field");
    fails("{\"title\":[\"a\"]}", 422, "invalid_field");

    /* 100 two-byte characters: 200 bytes, fine */
    title_body(body, sizeof(body), "\xc3\xa9", 100);
    want[0] = '\0';
    for (i = 0; i < 100; i++) {
        strcat(want, "\xc3\xa9");
    }

    if (create_ok("{\"title\":\"\"}", &room)) {
        is_str(room.title, "", "an empty title is allowed");
    }

    memset(&room, 0, sizeof(room));
    ok(create(body, &room, &err) == 0
       && strcmp(room.title, want) == 0,
       "title of 100 two-byte characters accepted and kept");

    title_body(body, sizeof(body), "\xc3\xa9", 101);
    fails(body, 422, "invalid_field");

    /* 100 four-byte characters: exactly ROOMS_TITLE_MAX_BYTES */
    title_body(body, sizeof(body), "\xf0\x9f\x8e\x89", 100);
    ok(create(body, &room, &err) == 0
       && strlen(room.title) == 400,
       "title of 100 four-byte characters (400 bytes) accepted");

    title_body(body, sizeof(body), "\xf0\x9f\x8e\x89", 101);
    fails(body, 422, "invalid_field");

    title_body(body, sizeof(body), "x", 100);
    ok(create(body, &room, &err) == 0
       && strlen(room.title) == 100,
       "title of 100 ASCII characters accepted");

    title_body(body, sizeof(body), "x", 101);
    fails(body, 422, "invalid_field");

    /* escapes count as the character they stand for */
    title_body(body, sizeof(body), "\\u00e9", 100);
    ok(create(body, &room, &err) == 0
       && strlen(room.title) == 200,
       "100 escaped \\u00e9 are 100 characters");
}


static void
test_create_audience(void)
{
    unsigned       i;
    char           body[256];
    rooms_room_t   room;
    rooms_error_t  err;

    static const char  *good[] = {
        "link", "friends", "public", "group:abc-1.x", "group:A_Z.09-z",
        "group:x"
    };

    static const char  *bad[] = {
        "group:", "group:a b", "everyone", "Link", "", "group", "group:a/b",
        "group:\xc3\xa4", "group:a:b", " link", "group:a\\u0000"
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(body, sizeof(body), "{\"audience\":\"%s\"}", good[i]);

        if (create_ok(body, &room)) {
            is_str(room.audience, good[i], "audience %s kept", good[i]);
        }
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"audience\":\"%s\"}", bad[i]);
        fails(body, strstr(bad[i], "\\u0000") ? 400 : 422,
              strstr(bad[i], "\\u0000") ? "invalid_json" : "invalid_field");
    }

    fails("{\"audience\":7}", 422, "invalid_field");

    /* the group id: 64 characters at most */
    snprintf(body, sizeof(body), "{\"audience\":\"group:%064d\"}", 0);
    ok(create(body, &room, &err) == 0
       && strlen(room.audience) == 70,
       "a 64-character group id accepted");

    snprintf(body, sizeof(body), "{\"audience\":\"group:%065d\"}", 0);
    fails(body, 422, "invalid_field");
}


static void
test_create_admission_max(void)
{
    char           body[128];
    rooms_room_t   room;
    rooms_error_t  err;

    if (create_ok("{\"admission\":\"knock\"}", &room)) {
        is_int(room.admission, ROOMS_ADMISSION_KNOCK, "admission knock");
    }

    if (create_ok("{\"admission\":\"open\"}", &room)) {
        is_int(room.admission, ROOMS_ADMISSION_OPEN, "admission open");
    }

    fails("{\"admission\":\"closed\"}", 422, "invalid_field");
    fails("{\"admission\":\"Knock\"}", 422, "invalid_field");
    fails("{\"admission\":1}", 422, "invalid_field");
    fails("{\"admission\":true}", 422, "invalid_field");

    /* the host-absent policy */
    if (create_ok("{}", &room)) {
        is_int(room.host_absent, ROOMS_HOST_ABSENT_STAY,
               "host_absent defaults to stay_open");
    }

    if (create_ok("{\"host_absent\":\"lock\"}", &room)) {
        is_int(room.host_absent, ROOMS_HOST_ABSENT_LOCK, "host_absent lock");
    }

    if (create_ok("{\"host_absent\":\"end\"}", &room)) {
        is_int(room.host_absent, ROOMS_HOST_ABSENT_END, "host_absent end");
    }

    if (create_ok("{\"host_absent\":\"stay_open\"}", &room)) {
        is_int(room.host_absent, ROOMS_HOST_ABSENT_STAY,
               "host_absent stay_open");
    }

    fails("{\"host_absent\":\"close\"}", 422, "invalid_field");
    fails("{\"host_absent\":\"End\"}", 422, "invalid_field");
    fails("{\"host_absent\":\"end \"}", 422, "invalid_field");
    fails("{\"host_absent\":\"\"}", 422, "invalid_field");
    fails("{\"host_absent\":2}", 422, "invalid_field");
    fails("{\"host_absent\":null}", 422, "invalid_field");

    is_str(rooms_host_absent_name(ROOMS_HOST_ABSENT_END), "end",
           "the name of end");
    is_str(rooms_host_absent_name(77), "stay_open",
           "an unknown value names stay_open");
    is_int(rooms_host_absent_find("lock", 4), ROOMS_HOST_ABSENT_LOCK,
           "find lock");
    is_int(rooms_host_absent_find("lockx", 4), ROOMS_HOST_ABSENT_LOCK,
           "find takes len bytes");
    is_int(rooms_host_absent_find("loc", 3), -1, "a prefix is not found");

    if (create_ok("{\"max_participants\":2}", &room)) {
        is_int(room.max_participants, 2, "max_participants 2");
    }

    snprintf(body, sizeof(body), "{\"max_participants\":%d}", CAP);

    if (create_ok(body, &room)) {
        is_int(room.max_participants, CAP, "max_participants = cap");
    }

    if (create_ok("{\"max_participants\":17}", &room)) {
        is_int(room.max_participants, 17, "max_participants 17");
    }

    fails("{\"max_participants\":1}", 422, "invalid_field");
    fails("{\"max_participants\":0}", 422, "invalid_field");
    fails("{\"max_participants\":-5}", 422, "invalid_field");

    snprintf(body, sizeof(body), "{\"max_participants\":%d}", CAP + 1);
    fails(body, 422, "invalid_field");

    fails("{\"max_participants\":\"10\"}", 422, "invalid_field");
    fails("{\"max_participants\":10.5}", 422, "invalid_field");
    fails("{\"max_participants\":10.0}", 422, "invalid_field");
    fails("{\"max_participants\":true}", 422, "invalid_field");
    fails("{\"max_participants\":null}", 422, "invalid_field");
    fails("{\"max_participants\":65538}", 422, "invalid_field");
    fails("{\"max_participants\":4294967298}", 422, "invalid_field");

    /* the cap decides, up to the hard limit */
    memset(&err, 0, sizeof(err));
    ok(rooms_parse_create("{\"max_participants\":1000}", 25,
                          ROOMS_PARTICIPANTS_LIMIT, NOW, &room, &err) == 0
       && room.max_participants == 1000,
       "max_participants 1000 with cap 1000");

    memset(&err, 0, sizeof(err));
    ok(rooms_parse_create("{\"max_participants\":10}", 23, 8, NOW, &room,
                          &err) == -1 && err.status == 422,
       "max_participants 10 with cap 8 refused");
}


/* the admin's cap must itself be in 2..1000: anything else is a bug, 500 */
static void
cap_refused(unsigned cap, const char *body)
{
    int            rc;
    char          *out;
    rooms_room_t   room;
    rooms_error_t  err;

    memset(&err, 0, sizeof(err));
    rc = rooms_parse_create(body, body ? strlen(body) : 0, cap, NOW, &room,
                            &err);

    if (!ok(rc == -1 && err.status == 500 && err.code != NULL
            && err.message[0] != '\0',
            "cap %u, body %s: refused with 500", cap, body ? body : "empty"))
    {
        diag("rc %d, status %d, code %s, message %s, max %u", rc, err.status,
             err.code ? err.code : "(null)", err.message,
             (unsigned) room.max_participants);
        return;
    }

    out = rooms_render_error(&err);
    ok(out != NULL && strstr(out, "\"error\"") != NULL,
       "cap %u: the 500 renders as an error document", cap);
    free(out);
}


static void
test_create_cap(void)
{
    rooms_room_t   room;
    rooms_error_t  err;

    cap_refused(1, NULL);
    cap_refused(1, "{}");
    cap_refused(1, "{\"max_participants\":1}");
    cap_refused(0, NULL);
    cap_refused(70000, NULL);
    cap_refused(70000, "{\"max_participants\":4464}");
    cap_refused(ROOMS_PARTICIPANTS_LIMIT + 1, NULL);
    cap_refused(65536, NULL);
    cap_refused(4294967295u, NULL);

    /* the bounds themselves are fine */
    memset(&err, 0, sizeof(err));
    ok(rooms_parse_create(NULL, 0, ROOMS_PARTICIPANTS_MIN, NOW, &room, &err)
       == 0 && room.max_participants == ROOMS_PARTICIPANTS_MIN,
       "cap %d (the minimum) accepted as the default max",
       ROOMS_PARTICIPANTS_MIN);

    memset(&err, 0, sizeof(err));
    ok(rooms_parse_create(NULL, 0, ROOMS_PARTICIPANTS_LIMIT, NOW, &room,
                          &err) == 0
       && room.max_participants == ROOMS_PARTICIPANTS_LIMIT,
       "cap %d (the limit) accepted as the default max",
       ROOMS_PARTICIPANTS_LIMIT);
}


static void
test_create_start(void)
{
    rooms_room_t  room;

    if (create_ok("{\"start_at\":\"2026-12-24T18:30:00Z\"}", &room)) {
        is_int(room.start_at, 1798137000, "a future start is kept");
    }

    if (create_ok("{\"start_at\":\"2027-06-01T12:00:00+02:00\"}", &room)) {
        is_int(room.start_at, 1811844000, "a start with an offset");
    }

    /* NOW is 2026-11-21T18:30:00Z: 5 minutes before it still means now */
    if (create_ok("{\"start_at\":\"2026-11-21T18:25:00Z\"}", &room)) {
        is_int(room.start_at, NOW, "a start 5 minutes past becomes now");
    }

    {
        rooms_error_t  err;

        is_int(create("{\"start_at\":\"2026-11-21T18:24:59Z\"}", &room,
                      &err), -1, "a start further in the past is refused");
        ok(err.status == 422 && strstr(err.message, "in the past") != NULL,
           "422, \"in the past\"");
        is_int(create("{\"start_at\":\"1970-01-01T00:00:00Z\"}", &room,
                      &err), -1, "the epoch is refused");
    }

    if (create_ok("{\"start_at\":null}", &room)) {
        is_int(room.start_at, NOW, "start_at null means now");
    }

    /* NOW + 366 days exactly is the last second allowed */
    if (create_ok("{\"start_at\":\"2027-11-22T18:30:00Z\"}", &room)) {
        is_int(room.start_at, NOW + 366 * 86400, "366 days ahead kept");
    }

    fails("{\"start_at\":\"2027-11-22T18:30:01Z\"}", 422, "invalid_field");
    fails("{\"start_at\":\"2028-01-01T00:00:00Z\"}", 422, "invalid_field");
    fails("{\"start_at\":\"2099-12-31T23:59:59Z\"}", 422, "invalid_field");
    fails("{\"start_at\":\"tomorrow\"}", 422, "invalid_field");
    fails("{\"start_at\":\"\"}", 422, "invalid_field");
    fails("{\"start_at\":\"2026-11-21\"}", 422, "invalid_field");
    fails("{\"start_at\":\"2026-02-29T10:00:00Z\"}", 422, "invalid_field");
    fails("{\"start_at\":1798137000}", 422, "invalid_field");
    fails("{\"start_at\":false}", 422, "invalid_field");
    fails("{\"start_at\":\"1970-01-01T00:30:00+01:00\"}", 422,
          "invalid_field");

    fails("{\"start_at\":\"1970-01-01T01:00:00+01:00\"}", 422,
          "invalid_field");
}


static void
test_create_all_and_unknown(void)
{
    rooms_room_t   room;
    rooms_error_t  err;

    if (create_ok("{\"title\":\"Board games\",\"activity\":\"game_night\","
                  "\"audience\":\"group:club.7\",\"admission\":\"knock\","
                  "\"max_participants\":12,"
                  "\"start_at\":\"2026-12-24T18:30:00Z\"}", &room))
    {
        ok(strcmp(room.title, "Board games") == 0 && room.activity == 4
           && strcmp(room.audience, "group:club.7") == 0
           && room.admission == ROOMS_ADMISSION_KNOCK
           && room.max_participants == 12 && room.start_at == 1798137000
           && room.locked == 0,
           "every field set at once");
    }

    fails("{\"color\":\"red\"}", 422, "unknown_field");
    fails("{\"title\":\"ok\",\"lockd\":true}", 422, "unknown_field");
    fails("{\"Title\":\"x\"}", 422, "unknown_field");
    fails("{\"locked\":true}", 422, "unknown_field");
    fails("{\"code\":\"AAAAAAAAAAAAAAAAAAAAAA\"}", 422, "unknown_field");
    fails("{\"host_key\":\"x\"}", 422, "unknown_field");
    fails("{\"id\":1}", 422, "unknown_field");

    create("{\"colour\":1}", &room, &err);
    ok(strstr(err.message, "colour") != NULL,
       "the unknown field is named in the message (%s)", err.message);

    create("{\"max_participants\":1}", &room, &err);
    ok(strstr(err.message, "max_participants") != NULL,
       "the invalid field is named in the message (%s)", err.message);
}


/*
 * An unknown field's name is shown up to 64 bytes, cut between characters:
 * the message must stay UTF-8, or the error document cannot be rendered
 * (jansson refuses it and the API answered 500).
 */
static void
unknown_cut(const char *tail, size_t as, size_t shown, int patch,
    const char *what)
{
    char           body[256], want[128];
    char          *out;
    size_t         n;
    rooms_room_t   room;
    rooms_patch_t  p;
    rooms_error_t  err;

    n = (size_t) snprintf(body, sizeof(body), "{\"");
    memset(body + n, 'a', as);
    n += as;
    n += (size_t) snprintf(body + n, sizeof(body) - n, "%s\":1}", tail);

    memset(&err, 0, sizeof(err));

    if (patch) {
        rooms_parse_patch(body, n, CAP, &p, &err);
    } else {
        rooms_parse_create(body, n, CAP, NOW, &room, &err);
    }

    memset(want, 'a', shown);
    want[shown] = '\0';

    ok(err.status == 422 && strcmp(err.code, "unknown_field") == 0
       && strstr(err.message, want) != NULL
       && strchr(err.message, '?') == NULL,
       "%s %s: 422, the name cut to %zu bytes (%s)",
       patch ? "patch" : "create", what, shown, err.message);

    out = rooms_render_error(&err);
    ok(out != NULL, "%s %s: the error document renders",
       patch ? "patch" : "create", what);
    free(out);
}


static void
test_unknown_field_utf8(void)
{
    int            patch;
    char           buf[8];
    rooms_error_t  err;

    for (patch = 0; patch <= 1; patch++) {
        unknown_cut("\xc3\xa9", 63, 63, patch, "2-byte char at 64-65");
        unknown_cut("\xe2\x82\xac", 62, 62, patch, "3-byte char at 63-65");
        unknown_cut("\xe2\x82\xac", 63, 63, patch, "3-byte char at 64-66");
        unknown_cut("\xf0\x9f\x98\x80", 61, 61, patch,
                    "4-byte char at 62-65");
        unknown_cut("\xf0\x9f\x98\x80", 60, 60, patch,
                    "4-byte char ending at 64");
        unknown_cut("\xc3\xa9", 62, 62, patch, "2-byte char ending at 64");
    }

    is_int(rooms_utf8_prefix("a\xc3\xa9", 3, 2), 1,
           "prefix: a character that does not fit is left out");
    is_int(rooms_utf8_prefix("a\xc3\xa9", 3, 3), 3,
           "prefix: one that fits is kept");
    is_int(rooms_utf8_prefix("ab", 2, 64), 2, "prefix: a short text whole");
    is_int(rooms_utf8_prefix("a\xff" "b", 3, 2), 2,
           "prefix: a byte that is not UTF-8 counts as one");

    /* rooms_error() itself never keeps a cut or invalid sequence */
    rooms_error(&err, 422, "x", "%s", "ab\xe2\x82");
    is_str(err.message, "ab", "a character cut at the end is dropped");
    rooms_error(&err, 422, "x", "%.3s!", "ab\xc3\xa9");
    is_str(err.message, "ab?!", "a character cut in the middle becomes ?");
    rooms_error(&err, 422, "x", "a\xff" "b\xed\xa0\x80" "c\xc0\xaf" "d");
    is_str(err.message, "a?b???c??d",
           "bytes that are not UTF-8 (surrogate, overlong) become ?");
    snprintf(buf, sizeof(buf), "\xe2\x82\xac\xf0\x9f\x98\x80");
    rooms_error(&err, 422, "x", "%s", buf);
    is_str(err.message, "\xe2\x82\xac\xf0\x9f\x98\x80",
           "whole characters are kept");
}


static void
test_create_bad_json(void)
{
    static const char  nul_raw[] = "{\"title\":\"a\0b\"}";
    static const char  prefix[] = "{\"title\":\"abc\"}garbage";

    rooms_room_t   room;
    rooms_error_t  err;

    fails("{", 400, "invalid_json");
    fails("{\"title\":}", 400, "invalid_json");
    fails("{'title':'x'}", 400, "invalid_json");
    fails("{\"title\":\"x\",}", 400, "invalid_json");
    fails("not json", 400, "invalid_json");
    fails("{} {}", 400, "invalid_json");
    fails("{}x", 400, "invalid_json");
    fails("[]", 400, "invalid_json");
    fails("[{\"title\":\"x\"}]", 400, "invalid_json");
    fails("\"title\"", 400, "invalid_json");
    fails("null", 400, "invalid_json");
    fails("42", 400, "invalid_json");
    fails("true", 400, "invalid_json");
    fails(" ", 400, "invalid_json");
    fails("{\"title\":\"a\",\"title\":\"b\"}", 400, "invalid_json");
    fails("{\"activity\":\"chat\",\"title\":\"x\",\"activity\":\"chat\"}",
          400, "invalid_json");
    fails("{\"title\":\"a\\u0000b\"}", 400, "invalid_json");
    fails("{\"title\":\"\\u0000\"}", 400, "invalid_json");
    fails("{\"ti\\u0000tle\":\"a\"}", 400, "invalid_json");
    fails("{\"title\":\"\xff\xfe\"}", 400, "invalid_json");
    fails("{\"title\":\"\xc3\"}", 400, "invalid_json");
    fails("{\"title\":\"\\ud800\"}", 400, "invalid_json");

    fails_len(nul_raw, sizeof(nul_raw) - 1, 400, "invalid_json",
              "a raw NUL byte inside a string");

    /* len, not the terminating zero, ends the body */
    ok(create_len(prefix, 15, &room, &err) == 0
       && strcmp(room.title, "abc") == 0,
       "the body is the first len bytes only");
    fails_len(prefix, 14, 400, "invalid_json", "a body cut short");
}


/* patch */

static int
patch_of(const char *body, rooms_patch_t *p, rooms_error_t *err)
{
    memset(err, 0, sizeof(rooms_error_t));

    return rooms_parse_patch(body, body ? strlen(body) : 0, CAP, p, err);
}


static void
patch_fails(const char *body, int status, const char *code)
{
    int            rc;
    rooms_patch_t  p;
    rooms_error_t  err;

    rc = patch_of(body, &p, &err);

    if (!ok(rc == -1 && err.status == status && err.code != NULL
            && strcmp(err.code, code) == 0,
            "patch refused, %d %s: %s", status, code, body ? body : "NULL"))
    {
        diag("rc %d, status %d, code %s, message %s", rc, err.status,
             err.code ? err.code : "(null)", err.message);
    }
}


static int
no_fields(const rooms_patch_t *p)
{
    return !p->has_title && !p->has_audience && !p->has_admission
           && !p->has_locked && !p->has_max && !p->has_host_absent;
}


static void
test_parse_patch(void)
{
    rooms_patch_t  p;
    rooms_error_t  err;

    patch_fails(NULL, 400, "invalid_json");
    patch_fails("", 400, "invalid_json");

    memset(&p, 0xff, sizeof(p));
    ok(patch_of("{}", &p, &err) == 0 && no_fields(&p),
       "{} is a patch that changes nothing");

    ok(patch_of("{\"title\":\"New \\\"name\\\"\"}", &p, &err) == 0
       && p.has_title && strcmp(p.title, "New \"name\"") == 0
       && !p.has_audience && !p.has_admission && !p.has_locked
       && !p.has_max,
       "patch title only");

    ok(patch_of("{\"title\":\"\"}", &p, &err) == 0 && p.has_title
       && p.title[0] == '\0',
       "patch title to empty");

    ok(patch_of("{\"audience\":\"group:g-1\"}", &p, &err) == 0
       && p.has_audience && strcmp(p.audience, "group:g-1") == 0
       && !p.has_title,
       "patch audience");

    ok(patch_of("{\"admission\":\"knock\"}", &p, &err) == 0
       && p.has_admission && p.admission == ROOMS_ADMISSION_KNOCK,
       "patch admission knock");

    ok(patch_of("{\"admission\":\"open\"}", &p, &err) == 0
       && p.has_admission && p.admission == ROOMS_ADMISSION_OPEN,
       "patch admission open");

    ok(patch_of("{\"locked\":true}", &p, &err) == 0 && p.has_locked
       && p.locked == 1,
       "patch locked true");

    ok(patch_of("{\"locked\":false}", &p, &err) == 0 && p.has_locked
       && p.locked == 0,
       "patch locked false");

    ok(patch_of("{\"max_participants\":2}", &p, &err) == 0 && p.has_max
       && p.max_participants == 2,
       "patch max_participants 2");

    ok(patch_of("{\"max_participants\":50}", &p, &err) == 0 && p.has_max
       && p.max_participants == CAP,
       "patch max_participants = cap");

    ok(patch_of("{\"title\":\"T\",\"audience\":\"public\","
                "\"admission\":\"knock\",\"locked\":true,"
                "\"max_participants\":9}", &p, &err) == 0
       && p.has_title && p.has_audience && p.has_admission && p.has_locked
       && p.has_max && strcmp(p.title, "T") == 0
       && strcmp(p.audience, "public") == 0 && p.admission == 1
       && p.locked == 1 && p.max_participants == 9,
       "patch every field at once");

    patch_fails("{\"code\":\"AAAAAAAAAAAAAAAAAAAAAA\"}", 422,
                "unknown_field");
    patch_fails("{\"host_key\":\"x\"}", 422, "unknown_field");
    patch_fails("{\"id\":3}", 422, "unknown_field");
    patch_fails("{\"ended_at\":null}", 422, "unknown_field");
    patch_fails("{\"participants\":0}", 422, "unknown_field");
    patch_fails("{\"lockd\":true}", 422, "unknown_field");
    patch_fails("{\"locked\":true,\"colour\":1}", 422, "unknown_field");

    patch_fails("{\"locked\":\"true\"}", 422, "invalid_field");
    patch_fails("{\"locked\":1}", 422, "invalid_field");
    patch_fails("{\"locked\":0}", 422, "invalid_field");
    patch_fails("{\"locked\":null}", 422, "invalid_field");

    patch_fails("{\"title\":\"a\\nb\"}", 422, "invalid_field");
    patch_fails("{\"title\":7}", 422, "invalid_field");
    patch_fails("{\"audience\":\"group:\"}", 422, "invalid_field");
    patch_fails("{\"admission\":\"closed\"}", 422, "invalid_field");
    patch_fails("{\"max_participants\":1}", 422, "invalid_field");
    patch_fails("{\"max_participants\":51}", 422, "invalid_field");
    patch_fails("{\"max_participants\":\"10\"}", 422, "invalid_field");

    patch_fails("{", 400, "invalid_json");
    patch_fails("[]", 400, "invalid_json");
    patch_fails("null", 400, "invalid_json");
    patch_fails("{\"locked\":true,\"locked\":false}", 400, "invalid_json");
    patch_fails("{\"title\":\"\\u0000\"}", 400, "invalid_json");
}


/* title: C1 controls, separators and text-direction characters */

/* Writes cp as UTF-8 into out (at least 5 bytes); returns the length. */
static size_t
utf8(uint32_t cp, char *out)
{
    size_t  n;

    if (cp < 0x80) {
        out[0] = (char) cp;
        n = 1;

    } else if (cp < 0x800) {
        out[0] = (char) (0xc0 | cp >> 6);
        out[1] = (char) (0x80 | (cp & 0x3f));
        n = 2;

    } else if (cp < 0x10000) {
        out[0] = (char) (0xe0 | cp >> 12);
        out[1] = (char) (0x80 | (cp >> 6 & 0x3f));
        out[2] = (char) (0x80 | (cp & 0x3f));
        n = 3;

    } else {
        out[0] = (char) (0xf0 | cp >> 18);
        out[1] = (char) (0x80 | (cp >> 12 & 0x3f));
        out[2] = (char) (0x80 | (cp >> 6 & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        n = 4;
    }

    out[n] = '\0';

    return n;
}


/*
 * {"title":"<prefix><cp><suffix>"} with cp as a \uXXXX escape (escaped)
 * or as raw UTF-8 bytes.
 */
static void
title_with(char *body, size_t size, const char *prefix, uint32_t cp,
    int escaped, const char *suffix)
{
    char  c[8];

    if (escaped) {
        /* cp is always in the BMP here; the mask only quiets the compiler */
        snprintf(c, sizeof(c), "\\u%04x", (unsigned) (cp & 0xffff));

    } else {
        utf8(cp, c);
    }

    snprintf(body, size, "{\"title\":\"%s%s%s\"}", prefix, c, suffix);
}


/* 1 when err is the title's 422 for a forbidden character */
static int
is_control_error(int rc, const rooms_error_t *err)
{
    return rc == -1 && err->status == 422 && err->code != NULL
           && strcmp(err->code, "invalid_field") == 0
           && strstr(err->message, "must not contain control") != NULL;
}


/* The title body must be refused by both create and PATCH. */
static int
title_refused(const char *body)
{
    int            rc1, rc2;
    rooms_room_t   room;
    rooms_patch_t  p;
    rooms_error_t  e1, e2;

    rc1 = create(body, &room, &e1);
    rc2 = patch_of(body, &p, &e2);

    if (is_control_error(rc1, &e1) && is_control_error(rc2, &e2)
        && !p.has_title)
    {
        return 1;
    }

    diag("%s: create rc %d %d %s \"%s\"; patch rc %d %d %s \"%s\"", body,
         rc1, e1.status, e1.code ? e1.code : "(null)", e1.message,
         rc2, e2.status, e2.code ? e2.code : "(null)", e2.message);

    return 0;
}


/* The title body must be accepted by both, keeping want byte for byte. */
static int
title_accepted(const char *body, const char *want)
{
    int            rc1, rc2;
    rooms_room_t   room;
    rooms_patch_t  p;
    rooms_error_t  e1, e2;

    memset(&room, 0, sizeof(room));
    memset(&p, 0, sizeof(p));

    rc1 = create(body, &room, &e1);
    rc2 = patch_of(body, &p, &e2);

    if (rc1 == 0 && rc2 == 0 && strcmp(room.title, want) == 0
        && p.has_title && strcmp(p.title, want) == 0)
    {
        return 1;
    }

    diag("%s: create rc %d \"%s\" title \"%s\"; patch rc %d \"%s\" "
         "title \"%s\"", body, rc1, rc1 ? e1.message : "", room.title,
         rc2, rc2 ? e2.message : "", p.title);

    return 0;
}


static void
test_title_controls(void)
{
    char           body[512], want[64], big[256], c[8];
    unsigned       i, j, k, bad;
    uint32_t       cp;
    rooms_room_t   room;
    rooms_patch_t  p;
    rooms_error_t  err;

    static const uint32_t  named[] = {
        0x80, 0x85, 0x9b, 0x9f,               /* C1: PAD, NEL, CSI, APC */
        0x2028, 0x2029,                       /* line, paragraph separator */
        0x202a, 0x202b, 0x202c, 0x202d, 0x202e,  /* LRE RLE PDF LRO RLO */
        0x2066, 0x2067, 0x2068, 0x2069        /* LRI RLI FSI PDI */
    };

    /* before and after the character: ASCII, 2-, 3- and 4-byte UTF-8 */
    static const char  *prefixes[] = {
        "", "a", "\xc3\xa9", "\xe2\x98\x95", "\xf0\x9f\x8e\x89"
    };

    /* just outside each refused range: ordinary text */
    static const uint32_t  neighbours[] = {
        0x7e, 0xa0, 0xa9, 0x2027, 0x202f, 0x2030, 0x2070
    };

    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        title_with(body, sizeof(body), "Hi ", named[i], 1, " there");
        ok(title_refused(body), "title with \\u%04x (escaped) refused, "
           "create and patch", (unsigned) named[i]);

        title_with(body, sizeof(body), "Hi ", named[i], 0, " there");
        ok(title_refused(body), "title with U+%04X (raw UTF-8) refused, "
           "create and patch", (unsigned) named[i]);
    }

    /* every C1 control, alone and after each width of character */
    bad = 0;

    for (cp = 0x80; cp <= 0x9f; cp++) {
        for (j = 0; j < sizeof(prefixes) / sizeof(prefixes[0]); j++) {
            for (k = 0; k < 2; k++) {
                title_with(body, sizeof(body), prefixes[j], cp, (int) k,
                           prefixes[j]);

                if (!title_refused(body)) {
                    bad++;
                }
            }
        }
    }

    ok(bad == 0, "every C1 control U+0080..U+009F refused after any "
       "character (%u accepted)", bad);

    /* every separator and direction character, after each width */
    bad = 0;

    for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if (named[i] < 0x2000) {
            continue;
        }

        for (j = 0; j < sizeof(prefixes) / sizeof(prefixes[0]); j++) {
            for (k = 0; k < 2; k++) {
                title_with(body, sizeof(body), prefixes[j], named[i],
                           (int) k, "");

                if (!title_refused(body)) {
                    bad++;
                }
            }
        }
    }

    ok(bad == 0, "U+2028/9, U+202A..E, U+2066..9 refused at the end, after "
       "any character (%u accepted)", bad);

    /* the spoof itself: "txt.exe" shown as "exe.txt" */
    ok(title_refused("{\"title\":\"invoice\\u202etxt.exe\"}"),
       "a right-to-left override title (the classic spoof) refused");

    /* the message names the field */
    create("{\"title\":\"a\\u2028b\"}", &room, &err);
    ok(strstr(err.message, "\"title\"") != NULL,
       "the message names the title (%s)", err.message);

    /* a refused patch sets nothing */
    memset(&p, 0, sizeof(p));
    ok(patch_of("{\"locked\":true,\"title\":\"x\\u0085\"}", &p, &err) == -1
       && is_control_error(-1, &err),
       "a patch with a C1 title among other fields is refused");

    /* ordinary Unicode still goes through */
    ok(title_accepted("{\"title\":\"Caf\xc3\xa9 \xe2\x98\x95 "
                      "\xf0\x9f\x8e\x89\"}",
                      "Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8e\x89"),
       "\"Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8e\x89\" accepted by create "
       "and patch");

    ok(title_accepted("{\"title\":\"Caf\\u00e9 \\u2615 \\ud83c\\udf89\"}",
                      "Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8e\x89"),
       "the same title written with escapes accepted");

    /* family: man ZWJ woman ZWJ girl */
    ok(title_accepted("{\"title\":\"Family \xf0\x9f\x91\xa8\xe2\x80\x8d"
                      "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7\"}",
                      "Family \xf0\x9f\x91\xa8\xe2\x80\x8d"
                      "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7"),
       "an emoji joined with U+200D (raw) accepted");

    /* rainbow flag: white flag, VS16, ZWJ, rainbow; escaped */
    ok(title_accepted("{\"title\":\"\\ud83c\\udff3\\ufe0f\\u200d"
                      "\\ud83c\\udf08\"}",
                      "\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d"
                      "\xf0\x9f\x8c\x88"),
       "an emoji with U+FE0F and U+200D (escaped) accepted");

    for (i = 0; i < sizeof(neighbours) / sizeof(neighbours[0]); i++) {
        utf8(neighbours[i], c);
        snprintf(want, sizeof(want), "x%sy", c);
        title_with(body, sizeof(body), "x", neighbours[i], 1, "y");
        ok(title_accepted(body, want), "U+%04X, next to a refused range, "
           "accepted", (unsigned) neighbours[i]);
    }

    /* U+200D counts as a code point: 50 x "a" ZWJ is 100, one more is not */
    strcpy(body, "{\"title\":\"");
    big[0] = '\0';

    for (i = 0; i < 50; i++) {
        strcat(body, "a\\u200d");
        strcat(big, "a\xe2\x80\x8d");
    }

    strcat(body, "\"}");
    ok(title_accepted(body, big),
       "50 letters each followed by U+200D (100 code points) accepted");

    body[strlen(body) - 2] = '\0';
    strcat(body, "a\"}");
    memset(&room, 0, sizeof(room));
    ok(create(body, &room, &err) == -1 && err.status == 422
       && strstr(err.message, "longer") != NULL,
       "101 code points with U+200D refused as too long (%s)", err.message);
}


/* apply */

static void
base_room(rooms_room_t *room)
{
    memset(room, 0, sizeof(rooms_room_t));

    room->id = 7;
    memcpy(room->code, CODE, sizeof(CODE));
    memset(room->host_hash, 0xab, sizeof(room->host_hash));
    strcpy(room->title, "Before");
    strcpy(room->audience, "link");
    room->activity = 2;
    room->admission = ROOMS_ADMISSION_OPEN;
    room->locked = 0;
    room->max_participants = 20;
    room->participants = 5;
    room->start_at = NOW;
    room->created_at = NOW - 3600;
}


static void
test_apply_patch(void)
{
    rooms_room_t   room, before;
    rooms_patch_t  p;
    rooms_error_t  err;

    base_room(&room);
    memset(&p, 0, sizeof(p));
    p.has_title = 1;
    strcpy(p.title, "After");
    p.has_locked = 1;
    p.locked = 1;
    p.has_max = 1;
    p.max_participants = 10;

    memset(&err, 0, sizeof(err));
    ok(rooms_apply_patch(&room, &p, &err) == 0, "a patch applies");
    ok(strcmp(room.title, "After") == 0 && room.locked == 1
       && room.max_participants == 10,
       "the patched fields changed");
    ok(strcmp(room.audience, "link") == 0
       && room.admission == ROOMS_ADMISSION_OPEN && room.activity == 2
       && room.id == 7 && strcmp(room.code, CODE) == 0
       && room.start_at == NOW && room.participants == 5,
       "the other fields did not");

    memset(&p, 0, sizeof(p));
    p.has_audience = 1;
    strcpy(p.audience, "group:x");
    p.has_admission = 1;
    p.admission = ROOMS_ADMISSION_KNOCK;
    ok(rooms_apply_patch(&room, &p, &err) == 0
       && strcmp(room.audience, "group:x") == 0
       && room.admission == ROOMS_ADMISSION_KNOCK
       && strcmp(room.title, "After") == 0 && room.locked == 1,
       "audience and admission patched, earlier changes kept");

    memset(&p, 0, sizeof(p));
    ok(patch_of("{\"host_absent\":\"end\"}", &p, &err) == 0
       && p.has_host_absent && p.host_absent == ROOMS_HOST_ABSENT_END
       && !p.has_locked && !p.has_title,
       "patch host_absent end, nothing else");
    ok(rooms_apply_patch(&room, &p, &err) == 0
       && room.host_absent == ROOMS_HOST_ABSENT_END
       && room.admission == ROOMS_ADMISSION_KNOCK,
       "host_absent patched, earlier changes kept");
    ok(patch_of("{\"host_absent\":\"later\"}", &p, &err) != 0
       && err.status == 422 && strcmp(err.code, "invalid_field") == 0,
       "a bad host_absent patch is 422 invalid_field");

    /* an ended room refuses every change */
    base_room(&room);
    room.ended_at = NOW + 60;
    before = room;

    memset(&p, 0, sizeof(p));
    p.has_title = 1;
    strcpy(p.title, "Too late");
    p.has_locked = 1;
    p.locked = 1;

    memset(&err, 0, sizeof(err));
    ok(rooms_apply_patch(&room, &p, &err) == -1 && err.status == 409
       && err.code != NULL && strcmp(err.code, "room_ended") == 0,
       "an ended room: 409 room_ended");
    ok(memcmp(&room, &before, sizeof(room)) == 0,
       "the ended room's record is unchanged");

    /* a cap below the people present */
    base_room(&room);
    before = room;

    memset(&p, 0, sizeof(p));
    p.has_title = 1;
    strcpy(p.title, "Smaller");
    p.has_max = 1;
    p.max_participants = 4;

    memset(&err, 0, sizeof(err));
    ok(rooms_apply_patch(&room, &p, &err) == -1 && err.status == 409
       && err.code != NULL && strcmp(err.code, "too_many_participants") == 0,
       "max 4 with 5 present: 409 too_many_participants");
    ok(strstr(err.message, "5") != NULL, "the message gives the count (%s)",
       err.message);
    ok(memcmp(&room, &before, sizeof(room)) == 0,
       "the record is unchanged, title included");

    p.max_participants = 5;
    ok(rooms_apply_patch(&room, &p, &err) == 0
       && room.max_participants == 5 && strcmp(room.title, "Smaller") == 0,
       "max equal to the people present applies");
}


/* state */

static void
test_state(void)
{
    rooms_room_t  room;

    base_room(&room);
    room.start_at = NOW + 1;
    is_str(rooms_state(&room, NOW), "scheduled", "before the start");
    is_str(rooms_state(&room, NOW + 1), "open", "at the start");
    is_str(rooms_state(&room, NOW + 86400), "open", "a day later");

    room.ended_at = NOW + 2;
    is_str(rooms_state(&room, NOW + 5), "ended", "after the end");
    is_str(rooms_state(&room, NOW), "ended",
           "an ended room is ended even before its start");
}


/* render */

static const char *
jstr(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}


/* one line of compact JSON: no newline anywhere, none at the end */
static void
one_line(const char *out, const char *what)
{
    size_t  n;

    n = strlen(out);

    if (!ok(n > 0 && out[n - 1] == '}' && strchr(out, '\n') == NULL
            && strchr(out, '\r') == NULL,
            "%s is one line ending in '}', no trailing newline", what))
    {
        diag("%zu bytes, last 0x%02x: %s", n,
             n ? (unsigned) (unsigned char) out[n - 1] : 0u, out);
    }
}


static json_t *
load(const char *out, const char *what)
{
    json_t        *root;
    json_error_t   jerr;

    if (out == NULL) {
        ok(0, "%s rendered", what);
        return NULL;
    }

    root = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);

    if (!ok(json_is_object(root), "%s parses back as one JSON object",
            what))
    {
        diag("%s: %s", jerr.text, out);
        json_decref(root);
        return NULL;
    }

    one_line(out, what);

    return root;
}


static void
test_render(void)
{
    char           *out;
    json_t         *root, *label;
    rooms_room_t    room;
    rooms_error_t   err;

    static const char  hard[] =
        "{\"title\":\"Say \\\"hi\\\" \\\\ back\\\\slash "
        "\\ud83c\\udf89 </script> \\/ \\u00e9\"}";

    base_room(&room);
    strcpy(room.title, "Game & chat");
    strcpy(room.audience, "group:club.7");
    room.activity = 1;
    room.admission = ROOMS_ADMISSION_KNOCK;
    room.locked = 1;
    room.participants = 3;
    room.max_participants = 20;
    room.start_at = 1798137000;

    /* the public view, with extra bytes after base_len */
    out = rooms_render(&room, NOW, BASE "XYZ", sizeof(BASE) - 1, NULL,
                       ROOMS_VIEW_PUBLIC);
    root = load(out, "public view");

    if (root) {
        is_str(jstr(root, "code"), CODE, "public: code");
        is_str(jstr(root, "invite_url"), BASE "/r/" CODE,
               "public: invite_url is <base>/r/<code>, base cut at len");
        is_str(jstr(root, "title"), "Game & chat", "public: title");
        is_str(jstr(root, "activity"), "dancing", "public: activity");
        label = json_object_get(root, "activity_label");
        ok(json_is_object(label)
           && strcmp(jstr(label, "en") ? jstr(label, "en") : "", "Dancing")
              == 0
           && strcmp(jstr(label, "it") ? jstr(label, "it") : "", "Si balla")
              == 0,
           "public: activity_label in English and Italian");
        is_str(jstr(root, "state"), "scheduled", "public: state");
        ok(json_is_true(json_object_get(root, "locked")), "public: locked");
        is_str(jstr(root, "admission"), "knock", "public: admission");
        is_int(json_integer_value(json_object_get(root, "participants")), 3,
               "public: participants");
        is_int(json_integer_value(json_object_get(root,
                                                  "max_participants")), 20,
               "public: max_participants");
        is_str(jstr(root, "start_at"), "2026-12-24T18:30:00Z",
               "public: start_at");
        is_str(jstr(root, "created_at"), "2026-11-21T17:30:00Z",
               "public: created_at");
        ok(json_is_null(json_object_get(root, "ended_at")),
           "public: ended_at is null");
        ok(json_object_get(root, "host_key") == NULL, "public: no host_key");
        ok(json_object_get(root, "host_url") == NULL, "public: no host_url");
        ok(json_object_get(root, "audience") == NULL, "public: no audience");
        ok(strstr(out, "host") == NULL && strstr(out, "club.7") == NULL,
           "public: nothing about the host or audience anywhere");
        is_int(json_object_size(root), 13, "public: 13 fields");
    }

    json_decref(root);
    free(out);

    /* the host view without the key */
    out = rooms_render(&room, NOW, BASE, sizeof(BASE) - 1, NULL,
                       ROOMS_VIEW_HOST);
    root = load(out, "host view without key");

    if (root) {
        is_str(jstr(root, "audience"), "group:club.7", "host: audience");
        ok(json_object_get(root, "host_key") == NULL
           && json_object_get(root, "host_url") == NULL,
           "host without key: no host_key or host_url");
    }

    json_decref(root);
    free(out);

    /* the host view with the key */
    room.start_at = NOW - 60;
    out = rooms_render(&room, NOW, BASE, sizeof(BASE) - 1, KEY,
                       ROOMS_VIEW_HOST);
    root = load(out, "host view with key");

    if (root) {
        is_str(jstr(root, "host_key"), KEY, "host: host_key");
        is_str(jstr(root, "host_url"), BASE "/r/" CODE "#host=" KEY,
               "host: host_url is <base>/r/<code>#host=<key>");
        is_str(jstr(root, "invite_url"), BASE "/r/" CODE,
               "host: invite_url carries no key");
        is_str(jstr(root, "audience"), "group:club.7", "host: audience");
        is_str(jstr(root, "state"), "open", "host: state open");
        is_str(jstr(root, "host_absent"), "stay_open",
               "host: host_absent");
        is_int(json_object_size(root), 17, "host: 17 fields");
    }

    json_decref(root);
    free(out);

    /* an ended room, an empty base, an out-of-range activity */
    room.ended_at = NOW + 120;
    room.activity = 200;
    out = rooms_render(&room, NOW + 200, "", 0, NULL, ROOMS_VIEW_PUBLIC);
    root = load(out, "ended room");

    if (root) {
        is_str(jstr(root, "state"), "ended", "ended: state");
        is_str(jstr(root, "ended_at"), "2026-11-21T18:32:00Z",
               "ended: ended_at");
        is_str(jstr(root, "invite_url"), "/r/" CODE, "empty base");
        is_str(jstr(root, "activity"), "chat",
               "an unknown activity index renders as chat");
    }

    json_decref(root);
    free(out);

    /* a hard title through parse, render and parse again */
    memset(&err, 0, sizeof(err));

    if (!ok(rooms_parse_create(hard, strlen(hard), CAP, NOW, &room, &err)
            == 0, "a title with escapes parses"))
    {
        diag("%s", err.message);
    }

    is_str(room.title, "Say \"hi\" \\ back\\slash \xf0\x9f\x8e\x89 "
           "</script> / \xc3\xa9", "the title's bytes");

    memcpy(room.code, CODE, sizeof(CODE));
    out = rooms_render(&room, NOW, BASE, sizeof(BASE) - 1, NULL,
                       ROOMS_VIEW_PUBLIC);
    root = load(out, "hard title");

    if (root) {
        is_str(jstr(root, "title"), room.title,
               "quotes, backslashes and emoji round-trip");
    }

    json_decref(root);
    free(out);
}


static void
test_render_error(void)
{
    char           *out, longer[400];
    json_t         *root, *e;
    rooms_error_t   err;

    memset(&err, 0, sizeof(err));
    is_int(rooms_error(&err, 422, "invalid_field", "\"%s\" is \"bad\" \\",
                       "title"), -1, "rooms_error returns -1");
    is_int(err.status, 422, "rooms_error sets the status");
    is_str(err.code, "invalid_field", "rooms_error sets the code");
    is_str(err.message, "\"title\" is \"bad\" \\",
           "rooms_error formats the message");

    out = rooms_render_error(&err);
    root = load(out, "error document");

    if (root) {
        e = json_object_get(root, "error");
        is_int(json_object_size(root), 1, "error: one top-level field");
        ok(json_is_object(e) && json_object_size(e) == 2,
           "error: an object of two fields");
        is_str(jstr(e, "code"), "invalid_field", "error: code");
        is_str(jstr(e, "message"), "\"title\" is \"bad\" \\",
               "error: message");
    }

    json_decref(root);
    free(out);

    /* a newline in the message is escaped: still one line */
    rooms_error(&err, 400, "invalid_json", "first\nsecond\r\n");
    out = rooms_render_error(&err);
    root = load(out, "error document with a newline in its message");

    if (root) {
        is_str(jstr(json_object_get(root, "error"), "message"),
               "first\nsecond\r\n", "the newlines come back escaped");
    }

    json_decref(root);
    free(out);

    /* a message longer than the buffer is cut, not overrun */
    memset(longer, 'm', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    rooms_error(&err, 400, "invalid_json", "%s", longer);
    is_int(strlen(err.message), sizeof(err.message) - 1,
           "a long message is cut to the buffer");
}


/* Display names (ngx_rooms_signal.c) follow the title's rule. */
static void
test_text_check(void)
{
    size_t  n;

    n = 0;
    ok(rooms_text_check("Ada \xc3\xa9\xf0\x9f\x98\x80", 10, &n) == 0 && n == 6,
       "a name of letters, a space and an emoji passes (6 characters)");
    ok(rooms_text_check("Ada\xe2\x80\x8f", 6, NULL) == 0,
       "a right-to-left mark (U+200F) is no override: it passes");
    ok(rooms_text_check("Ada\xe2\x80\xaegnp.exe", 14, NULL) == -1,
       "U+202E (right-to-left override) is refused");
    ok(rooms_text_check("\xe2\x80\xaa" "Ada", 6, NULL) == -1,
       "U+202A (left-to-right embedding) is refused");
    ok(rooms_text_check("a\xe2\x81\xa6" "b\xe2\x81\xa9", 8, NULL) == -1,
       "U+2066..U+2069 (isolates) are refused");
    ok(rooms_text_check("a\xe2\x80\xa8" "b", 5, NULL) == -1,
       "U+2028 (line separator) is refused");
    ok(rooms_text_check("a\x07", 2, NULL) == -1, "a C0 control is refused");
    ok(rooms_text_check("a\x7f", 2, NULL) == -1, "DEL is refused");
    ok(rooms_text_check("a\xc2\x85", 3, NULL) == -1,
       "a C1 control (U+0085) is refused");
    ok(rooms_text_check("", 0, &n) == 0 && n == 0, "empty: 0 characters");
}


int
main(void)
{
    test_time_parse();
    test_time_format();
    test_create_defaults();
    test_create_activity();
    test_create_title();
    test_create_audience();
    test_create_admission_max();
    test_create_cap();
    test_create_start();
    test_create_all_and_unknown();
    test_unknown_field_utf8();
    test_create_bad_json();
    test_parse_patch();
    test_title_controls();
    test_text_check();
    test_apply_patch();
    test_state();
    test_render();
    test_render_error();

    return done_testing();
}
