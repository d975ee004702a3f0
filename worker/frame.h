/*
 * frame.h: RFC 4571 framing, for ICE over TCP (RFC 6544): each packet
 * on the byte stream is a 16-bit big-endian length and that many bytes.
 * The event loop's TCP side (tcp.h) reads bytes into a rooms_frame_in_t
 * and gets whole packets back, one at a time, which then go where a UDP
 * datagram would; packets towards the peer are queued in a
 * rooms_frame_out_t with their length in front and written as the
 * socket takes them.
 *
 * Owns: the reassembly of one connection's incoming packets, across any
 * split of the stream; what is bad input (a zero length, a packet over
 * ROOMS_FRAME_MAX: after either the stream cannot be trusted, so it
 * ends); one connection's bounded output queue, which takes a whole
 * packet or none.
 * Sans-IO: bytes in, packets out; no socket, no clock, no allocation.
 * Must never: hand out part of a packet, or queue part of one.
 * May not: include <sys/socket.h>, include <sys/epoll.h>, include sfu.h, call malloc, call calloc, call recv, call send, call read, call write, call clock_gettime
 */

#ifndef ROOMS_FRAME_H
#define ROOMS_FRAME_H

#include <stddef.h>
#include <stdint.h>


/*
 * The largest packet taken from a peer: what the UDP side takes (a
 * datagram larger than any MTU).  Browsers send ~1200-byte packets; a
 * larger length prefix is garbage, and the connection ends.
 */
#define ROOMS_FRAME_MAX      2048

/*
 * Bytes a connection's output queue holds, length prefixes included:
 * about 0.8 s of a 2.5 Mbit/s subscriber, so a keyframe burst to a
 * client on a slow link fits, while a peer that stops reading costs
 * at most this much before its media is dropped (never waited for).
 */
#define ROOMS_FRAME_OUT_CAP  (256 * 1024)


typedef struct {
    uint8_t     buf[2 + ROOMS_FRAME_MAX];
    size_t      have;               /* bytes of the packet being read */
    uint8_t     ready;              /* buf holds a whole packet, handed out */
} rooms_frame_in_t;

typedef struct {
    uint8_t     buf[ROOMS_FRAME_OUT_CAP];
    size_t      head;               /* the first byte not yet written */
    size_t      len;                /* bytes queued from head, wrapping */
} rooms_frame_out_t;


/* Empties f (a new connection). */
void rooms_frame_in_init(rooms_frame_in_t *f);

/*
 * Reads from in[0..len): *used is how many bytes it took.  Returns 1
 * when a whole packet is ready at *pkt, *pkt_len bytes (in f, valid
 * until the next call: call again with the rest of in), 0 when it took
 * everything and no packet is complete yet, or -1 when the stream is
 * bad (a zero length, or over ROOMS_FRAME_MAX): the caller closes the
 * connection.
 */
int rooms_frame_take(rooms_frame_in_t *f, const uint8_t *in, size_t len,
    size_t *used, const uint8_t **pkt, size_t *pkt_len);

/* 1 when part of a packet has been read and the rest has not */
int rooms_frame_partial(const rooms_frame_in_t *f);

void rooms_frame_out_init(rooms_frame_out_t *o);

/*
 * Queues pkt[0..len) with its length in front: 0, or -1 when it does not
 * fit (the packet is dropped whole; the caller counts it) or len is 0 or
 * over 65535.
 */
int rooms_frame_put(rooms_frame_out_t *o, const uint8_t *pkt, size_t len);

/* The queued bytes that are contiguous at the head: their count. */
size_t rooms_frame_peek(const rooms_frame_out_t *o, const uint8_t **p);

/* n bytes from the head were written (n at most what peek gave). */
void rooms_frame_done(rooms_frame_out_t *o, size_t n);

/* bytes queued */
size_t rooms_frame_queued(const rooms_frame_out_t *o);


#endif /* ROOMS_FRAME_H */
