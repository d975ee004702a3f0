
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_webhook.h: webhooks (ngx_rooms_webhook.c): the rooms_webhook
 * directive, the events' bodies for the control file (which stores them
 * in the outbox), and the sender's start and end for the module.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_WEBHOOK_H_INCLUDED_
#define _NGX_ROOMS_WEBHOOK_H_INCLUDED_


#include "ngx_rooms.h"


/*
 * An event's body: an id, a type, a time, the room, perhaps a
 * participant (an escaped name of ROOMS_NAME_MAX_BYTES may grow sixfold).
 */
#define NGX_ROOMS_WEBHOOK_BODY_MAX   (2 * 1024)

/* the outbox's bound: past it the oldest events go, counted and logged */
#define NGX_ROOMS_WEBHOOK_OUTBOX_MAX 10000


typedef enum {
    NGX_ROOMS_EVENT_ROOM_CREATED = 0,
    NGX_ROOMS_EVENT_ROOM_OPENED,            /* its first person came in */
    NGX_ROOMS_EVENT_ROOM_ENDED,
    NGX_ROOMS_EVENT_JOINED,
    NGX_ROOMS_EVENT_LEFT,
    NGX_ROOMS_EVENT_STARTING_SOON           /* rooms_reminder before start */
} ngx_rooms_event_e;


/* who an event's participant is (JOINED, LEFT) */
typedef struct {
    int64_t                      id;             /* the media worker's */
    ngx_str_t                    name;
    const char                  *role;           /* host, cohost, guest */
} ngx_rooms_event_who_t;


/* "rooms_webhook URL secret;" (http block), checked at "nginx -t" */
char *ngx_rooms_webhook_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Writes the JSON body of one event into buf (NGX_ROOMS_WEBHOOK_BODY_MAX
 * bytes) with a fresh random id and the time now; who is NULL for a room
 * event.  Returns its length, or 0 (the random source failed; logged).
 */
size_t ngx_rooms_webhook_body(u_char *buf, ngx_rooms_event_e type,
    int64_t room_id, const u_char *code, ngx_rooms_event_who_t *who);

/*
 * room.starting_soon's body: ngx_rooms_webhook_body()'s, with the room's
 * "start_at" (RFC 3339) in its room object.  Its length, or 0.
 */
size_t ngx_rooms_webhook_body_soon(u_char *buf, int64_t room_id,
    const u_char *code, int64_t start_at);

/*
 * At a worker's start, after the store handle is open: nginx worker 0
 * (the one sender, so no other worker sends the same event) starts
 * delivering the outbox; the others do nothing.
 */
void ngx_rooms_webhook_init_process(ngx_cycle_t *cycle,
    ngx_rooms_main_conf_t *rmcf);

/* At a worker's exit: a request under way is abandoned (sent again later). */
void ngx_rooms_webhook_exit_process(void);


#endif /* _NGX_ROOMS_WEBHOOK_H_INCLUDED_ */
