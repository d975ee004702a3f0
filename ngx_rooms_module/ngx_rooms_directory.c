
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_directory.c: the room directory every nginx worker sees.
 *
 * Owns: a write-through cache of room records in the shared zone (a red-
 * black tree keyed by code, with an LRU queue), over the SQLite store,
 * which stays the truth.  Every operation holds the zone mutex from
 * lookup to last write, so concurrent requests on different workers
 * serialize: a change is committed to the store first, then published in
 * shared memory.  A retired (rotated) code is cached as a small "gone"
 * node.  Must never hand out pointers into shared memory: callers get
 * copies.  Rooms with people in them are never evicted.
 *
 * The live participant count of each cached room is written here too,
 * from the media worker's COUNT records (ngx_rooms_dir_count()).  It is
 * never stored: SQLite does not know who is in a room, and a room loaded
 * from it has 0 people until the worker says otherwise.  Each count is
 * kept with the seq of the record that set it, and a record with a lower
 * seq is stale (common/rooms_proto.h, "The order"): every nginx worker
 * writes here from its own ring, and one that reads late must not undo
 * what another read earlier.  A RESYNC record's seq empties every room
 * whose count is as old or older (ngx_rooms_dir_counts_reset()).
 *
 * The store is read here (a cache miss, a room's current code by id) and
 * never written: a change is stored by the callback of ngx_rooms_dir_add()
 * or ngx_rooms_dir_change() (ngx_rooms_control.c), under the zone mutex,
 * and published here once it is durable.  Must never call up: it knows no
 * other file of the module but the counters it adds to (a store read that
 * failed, ngx_rooms_metrics.h), which read its totals in turn.
 * May not: call rooms_store_insert, call rooms_store_update, call rooms_store_rotate, call rooms_store_end, call rooms_store_ban, call rooms_store_cohost, call rooms_store_open, call rooms_store_close, call json_, include jansson.h, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_control_, call ngx_rooms_media_, call ngx_rooms_signal_, call ngx_rooms_ws_, call ngx_rooms_api_, call ngx_rooms_router_, call ngx_rooms_page_
 */


#include "ngx_rooms_directory.h"
#include "ngx_rooms_handles.h"
#include "ngx_rooms_shm.h"
#include "ngx_rooms_metrics.h"
#include "rooms_shard.h"


typedef struct {
    u_char                       color;
    u_char                       gone;
    u_char                       code[ROOMS_CODE_LEN];
    ngx_queue_t                  queue;
    rooms_room_t                 room;           /* absent in gone nodes */
    int64_t                      count_seq;      /* set room.participants */
    ngx_msec_t                   fetched;        /* read or written then */
} ngx_rooms_node_t;


/*
 * The layout of a node, checked with the store's path: nginx keeps the
 * zone across a reload, also one into a newer module, which must not read
 * nodes of another layout (it empties the cache instead: the store is
 * the truth, and the media worker sends every count again to the new
 * nginx workers).  Bump on any change to ngx_rooms_node_t or
 * rooms_room_t.  2: count_seq.  3: fetched.
 */
#define NGX_ROOMS_NODE_LAYOUT  "rooms node layout 3"

/*
 * How long a cached room is served before it is read from the store
 * again.  Several nodes may share one store (docs/scaling.md): a change
 * made on another node (a rotation, a lock, an end, a room expired)
 * reaches this node's cache within this bound, which matters when rooms
 * move between nodes (a node drained, added or removed) and for the node
 * that created a room the front then sends elsewhere.  At most one store
 * read per room in use a second per node; a store that cannot be read
 * then leaves the cached copy in use.
 */
#define NGX_ROOMS_FRESH_MS  1000

/* how many least recently used nodes one failed allocation may evict */
#define NGX_ROOMS_EVICT_MAX  16


static void ngx_rooms_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_rooms_node_t *ngx_rooms_lookup(ngx_rooms_zone_ctx_t *ctx,
    u_char *code);
static ngx_rooms_node_t *ngx_rooms_insert(ngx_rooms_zone_ctx_t *ctx,
    u_char *code, rooms_room_t *room, ngx_uint_t gone);
static void ngx_rooms_delete(ngx_rooms_zone_ctx_t *ctx,
    ngx_rooms_node_t *rn);
static ngx_int_t ngx_rooms_fetch(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, u_char *code, ngx_rooms_node_t **node,
    rooms_room_t *room);
static ngx_int_t ngx_rooms_count_code(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, int64_t room_id, u_char *code, ngx_uint_t count,
    int64_t seq, ngx_uint_t *opened);


#define ngx_rooms_node_of(rn)                                                 \
    ((ngx_rbtree_node_t *) ((u_char *) (rn)                                   \
                            - offsetof(ngx_rbtree_node_t, color)))

#define ngx_rooms_data_of(node)                                               \
    ((ngx_rooms_node_t *) &(node)->color)


ngx_int_t
ngx_rooms_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_rooms_zone_ctx_t  *octx = data;

    uint32_t               crc;
    ngx_queue_t           *q;
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = shm_zone->data;

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, ctx->store_path.data, ctx->store_path.len);
    ngx_crc32_update(&crc, (u_char *) NGX_ROOMS_NODE_LAYOUT,
                     sizeof(NGX_ROOMS_NODE_LAYOUT) - 1);
    ngx_crc32_final(crc);

    if (octx) {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        /* a new configuration takes the zone over (a reload, in the master) */
        (void) ngx_atomic_fetch_add(&ctx->sh->cycles, 1);

        /*
         * a reload that points at another store must not serve the old,
         * nor one into a module whose nodes differ read the old nodes
         */
        if (ctx->sh->store_crc != crc) {
            ngx_rooms_shm_lock(&ctx->shpool->mutex);

            while (!ngx_queue_empty(&ctx->sh->queue)) {
                q = ngx_queue_last(&ctx->sh->queue);
                rn = ngx_queue_data(q, ngx_rooms_node_t, queue);
                ngx_rooms_delete(ctx, rn);
            }

            ctx->sh->store_crc = crc;
            ctx->sh->webhook_sender = 0;

            ngx_rooms_shm_unlock(&ctx->shpool->mutex);
        }

        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;
        return NGX_OK;
    }

    ctx->sh = ngx_slab_alloc(ctx->shpool, sizeof(ngx_rooms_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_rooms_rbtree_insert_value);

    ngx_queue_init(&ctx->sh->queue);

    ctx->sh->store_crc = crc;
    ctx->sh->nodes = 0;
    ctx->sh->cycles = 0;

    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_rooms_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t  **p;
    ngx_rooms_node_t    *rn, *rnt;

    for ( ;; ) {

        if (node->key < temp->key) {

            p = &temp->left;

        } else if (node->key > temp->key) {

            p = &temp->right;

        } else { /* node->key == temp->key */

            rn = ngx_rooms_data_of(node);
            rnt = ngx_rooms_data_of(temp);

            p = (ngx_memcmp(rn->code, rnt->code, ROOMS_CODE_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_rooms_node_t *
ngx_rooms_lookup(ngx_rooms_zone_ctx_t *ctx, u_char *code)
{
    ngx_int_t           rc;
    uint32_t            hash;
    ngx_rbtree_node_t  *node, *sentinel;
    ngx_rooms_node_t   *rn;

    hash = ngx_crc32_short(code, ROOMS_CODE_LEN);

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key */

        rn = ngx_rooms_data_of(node);

        rc = ngx_memcmp(code, rn->code, ROOMS_CODE_LEN);

        if (rc == 0) {
            ngx_queue_remove(&rn->queue);
            ngx_queue_insert_head(&ctx->sh->queue, &rn->queue);
            return rn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_rooms_delete(ngx_rooms_zone_ctx_t *ctx, ngx_rooms_node_t *rn)
{
    ngx_queue_remove(&rn->queue);
    ngx_rbtree_delete(&ctx->sh->rbtree, ngx_rooms_node_of(rn));
    ngx_slab_free_locked(ctx->shpool, ngx_rooms_node_of(rn));
    ctx->sh->nodes--;
}


/*
 * Frees up to NGX_ROOMS_EVICT_MAX least recently used nodes.  The store
 * still holds them; only rooms people are in must stay, because their
 * live count exists nowhere else.
 */
static ngx_uint_t
ngx_rooms_evict(ngx_rooms_zone_ctx_t *ctx)
{
    ngx_uint_t         n, scanned;
    ngx_queue_t       *q, *prev;
    ngx_rooms_node_t  *rn;

    n = 0;
    scanned = 0;

    for (q = ngx_queue_last(&ctx->sh->queue);
         q != ngx_queue_sentinel(&ctx->sh->queue)
         && n < NGX_ROOMS_EVICT_MAX && scanned < 4 * NGX_ROOMS_EVICT_MAX;
         q = prev)
    {
        prev = ngx_queue_prev(q);
        scanned++;

        rn = ngx_queue_data(q, ngx_rooms_node_t, queue);

        if (!rn->gone && rn->room.participants > 0) {
            continue;
        }

        ngx_rooms_delete(ctx, rn);
        n++;
    }

    return n;
}


static ngx_rooms_node_t *
ngx_rooms_insert(ngx_rooms_zone_ctx_t *ctx, u_char *code,
    rooms_room_t *room, ngx_uint_t gone)
{
    size_t              size;
    ngx_rbtree_node_t  *node;
    ngx_rooms_node_t   *rn;

    size = offsetof(ngx_rbtree_node_t, color)
           + (gone ? offsetof(ngx_rooms_node_t, room)
                   : sizeof(ngx_rooms_node_t));

    node = ngx_slab_alloc_locked(ctx->shpool, size);

    while (node == NULL) {
        if (ngx_rooms_evict(ctx) == 0) {
            return NULL;
        }

        node = ngx_slab_alloc_locked(ctx->shpool, size);
    }

    rn = ngx_rooms_data_of(node);

    node->key = ngx_crc32_short(code, ROOMS_CODE_LEN);
    rn->gone = (u_char) gone;
    ngx_memcpy(rn->code, code, ROOMS_CODE_LEN);

    if (!gone) {
        rn->room = *room;
        rn->count_seq = 0;
        rn->fetched = ngx_current_msec;
    }

    ngx_rbtree_insert(&ctx->sh->rbtree, node);
    ngx_queue_insert_head(&ctx->sh->queue, &rn->queue);
    ctx->sh->nodes++;

    return rn;
}


/*
 * Finds code in the cache or, on a miss, in the store, caching what the
 * store says.  Called with the mutex held.  *node is NULL when the room
 * could not be cached (zone full of occupied rooms): the copy in room is
 * still right.
 */
static ngx_int_t
ngx_rooms_fetch(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log, u_char *code,
    ngx_rooms_node_t **node, rooms_room_t *room)
{
    int                    rc;
    char                   key[ROOMS_CODE_LEN + 1];
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    rn = ngx_rooms_lookup(ctx, code);

    if (rn) {
        *node = rn;

        if (rn->gone) {
            return NGX_ROOMS_GONE;
        }

        *room = rn->room;

        if ((ngx_msec_int_t) (ngx_current_msec - rn->fetched)
            < NGX_ROOMS_FRESH_MS)
        {
            return NGX_OK;
        }
    }

    ngx_memcpy(key, code, ROOMS_CODE_LEN);
    key[ROOMS_CODE_LEN] = '\0';

    rc = rooms_store_find(ngx_rooms_store_handle(), key, room);

    if (rn) {
        /* read again: the live count is this node's, never stored */

        switch (rc) {

        case ROOMS_STORE_OK:
            room->participants = rn->room.participants;
            rn->room = *room;
            rn->fetched = ngx_current_msec;
            return NGX_OK;

        case ROOMS_STORE_GONE:
        case ROOMS_STORE_NOT_FOUND:
            /* rotated, or expired, on another node */
            ngx_rooms_delete(ctx, rn);
            break;

        default:
            ngx_log_error(NGX_LOG_WARN, log, 0, "rooms_store lookup failed, "
                          "the cached room served: %s",
                          rooms_store_errmsg(ngx_rooms_store_handle()));
            ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
            *room = rn->room;
            return NGX_OK;
        }
    }

    *node = NULL;

    switch (rc) {

    case ROOMS_STORE_OK:
        *node = ngx_rooms_insert(ctx, code, room, 0);
        return NGX_OK;

    case ROOMS_STORE_GONE:
        *node = ngx_rooms_insert(ctx, code, NULL, 1);
        return NGX_ROOMS_GONE;

    case ROOMS_STORE_NOT_FOUND:
        return NGX_DECLINED;

    default:
        ngx_log_error(NGX_LOG_ERR, log, 0, "rooms_store lookup failed: %s",
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }
}


ngx_int_t
ngx_rooms_dir_get(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log, u_char *code,
    rooms_room_t *room)
{
    ngx_int_t              rc;
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    rc = ngx_rooms_fetch(rmcf, log, code, &rn, room);

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_rooms_dir_add(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    rooms_room_t *room, ngx_rooms_change_pt store, void *data)
{
    ngx_int_t              rc;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    rc = store(room, data);

    if (rc == NGX_OK) {
        /* a full cache is no error: the store has the room */
        (void) ngx_rooms_insert(ctx, (u_char *) room->code, room, 0);
    }

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_rooms_dir_change(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    u_char *code, ngx_rooms_change_pt handler, void *data,
    rooms_room_t *room)
{
    int64_t                seq;
    ngx_int_t              rc, action;
    rooms_room_t           copy;
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    rc = ngx_rooms_fetch(rmcf, log, code, &rn, room);
    if (rc != NGX_OK) {
        goto done;
    }

    copy = *room;

    action = handler(&copy, data);

    switch (action) {

    case NGX_ROOMS_DIR_KEEP:
    case NGX_ROOMS_DIR_UPDATE:
        break;

    case NGX_ROOMS_DIR_ROTATE:
        /* the old code's node becomes a small "gone" node */
        seq = 0;

        if (rn) {
            seq = rn->count_seq;
            ngx_rooms_delete(ctx, rn);
        }

        (void) ngx_rooms_insert(ctx, code, NULL, 1);

        rn = ngx_rooms_insert(ctx, (u_char *) copy.code, &copy, 0);

        if (rn) {
            /* the count goes on under the new code, in the same order */
            rn->count_seq = seq;
        }

        *room = copy;
        goto done;

    case NGX_ERROR:
        /* the store failed, and the callback said so in the log */
        rc = NGX_ERROR;
        goto done;

    default: /* NGX_ROOMS_REFUSED */
        rc = NGX_ROOMS_REFUSED;
        goto done;
    }

    /* with the revision the store bumped, which ROOM records carry */

    if (rn) {
        rn->room = copy;
        rn->fetched = ngx_current_msec;
    }

    *room = copy;

done:

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_rooms_dir_count(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *code, size_t len, ngx_uint_t count, int64_t seq,
    ngx_uint_t *opened)
{
    char                   current[ROOMS_CODE_LEN + 1];
    ngx_int_t              rc;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;
    *opened = 0;

    /* the worker bounds rooms by ROOMS_PARTICIPANTS_LIMIT: this is a guard */
    count = ngx_min(count, ROOMS_PARTICIPANTS_LIMIT);

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    rc = NGX_ROOMS_GONE;

    if (rooms_token_is_code(code, len)) {
        rc = ngx_rooms_count_code(rmcf, log, room_id, code, count, seq,
                                  opened);
    }

    if (rc != NGX_ROOMS_GONE) {
        goto done;
    }

    /* a rotation since the room's latest join: its code now, by id */

    switch (rooms_store_code(ngx_rooms_store_handle(), room_id, current)) {

    case ROOMS_STORE_OK:
        rc = ngx_rooms_count_code(rmcf, log, room_id, (u_char *) current,
                                  count, seq, opened);
        if (rc == NGX_ROOMS_GONE) {
            /* rotated again meanwhile: the next count finds it */
            rc = NGX_DECLINED;
        }

        break;

    case ROOMS_STORE_NOT_FOUND:
        rc = NGX_DECLINED;
        break;

    default:
        ngx_log_error(NGX_LOG_ERR, log, 0, "rooms_store lookup failed: %s",
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        rc = NGX_ERROR;
        break;
    }

done:

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * Sets the count of the room whose current code is code, caching the
 * room first when it is not, unless a record of a higher seq set it
 * (NGX_ABORT: this one is stale).  Called with the mutex held.
 * NGX_ROOMS_GONE: a rotation retired the code.
 */
static ngx_int_t
ngx_rooms_count_code(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *code, ngx_uint_t count, int64_t seq,
    ngx_uint_t *opened)
{
    ngx_int_t          rc;
    rooms_room_t       room;
    ngx_rooms_node_t  *rn;

    rc = ngx_rooms_fetch(rmcf, log, code, &rn, &room);

    if (rc != NGX_OK) {
        return rc;
    }

    if (room.id != room_id) {
        /* codes are never reused: a worker's mistake, not a room */
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms: a COUNT record names room %L by the code of "
                      "room %L; dropped", room_id, room.id);
        return NGX_DECLINED;
    }

    if (rn == NULL) {
        /* the zone is full of rooms people are in */
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rooms: no place in rooms_zone for the count of room "
                      "%L; make the zone larger", room_id);
        return NGX_DECLINED;
    }

    if (seq < rn->count_seq) {
        /* read late from a slower ring: a newer count is in already */
        return NGX_ABORT;
    }

    /* an equal seq is the same record, read by another nginx worker */
    *opened = rn->room.participants == 0 && count > 0 && seq > rn->count_seq;

    rn->room.participants = (uint16_t) count;
    rn->count_seq = seq;

    return NGX_OK;
}


void
ngx_rooms_dir_counts_reset(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t seq, ngx_uint_t worker, ngx_uint_t workers)
{
    ngx_uint_t             n;
    ngx_queue_t           *q;
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;
    n = 0;

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    for (q = ngx_queue_head(&ctx->sh->queue);
         q != ngx_queue_sentinel(&ctx->sh->queue);
         q = ngx_queue_next(q))
    {
        rn = ngx_queue_data(q, ngx_rooms_node_t, queue);

        if (rn->gone || rn->count_seq > seq) {
            continue;
        }

        /* another media worker's room: its count is that one's business */
        if (workers > 1
            && rooms_shard_pick(rn->room.id, (unsigned) workers) != worker)
        {
            continue;
        }

        /* and a count older than seq, read late, is stale here too */
        n += (rn->room.participants > 0);
        rn->room.participants = 0;
        rn->count_seq = seq;
    }

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_EVENT, log, 0,
                   "rooms: %ui rooms have nobody in them now (counts up to "
                   "seq %L)", n, seq);
}


void
ngx_rooms_dir_totals(ngx_rooms_main_conf_t *rmcf, ngx_uint_t *rooms,
    ngx_uint_t *people)
{
    ngx_queue_t           *q;
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;
    *rooms = 0;
    *people = 0;

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    for (q = ngx_queue_head(&ctx->sh->queue);
         q != ngx_queue_sentinel(&ctx->sh->queue);
         q = ngx_queue_next(q))
    {
        rn = ngx_queue_data(q, ngx_rooms_node_t, queue);

        if (!rn->gone && rn->room.participants > 0) {
            (*rooms)++;
            *people += rn->room.participants;
        }
    }

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);
}


ngx_int_t
ngx_rooms_dir_purge(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    ngx_rooms_purge_pt purge, void *data)
{
    ngx_int_t              n;
    ngx_queue_t           *q, *prev;
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    n = purge(data);

    if (n > 0) {
        for (q = ngx_queue_last(&ctx->sh->queue);
             q != ngx_queue_sentinel(&ctx->sh->queue);
             q = prev)
        {
            prev = ngx_queue_prev(q);
            rn = ngx_queue_data(q, ngx_rooms_node_t, queue);

            if (rn->gone || rn->room.participants == 0) {
                ngx_rooms_delete(ctx, rn);
            }
        }
    }

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    return n;
}


ngx_atomic_t *
ngx_rooms_dir_webhook_sender(ngx_rooms_main_conf_t *rmcf)
{
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    return &ctx->sh->webhook_sender;
}


/* the zone's cycles when this process started */
static ngx_atomic_uint_t  ngx_rooms_dir_cycle;


void
ngx_rooms_dir_init_process(ngx_rooms_main_conf_t *rmcf)
{
    ngx_rooms_zone_ctx_t  *ctx;

    if (rmcf->shm_zone == NULL) {
        return;
    }

    ctx = rmcf->shm_zone->data;
    ngx_rooms_dir_cycle = ctx->sh->cycles;
}


ngx_uint_t
ngx_rooms_dir_superseded(ngx_rooms_main_conf_t *rmcf)
{
    ngx_rooms_zone_ctx_t  *ctx;

    if (rmcf == NULL || rmcf->shm_zone == NULL) {
        return 0;
    }

    ctx = rmcf->shm_zone->data;

    return ctx->sh->cycles != ngx_rooms_dir_cycle;
}
