/*
 * sfu_room.c: the rooms of the SFU and the people in them.
 *
 * Owns: the room and participant tables (by store id, by connection);
 * each room's newest state by revision, its idle linger and its
 * host-absent deadline; who is in a room, in join order, and who waits
 * in its lobby; roles; the capacity rule; the lock; the COUNT, ROLE
 * and HOST_ABSENT records to nginx.  The host actions (and their BAN
 * records) are sfu_host.c's, which calls this file, never the other way.
 * A participant's transport is its peer (sfu_peer.c), made and freed
 * here, reached only through the calls of sfu_int.h.
 *
 * The lobby.  The worker is the one authority on who is in a room, so
 * the guests waiting at a "knock" room's door live here too: a
 * participant record in the room's lobby list instead of its parts, with
 * no media session, not counted, not shown to anyone but the hosts (knock,
 * lobby_left, the lobby list of a host's welcome).  admit moves it into
 * the room (sfu_admit(), where the capacity rule applies), deny and its
 * own leaving drop it.  Each change of a room's count is sent to every
 * linked nginx worker as a COUNT record.
 *
 * Roles.  The host holds the room's key; a co-host holds a co-host key
 * or was promoted by a host (cohost, uncohost, or a ROOM record's
 * demote), and the ROLE record tells nginx to draw or revoke its key.
 * Both moderate (the lobby, remove, mute) and get past the lock; for
 * capacity a co-host is a guest, so the host's place stays reserved.
 *
 * Room state.  Lock, admission, cap and host-absent policy come from
 * JOIN records (the room as nginx read it) and ROOM records (changes),
 * and the one with the higher revision wins: a JOIN built before a lock
 * the worker heard of is judged by the lock.  A room nobody is in or
 * waiting at is idle: its state lingers ROOMS_ROOM_LINGER_MS (a ROOM
 * record for an unknown room makes such an idle room), and sfu_poll()
 * frees it after that.
 *
 * Host absent.  When the last host or co-host goes from a room whose
 * policy is lock or end, a HOST_ABSENT record asks nginx to apply it: at
 * once after "leave", after the grace otherwise (unless one comes back);
 * an idle room is kept for that deadline.  nginx answers with a ROOM
 * record (reason host_absent) that the people in the room are told of.
 *
 * Must never: touch a packet, a session or an m= line (it includes no
 * header of the protocol cores), build or read JSON (sfu_msg.c does).
 * May not: include rtp.h, include rtcp.h, include srtp.h, include dtls.h, include sdp.h, include forward.h, include ice.h, include sfu_peer.h, include <jansson.h>, include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, call sfu_host_, call json_, call rooms_rtp_, call rooms_rtcp_, call rooms_srtp_, call rooms_dtls_, call rooms_sdp_, call rooms_ice_, call rooms_fwd_, call rooms_hist_, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rooms_room.h"

#include "sfu_int.h"


static unsigned
sfu_conn_hash(uint64_t conn)
{
    conn ^= conn >> 33;
    conn *= 0xff51afd7ed558ccdULL;
    conn ^= conn >> 33;

    return (unsigned) (conn & (SFU_CONN_BUCKETS - 1));
}


sfu_part_t *
sfu_find_conn(sfu_t *sfu, uint64_t conn)
{
    sfu_part_t  *p;

    for (p = sfu->conns[sfu_conn_hash(conn)]; p; p = p->hash_next) {
        if (p->conn == conn) {
            return p;
        }
    }

    return NULL;
}


void
sfu_conn_link(sfu_t *sfu, sfu_part_t *p)
{
    p->hash_next = sfu->conns[sfu_conn_hash(p->conn)];
    sfu->conns[sfu_conn_hash(p->conn)] = p;
}


void
sfu_conn_unlink(sfu_t *sfu, sfu_part_t *p)
{
    sfu_part_t  **pp;

    for (pp = &sfu->conns[sfu_conn_hash(p->conn)]; *pp;
         pp = &(*pp)->hash_next)
    {
        if (*pp == p) {
            *pp = p->hash_next;
            return;
        }
    }
}


static unsigned
sfu_room_hash(int64_t id)
{
    return sfu_conn_hash((uint64_t) id) & (SFU_ROOM_BUCKETS - 1);
}


sfu_room_t *
sfu_find_room(sfu_t *sfu, int64_t id)
{
    sfu_room_t  *r;

    for (r = sfu->rooms[sfu_room_hash(id)]; r; r = r->hash_next) {
        if (r->id == id) {
            return r;
        }
    }

    return NULL;
}


/*
 * A room nobody is in yet, with no state heard (the caller applies one):
 * in the table, not idle.  NULL when out of memory.
 */
static sfu_room_t *
sfu_room_new(sfu_t *sfu, int64_t id)
{
    sfu_room_t  *room;

    room = calloc(1, sizeof(sfu_room_t));
    if (room == NULL) {
        return NULL;
    }

    room->id = id;
    room->max = 1;
    room->grace = ROOMS_HOST_GRACE_DEFAULT;
    sfu_queue_init(&room->parts);
    sfu_queue_init(&room->lobby);
    sfu_queue_init(&room->linger_link);
    sfu_queue_init(&room->absent_link);

    room->hash_next = sfu->rooms[sfu_room_hash(id)];
    sfu->rooms[sfu_room_hash(id)] = room;
    sfu->nrooms++;

    return room;
}


/* Frees an idle room, whatever lists it is in. */
static void
sfu_room_free(sfu_t *sfu, sfu_room_t *room)
{
    sfu_room_t  **pp;

    for (pp = &sfu->rooms[sfu_room_hash(room->id)]; *pp;
         pp = &(*pp)->hash_next)
    {
        if (*pp == room) {
            *pp = room->hash_next;
            break;
        }
    }

    if (room->lingering) {
        sfu_queue_remove(&room->linger_link);
        sfu->nlinger--;
    }

    if (room->absent_pending) {
        sfu_queue_remove(&room->absent_link);
        sfu->nabsent--;
    }

    sfu->nidle -= room->idle;
    sfu->nrooms--;
    free(room);
}


/*
 * Room may have gone idle: nobody in it or waiting at its door.  Its
 * state is kept ROOMS_ROOM_LINGER_MS from now (sfu_poll() frees it), or,
 * while a host-absent deadline is pending, until that is handled and
 * then as long again.  Over SFU_LINGER_MAX the room idle longest is
 * freed: never room itself, which goes last in the list.
 */
static void
sfu_room_release(sfu_t *sfu, sfu_room_t *room, uint64_t now)
{
    sfu_room_t  *old;

    if (room->count > 0 || room->waiting > 0 || room->lingering) {
        return;
    }

    if (!room->idle) {
        room->idle = 1;
        sfu->nidle++;
    }

    if (room->absent_pending) {
        return;
    }

    room->lingering = 1;
    room->linger_until = now + ROOMS_ROOM_LINGER_MS;
    sfu_queue_insert_tail(&sfu->linger, &room->linger_link);
    sfu->nlinger++;

    if (sfu->nlinger > SFU_LINGER_MAX) {
        old = sfu_queue_data(sfu->linger.next, sfu_room_t, linger_link);
        sfu_log(sfu, SFU_LOG_WARN, "%u idle rooms: the state of room %lld "
                "goes early", sfu->nlinger, (long long) old->id);
        sfu_room_free(sfu, old);
    }
}


/* Someone comes into room or its lobby: it is not idle any more. */
static void
sfu_room_occupy(sfu_t *sfu, sfu_room_t *room)
{
    if (room->lingering) {
        sfu_queue_remove(&room->linger_link);
        room->lingering = 0;
        sfu->nlinger--;
    }

    if (room->idle) {
        room->idle = 0;
        sfu->nidle--;
    }
}


/*
 * Takes what st says into room: all of it when it is the newest state
 * (newer), otherwise only the fields no record has set yet (a room made
 * by a ROOM record knows only what that said).  The revision moves only
 * forward.
 */
static void
sfu_state_apply(sfu_room_t *room, const sfu_state_t *st, unsigned newer)
{
    unsigned  take;

    take = newer ? st->has : st->has & ~room->known;

    if (take & SFU_KNOWS_MAX) {
        room->max = st->max;
    }

    if (take & SFU_KNOWS_LOCKED) {
        room->locked = st->locked;
    }

    if (take & SFU_KNOWS_KNOCK) {
        room->knock = st->knock;
    }

    if (take & SFU_KNOWS_ABSENT) {
        room->host_absent = st->host_absent;
    }

    if (take & SFU_KNOWS_GRACE) {
        room->grace = st->grace;
    }

    room->known |= take;

    if (newer && st->rev > room->rev) {
        room->rev = st->rev;
    }
}


/* The participant of list (a room's parts or lobby) with this id. */
sfu_part_t *
sfu_find_id(sfu_queue_t *list, const char *id)
{
    sfu_queue_t  *q;
    sfu_part_t   *o;

    for (q = list->next; q != list; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (strcmp(o->id, id) == 0) {
            return o;
        }
    }

    return NULL;
}


const char *
sfu_role(const sfu_part_t *p)
{
    return rooms_msg_role_name(p->host ? ROOMS_MSG_ROLE_HOST
                               : p->cohost ? ROOMS_MSG_ROLE_COHOST
                               : ROOMS_MSG_ROLE_GUEST);
}


/* hosts and co-hosts: they see the lobby and may act on the others */
unsigned
sfu_moderator(const sfu_part_t *p)
{
    return p->host || p->cohost;
}


/*
 * Tells nginx how many people are in room: one COUNT record to each ring
 * slot in slots (a mask).  Any nginx worker may serve GET /api/rooms, and
 * any of them may be the one that is alive, so every linked one is told.
 * The count is absolute and carries the next seq (rooms_proto.h, "The
 * order"), so the copies agree whatever order the nginx workers read
 * their rings in: the directory keeps the count of the highest seq.
 */
static void
sfu_count(sfu_t *sfu, sfu_io_t *io, const sfu_room_t *room, uint64_t slots)
{
    char      *text;
    unsigned   slot;

    if (slots == 0) {
        return;
    }

    text = sfu_msg_count(room, ++sfu->count_seq);

    if (text == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory building a COUNT record");
        sfu->stats.records_dropped++;
        return;
    }

    for (slot = 0; slot < ROOMS_RING_MAX_PEERS; slot++) {
        if (slots & ((uint64_t) 1 << slot)) {
            sfu_record_out(sfu, io, ROOMS_PROTO_COUNT,
                           ROOMS_PROTO_CONN(slot, 0), text, strlen(text));
        }
    }

    free(text);
}


/* Sends text to everyone in room but except (text is freed). */
void
sfu_room_broadcast(sfu_t *sfu, sfu_io_t *io, sfu_room_t *room,
    sfu_part_t *except, char *text)
{
    sfu_queue_t  *q;
    sfu_part_t   *o;

    if (text == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory building a message");
        return;
    }

    for (q = room->parts.next; q != &room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (o != except) {
            sfu_record_out(sfu, io, ROOMS_PROTO_SIGNAL, o->conn, text,
                           strlen(text));
        }
    }

    free(text);
}


/* Sends text to everyone in p's room but p (text is freed). */
static void
sfu_broadcast(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p, char *text)
{
    sfu_room_broadcast(sfu, io, p->room, p, text);
}


/* Sends text to the moderators in room (freed): the lobby's news. */
static void
sfu_hosts_signal(sfu_t *sfu, sfu_io_t *io, sfu_room_t *room, char *text)
{
    sfu_queue_t  *q;
    sfu_part_t   *o;

    if (text == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory building a message");
        return;
    }

    for (q = room->parts.next; q != &room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        if (sfu_moderator(o)) {
            sfu_record_out(sfu, io, ROOMS_PROTO_SIGNAL, o->conn, text,
                           strlen(text));
        }
    }

    free(text);
}


/* Tells the others when p's microphone or camera state, as shown, moved. */
void
sfu_media_update(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p, unsigned force)
{
    unsigned  audio, video;

    audio = p->audio_on && sfu_peer_publishes(p->peer, SFU_AUDIO);
    video = p->video_on && sfu_peer_publishes(p->peer, SFU_VIDEO);

    if (!force && audio == p->shown_audio && video == p->shown_video) {
        return;
    }

    p->shown_audio = audio;
    p->shown_video = video;

    sfu_broadcast(sfu, io, p, sfu_msg_media(p));
}


/*
 * Room's deadline came (or, by "leave", the last moderator just went):
 * when nobody moderates it still and its policy, as it is now, is lock
 * or end, one HOST_ABSENT record asks nginx to apply it.  Any linked
 * nginx worker can, so it goes to the lowest linked slot; nginx checks
 * the stored policy and answers with a ROOM record.
 */
static void
sfu_absent_fire(sfu_t *sfu, sfu_room_t *room, sfu_io_t *io)
{
    unsigned     slot, end;
    const char  *action;

    if (room->moderators > 0 || room->ended
        || room->host_absent == ROOMS_HOST_ABSENT_STAY)
    {
        return;
    }

    end = room->host_absent == ROOMS_HOST_ABSENT_END;
    action = end ? "end" : "lock";

    if (sfu->slots == 0) {
        sfu_log(sfu, SFU_LOG_WARN, "room %lld (%s) has no host: no nginx "
                "worker is linked to %s it", (long long) room->id,
                room->code, action);
        return;
    }

    for (slot = 0; (sfu->slots & ((uint64_t) 1 << slot)) == 0; slot++) {
        /* the lowest linked slot */
    }

    sfu_send(sfu, io, ROOMS_PROTO_HOST_ABSENT, ROOMS_PROTO_CONN(slot, 0),
             sfu_msg_host_absent(room, end));

    sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) has no host: asking nginx "
            "(slot %u) to %s it", (long long) room->id, room->code, slot,
            action);
}


static void
sfu_absent_cancel(sfu_t *sfu, sfu_room_t *room)
{
    if (room->absent_pending) {
        sfu_queue_remove(&room->absent_link);
        room->absent_pending = 0;
        sfu->nabsent--;
    }
}


/* Handles room's deadline now; an idle room then lingers. */
static void
sfu_absent_due(sfu_t *sfu, sfu_room_t *room, uint64_t now, sfu_io_t *io)
{
    sfu_absent_cancel(sfu, room);
    sfu_absent_fire(sfu, room, io);
    sfu_room_release(sfu, room, now);
}


/* Room's policy applies at at, unless a moderator comes first. */
static void
sfu_absent_schedule(sfu_t *sfu, sfu_room_t *room, uint64_t at, uint64_t now,
    sfu_io_t *io)
{
    sfu_queue_t  *q;

    sfu_absent_cancel(sfu, room);

    /* the list stays sorted; deadlines mostly come in order */
    for (q = sfu->absent.prev; q != &sfu->absent; q = q->prev) {
        if (sfu_queue_data(q, sfu_room_t, absent_link)->absent_at <= at) {
            break;
        }
    }

    sfu_queue_insert_tail(q->next, &room->absent_link);
    room->absent_pending = 1;
    room->absent_at = at;
    sfu->nabsent++;

    if (sfu->nabsent > SFU_ABSENT_MAX) {
        sfu_absent_due(sfu, sfu_queue_data(sfu->absent.next, sfu_room_t,
                                           absent_link), now, io);
    }
}


/* A host or co-host comes into room (or is made one): no deadline. */
static void
sfu_moderator_come(sfu_t *sfu, sfu_room_t *room)
{
    room->moderators++;
    sfu_absent_cancel(sfu, room);
}


/*
 * A host or co-host leaves room, or stops being one.  When it was the
 * last, a room that is not ending and whose policy is lock or end gets
 * its deadline: now when it went by "leave" (at_once), otherwise after
 * the grace, for a host whose network blinks comes back within it.
 */
static void
sfu_moderator_gone(sfu_t *sfu, sfu_room_t *room, uint64_t now,
    unsigned at_once, sfu_io_t *io)
{
    room->moderators--;

    if (room->moderators > 0 || room->ended
        || room->host_absent == ROOMS_HOST_ABSENT_STAY)
    {
        return;
    }

    if (at_once) {
        sfu_absent_fire(sfu, room, io);
        return;
    }

    sfu_absent_schedule(sfu, room, now + room->grace, now, io);
}


static int
sfu_new_id(sfu_t *sfu, sfu_room_t *room, char id[SFU_ID_LEN + 1])
{
    unsigned       i, tries, taken;
    uint8_t        rnd[6];
    sfu_queue_t   *q;
    uint32_t       bits;

    static const char  b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    for (tries = 0; tries < 8; tries++) {
        if (sfu_random(sfu, rnd, sizeof(rnd)) != 0) {
            return -1;
        }

        for (i = 0; i < 2; i++) {
            bits = (uint32_t) rnd[3 * i] << 16 | (uint32_t) rnd[3 * i + 1] << 8
                   | rnd[3 * i + 2];
            id[4 * i] = b64[(bits >> 18) & 63];
            id[4 * i + 1] = b64[(bits >> 12) & 63];
            id[4 * i + 2] = b64[(bits >> 6) & 63];
            id[4 * i + 3] = b64[bits & 63];
        }

        id[SFU_ID_LEN] = '\0';
        taken = 0;

        for (q = room->parts.next; q != &room->parts && !taken; q = q->next) {
            taken = strcmp(sfu_queue_data(q, sfu_part_t, room_link)->id,
                           id) == 0;
        }

        /* a waiting guest keeps its id when it is let in */
        for (q = room->lobby.next; q != &room->lobby && !taken; q = q->next) {
            taken = strcmp(sfu_queue_data(q, sfu_part_t, room_link)->id,
                           id) == 0;
        }

        if (!taken) {
            return 0;
        }
    }

    return -1;
}


/*
 * The capacity rule (docs/protocol.md), enforced here and only here: 1
 * when one more host (host set) or guest fits in room (NULL: a room
 * nobody is in yet) at the cap max.  Guests take at most max - 1 places,
 * so one is always left for a host; hosts count in the total, which
 * never passes max.  This process handles one record at a time, so the
 * count cannot change between this check and the insert that follows
 * it, however many nginx workers race.
 */
static unsigned
sfu_fits(const sfu_room_t *room, unsigned max, unsigned host)
{
    unsigned  count, guests;

    count = room ? room->count : 0;
    guests = room ? room->guests : 0;

    return count < max && (host || guests + 1 < max);
}


/*
 * p, known by its connection and out of the lobby, comes into its room
 * with welcome (from sfu_msg_welcome(), freed here): it counts from now
 * on, the others see it join, and nginx gets the room's new count.
 */
static void
sfu_enter(sfu_t *sfu, sfu_io_t *io, sfu_part_t *p, char *welcome)
{
    char         safe[SFU_NAME_MAX + 1];
    sfu_room_t  *room;

    room = p->room;

    sfu_queue_insert_tail(&room->parts, &p->room_link);
    room->count++;
    room->guests += !p->host;
    room->cohosts += p->cohost;
    sfu->nparts++;
    sfu->stats.joins++;

    if (sfu_moderator(p)) {
        sfu_moderator_come(sfu, room);
    }

    sfu_signal(sfu, io, p->conn, welcome);
    sfu_broadcast(sfu, io, p, sfu_msg_participant(p, "participant_joined"));
    sfu_count(sfu, io, room, sfu->slots);

    sfu_log(sfu, SFU_LOG_INFO, "participant joined: room %lld (%s) id %s "
            "name \"%s\" %s conn %u:%llu, %u in the room",
            (long long) room->id, room->code, p->id,
            sfu_printable(p->name, safe, sizeof(safe)), sfu_role(p),
            ROOMS_PROTO_SLOT(p->conn),
            (unsigned long long) (p->conn & 0xffffffffffffULL), room->count);
}


/* p goes out of the lobby's list and counts (it is still known). */
static void
sfu_lobby_unlink(sfu_t *sfu, sfu_part_t *p)
{
    sfu_queue_remove(&p->room_link);
    p->waiting = 0;
    p->room->waiting--;
    sfu->nwaiting--;
}


/*
 * Waiting p leaves the lobby without coming in: it left, a host denied
 * it, it did not fit when admitted, or its room ended.  close_code, when
 * not 0, closes its WebSocket with why first.  The moderators get
 * lobby_left; p is freed, and its room goes idle once nobody is in it or
 * waiting.
 */
void
sfu_lobby_leave(sfu_t *sfu, uint64_t now, sfu_part_t *p, unsigned close_code,
    const char *why, sfu_io_t *io)
{
    char         safe[SFU_NAME_MAX + 1];
    sfu_room_t  *room;

    room = p->room;

    if (close_code != 0) {
        sfu_close(sfu, io, p->conn, close_code, why);
    }

    sfu_lobby_unlink(sfu, p);

    sfu_hosts_signal(sfu, io, room, sfu_msg_id("lobby_left", p->id));

    sfu_conn_unlink(sfu, p);
    sfu_queue_remove(&p->all_link);

    sfu_log(sfu, SFU_LOG_INFO, "left the lobby: room %lld (%s) id %s "
            "name \"%s\" (%s), %u waiting", (long long) room->id,
            room->code, p->id, sfu_printable(p->name, safe, sizeof(safe)),
            why, room->waiting);

    /* made with p at its JOIN (unused while it waited): it goes with p */
    sfu_peer_free(sfu, p->peer);
    free(p);

    sfu_room_release(sfu, room, now);
}


/*
 * Waiting p is let in, by a host's admit or by the room's switch to
 * open.  The capacity rule applies now: a full room answers it room_full
 * and CLOSE 4403.  Otherwise it gets the normal welcome and the others
 * see it join.  Either way it leaves the lobby and the hosts get
 * lobby_left.
 */
void
sfu_admit(sfu_t *sfu, uint64_t now, sfu_part_t *p, sfu_io_t *io)
{
    char        *welcome;
    unsigned     counts[2];
    sfu_room_t  *room;

    room = p->room;

    if (!sfu_fits(room, room->max, 0)) {
        sfu->stats.refused++;
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) is full for %s from the "
                "lobby: %u of %u (%u guests)", (long long) room->id,
                room->code, p->id, room->count, room->max, room->guests);
        sfu_error(sfu, io, p->conn, "room_full", "the room is full");
        sfu_lobby_leave(sfu, now, p, SFU_CLOSE_REFUSED, "room full", io);
        return;
    }

    sfu_select_counts(p, counts);
    welcome = sfu_msg_welcome(room, p, counts);

    if (welcome == NULL) {
        sfu_log(sfu, SFU_LOG_ERR, "out of memory admitting %s", p->id);
        sfu_error(sfu, io, p->conn, "media_unavailable",
                  "the media server failed");
        sfu_lobby_leave(sfu, now, p, SFU_CLOSE_AGAIN, "media server error",
                        io);
        return;
    }

    sfu_lobby_unlink(sfu, p);
    p->entered_ms = now;
    sfu->offer_pending = 1;
    sfu_enter(sfu, io, p, welcome);

    sfu_hosts_signal(sfu, io, room, sfu_msg_id("lobby_left", p->id));
}


/* Refuses a JOIN (or an admission): error code, then CLOSE close_code. */
static void
sfu_refuse(sfu_t *sfu, sfu_io_t *io, uint64_t conn, const char *code,
    const char *message, unsigned close_code, const char *why)
{
    sfu->stats.refused++;
    sfu_error(sfu, io, conn, code, message);
    sfu_close(sfu, io, conn, close_code, why);
}


/*
 * The room state a JOIN says (all of it: the decoder gave what it leaves
 * out its default) meets the room's, if the room is known: the newest
 * wins, by revision.  A JOIN that nginx built after the last ROOM record
 * the worker applied (rev not below the room's) sets the room's state,
 * an older one is judged by the room's.  So a lock or a switch to knock
 * the worker has heard of holds against a JOIN built before it, and a
 * ROOM record that was lost is superseded by the next JOIN, which carries
 * a higher rev.  A guest left waiting by a switch to open that raced its
 * JOIN is one the hosts see and can let in.  Writes into st the state to
 * judge the JOIN by; returns 1 when the JOIN's is the newest.
 */
static unsigned
sfu_join_state(sfu_room_t *room, const rooms_msg_join_t *j, sfu_state_t *st)
{
    unsigned  newer;

    st->has = SFU_KNOWS_MAX | SFU_KNOWS_LOCKED | SFU_KNOWS_KNOCK
              | SFU_KNOWS_ABSENT | SFU_KNOWS_GRACE;
    st->rev = j->rev;
    st->max = j->max;
    st->locked = j->locked;
    st->knock = j->knock;
    st->host_absent = j->host_absent;
    st->grace = j->grace;

    newer = room == NULL || st->rev >= room->rev;

    if (room != NULL) {
        sfu_state_apply(room, st, newer);
        st->max = room->max;
        st->locked = room->locked;
        st->knock = room->knock;
    }

    return newer;
}


/*
 * Whether the JOIN j of conn may come in (or wait) by the state st: an
 * ended room, the lock (hosts and co-hosts get past it), a full lobby, a
 * full room, every media session taken.  Refuses it and returns -1, or
 * returns 0.
 */
static int
sfu_join_allowed(sfu_t *sfu, sfu_room_t *room, uint64_t conn,
    const rooms_msg_join_t *j, const sfu_state_t *st, sfu_io_t *io)
{
    unsigned  guest, waiting;

    guest = j->role == ROOMS_MSG_ROLE_GUEST;

    if (guest && st->locked) {
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) is locked, guest join "
                "refused", (long long) j->room, room ? room->code : "");
        sfu_refuse(sfu, io, conn, "locked", "the host locked this room",
                   SFU_CLOSE_REFUSED, "locked");
        return -1;
    }

    waiting = guest && st->knock;

    if (waiting) {
        /* the capacity rule waits for the admission: a place may free up */
        if (room != NULL && room->waiting >= ROOMS_LOBBY_MAX) {
            sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s): %u are waiting "
                    "already, knock refused", (long long) j->room,
                    room->code, room->waiting);
            sfu_refuse(sfu, io, conn, "lobby_full", "too many people are "
                       "waiting to be let in", SFU_CLOSE_REFUSED,
                       "lobby full");
            return -1;
        }

    } else if (!sfu_fits(room, st->max, j->role == ROOMS_MSG_ROLE_HOST)) {
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) is full for a %s: %u "
                "of %u (%u guests), join refused", (long long) j->room,
                room ? room->code : "", rooms_msg_role_name(j->role),
                room ? room->count : 0, st->max, room ? room->guests : 0);
        sfu_refuse(sfu, io, conn, "room_full", "the room is full",
                   SFU_CLOSE_REFUSED, "room full");
        return -1;
    }

    /* everyone known, joined or waiting, takes one of the places */
    if (sfu->nparts + sfu->nwaiting >= sfu->conf.max_sessions) {
        sfu_log(sfu, SFU_LOG_WARN, "every media session is taken (%u, %u "
                "waiting), join refused", sfu->nparts, sfu->nwaiting);
        sfu_refuse(sfu, io, conn, "media_unavailable",
                   "the media server is full", SFU_CLOSE_AGAIN,
                   "media server full");
        return -1;
    }

    return 0;
}


/*
 * The participant of JOIN j in room: its id, its peer, its role and
 * name; not linked anywhere yet.  NULL when out of memory or randomness.
 */
static sfu_part_t *
sfu_part_new(sfu_t *sfu, sfu_room_t *room, uint64_t conn,
    const rooms_msg_join_t *j)
{
    sfu_part_t  *p;

    p = calloc(1, sizeof(sfu_part_t));
    if (p == NULL) {
        return NULL;
    }

    if (sfu_new_id(sfu, room, p->id) != 0) {
        free(p);
        return NULL;
    }

    p->peer = sfu_peer_new(sfu, p);
    if (p->peer == NULL) {
        free(p);
        return NULL;
    }

    /* the decoder clamped it to 1..ROOMS_VIDEO_SLOTS_MAX */
    p->video_slots = j->video_slots;
    p->audio_slots = j->audio_slots;

    p->conn = conn;
    p->room = room;
    p->host = j->role == ROOMS_MSG_ROLE_HOST;
    p->cohost = j->role == ROOMS_MSG_ROLE_COHOST;
    memcpy(p->token, j->token, sizeof(p->token));
    memcpy(p->resume, j->resume, sizeof(p->resume));
    p->audio_on = 1;
    p->video_on = 1;
    memcpy(p->name, j->name, sizeof(p->name));

    return p;
}


/*
 * Known p waits at the door: no session, not counted, and nobody but
 * the hosts and co-hosts learns of it (nor does it learn of anyone)
 * until it is let in.
 */
static void
sfu_knock(sfu_t *sfu, sfu_part_t *p, sfu_io_t *io)
{
    char         safe[SFU_NAME_MAX + 1];
    sfu_room_t  *room;

    room = p->room;

    p->waiting = 1;
    sfu_queue_insert_tail(&room->lobby, &p->room_link);
    room->waiting++;
    sfu->nwaiting++;
    sfu->stats.knocks++;

    sfu_signal(sfu, io, p->conn, sfu_msg_type("waiting"));
    sfu_hosts_signal(sfu, io, room, sfu_msg_knock(p));

    sfu_log(sfu, SFU_LOG_INFO, "knock: room %lld (%s) id %s name \"%s\" "
            "conn %u:%llu, %u waiting", (long long) room->id, room->code,
            p->id, sfu_printable(p->name, safe, sizeof(safe)),
            ROOMS_PROTO_SLOT(p->conn),
            (unsigned long long) (p->conn & 0xffffffffffffULL), room->waiting);
}


/*
 * A JOIN record (j NULL: a malformed one): the capacity rule, the lock
 * and the lobby decide whether conn's participant comes in, waits, or
 * is refused.
 */
void
sfu_join(sfu_t *sfu, uint64_t now, uint64_t conn, const rooms_msg_join_t *j,
    sfu_io_t *io)
{
    char         *welcome;
    unsigned      newer, waiting, counts[2];
    sfu_room_t   *room;
    sfu_part_t   *p;
    sfu_state_t   st;

    if (sfu_find_conn(sfu, conn) != NULL) {
        sfu_log(sfu, SFU_LOG_WARN, "JOIN for connection %u:%llu, which "
                "has joined already", ROOMS_PROTO_SLOT(conn),
                (unsigned long long) (conn & 0xffffffffffffULL));
        sfu_error(sfu, io, conn, "bad_message", "join was sent twice");
        sfu_close(sfu, io, conn, SFU_CLOSE_BAD, "bad message");
        return;
    }

    if (j == NULL) {
        sfu_log(sfu, SFU_LOG_WARN, "malformed JOIN from nginx");
        sfu_error(sfu, io, conn, "bad_message", "malformed join");
        sfu_close(sfu, io, conn, SFU_CLOSE_BAD, "bad message");
        return;
    }

    room = sfu_find_room(sfu, j->room);

    if (room != NULL && room->ended) {
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) has ended, join refused",
                (long long) j->room, room->code);
        sfu_refuse(sfu, io, conn, "room_ended", "the host ended this room",
                   SFU_CLOSE_REFUSED, "room ended");
        return;
    }

    /*
     * The same browser joins again from scratch (its resume failed, or it
     * never tried): what is left of it waiting to be resumed goes first,
     * so that it neither shows twice nor holds a place.
     */
    if (room != NULL && sfu->ndetached) {
        sfu_resume_drop(sfu, now, room, j->token, io);
    }

    newer = sfu_join_state(room, j, &st);

    if (sfu_join_allowed(sfu, room, conn, j, &st, io) != 0) {
        return;
    }

    waiting = j->role == ROOMS_MSG_ROLE_GUEST && st.knock;

    if (room == NULL) {
        room = sfu_room_new(sfu, j->room);
        if (room == NULL) {
            goto nomem;
        }

        sfu_state_apply(room, &st, 1);
    }

    /*
     * The room's current code, for COUNT and HOST_ABSENT records (a
     * rotation may have replaced the one the room was made with), from
     * the newest JOIN.
     */
    if (j->code[0] != '\0' && (newer || room->code[0] == '\0')) {
        sfu_printable(j->code, room->code, sizeof(room->code));
    }

    p = sfu_part_new(sfu, room, conn, j);
    if (p == NULL) {
        goto nomem_room;
    }

    welcome = NULL;

    if (!waiting) {
        sfu_select_counts(p, counts);
        welcome = sfu_msg_welcome(room, p, counts);
        if (welcome == NULL) {
            sfu_peer_free(sfu, p->peer);
            free(p);
            goto nomem_room;
        }
    }

    sfu_room_occupy(sfu, room);
    sfu_queue_insert_tail(&sfu->all, &p->all_link);
    sfu_conn_link(sfu, p);

    if (waiting) {
        sfu_knock(sfu, p, io);

    } else {
        p->entered_ms = now;
        sfu->offer_pending = 1;
        sfu_enter(sfu, io, p, welcome);
    }

    return;

nomem_room:

    sfu_room_release(sfu, room, now);

nomem:

    sfu_log(sfu, SFU_LOG_ERR, "out of memory (or randomness) on JOIN");
    sfu_error(sfu, io, conn, "media_unavailable", "the media server failed");
    sfu_close(sfu, io, conn, SFU_CLOSE_AGAIN, "media server error");
}


/*
 * t, in the room, becomes a co-host (cohost set) or a guest again: its
 * role changes, everyone in the room (t too) gets participant_role, and
 * a ROLE record on t's connection makes nginx draw or revoke its co-host
 * key.  A new co-host gets one knock for each guest waiting, in knock
 * order, as if it had been there when they came; one who stops being
 * one may have been the last moderator (the host-absent policy).
 */
void
sfu_set_role(sfu_t *sfu, uint64_t now, sfu_part_t *t, unsigned cohost,
    sfu_io_t *io)
{
    char          safe[SFU_NAME_MAX + 1];
    sfu_part_t   *o;
    sfu_room_t   *room;
    sfu_queue_t  *q;

    room = t->room;
    t->cohost = cohost;

    sfu_room_broadcast(sfu, io, room, NULL, sfu_msg_role(t));
    sfu_send(sfu, io, ROOMS_PROTO_ROLE, t->conn, sfu_msg_role_record(t));

    sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s): %s \"%s\" is a%s now",
            (long long) room->id, room->code, t->id,
            sfu_printable(t->name, safe, sizeof(safe)),
            cohost ? " co-host" : " guest");

    if (!cohost) {
        room->cohosts--;
        sfu_moderator_gone(sfu, room, now, 0, io);
        return;
    }

    room->cohosts++;
    sfu_moderator_come(sfu, room);

    for (q = room->lobby.next; q != &room->lobby; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        sfu_signal(sfu, io, t->conn, sfu_msg_knock(o));
    }
}


/*
 * A ROOM record ended room: everyone in it or waiting is told room_ended
 * (with reason) and closed with 4403.  The people in the room go first,
 * so the moderators are not told of each waiting guest's leaving; then
 * the lobby.  Each removal takes one; an ended room starts no
 * host-absent deadline, and it lingers (so that a racing JOIN is
 * refused).
 */
static void
sfu_room_end(sfu_t *sfu, uint64_t now, sfu_room_t *room,
    const sfu_state_t *st, const char *reason, sfu_io_t *io)
{
    unsigned      n;
    sfu_part_t   *p;
    sfu_queue_t  *q;

    if (room->ended) {
        return;
    }

    room->ended = 1;
    sfu_state_apply(room, st, st->rev >= room->rev);
    sfu_absent_cancel(sfu, room);

    sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) ended%s: closing %u and "
            "%u waiting", (long long) room->id, room->code,
            reason ? " (no host)" : "", room->count, room->waiting);

    n = room->count + room->waiting;

    while (n-- > 0) {
        q = sfu_queue_empty(&room->parts) ? room->lobby.next
                                          : room->parts.next;
        p = sfu_queue_data(q, sfu_part_t, room_link);

        sfu_error_why(sfu, io, p->conn, "room_ended",
                      "the host ended this room", reason);
        sfu_remove(sfu, now, p, SFU_CLOSE_REFUSED, "room_ended", io);
    }

    /* an idle room whose deadline was pending lingers now */
    sfu_room_release(sfu, room, now);
}


/* The co-hosts of room whose guest token hash is token are guests again. */
static void
sfu_room_demote(sfu_t *sfu, uint64_t now, sfu_room_t *room,
    const char *token, sfu_io_t *io)
{
    sfu_part_t   *p;
    sfu_queue_t  *q, *qn;

    /* a demotion unlinks nobody: qn stays valid */
    for (q = room->parts.next; q != &room->parts; q = qn) {
        qn = q->next;
        p = sfu_queue_data(q, sfu_part_t, room_link);

        if (p->cohost && strcmp(p->token, token) == 0) {
            sfu_set_role(sfu, now, p, 0, io);
        }
    }
}


/*
 * Room's admission is open now: each admission takes one guest out of
 * the lobby, in the order they knocked; a refusal of the last one
 * leaves the room idle (a cap of 1 with nobody in), which only the next
 * sfu_poll() frees.
 */
static void
sfu_room_open(sfu_t *sfu, uint64_t now, sfu_room_t *room, sfu_io_t *io)
{
    unsigned  n;

    sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) is open now: admitting %u",
            (long long) room->id, room->code, room->waiting);

    n = room->waiting;

    while (n-- > 0) {
        sfu_admit(sfu, now, sfu_queue_data(room->lobby.next, sfu_part_t,
                                           room_link), io);
    }
}


/* What a ROOM record says of the room's state, into st. */
static void
sfu_room_state(const rooms_msg_room_t *c, sfu_state_t *st)
{
    memset(st, 0, sizeof(sfu_state_t));
    st->rev = c->rev;

    if (c->has & ROOMS_MSG_ROOM_MAX) {
        st->max = c->max;
        st->has |= SFU_KNOWS_MAX;
    }

    if (c->has & ROOMS_MSG_ROOM_LOCKED) {
        st->locked = c->locked;
        st->has |= SFU_KNOWS_LOCKED;
    }

    if (c->has & ROOMS_MSG_ROOM_ADMISSION) {
        st->knock = c->knock;
        st->has |= SFU_KNOWS_KNOCK;
    }

    if (c->has & ROOMS_MSG_ROOM_HOST_ABSENT) {
        st->host_absent = c->host_absent;
        st->has |= SFU_KNOWS_ABSENT;
    }
}


/*
 * A ROOM record: nginx changed a room in the store (a host locked,
 * unlocked, ended or patched it, over HTTP or a WebSocket; a host-absent
 * policy applied; a co-host credential was revoked).  One older than the
 * state the worker has (rev below the room's) changes none of it; an end
 * and a demotion apply whatever the rev.  One about a room nobody is in
 * makes an idle room with that state, so that a JOIN built before the
 * change and still on its way is judged by it.
 */
void
sfu_room_change(sfu_t *sfu, uint64_t now, const rooms_msg_room_t *c,
    sfu_io_t *io)
{
    unsigned      ended;
    sfu_room_t   *room;
    sfu_state_t   st;
    const char   *reason;

    sfu_room_state(c, &st);
    ended = (c->has & ROOMS_MSG_ROOM_ENDED) != 0;

    /* the one reason the clients are told of */
    reason = (c->has & ROOMS_MSG_ROOM_REASON) ? "host_absent" : NULL;

    room = sfu_find_room(sfu, c->room);

    if (room == NULL) {
        if (!ended && st.has == 0) {
            /* a demotion in a room nobody is in: nobody to demote */
            return;
        }

        room = sfu_room_new(sfu, c->room);
        if (room == NULL) {
            sfu_log(sfu, SFU_LOG_ERR, "out of memory keeping the state of "
                    "room %lld", (long long) c->room);
            return;
        }

        /* idle from the start: it lingers */
        sfu_room_release(sfu, room, now);
    }

    if (ended) {
        sfu_room_end(sfu, now, room, &st, reason, io);
        return;
    }

    if (st.rev < room->rev) {
        sfu_log(sfu, SFU_LOG_DEBUG, "room %lld (%s): ROOM record of rev "
                "%lld is older than rev %lld, its state is ignored",
                (long long) room->id, room->code, (long long) st.rev,
                (long long) room->rev);
        st.has = 0;
    }

    sfu_state_apply(room, &st, 1);

    if (st.has & SFU_KNOWS_LOCKED) {
        sfu_room_broadcast(sfu, io, room, NULL,
                           sfu_msg_room(room->locked, reason));
        sfu_log(sfu, SFU_LOG_INFO, "room %lld (%s) %s%s",
                (long long) room->id, room->code,
                room->locked ? "locked" : "unlocked",
                reason ? " (no host)" : "");
    }

    if (c->has & ROOMS_MSG_ROOM_DEMOTE) {
        sfu_room_demote(sfu, now, room, c->demote, io);
    }

    if ((st.has & SFU_KNOWS_KNOCK) && !room->knock && room->waiting > 0) {
        sfu_room_open(sfu, now, room, io);
    }
}


/*
 * p leaves: its streams and bindings go, the others are told (and asked
 * to renegotiate when it published), nginx gets the room's new count, its
 * session is freed.  The last host or co-host to go starts the room's
 * host-absent policy (at once when it said "leave").  A waiting p only
 * leaves the lobby.  close_code, when not 0, also closes p's WebSocket
 * with why.  The room is never freed here: it lingers when idle.
 */
void
sfu_remove(sfu_t *sfu, uint64_t now, sfu_part_t *p, unsigned close_code,
    const char *why, sfu_io_t *io)
{
    char          safe[SFU_NAME_MAX + 1];
    unsigned      had_streams;
    sfu_part_t   *o;
    sfu_room_t   *room;
    sfu_queue_t  *q;

    if (p->waiting) {
        /* it never came in: only the hosts knew of it */
        sfu_lobby_leave(sfu, now, p, close_code, why, io);
        return;
    }

    room = p->room;

    if (close_code != 0) {
        sfu_close(sfu, io, p->conn, close_code, why);
    }

    had_streams = sfu_peer_reset_lines(p->peer);

    sfu_queue_remove(&p->room_link);
    room->count--;
    room->guests -= !p->host;
    room->cohosts -= p->cohost;

    /* p is out of the room now: these reach only the others */
    for (q = room->parts.next; q != &room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);

        sfu_signal(sfu, io, o->conn, sfu_msg_id("participant_left", p->id));

        /*
         * Their video lines that carried p's streams take the next ones
         * chosen; the lines left free are answered inactive.
         */
        if (had_streams) {
            sfu_streams_refresh(sfu, now, o, io);
        }
    }

    sfu_count(sfu, io, room, sfu->slots);

    if (sfu_moderator(p)) {
        sfu_moderator_gone(sfu, room, now, p->said_leave, io);
    }

    sfu_peer_free(sfu, p->peer);

    sfu_conn_unlink(sfu, p);
    sfu_queue_remove(&p->all_link);
    sfu->nparts--;
    sfu->ndetached -= p->detached;
    sfu->stats.leaves++;

    sfu_log(sfu, SFU_LOG_INFO, "participant left: room %lld (%s) id %s "
            "name \"%s\" (%s), %u in the room", (long long) room->id,
            room->code, p->id, sfu_printable(p->name, safe, sizeof(safe)),
            why, room->count);

    free(p);

    sfu_room_release(sfu, room, now);
}



/* Host-absent deadlines and idle rooms due at now; the next one. */
uint64_t
sfu_room_poll(sfu_t *sfu, uint64_t now, sfu_io_t *io)
{
    uint64_t     next;
    sfu_room_t  *room;

    next = SFU_NEVER;

    /* host-absent deadlines, earliest first (none while draining) */
    while (!sfu->draining && !sfu_queue_empty(&sfu->absent)) {
        room = sfu_queue_data(sfu->absent.next, sfu_room_t, absent_link);

        if (room->absent_at > now) {
            next = room->absent_at;
            break;
        }

        sfu_absent_due(sfu, room, now, io);
    }

    /* idle rooms whose state has lingered long enough, oldest first */
    while (!sfu_queue_empty(&sfu->linger)) {
        room = sfu_queue_data(sfu->linger.next, sfu_room_t, linger_link);

        if (room->linger_until > now) {
            if (room->linger_until < next) {
                next = room->linger_until;
            }
            break;
        }

        sfu_log(sfu, SFU_LOG_DEBUG, "room %lld (%s): idle state freed",
                (long long) room->id, room->code);
        sfu_room_free(sfu, room);
    }

    return next;
}


/*
 * The whole truth of the counts to ring slot (a newly linked nginx
 * worker, or one whose ring overflowed and drained): the count of every
 * room with people in it, each with a new seq, then a RESYNC with the seq
 * before them, which empties every other room in nginx's directory.  When
 * a count cannot be queued the RESYNC is not sent (it would empty that
 * room): the ring is full again, and its next drain brings another sync.
 */
void
sfu_counts_sync(sfu_t *sfu, sfu_io_t *io, unsigned slot)
{
    int64_t      seq;
    uint64_t     dropped;
    unsigned     i;
    sfu_room_t  *room;

    if (slot >= ROOMS_RING_MAX_PEERS) {
        return;
    }

    seq = sfu->count_seq;
    dropped = sfu->stats.records_dropped;

    for (i = 0; i < SFU_ROOM_BUCKETS; i++) {
        for (room = sfu->rooms[i]; room; room = room->hash_next) {
            if (room->count > 0) {
                sfu_count(sfu, io, room, (uint64_t) 1 << slot);
            }
        }
    }

    if (sfu->stats.records_dropped == dropped) {
        sfu_send(sfu, io, ROOMS_PROTO_RESYNC, ROOMS_PROTO_CONN(slot, 0),
                 sfu_msg_resync(seq));
    }
}


/* Frees every room, sending nothing (the SFU is going). */
void
sfu_rooms_free(sfu_t *sfu)
{
    unsigned     i;
    sfu_room_t  *r;

    for (i = 0; i < SFU_ROOM_BUCKETS; i++) {
        while ((r = sfu->rooms[i]) != NULL) {
            sfu->rooms[i] = r->hash_next;
            free(r);
        }
    }
}
