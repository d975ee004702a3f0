/*
 * srtp.c: libsrtp2 glue for the media worker.
 *
 * Each session has two contexts with wildcard SSRC policies: inbound for
 * what the browser publishes, outbound for everything the SFU forwards to
 * it.  Outbound allows repeated sequence numbers so a packet resent from
 * the NACK history can be protected again.  The replay window is 1024
 * packets: video bursts at a keyframe easily reorder past the default 128.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include rtp.h, include rtcp.h, include dtls.h, include sdp.h, call json_, call malloc, call calloc, call RAND_bytes, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <string.h>

#include <srtp2/srtp.h>

#include "srtp.h"


/* the replay window, in packets (libsrtp allows 64 to 2^15) */
#define ROOMS_SRTP_WINDOW  1024


int
rooms_srtp_global_init(void)
{
    static unsigned  done;

    /* libsrtp refuses a second srtp_init(): a second SFU (tests) is fine */
    if (!done) {
        if (srtp_init() != srtp_err_status_ok) {
            return -1;
        }

        done = 1;
    }

    return 0;
}


static int
rooms_srtp_sizes(unsigned profile, size_t *key, size_t *salt)
{
    switch (profile) {

    case ROOMS_SRTP_AES128_CM_SHA1_80:
        *key = 16;
        *salt = 14;
        return 0;

    case ROOMS_SRTP_AEAD_AES_128_GCM:
        *key = 16;
        *salt = 12;
        return 0;

    default:
        return -1;
    }
}


size_t
rooms_srtp_keying_len(unsigned profile)
{
    size_t  key, salt;

    if (rooms_srtp_sizes(profile, &key, &salt) != 0) {
        return 0;
    }

    return 2 * (key + salt);
}


static int
rooms_srtp_context(srtp_t *ctx, unsigned profile, const uint8_t *key,
    const uint8_t *salt, size_t key_len, size_t salt_len, int inbound)
{
    int             rc;
    uint8_t         master[32 + 14];
    srtp_policy_t   policy;

    memset(&policy, 0, sizeof(srtp_policy_t));

    if (profile == ROOMS_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);

    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
    }

    /* libsrtp takes the master key and salt as one buffer */
    memcpy(master, key, key_len);
    memcpy(master + key_len, salt, salt_len);

    policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    policy.key = master;
    policy.window_size = ROOMS_SRTP_WINDOW;
    policy.allow_repeat_tx = inbound ? 0 : 1;
    policy.next = NULL;

    rc = srtp_create(ctx, &policy) == srtp_err_status_ok ? 0 : -1;

    memset(master, 0, sizeof(master));

    return rc;
}


int
rooms_srtp_create(rooms_srtp_t *s, unsigned profile, const uint8_t *material,
    size_t len, int is_server)
{
    size_t          key, salt;
    srtp_t          in, out;
    const uint8_t  *ck, *sk, *cs, *ss;

    memset(s, 0, sizeof(rooms_srtp_t));

    if (rooms_srtp_sizes(profile, &key, &salt) != 0
        || len != 2 * (key + salt))
    {
        return ROOMS_SRTP_ERROR;
    }

    ck = material;
    sk = material + key;
    cs = material + 2 * key;
    ss = material + 2 * key + salt;

    if (rooms_srtp_context(&in, profile, is_server ? ck : sk,
                           is_server ? cs : ss, key, salt, 1) != 0)
    {
        return ROOMS_SRTP_ERROR;
    }

    if (rooms_srtp_context(&out, profile, is_server ? sk : ck,
                           is_server ? ss : cs, key, salt, 0) != 0)
    {
        srtp_dealloc(in);
        return ROOMS_SRTP_ERROR;
    }

    s->in = in;
    s->out = out;
    s->profile = profile;

    return ROOMS_SRTP_OK;
}


void
rooms_srtp_destroy(rooms_srtp_t *s)
{
    if (s->in) {
        srtp_dealloc((srtp_t) s->in);
    }

    if (s->out) {
        srtp_dealloc((srtp_t) s->out);
    }

    memset(s, 0, sizeof(rooms_srtp_t));
}


static int
rooms_srtp_status(srtp_err_status_t st)
{
    switch (st) {

    case srtp_err_status_ok:
        return ROOMS_SRTP_OK;

    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return ROOMS_SRTP_REPLAY;

    case srtp_err_status_auth_fail:
        return ROOMS_SRTP_AUTH_FAIL;

    default:
        return ROOMS_SRTP_ERROR;
    }
}


/* libsrtp counts in int: keep lengths well inside it */
#define ROOMS_SRTP_LEN_MAX  65536


int
rooms_srtp_protect(rooms_srtp_t *s, uint8_t *buf, size_t *len)
{
    int  n;

    if (*len > ROOMS_SRTP_LEN_MAX) {
        return ROOMS_SRTP_ERROR;
    }

    n = (int) *len;

    if (srtp_protect((srtp_t) s->out, buf, &n) != srtp_err_status_ok) {
        return ROOMS_SRTP_ERROR;
    }

    *len = (size_t) n;

    return ROOMS_SRTP_OK;
}


int
rooms_srtp_protect_rtcp(rooms_srtp_t *s, uint8_t *buf, size_t *len)
{
    int  n;

    if (*len > ROOMS_SRTP_LEN_MAX) {
        return ROOMS_SRTP_ERROR;
    }

    n = (int) *len;

    if (srtp_protect_rtcp((srtp_t) s->out, buf, &n) != srtp_err_status_ok) {
        return ROOMS_SRTP_ERROR;
    }

    *len = (size_t) n;

    return ROOMS_SRTP_OK;
}


int
rooms_srtp_unprotect(rooms_srtp_t *s, uint8_t *buf, size_t *len)
{
    int                n, rc;
    srtp_err_status_t  st;

    if (*len > ROOMS_SRTP_LEN_MAX) {
        return ROOMS_SRTP_ERROR;
    }

    n = (int) *len;
    st = srtp_unprotect((srtp_t) s->in, buf, &n);
    rc = rooms_srtp_status(st);

    if (rc == ROOMS_SRTP_OK) {
        *len = (size_t) n;
    }

    return rc;
}


int
rooms_srtp_unprotect_rtcp(rooms_srtp_t *s, uint8_t *buf, size_t *len)
{
    int                n, rc;
    srtp_err_status_t  st;

    if (*len > ROOMS_SRTP_LEN_MAX) {
        return ROOMS_SRTP_ERROR;
    }

    n = (int) *len;
    st = srtp_unprotect_rtcp((srtp_t) s->in, buf, &n);
    rc = rooms_srtp_status(st);

    if (rc == ROOMS_SRTP_OK) {
        *len = (size_t) n;
    }

    return rc;
}
