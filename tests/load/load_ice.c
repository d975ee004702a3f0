/*
 * load_ice.c: a controlling ICE agent for one participant, as Chromium is
 * toward the media worker (ICE-lite): connectivity checks on the one
 * candidate pair (our socket, the answer's host candidate), regular
 * nomination (a check with USE-CANDIDATE once a check succeeded), then
 * consent freshness (RFC 7675) every 5 s.
 *
 * Owns: the transaction ids, the retransmission of checks, checking the
 * responses' MESSAGE-INTEGRITY (the server's ice-pwd) and FINGERPRINT.
 * Must never: take a response that fails either check, or nominate before
 * a check succeeded.
 * May not: include sfu.h, call rooms_srtp_
 */

#include <stdio.h>
#include <string.h>

#include "load.h"
#include "stun.h"


#define LOAD_ICE_RTO_US       50000     /* Chromium paces checks at 50 ms */
#define LOAD_ICE_GIVEUP       200       /* 10 s of checks */
#define LOAD_CONSENT_US       5000000


static void
load_ice_check(load_peer_t *p, uint64_t now)
{
    uint8_t   out[256];
    size_t    len;
    char      user[600];

    snprintf(user, sizeof(user), "%s:%s", p->rufrag, p->ufrag);
    load_random_bytes(p->tid, sizeof(p->tid));

    /* priority of a host candidate of type preference 126 (RFC 8445) */
    if (rooms_stun_encode_request(out, sizeof(out), &len, p->tid, user,
                                  2122260223u, p->ice_done == 1, 1,
                                  p->tiebreaker, NULL,
                                  (const uint8_t *) p->rpwd,
                                  strlen(p->rpwd)) != 0)
    {
        load_fail(p, "cannot encode a STUN request");
        return;
    }

    load_udp_send(p, out, len);
    p->checks++;
    p->next_check_us = now + (p->ice_done >= 2 ? LOAD_CONSENT_US
                                                : LOAD_ICE_RTO_US);
}


void
load_ice_start(load_peer_t *p, uint64_t now)
{
    load_random_bytes(&p->tiebreaker, sizeof(p->tiebreaker));
    p->ice_done = 0;
    p->checks = 0;
    load_ice_check(p, now);
}


void
load_ice_tick(load_peer_t *p, uint64_t now)
{
    if (p->answer_us == 0 || now < p->next_check_us) {
        return;
    }
    if (p->ice_done < 2 && p->checks >= LOAD_ICE_GIVEUP) {
        load_fail(p, "ICE: no answer to %u checks", p->checks);
        return;
    }
    load_ice_check(p, now);
}


void
load_ice_input(load_peer_t *p, uint8_t *buf, size_t len, uint64_t now)
{
    rooms_stun_msg_t  msg;

    if (rooms_stun_parse(&msg, buf, len) != ROOMS_STUN_OK
        || msg.type != ROOMS_STUN_BINDING_SUCCESS
        || memcmp(msg.tid, p->tid, sizeof(p->tid)) != 0
        || !rooms_stun_check_fingerprint(&msg)
        || !rooms_stun_check_integrity(&msg, NULL,
                                       (const uint8_t *) p->rpwd,
                                       strlen(p->rpwd)))
    {
        return;
    }

    if (p->ice_done == 0) {
        /* the pair works: nominate it */
        p->ice_done = 1;
        load_ice_check(p, now);

    } else if (p->ice_done == 1) {
        p->ice_done = 2;
        p->ice_us = now;
        p->next_check_us = now + LOAD_CONSENT_US;
        if (load_dtls_start(p) != 0) {
            load_fail(p, "cannot start DTLS");
        }
    } else {
        p->next_check_us = now + LOAD_CONSENT_US;
    }
}
