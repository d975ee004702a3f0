/*
 * twcc.h: transport-wide congestion control feedback, receiver side
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01): the arrival times
 * of one media session's RTP packets (one BUNDLE transport), keyed by the
 * transport-wide sequence number of their header extension, turned into
 * RTCP transport feedback (RTPFB, FMT 15) on a Chromium-like cadence; and
 * the parser of such feedback.
 *
 * Owns: unwrapping the 16-bit sequence numbers, a fixed window of the
 * last ROOMS_TWCC_WINDOW arrival times, when the next feedback is due,
 * and the bytes of each feedback packet (packet chunks, receive deltas,
 * the reference time, the feedback count, padding).  Sans-IO: time comes
 * in as now_us (any monotonic microsecond clock, >= 0), output goes to the
 * caller's buffer.  It must never read a clock, do I/O, draw random
 * numbers or allocate (the window lives in the struct), never write past
 * the capacity it is given, never read past the length it is given, and
 * never estimate bandwidth: the sender of the media does, from the
 * feedback.  Packets are plaintext here: SRTCP protection is the
 * caller's.
 *
 * May not: include <sys/socket.h>, include sfu.h
 */

#ifndef ROOMS_TWCC_H
#define ROOMS_TWCC_H

#include <stddef.h>
#include <stdint.h>


/*
 * The arrival times kept, as a power of two so that a slot maps to the
 * same sequence numbers across the 16-bit wrap.  Why 1024: feedback goes
 * out at least every ROOMS_TWCC_INTERVAL_US and as soon as
 * ROOMS_TWCC_BURST statuses are pending, so the window only bounds how
 * late a reordered packet may still be reported (1024 packets is ~1 s of
 * 10 Mbit/s video in 1200-byte packets, far past any real reordering) and
 * how far the sequence may jump before unreported statuses are given up.
 * It costs 8 KiB per media session.
 */
#define ROOMS_TWCC_WINDOW         1024

/*
 * The feedback cadence.  Chromium's receiver sends every 100 ms by
 * default (50..250 ms as it adapts to the bitrate); the SFU keeps the
 * default (rooms_twcc_t.interval_us may be changed after init).  100
 * pending statuses make feedback due at once, so a fast sender hears
 * about its packets within a few tens of ms and one feedback stays small.
 */
#define ROOMS_TWCC_INTERVAL_US    100000
#define ROOMS_TWCC_BURST          100

/*
 * Sequence numbers that are older than the window, or more than a window
 * ahead of the highest seen, are dropped: a corrupted or stray packet
 * must not throw away the statuses waiting to be reported.  Why 16: a
 * sender that really jumped (or restarted its numbering) keeps sending
 * from the new place, so 16 such packets in a row (a few ms of video)
 * restart the window there; one in-window packet in between resets the
 * count.
 */
#define ROOMS_TWCC_RESYNC         16

/*
 * The largest feedback packet built: RTCP must fit one datagram of a
 * typical MTU together with SRTCP's trailer and the IP/UDP headers.
 */
#define ROOMS_TWCC_MAX_LEN        1200

/*
 * The least capacity rooms_twcc_poll() accepts: the header (4), the two
 * SSRCs (8), base, count, reference time and feedback count (8), one
 * chunk (2) and one 2-byte delta: 24 bytes, a multiple of 4.
 */
#define ROOMS_TWCC_MIN_LEN        24

/* the fixed part of the FCI: base, status count, ref time, fb count */
#define ROOMS_TWCC_FCI_MIN        8

/* packet status symbols (two bits on the wire) */
#define ROOMS_TWCC_NOT_RECEIVED   0
#define ROOMS_TWCC_SMALL_DELTA    1      /* received, delta 0..255 ticks */
#define ROOMS_TWCC_LARGE_DELTA    2      /* received, signed 16-bit delta */

#define ROOMS_TWCC_DELTA_US       250    /* one receive delta tick */
#define ROOMS_TWCC_REF_US         64000  /* one reference time unit */


typedef struct {
    uint32_t        sender_ssrc;  /* the SFU's feedback SSRC */
    uint32_t        media_ssrc;   /* a media SSRC of the session */
    int64_t         interval_us;  /* ROOMS_TWCC_INTERVAL_US by default */

    unsigned        started;      /* a packet was recorded */
    unsigned        sent;         /* a feedback went out at last_fb_us */
    unsigned        more;         /* the last poll left statuses behind */
    unsigned        strays;       /* dropped in a row, for the resync */
    uint8_t         fb_count;     /* of the next feedback packet */

    /* extended sequence numbers: [next, end) is waiting to be reported */
    int64_t         next;
    int64_t         end;          /* the highest recorded + 1 */

    int64_t         last_us;      /* the latest now_us seen */
    int64_t         last_fb_us;
    int64_t         pending_us;   /* when [next, end) became non-empty */

    /* what the SFU may want to log */
    uint64_t        recorded;
    uint64_t        duplicates;
    uint64_t        late;         /* recorded behind what was reported
                                     (or before the first packet) */
    uint64_t        dropped;      /* out of the window */
    uint64_t        abandoned;    /* statuses pushed out unreported */
    uint64_t        resyncs;
    uint64_t        feedbacks;

    /* arrival time per extended seq & (WINDOW - 1); INT64_MIN: none */
    int64_t         arrival[ROOMS_TWCC_WINDOW];
} rooms_twcc_t;


/* the fixed fields of a parsed feedback */
typedef struct {
    uint32_t        sender_ssrc;  /* rooms_twcc_parse_packet() only */
    uint32_t        media_ssrc;   /* rooms_twcc_parse_packet() only */
    uint16_t        base_seq;
    uint16_t        status_count;
    int32_t         ref_time;     /* signed 24 bits, ROOMS_TWCC_REF_US */
    uint8_t         fb_count;
    unsigned        received;     /* statuses that are not NOT_RECEIVED */
} rooms_twcc_info_t;

/* one packet status of a parsed feedback */
typedef struct {
    uint16_t        seq;
    uint8_t         status;       /* ROOMS_TWCC_NOT_RECEIVED, ... */
    int32_t         delta;        /* ticks since the previous received
                                     packet (or the reference time); 0
                                     when not received */
    int64_t         at_us;        /* received: ref_time * 64000 plus the
                                     deltas so far, the arrival on the
                                     feedback sender's clock modulo
                                     2^24 * 64 ms */
} rooms_twcc_status_t;


/*
 * Starts the receiver side of one media session: feedback is sent from
 * sender_ssrc about media_ssrc (Chromium reads neither; use the SFU's
 * feedback SSRC and one of the session's incoming SSRCs).
 */
void rooms_twcc_init(rooms_twcc_t *t, uint32_t sender_ssrc,
    uint32_t media_ssrc);

/*
 * Records that the packet with transport-wide sequence number twcc_seq
 * arrived at now_us.  The number is unwrapped against the highest seen.
 * A duplicate keeps the first arrival.  A packet reported lost that
 * arrives while still in the window is recorded and reported again from
 * there in the next feedback (with the statuses after it).  Numbers
 * ROOMS_TWCC_WINDOW or more behind the highest, or more than that ahead
 * of it, are dropped, until ROOMS_TWCC_RESYNC in a row restart the window
 * at the new place.
 * A jump ahead within the window gives up the oldest unreported statuses
 * when [next, end) would not fit.  Returns 1 when recorded, 0 when
 * ignored (duplicate or dropped).
 */
int rooms_twcc_input(rooms_twcc_t *t, int64_t now_us, uint16_t twcc_seq);

/*
 * When the next feedback is due, on the now_us clock: -1 when nothing is
 * waiting.  The first packet after an idle time is due at once (so the
 * sender learns its round-trip time early), later ones interval_us after
 * the previous feedback; ROOMS_TWCC_BURST waiting statuses, or what a
 * poll left behind, are due at once (a time <= the latest now_us seen).
 */
int64_t rooms_twcc_timeout(const rooms_twcc_t *t);

/*
 * Builds one plaintext transport feedback packet at out (cap bytes) when
 * one is due at now_us, covering the oldest waiting statuses: base
 * sequence number, status count, a reference time (the first received
 * packet's arrival, floored to 64 ms, modulo 2^24), the feedback count,
 * run-length and status vector chunks, receive deltas in 250 us ticks
 * rounded to the nearest (the rounding never accumulates), then padding to
 * 32 bits with the P bit set and the count in its last byte.  A packet is
 * at most min(cap, ROOMS_TWCC_MAX_LEN) bytes; it ends early, leaving the
 * rest due at once, when the next status would not fit or its delta would
 * not fit 16 signed bits (the next feedback starts there with a new
 * reference time).  Call it again until it returns 0.
 *
 * Returns the packet's length, 0 when nothing is due, or -1 when cap is
 * below ROOMS_TWCC_MIN_LEN (nothing changes then).
 */
int rooms_twcc_poll(rooms_twcc_t *t, int64_t now_us, uint8_t *out,
    size_t cap);

/*
 * Parses a transport feedback FCI fci[0..len) (after the media SSRC, RTCP
 * padding removed; up to 3 trailing zero bytes of unsignalled padding are
 * allowed): the fixed fields into *info (the SSRCs are left alone) and
 * the first cap statuses into out[] (out may be NULL when cap is 0).  The
 * whole FCI is checked whatever cap is: every chunk and delta inside len,
 * no reserved symbol among the counted statuses, no empty run, a status
 * count of at least 1.  Returns the status count, or -1 when malformed.
 */
int rooms_twcc_parse_fci(const uint8_t *fci, size_t len,
    rooms_twcc_info_t *info, rooms_twcc_status_t *out, size_t cap);

/*
 * The same for one whole RTCP packet pkt[0..len) (V=2, PT 205, FMT 15,
 * its length word exactly len, padding of any count its body can hold),
 * also filling info's SSRCs: for a packet on its own.  In a compound,
 * walk with rooms_rtcp_next() and give the FCI (body + 8, body_len - 8)
 * to rooms_twcc_parse_fci().  Returns as above.
 */
int rooms_twcc_parse_packet(const uint8_t *pkt, size_t len,
    rooms_twcc_info_t *info, rooms_twcc_status_t *out, size_t cap);


#endif /* ROOMS_TWCC_H */
