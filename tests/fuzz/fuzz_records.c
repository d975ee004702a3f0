/*
 * fuzz_records.c: libFuzzer target for the ring records' JSON payloads
 * (common/rooms_msg.*), both ways: JOIN and ROOM (nginx -> worker), BAN,
 * COUNT, HOST_ABSENT, ROLE and RESYNC (worker -> nginx), RESUME (nginx ->
 * worker); and the browser message types, rooms_msg_type().
 *
 * The first byte of the input chooses the record (its value modulo 9:
 * 0 JOIN, 1 ROOM, 2 BAN, 3 COUNT, 4 HOST_ABSENT, 5 ROLE, 6 is
 * rooms_msg_type(), 7 RESYNC, 8 RESUME), and the next one a buffer size; the rest is
 * the payload, in a malloc()ed buffer of its exact length (the decoders
 * read shared memory that is not zero-terminated, so ASan must see a
 * read past it).  Properties:
 *
 *   - a decoder returns 0, or -1 with a reason;
 *   - round trip: what a decoder accepts, its encoder writes (into 4 KB:
 *     every field it decoded is in the encoder's range), the decoder
 *     reads that back to the same struct, field by field, and encoding
 *     it again gives the same bytes;
 *   - an encoder given a buffer of any smaller size returns -1 or a
 *     length that fits, and writes nothing past it (ASan: the buffer is
 *     malloc()ed to that size);
 *   - rooms_msg_type() finds a type exactly when its name is those bytes,
 *     and it is the entry of its id.
 *
 * A property failure aborts.
 *
 *     make build/fuzz/fuzz_records
 *     build/fuzz/fuzz_records -max_total_time=60 tests/fuzz/corpus/fuzz_records
 *
 * Without libFuzzer, -DROOMS_FUZZ_MAIN builds a main() that runs the
 * target once over each file named on the command line.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rooms_msg.h"


#define OUT_MAX  4096


typedef union {
    rooms_msg_join_t         join;
    rooms_msg_room_t         room;
    rooms_msg_ban_t          ban;
    rooms_msg_count_t        count;
    rooms_msg_host_absent_t  absent;
    rooms_msg_role_t         role;
    rooms_msg_resync_t       resync;
    rooms_msg_resume_t       resume;
} rec_t;


static char  out1[OUT_MAX], out2[OUT_MAX];


static void
check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_records: property failed: %s\n", what);
        abort();
    }
}


static int
decode(unsigned kind, const char *json, size_t len, rec_t *r,
    const char **why)
{
    switch (kind) {
    case 0:
        return rooms_msg_join_decode(json, len, &r->join, why);
    case 1:
        return rooms_msg_room_decode(json, len, &r->room, why);
    case 2:
        return rooms_msg_ban_decode(json, len, &r->ban, why);
    case 3:
        return rooms_msg_count_decode(json, len, &r->count, why);
    case 4:
        return rooms_msg_host_absent_decode(json, len, &r->absent, why);
    case 7:
        return rooms_msg_resync_decode(json, len, &r->resync, why);
    case 8:
        return rooms_msg_resume_decode(json, len, &r->resume, why);
    default:
        return rooms_msg_role_decode(json, len, &r->role, why);
    }
}


static int
encode(unsigned kind, const rec_t *r, char *out, size_t cap)
{
    switch (kind) {
    case 0:
        return rooms_msg_join_encode(&r->join, out, cap);
    case 1:
        return rooms_msg_room_encode(&r->room, out, cap);
    case 2:
        return rooms_msg_ban_encode(&r->ban, out, cap);
    case 3:
        return rooms_msg_count_encode(&r->count, out, cap);
    case 4:
        return rooms_msg_host_absent_encode(&r->absent, out, cap);
    case 7:
        return rooms_msg_resync_encode(&r->resync, out, cap);
    case 8:
        return rooms_msg_resume_encode(&r->resume, out, cap);
    default:
        return rooms_msg_role_encode(&r->role, out, cap);
    }
}


#define STR_EQ(f)  (strcmp(a->f, b->f) == 0)


static int
same(unsigned kind, const rec_t *ra, const rec_t *rb)
{
    switch (kind) {
    case 0: {
        const rooms_msg_join_t  *a = &ra->join, *b = &rb->join;

        return a->room == b->room && STR_EQ(code) && a->rev == b->rev
               && a->max == b->max && STR_EQ(name) && a->role == b->role
               && STR_EQ(token) && a->locked == b->locked
               && a->knock == b->knock && a->host_absent == b->host_absent
               && a->grace == b->grace && a->video_slots == b->video_slots
               && STR_EQ(resume);
    }

    case 8: {
        const rooms_msg_resume_t  *a = &ra->resume, *b = &rb->resume;

        return a->room == b->room && a->role == b->role && STR_EQ(token)
               && STR_EQ(resume) && STR_EQ(next);
    }

    case 1: {
        const rooms_msg_room_t  *a = &ra->room, *b = &rb->room;

        return a->room == b->room && a->rev == b->rev && a->has == b->has
               && a->locked == b->locked && a->knock == b->knock
               && a->max == b->max && a->host_absent == b->host_absent
               && STR_EQ(demote);
    }

    case 2: {
        const rooms_msg_ban_t  *a = &ra->ban, *b = &rb->ban;

        return a->room == b->room && STR_EQ(token);
    }

    case 3: {
        const rooms_msg_count_t  *a = &ra->count, *b = &rb->count;

        return a->room == b->room && STR_EQ(code) && a->count == b->count
               && a->seq == b->seq;
    }

    case 7:
        return ra->resync.seq == rb->resync.seq;

    case 4: {
        const rooms_msg_host_absent_t  *a = &ra->absent, *b = &rb->absent;

        return a->room == b->room && STR_EQ(code) && a->rev == b->rev
               && a->end == b->end;
    }

    default: {
        const rooms_msg_role_t  *a = &ra->role, *b = &rb->role;

        return a->room == b->room && a->cohost == b->cohost
               && STR_EQ(token) && STR_EQ(name);
    }
    }
}


/* every string of a decoded record is terminated inside its field */
static void
terminated(unsigned kind, const rec_t *r)
{
    switch (kind) {
    case 0:
        check(memchr(r->join.code, 0, sizeof(r->join.code)) != NULL
              && memchr(r->join.name, 0, sizeof(r->join.name)) != NULL
              && strlen(r->join.token) == ROOMS_MSG_TOKEN_LEN
              && (r->join.resume[0] == '\0'
                  || strlen(r->join.resume) == ROOMS_MSG_TOKEN_LEN),
              "join strings");
        check(r->join.role <= ROOMS_MSG_ROLE_HOST && r->join.max >= 1
              && r->join.video_slots >= 1 && r->join.rev >= 0,
              "join ranges");
        break;
    case 1:
        check(memchr(r->room.demote, 0, sizeof(r->room.demote)) != NULL
              && r->room.rev >= 0, "room record");
        break;
    case 2:
        check(strlen(r->ban.token) == ROOMS_MSG_TOKEN_LEN, "ban token");
        break;
    case 3:
        check(memchr(r->count.code, 0, sizeof(r->count.code)) != NULL
              && r->count.seq >= 1, "count record");
        break;
    case 7:
        check(r->resync.seq >= 0, "resync seq");
        break;
    case 4:
        check(memchr(r->absent.code, 0, sizeof(r->absent.code)) != NULL
              && r->absent.rev >= 0, "host_absent record");
        break;
    case 8:
        check(strlen(r->resume.token) == ROOMS_MSG_TOKEN_LEN
              && strlen(r->resume.resume) == ROOMS_MSG_TOKEN_LEN
              && strlen(r->resume.next) == ROOMS_MSG_TOKEN_LEN
              && r->resume.role <= ROOMS_MSG_ROLE_HOST, "resume record");
        break;
    default:
        check(strlen(r->role.token) == ROOMS_MSG_TOKEN_LEN
              && memchr(r->role.name, 0, sizeof(r->role.name)) != NULL,
              "role strings");
    }
}


static void
record(unsigned kind, size_t small, const char *json, size_t len)
{
    int          n1, n2, n;
    char        *buf;
    rec_t        a, b;
    const char  *why;

    why = NULL;

    if (decode(kind, json, len, &a, &why) != 0) {
        check(why != NULL && why[0] != '\0', "a refusal says why");
        return;
    }

    terminated(kind, &a);

    n1 = encode(kind, &a, out1, sizeof(out1));
    check(n1 > 0 && (size_t) n1 < sizeof(out1) && out1[n1] == '\0',
          "what a decoder accepts, its encoder writes");

#ifdef ROOMS_FUZZ_MAIN
    fprintf(stderr, "record %u: %s\n", kind, out1);
#endif

    why = NULL;
    check(decode(kind, out1, (size_t) n1, &b, &why) == 0,
          "an encoded record decodes");
    check(same(kind, &a, &b), "decode -> encode -> decode: the same record");

    n2 = encode(kind, &b, out2, sizeof(out2));
    check(n2 == n1 && memcmp(out1, out2, (size_t) n1) == 0,
          "encoding it again: the same bytes");

    /* a buffer too small, of a size the input chose */
    small %= (size_t) n1 + 2;
    buf = malloc(small ? small : 1);
    check(buf != NULL, "malloc");
    n = encode(kind, &a, buf, small);
    check(n == -1 || (n == n1 && (size_t) n < small),
          "a short buffer: -1 or the record, inside it");
    free(buf);
}


static void
type(const char *s, size_t len)
{
    const rooms_msg_type_t  *t;

    t = rooms_msg_type(s, len);

    if (t == NULL) {
        return;
    }

    check(strlen(t->name) == len && memcmp(t->name, s, len) == 0,
          "a type is found by its exact name");
    check(t->id < ROOMS_MSG_NTYPES && rooms_msg_type_of(t->id) == t,
          "the entry of its id");
    check(t->from <= ROOMS_MSG_HOST && t->at <= ROOMS_MSG_RELAY
          && t->target <= 1, "its fields");
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned   kind;
    size_t     small, len;
    char      *json;

    if (size < 2) {
        return 0;
    }

    kind = data[0] % 9;
    small = data[1];
    len = size - 2;

    json = malloc(len ? len : 1);
    check(json != NULL, "malloc");
    memcpy(json, data + 2, len);

    if (kind == 6) {
        type(json, len);

    } else {
        record(kind, small, json, len);
    }

    free(json);

    return 0;
}


#include "fuzz_main.h"
