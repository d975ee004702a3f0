/*
 * test_sfu_select.c: who receives what (worker/sfu_select.c), on rooms
 * made by hand, without an SFU; and the SFU's randomness door
 * (sfu_conf_t.rng): two SFUs given the same seed answer the same records
 * with the same bytes.
 *
 * Covers: the counts a participant is asked for (every remote audio and
 * audio up to its audio_slots, video up to its video_slots, within the 72 m= lines with its own ones,
 * audio first); its receiving lines per kind; the voices it may hear
 * (the remote audio streams in join order, itself left out); its audio
 * lines that may carry one (all in an answer, the announced ones
 * between, up to its audio_slots); the video lines that
 * may take a stream (any receiving video line in an answer, only the
 * announced ones between answers); the videos a view chooses (its ids
 * in order, unknown and repeated ids skipped, then join order, never
 * its own, at most the lines it has); the line a chosen stream takes (a
 * free one first, then one whose stream is no longer chosen, else none);
 * a shared screen (the mid a "share" named) comes first for everyone
 * else, whatever their view, is a screen in nobody's own list, and a
 * line offered as a screen and not one now (refused or stopped) is
 * given to nobody, nor counted.
 * Replay: the welcome, participant_joined, answer (ICE credentials,
 * SSRCs, o= line; the certificate's fingerprint aside), renegotiate and
 * streams records of a two-person call are byte for byte the same from
 * two SFUs with one seed, and differ with another seed.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sfu_peer.h"
#include "tap.h"


/* ---- rooms made by hand ---- */


#define NPARTS  5

static sfu_room_t  room;
static sfu_part_t  parts[NPARTS];
static sfu_peer_t  peers[NPARTS];


static void
room_reset(void)
{
    unsigned  i, k;

    memset(&room, 0, sizeof(room));
    sfu_queue_init(&room.parts);
    sfu_queue_init(&room.lobby);

    for (i = 0; i < NPARTS; i++) {
        memset(&parts[i], 0, sizeof(sfu_part_t));
        memset(&peers[i], 0, sizeof(sfu_peer_t));
        snprintf(parts[i].id, sizeof(parts[i].id), "id%u", i);
        memcpy(peers[i].id, parts[i].id, sizeof(peers[i].id));
        parts[i].room = &room;
        parts[i].peer = &peers[i];
        parts[i].video_slots = ROOMS_VIDEO_SLOTS_DEFAULT;
        parts[i].audio_slots = ROOMS_AUDIO_SLOTS_MAX;
        peers[i].part = &parts[i];

        for (k = 0; k < ROOMS_SDP_MAX_MEDIA; k++) {
            peers[i].lines[k].owner = &peers[i];
            peers[i].lines[k].index = k;
        }
    }
}


static void
enter(unsigned i)
{
    sfu_queue_insert_tail(&room.parts, &parts[i].room_link);
}


/* line k of participant i: publishing (send) or receiving, of a kind */
static sfu_line_t *
line(unsigned i, unsigned k, rooms_sdp_kind_e kind, unsigned send)
{
    sfu_line_t  *l;

    l = &peers[i].lines[k];
    l->used = 1;
    l->kind = kind;
    l->publishing = send;
    l->receiving = !send;

    if (peers[i].nlines < k + 1) {
        peers[i].nlines = k + 1;
    }

    return l;
}


static void
view(unsigned i, const char *ids[], unsigned n)
{
    unsigned  k;

    parts[i].nview = n;

    for (k = 0; k < n; k++) {
        snprintf(parts[i].view[k], sizeof(parts[i].view[k]), "%s", ids[k]);
    }
}


static void
test_counts(void)
{
    unsigned  i, counts[2], have[2];

    room_reset();

    for (i = 0; i < 4; i++) {
        enter(i);
    }

    /* 0 and 1 publish audio and video, 2 audio only */
    line(0, 0, ROOMS_SDP_KIND_AUDIO, 1);
    line(0, 1, ROOMS_SDP_KIND_VIDEO, 1);
    line(1, 0, ROOMS_SDP_KIND_AUDIO, 1);
    line(1, 1, ROOMS_SDP_KIND_VIDEO, 1);
    line(2, 0, ROOMS_SDP_KIND_AUDIO, 1);

    /* 3 publishes both and receives one audio line */
    line(3, 0, ROOMS_SDP_KIND_AUDIO, 1);
    line(3, 1, ROOMS_SDP_KIND_VIDEO, 1);
    line(3, 2, ROOMS_SDP_KIND_AUDIO, 0);

    sfu_select_counts(&parts[3], counts);
    ok(counts[SFU_AUDIO] == 3 && counts[SFU_VIDEO] == 2,
       "asked: every remote audio (3) and video (2)");

    parts[3].video_slots = 1;
    sfu_select_counts(&parts[3], counts);
    ok(counts[SFU_AUDIO] == 3 && counts[SFU_VIDEO] == 1,
       "video up to video_slots (1)");

    parts[3].audio_slots = 2;
    sfu_select_counts(&parts[3], counts);
    ok(counts[SFU_AUDIO] == 2 && counts[SFU_VIDEO] == 1,
       "audio up to audio_slots (2 of 3 voices)");
    parts[3].audio_slots = ROOMS_AUDIO_SLOTS_MAX;

    sfu_select_counts(&parts[2], counts);
    ok(counts[SFU_AUDIO] == 3 && counts[SFU_VIDEO] == 3,
       "its own streams are not asked for");

    /* 71 own lines leave 1 of 72: audio first */
    parts[3].video_slots = ROOMS_VIDEO_SLOTS_DEFAULT;
    for (i = 3; i < 71; i++) {
        line(3, i, ROOMS_SDP_KIND_VIDEO, 1);
    }
    peers[3].lines[2].receiving = 0;
    peers[3].lines[2].publishing = 1;

    sfu_select_counts(&parts[3], counts);
    ok(counts[SFU_AUDIO] == 1 && counts[SFU_VIDEO] == 0,
       "within 72 m= lines with its own 71: one audio, no video (%u, %u)",
       counts[SFU_AUDIO], counts[SFU_VIDEO]);

    room_reset();
    line(0, 0, ROOMS_SDP_KIND_AUDIO, 1);
    line(0, 1, ROOMS_SDP_KIND_AUDIO, 0);
    line(0, 2, ROOMS_SDP_KIND_VIDEO, 0);
    line(0, 3, ROOMS_SDP_KIND_VIDEO, 0);
    sfu_select_receiving(&peers[0], have);
    ok(have[SFU_AUDIO] == 1 && have[SFU_VIDEO] == 2,
       "receiving lines per kind: 1 audio, 2 video");
}


static void
test_audio(void)
{
    unsigned     n, nx;
    sfu_line_t  *cand[4], *lines[ROOMS_AUDIO_SLOTS_MAX];
    sfu_line_t  *extra[ROOMS_SDP_MAX_MEDIA], *a0, *a1, *r1, *r2, *r3;

    room_reset();
    enter(0);
    enter(1);
    enter(2);

    a0 = line(0, 0, ROOMS_SDP_KIND_AUDIO, 1);
    line(0, 1, ROOMS_SDP_KIND_VIDEO, 1);
    a1 = line(1, 0, ROOMS_SDP_KIND_AUDIO, 1);
    line(2, 0, ROOMS_SDP_KIND_AUDIO, 1);
    line(2, 1, ROOMS_SDP_KIND_VIDEO, 0);
    r1 = line(2, 2, ROOMS_SDP_KIND_AUDIO, 0);
    r2 = line(2, 3, ROOMS_SDP_KIND_AUDIO, 0);
    r3 = line(2, 4, ROOMS_SDP_KIND_AUDIO, 0);

    n = sfu_select_voices(&parts[2], cand, 4);
    ok(n == 2 && cand[0] == a0 && cand[1] == a1,
       "the voices: the remote audio streams, in join order, its own "
       "left out");

    n = sfu_select_voices(&parts[2], cand, 1);
    ok(n == 1 && cand[0] == a0, "at most max voices");

    parts[2].audio_slots = 2;
    n = sfu_select_audio_lines(&parts[2], 1, lines, extra, &nx);
    ok(n == 2 && lines[0] == r1 && lines[1] == r2 && nx == 1
       && extra[0] == r3,
       "answering: the receiving audio lines up to audio_slots (2), the "
       "rest extra (not a video line, not a sending one)");

    r2->announced = 1;
    n = sfu_select_audio_lines(&parts[2], 0, lines, extra, &nx);
    ok(n == 1 && lines[0] == r2 && nx == 2,
       "between answers: the announced ones only");
}


static void
test_video(void)
{
    unsigned     n;
    sfu_line_t  *chosen[ROOMS_SDP_MAX_MEDIA], *lines[ROOMS_SDP_MAX_MEDIA];
    sfu_line_t  *v[NPARTS], *l1, *l2;

    static const char  *ids[] = { "id3", "nobody", "id3", "id0", "id4" };

    room_reset();

    for (n = 0; n < NPARTS; n++) {
        enter(n);
        v[n] = line(n, 0, ROOMS_SDP_KIND_VIDEO, 1);
    }

    l1 = line(4, 1, ROOMS_SDP_KIND_VIDEO, 0);
    l2 = line(4, 2, ROOMS_SDP_KIND_VIDEO, 0);
    line(4, 3, ROOMS_SDP_KIND_AUDIO, 0);

    /* which lines may take a stream */
    is_int(sfu_select_video_lines(&peers[4], 1, lines), 2,
           "answering: both receiving video lines");
    is_int(sfu_select_video_lines(&peers[4], 0, lines), 0,
           "between answers: none announced, none");
    l2->announced = 1;
    ok(sfu_select_video_lines(&peers[4], 0, lines) == 1 && lines[0] == l2,
       "between answers: the announced one");

    /* what its view chooses */
    n = sfu_select_video(&parts[4], chosen, 4);
    ok(n == 4 && chosen[0] == v[0] && chosen[1] == v[1]
       && chosen[2] == v[2] && chosen[3] == v[3],
       "no view: join order, its own left out");

    view(4, ids, 5);
    n = sfu_select_video(&parts[4], chosen, 4);
    ok(n == 4 && chosen[0] == v[3] && chosen[1] == v[0]
       && chosen[2] == v[1] && chosen[3] == v[2],
       "view first (unknown, repeated and own ids skipped), then join "
       "order");

    n = sfu_select_video(&parts[4], chosen, 1);
    ok(n == 1 && chosen[0] == v[3], "at most the lines it has");

    /* which line a chosen stream takes */
    n = sfu_select_video_lines(&peers[4], 1, lines);
    chosen[0] = v[3];
    chosen[1] = v[0];
    ok(sfu_select_video_line(lines, n, chosen, 2) == l1,
       "a free line first");

    l1->bound = v[3];
    ok(sfu_select_video_line(lines, n, chosen, 2) == l2,
       "the next free one");

    l2->bound = v[1];
    ok(sfu_select_video_line(lines, n, chosen, 2) == l2,
       "none free: the line whose stream is not chosen (re-pointed)");

    l2->bound = v[0];
    ok(sfu_select_video_line(lines, n, chosen, 2) == NULL,
       "every line carries a chosen stream: none");

    ok(sfu_line_of(&peers[4], v[0]) == l2 && sfu_line_of(&peers[4], v[2])
       == NULL, "the line that carries a stream, or none");
}


static void
test_share(void)
{
    unsigned     n, counts[2];
    sfu_line_t  *chosen[ROOMS_SDP_MAX_MEDIA], *cam[NPARTS], *scr;

    static const char  *ids[] = { "id2", "id1" };

    room_reset();

    for (n = 0; n < 4; n++) {
        enter(n);
        cam[n] = line(n, 0, ROOMS_SDP_KIND_VIDEO, 1);
        snprintf(cam[n]->mid, sizeof(cam[n]->mid), "0");
        line(n, 1, ROOMS_SDP_KIND_VIDEO, 0);
    }

    /* 1 shares on its line "2" */
    scr = line(1, 2, ROOMS_SDP_KIND_VIDEO, 1);
    snprintf(scr->mid, sizeof(scr->mid), "2");

    ok(!sfu_line_is_screen(scr), "a second video is no screen before "
       "its share");
    snprintf(parts[1].share, sizeof(parts[1].share), "2");
    ok(sfu_line_is_screen(scr) && !sfu_line_is_screen(cam[1]),
       "the line its share names is its screen, its camera is not");

    /* every other one gets it first, whatever its view */
    view(3, ids, 2);

    for (n = 0; n < 4; n++) {
        if (n == 1) {
            continue;
        }

        ok(sfu_select_video(&parts[n], chosen, 1) == 1 && chosen[0] == scr,
           "one line: the screen, for %u", n);
    }

    n = sfu_select_video(&parts[3], chosen, 4);
    ok(n == 4 && chosen[0] == scr && chosen[1] == cam[2]
       && chosen[2] == cam[1] && chosen[3] == cam[0],
       "the screen, then the view (the sharer's camera too), then join "
       "order");

    n = sfu_select_video(&parts[1], chosen, 4);
    ok(n == 3 && chosen[0] == cam[0] && chosen[1] == cam[2]
       && chosen[2] == cam[3], "the sharer is not given its own screen");

    sfu_select_counts(&parts[0], counts);
    is_int(counts[SFU_VIDEO], 4, "counted: three cameras and the screen");

    /* stopped (by itself or a host): its line goes to nobody */
    memcpy(parts[1].unshared, parts[1].share, sizeof(parts[1].unshared));
    parts[1].share[0] = '\0';
    ok(!sfu_line_is_screen(scr), "stopped: no screen");

    n = sfu_select_video(&parts[0], chosen, 8);
    ok(n == 3 && chosen[0] == cam[1] && chosen[1] == cam[2]
       && chosen[2] == cam[3],
       "stopped: the line it may still send is given to nobody");

    sfu_select_counts(&parts[0], counts);
    is_int(counts[SFU_VIDEO], 3, "stopped: not counted either");
}


/* ---- replay: one seed, the same bytes ---- */


typedef struct {
    uint64_t  state;
    char      out[1 << 20];
    size_t    len;
} replay_t;


static int
replay_rng(void *ctx, void *buf, size_t n)
{
    size_t     i;
    uint64_t   x;
    replay_t  *r = ctx;

    for (i = 0; i < n; i++) {
        /* xorshift64 */
        x = r->state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r->state = x;
        ((uint8_t *) buf)[i] = (uint8_t) (x >> 32);
    }

    return 0;
}


/* every record, as "type id text\n"; the fingerprint lines left out */
static int
replay_record(void *ctx, uint16_t type, uint64_t id, const void *payload,
    size_t len)
{
    char        *p, *e;
    replay_t    *r = ctx;
    const char  *fp = "a=fingerprint:";

    r->len += snprintf(r->out + r->len, sizeof(r->out) - r->len,
                       "%u %llu ", (unsigned) type, (unsigned long long) id);

    if (r->len + len + 2 >= sizeof(r->out)) {
        tap_bail_out("replay output too long");
    }

    memcpy(r->out + r->len, payload, len);
    r->out[r->len + len] = '\0';

    /* each m= line has one: the certificate is not from the seed */
    while ((p = strstr(r->out + r->len, fp)) != NULL
           && (e = strstr(p, "\\r\\n")) != NULL)
    {
        memmove(p, e, strlen(e) + 1);
        len -= (size_t) (e - p);
    }

    r->len += len;
    r->out[r->len++] = '\n';

    return 0;
}


static void
replay_flush(void *ctx, sfu_io_t *io)
{
    io->n = 0;
}


static char *
replay_load(const char *name)
{
    char    path[512], *buf;
    FILE   *f;
    size_t  n;

    snprintf(path, sizeof(path), "tests/fixtures/sdp/%s", name);

    f = fopen(path, "rb");
    if (f == NULL) {
        tap_bail_out("cannot open %s (run from the repository root)", path);
    }

    buf = calloc(1, 256 * 1024);
    n = fread(buf, 1, 256 * 1024 - 1, f);
    fclose(f);
    buf[n] = '\0';

    return buf;
}


static void
replay_send(sfu_t *sfu, sfu_io_t *io, uint16_t type, uint64_t conn,
    const char *text)
{
    rooms_proto_hdr_t  hdr;

    memset(&hdr, 0, sizeof(hdr));
    hdr.type = type;
    hdr.id = conn;
    hdr.len = (uint32_t) strlen(text);

    sfu_record(sfu, 1000000, &hdr, (const unsigned char *) text, io);
}


/* a two-person call (a publisher, a 2+2 subscriber) from seed into r */
static void
replay_run(replay_t *r, uint64_t seed)
{
    char         err[256], *s;
    json_t      *o;
    sfu_t       *sfu;
    sfu_io_t     io;
    sfu_conf_t   conf;
    sfu_dgram_t  q[8];

    static const char  *files[] = { "chromium156-publish-av-sendonly.sdp",
                                    "chromium156-recvonly-2a2v.sdp" };
    unsigned     i;

    memset(r, 0, sizeof(replay_t));
    r->state = seed;

    memset(&conf, 0, sizeof(conf));
    conf.announce_ip = "127.0.0.1";
    conf.port = 40000;
    conf.max_sessions = 8;
    conf.rng = replay_rng;
    conf.rng_ctx = r;

    sfu = sfu_create(&conf, err, sizeof(err));
    if (sfu == NULL) {
        tap_bail_out("sfu_create: %s", err);
    }

    memset(&io, 0, sizeof(io));
    io.q = q;
    io.cap = 8;
    io.ctx = r;
    io.flush = replay_flush;
    io.record = replay_record;

    for (i = 0; i < 2; i++) {
        replay_send(sfu, &io, ROOMS_PROTO_JOIN, i + 1,
                    "{\"room\":7,\"code\":\"c7\",\"max\":5,\"name\":\"N\","
                    "\"role\":\"host\",\"token\":\""
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"locked\":false}");
    }

    for (i = 0; i < 2; i++) {
        s = replay_load(files[i]);
        o = json_pack("{s:s, s:s}", "type", "offer", "sdp", s);
        free(s);
        s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        replay_send(sfu, &io, ROOMS_PROTO_SIGNAL, i + 1, s);
        free(s);
    }

    sfu_destroy(sfu);
}


static replay_t  r1, r2, r3;


static void
test_replay(void)
{
    replay_run(&r1, 0x5eed);
    replay_run(&r2, 0x5eed);
    replay_run(&r3, 0x5eee);

    ok(r1.len > 0 && strstr(r1.out, "\"type\":\"answer\"") != NULL
       && strstr(r1.out, "a=ice-ufrag:") != NULL,
       "a call was answered (%zu bytes of records)", r1.len);
    ok(strstr(r1.out, "a=fingerprint:") == NULL,
       "the certificate's fingerprint is left out");
    ok(r1.len == r2.len && memcmp(r1.out, r2.out, r1.len) == 0,
       "one seed: the same records, byte for byte");

    ok(r1.len != r3.len || memcmp(r1.out, r3.out, r1.len) != 0,
       "another seed: other ids, credentials and SSRCs");
}


int
main(void)
{
    test_counts();
    test_audio();
    test_video();
    test_share();
    test_replay();

    return done_testing();
}
