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
#include <arpa/inet.h>

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
                                  2122260223u,
                                  !p->controlled && p->ice_done == 1,
                                  !p->controlled,
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
    if (load_run.opt.verbose > 1) {
        char ip[32];
        inet_ntop(AF_INET, &p->remote.sin_addr, ip, sizeof(ip));
        load_log(p, "ICE to %s:%u (%s:%s)%s", ip, ntohs(p->remote.sin_port),
                 p->rufrag, p->ufrag, p->controlled ? ", controlled" : "");
    }
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
    if (p->ice_done < 2 && p->checks >= LOAD_ICE_GIVEUP
        && !(p->controlled && p->ice_done == 1))
    {
        load_fail(p, "ICE: no answer to %u checks", p->checks);
        return;
    }
    load_ice_check(p, now);
}


/*
 * A full-ICE server (Janus) checks us too: answered under our password
 * (ngx_rooms is ICE-lite and never sends one).
 */
static void
load_ice_answer(load_peer_t *p, rooms_stun_msg_t *msg, uint64_t now)
{
    uint8_t            out[ROOMS_STUN_REPLY_MAX];
    size_t             len;
    rooms_stun_addr_t  mapped;
    char               ip[32];

    if (!rooms_stun_check_integrity(msg, NULL, (const uint8_t *) p->pwd,
                                    strlen(p->pwd)))
    {
        return;
    }
    inet_ntop(AF_INET, &p->remote.sin_addr, ip, sizeof(ip));
    rooms_stun_addr_set(&mapped, ip, ntohs(p->remote.sin_port));
    if (rooms_stun_encode_success(out, sizeof(out), &len, msg->tid, &mapped,
                                  NULL, (const uint8_t *) p->pwd,
                                  strlen(p->pwd)) == 0)
    {
        load_udp_send(p, out, len);
    }
    /* the controlling side nominated the pair: ours is up once our own
     * check has succeeded too */
    if (p->controlled && (msg->flags & ROOMS_STUN_HAS_USE_CANDIDATE)) {
        p->got_nomination = 1;
        if (p->ice_done == 1) {
            p->ice_done = 2;
            p->ice_us = now;
            p->next_check_us = now + LOAD_CONSENT_US;
            if (!p->dtls_server && load_dtls_start(p) != 0) {
                load_fail(p, "cannot start DTLS");
            }
        }
    }
}


void
load_ice_input(load_peer_t *p, uint8_t *buf, size_t len, uint64_t now)
{
    rooms_stun_msg_t  msg;

    if (rooms_stun_parse(&msg, buf, len) == ROOMS_STUN_OK
        && msg.type == ROOMS_STUN_BINDING_REQUEST)
    {
        load_ice_answer(p, &msg, now);
        return;
    }

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

    if (p->ice_done == 0 && p->controlled) {
        /* controlled: connected once the other side has nominated the
         * pair (it may have already), as Chromium waits to be */
        p->ice_done = 1;
        p->next_check_us = now + LOAD_ICE_RTO_US * 4;
        if (p->got_nomination) {
            p->ice_done = 2;
            p->ice_us = now;
            p->next_check_us = now + LOAD_CONSENT_US;
            if (!p->dtls_server && load_dtls_start(p) != 0) {
                load_fail(p, "cannot start DTLS");
            }
        }

    } else if (p->ice_done == 0) {
        /* the pair works: nominate it */
        p->ice_done = 1;
        load_ice_check(p, now);

    } else if (p->ice_done == 1 && !p->controlled) {
        p->ice_done = 2;
        p->ice_us = now;
        p->next_check_us = now + LOAD_CONSENT_US;
        /* a DTLS server waits for the other side's ClientHello */
        if (!p->dtls_server && load_dtls_start(p) != 0) {
            load_fail(p, "cannot start DTLS");
        }
    } else if (p->ice_done == 1) {
        p->next_check_us = now + LOAD_ICE_RTO_US * 4;
    } else {
        p->next_check_us = now + LOAD_CONSENT_US;
    }
}
