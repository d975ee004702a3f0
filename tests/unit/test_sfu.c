/*
 * test_sfu.c: the SFU core (worker/sfu.*) without sockets: ring records
 * in, SIGNAL and CLOSE records and datagrams out.
 *
 * Covers: welcome and participant_joined contents; room_full with CLOSE
 * 4403 at the cap; answers to the Chromium 156 fixtures (a publisher and
 * a 2+2 recvonly subscriber) with the streams map, msid and SSRCs on the
 * bound lines and inactive unbound ones; renegotiate to the others once a
 * participant publishes, and to a newcomer lacking receiving lines, but
 * never twice for the same counts; bindings stable across renegotiations;
 * participant_media; participant_left and renegotiate on LEAVE, with the
 * freed lines answered inactive; bad_offer (connection kept) and
 * bad_message with CLOSE 4400; a leave message closes with 1000; lines
 * a leaver freed are told in a streams message.
 *
 * Who you see and hear, in rooms of 20 and 50 publishers: renegotiate
 * asks audio up to the audio slots (3) and video up to video_slots (16
 * by default, 2 from JOIN); each answer binds a voice to every audio
 * line and the first videos in join order, with no renegotiate loop; a
 * view re-points
 * video lines in place (one streams message, the whole map, the same
 * SSRC in the next answer, msid of the new publisher), skips unknown and
 * repeated ids, keeps the line of a stream still chosen, sends nothing
 * when repeated; a publisher leaving frees its line for the next chosen
 * one (streams).  A 67-line offer is answered, a 73-line one is
 * bad_offer; a malformed view (not an array, a number in it, 65 ids) is
 * bad_message with 4400; a waiting guest's view is ignored; video_slots
 * is clamped.  In the media test one NACK history of P1's video answers
 * P3 (a plain resend) and P2 (RTX), each in its own numbers; a view
 * moves P3's video line from P1 to P2: a PLI to P2, P2's packet on the
 * same SSRC with the next seq, a NACK for it answered from P2's
 * history, one from before the switch not.  NACKs up to a publisher: a
 * gap NACKed at once, a subscriber's NACK of it just after asks nothing
 * more, asked again by sfu_poll after the repair time (100 ms, not 99),
 * the repair forwarded once, five asks at most, given up after a second
 * (a repair after that goes nowhere).
 *
 * Who is heard, on a virtual clock (audio_slots 1): a listener's one
 * line carries the first publisher while nobody speaks; another who
 * starts to speak reaches it within 300 ms of its first loud packet, on
 * the same SSRC with the sequence continuing, with one streams message
 * and a speaker message; the first no longer does; and back, once; a
 * newcomer is told the speaker at the next step.
 *
 * Hosts and guests (max 3): roles in welcome, participants and
 * participant_joined, welcome's locked from the JOIN; two guests, then a
 * third guest refused room_full (one place stays for a host), then a host
 * admitted, then a second host refused (the total is 3); a JOIN without
 * role or token refused; remove and mute from a guest: not_host, nothing
 * happens; an unknown id: no_such_participant; mute: mute_request to the
 * target only; remove: a BAN record with the target's token hash on the
 * target's connection before its error removed and CLOSE 4403, then
 * participant_left to the others and a guest place free again; ROOM
 * records: lock and unlock broadcast {"type":"room"} to everyone, an end
 * sends everyone room_ended and CLOSE 4403 and empties the room, and one
 * about a room nobody is in sends nothing.
 *
 * The lobby and the live count (two nginx slots linked): a guest's JOIN
 * to a knock room gets {"type":"waiting"} only, is not counted and
 * nobody is told; a host's welcome lists the lobby as {id, name} (an
 * empty list when nobody waits; a guest's welcome has none); a later
 * knock reaches the host as {type, id, name}; admit from a guest:
 * not_host; admit or deny of an unknown or joined id, and remove of a
 * waiting one: no_such_participant; admit: the welcome with the id it
 * waited with, participant_joined and lobby_left; deny: denied, CLOSE
 * 4403, no BAN, lobby_left; a waiting guest's LEAVE: lobby_left; its
 * media is kept quietly, its offer is bad_message with 4400; the
 * capacity rule at the admission (room_full, 4403); a JOIN saying open
 * comes straight in; the end closes the lobby too; the 51st waiting guest
 * gets lobby_full; ROOM records: malformed admission or max refused, a
 * lower max then admission open admits the lobby in order up to the cap;
 * a lone guest at max 1 is refused and its room freed.  COUNT records:
 * to every linked slot on each join, admission and leave (none for
 * knocks and denials), to a newly linked slot once per occupied room and
 * then a RESYNC with a lower seq, and no longer to a dropped slot; their
 * seq never goes down (one seq per change, the same on every slot).
 *
 * Co-hosts: cohost and uncohost only from the host (not_host from a
 * guest or a co-host); a promotion sends participant_role to everyone
 * (the target too, not the lobby), one ROLE record on the target's
 * connection {room, role, token, name}, and a knock per waiting guest to
 * the new co-host in knock order; a co-host again: nothing; a host:
 * not_host; a waiting or non-co-host target: no_such_participant.  A
 * co-host mutes (the host too), admits, denies and removes a guest, but
 * removing a host or a co-host is not_host.  A cohost JOIN gets past the
 * lock, sees the lobby and hears knocks; uncohost and a ROOM demote
 * (token hash) send participant_role guest and a ROLE guest record; a
 * demote matching nobody does nothing.  The 17th promotion is
 * too_many_cohosts.  Co-hosts take guests' places at the cap; the host's
 * place stays.
 *
 * Revisions: malformed ROOM records (rev, host_absent, demote, ended
 * with state) are ignored; a ROOM lock of rev 5 for an unknown room is
 * kept, a guest JOIN of rev 4 is refused locked (4403), a host's gets
 * in; a stale ROOM is ignored; a JOIN of rev 6 sets the state, one of
 * rev 5 is judged by it (lock, and knock over its "open"); an emptied
 * room's state lingers ROOMS_ROOM_LINGER_MS (sfu_poll asks for it) and
 * is freed after; a lingering ended room refuses room_ended.
 *
 * Host absent: "leave" of the last host sends one HOST_ABSENT record at
 * once to the lowest linked slot {room, code, rev, action}; a lost
 * connection only after the grace; a host back within it, stay_open, a
 * switch to stay_open within the grace, a co-host staying, or a room
 * that never had a host: none; a ROOM lock or end with reason
 * host_absent carries the reason to the clients; an empty room is kept
 * for its deadline and lingers after; a demotion of the last co-host
 * counts after the grace; with no slot linked nothing is sent.
 *
 * The media path, in memory: two participants each run ICE (real STUN
 * requests with MESSAGE-INTEGRITY), DTLS (an OpenSSL client, as in
 * test_dtls.c) and SRTP against the SFU.  The second one's DTLS completion
 * makes the SFU send a PLI to the first.  An RTP packet the first
 * publishes reaches the second protected, with the SSRC its answer
 * announced, its own VP8 payload type, and an extension block rebuilt
 * with its ids (its mid, abs-send-time copied, transport-wide-cc gone);
 * audio carries the audio level.  The subscriber's offer has VP8's RTX,
 * so its answer groups an RTX SSRC with the forwarded one (FID), and its
 * NACK comes back as RTX packets: RTX payload type and SSRC, their own
 * sequence, the original timestamp and marker, the original sequence
 * number it saw, then the payload, with its mid.  A third participant
 * without RTX gets the kept packet resent as it was.  Receiver reports:
 * sfu_poll() asks to run when the first is due and sends each publisher
 * an SRTCP RR + SDES from its session's SSRC within 1.5 s, with a block
 * per stream heard since the last one: extended highest seq (across a
 * wrap), cumulative and interval loss for deliberately skipped seqs,
 * A.8 jitter for a late frame, and after an SR its LSR and the DLSR.  A
 * PLI is relayed (throttled), and 30 s without STUN ends the sessions
 * with CLOSE 4408.
 *
 * A drain (sfu_drain(), the media worker's SIGQUIT), on an SFU of its
 * own: everyone in a room or a lobby gets CLOSE 4412, the counts go to
 * 0, no host-absent policy applies after the grace, and later JOINs and
 * RESUMEs get CLOSE 4412 and nothing else.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "rooms_limits.h"
#include "rooms_proto.h"

#include "dtls.h"
#include "rtcp.h"
#include "rtp.h"
#include "sdp.h"
#include "sfu.h"
#include "twcc.h"
#include "srtp.h"
#include "stun.h"
#include "nack.h"
#include "tap.h"


#define MAX_RECORDS   4096
#define MAX_WIRE      512
#define BIG           (256 * 1024)


/* ---- what the SFU sends ---- */

typedef struct {
    uint16_t   type;
    uint64_t   id;
    size_t     len;
    char      *data;                  /* NUL-terminated copy */
    json_t    *json;                  /* SIGNAL only */
} rec_t;

static rec_t        recs[MAX_RECORDS];
static unsigned     nrecs;

static sfu_dgram_t  wire[MAX_WIRE];   /* flushed datagrams, in order */
static unsigned     nwire;
static sfu_dgram_t  queue[64];
static sfu_io_t     io;
static sfu_t       *sfu;
static uint64_t     now = 1000000;

/* rooms_sdp_t is large (docs/architecture.md): static, never on the stack */
static rooms_sdp_t  parsed;
static char         fixture[BIG], text[BIG];


/* the seq of the last COUNT seen, and whether one ever went down */
static long long    count_seq_last;
static unsigned     count_seq_down;


static int
on_record(void *ctx, uint16_t type, uint64_t id, const void *payload,
    size_t len)
{
    rec_t       *r;
    json_t      *c;
    long long    seq;

    if (nrecs == MAX_RECORDS) {
        tap_bail_out("too many records");
    }

    r = &recs[nrecs++];
    r->type = type;
    r->id = id;
    r->len = len;
    r->data = malloc(len + 1);
    memcpy(r->data, payload, len);
    r->data[len] = '\0';
    r->json = type == ROOMS_PROTO_SIGNAL ? json_loads(r->data, 0, NULL)
                                         : NULL;

    if (type == ROOMS_PROTO_COUNT) {
        c = json_loads(r->data, 0, NULL);
        seq = json_integer_value(json_object_get(c, "seq"));
        count_seq_down += seq < count_seq_last;
        count_seq_last = seq;
        json_decref(c);
    }

    return 0;
}


static void
on_flush(void *ctx, sfu_io_t *q)
{
    unsigned  i;

    for (i = 0; i < q->n; i++) {
        if (nwire == MAX_WIRE) {
            tap_bail_out("too many datagrams");
        }
        wire[nwire++] = q->q[i];
    }

    q->n = 0;
}


static void
clear(void)
{
    unsigned  i;

    for (i = 0; i < nrecs; i++) {
        free(recs[i].data);
        json_decref(recs[i].json);
    }

    nrecs = 0;
    on_flush(NULL, &io);
    nwire = 0;
}


/* The n-th SIGNAL of this type to conn (0 first), or NULL. */
static json_t *
sig(uint64_t conn, const char *type, unsigned nth)
{
    unsigned     i;
    const char  *t;

    for (i = 0; i < nrecs; i++) {
        if (recs[i].type != ROOMS_PROTO_SIGNAL || recs[i].id != conn) {
            continue;
        }

        t = json_string_value(json_object_get(recs[i].json, "type"));

        if (t != NULL && strcmp(t, type) == 0 && nth-- == 0) {
            return recs[i].json;
        }
    }

    return NULL;
}


static unsigned
count_sig(uint64_t conn, const char *type)
{
    unsigned  n;

    for (n = 0; sig(conn, type, n) != NULL; n++) { /* count */ }

    return n;
}


/* The close code sent to conn, or -1. */
static int
close_code(uint64_t conn)
{
    unsigned  i;

    for (i = 0; i < nrecs; i++) {
        if (recs[i].type == ROOMS_PROTO_CLOSE && recs[i].id == conn
            && recs[i].len >= 2)
        {
            return ((unsigned char) recs[i].data[0] << 8)
                   | (unsigned char) recs[i].data[1];
        }
    }

    return -1;
}


static const char *
str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}


static long long
num(json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}


static int
boolean(json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}


/* ---- what nginx sends ---- */


static void
record(uint16_t type, uint64_t conn, const char *payload)
{
    rooms_proto_hdr_t  hdr;

    memset(&hdr, 0, sizeof(hdr));
    hdr.type = type;
    hdr.id = conn;
    hdr.len = payload ? (uint32_t) strlen(payload) : 0;

    sfu_record(sfu, now, &hdr, (const unsigned char *) payload, &io);
    on_flush(NULL, &io);
}


/* a guest token's hash as nginx passes it: 64 hex digits */
#define TOKEN_A  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"                           \
                 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TOKEN_B  "0123456789abcdef0123456789abcdef"                           \
                 "0123456789abcdef0123456789abcdef"
#define TOKEN_C  "cccccccccccccccccccccccccccccccc"                           \
                 "cccccccccccccccccccccccccccccccc"


static void
join_as(uint64_t conn, int room, int max, const char *name,
    const char *role, const char *token, int locked)
{
    char  buf[512];

    snprintf(buf, sizeof(buf), "{\"room\":%d,\"code\":\"code%d\",\"max\":%d,"
             "\"name\":\"%s\",\"role\":\"%s\",\"token\":\"%s\","
             "\"locked\":%s}", room, room, max, name, role, token,
             locked ? "true" : "false");
    record(ROOMS_PROTO_JOIN, conn, buf);
}


/* the media tests join as hosts: only the total counts for them */
static void
join(uint64_t conn, int room, int max, const char *name)
{
    join_as(conn, room, max, name, "host", TOKEN_A, 0);
}


static void
offer(uint64_t conn, const char *sdp)
{
    char    *s;
    json_t  *o;

    o = json_pack("{s:s, s:s}", "type", "offer", "sdp", sdp);
    s = json_dumps(o, JSON_COMPACT);
    record(ROOMS_PROTO_SIGNAL, conn, s);
    free(s);
    json_decref(o);
}


/* ---- SDP ---- */


static size_t
load(const char *name, char *dst, size_t size)
{
    char         path[512];
    FILE        *f;
    size_t       n;
    const char  *dir;

    dir = getenv("ROOMS_SDP_FIXTURES");
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures/sdp",
             name);

    f = fopen(path, "rb");
    if (f == NULL) {
        tap_bail_out("cannot open %s (run from the repository root)", path);
    }

    n = fread(dst, 1, size - 1, f);
    fclose(f);
    dst[n] = '\0';

    return n;
}


/* every "from" in buf replaced by "to", in place (buf has BIG bytes) */
static void
replace(char *buf, const char *from, const char *to)
{
    char    *p, *tmp;
    size_t   fl, tl;

    fl = strlen(from);
    tl = strlen(to);
    tmp = malloc(BIG);
    tmp[0] = '\0';

    for (p = buf; ; ) {
        char  *hit = strstr(p, from);

        if (hit == NULL) {
            strcat(tmp, p);
            break;
        }

        strncat(tmp, p, (size_t) (hit - p));
        strcat(tmp, to);
        p = hit + fl;
    }

    if (strlen(tmp) >= BIG) {
        tap_bail_out("replace overflow");
    }

    memcpy(buf, tmp, strlen(tmp) + 1);
    free(tmp);
    (void) tl;
}


/* one m= line of a generated Chromium-shaped offer */
typedef struct {
    int         video;
    int         send;               /* sendonly, else recvonly */
    uint32_t    ssrc;               /* send: primary (rtx = ssrc + 1) */
} gen_line_t;

/*
 * A Chromium-shaped offer.  mid_id and vp8 let a subscriber use other
 * ids than the publisher, so rewriting is visible.  Video offers VP8's
 * RTX as payload type vp8 + 1 when rtx is set.
 */
static void
gen_offer_rtx(char *out, const char *ufrag, const char *fp, unsigned mid_id,
    unsigned vp8, const gen_line_t *lines, unsigned n, int rtx)
{
    char     *p;
    unsigned  i;

    p = out;
    p += sprintf(p, "v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                 "a=group:BUNDLE");

    for (i = 0; i < n; i++) {
        p += sprintf(p, " %u", i);
    }

    p += sprintf(p, "\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS s\r\n");

    for (i = 0; i < n; i++) {
        if (lines[i].video && rtx) {
            p += sprintf(p, "m=video 9 UDP/TLS/RTP/SAVPF %u %u\r\n", vp8,
                         vp8 + 1);
        } else if (lines[i].video) {
            p += sprintf(p, "m=video 9 UDP/TLS/RTP/SAVPF %u\r\n", vp8);
        } else {
            p += sprintf(p, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
        }

        p += sprintf(p, "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
                     "a=ice-ufrag:%s\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
                     "a=ice-options:trickle\r\na=fingerprint:sha-256 %s\r\n"
                     "a=setup:actpass\r\na=mid:%u\r\n", ufrag, fp, i);

        if (!lines[i].video) {
            p += sprintf(p, "a=extmap:1 " ROOMS_SDP_EXT_AUDIO_LEVEL "\r\n");
        }

        p += sprintf(p, "a=extmap:2 " ROOMS_SDP_EXT_ABS_SEND_TIME "\r\n"
                     "a=extmap:3 " ROOMS_SDP_EXT_TWCC "\r\n"
                     "a=extmap:%u " ROOMS_SDP_EXT_MID "\r\n", mid_id);

        if (lines[i].send) {
            p += sprintf(p, "a=sendonly\r\na=msid:s t%u\r\n", i);
        } else {
            p += sprintf(p, "a=recvonly\r\n");
        }

        p += sprintf(p, "a=rtcp-mux\r\na=rtcp-rsize\r\n");

        if (lines[i].video) {
            p += sprintf(p, "a=rtpmap:%u VP8/90000\r\n"
                         "a=rtcp-fb:%u goog-remb\r\n"
                         "a=rtcp-fb:%u transport-cc\r\n"
                         "a=rtcp-fb:%u ccm fir\r\n"
                         "a=rtcp-fb:%u nack\r\n"
                         "a=rtcp-fb:%u nack pli\r\n", vp8, vp8, vp8, vp8,
                         vp8, vp8);

            if (rtx) {
                p += sprintf(p, "a=rtpmap:%u rtx/90000\r\n"
                             "a=fmtp:%u apt=%u\r\n", vp8 + 1, vp8 + 1, vp8);
            }

            if (lines[i].send) {
                p += sprintf(p, "a=ssrc-group:FID %u %u\r\n"
                             "a=ssrc:%u cname:c\r\na=ssrc:%u cname:c\r\n",
                             lines[i].ssrc, lines[i].ssrc + 1, lines[i].ssrc,
                             lines[i].ssrc + 1);
            }

        } else {
            p += sprintf(p, "a=rtpmap:111 opus/48000/2\r\n"
                         "a=rtcp-fb:111 transport-cc\r\n"
                         "a=fmtp:111 minptime=10;useinbandfec=1\r\n");

            if (lines[i].send) {
                p += sprintf(p, "a=ssrc:%u cname:c\r\n", lines[i].ssrc);
            }
        }
    }
}


static void
gen_offer(char *out, const char *ufrag, const char *fp, unsigned mid_id,
    unsigned vp8, const gen_line_t *lines, unsigned n)
{
    gen_offer_rtx(out, ufrag, fp, mid_id, vp8, lines, n, 1);
}


/* Parses the answer in a SIGNAL into parsed; the SDP text or NULL. */
static const char *
answer_sdp(json_t *ans)
{
    char         err[160];
    const char  *sdp;

    sdp = str(ans, "sdp");

    if (sdp == NULL
        || rooms_sdp_parse(sdp, strlen(sdp), &parsed, err, sizeof(err)) != 0)
    {
        diag("answer does not parse: %s", sdp ? err : "no sdp");
        return NULL;
    }

    return sdp;
}


/* The a=ssrc the parsed answer announces on mid, or 0. */
static uint32_t
answer_ssrc(const char *mid)
{
    int  i;

    i = rooms_sdp_find_mid(&parsed, mid);

    if (i < 0 || parsed.media[i].nssrcs == 0) {
        return 0;
    }

    return parsed.media[i].ssrcs[0].ssrc;
}


static unsigned
answer_dir(const char *mid)
{
    int  i;

    i = rooms_sdp_find_mid(&parsed, mid);

    return i < 0 ? 0xff : parsed.media[i].direction;
}


/* streams[mid].participant of an answer, or NULL */
static const char *
stream_of(json_t *ans, const char *mid, const char **kind)
{
    json_t  *s;

    s = json_object_get(json_object_get(ans, "streams"), mid);

    if (kind != NULL) {
        *kind = str(s, "kind");
    }

    return str(s, "participant");
}


/* ---- signaling tests ---- */


static void
test_fixtures(void)
{
    char          fp[ROOMS_DTLS_FP_TEXT_LEN], a_id[16], b_id[16];
    json_t       *m, *list, *ans;
    const char   *kind, *sdp, *s;
    unsigned      i, audio_mid_bound, video_mid_bound;
    uint64_t      a, b, c;

    a = ROOMS_PROTO_CONN(1, 1);
    b = ROOMS_PROTO_CONN(2, 1);
    c = ROOMS_PROTO_CONN(1, 2);

    clear();
    join(a, 10, 2, "Alice");
    m = sig(a, "welcome", 0);
    ok(m != NULL, "A gets a welcome");
    s = str(m, "id");
    ok(s != NULL && strlen(s) == 8
       && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789-_") == 8, "welcome id: 8 base64url chars");
    snprintf(a_id, sizeof(a_id), "%s", s ? s : "");
    list = json_object_get(m, "participants");
    ok(json_is_array(list) && json_array_size(list) == 0,
       "nobody else is there");
    is_int(sfu_participants(sfu), 1, "one participant");

    clear();
    join(b, 10, 2, "Bob \\\"B\\\"");
    m = sig(b, "welcome", 0);
    list = json_object_get(m, "participants");
    ok(json_array_size(list) == 1, "B's welcome lists one other");
    is_str(str(json_array_get(list, 0), "id"), a_id, "it is A");
    is_str(str(json_array_get(list, 0), "name"), "Alice", "with A's name");
    ok(json_is_boolean(json_object_get(json_array_get(list, 0), "audio"))
       && json_is_boolean(json_object_get(json_array_get(list, 0), "video")),
       "and audio/video booleans");
    s = str(m, "id");
    snprintf(b_id, sizeof(b_id), "%s", s ? s : "");
    ok(s != NULL && strcmp(a_id, b_id) != 0, "B has its own id");
    m = sig(a, "participant_joined", 0);
    ok(m != NULL, "A is told B joined");
    is_str(str(m, "id"), b_id, "participant_joined id");
    is_str(str(m, "name"), "Bob \"B\"", "participant_joined name");
    is_int(count_sig(b, "participant_joined"), 0,
           "B is not told about itself");

    /* the third at max 2 */
    clear();
    join(c, 10, 2, "Carol");
    m = sig(c, "error", 0);
    is_str(str(m, "code"), "room_full", "third join: room_full");
    is_int(close_code(c), 4403, "then CLOSE 4403");
    is_int(count_sig(a, "participant_joined"), 0, "A hears nothing of it");
    is_int(sfu_participants(sfu), 2, "still two participants");

    /* A publishes with the real Chromium offer */
    load("chromium156-publish-av-sendonly.sdp", fixture, sizeof(fixture));
    clear();
    offer(a, fixture);
    ans = sig(a, "answer", 0);
    ok(ans != NULL, "A's offer is answered");
    sdp = answer_sdp(ans);
    ok(sdp != NULL && strstr(sdp, "a=ice-lite\r\n") != NULL,
       "answer is an ICE-lite SDP");
    snprintf(fp, sizeof(fp), "%s", sfu_fingerprint(sfu));
    ok(sdp != NULL && strstr(sdp, fp) != NULL,
       "answer carries the process fingerprint");
    ok(sdp != NULL && strstr(sdp, "goog-remb") == NULL,
       "the offer's goog-remb is not answered (the worker sends no REMB)");
    ok(sdp != NULL && strstr(sdp, "a=rtcp-fb:111 transport-cc\r\n") != NULL
       && strstr(sdp, "a=rtcp-fb:96 transport-cc\r\n") != NULL
       && strstr(sdp, "transport-wide-cc-extensions-01\r\n") != NULL,
       "transport-cc and its extension are answered on the lines A sends "
       "(the worker sends transport feedback for them)");
    ok(json_is_object(json_object_get(ans, "streams"))
       && json_object_size(json_object_get(ans, "streams")) == 0,
       "streams is an empty object");
    ok(answer_dir("0") == ROOMS_SDP_RECVONLY
       && answer_dir("1") == ROOMS_SDP_RECVONLY,
       "publishing lines answered recvonly");
    is_int(count_sig(b, "renegotiate"), 0,
           "B has not offered yet: no renegotiate");
    m = sig(b, "participant_media", 0);
    ok(m != NULL && boolean(m, "audio") && boolean(m, "video"),
       "B is told A's media is on");

    /* B subscribes with the 2+2 recvonly fixture (other credentials) */
    load("chromium156-recvonly-2a2v.sdp", fixture, sizeof(fixture));
    clear();
    offer(b, fixture);
    ans = sig(b, "answer", 0);
    ok(ans != NULL, "B's offer is answered");
    sdp = answer_sdp(ans);
    ok(sdp != NULL, "B's answer parses");
    is_int(json_object_size(json_object_get(ans, "streams")), 2,
           "two streams bound");

    audio_mid_bound = video_mid_bound = 99;

    for (i = 0; i < parsed.nmedia; i++) {
        const char  *who = stream_of(ans, parsed.media[i].mid, &kind);

        if (who == NULL) {
            continue;
        }

        if (strcmp(kind, "audio") == 0 && audio_mid_bound == 99) {
            audio_mid_bound = i;
        } else if (strcmp(kind, "video") == 0) {
            video_mid_bound = i;
        }

        is_str(who, a_id, "mid %s carries A's %s", parsed.media[i].mid,
               kind);

        if (strcmp(kind, "video") == 0) {
            /* the fixture offers VP8's RTX: our resends have an SSRC */
            ok(parsed.media[i].nssrcs == 2 && parsed.media[i].nfids == 1
               && parsed.media[i].fids[0].primary
                  == parsed.media[i].ssrcs[0].ssrc
               && parsed.media[i].fids[0].rtx != 0
               && parsed.media[i].fids[0].rtx
                  != parsed.media[i].fids[0].primary,
               "mid %s announces its SSRC and an RTX SSRC (FID)",
               parsed.media[i].mid);

        } else {
            ok(parsed.media[i].nssrcs == 1
               && parsed.media[i].ssrcs[0].ssrc != 0
               && parsed.media[i].nfids == 0,
               "mid %s announces one SSRC", parsed.media[i].mid);
        }
        is_str(parsed.media[i].msid_stream, a_id, "mid %s msid is A",
               parsed.media[i].mid);
        is_int(parsed.media[i].direction, ROOMS_SDP_SENDONLY,
               "mid %s is sendonly", parsed.media[i].mid);
    }

    ok(audio_mid_bound == 0 && video_mid_bound == 1,
       "the first free line of each kind is used");

    for (i = 0; i < parsed.nmedia; i++) {
        if (i != audio_mid_bound && i != video_mid_bound) {
            is_int(parsed.media[i].direction, ROOMS_SDP_INACTIVE,
                   "unbound mid %s answered inactive", parsed.media[i].mid);
            is_int(parsed.media[i].nssrcs, 0, "and without a=ssrc");
        }
    }

    is_int(count_sig(b, "renegotiate"), 0, "B has lines enough");

    /* bad offer: an error, the connection stays */
    clear();
    offer(b, "v=0\r\nthis is not sdp\r\n");
    m = sig(b, "error", 0);
    is_str(str(m, "code"), "bad_offer", "garbage offer: bad_offer");
    is_int(close_code(b), -1, "no close after bad_offer");
    is_int(sfu_participants(sfu), 2, "B is still in");

    /* an offer that wants us as DTLS client */
    strcpy(text, fixture);
    replace(text, "a=setup:actpass", "a=setup:passive");
    clear();
    offer(b, text);
    is_str(str(sig(b, "error", 0), "code"), "bad_offer",
           "setup:passive offer: bad_offer");

    /* a changed certificate on a renegotiation */
    strcpy(text, fixture);
    replace(text, "E7:B3:AE:BB", "E7:B3:AE:BC");
    clear();
    offer(b, text);
    is_str(str(sig(b, "error", 0), "code"), "bad_offer",
           "changed fingerprint: bad_offer");

    /* A leaves: B hears it and must renegotiate to zero */
    clear();
    record(ROOMS_PROTO_LEAVE, a, NULL);
    m = sig(b, "participant_left", 0);
    is_str(str(m, "id"), a_id, "B: participant_left A");
    m = sig(b, "renegotiate", 0);
    ok(m != NULL && num(m, "audio") == 0 && num(m, "video") == 0,
       "B: renegotiate 0/0");
    m = sig(b, "streams", 0);
    ok(m != NULL && json_object_size(json_object_get(m, "streams")) == 0,
       "B: streams, an empty map (A's lines carry nothing now)");
    is_int(nrecs, 3, "nothing is sent to the gone connection");

    load("chromium156-recvonly-2a2v.sdp", fixture, sizeof(fixture));
    clear();
    offer(b, fixture);
    ans = sig(b, "answer", 0);
    answer_sdp(ans);
    is_int(json_object_size(json_object_get(ans, "streams")), 0,
           "after A left no stream is bound");
    ok(answer_dir("0") == ROOMS_SDP_INACTIVE
       && answer_dir("1") == ROOMS_SDP_INACTIVE,
       "A's former lines answered inactive");

    /* an unknown message: bad_message, 4400, and B is gone */
    clear();
    record(ROOMS_PROTO_SIGNAL, b, "{\"type\":\"dance\"}");
    is_str(str(sig(b, "error", 0), "code"), "bad_message",
           "unknown type: bad_message");
    is_int(close_code(b), 4400, "then CLOSE 4400");
    is_int(sfu_participants(sfu), 0, "B was removed");
    is_int(sfu_rooms(sfu), 0, "the empty room is gone");

    /* not JSON at all, and join twice */
    clear();
    join(a, 11, 5, "Ann");
    record(ROOMS_PROTO_SIGNAL, a, "{not json");
    is_str(str(sig(a, "error", 0), "code"), "bad_message",
           "not JSON: bad_message");
    is_int(close_code(a), 4400, "not JSON: CLOSE 4400");

    clear();
    join(a, 11, 5, "Ann");
    record(ROOMS_PROTO_SIGNAL, a, "{\"type\":\"join\",\"name\":\"x\"}");
    is_int(close_code(a), 4400, "join twice: CLOSE 4400");

    clear();
    join(a, 11, 5, "Ann");
    record(ROOMS_PROTO_SIGNAL, a, "{\"type\":\"leave\"}");
    is_int(close_code(a), 1000, "leave: CLOSE 1000");
    is_int(sfu_participants(sfu), 0, "leave removes the participant");

    clear();
    record(ROOMS_PROTO_JOIN, a, "{\"room\":\"x\"}");
    is_int(close_code(a), 4400, "malformed JOIN: CLOSE 4400");
    is_int(sfu_participants(sfu), 0, "and no participant");
}


/* ---- the media path, in memory ---- */

typedef struct {
    uint64_t            conn;
    const char         *id;
    char                idbuf[16];
    char                ufrag[8];
    char                fp[ROOMS_DTLS_FP_TEXT_LEN];
    rooms_stun_addr_t   addr;
    SSL_CTX            *ctx;
    SSL                *ssl;
    rooms_srtp_t        srtp;
    char                server_ufrag[64];
    char                server_pwd[64];
    uint32_t            a_ssrc;
    uint32_t            v_ssrc;
} client_t;


static void
client_new(client_t *c, uint64_t conn, const char *ufrag, uint16_t port,
    uint32_t ssrc_base)
{
    X509          *x;
    EVP_PKEY      *key;
    unsigned int   n, i;
    uint8_t        fp[32];
    BIO           *rbio, *wbio;

    memset(c, 0, sizeof(*c));
    c->conn = conn;
    snprintf(c->ufrag, sizeof(c->ufrag), "%s", ufrag);
    rooms_stun_addr_set(&c->addr, "127.0.0.1", port);
    c->a_ssrc = ssrc_base;
    c->v_ssrc = ssrc_base + 10;

    key = EVP_EC_gen("P-256");
    x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *) "client", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, key, EVP_sha256());
    X509_digest(x, EVP_sha256(), fp, &n);

    for (i = 0; i < 32; i++) {
        sprintf(c->fp + 3 * i, "%02X%s", fp[i], i < 31 ? ":" : "");
    }

    c->ctx = SSL_CTX_new(DTLS_client_method());
    SSL_CTX_use_certificate(c->ctx, x);
    SSL_CTX_use_PrivateKey(c->ctx, key);
    SSL_CTX_set_tlsext_use_srtp(c->ctx, "SRTP_AES128_CM_SHA1_80:"
                                "SRTP_AEAD_AES_128_GCM");
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);

    c->ssl = SSL_new(c->ctx);
    rbio = BIO_new(BIO_s_mem());
    wbio = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(rbio, -1);
    BIO_set_mem_eof_return(wbio, -1);
    SSL_set_bio(c->ssl, rbio, wbio);
    SSL_set_connect_state(c->ssl);
    SSL_set_mtu(c->ssl, 1200);

    X509_free(x);
    EVP_PKEY_free(key);
}


static void
client_free(client_t *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    rooms_srtp_destroy(&c->srtp);
}


/* Datagrams of the wire addressed to c, counted; copied to the rbio. */
static unsigned
to_client(client_t *c, int into_ssl)
{
    unsigned  i, n;

    n = 0;

    for (i = 0; i < nwire; i++) {
        if (rooms_stun_addr_equal(&wire[i].addr, &c->addr)) {
            n++;

            if (into_ssl) {
                BIO_write(SSL_get_rbio(c->ssl), wire[i].data,
                          (int) wire[i].len);
            }
        }
    }

    return n;
}


static void
udp(client_t *c, uint8_t *buf, size_t len)
{
    sfu_udp_input(sfu, now, &c->addr, buf, len, &io);
    on_flush(NULL, &io);
}


static void
client_answer(client_t *c, json_t *ans)
{
    int  i;

    answer_sdp(ans);
    i = 0;

    if (strlen(parsed.media[i].ice_ufrag) >= sizeof(c->server_ufrag)
        || strlen(parsed.media[i].ice_pwd) >= sizeof(c->server_pwd))
    {
        tap_bail_out("server credentials too long");
    }

    strcpy(c->server_ufrag, parsed.media[i].ice_ufrag);
    strcpy(c->server_pwd, parsed.media[i].ice_pwd);
}


/* A STUN check with USE-CANDIDATE; 1 when the SFU answered it. */
static int
client_ice(client_t *c)
{
    char               user[160];
    size_t             len;
    uint8_t            req[256], tid[12];
    rooms_stun_msg_t   msg;

    memset(tid, 0x42, sizeof(tid));
    tid[0] = (uint8_t) c->conn;
    snprintf(user, sizeof(user), "%s:%s", c->server_ufrag, c->ufrag);

    if (rooms_stun_encode_request(req, sizeof(req), &len, tid, user,
                                  0x6e0001ff, 1, 1, 0x1234, NULL,
                                  (const uint8_t *) c->server_pwd,
                                  strlen(c->server_pwd)) != 0)
    {
        tap_bail_out("cannot build a STUN request");
    }

    clear();
    udp(c, req, len);

    return nwire == 1 && rooms_stun_addr_equal(&wire[0].addr, &c->addr)
           && rooms_stun_parse(&msg, wire[0].data, wire[0].len) == 0
           && msg.type == ROOMS_STUN_BINDING_SUCCESS
           && rooms_stun_check_integrity(&msg, NULL,
                                         (const uint8_t *) c->server_pwd,
                                         strlen(c->server_pwd));
}


/* Runs the DTLS handshake with the SFU; 1 when both ends finished. */
static int
client_dtls(client_t *c)
{
    int       i;
    long      n;
    char     *data;
    uint8_t   buf[4096], material[64];
    size_t    len, klen;
    unsigned  profile;
    const SRTP_PROTECTION_PROFILE  *prof;

    for (i = 0; i < 20 && !SSL_is_init_finished(c->ssl); i++) {
        SSL_do_handshake(c->ssl);
        ERR_clear_error();

        n = BIO_get_mem_data(SSL_get_wbio(c->ssl), &data);
        if (n <= 0) {
            continue;
        }

        len = (size_t) BIO_read(SSL_get_wbio(c->ssl), buf, (int) n);
        clear();
        udp(c, buf, len);
        to_client(c, 1);
    }

    /* the client's last flight may still be queued */
    SSL_do_handshake(c->ssl);

    if (!SSL_is_init_finished(c->ssl)) {
        return 0;
    }

    prof = SSL_get_selected_srtp_profile(c->ssl);
    profile = (unsigned) prof->id;
    klen = rooms_srtp_keying_len(profile);

    SSL_export_keying_material(c->ssl, material, klen, "EXTRACTOR-dtls_srtp",
                               19, NULL, 0, 0);

    return rooms_srtp_create(&c->srtp, profile, material, klen, 0) == 0;
}


/* An RTP packet as Chromium sends it: mid, abs-send-time, twcc. */
static size_t
rtp_packet(uint8_t *p, unsigned pt, uint16_t seq, uint32_t ts,
    uint32_t ssrc, const char *mid, int audio)
{
    size_t  n, ext_start;

    p[0] = 0x90;                             /* V=2, X */
    p[1] = (uint8_t) pt;
    p[2] = (uint8_t) (seq >> 8);
    p[3] = (uint8_t) seq;
    p[4] = (uint8_t) (ts >> 24);
    p[5] = (uint8_t) (ts >> 16);
    p[6] = (uint8_t) (ts >> 8);
    p[7] = (uint8_t) ts;
    p[8] = (uint8_t) (ssrc >> 24);
    p[9] = (uint8_t) (ssrc >> 16);
    p[10] = (uint8_t) (ssrc >> 8);
    p[11] = (uint8_t) ssrc;
    p[12] = 0xbe;
    p[13] = 0xde;
    ext_start = 16;
    n = ext_start;

    p[n++] = 0x22;                           /* id 2, abs-send-time, 3 */
    p[n++] = 0xab;
    p[n++] = 0xcd;
    p[n++] = 0xef;
    p[n++] = 0x31;                           /* id 3, twcc, 2 */
    p[n++] = 0x00;
    p[n++] = 0x07;
    p[n++] = (uint8_t) (0x40 | (strlen(mid) - 1));   /* id 4, mid */
    memcpy(p + n, mid, strlen(mid));
    n += strlen(mid);

    if (audio) {
        p[n++] = 0x10;                       /* id 1, audio level, 1 */
        p[n++] = 0x85;
    }

    while ((n - ext_start) % 4) {
        p[n++] = 0;
    }

    p[14] = 0;
    p[15] = (uint8_t) ((n - ext_start) / 4);

    /* a VP8 keyframe-ish payload (or Opus bytes), recognizable */
    memcpy(p + n, "\x10\x00\x9d\x01\x2apayload-bytes", 18);
    n += 18;

    return n;
}


/* The nth datagram to c on the wire, unprotected into out; its length. */
static size_t
received_nth(client_t *c, unsigned nth, uint8_t *out, int rtcp)
{
    unsigned  i;
    size_t    len;

    for (i = 0; i < nwire; i++) {
        if (rooms_stun_addr_equal(&wire[i].addr, &c->addr) && nth-- == 0) {
            len = wire[i].len;
            memcpy(out, wire[i].data, len);

            if ((rtcp ? rooms_srtp_unprotect_rtcp(&c->srtp, out, &len)
                      : rooms_srtp_unprotect(&c->srtp, out, &len)) != 0)
            {
                diag("unprotect failed");
                return 0;
            }

            return len;
        }
    }

    return 0;
}


/* The first datagram to c on the wire, unprotected into out. */
static size_t
received(client_t *c, uint8_t *out, int rtcp)
{
    return received_nth(c, 0, out, rtcp);
}


/*
 * The first datagram to c as a compound RR: the RR into *rr, and 1 when
 * an SDES with the SFU's CNAME from the same SSRC follows it.
 */
static int
rr_to(client_t *c, rooms_rtcp_report_t *rr)
{
    size_t            n, off;
    uint8_t           buf[1600];
    rooms_rtcp_hdr_t  h;

    n = received(c, buf, 1);
    off = 0;

    if (n == 0 || rooms_rtcp_check(buf, n) != 2
        || rooms_rtcp_next(buf, n, &off, &h) != ROOMS_RTCP_OK
        || h.pt != ROOMS_RTCP_RR || rooms_rtcp_report_parse(&h, rr) != 0
        || rooms_rtcp_next(buf, n, &off, &h) != ROOMS_RTCP_OK
        || h.pt != ROOMS_RTCP_SDES || h.count != 1 || h.body_len < 11)
    {
        return 0;
    }

    /* chunk: SSRC, CNAME item (type 1, length 5, "rooms"), END */
    return h.body[0] == (uint8_t) (rr->ssrc >> 24)
           && h.body[3] == (uint8_t) rr->ssrc && h.body[4] == 1
           && h.body[5] == 5 && memcmp(h.body + 6, "rooms", 5) == 0
           && h.body[11] == 0;
}


/* The report block of an RR about ssrc, or NULL. */
static const rooms_rtcp_rb_t *
rb_of(const rooms_rtcp_report_t *rr, uint32_t ssrc)
{
    unsigned  i;

    for (i = 0; i < rr->report_count; i++) {
        if (rr->reports[i].ssrc == ssrc) {
            return &rr->reports[i];
        }
    }

    return NULL;
}


/* c publishes video packet seq at now (the caller sets now). */
static void
send_video(client_t *c, unsigned pt, uint16_t seq, uint32_t ts,
    const char *mid)
{
    size_t   len;
    uint8_t  pkt[1600];

    len = rtp_packet(pkt, pt, seq, ts, c->v_ssrc, mid, 0);
    rooms_srtp_protect(&c->srtp, pkt, &len);
    clear();
    udp(c, pkt, len);
}


/*
 * The numbers NACKed for media SSRC ssrc in the datagrams to c (each
 * RTCP one unprotected once), into lost[0..cap); their count.  *nacks,
 * when not NULL, gets the number of NACK packets.
 */
static size_t
nacked_to(client_t *c, uint32_t ssrc, uint16_t *lost, size_t cap,
    unsigned *nacks)
{
    int                 k;
    size_t              n, len, off;
    unsigned            i;
    uint8_t             buf[1600];
    rooms_rtcp_fb_t     fb;
    rooms_rtcp_hdr_t    h;

    n = 0;

    if (nacks != NULL) {
        *nacks = 0;
    }

    for (i = 0; i < nwire; i++) {
        if (!rooms_stun_addr_equal(&wire[i].addr, &c->addr)
            || wire[i].len < 2 || wire[i].data[1] < 192
            || wire[i].data[1] > 223)
        {
            continue;                        /* RTP, not RTCP */
        }

        len = wire[i].len;
        memcpy(buf, wire[i].data, len);

        if (rooms_srtp_unprotect_rtcp(&c->srtp, buf, &len) != 0) {
            continue;
        }

        off = 0;

        while (rooms_rtcp_next(buf, len, &off, &h) == ROOMS_RTCP_OK) {
            if (h.pt != ROOMS_RTCP_RTPFB || h.count != ROOMS_RTCP_FMT_NACK
                || rooms_rtcp_fb_parse(&h, &fb) != 0
                || fb.media_ssrc != ssrc)
            {
                continue;
            }

            if (nacks != NULL) {
                (*nacks)++;
            }

            k = rooms_rtcp_nack_expand(&fb, lost + n, cap - n);
            n += k > 0 ? (size_t) k : 0;
        }
    }

    return n;
}


/* c sends its RTX (payload type 97, SSRC its video's + 1) of seq osn */
static void
send_rtx(client_t *c, uint16_t rtx_seq, uint16_t osn, uint32_t ts)
{
    size_t   len, at;
    uint8_t  pkt[1600];

    len = rtp_packet(pkt, 97, rtx_seq, ts, c->v_ssrc + 1, "1", 0);
    at = len - 18;                           /* the payload's offset */
    memmove(pkt + at + 2, pkt + at, 18);
    pkt[at] = (uint8_t) (osn >> 8);
    pkt[at + 1] = (uint8_t) osn;
    len += 2;
    rooms_srtp_protect(&c->srtp, pkt, &len);
    clear();
    udp(c, pkt, len);
}


static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}


/* The SR compound Chromium sends for a stream: SR, then SDES. */
static size_t
sr_packet(uint8_t *p, uint32_t ssrc, uint32_t ntp_sec, uint32_t ntp_frac)
{
    p[0] = 0x80;                             /* V=2, no report blocks */
    p[1] = ROOMS_RTCP_SR;
    p[2] = 0;
    p[3] = 6;                                /* 28 bytes */
    put32(p + 4, ssrc);
    put32(p + 8, ntp_sec);
    put32(p + 12, ntp_frac);
    put32(p + 16, 123456);                   /* RTP timestamp */
    put32(p + 20, 10);                       /* packets */
    put32(p + 24, 1000);                     /* octets */

    return 28 + rooms_rtcp_build_sdes_cname(p + 28, 64, ssrc, "c");
}


static void
test_media(void)
{
    int             pli, i, vi;
    unsigned        k;
    char            sdp1[16384], sdp2[16384], sdp3[16384];
    double          jit;
    size_t          len, n, off;
    json_t         *ans, *m;
    uint8_t         pkt[1600], got[1600], got2[1600];
    uint16_t        out_seq, lost, lost2[2], seq3;
    int             asks;
    size_t          m_n;
    uint64_t        t_nack;
    uint32_t        v_out, a_out, out_ts, v_rtx, fb1, v_out3;
    uint16_t        seq2;
    uint64_t        next, t0, t_sr, arrive;
    client_t        c1, c2, c3;
    rooms_rtp_t     r, r2;
    rooms_rtcp_fb_t fb;
    rooms_rtcp_hdr_t h;
    rooms_rtcp_report_t rr;
    const rooms_rtcp_rb_t *rb;
    const char     *a_mid, *v_mid, *kind;
    const uint8_t  *v;

    gen_line_t      pub[2] = { { 0, 1, 0 }, { 1, 1, 0 } };
    gen_line_t      both[4] = { { 0, 1, 0 }, { 1, 1, 0 },
                                { 0, 0, 0 }, { 1, 0, 0 } };
    gen_line_t      recv[2] = { { 0, 0, 0 }, { 1, 0, 0 } };

    /* P2, in the middle of a wrap: seqs, ts and arrival offsets in ms */
    static const uint16_t  w_seq[5] = { 65533, 65534, 65535, 0, 2 };
    static const unsigned  w_ms[5] = { 0, 33, 66, 109, 132 };

    client_new(&c1, ROOMS_PROTO_CONN(3, 1), "cli1", 50001, 1111000);
    client_new(&c2, ROOMS_PROTO_CONN(3, 2), "cli2", 50002, 2222000);

    clear();
    join(c1.conn, 20, 3, "One");
    c1.id = str(sig(c1.conn, "welcome", 0), "id");
    snprintf(c1.idbuf, sizeof(c1.idbuf), "%s", c1.id);
    c1.id = c1.idbuf;

    pub[0].ssrc = c1.a_ssrc;
    pub[1].ssrc = c1.v_ssrc;
    gen_offer(sdp1, c1.ufrag, c1.fp, 4, 96, pub, 2);
    clear();
    offer(c1.conn, sdp1);
    ans = sig(c1.conn, "answer", 0);
    ok(ans != NULL, "media: P1 answered");
    client_answer(&c1, ans);

    /* P2 joins, sees P1 publishing, offers without receiving lines */
    clear();
    join(c2.conn, 20, 3, "Two");
    m = sig(c2.conn, "welcome", 0);
    c2.id = str(m, "id");
    snprintf(c2.idbuf, sizeof(c2.idbuf), "%s", c2.id);
    c2.id = c2.idbuf;
    m = json_array_get(json_object_get(m, "participants"), 0);
    ok(boolean(m, "audio") && boolean(m, "video"),
       "welcome shows P1's audio and video on");

    pub[0].ssrc = c2.a_ssrc;
    pub[1].ssrc = c2.v_ssrc;
    gen_offer(sdp2, c2.ufrag, c2.fp, 9, 100, pub, 2);
    clear();
    offer(c2.conn, sdp2);
    ok(sig(c2.conn, "answer", 0) != NULL, "P2 answered");
    m = sig(c2.conn, "renegotiate", 0);
    ok(m != NULL && num(m, "audio") == 1 && num(m, "video") == 1,
       "P2 lacks lines: renegotiate 1/1");
    m = sig(c1.conn, "renegotiate", 0);
    ok(m != NULL && num(m, "audio") == 1 && num(m, "video") == 1,
       "P1 is asked to receive P2: renegotiate 1/1");
    client_answer(&c2, sig(c2.conn, "answer", 0));

    /* the same offer again: no second renegotiate for the same counts */
    clear();
    offer(c2.conn, sdp2);
    is_int(count_sig(c2.conn, "renegotiate"), 0,
           "same counts are never asked twice");
    is_int(count_sig(c1.conn, "renegotiate"), 0,
           "nothing changed for P1");

    /* both renegotiate with receiving lines */
    both[0].ssrc = c1.a_ssrc;
    both[1].ssrc = c1.v_ssrc;
    gen_offer(sdp1, c1.ufrag, c1.fp, 4, 96, both, 4);
    clear();
    offer(c1.conn, sdp1);
    ans = sig(c1.conn, "answer", 0);
    ok(stream_of(ans, "2", &kind) != NULL
       && strcmp(stream_of(ans, "2", NULL), c2.id) == 0
       && strcmp(kind, "audio") == 0, "P1 mid 2 carries P2's audio");
    ok(stream_of(ans, "3", &kind) != NULL
       && strcmp(stream_of(ans, "3", NULL), c2.id) == 0
       && strcmp(kind, "video") == 0, "P1 mid 3 carries P2's video");
    is_int(count_sig(c1.conn, "renegotiate"), 0, "P1 has what it needs");
    is_int(count_sig(c2.conn, "renegotiate"), 0,
           "P1's streams did not change: P2 not asked");

    both[0].ssrc = c2.a_ssrc;
    both[1].ssrc = c2.v_ssrc;
    gen_offer(sdp2, c2.ufrag, c2.fp, 9, 100, both, 4);
    clear();
    offer(c2.conn, sdp2);
    ans = sig(c2.conn, "answer", 0);
    answer_sdp(ans);
    a_mid = "2";
    v_mid = "3";
    is_str(stream_of(ans, v_mid, NULL), c1.id, "P2 mid 3 carries P1's video");
    a_out = answer_ssrc(a_mid);
    v_out = answer_ssrc(v_mid);
    ok(a_out != 0 && v_out != 0 && a_out != v_out,
       "P2's answer announces two SSRCs");

    /* P2's video line offers RTX (101, apt=100): our resends get an SSRC */
    vi = rooms_sdp_find_mid(&parsed, v_mid);
    v_rtx = 0;
    ok(vi >= 0 && parsed.media[vi].nfids == 1
       && parsed.media[vi].fids[0].primary == v_out
       && (v_rtx = parsed.media[vi].fids[0].rtx) != 0
       && v_rtx != v_out && v_rtx != a_out,
       "P2's video line: a=ssrc-group:FID with its SSRC and an RTX SSRC");
    ok(vi >= 0 && parsed.media[vi].nssrcs == 2
       && parsed.media[vi].ssrcs[1].ssrc == v_rtx,
       "and an a=ssrc line for the RTX SSRC");
    ok(vi >= 0 && rooms_sdp_find_codec(&parsed.media[vi], 101) != NULL
       && rooms_sdp_find_codec(&parsed.media[vi], 101)->apt == 100,
       "the answer keeps rtx 101 with apt=100");
    vi = rooms_sdp_find_mid(&parsed, a_mid);
    ok(vi >= 0 && parsed.media[vi].nfids == 0
       && parsed.media[vi].nssrcs == 1, "audio has no RTX");

    /* renegotiation keeps the binding and its SSRC */
    clear();
    offer(c2.conn, sdp2);
    answer_sdp(sig(c2.conn, "answer", 0));
    vi = rooms_sdp_find_mid(&parsed, v_mid);
    ok(answer_ssrc(v_mid) == v_out && answer_ssrc(a_mid) == a_out
       && vi >= 0 && parsed.media[vi].nfids == 1
       && parsed.media[vi].fids[0].rtx == v_rtx,
       "bindings, SSRCs and the RTX SSRC are stable across offers");

    /* media state */
    clear();
    record(ROOMS_PROTO_SIGNAL, c1.conn,
           "{\"type\":\"media\",\"audio\":false,\"video\":true}");
    m = sig(c2.conn, "participant_media", 0);
    ok(m != NULL && strcmp(str(m, "id"), c1.id) == 0 && !boolean(m, "audio")
       && boolean(m, "video"), "participant_media to P2: audio off");
    is_int(count_sig(c1.conn, "participant_media"), 0,
           "not echoed to P1");

    /* ICE */
    ok(client_ice(&c1), "P1: STUN check answered with integrity");
    ok(client_ice(&c2), "P2: STUN check answered with integrity");

    /* DTLS: P1 first, then P2, whose subscription triggers a PLI */
    ok(client_dtls(&c1), "P1: DTLS done, SRTP keys");
    clear();
    ok(client_dtls(&c2), "P2: DTLS done, SRTP keys");

    /* the last server flight of P2 went out with the PLI to P1 */
    pli = 0;
    fb1 = 0;
    n = received(&c1, got, 1);
    off = 0;

    if (n > 0 && rooms_rtcp_next(got, n, &off, &h) == ROOMS_RTCP_OK
        && rooms_rtcp_fb_parse(&h, &fb) == 0 && rooms_rtcp_is_pli(&fb)
        && fb.media_ssrc == c1.v_ssrc)
    {
        pli = 1;
        fb1 = fb.sender_ssrc;
    }

    ok(pli, "P2's subscription made a PLI to P1's video SSRC");

    /* P1 publishes a video packet */
    len = rtp_packet(pkt, 96, 1000, 5000, c1.v_ssrc, "1", 0);
    rooms_srtp_protect(&c1.srtp, pkt, &len);
    clear();
    udp(&c1, pkt, len);
    is_int(to_client(&c2, 0), 1, "one datagram to P2");
    is_int(to_client(&c1, 0), 0, "none back to P1");
    n = received(&c2, got, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0,
       "P2 unprotects an RTP packet");
    is_int(r.ssrc, v_out, "SSRC is the one P2's answer announced");
    is_int(r.pt, 100, "payload type is P2's VP8");
    ok(rooms_rtp_ext_find(&r, 9, &v, &len) == 0 && len == 1
       && v[0] == '3', "mid extension has P2's id and P2's mid");
    ok(rooms_rtp_ext_find(&r, 4, &v, &len) != 0,
       "no element under P1's mid id");
    ok(rooms_rtp_ext_find(&r, 2, &v, &len) == 0 && len == 3
       && v[0] == 0xab && v[2] == 0xef, "abs-send-time copied");
    ok(rooms_rtp_ext_find(&r, 3, &v, &len) == 0 && len == 2
       && !(v[0] == 0x00 && v[1] == 0x07),
       "transport-wide-cc is ours (P2's transport number), not P1's 7");
    is_int(sfu_stats(sfu)->twcc_received, 0, "no feedback from P2 yet");
    ok(r.payload_len == 18
       && memcmp(got + r.payload_off, "\x10\x00\x9d\x01\x2apayload-bytes",
                 18) == 0, "payload intact");
    out_seq = r.seq;
    out_ts = r.ts;

    /* and the next one continues the sequence */
    len = rtp_packet(pkt, 96, 1001, 8000, c1.v_ssrc, "1", 0);
    rooms_srtp_protect(&c1.srtp, pkt, &len);
    clear();
    udp(&c1, pkt, len);
    n = received(&c2, got, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0
       && r.seq == (uint16_t) (out_seq + 1) && r.ts == out_ts + 3000,
       "next packet: seq + 1, ts + 3000 as the publisher's");

    /*
     * The publisher's RTX (its FID SSRC, payload type 97) of a packet the
     * worker never NACKed (1003, first in its payload): a probe's copy,
     * which nobody needs: it goes nowhere.  (A repair of a NACKed one
     * goes on as the packet: the browser tests count them.)
     */
    len = rtp_packet(pkt, 97, 1, 8000, c1.v_ssrc + 1, "1", 0);
    n = (size_t) (len - 18);                 /* the payload's offset */
    pkt[n] = 0x03;
    pkt[n + 1] = 0xeb;                       /* 1003 */
    rooms_srtp_protect(&c1.srtp, pkt, &len);
    clear();
    udp(&c1, pkt, len);
    is_int(nwire, 0, "an RTX the worker did not ask for is dropped");
    is_int(sfu_stats(sfu)->rtx_received, 0, "and no repair counted");

    /* audio carries the level */
    len = rtp_packet(pkt, 111, 77, 960, c1.a_ssrc, "0", 1);
    rooms_srtp_protect(&c1.srtp, pkt, &len);
    clear();
    udp(&c1, pkt, len);
    n = received(&c2, got, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0 && r.ssrc == a_out
       && r.pt == 111, "audio reaches P2 on its audio SSRC");
    ok(rooms_rtp_ext_find(&r, 1, &v, &len) == 0 && len == 1 && v[0] == 0x85,
       "audio level copied");
    ok(rooms_rtp_ext_find(&r, 9, &v, &len) == 0 && len == 1 && v[0] == '2',
       "audio mid is P2's mid 2");

    /*
     * A video packet (with the marker) is lost on the way to P2, which
     * NACKs it and the first one; P2 negotiated RTX, so both come back as
     * RTX packets (RFC 4588): P2's RTX payload type and SSRC, their own
     * sequence, the original timestamp and marker, the original sequence
     * number P2 saw, then the payload.  (P2 never unprotects the lost
     * one: RTX is another SSRC, but the test keeps that out of doubt.)
     */
    len = rtp_packet(pkt, 96, 1002, 11000, c1.v_ssrc, "1", 0);
    pkt[1] |= 0x80;
    rooms_srtp_protect(&c1.srtp, pkt, &len);
    clear();
    udp(&c1, pkt, len);
    is_int(to_client(&c2, 0), 1, "packet 1002 went to P2 (and is lost)");
    lost2[0] = out_seq;
    lost2[1] = (uint16_t) (out_seq + 2);
    len = rooms_rtcp_build_nack(pkt, sizeof(pkt), 0x99, v_out, lost2, 2);
    rooms_srtp_protect_rtcp(&c2.srtp, pkt, &len);
    clear();
    udp(&c2, pkt, len);
    is_int(to_client(&c2, 0), 2, "NACK of two: two packets to P2");
    n = received_nth(&c2, 0, got, 0);
    len = received_nth(&c2, 1, got2, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0
       && len > 0 && rooms_rtp_parse(got2, len, &r2) == 0,
       "P2 unprotects both");
    ok(r.pt == 101 && r2.pt == 101, "payload type is P2's RTX (101)");
    ok(r.ssrc == v_rtx && r2.ssrc == v_rtx,
       "SSRC is the RTX SSRC of P2's answer");
    is_int(r2.seq, (uint16_t) (r.seq + 1), "RTX has its own sequence, + 1");
    ok(r.ts == out_ts && r2.ts == out_ts + 6000,
       "RTX keeps the original timestamps");
    ok(!r.marker && r2.marker, "RTX keeps the original marker");
    ok(r.payload_len == 20 && got[r.payload_off] == (uint8_t) (out_seq >> 8)
       && got[r.payload_off + 1] == (uint8_t) out_seq,
       "RTX payload starts with the OSN of the first");
    ok(r2.payload_len == 20
       && got2[r2.payload_off] == (uint8_t) (lost2[1] >> 8)
       && got2[r2.payload_off + 1] == (uint8_t) lost2[1],
       "and of the second");
    ok(memcmp(got2 + r2.payload_off + 2, "\x10\x00\x9d\x01\x2apayload-bytes",
              18) == 0, "then the original payload");
    ok(rooms_rtp_ext_find(&r2, 9, &v, &n) == 0 && n == 1 && v[0] == '3',
       "RTX carries P2's mid");
    ok(rooms_rtp_ext_find(&r2, 2, &v, &n) != 0,
       "and no stale abs-send-time");
    is_int(sfu_stats(sfu)->nack_resent, 2, "two resends counted");
    is_int(sfu_stats(sfu)->rtx_sent, 2, "both as RTX");

    /* a NACK for something never sent resends nothing */
    lost = (uint16_t) (out_seq + 100);
    len = rooms_rtcp_build_nack(pkt, sizeof(pkt), 0x99, v_out, &lost, 1);
    rooms_srtp_protect_rtcp(&c2.srtp, pkt, &len);
    clear();
    udp(&c2, pkt, len);
    is_int(nwire, 0, "NACK of an unknown seq: nothing");

    /*
     * Receiver reports.  Both sessions connected at t0 = now, so their
     * first report is due within 0.5 to 1.5 s.  P1's video so far: 1000,
     * 1001, 1002; now 1005 and 1006 (1003 and 1004 skipped), its audio
     * sent 77.  P2's video crosses the wrap with 1 skipped, one frame
     * arriving 10 ms late: frames are 2970 ticks (33 ms) apart.
     */
    t0 = now;
    send_video(&c1, 96, 1005, 20000, "1");
    send_video(&c1, 96, 1006, 23000, "1");

    for (i = 0; i < 5; i++) {
        now = t0 + w_ms[i];
        send_video(&c2, 100, w_seq[i], 500000 + 2970 * (uint32_t) i, "1");
    }

    /* the jitter A.8 gives for that: transits 0, 0, 0, 900, 0 ticks */
    jit = 0;
    jit += (0 - jit) / 16;
    jit += (0 - jit) / 16;
    jit += (900 - jit) / 16;
    jit += (900 - jit) / 16;

    now = t0 + 400;
    clear();
    next = sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    {
        int                   k, nfb, nrr, nst, nnack, e;
        size_t                m, off;
        unsigned              d;
        uint8_t               buf[1600];
        uint16_t              asked[8];
        client_t             *cs[2];
        rooms_rtcp_fb_t       nfb_fb;
        rooms_rtcp_hdr_t      h;
        rooms_twcc_info_t     info;
        rooms_twcc_status_t   st[16];

        /*
         * what did go: transport feedback, one to each publisher, about
         * the transport-wide sequence number its packets carried (7);
         * and the gaps of both (P1's 1003 and 1004, P2's one before the
         * wrap), NACKed at once, asked again (sfu_nack.c): no repair came
         * within the repair time (100 ms before any was timed)
         */
        cs[0] = &c1;
        cs[1] = &c2;
        nfb = 0;
        nrr = 0;
        nst = 0;
        nnack = 0;
        asked[0] = asked[1] = 0;

        for (k = 0; k < 2; k++) {
            for (d = 0; (m = received_nth(cs[k], d, buf, 1)) > 0; d++) {
                off = 0;

                if (rooms_rtcp_next(buf, m, &off, &h) != ROOMS_RTCP_OK) {
                    continue;
                }

                if (h.pt == ROOMS_RTCP_RR) {
                    nrr++;
                }

                if (h.pt == ROOMS_RTCP_RTPFB
                    && h.count == ROOMS_RTCP_FMT_NACK
                    && rooms_rtcp_fb_parse(&h, &nfb_fb) == 0)
                {
                    nnack++;

                    if (k == 0 && nfb_fb.media_ssrc == c1.v_ssrc) {
                        e = rooms_rtcp_nack_expand(&nfb_fb, asked, 8);
                        asked[0] = e == 2 ? asked[0] : 0;
                    }
                }

                if (rooms_twcc_parse_packet(buf, m, &info, st, 16) == 1
                    && st[0].seq == 7
                    && st[0].status != ROOMS_TWCC_NOT_RECEIVED
                    && info.media_ssrc != 0)
                {
                    nfb++;
                    nst += (int) info.status_count;
                }
            }
        }

        is_int(nrr, 0, "no receiver report before 0.5 s");
        is_int(nfb, 2, "transport feedback went to each publisher, about "
               "seq 7, received (%d statuses)", nst);
        is_int(nnack, 2, "and each one's gap, asked for again");
        ok(asked[0] == 1003 && asked[1] == 1004,
           "P1's: 1003 and 1004 (%u %u)", asked[0], asked[1]);
        is_int(to_client(&c1, 0) + to_client(&c2, 0), 4,
               "and nothing else");
    }
    ok(next >= t0 + 500 && next <= t0 + 1500,
       "sfu_poll wants to run again when the first report is due");

    now = t0 + 1500;
    clear();
    next = sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(to_client(&c1, 0), 1, "after 1.5 s: one datagram to P1");
    is_int(to_client(&c2, 0), 1, "and one to P2");
    ok(rr_to(&c1, &rr), "P1 unprotects an SRTCP compound: RR, then SDES "
       "CNAME");
    is_int(rr.ssrc, fb1, "sent from the session's SSRC (as its PLIs)");
    is_int(rr.report_count, 2, "a block for P1's audio and video");
    rb = rb_of(&rr, c1.v_ssrc);
    ok(rb != NULL, "a block about P1's video SSRC");
    is_int(rb ? rb->highest_seq : 0, 1006, "extended highest seq 1006");
    is_int(rb ? rb->cumulative_lost : -1, 2,
           "cumulative lost 2 (1003 and 1004)");
    is_int(rb ? rb->fraction_lost : 0, 2 * 256 / 7,
           "fraction lost 2 of 7 expected, * 256");
    ok(rb && rb->lsr == 0 && rb->dlsr == 0, "no SR yet: LSR and DLSR 0");
    rb = rb_of(&rr, c1.a_ssrc);
    ok(rb && rb->highest_seq == 77 && rb->cumulative_lost == 0
       && rb->fraction_lost == 0, "audio: highest 77, nothing lost");

    ok(rr_to(&c2, &rr), "P2 gets its RR");
    ok(rr.ssrc != fb1, "from its own session's SSRC");
    is_int(rr.report_count, 1, "one block: P2 sent no audio");
    rb = rb_of(&rr, c2.v_ssrc);
    is_int(rb ? rb->highest_seq : 0, 65536 + 2,
           "extended highest seq counts the wrap: 65538");
    is_int(rb ? rb->cumulative_lost : -1, 1, "cumulative lost 1");
    is_int(rb ? rb->fraction_lost : 0, 256 / 6, "fraction lost 1 of 6");
    ok(rb && (double) rb->jitter >= jit - 1 && (double) rb->jitter <= jit + 1,
       "jitter %u ticks, as A.8 gives (%.2f)", rb ? rb->jitter : 0, jit);
    ok(next >= now + 500 && next <= now + 1500,
       "the next report in 0.5 to 1.5 s");
    is_int(sfu_stats(sfu)->rr_sent, 2, "two reports counted");

    clear();
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(nwire, 0, "nothing more at the same time");

    /*
     * P1 sends an SR for its video; 250 ms later 1007, 1008 and 1010.
     * The next report carries the SR's middle NTP bits as LSR and the
     * time since as DLSR, and the new interval's loss.
     */
    t_sr = now;
    len = sr_packet(pkt, c1.v_ssrc, 0x12345678, 0x9abcdef0);
    rooms_srtp_protect_rtcp(&c1.srtp, pkt, &len);
    clear();
    udp(&c1, pkt, len);
    is_int(nwire, 0, "an SR is taken in silently");

    now += 250;
    send_video(&c1, 96, 1007, 26000, "1");
    send_video(&c1, 96, 1008, 29000, "1");
    send_video(&c1, 96, 1010, 35000, "1");

    /* both reports were due by 1.5 s after the last ones */
    now = t_sr + 1500;
    clear();
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(to_client(&c2, 0), 0, "P2 sent nothing since: no RR to it");
    ok(rr_to(&c1, &rr), "P1's second RR");
    is_int(rr.report_count, 1, "only the video block: no audio since");
    rb = rb_of(&rr, c1.v_ssrc);
    is_int(rb ? rb->highest_seq : 0, 1010, "extended highest seq 1010");
    is_int(rb ? rb->cumulative_lost : -1, 3, "cumulative lost 3");
    is_int(rb ? rb->fraction_lost : 0, 64,
           "fraction lost of the interval: 1 of 4");
    is_int(rb ? rb->lsr : 0, 0x56789abc, "LSR: the SR's middle NTP bits");
    arrive = (now - t_sr) * 65536 / 1000;
    ok(rb && rb->dlsr + 1 >= arrive && rb->dlsr <= arrive + 1,
       "DLSR %u: %llu ms since the SR, in 1/65536 s", rb ? rb->dlsr : 0,
       (unsigned long long) (now - t_sr));

    /* P2's PLI reaches P1, after the throttle */
    now += 600;
    len = rooms_rtcp_build_pli(pkt, sizeof(pkt), 0x99, v_out);
    rooms_srtp_protect_rtcp(&c2.srtp, pkt, &len);
    clear();
    udp(&c2, pkt, len);
    n = received(&c1, got, 1);
    off = 0;
    ok(n > 0 && rooms_rtcp_next(got, n, &off, &h) == ROOMS_RTCP_OK
       && rooms_rtcp_fb_parse(&h, &fb) == 0 && rooms_rtcp_is_pli(&fb)
       && fb.media_ssrc == c1.v_ssrc, "P2's PLI relayed to P1");

    len = rooms_rtcp_build_pli(pkt, sizeof(pkt), 0x99, v_out);
    rooms_srtp_protect_rtcp(&c2.srtp, pkt, &len);
    clear();
    udp(&c2, pkt, len);
    is_int(to_client(&c1, 0), 0, "a second PLI within 500 ms is held");
    now += 600;
    clear();
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(to_client(&c1, 0), 1, "and sent by sfu_poll when allowed");

    /* a forged packet is refused */
    len = rtp_packet(pkt, 96, 1003, 9000, c1.v_ssrc, "1", 0);
    rooms_srtp_protect(&c1.srtp, pkt, &len);
    pkt[len - 1] ^= 1;
    clear();
    udp(&c1, pkt, len);
    is_int(nwire, 0, "a forged SRTP packet is dropped");

    /*
     * P3 receives without RTX in its offer: no FID in its answer, and a
     * NACK gets the packet resent as it was.
     */
    client_new(&c3, ROOMS_PROTO_CONN(3, 3), "cli3", 50003, 3333000);
    clear();
    join(c3.conn, 20, 3, "Three");
    ok(sig(c3.conn, "welcome", 0) != NULL, "P3 joins");
    gen_offer_rtx(sdp3, c3.ufrag, c3.fp, 5, 98, recv, 2, 0);
    clear();
    offer(c3.conn, sdp3);
    ans = sig(c3.conn, "answer", 0);
    client_answer(&c3, ans);
    is_str(stream_of(ans, "1", NULL), c1.id, "P3 mid 1 carries P1's video");
    v_out3 = answer_ssrc("1");
    vi = rooms_sdp_find_mid(&parsed, "1");
    ok(v_out3 != 0 && vi >= 0 && parsed.media[vi].nfids == 0
       && parsed.media[vi].nssrcs == 1, "no RTX offered: no FID, one SSRC");
    ok(client_ice(&c3), "P3: STUN check answered");
    ok(client_dtls(&c3), "P3: DTLS done");

    send_video(&c1, 96, 1011, 38000, "1");
    n = received(&c3, got, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0 && r.ssrc == v_out3
       && r.pt == 98, "P3 gets P1's video");
    seq3 = r.seq;

    send_video(&c1, 96, 1012, 41000, "1");
    is_int(to_client(&c3, 0), 1, "1012 went to P3 (and is lost)");
    n = received(&c2, got, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0 && r.ssrc == v_out
       && (uint16_t) (r.seq - seq3) != 1,
       "and to P2, in P2's own numbers (another rewrite than P3's)");
    seq2 = r.seq;
    lost = (uint16_t) (seq3 + 1);
    len = rooms_rtcp_build_nack(pkt, sizeof(pkt), 0x98, v_out3, &lost, 1);
    rooms_srtp_protect_rtcp(&c3.srtp, pkt, &len);
    clear();
    udp(&c3, pkt, len);
    n = received(&c3, got, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0 && r.seq == lost
       && r.ssrc == v_out3 && r.pt == 98,
       "NACK answered from the history: same seq, SSRC and payload type");
    ok(r.payload_len == 18
       && memcmp(got + r.payload_off, "\x10\x00\x9d\x01\x2apayload-bytes",
                 18) == 0, "the original payload, no OSN");
    is_int(sfu_stats(sfu)->rtx_sent, 2, "not counted as RTX");

    /*
     * One history of P1's video serves both: P2 NACKs the same packet in
     * its numbers, and gets it as its RTX, with its SSRC and OSN.
     */
    lost = seq2;
    len = rooms_rtcp_build_nack(pkt, sizeof(pkt), 0x99, v_out, &lost, 1);
    rooms_srtp_protect_rtcp(&c2.srtp, pkt, &len);
    clear();
    udp(&c2, pkt, len);
    n = received(&c2, got, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0 && r.ssrc == v_rtx
       && r.pt == 101 && r.payload_len == 20
       && got[r.payload_off] == (uint8_t) (seq2 >> 8)
       && got[r.payload_off + 1] == (uint8_t) seq2
       && memcmp(got + r.payload_off + 2, "\x10\x00\x9d\x01\x2apayload-bytes",
                 18) == 0,
       "the same packet NACKed by P2: from the same history, as P2's RTX "
       "(its SSRC, its OSN %u, the payload)", (unsigned) seq2);
    is_int(sfu_stats(sfu)->rtx_sent, 3, "counted as RTX");

    /*
     * P3's one video line follows its view to P2: a streams message, a
     * PLI to P2, and P2's packets continue the line's stream (same SSRC,
     * the next seq); a NACK is answered for P2's packets (P2's history,
     * through the line's new rewrite), not for P1's from before the
     * switch (the keyframe the switch asked for repairs those).
     */
    now += 600;
    snprintf((char *) pkt, sizeof(pkt), "{\"type\":\"view\","
             "\"ids\":[\"%s\"]}", c2.id);
    clear();
    record(ROOMS_PROTO_SIGNAL, c3.conn, (const char *) pkt);
    m = sig(c3.conn, "streams", 0);
    is_str(stream_of(m, "1", NULL), c2.id, "view: P3 mid 1 now carries P2");
    n = received(&c2, got, 1);
    off = 0;
    ok(n > 0 && rooms_rtcp_next(got, n, &off, &h) == ROOMS_RTCP_OK
       && rooms_rtcp_fb_parse(&h, &fb) == 0 && rooms_rtcp_is_pli(&fb)
       && fb.media_ssrc == c2.v_ssrc, "and P2 is asked for a keyframe");

    send_video(&c2, 100, 7000, 123456, "1");
    n = received(&c3, got, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0 && r.ssrc == v_out3
       && r.seq == (uint16_t) (seq3 + 2) && r.pt == 98,
       "P2's video reaches P3 on the same SSRC, seq continuing");

    /* P1's packet seq3 (P3's SRTP refuses a replay, so count it sent) */
    lost = seq3;
    len = rooms_rtcp_build_nack(pkt, sizeof(pkt), 0x98, v_out3, &lost, 1);
    rooms_srtp_protect_rtcp(&c3.srtp, pkt, &len);
    k = (unsigned) sfu_stats(sfu)->nack_resent;
    clear();
    udp(&c3, pkt, len);
    ok(to_client(&c3, 0) == 0 && sfu_stats(sfu)->nack_resent == k,
       "a NACK from before the switch: not answered (another stream's)");

    lost = (uint16_t) (seq3 + 2);
    len = rooms_rtcp_build_nack(pkt, sizeof(pkt), 0x98, v_out3, &lost, 1);
    rooms_srtp_protect_rtcp(&c3.srtp, pkt, &len);
    clear();
    udp(&c3, pkt, len);
    ok(to_client(&c3, 0) == 1 && sfu_stats(sfu)->nack_resent == k + 1,
       "a NACK for P2's packet: answered from P2's history");

    /*
     * NACKs up to a publisher, asked again while the repair is late
     * (sfu_nack.c, nack.h), on the virtual clock.  P1's 1014 is lost on
     * its way to us: 1015 shows the gap and 1014 is NACKed at once.  P2,
     * which sees the same gap, NACKs it too: we asked just now, so that
     * asks nothing more.  No repair within the repair time (100 ms before
     * one was timed): sfu_poll asks again, not a millisecond sooner.  P1's
     * RTX of 1014 then reaches P2, once; a second copy goes nowhere and
     * nothing more is asked.
     */
    now += 2000;
    send_video(&c1, 96, 1013, 44000, "1");
    n = received(&c2, got, 0);
    ok(n > 0 && rooms_rtp_parse(got, n, &r) == 0 && r.ssrc == v_out,
       "P1's 1013 reaches P2");
    seq2 = r.seq;
    k = (unsigned) sfu_stats(sfu)->nack_sent;
    send_video(&c1, 96, 1015, 50000, "1");
    m_n = nacked_to(&c1, c1.v_ssrc, lost2, 2, NULL);
    ok(m_n == 1 && lost2[0] == 1014, "1015 after 1013: 1014 NACKed at once");
    is_int(sfu_stats(sfu)->nack_sent, k + 1, "one NACK counted");

    lost = (uint16_t) (seq2 + 1);
    len = rooms_rtcp_build_nack(pkt, sizeof(pkt), 0x99, v_out, &lost, 1);
    rooms_srtp_protect_rtcp(&c2.srtp, pkt, &len);
    clear();
    udp(&c2, pkt, len);
    is_int(nwire, 0, "P2's NACK of it, just after ours: nothing more asked");

    t_nack = now;
    now = t_nack + 99;
    clear();
    next = sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int((int) nacked_to(&c1, c1.v_ssrc, lost2, 2, NULL), 0,
           "99 ms later: not asked again yet");
    ok(next <= t_nack + 100, "sfu_poll wants to run again by 100 ms");

    now = t_nack + 100;
    k = (unsigned) sfu_stats(sfu)->nack_again;
    clear();
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    m_n = nacked_to(&c1, c1.v_ssrc, lost2, 2, NULL);
    ok(m_n == 1 && lost2[0] == 1014, "100 ms later: 1014 asked again");
    is_int(sfu_stats(sfu)->nack_again, k + 1, "counted as asked again");

    now += 30;
    send_rtx(&c1, 500, 1014, 47000);
    n = received(&c2, got, 0);
    ok(to_client(&c2, 0) == 1 && n > 0 && rooms_rtp_parse(got, n, &r) == 0
       && r.ssrc == v_out && r.seq == (uint16_t) (seq2 + 1),
       "P1's repair of 1014 reaches P2, in its place (seq %u)",
       (unsigned) r.seq);
    is_int(sfu_stats(sfu)->rtx_received, 1, "one repair counted");
    send_rtx(&c1, 501, 1014, 47000);
    is_int(nwire, 0, "a second copy of it goes nowhere");

    now += 1000;
    clear();
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int((int) nacked_to(&c1, c1.v_ssrc, lost2, 2, NULL), 0,
           "repaired: never asked again");

    /*
     * 1016 is never repaired: asked at once, then every repair time
     * (the repair above took two asks, so it timed nothing: still 100
     * ms), five asks in all.  A subscriber asking for it after that asks
     * nothing more.  Its repair is still wanted until the number is a
     * second old; then it is given up, and a repair goes nowhere.
     */
    send_video(&c1, 96, 1017, 56000, "1");
    m_n = nacked_to(&c1, c1.v_ssrc, lost2, 2, NULL);
    ok(m_n == 1 && lost2[0] == 1016, "1016 NACKed at once");
    t_nack = now;
    asks = 1;

    for (i = 1; i <= 9; i++) {
        now = t_nack + 100 * (uint64_t) i;
        clear();
        sfu_poll(sfu, now, &io);
        on_flush(NULL, &io);
        asks += (int) nacked_to(&c1, c1.v_ssrc, lost2, 2, NULL);
    }

    is_int(asks, ROOMS_NACK_TRIES, "asked %d times in 900 ms, no more",
           ROOMS_NACK_TRIES);
    lost = (uint16_t) (seq2 + 3);
    len = rooms_rtcp_build_nack(pkt, sizeof(pkt), 0x99, v_out, &lost, 1);
    rooms_srtp_protect_rtcp(&c2.srtp, pkt, &len);
    clear();
    udp(&c2, pkt, len);
    is_int((int) nacked_to(&c1, c1.v_ssrc, lost2, 2, NULL), 0,
           "P2 asking for it then asks nothing of P1");

    now = t_nack + ROOMS_NACK_AGE_MS;
    clear();
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int((int) nacked_to(&c1, c1.v_ssrc, lost2, 2, NULL), 0,
           "a second after its first ask it is given up");
    k = (unsigned) sfu_stats(sfu)->rtx_received;
    send_rtx(&c1, 502, 1016, 53000);
    is_int(to_client(&c2, 0), 0, "its repair after that goes nowhere");
    is_int(sfu_stats(sfu)->rtx_received, k, "and is not counted");

    /* 30 s of silence: both sessions time out, 4408 */
    now += 31000;
    clear();
    sfu_poll(sfu, now, &io);
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(close_code(c1.conn), 4408, "P1 timed out: CLOSE 4408");
    is_int(close_code(c2.conn), 4408, "P2 timed out: CLOSE 4408");
    is_int(close_code(c3.conn), 4408, "P3 timed out: CLOSE 4408");
    is_int(sfu_participants(sfu), 0, "all removed");

    clear();
    ok(sfu_poll(sfu, now, &io) == now + ROOMS_ROOM_LINGER_MS,
       "nobody left: no report is scheduled, only the idle room's end");
    now += ROOMS_ROOM_LINGER_MS;
    ok(sfu_poll(sfu, now, &io) == SFU_NEVER, "then nothing at all");
    is_int(sfu_idle_rooms(sfu), 0, "the idle room is freed");
    on_flush(NULL, &io);

    client_free(&c1);
    client_free(&c2);
    client_free(&c3);
}


/*
 * A newcomer's welcome says how many remote streams to receive; a first
 * offer without receiving lines gets renegotiate, one with them is
 * answered with every stream bound and no renegotiate.
 */
static void
test_newcomer(void)
{
    char        sdp[16384];
    json_t     *m;
    uint64_t    a, b, c, d;
    gen_line_t  pub[2] = { { 0, 1, 555 }, { 1, 1, 777 } };
    gen_line_t  all[8] = { { 0, 1, 558 }, { 1, 1, 780 },
                           { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 },
                           { 1, 0, 0 }, { 1, 0, 0 }, { 1, 0, 0 } };

    a = ROOMS_PROTO_CONN(4, 1);
    b = ROOMS_PROTO_CONN(4, 2);
    c = ROOMS_PROTO_CONN(5, 1);
    d = ROOMS_PROTO_CONN(5, 2);

    clear();
    join(a, 30, 50, "A");
    m = sig(a, "welcome", 0);
    ok(m != NULL && num(m, "audio") == 0 && num(m, "video") == 0,
       "the first one's welcome: nothing to receive (0/0)");
    join(b, 30, 50, "B");
    gen_offer(sdp, "ufa1", "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", 4, 96,
              pub, 2);
    offer(a, sdp);
    pub[0].ssrc = 556;
    pub[1].ssrc = 778;
    gen_offer(sdp, "ufb1", "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:98:"
              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", 4, 96,
              pub, 2);
    offer(b, sdp);

    clear();
    join(c, 30, 50, "C");
    m = sig(c, "welcome", 0);
    ok(m != NULL && num(m, "audio") == 2 && num(m, "video") == 2,
       "newcomer's welcome: receive 2/2 (A and B publish)");
    pub[0].ssrc = 557;
    pub[1].ssrc = 779;
    gen_offer(sdp, "ufc1", "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:97:"
              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", 4, 96,
              pub, 2);
    offer(c, sdp);
    m = sig(c, "renegotiate", 0);
    ok(m != NULL && num(m, "audio") == 2 && num(m, "video") == 2,
       "newcomer: renegotiate 2/2");
    m = sig(a, "renegotiate", 0);
    ok(m != NULL && num(m, "audio") == 2 && num(m, "video") == 2,
       "A asked 2/2 once C published");
    ok(sig(b, "renegotiate", 0) != NULL, "B asked too");

    /* D offers what its welcome said: everything bound at once */
    clear();
    join(d, 30, 50, "D");
    m = sig(d, "welcome", 0);
    ok(m != NULL && num(m, "audio") == 3 && num(m, "video") == 3,
       "D's welcome: receive 3/3");
    gen_offer(sdp, "ufd1", "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:96:"
              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", 4, 96,
              all, 8);
    offer(d, sdp);
    m = sig(d, "answer", 0);
    ok(m != NULL && json_object_size(json_object_get(m, "streams")) == 6,
       "D's first answer binds all 6 remote streams");
    is_int(count_sig(d, "renegotiate"), 0,
           "D's first offer had the lines: no renegotiate");
    ok(sig(a, "renegotiate", 0) != NULL, "A is asked to receive D");

    clear();
    sfu_drop_slot(sfu, 5, now, &io);
    on_flush(NULL, &io);
    ok(sig(a, "participant_left", 0) != NULL, "C and D gone");

    /* C again, on its own, for what follows */
    clear();
    join(c, 30, 50, "C");
    pub[0].ssrc = 559;
    pub[1].ssrc = 781;
    gen_offer(sdp, "ufc2", "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:95:"
              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", 4, 96,
              pub, 2);
    offer(c, sdp);

    /* C goes away with its nginx worker */
    clear();
    sfu_drop_slot(sfu, 5, now, &io);
    on_flush(NULL, &io);
    ok(sig(a, "participant_left", 0) != NULL
       && sig(b, "participant_left", 0) != NULL,
       "slot dropped: the others hear C left");
    m = sig(a, "renegotiate", 0);
    ok(m != NULL && num(m, "audio") == 1 && num(m, "video") == 1,
       "and renegotiate back to 1/1");
    is_int(sfu_participants(sfu), 2, "A and B remain");

    clear();
    sfu_drop_slot(sfu, 4, now, &io);
    on_flush(NULL, &io);
    is_int(sfu_participants(sfu), 0, "slot 4 dropped: nobody left");
    is_int(nrecs, 0, "nothing sent to a dropped slot");
}


/* The index of the first record of type to conn, or -1. */
static int
rec_index(uint16_t type, uint64_t conn)
{
    unsigned  i;

    for (i = 0; i < nrecs; i++) {
        if (recs[i].type == type && recs[i].id == conn) {
            return (int) i;
        }
    }

    return -1;
}


static void
host_says(uint64_t conn, const char *type, const char *id)
{
    char  buf[512];

    snprintf(buf, sizeof(buf), "{\"type\":\"%s\",\"id\":\"%s\"}", type, id);
    record(ROOMS_PROTO_SIGNAL, conn, buf);
}


/*
 * After a clear(), conn sends {type, id}: the code of the error it got,
 * or NULL.
 */
static const char *
refused(uint64_t conn, const char *type, const char *id)
{
    clear();
    host_says(conn, type, id);

    return str(sig(conn, "error", 0), "code");
}


static void
test_hosts(void)
{
    int          i, ban, err, cls;
    char         g1_id[16], g2_id[16], h_id[16], g4_id[16];
    json_t      *m, *list, *b;
    uint64_t     g1, g2, g3, g4, h, h2, bad;

    g1 = ROOMS_PROTO_CONN(7, 1);
    g2 = ROOMS_PROTO_CONN(8, 1);
    g3 = ROOMS_PROTO_CONN(7, 2);
    g4 = ROOMS_PROTO_CONN(7, 3);
    h = ROOMS_PROTO_CONN(8, 2);
    h2 = ROOMS_PROTO_CONN(8, 3);
    bad = ROOMS_PROTO_CONN(8, 4);

    /* a JOIN needs a role, a token hash and locked */
    clear();
    record(ROOMS_PROTO_JOIN, bad, "{\"room\":50,\"code\":\"c\",\"max\":3,"
           "\"name\":\"X\",\"token\":\"" TOKEN_A "\",\"locked\":false}");
    is_str(str(sig(bad, "error", 0), "code"), "bad_message",
           "a JOIN without a role: bad_message");
    is_int(close_code(bad), 4400, "and CLOSE 4400");
    clear();
    record(ROOMS_PROTO_JOIN, bad, "{\"room\":50,\"code\":\"c\",\"max\":3,"
           "\"name\":\"X\",\"role\":\"admin\",\"token\":\"" TOKEN_A "\","
           "\"locked\":false}");
    is_int(close_code(bad), 4400, "a JOIN with another role: refused");
    clear();
    record(ROOMS_PROTO_JOIN, bad, "{\"room\":50,\"code\":\"c\",\"max\":3,"
           "\"name\":\"X\",\"role\":\"guest\",\"token\":\"abc\","
           "\"locked\":false}");
    is_int(close_code(bad), 4400, "a JOIN with a short token: refused");
    is_int(sfu_rooms(sfu), 0, "no room was made by them");

    /* two guests fill the guests' max - 1 places */
    clear();
    join_as(g1, 50, 3, "G1", "guest", TOKEN_A, 0);
    m = sig(g1, "welcome", 0);
    is_str(str(m, "role"), "guest", "welcome: role guest");
    ok(json_is_false(json_object_get(m, "locked")), "welcome: locked false");
    ok(json_object_get(m, "guest_token") == NULL,
       "the worker never sends a guest token (nginx adds it)");
    snprintf(g1_id, sizeof(g1_id), "%s", str(m, "id"));

    clear();
    join_as(g2, 50, 3, "G2", "guest", TOKEN_B, 0);
    m = sig(g2, "welcome", 0);
    ok(m != NULL, "a second guest at max 3 is welcome");
    snprintf(g2_id, sizeof(g2_id), "%s", str(m, "id"));
    list = json_object_get(m, "participants");
    is_str(str(json_array_get(list, 0), "role"), "guest",
           "participants carry the role");
    m = sig(g1, "participant_joined", 0);
    is_str(str(m, "role"), "guest", "participant_joined carries the role");

    clear();
    join_as(g3, 50, 3, "G3", "guest", TOKEN_C, 0);
    is_str(str(sig(g3, "error", 0), "code"), "room_full",
           "a third guest at max 3: room_full (a place stays for a host)");
    is_int(close_code(g3), 4403, "and CLOSE 4403");
    ok(sig(g1, "participant_joined", 0) == NULL, "the others hear nothing");

    clear();
    join_as(h, 50, 3, "Host", "host", TOKEN_C, 0);
    m = sig(h, "welcome", 0);
    ok(m != NULL, "then a host is admitted");
    is_str(str(m, "role"), "host", "welcome: role host");
    snprintf(h_id, sizeof(h_id), "%s", str(m, "id"));
    is_int(json_array_size(json_object_get(m, "participants")), 2,
           "it sees the two guests");
    is_str(str(sig(g2, "participant_joined", 0), "role"), "host",
           "the guests see a host join");

    clear();
    join_as(h2, 50, 3, "Host2", "host", TOKEN_C, 0);
    is_str(str(sig(h2, "error", 0), "code"), "room_full",
           "a second host: room_full, the total is max");
    is_int(sfu_participants(sfu), 3, "three in the room");

    /* a guest's host actions */
    is_str(refused(g1, "remove", g2_id), "not_host",
           "remove from a guest: not_host");
    is_int(close_code(g1), -1, "its connection stays open");
    is_int(nrecs, 1, "and nothing else happens");
    is_str(refused(g1, "mute", h_id), "not_host",
           "mute from a guest: not_host");
    ok(sig(h, "mute_request", 0) == NULL, "nobody is asked to mute");
    is_int(sfu_participants(sfu), 3, "still three");

    /* unknown ids */
    is_str(refused(h, "remove", "nobody!!"), "no_such_participant",
           "remove of an unknown id: no_such_participant");
    is_int(close_code(h), -1, "the host stays");
    is_str(refused(h, "mute", "nobody!!"), "no_such_participant",
           "mute of an unknown id: no_such_participant");
    is_int(nrecs, 1, "nothing else");

    /* mute */
    clear();
    host_says(h, "mute", g1_id);
    ok(sig(g1, "mute_request", 0) != NULL, "mute: the target gets "
       "mute_request");
    is_int(nrecs, 1, "and only the target");

    /* remove */
    clear();
    host_says(h, "remove", g2_id);
    ban = rec_index(ROOMS_PROTO_BAN, g2);
    err = -1;
    for (i = 0; i < (int) nrecs; i++) {
        if (recs[i].type == ROOMS_PROTO_SIGNAL && recs[i].id == g2
            && strcmp(str(recs[i].json, "type"), "error") == 0)
        {
            err = i;
            break;
        }
    }
    cls = rec_index(ROOMS_PROTO_CLOSE, g2);
    ok(ban >= 0, "remove: a BAN record on the target's connection");
    b = ban >= 0 ? json_loads(recs[ban].data, 0, NULL) : NULL;
    is_int(num(b, "room"), 50, "BAN names the room");
    is_str(str(b, "token"), TOKEN_B, "and the target's token hash");
    json_decref(b);
    is_str(err >= 0 ? str(recs[err].json, "code") : NULL, "removed",
           "the target gets error removed");
    is_int(close_code(g2), 4403, "then CLOSE 4403");
    ok(ban >= 0 && ban < err && err < cls,
       "in this order: BAN, error, CLOSE (the ban is stored first)");
    is_str(str(sig(g1, "participant_left", 0), "id"), g2_id,
           "the others hear it left");
    ok(sig(h, "participant_left", 0) != NULL, "the host too");
    is_int(sfu_participants(sfu), 2, "two remain");
    clear();
    record(ROOMS_PROTO_LEAVE, g2, NULL);
    is_int(nrecs, 0, "the LEAVE nginx sends after the close: nothing more");

    /* a guest place is free again */
    clear();
    join_as(g4, 50, 3, "G4", "guest", TOKEN_C, 0);
    m = sig(g4, "welcome", 0);
    ok(m != NULL, "after the removal another guest fits");
    snprintf(g4_id, sizeof(g4_id), "%s", m ? str(m, "id") : "");

    /* ROOM: lock */
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":50,\"locked\":true}");
    for (i = 0; i < 3; i++) {
        uint64_t  c = i == 0 ? g1 : i == 1 ? g4 : h;

        m = sig(c, "room", 0);
        ok(m != NULL && json_is_true(json_object_get(m, "locked"))
           && json_object_size(m) == 2,
           "lock: {\"type\":\"room\",\"locked\":true} to participant %d", i);
    }
    is_int(nrecs, 3, "to each once");

    /* a host rejoining a locked room is told in its welcome */
    clear();
    record(ROOMS_PROTO_LEAVE, g4, NULL);
    clear();
    join_as(h2, 50, 3, "Host2", "host", TOKEN_C, 1);
    m = sig(h2, "welcome", 0);
    ok(json_is_true(json_object_get(m, "locked")), "welcome: locked true");
    is_str(str(m, "role"), "host", "a second host fits now");

    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":50,\"locked\":false}");
    ok(json_is_false(json_object_get(sig(g1, "room", 0), "locked")),
       "unlock reaches everyone too");
    is_int(nrecs, 3, "the three of them");

    /* ROOM about nobody's room, and a malformed one */
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":51,\"locked\":true}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":50,\"locked\":1}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":50}");
    record(ROOMS_PROTO_ROOM, 0, "[50]");
    is_int(nrecs, 0, "another room, and malformed ROOM records: nothing");

    /* ROOM: ended */
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":50,\"ended\":true}");
    for (i = 0; i < 3; i++) {
        uint64_t  c = i == 0 ? g1 : i == 1 ? h2 : h;

        is_str(str(sig(c, "error", 0), "code"), "room_ended",
               "end: room_ended to participant %d", i);
        is_int(close_code(c), 4403, "and CLOSE 4403");
    }
    is_int(sfu_participants(sfu), 0, "nobody is left");
    is_int(sfu_rooms(sfu), 0, "the room is gone");
}


/* ---- the lobby and the live count ---- */


static void
join_adm(uint64_t conn, int room, int max, const char *name,
    const char *role, const char *token, const char *admission)
{
    char  buf[512];

    snprintf(buf, sizeof(buf), "{\"room\":%d,\"code\":\"code%d\",\"max\":%d,"
             "\"name\":\"%s\",\"role\":\"%s\",\"token\":\"%s\","
             "\"locked\":false,\"admission\":\"%s\"}", room, room, max, name,
             role, token, admission);
    record(ROOMS_PROTO_JOIN, conn, buf);
}


/* How many records went to conn (of any type). */
static unsigned
count_to(uint64_t conn)
{
    unsigned  i, n;

    for (i = 0, n = 0; i < nrecs; i++) {
        n += recs[i].id == conn;
    }

    return n;
}


/* The records of type sent (COUNT: to any slot). */
static unsigned
count_type(uint16_t type)
{
    unsigned  i, n;

    for (i = 0, n = 0; i < nrecs; i++) {
        n += recs[i].type == type;
    }

    return n;
}


/*
 * 1 when each slot in mask got exactly one COUNT record, and the others
 * none: {"room": room, "code": "code<room>", "count": count}.
 */
static int
count_is(uint64_t mask, int room, int count)
{
    int        ok;
    char       code[32];
    json_t    *c;
    unsigned   i, slot, seen;

    snprintf(code, sizeof(code), "code%d", room);

    for (slot = 0; slot < 64; slot++) {
        seen = 0;

        for (i = 0; i < nrecs; i++) {
            if (recs[i].type != ROOMS_PROTO_COUNT
                || recs[i].id != ROOMS_PROTO_CONN(slot, 0))
            {
                continue;
            }

            c = json_loads(recs[i].data, 0, NULL);
            ok = num(c, "room") == room && num(c, "count") == count
                 && str(c, "code") != NULL && strcmp(str(c, "code"), code) == 0
                 && num(c, "seq") >= 1 && json_object_size(c) == 4;
            json_decref(c);

            if (!ok) {
                return 0;
            }

            seen++;
        }

        if (seen != ((mask >> slot) & 1)) {
            return 0;
        }
    }

    return 1;
}


/* What the COUNT records to slot said about room, in order: "1,0". */
static const char *
counts_to(unsigned slot, int room)
{
    size_t        n;
    json_t       *c;
    unsigned      i;
    static char   out[256];

    out[0] = '\0';
    n = 0;

    for (i = 0; i < nrecs && n + 16 < sizeof(out); i++) {
        if (recs[i].type != ROOMS_PROTO_COUNT
            || recs[i].id != ROOMS_PROTO_CONN(slot, 0))
        {
            continue;
        }

        c = json_loads(recs[i].data, 0, NULL);

        if (num(c, "room") == room) {
            n += (size_t) snprintf(out + n, sizeof(out) - n, "%s%lld",
                                   n ? "," : "", num(c, "count"));
        }

        json_decref(c);
    }

    return out;
}


static void
test_lobby(void)
{
    char       g1_id[16], g2_id[16], g3_id[16], g4_id[16], g5_id[16];
    char       g6_id[16], h_id[16], buf[256];
    json_t    *m, *list;
    unsigned   i;
    uint64_t   h, g1, g2, g3, g4, g5, g6, g7, bad, both, all3;
    uint64_t   h3, w[3];

    h = ROOMS_PROTO_CONN(9, 1);
    g1 = ROOMS_PROTO_CONN(9, 2);
    g2 = ROOMS_PROTO_CONN(9, 3);
    g3 = ROOMS_PROTO_CONN(9, 4);
    g4 = ROOMS_PROTO_CONN(9, 5);
    g5 = ROOMS_PROTO_CONN(9, 6);
    g6 = ROOMS_PROTO_CONN(9, 7);
    g7 = ROOMS_PROTO_CONN(9, 8);
    bad = ROOMS_PROTO_CONN(9, 9);
    both = (1ULL << 20) | (1ULL << 21);
    all3 = both | (1ULL << 22);

    /* two nginx workers linked: nothing to tell them yet */
    clear();
    sfu_slot_add(sfu, 20, &io);
    sfu_slot_add(sfu, 21, &io);
    is_int(count_type(ROOMS_PROTO_COUNT), 0,
           "slots linked while no room has people: no COUNT");
    is_int(count_type(ROOMS_PROTO_RESYNC), 2, "a RESYNC to each: every "
           "room nginx may think has people is empty");
    is_int(nrecs, 2, "and nothing else");

    /* a JOIN's admission is "open" or "knock" */
    clear();
    join_adm(bad, 60, 3, "X", "guest", TOKEN_A, "maybe");
    is_int(close_code(bad), 4400, "a JOIN with another admission: 4400");

    /* a guest knocks before any host is there */
    clear();
    join_adm(g1, 60, 3, "G1", "guest", TOKEN_A, "knock");
    m = sig(g1, "waiting", 0);
    ok(m != NULL && json_object_size(m) == 1,
       "a guest at a knock room's door: {\"type\":\"waiting\"}");
    ok(sig(g1, "welcome", 0) == NULL, "no welcome, no participant list");
    is_int(nrecs, 1, "and nothing else: no count, nobody told");
    is_int(sfu_waiting(sfu), 1, "one waiting");
    is_int(sfu_participants(sfu), 0, "nobody counted");
    is_int(sfu_rooms(sfu), 1, "the room exists for its lobby");

    /* the host comes: its welcome lists the lobby */
    clear();
    join_adm(h, 60, 3, "Host", "host", TOKEN_C, "knock");
    m = sig(h, "welcome", 0);
    ok(m != NULL, "a host never waits");
    snprintf(h_id, sizeof(h_id), "%s", m ? str(m, "id") : "");
    is_int(json_array_size(json_object_get(m, "participants")), 0,
           "the waiting guest is not among the participants");
    list = json_object_get(m, "lobby");
    is_int(json_array_size(list), 1, "welcome: lobby lists the waiting guest");
    is_str(str(json_array_get(list, 0), "name"), "G1", "by name");
    is_int(json_object_size(json_array_get(list, 0)), 2, "{id, name} only");
    snprintf(g1_id, sizeof(g1_id), "%s",
             str(json_array_get(list, 0), "id") ? str(json_array_get(list, 0),
                                                      "id") : "");
    is_int(count_to(g1), 0, "the waiting guest hears nothing of the host");
    ok(count_is(both, 60, 1), "COUNT 1 to both linked slots");

    /* another guest knocks: the host is told */
    clear();
    join_adm(g2, 60, 3, "G2", "guest", TOKEN_B, "knock");
    ok(sig(g2, "waiting", 0) != NULL, "a second guest waits");
    m = sig(h, "knock", 0);
    is_str(str(m, "name"), "G2", "the host gets knock with the name");
    ok(str(m, "id") != NULL && json_object_size(m) == 3,
       "and the id: {type, id, name}");
    snprintf(g2_id, sizeof(g2_id), "%s", str(m, "id") ? str(m, "id") : "");
    is_int(count_to(g1), 0, "the other waiting guest is not told");
    is_int(count_type(ROOMS_PROTO_COUNT), 0, "no COUNT: nobody came in");

    /* admit and deny are the host's */
    is_str(refused(g1, "admit", g1_id), "not_host",
           "a waiting guest's admit: not_host");
    is_int(nrecs, 1, "nothing else happens");
    is_int(sfu_waiting(sfu), 2, "both still wait");

    /* unknown ids */
    is_str(refused(h, "admit", "nobody!!"), "no_such_participant",
           "admit of an unknown id: no_such_participant");
    is_str(refused(h, "deny", h_id), "no_such_participant",
           "deny of someone in the room: no_such_participant");
    is_str(refused(h, "remove", g2_id), "no_such_participant",
           "remove names people in the room, not in the lobby");
    is_int(nrecs, 1, "nothing else");

    /* admit */
    clear();
    host_says(h, "admit", g1_id);
    m = sig(g1, "welcome", 0);
    ok(m != NULL, "admit: the guest gets the normal welcome");
    is_str(str(m, "id"), g1_id, "with the id it waited with");
    is_str(str(m, "role"), "guest", "role guest");
    ok(json_object_get(m, "lobby") == NULL, "a guest's welcome has no lobby");
    list = json_object_get(m, "participants");
    is_int(json_array_size(list), 1, "it sees who is in the room");
    is_str(str(json_array_get(list, 0), "id"), h_id, "the host");
    is_str(str(sig(h, "participant_joined", 0), "id"), g1_id,
           "the host sees it join");
    is_str(str(sig(h, "lobby_left", 0), "id"), g1_id,
           "and gets lobby_left");
    is_int(count_to(g2), 0, "the other waiting guest hears nothing");
    ok(count_is(both, 60, 2), "COUNT 2 to both slots");
    is_int(sfu_participants(sfu), 2, "two in the room");
    is_int(sfu_waiting(sfu), 1, "one waiting");

    is_str(refused(h, "admit", g1_id), "no_such_participant",
           "admitting it again: no_such_participant");

    /* deny */
    clear();
    host_says(h, "deny", g2_id);
    is_str(str(sig(g2, "error", 0), "code"), "denied",
           "deny: the guest gets error denied");
    is_int(close_code(g2), 4403, "and CLOSE 4403");
    ok(rec_index(ROOMS_PROTO_BAN, g2) < 0, "denial is no ban");
    is_str(str(sig(h, "lobby_left", 0), "id"), g2_id, "the host: lobby_left");
    is_int(count_to(g1), 0, "the guest in the room hears nothing");
    is_int(count_type(ROOMS_PROTO_COUNT), 0, "no COUNT");
    is_int(sfu_waiting(sfu), 0, "nobody waits");
    clear();
    record(ROOMS_PROTO_LEAVE, g2, NULL);
    is_int(nrecs, 0, "the LEAVE after the close: nothing more");

    /* a waiting guest goes away */
    clear();
    join_adm(g3, 60, 3, "G3", "guest", TOKEN_C, "knock");
    snprintf(g3_id, sizeof(g3_id), "%s",
             str(sig(h, "knock", 0), "id") ? str(sig(h, "knock", 0), "id")
                                           : "");
    clear();
    record(ROOMS_PROTO_LEAVE, g3, NULL);
    is_str(str(sig(h, "lobby_left", 0), "id"), g3_id,
           "a waiting guest's LEAVE: the host gets lobby_left");
    is_int(nrecs, 1, "and only that");

    /* a waiting guest's media is kept, an offer is refused */
    clear();
    join_adm(g6, 60, 3, "G6", "guest", TOKEN_A, "knock");
    snprintf(g6_id, sizeof(g6_id), "%s",
             str(sig(h, "knock", 0), "id") ? str(sig(h, "knock", 0), "id")
                                           : "");
    clear();
    record(ROOMS_PROTO_SIGNAL, g6,
           "{\"type\":\"media\",\"audio\":false,\"video\":true}");
    is_int(nrecs, 0, "a waiting guest's media: nobody is told");
    offer(g6, "v=0\r\n");
    is_str(str(sig(g6, "error", 0), "code"), "bad_message",
           "an offer before the welcome: bad_message");
    is_int(close_code(g6), 4400, "and CLOSE 4400");
    is_str(str(sig(h, "lobby_left", 0), "id"), g6_id,
           "the host gets lobby_left");

    /* the capacity rule at the admission (max 3: two guests at most) */
    clear();
    join_adm(g4, 60, 3, "G4", "guest", TOKEN_A, "knock");
    snprintf(g4_id, sizeof(g4_id), "%s",
             str(sig(h, "knock", 0), "id") ? str(sig(h, "knock", 0), "id")
                                           : "");
    join_adm(g5, 60, 3, "G5", "guest", TOKEN_B, "knock");
    ok(sig(g5, "waiting", 0) != NULL,
       "a knock waits even when the room would be full");
    snprintf(g5_id, sizeof(g5_id), "%s",
             str(sig(h, "knock", 1), "id") ? str(sig(h, "knock", 1), "id")
                                           : "");
    clear();
    host_says(h, "admit", g4_id);
    ok(sig(g4, "welcome", 0) != NULL, "a second guest is admitted");
    ok(count_is(both, 60, 3), "COUNT 3");
    clear();
    host_says(h, "admit", g5_id);
    is_str(str(sig(g5, "error", 0), "code"), "room_full",
           "a third guest at max 3: room_full at the admission");
    is_int(close_code(g5), 4403, "and CLOSE 4403");
    is_str(str(sig(h, "lobby_left", 0), "id"), g5_id,
           "the host: lobby_left");
    ok(sig(h, "participant_joined", 0) == NULL, "nobody joined");
    is_int(count_type(ROOMS_PROTO_COUNT), 0, "no COUNT");

    /* a newly linked nginx worker learns the counts there are */
    clear();
    sfu_slot_add(sfu, 22, &io);
    ok(count_is(1ULL << 22, 60, 3), "a new slot gets COUNT 3 for the room, "
       "and only it");
    is_int(nrecs, 2, "then one more record");
    ok(nrecs == 2 && recs[1].type == ROOMS_PROTO_RESYNC
       && recs[1].id == ROOMS_PROTO_CONN(22, 0),
       "a RESYNC, to that slot");
    {
        json_t  *a, *b;

        a = json_loads(recs[0].data, 0, NULL);
        b = nrecs == 2 ? json_loads(recs[1].data, 0, NULL) : NULL;
        ok(b != NULL && json_object_size(b) == 1
           && num(b, "seq") == num(a, "seq") - 1,
           "its seq is the one before the counts': those stay, older ones "
           "go to 0");
        json_decref(a);
        json_decref(b);
    }

    /* a leave: the count goes down, to every slot */
    clear();
    record(ROOMS_PROTO_LEAVE, g4, NULL);
    ok(count_is(all3, 60, 2), "a LEAVE: COUNT 2 to the three slots");
    clear();
    sfu_drop_slot(sfu, 22, now, &io);
    is_int(nrecs, 0, "dropping a slot nobody joined through sends nothing");
    join_adm(g4, 60, 3, "G4", "guest", TOKEN_A, "open");
    ok(sig(g4, "welcome", 0) != NULL, "a guest whose JOIN says open comes "
       "straight in");
    ok(count_is(both, 60, 3), "COUNT 3, not to the dropped slot");

    /* the end: waiting guests are closed too */
    clear();
    record(ROOMS_PROTO_LEAVE, g4, NULL);
    join_adm(g7, 60, 3, "G7", "guest", TOKEN_C, "knock");
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":60,\"ended\":true}");
    is_str(str(sig(g7, "error", 0), "code"), "room_ended",
           "end: the waiting guest gets room_ended");
    is_int(close_code(g7), 4403, "and CLOSE 4403");
    is_str(str(sig(h, "error", 0), "code"), "room_ended", "as does the host");
    is_str(str(sig(g1, "error", 0), "code"), "room_ended", "and the guest");
    ok(sig(h, "lobby_left", 0) == NULL, "nobody is told of the lobby");
    is_str(counts_to(20, 60), "1,0", "COUNT records down to 0");
    is_str(counts_to(21, 60), "1,0", "to both slots");
    is_int(count_type(ROOMS_PROTO_COUNT), 4, "and no other");
    is_int(sfu_rooms(sfu), 0, "the room is gone");
    is_int(sfu_waiting(sfu), 0, "nobody waits");
    is_int(sfu_participants(sfu), 0, "nobody is in");

    /* at most ROOMS_LOBBY_MAX wait */
    for (i = 0; i < 50; i++) {
        clear();
        snprintf(buf, sizeof(buf), "W%u", i);
        join_adm(ROOMS_PROTO_CONN(11, i + 1), 62, 50, buf, "guest", TOKEN_A,
                 "knock");
        if (sig(ROOMS_PROTO_CONN(11, i + 1), "waiting", 0) == NULL) {
            break;
        }
    }
    is_int(i, 50, "50 guests wait");
    clear();
    join_adm(ROOMS_PROTO_CONN(11, 51), 62, 50, "W50", "guest", TOKEN_A,
             "knock");
    is_str(str(sig(ROOMS_PROTO_CONN(11, 51), "error", 0), "code"),
           "lobby_full", "the 51st: lobby_full");
    is_int(close_code(ROOMS_PROTO_CONN(11, 51)), 4403, "and CLOSE 4403");
    is_int(sfu_waiting(sfu), 50, "50 wait");
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":62,\"ended\":true}");
    is_int(close_code(ROOMS_PROTO_CONN(11, 50)), 4403,
           "the room's end closes its lobby");
    is_int(count_type(ROOMS_PROTO_COUNT), 0, "a room nobody came in: no COUNT");
    is_int(sfu_rooms(sfu), 0, "and empties the room");

    /* ROOM records: malformed ones change nothing */
    clear();
    h3 = ROOMS_PROTO_CONN(12, 1);
    join_adm(h3, 63, 4, "Host3", "host", TOKEN_C, "knock");
    m = sig(h3, "welcome", 0);
    list = json_object_get(m, "lobby");
    ok(json_is_array(list) && json_array_size(list) == 0,
       "a host's welcome: an empty lobby when nobody waits");
    for (i = 0; i < 3; i++) {
        w[i] = ROOMS_PROTO_CONN(12, i + 2);
        snprintf(buf, sizeof(buf), "K%u", i);
        join_adm(w[i], 63, 4, buf, "guest", TOKEN_A, "knock");
    }
    is_int(count_sig(h3, "knock"), 3, "three knock");
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":63,\"admission\":\"maybe\"}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":63,\"admission\":true}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":63,\"max\":\"3\"}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":63,\"ended\":true,"
           "\"admission\":\"open\"}");
    is_int(nrecs, 0, "malformed ROOM records: nothing");
    is_int(sfu_waiting(sfu), 3, "the three still wait");

    /* a lower cap, then the switch to open: the rule applies to each */
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":63,\"max\":3}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":63,\"admission\":\"knock\"}");
    is_int(nrecs, 0, "a cap or knock: nobody is told");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":63,\"admission\":\"open\"}");
    ok(sig(w[0], "welcome", 0) != NULL && sig(w[1], "welcome", 0) != NULL,
       "admission open: the waiting guests are let in, in order");
    is_str(str(sig(w[2], "error", 0), "code"), "room_full",
           "but not past the cap of 3 (two guests): room_full");
    is_int(close_code(w[2]), 4403, "and CLOSE 4403");
    is_int(count_sig(h3, "lobby_left"), 3, "the host: lobby_left for each");
    is_int(count_sig(h3, "participant_joined"), 2,
           "and participant_joined for the two");
    is_int(count_sig(w[0], "participant_joined"), 1,
           "the first one sees the second join");
    is_str(counts_to(20, 63), "2,3", "COUNT 2, then 3");
    is_str(counts_to(21, 63), "2,3", "to both slots");
    is_int(count_type(ROOMS_PROTO_COUNT), 4, "and no other");
    is_int(sfu_waiting(sfu), 0, "nobody waits");
    is_int(sfu_participants(sfu), 3, "three in the room");

    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":63,\"ended\":true}");
    is_int(sfu_rooms(sfu), 0, "the end frees it");

    /* a guest alone at a cap of 1 is refused at the switch to open */
    clear();
    join_adm(g1, 64, 1, "Solo", "guest", TOKEN_A, "knock");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":64,\"admission\":\"open\"}");
    is_str(str(sig(g1, "error", 0), "code"), "room_full",
           "max 1 keeps its place for the host: room_full");
    is_int(sfu_rooms(sfu), 0, "and the room is freed");

    clear();
    sfu_drop_slot(sfu, 20, now, &io);
    sfu_drop_slot(sfu, 21, now, &io);
}


/* ---- co-hosts, revisions and the host-absent policy ---- */


/* A JOIN with the state fields given as JSON members ("max":5,...). */
static void
join_st(uint64_t conn, int room, const char *name, const char *role,
    const char *token, const char *state)
{
    char  buf[512];

    snprintf(buf, sizeof(buf), "{\"room\":%d,\"code\":\"code%d\","
             "\"name\":\"%s\",\"role\":\"%s\",\"token\":\"%s\",%s}", room,
             room, name, role, token, state);
    record(ROOMS_PROTO_JOIN, conn, buf);
}


/* The id of conn's welcome into out ("" without one). */
static void
welcome_id(uint64_t conn, char out[16])
{
    const char  *id;

    id = str(sig(conn, "welcome", 0), "id");
    snprintf(out, 16, "%s", id ? id : "");
}


/* The payload of the n-th record of type (any id), parsed; or NULL. */
static json_t *
rec_json(uint16_t type, unsigned nth, uint64_t *id)
{
    unsigned  i;

    for (i = 0; i < nrecs; i++) {
        if (recs[i].type == type && nth-- == 0) {
            if (id != NULL) {
                *id = recs[i].id;
            }
            return json_loads(recs[i].data, 0, NULL);
        }
    }

    return NULL;
}


static void
test_cohosts(void)
{
    char       h_id[16], g1_id[16], g2_id[16], g3_id[16], buf[64];
    char       w1_id[16], w2_id[16], ids[20][16];
    json_t    *m, *r;
    unsigned   i, n;
    uint64_t   h, g1, g2, g3, w1, w2, c3, id, x[20];

    h = ROOMS_PROTO_CONN(30, 1);
    g1 = ROOMS_PROTO_CONN(30, 2);
    g2 = ROOMS_PROTO_CONN(30, 3);
    g3 = ROOMS_PROTO_CONN(30, 4);
    w1 = ROOMS_PROTO_CONN(30, 5);
    w2 = ROOMS_PROTO_CONN(30, 6);
    c3 = ROOMS_PROTO_CONN(30, 7);

    clear();
    join_st(h, 70, "Host", "host", TOKEN_C,
            "\"max\":8,\"locked\":false");
    welcome_id(h, h_id);
    join_st(g1, 70, "G1", "guest", TOKEN_A, "\"max\":8,\"locked\":false");
    welcome_id(g1, g1_id);
    join_st(g2, 70, "G2", "guest", TOKEN_B, "\"max\":8,\"locked\":false");
    welcome_id(g2, g2_id);
    join_st(g3, 70, "G3", "guest", TOKEN_C, "\"max\":8,\"locked\":false");
    welcome_id(g3, g3_id);
    join_st(w1, 70, "W1", "guest", TOKEN_A,
            "\"max\":8,\"locked\":false,\"admission\":\"knock\"");
    join_st(w2, 70, "W2", "guest", TOKEN_B,
            "\"max\":8,\"locked\":false,\"admission\":\"knock\"");
    snprintf(w1_id, sizeof(w1_id), "%s", str(sig(h, "knock", 0), "id"));
    snprintf(w2_id, sizeof(w2_id), "%s", str(sig(h, "knock", 1), "id"));
    is_int(sfu_participants(sfu), 4, "cohosts: four in room 70");
    is_int(sfu_waiting(sfu), 2, "two waiting");

    /* only the host makes co-hosts */
    is_str(refused(g1, "cohost", g2_id), "not_host",
           "cohost from a guest: not_host");
    is_int(nrecs, 1, "nothing else");

    /* promote G1 */
    clear();
    host_says(h, "cohost", g1_id);
    n = 0;
    for (i = 0; i < 4; i++) {
        uint64_t  c = i == 0 ? h : i == 1 ? g1 : i == 2 ? g2 : g3;

        m = sig(c, "participant_role", 0);
        n += m != NULL && strcmp(str(m, "id"), g1_id) == 0
             && strcmp(str(m, "role"), "cohost") == 0
             && json_object_size(m) == 3
             && count_sig(c, "participant_role") == 1;
    }
    is_int(n, 4, "cohost: participant_role cohost to everyone, G1 too");
    is_int(count_to(w1) + count_to(w2), 0, "the waiting guests hear nothing");
    is_int(count_type(ROOMS_PROTO_ROLE), 1, "one ROLE record");
    r = rec_json(ROOMS_PROTO_ROLE, 0, &id);
    ok(id == g1, "on the new co-host's connection");
    is_int(num(r, "room"), 70, "ROLE: room");
    is_str(str(r, "role"), "cohost", "ROLE: role cohost");
    is_str(str(r, "token"), TOKEN_A, "ROLE: its token hash");
    is_str(str(r, "name"), "G1", "ROLE: its name");
    is_int(json_object_size(r), 4, "ROLE: those four");
    json_decref(r);
    is_int(count_sig(g1, "knock"), 2, "the new co-host gets a knock per "
           "waiting guest");
    is_str(str(sig(g1, "knock", 0), "id"), w1_id, "in knock order: W1");
    is_str(str(sig(g1, "knock", 1), "name"), "W2", "then W2, with names");

    clear();
    host_says(h, "cohost", g1_id);
    is_int(nrecs, 0, "cohost of a co-host: nothing");
    host_says(h, "cohost", h_id);
    is_str(str(sig(h, "error", 0), "code"), "not_host",
           "cohost of a host: not_host");
    is_str(refused(h, "uncohost", g2_id), "no_such_participant",
           "uncohost of a guest: no_such_participant");
    is_str(refused(h, "cohost", w1_id), "no_such_participant",
           "cohost of a waiting guest: no_such_participant");
    is_int(nrecs, 1, "nothing else");

    /* the co-host's powers */
    clear();
    host_says(g1, "mute", g3_id);
    ok(sig(g3, "mute_request", 0) != NULL, "a co-host mutes a guest");
    host_says(g1, "mute", h_id);
    ok(sig(h, "mute_request", 0) != NULL, "and may ask the host to mute");
    clear();
    host_says(g1, "admit", w1_id);
    ok(sig(w1, "welcome", 0) != NULL, "a co-host admits");
    ok(sig(h, "lobby_left", 0) != NULL && sig(g1, "lobby_left", 0) != NULL,
       "host and co-host get lobby_left");
    clear();
    host_says(g1, "deny", w2_id);
    is_str(str(sig(w2, "error", 0), "code"), "denied", "a co-host denies");
    is_str(refused(g1, "remove", h_id), "not_host",
           "a co-host removing the host: not_host");
    is_int(nrecs, 1, "nothing else happens");
    clear();
    host_says(h, "cohost", g2_id);
    is_str(refused(g1, "remove", g2_id), "not_host",
           "a co-host removing a co-host: not_host");
    is_int(nrecs, 1, "nothing else happens");
    is_str(refused(g1, "uncohost", g2_id), "not_host",
           "uncohost from a co-host: not_host");
    host_says(g1, "cohost", g3_id);
    is_str(str(sig(g1, "error", 1), "code"), "not_host",
           "cohost from a co-host: not_host");
    is_int(nrecs, 2, "nothing else");
    clear();
    host_says(g1, "remove", g3_id);
    ok(rec_index(ROOMS_PROTO_BAN, g3) >= 0, "a co-host removes a guest: BAN");
    is_int(close_code(g3), 4403, "and CLOSE 4403");

    /* a co-host by JOIN: past the lock, never waiting, sees the lobby */
    clear();
    join_st(w2, 70, "W2", "guest", TOKEN_B,
            "\"max\":8,\"locked\":false,\"admission\":\"knock\"");
    join_st(c3, 70, "C3", "cohost", TOKEN_C,
            "\"max\":8,\"locked\":true,\"admission\":\"knock\"");
    m = sig(c3, "welcome", 0);
    is_str(str(m, "role"), "cohost", "a cohost JOIN: welcome role cohost");
    is_int(json_array_size(json_object_get(m, "lobby")), 1,
           "past the lock, with the lobby in its welcome");
    is_str(str(sig(h, "participant_joined", 0), "role"), "cohost",
           "participant_joined: role cohost");
    clear();
    join_st(w2 + 101, 70, "W4", "guest", TOKEN_B,
            "\"max\":9,\"locked\":false,\"admission\":\"knock\"");
    ok(sig(c3, "knock", 0) != NULL, "a knock reaches a co-host by JOIN");
    record(ROOMS_PROTO_LEAVE, w2 + 101, NULL);

    /* uncohost */
    clear();
    host_says(h, "uncohost", g2_id);
    m = sig(g2, "participant_role", 0);
    is_str(str(m, "role"), "guest", "uncohost: participant_role guest");
    ok(sig(h, "participant_role", 0) != NULL
       && sig(c3, "participant_role", 0) != NULL, "to everyone");
    r = rec_json(ROOMS_PROTO_ROLE, 0, &id);
    ok(id == g2, "a ROLE record on its connection");
    is_str(str(r, "role"), "guest", "ROLE: role guest");
    is_str(str(r, "token"), TOKEN_B, "ROLE: its token hash");
    json_decref(r);

    /* a ROOM demote */
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":70,\"demote\":\"" TOKEN_A "\"}");
    is_str(str(sig(h, "participant_role", 0), "id"), g1_id,
           "ROOM demote: participant_role for G1");
    is_str(str(sig(g1, "participant_role", 0), "role"), "guest", "guest");
    r = rec_json(ROOMS_PROTO_ROLE, 0, &id);
    ok(id == g1 && r != NULL && strcmp(str(r, "role"), "guest") == 0,
       "and a ROLE guest record");
    json_decref(r);
    is_str(refused(g1, "mute", h_id), "not_host",
           "the demoted one is a guest");
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":70,\"demote\":\"" TOKEN_B "\"}");
    is_int(nrecs, 0, "a demote matching no co-host: nothing");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":70,\"demote\":\"abc\"}");
    is_int(nrecs, 0, "a malformed demote: nothing");

    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":70,\"ended\":true}");

    /* at most ROOMS_COHOSTS_MAX by promotion */
    clear();
    join_st(h, 71, "Host", "host", TOKEN_C, "\"max\":30,\"locked\":false");
    for (i = 0; i < 17; i++) {
        x[i] = ROOMS_PROTO_CONN(31, i + 1);
        snprintf(buf, sizeof(buf), "P%u", i);
        join_st(x[i], 71, buf, "guest", TOKEN_A,
                "\"max\":30,\"locked\":false");
        welcome_id(x[i], ids[i]);
    }
    clear();
    for (i = 0; i < 16; i++) {
        host_says(h, "cohost", ids[i]);
    }
    is_int(count_type(ROOMS_PROTO_ROLE), 16, "16 co-hosts made");
    clear();
    host_says(h, "cohost", ids[16]);
    is_str(str(sig(h, "error", 0), "code"), "too_many_cohosts",
           "a 17th: too_many_cohosts");
    is_int(nrecs, 1, "nothing else");
    clear();
    host_says(h, "uncohost", ids[0]);
    host_says(h, "cohost", ids[16]);
    is_int(count_type(ROOMS_PROTO_ROLE), 2, "after an uncohost it fits");
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":71,\"ended\":true}");

    /* capacity: co-hosts count as guests, one place stays for the host */
    clear();
    join_st(g1, 72, "C1", "cohost", TOKEN_A, "\"max\":3,\"locked\":false");
    join_st(g2, 72, "G2", "guest", TOKEN_B, "\"max\":3,\"locked\":false");
    join_st(g3, 72, "C2", "cohost", TOKEN_A, "\"max\":3,\"locked\":false");
    ok(sig(g1, "welcome", 0) != NULL && sig(g2, "welcome", 0) != NULL,
       "max 3: a co-host and a guest");
    is_str(str(sig(g3, "error", 0), "code"), "room_full",
           "a second co-host: room_full (co-hosts take guests' places)");
    join_st(h, 72, "Host", "host", TOKEN_C, "\"max\":3,\"locked\":false");
    ok(sig(h, "welcome", 0) != NULL, "the host's place was kept");
    clear();
    host_says(h, "cohost", str(sig(g1, "welcome", 0), "id"));
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":72,\"ended\":true}");
    is_int(sfu_participants(sfu), 0, "cohosts: nobody left");
    is_int(sfu_waiting(sfu), 0, "nobody waits");
}


static void
test_revisions(void)
{
    unsigned  idle;
    uint64_t  h, g, g2, g3;

    h = ROOMS_PROTO_CONN(34, 1);
    g = ROOMS_PROTO_CONN(34, 2);
    g2 = ROOMS_PROTO_CONN(34, 3);
    g3 = ROOMS_PROTO_CONN(34, 4);

    /* the rooms earlier tests left idle go once their linger is over */
    now += ROOMS_ROOM_LINGER_MS;
    sfu_poll(sfu, now, &io);
    idle = sfu_idle_rooms(sfu);
    is_int(idle, 0, "revisions: no idle room to begin with");

    /* ROOM validation */
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"rev\":\"5\",\"locked\":true}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"rev\":-1,\"locked\":true}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"host_absent\":\"maybe\"}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"demote\":7}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"rev\":5}");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"ended\":true,"
           "\"host_absent\":\"end\"}");
    is_int(nrecs, 0, "malformed ROOM records: nothing");
    is_int(sfu_idle_rooms(sfu), idle, "and no room state kept");

    /* a lock heard first, for a room nobody is in: it lingers */
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"rev\":5,\"locked\":true}");
    is_int(sfu_idle_rooms(sfu), idle + 1, "ROOM for an unknown room: its "
           "state is kept");
    clear();
    join_st(g, 80, "G", "guest", TOKEN_A,
            "\"rev\":4,\"max\":5,\"locked\":false");
    is_str(str(sig(g, "error", 0), "code"), "locked",
           "a JOIN of rev 4 after a lock of rev 5: locked");
    is_str(str(sig(g, "error", 0), "message"), "the host locked this room",
           "with its message");
    is_int(close_code(g), 4403, "and CLOSE 4403");
    clear();
    join_st(h, 80, "H", "host", TOKEN_C,
            "\"rev\":4,\"max\":5,\"locked\":false");
    ok(json_is_true(json_object_get(sig(h, "welcome", 0), "locked")),
       "a host gets in, told the room is locked");
    is_int(sfu_idle_rooms(sfu), idle, "the room is not idle any more");

    /* a stale ROOM changes nothing */
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"rev\":3,\"locked\":false}");
    is_int(nrecs, 0, "a ROOM of rev 3: nobody told");
    join_st(g, 80, "G", "guest", TOKEN_A,
            "\"rev\":4,\"max\":5,\"locked\":false");
    is_str(str(sig(g, "error", 0), "code"), "locked",
           "and the room stays locked");

    /* a newer JOIN sets the state */
    clear();
    join_st(g, 80, "G", "guest", TOKEN_A,
            "\"rev\":6,\"max\":5,\"locked\":false");
    ok(json_is_false(json_object_get(sig(g, "welcome", 0), "locked")),
       "a JOIN of rev 6, unlocked: welcome");
    clear();
    join_st(g2, 80, "G2", "guest", TOKEN_B,
            "\"rev\":5,\"max\":5,\"locked\":true");
    ok(sig(g2, "welcome", 0) != NULL, "a JOIN of rev 5 saying locked is "
       "judged by rev 6: welcome");
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"rev\":6,"
           "\"admission\":\"knock\"}");
    join_st(g3, 80, "G3", "guest", TOKEN_C,
            "\"rev\":5,\"max\":5,\"locked\":false,\"admission\":\"open\"");
    ok(sig(g3, "waiting", 0) != NULL, "knock of rev 6: a JOIN of rev 5 "
       "saying open waits");
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":80,\"rev\":7,\"locked\":true}");
    ok(json_object_size(sig(h, "room", 0)) == 2, "a ROOM lock without a "
       "reason: {type, locked}");

    /* everyone goes: the state lingers, then is freed */
    clear();
    record(ROOMS_PROTO_LEAVE, g3, NULL);
    record(ROOMS_PROTO_LEAVE, g2, NULL);
    record(ROOMS_PROTO_LEAVE, g, NULL);
    record(ROOMS_PROTO_LEAVE, h, NULL);
    is_int(sfu_idle_rooms(sfu), idle + 1, "an emptied room is idle");
    ok(sfu_poll(sfu, now, &io) <= now + ROOMS_ROOM_LINGER_MS,
       "sfu_poll wants to run by its linger's end");
    now += ROOMS_ROOM_LINGER_MS - 1;
    sfu_poll(sfu, now, &io);
    clear();
    join_st(g, 80, "G", "guest", TOKEN_A,
            "\"rev\":6,\"max\":5,\"locked\":false");
    is_str(str(sig(g, "error", 0), "code"), "locked",
           "within the linger a stale JOIN is refused locked");
    now += 1;
    sfu_poll(sfu, now, &io);
    is_int(sfu_idle_rooms(sfu), idle, "after the linger the room is freed");
    clear();
    join_st(g, 80, "G", "guest", TOKEN_A,
            "\"rev\":6,\"max\":5,\"locked\":false");
    ok(sig(g, "welcome", 0) != NULL, "then the JOIN is all there is");
    record(ROOMS_PROTO_LEAVE, g, NULL);

    /* an ended room lingers too */
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":81,\"rev\":2,\"ended\":true}");
    join_st(h, 81, "H", "host", TOKEN_C,
            "\"rev\":9,\"max\":5,\"locked\":false");
    is_str(str(sig(h, "error", 0), "code"), "room_ended",
           "a JOIN into a lingering ended room: room_ended");
    is_int(close_code(h), 4403, "and CLOSE 4403");

    now += ROOMS_ROOM_LINGER_MS;
    sfu_poll(sfu, now, &io);
    is_int(sfu_idle_rooms(sfu), 0, "revisions: no idle room is left");
}


/*
 * Host h (TOKEN_C) and guest g (TOKEN_A) join room, at rev, with the
 * host-absent policy and grace given.
 */
static void
pair_in(uint64_t h, uint64_t g, int room, const char *policy, int grace,
    int rev)
{
    char  state[256];

    snprintf(state, sizeof(state), "\"rev\":%d,\"max\":5,\"locked\":false,"
             "\"host_absent\":\"%s\",\"grace\":%d", rev, policy, grace);
    join_st(h, room, "H", "host", TOKEN_C, state);
    join_st(g, room, "G", "guest", TOKEN_A, state);
}


/* Runs sfu_poll() ms later: the HOST_ABSENT records since clear(). */
static unsigned
absent_after(uint64_t ms)
{
    now += ms;
    sfu_poll(sfu, now, &io);

    return count_type(ROOMS_PROTO_HOST_ABSENT);
}


static void
test_host_absent(void)
{
    json_t    *r, *m;
    uint64_t   h, g, c, h2, id, t0;

    h = ROOMS_PROTO_CONN(35, 1);
    g = ROOMS_PROTO_CONN(35, 2);
    c = ROOMS_PROTO_CONN(35, 3);
    h2 = ROOMS_PROTO_CONN(35, 4);

    clear();
    sfu_slot_add(sfu, 33, &io);
    sfu_slot_add(sfu, 32, &io);

    /* by leave: at once */
    pair_in(h, g, 90, "lock", ROOMS_HOST_GRACE_DEFAULT, 7);
    clear();
    record(ROOMS_PROTO_SIGNAL, h, "{\"type\":\"leave\"}");
    is_int(count_type(ROOMS_PROTO_HOST_ABSENT), 1,
           "the host's leave: one HOST_ABSENT record at once");
    r = rec_json(ROOMS_PROTO_HOST_ABSENT, 0, &id);
    ok(id == ROOMS_PROTO_CONN(32, 0), "to the lowest linked slot");
    is_int(num(r, "room"), 90, "room");
    is_str(str(r, "code"), "code90", "code");
    is_int(num(r, "rev"), 7, "rev");
    is_str(str(r, "action"), "lock", "action lock");
    is_int(json_object_size(r), 4, "those four");
    json_decref(r);
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":90,\"rev\":8,\"locked\":true,"
           "\"reason\":\"host_absent\"}");
    m = sig(g, "room", 0);
    ok(json_is_true(json_object_get(m, "locked")), "the lock reaches the "
       "guest");
    is_str(str(m, "reason"), "host_absent", "with reason host_absent");
    clear();
    is_int(absent_after(60000), 0, "nothing more later");
    record(ROOMS_PROTO_LEAVE, g, NULL);

    /* by a lost connection: after the grace */
    clear();
    pair_in(h, g, 91, "end", 5000, 0);
    clear();
    t0 = now;
    record(ROOMS_PROTO_LEAVE, h, NULL);
    is_int(count_type(ROOMS_PROTO_HOST_ABSENT), 0,
           "the host's connection closed: nothing yet");
    ok(sfu_poll(sfu, now, &io) <= t0 + 5000, "sfu_poll wants to run by "
       "the deadline");
    now = t0 + 4999;
    sfu_poll(sfu, now, &io);
    is_int(count_type(ROOMS_PROTO_HOST_ABSENT), 0, "nothing within grace");
    now = t0 + 5000;
    sfu_poll(sfu, now, &io);
    r = rec_json(ROOMS_PROTO_HOST_ABSENT, 0, &id);
    is_str(str(r, "action"), "end", "after the grace: HOST_ABSENT end");
    is_int(count_type(ROOMS_PROTO_HOST_ABSENT), 1, "once");
    json_decref(r);
    clear();
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":91,\"rev\":1,\"ended\":true,"
           "\"reason\":\"host_absent\"}");
    m = sig(g, "error", 0);
    is_str(str(m, "code"), "room_ended", "the end: room_ended");
    is_str(str(m, "reason"), "host_absent", "with reason host_absent");
    is_int(close_code(g), 4403, "and CLOSE 4403");

    /* the host is back within the grace */
    clear();
    pair_in(h, g, 92, "lock", 5000, 0);
    record(ROOMS_PROTO_LEAVE, h, NULL);
    now += 2000;
    join_st(h2, 92, "H", "host", TOKEN_C, "\"max\":5,\"locked\":false,"
            "\"host_absent\":\"lock\",\"grace\":5000");
    is_int(absent_after(10000), 0,
           "a host back within the grace: no HOST_ABSENT");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":92,\"ended\":true}");

    /* stay_open */
    clear();
    pair_in(h, g, 93, "stay_open", ROOMS_HOST_GRACE_DEFAULT, 0);
    record(ROOMS_PROTO_SIGNAL, h, "{\"type\":\"leave\"}");
    is_int(absent_after(60000), 0, "stay_open: nothing");
    record(ROOMS_PROTO_LEAVE, g, NULL);

    /* the policy switched to stay_open during the grace */
    clear();
    pair_in(h, g, 94, "lock", 5000, 0);
    record(ROOMS_PROTO_LEAVE, h, NULL);
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":94,\"rev\":1,"
           "\"host_absent\":\"stay_open\"}");
    is_int(absent_after(6000), 0,
           "switched to stay_open within the grace: nothing");
    record(ROOMS_PROTO_LEAVE, g, NULL);

    /* a co-host keeps the room moderated */
    clear();
    join_st(h, 95, "H", "host", TOKEN_C, "\"max\":5,\"locked\":false,"
            "\"host_absent\":\"end\"");
    join_st(c, 95, "C", "cohost", TOKEN_A, "\"max\":5,\"locked\":false,"
            "\"host_absent\":\"end\"");
    record(ROOMS_PROTO_SIGNAL, h, "{\"type\":\"leave\"}");
    is_int(absent_after(60000), 0,
           "the host leaves, a co-host stays: nothing");
    record(ROOMS_PROTO_SIGNAL, c, "{\"type\":\"leave\"}");
    r = rec_json(ROOMS_PROTO_HOST_ABSENT, 0, NULL);
    is_int(num(r, "room"), 95, "the co-host leaves too: HOST_ABSENT");
    json_decref(r);

    /* a host alone: the empty room is kept for its deadline */
    clear();
    join_st(h, 96, "H", "host", TOKEN_C, "\"max\":5,\"locked\":false,"
            "\"host_absent\":\"lock\",\"grace\":3000");
    record(ROOMS_PROTO_LEAVE, h, NULL);
    is_int(sfu_idle_rooms(sfu), 2, "the empty room is kept (95 lingers)");
    now += ROOMS_ROOM_LINGER_MS;
    sfu_poll(sfu, now, &io);
    r = rec_json(ROOMS_PROTO_HOST_ABSENT, 0, NULL);
    is_int(num(r, "room"), 96, "its deadline applies to an empty room");
    json_decref(r);
    is_int(sfu_idle_rooms(sfu), 1, "then it lingers");
    now += ROOMS_ROOM_LINGER_MS;
    sfu_poll(sfu, now, &io);
    is_int(sfu_idle_rooms(sfu), 0, "and is freed");

    /* the last co-host demoted: after the grace */
    clear();
    join_st(c, 97, "C", "cohost", TOKEN_A, "\"max\":5,\"locked\":false,"
            "\"host_absent\":\"end\",\"grace\":3000");
    join_st(g, 97, "G", "guest", TOKEN_B, "\"max\":5,\"locked\":false,"
            "\"host_absent\":\"end\",\"grace\":3000");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":97,\"demote\":\"" TOKEN_A "\"}");
    is_int(count_type(ROOMS_PROTO_HOST_ABSENT), 0, "a demotion: not at once");
    is_int(absent_after(3000), 1,
           "after the grace: HOST_ABSENT");
    record(ROOMS_PROTO_ROOM, 0, "{\"room\":97,\"ended\":true}");

    /* a room that never had a host */
    clear();
    join_st(g, 98, "G", "guest", TOKEN_B, "\"max\":5,\"locked\":false,"
            "\"host_absent\":\"end\",\"grace\":0");
    record(ROOMS_PROTO_SIGNAL, g, "{\"type\":\"leave\"}");
    is_int(absent_after(60000), 0,
           "a room that never had a host: nothing");

    /* nginx gone: the deadline runs, the record is logged and dropped */
    clear();
    join_st(h, 99, "H", "host", TOKEN_C, "\"max\":5,\"locked\":false,"
            "\"host_absent\":\"lock\",\"grace\":1000");
    sfu_drop_slot(sfu, 32, now, &io);
    sfu_drop_slot(sfu, 33, now, &io);
    sfu_drop_slot(sfu, 35, now, &io);
    is_int(count_type(ROOMS_PROTO_HOST_ABSENT), 0,
           "the host's nginx worker gone: nothing at once");
    is_int(absent_after(1000), 0,
           "no slot linked: no HOST_ABSENT record");
    now += ROOMS_ROOM_LINGER_MS * 2;
    sfu_poll(sfu, now, &io);
    is_int(sfu_idle_rooms(sfu), 0, "host-absent: no idle room is left");
    is_int(sfu_participants(sfu), 0, "nobody is in");
}


/* ---- who you see and hear ---- */


#define VIEW_MAX_PARTS  50

static uint64_t  vconn[VIEW_MAX_PARTS + 1];
static char      vid[VIEW_MAX_PARTS + 1][16];
static json_t   *vans[VIEW_MAX_PARTS + 1];       /* the last answer */


/*
 * Participant i of a view room offers its audio and video (sendonly,
 * mids 0 and 1), then audio and video recvonly lines (mids from 2).
 */
static void
view_offer(unsigned i, unsigned audio, unsigned video)
{
    char        ufrag[16], fp[100];
    unsigned    k, n;
    gen_line_t  lines[ROOMS_SDP_MAX_MEDIA + 8];

    snprintf(ufrag, sizeof(ufrag), "vw%03u", i);
    snprintf(fp, sizeof(fp), "%02X:7E:CC:DD:EE:FF:00:11:22:33:44:55:66:"
             "77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", i);

    lines[0] = (gen_line_t) { 0, 1, 20000 + 10 * i };
    lines[1] = (gen_line_t) { 1, 1, 20000 + 10 * i + 4 };
    n = 2;

    for (k = 0; k < audio && n < ROOMS_SDP_MAX_MEDIA + 8; k++) {
        lines[n++] = (gen_line_t) { 0, 0, 0 };
    }

    for (k = 0; k < video && n < ROOMS_SDP_MAX_MEDIA + 8; k++) {
        lines[n++] = (gen_line_t) { 1, 0, 0 };
    }

    gen_offer(text, ufrag, fp, 4, 96, lines, n);
    offer(vconn[i], text);
}


/* The participant's answer kept (a copy: clear() frees the records). */
static json_t *
view_keep(unsigned i)
{
    json_decref(vans[i]);
    vans[i] = json_deep_copy(sig(vconn[i], "answer", 0));

    return vans[i];
}


/* Streams of kind in map, and whether each names a distinct other. */
static unsigned
map_count(json_t *map, const char *kind, unsigned self, unsigned *distinct)
{
    unsigned     n;
    json_t      *v, *w;
    const char  *key, *key2, *who;

    n = 0;
    *distinct = 1;

    json_object_foreach(map, key, v) {
        if (strcmp(str(v, "kind"), kind) != 0) {
            continue;
        }

        n++;
        who = str(v, "participant");

        if (who == NULL || strcmp(who, vid[self]) == 0) {
            *distinct = 0;
        }

        json_object_foreach(map, key2, w) {
            if (strcmp(key, key2) != 0 && strcmp(str(w, "kind"), kind) == 0
                && who != NULL
                && strcmp(who, str(w, "participant")) == 0)
            {
                *distinct = 0;
            }
        }
    }

    return n;
}


/* The mid of map whose stream is participant i's video, or NULL. */
static const char *
mid_of(json_t *map, unsigned i)
{
    json_t      *v;
    const char  *key;

    json_object_foreach(map, key, v) {
        if (strcmp(str(v, "kind"), "video") == 0
            && strcmp(str(v, "participant"), vid[i]) == 0)
        {
            return key;
        }
    }

    return NULL;
}


static void
view_send(unsigned i, const char *ids)
{
    char  buf[2048];

    snprintf(buf, sizeof(buf), "{\"type\":\"view\",\"ids\":%s}", ids);
    record(ROOMS_PROTO_SIGNAL, vconn[i], buf);
}


/*
 * A room of n publishers (participant 2 joins with video_slots 2, the
 * others with none: the default, 16): every renegotiate asks audio up to
 * the audio slots (3 by default) and video up to the slots; each answer
 * binds a voice to every audio line (nobody speaks: the first others in
 * join order) and the first videos in join order; a view
 * re-points video lines in place (same SSRC; streams message), keeps the
 * lines of streams still chosen, skips unknown and repeated ids; a
 * publisher leaving frees lines that the next chosen ones take.
 */
static void
test_view(unsigned n)
{
    char         ids[256], want[32], mid_a[32], mid_b[32];
    json_t      *m, *map, *before;
    unsigned     i, k, audio, video, slots, d, good, asked_ok, aud;
    uint32_t     ssrc_a, ssrc_b;
    const char  *mid;

    /* the voices each one hears: nobody speaks, so the first others */
    aud = n - 1 < ROOMS_AUDIO_SLOTS_DEFAULT ? n - 1
                                            : ROOMS_AUDIO_SLOTS_DEFAULT;

    for (i = 1; i <= n; i++) {
        vconn[i] = ROOMS_PROTO_CONN(40, i);
        clear();
        join_st(vconn[i], 300 + (int) n, "V", "host", TOKEN_A,
                i == 2 ? "\"max\":50,\"locked\":false,\"video_slots\":2"
                       : "\"max\":50,\"locked\":false");
        welcome_id(vconn[i], vid[i]);
        view_offer(i, 0, 0);
    }

    /* the last one published: everyone is asked for the whole room */
    asked_ok = 1;

    for (i = 1; i <= n; i++) {
        m = sig(vconn[i], "renegotiate", 0);
        slots = i == 2 ? 2 : ROOMS_VIDEO_SLOTS_DEFAULT;

        if (m == NULL || num(m, "audio") != aud
            || num(m, "video") != (n - 1 < slots ? n - 1 : slots))
        {
            diag("%u asked %lld/%lld", i, m ? num(m, "audio") : -1,
                 m ? num(m, "video") : -1);
            asked_ok = 0;
        }
    }

    ok(asked_ok, "%u publishers: renegotiate asks audio %u (the audio "
       "slots) and video min(others, slots) of everyone", n, aud);

    /* everyone offers what it was asked for */
    good = 1;

    for (i = 1; i <= n; i++) {
        slots = i == 2 ? 2 : ROOMS_VIDEO_SLOTS_DEFAULT;
        audio = aud;
        video = n - 1 < slots ? n - 1 : slots;

        clear();
        view_offer(i, audio, video);
        map = json_object_get(view_keep(i), "streams");

        if (vans[i] == NULL || answer_sdp(vans[i]) == NULL
            || map_count(map, "audio", i, &d) != audio || !d
            || map_count(map, "video", i, &d) != video || !d
            || count_sig(vconn[i], "renegotiate") != 0
            || count_sig(vconn[i], "error") != 0)
        {
            diag("%u: %zu streams", i, json_object_size(map));
            good = 0;
        }

        /* the videos seen without a view: the first others by join */
        for (k = 1, d = 0; k <= n && d < video; k++) {
            if (k != i) {
                good &= mid_of(map, k) != NULL;
                d++;
            }
        }
    }

    ok(good, "%u answers: every audio line bound, video lines up to the "
       "slots (2 for participant 2), the first others in join order, no "
       "renegotiate loop", n);

    /* participant 2 (2 slots, on 1 and 3) views n, an unknown id, n, n-1 */
    before = json_deep_copy(json_object_get(vans[2], "streams"));
    ok(mid_of(before, 1) != NULL && mid_of(before, 3) != NULL,
       "participant 2 sees 1 and 3");
    snprintf(mid_a, sizeof(mid_a), "%s", mid_of(before, 1));
    snprintf(mid_b, sizeof(mid_b), "%s", mid_of(before, 3));
    json_decref(before);

    answer_sdp(vans[2]);
    ssrc_a = answer_ssrc(mid_a);
    ssrc_b = answer_ssrc(mid_b);

    clear();
    snprintf(ids, sizeof(ids), "[\"%s\",\"nobody00\",\"%s\",\"%s\"]",
             vid[n], vid[n], vid[n - 1]);
    view_send(2, ids);
    m = sig(vconn[2], "streams", 0);
    map = json_object_get(m, "streams");
    is_int(count_sig(vconn[2], "streams"), 1, "view: one streams message");
    ok(mid_of(map, n) != NULL && mid_of(map, n - 1) != NULL
       && mid_of(map, 1) == NULL && mid_of(map, 3) == NULL,
       "view [n, unknown, n, n-1]: n and n-1 are seen, 1 and 3 no longer");
    ok(mid_of(map, n) != NULL
       && mid_of(map, n - 1) != NULL
       && ((strcmp(mid_of(map, n), mid_a) == 0
            && strcmp(mid_of(map, n - 1), mid_b) == 0)
           || (strcmp(mid_of(map, n), mid_b) == 0
               && strcmp(mid_of(map, n - 1), mid_a) == 0)),
       "on the same two m= lines");
    ok(map_count(map, "audio", 2, &d) == aud && d,
       "the map is whole: every audio line still in it");
    is_int(count_sig(vconn[2], "renegotiate"), 0, "no new offer is asked");
    is_int(nrecs, 1, "nobody else is told anything");

    /* the next answer announces the same SSRCs on those lines */
    before = json_deep_copy(map);
    clear();
    view_offer(2, aud, 2);
    m = view_keep(2);
    answer_sdp(m);
    ok(answer_ssrc(mid_a) == ssrc_a
       && answer_ssrc(mid_b) == ssrc_b && ssrc_a != 0 && ssrc_b != 0,
       "re-pointed lines keep their SSRC in the next answer");
    k = (unsigned) rooms_sdp_find_mid(&parsed, mid_of(json_object_get(m,
                                                      "streams"), n));
    is_str(parsed.media[k].msid_stream, vid[n],
           "and their msid names the new publisher");
    ok(json_equal(json_object_get(m, "streams"), before),
       "the answer's map is the streams message's");
    is_int(count_sig(vconn[2], "streams"), 0,
           "an answer sends no streams message");

    /* stability: [n-1, 5] keeps n-1 where it is, 5 takes n's line */
    mid = mid_of(before, n - 1);
    snprintf(want, sizeof(want), "%s", mid ? mid : "");
    json_decref(before);
    clear();
    snprintf(ids, sizeof(ids), "[\"%s\",\"%s\"]", vid[n - 1], vid[5]);
    view_send(2, ids);
    map = json_object_get(sig(vconn[2], "streams", 0), "streams");
    ok(mid_of(map, n - 1) != NULL && strcmp(mid_of(map, n - 1), want) == 0
       && mid_of(map, 5) != NULL && mid_of(map, n) == NULL,
       "a stream still chosen keeps its line, the new one takes the other");

    /* the same view again: nothing moves, nothing is sent */
    clear();
    view_send(2, ids);
    is_int(nrecs, 0, "the same view again: nothing sent");

    /* participant 1 (16 slots): its view puts n first; n-... is dropped */
    clear();
    snprintf(ids, sizeof(ids), "[\"%s\"]", vid[n]);
    view_send(1, ids);
    map = json_object_get(sig(vconn[1], "streams", 0), "streams");

    if (n - 1 > ROOMS_VIDEO_SLOTS_DEFAULT) {
        /* 2..17 were seen: 17 goes, n comes onto its line */
        good = mid_of(map, n) != NULL && mid_of(map, 17) == NULL
               && strcmp(mid_of(map, n), mid_of(json_object_get(vans[1],
                                                "streams"), 17)) == 0;

        for (k = 2; k <= 16; k++) {
            good &= mid_of(map, k) != NULL
                    && strcmp(mid_of(map, k),
                              mid_of(json_object_get(vans[1], "streams"), k))
                       == 0;
        }

        ok(good, "view [n] of 16 lines: n takes the last chosen's line, "
           "the 15 others stay where they are");

    } else {
        is_int(count_sig(vconn[1], "streams"), 0,
               "view [n] when every video is seen: nothing moves");
    }

    /* 3 leaves: participant 2 loses nothing, participant 1 ... */
    clear();
    record(ROOMS_PROTO_LEAVE, vconn[3], NULL);
    map = json_object_get(sig(vconn[1], "streams", 0), "streams");

    if (n - 1 > ROOMS_VIDEO_SLOTS_DEFAULT) {
        ok(map != NULL && mid_of(map, 17) != NULL && mid_of(map, 3) == NULL
           && strcmp(mid_of(map, 17), mid_of(json_object_get(vans[1],
                                             "streams"), 3)) == 0,
           "3 left: the next chosen (17) takes its line on 1 (streams)");
        ok(map_count(map, "audio", 1, &d) == aud && d,
           "and the map lists the voices (3's line took another)");
    }

    m = sig(vconn[1], "renegotiate", 0);
    ok(m != NULL && num(m, "audio") == (n - 2 < aud ? n - 2 : aud),
       "and 1 is asked to renegotiate");
    ok(sig(vconn[2], "streams", 0) == NULL || mid_of(json_object_get(
           sig(vconn[2], "streams", 0), "streams"), 5) != NULL,
       "participant 2 keeps its view's streams");

    clear();

    for (i = 1; i <= n; i++) {
        if (i != 3) {
            record(ROOMS_PROTO_LEAVE, vconn[i], NULL);
        }

        json_decref(vans[i]);
        vans[i] = NULL;
    }

    is_int(sfu_participants(sfu), 0, "the view room is empty");
}


/*
 * The bounds: a 67-line offer (2 own, 49 audio, 16 video) parses and
 * is answered, a 73-line one is bad_offer and the connection stays; a
 * malformed view (not an array, a number in it, 65 ids) is bad_message
 * with 4400; a view while waiting in the lobby is ignored; video_slots
 * out of range is clamped.
 */
static void
test_view_edges(void)
{
    char         ids[1024], *p;
    json_t      *m;
    unsigned     i;

    for (i = 1; i <= 3; i++) {
        vconn[i] = ROOMS_PROTO_CONN(41, i);
    }

    clear();
    join_st(vconn[1], 400, "E", "host", TOKEN_A,
            "\"max\":50,\"locked\":false,\"video_slots\":99");
    join_st(vconn[2], 400, "F", "host", TOKEN_A,
            "\"max\":50,\"locked\":false,\"video_slots\":0");
    welcome_id(vconn[1], vid[1]);
    welcome_id(vconn[2], vid[2]);
    view_offer(2, 0, 0);

    clear();
    view_offer(1, 49, 16);
    m = sig(vconn[1], "answer", 0);
    ok(m != NULL && answer_sdp(m) != NULL && parsed.nmedia == 67,
       "a 67-line offer (2 own, 49 audio, 16 video) is answered whole");
    ok(stream_of(m, "2", NULL) != NULL && stream_of(m, "51", NULL) != NULL,
       "the other's audio and video are bound");
    is_int(count_sig(vconn[1], "error"), 0, "no error");
    m = sig(vconn[2], "renegotiate", 0);
    ok(m != NULL && num(m, "audio") == 1 && num(m, "video") == 1,
       "video_slots 0 is clamped to 1, and 99 is taken (to 16)");

    clear();
    view_offer(1, 55, 16);
    m = sig(vconn[1], "error", 0);
    ok(m != NULL && strcmp(str(m, "code"), "bad_offer") == 0
       && strstr(str(m, "message"), "more than 72") != NULL,
       "a 73-line offer is bad_offer (%s)", m ? str(m, "message") : "");
    is_int(close_code(vconn[1]), -1, "and the connection stays");
    is_int(sfu_participants(sfu), 2, "both are in");

    clear();
    view_send(1, "\"x\"");
    ok(sig(vconn[1], "error", 0) != NULL
       && strcmp(str(sig(vconn[1], "error", 0), "code"), "bad_message") == 0
       && close_code(vconn[1]) == 4400, "view ids not an array: "
       "bad_message, 4400");

    clear();
    view_send(2, "[\"abc\",1]");
    ok(sig(vconn[2], "error", 0) != NULL
       && strcmp(str(sig(vconn[2], "error", 0), "code"), "bad_message") == 0
       && close_code(vconn[2]) == 4400, "a number in view ids: bad_message");

    clear();
    join_st(vconn[3], 400, "G", "host", TOKEN_A,
            "\"max\":50,\"locked\":false");
    p = ids;
    p += sprintf(p, "[");
    for (i = 0; i <= ROOMS_VIEW_MAX; i++) {
        p += sprintf(p, "%s\"id%u\"", i ? "," : "", i);
    }
    sprintf(p, "]");
    view_send(3, ids);
    ok(close_code(vconn[3]) == 4400, "65 view ids: bad_message, 4400");
    is_int(sfu_participants(sfu), 0, "all three are gone");

    /* a guest waiting at a knock room's door: its view is ignored */
    clear();
    join_adm(vconn[1], 401, 50, "W", "guest", TOKEN_B, "knock");
    ok(sig(vconn[1], "waiting", 0) != NULL, "a guest waits in the lobby");
    clear();
    view_send(1, "[\"abc\"]");
    view_send(1, "\"not even an array\"");
    is_int(nrecs, 0, "a view while waiting: ignored, nothing sent");
    record(ROOMS_PROTO_LEAVE, vconn[1], NULL);
    is_int(sfu_waiting(sfu), 0, "the waiting guest left");
}


static void
log_line(void *ctx, int level, const char *line)
{
    diag("sfu: %s", line);
}


static int
rng(void *ctx, void *buf, size_t n)
{
    return RAND_bytes(buf, (int) n) == 1 ? 0 : -1;
}


/* the worker's defaults (sfu_int.h: SFU_OFFER_MS, SFU_OFFER_SCAN_MS) */
#define OFFER_MS       30000
#define OFFER_SCAN_MS  1000

/*
 * A participant that never sends its offer goes 30 s after it came in
 * (joined, or admitted from the lobby): error no_offer, close 4408, the
 * others hear it leave, the count drops.  One that offered stays.  (A
 * fresh SFU with the default limit.)
 */
static void
test_no_offer(const sfu_conf_t *conf)
{
    char        sdp[16384], id[64], err[256];
    json_t     *m;
    uint64_t    a, b, h, g, t0;
    gen_line_t  pub[2] = { { 0, 1, 601 }, { 1, 1, 701 } };

    sfu = sfu_create(conf, err, sizeof(err));
    if (sfu == NULL) {
        tap_bail_out("sfu_create: %s", err);
    }

    a = ROOMS_PROTO_CONN(6, 1);
    b = ROOMS_PROTO_CONN(6, 2);
    h = ROOMS_PROTO_CONN(6, 3);
    g = ROOMS_PROTO_CONN(6, 4);

    gen_offer(sdp, "ufn1", "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", 4, 96,
              pub, 2);

    /* (an offer starts ICE's own 30 s: the offers come late enough) */
    clear();
    t0 = now;
    join(a, 60, 50, "Silent");
    join(b, 60, 50, "Talker");
    is_int(sfu_participants(sfu), 2, "no offer: two in the room");
    ok(sfu_poll(sfu, now, &io) <= now + OFFER_SCAN_MS,
       "sfu_poll comes back while an offer is awaited");

    now = t0 + 25000;
    offer(b, sdp);
    ok(sig(b, "answer", 0) != NULL, "one of them offers after 25 s");

    clear();
    now = t0 + OFFER_MS - 1;
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(sfu_participants(sfu), 2, "29.999 s: both still there");
    is_int(close_code(a), -1, "not closed yet");

    clear();
    now = t0 + OFFER_MS + OFFER_SCAN_MS;
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    m = sig(a, "error", 0);
    ok(m != NULL && strcmp(str(m, "code"), "no_offer") == 0,
       "31 s without an offer: error no_offer");
    is_int(close_code(a), 4408, "and close 4408");
    is_int(close_code(b), -1, "the one that offered stays");
    ok(sig(b, "participant_left", 0) != NULL, "it hears the silent one left");
    is_int(sfu_participants(sfu), 1, "one in the room");
    ok(sfu_poll(sfu, now + OFFER_SCAN_MS, &io) > now + 2 * OFFER_SCAN_MS,
       "no offer awaited: no wake-up for offers");

    /* the lobby: a guest owes its offer from its admission on */
    clear();
    t0 = now;
    join_adm(h, 61, 50, "Host", "host", TOKEN_C, "knock");
    join_adm(g, 61, 50, "Guest", "guest", TOKEN_B, "knock");
    m = sig(h, "knock", 0);
    ok(sig(g, "waiting", 0) != NULL && m != NULL, "a guest waits and knocks");
    snprintf(id, sizeof(id), "%s", m && str(m, "id") ? str(m, "id") : "");
    now = t0 + 20000;
    offer(h, sdp);

    clear();
    now = t0 + 40000;
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(close_code(g), -1, "a guest waiting 40 s owes no offer");

    clear();
    t0 = now;
    host_says(h, "admit", id);
    ok(sig(g, "welcome", 0) != NULL, "admitted");
    now = t0 + OFFER_MS - 1;
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(close_code(g), -1, "29.999 s after the admission: still in");
    now = t0 + OFFER_MS + OFFER_SCAN_MS;
    sfu_poll(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(close_code(g), 4408, "31 s after it without an offer: 4408");

    clear();
    sfu_destroy(sfu);
    sfu = NULL;
}


/* ---- who is heard ---- */


/* c sends an audio packet with RFC 6464 level, its last payload byte tag */
static void
send_level(client_t *c, uint16_t seq, uint32_t ts, unsigned level,
    uint8_t tag)
{
    size_t   i, len;
    uint8_t  pkt[1600];

    len = rtp_packet(pkt, 111, seq, ts, c->a_ssrc, "0", 1);

    for (i = 16; i + 1 < len; i++) {
        if (pkt[i] == 0x10 && pkt[i + 1] == 0x85) {     /* id 1, level */
            pkt[i + 1] = (uint8_t) (0x80 | level);
            break;
        }
    }

    pkt[len - 1] = tag;
    rooms_srtp_protect(&c->srtp, pkt, &len);
    clear();
    udp(c, pkt, len);
}


/*
 * The RTP on the wire to c (RTCP left out), unprotected: the last one's
 * tag (its last payload byte) into *tag, its SSRC and seq; how many.
 */
static unsigned
rtp_to(client_t *c, uint8_t *tag, uint32_t *ssrc, uint16_t *seq)
{
    size_t       len;
    uint8_t      out[1600];
    unsigned     i, n;
    rooms_rtp_t  r;

    n = 0;

    for (i = 0; i < nwire; i++) {
        if (!rooms_stun_addr_equal(&wire[i].addr, &c->addr)
            || wire[i].len < 12
            || ((wire[i].data[1] & 0x7f) >= 72
                && (wire[i].data[1] & 0x7f) <= 79))
        {
            continue;
        }

        len = wire[i].len;
        memcpy(out, wire[i].data, len);

        if (rooms_srtp_unprotect(&c->srtp, out, &len) != 0
            || rooms_rtp_parse(out, len, &r) != 0)
        {
            continue;
        }

        *tag = out[len - 1];
        *ssrc = r.ssrc;
        *seq = r.seq;
        n++;
    }

    return n;
}


/*
 * Through the SFU, on a virtual clock: P1 joins with audio_slots 1
 * after P2 and P3, who publish audio with levels every 20 ms.  Nobody
 * speaks: P1's one line carries P2 (join order), and the offer was
 * asked for one audio line.  P3 starts to speak: the first of its
 * packets reaches P1 within 300 ms of its first loud one, on the same
 * SSRC with the sequence continuing; P1 gets a streams message naming
 * P3 and everyone a speaker message naming P3; P2's packets no longer
 * reach P1.  Then P3 stops and P2 speaks: the line goes back, once.
 */
static void
test_voices(void)
{
    char         sdp[4096], id2[16], id3[16], id1[16];
    json_t      *m;
    uint8_t      tag;
    uint16_t     seq, last_seq, s2, s3;
    uint32_t     ssrc, a_out, ts;
    uint64_t     t_loud, t_back, heard3, heard2;
    unsigned     step, n, good_seq, from2_after, maps, spk3, spk1;
    client_t     c1, c2, c3;
    gen_line_t   pub[1] = { { 0, 1, 0 } };
    gen_line_t   lis[2] = { { 0, 1, 0 }, { 0, 0, 0 } };
    const char  *who;

    client_new(&c2, ROOMS_PROTO_CONN(6, 2), "vox2", 50022, 7772000);
    client_new(&c3, ROOMS_PROTO_CONN(6, 3), "vox3", 50023, 7773000);
    client_new(&c1, ROOMS_PROTO_CONN(6, 1), "vox1", 50021, 7771000);

    clear();
    join_st(c2.conn, 95, "Two", "host", TOKEN_A, "\"max\":10,"
            "\"locked\":false");
    welcome_id(c2.conn, id2);
    pub[0].ssrc = c2.a_ssrc;
    gen_offer(sdp, c2.ufrag, c2.fp, 4, 96, pub, 1);
    clear();
    offer(c2.conn, sdp);
    client_answer(&c2, sig(c2.conn, "answer", 0));
    ok(client_ice(&c2) && client_dtls(&c2), "voices: P2 publishes audio");

    clear();
    join_st(c3.conn, 95, "Three", "host", TOKEN_A, "\"max\":10,"
            "\"locked\":false");
    welcome_id(c3.conn, id3);
    pub[0].ssrc = c3.a_ssrc;
    gen_offer(sdp, c3.ufrag, c3.fp, 4, 96, pub, 1);
    clear();
    offer(c3.conn, sdp);
    client_answer(&c3, sig(c3.conn, "answer", 0));
    ok(client_ice(&c3) && client_dtls(&c3), "P3 publishes audio");

    clear();
    join_st(c1.conn, 95, "One", "host", TOKEN_A, "\"max\":10,"
            "\"locked\":false,\"audio_slots\":1");
    welcome_id(c1.conn, id1);
    lis[0].ssrc = c1.a_ssrc;
    gen_offer(sdp, c1.ufrag, c1.fp, 4, 96, lis, 2);
    clear();
    offer(c1.conn, sdp);
    m = sig(c1.conn, "answer", 0);
    client_answer(&c1, m);
    who = stream_of(m, "1", NULL);
    ok(who != NULL && strcmp(who, id2) == 0,
       "P1's one audio line carries P2: nobody speaks, join order");
    is_int(count_sig(c1.conn, "renegotiate"), 0,
           "P1 (audio_slots 1) has the one audio line it needs");
    a_out = answer_ssrc("1");
    ok(client_ice(&c1) && client_dtls(&c1), "P1 connects");

    /* 3 s in 10 ms steps: P3 speaks from 1 s, P2 instead from 2 s */
    t_loud = now + 1000;
    t_back = now + 2000;
    heard3 = heard2 = 0;
    s2 = 100;
    s3 = 5000;
    ts = 0;
    good_seq = 1;
    from2_after = 0;
    maps = spk3 = spk1 = 0;
    last_seq = 0;
    seq = 0;

    for (step = 0; step < 300; step++) {
        now += 10;

        if (step % 2 == 0) {
            ts += 960;

            send_level(&c2, s2++, ts, now >= t_back ? 20 : 127, 2);
            n = rtp_to(&c1, &tag, &ssrc, &seq);

            if (n > 0) {
                good_seq &= ssrc == a_out
                            && (last_seq == 0
                                || seq == (uint16_t) (last_seq + 1));
                last_seq = seq;
                from2_after += now >= t_loud + 300 && now < t_back;

                if (now >= t_back && heard2 == 0) {
                    heard2 = now;
                }
            }

            send_level(&c3, s3++, ts, now >= t_loud && now < t_back ? 20
                                                                   : 127, 3);
            n = rtp_to(&c1, &tag, &ssrc, &seq);

            if (n > 0) {
                good_seq &= ssrc == a_out && seq == (uint16_t) (last_seq + 1);
                last_seq = seq;

                if (heard3 == 0) {
                    heard3 = now;
                }
            }
        }

        clear();
        (void) sfu_poll(sfu, now, &io);
        on_flush(NULL, &io);

        maps += count_sig(c1.conn, "streams");

        if ((m = sig(c1.conn, "speaker", 0)) != NULL) {
            who = str(m, "id");
            spk3 += who != NULL && strcmp(who, id3) == 0;
            spk1 += who != NULL && strcmp(who, id1) == 0;
        }
    }

    ok(heard3 > 0 && heard3 - t_loud <= 300,
       "P3 is heard by P1 %llu ms after its first loud packet (within "
       "300 ms)", (unsigned long long) (heard3 - t_loud));
    ok(good_seq, "on P1's one SSRC, its sequence numbers continuing "
       "across both moves");
    is_int(from2_after, 0, "while P3 speaks, P2's packets do not reach P1");
    ok(heard2 > 0 && heard2 - t_back <= 1000,
       "P3 stops and P2 speaks: P2 has the line again %llu ms after its "
       "first loud packet", (unsigned long long) (heard2 - t_back));
    is_int(maps, 2, "two streams messages to P1: no flapping");
    ok(spk3 >= 1 && spk1 == 0, "P1 is told P3 speaks (and never that it "
       "does itself)");

    /* someone who comes in while P2 speaks is told at the next step */
    clear();
    join_st(ROOMS_PROTO_CONN(6, 4), 95, "Four", "host", TOKEN_A,
            "\"max\":10,\"locked\":false");
    who = NULL;

    for (step = 0; step < 10 && who == NULL; step++) {
        now += 20;
        ts += 960;
        send_level(&c2, s2++, ts, 20, 2);
        clear();
        (void) sfu_poll(sfu, now, &io);
        on_flush(NULL, &io);
        who = str(sig(ROOMS_PROTO_CONN(6, 4), "speaker", 0), "id");
    }

    ok(who != NULL && strcmp(who, id2) == 0,
       "a newcomer is told the speaker (P2) without waiting for a change");
    record(ROOMS_PROTO_LEAVE, ROOMS_PROTO_CONN(6, 4), NULL);

    clear();
    record(ROOMS_PROTO_LEAVE, c1.conn, NULL);
    record(ROOMS_PROTO_LEAVE, c2.conn, NULL);
    record(ROOMS_PROTO_LEAVE, c3.conn, NULL);
    client_free(&c1);
    client_free(&c2);
    client_free(&c3);
}


/* ---- resuming after an nginx reload (sfu_resume.c) ---- */


#define RESUME_1  "1111111111111111111111111111111111111111111111111111111111111111"
#define RESUME_2  "2222222222222222222222222222222222222222222222222222222222222222"
#define RESUME_3  "3333333333333333333333333333333333333333333333333333333333333333"


/* a JOIN of a guest that can be resumed with the hash resume */
static void
join_resumable(uint64_t conn, int room, const char *name, const char *role,
    const char *token, const char *resume)
{
    char  buf[512];

    snprintf(buf, sizeof(buf), "{\"room\":%d,\"code\":\"code%d\",\"max\":10,"
             "\"name\":\"%s\",\"role\":\"%s\",\"token\":\"%s\","
             "\"locked\":false,\"resume\":\"%s\"}", room, room, name, role,
             token, resume);
    record(ROOMS_PROTO_JOIN, conn, buf);
}


static void
resume_rec(uint64_t conn, int room, const char *role, const char *token,
    const char *resume, const char *next)
{
    char  buf[512];

    snprintf(buf, sizeof(buf), "{\"room\":%d,\"token\":\"%s\",\"role\":\"%s\","
             "\"resume\":\"%s\",\"next\":\"%s\"}", room, token, role, resume,
             next);
    record(ROOMS_PROTO_RESUME, conn, buf);
}


static void
test_resume(void)
{
    char        sdp[16384], id[16];
    json_t     *m;
    uint64_t    a, b, a2, a2x, a3, c, b2;
    unsigned    parts;
    gen_line_t  pub[2] = { { 0, 1, 901 }, { 1, 1, 902 } };

    a = ROOMS_PROTO_CONN(40, 1);
    b = ROOMS_PROTO_CONN(41, 1);
    a2 = ROOMS_PROTO_CONN(42, 1);
    a3 = ROOMS_PROTO_CONN(42, 2);
    c = ROOMS_PROTO_CONN(42, 3);
    b2 = ROOMS_PROTO_CONN(42, 4);
    a2x = ROOMS_PROTO_CONN(42, 5);

    clear();
    parts = sfu_participants(sfu);
    join_resumable(a, 90, "A", "guest", TOKEN_A, RESUME_1);
    join_resumable(b, 90, "B", "host", TOKEN_B, RESUME_3);
    snprintf(id, sizeof(id), "%s", str(sig(a, "welcome", 0), "id"));
    gen_offer(sdp, "ufr1", "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
              "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:90", 4, 96,
              pub, 2);
    offer(a, sdp);
    ok(sig(a, "answer", 0) != NULL, "A is answered");

    /* A's nginx worker closes (a reload): DETACH, and nobody sees it go */
    clear();
    record(ROOMS_PROTO_DETACH, a, NULL);
    is_int(count_sig(b, "participant_left"), 0,
           "DETACH: B hears of no participant_left");
    is_int(count_type(ROOMS_PROTO_COUNT), 0, "and the count is unchanged");
    is_int(sfu_participants(sfu), parts + 2, "A is still in");

    /* what happens meanwhile goes nowhere */
    clear();
    record(ROOMS_PROTO_SIGNAL, b, "{\"type\":\"media\",\"audio\":false,"
           "\"video\":true}");
    is_int(nrecs, 0, "a change meanwhile sends A nothing, and no record "
           "is lost on the way (none was tried)");

    /* a wrong token, another guest token, another role: refused */
    clear();
    resume_rec(c, 90, "guest", TOKEN_A, RESUME_2, RESUME_3);
    is_str(str(sig(c, "error", 0), "code"), "resume_failed",
           "a wrong resume token: resume_failed");
    is_int(close_code(c), 4410, "and CLOSE 4410");
    clear();
    resume_rec(c, 90, "guest", TOKEN_C, RESUME_1, RESUME_2);
    is_int(close_code(c), 4410, "the right token with another guest "
           "token: 4410");
    clear();
    resume_rec(c, 90, "host", TOKEN_A, RESUME_1, RESUME_2);
    is_int(close_code(c), 4410, "the right token with another role: 4410");
    clear();
    record(ROOMS_PROTO_RESUME, c, "{\"room\":90}");
    is_int(close_code(c), 4400, "a malformed RESUME: 4400");

    /* the right one: the same participant, the same session */
    clear();
    resume_rec(a2, 90, "guest", TOKEN_A, RESUME_1, RESUME_2);
    m = sig(a2, "resumed", 0);
    ok(m != NULL && strcmp(str(m, "id"), id) == 0
       && strcmp(str(m, "role"), "guest") == 0,
       "resumed: the same id %s, the same role", id);
    ok(m != NULL && json_array_size(json_object_get(m, "participants")) == 1
       && strcmp(str(json_array_get(json_object_get(m, "participants"), 0),
                     "name"), "B") == 0
       && !boolean(json_array_get(json_object_get(m, "participants"), 0),
                   "audio"),
       "with the others as they are now (B's microphone off meanwhile)");
    ok(sig(a2, "streams", 0) != NULL, "and the whole streams map");
    is_int(count_sig(b, "participant_left"), 0, "B heard nothing");
    is_int(count_sig(b, "participant_joined"), 0, "not even a join");
    is_int(close_code(a), -1, "nothing to the old connection");
    is_int(sfu_participants(sfu), parts + 2, "still two");

    /*
     * A closing nginx worker took the new connection before "resumed"
     * reached the browser: the token it used is still good, once.
     */
    clear();
    record(ROOMS_PROTO_DETACH, a2, NULL);
    resume_rec(a2x, 90, "guest", TOKEN_A, RESUME_1, RESUME_2);
    ok(sig(a2x, "resumed", 0) != NULL, "a resume whose answer was lost: "
       "the same token again resumes");
    record(ROOMS_PROTO_SIGNAL, a2x, "{\"type\":\"view\",\"ids\":[]}");

    /* once the browser speaks on it, a token resumes no more */
    clear();
    resume_rec(c, 90, "guest", TOKEN_A, RESUME_1, RESUME_3);
    is_int(close_code(c), 4410, "the used token again: 4410");

    clear();
    resume_rec(a3, 90, "guest", TOKEN_A, RESUME_2, RESUME_1);
    ok(sig(a3, "resumed", 0) != NULL, "the next token resumes A while it "
       "is still on its connection");
    is_int(close_code(a2x), 4411, "which is closed 4411");
    clear();
    record(ROOMS_PROTO_LEAVE, a2x, NULL);
    is_int(count_sig(b, "participant_left"), 0, "and whose LEAVE then "
           "finds nobody");

    /* the messages go to the new connection */
    clear();
    record(ROOMS_PROTO_SIGNAL, b, "{\"type\":\"media\",\"audio\":true,"
           "\"video\":true}");
    ok(sig(a3, "participant_media", 0) != NULL, "A hears of B's changes "
       "on its new connection");

    /* the grace: not resumed in time, A leaves and everyone hears it */
    clear();
    record(ROOMS_PROTO_DETACH, a3, NULL);
    now += ROOMS_RESUME_GRACE_MS - 1;
    sfu_poll(sfu, now, &io);
    is_int(count_sig(b, "participant_left"), 0,
           "1 ms before the grace ends: still in");
    now += 1;
    sfu_poll(sfu, now, &io);
    ok(sig(b, "participant_left", 0) != NULL
       && strcmp(str(sig(b, "participant_left", 0), "id"), id) == 0,
       "at %d ms: B hears A left", ROOMS_RESUME_GRACE_MS);
    clear();
    resume_rec(c, 90, "guest", TOKEN_A, RESUME_1, RESUME_2);
    is_int(close_code(c), 4410, "a resume after the grace: 4410");

    /* a slot's end detaches; a fresh join of the same browser drops it */
    clear();
    sfu_drop_slot(sfu, 41, now, &io);
    is_int(sfu_participants(sfu), parts + 1, "B's nginx worker died: B "
           "waits to be resumed");
    join_resumable(b2, 90, "B", "host", TOKEN_B, RESUME_2);
    ok(sig(b2, "welcome", 0) != NULL
       && json_array_size(json_object_get(sig(b2, "welcome", 0),
                                          "participants")) == 0,
       "B joins again from scratch: what waited for it is gone first");
    is_int(sfu_participants(sfu), parts + 1, "one B");

    clear();
    record(ROOMS_PROTO_LEAVE, b2, NULL);
    now += ROOMS_ROOM_LINGER_MS * 2;
    sfu_poll(sfu, now, &io);
    is_int(sfu_participants(sfu), parts, "everyone is gone");
}

/* ---- screen shares ---- */


/*
 * Participant c of the share room offers audio and video (mids 0, 1),
 * its screen on mid 2 when it shares (else that line inactive, as a
 * client's stopped share is), then 2 audio and video recvonly lines.
 */
static void
share_offer(uint64_t c, unsigned i, unsigned screen, unsigned video)
{
    char        ufrag[16], fp[100];
    unsigned    k, n;
    gen_line_t  lines[16];

    snprintf(ufrag, sizeof(ufrag), "sh%03u", i);
    snprintf(fp, sizeof(fp), "%02X:5E:CC:DD:EE:FF:00:11:22:33:44:55:66:"
             "77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99", i);

    lines[0] = (gen_line_t) { 0, 1, 30000 + 10 * i };
    lines[1] = (gen_line_t) { 1, 1, 30000 + 10 * i + 2 };
    lines[2] = (gen_line_t) { 1, 1, 30000 + 10 * i + 4 };
    n = 3;

    for (k = 0; k < 2; k++) {
        lines[n++] = (gen_line_t) { 0, 0, 0 };
    }

    for (k = 0; k < video; k++) {
        lines[n++] = (gen_line_t) { 1, 0, 0 };
    }

    gen_offer(text, ufrag, fp, 4, 96, lines, n);

    if (!screen) {
        /* mid 2's a=sendonly: the third one in the offer */
        char  *p = text;

        for (k = 0; k < 3 && p != NULL; k++) {
            p = strstr(p + (k ? 1 : 0), "a=sendonly");
        }

        if (p == NULL) {
            tap_bail_out("share offer without a third sendonly");
        }

        memcpy(p, "a=inactive", 10);
    }

    offer(c, text);
}


/* In map: the video streams of id, and how many of them are screens. */
static unsigned
share_in(json_t *map, const char *id, unsigned *screens)
{
    json_t      *v;
    unsigned     n;
    const char  *key;

    n = 0;
    *screens = 0;

    json_object_foreach(map, key, v) {
        if (strcmp(str(v, "kind"), "video") == 0
            && strcmp(str(v, "participant"), id) == 0)
        {
            n++;
            *screens += boolean(v, "screen") == 1;
        }
    }

    return n;
}


/*
 * A guest shares its screen (share, then an offer with the line): the
 * others are asked for one more video line and their map marks the
 * screen, its camera still there; a second sharer is refused
 * share_taken; a bad mid is bad_message; stop_share from a guest is
 * not_host, of someone not sharing no_such_participant; from the host it
 * ends the share (share_stopped to the sharer, the screen gone from the
 * others' maps, its line given to nobody though still sent); then the
 * other may share, and its unshare ends it.
 */
/*
 * A drain (the media worker's SIGQUIT, docs/scaling.md): its own SFU, so
 * the others' rooms are not touched.  Everyone in a room and in a lobby
 * gets CLOSE 4412, the others are told who left, the counts go to 0, no
 * host-absent policy applies after the grace, and every later JOIN and
 * RESUME gets CLOSE 4412 and nothing else.
 */
static void
test_drain(const sfu_conf_t *conf)
{
    char       err[256];
    sfu_t     *saved;
    uint64_t   h, g, w, late, res;
    unsigned   i, other;
    long long  seq_saved;

    /* a new SFU numbers its COUNT records afresh */
    seq_saved = count_seq_last;
    count_seq_last = 0;
    saved = sfu;
    sfu = sfu_create(conf, err, sizeof(err));
    if (sfu == NULL) {
        tap_bail_out("sfu_create: %s", err);
    }

    h = ROOMS_PROTO_CONN(40, 1);
    g = ROOMS_PROTO_CONN(40, 2);
    w = ROOMS_PROTO_CONN(40, 3);
    late = ROOMS_PROTO_CONN(40, 4);
    res = ROOMS_PROTO_CONN(40, 5);

    clear();
    sfu_slot_add(sfu, 40, &io);
    pair_in(h, g, 120, "end", ROOMS_HOST_GRACE_DEFAULT, 3);
    join_adm(w, 121, 5, "W", "guest", TOKEN_B, "knock");
    ok(sig(w, "waiting", 0) != NULL, "drain: a guest waits in a lobby");
    is_int(sfu_participants(sfu), 2, "drain: two in a room");

    clear();
    sfu_drain(sfu, now, &io);
    on_flush(NULL, &io);
    is_int(close_code(h), ROOMS_PROTO_CLOSE_MOVED, "drain: the host gets "
           "CLOSE 4412");
    is_int(close_code(g), ROOMS_PROTO_CLOSE_MOVED, "drain: the guest too");
    is_int(close_code(w), ROOMS_PROTO_CLOSE_MOVED, "drain: and the guest "
           "waiting in the lobby");
    is_int(sfu_participants(sfu) + sfu_waiting(sfu), 0, "drain: nobody is "
           "left");
    is_str(counts_to(40, 120), "1,0", "drain: the room counts 1, then 0");

    clear();
    is_int(absent_after(ROOMS_HOST_GRACE_DEFAULT + 1000), 0,
           "drain: no host-absent policy after the grace (the room goes on "
           "on another node)");

    clear();
    join_as(late, 122, 5, "L", "host", TOKEN_B, 0);
    resume_rec(res, 120, "guest", TOKEN_A, RESUME_1, RESUME_2);
    is_int(close_code(late), ROOMS_PROTO_CLOSE_MOVED, "drain: a JOIN after "
           "it gets CLOSE 4412");
    is_int(close_code(res), ROOMS_PROTO_CLOSE_MOVED, "drain: a RESUME too");
    for (other = 0, i = 0; i < nrecs; i++) {
        other += recs[i].type != ROOMS_PROTO_CLOSE;
    }
    is_int(other, 0, "drain: and nothing else (no welcome)");
    is_int(sfu_participants(sfu) + sfu_rooms(sfu), 0, "drain: nobody came "
           "in");

    clear();
    sfu_drain(sfu, now, &io);
    is_int(nrecs, 0, "drain: a second SIGQUIT does nothing more");

    sfu_destroy(sfu);
    sfu = saved;
    count_seq_last = seq_saved;
    clear();
}


static void
test_share(void)
{
    char       h_id[16], g1_id[16], g2_id[16];
    json_t    *m, *map;
    unsigned   n, scr, good;
    uint64_t   h, g1, g2, c[3];

    h = ROOMS_PROTO_CONN(50, 1);
    g1 = ROOMS_PROTO_CONN(50, 2);
    g2 = ROOMS_PROTO_CONN(50, 3);
    c[0] = h;
    c[1] = g1;
    c[2] = g2;

    clear();
    join_st(h, 90, "Host", "host", TOKEN_C, "\"max\":8,\"locked\":false");
    welcome_id(h, h_id);
    join_st(g1, 90, "G1", "guest", TOKEN_A, "\"max\":8,\"locked\":false");
    welcome_id(g1, g1_id);
    join_st(g2, 90, "G2", "guest", TOKEN_B, "\"max\":8,\"locked\":false");
    welcome_id(g2, g2_id);

    for (n = 0; n < 3; n++) {
        share_offer(c[n], n, 0, 2);
    }

    /* G1 shares on mid 2 */
    clear();
    record(ROOMS_PROTO_SIGNAL, g1, "{\"type\":\"share\",\"mid\":\"2\"}");
    ok(sig(g1, "error", 0) == NULL, "share: no error");
    share_offer(g1, 1, 1, 2);
    m = sig(h, "renegotiate", count_sig(h, "renegotiate") - 1);
    ok(m != NULL && num(m, "video") == 3, "the host is asked for three "
       "videos: two cameras and the screen");

    clear();
    share_offer(h, 0, 0, 3);
    map = json_object_get(sig(h, "answer", 0), "streams");
    ok(share_in(map, g1_id, &scr) == 2 && scr == 1,
       "the host's answer: G1's camera and its screen, marked screen");
    ok(share_in(map, g2_id, &scr) == 1 && scr == 0,
       "and G2's camera, no screen");

    /* one video line: the screen, whatever the view */
    clear();
    record(ROOMS_PROTO_SIGNAL, g2, "{\"type\":\"view\",\"ids\":[\"x\"]}");
    share_offer(g2, 2, 0, 1);
    map = json_object_get(sig(g2, "answer", 0), "streams");
    ok(share_in(map, g1_id, &scr) == 1 && scr == 1,
       "one video line: the screen takes it");
    clear();
    share_offer(g2, 2, 0, 3);

    /* one at a time */
    clear();
    record(ROOMS_PROTO_SIGNAL, g2, "{\"type\":\"share\",\"mid\":\"2\"}");
    is_str(str(sig(g2, "error", 0), "code"), "share_taken",
           "a second sharer: share_taken");
    ok(close_code(g2) == -1, "and it stays");
    clear();
    share_offer(g2, 2, 1, 3);
    map = json_object_get(sig(h, "streams", 0), "streams");
    ok(map == NULL || share_in(map, g2_id, &scr) == 1,
       "its refused screen is given to nobody");
    clear();
    share_offer(h, 0, 0, 3);
    map = json_object_get(sig(h, "answer", 0), "streams");
    ok(share_in(map, g2_id, &scr) == 1 && scr == 0
       && share_in(map, g1_id, &scr) == 2 && scr == 1,
       "the host still has G1's screen, and G2's camera only");

    /* who may stop a share */
    is_str(refused(g2, "stop_share", g1_id), "not_host",
           "stop_share from a guest: not_host");
    ok(sig(g1, "share_stopped", 0) == NULL, "nothing stopped");
    is_str(refused(h, "stop_share", g2_id), "no_such_participant",
           "stop_share of someone not sharing: no_such_participant");

    clear();
    host_says(h, "stop_share", g1_id);
    ok(sig(g1, "share_stopped", 0) != NULL, "the host stops G1's share: "
       "G1 is told share_stopped");
    ok(sig(h, "error", 0) == NULL, "no error to the host");
    good = 1;

    for (n = 0; n < 3; n += 2) {
        map = json_object_get(sig(c[n], "streams", 0), "streams");

        if (map == NULL || share_in(map, g1_id, &scr) != 1 || scr != 0) {
            good = 0;
        }
    }

    ok(good, "the others' maps: G1's camera, its screen gone");

    /* G1's browser goes on sending the line: nobody is given it */
    clear();
    share_offer(h, 0, 0, 3);
    map = json_object_get(sig(h, "answer", 0), "streams");
    ok(share_in(map, g1_id, &scr) == 1 && scr == 0,
       "a screen still sent after the stop is given to nobody");

    /* now G2 may */
    clear();
    record(ROOMS_PROTO_SIGNAL, g2, "{\"type\":\"share\",\"mid\":\"2\"}");
    ok(sig(g2, "error", 0) == NULL, "once stopped, another may share");
    map = json_object_get(sig(h, "streams", 0), "streams");
    ok(map != NULL && share_in(map, g2_id, &scr) >= 1 && scr == 1,
       "its screen, already sent, comes at once (first)");
    clear();
    share_offer(h, 0, 0, 3);
    map = json_object_get(sig(h, "answer", 0), "streams");
    ok(share_in(map, g2_id, &scr) == 2 && scr == 1
       && share_in(map, g1_id, &scr) == 1 && scr == 0,
       "the next answer: G2's screen and camera, G1's camera");

    clear();
    record(ROOMS_PROTO_SIGNAL, g2, "{\"type\":\"unshare\"}");
    map = json_object_get(sig(h, "streams", 0), "streams");
    ok(map != NULL && share_in(map, g2_id, &scr) == 1 && scr == 0,
       "unshare: the screen goes");

    /* a malformed share */
    clear();
    record(ROOMS_PROTO_SIGNAL, g2, "{\"type\":\"share\",\"mid\":\"a b\"}");
    is_str(str(sig(g2, "error", 0), "code"), "bad_message",
           "a mid that is no token: bad_message");
    ok(close_code(g2) == 4400, "closed 4400");

    clear();
    record(ROOMS_PROTO_SIGNAL, h, "{\"type\":\"leave\"}");
    record(ROOMS_PROTO_SIGNAL, g1, "{\"type\":\"leave\"}");
    clear();
}


int
main(void)
{
    char        err[256];
    sfu_conf_t  conf;

    memset(&conf, 0, sizeof(conf));
    conf.announce_ip = "127.0.0.1";
    conf.port = 40000;
    conf.max_sessions = 64;
    conf.log = getenv("SFU_TEST_LOG") ? log_line : NULL;
    conf.log_level = SFU_LOG_DEBUG;
    conf.rng = rng;
    /* most tests keep participants without an offer for minutes */
    conf.offer_ms = 3600000;

    sfu = sfu_create(&conf, err, sizeof(err));
    if (sfu == NULL) {
        tap_bail_out("sfu_create: %s", err);
    }

    io.q = queue;
    io.cap = sizeof(queue) / sizeof(queue[0]);
    io.flush = on_flush;
    io.record = on_record;

    test_fixtures();
    test_media();
    test_newcomer();
    test_hosts();
    test_lobby();
    test_cohosts();
    test_revisions();
    test_host_absent();
    test_view(20);
    test_view(50);
    test_view_edges();
    test_voices();
    test_resume();
    test_share();
    test_drain(&conf);

    ok(count_seq_last > 0 && count_seq_down == 0,
       "the seq of COUNT records never went down in all these calls");

    clear();
    sfu_destroy(sfu);

    conf.offer_ms = 0;
    test_no_offer(&conf);

    return done_testing();
}
