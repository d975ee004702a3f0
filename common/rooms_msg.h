/*
 * rooms_msg.h: the one vocabulary of the two programs: which signaling
 * messages a browser may send, who may send each and which side handles
 * it; and the JSON payload of each ring record as a C struct with its
 * encoder and decoder (docs/protocol.md, common/rooms_proto.h).
 *
 * Owns: the table of browser message types and the payload codecs of the
 * JOIN, ROOM, BAN, COUNT, RESYNC, HOST_ABSENT, ROLE and RESUME records.
 * The module, the media worker and the test's fake media worker all use
 * these, so no second strcmp chain or json_pack for the same question
 * exists.  Must never include nginx or worker headers, keep state, or
 * decide what a record does: it only says what the bytes mean.
 *
 * May not: include <ngx_config.h>, include <ngx_core.h>, include sfu.h, call rooms_store_, call ngx_
 */

#ifndef ROOMS_MSG_H
#define ROOMS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_limits.h"


/* who may send a browser message */
typedef enum {
    ROOMS_MSG_ANYONE = 0,
    ROOMS_MSG_COHOST,             /* a host or a co-host */
    ROOMS_MSG_HOST                /* the host only */
} rooms_msg_from_e;

/* which program acts on it */
typedef enum {
    ROOMS_MSG_NGINX = 0,          /* nginx, through the store */
    ROOMS_MSG_RELAY               /* the media worker, as a SIGNAL record */
} rooms_msg_at_e;

typedef enum {
    ROOMS_MSG_JOIN = 0,
    ROOMS_MSG_OFFER,
    ROOMS_MSG_MEDIA,
    ROOMS_MSG_VIEW,
    ROOMS_MSG_LEAVE,
    ROOMS_MSG_REMOVE,
    ROOMS_MSG_MUTE,
    ROOMS_MSG_ADMIT,
    ROOMS_MSG_DENY,
    ROOMS_MSG_LOCK,
    ROOMS_MSG_END,
    ROOMS_MSG_COHOST_SET,         /* "cohost" */
    ROOMS_MSG_COHOST_UNSET,       /* "uncohost" */
    ROOMS_MSG_RESUME,             /* "resume": a first message, as join */
    ROOMS_MSG_SHARE,              /* "share": this mid is my screen */
    ROOMS_MSG_UNSHARE,            /* "unshare": I stopped sharing */
    ROOMS_MSG_STOP_SHARE,         /* "stop_share": a host stops one */
    ROOMS_MSG_NTYPES
} rooms_msg_id_e;

typedef struct {
    const char     *name;         /* the "type" string */
    rooms_msg_id_e  id;
    uint8_t         from;         /* rooms_msg_from_e */
    uint8_t         at;           /* rooms_msg_at_e */
    uint8_t         target;       /* needs a participant's "id" */
} rooms_msg_type_t;


/*
 * The browser message type named by type[0..len), or NULL for a type no
 * browser may send (the server's own types too).
 */
const rooms_msg_type_t *rooms_msg_type(const char *type, size_t len);

/* The entry of id (0 <= id < ROOMS_MSG_NTYPES). */
const rooms_msg_type_t *rooms_msg_type_of(rooms_msg_id_e id);


/* the roles a JOIN names and a ROLE record sets */
typedef enum {
    ROOMS_MSG_ROLE_GUEST = 0,
    ROOMS_MSG_ROLE_COHOST,
    ROOMS_MSG_ROLE_HOST
} rooms_msg_role_e;

const char *rooms_msg_role_name(unsigned role);


/*
 * The payloads.  Encoders write compact JSON into out[0..cap) and return
 * its length (no terminating zero counted; one is written when it fits),
 * or -1 when cap is too small or a field is out of its range.  Decoders
 * read json[0..len) (not zero-terminated; shared memory is fine, it is
 * read once) and fill the struct, or return -1 with a short reason in
 * *why: a payload that is not exactly the documented shape is refused
 * whole, never half-applied.  Fields a decoder does not know are ignored,
 * so a newer peer can add some without a version bump.
 */

#define ROOMS_MSG_TOKEN_LEN  ROOMS_HASH_HEX_LEN

/*
 * nginx -> worker: a participant asks to join (ROOMS_PROTO_JOIN).  The
 * worker only labels the room with the code (its logs, the code of its
 * COUNT and HOST_ABSENT records): one of at most ROOMS_CODE_LEN bytes is
 * kept as sent, a longer one decodes as "" (none).  Token hashes, here
 * and in every record, decode in lower case.
 */
typedef struct {
    int64_t   room;
    char      code[ROOMS_CODE_LEN + 1];     /* "": none */
    int64_t   rev;                          /* 0 when absent */
    unsigned  max;
    char      name[ROOMS_NAME_MAX_BYTES + 1];
    unsigned  role;                         /* rooms_msg_role_e */
    char      token[ROOMS_MSG_TOKEN_LEN + 1];
    unsigned  locked:1;
    unsigned  knock:1;                      /* admission "knock" */
    unsigned  host_absent;                  /* rooms_host_absent_e */
    uint64_t  grace;                        /* ms */
    unsigned  video_slots;
    unsigned  audio_slots;
    char      resume[ROOMS_MSG_TOKEN_LEN + 1];  /* "": none */
} rooms_msg_join_t;

int rooms_msg_join_encode(const rooms_msg_join_t *j, char *out, size_t cap);
int rooms_msg_join_decode(const char *json, size_t len, rooms_msg_join_t *j,
    const char **why);


/* what a ROOM record says changed */
#define ROOMS_MSG_ROOM_ENDED        0x01
#define ROOMS_MSG_ROOM_LOCKED       0x02
#define ROOMS_MSG_ROOM_ADMISSION    0x04
#define ROOMS_MSG_ROOM_MAX          0x08
#define ROOMS_MSG_ROOM_HOST_ABSENT  0x10
#define ROOMS_MSG_ROOM_DEMOTE       0x20
#define ROOMS_MSG_ROOM_REASON       0x40    /* "reason": "host_absent" */

/*
 * nginx -> worker: a room changed through the store (ROOMS_PROTO_ROOM):
 * an end alone, or one change at least (a record saying neither is
 * refused); a "reason" other than "host_absent" is ignored.
 */
typedef struct {
    int64_t   room;
    int64_t   rev;
    unsigned  has;                          /* ROOMS_MSG_ROOM_* */
    unsigned  locked:1;
    unsigned  knock:1;
    unsigned  max;
    unsigned  host_absent;
    char      demote[ROOMS_MSG_TOKEN_LEN + 1];
} rooms_msg_room_t;

int rooms_msg_room_encode(const rooms_msg_room_t *r, char *out, size_t cap);
int rooms_msg_room_decode(const char *json, size_t len, rooms_msg_room_t *r,
    const char **why);


/* worker -> nginx: a host removed someone (ROOMS_PROTO_BAN) */
typedef struct {
    int64_t   room;
    char      token[ROOMS_MSG_TOKEN_LEN + 1];
} rooms_msg_ban_t;

int rooms_msg_ban_encode(const rooms_msg_ban_t *b, char *out, size_t cap);
int rooms_msg_ban_decode(const char *json, size_t len, rooms_msg_ban_t *b,
    const char **why);


/*
 * A code that is not ROOMS_CODE_LEN long decodes as "" (COUNT,
 * HOST_ABSENT): nginx then goes by the room's id.
 */

/*
 * worker -> nginx: the people in a room now (ROOMS_PROTO_COUNT).  seq is
 * the media worker's order of its counts (1 or more): a count with a seq
 * below the one a room's count was set by is stale (rooms_proto.h).
 */
typedef struct {
    int64_t   room;
    char      code[ROOMS_CODE_LEN + 1];
    unsigned  count;
    int64_t   seq;
} rooms_msg_count_t;

int rooms_msg_count_encode(const rooms_msg_count_t *c, char *out,
    size_t cap);
int rooms_msg_count_decode(const char *json, size_t len,
    rooms_msg_count_t *c, const char **why);


/*
 * worker -> nginx: every count set by a seq up to seq (0 or more) and
 * not sent again since is 0 (ROOMS_PROTO_RESYNC).
 */
typedef struct {
    int64_t   seq;
} rooms_msg_resync_t;

int rooms_msg_resync_encode(const rooms_msg_resync_t *r, char *out,
    size_t cap);
int rooms_msg_resync_decode(const char *json, size_t len,
    rooms_msg_resync_t *r, const char **why);


/* worker -> nginx: the last host left (ROOMS_PROTO_HOST_ABSENT) */
typedef struct {
    int64_t   room;
    char      code[ROOMS_CODE_LEN + 1];
    int64_t   rev;
    unsigned  end:1;                        /* "end", else "lock" */
} rooms_msg_host_absent_t;

int rooms_msg_host_absent_encode(const rooms_msg_host_absent_t *h,
    char *out, size_t cap);
int rooms_msg_host_absent_decode(const char *json, size_t len,
    rooms_msg_host_absent_t *h, const char **why);


/* worker -> nginx: someone became co-host, or guest again (ROOMS_PROTO_ROLE) */
typedef struct {
    int64_t   room;
    unsigned  cohost:1;                     /* "cohost", else "guest" */
    char      token[ROOMS_MSG_TOKEN_LEN + 1];
    char      name[ROOMS_NAME_MAX_BYTES + 1];
} rooms_msg_role_t;

int rooms_msg_role_encode(const rooms_msg_role_t *r, char *out, size_t cap);
int rooms_msg_role_decode(const char *json, size_t len, rooms_msg_role_t *r,
    const char **why);


/*
 * nginx -> worker: a browser resumes its participant on a new connection
 * (ROOMS_PROTO_RESUME).  Every field is required.
 */
typedef struct {
    int64_t   room;
    unsigned  role;                         /* rooms_msg_role_e */
    char      token[ROOMS_MSG_TOKEN_LEN + 1];   /* the guest token's hash */
    char      resume[ROOMS_MSG_TOKEN_LEN + 1];  /* the presented one's */
    char      next[ROOMS_MSG_TOKEN_LEN + 1];    /* the next one's */
} rooms_msg_resume_t;

int rooms_msg_resume_encode(const rooms_msg_resume_t *r, char *out,
    size_t cap);
int rooms_msg_resume_decode(const char *json, size_t len,
    rooms_msg_resume_t *r, const char **why);


#endif /* ROOMS_MSG_H */
