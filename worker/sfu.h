/*
 * sfu.h: the selective forwarding unit of the media worker: rooms,
 * participants, signaling, and the media path from one browser to the
 * others.
 *
 * Owns: the rooms (keyed by the store id nginx sends in JOIN) and their
 * participants (keyed by nginx's connection id), with each one's role
 * (host, cohost or guest) and guest token hash as nginx checked them;
 * each room's newest state by revision (cap, lock, admission, host-absent
 * policy, end) from JOIN and ROOM records, kept ROOMS_ROOM_LINGER_MS
 * after the room empties so that a racing JOIN is judged by it; the
 * capacity rule (guests and co-hosts take at most max - 1 places,
 * everyone at most max) and the lock; the lobby of a room whose
 * admission is "knock" (guests waiting, the moderators' admit and deny,
 * the switch to open); the effects of a moderator's remove and mute, of
 * a host's cohost and uncohost (with the ROLE record that makes nginx
 * draw or revoke a co-host key), and of a room's lock, end or demotion
 * (ROOM records), with the BAN record that makes nginx store a removal;
 * the host-absent deadline of a room whose last host or co-host went,
 * with the HOST_ABSENT record that asks nginx to lock or end it; each
 * room's participant count, sent to every linked nginx worker as COUNT
 * records; every media session
 * (ICE, DTLS, SRTP) and its lifetime; the signaling answers (welcome,
 * answer, renegotiate, streams, speaker, participant_*, mute_request,
 * room, error) and close requests; which remote stream each receiving
 * m= line of a subscriber carries (the loudest other voices, up to its
 * audio_slots; the videos its "view" chooses, up to its video_slots;
 * both re-pointed in place as the choice changes); the room's dominant
 * speaker; the per-subscriber rewriting of forwarded RTP, the NACK
 * history of each publisher stream (answered with RTX where
 * negotiated), the keyframe
 * requests towards publishers, and the RTCP receive statistics and
 * receiver reports towards them.
 *
 * Sans-IO: bytes, the time and randomness come in as arguments or
 * callbacks (sfu_conf_t.rng), and everything this core wants sent goes
 * out through the caller's sfu_io_t: datagrams into its queue, ring
 * records and log lines through its callbacks.  It must never read a
 * clock, touch a socket or a file descriptor, sleep, or start a thread
 * (OpenSSL's DTLS timer, which reads the clock by itself, is the one
 * exception; see dtls.h).  Every count is bounded: sessions
 * by the ICE table, participants per room by ROOMS_PARTICIPANTS_LIMIT,
 * waiting guests per room by ROOMS_LOBBY_MAX, joined and waiting people
 * together by max_sessions, m= lines by ROOMS_SDP_MAX_MEDIA, co-hosts
 * made by promotion per room by ROOMS_COHOSTS_MAX, idle rooms and rooms
 * awaiting a host-absent deadline by fixed bounds (sfu_int.h).  The
 * files that implement it are listed in sfu.c.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>
 */

#ifndef ROOMS_SFU_H
#define ROOMS_SFU_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_proto.h"
#include "sdp.h"
#include "stun.h"


/*
 * One datagram to send.  The largest the SFU writes is a forwarded RTP
 * packet (at most ROOMS_HIST_SLOT = 1500 bytes of plaintext) with its
 * SRTP tag; STUN replies and DTLS datagrams are smaller.
 */
#define SFU_DGRAM_MAX        1536

/* log levels, most severe first */
#define SFU_LOG_ERR          0
#define SFU_LOG_WARN         1
#define SFU_LOG_INFO         2
#define SFU_LOG_DEBUG        3

/* sfu_poll() with nothing scheduled */
#define SFU_NEVER            UINT64_MAX


typedef struct sfu_s  sfu_t;

typedef struct {
    rooms_stun_addr_t  addr;              /* where to */
    uint32_t           len;
    uint8_t            data[SFU_DGRAM_MAX];
} sfu_dgram_t;


/*
 * What the caller lends the SFU for one call.  q[0..cap) is the datagram
 * queue: the SFU appends at q[n] and increments n.  When it is full the
 * SFU calls flush(), which must send or drop what is queued and set n to
 * 0; without flush the datagram is dropped and counted.  record() queues
 * one ring record towards nginx (the ring pair of ROOMS_PROTO_SLOT(id));
 * it returns 0, or -1 when the record could not be queued (the SFU
 * counts it and carries on: it never waits).
 */
typedef struct sfu_io_s  sfu_io_t;

struct sfu_io_s {
    sfu_dgram_t   *q;
    unsigned       n;
    unsigned       cap;
    void          *ctx;
    void         (*flush)(void *ctx, sfu_io_t *io);
    int          (*record)(void *ctx, uint16_t type, uint64_t id,
                           const void *payload, size_t len);
};


typedef struct {
    const char    *announce_ip;          /* in every answer's candidate */
    uint16_t       port;                 /* the UDP port, ditto */

    /*
     * The host candidates of every answer (addrs.h), copied: none
     * (ncands 0) is one UDP candidate at announce_ip and port, which
     * still fill the answer's c= and m= lines.  At most
     * ROOMS_SDP_MAX_CANDS.
     */
    const rooms_sdp_cand_t  *cands;
    unsigned       ncands;
    unsigned       max_sessions;         /* 1..ROOMS_ICE_MAX_SESSIONS */

    /* one log line, without a newline; log may be NULL */
    void          *log_ctx;
    void         (*log)(void *ctx, int level, const char *line);
    int            log_level;            /* lines above it are not made */

    /*
     * The SFU's one source of randomness, as the time is its one clock:
     * fills buf[0..n) and returns 0, or -1 (what needed it is refused).
     * Participant ids, SSRCs, sequence and timestamp origins, ICE
     * credentials, SDP session ids and receiver-report spacing all come
     * from it, so a test that passes a seeded generator replays a
     * session.  The worker passes OpenSSL's CSPRNG (loop.h).
     */
    void          *rng_ctx;
    int          (*rng)(void *ctx, void *buf, size_t n);

    /*
     * How long a participant in a room may go without an offer before it
     * is removed (4408), in ms; 0: 30 s (SFU_OFFER_MS).
     */
    uint64_t       offer_ms;

    /*
     * Where the order of COUNT records starts (rooms_proto.h, "The
     * order"): the first one sent has count_seq0 + 1.  The worker passes
     * its monotonic clock in ms times 2^16, so that a restarted worker's
     * counts order after the ones of the process before it; 0 is fine
     * for a single process (tests).
     */
    int64_t        count_seq0;
} sfu_conf_t;


/* counters since sfu_create(); the event loop may print them */
typedef struct {
    uint64_t  rx;                        /* datagrams in */
    uint64_t  rx_stun;
    uint64_t  rx_dtls;
    uint64_t  rx_rtp;
    uint64_t  rx_rtcp;
    uint64_t  rx_unknown;                /* no session at that address */
    uint64_t  rx_bad;                    /* malformed after unprotect */
    uint64_t  unprotect_fail;            /* SRTP/SRTCP refused it */
    uint64_t  rtp_unknown_ssrc;          /* from no announced stream */
    uint64_t  tx;                        /* datagrams queued */
    uint64_t  tx_dropped;                /* queue full, no flush */
    uint64_t  fwd;                       /* RTP packets forwarded */
    uint64_t  fwd_dropped;               /* rewrite/size/protect refused */
    uint64_t  layer_switches;            /* simulcast layer changes */
    uint64_t  kf_stuck;                  /* keyframes asked again for a
                                            subscriber still waiting */
    uint64_t  nack_resent;               /* RTX packets included */
    uint64_t  rtx_sent;                  /* NACK answers sent as RTX */
    uint64_t  rr_sent;                   /* receiver reports to publishers */
    uint64_t  twcc_sent;                 /* transport feedback packets */
    uint64_t  twcc_received;             /* and from subscribers, read */
    uint64_t  probes_sent;               /* bandwidth probe packets */
    uint64_t  nack_sent;                 /* NACKs to publishers */
    uint64_t  nack_again;                /* numbers in them asked again
                                            because a repair was late */
    uint64_t  rtx_received;              /* their retransmissions, used */
    uint64_t  pli_sent;                  /* towards publishers */
    uint64_t  records;                   /* ring records sent */
    uint64_t  records_dropped;           /* record() refused them */
    uint64_t  joins;                     /* into a room, from a lobby too */
    uint64_t  knocks;                    /* guests who waited in a lobby */
    uint64_t  leaves;
    uint64_t  refused;                   /* joins refused */
    uint64_t  timeouts;                  /* ICE timeouts (4408) */
} sfu_stats_t;


/*
 * Makes the SFU: the ICE table, the process's DTLS certificate, libsrtp.
 * Returns NULL with a reason in err.
 */
sfu_t *sfu_create(const sfu_conf_t *conf, char *err, size_t errlen);

/* Frees everything, sending nothing (the process is stopping). */
void sfu_destroy(sfu_t *sfu);

/*
 * One record from nginx (JOIN, SIGNAL, LEAVE or ROOM; others are logged
 * and ignored).  payload is hdr->len bytes and may live in shared
 * memory: it is copied before it is parsed.  Answers go out through io.
 * now_ms starts host-absent deadlines and the linger of idle rooms.
 */
void sfu_record(sfu_t *sfu, uint64_t now_ms, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload, sfu_io_t *io);

/*
 * One datagram from src that arrived at now_us, in microseconds of the
 * same clock as every now_ms (now_ms * 1000): arrival times go into
 * transport-wide congestion control feedback, in 250 µs steps, so the
 * event loop reads the clock for each batch it receives.  buf[0..len) may
 * be changed in place (SRTP is undone there).  sfu_udp_input() is the
 * same at millisecond resolution.
 */
void sfu_udp_input_us(sfu_t *sfu, uint64_t now_us,
    const rooms_stun_addr_t *src, uint8_t *buf, size_t len, sfu_io_t *io);
void sfu_udp_input(sfu_t *sfu, uint64_t now_ms, const rooms_stun_addr_t *src,
    uint8_t *buf, size_t len, sfu_io_t *io);

/*
 * Runs what is due at now_ms (ICE consent and connect timeouts, DTLS
 * retransmissions, deferred keyframe requests, the receiver reports sent
 * to each connected publisher about once a second, host-absent deadlines,
 * and the freeing of idle rooms whose state has lingered long enough)
 * and returns the time of the next call wanted, in the same clock, or
 * SFU_NEVER.
 */
uint64_t sfu_poll(sfu_t *sfu, uint64_t now_ms, sfu_io_t *io);

/*
 * An nginx worker is linked on ring pair slot (its welcome is sent): from
 * now on it gets the COUNT records, and at once one for every room with
 * people in it, then a RESYNC (every other room is empty).
 */
void sfu_slot_add(sfu_t *sfu, unsigned slot, sfu_io_t *io);

/*
 * The ring towards slot's nginx worker overflowed, and has drained: what
 * was lost on it is made right (rooms_proto.h, RESYNC).  Each connection
 * of that slot in conns[0..n) lost records: its participant, joined or
 * waiting, leaves as after a LEAVE (the others are told), and its
 * WebSocket is closed ROOMS_PROTO_CLOSE_RESYNC, so the browser joins
 * again (a connection nobody holds any more is closed too).  all: more
 * connections lost records than the caller kept: every participant of
 * slot goes so.  Then the counts of every room again, and RESYNC.
 */
void sfu_slot_resync(sfu_t *sfu, unsigned slot, const uint64_t *conns,
    size_t n, unsigned all, uint64_t now_ms, sfu_io_t *io);

/*
 * The nginx worker of ring pair slot is gone: every participant whose
 * connection id names that slot leaves, as after a LEAVE record (the
 * others are told; nothing is sent towards the dead slot's ring), and it
 * gets no more COUNT records.
 */
void sfu_drop_slot(sfu_t *sfu, unsigned slot, uint64_t now_ms, sfu_io_t *io);

/*
 * The node is being drained (the media worker's SIGQUIT; docs/scaling.md):
 * everyone in a room or a lobby here leaves (the others are told, as
 * after a LEAVE) and gets CLOSE ROOMS_PROTO_CLOSE_MOVED, so that the
 * browser joins again through the front, on another node; from now on
 * every JOIN and RESUME gets that CLOSE too, and no host-absent policy
 * applies (the hosts went to another node, not away).  The caller stops
 * once sfu_participants() and sfu_waiting() are 0.  Once only.
 */
void sfu_drain(sfu_t *sfu, uint64_t now_ms, sfu_io_t *io);

/*
 * Participants (in rooms), guests waiting in lobbies, rooms with people
 * in them or waiting, and idle rooms (nobody in them: their state kept to
 * linger or for a host-absent deadline), right now.
 */
unsigned sfu_participants(const sfu_t *sfu);
unsigned sfu_waiting(const sfu_t *sfu);
unsigned sfu_rooms(const sfu_t *sfu);
unsigned sfu_idle_rooms(const sfu_t *sfu);

const sfu_stats_t *sfu_stats(const sfu_t *sfu);

/* "sha-256" fingerprint text of the process certificate (for tests) */
const char *sfu_fingerprint(const sfu_t *sfu);


#endif /* ROOMS_SFU_H */
