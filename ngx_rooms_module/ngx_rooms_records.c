
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_records.c: the room records the media worker sends, and the
 * loss of its link.
 *
 * Owns: the handlers of the BAN, COUNT, RESYNC and HOST_ABSENT records
 * (each copied out of the ring once, checked, and dropped with a log line
 * when malformed) and of the link's loss: a BAN record's ban stored (or
 * kept by ngx_rooms_deferred.c while the store is locked); the live
 * participant counts of COUNT records, written into the directory in the
 * media worker's order, and when a room was last in use, written into the
 * store for expiry; room.opened when a COUNT record took a room from
 * nobody to somebody (only the process whose record set the count
 * first); the RESYNC records that empty the rooms no count
 * was sent for again; the reset of the counts this process read when its
 * link is lost; the host-absent policy (end or lock) a HOST_ABSENT record
 * asks for, read again and applied under the store's write lock (or kept
 * while the store is locked), and told to the people in the room.
 * With ngx_rooms_control.c it is the control subsystem, the only writer
 * of the store: it writes through that file's helpers
 * (ngx_rooms_control_int.h), which take the store's write lock and never
 * call the store under the directory lock.
 * Must never take the store's write lock but through
 * ngx_rooms_control_begin(), never store a change without it, never
 * announce a change before it is stored, and never trust a
 * record's bytes: they are in shared memory, each is read once.
 * May not: include rooms_ring.h, include rooms_ws.h, call ngx_rooms_ws_, call ngx_rooms_signal_, call ngx_rooms_api_, call ngx_rooms_router_, call ngx_rooms_page_, call ngx_rooms_media_conn_id, call ngx_rooms_media_leave, include <jansson.h>, call json_, call rooms_store_begin, call rooms_store_commit
 */


#include "ngx_rooms_control_int.h"
#include "ngx_rooms_handles.h"
#include "ngx_rooms_deferred.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_media.h"
#include "ngx_rooms_metrics.h"
#include "ngx_rooms_people.h"
#include "ngx_rooms_records.h"


#include "rooms_msg.h"
#include "rooms_shard.h"


static ngx_int_t ngx_rooms_records_copy(const rooms_proto_hdr_t *hdr,
    const u_char *payload, const char *type, u_char buf[256]);
static void ngx_rooms_records_malformed(const char *type);
static void ngx_rooms_records_ban(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
static void ngx_rooms_records_count(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
static void ngx_rooms_records_resync(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
static void ngx_rooms_records_host_absent(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
static void ngx_rooms_records_link_down(ngx_uint_t worker, ngx_uint_t n);


/*
 * The highest seq of the COUNT and RESYNC records this process read: a
 * lost link empties the rooms whose counts are that old or older, not
 * the newer ones another nginx worker read, perhaps from a media worker
 * started since (ngx_rooms_dir_counts_reset()).  One per media worker:
 * each numbers its own counts, and carries rooms of its own.
 */
static int64_t  ngx_rooms_records_seq[ROOMS_SHARD_MAX];


ngx_int_t
ngx_rooms_records_init(ngx_conf_t *cf)
{
    if (ngx_rooms_media_on_record(cf, ROOMS_PROTO_BAN, ngx_rooms_records_ban)
        != NGX_OK
        || ngx_rooms_media_on_record(cf, ROOMS_PROTO_COUNT,
                                     ngx_rooms_records_count)
           != NGX_OK
        || ngx_rooms_media_on_record(cf, ROOMS_PROTO_RESYNC,
                                     ngx_rooms_records_resync)
           != NGX_OK
        || ngx_rooms_media_on_record(cf, ROOMS_PROTO_HOST_ABSENT,
                                     ngx_rooms_records_host_absent)
           != NGX_OK
        || ngx_rooms_media_on_link_down(cf, ngx_rooms_records_link_down)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Copies a small record from the media worker (BAN, COUNT, HOST_ABSENT)
 * out of the ring into buf, which holds 256 bytes: NGX_OK, or NGX_ERROR
 * for a record over 255 bytes, which is none of those and is logged with
 * its type's name.  The bytes are in shared memory: each is read once.
 */
static ngx_int_t
ngx_rooms_records_copy(const rooms_proto_hdr_t *hdr, const u_char *payload,
    const char *type, u_char buf[256])
{
    if (hdr->len >= 256) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms: a %uD-byte %s record from the media worker "
                      "was dropped", hdr->len, type);
        return NGX_ERROR;
    }

    ngx_memcpy(buf, payload, hdr->len);

    return NGX_OK;
}


/* Logs a record that is not what its type says, and drops it. */
static void
ngx_rooms_records_malformed(const char *type)
{
    ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                  "rooms: a malformed %s record from the media worker was "
                  "dropped", type);
}


/*
 * A BAN record: a host removed a participant, and its guest token is
 * banned from the room for good.  The media worker sends it on the ring
 * of the removed WebSocket's nginx worker, before the CLOSE, so the ban
 * is stored before that browser can try again; it is stored whether or
 * not that WebSocket is still here.
 */
static void
ngx_rooms_records_ban(const rooms_proto_hdr_t *hdr, const u_char *payload)
{
    u_char                  buf[256], hash[ROOMS_HASH_LEN];
    ngx_int_t               rc;
    const char             *why;
    rooms_msg_ban_t         rec;
    ngx_rooms_deferred_t    d;
    ngx_rooms_main_conf_t  *rmcf;

    if (ngx_rooms_records_copy(hdr, payload, "BAN", buf) != NGX_OK) {
        return;
    }

    if (rooms_msg_ban_decode((char *) buf, hdr->len, &rec, &why) != 0
        || rooms_token_hash_from_hex(rec.token, ROOMS_HASH_HEX_LEN, hash)
           != 0)
    {
        ngx_rooms_records_malformed("BAN");
        return;
    }

    rmcf = ngx_rooms_control_conf();

    if (rmcf == NULL) {
        return;
    }

    rc = ngx_rooms_control_store_ban(ngx_rooms_store_handle(), rec.room, hash);

    if (rc == NGX_ROOMS_BUSY) {
        ngx_memzero(&d, sizeof(ngx_rooms_deferred_t));
        d.kind = NGX_ROOMS_DEFER_BAN;
        d.room_id = rec.room;
        ngx_memcpy(d.token_hash, hash, ROOMS_HASH_LEN);

        ngx_rooms_deferred_add(&d);

    } else if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms_store ban failed: %s; room %L",
                      rooms_store_errmsg(ngx_rooms_store_handle()), rec.room);
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);

    } else {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "rooms: a participant was removed from room %L and "
                      "banned", rec.room);
    }
}


/*
 * A COUNT record: the number of people in a room changed.  It goes into
 * the shared directory, where GET /api/rooms/<code> reads it; every nginx
 * worker gets the same record and writes the same number, and one that
 * reads it after a newer one (a higher seq) was written leaves the newer.
 */
static void
ngx_rooms_records_count(const rooms_proto_hdr_t *hdr, const u_char *payload)
{
    u_char                  buf[256];
    ngx_int_t               rc;
    ngx_uint_t              opened, src;
    const char             *why;
    rooms_msg_count_t       rec;
    ngx_rooms_main_conf_t  *rmcf;

    if (ngx_rooms_records_copy(hdr, payload, "COUNT", buf) != NGX_OK) {
        return;
    }

    if (rooms_msg_count_decode((char *) buf, hdr->len, &rec, &why) != 0) {
        ngx_rooms_records_malformed("COUNT");
        return;
    }

    rmcf = ngx_rooms_control_conf();

    if (rmcf == NULL) {
        return;
    }

    src = ngx_rooms_media_source();
    ngx_rooms_records_seq[src] = ngx_max(ngx_rooms_records_seq[src],
                                         rec.seq);

    rc = ngx_rooms_dir_count(rmcf, ngx_cycle->log, rec.room,
                             (u_char *) rec.code, ngx_strlen(rec.code),
                             (ngx_uint_t) rec.count, rec.seq, &opened);

    if (opened) {
        /* once: the one process whose record set the count first */
        ngx_rooms_control_event(rmcf, NGX_ROOMS_EVENT_ROOM_OPENED, rec.room,
                                (u_char *) rec.code, NULL);
    }

    /*
     * People came or went: the room is in use, which keeps it from
     * rooms_expire (a write at most once an hour per room).  It never
     * waits for the store's lock: when another process holds it, the
     * next COUNT of the room writes it.
     */
    switch (rooms_store_used(ngx_rooms_store_handle(), rec.room, (int64_t) ngx_time())) {

    case ROOMS_STORE_OK:
        break;

    case ROOMS_STORE_BUSY:
        ngx_log_debug1(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                       "rooms_store busy: room %L in use not recorded yet",
                       rec.room);
        break;

    default:
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms_store: room %L in use not recorded: %s",
                      rec.room, rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        break;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_EVENT, ngx_cycle->log, 0,
                   "rooms media: room %L has %ui people (seq %L): %i",
                   rec.room, (ngx_uint_t) rec.count, rec.seq, rc);
}


/*
 * A RESYNC record: the counts the media worker sent this process just
 * before it are all the rooms with people in them; the rest are empty
 * (a count that would have said so may have been lost on a full ring).
 */
static void
ngx_rooms_records_resync(const rooms_proto_hdr_t *hdr,
    const u_char *payload)
{
    u_char                  buf[256];
    ngx_uint_t              src;
    const char             *why;
    rooms_msg_resync_t      rec;
    ngx_rooms_main_conf_t  *rmcf;

    if (ngx_rooms_records_copy(hdr, payload, "RESYNC", buf) != NGX_OK) {
        return;
    }

    if (rooms_msg_resync_decode((char *) buf, hdr->len, &rec, &why) != 0) {
        ngx_rooms_records_malformed("RESYNC");
        return;
    }

    rmcf = ngx_rooms_control_conf();

    if (rmcf == NULL) {
        return;
    }

    src = ngx_rooms_media_source();
    ngx_rooms_records_seq[src] = ngx_max(ngx_rooms_records_seq[src],
                                         rec.seq);

    /* the rooms of the media worker that sent it, not the others' */
    ngx_rooms_dir_counts_reset(rmcf, ngx_cycle->log, rec.seq, src,
                               ngx_rooms_media_workers());
}


/*
 * A HOST_ABSENT record: the last host or co-host left a room whose
 * policy is lock or end (docs/protocol.md, "When the last host leaves").
 * The media worker timed the grace; the policy is read again here, from
 * the store under its write lock, so a host who changed it to stay_open
 * meanwhile, or ended the room, wins.  Once stored, the ROOM record with
 * the reason tells the people in the room; one nginx worker gets the
 * record, and any one of them may apply it.
 */
static void
ngx_rooms_records_host_absent(const rooms_proto_hdr_t *hdr,
    const u_char *payload)
{
    u_char                  buf[256];
    const char             *why;
    ngx_rooms_deferred_t    d;
    rooms_msg_host_absent_t rec;
    ngx_rooms_main_conf_t  *rmcf;

    if (ngx_rooms_records_copy(hdr, payload, "HOST_ABSENT", buf) != NGX_OK) {
        return;
    }

    if (rooms_msg_host_absent_decode((char *) buf, hdr->len, &rec, &why)
        != 0)
    {
        ngx_rooms_records_malformed("HOST_ABSENT");
        return;
    }

    rmcf = ngx_rooms_control_conf();

    if (rmcf == NULL) {
        return;
    }

    /*
     * This node moved the room's call to another node (a node added,
     * docs/scaling.md): its hosts went there, not away.  Within the
     * longest grace and a minute, the time the move takes.
     */
    if (ngx_rooms_people_moved(rec.room, ROOMS_HOST_GRACE_MAX / 1000 + 60)) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "rooms: the last host left room %L, whose call "
                      "moved to another node: its host-absent policy is "
                      "that node's", rec.room);
        return;
    }

    if (ngx_rooms_control_absent(rmcf, rec.room, rec.code, rec.end)
        == NGX_ROOMS_BUSY)
    {
        ngx_memzero(&d, sizeof(ngx_rooms_deferred_t));
        d.kind = NGX_ROOMS_DEFER_ABSENT;
        d.room_id = rec.room;
        d.end = rec.end;
        ngx_cpystrn((u_char *) d.code, (u_char *) rec.code,
                    sizeof(d.code));

        ngx_rooms_deferred_add(&d);
    }
}


/*
 * The link to a media worker is lost: nobody is in its rooms without it
 * (the other media workers' rooms go on).
 * When only this link broke and the worker lives on, the counts come back
 * with the next link, a second later at first: the worker sends every
 * count that is not 0 to a newly linked nginx worker.  Only the counts as
 * old as the newest this process read are emptied: another nginx worker
 * that linked to a restarted media worker first may have newer ones.
 */
static void
ngx_rooms_records_link_down(ngx_uint_t worker, ngx_uint_t n)
{
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_rooms_control_conf();

    if (rmcf != NULL) {
        ngx_rooms_dir_counts_reset(rmcf, ngx_cycle->log,
                                   ngx_rooms_records_seq[worker], worker, n);
    }
}
