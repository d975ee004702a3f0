
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms.h: declarations shared by the files of the nginx module.
 *
 * Owns: the module's configuration records (with the record handlers
 * registered at postconfiguration), the shared-memory directory context,
 * and the results every layer passes up (NGX_ROOMS_GONE,
 * NGX_ROOMS_REFUSED, NGX_ROOMS_BUSY).  Each file's entry points are in its own header
 * (ngx_rooms_<file>.h), so a file can call only what it includes.
 * Must never carry protocol or storage rules (those live in common/), and
 * never declare another file's functions.
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
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

/*
 * results besides NGX_OK, NGX_DECLINED (unknown) and NGX_ERROR: the code
 * was retired by a rotation; the change was refused (why is noted); the
 * store's write lock is held by another process (nothing changed: try
 * again later)
 */
#define NGX_ROOMS_GONE      1
#define NGX_ROOMS_REFUSED   2
#define NGX_ROOMS_BUSY      3

/* rooms_expire: its default, its least value, and how often it runs */
#define NGX_ROOMS_EXPIRE_DEFAULT     (30 * 86400)
#define NGX_ROOMS_EXPIRE_MIN         86400
#define NGX_ROOMS_EXPIRE_EVERY       (3600 * 1000)

/* the record types a handler may be registered for (rooms_proto_type_e) */
#define NGX_ROOMS_RECORD_TYPES       16
#define NGX_ROOMS_LINK_DOWN_MAX      4


/*
 * What the link to the media worker (ngx_rooms_media.c) calls: a record
 * of one type, and the loss of the link.  Registered at postconfiguration
 * by the files that handle them, as nginx-rtmp-module registers its event
 * handlers; the link knows nobody by name.  payload is in shared memory:
 * a handler reads each byte once.
 */
typedef void (*ngx_rooms_record_pt)(const rooms_proto_hdr_t *hdr,
    const u_char *payload);
typedef void (*ngx_rooms_link_down_pt)(ngx_uint_t worker, ngx_uint_t n);


typedef struct {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  queue;          /* LRU, newest at head */
    uint32_t                     store_crc;      /* which store is cached */
    ngx_uint_t                   nodes;
    ngx_atomic_t                 webhook_sender; /* its pid; 0: none */
    ngx_atomic_t                 cycles;         /* reloads that kept it */
} ngx_rooms_shctx_t;


/* the site's rules in Lua (ngx_rooms_policy.c), opaque elsewhere */
typedef struct ngx_rooms_policy_s  ngx_rooms_policy_t;


typedef struct {
    ngx_rooms_shctx_t           *sh;
    ngx_slab_pool_t             *shpool;
    ngx_str_t                    store_path;
} ngx_rooms_zone_ctx_t;


typedef struct {
    ngx_shm_zone_t              *shm_zone;
    ngx_str_t                    store_path;     /* a file or a URI */
    ngx_str_t                    store_name;     /* as logs show it */
    rooms_store_t               *store;          /* this process's handle */
    ngx_str_t                    media_socket;   /* empty: no media worker */
    time_t                       expire;         /* rooms_expire; 0: off */
    ngx_event_t                  expire_ev;      /* worker 0's hourly run */
    ngx_url_t                   *webhook;        /* rooms_webhook; or NULL */
    ngx_str_t                    webhook_secret;
    time_t                       reminder;       /* rooms_reminder, s */
    ngx_array_t                 *turn_urls;      /* rooms_turn; or NULL */
    ngx_str_t                    turn_secret;    /* never logged */
    time_t                       turn_ttl;       /* rooms_turn_ttl */
    ngx_rooms_policy_t          *policy;         /* rooms_policy; or NULL */

    /* where the first "rooms" directive is, to point errors at it */
    ngx_str_t                    rooms_file;
    ngx_uint_t                   rooms_line;

    /* filled at postconfiguration through ngx_rooms_media_on_*() */
    ngx_rooms_record_pt          records[NGX_ROOMS_RECORD_TYPES];
    ngx_rooms_link_down_pt       link_down[NGX_ROOMS_LINK_DOWN_MAX];
    ngx_uint_t                   nlink_down;
} ngx_rooms_main_conf_t;


typedef struct {
    ngx_flag_t                   enable;
    ngx_str_t                    prefix;         /* location, ends in '/' */
    ngx_str_t                    base_url;       /* empty: from request */
    ngx_uint_t                   max_participants;
    ngx_msec_t                   host_grace;     /* rooms_host_grace */
    ngx_uint_t                   video_slots;    /* rooms_video_slots */
    ngx_uint_t                   audio_slots;    /* rooms_audio_slots */

    /* who is asking (ngx_rooms_identity.c); NULL: not configured */
    ngx_http_complex_value_t    *user;           /* rooms_user */
    ngx_http_complex_value_t    *user_name;      /* rooms_user_name */
    ngx_http_complex_value_t    *user_groups;    /* rooms_user_groups */
} ngx_rooms_loc_conf_t;


/*
 * Who is asking: the signed-in person that the admin's rooms_user (with
 * rooms_user_name, rooms_user_groups) or the rooms_policy identify() hook
 * names.  id is empty for an anonymous browser, which is then known by its
 * guest token alone.  Allocated from the request's pool.
 */
typedef struct {
    ngx_str_t                    id;
    ngx_str_t                    name;
    ngx_array_t                 *groups;         /* of ngx_str_t; or NULL */
} ngx_rooms_user_t;


extern ngx_module_t  ngx_rooms_module;


#endif /* _NGX_ROOMS_H_INCLUDED_ */
