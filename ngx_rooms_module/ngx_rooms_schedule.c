
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_schedule.c: scheduled rooms: reminders, notices, the feed's
 * secret and room.starting_soon.
 *
 * Owns: the rooms_reminder directive; the browser token (the
 * "rooms_browser" cookie: 128 random bits, HttpOnly, never in a URL; the
 * store keeps its SHA-256 only); "Remind me"
 * (api/rooms/<code>/reminders) and the count the host sees; the calendar
 * feed's secret (api/calendar: made, rotated, revoked; 256 random bits,
 * unrelated to the browser token, stored as its SHA-256); the live
 * notices (api/notices, server-sent events, or a page's own socket that
 * asked with ngx_rooms_schedule_watch(): each nginx worker looks once a
 * second, while a page listens, for the reminders due to the browsers of
 * its pages, and tells each page once); and room.starting_soon: nginx worker 0,
 * when rooms_webhook is set, stores the event of each room whose
 * reminder time came, marked in the same transaction (never twice, also
 * across restarts), for the webhook sender.
 * Must never block: no store statement waits more than
 * ROOMS_STORE_WAIT_MS, a busy store is tried again at the next tick, and
 * a notice stream that cannot take a message now gets it at a later tick.
 * May not: include jansson.h, call json_, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_ws_, call ngx_rooms_signal_, call ngx_rooms_media_, call ngx_rooms_dir_change, call ngx_rooms_dir_add, call rooms_store_outbox_
 */


#include "ngx_rooms_schedule.h"
#include "ngx_rooms_handles.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_api.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_people.h"
#include "ngx_rooms_metrics.h"
#include "ngx_rooms_webhook.h"

#include "rooms_sched.h"


#define NGX_ROOMS_BROWSER_COOKIE   "rooms_browser"

/* a browser token lives as long as its reminders can matter: 400 days */
#define NGX_ROOMS_BROWSER_MAX_AGE  (400 * 86400)

/* the notices' clock: a reminder shows within about this (ms) */
#define NGX_ROOMS_NOTICE_TICK      1000

/*
 * A comment line this often keeps proxies from closing an idle stream
 * and finds a browser that went away without closing (s).
 */
#define NGX_ROOMS_NOTICE_PING      25

#define NGX_ROOMS_NOTICE_EVENT     "event: reminder\ndata: "

/* one notice: the JSON of a code, an escaped title, a time and a path */
#define NGX_ROOMS_NOTICE_MAX       (256 + 6 * ROOMS_TITLE_MAX_BYTES        \
                                    + ROOMS_BASE_URL_MAX)

/* a store that keeps failing is logged at most this often (s) */
#define NGX_ROOMS_SCHEDULE_LOG_EVERY  60


/*
 * One page told of reminders: an open notice stream (api/notices), or a
 * live socket of the page's own (send set: the tray's, on `/`).
 */
typedef struct {
    ngx_queue_t                  queue;
    ngx_http_request_t          *r;
    ngx_rooms_notice_pt          send;                  /* NULL: a stream */
    void                        *data;
    u_char                       hash[ROOMS_HASH_LEN];  /* its browser's */
    ngx_str_t                    prefix;                /* the location's */
    ngx_buf_t                   *buf;                   /* one message */
    ngx_chain_t                  out;
    time_t                       last;                  /* last write */

    /* the rooms it was told of; no browser has more reminders */
    int64_t                      told[ROOMS_SCHED_PER_BROWSER];
    ngx_uint_t                   ntold;
} ngx_rooms_notice_t;


typedef struct {
    ngx_rooms_main_conf_t       *rmcf;
    ngx_event_t                  tick;
    ngx_queue_t                  streams;
    time_t                       logged;         /* the last store error */
} ngx_rooms_schedule_t;


static ngx_int_t ngx_rooms_schedule_send(ngx_http_request_t *r,
    ngx_uint_t status, const char *fmt, ...);
static void ngx_rooms_notice_write_handler(ngx_http_request_t *r);
static ngx_int_t ngx_rooms_notice_put(ngx_rooms_notice_t *n, u_char *data,
    size_t len, ngx_uint_t first);
static void ngx_rooms_notice_cleanup(void *data);
static void ngx_rooms_schedule_arm(void);
static void ngx_rooms_schedule_tick(ngx_event_t *ev);
static void ngx_rooms_schedule_tick_run(ngx_event_t *ev);
static void ngx_rooms_schedule_store_error(const char *what);


static ngx_rooms_schedule_t  *ngx_rooms_schedule;


/*
 * "rooms_reminder time;": how long before a scheduled start people who
 * asked are told, the calendar's alarm rings, and room.starting_soon is
 * sent.  More than a week ahead is no longer "starting soon".
 */
char *
ngx_rooms_schedule_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    time_t      t;
    ngx_str_t  *value;

    if (rmcf->reminder != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    t = ngx_parse_time(&value[1], 1);

    if (t == (time_t) NGX_ERROR || t < 1 || t > NGX_ROOMS_REMINDER_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rooms_reminder \"%V\": a time from 1s "
                           "to 7d, such as \"10m\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    rmcf->reminder = t;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_rooms_schedule_browser(ngx_http_request_t *r, ngx_uint_t mint,
    u_char *hash)
{
    char                   tok[ROOMS_GUEST_TOKEN_LEN + 1];
    u_char                *p;
    size_t                 len;
    ngx_str_t              name, value;
    ngx_uint_t             secure;
    ngx_table_elt_t       *h;
    ngx_rooms_loc_conf_t  *rlcf;

    /*
     * A signed-in person (rooms_user, the policy's identify()) is known by
     * their id on every browser, as the people relation knows them:
     * reminders and the feed follow them.
     */
    if (ngx_rooms_people_self(r, NULL, hash) == NGX_OK) {
        return NGX_OK;
    }

    ngx_str_set(&name, NGX_ROOMS_BROWSER_COOKIE);

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &name,
                                          &value)
        != NGX_DECLINED
        && rooms_token_is_guest(value.data, value.len))
    {
        rooms_token_hash(value.data, value.len, hash);
        return NGX_OK;
    }

    if (!mint) {
        return NGX_DECLINED;
    }

    if (rooms_token_guest(tok) != 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "rooms: the random source failed");
        return NGX_ERROR;
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_rooms_module);

    secure = rlcf->base_url.len > 5
             && ngx_strncmp(rlcf->base_url.data, "https", 5) == 0;
#if (NGX_HTTP_SSL)
    secure = secure || r->connection->ssl != NULL;
#endif

    len = sizeof(NGX_ROOMS_BROWSER_COOKIE "=; Path=; Max-Age=; HttpOnly; "
                 "SameSite=Lax; Secure") + ROOMS_GUEST_TOKEN_LEN
          + rlcf->prefix.len + NGX_TIME_T_LEN;

    p = ngx_pnalloc(r->pool, len);
    h = ngx_list_push(&r->headers_out.headers);

    if (p == NULL || h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;
    p = ngx_sprintf(p, NGX_ROOMS_BROWSER_COOKIE "=%s; Path=%V; Max-Age=%T; "
                    "HttpOnly; SameSite=Lax%s", tok, &rlcf->prefix,
                    (time_t) NGX_ROOMS_BROWSER_MAX_AGE,
                    secure ? "; Secure" : "");
    h->value.len = p - h->value.data;

    rooms_token_hash((u_char *) tok, ROOMS_GUEST_TOKEN_LEN, hash);

    return NGX_OK;
}


void
ngx_rooms_schedule_created(ngx_http_request_t *r, rooms_room_t *room)
{
    u_char                  hash[ROOMS_HASH_LEN];

    if (room->start_at <= room->created_at
        || ngx_rooms_schedule_browser(r, 1, hash) != NGX_OK)
    {
        return;
    }

    /* the room is made: a feed that misses it is logged, not refused */
    if (rooms_sched_add(ngx_rooms_store_handle(), room->id, hash, ROOMS_SCHED_HOSTS,
                        (int64_t) ngx_time())
        != ROOMS_STORE_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rooms: room %L is not in its creator's calendar "
                      "feed: %s", room->id, rooms_store_errmsg(ngx_rooms_store_handle()));
    }
}


/*
 * api/rooms/<code>/reminders: GET {"reminded"} for this browser (and
 * "count" for the host), POST asks, DELETE forgets.
 */
ngx_int_t
ngx_rooms_schedule_reminders(ngx_http_request_t *r, u_char *code)
{
    int                     rc, asked;
    u_char                  hash[ROOMS_HASH_LEN];
    unsigned                count;
    ngx_int_t               found;
    ngx_uint_t              host, status;
    rooms_room_t            room;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    found = ngx_rooms_dir_get(rmcf, r->connection->log, code, &room);
    if (found != NGX_OK) {
        return ngx_rooms_api_lookup_failed(r, found);
    }

    host = ngx_rooms_api_is_host(r, &room) == NGX_OK;
    status = NGX_HTTP_OK;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        found = ngx_rooms_schedule_browser(r, 0, hash);

    } else {
        found = ngx_rooms_schedule_browser(r, r->method == NGX_HTTP_POST,
                                           hash);
    }

    if (found == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_POST) {
        if (room.ended_at) {
            return ngx_rooms_api_fail(r, NGX_HTTP_CONFLICT, "room_ended",
                                      "the room has ended");
        }

        if (room.start_at <= ngx_time()) {
            return ngx_rooms_api_fail(r, NGX_HTTP_CONFLICT, "not_scheduled",
                                      "the room is open already: there is "
                                      "nothing to be reminded of");
        }

        rc = rooms_sched_add(ngx_rooms_store_handle(), room.id, hash, ROOMS_SCHED_ASKED,
                             (int64_t) ngx_time());

        switch (rc) {
        case ROOMS_STORE_OK:
            break;
        case ROOMS_SCHED_ROOM_FULL:
            return ngx_rooms_api_fail(r, NGX_HTTP_CONFLICT,
                                      "too_many_reminders",
                                      "this room has as many reminders as "
                                      "it keeps");
        case ROOMS_SCHED_BROWSER_FULL:
            return ngx_rooms_api_fail(r, NGX_HTTP_CONFLICT,
                                      "too_many_reminders",
                                      "this browser has as many reminders "
                                      "as it may keep; forget one first");
        case ROOMS_STORE_BUSY:
            return ngx_rooms_api_store_busy(r);
        default:
            ngx_rooms_schedule_store_error("a reminder could not be stored");
            return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "storage_unavailable",
                                      "the reminder could not be stored; "
                                      "try again");
        }

    } else if (r->method == NGX_HTTP_DELETE && found == NGX_OK) {
        rc = rooms_sched_forget(ngx_rooms_store_handle(), room.id, hash);

        if (rc == ROOMS_STORE_BUSY) {
            return ngx_rooms_api_store_busy(r);
        }

        if (rc != ROOMS_STORE_OK) {
            ngx_rooms_schedule_store_error("a reminder could not be removed");
            return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "storage_unavailable",
                                      "the reminder could not be removed; "
                                      "try again");
        }
    }

    if (rooms_sched_count(ngx_rooms_store_handle(), room.id,
                          found == NGX_OK ? hash : NULL, &count, &asked)
        != ROOMS_STORE_OK)
    {
        ngx_rooms_schedule_store_error("reminders could not be read");
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "storage_unavailable",
                                  "the reminders could not be read");
    }

    if (host) {
        return ngx_rooms_schedule_send(r, status,
                                       "{\"reminded\":%s,\"count\":%ud}",
                                       asked ? "true" : "false", count);
    }

    return ngx_rooms_schedule_send(r, status, "{\"reminded\":%s}",
                                   asked ? "true" : "false");
}


/*
 * api/calendar: POST gives this browser a new feed address (the old one
 * then finds nothing), DELETE revokes it.  The secret is shown once; the
 * store keeps its SHA-256.
 */
ngx_int_t
ngx_rooms_schedule_calendar(ngx_http_request_t *r)
{
    int                     rc;
    char                    secret[ROOMS_HOST_KEY_LEN + 1];
    u_char                  hash[ROOMS_HASH_LEN], feed[ROOMS_HASH_LEN];
    u_char                  token[ROOMS_HASH_LEN], person[ROOMS_HASH_LEN];
    u_char                 *self;
    ngx_int_t               found;
    ngx_str_t               base;

    found = ngx_rooms_schedule_browser(r, r->method == NGX_HTTP_POST, hash);

    if (found == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == NGX_HTTP_DELETE) {
        rc = found == NGX_OK ? rooms_sched_feed_drop(ngx_rooms_store_handle(), hash)
                             : ROOMS_STORE_OK;

    } else {
        /* random, not derived from the browser token: it can be rotated */
        if (rooms_token_host_key(secret) != 0) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "rooms: the random source failed");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        rooms_token_hash((u_char *) secret, ROOMS_HOST_KEY_LEN, feed);

        /*
         * who this browser is to the people relation (its remembered guest
         * token, or the signed-in id): the feed lists its people's rooms
         */
        if (ngx_rooms_people_header_token(r, token) == NGX_OK) {
            self = ngx_rooms_people_self(r, token, person) == NGX_OK
                   ? person : NULL;

        } else {
            self = ngx_rooms_people_self(r, NULL, person) == NGX_OK
                   ? person : NULL;
        }

        rc = rooms_sched_feed_set(ngx_rooms_store_handle(), hash, feed, self,
                                  (int64_t) ngx_time());
    }

    if (rc == ROOMS_STORE_BUSY) {
        return ngx_rooms_api_store_busy(r);
    }

    if (rc != ROOMS_STORE_OK) {
        ngx_rooms_schedule_store_error("a calendar feed could not be stored");
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "storage_unavailable",
                                  "the calendar feed could not be stored; "
                                  "try again");
    }

    if (r->method == NGX_HTTP_DELETE) {
        r->header_only = 1;
        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->headers_out.content_length_n = 0;
        return ngx_http_send_header(r);
    }

    if (ngx_rooms_api_base(r, &base) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_rooms_schedule_send(r, NGX_HTTP_CREATED,
                                   "{\"url\":\"%V/calendar/%s.ics\"}",
                                   &base, secret);
}


/* A small JSON answer (no client text in it) through the API's sender. */
static ngx_int_t
ngx_rooms_schedule_send(ngx_http_request_t *r, ngx_uint_t status,
    const char *fmt, ...)
{
    char     *json;
    u_char   *p;
    va_list   args;

    json = malloc(ROOMS_BASE_URL_MAX + 256);
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    va_start(args, fmt);
    p = ngx_vslprintf((u_char *) json,
                      (u_char *) json + ROOMS_BASE_URL_MAX + 255, fmt, args);
    va_end(args);

    *p = '\0';

    return ngx_rooms_api_json(r, status, json);
}


/*
 * api/notices: a stream of server-sent events, open as long as the page
 * is (204 for a browser without a token: nothing to tell it).  "event: reminder" with {"code","title","start_at","path"} when a
 * room this browser asked to be reminded of is rooms_reminder or less
 * from its start (once per stream and room).
 */
ngx_int_t
ngx_rooms_schedule_notices(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_table_elt_t       *h;
    ngx_pool_cleanup_t    *cln;
    ngx_rooms_notice_t    *n;
    ngx_rooms_loc_conf_t  *rlcf;

    if (ngx_rooms_schedule == NULL) {
        return ngx_rooms_api_fail(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                  "storage_unavailable",
                                  "notices are not available");
    }

    n = ngx_pcalloc(r->pool, sizeof(ngx_rooms_notice_t));
    if (n == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ngx_rooms_schedule_browser(r, 0, n->hash)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        /*
         * A browser with no token asked for nothing: 204 tells
         * EventSource not to come back (and no token is made here, where
         * it could race the one "Remind me" makes)
         */
        r->header_only = 1;
        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->headers_out.content_length_n = 0;
        return ngx_http_send_header(r);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_rooms_module);

    n->r = r;
    n->prefix = rlcf->prefix;
    n->buf = ngx_create_temp_buf(r->pool, NGX_ROOMS_NOTICE_MAX);
    cln = ngx_pool_cleanup_add(r->pool, 0);
    h = ngx_list_push(&r->headers_out.headers);

    if (n->buf == NULL || cln == NULL || h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = -1;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->keepalive = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    cln->handler = ngx_rooms_notice_cleanup;
    cln->data = n;

    ngx_queue_insert_tail(&ngx_rooms_schedule->streams, &n->queue);

    /* the stream is the connection's now; its end drops this reference */
    r->main->count++;
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_rooms_notice_write_handler;

    /* a graceful shutdown closes it: EventSource reconnects elsewhere */
    r->connection->idle = 1;

    /* how soon EventSource comes back after a lost stream (ms) */
    if (ngx_rooms_notice_put(n, (u_char *) "retry: 3000\n\n",
                             sizeof("retry: 3000\n\n") - 1, 1)
        == NGX_ERROR)
    {
        ngx_http_finalize_request(r, NGX_ERROR);
        return NGX_DONE;
    }

    ngx_rooms_schedule_arm();

    return NGX_DONE;
}


ngx_int_t
ngx_rooms_schedule_watch(ngx_http_request_t *r, ngx_rooms_notice_pt send,
    void *data)
{
    ngx_int_t             rc;
    ngx_pool_cleanup_t   *cln;
    ngx_rooms_notice_t   *n;
    ngx_rooms_loc_conf_t *rlcf;

    if (ngx_rooms_schedule == NULL) {
        return NGX_DECLINED;
    }

    n = ngx_pcalloc(r->pool, sizeof(ngx_rooms_notice_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (n == NULL || cln == NULL) {
        return NGX_ERROR;
    }

    /* never a new token: as api/notices, there is nothing to tell */
    rc = ngx_rooms_schedule_browser(r, 0, n->hash);
    if (rc != NGX_OK) {
        return rc;
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_rooms_module);

    n->r = r;
    n->send = send;
    n->data = data;
    n->prefix = rlcf->prefix;

    cln->handler = ngx_rooms_notice_cleanup;
    cln->data = n;

    ngx_queue_insert_tail(&ngx_rooms_schedule->streams, &n->queue);

    ngx_rooms_schedule_arm();

    return NGX_OK;
}


/*
 * A page began to listen: the tick runs at once, and is uncancelable
 * while a page listens (see the tick's shutdown).
 */
static void
ngx_rooms_schedule_arm(void)
{
    if (ngx_rooms_schedule->tick.timer_set) {
        ngx_del_timer(&ngx_rooms_schedule->tick);
    }

    ngx_rooms_schedule->tick.cancelable = 0;
    ngx_add_timer(&ngx_rooms_schedule->tick, 1);
}


/*
 * Writes one message to a stream: NGX_OK (sent or under way), NGX_AGAIN
 * (the last one is still under way: try later), NGX_ERROR (the stream
 * is finalized).
 */
static ngx_int_t
ngx_rooms_notice_put(ngx_rooms_notice_t *n, u_char *data, size_t len,
    ngx_uint_t first)
{
    ngx_int_t            rc;
    ngx_http_request_t  *r = n->r;

    /* the first goes with the header, which waits in r->out for it */
    if (!first && (r->out != NULL || r->connection->buffered)) {
        return NGX_AGAIN;
    }

    if (len > (size_t) (n->buf->end - n->buf->start)) {
        return NGX_AGAIN;
    }

    n->buf->pos = n->buf->start;
    n->buf->last = ngx_cpymem(n->buf->start, data, len);
    n->buf->flush = 1;

    n->out.buf = n->buf;
    n->out.next = NULL;
    n->last = ngx_time();

    rc = ngx_http_output_filter(r, &n->out);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* The socket can take more of a message that did not fit at once. */
static void
ngx_rooms_notice_write_handler(ngx_http_request_t *r)
{
    ngx_event_t  *wev = r->connection->write;

    if (wev->timedout) {
        r->connection->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (ngx_http_output_filter(r, NULL) == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_ERROR);
    }
}


static void
ngx_rooms_notice_cleanup(void *data)
{
    ngx_rooms_notice_t  *n = data;

    ngx_queue_remove(&n->queue);
}


/* A due reminder: told to each stream of its browser not told yet. */
static int
ngx_rooms_notice_due(void *data, const rooms_sched_room_t *room)
{
    u_char               msg[NGX_ROOMS_NOTICE_MAX];
    u_char              *p, *last, *json;
    char                 when[ROOMS_TIME_LEN + 1];
    size_t               tlen;
    ngx_int_t            rc;
    ngx_uint_t           i;
    ngx_queue_t         *q, *next;
    ngx_rooms_notice_t  *n;

    rooms_time_format(room->start_at, when);
    tlen = ngx_strlen(room->title);

    for (q = ngx_queue_head(&ngx_rooms_schedule->streams);
         q != ngx_queue_sentinel(&ngx_rooms_schedule->streams);
         q = next)
    {
        next = ngx_queue_next(q);
        n = ngx_queue_data(q, ngx_rooms_notice_t, queue);

        if (ngx_memcmp(n->hash, room->token_hash, ROOMS_HASH_LEN) != 0) {
            continue;
        }

        for (i = 0; i < n->ntold && i < ROOMS_SCHED_PER_BROWSER; i++) {
            if (n->told[i] == room->id) {
                break;
            }
        }

        if (i < n->ntold && i < ROOMS_SCHED_PER_BROWSER) {
            continue;
        }

        /* the event's data is the JSON a page's own socket is given */
        last = msg + sizeof(msg);
        json = ngx_cpymem(msg, NGX_ROOMS_NOTICE_EVENT,
                          sizeof(NGX_ROOMS_NOTICE_EVENT) - 1);
        p = ngx_slprintf(json, last, "{\"code\":\"%s\",\"title\":\"",
                         room->code);
        p = (u_char *) ngx_escape_json(p, (u_char *) room->title, tlen);
        p = ngx_slprintf(p, last, "\",\"start_at\":\"%s\",\"path\":\"%Vr/%s\"}",
                         when, &n->prefix, room->code);

        if (n->send != NULL) {
            rc = n->send(n->data, json, p - json);

        } else {
            p = ngx_slprintf(p, last, "\n\n");
            rc = ngx_rooms_notice_put(n, msg, p - msg, 0);
        }

        if (rc == NGX_OK) {
            n->told[n->ntold++ % ROOMS_SCHED_PER_BROWSER] = room->id;
        }
    }

    return 0;
}


/* room.starting_soon's body, for rooms_sched_soon() */
static size_t
ngx_rooms_schedule_soon_body(void *data, const rooms_sched_room_t *room,
    unsigned char *buf)
{
    return ngx_rooms_webhook_body_soon(buf, room->id,
                                       (const u_char *) room->code,
                                       room->start_at);
}


/* in a fiber: its store calls may wait (ngx_rooms_fiber_timer()) */
static void
ngx_rooms_schedule_tick(ngx_event_t *ev)
{
    static ngx_uint_t  busy;

    ngx_rooms_fiber_timer(ev, ngx_rooms_schedule_tick_run, &busy);
}


static void
ngx_rooms_schedule_tick_run(ngx_event_t *ev)
{
    int                     rc;
    time_t                  now;
    unsigned                dropped;
    ngx_queue_t            *q, *next;
    ngx_rooms_notice_t     *n;
    ngx_rooms_schedule_t   *s = ev->data;
    ngx_rooms_main_conf_t  *rmcf = s->rmcf;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        /*
         * A graceful shutdown: streams an idle close did not end (those of
         * HTTP/2, whose connection is not idle) end here, and EventSource
         * comes back to the new workers.  The timer stays uncancelable
         * while a stream is open, so that this runs before the exit.
         */
        while (!ngx_queue_empty(&s->streams)) {
            q = ngx_queue_head(&s->streams);
            n = ngx_queue_data(q, ngx_rooms_notice_t, queue);
            ngx_queue_remove(q);
            ngx_queue_init(q);          /* its cleanup's removal: a no-op */

            /* a page's own socket ends by its own shutdown */
            if (n->send == NULL) {
                ngx_http_finalize_request(n->r, NGX_HTTP_CLOSE);
            }
        }

        return;
    }

    now = ngx_time();

    if (!ngx_queue_empty(&s->streams)) {
        if (rooms_sched_due(ngx_rooms_store_handle(), (int64_t) now,
                            (int64_t) rmcf->reminder, ngx_rooms_notice_due,
                            NULL)
            != ROOMS_STORE_OK)
        {
            ngx_rooms_schedule_store_error("the reminders due could not "
                                           "be read");
        }

        for (q = ngx_queue_head(&s->streams);
             q != ngx_queue_sentinel(&s->streams);
             q = next)
        {
            next = ngx_queue_next(q);
            n = ngx_queue_data(q, ngx_rooms_notice_t, queue);

            if (n->send == NULL && now - n->last >= NGX_ROOMS_NOTICE_PING) {
                (void) ngx_rooms_notice_put(n, (u_char *) ":\n\n", 3, 0);
            }
        }
    }

    if (rmcf->webhook != NULL && ngx_worker == 0) {
        rc = rooms_sched_soon(ngx_rooms_store_handle(), (int64_t) now,
                              (int64_t) rmcf->reminder,
                              ngx_rooms_schedule_soon_body, NULL,
                              NGX_ROOMS_WEBHOOK_OUTBOX_MAX, &dropped);

        if (dropped) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "rooms_webhook: the outbox is full: the %ud "
                          "oldest events were dropped", dropped);
            ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_DROPPED, dropped);
        }

        /* busy: another program holds the lock; the next tick tries */
        if (rc != ROOMS_STORE_OK && rc != ROOMS_STORE_BUSY) {
            ngx_rooms_schedule_store_error("room.starting_soon could not "
                                           "be stored");
        }
    }

    if (!ngx_queue_empty(&s->streams)
        || (rmcf->webhook != NULL && ngx_worker == 0))
    {
        ev->cancelable = ngx_queue_empty(&s->streams);
        ngx_add_timer(ev, NGX_ROOMS_NOTICE_TICK);
    }
}


static void
ngx_rooms_schedule_store_error(const char *what)
{
    ngx_rooms_schedule_t  *s = ngx_rooms_schedule;

    ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);

    if (s == NULL || ngx_time() - s->logged < NGX_ROOMS_SCHEDULE_LOG_EVERY) {
        return;
    }

    s->logged = ngx_time();

    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0, "rooms: %s: %s", what,
                  rooms_store_errmsg(ngx_rooms_store_handle()));
}


void
ngx_rooms_schedule_init_process(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf)
{
    ngx_rooms_schedule_t  *s;

    if (ngx_process != NGX_PROCESS_WORKER || rmcf->store == NULL) {
        return;
    }

    s = ngx_pcalloc(cycle->pool, sizeof(ngx_rooms_schedule_t));
    if (s == NULL) {
        return;
    }

    s->rmcf = rmcf;
    ngx_queue_init(&s->streams);

    s->tick.handler = ngx_rooms_schedule_tick;
    s->tick.data = s;
    s->tick.log = cycle->log;
    s->tick.cancelable = 1;

    ngx_rooms_schedule = s;

    if (rmcf->webhook != NULL && ngx_worker == 0) {
        ngx_add_timer(&s->tick, NGX_ROOMS_NOTICE_TICK);
    }
}


void
ngx_rooms_schedule_exit_process(void)
{
    if (ngx_rooms_schedule == NULL) {
        return;
    }

    if (ngx_rooms_schedule->tick.timer_set) {
        ngx_del_timer(&ngx_rooms_schedule->tick);
    }

    ngx_rooms_schedule = NULL;
}
