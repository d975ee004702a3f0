/*
 * sfu_host.c: the host controls of docs/protocol.md: remove, mute,
 * stop_share, admit, deny, cohost and uncohost.
 *
 * Owns: the worker's one check that a host action comes from a host or
 * co-host (and a co-host's limits: guests only, no co-hosts made or
 * unmade), finding whom its id names (in the room, or in its lobby),
 * and carrying it out: the BAN record and the removal, the mute request,
 * the share stopped, the admission or denial of a waiting guest, the
 * co-host made or unmade.  The rooms, their people, the lobby and the
 * roles themselves are sfu_room.c's; this file acts through its calls
 * and sfu_room.c never calls it.
 *
 * Must never: touch a packet, a session or an m= line, build or read
 * JSON (sfu_msg.c does), keep any state of its own.
 * May not: include rtp.h, include rtcp.h, include srtp.h, include dtls.h, include sdp.h, include forward.h, include ice.h, include sfu_peer.h, include <jansson.h>, include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, call json_, call malloc, call calloc, call free, call rooms_rtp_, call rooms_rtcp_, call rooms_srtp_, call rooms_dtls_, call rooms_sdp_, call rooms_ice_, call rooms_fwd_, call rooms_hist_, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 */

#include "sfu_int.h"


/*
 * remove, mute, stop_share, admit and deny from a host or co-host, cohost and
 * uncohost from a host, as the "from" of rooms_msg.h's table says.  This
 * is the worker's one check of the role: nginx refuses them by the same
 * table already (ngx_rooms_signal.c), and this repeats it against the
 * role the JOIN carried (or a promotion gave), so that no record can act
 * for a host that is not one.  A co-host may not remove a host or
 * another co-host.  remove, mute, cohost and uncohost name people in the
 * room, admit and deny people waiting in its lobby.
 */
void
sfu_host_action(sfu_t *sfu, uint64_t now, sfu_part_t *p,
    const sfu_signal_t *m, sfu_io_t *io)
{
    char            safe[SFU_NAME_MAX + 1];
    unsigned        lobby;
    sfu_part_t     *t;
    rooms_msg_id_e  type;

    type = m->type->id;

    if (m->type->from == ROOMS_MSG_HOST ? !p->host : !sfu_moderator(p)) {
        sfu_error(sfu, io, p->conn, "not_host",
                  "only the host can do this");
        return;
    }

    if (m->id == NULL) {
        sfu_bad_message(sfu, now, p, "a host action needs a string id", io);
        return;
    }

    lobby = type == ROOMS_MSG_ADMIT || type == ROOMS_MSG_DENY;

    t = sfu_find_id(lobby ? &p->room->lobby : &p->room->parts, m->id);

    if (t == NULL || (type == ROOMS_MSG_COHOST_UNSET && !t->cohost)) {
        sfu_error(sfu, io, p->conn, "no_such_participant",
                  lobby ? "nobody waiting has this id"
                  : t == NULL ? "nobody in the room has this id"
                  : "nobody in the room is a co-host with this id");
        return;
    }

    /* a co-host acts on guests only; a host is no co-host to make */
    if ((type == ROOMS_MSG_COHOST_SET && t->host)
        || (type == ROOMS_MSG_REMOVE && !p->host && sfu_moderator(t)))
    {
        sfu_error(sfu, io, p->conn, "not_host", t->host && p->host
                  ? "a host cannot be made a co-host"
                  : "only the host can remove a host or a co-host");
        return;
    }

    if (type == ROOMS_MSG_COHOST_SET) {
        if (t->cohost) {
            return;
        }

        if (p->room->cohosts >= ROOMS_COHOSTS_MAX) {
            sfu_error(sfu, io, p->conn, "too_many_cohosts",
                      "this room has as many co-hosts as it may");
            return;
        }

        sfu_set_role(sfu, now, t, 1, io);
        return;
    }

    if (type == ROOMS_MSG_COHOST_UNSET) {
        sfu_set_role(sfu, now, t, 0, io);
        return;
    }

    if (type == ROOMS_MSG_ADMIT) {
        sfu_log(sfu, SFU_LOG_INFO, "host %s admits %s \"%s\"", p->id, t->id,
                sfu_printable(t->name, safe, sizeof(safe)));
        sfu_admit(sfu, now, t, io);
        return;
    }

    if (type == ROOMS_MSG_DENY) {
        /* not a ban: the guest may knock again */
        sfu_log(sfu, SFU_LOG_INFO, "host %s denied %s \"%s\"", p->id, t->id,
                sfu_printable(t->name, safe, sizeof(safe)));
        sfu_error(sfu, io, t->conn, "denied", "the host did not let you in");
        sfu_lobby_leave(sfu, now, t, SFU_CLOSE_REFUSED, "denied", io);
        return;
    }

    if (type == ROOMS_MSG_STOP_SHARE) {
        if (sfu_share_stop(sfu, now, t, io) != 0) {
            sfu_error(sfu, io, p->conn, "no_such_participant",
                      "nobody sharing a screen has this id");
            return;
        }

        sfu_log(sfu, SFU_LOG_INFO, "host %s stopped the share of %s", p->id,
                t->id);
        return;
    }

    if (type == ROOMS_MSG_MUTE) {
        sfu_signal(sfu, io, t->conn, sfu_msg_type("mute_request"));
        sfu_log(sfu, SFU_LOG_INFO, "host %s asked %s to mute", p->id, t->id);
        return;
    }

    /*
     * The ban goes first, on the ring of the nginx worker that holds the
     * removed WebSocket: that worker stores it before it reads the CLOSE
     * below, so the ban is durable before the browser learns of it and
     * can try to join again.
     */
    sfu_send(sfu, io, ROOMS_PROTO_BAN, t->conn, sfu_msg_ban(t));

    sfu_log(sfu, SFU_LOG_INFO, "host %s removed %s \"%s\"", p->id, t->id,
            sfu_printable(t->name, safe, sizeof(safe)));

    sfu_error(sfu, io, t->conn, "removed", "the host removed you from "
              "this room");
    sfu_remove(sfu, now, t, SFU_CLOSE_REFUSED, "removed", io);
}
