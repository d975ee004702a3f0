/*
 * load_report.c: the figures of one run, and its row of the table
 * (docs/performance.md says what each one means).
 *
 * Owns: the latency histogram, the /proc readings of the media worker
 * (CPU from /proc/PID/stat, RSS from /proc/PID/status) and of nginx's
 * workers, the percentiles, the verdict on behaviour.
 * Must never: let a timing decide the verdict: only what a user would
 * notice does (someone never in, someone's media never reaching someone,
 * a corrupt or misrouted packet, a leave not closed cleanly).
 * May not: include sfu.h
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"


extern uint64_t  load_measured_tx, load_measured_rx;
int load_complete(load_peer_t *p);

#define LOAD_LAT_US   50


void
load_report_latency(uint64_t us)
{
    uint64_t  b = us / LOAD_LAT_US;

    load_run.stats.lat[b < LOAD_LAT_BUCKETS ? b : LOAD_LAT_BUCKETS - 1]++;
    load_run.stats.lat_n++;
}


/* utime + stime of a process, in clock ticks; -1 when it is gone */
static long long
load_cpu_ticks(int pid)
{
    char       path[64], buf[2048], *s;
    FILE      *f;
    size_t     n;
    long long  ut, st;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* after the command's closing parenthesis: field 3 onward */
    s = strrchr(buf, ')');
    if (s == NULL
        || sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld",
                  &ut, &st) != 2)
    {
        return -1;
    }
    return ut + st;
}


static long
load_rss_kb(int pid)
{
    char   path[64], line[256];
    FILE  *f;
    long   kb = -1;

    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) {
            break;
        }
    }
    fclose(f);
    return kb;
}


static long long
load_nginx_ticks(void)
{
    const char  *s = load_run.opt.nginx_pids;
    long long    sum = 0, t;
    char        *end;
    long         pid;

    while (s && *s) {
        pid = strtol(s, &end, 10);
        if (end == s) {
            break;
        }
        t = load_cpu_ticks((int) pid);
        sum += t > 0 ? t : 0;
        s = *end == ',' ? end + 1 : end;
    }
    return sum;
}


/*
 * --worker-pid PID[,PID...]: the media workers (rooms-worker --workers N
 * runs N processes); their CPU ticks (each, and the sum: -1 when the
 * first is gone), RSS, run delay summed.  which: 0 ticks, 1 RSS in kB,
 * 2 run delay in ns.
 */
#define LOAD_WORKERS_MAX  64

static long long   wticks_each[2][LOAD_WORKERS_MAX];
static int         nworkers;

static long long load_run_delay(int pid);

static long long
load_workers_sum(int what, long long *each)
{
    const char  *s = load_run.opt.worker_pids;
    long long    sum = 0, v;
    char        *end;
    long         pid;
    int          n = 0;

    while (s && *s && n < LOAD_WORKERS_MAX) {
        pid = strtol(s, &end, 10);
        if (end == s) {
            break;
        }
        v = what == 0 ? load_cpu_ticks((int) pid)
            : what == 1 ? load_rss_kb((int) pid)
            : load_run_delay((int) pid);
        if (v < 0 && n == 0) {
            return -1;
        }
        if (each) {
            each[n] = v;
        }
        sum += v > 0 ? v : 0;
        n++;
        s = *end == ',' ? end + 1 : end;
    }
    nworkers = n;
    return sum;
}


static long        rss_kb[3] = { -1, -1, -1 };   /* before, in, after */
static long long   wticks[2], nticks[2];
static uint64_t    marks_us[2];


static long long   tticks[2], drops[2], waits[2];


/* ns the process spent runnable but waiting for a CPU (schedstat) */
static long long
load_run_delay(int pid)
{
    char        path[64];
    FILE       *f;
    long long   run, wait = -1;

    snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    if (fscanf(f, "%lld %lld", &run, &wait) != 2) {
        wait = -1;
    }
    fclose(f);
    return wait;
}


/* RcvbufErrors of /proc/net/snmp: in the run's namespace, every
 * datagram a full socket buffer dropped (ours or the servers') */
static long long
load_udp_drops(void)
{
    FILE       *f = fopen("/proc/net/snmp", "r");
    char        line[512];
    long long   v[6];
    int         n = 0;

    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "Udp: ", 5) == 0 && ++n == 2
            && sscanf(line + 5, "%lld %lld %lld %lld %lld", &v[0], &v[1],
                      &v[2], &v[3], &v[4]) == 5)
        {
            fclose(f);
            return v[4];
        }
    }
    fclose(f);
    return -1;
}

void
load_report_proc_start(void)
{
    if (load_run.opt.worker_pid) {
        rss_kb[0] = load_workers_sum(1, NULL);
    }
}


void
load_report_proc_mark(int which)
{
    if (which < 2) {
        marks_us[which] = load_now_us();
        if (which == 1) {
            load_run.end_us = marks_us[1];
        }
        wticks[which] = load_run.opt.worker_pid
                        ? load_workers_sum(0, wticks_each[which]) : -1;
        nticks[which] = load_nginx_ticks();
        tticks[which] = load_cpu_ticks(getpid());
        drops[which] = load_udp_drops();
        waits[which] = load_run.opt.worker_pid
                       ? load_workers_sum(2, NULL) : -1;
        if (which == 1 && load_run.opt.worker_pid) {
            rss_kb[1] = load_workers_sum(1, NULL);
        }
    } else if (load_run.opt.worker_pid) {
        rss_kb[2] = load_workers_sum(1, NULL);
    }
}


static double
load_lat_pct(double q)
{
    uint64_t  want, acc = 0;
    unsigned  b;

    if (load_run.stats.lat_n == 0) {
        return -1;
    }
    want = (uint64_t) (q * (double) load_run.stats.lat_n);
    for (b = 0; b < LOAD_LAT_BUCKETS; b++) {
        acc += load_run.stats.lat[b];
        if (acc > want) {
            return (b + 0.5) * LOAD_LAT_US / 1000.0;   /* ms */
        }
    }
    return LOAD_LAT_BUCKETS * LOAD_LAT_US / 1000.0;
}


static int
load_cmp_u64(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return x < y ? -1 : x > y;
}


int
load_report(void)
{
    unsigned      i, k, nj = 0, bad = 0, complete = 0, left = 0, in = 0;
    uint64_t      joins[LOAD_MAX_PEERS];
    uint64_t      lost[2] = { 0, 0 }, got[2] = { 0, 0 }, rec = 0;
    uint64_t      sampled = 0, corrupt = 0, misrouted = 0, auth = 0;
    uint64_t      nacks = 0, plis = 0, resent = 0;
    double        secs, wcpu = -1, ncpu = -1, us_per = -1, tick;
    double        j50 = -1, j99 = -1, in_pps, out_pps;
    load_peer_t  *p;
    load_rx_t    *l;
    FILE         *f;

    tick = (double) sysconf(_SC_CLK_TCK);
    secs = (marks_us[1] - marks_us[0]) / 1e6;

    for (i = 0; i < load_run.npeers; i++) {
        p = &load_run.peers[i];
        if (p->is_sub) {
            /* what a Janus subscriber connection received counts below;
             * its participant is judged on its publisher's record */
            goto lines;
        }
        in += p->welcome_us != 0;
        if (p->welcome_us != 0 && load_complete(p)) {
            complete++;
        } else {
            fprintf(stderr, "rooms-load: p%u (%s) did not get everyone's "
                    "media%s%s\n", i, p->id,
                    p->close_reason[0] ? ": " : "", p->close_reason);
            bad++;
        }
        if (p->state == LP_DONE && p->left_cleanly) {
            left++;
        } else {
            fprintf(stderr, "rooms-load: p%u did not leave cleanly "
                    "(close %u%s%s)\n", i, p->close_code,
                    p->close_reason[0] ? ", " : "", p->close_reason);
            bad++;
        }
        if (load_run.opt.verbose && p->open_us) {
            fprintf(stderr, "rooms-load: p%u join phases (ms from the "
                    "WebSocket open): welcome %.1f, answer %.1f, ICE %.1f, "
                    "DTLS %.1f, first packet %.1f, everyone %.1f (%u there)"
                    "\n", i,
                    p->welcome_us ? (p->welcome_us - p->open_us) / 1e3 : -1,
                    p->answer_us ? (p->answer_us - p->open_us) / 1e3 : -1,
                    p->ice_us ? (p->ice_us - p->open_us) / 1e3 : -1,
                    p->dtls_us ? (p->dtls_us - p->open_us) / 1e3 : -1,
                    p->first_rx_us ? (p->first_rx_us - p->open_us) / 1e3 : -1,
                    p->joined_us ? (p->joined_us - p->open_us) / 1e3 : -1,
                    p->npresent);
        }
        if (load_run.opt.verbose > 1 && p->open_us) {
            for (k = 0; k < p->npresent; k++) {
                unsigned o = (unsigned) p->present[k];
                fprintf(stderr, "    from p%u: audio %.1f video %.1f\n", o,
                        p->first_a[o] ? (p->first_a[o] - p->open_us) / 1e3
                                      : -1,
                        p->first_v[o] ? (p->first_v[o] - p->open_us) / 1e3
                                      : -1);
            }
        }
        {
            load_peer_t *r = p->twin >= 0 ? &load_run.peers[p->twin] : p;
            if (p->open_us && r->joined_us && p->npresent > 0) {
                joins[nj++] = r->joined_us - p->open_us;
            }
        }
lines:
        for (k = p->is_sub ? 0 : 2; k < p->nlines; k++) {
            l = &p->lines[k];
            lost[l->kind == 'v'] += l->lost;
            got[l->kind == 'v'] += l->packets;
            rec += l->recovered;
        }
        sampled += p->sampled;
        corrupt += p->corrupt;
        misrouted += p->misrouted;
        auth += p->auth_fail;
        nacks += p->nacks_out;
        plis += p->plis;
        for (k = 0; k < LOAD_LAYERS; k++) {
            resent += p->video[k].resent;
        }
        if (p->fp_mismatch) {
            bad++;
        }
    }

    if (corrupt || misrouted || auth) {
        fprintf(stderr, "rooms-load: %llu corrupt, %llu misrouted samples "
                "(%llu failed authentication) of %llu\n",
                (unsigned long long) corrupt, (unsigned long long) misrouted,
                (unsigned long long) auth, (unsigned long long) sampled);
        bad++;
    }
    if (sampled == 0) {
        fprintf(stderr, "rooms-load: no packet was sampled\n");
        bad++;
    }

    qsort(joins, nj, sizeof(uint64_t), load_cmp_u64);
    if (nj) {
        j50 = joins[nj / 2] / 1000.0;
        j99 = joins[(nj * 99) / 100 < nj ? (nj * 99) / 100 : nj - 1] / 1000.0;
    }

    if (wticks[0] >= 0 && wticks[1] >= 0 && load_run.opt.worker_pid) {
        wcpu = (wticks[1] - wticks[0]) / tick / secs * 100;
    }
    if (load_run.opt.nginx_pids) {
        ncpu = (nticks[1] - nticks[0]) / tick / secs * 100;
    }
    in_pps = load_measured_tx / secs;
    out_pps = load_measured_rx / secs;
    if (wcpu >= 0 && out_pps > 0) {
        us_per = wcpu / 100 * 1e6 / out_pps;
    }

    printf("| %s | %u | %u | %.0f | %.0f | %.1f%% | %.2f | %.1f%% "
           "| %.2f%% / %.2f%% | %.2f / %.2f | %.0f / %.0f | %.1f / %.1f / %.1f "
           "|\n",
           load_run.opt.label, load_run.nlogical, load_run.opt.rooms, in_pps,
           out_pps, wcpu, us_per, ncpu,
           got[1] + lost[1] ? 100.0 * lost[1] / (got[1] + lost[1]) : 0,
           got[0] + lost[0] ? 100.0 * lost[0] / (got[0] + lost[0]) : 0,
           load_lat_pct(0.5), load_lat_pct(0.99), j50, j99,
           rss_kb[0] / 1024.0, rss_kb[1] / 1024.0, rss_kb[2] / 1024.0);

    fprintf(stderr, "rooms-load: %s: the tool itself used %.0f%% CPU "
            "while measuring; full socket buffers dropped %lld datagrams "
            "then; the media worker waited for a CPU %.0f%% of the time\n",
            load_run.opt.label, (tticks[1] - tticks[0]) / tick / secs * 100,
            drops[1] - drops[0], (waits[1] - waits[0]) / 1e7 / secs);
    if (nworkers > 1 && wcpu >= 0) {
        int   i;
        char  line[LOAD_WORKERS_MAX * 12], *p = line;

        line[0] = '\0';
        for (i = 0; i < nworkers && i < LOAD_WORKERS_MAX; i++) {
            p += snprintf(p, sizeof(line) - (size_t) (p - line), " %.1f%%",
                          (wticks_each[1][i] - wticks_each[0][i]) / tick
                          / secs * 100);
        }
        fprintf(stderr, "rooms-load: %s: CPU per media worker:%s\n",
                load_run.opt.label, line);
    }
    fprintf(stderr, "rooms-load: %s: %u/%u in, %u/%u got everyone's media, "
            "%u left cleanly; %llu samples checked, %llu corrupt; "
            "NACKs sent %llu, repaired %llu, resent %llu, PLI/FIR %llu; "
            "impaired %llu out, %llu in\n", load_run.opt.label, in,
            load_run.nlogical, complete, load_run.nlogical, left,
            (unsigned long long) sampled, (unsigned long long) corrupt,
            (unsigned long long) nacks, (unsigned long long) rec,
            (unsigned long long) resent, (unsigned long long) plis,
            (unsigned long long) load_run.stats.impaired_out,
            (unsigned long long) load_run.stats.impaired_in);

    if (load_run.opt.json && (f = fopen(load_run.opt.json, "w")) != NULL) {
        fprintf(f, "{\"label\":\"%s\",\"participants\":%u,\"rooms\":%u,"
                "\"in_pps\":%.0f,\"out_pps\":%.0f,\"worker_cpu\":%.2f,"
                "\"us_per_packet\":%.3f,\"nginx_cpu\":%.2f,"
                "\"video_loss\":%.4f,\"audio_loss\":%.4f,\"lat_p50\":%.3f,"
                "\"lat_p99\":%.3f,\"join_p50\":%.1f,\"join_p99\":%.1f,"
                "\"rss_before\":%ld,\"rss_during\":%ld,\"rss_after\":%ld,"
                "\"complete\":%u,\"left\":%u,\"sampled\":%llu,"
                "\"corrupt\":%llu,\"ok\":%s}\n", load_run.opt.label,
                load_run.nlogical, load_run.opt.rooms, in_pps, out_pps, wcpu,
                us_per, ncpu,
                got[1] + lost[1] ? (double) lost[1] / (got[1] + lost[1]) : 0,
                got[0] + lost[0] ? (double) lost[0] / (got[0] + lost[0]) : 0,
                load_lat_pct(0.5), load_lat_pct(0.99), j50, j99, rss_kb[0],
                rss_kb[1], rss_kb[2], complete, left,
                (unsigned long long) sampled,
                (unsigned long long) (corrupt + misrouted),
                bad ? "false" : "true");
        fclose(f);
    }

    return bad ? 1 : 0;
}
