
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_handles.h: the store handles of a process
 * (ngx_rooms_handles.c): the one for code that cannot wait, and those
 * lent to fibers.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_HANDLES_H_INCLUDED_
#define _NGX_ROOMS_HANDLES_H_INCLUDED_


#include "ngx_rooms.h"


/*
 * Opens the handles lent to fibers (rmcf->store, the process's own, is
 * opened before by ngx_rooms_control_init_process()).  NGX_ERROR is
 * logged (emerg).
 */
ngx_int_t ngx_rooms_handles_init_process(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf);
void ngx_rooms_handles_exit_process(void);

/*
 * The store handle the running code uses: in a fiber, the one it holds
 * (lent on its first call and kept until it ends, so that a transaction
 * and its reads stay on one connection; when all are lent it waits for
 * one); anywhere else, or in a fiber that must not wait now, the
 * process's own, whose waits block.  NULL when the store is not open.
 */
rooms_store_t *ngx_rooms_store_handle(void);


#endif /* _NGX_ROOMS_HANDLES_H_INCLUDED_ */
