
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_people.c: who is in which room now, and "your people".
 *
 * Owns: the presence table (a shared zone of its own, "rooms_people"):
 * one slot per welcomed participant of every nginx worker, with its
 * room, its person hash, its name and whether it hosts, and a generation
 * bumped on every change, so the tray of any worker sees a join or a
 * leave of any other; the moment two people become each other's people
 * (a welcome into a room where the other is present), written to the
 * store through common/rooms_people.c; who is asking, as a person hash;
 * the owner of a room; the hourly expiry of relations; with a store
 * several nodes share (PostgreSQL), this node's presence written to it
 * and the other nodes' read from it (common/rooms_presence.c), so that a
 * tray served by any node sees every node's calls; and from those rows,
 * a call of this node that another node runs too, begun there later
 * (the front now sends the room there: a node added), told to move
 * (docs/scaling.md, "Adding a node").
 * Must never decide what a tray shows (ngx_rooms_tray.c), write the rooms
 * table, or keep a guest token (only its SHA-256).
 * May not: call json_, include jansson.h, include rooms_ring.h, include rooms_ws.h, call ngx_rooms_ws_, call ngx_rooms_dir_, call ngx_rooms_api_, call ngx_rooms_signal_, call ngx_rooms_tray_, call ngx_rooms_control_
 *
 * Presence is per connection: a participant resumed on a new worker after
 * a reload enters there (its "resumed") before or after its old worker's
 * slot goes, so two slots of one person may exist for a moment; readers
 * count people by slot of a room and never mind.  A worker that dies
 * leaves slots behind: ngx_rooms_people_snapshot() drops the slots of a
 * pid that no longer exists.  The store holds the relation, keyed by
 * hashes, bounded (ROOMS_PEOPLE_MAX) and expiring (ROOMS_PEOPLE_TTL).
 */


#include "ngx_rooms_people.h"
#include "ngx_rooms_handles.h"
#include "ngx_rooms_fiber.h"
#include "ngx_rooms_shm.h"
#include "ngx_rooms_identity.h"
#include "ngx_rooms_media.h"
#include "ngx_rooms_metrics.h"
#include "ngx_rooms_policy.h"

#include "rooms_people.h"
#include "rooms_presence.h"

#include <openssl/rand.h>


/*
 * Presence slots for the whole site: 4096 people in calls at once on one
 * nginx (about 330 bytes each, 1.4 MB); beyond, a participant joins as
 * always and only the tray and the relation miss it (logged once).
 */
#define NGX_ROOMS_PEOPLE_SLOTS      4096
#define NGX_ROOMS_PEOPLE_ZONE       "rooms_people"


typedef struct {
    int64_t                      room_id;        /* 0: free */
    uint64_t                     conn;
    ngx_pid_t                    pid;
    u_char                       code[ROOMS_CODE_LEN];
    u_char                       person[ROOMS_HASH_LEN];
    uint8_t                      role;
    uint16_t                     name_len;
    u_char                       name[ROOMS_NAME_MAX_BYTES];
    int64_t                      began;          /* ms: the room's call here */
} ngx_rooms_people_slot_t;


/*
 * Presence across nodes (a PostgreSQL store that several nodes share,
 * docs/scaling.md): worker 0 writes this node's slots to the store at
 * most once a second when they changed, and every
 * NGX_ROOMS_PRESENCE_REFRESH ms while anyone is present, each row good
 * for NGX_ROOMS_PRESENCE_TTL ms: the rows of a node that died or was
 * drained go within that, and a clock a few seconds off another node's
 * loses nothing.  A snapshot adds the other nodes' rows, at most
 * NGX_ROOMS_PRESENCE_MAX (each tray pass reads them: a few hundred calls;
 * a site past that needs a query per asker, docs/scaling.md).
 */
#define NGX_ROOMS_PRESENCE_EVERY    1000
#define NGX_ROOMS_PRESENCE_REFRESH  5000
#define NGX_ROOMS_PRESENCE_TTL      15
#define NGX_ROOMS_PRESENCE_MAX      4096


/*
 * Moving a call (docs/scaling.md, "Adding a node").  When another node
 * runs a call in a room this node has people in, and its call there
 * began later (the front sends that room's joins there now), worker 0
 * orders the room's people here to move: each nginx worker closes its
 * own of their WebSockets 4412, checking for orders every
 * NGX_ROOMS_MOVE_CHECK ms.  A room is moved at most once every
 * NGX_ROOMS_MOVE_EVERY s (two fronts that disagree must not make a call
 * bounce for ever).  NGX_ROOMS_MOVES orders are kept, for that bound and
 * for the host-absent policy, which a moved room's hosts did not choose
 * (ngx_rooms_people_moved(): kept over the longest grace); a site that
 * moves more calls than that in as long forgets the oldest (their
 * bound, and their hosts' absence) first.  A read of split calls takes
 * the first NGX_ROOMS_MOVE_SPLIT_MAX by room id: a split is the moment
 * after a node is added, and a room moved leaves the list within
 * seconds, so the ones after come up at the next reads.
 */
#define NGX_ROOMS_MOVE_CHECK        250
#define NGX_ROOMS_MOVE_EVERY        60
#define NGX_ROOMS_MOVES             1024
#define NGX_ROOMS_MOVE_SPLIT_MAX    256


typedef struct {
    int64_t                      room_id;
    time_t                       at;
    ngx_atomic_uint_t            gen;            /* the order's; 0: none */
} ngx_rooms_people_move_t;


typedef struct {
    ngx_atomic_t                 gen;
    ngx_uint_t                   top;            /* slots in use are below */
    ngx_uint_t                   full_logged;
    int64_t                      node;           /* this nginx's, random */
    ngx_atomic_t                 move_gen;       /* orders so far */
    ngx_rooms_people_move_t      move[NGX_ROOMS_MOVES];
    ngx_rooms_people_slot_t      slot[NGX_ROOMS_PEOPLE_SLOTS];
} ngx_rooms_people_sh_t;


/* a meeting to store: a copy, for the fiber that writes it */
typedef struct {
    int64_t                      room_id;
    time_t                       now;
    ngx_uint_t                   n;
    u_char                       person[ROOMS_HASH_LEN];
    char                         me[ROOMS_NAME_MAX_BYTES + 1];
    u_char                       others[ROOMS_PEOPLE_CALL_MAX]
                                       [ROOMS_HASH_LEN];
    char                         names[ROOMS_PEOPLE_CALL_MAX]
                                      [ROOMS_NAME_MAX_BYTES + 1];
} ngx_rooms_people_meet_t;


static ngx_int_t ngx_rooms_people_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_rooms_people_link_down(ngx_uint_t worker, ngx_uint_t n);
static ngx_int_t ngx_rooms_people_user(ngx_http_request_t *r,
    ngx_str_t *id);
static rooms_store_t *ngx_rooms_people_store(void);
static void ngx_rooms_people_meet(void *data);
static void ngx_rooms_people_sweep(ngx_rooms_people_sh_t *sh);
static int ngx_libc_cdecl ngx_rooms_people_cmp(const void *a,
    const void *b);


static ngx_rooms_people_sh_t  *ngx_rooms_people_sh;
static ngx_slab_pool_t        *ngx_rooms_people_pool;
static ngx_uint_t              ngx_rooms_people_tag;

/* worker 0's hourly expiry of relations (a cancelable timer) */
static ngx_event_t             ngx_rooms_people_expire_ev;

static void ngx_rooms_people_expire(ngx_event_t *ev);
static void ngx_rooms_people_expire_run(ngx_event_t *ev);
static void ngx_rooms_people_publish(ngx_event_t *ev);
static void ngx_rooms_people_publish_run(ngx_event_t *ev);
static ngx_uint_t ngx_rooms_people_shared(rooms_store_t *st);
static ngx_rooms_present_t *ngx_rooms_people_remote(ngx_pool_t *pool,
    ngx_rooms_present_t *p, ngx_uint_t *n);

static void ngx_rooms_people_split(ngx_log_t *log);
static void ngx_rooms_people_move_check(ngx_event_t *ev);

static ngx_event_t             ngx_rooms_people_publish_ev;
static ngx_event_t             ngx_rooms_people_move_ev;
static ngx_atomic_uint_t       ngx_rooms_people_move_seen;
static ngx_rooms_people_move_pt  ngx_rooms_people_mover;
static ngx_atomic_uint_t       ngx_rooms_people_published_gen;
static ngx_msec_t              ngx_rooms_people_published_at;
static ngx_uint_t              ngx_rooms_people_published_n;
static int                     ngx_rooms_people_publish_rc;


ngx_int_t
ngx_rooms_people_init(ngx_conf_t *cf)
{
    ngx_str_t        name;
    ngx_shm_zone_t  *shm_zone;

    ngx_str_set(&name, NGX_ROOMS_PEOPLE_ZONE);

    /* the table, and room for the slab allocator's own pages */
    shm_zone = ngx_shared_memory_add(cf, &name,
                                     sizeof(ngx_rooms_people_sh_t)
                                     + 64 * ngx_pagesize,
                                     &ngx_rooms_people_tag);
    if (shm_zone == NULL) {
        return NGX_ERROR;
    }

    shm_zone->init = ngx_rooms_people_zone_init;

    return ngx_rooms_media_on_link_down(cf, ngx_rooms_people_link_down);
}


/* The table is allocated once; a reload keeps it (and who is present). */
static ngx_int_t
ngx_rooms_people_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    uint64_t                node;
    ngx_rooms_people_sh_t  *sh;

    if (ngx_rooms_shm_one(shm_zone, data, sizeof(ngx_rooms_people_sh_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sh = shm_zone->data;

    /* this nginx among the nodes of a store: random, kept by reloads */
    while (sh->node == 0) {
        if (RAND_bytes((unsigned char *) &node, sizeof(node)) != 1) {
            return NGX_ERROR;
        }

        sh->node = (int64_t) (node >> 2);
    }

    return NGX_OK;
}


void
ngx_rooms_people_init_process(ngx_cycle_t *cycle)
{
    ngx_shm_zone_t  *zone;

    ngx_rooms_people_sh = NULL;

    zone = ngx_rooms_shm_find(cycle, &ngx_rooms_people_tag);
    if (zone != NULL) {
        ngx_rooms_people_sh = zone->data;
        ngx_rooms_people_pool = (ngx_slab_pool_t *) zone->shm.addr;

        /* the orders before this worker were its predecessor's to carry */
        ngx_rooms_people_move_seen = ngx_rooms_people_sh->move_gen;
        ngx_rooms_people_move_ev.handler = ngx_rooms_people_move_check;
        ngx_rooms_people_move_ev.log = cycle->log;
        ngx_rooms_people_move_ev.data = cycle;
        ngx_rooms_people_move_ev.cancelable = 1;
        ngx_add_timer(&ngx_rooms_people_move_ev, NGX_ROOMS_MOVE_CHECK);
    }

    if (ngx_worker == 0) {
        ngx_rooms_people_expire_ev.handler = ngx_rooms_people_expire;
        ngx_rooms_people_expire_ev.log = cycle->log;
        ngx_rooms_people_expire_ev.data = cycle;
        ngx_rooms_people_expire_ev.cancelable = 1;
        ngx_add_timer(&ngx_rooms_people_expire_ev, 60000);

        ngx_rooms_people_publish_ev.handler = ngx_rooms_people_publish;
        ngx_rooms_people_publish_ev.log = cycle->log;
        ngx_rooms_people_publish_ev.data = cycle;
        ngx_rooms_people_publish_ev.cancelable = 1;
        ngx_rooms_people_published_n = 0;
        ngx_rooms_people_published_gen = 0;
        ngx_rooms_people_publish_rc = ROOMS_STORE_OK;
        ngx_add_timer(&ngx_rooms_people_publish_ev,
                      NGX_ROOMS_PRESENCE_EVERY);
    }
}


/*
 * Who is signed in, when the admin's rooms_user (or the policy's
 * identify()) says so: NGX_OK with the id, NGX_DECLINED for an anonymous
 * browser.
 */
static ngx_int_t
ngx_rooms_people_user(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_rooms_user_t  *u;

    u = ngx_rooms_identity(r);

    if (u == NULL || u->id.len == 0) {
        return NGX_DECLINED;
    }

    *id = u->id;

    return NGX_OK;
}


/* The person hash of a signed-in id: SHA-256 of "user:" and the id. */
static void
ngx_rooms_people_user_hash(ngx_str_t *id, u_char *hash)
{
    u_char  buf[sizeof("user:") - 1 + NGX_ROOMS_USER_ID_MAX];

    if (id->len > NGX_ROOMS_USER_ID_MAX) {
        ngx_memzero(hash, ROOMS_HASH_LEN);
        return;
    }

    ngx_memcpy(ngx_cpymem(buf, "user:", sizeof("user:") - 1), id->data,
               id->len);
    rooms_token_hash(buf, sizeof("user:") - 1 + id->len, hash);
}


ngx_int_t
ngx_rooms_people_self(ngx_http_request_t *r, const u_char *token_hash,
    u_char *self)
{
    ngx_str_t  id;

    if (r != NULL && ngx_rooms_people_user(r, &id) == NGX_OK) {
        ngx_rooms_people_user_hash(&id, self);
        return NGX_OK;
    }

    if (token_hash == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(self, token_hash, ROOMS_HASH_LEN);

    return NGX_OK;
}


ngx_int_t
ngx_rooms_people_header_token(ngx_http_request_t *r, u_char *token_hash)
{
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;
    ngx_uint_t        i;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NGX_DECLINED;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("X-Rooms-Guest") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "X-Rooms-Guest",
                               sizeof("X-Rooms-Guest") - 1) == 0)
        {
            if (!rooms_token_is_guest(h[i].value.data, h[i].value.len)) {
                return NGX_DECLINED;
            }

            rooms_token_hash(h[i].value.data, h[i].value.len, token_hash);

            return NGX_OK;
        }
    }
}


static rooms_store_t *
ngx_rooms_people_store(void)
{
    ngx_rooms_main_conf_t  *rmcf;

    rmcf = ngx_http_cycle_get_module_main_conf(ngx_cycle, ngx_rooms_module);

    return rmcf != NULL ? ngx_rooms_store_handle() : NULL;
}


void
ngx_rooms_people_enter(ngx_http_request_t *r, int64_t room_id,
    const u_char *code, uint64_t conn, const u_char *person,
    const u_char *name, size_t name_len, ngx_uint_t role)
{
    /* the others present, copied out from under the lock */
    char                      names[ROOMS_PEOPLE_CALL_MAX]
                                   [ROOMS_NAME_MAX_BYTES + 1];
    u_char                    others[ROOMS_PEOPLE_CALL_MAX][ROOMS_HASH_LEN];
    int64_t                   began;
    ngx_uint_t                i, n, present, free_slot;
    ngx_time_t               *tp;
    ngx_rooms_people_sh_t    *sh;
    ngx_rooms_people_slot_t  *s;
    ngx_rooms_people_meet_t  *meet;

    sh = ngx_rooms_people_sh;

    if (sh == NULL) {
        return;
    }

    /* the room's call here began now, or with the people already in it */
    tp = ngx_timeofday();
    began = (int64_t) tp->sec * 1000 + tp->msec;

    name_len = ngx_min(name_len, ROOMS_NAME_MAX_BYTES);
    n = 0;
    present = 0;
    free_slot = NGX_ROOMS_PEOPLE_SLOTS;

    ngx_rooms_shm_lock(&ngx_rooms_people_pool->mutex);

    for (i = 0; i < sh->top; i++) {
        s = &sh->slot[i];

        if (s->room_id == 0) {
            if (free_slot == NGX_ROOMS_PEOPLE_SLOTS) {
                free_slot = i;
            }

            continue;
        }

        if (s->room_id != room_id) {
            continue;
        }

        present++;
        began = ngx_min(began, s->began);

        if (ngx_memcmp(s->person, person, ROOMS_HASH_LEN) == 0
            || n == ROOMS_PEOPLE_CALL_MAX)
        {
            continue;
        }

        ngx_memcpy(others[n], s->person, ROOMS_HASH_LEN);
        ngx_memcpy(names[n], s->name, s->name_len);
        names[n][s->name_len] = '\0';
        n++;
    }

    if (free_slot == NGX_ROOMS_PEOPLE_SLOTS
        && sh->top < NGX_ROOMS_PEOPLE_SLOTS)
    {
        free_slot = sh->top++;
    }

    if (free_slot < NGX_ROOMS_PEOPLE_SLOTS) {
        s = &sh->slot[free_slot];
        s->room_id = room_id;
        s->conn = conn;
        s->pid = ngx_pid;
        ngx_memcpy(s->code, code, ROOMS_CODE_LEN);
        ngx_memcpy(s->person, person, ROOMS_HASH_LEN);
        s->role = (uint8_t) role;
        s->name_len = (uint16_t) name_len;
        ngx_memcpy(s->name, name, name_len);
        s->began = began;
        (void) ngx_atomic_fetch_add(&sh->gen, 1);

    } else if (!sh->full_logged) {
        sh->full_logged = 1;
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rooms: %d people are in calls: the tray and "
                      "\"your people\" miss the ones beyond",
                      NGX_ROOMS_PEOPLE_SLOTS);
    }

    ngx_rooms_shm_unlock(&ngx_rooms_people_pool->mutex);

    /* a call, not an audience: see ROOMS_PEOPLE_CALL_MAX */
    if (n == 0 || present >= ROOMS_PEOPLE_CALL_MAX
        || ngx_rooms_people_store() == NULL)
    {
        return;
    }

    meet = ngx_alloc(sizeof(ngx_rooms_people_meet_t), ngx_cycle->log);
    if (meet == NULL) {
        return;
    }

    meet->room_id = room_id;
    meet->n = n;
    meet->now = ngx_time();
    ngx_memcpy(meet->person, person, ROOMS_HASH_LEN);
    ngx_memcpy(meet->me, name, name_len);
    meet->me[name_len] = '\0';
    ngx_memcpy(meet->others, others, n * ROOMS_HASH_LEN);
    ngx_memcpy(meet->names, names, sizeof(names));

    /*
     * Stored before the caller goes on when it may wait (the welcome, in
     * the media link's fiber: "your people" lists them once the call has
     * begun); else by a fiber of its own, which nobody waits for.
     */
    if (ngx_rooms_fiber_can_wait()
        || ngx_rooms_fiber_spawn(ngx_rooms_people_meet, meet, ngx_free)
           != NGX_OK)
    {
        ngx_rooms_people_meet(meet);
        ngx_free(meet);
    }
}


/* who met whom in a call, stored: the next call together retries */
static void
ngx_rooms_people_meet(void *data)
{
    ngx_rooms_people_meet_t  *meet = data;

    int              rc;
    ngx_uint_t       i;
    rooms_store_t   *st;

    st = ngx_rooms_people_store();
    if (st == NULL) {
        return;
    }

    if (rooms_store_begin(st, ROOMS_STORE_WAIT_MS) != ROOMS_STORE_OK) {
        ngx_log_error(NGX_LOG_INFO, ngx_cycle->log, 0,
                      "rooms: the store is busy: who met whom in room %L "
                      "is not kept this time", meet->room_id);
        return;
    }

    rc = ROOMS_STORE_OK;

    for (i = 0; i < meet->n && rc == ROOMS_STORE_OK; i++) {
        rc = rooms_people_meet(st, meet->person, meet->me, meet->others[i],
                               meet->names[i], meet->now);
    }

    if (rc != ROOMS_STORE_OK || rooms_store_commit(st) != ROOMS_STORE_OK) {
        rooms_store_rollback(st);
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "rooms: who met whom in room %L not kept: %s",
                      meet->room_id, rooms_store_errmsg(st));
    }
}


void
ngx_rooms_people_leave(uint64_t conn)
{
    ngx_uint_t                i;
    ngx_rooms_people_sh_t    *sh;
    ngx_rooms_people_slot_t  *s;

    sh = ngx_rooms_people_sh;

    if (sh == NULL) {
        return;
    }

    ngx_rooms_shm_lock(&ngx_rooms_people_pool->mutex);

    for (i = 0; i < sh->top; i++) {
        s = &sh->slot[i];

        if (s->room_id != 0 && s->conn == conn && s->pid == ngx_pid) {
            s->room_id = 0;
            (void) ngx_atomic_fetch_add(&sh->gen, 1);
            break;
        }
    }

    while (sh->top > 0 && sh->slot[sh->top - 1].room_id == 0) {
        sh->top--;
    }

    ngx_rooms_shm_unlock(&ngx_rooms_people_pool->mutex);
}


/*
 * The link to media worker `worker` is lost: the signaling closes this
 * nginx worker's WebSockets of that media worker without their leave
 * handlers (ngx_rooms_ws.c), so their slots go here, by the same mask.
 */
static void
ngx_rooms_people_link_down(ngx_uint_t worker, ngx_uint_t n)
{
    ngx_uint_t                i;
    ngx_rooms_people_sh_t    *sh;
    ngx_rooms_people_slot_t  *s;

    sh = ngx_rooms_people_sh;

    if (sh == NULL) {
        return;
    }

    ngx_rooms_shm_lock(&ngx_rooms_people_pool->mutex);

    for (i = 0; i < sh->top; i++) {
        s = &sh->slot[i];

        if (s->room_id != 0 && s->pid == ngx_pid
            && (s->conn & NGX_ROOMS_MEDIA_ID_MASK)
               == ngx_rooms_media_id_bits(worker))
        {
            s->room_id = 0;
        }
    }

    (void) ngx_atomic_fetch_add(&sh->gen, 1);

    ngx_rooms_shm_unlock(&ngx_rooms_people_pool->mutex);
}


ngx_atomic_uint_t
ngx_rooms_people_gen(void)
{
    return ngx_rooms_people_sh != NULL ? ngx_rooms_people_sh->gen : 0;
}


/* Under the lock: the slots of nginx workers that are gone go. */
static void
ngx_rooms_people_sweep(ngx_rooms_people_sh_t *sh)
{
    ngx_pid_t   dead;
    ngx_uint_t  i, j;

    for (i = 0; i < sh->top; i++) {
        if (sh->slot[i].room_id == 0 || sh->slot[i].pid == ngx_pid) {
            continue;
        }

        dead = sh->slot[i].pid;

        if (kill(dead, 0) == 0 || ngx_errno != NGX_ESRCH) {
            continue;
        }

        for (j = i; j < sh->top; j++) {
            if (sh->slot[j].pid == dead) {
                sh->slot[j].room_id = 0;
            }
        }

        (void) ngx_atomic_fetch_add(&sh->gen, 1);
    }
}


static int ngx_libc_cdecl
ngx_rooms_people_cmp(const void *a, const void *b)
{
    const ngx_rooms_present_t  *x = a, *y = b;

    return x->room_id < y->room_id ? -1 : x->room_id > y->room_id;
}


/* Whether presence goes through the store: a PostgreSQL one (nodes). */
static ngx_uint_t
ngx_rooms_people_shared(rooms_store_t *st)
{
    return st != NULL && ngx_rooms_people_sh != NULL
           && rooms_db_kind(rooms_store_db(st)) == ROOMS_DB_POSTGRESQL;
}


/*
 * The local entries p[0..*n) followed by the other nodes' present people
 * from the store (none when it is not shared, or cannot be read: a tray
 * then shows this node's calls); the array it returns holds all *n.
 */
static ngx_rooms_present_t *
ngx_rooms_people_remote(ngx_pool_t *pool, ngx_rooms_present_t *p,
    ngx_uint_t *n)
{
    size_t                m, i, len;
    rooms_store_t        *st;
    rooms_presence_t     *rows;
    ngx_rooms_present_t  *all, *q;

    st = ngx_rooms_people_store();

    if (!ngx_rooms_people_shared(st)) {
        return p;
    }

    rows = ngx_alloc(NGX_ROOMS_PRESENCE_MAX * sizeof(rooms_presence_t),
                     ngx_cycle->log);
    if (rows == NULL) {
        return NULL;
    }

    if (rooms_presence_get(st, ngx_rooms_people_sh->node, ngx_time(), rows,
                           NGX_ROOMS_PRESENCE_MAX, &m)
        != ROOMS_STORE_OK)
    {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "rooms: the other nodes' presence cannot be read: %s",
                      rooms_store_errmsg(st));
        m = 0;
    }

    all = p;

    if (m > 0) {
        all = ngx_palloc(pool, (*n + m) * sizeof(ngx_rooms_present_t));
        if (all == NULL) {
            ngx_free(rows);
            return NULL;
        }

        ngx_memcpy(all, p, *n * sizeof(ngx_rooms_present_t));
    }

    for (i = 0; i < m; i++) {
        q = &all[(*n)++];
        q->room_id = rows[i].room_id;
        ngx_memcpy(q->code, rows[i].code, ROOMS_CODE_LEN);
        ngx_memcpy(q->person, rows[i].person, ROOMS_HASH_LEN);
        q->role = rows[i].role == NGX_ROOMS_PRESENT_HOST
                  ? NGX_ROOMS_PRESENT_HOST : NGX_ROOMS_PRESENT_GUEST;
        len = ngx_strlen(rows[i].name);
        q->name_len = len;
        ngx_memcpy(q->name, rows[i].name, len);
    }

    ngx_free(rows);

    return all;
}


/*
 * This node's present people into the store (its rows replaced), when
 * the store is shared.  A busy store is tried again at the next tick; a
 * failing one is logged when it starts and when it ends.
 */
static void
ngx_rooms_people_put(ngx_log_t *log)
{
    int                       rc;
    size_t                    n;
    ngx_uint_t                i;
    rooms_store_t            *st;
    ngx_atomic_uint_t         gen;
    rooms_presence_t         *rows;
    ngx_rooms_people_sh_t    *sh;
    ngx_rooms_people_slot_t  *s;

    st = ngx_rooms_people_store();
    sh = ngx_rooms_people_sh;

    if (!ngx_rooms_people_shared(st)) {
        return;
    }

    rows = ngx_alloc(NGX_ROOMS_PEOPLE_SLOTS * sizeof(rooms_presence_t), log);
    if (rows == NULL) {
        return;
    }

    n = 0;

    ngx_rooms_shm_lock(&ngx_rooms_people_pool->mutex);

    ngx_rooms_people_sweep(sh);
    gen = sh->gen;

    for (i = 0; i < sh->top; i++) {
        s = &sh->slot[i];

        if (s->room_id == 0) {
            continue;
        }

        ngx_memzero(&rows[n], sizeof(rooms_presence_t));
        rows[n].room_id = s->room_id;
        ngx_memcpy(rows[n].code, s->code, ROOMS_CODE_LEN);
        ngx_memcpy(rows[n].person, s->person, ROOMS_HASH_LEN);
        rows[n].role = s->role;
        ngx_memcpy(rows[n].name, s->name, s->name_len);
        rows[n].began = s->began;
        n++;
    }

    ngx_rooms_shm_unlock(&ngx_rooms_people_pool->mutex);

    rc = rooms_presence_put(st, sh->node, rows, n, ngx_time(),
                            ngx_time() + NGX_ROOMS_PRESENCE_TTL);
    ngx_free(rows);

    if (rc == ROOMS_STORE_OK) {
        ngx_rooms_people_published_gen = gen;
        ngx_rooms_people_published_at = ngx_current_msec;
        ngx_rooms_people_published_n = n;

        if (ngx_rooms_people_publish_rc == ROOMS_STORE_ERROR) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "rooms: presence is stored again");
        }

    } else if (rc == ROOMS_STORE_ERROR
               && ngx_rooms_people_publish_rc != ROOMS_STORE_ERROR)
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "rooms: this node's presence cannot be stored: %s",
                      rooms_store_errmsg(st));
    }

    if (rc != ROOMS_STORE_BUSY) {
        ngx_rooms_people_publish_rc = rc;
    }
}


/*
 * Worker 0, every NGX_ROOMS_PRESENCE_EVERY ms: this node's presence into
 * the store when it changed, and every NGX_ROOMS_PRESENCE_REFRESH ms
 * while anyone is present (their rows expire).
 */
/* in a fiber: its store calls may wait (ngx_rooms_fiber_timer()) */
static void
ngx_rooms_people_publish(ngx_event_t *ev)
{
    static ngx_uint_t  busy;

    ngx_rooms_fiber_timer(ev, ngx_rooms_people_publish_run, &busy);
}


static void
ngx_rooms_people_publish_run(ngx_event_t *ev)
{
    if (ngx_rooms_people_sh != NULL
        && (ngx_rooms_people_sh->gen != ngx_rooms_people_published_gen
            || (ngx_rooms_people_published_n > 0
                && (ngx_msec_int_t) (ngx_current_msec
                                     - ngx_rooms_people_published_at)
                   >= NGX_ROOMS_PRESENCE_REFRESH)))
    {
        ngx_rooms_people_put(ev->log);
    }

    /* only this node's rows in the store say which rooms it has */
    if (ngx_rooms_people_published_n > 0 && !ngx_exiting) {
        ngx_rooms_people_split(ev->log);
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_ROOMS_PRESENCE_EVERY);
    }
}


/*
 * Worker 0, in the publish fiber, while this node has people present:
 * the rooms whose call another node runs too.  This node's call of such
 * a room yields when the other began later (the newer side is where the
 * front sends the room's joins now: a node was added), or at the same
 * ms when the other node's id is higher, so that exactly one side
 * yields; a drained node's calls arriving elsewhere are the newer side
 * there, and the drained node closes its own.  The order goes into the
 * zone, for every nginx worker to close its own WebSockets of the room.
 */
static void
ngx_rooms_people_split(ngx_log_t *log)
{
    size_t                    n, i, j;
    int64_t                   mine;
    ngx_uint_t                k, moved;
    time_t                    now;
    rooms_store_t            *st;
    ngx_rooms_people_sh_t    *sh;
    ngx_rooms_people_move_t  *m;
    rooms_presence_call_t    *calls;

    st = ngx_rooms_people_store();
    sh = ngx_rooms_people_sh;

    if (!ngx_rooms_people_shared(st)) {
        return;
    }

    calls = ngx_alloc(NGX_ROOMS_MOVE_SPLIT_MAX
                      * sizeof(rooms_presence_call_t), log);
    if (calls == NULL) {
        return;
    }

    if (rooms_presence_split(st, sh->node, ngx_time(), calls,
                             NGX_ROOMS_MOVE_SPLIT_MAX, &n)
        != ROOMS_STORE_OK)
    {
        /* the put above logs a failing store; this is tried next tick */
        ngx_free(calls);
        return;
    }

    now = ngx_time();

    for (i = 0; i < n; i++) {

        /* one entry per room and other node: the newest other decides */
        for (j = i + 1; j < n && calls[j].room_id == calls[i].room_id; j++)
        {
            if (calls[j].began > calls[i].began
                || (calls[j].began == calls[i].began
                    && calls[j].node > calls[i].node))
            {
                calls[i].began = calls[j].began;
                calls[i].node = calls[j].node;
            }
        }

        moved = 0;
        mine = -1;

        ngx_rooms_shm_lock(&ngx_rooms_people_pool->mutex);

        for (k = 0; k < sh->top; k++) {
            if (sh->slot[k].room_id == calls[i].room_id
                && (mine < 0 || sh->slot[k].began < mine))
            {
                mine = sh->slot[k].began;
            }
        }

        if (mine >= 0
            && (calls[i].began > mine
                || (calls[i].began == mine && calls[i].node > sh->node)))
        {
            moved = 1;

            for (k = 0; k < NGX_ROOMS_MOVES; k++) {
                m = &sh->move[k];

                if (m->gen != 0 && m->room_id == calls[i].room_id
                    && now - m->at < NGX_ROOMS_MOVE_EVERY)
                {
                    moved = 2;          /* moved a moment ago: not again */
                    break;
                }
            }
        }

        if (moved == 1) {
            m = &sh->move[sh->move_gen % NGX_ROOMS_MOVES];
            m->room_id = calls[i].room_id;
            m->at = now;
            m->gen = sh->move_gen + 1;
            (void) ngx_atomic_fetch_add(&sh->move_gen, 1);
        }

        ngx_rooms_shm_unlock(&ngx_rooms_people_pool->mutex);

        if (moved == 1) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "rooms: room %L moved to node %L: its call there "
                          "began later (%L ms after this node's)",
                          calls[i].room_id, calls[i].node,
                          calls[i].began - mine);
            ngx_rooms_metrics_add(NGX_ROOMS_M_ROOMS_MOVED, 1);

        } else if (moved == 2) {
            ngx_log_error(NGX_LOG_INFO, log, 0,
                          "rooms: room %L also has a call on node %L, begun "
                          "later, but it moved less than %d s ago: not again",
                          calls[i].room_id, calls[i].node,
                          NGX_ROOMS_MOVE_EVERY);
        }

        i = j - 1;
    }

    ngx_free(calls);
}


/*
 * Every nginx worker, every NGX_ROOMS_MOVE_CHECK ms: the orders it has
 * not carried yet, carried.  Its own connections in a moved room are
 * found under the lock and handed to the signaling after it (which
 * closes them 4412 and so leaves: the lock again).
 */
static void
ngx_rooms_people_move_check(ngx_event_t *ev)
{
    uint64_t                  *conns;
    ngx_uint_t                 i, k, n, any;
    ngx_atomic_uint_t          gen;
    ngx_rooms_people_sh_t     *sh;
    ngx_rooms_people_slot_t   *s;
    ngx_rooms_people_move_t   *m;

    sh = ngx_rooms_people_sh;
    gen = sh->move_gen;
    conns = NULL;
    n = 0;

    if (gen != ngx_rooms_people_move_seen && ngx_rooms_people_mover != NULL)
    {
        conns = ngx_alloc(NGX_ROOMS_PEOPLE_SLOTS * sizeof(uint64_t),
                          ev->log);
    }

    if (conns != NULL) {
        ngx_rooms_shm_lock(&ngx_rooms_people_pool->mutex);

        for (i = 0; i < sh->top; i++) {
            s = &sh->slot[i];

            if (s->room_id == 0 || s->pid != ngx_pid) {
                continue;
            }

            any = 0;

            for (k = 0; k < NGX_ROOMS_MOVES && !any; k++) {
                m = &sh->move[k];
                any = m->gen > ngx_rooms_people_move_seen && m->gen <= gen
                      && m->room_id == s->room_id;
            }

            if (any) {
                conns[n++] = s->conn;
            }
        }

        ngx_rooms_shm_unlock(&ngx_rooms_people_pool->mutex);

        for (i = 0; i < n; i++) {
            ngx_rooms_people_mover(conns[i]);
        }

        ngx_free(conns);
        ngx_rooms_people_move_seen = gen;
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_ROOMS_MOVE_CHECK);
    }
}


void
ngx_rooms_people_on_move(ngx_rooms_people_move_pt handler)
{
    ngx_rooms_people_mover = handler;
}


ngx_uint_t
ngx_rooms_people_moved(int64_t room_id, time_t within)
{
    time_t                    now;
    ngx_uint_t                k, moved;
    ngx_rooms_people_sh_t    *sh;
    ngx_rooms_people_move_t  *m;

    sh = ngx_rooms_people_sh;

    if (sh == NULL) {
        return 0;
    }

    now = ngx_time();
    moved = 0;

    ngx_rooms_shm_lock(&ngx_rooms_people_pool->mutex);

    for (k = 0; k < NGX_ROOMS_MOVES && !moved; k++) {
        m = &sh->move[k];
        moved = m->gen != 0 && m->room_id == room_id && now - m->at <= within;
    }

    ngx_rooms_shm_unlock(&ngx_rooms_people_pool->mutex);

    return moved;
}


void
ngx_rooms_people_exit_process(ngx_cycle_t *cycle)
{
    /*
     * Each worker, its WebSockets closed: who is left, at once (a drained
     * node's rows go now, not at their expiry; the last worker out
     * leaves the truth)
     */
    ngx_rooms_people_put(cycle->log);
}


ngx_int_t
ngx_rooms_people_snapshot(ngx_pool_t *pool, ngx_rooms_present_t **out,
    ngx_uint_t *n)
{
    ngx_uint_t                i, top;
    ngx_rooms_present_t      *p;
    ngx_rooms_people_sh_t    *sh;
    ngx_rooms_people_slot_t  *s;

    *n = 0;
    *out = NULL;
    sh = ngx_rooms_people_sh;

    if (sh == NULL) {
        return NGX_OK;
    }

    ngx_rooms_shm_lock(&ngx_rooms_people_pool->mutex);

    ngx_rooms_people_sweep(sh);
    top = sh->top;

    p = ngx_palloc(pool, (top ? top : 1) * sizeof(ngx_rooms_present_t));
    if (p == NULL) {
        ngx_rooms_shm_unlock(&ngx_rooms_people_pool->mutex);
        return NGX_ERROR;
    }

    for (i = 0; i < top; i++) {
        s = &sh->slot[i];

        if (s->room_id == 0) {
            continue;
        }

        p[*n].room_id = s->room_id;
        ngx_memcpy(p[*n].code, s->code, ROOMS_CODE_LEN);
        ngx_memcpy(p[*n].person, s->person, ROOMS_HASH_LEN);
        p[*n].role = s->role;
        p[*n].name_len = s->name_len;
        ngx_memcpy(p[*n].name, s->name, s->name_len);
        (*n)++;
    }

    ngx_rooms_shm_unlock(&ngx_rooms_people_pool->mutex);

    p = ngx_rooms_people_remote(pool, p, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* grouped by room */
    ngx_qsort(p, *n, sizeof(ngx_rooms_present_t), ngx_rooms_people_cmp);

    *out = p;

    return NGX_OK;
}


ngx_int_t
ngx_rooms_people_stored(ngx_http_request_t *r, const u_char *self,
    rooms_person_t *out, ngx_uint_t max, ngx_uint_t *n)
{
    unsigned        got;
    rooms_store_t  *st;

    *n = 0;
    st = ngx_rooms_people_store();

    if (st == NULL) {
        return NGX_OK;
    }

    if (rooms_people_list(st, self, ngx_time(), out, (unsigned) max, &got)
        != ROOMS_STORE_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rooms: reading someone's people failed: %s",
                      rooms_store_errmsg(st));
        return NGX_ERROR;
    }

    *n = got;

    return NGX_OK;
}


ngx_array_t *
ngx_rooms_people_site(ngx_http_request_t *r)
{
    u_char            *h;
    ngx_str_t         *id;
    ngx_uint_t         i;
    ngx_array_t       *ids, *hashes;
    ngx_rooms_user_t  *u;

    u = ngx_rooms_identity(r);

    if (u == NULL || u->id.len == 0) {
        return NULL;
    }

    ids = ngx_array_create(r->pool, 16, sizeof(ngx_str_t));
    if (ids == NULL || ngx_rooms_policy_people(r, u, ids) != NGX_OK) {
        return NULL;
    }

    hashes = ngx_array_create(r->pool, ids->nelts ? ids->nelts : 1,
                              ROOMS_HASH_LEN);
    if (hashes == NULL) {
        return NULL;
    }

    id = ids->elts;

    for (i = 0; i < ids->nelts; i++) {
        h = ngx_array_push(hashes);
        if (h == NULL) {
            return NULL;
        }

        ngx_rooms_people_user_hash(&id[i], h);
    }

    return hashes;
}


ngx_int_t
ngx_rooms_people_of(ngx_http_request_t *r, const u_char *self,
    rooms_person_t *out, ngx_uint_t max, ngx_uint_t *n)
{
    u_char       *h;
    ngx_uint_t    i, j;
    ngx_array_t  *site;

    if (ngx_rooms_people_stored(r, self, out, max, n) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the site's own friends (rooms_policy people()), as well */

    site = ngx_rooms_people_site(r);

    if (site == NULL) {
        return NGX_OK;
    }

    h = site->elts;

    for (i = 0; i < site->nelts && *n < max; i++) {
        for (j = 0; j < *n; j++) {
            if (ngx_memcmp(out[j].hash, h + i * ROOMS_HASH_LEN,
                           ROOMS_HASH_LEN) == 0)
            {
                break;
            }
        }

        if (j < *n) {
            continue;
        }

        ngx_memcpy(out[*n].hash, h + i * ROOMS_HASH_LEN, ROOMS_HASH_LEN);
        out[*n].name[0] = '\0';
        out[*n].last_at = 0;
        (*n)++;
    }

    return NGX_OK;
}


void
ngx_rooms_people_id(const u_char *self, const u_char *other, u_char *id)
{
    u_char  both[2 * ROOMS_HASH_LEN], hash[ROOMS_HASH_LEN];

    ngx_memcpy(both, self, ROOMS_HASH_LEN);
    ngx_memcpy(both + ROOMS_HASH_LEN, other, ROOMS_HASH_LEN);
    rooms_token_hash(both, sizeof(both), hash);

    ngx_hex_dump(id, hash, NGX_ROOMS_PEOPLE_ID_LEN / 2);
}


ngx_int_t
ngx_rooms_people_forget(ngx_http_request_t *r, const u_char *self,
    ngx_str_t *id, ngx_uint_t *n)
{
    int              rc = ROOMS_STORE_OK;
    u_char           pid[NGX_ROOMS_PEOPLE_ID_LEN];
    unsigned         gone;
    ngx_uint_t       i, got;
    rooms_store_t   *st;
    rooms_person_t  *people;

    *n = 0;
    st = ngx_rooms_people_store();

    if (st == NULL) {
        return NGX_ERROR;
    }

    if (id == NULL) {
        rc = rooms_people_forget(st, self, NULL, &gone);
        *n = gone;
        goto done;
    }

    people = ngx_palloc(r->pool, ROOMS_PEOPLE_MAX * sizeof(rooms_person_t));
    if (people == NULL) {
        return NGX_ERROR;
    }

    if (ngx_rooms_people_stored(r, self, people, ROOMS_PEOPLE_MAX, &got)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < got; i++) {
        ngx_rooms_people_id(self, people[i].hash, pid);

        if (id->len == NGX_ROOMS_PEOPLE_ID_LEN
            && ngx_strncasecmp(pid, id->data, NGX_ROOMS_PEOPLE_ID_LEN) == 0)
        {
            rc = rooms_people_forget(st, self, people[i].hash, &gone);
            *n = gone;
            goto done;
        }
    }

    return NGX_OK;

done:

    if (rc == ROOMS_STORE_BUSY) {
        return NGX_ROOMS_BUSY;
    }

    if (rc != ROOMS_STORE_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "rooms: forgetting people failed: %s",
                      rooms_store_errmsg(st));
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_rooms_people_owner_set(ngx_http_request_t *r, int64_t room_id)
{
    u_char          token[ROOMS_HASH_LEN], self[ROOMS_HASH_LEN];
    ngx_int_t       rc;
    rooms_store_t  *st;

    st = ngx_rooms_people_store();

    rc = ngx_rooms_people_header_token(r, token);

    if (st == NULL
        || ngx_rooms_people_self(r, rc == NGX_OK ? token : NULL, self)
           != NGX_OK)
    {
        return;
    }

    if (rooms_people_owner_set(st, room_id, self) != ROOMS_STORE_OK) {
        /* the room is made; only the "friends" tray will not know it */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "rooms: the creator of room %L is not kept: %s",
                      room_id, rooms_store_errmsg(st));
    }
}


ngx_int_t
ngx_rooms_people_owner(int64_t room_id, u_char *owner)
{
    int             rc;
    rooms_store_t  *st;

    st = ngx_rooms_people_store();

    if (st == NULL) {
        return 0;
    }

    rc = rooms_people_owner_get(st, room_id, owner);

    return rc < 0 ? NGX_ERROR : rc;
}


/* worker 0, hourly: relations past ROOMS_PEOPLE_TTL go */
/* in a fiber: its store calls may wait (ngx_rooms_fiber_timer()) */
static void
ngx_rooms_people_expire(ngx_event_t *ev)
{
    static ngx_uint_t  busy;

    ngx_rooms_fiber_timer(ev, ngx_rooms_people_expire_run, &busy);
}


static void
ngx_rooms_people_expire_run(ngx_event_t *ev)
{
    rooms_store_t  *st;

    st = ngx_rooms_people_store();

    if (st != NULL
        && rooms_people_expire(st, ngx_time() - ROOMS_PEOPLE_TTL)
           == ROOMS_STORE_ERROR)
    {
        ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                      "rooms: expiring people failed: %s",
                      rooms_store_errmsg(st));
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_ROOMS_EXPIRE_EVERY);
    }
}
