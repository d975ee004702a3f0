/*
 * sfu_msg.c: every JSON text of the SFU, in and out: the JOIN, SIGNAL,
 * ROOM and RESUME records nginx sends, decoded and handed to sfu_join(),
 * sfu_message(), sfu_room_change() and sfu_resume(); and every message
 * the SFU sends (welcome, resumed, answer, renegotiate, streams, participant_*, knock,
 * lobby_left, room, error, ...) and every JSON record (COUNT, ROLE, BAN,
 * HOST_ABSENT), built from plain values.  The records and the browser's
 * message types are common/rooms_msg.h's vocabulary, shared with nginx:
 * JOIN and ROOM are decoded, the records out encoded, and a SIGNAL's
 * type looked up there; docs/protocol.md describes them.
 *
 * Owns: the shape of each message the SFU alone reads or writes: which
 * keys, which types, what is malformed.  A malformed record is reported
 * as such (a NULL JOIN, sfu_signal_t.bad), and the handler decides, in
 * its own order, what to say.
 * Must never: decide anything about rooms, people or media (it reads and
 * writes, the other files judge), send (it returns the text), or keep
 * state.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include rtp.h, include rtcp.h, include srtp.h, include dtls.h, call rooms_rtp_, call rooms_rtcp_, call rooms_srtp_, call rooms_dtls_, call rooms_sdp_, call rooms_ice_, call sfu_random, call sfu_out, call sfu_commit, call clock_gettime, call time, call rand, call getrandom, call RAND_bytes
 */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rooms_msg.h"

#include "sfu_peer.h"


/*
 * A record to nginx fits in this: ROLE is the longest, a display name
 * that JSON escapes at worst 6 bytes a byte, with a token hash, a room id
 * and the keys.
 */
#define SFU_RECORD_MAX  (6 * ROOMS_NAME_MAX_BYTES + 256)


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


/* Reads a SIGNAL into m (m->bad says what is malformed in it). */
static void
sfu_msg_signal(const json_t *msg, sfu_signal_t *m)
{
    json_t  *jtype, *jsdp, *ja, *jv;

    memset(m, 0, sizeof(sfu_signal_t));

    jtype = json_object_get(msg, "type");

    if (!json_is_string(jtype)) {
        m->no_type = 1;
        return;
    }

    m->type = rooms_msg_type(json_string_value(jtype),
                             json_string_length(jtype));

    if (m->type == NULL) {
        return;
    }

    if (m->type->target) {
        m->id = json_string_value(json_object_get(msg, "id"));
    }

    switch (m->type->id) {

    case ROOMS_MSG_OFFER:
        jsdp = json_object_get(msg, "sdp");
        m->sdp = json_string_value(jsdp);
        m->sdp_len = json_string_length(jsdp);

        if (m->sdp == NULL) {
            m->bad = "an offer without sdp";
        }

        return;

    case ROOMS_MSG_MEDIA:
        ja = json_object_get(msg, "audio");
        jv = json_object_get(msg, "video");

        if (!json_is_boolean(ja) || !json_is_boolean(jv)) {
            m->bad = "media needs audio and video booleans";
            return;
        }

        m->audio = json_is_true(ja);
        m->video = json_is_true(jv);
        return;

    case ROOMS_MSG_VIEW:
        sfu_msg_view(msg, m);
        return;

    case ROOMS_MSG_SHARE:
        m->mid = json_string_value(json_object_get(msg, "mid"));

        /* a token as an m= line's mid is (sdp_attr.c checks the SDP's) */
        if (m->mid == NULL || m->mid[0] == '\0'
            || strlen(m->mid) > SFU_SHARE_MID_MAX
            || strspn(m->mid, "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`{|}~")
               != strlen(m->mid))
        {
            m->bad = "share needs the \"mid\" of the screen's m= line";
        }

        return;

    default:
        return;
    }
}


/* Whether json[0..len) is a JSON object at all. */
static unsigned
sfu_msg_is_object(const char *json, size_t len)
{
    json_t    *obj;
    unsigned   is;

    obj = json_loadb(json, len, 0, NULL);
    is = json_is_object(obj);
    json_decref(obj);

    return is;
}


/*
 * A JOIN: decoded and handed to sfu_join() (NULL when malformed, which
 * sfu_join() refuses after its own check for a second JOIN).  A JOIN
 * that is no JSON object at all, for a connection that has joined, is
 * that participant's bad message, as any record of it would be.
 */
static void
sfu_msg_join(sfu_t *sfu, uint64_t now, const rooms_proto_hdr_t *hdr,
    size_t len, sfu_part_t *p, sfu_io_t *io)
{
    const char        *why;
    rooms_msg_join_t   j;

    if (rooms_msg_join_decode(sfu->msg, len, &j, &why) == 0) {
        sfu_join(sfu, now, hdr->id, &j, io);
        return;
    }

    if (p != NULL && !sfu_msg_is_object(sfu->msg, len)) {
        sfu_bad_message(sfu, now, p, "not a JSON object", io);
        return;
    }

    sfu_log(sfu, SFU_LOG_DEBUG, "JOIN: %s", why);
    sfu_join(sfu, now, hdr->id, NULL, io);
}


void
sfu_msg_record(sfu_t *sfu, uint64_t now, const rooms_proto_hdr_t *hdr,
    sfu_part_t *p, sfu_io_t *io)
{
    size_t             len;
    json_t            *msg;
    const char        *why;
    sfu_signal_t       m;
    json_error_t       jerr;
    rooms_msg_room_t   c;
    rooms_msg_resume_t r;

    /*
     * sfu_record() copied the payload out of shared memory if it fits;
     * one that does not is read as empty, which is no JSON object.
     */
    len = hdr->len <= SFU_MSG_MAX ? hdr->len : 0;

    if (hdr->type == ROOMS_PROTO_JOIN) {
        sfu_msg_join(sfu, now, hdr, len, p, io);
        return;
    }

    if (hdr->type == ROOMS_PROTO_RESUME) {
        if (rooms_msg_resume_decode(sfu->msg, len, &r, &why) != 0) {
            sfu_log(sfu, SFU_LOG_DEBUG, "RESUME: %s", why);
            sfu_resume(sfu, now, hdr->id, NULL, io);
            return;
        }

        sfu_resume(sfu, now, hdr->id, &r, io);
        return;
    }

    if (hdr->type == ROOMS_PROTO_ROOM) {
        if (rooms_msg_room_decode(sfu->msg, len, &c, &why) != 0) {
            sfu_log(sfu, SFU_LOG_WARN, "malformed ROOM record from nginx: "
                    "%s", why);
            return;
        }

        sfu_room_change(sfu, now, &c, io);
        return;
    }

    msg = json_loadb(sfu->msg, len, JSON_REJECT_DUPLICATES, &jerr);

    if (!json_is_object(msg)) {
        json_decref(msg);
        sfu_bad_message(sfu, now, p, "not a JSON object", io);
        return;
    }

    sfu_msg_signal(msg, &m);
    sfu_message(sfu, now, p, &m, io);

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
 * p's welcome (type "welcome" or "resumed"): its id and role, the lock,
 * who is in the room, how many remote streams of each kind its first
 * offer should receive (counts, as in renegotiate; NULL for "resumed",
 * which makes no offer) and, for a host or co-host only, who waits in the
 * lobby.  NULL when out of memory.
 */
static json_t *
sfu_welcome_json(const sfu_room_t *room, const sfu_part_t *p,
    const char *type, const unsigned counts[2])
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

        /* a resumed p is in the room already: the others only */
        if (o == p) {
            continue;
        }

        obj = sfu_participant_json(o, NULL);

        if (obj == NULL || json_array_append_new(list, obj) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    /* simulcast: the worker takes a camera as layers (protocol.md) */
    msg = json_pack("{s:s, s:s, s:s, s:b, s:o, s:b}", "type", type,
                    "id", p->id, "role", sfu_role(p),
                    "locked", (int) room->locked, "participants", list,
                    "simulcast", 1);

    /* a resumed p has its lines: a renegotiate follows if it lacks some */
    if (msg != NULL && counts != NULL
        && (json_object_set_new(msg, "audio",
                                json_integer(counts[SFU_AUDIO])) != 0
            || json_object_set_new(msg, "video",
                                   json_integer(counts[SFU_VIDEO])) != 0))
    {
        json_decref(msg);
        return NULL;
    }

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

        /* a screen share: the client shows it first, large */
        if (obj != NULL && sfu_line_is_screen(l->bound)
            && json_object_set_new(obj, "screen", json_true()) != 0)
        {
            json_decref(obj);
            obj = NULL;
        }

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
sfu_msg_welcome(const sfu_room_t *room, const sfu_part_t *p,
    const unsigned counts[2])
{
    return sfu_text(sfu_welcome_json(room, p, "welcome", counts));
}


char *
sfu_msg_resumed(const sfu_room_t *room, const sfu_part_t *p)
{
    return sfu_text(sfu_welcome_json(room, p, "resumed", NULL));
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


/*
 * {"type":"video_paused","ids":[...],"reason":"bandwidth"}: whose video
 * peer's link cannot carry now (the chooser paused their lines); an
 * empty list says every video is back.
 */
char *
sfu_msg_video_paused(const sfu_peer_t *peer)
{
    unsigned     i;
    json_t      *ids;
    sfu_line_t  *l;

    ids = json_array();
    if (ids == NULL) {
        return NULL;
    }

    for (i = 0; i < peer->nlines; i++) {
        l = (sfu_line_t *) &peer->lines[i];

        if (l->bound != NULL && l->target == ROOMS_LAYER_PAUSED
            && json_array_append_new(ids, json_string(l->bound->owner->id))
               != 0)
        {
            json_decref(ids);
            return NULL;
        }
    }

    return sfu_text(json_pack("{s:s, s:o, s:s}", "type", "video_paused",
                              "ids", ids, "reason", "bandwidth"));
}


/*
 * {"type":"speaker","id":"<id>"}: the room's dominant speaker; id null
 * when nobody speaks.
 */
char *
sfu_msg_speaker(const char *id)
{
    return sfu_text(json_pack("{s:s, s:o}", "type", "speaker", "id",
                              id[0] != '\0' ? json_string(id)
                                             : json_null()));
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


/*
 * The text of a record to nginx: buf (SFU_RECORD_MAX bytes), into which
 * a rooms_msg encoder wrote n bytes; NULL, buf freed, when it failed (a
 * field out of its range).
 */
static char *
sfu_record_text(char *buf, int n)
{
    if (n < 0) {
        free(buf);
        return NULL;
    }

    return buf;
}


char *
sfu_msg_count(const sfu_room_t *room, int64_t seq)
{
    char               *buf;
    rooms_msg_count_t   c;

    buf = malloc(SFU_RECORD_MAX);
    if (buf == NULL) {
        return NULL;
    }

    c.room = room->id;
    memcpy(c.code, room->code, sizeof(c.code));
    c.count = room->count;
    c.seq = seq;

    return sfu_record_text(buf, rooms_msg_count_encode(&c, buf,
                                                       SFU_RECORD_MAX));
}


char *
sfu_msg_resync(int64_t seq)
{
    char                *buf;
    rooms_msg_resync_t   r;

    buf = malloc(SFU_RECORD_MAX);
    if (buf == NULL) {
        return NULL;
    }

    r.seq = seq;

    return sfu_record_text(buf, rooms_msg_resync_encode(&r, buf,
                                                        SFU_RECORD_MAX));
}


char *
sfu_msg_host_absent(const sfu_room_t *room, unsigned end)
{
    char                     *buf;
    rooms_msg_host_absent_t   h;

    buf = malloc(SFU_RECORD_MAX);
    if (buf == NULL) {
        return NULL;
    }

    h.room = room->id;
    memcpy(h.code, room->code, sizeof(h.code));
    h.rev = room->rev;
    h.end = end;

    return sfu_record_text(buf, rooms_msg_host_absent_encode(&h, buf,
                                                             SFU_RECORD_MAX));
}


/* p's role now: a co-host, or a guest again (a host is never either) */
char *
sfu_msg_role_record(const sfu_part_t *p)
{
    char               *buf;
    rooms_msg_role_t    r;

    buf = malloc(SFU_RECORD_MAX);
    if (buf == NULL) {
        return NULL;
    }

    r.room = p->room->id;
    r.cohost = p->cohost;
    memcpy(r.token, p->token, sizeof(r.token));
    memcpy(r.name, p->name, sizeof(r.name));

    return sfu_record_text(buf, rooms_msg_role_encode(&r, buf,
                                                      SFU_RECORD_MAX));
}


char *
sfu_msg_ban(const sfu_part_t *p)
{
    char             *buf;
    rooms_msg_ban_t   b;

    buf = malloc(SFU_RECORD_MAX);
    if (buf == NULL) {
        return NULL;
    }

    b.room = p->room->id;
    memcpy(b.token, p->token, sizeof(b.token));

    return sfu_record_text(buf, rooms_msg_ban_encode(&b, buf,
                                                     SFU_RECORD_MAX));
}
