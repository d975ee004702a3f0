/*
 * forward.h: what the SFU keeps per (subscriber, outgoing stream) to
 * forward RTP: the SSRC/sequence/timestamp rewriting state, the history
 * of sent packets that answers NACKs, and the keyframe request throttle
 * kept per publisher stream.
 *
 * Owns: the mapping from whichever source currently feeds an outgoing
 * stream (a publisher's stream, or one simulcast layer of it) to the
 * subscriber's view of one continuous stream, both ways (RTP's numbers,
 * and VP8's PictureID and TL0PICIDX); the copies of
 * the last N packets of a stream; the 500 ms spacing of PLI/FIR towards
 * a publisher.
 * Sans-IO: the caller passes the time (now_ms, any monotonic millisecond
 * clock) and the packets; nothing here reads a clock, does I/O or
 * allocates per packet (the history allocates once, at init).  It never
 * chooses which source feeds a stream (layer selection, keyframe waits):
 * the router does, and only hands the chosen source's packets here.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h
 */

#ifndef ROOMS_FORWARD_H
#define ROOMS_FORWARD_H

#include <stddef.h>
#include <stdint.h>


#define ROOMS_FWD_DROP            -1     /* rooms_fwd_rewrite(): not sent */

/*
 * One history slot holds a whole plaintext RTP packet of an Ethernet MTU
 * (the SFU never forwards more than that).  The memory is
 * n * ROOMS_HIST_SLOT bytes plus 10 bytes of index per slot, allocated
 * once: ROOMS_HIST_DEFAULT (512) slots take 512 * 1500 = 768,000 bytes
 * (750 KiB) per outgoing stream.  n must be a power of two so that slots
 * map to sequence numbers the same way across the 16-bit wrap.
 */
#define ROOMS_HIST_SLOT           1500
#define ROOMS_HIST_DEFAULT        512
#define ROOMS_HIST_MAX            32768  /* half the sequence space */

/*
 * Keyframe requests (PLI) towards one publisher stream: at most one per
 * ROOMS_KF_INTERVAL_MS while the last is unanswered (a keyframe is large:
 * a storm of them fills the publisher's uplink), but one per
 * ROOMS_KF_ANSWERED_MS once a keyframe answered it: a subscriber that
 * comes just after someone else's request is not made to wait out the
 * whole interval for its first picture (docs/join-time.md).
 */
#define ROOMS_KF_INTERVAL_MS      500
#define ROOMS_KF_ANSWERED_MS      100


typedef struct {
    uint32_t        out_ssrc;     /* what the subscriber sees */
    uint32_t        clock_rate;   /* Hz: 90000 video, 48000 Opus */

    unsigned        started;      /* a packet was sent */
    unsigned        has_src;      /* src_ssrc and offsets are valid */
    unsigned        force_switch; /* rooms_fwd_switch() was called */

    uint32_t        src_ssrc;     /* the current source */
    uint16_t        seq_off;      /* out seq = in seq + seq_off */
    uint32_t        ts_off;       /* out ts  = in ts  + ts_off */
    int64_t         src_base;     /* first extended seq after the switch */
    int64_t         src_max;      /* highest extended seq of the source */

    uint16_t        last_seq;     /* highest out seq sent */
    uint32_t        last_ts;      /* highest out ts sent */
    int64_t         last_ts_ms;   /* now_ms when last_ts was first sent */

    /*
     * VP8's own numbering (RFC 7741 §4.2), continued across a switch as
     * seq and ts are: each simulcast layer is its own encoder with its
     * own PictureID and TL0PICIDX, and a decoder that sees them jump at a
     * switch takes the new layer's frames for ones it already passed or
     * for ones still missing (a frozen picture until its next keyframe).
     */
    unsigned        vp8_started;  /* a PictureID was sent */
    unsigned        vp8_rebase;   /* the next one sets the offsets */
    uint16_t        pid_off;      /* out PictureID = in + pid_off, mod 2^15 */
    uint16_t        last_pid;     /* highest out PictureID sent */
    uint8_t         tl0_off;      /* out TL0PICIDX = in + tl0_off, mod 2^8 */
    uint8_t         last_tl0;     /* highest out TL0PICIDX sent */

    /* what the router may want to know */
    uint64_t        switches;
    uint64_t        dropped;      /* older than the switch of their source */
} rooms_fwd_t;


typedef struct {
    size_t          n;            /* slots: a power of two */
    uint8_t        *data;         /* n * ROOMS_HIST_SLOT */
    uint64_t       *ext;          /* extended seq of each slot; 0: empty */
    uint16_t       *lens;
    uint64_t        newest;       /* extended seq of the newest put */
    unsigned        any;          /* something was put */
} rooms_hist_t;


typedef struct {
    unsigned        interval_ms;
    unsigned        sent;         /* a request went out at last_ms */
    unsigned        pending;      /* one was suppressed since */
    unsigned        answered;     /* a keyframe came since last_ms */
    int64_t         last_ms;
} rooms_kf_throttle_t;


/*
 * Starts an outgoing stream: out_ssrc is the SSRC the subscriber sees,
 * clock_rate the RTP clock of the codec, and the first packet sent
 * carries seq0 and ts0 (the caller draws them at random, RFC 3550 §5.1).
 */
void rooms_fwd_init(rooms_fwd_t *fwd, uint32_t out_ssrc, uint32_t clock_rate,
    uint16_t seq0, uint32_t ts0);

/*
 * Makes the next packet start a new source even if its SSRC is the
 * current one's (a publisher that restarted its stream).  A packet whose
 * SSRC differs from the current source's starts a new source by itself.
 */
void rooms_fwd_switch(rooms_fwd_t *fwd);

/*
 * Rewrites the plaintext RTP packet pkt[0..len) in place for this
 * subscriber: SSRC to out_ssrc, seq and ts through the current offsets.
 *
 * The first packet of a new source continues the subscriber's stream: its
 * seq is the highest sent + 1, its ts the highest sent plus the wall time
 * since that ts was first sent, (now_ms - then) * clock_rate / 1000, and
 * at least 1.  Later packets of the source keep their distance to it, so
 * losses stay visible as gaps (the subscriber NACKs them) and reordered or
 * duplicated packets keep their order and repeat.  Packets of the source
 * older than its first packet after the switch would collide with what
 * the previous source sent: they are dropped.  A late packet of the
 * previous source would start yet another switch, so the router must not
 * pass it (it knows which source it selected).
 *
 * Returns the new sequence number (0..65535), or ROOMS_FWD_DROP for such
 * an old packet or one too short to be RTP (then pkt is unchanged).
 */
int rooms_fwd_rewrite(rooms_fwd_t *fwd, int64_t now_ms, uint8_t *pkt,
    size_t len);


/*
 * The number the current source gave the packet this subscriber saw as
 * out_seq: 0 with *in_seq set, or -1 when out_seq was not sent from the
 * current source (before its switch, or not sent yet).  A history kept
 * of the source's own packets (one per publisher stream, shared by all
 * its subscribers) answers a NACK through this and rooms_fwd_replay().
 */
int rooms_fwd_source_seq(const rooms_fwd_t *fwd, uint16_t out_seq,
    uint16_t *in_seq);

/*
 * Rewrites pkt[0..len), a packet of the current source that was sent
 * before, as rooms_fwd_rewrite() did then (SSRC, seq, ts), without
 * changing fwd.  Returns its sequence number for the subscriber, or
 * ROOMS_FWD_DROP when it is not RTP of the current source.
 */
int rooms_fwd_replay(const rooms_fwd_t *fwd, uint8_t *pkt, size_t len);

/*
 * Rewrites in place the VP8 payload descriptor (RFC 7741 §4.2) at
 * payload[0..len) of a packet rooms_fwd_rewrite() just passed: its
 * PictureID and TL0PICIDX, when present, through the current offsets.
 * The first of them after a new source starts continues the numbers the
 * subscriber saw (the highest sent + 1), as rooms_fwd_rewrite() does for
 * seq.  A 7-bit PictureID wraps at 128, a 15-bit one at 32768.  Does
 * nothing for a payload too short to hold what its descriptor says.
 */
void rooms_fwd_vp8(rooms_fwd_t *fwd, uint8_t *payload, size_t len);

/*
 * The same for a packet rooms_fwd_replay() rewrote (a NACK answer):
 * through the current offsets, without changing fwd.
 */
void rooms_fwd_vp8_replay(const rooms_fwd_t *fwd, uint8_t *payload,
    size_t len);


/*
 * Allocates n slots (a power of two, 1..ROOMS_HIST_MAX): n * 1500 bytes
 * plus the index.  Returns 0, or -1 on a bad n or no memory.
 */
int rooms_hist_init(rooms_hist_t *h, size_t n);
void rooms_hist_free(rooms_hist_t *h);

/*
 * Keeps a copy of the plaintext packet pkt[0..len), keyed by its
 * sequence number, replacing the one N packets older.  Returns 0, or -1
 * when len is not 12..ROOMS_HIST_SLOT or the packet is older than the
 * whole window (not kept).
 */
int rooms_hist_put(rooms_hist_t *h, const uint8_t *pkt, size_t len);

/*
 * The kept copy of seq for a NACK answer: a pointer into the history
 * (valid until the next put) and *len, or NULL when it was never kept,
 * was overwritten, or is newer than anything kept.
 */
const uint8_t *rooms_hist_get(const rooms_hist_t *h, uint16_t seq,
    size_t *len);


/* interval_ms: the least time between two requests (ROOMS_KF_INTERVAL_MS) */
void rooms_kf_init(rooms_kf_throttle_t *t, unsigned interval_ms);

/*
 * A PLI or FIR towards the publisher stream is wanted at now_ms.  Returns
 * 1 when it may be sent now (and records it), 0 when it is suppressed:
 * then it is remembered as pending, see rooms_kf_timeout().
 */
int rooms_kf_allow(rooms_kf_throttle_t *t, int64_t now_ms);

/*
 * A keyframe of the stream arrived: the last request is answered, and
 * the next may go ROOMS_KF_ANSWERED_MS after it instead of the interval.
 */
void rooms_kf_keyframe(rooms_kf_throttle_t *t);

/*
 * Milliseconds until a suppressed request may go (call rooms_kf_allow()
 * then), 0 when it may go now, or -1 when nothing is pending.
 */
int64_t rooms_kf_timeout(const rooms_kf_throttle_t *t, int64_t now_ms);


#endif /* ROOMS_FORWARD_H */
