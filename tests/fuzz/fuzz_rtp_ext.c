/*
 * fuzz_rtp_ext.c: libFuzzer target for RTP packets with header
 * extensions (RFC 8285) and the VP8 payload descriptor (worker/rtp.*).
 *
 * The first byte of the input chooses how the packet is made:
 *
 *   - mode 0: the rest is the packet, as it came;
 *   - modes 1 and 2: the harness writes a fixed header (V=2, X=1; the
 *     CSRC count, marker and padding from the second byte) and an
 *     extension block of the one-byte (0xBEDE) or two-byte (0x100x) form
 *     whose element bytes are the next n bytes (n is the third byte),
 *     padded with zeros to a multiple of 4; what is left is the payload;
 *   - mode 3: as 1 and 2, with the block's profile word taken from the
 *     input (any other profile is opaque).
 *
 * The packet is a malloc()ed buffer of its exact length, so ASan sees
 * any read or write past it.  Properties, when rooms_rtp_parse()
 * accepts it:
 *
 *   - the lengths add up: header, payload and padding make the packet;
 *     the block lies inside the header;
 *   - rooms_rtp_ext_find() agrees, for every id, with a model walk
 *     written here from RFC 8285 (first element of the id wins; in the
 *     one-byte form id 0 is a padding byte and id 15 ends the block);
 *     what it finds lies inside the block;
 *   - the abs-send-time and transport-wide-cc setters succeed exactly
 *     when the element has their length, change those bytes and no
 *     other, and the getter reads back the value; the fixed-header
 *     setters change only their fields: the packet parses the same;
 *   - rooms_rtp_vp8_parse() of the payload keeps its fields in their
 *     ranges and leaves VP8 data after the descriptor, and a keyframe
 *     starts partition 0.
 *
 * A property failure aborts.
 *
 *     make build/fuzz/fuzz_rtp_ext
 *     build/fuzz/fuzz_rtp_ext -max_total_time=60 tests/fuzz/corpus/fuzz_rtp_ext
 *
 * Without libFuzzer, -DROOMS_FUZZ_MAIN builds a main() that runs the
 * target once over each file named on the command line.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"


static void
check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_rtp_ext: property failed: %s\n", what);
        abort();
    }
}


/*
 * The model: the first element with id in a well-formed block (parse
 * accepted it), as an offset from the packet start and a length.
 * 1 found, 0 not.
 */
static int
model_find(const rooms_rtp_t *r, unsigned want, size_t *off, size_t *len)
{
    size_t          i, end, n;
    unsigned        id;
    const uint8_t  *b;

    b = r->buf;
    i = r->ext_off;
    end = r->ext_off + r->ext_len;

    if (r->ext_profile == 0xBEDE) {
        while (i < end) {
            id = b[i] >> 4;
            n = (b[i] & 0x0f) + 1u;

            if (id == 15) {
                return 0;
            }

            if (id == 0) {
                i += 1;
                continue;
            }

            if (id == want) {
                *off = i + 1;
                *len = n;
                return 1;
            }

            i += 1 + n;
        }

        return 0;
    }

    if ((r->ext_profile >> 4) == 0x100) {
        while (i < end) {
            id = b[i];

            if (id == 0) {
                i += 1;
                continue;
            }

            n = b[i + 1];

            if (id == want) {
                *off = i + 2;
                *len = n;
                return 1;
            }

            i += 2 + n;
        }
    }

    return 0;
}


static void
same_parse(const rooms_rtp_t *a, const rooms_rtp_t *b)
{
    check(a->len == b->len && a->padding == b->padding
          && a->extension == b->extension && a->csrc_count == b->csrc_count
          && a->ext_profile == b->ext_profile && a->ext_off == b->ext_off
          && a->ext_len == b->ext_len && a->header_len == b->header_len
          && a->payload_off == b->payload_off
          && a->payload_len == b->payload_len && a->pad_len == b->pad_len,
          "a rewrite changed the packet's layout");
}


/* the setter of an extension value of n bytes on a copy of buf */
static void
ext_setter(const uint8_t *buf, size_t len, const rooms_rtp_t *r, unsigned id,
    size_t want, uint32_t value)
{
    int              rc, found;
    size_t           off, n, i;
    uint8_t         *copy;
    uint16_t         got;
    rooms_rtp_t      c, c2;

    off = 0;
    n = 0;
    copy = malloc(len);
    check(copy != NULL, "malloc");
    memcpy(copy, buf, len);
    check(rooms_rtp_parse(copy, len, &c) == 0, "a copy parses");

    found = model_find(r, id, &off, &n) && id != 0;

    if (want == ROOMS_RTP_TWCC_LEN) {
        rc = rooms_rtp_set_twcc_seq(copy, &c, id, (uint16_t) value);

    } else {
        rc = rooms_rtp_set_abs_send_time(copy, &c, id, value);
    }

    check((rc == 0) == (found && n == want),
          "a setter succeeds exactly on an element of its length");

    for (i = 0; i < len; i++) {
        if (rc == 0 && i >= off && i < off + want) {
            continue;
        }

        check(copy[i] == buf[i], "a setter changed a byte not its own");
    }

    if (rc == 0) {
        check(rooms_rtp_parse(copy, len, &c2) == 0, "rewritten, it parses");
        same_parse(r, &c2);

        if (want == ROOMS_RTP_TWCC_LEN) {
            check(rooms_rtp_get_twcc_seq(&c2, id, &got) == 0
                  && got == (uint16_t) value, "twcc seq reads back");

        } else {
            check(copy[off] == (uint8_t) (value >> 16)
                  && copy[off + 1] == (uint8_t) (value >> 8)
                  && copy[off + 2] == (uint8_t) value,
                  "abs-send-time: the low 24 bits, big-endian");
        }
    }

    free(copy);
}


static void
header_setters(const uint8_t *buf, size_t len, const rooms_rtp_t *r)
{
    uint8_t      *copy;
    rooms_rtp_t   c;

    copy = malloc(len);
    check(copy != NULL, "malloc");
    memcpy(copy, buf, len);

    rooms_rtp_set_ssrc(copy, r->ssrc ^ 0x5a5a5a5a);
    rooms_rtp_set_seq(copy, (uint16_t) (r->seq + 1));
    rooms_rtp_set_ts(copy, r->ts + 90000);
    rooms_rtp_set_pt(copy, r->pt ^ 0x7f);

    check(rooms_rtp_parse(copy, len, &c) == 0, "rewritten header parses");
    same_parse(r, &c);
    check(c.ssrc == (r->ssrc ^ 0x5a5a5a5a) && c.seq == (uint16_t) (r->seq + 1)
          && c.ts == r->ts + 90000 && c.pt == (r->pt ^ 0x7f)
          && c.marker == r->marker, "the fixed header's fields read back");
    check(memcmp(copy + 12, buf + 12, len - 12) == 0,
          "the fixed header's setters write past it");

    free(copy);
}


static void
vp8(const uint8_t *payload, size_t len)
{
    uint8_t      *copy;
    rooms_vp8_t   v;

    /* its own buffer, so a read past the payload is seen */
    copy = malloc(len ? len : 1);
    check(copy != NULL, "malloc");
    if (len) {
        memcpy(copy, payload, len);
    }

    if (rooms_rtp_vp8_parse(copy, len, &v) == 0) {
#ifdef ROOMS_FUZZ_MAIN
        fprintf(stderr, "vp8: desc %zu, keyframe %u, picture id %d\n",
                v.desc_len, v.keyframe, v.picture_id);
#endif
        check(v.desc_len >= 1 && v.desc_len < len,
              "VP8 data follows the descriptor");
        check(v.partition <= 7 && v.start <= 1 && v.non_ref <= 1,
              "the first byte's fields");
        check(v.picture_id == -1
              ? v.picture_id_bits == 0
              : (v.picture_id_bits == 7 && v.picture_id < 128)
                || (v.picture_id_bits == 15 && v.picture_id < 32768),
              "picture id within its bits");
        check(v.tl0picidx >= -1 && v.tl0picidx <= 255, "tl0picidx");
        check(v.tid >= -1 && v.tid <= 3, "tid");
        check(v.keyidx >= -1 && v.keyidx <= 31, "keyidx");
        check(!v.keyframe || (v.start && v.partition == 0),
              "a keyframe starts partition 0");
        check(!v.keyframe || (copy[v.desc_len] & 1) == 0,
              "a keyframe's P bit is clear");
    }

    free(copy);
}


static void
packet(const uint8_t *buf, size_t len)
{
    int              rc;
    unsigned         id, max_id;
    size_t           off, n;
    const uint8_t   *d;
    rooms_rtp_t      r;

    (void) rooms_rtp_is_rtcp(buf, len);

    if (rooms_rtp_parse(buf, len, &r) != 0) {
#ifdef ROOMS_FUZZ_MAIN
        fprintf(stderr, "%zu bytes: not RTP\n", len);
#endif
        return;
    }

    check(r.buf == buf && r.len == len, "the parse names the packet");
    check(r.header_len == r.payload_off && r.header_len <= len
          && r.payload_off + r.payload_len + r.pad_len == len,
          "header, payload and padding make the packet");
    check(r.header_len >= 12 + 4 * r.csrc_count, "the CSRCs are in");
    check(!r.padding || r.pad_len >= 1, "padding counts its own byte");
    check(r.padding || r.pad_len == 0, "no padding without P");

    if (r.extension) {
        check(r.ext_off == 12 + 4 * r.csrc_count + 4
              && r.ext_off + r.ext_len == r.header_len
              && r.ext_len % 4 == 0, "the block lies in the header");

    } else {
        check(r.ext_profile == 0 && r.ext_len == 0, "no block without X");
    }

    max_id = (r.ext_profile >> 4) == 0x100 ? 255 : 15;

    for (id = 0; id <= max_id; id++) {
        rc = rooms_rtp_ext_find(&r, id, &d, &n);

        if (id == 0 || !r.extension) {
            check(rc == -1, "id 0, or no block: nothing found");
            continue;
        }

        if (model_find(&r, id, &off, &n) == 1) {
#ifdef ROOMS_FUZZ_MAIN
            fprintf(stderr, "%zu bytes, profile %04x: id %u, %zu bytes\n",
                    len, r.ext_profile, id, n);
#endif
            check(rc == 0 && d == buf + off, "found where the model is");
            check(off + n <= r.ext_off + r.ext_len,
                  "an element ends inside its block");

        } else {
            check(rc == -1, "found what the model does not");
        }
    }

    for (id = 0; id <= max_id; id++) {
        ext_setter(buf, len, &r, id, ROOMS_RTP_TWCC_LEN, 0xbeef);
        ext_setter(buf, len, &r, id, ROOMS_RTP_ABS_SEND_TIME_LEN,
                   0x12abcdef);
    }

    header_setters(buf, len, &r);
    vp8(buf + r.payload_off, r.payload_len);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned   mode, flags, cc, pad, i;
    size_t     nel, blk, rest, len, off;
    uint16_t   profile;
    uint8_t   *pkt;

    if (size < 1) {
        return 0;
    }

    mode = data[0] & 3;

    if (mode == 0) {
        pkt = malloc(size - 1 ? size - 1 : 1);
        check(pkt != NULL, "malloc");
        memcpy(pkt, data + 1, size - 1);
        packet(pkt, size - 1);
        free(pkt);
        return 0;
    }

    if (size < 3 + (mode == 3 ? 2 : 0)) {
        return 0;
    }

    flags = data[1];
    nel = data[2];
    off = 3;

    if (mode == 3) {
        profile = (uint16_t) ((data[3] << 8) | data[4]);
        off = 5;

    } else {
        profile = mode == 1 ? ROOMS_RTP_EXT_ONE_BYTE
                            : ROOMS_RTP_EXT_TWO_BYTE | (flags >> 7);
    }

    if (nel > size - off) {
        nel = size - off;
    }

    cc = flags & 0x07;               /* up to 7 CSRCs */
    pad = (flags >> 3) & 0x07;       /* 0..7 bytes of padding */
    blk = (nel + 3) / 4;
    rest = size - off - nel;
    len = 12 + 4 * cc + 4 + 4 * blk + rest + pad;

    pkt = calloc(1, len);
    check(pkt != NULL, "calloc");

    pkt[0] = (uint8_t) (0x90 | (pad ? 0x20 : 0) | cc);
    pkt[1] = (uint8_t) (((flags & 0x40) ? 0x80 : 0) | 96);
    pkt[2] = 0x12;
    pkt[3] = 0x34;
    pkt[11] = 0x01;

    for (i = 0; i < cc; i++) {
        pkt[12 + 4 * i + 3] = (uint8_t) (i + 1);
    }

    i = 12 + 4 * cc;
    pkt[i] = (uint8_t) (profile >> 8);
    pkt[i + 1] = (uint8_t) profile;
    pkt[i + 2] = (uint8_t) (blk >> 8);
    pkt[i + 3] = (uint8_t) blk;
    memcpy(pkt + i + 4, data + off, nel);
    memcpy(pkt + i + 4 + 4 * blk, data + off + nel, rest);

    if (pad) {
        pkt[len - 1] = (uint8_t) pad;
    }

    packet(pkt, len);
    free(pkt);

    return 0;
}


#include "fuzz_main.h"
