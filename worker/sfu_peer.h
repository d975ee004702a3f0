/*
 * sfu_peer.h: the SFU's private header of the media side, shared by
 * sfu.c, sfu_peer.c, sfu_select.c, sfu_media.c, sfu_feedback.c,
 * sfu_nack.c, sfu_rx.c and sfu_msg.c (which reads the streams map off
 * the lines): one participant's transport and m= lines (sfu_peer_t,
 * sfu_line_t), what the transport side of the SFU shares (sfu_net_t),
 * and the calls between those files.
 *
 * Owns: the shape of a peer (its ICE, DTLS and SRTP session, its lines,
 * what each line publishes or receives and the forwarding state of each
 * receiving line) and of a publisher stream's receive statistics.
 * Must never: hold a room or reach one except through the participant
 * it reports to (sfu_peer_t.part, which only sfu.c and sfu_select.c
 * follow).
 * May not: include <jansson.h>, include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>
 */

#ifndef ROOMS_SFU_PEER_H
#define ROOMS_SFU_PEER_H

#include "dtls.h"
#include "forward.h"
#include "bwe.h"
#include "ice.h"
#include "layer.h"
#include "nack.h"
#include "resend.h"
#include "rtp.h"
#include "sdp.h"
#include "speaker.h"
#include "srtp.h"
#include "twcc.h"

#include "sfu_int.h"


/* "<participant id>-<publisher mid>", the msid track id we announce */
#define SFU_TRACK_MAX        (SFU_ID_LEN + 1 + ROOMS_SDP_MID_MAX)

/*
 * NACK history per publisher video stream, shared by all its subscribers
 * (each keeps only its rewriting state): 128 slots of ROOMS_HIST_SLOT
 * bytes for a stream, or a simulcast's top layer, about 0.8 s of a 720p
 * one; a layer below it half its layer above's (each has about a third
 * of the packets).  It is allocated when the stream (the layer) is first
 * forwarded to someone and kept while it is published
 * (docs/architecture.md, "Memory", has what that makes per room); audio
 * has none.
 */
#define SFU_HIST_SLOTS       128

/* retransmissions one NACK packet may trigger: bounds an RTCP's burst */
#define SFU_NACK_MAX         64

/*
 * An answer is about 1 KiB per m= line (a bound line with RTX some
 * 1.2 KiB): 72 lines need under 90 KiB.  The answer SIGNAL also carries
 * the streams map (about 60 bytes a line) and JSON escaping of the CRLFs,
 * which nginx passes on whole; 192 KiB bounds all of it.
 */
#define SFU_ANSWER_MAX       (192 * 1024)

/*
 * Receiver reports to publishers: about one a second (RFC 3550 §6.2
 * spreads each interval over 0.5 to 1.5 times the nominal one, which
 * keeps the reports of many sessions from bunching on one poll).
 */
#define SFU_RR_INTERVAL_MS   1000


typedef struct sfu_line_s  sfu_line_t;

/*
 * The receive statistics of one publisher stream (RFC 3550 appendix A.1,
 * A.3 and A.8) and the last SR it sent, for our receiver reports.
 */
typedef struct {
    unsigned              started;        /* base_seq is set */
    unsigned              fresh;          /* a packet since the last RR */
    uint16_t              max_seq;        /* highest seq, modulo 2^16 */
    uint32_t              cycles;         /* wraps of max_seq, * 2^16 */
    uint32_t              base_seq;
    uint32_t              bad_seq;        /* the seq confirming a jump */
    uint32_t              received;       /* duplicates too, as A.3 */
    uint32_t              expected_prior; /* at the last RR */
    uint32_t              received_prior;

    /* A.8, in the stream's clock: jitter is scaled by 16 */
    unsigned              has_transit;
    uint32_t              last_ts;
    uint32_t              transit;
    uint32_t              jitter;

    unsigned              has_sr;
    uint32_t              lsr;            /* middle 32 bits of its NTP */
    uint64_t              sr_ms;          /* when it arrived */
} sfu_rx_t;


/*
 * One simulcast layer of a publishing video line (rid q, h or f): its
 * SSRC, learned from the rid header extension of its first packets, its
 * receive statistics, its keyframe throttle, and what the layer chooser
 * reads of it (sfu_line_t.lpub: size from its keyframes, bitrate over the
 * last second, whether it is arriving).
 */
typedef struct {
    char                  rid[ROOMS_SDP_RID_MAX + 1];
    unsigned              has_ssrc;
    uint32_t              ssrc;
    uint32_t              rtx_ssrc;       /* learned by repaired-rid; 0 */
    sfu_rx_t              rx;
    rooms_kf_throttle_t   kf;
    uint64_t              win_start;      /* ms: this bitrate window's */
    uint64_t              win_bytes;
    uint64_t              last_ms;        /* its latest packet */
    rooms_hist_t          hist;           /* its packets, as they came */
} sfu_layer_t;

/*
 * A layer that sent nothing for this long is not arriving (a browser
 * stops a layer its encoder or its estimate cannot afford): its
 * subscribers move to another at once, since they see nothing until a
 * keyframe of the new one.  Five frame intervals at 10 fps, the slowest a
 * sending layer goes.
 */
#define SFU_LAYER_IDLE_MS    500

/*
 * A gap in a publisher's sequence numbers up to this many packets is
 * NACKed at once (and again while a repair is late: sfu_nack.c); a
 * longer gap is an outage a keyframe repairs better.
 */
#define SFU_NACK_GAP_MAX     64

/*
 * Publisher lines one sfu_poll() asks a keyframe for because of gaps
 * given up: each publisher asks at most once a second (nack.h), and
 * more than this many giving up in the same poll is rare.
 */
#define SFU_NACK_KF_MAX      16

/*
 * Layers are chosen again this often: a layer that stops or starts
 * arriving is noticed within it, and the chooser's 2 s hold before going
 * up is measured in its steps.
 */
#define SFU_LAYERS_INTERVAL_MS  250

/*
 * The estimate layers are chosen in for a subscriber that negotiated no
 * transport-cc (so has no estimate of its own): enough for every tile at
 * the layer its size asks for, so size alone decides.
 */
#define SFU_NO_ESTIMATE      100000000

/*
 * A subscriber's estimate starts at 800 kbit/s: above the audio of a few
 * people and the small layers of the first tiles (so video starts at
 * once), far below what a working link carries, which probing then finds
 * within a few seconds; it never goes below 50 kbit/s (audio for a few)
 * nor above 20 Mbit/s (16 tiles of 720p with room to spare).
 */
#define SFU_BWE_START_BPS    800000
#define SFU_BWE_MIN_BPS      50000
#define SFU_BWE_MAX_BPS      20000000


/* one m= line of a participant's last offer */
struct sfu_line_s {
    sfu_peer_t           *owner;
    unsigned              index;
    unsigned              used;           /* in the last offer */
    char                  mid[ROOMS_SDP_MID_MAX + 1];
    rooms_sdp_kind_e      kind;
    rooms_sdp_neg_t       neg;            /* what the answer accepted */

    /* a publishing line: accepted, and the offer sends on it */
    unsigned              publishing;
    unsigned              has_ssrc;       /* announced or learned */
    uint32_t              ssrc;
    uint32_t              rtx_ssrc;
    sfu_queue_t           subscribers;    /* of sfu_line_t.sub_link */
    rooms_kf_throttle_t   kf;
    unsigned              kf_queued;
    sfu_queue_t           kf_link;        /* in sfu_net_t.kf_pending */
    uint64_t              rx_packets;
    sfu_rx_t              rx;             /* of ssrc, for our RRs */
    rooms_hist_t          hist;           /* video: its packets as they
                                             came (not simulcast: each
                                             layer has its own) */
    unsigned              hist_failed;    /* no memory for one: said */
    rooms_voice_t         voice;          /* audio: how loud, by its
                                             audio levels (speaker.h) */

    /*
     * Simulcast: its layers in the offer's a=simulcast order (by size,
     * smallest first, as the client sends them); 0 for one stream.  Then
     * ssrc and rx above are unused, and has_ssrc says some layer is known.
     */
    unsigned              nlayers;
    sfu_layer_t           layers[ROOMS_LAYER_MAX];
    rooms_layer_pub_t     lpub;

    /*
     * A receiving line: accepted, and the offer only receives on it.
     * Once it first carries a stream it keeps its outgoing stream (SSRC,
     * rewriting state, RTX) while the line exists, whichever stream
     * feeds it: re-pointed to another one, the subscriber sees one
     * continuous stream (forward.h).  Its NACKs are answered from the
     * history of the stream it carries, through its rewriting.
     */
    unsigned              receiving;
    unsigned              announced;      /* the last answer sent on it */
    sfu_line_t           *bound;          /* the stream it carries */
    uint64_t              bound_ms;       /* since when */
    int                   layer;          /* of a simulcast bound: the one
                                             forwarded, ROOMS_LAYER_NONE */
    int                   target;         /* the one chosen: forwarded
                                             from its next keyframe on */
    uint64_t              kf_wait_ms;     /* since when it has seen its
                                             target's packets but no
                                             keyframe yet; 0: not waiting */
    sfu_queue_t           sub_link;       /* in bound->subscribers */
    unsigned              fwd_first;      /* since bound: a packet went */
    unsigned              fwd_keyframe;   /* since bound: a keyframe went */
    uint32_t              out_ssrc;       /* 0: never carried one */
    uint32_t              rtx_out_ssrc;   /* 0: none; RFC 4588 resends */
    uint16_t              rtx_seq;        /* the next RTX packet's */
    char                  track[SFU_TRACK_MAX + 1];
    rooms_fwd_t           fwd;
};


/* one participant's transport: its session and its m= lines */
struct sfu_peer_s {
    sfu_part_t           *part;           /* whom it reports to */
    char                  id[SFU_ID_LEN + 1];   /* its participant's */

    unsigned              answered;       /* answers sent */
    unsigned              map_changed;    /* since the last map it got */

    /* its m= lines, all reserved inline (docs/architecture.md) */
    unsigned              nlines;
    sfu_line_t            lines[ROOMS_SDP_MAX_MEDIA];
    uint16_t              ext_mid;        /* its mid extension id, 0: none */
    uint16_t              ext_rid;        /* its rid extension id, 0: none */
    uint16_t              ext_rrid;       /* repaired-rid's, 0: none */

    /* the media session, made by the first offer */
    unsigned              has_session;
    uint32_t              ice_id;
    char                  ufrag[ROOMS_ICE_GEN_UFRAG_LEN + 1];
    char                  pwd[ROOMS_ICE_GEN_PWD_LEN + 1];
    char                  remote_ufrag[ROOMS_SDP_UFRAG_MAX + 1];
    uint8_t               remote_fp[ROOMS_DTLS_FP_LEN];
    uint64_t              sdp_id;
    uint64_t              sdp_version;
    rooms_dtls_t          dtls;
    unsigned              in_handshake;
    sfu_queue_t           hs_link;        /* in sfu_net_t.handshakes */
    rooms_srtp_t          srtp;
    unsigned              srtp_ready;
    unsigned              has_addr;
    rooms_stun_addr_t     addr;           /* ICE's selected address */
    uint32_t              fb_ssrc;        /* sender SSRC of our RTCP */

    /* receiver reports: queued from DTLS connection to removal */
    unsigned              rr_queued;
    unsigned              rr_pos;         /* in sfu_net_t.rr_heap */
    uint64_t              rr_due;

    /*
     * Transport-wide congestion control towards the browser as sender:
     * the arrival of each packet that carries the transport-wide sequence
     * number (its id, ext_twcc, from the publishing lines' answer), and
     * the feedback it is owed (queued while some is, in twcc_pending).
     */
    uint16_t              ext_twcc;

    /* the simulcast layers it receives: the chooser's state (layer.h) */
    rooms_layer_state_t   lstate;
    uint32_t              want_bps;       /* what its tiles ask for */
    uint64_t              paused_told;    /* a digest of the lines paused
                                             for bandwidth it was last told
                                             of; 0: none */

    /*
     * Congestion control towards the browser as receiver: every packet
     * we send it carries our transport-wide sequence number (tx_seq, one
     * counter for the BUNDLE), recorded in bwe, which its transport
     * feedback then turns into its estimate.  Started by the first
     * receiving line that negotiates transport-cc.
     */
    unsigned              bwe_on;
    uint16_t              tx_seq;
    rooms_bwe_t           bwe;

    /*
     * Our repairs (NACK answers) towards it, by transport number, sent
     * again when its transport feedback reports them lost (resend.h).
     * Used while bwe_on: only then do they carry our numbers.
     */
    rooms_resend_t        resend;

    /*
     * A probe cluster being sent, one packet every probe_interval_us
     * (paced: a burst would reach the browser all in one feedback tick,
     * and say nothing of the link), in sfu_net_t.probing while it lasts.
     */
    unsigned              probe_left;
    uint8_t               probe_cluster;
    uint32_t              probe_bps;      /* the cluster's rate */
    int64_t               probe_next_us;
    int64_t               probe_interval_us;
    sfu_queue_t           probe_link;
    unsigned              twcc_queued;
    sfu_queue_t           twcc_link;      /* in sfu_net_t.twcc_pending */
    rooms_twcc_t          twcc;

    /*
     * The numbers of its streams we asked it for and still wait for
     * (sfu_nack.c): only their repairs go on to subscribers (a
     * publisher's RTX also probes its bandwidth with copies of what it
     * sent, which nobody needs twice), and a late one is asked again.
     * In sfu_net_t.nack_pending while it holds some; nack_due is never
     * later than its next due (rooms_nack_next()), so a poll before it
     * skips the tracker.
     */
    rooms_nack_t          nack;
    unsigned              nack_queued;
    uint64_t              nack_due;
    sfu_queue_t           nack_link;
};


/* what the transport side of the SFU shares */
struct sfu_net_s {
    rooms_ice_table_t    *ice;
    rooms_dtls_ctx_t     *dtls;
    uint8_t               fp[ROOMS_DTLS_FP_LEN];

    sfu_queue_t           handshakes;     /* of sfu_peer_t.hs_link */
    sfu_queue_t           twcc_pending;   /* of sfu_peer_t.twcc_link */
    sfu_queue_t           probing;        /* of sfu_peer_t.probe_link */
    sfu_queue_t           kf_pending;     /* of sfu_line_t.kf_link */
    sfu_queue_t           nack_pending;   /* of sfu_peer_t.nack_link */

    /* peers by their next receiver report, a min-heap on rr_due */
    sfu_peer_t          **rr_heap;        /* max_sessions entries */
    unsigned              rr_n;

    /* scratch, one at a time: the event loop is single-threaded */
    rooms_twcc_status_t  *twcc_st;        /* ROOMS_BWE_HISTORY entries */
    rooms_sdp_t          *offer;          /* sizeof: docs/architecture.md */
    char                 *answer;         /* SFU_ANSWER_MAX */
};


/* ---- sfu_peer.c: sessions, offers and answers, lines ---- */

int sfu_net_create(sfu_t *sfu, char *err, size_t errlen);
void sfu_net_free(sfu_t *sfu);

/*
 * Reads the offer sdp[0..len) of peer into sfu->net->offer, makes its
 * session on the first, follows an ICE restart, and updates its lines.
 * Returns 1 when its streams changed, 0 when not, or -1 with why set.
 */
int sfu_peer_offer(sfu_t *sfu, uint64_t now, sfu_peer_t *peer,
    const char *sdp, size_t len, char *why, size_t whylen);
/* writes the answer to the last offer into sfu->net->answer: its length */
int sfu_peer_answer(sfu_t *sfu, sfu_peer_t *peer);
/* the answer went out: what the browser now expects media on */
void sfu_peer_answer_sent(sfu_peer_t *peer);
/*
 * DTLS connected: the SRTP session from its keys, and receiver reports.
 * Returns 1, 0 when it was connected already, -1 when SRTP failed.
 */
int sfu_peer_connected(sfu_t *sfu, uint64_t now, sfu_peer_t *peer);
/* sends whatever DTLS has queued for peer */
void sfu_peer_dtls_flush(sfu_t *sfu, sfu_peer_t *peer, sfu_io_t *io);


/* ---- sfu_select.c: who receives what, pure functions ---- */

/* a kind as an index (SFU_AUDIO or SFU_VIDEO), and as a word */
unsigned sfu_kind_index(rooms_sdp_kind_e kind);
const char *sfu_kind_name(rooms_sdp_kind_e kind);
/* 1 when pub is a screen its publisher shares (sfu_share.c) */
unsigned sfu_line_is_screen(const sfu_line_t *pub);
/* 1 when pub may be given to others (not a screen refused or stopped) */
unsigned sfu_line_shown(const sfu_line_t *pub);
/* the line of peer that carries pub, or NULL */
sfu_line_t *sfu_line_of(const sfu_peer_t *peer, const sfu_line_t *pub);
void sfu_select_receiving(const sfu_peer_t *peer, unsigned have[2]);
unsigned sfu_select_voices(const sfu_part_t *p, sfu_line_t **cand,
    unsigned max);
unsigned sfu_select_audio_lines(const sfu_part_t *p, unsigned answering,
    sfu_line_t **lines, sfu_line_t **extra, unsigned *nextra);
unsigned sfu_select_video_lines(const sfu_peer_t *peer, unsigned answering,
    sfu_line_t **lines);
unsigned sfu_select_video(const sfu_part_t *p, sfu_line_t **chosen,
    unsigned max);
sfu_line_t *sfu_select_video_line(sfu_line_t *const *lines, unsigned nl,
    sfu_line_t *const *chosen, unsigned n);
unsigned sfu_select_tiles(const sfu_part_t *p, rooms_layer_tile_t *tiles,
    sfu_line_t **lines, unsigned max);


/* ---- sfu_voice.c: who is heard ---- */

/*
 * p's audio lines carry the loudest others again (speaker.h), re-pointed
 * in place (answering: any receiving audio line may take one).  Returns
 * how many voices p should hear but has no line for.
 */
unsigned sfu_voice_assign(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    unsigned answering, sfu_io_t *io);
/* every room's choice again, when due: the next due, or SFU_NEVER */
uint64_t sfu_voice_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io);


/* ---- sfu_media.c: bindings, forwarding, requests to publishers ---- */

int sfu_bind(sfu_t *sfu, uint64_t now, sfu_peer_t *peer, sfu_line_t *l,
    sfu_line_t *pub, sfu_io_t *io);
void sfu_unbind(sfu_line_t *l);
void sfu_unpublish(sfu_line_t *l);
/* a publishing line's NACK histories (its own, its layers') go */
void sfu_hist_drop(sfu_line_t *l);
void sfu_want_keyframe(sfu_t *sfu, uint64_t now, sfu_line_t *pub,
    sfu_io_t *io);
/* a keyframe of each video stream peer receives (its new subscriptions) */
void sfu_want_keyframes(sfu_t *sfu, uint64_t now, sfu_peer_t *peer,
    sfu_io_t *io);
/* keyframe requests the throttle held back: the next due, or SFU_NEVER */
uint64_t sfu_keyframes_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io);
/* one SRTP-unprotected packet from peer that arrived at now_us */
void sfu_rtp(sfu_t *sfu, uint64_t now_us, sfu_peer_t *peer,
    const uint8_t *buf, size_t len, sfu_io_t *io);
/* the RTP clock of the codecs we accept: Opus and VP8 */
uint32_t sfu_clock_rate(rooms_sdp_kind_e kind);
/*
 * For sfu_feedback.c's resends and probes (contracts at each definition):
 * packet pkt as line sub forwards it, with sub's extension ids; a kept
 * packet as sub's RTX; RTX padding of about bytes; our next
 * transport-wide number stamped on a packet for subscriber s; the NACK
 * history of stream pub (layer li, or -1).
 */
size_t sfu_media_build(const sfu_line_t *sub, const rooms_rtp_t *pkt,
    const uint8_t *abs, const uint8_t *level, uint8_t *out);
size_t sfu_media_build_rtx(sfu_line_t *sub, const uint8_t *pkt, size_t len,
    uint8_t *out);
size_t sfu_media_build_padding(sfu_line_t *sub, size_t bytes, uint8_t *out);
void sfu_media_stamp(sfu_peer_t *s, uint64_t now_us, uint8_t *pkt,
    size_t len, unsigned cluster);
rooms_hist_t *sfu_media_hist(sfu_t *sfu, sfu_line_t *pub, int li,
    unsigned create);


/* ---- sfu_nack.c: NACKs up to publishers, and their retries ---- */

/*
 * seq of publisher stream pub (layer li of a simulcast line, or -1)
 * arrived past a gap: every number missing since the highest before it
 * (SFU_NACK_GAP_MAX at most) is asked for, and tracked.
 */
void sfu_nack_gap(sfu_t *sfu, uint64_t now, sfu_line_t *pub, int li,
    uint16_t seq, sfu_io_t *io);
/*
 * Numbers lost[0..nlost) of stream pub (layer li, or -1) are wanted (a
 * subscriber asked for them, and we never got them): a NACK for those
 * not asked for already (rooms_nack_ask()), from our feedback SSRC.
 */
void sfu_nack_up(sfu_t *sfu, uint64_t now, sfu_line_t *pub, int li,
    const uint16_t *lost, size_t nlost, sfu_io_t *io);
/*
 * Packet seq of stream pub (layer li, or -1) arrived at now, as a repair
 * or late: 1 when it is one we asked for and still waited for (a repair
 * goes on to subscribers only then), 0 otherwise.
 */
unsigned sfu_nack_arrived(sfu_t *sfu, uint64_t now, sfu_line_t *pub, int li,
    uint16_t seq, unsigned repair);
/*
 * The NACKs due again at now: the next due, or SFU_NEVER.  The publisher
 * lines with numbers just given up that want a keyframe (nack.h) go to
 * kf[0..cap), their count in *nkf, for the caller to ask (this file
 * must not: sfu_media.c calls it); beyond cap one is not asked (the
 * receivers' own request remains).
 */
uint64_t sfu_nack_poll(sfu_t *sfu, uint64_t now, sfu_line_t **kf,
    size_t cap, size_t *nkf, sfu_io_t *io);
/* stream pub (layer li, or -1: every one of the line) stops or restarts */
void sfu_nack_forget(sfu_line_t *pub, int li);
/* peer goes: nothing more is asked of it */
void sfu_nack_cancel(sfu_peer_t *peer);


/* ---- sfu_feedback.c: RTCP answered, the estimator's probes ---- */

/* one SRTCP-unprotected compound from peer that arrived at now (ms) */
void sfu_rtcp(sfu_t *sfu, uint64_t now, sfu_peer_t *peer, const uint8_t *buf,
    size_t len, sfu_io_t *io);
/*
 * Asks peer's estimator whether to probe above its estimate, and sends
 * the probe (RTX of the newest packet of a video line) when it says so.
 */
void sfu_bwe_probe(sfu_t *sfu, uint64_t now, sfu_peer_t *peer, sfu_io_t *io);
/* the probe packets due by now: the next due, or SFU_NEVER */
uint64_t sfu_probe_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io);
/* peer's probe cluster in flight, if any, is dropped (peer goes) */
void sfu_probe_cancel(sfu_peer_t *peer);


/* ---- sfu_rx.c: receive statistics and receiver reports ---- */

void sfu_rx_packet(sfu_rx_t *rx, uint64_t now, uint32_t clock,
    uint16_t seq, uint32_t ts);
void sfu_rx_sender_report(uint64_t now, sfu_peer_t *peer, uint32_t ssrc,
    uint32_t ntp_sec, uint32_t ntp_frac);
void sfu_rr_start(sfu_t *sfu, uint64_t now, sfu_peer_t *peer);
void sfu_rr_cancel(sfu_t *sfu, sfu_peer_t *peer);
/* receiver reports due at now: the next due, or SFU_NEVER */
uint64_t sfu_rr_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io);
/* records the arrival of pkt for peer's transport feedback */
void sfu_twcc_packet(sfu_t *sfu, uint64_t now_us, sfu_peer_t *peer,
    const rooms_rtp_t *pkt);
/* transport feedback due by now_ms: the next due, or SFU_NEVER */
uint64_t sfu_twcc_poll(sfu_t *sfu, uint64_t now_ms, sfu_io_t *io);
void sfu_twcc_cancel(sfu_peer_t *peer);


#endif /* ROOMS_SFU_PEER_H */
