/*
 * fuzz_ws.c: a libFuzzer target for the WebSocket parser (rooms_ws.*).
 *
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -Icommon \
 *         tests/fuzz/fuzz_ws.c common/rooms_ws.c -lcrypto -o fuzz_ws
 *     ./fuzz_ws -max_total_time=60
 *
 * Without libFuzzer, -DROOMS_WS_FUZZ_MAIN adds a main() that runs the
 * target on the files named on the command line, or on pseudo-random
 * inputs when there are none (a compile check and a smoke run).
 *
 * The first input byte picks the message buffer's size and whether the
 * rest is a raw client stream or a list of frame specifications turned
 * into masked frames here (which reaches deep states much sooner than
 * raw bytes with the right mask bits).  The stream is then fed twice, in
 * one piece and in chunks whose sizes come from the input, each chunk a
 * fresh allocation of its exact length so that any read past it is an
 * ASan report.  The target aborts when:
 *   - rooms_ws_feed() consumes more than it was given, or stops early
 *     without an event, or makes no progress with an event;
 *   - an event's data lies outside the message or control buffers, or a
 *     message exceeds the buffer size;
 *   - a TEXT message or close reason is not valid UTF-8 (by an
 *     independent decoder written below);
 *   - a CLOSE code is one the parser should have refused, or an ERROR
 *     code is not 1002, 1007 or 1009;
 *   - the two feedings give different events or consume different totals.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rooms_ws.h"


#define FUZZ_MAXEV  1024


typedef struct {
    int        type;
    unsigned   code;
    size_t     len;
    uint64_t   hash;
} fuzz_ev_t;

typedef struct {
    fuzz_ev_t  ev[FUZZ_MAXEV];
    size_t     n;
    size_t     consumed;
} fuzz_log_t;


static fuzz_log_t  fuzz_a, fuzz_b;


#define fuzz_check(cond)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "fuzz_ws: check failed: %s (line %d)\n",        \
                    #cond, __LINE__);                                       \
            abort();                                                        \
        }                                                                   \
    } while (0)


static uint64_t
fuzz_hash(const unsigned char *p, size_t n)
{
    size_t    i;
    uint64_t  h;

    h = 0xcbf29ce484222325ULL;

    for (i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }

    return h;
}


/*
 * Decodes p[0..n) code point by code point and checks each against the
 * Unicode rules, rather than the byte ranges rooms_ws.c uses.
 */
static int
fuzz_utf8_valid(const unsigned char *p, size_t n)
{
    size_t    i, k, len;
    uint32_t  cp, min;

    for (i = 0; i < n; i += len) {
        if (p[i] < 0x80) {
            len = 1;
            continue;
        }

        if ((p[i] & 0xe0) == 0xc0) {
            len = 2;
            cp = p[i] & 0x1f;
            min = 0x80;

        } else if ((p[i] & 0xf0) == 0xe0) {
            len = 3;
            cp = p[i] & 0x0f;
            min = 0x800;

        } else if ((p[i] & 0xf8) == 0xf0) {
            len = 4;
            cp = p[i] & 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if (n - i < len) {
            return 0;
        }

        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            cp = cp << 6 | (p[i + k] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


static void
fuzz_record(fuzz_log_t *log, const rooms_ws_event_t *ev,
    const rooms_ws_parser_t *p, const unsigned char *buf, size_t size)
{
    fuzz_ev_t  *r;

    if (ev->len) {
        fuzz_check(ev->data != NULL);
        fuzz_check((buf != NULL && ev->data >= buf
                    && ev->data + ev->len <= buf + size)
                   || (ev->data >= p->ctl
                       && ev->data + ev->len <= p->ctl + sizeof(p->ctl)));
    }

    switch (ev->type) {

    case ROOMS_WS_EV_TEXT:
        fuzz_check(fuzz_utf8_valid(ev->data, ev->len));
        /* fall through */

    case ROOMS_WS_EV_BINARY:
        fuzz_check(ev->len <= size);
        fuzz_check(ev->code == 0);
        break;

    case ROOMS_WS_EV_PING:
    case ROOMS_WS_EV_PONG:
        fuzz_check(ev->len <= ROOMS_WS_CONTROL_MAX);
        break;

    case ROOMS_WS_EV_CLOSE:
        fuzz_check(ev->len <= ROOMS_WS_CONTROL_MAX - 2);
        fuzz_check(ev->code == ROOMS_WS_CLOSE_NO_STATUS
                   || rooms_ws_close_code_valid(ev->code));
        fuzz_check(ev->code != ROOMS_WS_CLOSE_NO_STATUS || ev->len == 0);
        fuzz_check(fuzz_utf8_valid(ev->data, ev->len));
        break;

    case ROOMS_WS_EV_ERROR:
        fuzz_check(ev->code == 1002 || ev->code == 1007 || ev->code == 1009);
        fuzz_check(ev->error != NULL);
        break;

    default:
        fuzz_check(0);
    }

    if (log->n < FUZZ_MAXEV) {
        r = &log->ev[log->n];
        r->type = ev->type;
        r->code = ev->code;
        r->len = ev->len;
        r->hash = fuzz_hash(ev->data, ev->len);
    }

    log->n++;
}


/*
 * Feeds s[0..len) in chunks: all at once when sizes is NULL, otherwise
 * chunk i is 1 + sizes[i % nsizes] % 97 bytes (sizes cycles).
 */
static void
fuzz_run(fuzz_log_t *log, const unsigned char *s, size_t len, size_t size,
    const unsigned char *sizes, size_t nsizes)
{
    size_t              off, chunk, c, n, i;
    unsigned char      *buf, *copy;
    rooms_ws_event_t    ev;
    rooms_ws_parser_t   p;

    log->n = 0;
    log->consumed = 0;

    /* exactly size bytes, so a write past the buffer is an ASan report */
    buf = size ? malloc(size) : NULL;
    fuzz_check(size == 0 || buf != NULL);

    rooms_ws_init(&p, buf, size);

    for (off = 0, i = 0; off < len; off += chunk, i++) {
        chunk = sizes ? 1 + (size_t) sizes[i % nsizes] % 97 : len;

        if (chunk > len - off) {
            chunk = len - off;
        }

        copy = malloc(chunk);
        fuzz_check(copy != NULL);
        memcpy(copy, s + off, chunk);

        for (c = 0; c < chunk; c += n) {
            n = rooms_ws_feed(&p, copy + c, chunk - c, &ev);

            fuzz_check(n <= chunk - c);
            log->consumed += n;

            if (ev.type == ROOMS_WS_EV_NONE) {
                fuzz_check(n == chunk - c);
                continue;
            }

            fuzz_record(log, &ev, &p, buf, size);

            if (ev.type == ROOMS_WS_EV_ERROR) {
                /* final: nothing more is consumed, the same error again */
                n = rooms_ws_feed(&p, copy + c, chunk - c, &ev);
                fuzz_check(n == 0 && ev.type == ROOMS_WS_EV_ERROR);
                free(copy);
                goto done;
            }

            fuzz_check(n > 0);
        }

        free(copy);
    }

done:

    free(buf);
}


/*
 * Turns specifications into client frames: per frame, a first byte, a
 * length byte (bit 7 clear: masked; its low 7 bits as on the wire, with 2
 * or 8 raw extended-length bytes taken from the input for 126 and 127),
 * then up to that many payload bytes (fewer when the input runs out),
 * masked with a key derived from the frame's position.
 */
static size_t
fuzz_build(unsigned char *out, const unsigned char *in, size_t n)
{
    size_t    i, o, k, ext;
    uint64_t  len;
    unsigned  b1;
    unsigned char  key[4];

    i = 0;
    o = 0;

    while (i + 2 <= n) {
        out[o++] = in[i++];
        b1 = in[i++];

        out[o++] = (unsigned char) ((b1 & 0x80 ? 0 : 0x80) | (b1 & 0x7f));

        ext = (b1 & 0x7f) == 126 ? 2 : (b1 & 0x7f) == 127 ? 8 : 0;
        len = b1 & 0x7f;

        if (ext) {
            if (n - i < ext) {
                break;
            }

            len = 0;

            for (k = 0; k < ext; k++) {
                len = len << 8 | in[i];
                out[o++] = in[i++];
            }
        }

        key[0] = (unsigned char) (0x5a ^ o);
        key[1] = (unsigned char) (0xc3 + o);
        key[2] = (unsigned char) (o >> 3);
        key[3] = 0x96;

        if (!(b1 & 0x80)) {
            memcpy(out + o, key, 4);
            o += 4;
        }

        for (k = 0; k < len && i < n; k++) {
            out[o++] = (b1 & 0x80) ? in[i++] : in[i++] ^ key[k % 4];
        }
    }

    return o;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t          i, len, cap, nsizes;
    unsigned char  *built;
    const uint8_t  *s, *sizes;

    static const size_t  caps[4] = { ROOMS_WS_MESSAGE_MAX, 200, 1, 0 };

    if (size < 1) {
        return 0;
    }

    cap = caps[data[0] & 3];

    /* the chunk sizes come from the input's last bytes, read backwards */
    nsizes = (data[0] >> 4) + 1;
    if (nsizes > size - 1) {
        nsizes = size - 1;
    }

    sizes = data + size - nsizes;
    s = data + 1;
    len = size - 1;

    built = NULL;

    if (data[0] & 4) {
        /* a frame reads 2 or more bytes and adds at most 4 (the key) */
        built = malloc(3 * len + 16);
        fuzz_check(built != NULL);
        len = fuzz_build(built, s, len);
        s = built;
    }

    fuzz_run(&fuzz_a, s, len, cap, NULL, 0);

    if (nsizes) {
        fuzz_run(&fuzz_b, s, len, cap, sizes, nsizes);

    } else {
        fuzz_run(&fuzz_b, s, len, cap, (const unsigned char *) "\x00", 1);
    }

    fuzz_check(fuzz_a.consumed <= len);
    fuzz_check(fuzz_a.consumed == fuzz_b.consumed);
    fuzz_check(fuzz_a.n == fuzz_b.n);

    for (i = 0; i < fuzz_a.n && i < FUZZ_MAXEV; i++) {
        fuzz_check(fuzz_a.ev[i].type == fuzz_b.ev[i].type);
        fuzz_check(fuzz_a.ev[i].code == fuzz_b.ev[i].code);
        fuzz_check(fuzz_a.ev[i].len == fuzz_b.ev[i].len);
        fuzz_check(fuzz_a.ev[i].hash == fuzz_b.ev[i].hash);
    }

    free(built);

    return 0;
}


#ifdef ROOMS_WS_FUZZ_MAIN

int
main(int argc, char **argv)
{
    int             i;
    long            n;
    size_t          j, len;
    uint32_t        x;
    FILE           *f;
    unsigned char   buf[4096];

    if (argc > 1) {
        for (i = 1; i < argc; i++) {
            f = fopen(argv[i], "rb");

            if (f == NULL) {
                perror(argv[i]);
                return 1;
            }

            len = fread(buf, 1, sizeof(buf), f);
            fclose(f);

            LLVMFuzzerTestOneInput(buf, len);
        }

        return 0;
    }

    /* no corpus: pseudo-random inputs, reproducible */
    x = 2463534242u;

    for (n = 0; n < 200000; n++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        len = x % 512;

        for (j = 0; j < len; j++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[j] = (unsigned char) (x >> 11);
        }

        LLVMFuzzerTestOneInput(buf, len);
    }

    printf("fuzz_ws: %ld inputs, no failure\n", n);

    return 0;
}

#endif
