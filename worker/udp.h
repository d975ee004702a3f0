/*
 * udp.h: the media worker's UDP sockets: one non-blocking socket per
 * announced address (or one on --bind-ip), each shared by every session that reached the
 * worker there, read in recvmmsg batches into the SFU and written from
 * the SFU's datagram queue with sendmmsg; and the conversions between
 * the kernel's socket addresses and rooms_stun_addr_t, the address the
 * cores use, which therefore include no socket header.
 *
 * Owns: the sockets, their receive batch, the count of datagrams the
 * kernel refused.  One socket per address rather than one wildcard
 * socket with IP_PKTINFO: the kernel then picks the source of every
 * reply, with no control message per packet on the media path.
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

/* UDP sockets at most: one per announced address (addrs.h) */
#define ROOMS_UDP_MAX_SOCKETS  16

/*
 * Where datagrams for a TCP connection (via >= ROOMS_VIA_TCP) go when
 * the queue is flushed: the ICE-TCP side (tcp.h).
 */
typedef void (*rooms_udp_tcp_pt)(void *ctx, const sfu_dgram_t *d);


/*
 * Binds ips[i]:port for each of ips[0..n) (IPv4 or IPv6 text; n at most
 * ROOMS_UDP_MAX_SOCKETS), a socket each, with large socket buffers.
 * The sockets bound are numbered in order: what arrives on socket k
 * carries via k, and a datagram queued with via k leaves from it, so a
 * browser is always answered from the address it sent to.  bound[i]
 * (when bound is not NULL) says whether ips[i] was: an address that
 * cannot be bound is then left out (logged), else it fails the whole.
 * NULL, with the reason logged, when none (or not all) could be.
 */
rooms_udp_t *rooms_udp_open(const char *const *ips, unsigned n,
    uint16_t port, uint8_t *bound);
void rooms_udp_close(rooms_udp_t *u);
unsigned rooms_udp_count(const rooms_udp_t *u);
int rooms_udp_fd(const rooms_udp_t *u, unsigned via);

/* datagrams to TCP connections go to tcp(ctx, d); unset, they drop */
void rooms_udp_set_tcp(rooms_udp_t *u, rooms_udp_tcp_pt tcp, void *ctx);

/*
 * Reads what is queued on socket via (at most a bounded number of
 * batches, so that the loop looks at everything else under a flood) into
 * sfu, flushing io after each batch.
 */
void rooms_udp_read(rooms_udp_t *u, unsigned via, uint64_t now, sfu_t *sfu,
    sfu_io_t *io);

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
