/*
 * test_ice.c: the ICE-lite server core (worker/ice.*), on a virtual clock.
 *
 * Covers: what a valid check earns (an authenticated success naming the
 * source, a selected address, lookup by address); the silent drop of
 * everything else, with no state change (wrong pwd, unknown ufrag, wrong
 * peer ufrag, no integrity, no USERNAME, bad FINGERPRINT, malformed,
 * non-STUN, indications and responses); authenticated 400/420/487;
 * nomination by USE-CANDIDATE; NAT rebinding (moved only by a valid
 * check); consent freshness at 30 s (29.9 s no, 30.1 s yes) and the
 * never-connected timeout; timeouts in deadline order; a full table; a
 * removed session's slot, ufrag and address; an address taken over by
 * another session; 4096 sessions found by address; the amplification
 * bound.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ice.h"
#include "stun.h"
#include "tap.h"


#define T0  1000000ULL           /* the virtual clock starts here (ms) */

static const char  lufrag[] = "LocalUfragLocalUfragAA";    /* 22 */
static const char  lpwd[] = "LocalPasswordLocalPasswordLocalP";
static const char  rufrag[] = "rmt1";

static uint8_t   tid_counter;
static uint8_t   req[512];
static size_t    req_len;
static uint8_t   out[ROOMS_STUN_REPLY_MAX];
static size_t    out_len;

static int       token_a, token_b;


/* Builds a Binding request into req[] with a fresh transaction id. */
static void
mkreq(const char *local, const char *remote, const char *pwd, int use_cand,
    int controlling)
{
    char     username[300];
    uint8_t  tid[12];

    memset(tid, 0x5a, sizeof(tid));
    tid[11] = ++tid_counter;

    snprintf(username, sizeof(username), "%s:%s", local, remote);

    if (rooms_stun_encode_request(req, sizeof(req), &req_len, tid, username,
                                  0x6e0001ff, use_cand, controlling,
                                  0x1122334455667788ULL, NULL,
                                  (const uint8_t *) pwd,
                                  pwd ? strlen(pwd) : 0)
        != 0)
    {
        tap_bail_out("cannot build a request");
    }
}


static rooms_ice_action_e
input(rooms_ice_table_t *t, uint64_t now, const rooms_stun_addr_t *src,
    rooms_ice_event_t *ev)
{
    out_len = sizeof(out);

    return rooms_ice_input(t, now, src, req, req_len, out, &out_len, ev);
}


static rooms_stun_addr_t
addr(const char *ip, uint16_t port)
{
    rooms_stun_addr_t  a;

    if (rooms_stun_addr_set(&a, ip, port) != 0) {
        tap_bail_out("bad address %s", ip);
    }

    return a;
}


/* 1 when out[] is a success to req[] naming src, under pwd. */
static int
reply_is_success(const rooms_stun_addr_t *src, const char *pwd)
{
    rooms_stun_msg_t  msg;

    return rooms_stun_parse(&msg, out, out_len) == ROOMS_STUN_OK
           && msg.type == ROOMS_STUN_BINDING_SUCCESS
           && memcmp(msg.tid, req + 8, 12) == 0
           && (msg.flags & ROOMS_STUN_HAS_XOR_MAPPED)
           && rooms_stun_addr_equal(&msg.xor_mapped, src)
           && rooms_stun_check_fingerprint(&msg)
           && rooms_stun_check_integrity(&msg, NULL, (const uint8_t *) pwd,
                                         strlen(pwd));
}


static unsigned
reply_error_code(const char *pwd)
{
    rooms_stun_msg_t  msg;

    if (rooms_stun_parse(&msg, out, out_len) != ROOMS_STUN_OK
        || msg.type != ROOMS_STUN_BINDING_ERROR
        || !rooms_stun_check_fingerprint(&msg)
        || !rooms_stun_check_integrity(&msg, NULL, (const uint8_t *) pwd,
                                       strlen(pwd)))
    {
        return 0;
    }

    return msg.error_code;
}


/* Rewrites req[] without its FINGERPRINT. */
static void
strip_fingerprint(void)
{
    req_len -= 8;
    req[2] = (uint8_t) ((req_len - 20) >> 8);
    req[3] = (uint8_t) (req_len - 20);
}


/*
 * Signs req[0..k) by hand, independently of the codec's encoder: appends
 * MESSAGE-INTEGRITY (OpenSSL's one-shot HMAC()) and, when with_fp, a
 * FINGERPRINT, fixing the length field each time.
 */
static void
sign_by_hand(size_t k, const char *pwd, int with_fp)
{
    unsigned  mdlen;
    uint32_t  crc;

    req[k] = 0x00; req[k + 1] = 0x08; req[k + 2] = 0; req[k + 3] = 20;
    req_len = k + 24;
    req[2] = (uint8_t) ((req_len - 20) >> 8);
    req[3] = (uint8_t) (req_len - 20);
    HMAC(EVP_sha1(), pwd, (int) strlen(pwd), req, k, req + k + 4, &mdlen);

    if (!with_fp) {
        return;
    }

    k = req_len;
    req[k] = 0x80; req[k + 1] = 0x28; req[k + 2] = 0; req[k + 3] = 4;
    req_len = k + 8;
    req[2] = (uint8_t) ((req_len - 20) >> 8);
    req[3] = (uint8_t) (req_len - 20);
    crc = rooms_stun_crc32(req, k) ^ 0x5354554eu;
    req[k + 4] = (uint8_t) (crc >> 24);
    req[k + 5] = (uint8_t) (crc >> 16);
    req[k + 6] = (uint8_t) (crc >> 8);
    req[k + 7] = (uint8_t) crc;
}


static uint64_t
total_drops(const rooms_ice_stats_t *st)
{
    return st->drop_not_stun + st->drop_malformed + st->drop_not_request
           + st->drop_no_username + st->drop_no_integrity
           + st->drop_bad_fingerprint + st->drop_unknown_ufrag
           + st->drop_bad_remote_ufrag + st->drop_bad_integrity
           + st->drop_expired + st->drop_amplification + st->drop_no_room;
}


static void
test_create_and_add(void)
{
    char                ufrag[ROOMS_ICE_GEN_UFRAG_LEN + 1];
    char                pwd[ROOMS_ICE_GEN_PWD_LEN + 1];
    uint32_t            id;
    rooms_ice_table_t  *t;

    ok(rooms_ice_table_create(0) == NULL, "a table of 0 sessions: refused");
    ok(rooms_ice_table_create(ROOMS_ICE_MAX_SESSIONS + 1) == NULL,
       "a table over ROOMS_ICE_MAX_SESSIONS: refused");

    t = rooms_ice_table_create(8);
    if (t == NULL) {
        tap_bail_out("rooms_ice_table_create(8)");
    }

    is_int(rooms_ice_credentials_new(ufrag, pwd), 0,
           "rooms_ice_credentials_new");
    ok(strlen(ufrag) == 22 && strlen(pwd) == 32,
       "generated ufrag 22 and pwd 32 characters");
    ok(strspn(ufrag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789+/") == 22
       && strspn(pwd, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789+/") == 32, "generated ones are ice-chars");

    id = rooms_ice_add(t, T0, ufrag, pwd, NULL, NULL);
    ok(id != 0, "generated credentials are accepted");
    is_int(rooms_ice_state(t, id), ROOMS_ICE_NEW, "a new session is NEW");

    is_int(rooms_ice_add(t, T0, "abc", lpwd, rufrag, NULL), 0,
           "a 3-character local ufrag: refused");
    is_int(rooms_ice_add(t, T0, "abcd", "a-password-of-21-chars", rufrag,
                         NULL), 0, "a local pwd with '-': refused");
    is_int(rooms_ice_add(t, T0, "abcd", "apasswordof21charsxyz", rufrag,
                         NULL), 0, "a 21-character local pwd: refused");
    is_int(rooms_ice_add(t, T0, "ab_cd", lpwd, rufrag, NULL), 0,
           "a local ufrag with '_': refused");
    is_int(rooms_ice_add(t, T0, "ab:cd", lpwd, rufrag, NULL), 0,
           "a local ufrag with ':': refused");
    is_int(rooms_ice_add(t, T0, "abcd", lpwd, "rm:", NULL), 0,
           "a remote ufrag with ':': refused");
    is_int(rooms_ice_add(t, T0, "abcd", lpwd, "abc", NULL), 0,
           "a 3-character remote ufrag: refused");
    is_int(rooms_ice_add(t, T0,
                         "A123456789012345678901234567890123456789"
                         "012345678901234567890123x", lpwd, rufrag, NULL),
           0, "a 65-character local ufrag: refused");
    is_int(rooms_ice_add(t, T0, ufrag, lpwd, rufrag, NULL), 0,
           "a local ufrag already in use: refused");
    is_int(rooms_ice_stats(t)->add_refused, 9, "9 refusals counted");
    is_int(rooms_ice_count(t), 1, "one session in the table");

    rooms_ice_table_destroy(t);
    rooms_ice_table_destroy(NULL);
}


static void
test_valid_check(void)
{
    uint32_t            id, got;
    void               *data;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a, sel;

    t = rooms_ice_table_create(8);
    id = rooms_ice_add(t, T0, lufrag, lpwd, rufrag, &token_a);
    a = addr("192.0.2.10", 50000);

    mkreq(lufrag, rufrag, lpwd, 0, 1);
    is_int(input(t, T0 + 100, &a, &ev), ROOMS_ICE_REPLY,
           "a valid check is answered");
    ok(out_len > 0 && out_len <= req_len,
       "reply of %zu bytes, no larger than the %zu-byte request", out_len,
       req_len);
    ok(reply_is_success(&a, lpwd),
       "a success with XOR-MAPPED-ADDRESS = source, integrity, fingerprint");
    is_int(ev.type, ROOMS_ICE_EV_SELECTED, "the first check selects");
    ok(ev.id == id && ev.data == &token_a, "the event names the session");
    ok(rooms_stun_addr_equal(&ev.addr, &a), "the event has the address");
    is_int(rooms_ice_state(t, id), ROOMS_ICE_CHECKED, "state CHECKED");
    ok(rooms_ice_selected(t, id, &sel) == 0 && rooms_stun_addr_equal(&sel, &a),
       "selected address is the source");

    data = NULL;
    got = rooms_ice_lookup_addr(t, &a, &data);
    ok(got == id && data == &token_a, "lookup by address finds it");
    ok(rooms_ice_lookup_addr(t, &a, NULL) == id, "lookup without data");

    a.port++;
    is_int(rooms_ice_lookup_addr(t, &a, NULL), 0,
           "another port is not found");
    a.port--;

    /* the same check again: answered, no new event */
    mkreq(lufrag, rufrag, lpwd, 0, 1);
    is_int(input(t, T0 + 200, &a, &ev), ROOMS_ICE_REPLY,
           "a second check is answered");
    ok(ev.type == ROOMS_ICE_EV_NONE && ev.id == id && ev.data == &token_a,
       "no event, but the session is named");

    /* without FINGERPRINT: still valid */
    mkreq(lufrag, rufrag, lpwd, 0, 1);
    strip_fingerprint();
    is_int(input(t, T0 + 300, &a, &ev), ROOMS_ICE_REPLY,
           "a valid check without FINGERPRINT is answered");

    /* IPv6 source */
    a = addr("2001:db8::77", 40000);
    mkreq(lufrag, rufrag, lpwd, 1, 1);
    is_int(input(t, T0 + 400, &a, &ev), ROOMS_ICE_REPLY,
           "a valid check from IPv6 is answered");
    ok(reply_is_success(&a, lpwd), "the reply names the IPv6 source");
    is_int(rooms_ice_stats(t)->replies, 4, "4 replies counted");
    is_int(total_drops(rooms_ice_stats(t)), 0, "no drops counted");

    rooms_ice_table_destroy(t);
}


static void
test_silent_drops(void)
{
    int                 i;
    uint32_t            id;
    uint64_t            before;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a, sel;
    const rooms_ice_stats_t  *st;

    t = rooms_ice_table_create(8);
    id = rooms_ice_add(t, T0, lufrag, lpwd, rufrag, &token_a);
    st = rooms_ice_stats(t);
    a = addr("192.0.2.20", 50000);

    mkreq(lufrag, rufrag, "WrongPasswordWrongPasswordWrongP", 1, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "wrong pwd: dropped");
    ok(out_len == 0 && ev.type == ROOMS_ICE_EV_NONE && ev.id == 0,
       "wrong pwd: no reply, no event, no session named");
    is_int(st->drop_bad_integrity, 1, "counted as bad integrity");

    mkreq("UnknownUfragUnknownUfr", rufrag, lpwd, 1, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "unknown ufrag: dropped");
    ok(out_len == 0, "unknown ufrag: no reply");
    is_int(st->drop_unknown_ufrag, 1, "counted as unknown ufrag");

    mkreq(lufrag, "rmt2", lpwd, 1, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "wrong peer ufrag: dropped");
    is_int(st->drop_bad_remote_ufrag, 1, "counted as a bad peer ufrag");

    mkreq(lufrag, "rmt11", lpwd, 1, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP,
           "peer ufrag with a suffix: dropped");

    mkreq(lufrag, "", lpwd, 1, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "empty peer ufrag: dropped");

    mkreq("LocalUfragLocalUfragA", rufrag, lpwd, 1, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP,
           "a prefix of the local ufrag: dropped");

    mkreq(lufrag, rufrag, NULL, 1, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "no integrity: dropped");
    is_int(st->drop_no_integrity, 1, "counted as no integrity");

    /* no USERNAME at all */
    {
        uint8_t  tid[12] = { 1 };

        rooms_stun_encode_request(req, sizeof(req), &req_len, tid, NULL, 1,
                                  1, 1, 1, NULL, (const uint8_t *) lpwd,
                                  strlen(lpwd));
        is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "no USERNAME: dropped");
        is_int(st->drop_no_username, 1, "counted as no USERNAME");
    }

    /* USERNAME without ':' */
    {
        uint8_t  tid[12] = { 2 };

        rooms_stun_encode_request(req, sizeof(req), &req_len, tid, lufrag, 1,
                                  1, 1, 1, NULL, (const uint8_t *) lpwd,
                                  strlen(lpwd));
        is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP,
               "USERNAME without a colon: dropped");
    }

    mkreq(lufrag, rufrag, lpwd, 1, 1);
    req[req_len - 1] ^= 1;
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "bad FINGERPRINT: dropped");
    is_int(st->drop_bad_fingerprint, 1, "counted as bad fingerprint");

    mkreq(lufrag, rufrag, lpwd, 1, 1);
    req[30] ^= 1;               /* inside USERNAME: CRC and MAC both break */
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "a flipped byte: dropped");

    mkreq(lufrag, rufrag, lpwd, 1, 1);
    req_len -= 4;
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "truncated: dropped");
    is_int(st->drop_malformed, 1, "counted as malformed");

    mkreq(lufrag, rufrag, lpwd, 1, 1);
    req[0] = 0x16;              /* a DTLS record's first byte */
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "not STUN: dropped");
    is_int(st->drop_not_stun, 1, "counted as not STUN");

    /* a Binding indication and a success response with valid integrity */
    mkreq(lufrag, rufrag, lpwd, 1, 1);
    req[1] = 0x11;
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "an indication: dropped");
    mkreq(lufrag, rufrag, lpwd, 1, 1);
    req[0] = 0x01;
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "a response: dropped");
    is_int(st->drop_not_request, 2, "both counted as not a request");

    /* an empty datagram and a header alone */
    req_len = 0;
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP, "empty datagram: dropped");

    /* many garbage datagrams of every length */
    before = st->replies;

    for (i = 0; i < 300; i++) {
        memset(req, i & 3, sizeof(req));
        req_len = (size_t) i;
        input(t, T0, &a, &ev);
    }

    is_int(st->replies, before, "300 garbage datagrams: no reply");

    is_int(rooms_ice_state(t, id), ROOMS_ICE_NEW, "after all that: still NEW");
    ok(rooms_ice_selected(t, id, &sel) == -1, "and nothing selected");
    is_int(rooms_ice_lookup_addr(t, &a, NULL), 0, "and nothing to look up");
    is_int(st->replies + st->error_replies, 0, "not one reply was sent");
    is_int(rooms_ice_poll(t, T0, &ev), T0 + ROOMS_ICE_CONNECT_MS,
           "the connect deadline did not move");

    rooms_ice_table_destroy(t);
}


static void
test_authenticated_errors(void)
{
    uint32_t            id;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a, sel;
    const rooms_ice_stats_t  *st;

    t = rooms_ice_table_create(8);
    id = rooms_ice_add(t, T0, lufrag, lpwd, rufrag, &token_a);
    st = rooms_ice_stats(t);
    a = addr("192.0.2.30", 50000);

    /* the peer says it is controlled too: a lite agent cannot give way */
    mkreq(lufrag, rufrag, lpwd, 1, 0);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_REPLY,
           "ICE-CONTROLLED from the peer: answered");
    is_int(reply_error_code(lpwd), 487, "with an authenticated 487");
    ok(out_len <= req_len, "no larger than the request");
    is_int(rooms_ice_state(t, id), ROOMS_ICE_NEW, "and no state change");

    /* no PRIORITY */
    {
        uint8_t  tid[12] = { 3 };
        char     u[64];

        snprintf(u, sizeof(u), "%s:%s", lufrag, rufrag);
        rooms_stun_encode_request(req, sizeof(req), &req_len, tid, u, 0, 1,
                                  1, 1, NULL, (const uint8_t *) lpwd,
                                  strlen(lpwd));
        is_int(input(t, T0, &a, &ev), ROOMS_ICE_REPLY,
               "no PRIORITY: answered");
        is_int(reply_error_code(lpwd), 400, "with an authenticated 400");
        is_int(rooms_ice_state(t, id), ROOMS_ICE_NEW, "and no state change");
    }

    /* an unknown comprehension-required attribute, before MI */
    {
        uint8_t           tid[12] = { 4 };
        char              u[64];
        size_t            n;
        rooms_stun_msg_t  msg;

        snprintf(u, sizeof(u), "%s:%s", lufrag, rufrag);

        /* unsigned and without FINGERPRINT, then the attribute, signed */
        rooms_stun_encode_request(req, sizeof(req), &n, tid, u, 1, 1, 1, 1,
                                  NULL, NULL, 0);
        n -= 8;
        req[n] = 0x00; req[n + 1] = 0x77; req[n + 2] = 0; req[n + 3] = 4;
        memcpy(req + n + 4, "abcd", 4);
        sign_by_hand(n + 8, lpwd, 1);

        is_int(rooms_stun_parse(&msg, req, req_len), ROOMS_STUN_OK,
               "the hand-signed request parses");
        ok(rooms_stun_check_integrity(&msg, NULL, (const uint8_t *) lpwd,
                                      strlen(lpwd))
           && rooms_stun_check_fingerprint(&msg) && msg.nunknown == 1,
           "is properly signed and has one unknown attribute");

        is_int(input(t, T0, &a, &ev), ROOMS_ICE_REPLY,
               "an unknown required attribute: answered");
        is_int(reply_error_code(lpwd), 420, "with an authenticated 420");
        is_int(rooms_ice_state(t, id), ROOMS_ICE_NEW, "and no state change");
    }

    is_int(st->error_replies, 3, "3 error replies counted");
    is_int(st->replies, 0, "no success counted");
    ok(rooms_ice_selected(t, id, &sel) == -1, "nothing selected");

    rooms_ice_table_destroy(t);
}


static void
test_nomination_and_rebinding(void)
{
    uint32_t            id;
    uint64_t            now;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a, b, c, d, e, sel;

    t = rooms_ice_table_create(8);
    id = rooms_ice_add(t, T0, lufrag, lpwd, rufrag, &token_a);
    a = addr("192.0.2.40", 50000);
    b = addr("198.51.100.40", 50001);
    c = addr("2001:db8::40", 50002);
    d = addr("198.51.100.40", 61000);     /* b after a NAT rebinding */
    e = addr("198.51.100.40", 62000);
    now = T0;

    mkreq(lufrag, rufrag, lpwd, 0, 1);
    input(t, now, &a, &ev);
    is_int(ev.type, ROOMS_ICE_EV_SELECTED, "a plain check selects A");

    mkreq(lufrag, rufrag, lpwd, 0, 1);
    is_int(input(t, now + 10, &b, &ev), ROOMS_ICE_REPLY,
           "a plain check from B is answered");
    is_int(ev.type, ROOMS_ICE_EV_NONE, "but does not move the selection");
    is_int(rooms_ice_lookup_addr(t, &b, NULL), 0, "B is not looked up");

    mkreq(lufrag, rufrag, lpwd, 1, 1);
    is_int(input(t, now + 20, &b, &ev), ROOMS_ICE_REPLY,
           "USE-CANDIDATE from B is answered");
    ok(ev.type == ROOMS_ICE_EV_SELECTED && rooms_stun_addr_equal(&ev.addr, &b)
       && ev.id == id, "USE-CANDIDATE selects B");
    is_int(rooms_ice_state(t, id), ROOMS_ICE_NOMINATED, "state NOMINATED");
    is_int(rooms_ice_lookup_addr(t, &b, NULL), id, "B is looked up");
    is_int(rooms_ice_lookup_addr(t, &a, NULL), 0, "A is not any more");

    mkreq(lufrag, rufrag, lpwd, 0, 1);
    is_int(input(t, now + 1000, &c, &ev), ROOMS_ICE_REPLY,
           "a plain check from C (a backup pair) is answered");
    is_int(ev.type, ROOMS_ICE_EV_NONE, "and moves nothing while B is fresh");
    ok(rooms_ice_selected(t, id, &sel) == 0 && rooms_stun_addr_equal(&sel, &b),
       "B stays selected");

    mkreq(lufrag, rufrag, lpwd, 1, 1);
    is_int(input(t, now + 1500, &b, &ev), ROOMS_ICE_REPLY,
           "B checks again (USE-CANDIDATE)");
    is_int(ev.type, ROOMS_ICE_EV_NONE, "same address: no event");

    /* NAT rebinding: B's mapping becomes D */
    now += 2000;
    mkreq(lufrag, rufrag, "WrongPasswordWrongPasswordWrongP", 1, 1);
    is_int(input(t, now, &d, &ev), ROOMS_ICE_DROP,
           "a forged USE-CANDIDATE from D: dropped");
    is_int(rooms_ice_lookup_addr(t, &b, NULL), id, "B is still selected");
    is_int(rooms_ice_lookup_addr(t, &d, NULL), 0, "D is not");

    mkreq(lufrag, "rmt9", lpwd, 1, 1);
    is_int(input(t, now, &d, &ev), ROOMS_ICE_DROP,
           "a USE-CANDIDATE with the wrong peer ufrag from D: dropped");
    is_int(rooms_ice_lookup_addr(t, &d, NULL), 0, "D is still not selected");

    mkreq(lufrag, rufrag, lpwd, 1, 1);
    is_int(input(t, now + 1, &d, &ev), ROOMS_ICE_REPLY,
           "a valid USE-CANDIDATE from D: answered");
    ok(ev.type == ROOMS_ICE_EV_SELECTED && rooms_stun_addr_equal(&ev.addr, &d),
       "the selection moves to D");
    is_int(rooms_ice_lookup_addr(t, &d, NULL), id, "D is looked up");
    is_int(rooms_ice_lookup_addr(t, &b, NULL), 0, "B is not any more");

    /* a rebinding whose checks carry no USE-CANDIDATE: D's last was now+1 */
    now += 1;
    mkreq(lufrag, rufrag, lpwd, 0, 1);
    input(t, now + ROOMS_ICE_REBIND_MS - 1, &e, &ev);
    is_int(ev.type, ROOMS_ICE_EV_NONE,
           "a plain check from E 4.999 s after D's last: no move");
    mkreq(lufrag, rufrag, lpwd, 0, 1);
    input(t, now + ROOMS_ICE_REBIND_MS, &e, &ev);
    ok(ev.type == ROOMS_ICE_EV_SELECTED && rooms_stun_addr_equal(&ev.addr, &e),
       "a plain check from E after 5 s of silence from D moves to E");
    is_int(rooms_ice_state(t, id), ROOMS_ICE_NOMINATED, "still NOMINATED");
    is_int(rooms_ice_stats(t)->selected, 4, "4 selections counted");

    rooms_ice_table_destroy(t);
}


static void
test_consent(void)
{
    uint32_t            id, id2;
    uint64_t            t1, next;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a, c;

    t = rooms_ice_table_create(8);
    a = addr("192.0.2.50", 50000);
    c = addr("192.0.2.51", 50000);

    is_int(rooms_ice_poll(t, T0, &ev), ROOMS_ICE_NEVER,
           "an empty table: no deadline");
    is_int(ev.type, ROOMS_ICE_EV_NONE, "and no event");

    id = rooms_ice_add(t, T0, lufrag, lpwd, rufrag, &token_a);
    t1 = T0 + 5000;
    mkreq(lufrag, rufrag, lpwd, 1, 1);
    input(t, t1, &a, &ev);

    is_int(rooms_ice_poll(t, t1, &ev), t1 + 30000,
           "the consent deadline is 30 s after the check");

    /* a check from a non-selected address does not refresh consent */
    mkreq(lufrag, rufrag, lpwd, 0, 1);
    is_int(input(t, t1 + 1000, &c, &ev), ROOMS_ICE_REPLY,
           "a check from another address is answered");
    is_int(rooms_ice_poll(t, t1 + 1000, &ev), t1 + 30000,
           "but the deadline stays");

    next = rooms_ice_poll(t, t1 + 29900, &ev);
    ok(ev.type == ROOMS_ICE_EV_NONE && next == t1 + 30000,
       "29.9 s without a check: no timeout, next in 100 ms");
    is_int(rooms_ice_lookup_addr(t, &a, NULL), id, "still looked up");

    next = rooms_ice_poll(t, t1 + 30100, &ev);
    ok(ev.type == ROOMS_ICE_EV_TIMEOUT && ev.id == id && ev.data == &token_a,
       "30.1 s without a check: TIMEOUT for the session");
    is_int(ev.reason, ROOMS_ICE_TIMEOUT_CONSENT, "reason: consent");
    ok(rooms_stun_addr_equal(&ev.addr, &a), "with the address it had");
    is_int(next, t1 + 30100, "poll asks to be called again now");
    is_int(rooms_ice_state(t, id), ROOMS_ICE_EXPIRED, "state EXPIRED");
    is_int(rooms_ice_lookup_addr(t, &a, NULL), 0, "no longer looked up");

    next = rooms_ice_poll(t, t1 + 30100, &ev);
    ok(ev.type == ROOMS_ICE_EV_NONE && next == ROOMS_ICE_NEVER,
       "the timeout is reported once");

    mkreq(lufrag, rufrag, lpwd, 1, 1);
    is_int(input(t, t1 + 30200, &a, &ev), ROOMS_ICE_DROP,
           "a valid check after expiry: dropped");
    is_int(rooms_ice_stats(t)->drop_expired, 1, "counted as expired");

    is_int(rooms_ice_remove(t, id), 0, "remove the expired session");

    /* refreshed consent */
    id = rooms_ice_add(t, T0, lufrag, lpwd, rufrag, &token_a);
    mkreq(lufrag, rufrag, lpwd, 1, 1);
    input(t, T0 + 1000, &a, &ev);
    mkreq(lufrag, rufrag, lpwd, 0, 1);
    input(t, T0 + 21000, &a, &ev);
    rooms_ice_poll(t, T0 + 31100, &ev);
    is_int(ev.type, ROOMS_ICE_EV_NONE,
           "refreshed at 20 s: no timeout at 30.1 s after the first check");
    rooms_ice_poll(t, T0 + 51100, &ev);
    ok(ev.type == ROOMS_ICE_EV_TIMEOUT && ev.id == id,
       "timeout 30 s after the refresh");
    rooms_ice_remove(t, id);

    /* never connected */
    id = rooms_ice_add(t, T0, lufrag, lpwd, rufrag, &token_a);
    id2 = rooms_ice_add(t, T0 + 10000, "SecondUfragSecondUfrag", lpwd, rufrag,
                        &token_b);
    rooms_ice_poll(t, T0 + 29900, &ev);
    is_int(ev.type, ROOMS_ICE_EV_NONE, "never connected, 29.9 s: nothing");
    next = rooms_ice_poll(t, T0 + 30100, &ev);
    ok(ev.type == ROOMS_ICE_EV_TIMEOUT && ev.id == id
       && ev.reason == ROOMS_ICE_TIMEOUT_NEVER_CONNECTED
       && ev.addr.family == 0,
       "never connected, 30.1 s: TIMEOUT, reason never connected");
    next = rooms_ice_poll(t, T0 + 30100, &ev);
    ok(ev.type == ROOMS_ICE_EV_NONE && next == T0 + 40000,
       "the second session is next, at its own 30 s");
    next = rooms_ice_poll(t, T0 + 40000, &ev);
    ok(ev.type == ROOMS_ICE_EV_TIMEOUT && ev.id == id2
       && ev.data == &token_b, "then it times out at exactly 30 s");

    rooms_ice_table_destroy(t);
}


static void
test_order_of_deadlines(void)
{
    int                 i, bad;
    char                u[32];
    uint32_t            ids[6];
    uint64_t            next;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a;

    t = rooms_ice_table_create(6);

    for (i = 0; i < 6; i++) {
        snprintf(u, sizeof(u), "ufragNumber%d", i);
        ids[i] = rooms_ice_add(t, T0 + (uint64_t) i * 100, u, lpwd, rufrag,
                               NULL);
    }

    /* session 0 and 3 connect later, so their deadlines move back */
    a = addr("10.1.1.1", 1000);
    mkreq("ufragNumber0", rufrag, lpwd, 1, 1);
    input(t, T0 + 5000, &a, &ev);
    a.port++;
    mkreq("ufragNumber3", rufrag, lpwd, 1, 1);
    input(t, T0 + 4000, &a, &ev);

    /* 1 2 4 5 by creation; then 0 (checked at 5000), 3 clamped after it */
    {
        static const int  order[6] = { 1, 2, 4, 5, 0, 3 };

        bad = 0;
        next = T0;

        for (i = 0; i < 6; i++) {
            next = rooms_ice_poll(t, T0 + 100000, &ev);

            if (ev.type != ROOMS_ICE_EV_TIMEOUT || ev.id != ids[order[i]]) {
                bad++;
            }
        }

        is_int(bad, 0, "timeouts come out in deadline order");
    }

    /*
     * The clock stepped back (session 3 checked at T0 + 4000 after session
     * 0 at T0 + 5000): 3's deadline was clamped to 0's, late rather than
     * out of order.  Nothing is left.
     */
    next = rooms_ice_poll(t, T0 + 100000, &ev);
    ok(ev.type == ROOMS_ICE_EV_NONE && next == ROOMS_ICE_NEVER,
       "and then nothing is left");

    rooms_ice_table_destroy(t);
}


static void
test_table_full_and_remove(void)
{
    uint32_t            id1, id2, id3, id4;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a;

    t = rooms_ice_table_create(2);
    id1 = rooms_ice_add(t, T0, "ufragOne", lpwd, rufrag, &token_a);
    id2 = rooms_ice_add(t, T0, "ufragTwo", lpwd, rufrag, &token_b);
    ok(id1 != 0 && id2 != 0 && id1 != id2, "two sessions in a table of 2");

    id3 = rooms_ice_add(t, T0, "ufragThree", lpwd, rufrag, NULL);
    is_int(id3, 0, "a third: refused, the table is full");
    is_int(rooms_ice_count(t), 2, "still 2 sessions");

    a = addr("203.0.113.5", 7000);
    mkreq("ufragOne", rufrag, lpwd, 1, 1);
    input(t, T0, &a, &ev);
    is_int(rooms_ice_lookup_addr(t, &a, NULL), id1, "session one selected A");

    is_int(rooms_ice_remove(t, id1), 0, "remove session one");
    is_int(rooms_ice_count(t), 1, "1 session left");
    is_int(rooms_ice_remove(t, id1), -1, "removing it again: -1");
    is_int(rooms_ice_state(t, id1), -1, "its id is unknown");
    is_int(rooms_ice_lookup_addr(t, &a, NULL), 0,
           "its address is no longer looked up");

    mkreq("ufragOne", rufrag, lpwd, 1, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP,
           "its ufrag is no longer answered");

    id3 = rooms_ice_add(t, T0, "ufragThree", lpwd, rufrag, NULL);
    ok(id3 != 0, "the freed slot takes a new session");
    ok(id3 != id1, "with a new id (generation)");
    is_int(rooms_ice_state(t, id1), -1, "the old id still reaches nothing");
    is_int(rooms_ice_remove(t, id1), -1,
           "and cannot remove the slot's new session");
    is_int(rooms_ice_state(t, id3), ROOMS_ICE_NEW, "the new one is there");

    id4 = rooms_ice_add(t, T0, "ufragOne", lpwd, rufrag, NULL);
    is_int(id4, 0, "the table is full again");
    is_int(rooms_ice_remove(t, 0), -1, "removing id 0: -1");
    is_int(rooms_ice_remove(t, 0xffffffffu), -1, "removing a wild id: -1");

    /* the removed session's timer is gone too */
    is_int(rooms_ice_remove(t, id2), 0, "remove session two");
    is_int(rooms_ice_remove(t, id3), 0, "remove session three");
    is_int(rooms_ice_poll(t, T0 + 100000, &ev), ROOMS_ICE_NEVER,
           "no deadline left after removing everything");
    is_int(ev.type, ROOMS_ICE_EV_NONE, "and no event");

    id4 = rooms_ice_add(t, T0, "ufragOne", lpwd, rufrag, NULL);
    ok(id4 != 0, "a removed ufrag can be added again");

    rooms_ice_table_destroy(t);
}


static void
test_remote_ufrag_later(void)
{
    uint32_t            id;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a;

    t = rooms_ice_table_create(2);
    id = rooms_ice_add(t, T0, lufrag, lpwd, "", NULL);
    a = addr("192.0.2.60", 1);

    mkreq(lufrag, "anyPeer", lpwd, 0, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_REPLY,
           "peer ufrag not known yet: any peer part is answered");

    is_int(rooms_ice_set_remote_ufrag(t, id, "peer"), 0,
           "set the peer ufrag");
    is_int(rooms_ice_set_remote_ufrag(t, id, "pe"), -1,
           "a 2-character peer ufrag: refused");
    mkreq(lufrag, "anyPeer", lpwd, 0, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_DROP,
           "then another peer part is dropped");
    mkreq(lufrag, "peer", lpwd, 0, 1);
    is_int(input(t, T0, &a, &ev), ROOMS_ICE_REPLY,
           "and the right one answered");

    rooms_ice_table_destroy(t);
}


static void
test_address_taken(void)
{
    uint32_t            id1, id2;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a, sel;

    t = rooms_ice_table_create(4);
    id1 = rooms_ice_add(t, T0, "ufragOld", lpwd, rufrag, &token_a);
    id2 = rooms_ice_add(t, T0, "ufragNew", lpwd, rufrag, &token_b);
    a = addr("192.0.2.70", 4444);

    mkreq("ufragOld", rufrag, lpwd, 1, 1);
    input(t, T0, &a, &ev);
    is_int(rooms_ice_lookup_addr(t, &a, NULL), id1, "the old session has A");

    /* a page reload behind the same NAT mapping */
    mkreq("ufragNew", rufrag, lpwd, 1, 1);
    input(t, T0 + 100, &a, &ev);
    ok(ev.type == ROOMS_ICE_EV_SELECTED && ev.id == id2,
       "the new session selects A");
    is_int(rooms_ice_lookup_addr(t, &a, NULL), id2, "A finds the new one");
    is_int(rooms_ice_selected(t, id1, &sel), -1,
           "the old one has no address");
    is_int(rooms_ice_stats(t)->addr_taken, 1, "counted");

    is_int(rooms_ice_remove(t, id1), 0, "remove the old session");
    is_int(rooms_ice_lookup_addr(t, &a, NULL), id2,
           "the new one keeps A after the old one goes");

    rooms_ice_table_destroy(t);
}


static void
test_small_buffers(void)
{
    uint32_t            id;
    uint8_t             tid[12] = { 9 };
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a6;

    t = rooms_ice_table_create(2);

    is_int(rooms_ice_add(t, T0, "abcd", lpwd, "x", NULL), 0,
           "a 1-character peer ufrag: refused");
    id = rooms_ice_add(t, T0, "abcd", lpwd, NULL, NULL);
    a6 = addr("2001:db8::99", 9);

    /* 20 + USERNAME 12 + PRIORITY 8 + ICE-CONTROLLING 12 + MI 24 + FP 8 */
    rooms_stun_encode_request(req, sizeof(req), &req_len, tid, "abcd:x", 1,
                              0, 1, 1, NULL, (const uint8_t *) lpwd,
                              strlen(lpwd));
    is_int(req_len, 84, "an 84-byte request");

    out_len = 40;
    is_int(rooms_ice_input(t, T0, &a6, req, req_len, out, &out_len, &ev),
           ROOMS_ICE_DROP, "out_buf too small for the reply: dropped");
    is_int(out_len, 0, "nothing to send");
    is_int(rooms_ice_stats(t)->drop_no_room, 1, "counted as no room");
    is_int(rooms_ice_state(t, id), ROOMS_ICE_NEW, "and no state change");

    is_int(input(t, T0, &a6, &ev), ROOMS_ICE_REPLY,
           "with room: answered");
    ok(out_len == 76 && out_len <= req_len,
       "76 bytes out (IPv6) for %zu in", req_len);

    rooms_ice_table_destroy(t);
}


static void
test_amplification_bound(void)
{
    size_t              k;
    uint32_t            id;
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a4, a6;

    t = rooms_ice_table_create(2);
    id = rooms_ice_add(t, T0, "abcd", lpwd, NULL, NULL);
    a4 = addr("192.0.2.98", 9);
    a6 = addr("2001:db8::98", 9);

    /*
     * The shortest check that earns a success: USERNAME "abcd:x",
     * PRIORITY and MESSAGE-INTEGRITY, no FINGERPRINT: 20 + 12 + 8 + 24 =
     * 64 bytes.  An IPv6 success is 76: it must not be sent.
     */
    memset(req, 0, sizeof(req));
    req[1] = 0x01;
    req[4] = 0x21; req[5] = 0x12; req[6] = 0xa4; req[7] = 0x42;
    memset(req + 8, 0x33, 12);
    k = 20;
    req[k + 1] = 0x06; req[k + 3] = 6;
    memcpy(req + k + 4, "abcd:x", 6);
    k += 12;
    req[k + 1] = 0x24; req[k + 3] = 4;
    req[k + 7] = 1;
    k += 8;
    sign_by_hand(k, lpwd, 0);

    is_int(req_len, 64, "a 64-byte authenticated check");
    is_int(input(t, T0, &a6, &ev), ROOMS_ICE_DROP,
           "a 76-byte IPv6 success to it: not sent");
    is_int(out_len, 0, "nothing to send");
    is_int(rooms_ice_stats(t)->drop_amplification, 1,
           "counted as amplification");
    is_int(rooms_ice_state(t, id), ROOMS_ICE_NEW, "and no state change");

    is_int(input(t, T0, &a4, &ev), ROOMS_ICE_REPLY,
           "a 64-byte IPv4 success to it: sent");
    is_int(out_len, 64, "64 bytes");

    rooms_ice_table_destroy(t);
}


static void
test_many_sessions(void)
{
    int                 i, bad_add, bad_reply, bad_lookup;
    char                ufrag[ROOMS_ICE_GEN_UFRAG_LEN + 1];
    char                pwd[ROOMS_ICE_GEN_PWD_LEN + 1];
    uint32_t            ids[ROOMS_ICE_MAX_SESSIONS];
    rooms_ice_event_t   ev;
    rooms_ice_table_t  *t;
    rooms_stun_addr_t   a;

    static char  ufrags[ROOMS_ICE_MAX_SESSIONS][ROOMS_ICE_GEN_UFRAG_LEN + 1];
    static char  pwds[ROOMS_ICE_MAX_SESSIONS][ROOMS_ICE_GEN_PWD_LEN + 1];

    t = rooms_ice_table_create(ROOMS_ICE_MAX_SESSIONS);
    if (t == NULL) {
        tap_bail_out("rooms_ice_table_create(%d)", ROOMS_ICE_MAX_SESSIONS);
    }

    bad_add = 0;

    for (i = 0; i < ROOMS_ICE_MAX_SESSIONS; i++) {
        rooms_ice_credentials_new(ufrag, pwd);
        memcpy(ufrags[i], ufrag, sizeof(ufrag));
        memcpy(pwds[i], pwd, sizeof(pwd));
        ids[i] = rooms_ice_add(t, T0, ufrag, pwd, rufrag,
                               (void *) (uintptr_t) (i + 1));
        bad_add += ids[i] == 0;
    }

    is_int(bad_add, 0, "%d sessions added", ROOMS_ICE_MAX_SESSIONS);
    ok(rooms_ice_add(t, T0, "oneMoreUfrag", lpwd, rufrag, NULL) == 0,
       "one more: refused");

    /* same IP, consecutive ports: the worst case for a weak hash */
    bad_reply = 0;

    for (i = 0; i < ROOMS_ICE_MAX_SESSIONS; i++) {
        a = addr("198.51.100.1", (uint16_t) (10000 + i));
        mkreq(ufrags[i], rufrag, pwds[i], 1, 1);

        if (input(t, T0 + 1, &a, &ev) != ROOMS_ICE_REPLY
            || ev.type != ROOMS_ICE_EV_SELECTED || ev.id != ids[i])
        {
            bad_reply++;
        }
    }

    is_int(bad_reply, 0, "each session's check answered and selected");

    bad_lookup = 0;

    for (i = 0; i < ROOMS_ICE_MAX_SESSIONS; i++) {
        void  *data;

        a = addr("198.51.100.1", (uint16_t) (10000 + i));
        data = NULL;

        if (rooms_ice_lookup_addr(t, &a, &data) != ids[i]
            || data != (void *) (uintptr_t) (i + 1))
        {
            bad_lookup++;
        }
    }

    is_int(bad_lookup, 0, "each address finds its session");

    a = addr("198.51.100.1", 9999);
    is_int(rooms_ice_lookup_addr(t, &a, NULL), 0, "an unused port: none");

    /* remove every other session; the rest are still found */
    bad_lookup = 0;

    for (i = 0; i < ROOMS_ICE_MAX_SESSIONS; i += 2) {
        rooms_ice_remove(t, ids[i]);
    }

    for (i = 0; i < ROOMS_ICE_MAX_SESSIONS; i++) {
        a = addr("198.51.100.1", (uint16_t) (10000 + i));

        if (rooms_ice_lookup_addr(t, &a, NULL) != (i % 2 ? ids[i] : 0)) {
            bad_lookup++;
        }
    }

    is_int(bad_lookup, 0, "after removing half, lookups are exact");
    is_int(rooms_ice_count(t), ROOMS_ICE_MAX_SESSIONS / 2, "half are left");

    rooms_ice_table_destroy(t);
}


int
main(void)
{
    test_create_and_add();
    test_valid_check();
    test_silent_drops();
    test_authenticated_errors();
    test_nomination_and_rebinding();
    test_consent();
    test_order_of_deadlines();
    test_table_full_and_remove();
    test_remote_ufrag_later();
    test_address_taken();
    test_small_buffers();
    test_amplification_bound();
    test_many_sessions();

    return done_testing();
}
