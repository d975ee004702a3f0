/*
 * sfu_feedback.c: the RTCP a peer sends us, answered, and the probes of
 * its estimator.  A subscriber's NACK is answered from the shared NACK
 * history of the stream its line carries (sfu_media.c keeps it): each
 * lost packet rebuilt and rewritten for that line as it was forwarded,
 * sent as RTX (RFC 4588) where the line negotiated it, else as it was;
 * what the history lacks is asked of the publisher again.  PLI and FIR
 * become keyframe requests (sfu_want_keyframe(): throttled there).
 * Transport feedback (RTPFB 15) goes into the subscriber's estimator
 * (bwe.h), a publisher's sender report into its receive statistics
 * (sfu_rx.c).  When the estimator asks to probe above its estimate, a
 * cluster of RTX copies of a kept packet (or RTX padding) goes out,
 * paced at the cluster's rate.  Every resend and probe is a new
 * transport packet, numbered by sfu_media_stamp().
 *
 * Owns: the answer to each RTCP packet, the probing list
 * (sfu_net_t.probing) and each peer's probe cluster in flight
 * (sfu_peer_t.probe_*).
 * Must never: allocate, bind or unbind a line, forward a publisher's
 * packet, build or read JSON, or know of rooms.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, call json_, call malloc, call calloc, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 * May not: call sfu_bind, call sfu_unbind, call sfu_unpublish, call sfu_rtp, call sfu_twcc_packet, call sfu_rx_packet
 */

#include <string.h>

#include "rtcp.h"
#include "rtp.h"
#include "sfu_peer.h"


/* a padding probe: the most one count byte pads, with its header */
#define SFU_PROBE_PAD_BYTES  (ROOMS_RTP_HEADER_LEN + 32 + 255)


/* The receiving line of p that sends ssrc, or NULL. */
static sfu_line_t *
sfu_line_by_out_ssrc(sfu_peer_t *p, uint32_t ssrc)
{
    unsigned  i;

    for (i = 0; i < p->nlines; i++) {
        if (p->lines[i].bound != NULL && p->lines[i].out_ssrc == ssrc) {
            return &p->lines[i];
        }
    }

    return NULL;
}


/*
 * The history of the source subscriber line l last forwarded (its
 * stream, or the simulcast layer whose SSRC its rewriting follows: a
 * line paused for bandwidth keeps it), or NULL.
 */
static rooms_hist_t *
sfu_line_hist(sfu_line_t *l)
{
    unsigned     k;
    sfu_line_t  *pub;

    pub = l->bound;

    if (pub == NULL || pub->kind != ROOMS_SDP_KIND_VIDEO
        || !l->fwd.has_src)
    {
        return NULL;
    }

    if (pub->nlayers == 0) {
        return sfu_media_hist(NULL, pub, -1, 0);
    }

    for (k = 0; k < pub->nlayers; k++) {
        if (pub->layers[k].has_ssrc
            && pub->layers[k].ssrc == l->fwd.src_ssrc)
        {
            return sfu_media_hist(NULL, pub, (int) k, 0);
        }
    }

    return NULL;
}


/*
 * Writes into out (ROOMS_HIST_SLOT bytes) the packet subscriber line l
 * was sent as out_seq, from the shared history of the stream it carries:
 * the kept packet rebuilt with l's extension ids and rewritten by l's
 * state, as sfu_forward() sent it.  Returns its length; 0 when it was of
 * another stream than the current one, or is not kept; *in_seq (when not
 * NULL) is then set to the publisher's number when there is one.
 */
static size_t
sfu_kept(sfu_line_t *l, uint16_t out_seq, uint8_t *out, int *in_seq)
{
    size_t          len, alen;
    uint16_t        in;
    rooms_rtp_t     r;
    rooms_hist_t   *h;
    const uint8_t  *pkt, *abs, *level, *v;

    if (in_seq != NULL) {
        *in_seq = -1;
    }

    h = sfu_line_hist(l);

    if (h == NULL || rooms_fwd_source_seq(&l->fwd, out_seq, &in) != 0) {
        return 0;
    }

    if (in_seq != NULL) {
        *in_seq = in;
    }

    pkt = rooms_hist_get(h, in, &len);

    if (pkt == NULL || rooms_rtp_parse(pkt, len, &r) != 0) {
        return 0;
    }

    abs = NULL;
    level = NULL;

    if (l->bound->neg.ext_abs_send_time
        && rooms_rtp_ext_find(&r, l->bound->neg.ext_abs_send_time, &v, &alen)
           == 0
        && alen == ROOMS_RTP_ABS_SEND_TIME_LEN)
    {
        abs = v;
    }

    len = sfu_media_build(l, &r, abs, level, out);

    if (len == 0 || rooms_fwd_replay(&l->fwd, out, len) == ROOMS_FWD_DROP) {
        return 0;
    }

    /* VP8's numbers as they were sent (histories keep video only) */
    rooms_fwd_vp8_replay(&l->fwd, out + len - (r.len - r.payload_off),
                         r.payload_len);

    rooms_rtp_set_pt(out, (unsigned) l->neg.pt);

    return len;
}


/*
 * Answers a NACK from p: each lost packet from the shared history of the
 * stream its line carries (sfu_kept()), as RTX packets when the line
 * negotiated RTX (and the answer announced our RTX SSRC), or else sent
 * again as it was.
 */
static void
sfu_nack(sfu_t *sfu, uint64_t now_us, sfu_peer_t *p,
    const rooms_rtcp_fb_t *fb, sfu_io_t *io)
{
    int             n, i, in;
    size_t          len, nup;
    unsigned        rtx;
    uint8_t         kept[ROOMS_HIST_SLOT];
    uint16_t        lost[SFU_NACK_MAX], up[SFU_NACK_MAX];
    sfu_line_t     *l;
    sfu_dgram_t    *d;

    l = sfu_line_by_out_ssrc(p, fb->media_ssrc);

    if (l == NULL || sfu_line_hist(l) == NULL) {
        return;
    }

    rtx = l->neg.rtx_pt >= 0 && l->rtx_out_ssrc != 0;

    n = rooms_rtcp_nack_expand(fb, lost, SFU_NACK_MAX);
    nup = 0;

    for (i = 0; i < n; i++) {
        len = sfu_kept(l, lost[i], kept, &in);

        if (len == 0) {
            /*
             * sent before and never reached us (lost on the
             * publisher's leg, and our NACK did not bring it yet): ask
             * the publisher, in its numbers, while the line carries that
             * stream, unless we asked already (sfu_nack.c asks again
             * when the repair is late)
             */
            if (in >= 0
                && (int16_t) (uint16_t) (lost[i] - l->fwd.last_seq) < 0)
            {
                up[nup++] = (uint16_t) in;
            }

            continue;
        }

        d = sfu_out(sfu, io);
        if (d == NULL) {
            return;
        }

        if (rtx) {
            len = sfu_media_build_rtx(l, kept, len, d->data);
            if (len == 0) {
                continue;
            }

        } else {
            memcpy(d->data, kept, len);
        }

        /* a resend is a new transport packet: a new number */
        sfu_media_stamp(p, now_us, d->data, len, 0);

        if (rooms_srtp_protect(&p->srtp, d->data, &len) != 0) {
            continue;
        }

        sfu_commit(sfu, io, &p->addr, len);
        sfu->stats.nack_resent++;

        if (rtx) {
            sfu->stats.rtx_sent++;
        }
    }

    if (nup > 0) {
        sfu_nack_up(sfu, now_us / 1000, l->bound,
                    l->bound->nlayers ? l->layer : -1, up, nup, io);
    }
}


/*
 * One compound from p, its SRTCP removed, at now (ms): checked whole
 * first (a bad one counts in rx_bad and is dropped), then each packet
 * answered (SR, NACK, transport feedback, PLI, FIR); the others are
 * passed over.
 */
void
sfu_rtcp(sfu_t *sfu, uint64_t now, sfu_peer_t *p, const uint8_t *buf,
    size_t len, sfu_io_t *io)
{
    int                     rc, k, count;
    size_t                  off;
    sfu_line_t             *l;
    rooms_twcc_info_t       info;
    rooms_rtcp_fb_t         fb;
    rooms_rtcp_hdr_t        h;
    rooms_rtcp_report_t     sr;
    rooms_rtcp_fir_entry_t  fir[4];

    /* a compound is used whole or not at all */
    if (rooms_rtcp_check(buf, len) < 0) {
        sfu->stats.rx_bad++;
        return;
    }

    off = 0;

    while ((rc = rooms_rtcp_next(buf, len, &off, &h)) == ROOMS_RTCP_OK) {
        if (h.pt == ROOMS_RTCP_SR) {
            if (rooms_rtcp_report_parse(&h, &sr) == 0) {
                sfu_rx_sender_report(now, p, sr.ssrc, sr.ntp_sec, sr.ntp_frac);
            }

            continue;
        }

        if (h.pt != ROOMS_RTCP_RTPFB && h.pt != ROOMS_RTCP_PSFB) {
            continue;
        }

        if (rooms_rtcp_fb_parse(&h, &fb) != 0) {
            continue;
        }

        if (h.pt == ROOMS_RTCP_RTPFB && fb.fmt == ROOMS_RTCP_FMT_NACK) {
            sfu_nack(sfu, now * 1000, p, &fb, io);
            continue;
        }

        /* transport feedback on what we sent: the subscriber's estimate */
        if (h.pt == ROOMS_RTCP_RTPFB && fb.fmt == ROOMS_RTCP_FMT_TWCC) {
            if (p->bwe_on) {
                count = rooms_twcc_parse_fci(fb.fci, fb.fci_len, &info,
                                             sfu->net->twcc_st,
                                             ROOMS_BWE_HISTORY);
                if (count > 0) {
                    (void) rooms_bwe_feedback(&p->bwe,
                                              (int64_t) now * 1000,
                                              sfu->net->twcc_st,
                                              (size_t) count);
                    sfu->stats.twcc_received++;
                }
            }

            continue;
        }

        if (h.pt != ROOMS_RTCP_PSFB) {
            continue;
        }

        if (rooms_rtcp_is_pli(&fb)) {
            l = sfu_line_by_out_ssrc(p, fb.media_ssrc);

            if (l != NULL) {
                sfu_want_keyframe(sfu, now, l->bound, io);
            }

            continue;
        }

        if (fb.fmt == ROOMS_RTCP_FMT_FIR) {
            count = rooms_rtcp_fir_parse(&fb, fir, 4);

            for (k = 0; k < count && k < 4; k++) {
                l = sfu_line_by_out_ssrc(p, fir[k].ssrc);

                if (l != NULL) {
                    sfu_want_keyframe(sfu, now, l->bound, io);
                }
            }
        }
    }
}


/*
 * The estimator's timer, and its probes: when it asks to find out whether
 * peer's link carries more than its estimate (its tiles want more), a
 * cluster of RTX copies of the newest packet of one of its video lines
 * (the browser drops a packet it has, once its transport feedback has
 * counted it), or RTX padding when none is left to copy, paced at the
 * cluster's rate by sfu_probe_poll(): their arrivals say how fast the
 * link carries them.  A peer with no video line that negotiated RTX is
 * not probed.
 */
void
sfu_bwe_probe(sfu_t *sfu, uint64_t now, sfu_peer_t *peer, sfu_io_t *io)
{
    rooms_bwe_probe_t  pr;

    if (!peer->bwe_on || !peer->srtp_ready || !peer->has_addr
        || peer->probe_left > 0
        || rooms_bwe_poll(&peer->bwe, (int64_t) now * 1000, peer->want_bps,
                          &pr) != 1
        || pr.packets == 0)
    {
        return;
    }

    peer->probe_left = pr.packets;
    peer->probe_cluster = pr.cluster;
    peer->probe_bps = pr.target_bps;
    peer->probe_interval_us = pr.interval_us > 0 ? pr.interval_us : 1000;
    peer->probe_next_us = (int64_t) now * 1000;
    sfu_queue_insert_tail(&sfu->net->probing, &peer->probe_link);

    (void) sfu_probe_poll(sfu, now, io);
}


/* peer's cluster in flight, if any, is dropped: it leaves the list */
void
sfu_probe_cancel(sfu_peer_t *peer)
{
    if (peer->probe_left > 0) {
        sfu_queue_remove(&peer->probe_link);
        peer->probe_left = 0;
    }
}


/* One probe packet of peer's cluster: 0, or -1 when it cannot be sent. */
static int
sfu_probe_send(sfu_t *sfu, uint64_t now_us, sfu_peer_t *peer, sfu_io_t *io)
{
    size_t          len, n;
    uint8_t         kept[ROOMS_HIST_SLOT];
    unsigned        i;
    sfu_line_t     *l, *pad;
    sfu_dgram_t    *d;
    rooms_hist_t   *h;

    l = NULL;
    pad = NULL;
    len = 0;

    /*
     * the newest packet the first video line with RTX was sent (paused
     * for bandwidth too: probing is how its videos come back)
     */
    for (i = 0; i < peer->nlines && len == 0; i++) {
        l = &peer->lines[i];

        if (l->bound == NULL || l->kind != ROOMS_SDP_KIND_VIDEO
            || l->neg.rtx_pt < 0 || l->rtx_out_ssrc == 0)
        {
            continue;
        }

        if (pad == NULL) {
            pad = l;
        }

        if (l->fwd.started && (h = sfu_line_hist(l)) != NULL && h->any) {
            len = sfu_kept(l, l->fwd.last_seq, kept, NULL);
        }
    }

    if ((len == 0 && pad == NULL) || !peer->srtp_ready || !peer->has_addr) {
        return -1;
    }

    d = sfu_out(sfu, io);
    if (d == NULL) {
        return -1;
    }

    /*
     * No copy to send (lines paused for longer than their history
     * holds: a probe is the only way back for them): padding, as much
     * as one packet carries.
     */
    n = len > 0 ? sfu_media_build_rtx(l, kept, len, d->data)
                : sfu_media_build_padding(pad, SFU_PROBE_PAD_BYTES, d->data);
    if (n == 0) {
        return -1;
    }

    sfu_media_stamp(peer, now_us, d->data, n, peer->probe_cluster);

    if (rooms_srtp_protect(&peer->srtp, d->data, &n) != 0) {
        return -1;
    }

    /*
     * The next one after this one's size at the cluster's rate: a copy of
     * the newest packet is whatever size it was (often a frame's short
     * last one), and paced for the suggested size a cluster of small ones
     * went out at a fraction of its rate and read as a link that carries
     * no more (a failed probe, and seconds of back-off).
     */
    if (peer->probe_bps > 0) {
        peer->probe_interval_us = (int64_t) ((uint64_t) n * 8 * 1000000
                                             / peer->probe_bps);
    }

    sfu_commit(sfu, io, &peer->addr, n);
    sfu->stats.probes_sent++;

    return 0;
}


/*
 * Each probing peer's packets due by now, at its cluster's pace; a
 * cluster that cannot send ends.  The next due (ms), or SFU_NEVER.
 */
uint64_t
sfu_probe_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    int64_t       now_us;
    uint64_t      next, due;
    sfu_peer_t   *p;
    sfu_queue_t  *q, *qn;

    next = SFU_NEVER;
    now_us = (int64_t) now * 1000;

    for (q = sfu->net->probing.next; q != &sfu->net->probing; q = qn) {
        qn = q->next;
        p = sfu_queue_data(q, sfu_peer_t, probe_link);

        /* what is due (a late timer sends what it owes, no more) */
        while (p->probe_left > 0 && p->probe_next_us <= now_us) {
            if (sfu_probe_send(sfu, (uint64_t) now_us, p, io) != 0) {
                p->probe_left = 1;
            }

            p->probe_left--;
            p->probe_next_us += p->probe_interval_us;
        }

        if (p->probe_left == 0) {
            sfu_queue_remove(&p->probe_link);
            continue;
        }

        due = (uint64_t) (p->probe_next_us + 999) / 1000;

        if (due < next) {
            next = due;
        }
    }

    return next;
}
