
/*
 * Copyright (C) ngx_rooms authors
 *
 * ngx_rooms_ws.h: RFC 6455 connections (ngx_rooms_ws.c), for the
 * signaling above them.  The frames' bytes pass through; their meaning
 * is the caller's.
 *
 * May not: include jansson.h, include rooms_store.h, include rooms_ring.h
 */


#ifndef _NGX_ROOMS_WS_H_INCLUDED_
#define _NGX_ROOMS_WS_H_INCLUDED_


#include "ngx_rooms.h"

#include "rooms_ws.h"


typedef struct ngx_rooms_ws_s  ngx_rooms_ws_t;


/* what a connection tells the layer above; data is the caller's */
typedef struct {
    /* the first message must come within this many ms of the upgrade */
    ngx_msec_t                   first_timeout;

    /* it did not: the handler closes the connection (and may log why) */
    void                       (*first_timedout)(void *data);

    /* a whole message; a binary one has binary set */
    void                       (*message)(void *data, const u_char *text,
                                          size_t len, ngx_uint_t binary);

    /*
     * a registered connection leaves the registry: it is closing, or its
     * request is freed; runs once (not for ngx_rooms_ws_close_all())
     */
    void                       (*leave)(void *data, uint64_t id);

    /*
     * this nginx worker is closing (a reload, or the node stops): the
     * handler closes the connection as its protocol says; NULL, or a
     * connection still open afterwards, is closed 1001
     */
    void                       (*going_away)(void *data);
} ngx_rooms_ws_handler_t;


/* this process's registry, set up in init_process */
void ngx_rooms_ws_init_process(ngx_cycle_t *cycle);

/*
 * RFC 6455 4.2.1 on a GET: NGX_OK with the Sec-WebSocket-Accept value in
 * accept; NGX_DECLINED with err set when the handshake is refused (the
 * caller answers with err); an HTTP status when the server failed.
 */
ngx_int_t ngx_rooms_ws_check(ngx_http_request_t *r,
    char accept[ROOMS_WS_ACCEPT_LEN + 1], rooms_error_t *err);

/*
 * A connection for the checked request r, whose events go to handler
 * with data; NULL when out of memory.  ngx_rooms_ws_start() then sends
 * the 101 and takes the connection over: the content handler returns what
 * it returns (NGX_DONE once upgraded).  Bytes that came with the
 * handshake reach handler->message before it returns.
 */
ngx_rooms_ws_t *ngx_rooms_ws_create(ngx_http_request_t *r,
    ngx_rooms_ws_handler_t *handler, void *data);
ngx_int_t ngx_rooms_ws_start(ngx_rooms_ws_t *ws, char *accept);

/*
 * Queues a text message.  NGX_OK; NGX_DECLINED when the client has not
 * taken NGX_ROOMS_WS_OUT_MAX bytes yet (it is too slow); NGX_ERROR when
 * memory runs out.  Nothing is queued after the close frame.
 */
ngx_int_t ngx_rooms_ws_send(ngx_rooms_ws_t *ws, const u_char *text,
    size_t len);

/*
 * Starts the closing handshake: queues the close frame (never refused)
 * and leaves the registry.  The connection ends once the frame is sent,
 * from its own write event.
 */
void ngx_rooms_ws_close(ngx_rooms_ws_t *ws, unsigned code,
    const char *reason);

/*
 * After sending or closing from another connection's event (a record
 * from the media link): the connection's write event runs next.
 */
void ngx_rooms_ws_wake(ngx_rooms_ws_t *ws);

/* Puts the connection in the registry under id (not 0), once. */
void ngx_rooms_ws_register(ngx_rooms_ws_t *ws, uint64_t id);

/* The data of the connection registered under id, or NULL. */
void *ngx_rooms_ws_find(uint64_t id);

/*
 * Closes every registered connection whose id has (id & mask) == value
 * (mask 0: all) with code and reason; each leaves the registry without
 * its leave handler (whatever it would tell is gone).
 */
void ngx_rooms_ws_close_all(uint64_t mask, uint64_t value, unsigned code,
    const char *reason);


#endif /* _NGX_ROOMS_WS_H_INCLUDED_ */
