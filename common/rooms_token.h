/*
 * rooms_token.h: unguessable secrets (room codes, host keys, guest
 * tokens) and their hashes.
 *
 * Owns: CSPRNG draws, base64url encoding, the stored form of host keys and
 * guest tokens (SHA-256, and its hex text between the nginx module and
 * the media worker), and their constant-time comparison.  Must never use
 * a non-cryptographic random source or compare secrets with memcmp().
 *
 * May not: include <ngx_core.h>, include <openssl/rand.h>
 */

#ifndef ROOMS_TOKEN_H
#define ROOMS_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "rooms_limits.h"


/*
 * Fills out with nbytes of CSPRNG output encoded as base64url without
 * padding, zero-terminated.  out must hold 4 * nbytes / 3 + 2 bytes.
 * Returns 0, or -1 when the random source fails (never a weak fallback).
 */
int rooms_token_new(char *out, size_t nbytes);

/* A room code: ROOMS_CODE_LEN characters plus the zero. */
int rooms_token_code(char out[ROOMS_CODE_LEN + 1]);

/* A host key: ROOMS_HOST_KEY_LEN characters plus the zero. */
int rooms_token_host_key(char out[ROOMS_HOST_KEY_LEN + 1]);

/* A guest token: ROOMS_GUEST_TOKEN_LEN characters plus the zero. */
int rooms_token_guest(char out[ROOMS_GUEST_TOKEN_LEN + 1]);

/*
 * Returns 1 when s[0..len) has the exact shape of a room code (length and
 * base64url alphabet), 0 otherwise.  Shape only: says nothing of existence.
 */
int rooms_token_is_code(const unsigned char *s, size_t len);

/* Same for a host key and for a guest token. */
int rooms_token_is_host_key(const unsigned char *s, size_t len);
int rooms_token_is_guest(const unsigned char *s, size_t len);

/* SHA-256 of a key or token: the only form in which they are stored. */
void rooms_token_hash(const unsigned char *key, size_t len,
    unsigned char out[ROOMS_HASH_LEN]);

/* Constant-time equality of two hashes: 1 when equal. */
int rooms_token_hash_equal(const unsigned char a[ROOMS_HASH_LEN],
    const unsigned char b[ROOMS_HASH_LEN]);


/* A hash as ROOMS_HASH_HEX_LEN lowercase hex digits plus the zero. */
void rooms_token_hash_hex(const unsigned char hash[ROOMS_HASH_LEN],
    char out[ROOMS_HASH_HEX_LEN + 1]);

/*
 * The hash that s[0..len) writes in hex (either case).  Returns 0, or -1
 * when s is not exactly ROOMS_HASH_HEX_LEN hex digits.
 */
int rooms_token_hash_from_hex(const char *s, size_t len,
    unsigned char out[ROOMS_HASH_LEN]);


#endif /* ROOMS_TOKEN_H */
