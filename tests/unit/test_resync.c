/*
 * test_resync.c: a full ring towards one nginx worker, marked, and
 * resynced once it drains (worker/resync.c, sfu_slot_resync(); issue 11,
 * item 2), with the real SFU and real rings in memory.
 *
 * Two nginx "workers": slot 0, whose consumer stops reading (as a
 * SIGSTOPped nginx worker), and slot 1, read at once.  Each ring holds
 * 4 KiB.  The SFU's records go out as the link sends them
 * (rooms_resync_push()).  What nginx does with COUNT and RESYNC records
 * is modelled by the rule of docs/protocol.md: a room keeps the count of
 * the highest seq, and a RESYNC empties the rooms counted at its seq or
 * before.
 *
 *   - the ring of slot 0 overflows: it is marked, the drops are counted,
 *     the drop line is due once and then not again within a second;
 *   - while it is full the resync is not due; a host on slot 1 removes a
 *     guest of slot 0: the BAN is kept, and so is nothing to that guest
 *     pushed after it;
 *   - slot 0 reads its ring late: the counts in it are older than the
 *     ones slot 1 read (stale), and the model keeps the newer;
 *   - drained, the resync is due; its run puts the kept BAN first, then
 *     CLOSE 4409 to each connection that lost records (the removed guest
 *     too, after its BAN), then one COUNT per room with people and a
 *     RESYNC whose seq is below them; the SFU removed those participants,
 *     the others were told (participant_left), and the model's counts
 *     equal the SFU's;
 *   - nothing was lost in the resync, and the ring is no longer marked;
 *   - a ring that loses more connections than the table holds closes
 *     every participant of that slot at its resync;
 *   - COUNT seqs never go down, and a second SFU started with a later
 *     count_seq0 orders after the first.
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tap.h"

#include "resync.h"
#include "sfu.h"


#define CAP        4096
#define NSLOTS     2
#define MAX_RECS   8192
#define ROOMS      8


typedef struct {
    uint16_t   type;
    uint64_t   id;
    char      *data;
    size_t     len;
} rec_t;


static sfu_t           *sfu;
static sfu_io_t         io;
static sfu_dgram_t      queue[64];
static uint64_t         now = 1000000;

static void            *seg;
static rooms_ring_t     prod[NSLOTS], cons[NSLOTS];
static rooms_resync_t   rs[NSLOTS];

static rec_t            got[MAX_RECS];      /* what the consumers read */
static unsigned         ngot;

static long long        last_seq;           /* of the COUNTs pushed */
static unsigned         seq_down;

/* nginx's directory, as the rule says: count and the seq that set it */
static struct {
    long long  count;
    long long  seq;
} dir[ROOMS];


static int
rng(void *ctx, void *buf, size_t n)
{
    size_t          i;
    static uint8_t  x = 7;

    for (i = 0; i < n; i++) {
        x = (uint8_t) (x * 33 + 1);
        ((uint8_t *) buf)[i] = x;
    }

    return 0;
}


static long long
num(const char *json, const char *key)
{
    long long  v;
    json_t    *o;

    o = json_loads(json, 0, NULL);
    v = json_integer_value(json_object_get(o, key));
    json_decref(o);

    return v;
}


/* sfu_io_t.record: as link.c sends each record */
static int
on_record(void *ctx, uint16_t type, uint64_t id, const void *payload,
    size_t len)
{
    char       text[512];
    long long  seq;
    unsigned   slot;

    slot = ROOMS_PROTO_SLOT(id);

    if (slot >= NSLOTS) {
        return -1;
    }

    if (type == ROOMS_PROTO_COUNT && len < sizeof(text)) {
        memcpy(text, payload, len);
        text[len] = '\0';
        seq = num(text, "seq");
        seq_down += seq < last_seq;
        last_seq = seq;
    }

    return rooms_resync_push(&rs[slot], &prod[slot], type, id, payload, len)
           >= 0 ? 0 : -1;
}


static void
on_flush(void *ctx, sfu_io_t *q)
{
    q->n = 0;
}


static int
on_read(void *ctx, const rooms_proto_hdr_t *hdr, const unsigned char *p)
{
    rec_t  *r;

    if (ngot == MAX_RECS) {
        tap_bail_out("too many records read");
    }

    r = &got[ngot++];
    r->type = hdr->type;
    r->id = hdr->id;
    r->len = hdr->len;
    r->data = malloc(hdr->len + 1);
    memcpy(r->data, p, hdr->len);
    r->data[hdr->len] = '\0';

    /* nginx applies COUNT and RESYNC to its directory as it reads */
    if (hdr->type == ROOMS_PROTO_COUNT) {
        long long  room = num(r->data, "room"), seq = num(r->data, "seq");

        if (room >= 0 && room < ROOMS && seq >= dir[room].seq) {
            dir[room].count = num(r->data, "count");
            dir[room].seq = seq;
        }

    } else if (hdr->type == ROOMS_PROTO_RESYNC) {
        long long  seq = num(r->data, "seq");
        unsigned   i;

        for (i = 0; i < ROOMS; i++) {
            if (dir[i].seq <= seq) {
                dir[i].count = 0;
                dir[i].seq = seq;
            }
        }
    }

    return 0;
}


static void
forget(void)
{
    unsigned  i;

    for (i = 0; i < ngot; i++) {
        free(got[i].data);
    }

    ngot = 0;
}


/* the nginx worker of slot reads its whole ring */
static void
read_ring(unsigned slot)
{
    while (rooms_ring_read(&cons[slot], on_read, NULL, 1000) > 0) {
        /* on */
    }
}


static void
record(uint16_t type, uint64_t conn, const char *payload)
{
    rooms_proto_hdr_t  hdr;

    memset(&hdr, 0, sizeof(hdr));
    hdr.type = type;
    hdr.id = conn;
    hdr.len = payload ? (uint32_t) strlen(payload) : 0;

    sfu_record(sfu, now, &hdr, (const unsigned char *) payload, &io);
}


/* each browser its own guest token (one token is one browser) */
static void
join(uint64_t conn, int room, const char *name, const char *role)
{
    char  buf[512];

    snprintf(buf, sizeof(buf), "{\"room\":%d,\"code\":\"code%d\",\"max\":50,"
             "\"name\":\"%s\",\"role\":\"%s\",\"token\":\"%016llx%048x\","
             "\"locked\":false}", room, room, name, role,
             (unsigned long long) conn, 0);
    record(ROOMS_PROTO_JOIN, conn, buf);
}


/* the id of conn, from its welcome among what was read */
static const char *
id_of(uint64_t conn)
{
    unsigned     i;
    json_t      *o;
    static char  id[64];

    for (i = 0; i < ngot; i++) {
        if (got[i].id == conn && got[i].type == ROOMS_PROTO_SIGNAL
            && strstr(got[i].data, "\"welcome\""))
        {
            o = json_loads(got[i].data, 0, NULL);
            snprintf(id, sizeof(id), "%s",
                     json_string_value(json_object_get(o, "id")));
            json_decref(o);
            return id;
        }
    }

    return "";
}


/* the index in got[] of the first record of type to conn, or -1 */
static int
find(uint16_t type, uint64_t conn, unsigned from)
{
    unsigned  i;

    for (i = from; i < ngot; i++) {
        if (got[i].type == type && got[i].id == conn) {
            return (int) i;
        }
    }

    return -1;
}


/* whether a SIGNAL of this type reached conn */
static int
told(uint64_t conn, const char *type)
{
    int   i;
    char  want[64];

    snprintf(want, sizeof(want), "\"type\":\"%s\"", type);

    for (i = find(ROOMS_PROTO_SIGNAL, conn, 0); i >= 0;
         i = find(ROOMS_PROTO_SIGNAL, conn, (unsigned) i + 1))
    {
        if (strstr(got[i].data, want) != NULL) {
            return 1;
        }
    }

    return 0;
}


static unsigned
close_code(int i)
{
    const unsigned char  *p;

    if (i < 0 || got[i].len < 2) {
        return 0;
    }

    p = (const unsigned char *) got[i].data;

    return (unsigned) p[0] << 8 | p[1];
}


static void
make_rings(void)
{
    size_t    size;
    unsigned  i;

    size = rooms_ring_segment_size(NSLOTS, CAP);

    if (posix_memalign(&seg, ROOMS_RING_LINE, size) != 0
        || rooms_ring_segment_init(seg, size, NSLOTS, CAP) != 0)
    {
        tap_bail_out("segment");
    }

    for (i = 0; i < NSLOTS; i++) {
        rooms_ring_get(&prod[i], seg, i, ROOMS_RING_FROM_WORKER);
        rooms_ring_get(&cons[i], seg, i, ROOMS_RING_FROM_WORKER);
        rooms_resync_init(&rs[i]);
    }
}


static void
test_overflow(void)
{
    int          i, ban, cl;
    char         buf[256];
    uint64_t     n, a, a2, h, b, c[6];
    unsigned     k, kept_closes;
    const char  *a2_id;

    a = ROOMS_PROTO_CONN(0, 1);            /* guests on the stopped worker */
    a2 = ROOMS_PROTO_CONN(0, 2);
    h = ROOMS_PROTO_CONN(1, 1);            /* the host, on the other */
    b = ROOMS_PROTO_CONN(1, 2);            /* who floods */

    sfu_slot_add(sfu, 0, &io);
    sfu_slot_add(sfu, 1, &io);
    read_ring(0);
    read_ring(1);
    is_int(ngot, 2, "two linked slots, no room yet: a RESYNC each");

    join(h, 1, "Host", "host");
    join(a, 1, "A", "guest");
    join(a2, 1, "A2", "guest");
    join(b, 1, "B", "guest");
    read_ring(0);
    read_ring(1);
    a2_id = id_of(a2);
    snprintf(buf, sizeof(buf), "%s", a2_id);
    ok(buf[0] != '\0', "A2 has an id");
    is_int(dir[1].count, 4, "4 in room 1, as every nginx worker read it");
    ok(!rs[0].marked && rs[0].drops == 0, "nothing lost yet");
    forget();

    /* slot 0 stops reading; six guests come through slot 1 */
    for (k = 0; k < 6; k++) {
        c[k] = ROOMS_PROTO_CONN(1, 10 + k);
        join(c[k], 1, "C", "guest");
        read_ring(1);
    }

    is_int(dir[1].count, 10, "10 in room 1 (slot 1 read it)");
    ok(!rs[0].marked, "slot 0's ring holds their counts so far");

    /* B's media fills slot 0's ring */
    for (k = 0; k < 200 && !rs[0].marked; k++) {
        record(ROOMS_PROTO_SIGNAL, b, k % 2
               ? "{\"type\":\"media\",\"audio\":true,\"video\":false}"
               : "{\"type\":\"media\",\"audio\":false,\"video\":false}");
        read_ring(1);
    }

    ok(rs[0].marked, "the ring of slot 0 overflowed: it is marked");
    ok(!rs[1].marked, "the other is not");
    ok(rooms_resync_log_due(&rs[0], now, &n) && n >= 1,
       "the drop line is due, with a count (%llu)", (unsigned long long) n);

    /* the six go: slot 0 loses their counts */
    for (k = 0; k < 6; k++) {
        record(ROOMS_PROTO_LEAVE, c[k], NULL);
        read_ring(1);
    }

    is_int(dir[1].count, 4, "4 again");
    ok(!rooms_resync_log_due(&rs[0], now + 999, &n),
       "within the second: no second line");
    ok(rooms_resync_log_due(&rs[0], now + 1000, &n) && n >= 6,
       "a second later: one line for what was dropped since (%llu)",
       (unsigned long long) n);
    ok(!rooms_resync_due(&rs[0], &prod[0]), "full: no resync yet");

    /* the host removes A2: its BAN is kept, nothing after it pushed */
    snprintf(buf, sizeof(buf), "{\"type\":\"remove\",\"id\":\"%s\"}", a2_id);
    record(ROOMS_PROTO_SIGNAL, h, buf);
    ok(rs[0].nkept > 0, "the BAN to A2's nginx worker is kept");
    read_ring(1);
    is_int(dir[1].count, 3, "3 in room 1 after the removal");
    forget();

    /* slot 0 reads its ring at last: old counts, older than slot 1's */
    read_ring(0);
    is_int(find(ROOMS_PROTO_COUNT, ROOMS_PROTO_CONN(0, 0), 0) >= 0, 1,
           "slot 0's ring held counts");
    is_int(dir[1].count, 3, "they are stale (10 was the last): room 1 still "
           "has 3");
    is_int(find(ROOMS_PROTO_BAN, a2, 0), -1, "no BAN read yet");
    forget();

    ok(rooms_resync_due(&rs[0], &prod[0]), "drained: the resync is due");
    i = rooms_resync_run(&rs[0], &prod[0], sfu, 0, now, &io);
    is_int(i, 2, "A and A2 lost records");
    ok(!rs[0].marked, "not marked any more");
    read_ring(0);
    read_ring(1);

    ban = find(ROOMS_PROTO_BAN, a2, 0);
    ok(ban >= 0, "the kept BAN is pushed");
    cl = find(ROOMS_PROTO_CLOSE, a2, 0);
    is_int(close_code(cl), ROOMS_PROTO_CLOSE_RESYNC, "A2 is closed 4409");
    ok(ban >= 0 && cl > ban, "after its BAN: the ban is stored first");
    is_int(close_code(find(ROOMS_PROTO_CLOSE, a, 0)),
           ROOMS_PROTO_CLOSE_RESYNC, "A is closed 4409");
    ok(told(h, "participant_left"), "the host is told A left");
    is_int(find(ROOMS_PROTO_CLOSE, h, 0), -1, "the host is not closed");
    ok(find(ROOMS_PROTO_RESYNC, ROOMS_PROTO_CONN(0, 0), 0)
       > find(ROOMS_PROTO_COUNT, ROOMS_PROTO_CONN(0, 0), 0),
       "slot 0 gets the counts, then RESYNC");
    is_int(sfu_participants(sfu), 2, "the SFU has the host and B");
    is_int(dir[1].count, 2, "and so does the directory");
    ok(rs[0].drops > 0 && rs[0].kept_lost == 0 && rs[0].runs == 1
       && !rs[0].marked, "one run, no kept record lost, nothing more owed");

    kept_closes = 0;
    for (k = 0; k < ngot; k++) {
        kept_closes += got[k].type == ROOMS_PROTO_CLOSE;
    }
    is_int(kept_closes, 2, "two closes in all");
    forget();

    /* the others leave: the counts reach 0 everywhere */
    record(ROOMS_PROTO_LEAVE, h, NULL);
    record(ROOMS_PROTO_LEAVE, b, NULL);
    read_ring(0);
    read_ring(1);
    is_int(dir[1].count, 0, "everyone gone: 0");
    forget();
}


/* more connections lose records than the table holds: "all" */
static void
test_all(void)
{
    int       i;
    uint64_t  k;

    join(ROOMS_PROTO_CONN(0, 100), 2, "X", "host");
    join(ROOMS_PROTO_CONN(0, 101), 2, "Y", "guest");
    join(ROOMS_PROTO_CONN(1, 100), 2, "Z", "guest");
    read_ring(0);
    read_ring(1);
    forget();

    for (k = 1; k <= ROOMS_RESYNC_CONNS_MAX + 1; k++) {
        rooms_resync_lost(&rs[0], ROOMS_PROTO_SIGNAL,
                          ROOMS_PROTO_CONN(0, 1000 + k), "x", 1);
    }

    ok(rs[0].all && rs[0].nconns == ROOMS_RESYNC_CONNS_MAX,
       "%u connections: the table is full, every one of the slot goes",
       ROOMS_RESYNC_CONNS_MAX + 1);
    ok(rooms_resync_due(&rs[0], &prod[0]), "an empty ring: due at once");

    /*
     * 4096 closes do not fit a 4 KiB ring: the run overflows it again,
     * and each drain goes on where the last run stopped
     */
    for (k = 0; k < 64 && rs[0].marked; k++) {
        if (rooms_resync_due(&rs[0], &prod[0])) {
            i = rooms_resync_run(&rs[0], &prod[0], sfu, 0, now, &io);
            ok(k > 0 || i == ROOMS_RESYNC_CONNS_MAX,
               "the first run goes (%d listed)", i);
        }

        read_ring(0);
        read_ring(1);
    }

    ok(!rs[0].marked, "after %u rounds, nothing more is owed",
       (unsigned) k);
    is_int(close_code(find(ROOMS_PROTO_CLOSE, ROOMS_PROTO_CONN(0, 100), 0)),
           ROOMS_PROTO_CLOSE_RESYNC, "X, of slot 0, is closed 4409");
    is_int(close_code(find(ROOMS_PROTO_CLOSE, ROOMS_PROTO_CONN(0, 101), 0)),
           ROOMS_PROTO_CLOSE_RESYNC, "and Y");
    is_int(find(ROOMS_PROTO_CLOSE, ROOMS_PROTO_CONN(1, 100), 0), -1,
           "Z, of slot 1, stays");
    is_int(sfu_participants(sfu), 1, "one left in the SFU");
    is_int(dir[2].count, 1, "and in the directory");
    ok(!rs[0].all && rs[0].nconns == 0, "the table is empty again");
    forget();

    record(ROOMS_PROTO_LEAVE, ROOMS_PROTO_CONN(1, 100), NULL);
    read_ring(0);
    read_ring(1);
    forget();
}


int
main(void)
{
    char        err[256];
    sfu_t      *later;
    sfu_conf_t  conf;
    unsigned    i;

    memset(&conf, 0, sizeof(conf));
    conf.announce_ip = "127.0.0.1";
    conf.port = 40000;
    conf.max_sessions = 64;
    conf.rng = rng;
    conf.offer_ms = 3600000;
    conf.count_seq0 = (int64_t) 5 << 16;

    sfu = sfu_create(&conf, err, sizeof(err));
    if (sfu == NULL) {
        tap_bail_out("sfu_create: %s", err);
    }

    io.q = queue;
    io.cap = sizeof(queue) / sizeof(queue[0]);
    io.flush = on_flush;
    io.record = on_record;

    make_rings();

    test_overflow();
    test_all();

    ok(last_seq > ((long long) 5 << 16) && seq_down == 0,
       "COUNT seqs start after count_seq0 and never go down");

    /* a restarted worker: its clock is later, so are its seqs */
    conf.count_seq0 = (int64_t) 6 << 16;
    later = sfu_create(&conf, err, sizeof(err));
    ok(later != NULL, "a second SFU");
    sfu_destroy(sfu);
    sfu = later;
    sfu_slot_add(sfu, 1, &io);
    join(ROOMS_PROTO_CONN(1, 1), 3, "R", "host");
    read_ring(1);
    ok(seq_down == 0 && dir[3].count == 1,
       "a restarted worker's counts order after the first one's");
    forget();

    sfu_destroy(sfu);

    for (i = 0; i < NSLOTS; i++) {
        rooms_resync_free(&rs[i]);
    }

    free(seg);

    return done_testing();
}
