/*
 * rtp.h: RTP headers (RFC 3550) with header extensions (RFC 8285), the
 * RTP/RTCP demultiplex of rtcp-mux (RFC 5761 §4) and the VP8 payload
 * descriptor (RFC 7741).
 *
 * Owns: reading a plaintext RTP packet's header into a rooms_rtp_t, with
 * every length checked against the buffer; finding one header extension
 * element by its local id; rewriting SSRC, sequence number, timestamp,
 * payload type and the abs-send-time and transport-wide-cc values in
 * place; recognizing VP8 keyframes.  Sans-IO: no allocation, no clock,
 * no I/O.  It must never read or write a byte outside the buffer it is
 * given, never move bytes (rewrites keep every length), and never decide
 * routing: the SFU does that with what this file reports.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h
 */

#ifndef ROOMS_RTP_H
#define ROOMS_RTP_H

#include <stddef.h>
#include <stdint.h>


#define ROOMS_RTP_HEADER_LEN       12         /* the fixed part */

/* the "defined by profile" words of RFC 8285 header extension blocks */
#define ROOMS_RTP_EXT_ONE_BYTE     0xBEDE
#define ROOMS_RTP_EXT_TWO_BYTE     0x1000     /* 0x100 and 4 app bits */

/* value sizes of the extensions the SFU rewrites */
#define ROOMS_RTP_ABS_SEND_TIME_LEN  3        /* 6.18 fixed point seconds */
#define ROOMS_RTP_TWCC_LEN           2        /* transport-wide seq nr */


typedef struct {
    const uint8_t  *buf;          /* the parsed packet */
    size_t          len;          /* its whole length */

    unsigned        padding;      /* P */
    unsigned        extension;    /* X */
    unsigned        csrc_count;   /* CC */
    unsigned        marker;       /* M */
    unsigned        pt;           /* payload type, 7 bits */
    uint16_t        seq;
    uint32_t        ts;
    uint32_t        ssrc;

    /* header extension block, when X: profile word and the element data */
    uint16_t        ext_profile;  /* 0 when there is no block */
    size_t          ext_off;      /* offset of the data after its header */
    size_t          ext_len;      /* bytes of data (4 * the length word) */

    size_t          header_len;   /* fixed + CSRCs + extension block */
    size_t          payload_off;  /* == header_len */
    size_t          payload_len;  /* without padding */
    size_t          pad_len;      /* padding bytes, the count byte included */
} rooms_rtp_t;


/* What the VP8 payload descriptor of one RTP packet says (RFC 7741 §4.2) */
typedef struct {
    unsigned        start;        /* S: first packet of a partition */
    unsigned        partition;    /* PID */
    unsigned        non_ref;      /* N: no other frame refers to this one */
    int             picture_id;   /* -1 when absent */
    unsigned        picture_id_bits;  /* 7 or 15 (0 when absent) */
    int             tl0picidx;    /* -1 when absent */
    int             tid;          /* temporal layer, -1 when absent */
    unsigned        layer_sync;   /* Y */
    int             keyidx;       /* -1 when absent */
    size_t          desc_len;     /* bytes of descriptor before VP8 data */
    unsigned        keyframe;     /* starts a keyframe (S, PID 0, P == 0) */
} rooms_vp8_t;


/*
 * Parses the header of the plaintext RTP packet buf[0..len).  Checks: V is
 * 2; the CSRC list and the extension block fit; one- and two-byte
 * extension blocks (RFC 8285) hold well-formed elements; padding, when P,
 * counts at least its own byte and no more than the payload.  Fills *out
 * (out->buf points into buf: it lives as long as buf).  Returns 0 or -1;
 * on -1 *out is unspecified.
 */
int rooms_rtp_parse(const uint8_t *buf, size_t len, rooms_rtp_t *out);

/*
 * Finds header extension element id (1..14 in the one-byte form, 1..255 in
 * the two-byte form) in a parsed packet.  Sets *data and *len (which may
 * be 0 in the two-byte form) and returns 0, or returns -1 when the packet
 * has no such element.  The first element with the id wins.
 */
int rooms_rtp_ext_find(const rooms_rtp_t *pkt, unsigned id,
    const uint8_t **data, size_t *len);

/*
 * rtcp-mux demultiplex (RFC 5761 §4): 1 when the datagram is RTCP (V=2 and
 * a second byte of 192..223, which RTP payload types 64..95 with the
 * marker would collide with, so those are never used), 0 otherwise.  The
 * datagram was already classified as RTP/RTCP by its first byte
 * (RFC 7983: 128..191).
 */
int rooms_rtp_is_rtcp(const uint8_t *buf, size_t len);

/*
 * In-place setters of the fixed header.  buf must hold a packet that
 * rooms_rtp_parse() accepted (12 bytes at least); nothing else moves.
 */
void rooms_rtp_set_ssrc(uint8_t *buf, uint32_t ssrc);
void rooms_rtp_set_seq(uint8_t *buf, uint16_t seq);
void rooms_rtp_set_ts(uint8_t *buf, uint32_t ts);
void rooms_rtp_set_pt(uint8_t *buf, unsigned pt);    /* keeps M */

/*
 * In-place setters of extension values.  pkt is the parse of buf (the same
 * bytes); id is the extension's negotiated id.  abs-send-time keeps the
 * low 24 bits of value; transport-wide-cc the low 16.  Return 0, or -1
 * when the element is absent or its length is not the extension's.
 */
int rooms_rtp_set_abs_send_time(uint8_t *buf, const rooms_rtp_t *pkt,
    unsigned id, uint32_t value);
int rooms_rtp_set_twcc_seq(uint8_t *buf, const rooms_rtp_t *pkt,
    unsigned id, uint16_t value);

/* Reads the transport-wide-cc sequence number; 0 or -1 when absent. */
int rooms_rtp_get_twcc_seq(const rooms_rtp_t *pkt, unsigned id,
    uint16_t *value);

/*
 * Parses the VP8 payload descriptor at the start of payload[0..len) (an
 * RTP packet's payload, padding removed).  out->keyframe is set when the
 * packet starts partition 0 of a frame whose VP8 payload header has the
 * P (inverse keyframe) bit clear.  Returns 0, or -1 when the descriptor
 * does not fit or no VP8 data follows it.
 */
int rooms_rtp_vp8_parse(const uint8_t *payload, size_t len,
    rooms_vp8_t *out);


#endif /* ROOMS_RTP_H */
