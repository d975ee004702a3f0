/*
 * rooms_room.c: the room record's rules, its JSON in and out, and
 * RFC 3339 times.
 *
 * Client JSON is parsed by jansson (which rejects invalid UTF-8 and NUL
 * characters); this file only decides what is allowed.  Every rejection
 * names the field and why, so a client developer can fix the request from
 * the message alone.  Unknown fields are refused rather than ignored: a
 * typo ("lockd") must not look like success.
 *
 * May not: include <ngx_core.h>, include <sqlite3.h>, include rooms_store.h, call sqlite3_, call rooms_store_
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rooms_room.h"


const rooms_activity_t  rooms_activities[] = {
    { "drinks",      "Drinks",      "Aperitivo" },
    { "dancing",     "Dancing",     "Si balla" },
    { "family",      "Family",      "Famiglia" },
    { "study_break", "Study break", "Pausa dallo studio" },
    { "game_night",  "Game night",  "Serata gioco" },
    { "friends",     "Friends",     "Tra amici" },
    { "chat",        "Chat",        "Chiacchierata" },
};

const unsigned  rooms_nactivities =
    sizeof(rooms_activities) / sizeof(rooms_activities[0]);


/*
 * The length of the UTF-8 sequence at p (at most n bytes available), or 0
 * when it is not a valid, shortest-form encoding of a scalar value.
 */
static size_t
rooms_utf8_seq(const unsigned char *p, size_t n)
{
    size_t    len, i;
    uint32_t  cp;

    if (p[0] < 0x80) {
        return 1;
    }

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2;
        cp = p[0] & 0x1f;

    } else if ((p[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = p[0] & 0x0f;

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4;
        cp = p[0] & 0x07;

    } else {
        return 0;
    }

    if (len > n) {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        cp = cp << 6 | (p[i] & 0x3f);
    }

    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    {
        return 0;
    }

    return len;
}


size_t
rooms_utf8_prefix(const char *s, size_t len, size_t max)
{
    size_t  n, k;

    n = 0;

    while (n < len) {
        k = rooms_utf8_seq((const unsigned char *) s + n, len - n);

        if (k == 0) {
            k = 1;                  /* not UTF-8: a byte is a character */
        }

        if (n + k > max) {
            break;
        }

        n += k;
    }

    return n;
}


/* Whether the n bytes at p are the start of a character cut short. */
static int
rooms_utf8_cut(const unsigned char *p, size_t n)
{
    size_t  want, i;

    want = (p[0] >= 0xc2 && p[0] <= 0xdf) ? 2
           : ((p[0] & 0xf0) == 0xe0) ? 3
           : (p[0] >= 0xf0 && p[0] <= 0xf4) ? 4 : 0;

    if (n >= want) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }

    return 1;
}


/*
 * A message is sent in JSON, which must be UTF-8: snprintf() may have cut
 * a character at the end of the buffer, and a "%.Ns" in the middle, so
 * any byte that does not start a whole character becomes '?'.
 */
static void
rooms_utf8_repair(char *s)
{
    size_t          i, k, len;
    unsigned char  *p;

    p = (unsigned char *) s;
    len = strlen(s);

    for (i = 0; i < len; i += k) {
        k = rooms_utf8_seq(p + i, len - i);

        if (k == 0) {
            if (rooms_utf8_cut(p + i, len - i)) {
                p[i] = '\0';       /* the buffer's end cut a character */
                return;
            }

            p[i] = '?';
            k = 1;
        }
    }
}


int
rooms_error(rooms_error_t *err, int status, const char *code,
    const char *fmt, ...)
{
    va_list  args;

    err->status = status;
    err->code = code;

    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);

    rooms_utf8_repair(err->message);

    return -1;
}


int
rooms_activity_find(const char *s, size_t len)
{
    unsigned  i;

    for (i = 0; i < rooms_nactivities; i++) {
        if (strlen(rooms_activities[i].name) == len
            && memcmp(rooms_activities[i].name, s, len) == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


int
rooms_audience_check(const char *s, size_t len, rooms_error_t *err)
{
    size_t  i;

    if ((len == 4 && memcmp(s, "link", 4) == 0)
        || (len == 7 && memcmp(s, "friends", 7) == 0)
        || (len == 6 && memcmp(s, "public", 6) == 0))
    {
        return 0;
    }

    if (len > 6 && len <= ROOMS_AUDIENCE_MAX && memcmp(s, "group:", 6) == 0) {
        for (i = 6; i < len; i++) {
            if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
                  || (s[i] >= '0' && s[i] <= '9')
                  || s[i] == '-' || s[i] == '_' || s[i] == '.'))
            {
                break;
            }
        }

        if (i == len) {
            return 0;
        }
    }

    return rooms_error(err, 422, "invalid_field",
                       "\"audience\" must be \"link\", \"friends\", "
                       "\"public\" or \"group:<id>\" (id: 1 to %d of "
                       "A-Z a-z 0-9 . _ -)", ROOMS_GROUP_ID_MAX);
}


/*
 * One line of text a person reads (a title on a tile, a name in a call):
 * printable Unicode only.  Refused: C0 and C1 controls, line and
 * paragraph separators, and the bidirectional overrides and isolates,
 * which let a text reverse what follows it (a spoofing trick).  The text
 * is valid UTF-8 without NUL (jansson guarantees it), so decoding needs
 * no error handling.
 */
int
rooms_text_check(const char *s, size_t len, size_t *nchars)
{
    size_t                i, chars;
    uint32_t              cp;
    const unsigned char  *p;

    p = (const unsigned char *) s;
    chars = 0;

    for (i = 0; i < len; chars++) {
        if (p[i] < 0x80) {
            cp = p[i++];

        } else if ((p[i] & 0xe0) == 0xc0 && i + 1 < len) {
            cp = (uint32_t) (p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f);
            i += 2;

        } else if ((p[i] & 0xf0) == 0xe0 && i + 2 < len) {
            cp = (uint32_t) (p[i] & 0x0f) << 12
                 | (uint32_t) (p[i + 1] & 0x3f) << 6 | (p[i + 2] & 0x3f);
            i += 3;

        } else {
            cp = 0x10000;
            i += 4;
        }

        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)
            || cp == 0x2028 || cp == 0x2029
            || (cp >= 0x202a && cp <= 0x202e)
            || (cp >= 0x2066 && cp <= 0x2069))
        {
            return -1;
        }
    }

    if (nchars != NULL) {
        *nchars = chars;
    }

    return 0;
}


/* A title: one line of text (above), at most ROOMS_TITLE_MAX_CHARS. */
static int
rooms_title_check(const char *s, size_t len, rooms_error_t *err)
{
    size_t  chars;

    if (rooms_text_check(s, len, &chars) != 0) {
        return rooms_error(err, 422, "invalid_field",
                           "\"title\" must not contain control, "
                           "line-breaking or text-direction "
                           "characters");
    }

    if (chars > ROOMS_TITLE_MAX_CHARS || len > ROOMS_TITLE_MAX_BYTES) {
        return rooms_error(err, 422, "invalid_field",
                           "\"title\" is longer than %d characters",
                           ROOMS_TITLE_MAX_CHARS);
    }

    return 0;
}


static int
rooms_admission_parse(json_t *v, uint8_t *out, rooms_error_t *err)
{
    const char  *s;

    s = json_string_value(v);

    if (s != NULL && strcmp(s, "open") == 0) {
        *out = ROOMS_ADMISSION_OPEN;
        return 0;
    }

    if (s != NULL && strcmp(s, "knock") == 0) {
        *out = ROOMS_ADMISSION_KNOCK;
        return 0;
    }

    return rooms_error(err, 422, "invalid_field",
                       "\"admission\" must be \"open\" or \"knock\"");
}


static const char  *rooms_host_absent_names[] = {
    "stay_open",                                  /* ROOMS_HOST_ABSENT_STAY */
    "lock",                                       /* ROOMS_HOST_ABSENT_LOCK */
    "end",                                        /* ROOMS_HOST_ABSENT_END */
};


const char *
rooms_host_absent_name(unsigned policy)
{
    return rooms_host_absent_names[policy <= ROOMS_HOST_ABSENT_END
                                   ? policy : ROOMS_HOST_ABSENT_STAY];
}


int
rooms_host_absent_find(const char *s, size_t len)
{
    int  i;

    for (i = 0; i <= ROOMS_HOST_ABSENT_END; i++) {
        if (strlen(rooms_host_absent_names[i]) == len
            && memcmp(rooms_host_absent_names[i], s, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


static int
rooms_host_absent_parse(json_t *v, uint8_t *out, rooms_error_t *err)
{
    int  policy;

    policy = json_is_string(v)
             ? rooms_host_absent_find(json_string_value(v),
                                      json_string_length(v))
             : -1;

    if (policy < 0) {
        return rooms_error(err, 422, "invalid_field",
                           "\"host_absent\" must be \"stay_open\", "
                           "\"lock\" or \"end\"");
    }

    *out = (uint8_t) policy;

    return 0;
}


static int
rooms_max_parse(json_t *v, unsigned cap, uint16_t *out, rooms_error_t *err)
{
    json_int_t  n;

    if (!json_is_integer(v)) {
        goto invalid;
    }

    n = json_integer_value(v);

    if (n < ROOMS_PARTICIPANTS_MIN || n > (json_int_t) cap) {
        goto invalid;
    }

    *out = (uint16_t) n;
    return 0;

invalid:

    return rooms_error(err, 422, "invalid_field",
                       "\"max_participants\" must be an integer from %d "
                       "to %u", ROOMS_PARTICIPANTS_MIN, cap);
}


static int
rooms_string_field(json_t *v, const char *name, rooms_error_t *err)
{
    if (!json_is_string(v)) {
        return rooms_error(err, 422, "invalid_field",
                           "\"%s\" must be a string", name);
    }

    return 0;
}


static json_t *
rooms_parse_object(const char *body, size_t len, rooms_error_t *err)
{
    json_t        *root;
    json_error_t   jerr;

    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        rooms_error(err, 400, "invalid_json",
                    "the body is not valid JSON: %s (at character %d)",
                    jerr.text, jerr.position);
        return NULL;
    }

    if (!json_is_object(root)) {
        json_decref(root);
        rooms_error(err, 400, "invalid_json",
                    "the body must be a JSON object");
        return NULL;
    }

    return root;
}


/* "activity": one of the names in rooms_activities */
static int
rooms_activity_parse(json_t *v, uint8_t *out, rooms_error_t *err)
{
    int  i;

    i = json_is_string(v)
        ? rooms_activity_find(json_string_value(v), json_string_length(v))
        : -1;

    if (i < 0) {
        return rooms_error(err, 422, "invalid_field",
                           "\"activity\" must be one of drinks, dancing, "
                           "family, study_break, game_night, friends, "
                           "chat");
    }

    *out = (uint8_t) i;

    return 0;
}


/*
 * "start_at": null leaves *out as it is; otherwise an RFC 3339 time at
 * most ROOMS_SCHEDULE_AHEAD_MAX ahead of now, and at most
 * ROOMS_SCHEDULE_PAST_SLACK before it, which is now.
 */
static int
rooms_start_at_parse(json_t *v, int64_t now, int64_t *out,
    rooms_error_t *err)
{
    int64_t  t;

    if (json_is_null(v)) {
        return 0;
    }

    if (!json_is_string(v)
        || rooms_time_parse(json_string_value(v),
                            json_string_length(v), &t) != 0)
    {
        return rooms_error(err, 422, "invalid_field",
                           "\"start_at\" must be an RFC 3339 date-time, "
                           "such as \"2026-12-24T18:30:00Z\"");
    }

    if (t > now + ROOMS_SCHEDULE_AHEAD_MAX) {
        return rooms_error(err, 422, "invalid_field",
                           "\"start_at\" is more than 366 days ahead");
    }

    if (t < now - ROOMS_SCHEDULE_PAST_SLACK) {
        return rooms_error(err, 422, "invalid_field",
                           "\"start_at\" is in the past; leave it out (or "
                           "null) to open the room now");
    }

    /* a start in the past means "now": the record stays true */
    *out = t > now ? t : now;

    return 0;
}


/* one field of a create body into room; unknown fields are refused */
static int
rooms_create_field(const char *key, json_t *v, unsigned cap, int64_t now,
    rooms_room_t *room, rooms_error_t *err)
{
    size_t       slen;
    const char  *s;

    if (strcmp(key, "title") == 0) {
        if (rooms_string_field(v, key, err) != 0) {
            return -1;
        }

        s = json_string_value(v);
        slen = json_string_length(v);

        if (rooms_title_check(s, slen, err) != 0) {
            return -1;
        }

        memcpy(room->title, s, slen);
        room->title[slen] = '\0';

        return 0;
    }

    if (strcmp(key, "activity") == 0) {
        return rooms_activity_parse(v, &room->activity, err);
    }

    if (strcmp(key, "audience") == 0) {
        if (rooms_string_field(v, key, err) != 0
            || rooms_audience_check(json_string_value(v),
                                    json_string_length(v), err) != 0)
        {
            return -1;
        }

        memcpy(room->audience, json_string_value(v),
               json_string_length(v) + 1);

        return 0;
    }

    if (strcmp(key, "admission") == 0) {
        return rooms_admission_parse(v, &room->admission, err);
    }

    if (strcmp(key, "host_absent") == 0) {
        return rooms_host_absent_parse(v, &room->host_absent, err);
    }

    if (strcmp(key, "max_participants") == 0) {
        return rooms_max_parse(v, cap, &room->max_participants, err);
    }

    if (strcmp(key, "start_at") == 0) {
        return rooms_start_at_parse(v, now, &room->start_at, err);
    }

    return rooms_error(err, 422, "unknown_field",
                       "unknown field \"%.*s\"",
                       (int) rooms_utf8_prefix(key, strlen(key),
                                               ROOMS_FIELD_NAME_SHOWN),
                       key);
}


int
rooms_parse_create(const char *body, size_t len, unsigned cap, int64_t now,
    rooms_room_t *room, rooms_error_t *err)
{
    int          rc;
    json_t      *root, *v;
    const char  *key;

    memset(room, 0, sizeof(rooms_room_t));

    if (cap < ROOMS_PARTICIPANTS_MIN || cap > ROOMS_PARTICIPANTS_LIMIT) {
        return rooms_error(err, 500, "internal", "participant cap %u out "
                           "of range", cap);
    }

    room->activity = ROOMS_ACTIVITY_DEFAULT;
    room->admission = ROOMS_ADMISSION_OPEN;
    room->max_participants = (uint16_t) cap;
    room->start_at = now;
    memcpy(room->audience, "link", sizeof("link"));

    if (len == 0) {
        return 0;
    }

    root = rooms_parse_object(body, len, err);
    if (root == NULL) {
        return -1;
    }

    rc = -1;

    json_object_foreach(root, key, v) {
        if (rooms_create_field(key, v, cap, now, room, err) != 0) {
            goto done;
        }
    }

    rc = 0;

done:

    json_decref(root);
    return rc;
}


int
rooms_parse_patch(const char *body, size_t len, unsigned cap,
    rooms_patch_t *patch, rooms_error_t *err)
{
    int          rc;
    json_t      *root, *v;
    size_t       slen;
    const char  *key, *s;

    memset(patch, 0, sizeof(rooms_patch_t));

    if (cap < ROOMS_PARTICIPANTS_MIN || cap > ROOMS_PARTICIPANTS_LIMIT) {
        return rooms_error(err, 500, "internal", "participant cap %u out "
                           "of range", cap);
    }

    if (len == 0) {
        return rooms_error(err, 400, "invalid_json",
                           "the body must be a JSON object with the "
                           "fields to change");
    }

    root = rooms_parse_object(body, len, err);
    if (root == NULL) {
        return -1;
    }

    rc = -1;

    json_object_foreach(root, key, v) {

        if (strcmp(key, "locked") == 0) {
            if (!json_is_boolean(v)) {
                rooms_error(err, 422, "invalid_field",
                            "\"locked\" must be true or false");
                goto done;
            }

            patch->has_locked = 1;
            patch->locked = json_is_true(v) ? 1 : 0;

        } else if (strcmp(key, "title") == 0) {
            if (rooms_string_field(v, key, err) != 0) {
                goto done;
            }

            s = json_string_value(v);
            slen = json_string_length(v);

            if (rooms_title_check(s, slen, err) != 0) {
                goto done;
            }

            patch->has_title = 1;
            memcpy(patch->title, s, slen);
            patch->title[slen] = '\0';

        } else if (strcmp(key, "admission") == 0) {
            if (rooms_admission_parse(v, &patch->admission, err) != 0) {
                goto done;
            }

            patch->has_admission = 1;

        } else if (strcmp(key, "host_absent") == 0) {
            if (rooms_host_absent_parse(v, &patch->host_absent, err) != 0) {
                goto done;
            }

            patch->has_host_absent = 1;

        } else if (strcmp(key, "audience") == 0) {
            if (rooms_string_field(v, key, err) != 0
                || rooms_audience_check(json_string_value(v),
                                        json_string_length(v), err) != 0)
            {
                goto done;
            }

            patch->has_audience = 1;
            memcpy(patch->audience, json_string_value(v),
                   json_string_length(v) + 1);

        } else if (strcmp(key, "max_participants") == 0) {
            if (rooms_max_parse(v, cap, &patch->max_participants, err) != 0)
            {
                goto done;
            }

            patch->has_max = 1;

        } else {
            rooms_error(err, 422, "unknown_field",
                        "unknown or read-only field \"%.*s\"",
                        (int) rooms_utf8_prefix(key, strlen(key),
                                                ROOMS_FIELD_NAME_SHOWN),
                        key);
            goto done;
        }
    }

    rc = 0;

done:

    json_decref(root);
    return rc;
}


int
rooms_apply_patch(rooms_room_t *room, const rooms_patch_t *patch,
    rooms_error_t *err)
{
    if (room->ended_at != 0) {
        return rooms_error(err, 409, "room_ended",
                           "the room has ended and can no longer change");
    }

    if (patch->has_max && patch->max_participants < room->participants) {
        return rooms_error(err, 409, "too_many_participants",
                           "%u people are in the room; the cap cannot go "
                           "below that", (unsigned) room->participants);
    }

    if (patch->has_title) {
        memcpy(room->title, patch->title, sizeof(room->title));
    }

    if (patch->has_audience) {
        memcpy(room->audience, patch->audience, sizeof(room->audience));
    }

    if (patch->has_admission) {
        room->admission = patch->admission;
    }

    if (patch->has_locked) {
        room->locked = patch->locked;
    }

    if (patch->has_host_absent) {
        room->host_absent = patch->host_absent;
    }

    if (patch->has_max) {
        room->max_participants = patch->max_participants;
    }

    return 0;
}


const char *
rooms_state(const rooms_room_t *room, int64_t now)
{
    if (room->ended_at != 0) {
        return "ended";
    }

    return now < room->start_at ? "scheduled" : "open";
}


/* days since 1970-01-01 of a proleptic Gregorian date (Hinnant's formula) */
static int64_t
rooms_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t   era;
    unsigned  yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned) (y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t) doe - 719468;
}


static int
rooms_digits(const char *s, size_t n, unsigned *out)
{
    size_t  i;

    *out = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }

        *out = *out * 10 + (unsigned) (s[i] - '0');
    }

    return 0;
}


int
rooms_time_parse(const char *s, size_t len, int64_t *out)
{
    size_t    i;
    unsigned  y, mo, d, h, mi, sec, oh, om, mdays;
    int64_t   t, off;

    static const unsigned  days[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    /* "YYYY-MM-DDTHH:MM:SS" then fraction and offset */
    if (len < 20 || len > 40) {
        return -1;
    }

    if (rooms_digits(s, 4, &y) != 0 || s[4] != '-'
        || rooms_digits(s + 5, 2, &mo) != 0 || s[7] != '-'
        || rooms_digits(s + 8, 2, &d) != 0
        || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        || rooms_digits(s + 11, 2, &h) != 0 || s[13] != ':'
        || rooms_digits(s + 14, 2, &mi) != 0 || s[16] != ':'
        || rooms_digits(s + 17, 2, &sec) != 0)
    {
        return -1;
    }

    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59
        || sec > 59)
    {
        return -1;
    }

    mdays = days[mo - 1];
    if (mo == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) {
        mdays = 29;
    }

    if (d > mdays) {
        return -1;
    }

    i = 19;

    if (s[i] == '.') {
        i++;

        if (i >= len || s[i] < '0' || s[i] > '9') {
            return -1;
        }

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }

    if (i >= len) {
        return -1;
    }

    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        off = 0;

    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len
               && rooms_digits(s + i + 1, 2, &oh) == 0 && s[i + 3] == ':'
               && rooms_digits(s + i + 4, 2, &om) == 0
               && oh <= 23 && om <= 59)
    {
        off = (int64_t) (oh * 3600 + om * 60);
        if (s[i] == '-') {
            off = -off;
        }

    } else {
        return -1;
    }

    t = rooms_days_from_civil(y, mo, d) * 86400
        + (int64_t) (h * 3600 + mi * 60 + sec) - off;

    /* an offset may pull the first hour of 1970 before the epoch */
    if (t < 0) {
        return -1;
    }

    *out = t;

    return 0;
}


void
rooms_time_format(int64_t t, char out[ROOMS_TIME_LEN + 1])
{
    int64_t   days, z, era, y;
    char      buf[64];
    unsigned  doe, yoe, doy, mp, d, m, secs;

    if (t < 0) {
        t = 0;
    }

    days = t / 86400;
    secs = (unsigned) (t % 86400);

    /* the inverse of rooms_days_from_civil() */
    z = days + 719468;
    era = z / 146097;
    doe = (unsigned) (z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t) yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;

    /* the fields are in range; the wide buffer only quiets the compiler */
    snprintf(buf, sizeof(buf), "%04u-%02u-%02uT%02u:%02u:%02uZ",
             (unsigned) (y % 10000), m, d, secs / 3600, secs / 60 % 60,
             secs % 60);
    memcpy(out, buf, ROOMS_TIME_LEN + 1);
}


static int
rooms_set(json_t *obj, const char *key, json_t *v)
{
    return v == NULL ? -1 : json_object_set_new(obj, key, v);
}


static json_t *
rooms_url(const char *base, size_t base_len, const char *code,
    const char *host_key)
{
    char    *s;
    json_t  *v;
    size_t   n;

    n = base_len + sizeof("/r/") + ROOMS_CODE_LEN + sizeof("#host=")
        + (host_key ? strlen(host_key) : 0);

    s = malloc(n);
    if (s == NULL) {
        return NULL;
    }

    snprintf(s, n, "%.*s/r/%s%s%s", (int) base_len, base, code,
             host_key ? "#host=" : "", host_key ? host_key : "");

    v = json_string(s);
    free(s);

    return v;
}


char *
rooms_render(const rooms_room_t *room, int64_t now, const char *base,
    size_t base_len, const char *host_key, int view)
{
    int                      rc;
    char                    *out, start[ROOMS_TIME_LEN + 1],
                             created[ROOMS_TIME_LEN + 1],
                             ended[ROOMS_TIME_LEN + 1];
    json_t                  *obj, *label;
    const rooms_activity_t  *act;

    act = &rooms_activities[room->activity < rooms_nactivities
                            ? room->activity : ROOMS_ACTIVITY_DEFAULT];

    rooms_time_format(room->start_at, start);
    rooms_time_format(room->created_at, created);
    rooms_time_format(room->ended_at, ended);

    obj = json_object();
    label = json_object();

    if (obj == NULL || label == NULL) {
        json_decref(obj);
        json_decref(label);
        return NULL;
    }

    rc = rooms_set(label, "en", json_string(act->en))
         | rooms_set(label, "it", json_string(act->it))
         | rooms_set(obj, "code", json_string(room->code))
         | rooms_set(obj, "invite_url",
                     rooms_url(base, base_len, room->code, NULL))
         | rooms_set(obj, "title", json_string(room->title))
         | rooms_set(obj, "activity", json_string(act->name))
         | rooms_set(obj, "activity_label", label)
         | rooms_set(obj, "state", json_string(rooms_state(room, now)))
         | rooms_set(obj, "locked", json_boolean(room->locked))
         | rooms_set(obj, "admission",
                     json_string(room->admission == ROOMS_ADMISSION_KNOCK
                                 ? "knock" : "open"))
         | rooms_set(obj, "participants",
                     json_integer(room->participants))
         | rooms_set(obj, "max_participants",
                     json_integer(room->max_participants))
         | rooms_set(obj, "start_at", json_string(start))
         | rooms_set(obj, "created_at", json_string(created))
         | rooms_set(obj, "ended_at",
                     room->ended_at ? json_string(ended) : json_null());

    if (view == ROOMS_VIEW_HOST) {
        rc |= rooms_set(obj, "host_absent",
                        json_string(rooms_host_absent_name(room->host_absent)))
              | rooms_set(obj, "audience", json_string(room->audience));
    }

    if (host_key != NULL) {
        rc |= rooms_set(obj, "host_key", json_string(host_key))
              | rooms_set(obj, "host_url",
                          rooms_url(base, base_len, room->code, host_key));
    }

    out = NULL;

    if (rc == 0) {
        out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    }

    json_decref(obj);

    return out;
}


char *
rooms_render_error(const rooms_error_t *err)
{
    char    *out;
    json_t  *obj;

    obj = json_pack("{s:{s:s,s:s}}", "error", "code", err->code,
                    "message", err->message);
    if (obj == NULL) {
        return NULL;
    }

    out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);

    return out;
}
