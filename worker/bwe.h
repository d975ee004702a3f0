/*
 * bwe.h: send-side bandwidth estimation towards one subscriber (the SFU
 * as the sender of media), from the subscriber's transport-wide-cc
 * feedback, after the ideas of Google Congestion Control
 * (draft-ietf-rmcat-gcc-02): a delay-based estimate (inter-group delay
 * variation, a trendline with an adaptive threshold, AIMD rate control
 * on the acknowledged bitrate), a loss-based limit, and bounded probing.
 *
 * Owns: the record of the last ROOMS_BWE_HISTORY packets sent to the
 * subscriber (transport-wide sequence number, send time, size, probe
 * cluster), matching feedback statuses to them, the acknowledged bitrate,
 * the round-trip time seen through feedback, the delay and loss
 * controllers, when and how hard to probe, and the estimate itself.
 * Sans-IO: time comes in as now_us (one monotonic microsecond clock,
 * >= 0; a time behind the latest seen is taken as the latest), feedback as statuses already parsed by
 * rooms_twcc_parse_fci(); the estimate and the next probe go out as
 * return values.  It must never read a clock, do I/O, draw random
 * numbers or allocate (everything lives in the struct), never trust a
 * status it cannot match to a packet it sent, and never choose what to
 * send: the layer chooser (layer.h) and the SFU do, within the estimate.
 * May not: include <sys/socket.h>, include <pthread.h>, include <time.h>, include <stdlib.h>, call clock_gettime, call gettimeofday, call time, call malloc, call calloc, call free, call rand, call random, call json_, call rooms_store_, call rooms_sfu_
 */

#ifndef ROOMS_BWE_H
#define ROOMS_BWE_H

#include <stddef.h>
#include <stdint.h>

#include "twcc.h"


/*
 * The sent packets remembered, a power of two so that a slot maps to the
 * same sequence numbers across the 16-bit wrap.  Why 4096: a packet must
 * still be known when its feedback comes back, one feedback interval
 * (100 ms) plus a round trip that queueing may stretch to a second or
 * more; 4096 packets are ~4 s at 10 Mbit/s in 1200-byte packets (2+ s at
 * 20 Mbit/s), far above what one subscriber of a room receives.  16 bytes
 * a slot: 64 KiB per subscriber.
 */
#define ROOMS_BWE_HISTORY         4096

/*
 * Packets sent within 5 ms of the first packet of a group form one group
 * (GCC §5.2: a video frame leaves in such a burst); delay variation is
 * measured between groups, not packets, so a frame's own pacing is not
 * read as queueing.
 */
#define ROOMS_BWE_GROUP_US        5000

/*
 * The trendline's window, in groups.  Why 20: at 30 groups a second this
 * is ~0.7 s of delay history, long enough for the least-squares slope to
 * average out jitter, short enough to see a queue building within a few
 * hundred ms (libwebrtc's default too).
 */
#define ROOMS_BWE_TREND_WINDOW    20

/*
 * The acknowledged bitrate is measured over the last 500 ms of arrivals
 * (10 bins of 50 ms): long enough to hold a few frames at 300 kbit/s,
 * short enough that after a drop in capacity it reflects the new rate
 * before the queue grows far.
 */
#define ROOMS_BWE_ACK_BINS        10
#define ROOMS_BWE_ACK_BIN_US      50000

/*
 * A probe cluster is at most 15 packets, and one starts at most once a
 * second: a probe that finds no room costs a short queue (15 packets at
 * twice the estimate, tens of ms), which must stay rare.  It needs 5
 * packets received for a rate to be measured.  The probe table holds
 * the clusters whose feedback may still come.
 */
#define ROOMS_BWE_PROBE_PACKETS   15
#define ROOMS_BWE_PROBE_MIN_RECV  5
#define ROOMS_BWE_PROBE_CLUSTERS  4

/*
 * Feedback that stops while packets go out halves the estimate, once per
 * second of silence: Chromium sends transport feedback every 50..250 ms
 * while it receives, so a second without any means the subscriber's link
 * is too congested to carry even that (or the subscriber is gone, which
 * ICE consent notices).
 */
#define ROOMS_BWE_FB_TIMEOUT_US   1000000

/* rooms_bwe_sent(): a packet that belongs to no probe cluster */
#define ROOMS_BWE_NO_PROBE        0

/* the delay detector's verdict */
#define ROOMS_BWE_NORMAL          0
#define ROOMS_BWE_OVERUSE         1
#define ROOMS_BWE_UNDERUSE        2

/* the rate controller's state */
#define ROOMS_BWE_HOLD            0
#define ROOMS_BWE_INCREASE        1
#define ROOMS_BWE_DECREASE        2


/* one sent packet */
typedef struct {
    int64_t         send_us;
    uint32_t        ext;          /* extended transport-wide seq */
    uint16_t        size;         /* bytes, clamped to 65535 */
    uint8_t         cluster;      /* probe cluster id, 0: none */
    uint8_t         flags;        /* acked, reported lost, used */
} rooms_bwe_pkt_t;


/* a group of packets sent within ROOMS_BWE_GROUP_US */
typedef struct {
    int64_t         first_send_us;
    int64_t         last_send_us;
    int64_t         last_arr_us;  /* the latest arrival in the group */
    unsigned        valid;
} rooms_bwe_group_t;


/* one probe cluster, from its first packet to its verdict */
typedef struct {
    uint8_t         id;           /* 0: free */
    unsigned        planned;      /* packets asked for */
    uint32_t        target_bps;
    int64_t         start_us;     /* when rooms_bwe_poll() asked for it */

    unsigned        sent;
    uint64_t        sent_bytes;
    int64_t         first_send_us;
    int64_t         last_send_us;
    unsigned        last_size;

    unsigned        recv;
    uint64_t        recv_bytes;
    int64_t         first_arr_us;
    int64_t         last_arr_us;
    unsigned        first_size;   /* of the earliest arrival */
} rooms_bwe_cluster_t;


/* what rooms_bwe_poll() asks the caller to send */
typedef struct {
    uint8_t         cluster;      /* pass it to rooms_bwe_sent() */
    uint32_t        target_bps;   /* the rate of the cluster's packets */
    unsigned        packets;      /* how many, <= ROOMS_BWE_PROBE_PACKETS */
    unsigned        bytes;        /* each, suggested (padding or RTX) */
    int64_t         interval_us;  /* between two of them */
} rooms_bwe_probe_t;


typedef struct {
    uint32_t        min_bps;
    uint32_t        max_bps;

    /* the result: min(delay_bps, loss_bps) within [min_bps, max_bps] */
    uint32_t        estimate_bps;
    double          delay_bps;    /* the delay-based controller's rate */
    double          loss_bps;     /* the loss-based limit */

    /* sent packets */
    unsigned        started;      /* a packet was sent */
    uint32_t        last_ext;     /* the highest extended seq sent */
    int64_t         last_send_us;
    int64_t         now_us;       /* the latest time seen */
    rooms_bwe_pkt_t sent[ROOMS_BWE_HISTORY];

    /* feedback */
    unsigned        has_feedback;
    int64_t         last_fb_us;   /* when the latest feedback came */
    int64_t         fb_wait_us;   /* sending without feedback since;
                                     -1: not waiting */
    double          pkt_bits;     /* average packet size sent, bits */
    int64_t         arr_ref_us;   /* the latest arrival, unwrapped */
    unsigned        has_arr_ref;
    int64_t         rtt_us;       /* smoothed, feedback delay included */

    /* acknowledged bitrate: bytes per 50 ms of arrival time */
    int64_t         ack_bin_idx[ROOMS_BWE_ACK_BINS];
    uint64_t        ack_bin_bytes[ROOMS_BWE_ACK_BINS];
    int64_t         ack_first_us; /* the first arrival counted */
    int64_t         ack_last_us;  /* the latest arrival counted */
    unsigned        ack_any;
    uint32_t        acked_bps;    /* 0 until measured */

    /* delay-based: groups, trendline, detector */
    uint32_t        delay_ext;    /* the highest seq the groups have seen */
    unsigned        delay_any;
    rooms_bwe_group_t cur, prev;
    double          acc_delay_ms; /* accumulated delay variation */
    double          smooth_delay_ms;
    int64_t         trend_t0_us;  /* arrival of the first group */
    double          trend_x[ROOMS_BWE_TREND_WINDOW];   /* ms */
    double          trend_y[ROOMS_BWE_TREND_WINDOW];   /* ms */
    unsigned        trend_n;      /* points held, up to the window */
    unsigned        trend_pos;    /* where the next one goes */
    uint64_t        deltas;       /* group deltas seen since a reset */
    double          trend;        /* the last modified trend */
    double          prev_trend;
    double          threshold;    /* the adaptive threshold, gamma */
    int64_t         thr_last_us;  /* its last update, arrival clock */
    unsigned        thr_any;      /* thr_last_us is valid */
    double          over_ms;      /* time spent over the threshold */
    unsigned        over_count;
    unsigned        usage;        /* ROOMS_BWE_NORMAL, ... */

    /* AIMD */
    unsigned        rc_state;     /* ROOMS_BWE_HOLD, ... */
    int64_t         rc_last_us;   /* the last update of the rate; -1 */
    int64_t         last_decrease_us;
    unsigned        decreased;    /* last_decrease_us is valid */
    double          cap_avg_bps;  /* link capacity seen at overuse */
    double          cap_var;      /* its normalised variance */
    unsigned        cap_known;

    /* loss-based: a window of statuses, then a verdict */
    unsigned        loss_recv;
    unsigned        loss_lost;
    int64_t         loss_start_us;   /* -1: no window yet */
    unsigned        loss_high;    /* the previous window was over 10% */
    double          loss_fraction;   /* of the last complete window */

    /* probing */
    unsigned        startup;      /* no cut and no failed probe yet */
    uint8_t         next_cluster; /* the id of the next cluster */
    int64_t         probe_last_us;   /* the last cluster's start */
    unsigned        probed;       /* one was started */
    int64_t         probe_backoff_us;
    int64_t         want_bps;     /* as of the last poll */
    int64_t         probe_retry_us;  /* declined as unstable until */
    uint32_t        probe_bps;    /* the last probe's measured rate */
    rooms_bwe_cluster_t clusters[ROOMS_BWE_PROBE_CLUSTERS];

    /* what the SFU may want to log */
    uint64_t        feedbacks;
    uint64_t        matched;      /* statuses matched to a sent packet */
    uint64_t        unknown;      /* never sent, or too old */
    uint64_t        duplicates;   /* acked again */
    uint64_t        lost;         /* reported lost (first report) */
    uint64_t        late;         /* lost, then received */
    uint64_t        overuses;     /* detector verdicts */
    uint64_t        decreases;    /* delay-based cuts */
    uint64_t        loss_decreases;
    uint64_t        timeouts;     /* cuts for feedback that stopped */
    uint64_t        probes;       /* clusters started */
    uint64_t        probes_ok;    /* that raised the estimate */
    uint64_t        resets;       /* arrival clock jumps */
} rooms_bwe_t;


/*
 * Starts an estimator at start_bps, never going below min_bps nor above
 * max_bps (start is clamped between them; min_bps is raised to 1 and
 * max_bps to min_bps when inconsistent).
 */
void rooms_bwe_init(rooms_bwe_t *b, uint32_t start_bps, uint32_t min_bps,
    uint32_t max_bps);

/*
 * Records that the packet stamped with transport-wide sequence number
 * twcc_seq (the SFU's own, one counter per subscriber transport,
 * incremented by one per packet) left at now_us with bytes bytes (the
 * RTP packet as sent: SRTP overhead included is fine, as long as it is
 * the same for all), as part of probe cluster probe_cluster (the
 * rooms_bwe_probe_t.cluster being sent) or ROOMS_BWE_NO_PROBE.  The
 * number is unwrapped against the previous one; a jump back is taken as
 * a new run of numbers.  It overwrites the record of the packet
 * ROOMS_BWE_HISTORY numbers older.
 */
void rooms_bwe_sent(rooms_bwe_t *b, int64_t now_us, uint16_t twcc_seq,
    size_t bytes, unsigned probe_cluster);

/*
 * One transport feedback from the subscriber, arrived at now_us, parsed
 * into st[0..n) by rooms_twcc_parse_fci() or rooms_twcc_parse_packet().
 * Statuses that match no packet of the history (never sent, too old, or
 * ahead of the highest sent), and packets acked before, are counted and
 * ignored; a packet reported lost and later received counts as received.
 * The received ones feed the acknowledged bitrate, the delay detector (in
 * send order; those behind what it has seen only count as acked) and any
 * probe cluster they belong to; the received and lost ones feed the loss
 * window.  Then, when any status was new, the rate is updated once.  Any
 * matched status shows the subscriber alive (see rooms_bwe_poll()).
 * Returns the statuses matched.
 */
size_t rooms_bwe_feedback(rooms_bwe_t *b, int64_t now_us,
    const rooms_twcc_status_t *st, size_t n);

/*
 * The timer: at now_us, cuts the rate when feedback stopped while packets
 * went out (half, once per ROOMS_BWE_FB_TIMEOUT), and decides whether a
 * probe cluster should start now.  want_bps is what the caller would send
 * if it could (the sum its layer chooser would like, audio included); a
 * probe is only asked for when it exceeds the estimate, the estimate has
 * been stable (no decrease for 2 s, no overuse, little loss), no cluster
 * is in flight, and a second (more after failures) passed since the last
 * one; the very first may start at once, and during start-up (no cut and
 * no failed probe yet) each next one as soon as the last has its verdict.
 * Returns 1 and fills *p when the caller should send p->packets packets
 * (padding, or RTX of recent packets, of about p->bytes each; actual
 * sizes are what count) every p->interval_us from now, each recorded
 * with rooms_bwe_sent(..., p->cluster); 0 otherwise.
 */
int rooms_bwe_poll(rooms_bwe_t *b, int64_t now_us, uint32_t want_bps,
    rooms_bwe_probe_t *p);

/*
 * When rooms_bwe_poll() should be called next (on the now_us clock), or
 * -1 when nothing is scheduled (nothing sent yet).  Right after a poll at
 * now_us it is -1 or later than now_us, so a timer loop never spins.
 * Calling poll earlier or more often is harmless; call it also when
 * want_bps changes.
 */
int64_t rooms_bwe_timeout(const rooms_bwe_t *b);

/* The estimate in bits per second, within [min_bps, max_bps]. */
uint32_t rooms_bwe_estimate(const rooms_bwe_t *b);

/*
 * The acknowledged bitrate: what reached the subscriber over the last
 * 500 ms of arrivals, bits per second; 0 until measured.
 */
uint32_t rooms_bwe_acked(const rooms_bwe_t *b);

/* The round-trip time seen through feedback (its delay included), us. */
int64_t rooms_bwe_rtt(const rooms_bwe_t *b);


#endif /* ROOMS_BWE_H */
