/*
 * load_main.c: rooms-load's options, its one event loop and the run's
 * phases (docs/performance.md).
 *
 *   rooms-load --port 8080 --rooms 1 --per-room 50 --spread 5000 \
 *              --seconds 10 [--loss 0.05] [--delay 20] [--worker-pid N[,N]] \
 *              [--nginx-pids A,B] [--label room50]
 *
 * creates the rooms over the HTTP API, then joins every participant (one
 * WebSocket through nginx and one UDP socket each) spread over --spread
 * ms, waits until everyone receives everyone (bounded), measures
 * --seconds of media, has everyone leave, and prints one row of figures.
 * Exit status 0 when the behaviour held (everyone in, everyone's audio
 * and video reached everyone, no corrupt or misrouted sample, everyone
 * left with close 1000), 1 otherwise; timing never decides it.
 *
 * Owns: the sockets' registration with epoll, the clock, the random
 * source, the impairment (--loss drops and --delay holds datagrams in both
 * directions, inside the tool: this kernel has no netem), the phases and
 * their bounds.
 * Must never: run unbounded (every phase has a deadline), or send
 * anywhere but the nginx and media addresses it was given or answered.
 * May not: include sfu.h
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "load.h"


load_run_t  load_run;

static volatile sig_atomic_t  load_stop_signal;


uint64_t
load_now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}


/* xorshift128+: the impairment's and the tool's draws, not secrets */
static uint64_t  load_rs[2];

static uint64_t
load_rand64(void)
{
    uint64_t  x = load_rs[0], y = load_rs[1];

    load_rs[0] = y;
    x ^= x << 23;
    load_rs[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
    return load_rs[1] + y;
}


double
load_random(void)
{
    return (double) (load_rand64() >> 11) / 9007199254740992.0;
}


void
load_random_bytes(void *buf, size_t n)
{
    uint8_t  *b = buf;
    uint64_t  v;

    while (n) {
        v = load_rand64();
        for (int i = 0; i < 8 && n; i++, n--) {
            *b++ = (uint8_t) (v >> (8 * i));
        }
    }
}


void
load_log(load_peer_t *p, const char *fmt, ...)
{
    va_list  ap;

    fprintf(stderr, "%8.3f p%u ", (load_now_us() - load_run.start_us) / 1e6,
            p ? p->index : 0);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}


void
load_fail(load_peer_t *p, const char *fmt, ...)
{
    va_list  ap;

    if (p->state == LP_FAILED) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(p->close_reason, sizeof(p->close_reason), fmt, ap);
    va_end(ap);
    load_log(p, "failed: %s", p->close_reason);
    p->state = LP_FAILED;
    p->tx_on = 0;
    if (p->ws_fd >= 0) {
        epoll_ctl(load_run.ep, EPOLL_CTL_DEL, p->ws_fd, NULL);
        close(p->ws_fd);
        p->ws_fd = -1;
    }
}


/* ---- the impairment: datagrams held for --delay ---------------------- */

typedef struct load_held_s  load_held_t;

struct load_held_s {
    load_held_t  *next;
    uint64_t      due;
    unsigned      peer;
    size_t        len;
    uint8_t       data[];
};

typedef struct {
    load_held_t  *head, *tail;
} load_fifo_t;

static load_fifo_t  load_out_q, load_in_q;


static void
load_hold(load_fifo_t *q, unsigned peer, const uint8_t *buf, size_t len,
    uint64_t due)
{
    load_held_t  *h = malloc(sizeof(*h) + len);

    if (h == NULL) {
        return;
    }
    h->next = NULL;
    h->due = due;
    h->peer = peer;
    h->len = len;
    memcpy(h->data, buf, len);
    if (q->tail) {
        q->tail->next = h;
    } else {
        q->head = h;
    }
    q->tail = h;
}


static uint64_t  load_tx_packets, load_rx_packets_all;


static void
load_sendto(load_peer_t *p, const uint8_t *buf, size_t len)
{
    if (p->udp_fd < 0 || !p->have_remote) {
        return;
    }
    if (sendto(p->udp_fd, buf, len, 0, (struct sockaddr *) &p->remote,
               sizeof(p->remote)) == (ssize_t) len && load_run.measuring)
    {
        load_tx_packets++;
    }
}


void
load_udp_send(load_peer_t *p, const uint8_t *buf, size_t len)
{
    if (load_run.opt.loss > 0 && load_random() < load_run.opt.loss) {
        load_run.stats.impaired_out++;
        return;
    }
    if (load_run.opt.delay_ms) {
        load_hold(&load_out_q, p->index, buf, len,
                  load_now_us() + load_run.opt.delay_ms * 1000ull);
        return;
    }
    load_sendto(p, buf, len);
}


static void
load_drain_held(uint64_t now)
{
    load_held_t  *h;
    load_peer_t  *p;

    while ((h = load_out_q.head) != NULL && h->due <= now) {
        load_out_q.head = h->next;
        if (load_out_q.head == NULL) {
            load_out_q.tail = NULL;
        }
        load_sendto(&load_run.peers[h->peer], h->data, h->len);
        free(h);
    }
    while ((h = load_in_q.head) != NULL && h->due <= now) {
        load_in_q.head = h->next;
        if (load_in_q.head == NULL) {
            load_in_q.tail = NULL;
        }
        p = &load_run.peers[h->peer];
        if (p->state != LP_FAILED) {
            load_rx_input(p, h->data, h->len, h->due);
        }
        free(h);
    }
}


#define LOAD_BATCH  32

/* CLOCK_REALTIME minus CLOCK_MONOTONIC at start-up, in us: turns the
 * kernel's receive timestamps (realtime) into the tool's clock */
static int64_t  load_rt_off;


/*
 * Arrival times are the kernel's (SO_TIMESTAMPNS), not when this loop got
 * round to the socket: with 50 participants in one process the loop's own
 * delay would read as network queuing in the transport feedback (the
 * server's estimate of our downlink) and in the relay latency.
 */
/* again on every turn: NTP may slew the realtime clock during a run */
static void
load_clock_sync(void)
{
    struct timespec  rt;
    uint64_t         m = load_now_us();

    clock_gettime(CLOCK_REALTIME, &rt);
    load_rt_off = (int64_t) rt.tv_sec * 1000000 + rt.tv_nsec / 1000
                  - (int64_t) m;
}


static uint64_t
load_arrival(struct msghdr *mh, uint64_t now)
{
    struct cmsghdr   *c;
    struct timespec   ts;
    int64_t           t;

    for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            t = (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000
                - load_rt_off;
            return t > 0 && (uint64_t) t <= now ? (uint64_t) t : now;
        }
    }
    return now;
}


static void
load_udp_read(load_peer_t *p)
{
    static uint8_t       bufs[LOAD_BATCH][LOAD_DGRAM + 64];
    static uint8_t       ctl[LOAD_BATCH][64];
    struct mmsghdr       msgs[LOAD_BATCH];
    struct iovec         iov[LOAD_BATCH];
    int                  n, i;
    uint64_t             now, at;

    for (;;) {
        for (i = 0; i < LOAD_BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = LOAD_DGRAM;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = ctl[i];
            msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
        }
        n = recvmmsg(p->udp_fd, msgs, LOAD_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            return;
        }
        now = load_now_us();
        for (i = 0; i < n; i++) {
            at = load_arrival(&msgs[i].msg_hdr, now);
            if (load_run.measuring) {
                load_rx_packets_all++;
            }
            if (load_run.opt.loss > 0 && load_random() < load_run.opt.loss) {
                load_run.stats.impaired_in++;
                continue;
            }
            if (p->state == LP_FAILED) {
                continue;
            }
            if (load_run.opt.delay_ms) {
                load_hold(&load_in_q, p->index, bufs[i], msgs[i].msg_len,
                          at + load_run.opt.delay_ms * 1000ull);
            } else {
                load_rx_input(p, bufs[i], msgs[i].msg_len, at);
            }
        }
        if (n < LOAD_BATCH) {
            return;
        }
    }
}


/* ---- set-up ------------------------------------------------------------ */

static void
load_rand_text(char *out, size_t n)
{
    static const char  a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t            r[64];
    size_t             i;

    load_random_bytes(r, n);
    for (i = 0; i < n; i++) {
        out[i] = a[r[i] & 63];
    }
    out[n] = '\0';
}


static uint32_t
load_ssrc(void)
{
    uint32_t  v;

    do {
        load_random_bytes(&v, sizeof(v));
    } while (v == 0);
    return v;
}


static int
load_peer_init(load_peer_t *p, unsigned i)
{
    struct sockaddr_in  sa;
    socklen_t           sl = sizeof(sa);
    unsigned            l;
    int                 size = 4 << 20;

    memset(p, 0, sizeof(*p));
    p->index = i;
    /* Janus: records N.. are the subscriber connections of 0.. */
    p->twin = -1;
    p->is_sub = load_run.opt.janus && i >= load_run.nlogical;
    if (load_run.opt.janus) {
        p->twin = (int) (p->is_sub ? i - load_run.nlogical
                                   : i + load_run.nlogical);
        p->controlled = p->is_sub;
    }
    p->room = (i % load_run.nlogical) % load_run.opt.rooms;
    p->host = i < load_run.opt.rooms;     /* the first of each room */
    snprintf(p->name, sizeof(p->name), "load %u", i % load_run.nlogical);
    p->ws_fd = -1;
    load_rand_text(p->ufrag, 4);
    load_rand_text(p->pwd, 24);
    p->audio.ssrc = load_ssrc();
    load_random_bytes(&p->audio.ts_base, 4);
    load_random_bytes(&p->audio.seq, 2);
    for (l = 0; l < LOAD_LAYERS; l++) {
        p->video[l].ssrc = load_ssrc();
        p->video[l].rtx_ssrc = load_ssrc();
        load_random_bytes(&p->video[l].ts_base, 4);
        load_random_bytes(&p->video[l].seq, 2);
        load_random_bytes(&p->picture_id[l], 2);
        p->picture_id[l] &= 0x7fff;
    }
    p->layers = 1;

    p->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->udp_fd < 0) {
        return -1;
    }
    /* root (the namespace needs it anyway) may pass rmem_max */
    if (setsockopt(p->udp_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
                   sizeof(size)) != 0)
    {
        setsockopt(p->udp_fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
    size = 1;
    setsockopt(p->udp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &size, sizeof(size));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, load_run.opt.local_ip, &sa.sin_addr);
    if (bind(p->udp_fd, (struct sockaddr *) &sa, sizeof(sa)) != 0
        || getsockname(p->udp_fd, (struct sockaddr *) &sa, &sl) != 0)
    {
        return -1;
    }
    p->local_port = ntohs(sa.sin_port);

    struct epoll_event ev = {
        .events = EPOLLIN, .data.u64 = ((uint64_t) i << 1) | 1
    };
    return epoll_ctl(load_run.ep, EPOLL_CTL_ADD, p->udp_fd, &ev);
}


static void
load_usage(void)
{
    fprintf(stderr,
"usage: rooms-load --port N [--host 127.0.0.1] [--rooms R] [--per-room N]\n"
"         [--spread MS] [--seconds S] [--loss P] [--delay MS] [--sample N]\n"
"         [--tile WxH] [--speakers N] [--audio-slots N] [--worker-pid PID[,PID]]\n"
"         [--nginx-pids A,B] [--label TEXT] [--json FILE] [--no-simulcast]\n"
"         [--janus-http PORT --local-ip IP: Janus VideoRoom, WebSocket on\n"
"          --port] [-v]\n");
}


static int
load_options(int argc, char **argv)
{
    load_opts_t  *o = &load_run.opt;
    int           c;

    static const struct option  opts[] = {
        { "host", 1, NULL, 'H' }, { "port", 1, NULL, 'p' },
        { "rooms", 1, NULL, 'r' }, { "per-room", 1, NULL, 'n' },
        { "spread", 1, NULL, 's' }, { "seconds", 1, NULL, 't' },
        { "loss", 1, NULL, 'l' }, { "delay", 1, NULL, 'd' },
        { "sample", 1, NULL, 'S' }, { "tile", 1, NULL, 'T' },
        { "speakers", 1, NULL, 'k' }, { "worker-pid", 1, NULL, 'w' },
        { "nginx-pids", 1, NULL, 'N' }, { "label", 1, NULL, 'L' },
        { "json", 1, NULL, 'j' }, { "verbose", 0, NULL, 'v' },
        { "janus-http", 1, NULL, 'J' }, { "local-ip", 1, NULL, 'i' },
        { "no-simulcast", 0, NULL, 'M' }, { "audio-slots", 1, NULL, 'A' },
        { NULL, 0, NULL, 0 }
    };

    o->host = "127.0.0.1";
    o->rooms = 1;
    o->per_room = 6;
    o->spread_ms = 1000;
    o->seconds = 5;
    o->sample = 32;
    o->tile_w = 320;
    o->tile_h = 180;
    o->speakers = 3;
    o->audio_slots = 3;           /* rooms_audio_slots' default */
    o->label = "run";
    o->local_ip = "127.0.0.1";

    while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
        switch (c) {
        case 'H': o->host = optarg; break;
        case 'p': o->port = (unsigned) atoi(optarg); break;
        case 'r': o->rooms = (unsigned) atoi(optarg); break;
        case 'n': o->per_room = (unsigned) atoi(optarg); break;
        case 's': o->spread_ms = (unsigned) atoi(optarg); break;
        case 't': o->seconds = (unsigned) atoi(optarg); break;
        case 'l': o->loss = atof(optarg); break;
        case 'd': o->delay_ms = (unsigned) atoi(optarg); break;
        case 'S': o->sample = (unsigned) atoi(optarg); break;
        case 'T':
            if (sscanf(optarg, "%ux%u", &o->tile_w, &o->tile_h) != 2) {
                return -1;
            }
            break;
        case 'k': o->speakers = (unsigned) atoi(optarg); break;
        case 'A': o->audio_slots = (unsigned) atoi(optarg); break;
        case 'w': o->worker_pid = atoi(optarg); o->worker_pids = optarg;
                  break;
        case 'N': o->nginx_pids = optarg; break;
        case 'L': o->label = optarg; break;
        case 'j': o->json = optarg; break;
        case 'v': o->verbose++; break;
        case 'J': o->janus = 1; o->janus_http = (unsigned) atoi(optarg);
                  break;
        case 'i': o->local_ip = optarg; break;
        case 'M': o->no_simulcast = 1; break;
        default: return -1;
        }
    }

    /* the bounds a run keeps: a load tool must stop by itself */
    if (o->port == 0 || o->port > 65535 || o->rooms == 0
        || o->rooms > LOAD_MAX_ROOMS || o->per_room < 2
        || o->per_room > 50 || o->rooms * o->per_room > LOAD_MAX_PEERS
        || o->seconds == 0 || o->seconds > 600 || o->spread_ms > 60000
        || o->loss < 0 || o->loss >= 0.5 || o->delay_ms > 1000
        || o->speakers == 0 || o->speakers > o->per_room
        || o->audio_slots == 0 || o->audio_slots > 8
        || o->rooms * o->per_room * (o->janus ? 2 : 1) > LOAD_MAX_PEERS)
    {
        return -1;
    }
    return 0;
}


/* ---- the run ---------------------------------------------------------- */

/*
 * everyone in p's room has reached p: video from each up to the 16 video
 * slots, and audio as the server forwards it.  Janus forwards every
 * voice.  ngx_rooms forwards the audio_slots loudest (top-N audio): p has
 * had that many voices, and has heard each one who talked through a whole
 * talk slot while both were in the call (from 1 s after p's welcome and
 * the talker's DTLS, the time a line takes to move with room to spare,
 * until now or the measured window's end).
 */
int
load_complete(load_peer_t *p)
{
    unsigned  i, others = 0, a = 0, v = 0, s, from, to, need;
    uint64_t  now;

    if (p->twin >= 0 && !p->is_sub) {
        /* Janus: its subscriber connection receives */
        load_peer_t *r = &load_run.peers[p->twin];
        for (i = 0; i < load_run.nlogical; i++) {
            if (i == p->index || load_run.peers[i].room != p->room
                || load_run.peers[i].state == LP_FAILED)
            {
                continue;
            }
            others++;
            a += r->first_a[i] != 0;
            v += r->first_v[i] != 0;
        }
        return a == others && v >= (others < 16 ? others : 16);
    }

    for (i = 0; i < load_run.nlogical; i++) {
        /* one who failed is reported as such, not against everyone */
        if (i == p->index || load_run.peers[i].room != p->room
            || load_run.peers[i].state == LP_FAILED)
        {
            continue;
        }
        others++;
        a += p->first_a[i] != 0;
        v += p->first_v[i] != 0;
    }
    need = others < load_run.opt.audio_slots ? others
                                             : load_run.opt.audio_slots;
    if (a < need || v < (others < 16 ? others : 16) || p->welcome_us == 0) {
        return 0;
    }

    /* whole talk slots inside [welcome + 1 s, now] */
    now = load_run.end_us ? load_run.end_us : load_now_us();
    if (p->welcome_us + 1000000 < load_run.start_us
        || now < p->welcome_us + 1000000)
    {
        from = 0;
    } else {
        from = (unsigned) ((p->welcome_us + 1000000 - load_run.start_us
                            + LOAD_TALK_US - 1) / LOAD_TALK_US);
    }
    to = now > load_run.start_us
         ? (unsigned) ((now - load_run.start_us) / LOAD_TALK_US) : 0;
    for (s = from; s < to; s++) {
        for (i = 0; i < load_run.nlogical; i++) {
            if (i != p->index && load_run.peers[i].room == p->room
                && load_run.peers[i].state != LP_FAILED
                && load_run.peers[i].dtls_us != 0
                && load_run.peers[i].dtls_us + 1000000
                   <= load_run.start_us + (uint64_t) s * LOAD_TALK_US
                && load_talking(i, s) && p->first_a[i] == 0)
            {
                return 0;
            }
        }
    }
    return 1;
}


static void load_clock_sync(void);

static void
load_turn(uint64_t now)
{
    unsigned     i;
    load_peer_t *p;

    load_clock_sync();

    for (i = 0; i < load_run.npeers; i++) {
        p = &load_run.peers[i];
        if (p->state == LP_FAILED || (p->state == LP_IDLE && !p->is_sub)) {
            continue;
        }
        if (p->is_sub && p->answer_us == 0) {
            continue;
        }
        load_ice_tick(p, now);
        load_dtls_tick(p, now);
        if (load_run.opt.janus && !p->is_sub) {
            load_janus_tick(p, now);
        }
        load_media_tick(p, now);
        load_rx_tick(p, now);
    }
    load_drain_held(now);
}


/* runs the loop until done() says so or deadline_us passes */
static void
load_loop(uint64_t deadline_us, int (*done)(uint64_t now))
{
    struct epoll_event  ev[64];
    int                 n, i;
    uint64_t            now, last = 0, last_done = 0;
    load_peer_t        *p;

    for (;;) {
        now = load_now_us();
        if (now >= deadline_us || load_stop_signal) {
            return;
        }
        /* done() walks every pair of participants: not on every wake-up */
        if (done && now - last_done >= 20000) {
            last_done = now;
            if (done(now)) {
                return;
            }
        }
        n = epoll_wait(load_run.ep, ev, 64, 1);
        for (i = 0; i < n; i++) {
            p = &load_run.peers[ev[i].data.u64 >> 1];
            if (ev[i].data.u64 & 1) {
                load_udp_read(p);
            } else {
                load_ws_event(p, ev[i].events);
            }
        }
        now = load_now_us();
        if (now - last >= 1000) {
            load_turn(now);
            last = now;
        }
    }
}


static uint64_t  load_join_from;

static int
load_join_done(uint64_t now)
{
    unsigned  i, start;

    /* joins leave on their schedule */
    for (i = 0; i < load_run.nlogical; i++) {
        load_peer_t *p = &load_run.peers[i];
        start = load_run.nlogical > 1
                ? (unsigned) ((uint64_t) load_run.opt.spread_ms * 1000 * i
                              / (load_run.nlogical - 1))
                : 0;
        if (p->state == LP_IDLE && now >= load_join_from + start) {
            load_ws_start(p);
        }
    }
    for (i = 0; i < load_run.nlogical; i++) {
        load_peer_t *p = &load_run.peers[i];
        if (p->state == LP_FAILED) {
            continue;
        }
        if (p->state != LP_IN || !load_complete(p)) {
            return 0;
        }
    }
    return 1;
}


static int
load_left_done(uint64_t now)
{
    unsigned  i;

    (void) now;
    for (i = 0; i < load_run.npeers; i++) {
        if (load_run.peers[i].state == LP_LEAVING) {
            return 0;
        }
    }
    return 1;
}


static void
load_on_signal(int sig)
{
    (void) sig;
    load_stop_signal = 1;
}


uint64_t  load_measured_tx, load_measured_rx;

int
main(int argc, char **argv)
{
    unsigned  i, seed[4];
    uint64_t  now;

    if (load_options(argc, argv) != 0) {
        load_usage();
        return 2;
    }

    if (getrandom(seed, sizeof(seed), 0) != sizeof(seed)) {
        return 2;
    }
    memcpy(load_rs, seed, sizeof(load_rs));
    load_rs[0] |= 1;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, load_on_signal);
    signal(SIGTERM, load_on_signal);

    load_run.start_us = load_now_us();
    load_clock_sync();

    /* the media every participant replays: 4 s at 30 frames a second */
    if (load_media_encode(&load_run.media, 4, 30) != 0
        || load_dtls_global() != 0)
    {
        return 2;
    }
    if (load_run.opt.verbose) {
        load_log(NULL, "media encoded: %zu payloads", load_run.media.nhashes);
    }

    load_run.ep = epoll_create1(EPOLL_CLOEXEC);
    load_run.nlogical = load_run.opt.rooms * load_run.opt.per_room;
    load_run.npeers = load_run.nlogical * (load_run.opt.janus ? 2 : 1);
    load_run.peers = calloc(load_run.npeers, sizeof(load_peer_t));
    if (load_run.ep < 0 || load_run.peers == NULL) {
        return 2;
    }

    for (i = 0; i < load_run.opt.rooms; i++) {
        if ((load_run.opt.janus ? load_janus_create_room(i)
                                : load_create_room(i)) != 0)
        {
            return 2;
        }
    }
    for (i = 0; i < load_run.npeers; i++) {
        if (load_peer_init(&load_run.peers[i], i) != 0) {
            fprintf(stderr, "rooms-load: a UDP socket: %s\n",
                    strerror(errno));
            return 2;
        }
    }

    load_report_proc_start();

    /* joining: bounded by the spread and 30 s more */
    load_join_from = load_now_us();
    load_loop(load_join_from + load_run.opt.spread_ms * 1000ull + 30000000,
              load_join_done);

    /* measuring: the receive counters start again (the join's own
     * losses are the join's) */
    for (i = 0; i < load_run.npeers; i++) {
        load_peer_t *p = &load_run.peers[i];
        for (unsigned k = 0; k < p->nlines; k++) {
            p->lines[k].packets = p->lines[k].lost = p->lines[k].dups = 0;
            p->lines[k].reordered = p->lines[k].recovered = 0;
            /* what was missing before is not judged in the window (a
             * line paused since then would read as all lost) */
            if (p->lines[k].started) {
                p->lines[k].base = p->lines[k].top + 1;
            }
        }
    }
    load_report_proc_mark(0);
    load_run.measuring = 1;
    load_run.media_from_us = load_now_us();
    load_loop(load_run.media_from_us + load_run.opt.seconds * 1000000ull,
              NULL);
    load_run.media_to_us = load_now_us();
    load_run.measuring = 0;
    load_report_proc_mark(1);
    load_measured_tx = load_tx_packets;
    load_measured_rx = load_rx_packets_all;

    /* the senders stop; what is in flight arrives and gaps are repaired */
    for (i = 0; i < load_run.npeers; i++) {
        load_run.peers[i].tx_on = 0;
    }
    now = load_now_us();
    load_loop(now + 400000 + 4000ull * load_run.opt.delay_ms, NULL);
    for (i = 0; i < load_run.npeers; i++) {
        load_rx_close(&load_run.peers[i]);
    }

    /* everyone leaves */
    for (i = 0; i < load_run.nlogical; i++) {
        if (load_run.opt.janus) {
            load_janus_leave(&load_run.peers[i]);
        } else {
            load_ws_leave(&load_run.peers[i]);
        }
    }
    now = load_now_us();
    load_loop(now + 10000000, load_left_done);

    /* the worker's memory once everyone has gone */
    now = load_now_us();
    load_loop(now + 1000000, NULL);
    load_report_proc_mark(2);

    for (i = 0; i < load_run.npeers; i++) {
        load_dtls_free(&load_run.peers[i]);
        if (load_run.peers[i].udp_fd >= 0) {
            close(load_run.peers[i].udp_fd);
        }
    }

    return load_report();
}
