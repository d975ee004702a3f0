/*
 * dtls.h: the DTLS-SRTP server side of one media session (RFC 5764), on
 * OpenSSL with memory BIOs.
 *
 * Owns: the process's certificate and its SHA-256 fingerprint (the one the
 * SDP answer announces), the handshake of each session, the check of the
 * browser's certificate against the fingerprint its SDP offer announced,
 * the SRTP profile choice (AEAD_AES_128_GCM first: OpenSSL as the server
 * keeps its own order, so Chromium gets GCM) and the export of the SRTP
 * keying material.  Sans-IO: datagrams in, datagrams out; it never touches
 * a socket.  OpenSSL reads the clock itself for DTLS retransmission
 * timers; the event loop asks rooms_dtls_timeout() when to call back.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include <openssl/ssl.h>
 */

#ifndef ROOMS_DTLS_H
#define ROOMS_DTLS_H

#include <stddef.h>
#include <stdint.h>


#define ROOMS_DTLS_FP_LEN         32          /* SHA-256 */
/* "AB:CD:..." upper-case hex with colons, and the zero */
#define ROOMS_DTLS_FP_TEXT_LEN    (ROOMS_DTLS_FP_LEN * 3)
#define ROOMS_DTLS_KEYING_MAX     60

/* session states */
#define ROOMS_DTLS_HANDSHAKE      0
#define ROOMS_DTLS_CONNECTED      1
#define ROOMS_DTLS_FAILED         2
#define ROOMS_DTLS_CLOSED         3

/* what rooms_dtls_input() reports */
#define ROOMS_DTLS_EV_NONE        0
#define ROOMS_DTLS_EV_CONNECTED   1           /* keys are ready */
#define ROOMS_DTLS_EV_FAILED      2
#define ROOMS_DTLS_EV_CLOSED      3           /* the peer sent close_notify */


typedef struct rooms_dtls_ctx_s  rooms_dtls_ctx_t;

typedef struct {
    void           *ssl;                       /* SSL * */
    int             state;
    unsigned        profile;                   /* ROOMS_SRTP_* */
    uint8_t         remote_fp[ROOMS_DTLS_FP_LEN];
    uint8_t         keying[ROOMS_DTLS_KEYING_MAX];
    size_t          keying_len;
    const char     *error;                     /* why it failed */
} rooms_dtls_t;


/*
 * Makes the process-wide context: a fresh EC P-256 key and self-signed
 * certificate.  Returns NULL with a message in err.
 */
rooms_dtls_ctx_t *rooms_dtls_ctx_new(char *err, size_t errlen);
void rooms_dtls_ctx_free(rooms_dtls_ctx_t *ctx);

/* "sha-256" fingerprint of our certificate as SDP writes it. */
const char *rooms_dtls_ctx_fingerprint(const rooms_dtls_ctx_t *ctx);

/*
 * Parses an SDP fingerprint value ("AB:CD:...", 32 bytes) into out.
 * Returns 0 or -1.
 */
int rooms_dtls_fp_parse(const char *text, size_t len,
    uint8_t out[ROOMS_DTLS_FP_LEN]);

/*
 * Starts a server session that will accept only a peer certificate whose
 * SHA-256 is remote_fp (from the signaling session's SDP offer).
 */
int rooms_dtls_init(rooms_dtls_t *d, rooms_dtls_ctx_t *ctx,
    const uint8_t remote_fp[ROOMS_DTLS_FP_LEN]);
void rooms_dtls_free(rooms_dtls_t *d);

/* Feeds one received datagram; returns a ROOMS_DTLS_EV_* event. */
int rooms_dtls_input(rooms_dtls_t *d, const uint8_t *data, size_t len);

/*
 * Takes the next datagram to send into out (cap bytes).  Returns its
 * length, or 0 when nothing is pending.
 */
size_t rooms_dtls_output(rooms_dtls_t *d, uint8_t *out, size_t cap);

/*
 * Milliseconds until the handshake wants rooms_dtls_on_timeout(), or -1
 * when no timer runs.
 */
long rooms_dtls_timeout(rooms_dtls_t *d);

/* Retransmits after a timeout; returns a ROOMS_DTLS_EV_* event. */
int rooms_dtls_on_timeout(rooms_dtls_t *d);


#endif /* ROOMS_DTLS_H */
