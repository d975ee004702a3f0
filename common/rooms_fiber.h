/*
 * rooms_fiber.h: fibers, so that code written as plain calls can wait
 * for an answer (the store's) without blocking the thread that runs it.
 *
 * Owns: a fiber's stack (mapped with a guard page, kept for reuse), its
 * switch in and out (ucontext, with AddressSanitizer told of each
 * switch), the bound on how many exist, and which fiber runs now.
 * Must never know what a fiber waits for, nor when to resume one: the
 * caller's event loop decides both (ngx_rooms_fiber.c in the module).
 * One thread only: a fiber is resumed by the thread that made it.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, call json_, call rooms_store_, call rooms_db_
 */

#ifndef ROOMS_FIBER_H
#define ROOMS_FIBER_H

#include <stddef.h>


typedef struct rooms_fiber_s  rooms_fiber_t;

typedef void (*rooms_fiber_fn)(void *data);


/*
 * Each fiber's stack.  Why 256 KiB: nginx's handlers, filters and
 * OpenSSL run on it, and the module keeps records of a few KiB on the
 * stack; only the pages touched are ever backed by memory, and a guard
 * page below it turns an overflow into a crash, never a silent write.
 */
#define ROOMS_FIBER_STACK      (256 * 1024)

/*
 * At most this many at once per thread (suspended ones count).  Why:
 * each is a request or a timer waiting for the store; 4,096 is far
 * above what a store can answer at once, and bounds the address space
 * reserved (1 GiB).  Past it rooms_fiber_new() fails and the caller
 * runs its code without a fiber (it then blocks as it waits).
 */
#define ROOMS_FIBER_MAX        4096

/* stacks kept for reuse once their fiber ends (the rest are unmapped) */
#define ROOMS_FIBER_SPARE      64


/*
 * A new fiber that will run fn(data), not started yet.  NULL when
 * ROOMS_FIBER_MAX are alive or no stack could be mapped.
 */
rooms_fiber_t *rooms_fiber_new(rooms_fiber_fn fn, void *data);

/*
 * Runs f from where it last yielded (or from its start) until it yields
 * again or fn returns.  Returns 1 when fn returned (f is gone then: its
 * stack is kept or unmapped), 0 when f yielded.  Called from the thread's
 * own stack only, never from inside a fiber.
 */
int rooms_fiber_resume(rooms_fiber_t *f);

/*
 * From inside a fiber: back to the rooms_fiber_resume() that ran it.
 * Returns when somebody resumes this fiber again.
 */
void rooms_fiber_yield(void);

/* The fiber running now, or NULL on the thread's own stack. */
rooms_fiber_t *rooms_fiber_current(void);

/* A word the caller keeps with a fiber (what it waits for, ...). */
void rooms_fiber_set_user(rooms_fiber_t *f, void *user);
void *rooms_fiber_user(rooms_fiber_t *f);

/* Fibers alive (started or not, not returned), and stacks kept spare. */
unsigned rooms_fiber_alive(void);
unsigned rooms_fiber_spare(void);


#endif /* ROOMS_FIBER_H */
