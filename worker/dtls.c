/*
 * dtls.c: DTLS-SRTP server sessions on OpenSSL memory BIOs.
 *
 * Every session reads from a memory BIO the event loop fills and writes
 * to one it drains.  OpenSSL 3.0's memory BIO is a byte stream, so the
 * drain cuts it back into datagrams at DTLS record boundaries, packing
 * whole records up to the MTU: a flight never leaves as one oversized
 * datagram that the network would have to fragment.  The
 * peer certificate is accepted during the handshake (browsers use
 * self-signed ones) and checked against the signaled fingerprint as soon
 * as the handshake completes: a mismatch fails the session before any key
 * is exported.
 * OpenSSL draws its own randomness here (the certificate's serial with
 * RAND_bytes(), the handshake's keys) and reads the clock for its
 * retransmission timer: a DTLS handshake cannot be replayed, and that is
 * the one exception to the SFU's single source of randomness.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include rtp.h, include rtcp.h, include sdp.h, include ice.h, call json_, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dtls.h"
#include "srtp.h"


/*
 * Records must fit one UDP datagram on any path: 1200 bytes is what ICE
 * and browsers assume without path MTU discovery.
 */
#define ROOMS_DTLS_MTU       1200

/* certificates outlive any call; browsers do not check the dates */
#define ROOMS_DTLS_CERT_DAYS 30


struct rooms_dtls_ctx_s {
    SSL_CTX        *ssl_ctx;
    char            fingerprint[ROOMS_DTLS_FP_TEXT_LEN];
};


static int
rooms_dtls_accept_any(int ok, X509_STORE_CTX *store)
{
    /* self-signed by design: the fingerprint check replaces the chain */
    return 1;
}


static EVP_PKEY *
rooms_dtls_key(void)
{
    EVP_PKEY      *key;
    EVP_PKEY_CTX  *kctx;

    key = NULL;

    kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    if (kctx == NULL) {
        return NULL;
    }

    if (EVP_PKEY_keygen_init(kctx) <= 0
        || EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kctx,
                                                  NID_X9_62_prime256v1) <= 0
        || EVP_PKEY_keygen(kctx, &key) <= 0)
    {
        key = NULL;
    }

    EVP_PKEY_CTX_free(kctx);

    return key;
}


static X509 *
rooms_dtls_cert(EVP_PKEY *key)
{
    X509           *x;
    BIGNUM         *bn;
    X509_NAME      *name;
    unsigned char   serial[8];

    x = X509_new();
    if (x == NULL) {
        return NULL;
    }

    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        goto failed;
    }

    serial[0] &= 0x7f;

    /* the serial is copied into the certificate: its BIGNUM is ours */
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL) {
        goto failed;
    }

    if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
        BN_free(bn);
        goto failed;
    }

    BN_free(bn);

    if (X509_set_version(x, 2) != 1
        || X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL
        || X509_gmtime_adj(X509_getm_notAfter(x),
                           86400L * ROOMS_DTLS_CERT_DAYS) == NULL
        || X509_set_pubkey(x, key) != 1)
    {
        goto failed;
    }

    name = X509_get_subject_name(x);

    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *) "ngx_rooms",
                                   -1, -1, 0) != 1
        || X509_set_issuer_name(x, name) != 1
        || X509_sign(x, key, EVP_sha256()) == 0)
    {
        goto failed;
    }

    return x;

failed:

    X509_free(x);
    return NULL;
}


static void
rooms_dtls_fp_text(const uint8_t *fp, char *out)
{
    int                i;
    static const char  hex[] = "0123456789ABCDEF";

    for (i = 0; i < ROOMS_DTLS_FP_LEN; i++) {
        out[i * 3] = hex[fp[i] >> 4];
        out[i * 3 + 1] = hex[fp[i] & 0x0f];
        out[i * 3 + 2] = (i + 1 < ROOMS_DTLS_FP_LEN) ? ':' : '\0';
    }
}


rooms_dtls_ctx_t *
rooms_dtls_ctx_new(char *err, size_t errlen)
{
    X509              *cert;
    uint8_t            fp[EVP_MAX_MD_SIZE];
    EVP_PKEY          *key;
    unsigned int       fplen;
    rooms_dtls_ctx_t  *ctx;

    ctx = OPENSSL_zalloc(sizeof(rooms_dtls_ctx_t));
    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    key = rooms_dtls_key();
    cert = key ? rooms_dtls_cert(key) : NULL;

    if (cert == NULL) {
        snprintf(err, errlen, "cannot make the DTLS certificate");
        goto failed;
    }

    ctx->ssl_ctx = SSL_CTX_new(DTLS_server_method());

    if (ctx->ssl_ctx == NULL
        || SSL_CTX_set_min_proto_version(ctx->ssl_ctx, DTLS1_2_VERSION) != 1
        || SSL_CTX_use_certificate(ctx->ssl_ctx, cert) != 1
        || SSL_CTX_use_PrivateKey(ctx->ssl_ctx, key) != 1
        || SSL_CTX_check_private_key(ctx->ssl_ctx) != 1
        /* OpenSSL's use_srtp returns 0 on success */
        || SSL_CTX_set_tlsext_use_srtp(ctx->ssl_ctx,
                                       "SRTP_AEAD_AES_128_GCM:"
                                       "SRTP_AES128_CM_SHA1_80") != 0
        || X509_digest(cert, EVP_sha256(), fp, &fplen) != 1
        || fplen != ROOMS_DTLS_FP_LEN)
    {
        snprintf(err, errlen, "cannot set up DTLS: %s",
                 ERR_reason_error_string(ERR_get_error()));
        goto failed;
    }

    SSL_CTX_set_verify(ctx->ssl_ctx,
                       SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       rooms_dtls_accept_any);
    SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_NO_QUERY_MTU);
    SSL_CTX_set_read_ahead(ctx->ssl_ctx, 1);

    rooms_dtls_fp_text(fp, ctx->fingerprint);

    X509_free(cert);
    EVP_PKEY_free(key);

    return ctx;

failed:

    X509_free(cert);
    EVP_PKEY_free(key);
    rooms_dtls_ctx_free(ctx);

    return NULL;
}


void
rooms_dtls_ctx_free(rooms_dtls_ctx_t *ctx)
{
    if (ctx) {
        SSL_CTX_free(ctx->ssl_ctx);
        OPENSSL_free(ctx);
    }
}


const char *
rooms_dtls_ctx_fingerprint(const rooms_dtls_ctx_t *ctx)
{
    return ctx->fingerprint;
}


static int
rooms_dtls_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


int
rooms_dtls_fp_parse(const char *text, size_t len,
    uint8_t out[ROOMS_DTLS_FP_LEN])
{
    int     hi, lo;
    size_t  i;

    if (len != ROOMS_DTLS_FP_LEN * 3 - 1) {
        return -1;
    }

    for (i = 0; i < ROOMS_DTLS_FP_LEN; i++) {
        hi = rooms_dtls_hex(text[i * 3]);
        lo = rooms_dtls_hex(text[i * 3 + 1]);

        if (hi < 0 || lo < 0
            || (i + 1 < ROOMS_DTLS_FP_LEN && text[i * 3 + 2] != ':'))
        {
            return -1;
        }

        out[i] = (uint8_t) (hi << 4 | lo);
    }

    return 0;
}


int
rooms_dtls_init(rooms_dtls_t *d, rooms_dtls_ctx_t *ctx,
    const uint8_t remote_fp[ROOMS_DTLS_FP_LEN])
{
    SSL  *ssl;
    BIO  *rbio, *wbio;

    memset(d, 0, sizeof(rooms_dtls_t));

    ssl = SSL_new(ctx->ssl_ctx);
    rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(BIO_s_mem());

    if (ssl == NULL || rbio == NULL || wbio == NULL) {
        SSL_free(ssl);
        BIO_free(rbio);
        BIO_free(wbio);
        return -1;
    }

    /* an empty memory BIO means "try again", not end of file */
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);

    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_accept_state(ssl);
    SSL_set_mtu(ssl, ROOMS_DTLS_MTU);
    DTLS_set_link_mtu(ssl, ROOMS_DTLS_MTU);

    d->ssl = ssl;
    d->state = ROOMS_DTLS_HANDSHAKE;
    memcpy(d->remote_fp, remote_fp, ROOMS_DTLS_FP_LEN);

    return 0;
}


void
rooms_dtls_free(rooms_dtls_t *d)
{
    SSL_free((SSL *) d->ssl);
    OPENSSL_cleanse(d->keying, sizeof(d->keying));
    memset(d, 0, sizeof(rooms_dtls_t));
}


static int
rooms_dtls_fail(rooms_dtls_t *d, const char *why)
{
    d->state = ROOMS_DTLS_FAILED;
    d->error = why;
    ERR_clear_error();

    return ROOMS_DTLS_EV_FAILED;
}


/* The handshake is done: check the peer, pick the profile, export keys. */
static int
rooms_dtls_connected(rooms_dtls_t *d)
{
    SSL                    *ssl;
    X509                   *peer;
    uint8_t                 fp[EVP_MAX_MD_SIZE];
    unsigned int            fplen;
    SRTP_PROTECTION_PROFILE  *prof;

    ssl = d->ssl;

    peer = SSL_get1_peer_certificate(ssl);
    if (peer == NULL) {
        return rooms_dtls_fail(d, "the peer sent no certificate");
    }

    if (X509_digest(peer, EVP_sha256(), fp, &fplen) != 1
        || fplen != ROOMS_DTLS_FP_LEN
        || CRYPTO_memcmp(fp, d->remote_fp, ROOMS_DTLS_FP_LEN) != 0)
    {
        X509_free(peer);
        return rooms_dtls_fail(d, "the peer certificate does not match the "
                                  "signaled fingerprint");
    }

    X509_free(peer);

    prof = SSL_get_selected_srtp_profile(ssl);
    if (prof == NULL) {
        return rooms_dtls_fail(d, "no SRTP profile was negotiated");
    }

    d->profile = (unsigned) prof->id;
    d->keying_len = rooms_srtp_keying_len(d->profile);

    if (d->keying_len == 0 || d->keying_len > ROOMS_DTLS_KEYING_MAX
        || SSL_export_keying_material(ssl, d->keying, d->keying_len,
                                      "EXTRACTOR-dtls_srtp",
                                      sizeof("EXTRACTOR-dtls_srtp") - 1,
                                      NULL, 0, 0) != 1)
    {
        return rooms_dtls_fail(d, "cannot export the SRTP keys");
    }

    d->state = ROOMS_DTLS_CONNECTED;

    return ROOMS_DTLS_EV_CONNECTED;
}


static int
rooms_dtls_step(rooms_dtls_t *d)
{
    int       n, err;
    uint8_t   buf[2048];

    if (d->state == ROOMS_DTLS_HANDSHAKE) {
        n = SSL_do_handshake((SSL *) d->ssl);

        if (n == 1) {
            return rooms_dtls_connected(d);
        }

        err = SSL_get_error((SSL *) d->ssl, n);

        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            return ROOMS_DTLS_EV_NONE;
        }

        return rooms_dtls_fail(d, "the DTLS handshake failed");
    }

    if (d->state != ROOMS_DTLS_CONNECTED) {
        return ROOMS_DTLS_EV_NONE;
    }

    /* application data is not used (no data channels yet): drain it */
    for ( ;; ) {
        n = SSL_read((SSL *) d->ssl, buf, sizeof(buf));

        if (n > 0) {
            continue;
        }

        err = SSL_get_error((SSL *) d->ssl, n);

        if (err == SSL_ERROR_ZERO_RETURN) {
            d->state = ROOMS_DTLS_CLOSED;
            return ROOMS_DTLS_EV_CLOSED;
        }

        ERR_clear_error();
        return ROOMS_DTLS_EV_NONE;
    }
}


int
rooms_dtls_input(rooms_dtls_t *d, const uint8_t *data, size_t len)
{
    if (d->state == ROOMS_DTLS_FAILED || d->state == ROOMS_DTLS_CLOSED
        || len == 0 || len > 65535)
    {
        return ROOMS_DTLS_EV_NONE;
    }

    if (BIO_write(SSL_get_rbio((SSL *) d->ssl), data, (int) len)
        != (int) len)
    {
        return ROOMS_DTLS_EV_NONE;
    }

    return rooms_dtls_step(d);
}


size_t
rooms_dtls_output(rooms_dtls_t *d, uint8_t *out, size_t cap)
{
    int      n;
    BIO     *wbio;
    long     avail;
    char    *data;
    size_t   take, rec;

    if (d->ssl == NULL) {
        return 0;
    }

    wbio = SSL_get_wbio((SSL *) d->ssl);

    avail = BIO_get_mem_data(wbio, &data);
    if (avail <= 0) {
        return 0;
    }

    /* whole records (13-byte header + length) while they fit the MTU */
    take = 0;

    while (take + 13 <= (size_t) avail) {
        rec = 13 + ((size_t) (uint8_t) data[take + 11] << 8
                    | (uint8_t) data[take + 12]);

        if (take + rec > (size_t) avail
            || (take > 0 && take + rec > ROOMS_DTLS_MTU))
        {
            break;
        }

        take += rec;
    }

    if (take == 0) {
        /* not a record boundary (cannot happen with OpenSSL): pass it on */
        take = (size_t) avail;
    }

    if (take > cap) {
        return 0;
    }

    n = BIO_read(wbio, out, (int) take);

    return n > 0 ? (size_t) n : 0;
}


long
rooms_dtls_timeout(rooms_dtls_t *d)
{
    struct timeval  tv;

    if (d->state != ROOMS_DTLS_HANDSHAKE
        || DTLSv1_get_timeout((SSL *) d->ssl, &tv) != 1)
    {
        return -1;
    }

    return (long) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}


int
rooms_dtls_on_timeout(rooms_dtls_t *d)
{
    if (d->state != ROOMS_DTLS_HANDSHAKE) {
        return ROOMS_DTLS_EV_NONE;
    }

    if (DTLSv1_handle_timeout((SSL *) d->ssl) < 0) {
        return rooms_dtls_fail(d, "the DTLS handshake timed out");
    }

    return ROOMS_DTLS_EV_NONE;
}
