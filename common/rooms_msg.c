/*
 * rooms_msg.c: the browser message table and the record payload codecs
 * (see rooms_msg.h).
 *
 * Owns: the only table of browser message types and the only code that
 * writes or reads the JSON of JOIN, ROOM, BAN, COUNT, RESYNC, HOST_ABSENT,
 * ROLE and RESUME records.  Must never keep state between calls, allocate beyond
 * the JSON document of one call, or accept half of a payload.
 *
 * May not: include <ngx_config.h>, include <ngx_core.h>, include sfu.h, call rooms_store_, call ngx_
 */

#include <string.h>

#include <jansson.h>

#include "rooms_msg.h"
#include "rooms_room.h"
#include "rooms_token.h"


/*
 * Every type a browser may send (docs/protocol.md).  join is handled by
 * nginx (admission) and must come first, or resume in its place (nginx
 * checks the credentials, the worker finds the participant); lock and end change the room in
 * the store, so nginx handles them; the rest reach the media worker, the
 * one authority on who is in a room, which checks the role again for the
 * host actions.
 */
static const rooms_msg_type_t  rooms_msg_types[ROOMS_MSG_NTYPES] = {
    { "join",     ROOMS_MSG_JOIN,         ROOMS_MSG_ANYONE, ROOMS_MSG_NGINX, 0 },
    { "offer",    ROOMS_MSG_OFFER,        ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
    { "media",    ROOMS_MSG_MEDIA,        ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
    { "view",     ROOMS_MSG_VIEW,         ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
    { "leave",    ROOMS_MSG_LEAVE,        ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
    { "remove",   ROOMS_MSG_REMOVE,       ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 },
    { "mute",     ROOMS_MSG_MUTE,         ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 },
    { "admit",    ROOMS_MSG_ADMIT,        ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 },
    { "deny",     ROOMS_MSG_DENY,         ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 },
    { "lock",     ROOMS_MSG_LOCK,         ROOMS_MSG_COHOST, ROOMS_MSG_NGINX, 0 },
    { "end",      ROOMS_MSG_END,          ROOMS_MSG_HOST,   ROOMS_MSG_NGINX, 0 },
    { "cohost",   ROOMS_MSG_COHOST_SET,   ROOMS_MSG_HOST,   ROOMS_MSG_RELAY, 1 },
    { "uncohost", ROOMS_MSG_COHOST_UNSET, ROOMS_MSG_HOST,   ROOMS_MSG_RELAY, 1 },
    { "resume",   ROOMS_MSG_RESUME,       ROOMS_MSG_ANYONE, ROOMS_MSG_NGINX, 0 },
    { "share",    ROOMS_MSG_SHARE,        ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
    { "unshare",  ROOMS_MSG_UNSHARE,      ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
    { "stop_share", ROOMS_MSG_STOP_SHARE, ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 }
};

static const char  *rooms_msg_roles[] = { "guest", "cohost", "host" };


const rooms_msg_type_t *
rooms_msg_type(const char *type, size_t len)
{
    unsigned  i;

    for (i = 0; i < ROOMS_MSG_NTYPES; i++) {
        if (strlen(rooms_msg_types[i].name) == len
            && memcmp(rooms_msg_types[i].name, type, len) == 0)
        {
            return &rooms_msg_types[i];
        }
    }

    return NULL;
}


const rooms_msg_type_t *
rooms_msg_type_of(rooms_msg_id_e id)
{
    return (unsigned) id < ROOMS_MSG_NTYPES ? &rooms_msg_types[id] : NULL;
}


const char *
rooms_msg_role_name(unsigned role)
{
    return role <= ROOMS_MSG_ROLE_HOST ? rooms_msg_roles[role] : NULL;
}


/* Dumps obj (taking it) into out; the length or -1. */
static int
rooms_msg_dump(json_t *obj, char *out, size_t cap)
{
    size_t  n;

    if (obj == NULL) {
        return -1;
    }

    n = json_dumpb(obj, out, cap, JSON_COMPACT);
    json_decref(obj);

    if (n == 0 || n >= cap) {
        return -1;
    }

    out[n] = '\0';

    return (int) n;
}


/* Loads one JSON object from json[0..len), or NULL with *why. */
static json_t *
rooms_msg_load(const char *json, size_t len, const char **why)
{
    json_t        *obj;
    json_error_t   jerr;

    obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);

    if (!json_is_object(obj)) {
        json_decref(obj);
        *why = "not a JSON object";
        return NULL;
    }

    return obj;
}


/* The integer at key, or -1 (absent) / -2 (not an integer) in *rc. */
static int
rooms_msg_int(json_t *obj, const char *key, int64_t *v)
{
    json_t  *j;

    j = json_object_get(obj, key);

    if (j == NULL) {
        return -1;
    }

    if (!json_is_integer(j)) {
        return -2;
    }

    *v = json_integer_value(j);

    return 0;
}


/*
 * Copies the string at key into dst (size bytes with the zero): 0, -1
 * when absent, -2 when not a string, too long or holding a zero byte.
 */
static int
rooms_msg_str(json_t *obj, const char *key, char *dst, size_t size)
{
    json_t  *j;
    size_t   n;

    j = json_object_get(obj, key);

    if (j == NULL) {
        return -1;
    }

    if (!json_is_string(j)) {
        return -2;
    }

    n = json_string_length(j);

    if (n >= size || strlen(json_string_value(j)) != n) {
        return -2;
    }

    memcpy(dst, json_string_value(j), n + 1);

    return 0;
}


/*
 * A room code: 0 with the code in dst, or with dst empty when the string
 * does not fit (the reader then goes by the room's id); -1 when absent,
 * -2 when not a string.  exact: only a ROOMS_CODE_LEN one fits (nginx
 * looks rooms up by it); otherwise any of at most ROOMS_CODE_LEN bytes
 * (the worker only keeps it, as its label of the room).
 */
static int
rooms_msg_code(json_t *obj, char dst[ROOMS_CODE_LEN + 1], unsigned exact)
{
    size_t   n;
    json_t  *j;

    j = json_object_get(obj, "code");
    dst[0] = '\0';

    if (j == NULL) {
        return -1;
    }

    if (!json_is_string(j)) {
        return -2;
    }

    n = json_string_length(j);

    if ((exact ? n == ROOMS_CODE_LEN : n <= ROOMS_CODE_LEN)
        && strlen(json_string_value(j)) == n)
    {
        memcpy(dst, json_string_value(j), n + 1);
    }

    return 0;
}


/* A token hash: exactly 64 hex digits, written back in lower case. */
static int
rooms_msg_token(json_t *obj, const char *key, char dst[ROOMS_MSG_TOKEN_LEN + 1])
{
    unsigned char  hash[ROOMS_HASH_LEN];

    if (rooms_msg_str(obj, key, dst, ROOMS_MSG_TOKEN_LEN + 1) != 0
        || rooms_token_hash_from_hex(dst, strlen(dst), hash) != 0)
    {
        return -1;
    }

    rooms_token_hash_hex(hash, dst);

    return 0;
}


/* The boolean at key: 0 or 1, -1 absent, -2 not a boolean. */
static int
rooms_msg_bool(json_t *obj, const char *key)
{
    json_t  *j;

    j = json_object_get(obj, key);

    if (j == NULL) {
        return -1;
    }

    return json_is_boolean(j) ? json_is_true(j) : -2;
}


/* "open" 0, "knock" 1; -1 absent; -2 anything else */
static int
rooms_msg_admission(json_t *obj)
{
    char  s[8];
    int   rc;

    rc = rooms_msg_str(obj, "admission", s, sizeof(s));

    if (rc != 0) {
        return rc;
    }

    return strcmp(s, "knock") == 0 ? 1 : strcmp(s, "open") == 0 ? 0 : -2;
}


/* a ROOMS_HOST_ABSENT_* value; -1 absent; -2 anything else */
static int
rooms_msg_absent(json_t *obj)
{
    json_t  *j;
    int      policy;

    j = json_object_get(obj, "host_absent");

    if (j == NULL) {
        return -1;
    }

    policy = json_is_string(j)
             ? rooms_host_absent_find(json_string_value(j),
                                      json_string_length(j))
             : -1;

    return policy < 0 ? -2 : policy;
}


/* nginx checks the cap; a nonsense one still cannot unbound the worker */
static unsigned
rooms_msg_cap(int64_t max)
{
    return max < 1 ? 1
           : max > ROOMS_PARTICIPANTS_LIMIT ? ROOMS_PARTICIPANTS_LIMIT
           : (unsigned) max;
}


int
rooms_msg_join_encode(const rooms_msg_join_t *j, char *out, size_t cap)
{
    const char  *role, *absent;

    role = rooms_msg_role_name(j->role);
    absent = rooms_host_absent_name(j->host_absent);

    if (role == NULL || absent == NULL || j->name[0] == '\0') {
        return -1;
    }

    if (j->resume[0] != '\0') {
        return rooms_msg_dump(json_pack("{s:I,s:s,s:I,s:I,s:s,s:s,s:s,s:b,"
                                        "s:s,s:s,s:I,s:I,s:I,s:s}",
                                        "room", (json_int_t) j->room,
                                        "code", j->code,
                                        "rev", (json_int_t) j->rev,
                                        "max", (json_int_t) j->max,
                                        "name", j->name,
                                        "role", role,
                                        "token", j->token,
                                        "locked", (int) j->locked,
                                        "admission",
                                        j->knock ? "knock" : "open",
                                        "host_absent", absent,
                                        "grace", (json_int_t) j->grace,
                                        "video_slots",
                                        (json_int_t) j->video_slots,
                                        "audio_slots",
                                        (json_int_t) j->audio_slots,
                                        "resume", j->resume),
                              out, cap);
    }

    return rooms_msg_dump(json_pack("{s:I,s:s,s:I,s:I,s:s,s:s,s:s,s:b,s:s,"
                                    "s:s,s:I,s:I,s:I}",
                                    "room", (json_int_t) j->room,
                                    "code", j->code,
                                    "rev", (json_int_t) j->rev,
                                    "max", (json_int_t) j->max,
                                    "name", j->name,
                                    "role", role,
                                    "token", j->token,
                                    "locked", (int) j->locked,
                                    "admission", j->knock ? "knock" : "open",
                                    "host_absent", absent,
                                    "grace", (json_int_t) j->grace,
                                    "video_slots",
                                    (json_int_t) j->video_slots,
                                    "audio_slots",
                                    (json_int_t) j->audio_slots),
                          out, cap);
}


/*
 * JOIN: room, name, role, token, max and locked are required; code, rev,
 * admission, host_absent, grace, video_slots and audio_slots have their
 * defaults, and resume is "" when absent.
 * Numbers outside their bounds are clamped, as nginx bounds them already
 * and a nonsense one must not stall the worker.
 */
int
rooms_msg_join_decode(const char *json, size_t len, rooms_msg_join_t *j,
    const char **why)
{
    int       rc, v;
    char      role[8];
    json_t   *obj;
    int64_t   n;

    memset(j, 0, sizeof(rooms_msg_join_t));

    obj = rooms_msg_load(json, len, why);
    if (obj == NULL) {
        return -1;
    }

    *why = "malformed join";
    rc = -1;

    if (rooms_msg_int(obj, "room", &j->room) != 0
        || rooms_msg_str(obj, "name", j->name, sizeof(j->name)) != 0
        || j->name[0] == '\0'
        || rooms_msg_str(obj, "role", role, sizeof(role)) != 0
        || rooms_msg_token(obj, "token", j->token) != 0
        || rooms_msg_int(obj, "max", &n) != 0
        || (v = rooms_msg_bool(obj, "locked")) < 0)
    {
        goto done;
    }

    j->locked = (unsigned) v;
    j->max = rooms_msg_cap(n);

    for (j->role = 0; j->role <= ROOMS_MSG_ROLE_HOST; j->role++) {
        if (strcmp(role, rooms_msg_roles[j->role]) == 0) {
            break;
        }
    }

    if (j->role > ROOMS_MSG_ROLE_HOST
        || rooms_msg_code(obj, j->code, 0) == -2)
    {
        goto done;
    }

    switch (rooms_msg_int(obj, "rev", &j->rev)) {
    case -2:
        goto done;
    case -1:
        j->rev = 0;
    }

    if (j->rev < 0 || (v = rooms_msg_admission(obj)) == -2) {
        goto done;
    }

    j->knock = v == 1;

    if ((v = rooms_msg_absent(obj)) == -2) {
        goto done;
    }

    j->host_absent = v < 0 ? ROOMS_HOST_ABSENT_STAY : (unsigned) v;

    switch (rooms_msg_int(obj, "grace", &n)) {
    case -2:
        goto done;
    case -1:
        n = ROOMS_HOST_GRACE_DEFAULT;
    }

    j->grace = n < 0 ? 0 : n > ROOMS_HOST_GRACE_MAX ? ROOMS_HOST_GRACE_MAX
                                                    : (uint64_t) n;

    switch (rooms_msg_int(obj, "video_slots", &n)) {
    case -2:
        goto done;
    case -1:
        n = ROOMS_VIDEO_SLOTS_DEFAULT;
    }

    j->video_slots = n < 1 ? 1 : n > ROOMS_VIDEO_SLOTS_MAX
                                 ? ROOMS_VIDEO_SLOTS_MAX : (unsigned) n;

    switch (rooms_msg_int(obj, "audio_slots", &n)) {
    case -2:
        goto done;
    case -1:
        n = ROOMS_AUDIO_SLOTS_DEFAULT;
    }

    j->audio_slots = n < 1 ? 1 : n > ROOMS_AUDIO_SLOTS_MAX
                                 ? ROOMS_AUDIO_SLOTS_MAX : (unsigned) n;

    if (json_object_get(obj, "resume") != NULL
        && rooms_msg_token(obj, "resume", j->resume) != 0)
    {
        goto done;
    }

    rc = 0;

done:

    json_decref(obj);

    return rc;
}


int
rooms_msg_room_encode(const rooms_msg_room_t *r, char *out, size_t cap)
{
    int      rc;
    json_t  *obj;

    obj = json_pack("{s:I,s:I}", "room", (json_int_t) r->room,
                    "rev", (json_int_t) r->rev);
    if (obj == NULL) {
        return -1;
    }

    rc = 0;

    if (r->has & ROOMS_MSG_ROOM_ENDED) {
        rc |= json_object_set_new(obj, "ended", json_true());

    } else {
        if (r->has & ROOMS_MSG_ROOM_LOCKED) {
            rc |= json_object_set_new(obj, "locked",
                                      json_boolean(r->locked));
        }

        if (r->has & ROOMS_MSG_ROOM_ADMISSION) {
            rc |= json_object_set_new(obj, "admission",
                                      json_string(r->knock ? "knock"
                                                           : "open"));
        }

        if (r->has & ROOMS_MSG_ROOM_MAX) {
            rc |= json_object_set_new(obj, "max", json_integer(r->max));
        }

        if (r->has & ROOMS_MSG_ROOM_HOST_ABSENT) {
            if (rooms_host_absent_name(r->host_absent) == NULL) {
                rc = -1;

            } else {
                rc |= json_object_set_new(obj, "host_absent",
                          json_string(rooms_host_absent_name(r->host_absent)));
            }
        }

        if (r->has & ROOMS_MSG_ROOM_DEMOTE) {
            rc |= json_object_set_new(obj, "demote",
                                      json_string(r->demote));
        }
    }

    if (r->has & ROOMS_MSG_ROOM_REASON) {
        rc |= json_object_set_new(obj, "reason", json_string("host_absent"));
    }

    if (rc != 0) {
        json_decref(obj);
        return -1;
    }

    return rooms_msg_dump(obj, out, cap);
}


int
rooms_msg_room_decode(const char *json, size_t len, rooms_msg_room_t *r,
    const char **why)
{
    int       v, rc;
    json_t   *obj, *jreason;
    int64_t   n;

    memset(r, 0, sizeof(rooms_msg_room_t));

    obj = rooms_msg_load(json, len, why);
    if (obj == NULL) {
        return -1;
    }

    *why = "malformed room record";
    rc = -1;

    if (rooms_msg_int(obj, "room", &r->room) != 0) {
        goto done;
    }

    switch (rooms_msg_int(obj, "rev", &r->rev)) {
    case -2:
        goto done;
    case -1:
        r->rev = 0;
    }

    if (r->rev < 0) {
        goto done;
    }

    if ((v = rooms_msg_bool(obj, "ended")) == -2 || v == 0) {
        goto done;
    }

    if (v == 1) {
        r->has |= ROOMS_MSG_ROOM_ENDED;
    }

    if ((v = rooms_msg_bool(obj, "locked")) == -2) {
        goto done;
    }

    if (v >= 0) {
        r->locked = (unsigned) v;
        r->has |= ROOMS_MSG_ROOM_LOCKED;
    }

    if ((v = rooms_msg_admission(obj)) == -2) {
        goto done;
    }

    if (v >= 0) {
        r->knock = (unsigned) v;
        r->has |= ROOMS_MSG_ROOM_ADMISSION;
    }

    switch (rooms_msg_int(obj, "max", &n)) {
    case -2:
        goto done;
    case 0:
        r->max = rooms_msg_cap(n);
        r->has |= ROOMS_MSG_ROOM_MAX;
    }

    if ((v = rooms_msg_absent(obj)) == -2) {
        goto done;
    }

    if (v >= 0) {
        r->host_absent = (unsigned) v;
        r->has |= ROOMS_MSG_ROOM_HOST_ABSENT;
    }

    if (json_object_get(obj, "demote") != NULL) {
        if (rooms_msg_token(obj, "demote", r->demote) != 0) {
            goto done;
        }

        r->has |= ROOMS_MSG_ROOM_DEMOTE;
    }

    /* an end, or one change at least: "rev" alone says nothing */
    if ((r->has & ROOMS_MSG_ROOM_ENDED) ? r->has != ROOMS_MSG_ROOM_ENDED
                                        : r->has == 0)
    {
        goto done;
    }

    /* a reason the worker does not tell the clients of is ignored */
    jreason = json_object_get(obj, "reason");

    if (jreason != NULL) {
        if (!json_is_string(jreason)) {
            goto done;
        }

        if (strcmp(json_string_value(jreason), "host_absent") == 0) {
            r->has |= ROOMS_MSG_ROOM_REASON;
        }
    }

    rc = 0;

done:

    json_decref(obj);

    return rc;
}


int
rooms_msg_ban_encode(const rooms_msg_ban_t *b, char *out, size_t cap)
{
    return rooms_msg_dump(json_pack("{s:I,s:s}", "room", (json_int_t) b->room,
                                    "token", b->token),
                          out, cap);
}


int
rooms_msg_ban_decode(const char *json, size_t len, rooms_msg_ban_t *b,
    const char **why)
{
    int      rc;
    json_t  *obj;

    memset(b, 0, sizeof(rooms_msg_ban_t));

    obj = rooms_msg_load(json, len, why);
    if (obj == NULL) {
        return -1;
    }

    rc = rooms_msg_int(obj, "room", &b->room) == 0
         && rooms_msg_token(obj, "token", b->token) == 0 ? 0 : -1;

    if (rc != 0) {
        *why = "malformed ban record";
    }

    json_decref(obj);

    return rc;
}


int
rooms_msg_count_encode(const rooms_msg_count_t *c, char *out, size_t cap)
{
    if (c->seq < 1) {
        return -1;
    }

    return rooms_msg_dump(json_pack("{s:I,s:s,s:I,s:I}",
                                    "room", (json_int_t) c->room,
                                    "code", c->code,
                                    "count", (json_int_t) c->count,
                                    "seq", (json_int_t) c->seq),
                          out, cap);
}


int
rooms_msg_count_decode(const char *json, size_t len, rooms_msg_count_t *c,
    const char **why)
{
    int       rc;
    json_t   *obj;
    int64_t   n;

    memset(c, 0, sizeof(rooms_msg_count_t));

    obj = rooms_msg_load(json, len, why);
    if (obj == NULL) {
        return -1;
    }

    rc = -1;

    /* a count is bounded by the largest cap: more is a broken sender */
    if (rooms_msg_int(obj, "room", &c->room) == 0
        && rooms_msg_code(obj, c->code, 1) == 0
        && rooms_msg_int(obj, "count", &n) == 0
        && n >= 0 && n <= ROOMS_PARTICIPANTS_LIMIT
        && rooms_msg_int(obj, "seq", &c->seq) == 0 && c->seq >= 1)
    {
        c->count = (unsigned) n;
        rc = 0;

    } else {
        *why = "malformed count record";
    }

    json_decref(obj);

    return rc;
}


int
rooms_msg_resync_encode(const rooms_msg_resync_t *r, char *out, size_t cap)
{
    if (r->seq < 0) {
        return -1;
    }

    return rooms_msg_dump(json_pack("{s:I}", "seq", (json_int_t) r->seq),
                          out, cap);
}


int
rooms_msg_resync_decode(const char *json, size_t len, rooms_msg_resync_t *r,
    const char **why)
{
    int      rc;
    json_t  *obj;

    memset(r, 0, sizeof(rooms_msg_resync_t));

    obj = rooms_msg_load(json, len, why);
    if (obj == NULL) {
        return -1;
    }

    rc = rooms_msg_int(obj, "seq", &r->seq) == 0 && r->seq >= 0 ? 0 : -1;

    if (rc != 0) {
        *why = "malformed resync record";
    }

    json_decref(obj);

    return rc;
}


int
rooms_msg_host_absent_encode(const rooms_msg_host_absent_t *h, char *out,
    size_t cap)
{
    return rooms_msg_dump(json_pack("{s:I,s:s,s:I,s:s}",
                                    "room", (json_int_t) h->room,
                                    "code", h->code,
                                    "rev", (json_int_t) h->rev,
                                    "action", h->end ? "end" : "lock"),
                          out, cap);
}


int
rooms_msg_host_absent_decode(const char *json, size_t len,
    rooms_msg_host_absent_t *h, const char **why)
{
    int      rc;
    char     action[8];
    json_t  *obj;

    memset(h, 0, sizeof(rooms_msg_host_absent_t));

    obj = rooms_msg_load(json, len, why);
    if (obj == NULL) {
        return -1;
    }

    rc = -1;

    if (rooms_msg_int(obj, "room", &h->room) == 0
        && rooms_msg_code(obj, h->code, 1) == 0
        && rooms_msg_int(obj, "rev", &h->rev) != -2 && h->rev >= 0
        && rooms_msg_str(obj, "action", action, sizeof(action)) == 0
        && (strcmp(action, "end") == 0 || strcmp(action, "lock") == 0))
    {
        h->end = strcmp(action, "end") == 0;
        rc = 0;

    } else {
        *why = "malformed host_absent record";
    }

    json_decref(obj);

    return rc;
}


int
rooms_msg_role_encode(const rooms_msg_role_t *r, char *out, size_t cap)
{
    return rooms_msg_dump(json_pack("{s:I,s:s,s:s,s:s}",
                                    "room", (json_int_t) r->room,
                                    "role", r->cohost ? "cohost" : "guest",
                                    "token", r->token,
                                    "name", r->name),
                          out, cap);
}


int
rooms_msg_role_decode(const char *json, size_t len, rooms_msg_role_t *r,
    const char **why)
{
    int      rc, v;
    char     role[8];
    json_t  *obj;

    memset(r, 0, sizeof(rooms_msg_role_t));

    obj = rooms_msg_load(json, len, why);
    if (obj == NULL) {
        return -1;
    }

    rc = -1;

    /* a new co-host's name goes with its credential; a guest needs none */
    if (rooms_msg_int(obj, "room", &r->room) == 0
        && rooms_msg_str(obj, "role", role, sizeof(role)) == 0
        && (strcmp(role, "cohost") == 0 || strcmp(role, "guest") == 0)
        && rooms_msg_token(obj, "token", r->token) == 0
        && (v = rooms_msg_str(obj, "name", r->name, sizeof(r->name))) != -2
        && (v == 0 || strcmp(role, "guest") == 0))
    {
        r->cohost = strcmp(role, "cohost") == 0;
        rc = 0;

    } else {
        *why = "malformed role record";
    }

    json_decref(obj);

    return rc;
}


int
rooms_msg_resume_encode(const rooms_msg_resume_t *r, char *out, size_t cap)
{
    const char  *role;

    role = rooms_msg_role_name(r->role);

    if (role == NULL) {
        return -1;
    }

    return rooms_msg_dump(json_pack("{s:I,s:s,s:s,s:s,s:s}",
                                    "room", (json_int_t) r->room,
                                    "token", r->token,
                                    "role", role,
                                    "resume", r->resume,
                                    "next", r->next),
                          out, cap);
}


int
rooms_msg_resume_decode(const char *json, size_t len, rooms_msg_resume_t *r,
    const char **why)
{
    int      rc;
    char     role[8];
    json_t  *obj;

    memset(r, 0, sizeof(rooms_msg_resume_t));

    obj = rooms_msg_load(json, len, why);
    if (obj == NULL) {
        return -1;
    }

    rc = -1;

    if (rooms_msg_int(obj, "room", &r->room) == 0
        && rooms_msg_token(obj, "token", r->token) == 0
        && rooms_msg_str(obj, "role", role, sizeof(role)) == 0
        && rooms_msg_token(obj, "resume", r->resume) == 0
        && rooms_msg_token(obj, "next", r->next) == 0)
    {
        for (r->role = 0; r->role <= ROOMS_MSG_ROLE_HOST; r->role++) {
            if (strcmp(role, rooms_msg_roles[r->role]) == 0) {
                rc = 0;
                break;
            }
        }
    }

    if (rc != 0) {
        *why = "malformed resume record";
    }

    json_decref(obj);

    return rc;
}
