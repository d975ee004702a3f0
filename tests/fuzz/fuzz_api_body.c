/*
 * fuzz_api_body.c: libFuzzer target for the HTTP API's bodies
 * (common/rooms_room.*): rooms_parse_create() (POST /api/rooms) and
 * rooms_parse_patch() (PATCH /api/rooms/<code>), with what the module
 * does next: rooms_apply_patch(), rooms_render() and
 * rooms_render_error().
 *
 * The whole input is the body, in a malloc()ed buffer of its exact
 * length (nginx's body is not zero-terminated), given to both parsers
 * with the admin's cap at 50 and at a cap the input's length picks (2 to
 * 1000).  Properties:
 *
 *   - a refusal is a 400 or 422 with a code, and a message that is
 *     zero-terminated, valid UTF-8 (it goes into JSON), and renders as a
 *     JSON error object;
 *   - a created room keeps its fields in their ranges (a title of
 *     printable text within its bounds, a known activity, an audience the
 *     check accepts, a cap from 2 to the admin's, a start from now to a
 *     year ahead), renders (public and host views) as JSON whose title
 *     is the room's, and survives a round trip: a create body written
 *     from its fields parses to the same room;
 *   - a patch applies to a room with fewer people than its cap, or is
 *     refused (409) leaving the room as it was; when it applies, the
 *     fields it names take its values and no other field changes.
 *
 * A property failure aborts.
 *
 *     make build/fuzz/fuzz_api_body
 *     build/fuzz/fuzz_api_body -max_total_time=60 tests/fuzz/corpus/fuzz_api_body
 *
 * Without libFuzzer, -DROOMS_FUZZ_MAIN builds a main() that runs the
 * target once over each file named on the command line.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rooms_room.h"


#define NOW   1767225600                 /* 2026-01-01T00:00:00Z */
#define BASE  "https://rooms.example"


static void
check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_api_body: property failed: %s\n", what);
        abort();
    }
}


/* strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF) */
static int
utf8_valid(const unsigned char *s, size_t len)
{
    size_t    i, n, k;
    uint32_t  cp, min;

    for (i = 0; i < len; i += n) {
        if (s[i] < 0x80) {
            n = 1;
            continue;
        }

        if ((s[i] & 0xe0) == 0xc0) {
            n = 2; cp = s[i] & 0x1f; min = 0x80;
        } else if ((s[i] & 0xf0) == 0xe0) {
            n = 3; cp = s[i] & 0x0f; min = 0x800;
        } else if ((s[i] & 0xf8) == 0xf0) {
            n = 4; cp = s[i] & 0x07; min = 0x10000;
        } else {
            return 0;
        }

        if (len - i < n) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


static void
refusal(const rooms_error_t *err)
{
    char    *text;
    json_t  *j;

#ifdef ROOMS_FUZZ_MAIN
    fprintf(stderr, "refused: %d %s: %s\n", err->status, err->code,
            err->message);
#endif

    check(err->status == 400 || err->status == 422, "a 400 or a 422");
    check(err->code != NULL && err->code[0] != '\0', "a code");
    check(memchr(err->message, 0, sizeof(err->message)) != NULL,
          "the message is terminated");
    check(utf8_valid((const unsigned char *) err->message,
                     strlen(err->message)), "the message is UTF-8");

    text = rooms_render_error(err);
    check(text != NULL, "an error renders");
    j = json_loads(text, 0, NULL);
    check(json_is_object(json_object_get(j, "error")),
          "a rendered error is a JSON error object");
    json_decref(j);
    free(text);
}


static void
render(const rooms_room_t *room)
{
    int          view;
    char        *text;
    json_t      *j;
    const char  *title;

    for (view = ROOMS_VIEW_PUBLIC; view <= ROOMS_VIEW_HOST; view++) {
        text = rooms_render(room, NOW, BASE, sizeof(BASE) - 1,
                            view == ROOMS_VIEW_HOST ? "k3y" : NULL, view);
        check(text != NULL, "a room renders");
        j = json_loads(text, 0, NULL);
        check(json_is_object(j), "a rendered room is a JSON object");
        title = json_string_value(json_object_get(j, "title"));
        check(title != NULL && strcmp(title, room->title) == 0,
              "the rendered title is the room's");
        json_decref(j);
        free(text);
    }
}


/* a create body with every field of room; parsed, the same room */
static void
round_trip(const rooms_room_t *room, unsigned cap)
{
    char           *body, start[ROOMS_TIME_LEN + 1];
    json_t         *j;
    rooms_room_t    again;
    rooms_error_t   err;

    rooms_time_format(room->start_at, start);

    j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s}",
                  "title", room->title,
                  "activity", rooms_activities[room->activity].name,
                  "audience", room->audience,
                  "admission", room->admission ? "knock" : "open",
                  "host_absent", rooms_host_absent_name(room->host_absent),
                  "max_participants", (int) room->max_participants,
                  "start_at", start);
    check(j != NULL, "a room's fields make a body");
    body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    check(body != NULL, "json_dumps");

    check(rooms_parse_create(body, strlen(body), cap, NOW, &again, &err) == 0,
          "a body written from a created room is accepted");
    check(strcmp(again.title, room->title) == 0
          && again.activity == room->activity
          && strcmp(again.audience, room->audience) == 0
          && again.admission == room->admission
          && again.host_absent == room->host_absent
          && again.max_participants == room->max_participants
          && again.start_at == room->start_at,
          "create -> body -> create: the same room");

    free(body);
}


static void
create(const char *body, size_t len, unsigned cap)
{
    size_t          nchars;
    rooms_room_t    room;
    rooms_error_t   err;

    memset(&err, 0, sizeof(err));

    if (rooms_parse_create(body, len, cap, NOW, &room, &err) != 0) {
        refusal(&err);
        return;
    }

    check(memchr(room.title, 0, sizeof(room.title)) != NULL
          && rooms_text_check(room.title, strlen(room.title), &nchars) == 0
          && nchars <= ROOMS_TITLE_MAX_CHARS, "the title's rules");
    check(room.activity < rooms_nactivities, "a known activity");
    check(memchr(room.audience, 0, sizeof(room.audience)) != NULL
          && rooms_audience_check(room.audience, strlen(room.audience),
                                  &err) == 0, "an audience the check takes");
    check(room.admission <= ROOMS_ADMISSION_KNOCK
          && room.host_absent <= ROOMS_HOST_ABSENT_END, "the policies");
    check(room.max_participants >= 2 && room.max_participants <= cap,
          "a cap from 2 to the admin's");
    check(room.start_at >= NOW
          && room.start_at <= NOW + 366 * 86400, "a start within a year");

#ifdef ROOMS_FUZZ_MAIN
    fprintf(stderr, "created: \"%s\", cap %u of %u\n", room.title,
            room.max_participants, cap);
#endif

    render(&room);
    round_trip(&room, cap);
}


static void
patch(const char *body, size_t len, unsigned cap, unsigned people)
{
    rooms_room_t    room, before;
    rooms_patch_t   p;
    rooms_error_t   err;

    memset(&err, 0, sizeof(err));

    if (rooms_parse_patch(body, len, cap, &p, &err) != 0) {
        refusal(&err);
        return;
    }

    check(!p.has_max
          || (p.max_participants >= 2 && p.max_participants <= cap),
          "a patched cap from 2 to the admin's");
    check(!p.has_title || rooms_text_check(p.title, strlen(p.title), NULL)
                          == 0, "a patched title's rules");

#ifdef ROOMS_FUZZ_MAIN
    fprintf(stderr, "patch: title %u cap %u locked %u\n", p.has_title,
            p.has_max, p.has_locked);
#endif

    memset(&room, 0, sizeof(room));
    memcpy(room.code, "Q2x1YmhvdXNlLXJvb20tMQ", ROOMS_CODE_LEN);
    memcpy(room.title, "Friday", sizeof("Friday"));
    memcpy(room.audience, "link", sizeof("link"));
    room.activity = ROOMS_ACTIVITY_DEFAULT;
    room.max_participants = (uint16_t) cap;
    room.participants = (uint16_t) (people % (cap + 1));
    room.start_at = NOW;
    room.created_at = NOW;
    before = room;

    if (rooms_apply_patch(&room, &p, &err) != 0) {
        check(err.status == 409 && p.has_max
              && p.max_participants < before.participants,
              "only a cap below the people in the room is refused");
        check(memcmp(&room, &before, sizeof(room)) == 0,
              "a refused patch changes nothing");
        return;
    }

    check(strcmp(room.title, p.has_title ? p.title : before.title) == 0
          && strcmp(room.audience, p.has_audience ? p.audience
                                                  : before.audience) == 0
          && room.admission == (p.has_admission ? p.admission
                                                : before.admission)
          && room.locked == (p.has_locked ? p.locked : before.locked)
          && room.host_absent == (p.has_host_absent ? p.host_absent
                                                    : before.host_absent)
          && room.max_participants == (p.has_max ? p.max_participants
                                                 : before.max_participants)
          && room.participants == before.participants
          && room.start_at == before.start_at
          && room.ended_at == before.ended_at
          && strcmp(room.code, before.code) == 0,
          "a patch changes what it names, and only that");

    render(&room);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char      *body;
    unsigned   cap;

    body = malloc(size ? size : 1);
    check(body != NULL, "malloc");
    if (size) {
        memcpy(body, data, size);
    }

    cap = 2 + (unsigned) (size % 999);

    create(body, size, 50);
    create(body, size, cap);
    patch(body, size, 50, (unsigned) size);
    patch(body, size, cap, (unsigned) size / 3);

    free(body);

    return 0;
}


#include "fuzz_main.h"
