/*
 * sfu_peer.c: one participant's transport, as str0m's Rtc is one peer:
 * its media session (an ICE-lite session, a DTLS server, SRTP contexts,
 * made by its first offer), its offers and answers, and the m= lines of
 * its last offer with what each one publishes or receives.
 *
 * A participant's browser makes one RTCPeerConnection and is always the
 * offerer (docs/protocol.md).  Its own tracks are sendonly m= lines
 * ("publishing lines"); the others' streams arrive on its recvonly m=
 * lines ("receiving lines").  A publishing line is a stream.  A line
 * gets its first stream only while answering that participant's offer
 * (so the answer announces it: the SSRC we send with and the msid naming
 * the publisher); after that the line keeps its outgoing stream (SSRC,
 * sequence and timestamp rewriting of forward.h, NACK history) and may be
 * re-pointed to another publisher between answers (sfu_media.c binds).
 *
 * Owns: sfu_peer_t and its lines' life (made, updated from an offer,
 * reset), the session, the answer's SDP, the transport state the SFU
 * shares (sfu_net_t: the ICE table, the DTLS context and fingerprint,
 * the SDP scratch).
 * Must never: know of rooms or of other participants (it reports to
 * sfu.c, which decides), build or read JSON, or send a record.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include rtp.h, include rtcp.h, call json_, call sfu_signal, call sfu_send, call sfu_error, call sfu_remove, call sfu_find_, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfu_peer.h"


static void
sfu_line_init(sfu_peer_t *peer, sfu_line_t *l, unsigned index)
{
    memset(l, 0, sizeof(sfu_line_t));
    l->owner = peer;
    l->index = index;
    sfu_queue_init(&l->subscribers);
    sfu_queue_init(&l->kf_link);
    sfu_queue_init(&l->sub_link);
}


/* The line goes (or is another one now): everything it held goes too. */
static void
sfu_line_reset(sfu_peer_t *peer, sfu_line_t *l, unsigned index)
{
    sfu_unpublish(l);
    sfu_unbind(l);
    sfu_line_init(peer, l, index);
}


/*
 * A simulcast video line's layers: the rids of the offer's
 * a=simulcast:send, in its order (the client lists them smallest first),
 * at most ROOMS_LAYER_MAX.  A line whose rids are the same keeps what it
 * learned of them (SSRCs, sizes, statistics); other rids start over.
 */
static void
sfu_line_layers(sfu_line_t *l, const rooms_sdp_media_t *m,
    const rooms_sdp_neg_t *neg)
{
    unsigned  k, n, same;

    n = 0;

    if (neg->simulcast && neg->ext_rid && m->kind == ROOMS_SDP_KIND_VIDEO) {
        n = m->nsim_send < ROOMS_LAYER_MAX ? m->nsim_send : ROOMS_LAYER_MAX;
    }

    same = n == l->nlayers;

    for (k = 0; k < n && same; k++) {
        same = strcmp(l->layers[k].rid, m->sim_send[k].rid) == 0;
    }

    if (same) {
        return;
    }

    sfu_hist_drop(l);
    memset(l->layers, 0, sizeof(l->layers));
    memset(&l->lpub, 0, sizeof(l->lpub));

    for (k = 0; k < n; k++) {
        memcpy(l->layers[k].rid, m->sim_send[k].rid,
               sizeof(l->layers[k].rid));
    }

    l->nlayers = n;
    l->lpub.n = n;
    l->has_ssrc = 0;
}


/*
 * A publishing line's primary SSRC and its RTX, when the offer announces
 * them (a=ssrc, a=ssrc-group:FID); else they are learned by mid.  A
 * simulcast line learns its layers' by rid instead.
 */
static void
sfu_line_sources(sfu_line_t *l, const rooms_sdp_media_t *m)
{
    int                  n, k;
    rooms_sdp_source_t   src[ROOMS_SDP_MAX_SSRC];

    n = l->nlayers ? 0 : rooms_sdp_media_sources(m, src, ROOMS_SDP_MAX_SSRC);

    for (k = 0; k < n; k++) {
        if (src[k].has_ssrc) {
            if (!l->has_ssrc || l->ssrc != src[k].ssrc) {
                /* another stream: its statistics start over */
                memset(&l->rx, 0, sizeof(sfu_rx_t));
            }

            l->has_ssrc = 1;
            l->ssrc = src[k].ssrc;
            l->rtx_ssrc = src[k].has_rtx ? src[k].rtx_ssrc : 0;
            return;
        }
    }
}


/*
 * Reads the offer's m= lines into p's lines, keeping what a line carried
 * (its stream, its binding) when its mid and kind are the same.  Returns
 * 1 when p's streams changed.
 */
static unsigned
sfu_lines_update(sfu_t *sfu, sfu_peer_t *p, const rooms_sdp_t *offer)
{
    unsigned                   i, changed, pub, recv;
    sfu_line_t                *l;
    rooms_sdp_neg_t            neg;
    const rooms_sdp_media_t   *m;

    changed = 0;
    p->ext_mid = 0;
    p->ext_twcc = 0;
    p->ext_rid = 0;
    p->ext_rrid = 0;

    for (i = 0; i < offer->nmedia; i++) {
        m = &offer->media[i];
        l = &p->lines[i];

        rooms_sdp_negotiate(offer, i, &neg);

        if (i >= p->nlines || !l->used || l->kind != m->kind
            || strcmp(l->mid, m->mid) != 0)
        {
            if (i < p->nlines && l->publishing) {
                changed = 1;
            }

            sfu_line_reset(p, l, i);
        }

        l->used = 1;
        l->kind = m->kind;
        memcpy(l->mid, m->mid, sizeof(l->mid));
        l->neg = neg;

        if (neg.accepted && neg.ext_mid && p->ext_mid == 0) {
            p->ext_mid = neg.ext_mid;
        }

        if (neg.accepted && neg.ext_rid && p->ext_rid == 0) {
            p->ext_rid = neg.ext_rid;
        }

        if (neg.accepted && neg.ext_rrid && p->ext_rrid == 0) {
            p->ext_rrid = neg.ext_rrid;
        }

        /* answered only where the browser sends (sdp.h) */
        if (neg.accepted && neg.ext_twcc && p->ext_twcc == 0) {
            p->ext_twcc = neg.ext_twcc;
        }

        pub = neg.accepted && neg.pt >= 0 && (m->direction & ROOMS_SDP_SEND)
              && (m->kind == ROOMS_SDP_KIND_AUDIO
                  || m->kind == ROOMS_SDP_KIND_VIDEO);
        recv = neg.accepted && neg.pt >= 0
               && m->direction == ROOMS_SDP_RECVONLY
               && (m->kind == ROOMS_SDP_KIND_AUDIO
                   || m->kind == ROOMS_SDP_KIND_VIDEO);

        if (l->publishing && !pub) {
            sfu_unpublish(l);
            changed = 1;
        }

        if (pub) {
            if (!l->publishing) {
                l->publishing = 1;
                rooms_kf_init(&l->kf, ROOMS_KF_INTERVAL_MS);
                changed = 1;
            }

            sfu_line_layers(l, m, &neg);
            sfu_line_sources(l, m);
        }

        if (l->receiving && !recv) {
            sfu_unbind(l);
        }

        /* what we send it gets our transport numbers: its estimate */
        if (recv && neg.ext_twcc && (neg.fb & ROOMS_SDP_FB_TWCC)
            && !p->bwe_on)
        {
            rooms_bwe_init(&p->bwe, SFU_BWE_START_BPS, SFU_BWE_MIN_BPS,
                           SFU_BWE_MAX_BPS);
            p->bwe_on = 1;
        }

        l->receiving = recv;
    }

    for (i = offer->nmedia; i < p->nlines; i++) {
        if (p->lines[i].publishing) {
            changed = 1;
        }

        sfu_line_reset(p, &p->lines[i], i);
    }

    p->nlines = offer->nmedia;

    sfu_log(sfu, SFU_LOG_DEBUG, "%s offers %u m= lines%s", p->id, p->nlines,
            changed ? ", streams changed" : "");

    return changed;
}


/* Creates p's ICE and DTLS session from its first offer. */
static const char *
sfu_session_new(sfu_t *sfu, uint64_t now, sfu_peer_t *p,
    const rooms_sdp_t *offer)
{
    int       rc;
    uint8_t   rnd[ROOMS_ICE_GEN_RANDOM_LEN];

    rc = sfu_random(sfu, rnd, sizeof(rnd)) == 0
         ? rooms_ice_credentials_from(rnd, p->ufrag, p->pwd) : -1;

    memset(rnd, 0, sizeof(rnd));

    if (rc != 0) {
        return "no randomness for ICE credentials";
    }

    p->ice_id = rooms_ice_add(sfu->net->ice, now, p->ufrag, p->pwd,
                              offer->ice_ufrag, p);
    if (p->ice_id == 0) {
        return "no ICE session available (or a bad ice-ufrag)";
    }

    if (rooms_dtls_init(&p->dtls, sfu->net->dtls, offer->fingerprint) != 0) {
        rooms_ice_remove(sfu->net->ice, p->ice_id);
        p->ice_id = 0;
        return "cannot start DTLS";
    }

    memcpy(p->remote_fp, offer->fingerprint, ROOMS_DTLS_FP_LEN);
    memcpy(p->remote_ufrag, offer->ice_ufrag, sizeof(p->remote_ufrag));
    p->has_session = 1;
    p->in_handshake = 1;
    sfu_queue_insert_tail(&sfu->net->handshakes, &p->hs_link);

    return NULL;
}


/* Why offer cannot be taken from p, or NULL. */
static const char *
sfu_offer_refused(const sfu_peer_t *p, const rooms_sdp_t *offer)
{
    unsigned         i;
    rooms_sdp_neg_t  neg;

    if (offer->nmedia == 0) {
        return "the offer has no m= line";
    }

    if (offer->fingerprint_len != ROOMS_DTLS_FP_LEN) {
        return "the offer has no sha-256 fingerprint";
    }

    if (offer->ice_lite) {
        return "the offer is ICE-lite too";
    }

    if (offer->setup == ROOMS_SDP_SETUP_PASSIVE
        || offer->setup == ROOMS_SDP_SETUP_HOLDCONN)
    {
        return "the offer wants us to be the DTLS client";
    }

    if (p->has_session
        && memcmp(p->remote_fp, offer->fingerprint, ROOMS_DTLS_FP_LEN) != 0)
    {
        return "the DTLS fingerprint changed";
    }

    for (i = 0; i < offer->nmedia; i++) {
        rooms_sdp_negotiate(offer, i, &neg);

        if (neg.accepted
            && (offer->media[i].setup == ROOMS_SDP_SETUP_PASSIVE
                || offer->media[i].setup == ROOMS_SDP_SETUP_HOLDCONN))
        {
            return "an m= line wants us to be the DTLS client";
        }
    }

    return NULL;
}


int
sfu_peer_offer(sfu_t *sfu, uint64_t now, sfu_peer_t *p, const char *sdp,
    size_t len, char *why, size_t whylen)
{
    const char   *refused;
    rooms_sdp_t  *offer;

    offer = sfu->net->offer;

    if (rooms_sdp_parse(sdp, len, offer, why, whylen) != 0) {
        sfu_log(sfu, SFU_LOG_INFO, "bad offer from %s: %s", p->id, why);
        return -1;
    }

    refused = sfu_offer_refused(p, offer);

    if (refused == NULL && !p->has_session) {
        refused = sfu_session_new(sfu, now, p, offer);
    }

    if (refused != NULL) {
        sfu_log(sfu, SFU_LOG_INFO, "bad offer from %s: %s", p->id, refused);
        snprintf(why, whylen, "%s", refused);
        return -1;
    }

    /* an ICE restart: the browser's checks now carry its new ufrag */
    if (strcmp(p->remote_ufrag, offer->ice_ufrag) != 0) {
        if (rooms_ice_set_remote_ufrag(sfu->net->ice, p->ice_id,
                                       offer->ice_ufrag)
            != 0)
        {
            snprintf(why, whylen, "bad ice-ufrag");
            return -1;
        }

        memcpy(p->remote_ufrag, offer->ice_ufrag, sizeof(p->remote_ufrag));
        sfu_log(sfu, SFU_LOG_INFO, "%s restarted ICE", p->id);
    }

    return (int) sfu_lines_update(sfu, p, offer);
}


/*
 * Writes the answer to the last offer (sfu->net->offer) for p into
 * sfu->net->answer: the SSRC and msid of the stream each bound
 * receiving line carries, every other receiving line on hold.  Returns
 * its length, or a negative rooms_sdp_answer() error.
 */
int
sfu_peer_answer(sfu_t *sfu, sfu_peer_t *p)
{
    unsigned            i;
    sfu_line_t         *l;
    rooms_sdp_local_t   local;

    memset(&local, 0, sizeof(local));
    local.ice_ufrag = p->ufrag;
    local.ice_pwd = p->pwd;
    memcpy(local.fingerprint, sfu->net->fp, ROOMS_DTLS_FP_LEN);
    local.ip = sfu->announce_ip;
    local.port = sfu->conf.port;
    local.cands = sfu->conf.cands;
    local.ncands = sfu->conf.ncands;
    local.session_id = p->sdp_id;
    local.session_version = ++p->sdp_version;
    local.cname = SFU_CNAME;

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (l->receiving && l->bound != NULL) {
            local.send[i].ssrc = l->out_ssrc;

            /* the answerer writes it only when the line negotiated RTX */
            local.send[i].rtx_ssrc = l->rtx_out_ssrc;
            local.send[i].msid_stream = l->bound->owner->id;
            local.send[i].msid_track = l->track;

        } else {
            local.send[i].hold = 1;
        }
    }

    return rooms_sdp_answer(sfu->net->offer, &local, sfu->net->answer,
                            SFU_ANSWER_MAX);
}


/* The answer went out: what the browser now expects media on, its map. */
void
sfu_peer_answer_sent(sfu_peer_t *p)
{
    unsigned     i;
    sfu_line_t  *l;

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];
        l->announced = l->receiving && l->bound != NULL;
    }

    p->map_changed = 0;
    p->answered++;
}


/* Sends whatever DTLS has queued for p. */
void
sfu_peer_dtls_flush(sfu_t *sfu, sfu_peer_t *p, sfu_io_t *io)
{
    size_t        n;
    sfu_dgram_t  *d;

    if (!p->has_addr) {
        return;
    }

    for ( ;; ) {
        d = sfu_out(sfu, io);
        if (d == NULL) {
            return;
        }

        n = rooms_dtls_output(&p->dtls, d->data, sizeof(d->data));
        if (n == 0) {
            return;
        }

        sfu_commit(sfu, io, &p->addr, n);
    }
}



sfu_peer_t *
sfu_peer_new(sfu_t *sfu, sfu_part_t *p)
{
    unsigned     i;
    sfu_peer_t  *peer;

    peer = calloc(1, sizeof(sfu_peer_t));
    if (peer == NULL) {
        return NULL;
    }

    if (sfu_random(sfu, &peer->fb_ssrc, sizeof(peer->fb_ssrc)) != 0
        || sfu_random(sfu, &peer->sdp_id, sizeof(peer->sdp_id)) != 0)
    {
        free(peer);
        return NULL;
    }

    peer->part = p;
    memcpy(peer->id, p->id, sizeof(peer->id));
    peer->fb_ssrc |= 1;
    peer->sdp_id &= 0x3fffffffffffffffULL;   /* o= wants 63 bits at most */
    sfu_queue_init(&peer->hs_link);
    sfu_queue_init(&peer->twcc_link);
    sfu_queue_init(&peer->probe_link);
    sfu_queue_init(&peer->nack_link);
    rooms_layer_init(&peer->lstate);
    rooms_twcc_init(&peer->twcc, peer->fb_ssrc, 0);

    for (i = 0; i < ROOMS_SDP_MAX_MEDIA; i++) {
        sfu_line_init(peer, &peer->lines[i], i);
    }

    return peer;
}


unsigned
sfu_peer_reset_lines(sfu_peer_t *peer)
{
    unsigned  i, had_streams;

    had_streams = 0;

    for (i = 0; i < peer->nlines; i++) {
        had_streams |= peer->lines[i].publishing;
        sfu_line_reset(peer, &peer->lines[i], i);
    }

    return had_streams;
}


void
sfu_peer_free(sfu_t *sfu, sfu_peer_t *peer)
{
    (void) sfu_peer_reset_lines(peer);

    if (peer->in_handshake) {
        sfu_queue_remove(&peer->hs_link);
        peer->in_handshake = 0;
    }

    sfu_rr_cancel(sfu, peer);
    sfu_twcc_cancel(peer);
    sfu_probe_cancel(peer);
    sfu_nack_cancel(peer);

    if (peer->ice_id != 0) {
        rooms_ice_remove(sfu->net->ice, peer->ice_id);
    }

    if (peer->dtls.ssl != NULL) {
        rooms_dtls_free(&peer->dtls);
    }

    if (peer->srtp_ready) {
        rooms_srtp_destroy(&peer->srtp);
    }

    free(peer);
}


unsigned
sfu_peer_publishes(const sfu_peer_t *peer, unsigned kind)
{
    unsigned  i;

    for (i = 0; i < peer->nlines; i++) {
        if (peer->lines[i].publishing
            && sfu_kind_index(peer->lines[i].kind) == kind)
        {
            return 1;
        }
    }

    return 0;
}


unsigned
sfu_peer_answered(const sfu_peer_t *peer)
{
    return peer->answered > 0;
}


int
sfu_peer_connected(sfu_t *sfu, uint64_t now, sfu_peer_t *p)
{
    if (p->in_handshake) {
        sfu_queue_remove(&p->hs_link);
        p->in_handshake = 0;
    }

    if (p->srtp_ready) {
        return 0;
    }

    if (rooms_srtp_create(&p->srtp, p->dtls.profile, p->dtls.keying,
                          p->dtls.keying_len, 1) != 0)
    {
        return -1;
    }

    p->srtp_ready = 1;
    sfu_rr_start(sfu, now, p);

    return 1;
}


int
sfu_net_create(sfu_t *sfu, char *err, size_t errlen)
{
    sfu_net_t   *net;
    const char  *fp;

    net = calloc(1, sizeof(sfu_net_t));
    if (net == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    sfu->net = net;
    sfu_queue_init(&net->handshakes);
    sfu_queue_init(&net->twcc_pending);
    sfu_queue_init(&net->probing);
    sfu_queue_init(&net->kf_pending);
    sfu_queue_init(&net->nack_pending);

    net->offer = malloc(sizeof(rooms_sdp_t));
    net->answer = malloc(SFU_ANSWER_MAX);
    net->rr_heap = calloc(sfu->conf.max_sessions, sizeof(sfu_peer_t *));
    net->twcc_st = calloc(ROOMS_BWE_HISTORY, sizeof(rooms_twcc_status_t));

    if (net->offer == NULL || net->answer == NULL || net->rr_heap == NULL
        || net->twcc_st == NULL)
    {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    if (rooms_srtp_global_init() != 0) {
        snprintf(err, errlen, "libsrtp initialization failed");
        return -1;
    }

    net->ice = rooms_ice_table_create(sfu->conf.max_sessions);
    if (net->ice == NULL) {
        snprintf(err, errlen, "cannot make the ICE table");
        return -1;
    }

    net->dtls = rooms_dtls_ctx_new(err, errlen);
    if (net->dtls == NULL) {
        return -1;
    }

    fp = rooms_dtls_ctx_fingerprint(net->dtls);

    if (rooms_dtls_fp_parse(fp, strlen(fp), net->fp) != 0) {
        snprintf(err, errlen, "cannot read our own fingerprint");
        return -1;
    }

    return 0;
}


/* Frees what sfu_net_create() made (every peer is gone already). */
void
sfu_net_free(sfu_t *sfu)
{
    sfu_net_t  *net;

    net = sfu->net;

    if (net == NULL) {
        return;
    }

    if (net->ice != NULL) {
        rooms_ice_table_destroy(net->ice);
    }

    if (net->dtls != NULL) {
        rooms_dtls_ctx_free(net->dtls);
    }

    free(net->offer);
    free(net->answer);
    free(net->rr_heap);
    free(net->twcc_st);
    free(net);
    sfu->net = NULL;
}
