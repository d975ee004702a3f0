/*
 * sfu_resume.c: calls that survive an nginx reload (docs/protocol.md,
 * "Resuming after a reload").
 *
 * Owns: detached participants (their WebSocket went with a closing
 * nginx worker, by a DETACH record or their slot's end) and their grace,
 * ROOMS_RESUME_GRACE_MS; the RESUME record: finding the participant by
 * its resume token's hash, checking that the guest token and the role
 * nginx read are its own, moving it to the new connection with the next
 * hash (a token resumes once), and the "resumed" answer; a refusal
 * (resume_failed, close 4410).  The token just used stays good until the
 * browser speaks on its new connection (sfu_message() forgets it): a
 * connection that closes before its "resumed" reached the browser (an
 * nginx worker that was closing took it) must not leave the browser
 * holding a spent token and its call lost.  A detached participant keeps its place,
 * its count and its media session (ICE, DTLS, SRTP and its m= lines are
 * untouched: the browser's peer connection never stopped), and nobody is
 * told it left; what would be sent to it meanwhile goes nowhere
 * (SFU_CONN_NONE), and the resume sends what it needs to be right again.
 * Must never log a token or a token hash, compare a hash in time that
 * depends on where it differs, or free a participant but through
 * sfu_remove().
 * May not: include rtp.h, include rtcp.h, include srtp.h, include dtls.h, include sdp.h, include forward.h, include ice.h, include sfu_peer.h, include <jansson.h>, include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, call json_, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 */

#include <stdio.h>
#include <string.h>

#include "sfu_int.h"


/* Two hex hashes, compared in constant time; "" matches nothing. */
static unsigned
sfu_hash_equal(const char *a, const char *b)
{
    unsigned       i;
    unsigned char  d;

    if (a[0] == '\0' || b[0] == '\0') {
        return 0;
    }

    d = 0;

    for (i = 0; i < ROOMS_HASH_HEX_LEN; i++) {
        d |= (unsigned char) (a[i] ^ b[i]);
    }

    return d == 0;
}


static unsigned
sfu_role_of(const sfu_part_t *p)
{
    return p->host ? ROOMS_MSG_ROLE_HOST
           : p->cohost ? ROOMS_MSG_ROLE_COHOST : ROOMS_MSG_ROLE_GUEST;
}


/*
 * p's WebSocket went with its nginx worker.  A participant in the room
 * with a resume hash waits ROOMS_RESUME_GRACE_MS for its browser; one in
 * the lobby (no session to keep) or without a hash leaves at once.
 */
void
sfu_detach(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    if (p->detached) {
        return;
    }

    if (p->waiting || p->resume[0] == '\0') {
        sfu_remove(sfu, now, p, 0, "connection closed", io);
        return;
    }

    sfu_conn_unlink(sfu, p);
    p->conn = SFU_CONN_NONE;
    p->detached = 1;
    p->resume_until = now + ROOMS_RESUME_GRACE_MS;
    sfu->ndetached++;

    sfu_log(sfu, SFU_LOG_INFO, "participant detached: room %lld (%s) id %s "
            "waits %d ms to be resumed", (long long) p->room->id,
            p->room->code, p->id, ROOMS_RESUME_GRACE_MS);
}


static void
sfu_resume_refuse(sfu_t *sfu, sfu_io_t *io, uint64_t conn, const char *why)
{
    sfu_log(sfu, SFU_LOG_INFO, "resume refused on connection %u:%llu: %s",
            ROOMS_PROTO_SLOT(conn),
            (unsigned long long) (conn & 0xffffffffffffULL), why);

    sfu_error(sfu, io, conn, "resume_failed", "nothing to resume; join "
              "again");
    sfu_close(sfu, io, conn, SFU_CLOSE_NO_RESUME, "join again");
}


/*
 * A RESUME record.  The participant is found by its resume hash in the
 * room nginx named; its guest token hash and its role must be the ones
 * nginx read from the browser's credentials, so a resume token alone,
 * or one with another browser's token, resumes nothing.  It may still be
 * on another connection (the RESUME came before the DETACH, on another
 * nginx worker's ring): that one is closed 4411 and its LEAVE, or
 * DETACH, finds nobody.
 */
void
sfu_resume(sfu_t *sfu, uint64_t now, uint64_t conn,
    const rooms_msg_resume_t *r, sfu_io_t *io)
{
    char          safe[SFU_NAME_MAX + 1];
    uint64_t      old;
    sfu_part_t   *p, *o;
    sfu_room_t   *room;
    sfu_queue_t  *q;

    if (sfu_find_conn(sfu, conn) != NULL) {
        sfu_log(sfu, SFU_LOG_WARN, "RESUME for connection %u:%llu, which "
                "has joined already", ROOMS_PROTO_SLOT(conn),
                (unsigned long long) (conn & 0xffffffffffffULL));
        sfu_error(sfu, io, conn, "bad_message", "resume after a join");
        sfu_close(sfu, io, conn, SFU_CLOSE_BAD, "bad message");
        return;
    }

    if (r == NULL) {
        sfu_log(sfu, SFU_LOG_WARN, "malformed RESUME from nginx");
        sfu_error(sfu, io, conn, "bad_message", "malformed resume");
        sfu_close(sfu, io, conn, SFU_CLOSE_BAD, "bad message");
        return;
    }

    room = sfu_find_room(sfu, r->room);
    p = NULL;

    if (room != NULL) {
        for (q = room->parts.next; q != &room->parts; q = q->next) {
            o = sfu_queue_data(q, sfu_part_t, room_link);

            if (sfu_hash_equal(o->resume, r->resume)
                || sfu_hash_equal(o->resume_prev, r->resume))
            {
                p = o;
                break;
            }
        }
    }

    if (p == NULL) {
        sfu_resume_refuse(sfu, io, conn, "no participant has that token "
                          "(gone, or resumed already)");
        return;
    }

    if (!sfu_hash_equal(p->token, r->token) || sfu_role_of(p) != r->role) {
        sfu_resume_refuse(sfu, io, conn, "another guest token or role");
        return;
    }

    if (p->detached) {
        p->detached = 0;
        sfu->ndetached--;

    } else {
        old = p->conn;
        sfu_conn_unlink(sfu, p);
        sfu_close(sfu, io, old, SFU_CLOSE_REPLACED, "resumed elsewhere");
    }

    p->conn = conn;
    sfu_conn_link(sfu, p);

    /* the token used stays good until the browser shows it has the next */
    if (!sfu_hash_equal(p->resume_prev, r->resume)) {
        memcpy(p->resume_prev, r->resume, sizeof(p->resume_prev));
    }

    memcpy(p->resume, r->next, sizeof(p->resume));

    sfu_signal(sfu, io, conn, sfu_msg_resumed(room, p));
    sfu_streams_resync(sfu, now, p, io);

    sfu_log(sfu, SFU_LOG_INFO, "participant resumed: room %lld (%s) id %s "
            "name \"%s\" conn %u:%llu", (long long) room->id, room->code,
            p->id, sfu_printable(p->name, safe, sizeof(safe)),
            ROOMS_PROTO_SLOT(conn),
            (unsigned long long) (conn & 0xffffffffffffULL));
}


void
sfu_resume_drop(sfu_t *sfu, uint64_t now, sfu_room_t *room,
    const char *token, sfu_io_t *io)
{
    sfu_part_t   *p;
    sfu_queue_t  *q, *next;

    for (q = room->parts.next; q != &room->parts; q = next) {
        next = q->next;
        p = sfu_queue_data(q, sfu_part_t, room_link);

        /* removing p unlinks p alone: next stays valid */
        if (p->detached && sfu_hash_equal(p->token, token)) {
            sfu_remove(sfu, now, p, 0, "joined again", io);
        }
    }
}


uint64_t
sfu_resume_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    uint64_t      next;
    sfu_part_t   *p;
    sfu_queue_t  *q, *qn;

    if (sfu->ndetached == 0) {
        return SFU_NEVER;
    }

    next = SFU_NEVER;

    for (q = sfu->all.next; q != &sfu->all; q = qn) {
        qn = q->next;
        p = sfu_queue_data(q, sfu_part_t, all_link);

        if (!p->detached) {
            continue;
        }

        if (p->resume_until > now) {
            if (p->resume_until < next) {
                next = p->resume_until;
            }

            continue;
        }

        /*
         * Its browser did not come back: it leaves now, as after a lost
         * connection.  Removing p may send a HOST_ABSENT record and
         * signals, but unlinks p alone, so qn stays valid.
         */
        sfu_remove(sfu, now, p, 0, "not resumed in time", io);
    }

    return next;
}
