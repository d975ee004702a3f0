/*
 * resync.h: what a full ring towards one nginx worker lost, and making
 * it right once the ring drains (common/rooms_proto.h, RESYNC).
 *
 * A push refused by a full ring is counted here (rooms_resync_lost()),
 * and the ring is marked.  What the loss leaves wrong is remembered:
 * the connections that lost a record (their browsers' picture of the
 * room may be wrong), and copies of the records that change state nginx
 * keeps (BAN, ROLE, HOST_ABSENT), in order.  While the ring is marked,
 * those records and the ones to a connection that lost one are not
 * pushed but go the same way (rooms_resync_hold()), so that a ban is
 * still stored before its browser is closed, and two role changes stay
 * in order.  Once the nginx worker has read most of its ring
 * (rooms_resync_due()), rooms_resync_run() pushes the kept records
 * again and asks the SFU for the rest (sfu_slot_resync(): the lost
 * connections closed 4409, every count again, then RESYNC).
 *
 * Owns: a ring's overflow mark, its drop counters and the pace of the
 * line that reports them, the bounded list of connections that lost
 * records, the bounded copies of kept records.  Sans-IO: the caller
 * gives the time; this file reads no clock and writes no log (it says
 * when a line is due).
 * Must never: block, log, read a clock, or touch a socket.
 * May not: include <sys/socket.h>, include <sys/epoll.h>, include <jansson.h>, call clock_gettime, call json_, call rooms_log
 */

#ifndef ROOMS_RESYNC_H
#define ROOMS_RESYNC_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_ring.h"
#include "sfu.h"


/*
 * Connections remembered per ring.  Beyond it every participant of that
 * nginx worker is closed at the resync (sfu_slot_resync()'s "all"): a
 * loss that large leaves nobody's picture trustworthy anyway.  (Only a
 * WebSocket whose participant had already left, and whose CLOSE was lost
 * beyond this bound, stays open; its browser shows the call it was in
 * until it leaves.)  8 bytes each, in a table twice as large: 64 KiB per
 * overflowed ring.
 */
#define ROOMS_RESYNC_CONNS_MAX   4096

/*
 * Bytes of kept records (header and payload, 8-aligned) per ring.  BAN,
 * ROLE and HOST_ABSENT records are a few hundred bytes and come from host
 * actions, so this holds hundreds; one that does not fit is lost, and
 * said so (rooms_resync_t.kept_lost).
 */
#define ROOMS_RESYNC_KEPT_MAX    (64 * 1024)

/* the drop line is written at most this often, with a count */
#define ROOMS_RESYNC_LOG_MS      1000


typedef struct {
    unsigned        marked;        /* lost records since the last run */
    unsigned        all;           /* more connections than the table */
    uint64_t        drops;         /* records lost, in all */
    uint64_t        unlogged;      /* lost since the last line */
    uint64_t        logged_ms;     /* the last line; 0: none yet */
    uint64_t        kept_lost;     /* kept records that did not fit */
    uint64_t        runs;          /* resyncs done */

    uint64_t       *conns;         /* open addressing; 0 is empty */
    size_t          nconns;

    unsigned char  *kept;          /* records as in a ring, in order */
    size_t          nkept;         /* bytes */
} rooms_resync_t;


/* An empty state (nothing lost), as after memset 0. */
void rooms_resync_init(rooms_resync_t *r);

/* Frees what r holds and empties it. */
void rooms_resync_free(rooms_resync_t *r);

/*
 * Before a push: 0 when the record is to be pushed; 1 when r keeps it to
 * push at the resync (the ring is marked, and it is a kept type); -1
 * when it is lost (the ring is marked and its connection lost a record
 * already: it is closed at the resync, so reading more is no use).
 */
int rooms_resync_hold(rooms_resync_t *r, uint16_t type, uint64_t id,
    const void *payload, size_t len);

/* A push of this record was refused: r marks, counts and remembers it. */
void rooms_resync_lost(rooms_resync_t *r, uint16_t type, uint64_t id,
    const void *payload, size_t len);

/*
 * One record towards the nginx worker of ring, as the link sends every
 * one: rooms_resync_hold(), then the push, then rooms_resync_lost() when
 * it is refused.  Returns 1 (pushed: ring the doorbell), 0 (kept for the
 * resync) or -1 (lost).
 */
int rooms_resync_push(rooms_resync_t *r, rooms_ring_t *ring, uint16_t type,
    uint64_t id, const void *payload, size_t len);

/*
 * Whether a drop line is due at now_ms: then *n is how many records were
 * lost since the last one (which this resets), and 1 is returned.
 */
int rooms_resync_log_due(rooms_resync_t *r, uint64_t now_ms, uint64_t *n);

/*
 * Whether r is marked and its ring (the producer's handle) has drained
 * enough for the resync: at most a quarter of it in use.  Why a quarter:
 * the resync pushes the kept records (64 KiB at most), a CLOSE per lost
 * connection (4096 of about 40 bytes) and one COUNT per room with people
 * (at most ROOMS_ICE_MAX_SESSIONS rooms of about 110 bytes), under 700
 * KiB, which three quarters of the default 1 MiB ring hold.
 */
int rooms_resync_due(const rooms_resync_t *r, const rooms_ring_t *ring);

/*
 * The resync of ring slot: the kept records pushed to ring again, in
 * order (when one is refused the rest stay kept and r stays marked: the
 * next drain goes on), then sfu_slot_resync() with the connections that
 * lost records.  What the SFU pushes goes through io as always, so a
 * record refused now marks r again.  Returns how many connections were
 * handed to the SFU, or -1 when kept records are still waiting.
 */
int rooms_resync_run(rooms_resync_t *r, rooms_ring_t *ring, sfu_t *sfu,
    unsigned slot, uint64_t now_ms, sfu_io_t *io);


#endif /* ROOMS_RESYNC_H */
