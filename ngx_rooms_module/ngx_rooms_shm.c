
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_shm.c: the module's small shared zones of one record.
 *
 * Owns: making such a zone's record once and keeping it across reloads,
 * and finding a zone by its tag in the running cycle.
 * Must never know what a record holds, nor lock it: its owner does.
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
