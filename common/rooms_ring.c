/*
 * rooms_ring.c: shared-memory SPSC rings of records, and their setup.
 *
 * Owns: the segment layout, the ring algorithm and the memfd, SCM_RIGHTS
 * and eventfd helpers (see rooms_ring.h for the layout and the record
 * format).  Must never block, lock or allocate in push, peek, pop or read;
 * never publish part of a record; and never trust a value read back from
 * shared memory to bound an access: the capacity used for every offset is
 * the handle's private copy, each index read from the other side is
 * checked against it, and each record header is copied out before it is
 * checked and used.
 *
 * The algorithm: head and tail are 64-bit byte counters that only grow
 * (2^64 bytes is centuries of traffic at any speed, so they never wrap);
 * the offset in the buffer is the counter masked by capacity - 1.  The
 * producer alone writes head and the drop counter, the consumer alone
 * writes tail, each on its own cache line pair.  The producer writes a
 * record, then publishes it with a release store of head; the consumer
 * reads head with acquire, reads the record, then gives the space back
 * with a release store of tail, which the producer reads with acquire
 * before it reuses the space.  Each side keeps the last value it saw of
 * the other's index in its handle and reads the shared one again only
 * when that copy is not enough, so a busy ring costs few cache misses.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, call json_, call sqlite3_, call malloc
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE          /* memfd_create, seals, MSG_CMSG_CLOEXEC */
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rooms_ring.h"


/*
 * The two processes share these counters through memory only.  An atomic
 * that is not lock-free is implemented with a lock in the process's own
 * memory, which the other process never sees, so it would be no atomic
 * at all here.
 */
#if ATOMIC_LLONG_LOCK_FREE != 2 || ATOMIC_LONG_LOCK_FREE != 2
#error "rooms_ring needs lock-free 64-bit atomics"
#endif


struct rooms_ring_ctl_s {
    /* the producer's line pair: only the producer writes here */
    _Atomic uint64_t  head;          /* next byte the producer writes */
    _Atomic uint64_t  drops;         /* records the producer refused */
    unsigned char     pad0[ROOMS_RING_LINE - 2 * sizeof(uint64_t)];

    /* the consumer's line pair: only the consumer writes here */
    _Atomic uint64_t  tail;          /* next byte the consumer reads */
    unsigned char     pad1[ROOMS_RING_LINE - sizeof(uint64_t)];
};


#define ROOMS_RING_CTL_SIZE  sizeof(rooms_ring_ctl_t)
#define ROOMS_RING_HDR_SIZE  ROOMS_RING_LINE
#define ROOMS_RING_REC_HDR   sizeof(rooms_proto_hdr_t)

#define rooms_ring_align(n)                                                 \
    (((uint64_t) (n) + ROOMS_RING_REC_ALIGN - 1)                            \
     & ~(uint64_t) (ROOMS_RING_REC_ALIGN - 1))

_Static_assert(sizeof(_Atomic uint64_t) == sizeof(uint64_t),
               "an atomic counter is a plain 64-bit word in shared memory");
_Static_assert(offsetof(rooms_ring_ctl_t, tail) == ROOMS_RING_LINE,
               "head and tail sit on different cache line pairs");
_Static_assert(sizeof(rooms_ring_ctl_t) == 2 * ROOMS_RING_LINE,
               "a control block is two line pairs");
_Static_assert(sizeof(rooms_ring_seg_hdr_t) <= ROOMS_RING_HDR_SIZE,
               "the segment header fits its line pair");
_Static_assert(offsetof(rooms_ring_seg_hdr_t, version) == 4,
               "magic and version are the first 8 bytes in every version");
_Static_assert(ROOMS_RING_REC_HDR % ROOMS_RING_REC_ALIGN == 0,
               "payloads start aligned");


/* 1 when capacity is a power of two within the limits */
static int
rooms_ring_capacity_ok(uint64_t capacity)
{
    return capacity >= ROOMS_RING_CAPACITY_MIN
           && capacity <= ROOMS_RING_CAPACITY_MAX
           && (capacity & (capacity - 1)) == 0;
}


size_t
rooms_ring_segment_size(unsigned npeers, size_t capacity)
{
    uint64_t  size;

    if (npeers == 0 || npeers > ROOMS_RING_MAX_PEERS
        || !rooms_ring_capacity_ok(capacity))
    {
        return 0;
    }

    /* at most 128 + 128 * (256 + 64 MiB): no overflow in 64 bits */
    size = ROOMS_RING_HDR_SIZE
           + (uint64_t) 2 * npeers * (ROOMS_RING_CTL_SIZE + capacity);

#if SIZE_MAX < UINT64_MAX
    if (size > SIZE_MAX) {
        return 0;
    }
#endif

    return (size_t) size;
}


int
rooms_ring_segment_init(void *mem, size_t size, unsigned npeers,
    size_t capacity)
{
    size_t                 need, i;
    unsigned char         *p;
    rooms_ring_seg_hdr_t  *hdr;

    if (mem == NULL || (uintptr_t) mem % ROOMS_RING_LINE != 0) {
        return ROOMS_RING_EINVAL;
    }

    need = rooms_ring_segment_size(npeers, capacity);

    if (need == 0) {
        return ROOMS_RING_EGEOMETRY;
    }

    if (size < need) {
        return ROOMS_RING_ESIZE;
    }

    p = mem;
    memset(p, 0, ROOMS_RING_HDR_SIZE);

    /* control blocks only: record space is never read before it is written */
    for (i = 0; i < 2 * (size_t) npeers; i++) {
        memset(p + ROOMS_RING_HDR_SIZE + i * (ROOMS_RING_CTL_SIZE + capacity),
               0, ROOMS_RING_CTL_SIZE);
    }

    hdr = mem;
    hdr->magic = ROOMS_RING_MAGIC;
    hdr->version = ROOMS_PROTO_VERSION;
    hdr->npeers = npeers;
    hdr->hdr_size = ROOMS_RING_HDR_SIZE;
    hdr->capacity = capacity;
    hdr->size = need;

    return ROOMS_RING_OK;
}


int
rooms_ring_segment_check(const void *mem, size_t size)
{
    rooms_ring_seg_hdr_t  hdr;

    if (mem == NULL || (uintptr_t) mem % ROOMS_RING_LINE != 0) {
        return ROOMS_RING_EINVAL;
    }

    if (size < sizeof(rooms_ring_seg_hdr_t)) {
        return ROOMS_RING_ESIZE;
    }

    /* one private copy: the creator could still be scribbling on it */
    memcpy(&hdr, mem, sizeof(rooms_ring_seg_hdr_t));

    if (hdr.magic != ROOMS_RING_MAGIC) {
        return ROOMS_RING_EMAGIC;
    }

    /* before anything else: another version may lay out the rest anew */
    if (hdr.version != ROOMS_PROTO_VERSION) {
        return ROOMS_RING_EVERSION;
    }

    /* segment_size() also bounds capacity, before it is cast to size_t */
    if (hdr.hdr_size != ROOMS_RING_HDR_SIZE
        || !rooms_ring_capacity_ok(hdr.capacity)
        || rooms_ring_segment_size(hdr.npeers, (size_t) hdr.capacity) == 0)
    {
        return ROOMS_RING_EGEOMETRY;
    }

    if (hdr.size != rooms_ring_segment_size(hdr.npeers, (size_t) hdr.capacity)
        || hdr.size > size)
    {
        return ROOMS_RING_ESIZE;
    }

    return ROOMS_RING_OK;
}


int
rooms_ring_get(rooms_ring_t *ring, void *seg, unsigned peer, unsigned dir)
{
    uint64_t               capacity;
    unsigned char         *p;
    rooms_ring_seg_hdr_t   hdr;

    if (ring == NULL || seg == NULL || dir > ROOMS_RING_FROM_WORKER) {
        return ROOMS_RING_EINVAL;
    }

    memcpy(&hdr, seg, sizeof(rooms_ring_seg_hdr_t));

    /* the caller checked the segment; a header changed since is refused */
    if (hdr.magic != ROOMS_RING_MAGIC || hdr.version != ROOMS_PROTO_VERSION
        || !rooms_ring_capacity_ok(hdr.capacity)
        || rooms_ring_segment_size(hdr.npeers, (size_t) hdr.capacity) == 0
        || peer >= hdr.npeers)
    {
        return ROOMS_RING_EINVAL;
    }

    capacity = hdr.capacity;

    p = (unsigned char *) seg + ROOMS_RING_HDR_SIZE
        + ((size_t) 2 * peer + dir) * (ROOMS_RING_CTL_SIZE + capacity);

    ring->ctl = (rooms_ring_ctl_t *) p;
    ring->data = p + ROOMS_RING_CTL_SIZE;
    ring->capacity = capacity;
    ring->mask = capacity - 1;
    ring->peeked = 0;

    /*
     * Both copies start as values the other side has really reached.
     * tail first: head only grows, so the head read after it is not
     * behind it.
     */
    ring->tail_seen = atomic_load_explicit(&ring->ctl->tail,
                                           memory_order_acquire);
    ring->head_seen = atomic_load_explicit(&ring->ctl->head,
                                           memory_order_acquire);

    return ROOMS_RING_OK;
}


const char *
rooms_ring_strerror(int rc)
{
    switch (rc) {

    case ROOMS_RING_OK:
        return "ok";

    case ROOMS_RING_EMPTY:
        return "ring empty";

    case ROOMS_RING_FULL:
        return "ring full: record dropped";

    case ROOMS_RING_TOO_BIG:
        return "record larger than half the ring: dropped";

    case ROOMS_RING_CORRUPT:
        return "ring corrupt: the peer broke the record format";

    case ROOMS_RING_EINVAL:
        return "invalid argument";

    case ROOMS_RING_ESIZE:
        return "ring segment is shorter than its header says";

    case ROOMS_RING_EMAGIC:
        return "not a rooms ring segment (bad magic)";

    case ROOMS_RING_EVERSION:
        return "ring segment has another protocol version: the media worker "
               "and the nginx module are from different ngx_rooms builds";

    case ROOMS_RING_EGEOMETRY:
        return "ring segment has an invalid peer count or ring capacity";

    default:
        return "unknown ring error";
    }
}


/* ---- the producer side ---- */


size_t
rooms_ring_max_payload(const rooms_ring_t *ring)
{
    return (size_t) (ring->capacity / 2 - ROOMS_RING_REC_HDR);
}


int
rooms_ring_push(rooms_ring_t *ring, uint16_t type, uint16_t flags,
    uint64_t id, const void *payload, size_t len)
{
    uint64_t            head, off, gap, total, need;
    unsigned char      *p;
    rooms_proto_hdr_t   h;

    /*
     * At most half the capacity, header and padding included.  A record
     * never straddles the buffer's end, so in an empty ring whose
     * position is at offset off, a record of total bytes fits only if
     * total <= max(capacity - off, off).  That is always true for
     * total <= capacity / 2, whatever the offset; anything larger could
     * be refused forever by an empty ring.  (capacity / 2 is a multiple
     * of 8, so bounding len bounds the padded size too.)
     */
    if (len > rooms_ring_max_payload(ring)) {
        atomic_fetch_add_explicit(&ring->ctl->drops, 1, memory_order_relaxed);
        return ROOMS_RING_TOO_BIG;
    }

    /* type 0 would tell the consumer to skip to the end of the buffer */
    if (type == ROOMS_PROTO_PAD || (payload == NULL && len != 0)) {
        atomic_fetch_add_explicit(&ring->ctl->drops, 1, memory_order_relaxed);
        return ROOMS_RING_EINVAL;
    }

    total = rooms_ring_align(ROOMS_RING_REC_HDR + len);

    head = atomic_load_explicit(&ring->ctl->head, memory_order_relaxed);
    off = head & ring->mask;
    gap = ring->capacity - off;
    need = total <= gap ? total : gap + total;

    /*
     * Free space is capacity - (head - tail).  A tail from a broken
     * consumer (ahead of head, or far behind) only makes this fail: the
     * writes below are bounded by the mask, never by tail.
     */
    if (head + need - ring->tail_seen > ring->capacity) {
        ring->tail_seen = atomic_load_explicit(&ring->ctl->tail,
                                               memory_order_acquire);

        if (head + need - ring->tail_seen > ring->capacity) {
            atomic_fetch_add_explicit(&ring->ctl->drops, 1,
                                      memory_order_relaxed);
            return ROOMS_RING_FULL;
        }
    }

    if (total > gap) {
        /* the padding marker: the type field alone, in the first 8 bytes */
        memset(&h, 0, sizeof(h));
        h.type = ROOMS_PROTO_PAD;
        memcpy(ring->data + off, &h, ROOMS_RING_REC_ALIGN);

        head += gap;
        off = 0;
    }

    h.type = type;
    h.flags = flags;
    h.len = (uint32_t) len;
    h.id = id;

    p = ring->data + off;
    memcpy(p, &h, ROOMS_RING_REC_HDR);

    if (len) {
        memcpy(p + ROOMS_RING_REC_HDR, payload, len);
    }

    atomic_store_explicit(&ring->ctl->head, head + total,
                          memory_order_release);

    return ROOMS_RING_OK;
}


/* ---- the consumer side ---- */


/*
 * Finds the record at consumer position pos, skipping a padding marker,
 * and checks it against the handle's capacity and the published head.
 * Sets *end to the position after it.
 */
static int
rooms_ring_next(rooms_ring_t *ring, uint64_t pos, rooms_proto_hdr_t *hdr,
    const unsigned char **payload, uint64_t *end)
{
    uint16_t        type;
    uint64_t        avail, off, gap, total;
    unsigned char  *p;

    for ( ;; ) {
        avail = ring->head_seen - pos;

        if (avail == 0) {
            ring->head_seen = atomic_load_explicit(&ring->ctl->head,
                                                   memory_order_acquire);
            avail = ring->head_seen - pos;

            if (avail == 0) {
                return ROOMS_RING_EMPTY;
            }
        }

        /* a head behind tail, too far ahead or unaligned: not our producer */
        if (avail > ring->capacity || avail % ROOMS_RING_REC_ALIGN != 0) {
            return ROOMS_RING_CORRUPT;
        }

        off = pos & ring->mask;
        gap = ring->capacity - off;
        p = ring->data + off;

        memcpy(&type, p, sizeof(uint16_t));

        if (type == ROOMS_PROTO_PAD) {
            if (gap > avail) {
                return ROOMS_RING_CORRUPT;
            }

            pos += gap;
            continue;
        }

        if (gap < ROOMS_RING_REC_HDR) {
            return ROOMS_RING_CORRUPT;
        }

        memcpy(hdr, p, ROOMS_RING_REC_HDR);

        /* the same bound push applies, checked on our copy of len */
        if (hdr->len > rooms_ring_max_payload(ring)) {
            return ROOMS_RING_CORRUPT;
        }

        total = rooms_ring_align(ROOMS_RING_REC_HDR + hdr->len);

        if (total > gap || total > avail) {
            return ROOMS_RING_CORRUPT;
        }

        *payload = p + ROOMS_RING_REC_HDR;
        *end = pos + total;

        return ROOMS_RING_OK;
    }
}


int
rooms_ring_peek(rooms_ring_t *ring, rooms_proto_hdr_t *hdr,
    const unsigned char **payload)
{
    int       rc;
    uint64_t  pos, end;

    pos = atomic_load_explicit(&ring->ctl->tail, memory_order_relaxed);

    rc = rooms_ring_next(ring, pos, hdr, payload, &end);

    ring->peeked = rc == ROOMS_RING_OK ? end : 0;

    return rc;
}


int
rooms_ring_pop(rooms_ring_t *ring)
{
    int                   rc;
    rooms_proto_hdr_t     hdr;
    const unsigned char  *payload;

    if (ring->peeked == 0) {
        rc = rooms_ring_peek(ring, &hdr, &payload);

        if (rc != ROOMS_RING_OK) {
            return rc;
        }
    }

    atomic_store_explicit(&ring->ctl->tail, ring->peeked,
                          memory_order_release);
    ring->peeked = 0;

    return ROOMS_RING_OK;
}


int
rooms_ring_read(rooms_ring_t *ring, rooms_ring_handler_pt handler,
    void *ctx, unsigned max)
{
    int                   rc, n;
    uint64_t              start, pos, end;
    rooms_proto_hdr_t     hdr;
    const unsigned char  *payload;

    /* a peeked record is not consumed yet: start from tail, forget it */
    ring->peeked = 0;

    start = atomic_load_explicit(&ring->ctl->tail, memory_order_relaxed);
    pos = start;
    rc = ROOMS_RING_OK;

    if (max > INT_MAX) {
        max = INT_MAX;
    }

    for (n = 0; (unsigned) n < max; /* void */ ) {
        rc = rooms_ring_next(ring, pos, &hdr, &payload, &end);

        if (rc != ROOMS_RING_OK) {
            break;
        }

        pos = end;
        n++;

        if (handler(ctx, &hdr, payload) != 0) {
            break;
        }
    }

    if (pos != start) {
        atomic_store_explicit(&ring->ctl->tail, pos, memory_order_release);
    }

    return rc == ROOMS_RING_CORRUPT ? ROOMS_RING_CORRUPT : n;
}


void
rooms_ring_discard(rooms_ring_t *ring)
{
    ring->head_seen = atomic_load_explicit(&ring->ctl->head,
                                           memory_order_acquire);
    ring->peeked = 0;

    atomic_store_explicit(&ring->ctl->tail, ring->head_seen,
                          memory_order_release);
}


uint64_t
rooms_ring_drops(const rooms_ring_t *ring)
{
    return atomic_load_explicit(&ring->ctl->drops, memory_order_relaxed);
}


size_t
rooms_ring_used(const rooms_ring_t *ring)
{
    uint64_t  head, tail;

    tail = atomic_load_explicit(&ring->ctl->tail, memory_order_acquire);
    head = atomic_load_explicit(&ring->ctl->head, memory_order_acquire);

    return (size_t) (head - tail);
}


/* ---- transport setup (Linux) ---- */


int
rooms_ring_memfd_create(size_t size, void **mem)
{
    int    fd, err;
    void  *p;

    if (size == 0 || size > (size_t) INT64_MAX || mem == NULL) {
        errno = EINVAL;
        return -1;
    }

    fd = memfd_create("rooms_ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd == -1) {
        return -1;
    }

    /*
     * A fixed size: a peer that could shrink the file would make every
     * other mapping of it fault with SIGBUS; F_SEAL_SEAL forbids any
     * later seal, such as F_SEAL_WRITE.
     */
    if (ftruncate(fd, (off_t) size) == -1
        || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
           == -1)
    {
        goto failed;
    }

    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

    if (p == MAP_FAILED) {
        goto failed;
    }

    *mem = p;

    return fd;

failed:

    err = errno;
    close(fd);
    errno = err;

    return -1;
}


void *
rooms_ring_memfd_map(int fd, size_t *size)
{
    int          seals;
    void        *p;
    struct stat  st;

    if (size == NULL) {
        errno = EINVAL;
        return NULL;
    }

    seals = fcntl(fd, F_GET_SEALS);

    if (seals == -1) {
        return NULL;
    }

    if ((seals & F_SEAL_SHRINK) == 0) {
        errno = EINVAL;
        return NULL;
    }

    if (fstat(fd, &st) == -1) {
        return NULL;
    }

    if (st.st_size <= 0) {
        errno = EINVAL;
        return NULL;
    }

    p = mmap(NULL, (size_t) st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
             fd, 0);

    if (p == MAP_FAILED) {
        return NULL;
    }

    *size = (size_t) st.st_size;

    return p;
}


/* control space for the most descriptors one message may carry */
typedef union {
    struct cmsghdr  align;
    unsigned char   buf[CMSG_SPACE(sizeof(int) * ROOMS_RING_MAX_FDS)];
} rooms_ring_cmsg_buf_t;


ssize_t
rooms_ring_send_fds(int sock, const void *msg, size_t len, const int *fds,
    int nfds)
{
    ssize_t                n;
    struct iovec           iov;
    struct msghdr          mh;
    struct cmsghdr        *cmsg;
    rooms_ring_cmsg_buf_t  cbuf;

    if (msg == NULL || len == 0 || nfds < 0 || nfds > ROOMS_RING_MAX_FDS
        || (nfds > 0 && fds == NULL))
    {
        errno = EINVAL;
        return -1;
    }

    memset(&mh, 0, sizeof(mh));
    memset(&cbuf, 0, sizeof(cbuf));

    iov.iov_base = (void *) msg;
    iov.iov_len = len;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;

    if (nfds > 0) {
        mh.msg_control = cbuf.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t) nfds);

        cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * (size_t) nfds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * (size_t) nfds);
    }

    do {
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    } while (n == -1 && errno == EINTR);

    return n;
}


ssize_t
rooms_ring_recv_fds(int sock, void *buf, size_t len, int *fds, int *nfds)
{
    int                    want, got, fd, i, k, bad;
    ssize_t                n;
    struct iovec           iov;
    struct msghdr          mh;
    struct cmsghdr        *cmsg;
    rooms_ring_cmsg_buf_t  cbuf;

    if (buf == NULL || len == 0 || nfds == NULL || *nfds < 0
        || (*nfds > 0 && fds == NULL))
    {
        errno = EINVAL;
        return -1;
    }

    want = *nfds;
    *nfds = 0;

    memset(&mh, 0, sizeof(mh));

    iov.iov_base = buf;
    iov.iov_len = len;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf.buf;
    mh.msg_controllen = sizeof(cbuf.buf);

    do {
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    } while (n == -1 && errno == EINTR);

    if (n == -1) {
        return -1;
    }

    /*
     * Every descriptor that arrived is now open in this process: each one
     * is either handed to the caller or closed here, whatever happens.
     */
    got = 0;
    bad = (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0;

    for (cmsg = CMSG_FIRSTHDR(&mh);
         cmsg != NULL;
         cmsg = CMSG_NXTHDR(&mh, cmsg))
    {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS
            || cmsg->cmsg_len < CMSG_LEN(0))
        {
            continue;
        }

        k = (int) ((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));

        for (i = 0; i < k; i++) {
            memcpy(&fd, CMSG_DATA(cmsg) + (size_t) i * sizeof(int),
                   sizeof(int));

            if (got < want) {
                fds[got++] = fd;

            } else {
                close(fd);
                bad = 1;
            }
        }
    }

    if (bad || n == 0) {
        for (i = 0; i < got; i++) {
            close(fds[i]);
        }

        if (n == 0) {
            return 0;
        }

        errno = EMSGSIZE;
        return -1;
    }

    *nfds = got;

    return n;
}


int
rooms_ring_doorbell_create(void)
{
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}


int
rooms_ring_doorbell_ring(int fd)
{
    ssize_t   n;
    uint64_t  one;

    one = 1;

    do {
        n = write(fd, &one, sizeof(one));
    } while (n == -1 && errno == EINTR);

    if (n == (ssize_t) sizeof(one)) {
        return 0;
    }

    /* EAGAIN: the counter is at its maximum, so the bell is ringing */
    if (n == -1 && errno == EAGAIN) {
        return 0;
    }

    if (n != -1) {
        errno = EIO;
    }

    return -1;
}


int64_t
rooms_ring_doorbell_drain(int fd)
{
    ssize_t   n;
    uint64_t  count;

    do {
        n = read(fd, &count, sizeof(count));
    } while (n == -1 && errno == EINTR);

    if (n == (ssize_t) sizeof(count)) {
        return count > INT64_MAX ? INT64_MAX : (int64_t) count;
    }

    if (n == -1 && errno == EAGAIN) {
        return 0;
    }

    if (n != -1) {
        errno = EIO;
    }

    return -1;
}
