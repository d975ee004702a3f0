/*
 * fake_media_worker.c: a stand-in for the media worker, for the nginx
 * side's tests (t/009-media-link.t).  It speaks the real control-socket
 * handshake and the real rings (common/rooms_proto.h, rooms_ring.h) but
 * no media: it logs every record it receives, one line each, and answers
 * from a script:
 *
 *     JOIN                 SIGNAL {"type":"welcome",...}; a join named
 *                          "Full" gets an error room_full and CLOSE 4403
 *     SIGNAL offer         SIGNAL {"type":"answer",...}
 *     SIGNAL media         SIGNAL {"type":"participant_media",...}, and
 *                          a CLOSE 4000 "kicked" when video is "kick"
 *     SIGNAL cohost        ROLE "cohost" for the participant "p<n>" its
 *                          "id" names (room, token and name from its
 *                          JOIN), on the sender's slot
 *     SIGNAL uncohost      ROLE "guest" likewise
 *     SIGNAL leave         from a host whose JOIN said host_absent lock or
 *                          end: HOST_ABSENT with that action
 *     SIGNAL view          with "count" and "seq" (numbers): a COUNT record
 *                          of the sender's room (from its JOIN) with them,
 *                          on the sender's slot; with "resync" instead, a
 *                          RESYNC record of that seq
 *     ROOM                 logged as "ROOM <json>"
 *     LEAVE                nothing
 *     DETACH               logged as "DETACH n=<counter>"
 *     RESUME               logged as "RESUME <json>"; a JOIN kept with
 *                          that resume hash (and guest token hash) moves
 *                          to the new connection with the next hash and
 *                          gets SIGNAL {"type":"resumed",...}; otherwise
 *                          error resume_failed and CLOSE 4410
 *
 * Usage: fake_media_worker <socket> <log> [--version N]
 * With --version, every hello is answered ROOMS_PROTO_WELCOME_VERSION
 * with N.  SIGTERM ends it; nginx then sees EOF on its control socket.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "rooms_msg.h"
#include "rooms_ring.h"
#include "rooms_room.h"


#define PEERS     4
#define CAPACITY  (64 * 1024)


typedef struct {
    int           ctl;             /* -1: slot free */
    int           to_worker;       /* eventfd nginx rings */
    int           from_worker;     /* eventfd this process rings */
    rooms_ring_t  rx;
    rooms_ring_t  tx;
} peer_t;


static peer_t   peers[PEERS];
static void    *seg;
static int      memfd;
static FILE    *out;
static int      refuse_version;
static int      welcomes;


/* what the latest JOINs said, by connection id, for ROLE and HOST_ABSENT */
#define JOINS     64

typedef struct {
    uint64_t          id;
    rooms_msg_join_t  join;
} join_t;

static join_t   joins[JOINS];
static unsigned njoins;


/* the string "key" of a SIGNAL's JSON object, copied into v ("" if none) */
static void
field(json_t *msg, const char *key, char *v, size_t size)
{
    const char  *s;

    s = json_string_value(json_object_get(msg, key));
    snprintf(v, size, "%s", s ? s : "");
}


static const rooms_msg_join_t *
join_of(uint64_t id)
{
    unsigned  i;

    for (i = 0; i < JOINS; i++) {
        if (joins[i].id == id) {
            return &joins[i].join;
        }
    }

    return NULL;
}


static void
say(peer_t *p, uint16_t type, uint64_t id, const char *json)
{
    int  rc;

    rc = rooms_ring_push(&p->tx, type, 0, id, json, strlen(json));
    fprintf(out, "push %u %s\n", type, rc == 0 ? "ok" : "failed");
    rooms_ring_doorbell_ring(p->from_worker);
}


static void
say_close(peer_t *p, uint64_t id, unsigned code, const char *reason)
{
    unsigned char  b[128];
    size_t         n;

    b[0] = (unsigned char) (code >> 8);
    b[1] = (unsigned char) code;
    n = strlen(reason);
    memcpy(b + 2, reason, n);

    rooms_ring_push(&p->tx, ROOMS_PROTO_CLOSE, 0, id, b, n + 2);
    fprintf(out, "push close %u\n", code);
    rooms_ring_doorbell_ring(p->from_worker);
}


static int
on_record(void *data, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload)
{
    char                     text[70000], reply[2048], name[300];
    int                      n2;
    peer_t                  *p = data;
    size_t                   n;
    json_t                  *msg;
    unsigned                 i;
    uint64_t                 target;
    const char              *why, *type;
    json_int_t               count, seq, resync;
    rooms_msg_join_t         join;
    rooms_msg_role_t         role;
    rooms_msg_count_t        cnt;
    rooms_msg_resync_t       rs;
    const rooms_msg_join_t  *j;
    rooms_msg_host_absent_t  absent;
    rooms_msg_resume_t       res;
    const rooms_msg_type_t  *mt;

    n = hdr->len < sizeof(text) - 1 ? hdr->len : sizeof(text) - 1;
    memcpy(text, payload, n);
    text[n] = '\0';

    switch (hdr->type) {

    case ROOMS_PROTO_JOIN:
        fprintf(out, "JOIN slot=%u n=%llu %s\n", ROOMS_PROTO_SLOT(hdr->id),
                (unsigned long long) (hdr->id & 0xffffffffffffULL), text);

        if (rooms_msg_join_decode(text, n, &join, &why) != 0) {
            fprintf(out, "bad JOIN: %s\n", why);
            break;
        }

        /* nginx restarts number its connections anew: newest wins */
        for (i = 0; i < JOINS; i++) {
            if (joins[i].id == hdr->id) {
                joins[i].id = 0;
            }
        }

        joins[njoins % JOINS].id = hdr->id;
        joins[njoins % JOINS].join = join;
        njoins++;

        if (strcmp(join.name, "Full") == 0) {
            say(p, ROOMS_PROTO_SIGNAL, hdr->id,
                "{\"type\":\"error\",\"code\":\"room_full\","
                "\"message\":\"the room is full\"}");
            say_close(p, hdr->id, 4403, "room_full");
            break;
        }

        snprintf(reply, sizeof(reply),
                 "{\"type\":\"welcome\",\"id\":\"p%llu\",\"participants\":[]}",
                 (unsigned long long) (hdr->id & 0xffffffffffffULL));
        say(p, ROOMS_PROTO_SIGNAL, hdr->id, reply);
        break;

    case ROOMS_PROTO_SIGNAL:
        fprintf(out, "SIGNAL %s\n", text);

        msg = json_loadb(text, n, 0, NULL);
        type = json_string_value(json_object_get(msg, "type"));
        mt = type ? rooms_msg_type(type, strlen(type)) : NULL;

        field(msg, "id", name, sizeof(name));
        count = json_integer_value(json_object_get(msg, "count"));
        seq = json_integer_value(json_object_get(msg, "seq"));
        resync = json_is_integer(json_object_get(msg, "resync"))
                 ? json_integer_value(json_object_get(msg, "resync")) : -1;
        json_decref(msg);

        if (mt == NULL) {
            break;
        }

        target = ROOMS_PROTO_CONN(ROOMS_PROTO_SLOT(hdr->id),
                                  strtoull(name + (name[0] == 'p'), NULL,
                                           10));
        j = join_of(target);

        if (j && (mt->id == ROOMS_MSG_COHOST_SET
                  || mt->id == ROOMS_MSG_COHOST_UNSET))
        {
            role.room = j->room;
            role.cohost = mt->id == ROOMS_MSG_COHOST_SET;
            memcpy(role.token, j->token, sizeof(role.token));
            memcpy(role.name, j->name, sizeof(role.name));
            n2 = rooms_msg_role_encode(&role, reply, sizeof(reply));

            if (n2 > 0) {
                say(p, ROOMS_PROTO_ROLE, target, reply);
            }
        }

        j = join_of(hdr->id);

        if (j && mt->id == ROOMS_MSG_LEAVE && j->role == ROOMS_MSG_ROLE_HOST
            && j->host_absent != ROOMS_HOST_ABSENT_STAY)
        {
            absent.room = j->room;
            memcpy(absent.code, j->code, sizeof(absent.code));
            absent.rev = j->rev;
            absent.end = j->host_absent == ROOMS_HOST_ABSENT_END;
            n2 = rooms_msg_host_absent_encode(&absent, reply, sizeof(reply));

            if (n2 > 0) {
                say(p, ROOMS_PROTO_HOST_ABSENT,
                    ROOMS_PROTO_CONN(ROOMS_PROTO_SLOT(hdr->id), 0), reply);
            }
        }

        j = join_of(hdr->id);

        if (j && mt->id == ROOMS_MSG_VIEW && resync >= 0) {
            rs.seq = resync;
            n2 = rooms_msg_resync_encode(&rs, reply, sizeof(reply));

            if (n2 > 0) {
                say(p, ROOMS_PROTO_RESYNC,
                    ROOMS_PROTO_CONN(ROOMS_PROTO_SLOT(hdr->id), 0), reply);
            }

        } else if (j && mt->id == ROOMS_MSG_VIEW && seq > 0) {
            cnt.room = j->room;
            memcpy(cnt.code, j->code, sizeof(cnt.code));
            cnt.count = (unsigned) count;
            cnt.seq = seq;
            n2 = rooms_msg_count_encode(&cnt, reply, sizeof(reply));

            if (n2 > 0) {
                say(p, ROOMS_PROTO_COUNT,
                    ROOMS_PROTO_CONN(ROOMS_PROTO_SLOT(hdr->id), 0), reply);
            }
        }

        if (mt->id == ROOMS_MSG_OFFER) {
            say(p, ROOMS_PROTO_SIGNAL, hdr->id,
                "{\"type\":\"answer\",\"sdp\":\"v=0\",\"streams\":{}}");

        } else if (mt->id == ROOMS_MSG_MEDIA) {
            if (strstr(text, "\"kick\"")) {
                say_close(p, hdr->id, 4000, "kicked");

            } else {
                say(p, ROOMS_PROTO_SIGNAL, hdr->id,
                    "{\"type\":\"participant_media\",\"id\":\"x\","
                    "\"audio\":true,\"video\":false}");
            }
        }

        break;

    case ROOMS_PROTO_ROOM:
        fprintf(out, "ROOM %s\n", text);
        break;

    case ROOMS_PROTO_LEAVE:
        fprintf(out, "LEAVE n=%llu\n",
                (unsigned long long) (hdr->id & 0xffffffffffffULL));
        break;

    case ROOMS_PROTO_DETACH:
        fprintf(out, "DETACH n=%llu\n",
                (unsigned long long) (hdr->id & 0xffffffffffffULL));
        break;

    case ROOMS_PROTO_RESUME:
        fprintf(out, "RESUME slot=%u n=%llu %s\n", ROOMS_PROTO_SLOT(hdr->id),
                (unsigned long long) (hdr->id & 0xffffffffffffULL), text);

        if (rooms_msg_resume_decode(text, n, &res, &why) != 0) {
            fprintf(out, "bad RESUME: %s\n", why);
            break;
        }

        for (i = 0; i < JOINS; i++) {
            if (joins[i].id != 0 && joins[i].join.resume[0] != '\0'
                && strcmp(joins[i].join.resume, res.resume) == 0
                && strcmp(joins[i].join.token, res.token) == 0)
            {
                break;
            }
        }

        if (i == JOINS) {
            say(p, ROOMS_PROTO_SIGNAL, hdr->id,
                "{\"type\":\"error\",\"code\":\"resume_failed\","
                "\"message\":\"nothing to resume\"}");
            say_close(p, hdr->id, 4410, "join again");
            break;
        }

        snprintf(reply, sizeof(reply),
                 "{\"type\":\"resumed\",\"id\":\"p%llu\","
                 "\"participants\":[]}",
                 (unsigned long long) (joins[i].id & 0xffffffffffffULL));
        joins[i].id = hdr->id;
        memcpy(joins[i].join.resume, res.next, sizeof(res.next));
        say(p, ROOMS_PROTO_SIGNAL, hdr->id, reply);
        break;

    default:
        fprintf(out, "UNKNOWN %u\n", hdr->type);
        break;
    }

    return 0;
}


static void
hello(int s)
{
    int                    fds[3], i;
    ssize_t                n;
    rooms_proto_hello_t    h;
    rooms_proto_welcome_t  w;

    n = recv(s, &h, sizeof(h), 0);

    if (n != (ssize_t) sizeof(h) || h.magic != ROOMS_PROTO_MAGIC) {
        fprintf(out, "bad hello\n");
        close(s);
        return;
    }

    memset(&w, 0, sizeof(w));
    w.magic = ROOMS_PROTO_MAGIC;
    w.version = refuse_version ? (uint32_t) refuse_version
                               : ROOMS_PROTO_VERSION;

    if (refuse_version || h.version != ROOMS_PROTO_VERSION) {
        w.status = ROOMS_PROTO_WELCOME_VERSION;
        send(s, &w, sizeof(w), MSG_NOSIGNAL);
        fprintf(out, "hello refused: version\n");
        close(s);
        return;
    }

    for (i = 0; i < PEERS; i++) {
        if (peers[i].ctl == -1) {
            break;
        }
    }

    if (i == PEERS) {
        w.status = ROOMS_PROTO_WELCOME_FULL;
        send(s, &w, sizeof(w), MSG_NOSIGNAL);
        close(s);
        return;
    }

    peers[i].ctl = s;
    peers[i].to_worker = rooms_ring_doorbell_create();
    peers[i].from_worker = rooms_ring_doorbell_create();
    rooms_ring_discard(&peers[i].rx);

    /* as the real worker: nginx reads what follows the welcome */
    rooms_ring_discard(&peers[i].tx);

    w.status = ROOMS_PROTO_WELCOME_OK;
    w.slot = (uint32_t) i;
    w.index = 0;
    w.workers = 1;                /* one media worker: every room here */

    fds[0] = memfd;
    fds[1] = peers[i].to_worker;
    fds[2] = peers[i].from_worker;

    rooms_ring_send_fds(s, &w, sizeof(w), fds, 3);

    fprintf(out, "hello pid=%u slot=%d welcome=%d\n", h.pid, i, ++welcomes);
}


static void
drop(peer_t *p)
{
    fprintf(out, "EOF slot=%d\n", (int) (p - peers));
    close(p->ctl);
    close(p->to_worker);
    close(p->from_worker);
    p->ctl = -1;
}


int
main(int argc, char **argv)
{
    int                 ls, i, n, map[2 * PEERS + 1];
    char                buf[64];
    size_t              size;
    struct pollfd       pfd[2 * PEERS + 1];
    struct sockaddr_un  sa;

    if (argc < 3) {
        fprintf(stderr, "usage: %s socket log [--version N]\n", argv[0]);
        return 2;
    }

    if (argc == 5 && strcmp(argv[3], "--version") == 0) {
        refuse_version = atoi(argv[4]);
    }

    out = fopen(argv[2], "a");
    if (out == NULL) {
        return 1;
    }

    setvbuf(out, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    size = rooms_ring_segment_size(PEERS, CAPACITY);
    memfd = rooms_ring_memfd_create(size, &seg);

    if (memfd == -1 || rooms_ring_segment_init(seg, size, PEERS, CAPACITY)) {
        fprintf(out, "no segment\n");
        return 1;
    }

    for (i = 0; i < PEERS; i++) {
        peers[i].ctl = -1;
        rooms_ring_get(&peers[i].rx, seg, i, ROOMS_RING_TO_WORKER);
        rooms_ring_get(&peers[i].tx, seg, i, ROOMS_RING_FROM_WORKER);
    }

    ls = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
    unlink(argv[1]);

    if (bind(ls, (struct sockaddr *) &sa, sizeof(sa)) == -1
        || listen(ls, 16) == -1)
    {
        fprintf(out, "listen: %s\n", strerror(errno));
        return 1;
    }

    /* nginx workers run as another user when the suite runs as root */
    chmod(argv[1], 0666);

    fprintf(out, "listening\n");

    for ( ;; ) {
        n = 0;
        pfd[n].fd = ls;
        pfd[n].events = POLLIN;
        map[n++] = -1;

        for (i = 0; i < PEERS; i++) {
            if (peers[i].ctl == -1) {
                continue;
            }

            pfd[n].fd = peers[i].ctl;
            pfd[n].events = POLLIN;
            map[n++] = i;
            pfd[n].fd = peers[i].to_worker;
            pfd[n].events = POLLIN;
            map[n++] = i;
        }

        if (poll(pfd, n, -1) == -1) {
            if (errno == EINTR) {
                continue;
            }

            return 1;
        }

        for (i = 0; i < n; i++) {
            if (pfd[i].revents == 0) {
                continue;
            }

            if (map[i] == -1) {
                hello(accept(ls, NULL, NULL));
                continue;
            }

            if (peers[map[i]].ctl == -1) {
                continue;
            }

            if (pfd[i].fd == peers[map[i]].ctl) {
                if (recv(pfd[i].fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0) {
                    drop(&peers[map[i]]);
                }

                continue;
            }

            rooms_ring_doorbell_drain(pfd[i].fd);
            rooms_ring_read(&peers[map[i]].rx, on_record, &peers[map[i]],
                            1000);
        }
    }
}
