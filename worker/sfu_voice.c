/*
 * sfu_voice.c: who is heard (docs/protocol.md, "Who you see and hear").
 * Each participant's audio lines, up to its audio_slots, carry the
 * loudest other voices, and every room has a dominant speaker, both as
 * speaker.h chooses them from the audio levels the publishers send.
 * This file applies the choice: a line whose voice changes is re-pointed
 * in place (sfu_bind(): the SSRC stays, sequence numbers and timestamps
 * continue), the participant gets the new streams map, and the room is
 * told of a new dominant speaker in a "speaker" message.  The choice is
 * made again every SFU_VOICE_INTERVAL_MS while audio levels arrive, and
 * at each offer for its sender; with no level heard only a dominant
 * speaker falling quiet can change anything, and the timer waits for
 * that alone (an idle worker sleeps).
 *
 * Owns: when voices are chosen, the room's dominant speaker.  Must
 * never: decide who is loudest (speaker.c does), build JSON (sfu_msg.c
 * does), read a clock, or touch packets.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, call json_, call malloc, call calloc, call free, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes, call rooms_fwd_, call rooms_hist_
 */

#include <string.h>

#include "sfu_peer.h"


/*
 * The choice is made again this often: with speaker.h's 60 ms for a
 * voice to count as speaking, someone who starts to talk takes a line
 * within about 110 ms, plus the way to the browser.  A room of 50 costs
 * 50 choices of 8 lines among 49 voices per step: microseconds.
 */
#define SFU_VOICE_INTERVAL_MS  50



unsigned
sfu_voice_assign(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    unsigned answering, sfu_io_t *io)
{
    unsigned               i, k, nc, nl, nx, changed, missing;
    sfu_line_t            *cand[ROOMS_PARTICIPANTS_LIMIT * 2];
    sfu_line_t            *lines[ROOMS_AUDIO_SLOTS_MAX];
    sfu_line_t            *extra[ROOMS_SDP_MAX_MEDIA];
    rooms_voice_line_t     vl[ROOMS_AUDIO_SLOTS_MAX];
    const rooms_voice_t   *voices[ROOMS_PARTICIPANTS_LIMIT * 2];

    if (p->waiting || p->peer == NULL || !p->peer->nlines) {
        return 0;
    }

    nc = sfu_select_voices(p, cand, sizeof(cand) / sizeof(cand[0]));
    nl = sfu_select_audio_lines(p, answering, lines, extra, &nx);

    /* lines past the slots carry nothing */
    for (i = 0; i < nx; i++) {
        sfu_unbind(extra[i]);
    }

    for (k = 0; k < nc; k++) {
        voices[k] = &cand[k]->voice;
    }

    for (i = 0; i < nl; i++) {
        vl[i].voice = -1;
        vl[i].since_ms = lines[i]->bound_ms;

        for (k = 0; k < nc && lines[i]->bound != NULL; k++) {
            if (lines[i]->bound == cand[k]) {
                vl[i].voice = (int) k;
                break;
            }
        }

        if (vl[i].voice < 0) {
            /* it carried what is no voice of p's now: free */
            sfu_unbind(lines[i]);
        }
    }

    changed = rooms_voice_choose(vl, nl, voices, nc, now);

    for (i = 0; i < nl && changed; i++) {
        if (vl[i].voice < 0 || lines[i]->bound == cand[vl[i].voice]) {
            continue;
        }

        if (sfu_bind(sfu, now, p->peer, lines[i], cand[vl[i].voice], io)
            != 0)
        {
            sfu_unbind(lines[i]);
        }
    }

    missing = nc < p->audio_slots ? nc : p->audio_slots;

    for (i = 0; i < nl; i++) {
        missing -= missing > 0 && lines[i]->bound != NULL;
    }

    return missing;
}


/*
 * The room's dominant speaker again: told to everyone in it when it
 * changes, and to whoever came in since it was (as soon as it speaks).
 */
static void
sfu_voice_dominant(sfu_t *sfu, uint64_t now, sfu_room_t *room,
    sfu_io_t *io)
{
    int                   cur, next;
    unsigned              i, nc;
    sfu_part_t           *o;
    sfu_queue_t          *q;
    sfu_line_t           *l;
    sfu_part_t           *owner[ROOMS_PARTICIPANTS_LIMIT * 2];
    const rooms_voice_t  *voices[ROOMS_PARTICIPANTS_LIMIT * 2];

    nc = 0;
    cur = -1;
    voices[0] = NULL;               /* (the compiler cannot see nc's) */

    for (q = room->parts.next; q != &room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        for (i = 0; i < o->peer->nlines
                    && nc < sizeof(voices) / sizeof(voices[0]); i++)
        {
            l = &o->peer->lines[i];

            if (!l->publishing || l->kind != ROOMS_SDP_KIND_AUDIO) {
                continue;
            }

            if (cur < 0 && strcmp(o->id, room->speaker) == 0) {
                cur = (int) nc;
            }

            owner[nc] = o;
            voices[nc++] = &l->voice;
        }
    }

    next = rooms_voice_dominant(cur, &room->speaker_ms, voices, nc, now);

    /* with no level heard, it goes once quiet that long: wake for it */
    if (next >= 0 && voices[next]->loud_ms + ROOMS_VOICE_QUIET_MS + 1
                     < sfu->voice_quiet)
    {
        sfu->voice_quiet = voices[next]->loud_ms + ROOMS_VOICE_QUIET_MS + 1;
    }

    if (next == cur && (cur >= 0 || room->speaker[0] == '\0')) {
        for (q = room->parts.next; q != &room->parts; q = q->next) {
            o = sfu_queue_data(q, sfu_part_t, room_link);

            if (!o->speaker_told && room->speaker[0] != '\0') {
                o->speaker_told = 1;
                sfu_signal(sfu, io, o->conn, sfu_msg_speaker(room->speaker));
            }
        }

        return;
    }

    if (next >= 0) {
        memcpy(room->speaker, owner[next]->id, sizeof(room->speaker));

    } else {
        room->speaker[0] = '\0';
    }

    sfu_log(sfu, SFU_LOG_DEBUG, "room %s: speaker %s", room->code,
            next >= 0 ? room->speaker : "none");

    sfu_room_broadcast(sfu, io, room, NULL, sfu_msg_speaker(room->speaker));

    for (q = room->parts.next; q != &room->parts; q = q->next) {
        sfu_queue_data(q, sfu_part_t, room_link)->speaker_told = 1;
    }
}


uint64_t
sfu_voice_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    unsigned      i;
    sfu_room_t   *room;
    sfu_part_t   *p;
    sfu_queue_t  *q;

    if (now < sfu->voice_due
        || (!sfu->voice_heard && now < sfu->voice_quiet))
    {
        return sfu->voice_heard ? sfu->voice_due : sfu->voice_quiet;
    }

    sfu->voice_heard = 0;
    sfu->voice_quiet = SFU_NEVER;

    for (i = 0; i < SFU_ROOM_BUCKETS; i++) {
        for (room = sfu->rooms[i]; room != NULL; room = room->hash_next) {
            if (sfu_queue_empty(&room->parts)) {
                continue;
            }

            sfu_voice_dominant(sfu, now, room, io);

            for (q = room->parts.next; q != &room->parts; q = q->next) {
                p = sfu_queue_data(q, sfu_part_t, room_link);

                if (!sfu_peer_answered(p->peer)) {
                    continue;
                }

                (void) sfu_voice_assign(sfu, now, p, 0, io);
                sfu_map_send(sfu, io, p);
            }
        }
    }

    sfu->voice_due = now + SFU_VOICE_INTERVAL_MS;

    return sfu->voice_quiet;
}
