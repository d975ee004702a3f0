/*
 * sfu_rx.c: the SFU as an RTP receiver towards each publisher: RFC 3550
 * receive statistics per publisher stream (appendix A.1, A.3, A.8), the
 * LSR of each stream's last SR, and the receiver reports sent about once
 * a second from each peer's fb_ssrc (the browser's sender reads loss and
 * round-trip time from them); and transport-wide congestion control
 * feedback (RTPFB FMT 15) to each peer whose answer negotiated it, from
 * the arrival times twcc.h records, so the browser's send-side estimator
 * ramps up to what the link carries.
 *
 * Owns: sfu_rx_t's arithmetic; the receiver-report schedule, a binary
 * min-heap of peers on rr_due (sfu_net_t.rr_heap), so that sfu_poll()
 * sees the earliest report in O(1) and reschedules it in O(log n); the
 * list of peers owed transport feedback (sfu_net_t.twcc_pending).
 * Must never: allocate (the heap is made once, max_sessions entries, in
 * sfu_net_create()), build or read JSON, or know of rooms.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, call json_, call malloc, call calloc, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 */

#include <string.h>

#include "rtcp.h"
#include "rtp.h"
#include "sfu_peer.h"


/*
 * RFC 3550 appendix A.1: a sequence number up to MAX_DROPOUT ahead is the
 * stream going on (losses in between); one up to MAX_MISORDER behind is a
 * late or duplicate packet; anything else is a jump that counts only when
 * the next packet confirms it (a restarted sender).
 */
#define SFU_RX_MAX_DROPOUT   3000
#define SFU_RX_MAX_MISORDER  100
#define SFU_RX_SEQ_MOD       65536

/*
 * Jitter skips a transit change over 5 s (in the stream's clock): that is
 * a paused or restarted sender, not network jitter, and one such sample
 * would swamp the running average for dozens of packets.
 */
#define SFU_RX_JITTER_MAX_S  5


/* A.1 init_seq(): seq starts (or restarts) the statistics. */
static void
sfu_rx_init(sfu_rx_t *rx, uint16_t seq)
{
    rx->started = 1;
    rx->base_seq = seq;
    rx->max_seq = seq;
    rx->bad_seq = SFU_RX_SEQ_MOD + 1;     /* so seq == bad_seq is false */
    rx->cycles = 0;
    rx->received = 0;
    rx->expected_prior = 0;
    rx->received_prior = 0;
    rx->has_transit = 0;
}


/*
 * One authenticated packet of the stream arrived at now (ms).  The
 * sequence follows A.1 without its probation: SRTP already proved the
 * packet comes from the publisher, so the first one starts the count.
 *
 * Jitter follows A.8 with the arrival time in the stream's clock, except
 * that packets with the timestamp of the last one used are skipped: the
 * packets of one video frame share it but leave the sender paced out, so
 * they would measure the pacer rather than the network; the first packet
 * of each frame is the sample.
 */
void
sfu_rx_packet(sfu_rx_t *rx, uint64_t now, uint32_t clock, uint16_t seq,
    uint32_t ts)
{
    int64_t   d;
    uint16_t  udelta;
    uint32_t  arrival, transit;

    if (!rx->started) {
        sfu_rx_init(rx, seq);

    } else {
        udelta = (uint16_t) (seq - rx->max_seq);

        if (udelta < SFU_RX_MAX_DROPOUT) {
            /* in order, with a permissible gap */
            if (seq < rx->max_seq) {
                rx->cycles += SFU_RX_SEQ_MOD;
            }

            rx->max_seq = seq;

        } else if (udelta <= SFU_RX_SEQ_MOD - SFU_RX_MAX_MISORDER) {
            if (seq != rx->bad_seq) {
                /* a jump: not counted unless the next packet follows */
                rx->bad_seq = (uint32_t) (seq + 1) & (SFU_RX_SEQ_MOD - 1);
                return;
            }

            /* two in a row: the sender restarted its sequence */
            sfu_rx_init(rx, seq);

        } else {
            /* a duplicate or a late packet: counted, max_seq stays */
        }
    }

    rx->received++;
    rx->fresh = 1;

    if (rx->has_transit && ts == rx->last_ts) {
        return;
    }

    /* the arrival time in RTP units; both sides wrap modulo 2^32 */
    arrival = (uint32_t) (now * clock / 1000);
    transit = arrival - ts;

    if (rx->has_transit) {
        d = (int32_t) (transit - rx->transit);

        if (d < 0) {
            d = -d;
        }

        if (d <= (int64_t) clock * SFU_RX_JITTER_MAX_S) {
            /* J += (|D| - J) / 16, with J kept scaled by 16 */
            rx->jitter += (uint32_t) d - ((rx->jitter + 8) >> 4);
        }
    }

    rx->transit = transit;
    rx->last_ts = ts;
    rx->has_transit = 1;
}


/*
 * The report block about ssrc at now (A.3), which starts a new interval
 * for the fraction lost.
 */
static void
sfu_rx_report(sfu_rx_t *rx, uint64_t now, uint32_t ssrc, rooms_rtcp_rb_t *rb)
{
    int64_t   lost, lost_interval;
    uint32_t  ext_max, expected, expected_interval, received_interval;
    uint64_t  dlsr;

    ext_max = rx->cycles + rx->max_seq;
    expected = ext_max - rx->base_seq + 1;

    /* duplicates can make it negative; the field is signed 24 bits */
    lost = (int64_t) expected - (int64_t) rx->received;

    if (lost > 0x7fffff) {
        lost = 0x7fffff;

    } else if (lost < -0x800000) {
        lost = -0x800000;
    }

    expected_interval = expected - rx->expected_prior;
    received_interval = rx->received - rx->received_prior;
    rx->expected_prior = expected;
    rx->received_prior = rx->received;

    lost_interval = (int64_t) expected_interval - (int64_t) received_interval;

    memset(rb, 0, sizeof(rooms_rtcp_rb_t));
    rb->ssrc = ssrc;
    rb->cumulative_lost = (int32_t) lost;
    rb->highest_seq = ext_max;
    rb->jitter = rx->jitter >> 4;

    if (expected_interval != 0 && lost_interval > 0) {
        /* 256 would be "all lost", which an 8-bit field cannot say */
        lost_interval = (lost_interval << 8) / expected_interval;
        rb->fraction_lost = (uint8_t) (lost_interval > 255 ? 255
                                                           : lost_interval);
    }

    if (rx->has_sr) {
        rb->lsr = rx->lsr;

        /* in 1/65536 s; the field holds 18 hours, so never in practice */
        dlsr = (now - rx->sr_ms) * 65536 / 1000;
        rb->dlsr = dlsr > UINT32_MAX ? UINT32_MAX : (uint32_t) dlsr;
    }

    rx->fresh = 0;
}


/* An SR of peer: the LSR of the stream ssrc, and when it came. */
void
sfu_rx_sender_report(uint64_t now, sfu_peer_t *peer, uint32_t ssrc,
    uint32_t ntp_sec, uint32_t ntp_frac)
{
    unsigned     i, j;
    sfu_rx_t    *rx;
    sfu_line_t  *l;

    for (i = 0; i < peer->nlines; i++) {
        l = &peer->lines[i];
        rx = NULL;

        if (l->publishing && l->has_ssrc && l->nlayers == 0
            && l->ssrc == ssrc)
        {
            rx = &l->rx;
        }

        for (j = 0; j < l->nlayers && rx == NULL; j++) {
            if (l->layers[j].has_ssrc && l->layers[j].ssrc == ssrc) {
                rx = &l->layers[j].rx;
            }
        }

        if (rx != NULL) {
            rx->has_sr = 1;
            rx->lsr = (ntp_sec << 16) | (ntp_frac >> 16);
            rx->sr_ms = now;
            return;
        }
    }
}


/*
 * One compound RTCP packet to publisher peer, SRTCP-protected: an RR with a
 * block for each stream it sent since the last one (RFC 3550 §6.4: only
 * those), then our CNAME.  Nothing goes when there is nothing to report.
 */
static void
sfu_send_rr(sfu_t *sfu, uint64_t now, sfu_peer_t *p, sfu_io_t *io)
{
    size_t            n, k, cap;
    unsigned          i, j, blocks;
    sfu_line_t       *l;
    sfu_dgram_t      *d;
    rooms_rtcp_rb_t   rb[ROOMS_RTCP_MAX_REPORTS];

    if (!p->srtp_ready || !p->has_addr) {
        return;
    }

    blocks = 0;

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];
        blocks += l->publishing && l->has_ssrc && l->nlayers == 0
                  && l->rx.fresh;

        for (j = 0; j < l->nlayers; j++) {
            blocks += l->layers[j].has_ssrc && l->layers[j].rx.fresh;
        }
    }

    if (blocks == 0) {
        return;
    }

    d = sfu_out(sfu, io);
    if (d == NULL) {
        return;
    }

    /*
     * One block per publishing line, up to the 31 an RR holds: a browser
     * publishes a few, and the streams past 31 of an offer that
     * publishes more are reported when the earlier ones fall silent.
     */
    blocks = 0;

    for (i = 0; i < p->nlines && blocks < ROOMS_RTCP_MAX_REPORTS; i++) {
        l = &p->lines[i];

        if (l->publishing && l->has_ssrc && l->nlayers == 0 && l->rx.fresh) {
            sfu_rx_report(&l->rx, now, l->ssrc, &rb[blocks++]);
        }

        /* a simulcast line: a block per layer, each its own stream */
        for (j = 0; j < l->nlayers && blocks < ROOMS_RTCP_MAX_REPORTS; j++) {
            if (l->layers[j].has_ssrc && l->layers[j].rx.fresh) {
                sfu_rx_report(&l->layers[j].rx, now, l->layers[j].ssrc,
                              &rb[blocks++]);
            }
        }
    }

    cap = sizeof(d->data) - ROOMS_SRTCP_MAX_TRAILER;

    n = rooms_rtcp_build_rr_blocks(d->data, cap, p->fb_ssrc, rb, blocks);
    if (n == 0) {
        return;
    }

    k = rooms_rtcp_build_sdes_cname(d->data + n, cap - n, p->fb_ssrc,
                                    SFU_CNAME);
    if (k == 0) {
        return;
    }

    n += k;

    if (rooms_srtp_protect_rtcp(&p->srtp, d->data, &n) != 0) {
        return;
    }

    sfu_commit(sfu, io, &p->addr, n);
    sfu->stats.rr_sent++;
}


/* The next report interval: 0.5 to 1.5 times the nominal one. */
static uint64_t
sfu_rr_interval(sfu_t *sfu)
{
    return SFU_RR_INTERVAL_MS / 2
           + sfu_random32(sfu) % (SFU_RR_INTERVAL_MS + 1);
}


/*
 * The peers waiting for their next receiver report form a binary
 * min-heap on rr_due: sfu_poll() sees the earliest at rr_heap[0] and
 * reschedules it in O(log n), where a list would be walked on every
 * poll.  A peer is in it at most once, from its DTLS connection to its
 * removal, so max_sessions entries always suffice.
 */
static void
sfu_rr_set(sfu_t *sfu, unsigned i, sfu_peer_t *p)
{
    sfu->net->rr_heap[i] = p;
    p->rr_pos = i;
}


static void
sfu_rr_up(sfu_t *sfu, unsigned i)
{
    unsigned     parent;
    sfu_peer_t  *p;

    p = sfu->net->rr_heap[i];

    while (i > 0) {
        parent = (i - 1) / 2;

        if (sfu->net->rr_heap[parent]->rr_due <= p->rr_due) {
            break;
        }

        sfu_rr_set(sfu, i, sfu->net->rr_heap[parent]);
        i = parent;
    }

    sfu_rr_set(sfu, i, p);
}


static void
sfu_rr_down(sfu_t *sfu, unsigned i)
{
    unsigned     child;
    sfu_peer_t  *p;

    p = sfu->net->rr_heap[i];

    for ( ;; ) {
        child = 2 * i + 1;

        if (child >= sfu->net->rr_n) {
            break;
        }

        if (child + 1 < sfu->net->rr_n
            && sfu->net->rr_heap[child + 1]->rr_due < sfu->net->rr_heap[child]->rr_due)
        {
            child++;
        }

        if (p->rr_due <= sfu->net->rr_heap[child]->rr_due) {
            break;
        }

        sfu_rr_set(sfu, i, sfu->net->rr_heap[child]);
        i = child;
    }

    sfu_rr_set(sfu, i, p);
}


/* p's next receiver report is due at due (queued, or moved). */
static void
sfu_rr_schedule(sfu_t *sfu, sfu_peer_t *p, uint64_t due)
{
    uint64_t  old;

    if (!p->rr_queued) {
        if (sfu->net->rr_n >= sfu->conf.max_sessions) {
            /* cannot happen: joins stop at max_sessions participants */
            return;
        }

        p->rr_due = due;
        p->rr_queued = 1;
        sfu_rr_set(sfu, sfu->net->rr_n++, p);
        sfu_rr_up(sfu, p->rr_pos);
        return;
    }

    old = p->rr_due;
    p->rr_due = due;

    if (due < old) {
        sfu_rr_up(sfu, p->rr_pos);

    } else {
        sfu_rr_down(sfu, p->rr_pos);
    }
}


void
sfu_rr_cancel(sfu_t *sfu, sfu_peer_t *p)
{
    unsigned     i;
    sfu_peer_t  *last;

    if (!p->rr_queued) {
        return;
    }

    i = p->rr_pos;
    last = sfu->net->rr_heap[--sfu->net->rr_n];
    p->rr_queued = 0;

    if (last == p) {
        return;
    }

    /* the last entry fills the hole and moves whichever way it must */
    sfu_rr_set(sfu, i, last);

    if (i > 0 && last->rr_due < sfu->net->rr_heap[(i - 1) / 2]->rr_due) {
        sfu_rr_up(sfu, i);

    } else {
        sfu_rr_down(sfu, i);
    }
}


/* peer's DTLS connected: its first report within 0.5 to 1.5 s */
void
sfu_rr_start(sfu_t *sfu, uint64_t now, sfu_peer_t *peer)
{
    sfu_rr_schedule(sfu, peer, now + sfu_rr_interval(sfu));
}


/*
 * Receiver reports that are due; each goes at least half an interval
 * later, so the loop ends within one pass over the heap.
 */
uint64_t
sfu_rr_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    sfu_net_t   *net;
    sfu_peer_t  *p;

    net = sfu->net;

    while (net->rr_n > 0 && net->rr_heap[0]->rr_due <= now) {
        p = net->rr_heap[0];
        sfu_send_rr(sfu, now, p, io);
        sfu_rr_schedule(sfu, p, now + sfu_rr_interval(sfu));
    }

    return net->rr_n > 0 ? net->rr_heap[0]->rr_due : SFU_NEVER;
}


/* ---- transport-wide congestion control feedback ---- */


void
sfu_twcc_packet(sfu_t *sfu, uint64_t now_us, sfu_peer_t *peer,
    const rooms_rtp_t *pkt)
{
    uint16_t  seq;

    if (peer->ext_twcc == 0
        || rooms_rtp_get_twcc_seq(pkt, peer->ext_twcc, &seq) != 0)
    {
        return;
    }

    if (!peer->twcc.started) {
        /* the feedback names a media SSRC of the session: this one */
        peer->twcc.media_ssrc = pkt->ssrc;
    }

    if (rooms_twcc_input(&peer->twcc, (int64_t) now_us, seq) != 1) {
        return;
    }

    if (!peer->twcc_queued) {
        sfu_queue_insert_tail(&sfu->net->twcc_pending, &peer->twcc_link);
        peer->twcc_queued = 1;
    }
}


void
sfu_twcc_cancel(sfu_peer_t *peer)
{
    if (peer->twcc_queued) {
        sfu_queue_remove(&peer->twcc_link);
        peer->twcc_queued = 0;
    }
}


/* Sends what peer is owed by now_us; one feedback may take a few packets. */
static void
sfu_twcc_send(sfu_t *sfu, int64_t now_us, sfu_peer_t *peer, sfu_io_t *io)
{
    int           n;
    size_t        len;
    unsigned      k;
    sfu_dgram_t  *d;

    /*
     * rooms_twcc_poll() splits a window that does not fit one packet, and
     * 1024 statuses fit in a few: the bound keeps one peer from holding
     * the loop whatever its state.
     */
    for (k = 0; k < 8; k++) {
        d = sfu_out(sfu, io);
        if (d == NULL) {
            return;
        }

        n = rooms_twcc_poll(&peer->twcc, now_us, d->data,
                            sizeof(d->data) - ROOMS_SRTCP_MAX_TRAILER);
        if (n <= 0) {
            return;
        }

        len = (size_t) n;

        if (rooms_srtp_protect_rtcp(&peer->srtp, d->data, &len) != 0) {
            return;
        }

        sfu_commit(sfu, io, &peer->addr, len);
        sfu->stats.twcc_sent++;
    }
}


uint64_t
sfu_twcc_poll(sfu_t *sfu, uint64_t now_ms, sfu_io_t *io)
{
    int64_t       due, now_us;
    uint64_t      next;
    sfu_peer_t   *p;
    sfu_queue_t  *q, *qn;

    next = SFU_NEVER;
    now_us = (int64_t) now_ms * 1000;

    for (q = sfu->net->twcc_pending.next; q != &sfu->net->twcc_pending;
         q = qn)
    {
        qn = q->next;
        p = sfu_queue_data(q, sfu_peer_t, twcc_link);

        due = rooms_twcc_timeout(&p->twcc);

        if (due >= 0 && due <= now_us && p->srtp_ready && p->has_addr) {
            /* the arrival clock may be ahead of now_ms by under 1 ms */
            sfu_twcc_send(sfu, now_us > p->twcc.last_us ? now_us
                                                        : p->twcc.last_us,
                          p, io);
            due = rooms_twcc_timeout(&p->twcc);
        }

        if (due < 0) {
            sfu_twcc_cancel(p);
            continue;
        }

        /* milliseconds, rounded up: never sooner than due */
        if ((uint64_t) (due + 999) / 1000 < next) {
            next = (uint64_t) (due + 999) / 1000;
        }
    }

    return next;
}
