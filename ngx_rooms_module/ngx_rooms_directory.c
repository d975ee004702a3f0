
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_directory.c: the room directory every nginx worker sees.
 *
 * Owns: a write-through cache of room records in the shared zone (a red-
 * black tree keyed by code, with an LRU queue), over the store, which
 * stays the truth.  The zone mutex guards shared memory only, and no
 * store call is ever made under it (ngx_rooms_shm.h): an operation takes
 * it to look a code up, releases it to read the store, and takes it again
 * to apply what the store said to the node of that code present then (a
 * record's rev says which of two copies is the newer).  A change is
 * committed to the store first, then published in shared memory; changes
 * are serialised by the store's write lock, and each starts from the
 * store's record (ngx_rooms_dir_change()).  A retired (rotated) code is
 * cached as a small "gone" node.  Must never hand out pointers into
 * shared memory: callers get copies.  Rooms with people in them are never
 * evicted.
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
 * or ngx_rooms_dir_change() (ngx_rooms_control.c), without the zone
 * mutex, and published here once it is durable.  Must never call up: it knows no
 * other file of the module but the counters it adds to (a store read that
 * failed, ngx_rooms_metrics.h), which read its totals in turn.
 * May not: call rooms_store_insert, call rooms_store_update, call rooms_store_rotate, call rooms_store_end, call rooms_store_ban, call rooms_store_cohost, call rooms_store_open, call rooms_store_close, call json_, include jansson.h, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_control_, call ngx_rooms_media_, call ngx_rooms_signal_, call ngx_rooms_ws_, call ngx_rooms_api_, call ngx_rooms_router_, call ngx_rooms_page_
 */


#include "ngx_rooms_directory.h"
#include "ngx_rooms_handles.h"
#include "ngx_rooms_metrics.h"
#include "ngx_rooms_shm.h"
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
    ngx_log_t *log, u_char *code, ngx_uint_t always, ngx_rooms_node_t **node,
    rooms_room_t *room);
static ngx_int_t ngx_rooms_fetched(ngx_rooms_main_conf_t *rmcf,
    ngx_log_t *log, u_char *code, int rc, const char *err,
    rooms_room_t *read, ngx_msec_t start, ngx_uint_t always,
    ngx_rooms_node_t **node, rooms_room_t *room);
static void ngx_rooms_publish(ngx_rooms_zone_ctx_t *ctx, u_char *code,
    rooms_room_t *copy, ngx_int_t action, int64_t seq);
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
 * store says.  Called without the mutex; returns with it held, and *node
 * is the node of code present then (NULL when there is none, or the room
 * could not be cached: zone full of occupied rooms; the copy in room is
 * still right).  A cached copy younger than NGX_ROOMS_FRESH_MS answers at
 * once unless always is set (a change, which must start from the store's
 * record: ngx_rooms_dir_change()); a "gone" node answers at once (a
 * rotation is for good).  The store is read with the mutex released and
 * what it said applied to the node present after (ngx_rooms_fetched()).
 */
static ngx_int_t
ngx_rooms_fetch(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log, u_char *code,
    ngx_uint_t always, ngx_rooms_node_t **node, rooms_room_t *room)
{
    int                    rc;
    char                   key[ROOMS_CODE_LEN + 1];
    const char            *err;
    ngx_msec_t             start;
    rooms_room_t           read;
    rooms_store_t         *st;
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    rn = ngx_rooms_lookup(ctx, code);

    if (rn) {
        *node = rn;

        if (rn->gone) {
            return NGX_ROOMS_GONE;
        }

        if (!always
            && (ngx_msec_int_t) (ngx_current_msec - rn->fetched)
               < NGX_ROOMS_FRESH_MS)
        {
            *room = rn->room;
            return NGX_OK;
        }
    }

    start = ngx_current_msec;

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    ngx_memcpy(key, code, ROOMS_CODE_LEN);
    key[ROOMS_CODE_LEN] = '\0';

    /* lent to this fiber (which may wait for one): never under the mutex */
    st = ngx_rooms_store_handle();

    rc = rooms_store_find(st, key, &read);

    /* the handle's text, unchanged until its next call: none under the lock */
    err = rc < 0 ? rooms_store_errmsg(st) : NULL;

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    return ngx_rooms_fetched(rmcf, log, code, rc, err, &read, start, always,
                             node, room);
}


/*
 * Under the mutex: what the store said of code (rc, and the record read,
 * from start on) applied to whatever node of code is there now, which
 * may have changed since (another handler of this process, or another
 * process, read, changed, rotated or evicted it meanwhile).  A record's
 * rev grows with every change of its stored fields: a node written since
 * start with a higher rev than the one read was published after the read
 * and stays; one not written since is replaced whatever its rev (a store
 * restored from a backup goes back in time).  The live count and its seq
 * are the node's own, never read from the store.
 */
static ngx_int_t
ngx_rooms_fetched(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log, u_char *code,
    int rc, const char *err, rooms_room_t *read, ngx_msec_t start,
    ngx_uint_t always, ngx_rooms_node_t **node, rooms_room_t *room)
{
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    rn = ngx_rooms_lookup(ctx, code);
    *node = rn;

    if (rn && rn->gone) {
        /* rotated, and published, since the read: for good */
        return NGX_ROOMS_GONE;
    }

    switch (rc) {

    case ROOMS_STORE_OK:
        if (rn == NULL) {
            *node = ngx_rooms_insert(ctx, code, read, 0);
            *room = *read;
            return NGX_OK;
        }

        read->participants = rn->room.participants;

        if (rn->room.rev <= read->rev
            || (ngx_msec_int_t) (rn->fetched - start) < 0)
        {
            rn->room = *read;
            rn->fetched = ngx_current_msec;
        }

        /* a change starts from the store's record, under its write lock */
        *room = always ? *read : rn->room;
        return NGX_OK;

    case ROOMS_STORE_GONE:
        /* rotated on another node, or by a change not published yet */
        if (rn) {
            ngx_rooms_delete(ctx, rn);
        }

        *node = ngx_rooms_insert(ctx, code, NULL, 1);
        return NGX_ROOMS_GONE;

    case ROOMS_STORE_NOT_FOUND:
        /* expired, perhaps on another node */
        if (rn) {
            ngx_rooms_delete(ctx, rn);
        }

        *node = NULL;
        return NGX_DECLINED;

    default:
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);

        if (rn && !always) {
            ngx_log_error(NGX_LOG_WARN, log, 0, "rooms_store lookup failed, "
                          "the cached room served: %s", err);
            *room = rn->room;
            return NGX_OK;
        }

        /* a change is never made to a copy the store did not just give */
        ngx_log_error(NGX_LOG_ERR, log, 0, "rooms_store lookup failed: %s",
                      err);
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

    rc = ngx_rooms_fetch(rmcf, log, code, 0, &rn, room);

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_rooms_dir_add(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    rooms_room_t *room, ngx_rooms_change_pt store, void *data)
{
    ngx_int_t              rc;
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    rc = store(room, data);

    if (rc != NGX_OK) {
        return rc;
    }

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    /* a read of the new code since its commit may have cached it */
    rn = ngx_rooms_lookup(ctx, (u_char *) room->code);

    if (rn == NULL) {
        /* a full cache is no error: the store has the room */
        (void) ngx_rooms_insert(ctx, (u_char *) room->code, room, 0);
    }

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * The handler runs without the mutex, on a copy of the record the store
 * gave under the store's write lock, which the caller took
 * (ngx_rooms_control_begin()) and the handler's commit releases.  That
 * lock, not the mutex, serialises changes: every change of a room's
 * stored fields is made here, under it, from the store's record, so no
 * change is ever made to a copy that misses an earlier one, whichever
 * node made that.  The mutex guards only shared memory: the result is
 * published under it to the node there now, which another process may
 * have read, changed or evicted between the commit and the publication
 * (the rev decides which record is the newer).
 */
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

    rc = ngx_rooms_fetch(rmcf, log, code, 1, &rn, room);

    /* the live count as of the fetch, and the seq that set it */
    seq = (rc == NGX_OK && rn) ? rn->count_seq : 0;

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    if (rc != NGX_OK) {
        return rc;
    }

    copy = *room;

    action = handler(&copy, data);

    switch (action) {

    case NGX_ROOMS_DIR_KEEP:
    case NGX_ROOMS_DIR_UPDATE:
    case NGX_ROOMS_DIR_ROTATE:
        break;

    case NGX_ERROR:
        /* the store failed, and the callback said so in the log */
        return NGX_ERROR;

    default: /* NGX_ROOMS_REFUSED */
        return NGX_ROOMS_REFUSED;
    }

    ngx_rooms_shm_lock(&ctx->shpool->mutex);

    ngx_rooms_publish(ctx, code, &copy, action, seq);

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    *room = copy;

    return NGX_OK;
}


/*
 * Under the mutex: a change's record (copy, with the live count of the
 * fetch, set by seq) into the node of its code present now.  A node with
 * a count of a higher seq keeps it (set since the fetch); one with a
 * higher rev keeps its record too (a later change, published first).  A
 * node evicted since the fetch is inserted again.  On a rotation, code
 * is the old code: its node becomes a small "gone" node, and its count
 * goes on under the new code, in the same order.  copy receives the live
 * count the node has afterwards.
 */
static void
ngx_rooms_publish(ngx_rooms_zone_ctx_t *ctx, u_char *code, rooms_room_t *copy,
    ngx_int_t action, int64_t seq)
{
    ngx_rooms_node_t  *rn;

    rn = ngx_rooms_lookup(ctx, code);

    if (action == NGX_ROOMS_DIR_ROTATE) {

        if (rn == NULL || !rn->gone) {
            if (rn) {
                if (rn->count_seq >= seq) {
                    copy->participants = rn->room.participants;
                    seq = rn->count_seq;
                }

                ngx_rooms_delete(ctx, rn);
            }

            (void) ngx_rooms_insert(ctx, code, NULL, 1);
        }

        rn = ngx_rooms_lookup(ctx, (u_char *) copy->code);
    }

    if (rn && rn->gone) {
        /* its code retired by a later rotation, published: for good */
        return;
    }

    if (rn == NULL) {
        rn = ngx_rooms_insert(ctx, (u_char *) copy->code, copy, 0);

        if (rn) {
            rn->count_seq = seq;
        }

        return;
    }

    if (rn->count_seq < seq) {
        rn->room.participants = copy->participants;
        rn->count_seq = seq;
    }

    copy->participants = rn->room.participants;

    if (rn->room.rev <= copy->rev) {
        /* with the revision the store bumped, which ROOM records carry */
        rn->room = *copy;
        rn->fetched = ngx_current_msec;
    }
}


ngx_int_t
ngx_rooms_dir_count(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *code, size_t len, ngx_uint_t count, int64_t seq,
    ngx_uint_t *opened)
{
    char       current[ROOMS_CODE_LEN + 1];
    ngx_int_t  rc;

    *opened = 0;

    /* the worker bounds rooms by ROOMS_PARTICIPANTS_LIMIT: this is a guard */
    count = ngx_min(count, ROOMS_PARTICIPANTS_LIMIT);

    rc = NGX_ROOMS_GONE;

    if (rooms_token_is_code(code, len)) {
        rc = ngx_rooms_count_code(rmcf, log, room_id, code, count, seq,
                                  opened);
    }

    if (rc != NGX_ROOMS_GONE) {
        return rc;
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

        return rc;

    case ROOMS_STORE_NOT_FOUND:
        return NGX_DECLINED;

    default:
        ngx_log_error(NGX_LOG_ERR, log, 0, "rooms_store lookup failed: %s",
                      rooms_store_errmsg(ngx_rooms_store_handle()));
        ngx_rooms_metrics_add(NGX_ROOMS_M_STORE_ERRORS, 1);
        return NGX_ERROR;
    }
}


/*
 * Sets the count of the room whose current code is code, caching the
 * room first when it is not, unless a record of a higher seq set it
 * (NGX_ABORT: this one is stale).  Called without the mutex; the count
 * is set under it, on the node there once the room was found.
 * NGX_ROOMS_GONE: a rotation retired the code.
 */
static ngx_int_t
ngx_rooms_count_code(ngx_rooms_main_conf_t *rmcf, ngx_log_t *log,
    int64_t room_id, u_char *code, ngx_uint_t count, int64_t seq,
    ngx_uint_t *opened)
{
    ngx_int_t              rc;
    rooms_room_t           room;
    ngx_rooms_node_t      *rn;
    ngx_rooms_zone_ctx_t  *ctx;

    ctx = rmcf->shm_zone->data;

    rc = ngx_rooms_fetch(rmcf, log, code, 0, &rn, &room);

    if (rc != NGX_OK) {
        goto done;
    }

    if (room.id != room_id) {
        /* codes are never reused: a worker's mistake, not a room */
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "rooms: a COUNT record names room %L by the code of "
                      "room %L; dropped", room_id, room.id);
        rc = NGX_DECLINED;
        goto done;
    }

    if (rn == NULL) {
        /* the zone is full of rooms people are in */
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rooms: no place in rooms_zone for the count of room "
                      "%L; make the zone larger", room_id);
        rc = NGX_DECLINED;
        goto done;
    }

    if (seq < rn->count_seq) {
        /* read late from a slower ring: a newer count is in already */
        rc = NGX_ABORT;
        goto done;
    }

    /* an equal seq is the same record, read by another nginx worker */
    *opened = rn->room.participants == 0 && count > 0 && seq > rn->count_seq;

    rn->room.participants = (uint16_t) count;
    rn->count_seq = seq;

done:

    ngx_rooms_shm_unlock(&ctx->shpool->mutex);

    return rc;
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

    /* the purge commits first: a node cached from a read before it,
     * published after the drop below, is served until it is no longer
     * fresh (NGX_ROOMS_FRESH_MS), as on the other nodes of the store */
    n = purge(data);

    if (n > 0) {
        ngx_rooms_shm_lock(&ctx->shpool->mutex);

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

        ngx_rooms_shm_unlock(&ctx->shpool->mutex);
    }

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
