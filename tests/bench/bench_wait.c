/*
 * bench_wait.c: what it costs nginx's event loop to wait for a store call
 * without blocking, two ways (issue 17, docs/scaling.md "Blocking,
 * measured"):
 *
 *   fiber        the call suspends its fiber (common/rooms_fiber.h) and
 *                the loop's epoll_wait reports the connection's socket,
 *                then resumes the fiber; the socket either added to the
 *                epoll set before each wait and deleted after it
 *                (EPOLL_CTL_ADD, DEL), or kept in the set for good;
 *   thread pool  the call is a task for a pool thread, as nginx's
 *                src/core/ngx_thread_pool.c runs them: queued under the
 *                pool's mutex with its condition variable signalled, taken
 *                by a pool thread, run, queued as done under a second lock,
 *                and announced by a write to an eventfd that the loop's
 *                epoll watches (edge-triggered, never read but once per
 *                2^32 wakes, as nginx's ngx_epoll_notify does); the loop
 *                takes the done list and completes the task.
 *
 * 1. The hand-off alone, no database: the fiber's socket is made readable
 *    once and never drained (the answer's arrival is the database's
 *    cost, the same both ways), the pool's task is empty.  One call at a
 *    time (the loop otherwise idle: what a call adds) and 64 at once (a
 *    loop with many requests waiting: wake-ups shared).  First its parts
 *    alone: an empty system call, a fiber's resume and yield, epoll_ctl
 *    ADD and DEL, an epoll_wait finding one fd ready.
 * 2. Memory per waiting call: the resident pages of a fiber's stack and
 *    of a pool thread's stack (mincore) while each waits below a frame
 *    that used 16 KiB of stack, the same for a fiber on a spare stack
 *    whose last fiber ran 128 KiB deep, and the process's resident
 *    growth per waiting unit with 16 of each waiting (a pool thread also
 *    gets its own malloc arena).  The server's side: a pool needs one
 *    PostgreSQL connection per thread (fibers share the worker's one);
 *    with ROOMS_BENCH_PG set and the server on this machine, that
 *    backend's resident memory (/proc/PID/status of pg_backend_pid()).
 * 3. With ROOMS_BENCH_PG set (a postgresql:// URI), end to end: one
 *    prepared SELECT of one row, sent with PQsendQueryPrepared and waited
 *    for in a fiber on epoll, against the same statement run by a pool
 *    thread on its own connection (PQexecPrepared), against the loop
 *    blocking in libpq (what nginx did before fibers), and against the
 *    loop waiting in epoll_wait itself, no fiber (the fiber's own share).
 *
 * Each figure is the median of RUNS runs, the ways taking turns run by
 * run (a change of the machine's load falls on all alike), each run
 * after untimed calls the same way (where the scheduler places the
 * threads after a change of way moves the figures by half): wall time,
 * the CPU time of the loop's thread (what it cannot spend on other
 * requests) and of the whole process (pool threads included), in ns per
 * call, and the ratios pool / fiber.  A benchmark, not a test: it prints
 * figures and never fails on time.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <libpq-fe.h>

#include "rooms_fiber.h"


#define RUNS       11
#define CALLS      20000          /* per run, the hand-off */
#define PG_CALLS   2000           /* per run, end to end */
#define PG_WARM    200            /* untimed, before each run */
#define WARM       2000           /* untimed, before each hand-off run */
#define INFLIGHT   64             /* "many at once" */
#define THREADS    4              /* a store connection each, as the
                                     module lends 4 store handles per
                                     worker (nginx's default is 32) */
#define DEPTH      (16 * 1024)    /* stack a waiting call sits below */
#define BIG        (128 * 1024)   /* a deep call, once */
#define WAITERS    16             /* units waiting for the RSS figure */


static double
clock_ns(clockid_t id)
{
    struct timespec  ts;

    clock_gettime(id, &ts);

    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


static double
median(double *v, int n)
{
    qsort(v, n, sizeof(double), cmp_double);

    return v[n / 2];
}


static void
die(const char *what)
{
    fprintf(stderr, "bench_wait: %s: %s\n", what, strerror(errno));
    exit(1);
}


/* one run's three clocks, in ns per call */
typedef struct {
    double  wall[RUNS];
    double  loop[RUNS];
    double  proc[RUNS];
} times_t;


typedef struct {
    double  wall, loop, proc;
} clocks_t;


static void
clocks_start(clocks_t *c)
{
    c->wall = clock_ns(CLOCK_MONOTONIC);
    c->loop = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    c->proc = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}


static void
clocks_stop(clocks_t *c, times_t *t, int run, int calls)
{
    t->wall[run] = (clock_ns(CLOCK_MONOTONIC) - c->wall) / calls;
    t->loop[run] = (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c->loop) / calls;
    t->proc[run] = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c->proc) / calls;
}


/* the medians of t's three clocks */
typedef struct {
    double  wall, loop, proc;
} med_t;


static med_t
print_row(const char *name, times_t *t)
{
    med_t  m;

    m.wall = median(t->wall, RUNS);
    m.loop = median(t->loop, RUNS);
    m.proc = median(t->proc, RUNS);

    printf("    %-36s %8.0f %9.0f %12.0f\n", name, m.wall, m.loop, m.proc);

    return m;
}


static void
print_head(const char *title)
{
    if (title != NULL) {
        printf("%s\n", title);
    }

    printf("    %-36s %8s %9s %12s\n", "", "wall", "loop CPU",
           "process CPU");
}


static void
print_ratio(const char *name, med_t num, med_t den)
{
    printf("    %-36s %8.1f %9.1f %12.1f\n", name, num.wall / den.wall,
           num.loop / den.loop, num.proc / den.proc);
}


/* ---- the fiber side ---- */

/*
 * What a store call does while its answer is not there: its socket into
 * the loop's epoll set, a yield, and out again once resumed (nginx's
 * epoll module adds and deletes a connection's read event the same way
 * for one wait).
 */
typedef struct {
    int     ep;
    int     fd;                  /* readable: the answer "arrived" */
    int     calls;
    int     keep;                /* fd stays in the epoll set throughout */
    PGconn *pg;                  /* part 3 */
    int     bad;
} fib_call_t;


static void
fib_wait(int ep, int fd)
{
    struct epoll_event  ev;

    ev.events = EPOLLIN;
    ev.data.ptr = rooms_fiber_current();

    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        die("epoll_ctl ADD");
    }

    rooms_fiber_yield();

    if (epoll_ctl(ep, EPOLL_CTL_DEL, fd, &ev) != 0) {
        die("epoll_ctl DEL");
    }
}


static void
fib_handoff_fn(void *data)
{
    int          i;
    fib_call_t  *c = data;

    for (i = 0; i < c->calls; i++) {
        if (c->keep) {
            rooms_fiber_yield();

        } else {
            fib_wait(c->ep, c->fd);
        }
    }
}


/*
 * The event loop: start n fibers, then resume each whose socket epoll
 * reports, until all have ended.
 */
static void
fib_loop(int ep, rooms_fiber_fn fn, fib_call_t *calls, int n)
{
    int                 i, k, left;
    rooms_fiber_t      *f;
    struct epoll_event  evs[INFLIGHT], ev;

    left = 0;

    for (i = 0; i < n; i++) {
        f = rooms_fiber_new(fn, &calls[i]);
        if (f == NULL) {
            die("rooms_fiber_new");
        }

        if (calls[i].keep) {
            /* level-triggered: the never-drained fd is reported each time */
            ev.events = EPOLLIN;
            ev.data.ptr = f;

            if (epoll_ctl(ep, EPOLL_CTL_ADD, calls[i].fd, &ev) != 0) {
                die("epoll_ctl ADD");
            }
        }

        left += rooms_fiber_resume(f) == 0;
    }

    while (left > 0) {
        k = epoll_wait(ep, evs, INFLIGHT, -1);

        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }

            die("epoll_wait");
        }

        for (i = 0; i < k; i++) {
            left -= rooms_fiber_resume(evs[i].data.ptr);
        }
    }

    for (i = 0; i < n; i++) {
        if (calls[i].keep
            && epoll_ctl(ep, EPOLL_CTL_DEL, calls[i].fd, &ev) != 0)
        {
            die("epoll_ctl DEL");
        }
    }
}


/* ---- the fiber's hand-off, part by part ---- */

static void
yield_fn(void *data)
{
    int  i, n = *(int *) data;

    for (i = 0; i < n; i++) {
        rooms_fiber_yield();
    }
}


/*
 * What the hand-off is made of, each alone: a system call that does
 * nothing (this machine's price of entering the kernel), a fiber's
 * resume and yield (glibc's swapcontext also sets the signal mask: a
 * system call each way), an epoll_ctl ADD and DEL, an epoll_wait that
 * finds one fd ready.
 */
static void
bench_parts(void)
{
    int                 i, r, n, ep, p[2];
    double              t0, sys[RUNS], sw[RUNS], ctl[RUNS], wt[RUNS];
    rooms_fiber_t      *f;
    struct epoll_event  ev, out;

    ep = epoll_create1(EPOLL_CLOEXEC);

    if (ep < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0
        || write(p[1], "x", 1) != 1)
    {
        die("bench_parts");
    }

    ev.events = EPOLLIN;
    ev.data.ptr = NULL;

    for (r = 0; r < RUNS; r++) {
        t0 = clock_ns(CLOCK_MONOTONIC);

        for (i = 0; i < CALLS; i++) {
            (void) syscall(SYS_getppid);
        }

        sys[r] = (clock_ns(CLOCK_MONOTONIC) - t0) / CALLS;

        n = CALLS;
        f = rooms_fiber_new(yield_fn, &n);
        if (f == NULL) {
            die("rooms_fiber_new");
        }

        t0 = clock_ns(CLOCK_MONOTONIC);

        while (rooms_fiber_resume(f) == 0) { /* void */ }

        sw[r] = (clock_ns(CLOCK_MONOTONIC) - t0) / CALLS;

        t0 = clock_ns(CLOCK_MONOTONIC);

        for (i = 0; i < CALLS; i++) {
            if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) != 0
                || epoll_ctl(ep, EPOLL_CTL_DEL, p[0], &ev) != 0)
            {
                die("epoll_ctl");
            }
        }

        ctl[r] = (clock_ns(CLOCK_MONOTONIC) - t0) / CALLS;

        if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) != 0) {
            die("epoll_ctl");
        }

        t0 = clock_ns(CLOCK_MONOTONIC);

        for (i = 0; i < CALLS; i++) {
            if (epoll_wait(ep, &out, 1, -1) != 1) {
                die("epoll_wait");
            }
        }

        wt[r] = (clock_ns(CLOCK_MONOTONIC) - t0) / CALLS;

        if (epoll_ctl(ep, EPOLL_CTL_DEL, p[0], &ev) != 0) {
            die("epoll_ctl");
        }
    }

    close(p[0]);
    close(p[1]);
    close(ep);

    printf("the fiber's hand-off part by part: median of %d runs of %d, "
           "ns each (wall)\n", RUNS, CALLS);
    printf("    %-36s %8.0f\n", "a system call doing nothing (getppid)",
           median(sys, RUNS));
    printf("    %-36s %8.0f\n", "fiber resume + yield", median(sw, RUNS));
    printf("    %-36s %8.0f\n", "epoll_ctl ADD + DEL", median(ctl, RUNS));
    printf("    %-36s %8.0f\n", "epoll_wait, one fd ready",
           median(wt, RUNS));
}


/* ---- the thread pool side (after nginx's ngx_thread_pool.c) ---- */

typedef struct task_s  task_t;

struct task_s {
    task_t     *next;
    void      (*handler)(task_t *task);
    void       *ctx;
    int         active;          /* posted, not completed */
    int         exit;            /* the pool's end: the thread returns */
};


typedef struct {
    pthread_mutex_t   mtx;       /* the queue of tasks to run */
    pthread_cond_t    cond;
    task_t           *first;
    task_t          **last;

    pthread_mutex_t   done_mtx;  /* the queue of tasks run */
    task_t           *done;
    task_t          **done_last;

    int               notify;    /* eventfd, in the loop's epoll set */
    int               ep;
    pthread_t         tid[THREADS];
    int               nthreads;

    void            (*thread_init)(void *arg);
    void            (*thread_exit)(void);
    void             *init_arg;
} pool_t;


static void
pool_post(pool_t *p, task_t *task)
{
    pthread_mutex_lock(&p->mtx);

    task->active = 1;
    task->next = NULL;
    *p->last = task;
    p->last = &task->next;

    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mtx);
}


static void *
pool_cycle(void *data)
{
    int        ex;
    pool_t    *p = data;
    task_t    *task;
    uint64_t   one = 1;

    if (p->thread_init != NULL) {
        p->thread_init(p->init_arg);
    }

    for ( ;; ) {
        pthread_mutex_lock(&p->mtx);

        while (p->first == NULL) {
            pthread_cond_wait(&p->cond, &p->mtx);
        }

        task = p->first;
        p->first = task->next;

        if (p->first == NULL) {
            p->last = &p->first;
        }

        pthread_mutex_unlock(&p->mtx);

        ex = task->exit;

        if (task->handler != NULL) {
            task->handler(task);
        }

        if (ex) {
            break;
        }

        pthread_mutex_lock(&p->done_mtx);
        task->next = NULL;
        *p->done_last = task;
        p->done_last = &task->next;
        pthread_mutex_unlock(&p->done_mtx);

        if (write(p->notify, &one, sizeof(one)) != sizeof(one)) {
            die("write eventfd");
        }
    }

    if (p->thread_exit != NULL) {
        p->thread_exit();
    }

    return NULL;
}


static void
pool_start(pool_t *p, int ep, void (*init)(void *), void (*fini)(void),
    void *arg)
{
    int                 i;
    struct epoll_event  ev;

    memset(p, 0, sizeof(pool_t));
    pthread_mutex_init(&p->mtx, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_mutex_init(&p->done_mtx, NULL);
    p->last = &p->first;
    p->done_last = &p->done;
    p->ep = ep;
    p->thread_init = init;
    p->thread_exit = fini;
    p->init_arg = arg;

    p->notify = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->notify < 0) {
        die("eventfd");
    }

    /* as nginx's epoll module: edge-triggered, data NULL marks it */
    ev.events = EPOLLIN | EPOLLET;
    ev.data.ptr = NULL;

    if (epoll_ctl(ep, EPOLL_CTL_ADD, p->notify, &ev) != 0) {
        die("epoll_ctl notify");
    }

    for (i = 0; i < THREADS; i++) {
        if (pthread_create(&p->tid[i], NULL, pool_cycle, p) != 0) {
            die("pthread_create");
        }

        p->nthreads++;
    }
}


static void
pool_stop(pool_t *p)
{
    int     i;
    task_t  ex[THREADS];

    for (i = 0; i < p->nthreads; i++) {
        memset(&ex[i], 0, sizeof(task_t));
        ex[i].exit = 1;
        pool_post(p, &ex[i]);
    }

    for (i = 0; i < p->nthreads; i++) {
        pthread_join(p->tid[i], NULL);
    }

    close(p->notify);
    pthread_mutex_destroy(&p->mtx);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->done_mtx);
}


/*
 * The loop's side of nginx's ngx_thread_pool_handler: on the eventfd's
 * wake, take the whole done list under its lock, then complete each
 * task (complete() may post it again).  Returns the tasks completed.
 */
static int
pool_wait(pool_t *p, void (*complete)(task_t *task, void *arg), void *arg)
{
    int                 i, k, n;
    task_t             *task, *next;
    struct epoll_event  evs[8];

    for ( ;; ) {
        k = epoll_wait(p->ep, evs, 8, -1);

        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }

            die("epoll_wait");
        }

        for (i = 0; i < k; i++) {
            if (evs[i].data.ptr == NULL) {
                break;
            }
        }

        if (i < k) {
            break;
        }
    }

    pthread_mutex_lock(&p->done_mtx);
    task = p->done;
    p->done = NULL;
    p->done_last = &p->done;
    pthread_mutex_unlock(&p->done_mtx);

    for (n = 0; task != NULL; task = next, n++) {
        next = task->next;
        task->active = 0;
        complete(task, arg);
    }

    return n;
}


typedef struct {
    pool_t  *pool;
    int      posted;             /* tasks posted so far this run */
    int      total;              /* to post this run */
} again_t;


static void
complete_again(task_t *task, void *arg)
{
    again_t  *a = arg;

    if (a->posted < a->total) {
        a->posted++;
        pool_post(a->pool, task);
    }
}


static void
pool_run(pool_t *p, task_t *tasks, int inflight, int total)
{
    int      i, done;
    again_t  a;

    a.pool = p;
    a.posted = 0;
    a.total = total;

    for (i = 0; i < inflight; i++) {
        a.posted++;
        pool_post(p, &tasks[i]);
    }

    for (done = 0; done < total; ) {
        done += pool_wait(p, complete_again, &a);
    }
}


/*
 * About `calls` calls one way, `inflight` waiting at once: 0 fibers, the
 * socket added and deleted for each wait, 1 fibers, the socket kept in
 * the set, 2 the pool.  Returns the calls made.
 */
static int
handoff_way(int way, int ep, int *fds, pool_t *tp, int inflight, int calls)
{
    int          i;
    task_t       tasks[INFLIGHT];
    fib_call_t   fc[INFLIGHT];

    if (way == 2) {
        memset(tasks, 0, sizeof(tasks));   /* empty tasks: no handler */
        pool_run(tp, tasks, inflight, calls);

        return calls;
    }

    for (i = 0; i < inflight; i++) {
        memset(&fc[i], 0, sizeof(fib_call_t));
        fc[i].ep = ep;
        fc[i].fd = fds[i];
        fc[i].calls = calls / inflight;
        fc[i].keep = way == 1;
    }

    fib_loop(ep, fib_handoff_fn, fc, inflight);

    return (calls / inflight) * inflight;
}


/*
 * The hand-off with `inflight` calls waiting at once: RUNS runs (after
 * one to warm up) of the three ways in turn, so that a change in the
 * machine's load falls on all three alike.
 */
static void
bench_handoff(int inflight, times_t *added, times_t *kept, times_t *pool)
{
    int          i, n, r, w, ep, pep, sv[2][INFLIGHT];
    pool_t       tp;
    clocks_t     c;

    ep = epoll_create1(EPOLL_CLOEXEC);
    pep = epoll_create1(EPOLL_CLOEXEC);

    if (ep < 0 || pep < 0) {
        die("epoll_create1");
    }

    for (i = 0; i < inflight; i++) {
        int  p[2];

        if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0) {
            die("socketpair");
        }

        /* one byte, never read: readable for good */
        if (write(p[1], "x", 1) != 1) {
            die("write");
        }

        sv[0][i] = p[0];
        sv[1][i] = p[1];
    }

    pool_start(&tp, pep, NULL, NULL, NULL);

    for (r = 0; r < RUNS; r++) {
        for (w = 0; w < 3; w++) {
            /* untimed first: the threads settle where this way puts them */
            handoff_way(w, ep, sv[0], &tp, inflight, WARM);

            clocks_start(&c);
            n = handoff_way(w, ep, sv[0], &tp, inflight, CALLS);
            clocks_stop(&c, w == 0 ? added : w == 1 ? kept : pool, r, n);
        }
    }

    pool_stop(&tp);

    for (i = 0; i < inflight; i++) {
        close(sv[0][i]);
        close(sv[1][i]);
    }

    close(ep);
    close(pep);
}


/* ---- memory per waiting call ---- */

/* resident bytes of [lo, lo + len) (page-aligned lo) */
static size_t
resident(uintptr_t lo, size_t len)
{
    size_t          i, n, page, res;
    unsigned char  *vec;

    page = (size_t) sysconf(_SC_PAGESIZE);
    n = (len + page - 1) / page;

    vec = malloc(n);
    if (vec == NULL) {
        die("malloc");
    }

    if (mincore((void *) lo, len, vec) != 0) {
        die("mincore");
    }

    res = 0;

    for (i = 0; i < n; i++) {
        res += vec[i] & 1;
    }

    free(vec);

    return res * page;
}


/* the rw mapping (/proc/self/maps) that holds addr: [*lo, *hi) */
static int
mapping_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
    char                line[512];
    FILE               *fp;
    unsigned long long  a, b;

    fp = fopen("/proc/self/maps", "r");
    if (fp == NULL) {
        return -1;
    }

    while (fgets(line, sizeof(line), fp) != NULL) {
        if (sscanf(line, "%llx-%llx", &a, &b) == 2 && addr >= a && addr < b) {
            *lo = (uintptr_t) a;
            *hi = (uintptr_t) b;
            fclose(fp);
            return 0;
        }
    }

    fclose(fp);

    return -1;
}


static size_t
rss_bytes(void)
{
    long   size, res;
    FILE  *fp;

    fp = fopen("/proc/self/statm", "r");
    if (fp == NULL || fscanf(fp, "%ld %ld", &size, &res) != 2) {
        die("/proc/self/statm");
    }

    fclose(fp);

    return (size_t) res * (size_t) sysconf(_SC_PAGESIZE);
}


/* what a store call's frames do: DEPTH bytes of stack, a buffer, wait */
typedef struct {
    void           (*wait)(void *arg);
    void            *arg;
    uintptr_t        sp;         /* a local of the first frame */
    void            *heap;
    pthread_t        self;
} waiter_t;


static void __attribute__((noinline))
deep_wait(waiter_t *w)
{
    size_t         i;
    volatile char  buf[DEPTH];

    /* every byte written: a dead store the compiler may not drop */
    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (char) i;
    }

    w->heap = malloc(4096);
    if (w->heap != NULL) {
        memset(w->heap, 1, 4096);
    }

    w->wait(w->arg);

    free(w->heap);
}


static void
fiber_waiter_fn(void *data)
{
    volatile int  top = 0;
    waiter_t     *w = data;

    w->sp = (uintptr_t) &top;
    deep_wait(w);
}


/* a fiber's resident stack, from a local of its first frame */
static size_t
fiber_resident(uintptr_t sp)
{
    uintptr_t  lo, hi;

    /* the rw part: from the guard page up ROOMS_FIBER_STACK */
    if (mapping_of(sp, &lo, &hi) != 0) {
        die("fiber's mapping");
    }

    return resident(lo, ROOMS_FIBER_STACK < hi - lo ? ROOMS_FIBER_STACK
                                                    : hi - lo);
}


/* a call that once went BIG deep (a TLS handshake, a large record) */
static void
fiber_big_fn(void *data)
{
    size_t         i;
    volatile char  buf[BIG];

    for (i = 0; i < sizeof(buf); i += 64) {
        buf[i] = (char) i;
    }
}


static void
fiber_wait_once(void *arg)
{
    rooms_fiber_yield();
}


/* threads park here, as a pool thread inside libpq's poll() would */
static pthread_mutex_t  park_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t   park_cond = PTHREAD_COND_INITIALIZER;
static int              park_open;
static int              parked;


static void
thread_park(void *arg)
{
    pthread_mutex_lock(&park_mtx);
    parked++;
    pthread_cond_broadcast(&park_cond);

    while (!park_open) {
        pthread_cond_wait(&park_cond, &park_mtx);
    }

    pthread_mutex_unlock(&park_mtx);
}


static void *
thread_waiter_fn(void *data)
{
    volatile int  top = 0;
    waiter_t     *w = data;

    w->sp = (uintptr_t) &top;
    deep_wait(w);

    return NULL;
}


static void
bench_memory(void)
{
    int              i;
    size_t           before, fib_stack, thr_stack, thr_size, page;
    size_t           fib_rss, thr_rss, spare_stack;
    void            *addr;
    waiter_t         fw[WAITERS], tw[WAITERS];
    pthread_attr_t   attr;
    rooms_fiber_t   *f[WAITERS];

    page = (size_t) sysconf(_SC_PAGESIZE);

    /* fibers (fresh stacks: this runs before any other fiber) */
    before = rss_bytes();

    for (i = 0; i < WAITERS; i++) {
        memset(&fw[i], 0, sizeof(waiter_t));
        fw[i].wait = fiber_wait_once;

        f[i] = rooms_fiber_new(fiber_waiter_fn, &fw[i]);
        if (f[i] == NULL || rooms_fiber_resume(f[i]) != 0) {
            die("fiber waiter");
        }
    }

    fib_rss = (rss_bytes() - before) / WAITERS;

    fib_stack = fiber_resident(fw[0].sp);

    for (i = 0; i < WAITERS; i++) {
        if (rooms_fiber_resume(f[i]) != 1) {
            die("fiber waiter's end");
        }
    }

    /* a spare stack keeps the pages its last fiber touched */
    f[0] = rooms_fiber_new(fiber_big_fn, NULL);
    if (f[0] == NULL || rooms_fiber_resume(f[0]) != 1) {
        die("fiber 128 KiB deep");
    }

    memset(&fw[0], 0, sizeof(waiter_t));
    fw[0].wait = fiber_wait_once;

    f[0] = rooms_fiber_new(fiber_waiter_fn, &fw[0]);
    if (f[0] == NULL || rooms_fiber_resume(f[0]) != 0) {
        die("fiber waiter");
    }

    spare_stack = fiber_resident(fw[0].sp);

    if (rooms_fiber_resume(f[0]) != 1) {
        die("fiber waiter's end");
    }

    /* pool threads, default attributes as nginx's */
    before = rss_bytes();
    park_open = 0;
    parked = 0;

    for (i = 0; i < WAITERS; i++) {
        memset(&tw[i], 0, sizeof(waiter_t));
        tw[i].wait = thread_park;

        if (pthread_create(&tw[i].self, NULL, thread_waiter_fn, &tw[i]) != 0)
        {
            die("pthread_create");
        }
    }

    pthread_mutex_lock(&park_mtx);

    while (parked < WAITERS) {
        pthread_cond_wait(&park_cond, &park_mtx);
    }

    pthread_mutex_unlock(&park_mtx);

    thr_rss = (rss_bytes() - before) / WAITERS;

    if (pthread_getattr_np(tw[0].self, &attr) != 0
        || pthread_attr_getstack(&attr, &addr, &thr_size) != 0)
    {
        die("pthread_getattr_np");
    }

    pthread_attr_destroy(&attr);
    thr_stack = resident((uintptr_t) addr, thr_size);

    pthread_mutex_lock(&park_mtx);
    park_open = 1;
    pthread_cond_broadcast(&park_cond);
    pthread_mutex_unlock(&park_mtx);

    for (i = 0; i < WAITERS; i++) {
        pthread_join(tw[i].self, NULL);
    }

    printf("memory per waiting call, below %d KiB of stack, KiB\n",
           DEPTH / 1024);
    printf("    %-28s %10s %10s %12s\n", "", "reserved", "stack RSS",
           "process RSS");
    printf("    %-28s %10zu %10zu %12zu\n", "fiber",
           (ROOMS_FIBER_STACK + page) / 1024, fib_stack / 1024,
           fib_rss / 1024);
    printf("    %-28s %10zu %10zu %12s\n", "fiber, its stack a spare",
           (ROOMS_FIBER_STACK + page) / 1024, spare_stack / 1024, "-");
    printf("    %-28s %10zu %10zu %12zu\n", "pool thread", thr_size / 1024,
           thr_stack / 1024, thr_rss / 1024);
    printf("    (process RSS: growth with %d waiting, per one; a thread's "
           "includes its malloc arena;\n     a spare: the stack of a fiber "
           "that ran %d KiB deep, taken by the next fiber)\n", WAITERS,
           BIG / 1024);
}


/* ---- PostgreSQL, end to end ---- */

#define PG_STMT    "bench_wait"
#define PG_SQL     "SELECT $1::int4 + 1"


static PGconn *
pg_open(const char *uri)
{
    PGconn    *pg;
    PGresult  *res;

    pg = PQconnectdb(uri);

    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "bench_wait: postgresql: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }

    res = PQprepare(pg, PG_STMT, PG_SQL, 1, NULL);

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "bench_wait: prepare: %s", PQerrorMessage(pg));
        PQclear(res);
        PQfinish(pg);
        return NULL;
    }

    PQclear(res);

    return pg;
}


/* 1 when res is the one row i + 1 */
static int
pg_good(PGresult *res, int i)
{
    return PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
           && atoi(PQgetvalue(res, 0, 0)) == i + 1;
}


static void
pg_param(char *buf, size_t len, int i, const char **v)
{
    snprintf(buf, len, "%d", i);
    *v = buf;
}


static void
fib_pg_fn(void *data)
{
    int          i, got;
    char         num[16];
    const char  *v;
    PGresult    *res;
    fib_call_t  *c = data;

    for (i = 0; i < c->calls; i++) {
        pg_param(num, sizeof(num), i, &v);

        if (!PQsendQueryPrepared(c->pg, PG_STMT, 1, &v, NULL, NULL, 0)) {
            c->bad++;
            return;
        }

        while (PQisBusy(c->pg)) {
            if (c->keep) {
                rooms_fiber_yield();

            } else {
                fib_wait(c->ep, PQsocket(c->pg));
            }

            if (!PQconsumeInput(c->pg)) {
                c->bad++;
                return;
            }
        }

        got = 0;

        while ((res = PQgetResult(c->pg)) != NULL) {
            got += pg_good(res, i);
            PQclear(res);
        }

        c->bad += got != 1;
    }
}


static __thread PGconn  *pg_thread_conn;
static int               pg_thread_bad;


static void
pg_thread_init(void *arg)
{
    pg_thread_conn = pg_open(arg);

    if (pg_thread_conn == NULL) {
        __atomic_add_fetch(&pg_thread_bad, 1, __ATOMIC_RELAXED);
    }
}


static void
pg_thread_exit(void)
{
    if (pg_thread_conn != NULL) {
        PQfinish(pg_thread_conn);
    }
}


typedef struct {
    task_t  task;
    int     i;
    int     bad;
} pg_task_t;


static void
pg_task_handler(task_t *task)
{
    char         num[16];
    const char  *v;
    PGresult    *res;
    pg_task_t   *t = (pg_task_t *) task;

    if (pg_thread_conn == NULL) {
        t->bad++;
        return;
    }

    pg_param(num, sizeof(num), t->i, &v);
    res = PQexecPrepared(pg_thread_conn, PG_STMT, 1, &v, NULL, NULL, 0);
    t->bad += !pg_good(res, t->i);
    PQclear(res);
}


static void
complete_pg(task_t *task, void *arg)
{
    again_t    *a = arg;
    pg_task_t  *t = (pg_task_t *) task;

    if (a->posted < a->total) {
        t->i = a->posted++;
        pool_post(a->pool, task);
    }
}


typedef struct {
    PGconn  *pg;                 /* the loop's connection */
    int      ep;                 /* the loop's epoll set */
    int      ep_kept;            /* another, pg's socket in it for good */
    pool_t  *pool;               /* its threads: a connection each */
} pg_t;


/*
 * n calls one way: 0 the loop blocks in libpq, 1 a fiber waits on epoll
 * (the socket added and deleted for each wait), 2 the same with the
 * socket kept in the set, 3 a pool thread makes the call, 4 the loop
 * itself waits in epoll_wait, no fiber (what 2 costs without the fiber's
 * switches).  One call at a time.  Returns the number of wrong answers.
 */
static int
pg_way(pg_t *x, int way, int n)
{
    int                 i, bad, done, got;
    char                num[16];
    const char         *v;
    again_t             a;
    struct epoll_event  ev;
    PGresult           *res;
    pg_task_t           task;
    fib_call_t          call;

    bad = 0;

    switch (way) {

    case 0:
        for (i = 0; i < n; i++) {
            pg_param(num, sizeof(num), i, &v);
            res = PQexecPrepared(x->pg, PG_STMT, 1, &v, NULL, NULL, 0);
            bad += !pg_good(res, i);
            PQclear(res);
        }

        break;

    case 1:
    case 2:
        memset(&call, 0, sizeof(call));
        call.ep = x->ep;
        call.pg = x->pg;
        call.fd = PQsocket(x->pg);
        call.keep = way == 2;
        call.calls = n;

        fib_loop(x->ep, fib_pg_fn, &call, 1);
        bad += call.bad;
        break;

    case 4:
        for (i = 0; i < n; i++) {
            pg_param(num, sizeof(num), i, &v);

            if (!PQsendQueryPrepared(x->pg, PG_STMT, 1, &v, NULL, NULL, 0)) {
                return n;
            }

            while (PQisBusy(x->pg)) {
                if (epoll_wait(x->ep_kept, &ev, 1, -1) < 0 && errno != EINTR)
                {
                    die("epoll_wait");
                }

                if (!PQconsumeInput(x->pg)) {
                    return n;
                }
            }

            got = 0;

            while ((res = PQgetResult(x->pg)) != NULL) {
                got += pg_good(res, i);
                PQclear(res);
            }

            bad += got != 1;
        }

        break;

    default:
        memset(&task, 0, sizeof(task));
        task.task.handler = pg_task_handler;

        a.pool = x->pool;
        a.total = n;
        a.posted = 1;
        task.i = 0;

        pool_post(x->pool, &task.task);

        for (done = 0; done < n; ) {
            done += pool_wait(x->pool, complete_pg, &a);
        }

        bad += task.bad;
    }

    return bad;
}


static int
bench_pg(const char *uri)
{
    int                 r, w, ep, pep, bad;
    long                kb;
    char                path[64], line[128], name[40], *p;
    med_t               mf, mk, mp;
    FILE               *fp;
    pg_t                x;
    PGconn             *pg;
    PGresult           *res;
    pool_t              pool;
    times_t             t[5];
    struct epoll_event  ev;
    clocks_t            c;

    pg = pg_open(uri);
    if (pg == NULL) {
        return -1;
    }

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        die("epoll_create1");
    }

    bad = 0;

    /* the pool: each thread its own connection */
    pg_thread_bad = 0;
    pep = epoll_create1(EPOLL_CLOEXEC);
    if (pep < 0) {
        die("epoll_create1");
    }

    pool_start(&pool, pep, pg_thread_init, pg_thread_exit, (void *) uri);

    x.pg = pg;
    x.ep = ep;
    x.pool = &pool;
    x.ep_kept = epoll_create1(EPOLL_CLOEXEC);

    ev.events = EPOLLIN;
    ev.data.ptr = NULL;

    if (x.ep_kept < 0
        || epoll_ctl(x.ep_kept, EPOLL_CTL_ADD, PQsocket(pg), &ev) != 0)
    {
        die("epoll");
    }

    /*
     * Run by run, the five ways in turn, so that a change of the
     * machine's load falls on all alike; each timed run after PG_WARM
     * untimed calls the same way (where the scheduler puts the threads
     * and the server's process after a change of way moves the figures
     * by half).
     */
    for (r = 0; r < RUNS; r++) {
        for (w = 0; w < 5; w++) {
            bad += pg_way(&x, w, PG_WARM);

            clocks_start(&c);
            bad += pg_way(&x, w, PG_CALLS);
            clocks_stop(&c, &t[w], r, PG_CALLS);
        }
    }

    pool_stop(&pool);
    close(pep);
    close(x.ep_kept);
    bad += pg_thread_bad;

    if (bad != 0) {
        fprintf(stderr, "bench_wait: %d wrong answers from PostgreSQL\n",
                bad);
        return -1;
    }

    snprintf(name, sizeof(name), "thread pool (%d threads)", THREADS);

    printf("one prepared SELECT of one row, end to end (PostgreSQL): median "
           "of %d runs of %d calls, ns per call\n", RUNS, PG_CALLS);
    print_head(NULL);
    mf = print_row("fiber, socket added then deleted", &t[1]);
    mk = print_row("fiber, socket kept in epoll", &t[2]);
    mp = print_row(name, &t[3]);
    (void) print_row("the loop blocks in libpq", &t[0]);
    (void) print_row("the loop waits in epoll, no fiber", &t[4]);
    print_ratio("ratio pool / fiber (added, deleted)", mp, mf);
    print_ratio("ratio pool / fiber (kept)", mp, mk);

    /* the server's memory for one connection (a pool needs one a thread) */
    res = PQexec(pg, "SELECT pg_backend_pid()");

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        snprintf(path, sizeof(path), "/proc/%s/status", PQgetvalue(res, 0, 0));
        fp = fopen(path, "r");

        if (fp == NULL) {
            printf("server side: %s not readable (the server runs elsewhere "
                   "or as another user): not measured\n", path);

        } else {
            printf("server side, one connection's backend (%s), KiB:\n",
                   path);

            while (fgets(line, sizeof(line), fp) != NULL) {
                p = strchr(line, ':');

                if (p != NULL
                    && (strncmp(line, "VmRSS:", 6) == 0
                        || strncmp(line, "RssAnon:", 8) == 0
                        || strncmp(line, "RssShmem:", 9) == 0)
                    && sscanf(p + 1, "%ld", &kb) == 1)
                {
                    *p = '\0';
                    printf("    %-36s %8ld\n", line, kb);
                }
            }

            printf("    (RssAnon is the backend's own; RssShmem, the shared "
                   "buffers it touched, is shared by all backends)\n");
            fclose(fp);
        }
    }

    PQclear(res);
    PQfinish(pg);
    close(ep);

    return 0;
}


int
main(void)
{
    int          rc;
    char         name[40];
    med_t        f1, k1, p1, fn, kn, pn;
    times_t      ta, tk, tp;
    const char  *pg;

    /* first: the fibers' stacks are fresh mappings only here */
    bench_memory();

    bench_parts();

    snprintf(name, sizeof(name), "thread pool (%d threads)", THREADS);

    printf("hand-off per store call, no database: median of %d runs of %d "
           "calls, ns per call\n", RUNS, CALLS);

    print_head("  one call waiting at a time");
    bench_handoff(1, &ta, &tk, &tp);
    f1 = print_row("fiber, socket added then deleted", &ta);
    k1 = print_row("fiber, socket kept in epoll", &tk);
    p1 = print_row(name, &tp);
    print_ratio("ratio pool / fiber (added, deleted)", p1, f1);
    print_ratio("ratio pool / fiber (kept)", p1, k1);

    print_head("  64 calls waiting at once");
    bench_handoff(INFLIGHT, &ta, &tk, &tp);
    fn = print_row("fiber, socket added then deleted", &ta);
    kn = print_row("fiber, socket kept in epoll", &tk);
    pn = print_row(name, &tp);
    print_ratio("ratio pool / fiber (added, deleted)", pn, fn);
    print_ratio("ratio pool / fiber (kept)", pn, kn);

    rc = 0;
    pg = getenv("ROOMS_BENCH_PG");

    if (pg != NULL && pg[0] != '\0') {
        rc = bench_pg(pg);

    } else {
        printf("postgresql: ROOMS_BENCH_PG not set: the end-to-end call and "
               "a connection's memory on the server not measured\n");
    }

    return rc == 0 ? 0 : 1;
}
