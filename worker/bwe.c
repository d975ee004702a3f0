/*
 * bwe.c: send-side bandwidth estimation towards one subscriber.
 *
 * Feedback is matched to the ring of sent packets by extended sequence
 * number: the sender's own numbers only go up, so a 16-bit number from
 * feedback maps to the one extended number within 65536 behind the
 * highest sent, and the slot must hold exactly that number.
 *
 * Three controllers, after draft-ietf-rmcat-gcc-02 and what libwebrtc's
 * documentation says of its estimator (this is our own code):
 *
 *   delay   received packets, in send order, make groups (a burst sent
 *           within 5 ms); the change of one-way delay between two groups
 *           is accumulated and smoothed, and the least-squares slope of
 *           the last 20 points, scaled, is compared with a threshold that
 *           adapts to it: over for 10 ms and rising is overuse, under its
 *           negative is underuse.  AIMD turns that into a rate: overuse
 *           cuts to 0.85 x the acknowledged bitrate, normal increases by
 *           8%/s while the link's capacity is unknown and by about a
 *           packet per response time near the capacity seen at the last
 *           cuts, underuse holds while the queue drains.
 *   loss    windows of >= 100 statuses (and >= 500 ms): two windows in a
 *           row over 10% lost cut the limit to (1 - 0.5 loss) x estimate,
 *           under 2% raise it by 8%/s, in between hold it.
 *   probe   a cluster of at most 15 packets at up to twice the estimate;
 *           its rate as received (or sent, whichever is lower) may raise
 *           the estimate at once, which is how it ramps up in seconds
 *           rather than the 20 s that 8%/s takes from 300 kbit/s.
 *
 * The estimate is the lower of the delay-based rate and the loss limit,
 * within [min_bps, max_bps].  Doubles are fine here: this runs once per
 * feedback (10 a second), not per forwarded packet.
 *
 * May not: include <sys/socket.h>, include <pthread.h>, include <time.h>, include <stdlib.h>, call clock_gettime, call gettimeofday, call time, call malloc, call calloc, call free, call rand, call random, call json_, call rooms_store_, call rooms_sfu_
 */

#include <string.h>

#include "bwe.h"


#define ROOMS_BWE_MASK          (ROOMS_BWE_HISTORY - 1)

#define ROOMS_BWE_F_USED        0x01
#define ROOMS_BWE_F_ACKED       0x02
#define ROOMS_BWE_F_LOST        0x04

/* the reference time's period on the feedback sender's clock */
#define ROOMS_BWE_ARR_PERIOD    ((int64_t) (1 << 24) * ROOMS_TWCC_REF_US)

/*
 * Arrival times that jump by more than 3 s between two groups are a
 * restarted or broken clock, not queueing: the detector starts over
 * rather than read seconds of "delay" as overuse.
 */
#define ROOMS_BWE_ARR_JUMP_US   3000000

/*
 * The trendline (GCC §5.3, libwebrtc's defaults): the accumulated delay
 * is smoothed with 0.9 so one late frame does not look like a queue; the
 * slope is multiplied by the number of deltas seen (up to 60, so a young
 * estimator is not jumpy) and by a gain of 4, then compared with the
 * threshold.
 */
#define ROOMS_BWE_SMOOTHING     0.9
#define ROOMS_BWE_TREND_GAIN    4.0
#define ROOMS_BWE_TREND_DELTAS  60

/*
 * The adaptive threshold (GCC §5.4): it follows |trend| up slowly (k_up)
 * and down faster (k_down), so it rises with persistent jitter (and a
 * competing TCP flow cannot starve us) but stays tight on a clean path.
 * Trends more than 15 over it are outliers and do not move it; it stays
 * within 6..600; it starts at 12.5.  Overuse needs 10 ms over it.
 */
#define ROOMS_BWE_K_UP          0.0087
#define ROOMS_BWE_K_DOWN        0.039
#define ROOMS_BWE_THR_OUTLIER   15.0
#define ROOMS_BWE_THR_MIN       6.0
#define ROOMS_BWE_THR_MAX       600.0
#define ROOMS_BWE_THR_START     12.5
#define ROOMS_BWE_OVER_MS       10.0

/*
 * AIMD (GCC §5.5): cut to 0.85 x what actually arrived, so the queue
 * built during overuse drains at 15% of the capacity; increase 8% a
 * second far from the capacity seen at the last cuts; near it (within
 * 3 standard deviations) about one packet per response time (a round
 * trip plus 100 ms for the detector to see the effect), at least 4
 * kbit/s a second.  The rate never grows past 1.5 x the acknowledged
 * bitrate + 10 kbit/s: an estimate far above what is sent has not been
 * tested by the link (probes test it).  Cuts come at most once per round
 * trip (10..200 ms) while overuse lasts, unless the rate is still over
 * twice what arrives.
 */
#define ROOMS_BWE_BETA          0.85
#define ROOMS_BWE_MULT_PER_S    0.08
#define ROOMS_BWE_ADD_MIN_BPS   4000.0
#define ROOMS_BWE_RESPONSE_US   100000
#define ROOMS_BWE_ACKED_HEADROOM 1.5
#define ROOMS_BWE_ACKED_EXTRA   10000.0
#define ROOMS_BWE_CUT_MIN_US    10000
#define ROOMS_BWE_CUT_MAX_US    200000

/*
 * The loss window: 100 statuses give a lost fraction within about +-4%
 * (two standard deviations) at 5% random loss, so such loss rarely reads
 * as over 10%, and two such windows in a row almost never; 500 ms at
 * least so cuts are spaced by more than a round trip; a slow stream
 * (20 packets in 3 s) still gets a verdict.  Over 10% lost (twice) cuts,
 * under 2% lets the limit grow 8% a second, between holds.
 */
#define ROOMS_BWE_LOSS_PKTS     100
#define ROOMS_BWE_LOSS_MIN_US   500000
#define ROOMS_BWE_LOSS_SLOW_PKTS 20
#define ROOMS_BWE_LOSS_SLOW_US  3000000
#define ROOMS_BWE_LOSS_HIGH     0.10
#define ROOMS_BWE_LOSS_LOW      0.02

/*
 * The acknowledged bitrate needs 100 ms of arrivals before it means
 * anything (a few packets over a microsecond would read as gigabits).
 */
#define ROOMS_BWE_ACK_MIN_SPAN_US 100000

/*
 * Probing: a cluster lasts about 2 ms a packet at its rate (so its span
 * is ~30 ms, long against the 250 us resolution of the feedback), with
 * packets of 200..1200 bytes; one starts at most once a second; the
 * estimate must have been stable for 2 s (no cut) before probing again;
 * a probe that finds no room doubles the wait (2 s up to 8 s), so a
 * saturated link sees one short queue every 8 s at most; a cluster whose
 * feedback has not come within 2 s is given up.  The measured rate: the
 * lower of the rates sent and received, or 0.95 x the received one when
 * that is under 0.9 x the sent one (the link was saturated: what came out
 * is its capacity, a little less for safety).  A probe "succeeded" when
 * it found at least 0.8 x its target.
 */
#define ROOMS_BWE_PROBE_GAP_US    1000000
#define ROOMS_BWE_PROBE_STABLE_US 2000000
#define ROOMS_BWE_PROBE_BACKOFF_US 2000000
#define ROOMS_BWE_PROBE_BACKOFF_MAX_US 8000000
#define ROOMS_BWE_PROBE_EXPIRE_US 2000000
#define ROOMS_BWE_PROBE_PKT_US    2000
#define ROOMS_BWE_PROBE_MIN_BYTES 200
#define ROOMS_BWE_PROBE_MAX_BYTES 1200
#define ROOMS_BWE_PROBE_SATURATED 0.9
#define ROOMS_BWE_PROBE_SAFETY    0.95
#define ROOMS_BWE_PROBE_SUCCESS   0.8
#define ROOMS_BWE_PROBE_MIN_STEP  1.25   /* probe at least this x est */

/*
 * Start-up: from the first packet until the first cut of the rate (or a
 * probe that finds less than it looked for), the link's capacity is not
 * known yet, only that it carried every probe so far.  Then a probe that
 * succeeded is followed by the next one as soon as its verdict is in,
 * rather than a second later: the estimate doubles every round trip or
 * so (the caller polls every 250 ms) up to what the tiles want, so a
 * newcomer into a room of 25 sees its tiles within a second or two and
 * not after the 3-4 s that probing once a second takes from 800 kbit/s
 * to 6 Mbit/s.  The first cut ends it: from then on probing is spaced
 * as above.
 */

/*
 * A probe declined because the path is not stable (overuse, high loss,
 * no recent feedback) is reconsidered 250 ms later: about two feedback
 * intervals, so the timer does not spin while the state cannot change.
 */
#define ROOMS_BWE_PROBE_RETRY_US  250000

/* the RTT before any is measured, and its smoothing (1/8, as TCP) */
#define ROOMS_BWE_RTT_START_US  100000


static void rooms_bwe_detector_reset(rooms_bwe_t *b);
static void rooms_bwe_group_packet(rooms_bwe_t *b, int64_t send_us,
    int64_t arr_us);
static void rooms_bwe_group_delta(rooms_bwe_t *b);
static void rooms_bwe_detect(rooms_bwe_t *b, double trend, double send_ms,
    int64_t arr_us);
static void rooms_bwe_ack_add(rooms_bwe_t *b, int64_t arr_us, unsigned size);
static void rooms_bwe_ack_update(rooms_bwe_t *b);
static void rooms_bwe_rate_state(rooms_bwe_t *b);
static double rooms_bwe_rate_dt(const rooms_bwe_t *b, int64_t now_us);
static double rooms_bwe_rate_increase(rooms_bwe_t *b, double rate,
    double acked, double dt_s);
static double rooms_bwe_rate_decrease(rooms_bwe_t *b, int64_t now_us,
    double rate, double acked);
static void rooms_bwe_capacity_update(rooms_bwe_t *b, double acked);
static void rooms_bwe_rate_update(rooms_bwe_t *b, int64_t now_us);
static void rooms_bwe_loss_update(rooms_bwe_t *b, int64_t now_us);
static void rooms_bwe_clusters_update(rooms_bwe_t *b, int64_t now_us);
static int rooms_bwe_cluster_expire(rooms_bwe_t *b, rooms_bwe_cluster_t *cl,
    int64_t now_us);
static void rooms_bwe_set_estimate(rooms_bwe_t *b);
static void rooms_bwe_fb_timeout(rooms_bwe_t *b, int64_t now_us);
static int rooms_bwe_probe_busy(rooms_bwe_t *b, int64_t now_us);
static void rooms_bwe_probe_start(rooms_bwe_t *b, int64_t now_us,
    uint32_t want_bps, rooms_bwe_probe_t *p);


void
rooms_bwe_init(rooms_bwe_t *b, uint32_t start_bps, uint32_t min_bps,
    uint32_t max_bps)
{
    memset(b, 0, sizeof(rooms_bwe_t));

    b->min_bps = min_bps > 0 ? min_bps : 1;
    b->max_bps = max_bps >= b->min_bps ? max_bps : b->min_bps;

    if (start_bps < b->min_bps) {
        start_bps = b->min_bps;
    }

    if (start_bps > b->max_bps) {
        start_bps = b->max_bps;
    }

    b->delay_bps = start_bps;
    b->loss_bps = b->max_bps;
    b->estimate_bps = start_bps;
    b->fb_wait_us = -1;
    b->rtt_us = ROOMS_BWE_RTT_START_US;
    b->pkt_bits = 1200 * 8;
    b->next_cluster = 1;
    b->rc_state = ROOMS_BWE_INCREASE;
    b->rc_last_us = -1;
    b->loss_start_us = -1;
    b->startup = 1;

    rooms_bwe_detector_reset(b);
}


/* forgets the groups and the trendline, keeps the threshold */
static void
rooms_bwe_detector_reset(rooms_bwe_t *b)
{
    b->cur.valid = 0;
    b->prev.valid = 0;
    b->acc_delay_ms = 0;
    b->smooth_delay_ms = 0;
    b->trend_n = 0;
    b->trend_pos = 0;
    b->deltas = 0;
    b->trend = 0;
    b->prev_trend = 0;
    b->over_ms = -1;
    b->over_count = 0;
    b->usage = ROOMS_BWE_NORMAL;

    if (b->threshold == 0) {
        b->threshold = ROOMS_BWE_THR_START;
    }
}


void
rooms_bwe_sent(rooms_bwe_t *b, int64_t now_us, uint16_t twcc_seq,
    size_t bytes, unsigned probe_cluster)
{
    uint32_t              ext;
    uint16_t              fwd;
    rooms_bwe_pkt_t      *p;
    rooms_bwe_cluster_t  *cl;

    if (now_us < b->now_us) {
        now_us = b->now_us;
    }

    b->now_us = now_us;

    if (!b->started) {
        /* 65536 up, so "65536 behind the highest" never goes below 0 */
        ext = 0x10000u + twcc_seq;
        b->started = 1;

    } else {
        /*
         * Forward by the 16-bit distance: +1 normally, a skip when the
         * caller skipped numbers, and for a number at or behind the
         * previous one (a restarted counter) the run goes on from there,
         * still forward, so numbers and slots keep their meaning.
         */
        fwd = (uint16_t) (twcc_seq - (uint16_t) b->last_ext);
        ext = b->last_ext + (fwd != 0 ? fwd : 0x10000u);
    }

    b->last_ext = ext;
    b->last_send_us = now_us;

    if (bytes > UINT16_MAX) {
        bytes = UINT16_MAX;
    }

    p = &b->sent[ext & ROOMS_BWE_MASK];
    p->send_us = now_us;
    p->ext = ext;
    p->size = (uint16_t) bytes;
    p->cluster = (uint8_t) (probe_cluster <= 255 ? probe_cluster : 0);
    p->flags = ROOMS_BWE_F_USED;

    /*
     * The packet size the additive increase adds per response time: an
     * average over ~16 packets (about a frame at 2 Mbit/s) follows a
     * layer switch within a frame and ignores one small audio packet.
     */
    b->pkt_bits += ((double) bytes * 8 - b->pkt_bits) / 16;

    if (b->fb_wait_us < 0) {
        b->fb_wait_us = now_us;
    }

    if (p->cluster != ROOMS_BWE_NO_PROBE) {
        cl = &b->clusters[p->cluster % ROOMS_BWE_PROBE_CLUSTERS];

        if (cl->id == p->cluster) {
            if (cl->sent == 0) {
                cl->first_send_us = now_us;
            }

            cl->sent++;
            cl->sent_bytes += bytes;
            cl->last_send_us = now_us;
            cl->last_size = (unsigned) bytes;

        } else {
            /* a cluster this estimator does not know (or gave up on) */
            p->cluster = ROOMS_BWE_NO_PROBE;
        }
    }
}


/* the sent packet that a 16-bit number of feedback stands for, or NULL */
static rooms_bwe_pkt_t *
rooms_bwe_find(rooms_bwe_t *b, uint16_t seq)
{
    uint32_t          ext;
    rooms_bwe_pkt_t  *p;

    if (!b->started) {
        return NULL;
    }

    /* at or behind the highest sent: ahead of it maps 65536 - k behind */
    ext = b->last_ext - (uint16_t) ((uint16_t) b->last_ext - seq);

    if (b->last_ext - ext >= ROOMS_BWE_HISTORY) {
        return NULL;
    }

    p = &b->sent[ext & ROOMS_BWE_MASK];

    if (!(p->flags & ROOMS_BWE_F_USED) || p->ext != ext) {
        return NULL;
    }

    return p;
}


/*
 * An arrival time of a status (the feedback sender's clock, modulo 2^24
 * reference units) on one continuous clock: the nearest to the previous
 * one, so the 12-day wrap and negative reference times are seamless.
 */
static int64_t
rooms_bwe_unwrap_arrival(rooms_bwe_t *b, int64_t at_us)
{
    int64_t  d;

    /* both reduced first, so no value of at_us can overflow */
    at_us %= ROOMS_BWE_ARR_PERIOD;

    if (!b->has_arr_ref) {
        b->has_arr_ref = 1;
        b->arr_ref_us = at_us;
        return at_us;
    }

    d = at_us - b->arr_ref_us % ROOMS_BWE_ARR_PERIOD;

    while (d >= ROOMS_BWE_ARR_PERIOD / 2) {
        d -= ROOMS_BWE_ARR_PERIOD;
    }

    while (d < -ROOMS_BWE_ARR_PERIOD / 2) {
        d += ROOMS_BWE_ARR_PERIOD;
    }

    /* the reference follows the latest arrival, not reordered ones */
    if (d > 0) {
        b->arr_ref_us += d;
        return b->arr_ref_us;
    }

    return b->arr_ref_us + d;
}


size_t
rooms_bwe_feedback(rooms_bwe_t *b, int64_t now_us,
    const rooms_twcc_status_t *st, size_t n)
{
    size_t                i, matched, fresh;
    int64_t               arr, rtt, min_rtt;
    rooms_bwe_pkt_t      *p;
    rooms_bwe_cluster_t  *cl;

    if (now_us < b->now_us) {
        now_us = b->now_us;
    }

    b->now_us = now_us;
    matched = 0;
    fresh = 0;
    min_rtt = -1;

    for (i = 0; i < n; i++) {
        p = rooms_bwe_find(b, st[i].seq);

        if (p == NULL) {
            b->unknown++;
            continue;
        }

        matched++;

        if (p->flags & ROOMS_BWE_F_ACKED) {
            b->duplicates++;
            continue;
        }

        if (st[i].status == ROOMS_TWCC_NOT_RECEIVED) {
            if (!(p->flags & ROOMS_BWE_F_LOST)) {
                p->flags |= ROOMS_BWE_F_LOST;
                b->lost++;
                b->loss_lost++;
                fresh++;
            }

            continue;
        }

        if (p->flags & ROOMS_BWE_F_LOST) {
            /* counted lost in a window already; now it is not */
            b->late++;

        } else {
            b->loss_recv++;
        }

        p->flags |= ROOMS_BWE_F_ACKED;
        fresh++;
        arr = rooms_bwe_unwrap_arrival(b, st[i].at_us);

        rtt = now_us - p->send_us;

        if (rtt >= 0 && (min_rtt < 0 || rtt < min_rtt)) {
            min_rtt = rtt;
        }

        rooms_bwe_ack_add(b, arr, p->size);

        if (!b->delay_any || (int32_t) (p->ext - b->delay_ext) > 0) {
            b->delay_any = 1;
            b->delay_ext = p->ext;
            rooms_bwe_group_packet(b, p->send_us, arr);
        }

        if (p->cluster != ROOMS_BWE_NO_PROBE) {
            cl = &b->clusters[p->cluster % ROOMS_BWE_PROBE_CLUSTERS];

            if (cl->id == p->cluster) {
                if (cl->recv == 0 || arr < cl->first_arr_us) {
                    cl->first_arr_us = arr;
                    cl->first_size = p->size;
                }

                if (cl->recv == 0 || arr > cl->last_arr_us) {
                    cl->last_arr_us = arr;
                }

                cl->recv++;
                cl->recv_bytes += p->size;
            }
        }
    }

    b->matched += matched;

    if (matched == 0) {
        /* nothing this estimator sent: not even a sign of life */
        return 0;
    }

    b->feedbacks++;
    b->has_feedback = 1;
    b->last_fb_us = now_us;
    b->fb_wait_us = -1;

    if (fresh == 0) {
        /* only what was acked before: alive, but nothing to learn */
        return matched;
    }

    if (min_rtt >= 0) {
        b->rtt_us += (min_rtt - b->rtt_us) / 8;
    }

    rooms_bwe_ack_update(b);
    rooms_bwe_rate_update(b, now_us);
    rooms_bwe_loss_update(b, now_us);
    rooms_bwe_clusters_update(b, now_us);
    rooms_bwe_set_estimate(b);

    return matched;
}


/* one received packet, in send order, into the groups */
static void
rooms_bwe_group_packet(rooms_bwe_t *b, int64_t send_us, int64_t arr_us)
{
    int64_t  arr_d, send_d;

    if (!b->cur.valid) {
        b->cur.valid = 1;
        b->cur.first_send_us = send_us;
        b->cur.last_send_us = send_us;
        b->cur.last_arr_us = arr_us;
        return;
    }

    if (send_us < b->cur.first_send_us) {
        /* sent before the group began: the caller's clock went back */
        return;
    }

    arr_d = arr_us - b->cur.last_arr_us;
    send_d = send_us - b->cur.last_send_us;

    /*
     * Same group: sent in the same 5 ms burst; or (GCC §5.2) arrived
     * within 5 ms of the group's last and sooner than sent, i.e. a burst
     * the network released together from a queue.
     */
    if (send_us - b->cur.first_send_us <= ROOMS_BWE_GROUP_US
        || (arr_d >= 0 && arr_d < ROOMS_BWE_GROUP_US && arr_d < send_d))
    {
        b->cur.last_send_us = send_us;

        if (arr_us > b->cur.last_arr_us) {
            b->cur.last_arr_us = arr_us;
        }

        return;
    }

    if (b->prev.valid) {
        rooms_bwe_group_delta(b);
    }

    b->prev = b->cur;
    b->cur.first_send_us = send_us;
    b->cur.last_send_us = send_us;
    b->cur.last_arr_us = arr_us;
}


/* the delay variation between prev and cur into the trendline */
static void
rooms_bwe_group_delta(rooms_bwe_t *b)
{
    unsigned  i, k;
    int64_t   arr_d, send_d;
    double    d_ms, x, mx, my, num, den, slope, trend;

    arr_d = b->cur.last_arr_us - b->prev.last_arr_us;
    send_d = b->cur.last_send_us - b->prev.last_send_us;

    if (arr_d > ROOMS_BWE_ARR_JUMP_US || arr_d < -ROOMS_BWE_ARR_JUMP_US
        || send_d > ROOMS_BWE_ARR_JUMP_US)
    {
        /* a broken clock or a long pause: start over from cur */
        b->resets++;
        rooms_bwe_detector_reset(b);
        return;
    }

    if (arr_d < 0) {
        /* groups arrived in the other order: nothing to learn */
        return;
    }

    d_ms = (double) (arr_d - send_d) / 1000.0;

    if (b->deltas == 0 && b->trend_n == 0) {
        b->trend_t0_us = b->cur.last_arr_us;
    }

    b->deltas++;
    b->acc_delay_ms += d_ms;
    b->smooth_delay_ms = ROOMS_BWE_SMOOTHING * b->smooth_delay_ms
                         + (1 - ROOMS_BWE_SMOOTHING) * b->acc_delay_ms;

    x = (double) (b->cur.last_arr_us - b->trend_t0_us) / 1000.0;
    b->trend_x[b->trend_pos] = x;
    b->trend_y[b->trend_pos] = b->smooth_delay_ms;
    b->trend_pos = (b->trend_pos + 1) % ROOMS_BWE_TREND_WINDOW;

    if (b->trend_n < ROOMS_BWE_TREND_WINDOW) {
        b->trend_n++;
    }

    trend = b->prev_trend;

    if (b->trend_n == ROOMS_BWE_TREND_WINDOW) {
        mx = 0;
        my = 0;

        for (i = 0; i < ROOMS_BWE_TREND_WINDOW; i++) {
            mx += b->trend_x[i];
            my += b->trend_y[i];
        }

        mx /= ROOMS_BWE_TREND_WINDOW;
        my /= ROOMS_BWE_TREND_WINDOW;
        num = 0;
        den = 0;

        for (i = 0; i < ROOMS_BWE_TREND_WINDOW; i++) {
            num += (b->trend_x[i] - mx) * (b->trend_y[i] - my);
            den += (b->trend_x[i] - mx) * (b->trend_x[i] - mx);
        }

        if (den > 0) {
            slope = num / den;
            k = b->deltas < ROOMS_BWE_TREND_DELTAS
                ? (unsigned) b->deltas : ROOMS_BWE_TREND_DELTAS;
            trend = slope * k * ROOMS_BWE_TREND_GAIN;
        }
    }

    rooms_bwe_detect(b, trend, (double) send_d / 1000.0,
                     b->cur.last_arr_us);
}


/* the overuse detector and its adaptive threshold (GCC §5.4) */
static void
rooms_bwe_detect(rooms_bwe_t *b, double trend, double send_ms,
    int64_t arr_us)
{
    double  a, k, dt_ms;

    b->trend = trend;

    if (b->deltas >= 2 && trend > b->threshold) {
        if (b->over_ms < 0) {
            b->over_ms = send_ms / 2;

        } else {
            b->over_ms += send_ms;
        }

        b->over_count++;

        if (b->over_ms > ROOMS_BWE_OVER_MS && b->over_count > 1
            && trend >= b->prev_trend)
        {
            b->over_ms = 0;
            b->over_count = 0;
            b->usage = ROOMS_BWE_OVERUSE;
            b->overuses++;
        }

    } else if (b->deltas >= 2 && trend < -b->threshold) {
        b->over_ms = -1;
        b->over_count = 0;
        b->usage = ROOMS_BWE_UNDERUSE;

    } else {
        b->over_ms = -1;
        b->over_count = 0;
        b->usage = ROOMS_BWE_NORMAL;
    }

    b->prev_trend = trend;

    /* the threshold follows |trend|, in time of the arrival clock */
    a = trend < 0 ? -trend : trend;

    if (!b->thr_any || arr_us < b->thr_last_us) {
        b->thr_any = 1;
        b->thr_last_us = arr_us;
    }

    if (a > b->threshold + ROOMS_BWE_THR_OUTLIER) {
        b->thr_last_us = arr_us;
        return;
    }

    k = a < b->threshold ? ROOMS_BWE_K_DOWN : ROOMS_BWE_K_UP;
    dt_ms = (double) (arr_us - b->thr_last_us) / 1000.0;

    if (dt_ms > 100) {
        /* after a pause, as if 100 ms passed */
        dt_ms = 100;
    }

    b->threshold += k * (a - b->threshold) * dt_ms;

    if (b->threshold < ROOMS_BWE_THR_MIN) {
        b->threshold = ROOMS_BWE_THR_MIN;

    } else if (b->threshold > ROOMS_BWE_THR_MAX) {
        b->threshold = ROOMS_BWE_THR_MAX;
    }

    b->thr_last_us = arr_us;
}


/* floor(t / bin) for any sign */
static int64_t
rooms_bwe_bin(int64_t t)
{
    if (t >= 0) {
        return t / ROOMS_BWE_ACK_BIN_US;
    }

    return -((-t + ROOMS_BWE_ACK_BIN_US - 1) / ROOMS_BWE_ACK_BIN_US);
}


static unsigned
rooms_bwe_bin_slot(int64_t idx)
{
    int64_t  m;

    m = idx % ROOMS_BWE_ACK_BINS;

    return (unsigned) (m < 0 ? m + ROOMS_BWE_ACK_BINS : m);
}


/* a received packet's bytes into the bin of its arrival */
static void
rooms_bwe_ack_add(rooms_bwe_t *b, int64_t arr_us, unsigned size)
{
    unsigned  i, s;
    int64_t   idx, newest;

    if (!b->ack_any) {
        b->ack_any = 1;
        b->ack_first_us = arr_us;
        b->ack_last_us = arr_us;

        for (i = 0; i < ROOMS_BWE_ACK_BINS; i++) {
            b->ack_bin_idx[i] = INT64_MIN;
            b->ack_bin_bytes[i] = 0;
        }
    }

    idx = rooms_bwe_bin(arr_us);
    newest = rooms_bwe_bin(b->ack_last_us);

    if (idx <= newest - ROOMS_BWE_ACK_BINS) {
        /* older than the window */
        return;
    }

    if (arr_us > b->ack_last_us) {
        if (idx - newest > ROOMS_BWE_ACK_BINS) {
            /* after a pause (or a jump) the window starts again */
            b->ack_first_us = arr_us;
        }

        b->ack_last_us = arr_us;
    }

    if (arr_us < b->ack_first_us) {
        b->ack_first_us = arr_us;
    }

    s = rooms_bwe_bin_slot(idx);

    if (b->ack_bin_idx[s] != idx) {
        b->ack_bin_idx[s] = idx;
        b->ack_bin_bytes[s] = 0;
    }

    b->ack_bin_bytes[s] += size;
}


/* the acknowledged bitrate over the bins of the last 500 ms */
static void
rooms_bwe_ack_update(rooms_bwe_t *b)
{
    unsigned  i;
    int64_t   newest, start, span;
    uint64_t  bytes;
    double    bps;

    if (!b->ack_any) {
        return;
    }

    newest = rooms_bwe_bin(b->ack_last_us);
    start = (newest - ROOMS_BWE_ACK_BINS + 1) * ROOMS_BWE_ACK_BIN_US;

    if (start < b->ack_first_us) {
        start = b->ack_first_us;
    }

    span = b->ack_last_us - start;

    if (span < ROOMS_BWE_ACK_MIN_SPAN_US) {
        return;
    }

    bytes = 0;

    for (i = 0; i < ROOMS_BWE_ACK_BINS; i++) {
        if (b->ack_bin_idx[i] > newest - ROOMS_BWE_ACK_BINS
            && b->ack_bin_idx[i] <= newest)
        {
            bytes += b->ack_bin_bytes[i];
        }
    }

    bps = (double) bytes * 8 * 1000000 / (double) span;
    b->acked_bps = bps > UINT32_MAX ? UINT32_MAX : (uint32_t) bps;
}


/* the controller's state on the detector's verdict */
static void
rooms_bwe_rate_state(rooms_bwe_t *b)
{
    switch (b->usage) {

    case ROOMS_BWE_OVERUSE:
        b->rc_state = ROOMS_BWE_DECREASE;
        break;

    case ROOMS_BWE_UNDERUSE:
        b->rc_state = ROOMS_BWE_HOLD;
        break;

    default:
        if (b->rc_state == ROOMS_BWE_HOLD) {
            b->rc_state = ROOMS_BWE_INCREASE;
            b->rc_last_us = -1;
            b->loss_start_us = -1;
        }
        break;
    }
}


/* the seconds since the last update, within 0..1 (0 for the first) */
static double
rooms_bwe_rate_dt(const rooms_bwe_t *b, int64_t now_us)
{
    double  dt_s;

    dt_s = b->rc_last_us >= 0 ? (double) (now_us - b->rc_last_us) / 1e6 : 0;

    if (dt_s > 1) {
        /* no feedback for a while: no credit for the silence */
        dt_s = 1;
    }

    if (dt_s < 0) {
        dt_s = 0;
    }

    return dt_s;
}


/* how much the rate grows over dt_s: additive near the capacity, else 8%/s */
static double
rooms_bwe_rate_increase(rooms_bwe_t *b, double rate, double acked,
    double dt_s)
{
    double  add, lim, dev, resp_s;

    if (b->cap_known && acked > 0) {
        dev = acked - b->cap_avg_bps;

        /* 3 sigma above what the cuts saw: the link changed */
        if (dev > 0 && dev * dev > 9 * b->cap_var * b->cap_avg_bps) {
            b->cap_known = 0;
        }
    }

    if (b->cap_known) {
        resp_s = (double) (b->rtt_us + ROOMS_BWE_RESPONSE_US) / 1e6;
        add = b->pkt_bits / resp_s;

        if (add < ROOMS_BWE_ADD_MIN_BPS) {
            add = ROOMS_BWE_ADD_MIN_BPS;
        }

        add *= dt_s;

    } else {
        add = rate * ROOMS_BWE_MULT_PER_S * dt_s;

        /* at least 1 kbit/s a second, so a rate at min still moves */
        if (add < 1000 * dt_s) {
            add = 1000 * dt_s;
        }
    }

    if (acked > 0) {
        lim = ROOMS_BWE_ACKED_HEADROOM * acked + ROOMS_BWE_ACKED_EXTRA;

        if (rate + add > lim) {
            /* never beyond the limit by increasing; never cut by it */
            add = lim > rate ? lim - rate : 0;
        }
    }

    return add;
}


/* the rate after an overuse: cut, at most once per round trip */
static double
rooms_bwe_rate_decrease(rooms_bwe_t *b, int64_t now_us, double rate,
    double acked)
{
    double   cut;
    int64_t  gap;

    gap = b->rtt_us;

    if (gap < ROOMS_BWE_CUT_MIN_US) {
        gap = ROOMS_BWE_CUT_MIN_US;

    } else if (gap > ROOMS_BWE_CUT_MAX_US) {
        gap = ROOMS_BWE_CUT_MAX_US;
    }

    if (b->decreased && now_us - b->last_decrease_us < gap
        && !(acked > 0 && rate > 2 * acked))
    {
        return rate;
    }

    cut = ROOMS_BWE_BETA * (acked > 0 ? acked : rate);

    if (cut > rate && b->cap_known) {
        /* more arrived than we meant to send: trust the history */
        cut = ROOMS_BWE_BETA * b->cap_avg_bps;
    }

    if (cut < rate) {
        rate = cut;
    }

    if (acked > 0) {
        rooms_bwe_capacity_update(b, acked);
    }

    b->decreased = 1;
    b->last_decrease_us = now_us;
    b->decreases++;
    b->startup = 0;

    return rate;
}


/* the link capacity as seen at this overuse: its mean and variance */
static void
rooms_bwe_capacity_update(rooms_bwe_t *b, double acked)
{
    double  dev;

    if (!b->cap_known) {
        b->cap_known = 1;
        b->cap_avg_bps = acked;
        b->cap_var = 0.4;
        return;
    }

    dev = b->cap_avg_bps - acked;
    b->cap_avg_bps = 0.95 * b->cap_avg_bps + 0.05 * acked;
    b->cap_var = 0.95 * b->cap_var
                 + 0.05 * dev * dev
                   / (b->cap_avg_bps > 1 ? b->cap_avg_bps : 1);

    /* within 0.4..2.5 (normalised), as libwebrtc keeps it */
    if (b->cap_var < 0.4) {
        b->cap_var = 0.4;

    } else if (b->cap_var > 2.5) {
        b->cap_var = 2.5;
    }
}


/* AIMD on the detector's verdict, once per feedback (GCC §5.5) */
static void
rooms_bwe_rate_update(rooms_bwe_t *b, int64_t now_us)
{
    double  acked, rate, dt_s;

    acked = b->acked_bps;
    rate = b->delay_bps;

    rooms_bwe_rate_state(b);
    dt_s = rooms_bwe_rate_dt(b, now_us);

    switch (b->rc_state) {

    case ROOMS_BWE_INCREASE:
        rate += rooms_bwe_rate_increase(b, rate, acked, dt_s);
        break;

    case ROOMS_BWE_DECREASE:
        rate = rooms_bwe_rate_decrease(b, now_us, rate, acked);
        b->rc_state = ROOMS_BWE_HOLD;
        break;

    default:
        break;
    }

    if (rate < b->min_bps) {
        rate = b->min_bps;
    }

    if (rate > b->max_bps) {
        rate = b->max_bps;
    }

    b->delay_bps = rate;
    b->rc_last_us = now_us;
}


/* the loss window, closed when it holds enough statuses */
static void
rooms_bwe_loss_update(rooms_bwe_t *b, int64_t now_us)
{
    unsigned  total;
    int64_t   span;
    double    loss, est, span_s;

    if (b->loss_start_us < 0) {
        b->loss_start_us = now_us;
    }

    total = b->loss_recv + b->loss_lost;
    span = now_us - b->loss_start_us;

    if (!((total >= ROOMS_BWE_LOSS_PKTS && span >= ROOMS_BWE_LOSS_MIN_US)
          || (total >= ROOMS_BWE_LOSS_SLOW_PKTS
              && span >= ROOMS_BWE_LOSS_SLOW_US)))
    {
        return;
    }

    loss = (double) b->loss_lost / total;
    b->loss_fraction = loss;

    if (loss > ROOMS_BWE_LOSS_HIGH) {
        if (b->loss_high) {
            est = b->delay_bps < b->loss_bps ? b->delay_bps : b->loss_bps;
            est *= 1 - 0.5 * loss;

            if (est < b->loss_bps) {
                b->loss_bps = est;
            }

            b->loss_decreases++;
            b->startup = 0;
        }

        b->loss_high = 1;

    } else {
        b->loss_high = 0;

        if (loss < ROOMS_BWE_LOSS_LOW) {
            span_s = (double) span / 1e6;
            span_s = span_s > 1 ? 1 : span_s;
            /* as the delay-based increase: 8%/s (+1 kbit/s, as there) */
            b->loss_bps += b->loss_bps * ROOMS_BWE_MULT_PER_S * span_s + 1000;
        }
    }

    if (b->loss_bps < b->min_bps) {
        b->loss_bps = b->min_bps;
    }

    if (b->loss_bps > b->max_bps) {
        b->loss_bps = b->max_bps;
    }

    b->loss_recv = 0;
    b->loss_lost = 0;
    b->loss_start_us = now_us;
}


/* a probe cluster's verdict: the rate it measured, or 0 */
static double
rooms_bwe_cluster_rate(const rooms_bwe_cluster_t *cl)
{
    int64_t  send_span, recv_span;
    double   send_bps, recv_bps;

    send_span = cl->last_send_us - cl->first_send_us;
    recv_span = cl->last_arr_us - cl->first_arr_us;

    if (cl->recv < ROOMS_BWE_PROBE_MIN_RECV || send_span <= 0
        || recv_span <= 0 || cl->sent_bytes <= cl->last_size
        || cl->recv_bytes <= cl->first_size)
    {
        return 0;
    }

    /* the last packet sent and the first received only mark the times */
    send_bps = (double) (cl->sent_bytes - cl->last_size) * 8e6
               / (double) send_span;
    recv_bps = (double) (cl->recv_bytes - cl->first_size) * 8e6
               / (double) recv_span;

    if (recv_bps < ROOMS_BWE_PROBE_SATURATED * send_bps) {
        return ROOMS_BWE_PROBE_SAFETY * recv_bps;
    }

    return send_bps < recv_bps ? send_bps : recv_bps;
}


static void
rooms_bwe_probe_failed(rooms_bwe_t *b)
{
    b->startup = 0;
    b->probe_backoff_us = b->probe_backoff_us == 0
                          ? ROOMS_BWE_PROBE_BACKOFF_US
                          : 2 * b->probe_backoff_us;

    if (b->probe_backoff_us > ROOMS_BWE_PROBE_BACKOFF_MAX_US) {
        b->probe_backoff_us = ROOMS_BWE_PROBE_BACKOFF_MAX_US;
    }
}


/*
 * A cluster whose feedback never came (or of which the caller sent too
 * few) in ROOMS_BWE_PROBE_EXPIRE_US is given up as a failed probe: 1.
 */
static int
rooms_bwe_cluster_expire(rooms_bwe_t *b, rooms_bwe_cluster_t *cl,
    int64_t now_us)
{
    if (now_us - cl->start_us <= ROOMS_BWE_PROBE_EXPIRE_US) {
        return 0;
    }

    cl->id = 0;
    rooms_bwe_probe_failed(b);

    return 1;
}


/* clusters whose packets are sent and mostly acked get their verdict */
static void
rooms_bwe_clusters_update(rooms_bwe_t *b, int64_t now_us)
{
    unsigned              i;
    double                rate, est;
    rooms_bwe_cluster_t  *cl;

    for (i = 0; i < ROOMS_BWE_PROBE_CLUSTERS; i++) {
        cl = &b->clusters[i];

        if (cl->id == 0) {
            continue;
        }

        if (rooms_bwe_cluster_expire(b, cl, now_us)) {
            continue;
        }

        /*
         * A verdict once the whole cluster is sent and 80% of it acked:
         * a lost packet or two must not stall it, and the rest come from
         * the same feedback or the next one anyway.
         */
        if (cl->sent < cl->planned || 5 * cl->recv < 4 * cl->sent) {
            continue;
        }

        rate = rooms_bwe_cluster_rate(cl);
        est = b->delay_bps < b->loss_bps ? b->delay_bps : b->loss_bps;
        b->probe_bps = rate > UINT32_MAX ? UINT32_MAX : (uint32_t) rate;
        cl->id = 0;

        if (rate > est) {
            if (rate > b->max_bps) {
                rate = b->max_bps;
            }

            /* room found: the delay-based rate jumps there */
            if (rate > b->delay_bps) {
                b->delay_bps = rate;
            }

            /* and so may the loss limit, when loss is low */
            if (!b->loss_high && b->loss_fraction < ROOMS_BWE_LOSS_LOW
                && rate > b->loss_bps)
            {
                b->loss_bps = rate;
            }

            /* the capacity seen at the last cuts is history */
            b->cap_known = 0;
            b->probes_ok++;
        }

        if (rate >= ROOMS_BWE_PROBE_SUCCESS * cl->target_bps) {
            b->probe_backoff_us = 0;

        } else {
            rooms_bwe_probe_failed(b);
        }
    }
}


static void
rooms_bwe_set_estimate(rooms_bwe_t *b)
{
    double  est;

    est = b->delay_bps < b->loss_bps ? b->delay_bps : b->loss_bps;

    if (est < b->min_bps) {
        est = b->min_bps;
    }

    if (est > b->max_bps) {
        est = b->max_bps;
    }

    b->estimate_bps = (uint32_t) est;
}


/* when the next probe may start, given that one is wanted */
static int64_t
rooms_bwe_probe_at(const rooms_bwe_t *b)
{
    int64_t  at, gap;

    if (!b->probed) {
        return b->now_us;
    }

    /* start-up: the next as soon as the last one's verdict is in */
    if (b->startup) {
        return b->probe_last_us;
    }

    gap = b->probe_backoff_us > ROOMS_BWE_PROBE_GAP_US
          ? b->probe_backoff_us : ROOMS_BWE_PROBE_GAP_US;
    at = b->probe_last_us + gap;

    if (b->decreased && b->last_decrease_us + ROOMS_BWE_PROBE_STABLE_US > at)
    {
        at = b->last_decrease_us + ROOMS_BWE_PROBE_STABLE_US;
    }

    return at;
}


/* feedback stopped while packets went out: halve, once a second */
static void
rooms_bwe_fb_timeout(rooms_bwe_t *b, int64_t now_us)
{
    if (b->fb_wait_us < 0 || now_us - b->fb_wait_us < ROOMS_BWE_FB_TIMEOUT_US)
    {
        return;
    }

    b->delay_bps /= 2;

    if (b->loss_bps > b->delay_bps) {
        b->loss_bps = b->delay_bps;
    }

    if (b->delay_bps < b->min_bps) {
        b->delay_bps = b->min_bps;
    }

    if (b->loss_bps < b->min_bps) {
        b->loss_bps = b->min_bps;
    }

    b->fb_wait_us = now_us;
    b->timeouts++;
    b->startup = 0;
    rooms_bwe_set_estimate(b);
}


/* expires clusters whose time is up; 1 when one is still in flight */
static int
rooms_bwe_probe_busy(rooms_bwe_t *b, int64_t now_us)
{
    unsigned              i;
    rooms_bwe_cluster_t  *cl;

    for (i = 0; i < ROOMS_BWE_PROBE_CLUSTERS; i++) {
        cl = &b->clusters[i];

        if (cl->id == 0) {
            continue;
        }

        if (rooms_bwe_cluster_expire(b, cl, now_us)) {
            continue;
        }

        /* one cluster in flight at a time */
        return 1;
    }

    return 0;
}


/* starts the next cluster towards want_bps and describes it in p */
static void
rooms_bwe_probe_start(rooms_bwe_t *b, int64_t now_us, uint32_t want_bps,
    rooms_bwe_probe_t *p)
{
    double                target, bytes;
    rooms_bwe_cluster_t  *cl;

    target = (double) want_bps;

    if (target < ROOMS_BWE_PROBE_MIN_STEP * b->estimate_bps) {
        target = ROOMS_BWE_PROBE_MIN_STEP * b->estimate_bps;
    }

    if (target > 2.0 * b->estimate_bps) {
        target = 2.0 * b->estimate_bps;
    }

    if (target > b->max_bps) {
        target = b->max_bps;
    }

    bytes = target / 8 * ROOMS_BWE_PROBE_PKT_US / 1e6;

    if (bytes < ROOMS_BWE_PROBE_MIN_BYTES) {
        bytes = ROOMS_BWE_PROBE_MIN_BYTES;

    } else if (bytes > ROOMS_BWE_PROBE_MAX_BYTES) {
        bytes = ROOMS_BWE_PROBE_MAX_BYTES;
    }

    cl = &b->clusters[b->next_cluster % ROOMS_BWE_PROBE_CLUSTERS];
    memset(cl, 0, sizeof(rooms_bwe_cluster_t));
    cl->id = b->next_cluster;
    cl->planned = ROOMS_BWE_PROBE_PACKETS;
    cl->target_bps = (uint32_t) target;
    cl->start_us = now_us;

    /*
     * Ids 1..255 fit the byte of a packet's record (0 is no probe); a
     * late packet of an old id finds its slot holding another id, or
     * none, and counts as plain media.
     */
    b->next_cluster = (uint8_t) (b->next_cluster == 255
                                 ? 1 : b->next_cluster + 1);
    b->probed = 1;
    b->probe_last_us = now_us;
    b->probes++;

    p->cluster = cl->id;
    p->target_bps = cl->target_bps;
    p->packets = cl->planned;
    p->bytes = (unsigned) bytes;
    p->interval_us = (int64_t) (bytes * 8 * 1e6 / target);
}


int
rooms_bwe_poll(rooms_bwe_t *b, int64_t now_us, uint32_t want_bps,
    rooms_bwe_probe_t *p)
{
    if (now_us < b->now_us) {
        now_us = b->now_us;
    }

    b->now_us = now_us;
    b->want_bps = want_bps;

    rooms_bwe_fb_timeout(b, now_us);

    if (rooms_bwe_probe_busy(b, now_us)) {
        return 0;
    }

    if (want_bps <= b->estimate_bps || b->estimate_bps >= b->max_bps
        || now_us < rooms_bwe_probe_at(b))
    {
        return 0;
    }

    if (now_us < b->probe_retry_us) {
        return 0;
    }

    /* stable: no overuse now, loss not high, feedback flowing */
    if (b->probed
        && (b->usage == ROOMS_BWE_OVERUSE || b->loss_high
            || b->loss_fraction > ROOMS_BWE_LOSS_HIGH || !b->has_feedback
            || now_us - b->last_fb_us > ROOMS_BWE_FB_TIMEOUT_US))
    {
        b->probe_retry_us = now_us + ROOMS_BWE_PROBE_RETRY_US;
        return 0;
    }

    rooms_bwe_probe_start(b, now_us, want_bps, p);

    return 1;
}


int64_t
rooms_bwe_timeout(const rooms_bwe_t *b)
{
    unsigned  i;
    int64_t   t, at, busy;

    if (!b->started) {
        return -1;
    }

    t = INT64_MAX;

    if (b->fb_wait_us >= 0) {
        t = b->fb_wait_us + ROOMS_BWE_FB_TIMEOUT_US;
    }

    /* a cluster in flight expires then; no new one starts before */
    busy = 0;

    for (i = 0; i < ROOMS_BWE_PROBE_CLUSTERS; i++) {
        if (b->clusters[i].id != 0) {
            at = b->clusters[i].start_us + ROOMS_BWE_PROBE_EXPIRE_US + 1;
            t = at < t ? at : t;
            busy = busy > at ? busy : at;
        }
    }

    if (b->want_bps > b->estimate_bps && b->estimate_bps < b->max_bps) {
        at = rooms_bwe_probe_at(b);
        at = at > b->probe_retry_us ? at : b->probe_retry_us;
        at = at > busy ? at : busy;
        t = at < t ? at : t;
    }

    return t == INT64_MAX ? -1 : t;
}


uint32_t
rooms_bwe_estimate(const rooms_bwe_t *b)
{
    return b->estimate_bps;
}


uint32_t
rooms_bwe_acked(const rooms_bwe_t *b)
{
    return b->acked_bps;
}


int64_t
rooms_bwe_rtt(const rooms_bwe_t *b)
{
    return b->rtt_us;
}
