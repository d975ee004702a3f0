/*
 * loop.c: the media worker's event loop over epoll (see loop.h), its
 * clock, its randomness and its log.
 *
 * Owns: the epoll descriptor and the batch of events one wait returns.
 * Must never: block but in epoll_wait(), or interpret an event beyond
 * calling its handler.
 * May not: include sfu.h, include rooms_ring.h, include <sys/socket.h>, call sfu_, call rooms_ring_
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>

#include <openssl/rand.h>

#include "loop.h"


/* events one epoll_wait() returns at most */
#define ROOMS_LOOP_EVENTS  64


struct rooms_loop_s {
    int                  ep;
    struct epoll_event   events[ROOMS_LOOP_EVENTS];
};


static int  rooms_log_max = ROOMS_LOG_INFO;


rooms_loop_t *
rooms_loop_create(void)
{
    rooms_loop_t  *loop;

    loop = calloc(1, sizeof(rooms_loop_t));
    if (loop == NULL) {
        return NULL;
    }

    loop->ep = epoll_create1(EPOLL_CLOEXEC);

    if (loop->ep < 0) {
        free(loop);
        return NULL;
    }

    return loop;
}


void
rooms_loop_destroy(rooms_loop_t *loop)
{
    if (loop == NULL) {
        return;
    }

    close(loop->ep);
    free(loop);
}


int
rooms_loop_add(rooms_loop_t *loop, int fd, rooms_loop_ev_t *ev)
{
    struct epoll_event  ee;

    ee.events = EPOLLIN | EPOLLRDHUP;
    ee.data.ptr = ev;

    return epoll_ctl(loop->ep, EPOLL_CTL_ADD, fd, &ee);
}


int
rooms_loop_want_write(rooms_loop_t *loop, int fd, rooms_loop_ev_t *ev,
    int write)
{
    struct epoll_event  ee;

    ee.events = EPOLLIN | EPOLLRDHUP | (write ? EPOLLOUT : 0);
    ee.data.ptr = ev;

    return epoll_ctl(loop->ep, EPOLL_CTL_MOD, fd, &ee);
}


void
rooms_loop_del(rooms_loop_t *loop, int fd)
{
    (void) epoll_ctl(loop->ep, EPOLL_CTL_DEL, fd, NULL);
}


int
rooms_loop_wait(rooms_loop_t *loop, int timeout_ms)
{
    int               i, n;
    uint64_t          now;
    rooms_loop_ev_t  *ev;

    n = epoll_wait(loop->ep, loop->events, ROOMS_LOOP_EVENTS, timeout_ms);

    if (n <= 0) {
        return n;
    }

    now = rooms_loop_now();

    for (i = 0; i < n; i++) {
        ev = loop->events[i].data.ptr;
        ev->handler(ev, now);
    }

    return n;
}


uint64_t
rooms_loop_now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


uint64_t
rooms_loop_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}


int
rooms_loop_random(void *ctx, void *buf, size_t n)
{
    return RAND_bytes(buf, (int) n) == 1 ? 0 : -1;
}


/* ---- the log ---- */


void
rooms_log_set_level(int level)
{
    rooms_log_max = level;
}


int
rooms_log_level(void)
{
    return rooms_log_max;
}


static const char *
rooms_log_level_name(int level)
{
    switch (level) {
    case ROOMS_LOG_ERR:
        return "error";
    case ROOMS_LOG_WARN:
        return "warn";
    case ROOMS_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}


void
rooms_log_line(void *ctx, int level, const char *line)
{
    char             stamp[32];
    struct tm        tm;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

    fprintf(stderr, "%s.%03ldZ rooms-worker [%s] %s\n", stamp,
            ts.tv_nsec / 1000000, rooms_log_level_name(level), line);
}


void
rooms_log(int level, const char *fmt, ...)
{
    char     line[1024];
    va_list  args;

    if (level > rooms_log_max) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);

    rooms_log_line(NULL, level, line);
}
