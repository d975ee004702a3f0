
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_shm.h: the module's small shared zones of one record
 * (ngx_rooms_shm.c), for the files that keep one (metrics, people).
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
 * A shared zone's mutex, taken and given back, with the count of those
 * this process holds: a store call must never wait while it holds one
 * (ngx_rooms_fiber.c).
 */
void ngx_rooms_shm_lock(ngx_shmtx_t *mtx);
void ngx_rooms_shm_unlock(ngx_shmtx_t *mtx);
ngx_uint_t ngx_rooms_shm_held(void);


#endif /* _NGX_ROOMS_SHM_H_INCLUDED_ */
