/*
 * rtcp.c: RTCP compound walking, parsing and building for the SFU.
 *
 * The walker follows RFC 3550 appendix A.2's validity checks minus the
 * "first packet is SR or RR" rule: browsers negotiate reduced-size RTCP
 * (RFC 5506), where a lone feedback packet is a whole compound.  Typed
 * parsers check every count against the body they were given, so a count
 * field can never make them read past a packet; the walker already
 * guaranteed each body lies inside the buffer.  Builders check the
 * caller's capacity before the first write.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include srtp.h, include dtls.h, include sdp.h, call json_, call malloc, call calloc, call RAND_bytes, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <string.h>

#include "rtcp.h"


#define ROOMS_RTCP_VERSION   2
#define ROOMS_RTCP_RB_LEN    24          /* one report block */
#define ROOMS_RTCP_SI_LEN    20          /* SR sender info after the SSRC */
#define ROOMS_RTCP_FB_LEN    8           /* sender + media SSRC */
#define ROOMS_RTCP_FIR_ENTRY 8
/* the 16-bit length word counts 32-bit words minus one */
#define ROOMS_RTCP_MAX_WORDS 65536


static uint16_t
rooms_rtcp_get16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}


static uint32_t
rooms_rtcp_get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}


static void
rooms_rtcp_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


static void
rooms_rtcp_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


/* header with V=2, no padding, the count/FMT, the type, the word count */
static void
rooms_rtcp_put_header(uint8_t *p, unsigned count, unsigned pt, size_t len)
{
    p[0] = (uint8_t) (0x80 | (count & 0x1f));
    p[1] = (uint8_t) pt;
    rooms_rtcp_put16(p + 2, (uint16_t) (len / 4 - 1));
}


int
rooms_rtcp_next(const uint8_t *buf, size_t len, size_t *off,
    rooms_rtcp_hdr_t *out)
{
    size_t          rest, plen, pad;
    const uint8_t  *p;

    if (*off == len) {
        /* an empty compound is not a compound */
        return len == 0 ? ROOMS_RTCP_ERROR : ROOMS_RTCP_END;
    }

    if (*off > len) {
        return ROOMS_RTCP_ERROR;
    }

    rest = len - *off;
    p = buf + *off;

    if (rest < ROOMS_RTCP_HEADER_LEN || (p[0] >> 6) != ROOMS_RTCP_VERSION) {
        return ROOMS_RTCP_ERROR;
    }

    plen = 4 * ((size_t) rooms_rtcp_get16(p + 2) + 1);

    if (plen > rest) {
        return ROOMS_RTCP_ERROR;
    }

    pad = 0;

    if (p[0] & 0x20) {
        /* padding is allowed on the last packet of a compound only */
        if (plen != rest) {
            return ROOMS_RTCP_ERROR;
        }

        /*
         * RFC 3550 §6.4.1: the count includes itself and may be any
         * number the packet's payload can hold.  Transport-cc feedback
         * (Chromium's and ours) pads 1..3 bytes so that its length is a
         * multiple of 4; the length word already keeps that whole.
         */
        pad = p[plen - 1];

        if (pad == 0 || pad > plen - ROOMS_RTCP_HEADER_LEN) {
            return ROOMS_RTCP_ERROR;
        }
    }

    out->off = *off;
    out->len = plen;
    out->pt = p[1];
    out->count = p[0] & 0x1f;
    out->body = p + ROOMS_RTCP_HEADER_LEN;
    out->body_len = plen - ROOMS_RTCP_HEADER_LEN - pad;

    *off += plen;

    return ROOMS_RTCP_OK;
}


int
rooms_rtcp_check(const uint8_t *buf, size_t len)
{
    int                  rc, n;
    size_t               off;
    rooms_rtcp_fb_t      fb;
    rooms_rtcp_hdr_t     h;
    rooms_rtcp_bye_t     bye;
    rooms_rtcp_remb_t    remb;
    rooms_rtcp_report_t  report;

    off = 0;
    n = 0;

    for ( ;; ) {
        rc = rooms_rtcp_next(buf, len, &off, &h);

        if (rc == ROOMS_RTCP_END) {
            return n;
        }

        if (rc != ROOMS_RTCP_OK) {
            return -1;
        }

        n++;

        switch (h.pt) {

        case ROOMS_RTCP_SR:
        case ROOMS_RTCP_RR:
            if (rooms_rtcp_report_parse(&h, &report) != 0) {
                return -1;
            }
            break;

        case ROOMS_RTCP_BYE:
            if (rooms_rtcp_bye_parse(&h, &bye) != 0) {
                return -1;
            }
            break;

        case ROOMS_RTCP_RTPFB:
            if (rooms_rtcp_fb_parse(&h, &fb) != 0) {
                return -1;
            }

            if (fb.fmt == ROOMS_RTCP_FMT_NACK
                && rooms_rtcp_nack_count(&fb) < 0)
            {
                return -1;
            }
            break;

        case ROOMS_RTCP_PSFB:
            if (rooms_rtcp_fb_parse(&h, &fb) != 0) {
                return -1;
            }

            if (fb.fmt == ROOMS_RTCP_FMT_PLI && !rooms_rtcp_is_pli(&fb)) {
                return -1;
            }

            if (fb.fmt == ROOMS_RTCP_FMT_FIR
                && rooms_rtcp_fir_parse(&fb, NULL, 0) < 0)
            {
                return -1;
            }

            /* other application layer feedback is not ours to judge */
            if (fb.fmt == ROOMS_RTCP_FMT_REMB && fb.fci_len >= 4
                && memcmp(fb.fci, "REMB", 4) == 0
                && rooms_rtcp_remb_parse(&fb, &remb) != 0)
            {
                return -1;
            }
            break;

        default:
            /* SDES, APP, XR...: skipped whole, the walker bounded them */
            break;
        }
    }
}


static void
rooms_rtcp_rb_read(const uint8_t *p, rooms_rtcp_rb_t *rb)
{
    uint32_t  lost;

    rb->ssrc = rooms_rtcp_get32(p);
    rb->fraction_lost = p[4];

    /* 24-bit two's complement */
    lost = ((uint32_t) p[5] << 16) | ((uint32_t) p[6] << 8) | p[7];
    rb->cumulative_lost = (lost & 0x800000) ? (int32_t) lost - 0x1000000
                                            : (int32_t) lost;

    rb->highest_seq = rooms_rtcp_get32(p + 8);
    rb->jitter = rooms_rtcp_get32(p + 12);
    rb->lsr = rooms_rtcp_get32(p + 16);
    rb->dlsr = rooms_rtcp_get32(p + 20);
}


int
rooms_rtcp_report_parse(const rooms_rtcp_hdr_t *h, rooms_rtcp_report_t *out)
{
    size_t          need, i;
    const uint8_t  *p;

    if (h->pt != ROOMS_RTCP_SR && h->pt != ROOMS_RTCP_RR) {
        return -1;
    }

    memset(out, 0, sizeof(rooms_rtcp_report_t));

    need = (size_t) (h->pt == ROOMS_RTCP_SR ? 4 + ROOMS_RTCP_SI_LEN : 4)
           + ROOMS_RTCP_RB_LEN * (size_t) h->count;

    /* more is allowed: profile-specific extensions follow the blocks */
    if (h->body_len < need) {
        return -1;
    }

    p = h->body;
    out->ssrc = rooms_rtcp_get32(p);
    p += 4;

    if (h->pt == ROOMS_RTCP_SR) {
        out->ntp_sec = rooms_rtcp_get32(p);
        out->ntp_frac = rooms_rtcp_get32(p + 4);
        out->rtp_ts = rooms_rtcp_get32(p + 8);
        out->packet_count = rooms_rtcp_get32(p + 12);
        out->octet_count = rooms_rtcp_get32(p + 16);
        p += ROOMS_RTCP_SI_LEN;
    }

    out->report_count = h->count;

    for (i = 0; i < h->count; i++) {
        rooms_rtcp_rb_read(p + ROOMS_RTCP_RB_LEN * i, &out->reports[i]);
    }

    return 0;
}


int
rooms_rtcp_bye_parse(const rooms_rtcp_hdr_t *h, rooms_rtcp_bye_t *out)
{
    size_t  i, need, rlen;

    if (h->pt != ROOMS_RTCP_BYE) {
        return -1;
    }

    memset(out, 0, sizeof(rooms_rtcp_bye_t));

    need = 4 * (size_t) h->count;

    if (h->body_len < need) {
        return -1;
    }

    out->count = h->count;

    for (i = 0; i < h->count; i++) {
        out->ssrcs[i] = rooms_rtcp_get32(h->body + 4 * i);
    }

    if (h->body_len > need) {
        /* a length byte, the reason, then zero padding to a word */
        rlen = h->body[need];

        if (rlen > h->body_len - need - 1) {
            return -1;
        }

        out->reason = h->body + need + 1;
        out->reason_len = rlen;
    }

    return 0;
}


int
rooms_rtcp_fb_parse(const rooms_rtcp_hdr_t *h, rooms_rtcp_fb_t *out)
{
    if ((h->pt != ROOMS_RTCP_RTPFB && h->pt != ROOMS_RTCP_PSFB)
        || h->body_len < ROOMS_RTCP_FB_LEN)
    {
        return -1;
    }

    out->pt = h->pt;
    out->fmt = h->count;
    out->sender_ssrc = rooms_rtcp_get32(h->body);
    out->media_ssrc = rooms_rtcp_get32(h->body + 4);
    out->fci = h->body + ROOMS_RTCP_FB_LEN;
    out->fci_len = h->body_len - ROOMS_RTCP_FB_LEN;

    return 0;
}


int
rooms_rtcp_nack_count(const rooms_rtcp_fb_t *fb)
{
    if (fb->pt != ROOMS_RTCP_RTPFB || fb->fmt != ROOMS_RTCP_FMT_NACK
        || fb->fci_len == 0 || fb->fci_len % 4 != 0)
    {
        return -1;
    }

    /* the walker bounded a packet to 2^18 bytes: this fits an int */
    return (int) (fb->fci_len / 4);
}


void
rooms_rtcp_nack_item(const rooms_rtcp_fb_t *fb, unsigned i, uint16_t *pid,
    uint16_t *blp)
{
    *pid = rooms_rtcp_get16(fb->fci + 4 * (size_t) i);
    *blp = rooms_rtcp_get16(fb->fci + 4 * (size_t) i + 2);
}


int
rooms_rtcp_nack_expand(const rooms_rtcp_fb_t *fb, uint16_t *lost,
    size_t cap)
{
    int       items, i;
    size_t    n;
    unsigned  k;
    uint16_t  pid, blp;

    items = rooms_rtcp_nack_count(fb);

    if (items < 0) {
        return -1;
    }

    n = 0;

    for (i = 0; i < items; i++) {
        rooms_rtcp_nack_item(fb, (unsigned) i, &pid, &blp);

        if (n == cap) {
            break;
        }

        lost[n++] = pid;

        for (k = 0; k < 16 && n < cap; k++) {
            if (blp & (1u << k)) {
                lost[n++] = (uint16_t) (pid + k + 1);
            }
        }
    }

    return (int) n;
}


int
rooms_rtcp_fir_parse(const rooms_rtcp_fb_t *fb, rooms_rtcp_fir_entry_t *out,
    size_t cap)
{
    size_t          i, n;
    const uint8_t  *p;

    if (fb->pt != ROOMS_RTCP_PSFB || fb->fmt != ROOMS_RTCP_FMT_FIR
        || fb->fci_len == 0 || fb->fci_len % ROOMS_RTCP_FIR_ENTRY != 0)
    {
        return -1;
    }

    n = fb->fci_len / ROOMS_RTCP_FIR_ENTRY;

    for (i = 0; i < n && i < cap; i++) {
        p = fb->fci + ROOMS_RTCP_FIR_ENTRY * i;
        out[i].ssrc = rooms_rtcp_get32(p);
        out[i].seq_nr = p[4];
    }

    return (int) n;
}


int
rooms_rtcp_is_pli(const rooms_rtcp_fb_t *fb)
{
    return fb->pt == ROOMS_RTCP_PSFB && fb->fmt == ROOMS_RTCP_FMT_PLI
           && fb->fci_len == 0;
}


int
rooms_rtcp_remb_parse(const rooms_rtcp_fb_t *fb, rooms_rtcp_remb_t *out)
{
    size_t          i;
    const uint8_t  *p;

    /* "REMB", Num SSRC (8), BR Exp (6), BR Mantissa (18), SSRC list */
    if (fb->pt != ROOMS_RTCP_PSFB || fb->fmt != ROOMS_RTCP_FMT_REMB
        || fb->fci_len < 8 || memcmp(fb->fci, "REMB", 4) != 0)
    {
        return -1;
    }

    p = fb->fci;
    out->ssrc_count = p[4];
    out->exp = p[5] >> 2;
    out->mantissa = ((uint32_t) (p[5] & 0x03) << 16)
                    | ((uint32_t) p[6] << 8) | p[7];

    if (fb->fci_len < 8 + 4 * (size_t) out->ssrc_count) {
        return -1;
    }

    /* an 18-bit mantissa shifted by up to 63: saturate, never overflow */
    if (out->mantissa != 0 && out->exp > 64 - 18) {
        out->bitrate = UINT64_MAX;

    } else {
        out->bitrate = (uint64_t) out->mantissa << out->exp;
    }

    for (i = 0; i < out->ssrc_count; i++) {
        out->ssrcs[i] = rooms_rtcp_get32(p + 8 + 4 * i);
    }

    return 0;
}


static size_t
rooms_rtcp_build_fb(uint8_t *buf, size_t cap, unsigned pt, unsigned fmt,
    uint32_t sender, uint32_t media, size_t fci_len)
{
    size_t  len;

    len = ROOMS_RTCP_HEADER_LEN + ROOMS_RTCP_FB_LEN + fci_len;

    if (cap < len) {
        return 0;
    }

    rooms_rtcp_put_header(buf, fmt, pt, len);
    rooms_rtcp_put32(buf + 4, sender);
    rooms_rtcp_put32(buf + 8, media);

    return len;
}


size_t
rooms_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender,
    uint32_t media)
{
    return rooms_rtcp_build_fb(buf, cap, ROOMS_RTCP_PSFB, ROOMS_RTCP_FMT_PLI,
                               sender, media, 0);
}


size_t
rooms_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender,
    uint32_t media, uint8_t seq_nr)
{
    size_t  len;

    len = rooms_rtcp_build_fb(buf, cap, ROOMS_RTCP_PSFB, ROOMS_RTCP_FMT_FIR,
                              sender, 0, ROOMS_RTCP_FIR_ENTRY);

    if (len == 0) {
        return 0;
    }

    rooms_rtcp_put32(buf + 12, media);
    buf[16] = seq_nr;
    buf[17] = 0;
    buf[18] = 0;
    buf[19] = 0;

    return len;
}


size_t
rooms_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender,
    uint32_t media, const uint16_t *lost, size_t n)
{
    size_t    i, items, at;
    uint16_t  pid, blp, d;

    if (n == 0 || cap < ROOMS_RTCP_NACK_LEN(1)) {
        return 0;
    }

    items = 0;
    pid = 0;
    blp = 0;

    for (i = 0; i < n; i++) {
        d = (uint16_t) (lost[i] - pid);

        if (items > 0 && d == 0) {
            continue;
        }

        if (items > 0 && d <= 16) {
            blp |= (uint16_t) (1u << (d - 1));
            continue;
        }

        /* close the current item, open one at lost[i] */
        if (items > 0) {
            at = ROOMS_RTCP_NACK_LEN(items - 1);
            rooms_rtcp_put16(buf + at, pid);
            rooms_rtcp_put16(buf + at + 2, blp);
        }

        items++;

        /* the length word bounds a packet to 2^16 words */
        if (ROOMS_RTCP_NACK_LEN(items) > cap
            || ROOMS_RTCP_NACK_LEN(items) / 4 > ROOMS_RTCP_MAX_WORDS)
        {
            return 0;
        }

        pid = lost[i];
        blp = 0;
    }

    at = ROOMS_RTCP_NACK_LEN(items - 1);
    rooms_rtcp_put16(buf + at, pid);
    rooms_rtcp_put16(buf + at + 2, blp);

    return rooms_rtcp_build_fb(buf, cap, ROOMS_RTCP_RTPFB,
                               ROOMS_RTCP_FMT_NACK, sender, media,
                               4 * items);
}


size_t
rooms_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t sender,
    const rooms_rtcp_rb_t *rb)
{
    return rooms_rtcp_build_rr_blocks(buf, cap, sender, rb, 1);
}


size_t
rooms_rtcp_build_rr_blocks(uint8_t *buf, size_t cap, uint32_t sender,
    const rooms_rtcp_rb_t *rb, size_t n)
{
    size_t    i, len;
    int32_t   lost;
    uint8_t  *p;

    /* the count field has 5 bits */
    if (n > ROOMS_RTCP_MAX_REPORTS) {
        return 0;
    }

    len = ROOMS_RTCP_RR_BLOCKS_LEN(n);

    if (cap < len) {
        return 0;
    }

    rooms_rtcp_put_header(buf, (unsigned) n, ROOMS_RTCP_RR, len);
    rooms_rtcp_put32(buf + 4, sender);

    for (i = 0; i < n; i++) {
        p = buf + 8 + ROOMS_RTCP_RB_LEN * i;

        rooms_rtcp_put32(p, rb[i].ssrc);
        p[4] = rb[i].fraction_lost;

        lost = rb[i].cumulative_lost;

        if (lost > 0x7fffff) {
            lost = 0x7fffff;

        } else if (lost < -0x800000) {
            lost = -0x800000;
        }

        p[5] = (uint8_t) ((uint32_t) lost >> 16);
        p[6] = (uint8_t) ((uint32_t) lost >> 8);
        p[7] = (uint8_t) (uint32_t) lost;

        rooms_rtcp_put32(p + 8, rb[i].highest_seq);
        rooms_rtcp_put32(p + 12, rb[i].jitter);
        rooms_rtcp_put32(p + 16, rb[i].lsr);
        rooms_rtcp_put32(p + 20, rb[i].dlsr);
    }

    return len;
}


size_t
rooms_rtcp_build_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc,
    const char *cname)
{
    size_t  n, len;

    n = strlen(cname);

    /* an SDES item length is one byte; an empty CNAME names nobody */
    if (n == 0 || n > 255) {
        return 0;
    }

    len = ROOMS_RTCP_SDES_CNAME_LEN(n);

    if (cap < len) {
        return 0;
    }

    rooms_rtcp_put_header(buf, 1, ROOMS_RTCP_SDES, len);
    rooms_rtcp_put32(buf + 4, ssrc);
    buf[8] = 1;                                  /* CNAME */
    buf[9] = (uint8_t) n;
    memcpy(buf + 10, cname, n);

    /* the END item, then zeros up to the 32-bit boundary */
    memset(buf + 10 + n, 0, len - 10 - n);

    return len;
}


int
rooms_rtcp_set_media_ssrc(uint8_t *buf, const rooms_rtcp_hdr_t *h,
    uint32_t ssrc)
{
    size_t  i, n;

    if (h->body_len < ROOMS_RTCP_FB_LEN) {
        return -1;
    }

    if ((h->pt == ROOMS_RTCP_PSFB && h->count == ROOMS_RTCP_FMT_PLI)
        || (h->pt == ROOMS_RTCP_RTPFB && h->count == ROOMS_RTCP_FMT_NACK))
    {
        rooms_rtcp_put32(buf + h->off + 8, ssrc);
        return 0;
    }

    if (h->pt == ROOMS_RTCP_PSFB && h->count == ROOMS_RTCP_FMT_FIR) {
        n = (h->body_len - ROOMS_RTCP_FB_LEN) / ROOMS_RTCP_FIR_ENTRY;

        if (n == 0) {
            return -1;
        }

        for (i = 0; i < n; i++) {
            rooms_rtcp_put32(buf + h->off + 12 + ROOMS_RTCP_FIR_ENTRY * i,
                             ssrc);
        }

        return 0;
    }

    return -1;
}


int
rooms_rtcp_set_sender_ssrc(uint8_t *buf, const rooms_rtcp_hdr_t *h,
    uint32_t ssrc)
{
    if ((h->pt != ROOMS_RTCP_RTPFB && h->pt != ROOMS_RTCP_PSFB)
        || h->body_len < ROOMS_RTCP_FB_LEN)
    {
        return -1;
    }

    rooms_rtcp_put32(buf + h->off + 4, ssrc);

    return 0;
}
