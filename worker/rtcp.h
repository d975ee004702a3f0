/*
 * rtcp.h: RTCP compound packets (RFC 3550 §6), the feedback messages an
 * SFU handles (RFC 4585 NACK and PLI, RFC 5104 FIR, transport-wide-cc,
 * REMB), and the packets it builds.
 *
 * Owns: walking a plaintext compound packet with strict bounds, parsing
 * the packet types into plain structs, building PLI, FIR, NACK, RR and SDES,
 * and rewriting the SSRCs of feedback in place.  Sans-IO: no allocation,
 * no clock, no I/O.  It must never read past the length it is given,
 * never write past the capacity it is given, and never decide what to do
 * with feedback: the SFU does.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h
 */

#ifndef ROOMS_RTCP_H
#define ROOMS_RTCP_H

#include <stddef.h>
#include <stdint.h>


/* packet types */
#define ROOMS_RTCP_SR              200
#define ROOMS_RTCP_RR              201
#define ROOMS_RTCP_SDES            202
#define ROOMS_RTCP_BYE             203
#define ROOMS_RTCP_APP             204
#define ROOMS_RTCP_RTPFB           205        /* transport layer feedback */
#define ROOMS_RTCP_PSFB            206        /* payload-specific feedback */

/* feedback message types (the FMT field) */
#define ROOMS_RTCP_FMT_NACK        1          /* RTPFB */
#define ROOMS_RTCP_FMT_TWCC        15         /* RTPFB */
#define ROOMS_RTCP_FMT_PLI         1          /* PSFB */
#define ROOMS_RTCP_FMT_FIR         4          /* PSFB */
#define ROOMS_RTCP_FMT_REMB        15         /* PSFB (application layer) */

/* rooms_rtcp_next() results */
#define ROOMS_RTCP_OK              1          /* *out holds the next packet */
#define ROOMS_RTCP_END             0          /* the compound is consumed */
#define ROOMS_RTCP_ERROR          -1

#define ROOMS_RTCP_HEADER_LEN      4
#define ROOMS_RTCP_MAX_REPORTS     31         /* 5-bit count */
#define ROOMS_RTCP_MAX_REMB_SSRCS  255        /* 8-bit count */

/* what the builders write */
#define ROOMS_RTCP_PLI_LEN         12
#define ROOMS_RTCP_FIR_LEN         20         /* one FCI entry */
#define ROOMS_RTCP_RR_LEN          32         /* one report block */
/* an RR of n report blocks */
#define ROOMS_RTCP_RR_BLOCKS_LEN(n)  (8 + 24 * (n))
/*
 * an SDES packet of one chunk holding only a CNAME of n bytes: SSRC, the
 * item (type, length, text), the END item, padded to 32 bits
 */
#define ROOMS_RTCP_SDES_CNAME_LEN(n) ((4 + 4 + 2 + (n) + 1 + 3) & ~(size_t) 3)
/* a NACK packet of n FCI items (pid + blp) */
#define ROOMS_RTCP_NACK_LEN(n)     (12 + 4 * (n))


/* one packet of a compound */
typedef struct {
    size_t          off;          /* its offset in the compound */
    size_t          len;          /* its bytes, padding included */
    unsigned        pt;           /* packet type */
    unsigned        count;        /* RC, SC or FMT: the low 5 bits */
    const uint8_t  *body;         /* after the 4-byte header */
    size_t          body_len;     /* padding removed */
} rooms_rtcp_hdr_t;

/* a report block (RFC 3550 §6.4.1) */
typedef struct {
    uint32_t        ssrc;         /* the source reported on */
    uint8_t         fraction_lost;
    int32_t         cumulative_lost;    /* signed 24 bits */
    uint32_t        highest_seq;  /* extended highest sequence number */
    uint32_t        jitter;
    uint32_t        lsr;          /* middle 32 bits of the last SR's NTP */
    uint32_t        dlsr;         /* 1/65536 s since that SR */
} rooms_rtcp_rb_t;

/* SR (with sender info) or RR (without) */
typedef struct {
    uint32_t        ssrc;         /* the sender of the report */
    uint32_t        ntp_sec;      /* SR only */
    uint32_t        ntp_frac;
    uint32_t        rtp_ts;
    uint32_t        packet_count;
    uint32_t        octet_count;
    unsigned        report_count;
    rooms_rtcp_rb_t reports[ROOMS_RTCP_MAX_REPORTS];
} rooms_rtcp_report_t;

typedef struct {
    unsigned        count;
    uint32_t        ssrcs[ROOMS_RTCP_MAX_REPORTS];
    const uint8_t  *reason;       /* NULL when there is none */
    size_t          reason_len;
} rooms_rtcp_bye_t;

/* the common part of RTPFB and PSFB (RFC 4585 §6.1) */
typedef struct {
    unsigned        pt;           /* ROOMS_RTCP_RTPFB or ROOMS_RTCP_PSFB */
    unsigned        fmt;
    uint32_t        sender_ssrc;
    uint32_t        media_ssrc;
    const uint8_t  *fci;          /* feedback control information */
    size_t          fci_len;
} rooms_rtcp_fb_t;

typedef struct {
    uint32_t        ssrc;
    uint8_t         seq_nr;
} rooms_rtcp_fir_entry_t;

typedef struct {
    uint64_t        bitrate;      /* bits per second: mantissa << exp */
    unsigned        exp;
    uint32_t        mantissa;
    unsigned        ssrc_count;
    uint32_t        ssrcs[ROOMS_RTCP_MAX_REMB_SSRCS];
} rooms_rtcp_remb_t;


/*
 * Steps through the compound packet buf[0..len): *off starts at 0.  Each
 * call checks the packet at *off (V=2, its length word within the buffer,
 * padding only on the last packet and then a count of 1 up to its body's
 * length, as RFC 3550 allows: transport-cc feedback pads 1..3 bytes),
 * fills *out (body_len without the padding) and advances *off.  Returns ROOMS_RTCP_OK,
 * ROOMS_RTCP_END after the last packet, or ROOMS_RTCP_ERROR; an empty
 * buffer or bytes left over that cannot hold a header are an error.
 */
int rooms_rtcp_next(const uint8_t *buf, size_t len, size_t *off,
    rooms_rtcp_hdr_t *out);

/*
 * Walks the whole compound (rooms_rtcp_next until the end) and also
 * parses each SR, RR, BYE and feedback packet it knows; returns the number
 * of packets, or -1 when any of them is malformed.  The SFU calls it
 * before acting on any part, so a compound is used whole or not at all.
 */
int rooms_rtcp_check(const uint8_t *buf, size_t len);

/* SR or RR into *out.  Returns 0, or -1 when the body is too short. */
int rooms_rtcp_report_parse(const rooms_rtcp_hdr_t *h,
    rooms_rtcp_report_t *out);

int rooms_rtcp_bye_parse(const rooms_rtcp_hdr_t *h, rooms_rtcp_bye_t *out);

/*
 * RTPFB or PSFB: the SSRCs and the raw FCI.  Transport-wide-cc feedback is
 * used as is (fmt 15, fci).  Returns 0 or -1.
 */
int rooms_rtcp_fb_parse(const rooms_rtcp_hdr_t *h, rooms_rtcp_fb_t *out);

/*
 * Generic NACK (RTPFB fmt 1): the number of FCI items, and item i as its
 * PID and BLP (bit k of blp set: pid + k + 1 is lost too).  -1 when the
 * FCI is not whole items.
 */
int rooms_rtcp_nack_count(const rooms_rtcp_fb_t *fb);
void rooms_rtcp_nack_item(const rooms_rtcp_fb_t *fb, unsigned i,
    uint16_t *pid, uint16_t *blp);

/*
 * Expands every lost sequence number of a NACK into lost[0..cap), in item
 * order.  Returns how many were written (at most cap), or -1 when the FCI
 * is not whole items.
 */
int rooms_rtcp_nack_expand(const rooms_rtcp_fb_t *fb, uint16_t *lost,
    size_t cap);

/*
 * FIR (PSFB fmt 4): up to cap entries into out.  Returns how many entries
 * the packet has (which may exceed cap), or -1 when the FCI is not whole
 * 8-byte entries or is empty.
 */
int rooms_rtcp_fir_parse(const rooms_rtcp_fb_t *fb,
    rooms_rtcp_fir_entry_t *out, size_t cap);

/* PLI (PSFB fmt 1): 1 when fb is a PLI with the empty FCI it must have. */
int rooms_rtcp_is_pli(const rooms_rtcp_fb_t *fb);

/*
 * REMB (PSFB fmt 15 whose FCI starts with "REMB").  Returns 0, or -1 when
 * fb is not a REMB or its SSRC list does not fit.
 */
int rooms_rtcp_remb_parse(const rooms_rtcp_fb_t *fb, rooms_rtcp_remb_t *out);

/*
 * Builders: each writes one packet at buf (cap bytes) and returns its
 * length, or 0 when cap is too small.  SSRCs: sender is the SSRC the SFU
 * sends feedback from, media the stream it is about.
 */
size_t rooms_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender,
    uint32_t media);

/*
 * FIR for media with the caller's command sequence number: the caller
 * keeps seq_nr per media stream and increments it for each new request,
 * repeating it only for a retransmission of the same request (RFC 5104
 * §4.3.1.1).  The header's media SSRC is 0, as that section requires.
 */
size_t rooms_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender,
    uint32_t media, uint8_t seq_nr);

/*
 * Generic NACK for the n sequence numbers lost[]: each item covers a PID
 * and the 16 that follow it.  Give them in increasing order (modulo 2^16)
 * for the fewest items; any order is correct.  Duplicates are folded.
 * Returns 0 when n is 0 or cap is too small for the items needed.
 */
size_t rooms_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender,
    uint32_t media, const uint16_t *lost, size_t n);

/*
 * A receiver report from sender with the one report block *rb.
 * cumulative_lost is clamped to the signed 24-bit range.
 */
size_t rooms_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t sender,
    const rooms_rtcp_rb_t *rb);

/*
 * A receiver report from sender with the n report blocks rb[0..n), n at
 * most ROOMS_RTCP_MAX_REPORTS (0 makes the empty RR); each
 * cumulative_lost is clamped as above.
 */
size_t rooms_rtcp_build_rr_blocks(uint8_t *buf, size_t cap, uint32_t sender,
    const rooms_rtcp_rb_t *rb, size_t n);

/*
 * An SDES packet with one chunk: ssrc and its CNAME (1..255 bytes), the
 * second packet of a compound RTCP packet (RFC 3550 §6.1).
 */
size_t rooms_rtcp_build_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc,
    const char *cname);

/*
 * Rewrites in place the stream a PLI, FIR or NACK is about, in the
 * compound buf that h was read from: the media SSRC of a PLI or NACK, the
 * SSRC of every FCI entry of a FIR (the SFU keeps one entry per packet).
 * Returns 0, or -1 for any other packet.
 */
int rooms_rtcp_set_media_ssrc(uint8_t *buf, const rooms_rtcp_hdr_t *h,
    uint32_t ssrc);

/* Rewrites the sender SSRC of a feedback packet; 0 or -1. */
int rooms_rtcp_set_sender_ssrc(uint8_t *buf, const rooms_rtcp_hdr_t *h,
    uint32_t ssrc);


#endif /* ROOMS_RTCP_H */
