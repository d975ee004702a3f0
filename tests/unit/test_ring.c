/*
 * test_ring.c: the rings between nginx workers and the media worker
 * (rooms_ring.*, rooms_proto.h).
 *
 * Covers: the segment geometry and that rings do not overlap; round trips
 * of varied sizes through peek/pop and the batch reader; the empty ring;
 * a full ring refusing without touching what it holds, and its drop
 * counter; too-big records; a wrap at every possible gap before the end
 * of a 4 KiB ring, exactly accounted; a long random interleaving against
 * a model FIFO; a corrupted ring detected, never followed; the segment
 * check (bad magic, another version with its message, short sizes, bad
 * geometry); the sealed memfd; the eventfd doorbell; SCM_RIGHTS limits
 * (no descriptor ever leaks); two processes passing 1,000,000 records
 * with sequence numbers and checksums (throughput printed as a diag line,
 * never judged); and the whole handover: memfd and eventfd sent to a
 * forked child over a SOCK_SEQPACKET socketpair, which attaches, pushes
 * and rings.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rooms_ring.h"
#include "tap.h"


#define KIB        1024
#define SMALL      (4 * KIB)
#define NRECORDS   1000000       /* the two-process test */
#define DEADLINE   20.0          /* seconds before the consumer gives up */


/* ---- fixtures ---- */


/* A segment in private memory, initialized; bails out on failure. */
static void *
seg_new(unsigned npeers, size_t capacity, size_t *size)
{
    int    rc;
    void  *mem;

    *size = rooms_ring_segment_size(npeers, capacity);

    if (*size == 0) {
        tap_bail_out("segment_size(%u, %zu) is 0", npeers, capacity);
    }

    mem = aligned_alloc(ROOMS_RING_LINE, *size);

    if (mem == NULL) {
        tap_bail_out("aligned_alloc(%zu) failed", *size);
    }

    /* garbage everywhere, as reused memory would hold */
    memset(mem, 0xa5, *size);

    rc = rooms_ring_segment_init(mem, *size, npeers, capacity);

    if (rc != ROOMS_RING_OK) {
        tap_bail_out("segment_init: %s", rooms_ring_strerror(rc));
    }

    return mem;
}


static void
ring_get(rooms_ring_t *ring, void *seg, unsigned peer, unsigned dir)
{
    int  rc;

    rc = rooms_ring_get(ring, seg, peer, dir);

    if (rc != ROOMS_RING_OK) {
        tap_bail_out("ring_get(%u, %u): %s", peer, dir,
                     rooms_ring_strerror(rc));
    }
}


static double
now_s(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}


/* The payload byte i of record seq: every record's bytes differ. */
static unsigned char
pattern(uint64_t seq, size_t i)
{
    return (unsigned char) (seq * 131 + i * 7 + (seq >> 8) + (i >> 8));
}


static void
fill(unsigned char *buf, size_t len, uint64_t seq)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        buf[i] = pattern(seq, i);
    }
}


static int
matches(const unsigned char *buf, size_t len, uint64_t seq)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (buf[i] != pattern(seq, i)) {
            return 0;
        }
    }

    return 1;
}


/* FNV-1a, 32 bits: the checksum of the two-process test */
static uint32_t
fnv1a(const unsigned char *p, size_t len)
{
    uint32_t  h;

    h = 2166136261u;

    while (len--) {
        h ^= *p++;
        h *= 16777619u;
    }

    return h;
}


/* xorshift64: a reproducible sequence for the random interleaving */
static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;

    return *s;
}


static unsigned char  big[ROOMS_RING_CAPACITY_DEFAULT];


/* Pushes record seq with len pattern bytes; type and flags from seq. */
static int
push_seq(rooms_ring_t *ring, uint64_t seq, size_t len)
{
    fill(big, len, seq);

    return rooms_ring_push(ring, (uint16_t) (1 + seq % 7),
                           (uint16_t) (seq * 3), seq, big, len);
}


/* Peeks, checks record seq of len bytes, and pops it.  1 when right. */
static int
pop_seq(rooms_ring_t *ring, uint64_t seq, size_t len)
{
    int                   rc;
    rooms_proto_hdr_t     hdr;
    const unsigned char  *p;

    rc = rooms_ring_peek(ring, &hdr, &p);

    if (rc != ROOMS_RING_OK) {
        diag("peek of %llu: %s", (unsigned long long) seq,
             rooms_ring_strerror(rc));
        return 0;
    }

    if (hdr.id != seq || hdr.len != len || hdr.type != 1 + seq % 7
        || hdr.flags != (uint16_t) (seq * 3) || (uintptr_t) p % 8 != 0
        || !matches(p, len, seq))
    {
        diag("record %llu (len %zu): got id %llu len %u type %u flags %u",
             (unsigned long long) seq, len, (unsigned long long) hdr.id,
             hdr.len, hdr.type, hdr.flags);
        return 0;
    }

    return rooms_ring_pop(ring) == ROOMS_RING_OK;
}


/* ---- in one process ---- */


static void
test_geometry(void)
{
    int            bad;
    void          *seg;
    size_t         size;
    unsigned       i, peer, dir;
    rooms_ring_t   ring, rings[6];
    unsigned char  odd[2 * ROOMS_RING_LINE + 8192];

    is_int(sizeof(rooms_proto_hdr_t), 16, "a record header is 16 bytes");
    is_int(ROOMS_PROTO_PAD, 0, "type 0 is the ring's padding");
    is_int(ROOMS_PROTO_CLOSE, 4, "CLOSE is type 4");
    is_int(ROOMS_PROTO_BAN, 6, "BAN is type 6");
    is_int(ROOMS_PROTO_COUNT, 7, "COUNT is type 7");
    is_int(ROOMS_PROTO_HOST_ABSENT, 8, "HOST_ABSENT is type 8");
    is_int(ROOMS_PROTO_ROLE, 9, "ROLE is type 9");
    is_int(ROOMS_PROTO_RESYNC, 10, "RESYNC is type 10");
    is_int(ROOMS_PROTO_DETACH, 11, "DETACH is type 11");
    is_int(ROOMS_PROTO_RESUME, 12, "RESUME is type 12");
    is_int(ROOMS_PROTO_STATS, 13, "STATS is type 13");
    is_int(ROOMS_PROTO_TYPE_MAX, 14, "and TYPE_MAX one past the last");
    is_int(sizeof(rooms_proto_stats_t), 20 * 8,
           "a STATS payload is 20 64-bit figures");
    is_int(ROOMS_PROTO_VERSION, 9,
           "protocol version 9 (a media worker per core: the welcome "
           "says which of how many)");
    is_int(sizeof(rooms_proto_welcome_t), 6 * 4,
           "a welcome is 6 32-bit fields");

    is_int(rooms_ring_segment_size(1, SMALL), 128 + 2 * (256 + SMALL),
           "segment_size(1, 4 KiB): header, 2 control blocks, 2 buffers");
    is_int(rooms_ring_segment_size(64, ROOMS_RING_CAPACITY_DEFAULT),
           128 + 128 * (256 + ROOMS_RING_CAPACITY_DEFAULT),
           "segment_size(64, 1 MiB)");
    is_int(rooms_ring_segment_size(0, SMALL), 0, "0 peers refused");
    is_int(rooms_ring_segment_size(65, SMALL), 0, "65 peers refused");
    is_int(rooms_ring_segment_size(1, 3000), 0,
           "a capacity that is not a power of two refused");
    is_int(rooms_ring_segment_size(1, 2048), 0, "2 KiB refused (min 4 KiB)");
    is_int(rooms_ring_segment_size(1, 128 * 1024 * 1024), 0,
           "128 MiB refused (max 64 MiB)");

    seg = seg_new(3, SMALL, &size);

    is_int(rooms_ring_segment_init(seg, size - 1, 3, SMALL),
           ROOMS_RING_ESIZE, "init into too little memory refused");
    is_int(rooms_ring_segment_init(seg, size, 3, 5000),
           ROOMS_RING_EGEOMETRY, "init with a bad capacity refused");
    is_int(rooms_ring_segment_init(odd + 8 + (128 - (uintptr_t) odd % 128),
                                   size, 1, SMALL),
           ROOMS_RING_EINVAL, "init of misaligned memory refused");

    is_int(rooms_ring_get(&ring, seg, 3, ROOMS_RING_TO_WORKER),
           ROOMS_RING_EINVAL, "peer 3 of 3 refused");
    is_int(rooms_ring_get(&ring, seg, 0, 2), ROOMS_RING_EINVAL,
           "direction 2 refused");

    /* six rings, six records: each comes out of its own ring only */
    for (i = 0; i < 6; i++) {
        ring_get(&rings[i], seg, i / 2, i % 2);
        is_int(rooms_ring_max_payload(&rings[i]), SMALL / 2 - 16,
               "ring %u: max payload is half the ring minus a header", i);
    }

    bad = 0;

    for (i = 0; i < 6; i++) {
        bad += push_seq(&rings[i], 1000 + i, 100 + i) != ROOMS_RING_OK;
    }

    for (peer = 0; peer < 3; peer++) {
        for (dir = 0; dir < 2; dir++) {
            /* a second handle on the same ring, as the other side has */
            ring_get(&ring, seg, peer, dir);
            i = peer * 2 + dir;
            bad += !pop_seq(&ring, 1000 + i, 100 + i);
            bad += rooms_ring_pop(&ring) != ROOMS_RING_EMPTY;
        }
    }

    is_int(bad, 0, "3 peers x 2 directions: every ring holds its own record");

    free(seg);
}


/* the batch reader's handler in test_round_trip */
typedef struct {
    uint64_t  next;
    int       bad;
    int       stop_at;
} rt_ctx_t;


static int
rt_handler(void *c, const rooms_proto_hdr_t *h, const unsigned char *payload)
{
    size_t     len;
    rt_ctx_t  *ctx = c;

    /* records 0..299 have seq * 37 % 700 bytes; 300 has 5 */
    len = ctx->next == 300 ? 5 : (size_t) (ctx->next * 37 % 700);

    if (h->id != ctx->next || h->len != len || (uintptr_t) payload % 8 != 0
        || !matches(payload, len, ctx->next))
    {
        ctx->bad++;
    }

    ctx->next = h->id + 1;

    return (int) h->id == ctx->stop_at;
}


static void
test_round_trip(void)
{
    int                   bad, n, rc;
    void                 *seg;
    size_t                size, i, len;
    uint64_t              seq;
    rt_ctx_t              ctx;
    rooms_ring_t          ring;
    rooms_proto_hdr_t     hdr;
    const unsigned char  *p;

    static const size_t  sizes[] = {
        0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 100, 255, 256, 1000,
        1400, 4095, 4096, 4097, 10000, 65535, 65536, 200000,
        ROOMS_RING_CAPACITY_DEFAULT / 2 - 17,
        ROOMS_RING_CAPACITY_DEFAULT / 2 - 16
    };

    seg = seg_new(1, ROOMS_RING_CAPACITY_DEFAULT, &size);
    ring_get(&ring, seg, 0, ROOMS_RING_TO_WORKER);

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        len = sizes[i];
        is_int(push_seq(&ring, i, len), ROOMS_RING_OK, "push %zu bytes", len);
        ok(pop_seq(&ring, i, len), "pop %zu bytes: same header and bytes",
           len);
    }

    is_int(rooms_ring_used(&ring), 0, "nothing left after the round trips");

    /* peek twice, same record; pop; the next one */
    push_seq(&ring, 1, 10);
    push_seq(&ring, 2, 20);
    rooms_ring_peek(&ring, &hdr, &p);
    rc = rooms_ring_peek(&ring, &hdr, &p);
    ok(rc == ROOMS_RING_OK && hdr.id == 1, "a second peek sees the same");
    ok(pop_seq(&ring, 1, 10) && pop_seq(&ring, 2, 20),
       "then pop gives them in order");

    /* pop without a peek discards the oldest record */
    push_seq(&ring, 3, 30);
    push_seq(&ring, 4, 40);
    is_int(rooms_ring_pop(&ring), ROOMS_RING_OK, "pop without a peek");
    ok(pop_seq(&ring, 4, 40), "it consumed the oldest record");

    /* the batch reader */
    bad = 0;

    for (seq = 0; seq < 300; seq++) {
        bad += push_seq(&ring, seq, (size_t) (seq * 37 % 700))
               != ROOMS_RING_OK;
    }

    is_int(bad, 0, "300 records of 0..699 bytes pushed");

    ctx.next = 0;
    ctx.bad = 0;
    ctx.stop_at = -1;

    n = rooms_ring_read(&ring, rt_handler, &ctx, 100);
    is_int(n, 100, "read(max 100) hands out 100 records");

    ctx.stop_at = 150;
    n = rooms_ring_read(&ring, rt_handler, &ctx, 1000);
    is_int(n, 51, "a handler returning nonzero stops after its record");

    ctx.stop_at = -1;
    n = rooms_ring_read(&ring, rt_handler, &ctx, 1000);
    is_int(n, 149, "read drains the rest");
    is_int(ctx.bad, 0, "every record read in order with its bytes");
    is_int(ctx.next, 300, "all 300 seen once");

    n = rooms_ring_read(&ring, rt_handler, &ctx, 1000);
    is_int(n, 0, "read of an empty ring gives 0");

    /* a peeked record is still there for read */
    push_seq(&ring, 300, 5);
    rooms_ring_peek(&ring, &hdr, &p);
    n = rooms_ring_read(&ring, rt_handler, &ctx, 1000);
    ok(n == 1 && ctx.next == 301 && ctx.bad == 0,
       "read after a peek starts with the peeked record");
    is_int(rooms_ring_pop(&ring), ROOMS_RING_EMPTY,
           "and pop after that read finds nothing");

    /* discard: the consumer drops all that is queued */
    for (seq = 0; seq < 10; seq++) {
        push_seq(&ring, seq, 1000);
    }

    rooms_ring_peek(&ring, &hdr, &p);
    rooms_ring_discard(&ring);
    is_int(rooms_ring_used(&ring), 0, "discard empties the ring");
    is_int(rooms_ring_pop(&ring), ROOMS_RING_EMPTY,
           "a peek before discard is forgotten");
    push_seq(&ring, 77, 7);
    ok(pop_seq(&ring, 77, 7), "the ring works after a discard");
    is_int(rooms_ring_drops(&ring), 0, "no drops in all that");

    free(seg);
}


static void
test_empty(void)
{
    void                 *seg;
    size_t                size;
    rooms_ring_t          ring;
    rooms_proto_hdr_t     hdr;
    const unsigned char  *p;

    seg = seg_new(1, SMALL, &size);
    ring_get(&ring, seg, 0, ROOMS_RING_FROM_WORKER);

    is_int(rooms_ring_peek(&ring, &hdr, &p), ROOMS_RING_EMPTY,
           "peek of a new ring: empty");
    is_int(rooms_ring_pop(&ring), ROOMS_RING_EMPTY,
           "pop of a new ring: empty");
    is_int(rooms_ring_used(&ring), 0, "a new ring uses 0 bytes");
    is_int(rooms_ring_drops(&ring), 0, "a new ring has dropped nothing");

    push_seq(&ring, 5, 5);
    pop_seq(&ring, 5, 5);
    is_int(rooms_ring_pop(&ring), ROOMS_RING_EMPTY,
           "pop after the last record: empty");

    free(seg);
}


static void
test_full(void)
{
    int            bad, n, rc;
    void          *seg;
    size_t         size;
    uint64_t       seq;
    rooms_ring_t   ring;

    seg = seg_new(1, SMALL, &size);
    ring_get(&ring, seg, 0, ROOMS_RING_TO_WORKER);

    /* 100 bytes are 120 in the ring: 34 fit in 4096, with 16 to spare */
    for (n = 0; n < 100; n++) {
        rc = push_seq(&ring, n, 100);

        if (rc != ROOMS_RING_OK) {
            break;
        }
    }

    is_int(n, 34, "34 records of 120 bytes fit in 4 KiB");
    is_int(rc, ROOMS_RING_FULL, "the 35th is refused: ROOMS_RING_FULL");
    is_int(rooms_ring_drops(&ring), 1, "the drop counter counts it");
    is_int(rooms_ring_used(&ring), 34 * 120, "a refused push writes nothing");

    is_int(push_seq(&ring, 99, 100), ROOMS_RING_FULL, "still full");
    is_int(push_seq(&ring, 99, 2000), ROOMS_RING_FULL, "full for big ones");
    is_int(rooms_ring_drops(&ring), 3, "3 drops counted");

    is_int(push_seq(&ring, 34, 0), ROOMS_RING_OK,
           "an empty record (16 bytes) still fits the last 16");
    is_int(rooms_ring_used(&ring), 4096, "the ring is exactly full");
    is_int(push_seq(&ring, 99, 0), ROOMS_RING_FULL,
           "not even an empty record fits now");
    is_int(rooms_ring_drops(&ring), 4, "4 drops counted");

    /* one record out makes room for one at the start */
    ok(pop_seq(&ring, 0, 100), "the oldest record is intact");
    is_int(push_seq(&ring, 35, 100), ROOMS_RING_OK,
           "after one pop, a 120-byte record fits again");

    bad = 0;

    for (seq = 1; seq < 34; seq++) {
        bad += !pop_seq(&ring, seq, 100);
    }

    bad += !pop_seq(&ring, 34, 0);
    bad += !pop_seq(&ring, 35, 100);

    is_int(bad, 0, "everything queued before and after FULL came out intact");
    is_int(rooms_ring_pop(&ring), ROOMS_RING_EMPTY, "and then nothing");
    is_int(rooms_ring_drops(&ring), 4, "popping does not touch drops");

    free(seg);
}


static void
test_too_big(void)
{
    void          *seg;
    size_t         size;
    rooms_ring_t   ring;

    seg = seg_new(1, SMALL, &size);
    ring_get(&ring, seg, 0, ROOMS_RING_TO_WORKER);

    is_int(rooms_ring_max_payload(&ring), 2032,
           "max payload of a 4 KiB ring: 2048 - 16");
    is_int(push_seq(&ring, 1, 2032), ROOMS_RING_OK, "2032 bytes accepted");
    ok(pop_seq(&ring, 1, 2032), "and read back");

    is_int(push_seq(&ring, 2, 2033), ROOMS_RING_TOO_BIG,
           "2033 bytes: ROOMS_RING_TOO_BIG");
    is_int(rooms_ring_push(&ring, ROOMS_PROTO_SIGNAL, 0, 3, big, SIZE_MAX),
           ROOMS_RING_TOO_BIG, "SIZE_MAX bytes: too big, no overflow");
    is_int(rooms_ring_push(&ring, ROOMS_PROTO_SIGNAL, 0, 3, big, 1u << 31),
           ROOMS_RING_TOO_BIG, "2 GiB: too big");
    is_int(rooms_ring_drops(&ring), 3, "each refusal is counted");
    is_int(rooms_ring_used(&ring), 0, "and nothing was written");

    is_int(rooms_ring_push(&ring, ROOMS_PROTO_PAD, 0, 4, big, 8),
           ROOMS_RING_EINVAL, "type 0 (the padding marker) refused");
    is_int(rooms_ring_push(&ring, ROOMS_PROTO_SIGNAL, 0, 4, NULL, 8),
           ROOMS_RING_EINVAL, "a NULL payload with a length refused");
    is_int(rooms_ring_push(&ring, ROOMS_PROTO_SIGNAL, 0, 4, NULL, 0),
           ROOMS_RING_OK, "a NULL payload of 0 bytes is an empty record");
    is_int(rooms_ring_drops(&ring), 5, "refused arguments count as drops");

    free(seg);
}


/*
 * Pushes one record of exactly total ring bytes (16 + payload, padded to
 * 8), with a payload length that is not always a multiple of 8.
 */
static int
push_total(rooms_ring_t *ring, uint64_t seq, uint64_t total, size_t *len)
{
    *len = total == 16 ? 0 : (size_t) (total - 16 - seq % 8);

    return push_seq(ring, seq, *len);
}


/*
 * Moves the write position of an empty ring to offset target by pushing
 * and popping fillers; *pos mirrors the ring's head.  Every step checks
 * how many bytes the ring says it holds, padding included.  -1 on error.
 */
static int
move_to(rooms_ring_t *ring, uint64_t *pos, uint64_t target, uint64_t *seq)
{
    int       guard;
    size_t    len;
    uint64_t  cap, off, end, dist, step, t, used;

    cap = ring->capacity;

    for (guard = 0; guard < 64; guard++) {
        off = *pos & (cap - 1);

        if (off == target) {
            return 0;
        }

        end = cap - off;
        dist = (target - off) & (cap - 1);
        step = dist < end ? dist : end;
        t = step < cap / 2 ? step : cap / 2;

        /* no record is 8 bytes: never leave a step of 8 behind */
        if (step - t == 8) {
            t -= 16;
        }

        /* a step of 8: pad to the end, or overshoot and go round again */
        if (t < 16) {
            t = 16;
        }

        if (push_total(ring, *seq, t, &len) != ROOMS_RING_OK) {
            return -1;
        }

        used = t > end ? end + t : t;

        if (rooms_ring_used(ring) != used || !pop_seq(ring, *seq, len)
            || rooms_ring_used(ring) != 0)
        {
            return -1;
        }

        *pos += used;
        (*seq)++;
    }

    return -1;
}


static void
test_every_wrap(void)
{
    int            moved, wraps, fits, ngaps;
    void          *seg;
    size_t         size, len;
    uint64_t       gap, pos, seq, total;
    rooms_ring_t   ring;

    seg = seg_new(1, SMALL, &size);
    ring_get(&ring, seg, 0, ROOMS_RING_FROM_WORKER);

    moved = 0;
    wraps = 0;
    fits = 0;
    ngaps = 0;
    pos = 0;
    seq = 0;

    /*
     * Every gap an 8-aligned record can leave before the end, from the
     * smallest (8: room only for the marker's type field) to the largest
     * a record of at most half the ring can fail to fit (2040).
     */
    for (gap = 8; gap <= SMALL / 2 - 8; gap += 8) {
        ngaps++;

        /* a record 8 bytes too long for the gap: padding, then offset 0 */
        moved += move_to(&ring, &pos, SMALL - gap, &seq) == 0;

        total = gap + 8;

        if (push_total(&ring, seq, total, &len) == ROOMS_RING_OK
            && rooms_ring_used(&ring) == gap + total
            && pop_seq(&ring, seq, len)
            && rooms_ring_used(&ring) == 0)
        {
            wraps++;
        }

        pos += gap + total;
        seq++;

        /* a record exactly as long as the gap: no padding */
        moved += move_to(&ring, &pos, SMALL - gap, &seq) == 0;

        if (gap < 16) {
            fits++;
            continue;
        }

        if (push_total(&ring, seq, gap, &len) == ROOMS_RING_OK
            && rooms_ring_used(&ring) == gap
            && pop_seq(&ring, seq, len)
            && rooms_ring_used(&ring) == 0)
        {
            fits++;
        }

        pos += gap;
        seq++;
    }

    is_int(moved, 2 * ngaps, "fillers reached every offset, exactly counted");
    is_int(wraps, ngaps, "%d gaps (8..2040): a record that does not fit "
           "wraps with a padding marker, and comes back intact", ngaps);
    is_int(fits, ngaps, "a record that exactly fills the gap: no padding");
    is_int(rooms_ring_drops(&ring), 0, "no drops on the way");
    diag("wrap sweep: %llu records, %llu bytes through a 4 KiB ring",
         (unsigned long long) seq, (unsigned long long) pos);

    free(seg);
}


static void
test_random(void)
{
    int            rc, bad, fulls, empty_full;
    void          *seg;
    size_t         size, len, n, head, count;
    uint64_t       s, r, seq, bytes, i;
    rooms_ring_t   prod, cons;

    static uint64_t  fifo_seq[SMALL / 16];
    static size_t    fifo_len[SMALL / 16];

    seg = seg_new(2, SMALL, &size);
    ring_get(&prod, seg, 1, ROOMS_RING_TO_WORKER);
    ring_get(&cons, seg, 1, ROOMS_RING_TO_WORKER);

    s = 0x9e3779b97f4a7c15ULL;
    head = 0;
    count = 0;
    seq = 0;
    bytes = 0;
    bad = 0;
    fulls = 0;
    empty_full = 0;
    n = SMALL / 16;

    for (i = 0; i < 200000; i++) {
        r = rnd(&s);

        if (r % 16 < 9) {
            len = r % 64 == 0 ? (size_t) (r >> 32) % 2033
                              : (size_t) (r >> 32) % 200;

            rc = push_seq(&prod, seq, len);

            if (rc == ROOMS_RING_OK) {
                fifo_seq[(head + count) % n] = seq;
                fifo_len[(head + count) % n] = len;
                count++;
                bytes += len;

            } else if (rc == ROOMS_RING_FULL) {
                fulls++;
                empty_full += count == 0;

            } else {
                bad++;
            }

            seq++;

        } else if (count == 0) {
            bad += rooms_ring_pop(&cons) != ROOMS_RING_EMPTY;

        } else {
            bad += !pop_seq(&cons, fifo_seq[head], fifo_len[head]);
            head = (head + 1) % n;
            count--;
        }
    }

    while (count) {
        bad += !pop_seq(&cons, fifo_seq[head], fifo_len[head]);
        head = (head + 1) % n;
        count--;
    }

    is_int(bad, 0, "200000 random pushes and pops match a model FIFO");
    is_int(empty_full, 0, "an empty ring never says full");
    is_int(rooms_ring_drops(&cons), fulls,
           "the consumer reads the producer's %d drops", fulls);
    ok(bytes > 1000 * SMALL, "the ring wrapped %llu times",
       (unsigned long long) (bytes / SMALL));
    is_int(rooms_ring_pop(&cons), ROOMS_RING_EMPTY, "empty at the end");

    free(seg);
}


static int
count_handler(void *ctx, const rooms_proto_hdr_t *h, const unsigned char *p)
{
    (*(int *) ctx)++;
    return 0;
}


static void
test_corrupt(void)
{
    int                   n;
    void                 *seg;
    size_t                size;
    uint64_t              seq, *head, save;
    rooms_ring_t          ring;
    rooms_proto_hdr_t     hdr, *rec;
    const unsigned char  *p;

    seg = seg_new(1, SMALL, &size);
    ring_get(&ring, seg, 0, ROOMS_RING_TO_WORKER);

    /* a fresh ring writes its first record at offset 0 */
    push_seq(&ring, 1, 100);
    push_seq(&ring, 2, 100);
    rec = (rooms_proto_hdr_t *) ring.data;

    rec->len = 5000;
    is_int(rooms_ring_peek(&ring, &hdr, &p), ROOMS_RING_CORRUPT,
           "a length over half the ring: corrupt");

    rec->len = 2000;
    is_int(rooms_ring_peek(&ring, &hdr, &p), ROOMS_RING_CORRUPT,
           "a length past the published head: corrupt");

    rec->len = 100;
    rec->type = ROOMS_PROTO_PAD;
    is_int(rooms_ring_peek(&ring, &hdr, &p), ROOMS_RING_CORRUPT,
           "padding that runs past the published head: corrupt");

    n = 0;
    is_int(rooms_ring_read(&ring, count_handler, &n, 10), ROOMS_RING_CORRUPT,
           "read reports the corruption");
    is_int(n, 0, "and hands out nothing");
    is_int(rooms_ring_pop(&ring), ROOMS_RING_CORRUPT, "pop refuses too");

    /* nothing was consumed: once repaired, both records read fine */
    rec->type = 1 + 1 % 7;
    ok(pop_seq(&ring, 1, 100), "a corrupt record is never consumed");
    ok(pop_seq(&ring, 2, 100), "the next record reads fine");

    /*
     * A record whose length runs past the end of the buffer, with enough
     * published after it that only the buffer's end can catch it: with
     * the 2 records above, 28 more in and out put the next one at 3600,
     * 496 bytes before the end; 8 more fill the ring past the end.
     */
    for (seq = 10; seq < 38; seq++) {
        push_seq(&ring, seq, 100);
        pop_seq(&ring, seq, 100);
    }

    for (seq = 40; seq < 49; seq++) {
        push_seq(&ring, seq, 100);
    }

    rec = (rooms_proto_hdr_t *) (ring.data + 3600);
    is_int(rec->id, 40, "record 40 sits 496 bytes before the end");
    is_int(rooms_ring_used(&ring), 9 * 120 + 16, "9 records and a pad");

    rec->len = 1000;
    is_int(rooms_ring_peek(&ring, &hdr, &p), ROOMS_RING_CORRUPT,
           "a record straddling the end of the buffer: corrupt");
    rec->len = 100;

    /*
     * A head from a broken producer: head is the first word of the
     * control block (see the layout in rooms_ring.h).
     */
    head = (uint64_t *) ring.ctl;
    save = *head;

    /* fresh handles, which read head from shared memory */
    *head = save + SMALL;
    ring_get(&ring, seg, 0, ROOMS_RING_TO_WORKER);
    is_int(rooms_ring_peek(&ring, &hdr, &p), ROOMS_RING_CORRUPT,
           "a head more than the capacity ahead: corrupt");

    *head = save - 4;
    ring_get(&ring, seg, 0, ROOMS_RING_TO_WORKER);
    is_int(rooms_ring_peek(&ring, &hdr, &p), ROOMS_RING_CORRUPT,
           "a head not on a record boundary: corrupt");

    *head = save;
    ring_get(&ring, seg, 0, ROOMS_RING_TO_WORKER);
    ok(pop_seq(&ring, 40, 100), "with head restored, reading goes on");

    free(seg);
}


static void
test_segment_check(void)
{
    int                    rc;
    void                  *seg;
    size_t                 size;
    rooms_ring_t           ring;
    rooms_ring_seg_hdr_t  *hdr, save;

    seg = seg_new(2, SMALL, &size);
    hdr = seg;
    save = *hdr;

    is_int(hdr->magic, ROOMS_RING_MAGIC, "the header carries the magic");
    is_int(hdr->version, ROOMS_PROTO_VERSION, "and ROOMS_PROTO_VERSION");
    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_OK,
           "a fresh segment passes the check");
    is_int(rooms_ring_segment_check(seg, size + 4096), ROOMS_RING_OK,
           "a mapping larger than the segment is fine");

    is_int(rooms_ring_segment_check(NULL, size), ROOMS_RING_EINVAL,
           "NULL refused");
    is_int(rooms_ring_segment_check((char *) seg + 8, size - 8),
           ROOMS_RING_EINVAL, "misaligned memory refused");
    is_int(rooms_ring_segment_check(seg, 0), ROOMS_RING_ESIZE,
           "0 bytes: too short");
    is_int(rooms_ring_segment_check(seg, sizeof(*hdr) - 1), ROOMS_RING_ESIZE,
           "shorter than the header: too short");
    is_int(rooms_ring_segment_check(seg, size - 1), ROOMS_RING_ESIZE,
           "one byte short of the rings: too short");

    hdr->magic ^= 1;
    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_EMAGIC,
           "a bad magic: not a segment");
    *hdr = save;

    hdr->version = ROOMS_PROTO_VERSION + 1;
    rc = rooms_ring_segment_check(seg, size);
    is_int(rc, ROOMS_RING_EVERSION, "another version: ROOMS_RING_EVERSION");
    ok(strstr(rooms_ring_strerror(rc), "version") != NULL
       && strstr(rooms_ring_strerror(rc), "different") != NULL,
       "its message names the version mismatch");
    diag("segment v%u seen by a v%u build: %s", hdr->version,
         ROOMS_PROTO_VERSION, rooms_ring_strerror(rc));
    is_int(rooms_ring_get(&ring, seg, 0, 0), ROOMS_RING_EINVAL,
           "get refuses that segment too");

    /* a newer layout may differ in anything after the first 8 bytes */
    hdr->npeers = 0;
    hdr->capacity = 12345;
    is_int(rooms_ring_segment_check(seg, 64), ROOMS_RING_EVERSION,
           "the version is judged before the rest of the header");
    *hdr = save;

    hdr->npeers = 0;
    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_EGEOMETRY,
           "0 peers: bad geometry");
    hdr->npeers = ROOMS_RING_MAX_PEERS + 1;
    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_EGEOMETRY,
           "too many peers: bad geometry");
    *hdr = save;

    hdr->capacity = SMALL + 8;
    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_EGEOMETRY,
           "a capacity that is not a power of two: bad geometry");
    hdr->capacity = (uint64_t) 1 << 40;
    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_EGEOMETRY,
           "a huge capacity: bad geometry");
    *hdr = save;

    hdr->hdr_size = 64;
    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_EGEOMETRY,
           "another header size: bad geometry");
    *hdr = save;

    hdr->npeers = 1;
    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_ESIZE,
           "a size field that disagrees with the geometry refused");
    *hdr = save;

    hdr->capacity = 8192;
    hdr->size = rooms_ring_segment_size(2, 8192);
    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_ESIZE,
           "a header promising more than is mapped: too short");
    *hdr = save;

    is_int(rooms_ring_segment_check(seg, size), ROOMS_RING_OK,
           "restored, it passes again");

    ok(strcmp(rooms_ring_strerror(ROOMS_RING_EMAGIC),
              rooms_ring_strerror(ROOMS_RING_ESIZE)) != 0
       && strcmp(rooms_ring_strerror(42), "unknown ring error") == 0
       && strstr(rooms_ring_strerror(ROOMS_RING_FULL), "dropped") != NULL,
       "strerror has a line for each code");

    free(seg);
}


/* ---- the kernel helpers ---- */


/* Open descriptors of this process, from /proc/self/fd. */
static int
count_fds(void)
{
    int             n;
    DIR            *d;
    struct dirent  *e;

    d = opendir("/proc/self/fd");

    if (d == NULL) {
        return -1;
    }

    n = 0;

    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }

    closedir(d);

    return n - 1;        /* the directory's own descriptor */
}


static void
test_memfd(void)
{
    int             fd, fd2, flags;
    void           *mem;
    size_t          size, msize;
    unsigned char  *a, *b;

    size = rooms_ring_segment_size(2, SMALL);
    fd = rooms_ring_memfd_create(size, &mem);

    if (fd == -1) {
        tap_bail_out("memfd_create: %s", strerror(errno));
    }

    flags = fcntl(fd, F_GETFD);
    ok(flags != -1 && (flags & FD_CLOEXEC), "the memfd is close-on-exec");
    ok(ftruncate(fd, 4096) == -1 && errno == EPERM,
       "the memfd cannot be shrunk (sealed)");
    ok(ftruncate(fd, (off_t) size * 2) == -1 && errno == EPERM,
       "nor grown");
    ok(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == -1,
       "nor sealed against writes");

    b = rooms_ring_memfd_map(fd, &msize);
    ok(b != NULL && msize == size, "a second mapping of it, %zu bytes",
       msize);

    if (b != NULL) {
        a = mem;
        a[100] = 42;
        a[size - 1] = 43;
        ok(b[100] == 42 && b[size - 1] == 43, "the two mappings share pages");
        is_int(rooms_ring_segment_init(mem, size, 2, SMALL), ROOMS_RING_OK,
               "init through the first mapping");
        is_int(rooms_ring_segment_check(b, msize), ROOMS_RING_OK,
               "check through the second");
        munmap(b, msize);
    }

    munmap(mem, size);
    close(fd);

    /* a memfd without seals is refused by the attaching side */
    fd2 = memfd_create("unsealed", MFD_CLOEXEC);

    if (fd2 != -1 && ftruncate(fd2, 8192) == 0) {
        errno = 0;
        ok(rooms_ring_memfd_map(fd2, &msize) == NULL && errno == EINVAL,
           "an unsealed memfd is refused");
        close(fd2);
    }

    errno = 0;
    ok(rooms_ring_memfd_map(-1, &msize) == NULL && errno == EBADF,
       "a closed descriptor is refused");
    errno = 0;
    ok(rooms_ring_memfd_create(0, &mem) == -1 && errno == EINVAL,
       "a memfd of 0 bytes is refused");
}


static void
test_doorbell(void)
{
    int  fd, flags;

    fd = rooms_ring_doorbell_create();
    ok(fd >= 0, "a doorbell");
    flags = fcntl(fd, F_GETFL);
    ok(flags != -1 && (flags & O_NONBLOCK), "it never blocks");
    is_int(rooms_ring_doorbell_drain(fd), 0, "a quiet bell drains to 0");
    is_int(rooms_ring_doorbell_ring(fd), 0, "ring");
    is_int(rooms_ring_doorbell_ring(fd), 0, "ring");
    is_int(rooms_ring_doorbell_ring(fd), 0, "ring");
    is_int(rooms_ring_doorbell_drain(fd), 3, "drain collects 3 rings");
    is_int(rooms_ring_doorbell_drain(fd), 0, "and clears the bell");
    close(fd);

    is_int(rooms_ring_doorbell_ring(fd), -1, "ringing a closed bell fails");
}


static void
test_fd_limits(void)
{
    int      sv[2], fds[ROOMS_RING_MAX_FDS + 1], got[4], n, before, i;
    int      many[ROOMS_RING_MAX_FDS];
    char     buf[128];
    ssize_t  r;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
        tap_bail_out("socketpair: %s", strerror(errno));
    }

    for (i = 0; i < ROOMS_RING_MAX_FDS + 1; i++) {
        fds[i] = rooms_ring_doorbell_create();
    }

    before = count_fds();

    errno = 0;
    ok(rooms_ring_send_fds(sv[0], "x", 0, fds, 1) == -1 && errno == EINVAL,
       "send of 0 bytes refused: descriptors need a byte to ride on");
    ok(rooms_ring_send_fds(sv[0], "x", 1, fds, ROOMS_RING_MAX_FDS + 1) == -1
       && errno == EINVAL, "send of more than %d descriptors refused",
       ROOMS_RING_MAX_FDS);

    /* more descriptors than the receiver takes */
    r = rooms_ring_send_fds(sv[0], "three", 5, fds, 3);
    is_int(r, 5, "send 5 bytes with 3 descriptors");
    n = 1;
    errno = 0;
    r = rooms_ring_recv_fds(sv[1], buf, sizeof(buf), got, &n);
    ok(r == -1 && errno == EMSGSIZE && n == 0,
       "receiving 3 descriptors into room for 1: EMSGSIZE");
    is_int(count_fds(), before, "and none of the 3 stayed open");

    /* a message longer than the buffer */
    memset(buf, 'm', sizeof(buf));
    rooms_ring_send_fds(sv[0], buf, 100, fds, 2);
    n = 4;
    errno = 0;
    r = rooms_ring_recv_fds(sv[1], buf, 10, got, &n);
    ok(r == -1 && errno == EMSGSIZE, "a truncated message: EMSGSIZE");
    is_int(count_fds(), before, "and its descriptors were closed");

    /* the maximum, exactly */
    rooms_ring_send_fds(sv[0], "max", 3, fds, ROOMS_RING_MAX_FDS);
    n = ROOMS_RING_MAX_FDS;
    r = rooms_ring_recv_fds(sv[1], buf, sizeof(buf), many, &n);
    ok(r == 3 && n == ROOMS_RING_MAX_FDS, "%d descriptors in one message",
       ROOMS_RING_MAX_FDS);
    is_int(count_fds(), before + ROOMS_RING_MAX_FDS,
           "all of them open on the receiving side");

    for (i = 0; i < n && r == 3; i++) {
        close(many[i]);
    }

    /* no descriptors at all */
    rooms_ring_send_fds(sv[0], "plain", 5, NULL, 0);
    n = 4;
    r = rooms_ring_recv_fds(sv[1], buf, sizeof(buf), got, &n);
    ok(r == 5 && n == 0 && memcmp(buf, "plain", 5) == 0,
       "a message without descriptors");

    /* EOF */
    close(sv[0]);
    n = 4;
    is_int(rooms_ring_recv_fds(sv[1], buf, sizeof(buf), got, &n), 0,
           "the peer closed its end: 0 (EOF)");

    close(sv[1]);

    for (i = 0; i < ROOMS_RING_MAX_FDS + 1; i++) {
        close(fds[i]);
    }
}


/* ---- two processes ---- */


/* the two-process records: length, type and flags follow from seq */
static size_t
mp_len(uint64_t seq)
{
    return 12 + (size_t) (seq * 37 % 241);
}


typedef struct {
    uint64_t  next;
    uint64_t  bad;
    uint64_t  bytes;
} mp_ctx_t;


static int
mp_handler(void *c, const rooms_proto_hdr_t *h, const unsigned char *p)
{
    size_t     len;
    uint32_t   sum;
    uint64_t   inner;
    mp_ctx_t  *ctx = c;

    len = mp_len(ctx->next);

    if (h->id != ctx->next || h->len != len
        || h->type != 1 + ctx->next % 7 || h->flags != (uint16_t) ctx->next)
    {
        if (ctx->bad++ < 5) {
            diag("record %llu: got id %llu len %u type %u",
                 (unsigned long long) ctx->next, (unsigned long long) h->id,
                 h->len, h->type);
        }

        ctx->next = h->id + 1;
        return 0;
    }

    memcpy(&inner, p, 8);
    memcpy(&sum, p + len - 4, 4);

    if (inner != ctx->next || sum != fnv1a(p, len - 4)) {
        if (ctx->bad++ < 5) {
            diag("record %llu: payload damaged", (unsigned long long) h->id);
        }
    }

    ctx->next++;
    ctx->bytes += len;

    return 0;
}


/* The child of test_two_processes: pushes NRECORDS, reports its FULLs. */
static void
mp_producer(void *seg, int report)
{
    size_t         len;
    uint32_t       sum;
    uint64_t       seq, fulls;
    rooms_ring_t   ring;
    unsigned char  buf[512];

    alarm(30);

    if (rooms_ring_get(&ring, seg, 0, ROOMS_RING_TO_WORKER) != ROOMS_RING_OK) {
        _exit(2);
    }

    fulls = 0;

    for (seq = 0; seq < NRECORDS; seq++) {
        len = mp_len(seq);
        memcpy(buf, &seq, 8);
        fill(buf + 8, len - 12, seq);
        sum = fnv1a(buf, len - 4);
        memcpy(buf + len - 4, &sum, 4);

        while (rooms_ring_push(&ring, (uint16_t) (1 + seq % 7),
                               (uint16_t) seq, seq, buf, len)
               == ROOMS_RING_FULL)
        {
            fulls++;
            sched_yield();
        }
    }

    if (write(report, &fulls, sizeof(fulls)) != sizeof(fulls)) {
        _exit(3);
    }

    _exit(0);
}


static void
test_two_processes(void)
{
    int           fd, pipefd[2], status, n, idle, exited;
    void         *seg;
    pid_t         pid;
    size_t        size;
    double        t0, t1;
    uint64_t      fulls;
    mp_ctx_t      ctx;
    rooms_ring_t  ring;

    size = rooms_ring_segment_size(1, 64 * KIB);
    fd = rooms_ring_memfd_create(size, &seg);

    if (fd == -1 || pipe(pipefd) == -1) {
        tap_bail_out("memfd or pipe: %s", strerror(errno));
    }

    rooms_ring_segment_init(seg, size, 1, 64 * KIB);
    ring_get(&ring, seg, 0, ROOMS_RING_TO_WORKER);

    fflush(stdout);
    fflush(stderr);

    t0 = now_s();
    pid = fork();

    if (pid == -1) {
        tap_bail_out("fork: %s", strerror(errno));
    }

    if (pid == 0) {
        close(pipefd[0]);
        mp_producer(seg, pipefd[1]);
    }

    close(pipefd[1]);

    memset(&ctx, 0, sizeof(ctx));
    exited = 0;
    idle = 0;
    status = -1;

    for ( ;; ) {
        n = rooms_ring_read(&ring, mp_handler, &ctx, 256);

        if (n < 0) {
            diag("read: %s", rooms_ring_strerror(n));
            break;
        }

        if (ctx.next >= NRECORDS) {
            break;
        }

        if (n > 0) {
            continue;
        }

        sched_yield();

        /* a dead producer or a stuck test must not spin forever */
        if (++idle % 4096 == 0) {
            if (exited) {
                break;              /* one last read after the exit: done */
            }

            if (waitpid(pid, &status, WNOHANG) == pid) {
                exited = 1;

            } else if (now_s() - t0 > DEADLINE) {
                diag("no progress after %.0f s", DEADLINE);
                kill(pid, SIGKILL);
                break;
            }
        }
    }

    t1 = now_s();

    if (!exited) {
        waitpid(pid, &status, 0);
    }

    fulls = UINT64_MAX;

    if (read(pipefd[0], &fulls, sizeof(fulls)) != sizeof(fulls)) {
        fulls = UINT64_MAX;
    }

    close(pipefd[0]);

    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "the producer process finished cleanly");
    is_int(ctx.next, NRECORDS, "%d records crossed the process boundary",
           NRECORDS);
    is_int(ctx.bad, 0, "in order, none lost or repeated, checksums right");
    is_int(rooms_ring_read(&ring, mp_handler, &ctx, 1), 0,
           "and nothing after the last one");
    is_int(rooms_ring_drops(&ring), fulls,
           "the drop counter equals the producer's FULL count (%llu)",
           (unsigned long long) fulls);

    diag("two processes, 64 KiB ring: %d records (%.1f MB of payload) in "
         "%.3f s: %.2f M records/s, %.0f MB/s", NRECORDS,
         (double) ctx.bytes / 1e6, t1 - t0, NRECORDS / (t1 - t0) / 1e6,
         (double) ctx.bytes / (t1 - t0) / 1e6);

    munmap(seg, size);
    close(fd);
}


/* The child of test_handover; its exit status says what went wrong. */
static void
handover_child(int sock)
{
    int            fds[4], n, i, flags, rc;
    char           msg[64];
    void          *mem;
    size_t         size;
    ssize_t        r;
    rooms_ring_t   ring;

    alarm(10);

    n = 4;
    r = rooms_ring_recv_fds(sock, msg, sizeof(msg), fds, &n);

    if (r != 6 || memcmp(msg, "hello", 6) != 0) {
        _exit(10);
    }

    if (n != 2) {
        _exit(11);
    }

    for (i = 0; i < n; i++) {
        flags = fcntl(fds[i], F_GETFD);

        if (flags == -1 || !(flags & FD_CLOEXEC)) {
            _exit(12);
        }
    }

    mem = rooms_ring_memfd_map(fds[0], &size);

    if (mem == NULL) {
        _exit(13);
    }

    close(fds[0]);

    rc = rooms_ring_segment_check(mem, size);

    if (rc != ROOMS_RING_OK) {
        _exit(14);
    }

    if (rooms_ring_get(&ring, mem, 1, ROOMS_RING_TO_WORKER) != ROOMS_RING_OK) {
        _exit(15);
    }

    if (rooms_ring_push(&ring, ROOMS_PROTO_JOIN, 0, (uint64_t) getpid(),
                        "ring from child", 15)
        != ROOMS_RING_OK)
    {
        _exit(16);
    }

    if (rooms_ring_doorbell_ring(fds[1]) != 0) {
        _exit(17);
    }

    _exit(0);
}


static void
test_handover(void)
{
    int                   sv[2], fd, efd, fds[2], status, rc, n;
    char                  buf[16];
    void                 *seg;
    pid_t                 pid;
    size_t                size;
    rooms_ring_t          ring;
    struct pollfd         pfd;
    rooms_proto_hdr_t     hdr;
    const unsigned char  *p;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
        tap_bail_out("socketpair: %s", strerror(errno));
    }

    size = rooms_ring_segment_size(2, SMALL);
    fd = rooms_ring_memfd_create(size, &seg);
    efd = rooms_ring_doorbell_create();

    if (fd == -1 || efd == -1) {
        tap_bail_out("memfd or eventfd: %s", strerror(errno));
    }

    rooms_ring_segment_init(seg, size, 2, SMALL);
    ring_get(&ring, seg, 1, ROOMS_RING_TO_WORKER);

    fflush(stdout);
    fflush(stderr);

    pid = fork();

    if (pid == -1) {
        tap_bail_out("fork: %s", strerror(errno));
    }

    if (pid == 0) {
        close(sv[0]);
        close(fd);
        close(efd);
        munmap(seg, size);
        handover_child(sv[1]);
    }

    close(sv[1]);

    fds[0] = fd;
    fds[1] = efd;
    is_int(rooms_ring_send_fds(sv[0], "hello", 6, fds, 2), 6,
           "the memfd and an eventfd sent with SCM_RIGHTS");

    pfd.fd = efd;
    pfd.events = POLLIN;
    rc = poll(&pfd, 1, 5000);
    is_int(rc, 1, "the child rang the doorbell");
    ok(rooms_ring_doorbell_drain(efd) >= 1, "the doorbell had rung");

    rc = rooms_ring_peek(&ring, &hdr, &p);
    is_int(rc, ROOMS_RING_OK, "its record is in the shared ring");

    if (rc == ROOMS_RING_OK) {
        ok(hdr.type == ROOMS_PROTO_JOIN && hdr.id == (uint64_t) pid
           && hdr.len == 15 && memcmp(p, "ring from child", 15) == 0,
           "a HELLO from pid %d with its payload", (int) pid);
        rooms_ring_pop(&ring);
    }

    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "the child mapped, checked and used the segment (status %d)",
       WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    n = 2;
    is_int(rooms_ring_recv_fds(sv[0], buf, sizeof(buf), fds, &n), 0,
           "the child is gone: EOF on the socket");

    close(sv[0]);
    close(efd);
    close(fd);
    munmap(seg, size);
}


int
main(void)
{
    /* a hung child or consumer ends the test instead of the CI run */
    alarm(60);

    test_geometry();
    test_round_trip();
    test_empty();
    test_full();
    test_too_big();
    test_every_wrap();
    test_random();
    test_corrupt();
    test_segment_check();
    test_memfd();
    test_doorbell();
    test_fd_limits();
    test_two_processes();
    test_handover();

    return done_testing();
}
