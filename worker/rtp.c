/*
 * rtp.c: RTP header parsing and in-place rewriting for the SFU.
 *
 * Every read is preceded by a check of the bytes it needs against the
 * length the caller gave, because packets come straight from the network
 * (after SRTP authentication, but a browser is not trusted either).  The
 * parse walks the extension block once to prove it well formed, so later
 * lookups only repeat the same bounded walk.  Nothing here allocates.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include srtp.h, include dtls.h, include sdp.h, call json_, call malloc, call calloc, call RAND_bytes, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <string.h>

#include "rtp.h"


#define ROOMS_RTP_VERSION  2


static uint16_t
rooms_rtp_get16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}


static uint32_t
rooms_rtp_get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}


static void
rooms_rtp_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}


static void
rooms_rtp_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


/*
 * Walks the elements of a one- or two-byte extension block (RFC 8285
 * §4.2, §4.3).  With want 0 it only checks the block; otherwise it stops
 * at the first element with that id.  Returns 1 with *off (from the
 * packet start) and *len of the found value, 0 when the walk ended
 * without it, -1 when an element overruns the block.
 */
static int
rooms_rtp_ext_walk(const rooms_rtp_t *pkt, unsigned want, size_t *off,
    size_t *len)
{
    size_t          i, end, n;
    unsigned        id;
    const uint8_t  *p;

    p = pkt->buf;
    i = pkt->ext_off;
    end = pkt->ext_off + pkt->ext_len;

    if (pkt->ext_profile == ROOMS_RTP_EXT_ONE_BYTE) {

        while (i < end) {
            id = p[i] >> 4;
            n = (size_t) (p[i] & 0x0f) + 1;

            if (id == 0) {
                /* a padding byte; its length bits carry nothing */
                i++;
                continue;
            }

            if (id == 15) {
                /* reserved: processing of the whole block stops here */
                return 0;
            }

            /* the value must end inside the block, not just the packet */
            if (n > end - i - 1) {
                return -1;
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

    if ((pkt->ext_profile & 0xfff0) == ROOMS_RTP_EXT_TWO_BYTE) {

        while (i < end) {
            id = p[i];

            if (id == 0) {
                i++;
                continue;
            }

            /* the length byte must be in the block too */
            if (end - i < 2) {
                return -1;
            }

            n = p[i + 1];

            if (n > end - i - 2) {
                return -1;
            }

            if (id == want) {
                *off = i + 2;
                *len = n;
                return 1;
            }

            i += 2 + n;
        }

        return 0;
    }

    /* a block of another profile: opaque, nothing to find */
    return 0;
}


int
rooms_rtp_parse(const uint8_t *buf, size_t len, rooms_rtp_t *out)
{
    size_t  off, pad, dummy_off, dummy_len;

    if (len < ROOMS_RTP_HEADER_LEN || (buf[0] >> 6) != ROOMS_RTP_VERSION) {
        return -1;
    }

    memset(out, 0, sizeof(rooms_rtp_t));

    out->buf = buf;
    out->len = len;
    out->padding = (buf[0] >> 5) & 1;
    out->extension = (buf[0] >> 4) & 1;
    out->csrc_count = buf[0] & 0x0f;
    out->marker = buf[1] >> 7;
    out->pt = buf[1] & 0x7f;
    out->seq = rooms_rtp_get16(buf + 2);
    out->ts = rooms_rtp_get32(buf + 4);
    out->ssrc = rooms_rtp_get32(buf + 8);

    /* at most 15 CSRCs: 60 bytes, no overflow in the sum */
    off = ROOMS_RTP_HEADER_LEN + 4 * (size_t) out->csrc_count;

    if (off > len) {
        return -1;
    }

    if (out->extension) {
        /* the 4-byte block header, then 4 * length bytes of data */
        if (len - off < 4) {
            return -1;
        }

        out->ext_profile = rooms_rtp_get16(buf + off);
        out->ext_len = 4 * (size_t) rooms_rtp_get16(buf + off + 2);
        out->ext_off = off + 4;

        if (out->ext_len > len - out->ext_off) {
            return -1;
        }

        off = out->ext_off + out->ext_len;

        if (rooms_rtp_ext_walk(out, 0, &dummy_off, &dummy_len) < 0) {
            return -1;
        }
    }

    out->header_len = off;
    out->payload_off = off;

    pad = 0;

    if (out->padding) {
        /* the count includes itself, so 0 is invalid; it may not eat
         * into the header */
        if (len == off) {
            return -1;
        }

        pad = buf[len - 1];

        if (pad == 0 || pad > len - off) {
            return -1;
        }
    }

    out->pad_len = pad;
    out->payload_len = len - off - pad;

    return 0;
}


int
rooms_rtp_ext_find(const rooms_rtp_t *pkt, unsigned id,
    const uint8_t **data, size_t *len)
{
    size_t  off, n;

    if (id == 0 || pkt->ext_profile == 0) {
        return -1;
    }

    if (rooms_rtp_ext_walk(pkt, id, &off, &n) != 1) {
        return -1;
    }

    *data = pkt->buf + off;
    *len = n;

    return 0;
}


int
rooms_rtp_is_rtcp(const uint8_t *buf, size_t len)
{
    if (len < 2 || (buf[0] >> 6) != ROOMS_RTP_VERSION) {
        return 0;
    }

    return buf[1] >= 192 && buf[1] <= 223;
}


void
rooms_rtp_set_ssrc(uint8_t *buf, uint32_t ssrc)
{
    rooms_rtp_put32(buf + 8, ssrc);
}


void
rooms_rtp_set_seq(uint8_t *buf, uint16_t seq)
{
    rooms_rtp_put16(buf + 2, seq);
}


void
rooms_rtp_set_ts(uint8_t *buf, uint32_t ts)
{
    rooms_rtp_put32(buf + 4, ts);
}


void
rooms_rtp_set_pt(uint8_t *buf, unsigned pt)
{
    buf[1] = (uint8_t) ((buf[1] & 0x80) | (pt & 0x7f));
}


/* the offset of element id's value when it has exactly want bytes */
static int
rooms_rtp_ext_at(const rooms_rtp_t *pkt, unsigned id, size_t want,
    size_t *off)
{
    size_t  n;

    if (id == 0 || pkt->ext_profile == 0) {
        return -1;
    }

    if (rooms_rtp_ext_walk(pkt, id, off, &n) != 1 || n != want) {
        return -1;
    }

    return 0;
}


int
rooms_rtp_set_abs_send_time(uint8_t *buf, const rooms_rtp_t *pkt,
    unsigned id, uint32_t value)
{
    size_t  off;

    if (rooms_rtp_ext_at(pkt, id, ROOMS_RTP_ABS_SEND_TIME_LEN, &off) != 0) {
        return -1;
    }

    buf[off] = (uint8_t) (value >> 16);
    buf[off + 1] = (uint8_t) (value >> 8);
    buf[off + 2] = (uint8_t) value;

    return 0;
}


int
rooms_rtp_set_twcc_seq(uint8_t *buf, const rooms_rtp_t *pkt, unsigned id,
    uint16_t value)
{
    size_t  off;

    if (rooms_rtp_ext_at(pkt, id, ROOMS_RTP_TWCC_LEN, &off) != 0) {
        return -1;
    }

    rooms_rtp_put16(buf + off, value);

    return 0;
}


int
rooms_rtp_get_twcc_seq(const rooms_rtp_t *pkt, unsigned id, uint16_t *value)
{
    size_t  off;

    if (rooms_rtp_ext_at(pkt, id, ROOMS_RTP_TWCC_LEN, &off) != 0) {
        return -1;
    }

    *value = rooms_rtp_get16(pkt->buf + off);

    return 0;
}


/*
 * VP8 payload descriptor (RFC 7741 §4.2):
 *
 *     X R N S R PID(3)
 *     [I L T K RSV(4)]                        when X
 *     [M PictureID(7) [PictureID(8)]]         when I; M: 15 bits
 *     [TL0PICIDX(8)]                          when L
 *     [TID(2) Y KEYIDX(5)]                    when T or K
 *
 * and, at the start of partition 0, the VP8 payload header (§4.3) whose
 * lowest bit of the first byte is P, the inverse keyframe flag.
 */
int
rooms_rtp_vp8_parse(const uint8_t *payload, size_t len, rooms_vp8_t *out)
{
    size_t    i;
    unsigned  x, ext_i, ext_l, ext_t, ext_k;

    memset(out, 0, sizeof(rooms_vp8_t));
    out->picture_id = -1;
    out->tl0picidx = -1;
    out->tid = -1;
    out->keyidx = -1;

    if (len < 1) {
        return -1;
    }

    x = payload[0] >> 7;
    out->non_ref = (payload[0] >> 5) & 1;
    out->start = (payload[0] >> 4) & 1;
    out->partition = payload[0] & 0x07;

    i = 1;

    if (x) {
        if (len < 2) {
            return -1;
        }

        ext_i = payload[1] >> 7;
        ext_l = (payload[1] >> 6) & 1;
        ext_t = (payload[1] >> 5) & 1;
        ext_k = (payload[1] >> 4) & 1;
        i = 2;

        if (ext_i) {
            if (i >= len) {
                return -1;
            }

            if (payload[i] & 0x80) {
                if (len - i < 2) {
                    return -1;
                }

                out->picture_id = ((payload[i] & 0x7f) << 8) | payload[i + 1];
                out->picture_id_bits = 15;
                i += 2;

            } else {
                out->picture_id = payload[i];
                out->picture_id_bits = 7;
                i++;
            }
        }

        if (ext_l) {
            if (i >= len) {
                return -1;
            }

            out->tl0picidx = payload[i];
            i++;
        }

        if (ext_t || ext_k) {
            if (i >= len) {
                return -1;
            }

            if (ext_t) {
                out->tid = payload[i] >> 6;
                out->layer_sync = (payload[i] >> 5) & 1;
            }

            if (ext_k) {
                out->keyidx = payload[i] & 0x1f;
            }

            i++;
        }
    }

    /* a descriptor with no VP8 data after it is not a packet we forward */
    if (i >= len) {
        return -1;
    }

    out->desc_len = i;
    out->keyframe = out->start && out->partition == 0
                    && (payload[i] & 0x01) == 0;

    return 0;
}
