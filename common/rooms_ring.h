/*
 * rooms_ring.h: the shared-memory rings between nginx workers and the
 * media worker, and the Linux plumbing that sets them up.
 *
 * Owns: the segment layout (a header, then one ring pair per nginx
 * worker), single-producer single-consumer byte rings of variable-length
 * records (rooms_proto.h), the drop counters, and the helpers that create
 * and hand over the memfd and eventfd doorbells.  Must never block, take
 * a lock or allocate in push or pop, never write part of a record, and
 * never let a misbehaving peer's bytes in shared memory make this process
 * read or write outside the segment.  Plain C without nginx headers: the
 * nginx module, the media worker and the tests include it.
 *
 * The segment, as created by the media worker (rooms_ring_segment_init):
 *
 *     offset 0      rooms_ring_seg_hdr_t, padded to ROOMS_RING_LINE
 *     then          2 * npeers rings, each ROOMS_RING_LINE-aligned:
 *                       control block (2 * ROOMS_RING_LINE: the producer's
 *                       line with head and drops, the consumer's with tail)
 *                       capacity bytes of records
 *
 * Ring 2 * peer + ROOMS_RING_TO_WORKER carries peer's records to the media
 * worker, ring 2 * peer + ROOMS_RING_FROM_WORKER the media worker's to
 * that peer.  Each ring has exactly one producer and one consumer.
 *
 * Records: a rooms_proto_hdr_t, the payload, then padding to 8 bytes.  A
 * record never straddles the end of the buffer: when it does not fit
 * before the end, the producer marks the rest of the buffer as padding
 * (a header word with type ROOMS_PROTO_PAD; the smallest gap, 8 bytes,
 * holds its type field) and writes the record at the start.  Readers
 * therefore always get one contiguous payload, 8-byte aligned.
 *
 * Doorbells: a producer rings the consumer's eventfd after it pushed (one
 * ring per batch of pushes is enough); a consumer drains its eventfd
 * first and then the ring, so a push between the two is never missed.
 *
 * May not: include <ngx_core.h>, include <jansson.h>
 */

#ifndef ROOMS_RING_H
#define ROOMS_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rooms_limits.h"
#include "rooms_proto.h"


/* result codes: 0 is success, every failure is negative */
#define ROOMS_RING_OK          0
#define ROOMS_RING_EMPTY      -1     /* nothing to read */
#define ROOMS_RING_FULL       -2     /* no room now; the record is dropped */
#define ROOMS_RING_TOO_BIG    -3     /* could never fit; dropped */
#define ROOMS_RING_CORRUPT    -4     /* the peer wrote nonsense: drop it */
#define ROOMS_RING_EINVAL     -5     /* bad arguments */
#define ROOMS_RING_ESIZE      -6     /* segment shorter than it says */
#define ROOMS_RING_EMAGIC     -7     /* not a rooms ring segment */
#define ROOMS_RING_EVERSION   -8     /* another ROOMS_PROTO_VERSION */
#define ROOMS_RING_EGEOMETRY  -9     /* peer count or capacity invalid */

/* ring directions, as seen from the nginx worker that owns the pair */
#define ROOMS_RING_TO_WORKER    0    /* nginx worker -> media worker */
#define ROOMS_RING_FROM_WORKER  1    /* media worker -> nginx worker */

/*
 * 'room' in ASCII as a big-endian word.  Arbitrary, but it and the
 * version are the first 8 bytes in every version of the layout, so any
 * build can tell "not a segment" from "a segment of another version".
 */
#define ROOMS_RING_MAGIC       0x726f6f6dU

/*
 * The unit of alignment for the segment header and ring control blocks.
 * 128, not 64: x86 cores prefetch cache lines in adjacent pairs, so head
 * and tail 64 bytes apart would still bounce between the two sides.
 */
#define ROOMS_RING_LINE        128

/* record alignment in the ring, and so of every payload */
#define ROOMS_RING_REC_ALIGN   8


/* The segment header, at offset 0, written once by the creator. */
typedef struct {
    uint32_t  magic;          /* ROOMS_RING_MAGIC */
    uint32_t  version;        /* ROOMS_PROTO_VERSION of the creator */
    uint32_t  npeers;         /* ring pairs, 1..ROOMS_RING_MAX_PEERS */
    uint32_t  hdr_size;       /* bytes before the first ring */
    uint64_t  capacity;       /* record bytes per ring, a power of two */
    uint64_t  size;           /* the whole segment, in bytes */
} rooms_ring_seg_hdr_t;


/* A ring's shared control block; only rooms_ring.c looks inside. */
typedef struct rooms_ring_ctl_s  rooms_ring_ctl_t;


/*
 * A process-local handle on one ring, filled by rooms_ring_get().  The
 * capacity is copied here when the handle is made, so later writes to
 * shared memory can never widen what this process reads or writes.  A
 * handle serves one role, in one thread: the producer's is only pushed
 * to, the consumer's only read from.
 */
typedef struct {
    rooms_ring_ctl_t  *ctl;
    unsigned char     *data;       /* capacity bytes of records */
    uint64_t           capacity;
    uint64_t           mask;       /* capacity - 1 */
    uint64_t           tail_seen;  /* producer: a tail already reached */
    uint64_t           head_seen;  /* consumer: a head already reached */
    uint64_t           peeked;     /* consumer: end of the peeked one, or 0 */
} rooms_ring_t;


/*
 * Called by rooms_ring_read() for each record, in order.  payload points
 * into shared memory (hdr->len bytes, 8-byte aligned) and is valid only
 * during the call.  Return 0 to go on, anything else to stop after this
 * record; the record is consumed either way.
 */
typedef int (*rooms_ring_handler_pt)(void *ctx, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload);


/* ---- the segment ---- */

/*
 * Bytes needed for npeers ring pairs of capacity bytes each.  Returns 0
 * when npeers is not 1..ROOMS_RING_MAX_PEERS or capacity is not a power
 * of two within ROOMS_RING_CAPACITY_MIN..MAX.
 */
size_t rooms_ring_segment_size(unsigned npeers, size_t capacity);

/*
 * Lays out a segment in mem (at least rooms_ring_segment_size() bytes,
 * ROOMS_RING_LINE-aligned, e.g. a fresh mapping): writes the header and
 * zeroes every control block.  Record space is not touched, so pages of
 * a fresh memfd stay unallocated until a ring first reaches them.  Only
 * the creator calls it, before any other process can see mem.  Returns
 * ROOMS_RING_OK, ROOMS_RING_EGEOMETRY, ROOMS_RING_ESIZE or
 * ROOMS_RING_EINVAL.
 */
int rooms_ring_segment_init(void *mem, size_t size, unsigned npeers,
    size_t capacity);

/*
 * Checks, on the attaching side, that mem (size bytes mapped) holds a
 * segment this build can use: ROOMS_RING_ESIZE when too short for a
 * header or for what the header says, ROOMS_RING_EMAGIC,
 * ROOMS_RING_EVERSION when the creator speaks another ROOMS_PROTO_VERSION
 * (the media worker and the module are from different builds; the header's
 * version field says which), ROOMS_RING_EGEOMETRY, ROOMS_RING_EINVAL for a
 * misaligned mem, or ROOMS_RING_OK.  Call it before rooms_ring_get().
 */
int rooms_ring_segment_check(const void *mem, size_t size);

/*
 * Fills ring with a handle on peer's ring in direction dir, in a segment
 * that was initialized here or passed rooms_ring_segment_check().
 * Returns ROOMS_RING_OK, or ROOMS_RING_EINVAL for a peer or direction out
 * of range (or a segment header that no longer passes the checks).
 */
int rooms_ring_get(rooms_ring_t *ring, void *seg, unsigned peer,
    unsigned dir);

/* A one-line description of a result code, for logs. */
const char *rooms_ring_strerror(int rc);


/* ---- the producer side ---- */

/*
 * Appends one record: the header (type, flags, id, len) and len bytes of
 * payload.  Never blocks and never writes part of a record.  Returns
 * ROOMS_RING_OK; ROOMS_RING_FULL when the consumer has not made room;
 * ROOMS_RING_TOO_BIG when the record with its header and padding exceeds
 * half the capacity (see rooms_ring_max_payload); or ROOMS_RING_EINVAL
 * for type ROOMS_PROTO_PAD or a NULL payload with a length.  On every
 * failure the ring's drop counter is incremented, so what cannot be
 * queued is reported, not lost silently: the consumer sees the count, and
 * the caller decides whether to say more.  A caller that retries a FULL
 * push later counts each refusal.
 */
int rooms_ring_push(rooms_ring_t *ring, uint16_t type, uint16_t flags,
    uint64_t id, const void *payload, size_t len);

/* The largest payload a push can accept on this ring. */
size_t rooms_ring_max_payload(const rooms_ring_t *ring);


/* ---- the consumer side ---- */

/*
 * Looks at the oldest record without consuming it: copies its header to
 * *hdr and points *payload at its hdr->len payload bytes in the ring (no
 * copy; 8-byte aligned; valid until the record is popped).  The header is
 * a checked private copy, but payload bytes stay in shared memory: parse
 * them as untrusted input, and copy them first if a parser reads a byte
 * twice.  Returns ROOMS_RING_OK, ROOMS_RING_EMPTY, or ROOMS_RING_CORRUPT
 * when the producer broke the format (the only safe reaction is to stop
 * reading this ring and drop the peer).
 */
int rooms_ring_peek(rooms_ring_t *ring, rooms_proto_hdr_t *hdr,
    const unsigned char **payload);

/*
 * Consumes the record the last rooms_ring_peek() returned, or the oldest
 * one when nothing was peeked.  Returns ROOMS_RING_OK, ROOMS_RING_EMPTY
 * or ROOMS_RING_CORRUPT.
 */
int rooms_ring_pop(rooms_ring_t *ring);

/*
 * Hands up to max records to handler, in order, without copying them,
 * and releases their space to the producer once at the end (one shared
 * write per batch).  Returns how many records were consumed, or
 * ROOMS_RING_CORRUPT (records before the bad one are consumed).
 */
int rooms_ring_read(rooms_ring_t *ring, rooms_ring_handler_pt handler,
    void *ctx, unsigned max);

/*
 * Discards everything queued: for a consumer taking over a ring whose
 * previous consumer went away (its records are about connections that
 * are gone).  Safe while the producer keeps pushing.
 */
void rooms_ring_discard(rooms_ring_t *ring);

/* Records the producer could not queue, since the segment was made. */
uint64_t rooms_ring_drops(const rooms_ring_t *ring);

/* Bytes queued (records, headers and padding), as seen right now. */
size_t rooms_ring_used(const rooms_ring_t *ring);


/* ---- transport setup (Linux) ---- */

/*
 * Creates a memfd of size bytes (close-on-exec), seals its size so that
 * no holder can shrink it under another's mapping (which would raise
 * SIGBUS there), and maps it shared into *mem.  Returns the fd, or -1
 * with errno set and nothing left open.
 */
int rooms_ring_memfd_create(size_t size, void **mem);

/*
 * Maps a received memfd shared, read-write.  Refuses (EINVAL) a file
 * whose size is not sealed against shrinking, or that is empty.  Returns
 * the mapping with its size in *size, or NULL with errno set.  The fd may
 * be closed afterwards; unmap with munmap(mem, *size).
 */
void *rooms_ring_memfd_map(int fd, size_t *size);

/*
 * Sends one message of len bytes (1 or more: a descriptor must ride on at
 * least one byte) with nfds descriptors (0..ROOMS_RING_MAX_FDS) attached
 * by SCM_RIGHTS.  Meant for SOCK_SEQPACKET, where one call is one message.
 * Retries on EINTR; never raises SIGPIPE.  Returns the bytes sent or -1
 * with errno set (EAGAIN on a full non-blocking socket).
 */
ssize_t rooms_ring_send_fds(int sock, const void *msg, size_t len,
    const int *fds, int nfds);

/*
 * Receives one message into buf (len bytes) and up to *nfds descriptors
 * into fds; *nfds is set to how many arrived.  Received descriptors are
 * close-on-exec.  A message or descriptor list that does not fit fails
 * with EMSGSIZE, and any descriptors that did arrive are closed, so a
 * peer can never leak descriptors into this process.  Returns the bytes
 * received, 0 at EOF (the peer is gone), or -1 with errno set.
 */
ssize_t rooms_ring_recv_fds(int sock, void *buf, size_t len, int *fds,
    int *nfds);

/* A doorbell: eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC).  -1 with errno. */
int rooms_ring_doorbell_create(void);

/*
 * Rings: adds 1 to the eventfd.  A counter already at its maximum has
 * rung anyway, so that counts as success.  Returns 0 or -1 with errno.
 */
int rooms_ring_doorbell_ring(int fd);

/*
 * Clears the doorbell.  Returns how many rings it had collected (0 when
 * none: it never blocks), or -1 with errno.
 */
int64_t rooms_ring_doorbell_drain(int fd);


#endif /* ROOMS_RING_H */
