/*
 * engines.h: runs a unit test's store checks on each store engine.
 *
 * Owns: the temporary SQLite file a test's checks run on (made, then
 * removed with its WAL files), and the choice of PostgreSQL from
 * ROOMS_TEST_PG (make test-pg gives each test binary a database of its
 * own).  Must never decide what is checked: that is the test's.
 *
 * Header-only, as tap.h is: its ok() counts in each test program's own
 * (static) TAP state.
 */

#ifndef ROOMS_TEST_ENGINES_H
#define ROOMS_TEST_ENGINES_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

/*
 * Calls run(where, engine) on a new SQLite file in a temporary folder
 * named after name ("sqlite"), removes it (a test), then again on the
 * database ROOMS_TEST_PG names ("postgresql"), or says it skipped that.
 */
static void
test_on_engines(const char *name,
    void (*run)(const char *where, const char *engine))
{
    char         dir[64], db[128], p[160];
    const char  *tmp, *pg;

    /* TMPDIR only when short: the paths below must fit their buffers */
    tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/rooms-%s-XXXXXX",
             tmp && tmp[0] && strlen(tmp) < 40 ? tmp : "/tmp", name);

    if (mkdtemp(dir) == NULL) {
        tap_bail_out("mkdtemp: %s", strerror(errno));
    }

    snprintf(db, sizeof(db), "%s/rooms.db", dir);

    run(db, "sqlite");

    unlink(db);
    snprintf(p, sizeof(p), "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", db);
    unlink(p);
    ok(rmdir(dir) == 0, "the temporary directory is removed");

    pg = getenv("ROOMS_TEST_PG");

    if (pg != NULL && pg[0] != '\0') {
        run(pg, "postgresql");

    } else {
        diag("skip: the PostgreSQL part (ROOMS_TEST_PG is not set)");
    }
}

#endif /* ROOMS_TEST_ENGINES_H */
