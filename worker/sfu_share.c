/*
 * sfu_share.c: screen shares (docs/protocol.md, "Who you see and
 * hear").  A participant shares its screen as a second video m= line of
 * its own and says which one in "share" (its mid), before the offer that
 * carries it; "unshare" ends it, and so does a host's or co-host's
 * "stop_share", after which the sharer is told "share_stopped".  One
 * share at a time per room: a second sharer is refused "share_taken".
 * A line offered as a screen and not one now (refused, or stopped) is
 * given to nobody, so a browser that goes on sending it after a host
 * stopped it shows nothing.  Who is given the screen, and first, is
 * sfu_select.c's rule; this file only keeps who shares what, and has
 * everyone's lines chosen again when that changes.
 *
 * Owns: who shares which line, the one-share rule.  Must never: choose
 * lines (sfu_select.c does), build JSON (sfu_msg.c does), read a clock,
 * or touch packets.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu_peer.h, call json_, call malloc, call calloc, call free, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes, call rooms_fwd_, call rooms_hist_
 */

#include <string.h>

#include "sfu_int.h"


/* Everyone but p has its lines chosen again (p's screen came or went). */
static void
sfu_share_changed(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    sfu_queue_t  *q;
    sfu_part_t   *o;

    for (q = p->room->parts.next; q != &p->room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o != p) {
            sfu_streams_refresh(sfu, now, o, io);
        }
    }
}


/* The one sharing in p's room other than p, or NULL. */
static sfu_part_t *
sfu_share_other(sfu_part_t *p)
{
    sfu_queue_t  *q;
    sfu_part_t   *o;

    for (q = p->room->parts.next; q != &p->room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o != p && o->share[0] != '\0') {
            return o;
        }
    }

    return NULL;
}


/* p's share ends: its line is given to nobody from now on. */
static void
sfu_share_end(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    memcpy(p->unshared, p->share, sizeof(p->unshared));
    p->share[0] = '\0';

    sfu_share_changed(sfu, now, p, io);
}


/*
 * "share" ({"mid"}) and "unshare" of p.  A waiting guest has no media:
 * it is ignored.  A share while another is sharing is refused, and the
 * line it names is given to nobody (the browser stops it when told).
 * A share of p while p shares another line moves it.
 */
void
sfu_share(sfu_t *sfu, uint64_t now, sfu_part_t *p, const sfu_signal_t *m,
    sfu_io_t *io)
{
    sfu_part_t  *o;

    if (p->waiting) {
        return;
    }

    if (m->bad != NULL) {
        sfu_bad_message(sfu, now, p, m->bad, io);
        return;
    }

    if (m->type->id == ROOMS_MSG_UNSHARE) {
        if (p->share[0] != '\0') {
            sfu_log(sfu, SFU_LOG_INFO, "%s stopped sharing", p->id);
            sfu_share_end(sfu, now, p, io);
        }

        return;
    }

    o = sfu_share_other(p);

    if (o != NULL) {
        /* m->mid fits: sfu_msg.c checked its length */
        strcpy(p->unshared, m->mid);

        sfu_error(sfu, io, p->conn, "share_taken",
                  "someone else is sharing a screen: one at a time");
        sfu_log(sfu, SFU_LOG_INFO, "%s may not share: %s is sharing",
                p->id, o->id);
        sfu_share_changed(sfu, now, p, io);
        return;
    }

    strcpy(p->share, m->mid);

    if (strcmp(p->unshared, p->share) == 0) {
        p->unshared[0] = '\0';
    }

    sfu_log(sfu, SFU_LOG_INFO, "%s shares its screen on mid %s", p->id,
            p->share);

    sfu_share_changed(sfu, now, p, io);
}


int
sfu_share_stop(sfu_t *sfu, uint64_t now, sfu_part_t *t, sfu_io_t *io)
{
    if (t->share[0] == '\0') {
        return -1;
    }

    sfu_signal(sfu, io, t->conn, sfu_msg_type("share_stopped"));
    sfu_share_end(sfu, now, t, io);

    return 0;
}
