/*
 * sfu.c: rooms, participants, signaling and RTP forwarding (see sfu.h).
 *
 * Owns: the room and participant tables (each room's newest state by
 * revision, its idle linger and its host-absent deadline), each
 * participant's role and media session (ICE, DTLS, SRTP), the m= lines
 * of its last offer and what each line publishes or receives, and the
 * per-subscriber forwarding state.  Must
 * never read a clock, do I/O or block: time and bytes come in as
 * arguments and everything to send goes out through sfu_io_t.
 *
 * The model.  A participant's browser makes one RTCPeerConnection and is
 * always the offerer (docs/protocol.md).  Its own tracks are sendonly m=
 * lines ("publishing lines"); the others' streams arrive on its recvonly
 * m= lines ("receiving lines").  A publishing line is a stream.  Who
 * receives what (docs/protocol.md, "Who you see and hear"): every audio
 * stream of a room is bound, in every other participant, to one free
 * receiving audio line, up to ROOMS_RECV_AUDIO_MAX, and lasts while the
 * stream exists; video lines, up to the participant's video_slots, carry
 * the videos its last "view" chooses (its ids first, then join order).
 * A line gets its first stream only while answering that participant's
 * offer (so the answer announces it: the SSRC we send with and the msid
 * naming the publisher); after that the line keeps its outgoing stream
 * (SSRC, sequence and timestamp rewriting of forward.h, NACK history)
 * and may be re-pointed to another publisher between answers, when the
 * view or the room's videos change: its numbers continue, the publisher
 * is asked for a keyframe and the participant gets "streams", the whole
 * map.  A binding is the list link through which the stream finds its
 * subscribers in O(1) per packet.
 *
 * When the set of streams of a room changes (someone's first answer
 * publishes, or a stream or participant goes), every other participant
 * that has negotiated has its video lines chosen again and is asked to
 * "renegotiate" with the number of remote streams per kind, and binds
 * them when its offer comes.  A participant whose offer lacks receiving
 * lines is asked again, but never twice with the same counts, so a
 * client that cannot add lines does not loop.
 *
 * Forwarding rebuilds each packet's header extension block with the
 * subscriber's ids: its own mid value (Chromium demuxes by mid, so the
 * publisher's would misroute), abs-send-time and audio level when both
 * sides negotiated them; transport-wide-cc is left out (no feedback is
 * generated for it here).
 *
 * Losses.  A subscriber's NACK is answered from its binding's history:
 * as RTX packets (RFC 4588) on the RTX SSRC its answer announced in
 * a=ssrc-group:FID when its m= line negotiated RTX, or else by resending
 * the packet as it was.  The publisher's own RTX is never forwarded.
 * Towards each publisher the SFU is an RTP receiver: it keeps RFC 3550
 * receive statistics per stream (primary SSRCs) and the LSR of the
 * stream's last SR, and sends an SRTCP receiver report about once a
 * second from the session's random fb_ssrc; the browser's sender reads
 * loss and round-trip time from them.
 *
 * The lobby.  The worker is the one authority on who is in a room, so
 * the guests waiting at a "knock" room's door live here too: a
 * participant record in the room's lobby list instead of its parts, with
 * no media session, not counted, not shown to anyone but the hosts (knock,
 * lobby_left, the lobby list of a host's welcome).  admit moves it into
 * the room (sfu_admit(), where the capacity rule applies), deny and its
 * own leaving drop it.  Each change of a room's count is sent to every
 * linked nginx worker as a COUNT record.
 *
 * Roles.  The host holds the room's key; a co-host holds a co-host key
 * or was promoted by a host (cohost, uncohost, or a ROOM record's
 * demote), and the ROLE record tells nginx to draw or revoke its key.
 * Both moderate (the lobby, remove, mute) and get past the lock; for
 * capacity a co-host is a guest, so the host's place stays reserved.
 *
 * Room state.  Lock, admission, cap and host-absent policy come from
 * JOIN records (the room as nginx read it) and ROOM records (changes),
 * and the one with the higher revision wins: a JOIN built before a lock
 * the worker heard of is judged by the lock.  A room nobody is in or
 * waiting at is idle: its state lingers ROOMS_ROOM_LINGER_MS (a ROOM
 * record for an unknown room makes such an idle room), and sfu_poll()
 * frees it after that.
 *
 * Host absent.  When the last host or co-host goes from a room whose
 * policy is lock or end, a HOST_ABSENT record asks nginx to apply it: at
 * once after "leave", after the grace otherwise (unless one comes back);
 * an idle room is kept for that deadline.  nginx answers with a ROOM
 * record (reason host_absent) that the people in the room are told of.
 */

#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "rooms_limits.h"
#include "rooms_proto.h"
#include "rooms_room.h"
#include "rooms_token.h"

#include "dtls.h"
#include "forward.h"
#include "ice.h"
#include "rtcp.h"
#include "rtp.h"
#include "sdp.h"
#include "sfu.h"
#include "srtp.h"
#include "stun.h"


/* a participant id: 48 random bits as 8 base64url characters */
#define SFU_ID_LEN           8

/* a display name: 64 characters of up to 4 UTF-8 bytes (nginx checks) */
#define SFU_NAME_MAX         256

/* a room code, only kept for logs: codes are 22 characters */
#define SFU_CODE_MAX         63

/* "<participant id>-<publisher mid>", the msid track id we announce */
#define SFU_TRACK_MAX        (SFU_ID_LEN + 1 + ROOMS_SDP_MID_MAX)

/*
 * NACK history per receiving video line.  128 slots of 1500 bytes are
 * 188 KiB: over a second of 640x480 video, far above a LAN round trip.
 * It is per line (docs/architecture.md: sharing it per publisher stream
 * is the known next step), allocated when the line first carries a
 * stream and kept across re-pointings until the line goes; audio lines
 * have none.  A subscriber has at most ROOMS_VIDEO_SLOTS_MAX (16) video
 * lines, 3 MiB, so a full 50-person room holds some 150 MiB of them.
 */
#define SFU_HIST_SLOTS       128

/* retransmissions one NACK packet may trigger: bounds an RTCP's burst */
#define SFU_NACK_MAX         64

/*
 * Receiver reports to publishers: about one a second (RFC 3550 §6.2
 * spreads each interval over 0.5 to 1.5 times the nominal one, which
 * keeps the reports of many sessions from bunching on one poll).
 */
#define SFU_RR_INTERVAL_MS   1000

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

/*
 * An answer is about 1 KiB per m= line (a bound line with RTX some
 * 1.2 KiB): 72 lines need under 90 KiB.  The answer SIGNAL also carries
 * the streams map (about 60 bytes a line) and JSON escaping of the CRLFs,
 * which nginx passes on whole; 192 KiB bounds all of it.
 */
#define SFU_ANSWER_MAX       (192 * 1024)

/* a SIGNAL payload is one WebSocket message (nginx enforces the limit) */
#define SFU_MSG_MAX          ROOMS_WS_MESSAGE_MAX

/* hash table sizes (powers of two); chains stay short at the bounds */
#define SFU_CONN_BUCKETS     4096
#define SFU_ROOM_BUCKETS     1024

/* the CNAME of everything we send (one per process is enough) */
#define SFU_CNAME            "rooms"

/*
 * Idle rooms (nobody in them or waiting) whose state is kept for
 * ROOMS_ROOM_LINGER_MS.  A room goes idle at most as often as someone
 * leaves it or nginx changes one, so 4096 in 10 s is some 400 rooms
 * emptied a second, far above what one worker's sessions make; at a few
 * hundred bytes each they stay under 2 MiB.  Over the bound the one idle
 * longest goes first: losing an old state only lets a JOIN be judged by
 * what nginx read, as before revisions.
 */
#define SFU_LINGER_MAX       4096

/*
 * Rooms waiting for a host-absent deadline.  Each one lost its last host
 * or co-host within the grace (at most ROOMS_HOST_GRACE_MAX), so this is
 * far above what is live; over it the earliest deadline is handled at
 * once, which shortens one grace but never loses the policy.
 */
#define SFU_ABSENT_MAX       4096

/* what a JOIN or a ROOM record said of a room (sfu_state_t.has) */
#define SFU_KNOWS_MAX        0x01
#define SFU_KNOWS_LOCKED     0x02
#define SFU_KNOWS_KNOCK      0x04
#define SFU_KNOWS_ABSENT     0x08
#define SFU_KNOWS_GRACE      0x10

/* close codes (docs/protocol.md) */
#define SFU_CLOSE_NORMAL     1000
#define SFU_CLOSE_AGAIN      1013
#define SFU_CLOSE_BAD        4400
#define SFU_CLOSE_REFUSED    4403
#define SFU_CLOSE_TIMEOUT    4408


/* an intrusive doubly linked list, as nginx's ngx_queue_t */
typedef struct sfu_queue_s  sfu_queue_t;

struct sfu_queue_s {
    sfu_queue_t  *prev;
    sfu_queue_t  *next;
};

#define sfu_queue_init(q)      (q)->prev = (q); (q)->next = (q)
#define sfu_queue_empty(q)     ((q)->next == (q))
#define sfu_queue_data(q, type, link)                                       \
    ((type *) (void *) ((unsigned char *) (q) - offsetof(type, link)))


static void
sfu_queue_insert_tail(sfu_queue_t *h, sfu_queue_t *x)
{
    x->prev = h->prev;
    x->prev->next = x;
    x->next = h;
    h->prev = x;
}


static void
sfu_queue_remove(sfu_queue_t *x)
{
    x->next->prev = x->prev;
    x->prev->next = x->next;
    x->prev = x;
    x->next = x;
}


typedef struct sfu_room_s  sfu_room_t;
typedef struct sfu_part_s  sfu_part_t;
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


/* one m= line of a participant's last offer */
struct sfu_line_s {
    sfu_part_t           *owner;
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
    sfu_queue_t           kf_link;        /* in sfu_t.kf_pending */
    uint64_t              rx_packets;
    sfu_rx_t              rx;             /* of ssrc, for our RRs */

    /*
     * A receiving line: accepted, and the offer only receives on it.
     * Once it first carries a stream it keeps its outgoing stream (SSRC,
     * rewriting state, history, RTX) while the line exists, whichever
     * stream feeds it: re-pointed to another one, the subscriber sees
     * one continuous stream (forward.h).
     */
    unsigned              receiving;
    unsigned              announced;      /* the last answer sent on it */
    sfu_line_t           *bound;          /* the stream it carries */
    sfu_queue_t           sub_link;       /* in bound->subscribers */
    uint32_t              out_ssrc;       /* 0: never carried one */
    uint32_t              rtx_out_ssrc;   /* 0: none; RFC 4588 resends */
    uint16_t              rtx_seq;        /* the next RTX packet's */
    char                  track[SFU_TRACK_MAX + 1];
    rooms_fwd_t           fwd;
    rooms_hist_t          hist;           /* data NULL: no history */
};


struct sfu_part_s {
    uint64_t              conn;           /* nginx's connection id */
    sfu_part_t           *hash_next;
    sfu_queue_t           all_link;       /* in sfu_t.all */
    sfu_room_t           *room;
    sfu_queue_t           room_link;      /* in room->parts, join order, or
                                             in room->lobby while waiting */
    unsigned              waiting;        /* in the lobby: not counted, no
                                             session, not shown to others */

    char                  id[SFU_ID_LEN + 1];
    char                  name[SFU_NAME_MAX + 1];
    unsigned              host;           /* nginx checked the host key */
    unsigned              cohost;         /* a co-host key, or promoted */
    unsigned              said_leave;     /* goes by its "leave" */
    char                  token[ROOMS_HASH_HEX_LEN + 1];  /* its hash */
    unsigned              audio_on;       /* as the last "media" said */
    unsigned              video_on;
    unsigned              shown_audio;    /* as last told to the others */
    unsigned              shown_video;

    unsigned              answered;       /* answers sent */
    unsigned              asked_audio;    /* the last renegotiate sent */
    unsigned              asked_video;

    /* whose video it sees: "video_slots" of JOIN, its last "view" */
    unsigned              video_slots;    /* 1..ROOMS_VIDEO_SLOTS_MAX */
    unsigned              nview;
    char                  view[ROOMS_VIEW_MAX][SFU_ID_LEN + 1];
    unsigned              map_changed;    /* since the last map it got */

    /*
     * Its m= lines, all reserved inline: 440 bytes each on x86-64 (the
     * forwarding state and the negotiated ids; a history is on the heap),
     * so 72 of them make a participant some 33 KB, 1.6 MB for a 50-person
     * room, next to the 150 MiB of NACK histories it needs.
     */
    unsigned              nlines;
    sfu_line_t            lines[ROOMS_SDP_MAX_MEDIA];
    uint16_t              ext_mid;        /* its mid extension id, 0: none */

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
    sfu_queue_t           hs_link;        /* in sfu_t.handshakes */
    rooms_srtp_t          srtp;
    unsigned              srtp_ready;
    unsigned              has_addr;
    rooms_stun_addr_t     addr;           /* ICE's selected address */
    uint32_t              fb_ssrc;        /* sender SSRC of our RTCP */

    /* receiver reports: queued from DTLS connection to removal */
    unsigned              rr_queued;
    unsigned              rr_pos;         /* in sfu_t.rr_heap */
    uint64_t              rr_due;
};


/* a room's state as one JOIN or ROOM record says it */
typedef struct {
    unsigned              has;            /* SFU_KNOWS_*: what it says */
    int64_t               rev;
    unsigned              max;
    unsigned              locked;
    unsigned              knock;
    unsigned              host_absent;    /* ROOMS_HOST_ABSENT_* */
    uint64_t              grace;          /* ms */
} sfu_state_t;


struct sfu_room_s {
    int64_t               id;             /* the store's */
    sfu_room_t           *hash_next;
    char                  code[SFU_CODE_MAX + 1];

    /* the newest state heard, by rev, from JOIN and ROOM records */
    int64_t               rev;
    unsigned              known;          /* SFU_KNOWS_*: fields heard */
    unsigned              max;
    unsigned              locked;
    unsigned              knock;          /* admission */
    unsigned              host_absent;    /* ROOMS_HOST_ABSENT_* */
    uint64_t              grace;          /* ms */
    unsigned              ended;

    unsigned              count;          /* hosts and guests */
    unsigned              guests;         /* not the key holder: at most
                                             max - 1, co-hosts too */
    unsigned              moderators;     /* hosts and co-hosts in it */
    unsigned              cohosts;        /* at most ROOMS_COHOSTS_MAX
                                             by promotion */
    unsigned              waiting;        /* in the lobby */
    sfu_queue_t           parts;
    sfu_queue_t           lobby;          /* of sfu_part_t, knock order */

    /* nobody in it or waiting: kept for its state (or its deadline) */
    unsigned              idle;
    unsigned              lingering;      /* in sfu_t.linger */
    uint64_t              linger_until;
    sfu_queue_t           linger_link;

    /* the last host or co-host went: the policy applies at absent_at */
    unsigned              absent_pending; /* in sfu_t.absent */
    uint64_t              absent_at;
    sfu_queue_t           absent_link;
};


struct sfu_s {
    sfu_conf_t            conf;
    char                  announce_ip[64];

    rooms_ice_table_t    *ice;
    rooms_dtls_ctx_t     *dtls;
    uint8_t               fp[ROOMS_DTLS_FP_LEN];

    sfu_part_t           *conns[SFU_CONN_BUCKETS];
    sfu_room_t           *rooms[SFU_ROOM_BUCKETS];
    unsigned              nparts;         /* joined */
    unsigned              nwaiting;       /* in a lobby */
    unsigned              nrooms;         /* idle ones too */
    unsigned              nidle;

    /* idle rooms, oldest first (so by linger_until too) */
    sfu_queue_t           linger;
    unsigned              nlinger;

    /* rooms with a host-absent deadline, earliest first */
    sfu_queue_t           absent;
    unsigned              nabsent;

    /* the ring slots with an nginx worker: where COUNT records go */
    uint64_t              slots;
    sfu_queue_t           all;
    sfu_queue_t           handshakes;
    sfu_queue_t           kf_pending;

    /* participants by their next receiver report, a min-heap on rr_due */
    sfu_part_t          **rr_heap;        /* max_sessions entries */
    unsigned              rr_n;

    sfu_stats_t           stats;
    int                   dead_slot;      /* being dropped, or -1 */

    /* scratch, one at a time: the event loop is single-threaded */
    rooms_sdp_t          *offer;          /* ~430 KB: on the heap */
    char                 *answer;         /* SFU_ANSWER_MAX */
    char                 *msg;            /* SFU_MSG_MAX + 1 */
};


static void sfu_remove(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    unsigned close_code, const char *why, sfu_io_t *io);
static void sfu_video_update(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    sfu_io_t *io);


/* ---- logging ---- */


static void
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
sfu_log(sfu_t *sfu, int level, const char *fmt, ...)
{
    char     line[1024];
    va_list  args;

    if (sfu->conf.log == NULL || level > sfu->conf.log_level) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);

    sfu->conf.log(sfu->conf.log_ctx, level, line);
}


/* A name for a log line: control characters and quotes become '?'. */
static const char *
sfu_printable(const char *s, char *buf, size_t size)
{
    size_t  i;

    for (i = 0; s[i] != '\0' && i + 1 < size; i++) {
        buf[i] = ((unsigned char) s[i] < 0x20 || s[i] == '"'
                  || s[i] == 0x7f) ? '?' : s[i];
    }

    buf[i] = '\0';

    return buf;
}


/* ---- randomness ---- */


static int
sfu_random(void *buf, size_t n)
{
    return RAND_bytes(buf, (int) n) == 1 ? 0 : -1;
}


static uint32_t
sfu_random32(void)
{
    uint32_t  v;

    if (sfu_random(&v, sizeof(v)) != 0) {
        /* only for seq0/ts0 picks; SSRCs and ids check the return */
        v = 0x5eed1234;
    }

    return v;
}


/* ---- output ---- */


/* The next free datagram of the queue, flushing when full; NULL: none. */
static sfu_dgram_t *
sfu_out(sfu_t *sfu, sfu_io_t *io)
{
    if (io->q == NULL || io->cap == 0) {
        sfu->stats.tx_dropped++;
        return NULL;
    }

    if (io->n >= io->cap && io->flush != NULL) {
        io->flush(io->ctx, io);
    }

    if (io->n >= io->cap) {
        sfu->stats.tx_dropped++;
        return NULL;
    }

    return &io->q[io->n];
}


static void
sfu_commit(sfu_t *sfu, sfu_io_t *io, const rooms_stun_addr_t *to, size_t len)
{
    sfu_dgram_t  *d;

    d = &io->q[io->n];
    d->addr = *to;
    d->len = (uint32_t) len;
    io->n++;
    sfu->stats.tx++;
}


static void
sfu_record_out(sfu_t *sfu, sfu_io_t *io, uint16_t type, uint64_t conn,
    const void *payload, size_t len)
{
    /* the nginx worker of that slot is gone: nobody would read it */
    if (sfu->dead_slot >= 0
        && ROOMS_PROTO_SLOT(conn) == (unsigned) sfu->dead_slot)
    {
        return;
    }

    if (io->record == NULL
        || io->record(io->ctx, type, conn, payload, len) != 0)
    {
        sfu->stats.records_dropped++;
        sfu_log(sfu, SFU_LOG_WARN, "record type %u for connection %u:%llu "
                "could not be queued", (unsigned) type,
                ROOMS_PROTO_SLOT(conn),
                (unsigned long long) (conn & 0xffffffffffffULL));
        return;
    }

    sfu->stats.records++;
}


/* Sends obj (and releases it) as a record of type about conn. */
static void
sfu_send_json(sfu_t *sfu, sfu_io_t *io, uint16_t type, uint64_t conn,
    json_t *obj)
{
    char  *text;

    if (obj == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory building a message");
        sfu->stats.records_dropped++;
        return;
    }

    text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);

    if (text == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory serializing a message");
        sfu->stats.records_dropped++;
        return;
    }

    sfu_record_out(sfu, io, type, conn, text, strlen(text));
    free(text);
}


/* Sends obj (and releases it) as a SIGNAL to conn. */
static void
sfu_signal(sfu_t *sfu, sfu_io_t *io, uint64_t conn, json_t *obj)
{
    sfu_send_json(sfu, io, ROOMS_PROTO_SIGNAL, conn, obj);
}


/* An error; reason, when not NULL, says what caused it (host_absent). */
static void
sfu_error_why(sfu_t *sfu, sfu_io_t *io, uint64_t conn, const char *code,
    const char *message, const char *reason)
{
    json_t  *obj;

    obj = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code,
                    "message", message);

    if (obj != NULL && reason != NULL
        && json_object_set_new(obj, "reason", json_string(reason)) != 0)
    {
        json_decref(obj);
        obj = NULL;
    }

    sfu_signal(sfu, io, conn, obj);
}


static void
sfu_error(sfu_t *sfu, sfu_io_t *io, uint64_t conn, const char *code,
    const char *message)
{
    sfu_error_why(sfu, io, conn, code, message, NULL);
}


/* A CLOSE record: the code in network order, then at most 123 bytes. */
static void
sfu_close(sfu_t *sfu, sfu_io_t *io, uint64_t conn, unsigned code,
    const char *reason)
{
    size_t         n;
    unsigned char  buf[2 + 123];

    n = strlen(reason);
    if (n > 123) {
        n = 123;
    }

    buf[0] = (unsigned char) (code >> 8);
    buf[1] = (unsigned char) code;
    memcpy(buf + 2, reason, n);

    sfu_record_out(sfu, io, ROOMS_PROTO_CLOSE, conn, buf, 2 + n);
}


/* COUNT records go to the slots of a 64-bit mask (sfu_t.slots) */
_Static_assert(ROOMS_RING_MAX_PEERS <= 64, "one bit per ring slot");


/*
 * Tells nginx how many people are in room: one COUNT record to each ring
 * slot in slots (a mask).  Any nginx worker may serve GET /api/rooms, and
 * any of them may be the one that is alive, so every linked one is told;
 * the count is absolute, so the copies agree whatever order the nginx
 * workers read their rings in.
 */
static void
sfu_count(sfu_t *sfu, sfu_io_t *io, const sfu_room_t *room, uint64_t slots)
{
    char      *text;
    json_t    *obj;
    unsigned   slot;

    if (slots == 0) {
        return;
    }

    obj = json_pack("{s:I, s:s, s:i}", "room", (json_int_t) room->id,
                    "code", room->code, "count", (int) room->count);
    text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);

    if (text == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory building a COUNT record");
        sfu->stats.records_dropped++;
        return;
    }

    for (slot = 0; slot < ROOMS_RING_MAX_PEERS; slot++) {
        if (slots & ((uint64_t) 1 << slot)) {
            sfu_record_out(sfu, io, ROOMS_PROTO_COUNT,
                           ROOMS_PROTO_CONN(slot, 0), text, strlen(text));
        }
    }

    free(text);
}


/* ---- tables ---- */


static unsigned
sfu_conn_hash(uint64_t conn)
{
    conn ^= conn >> 33;
    conn *= 0xff51afd7ed558ccdULL;
    conn ^= conn >> 33;

    return (unsigned) (conn & (SFU_CONN_BUCKETS - 1));
}


static sfu_part_t *
sfu_find_conn(sfu_t *sfu, uint64_t conn)
{
    sfu_part_t  *p;

    for (p = sfu->conns[sfu_conn_hash(conn)]; p; p = p->hash_next) {
        if (p->conn == conn) {
            return p;
        }
    }

    return NULL;
}


static void
sfu_conn_unlink(sfu_t *sfu, sfu_part_t *p)
{
    sfu_part_t  **pp;

    for (pp = &sfu->conns[sfu_conn_hash(p->conn)]; *pp;
         pp = &(*pp)->hash_next)
    {
        if (*pp == p) {
            *pp = p->hash_next;
            return;
        }
    }
}


static unsigned
sfu_room_hash(int64_t id)
{
    return sfu_conn_hash((uint64_t) id) & (SFU_ROOM_BUCKETS - 1);
}


static sfu_room_t *
sfu_find_room(sfu_t *sfu, int64_t id)
{
    sfu_room_t  *r;

    for (r = sfu->rooms[sfu_room_hash(id)]; r; r = r->hash_next) {
        if (r->id == id) {
            return r;
        }
    }

    return NULL;
}


/*
 * A room nobody is in yet, with no state heard (the caller applies one):
 * in the table, not idle.  NULL when out of memory.
 */
static sfu_room_t *
sfu_room_new(sfu_t *sfu, int64_t id)
{
    sfu_room_t  *room;

    room = calloc(1, sizeof(sfu_room_t));
    if (room == NULL) {
        return NULL;
    }

    room->id = id;
    room->max = 1;
    room->grace = ROOMS_HOST_GRACE_DEFAULT;
    sfu_queue_init(&room->parts);
    sfu_queue_init(&room->lobby);
    sfu_queue_init(&room->linger_link);
    sfu_queue_init(&room->absent_link);

    room->hash_next = sfu->rooms[sfu_room_hash(id)];
    sfu->rooms[sfu_room_hash(id)] = room;
    sfu->nrooms++;

    return room;
}


/* Frees an idle room, whatever lists it is in. */
static void
sfu_room_free(sfu_t *sfu, sfu_room_t *room)
{
    sfu_room_t  **pp;

    for (pp = &sfu->rooms[sfu_room_hash(room->id)]; *pp;
         pp = &(*pp)->hash_next)
    {
        if (*pp == room) {
            *pp = room->hash_next;
            break;
        }
    }

    if (room->lingering) {
        sfu_queue_remove(&room->linger_link);
        sfu->nlinger--;
    }

    if (room->absent_pending) {
        sfu_queue_remove(&room->absent_link);
        sfu->nabsent--;
    }

    sfu->nidle -= room->idle;
    sfu->nrooms--;
    free(room);
}


/*
 * Room may have gone idle: nobody in it or waiting at its door.  Its
 * state is kept ROOMS_ROOM_LINGER_MS from now (sfu_poll() frees it), or,
 * while a host-absent deadline is pending, until that is handled and
 * then as long again.  Over SFU_LINGER_MAX the room idle longest is
 * freed: never room itself, which goes last in the list.
 */
static void
sfu_room_release(sfu_t *sfu, sfu_room_t *room, uint64_t now)
{
    sfu_room_t  *old;

    if (room->count > 0 || room->waiting > 0 || room->lingering) {
        return;
    }

    if (!room->idle) {
        room->idle = 1;
        sfu->nidle++;
    }

    if (room->absent_pending) {
        return;
    }

    room->lingering = 1;
    room->linger_until = now + ROOMS_ROOM_LINGER_MS;
    sfu_queue_insert_tail(&sfu->linger, &room->linger_link);
    sfu->nlinger++;

    if (sfu->nlinger > SFU_LINGER_MAX) {
        old = sfu_queue_data(sfu->linger.next, sfu_room_t, linger_link);
        sfu_log(sfu, SFU_LOG_WARN, "%u idle rooms: the state of room %lld "
                "goes early", sfu->nlinger, (long long) old->id);
        sfu_room_free(sfu, old);
    }
}


/* Someone comes into room or its lobby: it is not idle any more. */
static void
sfu_room_occupy(sfu_t *sfu, sfu_room_t *room)
{
    if (room->lingering) {
        sfu_queue_remove(&room->linger_link);
        room->lingering = 0;
        sfu->nlinger--;
    }

    if (room->idle) {
        room->idle = 0;
        sfu->nidle--;
    }
}


/*
 * Takes what st says into room: all of it when it is the newest state
 * (newer), otherwise only the fields no record has set yet (a room made
 * by a ROOM record knows only what that said).  The revision moves only
 * forward.
 */
static void
sfu_state_apply(sfu_room_t *room, const sfu_state_t *st, unsigned newer)
{
    unsigned  take;

    take = newer ? st->has : st->has & ~room->known;

    if (take & SFU_KNOWS_MAX) {
        room->max = st->max;
    }

    if (take & SFU_KNOWS_LOCKED) {
        room->locked = st->locked;
    }

    if (take & SFU_KNOWS_KNOCK) {
        room->knock = st->knock;
    }

    if (take & SFU_KNOWS_ABSENT) {
        room->host_absent = st->host_absent;
    }

    if (take & SFU_KNOWS_GRACE) {
        room->grace = st->grace;
    }

    room->known |= take;

    if (newer && st->rev > room->rev) {
        room->rev = st->rev;
    }
}


/* nginx checks the cap; a nonsense one still cannot unbound us */
static unsigned
sfu_cap(int64_t max)
{
    return max < 1 ? 1
           : max > ROOMS_PARTICIPANTS_LIMIT ? ROOMS_PARTICIPANTS_LIMIT
           : (unsigned) max;
}


/* ---- lines, streams and bindings ---- */


static void
sfu_line_init(sfu_part_t *p, sfu_line_t *l, unsigned index)
{
    memset(l, 0, sizeof(sfu_line_t));
    l->owner = p;
    l->index = index;
    sfu_queue_init(&l->subscribers);
    sfu_queue_init(&l->kf_link);
    sfu_queue_init(&l->sub_link);
}


/*
 * A receiving line stops carrying its stream.  It keeps its outgoing
 * stream (SSRC, rewriting, history) for the next one it carries, and its
 * owner's streams map has changed.
 */
static void
sfu_unbind(sfu_line_t *l)
{
    if (l->bound == NULL) {
        return;
    }

    sfu_queue_remove(&l->sub_link);
    l->bound = NULL;
    l->owner->map_changed = 1;
}


/* A publishing line stops being a stream: its subscribers lose it. */
static void
sfu_unpublish(sfu_line_t *l)
{
    sfu_queue_t  *q;

    while (!sfu_queue_empty(&l->subscribers)) {
        q = l->subscribers.next;
        sfu_unbind(sfu_queue_data(q, sfu_line_t, sub_link));
    }

    if (l->kf_queued) {
        sfu_queue_remove(&l->kf_link);
        l->kf_queued = 0;
    }

    l->publishing = 0;
    l->has_ssrc = 0;
    l->ssrc = 0;
    l->rtx_ssrc = 0;
    memset(&l->rx, 0, sizeof(sfu_rx_t));
}


/* The line goes (or is another one now): everything it held goes too. */
static void
sfu_line_reset(sfu_part_t *p, sfu_line_t *l, unsigned index)
{
    sfu_unpublish(l);
    sfu_unbind(l);
    rooms_hist_free(&l->hist);
    sfu_line_init(p, l, index);
}


static unsigned
sfu_min(unsigned a, unsigned b)
{
    return a < b ? a : b;
}


/* The RTP clock of the codecs we accept: Opus and VP8. */
static uint32_t
sfu_clock_rate(rooms_sdp_kind_e kind)
{
    return kind == ROOMS_SDP_KIND_AUDIO ? 48000 : 90000;
}


static unsigned
sfu_kind_index(rooms_sdp_kind_e kind)
{
    return kind == ROOMS_SDP_KIND_AUDIO ? 0 : 1;
}


static const char *
sfu_kind_name(rooms_sdp_kind_e kind)
{
    return kind == ROOMS_SDP_KIND_AUDIO ? "audio" : "video";
}


/* The participant of list (a room's parts or lobby) with this id. */
static sfu_part_t *
sfu_find_id(sfu_queue_t *list, const char *id)
{
    sfu_queue_t  *q;
    sfu_part_t   *o;

    for (q = list->next; q != list; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (strcmp(o->id, id) == 0) {
            return o;
        }
    }

    return NULL;
}


/* What the participant publishes: 1 when it has a stream of kind. */
static unsigned
sfu_publishes(const sfu_part_t *p, rooms_sdp_kind_e kind)
{
    unsigned  i;

    for (i = 0; i < p->nlines; i++) {
        if (p->lines[i].publishing && p->lines[i].kind == kind) {
            return 1;
        }
    }

    return 0;
}


/* Remote streams p could receive, per kind: everyone else's streams. */
static void
sfu_remote_counts(const sfu_part_t *p, unsigned counts[2])
{
    unsigned            i;
    sfu_queue_t        *q;
    const sfu_part_t   *o;

    counts[0] = 0;
    counts[1] = 0;

    for (q = p->room->parts.next; q != &p->room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o == p) {
            continue;
        }

        for (i = 0; i < o->nlines; i++) {
            if (o->lines[i].publishing) {
                counts[sfu_kind_index(o->lines[i].kind)]++;
            }
        }
    }
}


/*
 * The counts to ask p for in "renegotiate" (docs/protocol.md, "Who you
 * see and hear"): every remote audio stream, up to ROOMS_RECV_AUDIO_MAX,
 * and remote video streams up to p's video_slots, since p sees only
 * the videos its view chooses.  Both stay within ROOMS_SDP_MAX_MEDIA m=
 * lines with p's own ones (the SDP core refuses longer offers, so asking
 * for more would break p's call), audio first: hearing everyone is the
 * promise, and an offer of at most 4 own lines always fits 49 + 16.
 * Audio streams beyond the bound stay unbound until lines are freed.
 */
static void
sfu_asked_counts(const sfu_part_t *p, unsigned counts[2])
{
    unsigned  i, own, budget;

    sfu_remote_counts(p, counts);

    own = 0;

    for (i = 0; i < p->nlines; i++) {
        if (!p->lines[i].receiving) {
            own++;
        }
    }

    budget = own < ROOMS_SDP_MAX_MEDIA ? ROOMS_SDP_MAX_MEDIA - own : 0;

    counts[0] = sfu_min(counts[0], sfu_min(ROOMS_RECV_AUDIO_MAX, budget));
    counts[1] = sfu_min(counts[1], sfu_min(p->video_slots,
                                           budget - counts[0]));
}


/* p's receiving lines, per kind. */
static void
sfu_receiving_counts(const sfu_part_t *p, unsigned have[2])
{
    unsigned  i;

    have[0] = 0;
    have[1] = 0;

    for (i = 0; i < p->nlines; i++) {
        if (p->lines[i].receiving) {
            have[sfu_kind_index(p->lines[i].kind)]++;
        }
    }
}


/* An SSRC for p to receive on: random, not 0, unused on p's lines. */
static uint32_t
sfu_pick_ssrc(sfu_part_t *p)
{
    unsigned     i, tries, clash;
    uint32_t     v;
    sfu_line_t  *l;

    for (tries = 0; tries < 16; tries++) {
        if (sfu_random(&v, sizeof(v)) != 0) {
            return 0;
        }

        clash = (v == 0 || v == p->fb_ssrc);

        for (i = 0; i < p->nlines && !clash; i++) {
            l = &p->lines[i];
            clash = (l->out_ssrc != 0
                     && (l->out_ssrc == v || l->rtx_out_ssrc == v))
                    || (l->has_ssrc && (l->ssrc == v || l->rtx_ssrc == v));
        }

        if (!clash) {
            return v;
        }
    }

    return 0;
}


/* ---- keyframe requests ---- */


static void
sfu_send_pli(sfu_t *sfu, sfu_line_t *pub, sfu_io_t *io)
{
    size_t        n;
    sfu_part_t   *p;
    sfu_dgram_t  *d;

    p = pub->owner;

    d = sfu_out(sfu, io);
    if (d == NULL) {
        return;
    }

    n = rooms_rtcp_build_pli(d->data, sizeof(d->data)
                             - ROOMS_SRTCP_MAX_TRAILER, p->fb_ssrc,
                             pub->ssrc);

    if (n == 0 || rooms_srtp_protect_rtcp(&p->srtp, d->data, &n) != 0) {
        return;
    }

    sfu_commit(sfu, io, &p->addr, n);
    sfu->stats.pli_sent++;

    sfu_log(sfu, SFU_LOG_DEBUG, "PLI to %s for ssrc %u", p->id,
            (unsigned) pub->ssrc);
}


/*
 * Someone wants a keyframe of stream pub: a PLI now, or when the 500 ms
 * throttle allows (sfu_poll sends it).  A publisher without keys yet is
 * skipped: its first frame is a keyframe anyway.
 */
static void
sfu_want_keyframe(sfu_t *sfu, uint64_t now, sfu_line_t *pub, sfu_io_t *io)
{
    sfu_part_t  *p;

    p = pub->owner;

    if (!pub->publishing || pub->kind != ROOMS_SDP_KIND_VIDEO
        || !pub->has_ssrc || !p->srtp_ready || !p->has_addr)
    {
        return;
    }

    if (rooms_kf_allow(&pub->kf, (int64_t) now)) {
        sfu_send_pli(sfu, pub, io);
        return;
    }

    if (!pub->kf_queued) {
        sfu_queue_insert_tail(&sfu->kf_pending, &pub->kf_link);
        pub->kf_queued = 1;
    }
}


/* ---- receive statistics and receiver reports ---- */


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
static void
sfu_rx_packet(sfu_rx_t *rx, uint64_t now, uint32_t clock,
    const rooms_rtp_t *pkt)
{
    int64_t   d;
    uint16_t  udelta;
    uint32_t  arrival, transit;

    if (!rx->started) {
        sfu_rx_init(rx, pkt->seq);

    } else {
        udelta = (uint16_t) (pkt->seq - rx->max_seq);

        if (udelta < SFU_RX_MAX_DROPOUT) {
            /* in order, with a permissible gap */
            if (pkt->seq < rx->max_seq) {
                rx->cycles += SFU_RX_SEQ_MOD;
            }

            rx->max_seq = pkt->seq;

        } else if (udelta <= SFU_RX_SEQ_MOD - SFU_RX_MAX_MISORDER) {
            if (pkt->seq != rx->bad_seq) {
                /* a jump: not counted unless the next packet follows */
                rx->bad_seq = (uint32_t) (pkt->seq + 1) & (SFU_RX_SEQ_MOD - 1);
                return;
            }

            /* two in a row: the sender restarted its sequence */
            sfu_rx_init(rx, pkt->seq);

        } else {
            /* a duplicate or a late packet: counted, max_seq stays */
        }
    }

    rx->received++;
    rx->fresh = 1;

    if (rx->has_transit && pkt->ts == rx->last_ts) {
        return;
    }

    /* the arrival time in RTP units; both sides wrap modulo 2^32 */
    arrival = (uint32_t) (now * clock / 1000);
    transit = arrival - pkt->ts;

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
    rx->last_ts = pkt->ts;
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


/* An SR of p: the LSR of the stream it is about, and when it came. */
static void
sfu_sender_report(uint64_t now, sfu_part_t *p, const rooms_rtcp_report_t *sr)
{
    unsigned     i;
    sfu_line_t  *l;

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (l->publishing && l->has_ssrc && l->ssrc == sr->ssrc) {
            l->rx.has_sr = 1;
            l->rx.lsr = (sr->ntp_sec << 16) | (sr->ntp_frac >> 16);
            l->rx.sr_ms = now;
            return;
        }
    }
}


/*
 * One compound RTCP packet to publisher p, SRTCP-protected: an RR with a
 * block for each stream it sent since the last one (RFC 3550 §6.4: only
 * those), then our CNAME.  Nothing goes when there is nothing to report.
 */
static void
sfu_send_rr(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    size_t            n, k, cap;
    unsigned          i, blocks;
    sfu_line_t       *l;
    sfu_dgram_t      *d;
    rooms_rtcp_rb_t   rb[ROOMS_RTCP_MAX_REPORTS];

    if (!p->srtp_ready || !p->has_addr) {
        return;
    }

    blocks = 0;

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];
        blocks += l->publishing && l->has_ssrc && l->rx.fresh;
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

        if (l->publishing && l->has_ssrc && l->rx.fresh) {
            sfu_rx_report(&l->rx, now, l->ssrc, &rb[blocks++]);
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
sfu_rr_interval(void)
{
    return SFU_RR_INTERVAL_MS / 2 + sfu_random32() % (SFU_RR_INTERVAL_MS + 1);
}


/*
 * The participants waiting for their next receiver report form a binary
 * min-heap on rr_due: sfu_poll() sees the earliest at rr_heap[0] and
 * reschedules it in O(log n), where a list would be walked on every
 * poll.  A participant is in it at most once, from its DTLS connection
 * to its removal, so max_sessions entries always suffice.
 */
static void
sfu_rr_set(sfu_t *sfu, unsigned i, sfu_part_t *p)
{
    sfu->rr_heap[i] = p;
    p->rr_pos = i;
}


static void
sfu_rr_up(sfu_t *sfu, unsigned i)
{
    unsigned     parent;
    sfu_part_t  *p;

    p = sfu->rr_heap[i];

    while (i > 0) {
        parent = (i - 1) / 2;

        if (sfu->rr_heap[parent]->rr_due <= p->rr_due) {
            break;
        }

        sfu_rr_set(sfu, i, sfu->rr_heap[parent]);
        i = parent;
    }

    sfu_rr_set(sfu, i, p);
}


static void
sfu_rr_down(sfu_t *sfu, unsigned i)
{
    unsigned     child;
    sfu_part_t  *p;

    p = sfu->rr_heap[i];

    for ( ;; ) {
        child = 2 * i + 1;

        if (child >= sfu->rr_n) {
            break;
        }

        if (child + 1 < sfu->rr_n
            && sfu->rr_heap[child + 1]->rr_due < sfu->rr_heap[child]->rr_due)
        {
            child++;
        }

        if (p->rr_due <= sfu->rr_heap[child]->rr_due) {
            break;
        }

        sfu_rr_set(sfu, i, sfu->rr_heap[child]);
        i = child;
    }

    sfu_rr_set(sfu, i, p);
}


/* p's next receiver report is due at due (queued, or moved). */
static void
sfu_rr_schedule(sfu_t *sfu, sfu_part_t *p, uint64_t due)
{
    uint64_t  old;

    if (!p->rr_queued) {
        if (sfu->rr_n >= sfu->conf.max_sessions) {
            /* cannot happen: joins stop at max_sessions participants */
            return;
        }

        p->rr_due = due;
        p->rr_queued = 1;
        sfu_rr_set(sfu, sfu->rr_n++, p);
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


static void
sfu_rr_cancel(sfu_t *sfu, sfu_part_t *p)
{
    unsigned     i;
    sfu_part_t  *last;

    if (!p->rr_queued) {
        return;
    }

    i = p->rr_pos;
    last = sfu->rr_heap[--sfu->rr_n];
    p->rr_queued = 0;

    if (last == p) {
        return;
    }

    /* the last entry fills the hole and moves whichever way it must */
    sfu_rr_set(sfu, i, last);

    if (i > 0 && last->rr_due < sfu->rr_heap[(i - 1) / 2]->rr_due) {
        sfu_rr_up(sfu, i);

    } else {
        sfu_rr_down(sfu, i);
    }
}


/* ---- signaling helpers ---- */


static const char *
sfu_role(const sfu_part_t *p)
{
    return p->host ? "host" : p->cohost ? "cohost" : "guest";
}


/* hosts and co-hosts: they see the lobby and may act on the others */
static unsigned
sfu_moderator(const sfu_part_t *p)
{
    return p->host || p->cohost;
}


static json_t *
sfu_participant_json(const sfu_part_t *p, const char *type)
{
    if (type != NULL) {
        return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "type", type,
                         "id", p->id, "name", p->name, "role", sfu_role(p),
                         "audio", (int) p->shown_audio,
                         "video", (int) p->shown_video);
    }

    return json_pack("{s:s, s:s, s:s, s:b, s:b}", "id", p->id,
                     "name", p->name, "role", sfu_role(p),
                     "audio", (int) p->shown_audio,
                     "video", (int) p->shown_video);
}


/* Sends obj to everyone in room but except (obj is released). */
static void
sfu_room_broadcast(sfu_t *sfu, sfu_io_t *io, sfu_room_t *room,
    sfu_part_t *except, json_t *obj)
{
    sfu_queue_t  *q;
    sfu_part_t   *o;

    if (obj == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory building a message");
        return;
    }

    for (q = room->parts.next; q != &room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o != except) {
            sfu_signal(sfu, io, o->conn, json_incref(obj));
        }
    }

    json_decref(obj);
}


/* Sends obj to everyone in p's room but p (obj is released). */
static void
sfu_broadcast(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p, json_t *obj)
{
    sfu_room_broadcast(sfu, io, p->room, p, obj);
}


/* Sends obj to the moderators in room (released): the lobby's news. */
static void
sfu_hosts_signal(sfu_t *sfu, sfu_io_t *io, sfu_room_t *room, json_t *obj)
{
    sfu_queue_t  *q;
    sfu_part_t   *o;

    if (obj == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory building a message");
        return;
    }

    for (q = room->parts.next; q != &room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (sfu_moderator(o)) {
            sfu_signal(sfu, io, o->conn, json_incref(obj));
        }
    }

    json_decref(obj);
}


static void
sfu_renegotiate(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p,
    const unsigned counts[2])
{
    p->asked_audio = counts[0];
    p->asked_video = counts[1];

    sfu_signal(sfu, io, p->conn,
               json_pack("{s:s, s:i, s:i}", "type", "renegotiate",
                         "audio", (int) counts[0], "video", (int) counts[1]));

    sfu_log(sfu, SFU_LOG_DEBUG, "renegotiate %s: audio %u video %u", p->id,
            counts[0], counts[1]);
}


/*
 * The streams of p's room changed because of p: everyone else who has
 * negotiated has its video lines chosen again (a video that came may
 * take a line, one that went frees one) and is asked for a new offer.
 * Those who have not will bind on their first one.
 */
static void
sfu_streams_changed(sfu_t *sfu, uint64_t now, sfu_io_t *io, sfu_part_t *p)
{
    unsigned      counts[2];
    sfu_queue_t  *q;
    sfu_part_t   *o;

    for (q = p->room->parts.next; q != &p->room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o == p || o->answered == 0) {
            continue;
        }

        sfu_video_update(sfu, now, o, io);
        sfu_asked_counts(o, counts);
        sfu_renegotiate(sfu, io, o, counts);
    }
}


/* Tells the others when p's microphone or camera state, as shown, moved. */
static void
sfu_media_update(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p, unsigned force)
{
    unsigned  audio, video;

    audio = p->audio_on && sfu_publishes(p, ROOMS_SDP_KIND_AUDIO);
    video = p->video_on && sfu_publishes(p, ROOMS_SDP_KIND_VIDEO);

    if (!force && audio == p->shown_audio && video == p->shown_video) {
        return;
    }

    p->shown_audio = audio;
    p->shown_video = video;

    sfu_broadcast(sfu, io, p,
                  json_pack("{s:s, s:s, s:b, s:b}", "type",
                            "participant_media", "id", p->id,
                            "audio", (int) audio, "video", (int) video));
}


/* ---- the host-absent policy ---- */


/*
 * Room's deadline came (or, by "leave", the last moderator just went):
 * when nobody moderates it still and its policy, as it is now, is lock
 * or end, one HOST_ABSENT record asks nginx to apply it.  Any linked
 * nginx worker can, so it goes to the lowest linked slot; nginx checks
 * the stored policy and answers with a ROOM record.
 */
static void
sfu_absent_fire(sfu_t *sfu, sfu_room_t *room, sfu_io_t *io)
{
    unsigned     slot;
    const char  *action;

    if (room->moderators > 0 || room->ended
        || room->host_absent == ROOMS_HOST_ABSENT_STAY)
    {
        return;
    }

    action = room->host_absent == ROOMS_HOST_ABSENT_LOCK ? "lock" : "end";

    if (sfu->slots == 0) {
        sfu_log(sfu, SFU_LOG_WARN, "room %lld (%s) has no host: no nginx "
                "worker is linked to %s it", (long long) room->id,
                room->code, action);
        return;
    }

    for (slot = 0; (sfu->slots & ((uint64_t) 1 << slot)) == 0; slot++) {
        /* the lowest linked slot */
    }

    sfu_send_json(sfu, io, ROOMS_PROTO_HOST_ABSENT, ROOMS_PROTO_CONN(slot, 0),
                  json_pack("{s:I, s:s, s:I, s:s}", "room",
                            (json_int_t) room->id, "code", room->code,
                            "rev", (json_int_t) room->rev,
                            "action", action));

    sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) has no host: asking nginx "
            "(slot %u) to %s it", (long long) room->id, room->code, slot,
            action);
}


static void
sfu_absent_cancel(sfu_t *sfu, sfu_room_t *room)
{
    if (room->absent_pending) {
        sfu_queue_remove(&room->absent_link);
        room->absent_pending = 0;
        sfu->nabsent--;
    }
}


/* Handles room's deadline now; an idle room then lingers. */
static void
sfu_absent_due(sfu_t *sfu, sfu_room_t *room, uint64_t now, sfu_io_t *io)
{
    sfu_absent_cancel(sfu, room);
    sfu_absent_fire(sfu, room, io);
    sfu_room_release(sfu, room, now);
}


/* Room's policy applies at at, unless a moderator comes first. */
static void
sfu_absent_schedule(sfu_t *sfu, sfu_room_t *room, uint64_t at, uint64_t now,
    sfu_io_t *io)
{
    sfu_queue_t  *q;

    sfu_absent_cancel(sfu, room);

    /* the list stays sorted; deadlines mostly come in order */
    for (q = sfu->absent.prev; q != &sfu->absent; q = q->prev) {
        if (sfu_queue_data(q, sfu_room_t, absent_link)->absent_at <= at) {
            break;
        }
    }

    sfu_queue_insert_tail(q->next, &room->absent_link);
    room->absent_pending = 1;
    room->absent_at = at;
    sfu->nabsent++;

    if (sfu->nabsent > SFU_ABSENT_MAX) {
        sfu_absent_due(sfu, sfu_queue_data(sfu->absent.next, sfu_room_t,
                                           absent_link), now, io);
    }
}


/* A host or co-host comes into room (or is made one): no deadline. */
static void
sfu_moderator_come(sfu_t *sfu, sfu_room_t *room)
{
    room->moderators++;
    sfu_absent_cancel(sfu, room);
}


/*
 * A host or co-host leaves room, or stops being one.  When it was the
 * last, a room that is not ending and whose policy is lock or end gets
 * its deadline: now when it went by "leave" (at_once), otherwise after
 * the grace, for a host whose network blinks comes back within it.
 */
static void
sfu_moderator_gone(sfu_t *sfu, sfu_room_t *room, uint64_t now,
    unsigned at_once, sfu_io_t *io)
{
    room->moderators--;

    if (room->moderators > 0 || room->ended
        || room->host_absent == ROOMS_HOST_ABSENT_STAY)
    {
        return;
    }

    if (at_once) {
        sfu_absent_fire(sfu, room, io);
        return;
    }

    sfu_absent_schedule(sfu, room, now + room->grace, now, io);
}


/* ---- JOIN ---- */


static int
sfu_new_id(sfu_room_t *room, char id[SFU_ID_LEN + 1])
{
    unsigned       i, tries, taken;
    uint8_t        rnd[6];
    sfu_queue_t   *q;
    uint32_t       bits;

    static const char  b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    for (tries = 0; tries < 8; tries++) {
        if (sfu_random(rnd, sizeof(rnd)) != 0) {
            return -1;
        }

        for (i = 0; i < 2; i++) {
            bits = (uint32_t) rnd[3 * i] << 16 | (uint32_t) rnd[3 * i + 1] << 8
                   | rnd[3 * i + 2];
            id[4 * i] = b64[(bits >> 18) & 63];
            id[4 * i + 1] = b64[(bits >> 12) & 63];
            id[4 * i + 2] = b64[(bits >> 6) & 63];
            id[4 * i + 3] = b64[bits & 63];
        }

        id[SFU_ID_LEN] = '\0';
        taken = 0;

        for (q = room->parts.next; q != &room->parts && !taken; q = q->next) {
            taken = strcmp(sfu_queue_data(q, sfu_part_t, room_link)->id,
                           id) == 0;
        }

        /* a waiting guest keeps its id when it is let in */
        for (q = room->lobby.next; q != &room->lobby && !taken; q = q->next) {
            taken = strcmp(sfu_queue_data(q, sfu_part_t, room_link)->id,
                           id) == 0;
        }

        if (!taken) {
            return 0;
        }
    }

    return -1;
}


/*
 * The capacity rule (docs/protocol.md), enforced here and only here: 1
 * when one more host (host set) or guest fits in room (NULL: a room
 * nobody is in yet) at the cap max.  Guests take at most max - 1 places,
 * so one is always left for a host; hosts count in the total, which
 * never passes max.  This process handles one record at a time, so the
 * count cannot change between this check and the insert that follows
 * it, however many nginx workers race.
 */
static unsigned
sfu_fits(const sfu_room_t *room, unsigned max, unsigned host)
{
    unsigned  count, guests;

    count = room ? room->count : 0;
    guests = room ? room->guests : 0;

    return count < max && (host || guests + 1 < max);
}


/*
 * p's welcome: its id and role, the lock, who is in the room and, for a
 * host or co-host only, who waits in the lobby.  NULL when out of memory.
 */
static json_t *
sfu_welcome(sfu_room_t *room, sfu_part_t *p)
{
    json_t       *list, *lobby, *obj, *msg;
    sfu_part_t   *o;
    sfu_queue_t  *q;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (q = room->parts.next; q != &room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);
        obj = sfu_participant_json(o, NULL);

        if (obj == NULL || json_array_append_new(list, obj) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    msg = json_pack("{s:s, s:s, s:s, s:b, s:o}", "type", "welcome",
                    "id", p->id, "role", sfu_role(p),
                    "locked", (int) room->locked, "participants", list);

    if (msg == NULL || !sfu_moderator(p)) {
        return msg;
    }

    lobby = json_array();
    if (lobby == NULL) {
        json_decref(msg);
        return NULL;
    }

    for (q = room->lobby.next; q != &room->lobby; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);
        obj = json_pack("{s:s, s:s}", "id", o->id, "name", o->name);

        if (obj == NULL || json_array_append_new(lobby, obj) != 0) {
            json_decref(lobby);
            json_decref(msg);
            return NULL;
        }
    }

    /* the reference to lobby is taken, even on failure */
    if (json_object_set_new(msg, "lobby", lobby) != 0) {
        json_decref(msg);
        return NULL;
    }

    return msg;
}


/*
 * p, known by its connection and out of the lobby, comes into its room
 * with welcome (from sfu_welcome(), released here): it counts from now
 * on, the others see it join, and nginx gets the room's new count.
 */
static void
sfu_enter(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p, json_t *welcome)
{
    char         safe[SFU_NAME_MAX + 1];
    sfu_room_t  *room;

    room = p->room;

    sfu_queue_insert_tail(&room->parts, &p->room_link);
    room->count++;
    room->guests += !p->host;
    room->cohosts += p->cohost;
    sfu->nparts++;
    sfu->stats.joins++;

    if (sfu_moderator(p)) {
        sfu_moderator_come(sfu, room);
    }

    sfu_signal(sfu, io, p->conn, welcome);
    sfu_broadcast(sfu, io, p, sfu_participant_json(p, "participant_joined"));
    sfu_count(sfu, io, room, sfu->slots);

    sfu_log(sfu, SFU_LOG_INFO, "participant joined: room %lld (%s) id %s "
            "name \"%s\" %s conn %u:%llu, %u in the room",
            (long long) room->id, room->code, p->id,
            sfu_printable(p->name, safe, sizeof(safe)), sfu_role(p),
            ROOMS_PROTO_SLOT(p->conn),
            (unsigned long long) (p->conn & 0xffffffffffffULL), room->count);
}


/* p goes out of the lobby's list and counts (it is still known). */
static void
sfu_lobby_unlink(sfu_t *sfu, sfu_part_t *p)
{
    sfu_queue_remove(&p->room_link);
    p->waiting = 0;
    p->room->waiting--;
    sfu->nwaiting--;
}


/*
 * Waiting p leaves the lobby without coming in: it left, a host denied
 * it, it did not fit when admitted, or its room ended.  close_code, when
 * not 0, closes its WebSocket with why first.  The moderators get
 * lobby_left; p is freed, and its room goes idle once nobody is in it or
 * waiting.
 */
static void
sfu_lobby_leave(sfu_t *sfu, uint64_t now, sfu_part_t *p, unsigned close_code,
    const char *why, sfu_io_t *io)
{
    char         safe[SFU_NAME_MAX + 1];
    sfu_room_t  *room;

    room = p->room;

    if (close_code != 0) {
        sfu_close(sfu, io, p->conn, close_code, why);
    }

    sfu_lobby_unlink(sfu, p);

    sfu_hosts_signal(sfu, io, room, json_pack("{s:s, s:s}", "type",
                                              "lobby_left", "id", p->id));

    sfu_conn_unlink(sfu, p);
    sfu_queue_remove(&p->all_link);

    sfu_log(sfu, SFU_LOG_INFO, "left the lobby: room %lld (%s) id %s "
            "name \"%s\" (%s), %u waiting", (long long) room->id,
            room->code, p->id, sfu_printable(p->name, safe, sizeof(safe)),
            why, room->waiting);

    free(p);

    sfu_room_release(sfu, room, now);
}


/*
 * Waiting p is let in, by a host's admit or by the room's switch to
 * open.  The capacity rule applies now: a full room answers it room_full
 * and CLOSE 4403.  Otherwise it gets the normal welcome and the others
 * see it join.  Either way it leaves the lobby and the hosts get
 * lobby_left.
 */
static void
sfu_admit(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    json_t      *welcome;
    sfu_room_t  *room;

    room = p->room;

    if (!sfu_fits(room, room->max, 0)) {
        sfu->stats.refused++;
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) is full for %s from the "
                "lobby: %u of %u (%u guests)", (long long) room->id,
                room->code, p->id, room->count, room->max, room->guests);
        sfu_error(sfu, io, p->conn, "room_full", "the room is full");
        sfu_lobby_leave(sfu, now, p, SFU_CLOSE_REFUSED, "room full", io);
        return;
    }

    welcome = sfu_welcome(room, p);

    if (welcome == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory admitting %s", p->id);
        sfu_error(sfu, io, p->conn, "media_unavailable",
                  "the media server failed");
        sfu_lobby_leave(sfu, now, p, SFU_CLOSE_AGAIN, "media server error",
                        io);
        return;
    }

    sfu_lobby_unlink(sfu, p);
    sfu_enter(sfu, io, p, welcome);

    sfu_hosts_signal(sfu, io, room, json_pack("{s:s, s:s}", "type",
                                              "lobby_left", "id", p->id));
}


/*
 * Reads the room state a JOIN or ROOM record carries into st: whichever
 * of rev, max, locked, admission and host_absent are there (st->has
 * names them; a missing rev is 0).  Returns -1 when one of them is
 * malformed.
 */
static int
sfu_state_parse(json_t *msg, sfu_state_t *st)
{
    int          policy;
    json_t      *jrev, *jmax, *jlocked, *jadmission, *jabsent;
    const char  *admission;

    memset(st, 0, sizeof(sfu_state_t));

    jrev = json_object_get(msg, "rev");
    jmax = json_object_get(msg, "max");
    jlocked = json_object_get(msg, "locked");
    jadmission = json_object_get(msg, "admission");
    jabsent = json_object_get(msg, "host_absent");

    if (jrev != NULL) {
        if (!json_is_integer(jrev) || json_integer_value(jrev) < 0) {
            return -1;
        }

        st->rev = json_integer_value(jrev);
    }

    if (jmax != NULL) {
        if (!json_is_integer(jmax)) {
            return -1;
        }

        st->max = sfu_cap(json_integer_value(jmax));
        st->has |= SFU_KNOWS_MAX;
    }

    if (jlocked != NULL) {
        if (!json_is_boolean(jlocked)) {
            return -1;
        }

        st->locked = json_is_true(jlocked);
        st->has |= SFU_KNOWS_LOCKED;
    }

    if (jadmission != NULL) {
        admission = json_string_value(jadmission);

        if (admission == NULL
            || (strcmp(admission, "open") != 0
                && strcmp(admission, "knock") != 0))
        {
            return -1;
        }

        st->knock = strcmp(admission, "knock") == 0;
        st->has |= SFU_KNOWS_KNOCK;
    }

    if (jabsent != NULL) {
        policy = json_is_string(jabsent)
                 ? rooms_host_absent_find(json_string_value(jabsent),
                                          json_string_length(jabsent))
                 : -1;

        if (policy < 0) {
            return -1;
        }

        st->host_absent = (unsigned) policy;
        st->has |= SFU_KNOWS_ABSENT;
    }

    return 0;
}


/* Refuses a JOIN (or an admission): error code, then CLOSE close_code. */
static void
sfu_refuse(sfu_t *sfu, sfu_io_t *io, uint64_t conn, const char *code,
    const char *message, unsigned close_code, const char *why)
{
    sfu->stats.refused++;
    sfu_error(sfu, io, conn, code, message);
    sfu_close(sfu, io, conn, close_code, why);
}


static void
sfu_join(sfu_t *sfu, uint64_t now, uint64_t conn, json_t *msg, sfu_io_t *io)
{
    char           safe[SFU_NAME_MAX + 1];
    size_t         name_len, code_len;
    unsigned       i, host, cohost, waiting, newer, max, locked, knock;
    json_t        *jroom, *jname, *jcode, *jrole, *jtoken, *jgrace, *jslots;
    json_t        *welcome;
    int64_t        room_id, grace, slots;
    sfu_room_t    *room;
    sfu_part_t    *p;
    sfu_state_t    st;
    const char    *name, *code, *role, *token;
    unsigned char  hash[ROOMS_HASH_LEN];

    if (sfu_find_conn(sfu, conn) != NULL) {
        sfu_log(sfu, SFU_LOG_WARN, "JOIN for connection %u:%llu, which "
                "has joined already", ROOMS_PROTO_SLOT(conn),
                (unsigned long long) (conn & 0xffffffffffffULL));
        sfu_error(sfu, io, conn, "bad_message", "join was sent twice");
        sfu_close(sfu, io, conn, SFU_CLOSE_BAD, "bad message");
        return;
    }

    jroom = json_object_get(msg, "room");
    jname = json_object_get(msg, "name");
    jcode = json_object_get(msg, "code");
    jrole = json_object_get(msg, "role");
    jtoken = json_object_get(msg, "token");
    jgrace = json_object_get(msg, "grace");
    jslots = json_object_get(msg, "video_slots");

    name = json_string_value(jname);
    code = json_string_value(jcode);
    role = json_string_value(jrole);
    token = json_string_value(jtoken);
    name_len = json_string_length(jname);
    code_len = json_string_length(jcode);

    if (!json_is_integer(jroom) || name == NULL
        || name_len == 0 || name_len > SFU_NAME_MAX
        || strlen(name) != name_len
        || (jcode != NULL && code == NULL)
        || role == NULL
        || (strcmp(role, "host") != 0 && strcmp(role, "cohost") != 0
            && strcmp(role, "guest") != 0)
        || token == NULL
        || rooms_token_hash_from_hex(token, json_string_length(jtoken), hash)
           != 0
        || sfu_state_parse(msg, &st) != 0
        || (st.has & (SFU_KNOWS_MAX | SFU_KNOWS_LOCKED))
           != (SFU_KNOWS_MAX | SFU_KNOWS_LOCKED)
        || (jgrace != NULL && !json_is_integer(jgrace))
        || (jslots != NULL && !json_is_integer(jslots)))
    {
        sfu_log(sfu, SFU_LOG_WARN, "malformed JOIN from nginx");
        sfu_error(sfu, io, conn, "bad_message", "malformed join");
        sfu_close(sfu, io, conn, SFU_CLOSE_BAD, "bad message");
        return;
    }

    room_id = json_integer_value(jroom);

    /* nginx bounds the grace; clamped, a nonsense one cannot stall us */
    grace = jgrace ? json_integer_value(jgrace) : ROOMS_HOST_GRACE_DEFAULT;
    st.grace = grace < 0 ? 0
               : grace > ROOMS_HOST_GRACE_MAX ? ROOMS_HOST_GRACE_MAX
               : (uint64_t) grace;

    /* a JOIN is the whole state: what it leaves out has its default */
    st.has |= SFU_KNOWS_KNOCK | SFU_KNOWS_ABSENT | SFU_KNOWS_GRACE;

    host = strcmp(role, "host") == 0;
    cohost = strcmp(role, "cohost") == 0;

    room = sfu_find_room(sfu, room_id);

    if (room != NULL && room->ended) {
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) has ended, join refused",
                (long long) room_id, room->code);
        sfu_refuse(sfu, io, conn, "room_ended", "the host ended this room",
                   SFU_CLOSE_REFUSED, "room ended");
        return;
    }

    /*
     * The newest state wins, by revision: a JOIN that nginx built after
     * the last ROOM record the worker applied (rev not below the room's)
     * sets the room's state, an older one is judged by the room's.  So a
     * lock or a switch to knock the worker has heard of holds against a
     * JOIN built before it, and a ROOM record that was lost is superseded
     * by the next JOIN, which carries a higher rev.  A guest left waiting
     * by a switch to open that raced its JOIN is one the hosts see and
     * can let in.
     */
    newer = room == NULL || st.rev >= room->rev;

    if (room != NULL) {
        sfu_state_apply(room, &st, newer);
        max = room->max;
        locked = room->locked;
        knock = room->knock;

    } else {
        max = st.max;
        locked = st.locked;
        knock = st.knock;
    }

    /* hosts and co-hosts get past the lock and never wait */
    if (!host && !cohost && locked) {
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) is locked, guest join "
                "refused", (long long) room_id, room ? room->code : "");
        sfu_refuse(sfu, io, conn, "locked", "the host locked this room",
                   SFU_CLOSE_REFUSED, "locked");
        return;
    }

    waiting = !host && !cohost && knock;

    if (waiting) {
        /* the capacity rule waits for the admission: a place may free up */
        if (room != NULL && room->waiting >= ROOMS_LOBBY_MAX) {
            sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s): %u are waiting "
                    "already, knock refused", (long long) room_id,
                    room->code, room->waiting);
            sfu_refuse(sfu, io, conn, "lobby_full", "too many people are "
                       "waiting to be let in", SFU_CLOSE_REFUSED,
                       "lobby full");
            return;
        }

    } else if (!sfu_fits(room, max, host)) {
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) is full for a %s: %u "
                "of %u (%u guests), join refused", (long long) room_id,
                room ? room->code : "", role, room ? room->count : 0,
                max, room ? room->guests : 0);
        sfu_refuse(sfu, io, conn, "room_full", "the room is full",
                   SFU_CLOSE_REFUSED, "room full");
        return;
    }

    /* everyone known, joined or waiting, takes one of the places */
    if (sfu->nparts + sfu->nwaiting >= sfu->conf.max_sessions) {
        sfu_log(sfu, SFU_LOG_WARN, "every media session is taken (%u, %u "
                "waiting), join refused", sfu->nparts, sfu->nwaiting);
        sfu_refuse(sfu, io, conn, "media_unavailable",
                   "the media server is full", SFU_CLOSE_AGAIN,
                   "media server full");
        return;
    }

    if (room == NULL) {
        room = sfu_room_new(sfu, room_id);
        if (room == NULL) {
            goto nomem;
        }

        sfu_state_apply(room, &st, 1);
    }

    /*
     * The room's current code, for COUNT and HOST_ABSENT records (a
     * rotation may have replaced the one the room was made with), from
     * the newest JOIN.
     */
    if (code != NULL && (newer || room->code[0] == '\0')) {
        if (code_len > SFU_CODE_MAX) {
            code_len = SFU_CODE_MAX;
        }
        sfu_printable(code, room->code, code_len + 1);
    }

    p = calloc(1, sizeof(sfu_part_t));
    if (p == NULL) {
        goto nomem_room;
    }

    if (sfu_new_id(room, p->id) != 0
        || sfu_random(&p->fb_ssrc, sizeof(p->fb_ssrc)) != 0
        || sfu_random(&p->sdp_id, sizeof(p->sdp_id)) != 0)
    {
        free(p);
        goto nomem_room;
    }

    /* nginx bounds rooms_video_slots; clamped, as the grace */
    slots = jslots ? json_integer_value(jslots) : ROOMS_VIDEO_SLOTS_DEFAULT;
    p->video_slots = slots < 1 ? 1
                     : slots > ROOMS_VIDEO_SLOTS_MAX ? ROOMS_VIDEO_SLOTS_MAX
                     : (unsigned) slots;

    p->conn = conn;
    p->room = room;
    p->host = host;
    p->cohost = cohost;
    rooms_token_hash_hex(hash, p->token);
    p->audio_on = 1;
    p->video_on = 1;
    p->fb_ssrc |= 1;
    p->sdp_id &= 0x3fffffffffffffffULL;   /* o= wants 63 bits at most */
    memcpy(p->name, name, name_len);
    p->name[name_len] = '\0';
    sfu_queue_init(&p->hs_link);

    for (i = 0; i < ROOMS_SDP_MAX_MEDIA; i++) {
        sfu_line_init(p, &p->lines[i], i);
    }

    welcome = NULL;

    if (!waiting) {
        welcome = sfu_welcome(room, p);
        if (welcome == NULL) {
            free(p);
            goto nomem_room;
        }
    }

    sfu_room_occupy(sfu, room);
    sfu_queue_insert_tail(&sfu->all, &p->all_link);
    p->hash_next = sfu->conns[sfu_conn_hash(conn)];
    sfu->conns[sfu_conn_hash(conn)] = p;

    if (!waiting) {
        sfu_enter(sfu, io, p, welcome);
        return;
    }

    /*
     * At the door: no session, not counted, and nobody but the hosts
     * and co-hosts learns of it (nor does it learn of anyone) until it
     * is let in.
     */
    p->waiting = 1;
    sfu_queue_insert_tail(&room->lobby, &p->room_link);
    room->waiting++;
    sfu->nwaiting++;
    sfu->stats.knocks++;

    sfu_signal(sfu, io, conn, json_pack("{s:s}", "type", "waiting"));
    sfu_hosts_signal(sfu, io, room, json_pack("{s:s, s:s, s:s}", "type",
                                              "knock", "id", p->id,
                                              "name", p->name));

    sfu_log(sfu, SFU_LOG_INFO, "knock: room %lld (%s) id %s name \"%s\" "
            "conn %u:%llu, %u waiting", (long long) room->id, room->code,
            p->id, sfu_printable(p->name, safe, sizeof(safe)),
            ROOMS_PROTO_SLOT(conn),
            (unsigned long long) (conn & 0xffffffffffffULL), room->waiting);

    return;

nomem_room:

    sfu_room_release(sfu, room, now);

nomem:

    sfu_log(sfu, SFU_LOG_ERR, "out of memory (or randomness) on JOIN");
    sfu_error(sfu, io, conn, "media_unavailable", "the media server failed");
    sfu_close(sfu, io, conn, SFU_CLOSE_AGAIN, "media server error");
}


/* ---- offers ---- */


/*
 * Reads the offer's m= lines into p's lines, keeping what a line carried
 * (its stream, its binding) when its mid and kind are the same.  Returns
 * 1 when p's streams changed.
 */
static unsigned
sfu_lines_update(sfu_t *sfu, sfu_part_t *p, const rooms_sdp_t *offer)
{
    int                        n, k;
    unsigned                   i, changed, pub, recv;
    sfu_line_t                *l;
    rooms_sdp_neg_t            neg;
    rooms_sdp_source_t         src[ROOMS_SDP_MAX_SSRC];
    const rooms_sdp_media_t   *m;

    changed = 0;
    p->ext_mid = 0;

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

            /* the primary SSRC, when announced; else learned by mid */
            n = rooms_sdp_media_sources(m, src, ROOMS_SDP_MAX_SSRC);

            for (k = 0; k < n; k++) {
                if (src[k].has_ssrc) {
                    if (!l->has_ssrc || l->ssrc != src[k].ssrc) {
                        /* another stream: its statistics start over */
                        memset(&l->rx, 0, sizeof(sfu_rx_t));
                    }

                    l->has_ssrc = 1;
                    l->ssrc = src[k].ssrc;
                    l->rtx_ssrc = src[k].has_rtx ? src[k].rtx_ssrc : 0;
                    break;
                }
            }
        }

        if (l->receiving && !recv) {
            sfu_unbind(l);
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


/*
 * Makes receiving line l of p carry stream pub, in place of what it
 * carried.  A line that carried a stream before keeps its outgoing one:
 * the same SSRC, and sequence numbers and timestamps that continue from
 * the last packet sent (rooms_fwd_switch()), so the browser's receiver
 * goes on as with one sender.  Its history stays valid: it is keyed by
 * the outgoing sequence number, which never goes back, so a NACK for a
 * packet of the previous stream is still answered with that packet.  A
 * line that never carried one draws its SSRC, and a video line with
 * NACK its history (once: re-pointing allocates nothing).  The
 * publisher is asked for a keyframe, the only place a decoder can
 * start.
 */
static int
sfu_bind(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_line_t *l,
    sfu_line_t *pub, sfu_io_t *io)
{
    uint32_t  ssrc;

    if (l->out_ssrc == 0) {
        ssrc = sfu_pick_ssrc(p);
        if (ssrc == 0) {
            return -1;
        }

        l->out_ssrc = ssrc;
        rooms_fwd_init(&l->fwd, ssrc, sfu_clock_rate(l->kind),
                       (uint16_t) sfu_random32(), sfu_random32());

    } else {
        rooms_fwd_switch(&l->fwd);
    }

    if (l->kind == ROOMS_SDP_KIND_VIDEO && (l->neg.fb & ROOMS_SDP_FB_NACK)
        && l->hist.data == NULL)
    {
        if (rooms_hist_init(&l->hist, SFU_HIST_SLOTS) != 0) {
            /* forwarding still works; only NACKs go unanswered */
            sfu_log(sfu, SFU_LOG_WARN, "no memory for a NACK history of %s",
                    p->id);

        } else if (l->rtx_out_ssrc == 0) {
            /*
             * An RTX stream for the NACK answers.  It is drawn for every
             * video line with a history, so a later offer that adds RTX
             * finds one; it is announced and used only while the line
             * negotiates RTX.
             */
            l->rtx_out_ssrc = sfu_pick_ssrc(p);
            l->rtx_seq = (uint16_t) sfu_random32();

            if (l->rtx_out_ssrc == 0) {
                /* NACKs are then answered with plain resends */
                sfu_log(sfu, SFU_LOG_WARN, "no RTX SSRC for %s mid %s",
                        p->id, l->mid);
            }
        }
    }

    sfu_unbind(l);

    l->bound = pub;
    snprintf(l->track, sizeof(l->track), "%s-%s", pub->owner->id, pub->mid);
    sfu_queue_insert_tail(&pub->subscribers, &l->sub_link);
    p->map_changed = 1;

    sfu_log(sfu, SFU_LOG_DEBUG, "%s mid %s receives %s of %s (ssrc %u)",
            p->id, l->mid, sfu_kind_name(l->kind), pub->owner->id,
            (unsigned) l->out_ssrc);

    if (p->srtp_ready) {
        sfu_want_keyframe(sfu, now, pub, io);
    }

    return 0;
}


/* The line of p that carries pub, or NULL. */
static sfu_line_t *
sfu_line_of(sfu_part_t *p, const sfu_line_t *pub)
{
    unsigned  i;

    for (i = 0; i < p->nlines; i++) {
        if (p->lines[i].bound == pub) {
            return &p->lines[i];
        }
    }

    return NULL;
}


/*
 * Binds every remote audio stream p does not receive yet to a free
 * receiving audio line, in join order.  Returns how many found none.
 */
static unsigned
sfu_bind_audio(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    unsigned      i, k, missing;
    sfu_line_t   *pub, *l;
    sfu_queue_t  *q;
    sfu_part_t   *o;

    missing = 0;

    for (q = p->room->parts.next; q != &p->room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o == p) {
            continue;
        }

        for (i = 0; i < o->nlines; i++) {
            pub = &o->lines[i];

            if (!pub->publishing || pub->kind != ROOMS_SDP_KIND_AUDIO
                || sfu_line_of(p, pub) != NULL)
            {
                continue;
            }

            l = NULL;

            for (k = 0; k < p->nlines; k++) {
                if (p->lines[k].receiving && p->lines[k].bound == NULL
                    && p->lines[k].kind == ROOMS_SDP_KIND_AUDIO)
                {
                    l = &p->lines[k];
                    break;
                }
            }

            if (l == NULL || sfu_bind(sfu, now, p, l, pub, io) != 0) {
                missing++;
            }
        }
    }

    return missing;
}


/* Appends o's video streams not in chosen[0..n) while n < max. */
static unsigned
sfu_choose_from(const sfu_part_t *o, sfu_line_t **chosen, unsigned n,
    unsigned max)
{
    unsigned     i, k;
    sfu_line_t  *pub;

    for (i = 0; i < o->nlines && n < max; i++) {
        pub = (sfu_line_t *) &o->lines[i];

        if (!pub->publishing || pub->kind != ROOMS_SDP_KIND_VIDEO) {
            continue;
        }

        for (k = 0; k < n && chosen[k] != pub; k++) { /* void */ }

        if (k == n) {
            chosen[n++] = pub;
        }
    }

    return n;
}


/*
 * The remote video streams p should see on max lines, most wanted first:
 * those of its view's ids in order (unknown ids and repeats skipped),
 * then everyone else's in join order, so no line idles while videos
 * exist.  Returns how many, at most max.
 */
static unsigned
sfu_choose_video(sfu_part_t *p, sfu_line_t **chosen, unsigned max)
{
    unsigned      i, n;
    sfu_part_t   *o;
    sfu_queue_t  *q;

    n = 0;

    for (i = 0; i < p->nview && n < max; i++) {
        o = sfu_find_id(&p->room->parts, p->view[i]);

        if (o != NULL && o != p) {
            n = sfu_choose_from(o, chosen, n, max);
        }
    }

    for (q = p->room->parts.next; q != &p->room->parts && n < max;
         q = q->next)
    {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o != p) {
            n = sfu_choose_from(o, chosen, n, max);
        }
    }

    return n;
}


static unsigned
sfu_is_chosen(sfu_line_t *const *chosen, unsigned n, const sfu_line_t *pub)
{
    unsigned  i;

    for (i = 0; i < n; i++) {
        if (chosen[i] == pub) {
            return 1;
        }
    }

    return 0;
}


/*
 * Fills p's video lines with the streams sfu_choose_video() picks.  In
 * an answer every receiving video line may take a stream (the answer
 * announces it); between answers only the lines the last answer sent on
 * may, since the browser expects media on no other.  A chosen stream
 * that has a line keeps it; each other one takes a free line, or else
 * the line of a stream no longer chosen, which is re-pointed (sfu_bind).
 * Returns how many chosen streams found no line.
 */
static unsigned
sfu_assign_video(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    unsigned answering, sfu_io_t *io)
{
    unsigned     i, k, n, nl, missing;
    sfu_line_t  *l, *use, *stale;
    sfu_line_t  *chosen[ROOMS_SDP_MAX_MEDIA], *lines[ROOMS_SDP_MAX_MEDIA];

    nl = 0;

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (l->receiving && l->kind == ROOMS_SDP_KIND_VIDEO
            && (answering || l->announced))
        {
            lines[nl++] = l;
        }
    }

    n = sfu_choose_video(p, chosen, nl);
    missing = 0;

    for (i = 0; i < n; i++) {
        if (sfu_line_of(p, chosen[i]) != NULL) {
            continue;
        }

        use = NULL;
        stale = NULL;

        for (k = 0; k < nl && use == NULL; k++) {
            l = lines[k];

            if (l->bound == NULL) {
                use = l;

            } else if (stale == NULL && !sfu_is_chosen(chosen, n, l->bound))
            {
                stale = l;
            }
        }

        if (use == NULL) {
            use = stale;
        }

        if (use == NULL || sfu_bind(sfu, now, p, use, chosen[i], io) != 0) {
            missing++;
        }
    }

    return missing;
}


/*
 * The streams map of p's lines, {"<mid>": {"participant", "kind"}}, as
 * the answer and the "streams" message carry it; NULL without memory.
 */
static json_t *
sfu_streams_json(const sfu_part_t *p)
{
    json_t            *streams, *obj;
    unsigned           i;
    const sfu_line_t  *l;

    streams = json_object();
    if (streams == NULL) {
        return NULL;
    }

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (!l->receiving || l->bound == NULL) {
            continue;
        }

        obj = json_pack("{s:s, s:s}", "participant", l->bound->owner->id,
                        "kind", sfu_kind_name(l->kind));

        if (obj == NULL || json_object_set_new(streams, l->mid, obj) != 0) {
            json_decref(streams);
            return NULL;
        }
    }

    return streams;
}


/*
 * Between answers: p's video lines follow its view and the room's
 * streams again, and when its map changed (a line re-pointed, or left
 * without a stream) p gets the whole new one in "streams".  Nothing
 * happens before p's first answer: it has no line to move yet.
 */
static void
sfu_video_update(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    json_t  *streams;

    if (p->answered == 0) {
        return;
    }

    (void) sfu_assign_video(sfu, now, p, 0, io);

    if (!p->map_changed) {
        return;
    }

    streams = sfu_streams_json(p);

    if (streams == NULL) {
        /* the next answer or "streams" carries the whole map anyway */
        sfu_log(sfu, SFU_LOG_ERR, "out of memory for the streams of %s",
                p->id);
        return;
    }

    p->map_changed = 0;

    sfu_signal(sfu, io, p->conn, json_pack("{s:s, s:o}", "type", "streams",
                                           "streams", streams));
}


/* Writes the answer to sfu->offer for p and sends it. */
static int
sfu_answer(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p)
{
    int                 n;
    json_t             *streams;
    unsigned            i;
    sfu_line_t         *l;
    rooms_sdp_local_t   local;

    memset(&local, 0, sizeof(local));
    local.ice_ufrag = p->ufrag;
    local.ice_pwd = p->pwd;
    memcpy(local.fingerprint, sfu->fp, ROOMS_DTLS_FP_LEN);
    local.ip = sfu->announce_ip;
    local.port = sfu->conf.port;
    local.session_id = p->sdp_id;
    local.session_version = ++p->sdp_version;
    local.cname = SFU_CNAME;

    streams = sfu_streams_json(p);
    if (streams == NULL) {
        return -1;
    }

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

    n = rooms_sdp_answer(sfu->offer, &local, sfu->answer, SFU_ANSWER_MAX);

    if (n < 0) {
        json_decref(streams);
        return n;
    }

    sfu_signal(sfu, io, p->conn,
               json_pack("{s:s, s:s%, s:o}", "type", "answer",
                         "sdp", sfu->answer, (size_t) n,
                         "streams", streams));

    /* what the browser now expects media on, and the map it has */
    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];
        l->announced = l->receiving && l->bound != NULL;
    }

    p->map_changed = 0;
    p->answered++;

    return 0;
}


/* Creates p's ICE and DTLS session from its first offer. */
static const char *
sfu_session_new(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    const rooms_sdp_t *offer)
{
    if (rooms_ice_credentials_new(p->ufrag, p->pwd) != 0) {
        return "no randomness for ICE credentials";
    }

    p->ice_id = rooms_ice_add(sfu->ice, now, p->ufrag, p->pwd,
                              offer->ice_ufrag, p);
    if (p->ice_id == 0) {
        return "no ICE session available (or a bad ice-ufrag)";
    }

    if (rooms_dtls_init(&p->dtls, sfu->dtls, offer->fingerprint) != 0) {
        rooms_ice_remove(sfu->ice, p->ice_id);
        p->ice_id = 0;
        return "cannot start DTLS";
    }

    memcpy(p->remote_fp, offer->fingerprint, ROOMS_DTLS_FP_LEN);
    memcpy(p->remote_ufrag, offer->ice_ufrag, sizeof(p->remote_ufrag));
    p->has_session = 1;
    p->in_handshake = 1;
    sfu_queue_insert_tail(&sfu->handshakes, &p->hs_link);

    return NULL;
}


static void
sfu_offer(sfu_t *sfu, uint64_t now, sfu_part_t *p, const char *sdp,
    size_t len, sfu_io_t *io)
{
    int                 rc;
    char                err[160];
    unsigned            i, changed, first, missing[2], counts[2], have[2];
    const char         *why;
    rooms_sdp_t        *offer;
    rooms_sdp_neg_t     neg;

    offer = sfu->offer;

    if (rooms_sdp_parse(sdp, len, offer, err, sizeof(err)) != 0) {
        sfu_log(sfu, SFU_LOG_INFO, "bad offer from %s: %s", p->id, err);
        sfu_error(sfu, io, p->conn, "bad_offer", err);
        return;
    }

    why = NULL;

    if (offer->nmedia == 0) {
        why = "the offer has no m= line";

    } else if (offer->fingerprint_len != ROOMS_DTLS_FP_LEN) {
        why = "the offer has no sha-256 fingerprint";

    } else if (offer->ice_lite) {
        why = "the offer is ICE-lite too";

    } else if (offer->setup == ROOMS_SDP_SETUP_PASSIVE
               || offer->setup == ROOMS_SDP_SETUP_HOLDCONN)
    {
        why = "the offer wants us to be the DTLS client";

    } else if (p->has_session
               && memcmp(p->remote_fp, offer->fingerprint,
                         ROOMS_DTLS_FP_LEN) != 0)
    {
        why = "the DTLS fingerprint changed";
    }

    for (i = 0; i < offer->nmedia && why == NULL; i++) {
        rooms_sdp_negotiate(offer, i, &neg);

        if (neg.accepted
            && (offer->media[i].setup == ROOMS_SDP_SETUP_PASSIVE
                || offer->media[i].setup == ROOMS_SDP_SETUP_HOLDCONN))
        {
            why = "an m= line wants us to be the DTLS client";
        }
    }

    if (why == NULL && !p->has_session) {
        why = sfu_session_new(sfu, now, p, offer);
    }

    if (why != NULL) {
        sfu_log(sfu, SFU_LOG_INFO, "bad offer from %s: %s", p->id, why);
        sfu_error(sfu, io, p->conn, "bad_offer", why);
        return;
    }

    /* an ICE restart: the browser's checks now carry its new ufrag */
    if (strcmp(p->remote_ufrag, offer->ice_ufrag) != 0) {
        if (rooms_ice_set_remote_ufrag(sfu->ice, p->ice_id, offer->ice_ufrag)
            != 0)
        {
            sfu_error(sfu, io, p->conn, "bad_offer", "bad ice-ufrag");
            return;
        }

        memcpy(p->remote_ufrag, offer->ice_ufrag, sizeof(p->remote_ufrag));
        sfu_log(sfu, SFU_LOG_INFO, "%s restarted ICE", p->id);
    }

    first = p->answered == 0;
    changed = sfu_lines_update(sfu, p, offer);

    /* every remote audio stream; the videos p's view chooses */
    missing[0] = sfu_bind_audio(sfu, now, p, io);
    missing[1] = sfu_assign_video(sfu, now, p, 1, io);

    rc = sfu_answer(sfu, io, p);

    if (rc != 0) {
        sfu_log(sfu, SFU_LOG_ERR, "cannot answer %s: %d", p->id, rc);
        sfu_error(sfu, io, p->conn, "bad_offer", "the offer cannot be "
                  "answered");
        return;
    }

    if (changed || (first && (sfu_publishes(p, ROOMS_SDP_KIND_AUDIO)
                              || sfu_publishes(p, ROOMS_SDP_KIND_VIDEO))))
    {
        sfu_streams_changed(sfu, now, io, p);
    }

    sfu_media_update(sfu, io, p, 0);

    /* fewer receiving lines than p should have: ask, but once a count */
    sfu_asked_counts(p, counts);
    sfu_receiving_counts(p, have);

    if (have[0] < counts[0] || have[1] < counts[1]) {
        if (counts[0] != p->asked_audio || counts[1] != p->asked_video) {
            sfu_renegotiate(sfu, io, p, counts);

        } else {
            sfu_log(sfu, SFU_LOG_INFO, "%s lacks receiving m= lines: %u "
                    "audio and %u video streams wait", p->id, missing[0],
                    missing[1]);
        }
    }
}


/* ---- SIGNAL, LEAVE ---- */


static void
sfu_bad_message(sfu_t *sfu, uint64_t now, sfu_part_t *p, const char *why,
    sfu_io_t *io)
{
    sfu_log(sfu, SFU_LOG_INFO, "bad message from %s: %s", p->id, why);
    sfu_error(sfu, io, p->conn, "bad_message", why);
    sfu_close(sfu, io, p->conn, SFU_CLOSE_BAD, "bad message");
    sfu_remove(sfu, now, p, 0, "bad message", io);
}


/*
 * "view": the ids whose video p's screen shows, most wanted first
 * (docs/protocol.md, "Who you see and hear").  It replaces the last one
 * and p's video lines follow it at once.  Ids that name nobody are kept
 * (matching nobody, they are skipped when choosing); ones too long to be
 * an id cannot match and are dropped.  A waiting guest sees nobody: its
 * view is ignored.
 */
static void
sfu_view(sfu_t *sfu, uint64_t now, sfu_part_t *p, json_t *msg, sfu_io_t *io)
{
    size_t   i, n, len;
    json_t  *ids, *id;

    if (p->waiting) {
        return;
    }

    ids = json_object_get(msg, "ids");
    n = json_array_size(ids);

    if (!json_is_array(ids) || n > ROOMS_VIEW_MAX) {
        sfu_bad_message(sfu, now, p, "view needs ids, an array of at most "
                        "64", io);
        return;
    }

    for (i = 0; i < n; i++) {
        if (!json_is_string(json_array_get(ids, i))) {
            sfu_bad_message(sfu, now, p, "view ids must be strings", io);
            return;
        }
    }

    p->nview = 0;

    for (i = 0; i < n; i++) {
        id = json_array_get(ids, i);
        len = json_string_length(id);

        if (len > 0 && len <= SFU_ID_LEN) {
            memcpy(p->view[p->nview], json_string_value(id), len + 1);
            p->nview++;
        }
    }

    sfu_video_update(sfu, now, p, io);
}


/* ---- host actions ---- */


/*
 * t, in the room, becomes a co-host (cohost set) or a guest again: its
 * role changes, everyone in the room (t too) gets participant_role, and
 * a ROLE record on t's connection makes nginx draw or revoke its co-host
 * key.  A new co-host gets one knock for each guest waiting, in knock
 * order, as if it had been there when they came; one who stops being
 * one may have been the last moderator (the host-absent policy).
 */
static void
sfu_set_role(sfu_t *sfu, uint64_t now, sfu_part_t *t, unsigned cohost,
    sfu_io_t *io)
{
    char          safe[SFU_NAME_MAX + 1];
    sfu_part_t   *o;
    sfu_room_t   *room;
    sfu_queue_t  *q;

    room = t->room;
    t->cohost = cohost;

    sfu_room_broadcast(sfu, io, room, NULL,
                       json_pack("{s:s, s:s, s:s}", "type",
                                 "participant_role", "id", t->id,
                                 "role", sfu_role(t)));

    sfu_send_json(sfu, io, ROOMS_PROTO_ROLE, t->conn,
                  json_pack("{s:I, s:s, s:s, s:s}", "room",
                            (json_int_t) room->id, "role", sfu_role(t),
                            "token", t->token, "name", t->name));

    sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s): %s \"%s\" is a%s now",
            (long long) room->id, room->code, t->id,
            sfu_printable(t->name, safe, sizeof(safe)),
            cohost ? " co-host" : " guest");

    if (!cohost) {
        room->cohosts--;
        sfu_moderator_gone(sfu, room, now, 0, io);
        return;
    }

    room->cohosts++;
    sfu_moderator_come(sfu, room);

    for (q = room->lobby.next; q != &room->lobby; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        sfu_signal(sfu, io, t->conn,
                   json_pack("{s:s, s:s, s:s}", "type", "knock",
                             "id", o->id, "name", o->name));
    }
}


/*
 * remove, mute, admit and deny from a host or co-host, cohost and
 * uncohost from a host.  This is the worker's one check of the role:
 * nginx refuses them from a guest already (ngx_rooms_ws.c), and this
 * repeats it against the role the JOIN carried (or a promotion gave), so
 * that no record can act for a host that is not one.  A co-host may not
 * remove a host or another co-host.  remove, mute, cohost and uncohost
 * name people in the room, admit and deny people waiting in its lobby.
 */
static void
sfu_host_action(sfu_t *sfu, uint64_t now, sfu_part_t *p, const char *type,
    json_t *msg, sfu_io_t *io)
{
    char         safe[SFU_NAME_MAX + 1];
    unsigned     lobby, role;
    const char  *id;
    sfu_part_t  *t;

    role = strcmp(type, "cohost") == 0 || strcmp(type, "uncohost") == 0;

    if (role ? !p->host : !sfu_moderator(p)) {
        sfu_error(sfu, io, p->conn, "not_host",
                  "only the host can do this");
        return;
    }

    id = json_string_value(json_object_get(msg, "id"));

    if (id == NULL) {
        sfu_bad_message(sfu, now, p, "a host action needs a string id", io);
        return;
    }

    lobby = strcmp(type, "admit") == 0 || strcmp(type, "deny") == 0;

    t = sfu_find_id(lobby ? &p->room->lobby : &p->room->parts, id);

    if (t == NULL || (strcmp(type, "uncohost") == 0 && !t->cohost)) {
        sfu_error(sfu, io, p->conn, "no_such_participant",
                  lobby ? "nobody waiting has this id"
                  : t == NULL ? "nobody in the room has this id"
                  : "nobody in the room is a co-host with this id");
        return;
    }

    /* a co-host acts on guests only; a host is no co-host to make */
    if ((strcmp(type, "cohost") == 0 && t->host)
        || (strcmp(type, "remove") == 0 && !p->host && sfu_moderator(t)))
    {
        sfu_error(sfu, io, p->conn, "not_host", t->host && p->host
                  ? "a host cannot be made a co-host"
                  : "only the host can remove a host or a co-host");
        return;
    }

    if (strcmp(type, "cohost") == 0) {
        if (t->cohost) {
            return;
        }

        if (p->room->cohosts >= ROOMS_COHOSTS_MAX) {
            sfu_error(sfu, io, p->conn, "too_many_cohosts",
                      "this room has as many co-hosts as it may");
            return;
        }

        sfu_set_role(sfu, now, t, 1, io);
        return;
    }

    if (strcmp(type, "uncohost") == 0) {
        sfu_set_role(sfu, now, t, 0, io);
        return;
    }

    if (strcmp(type, "admit") == 0) {
        sfu_log(sfu, SFU_LOG_INFO, "host %s admits %s \"%s\"", p->id, t->id,
                sfu_printable(t->name, safe, sizeof(safe)));
        sfu_admit(sfu, now, t, io);
        return;
    }

    if (strcmp(type, "deny") == 0) {
        /* not a ban: the guest may knock again */
        sfu_log(sfu, SFU_LOG_INFO, "host %s denied %s \"%s\"", p->id, t->id,
                sfu_printable(t->name, safe, sizeof(safe)));
        sfu_error(sfu, io, t->conn, "denied", "the host did not let you in");
        sfu_lobby_leave(sfu, now, t, SFU_CLOSE_REFUSED, "denied", io);
        return;
    }

    if (strcmp(type, "mute") == 0) {
        sfu_signal(sfu, io, t->conn,
                   json_pack("{s:s}", "type", "mute_request"));
        sfu_log(sfu, SFU_LOG_INFO, "host %s asked %s to mute", p->id, t->id);
        return;
    }

    /*
     * The ban goes first, on the ring of the nginx worker that holds the
     * removed WebSocket: that worker stores it before it reads the CLOSE
     * below, so the ban is durable before the browser learns of it and
     * can try to join again.
     */
    sfu_send_json(sfu, io, ROOMS_PROTO_BAN, t->conn,
                  json_pack("{s:I, s:s}", "room", (json_int_t) t->room->id,
                            "token", t->token));

    sfu_log(sfu, SFU_LOG_INFO, "host %s removed %s \"%s\"", p->id, t->id,
            sfu_printable(t->name, safe, sizeof(safe)));

    sfu_error(sfu, io, t->conn, "removed", "the host removed you from "
              "this room");
    sfu_remove(sfu, now, t, SFU_CLOSE_REFUSED, "removed", io);
}


/*
 * A ROOM record: nginx changed a room in the store (a host locked,
 * unlocked, ended or patched it, over HTTP or a WebSocket; a host-absent
 * policy applied; a co-host credential was revoked).  One older than the
 * state the worker has (rev below the room's) changes none of it; an end
 * and a demotion apply whatever the rev.  One about a room nobody is in
 * makes an idle room with that state, so that a JOIN built before the
 * change and still on its way is judged by it.
 */
static void
sfu_room_change(sfu_t *sfu, uint64_t now, json_t *msg, sfu_io_t *io)
{
    char           token[ROOMS_HASH_HEX_LEN + 1];
    json_t        *jroom, *jended, *jdemote, *jreason, *obj;
    unsigned       n;
    sfu_part_t    *p;
    sfu_room_t    *room;
    sfu_queue_t   *q, *qn;
    sfu_state_t    st;
    const char    *demote, *reason;
    unsigned char  hash[ROOMS_HASH_LEN];

    jroom = json_object_get(msg, "room");
    jended = json_object_get(msg, "ended");
    jdemote = json_object_get(msg, "demote");
    jreason = json_object_get(msg, "reason");
    demote = json_string_value(jdemote);
    reason = json_string_value(jreason);

    if (!json_is_integer(jroom)
        || sfu_state_parse(msg, &st) != 0
        || (jended != NULL && !json_is_true(jended))
        || (jdemote != NULL
            && (demote == NULL
                || rooms_token_hash_from_hex(demote,
                                             json_string_length(jdemote),
                                             hash) != 0))
        || (jreason != NULL && reason == NULL)
        || (jended == NULL) == (st.has == 0 && jdemote == NULL))
    {
        sfu_log(sfu, SFU_LOG_WARN, "malformed ROOM record from nginx");
        return;
    }

    /* the one reason the clients are told of */
    if (reason != NULL && strcmp(reason, "host_absent") != 0) {
        reason = NULL;
    }

    room = sfu_find_room(sfu, json_integer_value(jroom));

    if (room == NULL) {
        if (jended == NULL && st.has == 0) {
            /* a demotion in a room nobody is in: nobody to demote */
            return;
        }

        room = sfu_room_new(sfu, json_integer_value(jroom));
        if (room == NULL) {
            sfu_log(sfu, SFU_LOG_ERR, "out of memory keeping the state of "
                    "room %lld", (long long) json_integer_value(jroom));
            return;
        }

        /* idle from the start: it lingers */
        sfu_room_release(sfu, room, now);
    }

    if (jended != NULL) {
        if (room->ended) {
            return;
        }

        room->ended = 1;
        sfu_state_apply(room, &st, st.rev >= room->rev);
        sfu_absent_cancel(sfu, room);

        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) ended%s: closing %u and "
                "%u waiting", (long long) room->id, room->code,
                reason ? " (no host)" : "", room->count, room->waiting);

        /*
         * The people in the room go first, so the moderators are not
         * told of each waiting guest's leaving; then the lobby.  Each
         * removal takes one; an ended room starts no host-absent
         * deadline, and it lingers (so that a racing JOIN is refused).
         */
        n = room->count + room->waiting;

        while (n-- > 0) {
            q = sfu_queue_empty(&room->parts) ? room->lobby.next
                                              : room->parts.next;
            p = sfu_queue_data(q, sfu_part_t, room_link);

            sfu_error_why(sfu, io, p->conn, "room_ended",
                          "the host ended this room", reason);
            sfu_remove(sfu, now, p, SFU_CLOSE_REFUSED, "room_ended", io);
        }

        /* an idle room whose deadline was pending lingers now */
        sfu_room_release(sfu, room, now);
        return;
    }

    if (st.rev < room->rev) {
        sfu_log(sfu, SFU_LOG_DEBUG, "room %lld (%s): ROOM record of rev "
                "%lld is older than rev %lld, its state is ignored",
                (long long) room->id, room->code, (long long) st.rev,
                (long long) room->rev);
        st.has = 0;
    }

    sfu_state_apply(room, &st, 1);

    if (st.has & SFU_KNOWS_LOCKED) {
        obj = json_pack("{s:s, s:b}", "type", "room",
                        "locked", (int) room->locked);

        if (obj != NULL && reason != NULL
            && json_object_set_new(obj, "reason", json_string(reason)) != 0)
        {
            json_decref(obj);
            obj = NULL;
        }

        sfu_room_broadcast(sfu, io, room, NULL, obj);
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) %s%s",
                (long long) room->id, room->code,
                room->locked ? "locked" : "unlocked",
                reason ? " (no host)" : "");
    }

    if (demote != NULL) {
        rooms_token_hash_hex(hash, token);

        /* a demotion unlinks nobody: qn stays valid */
        for (q = room->parts.next; q != &room->parts; q = qn) {
            qn = q->next;
            p = sfu_queue_data(q, sfu_part_t, room_link);

            if (p->cohost && strcmp(p->token, token) == 0) {
                sfu_set_role(sfu, now, p, 0, io);
            }
        }
    }

    if (!(st.has & SFU_KNOWS_KNOCK) || room->knock || room->waiting == 0) {
        return;
    }

    sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) is open now: admitting %u",
            (long long) room->id, room->code, room->waiting);

    /*
     * Each admission takes one guest out of the lobby, in the order they
     * knocked; a refusal of the last one leaves the room idle (a cap of
     * 1 with nobody in), which only the next sfu_poll() frees.
     */
    n = room->waiting;

    while (n-- > 0) {
        sfu_admit(sfu, now, sfu_queue_data(room->lobby.next, sfu_part_t,
                                           room_link), io);
    }
}


static void
sfu_message(sfu_t *sfu, uint64_t now, sfu_part_t *p, json_t *msg,
    sfu_io_t *io)
{
    json_t      *jsdp, *ja, *jv;
    const char  *type, *sdp;

    type = json_string_value(json_object_get(msg, "type"));

    if (type == NULL) {
        sfu_bad_message(sfu, now, p, "a message without a type", io);
        return;
    }

    if (strcmp(type, "offer") == 0) {
        if (p->waiting) {
            /* no session before the welcome, which comes on admission */
            sfu_bad_message(sfu, now, p, "an offer before the welcome", io);
            return;
        }

        jsdp = json_object_get(msg, "sdp");
        sdp = json_string_value(jsdp);

        if (sdp == NULL) {
            sfu_bad_message(sfu, now, p, "an offer without sdp", io);
            return;
        }

        sfu_offer(sfu, now, p, sdp, json_string_length(jsdp), io);
        return;
    }

    if (strcmp(type, "media") == 0) {
        ja = json_object_get(msg, "audio");
        jv = json_object_get(msg, "video");

        if (!json_is_boolean(ja) || !json_is_boolean(jv)) {
            sfu_bad_message(sfu, now, p, "media needs audio and video "
                            "booleans", io);
            return;
        }

        p->audio_on = json_is_true(ja);
        p->video_on = json_is_true(jv);

        /* a waiting guest's choice holds once it is in; nobody sees it */
        if (!p->waiting) {
            sfu_media_update(sfu, io, p, 1);
        }

        return;
    }

    if (strcmp(type, "view") == 0) {
        sfu_view(sfu, now, p, msg, io);
        return;
    }

    if (strcmp(type, "leave") == 0) {
        /* a host gone by "leave" is gone for good: no grace */
        p->said_leave = 1;
        sfu_close(sfu, io, p->conn, SFU_CLOSE_NORMAL, "bye");
        sfu_remove(sfu, now, p, 0, "left", io);
        return;
    }

    if (strcmp(type, "remove") == 0 || strcmp(type, "mute") == 0
        || strcmp(type, "admit") == 0 || strcmp(type, "deny") == 0
        || strcmp(type, "cohost") == 0 || strcmp(type, "uncohost") == 0)
    {
        sfu_host_action(sfu, now, p, type, msg, io);
        return;
    }

    sfu_bad_message(sfu, now, p, strcmp(type, "join") == 0
                                 ? "join was sent twice"
                                 : "unknown message type", io);
}


void
sfu_record(sfu_t *sfu, uint64_t now_ms, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload, sfu_io_t *io)
{
    json_t        *msg;
    sfu_part_t    *p;
    json_error_t   jerr;

    p = sfu_find_conn(sfu, hdr->id);

    if (hdr->type == ROOMS_PROTO_LEAVE) {
        if (p != NULL) {
            sfu_remove(sfu, now_ms, p, 0, "connection closed", io);
        }
        return;
    }

    if (hdr->type != ROOMS_PROTO_JOIN && hdr->type != ROOMS_PROTO_SIGNAL
        && hdr->type != ROOMS_PROTO_ROOM)
    {
        sfu_log(sfu, SFU_LOG_WARN, "record of unknown type %u ignored",
                (unsigned) hdr->type);
        return;
    }

    if (hdr->type == ROOMS_PROTO_ROOM) {
        /* about a room, not a connection: id 0 names nobody */
        p = NULL;
    }

    if (hdr->type == ROOMS_PROTO_SIGNAL && p == NULL) {
        /* after a refusal, or racing a close: nobody to answer */
        sfu_log(sfu, SFU_LOG_DEBUG, "SIGNAL for unknown connection %u:%llu",
                ROOMS_PROTO_SLOT(hdr->id),
                (unsigned long long) (hdr->id & 0xffffffffffffULL));
        return;
    }

    /* shared memory is read once, into our copy, before parsing */
    msg = NULL;

    if (hdr->len <= SFU_MSG_MAX) {
        memcpy(sfu->msg, payload, hdr->len);
        sfu->msg[hdr->len] = '\0';
        msg = json_loadb(sfu->msg, hdr->len, JSON_REJECT_DUPLICATES, &jerr);
    }

    if (!json_is_object(msg)) {
        json_decref(msg);

        if (hdr->type == ROOMS_PROTO_ROOM) {
            sfu_log(sfu, SFU_LOG_WARN, "ROOM record that is not a JSON "
                    "object");

        } else if (p != NULL) {
            sfu_bad_message(sfu, now_ms, p, "not a JSON object", io);

        } else {
            sfu_log(sfu, SFU_LOG_WARN, "JOIN that is not a JSON object");
            sfu_error(sfu, io, hdr->id, "bad_message", "malformed join");
            sfu_close(sfu, io, hdr->id, SFU_CLOSE_BAD, "bad message");
        }

        return;
    }

    if (hdr->type == ROOMS_PROTO_JOIN) {
        sfu_join(sfu, now_ms, hdr->id, msg, io);

    } else if (hdr->type == ROOMS_PROTO_ROOM) {
        sfu_room_change(sfu, now_ms, msg, io);

    } else {
        sfu_message(sfu, now_ms, p, msg, io);
    }

    json_decref(msg);
}


/*
 * p leaves: its streams and bindings go, the others are told (and asked
 * to renegotiate when it published), nginx gets the room's new count, its
 * session is freed.  The last host or co-host to go starts the room's
 * host-absent policy (at once when it said "leave").  A waiting p only
 * leaves the lobby.  close_code, when not 0, also closes p's WebSocket
 * with why.  The room is never freed here: it lingers when idle.
 */
static void
sfu_remove(sfu_t *sfu, uint64_t now, sfu_part_t *p, unsigned close_code,
    const char *why, sfu_io_t *io)
{
    char          safe[SFU_NAME_MAX + 1];
    unsigned      i, had_streams, counts[2];
    sfu_part_t   *o;
    sfu_room_t   *room;
    sfu_queue_t  *q;

    if (p->waiting) {
        /* it never came in: only the hosts knew of it */
        sfu_lobby_leave(sfu, now, p, close_code, why, io);
        return;
    }

    room = p->room;

    if (close_code != 0) {
        sfu_close(sfu, io, p->conn, close_code, why);
    }

    had_streams = 0;

    for (i = 0; i < p->nlines; i++) {
        had_streams |= p->lines[i].publishing;
        sfu_line_reset(p, &p->lines[i], i);
    }

    sfu_queue_remove(&p->room_link);
    room->count--;
    room->guests -= !p->host;
    room->cohosts -= p->cohost;

    /* p is out of the room now: these reach only the others */
    for (q = room->parts.next; q != &room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        sfu_signal(sfu, io, o->conn,
                   json_pack("{s:s, s:s}", "type", "participant_left",
                             "id", p->id));

        /*
         * Their video lines that carried p's streams take the next ones
         * chosen; the lines left free are answered inactive.
         */
        if (had_streams && o->answered > 0) {
            sfu_video_update(sfu, now, o, io);
            sfu_asked_counts(o, counts);
            sfu_renegotiate(sfu, io, o, counts);
        }
    }

    sfu_count(sfu, io, room, sfu->slots);

    if (sfu_moderator(p)) {
        sfu_moderator_gone(sfu, room, now, p->said_leave, io);
    }

    if (p->in_handshake) {
        sfu_queue_remove(&p->hs_link);
        p->in_handshake = 0;
    }

    sfu_rr_cancel(sfu, p);

    if (p->ice_id != 0) {
        rooms_ice_remove(sfu->ice, p->ice_id);
    }

    if (p->dtls.ssl != NULL) {
        rooms_dtls_free(&p->dtls);
    }

    if (p->srtp_ready) {
        rooms_srtp_destroy(&p->srtp);
    }

    sfu_conn_unlink(sfu, p);
    sfu_queue_remove(&p->all_link);
    sfu->nparts--;
    sfu->stats.leaves++;

    sfu_log(sfu, SFU_LOG_INFO, "participant left: room %lld (%s) id %s "
            "name \"%s\" (%s), %u in the room", (long long) room->id,
            room->code, p->id, sfu_printable(p->name, safe, sizeof(safe)),
            why, room->count);

    free(p);

    sfu_room_release(sfu, room, now);
}


void
sfu_drop_slot(sfu_t *sfu, unsigned slot, uint64_t now_ms, sfu_io_t *io)
{
    sfu_queue_t  *q, *next;
    sfu_part_t   *p;

    sfu->dead_slot = (int) slot;

    if (slot < ROOMS_RING_MAX_PEERS) {
        sfu->slots &= ~((uint64_t) 1 << slot);
    }

    for (q = sfu->all.next; q != &sfu->all; q = next) {
        next = q->next;
        p = sfu_queue_data(q, sfu_part_t, all_link);

        if (ROOMS_PROTO_SLOT(p->conn) != slot) {
            continue;
        }

        /*
         * Removing p (joined or waiting) may only touch its room's
         * members (signals), never unlink another participant or let
         * one in, so next stays valid.
         */
        sfu_remove(sfu, now_ms, p, 0, "nginx worker gone", io);
    }

    sfu->dead_slot = -1;
}


void
sfu_slot_add(sfu_t *sfu, unsigned slot, sfu_io_t *io)
{
    unsigned     i;
    sfu_room_t  *room;

    if (slot >= ROOMS_RING_MAX_PEERS) {
        return;
    }

    sfu->slots |= (uint64_t) 1 << slot;

    /*
     * The newcomer learns every count that is not 0: nginx sets all it
     * had to 0 when its link dropped, and after a restart of nginx the
     * shared directory knows nothing of the rooms people are in.
     */
    for (i = 0; i < SFU_ROOM_BUCKETS; i++) {
        for (room = sfu->rooms[i]; room; room = room->hash_next) {
            if (room->count > 0) {
                sfu_count(sfu, io, room, (uint64_t) 1 << slot);
            }
        }
    }
}


/* ---- the media path ---- */


/* Sends whatever DTLS has queued for p. */
static void
sfu_dtls_flush(sfu_t *sfu, sfu_part_t *p, sfu_io_t *io)
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


static void
sfu_dtls_event(sfu_t *sfu, uint64_t now, sfu_part_t *p, int ev, sfu_io_t *io)
{
    unsigned     i;
    sfu_line_t  *l;

    switch (ev) {

    case ROOMS_DTLS_EV_CONNECTED:
        if (p->in_handshake) {
            sfu_queue_remove(&p->hs_link);
            p->in_handshake = 0;
        }

        if (p->srtp_ready) {
            return;
        }

        if (rooms_srtp_create(&p->srtp, p->dtls.profile, p->dtls.keying,
                              p->dtls.keying_len, 1) != 0)
        {
            sfu_log(sfu, SFU_LOG_ERR, "%s: cannot set up SRTP", p->id);
            sfu_remove(sfu, now, p, SFU_CLOSE_TIMEOUT, "SRTP failed", io);
            return;
        }

        p->srtp_ready = 1;
        sfu_rr_schedule(sfu, p, now + sfu_rr_interval());

        sfu_log(sfu, SFU_LOG_INFO, "DTLS connected: %s (room %lld), SRTP "
                "profile %s", p->id, (long long) p->room->id,
                p->dtls.profile == ROOMS_SRTP_AEAD_AES_128_GCM
                ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80");

        /* its new subscriptions start with a keyframe */
        for (i = 0; i < p->nlines; i++) {
            l = &p->lines[i];

            if (l->bound != NULL && l->kind == ROOMS_SDP_KIND_VIDEO) {
                sfu_want_keyframe(sfu, now, l->bound, io);
            }
        }

        return;

    case ROOMS_DTLS_EV_FAILED:
        sfu_log(sfu, SFU_LOG_WARN, "DTLS failed: %s: %s", p->id,
                p->dtls.error ? p->dtls.error : "unknown");
        sfu_remove(sfu, now, p, SFU_CLOSE_TIMEOUT, "media failed (DTLS)", io);
        return;

    case ROOMS_DTLS_EV_CLOSED:
        sfu_log(sfu, SFU_LOG_INFO, "DTLS closed by %s", p->id);
        return;

    default:
        return;
    }
}


/* one header extension element to write */
typedef struct {
    unsigned        id;
    const uint8_t  *data;
    size_t          len;
} sfu_ext_t;


/*
 * The bytes of the extension block holding el[0..count), its 4-byte
 * header included (0 when count is 0); *two is set when an id needs the
 * two-byte form (RFC 8285: the one-byte form holds ids 1..14).
 */
static size_t
sfu_ext_size(const sfu_ext_t *el, unsigned count, unsigned *two)
{
    size_t    ext;
    unsigned  i;

    *two = 0;
    ext = 0;

    if (count == 0) {
        return 0;
    }

    for (i = 0; i < count; i++) {
        if (el[i].id > 14) {
            *two = 1;
        }
    }

    for (i = 0; i < count; i++) {
        ext += (*two ? 2 : 1) + el[i].len;
    }

    return 4 + ((ext + 3) & ~(size_t) 3);
}


/* Writes the block of sfu_ext_size() bytes at out (count > 0). */
static void
sfu_ext_write(uint8_t *out, const sfu_ext_t *el, unsigned count,
    unsigned two, size_t size)
{
    unsigned   i;
    uint8_t   *e;

    out[0] = two ? 0x10 : 0xbe;
    out[1] = two ? 0x00 : 0xde;
    out[2] = (uint8_t) (((size - 4) / 4) >> 8);
    out[3] = (uint8_t) ((size - 4) / 4);
    e = out + 4;

    for (i = 0; i < count; i++) {
        if (two) {
            *e++ = (uint8_t) el[i].id;
            *e++ = (uint8_t) el[i].len;

        } else {
            *e++ = (uint8_t) ((el[i].id << 4) | (el[i].len - 1));
        }

        memcpy(e, el[i].data, el[i].len);
        e += el[i].len;
    }

    while (e < out + size) {
        *e++ = 0;
    }
}


/*
 * Writes into out the packet pkt as subscriber line sub sends it: the
 * fixed header and CSRCs as they are, a new extension block with sub's
 * ids, then the payload and padding.  Returns the length, or 0 when it
 * would exceed a history slot.
 */
static size_t
sfu_build(const sfu_line_t *sub, const rooms_rtp_t *pkt, const uint8_t *abs,
    const uint8_t *level, uint8_t *out)
{
    size_t     fixed, ext, n, total, mid_len;
    unsigned   two, count;
    sfu_ext_t  el[3];

    count = 0;
    mid_len = strlen(sub->mid);

    if (sub->neg.ext_mid && mid_len > 0) {
        el[count].id = sub->neg.ext_mid;
        el[count].data = (const uint8_t *) sub->mid;
        el[count++].len = mid_len;
    }

    if (sub->neg.ext_abs_send_time && abs != NULL) {
        el[count].id = sub->neg.ext_abs_send_time;
        el[count].data = abs;
        el[count++].len = ROOMS_RTP_ABS_SEND_TIME_LEN;
    }

    if (sub->neg.ext_audio_level && level != NULL) {
        el[count].id = sub->neg.ext_audio_level;
        el[count].data = level;
        el[count++].len = 1;
    }

    ext = sfu_ext_size(el, count, &two);

    fixed = ROOMS_RTP_HEADER_LEN + 4 * (size_t) pkt->csrc_count;
    total = fixed + ext + (pkt->len - pkt->payload_off);

    if (total > ROOMS_HIST_SLOT) {
        return 0;
    }

    memcpy(out, pkt->buf, fixed);
    out[0] = (uint8_t) ((out[0] & ~0x10) | (count ? 0x10 : 0));
    n = fixed;

    if (count) {
        sfu_ext_write(out + n, el, count, two, ext);
        n += ext;
    }

    /* payload and padding as they were (P keeps its meaning) */
    memcpy(out + n, pkt->buf + pkt->payload_off, pkt->len - pkt->payload_off);

    return n + pkt->len - pkt->payload_off;
}


/*
 * Writes into out (SFU_DGRAM_MAX bytes) the RTX packet (RFC 4588 §4)
 * that resends the kept packet pkt[0..len) of subscriber line sub: its
 * fixed header and CSRCs with sub's RTX payload type, RTX SSRC and next
 * RTX sequence number (marker and timestamp kept); an extension block
 * with sub's mid only (a stale abs-send-time would read as queuing delay
 * to the receiver's bandwidth estimate); then the original sequence
 * number, the one sub saw, and the original payload without its padding.
 * Returns the length, or 0.
 */
static size_t
sfu_build_rtx(sfu_line_t *sub, const uint8_t *pkt, size_t len, uint8_t *out)
{
    size_t       fixed, ext, n, mid_len;
    unsigned     two, count;
    sfu_ext_t    el[1];
    rooms_rtp_t  r;

    if (rooms_rtp_parse(pkt, len, &r) != 0) {
        return 0;
    }

    count = 0;
    mid_len = strlen(sub->mid);

    if (sub->neg.ext_mid && mid_len > 0) {
        el[count].id = sub->neg.ext_mid;
        el[count].data = (const uint8_t *) sub->mid;
        el[count++].len = mid_len;
    }

    ext = sfu_ext_size(el, count, &two);
    fixed = ROOMS_RTP_HEADER_LEN + 4 * (size_t) r.csrc_count;

    /* the kept packet is at most a slot; this leaves SRTP its tag */
    if (fixed + ext + 2 + r.payload_len
        > SFU_DGRAM_MAX - ROOMS_SRTP_MAX_TRAILER)
    {
        return 0;
    }

    memcpy(out, pkt, fixed);

    /* no padding (P), and X only for the mid */
    out[0] = (uint8_t) ((out[0] & ~0x30) | (count ? 0x10 : 0));
    n = fixed;

    if (count) {
        sfu_ext_write(out + n, el, count, two, ext);
        n += ext;
    }

    out[n] = (uint8_t) (r.seq >> 8);
    out[n + 1] = (uint8_t) r.seq;
    n += 2;

    memcpy(out + n, pkt + r.payload_off, r.payload_len);
    n += r.payload_len;

    rooms_rtp_set_pt(out, (unsigned) sub->neg.rtx_pt);
    rooms_rtp_set_ssrc(out, sub->rtx_out_ssrc);
    rooms_rtp_set_seq(out, sub->rtx_seq++);

    return n;
}


static void
sfu_forward(sfu_t *sfu, uint64_t now, sfu_line_t *pub, const rooms_rtp_t *pkt,
    sfu_io_t *io)
{
    int            seq;
    size_t         n, len;
    sfu_part_t    *s;
    sfu_line_t    *sub;
    sfu_queue_t   *q;
    sfu_dgram_t   *d;
    const uint8_t *abs, *level, *v;

    abs = NULL;
    level = NULL;

    if (pub->neg.ext_abs_send_time
        && rooms_rtp_ext_find(pkt, pub->neg.ext_abs_send_time, &v, &len) == 0
        && len == ROOMS_RTP_ABS_SEND_TIME_LEN)
    {
        abs = v;
    }

    if (pub->neg.ext_audio_level
        && rooms_rtp_ext_find(pkt, pub->neg.ext_audio_level, &v, &len) == 0
        && len == 1)
    {
        level = v;
    }

    for (q = pub->subscribers.next; q != &pub->subscribers; q = q->next) {
        sub = sfu_queue_data(q, sfu_line_t, sub_link);
        s = sub->owner;

        if (!s->srtp_ready || !s->has_addr) {
            continue;
        }

        d = sfu_out(sfu, io);
        if (d == NULL) {
            continue;
        }

        n = sfu_build(sub, pkt, abs, level, d->data);

        if (n == 0) {
            sfu->stats.fwd_dropped++;
            continue;
        }

        seq = rooms_fwd_rewrite(&sub->fwd, (int64_t) now, d->data, n);

        if (seq == ROOMS_FWD_DROP) {
            sfu->stats.fwd_dropped++;
            continue;
        }

        rooms_rtp_set_pt(d->data, (unsigned) sub->neg.pt);

        if (sub->hist.data != NULL) {
            (void) rooms_hist_put(&sub->hist, d->data, n);
        }

        if (rooms_srtp_protect(&s->srtp, d->data, &n) != 0) {
            sfu->stats.fwd_dropped++;
            continue;
        }

        sfu_commit(sfu, io, &s->addr, n);
        sfu->stats.fwd++;
    }
}


static void
sfu_rtp(sfu_t *sfu, uint64_t now, sfu_part_t *p, const uint8_t *buf,
    size_t len, sfu_io_t *io)
{
    char          mid[ROOMS_SDP_MID_MAX + 1];
    size_t        n;
    unsigned      i;
    sfu_line_t   *l, *pub;
    rooms_rtp_t   pkt;
    const uint8_t *v;

    if (rooms_rtp_parse(buf, len, &pkt) != 0) {
        sfu->stats.rx_bad++;
        return;
    }

    pub = NULL;

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (!l->publishing) {
            continue;
        }

        if (l->has_ssrc && l->ssrc == pkt.ssrc) {
            pub = l;
            break;
        }

        if (l->has_ssrc && l->rtx_ssrc == pkt.ssrc) {
            /* retransmissions: we never NACK publishers, drop them */
            return;
        }
    }

    /* no a=ssrc (rid simulcast, other browsers): learn it by mid */
    if (pub == NULL && p->ext_mid != 0
        && rooms_rtp_ext_find(&pkt, p->ext_mid, &v, &n) == 0
        && n > 0 && n <= ROOMS_SDP_MID_MAX)
    {
        memcpy(mid, v, n);
        mid[n] = '\0';

        for (i = 0; i < p->nlines; i++) {
            l = &p->lines[i];

            if (l->publishing && !l->has_ssrc && (int) pkt.pt == l->neg.pt
                && strcmp(l->mid, mid) == 0)
            {
                l->has_ssrc = 1;
                l->ssrc = pkt.ssrc;
                pub = l;

                sfu_log(sfu, SFU_LOG_DEBUG, "%s mid %s sends ssrc %u",
                        p->id, mid, (unsigned) pkt.ssrc);
                break;
            }
        }
    }

    if (pub == NULL) {
        sfu->stats.rtp_unknown_ssrc++;
        return;
    }

    /* every packet of the stream counts, whatever its payload type */
    sfu_rx_packet(&pub->rx, now, sfu_clock_rate(pub->kind), &pkt);

    /* the codec we accepted only (no RED, no RTX padding probes) */
    if ((int) pkt.pt != pub->neg.pt) {
        return;
    }

    pub->rx_packets++;

    sfu_forward(sfu, now, pub, &pkt, io);
}


/* The receiving line of p that sends ssrc, or NULL. */
static sfu_line_t *
sfu_line_by_out_ssrc(sfu_part_t *p, uint32_t ssrc)
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
 * Answers a NACK from p's history: as RTX packets when the line
 * negotiated RTX (and the answer announced our RTX SSRC), or else by
 * sending the kept packets again as they were.
 */
static void
sfu_nack(sfu_t *sfu, sfu_part_t *p, const rooms_rtcp_fb_t *fb, sfu_io_t *io)
{
    int             n, i;
    size_t          len;
    unsigned        rtx;
    uint16_t        lost[SFU_NACK_MAX];
    sfu_line_t     *l;
    sfu_dgram_t    *d;
    const uint8_t  *pkt;

    l = sfu_line_by_out_ssrc(p, fb->media_ssrc);

    if (l == NULL || l->hist.data == NULL) {
        return;
    }

    rtx = l->neg.rtx_pt >= 0 && l->rtx_out_ssrc != 0;

    n = rooms_rtcp_nack_expand(fb, lost, SFU_NACK_MAX);

    for (i = 0; i < n; i++) {
        pkt = rooms_hist_get(&l->hist, lost[i], &len);
        if (pkt == NULL) {
            continue;
        }

        d = sfu_out(sfu, io);
        if (d == NULL) {
            return;
        }

        if (rtx) {
            len = sfu_build_rtx(l, pkt, len, d->data);
            if (len == 0) {
                continue;
            }

        } else {
            memcpy(d->data, pkt, len);
        }

        if (rooms_srtp_protect(&p->srtp, d->data, &len) != 0) {
            continue;
        }

        sfu_commit(sfu, io, &p->addr, len);
        sfu->stats.nack_resent++;

        if (rtx) {
            sfu->stats.rtx_sent++;
        }
    }
}


static void
sfu_rtcp(sfu_t *sfu, uint64_t now, sfu_part_t *p, const uint8_t *buf,
    size_t len, sfu_io_t *io)
{
    int                     rc, k, count;
    size_t                  off;
    sfu_line_t             *l;
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
                sfu_sender_report(now, p, &sr);
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
            sfu_nack(sfu, p, &fb, io);
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


void
sfu_udp_input(sfu_t *sfu, uint64_t now_ms, const rooms_stun_addr_t *src,
    uint8_t *buf, size_t len, sfu_io_t *io)
{
    int                  ev;
    char                 text[64];
    size_t               out_len;
    uint8_t              reply[ROOMS_STUN_REPLY_MAX], first;
    sfu_part_t          *p;
    sfu_dgram_t         *d;
    rooms_ice_event_t    iev;
    rooms_ice_action_e   act;

    sfu->stats.rx++;

    if (len == 0) {
        return;
    }

    first = buf[0];

    /* RFC 7983: the first byte says which protocol */
    if (first <= 3) {
        sfu->stats.rx_stun++;
        out_len = sizeof(reply);

        act = rooms_ice_input(sfu->ice, now_ms, src, buf, len, reply,
                              &out_len, &iev);

        if (act == ROOMS_ICE_REPLY && out_len > 0) {
            d = sfu_out(sfu, io);

            if (d != NULL) {
                memcpy(d->data, reply, out_len);
                sfu_commit(sfu, io, src, out_len);
            }
        }

        if (iev.type == ROOMS_ICE_EV_SELECTED && iev.data != NULL) {
            p = iev.data;
            p->addr = iev.addr;
            p->has_addr = 1;

            sfu_log(sfu, SFU_LOG_INFO, "ICE selected: %s (room %lld) at %s",
                    p->id, (long long) p->room->id,
                    rooms_stun_addr_format(&iev.addr, text, sizeof(text)));
        }

        return;
    }

    if (rooms_ice_lookup_addr(sfu->ice, src, (void **) &p) == 0) {
        sfu->stats.rx_unknown++;
        return;
    }

    if (first >= 20 && first <= 63) {
        sfu->stats.rx_dtls++;

        if (p->dtls.ssl == NULL) {
            return;
        }

        ev = rooms_dtls_input(&p->dtls, buf, len);
        sfu_dtls_flush(sfu, p, io);
        sfu_dtls_event(sfu, now_ms, p, ev, io);
        return;
    }

    if (first < 128 || first > 191) {
        sfu->stats.rx_bad++;
        return;
    }

    if (!p->srtp_ready) {
        sfu->stats.unprotect_fail++;
        return;
    }

    if (rooms_rtp_is_rtcp(buf, len)) {
        sfu->stats.rx_rtcp++;

        if (rooms_srtp_unprotect_rtcp(&p->srtp, buf, &len) != 0) {
            sfu->stats.unprotect_fail++;
            return;
        }

        sfu_rtcp(sfu, now_ms, p, buf, len, io);
        return;
    }

    sfu->stats.rx_rtp++;

    if (rooms_srtp_unprotect(&p->srtp, buf, &len) != 0) {
        sfu->stats.unprotect_fail++;
        return;
    }

    sfu_rtp(sfu, now_ms, p, buf, len, io);
}


/* ---- timers ---- */


uint64_t
sfu_poll(sfu_t *sfu, uint64_t now_ms, sfu_io_t *io)
{
    int                 ev;
    long                ms;
    int64_t             wait;
    uint64_t            next, t;
    sfu_part_t         *p;
    sfu_line_t         *l;
    sfu_room_t         *room;
    sfu_queue_t        *q, *qn;
    rooms_ice_event_t   iev;

    next = SFU_NEVER;

    /* ICE: consent and connect timeouts, one event per call */
    for ( ;; ) {
        t = rooms_ice_poll(sfu->ice, now_ms, &iev);

        if (iev.type != ROOMS_ICE_EV_TIMEOUT) {
            if (t < next) {
                next = t;
            }
            break;
        }

        p = iev.data;
        sfu->stats.timeouts++;

        if (p == NULL) {
            rooms_ice_remove(sfu->ice, iev.id);
            continue;
        }

        sfu_log(sfu, SFU_LOG_INFO, "ICE timeout (%s): %s",
                iev.reason == ROOMS_ICE_TIMEOUT_CONSENT
                ? "consent expired" : "never connected", p->id);

        sfu_remove(sfu, now_ms, p, SFU_CLOSE_TIMEOUT, "media timed out", io);
    }

    /* DTLS retransmissions of sessions still shaking hands */
    for (q = sfu->handshakes.next; q != &sfu->handshakes; q = qn) {
        qn = q->next;
        p = sfu_queue_data(q, sfu_part_t, hs_link);

        ms = rooms_dtls_timeout(&p->dtls);

        if (ms == 0) {
            ev = rooms_dtls_on_timeout(&p->dtls);
            sfu_dtls_flush(sfu, p, io);

            if (ev == ROOMS_DTLS_EV_FAILED) {
                /* unlinks only p: qn stays valid */
                sfu_dtls_event(sfu, now_ms, p, ev, io);
                continue;
            }

            ms = rooms_dtls_timeout(&p->dtls);
        }

        if (ms >= 0) {
            /* 1 ms at least: OpenSSL rounds its remaining time down */
            t = now_ms + (uint64_t) (ms > 0 ? ms : 1);
            if (t < next) {
                next = t;
            }
        }
    }

    /* keyframe requests the throttle held back */
    for (q = sfu->kf_pending.next; q != &sfu->kf_pending; q = qn) {
        qn = q->next;
        l = sfu_queue_data(q, sfu_line_t, kf_link);

        wait = rooms_kf_timeout(&l->kf, (int64_t) now_ms);

        if (wait > 0) {
            t = now_ms + (uint64_t) wait;
            if (t < next) {
                next = t;
            }
            continue;
        }

        sfu_queue_remove(&l->kf_link);
        l->kf_queued = 0;

        if (wait == 0) {
            sfu_want_keyframe(sfu, now_ms, l, io);
        }
    }

    /*
     * Receiver reports that are due; each goes at least half an interval
     * later, so the loop ends within one pass over the heap.
     */
    while (sfu->rr_n > 0 && sfu->rr_heap[0]->rr_due <= now_ms) {
        p = sfu->rr_heap[0];
        sfu_send_rr(sfu, now_ms, p, io);
        sfu_rr_schedule(sfu, p, now_ms + sfu_rr_interval());
    }

    if (sfu->rr_n > 0 && sfu->rr_heap[0]->rr_due < next) {
        next = sfu->rr_heap[0]->rr_due;
    }

    /* host-absent deadlines, earliest first */
    while (!sfu_queue_empty(&sfu->absent)) {
        room = sfu_queue_data(sfu->absent.next, sfu_room_t, absent_link);

        if (room->absent_at > now_ms) {
            if (room->absent_at < next) {
                next = room->absent_at;
            }
            break;
        }

        sfu_absent_due(sfu, room, now_ms, io);
    }

    /* idle rooms whose state has lingered long enough, oldest first */
    while (!sfu_queue_empty(&sfu->linger)) {
        room = sfu_queue_data(sfu->linger.next, sfu_room_t, linger_link);

        if (room->linger_until > now_ms) {
            if (room->linger_until < next) {
                next = room->linger_until;
            }
            break;
        }

        sfu_log(sfu, SFU_LOG_DEBUG, "room %lld (%s): idle state freed",
                (long long) room->id, room->code);
        sfu_room_free(sfu, room);
    }

    return next;
}


/* ---- life cycle ---- */


sfu_t *
sfu_create(const sfu_conf_t *conf, char *err, size_t errlen)
{
    size_t       n;
    sfu_t       *sfu;
    const char  *fp;

    if (conf->announce_ip == NULL
        || strlen(conf->announce_ip) >= sizeof(sfu->announce_ip)
        || conf->port == 0 || conf->max_sessions == 0
        || conf->max_sessions > ROOMS_ICE_MAX_SESSIONS)
    {
        snprintf(err, errlen, "bad SFU configuration");
        return NULL;
    }

    sfu = calloc(1, sizeof(sfu_t));
    if (sfu == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    sfu->conf = *conf;
    sfu->dead_slot = -1;
    n = strlen(conf->announce_ip);
    memcpy(sfu->announce_ip, conf->announce_ip, n + 1);
    sfu->conf.announce_ip = sfu->announce_ip;

    sfu_queue_init(&sfu->all);
    sfu_queue_init(&sfu->handshakes);
    sfu_queue_init(&sfu->kf_pending);
    sfu_queue_init(&sfu->linger);
    sfu_queue_init(&sfu->absent);

    sfu->offer = malloc(sizeof(rooms_sdp_t));
    sfu->answer = malloc(SFU_ANSWER_MAX);
    sfu->msg = malloc(SFU_MSG_MAX + 1);
    sfu->rr_heap = calloc(conf->max_sessions, sizeof(sfu_part_t *));

    if (sfu->offer == NULL || sfu->answer == NULL || sfu->msg == NULL
        || sfu->rr_heap == NULL)
    {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }

    if (rooms_srtp_global_init() != 0) {
        snprintf(err, errlen, "libsrtp initialization failed");
        goto failed;
    }

    sfu->ice = rooms_ice_table_create(conf->max_sessions);
    if (sfu->ice == NULL) {
        snprintf(err, errlen, "cannot make the ICE table");
        goto failed;
    }

    sfu->dtls = rooms_dtls_ctx_new(err, errlen);
    if (sfu->dtls == NULL) {
        goto failed;
    }

    fp = rooms_dtls_ctx_fingerprint(sfu->dtls);

    if (rooms_dtls_fp_parse(fp, strlen(fp), sfu->fp) != 0) {
        snprintf(err, errlen, "cannot read our own fingerprint");
        goto failed;
    }

    return sfu;

failed:

    sfu_destroy(sfu);
    return NULL;
}


void
sfu_destroy(sfu_t *sfu)
{
    unsigned      i;
    sfu_part_t   *p;
    sfu_room_t   *r;
    sfu_queue_t  *q;

    if (sfu == NULL) {
        return;
    }

    while (!sfu_queue_empty(&sfu->all)) {
        q = sfu->all.next;
        p = sfu_queue_data(q, sfu_part_t, all_link);
        sfu_queue_remove(q);

        for (i = 0; i < p->nlines; i++) {
            sfu_line_reset(p, &p->lines[i], i);
        }

        if (p->dtls.ssl != NULL) {
            rooms_dtls_free(&p->dtls);
        }

        if (p->srtp_ready) {
            rooms_srtp_destroy(&p->srtp);
        }

        free(p);
    }

    for (i = 0; i < SFU_ROOM_BUCKETS; i++) {
        while ((r = sfu->rooms[i]) != NULL) {
            sfu->rooms[i] = r->hash_next;
            free(r);
        }
    }

    if (sfu->ice != NULL) {
        rooms_ice_table_destroy(sfu->ice);
    }

    if (sfu->dtls != NULL) {
        rooms_dtls_ctx_free(sfu->dtls);
    }

    free(sfu->offer);
    free(sfu->answer);
    free(sfu->msg);
    free(sfu->rr_heap);
    free(sfu);
}


unsigned
sfu_participants(const sfu_t *sfu)
{
    return sfu->nparts;
}


unsigned
sfu_waiting(const sfu_t *sfu)
{
    return sfu->nwaiting;
}


unsigned
sfu_rooms(const sfu_t *sfu)
{
    return sfu->nrooms - sfu->nidle;
}


unsigned
sfu_idle_rooms(const sfu_t *sfu)
{
    return sfu->nidle;
}


const sfu_stats_t *
sfu_stats(const sfu_t *sfu)
{
    return &sfu->stats;
}


const char *
sfu_fingerprint(const sfu_t *sfu)
{
    return rooms_dtls_ctx_fingerprint(sfu->dtls);
}
