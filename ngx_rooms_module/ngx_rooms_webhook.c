
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_webhook.c: webhooks, delivered from the store's outbox.
 *
 * Owns: the rooms_webhook directive (an http:// URL, resolved at
 * "nginx -t", and a secret of at least NGX_ROOMS_WEBHOOK_SECRET_MIN
 * bytes); the JSON body of every event (ngx_rooms_webhook_body(), which
 * the control file stores in the outbox in the same transaction as the
 * change, or on its own); and the one sender: nginx worker 0 reads the
 * oldest event of the outbox, POSTs it with nginx's own non-blocking
 * connection (ngx_event_connect_peer, HTTP/1.1, "Connection: close"),
 * signed with HMAC-SHA256 over "<timestamp>.<body>", and once the
 * receiver answers 2xx has the control file remove it; anything else
 * (refused, timed out, not 2xx) is tried again after a delay that doubles
 * up to NGX_ROOMS_WEBHOOK_BACKOFF_MAX.  One event at a time, oldest first:
 * a receiver sees them in order.  Events stay in the store until
 * delivered, so a restart loses none.  Across a reload, the old worker 0
 * may still be finishing a delivery: the sender's pid in the shared zone
 * (ngx_rooms_dir_webhook_sender()) keeps the new one waiting until the old
 * one is gone (exited, or dead), so that event is not sent twice.
 * Must never block: no resolver at run time (the address was resolved at
 * "nginx -t"), no waiting for the store (the read never waits; the removal
 * is the control file's, which refuses when busy and is asked again).
 * Must never write the store itself, nor send from any other worker.
 * May not: include jansson.h, call json_, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_ws_, call ngx_rooms_signal_, call ngx_rooms_api_, call ngx_rooms_dir_get, call ngx_rooms_dir_change, call ngx_rooms_dir_add, call ngx_rooms_dir_count, call ngx_rooms_media_push, call rooms_store_outbox_add, call rooms_store_outbox_remove
 */


#include "ngx_rooms_webhook.h"
#include "ngx_rooms_handles.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_control.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_metrics.h"


#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>


/* a secret shorter than this is too easy to guess offline */
#define NGX_ROOMS_WEBHOOK_SECRET_MIN   16

/* how often worker 0 looks for a new event when the outbox was empty */
#define NGX_ROOMS_WEBHOOK_POLL         500

/* the first retry, and the longest wait between two (ms) */
#define NGX_ROOMS_WEBHOOK_BACKOFF_MIN  1000
#define NGX_ROOMS_WEBHOOK_BACKOFF_MAX  60000

/* connect, send and the status line, each: a receiver is never waited on */
#define NGX_ROOMS_WEBHOOK_TIMEOUT      10000

/* the request head: the URL's path and host are bounded by this too */
#define NGX_ROOMS_WEBHOOK_HEAD_MAX     2048


typedef struct {
    ngx_rooms_main_conf_t       *rmcf;
    ngx_event_t                  timer;
    ngx_peer_connection_t        peer;
    ngx_connection_t            *conn;           /* one request at a time */

    int64_t                      id;             /* the event under way */
    int64_t                      delivered;      /* 2xx, not removed yet */
    ngx_uint_t                   failures;       /* in a row */

    u_char                      *out;            /* head and body */
    size_t                       out_len;
    size_t                       sent;

    u_char                       in[64];         /* the status line */
    size_t                       in_len;
} ngx_rooms_webhook_t;


static void ngx_rooms_webhook_tick(ngx_event_t *ev);
static void ngx_rooms_webhook_tick_run(ngx_event_t *ev);
static ngx_int_t ngx_rooms_webhook_start(ngx_rooms_webhook_t *wh);
static ngx_int_t ngx_rooms_webhook_request(ngx_rooms_webhook_t *wh,
    u_char *body, size_t len);
static void ngx_rooms_webhook_write(ngx_event_t *ev);
static void ngx_rooms_webhook_write_idle(ngx_event_t *ev);
static void ngx_rooms_webhook_read(ngx_event_t *ev);
static void ngx_rooms_webhook_done(ngx_rooms_webhook_t *wh, ngx_uint_t ok,
    const char *why);
static void ngx_rooms_webhook_close(ngx_rooms_webhook_t *wh);
static ngx_int_t ngx_rooms_webhook_claim(ngx_rooms_webhook_t *wh);


static ngx_rooms_webhook_t  *ngx_rooms_webhook;

static const char  *ngx_rooms_event_names[] = {
    "room.created",
    "room.opened",
    "room.ended",
    "participant.joined",
    "participant.left",
    "room.starting_soon"
};


/*
 * "rooms_webhook URL secret;": https is not spoken (nginx's own SSL client
 * would need a trust store and a resolver of its own here), so an https
 * URL fails the configuration test rather than leak events in clear.
 */
char *
ngx_rooms_webhook_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    size_t      i;
    ngx_str_t  *value;
    ngx_url_t  *u;

    if (rmcf->webhook != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len > 8
        && ngx_strncasecmp(value[1].data, (u_char *) "https://", 8) == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_webhook \"%V\": https is not supported; "
                           "use an http:// URL (on the same host, or "
                           "through a local TLS proxy)", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[1].len <= 7
        || ngx_strncasecmp(value[1].data, (u_char *) "http://", 7) != 0
        || value[1].len > NGX_ROOMS_WEBHOOK_HEAD_MAX / 2)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rooms_webhook URL \"%V\", expected "
                           "\"http://host[:port][/path]\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= 0x20 || value[1].data[i] >= 0x7f
            || value[1].data[i] == '#')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid rooms_webhook URL \"%V\": spaces, "
                               "control characters and fragments are not "
                               "allowed", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[2].len < NGX_ROOMS_WEBHOOK_SECRET_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_webhook secret is too short: at least %d "
                           "bytes (for example: openssl rand -hex 32)",
                           NGX_ROOMS_WEBHOOK_SECRET_MIN);
        return NGX_CONF_ERROR;
    }

    u = ngx_pcalloc(cf->pool, sizeof(ngx_url_t));
    if (u == NULL) {
        return NGX_CONF_ERROR;
    }

    u->url.data = value[1].data + 7;
    u->url.len = value[1].len - 7;
    u->default_port = 80;
    u->uri_part = 1;

    /* resolved now: the sender never waits for a resolver */
    if (ngx_parse_url(cf->pool, u) != NGX_OK || u->naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_webhook \"%V\": %s", &value[1],
                           u->err ? u->err : "the host has no address");
        return NGX_CONF_ERROR;
    }

    rmcf->webhook = u;
    rmcf->webhook_secret = value[2];

    return NGX_CONF_OK;
}


size_t
ngx_rooms_webhook_body(u_char *buf, ngx_rooms_event_e type, int64_t room_id,
    const u_char *code, ngx_rooms_event_who_t *who)
{
    u_char      *p, *last;
    u_char       rnd[16];
    ngx_str_t    name;
    ngx_time_t  *tp;

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "rooms_webhook: the random source failed");
        return 0;
    }

    tp = ngx_timeofday();
    last = buf + NGX_ROOMS_WEBHOOK_BODY_MAX;

    p = ngx_slprintf(buf, last, "{\"id\":\"");
    p = ngx_hex_dump(p, rnd, sizeof(rnd));
    p = ngx_slprintf(p, last, "\",\"type\":\"%s\",\"time\":%T.%03M,"
                     "\"room\":{\"id\":%L,\"code\":\"%*s\"}",
                     ngx_rooms_event_names[type], tp->sec, tp->msec,
                     room_id, (size_t) ROOMS_CODE_LEN, code);

    if (who != NULL) {
        /* the name was checked printable at the join; escaped all the same */
        name.len = ngx_min(who->name.len, ROOMS_NAME_MAX_BYTES);
        name.data = who->name.data;

        p = ngx_slprintf(p, last, ",\"participant\":{\"id\":%L,\"role\":"
                         "\"%s\",\"name\":\"", who->id, who->role);

        if ((size_t) (last - p) > 6 * name.len + 3) {
            p = (u_char *) ngx_escape_json(p, name.data, name.len);
        }

        p = ngx_slprintf(p, last, "\"}");
    }

    p = ngx_slprintf(p, last, "}");

    return p - buf;
}


size_t
ngx_rooms_webhook_body_soon(u_char *buf, int64_t room_id, const u_char *code,
    int64_t start_at)
{
    char     when[ROOMS_TIME_LEN + 1];
    size_t   len;
    u_char  *p;

    len = ngx_rooms_webhook_body(buf, NGX_ROOMS_EVENT_STARTING_SOON, room_id,
                                 code, NULL);

    /* "...,"room":{"id":N,"code":"..."}}": start_at goes in the room */
    if (len < 2 || len + 64 > NGX_ROOMS_WEBHOOK_BODY_MAX) {
        return 0;
    }

    rooms_time_format(start_at, when);

    p = ngx_sprintf(buf + len - 2, ",\"start_at\":\"%s\"}}", when);

    return p - buf;
}


void
ngx_rooms_webhook_init_process(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf)
{
    ngx_rooms_webhook_t  *wh;

    if (rmcf->webhook == NULL || ngx_worker != 0
        || ngx_process != NGX_PROCESS_WORKER)
    {
        return;
    }

    wh = ngx_pcalloc(cycle->pool, sizeof(ngx_rooms_webhook_t));
    if (wh == NULL) {
        return;
    }

    wh->out = ngx_palloc(cycle->pool,
                         NGX_ROOMS_WEBHOOK_HEAD_MAX
                         + NGX_ROOMS_WEBHOOK_BODY_MAX);
    if (wh->out == NULL) {
        return;
    }

    wh->rmcf = rmcf;
    wh->timer.handler = ngx_rooms_webhook_tick;
    wh->timer.data = wh;
    wh->timer.log = cycle->log;
    wh->timer.cancelable = 1;

    ngx_rooms_webhook = wh;

    ngx_add_timer(&wh->timer, NGX_ROOMS_WEBHOOK_POLL);
}


void
ngx_rooms_webhook_exit_process(void)
{
    ngx_rooms_webhook_t  *wh = ngx_rooms_webhook;

    if (wh == NULL) {
        return;
    }

    if (wh->timer.timer_set) {
        ngx_del_timer(&wh->timer);
    }

    ngx_rooms_webhook_close(wh);

    if (wh->delivered
        && ngx_rooms_control_webhook_delivered(wh->rmcf, wh->delivered)
           != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "rooms_webhook: delivered event %L stays in the "
                      "outbox (the store is locked) and will be sent again",
                      wh->delivered);
    }

    /* the next worker 0 may send now */
    (void) ngx_atomic_cmp_set(ngx_rooms_dir_webhook_sender(wh->rmcf),
                              (ngx_atomic_uint_t) ngx_pid, 0);

    ngx_rooms_webhook = NULL;
}


/*
 * NGX_OK when this process is the sender (it stays one until it exits),
 * NGX_DECLINED while another live process is: the worker 0 of the cycle
 * before a reload, finishing.  A sender that died (its pid is gone) is
 * replaced.
 */
static ngx_int_t
ngx_rooms_webhook_claim(ngx_rooms_webhook_t *wh)
{
    ngx_atomic_t       *sender;
    ngx_atomic_uint_t   pid;

    sender = ngx_rooms_dir_webhook_sender(wh->rmcf);
    pid = *sender;

    if (pid == (ngx_atomic_uint_t) ngx_pid) {
        return NGX_OK;
    }

    if (pid != 0 && (kill((ngx_pid_t) pid, 0) == 0 || ngx_errno != ESRCH)) {
        return NGX_DECLINED;
    }

    if (!ngx_atomic_cmp_set(sender, pid, (ngx_atomic_uint_t) ngx_pid)) {
        return NGX_DECLINED;
    }

    if (pid != 0) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "rooms_webhook: the sender before (pid %uA) is gone; "
                      "this worker sends now", pid);
    }

    return NGX_OK;
}


/*
 * The sender's clock: removes what was delivered, then starts on the
 * oldest event left, or looks again later.
 */
/* in a fiber: its store calls may wait (ngx_rooms_fiber_timer()) */
static void
ngx_rooms_webhook_tick(ngx_event_t *ev)
{
    static ngx_uint_t  busy;

    ngx_rooms_fiber_timer(ev, ngx_rooms_webhook_tick_run, &busy);
}


static void
ngx_rooms_webhook_tick_run(ngx_event_t *ev)
{
    ngx_int_t             rc;
    ngx_msec_t            next;
    ngx_rooms_webhook_t  *wh = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit || wh->conn != NULL) {
        return;
    }

    next = NGX_ROOMS_WEBHOOK_POLL;

    if (ngx_rooms_webhook_claim(wh) != NGX_OK) {
        ngx_add_timer(&wh->timer, next);
        return;
    }

    if (wh->delivered) {
        rc = ngx_rooms_control_webhook_delivered(wh->rmcf, wh->delivered);

        if (rc == NGX_OK) {
            wh->delivered = 0;

        } else if (rc == NGX_ERROR) {
            /* logged; what stays is skipped by id, and removed next time */
            next = NGX_ROOMS_WEBHOOK_BACKOFF_MIN;
        }
    }

    rc = ngx_rooms_webhook_start(wh);

    if (rc == NGX_AGAIN) {
        /* under way: its end sets the timer */
        return;
    }

    ngx_add_timer(&wh->timer, next);
}


/*
 * Starts the request of the oldest event not yet delivered: NGX_AGAIN (under
 * way), NGX_DECLINED (none), NGX_ERROR (the store failed; logged).
 */
static ngx_int_t
ngx_rooms_webhook_start(ngx_rooms_webhook_t *wh)
{
    int        rc;
    size_t     len;
    u_char     body[NGX_ROOMS_WEBHOOK_BODY_MAX];
    ngx_int_t  n;

    rc = rooms_store_outbox_next(ngx_rooms_store_handle(), wh->delivered, &wh->id,
                                 body, sizeof(body), &len);

    if (rc == 0) {
        return NGX_DECLINED;
    }

    if (rc != 1) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms_webhook: the outbox could not be read: %s",
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }

    if (len == 0) {
        /* no body this code wrote: nothing to send, nothing to keep */
        wh->delivered = wh->id;
        return NGX_DECLINED;
    }

    if (ngx_rooms_webhook_request(wh, body, len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&wh->peer, sizeof(ngx_peer_connection_t));

    wh->peer.sockaddr = wh->rmcf->webhook->addrs[0].sockaddr;
    wh->peer.socklen = wh->rmcf->webhook->addrs[0].socklen;
    wh->peer.name = &wh->rmcf->webhook->addrs[0].name;
    wh->peer.get = ngx_event_get_peer;
    wh->peer.log = ngx_cycle->log;
    wh->peer.log_error = NGX_ERROR_ERR;

    n = ngx_event_connect_peer(&wh->peer);

    if (n == NGX_ERROR || n == NGX_BUSY || n == NGX_DECLINED) {
        if (wh->peer.connection) {
            ngx_close_connection(wh->peer.connection);
            wh->peer.connection = NULL;
        }

        ngx_rooms_webhook_done(wh, 0, "cannot connect");
        return NGX_AGAIN;
    }

    wh->conn = wh->peer.connection;
    wh->conn->data = wh;
    wh->conn->write->handler = ngx_rooms_webhook_write;
    wh->conn->read->handler = ngx_rooms_webhook_read;
    wh->sent = 0;
    wh->in_len = 0;

    ngx_add_timer(wh->conn->write, NGX_ROOMS_WEBHOOK_TIMEOUT);

    if (n == NGX_OK) {
        ngx_rooms_webhook_write(wh->conn->write);
    }

    return NGX_AGAIN;
}


/*
 * The request: head and body in wh->out.  The signature binds the time it
 * was sent to the body, so a receiver can refuse an old one replayed.
 */
static ngx_int_t
ngx_rooms_webhook_request(ngx_rooms_webhook_t *wh, u_char *body, size_t len)
{
    u_char        *p, *last;
    u_char         ts[NGX_TIME_T_LEN];
    u_char         mac[EVP_MAX_MD_SIZE];
    size_t         ts_len;
    ngx_url_t     *u;
    unsigned int   mac_len;
    HMAC_CTX      *hmac;

    u = wh->rmcf->webhook;

    ts_len = ngx_sprintf(ts, "%T", ngx_time()) - ts;

    hmac = HMAC_CTX_new();

    if (hmac == NULL
        || !HMAC_Init_ex(hmac, wh->rmcf->webhook_secret.data,
                         (int) wh->rmcf->webhook_secret.len, EVP_sha256(),
                         NULL)
        || !HMAC_Update(hmac, ts, ts_len)
        || !HMAC_Update(hmac, (u_char *) ".", 1)
        || !HMAC_Update(hmac, body, len)
        || !HMAC_Final(hmac, mac, &mac_len))
    {
        HMAC_CTX_free(hmac);
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "rooms_webhook: HMAC-SHA256 failed");
        return NGX_ERROR;
    }

    HMAC_CTX_free(hmac);

    last = wh->out + NGX_ROOMS_WEBHOOK_HEAD_MAX;

    p = ngx_slprintf(wh->out, last,
                     "POST %V HTTP/1.1\r\n"
                     "Host: %V\r\n"
                     "User-Agent: ngx_rooms\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %uz\r\n"
                     "X-Rooms-Timestamp: %*s\r\n"
                     "X-Rooms-Signature: sha256=",
                     u->uri.len ? &u->uri : &(ngx_str_t) ngx_string("/"),
                     &u->host, len, ts_len, ts);

    if (last - p < (ssize_t) (2 * mac_len + 32)) {
        return NGX_ERROR;
    }

    p = ngx_hex_dump(p, mac, mac_len);
    p = ngx_cpymem(p, "\r\nConnection: close\r\n\r\n",
                   sizeof("\r\nConnection: close\r\n\r\n") - 1);

    p = ngx_cpymem(p, body, len);

    wh->out_len = p - wh->out;

    return NGX_OK;
}


static void
ngx_rooms_webhook_write(ngx_event_t *wev)
{
    ssize_t               n;
    ngx_connection_t     *c = wev->data;
    ngx_rooms_webhook_t  *wh = c->data;

    if (wev->timedout) {
        ngx_rooms_webhook_done(wh, 0, "timed out connecting or sending");
        return;
    }

    while (wh->sent < wh->out_len) {
        n = c->send(c, wh->out + wh->sent, wh->out_len - wh->sent);

        if (n == NGX_AGAIN) {
            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_rooms_webhook_done(wh, 0, "cannot wait to send");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_rooms_webhook_done(wh, 0, "cannot send");
            return;
        }

        wh->sent += n;
    }

    /* all sent: now the status line */
    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    wev->handler = ngx_rooms_webhook_write_idle;

    ngx_add_timer(c->read, NGX_ROOMS_WEBHOOK_TIMEOUT);

    if (c->read->ready) {
        ngx_rooms_webhook_read(c->read);
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_rooms_webhook_done(wh, 0, "cannot wait for the answer");
    }
}


/* All is sent: a write event now means nothing. */
static void
ngx_rooms_webhook_write_idle(ngx_event_t *wev)
{
}


/* Reads the status line "HTTP/1.x NNN"; the rest is not needed. */
static void
ngx_rooms_webhook_read(ngx_event_t *rev)
{
    ssize_t               n;
    ngx_uint_t            status;
    ngx_connection_t     *c = rev->data;
    ngx_rooms_webhook_t  *wh = c->data;

    if (rev->timedout) {
        ngx_rooms_webhook_done(wh, 0, "timed out waiting for the answer");
        return;
    }

    for ( ;; ) {
        if (wh->in_len >= 12) {
            break;
        }

        n = c->recv(c, wh->in + wh->in_len, sizeof(wh->in) - wh->in_len);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_rooms_webhook_done(wh, 0, "cannot wait for the answer");
            }

            return;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_rooms_webhook_done(wh, 0, "no answer");
            return;
        }

        wh->in_len += n;
    }

    if (ngx_strncmp(wh->in, "HTTP/1.", 7) != 0 || wh->in[8] != ' '
        || wh->in[9] < '1' || wh->in[9] > '5'
        || wh->in[10] < '0' || wh->in[10] > '9'
        || wh->in[11] < '0' || wh->in[11] > '9')
    {
        ngx_rooms_webhook_done(wh, 0, "the answer is not HTTP");
        return;
    }

    status = (wh->in[9] - '0') * 100 + (wh->in[10] - '0') * 10
             + (wh->in[11] - '0');

    if (status / 100 != 2) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "rooms_webhook: event %L answered %ui", wh->id, status);
        ngx_rooms_webhook_done(wh, 0, NULL);
        return;
    }

    ngx_rooms_webhook_done(wh, 1, NULL);
}


/*
 * The end of one request: a delivered event is removed (through the
 * control file) and the next starts at once; a failed one is tried again
 * after a delay that doubles with each failure in a row.
 */
static void
ngx_rooms_webhook_done(ngx_rooms_webhook_t *wh, ngx_uint_t ok,
    const char *why)
{
    ngx_msec_t  delay;

    ngx_rooms_webhook_close(wh);

    if (ok) {
        ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_SENT, 1);
        wh->failures = 0;
        delay = 1;

        /*
         * The next tick, 1 ms on and in a fiber (its store write may
         * wait), removes it before it reads the next; an exiting worker
         * has no next tick: at once then.
         */
        wh->delivered = wh->id;

        if ((ngx_exiting || ngx_terminate || ngx_quit)
            && ngx_rooms_control_webhook_delivered(wh->rmcf, wh->id)
               == NGX_OK)
        {
            wh->delivered = 0;
        }

    } else {
        ngx_rooms_metrics_add(NGX_ROOMS_M_WEBHOOK_FAILED, 1);

        delay = NGX_ROOMS_WEBHOOK_BACKOFF_MIN << ngx_min(wh->failures, 6);
        delay = ngx_min(delay, NGX_ROOMS_WEBHOOK_BACKOFF_MAX);
        wh->failures++;

        if (why != NULL) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "rooms_webhook: event %L not delivered: %s; "
                          "again in %M ms", wh->id, why, delay);
        }
    }

    if (!wh->timer.timer_set && !ngx_exiting && !ngx_terminate
        && !ngx_quit)
    {
        ngx_add_timer(&wh->timer, delay);
    }
}


static void
ngx_rooms_webhook_close(ngx_rooms_webhook_t *wh)
{
    if (wh->conn != NULL) {
        ngx_close_connection(wh->conn);
        wh->conn = NULL;
    }
}
