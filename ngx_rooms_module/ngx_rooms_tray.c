
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_tray.c: the tray, the rooms open to you that have people in
 * them now (or that your people scheduled within the hour).
 *
 * Owns: who may see a room (ngx_rooms_tray_candidate() for what the room
 * alone decides, ngx_rooms_tray_visible() for the asker; the audience rule:
 * "link" never, "friends" the people of its creator or of a host in it,
 * "group:<id>" that group's members, "public" everyone; never an ended,
 * locked or full room, nor one that bans the browser); GET api/tray (the
 * list as JSON); the tray's WebSocket api/tray/ws, whose browser is sent
 * the list at once and again whenever it changes, and the reminders of the
 * handshake's rooms_browser cookie (ngx_rooms_schedule_watch(); only when
 * its Origin is this host), so that `/` holds one connection; api/people
 * (your people listed and forgotten).
 * Must never tell anything of a room the asker may not see (not its
 * title, code or who is in it), change a room, or see a guest token in a
 * URL: the browser presents it in the X-Rooms-Guest header (api/tray,
 * api/people) or in the WebSocket's first message, never in a logged
 * address.
 * May not: include rooms_ring.h, call ngx_rooms_dir_change, call ngx_rooms_dir_add, call ngx_rooms_dir_count, call ngx_rooms_media_, call ngx_rooms_signal_, call ngx_rooms_router_, call ngx_rooms_page_, call ngx_rooms_control_
 *
 * Live updates.  One WebSocket per page (the project's RFC 6455 file, its
 * pings and bounded queue) rather than server-sent events: a browser
 * cannot put its token in a header of an EventSource, only in its URL
 * (logged) or a cookie (sent by every page of any site that opens it);
 * a WebSocket's first message carries it as the signaling's join does,
 * so a page of another site can open the socket but learns nothing
 * without the token, which only this origin's storage holds.  Every nginx worker with live trays looks every
 * NGX_ROOMS_TRAY_TICK ms at the presence generation (ngx_rooms_people.c,
 * shared by all workers): after a join or leave anywhere each of its
 * trays is computed again and sent when it differs from what that
 * browser has.  Changes the generation does not count (a lock, an end, a
 * new audience, a scheduled room coming within the hour, a person
 * forgotten) are caught by a full pass every NGX_ROOMS_TRAY_FULL ms.
 */


#include "ngx_rooms_tray.h"
#include "ngx_rooms_handles.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_api.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_identity.h"
#include "ngx_rooms_people.h"
#include "ngx_rooms_policy.h"
#include "ngx_rooms_schedule.h"
#include "ngx_rooms_ws.h"

#include <jansson.h>


#define NGX_ROOMS_TRAY_TICK         250       /* ms: a join shows in < 1 s */
#define NGX_ROOMS_TRAY_FULL         2000      /* ms */
#define NGX_ROOMS_TRAY_HELLO_MS     10000
#define NGX_ROOMS_TRAY_SOON         3600      /* s: scheduled rooms shown */

/*
 * At most this many rooms in one tray, and scheduled rooms looked at: a
 * tray is a strip on a page, and each room costs a lookup or two.
 */
#define NGX_ROOMS_TRAY_MAX          32
#define NGX_ROOMS_TRAY_SOON_MAX     64

/* a browser's live trays at most per nginx worker (each costs a pass) */
#define NGX_ROOMS_TRAY_SUBS_MAX     4096

#define NGX_ROOMS_TRAY_CLOSE_BAD    4400
#define NGX_ROOMS_TRAY_CLOSE_LATE   4408


/* who is asking, as the visibility rule needs it */
typedef struct {
    unsigned                     has_self:1;
    unsigned                     has_token:1;
    u_char                       self[ROOMS_HASH_LEN];
    u_char                       token[ROOMS_HASH_LEN];  /* for bans */
    rooms_person_t              *people;                 /* the store's */
    ngx_uint_t                   npeople;
    ngx_array_t                 *site;       /* the policy's, as hashes */
    ngx_array_t                 *groups;                 /* of ngx_str_t */
    ngx_rooms_user_t            *user;
} ngx_rooms_tray_who_t;


/* a room that may be in someone's tray: read once per pass, for all */
typedef struct {
    rooms_room_t                 room;
    unsigned                     has_owner:1;
    u_char                       owner[ROOMS_HASH_LEN];
    ngx_rooms_present_t         *pres;           /* the people in it now */
    ngx_uint_t                   npres;
} ngx_rooms_tray_cand_t;


typedef struct {
    ngx_rooms_tray_cand_t       *cand;
    ngx_uint_t                   ncand;
    time_t                       now;
} ngx_rooms_tray_pass_t;


/* one live tray */
typedef struct {
    ngx_queue_t                  queue;
    ngx_http_request_t          *request;
    ngx_rooms_ws_t              *ws;
    unsigned                     hello:1;
    ngx_rooms_tray_who_t         who;            /* without its people */
    uint32_t                     sent_crc;
    size_t                       sent_len;
} ngx_rooms_tray_sub_t;


static void ngx_rooms_tray_who(ngx_http_request_t *r,
    const u_char *token, ngx_rooms_tray_who_t *who);
static ngx_int_t ngx_rooms_tray_people_of(ngx_http_request_t *r,
    ngx_pool_t *pool, ngx_rooms_tray_who_t *who);
static ngx_array_t *ngx_rooms_tray_groups(ngx_http_request_t *r);
static ngx_int_t ngx_rooms_tray_pass(ngx_log_t *log, ngx_pool_t *pool,
    ngx_rooms_tray_pass_t *pass);
static ngx_int_t ngx_rooms_tray_candidate(ngx_rooms_tray_pass_t *pass,
    ngx_rooms_tray_cand_t *c);
static json_t *ngx_rooms_tray_list(ngx_http_request_t *r,
    ngx_rooms_tray_who_t *who, ngx_rooms_tray_pass_t *pass);
static ngx_int_t ngx_rooms_tray_room(ngx_log_t *log, u_char *code,
    int64_t room_id, rooms_room_t *room);
static ngx_int_t ngx_rooms_tray_visible(ngx_http_request_t *r,
    ngx_rooms_tray_who_t *who, ngx_rooms_tray_cand_t *c);
static ngx_int_t ngx_rooms_tray_audience(ngx_rooms_tray_who_t *who,
    ngx_rooms_tray_cand_t *c);
static ngx_int_t ngx_rooms_tray_known(ngx_rooms_tray_who_t *who,
    const u_char *person);
static json_t *ngx_rooms_tray_item(rooms_room_t *room,
    ngx_rooms_tray_who_t *who, ngx_rooms_present_t *pres, ngx_uint_t npres,
    time_t now);
static void ngx_rooms_tray_message(void *data, const u_char *text,
    size_t len, ngx_uint_t binary);
static void ngx_rooms_tray_no_hello(void *data);
static ngx_int_t ngx_rooms_tray_same_origin(ngx_http_request_t *r);
static ngx_int_t ngx_rooms_tray_reminder(void *data, u_char *json,
    size_t len);
static void ngx_rooms_tray_leave(void *data, uint64_t id);
static void ngx_rooms_tray_cleanup(void *data);
static void ngx_rooms_tray_tick(ngx_event_t *ev);
static void ngx_rooms_tray_tick_run(ngx_event_t *ev);
static void ngx_rooms_tray_send(ngx_rooms_tray_sub_t *sub,
    ngx_pool_t *pool, ngx_rooms_tray_pass_t *pass);


static ngx_rooms_ws_handler_t  ngx_rooms_tray_ws_handler = {
    NGX_ROOMS_TRAY_HELLO_MS,
    ngx_rooms_tray_no_hello,
    ngx_rooms_tray_message,
    ngx_rooms_tray_leave,
    NULL
};


/* this worker's live trays, and the timer that refreshes them */
static ngx_queue_t        ngx_rooms_tray_subs;
static ngx_uint_t         ngx_rooms_tray_nsubs;
static ngx_event_t        ngx_rooms_tray_ev;
static ngx_atomic_uint_t  ngx_rooms_tray_gen;
static ngx_msec_t         ngx_rooms_tray_full_at;


void
ngx_rooms_tray_init_process(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_rooms_tray_subs);
    ngx_rooms_tray_nsubs = 0;

    ngx_rooms_tray_ev.handler = ngx_rooms_tray_tick;
    ngx_rooms_tray_ev.log = cycle->log;
    ngx_rooms_tray_ev.data = cycle;
    ngx_rooms_tray_ev.cancelable = 1;
}


void
ngx_rooms_tray_exit_process(void)
{
    if (ngx_rooms_tray_ev.timer_set) {
        ngx_del_timer(&ngx_rooms_tray_ev);
    }
}


/* Who is asking: its person (a signed-in user, or the browser's token). */
static void
ngx_rooms_tray_who(ngx_http_request_t *r, const u_char *token,
    ngx_rooms_tray_who_t *who)
{
    ngx_memzero(who, sizeof(ngx_rooms_tray_who_t));

    if (token != NULL) {
        who->has_token = 1;
        ngx_memcpy(who->token, token, ROOMS_HASH_LEN);
    }

    who->user = ngx_rooms_identity(r);
    who->groups = ngx_rooms_tray_groups(r);
    who->has_self = ngx_rooms_people_self(r, token, who->self) == NGX_OK;

    /* the site's own friends: asked once (a live tray's, at its hello) */
    who->site = ngx_rooms_people_site(r);
}


/* who's people, now, allocated from pool.  NGX_OK or NGX_ERROR. */
static ngx_int_t
ngx_rooms_tray_people_of(ngx_http_request_t *r, ngx_pool_t *pool,
    ngx_rooms_tray_who_t *who)
{
    who->npeople = 0;

    if (!who->has_self) {
        return NGX_OK;
    }

    who->people = ngx_palloc(pool, ROOMS_PEOPLE_MAX * sizeof(rooms_person_t));
    if (who->people == NULL) {
        return NGX_ERROR;
    }

    return ngx_rooms_people_stored(r, who->self, who->people,
                                   ROOMS_PEOPLE_MAX, &who->npeople);
}


/*
 * The groups of who is asking (rooms_user_groups, or the policy's
 * identify()): NULL for an anonymous browser.
 */
static ngx_array_t *
ngx_rooms_tray_groups(ngx_http_request_t *r)
{
    ngx_rooms_user_t  *u;

    u = ngx_rooms_identity(r);

    return u != NULL && u->id.len ? u->groups : NULL;
}


ngx_int_t
ngx_rooms_tray_get(ngx_http_request_t *r)
{
    u_char                 token[ROOMS_HASH_LEN];
    char                  *text;
    json_t                *list, *out;
    ngx_rooms_tray_who_t   who;
    ngx_rooms_tray_pass_t  pass;

    ngx_rooms_tray_who(r,
                       ngx_rooms_people_header_token(r, token) == NGX_OK
                       ? token : NULL, &who);

    if (ngx_rooms_tray_people_of(r, r->pool, &who) != NGX_OK
        || ngx_rooms_tray_pass(r->connection->log, r->pool, &pass) != NGX_OK)
    {
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "storage_unavailable",
                                  "the tray cannot be read now; try again");
    }

    list = ngx_rooms_tray_list(r, &who, &pass);
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out = json_pack("{s:o}", "rooms", list);
    text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);

    return ngx_rooms_api_json(r, NGX_HTTP_OK, text);
}


/*
 * One pass: the rooms anyone's tray may list now, whoever asks: the rooms
 * with people in them (from the presence table, grouped by room), then
 * the scheduled ones opening within the hour, each read once (the
 * directory, and the creator of a "friends" room from the store) and
 * kept when the room itself allows it (ngx_rooms_tray_candidate()).  The
 * live trays of a worker share a pass.  NGX_OK or NGX_ERROR.
 */
static ngx_int_t
ngx_rooms_tray_pass(ngx_log_t *log, ngx_pool_t *pool,
    ngx_rooms_tray_pass_t *pass)
{
    char                   (*codes)[ROOMS_CODE_LEN + 1];
    unsigned                 nsoon;
    ngx_uint_t               i, j, npres;
    rooms_store_t           *st;
    ngx_rooms_present_t     *pres;
    ngx_rooms_tray_cand_t   *c;
    ngx_rooms_main_conf_t   *rmcf;

    pass->now = ngx_time();
    pass->ncand = 0;

    if (ngx_rooms_people_snapshot(pool, &pres, &npres) != NGX_OK) {
        return NGX_ERROR;
    }

    pass->cand = ngx_palloc(pool, (npres + NGX_ROOMS_TRAY_SOON_MAX)
                                  * sizeof(ngx_rooms_tray_cand_t));
    codes = ngx_palloc(pool, NGX_ROOMS_TRAY_SOON_MAX * sizeof(*codes));

    if (pass->cand == NULL || codes == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < npres; i = j) {
        for (j = i + 1; j < npres && pres[j].room_id == pres[i].room_id; j++)
        {
            /* void */
        }

        c = &pass->cand[pass->ncand];
        c->pres = &pres[i];
        c->npres = j - i;

        if (ngx_rooms_tray_room(log, pres[i].code, pres[i].room_id, &c->room)
            == NGX_OK
            && ngx_rooms_tray_candidate(pass, c) == NGX_OK)
        {
            pass->ncand++;
        }
    }

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);
    st = ngx_rooms_store_handle();

    if (st == NULL
        || rooms_people_soon(st, pass->now, pass->now + NGX_ROOMS_TRAY_SOON,
                             codes, NGX_ROOMS_TRAY_SOON_MAX, &nsoon)
           != ROOMS_STORE_OK)
    {
        /* the rooms open now are still worth showing */
        return NGX_OK;
    }

    for (i = 0; i < nsoon; i++) {
        c = &pass->cand[pass->ncand];
        c->pres = NULL;
        c->npres = 0;

        if (ngx_rooms_dir_get(rmcf, log, (u_char *) codes[i], &c->room)
            == NGX_OK
            && ngx_rooms_tray_candidate(pass, c) == NGX_OK)
        {
            pass->ncand++;
        }
    }

    return NGX_OK;
}


/*
 * What the room alone decides: NGX_OK when some tray may list it.  A room
 * that would refuse any drop-in is never shown: ended, locked, full, or
 * "link"; nor one that is neither open with people in it nor opening
 * within the hour.  A knock room is shown: its drop-in knocks, as its
 * link would.  The creator of a "friends" room is read here, once.
 */
static ngx_int_t
ngx_rooms_tray_candidate(ngx_rooms_tray_pass_t *pass,
    ngx_rooms_tray_cand_t *c)
{
    const char    *state;
    rooms_room_t  *room;

    room = &c->room;
    state = rooms_state(room, pass->now);

    if (ngx_strcmp(state, "ended") == 0 || room->locked
        || ngx_strcmp(room->audience, "link") == 0)
    {
        return NGX_DECLINED;
    }

    if (ngx_strcmp(state, "open") == 0) {
        if (c->npres == 0 || room->participants >= room->max_participants) {
            return NGX_DECLINED;
        }

    } else if (room->start_at > pass->now + NGX_ROOMS_TRAY_SOON) {
        return NGX_DECLINED;
    }

    c->has_owner = ngx_strcmp(room->audience, "friends") == 0
                   && ngx_rooms_people_owner(room->id, c->owner) == 1;

    return NGX_OK;
}


/*
 * who's tray from a pass: the candidates who may see, in the pass's
 * order, at most NGX_ROOMS_TRAY_MAX.  A JSON array, or NULL when memory
 * runs out.
 */
static json_t *
ngx_rooms_tray_list(ngx_http_request_t *r, ngx_rooms_tray_who_t *who,
    ngx_rooms_tray_pass_t *pass)
{
    json_t      *list, *item;
    ngx_uint_t   i;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (i = 0; i < pass->ncand && json_array_size(list) < NGX_ROOMS_TRAY_MAX;
         i++)
    {
        if (ngx_rooms_tray_visible(r, who, &pass->cand[i]) != NGX_OK) {
            continue;
        }

        item = ngx_rooms_tray_item(&pass->cand[i].room, who,
                                   pass->cand[i].pres, pass->cand[i].npres,
                                   pass->now);

        if (item == NULL || json_array_append_new(list, item) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    return list;
}


/*
 * The room a presence slot names: by its code, or by its store id when a
 * rotation retired that code.  NGX_OK, or NGX_DECLINED (gone).
 */
static ngx_int_t
ngx_rooms_tray_room(ngx_log_t *log, u_char *code, int64_t room_id,
    rooms_room_t *room)
{
    char                    now_code[ROOMS_CODE_LEN + 1];
    ngx_int_t               rc;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    rc = ngx_rooms_dir_get(rmcf, log, code, room);

    if (rc == NGX_ROOMS_GONE && rmcf->store != NULL
        && rooms_store_code(ngx_rooms_store_handle(), room_id, now_code)
           == ROOMS_STORE_OK)
    {
        rc = ngx_rooms_dir_get(rmcf, log, (u_char *) now_code, room);
    }

    return rc == NGX_OK && room->id == room_id ? NGX_OK : NGX_DECLINED;
}


/*
 * What the asker decides, for a candidate: NGX_OK when who may see it
 * (its audience, then a ban of who's token, then the site's policy),
 * NGX_DECLINED otherwise.  Cheapest first: the store and the policy are
 * asked only about rooms the audience lets through.
 */
static ngx_int_t
ngx_rooms_tray_visible(ngx_http_request_t *r, ngx_rooms_tray_who_t *who,
    ngx_rooms_tray_cand_t *c)
{
    ngx_str_t               reason;
    ngx_rooms_main_conf_t  *rmcf;

    if (ngx_rooms_tray_audience(who, c) != NGX_OK) {
        return NGX_DECLINED;
    }

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    if (who->has_token && rmcf->store != NULL
        && rooms_store_is_banned(ngx_rooms_store_handle(), c->room.id, who->token) != 0)
    {
        /* banned, or the store cannot tell: not shown */
        return NGX_DECLINED;
    }

    /* the site's rooms_policy can_join() would refuse the drop-in */
    if (ngx_rooms_policy_can_join(r, who->user, &c->room, &reason)
        == NGX_DECLINED)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* NGX_OK when the room's audience lets who see it. */
static ngx_int_t
ngx_rooms_tray_audience(ngx_rooms_tray_who_t *who, ngx_rooms_tray_cand_t *c)
{
    size_t         len;
    ngx_str_t     *g;
    ngx_uint_t     i;
    rooms_room_t  *room;

    room = &c->room;

    if (ngx_strcmp(room->audience, "public") == 0) {
        return NGX_OK;
    }

    if (ngx_strncmp(room->audience, "group:", sizeof("group:") - 1) == 0) {
        if (who->groups == NULL) {
            return NGX_DECLINED;
        }

        len = ngx_strlen(room->audience) - (sizeof("group:") - 1);
        g = who->groups->elts;

        for (i = 0; i < who->groups->nelts; i++) {
            if (g[i].len == len
                && ngx_strncmp(g[i].data,
                               room->audience + sizeof("group:") - 1, len)
                   == 0)
            {
                return NGX_OK;
            }
        }

        return NGX_DECLINED;
    }

    if (ngx_strcmp(room->audience, "friends") != 0 || !who->has_self) {
        return NGX_DECLINED;
    }

    /* friends: of its creator, or of a host in it now */

    if (c->has_owner
        && (ngx_memcmp(c->owner, who->self, ROOMS_HASH_LEN) == 0
            || ngx_rooms_tray_known(who, c->owner) == NGX_OK))
    {
        return NGX_OK;
    }

    for (i = 0; i < c->npres; i++) {
        if (c->pres[i].role == NGX_ROOMS_PRESENT_HOST
            && (ngx_memcmp(c->pres[i].person, who->self, ROOMS_HASH_LEN) == 0
                || ngx_rooms_tray_known(who, c->pres[i].person) == NGX_OK))
        {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/* NGX_OK when person is one of who's people (the store's or the site's) */
static ngx_int_t
ngx_rooms_tray_known(ngx_rooms_tray_who_t *who, const u_char *person)
{
    u_char      *h;
    ngx_uint_t   i;

    for (i = 0; i < who->npeople; i++) {
        if (ngx_memcmp(who->people[i].hash, person, ROOMS_HASH_LEN) == 0) {
            return NGX_OK;
        }
    }

    if (who->site == NULL) {
        return NGX_DECLINED;
    }

    h = who->site->elts;

    for (i = 0; i < who->site->nelts; i++) {
        if (ngx_memcmp(h + i * ROOMS_HASH_LEN, person, ROOMS_HASH_LEN) == 0) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * A visible room as the tray shows it: code, title, activity (with its
 * labels), state, start, admission, the live count and the names of the
 * asker's people in it (never anyone else's).
 */
static json_t *
ngx_rooms_tray_item(rooms_room_t *room, ngx_rooms_tray_who_t *who,
    ngx_rooms_present_t *pres, ngx_uint_t npres, time_t now)
{
    char                     when[ROOMS_TIME_LEN + 1];
    json_t                  *item, *names;
    ngx_uint_t               i, j, count;
    const rooms_activity_t  *a;

    a = &rooms_activities[room->activity < rooms_nactivities
                          ? room->activity : ROOMS_ACTIVITY_DEFAULT];

    names = json_array();
    if (names == NULL) {
        return NULL;
    }

    for (i = 0; i < npres; i++) {
        if (ngx_rooms_tray_known(who, pres[i].person) != NGX_OK) {
            continue;
        }

        /* one name per person, whatever its connections */
        for (j = 0; j < i; j++) {
            if (ngx_memcmp(pres[j].person, pres[i].person, ROOMS_HASH_LEN)
                == 0)
            {
                break;
            }
        }

        if (j == i) {
            json_array_append_new(names,
                                  json_stringn((char *) pres[i].name,
                                               pres[i].name_len));
        }
    }

    /* the directory's live count; the slots before its COUNT arrives */
    count = room->participants ? room->participants : npres;

    rooms_time_format(room->start_at, when);

    item = json_pack("{s:s#, s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:I,"
                     " s:o}",
                     "code", room->code, (int) ROOMS_CODE_LEN,
                     "title", room->title,
                     "activity", a->name,
                     "activity_label", "en", a->en, "it", a->it,
                     "state", rooms_state(room, now),
                     "start_at", when,
                     "admission", room->admission == ROOMS_ADMISSION_KNOCK
                                  ? "knock" : "open",
                     "participants", (json_int_t) count,
                     "people", names);

    return item;
}


/* ---- the live tray: api/tray/ws ---- */


ngx_int_t
ngx_rooms_tray_ws(ngx_http_request_t *r)
{
    char                   accept[ROOMS_WS_ACCEPT_LEN + 1];
    ngx_int_t              rc;
    rooms_error_t          err;
    ngx_pool_cleanup_t    *cln;
    ngx_rooms_tray_sub_t  *sub;

    if (ngx_rooms_tray_nsubs >= NGX_ROOMS_TRAY_SUBS_MAX) {
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "too_many_trays",
                                  "too many live trays; try again later");
    }

    rc = ngx_rooms_ws_check(r, accept, &err);

    if (rc == NGX_DECLINED) {
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_rooms_api_error(r, &err);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    sub = ngx_pcalloc(r->pool, sizeof(ngx_rooms_tray_sub_t));
    if (sub == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sub->request = r;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sub->ws = ngx_rooms_ws_create(r, &ngx_rooms_tray_ws_handler, sub);
    if (sub->ws == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* in the list from here until its request is freed */
    ngx_queue_insert_tail(&ngx_rooms_tray_subs, &sub->queue);
    ngx_rooms_tray_nsubs++;
    cln->handler = ngx_rooms_tray_cleanup;
    cln->data = sub;

    return ngx_rooms_ws_start(sub->ws, accept);
}


static void
ngx_rooms_tray_cleanup(void *data)
{
    ngx_rooms_tray_sub_t  *sub = data;

    ngx_queue_remove(&sub->queue);
    ngx_rooms_tray_nsubs--;

    if (ngx_rooms_tray_nsubs == 0 && ngx_rooms_tray_ev.timer_set) {
        ngx_del_timer(&ngx_rooms_tray_ev);
    }
}


static void
ngx_rooms_tray_no_hello(void *data)
{
    ngx_rooms_tray_sub_t  *sub = data;

    ngx_rooms_ws_close(sub->ws, NGX_ROOMS_TRAY_CLOSE_LATE, "hello timeout");
}


/* never registered: nothing to do */
static void
ngx_rooms_tray_leave(void *data, uint64_t id)
{
}


/*
 * {"type":"hello"[,"guest_token":"..."]}, once: the tray is sent at once
 * and the live updates begin.  Anything else is refused with 4400.
 */
static void
ngx_rooms_tray_message(void *data, const u_char *text, size_t len,
    ngx_uint_t binary)
{
    ngx_rooms_tray_sub_t  *sub = data;

    u_char                token[ROOMS_HASH_LEN];
    json_t               *msg, *type, *tok;
    ngx_int_t             bad;
    ngx_pool_t           *pool;
    json_error_t          jerr;
    ngx_rooms_tray_pass_t pass;

    if (sub->hello) {
        /* the browser has nothing more to say: ignored */
        return;
    }

    msg = binary ? NULL : json_loadb((const char *) text, len, 0, &jerr);
    type = json_object_get(msg, "type");
    tok = json_object_get(msg, "guest_token");

    bad = !json_is_string(type)
          || ngx_strcmp(json_string_value(type), "hello") != 0
          || (tok != NULL
              && (!json_is_string(tok)
                  || !rooms_token_is_guest(
                         (const u_char *) json_string_value(tok),
                         json_string_length(tok))));

    if (!bad && tok != NULL) {
        rooms_token_hash((const u_char *) json_string_value(tok),
                         json_string_length(tok), token);
    }

    json_decref(msg);

    if (bad) {
        ngx_rooms_ws_close(sub->ws, NGX_ROOMS_TRAY_CLOSE_BAD,
                           "expected hello");
        return;
    }

    sub->hello = 1;
    ngx_rooms_tray_who(sub->request, tok != NULL ? token : NULL, &sub->who);

    /*
     * The page's reminders come on this socket too, so that `/` keeps one
     * connection: its browser is the handshake's rooms_browser cookie, as
     * api/notices knows it (no cookie: nothing to tell).
     */
    if (ngx_rooms_tray_same_origin(sub->request) == NGX_OK
        && ngx_rooms_schedule_watch(sub->request, ngx_rooms_tray_reminder,
                                    sub)
           == NGX_ERROR)
    {
        ngx_rooms_ws_close(sub->ws, ROOMS_WS_CLOSE_INTERNAL, "no memory");
        return;
    }

    pool = ngx_create_pool(16384, sub->request->connection->log);
    if (pool == NULL) {
        return;
    }

    if (ngx_rooms_tray_pass(sub->request->connection->log, pool, &pass)
        == NGX_OK)
    {
        ngx_rooms_tray_send(sub, pool, &pass);
    }

    ngx_destroy_pool(pool);

    if (!ngx_rooms_tray_ev.timer_set) {
        ngx_rooms_tray_gen = ngx_rooms_people_gen();
        ngx_rooms_tray_full_at = ngx_current_msec + NGX_ROOMS_TRAY_FULL;
        ngx_add_timer(&ngx_rooms_tray_ev, NGX_ROOMS_TRAY_TICK);
    }
}


/*
 * Whether the handshake came from a page of this site (or from no page):
 * unlike EventSource, a WebSocket is open to any page, and a page of
 * another site on the same registrable domain would carry the SameSite
 * cookie and read this browser's reminders.  Browsers always send Origin
 * with a WebSocket; it must name this Host.
 */
static ngx_int_t
ngx_rooms_tray_same_origin(ngx_http_request_t *r)
{
    u_char           *p;
    ngx_str_t        *host, origin;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    ngx_str_null(&origin);

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Origin") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Origin",
                               sizeof("Origin") - 1) == 0)
        {
            origin = h[i].value;
            break;
        }
    }

    if (origin.data == NULL) {
        return NGX_OK;
    }

    if (r->headers_in.host == NULL) {
        return NGX_DECLINED;
    }

    host = &r->headers_in.host->value;

    p = ngx_strlcasestrn(origin.data, origin.data + origin.len,
                         (u_char *) "://", 3 - 1);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    p += 3;

    if ((size_t) (origin.data + origin.len - p) != host->len
        || ngx_strncasecmp(p, host->data, host->len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * A reminder due to this page's browser (ngx_rooms_schedule_watch()):
 * {"type":"reminder","code","title","start_at","path"}, the fields of
 * api/notices' event.  Not NGX_OK when the socket's queue is full: the
 * schedule's next tick gives it again.
 */
static ngx_int_t
ngx_rooms_tray_reminder(void *data, u_char *json, size_t len)
{
    ngx_rooms_tray_sub_t  *sub = data;

    u_char  *msg, *p;

    /* json is an object: {"code":...} */
    if (len < 2 || json[0] != '{') {
        return NGX_ERROR;
    }

    msg = ngx_alloc(len + sizeof("{\"type\":\"reminder\",") - 1,
                    sub->request->connection->log);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(msg, "{\"type\":\"reminder\",",
                   sizeof("{\"type\":\"reminder\",") - 1);
    p = ngx_cpymem(p, json + 1, len - 1);

    if (ngx_rooms_ws_send(sub->ws, msg, p - msg) != NGX_OK) {
        ngx_free(msg);
        return NGX_AGAIN;
    }

    ngx_free(msg);
    ngx_rooms_ws_wake(sub->ws);

    return NGX_OK;
}


/*
 * Computes sub's tray and sends it when it differs from the last one sent
 * ({"type":"tray","rooms":[...]}).
 */
static void
ngx_rooms_tray_send(ngx_rooms_tray_sub_t *sub, ngx_pool_t *pool,
    ngx_rooms_tray_pass_t *pass)
{
    char                *text;
    size_t               len;
    json_t              *list, *out;
    uint32_t             crc;
    ngx_http_request_t  *r;

    r = sub->request;

    if (ngx_rooms_tray_people_of(r, pool, &sub->who) != NGX_OK) {
        return;
    }

    list = ngx_rooms_tray_list(r, &sub->who, pass);
    if (list == NULL) {
        return;
    }

    out = json_pack("{s:s, s:o}", "type", "tray", "rooms", list);
    text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);

    if (text == NULL) {
        return;
    }

    len = ngx_strlen(text);
    crc = ngx_crc32_short((u_char *) text, len);

    if (len != sub->sent_len || crc != sub->sent_crc) {
        if (ngx_rooms_ws_send(sub->ws, (u_char *) text, len) == NGX_OK) {
            sub->sent_len = len;
            sub->sent_crc = crc;
            ngx_rooms_ws_wake(sub->ws);

        } else {
            ngx_rooms_ws_close(sub->ws, ROOMS_WS_CLOSE_INTERNAL,
                               "too slow");
            ngx_rooms_ws_wake(sub->ws);
        }
    }

    free(text);
}


/*
 * Every NGX_ROOMS_TRAY_TICK ms while this worker has live trays: after a
 * change of who is present anywhere, or every NGX_ROOMS_TRAY_FULL ms,
 * each tray is computed again (one pass for all of them, from a pool of
 * its own).
 */
/* in a fiber: its store calls may wait (ngx_rooms_fiber_timer()) */
static void
ngx_rooms_tray_tick(ngx_event_t *ev)
{
    static ngx_uint_t  busy;

    ngx_rooms_fiber_timer(ev, ngx_rooms_tray_tick_run, &busy);
}


static void
ngx_rooms_tray_tick_run(ngx_event_t *ev)
{
    ngx_pool_t            *pool, *one;
    ngx_queue_t           *q, *next;
    ngx_atomic_uint_t      gen;
    ngx_http_request_t    *r;
    ngx_rooms_tray_sub_t  *sub;
    ngx_rooms_tray_pass_t  pass;

    if (ngx_queue_empty(&ngx_rooms_tray_subs) || ngx_exiting) {
        return;
    }

    ngx_add_timer(ev, NGX_ROOMS_TRAY_TICK);

    gen = ngx_rooms_people_gen();

    if (gen == ngx_rooms_tray_gen
        && (ngx_msec_int_t) (ngx_current_msec - ngx_rooms_tray_full_at) < 0)
    {
        return;
    }

    ngx_rooms_tray_gen = gen;
    ngx_rooms_tray_full_at = ngx_current_msec + NGX_ROOMS_TRAY_FULL;

    pool = ngx_create_pool(16384, ev->log);
    if (pool == NULL) {
        return;
    }

    if (ngx_rooms_tray_pass(ev->log, pool, &pass) == NGX_OK) {

        for (q = ngx_queue_head(&ngx_rooms_tray_subs);
             q != ngx_queue_sentinel(&ngx_rooms_tray_subs);
             q = next)
        {
            sub = ngx_queue_data(q, ngx_rooms_tray_sub_t, queue);

            if (!sub->hello) {
                next = ngx_queue_next(q);
                continue;
            }

            /* each tray's own pool: its people (tens of KB) go at once */
            one = ngx_create_pool(16384, ev->log);
            if (one == NULL) {
                break;
            }

            /*
             * The send may wait for the store (a ban read): held, this
             * tray's request and its place in the queue outlive the wait;
             * the next is taken after it, and before the release, which
             * may free this one.
             */
            r = sub->request;
            ngx_rooms_fiber_hold(r);

            ngx_rooms_tray_send(sub, one, &pass);
            ngx_destroy_pool(one);

            next = ngx_queue_next(q);
            ngx_rooms_fiber_release(r);
        }
    }

    ngx_destroy_pool(pool);
}


/* ---- api/people ---- */


/*
 * GET: {"people":[{"id","name","last_at"}]}, met last first.  DELETE
 * with id: that person forgotten (both ways); without: every one.
 * {"forgotten":n}.  Who is asking by its X-Rooms-Guest header (or
 * signed-in user); a browser without one has nobody.
 */
ngx_int_t
ngx_rooms_tray_people(ngx_http_request_t *r, ngx_str_t *id)
{
    u_char                 token[ROOMS_HASH_LEN], pid[NGX_ROOMS_PEOPLE_ID_LEN];
    char                   when[ROOMS_TIME_LEN + 1], *text;
    json_t                *list, *out;
    ngx_int_t              rc, has_token;
    ngx_uint_t             i, n;
    ngx_rooms_tray_who_t   who;

    has_token = ngx_rooms_people_header_token(r, token) == NGX_OK;

    ngx_rooms_tray_who(r, has_token ? token : NULL, &who);

    if (ngx_rooms_tray_people_of(r, r->pool, &who) != NGX_OK) {
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "storage_unavailable",
                                  "your people cannot be read now");
    }

    if (r->method == NGX_HTTP_DELETE) {
        n = 0;

        if (who.has_self) {
            rc = ngx_rooms_people_forget(r, who.self, id, &n);

            if (rc == NGX_ROOMS_BUSY) {
                return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "storage_busy",
                                          "the store is busy; try again");
            }

            if (rc != NGX_OK) {
                return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                          "storage_unavailable",
                                          "nobody could be forgotten now");
            }
        }

        if (id != NULL && n == 0) {
            return ngx_rooms_api_fail(r, NGX_HTTP_NOT_FOUND, "not_found",
                                      "you have no such person");
        }

        out = json_pack("{s:I}", "forgotten", (json_int_t) n);
        text = out ? json_dumps(out, JSON_COMPACT) : NULL;
        json_decref(out);

        return ngx_rooms_api_json(r, NGX_HTTP_OK, text);
    }

    list = json_array();
    if (list == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < who.npeople; i++) {
        ngx_rooms_people_id(who.self, who.people[i].hash, pid);
        rooms_time_format(who.people[i].last_at, when);

        json_array_append_new(list,
                              json_pack("{s:s#, s:s, s:s}",
                                        "id", pid,
                                        (int) NGX_ROOMS_PEOPLE_ID_LEN,
                                        "name", who.people[i].name,
                                        "last_at", when));
    }

    out = json_pack("{s:o}", "people", list);
    text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);

    return ngx_rooms_api_json(r, NGX_HTTP_OK, text);
}
