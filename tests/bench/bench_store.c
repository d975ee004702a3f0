/*
 * bench_store.c: the wall time of one store call as nginx's event loop
 * would wait for it, on SQLite (a file in a temporary folder) and, when
 * ROOMS_BENCH_PG names a database URI, on PostgreSQL (a local server over
 * its Unix socket, for the figures in docs/scaling.md "The store").
 *
 * The calls, through rooms_store.h as the module makes them: a read (the
 * room of an invite code, rooms_store_find), a one-statement write
 * (rooms_store_update), and a write in its own transaction with the
 * write lock (rooms_store_begin + rooms_store_update + rooms_store_commit,
 * as a host's action runs).  Each is timed alone (CLOCK_MONOTONIC),
 * ROUNDS times after WARMUP untimed ones; the median and the 99th
 * percentile are printed.  A benchmark, not a test: it prints figures
 * and never fails on time.  The PostgreSQL database must hold no other
 * application's tables (the store's schema is created there).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rooms_store.h"


#define ROUNDS  2000
#define WARMUP  200


static int64_t
now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static int
cmp64(const void *a, const void *b)
{
    int64_t  x = *(const int64_t *) a, y = *(const int64_t *) b;

    return x < y ? -1 : x > y;
}


static void
report(const char *engine, const char *what, int64_t *t)
{
    qsort(t, ROUNDS, sizeof(int64_t), cmp64);

    printf("%-10s %-34s median %8.1f us   p99 %8.1f us\n", engine, what,
           t[ROUNDS / 2] / 1000.0, t[ROUNDS * 99 / 100] / 1000.0);
}


static int
bench(const char *where, const char *engine)
{
    int             i, rc;
    char            err[512], code[ROOMS_CODE_LEN + 1];
    int64_t         t0, *t;
    rooms_room_t    room, found;
    rooms_store_t  *st;

    st = rooms_store_open(where, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "%s: %s\n", engine, err);
        return -1;
    }

    t = calloc(ROUNDS, sizeof(int64_t));
    if (t == NULL) {
        return -1;
    }

    /* a code of its own: a database used before keeps its rooms */
    memset(&room, 0, sizeof(room));
    snprintf(code, sizeof(code), "B%08x%013llu", (unsigned) getpid(),
             (unsigned long long) (now_ns() % 10000000000000LL));
    memcpy(room.code, code, ROOMS_CODE_LEN + 1);
    strcpy(room.title, "bench");
    strcpy(room.audience, "anyone");
    room.max_participants = 50;
    room.created_at = time(NULL);
    room.start_at = room.created_at;

    if (rooms_store_insert(st, &room) != ROOMS_STORE_OK) {
        fprintf(stderr, "%s: insert: %s\n", engine, rooms_store_errmsg(st));
        return -1;
    }

    for (i = -WARMUP; i < ROUNDS; i++) {
        t0 = now_ns();
        rc = rooms_store_find(st, code, &found);

        if (i >= 0) {
            t[i] = now_ns() - t0;
        }

        if (rc != ROOMS_STORE_OK) {
            fprintf(stderr, "%s: find: %s\n", engine, rooms_store_errmsg(st));
            return -1;
        }
    }

    report(engine, "read (find a code)", t);

    for (i = -WARMUP; i < ROUNDS; i++) {
        t0 = now_ns();
        rc = rooms_store_update(st, &room);

        if (i >= 0) {
            t[i] = now_ns() - t0;
        }

        if (rc != ROOMS_STORE_OK) {
            fprintf(stderr, "%s: update: %s\n", engine,
                    rooms_store_errmsg(st));
            return -1;
        }
    }

    report(engine, "write (one statement)", t);

    for (i = -WARMUP; i < ROUNDS; i++) {
        t0 = now_ns();
        rc = rooms_store_begin(st, ROOMS_STORE_WAIT_MS);

        if (rc == ROOMS_STORE_OK) {
            rc = rooms_store_update(st, &room);

            if (rc == ROOMS_STORE_OK) {
                rc = rooms_store_commit(st);

            } else {
                rooms_store_rollback(st);
            }
        }

        if (i >= 0) {
            t[i] = now_ns() - t0;
        }

        if (rc != ROOMS_STORE_OK) {
            fprintf(stderr, "%s: transaction: %s\n", engine,
                    rooms_store_errmsg(st));
            return -1;
        }
    }

    report(engine, "write (locked transaction)", t);

    free(t);
    rooms_store_close(st);

    return 0;
}


int
main(void)
{
    int          rc;
    char         dir[64], path[128], side[160];
    const char  *pg, *tmp;

    tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/rooms-bench-XXXXXX",
             tmp && tmp[0] && strlen(tmp) < 40 ? tmp : "/tmp");

    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 1;
    }

    printf("store call round trips, %d rounds each\n", ROUNDS);

    snprintf(path, sizeof(path), "%s/rooms.db", dir);
    rc = bench(path, "sqlite");

    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    rmdir(dir);

    pg = getenv("ROOMS_BENCH_PG");

    if (pg != NULL && pg[0] != '\0') {
        rc |= bench(pg, "postgresql");

    } else {
        printf("postgresql: ROOMS_BENCH_PG not set, not measured\n");
    }

    return rc == 0 ? 0 : 1;
}
