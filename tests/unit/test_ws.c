/*
 * test_ws.c: RFC 6455 framing for the server side (rooms_ws.*).
 *
 * Covers: the RFC 6455 5.7 examples; the 7-, 16- and 64-bit length forms,
 * minimal or not; the same events for every way of splitting a stream
 * (one byte at a time and random chunks with fixed seeds); control frames
 * between fragments; every protocol error and its close code, and that an
 * error is final; UTF-8 in text across fragment boundaries, and every
 * kind of invalid sequence; the message size limit, checked from the
 * header before any payload; close codes and reasons; the handshake's
 * Sec-WebSocket-Accept; the server encoder, read back through this file's
 * own masking client encoder.
 *
 * Every client frame here is built by cframe(), which shares no code with
 * rooms_ws.c, so an encoding mistake cannot cancel a parsing one.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rooms_ws.h"
#include "tap.h"


#define FIN      0x80
#define RSV1     0x40
#define RSV2     0x20
#define RSV3     0x10

#define TEXT     ROOMS_WS_OP_TEXT
#define BINARY   ROOMS_WS_OP_BINARY
#define CONT     ROOMS_WS_OP_CONT
#define CLOSE    ROOMS_WS_OP_CLOSE
#define PING     ROOMS_WS_OP_PING
#define PONG     ROOMS_WS_OP_PONG

#define EV_NONE    ROOMS_WS_EV_NONE
#define EV_TEXT    ROOMS_WS_EV_TEXT
#define EV_BINARY  ROOMS_WS_EV_BINARY
#define EV_PING    ROOMS_WS_EV_PING
#define EV_PONG    ROOMS_WS_EV_PONG
#define EV_CLOSE   ROOMS_WS_EV_CLOSE
#define EV_ERROR   ROOMS_WS_EV_ERROR

/* length forms for cframe() */
#define MINIMAL  0
#define LEN16    16
#define LEN64    64

#define MAXREC   64

/* feeding modes for run() */
#define WHOLE    0
#define BYTES    1
#define RANDOM   2


static const unsigned char  key1[4] = { 0x37, 0xfa, 0x21, 0x3d };
static const unsigned char  key2[4] = { 0xa5, 0x00, 0xff, 0x5c };


typedef struct {
    int             type;
    unsigned        code;
    size_t          len;
    unsigned char  *data;           /* a copy, NULL when empty */
} rec_t;

typedef struct {
    rec_t           r[MAXREC];
    int             n;
    size_t          consumed;       /* bytes consumed in total */
    int             broken;         /* a contract of rooms_ws_feed broke */
} log_t;


static uint32_t  rnd_state;


static uint32_t
rnd(void)
{
    /* xorshift32: reproducible chunk sizes, not randomness */
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 17;
    rnd_state ^= rnd_state << 5;

    return rnd_state;
}


static const char *
ev_name(int type)
{
    static const char  *names[] = { "NONE", "TEXT", "BINARY", "PING",
                                    "PONG", "CLOSE", "ERROR" };

    return (type >= 0 && type <= EV_ERROR) ? names[type] : "?";
}


/*
 * The test's client encoder: b0 is the whole first byte (FIN, RSV bits,
 * opcode), key NULL leaves the frame unmasked, form forces a length
 * encoding.  Returns the frame's length.
 */
static size_t
cframe(unsigned char *out, unsigned b0, const void *payload, size_t len,
    const unsigned char *key, int form)
{
    size_t                i, n;
    unsigned              mask;
    const unsigned char  *pl;

    pl = payload;
    mask = key ? 0x80 : 0;
    n = 0;

    out[n++] = (unsigned char) b0;

    if (form == LEN64 || (form == MINIMAL && len > 0xffff)) {
        out[n++] = (unsigned char) (mask | 127);

        for (i = 0; i < 8; i++) {
            out[n++] = (unsigned char) ((uint64_t) len >> (56 - 8 * i));
        }

    } else if (form == LEN16 || (form == MINIMAL && len > 125)) {
        out[n++] = (unsigned char) (mask | 126);
        out[n++] = (unsigned char) (len >> 8);
        out[n++] = (unsigned char) len;

    } else {
        out[n++] = (unsigned char) (mask | len);
    }

    if (key) {
        memcpy(out + n, key, 4);
        n += 4;
    }

    for (i = 0; i < len; i++) {
        out[n + i] = key ? pl[i] ^ key[i % 4] : pl[i];
    }

    return n + len;
}


/* cframe() for text payloads */
static size_t
cstr(unsigned char *out, unsigned b0, const char *s)
{
    return cframe(out, b0, s, strlen(s), key1, MINIMAL);
}


static void
log_free(log_t *log)
{
    int  i;

    for (i = 0; i < log->n; i++) {
        free(log->r[i].data);
    }

    log->n = 0;
}


/*
 * Feeds s[0..len) to a new parser with a message buffer of size bytes,
 * in one piece, one byte at a time or in random chunks, and records every
 * event.  Each chunk is a fresh allocation of its exact length, so a read
 * past it is caught by sanitizers.  Stops at the first ERROR.
 */
static void
run(const unsigned char *s, size_t len, size_t size, int mode,
    uint32_t seed, log_t *log)
{
    size_t              off, chunk, c, n;
    rec_t              *r;
    unsigned char      *buf, *copy;
    rooms_ws_event_t    ev;
    rooms_ws_parser_t   p;

    memset(log, 0, sizeof(log_t));
    rnd_state = seed ? seed : 1;

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        tap_bail_out("out of memory");
    }

    rooms_ws_init(&p, buf, size);

    for (off = 0; off < len; off += chunk) {

        if (mode == WHOLE) {
            chunk = len;

        } else if (mode == BYTES) {
            chunk = 1;

        } else {
            chunk = (rnd() % 4 == 0) ? 1 + rnd() % 300 : 1 + rnd() % 13;
        }

        if (chunk > len - off) {
            chunk = len - off;
        }

        copy = malloc(chunk);
        if (copy == NULL) {
            tap_bail_out("out of memory");
        }

        memcpy(copy, s + off, chunk);

        for (c = 0; c < chunk; c += n) {
            n = rooms_ws_feed(&p, copy + c, chunk - c, &ev);

            if (n > chunk - c
                || (ev.type == EV_NONE && n != chunk - c)
                || (ev.type != EV_NONE && ev.type != EV_ERROR && n == 0)
                || (ev.len && ev.data == NULL))
            {
                log->broken++;
            }

            /* the data lies in the message buffer or the parser */
            if (ev.len
                && !(ev.data >= buf && ev.data + ev.len <= buf + size)
                && !(ev.data >= p.ctl
                     && ev.data + ev.len <= p.ctl + sizeof(p.ctl)))
            {
                log->broken++;
            }

            log->consumed += n;

            if (ev.type == EV_NONE) {
                continue;
            }

            if (log->n == MAXREC) {
                tap_bail_out("more than %d events", MAXREC);
            }

            r = &log->r[log->n++];
            r->type = ev.type;
            r->code = ev.code;
            r->len = ev.len;
            r->data = NULL;

            if (ev.len) {
                r->data = malloc(ev.len);
                if (r->data == NULL) {
                    tap_bail_out("out of memory");
                }

                memcpy(r->data, ev.data, ev.len);
            }

            if (ev.type == EV_ERROR) {
                if (ev.error == NULL || ev.code == 0) {
                    log->broken++;
                }

                free(copy);
                goto done;
            }
        }

        free(copy);
    }

done:

    free(buf);
}


static int
log_same(const log_t *a, const log_t *b)
{
    int  i;

    if (a->n != b->n || a->consumed != b->consumed || a->broken
        || b->broken)
    {
        return 0;
    }

    for (i = 0; i < a->n; i++) {
        if (a->r[i].type != b->r[i].type || a->r[i].code != b->r[i].code
            || a->r[i].len != b->r[i].len
            || (a->r[i].len
                && memcmp(a->r[i].data, b->r[i].data, a->r[i].len) != 0))
        {
            return 0;
        }
    }

    return 1;
}


/* Checks that event i of log is type, code, and data (if not NULL). */
static int
rec_is(const log_t *log, int i, int type, unsigned code, const void *data,
    size_t len, const char *name)
{
    const rec_t  *r;

    if (i >= log->n) {
        ok(0, "%s: event %d is %s", name, i, ev_name(type));
        diag("only %d events", log->n);
        return 0;
    }

    r = &log->r[i];

    if (!ok(r->type == type && r->code == code
            && (data == NULL
                || (r->len == len
                    && (len == 0 || memcmp(r->data, data, len) == 0))),
            "%s: event %d is %s %u", name, i, ev_name(type), code))
    {
        diag("got %s %u, %zu bytes", ev_name(r->type), r->code, r->len);
        return 0;
    }

    return 1;
}


/* Feeds s whole, one byte at a time and in chunks: expects the same log. */
static void
run_all_ways(const unsigned char *s, size_t len, size_t size, log_t *log,
    const char *name)
{
    int       seed, same;
    log_t     other;

    run(s, len, size, WHOLE, 0, log);
    ok(log->broken == 0, "%s: feed contract kept", name);

    run(s, len, size, BYTES, 0, &other);
    ok(log_same(log, &other), "%s: same events one byte at a time", name);
    log_free(&other);

    same = 1;

    for (seed = 1; seed <= 20; seed++) {
        run(s, len, size, RANDOM, (uint32_t) seed * 2654435761u, &other);
        same &= log_same(log, &other);
        log_free(&other);
    }

    ok(same, "%s: same events in 20 random chunkings", name);
}


/* Expects exactly one event from s, fed every way. */
static void
expect1(const unsigned char *s, size_t len, int type, unsigned code,
    const void *data, size_t dlen, const char *name)
{
    log_t  log;

    run_all_ways(s, len, ROOMS_WS_MESSAGE_MAX, &log, name);
    rec_is(&log, 0, type, code, data, dlen, name);
    is_int(log.n, 1, "%s: one event", name);
    log_free(&log);
}


/* Expects s to fail with code, after consuming exactly at bytes. */
static void
expect_error(const unsigned char *s, size_t len, unsigned code, size_t at,
    const char *name)
{
    log_t  log;

    run_all_ways(s, len, ROOMS_WS_MESSAGE_MAX, &log, name);

    if (!ok(log.n >= 1 && log.r[log.n - 1].type == EV_ERROR
            && log.r[log.n - 1].code == code,
            "%s: ERROR %u", name, code))
    {
        if (log.n) {
            diag("last event %s %u", ev_name(log.r[log.n - 1].type),
                 log.r[log.n - 1].code);
        }
    }

    if (at) {
        is_int(log.consumed, at, "%s: fails at byte %zu", name, at);
    }

    log_free(&log);
}


static void
test_rfc_examples(void)
{
    size_t          n;
    unsigned char   s[512], big[65536 + 32];
    log_t           log;

    /* RFC 6455 5.7 */
    static const unsigned char  unmasked_hello[] = {
        0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f
    };
    static const unsigned char  masked_hello[] = {
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
    };
    static const unsigned char  unmasked_fragments[] = {
        0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f
    };
    static const unsigned char  unmasked_ping[] = {
        0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f
    };
    static const unsigned char  masked_pong[] = {
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
    };

    expect1(masked_hello, sizeof(masked_hello), EV_TEXT, 0, "Hello", 5,
            "5.7 masked Hello");
    expect_error(unmasked_hello, sizeof(unmasked_hello), 1002, 2,
                 "5.7 unmasked Hello from a client");
    expect_error(unmasked_fragments, sizeof(unmasked_fragments), 1002, 2,
                 "5.7 unmasked fragments from a client");
    expect_error(unmasked_ping, sizeof(unmasked_ping), 1002, 2,
                 "5.7 unmasked ping from a client");
    expect1(masked_pong, sizeof(masked_pong), EV_PONG, 0, "Hello", 5,
            "5.7 masked pong");

    /* the 5.7 fragments, masked as a client must */
    n = cframe(s, TEXT, "Hel", 3, key1, MINIMAL);
    n += cframe(s + n, FIN | CONT, "lo", 2, key2, MINIMAL);
    expect1(s, n, EV_TEXT, 0, "Hello", 5, "5.7 masked fragments Hel+lo");

    n = cframe(s, FIN | PING, "Hello", 5, key1, MINIMAL);
    expect1(s, n, EV_PING, 0, "Hello", 5, "5.7 masked ping Hello");

    /* 5.7: 256 bytes (16-bit length) and 64 KiB (64-bit length) */
    memset(big, 0xab, sizeof(big));
    n = cframe(s, FIN | BINARY, big, 256, key2, MINIMAL);
    ok(s[1] == (0x80 | 126) && s[2] == 1 && s[3] == 0,
       "256 bytes take the 16-bit form");
    expect1(s, n, EV_BINARY, 0, big, 256, "5.7 256-byte binary");

    {
        unsigned char  *f;

        f = malloc(65536 + 14);
        if (f == NULL) {
            tap_bail_out("out of memory");
        }

        n = cframe(f, FIN | BINARY, big, 65536, key1, MINIMAL);
        ok(f[1] == (0x80 | 127) && f[7] == 1 && f[8] == 0 && f[9] == 0,
           "65536 bytes take the 64-bit form");
        run(f, n, ROOMS_WS_MESSAGE_MAX, WHOLE, 0, &log);
        rec_is(&log, 0, EV_BINARY, 0, big, 65536, "5.7 64 KiB binary");
        log_free(&log);
        free(f);
    }
}


static void
test_length_forms(void)
{
    int             i, f;
    size_t          n;
    char            name[96];
    unsigned char   pl[300], *s;

    static const int     forms[] = { MINIMAL, LEN16, LEN64 };

    static const size_t  lens[] = { 0, 1, 124, 125, 126, 127, 255, 256,
                                    1000, 65535, 65536 };

    s = malloc(65536 + 14);
    if (s == NULL) {
        tap_bail_out("out of memory");
    }

    for (i = 0; i < 300; i++) {
        pl[i] = (unsigned char) (i * 7 + 3);
    }

    for (i = 0; i < (int) (sizeof(lens) / sizeof(lens[0])); i++) {
        for (f = 0; f < 3; f++) {
            int             form;
            unsigned char  *data;
            size_t          j;
            log_t           log;

            form = forms[f];

            if (form == LEN16 && lens[i] > 0xffff) {
                continue;
            }

            data = malloc(lens[i] + 1);
            if (data == NULL) {
                tap_bail_out("out of memory");
            }

            for (j = 0; j < lens[i]; j++) {
                data[j] = pl[j % 300];
            }

            n = cframe(s, FIN | BINARY, data, lens[i], key2, form);
            snprintf(name, sizeof(name), "binary of %zu bytes, %s form",
                     lens[i], form == MINIMAL ? "minimal"
                     : form == LEN16 ? "16-bit" : "64-bit");

            run(s, n, ROOMS_WS_MESSAGE_MAX,
                lens[i] > 1000 ? WHOLE : BYTES, 0, &log);
            ok(log.broken == 0, "%s: feed contract kept", name);
            rec_is(&log, 0, EV_BINARY, 0, data, lens[i], name);
            log_free(&log);
            free(data);
        }
    }

    /* 7.1.1 lets a client use a longer form than needed, even for 5 */
    n = cframe(s, FIN | TEXT, "Hello", 5, key1, LEN16);
    expect1(s, n, EV_TEXT, 0, "Hello", 5, "Hello in the 16-bit form");
    n = cframe(s, FIN | TEXT, "Hello", 5, key1, LEN64);
    expect1(s, n, EV_TEXT, 0, "Hello", 5, "Hello in the 64-bit form");

    free(s);
}


static void
test_splits(void)
{
    int             i;
    size_t          n;
    unsigned char   s[4096], bin[700], body[64];
    log_t           log;

    static const char  reason[] = "bye \xc3\xa9t\xc3\xa9";

    for (i = 0; i < (int) sizeof(bin); i++) {
        bin[i] = (unsigned char) (i ^ 0x5a);
    }

    /*
     * A stream that exercises every state: a text message in three
     * fragments with characters cut between them, a ping and a pong
     * between them, an empty text, a 700-byte binary (16-bit form) in two
     * fragments, an empty ping, and a close with a UTF-8 reason.
     */
    n = cframe(s, TEXT, "caf\xc3", 4, key1, MINIMAL);
    n += cframe(s + n, FIN | PING, "p1", 2, key2, MINIMAL);
    n += cframe(s + n, CONT, "\xa9 \xf0\x9f", 4, key2, MINIMAL);
    n += cframe(s + n, FIN | PONG, "p2", 2, key1, MINIMAL);
    n += cframe(s + n, CONT, "", 0, key1, MINIMAL);
    n += cframe(s + n, FIN | CONT, "\x8e\x89!", 3, key1, MINIMAL);
    n += cframe(s + n, FIN | TEXT, "", 0, key2, MINIMAL);
    n += cframe(s + n, BINARY, bin, 300, key2, MINIMAL);
    n += cframe(s + n, FIN | CONT, bin + 300, 400, key1, LEN64);
    n += cframe(s + n, FIN | PING, "", 0, key1, MINIMAL);
    body[0] = 0x03;
    body[1] = 0xe8;
    memcpy(body + 2, reason, sizeof(reason) - 1);
    n += cframe(s + n, FIN | CLOSE, body, 2 + sizeof(reason) - 1, key2,
                MINIMAL);

    run_all_ways(s, n, ROOMS_WS_MESSAGE_MAX, &log, "mixed stream");
    is_int(log.n, 7, "mixed stream: 7 events");
    is_int(log.consumed, n, "mixed stream: every byte consumed");
    rec_is(&log, 0, EV_PING, 0, "p1", 2, "mixed stream");
    rec_is(&log, 1, EV_PONG, 0, "p2", 2, "mixed stream");
    rec_is(&log, 2, EV_TEXT, 0, "caf\xc3\xa9 \xf0\x9f\x8e\x89!", 11,
           "mixed stream");
    rec_is(&log, 3, EV_TEXT, 0, "", 0, "mixed stream");
    rec_is(&log, 4, EV_BINARY, 0, bin, 700, "mixed stream");
    rec_is(&log, 5, EV_PING, 0, "", 0, "mixed stream");
    rec_is(&log, 6, EV_CLOSE, 1000, reason, sizeof(reason) - 1,
           "mixed stream");
    log_free(&log);

    /* the same, ending in an error mid-way through a fragmented message */
    n = cframe(s, TEXT, "ok so far", 9, key1, MINIMAL);
    n += cframe(s + n, FIN | PING, "x", 1, key2, MINIMAL);
    n += cframe(s + n, CONT, "still \xe2\x82", 8, key2, MINIMAL);
    n += cframe(s + n, FIN | CONT, "\xac \xc0\xaf", 4, key1, MINIMAL);
    run_all_ways(s, n, ROOMS_WS_MESSAGE_MAX, &log, "stream with bad UTF-8");
    rec_is(&log, 0, EV_PING, 0, "x", 1, "stream with bad UTF-8");
    rec_is(&log, 1, EV_ERROR, 1007, NULL, 0, "stream with bad UTF-8");
    is_int(log.consumed, n - 1, "bad UTF-8 fails at its first bad byte");
    log_free(&log);
}


static void
test_interleaved_control(void)
{
    size_t          n;
    unsigned char   s[512];
    log_t           log;

    n = cframe(s, TEXT, "Hel", 3, key1, MINIMAL);
    n += cframe(s + n, FIN | PING, "are you there", 13, key2, MINIMAL);
    n += cframe(s + n, FIN | PONG, "", 0, key2, MINIMAL);
    n += cframe(s + n, FIN | CONT, "lo", 2, key1, MINIMAL);
    run_all_ways(s, n, ROOMS_WS_MESSAGE_MAX, &log, "ping between fragments");
    rec_is(&log, 0, EV_PING, 0, "are you there", 13,
           "ping between fragments");
    rec_is(&log, 1, EV_PONG, 0, "", 0, "ping between fragments");
    rec_is(&log, 2, EV_TEXT, 0, "Hello", 5, "ping between fragments");
    is_int(log.n, 3, "ping between fragments: 3 events");
    log_free(&log);

    /* a 125-byte ping between fragments does not touch the message */
    {
        unsigned char  pl[125];

        memset(pl, 'P', sizeof(pl));
        n = cframe(s, BINARY, "\x00\x01", 2, key1, MINIMAL);
        n += cframe(s + n, FIN | PING, pl, 125, key2, MINIMAL);
        n += cframe(s + n, FIN | CONT, "\x02", 1, key1, MINIMAL);
        run_all_ways(s, n, ROOMS_WS_MESSAGE_MAX, &log, "125-byte ping");
        rec_is(&log, 0, EV_PING, 0, pl, 125, "125-byte ping");
        rec_is(&log, 1, EV_BINARY, 0, "\x00\x01\x02", 3, "125-byte ping");
        log_free(&log);
    }

    /* a close between fragments ends it all; later bytes are dropped */
    n = cframe(s, TEXT, "Hel", 3, key1, MINIMAL);
    n += cframe(s + n, FIN | CLOSE, "\x03\xe9", 2, key2, MINIMAL);
    n += cframe(s + n, FIN | CONT, "lo", 2, key1, MINIMAL);
    n += cframe(s + n, 0xff, "", 0, NULL, MINIMAL);
    run_all_ways(s, n, ROOMS_WS_MESSAGE_MAX, &log, "close between fragments");
    rec_is(&log, 0, EV_CLOSE, 1001, "", 0, "close between fragments");
    is_int(log.n, 1, "close between fragments: nothing after the close");
    is_int(log.consumed, n, "close between fragments: the rest is dropped");
    log_free(&log);
}


static void
test_errors(void)
{
    int             op;
    size_t          n, m;
    char            name[96];
    unsigned char   s[512];

    /* RSV bits: no extension is negotiated */
    n = cstr(s, FIN | RSV1 | TEXT, "x");
    expect_error(s, n, 1002, 1, "RSV1 set");
    n = cstr(s, FIN | RSV2 | TEXT, "x");
    expect_error(s, n, 1002, 1, "RSV2 set");
    n = cstr(s, FIN | RSV3 | BINARY, "x");
    expect_error(s, n, 1002, 1, "RSV3 set");
    n = cstr(s, FIN | RSV1 | PING, "x");
    expect_error(s, n, 1002, 1, "RSV1 on a ping");

    for (op = 3; op <= 15; op++) {
        if (op >= CLOSE && op <= PONG) {
            continue;
        }

        n = cstr(s, FIN | op, "x");
        snprintf(name, sizeof(name), "unknown opcode 0x%x", op);
        expect_error(s, n, 1002, 1, name);
    }

    n = cstr(s, PING, "x");
    expect_error(s, n, 1002, 1, "fragmented ping");
    n = cstr(s, PONG, "x");
    expect_error(s, n, 1002, 1, "fragmented pong");
    n = cframe(s, CLOSE, "\x03\xe8", 2, key1, MINIMAL);
    expect_error(s, n, 1002, 1, "fragmented close");

    {
        unsigned char  pl[126];

        memset(pl, 'x', sizeof(pl));
        n = cframe(s, FIN | PING, pl, 126, key1, MINIMAL);
        expect_error(s, n, 1002, 2, "ping of 126 bytes");
        n = cframe(s, FIN | PONG, pl, 5, key1, LEN16);
        expect_error(s, n, 1002, 2, "pong with a 16-bit length");
        n = cframe(s, FIN | CLOSE, pl, 5, key1, LEN64);
        expect_error(s, n, 1002, 2, "close with a 64-bit length");
    }

    n = cstr(s, FIN | CONT, "x");
    expect_error(s, n, 1002, 1, "continuation with no message");
    n = cstr(s, CONT, "x");
    expect_error(s, n, 1002, 1, "unfinished continuation with no message");

    n = cstr(s, FIN | TEXT, "a");
    m = n;
    n += cstr(s + n, FIN | CONT, "b");
    expect_error(s, n, 1002, m + 1, "continuation after a whole message");

    n = cstr(s, TEXT, "a");
    m = n;
    n += cstr(s + n, FIN | TEXT, "b");
    expect_error(s, n, 1002, m + 1, "text inside a fragmented text");

    n = cstr(s, BINARY, "a");
    m = n;
    n += cstr(s + n, FIN | BINARY, "b");
    expect_error(s, n, 1002, m + 1, "binary inside a fragmented binary");

    n = cstr(s, TEXT, "a");
    m = n;
    n += cstr(s + n, FIN | BINARY, "b");
    expect_error(s, n, 1002, m + 1, "binary inside a fragmented text");

    /* the top bit of a 64-bit length: refused before the mask key */
    n = cframe(s, FIN | BINARY, "x", 1, key1, LEN64);
    s[2] |= 0x80;
    expect_error(s, 10, 1002, 10, "64-bit length with its top bit set");

    /* unmasked frames of every kind */
    n = cframe(s, FIN | BINARY, "x", 1, NULL, MINIMAL);
    expect_error(s, n, 1002, 2, "unmasked binary");
    n = cframe(s, FIN | CLOSE, "", 0, NULL, MINIMAL);
    expect_error(s, n, 1002, 2, "unmasked empty close");
    n = cstr(s, TEXT, "a");
    m = n;
    n += cframe(s + n, FIN | CONT, "b", 1, NULL, MINIMAL);
    expect_error(s, n, 1002, m + 2, "unmasked continuation");

    /* close bodies */
    n = cframe(s, FIN | CLOSE, "\x03", 1, key1, MINIMAL);
    expect_error(s, n, 1002, n, "close with a 1-byte payload");
    n = cframe(s, FIN | CLOSE, "\x03\xe8\xff", 3, key1, MINIMAL);
    expect_error(s, n, 1007, n, "close reason with byte ff");
    n = cframe(s, FIN | CLOSE, "\x03\xe8ok\xe2\x82", 6, key1, MINIMAL);
    expect_error(s, n, 1007, n, "close reason cut inside a character");
    n = cframe(s, FIN | CLOSE, "\x03\xe8\xed\xa0\x80", 5, key1, MINIMAL);
    expect_error(s, n, 1007, n, "close reason with a surrogate");
}


static void
test_error_is_final(void)
{
    size_t              n;
    unsigned char       s[64], buf[16];
    rooms_ws_event_t    ev;
    rooms_ws_parser_t   p;

    rooms_ws_init(&p, buf, sizeof(buf));

    n = cstr(s, FIN | RSV1 | TEXT, "x");
    is_int(rooms_ws_feed(&p, s, n, &ev), 1, "error after its first byte");
    is_int(ev.type, EV_ERROR, "the event is ERROR");
    is_int(ev.code, 1002, "with 1002");
    ok(ev.error != NULL && ev.error[0] != '\0', "and a cause: %s",
       ev.error ? ev.error : "(null)");

    n = cstr(s, FIN | TEXT, "fine");
    is_int(rooms_ws_feed(&p, s, n, &ev), 0, "nothing consumed after ERROR");
    ok(ev.type == EV_ERROR && ev.code == 1002,
       "the same ERROR is reported again");
    is_int(rooms_ws_feed(&p, s, 0, &ev), 0, "even for an empty feed");
    is_int(ev.type, EV_ERROR, "still ERROR");

    /* an empty feed before anything consumes nothing and reports nothing */
    rooms_ws_init(&p, buf, sizeof(buf));
    is_int(rooms_ws_feed(&p, NULL, 0, &ev), 0, "empty feed consumes 0");
    is_int(ev.type, EV_NONE, "empty feed reports nothing");

    /* after a close everything is dropped, with no event */
    n = cframe(s, FIN | CLOSE, "", 0, key1, MINIMAL);
    is_int(rooms_ws_feed(&p, s, n, &ev), n, "close consumed");
    ok(ev.type == EV_CLOSE && ev.code == 1005 && ev.len == 0,
       "an empty close reads as 1005");
    n = cstr(s, FIN | TEXT, "after");
    is_int(rooms_ws_feed(&p, s, n, &ev), n, "bytes after close consumed");
    is_int(ev.type, EV_NONE, "and dropped");
}


static void
test_utf8(void)
{
    int             i, k;
    size_t          n, m, len;
    char            name[128];
    unsigned char   s[4096];
    log_t           log;

    /* U+0061, U+00E9, U+20AC, U+1D11E, U+007A */
    static const char  valid[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9ez";

    static const struct {
        const char  *s;
        const char  *what;
    } good[] = {
        { "\x00", "U+0000" },
        { "\x7f", "U+007F" },
        { "\xc2\x80", "U+0080" },
        { "\xdf\xbf", "U+07FF" },
        { "\xe0\xa0\x80", "U+0800" },
        { "\xed\x9f\xbf", "U+D7FF" },
        { "\xee\x80\x80", "U+E000" },
        { "\xef\xbf\xbf", "U+FFFF" },
        { "\xf0\x90\x80\x80", "U+10000" },
        { "\xf4\x8f\xbf\xbf", "U+10FFFF" },
    };

    static const struct {
        const char  *s;
        const char  *what;
    } bad[] = {
        { "\x80", "a lone continuation byte" },
        { "\xbf", "a lone continuation byte bf" },
        { "\xc0\x80", "overlong U+0000 (c0 80)" },
        { "\xc1\xbf", "overlong U+007F (c1 bf)" },
        { "\xe0\x80\x80", "overlong 3-byte (e0 80 80)" },
        { "\xe0\x9f\xbf", "overlong U+07FF (e0 9f bf)" },
        { "\xf0\x80\x80\x80", "overlong 4-byte (f0 80 80 80)" },
        { "\xf0\x8f\xbf\xbf", "overlong U+FFFF (f0 8f bf bf)" },
        { "\xed\xa0\x80", "surrogate U+D800 (ed a0 80)" },
        { "\xed\xbf\xbf", "surrogate U+DFFF (ed bf bf)" },
        { "\xf4\x90\x80\x80", "U+110000 (f4 90 80 80)" },
        { "\xf5\x80\x80\x80", "lead byte f5" },
        { "\xf8\x88\x80\x80\x80", "5-byte form" },
        { "\xfe", "byte fe" },
        { "\xff", "byte ff" },
        { "\xc3\x41", "a lead byte followed by ASCII" },
        { "\xe2\x82\x41", "a 3-byte sequence broken by ASCII" },
        { "\xe2\x82", "truncated at the end (e2 82)" },
        { "\xf0\x9d\x84", "truncated at the end (f0 9d 84)" },
        { "\xc3", "truncated at the end (c3)" },
    };

    /* a valid text cut at every position, into two fragments */
    len = strlen(valid);

    for (k = 0; k <= (int) len; k++) {
        n = cframe(s, TEXT, valid, (size_t) k, key1, MINIMAL);
        n += cframe(s + n, FIN | CONT, valid + k, len - k, key2, MINIMAL);
        run(s, n, ROOMS_WS_MESSAGE_MAX, BYTES, 0, &log);
        snprintf(name, sizeof(name), "valid UTF-8 cut at byte %d", k);
        rec_is(&log, 0, EV_TEXT, 0, valid, len, name);
        log_free(&log);
    }

    /* one byte per fragment */
    n = 0;

    for (k = 0; k < (int) len; k++) {
        n += cframe(s + n, (k == (int) len - 1 ? FIN : 0)
                    | (k == 0 ? TEXT : CONT), valid + k, 1,
                    (k & 1) ? key1 : key2, MINIMAL);
    }

    expect1(s, n, EV_TEXT, 0, valid, len, "valid UTF-8, a byte a fragment");

    for (i = 0; i < (int) (sizeof(good) / sizeof(good[0])); i++) {
        m = good[i].s[0] ? strlen(good[i].s) : 1;
        n = cframe(s, FIN | TEXT, good[i].s, m, key1, MINIMAL);
        run(s, n, ROOMS_WS_MESSAGE_MAX, WHOLE, 0, &log);
        rec_is(&log, 0, EV_TEXT, 0, good[i].s, m, good[i].what);
        log_free(&log);
    }

    for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++) {
        m = strlen(bad[i].s);

        n = cframe(s, FIN | TEXT, bad[i].s, m, key1, MINIMAL);
        snprintf(name, sizeof(name), "text with %s", bad[i].what);
        expect_error(s, n, 1007, 0, name);

        /* the same cut between two fragments, after some ASCII */
        n = cframe(s, TEXT, "abc", 3, key1, MINIMAL);
        n += cframe(s + n, CONT, bad[i].s, 1, key2, MINIMAL);
        n += cframe(s + n, FIN | CONT, bad[i].s + 1, m - 1, key1, MINIMAL);
        snprintf(name, sizeof(name), "fragmented text with %s",
                 bad[i].what);
        expect_error(s, n, 1007, 0, name);
    }

    /* invalid bytes are fine in binary */
    n = cframe(s, FIN | BINARY, "\xff\xc0\x80\xed\xa0\x80", 6, key1,
               MINIMAL);
    expect1(s, n, EV_BINARY, 0, "\xff\xc0\x80\xed\xa0\x80", 6,
            "invalid UTF-8 in binary is data");

    /* fail fast: the error comes before the message's last fragment */
    n = cframe(s, TEXT, "ab\xff", 3, key1, MINIMAL);
    m = n;
    n += cframe(s + n, FIN | CONT, "cd", 2, key1, MINIMAL);
    expect_error(s, n, 1007, m, "bad UTF-8 fails in its own fragment");

    /* long ASCII runs (the word-at-a-time path), bad byte anywhere */
    {
        unsigned char  txt[1000];

        memset(txt, 'j', sizeof(txt));
        n = cframe(s, FIN | TEXT, txt, sizeof(txt), key2, MINIMAL);
        expect1(s, n, EV_TEXT, 0, txt, sizeof(txt), "1000 ASCII bytes");

        for (k = 0; k < 20; k++) {
            int  at;

            at = (k < 10) ? k : (int) sizeof(txt) - 20 + k;
            memset(txt, 'j', sizeof(txt));
            txt[at] = 0x80 | (unsigned char) k;
            n = cframe(s, FIN | TEXT, txt, sizeof(txt), key2, MINIMAL);
            run(s, n, ROOMS_WS_MESSAGE_MAX, RANDOM, (uint32_t) k + 7, &log);
            snprintf(name, sizeof(name),
                     "continuation byte at %d of 1000 ASCII", at);
            ok(log.n == 1 && log.r[0].type == EV_ERROR
               && log.r[0].code == 1007 && log.consumed == 4 + 4 + at + 1u,
               "%s: 1007 at that byte", name);
            log_free(&log);
        }
    }
}


static void
test_size_limit(void)
{
    size_t          n, m, max;
    unsigned char  *big, *s, hdr[16];
    log_t           log;

    max = ROOMS_WS_MESSAGE_MAX;

    big = malloc(max + 1);
    s = malloc(2 * max + 64);
    if (big == NULL || s == NULL) {
        tap_bail_out("out of memory");
    }

    memset(big, 'm', max + 1);

    n = cframe(s, FIN | TEXT, big, max, key1, MINIMAL);
    run(s, n, max, WHOLE, 0, &log);
    rec_is(&log, 0, EV_TEXT, 0, big, max, "text of exactly the limit");
    log_free(&log);

    run(s, n, max, RANDOM, 99, &log);
    rec_is(&log, 0, EV_TEXT, 0, big, max,
           "text of exactly the limit, in random chunks");
    log_free(&log);

    n = cframe(s, FIN | BINARY, big, max + 1, key1, MINIMAL);
    run(s, n, max, WHOLE, 0, &log);
    rec_is(&log, 0, EV_ERROR, 1009, NULL, 0, "binary one over the limit");
    is_int(log.consumed, 10, "one over the limit: refused from the header");
    log_free(&log);

    /* fragments: exactly the limit in 3, then one byte over */
    n = cframe(s, TEXT, big, max - 1000, key1, MINIMAL);
    n += cframe(s + n, FIN | PING, "", 0, key2, MINIMAL);
    n += cframe(s + n, CONT, big, 999, key2, MINIMAL);
    m = n;
    n += cframe(s + n, FIN | CONT, big, 1, key1, MINIMAL);
    run(s, n, max, RANDOM, 5, &log);
    rec_is(&log, 1, EV_TEXT, 0, big, max, "3 fragments of exactly the limit");
    log_free(&log);

    n = m;
    n += cframe(s + n, CONT, big, 1, key1, MINIMAL);
    n += cframe(s + n, FIN | CONT, big, 1, key1, MINIMAL);
    run(s, n, max, RANDOM, 6, &log);
    rec_is(&log, 1, EV_ERROR, 1009, NULL, 0,
           "fragments one byte over the limit");
    is_int(log.consumed, m + 7 + 2,
           "fragments over the limit: refused at the header's length");
    log_free(&log);

    /* a huge announced length fails with only the header fed */
    cframe(hdr, FIN | BINARY, "", 0, key1, LEN64);
    memset(hdr + 2, 0xff, 8);
    hdr[2] = 0x7f;
    expect_error(hdr, 10, 1009, 10, "a 2^63-1 length, no payload fed");

    cframe(hdr, FIN | TEXT, "", 0, key1, LEN64);
    hdr[6] = 0x01;
    expect_error(hdr, 10, 1009, 10, "a 16 MiB text length, no payload fed");

    /* a smaller buffer: the limit is the caller's size */
    n = cframe(s, FIN | BINARY, big, 200, key1, MINIMAL);
    run(s, n, 200, BYTES, 0, &log);
    rec_is(&log, 0, EV_BINARY, 0, big, 200, "200 bytes in a 200-byte buffer");
    log_free(&log);

    n = cframe(s, FIN | BINARY, big, 201, key1, MINIMAL);
    run(s, n, 200, BYTES, 0, &log);
    rec_is(&log, 0, EV_ERROR, 1009, NULL, 0, "201 bytes in a 200-byte buffer");
    is_int(log.consumed, 4, "refused at the 16-bit length");
    log_free(&log);

    n = cframe(s, FIN | BINARY, big, 5, key1, MINIMAL);
    run(s, n, 4, BYTES, 0, &log);
    rec_is(&log, 0, EV_ERROR, 1009, NULL, 0, "5 bytes in a 4-byte buffer");
    is_int(log.consumed, 2, "refused at the 7-bit length");
    log_free(&log);

    /* a zero-size parser takes empty messages and control frames only */
    n = cframe(s, FIN | TEXT, "", 0, key1, MINIMAL);
    n += cframe(s + n, FIN | PING, "hi", 2, key1, MINIMAL);
    n += cframe(s + n, FIN | BINARY, "x", 1, key1, MINIMAL);
    run(s, n, 0, BYTES, 0, &log);
    rec_is(&log, 0, EV_TEXT, 0, "", 0, "empty text in a 0-byte buffer");
    rec_is(&log, 1, EV_PING, 0, "hi", 2, "ping with a 0-byte buffer");
    rec_is(&log, 2, EV_ERROR, 1009, NULL, 0, "1 byte in a 0-byte buffer");
    log_free(&log);

    free(big);
    free(s);
}


static void
test_close_codes(void)
{
    unsigned        i, code;
    size_t          n;
    char            name[96];
    unsigned char   s[256], body[130];

    static const unsigned  good[] = { 1000, 1001, 1002, 1003, 1007, 1008,
                                      1009, 1010, 1011, 1012, 1013, 1014,
                                      3000, 3999, 4000, 4999 };
    static const unsigned  bad[] = { 0, 1, 999, 1004, 1005, 1006, 1015,
                                     1016, 1100, 2000, 2999, 5000, 65535 };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        code = good[i];
        body[0] = (unsigned char) (code >> 8);
        body[1] = (unsigned char) code;
        n = cframe(s, FIN | CLOSE, body, 2, key1, MINIMAL);
        snprintf(name, sizeof(name), "close code %u accepted", code);
        expect1(s, n, EV_CLOSE, code, "", 0, name);
        ok(rooms_ws_close_code_valid(code), "close code %u is valid", code);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        code = bad[i];
        body[0] = (unsigned char) (code >> 8);
        body[1] = (unsigned char) code;
        n = cframe(s, FIN | CLOSE, body, 2, key1, MINIMAL);
        snprintf(name, sizeof(name), "close code %u", code);
        expect_error(s, n, 1002, n, name);
        ok(!rooms_ws_close_code_valid(code), "close code %u is invalid",
           code);
    }

    n = cframe(s, FIN | CLOSE, "", 0, key2, MINIMAL);
    expect1(s, n, EV_CLOSE, 1005, "", 0, "an empty close is 1005");

    /* a 123-byte reason: the largest that fits */
    body[0] = 0x0f;
    body[1] = 0xa0;
    memset(body + 2, 'r', 123);
    n = cframe(s, FIN | CLOSE, body, 125, key2, MINIMAL);
    expect1(s, n, EV_CLOSE, 4000, body + 2, 123, "close with 123-byte reason");
}


static void
test_accept_key(void)
{
    int    rc;
    char   out[ROOMS_WS_ACCEPT_LEN + 1];

    static const char  *bad[] = {
        "dGhlIHNhbXBsZSBub25jZQ=",       /* 23 */
        "dGhlIHNhbXBsZSBub25jZQ===",     /* 25 */
        "dGhlIHNhbXBsZSBub25jZQ",        /* no padding */
        "dGhlIHNhbXBsZSBub25jZ==",       /* 23 */
        "dGhlIHNhbXBsZSBub25jZR==",      /* non-zero padding bits */
        "dGhlIHNhbXBsZSBub25jZB==",      /* non-zero padding bits */
        "dGhlIHNhbXBsZSBub25jZQ=A",      /* bad padding */
        "dGhlIHNhbXBsZSBub25jZQA=",      /* 17 bytes' shape */
        "dGhlIHNhbXBs-SBub25jZQ==",      /* base64url character */
        "dGhlIHNhbXBs_SBub25jZQ==",      /* base64url character */
        "dGhlIHNhbXBs SBub25jZQ==",      /* space */
        "dGhlIHNhbXBs=SBub25jZQ==",      /* padding inside */
        " dGhlIHNhbXBsZSBub25jZQ=",      /* leading space */
        "",
    };

    memset(out, '!', sizeof(out));
    rc = rooms_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out);
    is_int(rc, 0, "RFC 6455 1.3 key accepted");
    is_str(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "RFC 6455 1.3 accept value");

    rc = rooms_ws_accept_key("AAAAAAAAAAAAAAAAAAAAAA==", 24, out);
    ok(rc == 0 && strlen(out) == 28, "an all-zero key is a valid shape");

    rc = rooms_ws_accept_key("+/+/+/+/+/+/+/+/+/+/+w==", 24, out);
    ok(rc == 0 && strlen(out) == 28, "+ and / are base64");

    {
        unsigned  i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            ok(rooms_ws_accept_key(bad[i], strlen(bad[i]), out) == -1,
               "key \"%s\" rejected", bad[i]);
        }
    }

    ok(rooms_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==x", 24, out) == 0,
       "only client_key[0..len) counts");
    ok(rooms_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 23, out) == -1,
       "a short len is rejected");
    ok(rooms_ws_accept_key(NULL, 24, out) == -1, "NULL key rejected");
    ok(rooms_ws_accept_key("dGhlIHNh\0XBsZSBub25jZQ==", 24, out) == -1,
       "an embedded zero rejected");
}


/*
 * The test's view of a server frame sent by a client: sets the MASK bit,
 * inserts key after the length and masks the payload.  Returns the new
 * length.
 */
static size_t
mask_server_frame(unsigned char *out, const unsigned char *in, size_t len,
    const unsigned char key[4])
{
    size_t  h, i;

    h = 2;

    if ((in[1] & 0x7f) == 126) {
        h = 4;

    } else if ((in[1] & 0x7f) == 127) {
        h = 10;
    }

    memcpy(out, in, h);
    out[1] |= 0x80;
    memcpy(out + h, key, 4);

    for (i = h; i < len; i++) {
        out[i + 4] = in[i] ^ key[(i - h) % 4];
    }

    return len + 4;
}


static void
test_encoder(void)
{
    int             i, j;
    size_t          h, n, m;
    char            name[96], reason[200];
    unsigned char   hdr[ROOMS_WS_HEADER_MAX], *srv, *cli, *pl;
    unsigned char   body[ROOMS_WS_CONTROL_MAX];
    log_t           log;

    static const size_t  lens[] = { 0, 1, 5, 125, 126, 127, 65535, 65536 };
    static const struct {
        int  op;
        int  ev;
    } ops[] = {
        { TEXT, EV_TEXT }, { BINARY, EV_BINARY }, { PING, EV_PING },
        { PONG, EV_PONG },
    };

    /* the RFC 6455 5.7 server frames */
    h = rooms_ws_frame_header(hdr, TEXT, 5);
    ok(h == 2 && hdr[0] == 0x81 && hdr[1] == 0x05, "header of text Hello");
    h = rooms_ws_frame_header(hdr, PONG, 5);
    ok(h == 2 && hdr[0] == 0x8a && hdr[1] == 0x05, "header of pong Hello");
    h = rooms_ws_frame_header(hdr, BINARY, 256);
    ok(h == 4 && hdr[0] == 0x82 && hdr[1] == 0x7e && hdr[2] == 0x01
       && hdr[3] == 0x00, "header of a 256-byte binary");
    h = rooms_ws_frame_header(hdr, BINARY, 65536);
    ok(h == 10 && hdr[0] == 0x82 && hdr[1] == 0x7f
       && memcmp(hdr + 2, "\x00\x00\x00\x00\x00\x01\x00\x00", 8) == 0,
       "header of a 64 KiB binary");
    h = rooms_ws_frame_header(hdr, TEXT, 125);
    ok(h == 2 && hdr[1] == 125, "125 bytes: 7-bit form");
    h = rooms_ws_frame_header(hdr, TEXT, 65535);
    ok(h == 4 && hdr[2] == 0xff && hdr[3] == 0xff, "65535: 16-bit form");

    is_int(rooms_ws_frame_header(hdr, PING, 126), 0,
           "no ping over 125 bytes");
    is_int(rooms_ws_frame_header(hdr, CLOSE, 126), 0,
           "no close over 125 bytes");
    is_int(rooms_ws_frame_header(hdr, CONT, 1), 0, "no continuation");
    is_int(rooms_ws_frame_header(hdr, 3, 1), 0, "no reserved opcode");
    is_int(rooms_ws_frame_header(hdr, 0xb, 1), 0, "no reserved control");
    is_int(rooms_ws_frame_header(hdr, -1, 1), 0, "no negative opcode");

    /* every opcode and length form, read back by the parser */
    srv = malloc(65536 + 16);
    cli = malloc(65536 + 32);
    pl = malloc(65536);
    if (srv == NULL || cli == NULL || pl == NULL) {
        tap_bail_out("out of memory");
    }

    for (i = 0; i < 65536; i++) {
        pl[i] = (unsigned char) ('a' + i % 26);
    }

    for (i = 0; i < (int) (sizeof(ops) / sizeof(ops[0])); i++) {
        for (j = 0; j < (int) (sizeof(lens) / sizeof(lens[0])); j++) {
            h = rooms_ws_frame_header(srv, ops[i].op, lens[j]);

            if ((ops[i].op & 0x8) && lens[j] > 125) {
                continue;
            }

            memcpy(srv + h, pl, lens[j]);
            n = mask_server_frame(cli, srv, h + lens[j], key2);
            run(cli, n, ROOMS_WS_MESSAGE_MAX, lens[j] > 200 ? WHOLE : BYTES,
                0, &log);
            snprintf(name, sizeof(name), "round trip of opcode %d, %zu bytes",
                     ops[i].op, lens[j]);
            rec_is(&log, 0, ops[i].ev, 0, pl, lens[j], name);
            is_int(log.consumed, n, "%s: all consumed", name);
            log_free(&log);
        }
    }

    free(srv);
    free(cli);
    free(pl);

    /* close payloads */
    {
        unsigned char  f[256], c[256];

        m = rooms_ws_close_payload(body, 1000, "bye");
        ok(m == 5 && memcmp(body, "\x03\xe8" "bye", 5) == 0,
           "close payload 1000 bye");

        h = rooms_ws_frame_header(f, CLOSE, m);
        memcpy(f + h, body, m);
        n = mask_server_frame(c, f, h + m, key1);
        expect1(c, n, EV_CLOSE, 1000, "bye", 3, "close 1000 bye round trip");

        m = rooms_ws_close_payload(body, 1009, NULL);
        ok(m == 2 && body[0] == 0x03 && body[1] == 0xf1,
           "close payload 1009, no reason");
        m = rooms_ws_close_payload(body, 4321, "");
        ok(m == 2 && body[0] == 0x10 && body[1] == 0xe1,
           "close payload 4321, empty reason");

        is_int(rooms_ws_close_payload(body, 1005, "x"), 0,
               "1005 is never sent");
        is_int(rooms_ws_close_payload(body, 1006, NULL), 0,
               "1006 is never sent");
        is_int(rooms_ws_close_payload(body, 1015, NULL), 0,
               "1015 is never sent");
        is_int(rooms_ws_close_payload(body, 999, NULL), 0,
               "999 is never sent");

        /* a long reason is cut to 123 bytes on a character boundary */
        memset(reason, 'a', sizeof(reason));
        reason[199] = '\0';
        m = rooms_ws_close_payload(body, 1001, reason);
        is_int(m, 125, "a long ASCII reason is cut to fill 125 bytes");

        for (i = 0; i < 4; i++) {
            /* a 2-byte character straddling byte 123 of the reason */
            memset(reason, 'a', sizeof(reason));
            reason[120 + i] = (char) 0xc3;
            reason[121 + i] = (char) 0xa9;
            reason[199] = '\0';
            m = rooms_ws_close_payload(body, 1001, reason);
            snprintf(name, sizeof(name), "reason with a character at %d",
                     120 + i);
            is_int(m, i == 2 ? 2 + 122 : 125, "%s: length", name);

            h = rooms_ws_frame_header(f, CLOSE, m);
            memcpy(f + h, body, m);
            n = mask_server_frame(c, f, h + m, key2);
            expect1(c, n, EV_CLOSE, 1001, body + 2, m - 2, name);
        }

        /* a 3-byte character cut at every place */
        for (i = 0; i < 3; i++) {
            memset(reason, 'a', sizeof(reason));
            memcpy(reason + 121 + i, "\xe2\x82\xac", 3);
            reason[199] = '\0';
            m = rooms_ws_close_payload(body, 1001, reason);
            h = rooms_ws_frame_header(f, CLOSE, m);
            memcpy(f + h, body, m);
            n = mask_server_frame(c, f, h + m, key2);
            snprintf(name, sizeof(name), "reason with a euro at %d", 121 + i);
            expect1(c, n, EV_CLOSE, 1001, NULL, 0, name);
            is_int(m, 2 + 121 + i, "%s: cut before it unless it fits", name);
        }

        m = rooms_ws_close_payload(body, 1011, "bad \xff reason");
        is_int(m, 2, "an invalid UTF-8 reason is left out");
    }
}


static void
test_unmask_offsets(void)
{
    int             len, seed, bad;
    size_t          n, i;
    unsigned char   pl[64], s[128], key[4];
    log_t           log, whole;

    /* every payload length up to 64, a new key each, cut anywhere */
    bad = 0;
    rnd_state = 12345;

    for (len = 0; len <= 64; len++) {
        for (i = 0; i < (size_t) len; i++) {
            pl[i] = (unsigned char) rnd();
        }

        for (i = 0; i < 4; i++) {
            key[i] = (unsigned char) rnd();
        }

        n = cframe(s, FIN | BINARY, pl, (size_t) len, key, MINIMAL);

        for (seed = 1; seed <= 8; seed++) {
            run(s, n, ROOMS_WS_MESSAGE_MAX, RANDOM, (uint32_t) (len * 31
                + seed), &log);

            if (log.n != 1 || log.r[0].type != EV_BINARY
                || log.r[0].len != (size_t) len
                || (len && memcmp(log.r[0].data, pl, (size_t) len) != 0))
            {
                bad++;
            }

            log_free(&log);
        }

        run(s, n, ROOMS_WS_MESSAGE_MAX, BYTES, 0, &whole);
        bad += !(whole.n == 1 && whole.r[0].len == (size_t) len);
        log_free(&whole);
    }

    is_int(bad, 0, "payloads of 0 to 64 bytes unmasked at every offset");
}


int
main(void)
{
    test_rfc_examples();
    test_length_forms();
    test_splits();
    test_interleaved_control();
    test_errors();
    test_error_is_final();
    test_utf8();
    test_size_limit();
    test_close_codes();
    test_accept_key();
    test_encoder();
    test_unmask_offsets();

    return done_testing();
}
