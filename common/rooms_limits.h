/*
 * rooms_limits.h: the sizes and counts every part of ngx_rooms agrees on.
 *
 * Owns: bounds on client input and on stored records, shared by the nginx
 * module, the media worker and the tests.  Must never include nginx or
 * system-specific headers: it is plain C so unit tests and fuzzers can
 * use it.
 *
 * May not: include <ngx_core.h>, include <jansson.h>
 */

#ifndef ROOMS_LIMITS_H
#define ROOMS_LIMITS_H


/* 128 bits of CSPRNG output, base64url without padding: 22 characters */
#define ROOMS_CODE_BYTES           16
#define ROOMS_CODE_LEN             22

/*
 * Host keys carry 256 bits (43 characters), so a host key can never be
 * mistaken for a room code and guessing one is out of reach even with the
 * code known.
 */
#define ROOMS_HOST_KEY_BYTES       32
#define ROOMS_HOST_KEY_LEN         43
#define ROOMS_HASH_LEN             32      /* SHA-256 of a key or token */
#define ROOMS_HASH_HEX_LEN         64

/*
 * A guest token: what a browser keeps to be recognized in one room (a ban
 * names it).  128 bits, like a room code, which it has the shape of.
 */
#define ROOMS_GUEST_TOKEN_BYTES    16
#define ROOMS_GUEST_TOKEN_LEN      22

/* a title fits a phone's header: 100 characters of up to 4 UTF-8 bytes */
#define ROOMS_TITLE_MAX_CHARS      100
#define ROOMS_TITLE_MAX_BYTES      400

/* "group:" plus an identifier from the deployer's identity system */
#define ROOMS_GROUP_ID_MAX         64
#define ROOMS_AUDIENCE_MAX         (6 + ROOMS_GROUP_ID_MAX)

/* the seed's promise: 50 people; the admin may raise the cap to this */
#define ROOMS_PARTICIPANTS_DEFAULT 50
#define ROOMS_PARTICIPANTS_MIN     2
#define ROOMS_PARTICIPANTS_LIMIT   1000

/*
 * Guests waiting in a room's lobby (admission "knock").  A waiting guest
 * costs the media worker a participant record but no media session, and
 * each one is a line on the host's screen: 50, the default cap of a whole
 * room, is more than a host can judge one by one, and it bounds what one
 * link shared with strangers can make a host's browser and the worker
 * hold.  The worker's total of waiting and joined people is bounded by
 * its session count besides.
 */
#define ROOMS_LOBBY_MAX            50

/*
 * Co-hosts: active co-host credentials per room.  A host promotes people
 * one by one from the participant list; 16 is more moderators than a
 * 50-person room needs, and it bounds the rows a host who promotes and
 * demotes in a loop can make the store keep live (the oldest active one
 * is revoked to make room for a new one).
 */
#define ROOMS_COHOSTS_MAX          16

/*
 * A co-host key has a host key's shape and strength (256 bits); it is
 * stored as its SHA-256 only, like a host key.
 */
#define ROOMS_COHOST_KEY_LEN       ROOMS_HOST_KEY_LEN

/* a display name: 64 characters of up to 4 UTF-8 bytes */
#define ROOMS_NAME_MAX_CHARS       64
#define ROOMS_NAME_MAX_BYTES       256

/*
 * Host-absent policy: how long the last host (or co-host) may be gone,
 * dropped rather than gone by "leave", before the room's policy (lock or
 * end) applies.  A host whose network blinks or whose browser reloads is
 * back within seconds; 30 s covers a phone switching from Wi-Fi to
 * mobile data.  The rooms_host_grace directive sets it, up to 10 minutes.
 */
#define ROOMS_HOST_GRACE_DEFAULT   30000           /* ms */
#define ROOMS_HOST_GRACE_MAX       600000          /* ms */

/*
 * How long the media worker keeps the state (lock, admission, cap,
 * revision) of a room nobody is in.  A JOIN that nginx built from an
 * older state of the room may still be on its way from another nginx
 * worker when a lock arrives; 10 s is far longer than a record spends in
 * a ring, and short enough that idle rooms cost nothing for long.
 */
#define ROOMS_ROOM_LINGER_MS       10000

/*
 * Who a participant receives (docs/protocol.md, "Who you see and hear").
 * Audio: the rooms_audio_slots loudest other people, on that many lines
 * re-pointed as the speakers change: three is what a room says at once
 * (more is crosstalk nobody follows), and eight bounds what a phone
 * decodes.  Video: the ones on screen, up to rooms_video_slots.  The
 * video bound comes from the offer size: a Chromium offer with 16
 * recvonly video m-lines and the audio ones, codecs pruned to what the
 * server forwards, stays far inside ROOMS_WS_MESSAGE_MAX; 16 tiles is
 * also the most a 1280x800 grid page shows at a useful size.
 * ROOMS_VIEW_MAX bounds a "view" message.
 */
#define ROOMS_AUDIO_SLOTS_DEFAULT  3
#define ROOMS_AUDIO_SLOTS_MAX      8
#define ROOMS_VIDEO_SLOTS_DEFAULT  16
#define ROOMS_VIDEO_SLOTS_MAX      16
#define ROOMS_VIEW_MAX             64

/*
 * A call survives an nginx reload (docs/protocol.md, "Resuming after a
 * reload"): a participant whose WebSocket went with a closing nginx
 * worker keeps its place and its media session this long, waiting for
 * its browser to resume on a new worker.  The browser reconnects at once
 * (its close frame says why), so a resume takes well under a second; 10 s
 * covers a slow reconnect on a loaded machine, while someone who really
 * went (a tab closed during the reload) is shown leaving soon enough.
 */
#define ROOMS_RESUME_GRACE_MS      10000

/* a room may be scheduled at most a year and a day ahead */
#define ROOMS_SCHEDULE_AHEAD_MAX   (366 * 86400)

/*
 * A start this far in the past is taken as "now": a person's clock may be
 * a little behind the server's, and a form takes a while to fill; further
 * back it is a mistake, refused.
 */
#define ROOMS_SCHEDULE_PAST_SLACK  300

/* the largest JSON body the API reads; a room is a few hundred bytes */
#define ROOMS_API_BODY_MAX         8192

/* base URLs used in invite links: scheme, host, port and a path prefix */
#define ROOMS_BASE_URL_MAX         512

/* "YYYY-MM-DDTHH:MM:SSZ" and its terminating zero */
#define ROOMS_TIME_LEN             20


/*
 * WebSocket signaling (rooms_ws.*).  A signaling message is JSON: an SDP
 * offer for a large room with simulcast is some tens of KiB, so 64 KiB
 * fits it while bounding what one connection can make the server buffer.
 * The limit is on the reassembled message, across all its fragments.
 */
#define ROOMS_WS_MESSAGE_MAX       65536

/* RFC 6455 5.5: a control frame's payload is at most 125 bytes */
#define ROOMS_WS_CONTROL_MAX       125


/*
 * The rings between nginx workers and the media worker (rooms_ring.*).
 * One ring pair per nginx worker: worker_processes rarely exceeds the
 * core count, and 64 x 2 rings of 1 MiB are 128 MiB of address space,
 * of which only the pages a ring has actually used are ever allocated.
 */
#define ROOMS_RING_MAX_PEERS        64

/*
 * Bytes of record space per ring.  In a room of 50 an offer or answer
 * is ~50 KiB (49 audio and 16 video m-lines, docs/protocol.md), and one
 * join makes each of the 49 others renegotiate at once: ~2.5 MiB of
 * offers one way and of answers the other, through one nginx worker's
 * rings when it holds them all.  rooms-load measured 1 MiB rings
 * overflowing then (docs/performance.md: signaling records dropped,
 * `media_unavailable`); 16 MiB holds several such rounds.  Only the pages
 * a ring has used are ever allocated (they stay resident once touched).
 * A record may take half a ring, so any WebSocket message fits whole.
 * The minimum is one page, the maximum keeps 64 peers' rings far below
 * any sane address-space limit.
 */
#define ROOMS_RING_CAPACITY_DEFAULT ((size_t) 16 * 1024 * 1024)
#define ROOMS_RING_CAPACITY_MIN     4096
#define ROOMS_RING_CAPACITY_MAX     (64 * 1024 * 1024)

/* descriptors handed over in one message: the memfd and a few eventfds */
#define ROOMS_RING_MAX_FDS          8


#endif /* ROOMS_LIMITS_H */
