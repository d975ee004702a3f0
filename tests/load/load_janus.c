/*
 * load_janus.c: the same participants toward Janus VideoRoom (Debian's
 * janus 1.1, multistream), for the side-by-side figures of issue 10, as
 * Janus's own janus.js client and tests/e2e/janus-room.html drive it:
 * one WebSocket (subprotocol janus-protocol) per participant; a session;
 * a publisher handle (join as publisher, configure with our offer, take
 * Janus's answer) and a subscriber handle (join as subscriber with every
 * publisher's streams, answer Janus's offer, `start`; `update` with the
 * newcomers as they publish); `leave` and `destroy` at the end.  The
 * publisher's peer connection is the participant's record; the
 * subscriber's is its twin (Janus's classic two connections).  Rooms are
 * made before the run over Janus's HTTP API, with the fair settings
 * tests/janus/janus.sh documents (VP8 and Opus, no recording, no bitrate
 * cap, no periodic keyframe request).
 *
 * Owns: Janus's session, handle and feed ids, the transaction names, the
 * keepalives, the order of subscriber negotiations (one at a time).
 * Must never: let a Janus run count what the ngx_rooms run counts
 * differently: the same media, the same receive checks, the same figures.
 * May not: include sfu.h
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>

#include "load.h"


#define LOAD_JANUS_KEEPALIVE_US   20000000   /* sessions time out at 60 s */


static json_t *
load_janus_http(const char *path, json_t *req)
{
    int                 fd;
    char               *body, head[512], resp[65536], *b;
    ssize_t             n;
    size_t              got = 0;
    struct sockaddr_in  sa;
    json_t             *j;

    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) load_run.opt.janus_http);
    inet_pton(AF_INET, load_run.opt.host, &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
        free(body);
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: %s\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n", path, load_run.opt.host,
             strlen(body));
    if (write(fd, head, strlen(head)) < 0
        || write(fd, body, strlen(body)) < 0)
    {
        free(body);
        close(fd);
        return NULL;
    }
    free(body);
    while (got < sizeof(resp) - 1
           && (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
    {
        got += (size_t) n;
    }
    close(fd);
    resp[got] = '\0';
    b = strstr(resp, "\r\n\r\n");
    if (load_run.opt.verbose > 1) {
        load_log(NULL, "janus http %s: %.300s", path, resp);
    }
    if (b == NULL) {
        return NULL;
    }
    /* one chunk when chunked: the JSON starts at its first brace */
    b = strchr(b + 4, '{');
    j = b ? json_loadb(b, strlen(b), JSON_DISABLE_EOF_CHECK, NULL) : NULL;
    return j;
}


/* the VideoRoom room of room number `room`, made over the HTTP API */
int
load_janus_create_room(unsigned room)
{
    json_t      *r;
    json_int_t   s, h;
    char         path[128];

    r = load_janus_http("/janus", json_pack("{s:s, s:s}", "janus", "create",
                                            "transaction", "c"));
    s = json_integer_value(json_object_get(json_object_get(r, "data"),
                                           "id"));
    json_decref(r);
    snprintf(path, sizeof(path), "/janus/%lld", (long long) s);
    r = load_janus_http(path, json_pack("{s:s, s:s, s:s}", "janus", "attach",
                                        "plugin", "janus.plugin.videoroom",
                                        "transaction", "a"));
    h = json_integer_value(json_object_get(json_object_get(r, "data"),
                                           "id"));
    json_decref(r);
    if (s == 0 || h == 0) {
        fprintf(stderr, "rooms-load: Janus's HTTP API on port %u did not "
                "answer\n", load_run.opt.janus_http);
        return -1;
    }
    snprintf(path, sizeof(path), "/janus/%lld/%lld", (long long) s,
             (long long) h);
    r = load_janus_http(path, json_pack("{s:s, s:s, s:{s:s, s:I, s:i, s:s, "
                                        "s:s, s:b, s:i, s:i}}",
                                        "janus", "message", "transaction",
                                        "r", "body", "request", "create",
                                        "room", (json_int_t) (1000 + room),
                                        "publishers",
                                        (int) load_run.opt.per_room,
                                        "videocodec", "vp8", "audiocodec",
                                        "opus", "record", 0, "bitrate", 0,
                                        "fir_freq", 0));
    const char *what = json_string_value(json_object_get(json_object_get(
        json_object_get(r, "plugindata"), "data"), "videoroom"));
    if (what == NULL || strcmp(what, "created") != 0) {
        char *t = json_dumps(r, JSON_COMPACT);
        fprintf(stderr, "rooms-load: Janus did not create the room: %.200s\n",
                t ? t : "(nothing)");
        free(t);
        json_decref(r);
        return -1;
    }
    json_decref(r);
    /* the session that made it ends; the room stays */
    snprintf(path, sizeof(path), "/janus/%lld", (long long) s);
    json_decref(load_janus_http(path, json_pack("{s:s, s:s}", "janus",
                                                "destroy", "transaction",
                                                "d")));
    snprintf(load_run.code[room], sizeof(load_run.code[room]), "%u",
             1000 + room);
    return 0;
}


static void
load_janus_send(load_peer_t *p, json_t *msg)
{
    char  *text;

    if (p->j_session) {
        json_object_set_new(msg, "session_id",
                            json_integer((json_int_t) p->j_session));
    }
    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text) {
        if (load_run.opt.verbose > 1) {
            load_log(p, "-> %.160s", text);
        }
        load_ws_send_text(p, text);
        free(text);
    }
}


/* as janus.js: our candidate, then the end of them, for a handle */
static void
load_janus_trickle(load_peer_t *p, uint64_t handle, load_peer_t *pc)
{
    char  cand[160];

    snprintf(cand, sizeof(cand), "candidate:1 1 udp 2122260223 %s %u typ "
             "host", load_run.opt.local_ip, (unsigned) pc->local_port);
    json_t *t = json_pack("{s:s, s:s, s:I, s:{s:s, s:s, s:i}}", "janus",
                          "trickle", "transaction", "t", "handle_id",
                          (json_int_t) handle, "candidate", "candidate", cand,
                          "sdpMid", "0", "sdpMLineIndex", 0);
    char *text;
    json_object_set_new(t, "session_id", json_integer((json_int_t)
                                                      p->j_session));
    text = json_dumps(t, JSON_COMPACT);
    json_decref(t);
    load_ws_send_text(p, text);
    free(text);
    t = json_pack("{s:s, s:s, s:I, s:I, s:{s:b}}", "janus", "trickle",
                  "transaction", "t", "session_id",
                  (json_int_t) p->j_session, "handle_id", (json_int_t) handle,
                  "candidate", "completed", 1);
    text = json_dumps(t, JSON_COMPACT);
    json_decref(t);
    load_ws_send_text(p, text);
    free(text);
}


static void
load_janus_plugin(load_peer_t *p, uint64_t handle, const char *tx,
    json_t *body, json_t *jsep)
{
    json_t  *m;

    m = json_pack("{s:s, s:s, s:I, s:o}", "janus", "message", "transaction",
                  tx, "handle_id", (json_int_t) handle, "body", body);
    if (jsep) {
        json_object_set_new(m, "jsep", jsep);
    }
    load_janus_send(p, m);
}


void
load_janus_open(load_peer_t *p)
{
    load_janus_send(p, json_pack("{s:s, s:s}", "janus", "create",
                                 "transaction", "c"));
    p->j_step = 1;
    p->j_keepalive_us = load_now_us() + LOAD_JANUS_KEEPALIVE_US;
}


static int
load_index_of_display(const char *d)
{
    unsigned  n;

    if (d && sscanf(d, "load %u", &n) == 1 && n < load_run.nlogical) {
        return (int) n;
    }
    return -1;
}


/* publishers Janus lists: remember their feeds, and who was there */
static void
load_janus_feeds(load_peer_t *p, json_t *list, int at_join)
{
    size_t       i;
    json_t      *v;
    json_int_t   id;
    int          k;

    json_array_foreach(list, i, v) {
        id = json_integer_value(json_object_get(v, "id"));
        k = load_index_of_display(json_string_value(json_object_get(v,
                                                    "display")));
        if (id == 0 || k < 0 || p->j_nfeeds >= LOAD_MAX_PEERS) {
            continue;
        }
        p->j_feeds[p->j_nfeeds++] = (uint64_t) id;
        if (at_join) {
            p->present[p->npresent++] = k;
        }
    }
}


static void
load_janus_subscribe(load_peer_t *p)
{
    json_t    *streams;
    unsigned   i;

    if (p->j_sub_busy || p->j_subscribed == p->j_nfeeds) {
        return;
    }
    streams = json_array();
    /* everyone's audio, and video from the first 16 (the tiles of a
     * gallery, as ngx_rooms's rooms_video_slots): the same streams per
     * subscriber on both servers */
    for (i = p->j_subscribed; i < p->j_nfeeds; i++) {
        json_array_append_new(streams, json_pack("{s:I, s:s}", "feed",
                              (json_int_t) p->j_feeds[i], "mid", "0"));
        if (p->j_videos < 16) {
            json_array_append_new(streams, json_pack("{s:I, s:s}", "feed",
                                  (json_int_t) p->j_feeds[i], "mid", "1"));
            p->j_videos++;
        }
    }
    p->j_sub_busy = 1;
    if (!p->j_sub_started) {
        load_janus_plugin(p, p->j_sub, "S",
                          json_pack("{s:s, s:s, s:I, s:o}", "request", "join",
                                    "ptype", "subscriber", "room",
                                    (json_int_t) atoll(load_run.code[p->room]),
                                    "streams", streams), NULL);
    } else {
        load_janus_plugin(p, p->j_sub, "U",
                          json_pack("{s:s, s:o}", "request", "update",
                                    "subscribe", streams), NULL);
    }
    p->j_subscribed = p->j_nfeeds;
}


/* Janus's offer to our subscriber connection: answered and started */
static void
load_janus_sub_offer(load_peer_t *p, json_t *data, const char *sdp)
{
    static char   ans[128 * 1024];
    load_peer_t  *s = &load_run.peers[p->twin];
    json_t       *v;
    size_t        i;
    unsigned      k;
    const char   *mid;
    uint64_t      now = load_now_us();

    if (load_sdp_janus_offer(s, sdp) != 0) {
        load_fail(p, "cannot use Janus's offer");
        return;
    }
    json_array_foreach(json_object_get(data, "streams"), i, v) {
        mid = json_string_value(json_object_get(v, "mid"));
        for (k = 0; mid && k < s->nlines; k++) {
            if (strcmp(s->lines[k].mid, mid) == 0) {
                s->lines[k].pub = load_index_of_display(json_string_value(
                    json_object_get(v, "feed_display")));
            }
        }
    }
    s->offers++;
    if (load_sdp_janus_answer(s, ans, sizeof(ans)) != 0) {
        load_fail(p, "our answer does not fit");
        return;
    }
    load_janus_plugin(p, p->j_sub, "A",
                      json_pack("{s:s, s:I}", "request", "start", "room",
                                (json_int_t) atoll(load_run.code[p->room])),
                      json_pack("{s:s, s:s}", "type", "answer", "sdp", ans));
    if (s->answer_us == 0) {
        load_janus_trickle(p, p->j_sub, s);
        s->answer_us = now;
        load_ice_start(s, now);
    }
}


void
load_janus_message(load_peer_t *p, const char *text, size_t len)
{
    json_t      *msg, *data, *jsep, *pd;
    const char  *janus, *tx, *what, *sdp;
    json_int_t   sender;
    uint64_t     now = load_now_us();
    static char  offer[128 * 1024];

    msg = json_loadb(text, len, 0, NULL);
    janus = json_string_value(json_object_get(msg, "janus"));
    tx = json_string_value(json_object_get(msg, "transaction")) ?: "";
    if (janus == NULL) {
        json_decref(msg);
        return;
    }
    if (load_run.opt.verbose > 1) {
        load_log(p, "<- %.*s", (int) (len < 200 ? len : 200), text);
    }

    if (strcmp(janus, "success") == 0) {
        data = json_object_get(msg, "data");
        if (strcmp(tx, "c") == 0) {
            p->j_session = (uint64_t) json_integer_value(json_object_get(data,
                                                                   "id"));
            load_janus_send(p, json_pack("{s:s, s:s, s:s}", "janus", "attach",
                                         "plugin", "janus.plugin.videoroom",
                                         "transaction", "a"));
        } else if (strcmp(tx, "a") == 0) {
            p->j_pub = (uint64_t) json_integer_value(json_object_get(data,
                                                               "id"));
            load_janus_send(p, json_pack("{s:s, s:s, s:s}", "janus", "attach",
                                         "plugin", "janus.plugin.videoroom",
                                         "transaction", "s"));
        } else if (strcmp(tx, "s") == 0) {
            p->j_sub = (uint64_t) json_integer_value(json_object_get(data,
                                                               "id"));
            load_janus_plugin(p, p->j_pub, "j",
                              json_pack("{s:s, s:s, s:I, s:s}", "request",
                                        "join", "ptype", "publisher", "room",
                                        (json_int_t) atoll(
                                            load_run.code[p->room]),
                                        "display", p->name), NULL);
        } else if (strcmp(tx, "d") == 0) {
            p->left_cleanly = 1;
            p->close_code = 1000;
            load_ws_close(p);
            p->state = LP_DONE;
        }
        json_decref(msg);
        return;
    }

    if (strcmp(janus, "error") == 0) {
        load_fail(p, "Janus error: %.60s",
                  json_string_value(json_object_get(json_object_get(msg,
                                    "error"), "reason")) ?: "?");
        json_decref(msg);
        return;
    }

    if (strcmp(janus, "event") != 0) {
        json_decref(msg);                /* ack, webrtcup, media, ... */
        return;
    }

    sender = json_integer_value(json_object_get(msg, "sender"));
    pd = json_object_get(json_object_get(msg, "plugindata"), "data");
    what = json_string_value(json_object_get(pd, "videoroom")) ?: "";
    jsep = json_object_get(msg, "jsep");
    sdp = json_string_value(json_object_get(jsep, "sdp"));

    if (json_object_get(pd, "error")) {
        load_fail(p, "VideoRoom: %.60s",
                  json_string_value(json_object_get(pd, "error")));

    } else if ((uint64_t) sender == p->j_pub && strcmp(what, "joined") == 0) {
        p->j_feed = (uint64_t) json_integer_value(json_object_get(pd, "id"));
        p->welcome_us = now;
        p->state = LP_IN;
        load_janus_feeds(p, json_object_get(pd, "publishers"), 1);
        memcpy(load_run.peers[p->twin].present, p->present,
               sizeof(p->present));
        load_run.peers[p->twin].npresent = p->npresent;
        load_run.peers[p->twin].open_us = p->open_us;
        if (load_sdp_offer(p, offer, sizeof(offer)) != 0) {
            load_fail(p, "the offer does not fit");
        } else {
            p->offers++;
            load_janus_plugin(p, p->j_pub, "o",
                              json_pack("{s:s, s:b, s:b}", "request",
                                        "configure", "audio", 1, "video", 1),
                              json_pack("{s:s, s:s}", "type", "offer", "sdp",
                                        offer));
            load_janus_trickle(p, p->j_pub, p);
        }
        load_janus_subscribe(p);

    } else if ((uint64_t) sender == p->j_pub && sdp
               && strcmp(json_string_value(json_object_get(jsep, "type"))
                         ?: "", "answer") == 0)
    {
        if (load_sdp_answer(p, sdp) != 0) {
            if (load_run.opt.verbose) {
                load_log(p, "Janus's answer:\n%s", sdp);
            }
            load_fail(p, "cannot use Janus's answer");
        } else if (p->answer_us == 0) {
            p->answer_us = now;
            load_ice_start(p, now);
        }

    } else if ((uint64_t) sender == p->j_pub
               && json_object_get(pd, "publishers"))
    {
        load_janus_feeds(p, json_object_get(pd, "publishers"), 0);
        load_janus_subscribe(p);

    } else if ((uint64_t) sender == p->j_sub && sdp) {
        p->j_sub_started = 1;
        load_janus_sub_offer(p, pd, sdp);

    } else if ((uint64_t) sender == p->j_sub
               && strcmp(json_string_value(json_object_get(pd, "started"))
                         ?: "", "ok") == 0)
    {
        p->j_sub_busy = 0;
        load_janus_subscribe(p);

    } else if ((uint64_t) sender == p->j_sub
               && strcmp(what, "updated") == 0 && sdp == NULL)
    {
        p->j_sub_busy = 0;              /* nothing new to negotiate */
        load_janus_subscribe(p);
    }

    json_decref(msg);
}


void
load_janus_tick(load_peer_t *p, uint64_t now)
{
    if (p->j_session && p->ws_fd >= 0 && now >= p->j_keepalive_us) {
        load_janus_send(p, json_pack("{s:s, s:s}", "janus", "keepalive",
                                     "transaction", "k"));
        p->j_keepalive_us = now + LOAD_JANUS_KEEPALIVE_US;
    }
}


void
load_janus_leave(load_peer_t *p)
{
    if (p->ws_fd < 0 || p->state != LP_IN) {
        return;
    }
    /* as janus.js's destroy(): the session goes, its handles detach and
     * leave the room (a `leave` racing it would find no session) */
    load_janus_send(p, json_pack("{s:s, s:s}", "janus", "destroy",
                                 "transaction", "d"));
    p->state = LP_LEAVING;
}
