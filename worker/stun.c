/*
 * stun.c: the STUN message codec (RFC 5389 / 8489 subset for ICE).
 *
 * Owns: the wire format of STUN messages, their MESSAGE-INTEGRITY and
 * FINGERPRINT, and the transport address type.  Everything here is a pure
 * function of its arguments; the only state is the caller's MAC context.
 *
 * Must never: read outside buf[0..len) however the length fields lie,
 * write outside out[0..cap), allocate while parsing, or decide who gets
 * a reply (that policy is ice.c's: no reply without valid integrity).
 *
 * Wire facts used below (RFC 8489 5 and 14):
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    |0 0|     STUN Message Type     |         Message Length        |
 *    |                    Magic Cookie (0x2112A442)                  |
 *    |                 Transaction ID (96 bits)                      |
 *
 * followed by Message Length bytes of attributes, each a 16-bit type, a
 * 16-bit value length, and the value padded to a multiple of 4 bytes.
 * Padding bytes may hold anything (RFC 5769 pads with spaces), so they
 * are never checked.
 * <arpa/inet.h> is here for inet_pton() and inet_ntop() only (address
 * text, no socket): the sockaddr conversions are the event loop's
 * (udp.h).
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, call json_, call socket, call recvfrom, call sendto, call RAND_bytes, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>           /* inet_pton(), inet_ntop(): text only */

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "stun.h"


#define ROOMS_STUN_FINGERPRINT_XOR   0x5354554eu   /* "STUN" */

/* an attribute header: 16-bit type, 16-bit length */
#define ROOMS_STUN_ATTR_HDR          4

/* MESSAGE-INTEGRITY and FINGERPRINT, headers included */
#define ROOMS_STUN_MI_SIZE           (ROOMS_STUN_ATTR_HDR + ROOMS_STUN_HMAC_LEN)
#define ROOMS_STUN_FP_SIZE           (ROOMS_STUN_ATTR_HDR + 4)

/* RFC 8489 14.8: the reason phrase is under 128 characters, 763 bytes */
#define ROOMS_STUN_REASON_MAX        763


struct rooms_stun_mac_s {
    EVP_MAC      *mac;
    EVP_MAC_CTX  *ctx;
};


/* the attribute being written by the encoder */
typedef struct {
    uint8_t  *out;
    size_t    cap;
    size_t    len;
} rooms_stun_writer_t;


static const struct {
    unsigned     code;
    const char  *reason;
} rooms_stun_reasons[] = {
    { 400, "Bad Request" },
    { 401, "Unauthorized" },
    { 420, "Unknown Attribute" },
    { 487, "Role Conflict" },
    { 500, "Server Error" }
};


/*
 * CRC-32 by nibbles: the 16 remainders of the reflected polynomial
 * 0xEDB88320, so 2 lookups per byte and no table to build at run time.
 * STUN messages are a few hundred bytes: this is not a hot spot.
 */
static const uint32_t  rooms_stun_crc_nibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
    0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
    0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c
};


static uint16_t
rooms_stun_get16(const uint8_t *p)
{
    return (uint16_t) (p[0] << 8 | p[1]);
}


static uint32_t
rooms_stun_get32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}


static void
rooms_stun_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


static void
rooms_stun_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


uint32_t
rooms_stun_crc32(const uint8_t *buf, size_t len)
{
    size_t    i;
    uint32_t  crc;

    crc = 0xffffffffu;

    for (i = 0; i < len; i++) {
        crc ^= buf[i];
        crc = (crc >> 4) ^ rooms_stun_crc_nibble[crc & 0x0f];
        crc = (crc >> 4) ^ rooms_stun_crc_nibble[crc & 0x0f];
    }

    return crc ^ 0xffffffffu;
}


int
rooms_stun_is_stun(const uint8_t *buf, size_t len)
{
    return len > 0 && buf[0] <= 3;
}


/* Decodes an XOR-MAPPED-ADDRESS value; the xor key is header bytes 4..19 */
static int
rooms_stun_parse_xor_address(rooms_stun_addr_t *addr, const uint8_t *hdr,
    const uint8_t *v, size_t vlen)
{
    size_t  i;

    memset(addr, 0, sizeof(*addr));

    /* v[0] is reserved; v[2..4) is the port xor the cookie's top half */
    if (vlen < 4) {
        return -1;
    }

    addr->port = rooms_stun_get16(v + 2) ^ (uint16_t) (ROOMS_STUN_MAGIC_COOKIE
                                                       >> 16);

    if (v[1] == 0x01 && vlen == 8) {
        addr->family = 4;

        for (i = 0; i < 4; i++) {
            addr->ip[i] = v[4 + i] ^ hdr[4 + i];
        }

        return 0;
    }

    if (v[1] == 0x02 && vlen == 20) {
        addr->family = 6;

        for (i = 0; i < 16; i++) {
            addr->ip[i] = v[4 + i] ^ hdr[4 + i];
        }

        return 0;
    }

    return -1;
}


/* ERROR-CODE: 0, or ROOMS_STUN_ERR_ATTR_BAD */
static int
rooms_stun_parse_error_code(rooms_stun_msg_t *msg, const uint8_t *v,
    size_t vlen)
{
    unsigned  cls, num;

    /* 21 reserved bits, a class of 3..6 and a number of 0..99 */
    if (vlen < 4 || vlen > 4 + ROOMS_STUN_REASON_MAX) {
        return ROOMS_STUN_ERR_ATTR_BAD;
    }

    cls = v[2] & 0x07;
    num = v[3];

    if (cls < 3 || cls > 6 || num > 99) {
        return ROOMS_STUN_ERR_ATTR_BAD;
    }

    msg->flags |= ROOMS_STUN_HAS_ERROR_CODE;
    msg->error_code = cls * 100 + num;
    msg->error_reason = v + 4;
    msg->error_reason_len = vlen - 4;

    return 0;
}


/*
 * One attribute before MESSAGE-INTEGRITY (type atype, value v[0..vlen),
 * at off): into msg.  Returns 0, or ROOMS_STUN_ERR_ATTR_BAD.
 */
static int
rooms_stun_parse_attr(rooms_stun_msg_t *msg, const uint8_t *buf, size_t off,
    uint16_t atype, const uint8_t *v, size_t vlen)
{
    switch (atype) {

    case ROOMS_STUN_ATTR_MESSAGE_INTEGRITY:
        if (vlen != ROOMS_STUN_HMAC_LEN) {
            return ROOMS_STUN_ERR_ATTR_BAD;
        }

        msg->flags |= ROOMS_STUN_HAS_INTEGRITY;
        msg->integrity_off = off;
        break;

    case ROOMS_STUN_ATTR_USERNAME:
        if (msg->flags & ROOMS_STUN_HAS_USERNAME) {
            break;
        }

        if (vlen > ROOMS_STUN_USERNAME_MAX) {
            return ROOMS_STUN_ERR_ATTR_BAD;
        }

        msg->flags |= ROOMS_STUN_HAS_USERNAME;
        msg->username = v;
        msg->username_len = vlen;
        break;

    case ROOMS_STUN_ATTR_PRIORITY:
        if (msg->flags & ROOMS_STUN_HAS_PRIORITY) {
            break;
        }

        if (vlen != 4) {
            return ROOMS_STUN_ERR_ATTR_BAD;
        }

        msg->flags |= ROOMS_STUN_HAS_PRIORITY;
        msg->priority = rooms_stun_get32(v);
        break;

    case ROOMS_STUN_ATTR_USE_CANDIDATE:
        if (vlen != 0) {
            return ROOMS_STUN_ERR_ATTR_BAD;
        }

        msg->flags |= ROOMS_STUN_HAS_USE_CANDIDATE;
        break;

    case ROOMS_STUN_ATTR_ICE_CONTROLLING:
    case ROOMS_STUN_ATTR_ICE_CONTROLLED:
        if (vlen != 8) {
            return ROOMS_STUN_ERR_ATTR_BAD;
        }

        if (!(msg->flags & (ROOMS_STUN_HAS_ICE_CONTROLLING
                            | ROOMS_STUN_HAS_ICE_CONTROLLED)))
        {
            msg->ice_tiebreaker = (uint64_t) rooms_stun_get32(v) << 32
                                  | rooms_stun_get32(v + 4);
        }

        msg->flags |= atype == ROOMS_STUN_ATTR_ICE_CONTROLLING
                      ? ROOMS_STUN_HAS_ICE_CONTROLLING
                      : ROOMS_STUN_HAS_ICE_CONTROLLED;
        break;

    case ROOMS_STUN_ATTR_XOR_MAPPED_ADDRESS:
        if (msg->flags & ROOMS_STUN_HAS_XOR_MAPPED) {
            break;
        }

        if (rooms_stun_parse_xor_address(&msg->xor_mapped, buf, v, vlen)
            != 0)
        {
            return ROOMS_STUN_ERR_ATTR_BAD;
        }

        msg->flags |= ROOMS_STUN_HAS_XOR_MAPPED;
        break;

    case ROOMS_STUN_ATTR_ERROR_CODE:
        if (!(msg->flags & ROOMS_STUN_HAS_ERROR_CODE)) {
            return rooms_stun_parse_error_code(msg, v, vlen);
        }

        break;

    case ROOMS_STUN_ATTR_MAPPED_ADDRESS:
    case ROOMS_STUN_ATTR_UNKNOWN_ATTRIBUTES:
        /* understood, and of no use to an ICE-lite server */
        break;

    default:
        /* 0x0000-0x7fff are comprehension-required (RFC 8489 14) */
        if (atype < 0x8000) {
            if (msg->nunknown < ROOMS_STUN_MAX_UNKNOWN) {
                msg->unknown[msg->nunknown] = atype;
            }

            msg->nunknown++;
        }

        break;
    }

    return 0;
}


int
rooms_stun_parse(rooms_stun_msg_t *msg, const uint8_t *buf, size_t len)
{
    size_t          off, end, vlen, padded;
    uint16_t        atype;
    const uint8_t  *v;

    if (len < ROOMS_STUN_HEADER_LEN) {
        return ROOMS_STUN_ERR_SHORT;
    }

    if (buf[0] & 0xc0) {
        return ROOMS_STUN_ERR_NOT_STUN;
    }

    if (rooms_stun_get32(buf + 4) != ROOMS_STUN_MAGIC_COOKIE) {
        return ROOMS_STUN_ERR_COOKIE;
    }

    /*
     * Over UDP a datagram is exactly one message: the length field must
     * count every byte after the header, and attributes are 4-aligned, so
     * it is a multiple of 4.  Anything else is not ours to guess at.
     */
    vlen = rooms_stun_get16(buf + 2);

    if ((vlen & 3) != 0 || vlen != len - ROOMS_STUN_HEADER_LEN) {
        return ROOMS_STUN_ERR_LENGTH;
    }

    memset(msg, 0, sizeof(*msg));

    msg->buf = buf;
    msg->len = len;
    msg->type = rooms_stun_get16(buf);
    msg->tid = buf + 8;

    for (off = ROOMS_STUN_HEADER_LEN; off < len; off = end) {

        /* FINGERPRINT is last by definition (RFC 8489 14.7) */
        if (msg->flags & ROOMS_STUN_HAS_FINGERPRINT) {
            return ROOMS_STUN_ERR_AFTER_FINGERPRINT;
        }

        if (len - off < ROOMS_STUN_ATTR_HDR) {
            return ROOMS_STUN_ERR_ATTR_TRUNCATED;
        }

        atype = rooms_stun_get16(buf + off);
        vlen = rooms_stun_get16(buf + off + 2);

        /* the value and its padding must fit in what is left */
        padded = (vlen + 3) & ~(size_t) 3;

        if (padded > len - off - ROOMS_STUN_ATTR_HDR) {
            return ROOMS_STUN_ERR_ATTR_TRUNCATED;
        }

        v = buf + off + ROOMS_STUN_ATTR_HDR;
        end = off + ROOMS_STUN_ATTR_HDR + padded;

        if (atype == ROOMS_STUN_ATTR_FINGERPRINT) {
            if (vlen != 4) {
                return ROOMS_STUN_ERR_ATTR_BAD;
            }

            msg->flags |= ROOMS_STUN_HAS_FINGERPRINT;
            msg->fingerprint_off = off;
            continue;
        }

        /* RFC 8489 14.5: all but FINGERPRINT after the MAC is ignored */
        if (msg->flags & ROOMS_STUN_HAS_INTEGRITY) {
            continue;
        }

        if (rooms_stun_parse_attr(msg, buf, off, atype, v, vlen) != 0) {
            return ROOMS_STUN_ERR_ATTR_BAD;
        }
    }

    return ROOMS_STUN_OK;
}


int
rooms_stun_check_fingerprint(const rooms_stun_msg_t *msg)
{
    uint32_t  crc;

    if (!(msg->flags & ROOMS_STUN_HAS_FINGERPRINT)) {
        return 0;
    }

    /*
     * FINGERPRINT is last, so the length field as received already covers
     * it, which is what the sender's CRC covered too.
     */
    crc = rooms_stun_crc32(msg->buf, msg->fingerprint_off)
          ^ ROOMS_STUN_FINGERPRINT_XOR;

    return crc == rooms_stun_get32(msg->buf + msg->fingerprint_off
                                   + ROOMS_STUN_ATTR_HDR);
}


rooms_stun_mac_t *
rooms_stun_mac_create(void)
{
    OSSL_PARAM         params[2];
    rooms_stun_mac_t  *m;

    static char  digest[] = "SHA1";

    m = OPENSSL_zalloc(sizeof(rooms_stun_mac_t));
    if (m == NULL) {
        return NULL;
    }

    m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (m->mac == NULL) {
        goto failed;
    }

    m->ctx = EVP_MAC_CTX_new(m->mac);
    if (m->ctx == NULL) {
        goto failed;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 digest, 0);
    params[1] = OSSL_PARAM_construct_end();

    if (EVP_MAC_CTX_set_params(m->ctx, params) != 1) {
        goto failed;
    }

    return m;

failed:

    rooms_stun_mac_destroy(m);

    return NULL;
}


void
rooms_stun_mac_destroy(rooms_stun_mac_t *m)
{
    if (m == NULL) {
        return;
    }

    EVP_MAC_CTX_free(m->ctx);
    EVP_MAC_free(m->mac);
    OPENSSL_free(m);
}


/*
 * HMAC-SHA1 of hdr[0..20) followed by body[0..body_len) under key.  The
 * header is passed apart so that a const datagram can be checked with its
 * length field patched, without copying the datagram.  0 or -1.
 */
static int
rooms_stun_hmac(rooms_stun_mac_t *mac, const uint8_t *key, size_t key_len,
    const uint8_t *hdr, const uint8_t *body, size_t body_len,
    uint8_t out[ROOMS_STUN_HMAC_LEN])
{
    int                rc;
    size_t             n;
    rooms_stun_mac_t  *m;

    if (key == NULL || key_len == 0) {
        return -1;
    }

    m = mac ? mac : rooms_stun_mac_create();
    if (m == NULL) {
        return -1;
    }

    rc = -1;

    if (EVP_MAC_init(m->ctx, key, key_len, NULL) == 1
        && EVP_MAC_update(m->ctx, hdr, ROOMS_STUN_HEADER_LEN) == 1
        && EVP_MAC_update(m->ctx, body, body_len) == 1
        && EVP_MAC_final(m->ctx, out, &n, ROOMS_STUN_HMAC_LEN) == 1
        && n == ROOMS_STUN_HMAC_LEN)
    {
        rc = 0;
    }

    if (m != mac) {
        rooms_stun_mac_destroy(m);
    }

    return rc;
}


int
rooms_stun_check_integrity(const rooms_stun_msg_t *msg,
    rooms_stun_mac_t *mac, const uint8_t *key, size_t key_len)
{
    int      rc;
    uint8_t  hdr[ROOMS_STUN_HEADER_LEN], want[ROOMS_STUN_HMAC_LEN];

    if (!(msg->flags & ROOMS_STUN_HAS_INTEGRITY)) {
        return 0;
    }

    /*
     * The MAC covers the message up to the attribute, with the length
     * field as if MESSAGE-INTEGRITY were the last attribute: a FINGERPRINT
     * after it is not counted.
     */
    memcpy(hdr, msg->buf, ROOMS_STUN_HEADER_LEN);
    rooms_stun_put16(hdr + 2, (uint16_t) (msg->integrity_off
                                          + ROOMS_STUN_MI_SIZE
                                          - ROOMS_STUN_HEADER_LEN));

    if (rooms_stun_hmac(mac, key, key_len, hdr,
                        msg->buf + ROOMS_STUN_HEADER_LEN,
                        msg->integrity_off - ROOMS_STUN_HEADER_LEN, want)
        != 0)
    {
        return 0;
    }

    rc = CRYPTO_memcmp(want, msg->buf + msg->integrity_off
                             + ROOMS_STUN_ATTR_HDR, ROOMS_STUN_HMAC_LEN);

    OPENSSL_cleanse(want, sizeof(want));

    return rc == 0;
}


static void
rooms_stun_w_header(rooms_stun_writer_t *w, uint16_t type,
    const uint8_t tid[ROOMS_STUN_TID_LEN])
{
    rooms_stun_put16(w->out, type);
    rooms_stun_put16(w->out + 2, 0);
    rooms_stun_put32(w->out + 4, ROOMS_STUN_MAGIC_COOKIE);
    memcpy(w->out + 8, tid, ROOMS_STUN_TID_LEN);

    w->len = ROOMS_STUN_HEADER_LEN;
}


/*
 * Appends an attribute with vlen bytes of value (copied from value when
 * not NULL) and zero padding; returns the value's place, or NULL when it
 * does not fit.  The length field is kept current.
 */
static uint8_t *
rooms_stun_w_attr(rooms_stun_writer_t *w, uint16_t type, const void *value,
    size_t vlen)
{
    size_t    padded;
    uint8_t  *p;

    padded = (vlen + 3) & ~(size_t) 3;

    if (vlen > 0xffff
        || w->cap - w->len < ROOMS_STUN_ATTR_HDR + padded
        || w->len - ROOMS_STUN_HEADER_LEN + ROOMS_STUN_ATTR_HDR + padded
           > 0xffff)
    {
        return NULL;
    }

    p = w->out + w->len;

    rooms_stun_put16(p, type);
    rooms_stun_put16(p + 2, (uint16_t) vlen);
    memset(p + ROOMS_STUN_ATTR_HDR, 0, padded);

    if (value != NULL && vlen > 0) {
        memcpy(p + ROOMS_STUN_ATTR_HDR, value, vlen);
    }

    w->len += ROOMS_STUN_ATTR_HDR + padded;
    rooms_stun_put16(w->out + 2, (uint16_t) (w->len - ROOMS_STUN_HEADER_LEN));

    return p + ROOMS_STUN_ATTR_HDR;
}


/* Appends MESSAGE-INTEGRITY (when key) and FINGERPRINT: 0 or -1. */
static int
rooms_stun_w_finish(rooms_stun_writer_t *w, rooms_stun_mac_t *mac,
    const uint8_t *key, size_t key_len)
{
    size_t    need;
    uint8_t  *p;

    need = ROOMS_STUN_FP_SIZE + (key ? ROOMS_STUN_MI_SIZE : 0);

    if (w->cap - w->len < need) {
        return -1;
    }

    if (key != NULL) {
        /* the MAC covers a length field that ends with its attribute */
        p = rooms_stun_w_attr(w, ROOMS_STUN_ATTR_MESSAGE_INTEGRITY, NULL,
                              ROOMS_STUN_HMAC_LEN);
        if (p == NULL
            || rooms_stun_hmac(mac, key, key_len, w->out,
                               w->out + ROOMS_STUN_HEADER_LEN,
                               w->len - ROOMS_STUN_MI_SIZE
                               - ROOMS_STUN_HEADER_LEN, p)
               != 0)
        {
            return -1;
        }
    }

    /* the CRC covers a length field that already counts the FINGERPRINT */
    p = rooms_stun_w_attr(w, ROOMS_STUN_ATTR_FINGERPRINT, NULL, 4);
    if (p == NULL) {
        return -1;
    }

    rooms_stun_put32(p, rooms_stun_crc32(w->out, w->len - ROOMS_STUN_FP_SIZE)
                        ^ ROOMS_STUN_FINGERPRINT_XOR);

    return 0;
}


int
rooms_stun_encode_success(uint8_t *out, size_t cap, size_t *out_len,
    const uint8_t tid[ROOMS_STUN_TID_LEN], const rooms_stun_addr_t *mapped,
    rooms_stun_mac_t *mac, const uint8_t *key, size_t key_len)
{
    size_t               i, n;
    uint8_t             *v;
    rooms_stun_writer_t  w;

    if (cap < ROOMS_STUN_HEADER_LEN
        || (mapped->family != 4 && mapped->family != 6))
    {
        return -1;
    }

    w.out = out;
    w.cap = cap;
    rooms_stun_w_header(&w, ROOMS_STUN_BINDING_SUCCESS, tid);

    n = mapped->family == 4 ? 4 : 16;

    v = rooms_stun_w_attr(&w, ROOMS_STUN_ATTR_XOR_MAPPED_ADDRESS, NULL, 4 + n);
    if (v == NULL) {
        return -1;
    }

    /* the xor key is the cookie, then the transaction id: header 4..19 */
    v[0] = 0;
    v[1] = mapped->family == 4 ? 0x01 : 0x02;
    rooms_stun_put16(v + 2, mapped->port
                            ^ (uint16_t) (ROOMS_STUN_MAGIC_COOKIE >> 16));

    for (i = 0; i < n; i++) {
        v[4 + i] = mapped->ip[i] ^ out[4 + i];
    }

    if (rooms_stun_w_finish(&w, mac, key, key_len) != 0) {
        return -1;
    }

    *out_len = w.len;

    return 0;
}


int
rooms_stun_encode_error(uint8_t *out, size_t cap, size_t *out_len,
    const uint8_t tid[ROOMS_STUN_TID_LEN], unsigned code,
    const uint16_t *unknown, unsigned nunknown,
    rooms_stun_mac_t *mac, const uint8_t *key, size_t key_len)
{
    size_t               i, rlen;
    uint8_t             *v;
    const char          *reason;
    rooms_stun_writer_t  w;

    reason = NULL;

    for (i = 0; i < sizeof(rooms_stun_reasons) / sizeof(rooms_stun_reasons[0]);
         i++)
    {
        if (rooms_stun_reasons[i].code == code) {
            reason = rooms_stun_reasons[i].reason;
            break;
        }
    }

    if (reason == NULL || cap < ROOMS_STUN_HEADER_LEN
        || nunknown > ROOMS_STUN_MAX_UNKNOWN
        || (code == 420 && (nunknown == 0 || unknown == NULL)))
    {
        return -1;
    }

    w.out = out;
    w.cap = cap;
    rooms_stun_w_header(&w, ROOMS_STUN_BINDING_ERROR, tid);

    rlen = strlen(reason);

    v = rooms_stun_w_attr(&w, ROOMS_STUN_ATTR_ERROR_CODE, NULL, 4 + rlen);
    if (v == NULL) {
        return -1;
    }

    v[2] = (uint8_t) (code / 100);
    v[3] = (uint8_t) (code % 100);
    memcpy(v + 4, reason, rlen);

    if (code == 420) {
        v = rooms_stun_w_attr(&w, ROOMS_STUN_ATTR_UNKNOWN_ATTRIBUTES, NULL,
                              2 * nunknown);
        if (v == NULL) {
            return -1;
        }

        for (i = 0; i < nunknown; i++) {
            rooms_stun_put16(v + 2 * i, unknown[i]);
        }
    }

    if (rooms_stun_w_finish(&w, mac, key, key_len) != 0) {
        return -1;
    }

    *out_len = w.len;

    return 0;
}


int
rooms_stun_encode_request(uint8_t *out, size_t cap, size_t *out_len,
    const uint8_t tid[ROOMS_STUN_TID_LEN], const char *username,
    uint32_t priority, int use_candidate, int controlling,
    uint64_t tiebreaker, rooms_stun_mac_t *mac, const uint8_t *key,
    size_t key_len)
{
    uint8_t             *v;
    rooms_stun_writer_t  w;

    if (cap < ROOMS_STUN_HEADER_LEN) {
        return -1;
    }

    w.out = out;
    w.cap = cap;
    rooms_stun_w_header(&w, ROOMS_STUN_BINDING_REQUEST, tid);

    if (username != NULL
        && rooms_stun_w_attr(&w, ROOMS_STUN_ATTR_USERNAME, username,
                             strlen(username))
           == NULL)
    {
        return -1;
    }

    if (priority != 0) {
        v = rooms_stun_w_attr(&w, ROOMS_STUN_ATTR_PRIORITY, NULL, 4);
        if (v == NULL) {
            return -1;
        }

        rooms_stun_put32(v, priority);
    }

    if (use_candidate
        && rooms_stun_w_attr(&w, ROOMS_STUN_ATTR_USE_CANDIDATE, NULL, 0)
           == NULL)
    {
        return -1;
    }

    v = rooms_stun_w_attr(&w, controlling ? ROOMS_STUN_ATTR_ICE_CONTROLLING
                                          : ROOMS_STUN_ATTR_ICE_CONTROLLED,
                          NULL, 8);
    if (v == NULL) {
        return -1;
    }

    rooms_stun_put32(v, (uint32_t) (tiebreaker >> 32));
    rooms_stun_put32(v + 4, (uint32_t) tiebreaker);

    if (rooms_stun_w_finish(&w, mac, key, key_len) != 0) {
        return -1;
    }

    *out_len = w.len;

    return 0;
}


int
rooms_stun_addr_set(rooms_stun_addr_t *addr, const char *ip, uint16_t port)
{
    memset(addr, 0, sizeof(*addr));

    if (inet_pton(AF_INET, ip, addr->ip) == 1) {
        addr->family = 4;

    } else if (inet_pton(AF_INET6, ip, addr->ip) == 1) {
        addr->family = 6;

    } else {
        memset(addr, 0, sizeof(*addr));
        return -1;
    }

    addr->port = port;

    return 0;
}


int
rooms_stun_addr_equal(const rooms_stun_addr_t *a, const rooms_stun_addr_t *b)
{
    return a->family == b->family && a->port == b->port && a->via == b->via
           && memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16) == 0;
}


const char *
rooms_stun_addr_format(const rooms_stun_addr_t *addr, char *buf, size_t size)
{
    char  ip[INET6_ADDRSTRLEN];

    if (addr->family == 4
        && inet_ntop(AF_INET, addr->ip, ip, sizeof(ip)) != NULL)
    {
        snprintf(buf, size, "%s:%u%s", ip, (unsigned) addr->port,
                 addr->via >= ROOMS_VIA_TCP ? " tcp" : "");

    } else if (addr->family == 6
               && inet_ntop(AF_INET6, addr->ip, ip, sizeof(ip)) != NULL)
    {
        snprintf(buf, size, "[%s]:%u%s", ip, (unsigned) addr->port,
                 addr->via >= ROOMS_VIA_TCP ? " tcp" : "");

    } else {
        snprintf(buf, size, "-");
    }

    return buf;
}
