
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_metrics.h: the module's counters for Prometheus
 * (ngx_rooms_metrics.c), for the files that count (signaling, WebSocket,
 * media link, control) and the one that serves them (the rooms_metrics
 * directive's content handler).
 *
 * May not: include jansson.h, include rooms_ring.h, include rooms_ws.h
 */


#ifndef _NGX_ROOMS_METRICS_H_INCLUDED_
#define _NGX_ROOMS_METRICS_H_INCLUDED_


#include "ngx_rooms.h"


/* what the other files count; labelled families have their own calls */
typedef enum {
    NGX_ROOMS_M_WS_CONNECTIONS = 0,      /* gauge: open WebSockets */
    NGX_ROOMS_M_LOBBY_WAITING,           /* gauge: guests told "waiting" */
    NGX_ROOMS_M_JOINS,                   /* welcomes sent */
    NGX_ROOMS_M_STORE_ERRORS,            /* store calls that failed */
    NGX_ROOMS_M_RING_FULL,               /* pushes refused: ring full */
    NGX_ROOMS_M_RING_ERROR,              /* pushes refused: other */
    NGX_ROOMS_M_LINK_RECONNECTS,         /* links made again after a loss */
    NGX_ROOMS_M_WEBHOOK_SENT,            /* events a receiver took (2xx) */
    NGX_ROOMS_M_WEBHOOK_FAILED,          /* deliveries that failed */
    NGX_ROOMS_M_WEBHOOK_DROPPED,         /* events lost: outbox full */
    NGX_ROOMS_M_ROOMS_MOVED,             /* calls yielded to another node */
    NGX_ROOMS_M_NPLAIN
} ngx_rooms_metric_e;


/*
 * The rooms_metrics directive: the location's content handler serves the
 * counters, which live in a small shared zone of their own (every nginx
 * worker adds to the same atomics), added here.
 */
char *ngx_rooms_metrics_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* At postconfiguration: the handler of the media worker's STATS records. */
ngx_int_t ngx_rooms_metrics_init(ngx_conf_t *cf);

/* Each worker finds the zone of its cycle (none: counting is a no-op). */
void ngx_rooms_metrics_init_process(ngx_cycle_t *cycle);

/* Adds delta (-1 for a gauge going down) to one counter; never fails. */
void ngx_rooms_metrics_add(ngx_rooms_metric_e which, ngx_int_t delta);

/*
 * A join refused with the signaling error code (docs/protocol.md); codes
 * that do not refuse a join (not_host, bad_offer, ...) are not counted.
 */
void ngx_rooms_metrics_refusal(const char *code, size_t len);

/* A host action nginx let through: type is a rooms_msg_id_e. */
void ngx_rooms_metrics_host_action(ngx_uint_t type);


#endif /* _NGX_ROOMS_METRICS_H_INCLUDED_ */
