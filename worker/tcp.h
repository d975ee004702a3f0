/*
 * tcp.h: ICE over TCP (RFC 6544), the media worker's side: one
 * listening socket for the passive TCP candidates of every answer, and
 * the connections browsers open to it, each carrying RFC 4571 framed
 * packets (frame.h).  A packet from a connection goes to the SFU as a
 * datagram would, from the peer's address with via ROOMS_VIA_TCP + the
 * connection's slot; a datagram the SFU queues with that via goes back
 * on that connection.  STUN (with integrity), DTLS and SRTP are the
 * SFU's, exactly as over UDP.
 *
 * Owns: the listening socket and the connections; their bounds (how
 * many, how long before the first answered check and between packets
 * after it, bytes read per wakeup, the output queue of frame.h).
 * Must never: block, wait for a slow peer (its media is dropped when its
 * queue is full), free a connection while a handler may still use it, or
 * let one connection's input reach another's session.
 * May not: include rooms_ring.h, call rooms_ring_, call clock_gettime
 */

#ifndef ROOMS_TCP_H
#define ROOMS_TCP_H

#include <stdint.h>

#include "loop.h"
#include "sfu.h"


/*
 * Connections at most: each may hold ROOMS_FRAME_OUT_CAP queued (32 MiB
 * in all), and TCP is for the few whose network blocks UDP.  When all
 * are taken, a new one pushes out the oldest that has no answered check
 * yet (so strangers that connect and wait cannot keep browsers out), or
 * else is closed at once.
 */
#define ROOMS_TCP_MAX_CONNS   128

/*
 * Connections without an answered check from one IP address at once: a
 * browser opens one per candidate pair it tries and is answered within
 * a round trip, so a few suffice, even for an office behind one NAT
 * address; more is a flood, and the next one is closed at once.
 */
#define ROOMS_TCP_MAX_PER_IP  8

/*
 * From accept to the first check answered (a STUN request with
 * integrity): a browser sends its first check as soon as it connects,
 * so a connection still unanswered is a stranger, a port scan or a
 * slowloris, and goes.
 */
#define ROOMS_TCP_FIRST_MS    10000

/*
 * After that, the longest without a whole packet: browsers send consent
 * checks every few seconds (RFC 7675 gives up after 30 s), so a silent
 * connection is half-open or dead.
 */
#define ROOMS_TCP_IDLE_MS     30000


typedef struct rooms_tcp_s  rooms_tcp_t;


/*
 * Listens on bind_ip:port (NULL: every address, IPv6 and IPv4) and
 * watches it in loop; packets go to the SFU (rooms_tcp_set_sfu, before
 * the loop first waits) with io, whose flush the caller sets (it hands
 * TCP datagrams back through rooms_tcp_send).  NULL when it cannot
 * (the reason logged as info: the caller says whether it is an error).
 */
rooms_tcp_t *rooms_tcp_open(rooms_loop_t *loop, const char *bind_ip,
    uint16_t port, sfu_io_t *io);
void rooms_tcp_set_sfu(rooms_tcp_t *t, sfu_t *sfu);

/* Closes the listener and every connection. */
void rooms_tcp_close(rooms_tcp_t *t);

/*
 * rooms_udp_tcp_pt (udp.h): d, queued for a TCP connection, framed onto
 * it, or dropped (and counted) when that connection is gone, is not the
 * one d names, or its queue is full.
 */
void rooms_tcp_send(void *ctx, const sfu_dgram_t *d);

/*
 * Closes connections that broke, or that outlived a bound above; the
 * loop calls it once a turn, outside the wait.
 */
void rooms_tcp_expire(rooms_tcp_t *t, uint64_t now_ms);

/* connections open now; packets dropped on the way out; refused ones */
unsigned rooms_tcp_conns(const rooms_tcp_t *t);
uint64_t rooms_tcp_tx_fail(const rooms_tcp_t *t);
uint64_t rooms_tcp_closed_bad(const rooms_tcp_t *t);


#endif /* ROOMS_TCP_H */
