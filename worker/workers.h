/*
 * workers.h: rooms-worker --workers N, a media worker per core
 * (docs/architecture.md, "A media worker per core").
 *
 * Owns: the supervisor process: starting N media worker processes,
 * starting a dead one again with backoff, and stopping them all on
 * SIGTERM, SIGINT or SIGQUIT (a drain: each child lets its calls move).  Must never: run the SFU, open a socket or
 * a ring (each child does, as a lone media worker would), or restart a
 * child in a tight loop.
 * May not: include sfu.h, include link.h, include udp.h, call sfu_, call rooms_link_, call rooms_udp_
 */

#ifndef ROOMS_WORKERS_H
#define ROOMS_WORKERS_H


/*
 * What a child runs: media worker index of n (0 .. n - 1), with data as
 * given to rooms_workers_run(); its return value is the child's exit
 * status.  It starts with the signal mask the caller had, and dies with
 * the supervisor (PR_SET_PDEATHSIG).
 */
typedef int (*rooms_workers_child_pt)(void *data, unsigned index,
    unsigned n);


/*
 * The longest a media worker drains after SIGQUIT (its calls are told to
 * move, docs/scaling.md): it stops once nobody is left, or then.  Long
 * enough for every browser to have joined again elsewhere, bounded so a
 * browser that never closes cannot hold a node's shutdown.
 */
#define ROOMS_WORKERS_DRAIN_MS  30000


/*
 * Runs n children and supervises them until SIGTERM, SIGINT or SIGQUIT,
 * which it passes on to each child before waiting for them all (a child
 * still there after ROOMS_WORKERS_STOP_MS is killed; after SIGQUIT, a
 * drain, ROOMS_WORKERS_DRAIN_MS more).  A child that dies
 * is started again after a backoff: 200 ms, doubling up to 30 s, back to
 * 200 ms once a child has lived a minute.  Returns the supervisor's exit
 * status (0 after a signal, 1 when it cannot fork at all); in a child it
 * never returns.
 */
int rooms_workers_run(unsigned n, rooms_workers_child_pt child, void *data);


#endif /* ROOMS_WORKERS_H */
