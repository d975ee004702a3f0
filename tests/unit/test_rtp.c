/*
 * test_rtp.c: the RTP core (worker/rtp.*).
 *
 * Covers: a Chromium-like VP8 packet with a one-byte extension block
 * carrying mid (id 4), abs-send-time (id 2) and transport-wide-cc (id 3),
 * the ids of the Chromium 156 offers in the design fixtures; the two-byte
 * form; CSRCs; padding, valid and invalid; malformed extension blocks;
 * the packet cut at every length, each cut copied to a buffer of exactly
 * that size so a read past it is a sanitizer error; in-place rewriting of
 * the header and the extension values; the rtcp-mux demultiplex; VP8
 * payload descriptors with and without the optional fields.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "tap.h"


#define ID_ABS   2
#define ID_TWCC  3
#define ID_MID   4


/* the fixed header: V=2, x, cc, m, pt, seq, ts, ssrc */
static size_t
put_header(uint8_t *b, unsigned x, unsigned cc, unsigned m, unsigned pt,
    uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    b[0] = (uint8_t) (0x80 | (x << 4) | cc);
    b[1] = (uint8_t) ((m << 7) | pt);
    b[2] = (uint8_t) (seq >> 8);
    b[3] = (uint8_t) seq;
    b[4] = (uint8_t) (ts >> 24);
    b[5] = (uint8_t) (ts >> 16);
    b[6] = (uint8_t) (ts >> 8);
    b[7] = (uint8_t) ts;
    b[8] = (uint8_t) (ssrc >> 24);
    b[9] = (uint8_t) (ssrc >> 16);
    b[10] = (uint8_t) (ssrc >> 8);
    b[11] = (uint8_t) ssrc;

    return 12;
}


/*
 * What Chromium sends for the first packet of a VP8 keyframe: one-byte
 * extensions mid "0", abs-send-time, transport-cc, padded to a word; then
 * the VP8 descriptor X S PID=0, I L T with a 15-bit picture id, and the
 * start of a keyframe (P=0, then the 9d 01 2a start code).
 */
static size_t
make_chromium_vp8(uint8_t *b)
{
    size_t  n, i;

    n = put_header(b, 1, 0, 1, 96, 0x1234, 0xdeadbeef, 0x11223344);

    b[n++] = 0xbe;
    b[n++] = 0xde;
    b[n++] = 0;
    b[n++] = 3;                          /* 12 bytes of elements */

    b[n++] = (ID_MID << 4) | 0;          /* 1 byte */
    b[n++] = '0';
    b[n++] = (ID_ABS << 4) | 2;          /* 3 bytes */
    b[n++] = 0x12;
    b[n++] = 0x34;
    b[n++] = 0x56;
    b[n++] = (ID_TWCC << 4) | 1;         /* 2 bytes */
    b[n++] = 0x01;
    b[n++] = 0x02;
    b[n++] = 0;                          /* padding to the word */
    b[n++] = 0;
    b[n++] = 0;

    b[n++] = 0x90;                       /* X, S, PID 0 */
    b[n++] = 0xe0;                       /* I L T */
    b[n++] = 0x80 | 0x12;                /* M: 15-bit picture id 0x1234 */
    b[n++] = 0x34;
    b[n++] = 0x56;                       /* TL0PICIDX */
    b[n++] = 0x40 | 0x20;                /* TID 1, Y */

    b[n++] = 0x10;                       /* VP8 header: show_frame, P=0 */
    b[n++] = 0x02;
    b[n++] = 0x00;
    b[n++] = 0x9d;
    b[n++] = 0x01;
    b[n++] = 0x2a;

    for (i = 0; i < 80; i++) {
        b[n++] = (uint8_t) (i * 3);
    }

    return n;
}


static void
test_chromium_packet(void)
{
    size_t          n, len;
    uint8_t         b[256];
    uint16_t        twcc;
    rooms_rtp_t     p;
    const uint8_t  *v;

    n = make_chromium_vp8(b);

    is_int(rooms_rtp_parse(b, n, &p), 0, "Chromium VP8 packet parses");
    is_int(p.pt, 96, "payload type");
    is_int(p.marker, 1, "marker");
    is_int(p.seq, 0x1234, "sequence number");
    ok(p.ts == 0xdeadbeef, "timestamp");
    ok(p.ssrc == 0x11223344, "ssrc");
    is_int(p.extension, 1, "X");
    is_int(p.csrc_count, 0, "no CSRCs");
    is_int(p.padding, 0, "no padding");
    is_int(p.ext_profile, 0xbede, "one-byte extension profile");
    is_int((int) p.ext_len, 12, "extension data length");
    is_int((int) p.header_len, 28, "header length");
    is_int((int) p.payload_off, 28, "payload offset");
    is_int((int) p.payload_len, (int) n - 28, "payload length");

    ok(rooms_rtp_ext_find(&p, ID_MID, &v, &len) == 0 && len == 1
       && v[0] == '0', "mid (id 4) is \"0\"");
    ok(rooms_rtp_ext_find(&p, ID_ABS, &v, &len) == 0 && len == 3
       && v[0] == 0x12 && v[1] == 0x34 && v[2] == 0x56,
       "abs-send-time (id 2) is 0x123456");
    ok(rooms_rtp_ext_find(&p, ID_TWCC, &v, &len) == 0 && len == 2
       && v[0] == 0x01 && v[1] == 0x02, "transport-cc (id 3) found");
    ok(rooms_rtp_get_twcc_seq(&p, ID_TWCC, &twcc) == 0 && twcc == 0x0102,
       "transport-cc seq is 258");
    ok(rooms_rtp_ext_find(&p, 5, &v, &len) == -1, "absent id 5: not found");
    ok(rooms_rtp_ext_find(&p, 0, &v, &len) == -1, "id 0 is never found");
    ok(rooms_rtp_get_twcc_seq(&p, ID_MID, &twcc) == -1,
       "a 1-byte element is not read as transport-cc");
}


static void
test_two_byte(void)
{
    size_t          n, len;
    uint8_t         b[128];
    rooms_rtp_t     p;
    const uint8_t  *v;

    n = put_header(b, 1, 0, 0, 111, 7, 960, 0xabcdef01);

    b[n++] = 0x10;                       /* 0x100, app bits 0 */
    b[n++] = 0x00;
    b[n++] = 0;
    b[n++] = 4;                          /* 16 bytes */

    b[n++] = ID_MID;                     /* empty value: legal here */
    b[n++] = 0;
    b[n++] = 0;                          /* padding between elements */
    b[n++] = ID_ABS;
    b[n++] = 3;
    b[n++] = 0xaa;
    b[n++] = 0xbb;
    b[n++] = 0xcc;
    b[n++] = 200;                        /* an id only this form can carry */
    b[n++] = 5;
    memcpy(b + n, "hello", 5);
    n += 5;
    b[n++] = 0;                          /* padding to 16 bytes */

    b[n++] = 0xfc;                       /* Opus TOC */
    b[n++] = 0xff;

    is_int(rooms_rtp_parse(b, n, &p), 0, "two-byte form parses");
    is_int(p.ext_profile, 0x1000, "two-byte profile");
    is_int((int) p.payload_len, 2, "payload after a 16-byte block");
    ok(rooms_rtp_ext_find(&p, ID_MID, &v, &len) == 0 && len == 0,
       "two-byte: zero-length element");
    ok(rooms_rtp_ext_find(&p, ID_ABS, &v, &len) == 0 && len == 3
       && v[2] == 0xcc, "two-byte: abs-send-time after padding");
    ok(rooms_rtp_ext_find(&p, 200, &v, &len) == 0 && len == 5
       && memcmp(v, "hello", 5) == 0, "two-byte: id 200");
    ok(rooms_rtp_set_abs_send_time(b, &p, ID_ABS, 0x010203) == 0
       && b[n - 2 - 16 + 5] == 0x01 && b[n - 2 - 16 + 7] == 0x03,
       "two-byte: abs-send-time rewritten in place");

    /* the length byte of the last element overruns the block */
    b[12 + 4 + 9] = 7;
    ok(rooms_rtp_parse(b, n, &p) == -1,
       "two-byte: element past its block is refused");

    /* app bits are allowed in the profile word */
    b[12 + 4 + 9] = 5;
    b[13] = 0x0f;
    ok(rooms_rtp_parse(b, n, &p) == 0 && p.ext_profile == 0x100f
       && rooms_rtp_ext_find(&p, 200, &v, &len) == 0,
       "two-byte: 0x100f (app bits set) is the two-byte form");
}


static void
test_csrc_padding(void)
{
    size_t       n, i;
    uint8_t      b[128];
    rooms_rtp_t  p;

    n = put_header(b, 0, 3, 0, 96, 1, 2, 3);

    for (i = 0; i < 12; i++) {
        b[n++] = (uint8_t) (0xc0 + i);
    }

    for (i = 0; i < 10; i++) {
        b[n++] = 0x55;
    }

    is_int(rooms_rtp_parse(b, n, &p), 0, "3 CSRCs parse");
    is_int(p.csrc_count, 3, "CC 3");
    is_int((int) p.header_len, 24, "CSRCs are in the header");
    is_int((int) p.payload_len, 10, "payload after the CSRCs");
    ok(rooms_rtp_parse(b, 23, &p) == -1, "CSRC list cut short: refused");

    /* padding: 10 bytes of payload, the last 4 of them padding */
    b[0] |= 0x20;
    b[n - 1] = 4;
    ok(rooms_rtp_parse(b, n, &p) == 0 && p.pad_len == 4
       && p.payload_len == 6, "padding of 4 leaves 6 payload bytes");

    b[n - 1] = 10;
    ok(rooms_rtp_parse(b, n, &p) == 0 && p.payload_len == 0,
       "padding may take the whole payload (a probe)");

    b[n - 1] = 11;
    ok(rooms_rtp_parse(b, n, &p) == -1, "padding into the header: refused");

    b[n - 1] = 0;
    ok(rooms_rtp_parse(b, n, &p) == -1, "padding count 0: refused");

    ok(rooms_rtp_parse(b, 24, &p) == -1,
       "P set with no byte after the header: refused");
}


static void
test_malformed(void)
{
    size_t          n;
    uint8_t         b[256];
    rooms_rtp_t     p;
    const uint8_t  *v;
    size_t          len;

    n = make_chromium_vp8(b);

    b[0] = (uint8_t) ((b[0] & 0x3f) | 0x40);
    ok(rooms_rtp_parse(b, n, &p) == -1, "version 1: refused");
    b[0] = (uint8_t) ((b[0] & 0x3f) | 0x80);

    /* extension length word beyond the packet */
    b[15] = 200;
    ok(rooms_rtp_parse(b, n, &p) == -1, "extension block past the end");
    b[15] = 3;

    /* the abs-send-time element claims 16 bytes: past its block */
    b[18] = (ID_ABS << 4) | 15;
    ok(rooms_rtp_parse(b, n, &p) == -1,
       "one-byte element past its block is refused");
    b[18] = (ID_ABS << 4) | 2;

    /* id 15 ends processing: what follows it is not looked at */
    b[18] = 0xf0;
    ok(rooms_rtp_parse(b, n, &p) == 0
       && rooms_rtp_ext_find(&p, ID_MID, &v, &len) == 0
       && rooms_rtp_ext_find(&p, ID_TWCC, &v, &len) == -1,
       "id 15 stops the walk (elements before it still found)");
    b[18] = (ID_ABS << 4) | 2;

    /* an unknown profile: the block is skipped, nothing is found */
    b[12] = 0x12;
    ok(rooms_rtp_parse(b, n, &p) == 0 && p.header_len == 28
       && rooms_rtp_ext_find(&p, ID_MID, &v, &len) == -1,
       "an unknown extension profile is opaque");
    b[12] = 0xbe;

    ok(rooms_rtp_parse(b, 11, &p) == -1, "11 bytes: refused");
}


/* every cut of the packet, in a buffer of exactly that size */
static void
test_truncated(void)
{
    int             bad_short, bad_long, bad_ext;
    size_t          n, cut, len;
    uint8_t         b[256], *copy;
    rooms_rtp_t     p;
    rooms_vp8_t     vp8;
    const uint8_t  *v;

    n = make_chromium_vp8(b);
    bad_short = 0;
    bad_long = 0;
    bad_ext = 0;

    for (cut = 0; cut < n; cut++) {
        copy = malloc(cut ? cut : 1);
        memcpy(copy, b, cut);

        if (cut < 28) {
            /* the header does not fit */
            if (rooms_rtp_parse(copy, cut, &p) != -1) {
                bad_short++;
            }

        } else {
            /* a shorter payload is still an RTP packet */
            if (rooms_rtp_parse(copy, cut, &p) != 0
                || p.payload_off + p.payload_len != cut)
            {
                bad_long++;

            } else {
                if (rooms_rtp_ext_find(&p, ID_TWCC, &v, &len) != 0) {
                    bad_ext++;
                }

                rooms_rtp_vp8_parse(copy + p.payload_off, p.payload_len,
                                    &vp8);
            }
        }

        free(copy);
    }

    is_int(bad_short, 0, "every cut inside the header is refused");
    is_int(bad_long, 0, "every cut in the payload parses within its bytes");
    is_int(bad_ext, 0, "extensions are found in every such cut");
}


static void
test_rewrite(void)
{
    size_t          n, len;
    uint8_t         b[256], orig[256];
    uint16_t        twcc;
    rooms_rtp_t     p, q;
    const uint8_t  *v;

    n = make_chromium_vp8(b);
    memcpy(orig, b, n);
    rooms_rtp_parse(b, n, &p);

    rooms_rtp_set_ssrc(b, 0xcafef00d);
    rooms_rtp_set_seq(b, 65535);
    rooms_rtp_set_ts(b, 0xfffffff0);
    rooms_rtp_set_pt(b, 100);
    ok(rooms_rtp_set_abs_send_time(b, &p, ID_ABS, 0xff654321) == 0,
       "abs-send-time set");
    ok(rooms_rtp_set_twcc_seq(b, &p, ID_TWCC, 0xbeef) == 0,
       "transport-cc seq set");
    ok(rooms_rtp_set_twcc_seq(b, &p, 9, 1) == -1,
       "an absent extension is not set");
    ok(rooms_rtp_set_abs_send_time(b, &p, ID_TWCC, 1) == -1,
       "abs-send-time refuses a 2-byte element");

    is_int(rooms_rtp_parse(b, n, &q), 0, "rewritten packet parses");
    ok(q.ssrc == 0xcafef00d, "new ssrc");
    is_int(q.seq, 65535, "new seq");
    ok(q.ts == 0xfffffff0, "new ts");
    is_int(q.pt, 100, "new payload type");
    is_int(q.marker, 1, "the marker survives a payload type change");
    ok(rooms_rtp_ext_find(&q, ID_ABS, &v, &len) == 0 && v[0] == 0x65
       && v[1] == 0x43 && v[2] == 0x21, "abs-send-time keeps 24 bits");
    ok(rooms_rtp_get_twcc_seq(&q, ID_TWCC, &twcc) == 0 && twcc == 0xbeef,
       "new transport-cc seq");
    ok(rooms_rtp_ext_find(&q, ID_MID, &v, &len) == 0 && v[0] == '0',
       "mid untouched");
    ok(memcmp(b + 28, orig + 28, n - 28) == 0, "payload untouched");
    is_int((int) q.header_len, (int) p.header_len, "lengths unchanged");
}


static void
test_demux(void)
{
    uint8_t  b[12];

    memset(b, 0, sizeof(b));
    b[0] = 0x81;

    b[1] = 201;
    ok(rooms_rtp_is_rtcp(b, 8), "RR is RTCP");
    b[1] = 200;
    ok(rooms_rtp_is_rtcp(b, 8), "SR is RTCP");
    b[1] = 206;
    ok(rooms_rtp_is_rtcp(b, 8), "PSFB is RTCP");
    b[1] = 192;
    ok(rooms_rtp_is_rtcp(b, 8), "192 is RTCP");
    b[1] = 223;
    ok(rooms_rtp_is_rtcp(b, 8), "223 is RTCP");
    b[1] = 96;
    ok(!rooms_rtp_is_rtcp(b, 12), "PT 96 is RTP");
    b[1] = 0x80 | 111;
    ok(!rooms_rtp_is_rtcp(b, 12), "PT 111 with marker (239) is RTP");
    b[1] = 0x80 | 96;
    ok(!rooms_rtp_is_rtcp(b, 12), "PT 96 with marker (224) is RTP");
    b[1] = 201;
    b[0] = 0x41;
    ok(!rooms_rtp_is_rtcp(b, 8), "V=1 is not RTCP");
    b[0] = 0x81;
    ok(!rooms_rtp_is_rtcp(b, 1), "one byte is not RTCP");
}


static void
test_vp8(void)
{
    int          bad;
    size_t       n, cut;
    uint8_t      b[256], d[16], *copy;
    rooms_rtp_t  p;
    rooms_vp8_t  v;

    n = make_chromium_vp8(b);
    rooms_rtp_parse(b, n, &p);

    is_int(rooms_rtp_vp8_parse(b + p.payload_off, p.payload_len, &v), 0,
           "VP8 descriptor parses");
    is_int(v.keyframe, 1, "keyframe detected");
    is_int(v.start, 1, "S");
    is_int(v.partition, 0, "PID 0");
    is_int(v.picture_id, 0x1234, "15-bit picture id");
    is_int(v.picture_id_bits, 15, "picture id width 15");
    is_int(v.tl0picidx, 0x56, "TL0PICIDX");
    is_int(v.tid, 1, "temporal id");
    is_int(v.layer_sync, 1, "Y");
    is_int(v.keyidx, -1, "no KEYIDX without K");
    is_int((int) v.desc_len, 6, "descriptor length");

    /* the same frame as a delta frame: P = 1 */
    b[p.payload_off + 6] |= 0x01;
    rooms_rtp_vp8_parse(b + p.payload_off, p.payload_len, &v);
    is_int(v.keyframe, 0, "P=1: not a keyframe");
    b[p.payload_off + 6] &= 0xfe;

    /* a continuation packet of the keyframe: S = 0 */
    b[p.payload_off] = 0x80;
    rooms_rtp_vp8_parse(b + p.payload_off, p.payload_len, &v);
    is_int(v.keyframe, 0, "S=0: not a keyframe start");

    /* S but partition 1 */
    b[p.payload_off] = 0x91;
    rooms_rtp_vp8_parse(b + p.payload_off, p.payload_len, &v);
    is_int(v.keyframe, 0, "PID 1: not a keyframe start");
    b[p.payload_off] = 0x90;

    /* no X: the VP8 header follows the first byte */
    d[0] = 0x10;
    d[1] = 0x50;
    d[2] = 0x02;
    ok(rooms_rtp_vp8_parse(d, 3, &v) == 0 && v.keyframe
       && v.picture_id == -1 && v.tl0picidx == -1 && v.tid == -1
       && v.desc_len == 1, "no X: keyframe, no optional fields");
    d[1] = 0x51;
    ok(rooms_rtp_vp8_parse(d, 3, &v) == 0 && !v.keyframe,
       "no X: delta frame");

    /* X with a 7-bit picture id and K */
    d[0] = 0xb0;                         /* X N S */
    d[1] = 0x90;                         /* I K */
    d[2] = 0x22;                         /* M=0: 7-bit id 0x22 */
    d[3] = 0x05;                         /* KEYIDX 5 */
    d[4] = 0x00;
    ok(rooms_rtp_vp8_parse(d, 5, &v) == 0 && v.keyframe
       && v.picture_id == 0x22 && v.picture_id_bits == 7 && v.keyidx == 5
       && v.tid == -1 && v.non_ref == 1 && v.desc_len == 4,
       "7-bit picture id, KEYIDX, N");

    /* X with nothing set */
    d[0] = 0x90;
    d[1] = 0x00;
    d[2] = 0x00;
    ok(rooms_rtp_vp8_parse(d, 3, &v) == 0 && v.keyframe && v.desc_len == 2,
       "X with no optional field");

    ok(rooms_rtp_vp8_parse(d, 2, &v) == -1,
       "a descriptor without VP8 data is refused");
    ok(rooms_rtp_vp8_parse(d, 0, &v) == -1, "empty payload is refused");

    /* every cut of the descriptor, in exactly-sized buffers */
    bad = 0;

    for (cut = 0; cut <= 6; cut++) {
        copy = malloc(cut ? cut : 1);
        memcpy(copy, b + p.payload_off, cut);

        if (rooms_rtp_vp8_parse(copy, cut, &v) != -1) {
            bad++;
        }

        free(copy);
    }

    is_int(bad, 0, "every cut inside the descriptor is refused");
}


int
main(void)
{
    test_chromium_packet();
    test_two_byte();
    test_csrc_padding();
    test_malformed();
    test_truncated();
    test_rewrite();
    test_demux();
    test_vp8();

    return done_testing();
}
