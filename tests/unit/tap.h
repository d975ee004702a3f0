/*
 * tap.h: a tiny Test Anything Protocol producer for the C unit tests.
 *
 * Design: one header, no library, no dependencies beyond libc.  Each test
 * program includes it once, so the counters are plain static variables.
 * The assertions are macros only so that a failure can name the file and
 * line of the check; the work is done by static inline functions.
 *
 *     tap_plan(12);                  or nothing, and done_testing() at the
 *     ok(x > 0, "x is %d", x);      end prints "1..N" itself
 *     is_int(got, 42, "answer");
 *     is_str(s, "abc", "name");
 *     diag("context: %s", why);
 *     return done_testing();
 *
 * Results go to stdout ("ok 1 - name", "not ok 2 - name"); diagnostics go
 * to stderr as "# " lines, as Test::More does, so prove shows them.  A
 * '#' in a test name is escaped and newlines become spaces, so no name
 * can turn into a TAP directive.  done_testing() returns the exit status:
 * 0 when every test passed and the plan was kept, otherwise the number of
 * failures (at most 254), or 255 when the plan was not kept.
 */

#ifndef ROOMS_TAP_H
#define ROOMS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#if defined(__GNUC__)
#define TAP_PRINTF(f, a)  __attribute__((format(printf, f, a)))
#else
#define TAP_PRINTF(f, a)
#endif


static int  tap_planned = -1;     /* -1: no plan yet */
static int  tap_run;
static int  tap_failed;


static inline void
tap_plan(int n)
{
    tap_planned = n;
    printf("1..%d\n", n);
    fflush(stdout);
}


/* Prints each line of a formatted message to stderr after "# ". */
static inline void
tap_vdiag(const char *fmt, va_list args)
{
    char         buf[4096];
    const char  *p, *nl;

    vsnprintf(buf, sizeof(buf), fmt, args);

    fflush(stdout);

    for (p = buf; ; p = nl + 1) {
        nl = strchr(p, '\n');
        fprintf(stderr, "# %.*s\n", nl ? (int) (nl - p) : (int) strlen(p),
                p);

        if (nl == NULL || nl[1] == '\0') {
            break;
        }
    }

    fflush(stderr);
}


static inline void TAP_PRINTF(1, 2)
diag(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    tap_vdiag(fmt, args);
    va_end(args);
}


/* Records one result; returns cond so callers can add diagnostics. */
static inline int
tap_vok(const char *file, int line, int cond, const char *fmt, va_list args)
{
    char         name[1024];
    const char  *p;

    vsnprintf(name, sizeof(name), fmt, args);

    tap_run++;

    printf("%sok %d", cond ? "" : "not ", tap_run);

    if (name[0] != '\0') {
        fputs(" - ", stdout);

        for (p = name; *p; p++) {
            if (*p == '#') {
                fputs("\\#", stdout);

            } else if (*p == '\n' || *p == '\r') {
                putchar(' ');

            } else {
                putchar(*p);
            }
        }
    }

    putchar('\n');
    fflush(stdout);

    if (!cond) {
        tap_failed++;
        diag("  Failed test '%s'\n  at %s line %d.", name, file, line);
    }

    return cond;
}


static inline int TAP_PRINTF(4, 5)
tap_ok_at(const char *file, int line, int cond, const char *fmt, ...)
{
    int      rc;
    va_list  args;

    va_start(args, fmt);
    rc = tap_vok(file, line, cond, fmt, args);
    va_end(args);

    return rc;
}


static inline int TAP_PRINTF(5, 6)
tap_is_int_at(const char *file, int line, long long got, long long want,
    const char *fmt, ...)
{
    int      rc;
    va_list  args;

    va_start(args, fmt);
    rc = tap_vok(file, line, got == want, fmt, args);
    va_end(args);

    if (!rc) {
        diag("         got: %lld\n    expected: %lld", got, want);
    }

    return rc;
}


static inline int TAP_PRINTF(5, 6)
tap_is_str_at(const char *file, int line, const char *got, const char *want,
    const char *fmt, ...)
{
    int      rc, same;
    va_list  args;

    if (got == NULL || want == NULL) {
        same = got == want;

    } else {
        same = strcmp(got, want) == 0;
    }

    va_start(args, fmt);
    rc = tap_vok(file, line, same, fmt, args);
    va_end(args);

    if (!rc) {
        diag("         got: %s%s%s\n    expected: %s%s%s",
             got ? "'" : "", got ? got : "NULL", got ? "'" : "",
             want ? "'" : "", want ? want : "NULL", want ? "'" : "");
    }

    return rc;
}


/* Stops the whole test program: for a broken fixture, not a failed check. */
static inline void TAP_PRINTF(1, 2)
tap_bail_out(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    printf("Bail out! ");
    vprintf(fmt, args);
    printf("\n");
    va_end(args);

    fflush(stdout);
    exit(255);
}


/* Ends the test program's output; returns its exit status. */
static inline int
done_testing(void)
{
    if (tap_planned < 0) {
        tap_plan(tap_run);

    } else if (tap_planned != tap_run) {
        diag("Looks like you planned %d tests but ran %d.", tap_planned,
             tap_run);
        return 255;
    }

    if (tap_failed) {
        diag("Looks like you failed %d test%s of %d.", tap_failed,
             tap_failed == 1 ? "" : "s", tap_run);
    }

    return tap_failed > 254 ? 254 : tap_failed;
}


#define ok(cond, ...)                                                       \
    tap_ok_at(__FILE__, __LINE__, (cond) ? 1 : 0, __VA_ARGS__)

#define is_int(got, want, ...)                                              \
    tap_is_int_at(__FILE__, __LINE__, (long long) (got),                    \
                  (long long) (want), __VA_ARGS__)

#define is_str(got, want, ...)                                              \
    tap_is_str_at(__FILE__, __LINE__, (got), (want), __VA_ARGS__)


#endif /* ROOMS_TAP_H */
