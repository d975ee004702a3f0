/*
 * fuzz_stun.c: libFuzzer target for the STUN codec and the ICE-lite input
 * path (worker/stun.*, worker/ice.*).
 *
 * Two modes, chosen by the first byte of the input:
 *
 *   - raw (even): the rest is one datagram.  It goes through
 *     rooms_stun_parse() and, when it parses, both checks and the
 *     invariants below; then through rooms_ice_input() of a table holding
 *     one session.  Nothing here may crash, leak or read out of bounds,
 *     and no reply may be sent (the fuzzer cannot forge the HMAC).
 *   - signed (odd): the rest becomes the attributes of a Binding request
 *     that the harness signs with the session's pwd after a valid
 *     USERNAME, so the authenticated paths (400, 420, 487, success,
 *     selection, consent) are reached too.  Any reply must parse, carry
 *     valid MESSAGE-INTEGRITY and FINGERPRINT, and be no larger than the
 *     request.
 *
 * Build and run (clang):
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iworker \
 *       tests/fuzz/fuzz_stun.c worker/stun.c worker/ice.c -lcrypto \
 *       -o build/fuzz_stun
 *   build/fuzz_stun -max_total_time=60 -max_len=1500
 *
 * Without libFuzzer (gcc), -DROOMS_FUZZ_MAIN gives a main() that runs
 * each file named on the command line once.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ice.h"
#include "stun.h"


#define FUZZ_UFRAG  "FuzzUfragFuzzUfragFuzz"
#define FUZZ_PEER   "peer"
#define FUZZ_PWD    "FuzzPasswordFuzzPasswordFuzzPass"


static rooms_ice_table_t  *fuzz_table;
static uint32_t            fuzz_id;
static uint64_t            fuzz_now = 1000;


static void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_stun: %s\n", what);
    abort();
}


static void
fuzz_setup(void)
{
    if (fuzz_table != NULL) {
        return;
    }

    fuzz_table = rooms_ice_table_create(4);
    if (fuzz_table == NULL) {
        fuzz_fail("rooms_ice_table_create");
    }

    fuzz_id = rooms_ice_add(fuzz_table, fuzz_now, FUZZ_UFRAG, FUZZ_PWD,
                            FUZZ_PEER, NULL);
    if (fuzz_id == 0) {
        fuzz_fail("rooms_ice_add");
    }
}


/* Invariants of a successful parse. */
static void
fuzz_check_msg(const rooms_stun_msg_t *msg, const uint8_t *buf, size_t len)
{
    if (msg->buf != buf || msg->len != len || msg->tid != buf + 8) {
        fuzz_fail("msg does not describe its buffer");
    }

    if ((msg->flags & ROOMS_STUN_HAS_USERNAME)
        && (msg->username < buf + 20
            || msg->username + msg->username_len > buf + len
            || msg->username_len > ROOMS_STUN_USERNAME_MAX))
    {
        fuzz_fail("USERNAME out of bounds");
    }

    if ((msg->flags & ROOMS_STUN_HAS_INTEGRITY)
        && (msg->integrity_off < 20 || msg->integrity_off + 24 > len))
    {
        fuzz_fail("MESSAGE-INTEGRITY out of bounds");
    }

    if ((msg->flags & ROOMS_STUN_HAS_FINGERPRINT)
        && msg->fingerprint_off + 8 != len)
    {
        fuzz_fail("FINGERPRINT not last");
    }

    if ((msg->flags & ROOMS_STUN_HAS_ERROR_CODE)
        && (msg->error_code < 300 || msg->error_code > 699
            || msg->error_reason + msg->error_reason_len > buf + len))
    {
        fuzz_fail("ERROR-CODE out of range");
    }
}


/* A reply from rooms_ice_input() must be authentic and not amplify. */
static void
fuzz_check_reply(const uint8_t *out, size_t out_len, size_t in_len)
{
    rooms_stun_msg_t  msg;

    if (out_len > in_len) {
        fuzz_fail("reply larger than the request");
    }

    if (rooms_stun_parse(&msg, out, out_len) != ROOMS_STUN_OK) {
        fuzz_fail("reply does not parse");
    }

    if (!rooms_stun_check_fingerprint(&msg)
        || !rooms_stun_check_integrity(&msg, NULL,
                                       (const uint8_t *) FUZZ_PWD,
                                       strlen(FUZZ_PWD)))
    {
        fuzz_fail("reply not signed");
    }
}


static void
fuzz_input(const uint8_t *buf, size_t len, int may_reply)
{
    size_t              out_len;
    uint8_t             out[ROOMS_STUN_REPLY_MAX];
    rooms_ice_event_t   ev;
    rooms_stun_addr_t   src;

    /* the source address and the clock come from the datagram too */
    memset(&src, 0, sizeof(src));
    src.family = (len > 20 && (buf[len - 1] & 1)) ? 6 : 4;
    src.port = len > 2 ? (uint16_t) (buf[len - 2] | 0x100) : 1;
    src.ip[0] = 10;
    src.ip[3] = len > 3 ? buf[len - 3] & 7 : 0;

    fuzz_now += len > 4 ? buf[len - 4] * 100u : 1;

    out_len = sizeof(out);

    if (rooms_ice_input(fuzz_table, fuzz_now, &src, buf, len, out, &out_len,
                        &ev)
        == ROOMS_ICE_REPLY)
    {
        if (!may_reply) {
            fuzz_fail("an unsigned datagram was answered");
        }

        fuzz_check_reply(out, out_len, len);

    } else if (out_len != 0) {
        fuzz_fail("a drop with a reply length");
    }

    while (rooms_ice_poll(fuzz_table, fuzz_now, &ev), ev.type
           != ROOMS_ICE_EV_NONE)
    {
        /* an expired session: start it again, as the worker would */
        if (ev.type == ROOMS_ICE_EV_TIMEOUT) {
            rooms_ice_remove(fuzz_table, ev.id);
            fuzz_id = rooms_ice_add(fuzz_table, fuzz_now, FUZZ_UFRAG,
                                    FUZZ_PWD, FUZZ_PEER, NULL);
        }
    }

    (void) rooms_ice_lookup_addr(fuzz_table, &src, NULL);
}


/* Wraps data as the attributes of a request signed with FUZZ_PWD. */
static size_t
fuzz_sign(uint8_t *msg, size_t cap, const uint8_t *data, size_t size)
{
    size_t    k, n;
    unsigned  mdlen;
    uint32_t  crc;

    static const char  username[] = FUZZ_UFRAG ":" FUZZ_PEER;

    n = size & ~(size_t) 3;

    if (20 + 4 + 28 + n + 24 + 8 > cap) {
        n = (cap - 20 - 4 - 28 - 24 - 8) & ~(size_t) 3;
    }

    memset(msg, 0, 20);
    msg[1] = 0x01;
    msg[4] = 0x21; msg[5] = 0x12; msg[6] = 0xa4; msg[7] = 0x42;
    memcpy(msg + 8, data, size < 12 ? size : 12);

    /* USERNAME first: of repeated attributes the first counts */
    k = 20;
    msg[k] = 0x00; msg[k + 1] = 0x06;
    msg[k + 2] = 0; msg[k + 3] = (uint8_t) (sizeof(username) - 1);
    memset(msg + k + 4, 0, 28);
    memcpy(msg + k + 4, username, sizeof(username) - 1);
    k += 4 + ((sizeof(username) - 1 + 3) & ~(size_t) 3);

    memcpy(msg + k, data, n);
    k += n;

    msg[k] = 0x00; msg[k + 1] = 0x08; msg[k + 2] = 0; msg[k + 3] = 20;
    msg[2] = (uint8_t) ((k + 24 - 20) >> 8);
    msg[3] = (uint8_t) (k + 24 - 20);
    HMAC(EVP_sha1(), FUZZ_PWD, (int) strlen(FUZZ_PWD), msg, k, msg + k + 4,
         &mdlen);
    k += 24;

    msg[k] = 0x80; msg[k + 1] = 0x28; msg[k + 2] = 0; msg[k + 3] = 4;
    msg[2] = (uint8_t) ((k + 8 - 20) >> 8);
    msg[3] = (uint8_t) (k + 8 - 20);
    crc = rooms_stun_crc32(msg, k) ^ 0x5354554eu;
    msg[k + 4] = (uint8_t) (crc >> 24);
    msg[k + 5] = (uint8_t) (crc >> 16);
    msg[k + 6] = (uint8_t) (crc >> 8);
    msg[k + 7] = (uint8_t) crc;

    return k + 8;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t            n;
    uint8_t          *copy, msgbuf[2048];
    rooms_stun_msg_t  msg;

    fuzz_setup();

    if (size == 0) {
        return 0;
    }

    if ((data[0] & 1) == 0) {
        /* an exact-size heap copy, so ASan sees any over-read */
        n = size - 1;
        copy = malloc(n ? n : 1);
        if (copy == NULL) {
            return 0;
        }

        memcpy(copy, data + 1, n);

        (void) rooms_stun_is_stun(copy, n);

        if (rooms_stun_parse(&msg, copy, n) == ROOMS_STUN_OK) {
            fuzz_check_msg(&msg, copy, n);
            (void) rooms_stun_check_fingerprint(&msg);
            (void) rooms_stun_check_integrity(&msg, NULL,
                                              (const uint8_t *) FUZZ_PWD,
                                              strlen(FUZZ_PWD));
        }

        fuzz_input(copy, n, 0);
        free(copy);

        return 0;
    }

    n = fuzz_sign(msgbuf, sizeof(msgbuf), data + 1, size - 1);

    copy = malloc(n);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, msgbuf, n);

    if (rooms_stun_parse(&msg, copy, n) == ROOMS_STUN_OK) {
        fuzz_check_msg(&msg, copy, n);
    }

    fuzz_input(copy, n, 1);
    free(copy);

    return 0;
}


#ifdef ROOMS_FUZZ_MAIN

int
main(int argc, char **argv)
{
    int      i;
    long     n;
    FILE    *f;
    uint8_t  buf[65536];

    for (i = 1; i < argc; i++) {
        f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }

        n = (long) fread(buf, 1, sizeof(buf), f);
        fclose(f);

        LLVMFuzzerTestOneInput(buf, (size_t) n);
    }

    return 0;
}

#endif
