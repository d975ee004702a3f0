/*
 * stun.h: the STUN message codec of the media worker (RFC 5389 / 8489,
 * the subset that ICE needs).
 *
 * Owns: recognising a STUN datagram (RFC 7983 demultiplexing), parsing
 * one into a flat struct with strict bounds, checking MESSAGE-INTEGRITY
 * (HMAC-SHA1, short-term credentials) and FINGERPRINT (CRC-32), and
 * encoding the two replies an ICE-lite server sends: a Binding success
 * response and a Binding error response.  It also owns rooms_stun_addr_t,
 * the transport address every worker core uses.
 *
 * Must never: read past the datagram it was given, trust a length field
 * before checking it against the bytes that exist, compare MACs with
 * memcmp(), keep state between calls (apart from the caller-owned MAC
 * context), or touch a socket or a clock.  Parsing never allocates.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h
 */

#ifndef ROOMS_STUN_H
#define ROOMS_STUN_H

#include <stddef.h>
#include <stdint.h>


#define ROOMS_STUN_HEADER_LEN          20
#define ROOMS_STUN_MAGIC_COOKIE        0x2112a442u
#define ROOMS_STUN_TID_LEN             12
#define ROOMS_STUN_HMAC_LEN            20      /* HMAC-SHA1 */

/*
 * Room for any reply the encoders write: the largest, a 420 listing 4
 * types, is 20 + ERROR-CODE 28 + UNKNOWN-ATTRIBUTES 12 + MI 24 + FP 8 = 92.
 */
#define ROOMS_STUN_REPLY_MAX           128

/* unknown comprehension-required attributes remembered for a 420 reply */
#define ROOMS_STUN_MAX_UNKNOWN         4

/* RFC 8489 14.3: USERNAME is less than 509 bytes (RFC 5389 said 513) */
#define ROOMS_STUN_USERNAME_MAX        512

/* message types (method and class bits folded together) */
#define ROOMS_STUN_BINDING_REQUEST     0x0001
#define ROOMS_STUN_BINDING_INDICATION  0x0011
#define ROOMS_STUN_BINDING_SUCCESS     0x0101
#define ROOMS_STUN_BINDING_ERROR       0x0111

/* attribute types */
#define ROOMS_STUN_ATTR_MAPPED_ADDRESS      0x0001
#define ROOMS_STUN_ATTR_USERNAME            0x0006
#define ROOMS_STUN_ATTR_MESSAGE_INTEGRITY   0x0008
#define ROOMS_STUN_ATTR_ERROR_CODE          0x0009
#define ROOMS_STUN_ATTR_UNKNOWN_ATTRIBUTES  0x000a
#define ROOMS_STUN_ATTR_XOR_MAPPED_ADDRESS  0x0020
#define ROOMS_STUN_ATTR_PRIORITY            0x0024
#define ROOMS_STUN_ATTR_USE_CANDIDATE       0x0025
#define ROOMS_STUN_ATTR_SOFTWARE            0x8022
#define ROOMS_STUN_ATTR_FINGERPRINT         0x8028
#define ROOMS_STUN_ATTR_ICE_CONTROLLED      0x8029
#define ROOMS_STUN_ATTR_ICE_CONTROLLING     0x802a

/* which attributes a parsed message carries (rooms_stun_msg_t.flags) */
#define ROOMS_STUN_HAS_USERNAME        0x0001
#define ROOMS_STUN_HAS_INTEGRITY       0x0002
#define ROOMS_STUN_HAS_FINGERPRINT     0x0004
#define ROOMS_STUN_HAS_PRIORITY        0x0008
#define ROOMS_STUN_HAS_USE_CANDIDATE   0x0010
#define ROOMS_STUN_HAS_ICE_CONTROLLING 0x0020
#define ROOMS_STUN_HAS_ICE_CONTROLLED  0x0040
#define ROOMS_STUN_HAS_XOR_MAPPED      0x0080
#define ROOMS_STUN_HAS_ERROR_CODE      0x0100


/* rooms_stun_parse() results: 0, or why the datagram is not a message */
typedef enum {
    ROOMS_STUN_OK = 0,
    ROOMS_STUN_ERR_SHORT = -1,          /* under 20 bytes */
    ROOMS_STUN_ERR_NOT_STUN = -2,       /* first two bits not 0 */
    ROOMS_STUN_ERR_COOKIE = -3,         /* no magic cookie (RFC 3489) */
    ROOMS_STUN_ERR_LENGTH = -4,         /* length field vs datagram */
    ROOMS_STUN_ERR_ATTR_TRUNCATED = -5, /* attribute runs past the end */
    ROOMS_STUN_ERR_ATTR_BAD = -6,       /* known attribute, wrong shape */
    ROOMS_STUN_ERR_AFTER_FINGERPRINT = -7
} rooms_stun_rc_e;


/*
 * A transport address.  The struct is always fully initialised (unused
 * bytes zero), so two equal addresses are equal byte for byte, and IPv4
 * is never stored in its IPv4-mapped IPv6 form.
 *
 * via names the worker's own end: which of its UDP sockets (the index,
 * below ROOMS_VIA_TCP), or which TCP connection (ROOMS_VIA_TCP + its
 * slot) the remote address was seen on.  It takes part in equality, so
 * a session bound to one transport is never fed, nor answered, from
 * another: its packets go out the way its checks came in.  The cores
 * carry it and never look into it; 0 is the first (or only) UDP socket.
 * Addresses parsed from STUN attributes have via 0.
 */
typedef struct {
    uint8_t   family;                   /* 4 or 6; 0 is "no address" */
    uint8_t   pad;
    uint16_t  port;                     /* host byte order */
    uint8_t   ip[16];                   /* IPv4 uses ip[0..4) */
    uint16_t  via;                      /* the worker's socket/connection */
} rooms_stun_addr_t;

/* via at or above it: a TCP connection (RFC 6544), slot via - it */
#define ROOMS_VIA_TCP  0x8000


/*
 * A parsed message.  Pointers point into the datagram that was parsed,
 * so the struct is valid only as long as that buffer is.
 */
typedef struct {
    const uint8_t      *buf;            /* the datagram */
    size_t              len;            /* 20 + length field */

    uint16_t            type;
    uint16_t            flags;          /* ROOMS_STUN_HAS_* */
    const uint8_t      *tid;            /* 12 bytes */

    const uint8_t      *username;
    size_t              username_len;

    uint32_t            priority;
    uint64_t            ice_tiebreaker; /* CONTROLLING or CONTROLLED */

    rooms_stun_addr_t   xor_mapped;

    unsigned            error_code;     /* 300..699 */
    const uint8_t      *error_reason;
    size_t              error_reason_len;

    /* offsets of the attribute headers from buf; valid when HAS_* */
    size_t              integrity_off;
    size_t              fingerprint_off;

    /* comprehension-required types we do not know, before INTEGRITY */
    unsigned            nunknown;       /* may exceed the array's size */
    uint16_t            unknown[ROOMS_STUN_MAX_UNKNOWN];
} rooms_stun_msg_t;


/* a reusable HMAC-SHA1 context: created once, not in the packet path */
typedef struct rooms_stun_mac_s  rooms_stun_mac_t;


/*
 * RFC 7983 demultiplexing: 1 when the first byte is 0..3, the range STUN
 * owns on a port shared with DTLS (20..63) and SRTP (128..191).  Says
 * nothing of validity: rooms_stun_parse() decides that.
 */
int rooms_stun_is_stun(const uint8_t *buf, size_t len);

/*
 * Parses buf[0..len) as exactly one STUN message.  On ROOMS_STUN_OK, msg
 * describes it; otherwise msg is unspecified.  Attributes after
 * MESSAGE-INTEGRITY are bounds-checked but ignored, except FINGERPRINT;
 * FINGERPRINT must be last.  Unknown comprehension-optional attributes
 * are skipped; unknown comprehension-required ones are listed in
 * msg->unknown.  Of repeated attributes only the first counts.
 */
int rooms_stun_parse(rooms_stun_msg_t *msg, const uint8_t *buf, size_t len);

/*
 * 1 when msg carries a FINGERPRINT that matches the CRC-32 of the message
 * before it, 0 when it carries none or a wrong one.
 */
int rooms_stun_check_fingerprint(const rooms_stun_msg_t *msg);

/*
 * 1 when msg carries a MESSAGE-INTEGRITY that is the HMAC-SHA1 of the
 * message before it under key (ICE short-term credentials: the key is the
 * receiving agent's ice-pwd, as is), 0 otherwise.  The comparison is in
 * constant time.  mac may be NULL, at the cost of fetching HMAC on each
 * call (tests, fuzzing); the media worker passes one made once.
 */
int rooms_stun_check_integrity(const rooms_stun_msg_t *msg,
    rooms_stun_mac_t *mac, const uint8_t *key, size_t key_len);

/* A MAC context for the calls above and below; NULL when OpenSSL fails. */
rooms_stun_mac_t *rooms_stun_mac_create(void);
void rooms_stun_mac_destroy(rooms_stun_mac_t *mac);

/*
 * Writes a Binding success response for the request tid into out[0..cap):
 * XOR-MAPPED-ADDRESS of mapped, MESSAGE-INTEGRITY under key, FINGERPRINT.
 * Sets *out_len and returns 0, or returns -1 when cap is too small, the
 * address has no family or OpenSSL fails.  mac may be NULL.
 */
int rooms_stun_encode_success(uint8_t *out, size_t cap, size_t *out_len,
    const uint8_t tid[ROOMS_STUN_TID_LEN], const rooms_stun_addr_t *mapped,
    rooms_stun_mac_t *mac, const uint8_t *key, size_t key_len);

/*
 * Writes a Binding error response: ERROR-CODE with code (400, 401, 420,
 * 487 or 500, each with its RFC reason phrase), UNKNOWN-ATTRIBUTES for
 * 420 (nunknown types from unknown, at most ROOMS_STUN_MAX_UNKNOWN),
 * MESSAGE-INTEGRITY when key is not NULL, and FINGERPRINT.
 *
 * Policy lives in the caller: ice.c replies to nothing that failed
 * authentication, so 401 (which RFC 8489 sends without integrity) is
 * encodable here but never sent by the media worker.
 */
int rooms_stun_encode_error(uint8_t *out, size_t cap, size_t *out_len,
    const uint8_t tid[ROOMS_STUN_TID_LEN], unsigned code,
    const uint16_t *unknown, unsigned nunknown,
    rooms_stun_mac_t *mac, const uint8_t *key, size_t key_len);

/*
 * Writes a Binding request (tests and tools: the worker never sends one).
 * username, priority (when not 0), USE-CANDIDATE, ICE-CONTROLLING with
 * tiebreaker when controlling else ICE-CONTROLLED, MESSAGE-INTEGRITY
 * when key is not NULL, and FINGERPRINT.
 */
int rooms_stun_encode_request(uint8_t *out, size_t cap, size_t *out_len,
    const uint8_t tid[ROOMS_STUN_TID_LEN], const char *username,
    uint32_t priority, int use_candidate, int controlling,
    uint64_t tiebreaker, rooms_stun_mac_t *mac, const uint8_t *key,
    size_t key_len);

/* CRC-32 (ISO-HDLC, as zlib's crc32) of buf[0..len). */
uint32_t rooms_stun_crc32(const uint8_t *buf, size_t len);

/* Fills addr from numbers, for tests and configuration: 0 or -1. */
int rooms_stun_addr_set(rooms_stun_addr_t *addr, const char *ip,
    uint16_t port);

/* 1 when a and b are the same family, address, port and via. */
int rooms_stun_addr_equal(const rooms_stun_addr_t *a,
    const rooms_stun_addr_t *b);

/*
 * "192.0.2.1:32853" or "[2001:db8::1]:32853" into buf (64 bytes fit),
 * with " tcp" after it for an address seen on a TCP connection.
 */
const char *rooms_stun_addr_format(const rooms_stun_addr_t *addr, char *buf,
    size_t size);


#endif /* ROOMS_STUN_H */
