/*
 * fuzz_db_text.c: libFuzzer target for rooms_db's text work
 * (common/rooms_db.c): the dialect's "?N" as "$N", SQLite's DDL in
 * PostgreSQL's words, and a store URI without its password, for logs.
 *
 * The input is split at its first two zero bytes into three parts.
 * Properties: rooms_db_dollars() of the whole input keeps its length and
 * changes nothing but a '?' before a digit into '$'; rooms_db_ddl_pg()
 * of it is at most three times as long; and for the URI
 * "postgresql://" user ":" password "@" host "?a=1&password=" password2
 * made of the parts (the user and host without '@', ':', '?', '&', '/' or
 * a zero byte; the passwords without '@' or a zero byte, the second
 * without '&'), rooms_db_redact() writes exactly that URI with "***" for
 * each password, or the start of it that fits the buffer, always ended.
 *
 * Build and run: `make fuzz` (FUZZ_SECONDS each target).  Without
 * libFuzzer (gcc), -DROOMS_FUZZ_MAIN gives a main() that runs each file
 * named on the command line once.
 */

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rooms_db_int.h"


#define FUZZ_PART_MAX  256


/* a part of at most FUZZ_PART_MAX bytes without the bytes in drop */
static void
fuzz_part(const uint8_t *p, size_t n, const char *drop, char *out)
{
    size_t  i, o;

    for (i = 0, o = 0; i < n && o < FUZZ_PART_MAX; i++) {
        if (p[i] != '\0' && strchr(drop, p[i]) == NULL) {
            out[o++] = (char) p[i];
        }
    }

    out[o] = '\0';
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t       i, n, cut, want;
    char        *text, *out, *uri, *red, *exp;
    char         user[FUZZ_PART_MAX + 1], pass[FUZZ_PART_MAX + 1],
                 rest[FUZZ_PART_MAX + 1], pass2[FUZZ_PART_MAX + 1];
    const uint8_t  *z1, *z2, *end;

    text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }

    memcpy(text, data, size);
    text[size] = '\0';
    n = strlen(text);

    /* ?N as $N: same length, nothing else changed */
    out = rooms_db_dollars(text);

    if (out != NULL) {
        if (strlen(out) != n) {
            abort();
        }

        for (i = 0; i < n; i++) {
            if (out[i] != text[i]
                && !(text[i] == '?' && out[i] == '$'
                     && isdigit((unsigned char) text[i + 1])))
            {
                abort();
            }
        }

        free(out);
    }

    out = rooms_db_ddl_pg(text);

    if (out != NULL) {
        if (strlen(out) > 3 * n) {
            abort();
        }

        free(out);
    }

    free(text);

    /* the URI of the parts */
    end = data + size;
    z1 = memchr(data, 0, size);
    z2 = z1 != NULL ? memchr(z1 + 1, 0, (size_t) (end - z1 - 1)) : NULL;

    if (z2 == NULL) {
        return 0;
    }

    fuzz_part(data, (size_t) (z1 - data), "@:?&/", user);
    fuzz_part(z1 + 1, (size_t) (z2 - z1 - 1), "@", pass);
    fuzz_part(z2 + 1, (size_t) (end - z2 - 1) / 2, "@:?&/", rest);
    fuzz_part(z2 + 1 + (end - z2 - 1) / 2,
              (size_t) (end - z2 - 1) - (size_t) (end - z2 - 1) / 2, "&@",
              pass2);

    n = 4 * FUZZ_PART_MAX + 64;
    uri = malloc(n);
    red = malloc(n);
    exp = malloc(n);

    if (uri == NULL || red == NULL || exp == NULL) {
        free(uri);
        free(red);
        free(exp);
        return 0;
    }

    snprintf(uri, n, "postgresql://%s:%s@%s?a=1&password=%s", user, pass,
             rest, pass2);
    snprintf(exp, n, "postgresql://%s:***@%s?a=1&password=***", user,
             rest);

    /* the whole, and cut to every short size */
    for (cut = n; cut > 0; cut = cut > 64 ? 64 : cut - 1) {
        memset(red, 'x', n);
        rooms_db_redact(uri, red, cut);

        want = strlen(exp) < cut - 1 ? strlen(exp) : cut - 1;

        if (strlen(red) != want || memcmp(red, exp, want) != 0) {
            abort();
        }
    }

    free(exp);
    free(uri);
    free(red);

    return 0;
}


#include "fuzz_main.h"
