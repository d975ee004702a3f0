/*
 * test_stun.c: the STUN codec (worker/stun.*).
 *
 * Covers: the RFC 5769 test vectors typed in byte by byte (the sample
 * request with its short-term password, the IPv4 and IPv6 responses and
 * their XOR-MAPPED-ADDRESS), CRC-32 against its check value, RFC 7983
 * demultiplexing, every header and attribute bound the parser enforces,
 * attributes after MESSAGE-INTEGRITY, unknown and repeated attributes,
 * tampering (a wrong password, a flipped byte), and round trips of what
 * the encoders write, including buffers that are too small.
 */

#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stun.h"
#include "tap.h"


static const char  rfc5769_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

static const uint8_t  rfc5769_tid[12] = {
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae
};


/* RFC 5769 2.1: Sample Request (a Binding request, 108 bytes) */
static const uint8_t  rfc5769_request[] = {
    0x00, 0x01, 0x00, 0x58,     /* Request type and message length */
    0x21, 0x12, 0xa4, 0x42,     /* Magic cookie */
    0xb7, 0xe7, 0xa7, 0x01,     /* } */
    0xbc, 0x34, 0xd6, 0x86,     /* }  Transaction ID */
    0xfa, 0x87, 0xdf, 0xae,     /* } */
    0x80, 0x22, 0x00, 0x10,     /* SOFTWARE attribute header */
    0x53, 0x54, 0x55, 0x4e,     /* } */
    0x20, 0x74, 0x65, 0x73,     /* }  User-agent... */
    0x74, 0x20, 0x63, 0x6c,     /* }  ...name */
    0x69, 0x65, 0x6e, 0x74,     /* } */
    0x00, 0x24, 0x00, 0x04,     /* PRIORITY attribute header */
    0x6e, 0x00, 0x01, 0xff,     /* ICE priority value */
    0x80, 0x29, 0x00, 0x08,     /* ICE-CONTROLLED attribute header */
    0x93, 0x2f, 0xf9, 0xb1,     /* }  Pseudo-random tie breaker... */
    0x51, 0x26, 0x3b, 0x36,     /* }   ...for ICE control */
    0x00, 0x06, 0x00, 0x09,     /* USERNAME attribute header */
    0x65, 0x76, 0x74, 0x6a,     /* } */
    0x3a, 0x68, 0x36, 0x76,     /* }  Username (9 bytes) and padding (3) */
    0x59, 0x20, 0x20, 0x20,     /* } */
    0x00, 0x08, 0x00, 0x14,     /* MESSAGE-INTEGRITY attribute header */
    0x9a, 0xea, 0xa7, 0x0c,     /* } */
    0xbf, 0xd8, 0xcb, 0x56,     /* } */
    0x78, 0x1e, 0xf2, 0xb5,     /* }  HMAC-SHA1 fingerprint */
    0xb2, 0xd3, 0xf2, 0x49,     /* } */
    0xc1, 0xb5, 0x71, 0xa2,     /* } */
    0x80, 0x28, 0x00, 0x04,     /* FINGERPRINT attribute header */
    0xe5, 0x7a, 0x3b, 0xcf      /* CRC32 fingerprint */
};


/* RFC 5769 2.2: Sample IPv4 Response (80 bytes) */
static const uint8_t  rfc5769_ipv4[] = {
    0x01, 0x01, 0x00, 0x3c,     /* Response type and message length */
    0x21, 0x12, 0xa4, 0x42,     /* Magic cookie */
    0xb7, 0xe7, 0xa7, 0x01,     /* } */
    0xbc, 0x34, 0xd6, 0x86,     /* }  Transaction ID */
    0xfa, 0x87, 0xdf, 0xae,     /* } */
    0x80, 0x22, 0x00, 0x0b,     /* SOFTWARE attribute header */
    0x74, 0x65, 0x73, 0x74,     /* } */
    0x20, 0x76, 0x65, 0x63,     /* }  UTF-8 server name */
    0x74, 0x6f, 0x72, 0x20,     /* } */
    0x00, 0x20, 0x00, 0x08,     /* XOR-MAPPED-ADDRESS attribute header */
    0x00, 0x01, 0xa1, 0x47,     /* Address family (IPv4) and xor'd port */
    0xe1, 0x12, 0xa6, 0x43,     /* Xor'd IPv4 address */
    0x00, 0x08, 0x00, 0x14,     /* MESSAGE-INTEGRITY attribute header */
    0x2b, 0x91, 0xf5, 0x99,     /* } */
    0xfd, 0x9e, 0x90, 0xc3,     /* } */
    0x8c, 0x74, 0x89, 0xf9,     /* }  HMAC-SHA1 fingerprint */
    0x2a, 0xf9, 0xba, 0x53,     /* } */
    0xf0, 0x6b, 0xe7, 0xd7,     /* } */
    0x80, 0x28, 0x00, 0x04,     /* FINGERPRINT attribute header */
    0xc0, 0x7d, 0x4c, 0x96      /* CRC32 fingerprint */
};


/* RFC 5769 2.3: Sample IPv6 Response (92 bytes) */
static const uint8_t  rfc5769_ipv6[] = {
    0x01, 0x01, 0x00, 0x48,     /* Response type and message length */
    0x21, 0x12, 0xa4, 0x42,     /* Magic cookie */
    0xb7, 0xe7, 0xa7, 0x01,     /* } */
    0xbc, 0x34, 0xd6, 0x86,     /* }  Transaction ID */
    0xfa, 0x87, 0xdf, 0xae,     /* } */
    0x80, 0x22, 0x00, 0x0b,     /* SOFTWARE attribute header */
    0x74, 0x65, 0x73, 0x74,     /* } */
    0x20, 0x76, 0x65, 0x63,     /* }  UTF-8 server name */
    0x74, 0x6f, 0x72, 0x20,     /* } */
    0x00, 0x20, 0x00, 0x14,     /* XOR-MAPPED-ADDRESS attribute header */
    0x00, 0x02, 0xa1, 0x47,     /* Address family (IPv6) and xor'd port */
    0x01, 0x13, 0xa9, 0xfa,     /* } */
    0xa5, 0xd3, 0xf1, 0x79,     /* }  Xor'd IPv6 address */
    0xbc, 0x25, 0xf4, 0xb5,     /* } */
    0xbe, 0xd2, 0xb9, 0xd9,     /* } */
    0x00, 0x08, 0x00, 0x14,     /* MESSAGE-INTEGRITY attribute header */
    0xa3, 0x82, 0x95, 0x4e,     /* } */
    0x4b, 0xe6, 0x7b, 0xf1,     /* } */
    0x17, 0x84, 0xc9, 0x7c,     /* }  HMAC-SHA1 fingerprint */
    0x82, 0x92, 0xc2, 0x75,     /* } */
    0xbf, 0xe3, 0xed, 0x41,     /* } */
    0x80, 0x28, 0x00, 0x04,     /* FINGERPRINT attribute header */
    0xc8, 0xfb, 0x0b, 0x4c      /* CRC32 fingerprint */
};


static uint8_t  buf[2048];


static int
check_pwd(const rooms_stun_msg_t *msg, const char *pwd)
{
    return rooms_stun_check_integrity(msg, NULL, (const uint8_t *) pwd,
                                      strlen(pwd));
}


static int
parse_copy(rooms_stun_msg_t *msg, const uint8_t *src, size_t len)
{
    memcpy(buf, src, len);
    return rooms_stun_parse(msg, buf, len);
}


static void
put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


/* A 20-byte Binding request header with a zero length; returns 20. */
static size_t
header(uint8_t *p, unsigned type)
{
    put16(p, type);
    put16(p + 2, 0);
    p[4] = 0x21; p[5] = 0x12; p[6] = 0xa4; p[7] = 0x42;
    memcpy(p + 8, rfc5769_tid, 12);

    return 20;
}


/* Appends an attribute (value zero-padded) and fixes the length field. */
static size_t
attr(uint8_t *p, size_t len, unsigned type, const void *v, size_t vlen)
{
    size_t  padded;

    padded = (vlen + 3) & ~(size_t) 3;

    put16(p + len, type);
    put16(p + len + 2, (unsigned) vlen);
    memset(p + len + 4, 0, padded);
    if (vlen) {
        memcpy(p + len + 4, v, vlen);
    }

    len += 4 + padded;
    put16(p + 2, (unsigned) (len - 20));

    return len;
}


static void
test_crc_and_demux(void)
{
    uint8_t  b[4];

    is_int(rooms_stun_crc32((const uint8_t *) "123456789", 9), 0xcbf43926u,
           "CRC-32 check value of \"123456789\"");
    is_int(rooms_stun_crc32((const uint8_t *) "", 0), 0,
           "CRC-32 of nothing is 0");

    ok(rooms_stun_is_stun(rfc5769_request, sizeof(rfc5769_request)),
       "demux: the sample request is STUN");

    b[0] = 3;
    ok(rooms_stun_is_stun(b, 1), "demux: first byte 3 is STUN");
    b[0] = 0;
    ok(rooms_stun_is_stun(b, 1), "demux: first byte 0 is STUN");
    b[0] = 4;
    ok(!rooms_stun_is_stun(b, 1), "demux: first byte 4 is not STUN");
    b[0] = 22;
    ok(!rooms_stun_is_stun(b, 1), "demux: DTLS handshake (22) is not STUN");
    b[0] = 0x80;
    ok(!rooms_stun_is_stun(b, 1), "demux: RTP (0x80) is not STUN");
    b[0] = 64;
    ok(!rooms_stun_is_stun(b, 1), "demux: TURN channel (64) is not STUN");
    ok(!rooms_stun_is_stun(b, 0), "demux: an empty datagram is not STUN");
}


static void
test_rfc5769_request(void)
{
    rooms_stun_msg_t  msg;

    is_int(sizeof(rfc5769_request), 108, "the sample request is 108 bytes");
    is_int(parse_copy(&msg, rfc5769_request, sizeof(rfc5769_request)),
           ROOMS_STUN_OK, "sample request parses");
    is_int(msg.type, ROOMS_STUN_BINDING_REQUEST, "it is a Binding request");
    ok(memcmp(msg.tid, rfc5769_tid, 12) == 0, "transaction id");
    ok(msg.username_len == 9 && memcmp(msg.username, "evtj:h6vY", 9) == 0,
       "USERNAME is evtj:h6vY (its space padding is not part of it)");
    ok(msg.flags & ROOMS_STUN_HAS_PRIORITY, "PRIORITY present");
    is_int(msg.priority, 0x6e0001ffu, "PRIORITY value");
    ok((msg.flags & ROOMS_STUN_HAS_ICE_CONTROLLED)
       && !(msg.flags & ROOMS_STUN_HAS_ICE_CONTROLLING),
       "ICE-CONTROLLED, not ICE-CONTROLLING");
    ok(msg.ice_tiebreaker == 0x932ff9b151263b36ULL, "tie breaker");
    ok(!(msg.flags & ROOMS_STUN_HAS_USE_CANDIDATE), "no USE-CANDIDATE");
    is_int(msg.nunknown, 0, "SOFTWARE is comprehension-optional: no unknown");
    is_int(msg.integrity_off, 76, "MESSAGE-INTEGRITY at offset 76");
    is_int(msg.fingerprint_off, 100, "FINGERPRINT at offset 100");

    ok(rooms_stun_check_fingerprint(&msg), "sample request: FINGERPRINT ok");
    ok(check_pwd(&msg, rfc5769_pwd),
       "sample request: MESSAGE-INTEGRITY ok with VOkJxbRl1RmTxUk/WvJxBt");
    ok(!check_pwd(&msg, "VOkJxbRl1RmTxUk/WvJxBT"),
       "one letter of the password changed: integrity fails");
    ok(!check_pwd(&msg, "VOkJxbRl1RmTxUk/WvJxB"),
       "the password cut short: integrity fails");
    ok(!rooms_stun_check_integrity(&msg, NULL, NULL, 0),
       "no key: integrity fails");

    /* a flipped byte in SOFTWARE: both checks see it */
    parse_copy(&msg, rfc5769_request, sizeof(rfc5769_request));
    buf[30] ^= 0x01;
    ok(!rooms_stun_check_fingerprint(&msg),
       "a flipped SOFTWARE byte: FINGERPRINT fails");
    ok(!check_pwd(&msg, rfc5769_pwd),
       "a flipped SOFTWARE byte: integrity fails");

    /* padding is not checked by the parser but is covered by the MAC */
    parse_copy(&msg, rfc5769_request, sizeof(rfc5769_request));
    buf[74] = 0x00;
    is_int(rooms_stun_parse(&msg, buf, sizeof(rfc5769_request)),
           ROOMS_STUN_OK, "USERNAME padding changed: still parses");
    ok(!check_pwd(&msg, rfc5769_pwd), "changed padding: integrity fails");

    /* a flipped FINGERPRINT byte: integrity (which does not cover it) ok */
    parse_copy(&msg, rfc5769_request, sizeof(rfc5769_request));
    buf[107] ^= 0x80;
    ok(!rooms_stun_check_fingerprint(&msg),
       "a flipped CRC byte: FINGERPRINT fails");
    ok(check_pwd(&msg, rfc5769_pwd),
       "a flipped CRC byte: MESSAGE-INTEGRITY still ok");

    /* a flipped MAC byte */
    parse_copy(&msg, rfc5769_request, sizeof(rfc5769_request));
    buf[90] ^= 0x10;
    ok(!check_pwd(&msg, rfc5769_pwd), "a flipped MAC byte: integrity fails");

    /* a flipped transaction id byte */
    parse_copy(&msg, rfc5769_request, sizeof(rfc5769_request));
    buf[19] ^= 0x01;
    ok(!check_pwd(&msg, rfc5769_pwd) && !rooms_stun_check_fingerprint(&msg),
       "a flipped transaction id byte: both checks fail");
}


static void
test_rfc5769_responses(void)
{
    char                   s[64];
    rooms_stun_msg_t       msg;
    rooms_stun_addr_t      want;
    rooms_stun_mac_t      *mac;

    is_int(sizeof(rfc5769_ipv4), 80, "the IPv4 response is 80 bytes");
    is_int(parse_copy(&msg, rfc5769_ipv4, sizeof(rfc5769_ipv4)),
           ROOMS_STUN_OK, "IPv4 response parses");
    is_int(msg.type, ROOMS_STUN_BINDING_SUCCESS, "a Binding success");
    ok(msg.flags & ROOMS_STUN_HAS_XOR_MAPPED, "XOR-MAPPED-ADDRESS present");
    rooms_stun_addr_set(&want, "192.0.2.1", 32853);
    ok(rooms_stun_addr_equal(&msg.xor_mapped, &want),
       "XOR-MAPPED-ADDRESS is 192.0.2.1:32853 (got %s)",
       rooms_stun_addr_format(&msg.xor_mapped, s, sizeof(s)));
    ok(rooms_stun_check_fingerprint(&msg), "IPv4 response: FINGERPRINT ok");
    ok(check_pwd(&msg, rfc5769_pwd), "IPv4 response: integrity ok");

    is_int(sizeof(rfc5769_ipv6), 92, "the IPv6 response is 92 bytes");
    is_int(parse_copy(&msg, rfc5769_ipv6, sizeof(rfc5769_ipv6)),
           ROOMS_STUN_OK, "IPv6 response parses");
    rooms_stun_addr_set(&want, "2001:db8:1234:5678:11:2233:4455:6677",
                        32853);
    ok(rooms_stun_addr_equal(&msg.xor_mapped, &want),
       "XOR-MAPPED-ADDRESS is [2001:db8:1234:5678:11:2233:4455:6677]:32853"
       " (got %s)", rooms_stun_addr_format(&msg.xor_mapped, s, sizeof(s)));
    is_str(rooms_stun_addr_format(&msg.xor_mapped, s, sizeof(s)),
           "[2001:db8:1234:5678:11:2233:4455:6677]:32853", "format IPv6");
    ok(rooms_stun_check_fingerprint(&msg), "IPv6 response: FINGERPRINT ok");

    /* a MAC context made once serves key after key */
    mac = rooms_stun_mac_create();
    ok(mac != NULL, "rooms_stun_mac_create");
    ok(rooms_stun_check_integrity(&msg, mac, (const uint8_t *) "wrong-key",
                                  9) == 0, "reused context: wrong key fails");
    ok(rooms_stun_check_integrity(&msg, mac,
                                  (const uint8_t *) rfc5769_pwd,
                                  strlen(rfc5769_pwd)),
       "reused context: IPv6 response integrity ok");
    parse_copy(&msg, rfc5769_request, sizeof(rfc5769_request));
    ok(rooms_stun_check_integrity(&msg, mac,
                                  (const uint8_t *) rfc5769_pwd,
                                  strlen(rfc5769_pwd)),
       "reused context: request integrity ok");
    rooms_stun_mac_destroy(mac);
    rooms_stun_mac_destroy(NULL);
}


static void
test_header_bounds(void)
{
    size_t            len;
    rooms_stun_msg_t  msg;

    len = sizeof(rfc5769_request);

    memcpy(buf, rfc5769_request, len);
    is_int(rooms_stun_parse(&msg, buf, 19), ROOMS_STUN_ERR_SHORT,
           "19 bytes: too short");
    is_int(rooms_stun_parse(&msg, buf, 0), ROOMS_STUN_ERR_SHORT,
           "0 bytes: too short");

    memcpy(buf, rfc5769_request, len);
    buf[0] = 0x40;
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_NOT_STUN,
           "first bits 01: refused");
    buf[0] = 0x80;
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_NOT_STUN,
           "first bits 10: refused");

    memcpy(buf, rfc5769_request, len);
    buf[7] ^= 1;
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_COOKIE,
           "wrong magic cookie: refused");

    memcpy(buf, rfc5769_request, len);
    is_int(rooms_stun_parse(&msg, buf, len - 4), ROOMS_STUN_ERR_LENGTH,
           "datagram 4 bytes shorter than the length field: refused");
    is_int(rooms_stun_parse(&msg, buf, len - 1), ROOMS_STUN_ERR_LENGTH,
           "datagram 1 byte short: refused");

    memcpy(buf, rfc5769_request, len);
    buf[len] = 0;
    buf[len + 1] = 0;
    buf[len + 2] = 0;
    buf[len + 3] = 0;
    is_int(rooms_stun_parse(&msg, buf, len + 4), ROOMS_STUN_ERR_LENGTH,
           "4 trailing bytes beyond the length field: refused");

    memcpy(buf, rfc5769_request, len);
    put16(buf + 2, 0x57);
    is_int(rooms_stun_parse(&msg, buf, 20 + 0x57), ROOMS_STUN_ERR_LENGTH,
           "length field not a multiple of 4: refused");

    memcpy(buf, rfc5769_request, len);
    put16(buf + 2, 0xfffc);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_LENGTH,
           "length field 65532 on a 108-byte datagram: refused");

    /* a header alone is a valid, empty message */
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_OK,
           "a 20-byte message with no attributes parses");
    is_int(msg.flags, 0, "and carries nothing");
    ok(!rooms_stun_check_fingerprint(&msg) && !check_pwd(&msg, "x"),
       "no FINGERPRINT, no MESSAGE-INTEGRITY: both checks say no");
}


static void
test_attribute_bounds(void)
{
    size_t            len;
    uint8_t           v[600];
    rooms_stun_msg_t  msg;

    memset(v, 'a', sizeof(v));

    /* a value running past the end of the message */
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_USERNAME, "user:peer", 9);
    put16(buf + 22, 13);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_TRUNCATED,
           "USERNAME length 13 in a 12-byte slot: refused");
    put16(buf + 22, 0xffff);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_TRUNCATED,
           "attribute length 65535: refused");
    put16(buf + 22, 12);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_OK,
           "USERNAME length 12 exactly filling its slot: accepted");
    is_int(msg.username_len, 12, "with 12 bytes of value");

    /* padding that is not there */
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, 0x8077, "abcdefgh", 8);
    put16(buf + 22, 9);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_TRUNCATED,
           "9-byte value whose padding is missing: refused");

    /* an attribute header cut short cannot happen (4-aligned), but the
     * message may end in the middle of a value */
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_PRIORITY, "\0\0\0\1", 4);
    len = attr(buf, len, ROOMS_STUN_ATTR_USERNAME, "abcd:efgh", 9);
    put16(buf + 2, (unsigned) (len - 20 - 4));
    is_int(rooms_stun_parse(&msg, buf, len - 4),
           ROOMS_STUN_ERR_ATTR_TRUNCATED,
           "message ends inside the last value: refused");

    /* oversized and undersized known attributes */
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_MESSAGE_INTEGRITY, v, 19);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "MESSAGE-INTEGRITY of 19 bytes: refused");
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_MESSAGE_INTEGRITY, v, 24);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "MESSAGE-INTEGRITY of 24 bytes: refused");
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_FINGERPRINT, v, 8);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "FINGERPRINT of 8 bytes: refused");
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_PRIORITY, v, 3);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "PRIORITY of 3 bytes: refused");
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_PRIORITY, v, 8);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "PRIORITY of 8 bytes: refused");
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_USE_CANDIDATE, v, 4);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "USE-CANDIDATE with a value: refused");
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_ICE_CONTROLLING, v, 4);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "ICE-CONTROLLING of 4 bytes: refused");
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_ICE_CONTROLLED, v, 12);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "ICE-CONTROLLED of 12 bytes: refused");
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_USERNAME, v, 513);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "USERNAME of 513 bytes: refused");
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_USERNAME, v, 512);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_OK,
           "USERNAME of 512 bytes: accepted");

    /* XOR-MAPPED-ADDRESS shapes */
    len = header(buf, ROOMS_STUN_BINDING_SUCCESS);
    len = attr(buf, len, ROOMS_STUN_ATTR_XOR_MAPPED_ADDRESS,
               "\0\3\0\0\0\0\0\0", 8);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "XOR-MAPPED-ADDRESS family 3: refused");
    len = header(buf, ROOMS_STUN_BINDING_SUCCESS);
    len = attr(buf, len, ROOMS_STUN_ATTR_XOR_MAPPED_ADDRESS, "\0\1\0\0", 4);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "XOR-MAPPED-ADDRESS IPv4 without its address: refused");
    len = header(buf, ROOMS_STUN_BINDING_SUCCESS);
    memset(v, 0, 20);
    v[1] = 1;
    len = attr(buf, len, ROOMS_STUN_ATTR_XOR_MAPPED_ADDRESS, v, 20);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "XOR-MAPPED-ADDRESS IPv4 of 20 bytes: refused");
    len = header(buf, ROOMS_STUN_BINDING_SUCCESS);
    v[1] = 2;
    len = attr(buf, len, ROOMS_STUN_ATTR_XOR_MAPPED_ADDRESS, v, 8);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "XOR-MAPPED-ADDRESS IPv6 of 8 bytes: refused");

    /* ERROR-CODE shapes */
    len = header(buf, ROOMS_STUN_BINDING_ERROR);
    len = attr(buf, len, ROOMS_STUN_ATTR_ERROR_CODE, "\0\0\4\1Unauthorized",
               16);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_OK,
           "ERROR-CODE 401 parses");
    is_int(msg.error_code, 401, "error code 401");
    ok(msg.error_reason_len == 12
       && memcmp(msg.error_reason, "Unauthorized", 12) == 0,
       "reason phrase");
    len = header(buf, ROOMS_STUN_BINDING_ERROR);
    len = attr(buf, len, ROOMS_STUN_ATTR_ERROR_CODE, "\0\0\2\1", 4);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "ERROR-CODE class 2: refused");
    len = header(buf, ROOMS_STUN_BINDING_ERROR);
    len = attr(buf, len, ROOMS_STUN_ATTR_ERROR_CODE, "\0\0\4\144", 4);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "ERROR-CODE number 100: refused");
    len = header(buf, ROOMS_STUN_BINDING_ERROR);
    len = attr(buf, len, ROOMS_STUN_ATTR_ERROR_CODE, "\0\0\4", 3);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_BAD,
           "ERROR-CODE of 3 bytes: refused");

    /* FINGERPRINT is last */
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_FINGERPRINT, "\0\0\0\0", 4);
    len = attr(buf, len, ROOMS_STUN_ATTR_PRIORITY, "\0\0\0\1", 4);
    is_int(rooms_stun_parse(&msg, buf, len),
           ROOMS_STUN_ERR_AFTER_FINGERPRINT,
           "an attribute after FINGERPRINT: refused");
}


static void
test_attribute_rules(void)
{
    size_t            len, fp;
    uint32_t          crc;
    rooms_stun_msg_t  msg;

    /* unknown attributes */
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, 0x8077, "opt", 3);
    len = attr(buf, len, 0xc057, "\0\1\0\2", 4);   /* as Chrome sends */
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_OK,
           "comprehension-optional unknowns parse");
    is_int(msg.nunknown, 0, "and are not listed");

    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, 0x0077, "req", 3);
    len = attr(buf, len, 0x0014, "realm", 5);      /* REALM */
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_OK,
           "comprehension-required unknowns parse");
    ok(msg.nunknown == 2 && msg.unknown[0] == 0x0077
       && msg.unknown[1] == 0x0014, "and are listed in order");

    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, 0x0071, NULL, 0);
    len = attr(buf, len, 0x0072, NULL, 0);
    len = attr(buf, len, 0x0073, NULL, 0);
    len = attr(buf, len, 0x0074, NULL, 0);
    len = attr(buf, len, 0x0075, NULL, 0);
    len = attr(buf, len, 0x0076, NULL, 0);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_OK,
           "six unknowns parse");
    ok(msg.nunknown == 6 && msg.unknown[3] == 0x0074,
       "all six counted, the first four kept");

    /* repeated attributes: the first counts */
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_USERNAME, "first:one", 9);
    len = attr(buf, len, ROOMS_STUN_ATTR_USERNAME, "second:two", 10);
    len = attr(buf, len, ROOMS_STUN_ATTR_PRIORITY, "\0\0\0\7", 4);
    len = attr(buf, len, ROOMS_STUN_ATTR_PRIORITY, "\0\0\0\10", 4);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_OK,
           "repeated attributes parse");
    ok(msg.username_len == 9 && memcmp(msg.username, "first:one", 9) == 0,
       "the first USERNAME counts");
    is_int(msg.priority, 7, "the first PRIORITY counts");

    /* after MESSAGE-INTEGRITY only FINGERPRINT counts */
    len = header(buf, ROOMS_STUN_BINDING_REQUEST);
    len = attr(buf, len, ROOMS_STUN_ATTR_USERNAME, "abcd:efgh", 9);
    len = attr(buf, len, ROOMS_STUN_ATTR_MESSAGE_INTEGRITY,
               "01234567890123456789", 20);
    len = attr(buf, len, ROOMS_STUN_ATTR_PRIORITY, "\0\0\0\1", 4);
    len = attr(buf, len, ROOMS_STUN_ATTR_USE_CANDIDATE, NULL, 0);
    len = attr(buf, len, ROOMS_STUN_ATTR_USERNAME, "zzzz:zzzz", 9);
    len = attr(buf, len, 0x0077, NULL, 0);
    len = attr(buf, len, ROOMS_STUN_ATTR_MESSAGE_INTEGRITY, "x", 1);
    fp = len;
    len = attr(buf, len, ROOMS_STUN_ATTR_FINGERPRINT, "\0\0\0\0", 4);
    crc = rooms_stun_crc32(buf, fp) ^ 0x5354554eu;
    buf[fp + 4] = (uint8_t) (crc >> 24);
    buf[fp + 5] = (uint8_t) (crc >> 16);
    buf[fp + 6] = (uint8_t) (crc >> 8);
    buf[fp + 7] = (uint8_t) crc;
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_OK,
           "attributes after MESSAGE-INTEGRITY parse");
    ok(!(msg.flags & (ROOMS_STUN_HAS_PRIORITY
                      | ROOMS_STUN_HAS_USE_CANDIDATE)),
       "PRIORITY and USE-CANDIDATE after it are ignored");
    ok(msg.username_len == 9 && memcmp(msg.username, "abcd", 4) == 0,
       "a USERNAME after it is ignored");
    is_int(msg.nunknown, 0, "an unknown after it is ignored");
    is_int(msg.integrity_off, 36, "the first MESSAGE-INTEGRITY counts");
    ok(rooms_stun_check_fingerprint(&msg), "FINGERPRINT after it counts");

    /* bounds still apply to the ignored attributes */
    put16(buf + fp - 8 + 2, 200);
    is_int(rooms_stun_parse(&msg, buf, len), ROOMS_STUN_ERR_ATTR_TRUNCATED,
           "an oversized attribute after MESSAGE-INTEGRITY: refused");
}


/* Checks out[0..n) is a well-formed, authenticated reply. */
static void
check_reply(const uint8_t *out, size_t n, unsigned type, const char *key,
    const char *what)
{
    rooms_stun_msg_t  msg;

    memcpy(buf, out, n);
    is_int(rooms_stun_parse(&msg, buf, n), ROOMS_STUN_OK, "%s parses", what);
    is_int(msg.type, type, "%s type", what);
    ok(memcmp(msg.tid, rfc5769_tid, 12) == 0, "%s transaction id", what);
    ok(rooms_stun_check_fingerprint(&msg), "%s FINGERPRINT", what);

    if (key != NULL) {
        ok(check_pwd(&msg, key), "%s MESSAGE-INTEGRITY", what);
        ok(!check_pwd(&msg, "not-the-key"), "%s fails another key", what);

    } else {
        ok(!(msg.flags & ROOMS_STUN_HAS_INTEGRITY),
           "%s carries no MESSAGE-INTEGRITY", what);
    }
}


static void
test_encoders(void)
{
    int                ok1;
    size_t             n, cap, m;
    uint8_t            out[ROOMS_STUN_REPLY_MAX + 16];
    uint16_t           unknown[2];
    rooms_stun_msg_t   msg;
    rooms_stun_addr_t  a4, a6, none;
    rooms_stun_mac_t  *mac;

    mac = rooms_stun_mac_create();

    rooms_stun_addr_set(&a4, "192.0.2.1", 32853);
    rooms_stun_addr_set(&a6, "2001:db8:1234:5678:11:2233:4455:6677", 32853);

    is_int(rooms_stun_encode_success(out, sizeof(out), &n, rfc5769_tid, &a4,
                                     mac, (const uint8_t *) rfc5769_pwd,
                                     strlen(rfc5769_pwd)), 0,
           "encode an IPv4 success");
    is_int(n, 64, "IPv4 success is 64 bytes");
    ok(memcmp(out + 20, rfc5769_ipv4 + 36, 12) == 0,
       "its XOR-MAPPED-ADDRESS is byte for byte RFC 5769's");
    check_reply(out, n, ROOMS_STUN_BINDING_SUCCESS, rfc5769_pwd,
                "IPv4 success");
    memcpy(buf, out, n);
    rooms_stun_parse(&msg, buf, n);
    ok(rooms_stun_addr_equal(&msg.xor_mapped, &a4),
       "IPv4 success decodes to its address");

    is_int(rooms_stun_encode_success(out, sizeof(out), &n, rfc5769_tid, &a6,
                                     NULL, (const uint8_t *) rfc5769_pwd,
                                     strlen(rfc5769_pwd)), 0,
           "encode an IPv6 success (no MAC context)");
    is_int(n, 76, "IPv6 success is 76 bytes");
    ok(memcmp(out + 20, rfc5769_ipv6 + 36, 24) == 0,
       "its XOR-MAPPED-ADDRESS is byte for byte RFC 5769's");
    check_reply(out, n, ROOMS_STUN_BINDING_SUCCESS, rfc5769_pwd,
                "IPv6 success");
    memcpy(buf, out, n);
    rooms_stun_parse(&msg, buf, n);
    ok(rooms_stun_addr_equal(&msg.xor_mapped, &a6),
       "IPv6 success decodes to its address");

    memset(&none, 0, sizeof(none));
    is_int(rooms_stun_encode_success(out, sizeof(out), &n, rfc5769_tid,
                                     &none, mac, (const uint8_t *) "k", 1),
           -1, "a success to no address: refused");

    /* every capacity short of the message fails and writes no further */
    ok1 = 1;
    m = 76;

    for (cap = 0; cap < m; cap++) {
        memset(out, 0xee, sizeof(out));

        if (rooms_stun_encode_success(out, cap, &n, rfc5769_tid, &a6, mac,
                                      (const uint8_t *) rfc5769_pwd,
                                      strlen(rfc5769_pwd)) != -1
            || out[cap] != 0xee)
        {
            ok1 = 0;
            diag("capacity %zu", cap);
        }
    }

    ok(ok1, "success: capacities 0..75 refused, nothing written past cap");

    is_int(rooms_stun_encode_error(out, sizeof(out), &n, rfc5769_tid, 487,
                                   NULL, 0, mac,
                                   (const uint8_t *) rfc5769_pwd,
                                   strlen(rfc5769_pwd)), 0,
           "encode a 487");
    is_int(n, 76, "487 is 76 bytes");
    check_reply(out, n, ROOMS_STUN_BINDING_ERROR, rfc5769_pwd, "487");
    memcpy(buf, out, n);
    rooms_stun_parse(&msg, buf, n);
    is_int(msg.error_code, 487, "487 decodes");
    ok(msg.error_reason_len == 13
       && memcmp(msg.error_reason, "Role Conflict", 13) == 0,
       "with reason Role Conflict");

    is_int(rooms_stun_encode_error(out, sizeof(out), &n, rfc5769_tid, 400,
                                   NULL, 0, mac,
                                   (const uint8_t *) rfc5769_pwd,
                                   strlen(rfc5769_pwd)), 0,
           "encode a 400");
    check_reply(out, n, ROOMS_STUN_BINDING_ERROR, rfc5769_pwd, "400");

    is_int(rooms_stun_encode_error(out, sizeof(out), &n, rfc5769_tid, 401,
                                   NULL, 0, NULL, NULL, 0), 0,
           "encode a 401 without a key");
    check_reply(out, n, ROOMS_STUN_BINDING_ERROR, NULL, "401");
    memcpy(buf, out, n);
    rooms_stun_parse(&msg, buf, n);
    is_int(msg.error_code, 401, "401 decodes");

    unknown[0] = 0x0077;
    unknown[1] = 0x0014;
    is_int(rooms_stun_encode_error(out, sizeof(out), &n, rfc5769_tid, 420,
                                   unknown, 2, mac,
                                   (const uint8_t *) rfc5769_pwd,
                                   strlen(rfc5769_pwd)), 0,
           "encode a 420 with UNKNOWN-ATTRIBUTES");
    check_reply(out, n, ROOMS_STUN_BINDING_ERROR, rfc5769_pwd, "420");
    ok(out[48] == 0x00 && out[49] == 0x0a && out[51] == 4
       && out[52] == 0x00 && out[53] == 0x77 && out[55] == 0x14,
       "UNKNOWN-ATTRIBUTES lists 0x0077 and 0x0014");

    is_int(rooms_stun_encode_error(out, sizeof(out), &n, rfc5769_tid, 420,
                                   NULL, 0, mac, NULL, 0), -1,
           "a 420 without its list: refused");
    is_int(rooms_stun_encode_error(out, sizeof(out), &n, rfc5769_tid, 404,
                                   NULL, 0, mac, NULL, 0), -1,
           "an error code we have no reason for: refused");

    ok1 = 1;

    for (cap = 0; cap < 76; cap++) {
        memset(out, 0xee, sizeof(out));

        if (rooms_stun_encode_error(out, cap, &n, rfc5769_tid, 487, NULL, 0,
                                    mac, (const uint8_t *) rfc5769_pwd,
                                    strlen(rfc5769_pwd)) != -1
            || out[cap] != 0xee)
        {
            ok1 = 0;
        }
    }

    ok(ok1, "error: capacities 0..75 refused, nothing written past cap");

    is_int(rooms_stun_encode_request(out, sizeof(out), &n, rfc5769_tid,
                                     "evtj:h6vY", 0x6e0001ff, 1, 1,
                                     0x0102030405060708ULL, mac,
                                     (const uint8_t *) rfc5769_pwd,
                                     strlen(rfc5769_pwd)), 0,
           "encode a request");
    check_reply(out, n, ROOMS_STUN_BINDING_REQUEST, rfc5769_pwd, "request");
    memcpy(buf, out, n);
    rooms_stun_parse(&msg, buf, n);
    ok(msg.username_len == 9 && memcmp(msg.username, "evtj:h6vY", 9) == 0
       && msg.priority == 0x6e0001ff
       && (msg.flags & ROOMS_STUN_HAS_USE_CANDIDATE)
       && (msg.flags & ROOMS_STUN_HAS_ICE_CONTROLLING)
       && msg.ice_tiebreaker == 0x0102030405060708ULL,
       "request attributes round-trip");

    rooms_stun_mac_destroy(mac);
}


/* Our MAC must agree with OpenSSL's one-shot HMAC() on the same bytes. */
static void
test_mac_independent(void)
{
    size_t            n;
    uint8_t           out[ROOMS_STUN_REPLY_MAX], md[EVP_MAX_MD_SIZE];
    unsigned          mdlen;
    rooms_stun_addr_t a;

    rooms_stun_addr_set(&a, "203.0.113.9", 4242);
    rooms_stun_encode_success(out, sizeof(out), &n, rfc5769_tid, &a, NULL,
                              (const uint8_t *) "key-key-key", 11);

    /* header length field covers up to MESSAGE-INTEGRITY, as sent: patch */
    memcpy(buf, out, n);
    put16(buf + 2, 12 + 24);
    HMAC(EVP_sha1(), "key-key-key", 11, buf, 32, md, &mdlen);
    ok(mdlen == 20 && memcmp(md, out + 36, 20) == 0,
       "MESSAGE-INTEGRITY equals HMAC-SHA1 computed by HMAC()");
}


int
main(void)
{
    test_crc_and_demux();
    test_rfc5769_request();
    test_rfc5769_responses();
    test_header_bounds();
    test_attribute_bounds();
    test_attribute_rules();
    test_encoders();
    test_mac_independent();

    return done_testing();
}
