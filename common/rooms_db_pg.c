/*
 * rooms_db_pg.c: rooms_db.h's PostgreSQL engine (libpq).
 *
 * Owns: the libpq connection.  Must never hold a table name or a
 * statement of the product.
 *
 * Not written yet: this first step of branch pgcore refuses a
 * postgresql:// store with a clear message.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sqlite3.h>, call json_, call rooms_store_, call rooms_people_, call rooms_sched_, call sqlite3_
 */

#include <stdio.h>

#include "rooms_db_int.h"


rooms_db_t *
rooms_db_pg_open(const char *uri, char *err, size_t errlen)
{
    snprintf(err, errlen, "this build has no PostgreSQL engine yet");
    return NULL;
}
