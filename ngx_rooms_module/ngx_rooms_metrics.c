
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_metrics.c: what the module counts, served in the Prometheus
 * text format at a location with "rooms_metrics".
 *
 * Owns: the counters (atomics in a shared zone of their own, so that a
 * count is exact across nginx workers and survives a reload), the fixed
 * label sets (refusal reasons, host action kinds: no per-room or
 * per-person label, so the number of series is bounded), and the page:
 * every family with its HELP and TYPE.  The directory's live figures
 * (rooms with people, participants) are read from the room directory
 * when the page is asked for, and the media worker's own figures are the
 * latest of its STATS records (rooms_proto.h), kept in the zone too.
 * Must never block or take a lock on the
 * counting paths (an atomic add each), never let a count fail a request,
 * and never serve anything but GET and HEAD.
 * May not: call rooms_store_, call json_, include jansson.h, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_media_push, call ngx_rooms_control_, call ngx_rooms_signal_, call ngx_rooms_ws_, call ngx_rooms_api_, call ngx_rooms_router_, call ngx_rooms_page_, call ngx_rooms_dir_get, call ngx_rooms_dir_change, call ngx_rooms_dir_add
 */


#include "ngx_rooms_metrics.h"
#include "ngx_rooms_shm.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_media.h"

#include "rooms_msg.h"
#include "rooms_shard.h"


/* the zone: one page of atomics is plenty; 8 pages is a slab's least */
#define NGX_ROOMS_METRICS_ZONE       "rooms_metrics"
#define NGX_ROOMS_METRICS_ZONE_SIZE  (8 * ngx_pagesize)

/* the page: every line below fits many times over */
#define NGX_ROOMS_METRICS_PAGE_MAX   32768


/* why a join was refused: docs/protocol.md's codes that end a join */
static ngx_str_t  ngx_rooms_metrics_reasons[] = {
    ngx_string("room_ended"),
    ngx_string("not_started"),
    ngx_string("locked"),
    ngx_string("room_full"),
    ngx_string("removed"),
    ngx_string("denied"),
    ngx_string("lobby_full"),
    ngx_string("policy_denied"),
    ngx_string("not_found"),
    ngx_string("gone"),
    ngx_string("media_unavailable"),
    ngx_string("storage_unavailable"),
    ngx_string("internal_error"),
};

#define NGX_ROOMS_METRICS_NREASONS                                            \
    (sizeof(ngx_rooms_metrics_reasons) / sizeof(ngx_str_t))


/* the shared counters: plain ones, refusals by reason, actions by type */
typedef struct {
    ngx_atomic_t                 plain[NGX_ROOMS_M_NPLAIN];
    ngx_atomic_t                 refusals[NGX_ROOMS_METRICS_NREASONS];
    ngx_atomic_t                 actions[ROOMS_MSG_NTYPES];
    /* each media worker's latest STATS record, and whether one came */
    ngx_atomic_t                 media_seen[ROOMS_SHARD_MAX];
    rooms_proto_stats_t          media[ROOMS_SHARD_MAX];
} ngx_rooms_metrics_sh_t;


static ngx_int_t ngx_rooms_metrics_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_rooms_metrics_handler(ngx_http_request_t *r);
static void ngx_rooms_metrics_stats(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
static u_char *ngx_rooms_metrics_workers(u_char *p, u_char *last,
    ngx_rooms_metrics_sh_t *sh);
static u_char *ngx_rooms_metrics_media(u_char *p, u_char *last,
    rooms_proto_stats_t *st);
static u_char *ngx_rooms_metrics_one(u_char *p, u_char *last,
    const char *name, const char *type, const char *help, uint64_t value);
static u_char *ngx_rooms_metrics_family(u_char *p, u_char *last,
    const char *name, const char *type, const char *help);


/* this process's view of the zone of its cycle; NULL: nothing counts */
static ngx_rooms_metrics_sh_t  *ngx_rooms_metrics_sh;

/* the zone's tag: ours, whatever else is called "rooms_metrics" */
static ngx_uint_t  ngx_rooms_metrics_tag;


char *
ngx_rooms_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                  name;
    ngx_shm_zone_t            *shm_zone;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_str_set(&name, NGX_ROOMS_METRICS_ZONE);

    shm_zone = ngx_shared_memory_add(cf, &name, NGX_ROOMS_METRICS_ZONE_SIZE,
                                     &ngx_rooms_metrics_tag);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_rooms_metrics_zone_init;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate, or the location has another content handler";
    }

    clcf->handler = ngx_rooms_metrics_handler;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_rooms_metrics_init(ngx_conf_t *cf)
{
    return ngx_rooms_media_on_record(cf, ROOMS_PROTO_STATS,
                                     ngx_rooms_metrics_stats);
}


/*
 * A STATS record: the media worker's figures, kept as they are (every
 * nginx worker gets each one; whichever writes last wrote the same or
 * newer totals).  payload is in shared memory: copied once, then stored.
 */
static void
ngx_rooms_metrics_stats(const rooms_proto_hdr_t *hdr, const u_char *payload)
{
    ngx_uint_t           i;
    rooms_proto_stats_t  st;

    if (ngx_rooms_metrics_sh == NULL || hdr->len < sizeof(st)) {
        return;
    }

    ngx_memcpy(&st, payload, sizeof(st));

    /*
     * A page read during the copy may mix two records' fields: each is a
     * total of its own, so that is never a wrong figure, only a mix of
     * two moments 5 s apart.
     */
    i = ngx_rooms_media_source();

    ngx_memcpy(&ngx_rooms_metrics_sh->media[i], &st, sizeof(st));
    ngx_rooms_metrics_sh->media_seen[i] = 1;
}


/* The counters are allocated once; a reload keeps them (same zone). */
static ngx_int_t
ngx_rooms_metrics_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    return ngx_rooms_shm_one(shm_zone, data, sizeof(ngx_rooms_metrics_sh_t));
}


/* the counters of the cycle this worker runs, if it has them */
void
ngx_rooms_metrics_init_process(ngx_cycle_t *cycle)
{
    ngx_shm_zone_t  *zone;

    zone = ngx_rooms_shm_find(cycle, &ngx_rooms_metrics_tag);
    ngx_rooms_metrics_sh = zone != NULL ? zone->data : NULL;
}


void
ngx_rooms_metrics_add(ngx_rooms_metric_e which, ngx_int_t delta)
{
    if (ngx_rooms_metrics_sh != NULL && which < NGX_ROOMS_M_NPLAIN) {
        (void) ngx_atomic_fetch_add(&ngx_rooms_metrics_sh->plain[which],
                                    (ngx_atomic_int_t) delta);
    }
}


void
ngx_rooms_metrics_refusal(const char *code, size_t len)
{
    ngx_uint_t  i;

    if (ngx_rooms_metrics_sh == NULL) {
        return;
    }

    for (i = 0; i < NGX_ROOMS_METRICS_NREASONS; i++) {
        if (ngx_rooms_metrics_reasons[i].len == len
            && ngx_strncmp(ngx_rooms_metrics_reasons[i].data, code, len) == 0)
        {
            (void) ngx_atomic_fetch_add(&ngx_rooms_metrics_sh->refusals[i], 1);
            return;
        }
    }
}


void
ngx_rooms_metrics_host_action(ngx_uint_t type)
{
    if (ngx_rooms_metrics_sh != NULL && type < ROOMS_MSG_NTYPES) {
        (void) ngx_atomic_fetch_add(&ngx_rooms_metrics_sh->actions[type], 1);
    }
}


/* # HELP and # TYPE of one family */
static u_char *
ngx_rooms_metrics_family(u_char *p, u_char *last, const char *name,
    const char *type, const char *help)
{
    return ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                        name, help, name, type);
}


/* a family of one sample without labels: its HELP, TYPE and value */
static u_char *
ngx_rooms_metrics_one(u_char *p, u_char *last, const char *name,
    const char *type, const char *help, uint64_t value)
{
    p = ngx_rooms_metrics_family(p, last, name, type, help);

    return ngx_slprintf(p, last, "%s %uL\n", name, value);
}


/*
 * GET: the page.  A gauge that nginx workers add to and take from is
 * read as a signed number: a worker that died with connections open
 * leaves its share in it until the counts are read again from scratch
 * (a restart; a reload keeps them).
 */
static ngx_int_t
ngx_rooms_metrics_handler(ngx_http_request_t *r)
{
    u_char                  *p, *last, *page;
    ngx_buf_t               *b;
    ngx_int_t                rc;
    ngx_uint_t               i, rooms, people;
    ngx_chain_t              out;
    ngx_rooms_metrics_sh_t  *sh;
    const rooms_msg_type_t  *mt;
    ngx_rooms_main_conf_t   *rmcf;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    sh = ngx_rooms_metrics_sh;

    if (sh == NULL) {
        /* a worker of a cycle that has no zone cannot be asked this */
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    page = ngx_pnalloc(r->pool, NGX_ROOMS_METRICS_PAGE_MAX);
    if (page == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = page;
    last = page + NGX_ROOMS_METRICS_PAGE_MAX;

    rmcf = ngx_http_get_module_main_conf(r, ngx_rooms_module);

    if (rmcf->shm_zone != NULL) {
        ngx_rooms_dir_totals(rmcf, &rooms, &people);

        p = ngx_rooms_metrics_family(p, last, "rooms_active_rooms", "gauge",
                "Rooms with at least one person in the call.");
        p = ngx_slprintf(p, last, "rooms_active_rooms %ui\n", rooms);
        p = ngx_rooms_metrics_family(p, last, "rooms_participants", "gauge",
                "People in calls, as the media worker counts them.");
        p = ngx_slprintf(p, last, "rooms_participants %ui\n", people);
    }

    p = ngx_rooms_metrics_family(p, last, "rooms_lobby_waiting", "gauge",
            "Guests waiting in a knock room's lobby for a host to admit "
            "them.");
    p = ngx_slprintf(p, last, "rooms_lobby_waiting %A\n",
                     (ngx_atomic_int_t) sh->plain[NGX_ROOMS_M_LOBBY_WAITING]);

    p = ngx_rooms_metrics_family(p, last, "rooms_websocket_connections",
            "gauge", "Open signaling WebSocket connections.");
    p = ngx_slprintf(p, last, "rooms_websocket_connections %A\n",
                     (ngx_atomic_int_t) sh->plain[NGX_ROOMS_M_WS_CONNECTIONS]);

    p = ngx_rooms_metrics_one(p, last, "rooms_joins_total", "counter",
            "Joins that got into a call (welcomed, at once or from the "
            "lobby).",
            sh->plain[NGX_ROOMS_M_JOINS]);

    p = ngx_rooms_metrics_family(p, last, "rooms_join_refusals_total",
            "counter", "Joins refused, by the error code the browser got.");

    for (i = 0; i < NGX_ROOMS_METRICS_NREASONS; i++) {
        p = ngx_slprintf(p, last,
                         "rooms_join_refusals_total{reason=\"%V\"} %uA\n",
                         &ngx_rooms_metrics_reasons[i], sh->refusals[i]);
    }

    p = ngx_rooms_metrics_family(p, last, "rooms_host_actions_total",
            "counter", "Host and co-host actions in calls that nginx let "
            "through, by kind.");

    for (i = 0; i < ROOMS_MSG_NTYPES; i++) {
        mt = rooms_msg_type_of((rooms_msg_id_e) i);

        if (mt != NULL && mt->from != ROOMS_MSG_ANYONE) {
            p = ngx_slprintf(p, last,
                             "rooms_host_actions_total{kind=\"%s\"} %uA\n",
                             mt->name, sh->actions[i]);
        }
    }

    p = ngx_rooms_metrics_one(p, last, "rooms_store_errors_total", "counter",
            "Reads and writes of the SQLite store that failed.",
            sh->plain[NGX_ROOMS_M_STORE_ERRORS]);

    p = ngx_rooms_metrics_family(p, last,
            "rooms_media_ring_pushes_refused_total", "counter",
            "Records for the media worker that could not be queued: its "
            "ring was full, or the record could not be written.");
    p = ngx_slprintf(p, last,
                     "rooms_media_ring_pushes_refused_total{reason=\"full\"}"
                     " %uA\n"
                     "rooms_media_ring_pushes_refused_total{reason=\"error\"}"
                     " %uA\n",
                     sh->plain[NGX_ROOMS_M_RING_FULL],
                     sh->plain[NGX_ROOMS_M_RING_ERROR]);

    p = ngx_rooms_metrics_one(p, last,
            "rooms_media_link_reconnects_total", "counter",
            "Links from an nginx worker to the media worker made again "
            "after one was lost.",
            sh->plain[NGX_ROOMS_M_LINK_RECONNECTS]);

    p = ngx_rooms_metrics_one(p, last,
            "rooms_webhook_events_sent_total", "counter",
            "Webhook events a receiver answered 2xx.",
            sh->plain[NGX_ROOMS_M_WEBHOOK_SENT]);

    p = ngx_rooms_metrics_one(p, last,
            "rooms_webhook_deliveries_failed_total", "counter",
            "Webhook deliveries that failed (refused, timed out, not 2xx); "
            "each is tried again.",
            sh->plain[NGX_ROOMS_M_WEBHOOK_FAILED]);

    p = ngx_rooms_metrics_one(p, last,
            "rooms_webhook_events_dropped_total", "counter",
            "Webhook events lost: the outbox was full (the oldest go), or "
            "the store stayed locked.",
            sh->plain[NGX_ROOMS_M_WEBHOOK_DROPPED]);

    p = ngx_rooms_metrics_one(p, last,
            "rooms_calls_moved_total", "counter",
            "Calls this node yielded to another node that runs the same "
            "room's call, begun later (a node added): their people were "
            "told to rejoin (4412).",
            sh->plain[NGX_ROOMS_M_ROOMS_MOVED]);

    p = ngx_rooms_metrics_workers(p, last, sh);

    if (p == last) {
        /* the page is bounded by the code above; this cannot be reached */
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = p - page;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = page;
    b->last = p;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * The media workers' figures: each family the sum of their latest STATS
 * records (the host's totals), then each one's participants and CPU
 * time, by which the spread of the rooms over the cores shows.  A media worker that was
 * restarted starts its totals again, as a restarted process would.
 */
static u_char *
ngx_rooms_metrics_workers(u_char *p, u_char *last, ngx_rooms_metrics_sh_t *sh)
{
    uint64_t             *sum, *one;
    ngx_uint_t            i, k, n, seen;
    rooms_proto_stats_t   media, st;

    n = ngx_rooms_media_workers();

    if (n == 0) {
        /* not linked yet: what the zone kept from before a reload */
        n = ROOMS_SHARD_MAX;
    }

    ngx_memzero(&media, sizeof(media));
    sum = (uint64_t *) &media;
    seen = 0;

    for (i = 0; i < n; i++) {
        if (!sh->media_seen[i]) {
            continue;
        }

        ngx_memcpy(&st, &sh->media[i], sizeof(st));
        one = (uint64_t *) &st;

        /* every field is a uint64_t (rooms_proto.h): each one added */
        for (k = 0; k < sizeof(st) / sizeof(uint64_t); k++) {
            sum[k] += one[k];
        }

        seen++;
    }

    if (seen == 0) {
        return p;
    }

    p = ngx_rooms_metrics_media(p, last, &media);

    p = ngx_rooms_metrics_one(p, last, "rooms_media_workers", "gauge",
            "Media workers that sent their figures (rooms-worker "
            "--workers).", seen);

    p = ngx_rooms_metrics_family(p, last,
            "rooms_media_worker_participants", "gauge",
            "People with a session in each media worker (the rooms of one "
            "media worker are rooms_shard_pick()'s).");

    for (i = 0; i < n; i++) {
        if (sh->media_seen[i]) {
            p = ngx_slprintf(p, last, "rooms_media_worker_participants"
                             "{worker=\"%ui\"} %uL\n", i,
                             sh->media[i].participants);
        }
    }

    p = ngx_rooms_metrics_family(p, last,
            "rooms_media_worker_cpu_seconds_total", "counter",
            "CPU time of each media worker, user and system.");

    for (i = 0; i < n; i++) {
        if (sh->media_seen[i]) {
            p = ngx_slprintf(p, last, "rooms_media_worker_cpu_seconds_total"
                             "{worker=\"%ui\"} %uL.%06uL\n", i,
                             sh->media[i].cpu_usec / 1000000,
                             sh->media[i].cpu_usec % 1000000);
        }
    }

    return p;
}


/* The media workers' figures, summed (ngx_rooms_metrics_workers()). */
static u_char *
ngx_rooms_metrics_media(u_char *p, u_char *last, rooms_proto_stats_t *st)
{
    p = ngx_rooms_metrics_one(p, last, "rooms_media_participants", "gauge",
            "People with a session in the media worker.",
            st->participants);

    p = ngx_rooms_metrics_family(p, last,
            "rooms_media_packets_received_total", "counter",
            "UDP datagrams the media worker received, by kind (unknown: "
            "from no session's address).");
    p = ngx_slprintf(p, last,
            "rooms_media_packets_received_total{kind=\"stun\"} %uL\n"
            "rooms_media_packets_received_total{kind=\"dtls\"} %uL\n"
            "rooms_media_packets_received_total{kind=\"rtp\"} %uL\n"
            "rooms_media_packets_received_total{kind=\"rtcp\"} %uL\n"
            "rooms_media_packets_received_total{kind=\"unknown\"} %uL\n",
            st->rx_stun, st->rx_dtls, st->rx_rtp, st->rx_rtcp,
            st->rx_unknown);

    p = ngx_rooms_metrics_one(p, last, "rooms_media_packets_sent_total", "counter",
            "UDP datagrams the media worker sent.",
            st->tx);

    p = ngx_rooms_metrics_one(p, last,
            "rooms_media_packets_forwarded_total", "counter",
            "RTP packets forwarded from a publisher to a subscriber.",
            st->fwd);

    p = ngx_rooms_metrics_family(p, last,
            "rooms_media_packets_dropped_total", "counter",
            "Packets the media worker dropped, by why: malformed after "
            "decryption, refused by SRTP, send queue full, not "
            "forwardable.");
    p = ngx_slprintf(p, last,
            "rooms_media_packets_dropped_total{reason=\"malformed\"} %uL\n"
            "rooms_media_packets_dropped_total{reason=\"unprotect\"} %uL\n"
            "rooms_media_packets_dropped_total{reason=\"send_queue\"} %uL\n"
            "rooms_media_packets_dropped_total{reason=\"forward\"} %uL\n",
            st->rx_bad, st->unprotect_fail, st->tx_dropped,
            st->fwd_dropped);

    p = ngx_rooms_metrics_one(p, last, "rooms_media_nacks_sent_total", "counter",
            "NACKs the media worker sent to publishers.",
            st->nack_sent);

    p = ngx_rooms_metrics_one(p, last,
            "rooms_media_nack_resends_total", "counter",
            "Packets the media worker resent to answer subscribers' NACKs.",
            st->nack_resent);

    p = ngx_rooms_metrics_one(p, last, "rooms_media_plis_sent_total", "counter",
            "Picture loss indications sent to publishers.",
            st->pli_sent);

    p = ngx_rooms_metrics_one(p, last, "rooms_media_joins_total", "counter",
            "Joins the media worker took into a room.",
            st->joins);

    p = ngx_rooms_metrics_one(p, last, "rooms_media_joins_refused_total", "counter",
            "Joins the media worker refused.",
            st->refused);

    p = ngx_rooms_metrics_one(p, last,
            "rooms_media_ice_timeouts_total", "counter",
            "Sessions ended because ICE consent stopped for 30 s.",
            st->timeouts);

    p = ngx_rooms_metrics_family(p, last, "rooms_media_cpu_seconds_total",
            "counter", "CPU time of the media worker, user and system.");
    p = ngx_slprintf(p, last, "rooms_media_cpu_seconds_total %uL.%06uL\n",
                     st->cpu_usec / 1000000, st->cpu_usec % 1000000);

    p = ngx_rooms_metrics_one(p, last,
            "rooms_media_resident_memory_bytes", "gauge",
            "Resident memory of the media worker.",
            st->rss_bytes);

    return p;
}
