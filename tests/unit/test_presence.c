/*
 * test_presence.c: presence across nodes in the store (rooms_presence.*),
 * on an SQLite file and, when ROOMS_TEST_PG names a database, on
 * PostgreSQL: the same calls and the same answers.
 *
 * Covers: a node's rows written and read by another node (room, code,
 * person hash with zero bytes, role, name), never by the node itself; a
 * put replacing the node's rows whole (a person gone, one come); rows
 * past their expiry neither read nor kept (the next put of any node
 * drops them: a node that died); an empty put emptying the node's rows;
 * the bound on rows read; two nodes' rows ordered by room; when each
 * node's call began, read back, and the calls split across nodes
 * (rooms_presence_split(): only rooms the asking node has rows in, the
 * earliest began per room and other node, not expired ones).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rooms_db.h"
#include "rooms_presence.h"
#include "rooms_store.h"
#include "tap.h"
#include "engines.h"


#define CODE_A  "AAAAAAAAAAAAAAAAAAAAAA"
#define CODE_B  "Bb-_0123456789xyzXYZqw"


static rooms_store_t *
open_ok(const char *where, const char *e)
{
    char            err[256];
    rooms_store_t  *st;

    err[0] = '\0';
    st = rooms_store_open(where, err, sizeof(err));

    if (!ok(st != NULL, "%s: the store opens", e)) {
        diag("%s", err);
    }

    return st;
}


static void
row(rooms_presence_t *p, int64_t room, const char *code, unsigned who,
    int role, const char *name)
{
    memset(p, 0, sizeof(*p));
    p->room_id = room;
    snprintf(p->code, sizeof(p->code), "%s", code);
    memcpy(p->person, &who, sizeof(who));      /* zero bytes after */
    p->role = role;
    snprintf(p->name, sizeof(p->name), "%s", name);
}


static int64_t
count_rows(rooms_store_t *st)
{
    int64_t           n;
    rooms_db_stmt_t  *s;

    s = rooms_db_prepare(rooms_store_db(st), "SELECT count(*) FROM presence");
    n = s != NULL && rooms_db_step(s) == ROOMS_DB_ROW
        ? rooms_db_column_int(s, 0) : -1;
    rooms_db_finalize(s);

    return n;
}


static void
test_presence(const char *where, const char *e)
{
    size_t             n;
    unsigned           who;
    rooms_store_t     *st, *st2;
    rooms_presence_t   put[3], got[8];

    st = open_ok(where, e);
    st2 = open_ok(where, e);
    if (st == NULL || st2 == NULL) {
        return;
    }

    /* a fresh table: a database of an earlier run may be reused */
    rooms_db_exec(rooms_store_db(st), "DELETE FROM presence");

    row(&put[0], 7, CODE_A, 1, 1, "Anna");
    row(&put[1], 7, CODE_A, 2, 0, "Bruno \xc3\xa8");
    is_int(rooms_presence_put(st, 101, put, 2, 1000, 1015), ROOMS_STORE_OK,
           "%s: node 101 puts its two people", e);

    is_int(rooms_presence_get(st2, 202, 1000, got, 8, &n), ROOMS_STORE_OK,
           "%s: node 202 reads", e);
    memcpy(&who, got[0].person, sizeof(who));
    ok(n == 2 && got[0].room_id == 7 && strcmp(got[0].code, CODE_A) == 0
       && (got[0].person[0] == 1 || got[0].person[0] == 2)
       && got[0].person[31] == 0,
       "%s: node 202 sees them, room, code and hash", e);
    ok(n == 2 && ((strcmp(got[0].name, "Anna") == 0 && got[0].role == 1
                   && strcmp(got[1].name, "Bruno \xc3\xa8") == 0
                   && got[1].role == 0)
                  || (strcmp(got[1].name, "Anna") == 0 && got[1].role == 1
                      && strcmp(got[0].name, "Bruno \xc3\xa8") == 0
                      && got[0].role == 0)),
       "%s: with their roles and names", e);

    is_int(rooms_presence_get(st, 101, 1000, got, 8, &n), ROOMS_STORE_OK,
           "%s: node 101 reads", e);
    is_int((int) n, 0, "%s: and never sees its own rows", e);

    /* node 202 has a call of its own, in a room of a lower id */
    row(&put[2], 3, CODE_B, 9, 0, "Carla");
    is_int(rooms_presence_put(st2, 202, &put[2], 1, 1005, 1020),
           ROOMS_STORE_OK, "%s: node 202 puts its one", e);
    rooms_presence_get(st, 303, 1005, got, 8, &n);
    ok(n == 3 && got[0].room_id == 3 && got[1].room_id == 7
       && got[2].room_id == 7, "%s: a third node sees all three, by room",
       e);
    rooms_presence_get(st, 303, 1005, got, 2, &n);
    is_int((int) n, 2, "%s: no more than asked for", e);

    /* Bruno left, Dora came: the node's rows are replaced whole */
    row(&put[1], 7, CODE_A, 4, 0, "Dora");
    rooms_presence_put(st, 101, put, 2, 1006, 1021);
    rooms_presence_get(st2, 202, 1006, got, 8, &n);
    ok(n == 2 && ((strcmp(got[0].name, "Anna") == 0
                   && strcmp(got[1].name, "Dora") == 0)
                  || (strcmp(got[1].name, "Anna") == 0
                      && strcmp(got[0].name, "Dora") == 0)),
       "%s: a put replaces the node's rows (Bruno gone, Dora in)", e);

    /* node 202 dies: its rows are past their expiry at 1021 */
    rooms_presence_get(st, 101, 1021, got, 8, &n);
    is_int((int) n, 0, "%s: a node's rows past their expiry are not read",
           e);
    is_int((int) count_rows(st), 3, "%s: they are still there", e);
    rooms_presence_put(st, 101, put, 2, 1021, 1036);
    is_int((int) count_rows(st), 2, "%s: the next put of any node drops "
           "them", e);

    /* everyone left node 101 */
    is_int(rooms_presence_put(st, 101, NULL, 0, 1030, 1045), ROOMS_STORE_OK,
           "%s: an empty put", e);
    is_int((int) count_rows(st), 0, "%s: leaves no row of the node", e);

    /* the same room's call on two nodes, and one on a third alone */
    row(&put[0], 7, CODE_A, 1, 1, "Anna");
    put[0].began = 1000500;
    row(&put[1], 5, CODE_B, 2, 0, "Bruno");
    put[1].began = 1000100;
    is_int(rooms_presence_put(st, 101, put, 2, 1040, 1055), ROOMS_STORE_OK,
           "%s: node 101 puts rooms 7 and 5", e);
    row(&put[0], 7, CODE_A, 3, 0, "Carla");
    put[0].began = 1030900;
    row(&put[1], 7, CODE_A, 4, 0, "Dora");
    put[1].began = 1030000;
    row(&put[2], 9, CODE_B, 5, 0, "Emil");
    put[2].began = 1000000;
    is_int(rooms_presence_put(st2, 202, put, 3, 1041, 1056), ROOMS_STORE_OK,
           "%s: node 202 puts room 7 twice and room 9", e);

    rooms_presence_get(st, 101, 1041, got, 8, &n);
    ok(n == 3 && got[2].room_id == 9 && got[2].began == 1000000,
       "%s: a row's began is read back", e);

    {
        rooms_presence_call_t  calls[4];

        is_int(rooms_presence_split(st, 101, 1041, calls, 4, &n),
               ROOMS_STORE_OK, "%s: node 101 asks for split calls", e);
        ok(n == 1 && calls[0].room_id == 7 && calls[0].node == 202
           && calls[0].began == 1030000,
           "%s: room 7 on node 202, from its earliest row (not 9: node "
           "101 has no one there, not 5: nobody else has)", e);
        rooms_presence_split(st2, 202, 1041, calls, 4, &n);
        ok(n == 1 && calls[0].room_id == 7 && calls[0].node == 101
           && calls[0].began == 1000500,
           "%s: and node 202 sees node 101's call of room 7", e);
        rooms_presence_split(st, 101, 1057, calls, 4, &n);
        is_int((int) n, 0, "%s: an expired call is not split", e);
        rooms_presence_split(st, 303, 1041, calls, 4, &n);
        is_int((int) n, 0, "%s: a node with no rows has no split call", e);
    }

    rooms_presence_put(st, 101, NULL, 0, 1060, 1075);
    rooms_presence_put(st2, 202, NULL, 0, 1060, 1075);

    rooms_store_close(st2);
    rooms_store_close(st);
}


int
main(void)
{
    test_on_engines("presence", test_presence);

    return done_testing();
}
