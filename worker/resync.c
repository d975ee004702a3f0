/*
 * resync.c: what a full ring towards one nginx worker lost, and making
 * it right once the ring drains (see resync.h).
 *
 * Owns: the overflow mark of one ring, its drop counters, the table of
 * connections that lost records, the kept BAN, ROLE and HOST_ABSENT
 * records.
 * Must never: block, log, read a clock, or touch a socket.
 * May not: include <sys/socket.h>, include <sys/epoll.h>, include <jansson.h>, call clock_gettime, call json_, call rooms_log
 */

#include <stdlib.h>
#include <string.h>

#include "resync.h"


/* the table is twice as large as what it holds: probes stay short */
#define R_SLOTS        (2 * ROOMS_RESYNC_CONNS_MAX)

#define R_COUNTER(id)  ((id) & 0xffffffffffffULL)

#define R_ALIGN(n)     (((n) + ROOMS_RING_REC_ALIGN - 1)                     \
                        & ~(size_t) (ROOMS_RING_REC_ALIGN - 1))


void
rooms_resync_init(rooms_resync_t *r)
{
    memset(r, 0, sizeof(rooms_resync_t));
}


void
rooms_resync_free(rooms_resync_t *r)
{
    free(r->conns);
    free(r->kept);
    rooms_resync_init(r);
}


/* the records that change state nginx keeps: sent again, never lost */
static int
r_kept_type(uint16_t type)
{
    return type == ROOMS_PROTO_BAN || type == ROOMS_PROTO_ROLE
           || type == ROOMS_PROTO_HOST_ABSENT;
}


static size_t
r_slot(uint64_t id)
{
    /* Fibonacci hashing: connection counters are sequential */
    return (size_t) ((id * 0x9e3779b97f4a7c15ULL) >> 51) & (R_SLOTS - 1);
}


static int
r_conn_has(const rooms_resync_t *r, uint64_t id)
{
    size_t  i;

    if (r->conns == NULL) {
        return 0;
    }

    for (i = r_slot(id); r->conns[i] != 0; i = (i + 1) & (R_SLOTS - 1)) {
        if (r->conns[i] == id) {
            return 1;
        }
    }

    return 0;
}


static void
r_conn_add(rooms_resync_t *r, uint64_t id)
{
    size_t  i;

    if (r->all) {
        return;
    }

    if (r->conns == NULL) {
        r->conns = calloc(R_SLOTS, sizeof(uint64_t));

        if (r->conns == NULL) {
            r->all = 1;
            return;
        }
    }

    for (i = r_slot(id); r->conns[i] != 0; i = (i + 1) & (R_SLOTS - 1)) {
        if (r->conns[i] == id) {
            return;
        }
    }

    if (r->nconns == ROOMS_RESYNC_CONNS_MAX) {
        r->all = 1;
        return;
    }

    r->conns[i] = id;
    r->nconns++;
}


static void
r_keep(rooms_resync_t *r, uint16_t type, uint64_t id, const void *payload,
    size_t len)
{
    size_t             size;
    rooms_proto_hdr_t  hdr;

    size = sizeof(rooms_proto_hdr_t) + R_ALIGN(len);

    if (r->kept == NULL) {
        r->kept = malloc(ROOMS_RESYNC_KEPT_MAX);
    }

    if (r->kept == NULL || size > ROOMS_RESYNC_KEPT_MAX - r->nkept) {
        r->kept_lost++;
        return;
    }

    memset(&hdr, 0, sizeof(hdr));
    hdr.type = type;
    hdr.len = (uint32_t) len;
    hdr.id = id;

    memcpy(r->kept + r->nkept, &hdr, sizeof(hdr));

    if (len > 0) {
        memcpy(r->kept + r->nkept + sizeof(hdr), payload, len);
    }

    r->nkept += size;
}


int
rooms_resync_hold(rooms_resync_t *r, uint16_t type, uint64_t id,
    const void *payload, size_t len)
{
    if (!r->marked) {
        return 0;
    }

    if (r_kept_type(type)) {
        /* behind the ones kept already, so they stay in order */
        r_keep(r, type, id, payload, len);

        if (R_COUNTER(id) != 0) {
            r_conn_add(r, id);
        }

        return 1;
    }

    if (R_COUNTER(id) != 0 && (r->all || r_conn_has(r, id))) {
        /* its browser is closed at the resync: no use reading more */
        r->drops++;
        r->unlogged++;
        return -1;
    }

    return 0;
}


void
rooms_resync_lost(rooms_resync_t *r, uint16_t type, uint64_t id,
    const void *payload, size_t len)
{
    r->marked = 1;
    r->drops++;
    r->unlogged++;

    if (r_kept_type(type)) {
        r_keep(r, type, id, payload, len);
    }

    if (R_COUNTER(id) != 0) {
        r_conn_add(r, id);
    }
}


int
rooms_resync_push(rooms_resync_t *r, rooms_ring_t *ring, uint16_t type,
    uint64_t id, const void *payload, size_t len)
{
    int  rc;

    rc = rooms_resync_hold(r, type, id, payload, len);

    if (rc != 0) {
        return rc > 0 ? 0 : -1;
    }

    if (rooms_ring_push(ring, type, 0, id, payload, len) != ROOMS_RING_OK) {
        rooms_resync_lost(r, type, id, payload, len);
        return -1;
    }

    return 1;
}


int
rooms_resync_log_due(rooms_resync_t *r, uint64_t now_ms, uint64_t *n)
{
    if (r->unlogged == 0
        || (r->logged_ms != 0 && now_ms - r->logged_ms < ROOMS_RESYNC_LOG_MS))
    {
        return 0;
    }

    *n = r->unlogged;
    r->unlogged = 0;
    r->logged_ms = now_ms ? now_ms : 1;

    return 1;
}


int
rooms_resync_due(const rooms_resync_t *r, const rooms_ring_t *ring)
{
    return r->marked && rooms_ring_used(ring) <= ring->capacity / 4;
}


int
rooms_resync_run(rooms_resync_t *r, rooms_ring_t *ring, sfu_t *sfu,
    unsigned slot, uint64_t now_ms, sfu_io_t *io)
{
    int                rc;
    size_t             off, i, n, size;
    unsigned           all;
    uint64_t          *list;
    rooms_proto_hdr_t  hdr;

    /* the kept records first: a ban is stored before its CLOSE */

    for (off = 0; off < r->nkept; off += size) {
        memcpy(&hdr, r->kept + off, sizeof(hdr));
        size = sizeof(hdr) + R_ALIGN(hdr.len);

        rc = rooms_ring_push(ring, hdr.type, hdr.flags, hdr.id,
                             r->kept + off + sizeof(hdr), hdr.len);

        if (rc == ROOMS_RING_FULL) {
            memmove(r->kept, r->kept + off, r->nkept - off);
            r->nkept -= off;
            return -1;
        }

        if (rc != ROOMS_RING_OK) {
            /* it can never fit (or is malformed): it would stop all */
            r->kept_lost++;
        }
    }

    r->nkept = 0;

    /* the connections, out of the table before the SFU may add some */

    list = NULL;
    n = 0;

    if (r->nconns > 0) {
        list = malloc(r->nconns * sizeof(uint64_t));

        if (list == NULL) {
            r->all = 1;
        }
    }

    if (r->conns != NULL) {
        for (i = 0; i < R_SLOTS; i++) {
            if (r->conns[i] != 0 && list != NULL) {
                list[n++] = r->conns[i];
            }

            r->conns[i] = 0;
        }
    }

    r->nconns = 0;
    all = r->all;
    r->all = 0;
    r->marked = 0;
    r->runs++;

    sfu_slot_resync(sfu, slot, list, n, all, now_ms, io);

    free(list);

    return (int) n;
}
