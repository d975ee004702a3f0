/*
 * load_signal.c: a participant's signaling, as the web client speaks it
 * (ngx_rooms_module/web/room.js, docs/protocol.md): the room created over
 * the HTTP API, then one WebSocket through nginx per participant: `join`,
 * the offer after `welcome` and after each `renegotiate` (one at a time),
 * `view` after each answer, `leave` at the end.
 *
 * Owns: the TCP connections to nginx, the HTTP upgrade, WebSocket framing
 * (masked client frames, RFC 6455), the JSON of each message.
 * Must never: block once the run has started (room creation, before it,
 * may), or talk to the media worker (nginx does).
 * May not: include sfu.h, call rooms_srtp_
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <jansson.h>

#include "load.h"


static int
load_tcp_connect(int nonblock)
{
    int                 fd, one;
    struct sockaddr_in  sa;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC
                | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) {
        return -1;
    }

    one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t) load_run.opt.port);
    inet_pton(AF_INET, load_run.opt.host, &sa.sin_addr);

    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0
        && errno != EINPROGRESS)
    {
        close(fd);
        return -1;
    }

    return fd;
}


/*
 * POST /api/rooms, blocking (before the run starts): the room's code and
 * host key into load_run.  Returns 0 or -1.
 */
int
load_create_room(unsigned room)
{
    int          fd;
    char         req[512], resp[16384], *body;
    ssize_t      n;
    size_t       got;
    json_t      *j;
    const char  *code, *key;

    fd = load_tcp_connect(0);
    if (fd < 0) {
        fprintf(stderr, "rooms-load: cannot connect to %s:%u: %s\n",
                load_run.opt.host, load_run.opt.port, strerror(errno));
        return -1;
    }

    const char *json = "{\"title\":\"load\",\"max_participants\":50}";
    snprintf(req, sizeof(req), "POST /api/rooms HTTP/1.1\r\nHost: %s:%u\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s", load_run.opt.host,
             load_run.opt.port, strlen(json), json);

    if (write(fd, req, strlen(req)) != (ssize_t) strlen(req)) {
        close(fd);
        return -1;
    }

    got = 0;
    while (got < sizeof(resp) - 1
           && (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
    {
        got += (size_t) n;
    }
    resp[got] = '\0';
    close(fd);

    body = strstr(resp, "\r\n\r\n");
    if (strncmp(resp, "HTTP/1.1 201", 12) != 0 || body == NULL) {
        fprintf(stderr, "rooms-load: POST /api/rooms: %.80s\n", resp);
        return -1;
    }

    j = json_loads(body + 4, 0, NULL);
    code = json_string_value(json_object_get(j, "code"));
    key = json_string_value(json_object_get(j, "host_key"));

    if (code == NULL || key == NULL || strlen(code) >= 64
        || strlen(key) >= 64)
    {
        json_decref(j);
        return -1;
    }

    strcpy(load_run.code[room], code);
    strcpy(load_run.host_key[room], key);
    json_decref(j);
    return 0;
}


/* ---- output ------------------------------------------------------------- */

static void
load_ws_flush(load_peer_t *p)
{
    ssize_t  n;

    while (p->out_off < p->out_len) {
        n = write(p->ws_fd, p->out + p->out_off, p->out_len - p->out_off);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                break;
            }
            load_fail(p, "websocket write: %s", strerror(errno));
            return;
        }
        p->out_off += (size_t) n;
    }

    if (p->out_off == p->out_len) {
        p->out_off = p->out_len = 0;
    }

    struct epoll_event ev = {
        .events = EPOLLIN | (p->out_len ? EPOLLOUT : 0),
        .data.u64 = ((uint64_t) p->index << 1) | 0
    };
    epoll_ctl(load_run.ep, EPOLL_CTL_MOD, p->ws_fd, &ev);
}


static void
load_out(load_peer_t *p, const void *data, size_t len)
{
    if (p->out_len + len > p->out_cap) {
        p->out_cap = (p->out_len + len) * 2;
        p->out = realloc(p->out, p->out_cap);
        if (p->out == NULL) {
            abort();
        }
    }
    memcpy(p->out + p->out_len, data, len);
    p->out_len += len;
}


/* one masked frame: opcode 1 (text), 8 (close) */
static void
load_ws_frame(load_peer_t *p, unsigned opcode, const char *data, size_t len)
{
    uint8_t  h[14], mask[4], *buf;
    size_t   hl, i;

    h[0] = (uint8_t) (0x80 | opcode);
    if (len < 126) {
        h[1] = (uint8_t) (0x80 | len);
        hl = 2;
    } else if (len < 65536) {
        h[1] = 0x80 | 126;
        h[2] = (uint8_t) (len >> 8);
        h[3] = (uint8_t) len;
        hl = 4;
    } else {
        h[1] = 0x80 | 127;
        for (i = 0; i < 8; i++) {
            h[2 + i] = (uint8_t) ((uint64_t) len >> (56 - 8 * i));
        }
        hl = 10;
    }

    load_random_bytes(mask, 4);
    memcpy(h + hl, mask, 4);
    load_out(p, h, hl + 4);

    buf = malloc(len + 1);
    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t) data[i] ^ mask[i & 3];
    }
    load_out(p, buf, len);
    free(buf);
}


void
load_ws_send_text(load_peer_t *p, const char *text)
{
    load_ws_frame(p, 1, text, strlen(text));
    load_ws_flush(p);
}


static void
load_send_json(load_peer_t *p, json_t *msg)
{
    char  *text;

    text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text == NULL) {
        return;
    }
    if (load_run.opt.verbose > 1) {
        load_log(p, "-> %.120s", text);
    }
    load_ws_frame(p, 1, text, strlen(text));
    free(text);
    load_ws_flush(p);
}


/* ---- the protocol ----------------------------------------------------- */

static void
load_offer(load_peer_t *p)
{
    static char  sdp[128 * 1024];

    if (p->negotiating) {
        p->again = 1;
        return;
    }

    if (load_sdp_offer(p, sdp, sizeof(sdp)) != 0) {
        load_fail(p, "the offer does not fit");
        return;
    }

    p->negotiating = 1;
    p->again = 0;
    p->offers++;
    load_send_json(p, json_pack("{s:s, s:s}", "type", "offer", "sdp", sdp));
}


/*
 * The tiles on screen: the first 16 others in joining order, all the same
 * size (a gallery), as stage.js reports them.
 */
static void
load_view(load_peer_t *p)
{
    unsigned  i, n;
    json_t   *ids, *sizes;

    ids = json_array();
    sizes = json_array();
    n = 0;

    for (i = 0; i < load_run.npeers && n < 16; i++) {
        load_peer_t *o = &load_run.peers[i];
        if (o == p || o->room != p->room || o->id[0] == '\0'
            || o->state != LP_IN)
        {
            continue;
        }
        json_array_append_new(ids, json_string(o->id));
        json_array_append_new(sizes, json_pack("[i, i]",
                              (int) load_run.opt.tile_w,
                              (int) load_run.opt.tile_h));
        n++;
    }

    /* as grid.js: only when what is on screen changed */
    json_t *msg = json_pack("{s:s, s:o, s:o}", "type", "view", "ids", ids,
                            "sizes", sizes);
    char *text = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
    if (text && p->last_view && strcmp(text, p->last_view) == 0) {
        free(text);
        json_decref(msg);
        return;
    }
    free(p->last_view);
    p->last_view = text;
    load_send_json(p, msg);
}


int
load_peer_by_id(const char *id)
{
    unsigned  i;

    for (i = 0; i < load_run.npeers; i++) {
        if (strcmp(load_run.peers[i].id, id) == 0) {
            return (int) i;
        }
    }
    return -1;
}


static void
load_streams(load_peer_t *p, json_t *map)
{
    const char  *mid;
    json_t      *v;
    unsigned     i;
    int          k;
    char        *end;
    unsigned long m;

    for (i = 0; i < p->nlines; i++) {
        p->lines[i].pub = -1;
    }

    json_object_foreach(map, mid, v) {
        m = strtoul(mid, &end, 10);
        if (*end != '\0' || m >= p->nlines) {
            continue;
        }
        k = load_peer_by_id(json_string_value(json_object_get(v,
                            "participant")) ?: "");
        p->lines[m].pub = k;
    }
}


static void
load_message(load_peer_t *p, const char *text, size_t len)
{
    json_t      *msg, *list, *v;
    const char  *type, *id;
    size_t       i;
    int          k;
    uint64_t     now;

    msg = json_loadb(text, len, 0, NULL);
    type = json_string_value(json_object_get(msg, "type"));
    if (type == NULL) {
        json_decref(msg);
        return;
    }

    if (load_run.opt.verbose > 1) {
        load_log(p, "<- %.*s", (int) (len < 160 ? len : 160), text);
    }

    now = load_now_us();

    if (strcmp(type, "welcome") == 0) {
        id = json_string_value(json_object_get(msg, "id"));
        snprintf(p->id, sizeof(p->id), "%s", id ? id : "?");
        p->simulcast = json_is_true(json_object_get(msg, "simulcast"))
                       && !load_run.opt.no_simulcast;
        p->layers = p->simulcast ? LOAD_LAYERS : 1;
        p->welcome_us = now;
        p->state = LP_IN;
        /* a server that says how many streams to receive in the welcome
         * gets a first offer that receives them, as media.js does */
        p->want_audio = (unsigned) json_integer_value(json_object_get(msg,
                                                      "audio"));
        p->want_video = (unsigned) json_integer_value(json_object_get(msg,
                                                      "video"));

        /* who is there: our join is complete when each has reached us */
        list = json_object_get(msg, "participants");
        json_array_foreach(list, i, v) {
            k = load_peer_by_id(json_string_value(json_object_get(v, "id"))
                                ?: "");
            if (k >= 0 && p->npresent < LOAD_MAX_PEERS) {
                p->present[p->npresent++] = k;
            }
        }
        load_offer(p);

    } else if (strcmp(type, "answer") == 0) {
        if (load_sdp_answer(p, json_string_value(json_object_get(msg, "sdp"))
                               ?: "") != 0)
        {
            load_fail(p, "cannot use the answer");
            json_decref(msg);
            return;
        }
        load_streams(p, json_object_get(msg, "streams"));
        if (p->answer_us == 0) {
            p->answer_us = now;
            load_ice_start(p, now);
        }
        p->negotiating = 0;
        if (p->again) {
            load_offer(p);
        }
        load_view(p);

    } else if (strcmp(type, "streams") == 0) {
        load_streams(p, json_object_get(msg, "streams"));

    } else if (strcmp(type, "renegotiate") == 0) {
        p->want_audio = (unsigned) json_integer_value(json_object_get(msg,
                                                      "audio"));
        p->want_video = (unsigned) json_integer_value(json_object_get(msg,
                                                      "video"));
        load_offer(p);

    } else if (strcmp(type, "participant_joined") == 0) {
        if (p->negotiating == 0 && p->answer_us) {
            load_view(p);
        }

    } else if (strcmp(type, "error") == 0) {
        load_fail(p, "error %s",
                  json_string_value(json_object_get(msg, "code")) ?: "?");
    }

    json_decref(msg);
}


/* ---- input ------------------------------------------------------------ */

static void
load_ws_input(load_peer_t *p)
{
    size_t    off, hl, plen, i;
    uint8_t  *b;
    unsigned  op;
    char     *e;

    if (p->state == LP_UPGRADING) {
        e = memmem(p->in, p->in_len, "\r\n\r\n", 4);
        if (e == NULL) {
            return;
        }
        if (p->in_len < 12 || memcmp(p->in, "HTTP/1.1 101", 12) != 0) {
            load_fail(p, "upgrade refused: %.40s", p->in);
            return;
        }
        off = (size_t) (e + 4 - p->in);
        memmove(p->in, p->in + off, p->in_len - off);
        p->in_len -= off;
        p->open_us = load_now_us();
        p->state = LP_JOINING;

        if (load_run.opt.janus) {
            load_janus_open(p);
            goto frames;
        }

        /* who is in the room when our WebSocket opens */
        p->npresent = 0;

        json_t *join = json_pack("{s:s, s:s}", "type", "join",
                                 "name", p->name);
        if (p->host) {
            json_object_set_new(join, "host_key",
                                json_string(load_run.host_key[p->room]));
        }
        load_send_json(p, join);
    }

frames:
    off = 0;
    b = (uint8_t *) p->in;

    while (p->in_len - off >= 2) {
        op = b[off] & 0x0f;
        plen = b[off + 1] & 0x7f;
        hl = 2;
        if (plen == 126) {
            if (p->in_len - off < 4) break;
            plen = ((size_t) b[off + 2] << 8) | b[off + 3];
            hl = 4;
        } else if (plen == 127) {
            if (p->in_len - off < 10) break;
            plen = 0;
            for (i = 0; i < 8; i++) {
                plen = (plen << 8) | b[off + 2 + i];
            }
            hl = 10;
        }
        if (p->in_len - off < hl + plen) {
            break;
        }

        if ((op == 1 || op == 0) && !(b[off] & 0x80)) {
            /* a fragment (Janus's libwebsockets splits large messages):
             * kept until the final one */
            if (op == 1) {
                p->frag_len = 0;
            }
            if (p->frag_len + plen > LOAD_WS_MAX) {
                load_fail(p, "a fragmented message over %u bytes",
                          LOAD_WS_MAX);
                return;
            }
            if (p->frag_len + plen > p->frag_cap) {
                p->frag_cap = (p->frag_len + plen) * 2;
                p->frag = realloc(p->frag, p->frag_cap);
            }
            memcpy(p->frag + p->frag_len, b + off + hl, plen);
            p->frag_len += plen;
        } else if (op == 0) {
            /* the final fragment */
            if (p->frag_len + plen > p->frag_cap) {
                p->frag_cap = p->frag_len + plen;
                p->frag = realloc(p->frag, p->frag_cap);
            }
            memcpy(p->frag + p->frag_len, b + off + hl, plen);
            p->frag_len += plen;
            if (load_run.opt.janus) {
                load_janus_message(p, p->frag, p->frag_len);
            } else {
                load_message(p, p->frag, p->frag_len);
            }
            p->frag_len = 0;
        } else if (op == 1 && load_run.opt.janus) {
            load_janus_message(p, (char *) b + off + hl, plen);
        } else if (op == 1) {
            load_message(p, (char *) b + off + hl, plen);
        } else if (op == 9) {
            load_ws_frame(p, 10, (char *) b + off + hl, plen);
            load_ws_flush(p);
        } else if (op == 8) {
            p->close_code = plen >= 2 ? ((unsigned) b[off + hl] << 8)
                                        | b[off + hl + 1] : 1005;
            if (p->state == LP_LEAVING && p->close_code == 1000) {
                p->left_cleanly = 1;
            }
            off += hl + plen;
            load_ws_close(p);
            return;
        }
        /* frames other than these (continuations) are not sent by nginx */
        off += hl + plen;

        if (p->state == LP_FAILED || p->state == LP_DONE) {
            return;
        }
    }

    memmove(p->in, p->in + off, p->in_len - off);
    p->in_len -= off;
}


int
load_ws_start(load_peer_t *p)
{
    char     req[512];
    uint8_t  key[16];
    char     k64[32];
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned i, o, v;

    p->ws_fd = load_tcp_connect(1);
    if (p->ws_fd < 0) {
        load_fail(p, "connect: %s", strerror(errno));
        return -1;
    }

    p->connect_us = load_now_us();
    p->state = LP_UPGRADING;

    load_random_bytes(key, 16);
    for (i = 0, o = 0; i < 15; i += 3) {
        v = ((unsigned) key[i] << 16) | ((unsigned) key[i + 1] << 8)
            | key[i + 2];
        k64[o++] = b64[v >> 18];
        k64[o++] = b64[(v >> 12) & 63];
        k64[o++] = b64[(v >> 6) & 63];
        k64[o++] = b64[v & 63];
    }
    v = (unsigned) key[15] << 16;
    k64[o++] = b64[v >> 18];
    k64[o++] = b64[(v >> 12) & 63];
    k64[o++] = '=';
    k64[o++] = '=';
    k64[o] = '\0';

    if (load_run.opt.janus) {
        snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n"
                 "Host: %s:%u\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Protocol: janus-protocol\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n", load_run.opt.host,
                 load_run.opt.port, k64);
    } else {
        snprintf(req, sizeof(req), "GET /api/rooms/%s/ws HTTP/1.1\r\n"
                 "Host: %s:%u\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n",
                 load_run.code[p->room], load_run.opt.host,
                 load_run.opt.port, k64);
    }
    load_out(p, req, strlen(req));

    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT,
        .data.u64 = ((uint64_t) p->index << 1) | 0
    };
    epoll_ctl(load_run.ep, EPOLL_CTL_ADD, p->ws_fd, &ev);
    return 0;
}


void
load_ws_event(load_peer_t *p, unsigned events)
{
    ssize_t  n;

    if (p->ws_fd < 0) {
        return;
    }

    if (events & EPOLLOUT) {
        load_ws_flush(p);
    }

    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (;;) {
            if (p->in_cap - p->in_len < 65536) {
                if (p->in_cap >= LOAD_WS_MAX) {
                    load_fail(p, "websocket input over %u bytes",
                              LOAD_WS_MAX);
                    return;
                }
                p->in_cap = p->in_cap ? p->in_cap * 2 : 131072;
                p->in = realloc(p->in, p->in_cap);
            }
            n = read(p->ws_fd, p->in + p->in_len, p->in_cap - p->in_len);
            if (n > 0) {
                p->in_len += (size_t) n;
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                break;
            }
            /* closed by nginx: what came before the end is read first */
            load_ws_input(p);
            if (p->ws_fd < 0 || p->state == LP_FAILED) {
                return;
            }
            if (p->state != LP_LEAVING && p->state != LP_DONE) {
                load_fail(p, "websocket closed (%s)",
                          n == 0 ? "eof" : strerror(errno));
            } else {
                load_ws_close(p);
            }
            return;
        }
        load_ws_input(p);
    }
}


/* `leave`, as the Leave button: the server then closes (1000) */
void
load_ws_leave(load_peer_t *p)
{
    if (p->ws_fd < 0 || p->state != LP_IN) {
        return;
    }
    load_send_json(p, json_pack("{s:s}", "type", "leave"));
    p->state = LP_LEAVING;
}


void
load_ws_close(load_peer_t *p)
{
    if (p->ws_fd >= 0) {
        epoll_ctl(load_run.ep, EPOLL_CTL_DEL, p->ws_fd, NULL);
        close(p->ws_fd);
        p->ws_fd = -1;
    }
    if (p->state == LP_LEAVING) {
        p->state = LP_DONE;
    }
}
