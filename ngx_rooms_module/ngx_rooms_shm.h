
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_shm.h: the module's small shared zones of one record
 * (ngx_rooms_shm.c), for the files that keep one (metrics, people), and
 * the zone mutexes' lock, for every file that takes one (directory,
 * people).
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_SHM_H_INCLUDED_
#define _NGX_ROOMS_SHM_H_INCLUDED_


#include "ngx_rooms.h"


/*
 * A zone's init handler's work for a zone of one zeroed record of size
 * bytes: allocated the first time, then kept (a reload passes the old
 * zone's data; a zone that outlived its cycle has it in the slab pool).
 * shm_zone->data is the record afterwards.  NGX_OK or NGX_ERROR.
 */
ngx_int_t ngx_rooms_shm_one(ngx_shm_zone_t *shm_zone, void *data,
    size_t size);

/*
 * The zone of this tag in the cycle a worker runs (not the one a
 * configuration pass made, which may have failed or dropped it), or
 * NULL.
 */
ngx_shm_zone_t *ngx_rooms_shm_find(ngx_cycle_t *cycle, void *tag);

/*
 * Every zone mutex of the module is taken and released through these
 * (never ngx_shmtx_lock() itself), which keep the count of those this
 * process holds.  The rule they make checkable: no store call (rooms_store_
 * and the rest of common/'s store) while ngx_rooms_shm_held() is not 0.
 * A store call may wait for the database (and, with the store's waits on
 * nginx's events, let this process's other handlers run meanwhile): one
 * made under a zone mutex would stall every handler that needs the zone,
 * in this process and the others.  So a handler takes the mutex only to
 * read or write shared memory, and releases it before any store call.
 * A store call that would wait under one blocks instead, and logs an
 * alert (ngx_rooms_fiber.c), which fails the suites.
 */
void ngx_rooms_shm_lock(ngx_shmtx_t *mtx);
void ngx_rooms_shm_unlock(ngx_shmtx_t *mtx);
ngx_uint_t ngx_rooms_shm_held(void);


#endif /* _NGX_ROOMS_SHM_H_INCLUDED_ */
