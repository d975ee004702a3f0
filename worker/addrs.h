/*
 * addrs.h: which addresses the media worker announces, and with what
 * priority.  From the machine's interface list (the event loop reads it
 * with getifaddrs and passes it in), or from the addresses the operator
 * named (--announce-ip), it makes the host candidates of every answer
 * (RFC 8445 5.1.1.1): one UDP candidate per address and, when ICE-TCP is
 * on, one passive TCP candidate per address (RFC 6544).
 *
 * Owns: what is left out (interfaces that are down, loopback unless
 * asked for, link-local and other unusable IPv6, the unspecified and
 * multicast addresses, duplicates), the order of preference (IPv6 and
 * IPv4 interleaved, RFC 8421 4, each family in the list's order), and
 * the priorities (RFC 8445 5.1.2.1; TCP: RFC 6544 4.2).
 * Pure: no system call, no allocation, no clock; the same list gives the
 * same candidates.  It must never read the interfaces itself.
 * May not: include <sys/socket.h>, include <ifaddrs.h>, include <sys/epoll.h>, include sfu.h, call getifaddrs, call malloc, call calloc, call socket, call clock_gettime
 */

#ifndef ROOMS_ADDRS_H
#define ROOMS_ADDRS_H

#include <stddef.h>
#include <stdint.h>

#include "sdp.h"
#include "stun.h"


/*
 * Addresses announced at most: two candidates each (UDP, TCP) must fit
 * an answer's ROOMS_SDP_MAX_CANDS; and the worker opens one UDP socket
 * per address.  A host with more names its own (--announce-ip).
 */
#define ROOMS_ADDRS_MAX        (ROOMS_SDP_MAX_CANDS / 2)

/* type preferences (RFC 8445 5.1.2.2): host UDP; host TCP below it, so
 * a browser that can reach us over UDP prefers it (RFC 6544 4.2) */
#define ROOMS_ADDRS_TYPE_UDP   126
#define ROOMS_ADDRS_TYPE_TCP   90

/* RFC 6544 4.2: direction-pref of a passive host candidate */
#define ROOMS_ADDRS_DIR_PASSIVE  4


/* one address of one interface, as getifaddrs reports it */
typedef struct {
    rooms_stun_addr_t   addr;           /* family and ip; port unused */
    uint8_t             up;             /* IFF_UP (and IFF_RUNNING) */
    uint8_t             loopback;       /* IFF_LOOPBACK */
} rooms_addrs_if_t;


/*
 * The addresses to announce from ifs[0..n), best first, into
 * out[0..ROOMS_ADDRS_MAX): every address of an interface that is up,
 * IPv4 and IPv6, but loopback ones (interface or address) unless
 * loopback is 1, IPv6 link-local (fe80::/10), site-local and
 * IPv4-mapped ones, unspecified and multicast ones, and repeats.
 * Ports of out are 0.  Returns how many (0: none usable).
 */
unsigned rooms_addrs_pick(const rooms_addrs_if_t *ifs, size_t n,
    int loopback, rooms_stun_addr_t *out);

/*
 * The candidates for addrs[0..n) (n at most ROOMS_ADDRS_MAX, best
 * first), into cands (room for 2 * n): a UDP one on udp_port for each,
 * then, when tcp_port is not 0, a passive TCP one on tcp_port for each.
 * Each has its own priority: local preference falls with the position.
 * Returns how many, or 0 when an address cannot be written.
 */
unsigned rooms_addrs_cands(const rooms_stun_addr_t *addrs, unsigned n,
    uint16_t udp_port, uint16_t tcp_port, rooms_sdp_cand_t *cands);

/* RFC 8445 5.1.2.1, component 1: a candidate's priority */
uint32_t rooms_addrs_priority(unsigned type_pref, unsigned local_pref);


#endif /* ROOMS_ADDRS_H */
