/*
 * load_media.c: real media, encoded once and replayed by everyone.
 *
 * At start-up a moving pattern is encoded with libvpx (VP8, realtime, one
 * keyframe at the start of the loop, at the three simulcast sizes of
 * media.js: 320x180, 640x360, 1280x720) and a tone and silence with libopus
 * (20 ms packets), a few seconds of each.  Each participant then replays
 * them with its own SSRCs, sequence numbers and timestamps, paced in real
 * time (a frame every 1/fps s, audio every 20 ms), with the header
 * extensions Chromium sends (mid, abs-send-time, transport-wide sequence
 * number, audio level; rid on simulcast layers), a talk pattern (a few
 * "speak" with a high audio level and the tone, the others send silence at
 * level 127, changing every 4 s), RTCP sender reports every second, a
 * keyframe after a PLI or FIR (the replay of that layer jumps to the
 * loop's keyframe), and RTX resends for NACKs from the history.
 *
 * Owns: the encoded media (load_media_t), the replay position, what each
 * sending stream remembers (load_tx_t).
 * Must never: encode per participant or per packet (the cost would be the
 * tool's, not the server's), or copy payloads into the history.
 * May not: include sfu.h
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus/opus.h>
#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#include "load.h"
#include "rtcp.h"
#include "rtp.h"




static const char *load_rids[LOAD_LAYERS] = { "q", "h", "f" };


/* ---- encoding, once ---------------------------------------------------- */

static uint64_t
load_hash(const uint8_t *d, size_t n)
{
    uint64_t  h = 1469598103934665603ull;

    while (n--) {
        h = (h ^ *d++) * 1099511628211ull;
    }
    return h;
}


static void
load_add_hash(load_media_t *m, const uint8_t *d, size_t n)
{
    m->hashes = realloc(m->hashes, (m->nhashes + 1) * sizeof(uint64_t));
    m->hashes[m->nhashes++] = load_hash(d, n);
}


static int
load_cmp64(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}


/* the frame t of a moving pattern: diagonal bands and a bouncing square */
static void
load_draw(vpx_image_t *img, unsigned t)
{
    unsigned  x, y, w = img->d_w, h = img->d_h, bx, by, s;

    for (y = 0; y < h; y++) {
        uint8_t *row = img->planes[0] + y * img->stride[0];
        for (x = 0; x < w; x++) {
            row[x] = (uint8_t) (((x + y + 4 * t) * 256 / (w / 2 + 1)) & 0xff)
                     / 2 + 32;
        }
    }
    for (y = 0; y < h / 2; y++) {
        memset(img->planes[1] + y * img->stride[1],
               (int) (128 + 60 * sin(t / 15.0)), w / 2);
        memset(img->planes[2] + y * img->stride[2],
               (int) (128 + 60 * cos(t / 20.0)), w / 2);
    }
    s = h / 4;
    bx = (unsigned) ((w - s) * (0.5 + 0.5 * sin(t / 10.0)));
    by = (unsigned) ((h - s) * (0.5 + 0.5 * cos(t / 13.0)));
    for (y = by; y < by + s; y++) {
        memset(img->planes[0] + y * img->stride[0] + bx, 235, s);
    }
}


static int
load_encode_layer(load_media_t *m, load_layer_t *ly)
{
    vpx_codec_ctx_t             enc;
    vpx_codec_enc_cfg_t         cfg;
    vpx_image_t                 img;
    const vpx_codec_cx_pkt_t   *pkt;
    vpx_codec_iter_t            it;
    unsigned                    f, k, n, len, off, part;
    uint8_t                    *copy;

    if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0) != 0) {
        return -1;
    }
    cfg.g_w = ly->width;
    cfg.g_h = ly->height;
    cfg.g_timebase.num = 1;
    cfg.g_timebase.den = (int) m->fps;
    cfg.rc_target_bitrate = ly->kbps;
    cfg.rc_end_usage = VPX_CBR;
    cfg.g_lag_in_frames = 0;
    cfg.g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
    cfg.kf_mode = VPX_KF_DISABLED;      /* the loop's first frame only */
    cfg.g_threads = 1;

    if (vpx_codec_enc_init(&enc, vpx_codec_vp8_cx(), &cfg, 0) != 0) {
        return -1;
    }
    vpx_codec_control(&enc, VP8E_SET_CPUUSED, 16);
    vpx_img_alloc(&img, VPX_IMG_FMT_I420, ly->width, ly->height, 16);

    ly->nframes = m->nframes;
    ly->frames = calloc(m->nframes, sizeof(load_frame_t));
    ly->frags = NULL;
    ly->nfrags_all = 0;

    for (f = 0; f < m->nframes; f++) {
        load_draw(&img, f);
        if (vpx_codec_encode(&enc, &img, f, 1, f == 0 ? VPX_EFLAG_FORCE_KF : 0,
                             VPX_DL_REALTIME) != 0)
        {
            return -1;
        }
        it = NULL;
        while ((pkt = vpx_codec_get_cx_data(&enc, &it)) != NULL) {
            if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) {
                continue;
            }
            len = (unsigned) pkt->data.frame.sz;
            copy = malloc(len);
            memcpy(copy, pkt->data.frame.buf, len);

            /* equal fragments of at most LOAD_PAYLOAD_MAX bytes */
            n = (len + LOAD_PAYLOAD_MAX - 1) / LOAD_PAYLOAD_MAX;
            ly->frames[f].first = ly->nfrags_all;
            ly->frames[f].nfrags = n;
            ly->frames[f].keyframe =
                (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
            ly->frags = realloc(ly->frags, (ly->nfrags_all + n)
                                           * sizeof(load_frag_t));
            for (k = 0, off = 0; k < n; k++) {
                part = (len - off) / (n - k);
                ly->frags[ly->nfrags_all].data = copy + off;
                ly->frags[ly->nfrags_all].len = (uint16_t) part;
                load_add_hash(m, copy + off, part);
                ly->nfrags_all++;
                off += part;
            }
        }
        if (ly->frames[f].nfrags == 0) {
            /* a dropped frame: the encoder never drops in CBR at this
             * rate, but a frame must exist for the replay */
            return -1;
        }
    }

    vpx_img_free(&img);
    vpx_codec_destroy(&enc);
    return ly->frames[0].keyframe ? 0 : -1;
}


static int
load_encode_audio(load_media_t *m, load_frag_t *out, int tone)
{
    OpusEncoder  *enc;
    int           err, n;
    unsigned      i, k;
    int16_t       pcm[960];
    uint8_t       buf[1500], *copy;

    enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    if (enc == NULL) {
        return -1;
    }
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
    opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));

    for (i = 0; i < m->naudio; i++) {
        for (k = 0; k < 960; k++) {
            double t = (i * 960.0 + k) / 48000.0;
            pcm[k] = tone ? (int16_t) (8000 * sin(2 * M_PI * 440 * t)
                                       * (0.6 + 0.4 * sin(2 * M_PI * t)))
                          : 0;
        }
        n = opus_encode(enc, pcm, 960, buf, sizeof(buf));
        if (n <= 0) {
            opus_encoder_destroy(enc);
            return -1;
        }
        copy = malloc((size_t) n);
        memcpy(copy, buf, (size_t) n);
        out[i].data = copy;
        out[i].len = (uint16_t) n;
        load_add_hash(m, copy, (size_t) n);
    }

    opus_encoder_destroy(enc);
    return 0;
}


int
load_media_encode(load_media_t *m, unsigned seconds, unsigned fps)
{
    static const unsigned  w[LOAD_LAYERS] = { 320, 640, 1280 };
    static const unsigned  h[LOAD_LAYERS] = { 180, 360, 720 };
    /* media.js's maxBitrate per layer, in kbit/s */
    static const unsigned  kbps[LOAD_LAYERS] = { 150, 500, 1500 };
    unsigned               l;

    m->fps = fps;
    m->nframes = seconds * fps;
    m->naudio = seconds * 50;

    for (l = 0; l < LOAD_LAYERS; l++) {
        m->layer[l].width = w[l];
        m->layer[l].height = h[l];
        m->layer[l].kbps = kbps[l];
        if (load_encode_layer(m, &m->layer[l]) != 0) {
            fprintf(stderr, "rooms-load: VP8 encoding failed\n");
            return -1;
        }
    }

    m->tone = calloc(m->naudio, sizeof(load_frag_t));
    m->quiet = calloc(m->naudio, sizeof(load_frag_t));
    if (load_encode_audio(m, m->tone, 1) != 0
        || load_encode_audio(m, m->quiet, 0) != 0)
    {
        fprintf(stderr, "rooms-load: Opus encoding failed\n");
        return -1;
    }

    qsort(m->hashes, m->nhashes, sizeof(uint64_t), load_cmp64);
    return 0;
}


/* 1 when payload is one of the encoded payloads, byte for byte */
int
load_media_known(const uint8_t *payload, size_t len)
{
    uint64_t  h = load_hash(payload, len);

    return bsearch(&h, load_run.media.hashes, load_run.media.nhashes,
                   sizeof(uint64_t), load_cmp64) != NULL;
}


/* ---- sending --------------------------------------------------------- */

static uint32_t
load_abs_send_time(uint64_t now)
{
    /* 6.18 fixed point seconds, 24 bits */
    return (uint32_t) (((now << 18) / 1000000) & 0xffffff);
}


/* the one-byte header extension block; returns its length */
static size_t
load_ext(load_peer_t *p, uint8_t *b, uint64_t now, int level, const char *rid,
    unsigned rid_id)
{
    size_t    n = 4, start;
    uint32_t  abs;

    b[0] = 0xbe;
    b[1] = 0xde;

    if (p->ext_twcc) {
        b[n++] = (uint8_t) (p->ext_twcc << 4 | 1);
        b[n++] = (uint8_t) (p->twcc_seq >> 8);
        b[n++] = (uint8_t) p->twcc_seq;
        p->twcc_seq++;
    }
    if (p->ext_abs) {
        abs = load_abs_send_time(now);
        b[n++] = (uint8_t) (p->ext_abs << 4 | 2);
        b[n++] = (uint8_t) (abs >> 16);
        b[n++] = (uint8_t) (abs >> 8);
        b[n++] = (uint8_t) abs;
    }
    if (p->ext_mid) {
        b[n++] = (uint8_t) (p->ext_mid << 4 | 0);
        b[n++] = (uint8_t) (level >= 0 ? '0' : '1');
    }
    if (level >= 0 && p->ext_level) {
        b[n++] = (uint8_t) (p->ext_level << 4 | 0);
        b[n++] = (uint8_t) level;
    }
    if (rid && rid_id) {
        b[n++] = (uint8_t) (rid_id << 4 | (strlen(rid) - 1));
        start = n;
        memcpy(b + n, rid, strlen(rid));
        n += strlen(rid);
        (void) start;
    }
    while ((n - 4) % 4) {
        b[n++] = 0;
    }
    b[2] = (uint8_t) (((n - 4) / 4) >> 8);
    b[3] = (uint8_t) ((n - 4) / 4);
    return n;
}


static size_t
load_rtp_header(uint8_t *b, unsigned pt, int marker, uint16_t seq,
    uint32_t ts, uint32_t ssrc)
{
    b[0] = 0x90;                          /* V=2, X=1 */
    b[1] = (uint8_t) ((marker ? 0x80 : 0) | pt);
    b[2] = (uint8_t) (seq >> 8);
    b[3] = (uint8_t) seq;
    b[4] = (uint8_t) (ts >> 24);
    b[5] = (uint8_t) (ts >> 16);
    b[6] = (uint8_t) (ts >> 8);
    b[7] = (uint8_t) ts;
    b[8] = (uint8_t) (ssrc >> 24);
    b[9] = (uint8_t) (ssrc >> 16);
    b[10] = (uint8_t) (ssrc >> 8);
    b[11] = (uint8_t) ssrc;
    return 12;
}


static void
load_protect_send(load_peer_t *p, uint8_t *b, size_t n, int rtcp)
{
    if ((rtcp ? rooms_srtp_protect_rtcp(&p->srtp, b, &n)
              : rooms_srtp_protect(&p->srtp, b, &n)) != ROOMS_SRTP_OK)
    {
        return;
    }
    load_udp_send(p, b, n);
}


int
load_talking(unsigned index, unsigned slot)
{
    unsigned  per = load_run.opt.per_room, local = index / load_run.opt.rooms;

    /* a window of `speakers` moving through the room */
    return ((local + per - (slot * load_run.opt.speakers) % per) % per)
           < load_run.opt.speakers;
}


static void
load_send_audio(load_peer_t *p, uint64_t now)
{
    uint8_t           b[LOAD_DGRAM];
    size_t            n;
    const load_frag_t *f;
    unsigned          talking;

    talking = load_talking(p->index,
                  (unsigned) ((now - load_run.start_us) / LOAD_TALK_US));

    f = talking ? &load_run.media.tone[p->aframe]
                : &load_run.media.quiet[p->aframe];
    p->aframe = (p->aframe + 1) % load_run.media.naudio;

    n = load_rtp_header(b, LOAD_PT_OPUS, 0, p->audio.seq++,
                        p->audio.ts_base + p->audio.last_ts, p->audio.ssrc);
    p->audio.last_ts += 960;
    n += load_ext(p, b + n, now, talking ? 0x80 | 25 : 127, NULL, 0);
    memcpy(b + n, f->data, f->len);
    n += f->len;
    p->audio.packets++;
    p->audio.bytes += f->len;
    load_protect_send(p, b, n, 0);
}


static size_t
load_vp8_packet(load_peer_t *p, unsigned l, const load_hist_t *h,
    uint8_t *b, uint64_t now, int rtx)
{
    load_tx_t          *tx = &p->video[l];
    const load_frag_t  *fr = &load_run.media.layer[l].frags[h->frag];
    size_t              n;

    if (rtx) {
        n = load_rtp_header(b, LOAD_PT_RTX, h->marker, tx->rtx_seq++,
                            tx->ts_base + h->ts, tx->rtx_ssrc);
        n += load_ext(p, b + n, now, -1,
                      p->layers > 1 ? load_rids[l] : NULL, p->ext_rrid);
        b[n++] = (uint8_t) (h->seq >> 8);
        b[n++] = (uint8_t) h->seq;
    } else {
        n = load_rtp_header(b, LOAD_PT_VP8, h->marker, h->seq,
                            tx->ts_base + h->ts, tx->ssrc);
        n += load_ext(p, b + n, now, -1,
                      p->layers > 1 ? load_rids[l] : NULL, p->ext_rid);
    }

    /* the VP8 payload descriptor (RFC 7741): X, S; I with a 15-bit id */
    b[n++] = (uint8_t) (0x80 | (h->start ? 0x10 : 0));
    b[n++] = 0x80;
    b[n++] = (uint8_t) (0x80 | (h->picture_id >> 8));
    b[n++] = (uint8_t) h->picture_id;
    memcpy(b + n, fr->data, fr->len);
    return n + fr->len;
}


static void
load_send_frame(load_peer_t *p, unsigned l, uint64_t now)
{
    load_layer_t       *ly = &load_run.media.layer[l];
    load_tx_t          *tx = &p->video[l];
    const load_frame_t *fr;
    load_hist_t        *h;
    uint8_t             b[LOAD_DGRAM];
    size_t              n;
    unsigned            k;
    uint32_t            ts;

    if (p->key_wanted[l]) {
        p->key_wanted[l] = 0;
        p->vpos[l] = 0;                 /* the loop starts on a keyframe */
    }
    fr = &ly->frames[p->vpos[l]];
    p->vpos[l] = (p->vpos[l] + 1) % ly->nframes;
    ts = (uint32_t) ((now - p->dtls_us) * 90 / 1000);
    p->picture_id[l] = (p->picture_id[l] + 1) & 0x7fff;

    for (k = 0; k < fr->nfrags; k++) {
        h = &tx->hist[tx->seq & (LOAD_HIST - 1)];
        h->seq = tx->seq++;
        h->frag = (uint16_t) (fr->first + k);
        h->ts = ts;
        h->picture_id = p->picture_id[l];
        h->start = k == 0;
        h->marker = k + 1 == fr->nfrags;
        n = load_vp8_packet(p, l, h, b, now, 0);
        tx->packets++;
        tx->bytes += n;
        load_protect_send(p, b, n, 0);
    }
    tx->last_ts = ts;
}


static void
load_put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t) (v >> 24);
    b[1] = (uint8_t) (v >> 16);
    b[2] = (uint8_t) (v >> 8);
    b[3] = (uint8_t) v;
}


void
load_send_rtcp(load_peer_t *p, uint8_t *b, size_t n)
{
    load_protect_send(p, b, n, 1);
}


/* an SR per sending stream and our CNAME, in one compound */
static void
load_send_sr(load_peer_t *p, uint64_t now)
{
    uint8_t     b[LOAD_DGRAM];
    size_t      n = 0;
    unsigned    l;
    load_tx_t  *tx;
    char        cname[32];
    uint64_t    ntp;
    uint32_t    rtp;

    ntp = ((now / 1000000 + 2208988800ull) << 32)
          | (((now % 1000000) << 32) / 1000000);

    for (l = 0; l <= p->layers; l++) {
        tx = l == 0 ? &p->audio : &p->video[l - 1];
        if (tx->packets == 0) {
            continue;
        }
        rtp = l == 0 ? tx->ts_base + tx->last_ts
                     : tx->ts_base + (uint32_t) ((now - p->dtls_us) * 90
                                                 / 1000);
        b[n] = 0x80;
        b[n + 1] = ROOMS_RTCP_SR;
        b[n + 2] = 0;
        b[n + 3] = 6;
        load_put32(b + n + 4, tx->ssrc);
        load_put32(b + n + 8, (uint32_t) (ntp >> 32));
        load_put32(b + n + 12, (uint32_t) ntp);
        load_put32(b + n + 16, rtp);
        load_put32(b + n + 20, (uint32_t) tx->packets);
        load_put32(b + n + 24, (uint32_t) tx->bytes);
        n += 28;
    }
    if (n == 0) {
        return;
    }
    snprintf(cname, sizeof(cname), "load-%u", p->index);
    n += rooms_rtcp_build_sdes_cname(b + n, sizeof(b) - n - 32,
                                     p->audio.ssrc, cname);
    load_protect_send(p, b, n, 1);
}


void
load_media_start(load_peer_t *p, uint64_t now)
{
    /* each at its own phase, as independent browsers: never all 50
     * frames in the same millisecond */
    p->tx_on = 1;
    p->next_audio_us = now + (uint64_t) (load_random() * 20000);
    p->next_video_us = now + (uint64_t) (load_random() * 1000000
                                         / load_run.media.fps);
    p->next_rtcp_us = now + 1000000;
    rooms_twcc_init(&p->twcc, p->audio.ssrc, 0);
}


void
load_media_tick(load_peer_t *p, uint64_t now)
{
    unsigned  l;

    if (!p->tx_on) {
        return;
    }
    while (now >= p->next_audio_us) {
        load_send_audio(p, now);
        p->next_audio_us += 20000;
    }
    if (now >= p->next_video_us) {
        for (l = 0; l < p->layers; l++) {
            load_send_frame(p, l, now);
        }
        p->next_video_us += 1000000 / load_run.media.fps;
        if (p->next_video_us < now) {
            p->next_video_us = now;     /* late: never send a burst */
        }
    }
    if (now >= p->next_rtcp_us) {
        load_send_sr(p, now);
        p->next_rtcp_us = now + 1000000;
    }
}


static int
load_layer_of(load_peer_t *p, uint32_t ssrc)
{
    unsigned  l;

    for (l = 0; l < p->layers; l++) {
        if (p->video[l].ssrc == ssrc) {
            return (int) l;
        }
    }
    return -1;
}


static void
load_resend(load_peer_t *p, unsigned l, uint16_t seq, uint64_t now)
{
    load_tx_t    *tx = &p->video[l];
    load_hist_t  *h = &tx->hist[seq & (LOAD_HIST - 1)];
    uint8_t       b[LOAD_DGRAM];
    size_t        n;

    if (h->seq != seq || (uint16_t) (tx->seq - seq) > LOAD_HIST) {
        return;                           /* too old: forgotten */
    }
    n = load_vp8_packet(p, l, h, b, now, 1);
    tx->resent++;
    load_protect_send(p, b, n, 0);
}


/* RTCP from the server about what we send: NACK, PLI, FIR */
void
load_media_rtcp(load_peer_t *p, const uint8_t *buf, size_t len, uint64_t now)
{
    size_t                  off = 0;
    rooms_rtcp_hdr_t        h;
    rooms_rtcp_fb_t         fb;
    rooms_rtcp_fir_entry_t  fir[4];
    uint16_t                lost[256];
    int                     l, n, i;

    while (rooms_rtcp_next(buf, len, &off, &h) == ROOMS_RTCP_OK) {
        if ((h.pt != ROOMS_RTCP_RTPFB && h.pt != ROOMS_RTCP_PSFB)
            || rooms_rtcp_fb_parse(&h, &fb) != 0)
        {
            continue;
        }
        if (h.pt == ROOMS_RTCP_RTPFB && fb.fmt == ROOMS_RTCP_FMT_NACK) {
            l = load_layer_of(p, fb.media_ssrc);
            n = rooms_rtcp_nack_expand(&fb, lost, 256);
            p->nacks_in++;
            for (i = 0; l >= 0 && i < n; i++) {
                load_resend(p, (unsigned) l, lost[i], now);
            }
        } else if (h.pt == ROOMS_RTCP_PSFB && rooms_rtcp_is_pli(&fb)) {
            l = load_layer_of(p, fb.media_ssrc);
            p->plis++;
            if (load_run.opt.verbose > 1) {
                load_log(p, "PLI for %u: layer %d", fb.media_ssrc, l);
            }
            if (l >= 0) {
                p->key_wanted[l] = 1;
            }
        } else if (h.pt == ROOMS_RTCP_PSFB && fb.fmt == ROOMS_RTCP_FMT_FIR) {
            n = rooms_rtcp_fir_parse(&fb, fir, 4);
            for (i = 0; i < n && i < 4; i++) {
                l = load_layer_of(p, fir[i].ssrc);
                p->plis++;
                if (l >= 0) {
                    p->key_wanted[l] = 1;
                }
            }
        }
    }
}
