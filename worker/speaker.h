/*
 * speaker.h: who is heard.  The loudness of each publisher's voice, from
 * the audio level its packets carry (RFC 6464), the choice of the few
 * voices a subscriber's audio lines carry (the loudest others), and the
 * room's dominant speaker.
 *
 * Owns: the loudness measure (a fast average of the levels and its
 * slowly falling peak), what counts as speaking, and the hysteresis of
 * both choices: a voice takes a line from another only when it has
 * spoken ROOMS_VOICE_ONSET_MS and is louder by ROOMS_VOICE_MARGIN, a
 * line keeps its voice at least ROOMS_VOICE_LINE_HOLD_MS, the dominant
 * speaker at least ROOMS_VOICE_DOM_HOLD_MS.  Pure: the caller passes the
 * time (now_ms, any monotonic millisecond clock) and every input; the
 * only state is the small rooms_voice_t it keeps per voice and the
 * choices it hands back.  It must never read a clock, do I/O or
 * allocate, never touch packets, and never bind a line: the SFU does
 * that with what these functions decide.
 * May not: include <sys/socket.h>, include <pthread.h>, include <time.h>, include <stdlib.h>, include forward.h, include sfu_int.h, include sfu_peer.h, call clock_gettime, call gettimeofday, call malloc, call calloc, call free, call rand, call json_, call rooms_fwd_, call sfu_
 */

#ifndef ROOMS_SPEAKER_H
#define ROOMS_SPEAKER_H

#include <stddef.h>
#include <stdint.h>


/*
 * Loudness is 127 - the level of RFC 6464 (which is -dBov, 127 for
 * silence), so 0 is silence and louder is more, in dB; kept times 16 for
 * the averages' precision.  Everything below is in dB.
 *
 * Speaking: the fast average above -45 dBov.  A voice at a normal
 * distance from a laptop's microphone is -20 to -35 dBov (RMS of a
 * frame); a quiet room's hiss and fan -55 to -70.
 */
#define ROOMS_VOICE_SPEAK         (127 - 45)

/*
 * A voice takes a line (or the dominant place) from another only when 6
 * dB louder: twice the amplitude is clearly someone else talking over,
 * while two people talking at once stay within a few dB of each other
 * and must not trade lines with every syllable.
 */
#define ROOMS_VOICE_MARGIN        6

/*
 * The fast average weighs the newest level 1/2 per packet (Opus sends
 * one each 20 ms), so a voice that starts crosses the threshold within
 * three packets (60 ms).  Its peak falls 2 dB every 100 ms: it carries a
 * speaker through the gaps between words and sentences (a 300 ms pause
 * costs 6 dB, the margin), and lets go of a voice that stopped within a
 * second or two.
 */
#define ROOMS_VOICE_FAST_SHIFT    1
#define ROOMS_VOICE_DECAY_MS      50      /* 1 dB per 50 ms */

/*
 * A voice takes a line or the dominant place from another only once it
 * has spoken this long: a click or a short cough takes nothing, and a
 * new speaker is still heard within about 300 ms (60 ms to cross the
 * threshold, this, and the SFU's step).  A pause longer than
 * ROOMS_VOICE_GAP_MS ends the speech: the onset counts again, and the
 * peak no longer holds its place (a speaker who stopped loses the line
 * to one who talks about that soon).
 */
#define ROOMS_VOICE_ONSET_MS      120
#define ROOMS_VOICE_GAP_MS        500

/*
 * A voice that sent no level for this long is silent (its publisher
 * stopped sending, or muted with DTX): ten packet intervals.
 */
#define ROOMS_VOICE_STALE_MS      200

/*
 * A line keeps the voice it was given at least this long, so that a
 * cough takes a line for at most this, and a line never changes voice
 * more often.  Short enough that someone who starts talking while lines
 * changed a moment ago is still heard within about 300 ms.
 */
#define ROOMS_VOICE_LINE_HOLD_MS  250

/*
 * The dominant speaker (the highlight, the one shown large) changes at
 * most once a second, and goes (nobody) after 1.5 s with no speech: a
 * pause to breathe keeps it, a finished sentence does not hold it for
 * long.
 */
#define ROOMS_VOICE_DOM_HOLD_MS   1000
#define ROOMS_VOICE_QUIET_MS      1500


/* one publisher's voice */
typedef struct {
    unsigned        any;          /* a level was heard */
    unsigned        fast;         /* loudness x 16 */
    unsigned        peak;         /* loudness x 16, falling */
    uint64_t        heard_ms;     /* the last level */
    uint64_t        loud_ms;      /* the last time it was speaking */
    uint64_t        run_ms;       /* when its current speech began */
} rooms_voice_t;

/* one audio line of a subscriber, as the choice sees it */
typedef struct {
    int             voice;        /* index in the candidates, -1: none */
    uint64_t        since_ms;     /* when it was given that voice */
} rooms_voice_line_t;


/*
 * A packet of the voice carried level (the 7 bits of RFC 6464's element:
 * 0 loudest, 127 silence; larger values are taken as 127) at now_ms.
 */
void rooms_voice_level(rooms_voice_t *v, uint64_t now_ms, unsigned level);

/*
 * How loud the voice is at now_ms, in dB x 16 above silence: its fast
 * average or, while its speech lasts (no pause over ROOMS_VOICE_GAP_MS),
 * its falling peak, the larger; 0 when it sent no level for
 * ROOMS_VOICE_STALE_MS.
 */
unsigned rooms_voice_score(const rooms_voice_t *v, uint64_t now_ms);

/*
 * 1 when the voice is speaking at now_ms (its fast average over the
 * threshold), and has been for ROOMS_VOICE_ONSET_MS (short dips aside)
 */
unsigned rooms_voice_speaking(const rooms_voice_t *v, uint64_t now_ms);

/*
 * The voices a subscriber's nl audio lines carry, chosen again at now_ms
 * among cand[0..nc) (everyone else's voices; never the subscriber's own,
 * the caller leaves it out), in place:
 *   - a line without a voice takes the loudest candidate on no line
 *     (speaking or not, earlier candidates first on a tie), so nobody
 *     is left out while there are lines for all;
 *   - then, while a speaking candidate on no line is ROOMS_VOICE_MARGIN
 *     louder than the quietest line's voice, and that line has kept it
 *     ROOMS_VOICE_LINE_HOLD_MS, the line takes the candidate (the
 *     loudest first).
 * A line whose voice is not a candidate (-1 or out of range) counts as
 * without one.  Returns how many lines changed (their since_ms is
 * now_ms).
 */
unsigned rooms_voice_choose(rooms_voice_line_t *lines, unsigned nl,
    const rooms_voice_t *const *cand, unsigned nc, uint64_t now_ms);

/*
 * The room's dominant speaker at now_ms among cand[0..nc), given the
 * current one (cur, an index or -1) and when it became so (*since_ms,
 * updated on a change): a speaking candidate when there is none; one
 * ROOMS_VOICE_MARGIN louder and speaking once cur held the place
 * ROOMS_VOICE_DOM_HOLD_MS; none once cur has not spoken for
 * ROOMS_VOICE_QUIET_MS.  Returns the index, or -1.
 */
int rooms_voice_dominant(int cur, uint64_t *since_ms,
    const rooms_voice_t *const *cand, unsigned nc, uint64_t now_ms);


#endif /* ROOMS_SPEAKER_H */
