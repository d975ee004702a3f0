/*
 * rooms_ws.h: the server side of RFC 6455 WebSocket framing, sans I/O.
 *
 * Owns: parsing client frames (unmasking, fragment reassembly, UTF-8
 * validation of text and close reasons, every protocol check and the
 * close code it calls for), encoding server frame headers and close
 * payloads, and computing Sec-WebSocket-Accept for the handshake.
 *
 * Must never: do I/O, read a clock, allocate memory, include nginx
 * headers, or read a byte outside the buffers it is given.  The caller
 * owns the socket, the timers and the decision to close; this code only
 * says which close code a broken stream calls for.
 *
 * No extension is ever negotiated (no permessage-deflate), so any RSV bit
 * is a protocol error.
 *
 * May not: include <ngx_core.h>, include <jansson.h>
 */

#ifndef ROOMS_WS_H
#define ROOMS_WS_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_limits.h"


/* RFC 6455 5.2 opcodes */
#define ROOMS_WS_OP_CONT           0x0
#define ROOMS_WS_OP_TEXT           0x1
#define ROOMS_WS_OP_BINARY         0x2
#define ROOMS_WS_OP_CLOSE          0x8
#define ROOMS_WS_OP_PING           0x9
#define ROOMS_WS_OP_PONG           0xa

/* RFC 6455 7.4.1 status codes this code produces or interprets */
#define ROOMS_WS_CLOSE_NORMAL      1000
#define ROOMS_WS_CLOSE_GOING_AWAY  1001
#define ROOMS_WS_CLOSE_PROTOCOL    1002
#define ROOMS_WS_CLOSE_NO_STATUS   1005    /* never on the wire */
#define ROOMS_WS_CLOSE_INVALID     1007    /* bad UTF-8 */
#define ROOMS_WS_CLOSE_POLICY      1008
#define ROOMS_WS_CLOSE_TOO_BIG     1009
#define ROOMS_WS_CLOSE_INTERNAL    1011

/* the largest server frame header: 2 bytes and a 64-bit length */
#define ROOMS_WS_HEADER_MAX        10

/* Sec-WebSocket-Accept: base64 of a SHA-1, 28 characters and the zero */
#define ROOMS_WS_ACCEPT_LEN        28


typedef enum {
    ROOMS_WS_EV_NONE = 0,        /* no event yet: feed more bytes */
    ROOMS_WS_EV_TEXT,            /* a whole text message, valid UTF-8 */
    ROOMS_WS_EV_BINARY,          /* a whole binary message */
    ROOMS_WS_EV_PING,            /* answer with a PONG of the same data */
    ROOMS_WS_EV_PONG,
    ROOMS_WS_EV_CLOSE,           /* the peer's close: code and reason */
    ROOMS_WS_EV_ERROR            /* send a close with code, then close */
} rooms_ws_event_type_t;


typedef struct {
    rooms_ws_event_type_t   type;

    /*
     * TEXT, BINARY: the message; PING, PONG: the payload; CLOSE: the
     * reason (UTF-8, not zero-terminated).  It points into the parser or
     * the caller's message buffer and stays valid until the next call to
     * rooms_ws_feed() on the same parser.  NULL or len 0 when empty.
     */
    const unsigned char    *data;
    size_t                  len;

    /*
     * CLOSE: the peer's status code, or 1005 when its close frame had no
     * body.  ERROR: the code the server must send in its own close frame
     * (1002, 1007 or 1009).  0 otherwise.
     */
    unsigned                code;

    /* ERROR: a static, human-readable cause for the log; NULL otherwise */
    const char             *error;
} rooms_ws_event_t;


typedef struct {
    unsigned char   need;        /* continuation bytes still expected */
    unsigned char   lo;          /* the range the next one must be in */
    unsigned char   hi;
} rooms_ws_utf8_t;


/*
 * One client connection's parser.  The caller allocates it (it holds no
 * pointer of its own but buf) and the message buffer, and keeps both for
 * the connection's life.  The fields are private: use the functions.
 */
typedef struct {
    unsigned char    *buf;           /* message reassembly, caller-owned */
    size_t            size;          /* its size: the largest message */

    int               state;

    /* the frame being read: its header, then its payload */
    unsigned char     hdr[14];       /* 2 + 8 length + 4 mask bytes */
    unsigned          hdr_have;
    unsigned          hdr_need;
    unsigned          fin;
    unsigned          opcode;
    uint64_t          frame_len;
    uint64_t          frame_left;
    unsigned          mask_off;      /* payload bytes read, modulo 4 */

    /* the data message being reassembled, across its fragments */
    unsigned          msg_op;        /* TEXT or BINARY; 0: none open */
    size_t            msg_len;
    rooms_ws_utf8_t   utf8;

    /* a control frame, which may arrive between two fragments */
    unsigned char     ctl[ROOMS_WS_CONTROL_MAX];
    size_t            ctl_len;

    /* once failed, for good */
    unsigned          err_code;
    const char       *err_text;
} rooms_ws_parser_t;


/*
 * Prepares p for a new connection.  buf[0..size) receives reassembled
 * data messages, so size is the largest message accepted: a message that
 * would exceed it fails with 1009 before its payload is read.  The module
 * passes ROOMS_WS_MESSAGE_MAX bytes.  buf may be NULL when size is 0.
 */
void rooms_ws_init(rooms_ws_parser_t *p, unsigned char *buf, size_t size);

/*
 * Consumes client bytes data[0..len), split at any boundary, and returns
 * how many it consumed (never more than len).  It stops right after the
 * byte that completes an event and fills ev with it; otherwise ev->type
 * is ROOMS_WS_EV_NONE and all len bytes were consumed.  Call it again
 * with the rest until everything is consumed:
 *
 *     while (len) {
 *         n = rooms_ws_feed(p, data, len, &ev);
 *         data += n; len -= n;
 *         if (ev.type == ROOMS_WS_EV_ERROR) { send close ev.code; break; }
 *         ...
 *     }
 *
 * ERROR is final: every later call consumes nothing and reports the same
 * ERROR again.  After CLOSE the connection is closing (RFC 6455 5.5.1:
 * nothing follows a close frame), so later bytes are consumed and
 * dropped with no event.
 */
size_t rooms_ws_feed(rooms_ws_parser_t *p, const unsigned char *data,
    size_t len, rooms_ws_event_t *ev);

/*
 * Writes the header of an unmasked, unfragmented (FIN) server frame with
 * opcode and payload_len, in the shortest length form, and returns its
 * length: 2, 4 or 10.  Returns 0 for an opcode other than TEXT, BINARY,
 * CLOSE, PING or PONG, or a control frame over 125 bytes.
 */
size_t rooms_ws_frame_header(unsigned char out[ROOMS_WS_HEADER_MAX],
    int opcode, size_t payload_len);

/*
 * Writes a close frame's payload: code in network order, then reason
 * (UTF-8, zero-terminated, may be NULL), cut on a character boundary to
 * fit 125 bytes; an invalid UTF-8 reason is left out.  Returns its
 * length, or 0 when code may not be sent (1005, 1006, 1015 and the other
 * codes rooms_ws_close_code_valid() refuses): send an empty close then.
 */
size_t rooms_ws_close_payload(unsigned char out[ROOMS_WS_CONTROL_MAX],
    unsigned code, const char *reason);

/*
 * Returns 1 when code may appear in a close frame: 1000-1003, 1007-1014
 * and 3000-4999 (registered and private use).  0 for the rest, including
 * 1005, 1006 and 1015, which RFC 6455 7.4.1 keeps off the wire.
 */
int rooms_ws_close_code_valid(unsigned code);

/*
 * Computes Sec-WebSocket-Accept for the client's Sec-WebSocket-Key
 * (client_key[0..len)): base64(SHA-1(key "258EAFA5-...")), 28 characters
 * and a zero in out.  The key must be 24 characters of canonical base64
 * that decode to 16 bytes (RFC 6455 4.1); returns -1 otherwise, 0 on
 * success.
 */
int rooms_ws_accept_key(const char *client_key, size_t len,
    char out[ROOMS_WS_ACCEPT_LEN + 1]);


#endif /* ROOMS_WS_H */
