/*
 * nack.h: the packets the SFU asked a publisher to send again (RFC 4585
 * generic NACK), and when to ask again (issue 9).
 *
 * A publisher's packet lost on its way to us is asked for at once, when
 * the next one shows the gap (rooms_nack_ask()); a subscriber that asks
 * us for a packet we never got makes us ask too.  Each asked number is
 * tracked here until its repair (or the original, late) arrives
 * (rooms_nack_arrived()), and asked again when no repair came within a
 * repair time (rooms_nack_poll()): the NACK or its answer may be lost
 * too, and the subscribers' own retries reach the publisher only after
 * their round trip.  A subscriber asking for a number already asked
 * asks again only when our last ask is half a repair time old: the
 * subscribers that all see one gap make one ask, and one that comes
 * about its round trip after ours is served at once when our NACK was
 * lost (when the repair was, Chromium ignores a request for a packet it
 * resent less than its round trip ago; so such an ask does not move the
 * timer's schedule).  A number is asked ROOMS_NACK_TRIES times at most,
 * and given up ROOMS_NACK_AGE_MS after its first ask: until then its
 * repair is still wanted.
 *
 * The repair time is learned from the repairs themselves: the time from
 * a number's first ask to its repair, for numbers asked once (a repair of
 * a number asked twice answers either ask), smoothed as TCP smooths its
 * round trip (RFC 6298), since a publisher's RTX waits in its pacer
 * behind its video.
 *
 * One tracker per publisher (its streams share its link, so its repair
 * time): streams are the caller's 32-bit names.
 *
 * Owns: the asked numbers of one publisher, their asks and ages, its
 * repair time, and the counts of what became of them.
 * Must never: read a clock, log, allocate, or know of RTCP or a socket.
 * May not: include <sys/socket.h>, include <sys/epoll.h>, include <jansson.h>, include sfu_int.h, include sfu_peer.h, call clock_gettime, call malloc, call calloc, call sfu_, call rooms_log
 */

#ifndef ROOMS_NACK_H
#define ROOMS_NACK_H

#include <stddef.h>
#include <stdint.h>


/*
 * Numbers tracked per publisher.  Each lives at most ROOMS_NACK_AGE_MS:
 * a publisher's three layers of 720p send about 300 packets a second, so
 * 5% loss asks about 15 a second, and one whole gap (SFU_NACK_GAP_MAX,
 * 64) fits beside a second of 20% loss.  The bound keeps the look-ups (a
 * late packet, each poll) short and the tracker at 4 KiB a publisher;
 * beyond it the oldest number, asked most already, is given up.
 */
#define ROOMS_NACK_MAX         128

/*
 * Asks per number, the first included.  At 5% loss each way a NACK and
 * its repair both arrive 90% of the time: one number in 10^5 is still
 * missing after five asks (the subscribers' keyframe requests recover
 * what is).
 */
#define ROOMS_NACK_TRIES       5

/*
 * A number is given up this long after its first ask: a video frame that
 * waited a second for it has frozen already, and its receivers ask for a
 * keyframe.  A repair arriving later is not forwarded.
 */
#define ROOMS_NACK_AGE_MS      1000

/*
 * The repair time before any repair was timed: Chromium's own default
 * round trip.  Asking again is never sooner than ROOMS_NACK_RTO_MIN_MS
 * (a repair cannot come back faster than the link and the publisher's
 * pacer) nor later than ROOMS_NACK_RTO_MAX_MS (two asks fit in the age).
 */
#define ROOMS_NACK_RTT0_MS     100
#define ROOMS_NACK_RTO_MIN_MS  20
#define ROOMS_NACK_RTO_MAX_MS  450

/* numbers of one stream asked again in one poll: one NACK packet */
#define ROOMS_NACK_BATCH       64

#define ROOMS_NACK_NEVER       UINT64_MAX


typedef struct {
    uint64_t          first_ms;       /* asked first */
    uint64_t          last_ms;        /* asked last */
    uint64_t          timed_ms;       /* the first ask or the timer's last:
                                         the timer's next is a repair time
                                         after it */
    uint32_t          stream;
    uint16_t          seq;
    uint8_t           tries;          /* asks so far */
} rooms_nack_seq_t;

typedef struct {
    rooms_nack_seq_t  seqs[ROOMS_NACK_MAX];   /* by first ask, oldest first */
    unsigned          n;
    unsigned          srtt_ms;        /* 0: no repair timed yet */
    unsigned          rttvar_ms;

    /* what became of the numbers asked, since init */
    uint64_t          asked;          /* first asks */
    uint64_t          again;          /* asks after the first */
    uint64_t          repaired;       /* by a repair or the late original */
    uint64_t          repaired_again; /* of those, after two asks or more */
    uint64_t          given_up;       /* too old, or asked enough */
} rooms_nack_t;

/* what one poll asks of the caller: one NACK, for one stream */
typedef struct {
    uint32_t          stream;
    unsigned          n;
    uint16_t          seq[ROOMS_NACK_BATCH];
    unsigned          gone;           /* numbers of it given up just now */
} rooms_nack_due_t;


void rooms_nack_init(rooms_nack_t *nk);

/*
 * Numbers seq[0..n) of stream are missing at now: those to ask for now
 * go to out[] (n at most), their count returned.  A number not tracked
 * is tracked from now on and asked; a tracked one is asked again only
 * when its last ask is half a repair time old and it has asks left
 * (rooms_nack_poll()'s schedule stays as it was).  When the tracker is
 * full, the oldest number is given up for the new one.
 */
size_t rooms_nack_ask(rooms_nack_t *nk, uint64_t now, uint32_t stream,
    const uint16_t *seq, size_t n, uint16_t *out);

/*
 * Packet seq of stream arrived at now (repair: as a retransmission).
 * Returns the asks it took when it was tracked (it is not any more), with
 * *waited the time since its first ask; 0 when it was not (not asked,
 * already repaired, or given up).  A repair of a number asked once times
 * the repair time.
 */
unsigned rooms_nack_arrived(rooms_nack_t *nk, uint64_t now, uint32_t stream,
    uint16_t seq, unsigned repair, uint64_t *waited);

/*
 * What is due at now, one stream at a time: fills *due with the numbers
 * of one stream to ask again now (their asks counted) and how many of
 * its numbers were given up (ROOMS_NACK_AGE_MS old, never repaired);
 * returns 1, or 0 when nothing more is due.  Call until it returns 0.
 */
unsigned rooms_nack_poll(rooms_nack_t *nk, uint64_t now,
    rooms_nack_due_t *due);

/* when rooms_nack_poll() has something next, or ROOMS_NACK_NEVER */
uint64_t rooms_nack_next(const rooms_nack_t *nk);

/* stream is gone (or starts over with another SSRC): its numbers too */
void rooms_nack_forget(rooms_nack_t *nk, uint32_t stream);

/* the time after an ask when the number is asked again, in ms */
unsigned rooms_nack_rto(const rooms_nack_t *nk);


#endif /* ROOMS_NACK_H */
