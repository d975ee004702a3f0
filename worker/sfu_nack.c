/*
 * sfu_nack.c: NACKs up to publishers (issue 9).  A gap in a publisher's
 * stream is asked for at once; so is a packet a subscriber asks us for
 * that never reached us.  Each asked number is tracked in its
 * publisher's tracker (nack.h) and asked again, from sfu_poll(), when its
 * repair is late; a repair goes on to the subscribers only when it is one
 * we still wait for.  Publishers with numbers in flight are in
 * sfu_net_t.nack_pending.
 *
 * A stream is named in its publisher's tracker by its line's index and
 * its simulcast layer (SFU_NACK_STREAM()).
 *
 * Owns: the NACK packets sent to publishers, sfu_net_t.nack_pending and
 * each peer's place in it (sfu_peer_t.nack_*).
 * Must never: allocate, forward or resend a packet, read a peer's RTCP,
 * build or read JSON, or know of rooms.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, call json_, call malloc, call calloc, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 * May not: call sfu_rtp, call sfu_rtcp, call sfu_forward, call sfu_media_, call sfu_feedback_, call sfu_bind, call sfu_want_keyframe
 */

#include <string.h>

#include "rtcp.h"
#include "sfu_peer.h"


/* a stream's name in its publisher's tracker: line index, layer + 1 */
#define SFU_NACK_STREAM(l, li)  (((uint32_t) (l)->index << 3)             \
                                 | (uint32_t) ((li) + 1))


static void sfu_nack_send(sfu_t *sfu, sfu_line_t *pub, int li,
    const uint16_t *seq, size_t n, sfu_io_t *io);
static void sfu_nack_queue(sfu_t *sfu, sfu_peer_t *p);


void
sfu_nack_gap(sfu_t *sfu, uint64_t now, sfu_line_t *pub, int li,
    uint16_t seq, sfu_io_t *io)
{
    uint16_t      gap, k, lost[SFU_NACK_GAP_MAX];
    sfu_rx_t     *rx;

    rx = li >= 0 ? &pub->layers[li].rx : &pub->rx;
    gap = (uint16_t) (seq - rx->max_seq);

    if (!rx->started || gap < 2 || gap > SFU_NACK_GAP_MAX) {
        return;
    }

    for (k = 0; k < gap - 1; k++) {
        lost[k] = (uint16_t) (rx->max_seq + 1 + k);
    }

    sfu_nack_up(sfu, now, pub, li, lost, gap - 1, io);
}


void
sfu_nack_up(sfu_t *sfu, uint64_t now, sfu_line_t *pub, int li,
    const uint16_t *lost, size_t nlost, sfu_io_t *io)
{
    size_t        n;
    uint16_t      ask[SFU_NACK_GAP_MAX > SFU_NACK_MAX
                      ? SFU_NACK_GAP_MAX : SFU_NACK_MAX];
    sfu_peer_t   *p;

    p = pub->owner;

    if (nlost == 0 || nlost > sizeof(ask) / sizeof(ask[0])
        || !p->srtp_ready || !p->has_addr)
    {
        return;
    }

    n = rooms_nack_ask(&p->nack, now, SFU_NACK_STREAM(pub, li), lost, nlost,
                       ask);

    /* what it asked now is due again a repair time from now at the soonest */
    if (n > 0 && now + rooms_nack_rto(&p->nack) < p->nack_due) {
        p->nack_due = now + rooms_nack_rto(&p->nack);
    }

    sfu_nack_queue(sfu, p);
    sfu_nack_send(sfu, pub, li, ask, n, io);
}


unsigned
sfu_nack_arrived(sfu_t *sfu, uint64_t now, sfu_line_t *pub, int li,
    uint16_t seq, unsigned repair)
{
    unsigned     asks;
    uint64_t     waited;
    sfu_peer_t  *p;

    p = pub->owner;

    if (p->nack.n == 0) {
        return 0;
    }

    asks = rooms_nack_arrived(&p->nack, now, SFU_NACK_STREAM(pub, li), seq,
                              repair, &waited);

    if (asks == 1 && repair) {
        /* a new repair time: what waits may be due sooner */
        p->nack_due = rooms_nack_next(&p->nack);
    }

    if (asks > 0) {
        sfu_log(sfu, SFU_LOG_DEBUG, "%s of %s mid %s seq %u after %llu ms, "
                "asks %u (repair time %u ms)", repair ? "repair" : "late",
                p->id, pub->mid, (unsigned) seq, (unsigned long long) waited,
                asks, rooms_nack_rto(&p->nack));
    }

    return asks > 0;
}


/*
 * The stream of p that tracker name stream names, with *li: NULL when
 * the line no longer publishes a video stream with NACK, or that layer
 * has no SSRC.
 */
static sfu_line_t *
sfu_nack_stream(sfu_peer_t *p, uint32_t stream, int *li)
{
    unsigned     i;
    sfu_line_t  *l;

    i = stream >> 3;
    *li = (int) (stream & 7) - 1;

    if (i >= p->nlines) {
        return NULL;
    }

    l = &p->lines[i];

    if (!l->publishing || l->kind != ROOMS_SDP_KIND_VIDEO
        || !(l->neg.fb & ROOMS_SDP_FB_NACK))
    {
        return NULL;
    }

    if (*li >= 0) {
        return (unsigned) *li < l->nlayers && l->layers[*li].has_ssrc
               ? l : NULL;
    }

    return l->nlayers == 0 && l->has_ssrc ? l : NULL;
}


uint64_t
sfu_nack_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    int                li;
    uint64_t           next, t;
    sfu_line_t        *pub;
    sfu_peer_t        *p;
    sfu_queue_t       *q, *qn, *list;
    rooms_nack_due_t   due;

    next = SFU_NEVER;
    list = &sfu->net->nack_pending;

    for (q = list->next; q != list; q = qn) {
        qn = q->next;
        p = sfu_queue_data(q, sfu_peer_t, nack_link);

        if (p->nack_due > now) {
            if (p->nack_due < next) {
                next = p->nack_due;
            }

            continue;
        }

        while (rooms_nack_poll(&p->nack, now, &due)) {
            pub = sfu_nack_stream(p, due.stream, &li);

            if (pub == NULL) {
                rooms_nack_forget(&p->nack, due.stream);
                continue;
            }

            if (due.gone > 0) {
                sfu_log(sfu, SFU_LOG_DEBUG, "gave up %u packets of %s mid "
                        "%s", due.gone, p->id, pub->mid);
            }

            if (due.n > 0 && p->srtp_ready && p->has_addr) {
                sfu->stats.nack_again += due.n;
                sfu_nack_send(sfu, pub, li, due.seq, due.n, io);
            }
        }

        t = rooms_nack_next(&p->nack);
        p->nack_due = t;

        if (t == ROOMS_NACK_NEVER) {
            sfu_queue_remove(&p->nack_link);
            p->nack_queued = 0;
            continue;
        }

        if (t < next) {
            next = t;
        }
    }

    return next;
}


void
sfu_nack_forget(sfu_line_t *pub, int li)
{
    unsigned  k;

    if (li >= 0) {
        rooms_nack_forget(&pub->owner->nack, SFU_NACK_STREAM(pub, li));
        return;
    }

    rooms_nack_forget(&pub->owner->nack, SFU_NACK_STREAM(pub, -1));

    for (k = 0; k < ROOMS_LAYER_MAX; k++) {
        rooms_nack_forget(&pub->owner->nack, SFU_NACK_STREAM(pub, (int) k));
    }
}


void
sfu_nack_cancel(sfu_peer_t *p)
{
    if (p->nack_queued) {
        sfu_queue_remove(&p->nack_link);
        p->nack_queued = 0;
    }

    rooms_nack_init(&p->nack);
    p->nack_due = SFU_NEVER;
}


/* p has numbers in flight: sfu_nack_poll() looks at it */
static void
sfu_nack_queue(sfu_t *sfu, sfu_peer_t *p)
{
    if (!p->nack_queued && p->nack.n > 0) {
        sfu_queue_insert_tail(&sfu->net->nack_pending, &p->nack_link);
        p->nack_queued = 1;
        p->nack_due = rooms_nack_next(&p->nack);
    }
}


/* one NACK to publisher pub for seq[0..n) of its stream (layer li) */
static void
sfu_nack_send(sfu_t *sfu, sfu_line_t *pub, int li, const uint16_t *seq,
    size_t n, sfu_io_t *io)
{
    size_t        len;
    sfu_peer_t   *p;
    sfu_dgram_t  *d;

    p = pub->owner;

    if (n == 0) {
        return;
    }

    d = sfu_out(sfu, io);
    if (d == NULL) {
        return;
    }

    len = rooms_rtcp_build_nack(d->data, sizeof(d->data)
                                - ROOMS_SRTCP_MAX_TRAILER, p->fb_ssrc,
                                li >= 0 ? pub->layers[li].ssrc : pub->ssrc,
                                seq, n);

    if (len == 0 || rooms_srtp_protect_rtcp(&p->srtp, d->data, &len) != 0) {
        return;
    }

    sfu_commit(sfu, io, &p->addr, len);
    sfu->stats.nack_sent++;
}
