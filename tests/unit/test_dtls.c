/*
 * test_dtls.c: the DTLS-SRTP server core (worker/dtls.*) against an
 * OpenSSL DTLS client in memory, datagram by datagram.
 *
 * Covers: our certificate's fingerprint text; fingerprint parsing; a full
 * handshake with a Chromium-like client (offers SHA1_80 first, GCM too)
 * ends on AEAD_AES_128_GCM because the server's order wins; the exported
 * keying material is the client's, and SRTP contexts built from both ends
 * talk; a client offering only SHA1_80 gets SHA1_80; a certificate that
 * does not match the signaled fingerprint fails the session with no keys;
 * every datagram we send fits the 1200-byte MTU; garbage does not crash.
 */

#include <stdint.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dtls.h"
#include "srtp.h"
#include "tap.h"


typedef struct {
    SSL_CTX   *ctx;
    SSL       *ssl;
    uint8_t    fp[ROOMS_DTLS_FP_LEN];
} client_t;


static size_t  max_datagram;


static int
client_new(client_t *c, const char *profiles)
{
    X509          *x;
    EVP_PKEY      *key;
    unsigned int   n;
    BIO           *rbio, *wbio;

    key = EVP_EC_gen("P-256");
    x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *) "client", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, key, EVP_sha256());
    X509_digest(x, EVP_sha256(), c->fp, &n);

    c->ctx = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_use_certificate(c->ctx, x);
    SSL_CTX_use_PrivateKey(c->ctx, key);
    SSL_CTX_set_tlsext_use_srtp(c->ctx, profiles);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);

    c->ssl = SSL_new(c->ctx);
    rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(c->ssl, rbio, wbio);
    SSL_set_connect_state(c->ssl);
    SSL_set_mtu(c->ssl, 1200);

    X509_free(x);
    EVP_PKEY_free(key);

    return n == ROOMS_DTLS_FP_LEN ? 0 : -1;
}


static void
client_free(client_t *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
}


/*
 * Runs the handshake to its end; returns the last server event seen
 * (CONNECTED or FAILED) or NONE when it stalls.
 */
static int
pump(client_t *c, rooms_dtls_t *d)
{
    int       i, ev, last;
    long      n;
    char     *data;
    uint8_t   buf[4096];
    size_t    len;

    last = ROOMS_DTLS_EV_NONE;

    for (i = 0; i < 20; i++) {
        SSL_do_handshake(c->ssl);
        ERR_clear_error();

        /* client to server: the whole pending flight as one datagram */
        n = BIO_get_mem_data(SSL_get_wbio(c->ssl), &data);
        if (n > 0) {
            len = (size_t) BIO_read(SSL_get_wbio(c->ssl), buf, (int) n);
            ev = rooms_dtls_input(d, buf, len);
            if (ev != ROOMS_DTLS_EV_NONE) {
                last = ev;
            }
        }

        /* server to client, datagram by datagram */
        while ((len = rooms_dtls_output(d, buf, sizeof(buf))) > 0) {
            if (len > max_datagram) {
                max_datagram = len;
            }
            BIO_write(SSL_get_rbio(c->ssl), buf, (int) len);
        }

        if (last == ROOMS_DTLS_EV_FAILED
            || (last == ROOMS_DTLS_EV_CONNECTED
                && SSL_is_init_finished(c->ssl)))
        {
            break;
        }
    }

    return last;
}


static void
test_fingerprints(rooms_dtls_ctx_t *ctx)
{
    uint8_t      fp[ROOMS_DTLS_FP_LEN];
    const char  *text;

    text = rooms_dtls_ctx_fingerprint(ctx);
    is_int((int) strlen(text), 95, "fingerprint text is 32 hex pairs");
    ok(text[2] == ':' && text[94] != ':', "colon separated");
    is_int(rooms_dtls_fp_parse(text, strlen(text), fp), 0,
           "our fingerprint parses");

    ok(rooms_dtls_fp_parse("ab:cd", 5, fp) != 0, "short refused");
    ok(rooms_dtls_fp_parse(
           "zz:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"
           ":23:45:67:89:AB:CD:EF:01:23:45:67:89", 95, fp) != 0,
       "non-hex refused");
    ok(rooms_dtls_fp_parse(
           "AB-CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"
           ":23:45:67:89:AB:CD:EF:01:23:45:67:89", 95, fp) != 0,
       "wrong separator refused");
    is_int(rooms_dtls_fp_parse(
           "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01"
           ":23:45:67:89:ab:cd:ef:01:23:45:67:89", 95, fp), 0,
           "lower case accepted");
    ok(fp[0] == 0xab && fp[31] == 0x89, "bytes decoded");
}


static void
test_handshake(rooms_dtls_ctx_t *ctx, const char *offer, unsigned want,
    const char *name)
{
    int            ev;
    size_t         len;
    uint8_t        material[ROOMS_DTLS_KEYING_MAX], pkt[256];
    client_t       c;
    rooms_dtls_t   d;
    rooms_srtp_t   ss, cs;

    ok(client_new(&c, offer) == 0, "%s: client ready", name);
    is_int(rooms_dtls_init(&d, ctx, c.fp), 0, "%s: session ready", name);

    ev = pump(&c, &d);
    is_int(ev, ROOMS_DTLS_EV_CONNECTED, "%s: server connected", name);
    ok(SSL_is_init_finished(c.ssl), "%s: client connected", name);
    is_int((int) d.profile, (int) want, "%s: profile %#x", name, want);
    is_int((int) d.keying_len, (int) rooms_srtp_keying_len(want),
           "%s: keying length", name);

    SSL_export_keying_material(c.ssl, material, d.keying_len,
                               "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0);
    ok(memcmp(material, d.keying, d.keying_len) == 0,
       "%s: both ends export the same keys", name);

    /* SRTP from both ends of the handshake interoperates */
    is_int(rooms_srtp_create(&ss, d.profile, d.keying, d.keying_len, 1), 0,
           "%s: server SRTP", name);
    is_int(rooms_srtp_create(&cs, d.profile, material, d.keying_len, 0), 0,
           "%s: client SRTP", name);
    memset(pkt, 0, sizeof(pkt));
    pkt[0] = 0x80;
    pkt[1] = 111;
    pkt[3] = 1;
    pkt[11] = 9;
    len = 100;
    rooms_srtp_protect(&cs, pkt, &len);
    is_int(rooms_srtp_unprotect(&ss, pkt, &len), ROOMS_SRTP_OK,
           "%s: the browser's SRTP reaches the SFU", name);

    rooms_srtp_destroy(&ss);
    rooms_srtp_destroy(&cs);
    rooms_dtls_free(&d);
    client_free(&c);
}


static void
test_wrong_fingerprint(rooms_dtls_ctx_t *ctx)
{
    int           ev;
    uint8_t       other[ROOMS_DTLS_FP_LEN];
    client_t      c;
    rooms_dtls_t  d;

    client_new(&c, "SRTP_AEAD_AES_128_GCM");
    memcpy(other, c.fp, sizeof(other));
    other[5] ^= 1;

    rooms_dtls_init(&d, ctx, other);
    ev = pump(&c, &d);

    is_int(ev, ROOMS_DTLS_EV_FAILED, "a certificate off the signaled "
           "fingerprint fails the session");
    is_int(d.state, ROOMS_DTLS_FAILED, "state is failed");
    is_int((int) d.keying_len, 0, "no keys were exported");
    ok(d.error && strstr(d.error, "fingerprint"), "the reason says why");
    is_int(rooms_dtls_input(&d, (const uint8_t *) "x", 1),
           ROOMS_DTLS_EV_NONE, "a failed session ignores input");

    rooms_dtls_free(&d);
    client_free(&c);
}


static void
test_garbage(rooms_dtls_ctx_t *ctx)
{
    int           i;
    uint8_t       junk[300], fp[ROOMS_DTLS_FP_LEN];
    rooms_dtls_t  d;

    memset(fp, 1, sizeof(fp));
    rooms_dtls_init(&d, ctx, fp);

    for (i = 0; i < 50; i++) {
        memset(junk, i, sizeof(junk));
        junk[0] = 22;         /* looks like a handshake record */
        junk[1] = 0xfe;
        junk[2] = 0xfd;
        rooms_dtls_input(&d, junk, sizeof(junk) - (size_t) i);
    }

    ok(d.state == ROOMS_DTLS_HANDSHAKE || d.state == ROOMS_DTLS_FAILED,
       "garbage leaves the session waiting or failed, never connected");
    is_int((int) d.keying_len, 0, "and without keys");
    ok(rooms_dtls_timeout(&d) >= -1, "timeout query works");

    rooms_dtls_free(&d);
}


int
main(void)
{
    char               err[128];
    rooms_dtls_ctx_t  *ctx;

    rooms_srtp_global_init();

    ctx = rooms_dtls_ctx_new(err, sizeof(err));
    ok(ctx != NULL, "context with a fresh certificate");
    if (ctx == NULL) {
        diag("%s", err);
        return done_testing();
    }

    test_fingerprints(ctx);
    test_handshake(ctx, "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_256_GCM:"
                        "SRTP_AEAD_AES_128_GCM",
                   ROOMS_SRTP_AEAD_AES_128_GCM, "chromium-like offer");
    test_handshake(ctx, "SRTP_AES128_CM_SHA1_80",
                   ROOMS_SRTP_AES128_CM_SHA1_80, "SHA1_80 only");
    test_wrong_fingerprint(ctx);
    test_garbage(ctx);

    ok(max_datagram > 0 && max_datagram <= 1200,
       "every datagram we sent fits 1200 bytes (largest %zu)",
       max_datagram);

    rooms_dtls_ctx_free(ctx);

    return done_testing();
}
