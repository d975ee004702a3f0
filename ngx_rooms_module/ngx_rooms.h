
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms.h: declarations shared by the files of the nginx module.
 *
 * Owns: the module's configuration records, the shared-memory directory
 * context and the entry points each file offers the others.  Must never
 * carry protocol or storage rules: those live in common/.
 */


#ifndef _NGX_ROOMS_H_INCLUDED_
#define _NGX_ROOMS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "rooms_limits.h"
#include "rooms_proto.h"
#include "rooms_room.h"
#include "rooms_store.h"
#include "rooms_token.h"


/* statuses nginx has no name for */
#define NGX_ROOMS_HTTP_GONE                  410
#define NGX_ROOMS_HTTP_UNPROCESSABLE_ENTITY  422

/* directory results besides NGX_OK, NGX_DECLINED (unknown) and NGX_ERROR */
#define NGX_ROOMS_GONE      1
#define NGX_ROOMS_REFUSED   2

/*
 * What a change callback asks the directory to do: values apart from the
 * results above, so a refusal can never be read as an action.
 */
#define NGX_ROOMS_KEEP      16
#define NGX_ROOMS_UPDATE    17
#define NGX_ROOMS_ROTATE    18
#define NGX_ROOMS_END       19

/* what ngx_rooms_media_room() tells the media worker: bits */
#define NGX_ROOMS_MEDIA_LOCKED       1   /* its locked state, as it is now */
#define NGX_ROOMS_MEDIA_ENDED        2   /* alone (or with REASON) */
#define NGX_ROOMS_MEDIA_ADMISSION    4   /* its admission, as it is now */
#define NGX_ROOMS_MEDIA_MAX          8   /* its cap, as it is now */
#define NGX_ROOMS_MEDIA_HOST_ABSENT  16  /* its policy, as it is now */
#define NGX_ROOMS_MEDIA_REASON       32  /* "reason":"host_absent" */


typedef struct {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  queue;          /* LRU, newest at head */
    uint32_t                     store_crc;      /* which store is cached */
    ngx_uint_t                   nodes;
} ngx_rooms_shctx_t;


typedef struct {
    ngx_rooms_shctx_t           *sh;
    ngx_slab_pool_t             *shpool;
    ngx_str_t                    store_path;
} ngx_rooms_zone_ctx_t;


typedef struct {
    ngx_shm_zone_t              *shm_zone;
    ngx_str_t                    store_path;
    rooms_store_t               *store;          /* this process's handle */
    ngx_str_t                    media_socket;   /* empty: no media worker */

    /* where the first "rooms" directive is, to point errors at it */
    ngx_str_t                    rooms_file;
    ngx_uint_t                   rooms_line;
} ngx_rooms_main_conf_t;


typedef struct {
    ngx_flag_t                   enable;
    ngx_str_t                    prefix;         /* location, ends in '/' */
    ngx_str_t                    base_url;       /* empty: from request */
    ngx_uint_t                   max_participants;
    ngx_msec_t                   host_grace;     /* rooms_host_grace */
    ngx_uint_t                   video_slots;    /* rooms_video_slots */
} ngx_rooms_loc_conf_t;


/*
 * A change callback runs under the directory lock on a copy of the
 * current record.  It returns NGX_ROOMS_KEEP, UPDATE, ROTATE or END to
 * say what to persist, or NGX_ROOMS_REFUSED (having noted why in data).
 */
typedef ngx_int_t (*ngx_rooms_change_pt)(rooms_room_t *room, void *data);


/* a file of the web client, embedded at ./configure time */
typedef struct {
    ngx_str_t                    name;
    ngx_str_t                    type;
    ngx_str_t                    body;
} ngx_rooms_asset_t;


extern ngx_module_t       ngx_rooms_module;
extern ngx_rooms_asset_t  ngx_rooms_assets[];


ngx_int_t ngx_rooms_zone_init(ngx_shm_zone_t *shm_zone, void *data);

/*
 * Fills room with the record whose current code is code (ROOMS_CODE_LEN
 * bytes).  Returns NGX_OK, NGX_DECLINED, NGX_ROOMS_GONE or NGX_ERROR.
 */
ngx_int_t ngx_rooms_dir_get(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    u_char *code, rooms_room_t *room);

/* Stores a new room (code, key hash and fields set) and caches it. */
ngx_int_t ngx_rooms_dir_create(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    rooms_room_t *room);

/*
 * Runs handler on the current record under the directory lock and
 * persists what it asks for: first the store, then shared memory, so no
 * worker ever sees a change that is not durable.  room receives the
 * record as it is afterwards.  Returns NGX_OK, NGX_DECLINED,
 * NGX_ROOMS_GONE, NGX_ROOMS_REFUSED or NGX_ERROR.
 */
ngx_int_t ngx_rooms_dir_change(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    u_char *code, ngx_rooms_change_pt handler, void *data,
    rooms_room_t *room);

/*
 * A COUNT record: the room with store id room_id has count people now.
 * code (len bytes) is the code the media worker knows it by; when a
 * rotation retired it, the current one is read from the store by id.  A
 * room that is not cached is loaded like any lookup, so the count is
 * never lost to an eviction (and a room with people in it is never
 * evicted).  Holds the zone mutex.  Returns NGX_OK, NGX_DECLINED (no such
 * room, or no place in the zone) or NGX_ERROR.
 */
ngx_int_t ngx_rooms_dir_count(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *code, size_t len, ngx_uint_t count);

/* The link to the media worker is lost: every cached room has 0 people. */
void ngx_rooms_dir_counts_reset(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log);

ngx_int_t ngx_rooms_api_handler(ngx_http_request_t *r);

/*
 * A host's change (NGX_ROOMS_UPDATE with patch, ROTATE or END) to the room
 * whose current code is code, from the API or a host's WebSocket.  hash
 * is the SHA-256 of the host key presented, checked again under the
 * directory lock.  With cohost set, hash is a co-host key's instead: it
 * must be an active co-host credential of the room (asked of the store
 * under the directory lock), and the change may only be a patch of
 * "locked"; anything else is refused not_host.  Once stored, a lock or an
 * end is passed on to the people in the room (ngx_rooms_media_room).
 * Returns what ngx_rooms_dir_change() returns; err is set on
 * NGX_ROOMS_REFUSED.
 */
ngx_int_t ngx_rooms_host_change(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    u_char *code, u_char *hash, ngx_uint_t cohost, ngx_uint_t action,
    rooms_patch_t *patch, rooms_room_t *room, rooms_error_t *err);

/*
 * The WebSocket endpoint of a room that exists (ngx_rooms_ws.c).  Returns
 * what the content handler returns (NGX_DONE once the connection is
 * upgraded), or NGX_DECLINED with err set when the handshake is refused:
 * the caller sends err as the API's other errors.
 */
ngx_int_t ngx_rooms_ws_handler(ngx_http_request_t *r, rooms_room_t *room,
    rooms_error_t *err);

/* this process's WebSocket registry, set up in init_process */
void ngx_rooms_ws_init_process(ngx_cycle_t *cycle);

/*
 * Called by the media link: a record from the media worker about one of
 * this process's WebSockets, and the loss of the link (every joined
 * WebSocket is closed with 1012).
 */
void ngx_rooms_ws_deliver(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
void ngx_rooms_ws_media_down(void);

/*
 * The link to the media worker (ngx_rooms_media.c), one per nginx worker
 * process.  path is the control socket; a NULL path leaves the link off,
 * so that joins are refused.
 */
ngx_int_t ngx_rooms_media_init_process(ngx_cycle_t *cycle, ngx_str_t *path);
void ngx_rooms_media_exit_process(ngx_cycle_t *cycle);

/* A fresh connection id, or 0 while the link is down. */
uint64_t ngx_rooms_media_conn_id(void);

/*
 * Queues a record for the media worker and rings its doorbell.  Returns
 * NGX_OK; NGX_DECLINED when the link is down (or id belongs to an earlier
 * link); NGX_BUSY when the ring is full (never blocks); NGX_ERROR when the
 * record can never fit.
 */
ngx_int_t ngx_rooms_media_push(uint16_t type, uint64_t id,
    const void *payload, size_t len);

/* Tells the media worker that id's WebSocket is gone; retried if full. */
void ngx_rooms_media_leave(uint64_t id);

/*
 * Tells the media worker what changed in room, for the people in it and
 * those waiting in its lobby: a ROOM record, always with the room's
 * revision ("rev").  what is NGX_ROOMS_MEDIA_ENDED, or any of
 * NGX_ROOMS_MEDIA_LOCKED, NGX_ROOMS_MEDIA_ADMISSION, NGX_ROOMS_MEDIA_MAX
 * and NGX_ROOMS_MEDIA_HOST_ABSENT (each sent as room has it now); either
 * may carry NGX_ROOMS_MEDIA_REASON when a host-absent policy caused it.
 * Returns what ngx_rooms_media_push() returns.
 */
ngx_int_t ngx_rooms_media_room(rooms_room_t *room, ngx_uint_t what,
    ngx_log_t *log);

/*
 * A ROOM record that makes the co-host whose guest token hashes to
 * token_hash a guest again (its credential was revoked): {"room","rev",
 * "demote"}.  Returns what ngx_rooms_media_push() returns.
 */
ngx_int_t ngx_rooms_media_demote(rooms_room_t *room, u_char *token_hash,
    ngx_log_t *log);

ngx_int_t ngx_rooms_page_index(ngx_http_request_t *r);
ngx_int_t ngx_rooms_page_room(ngx_http_request_t *r, ngx_uint_t status,
    rooms_room_t *room);
ngx_int_t ngx_rooms_page_asset(ngx_http_request_t *r, ngx_str_t *name);
ngx_int_t ngx_rooms_page_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *title, const char *text);


#endif /* _NGX_ROOMS_H_INCLUDED_ */
