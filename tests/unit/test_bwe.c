/*
 * test_bwe.c: the send-side bandwidth estimator (worker/bwe.*) on a
 * virtual clock.
 *
 * A deterministic simulated path: the SFU sends video frames (30 a
 * second, as bursts of packets of at most 1200 bytes) at the estimate,
 * plus the probe clusters the estimator asks for, through a bottleneck
 * link (a drop-tail FIFO with a capacity in bits per second, a byte
 * limit, a propagation delay and optional random loss drawn from a
 * seeded PRNG) to a receiver that is the real transport-wide-cc core
 * (worker/twcc.*): its feedback packets, parsed by
 * rooms_twcc_parse_packet(), come back after the propagation delay.
 * Nothing reads a clock: every time is computed.
 *
 * Covers: (a) ramp-up from 300 kbit/s on a 2.5 Mbit/s link; (b) a step
 * down to 300 kbit/s; (c) the step back up; (d) 5% random loss with
 * ample capacity; (e) 20% loss; start-up probing (800 kbit/s to what the
 * tiles want within a second, ended by the first cut); (f) feedback that
 * is garbage (unknown numbers, duplicates, reordering, the 16-bit wrap);
 * the estimator driving the layer chooser (worker/layer.*) with an
 * app-limited sender through link changes; and the small contracts
 * (clamping, the unwrap of sent numbers, the feedback timeout, probe
 * bounds).  The figures are printed as TAP diagnostics.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bwe.h"
#include "layer.h"
#include "twcc.h"
#include "tap.h"


#define TICK_US        1000
#define MAX_FLIGHT     65536          /* packets on the wire at most */
#define MAX_FB         256            /* feedback packets in flight */
#define PKT_BYTES      1200
#define FPS            30


typedef struct {
    int64_t         at_us;
    uint16_t        seq;
} flight_t;

typedef struct {
    int64_t         at_us;
    int             len;
    uint8_t         pkt[ROOMS_TWCC_MAX_LEN];
} fb_t;

typedef struct {
    /* the link */
    double          cap_bps;
    int64_t         prop_us;
    size_t          limit;        /* bytes queued at most (drop-tail) */
    double          loss;         /* random loss before the queue */
    uint64_t        rng;
    int64_t         busy_us;      /* the link is busy until */

    /* what the SFU sends */
    uint16_t        seq;
    uint32_t        want_bps;
    uint32_t        app_bps;      /* 0: send at the estimate (greedy) */
    int64_t         frame_us;     /* next frame */
    int64_t         probe_us;     /* next probe packet */
    unsigned        probe_left;
    rooms_bwe_probe_t probe;

    /* packets on the wire towards the receiver */
    flight_t        flight[MAX_FLIGHT];
    size_t          f_head, f_tail;

    rooms_twcc_t    rx;

    /* feedback on the way back */
    fb_t            fb[MAX_FB];
    size_t          fb_head, fb_tail;

    rooms_bwe_t     bwe;
    int64_t         now_us;

    /* figures */
    uint64_t        sent, dropped, probes_sent;
    int64_t         qdelay_us;    /* queueing delay at the last tick */
} sim_t;


static sim_t                sim;
static rooms_twcc_status_t  st[65536];


/* xorshift64*: deterministic, seeded per test */
static double
sim_rand(sim_t *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;

    return (double) ((s->rng * 2685821657736338717ULL) >> 11)
           / (double) (1ULL << 53);
}


static void
sim_init(sim_t *s, double cap_bps, int64_t prop_us, size_t limit,
    double loss, uint64_t seed, uint32_t start_bps, uint32_t max_bps)
{
    memset(s, 0, sizeof(sim_t));
    s->cap_bps = cap_bps;
    s->prop_us = prop_us;
    s->limit = limit;
    s->loss = loss;
    s->rng = seed ? seed : 88172645463325252ULL;
    s->seq = 65000;               /* the 16-bit wrap comes early */
    s->want_bps = max_bps;        /* a greedy sender */
    s->frame_us = 0;
    rooms_twcc_init(&s->rx, 1, 2);
    rooms_bwe_init(&s->bwe, start_bps, 30000, max_bps);
}


/* one packet from the SFU into the link */
static void
sim_send(sim_t *s, int64_t at_us, size_t bytes, unsigned cluster)
{
    int64_t  start, queued;
    double   qbytes;

    rooms_bwe_sent(&s->bwe, at_us, s->seq, bytes, cluster);
    s->sent++;

    if (s->loss > 0 && sim_rand(s) < s->loss) {
        s->dropped++;
        s->seq++;
        return;
    }

    queued = s->busy_us > at_us ? s->busy_us - at_us : 0;
    qbytes = (double) queued * s->cap_bps / 8e6;

    if (qbytes + (double) bytes > (double) s->limit) {
        s->dropped++;
        s->seq++;
        return;
    }

    start = s->busy_us > at_us ? s->busy_us : at_us;
    s->busy_us = start + (int64_t) ((double) bytes * 8e6 / s->cap_bps);

    if (s->f_tail - s->f_head < MAX_FLIGHT) {
        s->flight[s->f_tail % MAX_FLIGHT].at_us = s->busy_us + s->prop_us;
        s->flight[s->f_tail % MAX_FLIGHT].seq = s->seq;
        s->f_tail++;
    }

    s->seq++;
}


/* one millisecond of the whole path */
static void
sim_tick(sim_t *s)
{
    int        len, n;
    int64_t    now, end, t, frame_bits;
    unsigned   i, pkts;
    fb_t      *f;
    flight_t  *p;
    rooms_twcc_info_t  info;

    now = s->now_us;

    /* feedback that reached the SFU */
    while (s->fb_head != s->fb_tail && s->fb[s->fb_head % MAX_FB].at_us <= now)
    {
        f = &s->fb[s->fb_head % MAX_FB];
        n = rooms_twcc_parse_packet(f->pkt, (size_t) f->len, &info, st,
                                    sizeof(st) / sizeof(st[0]));

        if (n > 0) {
            rooms_bwe_feedback(&s->bwe, now, st, (size_t) n);
        }

        s->fb_head++;
    }

    /* packets that reached the receiver */
    while (s->f_head != s->f_tail
           && s->flight[s->f_head % MAX_FLIGHT].at_us <= now)
    {
        p = &s->flight[s->f_head % MAX_FLIGHT];
        rooms_twcc_input(&s->rx, p->at_us, p->seq);
        s->f_head++;
    }

    /* its feedback, on the way back */
    for ( ;; ) {
        f = &s->fb[s->fb_tail % MAX_FB];
        len = rooms_twcc_poll(&s->rx, now, f->pkt, sizeof(f->pkt));

        if (len <= 0 || s->fb_tail - s->fb_head >= MAX_FB) {
            break;
        }

        f->len = len;
        f->at_us = now + s->prop_us;
        s->fb_tail++;
    }

    /* the estimator's timer: a probe? */
    if (s->probe_left == 0
        && rooms_bwe_poll(&s->bwe, now, s->want_bps, &s->probe))
    {
        s->probe_left = s->probe.packets;
        s->probe_us = now + 1;
    }

    /* what leaves in (now, now + tick]: frames and probe packets */
    end = now + TICK_US;

    while (s->frame_us < end || (s->probe_left && s->probe_us < end)) {
        if (s->probe_left && s->probe_us <= s->frame_us) {
            sim_send(s, s->probe_us, s->probe.bytes, s->probe.cluster);
            s->probes_sent++;
            s->probe_left--;
            s->probe_us += s->probe.interval_us;
            continue;
        }

        /* a frame at the estimate, its packets 100 us apart */
        frame_bits = (s->app_bps ? s->app_bps : rooms_bwe_estimate(&s->bwe))
                     / FPS;
        pkts = (unsigned) ((frame_bits + PKT_BYTES * 8 - 1) / (PKT_BYTES * 8));
        t = s->frame_us;

        for (i = 0; i < pkts; i++) {
            sim_send(s, t + i * 100, (size_t) (frame_bits / 8 / pkts), 0);
        }

        s->frame_us += 1000000 / FPS;
    }

    s->qdelay_us = s->busy_us > now ? s->busy_us - now : 0;
    s->now_us = end;
}


/* statistics over a stretch of simulated time */
typedef struct {
    double    est_sum;
    double    q_sum;
    int64_t   q_max;
    unsigned  q_over;             /* ticks with > 100 ms of queue */
    unsigned  ticks;
    uint32_t  est_min, est_max;
} stats_t;


static void
stats_add(stats_t *a, const sim_t *s)
{
    uint32_t  e;

    e = rooms_bwe_estimate(&s->bwe);

    if (a->ticks == 0 || e < a->est_min) {
        a->est_min = e;
    }

    if (e > a->est_max) {
        a->est_max = e;
    }

    a->est_sum += e;
    a->q_sum += (double) s->qdelay_us;
    a->q_max = s->qdelay_us > a->q_max ? s->qdelay_us : a->q_max;
    a->q_over += s->qdelay_us > 100000;
    a->ticks++;
}


/* runs until until_us; prints the estimate every second when verbose */
static void
sim_run(sim_t *s, int64_t until_us, stats_t *a, int verbose)
{
    while (s->now_us < until_us) {
        sim_tick(s);

        if (a != NULL) {
            stats_add(a, s);
        }

        if (verbose && s->now_us % 1000000 == 0) {
            diag("  t=%5.1f s  estimate %7.0f kbit/s  acked %7.0f kbit/s  "
                 "queue %4lld ms  rtt %3lld ms",
                 s->now_us / 1e6, rooms_bwe_estimate(&s->bwe) / 1e3,
                 rooms_bwe_acked(&s->bwe) / 1e3,
                 (long long) s->qdelay_us / 1000,
                 (long long) rooms_bwe_rtt(&s->bwe) / 1000);
        }
    }
}


/* the first time the estimate passes (above) or falls under a value */
static int64_t
sim_until(sim_t *s, int64_t limit_us, uint32_t bps, int above, stats_t *a)
{
    uint32_t  e;

    while (s->now_us < limit_us) {
        sim_tick(s);

        if (a != NULL) {
            stats_add(a, s);
        }

        e = rooms_bwe_estimate(&s->bwe);

        if (above ? e > bps : e < bps) {
            return s->now_us;
        }
    }

    return -1;
}


static void
test_steps(void)
{
    int64_t   t_up, t_down, t_rec, t_settle;
    stats_t   ramp, steady, down, low, rec;
    sim_t    *s;

    s = &sim;

    /* 2.5 Mbit/s, 25 ms each way, 64 KB of buffer (~200 ms) */
    sim_init(s, 2.5e6, 25000, 64000, 0, 1, 300000, 10000000);

    memset(&ramp, 0, sizeof(ramp));
    t_up = sim_until(s, 20000000, 1500000, 1, &ramp);

    ok(t_up > 0 && t_up <= 20000000,
       "(a) ramp-up 300 kbit/s -> over 1.5 Mbit/s on 2.5 Mbit/s: %.2f s",
       t_up / 1e6);

    memset(&steady, 0, sizeof(steady));
    sim_run(s, 20000000, &steady, 0);

    diag("(a) to 20 s: estimate %.0f kbit/s (min %.0f, max %.0f, mean %.0f"
         " after the ramp), queue mean %.1f ms, max %lld ms, over 100 ms"
         " %.1f%% of the time; %llu overuses, %llu cuts, %llu probes"
         " (%llu raised it), %llu of %llu packets dropped",
         rooms_bwe_estimate(&s->bwe) / 1e3, steady.est_min / 1e3,
         steady.est_max / 1e3, steady.est_sum / steady.ticks / 1e3,
         steady.q_sum / steady.ticks / 1e3, (long long) steady.q_max / 1000,
         100.0 * steady.q_over / steady.ticks,
         (unsigned long long) s->bwe.overuses,
         (unsigned long long) s->bwe.decreases,
         (unsigned long long) s->bwe.probes,
         (unsigned long long) s->bwe.probes_ok,
         (unsigned long long) s->dropped, (unsigned long long) s->sent);

    ok(steady.est_sum / steady.ticks > 1500000,
       "(a) after the ramp the estimate averages over 1.5 Mbit/s (%.0f)",
       steady.est_sum / steady.ticks / 1e3);
    ok(steady.est_max <= 2.5e6 * 1.3,
       "(a) and never runs far past the link (max %.0f kbit/s)",
       steady.est_max / 1e3);
    ok(steady.q_over < steady.ticks / 10 && steady.q_sum / steady.ticks < 50000,
       "(a) no sustained overuse: queue over 100 ms %.1f%% of the time, "
       "mean %.1f ms", 100.0 * steady.q_over / steady.ticks,
       steady.q_sum / steady.ticks / 1e3);

    /* (b) the link drops to 300 kbit/s */
    s->cap_bps = 300000;
    memset(&down, 0, sizeof(down));
    t_down = sim_until(s, 30000000, 400000, 0, &down);

    ok(t_down > 0 && t_down - 20000000 <= 3000000,
       "(b) step down to 300 kbit/s: under 400 kbit/s after %.2f s",
       t_down > 0 ? (t_down - 20000000) / 1e6 : -1.0);

    /* the queue drains: the first time it is under 100 ms for good */
    t_settle = -1;

    while (s->now_us < 40000000) {
        sim_tick(s);

        if (s->qdelay_us > 100000) {
            t_settle = -1;

        } else if (t_settle < 0) {
            t_settle = s->now_us;
        }
    }

    memset(&low, 0, sizeof(low));
    sim_run(s, 40000000, &low, 0);
    diag("(b) queue under 100 ms for good %.2f s after the step, peak while"
         " falling %lld ms; estimate %.0f kbit/s at 40 s, acked %.0f;"
         " %llu of %llu packets dropped so far",
         t_settle > 0 ? (t_settle - 20000000) / 1e6 : -1.0,
         (long long) down.q_max / 1000, rooms_bwe_estimate(&s->bwe) / 1e3,
         rooms_bwe_acked(&s->bwe) / 1e3, (unsigned long long) s->dropped,
         (unsigned long long) s->sent);

    ok(t_settle > 0 && t_settle - 20000000 <= 15000000,
       "(b) the queueing delay settles under 100 ms (%.2f s after the step)",
       t_settle > 0 ? (t_settle - 20000000) / 1e6 : -1.0);
    ok(rooms_bwe_estimate(&s->bwe) > 150000
       && rooms_bwe_estimate(&s->bwe) < 400000,
       "(b) the estimate stays near the 300 kbit/s link (%.0f kbit/s)",
       rooms_bwe_estimate(&s->bwe) / 1e3);

    /* (c) back to 2.5 Mbit/s */
    s->cap_bps = 2.5e6;
    memset(&rec, 0, sizeof(rec));
    t_rec = sim_until(s, 60000000, 1500000, 1, &rec);

    ok(t_rec > 0 && t_rec - 40000000 <= 20000000,
       "(c) step back up: over 1.5 Mbit/s after %.2f s",
       t_rec > 0 ? (t_rec - 40000000) / 1e6 : -1.0);

    diag("(c) %llu probes in all, %llu raised the estimate; %llu feedback,"
         " %llu statuses matched, %llu unknown",
         (unsigned long long) s->bwe.probes,
         (unsigned long long) s->bwe.probes_ok,
         (unsigned long long) s->bwe.feedbacks,
         (unsigned long long) s->bwe.matched,
         (unsigned long long) s->bwe.unknown);
}


/* the mean estimate over 10..20 s with random loss, ample capacity */
static double
run_loss_on(double cap, double loss, uint64_t seed, int verbose)
{
    stats_t   a;
    sim_t    *s;

    s = &sim;
    sim_init(s, cap, 25000, 256000, loss, seed, 300000, 4000000);
    sim_run(s, 10000000, NULL, verbose);
    memset(&a, 0, sizeof(a));
    sim_run(s, 20000000, &a, verbose);

    return a.est_sum / a.ticks;
}


static double
run_loss(double loss, uint64_t seed, int verbose)
{
    return run_loss_on(20e6, loss, seed, verbose);
}


/*
 * Start-up: a newcomer's estimate starts at 800 kbit/s (the SFU's start)
 * and its tiles want 6 Mbit/s of a 20 Mbit/s link.  Until the first cut,
 * each probe that found room is followed by the next as soon as its
 * verdict is in, so the estimate doubles every round trip or so instead
 * of once a second; the first cut (the link found) ends that.
 */
static void
test_startup(void)
{
    int64_t   t_up;
    sim_t    *s;

    s = &sim;

    sim_init(s, 20e6, 25000, 256000, 0, 3, 800000, 20000000);
    s->want_bps = 6000000;

    ok(s->bwe.startup == 1, "start-up: from the start");
    t_up = sim_until(s, 10000000, 5000000, 1, NULL);
    ok(t_up > 0 && t_up <= 1000000, "start-up: 800 kbit/s -> over 5 Mbit/s "
       "(tiles want 6) within 1 s: %.2f s, %llu probes", t_up / 1e6,
       (unsigned long long) s->bwe.probes);
    ok(s->bwe.probes >= 3 && s->bwe.probes_ok >= 3,
       "start-up: by probes that found room (%llu of %llu)",
       (unsigned long long) s->bwe.probes_ok,
       (unsigned long long) s->bwe.probes);

    /* a 2 Mbit/s link then: the first cut ends start-up */
    s->cap_bps = 2e6;
    s->want_bps = 20000000;
    (void) sim_until(s, 20000000, 2500000, 0, NULL);
    ok(s->bwe.startup == 0 && s->bwe.decreases + s->bwe.loss_decreases > 0,
       "start-up ends at the first cut (%.2f s)", s->now_us / 1e6);
}


static void
test_loss(void)
{
    int       i, worst;
    double    clean, lossy, w, before, after;
    stats_t   a;
    sim_t    *s;

    clean = run_loss(0, 7, 0);
    lossy = run_loss(0.05, 7, 0);

    diag("(d) ample capacity (20 Mbit/s, max 4 Mbit/s): mean estimate over"
         " 10..20 s %.0f kbit/s without loss, %.0f with 5%% loss (%.0f%%);"
         " %llu loss cuts", clean / 1e3, lossy / 1e3, 100 * lossy / clean,
         (unsigned long long) sim.bwe.loss_decreases);

    ok(lossy > 0.7 * clean,
       "(d) 5%% random loss: the estimate does not collapse (%.0f%% of the"
       " lossless one)", 100 * lossy / clean);

    /* the same over more seeds: the worst of them */
    w = lossy;
    worst = 7;

    for (i = 1; i <= 8; i++) {
        lossy = run_loss(0.05, 1000 + i, 0);

        if (lossy < w) {
            w = lossy;
            worst = 1000 + i;
        }
    }

    diag("(d) worst of 9 seeds (%d): %.0f kbit/s, %.0f%%", worst, w / 1e3,
         100 * w / clean);
    ok(w > 0.7 * clean, "(d) over 9 seeds the worst keeps %.0f%%",
       100 * w / clean);

    /* the same on the 2.5 Mbit/s bottleneck, where delay governs */
    clean = run_loss_on(2.5e6, 0, 7, 0);
    lossy = run_loss_on(2.5e6, 0.05, 7, 0);
    diag("(d) 2.5 Mbit/s bottleneck: mean estimate over 10..20 s %.0f kbit/s"
         " without loss, %.0f with 5%% loss (%.0f%%)", clean / 1e3,
         lossy / 1e3, 100 * lossy / clean);
    ok(lossy > 0.7 * clean,
       "(d) 5%% loss on a bottleneck: %.0f%% of the lossless estimate",
       100 * lossy / clean);

    /* (e) 20% loss from the start: it never ramps */
    lossy = run_loss(0.20, 7, 0);
    diag("(e) 20%% loss from the start: mean estimate over 10..20 s %.0f"
         " kbit/s (started at 300)", lossy / 1e3);
    ok(lossy < 300000, "(e) 20%% loss from the start: under the start"
       " (%.0f kbit/s)", lossy / 1e3);

    /* (e) 10 s clean, then 20% loss */
    s = &sim;
    sim_init(s, 20e6, 25000, 256000, 0, 9, 300000, 4000000);
    sim_run(s, 10000000, NULL, 0);
    before = rooms_bwe_estimate(&s->bwe);
    s->loss = 0.20;
    memset(&a, 0, sizeof(a));
    sim_run(s, 20000000, &a, 0);
    after = rooms_bwe_estimate(&s->bwe);

    diag("(e) 20%% loss from 10 s: %.0f kbit/s at 10 s, %.0f at 20 s;"
         " %llu loss cuts, loss fraction %.3f",
         before / 1e3, after / 1e3,
         (unsigned long long) s->bwe.loss_decreases, s->bwe.loss_fraction);

    ok(after < 0.5 * before,
       "(e) 20%% loss: the estimate decreases (%.0f -> %.0f kbit/s)",
       before / 1e3, after / 1e3);
}


/* statuses of packets sent, arrived at send + 30 ms, all received */
static size_t
make_statuses(rooms_twcc_status_t *out, uint16_t first, size_t n,
    int64_t send0_us, int64_t gap_us)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[i].seq = (uint16_t) (first + i);
        out[i].status = ROOMS_TWCC_SMALL_DELTA;
        out[i].delta = 0;
        out[i].at_us = send0_us + (int64_t) i * gap_us + 30000;
    }

    return n;
}


static void
test_garbage(void)
{
    int          i, j;
    size_t       m;
    uint16_t     seq;
    uint32_t     e0, e1, emin, emax;
    int64_t      now;
    uint64_t     rng;
    rooms_bwe_t *b;
    rooms_twcc_status_t  tmp[64];

    b = &sim.bwe;
    rooms_bwe_init(b, 1000000, 30000, 10000000);

    /* 3 s of 1 Mbit/s in 1200-byte packets, every ~10 ms, over the wrap */
    seq = 65500;
    now = 1000000;

    for (i = 0; i < 300; i++) {
        rooms_bwe_sent(b, now + i * 10000, (uint16_t) (seq + i), 1200, 0);
    }

    /* honest feedback for the first 100 */
    make_statuses(st, seq, 100, now, 10000);
    ok(rooms_bwe_feedback(b, now + 1100000, st, 100) == 100,
       "(f) honest feedback: 100 matched across the 16-bit wrap");
    e0 = rooms_bwe_estimate(b);

    /* numbers never sent: ahead of the highest, and long before */
    make_statuses(tmp, (uint16_t) (seq + 300), 64, now, 10000);
    m = rooms_bwe_feedback(b, now + 3100000, tmp, 64);
    make_statuses(tmp, (uint16_t) (seq - 5000), 64, now, 10000);
    m += rooms_bwe_feedback(b, now + 3100000, tmp, 64);
    ok(m == 0 && rooms_bwe_estimate(b) == e0 && b->unknown == 128,
       "(f) 128 unknown numbers: ignored, the estimate unmoved");

    /* duplicates of what was acked */
    ok(rooms_bwe_feedback(b, now + 3100000, st, 100) == 100
       && b->duplicates == 100 && rooms_bwe_estimate(b) == e0,
       "(f) the same feedback again: 100 duplicates, estimate unmoved");

    /* the next 100, shuffled (deterministically) */
    make_statuses(st, (uint16_t) (seq + 100), 100, now + 1000000, 10000);
    rng = 12345;

    for (i = 99; i > 0; i--) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        j = (int) ((rng >> 33) % (uint64_t) (i + 1));
        tmp[0] = st[i];
        st[i] = st[j];
        st[j] = tmp[0];
    }

    ok(rooms_bwe_feedback(b, now + 3200000, st, 100) == 100,
       "(f) reordered statuses are matched");
    e1 = rooms_bwe_estimate(b);
    ok(e1 >= e0 / 2 && e1 <= e0 * 2,
       "(f) reordering moves the estimate little (%u -> %u)", e0, e1);

    /* random statuses, random arrival times, a thousand feedbacks */
    emin = UINT32_MAX;
    emax = 0;
    rng = 99;

    for (i = 0; i < 1000; i++) {
        for (j = 0; j < 64; j++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            tmp[j].seq = (uint16_t) (seq + (rng >> 40) % 400);
            tmp[j].status = (uint8_t) ((rng >> 20) % 3);
            tmp[j].delta = 0;
            tmp[j].at_us = tmp[j].status
                           ? (int64_t) ((rng >> 8) % 4000000000ULL) : 0;
        }

        rooms_bwe_feedback(b, now + 3300000 + i * 1000, tmp, 64);

        if (rooms_bwe_estimate(b) < emin) {
            emin = rooms_bwe_estimate(b);
        }

        if (rooms_bwe_estimate(b) > emax) {
            emax = rooms_bwe_estimate(b);
        }
    }

    diag("(f) garbage: estimate %u before, %u..%u during 1000 garbage"
         " feedbacks (%llu unknown, %llu duplicates, %llu resets)",
         e1, emin, emax, (unsigned long long) b->unknown,
         (unsigned long long) b->duplicates,
         (unsigned long long) b->resets);
    ok(emin >= 30000 && emax <= 10000000 && emax <= 2 * e1,
       "(f) 1000 random feedbacks: within bounds, never above twice the"
       " estimate (%u..%u)", emin, emax);
}


static void
test_contracts(void)
{
    int                i, n;
    int64_t            t;
    rooms_bwe_t       *b;
    rooms_bwe_probe_t  p;

    b = &sim.bwe;

    rooms_bwe_init(b, 10, 30000, 20000);
    ok(rooms_bwe_estimate(b) == 30000 && b->max_bps == 30000,
       "init: start and max raised to min when inconsistent");
    rooms_bwe_init(b, 9000000, 30000, 2000000);
    ok(rooms_bwe_estimate(b) == 2000000, "init: start clamped to max");
    rooms_bwe_init(b, 300000, 30000, 2000000);
    ok(rooms_bwe_timeout(b) == -1 && rooms_bwe_acked(b) == 0,
       "init: no timeout before anything is sent, nothing acked");

    /* the first probe may start at once, at most twice the estimate */
    n = rooms_bwe_poll(b, 0, 2000000, &p);
    ok(n == 1 && p.packets > 0
       && p.packets <= ROOMS_BWE_PROBE_PACKETS && p.target_bps == 600000
       && p.bytes >= 200 && p.bytes <= 1200 && p.interval_us > 0,
       "probe: %u packets of %u bytes every %lld us at %u bit/s",
       p.packets, p.bytes, (long long) p.interval_us, p.target_bps);
    ok(rooms_bwe_poll(b, 1000, 2000000, &p) == 0,
       "probe: no second cluster while one is in flight");

    /* nothing wanted beyond the estimate: no probe */
    rooms_bwe_init(b, 300000, 30000, 2000000);
    ok(rooms_bwe_poll(b, 0, 300000, &p) == 0,
       "probe: none when the caller wants no more than the estimate");

    /* feedback that stops: halved once per second of silence */
    for (i = 0; i < 100; i++) {
        rooms_bwe_sent(b, i * 10000, (uint16_t) i, 1200, 0);
    }

    t = rooms_bwe_timeout(b);
    ok(t == ROOMS_BWE_FB_TIMEOUT_US, "timeout: 1 s after the first packet"
       " without feedback (%lld)", (long long) t);
    rooms_bwe_poll(b, t, 0, &p);
    ok(rooms_bwe_estimate(b) == 150000 && b->timeouts == 1,
       "timeout: the estimate halves (%u)", rooms_bwe_estimate(b));
    rooms_bwe_poll(b, t + 500000, 0, &p);
    ok(rooms_bwe_estimate(b) == 150000, "timeout: not again within 1 s");

    for (i = 0; i < 10; i++) {
        rooms_bwe_poll(b, t + (i + 1) * 1000000, 0, &p);
    }

    ok(rooms_bwe_estimate(b) == 30000, "timeout: never below min (%u)",
       rooms_bwe_estimate(b));

    /* a restarted sequence counter goes on, and its feedback matches */
    rooms_bwe_init(b, 300000, 30000, 2000000);
    rooms_bwe_sent(b, 0, 100, 1200, 0);
    rooms_bwe_sent(b, 1000, 101, 1200, 0);
    rooms_bwe_sent(b, 2000, 5, 1200, 0);
    rooms_bwe_sent(b, 3000, 6, 1200, 0);
    n = (int) make_statuses(st, 5, 2, 2000, 1000);
    ok(rooms_bwe_feedback(b, 50000, st, (size_t) n) == 2,
       "a counter that jumped back: its feedback matches");
    n = (int) make_statuses(st, 100, 2, 0, 1000);
    ok(rooms_bwe_feedback(b, 50000, st, (size_t) n) == 0,
       "and the packets before the jump are forgotten, not mistaken");

    /* an unknown probe cluster is sent as plain media */
    rooms_bwe_sent(b, 4000, 7, 1200, 77);
    ok(b->sent[b->last_ext & (ROOMS_BWE_HISTORY - 1)].cluster
       == ROOMS_BWE_NO_PROBE, "a cluster id never handed out is ignored");
}


/*
 * The SFU as it will be: the layer chooser picks layers for a pinned
 * 720p tile and three thumbnails from the estimate every 100 ms, the
 * sender sends exactly what it picked (app-limited, not greedy), and
 * probes go as far as the chooser's want.  On a 4 Mbit/s link the pinned
 * tile must reach f; when the link drops to 1 Mbit/s the layers must
 * drop; at 250 kbit/s thumbnails are paused; back at 4 Mbit/s all
 * return.
 */
static void
test_app_limited(void)
{
    size_t                i;
    int64_t               t_f, t_drop, t_pause, t_back;
    rooms_layer_pub_t     pub[4];
    rooms_layer_tile_t    tile[4];
    rooms_layer_state_t   ls;
    rooms_layer_result_t  r;
    sim_t                *s;

    for (i = 0; i < 4; i++) {
        memset(&pub[i], 0, sizeof(pub[i]));
        pub[i].n = 3;
        pub[i].layer[0] = (rooms_layer_t) { 320, 180, 150000, 1 };
        pub[i].layer[1] = (rooms_layer_t) { 640, 360, 500000, 1 };
        pub[i].layer[2] = (rooms_layer_t) { 1280, 720, 1500000, 1 };
        memset(&tile[i], 0, sizeof(tile[i]));
        tile[i].pub = &pub[i];
        tile[i].height = i == 0 ? 720 : 180;
        tile[i].width = i == 0 ? 1280 : 320;
        tile[i].pinned = i == 0;
        tile[i].layer = ROOMS_LAYER_NONE;
    }

    s = &sim;
    sim_init(s, 4e6, 25000, 64000, 0, 3, 300000, 10000000);
    rooms_layer_init(&ls);
    t_f = -1;
    t_drop = -1;
    t_pause = -1;
    t_back = -1;

    while (s->now_us < 60000000) {
        if (s->now_us % 100000 == 0) {
            rooms_layer_choose(&ls, s->now_us / 1000,
                               rooms_bwe_estimate(&s->bwe), 4, tile, 4, &r);
            s->app_bps = r.video_bps + 4 * ROOMS_LAYER_AUDIO_BPS;
            s->want_bps = r.want_bps;

            if (t_f < 0 && tile[0].layer == 2) {
                t_f = s->now_us;
            }

            if (s->now_us >= 20000000 && t_drop < 0
                && r.video_bps + 160000 <= 1000000)
            {
                t_drop = s->now_us;
            }

            if (s->now_us >= 30000000 && t_pause < 0 && r.paused > 0) {
                t_pause = s->now_us;
            }

            if (s->now_us >= 40000000 && t_back < 0 && r.paused == 0
                && tile[0].layer == 2)
            {
                t_back = s->now_us;
            }

            if (s->now_us % 5000000 == 0) {
                diag("  t=%4.0f s  link %4.0f kbit/s  estimate %5.0f  "
                     "sending %5.0f  queue %4lld ms  layers %c%c%c%c",
                     s->now_us / 1e6, s->cap_bps / 1e3,
                     rooms_bwe_estimate(&s->bwe) / 1e3, s->app_bps / 1e3,
                     (long long) s->qdelay_us / 1000,
                     "-.qhf"[tile[0].layer + 2], "-.qhf"[tile[1].layer + 2],
                     "-.qhf"[tile[2].layer + 2], "-.qhf"[tile[3].layer + 2]);
            }
        }

        if (s->now_us == 20000000) {
            s->cap_bps = 1e6;
        }

        if (s->now_us == 30000000) {
            s->cap_bps = 250000;
        }

        if (s->now_us == 40000000) {
            s->cap_bps = 4e6;
        }

        sim_tick(s);
    }

    ok(t_f > 0 && t_f <= 20000000,
       "app-limited, 4 Mbit/s: the pinned tile reaches f after %.1f s",
       t_f / 1e6);
    ok(t_drop > 0 && t_drop - 20000000 <= 3000000,
       "link to 1 Mbit/s: the layers fit it after %.1f s",
       t_drop > 0 ? (t_drop - 20000000) / 1e6 : -1.0);
    ok(t_pause > 0 && t_pause - 30000000 <= 3000000,
       "link to 250 kbit/s: thumbnails paused after %.1f s",
       t_pause > 0 ? (t_pause - 30000000) / 1e6 : -1.0);
    ok(t_back > 0 && t_back - 40000000 <= 20000000,
       "link back to 4 Mbit/s: all resumed and f after %.1f s",
       t_back > 0 ? (t_back - 40000000) / 1e6 : -1.0);
    diag("app-limited: %llu probes, %llu raised the estimate, %llu cuts,"
         " %llu of %llu packets dropped",
         (unsigned long long) s->bwe.probes,
         (unsigned long long) s->bwe.probes_ok,
         (unsigned long long) s->bwe.decreases,
         (unsigned long long) s->dropped, (unsigned long long) s->sent);
}


int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "-v") == 0) {
        sim_init(&sim, 2.5e6, 25000, 64000, 0, 1, 300000, 10000000);
        sim_run(&sim, 20000000, NULL, 1);
        sim.cap_bps = 300000;
        sim_run(&sim, 40000000, NULL, 1);
        sim.cap_bps = 2.5e6;
        sim_run(&sim, 60000000, NULL, 1);
        return 0;
    }

    if (argc > 1 && strcmp(argv[1], "-l") == 0) {
        run_loss_on(argc > 3 ? atof(argv[3]) : 20e6,
                    argc > 2 ? atof(argv[2]) : 0.05, 7, 1);
        return 0;
    }

    test_contracts();
    test_steps();
    test_startup();
    test_loss();
    test_garbage();
    test_app_limited();

    return done_testing();
}
