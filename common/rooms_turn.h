/*
 * rooms_turn.h: TURN servers for browsers (RFC 7065 URLs, and the
 * time-limited credentials of the TURN REST convention coturn implements).
 *
 * Owns: the check of a turn:/turns: URL, and the credential for one join:
 * username "<expiry unix time>:<id>", password
 * base64(HMAC-SHA1(secret, username)).  Must never keep, log or return
 * the shared secret; a credential is only ever given to the browser it
 * was minted for (ngx_rooms_turn.c).
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, call json_, call sqlite3_
 */

#ifndef ROOMS_TURN_H
#define ROOMS_TURN_H

#include <stddef.h>
#include <stdint.h>


/*
 * A URL's length and how many there may be: a browser gets them all in
 * its welcome, which stays well inside the signaling message limit.
 */
#define ROOMS_TURN_URL_MAX        256
#define ROOMS_TURN_URLS_MAX       8

/*
 * The id in a username: the media worker's participant id (8 characters)
 * fits with room to spare; coturn logs it, so it is never a secret.
 */
#define ROOMS_TURN_ID_MAX         64
/* "<int64>:<id>" and the zero */
#define ROOMS_TURN_USER_MAX       (20 + 1 + ROOMS_TURN_ID_MAX + 1)
/* base64 of a 20-byte SHA-1 HMAC: 28 characters and the zero */
#define ROOMS_TURN_PASS_LEN       28


/*
 * Checks url[0..len) against RFC 7065, as browsers take it:
 * "turn:" or "turns:", a host (a name, an IPv4 address or an IPv6
 * address in brackets), an optional ":port" (1-65535) and an optional
 * "?transport=udp" or "?transport=tcp" (not udp with turns:, which would
 * be DTLS, that no browser speaks).  Returns NULL when it is one, or a
 * short reason (a static string) when not.
 */
const char *rooms_turn_url_check(const char *url, size_t len);

/*
 * The credential of one join, valid until expiry (unix time): user gets
 * "<expiry>:<id>" zero-terminated, pass the base64 (with padding) of
 * HMAC-SHA1(secret, user), zero-terminated.  id[0..id_len) is 1 to
 * ROOMS_TURN_ID_MAX printable ASCII characters but ':'.  Returns 0, or
 * -1 for another id or when OpenSSL fails (nothing usable is then in
 * user or pass).
 */
int rooms_turn_credential(const unsigned char *secret, size_t secret_len,
    int64_t expiry, const char *id, size_t id_len,
    char user[ROOMS_TURN_USER_MAX], char pass[ROOMS_TURN_PASS_LEN + 1]);


#endif /* ROOMS_TURN_H */
