/*
 * sfu_msg.c: every JSON text of the SFU, in and out: the JOIN, SIGNAL
 * and ROOM records nginx sends, read into the structs of sfu_int.h and
 * handed to sfu_join(), sfu_message() and sfu_room_change(); and every
 * message the SFU sends (welcome, answer, renegotiate, streams,
 * participant_*, knock, lobby_left, room, error, ...) and every JSON
 * record (COUNT, ROLE, BAN, HOST_ABSENT), built from plain values.
 * docs/protocol.md is the vocabulary.
 *
 * Owns: the shape of each message: which keys, which types, what is
 * malformed.  A malformed record is reported as such (sfu_join_t NULL,
 * sfu_signal_t.bad), and the handler decides, in its own order, what to
 * say.
 * Must never: decide anything about rooms, people or media (it reads and
 * writes, the other files judge), send (it returns the text), or keep
 * state.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include rtp.h, include rtcp.h, include srtp.h, include dtls.h, call rooms_rtp_, call rooms_rtcp_, call rooms_srtp_, call rooms_dtls_, call rooms_sdp_, call rooms_ice_, call sfu_random, call sfu_out, call sfu_commit, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rooms_room.h"
#include "rooms_token.h"

#include "sfu_peer.h"


/* Serializes obj (released): the text to send, or NULL. */
static char *
sfu_text(json_t *obj)
{
    char  *text;

    if (obj == NULL) {
        return NULL;
    }

    text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);

    return text;
}


/* ---- in ---- */


/*
 * Reads the room state a JOIN or ROOM record carries into st: whichever
 * of rev, max, locked, admission and host_absent are there (st->has
 * names them; a missing rev is 0).  Returns -1 when one of them is
 * malformed.
 */
static int
sfu_state_parse(const json_t *msg, sfu_state_t *st)
{
    int          policy;
    json_t      *jrev, *jmax, *jlocked, *jadmission, *jabsent;
    const char  *admission;

    memset(st, 0, sizeof(sfu_state_t));

    jrev = json_object_get(msg, "rev");
    jmax = json_object_get(msg, "max");
    jlocked = json_object_get(msg, "locked");
    jadmission = json_object_get(msg, "admission");
    jabsent = json_object_get(msg, "host_absent");

    if (jrev != NULL) {
        if (!json_is_integer(jrev) || json_integer_value(jrev) < 0) {
            return -1;
        }

        st->rev = json_integer_value(jrev);
    }

    if (jmax != NULL) {
        if (!json_is_integer(jmax)) {
            return -1;
        }

        st->max = sfu_cap(json_integer_value(jmax));
        st->has |= SFU_KNOWS_MAX;
    }

    if (jlocked != NULL) {
        if (!json_is_boolean(jlocked)) {
            return -1;
        }

        st->locked = json_is_true(jlocked);
        st->has |= SFU_KNOWS_LOCKED;
    }

    if (jadmission != NULL) {
        admission = json_string_value(jadmission);

        if (admission == NULL
            || (strcmp(admission, "open") != 0
                && strcmp(admission, "knock") != 0))
        {
            return -1;
        }

        st->knock = strcmp(admission, "knock") == 0;
        st->has |= SFU_KNOWS_KNOCK;
    }

    if (jabsent != NULL) {
        policy = json_is_string(jabsent)
                 ? rooms_host_absent_find(json_string_value(jabsent),
                                          json_string_length(jabsent))
                 : -1;

        if (policy < 0) {
            return -1;
        }

        st->host_absent = (unsigned) policy;
        st->has |= SFU_KNOWS_ABSENT;
    }

    return 0;
}




/* Reads a JOIN into j: 0, or -1 when it is malformed. */
static int
sfu_msg_join(const json_t *msg, sfu_join_t *j)
{
    json_t      *jroom, *jname, *jcode, *jrole, *jtoken, *jgrace, *jslots;
    const char  *role, *token;

    memset(j, 0, sizeof(sfu_join_t));

    jroom = json_object_get(msg, "room");
    jname = json_object_get(msg, "name");
    jcode = json_object_get(msg, "code");
    jrole = json_object_get(msg, "role");
    jtoken = json_object_get(msg, "token");
    jgrace = json_object_get(msg, "grace");
    jslots = json_object_get(msg, "video_slots");

    j->name = json_string_value(jname);
    j->code = json_string_value(jcode);
    role = json_string_value(jrole);
    token = json_string_value(jtoken);
    j->name_len = json_string_length(jname);
    j->code_len = json_string_length(jcode);

    if (!json_is_integer(jroom) || j->name == NULL
        || j->name_len == 0 || j->name_len > SFU_NAME_MAX
        || strlen(j->name) != j->name_len
        || (jcode != NULL && j->code == NULL)
        || role == NULL
        || (strcmp(role, "host") != 0 && strcmp(role, "cohost") != 0
            && strcmp(role, "guest") != 0)
        || token == NULL
        || rooms_token_hash_from_hex(token, json_string_length(jtoken),
                                     j->token)
           != 0
        || sfu_state_parse(msg, &j->st) != 0
        || (j->st.has & (SFU_KNOWS_MAX | SFU_KNOWS_LOCKED))
           != (SFU_KNOWS_MAX | SFU_KNOWS_LOCKED)
        || (jgrace != NULL && !json_is_integer(jgrace))
        || (jslots != NULL && !json_is_integer(jslots)))
    {
        return -1;
    }

    j->room = json_integer_value(jroom);
    j->role = role;
    j->host = strcmp(role, "host") == 0;
    j->cohost = strcmp(role, "cohost") == 0;
    j->grace = jgrace ? json_integer_value(jgrace)
                      : ROOMS_HOST_GRACE_DEFAULT;
    j->video_slots = jslots ? json_integer_value(jslots)
                            : ROOMS_VIDEO_SLOTS_DEFAULT;

    return 0;
}


/* Reads a ROOM record into c: 0, or -1 when it is malformed. */
static int
sfu_msg_change(const json_t *msg, sfu_change_t *c)
{
    json_t      *jroom, *jended, *jdemote, *jreason;
    const char  *demote;

    memset(c, 0, sizeof(sfu_change_t));

    jroom = json_object_get(msg, "room");
    jended = json_object_get(msg, "ended");
    jdemote = json_object_get(msg, "demote");
    jreason = json_object_get(msg, "reason");
    demote = json_string_value(jdemote);
    c->reason = json_string_value(jreason);

    if (!json_is_integer(jroom)
        || sfu_state_parse(msg, &c->st) != 0
        || (jended != NULL && !json_is_true(jended))
        || (jdemote != NULL
            && (demote == NULL
                || rooms_token_hash_from_hex(demote,
                                             json_string_length(jdemote),
                                             c->demote_hash) != 0))
        || (jreason != NULL && c->reason == NULL)
        || (jended == NULL) == (c->st.has == 0 && jdemote == NULL))
    {
        return -1;
    }

    c->room = json_integer_value(jroom);
    c->ended = jended != NULL;
    c->demote = demote != NULL;

    return 0;
}


/* "view": its ids, or why they are malformed. */
static void
sfu_msg_view(const json_t *msg, sfu_signal_t *m)
{
    size_t     i, n, len;
    json_t    *ids, *id, *sizes, *size;
    json_int_t w, h;

    ids = json_object_get(msg, "ids");
    n = json_array_size(ids);

    if (!json_is_array(ids) || n > ROOMS_VIEW_MAX) {
        m->bad = "view needs ids, an array of at most 64";
        return;
    }

    for (i = 0; i < n; i++) {
        if (!json_is_string(json_array_get(ids, i))) {
            m->bad = "view ids must be strings";
            return;
        }
    }

    /*
     * ones too long to be an id cannot match: dropped.  sizes, when
     * there, is [width, height] of each id's tile in device pixels: what
     * simulcast layer it gets; a size that is not two numbers is unknown
     * (0), and bounded, since a screen is not wider than 16384 pixels
     */
    sizes = json_object_get(msg, "sizes");

    for (i = 0; i < n; i++) {
        id = json_array_get(ids, i);
        len = json_string_length(id);

        if (len > 0 && len <= SFU_ID_LEN) {
            memcpy(m->view[m->nview], json_string_value(id), len + 1);
            size = json_array_get(sizes, i);
            w = json_integer_value(json_array_get(size, 0));
            h = json_integer_value(json_array_get(size, 1));
            m->view_w[m->nview] = (uint16_t) (w > 0 && w <= 16384 ? w : 0);
            m->view_h[m->nview] = (uint16_t) (h > 0 && h <= 16384 ? h : 0);
            m->nview++;
        }
    }
}


static const struct {
    const char  *name;
    sfu_sig_e    type;
} sfu_sig_types[] = {
    { "offer", SFU_SIG_OFFER },
    { "media", SFU_SIG_MEDIA },
    { "view", SFU_SIG_VIEW },
    { "leave", SFU_SIG_LEAVE },
    { "remove", SFU_SIG_REMOVE },
    { "mute", SFU_SIG_MUTE },
    { "admit", SFU_SIG_ADMIT },
    { "deny", SFU_SIG_DENY },
    { "cohost", SFU_SIG_COHOST },
    { "uncohost", SFU_SIG_UNCOHOST },
    { "join", SFU_SIG_JOIN }
};


/* Reads a SIGNAL into m (m->bad says what is malformed in it). */
static void
sfu_msg_signal(const json_t *msg, sfu_signal_t *m)
{
    size_t       i;
    json_t      *jsdp, *ja, *jv;
    const char  *type;

    memset(m, 0, sizeof(sfu_signal_t));

    type = json_string_value(json_object_get(msg, "type"));

    if (type == NULL) {
        m->type = SFU_SIG_NONE;
        return;
    }

    m->type = SFU_SIG_UNKNOWN;

    for (i = 0; i < sizeof(sfu_sig_types) / sizeof(sfu_sig_types[0]); i++) {
        if (strcmp(type, sfu_sig_types[i].name) == 0) {
            m->type = sfu_sig_types[i].type;
            break;
        }
    }

    switch (m->type) {

    case SFU_SIG_OFFER:
        jsdp = json_object_get(msg, "sdp");
        m->sdp = json_string_value(jsdp);
        m->sdp_len = json_string_length(jsdp);

        if (m->sdp == NULL) {
            m->bad = "an offer without sdp";
        }

        return;

    case SFU_SIG_MEDIA:
        ja = json_object_get(msg, "audio");
        jv = json_object_get(msg, "video");

        if (!json_is_boolean(ja) || !json_is_boolean(jv)) {
            m->bad = "media needs audio and video booleans";
            return;
        }

        m->audio = json_is_true(ja);
        m->video = json_is_true(jv);
        return;

    case SFU_SIG_VIEW:
        sfu_msg_view(msg, m);
        return;

    default:
        if (m->type >= SFU_SIG_REMOVE) {
            m->id = json_string_value(json_object_get(msg, "id"));
        }

        return;
    }
}


void
sfu_msg_record(sfu_t *sfu, uint64_t now, const rooms_proto_hdr_t *hdr,
    sfu_part_t *p, sfu_io_t *io)
{
    json_t        *msg;
    sfu_join_t     j;
    sfu_change_t   c;
    sfu_signal_t   m;
    json_error_t   jerr;

    /* sfu_record() copied the payload out of shared memory, if it fits */
    msg = NULL;

    if (hdr->len <= SFU_MSG_MAX) {
        msg = json_loadb(sfu->msg, hdr->len, JSON_REJECT_DUPLICATES, &jerr);
    }

    if (!json_is_object(msg)) {
        json_decref(msg);

        if (hdr->type == ROOMS_PROTO_ROOM) {
            sfu_log(sfu, SFU_LOG_WARN, "ROOM record that is not a JSON "
                    "object");

        } else if (p != NULL) {
            sfu_bad_message(sfu, now, p, "not a JSON object", io);

        } else {
            sfu_log(sfu, SFU_LOG_WARN, "JOIN that is not a JSON object");
            sfu_error(sfu, io, hdr->id, "bad_message", "malformed join");
            sfu_close(sfu, io, hdr->id, SFU_CLOSE_BAD, "bad message");
        }

        return;
    }

    if (hdr->type == ROOMS_PROTO_JOIN) {
        sfu_join(sfu, now, hdr->id, sfu_msg_join(msg, &j) == 0 ? &j : NULL,
                 io);

    } else if (hdr->type == ROOMS_PROTO_ROOM) {
        if (sfu_msg_change(msg, &c) != 0) {
            sfu_log(sfu, SFU_LOG_WARN, "malformed ROOM record from nginx");

        } else {
            sfu_room_change(sfu, now, &c, io);
        }

    } else {
        sfu_msg_signal(msg, &m);
        sfu_message(sfu, now, p, &m, io);
    }

    json_decref(msg);
}


/* ---- out ---- */


static json_t *
sfu_participant_json(const sfu_part_t *p, const char *type)
{
    if (type != NULL) {
        return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "type", type,
                         "id", p->id, "name", p->name, "role", sfu_role(p),
                         "audio", (int) p->shown_audio,
                         "video", (int) p->shown_video);
    }

    return json_pack("{s:s, s:s, s:s, s:b, s:b}", "id", p->id,
                     "name", p->name, "role", sfu_role(p),
                     "audio", (int) p->shown_audio,
                     "video", (int) p->shown_video);
}


/*
 * p's welcome: its id and role, the lock, who is in the room and, for a
 * host or co-host only, who waits in the lobby.  NULL when out of memory.
 */
static json_t *
sfu_welcome_json(const sfu_room_t *room, const sfu_part_t *p)
{
    json_t             *list, *lobby, *obj, *msg;
    const sfu_part_t   *o;
    const sfu_queue_t  *q;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (q = room->parts.next; q != &room->parts; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);
        obj = sfu_participant_json(o, NULL);

        if (obj == NULL || json_array_append_new(list, obj) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    /* simulcast: the worker takes a camera as layers (protocol.md) */
    msg = json_pack("{s:s, s:s, s:s, s:b, s:o, s:b}", "type", "welcome",
                    "id", p->id, "role", sfu_role(p),
                    "locked", (int) room->locked, "participants", list,
                    "simulcast", 1);

    if (msg == NULL || !sfu_moderator(p)) {
        return msg;
    }

    lobby = json_array();
    if (lobby == NULL) {
        json_decref(msg);
        return NULL;
    }

    for (q = room->lobby.next; q != &room->lobby; q = q->next) {
        o = sfu_queue_data(q, sfu_part_t, room_link);
        obj = json_pack("{s:s, s:s}", "id", o->id, "name", o->name);

        if (obj == NULL || json_array_append_new(lobby, obj) != 0) {
            json_decref(lobby);
            json_decref(msg);
            return NULL;
        }
    }

    /* the reference to lobby is taken, even on failure */
    if (json_object_set_new(msg, "lobby", lobby) != 0) {
        json_decref(msg);
        return NULL;
    }

    return msg;
}


/*
 * The streams map of p's lines, {"<mid>": {"participant", "kind"}}, as
 * the answer and the "streams" message carry it; NULL without memory.
 */
static json_t *
sfu_streams_json(const sfu_peer_t *p)
{
    json_t            *streams, *obj;
    unsigned           i;
    const sfu_line_t  *l;

    streams = json_object();
    if (streams == NULL) {
        return NULL;
    }

    for (i = 0; i < p->nlines; i++) {
        l = &p->lines[i];

        if (!l->receiving || l->bound == NULL) {
            continue;
        }

        obj = json_pack("{s:s, s:s}", "participant", l->bound->owner->id,
                        "kind", sfu_kind_name(l->kind));

        if (obj == NULL || json_object_set_new(streams, l->mid, obj) != 0) {
            json_decref(streams);
            return NULL;
        }
    }

    return streams;
}


char *
sfu_msg_error(const char *code, const char *message, const char *reason)
{
    json_t  *obj;

    obj = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code,
                    "message", message);

    if (obj != NULL && reason != NULL
        && json_object_set_new(obj, "reason", json_string(reason)) != 0)
    {
        json_decref(obj);
        obj = NULL;
    }

    return sfu_text(obj);
}


/* {"type": type}: waiting, mute_request */
char *
sfu_msg_type(const char *type)
{
    return sfu_text(json_pack("{s:s}", "type", type));
}


/* {"type": type, "id": id}: participant_left, lobby_left */
char *
sfu_msg_id(const char *type, const char *id)
{
    return sfu_text(json_pack("{s:s, s:s}", "type", type, "id", id));
}


char *
sfu_msg_welcome(const sfu_room_t *room, const sfu_part_t *p)
{
    return sfu_text(sfu_welcome_json(room, p));
}


/* participant_joined and the like: who p is, as the others see it */
char *
sfu_msg_participant(const sfu_part_t *p, const char *type)
{
    return sfu_text(sfu_participant_json(p, type));
}


char *
sfu_msg_media(const sfu_part_t *p)
{
    return sfu_text(json_pack("{s:s, s:s, s:b, s:b}", "type",
                              "participant_media", "id", p->id,
                              "audio", (int) p->shown_audio,
                              "video", (int) p->shown_video));
}


char *
sfu_msg_role(const sfu_part_t *p)
{
    return sfu_text(json_pack("{s:s, s:s, s:s}", "type", "participant_role",
                              "id", p->id, "role", sfu_role(p)));
}


char *
sfu_msg_knock(const sfu_part_t *p)
{
    return sfu_text(json_pack("{s:s, s:s, s:s}", "type", "knock",
                              "id", p->id, "name", p->name));
}


/* {"type":"room"}: the lock, and why when nginx said (host_absent) */
char *
sfu_msg_room(unsigned locked, const char *reason)
{
    json_t  *obj;

    obj = json_pack("{s:s, s:b}", "type", "room", "locked", (int) locked);

    if (obj != NULL && reason != NULL
        && json_object_set_new(obj, "reason", json_string(reason)) != 0)
    {
        json_decref(obj);
        obj = NULL;
    }

    return sfu_text(obj);
}


char *
sfu_msg_renegotiate(const unsigned counts[2])
{
    return sfu_text(json_pack("{s:s, s:i, s:i}", "type", "renegotiate",
                              "audio", (int) counts[SFU_AUDIO],
                              "video", (int) counts[SFU_VIDEO]));
}


char *
sfu_msg_streams(const sfu_peer_t *peer)
{
    json_t  *streams;

    streams = sfu_streams_json(peer);
    if (streams == NULL) {
        return NULL;
    }

    return sfu_text(json_pack("{s:s, s:o}", "type", "streams",
                              "streams", streams));
}


char *
sfu_msg_answer(const char *sdp, size_t len, const sfu_peer_t *peer)
{
    json_t  *streams;

    streams = sfu_streams_json(peer);
    if (streams == NULL) {
        return NULL;
    }

    return sfu_text(json_pack("{s:s, s:s%, s:o}", "type", "answer",
                              "sdp", sdp, len, "streams", streams));
}


char *
sfu_msg_count(const sfu_room_t *room)
{
    return sfu_text(json_pack("{s:I, s:s, s:i}", "room",
                              (json_int_t) room->id, "code", room->code,
                              "count", (int) room->count));
}


char *
sfu_msg_host_absent(const sfu_room_t *room, const char *action)
{
    return sfu_text(json_pack("{s:I, s:s, s:I, s:s}", "room",
                              (json_int_t) room->id, "code", room->code,
                              "rev", (json_int_t) room->rev,
                              "action", action));
}


char *
sfu_msg_role_record(const sfu_part_t *p)
{
    return sfu_text(json_pack("{s:I, s:s, s:s, s:s}", "room",
                              (json_int_t) p->room->id, "role", sfu_role(p),
                              "token", p->token, "name", p->name));
}


char *
sfu_msg_ban(const sfu_part_t *p)
{
    return sfu_text(json_pack("{s:I, s:s}", "room",
                              (json_int_t) p->room->id, "token", p->token));
}
