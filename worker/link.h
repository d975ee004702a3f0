/*
 * link.h: the media worker's side of the link with the nginx workers
 * (docs/architecture.md, "The rings"): the control socket they connect
 * to, the hello and welcome, the ring segment and the doorbells.
 *
 * The control handshake (common/rooms_proto.h): an nginx worker connects
 * and sends a rooms_proto_hello_t; it gets a rooms_proto_welcome_t with
 * its slot and, when the status is OK, three descriptors: the ring
 * segment, the eventfd it rings after pushing to us ("to_worker"), and
 * the one we ring after pushing to it ("from_worker").  Each slot gets
 * fresh eventfds and emptied rings.  The socket is SOCK_SEQPACKET, as
 * rooms_ring_send_fds() expects (one call, one message: the hello and the
 * welcome keep their boundaries); the nginx side connects with it first.
 *
 * Owns: the ring segment (one memfd, one ring pair per nginx worker,
 * made once at start), the control socket and its file, each nginx
 * worker's connection (EOF means it is gone) and doorbells, who may
 * connect (the file's owner, group and mode, and the peer's credentials).
 * Must never: block (a full ring drops and counts), trust what an nginx
 * worker writes into shared memory beyond what rooms_ring.h checks, or
 * leave the socket file behind on a clean exit.
 * May not: include <sys/epoll.h>, call epoll_, call clock_gettime, call sendmmsg, call recvmmsg
 */

#ifndef ROOMS_LINK_H
#define ROOMS_LINK_H

#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include "loop.h"
#include "sfu.h"


typedef struct rooms_link_s  rooms_link_t;


/*
 * Who may use the control socket: the nginx workers' user and group
 * (README, "Running the media worker").  The socket file is given this
 * owner and group, with mode 0660 (0600 without a group), and a peer is
 * served only if SO_PEERCRED shows root, the media worker's own user,
 * this user, or this group (primary or supplementary).  (uid_t) -1 and
 * (gid_t) -1: none, and the file keeps the worker's own.
 */
typedef struct {
    uid_t           uid;
    gid_t           gid;
} rooms_link_access_t;


/*
 * Makes the ring segment (rings of capacity bytes: a power of two within
 * ROOMS_RING_CAPACITY_MIN..MAX) and listens on path (a stale socket file
 * there is replaced), usable as access says, in loop; records go to sfu
 * with io.  NULL, with the reason logged, when it cannot.
 */
rooms_link_t *rooms_link_open(rooms_loop_t *loop, const char *path,
    const rooms_link_access_t *access, size_t capacity, sfu_t *sfu,
    sfu_io_t *io);

/*
 * This process is media worker index of workers (rooms-worker --workers):
 * every welcome says so (rooms_proto_welcome_t).  0 of 1 until called.
 */
void rooms_link_set_shard(rooms_link_t *link, unsigned index,
    unsigned workers);

/* Closes every connection and the socket, and removes its file. */
void rooms_link_close(rooms_link_t *link);

/* sfu_io_t.record (ctx is the rooms_link_t): one record to nginx */
int rooms_link_record(void *ctx, uint16_t type, uint64_t id,
    const void *payload, size_t len);

/*
 * One record that is sent again soon (STATS) to every linked nginx
 * worker whose ring is less than half full and not waiting for a resync,
 * each with id ROOMS_PROTO_CONN(its slot, 0); how many took it.
 */
unsigned rooms_link_record_all(rooms_link_t *link, uint16_t type,
    const void *payload, size_t len);

/* Rings the doorbell of every nginx worker that got records. */
void rooms_link_ring_bells(rooms_link_t *link);

/*
 * Once a loop turn: the drop line of a full ring (at most once a second,
 * with a count), and the resync of an nginx worker whose ring overflowed
 * and has drained (resync.h).
 */
void rooms_link_poll(rooms_link_t *link, uint64_t now);

/* Closes the connections that have not said hello in time. */
void rooms_link_expire(rooms_link_t *link, uint64_t now);


#endif /* ROOMS_LINK_H */
