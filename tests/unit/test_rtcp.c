/*
 * test_rtcp.c: the RTCP core (worker/rtcp.*).
 *
 * Covers: a compound SR + SDES as a browser sends it; RR report blocks
 * (negative cumulative loss); BYE with a reason; NACK build -> parse for
 * a single loss, 17 consecutive losses (one item, BLP all set), and a
 * sparse set over 100 numbers across the 16-bit wrap; PLI and FIR build ->
 * parse; REMB with exponent and mantissa; transport-cc exposed raw; RR
 * build -> parse with clamping; malformed compounds (length past the
 * buffer, V != 2, empty, leftovers, padding misuse, counts past a body);
 * every cut of a compound in an exactly-sized buffer; media SSRC rewrite
 * of PLI, FIR and NACK in place; transport-cc feedback from
 * rooms_twcc_poll() with 1, 2 and 3 bytes of padding walks, and a padding
 * count past the body is refused.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp.h"
#include "twcc.h"
#include "tap.h"


static size_t
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;

    return 4;
}


static void
put_hdr(uint8_t *p, unsigned count, unsigned pt, size_t len)
{
    p[0] = (uint8_t) (0x80 | count);
    p[1] = (uint8_t) pt;
    p[2] = (uint8_t) ((len / 4 - 1) >> 8);
    p[3] = (uint8_t) (len / 4 - 1);
}


/* SR with one report block, then SDES with one CNAME chunk */
static size_t
make_sr_sdes(uint8_t *b)
{
    size_t  n, sdes;

    n = 0;
    put_hdr(b, 1, ROOMS_RTCP_SR, 52);
    n += 4;
    n += put32(b + n, 0x11111111);           /* sender */
    n += put32(b + n, 0xe8000000);           /* NTP seconds */
    n += put32(b + n, 0x80000000);           /* NTP fraction: .5 */
    n += put32(b + n, 123456);               /* RTP ts */
    n += put32(b + n, 1000);                 /* packets */
    n += put32(b + n, 1200000);              /* octets */
    n += put32(b + n, 0x22222222);           /* block: source */
    b[n++] = 64;                             /* 25% */
    b[n++] = 0;
    b[n++] = 0;
    b[n++] = 7;                              /* 7 lost */
    n += put32(b + n, 0x00015000);           /* one cycle, seq 0x5000 */
    n += put32(b + n, 33);
    n += put32(b + n, 0x12345678);
    n += put32(b + n, 0x00010000);           /* 1 s */

    /* SDES: ssrc, CNAME(1) len 16, text, end, padding to a word */
    sdes = n;
    n += 4;
    n += put32(b + n, 0x11111111);
    b[n++] = 1;
    b[n++] = 16;
    memcpy(b + n, "abcdefghijklmnop", 16);
    n += 16;
    b[n++] = 0;
    b[n++] = 0;
    put_hdr(b + sdes, 1, ROOMS_RTCP_SDES, n - sdes);

    return n;
}


static void
test_sr_sdes(void)
{
    size_t               n, off;
    uint8_t              b[256];
    rooms_rtcp_hdr_t     h;
    rooms_rtcp_report_t  r;

    n = make_sr_sdes(b);
    off = 0;

    is_int(rooms_rtcp_check(b, n), 2, "SR + SDES: 2 packets");
    is_int(rooms_rtcp_next(b, n, &off, &h), ROOMS_RTCP_OK, "first packet");
    is_int(h.pt, ROOMS_RTCP_SR, "it is an SR");
    is_int((int) h.len, 52, "SR length");
    is_int(rooms_rtcp_report_parse(&h, &r), 0, "SR parses");
    ok(r.ssrc == 0x11111111, "SR sender ssrc");
    ok(r.ntp_sec == 0xe8000000 && r.ntp_frac == 0x80000000, "NTP time");
    is_int(r.rtp_ts, 123456, "RTP timestamp");
    is_int(r.packet_count, 1000, "packet count");
    is_int(r.octet_count, 1200000, "octet count");
    is_int(r.report_count, 1, "one report block");
    ok(r.reports[0].ssrc == 0x22222222, "block source");
    is_int(r.reports[0].fraction_lost, 64, "fraction lost");
    is_int(r.reports[0].cumulative_lost, 7, "cumulative lost");
    ok(r.reports[0].highest_seq == 0x15000, "extended highest seq");
    is_int(r.reports[0].jitter, 33, "jitter");
    ok(r.reports[0].lsr == 0x12345678, "LSR");
    ok(r.reports[0].dlsr == 0x10000, "DLSR");

    is_int(rooms_rtcp_next(b, n, &off, &h), ROOMS_RTCP_OK, "second packet");
    is_int(h.pt, ROOMS_RTCP_SDES, "it is an SDES");
    is_int((int) h.off, 52, "SDES offset");
    is_int(rooms_rtcp_next(b, n, &off, &h), ROOMS_RTCP_END, "then the end");
    ok(rooms_rtcp_report_parse(&h, &r) == -1, "SDES is not a report");
}


static void
test_rr_bye(void)
{
    size_t               n;
    uint8_t              b[128];
    rooms_rtcp_hdr_t     h;
    rooms_rtcp_report_t  r;
    rooms_rtcp_bye_t     bye;
    rooms_rtcp_rb_t      rb;
    size_t               off;

    memset(&rb, 0, sizeof(rb));
    rb.ssrc = 0xabcdef00;
    rb.fraction_lost = 3;
    rb.cumulative_lost = -5;                  /* duplicates outnumber loss */
    rb.highest_seq = 0x2ffff;
    rb.jitter = 90;
    rb.lsr = 0xaabbccdd;
    rb.dlsr = 0x8000;

    n = rooms_rtcp_build_rr(b, sizeof(b), 0x01020304, &rb);
    is_int((int) n, ROOMS_RTCP_RR_LEN, "RR is 32 bytes");
    off = 0;
    rooms_rtcp_next(b, n, &off, &h);
    ok(h.pt == ROOMS_RTCP_RR && h.count == 1
       && rooms_rtcp_report_parse(&h, &r) == 0, "built RR parses");
    ok(r.ssrc == 0x01020304 && r.reports[0].ssrc == 0xabcdef00
       && r.reports[0].fraction_lost == 3
       && r.reports[0].cumulative_lost == -5
       && r.reports[0].highest_seq == 0x2ffff && r.reports[0].jitter == 90
       && r.reports[0].lsr == 0xaabbccdd && r.reports[0].dlsr == 0x8000,
       "RR round trip, negative cumulative loss included");

    rb.cumulative_lost = 20000000;
    rooms_rtcp_build_rr(b, sizeof(b), 1, &rb);
    off = 0;
    rooms_rtcp_next(b, n, &off, &h);
    rooms_rtcp_report_parse(&h, &r);
    is_int(r.reports[0].cumulative_lost, 0x7fffff,
           "cumulative loss clamps to 24 bits");
    ok(rooms_rtcp_build_rr(b, 31, 1, &rb) == 0, "RR needs 32 bytes");

    /* BYE: two SSRCs and a reason */
    put32(b + 4, 0x0a0a0a0a);
    put32(b + 8, 0x0b0b0b0b);
    b[12] = 5;
    memcpy(b + 13, "gone!", 5);
    b[18] = 0;
    b[19] = 0;
    put_hdr(b, 2, ROOMS_RTCP_BYE, 20);
    off = 0;
    is_int(rooms_rtcp_check(b, 20), 1, "BYE is a valid compound");
    rooms_rtcp_next(b, 20, &off, &h);
    ok(rooms_rtcp_bye_parse(&h, &bye) == 0 && bye.count == 2
       && bye.ssrcs[0] == 0x0a0a0a0a && bye.ssrcs[1] == 0x0b0b0b0b
       && bye.reason_len == 5 && memcmp(bye.reason, "gone!", 5) == 0,
       "BYE: SSRCs and reason");

    b[12] = 8;
    ok(rooms_rtcp_check(b, 20) == -1, "BYE reason past its body");
}


/* builds a NACK for lost[], parses it back, compares */
static void
nack_round_trip(const uint16_t *lost, size_t n, int items, const char *name)
{
    int               got;
    size_t            len, off;
    uint8_t           b[1500];
    uint16_t          back[2048];
    rooms_rtcp_fb_t   fb;
    rooms_rtcp_hdr_t  h;

    len = rooms_rtcp_build_nack(b, sizeof(b), 0x5555, 0x7777, lost, n);
    is_int((int) len, ROOMS_RTCP_NACK_LEN(items), "%s: %d item(s)", name,
           items);
    is_int(rooms_rtcp_check(b, len), 1, "%s: the packet is valid", name);

    off = 0;
    rooms_rtcp_next(b, len, &off, &h);
    ok(h.pt == ROOMS_RTCP_RTPFB && h.count == ROOMS_RTCP_FMT_NACK
       && rooms_rtcp_fb_parse(&h, &fb) == 0 && fb.sender_ssrc == 0x5555
       && fb.media_ssrc == 0x7777, "%s: RTPFB NACK with both SSRCs", name);
    is_int(rooms_rtcp_nack_count(&fb), items, "%s: item count", name);

    got = rooms_rtcp_nack_expand(&fb, back, 2048);
    ok(got == (int) n && memcmp(back, lost, n * sizeof(uint16_t)) == 0,
       "%s: the lost set comes back (%d of %zu)", name, got, n);
}


static void
test_nack(void)
{
    size_t            i, n;
    uint8_t           b[128];
    uint16_t          lost[128], pid, blp, back[8];
    rooms_rtcp_fb_t   fb;
    rooms_rtcp_hdr_t  h;
    size_t            off, len;

    lost[0] = 4242;
    nack_round_trip(lost, 1, 1, "single");

    for (i = 0; i < 17; i++) {
        lost[i] = (uint16_t) (1000 + i);
    }

    nack_round_trip(lost, 17, 1, "17 consecutive");

    len = rooms_rtcp_build_nack(b, sizeof(b), 1, 2, lost, 17);
    off = 0;
    rooms_rtcp_next(b, len, &off, &h);
    rooms_rtcp_fb_parse(&h, &fb);
    rooms_rtcp_nack_item(&fb, 0, &pid, &blp);
    ok(pid == 1000 && blp == 0xffff, "17 consecutive: PID 1000, BLP ffff");

    /* 18 consecutive need a second item */
    lost[17] = 1017;
    nack_round_trip(lost, 18, 2, "18 consecutive");

    /* sparse: 100 numbers from 65500 across the wrap, every 3rd and 7th */
    n = 0;

    for (i = 0; i < 100; i++) {
        if (i % 3 == 0 || i % 7 == 0) {
            lost[n++] = (uint16_t) (65500 + i);
        }
    }

    nack_round_trip(lost, n, 6, "sparse over 100 across the wrap");

    /* far apart: one item each */
    lost[0] = 10;
    lost[1] = 30;
    lost[2] = 50;
    nack_round_trip(lost, 3, 3, "three far apart");

    /* duplicates fold */
    lost[0] = 5;
    lost[1] = 5;
    lost[2] = 6;
    len = rooms_rtcp_build_nack(b, sizeof(b), 1, 2, lost, 3);
    off = 0;
    rooms_rtcp_next(b, len, &off, &h);
    rooms_rtcp_fb_parse(&h, &fb);
    ok(len == ROOMS_RTCP_NACK_LEN(1)
       && rooms_rtcp_nack_expand(&fb, back, 8) == 2 && back[0] == 5
       && back[1] == 6, "a repeated number folds into its item");

    is_int((int) rooms_rtcp_build_nack(b, sizeof(b), 1, 2, lost, 0), 0,
           "no lost numbers: nothing built");

    for (i = 0; i < 20; i++) {
        lost[i] = (uint16_t) (i * 100);
    }

    is_int((int) rooms_rtcp_build_nack(b, ROOMS_RTCP_NACK_LEN(19), 1, 2,
                                       lost, 20),
           0, "20 items do not fit the room of 19");
    is_int((int) rooms_rtcp_build_nack(b, ROOMS_RTCP_NACK_LEN(20) + 4, 1,
                                       2, lost, 20),
           ROOMS_RTCP_NACK_LEN(20), "20 items fit the room of 20");
}


static void
test_pli_fir(void)
{
    int                     count;
    size_t                  len, off;
    uint8_t                 b[64];
    rooms_rtcp_fb_t         fb;
    rooms_rtcp_hdr_t        h;
    rooms_rtcp_fir_entry_t  e[2];

    len = rooms_rtcp_build_pli(b, sizeof(b), 0xaaaa, 0xbbbb);
    is_int((int) len, ROOMS_RTCP_PLI_LEN, "PLI is 12 bytes");
    is_int(rooms_rtcp_check(b, len), 1, "PLI is valid");
    off = 0;
    rooms_rtcp_next(b, len, &off, &h);
    ok(rooms_rtcp_fb_parse(&h, &fb) == 0 && rooms_rtcp_is_pli(&fb)
       && fb.sender_ssrc == 0xaaaa && fb.media_ssrc == 0xbbbb,
       "PLI round trip");
    ok(rooms_rtcp_build_pli(b, 11, 1, 2) == 0, "PLI needs 12 bytes");

    len = rooms_rtcp_build_fir(b, sizeof(b), 0xaaaa, 0xcccc, 200);
    is_int((int) len, ROOMS_RTCP_FIR_LEN, "FIR is 20 bytes");
    is_int(rooms_rtcp_check(b, len), 1, "FIR is valid");
    off = 0;
    rooms_rtcp_next(b, len, &off, &h);
    rooms_rtcp_fb_parse(&h, &fb);
    ok(fb.pt == ROOMS_RTCP_PSFB && fb.fmt == ROOMS_RTCP_FMT_FIR
       && fb.sender_ssrc == 0xaaaa && fb.media_ssrc == 0,
       "FIR: PSFB fmt 4, header media SSRC 0");
    count = rooms_rtcp_fir_parse(&fb, e, 2);
    ok(count == 1 && e[0].ssrc == 0xcccc && e[0].seq_nr == 200,
       "FIR entry: ssrc and the caller's seq nr");
    ok(!rooms_rtcp_is_pli(&fb), "a FIR is not a PLI");
    ok(rooms_rtcp_build_fir(b, 19, 1, 2, 3) == 0, "FIR needs 20 bytes");
}


static void
test_remb_twcc(void)
{
    size_t             n, off;
    uint8_t            b[64];
    rooms_rtcp_fb_t    fb;
    rooms_rtcp_hdr_t   h;
    rooms_rtcp_remb_t  r;

    /* 1,500,000 bps = 187500 << 3, for two SSRCs */
    n = 4;
    n += put32(b + n, 0x1234);
    n += put32(b + n, 0);
    memcpy(b + n, "REMB", 4);
    n += 4;
    b[n++] = 2;
    b[n++] = (uint8_t) ((3 << 2) | (187500 >> 16));
    b[n++] = (uint8_t) (187500 >> 8);
    b[n++] = (uint8_t) 187500;
    n += put32(b + n, 0xa1);
    n += put32(b + n, 0xa2);
    put_hdr(b, ROOMS_RTCP_FMT_REMB, ROOMS_RTCP_PSFB, n);

    is_int(rooms_rtcp_check(b, n), 1, "REMB is valid");
    off = 0;
    rooms_rtcp_next(b, n, &off, &h);
    rooms_rtcp_fb_parse(&h, &fb);
    is_int(rooms_rtcp_remb_parse(&fb, &r), 0, "REMB parses");
    is_int(r.exp, 3, "REMB exponent");
    is_int(r.mantissa, 187500, "REMB mantissa");
    ok(r.bitrate == 1500000, "REMB bitrate 1.5 Mbps (%llu)",
       (unsigned long long) r.bitrate);
    ok(r.ssrc_count == 2 && r.ssrcs[0] == 0xa1 && r.ssrcs[1] == 0xa2,
       "REMB SSRCs");

    b[16] = 3;
    ok(rooms_rtcp_remb_parse(&fb, &r) == -1 && rooms_rtcp_check(b, n) == -1,
       "REMB with more SSRCs than bytes is refused");
    b[16] = 2;

    b[17] = (uint8_t) (63 << 2 | 3);
    ok(rooms_rtcp_remb_parse(&fb, &r) == 0 && r.bitrate == UINT64_MAX,
       "a REMB past 64 bits saturates");

    b[12] = 'X';
    ok(rooms_rtcp_remb_parse(&fb, &r) == -1 && rooms_rtcp_check(b, n) == 1,
       "other application feedback is not REMB and is left alone");

    /* transport-cc: media SSRC and the raw FCI */
    n = 4;
    n += put32(b + n, 0x1111);
    n += put32(b + n, 0x2222);
    n += put32(b + n, 0x00050003);           /* base seq 5, 3 packets */
    n += put32(b + n, 0x00000a01);           /* ref time, fb count */
    n += put32(b + n, 0x20030000);           /* a chunk, deltas... */
    put_hdr(b, ROOMS_RTCP_FMT_TWCC, ROOMS_RTCP_RTPFB, n);
    off = 0;
    ok(rooms_rtcp_next(b, n, &off, &h) == ROOMS_RTCP_OK
       && rooms_rtcp_fb_parse(&h, &fb) == 0
       && fb.fmt == ROOMS_RTCP_FMT_TWCC && fb.media_ssrc == 0x2222
       && fb.fci_len == 12 && fb.fci == b + 12,
       "transport-cc: media SSRC and raw FCI");
}


static void
test_malformed(void)
{
    size_t            n, off;
    uint8_t           b[256];
    rooms_rtcp_hdr_t  h;

    memset(b, 0, sizeof(b));
    n = make_sr_sdes(b);

    ok(rooms_rtcp_check(b, 0) == -1, "an empty buffer is not a compound");
    off = 0;
    ok(rooms_rtcp_next(b, 0, &off, &h) == ROOMS_RTCP_ERROR,
       "next on an empty buffer: error");
    ok(rooms_rtcp_check(b, 3) == -1, "3 bytes: no header");
    ok(rooms_rtcp_check(b, n + 2) == -1, "2 bytes left over: error");

    b[3] = 13;                                /* 56 bytes claimed of 52 */
    ok(rooms_rtcp_check(b, 52) == -1, "length beyond the buffer");
    b[3] = 12;

    b[0] = 0x41;
    ok(rooms_rtcp_check(b, n) == -1, "V=1 first packet");
    b[0] = 0x81;
    b[52] = 0xc1;
    ok(rooms_rtcp_check(b, n) == -1, "V=3 second packet");
    b[52] = 0x81;

    /* padding on the SR, which is not the last packet */
    b[0] = 0xa1;
    ok(rooms_rtcp_check(b, n) == -1, "padding on a packet not the last");
    b[0] = 0x81;

    /* padding on the SDES: last byte is the count */
    b[52] |= 0x20;
    b[n - 1] = 0;
    ok(rooms_rtcp_check(b, n) == -1, "padding count 0");
    b[n - 1] = 3;
    ok(rooms_rtcp_check(b, n) == 2,
       "padding count 3 (not a multiple of 4) is what RFC 3550 allows");
    b[n - 1] = (uint8_t) (n - 52 - 4);
    ok(rooms_rtcp_check(b, n) == 2, "padding of the whole body");
    b[n - 1] = (uint8_t) (n - 52 - 4 + 1);
    ok(rooms_rtcp_check(b, n) == -1, "padding one byte past the body");
    b[n - 1] = 40;
    ok(rooms_rtcp_check(b, n) == -1, "padding past the body");
    b[n - 1] = 4;
    ok(rooms_rtcp_check(b, n) == 2, "padding of 4 on the last packet");
    b[52] &= ~0x20;
    b[n - 1] = 0;

    /* report count claims 2 blocks, the body has 1 */
    b[0] = 0x82;
    ok(rooms_rtcp_check(b, n) == -1, "RC past the SR body");
    b[0] = 0x81;

    /* a feedback packet shorter than its two SSRCs */
    put_hdr(b, 1, ROOMS_RTCP_PSFB, 8);
    ok(rooms_rtcp_check(b, 8) == -1, "PSFB without media SSRC");

    /* a PLI with an FCI */
    n = rooms_rtcp_build_pli(b, sizeof(b), 1, 2);
    put32(b + n, 0);
    put_hdr(b, 1, ROOMS_RTCP_PSFB, n + 4);
    ok(rooms_rtcp_check(b, n + 4) == -1, "PLI with an FCI");

    /* a NACK without items */
    put_hdr(b, 1, ROOMS_RTCP_RTPFB, 12);
    ok(rooms_rtcp_check(b, 12) == -1, "NACK without items");

    /* a FIR with half an entry */
    put_hdr(b, 4, ROOMS_RTCP_PSFB, 16);
    ok(rooms_rtcp_check(b, 16) == -1, "FIR with half an entry");

    /* a zero-length packet (header only) is a valid BYE with SC 0 */
    put_hdr(b, 0, ROOMS_RTCP_BYE, 4);
    ok(rooms_rtcp_check(b, 4) == 1, "header-only BYE is valid");
    put_hdr(b, 1, ROOMS_RTCP_RR, 4);
    ok(rooms_rtcp_check(b, 4) == -1, "header-only RR is not");
}


/* every cut of a compound, in a buffer of exactly that size */
static void
test_truncated(void)
{
    int      bad, rc;
    size_t   n, cut, rest;
    uint8_t  b[512], *copy;

    n = make_sr_sdes(b);
    n += rooms_rtcp_build_pli(b + n, sizeof(b) - n, 1, 2);
    n += rooms_rtcp_build_fir(b + n, sizeof(b) - n, 1, 2, 9);
    rest = n;
    n += rooms_rtcp_build_nack(b + n, sizeof(b) - n, 1, 2,
                               (const uint16_t[]) { 1, 3, 40 }, 3);

    bad = 0;
    is_int(rooms_rtcp_check(b, n), 5, "SR SDES PLI FIR NACK: 5 packets");

    for (cut = 0; cut < n; cut++) {
        copy = malloc(cut ? cut : 1);
        memcpy(copy, b, cut);
        rc = rooms_rtcp_check(copy, cut);

        /* a cut on a packet boundary is a shorter valid compound */
        if (cut == 52 || cut == 80 || cut == 92 || cut == 112) {
            if (rc < 1) {
                bad++;
            }

        } else if (rc != -1) {
            bad++;
        }

        free(copy);
    }

    is_int(bad, 0, "every cut: error, except on packet boundaries");
    is_int((int) rest, 112, "boundaries as expected");
}


static void
test_rewrite_ssrc(void)
{
    int                     i;
    size_t                  n, off, rr;
    uint8_t                 b[256], orig[256];
    uint16_t                lost[3] = { 100, 101, 300 };
    rooms_rtcp_rb_t         rb;
    rooms_rtcp_fb_t         fb;
    rooms_rtcp_hdr_t        h;
    rooms_rtcp_fir_entry_t  e;
    int                     done[4];

    memset(&rb, 0, sizeof(rb));
    rr = rooms_rtcp_build_rr(b, sizeof(b), 0x51, &rb);
    n = rr;
    n += rooms_rtcp_build_pli(b + n, sizeof(b) - n, 0x51, 0xdead0001);
    n += rooms_rtcp_build_fir(b + n, sizeof(b) - n, 0x51, 0xdead0002, 4);
    n += rooms_rtcp_build_nack(b + n, sizeof(b) - n, 0x51, 0xdead0003,
                               lost, 3);
    memcpy(orig, b, n);

    off = 0;
    i = 0;
    memset(done, 0, sizeof(done));

    while (rooms_rtcp_next(b, n, &off, &h) == ROOMS_RTCP_OK) {
        done[i] = rooms_rtcp_set_media_ssrc(b, &h, 0xfeed0001 + i);
        i++;
    }

    ok(done[0] == -1 && done[1] == 0 && done[2] == 0 && done[3] == 0,
       "rewrite: refused for RR, done for PLI, FIR, NACK");
    is_int(rooms_rtcp_check(b, n), 4, "the rewritten compound is valid");
    ok(memcmp(b, orig, rr) == 0, "RR untouched");

    off = 0;
    rooms_rtcp_next(b, n, &off, &h);
    rooms_rtcp_next(b, n, &off, &h);
    rooms_rtcp_fb_parse(&h, &fb);
    ok(rooms_rtcp_is_pli(&fb) && fb.media_ssrc == 0xfeed0002
       && fb.sender_ssrc == 0x51, "PLI media SSRC rewritten");

    rooms_rtcp_next(b, n, &off, &h);
    rooms_rtcp_fb_parse(&h, &fb);
    ok(rooms_rtcp_fir_parse(&fb, &e, 1) == 1 && e.ssrc == 0xfeed0003
       && e.seq_nr == 4 && fb.media_ssrc == 0,
       "FIR entry SSRC rewritten, seq nr and header kept");

    rooms_rtcp_next(b, n, &off, &h);
    rooms_rtcp_fb_parse(&h, &fb);
    ok(fb.media_ssrc == 0xfeed0004
       && memcmp(fb.fci, orig + h.off + 12, fb.fci_len) == 0,
       "NACK media SSRC rewritten, items kept");

    ok(rooms_rtcp_set_sender_ssrc(b, &h, 0x99) == 0
       && rooms_rtcp_fb_parse(&h, &fb) == 0 && fb.sender_ssrc == 0x99,
       "sender SSRC rewritten");

    off = 0;
    rooms_rtcp_next(b, n, &off, &h);
    ok(rooms_rtcp_set_sender_ssrc(b, &h, 1) == -1,
       "an RR has no feedback sender SSRC to set");
}


/*
 * Transport-cc feedback as rooms_twcc_poll() builds it: 1, 3 and 4 small
 * deltas make 23, 25 and 26 bytes before padding, so the packets carry
 * 1, 3 and 2 bytes of padding; each walks as a compound of one packet and
 * its FCI parses back.  One more byte of padding than the body is refused.
 */
static void
test_twcc_padding(void)
{
    int                 len, k, i, j, npk;
    static const int    npks[3] = { 1, 3, 4 }, pads[3] = { 1, 3, 2 };
    size_t              off;
    uint8_t             b[ROOMS_TWCC_MAX_LEN];
    rooms_twcc_t        t;
    rooms_rtcp_hdr_t    h;
    rooms_rtcp_fb_t     fb;
    rooms_twcc_info_t   info;
    rooms_twcc_status_t st[8];

    for (j = 0; j < 3; j++) {
        npk = npks[j];
        rooms_twcc_init(&t, 0x1111, 0x2222);

        for (i = 0; i < npk; i++) {
            rooms_twcc_input(&t, 1000000 + i * 1000, (uint16_t) (65534 + i));
        }

        len = rooms_twcc_poll(&t, 1000000 + npk * 1000, b, sizeof(b));
        k = pads[j];

        ok(len > 0 && len % 4 == 0 && (b[0] & 0x20) && b[len - 1] == k,
           "twcc of %d packet(s): %d bytes with %d byte(s) of padding",
           npk, len, k);

        off = 0;
        ok(rooms_rtcp_check(b, (size_t) len) == 1
           && rooms_rtcp_next(b, (size_t) len, &off, &h) == ROOMS_RTCP_OK
           && h.len == (size_t) len
           && h.body_len == (size_t) len - ROOMS_RTCP_HEADER_LEN - k
           && rooms_rtcp_next(b, (size_t) len, &off, &h) == ROOMS_RTCP_END,
           "padding %d: the packet walks, padding removed", k);

        off = 0;
        rooms_rtcp_next(b, (size_t) len, &off, &h);
        ok(rooms_rtcp_fb_parse(&h, &fb) == 0
           && fb.fmt == ROOMS_RTCP_FMT_TWCC
           && rooms_twcc_parse_fci(fb.fci, fb.fci_len, &info, st, 8) == npk
           && info.base_seq == 65534 && st[npk - 1].seq == (uint16_t) (65534 + npk - 1)
           && info.received == (unsigned) npk,
           "padding %d: its FCI parses back (%d statuses over the wrap)",
           k, npk);

        /* a count larger than the body the packet has */
        b[len - 1] = (uint8_t) (len - ROOMS_RTCP_HEADER_LEN + 1);
        off = 0;
        ok(rooms_rtcp_check(b, (size_t) len) == -1
           && rooms_rtcp_next(b, (size_t) len, &off, &h) == ROOMS_RTCP_ERROR,
           "padding %d: a count of %d past the body is refused", k,
           b[len - 1]);

        b[len - 1] = 0;
        ok(rooms_rtcp_check(b, (size_t) len) == -1,
           "padding %d: a count of 0 with the P bit is refused", k);
    }
}


int
main(void)
{
    test_sr_sdes();
    test_rr_bye();
    test_nack();
    test_pli_fir();
    test_remb_twcc();
    test_malformed();
    test_truncated();
    test_rewrite_ssrc();
    test_twcc_padding();

    return done_testing();
}
