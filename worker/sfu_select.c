/*
 * sfu_select.c: who receives what (docs/protocol.md, "Who you see and
 * hear"), as pure functions of the room's people and their lines: the
 * counts a participant is asked to receive, the remote audio streams
 * each receiving audio line takes, and the videos its view chooses with
 * the line each one takes (a free one, or one whose stream is no longer
 * chosen, re-pointed in place).  sfu.c applies what these decide
 * (binding, through sfu_media.c) and tells the browser.
 *
 * A participant's audio lines, up to its audio_slots, carry the loudest
 * other voices (speaker.h chooses among the streams these functions
 * list, sfu_voice.c applies it); video lines, up to its video_slots,
 * carry the videos its last "view" chooses (its ids first, then join
 * order), after any screen shared in the room, which everyone else is
 * given first (sfu_share.c keeps who shares which line).
 *
 * Owns: the rules of the choice.  Must never: change anything (every
 * function reads its arguments and returns a decision), send, log,
 * allocate, or draw randomness, so that tests/unit/test_sfu_select.c
 * checks the rules on hand-made rooms.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include rtp.h, include rtcp.h, include srtp.h, include dtls.h, call json_, call malloc, call calloc, call free, call sfu_log, call sfu_random, call sfu_bind, call sfu_signal, call sfu_send, call rooms_, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 */

#include <string.h>

#include "sfu_peer.h"


unsigned
sfu_kind_index(rooms_sdp_kind_e kind)
{
    return kind == ROOMS_SDP_KIND_AUDIO ? 0 : 1;
}


const char *
sfu_kind_name(rooms_sdp_kind_e kind)
{
    return kind == ROOMS_SDP_KIND_AUDIO ? "audio" : "video";
}



static unsigned
sfu_min(unsigned a, unsigned b)
{
    return a < b ? a : b;
}


/*
 * 1 when pub is a screen its publisher shares: a video line whose mid
 * its "share" named.
 */
unsigned
sfu_line_is_screen(const sfu_line_t *pub)
{
    const sfu_part_t  *o;

    o = pub->owner->part;

    return pub->publishing && pub->kind == ROOMS_SDP_KIND_VIDEO
           && o->share[0] != '\0' && strcmp(o->share, pub->mid) == 0;
}


/*
 * 1 when pub may be given to others: a publishing line, but not one
 * offered as a screen that is not one now (a share refused, or stopped
 * by a host: the browser may still send it).
 */
unsigned
sfu_line_shown(const sfu_line_t *pub)
{
    const sfu_part_t  *o;

    o = pub->owner->part;

    return pub->publishing
           && (o->unshared[0] == '\0' || strcmp(o->unshared, pub->mid) != 0);
}


/* Remote streams p could receive, per kind: everyone else's streams. */
static void
sfu_remote_counts(const sfu_part_t *p, unsigned counts[2])
{
    unsigned            i;
    sfu_queue_t        *q;
    const sfu_peer_t   *o;

    counts[0] = 0;
    counts[1] = 0;

    for (q = p->room->parts.next; q != &p->room->parts; q = q->next) {
        if (sfu_queue_data(q, sfu_part_t, room_link) == p) {
            continue;
        }

        o = sfu_queue_data(q, sfu_part_t, room_link)->peer;

        for (i = 0; i < o->nlines; i++) {
            if (sfu_line_shown(&o->lines[i])) {
                counts[sfu_kind_index(o->lines[i].kind)]++;
            }
        }
    }
}


/*
 * The counts to ask p for in "renegotiate" (docs/protocol.md, "Who you
 * see and hear"): remote audio streams up to p's audio_slots, since p
 * hears the loudest few, and remote video streams up to p's
 * video_slots, since p sees only the videos its view chooses.  Both stay
 * within ROOMS_SDP_MAX_MEDIA m= lines with p's own ones (the SDP core
 * refuses longer offers, so asking for more would break p's call), audio
 * first: hearing who speaks comes before seeing them.
 */
void
sfu_select_counts(const sfu_part_t *p, unsigned counts[2])
{
    unsigned           i, own, budget;
    const sfu_peer_t  *peer;

    sfu_remote_counts(p, counts);

    peer = p->peer;
    own = 0;

    for (i = 0; i < peer->nlines; i++) {
        if (!peer->lines[i].receiving) {
            own++;
        }
    }

    budget = own < ROOMS_SDP_MAX_MEDIA ? ROOMS_SDP_MAX_MEDIA - own : 0;

    counts[0] = sfu_min(counts[0], sfu_min(p->audio_slots, budget));
    counts[1] = sfu_min(counts[1], sfu_min(p->video_slots,
                                           budget - counts[0]));
}


/* peer's receiving lines, per kind. */
void
sfu_select_receiving(const sfu_peer_t *peer, unsigned have[2])
{
    unsigned  i;

    have[0] = 0;
    have[1] = 0;

    for (i = 0; i < peer->nlines; i++) {
        if (peer->lines[i].receiving) {
            have[sfu_kind_index(peer->lines[i].kind)]++;
        }
    }
}


/* The line of peer that carries pub, or NULL. */
sfu_line_t *
sfu_line_of(const sfu_peer_t *peer, const sfu_line_t *pub)
{
    unsigned  i;

    for (i = 0; i < peer->nlines; i++) {
        if (peer->lines[i].bound == pub) {
            return (sfu_line_t *) &peer->lines[i];
        }
    }

    return NULL;
}


/* Appends o's video streams not in chosen[0..n) while n < max. */
static unsigned
sfu_choose_from(const sfu_peer_t *o, sfu_line_t **chosen, unsigned n,
    unsigned max)
{
    unsigned     i, k;
    sfu_line_t  *pub;

    for (i = 0; i < o->nlines && n < max; i++) {
        pub = (sfu_line_t *) &o->lines[i];

        if (!sfu_line_shown(pub) || pub->kind != ROOMS_SDP_KIND_VIDEO) {
            continue;
        }

        for (k = 0; k < n && chosen[k] != pub; k++) { /* void */ }

        if (k == n) {
            chosen[n++] = pub;
        }
    }

    return n;
}


/*
 * The remote video streams p should see on max lines, most wanted first:
 * the screens others share (join order), then the videos of its view's
 * ids in order (unknown ids and repeats skipped), then everyone else's
 * in join order, so no line idles while videos exist.  Returns how many,
 * at most max.
 */
unsigned
sfu_select_video(const sfu_part_t *p, sfu_line_t **chosen, unsigned max)
{
    unsigned      i, n;
    sfu_part_t   *o;
    sfu_queue_t  *q;

    n = 0;

    for (q = p->room->parts.next; q != &p->room->parts && n < max;
         q = q->next)
    {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o == p || o->share[0] == '\0') {
            continue;
        }

        for (i = 0; i < o->peer->nlines && n < max; i++) {
            if (sfu_line_is_screen(&o->peer->lines[i])) {
                chosen[n++] = &o->peer->lines[i];
            }
        }
    }

    for (i = 0; i < p->nview && n < max; i++) {
        o = sfu_find_id(&p->room->parts, p->view[i]);

        if (o != NULL && o != p) {
            n = sfu_choose_from(o->peer, chosen, n, max);
        }
    }

    for (q = p->room->parts.next; q != &p->room->parts && n < max;
         q = q->next)
    {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o != p) {
            n = sfu_choose_from(o->peer, chosen, n, max);
        }
    }

    return n;
}


static unsigned
sfu_is_chosen(sfu_line_t *const *chosen, unsigned n, const sfu_line_t *pub)
{
    unsigned  i;

    for (i = 0; i < n; i++) {
        if (chosen[i] == pub) {
            return 1;
        }
    }

    return 0;
}



/*
 * The voices p may hear: every other participant's audio stream, in
 * join order (speaker.h breaks ties by that order).  Returns how many,
 * at most max, into cand.
 */
unsigned
sfu_select_voices(const sfu_part_t *p, sfu_line_t **cand, unsigned max)
{
    unsigned           i, n;
    sfu_line_t        *pub;
    sfu_queue_t       *q;
    const sfu_part_t  *o;

    n = 0;

    for (q = p->room->parts.next; q != &p->room->parts && n < max;
         q = q->next)
    {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o == p) {
            continue;
        }

        for (i = 0; i < o->peer->nlines && n < max; i++) {
            pub = &o->peer->lines[i];

            if (pub->publishing && pub->kind == ROOMS_SDP_KIND_AUDIO) {
                cand[n++] = pub;
            }
        }
    }

    return n;
}


/*
 * The audio lines of p that may carry a voice now, in order, at most its
 * audio_slots: in an answer every receiving audio line (the answer
 * announces it); between answers only the lines the last answer sent on.
 * The receiving audio lines past them go into extra (they carry nothing:
 * an old offer's, or more than the slots).  Returns how many usable;
 * *nextra is set.
 */
unsigned
sfu_select_audio_lines(const sfu_part_t *p, unsigned answering,
    sfu_line_t **lines, sfu_line_t **extra, unsigned *nextra)
{
    unsigned           i, nl, nx;
    const sfu_line_t  *l;

    nl = 0;
    nx = 0;

    for (i = 0; i < p->peer->nlines; i++) {
        l = &p->peer->lines[i];

        if (!l->receiving || l->kind != ROOMS_SDP_KIND_AUDIO) {
            continue;
        }

        if (nl < p->audio_slots && (answering || l->announced)) {
            lines[nl++] = (sfu_line_t *) l;

        } else {
            extra[nx++] = (sfu_line_t *) l;
        }
    }

    *nextra = nx;

    return nl;
}


/*
 * The video lines of peer that may take a stream now, in order: in an
 * answer every receiving video line (the answer announces it); between
 * answers only the lines the last answer sent on, since the browser
 * expects media on no other.  Returns how many (at most nlines).
 */
unsigned
sfu_select_video_lines(const sfu_peer_t *peer, unsigned answering,
    sfu_line_t **lines)
{
    unsigned           i, nl;
    const sfu_line_t  *l;

    nl = 0;

    for (i = 0; i < peer->nlines; i++) {
        l = &peer->lines[i];

        if (l->receiving && l->kind == ROOMS_SDP_KIND_VIDEO
            && (answering || l->announced))
        {
            lines[nl++] = (sfu_line_t *) l;
        }
    }

    return nl;
}


/*
 * The line of lines[0..nl) a chosen stream that has none should take:
 * the first that carries nothing, or else the first whose stream is not
 * in chosen[0..n) (it is re-pointed), or NULL.
 */
sfu_line_t *
sfu_select_video_line(sfu_line_t *const *lines, unsigned nl,
    sfu_line_t *const *chosen, unsigned n)
{
    unsigned     k;
    sfu_line_t  *l, *stale;

    stale = NULL;

    for (k = 0; k < nl; k++) {
        l = lines[k];

        if (l->bound == NULL) {
            return l;
        }

        if (stale == NULL && !sfu_is_chosen(chosen, n, l->bound)) {
            stale = l;
        }
    }

    return stale;
}


/*
 * p's receiving video lines that carry a simulcast stream, as the layer
 * chooser's tiles (layer.h), in p's view order: the lines of the ids its
 * last view names, in that order, with the tile sizes the view gave,
 * then the others (not on its screen: size unknown).  The first of the
 * view is taken as pinned (the client puts the pinned tile, then the
 * speaker, first).  lines[i] is tiles[i]'s line.  Returns how many, at
 * most max.
 */
unsigned
sfu_select_tiles(const sfu_part_t *p, rooms_layer_tile_t *tiles,
    sfu_line_t **lines, unsigned max)
{
    unsigned     i, j, k, n, pos[ROOMS_SDP_MAX_MEDIA];
    sfu_peer_t  *peer;
    sfu_line_t  *l;

    peer = p->peer;
    n = 0;

    for (i = 0; i < peer->nlines && n < max; i++) {
        l = &peer->lines[i];

        if (l->bound == NULL || l->kind != ROOMS_SDP_KIND_VIDEO
            || l->bound->nlayers == 0)
        {
            continue;
        }

        for (j = 0; j < p->nview; j++) {
            if (strcmp(p->view[j], l->bound->owner->id) == 0) {
                break;
            }
        }

        /* insertion by view position: a few lines, 16 at most */
        for (k = n; k > 0 && pos[k - 1] > j; k--) {
            pos[k] = pos[k - 1];
            lines[k] = lines[k - 1];
        }

        pos[k] = j;
        lines[k] = l;
        n++;
    }

    for (k = 0; k < n; k++) {
        memset(&tiles[k], 0, sizeof(rooms_layer_tile_t));
        tiles[k].pub = &lines[k]->bound->lpub;
        tiles[k].width = pos[k] < p->nview ? p->view_w[pos[k]] : 0;
        tiles[k].height = pos[k] < p->nview ? p->view_h[pos[k]] : 0;
        tiles[k].pinned = pos[k] == 0 && p->nview > 0;
        tiles[k].layer = lines[k]->target;
    }

    return n;
}
