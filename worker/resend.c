/*
 * resend.c: repairs towards one subscriber sent again when its transport
 * feedback says they were lost (resend.h).
 *
 * Owns: the repairs in flight towards one subscriber and its budget.
 * Must never: read a clock, log, allocate, send, or know of a socket.
 * May not: include <sys/socket.h>, include <sys/epoll.h>, include <jansson.h>, include sfu_int.h, include sfu_peer.h, call clock_gettime, call malloc, call calloc, call sfu_, call rooms_log
 */

#include <string.h>

#include "resend.h"


/* slot s is empty from now on */
static void
rooms_resend_free(rooms_resend_t *rs, rooms_resend_slot_t *s)
{
    if (s->used && s->tries > 0) {
        rs->resends--;
    }

    s->used = 0;
}


void
rooms_resend_init(rooms_resend_t *rs)
{
    memset(rs, 0, sizeof(*rs));
    rs->refill_us = INT64_MIN;
}


void
rooms_resend_sent(rooms_resend_t *rs, int64_t now_us, uint16_t twcc,
    unsigned line, uint16_t seq, size_t len, unsigned tries)
{
    unsigned              i;
    rooms_resend_slot_t  *s;

    /*
     * A NACK's answer for a packet we resent already (Chromium asked
     * again too): the count carries on, so the bound is per packet.  Only
     * a NACK's answer looks (about 5% of packets at 5% loss).
     */
    if (tries == 0 && rs->resends > 0) {
        for (i = 0; i < ROOMS_RESEND_SLOTS; i++) {
            s = &rs->slots[i];

            if (s->used && s->line == line && s->seq == seq
                && now_us - s->sent_us <= ROOMS_RESEND_AGE_US)
            {
                tries = s->tries;
                rooms_resend_free(rs, s);
                break;
            }
        }
    }

    s = &rs->slots[twcc & (ROOMS_RESEND_SLOTS - 1)];

    /* an older repair in the slot is forgotten */
    rooms_resend_free(rs, s);

    s->sent_us = now_us;
    s->twcc = twcc;
    s->seq = seq;
    s->len = (uint16_t) (len > UINT16_MAX ? UINT16_MAX : len);
    s->line = (uint8_t) line;
    s->tries = (uint8_t) (tries > ROOMS_RESEND_TRIES
                          ? ROOMS_RESEND_TRIES : tries);
    s->used = 1;

    if (s->tries > 0) {
        rs->resends++;
    }

    rs->sent++;
}


/* the budget counted up to now_us for estimate_bps */
static void
rooms_resend_refill(rooms_resend_t *rs, int64_t now_us, uint32_t estimate_bps)
{
    int64_t  rate, cap, dt;

    rate = (int64_t) estimate_bps / 8 / ROOMS_RESEND_SHARE;   /* bytes/s */
    cap = rate * ROOMS_RESEND_BURST_US / 1000000;

    if (cap < ROOMS_RESEND_MIN_BURST) {
        cap = ROOMS_RESEND_MIN_BURST;
    }

    if (rs->refill_us == INT64_MIN) {
        rs->budget = cap;

    } else if (now_us > rs->refill_us) {
        dt = now_us - rs->refill_us;

        /* at most a burst: a long idle time adds no more than that */
        if (dt > ROOMS_RESEND_BURST_US) {
            dt = ROOMS_RESEND_BURST_US;
        }

        rs->budget += rate * dt / 1000000;
    }

    if (rs->budget > cap) {
        rs->budget = cap;
    }

    if (now_us > rs->refill_us) {
        rs->refill_us = now_us;
    }
}


size_t
rooms_resend_feedback(rooms_resend_t *rs, int64_t now_us,
    const rooms_twcc_status_t *st, size_t n, uint32_t estimate_bps,
    rooms_resend_due_t *out, size_t cap)
{
    size_t                i, k;
    rooms_resend_slot_t  *s;

    k = 0;
    rooms_resend_refill(rs, now_us, estimate_bps);

    for (i = 0; i < n; i++) {
        s = &rs->slots[st[i].seq & (ROOMS_RESEND_SLOTS - 1)];

        if (!s->used || s->twcc != st[i].seq) {
            continue;
        }

        rooms_resend_free(rs, s);

        if (st[i].status != ROOMS_TWCC_NOT_RECEIVED) {
            rs->received++;
            continue;
        }

        rs->lost++;

        if (s->tries >= ROOMS_RESEND_TRIES
            || now_us - s->sent_us > ROOMS_RESEND_AGE_US || k == cap)
        {
            rs->spent++;
            continue;
        }

        if (rs->budget < (int64_t) s->len) {
            rs->capped++;
            continue;
        }

        rs->budget -= s->len;
        rs->resent++;

        out[k].line = s->line;
        out[k].seq = s->seq;
        out[k].tries = (uint8_t) (s->tries + 1);
        k++;
    }

    return k;
}
