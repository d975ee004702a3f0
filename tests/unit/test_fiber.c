/*
 * test_fiber.c: the contract of common/rooms_fiber.h.
 *
 * Covers: current() is NULL on the thread's own stack and the fiber
 * itself inside it (also after a yield); a fiber that never yields runs
 * to its end in one resume (1), fn given its data; a fiber that yields
 * five times comes back 0 five times then 1, its locals (an array and a
 * pointer into it) intact across each switch; two fibers interleaved
 * keep their own locals; the user word kept, readable from inside;
 * alive() counts fibers made and not returned; ROOMS_FIBER_MAX alive at
 * once and not one more (new() is NULL, nothing else changes), a slot
 * freed by a fiber's end is usable again, every one of the MAX runs to
 * its end, and then exactly ROOMS_FIBER_SPARE stacks are kept (the rest
 * unmapped); a spare stack reused by the next new() (the count drops by
 * one, the new fiber's locals at the same addresses); a fiber that fills
 * 128 KiB of its stack, yields, and finds it intact; a fiber that runs
 * past the end of its stack is stopped by the guard page (in a child
 * process, with writable memory placed right below the guard page, so
 * that without it the overflow would be a silent write).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "rooms_fiber.h"
#include "tap.h"


#define YIELDS    5
#define BIG       (128 * 1024)


/* ---- a fiber that never yields ---- */

typedef struct {
    int             ran;
    rooms_fiber_t  *current;
    void           *user;
} once_t;


static void
once_fn(void *data)
{
    once_t  *o = data;

    o->ran++;
    o->current = rooms_fiber_current();
    o->user = o->current ? rooms_fiber_user(o->current) : NULL;
}


static void
test_once(void)
{
    int             rc;
    once_t          o;
    unsigned        alive;
    rooms_fiber_t  *f;

    ok(rooms_fiber_current() == NULL, "current() is NULL outside a fiber");

    memset(&o, 0, sizeof(o));
    alive = rooms_fiber_alive();

    f = rooms_fiber_new(once_fn, &o);
    if (f == NULL) {
        tap_bail_out("rooms_fiber_new failed");
    }

    is_int(o.ran, 0, "new() does not start the fiber");
    is_int(rooms_fiber_alive(), alive + 1, "alive() counts a fiber not "
           "started yet");

    rooms_fiber_set_user(f, &rc);
    ok(rooms_fiber_user(f) == &rc, "user() gives back what set_user() kept");

    rc = rooms_fiber_resume(f);

    is_int(rc, 1, "a fiber that never yields: resume() returns 1");
    is_int(o.ran, 1, "fn ran once, with its data");
    ok(o.current == f, "current() inside is the fiber");
    ok(o.user == &rc, "the user word is readable from inside");
    ok(rooms_fiber_current() == NULL, "current() is NULL again after it");
    is_int(rooms_fiber_alive(), alive, "alive() drops when fn returns");
}


/* ---- yields, locals, two at once ---- */

typedef struct {
    int             id;
    int             step;          /* how far fn got, written by fn */
    int             sum;           /* fn's locals, as fn saw them */
    int             current_ok;
    int             user_ok;
    rooms_fiber_t  *self;
} yields_t;


static void
yields_fn(void *data)
{
    int        i, k, sum, local[64], *p;
    yields_t  *y = data;

    /* locals that depend on this fiber only */
    for (k = 0; k < 64; k++) {
        local[k] = y->id * 1000 + k;
    }

    p = &local[17];

    for (i = 0; i < YIELDS; i++) {
        y->step = i + 1;
        rooms_fiber_yield();

        sum = 0;

        /* round i: each local is id * 1000 + k + i (see below) */
        for (k = 0; k < 64; k++) {
            sum += local[k] != y->id * 1000 + k + i;
        }

        /* 0 when every local is as fn left it, and p still points there */
        y->sum += sum + (*p != y->id * 1000 + 17 + i)
                  + (p != &local[17]);

        y->current_ok += rooms_fiber_current() == y->self;
        y->user_ok += rooms_fiber_user(rooms_fiber_current()) == y;

        /* change them, for the next round to see */
        for (k = 0; k < 64; k++) {
            local[k]++;
        }
    }

    y->step = YIELDS + 1;
}


static void
test_yields(void)
{
    int             i, rc, zeros, steps_ok, other_ok;
    yields_t        a, b;
    rooms_fiber_t  *fa, *fb;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.id = 1;
    b.id = 7;

    fa = rooms_fiber_new(yields_fn, &a);
    fb = rooms_fiber_new(yields_fn, &b);

    if (fa == NULL || fb == NULL) {
        tap_bail_out("rooms_fiber_new failed");
    }

    a.self = fa;
    b.self = fb;
    rooms_fiber_set_user(fa, &a);
    rooms_fiber_set_user(fb, &b);

    zeros = 0;
    steps_ok = 0;
    other_ok = 0;

    /* interleaved: a, b, a, b, ... each switch in the other's middle */
    for (i = 0; i < YIELDS; i++) {
        rc = rooms_fiber_resume(fa);
        zeros += rc == 0;
        steps_ok += a.step == i + 1;
        other_ok += b.step == i;

        rc = rooms_fiber_resume(fb);
        zeros += rc == 0;
        steps_ok += b.step == i + 1;
        other_ok += a.step == i + 1;

        if (rooms_fiber_current() != NULL) {
            break;
        }
    }

    is_int(zeros, 2 * YIELDS, "resume() returns 0 each time a fiber yields");
    is_int(steps_ok, 2 * YIELDS, "each resume() runs its fiber up to its "
           "next yield");
    is_int(other_ok, 2 * YIELDS, "resuming one fiber never runs the other");
    ok(rooms_fiber_current() == NULL, "current() is NULL after a yield");

    is_int(rooms_fiber_resume(fa), 1, "a: the last resume() returns 1");
    is_int(rooms_fiber_resume(fb), 1, "b: the last resume() returns 1");
    is_int(a.step, YIELDS + 1, "a ran to its end");
    is_int(b.step, YIELDS + 1, "b ran to its end");
    is_int(a.sum, 0, "a's locals intact across %d yields", YIELDS);
    is_int(b.sum, 0, "b's locals intact across %d yields", YIELDS);
    is_int(a.current_ok + b.current_ok, 2 * YIELDS,
           "current() is the fiber itself after each yield");
    is_int(a.user_ok + b.user_ok, 2 * YIELDS,
           "the user word kept across yields");
}


/* ---- the bound, and the spares ---- */

static int  nended;


static void
end_fn(void *data)
{
    nended++;
}


static void
test_max(void)
{
    int              rc, ones;
    unsigned         i, n, base;
    rooms_fiber_t  **all, *f;

    base = rooms_fiber_alive();

    all = calloc(ROOMS_FIBER_MAX, sizeof(rooms_fiber_t *));
    if (all == NULL) {
        tap_bail_out("calloc failed");
    }

    for (n = 0; base + n < ROOMS_FIBER_MAX; n++) {
        all[n] = rooms_fiber_new(end_fn, NULL);

        if (all[n] == NULL) {
            break;
        }
    }

    is_int(base + n, ROOMS_FIBER_MAX, "ROOMS_FIBER_MAX (%d) fibers alive at "
           "once", ROOMS_FIBER_MAX);
    is_int(rooms_fiber_alive(), ROOMS_FIBER_MAX, "alive() counts them all");

    f = rooms_fiber_new(end_fn, NULL);
    ok(f == NULL, "one more: new() returns NULL");
    is_int(rooms_fiber_alive(), ROOMS_FIBER_MAX, "and alive() is unchanged");

    if (f != NULL) {
        /* a broken bound: run it, not to leak it */
        (void) rooms_fiber_resume(f);
    }

    if (n == 0) {
        tap_bail_out("no fiber could be made");
    }

    /* one ends: its slot can be taken again */
    nended = 0;
    rc = rooms_fiber_resume(all[n - 1]);
    is_int(rc, 1, "one of them runs to its end");

    all[n - 1] = rooms_fiber_new(end_fn, NULL);
    ok(all[n - 1] != NULL, "its slot is free again: new() succeeds");

    if (all[n - 1] == NULL) {
        n--;
    }

    ones = 0;

    for (i = 0; i < n; i++) {
        ones += rooms_fiber_resume(all[i]) == 1;
    }

    is_int(ones, n, "every one of them runs to its end");
    is_int(nended, n + 1, "each fn ran once");
    is_int(rooms_fiber_alive(), base, "alive() is back where it was");
    is_int(rooms_fiber_spare(), ROOMS_FIBER_SPARE, "ROOMS_FIBER_SPARE stacks "
           "kept, the others unmapped");

    free(all);
}


typedef struct {
    uintptr_t  local;
} where_t;


static void
where_fn(void *data)
{
    volatile int  x = 1;
    where_t      *w = data;

    w->local = (uintptr_t) &x;
}


static void
test_spare(void)
{
    unsigned        spare;
    where_t         w1, w2;
    rooms_fiber_t  *f;

    memset(&w1, 0, sizeof(w1));
    memset(&w2, 0, sizeof(w2));

    /* test_max left spares: the last one kept is the first reused */
    spare = rooms_fiber_spare();
    ok(spare > 0, "spare stacks kept after fibers ended (%u)", spare);

    f = rooms_fiber_new(where_fn, &w1);
    if (f == NULL) {
        tap_bail_out("rooms_fiber_new failed");
    }

    is_int(rooms_fiber_spare(), spare - 1, "new() takes a spare stack");
    is_int(rooms_fiber_resume(f), 1, "it runs");
    is_int(rooms_fiber_spare(), spare, "and gives it back at its end");

    f = rooms_fiber_new(where_fn, &w2);
    if (f == NULL) {
        tap_bail_out("rooms_fiber_new failed");
    }

    (void) rooms_fiber_resume(f);

    ok(w1.local != 0 && w1.local == w2.local,
       "the next fiber runs on the same stack (a local at %#lx, then %#lx)",
       (unsigned long) w1.local, (unsigned long) w2.local);
}


/* ---- a deep stack ---- */

typedef struct {
    int       filled;
    int       intact;
    uint32_t  sum;
} big_t;


static uint32_t
big_sum(volatile uint8_t *p, size_t n)
{
    size_t    i;
    uint32_t  s;

    s = 0;

    for (i = 0; i < n; i++) {
        s = s * 31 + p[i];
    }

    return s;
}


static void
big_fn(void *data)
{
    size_t             i;
    big_t             *b = data;
    volatile uint8_t   buf[BIG];

    for (i = 0; i < BIG; i++) {
        buf[i] = (uint8_t) (i * 7 + (i >> 9));
    }

    b->sum = big_sum(buf, BIG);
    b->filled = 1;

    rooms_fiber_yield();

    b->intact = big_sum(buf, BIG) == b->sum && buf[0] == 0
                && buf[BIG - 1] == (uint8_t) ((BIG - 1) * 7 + ((BIG - 1) >> 9));
}


static void
test_big(void)
{
    big_t           b;
    rooms_fiber_t  *f;

    memset(&b, 0, sizeof(b));

    f = rooms_fiber_new(big_fn, &b);
    if (f == NULL) {
        tap_bail_out("rooms_fiber_new failed");
    }

    is_int(rooms_fiber_resume(f), 0, "a fiber with 128 KiB on its stack "
           "yields");
    is_int(b.filled, 1, "after filling it");
    is_int(rooms_fiber_resume(f), 1, "and runs to its end");
    is_int(b.intact, 1, "its 128 KiB intact across the yield");
}


/* ---- the guard page ---- */

#define OVER      (ROOMS_FIBER_STACK + 8 * 1024)


static void
probe_fn(void *data)
{
    volatile int  x = 0;

    *(uintptr_t *) data = (uintptr_t) &x;
}


static void
overflow_fn(void *data)
{
    size_t         i;
    volatile char  buf[OVER];

    /* from the top down, as a stack grows: the guard page is met first */
    for (i = OVER; i > 0; i -= 512) {
        buf[i - 1] = 1;
    }

    buf[0] = 1;

    /* read back: the writes are not dead */
    *(char *) data = buf[0];
}


/* the mapping (/proc/self/maps) that holds addr: 1, its bounds, perms */
static int
maps_at(uintptr_t addr, uintptr_t *lo, uintptr_t *hi, char *perms)
{
    int                 found;
    char                line[256];
    FILE               *fp;
    unsigned long long  a, b;

    found = 0;
    fp = fopen("/proc/self/maps", "r");

    while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
        if (sscanf(line, "%llx-%llx %7s", &a, &b, perms) == 3
            && addr >= a && addr < b)
        {
            *lo = (uintptr_t) a;
            *hi = (uintptr_t) b;
            found = 1;
            break;
        }
    }

    if (fp != NULL) {
        fclose(fp);
    }

    return found;
}


/*
 * In a child: where a fresh fiber's mapping starts (the guard page, or
 * with none, the stack's lowest page), writable memory mapped right
 * below it, then a fiber on that same stack (the spare) writes past its
 * end.  Exits 0 when it survived (the overflow wrote below the stack), 3
 * when the memory below could not be placed.
 */
static void
overflow_child(void)
{
    int             fd;
    char            c, perms[8];
    size_t          page;
    uintptr_t       sp, lo, hi, glo, ghi, below;
    rooms_fiber_t  *f;

    /* the crash report (ASan's) is not this test's output */
    fd = open("/dev/null", O_WRONLY);
    if (fd >= 0) {
        (void) dup2(fd, 2);
    }

    page = (size_t) sysconf(_SC_PAGESIZE);

    f = rooms_fiber_new(probe_fn, &sp);
    if (f == NULL || rooms_fiber_resume(f) != 1) {
        _exit(3);
    }

    if (!maps_at(sp, &lo, &hi, perms)) {
        _exit(3);
    }

    /* the guard page: an inaccessible page right below the stack */
    if (maps_at(lo - 1, &glo, &ghi, perms) && perms[0] == '-'
        && perms[1] == '-')
    {
        lo -= page;
    }

    /* 64 KiB below that, or writable memory there already (ASan's) */
    below = lo - 64 * 1024;

    if (mmap((void *) below, 64 * 1024, PROT_READ|PROT_WRITE,
             MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0)
        != (void *) below
        && !(maps_at(lo - 16 * 1024, &glo, &ghi, perms) && ghi >= lo
             && perms[1] == 'w'))
    {
        _exit(3);
    }

    f = rooms_fiber_new(overflow_fn, &c);
    if (f == NULL) {
        _exit(3);
    }

    (void) rooms_fiber_resume(f);

    _exit(0);
}


static void
test_guard(void)
{
    int    status;
    pid_t  pid;

    fflush(stdout);
    fflush(stderr);

    pid = fork();
    if (pid < 0) {
        tap_bail_out("fork failed");
    }

    if (pid == 0) {
        overflow_child();
    }

    if (waitpid(pid, &status, 0) != pid) {
        tap_bail_out("waitpid failed");
    }

    if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
        diag("the memory below the guard page could not be placed: the "
             "check below holds without it too");
    }

    ok(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
       "writing past a fiber's stack stops at its guard page (%s %d)",
       WIFSIGNALED(status) ? "signal" : "exit",
       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}


int
main(void)
{
    /* first: in a child whose fibers are all fresh mappings */
    test_guard();
    test_once();
    test_yields();
    test_max();
    test_spare();
    test_big();

    return done_testing();
}
