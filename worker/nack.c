/*
 * nack.c: the packets the SFU asked a publisher to send again, and when
 * to ask again (see nack.h).
 *
 * Owns: one publisher's asked numbers (a bounded array, oldest first),
 * its smoothed repair time, and the counts of what became of them.
 * Must never: read a clock, log, allocate, or know of RTCP or a socket.
 * May not: include <sys/socket.h>, include <sys/epoll.h>, include <jansson.h>, include sfu_int.h, include sfu_peer.h, call clock_gettime, call malloc, call calloc, call sfu_, call rooms_log
 */

#include <string.h>

#include "nack.h"


static void rooms_nack_remove(rooms_nack_t *nk, unsigned i);
static uint64_t rooms_nack_again_at(const rooms_nack_t *nk,
    const rooms_nack_seq_t *s);
static void rooms_nack_time(rooms_nack_t *nk, uint64_t r);


void
rooms_nack_init(rooms_nack_t *nk)
{
    memset(nk, 0, sizeof(rooms_nack_t));
}


unsigned
rooms_nack_rto(const rooms_nack_t *nk)
{
    unsigned  rto;

    if (nk->srtt_ms == 0) {
        return ROOMS_NACK_RTT0_MS;
    }

    /*
     * RFC 6298's srtt + K * rttvar, with K 2: a late ask costs a frozen
     * frame, an early one a copy of one packet.  Never at the mean
     * itself, where half the repairs are still on their way.
     */
    rto = nk->srtt_ms + 2 * nk->rttvar_ms;

    if (rto < nk->srtt_ms + nk->srtt_ms / 4) {
        rto = nk->srtt_ms + nk->srtt_ms / 4;
    }

    if (rto < ROOMS_NACK_RTO_MIN_MS) {
        rto = ROOMS_NACK_RTO_MIN_MS;
    }

    if (rto > ROOMS_NACK_RTO_MAX_MS) {
        rto = ROOMS_NACK_RTO_MAX_MS;
    }

    return rto;
}


size_t
rooms_nack_ask(rooms_nack_t *nk, uint64_t now, uint32_t stream,
    const uint16_t *seq, size_t n, uint16_t *out)
{
    size_t             k, nout;
    unsigned           i, half;
    rooms_nack_seq_t  *s;

    half = (nk->srtt_ms ? nk->srtt_ms : ROOMS_NACK_RTT0_MS) / 2;
    nout = 0;

    for (k = 0; k < n; k++) {
        for (i = 0; i < nk->n; i++) {
            if (nk->seqs[i].seq == seq[k] && nk->seqs[i].stream == stream) {
                break;
            }
        }

        if (i < nk->n) {
            s = &nk->seqs[i];

            /* the timer's schedule stays: timed_ms does not move */
            if (s->tries < ROOMS_NACK_TRIES && now - s->last_ms >= half
                && now - s->first_ms < ROOMS_NACK_AGE_MS)
            {
                s->tries++;
                s->last_ms = now;
                nk->again++;
                out[nout++] = seq[k];
            }

            continue;
        }

        if (nk->n == ROOMS_NACK_MAX) {
            rooms_nack_remove(nk, 0);
            nk->given_up++;
        }

        s = &nk->seqs[nk->n++];
        s->first_ms = now;
        s->last_ms = now;
        s->timed_ms = now;
        s->stream = stream;
        s->seq = seq[k];
        s->tries = 1;
        nk->asked++;
        out[nout++] = seq[k];
    }

    return nout;
}


unsigned
rooms_nack_arrived(rooms_nack_t *nk, uint64_t now, uint32_t stream,
    uint16_t seq, unsigned repair, uint64_t *waited)
{
    unsigned           i, tries;
    rooms_nack_seq_t  *s;

    /* the newest first: a repair answers a recent ask */
    for (i = nk->n; i-- > 0; ) {
        s = &nk->seqs[i];

        if (s->seq != seq || s->stream != stream) {
            continue;
        }

        tries = s->tries;
        *waited = now - s->first_ms;

        if (repair && tries == 1) {
            rooms_nack_time(nk, *waited);
        }

        nk->repaired++;
        nk->repaired_again += tries > 1;
        rooms_nack_remove(nk, i);

        return tries;
    }

    return 0;
}


unsigned
rooms_nack_poll(rooms_nack_t *nk, uint64_t now, rooms_nack_due_t *due)
{
    unsigned           i;
    rooms_nack_seq_t  *s;

    for (i = 0; i < nk->n; i++) {
        s = &nk->seqs[i];

        if (s->first_ms + ROOMS_NACK_AGE_MS <= now
            || rooms_nack_again_at(nk, s) <= now)
        {
            break;
        }
    }

    if (i == nk->n) {
        return 0;
    }

    due->stream = nk->seqs[i].stream;
    due->n = 0;
    due->gone = 0;

    /* from that one on: the ones before it are not due */
    while (i < nk->n) {
        s = &nk->seqs[i];

        if (s->stream != due->stream) {
            i++;
            continue;
        }

        if (s->first_ms + ROOMS_NACK_AGE_MS <= now) {
            rooms_nack_remove(nk, i);
            nk->given_up++;
            due->gone++;
            continue;
        }

        if (rooms_nack_again_at(nk, s) <= now && due->n < ROOMS_NACK_BATCH) {
            s->tries++;
            s->last_ms = now;
            s->timed_ms = now;
            nk->again++;
            due->seq[due->n++] = s->seq;
        }

        i++;
    }

    return 1;
}


uint64_t
rooms_nack_next(const rooms_nack_t *nk)
{
    unsigned   i;
    uint64_t   next, t;

    next = ROOMS_NACK_NEVER;

    for (i = 0; i < nk->n; i++) {
        t = nk->seqs[i].first_ms + ROOMS_NACK_AGE_MS;
        if (t < next) {
            next = t;
        }

        t = rooms_nack_again_at(nk, &nk->seqs[i]);
        if (t < next) {
            next = t;
        }
    }

    return next;
}


void
rooms_nack_forget(rooms_nack_t *nk, uint32_t stream)
{
    unsigned  i;

    for (i = 0; i < nk->n; ) {
        if (nk->seqs[i].stream == stream) {
            rooms_nack_remove(nk, i);
            continue;
        }

        i++;
    }
}


static void
rooms_nack_remove(rooms_nack_t *nk, unsigned i)
{
    memmove(&nk->seqs[i], &nk->seqs[i + 1],
            (nk->n - i - 1) * sizeof(rooms_nack_seq_t));
    nk->n--;
}


/* when s is asked again: never once asked enough, or at its age */
static uint64_t
rooms_nack_again_at(const rooms_nack_t *nk, const rooms_nack_seq_t *s)
{
    uint64_t  t;

    if (s->tries >= ROOMS_NACK_TRIES) {
        return ROOMS_NACK_NEVER;
    }

    t = s->timed_ms + rooms_nack_rto(nk);

    return t < s->first_ms + ROOMS_NACK_AGE_MS ? t : ROOMS_NACK_NEVER;
}


/* one repair time r (ms) into the smoothed one: RFC 6298 §2 */
static void
rooms_nack_time(rooms_nack_t *nk, uint64_t r)
{
    unsigned  ms, d;

    ms = r < ROOMS_NACK_AGE_MS ? (unsigned) r : ROOMS_NACK_AGE_MS;

    if (ms == 0) {
        ms = 1;
    }

    if (nk->srtt_ms == 0) {
        nk->srtt_ms = ms;
        nk->rttvar_ms = ms / 2;
        return;
    }

    d = ms > nk->srtt_ms ? ms - nk->srtt_ms : nk->srtt_ms - ms;
    nk->rttvar_ms = (3 * nk->rttvar_ms + d) / 4;
    nk->srtt_ms = (7 * nk->srtt_ms + ms) / 8;

    if (nk->srtt_ms == 0) {
        nk->srtt_ms = 1;
    }
}
