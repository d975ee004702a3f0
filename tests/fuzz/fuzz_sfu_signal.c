/*
 * fuzz_sfu_signal.c: libFuzzer target for the signaling messages a
 * browser sends the media worker (worker/sfu*.c, through sfu_record()):
 * JSON into a real SFU.
 *
 * Each input makes a fresh SFU whose randomness is a fixed xorshift
 * sequence (so participant ids, SSRCs and ICE credentials are the same
 * for every input, and an input replays), links one nginx worker (slot
 * 1), and sends the JOIN records (built with rooms_msg_join_encode()) of
 * a host A and a guest B, and of a guest C when asked.  The first byte
 * of the input sets the room: bit 0 admission "knock" (B and C wait in
 * the lobby), bit 1 B is a co-host, bit 2 the room is locked (guests are
 * refused), bit 3 one video slot each, bit 4 C joins too.  The rest is
 * split on newlines into messages:
 *
 *   - an empty line: the clock moves 1 s and sfu_poll() runs;
 *   - "@..." is a SIGNAL from B, "#..." from C, "!..." a ROOM record
 *     from nginx (id 0), "-A", "-B", "-C" a LEAVE of that connection;
 *   - "~A", "~B", "~C", "~D" a DETACH of that connection (its nginx
 *     worker is closing), "%..." a RESUME record on a fourth connection
 *     D (A, B and C joined with the resume hashes RESUME_A, _B, _C);
 *   - any other line is a SIGNAL from A.
 *
 * Then the clock moves past the 30 s a participant may go without an
 * offer, everyone still there leaves (LEAVE; a detached one once its
 * grace is over), the idle room lingers out
 * (sfu_poll() at later times), and sfu_destroy() frees everything:
 * LeakSanitizer checks that nothing is left.  Every record the SFU sends
 * is checked: a SIGNAL is a JSON object with a type, a CLOSE carries a
 * code and a reason of at most 123 bytes, COUNT, RESYNC, HOST_ABSENT,
 * BAN and ROLE decode with their rooms_msg.h decoders, and each goes to
 * one of the three connections (COUNT, RESYNC and HOST_ABSENT to slot
 * 1's counter 0); the seq of COUNT records goes up, and a RESYNC's is
 * not above the last COUNT's.
 * A property failure aborts.
 *
 *     make build/fuzz/fuzz_sfu_signal
 *     build/fuzz/fuzz_sfu_signal -max_total_time=60 tests/fuzz/corpus/fuzz_sfu_signal
 *
 * Without libFuzzer, -DROOMS_FUZZ_MAIN builds a main() that runs the
 * target once over each file named on the command line, printing the
 * records the SFU sends.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rooms_msg.h"
#include "rooms_proto.h"
#include "rooms_room.h"
#include "sfu.h"


#define SLOT     1
#define CONN_A   ROOMS_PROTO_CONN(SLOT, 1)
#define CONN_B   ROOMS_PROTO_CONN(SLOT, 2)
#define CONN_C   ROOMS_PROTO_CONN(SLOT, 3)
#define CONN_D   ROOMS_PROTO_CONN(SLOT, 4)
#define RESUME_A "1111111111111111111111111111111111111111111111111111111111111111"
#define RESUME_B "2222222222222222222222222222222222222222222222222222222222222222"
#define RESUME_C "3333333333333333333333333333333333333333333333333333333333333333"
#define ROOM_ID  42
#define CODE     "Q2x1YmhvdXNlLXJvb20tMQ"
#define TOKEN_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TOKEN_B  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TOKEN_C  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"


static uint64_t      rng_state;
static uint64_t      now;
static sfu_dgram_t   queue[16];


static void
check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_sfu_signal: property failed: %s\n", what);
        abort();
    }
}


static int
rng(void *ctx, void *buf, size_t n)
{
    size_t    i;
    uint64_t  x;

    for (i = 0; i < n; i++) {
        x = rng_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rng_state = x;
        ((uint8_t *) buf)[i] = (uint8_t) (x >> 24);
    }

    return 0;
}


static void
log_line(void *ctx, int level, const char *line)
{
    check(level >= SFU_LOG_ERR && level <= SFU_LOG_DEBUG
          && strlen(line) < 65536, "a log line");
#ifdef ROOMS_FUZZ_MAIN
    if (getenv("FUZZ_SFU_LOG")) {
        fprintf(stderr, "log: %s\n", line);
    }
#endif
}


static void
flush(void *ctx, sfu_io_t *io)
{
    unsigned  i;

    for (i = 0; i < io->n; i++) {
        check(io->q[i].len > 0 && io->q[i].len <= SFU_DGRAM_MAX,
              "a datagram's length");
    }

    io->n = 0;
}


/* the seq of the last COUNT of this input's SFU */
static int64_t  seq_last;


static int
is_conn(uint64_t id)
{
    return id == CONN_A || id == CONN_B || id == CONN_C || id == CONN_D;
}


static int
on_record(void *ctx, uint16_t type, uint64_t id, const void *payload,
    size_t len)
{
    json_t                   *j;
    const char               *why;
    rooms_msg_ban_t           ban;
    rooms_msg_role_t          role;
    rooms_msg_count_t         count;
    rooms_msg_resync_t        resync;
    rooms_msg_host_absent_t   absent;

#ifdef ROOMS_FUZZ_MAIN
    fprintf(stderr, "record %u to %llu: %.*s\n", type,
            (unsigned long long) (id & 0xffff),
            type == ROOMS_PROTO_CLOSE ? 0 : (int) len,
            (const char *) payload);
#endif

    switch (type) {

    case ROOMS_PROTO_SIGNAL:
        check(is_conn(id), "a SIGNAL to a connection");
        j = json_loadb(payload, len, 0, NULL);
        check(json_is_string(json_object_get(j, "type")),
              "a SIGNAL is a JSON object with a type");
        json_decref(j);
        break;

    case ROOMS_PROTO_CLOSE:
        check(is_conn(id), "a CLOSE to a connection");
        check(len >= 2 && len <= 2 + 123, "a CLOSE's code and reason");
        break;

    case ROOMS_PROTO_COUNT:
        check(id == ROOMS_PROTO_CONN(SLOT, 0), "a COUNT to the slot");
        check(rooms_msg_count_decode(payload, len, &count, &why) == 0
              && count.room == ROOM_ID && count.count <= 3,
              "a COUNT decodes");
        check(count.seq > seq_last, "a COUNT's seq is above the last one");
        seq_last = count.seq;
        break;

    case ROOMS_PROTO_RESYNC:
        check(id == ROOMS_PROTO_CONN(SLOT, 0), "a RESYNC to the slot");
        check(rooms_msg_resync_decode(payload, len, &resync, &why) == 0
              && resync.seq <= seq_last, "a RESYNC decodes, its seq not "
              "above the last COUNT's");
        break;

    case ROOMS_PROTO_HOST_ABSENT:
        check(id == ROOMS_PROTO_CONN(SLOT, 0), "a HOST_ABSENT to the slot");
        check(rooms_msg_host_absent_decode(payload, len, &absent, &why) == 0
              && absent.room == ROOM_ID, "a HOST_ABSENT decodes");
        break;

    case ROOMS_PROTO_BAN:
        check(is_conn(id), "a BAN about a connection");
        check(rooms_msg_ban_decode(payload, len, &ban, &why) == 0
              && ban.room == ROOM_ID, "a BAN decodes");
        break;

    case ROOMS_PROTO_ROLE:
        check(is_conn(id), "a ROLE about a connection");
        check(rooms_msg_role_decode(payload, len, &role, &why) == 0
              && role.room == ROOM_ID, "a ROLE decodes");
        break;

    default:
        check(0, "a record type the worker sends");
    }

    return 0;
}


/* one record from nginx, its payload in a buffer of its exact length */
static void
send_record(sfu_t *sfu, sfu_io_t *io, uint16_t type, uint64_t id,
    const void *payload, size_t len)
{
    uint8_t            *copy;
    rooms_proto_hdr_t   hdr;

    memset(&hdr, 0, sizeof(hdr));
    hdr.type = type;
    hdr.id = id;
    hdr.len = (uint32_t) len;

    copy = malloc(len ? len : 1);
    check(copy != NULL, "malloc");
    if (len) {
        memcpy(copy, payload, len);
    }

    sfu_record(sfu, now, &hdr, copy, io);
    free(copy);
    flush(NULL, io);
}


static void
join(sfu_t *sfu, sfu_io_t *io, uint64_t conn, const char *name,
    unsigned role, const char *token, unsigned flags)
{
    int               n;
    char              buf[1024];
    rooms_msg_join_t  j;

    memset(&j, 0, sizeof(j));
    j.room = ROOM_ID;
    memcpy(j.code, CODE, sizeof(CODE));
    j.rev = 1;
    j.max = 4;
    snprintf(j.name, sizeof(j.name), "%s", name);
    j.role = role;
    memcpy(j.token, token, ROOMS_MSG_TOKEN_LEN);
    memcpy(j.resume, conn == CONN_A ? RESUME_A
                     : conn == CONN_B ? RESUME_B : RESUME_C,
           ROOMS_MSG_TOKEN_LEN);
    j.locked = (flags >> 2) & 1;
    j.knock = flags & 1;
    j.host_absent = ROOMS_HOST_ABSENT_LOCK;
    j.grace = 5000;
    j.video_slots = (flags & 8) ? 1 : 16;

    n = rooms_msg_join_encode(&j, buf, sizeof(buf));
    check(n > 0, "a JOIN encodes");
    send_record(sfu, io, ROOMS_PROTO_JOIN, conn, buf, (size_t) n);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char         err[256];
    size_t       i, end, n;
    uint64_t     conn, t;
    unsigned     flags, k;
    sfu_t       *sfu;
    sfu_io_t     io;
    sfu_conf_t   conf;
    const char  *msg;

    if (size < 1) {
        return 0;
    }

    flags = data[0];
    rng_state = 0x9e3779b97f4a7c15ULL;
    now = 1000000;

    memset(&conf, 0, sizeof(conf));
    conf.announce_ip = "192.0.2.1";
    conf.port = 40000;
    conf.max_sessions = 8;
    conf.log = log_line;
    conf.log_level = SFU_LOG_DEBUG;
    conf.rng = rng;

    seq_last = 0;
    sfu = sfu_create(&conf, err, sizeof(err));
    check(sfu != NULL, "sfu_create");

    memset(&io, 0, sizeof(io));
    io.q = queue;
    io.cap = sizeof(queue) / sizeof(queue[0]);
    io.flush = flush;
    io.record = on_record;

    sfu_slot_add(sfu, SLOT, &io);
    flush(NULL, &io);

    join(sfu, &io, CONN_A, "Ada", ROOMS_MSG_ROLE_HOST, TOKEN_A, flags);
    join(sfu, &io, CONN_B, "Bob", (flags & 2) ? ROOMS_MSG_ROLE_COHOST
                                              : ROOMS_MSG_ROLE_GUEST,
         TOKEN_B, flags);
    if (flags & 0x10) {
        join(sfu, &io, CONN_C, "Cy", ROOMS_MSG_ROLE_GUEST, TOKEN_C, flags);
    }

    for (i = 1; i <= size; i = end + 1) {
        for (end = i; end < size && data[end] != '\n'; end++) {
            /* the line's end */
        }

        msg = (const char *) data + i;
        n = end - i;

        if (n == 0) {
            now += 1000;
            (void) sfu_poll(sfu, now, &io);
            flush(NULL, &io);
            continue;
        }

        conn = CONN_A;

        switch (msg[0]) {
        case '@':
            conn = CONN_B;
            msg++;
            n--;
            break;
        case '#':
            conn = CONN_C;
            msg++;
            n--;
            break;
        case '!':
            send_record(sfu, &io, ROOMS_PROTO_ROOM, 0, msg + 1, n - 1);
            continue;
        case '-':
        case '~':
            conn = n > 1 && msg[1] == 'B' ? CONN_B
                   : n > 1 && msg[1] == 'C' ? CONN_C
                   : n > 1 && msg[1] == 'D' ? CONN_D : CONN_A;
            send_record(sfu, &io, msg[0] == '-' ? ROOMS_PROTO_LEAVE
                                                : ROOMS_PROTO_DETACH,
                        conn, NULL, 0);
            continue;
        case '%':
            send_record(sfu, &io, ROOMS_PROTO_RESUME, CONN_D, msg + 1,
                        n - 1);
            continue;
        }

        send_record(sfu, &io, ROOMS_PROTO_SIGNAL, conn, msg, n);
    }

    /* past the offer timeout, then everyone leaves and the room lingers */
    t = now + 31000;
    (void) sfu_poll(sfu, t, &io);
    flush(NULL, &io);
    now = t;

    send_record(sfu, &io, ROOMS_PROTO_LEAVE, CONN_A, NULL, 0);
    send_record(sfu, &io, ROOMS_PROTO_LEAVE, CONN_B, NULL, 0);
    send_record(sfu, &io, ROOMS_PROTO_LEAVE, CONN_C, NULL, 0);
    send_record(sfu, &io, ROOMS_PROTO_LEAVE, CONN_D, NULL, 0);

    /* the detached ones wait for their grace */
    now += ROOMS_RESUME_GRACE_MS;
    (void) sfu_poll(sfu, now, &io);
    flush(NULL, &io);

    check(sfu_participants(sfu) == 0 && sfu_waiting(sfu) == 0,
          "nobody is left after every LEAVE");

    for (k = 0; k < 3; k++) {
        now += ROOMS_ROOM_LINGER_MS;
        (void) sfu_poll(sfu, now, &io);
        flush(NULL, &io);
    }

    sfu_destroy(sfu);

    return 0;
}


#include "fuzz_main.h"
