/*
 * loop.h: the media worker's event loop, in the manner of Redis's ae.c
 * and ae_epoll.c: descriptors registered with a handler, one wait that
 * calls the handlers of those that are ready, and the three things the
 * sans-IO cores must never get for themselves: the clock, randomness and
 * the log.
 *
 * Owns: the epoll set; the monotonic clock the cores are given (ms);
 * the worker's source of randomness (OpenSSL's CSPRNG, handed to the SFU
 * as sfu_conf_t.rng); log lines (stderr, with a UTC time stamp).
 * Must never: know what a descriptor is for (its handler does), or
 * block anywhere but in rooms_loop_wait().
 * May not: include sfu.h, include rooms_ring.h, call sfu_, call rooms_ring_
 */

#ifndef ROOMS_LOOP_H
#define ROOMS_LOOP_H

#include <stddef.h>
#include <stdint.h>


/* log levels, most severe first (the SFU's: SFU_LOG_*) */
#define ROOMS_LOG_ERR      0
#define ROOMS_LOG_WARN     1
#define ROOMS_LOG_INFO     2
#define ROOMS_LOG_DEBUG    3


typedef struct rooms_loop_s     rooms_loop_t;
typedef struct rooms_loop_ev_s  rooms_loop_ev_t;

/* a registered descriptor is ready to read (or hung up) */
typedef void (*rooms_loop_handler_pt)(rooms_loop_ev_t *ev, uint64_t now_ms);

/* what a descriptor is registered with; it must outlive the registration */
struct rooms_loop_ev_s {
    rooms_loop_handler_pt   handler;
    void                   *data;
};


rooms_loop_t *rooms_loop_create(void);
void rooms_loop_destroy(rooms_loop_t *loop);

/* Watches fd for input (and hang-up): 0, or -1 with errno. */
int rooms_loop_add(rooms_loop_t *loop, int fd, rooms_loop_ev_t *ev);
void rooms_loop_del(rooms_loop_t *loop, int fd);

/*
 * Watches a registered fd for output too (write 1), or no longer (0):
 * its handler is then also called when it can be written.  0, or -1.
 */
int rooms_loop_want_write(rooms_loop_t *loop, int fd, rooms_loop_ev_t *ev,
    int write);

/*
 * Waits at most timeout_ms for ready descriptors and calls their
 * handlers with the time they woke up at.  Returns how many, 0 on a
 * timeout or a signal, or -1 with errno.
 */
int rooms_loop_wait(rooms_loop_t *loop, int timeout_ms);

/* the monotonic clock, in ms: the "now" of every core */
uint64_t rooms_loop_now(void);
/* the same clock in microseconds (packet arrival times) */
uint64_t rooms_loop_now_us(void);

/* sfu_conf_t.rng: n bytes of OpenSSL's CSPRNG; 0, or -1 */
int rooms_loop_random(void *ctx, void *buf, size_t n);

/* log lines above level are not written (default ROOMS_LOG_INFO) */
void rooms_log_set_level(int level);
int rooms_log_level(void);

/* sfu_conf_t.log: one line to stderr, time-stamped */
void rooms_log_line(void *ctx, int level, const char *line);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void rooms_log(int level, const char *fmt, ...);


#endif /* ROOMS_LOOP_H */
