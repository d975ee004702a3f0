
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_deferred.h: the store writes a locked store refused and
 * nobody can be asked to repeat (ngx_rooms_deferred.c), for the control
 * file, which makes them.
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_DEFERRED_H_INCLUDED_
#define _NGX_ROOMS_DEFERRED_H_INCLUDED_


#include "ngx_rooms.h"
#include "ngx_rooms_webhook.h"


/* how often the kept writes are tried again, in ms */
#define NGX_ROOMS_RETRY_EVERY   1000

#define NGX_ROOMS_DEFER_BAN     1       /* a BAN record's ban */
#define NGX_ROOMS_DEFER_DEMOTE  2       /* a co-host made a guest again */
#define NGX_ROOMS_DEFER_ABSENT  3       /* a HOST_ABSENT record's policy */
#define NGX_ROOMS_DEFER_EVENT   4       /* a webhook event for the outbox */


typedef struct {
    ngx_uint_t                   kind;           /* NGX_ROOMS_DEFER_* */
    int64_t                      room_id;
    int64_t                      time;           /* DEMOTE: when */
    u_char                       token_hash[ROOMS_HASH_LEN]; /* BAN, DEMOTE */
    ngx_uint_t                   end;            /* ABSENT: policy end */
    char                         code[ROOMS_CODE_LEN + 1];   /* ABSENT */
    size_t                       event_len;      /* EVENT: its body */
    u_char                       event[NGX_ROOMS_WEBHOOK_BODY_MAX];
} ngx_rooms_deferred_t;


/*
 * Makes one deferred write: NGX_ROOMS_BUSY (the store is still locked:
 * it stays, and so do the ones after it), NGX_OK (stored), or NGX_ERROR
 * (failed otherwise, logged by it: dropped).
 */
typedef ngx_int_t (*ngx_rooms_deferred_pt)(ngx_rooms_deferred_t *d);


/* At a worker's start: write makes the writes; none are kept yet. */
void ngx_rooms_deferred_init_process(ngx_cycle_t *cycle,
    ngx_rooms_deferred_pt write);

/*
 * Keeps a copy of d, to be written every NGX_ROOMS_RETRY_EVERY until
 * stored, oldest first.  At most 64 are kept: one more
 * is logged as lost.
 */
void ngx_rooms_deferred_add(ngx_rooms_deferred_t *d);

/* 1 when a ban of token_hash from room_id is kept here, not stored yet. */
ngx_uint_t ngx_rooms_deferred_banned(int64_t room_id, u_char *token_hash);

/* How many webhook events are kept here: a new one goes after them. */
ngx_uint_t ngx_rooms_deferred_events(void);

/* At a worker's exit: a last try; what is left is logged as lost. */
void ngx_rooms_deferred_exit_process(void);


#endif /* _NGX_ROOMS_DEFERRED_H_INCLUDED_ */
