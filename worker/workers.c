/*
 * workers.c: the supervisor of rooms-worker --workers N (workers.h).
 *
 * Each media worker is a whole process of its own (its UDP port, its
 * control socket, its rings, its SFU): one that crashes takes only its
 * rooms down, and the kernel spreads the N of them over the cores.  The
 * supervisor does nothing else: it forks, waits for signals (SIGCHLD,
 * and the stopping ones, taken synchronously with sigtimedwait), and
 * forks again.  A child learns which of the N it is and finds its port
 * and socket from that (main.c).
 *
 * Owns: the children's pids, their restart times and backoff, passing
 * SIGTERM, SIGINT and SIGQUIT on, the stop deadline.
 * Must never: restart a child sooner than its backoff allows (a child
 * that cannot start, a port taken, must not spin), or leave a child
 * behind when it exits (PR_SET_PDEATHSIG covers the supervisor's own
 * SIGKILL).
 * May not: include sfu.h, include link.h, include udp.h, include <sys/epoll.h>, call sfu_, call rooms_link_, call rooms_udp_, call epoll_
 */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "rooms_shard.h"
#include "loop.h"
#include "workers.h"


/* the first restart's delay, and its doubling's bound */
#define ROOMS_WORKERS_BACKOFF_MIN  200
#define ROOMS_WORKERS_BACKOFF_MAX  30000

/* a child that lived this long starts again at the smallest backoff */
#define ROOMS_WORKERS_HEALTHY_MS   60000

/* how long a stop waits for the children before SIGKILL */
#define ROOMS_WORKERS_STOP_MS      10000


typedef struct {
    pid_t     pid;                  /* 0: not running */
    uint64_t  started;              /* ms */
    uint64_t  restart_at;           /* ms, when pid is 0 */
    uint64_t  backoff;              /* ms */
} rooms_workers_child_t;


static rooms_workers_child_t  rooms_workers[ROOMS_SHARD_MAX];


/*
 * Starts child index: 0, or -1 (fork failed, logged; tried again after
 * the backoff).  In the child, runs it and exits.
 */
static int
rooms_workers_fork(unsigned index, unsigned n, const sigset_t *old,
    rooms_workers_child_pt child, void *data, pid_t parent)
{
    pid_t                   pid;
    rooms_workers_child_t  *c = &rooms_workers[index];

    fflush(NULL);

    pid = fork();

    if (pid == -1) {
        rooms_log(ROOMS_LOG_ERR, "media worker %u: fork: %s", index,
                  strerror(errno));
        return -1;
    }

    if (pid == 0) {
        /* dies with the supervisor, even of a SIGKILL */
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM);

        if (getppid() != parent) {
            _exit(0);
        }

        (void) sigprocmask(SIG_SETMASK, old, NULL);

        exit(child(data, index, n));
    }

    c->pid = pid;
    c->started = rooms_loop_now();

    rooms_log(ROOMS_LOG_INFO, "media worker %u of %u: pid %ld", index, n,
              (long) pid);

    return 0;
}


/* Reaps every dead child and schedules its restart. */
static void
rooms_workers_reap(unsigned n, unsigned stopping)
{
    int                     status;
    pid_t                   pid;
    unsigned                i;
    uint64_t                now, lived;
    rooms_workers_child_t  *c;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < n; i++) {
            if (rooms_workers[i].pid == pid) {
                break;
            }
        }

        if (i == n) {
            continue;
        }

        c = &rooms_workers[i];
        c->pid = 0;
        now = rooms_loop_now();
        lived = now - c->started;

        if (stopping) {
            continue;
        }

        if (lived >= ROOMS_WORKERS_HEALTHY_MS) {
            c->backoff = ROOMS_WORKERS_BACKOFF_MIN;
        }

        c->restart_at = now + c->backoff;

        if (WIFSIGNALED(status)) {
            rooms_log(ROOMS_LOG_ERR, "media worker %u (pid %ld) was killed "
                      "by signal %d after %llu ms: its rooms are down; "
                      "starting it again in %llu ms", i, (long) pid,
                      WTERMSIG(status), (unsigned long long) lived,
                      (unsigned long long) c->backoff);
        } else {
            rooms_log(ROOMS_LOG_ERR, "media worker %u (pid %ld) exited "
                      "with status %d after %llu ms: its rooms are down; "
                      "starting it again in %llu ms", i, (long) pid,
                      WEXITSTATUS(status), (unsigned long long) lived,
                      (unsigned long long) c->backoff);
        }

        c->backoff *= 2;

        if (c->backoff > ROOMS_WORKERS_BACKOFF_MAX) {
            c->backoff = ROOMS_WORKERS_BACKOFF_MAX;
        }
    }
}


/* Passes sig on, waits for every child, SIGKILL after the deadline. */
static void
rooms_workers_stop(unsigned n, int sig, const sigset_t *mask)
{
    unsigned         i, left;
    uint64_t         deadline, now;
    struct timespec  ts;

    for (i = 0; i < n; i++) {
        if (rooms_workers[i].pid > 0) {
            (void) kill(rooms_workers[i].pid, sig);
        }
    }

    deadline = rooms_loop_now() + ROOMS_WORKERS_STOP_MS
               + (sig == SIGQUIT ? ROOMS_WORKERS_DRAIN_MS : 0);

    for ( ;; ) {
        rooms_workers_reap(n, 1);

        left = 0;
        for (i = 0; i < n; i++) {
            left += rooms_workers[i].pid > 0;
        }

        if (left == 0) {
            return;
        }

        now = rooms_loop_now();

        if (now >= deadline) {
            for (i = 0; i < n; i++) {
                if (rooms_workers[i].pid > 0) {
                    rooms_log(ROOMS_LOG_WARN, "media worker %u (pid %ld) "
                              "did not stop: killing it", i,
                              (long) rooms_workers[i].pid);
                    (void) kill(rooms_workers[i].pid, SIGKILL);
                }
            }

            deadline = now + ROOMS_WORKERS_STOP_MS;
        }

        ts.tv_sec = 0;
        ts.tv_nsec = 100 * 1000000L;
        (void) sigtimedwait(mask, NULL, &ts);
    }
}


int
rooms_workers_run(unsigned n, rooms_workers_child_pt child, void *data)
{
    int              sig;
    pid_t            self;
    sigset_t         mask, old;
    unsigned         i, running;
    uint64_t         now, next;
    struct timespec  ts;

    if (n == 0 || n > ROOMS_SHARD_MAX) {
        return 2;
    }

    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGQUIT);
    sigaddset(&mask, SIGHUP);

    if (sigprocmask(SIG_BLOCK, &mask, &old) != 0) {
        rooms_log(ROOMS_LOG_ERR, "sigprocmask: %s", strerror(errno));
        return 1;
    }

    self = getpid();
    rooms_log(ROOMS_LOG_INFO, "supervisor: pid %ld, %u media workers",
              (long) self, n);

    running = 0;

    for (i = 0; i < n; i++) {
        rooms_workers[i].backoff = ROOMS_WORKERS_BACKOFF_MIN;
        rooms_workers[i].restart_at = rooms_loop_now();

        if (rooms_workers_fork(i, n, &old, child, data, self) == 0) {
            running++;
        }
    }

    if (running == 0) {
        return 1;
    }

    for ( ;; ) {
        now = rooms_loop_now();
        next = now + 1000;

        for (i = 0; i < n; i++) {
            rooms_workers_child_t  *c = &rooms_workers[i];

            if (c->pid != 0) {
                continue;
            }

            if (c->restart_at <= now) {
                if (rooms_workers_fork(i, n, &old, child, data, self) != 0) {
                    c->restart_at = now + c->backoff;
                }
                continue;
            }

            if (c->restart_at < next) {
                next = c->restart_at;
            }
        }

        ts.tv_sec = (time_t) ((next - now) / 1000);
        ts.tv_nsec = (long) ((next - now) % 1000) * 1000000L;

        sig = sigtimedwait(&mask, NULL, &ts);

        if (sig == SIGCHLD) {
            rooms_workers_reap(n, 0);

        } else if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
            rooms_log(ROOMS_LOG_INFO, "supervisor: signal %d: stopping "
                      "%u media workers", sig, n);
            rooms_workers_stop(n, sig, &mask);
            rooms_log(ROOMS_LOG_INFO, "supervisor: stopped");
            return 0;
        }

        /* SIGHUP: nothing to reload; a timeout: restarts are due */
    }
}
