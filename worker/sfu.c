/*
 * sfu.c: the SFU's public entry points (sfu.h) and its hub: records from
 * nginx are copied and handed to sfu_msg.c, datagrams are demultiplexed
 * to ICE, a peer's DTLS or the media path, every file's timers are
 * combined in sfu_poll(), and what the others decide is applied: an
 * offer's bindings and answer, the streams map, renegotiations.  Also
 * the SFU's output (the caller's datagram queue and ring records), its
 * log lines, its randomness (sfu_conf_t.rng) and its counters.
 *
 * The files of the SFU (docs/architecture.md has the table):
 *   sfu_room.c    rooms, people, roles, the lobby, host actions;
 *   sfu_peer.c    one participant's transport, offers and answers;
 *   sfu_select.c  who receives what, as pure functions;
 *   sfu_voice.c   who is heard: the loudest voices, the speaker;
 *   sfu_media.c   bindings, forwarding, PLI to publishers;
 *   sfu_nack.c    NACKs to publishers, asked again while repairs are late;
 *   sfu_feedback.c  RTCP answered (NACK, PLI/FIR, feedback); probes;
 *   sfu_rx.c      receive statistics and receiver reports;
 *   sfu_msg.c     every JSON text;
 * with sfu_int.h (rooms and people) and sfu_peer.h (peers and lines).
 *
 * When the set of streams of a room changes (someone's first answer
 * publishes, or a stream or participant goes), every other participant
 * that has negotiated has its video lines chosen again and is asked to
 * "renegotiate" with the number of remote streams per kind, and binds
 * them when its offer comes.  A participant whose offer lacks receiving
 * lines is asked again, but never twice with the same counts, so a
 * client that cannot add lines does not loop.
 *
 * Owns: dispatch, the order of timers, the life cycle, the counters.
 * Must never: read a clock, draw randomness but through conf.rng, do
 * I/O or block: time and bytes come in as arguments and everything to
 * send goes out through sfu_io_t; build or read JSON (sfu_msg.c does).
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, call json_, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "sfu_peer.h"


/* COUNT records go to the slots of a 64-bit mask (sfu_t.slots) */
_Static_assert(ROOMS_RING_MAX_PEERS <= 64, "one bit per ring slot");


static void sfu_video_update(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    sfu_io_t *io);
static unsigned sfu_layers_apply(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    sfu_io_t *io);
static uint64_t sfu_layers_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io);


/* ---- logs, randomness, output ---- */


void
sfu_log(sfu_t *sfu, int level, const char *fmt, ...)
{
    char     line[1024];
    va_list  args;

    if (sfu->conf.log == NULL || level > sfu->conf.log_level) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(line, sizeof(line), fmt, args);
    va_end(args);

    sfu->conf.log(sfu->conf.log_ctx, level, line);
}


/* A name for a log line: control characters and quotes become '?'. */
const char *
sfu_printable(const char *s, char *buf, size_t size)
{
    size_t  i;

    for (i = 0; s[i] != '\0' && i + 1 < size; i++) {
        buf[i] = ((unsigned char) s[i] < 0x20 || s[i] == '"'
                  || s[i] == 0x7f) ? '?' : s[i];
    }

    buf[i] = '\0';

    return buf;
}


int
sfu_random(sfu_t *sfu, void *buf, size_t n)
{
    return sfu->conf.rng(sfu->conf.rng_ctx, buf, n) == 0 ? 0 : -1;
}


uint32_t
sfu_random32(sfu_t *sfu)
{
    uint32_t  v;

    if (sfu_random(sfu, &v, sizeof(v)) != 0) {
        /* only for seq0/ts0 picks; SSRCs and ids check the return */
        v = 0x5eed1234;
    }

    return v;
}


/* The next free datagram of the queue, flushing when full; NULL: none. */
sfu_dgram_t *
sfu_out(sfu_t *sfu, sfu_io_t *io)
{
    if (io->q == NULL || io->cap == 0) {
        sfu->stats.tx_dropped++;
        return NULL;
    }

    if (io->n >= io->cap && io->flush != NULL) {
        io->flush(io->ctx, io);
    }

    if (io->n >= io->cap) {
        sfu->stats.tx_dropped++;
        return NULL;
    }

    return &io->q[io->n];
}


void
sfu_commit(sfu_t *sfu, sfu_io_t *io, const rooms_stun_addr_t *to, size_t len)
{
    sfu_dgram_t  *d;

    d = &io->q[io->n];
    d->addr = *to;
    d->len = (uint32_t) len;
    io->n++;
    sfu->stats.tx++;
}


void
sfu_record_out(sfu_t *sfu, sfu_io_t *io, uint16_t type, uint64_t conn,
    const void *payload, size_t len)
{
    /*
     * The nginx worker of that slot is gone, or the participant waits to
     * be resumed (sfu_resume.c): nobody would read it.
     */
    if (conn == SFU_CONN_NONE
        || (sfu->dead_slot >= 0
            && ROOMS_PROTO_SLOT(conn) == (unsigned) sfu->dead_slot))
    {
        return;
    }

    if (io->record == NULL
        || io->record(io->ctx, type, conn, payload, len) != 0)
    {
        /* record() says it (a full ring: once a second, with a count) */
        sfu->stats.records_dropped++;
        sfu_log(sfu, SFU_LOG_DEBUG, "record type %u for connection %u:%llu "
                "could not be queued", (unsigned) type,
                ROOMS_PROTO_SLOT(conn),
                (unsigned long long) (conn & 0xffffffffffffULL));
        return;
    }

    sfu->stats.records++;
}


void
sfu_send(sfu_t *sfu, sfu_io_t *io, uint16_t type, uint64_t conn, char *text)
{
    if (text == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory building a message");
        sfu->stats.records_dropped++;
        return;
    }

    sfu_record_out(sfu, io, type, conn, text, strlen(text));
    free(text);
}


/* Sends text (freed) as a SIGNAL to conn. */
void
sfu_signal(sfu_t *sfu, sfu_io_t *io, uint64_t conn, char *text)
{
    sfu_send(sfu, io, ROOMS_PROTO_SIGNAL, conn, text);
}


/* An error; reason, when not NULL, says what caused it (host_absent). */
void
sfu_error_why(sfu_t *sfu, sfu_io_t *io, uint64_t conn, const char *code,
    const char *message, const char *reason)
{
    sfu_signal(sfu, io, conn, sfu_msg_error(code, message, reason));
}


void
sfu_error(sfu_t *sfu, sfu_io_t *io, uint64_t conn, const char *code,
    const char *message)
{
    sfu_error_why(sfu, io, conn, code, message, NULL);
}


/* A CLOSE record: the code in network order, then at most 123 bytes. */
void
sfu_close(sfu_t *sfu, sfu_io_t *io, uint64_t conn, unsigned code,
    const char *reason)
{
    size_t         n;
    unsigned char  buf[2 + 123];

    n = strlen(reason);
    if (n > 123) {
        n = 123;
    }

    buf[0] = (unsigned char) (code >> 8);
    buf[1] = (unsigned char) code;
    memcpy(buf + 2, reason, n);

    sfu_record_out(sfu, io, ROOMS_PROTO_CLOSE, conn, buf, 2 + n);
}


static void
sfu_renegotiate(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p,
    const unsigned counts[2])
{
    p->asked_audio = counts[0];
    p->asked_video = counts[1];

    sfu_signal(sfu, io, p->conn, sfu_msg_renegotiate(counts));

    sfu_log(sfu, SFU_LOG_DEBUG, "renegotiate %s: audio %u video %u", p->id,
            counts[0], counts[1]);
}


/*
 * The streams of p's room changed because of p: everyone else who has
 * negotiated has its video lines chosen again (a video that came may
 * take a line, one that went frees one) and is asked for a new offer.
 * Those who have not will bind on their first one.
 */
static void
sfu_streams_changed(sfu_t *sfu, uint64_t now, sfu_io_t *io, sfu_part_t *p)
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


void
sfu_streams_refresh(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    unsigned  counts[2];

    if (!sfu_peer_answered(p->peer)) {
        return;
    }

    sfu_video_update(sfu, now, p, io);
    sfu_select_counts(p, counts);
    sfu_renegotiate(sfu, io, p, counts);
}


/*
 * Fills p's video lines with the streams sfu_select_video() picks, each
 * one on the line sfu_select_video_line() gives it (answering: any
 * receiving video line may take one).  Returns how many chosen streams
 * found no line.
 */
static unsigned
sfu_assign_video(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    unsigned answering, sfu_io_t *io)
{
    unsigned     i, n, nl, missing;
    sfu_line_t  *use;
    sfu_line_t  *chosen[ROOMS_SDP_MAX_MEDIA], *lines[ROOMS_SDP_MAX_MEDIA];

    nl = sfu_select_video_lines(p->peer, answering, lines);
    n = sfu_select_video(p, chosen, nl);
    missing = 0;

    /* a screen share refused or stopped: nobody keeps it */
    for (i = 0; i < nl; i++) {
        if (lines[i]->bound != NULL && !sfu_line_shown(lines[i]->bound)) {
            sfu_unbind(lines[i]);
        }
    }

    for (i = 0; i < n; i++) {
        if (sfu_line_of(p->peer, chosen[i]) != NULL) {
            continue;
        }

        use = sfu_select_video_line(lines, nl, chosen, n);

        if (use == NULL
            || sfu_bind(sfu, now, p->peer, use, chosen[i], io) != 0)
        {
            missing++;
        }
    }

    return missing;
}


/*
 * Between answers: p's audio lines follow the voices and its video lines
 * its view and the room's streams again, and when its map changed (a
 * line re-pointed, or left without a stream) p gets the whole new one in
 * "streams".  Nothing happens before p's first answer: it has no line to
 * move yet.
 */
static void
sfu_video_update(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    if (!sfu_peer_answered(p->peer)) {
        return;
    }

    (void) sfu_voice_assign(sfu, now, p, 0, io);
    (void) sfu_assign_video(sfu, now, p, 0, io);
    (void) sfu_layers_apply(sfu, now, p, io);

    sfu_map_send(sfu, io, p);
}


void
sfu_map_send(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p)
{
    char  *text;

    if (!p->peer->map_changed) {
        return;
    }

    text = sfu_msg_streams(p->peer);

    if (text == NULL) {
        /* the next answer or "streams" carries the whole map anyway */
        sfu_log(sfu, SFU_LOG_ERR, "out of memory for the streams of %s",
                p->id);
        return;
    }

    p->peer->map_changed = 0;

    sfu_signal(sfu, io, p->conn, text);
}


void
sfu_streams_resync(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    char      *text;
    unsigned   counts[2], have[2];

    if (!sfu_peer_answered(p->peer)) {
        return;
    }

    (void) sfu_assign_video(sfu, now, p, 0, io);
    (void) sfu_layers_apply(sfu, now, p, io);

    /* the whole map and the paused list, whatever was told before */
    text = sfu_msg_streams(p->peer);

    if (text != NULL) {
        p->peer->map_changed = 0;
    }

    sfu_signal(sfu, io, p->conn, text);
    sfu_signal(sfu, io, p->conn, sfu_msg_video_paused(p->peer));

    sfu_select_counts(p, counts);
    sfu_select_receiving(p->peer, have);

    if (have[0] < counts[0] || have[1] < counts[1]) {
        sfu_renegotiate(sfu, io, p, counts);
    }
}


/* Sends p the answer to its offer (in sfu->net->offer): 0, or -1. */
static int
sfu_answer(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p)
{
    int    n;
    char  *text;

    n = sfu_peer_answer(sfu, p->peer);
    if (n < 0) {
        return n;
    }

    text = sfu_msg_answer(sfu->net->answer, (size_t) n, p->peer);
    if (text == NULL) {
        return -1;
    }

    sfu_signal(sfu, io, p->conn, text);
    sfu_peer_answer_sent(p->peer);

    sfu_log(sfu, SFU_LOG_DEBUG, "answered %s (answer %u)", p->id,
            p->peer->answered);

    return 0;
}


/*
 * An offer from p: its peer takes it (sfu_peer.c), every remote audio
 * stream and the videos p's view chooses are bound to its lines, the
 * answer goes, and the others learn of p's streams.
 */
static void
sfu_offer(sfu_t *sfu, uint64_t now, sfu_part_t *p, const char *sdp,
    size_t len, sfu_io_t *io)
{
    int        rc;
    char       why[160];
    unsigned   changed, first, missing[2], counts[2], have[2];

    first = !sfu_peer_answered(p->peer);

    rc = sfu_peer_offer(sfu, now, p->peer, sdp, len, why, sizeof(why));

    if (rc < 0) {
        sfu_error(sfu, io, p->conn, "bad_offer", why);
        return;
    }

    changed = (unsigned) rc;

    /* the loudest others; the videos p's view chooses */
    missing[0] = sfu_voice_assign(sfu, now, p, 1, io);
    missing[1] = sfu_assign_video(sfu, now, p, 1, io);

    rc = sfu_answer(sfu, io, p);

    if (rc != 0) {
        sfu_log(sfu, SFU_LOG_ERR, "cannot answer %s: %d", p->id, rc);
        sfu_error(sfu, io, p->conn, "bad_offer", "the offer cannot be "
                  "answered");
        return;
    }

    if (changed || (first && (sfu_peer_publishes(p->peer, SFU_AUDIO)
                              || sfu_peer_publishes(p->peer, SFU_VIDEO))))
    {
        sfu_streams_changed(sfu, now, io, p);
    }

    sfu_media_update(sfu, io, p, 0);

    /*
     * The layers of the videos just bound, now rather than at the next
     * layer poll: the keyframe their binding asks for is then one of the
     * layer each line forwards (docs/join-time.md).
     */
    (void) sfu_layers_apply(sfu, now, p, io);

    /* fewer receiving lines than p should have: ask, but once a count */
    sfu_select_counts(p, counts);
    sfu_select_receiving(p->peer, have);

    if (have[0] < counts[0] || have[1] < counts[1]) {
        if (counts[0] != p->asked_audio || counts[1] != p->asked_video) {
            sfu_renegotiate(sfu, io, p, counts);

        } else {
            sfu_log(sfu, SFU_LOG_INFO, "%s lacks receiving m= lines: %u "
                    "audio and %u video streams wait", p->id, missing[0],
                    missing[1]);
        }
    }
}


void
sfu_bad_message(sfu_t *sfu, uint64_t now, sfu_part_t *p, const char *why,
    sfu_io_t *io)
{
    sfu_log(sfu, SFU_LOG_INFO, "bad message from %s: %s", p->id, why);
    sfu_error(sfu, io, p->conn, "bad_message", why);
    sfu_close(sfu, io, p->conn, SFU_CLOSE_BAD, "bad message");
    sfu_remove(sfu, now, p, 0, "bad message", io);
}


/*
 * "view": the ids whose video p's screen shows, most wanted first
 * (docs/protocol.md, "Who you see and hear").  It replaces the last one
 * and p's video lines follow it at once.  Ids that name nobody are kept
 * (matching nobody, they are skipped when choosing); ones too long to be
 * an id cannot match and are dropped (sfu_msg.c).  A waiting guest sees
 * nobody: its view is ignored.
 */
static void
sfu_view(sfu_t *sfu, uint64_t now, sfu_part_t *p, const sfu_signal_t *m,
    sfu_io_t *io)
{
    if (p->waiting) {
        return;
    }

    if (m->bad != NULL) {
        sfu_bad_message(sfu, now, p, m->bad, io);
        return;
    }

    p->nview = m->nview;
    memcpy(p->view, m->view, sizeof(p->view));
    memcpy(p->view_w, m->view_w, sizeof(p->view_w));
    memcpy(p->view_h, m->view_h, sizeof(p->view_h));

    sfu_video_update(sfu, now, p, io);
}


void
sfu_message(sfu_t *sfu, uint64_t now, sfu_part_t *p, const sfu_signal_t *m,
    sfu_io_t *io)
{
    /* p speaks on its connection: it has the resume token it was given */
    p->resume_prev[0] = '\0';

    if (m->type == NULL) {
        sfu_bad_message(sfu, now, p, m->no_type ? "a message without a type"
                                                : "unknown message type", io);
        return;
    }

    switch (m->type->id) {

    case ROOMS_MSG_OFFER:
        if (p->waiting) {
            /* no session before the welcome, which comes on admission */
            sfu_bad_message(sfu, now, p, "an offer before the welcome", io);
            return;
        }

        if (m->bad != NULL) {
            sfu_bad_message(sfu, now, p, m->bad, io);
            return;
        }

        sfu_offer(sfu, now, p, m->sdp, m->sdp_len, io);
        return;

    case ROOMS_MSG_MEDIA:
        if (m->bad != NULL) {
            sfu_bad_message(sfu, now, p, m->bad, io);
            return;
        }

        p->audio_on = m->audio;
        p->video_on = m->video;

        /* a waiting guest's choice holds once it is in; nobody sees it */
        if (!p->waiting) {
            sfu_media_update(sfu, io, p, 1);
        }

        return;

    case ROOMS_MSG_VIEW:
        sfu_view(sfu, now, p, m, io);
        return;

    case ROOMS_MSG_SHARE:
    case ROOMS_MSG_UNSHARE:
        sfu_share(sfu, now, p, m, io);
        return;

    case ROOMS_MSG_LEAVE:
        /* a host gone by "leave" is gone for good: no grace */
        p->said_leave = 1;
        sfu_close(sfu, io, p->conn, SFU_CLOSE_NORMAL, "bye");
        sfu_remove(sfu, now, p, 0, "left", io);
        return;

    case ROOMS_MSG_JOIN:
        sfu_bad_message(sfu, now, p, "join was sent twice", io);
        return;

    default:
        /* the table's host actions; nginx's own (lock, end) never come */
        if (m->type->at == ROOMS_MSG_RELAY
            && m->type->from != ROOMS_MSG_ANYONE)
        {
            sfu_host_action(sfu, now, p, m, io);

        } else {
            sfu_bad_message(sfu, now, p, "unknown message type", io);
        }

        return;
    }
}


void
sfu_record(sfu_t *sfu, uint64_t now_ms, const rooms_proto_hdr_t *hdr,
    const unsigned char *payload, sfu_io_t *io)
{
    sfu_part_t  *p;

    p = sfu_find_conn(sfu, hdr->id);

    if (hdr->type == ROOMS_PROTO_LEAVE) {
        if (p != NULL) {
            sfu_remove(sfu, now_ms, p, 0, "connection closed", io);
        }
        return;
    }

    if (hdr->type == ROOMS_PROTO_DETACH) {
        /* its nginx worker is closing: the browser may resume it */
        if (p != NULL) {
            sfu_detach(sfu, now_ms, p, io);
        }
        return;
    }

    if (hdr->type != ROOMS_PROTO_JOIN && hdr->type != ROOMS_PROTO_SIGNAL
        && hdr->type != ROOMS_PROTO_ROOM && hdr->type != ROOMS_PROTO_RESUME)
    {
        sfu_log(sfu, SFU_LOG_WARN, "record of unknown type %u ignored",
                (unsigned) hdr->type);
        return;
    }

    if (hdr->type == ROOMS_PROTO_ROOM) {
        /* about a room, not a connection: id 0 names nobody */
        p = NULL;
    }

    if (sfu->draining
        && (hdr->type == ROOMS_PROTO_JOIN || hdr->type == ROOMS_PROTO_RESUME))
    {
        /* this node takes nobody in: the browser goes to another one */
        sfu->stats.refused++;
        sfu_close(sfu, io, hdr->id, ROOMS_PROTO_CLOSE_MOVED, "moved");
        return;
    }

    if (hdr->type == ROOMS_PROTO_SIGNAL && p == NULL) {
        /* after a refusal, or racing a close: nobody to answer */
        sfu_log(sfu, SFU_LOG_DEBUG, "SIGNAL for unknown connection %u:%llu",
                ROOMS_PROTO_SLOT(hdr->id),
                (unsigned long long) (hdr->id & 0xffffffffffffULL));
        return;
    }

    /* shared memory is read once, into our copy, before parsing */
    if (hdr->len <= SFU_MSG_MAX) {
        memcpy(sfu->msg, payload, hdr->len);
        sfu->msg[hdr->len] = '\0';
    }

    sfu_msg_record(sfu, now_ms, hdr, p, io);
}


void
sfu_drain(sfu_t *sfu, uint64_t now_ms, sfu_io_t *io)
{
    unsigned      n;
    sfu_queue_t  *q, *next;
    sfu_part_t   *p;

    if (sfu->draining) {
        return;
    }

    sfu->draining = 1;
    n = 0;

    for (q = sfu->all.next; q != &sfu->all; q = next) {
        next = q->next;
        p = sfu_queue_data(q, sfu_part_t, all_link);

        /* as in sfu_drop_slot(): next stays valid (draining: no policy) */
        sfu_remove(sfu, now_ms, p, p->detached ? 0 : ROOMS_PROTO_CLOSE_MOVED,
                   "moved", io);
        n++;
    }

    sfu_log(sfu, SFU_LOG_INFO, "draining: %u participants told to move, "
            "joins refused from now on", n);
}


void
sfu_drop_slot(sfu_t *sfu, unsigned slot, uint64_t now_ms, sfu_io_t *io)
{
    sfu_queue_t  *q, *next;
    sfu_part_t   *p;

    sfu->dead_slot = (int) slot;

    if (slot < ROOMS_RING_MAX_PEERS) {
        sfu->slots &= ~((uint64_t) 1 << slot);
    }

    for (q = sfu->all.next; q != &sfu->all; q = next) {
        next = q->next;
        p = sfu_queue_data(q, sfu_part_t, all_link);

        if (ROOMS_PROTO_SLOT(p->conn) != slot) {
            continue;
        }

        /*
         * Its browser may resume it on another nginx worker (a DETACH
         * lost on a full ring, or the nginx worker died): a participant
         * in a room waits for that (sfu_resume.c), one in a lobby goes.
         * Neither may unlink another participant or let one in, so next
         * stays valid.
         */
        sfu_detach(sfu, now_ms, p, io);
    }

    sfu->dead_slot = -1;
}


void
sfu_slot_add(sfu_t *sfu, unsigned slot, sfu_io_t *io)
{
    if (slot >= ROOMS_RING_MAX_PEERS) {
        return;
    }

    sfu->slots |= (uint64_t) 1 << slot;

    /*
     * The newcomer learns every count that is not 0, and that the rest
     * are 0: nginx sets all it had to 0 when its link dropped, after a
     * restart of nginx the shared directory knows nothing of the rooms
     * people are in, and after a reload it may hold counts that no ring
     * will correct.
     */
    sfu_counts_sync(sfu, io, slot);
}


void
sfu_slot_resync(sfu_t *sfu, unsigned slot, const uint64_t *conns, size_t n,
    unsigned all, uint64_t now_ms, sfu_io_t *io)
{
    size_t        i;
    sfu_part_t   *p;
    sfu_queue_t  *q, *next;

    if (slot >= ROOMS_RING_MAX_PEERS
        || (sfu->slots & ((uint64_t) 1 << slot)) == 0)
    {
        return;
    }

    if (all) {
        for (q = sfu->all.next; q != &sfu->all; q = next) {
            next = q->next;
            p = sfu_queue_data(q, sfu_part_t, all_link);

            if (ROOMS_PROTO_SLOT(p->conn) == slot) {
                /* as in sfu_drop_slot(): next stays valid */
                sfu_remove(sfu, now_ms, p, ROOMS_PROTO_CLOSE_RESYNC,
                           "records lost", io);
            }
        }
    }

    for (i = 0; i < n; i++) {
        if (ROOMS_PROTO_SLOT(conns[i]) != slot
            || (conns[i] & 0xffffffffffffULL) == 0)
        {
            continue;
        }

        p = sfu_find_conn(sfu, conns[i]);

        if (p != NULL) {
            /* the others are told it left; it joins again */
            sfu_remove(sfu, now_ms, p, ROOMS_PROTO_CLOSE_RESYNC,
                       "records lost", io);

        } else {
            /* it was gone already, but its browser may not know it */
            sfu_close(sfu, io, conns[i], ROOMS_PROTO_CLOSE_RESYNC,
                      "records lost");
        }
    }

    sfu_counts_sync(sfu, io, slot);
}


/*
 * What peer's DTLS said (ev): connected, it gets SRTP and its new
 * subscriptions a keyframe; failed, its participant goes (4408).
 */
static void
sfu_dtls_event(sfu_t *sfu, uint64_t now, sfu_peer_t *peer, int ev,
    sfu_io_t *io)
{
    int          rc;
    sfu_part_t  *p;

    p = peer->part;

    switch (ev) {

    case ROOMS_DTLS_EV_CONNECTED:
        rc = sfu_peer_connected(sfu, now, peer);

        if (rc == 0) {
            return;
        }

        if (rc < 0) {
            sfu_log(sfu, SFU_LOG_ERR, "%s: cannot set up SRTP", p->id);
            sfu_remove(sfu, now, p, SFU_CLOSE_TIMEOUT, "SRTP failed", io);
            return;
        }

        sfu_log(sfu, SFU_LOG_INFO, "DTLS connected: %s (room %lld), SRTP "
                "profile %s", p->id, (long long) p->room->id,
                peer->dtls.profile == ROOMS_SRTP_AEAD_AES_128_GCM
                ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80");

        /* its new subscriptions start with a keyframe */
        sfu_want_keyframes(sfu, now, peer, io);
        return;

    case ROOMS_DTLS_EV_FAILED:
        sfu_log(sfu, SFU_LOG_WARN, "DTLS failed: %s: %s", p->id,
                peer->dtls.error ? peer->dtls.error : "unknown");
        sfu_remove(sfu, now, p, SFU_CLOSE_TIMEOUT, "media failed (DTLS)", io);
        return;

    case ROOMS_DTLS_EV_CLOSED:
        sfu_log(sfu, SFU_LOG_INFO, "DTLS closed by %s", p->id);
        return;

    default:
        return;
    }
}


/* A STUN datagram from src: ICE answers it, and may select an address. */
static void
sfu_stun(sfu_t *sfu, uint64_t now, const rooms_stun_addr_t *src,
    uint8_t *buf, size_t len, sfu_io_t *io)
{
    char                 text[64];
    size_t               out_len;
    uint8_t              reply[ROOMS_STUN_REPLY_MAX];
    sfu_peer_t          *peer;
    sfu_dgram_t         *d;
    rooms_ice_event_t    iev;
    rooms_ice_action_e   act;

    sfu->stats.rx_stun++;
    out_len = sizeof(reply);

    act = rooms_ice_input(sfu->net->ice, now, src, buf, len, reply,
                          &out_len, &iev);

    if (act == ROOMS_ICE_REPLY && out_len > 0) {
        d = sfu_out(sfu, io);

        if (d != NULL) {
            memcpy(d->data, reply, out_len);
            sfu_commit(sfu, io, src, out_len);
        }
    }

    if (iev.type == ROOMS_ICE_EV_SELECTED && iev.data != NULL) {
        peer = iev.data;
        peer->addr = iev.addr;
        peer->has_addr = 1;

        sfu_log(sfu, SFU_LOG_INFO, "ICE selected: %s (room %lld) at %s",
                peer->id, (long long) peer->part->room->id,
                rooms_stun_addr_format(&iev.addr, text, sizeof(text)));
    }
}


/*
 * One datagram, demultiplexed by its first byte (RFC 7983): STUN to ICE,
 * and from a selected address DTLS to the peer's session, SRTCP and SRTP
 * to the media path.
 */
void
sfu_udp_input(sfu_t *sfu, uint64_t now_ms, const rooms_stun_addr_t *src,
    uint8_t *buf, size_t len, sfu_io_t *io)
{
    sfu_udp_input_us(sfu, now_ms * 1000, src, buf, len, io);
}


void
sfu_udp_input_us(sfu_t *sfu, uint64_t now_us, const rooms_stun_addr_t *src,
    uint8_t *buf, size_t len, sfu_io_t *io)
{
    int          ev;
    uint8_t      first;
    uint64_t     now_ms;
    sfu_peer_t  *p;

    now_ms = now_us / 1000;
    sfu->stats.rx++;

    if (len == 0) {
        return;
    }

    first = buf[0];

    if (first <= 3) {
        sfu_stun(sfu, now_ms, src, buf, len, io);
        return;
    }

    if (rooms_ice_lookup_addr(sfu->net->ice, src, (void **) &p) == 0) {
        sfu->stats.rx_unknown++;
        return;
    }

    if (first >= 20 && first <= 63) {
        sfu->stats.rx_dtls++;

        if (p->dtls.ssl == NULL) {
            return;
        }

        ev = rooms_dtls_input(&p->dtls, buf, len);
        sfu_peer_dtls_flush(sfu, p, io);
        sfu_dtls_event(sfu, now_ms, p, ev, io);
        return;
    }

    if (first < 128 || first > 191) {
        sfu->stats.rx_bad++;
        return;
    }

    if (!p->srtp_ready) {
        sfu->stats.unprotect_fail++;
        return;
    }

    if (rooms_rtp_is_rtcp(buf, len)) {
        sfu->stats.rx_rtcp++;

        if (rooms_srtp_unprotect_rtcp(&p->srtp, buf, &len) != 0) {
            sfu->stats.unprotect_fail++;
            return;
        }

        sfu_rtcp(sfu, now_ms, p, buf, len, io);
        return;
    }

    sfu->stats.rx_rtp++;

    if (rooms_srtp_unprotect(&p->srtp, buf, &len) != 0) {
        sfu->stats.unprotect_fail++;
        return;
    }

    sfu_rtp(sfu, now_us, p, buf, len, io);
}


/* ---- simulcast layers ---- */


/*
 * The layers p's simulcast subscriptions get (layer.h): from each tile's
 * size in its view, its view order and (once the subscriber side of
 * congestion control exists) its estimate.  A line whose choice changed
 * to another layer keeps what it forwards until a keyframe of the new
 * one, which is asked for now; a paused line forwards nothing from now.
 */
static unsigned
sfu_layers_apply(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    int                    t;
    char                  *text;
    uint64_t               paused;
    unsigned               i, k, n, audio;
    sfu_line_t            *l, *lines[ROOMS_SDP_MAX_MEDIA];
    sfu_layer_t           *ly;
    sfu_peer_t            *peer;
    rooms_layer_tile_t     tiles[ROOMS_SDP_MAX_MEDIA];
    rooms_layer_result_t   res;

    peer = p->peer;

    if (peer == NULL || p->waiting) {
        return 0;
    }

    n = sfu_select_tiles(p, tiles, lines, ROOMS_SDP_MAX_MEDIA);

    if (n == 0) {
        return 0;
    }

    /*
     * A layer is arriving while its packets are.  A record may be handled
     * with a "now" read before the datagrams of the same turn of the event
     * loop (each batch reads the clock): a packet stamped after now is
     * recent, not 2^64 ms old, or a view sent then would drop every layer
     * and wait for keyframes.
     */
    for (i = 0; i < n; i++) {
        for (k = 0; k < lines[i]->bound->nlayers; k++) {
            ly = &lines[i]->bound->layers[k];
            lines[i]->bound->lpub.layer[k].active =
                ly->has_ssrc && (ly->last_ms >= now
                                 || now - ly->last_ms <= SFU_LAYER_IDLE_MS);
        }
    }

    audio = 0;

    for (i = 0; i < peer->nlines; i++) {
        audio += peer->lines[i].bound != NULL
                 && peer->lines[i].kind == ROOMS_SDP_KIND_AUDIO;
    }

    rooms_layer_choose(&peer->lstate, (int64_t) now,
                       peer->bwe_on ? rooms_bwe_estimate(&peer->bwe)
                                    : SFU_NO_ESTIMATE,
                       audio, tiles, n, &res);

    /* what its tiles ask for: how far a probe should go */
    peer->want_bps = res.want_bps;
    sfu_bwe_probe(sfu, now, peer, io);

    paused = 0;

    for (i = 0; i < n; i++) {
        l = lines[i];
        t = tiles[i].layer;

        if (t == l->target) {
            continue;
        }

        sfu_log(sfu, SFU_LOG_DEBUG, "%s mid %s: layer %d of %s (tile %ux%u)",
                p->id, l->mid, t, l->bound->owner->id,
                (unsigned) tiles[i].width, (unsigned) tiles[i].height);

        l->target = t;
        l->kf_wait_ms = 0;

        if (t < 0) {
            l->layer = ROOMS_LAYER_NONE;

        } else if (t != l->layer && peer->srtp_ready) {
            /* without keys yet, its DTLS asks when they come */
            sfu_want_keyframe(sfu, now, l->bound, io);
        }
    }

    /* the browser shows why a paused tile has no picture, and when not */
    for (i = 0; i < n; i++) {
        if (lines[i]->target == ROOMS_LAYER_PAUSED) {
            paused = paused * 31 + lines[i]->index + 1;
        }
    }

    if (paused != peer->paused_told) {
        text = sfu_msg_video_paused(peer);

        if (text != NULL) {
            peer->paused_told = paused;
            sfu_signal(sfu, io, p->conn, text);
        }
    }

    return n;
}


/*
 * Every SFU_LAYERS_INTERVAL_MS, the choice of every participant again:
 * layers start and stop arriving, and the chooser's hysteresis moves
 * only with time.  Nobody receiving simulcast: no timer (SFU_NEVER).
 */
static uint64_t
sfu_layers_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    unsigned     i;
    sfu_part_t  *p;

    if (now < sfu->layers_due) {
        return sfu->layers_tiles ? sfu->layers_due : SFU_NEVER;
    }

    sfu->layers_tiles = 0;

    for (i = 0; i < SFU_CONN_BUCKETS; i++) {
        for (p = sfu->conns[i]; p != NULL; p = p->hash_next) {
            sfu->layers_tiles += sfu_layers_apply(sfu, now, p, io);
        }
    }

    sfu->layers_due = now + SFU_LAYERS_INTERVAL_MS;

    return sfu->layers_tiles ? sfu->layers_due : SFU_NEVER;
}


/* ---- timers ---- */


/* ICE consent and connect timeouts, one event per call: the next due. */
static uint64_t
sfu_ice_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    uint64_t            t;
    sfu_peer_t         *peer;
    rooms_ice_event_t   iev;

    for ( ;; ) {
        t = rooms_ice_poll(sfu->net->ice, now, &iev);

        if (iev.type != ROOMS_ICE_EV_TIMEOUT) {
            return t;
        }

        peer = iev.data;
        sfu->stats.timeouts++;

        if (peer == NULL) {
            rooms_ice_remove(sfu->net->ice, iev.id);
            continue;
        }

        sfu_log(sfu, SFU_LOG_INFO, "ICE timeout (%s): %s",
                iev.reason == ROOMS_ICE_TIMEOUT_CONSENT
                ? "consent expired" : "never connected", peer->id);

        sfu_remove(sfu, now, peer->part, SFU_CLOSE_TIMEOUT,
                   "media timed out", io);
    }
}


/* DTLS retransmissions of sessions still shaking hands: the next due. */
static uint64_t
sfu_dtls_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    int           ev;
    long          ms;
    uint64_t      next, t;
    sfu_peer_t   *p;
    sfu_queue_t  *q, *qn, *list;

    next = SFU_NEVER;
    list = &sfu->net->handshakes;

    for (q = list->next; q != list; q = qn) {
        qn = q->next;
        p = sfu_queue_data(q, sfu_peer_t, hs_link);

        ms = rooms_dtls_timeout(&p->dtls);

        if (ms == 0) {
            ev = rooms_dtls_on_timeout(&p->dtls);
            sfu_peer_dtls_flush(sfu, p, io);

            if (ev == ROOMS_DTLS_EV_FAILED) {
                /* unlinks only p: qn stays valid */
                sfu_dtls_event(sfu, now, p, ev, io);
                continue;
            }

            ms = rooms_dtls_timeout(&p->dtls);
        }

        if (ms >= 0) {
            /* 1 ms at least: OpenSSL rounds its remaining time down */
            t = now + (uint64_t) (ms > 0 ? ms : 1);
            if (t < next) {
                next = t;
            }
        }
    }

    return next;
}


static uint64_t
sfu_min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}


/*
 * Participants in a room with no offer SFU_OFFER_MS after they came in:
 * each gets the error no_offer and goes with 4408 (its browser failed
 * to negotiate, or a client holds a place without media).  The others
 * hear participant_left.  The next look, or SFU_NEVER when no offer is
 * awaited.
 */
static uint64_t
sfu_offer_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    uint64_t      limit;
    unsigned      pending;
    sfu_part_t   *p;
    sfu_queue_t  *q;

    if (!sfu->offer_pending) {
        return SFU_NEVER;
    }

    if (now < sfu->offer_scan_ms) {
        return sfu->offer_scan_ms;
    }

    limit = sfu->conf.offer_ms ? sfu->conf.offer_ms : SFU_OFFER_MS;

again:

    pending = 0;

    for (q = sfu->all.next; q != &sfu->all; q = q->next) {
        p = sfu_queue_data(q, sfu_part_t, all_link);

        if (p->waiting || p->peer == NULL || sfu_peer_answered(p->peer)) {
            continue;
        }

        if (now - p->entered_ms < limit) {
            pending++;
            continue;
        }

        sfu_log(sfu, SFU_LOG_INFO, "no offer from %s within %llu ms: it "
                "goes", p->id, (unsigned long long) limit);

        sfu_error(sfu, io, p->conn, "no_offer", "no offer came in time "
                  "after the welcome");
        sfu_remove(sfu, now, p, SFU_CLOSE_TIMEOUT, "no offer", io);

        /* a removal may change the list: look again from the start */
        goto again;
    }

    sfu->offer_scan_ms = now + SFU_OFFER_SCAN_MS;
    sfu->offer_pending = pending != 0;

    return pending ? sfu->offer_scan_ms : SFU_NEVER;
}


/* Every timer of every file, in this order; the soonest next one. */
uint64_t
sfu_poll(sfu_t *sfu, uint64_t now_ms, sfu_io_t *io)
{
    uint64_t  next;

    next = sfu_layers_poll(sfu, now_ms, io);

    next = sfu_min64(next, sfu_voice_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_ice_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_dtls_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_keyframes_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_nack_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_rr_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_twcc_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_probe_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_room_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_offer_poll(sfu, now_ms, io));
    next = sfu_min64(next, sfu_resume_poll(sfu, now_ms, io));

    return next;
}


sfu_t *
sfu_create(const sfu_conf_t *conf, char *err, size_t errlen)
{
    size_t   n;
    sfu_t   *sfu;

    if (conf->announce_ip == NULL
        || strlen(conf->announce_ip) >= sizeof(sfu->announce_ip)
        || conf->port == 0 || conf->max_sessions == 0
        || conf->ncands > ROOMS_SDP_MAX_CANDS
        || (conf->ncands > 0 && conf->cands == NULL)
        || conf->max_sessions > ROOMS_ICE_MAX_SESSIONS
        || conf->rng == NULL)
    {
        snprintf(err, errlen, "bad SFU configuration");
        return NULL;
    }

    sfu = calloc(1, sizeof(sfu_t));
    if (sfu == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    sfu->conf = *conf;
    sfu->dead_slot = -1;
    sfu->voice_quiet = SFU_NEVER;
    sfu->count_seq = conf->count_seq0 > 0 ? conf->count_seq0 : 0;
    n = strlen(conf->announce_ip);
    memcpy(sfu->announce_ip, conf->announce_ip, n + 1);
    sfu->conf.announce_ip = sfu->announce_ip;

    if (conf->ncands > 0) {
        memcpy(sfu->cands, conf->cands,
               conf->ncands * sizeof(rooms_sdp_cand_t));
    }

    sfu->conf.cands = sfu->cands;

    sfu_queue_init(&sfu->all);
    sfu_queue_init(&sfu->linger);
    sfu_queue_init(&sfu->absent);

    sfu->msg = malloc(SFU_MSG_MAX + 1);
    if (sfu->msg == NULL) {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }

    if (sfu_net_create(sfu, err, errlen) != 0) {
        goto failed;
    }

    return sfu;

failed:

    sfu_destroy(sfu);
    return NULL;
}


void
sfu_destroy(sfu_t *sfu)
{
    sfu_part_t   *p;
    sfu_queue_t  *q;

    if (sfu == NULL) {
        return;
    }

    while (!sfu_queue_empty(&sfu->all)) {
        q = sfu->all.next;
        p = sfu_queue_data(q, sfu_part_t, all_link);
        sfu_queue_remove(q);
        sfu_peer_free(sfu, p->peer);
        free(p);
    }

    sfu_rooms_free(sfu);
    sfu_net_free(sfu);
    free(sfu->msg);
    free(sfu);
}


unsigned
sfu_participants(const sfu_t *sfu)
{
    return sfu->nparts;
}


unsigned
sfu_waiting(const sfu_t *sfu)
{
    return sfu->nwaiting;
}


unsigned
sfu_rooms(const sfu_t *sfu)
{
    return sfu->nrooms - sfu->nidle;
}


unsigned
sfu_idle_rooms(const sfu_t *sfu)
{
    return sfu->nidle;
}


const sfu_stats_t *
sfu_stats(const sfu_t *sfu)
{
    return &sfu->stats;
}


const char *
sfu_fingerprint(const sfu_t *sfu)
{
    return rooms_dtls_ctx_fingerprint(sfu->net->dtls);
}
