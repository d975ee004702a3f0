/*
 * main.c: the media worker process (build/rooms-worker): its command
 * line, the machine's interface list (getifaddrs, handed to addrs.h),
 * and the wiring of the event loop (loop.h) to the UDP sockets (udp.h),
 * the ICE-TCP listener (tcp.h), the link with the nginx workers (link.h)
 * and the SFU (sfu.h).
 *
 *     rooms-worker --udp-port 40000 --control /run/rooms/worker.sock
 *                  [--announce-ip IP]... [--announce-loopback]
 *                  [--bind-ip 0.0.0.0] [--tcp-port 40000]
 *                  [--socket-user www-data] [--socket-group www-data]
 *                  [--log-level info|debug] [--workers N]
 *
 * Owns: the order of one turn of the loop (the SFU's timers, the
 * datagrams and records they queued, the wait, what the wait woke up),
 * SIGTERM, SIGINT and SIGQUIT (a signalfd; SIGQUIT drains: sfu_drain(),
 * then it stops once nobody is left), the statistics line and the
 * STATS records of the metrics page; with --workers N, what makes media
 * worker i of N (its port and socket) once workers.c forked it.
 * Must never: block but in the loop's wait; do what the files it wires
 * do.
 * May not: include <sys/epoll.h>, include rooms_ring.h, call epoll_, call rooms_ring_, call sendmmsg, call recvmmsg, call clock_gettime, call json_
 */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grp.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>

#include <sys/resource.h>
#include <sys/signalfd.h>

#include "rooms_limits.h"
#include "addrs.h"
#include "ice.h"
#include "link.h"
#include "loop.h"
#include "sfu.h"
#include "tcp.h"
#include "udp.h"
#include "workers.h"
#include "rooms_shard.h"


/*
 * Outgoing datagrams queued before a sendmmsg flush.  One input packet
 * may fan out to 999 subscribers; the SFU flushes whenever it is full.
 */
#define W_TX_QUEUE         1024

/* the longest the loop sleeps: timers are never later than this */
#define W_WAIT_MAX_MS      100

/* a drained worker's last wait, for nginx to read its CLOSE records */
#define W_DRAIN_LINGER_MS  1000

/* how often the statistics line is written while people are in */
#define W_STATS_MS         60000

/* a UDP socket for each address announced */
#if ROOMS_ADDRS_MAX > ROOMS_UDP_MAX_SOCKETS
#error "ROOMS_ADDRS_MAX > ROOMS_UDP_MAX_SOCKETS"
#endif

/* interface addresses looked at, at most (getifaddrs' list) */
#define W_IFADDRS_MAX      256


typedef struct {
    int              port;
    int              tcp_port;        /* -1: the UDP port; 0: off */
    int              tcp_given;       /* --tcp-port was given */
    unsigned         nannounce;
    const char      *announce[ROOMS_ADDRS_MAX];
    int              loopback;        /* announce loopback addresses too */
    const char      *bind_ip;
    const char      *control;
    const char      *socket_user;
    const char      *socket_group;
    rooms_link_access_t  access;
    size_t           ring_capacity;   /* bytes per ring */
    int              log_level;
    unsigned         workers;         /* --workers */
    unsigned         index;           /* this one, 0 .. workers - 1 */
} w_args_t;


typedef struct {
    rooms_loop_t    *loop;
    rooms_udp_t     *udp;
    rooms_tcp_t     *tcp;
    rooms_link_t    *link;
    sfu_t           *sfu;
    sfu_io_t         io;
    int              sigfd;
    unsigned         stop;
    unsigned         drain;           /* SIGQUIT: a drain, stop when empty */
    uint64_t         drain_until;
    rooms_loop_ev_t  ev_udp[ROOMS_UDP_MAX_SOCKETS];
    rooms_loop_ev_t  ev_signal;

    /* the addresses announced, and their candidates */
    unsigned          naddrs;
    rooms_stun_addr_t addrs[ROOMS_ADDRS_MAX];
    unsigned          ncands;
    rooms_sdp_cand_t  cands[ROOMS_SDP_MAX_CANDS];
} w_t;


static void
w_usage(void)
{
    fprintf(stderr,
            "usage: rooms-worker --udp-port PORT --control PATH\n"
            "                    [--announce-ip IP]... "
            "[--announce-loopback] [--bind-ip IP]\n"
            "                    [--tcp-port PORT (0: off)] "
            "[--socket-user USER] [--socket-group GROUP]\n"
            "                    [--log-level info|debug] "
            "[--ring-capacity BYTES] [--workers N]\n");
}


/* A number, or -1 when s is not one (a name to look up). */
static long
w_id_number(const char *s)
{
    char  *end;
    long   n;

    if (*s < '0' || *s > '9') {
        return -1;
    }

    n = strtol(s, &end, 10);

    return (*end == '\0' && n >= 0 && n < 0x7fffffff) ? n : -1;
}


/*
 * Who may use the control socket (link.h, rooms_link_access_t): the
 * nginx workers' user, by name or number, and its group (by default the
 * user's primary group).  A media worker started as root with neither
 * serves nginx's own default worker user, "nobody"; one started as
 * another user serves only that user (and root).  0, or -1 with the
 * reason printed.
 */
static int
w_access(w_args_t *a)
{
    long            n;
    const char     *user;
    struct group   *gr;
    struct passwd  *pw;

    a->access.uid = (uid_t) -1;
    a->access.gid = (gid_t) -1;

    user = a->socket_user;

    if (user == NULL && a->socket_group == NULL && geteuid() == 0) {
        user = "nobody";
    }

    if (user != NULL) {
        n = w_id_number(user);
        pw = n >= 0 ? getpwuid((uid_t) n) : getpwnam(user);

        if (pw == NULL && n < 0) {
            fprintf(stderr, "rooms-worker: --socket-user %s: no such user\n",
                    user);
            return -1;
        }

        a->access.uid = pw != NULL ? pw->pw_uid : (uid_t) n;

        if (a->socket_group == NULL && pw != NULL) {
            a->access.gid = pw->pw_gid;
        }
    }

    if (a->socket_group != NULL) {
        n = w_id_number(a->socket_group);
        gr = n >= 0 ? NULL : getgrnam(a->socket_group);

        if (gr == NULL && n < 0) {
            fprintf(stderr, "rooms-worker: --socket-group %s: no such "
                    "group\n", a->socket_group);
            return -1;
        }

        a->access.gid = gr != NULL ? gr->gr_gid : (gid_t) n;
    }

    return 0;
}


/* Reads the command line into a: 0, or -1 (usage). */
static int
w_args(int argc, char **argv, w_args_t *a)
{
    int          i;
    long         n;
    char        *end;
    const char  *level;

    memset(a, 0, sizeof(w_args_t));
    a->tcp_port = -1;
    a->ring_capacity = ROOMS_RING_CAPACITY_DEFAULT;
    level = "info";

    /* a media worker per core by default (docs/architecture.md) */
    n = sysconf(_SC_NPROCESSORS_ONLN);
    a->workers = n < 1 ? 1 : n > ROOMS_SHARD_MAX ? ROOMS_SHARD_MAX
                 : (unsigned) n;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--announce-loopback") == 0) {
            a->loopback = 1;
            continue;
        }

        if (i + 1 >= argc) {
            return -1;
        }

        if (strcmp(argv[i], "--udp-port") == 0) {
            a->port = atoi(argv[++i]);

        } else if (strcmp(argv[i], "--announce-ip") == 0) {
            if (a->nannounce == ROOMS_ADDRS_MAX) {
                return -1;
            }

            a->announce[a->nannounce++] = argv[++i];

        } else if (strcmp(argv[i], "--tcp-port") == 0) {
            char *end;
            long p = strtol(argv[++i], &end, 10);
            if (*end != '\0' || end == argv[i] || p < 0 || p > 65535) {
                return -1;
            }
            a->tcp_port = (int) p;
            a->tcp_given = 1;

        } else if (strcmp(argv[i], "--control") == 0) {
            a->control = argv[++i];

        } else if (strcmp(argv[i], "--bind-ip") == 0) {
            a->bind_ip = argv[++i];

        } else if (strcmp(argv[i], "--socket-user") == 0) {
            a->socket_user = argv[++i];

        } else if (strcmp(argv[i], "--socket-group") == 0) {
            a->socket_group = argv[++i];

        } else if (strcmp(argv[i], "--log-level") == 0) {
            level = argv[++i];

        } else if (strcmp(argv[i], "--workers") == 0) {
            /* 0: the default, a media worker per core */
            n = strtol(argv[++i], &end, 10);
            if (*end != '\0' || n < 0 || n > ROOMS_SHARD_MAX) {
                return -1;
            }
            if (n > 0) {
                a->workers = (unsigned) n;
            }

        } else if (strcmp(argv[i], "--ring-capacity") == 0) {
            /* a power of two within the ring's bounds (rooms_limits.h) */
            char *end;
            unsigned long long c = strtoull(argv[++i], &end, 10);
            if (*end != '\0' || c < ROOMS_RING_CAPACITY_MIN
                || c > ROOMS_RING_CAPACITY_MAX || (c & (c - 1)) != 0)
            {
                return -1;
            }
            a->ring_capacity = (size_t) c;

        } else {
            return -1;
        }
    }

    if (strcmp(level, "debug") == 0) {
        a->log_level = ROOMS_LOG_DEBUG;

    } else if (strcmp(level, "info") == 0) {
        a->log_level = ROOMS_LOG_INFO;

    } else {
        return -1;
    }

    /* media worker i listens on port + i (and on TCP, tcp_port + i) */
    if (a->port <= 0 || a->port + (int) a->workers - 1 > 65535
        || (a->tcp_port > 0 && a->tcp_port + (int) a->workers - 1 > 65535)
        || a->control == NULL)
    {
        return -1;
    }

    return 0;
}


/*
 * The STATS record (rooms_proto.h) to every nginx worker: the SFU's
 * totals, its CPU time and resident memory.
 */
static void
w_metrics(w_t *w)
{
    long                  pages;
    FILE                 *f;
    struct rusage         ru;
    const sfu_stats_t    *s;
    rooms_proto_stats_t   st;

    s = sfu_stats(w->sfu);

    memset(&st, 0, sizeof(st));
    st.participants = sfu_participants(w->sfu);
    st.rx_stun = s->rx_stun;
    st.rx_dtls = s->rx_dtls;
    st.rx_rtp = s->rx_rtp;
    st.rx_rtcp = s->rx_rtcp;
    st.rx_unknown = s->rx_unknown;
    st.rx_bad = s->rx_bad;
    st.unprotect_fail = s->unprotect_fail;
    st.tx = s->tx;
    st.tx_dropped = s->tx_dropped;
    st.fwd = s->fwd;
    st.fwd_dropped = s->fwd_dropped;
    st.nack_sent = s->nack_sent;
    st.nack_resent = s->nack_resent;
    st.pli_sent = s->pli_sent;
    st.joins = s->joins;
    st.refused = s->refused;
    st.timeouts = s->timeouts;

    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        st.cpu_usec = (uint64_t) ru.ru_utime.tv_sec * 1000000
                      + ru.ru_utime.tv_usec
                      + (uint64_t) ru.ru_stime.tv_sec * 1000000
                      + ru.ru_stime.tv_usec;
    }

    /* statm's second field: resident pages */
    f = fopen("/proc/self/statm", "r");

    if (f != NULL) {
        if (fscanf(f, "%*s %ld", &pages) == 1 && pages > 0) {
            st.rss_bytes = (uint64_t) pages * (uint64_t) sysconf(_SC_PAGESIZE);
        }

        fclose(f);
    }

    (void) rooms_link_record_all(w->link, ROOMS_PROTO_STATS, &st, sizeof(st));
}


static void
w_stats(w_t *w)
{
    const sfu_stats_t  *s;

    s = sfu_stats(w->sfu);

    rooms_log(ROOMS_LOG_INFO, "stats: rx %llu (stun %llu dtls %llu rtp %llu "
              "rtcp %llu unknown %llu bad %llu unprotect-fail %llu) tx %llu "
              "(dropped %llu, send failures %llu, tcp %llu) forwarded %llu (dropped "
              "%llu) nack %llu pli %llu records %llu (dropped %llu) joins "
              "%llu knocks %llu leaves %llu timeouts %llu",
              (unsigned long long) s->rx, (unsigned long long) s->rx_stun,
              (unsigned long long) s->rx_dtls, (unsigned long long) s->rx_rtp,
              (unsigned long long) s->rx_rtcp,
              (unsigned long long) s->rx_unknown,
              (unsigned long long) s->rx_bad,
              (unsigned long long) s->unprotect_fail,
              (unsigned long long) s->tx, (unsigned long long) s->tx_dropped,
              (unsigned long long) rooms_udp_tx_fail(w->udp),
              (unsigned long long) rooms_tcp_tx_fail(w->tcp),
              (unsigned long long) s->fwd,
              (unsigned long long) s->fwd_dropped,
              (unsigned long long) s->nack_resent,
              (unsigned long long) s->pli_sent,
              (unsigned long long) s->records,
              (unsigned long long) s->records_dropped,
              (unsigned long long) s->joins, (unsigned long long) s->knocks,
              (unsigned long long) s->leaves,
              (unsigned long long) s->timeouts);
    rooms_log(ROOMS_LOG_INFO, "stats: ICE-TCP connections %u, closed as bad "
              "or pushed out %llu", rooms_tcp_conns(w->tcp),
              (unsigned long long) rooms_tcp_closed_bad(w->tcp));
    rooms_log(ROOMS_LOG_INFO, "stats: transport feedback sent %llu read %llu, "
              "probes %llu, NACKs to publishers %llu (packets asked again "
              "%llu), repairs %llu, layer switches %llu, keyframes asked "
              "again %llu",
              (unsigned long long) s->twcc_sent,
              (unsigned long long) s->twcc_received,
              (unsigned long long) s->probes_sent,
              (unsigned long long) s->nack_sent,
              (unsigned long long) s->nack_again,
              (unsigned long long) s->rtx_received,
              (unsigned long long) s->layer_switches,
              (unsigned long long) s->kf_stuck);
}


/* sfu_io_t.flush: the queued datagrams to the UDP socket */
static void
w_flush(void *ctx, sfu_io_t *io)
{
    w_t  *w = ctx;

    rooms_udp_flush(w->udp, io);
}


/* sfu_io_t.record: one record to the ring of its nginx worker */
static int
w_record(void *ctx, uint16_t type, uint64_t id, const void *payload,
    size_t len)
{
    w_t  *w = ctx;

    return rooms_link_record(w->link, type, id, payload, len);
}


static void
w_on_udp(rooms_loop_ev_t *ev, uint64_t now)
{
    w_t  *w = ev->data;

    rooms_udp_read(w->udp, (unsigned) (ev - w->ev_udp), now, w->sfu, &w->io);
}


static void
w_on_signal(rooms_loop_ev_t *ev, uint64_t now)
{
    w_t                      *w = ev->data;
    struct signalfd_siginfo   si;

    while (read(w->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
        if (si.ssi_signo == SIGQUIT) {
            /* a drain: the calls move to other nodes, then we stop */
            if (!w->drain) {
                rooms_log(ROOMS_LOG_INFO, "signal %u: draining, stopping "
                          "once nobody is left or in %d ms",
                          (unsigned) si.ssi_signo, ROOMS_WORKERS_DRAIN_MS);
                w->drain = 1;
                w->drain_until = now + ROOMS_WORKERS_DRAIN_MS;
                sfu_drain(w->sfu, now, &w->io);
            }
            continue;
        }

        rooms_log(ROOMS_LOG_INFO, "signal %u: stopping",
                  (unsigned) si.ssi_signo);
        w->stop = 1;
    }
}


/* SIGTERM, SIGINT and SIGQUIT as a descriptor: 0, or -1 */
static int
w_signals(w_t *w)
{
    sigset_t  mask;

    signal(SIGPIPE, SIG_IGN);

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGQUIT);

    if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0
        || (w->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
    {
        rooms_log(ROOMS_LOG_ERR, "signalfd: %s", strerror(errno));
        return -1;
    }

    return 0;
}


/*
 * The machine's addresses (getifaddrs) as addrs.h takes them, into
 * ifs[0..W_IFADDRS_MAX): how many, or -1 (logged).
 */
static int
w_interfaces(rooms_addrs_if_t *ifs)
{
    int               n;
    struct ifaddrs   *list, *i;
    rooms_addrs_if_t *f;

    if (getifaddrs(&list) != 0) {
        rooms_log(ROOMS_LOG_ERR, "getifaddrs: %s", strerror(errno));
        return -1;
    }

    n = 0;

    for (i = list; i != NULL && n < W_IFADDRS_MAX; i = i->ifa_next) {
        if (i->ifa_addr == NULL) {
            continue;
        }

        f = &ifs[n];
        memset(f, 0, sizeof(*f));

        if (rooms_udp_addr_from_sockaddr(&f->addr, i->ifa_addr,
                i->ifa_addr->sa_family == AF_INET6
                ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in))
            != 0)
        {
            continue;                   /* AF_PACKET and others */
        }

        f->up = (i->ifa_flags & IFF_UP) && (i->ifa_flags & IFF_RUNNING);
        f->loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
        n++;
    }

    freeifaddrs(list);

    return n;
}


/*
 * What the worker announces and binds (README, "Worker options"): the
 * --announce-ip addresses, on one socket at --bind-ip (0.0.0.0, or ::
 * when one is IPv6), for a host behind NAT; else every usable address of
 * the machine (addrs.h), a UDP socket on each, or one on --bind-ip when
 * it is given.  Fills w->addrs and opens w->udp: 0, or -1 (logged).
 */
static int
w_addresses(w_t *w, const w_args_t *a)
{
    int                 nifs;
    char                text[64];
    unsigned            i, n, nb;
    uint8_t             bound[ROOMS_ADDRS_MAX];
    const char         *ips[ROOMS_ADDRS_MAX], *one;
    rooms_sdp_cand_t    text_of[ROOMS_ADDRS_MAX];
    rooms_stun_addr_t   addrs[ROOMS_ADDRS_MAX], kept[ROOMS_ADDRS_MAX];
    rooms_addrs_if_t   *ifs;

    one = a->bind_ip;

    if (a->nannounce > 0) {
        n = a->nannounce;

        for (i = 0; i < n; i++) {
            if (rooms_stun_addr_set(&addrs[i], a->announce[i], 0) != 0) {
                rooms_log(ROOMS_LOG_ERR, "bad --announce-ip \"%s\"",
                          a->announce[i]);
                return -1;
            }

            if (one == NULL && addrs[i].family == 6) {
                one = "::";
            }
        }

        if (one == NULL) {
            one = "0.0.0.0";
        }

    } else {
        ifs = calloc(W_IFADDRS_MAX, sizeof(rooms_addrs_if_t));
        nifs = ifs != NULL ? w_interfaces(ifs) : -1;

        if (nifs < 0) {
            free(ifs);
            return -1;
        }

        n = rooms_addrs_pick(ifs, (size_t) nifs, a->loopback, addrs);

        if (n == 0) {
            rooms_log(ROOMS_LOG_WARN, "no address but loopback: announcing "
                      "it (browsers use it only when told to); see "
                      "--announce-ip");
            n = rooms_addrs_pick(ifs, (size_t) nifs, 1, addrs);
        }

        free(ifs);

        if (n == 0) {
            rooms_log(ROOMS_LOG_ERR, "no address to announce: give "
                      "--announce-ip");
            return -1;
        }
    }

    for (i = 0; i < n; i++) {
        /* the text form of each, as the candidates have it, to bind */
        if (rooms_addrs_cands(&addrs[i], 1, 1, 0, &text_of[i]) != 1) {
            return -1;
        }

        ips[i] = text_of[i].ip;
    }

    if (one != NULL) {
        w->udp = rooms_udp_open(&one, 1, (uint16_t) a->port, NULL);
        memcpy(kept, addrs, n * sizeof(rooms_stun_addr_t));
        nb = n;

    } else {
        /* an address that cannot be bound (say, IPv6 still tentative) */
        w->udp = rooms_udp_open(ips, n, (uint16_t) a->port, bound);
        nb = 0;

        for (i = 0; w->udp != NULL && i < n; i++) {
            if (bound[i]) {
                kept[nb++] = addrs[i];

            } else {
                rooms_log(ROOMS_LOG_WARN, "not announced: %s",
                          rooms_stun_addr_format(&addrs[i], text,
                                                 sizeof(text)));
            }
        }
    }

    if (w->udp == NULL) {
        return -1;
    }

    memcpy(w->addrs, kept, nb * sizeof(rooms_stun_addr_t));
    w->naddrs = nb;

    return 0;
}


/* The SFU, the socket, the link and the loop: 0, or -1 (logged). */
static int
w_start(w_t *w, const w_args_t *a)
{
    char        err[256];
    unsigned    i;
    sfu_conf_t  conf;

    uint16_t    tcp_port;

    if (w_addresses(w, a) != 0) {
        return -1;
    }

    w->io.q = calloc(W_TX_QUEUE, sizeof(sfu_dgram_t));
    w->loop = rooms_loop_create();

    if (w->io.q == NULL || w->loop == NULL) {
        rooms_log(ROOMS_LOG_ERR, "out of memory (or epoll: %s)",
                  strerror(errno));
        return -1;
    }

    /*
     * ICE-TCP, on every address (or --bind-ip's).  On the UDP port's
     * number by default: when that TCP port is taken, the worker serves
     * UDP alone (and says so) rather than not at all; a --tcp-port given
     * must be had.
     */
    tcp_port = (uint16_t) (a->tcp_port < 0 ? a->port : a->tcp_port);

    if (tcp_port != 0) {
        w->tcp = rooms_tcp_open(w->loop, a->bind_ip, tcp_port, &w->io);

        if (w->tcp == NULL && a->tcp_given) {
            rooms_log(ROOMS_LOG_ERR, "cannot listen on --tcp-port %u",
                      (unsigned) tcp_port);
            return -1;
        }

        if (w->tcp == NULL) {
            rooms_log(ROOMS_LOG_WARN, "ICE-TCP off: TCP port %u is not "
                      "free (see --tcp-port)", (unsigned) tcp_port);
            tcp_port = 0;
        }
    }

    w->ncands = rooms_addrs_cands(w->addrs, w->naddrs, (uint16_t) a->port,
                                  tcp_port, w->cands);
    if (w->ncands == 0) {
        return -1;
    }

    memset(&conf, 0, sizeof(conf));
    conf.announce_ip = w->cands[0].ip;
    conf.port = (uint16_t) a->port;
    conf.cands = w->cands;
    conf.ncands = w->ncands;
    conf.max_sessions = ROOMS_ICE_MAX_SESSIONS;
    conf.log = rooms_log_line;
    conf.log_level = a->log_level;
    conf.rng = rooms_loop_random;

    /*
     * The order of COUNT records (rooms_proto.h): 2^16 a ms, more than
     * the rings could carry, so a restarted worker's first count orders
     * after everything its predecessor sent.
     */
    conf.count_seq0 = (int64_t) (rooms_loop_now() << 16);

    w->sfu = sfu_create(&conf, err, sizeof(err));
    if (w->sfu == NULL) {
        rooms_log(ROOMS_LOG_ERR, "cannot start the SFU: %s", err);
        return -1;
    }

    if (w->tcp != NULL) {
        rooms_tcp_set_sfu(w->tcp, w->sfu);
        rooms_udp_set_tcp(w->udp, rooms_tcp_send, w->tcp);
    }

    /* datagrams go to the socket, records to the rings */
    w->io.cap = W_TX_QUEUE;
    w->io.ctx = w;
    w->io.flush = w_flush;
    w->io.record = w_record;

    w->link = rooms_link_open(w->loop, a->control, &a->access,
                              a->ring_capacity, w->sfu,
                              &w->io);
    if (w->link == NULL) {
        return -1;
    }

    rooms_link_set_shard(w->link, a->index, a->workers);

    w->ev_signal.handler = w_on_signal;
    w->ev_signal.data = w;

    if (rooms_loop_add(w->loop, w->sigfd, &w->ev_signal) != 0) {
        rooms_log(ROOMS_LOG_ERR, "epoll: %s", strerror(errno));
        return -1;
    }

    for (i = 0; i < rooms_udp_count(w->udp); i++) {
        w->ev_udp[i].handler = w_on_udp;
        w->ev_udp[i].data = w;

        if (rooms_loop_add(w->loop, rooms_udp_fd(w->udp, i), &w->ev_udp[i])
            != 0)
        {
            rooms_log(ROOMS_LOG_ERR, "epoll: %s", strerror(errno));
            return -1;
        }
    }

    return 0;
}


/* The loop: the SFU's timers, what they queued, the wait, over again. */
static void
w_run(w_t *w)
{
    int       n, timeout;
    uint64_t  now, next, last_stats, last_metrics;

    last_stats = rooms_loop_now();
    last_metrics = 0;

    while (!w->stop) {
        now = rooms_loop_now();
        next = sfu_poll(w->sfu, now, &w->io);

        /* full rings said once a second, and drained ones resynced */
        rooms_link_poll(w->link, now);
        w_flush(w, &w->io);
        rooms_link_ring_bells(w->link);

        /* hellos that never came */
        rooms_link_expire(w->link, now);

        /*
         * Drained once nobody is left, and W_DRAIN_LINGER_MS after: the
         * nginx workers read the last CLOSE records (4412, moved) before
         * they see the link go, which would close the same WebSockets
         * 1012 instead.
         */
        if (w->drain && sfu_participants(w->sfu) == 0
            && sfu_waiting(w->sfu) == 0
            && now + W_DRAIN_LINGER_MS < w->drain_until)
        {
            w->drain_until = now + W_DRAIN_LINGER_MS;
        }

        if (w->drain && now >= w->drain_until) {
            rooms_log(ROOMS_LOG_INFO, "drained: %u participants left",
                      sfu_participants(w->sfu) + sfu_waiting(w->sfu));
            break;
        }

        /* TCP peers that broke, never checked in, or went quiet */
        rooms_tcp_expire(w->tcp, now);

        if (now - last_metrics >= ROOMS_PROTO_STATS_MS) {
            last_metrics = now;
            w_metrics(w);
            rooms_link_ring_bells(w->link);
        }

        if (now - last_stats >= W_STATS_MS) {
            last_stats = now;
            if (sfu_participants(w->sfu) > 0) {
                w_stats(w);
            }
        }

        timeout = W_WAIT_MAX_MS;

        if (next != SFU_NEVER) {
            timeout = next <= now ? 0
                      : next - now < W_WAIT_MAX_MS ? (int) (next - now)
                      : W_WAIT_MAX_MS;
        }

        n = rooms_loop_wait(w->loop, timeout);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }

            rooms_log(ROOMS_LOG_ERR, "epoll_wait: %s", strerror(errno));
            break;
        }

        w_flush(w, &w->io);
        rooms_link_ring_bells(w->link);
    }
}


/* Frees whatever w_start() made (the control socket's file goes). */
static void
w_stop(w_t *w)
{
    rooms_link_close(w->link);
    rooms_tcp_close(w->tcp);
    rooms_udp_close(w->udp);
    rooms_loop_destroy(w->loop);

    if (w->sigfd >= 0) {
        close(w->sigfd);
    }

    sfu_destroy(w->sfu);
    free(w->io.q);
}


/* One media worker: this process, or media worker index of a->workers. */
static int
w_main(w_args_t *a)
{
    w_t       w;
    unsigned  i;

    memset(&w, 0, sizeof(w_t));
    w.sigfd = -1;

    if (w_signals(&w) != 0 || w_start(&w, a) != 0) {
        w_stop(&w);
        return 1;
    }

    for (i = 0; i < w.ncands; i++) {
        rooms_log(ROOMS_LOG_INFO, "announced: %s %s port %u priority %u",
                  w.cands[i].tcp ? "tcp" : "udp", w.cands[i].ip,
                  (unsigned) w.cands[i].port, (unsigned) w.cands[i].priority);
    }

    rooms_log(ROOMS_LOG_INFO, "started: media worker %u of %u, pid %u, "
              "UDP port %d on %u socket(s), ICE-TCP %s, control %s (for "
              "uid %ld gid %ld), %u ring slots of %zu KiB, DTLS "
              "fingerprint %s",
              a->index, a->workers, (unsigned) getpid(), a->port,
              rooms_udp_count(w.udp), w.tcp != NULL ? "on" : "off",
              a->control, (long) (int) a->access.uid,
              (long) (int) a->access.gid, ROOMS_RING_MAX_PEERS,
              a->ring_capacity / 1024, sfu_fingerprint(w.sfu));

    w_run(&w);
    w_stats(&w);
    w_stop(&w);

    rooms_log(ROOMS_LOG_INFO, "stopped");

    return 0;
}


/*
 * rooms_workers_child_pt: media worker index of n, forked by the
 * supervisor: UDP port + index, the control socket "<path>.<index>"
 * beside the first (rooms_proto.h, the welcome).
 */
static int
w_child(void *data, unsigned index, unsigned n)
{
    char       path[4096];
    w_args_t  *a = data;

    a->index = index;
    a->port += (int) index;

    if (a->tcp_port > 0) {
        a->tcp_port += (int) index;
    }

    if (index > 0) {
        if ((size_t) snprintf(path, sizeof(path), "%s.%u", a->control, index)
            >= sizeof(path))
        {
            return 2;
        }

        a->control = path;
    }

    return w_main(a);
}


int
main(int argc, char **argv)
{
    w_args_t  a;

    if (w_args(argc, argv, &a) != 0) {
        w_usage();
        return 2;
    }

    if (w_access(&a) != 0) {
        return 2;
    }

    rooms_log_set_level(a.log_level);

    /* one media worker runs here; more are supervised (workers.c) */
    if (a.workers == 1) {
        return w_main(&a);
    }

    return rooms_workers_run(a.workers, w_child, &a);
}
