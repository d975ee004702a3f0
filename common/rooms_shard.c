/*
 * rooms_shard.c: rendezvous hashing of rooms over a host's media
 * workers (rooms_shard.h).
 *
 * Owns: the weight of a (room, media worker) pair and the choice of the
 * heaviest.  Must never change the weight function without saying so in
 * the release notes: a changed function moves live rooms between media
 * workers the next time rooms-worker and nginx restart with it.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, include <sys/socket.h>, call rand, call random
 */

#include "rooms_shard.h"


/*
 * SplitMix64's finalizer: every input bit moves every output bit, so
 * consecutive room ids (the store's AUTOINCREMENT) spread evenly.  Not
 * a secret: a client cannot choose its room's id.
 */
static uint64_t
rooms_shard_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;

    return x ^ (x >> 31);
}


unsigned
rooms_shard_pick(int64_t room, unsigned n)
{
    unsigned  i, best;
    uint64_t  w, top, r;

    if (n <= 1 || n > ROOMS_SHARD_MAX) {
        return 0;
    }

    r = rooms_shard_mix((uint64_t) room);
    best = 0;
    top = 0;

    for (i = 0; i < n; i++) {
        /* each worker's weight depends on the pair, not on n */
        w = rooms_shard_mix(r ^ rooms_shard_mix(i + 1));

        if (i == 0 || w > top) {
            top = w;
            best = i;
        }
    }

    return best;
}
