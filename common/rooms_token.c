/*
 * rooms_token.c: unguessable secrets for ngx_rooms.
 *
 * Codes and host keys come from OpenSSL's CSPRNG (RAND_bytes, reseeded
 * across fork by OpenSSL 3) and are written in the URL-safe base64
 * alphabet, so they survive links, paths and headers unescaped.  Host keys
 * are high-entropy, so a plain SHA-256 is a sufficient stored form: no
 * salt or slow KDF adds anything against a 256-bit secret.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, call json_, call sqlite3_
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "rooms_token.h"


static const char  rooms_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static void
rooms_b64url_encode(char *out, const unsigned char *in, size_t n)
{
    size_t    i;
    uint32_t  v;

    for (i = 0; i + 2 < n; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        *out++ = rooms_b64url[(v >> 18) & 63];
        *out++ = rooms_b64url[(v >> 12) & 63];
        *out++ = rooms_b64url[(v >> 6) & 63];
        *out++ = rooms_b64url[v & 63];
    }

    if (n - i == 1) {
        v = (uint32_t) in[i] << 16;
        *out++ = rooms_b64url[(v >> 18) & 63];
        *out++ = rooms_b64url[(v >> 12) & 63];

    } else if (n - i == 2) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        *out++ = rooms_b64url[(v >> 18) & 63];
        *out++ = rooms_b64url[(v >> 12) & 63];
        *out++ = rooms_b64url[(v >> 6) & 63];
    }

    *out = '\0';
}


int
rooms_token_new(char *out, size_t nbytes)
{
    unsigned char  buf[64];

    if (nbytes == 0 || nbytes > sizeof(buf)) {
        return -1;
    }

    if (RAND_bytes(buf, (int) nbytes) != 1) {
        return -1;
    }

    rooms_b64url_encode(out, buf, nbytes);
    OPENSSL_cleanse(buf, sizeof(buf));

    return 0;
}


int
rooms_token_code(char out[ROOMS_CODE_LEN + 1])
{
    return rooms_token_new(out, ROOMS_CODE_BYTES);
}


int
rooms_token_host_key(char out[ROOMS_HOST_KEY_LEN + 1])
{
    return rooms_token_new(out, ROOMS_HOST_KEY_BYTES);
}


int
rooms_token_guest(char out[ROOMS_GUEST_TOKEN_LEN + 1])
{
    return rooms_token_new(out, ROOMS_GUEST_TOKEN_BYTES);
}


static int
rooms_token_shape(const unsigned char *s, size_t len, size_t want)
{
    size_t  i;

    if (len != want) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


int
rooms_token_is_code(const unsigned char *s, size_t len)
{
    return rooms_token_shape(s, len, ROOMS_CODE_LEN);
}


int
rooms_token_is_host_key(const unsigned char *s, size_t len)
{
    return rooms_token_shape(s, len, ROOMS_HOST_KEY_LEN);
}


int
rooms_token_is_guest(const unsigned char *s, size_t len)
{
    return rooms_token_shape(s, len, ROOMS_GUEST_TOKEN_LEN);
}


void
rooms_token_hash(const unsigned char *key, size_t len,
    unsigned char out[ROOMS_HASH_LEN])
{
    SHA256(key, len, out);
}


int
rooms_token_hash_equal(const unsigned char a[ROOMS_HASH_LEN],
    const unsigned char b[ROOMS_HASH_LEN])
{
    return CRYPTO_memcmp(a, b, ROOMS_HASH_LEN) == 0;
}


void
rooms_token_hash_hex(const unsigned char hash[ROOMS_HASH_LEN],
    char out[ROOMS_HASH_HEX_LEN + 1])
{
    size_t  i;

    static const char  hex[] = "0123456789abcdef";

    for (i = 0; i < ROOMS_HASH_LEN; i++) {
        out[2 * i] = hex[hash[i] >> 4];
        out[2 * i + 1] = hex[hash[i] & 0x0f];
    }

    out[ROOMS_HASH_HEX_LEN] = '\0';
}


static int
rooms_token_nibble(char c)
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
rooms_token_hash_from_hex(const char *s, size_t len,
    unsigned char out[ROOMS_HASH_LEN])
{
    int     hi, lo;
    size_t  i;

    if (len != ROOMS_HASH_HEX_LEN) {
        return -1;
    }

    for (i = 0; i < ROOMS_HASH_LEN; i++) {
        hi = rooms_token_nibble(s[2 * i]);
        lo = rooms_token_nibble(s[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        out[i] = (unsigned char) (hi << 4 | lo);
    }

    return 0;
}
