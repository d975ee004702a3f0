
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_ics.c: calendar files (RFC 5545).
 *
 * Owns: r/<code>/event.ics (one VEVENT: UID, DTSTAMP, DTSTART in UTC,
 * SUMMARY = the title, URL and DESCRIPTION with the invite link, a VALARM
 * rooms_reminder before the start; STATUS:CANCELLED once the room ended)
 * and calendar/<secret>.ics, a browser's feed (ngx_rooms_schedule.c makes
 * its secret): the scheduled rooms that browser asked to be reminded of
 * and those it created, and its people's scheduled rooms that they may see
 * ("friends" or "public", not banned), each once, with current links.  The text rules:
 * CRLF line ends, lines folded at 75 octets (never inside a UTF-8
 * character), TEXT values escaped (backslash, semicolon, comma, newline).
 * A room's UID is a hash of its store id and creation time, so it stays
 * the same across a rotated link and tells nothing about other rooms.
 * Must never change anything: these are reads.
 * May not: include jansson.h, call json_, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_ws_, call ngx_rooms_signal_, call ngx_rooms_media_, call ngx_rooms_control_, call ngx_rooms_dir_change, call ngx_rooms_dir_add
 */


#include "ngx_rooms_schedule.h"
#include "ngx_rooms_handles.h"
#include "ngx_rooms_api.h"
#include "ngx_rooms_people.h"

#include "rooms_sched.h"


/* RFC 5545 3.1: lines are at most 75 octets, CRLF not counted */
#define NGX_ROOMS_ICS_FOLD   75

/*
 * A feed holds at most what a browser may have: ROOMS_SCHED_PER_BROWSER
 * reminders and as many rooms it created; an event takes at most this.
 */
#define NGX_ROOMS_ICS_EVENT_MAX  (2048 + 4 * ROOMS_TITLE_MAX_BYTES         \
                                  + 4 * ROOMS_BASE_URL_MAX)


typedef struct {
    ngx_http_request_t          *r;
    rooms_store_t               *store;
    ngx_array_t                 *listed;         /* room ids, int64_t */
    u_char                      *person;         /* a ban's key; or NULL */
    u_char                      *start;
    u_char                      *pos;
    u_char                      *end;
    ngx_str_t                    base;
    time_t                       lead;
    ngx_uint_t                   failed;
} ngx_rooms_ics_t;


/* Room for len more bytes, growing the buffer (doubling). */
static ngx_int_t
ngx_rooms_ics_room(ngx_rooms_ics_t *ics, size_t len)
{
    u_char  *p;
    size_t   size, used;

    if ((size_t) (ics->end - ics->pos) >= len) {
        return NGX_OK;
    }

    used = ics->pos - ics->start;
    size = ngx_max(2 * (size_t) (ics->end - ics->start), used + len);

    p = ngx_pnalloc(ics->r->pool, size);
    if (p == NULL) {
        ics->failed = 1;
        return NGX_ERROR;
    }

    ngx_memcpy(p, ics->start, used);

    ics->start = p;
    ics->pos = p + used;
    ics->end = p + size;

    return NGX_OK;
}


/*
 * One content line: name, ':' and value, folded: after 75 octets a CRLF
 * and a space, moving back over UTF-8 continuation bytes so that no
 * character is split.
 */
static void
ngx_rooms_ics_line(ngx_rooms_ics_t *ics, const char *name, u_char *value,
    size_t len)
{
    u_char  *line, *p, *last;
    size_t   n, width, cut;

    n = ngx_strlen(name);

    line = ngx_pnalloc(ics->r->pool, n + 1 + len);
    if (line == NULL
        || ngx_rooms_ics_room(ics, (n + 1 + len) * 2 + 8) != NGX_OK)
    {
        ics->failed = 1;
        return;
    }

    p = ngx_cpymem(line, name, n);
    *p++ = ':';
    p = ngx_cpymem(p, value, len);

    last = p;
    p = line;
    width = NGX_ROOMS_ICS_FOLD;

    while (p < last) {
        cut = ngx_min((size_t) (last - p), width);

        while (cut > 1 && p + cut < last && (p[cut] & 0xc0) == 0x80) {
            cut--;
        }

        if (p != line) {
            *ics->pos++ = ' ';
        }

        ics->pos = ngx_cpymem(ics->pos, p, cut);
        *ics->pos++ = CR;
        *ics->pos++ = LF;

        p += cut;
        width = NGX_ROOMS_ICS_FOLD - 1;      /* the space counts */
    }
}


/* A content line of a constant or printf'd value (no TEXT escaping). */
static void
ngx_rooms_ics_printf(ngx_rooms_ics_t *ics, const char *name,
    const char *fmt, ...)
{
    u_char   value[ROOMS_BASE_URL_MAX + ROOMS_CODE_LEN + 256];
    u_char  *p;
    va_list  args;

    va_start(args, fmt);
    p = ngx_vslprintf(value, value + sizeof(value), fmt, args);
    va_end(args);

    ngx_rooms_ics_line(ics, name, value, p - value);
}


/* A TEXT value (RFC 5545 3.3.11): \\ \; \, and \n escaped. */
static void
ngx_rooms_ics_text(ngx_rooms_ics_t *ics, const char *name, const char *pre,
    u_char *s, size_t len, const char *post)
{
    u_char  *buf, *p;
    size_t   i, n;

    n = ngx_strlen(pre) + ngx_strlen(post);

    buf = ngx_pnalloc(ics->r->pool, 2 * (len + n));
    if (buf == NULL) {
        ics->failed = 1;
        return;
    }

    p = buf;

    for (i = 0; pre[i]; i++) {
        *p++ = pre[i];
    }

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '\\':
        case ';':
        case ',':
            *p++ = '\\';
            *p++ = s[i];
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        case '\r':
            break;
        default:
            *p++ = s[i];
        }
    }

    for (i = 0; post[i]; i++) {
        *p++ = post[i];
    }

    ngx_rooms_ics_line(ics, name, buf, p - buf);
}


/* "YYYYMMDDTHHMMSSZ" */
static u_char *
ngx_rooms_ics_time(u_char *p, time_t t)
{
    ngx_tm_t  tm;

    ngx_gmtime(t, &tm);

    return ngx_sprintf(p, "%04d%02d%02dT%02d%02d%02dZ", tm.ngx_tm_year,
                       tm.ngx_tm_mon, tm.ngx_tm_mday, tm.ngx_tm_hour,
                       tm.ngx_tm_min, tm.ngx_tm_sec);
}


static void
ngx_rooms_ics_open(ngx_rooms_ics_t *ics, ngx_http_request_t *r,
    const char *name)
{
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    ngx_memzero(ics, sizeof(ngx_rooms_ics_t));
    ics->r = r;
    ics->lead = rmcf->reminder;

    if (ngx_rooms_api_base(r, &ics->base) != NGX_OK) {
        ics->failed = 1;
        return;
    }

    ngx_rooms_ics_line(ics, "BEGIN", (u_char *) "VCALENDAR", 9);
    ngx_rooms_ics_printf(ics, "VERSION", "2.0");
    ngx_rooms_ics_printf(ics, "PRODID", "-//ngx_rooms//rooms//EN");
    ngx_rooms_ics_printf(ics, "CALSCALE", "GREGORIAN");

    if (name) {
        ngx_rooms_ics_text(ics, "X-WR-CALNAME", "", (u_char *) name,
                           ngx_strlen(name), "");
    }
}


/* One VEVENT. */
static void
ngx_rooms_ics_vevent(ngx_rooms_ics_t *ics, const rooms_sched_room_t *room)
{
    u_char                   id[64], hash[ROOMS_HASH_LEN];
    u_char                   hex[ROOMS_HASH_HEX_LEN + 1];
    u_char                  *p;
    u_char                   stamp[32], start[32];
    size_t                   len;
    const char              *title;
    const rooms_activity_t  *act;

    act = &rooms_activities[room->activity < rooms_nactivities
                            ? room->activity : ROOMS_ACTIVITY_DEFAULT];
    title = room->title[0] ? room->title : act->en;

    /* stable across rotations, and says nothing of other rooms */
    p = ngx_sprintf(id, "ngx_rooms uid %L %L", room->id, room->created_at);
    rooms_token_hash(id, p - id, hash);
    rooms_token_hash_hex(hash, (char *) hex);

    *ngx_rooms_ics_time(stamp, ngx_time()) = '\0';
    *ngx_rooms_ics_time(start, (time_t) room->start_at) = '\0';

    len = ngx_strlen(title);

    ngx_rooms_ics_line(ics, "BEGIN", (u_char *) "VEVENT", 6);
    ngx_rooms_ics_printf(ics, "UID", "%*s@ngx_rooms", (size_t) 32, hex);
    ngx_rooms_ics_printf(ics, "DTSTAMP", "%s", stamp);
    ngx_rooms_ics_printf(ics, "DTSTART", "%s", start);
    ngx_rooms_ics_text(ics, "SUMMARY", "", (u_char *) title, len, "");
    ngx_rooms_ics_printf(ics, "URL", "%V/r/%s", &ics->base, room->code);
    ngx_rooms_ics_printf(ics, "DESCRIPTION", "Join: %V/r/%s", &ics->base,
                         room->code);

    if (room->ended_at) {
        ngx_rooms_ics_printf(ics, "STATUS", "CANCELLED");
    }

    ngx_rooms_ics_line(ics, "BEGIN", (u_char *) "VALARM", 6);
    ngx_rooms_ics_printf(ics, "ACTION", "DISPLAY");
    ngx_rooms_ics_text(ics, "DESCRIPTION", "", (u_char *) title, len, "");
    ngx_rooms_ics_printf(ics, "TRIGGER", "-PT%TS", ics->lead);
    ngx_rooms_ics_line(ics, "END", (u_char *) "VALARM", 6);

    ngx_rooms_ics_line(ics, "END", (u_char *) "VEVENT", 6);
}


/* Ends the calendar and sends it. */
static ngx_int_t
ngx_rooms_ics_send(ngx_rooms_ics_t *ics, const char *filename)
{
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_table_elt_t     *h;
    ngx_http_request_t  *r = ics->r;

    ngx_rooms_ics_line(ics, "END", (u_char *) "VCALENDAR", 9);

    if (ics->failed) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    h = ngx_list_push(&r->headers_out.headers);

    if (b == NULL || h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Content-Disposition");
    h->value.data = (u_char *) filename;
    h->value.len = ngx_strlen(filename);

    b->pos = ics->start;
    b->last = ics->pos;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/calendar; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_rooms_ics_event(ngx_http_request_t *r, rooms_room_t *room)
{
    ngx_rooms_ics_t     ics;
    rooms_sched_room_t  s;

    ngx_memzero(&s, sizeof(rooms_sched_room_t));

    s.id = room->id;
    ngx_memcpy(s.code, room->code, sizeof(s.code));
    ngx_memcpy(s.title, room->title, sizeof(s.title));
    s.activity = room->activity;
    s.start_at = room->start_at;
    s.created_at = room->created_at;
    s.ended_at = room->ended_at;

    ngx_rooms_ics_open(&ics, r, NULL);
    ngx_rooms_ics_vevent(&ics, &s);

    return ngx_rooms_ics_send(&ics, "attachment; filename=\"event.ics\"");
}


/* A room of the feed, once (a browser's own and its people's may meet). */
static int
ngx_rooms_ics_feed_room(void *data, const rooms_sched_room_t *room)
{
    int64_t          *id;
    ngx_uint_t        i;
    ngx_rooms_ics_t  *ics = data;

    id = ics->listed->elts;

    for (i = 0; i < ics->listed->nelts; i++) {
        if (id[i] == room->id) {
            return 0;
        }
    }

    /* nobody learns of a room they may not join */
    if (ics->person != NULL
        && rooms_store_is_banned(ics->store, room->id, ics->person) != 0)
    {
        return 0;
    }

    id = ngx_array_push(ics->listed);
    if (id == NULL) {
        ics->failed = 1;
        return 1;
    }

    *id = room->id;

    ngx_rooms_ics_vevent(ics, room);

    return ics->failed;
}


ngx_int_t
ngx_rooms_ics_feed(ngx_http_request_t *r, u_char *secret)
{
    int                     rc;
    u_char                  feed[ROOMS_HASH_LEN], token[ROOMS_HASH_LEN];
    u_char                  person[ROOMS_HASH_LEN];
    ngx_uint_t              i, n;
    rooms_person_t         *people;
    ngx_rooms_ics_t         ics;
    static const u_char     none[ROOMS_HASH_LEN];

    rooms_token_hash(secret, ROOMS_HOST_KEY_LEN, feed);

    rc = rooms_sched_feed_find(ngx_rooms_store_handle(), feed, token, person);

    if (rc == ROOMS_STORE_NOT_FOUND) {
        /* a rotated or revoked address: as if it never was */
        return NGX_HTTP_NOT_FOUND;
    }

    if (rc != ROOMS_STORE_OK) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ngx_rooms_ics_open(&ics, r, "Rooms");

    ics.store = ngx_rooms_store_handle();
    ics.listed = ngx_array_create(r->pool, 16, sizeof(int64_t));
    if (ics.listed == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* what it asked to be reminded of, and what it created */
    if (rooms_sched_feed_rooms(ngx_rooms_store_handle(), token, (int64_t) ngx_time(),
                               ngx_rooms_ics_feed_room, &ics)
        != ROOMS_STORE_OK)
    {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    /* its people's scheduled rooms that they may see (the tray's rule) */
    if (ngx_memcmp(person, none, ROOMS_HASH_LEN) != 0) {
        people = ngx_palloc(r->pool, ROOMS_PEOPLE_MAX
                                     * sizeof(rooms_person_t));
        if (people == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_rooms_people_stored(r, person, people, ROOMS_PEOPLE_MAX, &n)
            != NGX_OK)
        {
            return NGX_HTTP_SERVICE_UNAVAILABLE;
        }

        ics.person = person;

        for (i = 0; i < n; i++) {
            if (rooms_sched_feed_owned(ngx_rooms_store_handle(), people[i].hash,
                                       (int64_t) ngx_time(),
                                       ngx_rooms_ics_feed_room, &ics)
                != ROOMS_STORE_OK)
            {
                return NGX_HTTP_SERVICE_UNAVAILABLE;
            }
        }
    }

    return ngx_rooms_ics_send(&ics, "inline; filename=\"rooms.ics\"");
}
