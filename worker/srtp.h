/*
 * srtp.h: SRTP and SRTCP for one media session, on libsrtp2 built against
 * OpenSSL (scripts/srtp.sh).
 *
 * Owns: turning DTLS-SRTP keying material (RFC 5764 §4.2) into an inbound
 * and an outbound libsrtp context, and protecting / unprotecting packets
 * in place.  Must never do I/O, read a clock or allocate per packet.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include <srtp2/srtp.h>
 */

#ifndef ROOMS_SRTP_H
#define ROOMS_SRTP_H

#include <stddef.h>
#include <stdint.h>


/* DTLS-SRTP protection profiles (RFC 5764, RFC 7714), by IANA number */
#define ROOMS_SRTP_AES128_CM_SHA1_80   0x0001
#define ROOMS_SRTP_AEAD_AES_128_GCM    0x0007

/* bytes SRTP may add to a packet: the auth tag (16 for GCM, 10 for SHA1) */
#define ROOMS_SRTP_MAX_TRAILER         16
/* SRTCP adds the tag and the 4-byte E|index word */
#define ROOMS_SRTCP_MAX_TRAILER        (16 + 4)

#define ROOMS_SRTP_OK                  0
#define ROOMS_SRTP_ERROR              -1     /* bad key, bad profile */
#define ROOMS_SRTP_AUTH_FAIL          -2     /* forged or corrupted */
#define ROOMS_SRTP_REPLAY             -3     /* seen before or too old */


typedef struct {
    void      *in;              /* srtp_t for what the peer sends */
    void      *out;             /* srtp_t for what we send */
    unsigned   profile;
} rooms_srtp_t;


/* Initializes libsrtp once per process.  Returns 0 or -1. */
int rooms_srtp_global_init(void);

/*
 * Bytes of keying material the DTLS exporter must produce for profile
 * ("EXTRACTOR-dtls_srtp"), or 0 for a profile we do not support.
 */
size_t rooms_srtp_keying_len(unsigned profile);

/*
 * Sets up both directions from the exported keying material, laid out as
 * client key | server key | client salt | server salt.  is_server says
 * which half is ours: the media worker is always the DTLS server.
 */
int rooms_srtp_create(rooms_srtp_t *s, unsigned profile,
    const uint8_t *material, size_t len, int is_server);

void rooms_srtp_destroy(rooms_srtp_t *s);

/*
 * Protect in place: buf holds *len bytes of RTP (or RTCP) and has room for
 * *len + ROOMS_SRTP_MAX_TRAILER (ROOMS_SRTCP_MAX_TRAILER); *len grows.
 */
int rooms_srtp_protect(rooms_srtp_t *s, uint8_t *buf, size_t *len);
int rooms_srtp_protect_rtcp(rooms_srtp_t *s, uint8_t *buf, size_t *len);

/* Unprotect in place; *len shrinks.  Replays and forgeries are refused. */
int rooms_srtp_unprotect(rooms_srtp_t *s, uint8_t *buf, size_t *len);
int rooms_srtp_unprotect_rtcp(rooms_srtp_t *s, uint8_t *buf, size_t *len);


#endif /* ROOMS_SRTP_H */
