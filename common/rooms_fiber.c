/*
 * rooms_fiber.c: fibers on ucontext (rooms_fiber.h says what they are for).
 *
 * Owns: the mapping of each fiber (a guard page, the stack, the fiber's
 * record at its top), the spare mappings, the switches, and "current".
 * Must never resume a fiber from inside another (one level: the thread's
 * stack and one fiber at a time), never free a mapping a fiber runs on.
 *
 * May not: include <ngx_core.h>, include <jansson.h>, call json_, call rooms_store_, call rooms_db_
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "rooms_fiber.h"


#if defined(__SANITIZE_ADDRESS__)
#define ROOMS_FIBER_ASAN  1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ROOMS_FIBER_ASAN  1
#endif
#endif

#if (ROOMS_FIBER_ASAN)
/* AddressSanitizer must know which stack runs, or it reports nonsense */
void __sanitizer_start_switch_fiber(void **fake_stack_save,
    const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
    const void **bottom_old, size_t *size_old);
#endif


struct rooms_fiber_s {
    ucontext_t        ctx;           /* the fiber's, while suspended */
    ucontext_t        back;          /* the resumer's, while it runs */
    rooms_fiber_fn    fn;
    void             *data;
    void             *user;
    char             *map;           /* guard page, stack, this record */
    char             *stack;
    size_t            stack_size;
    rooms_fiber_t    *next;          /* among the spares */
    unsigned          done:1;
#if (ROOMS_FIBER_ASAN)
    void             *fake;          /* the fiber's fake stack, suspended */
    const void       *back_bottom;   /* the resumer's stack */
    size_t            back_size;
#endif
};


static rooms_fiber_t  *rooms_fiber_now;
static rooms_fiber_t  *rooms_fiber_spares;
static unsigned        rooms_fiber_nalive;
static unsigned        rooms_fiber_nspare;


static void rooms_fiber_start(void);
static void rooms_fiber_unmap(rooms_fiber_t *f);


static size_t
rooms_fiber_map_size(void)
{
    return (size_t) sysconf(_SC_PAGESIZE) + ROOMS_FIBER_STACK;
}


rooms_fiber_t *
rooms_fiber_new(rooms_fiber_fn fn, void *data)
{
    char           *map;
    size_t          page, len;
    rooms_fiber_t  *f;

    if (rooms_fiber_nalive >= ROOMS_FIBER_MAX) {
        return NULL;
    }

    if (rooms_fiber_spares != NULL) {
        f = rooms_fiber_spares;
        rooms_fiber_spares = f->next;
        rooms_fiber_nspare--;

    } else {
        page = (size_t) sysconf(_SC_PAGESIZE);
        len = rooms_fiber_map_size();

        map = mmap(NULL, len, PROT_READ|PROT_WRITE,
                   MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0);
        if (map == MAP_FAILED) {
            return NULL;
        }

        if (mprotect(map, page, PROT_NONE) != 0) {
            (void) munmap(map, len);
            return NULL;
        }

        /* the record at the top; the stack grows down from below it */
        f = (rooms_fiber_t *) (map + len - sizeof(rooms_fiber_t));
        f = (rooms_fiber_t *) ((uintptr_t) f & ~(uintptr_t) 63);
        memset(f, 0, sizeof(rooms_fiber_t));
        f->map = map;
        f->stack = map + page;
        f->stack_size = (size_t) ((char *) f - f->stack) & ~(size_t) 15;
    }

    if (getcontext(&f->ctx) != 0) {
        f->next = rooms_fiber_spares;
        rooms_fiber_spares = f;
        rooms_fiber_nspare++;
        return NULL;
    }

    f->ctx.uc_stack.ss_sp = f->stack;
    f->ctx.uc_stack.ss_size = f->stack_size;
    f->ctx.uc_link = NULL;
    makecontext(&f->ctx, rooms_fiber_start, 0);

    f->fn = fn;
    f->data = data;
    f->user = NULL;
    f->next = NULL;
    f->done = 0;

    rooms_fiber_nalive++;

    return f;
}


/* the first frame of every fiber: fn, then back for good */
static void
rooms_fiber_start(void)
{
    rooms_fiber_t  *f;

    f = rooms_fiber_now;

#if (ROOMS_FIBER_ASAN)
    __sanitizer_finish_switch_fiber(NULL, &f->back_bottom, &f->back_size);
#endif

    f->fn(f->data);

    f->done = 1;

#if (ROOMS_FIBER_ASAN)
    /* NULL: this stack is left for good, its fake frames may go */
    __sanitizer_start_switch_fiber(NULL, f->back_bottom, f->back_size);
#endif

    (void) setcontext(&f->back);
}


int
rooms_fiber_resume(rooms_fiber_t *f)
{
#if (ROOMS_FIBER_ASAN)
    void  *fake = NULL;

    __sanitizer_start_switch_fiber(&fake, f->stack, f->stack_size);
#endif

    rooms_fiber_now = f;

    (void) swapcontext(&f->back, &f->ctx);

    rooms_fiber_now = NULL;

#if (ROOMS_FIBER_ASAN)
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif

    if (!f->done) {
        return 0;
    }

    rooms_fiber_nalive--;

    if (rooms_fiber_nspare < ROOMS_FIBER_SPARE) {
        f->next = rooms_fiber_spares;
        rooms_fiber_spares = f;
        rooms_fiber_nspare++;

    } else {
        rooms_fiber_unmap(f);
    }

    return 1;
}


void
rooms_fiber_yield(void)
{
    rooms_fiber_t  *f;

    f = rooms_fiber_now;

#if (ROOMS_FIBER_ASAN)
    __sanitizer_start_switch_fiber(&f->fake, f->back_bottom, f->back_size);
#endif

    (void) swapcontext(&f->ctx, &f->back);

#if (ROOMS_FIBER_ASAN)
    __sanitizer_finish_switch_fiber(f->fake, &f->back_bottom, &f->back_size);
#endif
}


rooms_fiber_t *
rooms_fiber_current(void)
{
    return rooms_fiber_now;
}


void
rooms_fiber_set_user(rooms_fiber_t *f, void *user)
{
    f->user = user;
}


void *
rooms_fiber_user(rooms_fiber_t *f)
{
    return f->user;
}


unsigned
rooms_fiber_alive(void)
{
    return rooms_fiber_nalive;
}


unsigned
rooms_fiber_spare(void)
{
    return rooms_fiber_nspare;
}


static void
rooms_fiber_unmap(rooms_fiber_t *f)
{
    (void) munmap(f->map, rooms_fiber_map_size());
}
