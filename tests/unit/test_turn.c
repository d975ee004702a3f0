/*
 * test_turn.c: TURN URLs and credentials (rooms_turn.*).
 *
 * Covers: the TURN REST credential against values worked out by hand
 * from the convention (username "<expiry>:<id>", password
 * base64(HMAC-SHA1(secret, username)), computed with
 * `printf %s 1767225600:42 | openssl dgst -sha1 -hmac <secret> -binary |
 * base64`), a participant id, a long id and a late expiry, ids that are refused, a changed secret, expiry or id
 * changing the password; RFC 7065 URLs taken and refused.
 */

#include <stdint.h>
#include <string.h>

#include "rooms_turn.h"
#include "tap.h"


static void
test_credential(void)
{
    char         user[ROOMS_TURN_USER_MAX];
    char         pass[ROOMS_TURN_PASS_LEN + 1];
    char         first[ROOMS_TURN_PASS_LEN + 1];
    const char  *secret = "north-wind-secret-0123456789";
    char         long_id[ROOMS_TURN_ID_MAX + 2];

    memset(long_id, 'i', sizeof(long_id));

    ok(rooms_turn_credential((const unsigned char *) secret, strlen(secret),
                             1767225600, "42", 2, user, pass) == 0,
       "a credential is minted");
    is_str(user, "1767225600:42", "username: the expiry, ':', the id");
    is_str(pass, "Hg1UxmCRTXliz5c/b+4AnPmzKSo=",
           "password: base64 of HMAC-SHA1(secret, username)");
    memcpy(first, pass, sizeof(first));

    ok(rooms_turn_credential((const unsigned char *) "x", 1, 4102444800,
                             "18446744073709551615", 20, user, pass) == 0,
       "a long id");
    is_str(user, "4102444800:18446744073709551615", "its username");
    is_str(pass, "QiBG00C8l1R9CfQIXv6qYnlIIlo=", "its password");

    rooms_turn_credential((const unsigned char *) secret, strlen(secret) - 1,
                          1767225600, "42", 2, user, pass);
    ok(strcmp(pass, first) != 0, "another secret: another password");
    rooms_turn_credential((const unsigned char *) secret, strlen(secret),
                          1767225601, "42", 2, user, pass);
    ok(strcmp(pass, first) != 0, "another expiry: another password");
    rooms_turn_credential((const unsigned char *) secret, strlen(secret),
                          1767225600, "43", 2, user, pass);
    ok(strcmp(pass, first) != 0, "another id: another password");
    is_int((int) strlen(pass), ROOMS_TURN_PASS_LEN, "28 characters");

    /* the media worker's ids are 8 base64url characters */
    ok(rooms_turn_credential((const unsigned char *) secret, strlen(secret),
                             1767225600, "l7ShuwZj", 8, user, pass) == 0,
       "a participant id");
    is_str(user, "1767225600:l7ShuwZj", "its username");
    is_str(pass, "cAPI9FJPOcHr7/85s1XVFUyrz5w=", "its password");

    ok(rooms_turn_credential((const unsigned char *) secret, strlen(secret),
                             1767225600, "a:b", 3, user, pass) == -1
       && user[0] == '\0' && pass[0] == '\0',
       "an id with ':' is refused (the username would read otherwise)");
    ok(rooms_turn_credential((const unsigned char *) secret, strlen(secret),
                             1767225600, "a b", 3, user, pass) == -1,
       "an id with a space is refused");
    ok(rooms_turn_credential((const unsigned char *) secret, strlen(secret),
                             1767225600, "", 0, user, pass) == -1,
       "an empty id is refused");
    ok(rooms_turn_credential((const unsigned char *) secret, strlen(secret),
                             1767225600, long_id, ROOMS_TURN_ID_MAX, user,
                             pass) == 0
       && strlen(user) == 11 + ROOMS_TURN_ID_MAX,
       "an id of %d characters is taken", ROOMS_TURN_ID_MAX);
    ok(rooms_turn_credential((const unsigned char *) secret, strlen(secret),
                             1767225600, long_id, ROOMS_TURN_ID_MAX + 1, user,
                             pass) == -1,
       "one more is refused");
}


static void
test_urls(void)
{
    size_t        i;
    const char   *why;
    const char   *good[] = {
        "turn:turn.example.com",
        "turn:turn.example.com:3478",
        "turn:turn.example.com:3478?transport=udp",
        "turn:turn.example.com:3478?transport=tcp",
        "turns:turn.example.com:443?transport=tcp",
        "turns:turn.example.com",
        "turn:192.0.2.7:3478",
        "turn:[2001:db8::7]:3478?transport=udp",
        "turn:[::ffff:192.0.2.7]",
        "turn:localhost:65535",
    };
    const char   *bad[] = {
        "",
        "turn:",
        "stun:turn.example.com",
        "http://turn.example.com",
        "TURN:turn.example.com",
        "turn://turn.example.com",
        "turn:turn.example.com:",
        "turn:turn.example.com:0",
        "turn:turn.example.com:65536",
        "turn:turn.example.com:123456",
        "turn:turn.example.com:34x8",
        "turn:turn.example.com?transport=sctp",
        "turn:turn.example.com?transport=",
        "turn:turn.example.com/path",
        "turn:user@turn.example.com",
        "turn:turn example.com",
        "turn:turn.example.com\"",
        "turn:.example.com",
        "turn:example.com.",
        "turn:[2001:db8::7",
        "turn:[]",
        "turn:[2001:zz8::7]",
        "turns:turn.example.com?transport=udp",
        "turn:turn.example.com?transport=udp&x=1",
    };
    char          long_url[ROOMS_TURN_URL_MAX + 2];

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        why = rooms_turn_url_check(good[i], strlen(good[i]));
        ok(why == NULL, "taken: %s%s%s", good[i], why ? ": " : "",
           why ? why : "");
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = rooms_turn_url_check(bad[i], strlen(bad[i]));
        ok(why != NULL, "refused: \"%s\" (%s)", bad[i], why ? why : "taken");
    }

    /* a URL cut anywhere is checked on its length, not up to a zero */
    ok(rooms_turn_url_check("turn:a.example?transport=udp", 6) == NULL,
       "only len bytes are read");

    memset(long_url, 'a', sizeof(long_url));
    memcpy(long_url, "turn:", 5);
    ok(rooms_turn_url_check(long_url, ROOMS_TURN_URL_MAX) == NULL,
       "%d bytes taken", ROOMS_TURN_URL_MAX);
    ok(rooms_turn_url_check(long_url, ROOMS_TURN_URL_MAX + 1) != NULL,
       "%d bytes refused", ROOMS_TURN_URL_MAX + 1);
}


int
main(void)
{
    test_credential();
    test_urls();

    return done_testing();
}
