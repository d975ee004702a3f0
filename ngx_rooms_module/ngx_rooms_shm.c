
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_shm.c: the module's small shared zones of one record.
 *
 * Owns: making such a zone's record once and keeping it across reloads,
 * finding a zone by its tag in the running cycle, and the locking of
 * every zone's mutex in the module (ngx_rooms_shm_lock()), with the count
 * of those this process holds: no store call may be made while it is not
 * 0 (a store call that waited there would hold up every handler that
 * needs the zone; ngx_rooms_shm_held() lets the store's waits check).
 * Must never know what a record holds, nor when to lock it: its owner
 * decides.
 * May not: call json_, include jansson.h, include rooms_ring.h, include rooms_ws.h, call rooms_store_, call ngx_rooms_ws_, call ngx_rooms_dir_, call ngx_rooms_api_, call ngx_rooms_signal_, call ngx_rooms_control_, call ngx_rooms_media_
 */


#include "ngx_rooms_shm.h"


static ngx_uint_t  ngx_rooms_shm_nheld;


ngx_int_t
ngx_rooms_shm_one(ngx_shm_zone_t *shm_zone, void *data, size_t size)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    shm_zone->data = ngx_slab_calloc(shpool, size);
    if (shm_zone->data == NULL) {
        return NGX_ERROR;
    }

    shpool->data = shm_zone->data;

    return NGX_OK;
}


ngx_shm_zone_t *
ngx_rooms_shm_find(ngx_cycle_t *cycle, void *tag)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_shm_zone_t   *zone;

    part = &cycle->shared_memory.part;
    zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag == tag) {
            return &zone[i];
        }
    }
}


void
ngx_rooms_shm_lock(ngx_shmtx_t *mtx)
{
    ngx_shmtx_lock(mtx);
    ngx_rooms_shm_nheld++;
}


void
ngx_rooms_shm_unlock(ngx_shmtx_t *mtx)
{
    ngx_rooms_shm_nheld--;
    ngx_shmtx_unlock(mtx);
}


ngx_uint_t
ngx_rooms_shm_held(void)
{
    return ngx_rooms_shm_nheld;
}
