
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_module.c: the module's directives, configuration and process
 * lifecycle.
 *
 * Owns: parsing and checking every rooms_* directive at "nginx -t", the
 * shared zone's registration, the content handler of "rooms" locations
 * (the router's), the registration of the media worker's record handlers
 * at postconfiguration (the signaling's and the control's), and the
 * order of each process's start and end: the store handle, the WebSocket
 * registry and the media link, each opened by its own file.  Must never
 * serve requests (that is ngx_rooms_router.c and below), and never touch
 * the store itself.
 * May not: call rooms_store_, call json_, include jansson.h, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_dir_get, call ngx_rooms_dir_change, call ngx_rooms_dir_add, call ngx_rooms_api_, call ngx_rooms_page_, call ngx_rooms_media_push, call ngx_rooms_ws_send, call ngx_rooms_ws_close
 */


#include "ngx_rooms.h"
#include "ngx_rooms_control.h"
#include "ngx_rooms_directory.h"
#include "ngx_rooms_identity.h"
#include "ngx_rooms_media.h"
#include "ngx_rooms_metrics.h"
#include "ngx_rooms_people.h"
#include "ngx_rooms_policy.h"
#include "ngx_rooms_records.h"
#include "ngx_rooms_router.h"
#include "ngx_rooms_schedule.h"
#include "ngx_rooms_signal.h"
#include "ngx_rooms_tray.h"
#include "ngx_rooms_turn.h"
#include "ngx_rooms_webhook.h"
#include "ngx_rooms_ws.h"


static ngx_int_t ngx_rooms_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_rooms_init_process(ngx_cycle_t *cycle);
static void ngx_rooms_exit_process(ngx_cycle_t *cycle);
static void *ngx_rooms_create_main_conf(ngx_conf_t *cf);
static void *ngx_rooms_create_loc_conf(ngx_conf_t *cf);
static char *ngx_rooms_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_rooms_postconfiguration(ngx_conf_t *cf);
static char *ngx_rooms_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_rooms_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_rooms_expire(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_rooms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_rooms_base_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_rooms_conf_set_range(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_rooms_host_grace(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_rooms_media_socket(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


/*
 * The cap is 50 unless the admin raises it; ROOMS_PARTICIPANTS_LIMIT is a
 * sanity bound on what one room may ask of the media worker.
 */
static ngx_conf_num_bounds_t  ngx_rooms_max_participants_range = {
    NULL, ROOMS_PARTICIPANTS_MIN, ROOMS_PARTICIPANTS_LIMIT
};

/*
 * How many remote videos one participant receives at most: the offer of
 * a 50-person room stays inside the signaling message limit up to 16
 * (docs/protocol.md, "Who you see and hear"); fewer saves bandwidth on
 * small screens and slow links.
 */
static ngx_conf_num_bounds_t  ngx_rooms_video_slots_range = {
    NULL, 1, ROOMS_VIDEO_SLOTS_MAX
};

/*
 * How many of the loudest others one participant hears at once, each on
 * its own audio line (docs/protocol.md, "Who you see and hear").
 */
static ngx_conf_num_bounds_t  ngx_rooms_audio_slots_range = {
    NULL, 1, ROOMS_AUDIO_SLOTS_MAX
};


static ngx_command_t  ngx_rooms_commands[] = {

    { ngx_string("rooms_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_rooms_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_rooms_store,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_expire"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_rooms_expire,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_webhook"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_rooms_webhook_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_reminder"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_rooms_schedule_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_turn"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_rooms_turn_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_turn_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_rooms_turn_secret_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_turn_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_rooms_turn_ttl_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_policy"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_rooms_policy_directive,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_media_socket"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_rooms_media_socket,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_rooms,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_rooms_metrics_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_base_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_rooms_base_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_max_participants"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_rooms_conf_set_range,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_rooms_loc_conf_t, max_participants),
      &ngx_rooms_max_participants_range },

    { ngx_string("rooms_host_grace"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_rooms_host_grace,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("rooms_video_slots"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_rooms_conf_set_range,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_rooms_loc_conf_t, video_slots),
      &ngx_rooms_video_slots_range },

    { ngx_string("rooms_audio_slots"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_rooms_conf_set_range,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_rooms_loc_conf_t, audio_slots),
      &ngx_rooms_audio_slots_range },

    { ngx_string("rooms_user"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_rooms_loc_conf_t, user),
      NULL },

    { ngx_string("rooms_user_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_rooms_loc_conf_t, user_name),
      NULL },

    { ngx_string("rooms_user_groups"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_rooms_loc_conf_t, user_groups),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_rooms_module_ctx = {
    ngx_rooms_identity_add_variables,      /* preconfiguration */
    ngx_rooms_postconfiguration,           /* postconfiguration */

    ngx_rooms_create_main_conf,            /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_rooms_create_loc_conf,             /* create location configuration */
    ngx_rooms_merge_loc_conf               /* merge location configuration */
};


ngx_module_t  ngx_rooms_module = {
    NGX_MODULE_V1,
    &ngx_rooms_module_ctx,                 /* module context */
    ngx_rooms_commands,                    /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_rooms_init_module,                 /* init module */
    ngx_rooms_init_process,                /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_rooms_exit_process,                /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_rooms_main_conf_t *
ngx_rooms_cycle_conf(ngx_cycle_t *cycle)
{
    ngx_http_conf_ctx_t  *ctx;

    ctx = (ngx_http_conf_ctx_t *) cycle->conf_ctx[ngx_http_module.index];
    if (ctx == NULL) {
        return NULL;
    }

    return ctx->main_conf[ngx_rooms_module.ctx_index];
}


/*
 * Runs in the master (and under "nginx -t") before workers exist: opening
 * the store here creates it, migrates its schema and proves it usable, so
 * a wrong path fails the configuration test instead of the first request
 * (ngx_rooms_control_init_module()).  Running as root, the file is then
 * handed to the worker user, who writes it.
 */
static ngx_int_t ngx_rooms_store_folder(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf, ngx_core_conf_t *ccf);


static ngx_int_t
ngx_rooms_init_module(ngx_cycle_t *cycle)
{
    ngx_core_conf_t        *ccf;
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_rooms_cycle_conf(cycle);

    if (rmcf == NULL || rmcf->store_path.len == 0) {
        return NGX_OK;
    }

    if (ngx_rooms_control_init_module(cycle, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* a PostgreSQL store has no file or folder here */
    if (rooms_db_is_uri((char *) rmcf->store_path.data)) {
        return NGX_OK;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (geteuid() == 0 && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        if (chown((char *) rmcf->store_path.data, ccf->user, ccf->group)
            == -1)
        {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                          "chown(\"%V\") failed", &rmcf->store_path);
            return NGX_ERROR;
        }

        return ngx_rooms_store_folder(cycle, rmcf, ccf);
    }

    return NGX_OK;
}


/*
 * Root writes anywhere, so "nginx -t" as root proves nothing about the
 * workers: the store's folder must be writable and searchable by the
 * worker user, since SQLite creates the -wal and -shm files there.  Its
 * mode bits are checked for that user and group (an ACL that grants
 * more is not seen: give the user the folder, or its group).
 */
static ngx_int_t
ngx_rooms_store_folder(ngx_cycle_t *cycle, ngx_rooms_main_conf_t *rmcf,
    ngx_core_conf_t *ccf)
{
    u_char           *p, dir[NGX_MAX_PATH];
    ngx_uint_t        ok;
    ngx_file_info_t   fi;

    if (rmcf->store_path.len >= NGX_MAX_PATH) {
        return NGX_OK;
    }

    p = ngx_cpystrn(dir, rmcf->store_path.data, rmcf->store_path.len + 1);

    while (p > dir && *(p - 1) != '/') {
        p--;
    }

    if (p == dir) {
        /* a relative name without folder is under nginx's prefix */
        return NGX_OK;
    }

    *(p == dir + 1 ? p : p - 1) = '\0';

    if (ngx_file_info(dir, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      ngx_file_info_n " \"%s\" failed", dir);
        return NGX_ERROR;
    }

    if (fi.st_uid == ccf->user) {
        ok = (fi.st_mode & (S_IWUSR | S_IXUSR)) == (S_IWUSR | S_IXUSR);

    } else if (fi.st_gid == ccf->group) {
        ok = (fi.st_mode & (S_IWGRP | S_IXGRP)) == (S_IWGRP | S_IXGRP);

    } else {
        ok = (fi.st_mode & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH);
    }

    if (!ok) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "rooms_store \"%V\" cannot be written by the worker "
                      "user \"%s\": its folder \"%s\" (mode 0%c%c%c, owner "
                      "%ui:%ui) is not writable by that user, and SQLite "
                      "creates the store's -wal and -shm files there",
                      &rmcf->store_path, ccf->username, dir,
                      '0' + ((fi.st_mode >> 6) & 7),
                      '0' + ((fi.st_mode >> 3) & 7), '0' + (fi.st_mode & 7),
                      (ngx_uint_t) fi.st_uid, (ngx_uint_t) fi.st_gid);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Each worker opens its own store handle and its own link to the media
 * worker; neither can be inherited across fork().
 */
static ngx_int_t
ngx_rooms_init_process(ngx_cycle_t *cycle)
{
    ngx_rooms_main_conf_t  *rmcf;

    ngx_rooms_ws_init_process(cycle);
    ngx_rooms_metrics_init_process(cycle);
    ngx_rooms_tray_init_process(cycle);

    rmcf = ngx_rooms_cycle_conf(cycle);

    if (rmcf == NULL || rmcf->store_path.len == 0) {
        return ngx_rooms_media_init_process(cycle, NULL);
    }

    if (ngx_rooms_control_init_process(cycle, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_rooms_webhook_init_process(cycle, rmcf);
    ngx_rooms_schedule_init_process(cycle, rmcf);
    ngx_rooms_people_init_process(cycle);

    return ngx_rooms_media_init_process(cycle, &rmcf->media_socket);
}


static void
ngx_rooms_exit_process(ngx_cycle_t *cycle)
{
    ngx_rooms_main_conf_t  *rmcf;

    ngx_rooms_media_exit_process(cycle);
    ngx_rooms_webhook_exit_process();
    ngx_rooms_schedule_exit_process();
    ngx_rooms_tray_exit_process();

    rmcf = ngx_rooms_cycle_conf(cycle);

    if (rmcf != NULL) {
        ngx_rooms_control_exit_process(rmcf);
    }
}


static void *
ngx_rooms_create_main_conf(ngx_conf_t *cf)
{
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_rooms_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rmcf->shm_zone = NULL;
     *     rmcf->store_path = { 0, NULL };
     *     rmcf->store = NULL;
     *     rmcf->media_socket = { 0, NULL };
     *     rmcf->rooms_file = { 0, NULL };
     *     rmcf->rooms_line = 0;
     *     rmcf->records[] = { NULL, ... };
     *     rmcf->nlink_down = 0;
     *     rmcf->expire_ev = { 0 };
     *     rmcf->webhook = NULL;
     *     rmcf->webhook_secret = { 0, NULL };
     *     rmcf->turn_urls = NULL;
     *     rmcf->turn_secret = { 0, NULL };
     *     rmcf->policy = NULL;
     */

    rmcf->expire = NGX_CONF_UNSET;
    rmcf->reminder = NGX_CONF_UNSET;
    rmcf->turn_ttl = NGX_CONF_UNSET;

    return rmcf;
}


static void *
ngx_rooms_create_loc_conf(ngx_conf_t *cf)
{
    ngx_rooms_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_rooms_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->prefix = { 0, NULL };
     *     conf->base_url = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;
    conf->max_participants = NGX_CONF_UNSET_UINT;
    conf->host_grace = NGX_CONF_UNSET_MSEC;
    conf->video_slots = NGX_CONF_UNSET_UINT;
    conf->audio_slots = NGX_CONF_UNSET_UINT;
    conf->user = NGX_CONF_UNSET_PTR;
    conf->user_name = NGX_CONF_UNSET_PTR;
    conf->user_groups = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_rooms_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_rooms_loc_conf_t *prev = parent;
    ngx_rooms_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->base_url, prev->base_url, "");
    ngx_conf_merge_uint_value(conf->max_participants,
                              prev->max_participants,
                              ROOMS_PARTICIPANTS_DEFAULT);
    ngx_conf_merge_msec_value(conf->host_grace, prev->host_grace,
                              ROOMS_HOST_GRACE_DEFAULT);
    ngx_conf_merge_uint_value(conf->video_slots, prev->video_slots,
                              ROOMS_VIDEO_SLOTS_DEFAULT);
    ngx_conf_merge_uint_value(conf->audio_slots, prev->audio_slots,
                              ROOMS_AUDIO_SLOTS_DEFAULT);
    ngx_conf_merge_ptr_value(conf->user, prev->user, NULL);
    ngx_conf_merge_ptr_value(conf->user_name, prev->user_name, NULL);
    ngx_conf_merge_ptr_value(conf->user_groups, prev->user_groups, NULL);

    if (conf->user == NULL && (conf->user_name || conf->user_groups)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rooms_user_name\" and \"rooms_user_groups\" "
                           "need \"rooms_user\" (who the person is) in "
                           "the same or an enclosing block");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The media worker's records go to the handlers the signaling and the
 * control register here, as nginx-rtmp-module's modules register theirs.
 * "rooms" needs the zone and the store, which may be written after the
 * locations in the http block: the check waits until the block is read.
 */
static ngx_int_t
ngx_rooms_postconfiguration(ngx_conf_t *cf)
{
    ngx_rooms_zone_ctx_t   *ctx;
    ngx_rooms_main_conf_t  *rmcf;

    if (ngx_rooms_signal_init(cf) != NGX_OK
        || ngx_rooms_records_init(cf) != NGX_OK
        || ngx_rooms_metrics_init(cf) != NGX_OK
        || ngx_rooms_router_init_filters(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_rooms_module);

    /*
     * the zone keeps the store it caches by name: a PostgreSQL URI
     * without its password, so that a new password is the same store
     */
    if (rmcf->shm_zone) {
        ctx = rmcf->shm_zone->data;
        ctx->store_path = rmcf->store_name;
    }

    if (rmcf->expire == NGX_CONF_UNSET) {
        rmcf->expire = NGX_ROOMS_EXPIRE_DEFAULT;
    }

    if (rmcf->reminder == NGX_CONF_UNSET) {
        rmcf->reminder = NGX_ROOMS_REMINDER_DEFAULT;
    }

    if (ngx_rooms_turn_init(cf, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (rmcf->webhook != NULL
        && (rmcf->shm_zone == NULL || rmcf->store_path.len == 0))
    {
        /* the outbox is in the store */
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"rooms_webhook\" needs \"rooms_zone\" and "
                      "\"rooms_store\" in the http block");
        return NGX_ERROR;
    }

    if (rmcf->rooms_line == 0) {
        return NGX_OK;
    }

    if (rmcf->shm_zone == NULL || rmcf->store_path.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"rooms\" in %V:%ui needs \"rooms_zone\" and "
                      "\"rooms_store\" in the http block",
                      &rmcf->rooms_file, rmcf->rooms_line);
        return NGX_ERROR;
    }

    /* who is present where, for the tray */
    return ngx_rooms_people_init(cf);
}


static char *
ngx_rooms_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    u_char                *p;
    ssize_t                size;
    ngx_str_t             *value, name, s;
    ngx_rooms_zone_ctx_t  *ctx;

    if (rmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rooms_zone \"%V\", expected "
                           "\"name:size\", such as \"rooms:10m\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - value[1].data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rooms_zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    /* the slab allocator needs a few pages of its own to be of any use */
    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_zone \"%V\" is too small, at least %uzk "
                           "is needed", &value[1], 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_rooms_zone_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    rmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_rooms_module);
    if (rmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (rmcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    rmcf->shm_zone->init = ngx_rooms_zone_init;
    rmcf->shm_zone->data = ctx;

    return NGX_CONF_OK;
}


/*
 * rooms_expire time | off: rooms ended, or with nobody in them, for
 * longer than time are purged from the store (ngx_rooms_control.c).  At
 * least a day, so that a room is never purged under a call.
 */
static char *
ngx_rooms_expire(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    time_t      t;
    ngx_str_t  *value;

    if (rmcf->expire != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        rmcf->expire = 0;
        return NGX_CONF_OK;
    }

    t = ngx_parse_time(&value[1], 1);

    if (t == (time_t) NGX_ERROR || t < NGX_ROOMS_EXPIRE_MIN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_expire must be \"off\" or a time of at "
                           "least 1d, such as \"30d\", not \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    rmcf->expire = t;

    return NGX_CONF_OK;
}


static char *
ngx_rooms_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    ngx_str_t  *value;

    if (rmcf->store_path.len) {
        return "is duplicate";
    }

    value = cf->args->elts;
    rmcf->store_path = value[1];

    if (rmcf->store_path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_store needs the path of an SQLite file "
                           "or a postgresql:// URI");
        return NGX_CONF_ERROR;
    }

    /*
     * A PostgreSQL URI is kept as it is (zero-terminated, as every
     * directive argument): libpq reads it.  Logs show it without its
     * password.
     */
    if (rooms_db_is_uri((char *) rmcf->store_path.data)) {
        rmcf->store_name.data = ngx_pnalloc(cf->pool,
                                            rmcf->store_path.len + 1);
        if (rmcf->store_name.data == NULL) {
            return NGX_CONF_ERROR;
        }

        rooms_db_redact((char *) rmcf->store_path.data,
                        (char *) rmcf->store_name.data,
                        rmcf->store_path.len + 1);
        rmcf->store_name.len = ngx_strlen(rmcf->store_name.data);

        return NGX_CONF_OK;
    }

    /* a zero-terminated full path: SQLite takes C strings */
    if (ngx_conf_full_name(cf->cycle, &rmcf->store_path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rmcf->store_name = rmcf->store_path;

    return NGX_CONF_OK;
}


static char *
ngx_rooms(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_loc_conf_t *rlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;
    ngx_rooms_main_conf_t     *rmcf;

    if (rlcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /*
     * Links are built from the location's prefix, so only a plain prefix
     * location can hold the service.
     */
    if (clcf->named
#if (NGX_PCRE)
        || clcf->regex
#endif
        || clcf->exact_match
        || clcf->name.len == 0 || clcf->name.data[0] != '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"rooms\" must be in a prefix location, "
                           "such as \"location / { rooms; }\" or "
                           "\"location /rooms/ { rooms; }\"");
        return NGX_CONF_ERROR;
    }

    rlcf->enable = 1;
    rlcf->prefix = clcf->name;

    if (rlcf->prefix.data[rlcf->prefix.len - 1] != '/') {
        rlcf->prefix.data = ngx_pnalloc(cf->pool, clcf->name.len + 1);
        if (rlcf->prefix.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(rlcf->prefix.data, clcf->name.data, clcf->name.len);
        rlcf->prefix.data[clcf->name.len] = '/';
        rlcf->prefix.len = clcf->name.len + 1;
    }

    clcf->handler = ngx_rooms_router_handler;

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_rooms_module);

    if (rmcf->rooms_line == 0) {
        rmcf->rooms_file = cf->conf_file->file.name;
        rmcf->rooms_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}


/*
 * The base URL goes verbatim into every invite link: it must be an
 * absolute http(s) URL with a host, and nothing a browser would reparse
 * (query, fragment, spaces, quotes).  A trailing slash is dropped.
 */
static char *
ngx_rooms_base_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_loc_conf_t *rlcf = conf;

    size_t      i, skip;
    ngx_str_t  *value, url;

    if (rlcf->base_url.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    url = value[1];

    if (url.len >= sizeof("https://") - 1
        && ngx_strncasecmp(url.data, (u_char *) "https://", 8) == 0)
    {
        skip = 8;

    } else if (url.len >= sizeof("http://") - 1
               && ngx_strncasecmp(url.data, (u_char *) "http://", 7) == 0)
    {
        skip = 7;

    } else {
        goto invalid;
    }

    while (url.len > skip && url.data[url.len - 1] == '/') {
        url.len--;
    }

    if (url.len == skip || url.len > ROOMS_BASE_URL_MAX
        || url.data[skip] == '/')
    {
        goto invalid;
    }

    for (i = skip; i < url.len; i++) {
        if (url.data[i] <= 0x20 || url.data[i] >= 0x7f
            || ngx_strchr("?#\"'<>\\`", url.data[i]) != NULL)
        {
            goto invalid;
        }
    }

    rlcf->base_url = url;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid rooms_base_url \"%V\", expected an "
                       "absolute URL such as \"https://rooms.example.com\" "
                       "(no query or fragment, at most %d characters)",
                       &value[1], ROOMS_BASE_URL_MAX);

    return NGX_CONF_ERROR;
}


/*
 * A number directive with bounds (cmd->post, an ngx_conf_num_bounds_t
 * whose post_handler is unused) into an ngx_uint_t field at cmd->offset:
 * a value out of bounds fails "nginx -t" with the range.
 */
static char *
ngx_rooms_conf_set_range(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_int_t               n;
    ngx_str_t              *value;
    ngx_uint_t             *field;
    ngx_conf_num_bounds_t  *range;

    field = (ngx_uint_t *) (p + cmd->offset);
    range = cmd->post;

    if (*field != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n < range->low || n > range->high) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %V \"%V\", expected a number from %i "
                           "to %i", &cmd->name, &value[1], range->low,
                           range->high);
        return NGX_CONF_ERROR;
    }

    *field = (ngx_uint_t) n;

    return NGX_CONF_OK;
}


/*
 * How long the last host or co-host may be gone, dropped rather than
 * gone by "leave", before the room's host-absent policy applies
 * (docs/protocol.md).  It travels in every JOIN ("grace", in ms), so the
 * media worker applies the value of the location the host joined
 * through.  0 applies the policy at once; 10 minutes is the most.
 */
static char *
ngx_rooms_host_grace(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_loc_conf_t *rlcf = conf;

    ngx_msec_t  ms;
    ngx_str_t  *value;

    if (rlcf->host_grace != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ms = ngx_parse_time(&value[1], 0);

    if (ms == (ngx_msec_t) NGX_ERROR || ms > ROOMS_HOST_GRACE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rooms_host_grace \"%V\", expected a "
                           "time from 0s to %ds, such as \"30s\"",
                           &value[1], ROOMS_HOST_GRACE_MAX / 1000);
        return NGX_CONF_ERROR;
    }

    rlcf->host_grace = ms;

    return NGX_CONF_OK;
}


/*
 * The media worker's control socket.  It need not exist yet: the media
 * worker is its own service, which may start after nginx; each nginx
 * worker connects, and reconnects, on its own.  The path must fit a unix
 * socket address.
 */
static char *
ngx_rooms_media_socket(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_rooms_main_conf_t *rmcf = conf;

    ngx_str_t           *value, path;
    struct sockaddr_un   sun;

    if (rmcf->media_socket.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (path.len >= 5 && ngx_strncmp(path.data, "unix:", 5) == 0) {
        path.data += 5;
        path.len -= 5;
    }

    if (path.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_media_socket needs the path of the media "
                           "worker's unix socket");
        return NGX_CONF_ERROR;
    }

    /* zero-terminated, relative to the prefix */
    if (ngx_conf_full_name(cf->cycle, &path, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* and room for ".63", the sockets of the other media workers */
    if (path.len + 3 >= sizeof(sun.sun_path)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "rooms_media_socket \"%V\" is too long for a "
                           "unix socket, at most %uz bytes are allowed",
                           &path, sizeof(sun.sun_path) - 4);
        return NGX_CONF_ERROR;
    }

    rmcf->media_socket = path;

    return NGX_CONF_OK;
}
