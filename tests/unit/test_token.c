/*
 * test_token.c: room codes, host keys and their hashes (rooms_token.*).
 *
 * Covers: lengths and alphabet of generated codes and keys, the padding
 * bits of their last character, uniqueness over 10000 codes, a frequency
 * sanity check of the 64 base64url characters (statistics, not timing),
 * the shape checks against every kind of wrong input, SHA-256 of a known
 * vector, and rooms_token_hash_equal.  Guest tokens: shape, distinct
 * draws, the shape check; the hex text of a hash and back, and the
 * refusal of wrong lengths and non-hex digits.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rooms_token.h"
#include "tap.h"


#define NCODES  10000

static const char  alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char  codes[NCODES][ROOMS_CODE_LEN + 1];


/* Index of c in the base64url alphabet, or -1. */
static int
b64_index(char c)
{
    const char  *p;

    if (c == '\0') {
        return -1;
    }

    p = strchr(alphabet, c);

    return p ? (int) (p - alphabet) : -1;
}


static int
all_in_alphabet(const char *s)
{
    for ( /* void */ ; *s; s++) {
        if (b64_index(*s) < 0) {
            return 0;
        }
    }

    return 1;
}


static int
cmp_code(const void *a, const void *b)
{
    return strcmp(a, b);
}


static void
test_shapes_of_new_tokens(void)
{
    char  code[ROOMS_CODE_LEN + 1], key[ROOMS_HOST_KEY_LEN + 1];
    char  buf[4 * 64 / 3 + 2];

    is_int(ROOMS_CODE_LEN, 22, "a code is 22 characters");
    is_int(ROOMS_HOST_KEY_LEN, 43, "a host key is 43 characters");

    memset(code, '!', sizeof(code));
    is_int(rooms_token_code(code), 0, "rooms_token_code succeeds");
    is_int(strlen(code), 22, "code length 22");
    ok(all_in_alphabet(code), "code '%s' is base64url", code);
    ok(rooms_token_is_code((unsigned char *) code, strlen(code)),
       "a new code passes rooms_token_is_code");
    ok(!rooms_token_is_host_key((unsigned char *) code, strlen(code)),
       "a code is not a host key");

    memset(key, '!', sizeof(key));
    is_int(rooms_token_host_key(key), 0, "rooms_token_host_key succeeds");
    is_int(strlen(key), 43, "host key length 43");
    ok(all_in_alphabet(key), "host key '%s' is base64url", key);
    ok(rooms_token_is_host_key((unsigned char *) key, strlen(key)),
       "a new host key passes rooms_token_is_host_key");
    ok(!rooms_token_is_code((unsigned char *) key, strlen(key)),
       "a host key is not a code");

    ok(strncmp(code, key, ROOMS_CODE_LEN) != 0,
       "a code and a host key drawn in turn differ");

    /* base64url without padding: 4 characters per 3 bytes, rounded up */
    is_int(rooms_token_new(buf, 1), 0, "rooms_token_new of 1 byte");
    is_int(strlen(buf), 2, "1 byte gives 2 characters");
    is_int(rooms_token_new(buf, 2), 0, "rooms_token_new of 2 bytes");
    is_int(strlen(buf), 3, "2 bytes give 3 characters");
    is_int(rooms_token_new(buf, 3), 0, "rooms_token_new of 3 bytes");
    is_int(strlen(buf), 4, "3 bytes give 4 characters");
    is_int(rooms_token_new(buf, 64), 0, "rooms_token_new of 64 bytes");
    is_int(strlen(buf), 86, "64 bytes give 86 characters");
    ok(all_in_alphabet(buf), "64 bytes encode to base64url");
    is_int(rooms_token_new(buf, 0), -1, "rooms_token_new of 0 bytes fails");
    is_int(rooms_token_new(buf, 65), -1,
           "rooms_token_new of more than 64 bytes fails");
}


static void
test_many_codes(void)
{
    int       i, j, k, dups, bad, lastbad, min, max, missing;
    unsigned  seen[64];

    bad = 0;

    for (i = 0; i < NCODES; i++) {
        if (rooms_token_code(codes[i]) != 0
            || strlen(codes[i]) != ROOMS_CODE_LEN
            || !all_in_alphabet(codes[i]))
        {
            bad++;
        }
    }

    is_int(bad, 0, "%d codes all drawn, 22 base64url characters", NCODES);

    /*
     * 16 bytes are 21 full sextets and 2 bits: the last character holds
     * those 2 bits followed by 4 zero bits, so it is one of A Q g w.
     */
    lastbad = 0;
    memset(seen, 0, sizeof(seen));

    for (i = 0; i < NCODES; i++) {
        k = b64_index(codes[i][ROOMS_CODE_LEN - 1]);

        if (k < 0 || k % 16 != 0) {
            lastbad++;
        }

        for (j = 0; j < ROOMS_CODE_LEN - 1; j++) {
            k = b64_index(codes[i][j]);
            if (k >= 0) {
                seen[k]++;
            }
        }
    }

    is_int(lastbad, 0, "the last character of every code is A, Q, g or w");

    /*
     * 210000 uniform draws over 64 values: about 3281 each, with a
     * standard deviation near 56.  Bounds 8 deviations wide can only fail
     * for a biased or broken encoder.
     */
    missing = 0;
    min = NCODES * 21;
    max = 0;

    for (k = 0; k < 64; k++) {
        if (seen[k] == 0) {
            missing++;
            diag("'%c' never appears", alphabet[k]);
        }

        min = (int) seen[k] < min ? (int) seen[k] : min;
        max = (int) seen[k] > max ? (int) seen[k] : max;
    }

    is_int(missing, 0, "each of the 64 characters appears in the sample");
    ok(min > 2800 && max < 3760,
       "character counts are near uniform (min %d, max %d, mean 3281)",
       min, max);

    qsort(codes, NCODES, sizeof(codes[0]), cmp_code);

    dups = 0;

    for (i = 1; i < NCODES; i++) {
        if (strcmp(codes[i - 1], codes[i]) == 0) {
            dups++;
        }
    }

    is_int(dups, 0, "%d codes are all distinct", NCODES);
}


static void
test_host_key_padding(void)
{
    int   i, k, bad;
    char  key[ROOMS_HOST_KEY_LEN + 1];

    /* 32 bytes: 42 sextets and 4 bits, so the last index is a multiple of 4 */
    bad = 0;

    for (i = 0; i < 1000; i++) {
        if (rooms_token_host_key(key) != 0) {
            bad++;
            continue;
        }

        k = b64_index(key[ROOMS_HOST_KEY_LEN - 1]);

        if (k < 0 || k % 4 != 0) {
            bad++;
        }
    }

    is_int(bad, 0, "the last host key character carries 2 zero bits");
}


static void
test_is_code(void)
{
    unsigned  i;
    char      s[64];

    static const char  good[] = "AZaz09-_AZaz09-_AZaz09";
    static const char  bad_chars[] = { '+', '/', '=', '\0', ' ', '.', '~',
                                       '%', '\n', (char) 0xc3 };

    is_int(strlen(good), 22, "the fixture code is 22 characters");
    ok(rooms_token_is_code((const unsigned char *) good, 22),
       "all alphabet classes accepted in a code");

    memcpy(s, good, 23);
    ok(!rooms_token_is_code((unsigned char *) s, 21),
       "21 characters rejected");
    ok(!rooms_token_is_code((unsigned char *) s, 0), "empty rejected");

    memcpy(s, good, 22);
    memcpy(s + 22, "A", 2);
    ok(!rooms_token_is_code((unsigned char *) s, 23),
       "23 characters rejected");

    /* only s[0..len) counts: a longer buffer cut at 22 is a code */
    ok(rooms_token_is_code((unsigned char *) s, 22),
       "the first 22 characters of a longer buffer accepted");

    for (i = 0; i < sizeof(bad_chars); i++) {
        memcpy(s, good, 23);
        s[i % 22] = bad_chars[i];
        ok(!rooms_token_is_code((unsigned char *) s, 22),
           "code with byte 0x%02x at %u rejected",
           (unsigned char) bad_chars[i], i % 22);

        memcpy(s, good, 23);
        s[21] = bad_chars[i];
        ok(!rooms_token_is_code((unsigned char *) s, 22),
           "code with byte 0x%02x last rejected",
           (unsigned char) bad_chars[i]);
    }

    /* the neighbours of every accepted range */
    {
        static const char  edges[] = { '@', '[', '`', '{', '/', ':', ',',
                                       '^', 0x7f };

        for (i = 0; i < sizeof(edges); i++) {
            memcpy(s, good, 23);
            s[5] = edges[i];
            ok(!rooms_token_is_code((unsigned char *) s, 22),
               "code with '%c' (0x%02x) rejected", edges[i] == 0x7f ? '?'
               : edges[i], (unsigned char) edges[i]);
        }
    }
}


static void
test_is_host_key(void)
{
    unsigned  i;
    char      s[64];

    static const char  good[] =
        "AZaz09-_AZaz09-_AZaz09-_AZaz09-_AZaz09-_xyz";
    static const char  bad_chars[] = { '+', '/', '=', '\0', ' ' };

    is_int(strlen(good), 43, "the fixture host key is 43 characters");
    ok(rooms_token_is_host_key((const unsigned char *) good, 43),
       "a 43-character base64url host key accepted");
    ok(!rooms_token_is_host_key((const unsigned char *) good, 42),
       "42 characters rejected");
    ok(!rooms_token_is_host_key((const unsigned char *) good, 22),
       "a code-length prefix rejected as a host key");

    memcpy(s, good, 44);
    memcpy(s + 43, "A", 2);
    ok(!rooms_token_is_host_key((unsigned char *) s, 44),
       "44 characters rejected");

    for (i = 0; i < sizeof(bad_chars); i++) {
        memcpy(s, good, 44);
        s[17 + i] = bad_chars[i];
        ok(!rooms_token_is_host_key((unsigned char *) s, 43),
           "host key with byte 0x%02x rejected",
           (unsigned char) bad_chars[i]);
    }
}


static void
test_hash(void)
{
    char           key[ROOMS_HOST_KEY_LEN + 1];
    unsigned char  a[ROOMS_HASH_LEN], b[ROOMS_HASH_LEN], c[ROOMS_HASH_LEN];

    /* FIPS 180-2 test vector: SHA-256("abc") */
    static const unsigned char  abc[ROOMS_HASH_LEN] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
        0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
        0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad
    };

    rooms_token_hash((const unsigned char *) "abc", 3, a);
    ok(memcmp(a, abc, ROOMS_HASH_LEN) == 0, "hash is SHA-256 (\"abc\")");

    if (rooms_token_host_key(key) != 0) {
        tap_bail_out("rooms_token_host_key failed");
    }

    rooms_token_hash((unsigned char *) key, strlen(key), a);
    rooms_token_hash((unsigned char *) key, strlen(key), b);
    ok(memcmp(a, b, ROOMS_HASH_LEN) == 0, "same key, same hash");
    ok(rooms_token_hash_equal(a, b), "hash_equal: same key's hashes equal");

    key[10] = key[10] == 'A' ? 'B' : 'A';
    rooms_token_hash((unsigned char *) key, strlen(key), c);
    ok(memcmp(a, c, ROOMS_HASH_LEN) != 0, "one character changed, new hash");
    ok(!rooms_token_hash_equal(a, c), "hash_equal: different keys differ");

    rooms_token_hash((unsigned char *) key, 42, c);
    ok(!rooms_token_hash_equal(b, c), "hash_equal: a prefix differs");

    /* a single differing bit at either end is seen */
    memcpy(c, a, ROOMS_HASH_LEN);
    c[0] ^= 0x01;
    ok(!rooms_token_hash_equal(a, c), "hash_equal: first byte differs");

    memcpy(c, a, ROOMS_HASH_LEN);
    c[ROOMS_HASH_LEN - 1] ^= 0x80;
    ok(!rooms_token_hash_equal(a, c), "hash_equal: last byte differs");

    memcpy(c, a, ROOMS_HASH_LEN);
    ok(rooms_token_hash_equal(c, a), "hash_equal: a copy is equal");
}


static void
test_guest_and_hex(void)
{
    char           t1[ROOMS_GUEST_TOKEN_LEN + 1], t2[ROOMS_GUEST_TOKEN_LEN + 1];
    char           hex[ROOMS_HASH_HEX_LEN + 1], bad[ROOMS_HASH_HEX_LEN + 1];
    unsigned char  a[ROOMS_HASH_LEN], b[ROOMS_HASH_LEN];

    if (rooms_token_guest(t1) != 0 || rooms_token_guest(t2) != 0) {
        tap_bail_out("rooms_token_guest failed");
    }

    is_int(strlen(t1), ROOMS_GUEST_TOKEN_LEN, "a guest token: 22 characters");
    ok(strspn(t1, alphabet) == ROOMS_GUEST_TOKEN_LEN, "of base64url");
    ok(strcmp(t1, t2) != 0, "two draws differ");
    ok(rooms_token_is_guest((unsigned char *) t1, strlen(t1)),
       "is_guest accepts it");
    ok(!rooms_token_is_guest((unsigned char *) t1, strlen(t1) - 1),
       "is_guest refuses 21 characters");
    t2[3] = '=';
    ok(!rooms_token_is_guest((unsigned char *) t2, strlen(t2)),
       "is_guest refuses a character out of the alphabet");

    rooms_token_hash((unsigned char *) "abc", 3, a);
    rooms_token_hash_hex(a, hex);
    is_str(hex, "ba7816bf8f01cfea414140de5dae2223"
                "b00361a396177a9cb410ff61f20015ad", "hash_hex of SHA-256(abc)");

    memset(b, 0, sizeof(b));
    ok(rooms_token_hash_from_hex(hex, strlen(hex), b) == 0
       && memcmp(a, b, ROOMS_HASH_LEN) == 0, "from_hex gives it back");

    memcpy(bad, hex, sizeof(bad));
    bad[0] = 'B';
    bad[1] = 'A';
    ok(rooms_token_hash_from_hex(bad, strlen(bad), b) == 0
       && memcmp(a, b, ROOMS_HASH_LEN) == 0, "from_hex takes upper case");

    ok(rooms_token_hash_from_hex(hex, 63, b) == -1, "63 digits refused");
    ok(rooms_token_hash_from_hex(hex, 0, b) == -1, "none refused");
    bad[63] = 'g';
    ok(rooms_token_hash_from_hex(bad, 64, b) == -1, "a 'g' refused");
    bad[63] = ' ';
    ok(rooms_token_hash_from_hex(bad, 64, b) == -1, "a space refused");
}


int
main(void)
{
    test_shapes_of_new_tokens();
    test_many_codes();
    test_host_key_padding();
    test_is_code();
    test_is_host_key();
    test_hash();
    test_guest_and_hex();

    return done_testing();
}
