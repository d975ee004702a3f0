/*
 * load_dtls.c: the DTLS-SRTP client of each participant (the browser's
 * side: the answer says setup:passive), on OpenSSL memory BIOs.
 *
 * Owns: the process's certificate (ECDSA P-256, self-signed, as
 * Chromium's) and its fingerprint for the offers; the handshake's
 * retransmissions; checking the server's certificate against the
 * fingerprint of its answer; exporting the SRTP keys into libsrtp (the
 * project's srtp.c wrapper, as the client half).
 * Must never: key SRTP from a server whose certificate does not match the
 * fingerprint it announced.
 * May not: include sfu.h
 */

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "load.h"


#define LOAD_DTLS_MTU   1200


static X509      *load_cert;
static EVP_PKEY  *load_key;


static int
load_verify_any(int ok, X509_STORE_CTX *ctx)
{
    /* self-signed, as every WebRTC certificate: the fingerprint decides */
    (void) ok;
    (void) ctx;
    return 1;
}


int
load_dtls_global(void)
{
    SSL_CTX       *ctx;
    unsigned char  md[EVP_MAX_MD_SIZE];
    unsigned       mdlen, i;
    X509_NAME     *name;

    load_key = EVP_EC_gen("P-256");
    load_cert = X509_new();
    if (load_key == NULL || load_cert == NULL) {
        return -1;
    }

    X509_set_version(load_cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(load_cert),
                     (long) (load_now_us() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(load_cert), -86400);
    X509_gmtime_adj(X509_getm_notAfter(load_cert), 30 * 86400);
    X509_set_pubkey(load_cert, load_key);
    name = X509_get_subject_name(load_cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *) "rooms-load", -1, -1,
                               0);
    X509_set_issuer_name(load_cert, name);
    if (X509_sign(load_cert, load_key, EVP_sha256()) == 0) {
        return -1;
    }

    X509_digest(load_cert, EVP_sha256(), md, &mdlen);
    for (i = 0; i < mdlen; i++) {
        sprintf(load_run.fingerprint + 3 * i, "%02X%s", md[i],
                i + 1 < mdlen ? ":" : "");
    }

    /* a client toward ngx_rooms; toward Janus, whichever its SDP says */
    ctx = SSL_CTX_new(DTLS_method());
    if (ctx == NULL
        || SSL_CTX_use_certificate(ctx, load_cert) != 1
        || SSL_CTX_use_PrivateKey(ctx, load_key) != 1
        /* the order Chromium offers them in */
        || SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:"
                                       "SRTP_AES128_CM_SHA1_80") != 0)
    {
        return -1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER
                       | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, load_verify_any);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU);
    load_run.dtls_ctx = ctx;
    return rooms_srtp_global_init();
}


/* whole records up to the MTU per datagram, as they were written */
static void
load_dtls_flush(load_peer_t *p)
{
    BIO       *wbio;
    char      *data;
    long       avail;
    size_t     take, rec;
    uint8_t    out[LOAD_DTLS_MTU + 64];

    wbio = SSL_get_wbio(p->ssl);

    for (;;) {
        avail = BIO_get_mem_data(wbio, &data);
        if (avail <= 0) {
            return;
        }
        take = 0;
        while (take + 13 <= (size_t) avail) {
            rec = 13 + (((size_t) (uint8_t) data[take + 11] << 8)
                        | (uint8_t) data[take + 12]);
            if (take + rec > (size_t) avail
                || (take > 0 && take + rec > LOAD_DTLS_MTU))
            {
                break;
            }
            take += rec;
        }
        if (take == 0 || take > sizeof(out)) {
            take = (size_t) avail < sizeof(out) ? (size_t) avail
                                                : sizeof(out);
        }
        BIO_read(wbio, out, (int) take);
        load_udp_send(p, out, take);
    }
}


/* Chromium's DTLS retransmission timer: 50 ms at first, doubling up to
 * OpenSSL's cap (OpenSSL's own starts at 1 s) */
static unsigned int
load_dtls_timer(SSL *ssl, unsigned int previous_us)
{
    (void) ssl;
    if (previous_us == 0) {
        return 50000;
    }
    return previous_us >= 30000000 ? 60000000 : previous_us * 2;
}


int
load_dtls_start(load_peer_t *p)
{
    SSL  *ssl;
    BIO  *rbio, *wbio;

    if (load_run.opt.verbose > 1) {
        load_log(p, "ICE up, DTLS %s starts", p->dtls_server ? "server"
                                                             : "client");
    }

    ssl = SSL_new(load_run.dtls_ctx);
    rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(BIO_s_mem());
    if (ssl == NULL || rbio == NULL || wbio == NULL) {
        return -1;
    }
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_mtu(ssl, LOAD_DTLS_MTU);
    DTLS_set_timer_cb(ssl, load_dtls_timer);
    DTLS_set_link_mtu(ssl, LOAD_DTLS_MTU);
    if (p->dtls_server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
    }
    p->ssl = ssl;

    SSL_do_handshake(ssl);
    load_dtls_flush(p);
    return 0;
}


static void
load_dtls_done(load_peer_t *p, uint64_t now)
{
    X509                     *peer;
    unsigned char             md[EVP_MAX_MD_SIZE];
    unsigned                  mdlen;
    SRTP_PROTECTION_PROFILE  *prof;
    uint8_t                   km[128];
    size_t                    kl;

    peer = SSL_get1_peer_certificate(p->ssl);
    if (peer == NULL) {
        load_fail(p, "DTLS: the server sent no certificate");
        return;
    }
    X509_digest(peer, EVP_sha256(), md, &mdlen);
    X509_free(peer);

    if (mdlen != 32 || memcmp(md, p->rfp, 32) != 0) {
        p->fp_mismatch = 1;
        load_fail(p, "DTLS: the certificate is not the answer's fingerprint");
        return;
    }

    prof = SSL_get_selected_srtp_profile(p->ssl);
    kl = prof ? rooms_srtp_keying_len((unsigned) prof->id) : 0;
    if (kl == 0 || kl > sizeof(km)
        || SSL_export_keying_material(p->ssl, km, kl, "EXTRACTOR-dtls_srtp",
                                      19, NULL, 0, 0) != 1
        || rooms_srtp_create(&p->srtp, (unsigned) prof->id, km, kl,
                             p->dtls_server) != 0)
    {
        load_fail(p, "DTLS: no SRTP keys");
        return;
    }

    p->dtls_done = 1;
    p->dtls_us = now;
    if (load_run.opt.verbose > 1) {
        load_log(p, "DTLS done (%s)", p->dtls_server ? "server" : "client");
    }
    p->srtp_on = 1;
    load_media_start(p, now);
    if (p->is_sub) {
        p->tx_on = 0;                   /* it only receives */
    }
}


void
load_dtls_input(load_peer_t *p, const uint8_t *buf, size_t len,
    uint64_t now)
{
    int  rc;

    if (p->ssl == NULL && p->dtls_server && p->ice_done >= 1) {
        /* the other side's ClientHello starts our server side */
        if (load_dtls_start(p) != 0) {
            load_fail(p, "cannot start DTLS");
            return;
        }
    }
    if (p->ssl == NULL) {
        return;
    }
    BIO_write(SSL_get_rbio(p->ssl), buf, (int) len);

    if (!p->dtls_done) {
        rc = SSL_do_handshake(p->ssl);
        if (load_run.opt.verbose > 2) {
            load_log(p, "DTLS in %zu bytes: rc %d err %d", len, rc,
                     SSL_get_error(p->ssl, rc));
        }
        load_dtls_flush(p);
        if (rc == 1) {
            load_dtls_done(p, now);
        } else if (SSL_get_error(p->ssl, rc) != SSL_ERROR_WANT_READ) {
            load_fail(p, "DTLS handshake failed");
        }
        return;
    }

    /* after the handshake: alerts, or the server's retransmitted flight */
    {
        uint8_t  junk[2048];
        SSL_read(p->ssl, junk, sizeof(junk));
        load_dtls_flush(p);
    }
}


void
load_dtls_tick(load_peer_t *p, uint64_t now)
{
    struct timeval  tv;

    (void) now;
    if (p->ssl == NULL || p->dtls_done) {
        return;
    }
    if (DTLSv1_get_timeout(p->ssl, &tv) == 1 && tv.tv_sec == 0
        && tv.tv_usec == 0)
    {
        DTLSv1_handle_timeout(p->ssl);
        load_dtls_flush(p);
    }
}


void
load_dtls_free(load_peer_t *p)
{
    if (p->ssl) {
        SSL_free(p->ssl);
        p->ssl = NULL;
    }
    if (p->srtp_on) {
        rooms_srtp_destroy(&p->srtp);
        p->srtp_on = 0;
    }
}
