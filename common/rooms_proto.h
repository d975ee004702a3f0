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
 */

#ifndef ROOMS_PROTO_H
#define ROOMS_PROTO_H

#include <stdint.h>


/*
 * Bump on any change to: the record header, the numbering or meaning of
 * the types, a payload format, or the ring segment layout (rooms_ring.h).
 */
#define ROOMS_PROTO_VERSION  1


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
 * Record types.  0 is reserved for the rings' own wrap padding and never
 * reaches a reader.  The rest are placeholders for the signaling to come;
 * their payloads are opaque bytes until they are specified here.
 */
typedef enum {
    ROOMS_PROTO_PAD = 0,          /* ring internal: skip to the buffer end */
    ROOMS_PROTO_HELLO,            /* a side introduces itself */
    ROOMS_PROTO_JOIN,             /* a participant joins a room */
    ROOMS_PROTO_LEAVE,            /* a participant leaves (or is removed) */
    ROOMS_PROTO_SDP_OFFER,        /* an SDP offer, browser to media worker */
    ROOMS_PROTO_SDP_ANSWER,       /* an SDP answer, media worker to browser */
    ROOMS_PROTO_EVENT,            /* a room event to fan out to clients */
    ROOMS_PROTO_ERROR,            /* a request failed; id says which */

    ROOMS_PROTO_TYPE_MAX          /* not a type: one past the last */
} rooms_proto_type_e;


#endif /* ROOMS_PROTO_H */
