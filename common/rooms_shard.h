/*
 * rooms_shard.h: which media worker of a host carries a room.
 *
 * Owns: the choice of a room's media worker from its store id and the
 * number of media workers, by rendezvous (highest random weight)
 * hashing: every nginx worker computes the same answer without asking
 * anyone, and a change of the number of media workers from n to n + 1
 * moves only the rooms the new one wins (about 1 / (n + 1) of them),
 * where "id modulo n" would move nearly all.  Must never depend on a
 * process's state (a seed, the clock, an address): two nginx workers,
 * or two builds, must agree.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sys/socket.h>
 */

#ifndef ROOMS_SHARD_H
#define ROOMS_SHARD_H

#include <stdint.h>


/*
 * The most media workers one host runs (rooms-worker --workers): more
 * than the cores of any machine it is meant for, and small enough that
 * the nginx side keeps one link per media worker statically.
 */
#define ROOMS_SHARD_MAX  64


/*
 * The media worker, 0 .. n - 1, that carries the room of store id room
 * among n (1 .. ROOMS_SHARD_MAX; any other n gives 0).  Pure.
 */
unsigned rooms_shard_pick(int64_t room, unsigned n);


#endif /* ROOMS_SHARD_H */
