/*
 * test_msg.c: the one vocabulary of the two programs (rooms_msg.*).
 *
 * Covers: the browser message table (every type, who may send it, which
 * side acts on it, and that server-only and unknown types are not in
 * it); each record payload encoded and decoded back; the JSON the
 * encoders write, byte for byte, as docs/protocol.md and
 * common/rooms_proto.h describe it; defaults and clamps of JOIN, its
 * code kept as the worker's label, token hashes in lower case; ROOM as
 * an end or a change, and its reason; and the refusals: not an object,
 * duplicate keys, a missing or mistyped field, a bad token, a truncated
 * payload, a too-small buffer.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rooms_msg.h"
#include "rooms_room.h"
#include "tap.h"


static const char  tok[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

static char  buf[2048];


static void
test_table(void)
{
    const rooms_msg_type_t  *t;

    static const struct {
        const char  *name;
        unsigned     from, at, target;
    } want[] = {
        { "join",     ROOMS_MSG_ANYONE, ROOMS_MSG_NGINX, 0 },
        { "offer",    ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
        { "media",    ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
        { "view",     ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
        { "leave",    ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
        { "remove",   ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 },
        { "mute",     ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 },
        { "admit",    ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 },
        { "deny",     ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 },
        { "lock",     ROOMS_MSG_COHOST, ROOMS_MSG_NGINX, 0 },
        { "end",      ROOMS_MSG_HOST,   ROOMS_MSG_NGINX, 0 },
        { "cohost",   ROOMS_MSG_HOST,   ROOMS_MSG_RELAY, 1 },
        { "uncohost", ROOMS_MSG_HOST,   ROOMS_MSG_RELAY, 1 },
        { "resume",   ROOMS_MSG_ANYONE, ROOMS_MSG_NGINX, 0 },
        { "share",    ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
        { "unshare",  ROOMS_MSG_ANYONE, ROOMS_MSG_RELAY, 0 },
        { "stop_share", ROOMS_MSG_COHOST, ROOMS_MSG_RELAY, 1 }
    };
    unsigned  i;

    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        t = rooms_msg_type(want[i].name, strlen(want[i].name));
        ok(t != NULL && strcmp(t->name, want[i].name) == 0
           && t->from == want[i].from && t->at == want[i].at
           && t->target == want[i].target
           && rooms_msg_type_of(t->id) == t,
           "%s: from %u, at %u, target %u", want[i].name, want[i].from,
           want[i].at, want[i].target);
    }

    is_int(ROOMS_MSG_NTYPES, (int) (sizeof(want) / sizeof(want[0])),
           "the table has exactly these types");

    ok(rooms_msg_type("welcome", 7) == NULL
       && rooms_msg_type("answer", 6) == NULL
       && rooms_msg_type("streams", 7) == NULL,
       "server-only types are not a browser's");
    ok(rooms_msg_type("joi", 3) == NULL && rooms_msg_type("joinx", 5) == NULL
       && rooms_msg_type("JOIN", 4) == NULL && rooms_msg_type("", 0) == NULL,
       "prefixes, suffixes, case and the empty type are unknown");
    ok(rooms_msg_type("join\0x", 6) == NULL, "a zero byte inside is unknown");
    ok(rooms_msg_type_of(ROOMS_MSG_NTYPES) == NULL, "id past the end: NULL");
    is_str(rooms_msg_role_name(ROOMS_MSG_ROLE_COHOST), "cohost", "role name");
    ok(rooms_msg_role_name(3) == NULL, "no fourth role");
}


static void
test_join(void)
{
    int               n;
    const char       *why;
    rooms_msg_join_t  j, d;

    memset(&j, 0, sizeof(j));
    j.room = 42;
    strcpy(j.code, "AAAAAAAAAAAAAAAAAAAAAA");
    j.rev = 7;
    j.max = 12;
    strcpy(j.name, "Zoë \"Z\"");
    j.role = ROOMS_MSG_ROLE_COHOST;
    strcpy(j.token, tok);
    j.locked = 1;
    j.knock = 1;
    j.host_absent = ROOMS_HOST_ABSENT_END;
    j.grace = 30000;
    j.video_slots = 9;
    j.audio_slots = 2;

    n = rooms_msg_join_encode(&j, buf, sizeof(buf));
    ok(n > 0 && (size_t) n == strlen(buf), "JOIN encodes (%d bytes)", n);
    is_str(buf, "{\"room\":42,\"code\":\"AAAAAAAAAAAAAAAAAAAAAA\",\"rev\":7,"
           "\"max\":12,\"name\":\"Zoë \\\"Z\\\"\",\"role\":\"cohost\","
           "\"token\":\"00112233445566778899aabbccddeeff00112233445566778899"
           "aabbccddeeff\",\"locked\":true,\"admission\":\"knock\","
           "\"host_absent\":\"end\",\"grace\":30000,\"video_slots\":9,"
           "\"audio_slots\":2}",
           "JOIN is the documented JSON");

    is_int(rooms_msg_join_decode(buf, (size_t) n, &d, &why), 0,
           "JOIN decodes");
    ok(d.room == 42 && strcmp(d.code, j.code) == 0 && d.rev == 7
       && d.max == 12 && strcmp(d.name, j.name) == 0
       && d.role == ROOMS_MSG_ROLE_COHOST && strcmp(d.token, tok) == 0
       && d.locked && d.knock && d.host_absent == ROOMS_HOST_ABSENT_END
       && d.grace == 30000 && d.video_slots == 9 && d.audio_slots == 2,
       "JOIN round trip");

    is_int(rooms_msg_join_encode(&j, buf, (size_t) n), -1,
           "JOIN into a buffer one byte short: -1");

    /* the defaults and the clamps */
    snprintf(buf, sizeof(buf), "{\"room\":1,\"name\":\"a\",\"role\":\"guest\","
             "\"token\":\"%s\",\"max\":100000,\"locked\":false,"
             "\"grace\":-5}", tok);
    is_int(rooms_msg_join_decode(buf, strlen(buf), &d, &why), 0,
           "a JOIN with only what is required decodes");
    ok(d.rev == 0 && d.code[0] == '\0' && !d.knock
       && d.host_absent == ROOMS_HOST_ABSENT_STAY && d.grace == 0
       && d.video_slots == ROOMS_VIDEO_SLOTS_DEFAULT
       && d.audio_slots == ROOMS_AUDIO_SLOTS_DEFAULT
       && d.max == ROOMS_PARTICIPANTS_LIMIT,
       "defaults: rev 0, open, stay_open, video_slots %d, audio_slots %d; "
       "max and grace clamped", ROOMS_VIDEO_SLOTS_DEFAULT,
       ROOMS_AUDIO_SLOTS_DEFAULT);

    /* the code is the worker's label: kept up to ROOMS_CODE_LEN bytes */
    snprintf(buf, sizeof(buf), "{\"room\":1,\"code\":\"c7\",\"name\":\"a\","
             "\"role\":\"guest\",\"token\":\"%s\",\"max\":2,"
             "\"locked\":false}", tok);
    ok(rooms_msg_join_decode(buf, strlen(buf), &d, &why) == 0
       && strcmp(d.code, "c7") == 0, "a short code is kept as sent");
    snprintf(buf, sizeof(buf), "{\"room\":1,\"code\":\"%s\",\"name\":\"a\","
             "\"role\":\"guest\",\"token\":\"%s\",\"max\":2,"
             "\"locked\":false}", "AAAAAAAAAAAAAAAAAAAAAAA", tok);
    ok(rooms_msg_join_decode(buf, strlen(buf), &d, &why) == 0
       && d.code[0] == '\0', "a code longer than %d decodes as none",
       ROOMS_CODE_LEN);

    /* a token hash in upper case is the same hash */
    snprintf(buf, sizeof(buf), "{\"room\":1,\"name\":\"a\",\"role\":\"host\","
             "\"token\":\"00112233445566778899AABBCCDDEEFF00112233445566778899"
             "AABBCCDDEEFF\",\"max\":2,\"locked\":false}");
    ok(rooms_msg_join_decode(buf, strlen(buf), &d, &why) == 0
       && strcmp(d.token, tok) == 0 && d.role == ROOMS_MSG_ROLE_HOST,
       "a token hash decodes in lower case");

    {
        static const char  *bad[] = {
            "[]", "{", "{\"room\":1}",
            "{\"room\":\"1\",\"name\":\"a\",\"role\":\"guest\",\"token\":\"%s\","
            "\"max\":2,\"locked\":false}",
            "{\"room\":1,\"name\":\"\",\"role\":\"guest\",\"token\":\"%s\","
            "\"max\":2,\"locked\":false}",
            "{\"room\":1,\"name\":\"a\",\"role\":\"owner\",\"token\":\"%s\","
            "\"max\":2,\"locked\":false}",
            "{\"room\":1,\"name\":\"a\",\"role\":\"guest\",\"token\":\"%.63s\","
            "\"max\":2,\"locked\":false}",
            "{\"room\":1,\"name\":\"a\",\"role\":\"guest\",\"token\":\"%s\","
            "\"max\":2,\"locked\":0}",
            "{\"room\":1,\"name\":\"a\",\"role\":\"guest\",\"token\":\"%s\","
            "\"max\":2}",
            "{\"room\":1,\"name\":\"a\",\"role\":\"guest\",\"token\":\"%s\","
            "\"max\":2,\"locked\":false,\"admission\":\"maybe\"}",
            "{\"room\":1,\"name\":\"a\",\"role\":\"guest\",\"token\":\"%s\","
            "\"max\":2,\"locked\":false,\"host_absent\":\"later\"}",
            "{\"room\":1,\"name\":\"a\",\"role\":\"guest\",\"token\":\"%s\","
            "\"max\":2,\"locked\":false,\"rev\":-1}",
            "{\"room\":1,\"name\":\"a\",\"role\":\"guest\",\"token\":\"%s\","
            "\"max\":2,\"locked\":false,\"video_slots\":\"9\"}",
            "{\"room\":1,\"name\":\"a\",\"role\":\"guest\",\"token\":\"%s\","
            "\"max\":2,\"locked\":false,\"audio_slots\":\"2\"}",
            "{\"room\":1,\"name\":\"a\\u0000b\",\"role\":\"guest\","
            "\"token\":\"%s\",\"max\":2,\"locked\":false}",
            "{\"room\":1,\"room\":2,\"name\":\"a\",\"role\":\"guest\","
            "\"token\":\"%s\",\"max\":2,\"locked\":false}"
        };
        unsigned  i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(buf, sizeof(buf), bad[i], tok);
            why = NULL;
            ok(rooms_msg_join_decode(buf, strlen(buf), &d, &why) == -1
               && why != NULL, "JOIN refused (%s): %s", why ? why : "-",
               buf);
        }
    }

    /* a payload cut short never decodes */
    n = rooms_msg_join_encode(&j, buf, sizeof(buf));
    ok(rooms_msg_join_decode(buf, (size_t) n - 1, &d, &why) == -1,
       "a JOIN one byte short is refused");

    /* the resume token's hash: absent is "", present is a hash */
    ok(d.resume[0] == '\0', "a JOIN without resume decodes as none");
    strcpy(j.resume, tok);
    n = rooms_msg_join_encode(&j, buf, sizeof(buf));
    ok(n > 0 && strstr(buf, "\"resume\":\"00112233") != NULL
       && rooms_msg_join_decode(buf, (size_t) n, &d, &why) == 0
       && strcmp(d.resume, tok) == 0, "JOIN with resume round trip");
    snprintf(buf, sizeof(buf), "{\"room\":1,\"name\":\"a\",\"role\":\"guest\","
             "\"token\":\"%s\",\"max\":2,\"locked\":false,"
             "\"resume\":\"abc\"}", tok);
    ok(rooms_msg_join_decode(buf, strlen(buf), &d, &why) == -1,
       "a JOIN whose resume is no hash is refused");
}


static void
test_resume(void)
{
    int                 n;
    const char         *why;
    rooms_msg_resume_t  r, d;

    memset(&r, 0, sizeof(r));
    r.room = 5;
    r.role = ROOMS_MSG_ROLE_HOST;
    strcpy(r.token, tok);
    strcpy(r.resume, tok);
    memcpy(r.resume, "ff", 2);
    strcpy(r.next, tok);
    memcpy(r.next, "ee", 2);

    n = rooms_msg_resume_encode(&r, buf, sizeof(buf));
    ok(n > 0 && strncmp(buf, "{\"room\":5,\"token\":\"0011", 23) == 0
       && strstr(buf, "\"role\":\"host\",\"resume\":\"ff11") != NULL
       && strstr(buf, "\"next\":\"ee11") != NULL,
       "RESUME is the documented JSON");
    ok(rooms_msg_resume_decode(buf, (size_t) n, &d, &why) == 0
       && d.room == 5 && d.role == ROOMS_MSG_ROLE_HOST
       && strcmp(d.token, tok) == 0 && strcmp(d.resume, r.resume) == 0
       && strcmp(d.next, r.next) == 0, "RESUME round trip");
    ok(rooms_msg_resume_decode(buf, (size_t) n - 1, &d, &why) == -1,
       "a RESUME one byte short is refused");
    is_int(rooms_msg_resume_encode(&r, buf, 40), -1,
           "RESUME into 40 bytes: -1");

    r.role = 3;
    is_int(rooms_msg_resume_encode(&r, buf, sizeof(buf)), -1,
           "RESUME of no role: -1");

    {
        static const char  *bad[] = {
            "{\"room\":5,\"token\":\"%s\",\"role\":\"guest\",\"resume\":\"%s\"}",
            "{\"room\":5,\"token\":\"%s\",\"role\":\"owner\",\"resume\":\"%s\","
            "\"next\":\"%s\"}",
            "{\"room\":\"5\",\"token\":\"%s\",\"role\":\"guest\",\"resume\":\"%s\","
            "\"next\":\"%s\"}",
            "{\"room\":5,\"token\":\"%s\",\"role\":\"guest\",\"resume\":\"%.60s\","
            "\"next\":\"%s\"}"
        };
        unsigned  i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(buf, sizeof(buf), bad[i], tok, tok, tok);
            why = NULL;
            ok(rooms_msg_resume_decode(buf, strlen(buf), &d, &why) == -1
               && why != NULL, "RESUME refused: %s", buf);
        }
    }
}


static void
test_room(void)
{
    int               n;
    const char       *why;
    rooms_msg_room_t  r, d;

    memset(&r, 0, sizeof(r));
    r.room = 5;
    r.rev = 9;
    r.has = ROOMS_MSG_ROOM_LOCKED | ROOMS_MSG_ROOM_ADMISSION
            | ROOMS_MSG_ROOM_MAX | ROOMS_MSG_ROOM_HOST_ABSENT
            | ROOMS_MSG_ROOM_REASON;
    r.locked = 1;
    r.max = 20;
    r.host_absent = ROOMS_HOST_ABSENT_LOCK;

    n = rooms_msg_room_encode(&r, buf, sizeof(buf));
    is_str(buf, "{\"room\":5,\"rev\":9,\"locked\":true,\"admission\":\"open\","
           "\"max\":20,\"host_absent\":\"lock\",\"reason\":\"host_absent\"}",
           "ROOM is the documented JSON");
    ok(rooms_msg_room_decode(buf, (size_t) n, &d, &why) == 0
       && d.room == 5 && d.rev == 9 && d.has == r.has && d.locked
       && !d.knock && d.max == 20 && d.host_absent == ROOMS_HOST_ABSENT_LOCK,
       "ROOM round trip");

    memset(&r, 0, sizeof(r));
    r.room = 5;
    r.rev = 10;
    r.has = ROOMS_MSG_ROOM_ENDED | ROOMS_MSG_ROOM_LOCKED;
    rooms_msg_room_encode(&r, buf, sizeof(buf));
    is_str(buf, "{\"room\":5,\"rev\":10,\"ended\":true}",
           "an end says only that");

    memset(&r, 0, sizeof(r));
    r.room = 5;
    r.rev = 11;
    r.has = ROOMS_MSG_ROOM_DEMOTE;
    strcpy(r.demote, tok);
    n = rooms_msg_room_encode(&r, buf, sizeof(buf));
    ok(rooms_msg_room_decode(buf, (size_t) n, &d, &why) == 0
       && d.has == ROOMS_MSG_ROOM_DEMOTE && strcmp(d.demote, tok) == 0,
       "a demote round trip");

    ok(rooms_msg_room_decode("{\"room\":5,\"ended\":false}", 24, &d, &why)
       == -1, "ended false is refused");
    ok(rooms_msg_room_decode("{\"room\":5,\"demote\":\"ab\"}", 24, &d, &why)
       == -1, "a short demote token is refused");
    ok(rooms_msg_room_decode("{\"room\":5,\"rev\":3,\"max\":4,\"later\":1}",
                             36, &d, &why) == 0
       && d.has == ROOMS_MSG_ROOM_MAX && d.rev == 3 && d.max == 4,
       "an unknown field is ignored");

    /* an end alone, or a change: the worker's rules (rooms_proto.h) */
    ok(rooms_msg_room_decode("{\"room\":5,\"rev\":3}", 18, &d, &why) == -1,
       "a record that says nothing is refused");
    ok(rooms_msg_room_decode("{\"room\":5,\"reason\":\"host_absent\"}", 33,
                             &d, &why) == -1, "a reason alone says nothing");
    ok(rooms_msg_room_decode("{\"room\":5,\"ended\":true,\"locked\":true}",
                             37, &d, &why) == -1,
       "an end with a change is refused");
    snprintf(buf, sizeof(buf), "{\"room\":5,\"ended\":true,\"demote\":\"%s\"}",
             tok);
    ok(rooms_msg_room_decode(buf, strlen(buf), &d, &why) == -1,
       "an end with a demote is refused");
    ok(rooms_msg_room_decode("{\"room\":5,\"ended\":true,"
                             "\"reason\":\"host_absent\"}", 46, &d, &why) == 0
       && d.has == (ROOMS_MSG_ROOM_ENDED | ROOMS_MSG_ROOM_REASON),
       "an end with its reason");
    ok(rooms_msg_room_decode("{\"room\":5,\"locked\":true,"
                             "\"reason\":\"bored\"}", 41, &d, &why) == 0
       && d.has == ROOMS_MSG_ROOM_LOCKED, "an unknown reason is ignored");
    ok(rooms_msg_room_decode("{\"room\":5,\"locked\":true,\"reason\":7}",
                             35, &d, &why) == -1,
       "a reason that is no string is refused");
}


static void
test_small_records(void)
{
    int                      n;
    const char              *why;
    rooms_msg_ban_t          b, db;
    rooms_msg_count_t        c, dc;
    rooms_msg_host_absent_t  h, dh;
    rooms_msg_role_t         r, dr;

    b.room = 3;
    strcpy(b.token, tok);
    n = rooms_msg_ban_encode(&b, buf, sizeof(buf));
    ok(n > 0 && rooms_msg_ban_decode(buf, (size_t) n, &db, &why) == 0
       && db.room == 3 && strcmp(db.token, tok) == 0, "BAN round trip");
    ok(rooms_msg_ban_decode("{\"room\":3}", 10, &db, &why) == -1,
       "BAN without a token is refused");

    c.room = 4;
    strcpy(c.code, "BBBBBBBBBBBBBBBBBBBBBB");
    c.count = 49;
    c.seq = 0;
    ok(rooms_msg_count_encode(&c, buf, sizeof(buf)) == -1,
       "a COUNT without a seq is not encoded");
    c.seq = 7205759403792793600LL;
    n = rooms_msg_count_encode(&c, buf, sizeof(buf));
    is_str(buf, "{\"room\":4,\"code\":\"BBBBBBBBBBBBBBBBBBBBBB\",\"count\":49,"
           "\"seq\":7205759403792793600}", "COUNT is the documented JSON");
    ok(rooms_msg_count_decode(buf, (size_t) n, &dc, &why) == 0
       && dc.room == 4 && dc.count == 49 && dc.seq == c.seq,
       "COUNT round trip, seq too (a monotonic clock of years, times 2^16)");
    ok(rooms_msg_count_decode("{\"room\":4,\"code\":\"BBBBBBBBBBBBBBBBBBBBBB\","
                              "\"count\":-1,\"seq\":1}", 61, &dc, &why) == -1,
       "a negative count is refused");
    ok(rooms_msg_count_decode("{\"room\":4,\"code\":\"BBB\",\"count\":1,"
                              "\"seq\":1}", 41, &dc, &why) == 0
       && dc.code[0] == '\0', "a short code decodes as none (found by id)");
    ok(rooms_msg_count_decode("{\"room\":4,\"code\":7,\"count\":1,\"seq\":1}",
                              37, &dc, &why) == -1, "a code that is no string "
       "is refused");
    ok(rooms_msg_count_decode("{\"room\":4,\"code\":\"BBB\",\"count\":1}", 33,
                              &dc, &why) == -1, "a COUNT without its seq "
       "(an older media worker) is refused: its order is unknown");
    ok(rooms_msg_count_decode("{\"room\":4,\"code\":\"BBB\",\"count\":1,"
                              "\"seq\":0}", 41, &dc, &why) == -1,
       "seq 0 is refused");

    {
        rooms_msg_resync_t  s, ds;

        s.seq = 41;
        n = rooms_msg_resync_encode(&s, buf, sizeof(buf));
        is_str(buf, "{\"seq\":41}", "RESYNC is the documented JSON");
        ok(rooms_msg_resync_decode(buf, (size_t) n, &ds, &why) == 0
           && ds.seq == 41, "RESYNC round trip");
        ok(rooms_msg_resync_decode("{\"seq\":0}", 9, &ds, &why) == 0
           && ds.seq == 0, "RESYNC seq 0 (before any count): every count "
           "goes");
        ok(rooms_msg_resync_decode("{\"seq\":-1}", 10, &ds, &why) == -1
           && rooms_msg_resync_decode("{\"seq\":\"1\"}", 11, &ds, &why) == -1
           && rooms_msg_resync_decode("{}", 2, &ds, &why) == -1,
           "a RESYNC with a negative, a string or no seq is refused");
        s.seq = -1;
        ok(rooms_msg_resync_encode(&s, buf, sizeof(buf)) == -1,
           "a negative seq is not encoded");
    }

    h.room = 6;
    strcpy(h.code, "CCCCCCCCCCCCCCCCCCCCCC");
    h.rev = 2;
    h.end = 1;
    n = rooms_msg_host_absent_encode(&h, buf, sizeof(buf));
    is_str(buf, "{\"room\":6,\"code\":\"CCCCCCCCCCCCCCCCCCCCCC\",\"rev\":2,"
           "\"action\":\"end\"}", "HOST_ABSENT is the documented JSON");
    ok(rooms_msg_host_absent_decode(buf, (size_t) n, &dh, &why) == 0
       && dh.end && dh.rev == 2, "HOST_ABSENT round trip");
    buf[n - 4] = 'x';
    ok(rooms_msg_host_absent_decode(buf, (size_t) n, &dh, &why) == -1,
       "an unknown action is refused");

    r.room = 8;
    r.cohost = 1;
    strcpy(r.token, tok);
    strcpy(r.name, "Ann");
    n = rooms_msg_role_encode(&r, buf, sizeof(buf));
    ok(n > 0 && rooms_msg_role_decode(buf, (size_t) n, &dr, &why) == 0
       && dr.cohost && strcmp(dr.name, "Ann") == 0, "ROLE round trip");
    ok(rooms_msg_role_decode("{\"room\":8,\"role\":\"host\"}", 24, &dr, &why)
       == -1, "ROLE host is refused");
    ok(rooms_msg_role_encode(&r, buf, 10) == -1, "ROLE into 10 bytes: -1");
}


int
main(void)
{
    test_table();
    test_join();
    test_room();
    test_small_records();
    test_resume();

    return done_testing();
}
