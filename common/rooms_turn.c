/*
 * rooms_turn.c: TURN URLs and the TURN REST credentials (rooms_turn.h).
 *
 * Owns: the RFC 7065 check and the HMAC-SHA1 of a credential, with
 * OpenSSL.  Must never keep the secret or a password past a call, and
 * never log.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, call json_, call sqlite3_, call printf, call fprintf
 */

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "rooms_turn.h"


static int
rooms_turn_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.';
}


const char *
rooms_turn_url_check(const char *url, size_t len)
{
    int          turns;
    size_t       i, host;
    unsigned     port, digits;

    if (len > ROOMS_TURN_URL_MAX) {
        return "too long";
    }

    if (len >= 6 && memcmp(url, "turns:", 6) == 0) {
        turns = 1;
        i = 6;

    } else if (len >= 5 && memcmp(url, "turn:", 5) == 0) {
        turns = 0;
        i = 5;

    } else {
        return "not a turn: or turns: URL";
    }

    host = i;

    if (i < len && url[i] == '[') {
        /* an IPv6 address: hex digits, ':' and '.' (an IPv4 tail) */
        for (i++; i < len && url[i] != ']'; i++) {
            if (!((url[i] >= '0' && url[i] <= '9')
                  || (url[i] >= 'a' && url[i] <= 'f')
                  || (url[i] >= 'A' && url[i] <= 'F')
                  || url[i] == ':' || url[i] == '.'))
            {
                return "bad IPv6 address";
            }
        }

        if (i == len || i == host + 1) {
            return "bad IPv6 address";
        }

        i++;

    } else {
        while (i < len && rooms_turn_name_char(url[i])) {
            i++;
        }

        if (i == host || url[host] == '.' || url[host] == '-'
            || url[i - 1] == '.' || url[i - 1] == '-')
        {
            return "no host";
        }
    }

    if (i < len && url[i] == ':') {
        port = 0;
        digits = 0;

        for (i++; i < len && url[i] >= '0' && url[i] <= '9'; i++) {
            port = port * 10 + (url[i] - '0');

            if (++digits > 5) {
                return "bad port";
            }
        }

        if (digits == 0 || port == 0 || port > 65535) {
            return "bad port";
        }
    }

    if (i == len) {
        return NULL;
    }

    if (len - i == sizeof("?transport=tcp") - 1
        && memcmp(url + i, "?transport=tcp", len - i) == 0)
    {
        return NULL;
    }

    if (len - i == sizeof("?transport=udp") - 1
        && memcmp(url + i, "?transport=udp", len - i) == 0)
    {
        return turns ? "turns: with transport=udp (DTLS) is not supported"
                     : NULL;
    }

    return "expected \"?transport=udp\" or \"?transport=tcp\" after the host";
}


int
rooms_turn_credential(const unsigned char *secret, size_t secret_len,
    int64_t expiry, const char *id, size_t id_len,
    char user[ROOMS_TURN_USER_MAX], char pass[ROOMS_TURN_PASS_LEN + 1])
{
    int            n;
    size_t         i;
    unsigned int   mac_len;
    unsigned char  mac[EVP_MAX_MD_SIZE];

    user[0] = '\0';
    pass[0] = '\0';

    if (id_len == 0 || id_len > ROOMS_TURN_ID_MAX) {
        return -1;
    }

    for (i = 0; i < id_len; i++) {
        if (id[i] <= 0x20 || id[i] >= 0x7f || id[i] == ':') {
            return -1;
        }
    }

    n = snprintf(user, ROOMS_TURN_USER_MAX, "%lld:%.*s", (long long) expiry,
                 (int) id_len, id);

    if (n < 0 || n >= ROOMS_TURN_USER_MAX) {
        user[0] = '\0';
        return -1;
    }

    mac_len = 0;

    if (HMAC(EVP_sha1(), secret, (int) secret_len, (unsigned char *) user,
             (size_t) n, mac, &mac_len) == NULL
        || mac_len != 20)
    {
        OPENSSL_cleanse(mac, sizeof(mac));
        user[0] = '\0';
        return -1;
    }

    /* 20 bytes: 28 characters, the zero written too */
    n = EVP_EncodeBlock((unsigned char *) pass, mac, 20);
    OPENSSL_cleanse(mac, sizeof(mac));

    if (n != ROOMS_TURN_PASS_LEN) {
        user[0] = '\0';
        pass[0] = '\0';
        return -1;
    }

    return 0;
}
