/*
 * sfu_int.h: the SFU's private header, shared by worker/sfu*.c and by
 * no one else: the room-level structs (the SFU, its rooms, the people
 * in them), a browser's SIGNAL as sfu_msg.c reads it (JOIN and ROOM
 * records are common/rooms_msg.h's structs), and the calls the SFU's
 * files make to each other.  The transport side of a participant (its
 * peer: ICE, DTLS, SRTP, m= lines) is opaque here and lives in
 * sfu_peer.h, so that sfu_room.c, which includes only this header,
 * cannot reach a packet.
 *
 * Owns: the shape of the SFU's room state (sfu_t, sfu_room_t,
 * sfu_part_t), its bounds and close codes, and the intrusive list.
 * Must never: declare what the files outside worker/sfu*.c may call
 * (that is sfu.h), or name a type of the protocol cores (rtp, rtcp,
 * srtp, dtls, sdp, forward, ice).
 * May not: include rtp.h, include rtcp.h, include srtp.h, include dtls.h, include sdp.h, include forward.h, include ice.h, include <jansson.h>, include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>
 */

#ifndef ROOMS_SFU_INT_H
#define ROOMS_SFU_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_limits.h"
#include "rooms_msg.h"
#include "rooms_proto.h"
#include "sfu.h"


/* a participant id: 48 random bits as 8 base64url characters */
#define SFU_ID_LEN           8

/* a display name, as a JOIN carries it (nginx checks) */
#define SFU_NAME_MAX         ROOMS_NAME_MAX_BYTES

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
#define SFU_CLOSE_REPLACED   4411     /* resumed on another connection */
#define SFU_CLOSE_NO_RESUME  4410     /* nothing to resume: join again */

/*
 * The connection of a detached participant (its nginx worker went, its
 * browser may resume it): no ring slot has it (the slot is 0xffff), so it
 * is in no hash chain, and what is sent to it goes nowhere, silently.
 */
#define SFU_CONN_NONE        UINT64_MAX

/*
 * A participant in a room that has sent no offer this long after coming
 * in (joined, or admitted from the lobby) goes with 4408: it would hold
 * a place forever.  Looked for at most once per SFU_OFFER_SCAN_MS.
 */
#define SFU_OFFER_MS         30000
#define SFU_OFFER_SCAN_MS    1000

/* a "share" mid, as long as the SDP core takes one (ROOMS_SDP_MID_MAX) */
#define SFU_SHARE_MID_MAX    16

/* the two kinds of stream, as indexes (counts[2] and the like) */
#define SFU_AUDIO            0
#define SFU_VIDEO            1


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


static inline void
sfu_queue_insert_tail(sfu_queue_t *h, sfu_queue_t *x)
{
    x->prev = h->prev;
    x->prev->next = x;
    x->next = h;
    h->prev = x;
}


static inline void
sfu_queue_remove(sfu_queue_t *x)
{
    x->next->prev = x->prev;
    x->prev->next = x->next;
    x->prev = x;
    x->next = x;
}


typedef struct sfu_room_s  sfu_room_t;
typedef struct sfu_part_s  sfu_part_t;
typedef struct sfu_peer_s  sfu_peer_t;      /* sfu_peer.h */
typedef struct sfu_net_s   sfu_net_t;       /* sfu_peer.h */


/* a person in a room, or waiting at its door */
struct sfu_part_s {
    uint64_t              conn;           /* nginx's connection id */
    sfu_part_t           *hash_next;
    sfu_queue_t           all_link;       /* in sfu_t.all */
    sfu_room_t           *room;
    sfu_queue_t           room_link;      /* in room->parts, join order, or
                                             in room->lobby while waiting */
    unsigned              waiting;        /* in the lobby: not counted, no
                                             session, not shown to others */
    uint64_t              entered_ms;     /* came into the room (not the
                                             lobby): its offer is due */

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

    unsigned              speaker_told;   /* knows its room's speaker */

    /*
     * Its screen share (sfu_share.c): the mid of the m= line that carries
     * it ("": not sharing), and the mid of one that was offered as a
     * screen and is not one now (refused, or stopped), which nobody is
     * given ("": none).
     */
    char                  share[SFU_SHARE_MID_MAX + 1];
    char                  unshared[SFU_SHARE_MID_MAX + 1];

    unsigned              asked_audio;    /* the last renegotiate sent */
    unsigned              asked_video;

    /* whose video it sees: "video_slots" of JOIN, its last "view" */
    unsigned              video_slots;    /* 1..ROOMS_VIDEO_SLOTS_MAX */
    unsigned              audio_slots;    /* 1..ROOMS_AUDIO_SLOTS_MAX */
    unsigned              nview;
    char                  view[ROOMS_VIEW_MAX][SFU_ID_LEN + 1];
    uint16_t              view_w[ROOMS_VIEW_MAX];  /* each tile's size in */
    uint16_t              view_h[ROOMS_VIEW_MAX];  /* device px; 0: unknown */

    /*
     * Resuming (sfu_resume.c): the hash of the one resume token that may
     * move it to a new connection ("": none); detached, its connection
     * is SFU_CONN_NONE until resumed, or it goes at resume_until.
     */
    char                  resume[ROOMS_HASH_HEX_LEN + 1];
    char                  resume_prev[ROOMS_HASH_HEX_LEN + 1];
    unsigned              detached;
    uint64_t              resume_until;

    /* its transport and m= lines, made with it (sfu_peer.c) */
    sfu_peer_t           *peer;
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

    /* its code as the newest JOIN said (logs, COUNT, HOST_ABSENT) */
    char                  code[ROOMS_CODE_LEN + 1];

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

    /* its dominant speaker as last told ("": nobody), since when */
    char                  speaker[SFU_ID_LEN + 1];
    uint64_t              speaker_ms;

    /* the last host or co-host went: the policy applies at absent_at */
    unsigned              absent_pending; /* in sfu_t.absent */
    uint64_t              absent_at;
    sfu_queue_t           absent_link;
};


struct sfu_s {
    sfu_conf_t            conf;
    char                  announce_ip[64];
    rooms_sdp_cand_t      cands[ROOMS_SDP_MAX_CANDS];   /* conf's, copied */

    sfu_part_t           *conns[SFU_CONN_BUCKETS];
    sfu_room_t           *rooms[SFU_ROOM_BUCKETS];
    unsigned              nparts;         /* joined */
    unsigned              nwaiting;       /* in a lobby */
    unsigned              ndetached;      /* waiting to be resumed */
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

    /* the seq of the last COUNT sent (rooms_proto.h, "The order") */
    int64_t               count_seq;
    sfu_queue_t           all;
    uint64_t              offer_scan_ms;  /* next look for missing offers */
    unsigned              offer_pending;  /* someone may owe its offer */

    sfu_stats_t           stats;
    int                   dead_slot;      /* being dropped, or -1 */

    /* the transport side: ICE, DTLS, timers of peers (sfu_peer.h) */
    sfu_net_t            *net;

    /* a record's payload, copied out of shared memory to be parsed */
    char                 *msg;            /* SFU_MSG_MAX + 1 */

    uint64_t              layers_due;     /* the next simulcast choice */
    uint64_t              voice_due;      /* the next choice of voices */
    unsigned              voice_heard;    /* an audio level since it */
    uint64_t              voice_quiet;    /* the first room's speaker goes
                                             then, unless heard again */
    unsigned              layers_tiles;   /* simulcast tiles at the last */

    /* sfu_drain(): its people told to move, JOIN and RESUME refused */
    unsigned              draining;
};


/* ---- a browser's SIGNAL, as sfu_msg.c reads it ---- */


/*
 * One SIGNAL from a browser; pointers point into the record.  type is
 * its entry in rooms_msg.h's table, which says who may send it and
 * whether it names a participant ("id").
 */
typedef struct {
    const rooms_msg_type_t  *type;        /* NULL: unknown, or no_type */
    unsigned                 no_type;     /* no "type" string at all */
    const char              *bad;         /* why it is malformed, or NULL */
    const char              *sdp;         /* offer */
    size_t                   sdp_len;
    unsigned                 audio;       /* media */
    unsigned                 video;
    unsigned                 nview;       /* view: the usable ids */
    char                     view[ROOMS_VIEW_MAX][SFU_ID_LEN + 1];
    uint16_t                 view_w[ROOMS_VIEW_MAX];  /* and their tiles' */
    uint16_t                 view_h[ROOMS_VIEW_MAX];  /* sizes; 0: unknown */
    const char              *id;          /* type->target; NULL: none */
    const char              *mid;         /* share */
} sfu_signal_t;


/* ---- sfu.c: output, logs, randomness, dispatch ---- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void sfu_log(sfu_t *sfu, int level, const char *fmt, ...);
const char *sfu_printable(const char *s, char *buf, size_t size);

/* n random bytes through sfu_conf_t.rng: 0, or -1 */
int sfu_random(sfu_t *sfu, void *buf, size_t n);
/* 32 random bits for seq0/ts0 picks, never failing (a fixed one then) */
uint32_t sfu_random32(sfu_t *sfu);

sfu_dgram_t *sfu_out(sfu_t *sfu, sfu_io_t *io);
void sfu_commit(sfu_t *sfu, sfu_io_t *io, const rooms_stun_addr_t *to,
    size_t len);
void sfu_record_out(sfu_t *sfu, sfu_io_t *io, uint16_t type, uint64_t conn,
    const void *payload, size_t len);

/*
 * Sends text (a message of sfu_msg.c, freed here) as a record of type
 * about conn; NULL is counted as a dropped record (out of memory).
 */
void sfu_send(sfu_t *sfu, sfu_io_t *io, uint16_t type, uint64_t conn,
    char *text);
void sfu_signal(sfu_t *sfu, sfu_io_t *io, uint64_t conn, char *text);
void sfu_error(sfu_t *sfu, sfu_io_t *io, uint64_t conn, const char *code,
    const char *message);
void sfu_error_why(sfu_t *sfu, sfu_io_t *io, uint64_t conn,
    const char *code, const char *message, const char *reason);
void sfu_close(sfu_t *sfu, sfu_io_t *io, uint64_t conn, unsigned code,
    const char *reason);

/* one SIGNAL of p, read by sfu_msg.c */
void sfu_message(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    const sfu_signal_t *m, sfu_io_t *io);
void sfu_bad_message(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    const char *why, sfu_io_t *io);

/*
 * p's video lines follow its view and the room's streams again, and it is
 * asked for the counts it should receive (after someone's streams came
 * or went).  Nothing happens before p's first answer.
 */
void sfu_streams_refresh(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    sfu_io_t *io);

/* p gets its whole streams map when it changed since the last it got */
void sfu_map_send(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p);

/*
 * p, resumed on a new connection, missed what was sent meanwhile: it gets
 * its whole streams map, the videos paused for it, and a renegotiate if
 * it has fewer receiving lines than it should now.  Nothing before p's
 * first answer (its offer is still to come).
 */
void sfu_streams_resync(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    sfu_io_t *io);


/* ---- sfu_room.c: rooms, people, roles, the lobby ---- */

sfu_part_t *sfu_find_conn(sfu_t *sfu, uint64_t conn);
sfu_room_t *sfu_find_room(sfu_t *sfu, int64_t id);
/* p goes into, or out of, the hash of connections under p->conn */
void sfu_conn_link(sfu_t *sfu, sfu_part_t *p);
void sfu_conn_unlink(sfu_t *sfu, sfu_part_t *p);
sfu_part_t *sfu_find_id(sfu_queue_t *list, const char *id);
const char *sfu_role(const sfu_part_t *p);
unsigned sfu_moderator(const sfu_part_t *p);

void sfu_join(sfu_t *sfu, uint64_t now, uint64_t conn,
    const rooms_msg_join_t *j, sfu_io_t *io);
void sfu_room_change(sfu_t *sfu, uint64_t now, const rooms_msg_room_t *c,
    sfu_io_t *io);
void sfu_remove(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    unsigned close_code, const char *why, sfu_io_t *io);
void sfu_media_update(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p,
    unsigned force);
void sfu_room_broadcast(sfu_t *sfu, sfu_io_t *io, sfu_room_t *room,
    sfu_part_t *except, char *text);
void sfu_counts_sync(sfu_t *sfu, sfu_io_t *io, unsigned slot);
/* t, in the room, becomes a co-host (cohost 1) or a guest again (0) */
void sfu_set_role(sfu_t *sfu, uint64_t now, sfu_part_t *t, unsigned cohost,
    sfu_io_t *io);
/* waiting p is let in, if the room has a place for it */
void sfu_admit(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io);
/* waiting p leaves the lobby without coming in (close_code 0: no CLOSE) */
void sfu_lobby_leave(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    unsigned close_code, const char *why, sfu_io_t *io);

/* host-absent deadlines and lingering idle rooms due at now */
uint64_t sfu_room_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io);
void sfu_rooms_free(sfu_t *sfu);


/* ---- sfu_host.c: the host controls (sfu_room.c never calls them) ---- */

/* a host action of p's (remove, mute, stop_share, admit, deny, cohost...) */
void sfu_host_action(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    const sfu_signal_t *m, sfu_io_t *io);

/* ---- sfu_share.c: screen shares ---- */

/* "share" and "unshare" of p */
void sfu_share(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    const sfu_signal_t *m, sfu_io_t *io);
/* a host's or co-host's "stop_share" of t: 0, or -1 when t shares nothing */
int sfu_share_stop(sfu_t *sfu, uint64_t now, sfu_part_t *t, sfu_io_t *io);


/* ---- sfu_resume.c: detached participants and resuming them ---- */

/* p's WebSocket went with its nginx worker: it waits to be resumed */
void sfu_detach(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io);
/* a RESUME record for conn (r NULL: a malformed one) */
void sfu_resume(sfu_t *sfu, uint64_t now, uint64_t conn,
    const rooms_msg_resume_t *r, sfu_io_t *io);
/* a JOIN with token's hash: a detached participant of it gives up */
void sfu_resume_drop(sfu_t *sfu, uint64_t now, sfu_room_t *room,
    const char *token, sfu_io_t *io);
/* the detached ones whose grace is over leave; the next deadline */
uint64_t sfu_resume_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io);


/* ---- sfu_peer.c, as the room side sees it ---- */

/* a peer for p: no session yet, its lines empty; NULL without memory */
sfu_peer_t *sfu_peer_new(sfu_t *sfu, sfu_part_t *p);
/* p's streams and bindings go: 1 when it published any */
unsigned sfu_peer_reset_lines(sfu_peer_t *peer);
/* frees the session (ICE, DTLS, SRTP, timers) and the peer */
void sfu_peer_free(sfu_t *sfu, sfu_peer_t *peer);
/* 1 when it publishes a stream of kind (SFU_AUDIO, SFU_VIDEO) */
unsigned sfu_peer_publishes(const sfu_peer_t *peer, unsigned kind);
/* 1 once it has been answered: it has lines that may carry streams */
unsigned sfu_peer_answered(const sfu_peer_t *peer);


/* ---- sfu_msg.c: every JSON text in and out ---- */

/*
 * The record hdr (JOIN, SIGNAL of p, or ROOM) in sfu->msg: decoded (JOIN
 * and ROOM by rooms_msg.h), then handed to sfu_join(), sfu_message() or
 * sfu_room_change().
 */
void sfu_msg_record(sfu_t *sfu, uint64_t now, const rooms_proto_hdr_t *hdr,
    sfu_part_t *p, sfu_io_t *io);

/*
 * sfu_select.c: how many remote streams of each kind p should receive
 * (renegotiate's and welcome's audio and video).
 */
void sfu_select_counts(const sfu_part_t *p, unsigned counts[2]);

/* messages: JSON text to free, NULL when out of memory */
char *sfu_msg_error(const char *code, const char *message,
    const char *reason);
char *sfu_msg_type(const char *type);
char *sfu_msg_id(const char *type, const char *id);
char *sfu_msg_welcome(const sfu_room_t *room, const sfu_part_t *p,
    const unsigned counts[2]);
/* the welcome again, as "resumed", for p already in the room */
char *sfu_msg_resumed(const sfu_room_t *room, const sfu_part_t *p);
char *sfu_msg_participant(const sfu_part_t *p, const char *type);
char *sfu_msg_media(const sfu_part_t *p);
char *sfu_msg_role(const sfu_part_t *p);
char *sfu_msg_knock(const sfu_part_t *p);
char *sfu_msg_room(unsigned locked, const char *reason);
char *sfu_msg_renegotiate(const unsigned counts[2]);
char *sfu_msg_streams(const sfu_peer_t *peer);
char *sfu_msg_video_paused(const sfu_peer_t *peer);
char *sfu_msg_speaker(const char *id);
char *sfu_msg_answer(const char *sdp, size_t len, const sfu_peer_t *peer);

/* records to nginx, encoded by rooms_msg.h */
char *sfu_msg_count(const sfu_room_t *room, int64_t seq);
char *sfu_msg_resync(int64_t seq);
char *sfu_msg_host_absent(const sfu_room_t *room, unsigned end);
char *sfu_msg_role_record(const sfu_part_t *p);
char *sfu_msg_ban(const sfu_part_t *p);


#endif /* ROOMS_SFU_INT_H */
