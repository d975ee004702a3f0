/*
 * resend.h: repairs towards one subscriber sent again when its transport
 * feedback says they were lost (issue 9).
 *
 * A subscriber asks for a lost packet with a NACK; the SFU answers from
 * its history (sfu_feedback.c).  When that repair is lost too, Chromium
 * asks again only at its own pace (a round trip or more later, and not
 * before its NACK module's next pass), and a frame waits behind it: the
 * ~250 ms freezes under 5% loss.  Every repair carries our transport-wide
 * number, and the subscriber's transport feedback reports it received or
 * lost within its feedback interval: a repair reported lost is sent again
 * at once, from the same history (rooms_resend_feedback() says which).
 *
 * Bounded twice.  Per packet: ROOMS_RESEND_TRIES resends of our own after
 * each repair a NACK asked for (a resend that is lost again is reported
 * lost again); a NACK for a packet we resent already carries the count
 * on.  Per subscriber: a byte budget of ROOMS_RESEND_SHARE of its
 * estimate, so resending never adds more than a small part to what its
 * link is thought to carry (loss from congestion is not made worse by
 * our repairs of repairs).
 *
 * Sans-IO: the caller gives the time (us), the repairs it sent and the
 * parsed feedback; it resends what is returned and records each resend
 * with rooms_resend_sent() (its tries then one more).
 *
 * Owns: the repairs in flight towards one subscriber, by transport
 * number; its resend budget; counts of what became of them.
 * Must never: read a clock, log, allocate, send, or know of RTCP or a
 * socket.
 * May not: include <sys/socket.h>, include <sys/epoll.h>, include <jansson.h>, include sfu_int.h, include sfu_peer.h, call clock_gettime, call malloc, call calloc, call sfu_, call rooms_log
 */

#ifndef ROOMS_RESEND_H
#define ROOMS_RESEND_H

#include <stddef.h>
#include <stdint.h>

#include "twcc.h"


/*
 * Repairs remembered, by transport number modulo this (a power of two).
 * Feedback comes every 50..250 ms and reports every number: a subscriber
 * sent a few hundred packets in that time, of which the repairs at 5%
 * loss are a few tens; a slot reused by a repair 256 numbers later is
 * told apart by its full number (the older one is then forgotten).
 */
#define ROOMS_RESEND_SLOTS   256

/*
 * Resends of our own per repair asked for: a repair lost at 5% loss is
 * resent, and lost again 5% of that; two resends leave one in 8000 to
 * Chromium's next NACK, and a third would come after the frame's wait
 * has become a freeze anyway.
 */
#define ROOMS_RESEND_TRIES   2

/*
 * A repair reported lost later than this after it was sent is not resent:
 * the frame it belongs to has frozen or been skipped, and the subscriber
 * asks by NACK or keyframe.
 */
#define ROOMS_RESEND_AGE_US  500000

/*
 * The budget: 1/ROOMS_RESEND_SHARE of the estimate, in bytes a second,
 * holding at most ROOMS_RESEND_BURST_US of it (at least one full packet):
 * 5% of an estimate carries 5% loss of the repairs at 100% loss of the
 * originals, far above what a link that the estimate fits loses.
 */
#define ROOMS_RESEND_SHARE     20
#define ROOMS_RESEND_BURST_US  500000
#define ROOMS_RESEND_MIN_BURST 1500


typedef struct {
    int64_t           sent_us;
    uint16_t          twcc;          /* our transport-wide number */
    uint16_t          seq;           /* the line's own number of it */
    uint16_t          len;           /* bytes sent */
    uint8_t           line;          /* the caller's line index */
    uint8_t           tries;         /* resends of ours so far */
    uint8_t           used;
} rooms_resend_slot_t;

typedef struct {
    rooms_resend_slot_t  slots[ROOMS_RESEND_SLOTS];
    int64_t              budget;     /* bytes, may go below 0: none */
    int64_t              refill_us;  /* the budget counted up to */
    unsigned             resends;    /* slots holding a resend (tries >
                                        0): a NACK's answer looks for
                                        its packet only when some are */

    /* what became of the repairs, since init */
    uint64_t             sent;       /* recorded */
    uint64_t             received;   /* reported received */
    uint64_t             lost;       /* reported lost */
    uint64_t             resent;     /* of those, returned to resend */
    uint64_t             capped;     /* lost, not resent: no budget */
    uint64_t             spent;      /* lost, not resent: tries or age */
} rooms_resend_t;

/* one repair to send again */
typedef struct {
    uint8_t           line;
    uint16_t          seq;
    uint8_t           tries;         /* its resends so far, this one too */
} rooms_resend_due_t;


void rooms_resend_init(rooms_resend_t *rs);

/*
 * A repair of line's packet seq went out at now_us as transport number
 * twcc, len bytes.  tries is ROOMS_RESEND_TRIES + 1 or less: 0 for a
 * NACK's answer (carried on from an earlier repair of the same packet
 * still remembered), or the due's tries for a resend.
 */
void rooms_resend_sent(rooms_resend_t *rs, int64_t now_us, uint16_t twcc,
    unsigned line, uint16_t seq, size_t len, unsigned tries);

/*
 * One transport feedback at now_us, its n statuses parsed: each repair
 * it reports received is forgotten; each reported lost is forgotten and,
 * when it has tries left, is young enough and the budget (estimate_bps:
 * the subscriber's estimate) allows, goes to out[] (cap at most).
 * Returns how many went to out[].
 */
size_t rooms_resend_feedback(rooms_resend_t *rs, int64_t now_us,
    const rooms_twcc_status_t *st, size_t n, uint32_t estimate_bps,
    rooms_resend_due_t *out, size_t cap);


#endif /* ROOMS_RESEND_H */
