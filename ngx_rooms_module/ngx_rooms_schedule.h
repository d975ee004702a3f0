
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_schedule.h: scheduled rooms (ngx_rooms_schedule.c): the
 * rooms_reminder directive, the browser token, "Remind me", the calendar
 * feed's secret, the live notices and room.starting_soon; and the
 * calendar files (ngx_rooms_ics.c).
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_SCHEDULE_H_INCLUDED_
#define _NGX_ROOMS_SCHEDULE_H_INCLUDED_


#include "ngx_rooms.h"


/* rooms_reminder: its default and bounds, in seconds */
#define NGX_ROOMS_REMINDER_DEFAULT   600
#define NGX_ROOMS_REMINDER_MAX       (7 * 86400)


/* "rooms_reminder time;" (http block), checked at "nginx -t" */
char *ngx_rooms_schedule_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Who asks, for reminders, notices and the calendar feed, as a SHA-256 in
 * hash: a signed-in person (ngx_rooms_identity()) by their id, on any
 * browser; otherwise the browser token of the "rooms_browser" cookie.
 * NGX_OK; NGX_DECLINED when there is no token (or not one of a token's
 * shape) and mint is 0; with mint, a new one is made and set in the
 * answer's cookie.  NGX_ERROR: the random source or memory failed.
 */
ngx_int_t ngx_rooms_schedule_browser(ngx_http_request_t *r, ngx_uint_t mint,
    u_char *hash);

/* A room was created: a scheduled one goes into its creator's feed. */
void ngx_rooms_schedule_created(ngx_http_request_t *r, rooms_room_t *room);

/*
 * The endpoints, for the router (method checked, body discarded):
 * api/rooms/<code>/reminders (GET, HEAD, POST, DELETE), api/calendar
 * (POST, DELETE), api/notices (GET: server-sent events).
 */
ngx_int_t ngx_rooms_schedule_reminders(ngx_http_request_t *r, u_char *code);
ngx_int_t ngx_rooms_schedule_calendar(ngx_http_request_t *r);
ngx_int_t ngx_rooms_schedule_notices(ngx_http_request_t *r);

/*
 * A page's own live socket (the tray's, on `/`) in place of api/notices:
 * each reminder due to the browser of r (as api/notices knows it; never a
 * new token) is given to send() once per room while r lives, as the JSON
 * of an api/notices event, {"code","title","start_at","path"}.  send()
 * returns NGX_OK (told), or anything else to be given it again at the
 * next tick.  NGX_OK: watching until r's pool goes; NGX_DECLINED: no
 * browser token (nothing to tell) or no store; NGX_ERROR.
 */
typedef ngx_int_t (*ngx_rooms_notice_pt)(void *data, u_char *json,
    size_t len);

ngx_int_t ngx_rooms_schedule_watch(ngx_http_request_t *r,
    ngx_rooms_notice_pt send, void *data);

/*
 * The calendar files (ngx_rooms_ics.c): r/<code>/event.ics of a room the
 * router found, and calendar/<secret>.ics (secret: ROOMS_HOST_KEY_LEN
 * bytes of the token alphabet, checked by the router).
 */
ngx_int_t ngx_rooms_ics_event(ngx_http_request_t *r, rooms_room_t *room);
ngx_int_t ngx_rooms_ics_feed(ngx_http_request_t *r, u_char *secret);

/* Worker start and exit: the notices' and room.starting_soon's clock. */
void ngx_rooms_schedule_init_process(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf);
void ngx_rooms_schedule_exit_process(void);


#endif /* _NGX_ROOMS_SCHEDULE_H_INCLUDED_ */
