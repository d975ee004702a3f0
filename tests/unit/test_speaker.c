/*
 * test_speaker.c: who is heard (worker/speaker.*), on a virtual clock.
 *
 * Covers: the loudness of a voice (silence, a voice, a stale one, the
 * peak falling with time, the onset before it counts as speaking); a
 * room of 50 publishers sending a level every 20 ms through a talk
 * pattern (silence, one speaker, three at once, speakers changing,
 * someone coughing, two talking over each other within the margin),
 * with every subscriber's N lines chosen every 50 ms as sfu_voice.c does,
 * for N = 1, 3 and 8: each subscriber always hears exactly the N loudest
 * others once the pattern has settled (never itself, no line empty), no
 * line changes voice while the pattern holds (a cough and two voices
 * within the margin take nothing), a line never changes twice within
 * ROOMS_VOICE_LINE_HOLD_MS, and a speaker who starts while a line holds
 * someone silent is heard within 300 ms of its first loud packet; the
 * dominant speaker is the loudest, held, and nobody after the quiet.
 */

#include <stdint.h>
#include <string.h>

#include "rooms_limits.h"
#include "speaker.h"
#include "tap.h"


#define NP          50
#define PKT_MS      20
#define STEP_MS     50          /* sfu_voice.c's SFU_VOICE_INTERVAL_MS */
#define PHASE_MS    3000
#define SETTLE_MS   1200        /* from a change to the checks */
#define BOUND_MS    300         /* a new speaker is heard within */


static void
test_voice(void)
{
    unsigned       i;
    uint64_t       t;
    rooms_voice_t  v;

    memset(&v, 0, sizeof(v));
    ok(rooms_voice_score(&v, 1000) == 0 && !rooms_voice_speaking(&v, 1000),
       "a voice never heard: silent");

    for (t = 1000; t < 2000; t += PKT_MS) {
        rooms_voice_level(&v, t, 127);
    }
    ok(rooms_voice_score(&v, t) == 0 && !rooms_voice_speaking(&v, t),
       "levels of 127 (-127 dBov): silent");

    for (i = 0; i < 3; i++, t += PKT_MS) {
        rooms_voice_level(&v, t, 25);
    }
    ok(v.fast >= ROOMS_VOICE_SPEAK * 16 && !rooms_voice_speaking(&v, t),
       "-25 dBov: over the threshold in 3 packets, not speaking before "
       "the onset");

    for (i = 0; i < ROOMS_VOICE_ONSET_MS / PKT_MS; i++, t += PKT_MS) {
        rooms_voice_level(&v, t, 25);
    }
    ok(rooms_voice_speaking(&v, t - PKT_MS),
       "speaking once it lasted ROOMS_VOICE_ONSET_MS");
    ok(rooms_voice_score(&v, t) >= 100 * 16
       && rooms_voice_score(&v, t) <= 102 * 16,
       "its score is its loudness, 102 dB above silence (%u / 16)",
       rooms_voice_score(&v, t));

    /* 300 ms of pause: the peak falls 6 dB */
    for (i = 0; i < 15; i++, t += PKT_MS) {
        rooms_voice_level(&v, t, 127);
    }
    ok(rooms_voice_score(&v, t - PKT_MS) >= 94 * 16
       && rooms_voice_score(&v, t - PKT_MS) <= 97 * 16
       && !rooms_voice_speaking(&v, t - PKT_MS),
       "a 300 ms pause: not speaking, the score fell by about 6 dB "
       "(%u / 16)", rooms_voice_score(&v, t - PKT_MS));
    ok(rooms_voice_score(&v, t - PKT_MS + ROOMS_VOICE_STALE_MS + 1) == 0,
       "no level for ROOMS_VOICE_STALE_MS: silent");

    /* a dip shorter than the gap does not restart the onset */
    for (i = 0; i < 20; i++, t += PKT_MS) {
        rooms_voice_level(&v, t, 25);
    }
    for (i = 0; i < 5; i++, t += PKT_MS) {
        rooms_voice_level(&v, t, 127);
    }
    for (i = 0; i < 3; i++, t += PKT_MS) {
        rooms_voice_level(&v, t, 25);
    }
    ok(rooms_voice_speaking(&v, t - PKT_MS),
       "a 100 ms dip between words: still speaking at once after it");
}


/* ---- a room of 50 on a virtual clock ---- */


static rooms_voice_t         voice[NP];
static rooms_voice_line_t    lines[NP][ROOMS_AUDIO_SLOTS_MAX];
static const rooms_voice_t  *cands[NP][NP - 1];
static uint64_t              changed_at[NP][ROOMS_AUDIO_SLOTS_MAX];
static uint32_t              seed;


static unsigned
rnd(unsigned n)
{
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) % n;
}


/* candidate k of subscriber s is publisher... */
static unsigned
pub_of(unsigned s, int k)
{
    return (unsigned) k < s ? (unsigned) k : (unsigned) k + 1;
}


/*
 * The talk pattern: base[p] is p's speaking level in phase ph (dBov, 0:
 * not speaking).  Phase 5 has a cough of publisher 0 in its middle,
 * phase 7 two voices within the margin trading the lead every 200 ms.
 */
#define PHASES  9

static void
pattern(unsigned ph, unsigned *base)
{
    memset(base, 0, NP * sizeof(unsigned));

    switch (ph) {
    case 1:
        base[7] = 25;
        break;
    case 2:
        base[7] = 25;
        base[30] = 14;
        base[2] = 34;
        break;
    case 3:
        base[30] = 14;
        base[45] = 30;
        base[11] = 40;
        base[12] = 35;
        break;
    case 4:
    case 5:
        base[11] = 40;
        break;
    case 7:
        base[20] = 30;
        base[21] = 31;
        break;
    default:
        break;
    }
}


/* the level publisher p sends at t in phase ph (ms into it: into) */
static unsigned
level_of(unsigned p, const unsigned *base, unsigned ph, uint64_t t,
    uint64_t into)
{
    if (ph == 5 && p == 0 && into >= 1500 && into < 1600) {
        return 15;                                  /* a cough: 100 ms */
    }

    if (base[p] == 0) {
        return 67 + rnd(7);                         /* a room's hiss */
    }

    /* a 100 ms pause every 900 ms, at each one's own moment */
    if ((t / PKT_MS + p * 7) % 45 < 5) {
        return 67 + rnd(7);
    }

    if (ph == 7) {
        /* within the margin: the lead changes every 200 ms */
        return base[p] + ((t / 200 + p) % 2 ? 4 : 0) + rnd(2);
    }

    return base[p] - 2 + rnd(5);
}


static void
test_room(unsigned n)
{
    int        dom;
    unsigned   s, k, i, ph, p, c, base[NP], prev[NP], expect[NP], ne;
    unsigned   bad_set, bad_self, bad_empty, flaps, steady_changes;
    unsigned   late, measured, dom_bad, dom_changes, dom_fast, bad_tie;
    unsigned   heard[NP][NP];
    uint64_t   t, t0, into, lat, worst, dom_since, dom_changed;

    seed = 1;
    memset(voice, 0, sizeof(voice));
    memset(lines, 0, sizeof(lines));
    memset(changed_at, 0, sizeof(changed_at));
    memset(prev, 0, sizeof(prev));

    for (s = 0; s < NP; s++) {
        for (k = 0; k < NP - 1; k++) {
            cands[s][k] = &voice[pub_of(s, (int) k)];
        }
        for (i = 0; i < n; i++) {
            lines[s][i].voice = -1;
        }
    }

    bad_set = bad_self = bad_empty = flaps = steady_changes = 0;
    late = measured = dom_bad = dom_changes = dom_fast = bad_tie = 0;
    worst = 0;
    dom = -1;
    dom_since = 0;
    dom_changed = 0;
    t0 = 1000;

    for (ph = 0; ph < PHASES; ph++) {
        pattern(ph, base);

        /*
         * who must be heard within BOUND_MS by whom: a new speaker,
         * among the N loudest others, while the subscriber's lines hold
         * no one who spoke in the last phase and is no longer wanted
         */
        memset(heard, 0, sizeof(heard));

        for (t = t0; t < t0 + PHASE_MS; t += PKT_MS) {
            into = t - t0;

            for (p = 0; p < NP; p++) {
                rooms_voice_level(&voice[p], t,
                                  level_of(p, base, ph, t, into));
            }

            if ((t - 1000) % STEP_MS != 0) {
                continue;
            }

            for (s = 0; s < NP; s++) {
                unsigned  was[ROOMS_AUDIO_SLOTS_MAX];

                for (i = 0; i < n; i++) {
                    was[i] = (unsigned) lines[s][i].voice;
                }

                (void) rooms_voice_choose(lines[s], n, cands[s], NP - 1, t);

                for (i = 0; i < n; i++) {
                    if ((unsigned) lines[s][i].voice == was[i]) {
                        continue;
                    }

                    if ((int) was[i] >= 0
                        && t - changed_at[s][i] < ROOMS_VOICE_LINE_HOLD_MS)
                    {
                        flaps++;
                    }

                    changed_at[s][i] = t;

                    if (into >= SETTLE_MS && (int) was[i] >= 0
                        && steady_changes++ < 4)
                    {
                        diag("N=%u phase %u +%u ms: %u's line %u: %u -> %u",
                             n, ph, (unsigned) into, s, i,
                             pub_of(s, (int) was[i]),
                             pub_of(s, lines[s][i].voice));
                    }
                }

                /* the new speakers it hears now, and since when */
                for (i = 0; i < n; i++) {
                    p = lines[s][i].voice < 0
                        ? NP : pub_of(s, lines[s][i].voice);

                    if (p < NP && base[p] != 0 && prev[p] == 0
                        && heard[s][p] == 0)
                    {
                        heard[s][p] = (unsigned) into + 1;
                    }
                }
            }

            /* the dominant speaker */
            {
                const rooms_voice_t  *all[NP];
                int                   d;

                for (p = 0; p < NP; p++) {
                    all[p] = &voice[p];
                }

                d = rooms_voice_dominant(dom, &dom_since, all, NP, t);

                if (d != dom) {
                    if (d >= 0 && dom >= 0
                        && t - dom_changed < ROOMS_VOICE_DOM_HOLD_MS)
                    {
                        dom_fast++;
                    }

                    dom_changes++;
                    dom_changed = t;
                    dom = d;
                }
            }

            if (into < SETTLE_MS) {
                continue;
            }

            /* settled: every subscriber hears the N loudest others */
            for (s = 0; s < NP; s++) {
                unsigned  on[NP];

                memset(on, 0, sizeof(on));

                for (i = 0; i < n; i++) {
                    if (lines[s][i].voice < 0) {
                        bad_empty++;
                        continue;
                    }

                    p = pub_of(s, lines[s][i].voice);
                    bad_self += p == s;
                    on[p] = 1;
                }

                /* the speakers but s, loudest (lowest dBov) first */
                ne = 0;
                for (c = 1; c < 128; c++) {
                    for (p = 0; p < NP; p++) {
                        if (p != s && base[p] == c) {
                            expect[ne++] = p;
                        }
                    }
                }

                if (ph == 7) {
                    /* within the margin: whichever, but all when room */
                    k = 0;
                    for (i = 0; i < ne; i++) {
                        k += on[expect[i]];
                    }
                    bad_tie += k < (ne < n ? ne : n);
                    continue;
                }

                for (i = 0; i < ne && i < n; i++) {
                    if (!on[expect[i]]) {
                        bad_set++;
                        if (bad_set < 5) {
                            diag("N=%u phase %u +%u ms: %u does not hear "
                                 "%u", n, ph, (unsigned) into, s,
                                 expect[i]);
                        }
                    }
                }
            }

            /* the dominant: the loudest speaker; nobody in silence */
            if (ph != 7 && into >= SETTLE_MS + 500) {
                for (p = 0, c = NP; p < NP; p++) {
                    if (base[p] != 0 && (c == NP || base[p] < base[c])) {
                        c = p;
                    }
                }
                dom_bad += c == NP ? dom != -1 : dom != (int) c;
            }
        }

        /* who was owed a quick start, and when it came */
        for (s = 0; s < NP; s++) {
            unsigned  owed;

            ne = 0;
            for (c = 1; c < 128; c++) {
                for (p = 0; p < NP; p++) {
                    if (p != s && base[p] == c) {
                        expect[ne++] = p;
                    }
                }
            }

            /*
             * a line held by someone who spoke just before and is no
             * longer among the loudest: not owed (its falling peak keeps
             * the line a little longer, by design)
             */
            owed = 1;
            for (p = 0; p < NP; p++) {
                unsigned  top = 0;

                for (i = 0; i < ne && i < n; i++) {
                    top |= expect[i] == p;
                }

                if (p != s && prev[p] != 0 && !top) {
                    owed = 0;
                }
            }

            for (i = 0; i < ne && i < n && owed && ph != 7; i++) {
                p = expect[i];
                if (prev[p] != 0) {
                    continue;
                }

                measured++;
                lat = heard[s][p] ? heard[s][p] - 1 : PHASE_MS;
                worst = lat > worst ? lat : worst;
                late += lat > BOUND_MS;
            }
        }

        memcpy(prev, base, sizeof(prev));
        t0 += PHASE_MS;
    }

    is_int(bad_self, 0, "N=%u: nobody ever hears itself", n);
    is_int(bad_empty, 0, "N=%u: no line empty once settled (49 voices)", n);
    is_int(bad_set, 0, "N=%u: each of 50 subscribers hears exactly the %u "
           "loudest others, every 50 ms of 9 phases once settled", n, n);
    is_int(bad_tie, 0, "N=%u: two voices within the margin: heard as far "
           "as the lines go", n);
    is_int(steady_changes, 0, "N=%u: no line changes while the pattern "
           "holds (a 100 ms cough, two voices within 6 dB, pauses "
           "between words)", n);
    is_int(flaps, 0, "N=%u: no line changes twice within %u ms", n,
           ROOMS_VOICE_LINE_HOLD_MS);
    ok(measured > 0 && late == 0, "N=%u: a new speaker is heard within "
       "%u ms by every subscriber owed it (%u cases, the slowest %u ms)",
       n, BOUND_MS, measured, (unsigned) worst);
    is_int(dom_bad, 0, "N=%u: the dominant speaker is the loudest, and "
           "nobody after the quiet", n);
    ok(dom_fast == 0 && dom_changes <= 2 * PHASES,
       "N=%u: the dominant speaker changed %u times, never within %u ms",
       n, dom_changes, ROOMS_VOICE_DOM_HOLD_MS);
}


int
main(void)
{
    test_voice();
    test_room(1);
    test_room(3);
    test_room(8);

    return done_testing();
}
