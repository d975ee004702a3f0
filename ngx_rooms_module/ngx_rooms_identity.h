
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_identity.h: who is asking (ngx_rooms_identity.c), for every
 * file that serves a request: the signed-in person the admin's
 * rooms_user, rooms_user_name and rooms_user_groups (or the rooms_policy
 * identify() hook) name, or an anonymous browser.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_IDENTITY_H_INCLUDED_
#define _NGX_ROOMS_IDENTITY_H_INCLUDED_


#include "ngx_rooms.h"


/*
 * A user id is what the admin's sign-in calls the person (a login, an
 * e-mail address, an OpenID "sub"): printable ASCII without spaces, at
 * most 128 bytes, which every such scheme fits; a longer or stranger
 * value is taken for a misconfiguration, logged, and the request is
 * anonymous.
 */
#define NGX_ROOMS_USER_ID_MAX       128

/*
 * Groups a person is in: each a room's "group:<id>" (1 to
 * ROOMS_GROUP_ID_MAX of A-Z a-z 0-9 . _ -).  32 is more than any person
 * is shown rooms for, and bounds what each listing compares per person;
 * the rest are dropped, and logged.
 */
#define NGX_ROOMS_USER_GROUPS_MAX   32


/*
 * Who is asking in request r (any request of a "rooms" location, the
 * WebSocket's too, whose request lives as long as it).  Never NULL but
 * when memory runs out: an anonymous user (id.len == 0, no name, groups
 * NULL) without configuration, or when the sign-in gave nothing usable.
 * Computed once per request and kept with it (the same pointer on every
 * call); allocated from r->pool.  The strings are checked: the id as
 * above, the name as a display name (1 to 64 characters of one line of
 * printable UTF-8, or empty), each group as a group id.
 */
ngx_rooms_user_t *ngx_rooms_identity(ngx_http_request_t *r);

/*
 * At preconfiguration: the variables $rooms_user_id, $rooms_user_name
 * and $rooms_user_groups (comma-separated), who is asking as the module
 * sees it, for log_format and for headers sent to an upstream.
 */
ngx_int_t ngx_rooms_identity_add_variables(ngx_conf_t *cf);


#endif /* _NGX_ROOMS_IDENTITY_H_INCLUDED_ */
