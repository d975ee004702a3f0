
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_turn.h: TURN servers for the browsers (ngx_rooms_turn.c): the
 * rooms_turn, rooms_turn_secret and rooms_turn_ttl directives, their
 * check, and the welcome's ice_servers.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_TURN_H_INCLUDED_
#define _NGX_ROOMS_TURN_H_INCLUDED_


#include "ngx_rooms.h"


/* jansson's object (the caller includes jansson.h; this header may not) */
struct json_t;


char *ngx_rooms_turn_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_rooms_turn_secret_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_rooms_turn_ttl_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * At postconfiguration: URLs and a secret come together, and the
 * lifetime gets its default.  NGX_OK, or NGX_ERROR with the reason logged.
 */
ngx_int_t ngx_rooms_turn_init(ngx_conf_t *cf, ngx_rooms_main_conf_t *rmcf);

/*
 * Adds "ice_servers" to a welcome (msg, a JSON object) for the
 * participant its "id" names: the configured URLs with a credential
 * minted now, valid for rooms_turn_ttl.  Nothing is added when no TURN
 * server is configured.  NGX_OK, or NGX_ERROR (msg unchanged: no id, or
 * out of memory).  The secret never leaves this file; the password only
 * in msg.
 */
ngx_int_t ngx_rooms_turn_welcome(ngx_rooms_main_conf_t *rmcf,
    struct json_t *msg);


#endif /* _NGX_ROOMS_TURN_H_INCLUDED_ */
