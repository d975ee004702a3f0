/*
 * layer.h: choosing the simulcast layer of each video tile a subscriber
 * shows, from its bandwidth estimate, the size of each tile on its
 * screen, and the order of its view.
 *
 * Owns: which layer each tile should get (or that it is paused for
 * bandwidth), the budget the choice was made in and the hysteresis that
 * keeps it from flapping: down at once, up only when the estimate has
 * carried the larger choice with 15% to spare for 2 s.  Pure: the caller
 * passes the time (now_ms, any monotonic millisecond clock) and every
 * input; the only state is the small rooms_layer_state_t it keeps per
 * subscriber.  It must never read a clock, do I/O or allocate, never
 * touch packets, and never ask for keyframes or switch streams: the SFU
 * does that, at a keyframe of the target layer, when a choice changes.
 * May not: include <sys/socket.h>, include <pthread.h>, include <time.h>, include <stdlib.h>, include bwe.h, include forward.h, call clock_gettime, call gettimeofday, call malloc, call calloc, call free, call rand, call json_, call rooms_store_, call rooms_sfu_, call rooms_bwe_, call rooms_fwd_
 */

#ifndef ROOMS_LAYER_H
#define ROOMS_LAYER_H

#include <stddef.h>
#include <stdint.h>


/* the layers of one publisher's video: q, h, f (rids) at most */
#define ROOMS_LAYER_MAX           3

/* rooms_layer_tile_t.layer besides 0..n-1 */
#define ROOMS_LAYER_PAUSED        -1     /* paused for bandwidth */
#define ROOMS_LAYER_NONE          -2     /* nothing to show: no active
                                            layer (or not chosen yet) */

/*
 * A layer covers a tile when its height is at least 90% of the tile's:
 * a tenth of upscaling does not show, while the next layer up has four
 * times the pixels and costs about three times the bits.
 */
#define ROOMS_LAYER_COVER_PCT     90

/*
 * Up only when the estimate (less audio) carries the larger choice with
 * 15% to spare, and has for 2 s: the estimator's sawtooth is about 15%
 * (it cuts to 0.85 x the acknowledged rate), and 2 s outlasts one of its
 * cuts and a probe's effect, so a layer that goes up stays up.
 */
#define ROOMS_LAYER_UP_PCT        115
#define ROOMS_LAYER_UP_HOLD_MS    2000

/*
 * Reserved per audio stream the subscriber receives: Opus at ~32 kbit/s
 * of payload plus RTP, SRTP and transport overhead at 50 packets a
 * second puts a voice stream near 40-50 kbit/s on the wire; audio is
 * never paused for video, so it comes off the estimate first.
 */
#define ROOMS_LAYER_AUDIO_BPS     40000

/*
 * When a layer's bitrate is not measured yet (0), it is taken as 2 bits
 * per pixel per second, at least 30 kbit/s: about what Chromium's VP8
 * simulcast sends at 30 fps (320x180 ~115 kbit/s, 640x360 ~460,
 * 1280x720 ~1840).
 */
#define ROOMS_LAYER_NOMINAL_BPP   2
#define ROOMS_LAYER_NOMINAL_MIN   30000

/*
 * A layer's bitrate follows each second's measure by a quarter of the
 * difference.  Why: a keyframe is several times a frame's size, so a
 * second with one reads 1.5-3x the layer's rate; the choices made with
 * that spike moved other tiles down (and their keyframe requests made
 * more spikes), then back up when it passed: under 5% loss and its
 * keyframe requests, tiles flapped between layers every second or two.
 * Smoothed, a spike moves the rate by a quarter of itself, and a lasting
 * change is followed within a few seconds.
 */
#define ROOMS_LAYER_RATE_GAIN     4


/* one layer of a publisher's video */
typedef struct {
    uint16_t        width;
    uint16_t        height;
    uint32_t        bps;          /* measured, smoothed by
                                     rooms_layer_rate(); 0: not known */
    unsigned        active;       /* its packets are arriving */
} rooms_layer_t;

/* one publisher's video: its layers by increasing height */
typedef struct {
    unsigned        n;            /* 0..ROOMS_LAYER_MAX */
    rooms_layer_t   layer[ROOMS_LAYER_MAX];
} rooms_layer_pub_t;

/* one tile of the subscriber's view, in view order */
typedef struct {
    const rooms_layer_pub_t *pub; /* the publisher it shows; NULL: none */
    uint16_t        width;        /* rendered, device pixels; 0: unknown */
    uint16_t        height;
    unsigned        pinned;
    int             layer;        /* in: the current choice (start at
                                     ROOMS_LAYER_NONE); out: the new one,
                                     an index into pub->layer[], or
                                     ROOMS_LAYER_PAUSED / _NONE */
    int             prev_layer;   /* out: layer as it came in, so the
                                     caller sees what to switch */
} rooms_layer_tile_t;

/* what the SFU keeps per subscriber */
typedef struct {
    unsigned        started;
    unsigned        settled;      /* the budget fell once: ups wait */
    uint32_t        granted_bps;  /* the video budget choices fit in */
    int64_t         up_since_ms;  /* the estimate has allowed more since;
                                     -1: it has not */
    uint32_t        up_min_bps;   /* the lowest budget since then */
} rooms_layer_state_t;

/* what a choice came to */
typedef struct {
    uint32_t        video_bps;    /* the chosen layers' bitrates */
    uint32_t        want_bps;     /* the estimate that would give every
                                     tile the layer its size asks for:
                                     their total x 1.15 (the margin an
                                     upgrade needs) plus audio; for
                                     rooms_bwe_poll(), so a probe goes
                                     far enough to unlock it */
    uint32_t        budget_bps;   /* the granted budget */
    unsigned        paused;       /* tiles paused for bandwidth */
    unsigned        changed;      /* tiles whose layer changed */
} rooms_layer_result_t;


void rooms_layer_init(rooms_layer_state_t *s);

/*
 * The layer a tile of height h (device pixels) asks for among pub's
 * active layers: the smallest whose height is at least 90% of h, else
 * the highest; for an unknown size (0), the highest when pinned, the
 * smallest otherwise.  ROOMS_LAYER_NONE when no layer is active.
 */
int rooms_layer_desired(const rooms_layer_pub_t *pub, unsigned h,
    unsigned pinned);

/*
 * Chooses a layer for each of the n tiles t[] (view order: pinned and
 * the active speaker first), writing t[i].layer, from the subscriber's
 * estimate less ROOMS_LAYER_AUDIO_BPS per audio stream it receives.
 *
 * Each tile starts at rooms_layer_desired().  While the total does not
 * fit the granted budget, the last tile in the view that is above its
 * publisher's smallest active layer steps down one layer (so the end of
 * the view goes down to the smallest before the tile before it moves);
 * when every tile is at its smallest and the total still does not fit,
 * tiles are paused from the end of the view; the first one only when its
 * smallest layer alone does not fit (the link cannot carry it next to
 * the audio: sending it would only hold a standing queue).
 *
 * The granted budget: the budget itself on the first call and whenever
 * the budget falls below it (down at once); raised to budget / 1.15 when
 * the budget has stayed at least 15% above it for ROOMS_LAYER_UP_HOLD_MS
 * (to the lowest budget of that time / 1.15: up slowly, and with room to
 * spare), so layers and paused tiles come
 * back only after the estimate has recovered for a while.  Before the
 * budget has fallen once (start-up: the estimate has only grown, as
 * probes found the link), it is raised to budget / 1.15 at once.  A view
 * change that fits the granted budget takes effect at once.
 *
 * Fills *r when r is not NULL.  Returns the number of tiles whose layer
 * changed.
 */
unsigned rooms_layer_choose(rooms_layer_state_t *s, int64_t now_ms,
    uint32_t estimate_bps, unsigned audio_streams, rooms_layer_tile_t *t,
    size_t n, rooms_layer_result_t *r);

/*
 * When rooms_layer_choose() should run again even if no input changed
 * (the hold of an upward move ends), or -1 when nothing is pending.
 */
int64_t rooms_layer_timeout(const rooms_layer_state_t *s);

/*
 * Folds one measure of a layer's bitrate (bits per second over about a
 * second) into l->bps: the first as it is, each next one by
 * 1/ROOMS_LAYER_RATE_GAIN of the difference.
 */
void rooms_layer_rate(rooms_layer_t *l, uint32_t measured_bps);

/* The bitrate counted for layer i of pub (measured, or nominal). */
uint32_t rooms_layer_bps(const rooms_layer_pub_t *pub, int i);


#endif /* ROOMS_LAYER_H */
