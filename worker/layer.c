/*
 * layer.c: choosing simulcast layers per subscriber.
 *
 * The choice is a fixed sequence of steps from "every tile at the layer
 * its size asks for": the last tile of the view steps down to its
 * smallest layer, then the one before it, and so on, then tiles are
 * paused from the end; the choice is where the sequence first fits the
 * budget.  A smaller budget only goes further along the same sequence,
 * so the choice is monotonic in the budget: a budget that shrinks but
 * still holds the current choice leaves it alone, which is what makes
 * "down at once" and "up after a hold" free of flapping.
 *
 * May not: include <sys/socket.h>, include <pthread.h>, include <time.h>, include <stdlib.h>, include bwe.h, include forward.h, call clock_gettime, call gettimeofday, call malloc, call calloc, call free, call rand, call json_, call rooms_store_, call rooms_sfu_, call rooms_bwe_, call rooms_fwd_
 */

#include "layer.h"


void
rooms_layer_init(rooms_layer_state_t *s)
{
    s->started = 0;
    s->settled = 0;
    s->granted_bps = 0;
    s->up_since_ms = -1;
    s->up_min_bps = 0;
}


uint32_t
rooms_layer_bps(const rooms_layer_pub_t *pub, int i)
{
    uint64_t  bps;

    if (pub == NULL || i < 0 || (unsigned) i >= pub->n
        || i >= ROOMS_LAYER_MAX)
    {
        return 0;
    }

    if (pub->layer[i].bps > 0) {
        return pub->layer[i].bps;
    }

    bps = (uint64_t) pub->layer[i].width * pub->layer[i].height
          * ROOMS_LAYER_NOMINAL_BPP;

    return bps < ROOMS_LAYER_NOMINAL_MIN ? ROOMS_LAYER_NOMINAL_MIN
                                         : (uint32_t) bps;
}


/* the number of layers looked at: n, never past the array */
static unsigned
rooms_layer_count(const rooms_layer_pub_t *pub)
{
    if (pub == NULL) {
        return 0;
    }

    return pub->n < ROOMS_LAYER_MAX ? pub->n : ROOMS_LAYER_MAX;
}


/* the next active layer below i, or -1 */
static int
rooms_layer_lower(const rooms_layer_pub_t *pub, int i)
{
    for (i--; i >= 0; i--) {
        if (pub->layer[i].active) {
            return i;
        }
    }

    return -1;
}


int
rooms_layer_desired(const rooms_layer_pub_t *pub, unsigned h,
    unsigned pinned)
{
    int       i, lowest, highest;
    unsigned  n;

    n = rooms_layer_count(pub);
    lowest = -1;
    highest = -1;

    for (i = 0; i < (int) n; i++) {
        if (!pub->layer[i].active) {
            continue;
        }

        if (lowest < 0) {
            lowest = i;
        }

        highest = i;
    }

    if (lowest < 0) {
        return ROOMS_LAYER_NONE;
    }

    if (h == 0) {
        /* not laid out yet: a pinned tile will be large */
        return pinned ? highest : lowest;
    }

    for (i = lowest; i <= highest; i++) {
        if (pub->layer[i].active
            && (uint64_t) pub->layer[i].height * 100
               >= (uint64_t) h * ROOMS_LAYER_COVER_PCT)
        {
            return i;
        }
    }

    return highest;
}


/* the granted budget after this call's estimate (the hysteresis) */
static void
rooms_layer_grant(rooms_layer_state_t *s, int64_t now_ms, uint32_t budget)
{
    if (!s->started) {
        s->started = 1;
        s->granted_bps = budget;
        s->up_since_ms = -1;
        return;
    }

    if (budget < s->granted_bps) {
        /* down at once */
        s->granted_bps = budget;
        s->up_since_ms = -1;
        s->settled = 1;
        return;
    }

    /*
     * Start-up: until the budget first falls, it has only grown as the
     * estimator found the link (its probes); there is no sawtooth to
     * wait out yet, and a newcomer's paused tiles come back at once.
     */
    if (!s->settled) {
        s->granted_bps = (uint32_t) ((uint64_t) budget * 100
                                     / ROOMS_LAYER_UP_PCT);
        s->up_since_ms = -1;
        return;
    }

    if ((uint64_t) budget * 100
        < (uint64_t) s->granted_bps * ROOMS_LAYER_UP_PCT)
    {
        s->up_since_ms = -1;
        return;
    }

    if (s->up_since_ms < 0 || now_ms < s->up_since_ms) {
        s->up_since_ms = now_ms;
        s->up_min_bps = budget;
    }

    if (budget < s->up_min_bps) {
        s->up_min_bps = budget;
    }

    if (now_ms - s->up_since_ms >= ROOMS_LAYER_UP_HOLD_MS) {
        s->granted_bps = (uint32_t) ((uint64_t) s->up_min_bps * 100
                                     / ROOMS_LAYER_UP_PCT);
        s->up_since_ms = -1;
    }
}


unsigned
rooms_layer_choose(rooms_layer_state_t *s, int64_t now_ms,
    uint32_t estimate_bps, unsigned audio_streams, rooms_layer_tile_t *t,
    size_t n, rooms_layer_result_t *r)
{
    int       lower;
    size_t    i;
    unsigned  changed, paused;
    uint64_t  audio, total, want;
    uint32_t  budget;

    audio = (uint64_t) audio_streams * ROOMS_LAYER_AUDIO_BPS;
    budget = estimate_bps > audio ? (uint32_t) (estimate_bps - audio) : 0;

    rooms_layer_grant(s, now_ms, budget);

    changed = 0;
    paused = 0;
    total = 0;
    want = audio;

    /* every tile at the layer its size asks for */
    for (i = 0; i < n; i++) {
        t[i].prev_layer = t[i].layer;
        t[i].layer = rooms_layer_desired(t[i].pub, t[i].height, t[i].pinned);
        total += rooms_layer_bps(t[i].pub, t[i].layer);
    }

    want += total * ROOMS_LAYER_UP_PCT / 100;

    /* the end of the view steps down first, each tile to its smallest */
    for (i = n; i-- > 0 && total > s->granted_bps; ) {
        while (t[i].layer >= 0 && total > s->granted_bps) {
            lower = rooms_layer_lower(t[i].pub, t[i].layer);

            if (lower < 0) {
                break;
            }

            total -= rooms_layer_bps(t[i].pub, t[i].layer);
            t[i].layer = lower;
            total += rooms_layer_bps(t[i].pub, t[i].layer);
        }
    }

    /*
     * Then tiles are paused from the end.  The first only when even its
     * smallest layer alone is over the budget: sending it anyway keeps
     * the link's queue full (seconds of delay, measured in test_bwe),
     * and the subscriber's audio waits in that queue too.
     */
    for (i = n; i-- > 0 && total > s->granted_bps; ) {
        if (t[i].layer >= 0) {
            total -= rooms_layer_bps(t[i].pub, t[i].layer);
            t[i].layer = ROOMS_LAYER_PAUSED;
        }
    }

    for (i = 0; i < n; i++) {
        paused += t[i].layer == ROOMS_LAYER_PAUSED;
        changed += t[i].layer != t[i].prev_layer;
    }

    if (r != NULL) {
        r->video_bps = total > UINT32_MAX ? UINT32_MAX : (uint32_t) total;
        r->want_bps = want > UINT32_MAX ? UINT32_MAX : (uint32_t) want;
        r->budget_bps = s->granted_bps;
        r->paused = paused;
        r->changed = changed;
    }

    return changed;
}


void
rooms_layer_rate(rooms_layer_t *l, uint32_t measured_bps)
{
    int64_t  diff;

    if (l->bps == 0) {
        l->bps = measured_bps;
        return;
    }

    diff = (int64_t) measured_bps - (int64_t) l->bps;
    l->bps = (uint32_t) ((int64_t) l->bps + diff / ROOMS_LAYER_RATE_GAIN);
}


int64_t
rooms_layer_timeout(const rooms_layer_state_t *s)
{
    return s->up_since_ms < 0 ? -1 : s->up_since_ms + ROOMS_LAYER_UP_HOLD_MS;
}
