/*
 * rooms_ws.c: RFC 6455 framing for the server side, sans I/O.
 *
 * The parser is a byte-driven state machine, so input may be split
 * anywhere: inside the 2-byte header, the extended length, the mask key
 * or the payload.  Header bytes are collected one at a time (at most 14)
 * and each rule is checked as soon as the byte that decides it arrives,
 * so a hostile length fails before any payload is read or buffered.
 * Payload is unmasked straight into its destination (the caller's message
 * buffer or the parser's control buffer) eight bytes at a time, and text
 * is validated as it lands, so invalid UTF-8 fails at the first bad byte,
 * even mid-message (RFC 6455 8.1 lets us fail fast).
 *
 * The close codes follow RFC 6455 7.4.1: 1002 for any framing rule
 * broken, 1007 for bad UTF-8 in text or in a close reason, 1009 for a
 * message larger than the caller's buffer.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, call json_, call sqlite3_, call malloc
 */

#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "rooms_ws.h"


#define ROOMS_WS_HDR       0         /* reading a frame header */
#define ROOMS_WS_PAYLOAD   1         /* reading its payload */
#define ROOMS_WS_CLOSED    2         /* the peer's close was delivered */
#define ROOMS_WS_FAILED    3         /* an ERROR was delivered */


static const char  rooms_ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";


static void
rooms_ws_utf8_reset(rooms_ws_utf8_t *u)
{
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xbf;
}


/*
 * Validates p[0..n) as the next bytes of a UTF-8 stream whose state is u,
 * which carries a sequence cut by a fragment boundary over to the next
 * call.  Returns n, or the index of the first byte that no valid text
 * can hold: a stray continuation, an overlong form (C0, C1, E0 80-9F,
 * F0 80-8F), a surrogate (ED A0-BF) or a code point over U+10FFFF
 * (F4 90+, F5-FF).  The index lets the parser stop consuming right there,
 * so where a stream fails does not depend on how it was split.  The
 * caller checks u->need == 0 at the end of the text.
 */
static size_t
rooms_ws_utf8(rooms_ws_utf8_t *u, const unsigned char *p, size_t n)
{
    unsigned              c, need, lo, hi;
    uint64_t              w;
    const unsigned char  *start, *end;

    start = p;
    end = p + n;
    need = u->need;
    lo = u->lo;
    hi = u->hi;

    while (p < end) {

        if (need) {
            c = *p++;

            if (c < lo || c > hi) {
                return (size_t) (p - 1 - start);
            }

            need--;
            lo = 0x80;
            hi = 0xbf;
            continue;
        }

        /* signaling is mostly ASCII JSON: skip it eight bytes at a time */
        while ((size_t) (end - p) >= 8) {
            memcpy(&w, p, 8);

            if (w & 0x8080808080808080ULL) {
                break;
            }

            p += 8;
        }

        if (p == end) {
            break;
        }

        c = *p++;

        if (c < 0x80) {
            continue;
        }

        if (c < 0xc2) {
            return (size_t) (p - 1 - start);

        } else if (c < 0xe0) {
            need = 1;

        } else if (c < 0xf0) {
            need = 2;
            lo = (c == 0xe0) ? 0xa0 : 0x80;
            hi = (c == 0xed) ? 0x9f : 0xbf;

        } else if (c < 0xf5) {
            need = 3;
            lo = (c == 0xf0) ? 0x90 : 0x80;
            hi = (c == 0xf4) ? 0x8f : 0xbf;

        } else {
            return (size_t) (p - 1 - start);
        }
    }

    u->need = (unsigned char) need;
    u->lo = (unsigned char) lo;
    u->hi = (unsigned char) hi;

    return n;
}


/*
 * dst[i] = src[i] ^ key[(off + i) % 4].  The key is rotated by off once
 * and repeated to eight bytes; since 8 is a multiple of the key's period,
 * whole words can be XORed with no per-byte index arithmetic.  memcpy()
 * keeps the word accesses free of alignment and aliasing assumptions.
 */
static void
rooms_ws_unmask(unsigned char *dst, const unsigned char *src, size_t n,
    const unsigned char key[4], unsigned off)
{
    size_t         i;
    uint64_t       m, w;
    unsigned char  k[8];

    for (i = 0; i < 8; i++) {
        k[i] = key[(off + i) & 3];
    }

    memcpy(&m, k, 8);

    for (i = 0; i + 8 <= n; i += 8) {
        memcpy(&w, src + i, 8);
        w ^= m;
        memcpy(dst + i, &w, 8);
    }

    for ( /* void */ ; i < n; i++) {
        dst[i] = src[i] ^ k[i & 7];
    }
}


int
rooms_ws_close_code_valid(unsigned code)
{
    if (code >= 3000 && code <= 4999) {
        return 1;
    }

    /* 1004 is reserved; 1005, 1006 and 1015 are for APIs, not the wire */
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}


void
rooms_ws_init(rooms_ws_parser_t *p, unsigned char *buf, size_t size)
{
    memset(p, 0, sizeof(rooms_ws_parser_t));

    p->buf = buf;
    p->size = buf ? size : 0;
    p->state = ROOMS_WS_HDR;
    rooms_ws_utf8_reset(&p->utf8);
}


static void
rooms_ws_fail(rooms_ws_parser_t *p, unsigned code, const char *text,
    rooms_ws_event_t *ev)
{
    p->state = ROOMS_WS_FAILED;
    p->err_code = code;
    p->err_text = text;

    ev->type = ROOMS_WS_EV_ERROR;
    ev->data = NULL;
    ev->len = 0;
    ev->code = code;
    ev->error = text;
}


/*
 * Checks the first header byte: FIN, RSV1-3 and the opcode, against the
 * message in progress.  Returns 0 or fails the parser and returns -1.
 */
static int
rooms_ws_byte0(rooms_ws_parser_t *p, unsigned b, rooms_ws_event_t *ev)
{
    p->fin = b >> 7;
    p->opcode = b & 0x0f;

    if (b & 0x70) {
        rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL,
                      "reserved bits set with no extension", ev);
        return -1;
    }

    switch (p->opcode) {

    case ROOMS_WS_OP_CONT:
        if (p->msg_op == 0) {
            rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL,
                          "continuation frame with no message started", ev);
            return -1;
        }

        return 0;

    case ROOMS_WS_OP_TEXT:
    case ROOMS_WS_OP_BINARY:
        if (p->msg_op != 0) {
            rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL,
                          "new data frame inside a fragmented message", ev);
            return -1;
        }

        /* the previous message was delivered in an earlier call */
        p->msg_op = p->opcode;
        p->msg_len = 0;
        rooms_ws_utf8_reset(&p->utf8);

        return 0;

    case ROOMS_WS_OP_CLOSE:
    case ROOMS_WS_OP_PING:
    case ROOMS_WS_OP_PONG:
        /* RFC 6455 5.5: control frames must not be fragmented */
        if (!p->fin) {
            rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL,
                          "fragmented control frame", ev);
            return -1;
        }

        p->ctl_len = 0;

        return 0;

    default:
        rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL, "unknown opcode", ev);
        return -1;
    }
}


/*
 * Checks a frame's payload length as soon as it is known, before its mask
 * key and payload: a peer cannot make us wait for, or buffer, bytes that
 * would be refused anyway.
 */
static int
rooms_ws_length(rooms_ws_parser_t *p, rooms_ws_event_t *ev)
{
    if (p->opcode & 0x8) {
        /* bounded to 125 by the second byte, before any extended length */
        return 0;
    }

    /* written so that no sum can overflow: msg_len <= size always */
    if (p->frame_len > (uint64_t) (p->size - p->msg_len)) {
        rooms_ws_fail(p, ROOMS_WS_CLOSE_TOO_BIG, "message too big", ev);
        return -1;
    }

    return 0;
}


/*
 * Takes one header byte.  Returns 1 when the header is complete, 0 when
 * more bytes are needed, -1 when the parser failed.
 */
static int
rooms_ws_header_byte(rooms_ws_parser_t *p, unsigned b, rooms_ws_event_t *ev)
{
    unsigned  i, len7;

    /*
     * hdr_have stays within hdr[14]: hdr_need is at most 2 + 8 + 4, and
     * the caller leaves this function for the payload once they are equal.
     */
    p->hdr[p->hdr_have++] = (unsigned char) b;

    if (p->hdr_have == 1) {
        return rooms_ws_byte0(p, b, ev);
    }

    if (p->hdr_have == 2) {

        /* RFC 6455 5.1: every client frame is masked */
        if (!(b & 0x80)) {
            rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL,
                          "unmasked client frame", ev);
            return -1;
        }

        len7 = b & 0x7f;

        if ((p->opcode & 0x8) && len7 > ROOMS_WS_CONTROL_MAX) {
            rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL,
                          "control frame payload over 125 bytes", ev);
            return -1;
        }

        /* 2 bytes, the extended length, the 4-byte mask key */
        p->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;

        if (len7 < 126) {
            p->frame_len = len7;
            return rooms_ws_length(p, ev) == 0 ? 0 : -1;
        }

        return 0;
    }

    if (p->hdr_have == p->hdr_need - 4) {

        /* the extended length is complete (7.1.1: no minimality check) */
        p->frame_len = 0;

        for (i = 2; i < p->hdr_have; i++) {
            p->frame_len = p->frame_len << 8 | p->hdr[i];
        }

        if (p->hdr_have == 10 && (p->hdr[2] & 0x80)) {
            rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL,
                          "64-bit payload length with its top bit set", ev);
            return -1;
        }

        return rooms_ws_length(p, ev) == 0 ? 0 : -1;
    }

    return p->hdr_have == p->hdr_need;
}


/*
 * A close frame is complete in p->ctl: checks it and fills ev.  Returns 0
 * or fails the parser and returns -1.
 */
static int
rooms_ws_close_frame(rooms_ws_parser_t *p, rooms_ws_event_t *ev)
{
    unsigned         code;
    rooms_ws_utf8_t  u;

    if (p->ctl_len == 0) {
        code = ROOMS_WS_CLOSE_NO_STATUS;

    } else if (p->ctl_len == 1) {
        rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL,
                      "close frame with a 1-byte payload", ev);
        return -1;

    } else {
        code = (unsigned) p->ctl[0] << 8 | p->ctl[1];

        if (!rooms_ws_close_code_valid(code)) {
            rooms_ws_fail(p, ROOMS_WS_CLOSE_PROTOCOL,
                          "invalid close code", ev);
            return -1;
        }

        rooms_ws_utf8_reset(&u);

        if (rooms_ws_utf8(&u, p->ctl + 2, p->ctl_len - 2) != p->ctl_len - 2
            || u.need != 0)
        {
            rooms_ws_fail(p, ROOMS_WS_CLOSE_INVALID,
                          "close reason is not valid UTF-8", ev);
            return -1;
        }
    }

    p->state = ROOMS_WS_CLOSED;

    ev->type = ROOMS_WS_EV_CLOSE;
    ev->code = code;
    ev->data = p->ctl_len > 2 ? p->ctl + 2 : NULL;
    ev->len = p->ctl_len > 2 ? p->ctl_len - 2 : 0;

    return 0;
}


/*
 * The last payload byte of a frame was read (or the frame had none).
 * Returns 1 when ev holds an event, 0 when not, -1 when the parser failed.
 */
static int
rooms_ws_frame_done(rooms_ws_parser_t *p, rooms_ws_event_t *ev)
{
    p->state = ROOMS_WS_HDR;
    p->hdr_have = 0;

    switch (p->opcode) {

    case ROOMS_WS_OP_CLOSE:
        return rooms_ws_close_frame(p, ev) == 0 ? 1 : -1;

    case ROOMS_WS_OP_PING:
    case ROOMS_WS_OP_PONG:
        ev->type = (p->opcode == ROOMS_WS_OP_PING) ? ROOMS_WS_EV_PING
                                                    : ROOMS_WS_EV_PONG;
        ev->data = p->ctl_len ? p->ctl : NULL;
        ev->len = p->ctl_len;
        return 1;

    default:
        break;
    }

    if (!p->fin) {
        return 0;
    }

    /* the text must not end inside a character */
    if (p->msg_op == ROOMS_WS_OP_TEXT && p->utf8.need != 0) {
        rooms_ws_fail(p, ROOMS_WS_CLOSE_INVALID,
                      "text message ends inside a UTF-8 sequence", ev);
        return -1;
    }

    ev->type = (p->msg_op == ROOMS_WS_OP_TEXT) ? ROOMS_WS_EV_TEXT
                                                : ROOMS_WS_EV_BINARY;
    ev->data = p->msg_len ? p->buf : NULL;
    ev->len = p->msg_len;

    /* msg_len stays: the data is the caller's until the next call */
    p->msg_op = 0;

    return 1;
}


size_t
rooms_ws_feed(rooms_ws_parser_t *p, const unsigned char *data, size_t len,
    rooms_ws_event_t *ev)
{
    int                   rc;
    size_t                n, bad;
    unsigned char        *dst;
    const unsigned char  *pos, *end, *key;

    ev->type = ROOMS_WS_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    ev->code = 0;
    ev->error = NULL;

    if (p->state == ROOMS_WS_FAILED) {
        rooms_ws_fail(p, p->err_code, p->err_text, ev);
        return 0;
    }

    if (p->state == ROOMS_WS_CLOSED || len == 0) {
        return len;
    }

    pos = data;
    end = data + len;

    while (pos < end) {

        if (p->state == ROOMS_WS_HDR) {
            rc = rooms_ws_header_byte(p, *pos++, ev);

            if (rc < 0) {
                return (size_t) (pos - data);
            }

            if (rc == 0) {
                continue;
            }

            p->frame_left = p->frame_len;
            p->mask_off = 0;
            p->state = ROOMS_WS_PAYLOAD;

            if (p->frame_left == 0 && rooms_ws_frame_done(p, ev) != 0) {
                return (size_t) (pos - data);
            }

            continue;
        }

        /* ROOMS_WS_PAYLOAD: frame_left > 0 here */

        n = (size_t) (end - pos);

        if ((uint64_t) n > p->frame_left) {
            n = (size_t) p->frame_left;
        }

        /* the header checks bound both: ctl_len <= 125, msg_len <= size */
        dst = (p->opcode & 0x8) ? p->ctl + p->ctl_len : p->buf + p->msg_len;
        key = p->hdr + p->hdr_need - 4;

        rooms_ws_unmask(dst, pos, n, key, p->mask_off);

        if (p->opcode & 0x8) {
            p->ctl_len += n;

        } else {
            if (p->msg_op == ROOMS_WS_OP_TEXT) {
                bad = rooms_ws_utf8(&p->utf8, dst, n);

                if (bad != n) {
                    /* consumed up to and including the offending byte */
                    rooms_ws_fail(p, ROOMS_WS_CLOSE_INVALID,
                                  "text message is not valid UTF-8", ev);
                    return (size_t) (pos + bad + 1 - data);
                }
            }

            p->msg_len += n;
        }

        pos += n;
        p->frame_left -= n;
        p->mask_off = (unsigned) ((p->mask_off + n) & 3);

        if (p->frame_left == 0 && rooms_ws_frame_done(p, ev) != 0) {
            return (size_t) (pos - data);
        }
    }

    return len;
}


size_t
rooms_ws_frame_header(unsigned char out[ROOMS_WS_HEADER_MAX], int opcode,
    size_t payload_len)
{
    unsigned  i;
    uint64_t  n;

    switch (opcode) {

    case ROOMS_WS_OP_CLOSE:
    case ROOMS_WS_OP_PING:
    case ROOMS_WS_OP_PONG:
        if (payload_len > ROOMS_WS_CONTROL_MAX) {
            return 0;
        }

        break;

    case ROOMS_WS_OP_TEXT:
    case ROOMS_WS_OP_BINARY:
        break;

    default:
        return 0;
    }

    out[0] = (unsigned char) (0x80 | opcode);

    if (payload_len < 126) {
        out[1] = (unsigned char) payload_len;
        return 2;
    }

    if (payload_len <= 0xffff) {
        out[1] = 126;
        out[2] = (unsigned char) (payload_len >> 8);
        out[3] = (unsigned char) payload_len;
        return 4;
    }

    out[1] = 127;
    n = payload_len;

    for (i = 9; i >= 2; i--) {
        out[i] = (unsigned char) n;
        n >>= 8;
    }

    return 10;
}


size_t
rooms_ws_close_payload(unsigned char out[ROOMS_WS_CONTROL_MAX], unsigned code,
    const char *reason)
{
    size_t           n;
    rooms_ws_utf8_t  u;

    if (!rooms_ws_close_code_valid(code)) {
        return 0;
    }

    out[0] = (unsigned char) (code >> 8);
    out[1] = (unsigned char) code;

    if (reason == NULL) {
        return 2;
    }

    n = strlen(reason);

    if (n > ROOMS_WS_CONTROL_MAX - 2) {
        n = ROOMS_WS_CONTROL_MAX - 2;

        /* back off continuation bytes to the start of the cut character */
        while (n > 0 && ((unsigned char) reason[n] & 0xc0) == 0x80) {
            n--;
        }
    }

    /* never send a reason our own parser would refuse with 1007 */
    rooms_ws_utf8_reset(&u);

    if (rooms_ws_utf8(&u, (const unsigned char *) reason, n) != n
        || u.need != 0)
    {
        return 2;
    }

    memcpy(out + 2, reason, n);

    return 2 + n;
}


int
rooms_ws_accept_key(const char *client_key, size_t len,
    char out[ROOMS_WS_ACCEPT_LEN + 1])
{
    size_t         i;
    unsigned char  c, buf[24 + sizeof(rooms_ws_guid) - 1];
    unsigned char  md[SHA_DIGEST_LENGTH];

    /*
     * RFC 6455 4.1: the key is a random 16-byte value in base64, so 22
     * characters, "==" and nothing else.  The last character carries 2
     * bits and 4 zero bits, so it is one of A Q g w in canonical form.
     */
    if (client_key == NULL || len != 24
        || client_key[22] != '=' || client_key[23] != '=')
    {
        return -1;
    }

    for (i = 0; i < 22; i++) {
        c = (unsigned char) client_key[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '+' || c == '/'))
        {
            return -1;
        }
    }

    c = (unsigned char) client_key[21];

    if (c != 'A' && c != 'Q' && c != 'g' && c != 'w') {
        return -1;
    }

    memcpy(buf, client_key, 24);
    memcpy(buf + 24, rooms_ws_guid, sizeof(rooms_ws_guid) - 1);

    SHA1(buf, sizeof(buf), md);

    /* 20 bytes give 28 characters with one '=', and EVP adds the zero */
    if (EVP_EncodeBlock((unsigned char *) out, md, SHA_DIGEST_LENGTH)
        != ROOMS_WS_ACCEPT_LEN)
    {
        return -1;
    }

    return 0;
}
