/*
 * speaker.c: who is heard (speaker.h): the loudness of voices from their
 * audio levels, the loudest others on a subscriber's audio lines, and the
 * room's dominant speaker, with their hysteresis.
 *
 * Owns: the rules of speaker.h.  Must never: read a clock, do I/O,
 * allocate, or know what a line or a participant is beyond the indexes
 * it is handed.
 * May not: include <sys/socket.h>, include <pthread.h>, include <time.h>, include <stdlib.h>, include forward.h, include sfu_int.h, include sfu_peer.h, call clock_gettime, call gettimeofday, call malloc, call calloc, call free, call rand, call json_, call rooms_fwd_, call sfu_
 */

#include "speaker.h"


void
rooms_voice_level(rooms_voice_t *v, uint64_t now_ms, unsigned level)
{
    unsigned  x, fall;
    uint64_t  dt;

    x = (127 - (level > 127 ? 127 : level)) * 16;

    /* a voice that was silent a while starts from silence, not its past */
    if (!v->any || now_ms - v->heard_ms > ROOMS_VOICE_STALE_MS) {
        v->fast = 0;
        v->peak = 0;
        v->heard_ms = now_ms;
    }

    /* the peak falls with time, 1 dB (16) per ROOMS_VOICE_DECAY_MS */
    dt = now_ms - v->heard_ms;
    fall = (unsigned) (dt * 16 / ROOMS_VOICE_DECAY_MS);

    v->any = 1;
    v->heard_ms = now_ms;

    /* an exponential average in integers: x and it are < 2^11 */
    v->fast = v->fast - (v->fast >> ROOMS_VOICE_FAST_SHIFT)
              + (x >> ROOMS_VOICE_FAST_SHIFT);

    v->peak = v->peak > fall ? v->peak - fall : 0;

    if (v->fast > v->peak) {
        v->peak = v->fast;
    }

    if (v->fast >= ROOMS_VOICE_SPEAK * 16) {
        if (v->loud_ms == 0 || now_ms - v->loud_ms > ROOMS_VOICE_GAP_MS) {
            v->run_ms = now_ms;
        }

        v->loud_ms = now_ms;
    }
}


static unsigned
rooms_voice_fresh(const rooms_voice_t *v, uint64_t now_ms)
{
    return v->any && now_ms - v->heard_ms <= ROOMS_VOICE_STALE_MS;
}


unsigned
rooms_voice_score(const rooms_voice_t *v, uint64_t now_ms)
{
    if (!rooms_voice_fresh(v, now_ms)) {
        return 0;
    }

    if (v->loud_ms == 0 || now_ms - v->loud_ms > ROOMS_VOICE_GAP_MS) {
        return v->fast;
    }

    return v->fast > v->peak ? v->fast : v->peak;
}


unsigned
rooms_voice_speaking(const rooms_voice_t *v, uint64_t now_ms)
{
    return rooms_voice_fresh(v, now_ms)
           && v->fast >= ROOMS_VOICE_SPEAK * 16
           && now_ms - v->run_ms >= ROOMS_VOICE_ONSET_MS;
}


/* whether candidate c is on one of the lines */
static unsigned
rooms_voice_on_line(const rooms_voice_line_t *lines, unsigned nl, int c)
{
    unsigned  i;

    for (i = 0; i < nl; i++) {
        if (lines[i].voice == c) {
            return 1;
        }
    }

    return 0;
}


/*
 * The loudest candidate on no line (speaking only, when asked), or -1;
 * earlier candidates win a tie.
 */
static int
rooms_voice_loudest_free(const rooms_voice_line_t *lines, unsigned nl,
    const rooms_voice_t *const *cand, unsigned nc, uint64_t now_ms,
    unsigned speaking)
{
    int       best;
    unsigned  c, s, best_s;

    best = -1;
    best_s = 0;

    for (c = 0; c < nc; c++) {
        if (rooms_voice_on_line(lines, nl, (int) c)
            || (speaking && !rooms_voice_speaking(cand[c], now_ms)))
        {
            continue;
        }

        s = rooms_voice_score(cand[c], now_ms);

        if (best < 0 || s > best_s) {
            best = (int) c;
            best_s = s;
        }
    }

    return best;
}


unsigned
rooms_voice_choose(rooms_voice_line_t *lines, unsigned nl,
    const rooms_voice_t *const *cand, unsigned nc, uint64_t now_ms)
{
    int       c, q;
    unsigned  i, s, q_s, changed, tries;

    changed = 0;

    for (i = 0; i < nl; i++) {
        if (lines[i].voice < 0 || lines[i].voice >= (int) nc) {
            lines[i].voice = -1;
        }
    }

    /* lines without a voice: the loudest free candidates */
    for (i = 0; i < nl; i++) {
        if (lines[i].voice >= 0) {
            continue;
        }

        c = rooms_voice_loudest_free(lines, nl, cand, nc, now_ms, 0);

        if (c < 0) {
            break;
        }

        lines[i].voice = c;
        lines[i].since_ms = now_ms;
        changed++;
    }

    /*
     * speakers on no line take the quietest line that may change, while
     * clearly louder; each round binds one, so nl rounds bound it
     */
    for (tries = 0; tries < nl; tries++) {
        c = rooms_voice_loudest_free(lines, nl, cand, nc, now_ms, 1);

        if (c < 0) {
            break;
        }

        q = -1;
        q_s = 0;

        for (i = 0; i < nl; i++) {
            if (now_ms - lines[i].since_ms < ROOMS_VOICE_LINE_HOLD_MS) {
                continue;
            }

            s = rooms_voice_score(cand[lines[i].voice], now_ms);

            if (q < 0 || s < q_s) {
                q = (int) i;
                q_s = s;
            }
        }

        if (q < 0 || rooms_voice_score(cand[c], now_ms)
                     < q_s + ROOMS_VOICE_MARGIN * 16)
        {
            break;
        }

        lines[q].voice = c;
        lines[q].since_ms = now_ms;
        changed++;
    }

    return changed;
}


int
rooms_voice_dominant(int cur, uint64_t *since_ms,
    const rooms_voice_t *const *cand, unsigned nc, uint64_t now_ms)
{
    int       best;
    unsigned  c, s, best_s, cur_s;

    if (cur >= (int) nc) {
        cur = -1;
    }

    /* quiet too long: nobody, until someone speaks */
    if (cur >= 0 && (!cand[cur]->any
                     || now_ms - cand[cur]->loud_ms > ROOMS_VOICE_QUIET_MS))
    {
        cur = -1;
        *since_ms = now_ms;
    }

    best = -1;
    best_s = 0;

    for (c = 0; c < nc; c++) {
        if ((int) c == cur || !rooms_voice_speaking(cand[c], now_ms)) {
            continue;
        }

        s = rooms_voice_score(cand[c], now_ms);

        if (best < 0 || s > best_s) {
            best = (int) c;
            best_s = s;
        }
    }

    if (best < 0) {
        return cur;
    }

    if (cur < 0) {
        *since_ms = now_ms;
        return best;
    }

    cur_s = rooms_voice_score(cand[cur], now_ms);

    if (now_ms - *since_ms >= ROOMS_VOICE_DOM_HOLD_MS
        && best_s >= cur_s + ROOMS_VOICE_MARGIN * 16)
    {
        *since_ms = now_ms;
        return best;
    }

    return cur;
}
