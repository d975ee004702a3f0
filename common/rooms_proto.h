/*
 * rooms_proto.h: the record format between nginx workers and the media
 * worker.  This is the ONE header both sides include for it.
 *
 * Owns: ROOMS_PROTO_VERSION, the 16-byte record header and the record
 * types.  Payloads are opaque bytes for now; each type's payload will be
 * described here, next to its number, when it gets one.  Must never
 * include nginx or system-specific headers, and must never change a
 * field or the meaning of a type without bumping ROOMS_PROTO_VERSION: the
 * two sides are separate programs, possibly from different builds, and
 * the version is all that tells them apart (the ring segment carries it
 * and rooms_ring_segment_check() refuses another one).
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sys/socket.h>
 */

#ifndef ROOMS_PROTO_H
#define ROOMS_PROTO_H

#include <stdint.h>


/*
 * Bump on any change to: the record header, the numbering or meaning of
 * the types, a payload format, or the ring segment layout (rooms_ring.h).
 */
#define ROOMS_PROTO_VERSION  9


/*
 * Every record starts with this header, in host byte order (both sides
 * run on the same machine).  It is 16 bytes and 8-byte aligned in the
 * ring, so the payload that follows it is 8-byte aligned too.
 *
 *     type   one of rooms_proto_type_e
 *     flags  per-type bits; none are defined yet, senders write 0 and
 *            receivers ignore bits they do not know
 *     len    payload bytes after the header (not counting the header or
 *            the alignment padding after the payload)
 *     id     whom the record is about: the nginx side's connection id or
 *            the media worker's session id, as the type says; 0 for none
 */
typedef struct {
    uint16_t  type;
    uint16_t  flags;
    uint32_t  len;
    uint64_t  id;
} rooms_proto_hdr_t;

_Static_assert(sizeof(rooms_proto_hdr_t) == 16,
               "the record header is 16 bytes on every ABI");


/*
 * Record types and their payloads (see docs/protocol.md for the JSON).
 *
 * Connection ids: the nginx side numbers its WebSocket connections as
 * (slot << 48) | counter, where slot is the ring pair the media worker
 * gave that nginx worker in its welcome.  The media worker answers on the
 * ring pair of ROOMS_PROTO_SLOT(id), so an event reaches whichever nginx
 * worker holds the participant's WebSocket.
 */
typedef enum {
    ROOMS_PROTO_PAD = 0,          /* ring internal: skip to the buffer end */

    /*
     * nginx -> worker, id = connection.  A participant asks to join.  The
     * payload is a JSON object the nginx side builds after admission
     * (the room exists, is open, the token is not banned, not locked to a
     * guest):
     *     {"room": <store id>, "code": "<code>", "rev": <revision>,
     *      "max": <cap>, "name": "<display name>",
     *      "role": "host" | "cohost" | "guest",
     *      "token": "<SHA-256 of the guest token, 64 hex digits>",
     *      "locked": <bool>, "admission": "open" | "knock",
     *      "host_absent": "stay_open" | "lock" | "end", "grace": <ms>,
     *      "video_slots": <1..ROOMS_VIDEO_SLOTS_MAX>,
     *      "audio_slots": <1..ROOMS_AUDIO_SLOTS_MAX>,
     *      "resume": "<SHA-256 of the resume token, 64 hex digits>"}
     * rev, max, locked, admission and host_absent are the room as nginx
     * read it; rev orders that state against ROOM records (the worker
     * keeps the newest of the two, so a JOIN built before a lock that the
     * worker has heard of is judged by the lock).  grace is
     * rooms_host_grace.  A "cohost" presented an active co-host key.
     * The worker owns the count: it answers with a SIGNAL "welcome" (with
     * role and locked; nginx adds the guest token itself), or a SIGNAL
     * "error" (room_full, or locked when a newer state says so) followed
     * by CLOSE.  Guests and co-hosts take at most max - 1 places, so one
     * is always left for a host.  A guest's JOIN to a "knock" room waits
     * in the room's lobby instead: the worker answers a SIGNAL "waiting"
     * and sends the "welcome" only once a host admits it (so the
     * welcome, and the guest token nginx adds to it, may come after other
     * messages).  Hosts and co-hosts never wait and get past the lock.  A
     * missing "admission" is "open", a missing "rev" 0, a missing
     * "host_absent" "stay_open", a missing "grace" the default, a missing
     * "video_slots" ROOMS_VIDEO_SLOTS_DEFAULT, a missing "audio_slots"
     * ROOMS_AUDIO_SLOTS_DEFAULT.  video_slots is rooms_video_slots: how
     * many remote videos this participant gets at most; audio_slots is
     * rooms_audio_slots: how many of the loudest others it hears at once
     * (docs/protocol.md, "Who you see and hear").  resume is the hash
     * of the resume token nginx drew for this browser (RESUME below); a
     * missing one makes a participant that cannot be resumed.
     */
    ROOMS_PROTO_JOIN = 1,

    /*
     * Both ways, id = connection.  One signaling message, a JSON object,
     * verbatim: nginx -> worker, what the browser sent after "join"
     * (offer, media, view, leave; from a host or co-host remove, mute, admit
     * and deny; from a host cohost and uncohost); worker -> nginx, what
     * to send to the browser (welcome, waiting, answer, renegotiate,
     * participant_*, mute_request, room, knock, lobby_left, streams,
     * role, participant_role, error).
     */
    ROOMS_PROTO_SIGNAL = 2,

    /* nginx -> worker, id = connection, no payload: the WebSocket is gone */
    ROOMS_PROTO_LEAVE = 3,

    /*
     * worker -> nginx, id = connection: close that WebSocket.  Payload:
     * a 2-byte close code in network order, then a UTF-8 reason of at
     * most 123 bytes (RFC 6455 control frame bounds).
     */
    ROOMS_PROTO_CLOSE = 4,

    /*
     * nginx -> worker, id = 0.  A room changed through the store (a host's
     * lock, end or PATCH, over HTTP or the WebSocket; a host-absent
     * policy applied; a co-host credential revoked), for the people in it.
     * Every ROOM record carries the room's revision after the change,
     * "rev" (none is 0).  Either an end:
     *     {"room": <store id>, "rev": <n>, "ended": true}
     * or what changed, one or more of:
     *     {"room": <store id>, "rev": <n>, "locked": <bool>,
     *      "admission": "open" | "knock", "max": <cap>,
     *      "host_absent": "stay_open" | "lock" | "end",
     *      "demote": "<guest token hash, 64 hex digits>"}
     * and, when a host-absent policy caused it, "reason": "host_absent".
     * A record older than the state the worker has (rev below the room's)
     * changes no state; a "demote" applies whatever its rev.  On "locked"
     * the worker tells everyone in the room {"type":"room","locked":..}
     * (with the reason); on "admission": "open" it admits everyone
     * waiting in the lobby (the capacity rule applies to each); "max" is
     * the cap for later joins and admissions; "demote" makes the co-host
     * with that token a guest (see ROLE).  An end sends everyone, waiting
     * guests too, error room_ended and CLOSE 4403.  The worker keeps the
     * state of a room nobody is in for ROOMS_ROOM_LINGER_MS, so that a
     * JOIN racing the record is judged by it.
     */
    ROOMS_PROTO_ROOM = 5,

    /*
     * worker -> nginx, id = the removed participant's connection (so it
     * reaches the nginx worker holding that WebSocket, on the same ring
     * and before the CLOSE that ends it).  A host removed a participant:
     *     {"room": <store id>, "token": "<64 hex digits>"}
     * nginx stores the ban; joins with that token are refused "removed".
     */
    ROOMS_PROTO_BAN = 6,

    /*
     * worker -> nginx, id = ROOMS_PROTO_CONN(slot, 0): counter 0 names no
     * connection, the slot routes the record to one nginx worker.  The
     * number of people in a room (the lobby not counted) is now count:
     *     {"room": <store id>, "code": "<code>", "count": <n>,
     *      "seq": <order>}
     * code is the one the room's latest JOIN carried (a rotation may have
     * retired it since; nginx then finds the room by id).  The worker
     * sends it on every change to every nginx worker it is linked to, any
     * of which may serve GET /api/rooms/<code>, and to a newly linked one
     * once for every room with people in it (then RESYNC).  nginx keeps
     * it in the shared room directory; it is not stored.
     *
     * The order.  Rings have no order between them, and all nginx workers
     * write one shared directory, so a count read late from a slow ring
     * must not undo a newer one read from another.  seq is one counter of
     * the media worker's, raised by every COUNT it sends (whatever the
     * room or the slot), so a higher seq is a later truth; it starts at
     * the worker's monotonic clock in ms times 2^16, so a restarted worker
     * orders after the one before it.  nginx keeps each room's count with
     * the seq that set it, and ignores a COUNT whose seq is lower.
     */
    ROOMS_PROTO_COUNT = 7,

    /*
     * worker -> nginx, id = ROOMS_PROTO_CONN(slot, 0) as for COUNT (any
     * one linked nginx worker).  The last host or co-host left a room
     * whose policy is lock or end: by "leave" at once, or by a lost
     * connection once the grace passed without a host coming back.
     *     {"room": <store id>, "code": "<code>", "rev": <n>,
     *      "action": "lock" | "end"}
     * nginx applies it through the store if the room's policy is still
     * that action and the room not ended, and then sends the ROOM record
     * (with "reason": "host_absent") that tells the people in it.
     */
    ROOMS_PROTO_HOST_ABSENT = 8,

    /*
     * worker -> nginx, id = the participant's connection (so it reaches
     * the nginx worker holding that WebSocket).  A host made that
     * participant co-host, or made a co-host a guest again:
     *     {"room": <store id>, "role": "cohost" | "guest",
     *      "token": "<guest token hash, 64 hex digits>",
     *      "name": "<display name>"}
     * On "cohost" nginx draws a co-host key, stores its hash bound to the
     * token, and sends the browser {"type":"role","role":"cohost",
     * "cohost_key":...}; on "guest" it revokes that token's credentials
     * and sends {"type":"role","role":"guest"}.  The worker has already
     * changed the role and told everyone (participant_role).
     */
    ROOMS_PROTO_ROLE = 9,

    /*
     * worker -> nginx, id = ROOMS_PROTO_CONN(slot, 0).  The counts the
     * worker just sent this nginx worker (one COUNT for every room with
     * people in it, all with a seq above this one) are the whole truth:
     *     {"seq": <order>}
     * every room whose count was set by a seq up to this one is empty.
     * Sent after the counts of a newly linked nginx worker, and after
     * those of one whose ring overflowed, once it drained: so a count
     * lost on a full ring (the last leave of a room, say) never stays
     * behind.  Records lost on a full ring to a connection (SIGNAL,
     * CLOSE) end it instead: once the ring drained the worker removes
     * that participant and sends CLOSE 4409, and the browser joins again
     * (docs/protocol.md); lost BAN, ROLE and HOST_ABSENT records are kept
     * by the worker and sent again, before that CLOSE.
     */
    ROOMS_PROTO_RESYNC = 10,

    /*
     * nginx -> worker, id = connection, no payload.  The WebSocket went
     * with a closing nginx worker (a reload or a graceful stop), not by
     * its browser's choice: the worker keeps the participant, its place
     * and its media session, for ROOMS_RESUME_GRACE_MS, shown to nobody
     * as leaving, and sends it nothing meanwhile.  Not resumed by then,
     * it leaves as after a LEAVE.  An nginx worker whose control socket
     * closes (EOF) has the participants still on its slot kept the same
     * way, so a DETACH that found the ring full is not a loss.
     */
    ROOMS_PROTO_DETACH = 11,

    /*
     * nginx -> worker, id = the new connection.  A browser resumes its
     * participant on a new WebSocket (docs/protocol.md):
     *     {"room": <store id>, "token": "<guest token hash>",
     *      "role": "host" | "cohost" | "guest",
     *      "resume": "<hash of the resume token presented>",
     *      "next": "<hash of the resume token drawn for next time>"}
     * The worker looks in that room for the participant whose resume
     * hash, guest token hash and role are these (detached, or still on
     * another connection, which then gets CLOSE 4411), moves it to the
     * new connection with next as its resume hash (a token is good for
     * one resume), and answers a SIGNAL "resumed" (nginx adds the new
     * resume_token), then the current "streams" map and, if its m-lines
     * are too few now, a "renegotiate".  Otherwise: SIGNAL error
     * resume_failed and CLOSE 4410, and the browser joins again.
     */
    ROOMS_PROTO_RESUME = 12,

    /*
     * worker -> nginx, id = ROOMS_PROTO_CONN(slot, 0), to every linked
     * nginx worker every ROOMS_PROTO_STATS_MS: the media worker's own
     * figures for the metrics page (rooms_metrics), a binary
     * rooms_proto_stats_t (below).  Totals since the worker started; nginx
     * keeps the latest.  Fields are only ever appended: nginx reads the
     * ones it knows from a longer payload, and drops a shorter one.
     */
    ROOMS_PROTO_STATS = 13,

    ROOMS_PROTO_TYPE_MAX          /* not a type: one past the last */
} rooms_proto_type_e;


/*
 * The close code of a WebSocket whose records were lost on a full ring
 * (RESYNC): the browser's picture of the room may be wrong, so it joins
 * again (docs/protocol.md).
 */
#define ROOMS_PROTO_CLOSE_RESYNC    4409

/*
 * The close code of a WebSocket whose node is being drained (nginx -s
 * quit, or the media worker's SIGQUIT): the browser joins again through
 * the same address at once, and the front sends it to another node
 * (docs/protocol.md, docs/scaling.md).
 */
#define ROOMS_PROTO_CLOSE_MOVED     4412

/* how often the worker sends STATS: fresher than any scrape interval */
#define ROOMS_PROTO_STATS_MS        5000

/* the STATS payload: totals since the media worker started, but the gauges */
typedef struct {
    uint64_t  participants;         /* gauge: people in calls */
    uint64_t  rx_stun;              /* datagrams in, by kind */
    uint64_t  rx_dtls;
    uint64_t  rx_rtp;
    uint64_t  rx_rtcp;
    uint64_t  rx_unknown;           /* from no session's address */
    uint64_t  rx_bad;               /* malformed after unprotect */
    uint64_t  unprotect_fail;       /* SRTP/SRTCP refused */
    uint64_t  tx;                   /* datagrams sent */
    uint64_t  tx_dropped;           /* send queue full */
    uint64_t  fwd;                  /* RTP packets forwarded */
    uint64_t  fwd_dropped;          /* rewrite, size or protect refused */
    uint64_t  nack_sent;            /* NACKs to publishers */
    uint64_t  nack_resent;          /* packets resent to answer NACKs */
    uint64_t  pli_sent;             /* PLIs to publishers */
    uint64_t  joins;                /* joins into a room */
    uint64_t  refused;              /* joins refused */
    uint64_t  timeouts;             /* sessions ended by ICE timeout */
    uint64_t  cpu_usec;             /* user + system CPU time */
    uint64_t  rss_bytes;            /* gauge: resident memory */
} rooms_proto_stats_t;


#define ROOMS_PROTO_SLOT(id)        ((unsigned) ((id) >> 48))
#define ROOMS_PROTO_CONN(slot, n)   (((uint64_t) (slot) << 48)              \
                                     | ((uint64_t) (n) & 0xffffffffffffULL))


/*
 * The control socket (a unix stream socket the media worker listens on).
 * An nginx worker connects and sends a hello; the media worker answers
 * with a welcome and, on success, three descriptors by SCM_RIGHTS: the
 * ring segment memfd, the eventfd the nginx side rings after pushing to
 * the worker, and the eventfd the worker rings after pushing to nginx.
 * EOF on the socket means the other side is gone: the worker drops every
 * connection of that slot; nginx closes its WebSockets (1012) and
 * reconnects on a timer.
 */
#define ROOMS_PROTO_MAGIC           0x524f4f4dU       /* "ROOM" */

typedef struct {
    uint32_t  magic;
    uint32_t  version;              /* ROOMS_PROTO_VERSION */
    uint32_t  pid;                  /* the nginx worker's, for logs */
    uint32_t  reserved;
} rooms_proto_hello_t;

#define ROOMS_PROTO_WELCOME_OK      0
#define ROOMS_PROTO_WELCOME_VERSION 1  /* another ROOMS_PROTO_VERSION */
#define ROOMS_PROTO_WELCOME_FULL    2  /* every slot is taken */

/*
 * A host runs workers media workers (rooms-worker --workers, 1 ..
 * ROOMS_SHARD_MAX), each with its own control socket: index 0 at the
 * path nginx is given (rooms_media_socket), index i > 0 beside it at
 * "<path>.<i>".  Each welcome says which one answered and how many there
 * are, so nginx learns of the others from the first, and a room goes to
 * media worker rooms_shard_pick(room, workers) (common/rooms_shard.h).
 */
typedef struct {
    uint32_t  magic;
    uint32_t  version;
    uint32_t  status;               /* ROOMS_PROTO_WELCOME_* */
    uint32_t  slot;                 /* the ring pair of this nginx worker */
    uint32_t  index;                /* this media worker, 0 .. workers - 1 */
    uint32_t  workers;              /* how many the host runs */
} rooms_proto_welcome_t;


#endif /* ROOMS_PROTO_H */
