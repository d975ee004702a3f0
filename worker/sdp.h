/*
 * sdp.h: the SDP core of the media worker: offers in, answers out.
 *
 * Owns: parsing a browser's offer into a fixed-size, bounded structure
 * (rooms_sdp_t), the choice of what we accept from it (one rule, used by
 * both the answer text and the SFU, so they can never disagree), the
 * ICE-lite answer text, and accessors the SFU uses to learn the
 * publisher's SSRCs and simulcast rids.
 *
 * Must never: allocate, read the clock, do I/O, keep state between calls,
 * or truncate silently.  Every bound below is a hard limit: input over a
 * bound is refused with an error, never cut, so what the SFU acts on is
 * exactly what the browser said.  It is sans-IO: the event loop passes
 * text in and sends the answer text out through signaling.
 *
 * The structures are large (rooms_sdp_t's size is in docs/architecture.md,
 * "Memory"; every bound is reserved inline): keep them static or on the
 * heap, never on a small thread stack.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h
 */

#ifndef ROOMS_SDP_H
#define ROOMS_SDP_H

#include <stddef.h>
#include <stdint.h>


/*
 * m= lines in one description.  A participant of a 50-person room
 * offers its own sendonly lines (a microphone, a camera, a screen: 4 at
 * most in practice) and the receiving lines the SFU asks for: up to
 * ROOMS_AUDIO_SLOTS_MAX (8) audio and ROOMS_VIDEO_SLOTS_MAX (16) video
 * (docs/protocol.md, "Who you see and hear"); 72 is what it was when
 * everyone heard all 49 others, and leaves room.  Every structure below
 * that reserves a line inline grows with it, rooms_sdp_t most of all.
 */
#define ROOMS_SDP_MAX_MEDIA        72

/*
 * Payload types listed on one m= line.  The brief said 32, but Chromium
 * 156 offers 34 video payload types on a recvonly transceiver (see
 * tests/fixtures/sdp/chromium156-recvonly-2a2v.sdp); 64 leaves room for
 * the codecs browsers add next.  There are only 128 payload types.
 */
#define ROOMS_SDP_MAX_PT           64

/* a=extmap per m= line: Chromium offers 13 for simulcast video */
#define ROOMS_SDP_MAX_EXTMAP       16

/* a=ssrc per m= line: 3 simulcast layers with RTX each is 6 */
#define ROOMS_SDP_MAX_SSRC         8
#define ROOMS_SDP_MAX_FID          (ROOMS_SDP_MAX_SSRC / 2)

/* simulcast layers (and a=rid lines): the SFU forwards q, h and f */
#define ROOMS_SDP_MAX_RID          3

/* one line, terminator excluded; real lines are under 200 bytes */
#define ROOMS_SDP_MAX_LINE         4096

/*
 * ICE credentials (RFC 8839): 4 to 256 ice-chars for the ufrag, 22 to
 * 256 for the password.  The minimums matter: the password keys the
 * STUN MESSAGE-INTEGRITY that guards the UDP port.
 */
#define ROOMS_SDP_UFRAG_MIN        4
#define ROOMS_SDP_UFRAG_MAX        256
#define ROOMS_SDP_PWD_MIN          22
#define ROOMS_SDP_PWD_MAX          256

/* sha-256 is the only fingerprint accepted: 32 bytes */
#define ROOMS_SDP_FP_LEN           32

/*
 * mid and rid values travel in the sdes:mid and rtp-stream-id RTP header
 * extensions, whose one-byte form carries at most 16 bytes.
 */
#define ROOMS_SDP_MID_MAX          16
#define ROOMS_SDP_RID_MAX          16

/* msid-id and msid-appdata: 1*64token-char (RFC 8830) */
#define ROOMS_SDP_MSID_MAX         64

/* an RTCP SDES item, CNAME included, is at most 255 bytes */
#define ROOMS_SDP_CNAME_MAX        255

/* encoding names are short ("telephone-event" is the longest in use) */
#define ROOMS_SDP_CODEC_MAX        32

/* H.264 fmtp lines from browsers are about 70 bytes; room for more */
#define ROOMS_SDP_FMTP_MAX         256

/* header extension URIs: the longest Chromium offers is 87 bytes */
#define ROOMS_SDP_URI_MAX          255

/* m= media names, protocols and non-RTP format tokens */
#define ROOMS_SDP_TOKEN_MAX        32


typedef enum {
    ROOMS_SDP_KIND_OTHER = 0,          /* text, message, ...: rejected */
    ROOMS_SDP_KIND_AUDIO,
    ROOMS_SDP_KIND_VIDEO,
    ROOMS_SDP_KIND_APPLICATION
} rooms_sdp_kind_e;

/* directions are two bits, so an answer's direction is the offer's swapped */
#define ROOMS_SDP_SEND             0x01
#define ROOMS_SDP_RECV             0x02
#define ROOMS_SDP_INACTIVE         0x00
#define ROOMS_SDP_SENDONLY         ROOMS_SDP_SEND
#define ROOMS_SDP_RECVONLY         ROOMS_SDP_RECV
#define ROOMS_SDP_SENDRECV         (ROOMS_SDP_SEND | ROOMS_SDP_RECV)

typedef enum {
    ROOMS_SDP_SETUP_NONE = 0,          /* absent: RFC 4145 reads "active" */
    ROOMS_SDP_SETUP_ACTPASS,
    ROOMS_SDP_SETUP_ACTIVE,
    ROOMS_SDP_SETUP_PASSIVE,
    ROOMS_SDP_SETUP_HOLDCONN
} rooms_sdp_setup_e;

/* the rtcp-fb kinds the SFU understands; others are read and dropped */
#define ROOMS_SDP_FB_NACK          0x01    /* nack */
#define ROOMS_SDP_FB_PLI           0x02    /* nack pli */
#define ROOMS_SDP_FB_FIR           0x04    /* ccm fir */
#define ROOMS_SDP_FB_REMB          0x08    /* goog-remb */
#define ROOMS_SDP_FB_TWCC          0x10    /* transport-cc */

/*
 * The feedback an answer may name: only what the worker honours.  On
 * video it answers NACK (with RTX or a resend), PLI and FIR.  On every
 * line, transport-cc and the transport-wide-cc extension: the worker
 * sends transport feedback for what it receives (sfu_rx.c), so the
 * browser's send-side estimator ramps up, and stamps its own transport
 * sequence numbers on what it sends and reads the browser's feedback
 * (sfu_media.c, sfu_feedback.c), to estimate each subscriber's link
 * (bwe.h).  It sends no REMB: a browser told to expect feedback that
 * never comes holds its send-side estimate at the floor (Chromium:
 * 30 kbit/s, 320x240 at 10 fps).
 */
#define ROOMS_SDP_FB_ANSWER_VIDEO                                           \
    (ROOMS_SDP_FB_NACK | ROOMS_SDP_FB_PLI | ROOMS_SDP_FB_FIR              \
     | ROOMS_SDP_FB_TWCC)
#define ROOMS_SDP_FB_ANSWER_AUDIO  ROOMS_SDP_FB_TWCC


/* the header extensions we keep (all others are never answered) */
#define ROOMS_SDP_EXT_MID                                                   \
    "urn:ietf:params:rtp-hdrext:sdes:mid"
#define ROOMS_SDP_EXT_ABS_SEND_TIME                                         \
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define ROOMS_SDP_EXT_AUDIO_LEVEL                                           \
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define ROOMS_SDP_EXT_TWCC                                                  \
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define ROOMS_SDP_EXT_RID                                                   \
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define ROOMS_SDP_EXT_RRID                                                  \
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"


/* one payload type of an m= line, with its rtpmap, fmtp and rtcp-fb */
typedef struct {
    uint8_t     pt;
    uint8_t     has_rtpmap;
    uint8_t     has_fmtp;
    uint8_t     channels;              /* 0 when the rtpmap has none */
    uint8_t     fb;                    /* ROOMS_SDP_FB_* */
    int16_t     apt;                   /* fmtp apt= (RTX), -1 when absent */
    uint32_t    clock;                 /* 0 without an rtpmap */
    char        name[ROOMS_SDP_CODEC_MAX + 1];
    char        fmtp[ROOMS_SDP_FMTP_MAX + 1];
} rooms_sdp_codec_t;

typedef struct {
    uint16_t    id;                    /* 1..255 */
    char        uri[ROOMS_SDP_URI_MAX + 1];
} rooms_sdp_extmap_t;

typedef struct {
    uint32_t    ssrc;
    char        cname[ROOMS_SDP_CNAME_MAX + 1];
} rooms_sdp_ssrc_t;

/* a=ssrc-group:FID primary rtx */
typedef struct {
    uint32_t    primary;
    uint32_t    rtx;
} rooms_sdp_fid_t;

typedef struct {
    char        id[ROOMS_SDP_RID_MAX + 1];
    uint8_t     direction;             /* ROOMS_SDP_SEND or ROOMS_SDP_RECV */
} rooms_sdp_rid_t;

/* one stream of an a=simulcast list (its first alternative) */
typedef struct {
    char        rid[ROOMS_SDP_RID_MAX + 1];
    uint8_t     paused;                /* written "~rid" */
} rooms_sdp_sim_t;

typedef struct {
    rooms_sdp_kind_e    kind;
    uint16_t            port;
    uint8_t             direction;     /* ROOMS_SDP_SENDRECV when absent */
    uint8_t             setup;         /* rooms_sdp_setup_e */
    uint8_t             rtcp_mux;
    uint8_t             rtcp_rsize;
    uint8_t             bundle_only;
    char                media[ROOMS_SDP_TOKEN_MAX + 1];  /* as written */
    char                proto[ROOMS_SDP_TOKEN_MAX + 1];
    char                fmt[ROOMS_SDP_TOKEN_MAX + 1];    /* first format */
    char                mid[ROOMS_SDP_MID_MAX + 1];

    /* media level, or else session level (already resolved) */
    char                ice_ufrag[ROOMS_SDP_UFRAG_MAX + 1];
    char                ice_pwd[ROOMS_SDP_PWD_MAX + 1];
    unsigned char       fingerprint[ROOMS_SDP_FP_LEN];
    size_t              fingerprint_len;  /* 32, or 0 when none */

    char                msid_stream[ROOMS_SDP_MSID_MAX + 1];
    char                msid_track[ROOMS_SDP_MSID_MAX + 1];

    /* audio and video: in m= line order */
    rooms_sdp_codec_t   codecs[ROOMS_SDP_MAX_PT];
    unsigned            ncodecs;

    rooms_sdp_extmap_t  extmaps[ROOMS_SDP_MAX_EXTMAP];
    unsigned            nextmaps;

    rooms_sdp_ssrc_t    ssrcs[ROOMS_SDP_MAX_SSRC];
    unsigned            nssrcs;
    rooms_sdp_fid_t     fids[ROOMS_SDP_MAX_FID];
    unsigned            nfids;

    rooms_sdp_rid_t     rids[ROOMS_SDP_MAX_RID];
    unsigned            nrids;
    rooms_sdp_sim_t     sim_send[ROOMS_SDP_MAX_RID];
    unsigned            nsim_send;
    rooms_sdp_sim_t     sim_recv[ROOMS_SDP_MAX_RID];
    unsigned            nsim_recv;

    /* application (data channel) */
    uint16_t            sctp_port;        /* 0 when absent */
    uint32_t            max_message_size; /* 0 when absent */
} rooms_sdp_media_t;

typedef struct {
    /*
     * The transport: the credentials, fingerprint and setup role of the
     * first m= line with a port (the offerer's BUNDLE tag in practice).
     */
    char                ice_ufrag[ROOMS_SDP_UFRAG_MAX + 1];
    char                ice_pwd[ROOMS_SDP_PWD_MAX + 1];
    unsigned char       fingerprint[ROOMS_SDP_FP_LEN];
    size_t              fingerprint_len;
    uint8_t             setup;

    uint8_t             ice_lite;
    uint8_t             extmap_allow_mixed;

    char                bundle[ROOMS_SDP_MAX_MEDIA][ROOMS_SDP_MID_MAX + 1];
    unsigned            nbundle;          /* 0: no BUNDLE group */

    rooms_sdp_media_t   media[ROOMS_SDP_MAX_MEDIA];
    unsigned            nmedia;
} rooms_sdp_t;


/*
 * What we accept from one m= line of an offer.  rooms_sdp_answer() writes
 * exactly this, and the SFU reads it to know the payload types and header
 * extension ids in use.
 */
typedef struct {
    uint8_t             accepted;         /* port > 0 in the answer */
    uint8_t             direction;        /* the answer's direction */
    int                 pt;               /* Opus or VP8; -1 when none */
    int                 rtx_pt;           /* VP8's RTX; -1 when none */
    uint8_t             fb;               /* ROOMS_SDP_FB_* kept for pt */
    uint8_t             rtcp_rsize;
    uint8_t             simulcast;        /* answered a=simulcast:recv */

    /* header extension ids, 0 when not negotiated */
    uint16_t            ext_mid;
    uint16_t            ext_abs_send_time;
    uint16_t            ext_audio_level;
    uint16_t            ext_twcc;
    uint16_t            ext_rid;
    uint16_t            ext_rrid;

    const char         *reason;          /* why rejected; NULL if accepted */
} rooms_sdp_neg_t;


/*
 * what we send on one m= line; all zero announces nothing.  hold keeps
 * our sending direction out of the answer (sendonly becomes inactive,
 * sendrecv becomes recvonly): the SFU sets it on a receiving m= line it
 * has no remote stream for, so the browser expects no media there.
 */
typedef struct {
    uint32_t            ssrc;             /* 0: no a=ssrc (never used) */
    uint32_t            rtx_ssrc;         /* 0: none */
    const char         *msid_stream;      /* NULL: no a=msid */
    const char         *msid_track;       /* NULL: stream only */
    uint8_t             hold;             /* 1: answer without SEND */
} rooms_sdp_send_t;

/*
 * The most candidates an answer carries: a line each in every answer,
 * and checks from each browser towards each; a host with more addresses
 * names the ones to use (rooms-worker --announce-ip).
 */
#define ROOMS_SDP_MAX_CANDS   32

/* one host candidate of ours (RFC 8445 5.1.1.1; TCP: RFC 6544 passive) */
typedef struct {
    char                ip[46];           /* IPv4 or IPv6 literal */
    uint16_t            port;
    uint8_t             tcp;              /* 1: "tcp ... tcptype passive" */
    uint32_t            priority;         /* RFC 8445 5.1.2.1 */
} rooms_sdp_cand_t;

/* our side of the answer */
typedef struct {
    const char         *ice_ufrag;        /* 4..256 ice-chars */
    const char         *ice_pwd;          /* 22..256 ice-chars */
    unsigned char       fingerprint[ROOMS_SDP_FP_LEN]; /* our DTLS cert */
    const char         *ip;               /* IPv4 or IPv6 literal */
    uint16_t            port;             /* our UDP port, not 0 */

    /*
     * The candidates, in cands[0..ncands) (at most ROOMS_SDP_MAX_CANDS);
     * none: one UDP host candidate at ip and port.  ip and port still
     * fill c= and m= (RFC 8839: ignored by ICE agents, but required).
     */
    const rooms_sdp_cand_t  *cands;
    unsigned            ncands;
    uint64_t            session_id;       /* o= line, the caller's choice */
    uint64_t            session_version;
    const char         *cname;            /* needed when any ssrc is set */
    rooms_sdp_send_t    send[ROOMS_SDP_MAX_MEDIA];  /* by m= line index */
} rooms_sdp_local_t;

/* one source a publisher sends on an m= line */
typedef struct {
    uint32_t            ssrc;
    uint32_t            rtx_ssrc;
    uint8_t             has_ssrc;         /* 0 for rid-only simulcast */
    uint8_t             has_rtx;
    uint8_t             paused;
    char                rid[ROOMS_SDP_RID_MAX + 1];  /* "" without rids */
} rooms_sdp_source_t;


/* rooms_sdp_answer() failures */
#define ROOMS_SDP_ENOSPC           -1     /* out too small */
#define ROOMS_SDP_ELOCAL           -2     /* a local field is malformed */
#define ROOMS_SDP_EROLE            -3     /* offer wants us DTLS client */
#define ROOMS_SDP_ELITE            -4     /* offer is ICE-lite too */


/*
 * Parses text[0..len) (CRLF or LF line ends; no NUL needed or allowed)
 * into *out, which is overwritten entirely.  Returns 0, or -1 with a
 * one-line reason in err (always NUL-terminated when errlen > 0; err may
 * be NULL).  On -1, *out holds no meaning.
 *
 * Refused: no "v=0" first line, a line over ROOMS_SDP_MAX_LINE bytes or
 * with control characters, anything over a bound above, malformed
 * numbers, audio/video not on UDP/TLS/RTP/SAVPF, an m= line without
 * a=mid, an m= line with a port but no ICE credentials or no sha-256
 * fingerprint, and references that do not resolve (BUNDLE mids, FID
 * SSRCs, simulcast rids).  Unknown attributes are ignored.
 */
int rooms_sdp_parse(const char *text, size_t len, rooms_sdp_t *out,
    char *err, size_t errlen);

/*
 * Decides what we accept from offer->media[index] into *neg: Opus 48000/2
 * for audio, VP8 (and its RTX) for video, only when the m= line has
 * rtcp-mux and is in the offer's BUNDLE group (or, without one, is the
 * first acceptable line).  Data channels are rejected for now.  Returns
 * 0, or -1 when index is out of range.
 */
int rooms_sdp_negotiate(const rooms_sdp_t *offer, unsigned index,
    rooms_sdp_neg_t *neg);

/*
 * Writes the ICE-lite answer to offer into out (NUL-terminated, CRLF
 * lines).  The same inputs always give the same bytes.  Returns the
 * length written, without the NUL, or a ROOMS_SDP_E* code (negative);
 * out is then not an answer.  The caller must check offer->setup of
 * later renegotiations itself: we are always the DTLS server.
 */
int rooms_sdp_answer(const rooms_sdp_t *offer, const rooms_sdp_local_t *local,
    char *out, size_t outlen);

/*
 * Lists what the publisher sends on m: one source per simulcast layer
 * (rid set, in a=simulcast order; SSRCs are learned from RTP later), or
 * else one per primary SSRC with its RTX SSRC from a=ssrc-group:FID.
 * Returns the count, or -1 when n entries are too few
 * (ROOMS_SDP_MAX_SSRC always suffice).
 */
int rooms_sdp_media_sources(const rooms_sdp_media_t *m,
    rooms_sdp_source_t *out, unsigned n);

/* The index of the m= line with this mid, or -1. */
int rooms_sdp_find_mid(const rooms_sdp_t *sdp, const char *mid);

/* The payload type pt of m, or NULL when the m= line does not list it. */
const rooms_sdp_codec_t *rooms_sdp_find_codec(const rooms_sdp_media_t *m,
    unsigned pt);

/* The id of the header extension uri on m, or 0. */
unsigned rooms_sdp_find_extmap(const rooms_sdp_media_t *m, const char *uri);


#endif /* ROOMS_SDP_H */
