/*
 * udp.h: the media worker's UDP socket: one non-blocking socket for
 * every session, read in recvmmsg batches into the SFU and written from
 * the SFU's datagram queue with sendmmsg; and the conversions between
 * the kernel's socket addresses and rooms_stun_addr_t, the address the
 * cores use, which therefore include no socket header.
 *
 * Owns: the socket, its receive batch, the count of datagrams the
 * kernel refused.
 * Must never: block (a full socket buffer drops and counts), or hand
 * the SFU a truncated datagram or one from an address it cannot name.
 * May not: include rooms_ring.h, call rooms_ring_, call clock_gettime
 */

#ifndef ROOMS_UDP_H
#define ROOMS_UDP_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "sfu.h"
#include "stun.h"


typedef struct rooms_udp_s  rooms_udp_t;


/*
 * Binds bind_ip:port (IPv4 or IPv6 text) with large socket buffers.
 * NULL, with the reason logged, when it cannot.
 */
rooms_udp_t *rooms_udp_open(const char *bind_ip, uint16_t port);
void rooms_udp_close(rooms_udp_t *u);
int rooms_udp_fd(const rooms_udp_t *u);

/*
 * Reads what is queued (at most a bounded number of batches, so that
 * the loop looks at everything else under a flood) into sfu, flushing
 * io after each batch.
 */
void rooms_udp_read(rooms_udp_t *u, uint64_t now, sfu_t *sfu, sfu_io_t *io);

/* sfu_io_t.flush (ctx is the rooms_udp_t): sends the queue, empties it */
void rooms_udp_flush(void *ctx, sfu_io_t *io);

/* datagrams the kernel refused or that no socket of ours can reach */
uint64_t rooms_udp_tx_fail(const rooms_udp_t *u);

/*
 * A kernel address (recvmsg) as rooms_stun_addr_t: 0, or -1 for a
 * family other than AF_INET and AF_INET6.  IPv4-mapped IPv6 addresses
 * (a dual-stack socket) become IPv4.
 */
int rooms_udp_addr_from_sockaddr(rooms_stun_addr_t *addr,
    const struct sockaddr *sa, socklen_t salen);

/*
 * The reverse, for a socket of family sock_family: an IPv4 address sent
 * through an AF_INET6 socket becomes IPv4-mapped.  Returns the sockaddr's
 * length, or 0 when the address cannot be sent through that socket.
 */
socklen_t rooms_udp_addr_to_sockaddr(const rooms_stun_addr_t *addr,
    int sock_family, struct sockaddr_storage *ss);


#endif /* ROOMS_UDP_H */
