
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_policy.h: the site's rules in Lua (ngx_rooms_policy.c,
 * docs/policy.md): the rooms_policy directive, and one call per hook for
 * the files that decide (identity, the API's creation, the signaling's
 * join, the tray's people).  Every call is safe without a policy: it
 * answers as if there were no rule.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_POLICY_H_INCLUDED_
#define _NGX_ROOMS_POLICY_H_INCLUDED_


#include "ngx_rooms.h"


/* ngx_rooms_policy_can_join(): let the person in through the lobby */
#define NGX_ROOMS_POLICY_KNOCK       10

/*
 * The most ids people() and groups identify() may return: a site's
 * friends list of a thousand is long already, and each is copied into
 * the request for every tray; the rest are dropped, and logged.
 */
#define NGX_ROOMS_POLICY_LIST_MAX    1000

/* a reason shown to the person refused, in bytes (UTF-8, one line) */
#define NGX_ROOMS_POLICY_REASON_MAX  160


/* "rooms_policy path.lua;" (http block): compiled and run at "nginx -t" */
char *ngx_rooms_policy_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * identify(request): who is asking, for ngx_rooms_identity() alone;
 * given is who the location's rooms_user directives name (anonymous
 * without them), handed to the hook as request.user.  NGX_DECLINED when
 * there is no policy or no identify hook; NGX_OK with id, name (empty
 * when the hook gave none: anonymous, no name) and the groups (pushed as
 * ngx_str_t onto groups, an array the caller created) copied into
 * r->pool, unchecked: the caller checks them; NGX_ERROR when the hook
 * failed (an error, its budget, a wrong type: logged), which the caller
 * treats as anonymous.
 */
ngx_int_t ngx_rooms_policy_identify(ngx_http_request_t *r,
    ngx_rooms_user_t *given, ngx_str_t *id, ngx_str_t *name,
    ngx_array_t *groups);

/*
 * can_create(user, room): may u create this room (parsed, not stored)?
 * NGX_OK: yes (also without the hook); NGX_DECLINED: no, with *reason
 * (zero-terminated, in r->pool, never empty: the hook's or a general
 * one, also when the hook failed, which is logged).  u NULL is
 * anonymous.
 */
ngx_int_t ngx_rooms_policy_can_create(ngx_http_request_t *r,
    ngx_rooms_user_t *u, rooms_room_t *room, ngx_str_t *reason);

/*
 * can_join(user, room): may u join this room as a guest?  NGX_OK: yes
 * (also without the hook); NGX_ROOMS_POLICY_KNOCK: through the room's
 * lobby, as in a knock room; NGX_DECLINED: no, with *reason as for
 * can_create.
 */
ngx_int_t ngx_rooms_policy_can_join(ngx_http_request_t *r,
    ngx_rooms_user_t *u, rooms_room_t *room, ngx_str_t *reason);

/*
 * people(user): the site's own friends of u, a signed-in person (the
 * tray's "your people").  NGX_DECLINED when there is no policy, no
 * people hook, or u is anonymous: the caller uses its own relation
 * alone; NGX_OK with each id the hook listed (strings of 1 to
 * NGX_ROOMS_USER_ID_MAX bytes; others are skipped, at most
 * NGX_ROOMS_POLICY_LIST_MAX) pushed as ngx_str_t onto ids (an array the
 * caller created), copied into r->pool; NGX_ERROR when the hook failed
 * (logged): the caller goes on as if it listed nobody.
 */
ngx_int_t ngx_rooms_policy_people(ngx_http_request_t *r,
    ngx_rooms_user_t *u, ngx_array_t *ids);


#endif /* _NGX_ROOMS_POLICY_H_INCLUDED_ */
