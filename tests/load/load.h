/*
 * load.h: the shared records of rooms-load, the load tool that plays many
 * participants of ngx_rooms rooms from one process (docs/performance.md).
 *
 * Owns: the participant record (signaling, ICE, DTLS, SRTP, what it sends
 * and what it receives), the encoded media every participant replays, the
 * run's options and counters, and the contracts between the tool's files:
 * load_main.c (options, event loop, scenario), load_signal.c (HTTP and
 * WebSocket, the protocol as a browser speaks it), load_sdp.c (the offer a
 * browser would make, the answer read back), load_ice.c (a controlling ICE
 * agent), load_dtls.c (the DTLS client, the fingerprint check, the SRTP
 * keys), load_media.c (encoding once, pacing, packetising, resending),
 * load_rx.c (what arrives: counting, sampling, NACKs), load_report.c (the
 * figures and the table).
 * Must never: be linked into the media worker or the module; talk to the
 * media worker except through nginx and UDP, as a browser does.
 * May not: include sfu.h, include sfu_int.h, include sfu_peer.h
 */

#ifndef ROOMS_LOAD_H
#define ROOMS_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "srtp.h"
#include "twcc.h"


/* bounds: a run is at most this many participants and rooms */
#define LOAD_MAX_PEERS        200
#define LOAD_MAX_ROOMS        16
/* m= lines of one peer connection: toward ngx_rooms 2 of its own + 49
 * audio + 16 video (the worker's ROOMS_SDP_MAX_MEDIA is 72); a Janus
 * subscriber connection of a room of 50 has 49 + 16 */
#define LOAD_MAX_LINES        80
#define LOAD_LAYERS           3        /* q, h, f */
/* sent packets remembered per sending stream to answer NACKs: about 2 s
 * of the top layer; each entry is 16 bytes (the payload is the shared
 * encoded media, never copied) */
#define LOAD_HIST             512
/* gaps waiting for a retransmission, per receiving line */
#define LOAD_MISSING          64
#define LOAD_NACK_TRIES       6
/* what the receive window remembers to tell a duplicate or reordering
 * from a gap: a power of two of sequence numbers */
#define LOAD_RXWIN            1024
#define LOAD_DGRAM            1500
#define LOAD_PAYLOAD_MAX      1100     /* a VP8 fragment, as Chromium's */
#define LOAD_WS_MAX           (1 << 20)

/* the ids on the wire (our offer; the answer echoes them) */
#define LOAD_EXT_LEVEL        1
#define LOAD_EXT_ABS          2
#define LOAD_EXT_TWCC         3
#define LOAD_EXT_MID          4
#define LOAD_EXT_RID          10
#define LOAD_EXT_RRID         11
#define LOAD_PT_OPUS          111
#define LOAD_PT_VP8           96
#define LOAD_PT_RTX           97


/* ---- options and the run ----------------------------------------------- */

typedef struct {
    const char     *host;             /* nginx, "127.0.0.1" */
    unsigned        port;
    unsigned        rooms;
    unsigned        per_room;
    unsigned        spread_ms;        /* joins spread over this time */
    unsigned        seconds;          /* of media once everyone is in */
    double          loss;             /* 0..1, each direction */
    unsigned        delay_ms;         /* each direction */
    unsigned        sample;           /* 1 in N packets fully unprotected */
    unsigned        tile_w, tile_h;   /* the tile sizes in view */
    unsigned        speakers;         /* talking at a time */
    unsigned        audio_slots;      /* voices the server forwards to each
                                       * (its rooms_audio_slots); Janus:
                                       * everyone */
    int             worker_pid;       /* for /proc figures; 0 none */
    const char     *worker_pids;      /* "pid,pid": every media worker */
    const char     *nginx_pids;       /* "pid,pid" of nginx's workers */
    const char     *label;            /* the row's name */
    const char     *json;             /* write the figures here too */
    int             verbose;
    int             janus;            /* the target is Janus VideoRoom */
    unsigned        janus_http;       /* its HTTP API port (rooms) */
    const char     *local_ip;         /* our candidates' address */
    int             no_simulcast;     /* one layer (320x180), no rids */
} load_opts_t;


/* ---- the encoded media (load_media.c) ------------------------------- */

typedef struct {
    const uint8_t  *data;
    uint16_t        len;
} load_frag_t;

typedef struct {
    unsigned        nfrags;
    unsigned        first;            /* index of its first fragment */
    unsigned        keyframe;
} load_frame_t;

typedef struct {
    unsigned        width, height, kbps;
    unsigned        nframes;
    load_frame_t   *frames;
    unsigned        nfrags_all;
    load_frag_t    *frags;
} load_layer_t;

typedef struct {
    unsigned        fps;
    unsigned        nframes;
    load_layer_t    layer[LOAD_LAYERS];
    unsigned        naudio;           /* 20 ms packets */
    load_frag_t    *tone;
    load_frag_t    *quiet;
    /* hashes of every payload, for the check of unprotected samples */
    uint64_t       *hashes;
    size_t          nhashes;
} load_media_t;


/* ---- one participant ------------------------------------------------ */

typedef enum {
    LP_IDLE = 0, LP_CONNECTING, LP_UPGRADING, LP_JOINING, LP_IN,
    LP_LEAVING, LP_DONE, LP_FAILED
} lp_state_e;

typedef struct {
    uint16_t        seq;
    uint16_t        frag;             /* fragment index in its layer */
    uint32_t        ts;
    uint16_t        picture_id;
    uint8_t         marker, start;
} load_hist_t;

/* one stream we send: audio, or one video layer */
typedef struct {
    uint32_t        ssrc, rtx_ssrc;
    uint16_t        seq, rtx_seq;
    uint32_t        ts_base;
    uint64_t        packets, bytes, resent;
    uint64_t        last_sr_us;
    uint32_t        last_ts;
    load_hist_t     hist[LOAD_HIST];
} load_tx_t;

typedef struct {
    uint16_t        seq;
    uint8_t         tries;
    uint64_t        next_us;
} load_missing_t;

/* one m= line we receive on (its mid is its index) */
typedef struct {
    unsigned        kind;             /* 0 none, 'a', 'v' */
    unsigned        active;           /* the answer sends on it */
    char            mid[16];          /* Janus's offer names them */
    int             pt, rtx_pt;       /* Opus or VP8, its RTX; -1 */
    uint32_t        ssrc, rtx_ssrc;
    int             pub;              /* index of whose media, -1 none */
    /* sequence state */
    unsigned        started;
    int64_t         base, top;        /* extended seqs: first, highest */
    uint8_t         seen[LOAD_RXWIN / 8];
    uint64_t        packets, dups, reordered, lost, recovered;
    unsigned        nmissing;
    load_missing_t  missing[LOAD_MISSING];
} load_rx_t;

typedef struct load_peer_s  load_peer_t;

struct load_peer_s {
    unsigned        index, room;
    lp_state_e      state;
    char            id[64];
    char            name[32];
    int             host;             /* joins with the room's host key */
    unsigned        simulcast;        /* welcome said so */

    /* signaling */
    int             ws_fd;
    char           *in;
    size_t          in_len, in_cap;
    char           *out;
    size_t          out_len, out_cap, out_off;
    uint64_t        connect_us, open_us, welcome_us, answer_us;
    unsigned        want_audio, want_video;
    unsigned        negotiating, again, offers;
    char           *last_view;        /* the last `view` sent */
    char           *frag;             /* a fragmented message so far */
    size_t          frag_len, frag_cap;
    int             present[LOAD_MAX_PEERS]; /* in the room at our open */
    unsigned        npresent;
    char            close_reason[80];
    unsigned        close_code;
    unsigned        left_cleanly;

    /* Janus: a participant is two peer connections, the publisher's (this
     * record, with the WebSocket) and the subscriber's (its twin) */
    int             twin;             /* -1 for ngx_rooms */
    unsigned        is_sub;
    uint64_t        j_session, j_pub, j_sub;
    uint64_t        j_feed;           /* our publisher id in the room */
    unsigned        j_step;
    uint64_t        j_keepalive_us;
    uint64_t        j_feeds[LOAD_MAX_PEERS];
    unsigned        j_nfeeds, j_subscribed, j_sub_started, j_sub_busy;
    unsigned        j_videos;         /* video streams subscribed to */

    /* ICE */
    int             udp_fd;
    unsigned        controlled;       /* the answerer of a full-ICE offer */
    unsigned        got_nomination;
    unsigned        dtls_server;      /* the other side said setup:active */
    uint16_t        local_port;
    char            ufrag[8], pwd[32];
    char            rufrag[260], rpwd[260];
    struct sockaddr_in remote;
    unsigned        have_remote;
    unsigned        ice_done;
    uint8_t         tid[12];
    uint64_t        tiebreaker;
    uint64_t        next_check_us;
    unsigned        checks;
    uint64_t        ice_us, dtls_us, first_rx_us, joined_us;

    /* DTLS and SRTP */
    void           *ssl;              /* SSL * */
    uint8_t         rfp[32];
    unsigned        dtls_done;
    unsigned        fp_mismatch;
    rooms_srtp_t    srtp;
    unsigned        srtp_on;

    /* sending */
    unsigned        tx_on;
    unsigned        layers;           /* 1, or 3 with simulcast */
    load_tx_t       audio;
    load_tx_t       video[LOAD_LAYERS];
    unsigned        ext_level, ext_abs, ext_twcc, ext_mid, ext_rid,
                    ext_rrid;
    uint16_t        twcc_seq;
    uint64_t        next_audio_us, next_video_us;
    unsigned        aframe, vpos[LOAD_LAYERS];
    unsigned        key_wanted[LOAD_LAYERS];
    uint16_t        picture_id[LOAD_LAYERS];
    uint64_t        next_rtcp_us;
    uint64_t        plis, nacks_in;

    /* receiving */
    unsigned        nlines;
    load_rx_t       lines[LOAD_MAX_LINES];
    rooms_twcc_t    twcc;
    unsigned        rx_ext_mid, rx_ext_abs, rx_ext_twcc;
    uint64_t        next_nack_scan_us;
    /* first packet from each publisher, per kind: 0 none yet */
    uint64_t        first_a[LOAD_MAX_PEERS], first_v[LOAD_MAX_PEERS];
    uint64_t        rx_packets, rx_bytes, rx_rtcp, rx_rtx;
    uint64_t        sampled, corrupt, auth_fail, misrouted, nacks_out;
};


/* ---- the run's counters (load_report.c) ----------------------------- */

#define LOAD_LAT_BUCKETS      4096     /* 50 us each: up to 204.8 ms, then
                                          the last bucket holds the rest */

typedef struct {
    uint64_t        lat[LOAD_LAT_BUCKETS];
    uint64_t        lat_n;
    uint64_t        impaired_out, impaired_in;
} load_stats_t;


typedef struct {
    load_opts_t     opt;
    load_media_t    media;
    load_stats_t    stats;
    unsigned        npeers;           /* records: 2 per participant for Janus */
    unsigned        nlogical;         /* participants */
    load_peer_t    *peers;
    char            code[LOAD_MAX_ROOMS][64];
    char            host_key[LOAD_MAX_ROOMS][64];
    int             ep;               /* epoll */
    uint64_t        start_us;
    uint64_t        end_us;           /* the measured window's end; 0 before */
    uint64_t        media_from_us, media_to_us;  /* the measured window */
    unsigned        measuring;
    void           *dtls_ctx;         /* SSL_CTX * */
    char            fingerprint[128]; /* ours, "AB:CD:..." */
    unsigned        stopping;
} load_run_t;

extern load_run_t  load_run;


/* load_main.c */
uint64_t load_now_us(void);
/* whether participant `index` is talking in talk slot `slot` (the talk
 * pattern: a window of `speakers` moving through each room) */
int load_talking(unsigned index, unsigned slot);
/* the talk pattern's slot length: who talks changes this often */
#define LOAD_TALK_US      4000000
double load_random(void);            /* [0, 1) */
void load_random_bytes(void *buf, size_t n);
void load_log(load_peer_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* sends one datagram to the server, through the impairment */
void load_udp_send(load_peer_t *p, const uint8_t *buf, size_t len);
void load_fail(load_peer_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* load_signal.c */
int load_create_room(unsigned room);
int load_ws_start(load_peer_t *p);
int load_peer_by_id(const char *id);     /* index, or -1 */
void load_ws_event(load_peer_t *p, unsigned events);
void load_ws_leave(load_peer_t *p);
void load_ws_close(load_peer_t *p);
void load_ws_send_text(load_peer_t *p, const char *text);

/* load_janus.c: the same participant toward Janus VideoRoom */
int load_janus_create_room(unsigned room);
void load_janus_open(load_peer_t *p);
void load_janus_message(load_peer_t *p, const char *text, size_t len);
void load_janus_tick(load_peer_t *p, uint64_t now);
void load_janus_leave(load_peer_t *p);

/* load_sdp.c: the offer into buf (cap bytes); the answer read into p */
int load_sdp_offer(load_peer_t *p, char *buf, size_t cap);
int load_sdp_answer(load_peer_t *p, const char *sdp);
/* Janus's offer to a subscriber read into p, and our answer to it */
int load_sdp_janus_offer(load_peer_t *p, const char *sdp);
int load_sdp_janus_answer(load_peer_t *p, char *buf, size_t cap);

/* load_ice.c */
void load_ice_start(load_peer_t *p, uint64_t now);
void load_ice_tick(load_peer_t *p, uint64_t now);
void load_ice_input(load_peer_t *p, uint8_t *buf, size_t len, uint64_t now);

/* load_dtls.c */
int load_dtls_global(void);
int load_dtls_start(load_peer_t *p);
void load_dtls_input(load_peer_t *p, const uint8_t *buf, size_t len,
    uint64_t now);
void load_dtls_tick(load_peer_t *p, uint64_t now);
void load_dtls_free(load_peer_t *p);

/* load_media.c */
int load_media_encode(load_media_t *m, unsigned seconds, unsigned fps);
void load_media_start(load_peer_t *p, uint64_t now);
void load_media_tick(load_peer_t *p, uint64_t now);
void load_media_rtcp(load_peer_t *p, const uint8_t *buf, size_t len,
    uint64_t now);
int load_media_known(const uint8_t *payload, size_t len);
/* protects the plaintext RTCP compound b[0..n) in place (b has room for
 * the SRTCP trailer) and sends it */
void load_send_rtcp(load_peer_t *p, uint8_t *b, size_t n);

/* load_rx.c */
void load_rx_input(load_peer_t *p, uint8_t *buf, size_t len, uint64_t now);
void load_rx_tick(load_peer_t *p, uint64_t now);
void load_rx_line_reset(load_rx_t *l);
void load_rx_close(load_peer_t *p);   /* the trailing gaps count now */
void load_rx_close_line(load_rx_t *l);

/* load_report.c */
void load_report_latency(uint64_t us);
void load_report_proc_start(void);
void load_report_proc_mark(int end);
int load_report(void);   /* prints the row; 0 when behaviour held */

#endif /* ROOMS_LOAD_H */
