/*
 * rooms_room.h: the room record and the rules on its fields.
 *
 * Owns: the record shared by the store, the shared-memory directory and
 * the HTTP API; parsing and validating client JSON into it; rendering it
 * as JSON for the public and the host views; RFC 3339 times.
 * Must never do I/O or read the clock: "now" is always an argument.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>
 */

#ifndef ROOMS_ROOM_H
#define ROOMS_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_limits.h"


typedef struct {
    const char  *name;           /* API value */
    const char  *en;             /* English label */
    const char  *it;             /* Italian label */
} rooms_activity_t;

/* the seed's list, in its order */
extern const rooms_activity_t  rooms_activities[];
extern const unsigned          rooms_nactivities;

#define ROOMS_ACTIVITY_DEFAULT  6          /* "chat" */

#define ROOMS_ADMISSION_OPEN    0
#define ROOMS_ADMISSION_KNOCK   1

/*
 * Host-absent policy: what happens to the room when the last host or
 * co-host leaves it (API names "stay_open", "lock", "end").
 */
#define ROOMS_HOST_ABSENT_STAY  0
#define ROOMS_HOST_ABSENT_LOCK  1
#define ROOMS_HOST_ABSENT_END   2


/*
 * The room record: fixed size and pointer-free, so it can be copied into
 * shared memory as it is.
 */
typedef struct {
    int64_t        id;                               /* store row id */
    char           code[ROOMS_CODE_LEN + 1];          /* current code */
    unsigned char  host_hash[ROOMS_HASH_LEN];         /* SHA-256(key) */
    char           title[ROOMS_TITLE_MAX_BYTES + 1];
    char           audience[ROOMS_AUDIENCE_MAX + 1];
    uint8_t        activity;                         /* index */
    uint8_t        admission;
    uint8_t        locked;
    uint8_t        host_absent;                      /* ROOMS_HOST_ABSENT_* */
    uint16_t       max_participants;
    uint16_t       participants;                     /* live, not stored */
    int64_t        rev;            /* +1 on every stored change of state */
    int64_t        start_at;                         /* unix seconds */
    int64_t        created_at;
    int64_t        ended_at;                         /* 0: not ended */
} rooms_room_t;


/* An API error: HTTP status, a stable machine code and a human message. */
typedef struct {
    int            status;
    const char    *code;
    char           message[192];
} rooms_error_t;


/* A validated PATCH: which fields to change and their new values. */
typedef struct {
    unsigned       has_title:1;
    unsigned       has_audience:1;
    unsigned       has_admission:1;
    unsigned       has_locked:1;
    unsigned       has_max:1;
    unsigned       has_host_absent:1;
    char           title[ROOMS_TITLE_MAX_BYTES + 1];
    char           audience[ROOMS_AUDIENCE_MAX + 1];
    uint8_t        admission;
    uint8_t        locked;
    uint8_t        host_absent;
    uint16_t       max_participants;
} rooms_patch_t;


#define ROOMS_VIEW_PUBLIC  0
#define ROOMS_VIEW_HOST    1


/* How much of an unknown field's name an error message shows, in bytes. */
#define ROOMS_FIELD_NAME_SHOWN  64


/*
 * Sets err to the given status, code and printf-style message; returns -1
 * so callers can write "return rooms_error(...)".  The message is always
 * UTF-8 (it goes into JSON): a character the buffer's end cuts is dropped,
 * and any other byte that is not UTF-8 becomes '?'.
 */
int rooms_error(rooms_error_t *err, int status, const char *code,
    const char *fmt, ...);

/*
 * Whether s (len bytes of valid UTF-8) is one line of printable text, as
 * titles and display names must be: 0, with the number of characters in
 * *nchars (when not NULL); -1 when it holds a C0 or C1 control, a line or
 * paragraph separator, or a bidirectional override or isolate (U+202A to
 * U+202E, U+2066 to U+2069).
 */
int rooms_text_check(const char *s, size_t len, size_t *nchars);

/*
 * The length of the longest prefix of s (len bytes) that is at most max
 * bytes and ends between two characters of UTF-8 (a byte that is not UTF-8
 * counts as one character), for printing a part of client text.
 */
size_t rooms_utf8_prefix(const char *s, size_t len, size_t max);

/*
 * Parses a create body (len 0 means "all defaults") into room: title,
 * activity, audience, admission, start_at, max_participants.  cap is the
 * admin's participant cap.  Codes, keys and times of creation are left to
 * the caller.  Returns 0, or -1 with err set (400 or 422).
 */
int rooms_parse_create(const char *body, size_t len, unsigned cap,
    int64_t now, rooms_room_t *room, rooms_error_t *err);

/* Parses a PATCH body.  Returns 0, or -1 with err set (400 or 422). */
int rooms_parse_patch(const char *body, size_t len, unsigned cap,
    rooms_patch_t *patch, rooms_error_t *err);

/*
 * Applies a parsed patch to a room.  Refuses (409) to change an ended room
 * or to set a cap below the people already in it.  room is unchanged on
 * error.
 */
int rooms_apply_patch(rooms_room_t *room, const rooms_patch_t *patch,
    rooms_error_t *err);

/* "scheduled", "open" or "ended" at time now. */
const char *rooms_state(const rooms_room_t *room, int64_t now);

/*
 * Renders the room as one line of compact JSON, malloc()ed,
 * zero-terminated; the caller free()s it.  base is the public base URL
 * (no trailing slash).  host_key, when not NULL, adds host_key and
 * host_url (the caller proved it knows the key).  ROOMS_VIEW_HOST adds
 * the fields only a host may read.  Returns NULL on allocation failure.
 */
char *rooms_render(const rooms_room_t *room, int64_t now, const char *base,
    size_t base_len, const char *host_key, int view);

/* Renders {"error":{"code":..,"message":..}}, malloc()ed. */
char *rooms_render_error(const rooms_error_t *err);

/*
 * Parses an RFC 3339 date-time ("2026-11-21T18:30:00Z",
 * "2026-11-21t19:30:00.250+01:00") into unix seconds.  Returns 0 or -1.
 */
int rooms_time_parse(const char *s, size_t len, int64_t *out);

/* Formats unix seconds as "YYYY-MM-DDTHH:MM:SSZ". */
void rooms_time_format(int64_t t, char out[ROOMS_TIME_LEN + 1]);

/* "stay_open", "lock" or "end" for a ROOMS_HOST_ABSENT_* value. */
const char *rooms_host_absent_name(unsigned policy);

/* The ROOMS_HOST_ABSENT_* value of a name (len bytes), or -1. */
int rooms_host_absent_find(const char *s, size_t len);

/* Index of an activity name, or -1. */
int rooms_activity_find(const char *s, size_t len);

/* Validates an audience value; 0 or -1 with err set (422). */
int rooms_audience_check(const char *s, size_t len, rooms_error_t *err);


#endif /* ROOMS_ROOM_H */
