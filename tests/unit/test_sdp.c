/*
 * test_sdp.c: the SDP core of the media worker (worker/sdp*).
 *
 * Covers: the four real Chromium 156 offers (values read off the files:
 * credentials, fingerprints, payload types, header extension ids, BUNDLE,
 * directions, SSRCs and FID, simulcast rids, the data channel), the same
 * offers with LF line ends, session-level values and their media-level
 * overrides, the answer to each offer read back with our own parser
 * (ICE-lite, passive, our credentials, fingerprint and one candidate,
 * codecs, directions, BUNDLE, simulcast), a byte-exact golden answer,
 * determinism, every too-small output buffer, bad local parameters, the
 * negotiation rules on small synthetic offers, the publisher sources
 * accessor, every bound and a list of malformed offers, and every prefix
 * of every fixture (step 7) parsing or failing cleanly.
 *
 * Fixtures are read from tests/fixtures/sdp/ (run from the repository
 * root, as make test does) or from $ROOMS_SDP_FIXTURES.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"
#include "tap.h"


#define FIX_SENDONLY   "chromium156-publish-av-sendonly.sdp"
#define FIX_SIMULCAST  "chromium156-publish-simulcast.sdp"
#define FIX_RECVONLY   "chromium156-recvonly-2a2v.sdp"
#define FIX_DATA       "chromium156-sendrecv-av-datachannel.sdp"
#define GOLDEN_ANSWER  "rooms-answer-to-publish-av-sendonly.sdp"

#define BIG            65536

/* a made-up sha-256 fingerprint for synthetic offers */
#define FP32                                                                \
    "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"                      \
    "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F"

/* the session part of a synthetic offer: every transport value up here */
#define SESSION                                                             \
    "v=0\n"                                                                 \
    "o=- 1 2 IN IP4 127.0.0.1\n"                                            \
    "s=-\n"                                                                 \
    "t=0 0\n"                                                               \
    "a=ice-ufrag:abcd\n"                                                    \
    "a=ice-pwd:abcdefghijklmnopqrstuv\n"                                    \
    "a=fingerprint:sha-256 " FP32 "\n"                                      \
    "a=setup:actpass\n"

#define AUDIO(mid)                                                          \
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"                                     \
    "c=IN IP4 0.0.0.0\n"                                                    \
    "a=mid:" mid "\n"                                                       \
    "a=rtcp-mux\n"                                                          \
    "a=rtpmap:111 opus/48000/2\n"

#define VIDEO(mid)                                                          \
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\n"                                   \
    "c=IN IP4 0.0.0.0\n"                                                    \
    "a=mid:" mid "\n"                                                       \
    "a=rtcp-mux\n"                                                          \
    "a=rtpmap:96 VP8/90000\n"                                               \
    "a=rtpmap:97 rtx/90000\n"                                               \
    "a=fmtp:97 apt=96\n"


/* about 400 KB each: static, never on the stack */
static rooms_sdp_t        offer, answer, other;
static rooms_sdp_local_t  local;

static char  fixture[BIG], text[BIG], out[BIG], out2[BIG], err[256];


/* Reads a fixture into dst (NUL-terminated); bails out when missing. */
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

    if (n == 0 || n == size - 1) {
        tap_bail_out("%s is empty or too large", path);
    }

    dst[n] = '\0';

    return n;
}


/* dst = src with every "from" replaced by "to" */
static size_t
replace(const char *src, const char *from, const char *to, char *dst)
{
    size_t       nf, nt, n;
    const char  *p, *q;

    nf = strlen(from);
    nt = strlen(to);
    n = 0;

    for (p = src; (q = strstr(p, from)) != NULL; p = q + nf) {
        memcpy(dst + n, p, q - p);
        n += q - p;
        memcpy(dst + n, to, nt);
        n += nt;
    }

    strcpy(dst + n, p);

    return n + strlen(p);
}


/* dst = src without the lines that start with prefix */
static size_t
drop_lines(const char *src, const char *prefix, char *dst)
{
    size_t       n, len;
    const char  *p, *nl;

    n = 0;

    for (p = src; *p; p = nl) {
        nl = strchr(p, '\n');
        nl = nl ? nl + 1 : p + strlen(p);
        len = nl - p;

        if (strncmp(p, prefix, strlen(prefix)) != 0) {
            memcpy(dst + n, p, len);
            n += len;
        }
    }

    dst[n] = '\0';

    return n;
}


static int
count_of(const char *hay, const char *needle)
{
    int          n;
    const char  *p;

    n = 0;

    for (p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        n++;
    }

    return n;
}


static int
parse_str(const char *s, rooms_sdp_t *sdp)
{
    return rooms_sdp_parse(s, strlen(s), sdp, err, sizeof(err));
}


static void
init_local(void)
{
    unsigned  i;

    memset(&local, 0, sizeof(local));
    local.ice_ufrag = "RmsU";
    local.ice_pwd = "RoomsPassword0123456789+/";
    local.ip = "127.0.0.1";
    local.port = 40000;
    local.session_id = 4611686018427387904ULL;
    local.session_version = 2;

    for (i = 0; i < ROOMS_SDP_FP_LEN; i++) {
        local.fingerprint[i] = (unsigned char) (0xa0 + i);
    }
}


/* ------------------------------------------------------------------ */


static void
test_sendonly(void)
{
    int                       n;
    size_t                    len;
    rooms_sdp_source_t        src[ROOMS_SDP_MAX_SSRC];
    const rooms_sdp_codec_t  *c;
    const rooms_sdp_media_t  *a, *v;

    len = load(FIX_SENDONLY, fixture, sizeof(fixture));

    is_int(rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)), 0,
           "sendonly: parses (%s)", err);
    is_str(offer.ice_ufrag, "j3q9", "sendonly: ice-ufrag");
    is_str(offer.ice_pwd, "8mkcfg8uRgR97StV9/Ht3ErO", "sendonly: ice-pwd");
    is_int(offer.fingerprint_len, 32, "sendonly: fingerprint has 32 bytes");
    ok(offer.fingerprint[0] == 0x71 && offer.fingerprint[1] == 0x80
       && offer.fingerprint[30] == 0xB1 && offer.fingerprint[31] == 0xD0,
       "sendonly: fingerprint bytes 71 80 .. B1 D0");
    is_int(offer.setup, ROOMS_SDP_SETUP_ACTPASS, "sendonly: setup actpass");
    is_int(offer.ice_lite, 0, "sendonly: not ice-lite");
    is_int(offer.extmap_allow_mixed, 1, "sendonly: extmap-allow-mixed");
    is_int(offer.nbundle, 2, "sendonly: BUNDLE has 2 mids");
    ok(strcmp(offer.bundle[0], "0") == 0 && strcmp(offer.bundle[1], "1") == 0,
       "sendonly: BUNDLE 0 1");
    is_int(offer.nmedia, 2, "sendonly: 2 m= lines");

    a = &offer.media[0];
    v = &offer.media[1];

    is_int(a->kind, ROOMS_SDP_KIND_AUDIO, "sendonly: m0 is audio");
    is_int(a->port, 55947, "sendonly: audio port");
    is_str(a->proto, "UDP/TLS/RTP/SAVPF", "sendonly: audio proto");
    is_str(a->mid, "0", "sendonly: audio mid");
    is_int(a->direction, ROOMS_SDP_SENDONLY, "sendonly: audio sendonly");
    ok(a->rtcp_mux && a->rtcp_rsize, "sendonly: audio rtcp-mux, rtcp-rsize");
    is_str(a->ice_ufrag, "j3q9", "sendonly: audio ice-ufrag (media level)");
    is_int(a->ncodecs, 8, "sendonly: audio lists 8 payload types");
    is_int(a->codecs[0].pt, 111, "sendonly: Opus first");

    c = rooms_sdp_find_codec(a, 111);
    ok(c != NULL && strcmp(c->name, "opus") == 0 && c->clock == 48000
       && c->channels == 2, "sendonly: 111 opus/48000/2");
    ok(c != NULL && c->has_fmtp
       && strcmp(c->fmtp, "minptime=10;useinbandfec=1") == 0,
       "sendonly: Opus fmtp raw");
    ok(c != NULL && c->fb == ROOMS_SDP_FB_TWCC, "sendonly: Opus transport-cc");

    c = rooms_sdp_find_codec(a, 63);
    ok(c != NULL && strcmp(c->name, "red") == 0
       && strcmp(c->fmtp, "111/111") == 0 && c->apt == -1,
       "sendonly: 63 red, fmtp 111/111, no apt");

    c = rooms_sdp_find_codec(a, 0);
    ok(c != NULL && strcmp(c->name, "PCMU") == 0 && c->clock == 8000
       && c->channels == 0, "sendonly: 0 PCMU/8000 without channels");

    is_int(a->nextmaps, 4, "sendonly: audio has 4 extmaps");
    is_int(rooms_sdp_find_extmap(a, ROOMS_SDP_EXT_AUDIO_LEVEL), 1,
           "sendonly: audio-level is 1");
    is_int(rooms_sdp_find_extmap(a, ROOMS_SDP_EXT_ABS_SEND_TIME), 2,
           "sendonly: abs-send-time is 2");
    is_int(rooms_sdp_find_extmap(a, ROOMS_SDP_EXT_TWCC), 3,
           "sendonly: transport-wide-cc is 3");
    is_int(rooms_sdp_find_extmap(a, ROOMS_SDP_EXT_MID), 4,
           "sendonly: sdes:mid is 4");

    is_int(a->nssrcs, 1, "sendonly: audio has one SSRC");
    is_int(a->ssrcs[0].ssrc, 4072207237u, "sendonly: audio SSRC");
    is_str(a->ssrcs[0].cname, "oJ6b5/qbP5Kx1riz", "sendonly: audio cname");
    is_str(a->msid_stream, "243ce60f-9345-493b-a501-6ce88f257b06",
           "sendonly: audio msid stream");
    is_str(a->msid_track, "aefb02ae-99bb-4548-95de-5c4fe43d5cdb",
           "sendonly: audio msid track");

    is_int(v->kind, ROOMS_SDP_KIND_VIDEO, "sendonly: m1 is video");
    is_int(v->port, 53633, "sendonly: video port");
    is_str(v->mid, "1", "sendonly: video mid");
    is_int(v->direction, ROOMS_SDP_SENDONLY, "sendonly: video sendonly");
    is_int(v->ncodecs, 23, "sendonly: video lists 23 payload types");

    c = rooms_sdp_find_codec(v, 96);
    ok(c != NULL && strcmp(c->name, "VP8") == 0 && c->clock == 90000,
       "sendonly: 96 VP8/90000");
    ok(c != NULL && c->fb == (ROOMS_SDP_FB_NACK | ROOMS_SDP_FB_PLI
                              | ROOMS_SDP_FB_FIR | ROOMS_SDP_FB_REMB
                              | ROOMS_SDP_FB_TWCC),
       "sendonly: VP8 has the five rtcp-fb");

    c = rooms_sdp_find_codec(v, 97);
    ok(c != NULL && strcmp(c->name, "rtx") == 0 && c->apt == 96,
       "sendonly: 97 rtx apt=96");

    c = rooms_sdp_find_codec(v, 102);
    ok(c != NULL && strcmp(c->name, "H264") == 0
       && strcmp(c->fmtp, "level-asymmetry-allowed=1;packetization-mode=1;"
                 "profile-level-id=42001f") == 0,
       "sendonly: 102 H264 with its fmtp");

    c = rooms_sdp_find_codec(v, 45);
    ok(c != NULL && strcmp(c->name, "AV1") == 0, "sendonly: 45 AV1");
    ok(rooms_sdp_find_codec(v, 111) == NULL, "sendonly: no 111 on video");

    is_int(v->nextmaps, 11, "sendonly: video has 11 extmaps");
    is_int(rooms_sdp_find_extmap(v, ROOMS_SDP_EXT_ABS_SEND_TIME), 2,
           "sendonly: video abs-send-time 2");
    is_int(rooms_sdp_find_extmap(v, ROOMS_SDP_EXT_TWCC), 3,
           "sendonly: video transport-wide-cc 3");
    is_int(rooms_sdp_find_extmap(v, ROOMS_SDP_EXT_MID), 4,
           "sendonly: video sdes:mid 4");
    is_int(rooms_sdp_find_extmap(v, ROOMS_SDP_EXT_RID), 10,
           "sendonly: video rtp-stream-id 10");
    is_int(rooms_sdp_find_extmap(v, ROOMS_SDP_EXT_RRID), 11,
           "sendonly: video repaired-rtp-stream-id 11");
    is_int(rooms_sdp_find_extmap(v, "urn:ietf:params:rtp-hdrext:toffset"),
           14, "sendonly: video toffset 14");

    is_int(v->nssrcs, 2, "sendonly: video has two SSRCs");
    is_int(v->nfids, 1, "sendonly: one FID group");
    ok(v->fids[0].primary == 3112590648u && v->fids[0].rtx == 985554327u,
       "sendonly: FID 3112590648 -> 985554327");
    is_int(v->nrids, 0, "sendonly: no rids");

    n = rooms_sdp_media_sources(a, src, ROOMS_SDP_MAX_SSRC);
    is_int(n, 1, "sendonly: audio sends one source");
    ok(n == 1 && src[0].has_ssrc && src[0].ssrc == 4072207237u
       && !src[0].has_rtx && src[0].rid[0] == '\0',
       "sendonly: audio source is 4072207237, no RTX");

    n = rooms_sdp_media_sources(v, src, ROOMS_SDP_MAX_SSRC);
    is_int(n, 1, "sendonly: video sends one source (RTX folded in)");
    ok(n == 1 && src[0].ssrc == 3112590648u && src[0].has_rtx
       && src[0].rtx_ssrc == 985554327u,
       "sendonly: video source 3112590648 with RTX 985554327");
    is_int(rooms_sdp_media_sources(v, src, 0), -1,
           "sources: too small an array is -1");

    is_int(rooms_sdp_find_mid(&offer, "1"), 1, "find_mid 1");
    is_int(rooms_sdp_find_mid(&offer, "7"), -1, "find_mid of a stranger");
}


static void
test_simulcast(void)
{
    int                       n;
    size_t                    len;
    rooms_sdp_source_t        src[ROOMS_SDP_MAX_SSRC];
    const rooms_sdp_media_t  *v;

    len = load(FIX_SIMULCAST, fixture, sizeof(fixture));

    is_int(rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)), 0,
           "simulcast: parses (%s)", err);
    is_str(offer.ice_ufrag, "OARt", "simulcast: ice-ufrag");
    is_str(offer.ice_pwd, "PkfVA7mmRtphcijkFitQAIQQ", "simulcast: ice-pwd");
    ok(offer.fingerprint_len == 32 && offer.fingerprint[0] == 0xA4
       && offer.fingerprint[31] == 0x27,
       "simulcast: fingerprint 32 bytes, A4 .. 27");
    is_int(offer.nmedia, 2, "simulcast: 2 m= lines");

    v = &offer.media[1];

    is_int(v->direction, ROOMS_SDP_SENDONLY, "simulcast: video sendonly");
    is_int(v->nextmaps, 13, "simulcast: video has 13 extmaps");
    is_int(rooms_sdp_find_extmap(v, ROOMS_SDP_EXT_RID), 10,
           "simulcast: rtp-stream-id 10");
    is_int(rooms_sdp_find_extmap(v, ROOMS_SDP_EXT_RRID), 11,
           "simulcast: repaired-rtp-stream-id 11");
    is_int(v->nrids, 3, "simulcast: three a=rid");
    ok(strcmp(v->rids[0].id, "q") == 0 && strcmp(v->rids[1].id, "h") == 0
       && strcmp(v->rids[2].id, "f") == 0, "simulcast: rids q h f");
    ok(v->rids[0].direction == ROOMS_SDP_SEND
       && v->rids[2].direction == ROOMS_SDP_SEND, "simulcast: rids send");
    is_int(v->nsim_send, 3, "simulcast: send list of 3");
    ok(strcmp(v->sim_send[0].rid, "q") == 0
       && strcmp(v->sim_send[1].rid, "h") == 0
       && strcmp(v->sim_send[2].rid, "f") == 0 && !v->sim_send[0].paused,
       "simulcast: a=simulcast:send q;h;f");
    is_int(v->nsim_recv, 0, "simulcast: no recv list");
    is_int(v->nssrcs, 0, "simulcast: no a=ssrc on video");

    n = rooms_sdp_media_sources(v, src, ROOMS_SDP_MAX_SSRC);
    is_int(n, 3, "simulcast: three sources");
    ok(n == 3 && strcmp(src[0].rid, "q") == 0 && strcmp(src[2].rid, "f") == 0
       && !src[0].has_ssrc, "simulcast: sources are rids q .. f, no SSRC");
}


static void
test_recvonly(void)
{
    unsigned                  i;
    size_t                    len;
    rooms_sdp_source_t        src[ROOMS_SDP_MAX_SSRC];
    const rooms_sdp_codec_t  *c;
    const rooms_sdp_media_t  *m;

    static const char              *mids[] = { "0", "1", "2", "3" };
    static const rooms_sdp_kind_e  kinds[] = { ROOMS_SDP_KIND_AUDIO,
                                               ROOMS_SDP_KIND_VIDEO,
                                               ROOMS_SDP_KIND_AUDIO,
                                               ROOMS_SDP_KIND_VIDEO };

    len = load(FIX_RECVONLY, fixture, sizeof(fixture));

    is_int(rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)), 0,
           "recvonly: parses (%s)", err);
    is_str(offer.ice_ufrag, "NJYv", "recvonly: ice-ufrag");
    ok(offer.fingerprint_len == 32 && offer.fingerprint[0] == 0xE7
       && offer.fingerprint[31] == 0x83,
       "recvonly: fingerprint 32 bytes, E7 .. 83");
    is_int(offer.nmedia, 4, "recvonly: 4 m= lines");
    is_int(offer.nbundle, 4, "recvonly: BUNDLE 0 1 2 3");

    for (i = 0; i < 4; i++) {
        m = &offer.media[i];

        ok(m->kind == kinds[i] && strcmp(m->mid, mids[i]) == 0
           && strcmp(offer.bundle[i], mids[i]) == 0
           && m->direction == ROOMS_SDP_RECVONLY && m->nssrcs == 0
           && m->msid_stream[0] == '\0'
           && rooms_sdp_media_sources(m, src, ROOMS_SDP_MAX_SSRC) == 0,
           "recvonly: m%u %s mid %s recvonly, no SSRC, no source", i,
           m->media, m->mid);
    }

    m = &offer.media[1];

    is_int(m->ncodecs, 34, "recvonly: video lists 34 payload types");
    is_int(m->codecs[33].pt, 49, "recvonly: the last one is 49");

    c = rooms_sdp_find_codec(m, 49);
    ok(c != NULL && strcmp(c->name, "flexfec-03") == 0
       && strcmp(c->fmtp, "repair-window=10000000") == 0,
       "recvonly: 49 flexfec-03 with its fmtp");

    c = rooms_sdp_find_codec(m, 36);
    ok(c != NULL && c->apt == 35, "recvonly: 36 is rtx apt=35");
    is_int(offer.media[0].ncodecs, 8, "recvonly: audio lists 8");
    is_int(offer.media[2].port, 55520, "recvonly: second audio port");
}


static void
test_datachannel(void)
{
    size_t                    len;
    const rooms_sdp_media_t  *d;

    len = load(FIX_DATA, fixture, sizeof(fixture));

    is_int(rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)), 0,
           "datachannel: parses (%s)", err);
    is_str(offer.ice_ufrag, "nX//", "datachannel: ice-ufrag");
    is_str(offer.ice_pwd, "/HApO0ZDOt+3Wi9KeC6FIOdY", "datachannel: ice-pwd");
    ok(offer.fingerprint_len == 32 && offer.fingerprint[0] == 0xB9
       && offer.fingerprint[31] == 0x3B,
       "datachannel: fingerprint 32 bytes, B9 .. 3B");
    is_int(offer.nmedia, 3, "datachannel: 3 m= lines");
    is_int(offer.nbundle, 3, "datachannel: BUNDLE 0 1 2");
    is_int(offer.media[0].direction, ROOMS_SDP_SENDRECV,
           "datachannel: audio sendrecv");
    is_int(offer.media[1].direction, ROOMS_SDP_SENDRECV,
           "datachannel: video sendrecv");

    d = &offer.media[2];

    is_int(d->kind, ROOMS_SDP_KIND_APPLICATION,
           "datachannel: m2 is application");
    is_str(d->media, "application", "datachannel: media name");
    is_int(d->port, 55606, "datachannel: port");
    is_str(d->proto, "UDP/DTLS/SCTP", "datachannel: proto");
    is_str(d->fmt, "webrtc-datachannel", "datachannel: format");
    is_str(d->mid, "2", "datachannel: mid 2");
    is_int(d->sctp_port, 5000, "datachannel: sctp-port 5000");
    is_int(d->max_message_size, 262144, "datachannel: max-message-size");
    is_int(d->ncodecs, 0, "datachannel: no payload types");
    is_int(d->fingerprint_len, 32, "datachannel: its own fingerprint");
}


/* ------------------------------------------------------------------ */


/*
 * Answers one fixture and reads the answer back; checks everything the
 * brief asks of an answer against the offer it came from.
 */
/*
 * Negotiate only what the worker honours: every a=rtcp-fb and a=extmap
 * line of an answer names a feedback kind the worker sends or answers, or
 * a header extension it reads or writes (transport-cc both ways: the
 * worker sends transport feedback for what it receives, and stamps its
 * own transport numbers on what it sends).  A browser told it gets
 * feedback that never comes holds its bandwidth estimate at the floor.
 */
static void
check_honoured(const char *name, const char *sdp)
{
    int          bad_fb, bad_ext, nfb, ntwcc;
    size_t       k, len;
    const char  *line, *end, *sp;

    static const char  *fbs[] = { "nack", "nack pli", "ccm fir",
                                  "transport-cc" };
    static const char  *exts[] = {
        ROOMS_SDP_EXT_MID, ROOMS_SDP_EXT_ABS_SEND_TIME,
        ROOMS_SDP_EXT_AUDIO_LEVEL, ROOMS_SDP_EXT_RID, ROOMS_SDP_EXT_RRID,
        ROOMS_SDP_EXT_TWCC
    };

    bad_fb = 0;
    bad_ext = 0;
    nfb = 0;
    ntwcc = 0;

    for (line = sdp; *line != '\0'; line = end + 2) {
        end = strstr(line, "\r\n");

        if (end == NULL) {
            break;
        }

        if (strncmp(line, "a=rtcp-fb:", 10) == 0) {
            nfb++;
            sp = memchr(line, ' ', (size_t) (end - line));
            len = sp ? (size_t) (end - sp - 1) : 0;

            for (k = 0; k < sizeof(fbs) / sizeof(fbs[0]); k++) {
                if (sp && strlen(fbs[k]) == len
                    && strncmp(sp + 1, fbs[k], len) == 0)
                {
                    break;
                }
            }

            if (k == 3) {
                ntwcc++;
            }

            if (k == sizeof(fbs) / sizeof(fbs[0])) {
                diag("%s: not honoured: %.*s", name, (int) (end - line),
                     line);
                bad_fb++;
            }

        } else if (strncmp(line, "a=extmap:", 9) == 0) {
            sp = memchr(line, ' ', (size_t) (end - line));
            len = sp ? (size_t) (end - sp - 1) : 0;

            for (k = 0; k < sizeof(exts) / sizeof(exts[0]); k++) {
                if (sp && strlen(exts[k]) == len
                    && strncmp(sp + 1, exts[k], len) == 0)
                {
                    break;
                }
            }

            if (k == sizeof(exts) / sizeof(exts[0])) {
                diag("%s: not honoured: %.*s", name, (int) (end - line),
                     line);
                bad_ext++;
            }
        }
    }

    is_int(bad_fb, 0, "%s: every a=rtcp-fb (%d, %d transport-cc) is one the "
           "worker honours", name, nfb, ntwcc);
    is_int(bad_ext, 0, "%s: every a=extmap is one the worker honours",
           name);
    is_int(count_of(sdp, "goog-remb"), 0, "%s: no goog-remb", name);
}


static void
check_answer(const char *name)
{
    int                       n, n2, accepted, bad;
    char                      bundle[256];
    size_t                    len;
    unsigned                  i, k;
    rooms_sdp_neg_t           neg;
    const rooms_sdp_codec_t  *c;
    const rooms_sdp_media_t  *om, *am;

    len = load(name, fixture, sizeof(fixture));

    if (rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)) != 0) {
        tap_bail_out("%s does not parse: %s", name, err);
    }

    init_local();

    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    ok(n > 0 && (size_t) n == strlen(out), "%s: answer of %d bytes", name, n);

    n2 = rooms_sdp_answer(&offer, &local, out2, sizeof(out2));
    ok(n2 == n && memcmp(out, out2, n + 1) == 0,
       "%s: a second answer is byte-identical", name);

    is_int(rooms_sdp_parse(out, n, &answer, err, sizeof(err)), 0,
           "%s: our parser reads the answer (%s)", name, err);

    ok(strstr(out, "\r\na=ice-lite\r\n") != NULL
       && strstr(out, "\r\na=ice-lite\r\n") < strstr(out, "\r\nm="),
       "%s: a=ice-lite at session level", name);
    is_int(answer.ice_lite, 1, "%s: parsed answer is ice-lite", name);
    is_int(answer.setup, ROOMS_SDP_SETUP_PASSIVE, "%s: setup passive", name);
    is_str(answer.ice_ufrag, "RmsU", "%s: our ufrag", name);
    is_str(answer.ice_pwd, "RoomsPassword0123456789+/", "%s: our pwd", name);
    ok(answer.fingerprint_len == 32
       && memcmp(answer.fingerprint, local.fingerprint, 32) == 0,
       "%s: our sha-256 fingerprint", name);
    is_int(count_of(out, "\r\na=candidate:"), 1, "%s: one candidate", name);
    ok(strstr(out, "\r\na=candidate:1 1 udp 2130706431 127.0.0.1 40000 "
                   "typ host\r\na=end-of-candidates\r\n") != NULL,
       "%s: host candidate 127.0.0.1:40000 then end-of-candidates", name);
    is_int(count_of(out, "\r\na=end-of-candidates"), 1,
           "%s: one end-of-candidates", name);
    ok(strncmp(out, "v=0\r\no=- 4611686018427387904 2 IN IP4 127.0.0.1\r\n",
               47) == 0, "%s: v= and o= from local", name);
    is_int(answer.nmedia, offer.nmedia, "%s: one answer m= line per offer "
           "m= line", name);

    accepted = 0;
    bundle[0] = '\0';

    for (i = 0; i < offer.nmedia && i < answer.nmedia; i++) {
        om = &offer.media[i];
        am = &answer.media[i];

        rooms_sdp_negotiate(&offer, i, &neg);

        is_str(am->mid, om->mid, "%s: m%u mid %s kept", name, i, om->mid);

        if (om->kind == ROOMS_SDP_KIND_APPLICATION) {
            ok(am->port == 0 && am->kind == ROOMS_SDP_KIND_APPLICATION
               && strcmp(am->proto, om->proto) == 0 && !neg.accepted,
               "%s: m%u data channel rejected with port 0", name, i);
            ok(strstr(out, "m=application 0 UDP/DTLS/SCTP "
                           "webrtc-datachannel\r\n") != NULL,
               "%s: m%u rejected line echoes proto and format", name, i);
            continue;
        }

        accepted++;
        strcat(bundle, " ");
        strcat(bundle, om->mid);

        ok(neg.accepted && am->port == 40000, "%s: m%u accepted on port "
           "40000", name, i);
        ok(am->rtcp_mux && am->rtcp_rsize, "%s: m%u rtcp-mux, rtcp-rsize",
           name, i);
        is_int(am->setup, ROOMS_SDP_SETUP_PASSIVE, "%s: m%u passive", name, i);

        /* mirrored direction */
        is_int(am->direction,
               om->direction == ROOMS_SDP_SENDONLY ? ROOMS_SDP_RECVONLY
               : om->direction == ROOMS_SDP_RECVONLY ? ROOMS_SDP_SENDONLY
               : om->direction, "%s: m%u direction mirrors the offer's",
               name, i);

        if (om->kind == ROOMS_SDP_KIND_AUDIO) {
            c = &am->codecs[0];
            ok(am->ncodecs == 1 && c->pt == 111
               && strcmp(c->name, "opus") == 0 && c->clock == 48000
               && c->channels == 2, "%s: m%u Opus 111 only", name, i);
            is_str(c->fmtp, "minptime=10;useinbandfec=1",
                   "%s: m%u Opus fmtp", name, i);
            is_int(c->fb, ROOMS_SDP_FB_TWCC, "%s: m%u transport-cc on Opus",
                   name, i);
            ok(am->nextmaps == 4
               && am->extmaps[0].id == 1 && am->extmaps[1].id == 2
               && am->extmaps[2].id == 3 && am->extmaps[3].id == 4
               && rooms_sdp_find_extmap(am, ROOMS_SDP_EXT_AUDIO_LEVEL) == 1,
               "%s: m%u audio extmaps 1 2 3 4 in the offer's order", name,
               i);

        } else {
            c = &am->codecs[0];
            ok(am->ncodecs == 2 && c->pt == 96
               && strcmp(c->name, "VP8") == 0 && am->codecs[1].pt == 97
               && am->codecs[1].apt == 96, "%s: m%u VP8 96 + RTX 97 only",
               name, i);
            is_int(c->fb, ROOMS_SDP_FB_NACK | ROOMS_SDP_FB_PLI
                   | ROOMS_SDP_FB_FIR | ROOMS_SDP_FB_TWCC,
                   "%s: m%u VP8 rtcp-fb nack, pli, fir, transport-cc", name,
                   i);
            is_int(am->codecs[1].fb, 0, "%s: m%u no rtcp-fb on RTX", name,
                   i);
            is_int(rooms_sdp_find_extmap(am, ROOMS_SDP_EXT_MID), 4,
                   "%s: m%u mid ext 4", name, i);
            is_int(rooms_sdp_find_extmap(am, ROOMS_SDP_EXT_ABS_SEND_TIME), 2,
                   "%s: m%u abs-send-time 2", name, i);
            is_int(rooms_sdp_find_extmap(am, ROOMS_SDP_EXT_TWCC), 3,
                   "%s: m%u transport-wide-cc 3", name, i);
            is_int(rooms_sdp_find_extmap(am,
                                         "urn:ietf:params:rtp-hdrext:toffset"),
                   0, "%s: m%u no toffset", name, i);

            if (om->nsim_send > 0) {
                is_int(am->nextmaps, 5, "%s: m%u 5 extmaps with simulcast",
                       name, i);
                is_int(rooms_sdp_find_extmap(am, ROOMS_SDP_EXT_RID), 10,
                       "%s: m%u rid ext 10", name, i);
                is_int(rooms_sdp_find_extmap(am, ROOMS_SDP_EXT_RRID), 11,
                       "%s: m%u repaired-rid ext 11", name, i);
                ok(am->nrids == 3
                   && am->rids[0].direction == ROOMS_SDP_RECV
                   && strcmp(am->rids[0].id, "q") == 0
                   && strcmp(am->rids[1].id, "h") == 0
                   && strcmp(am->rids[2].id, "f") == 0,
                   "%s: m%u a=rid:q/h/f recv", name, i);
                ok(am->nsim_recv == 3 && am->nsim_send == 0
                   && strcmp(am->sim_recv[0].rid, "q") == 0
                   && strcmp(am->sim_recv[2].rid, "f") == 0,
                   "%s: m%u a=simulcast:recv q;h;f", name, i);
                ok(strstr(out, "\r\na=simulcast:recv q;h;f\r\n") != NULL,
                   "%s: simulcast line verbatim", name);

            } else {
                is_int(am->nextmaps, 3, "%s: m%u 3 extmaps, no rid", name,
                       i);
                ok(am->nrids == 0 && am->nsim_recv == 0,
                   "%s: m%u no simulcast", name, i);
            }
        }

        bad = 0;

        for (k = 0; k < am->nextmaps; k++) {
            if (rooms_sdp_find_extmap(om, am->extmaps[k].uri)
                != am->extmaps[k].id)
            {
                bad++;
            }
        }

        is_int(bad, 0, "%s: m%u every extmap id is the offer's", name, i);
    }

    is_int(answer.nbundle, accepted, "%s: BUNDLE lists %d accepted mids",
           name, accepted);

    {
        char  got[256];

        got[0] = '\0';

        for (i = 0; i < answer.nbundle; i++) {
            strcat(got, " ");
            strcat(got, answer.bundle[i]);
        }

        is_str(got, bundle, "%s: BUNDLE is exactly the accepted mids", name);
    }

    check_honoured(name, out);

    /* the bare minimum a browser insists on, and nothing we do not keep */
    is_int(count_of(out, "H264"), 0, "%s: no H264 in the answer", name);
    is_int(count_of(out, "red/"), 0, "%s: no RED in the answer", name);
    is_int(count_of(out, "\n"), count_of(out, "\r\n"), "%s: CRLF lines",
           name);
}


static void
test_answers(void)
{
    check_answer(FIX_SENDONLY);
    check_answer(FIX_SIMULCAST);
    check_answer(FIX_RECVONLY);
    check_answer(FIX_DATA);
}


static void
test_golden(void)
{
    int     n;
    size_t  len;

    len = load(FIX_SENDONLY, fixture, sizeof(fixture));
    init_local();

    if (rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)) != 0) {
        tap_bail_out("%s does not parse: %s", FIX_SENDONLY, err);
    }

    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    load(GOLDEN_ANSWER, text, sizeof(text));

    ok(n > 0 && strcmp(out, text) == 0,
       "the answer to the sendonly offer is byte-for-byte the golden one");

    if (n <= 0 || strcmp(out, text) != 0) {
        diag("got:\n%s", out);
    }
}


static void
test_lf(void)
{
    int       n, crlf;
    size_t    len;
    unsigned  i;

    static const char  *names[] = { FIX_SENDONLY, FIX_SIMULCAST,
                                    FIX_RECVONLY, FIX_DATA };

    init_local();

    for (i = 0; i < 4; i++) {
        load(names[i], fixture, sizeof(fixture));

        if (parse_str(fixture, &offer) != 0) {
            tap_bail_out("%s does not parse: %s", names[i], err);
        }

        crlf = rooms_sdp_answer(&offer, &local, out, sizeof(out));

        len = replace(fixture, "\r\n", "\n", text);
        is_int(rooms_sdp_parse(text, len, &other, err, sizeof(err)), 0,
               "%s with LF line ends parses (%s)", names[i], err);

        n = rooms_sdp_answer(&other, &local, out2, sizeof(out2));
        ok(n == crlf && strcmp(out, out2) == 0,
           "%s: LF and CRLF offers get the same answer", names[i]);

        /* no final line end at all */
        len = strlen(fixture);
        fixture[len - 2] = '\0';
        is_int(parse_str(fixture, &other), 0,
               "%s without its last CRLF parses (%s)", names[i], err);
    }
}


/* ------------------------------------------------------------------ */


static void
test_session_level(void)
{
    rooms_sdp_neg_t  neg;

    is_int(parse_str(SESSION "a=group:BUNDLE a v\n" AUDIO("a") VIDEO("v"),
                     &offer), 0,
           "session-level credentials and fingerprint (%s)", err);
    is_str(offer.media[1].ice_ufrag, "abcd",
           "a media line inherits the session ufrag");
    is_str(offer.media[1].ice_pwd, "abcdefghijklmnopqrstuv",
           "a media line inherits the session pwd");
    ok(offer.media[1].fingerprint_len == 32
       && offer.media[1].fingerprint[31] == 0x1f,
       "a media line inherits the session fingerprint");
    is_int(offer.media[0].setup, ROOMS_SDP_SETUP_ACTPASS,
           "a media line inherits the session setup");
    is_int(offer.media[0].direction, ROOMS_SDP_SENDRECV,
           "no direction attribute reads sendrecv");

    is_int(parse_str(SESSION "a=group:BUNDLE a v\na=sendonly\n"
                     AUDIO("a")
                     "a=ice-ufrag:wxyz\n"
                     "a=ice-pwd:ABCDEFGHIJKLMNOPQRSTUVWX\n"
                     "a=recvonly\n"
                     VIDEO("v")
                     "a=rtcp-fb:* nack\n"
                     "a=rtcp-fb:96 ccm fir\n"
                     "a=rtcp-fb:96 ccm tmmbr\n"
                     "a=rtcp-fb:96 nack sli\n", &offer), 0,
           "media-level overrides (%s)", err);
    is_str(offer.media[0].ice_ufrag, "wxyz", "media-level ufrag wins");
    is_str(offer.media[0].ice_pwd, "ABCDEFGHIJKLMNOPQRSTUVWX",
           "media-level pwd wins");
    is_str(offer.ice_ufrag, "wxyz", "the transport is the first m= line's");
    is_str(offer.media[1].ice_ufrag, "abcd", "the next line keeps the "
           "session ufrag");
    is_int(offer.media[0].direction, ROOMS_SDP_RECVONLY,
           "media-level direction wins");
    is_int(offer.media[1].direction, ROOMS_SDP_SENDONLY,
           "session-level direction is the default");
    is_int(rooms_sdp_find_codec(&offer.media[1], 96)->fb,
           ROOMS_SDP_FB_NACK | ROOMS_SDP_FB_FIR,
           "rtcp-fb:* applies to every payload type; unknown kinds dropped");
    is_int(rooms_sdp_find_codec(&offer.media[1], 97)->fb, ROOMS_SDP_FB_NACK,
           "rtcp-fb:* reaches RTX too");

    rooms_sdp_negotiate(&offer, 1, &neg);
    ok(neg.accepted && neg.pt == 96 && neg.rtx_pt == 97
       && neg.direction == ROOMS_SDP_RECVONLY
       && neg.fb == (ROOMS_SDP_FB_NACK | ROOMS_SDP_FB_FIR),
       "negotiate: VP8 96 + RTX 97, recvonly, nack + fir");
    is_int(rooms_sdp_negotiate(&offer, 2, &neg), -1,
           "negotiate: an index past the end is -1");
}


static void
test_negotiation_rules(void)
{
    int              n;
    rooms_sdp_neg_t  neg;

    init_local();

    /* no BUNDLE group: one transport, so only the first line */
    is_int(parse_str(SESSION AUDIO("a") VIDEO("v"), &offer), 0,
           "an offer without BUNDLE parses (%s)", err);
    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    ok(n > 0 && strstr(out, "a=group:") == NULL,
       "without BUNDLE in the offer the answer adds none");
    is_int(parse_str(out, &answer), 0, "that answer parses (%s)", err);
    ok(answer.media[0].port == 40000 && answer.media[1].port == 0
       && answer.media[1].direction == ROOMS_SDP_INACTIVE,
       "without BUNDLE only the first m= line is accepted");
    rooms_sdp_negotiate(&offer, 1, &neg);
    ok(!neg.accepted && neg.reason != NULL, "negotiate says why: %s",
       neg.reason ? neg.reason : "(null)");

    /* a line left out of BUNDLE */
    is_int(parse_str(SESSION "a=group:BUNDLE v\n" AUDIO("a") VIDEO("v"),
                     &offer), 0, "a line outside BUNDLE parses");
    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    is_int(parse_str(out, &answer), 0, "its answer parses (%s)", err);
    ok(answer.media[0].port == 0 && answer.media[1].port == 40000
       && answer.nbundle == 1 && strcmp(answer.bundle[0], "v") == 0,
       "a line outside BUNDLE is rejected; BUNDLE v; video carries ICE");
    ok(strstr(out, "m=video 40000 UDP/TLS/RTP/SAVPF 96 97\r\n"
                   "c=IN IP4 127.0.0.1\r\na=candidate:") != NULL,
       "the candidate goes to the first accepted m= line");

    /* H264 only, no rtcp-mux, inactive, bundle-only, unknown media */
    is_int(parse_str(SESSION "a=group:BUNDLE a v w x y\n"
                     AUDIO("a") "a=inactive\n"
                     "m=video 9 UDP/TLS/RTP/SAVPF 102\n"
                     "a=mid:v\na=rtcp-mux\na=rtpmap:102 H264/90000\n"
                     "m=video 9 UDP/TLS/RTP/SAVPF 96\n"
                     "a=mid:w\na=rtpmap:96 VP8/90000\n"
                     "m=video 0 UDP/TLS/RTP/SAVPF 96\n"
                     "a=mid:x\na=bundle-only\na=rtcp-mux\n"
                     "a=rtpmap:96 VP8/90000\n"
                     "m=text 9 RTP/AVP 98\na=mid:y\n", &offer), 0,
           "an offer of odd lines parses (%s)", err);
    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    is_int(parse_str(out, &answer), 0, "its answer parses (%s)", err);
    ok(answer.media[0].port == 40000
       && answer.media[0].direction == ROOMS_SDP_INACTIVE,
       "an inactive offer is accepted inactive");
    ok(answer.media[1].port == 0
       && answer.media[1].direction == ROOMS_SDP_INACTIVE
       && strstr(out, "m=video 0 UDP/TLS/RTP/SAVPF 102\r\n") != NULL,
       "video without VP8: port 0, a=inactive, offer's first format");
    ok(answer.media[2].port == 0, "video without rtcp-mux: port 0");
    ok(answer.media[3].port == 40000 && answer.media[3].ncodecs == 1
       && answer.media[3].codecs[0].pt == 96,
       "a bundle-only line (port 0) is accepted into BUNDLE");
    ok(answer.media[4].port == 0 && answer.media[4].kind == ROOMS_SDP_KIND_OTHER
       && strstr(out, "m=text 0 RTP/AVP 98\r\n") != NULL,
       "unknown media: port 0, echoed");
    ok(answer.nbundle == 2 && strcmp(answer.bundle[0], "a") == 0
       && strcmp(answer.bundle[1], "x") == 0, "BUNDLE a x");

    /* roles and lite */
    is_int(parse_str(SESSION "a=setup:active\n" AUDIO("a"), &offer), -1,
           "two a=setup at one level are refused (%s)", err);
    is_int(parse_str(SESSION "a=group:BUNDLE a\n" AUDIO("a")
                     "a=setup:passive\n", &offer), 0,
           "a media-level a=setup overrides the session's");
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_EROLE, "a media-level setup:passive: no answer");
    replace(SESSION "a=group:BUNDLE a\n" AUDIO("a"), "a=setup:actpass",
            "a=setup:passive", text);
    is_int(parse_str(text, &offer), 0, "setup:passive parses");
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_EROLE, "setup:passive: we cannot be the DTLS client");
    replace(SESSION "a=group:BUNDLE a\n" AUDIO("a"), "a=setup:actpass",
            "a=setup:active", text);
    is_int(parse_str(text, &offer), 0, "setup:active parses");
    ok(rooms_sdp_answer(&offer, &local, out, sizeof(out)) > 0
       && strstr(out, "a=setup:passive") != NULL,
       "setup:active is answered passive");
    replace(SESSION "a=group:BUNDLE a\n" AUDIO("a"), "a=setup:actpass",
            "a=ice-lite", text);
    is_int(parse_str(text, &offer), 0, "an ice-lite offer parses");
    is_int(offer.ice_lite, 1, "ice-lite is read");
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELITE, "two lite agents are refused");

    /* a simulcast offer with a recvonly direction gets no simulcast */
    is_int(parse_str(SESSION "a=group:BUNDLE v\n" VIDEO("v")
                     "a=recvonly\na=rid:a send\na=rid:b send\n"
                     "a=simulcast:send a;~b\n", &offer), 0,
           "recvonly simulcast parses (%s)", err);
    ok(offer.media[0].sim_send[1].paused
       && strcmp(offer.media[0].sim_send[1].rid, "b") == 0,
       "a paused (~) simulcast stream is read");
    rooms_sdp_negotiate(&offer, 0, &neg);
    ok(neg.accepted && !neg.simulcast && neg.direction == ROOMS_SDP_SENDONLY,
       "simulcast is not answered when the offer does not send");
}


static void
test_send_block(void)
{
    int                 n;
    size_t              len;
    rooms_sdp_source_t  src[ROOMS_SDP_MAX_SSRC];

    len = load(FIX_RECVONLY, fixture, sizeof(fixture));

    if (rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)) != 0) {
        tap_bail_out("recvonly does not parse: %s", err);
    }

    init_local();
    local.cname = "rooms-sfu";
    local.send[0].ssrc = 1111;
    local.send[0].msid_stream = "peerA";
    local.send[0].msid_track = "peerA-audio";
    local.send[1].ssrc = 2222;
    local.send[1].rtx_ssrc = 3333;
    local.send[1].msid_stream = "peerA";
    local.send[1].msid_track = "peerA-video";

    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    ok(n > 0, "an answer that announces what we send (%d)", n);
    is_int(parse_str(out, &answer), 0, "it parses (%s)", err);

    is_int(answer.media[0].direction, ROOMS_SDP_SENDONLY,
           "recvonly offer: we send");
    is_str(answer.media[0].msid_stream, "peerA", "audio msid stream");
    is_str(answer.media[0].msid_track, "peerA-audio", "audio msid track");
    ok(answer.media[0].nssrcs == 1 && answer.media[0].ssrcs[0].ssrc == 1111
       && strcmp(answer.media[0].ssrcs[0].cname, "rooms-sfu") == 0,
       "audio a=ssrc 1111 with our cname");

    n = rooms_sdp_media_sources(&answer.media[1], src, ROOMS_SDP_MAX_SSRC);
    ok(n == 1 && src[0].ssrc == 2222 && src[0].has_rtx
       && src[0].rtx_ssrc == 3333, "video 2222 with RTX 3333 (FID)");
    ok(answer.media[2].nssrcs == 0 && answer.media[2].msid_stream[0] == '\0',
       "nothing announced on the lines we were given nothing for");

    /* on a line where we only receive, nothing is announced */
    len = load(FIX_SENDONLY, fixture, sizeof(fixture));

    if (rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)) != 0) {
        tap_bail_out("sendonly does not parse: %s", err);
    }

    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    ok(n > 0 && strstr(out, "a=ssrc") == NULL && strstr(out, "a=msid") == NULL,
       "a recvonly answer line announces no SSRC or msid");
}


/* an answer with the worker's candidate list (addrs.h) */
static void
test_candidates(void)
{
    int               n;
    size_t            len;
    rooms_sdp_cand_t  cands[3];

    len = load(FIX_SENDONLY, fixture, sizeof(fixture));

    if (rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)) != 0) {
        tap_bail_out("sendonly does not parse: %s", err);
    }

    init_local();
    memset(cands, 0, sizeof(cands));
    strcpy(cands[0].ip, "2001:db8::10");
    cands[0].port = 40000;
    cands[0].priority = 2130706431u;
    strcpy(cands[1].ip, "192.0.2.10");
    cands[1].port = 40000;
    cands[1].priority = 2130706175u;
    strcpy(cands[2].ip, "192.0.2.10");
    cands[2].port = 40001;
    cands[2].tcp = 1;
    cands[2].priority = 1520434943u;
    local.ip = cands[0].ip;
    local.cands = cands;
    local.ncands = 3;

    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    ok(n > 0, "an answer with three candidates");
    is_int(count_of(out, "\r\na=candidate:"), 3, "one a=candidate each");
    ok(strstr(out, "\r\na=candidate:1 1 udp 2130706431 2001:db8::10 40000 "
                   "typ host\r\na=candidate:2 1 udp 2130706175 192.0.2.10 "
                   "40000 typ host\r\na=candidate:3 1 tcp 1520434943 "
                   "192.0.2.10 40001 typ host tcptype passive\r\n"
                   "a=end-of-candidates\r\n") != NULL,
       "UDP ones, then the passive TCP one, each its foundation, then "
       "end-of-candidates");
    ok(strstr(out, "c=IN IP6 2001:db8::10\r\n") != NULL,
       "c= names the first address");

    strcpy(cands[1].ip, "192.0.2.10\r\na=x");
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "a candidate that is not an address is refused");
    strcpy(cands[1].ip, "192.0.2.10");
    cands[1].port = 0;
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "and one without a port");
    local.ncands = ROOMS_SDP_MAX_CANDS + 1;
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "and more than ROOMS_SDP_MAX_CANDS");
    init_local();
}


static void
test_answer_errors(void)
{
    int                n, need, bad, badlen;
    size_t             len, i;
    rooms_sdp_local_t  good;

    len = load(FIX_DATA, fixture, sizeof(fixture));

    if (rooms_sdp_parse(fixture, len, &offer, err, sizeof(err)) != 0) {
        tap_bail_out("datachannel does not parse: %s", err);
    }

    init_local();
    need = rooms_sdp_answer(&offer, &local, out2, sizeof(out2));

    /* every too-small buffer: a clean error, nothing written past it */
    bad = 0;
    badlen = 0;

    for (i = 0; i <= (size_t) need + 1; i++) {
        memset(out, 'Z', (size_t) need + 16);
        n = rooms_sdp_answer(&offer, &local, out, i);

        if (i <= (size_t) need) {
            if (n != ROOMS_SDP_ENOSPC || (i > 0 && out[0] != '\0')) {
                bad++;
            }

        } else if (n != need || strcmp(out, out2) != 0) {
            bad++;
        }

        if (memchr(out + i, 'Z', 16) != out + i
            || memchr(out + i, '\0', 16) != NULL)
        {
            badlen++;
        }
    }

    is_int(bad, 0, "outlen 0..%d is ENOSPC, %d fits exactly", need,
           need + 1);
    is_int(badlen, 0, "no byte written past outlen");

    good = local;

    local.ice_ufrag = "ab c";
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "a ufrag with a space is refused");
    local = good;
    local.ice_ufrag = "abc";
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "a 3-character ufrag is refused");
    local = good;
    local.ice_pwd = "short+/";
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "a short pwd is refused");
    local = good;
    local.ice_pwd = NULL;
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "no pwd is refused");
    local = good;
    local.ip = "127.0.0.1\r\na=injected";
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "an ip with a line break is refused");
    local = good;
    local.ip = "localhost";
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "a host name is refused");
    local = good;
    local.port = 0;
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "port 0 is refused");
    local = good;
    local.send[0].ssrc = 5;
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "an SSRC without a cname is refused");
    local.cname = "c name";
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "a cname with a space is refused");
    local = good;
    local.send[1].msid_stream = "a b";
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "an msid with a space is refused");
    local = good;
    local.send[1].rtx_ssrc = 9;
    is_int(rooms_sdp_answer(&offer, &local, out, sizeof(out)),
           ROOMS_SDP_ELOCAL, "an RTX SSRC without its SSRC is refused");
    local = good;
    local.ip = "::1";
    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    ok(n > 0 && strstr(out, "\r\nc=IN IP6 ::1\r\n") != NULL
       && strstr(out, "udp 2130706431 ::1 40000 typ host") != NULL,
       "an IPv6 address gives IN IP6");
    local = good;
}


/* ------------------------------------------------------------------ */


typedef struct {
    const char  *name;
    const char  *from;                  /* NULL: drop lines "to" */
    const char  *to;
    const char  *why;                   /* a piece of the error text */
} mutation_t;


static void
test_bad_offers(void)
{
    size_t    len;
    unsigned  i;

    static const mutation_t  muts[] = {
        { "no fingerprint", NULL, "a=fingerprint:", "no a=fingerprint" },
        { "sha-1 fingerprint",
          "a=fingerprint:sha-256 71:80:B8:10:24:BF:AF:82:AE:8E:90:1F:3C:B2:"
          "BE:20:C8:43:4D:74:2B:98:2E:E7:BE:F9:A1:D8:8F:CD:B1:D0",
          "a=fingerprint:sha-1 71:80:B8:10:24:BF:AF:82:AE:8E:90:1F:3C:B2:BE:"
          "20:C8:43:4D:74", "sha-256" },
        { "31-byte sha-256", ":B1:D0\r\n", ":B1\r\n", "32 bytes" },
        { "bad hex in fingerprint", "71:80:B8", "71:8G:B8",
          "bad sha-256 fingerprint" },
        { "no ice-ufrag", NULL, "a=ice-ufrag:", "ice-ufrag" },
        { "no ice-pwd", NULL, "a=ice-pwd:", "ice-pwd" },
        { "short ice-pwd", "a=ice-pwd:8mkcfg8uRgR97StV9/Ht3ErO",
          "a=ice-pwd:8mkcfg8uR", "22 to 256" },
        { "ufrag with a bad char", "a=ice-ufrag:j3q9", "a=ice-ufrag:j3q9=",
          "ice-chars" },
        { "no v=", NULL, "v=0", "v=0" },
        { "v=1", "v=0", "v=1", "v=0" },
        { "two v=", "s=-", "v=0", "second v=" },
        { "port 65536", "m=audio 55947", "m=audio 65536", "bad port" },
        { "port with letters", "m=audio 55947", "m=audio 559a7", "bad port" },
        { "negative port", "m=audio 55947", "m=audio -1", "bad port" },
        { "port/count", "m=audio 55947", "m=audio 55947/2", "port/count" },
        { "rtpmap pt 128", "a=rtpmap:111 opus", "a=rtpmap:128 opus",
          "bad payload type" },
        { "rtpmap pt 1111", "a=rtpmap:111 opus", "a=rtpmap:1111 opus",
          "bad payload type" },
        { "m= pt 200", "SAVPF 111 63", "SAVPF 200 63", "bad payload type" },
        { "m= pt twice", "SAVPF 111 63", "SAVPF 111 111", "twice" },
        { "rtpmap twice", "a=rtpmap:63 red/48000/2",
          "a=rtpmap:63 red/48000/2\r\na=rtpmap:63 red/48000/2", "second" },
        { "clock rate 0", "opus/48000/2", "opus/0/2", "clock rate" },
        { "clock rate over 32 bits", "opus/48000/2", "opus/4294967296/2",
          "clock rate" },
        { "channels 0", "opus/48000/2", "opus/48000/0", "channel" },
        { "rtpmap with 3 slashes", "opus/48000/2", "opus/48000/2/1",
          "channel" },
        { "apt not a number", "apt=96", "apt=x6", "apt" },
        { "RTP/AVP audio", "m=audio 55947 UDP/TLS/RTP/SAVPF",
          "m=audio 55947 RTP/AVP", "UDP/TLS/RTP/SAVPF" },
        { "RTP/SAVPF video", "m=video 53633 UDP/TLS/RTP/SAVPF",
          "m=video 53633 RTP/SAVPF", "UDP/TLS/RTP/SAVPF" },
        { "m= without formats",
          "m=audio 55947 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
          "m=audio 55947 UDP/TLS/RTP/SAVPF", "without formats" },
        { "no mid", NULL, "a=mid:0", "no a=mid" },
        { "mid twice", "a=mid:1", "a=mid:0", "two m= lines" },
        { "mid over 16 bytes", "a=mid:1", "a=mid:12345678901234567",
          "a=mid must be" },
        { "BUNDLE of a stranger", "BUNDLE 0 1", "BUNDLE 0 1 9", "9" },
        { "two BUNDLE groups", "a=group:BUNDLE 0 1",
          "a=group:BUNDLE 0\r\na=group:BUNDLE 1", "more than one BUNDLE" },
        { "FID to an undeclared SSRC", "FID 3112590648 985554327",
          "FID 3112590648 1", "without a=ssrc" },
        { "FID of one SSRC", "FID 3112590648 985554327",
          "FID 3112590648", "two SSRCs" },
        { "ssrc over 32 bits", "a=ssrc:4072207237 cname",
          "a=ssrc:4294967296 cname", "bad a=ssrc" },
        { "extmap id 0", "a=extmap:14 urn", "a=extmap:0 urn",
          "bad a=extmap id" },
        { "extmap id 256", "a=extmap:14 urn", "a=extmap:256 urn",
          "bad a=extmap id" },
        { "extmap id twice", "a=extmap:14 urn", "a=extmap:2 urn",
          "used twice" },
        { "extmap bad direction", "a=extmap:14 urn", "a=extmap:14/up urn",
          "direction" },
        { "bad setup", "a=setup:actpass", "a=setup:maybe", "a=setup" },
        { "two directions", "a=sendonly", "a=sendonly\r\na=recvonly",
          "second direction" },
        { "a control byte", "a=rtcp-rsize", "a=rtcp\x01rsize", "control" },
        { "a bare CR", "a=rtcp-rsize", "a=rtcp\rrsize", "control" },
        { "not type=value", "s=-", "hello", "<type>=<value>" },
        { "upper-case type", "s=-", "S=-", "<type>=<value>" },
        { "bad msid", "a=msid:243ce60f", "a=msid:24\"3ce60f", "msid" },
        { "bad rtcp-fb pt", "a=rtcp-fb:96 nack pli", "a=rtcp-fb:x nack pli",
          "payload type" },
        { "bad fmtp pt", "a=fmtp:97 apt=96", "a=fmtp:300 apt=96",
          "payload type" },
    };

    load(FIX_SENDONLY, fixture, sizeof(fixture));

    for (i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
        if (muts[i].from == NULL) {
            len = drop_lines(fixture, muts[i].to, text);

        } else {
            len = replace(fixture, muts[i].from, muts[i].to, text);
        }

        if (len == strlen(fixture) && strcmp(text, fixture) == 0) {
            tap_bail_out("mutation '%s' changed nothing", muts[i].name);
        }

        ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
           && strstr(err, muts[i].why) != NULL,
           "refused: %s (%s)", muts[i].name, err);
    }

    /* a NUL inside the length is a control character, not an end */
    len = strlen(fixture);
    memcpy(text, fixture, len);
    text[100] = '\0';
    is_int(rooms_sdp_parse(text, len, &offer, err, sizeof(err)), -1,
           "a NUL byte inside len is refused (%s)", err);

    /* garbage and emptiness */
    is_int(rooms_sdp_parse("", 0, &offer, err, sizeof(err)), -1,
           "empty input is refused (%s)", err);
    is_int(rooms_sdp_parse(NULL, 0, &offer, err, sizeof(err)), -1,
           "NULL input is refused");
    is_int(parse_str("\r\n\r\n", &offer), -1, "blank lines only: %s", err);
    is_int(parse_str("v=0\r\n", &offer), -1, "v=0 only: %s", err);
    is_int(parse_str("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
                     &offer), -1, "a session without m= lines: %s", err);
    is_int(parse_str("GET / HTTP/1.1\r\nHost: x\r\n\r\n", &offer), -1,
           "an HTTP request is refused: %s", err);

    for (i = 0; i < 64; i++) {
        text[i] = (char) (i * 37 + 11);
    }

    is_int(rooms_sdp_parse(text, 64, &offer, err, sizeof(err)), -1,
           "binary garbage is refused: %s", err);

    is_int(parse_str(SESSION "m=audio 0 UDP/TLS/RTP/SAVPF 111\na=mid:a\n",
                     &offer), -1, "every port 0: %s", err);

    /* no err buffer at all, and a tiny one */
    is_int(rooms_sdp_parse("x", 1, &offer, NULL, 0), -1,
           "err may be NULL");
    is_int(rooms_sdp_parse("x", 1, &offer, err, 4), -1, "a 4-byte err");
    is_int(strlen(err), 3, "the message is cut, NUL-terminated");

    /* messages name the line */
    replace(fixture, "m=audio 55947", "m=audio 99999", text);
    is_int(parse_str(text, &offer), -1, "bad port again");
    is_str(err, "line 8: bad port in m= line", "the error names line 8");
}


/* SESSION plus count audio lines with mids 0..count-1 */
static size_t
many_lines(char *dst, unsigned count, int bundle)
{
    size_t    n;
    unsigned  i;

    n = (size_t) sprintf(dst, "%s", SESSION);

    if (bundle) {
        n += (size_t) sprintf(dst + n, "a=group:BUNDLE");

        for (i = 0; i < count; i++) {
            n += (size_t) sprintf(dst + n, " %u", i);
        }

        n += (size_t) sprintf(dst + n, "\n");
    }

    for (i = 0; i < count; i++) {
        n += (size_t) sprintf(dst + n, "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"
                              "a=mid:%u\na=rtcp-mux\n"
                              "a=rtpmap:111 opus/48000/2\n", i);
    }

    return n;
}


static void
test_bounds(void)
{
    int       n;
    char      line[ROOMS_SDP_MAX_LINE + 64];
    size_t    len;
    unsigned  i;

    init_local();

    /* m= lines: 72 fit, 73 do not */
    len = many_lines(text, ROOMS_SDP_MAX_MEDIA, 1);
    is_int(rooms_sdp_parse(text, len, &offer, err, sizeof(err)), 0,
           "72 m= lines parse (%s)", err);
    n = rooms_sdp_answer(&offer, &local, out, sizeof(out));
    ok(n > 0 && parse_str(out, &answer) == 0
       && answer.nmedia == ROOMS_SDP_MAX_MEDIA
       && answer.nbundle == ROOMS_SDP_MAX_MEDIA,
       "72 m= lines are all answered and bundled");

    len = many_lines(text, ROOMS_SDP_MAX_MEDIA + 1, 0);
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "more than 72 m= lines") != NULL,
       "73 m= lines are refused (%s)", err);

    len = many_lines(text, ROOMS_SDP_MAX_MEDIA + 1, 1);
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "more than 72 mids") != NULL,
       "73 BUNDLE mids are refused (%s)", err);

    /* lines: 4096 bytes fit, 4097 and 5000 do not */
    memset(line, 'x', sizeof(line));
    memcpy(line, "a=x-long:", 9);
    line[ROOMS_SDP_MAX_LINE] = '\0';
    len = (size_t) sprintf(text, "%s%s\r\n%s", SESSION, line, AUDIO("a"));
    is_int(rooms_sdp_parse(text, len, &offer, err, sizeof(err)), 0,
           "a 4096-byte line is accepted (%s)", err);

    line[ROOMS_SDP_MAX_LINE] = 'x';
    line[ROOMS_SDP_MAX_LINE + 1] = '\0';
    len = (size_t) sprintf(text, "%s%s\r\n%s", SESSION, line, AUDIO("a"));
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "longer than 4096") != NULL,
       "a 4097-byte line is refused (%s)", err);

    memset(text, 0, 16);
    len = (size_t) sprintf(text, "%s", SESSION);
    memset(text + len, 'a', 5000);
    memcpy(text + len, "a=x:", 4);
    len += 5000;
    len += (size_t) sprintf(text + len, "\n%s", AUDIO("a"));
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "longer than 4096") != NULL,
       "a 5000-byte line is refused (%s)", err);

    /* payload types: 64 fit, 65 do not */
    for (n = 64; n <= 65; n++) {
        len = (size_t) sprintf(text, "%sm=video 9 UDP/TLS/RTP/SAVPF",
                               SESSION);

        for (i = 0; i < (unsigned) n; i++) {
            len += (size_t) sprintf(text + len, " %u", i);
        }

        len += (size_t) sprintf(text + len, "\na=mid:v\n");

        if (n == 64) {
            is_int(rooms_sdp_parse(text, len, &offer, err, sizeof(err)), 0,
                   "64 payload types parse (%s)", err);

        } else {
            ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
               && strstr(err, "more than 64 payload types") != NULL,
               "65 payload types are refused (%s)", err);
        }
    }

    /* extmaps: 16 fit, 17 do not */
    for (n = 16; n <= 17; n++) {
        len = (size_t) sprintf(text, "%s%s", SESSION, AUDIO("a"));

        for (i = 1; i <= (unsigned) n; i++) {
            len += (size_t) sprintf(text + len, "a=extmap:%u urn:x:%u\n",
                                    i, i);
        }

        ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err))
           == (n == 16 ? 0 : -1), "%d extmaps %s (%s)", n,
           n == 16 ? "parse" : "are refused", err);
    }

    /* SSRCs: 8 fit, 9 do not */
    for (n = 8; n <= 9; n++) {
        len = (size_t) sprintf(text, "%s%s", SESSION, AUDIO("a"));

        for (i = 1; i <= (unsigned) n; i++) {
            len += (size_t) sprintf(text + len, "a=ssrc:%u cname:c\n", i);
        }

        ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err))
           == (n == 8 ? 0 : -1), "%d SSRCs %s (%s)", n,
           n == 8 ? "parse" : "are refused", err);
    }

    /* rids and simulcast streams: 3 fit, 4 do not */
    ok(parse_str(SESSION VIDEO("v") "a=rid:a send\na=rid:b send\n"
                 "a=rid:c send\na=rid:d send\n", &offer) == -1
       && strstr(err, "more than 3 a=rid") != NULL,
       "4 rids are refused (%s)", err);
    ok(parse_str(SESSION VIDEO("v") "a=rid:a send\na=rid:b send\n"
                 "a=rid:c send\na=simulcast:send a;b;c;a\n", &offer) == -1
       && strstr(err, "more than 3 simulcast") != NULL,
       "4 simulcast streams are refused (%s)", err);
    ok(parse_str(SESSION VIDEO("v") "a=rid:a send\n"
                 "a=simulcast:send a;b\n", &offer) == -1
       && strstr(err, "no a=rid") != NULL,
       "a simulcast rid without a=rid is refused (%s)", err);
    ok(parse_str(SESSION VIDEO("v") "a=rid:a recv\n"
                 "a=simulcast:send a\n", &offer) == -1,
       "a simulcast send rid with a=rid recv is refused (%s)", err);
    is_int(parse_str(SESSION VIDEO("v") "a=rid:a send\na=rid:b send\n"
                     "a=simulcast:send a,b;b\n", &offer), 0,
           "simulcast alternatives parse (%s)", err);
    ok(offer.media[0].nsim_send == 2
       && strcmp(offer.media[0].sim_send[0].rid, "a") == 0,
       "the first alternative is kept");
    ok(parse_str(SESSION VIDEO("v") "a=rid:a send\n"
                 "a=simulcast:send rid=a\n", &offer) == -1,
       "the pre-RFC simulcast syntax is refused (%s)", err);
    ok(parse_str(SESSION VIDEO("v") "a=rid:a send\n"
                 "a=simulcast:send a;~a\n", &offer) == -1
       && strstr(err, "twice") != NULL,
       "a rid twice in simulcast is refused (%s)", err);
    ok(parse_str(SESSION VIDEO("v") "a=rid:a send\n"
                 "a=simulcast:send a;\n", &offer) == -1,
       "a trailing ; in simulcast is refused (%s)", err);
    ok(parse_str(SESSION VIDEO("v") "a=rid:q_-17 send\n"
                 "a=rid:12345678901234567 send\n", &offer) == -1
       && strstr(err, "bad a=rid id") != NULL,
       "a 17-byte rid is refused (%s)", err);

    /* FID groups: 4 fit, 5 do not */
    len = (size_t) sprintf(text, "%s%s", SESSION, VIDEO("v"));

    for (i = 1; i <= 5; i++) {
        len += (size_t) sprintf(text + len, "a=ssrc-group:FID %u %u\n",
                                i, i + 100);
    }

    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "more than 4 FID") != NULL,
       "5 FID groups are refused (%s)", err);

    /* strings */
    memset(line, 'f', 300);
    line[0] = '\0';
    strcat(line, "a=fmtp:111 ");
    memset(line + 11, 'f', 257);
    line[11 + 257] = '\0';
    len = (size_t) sprintf(text, "%s%s%s\n", SESSION, AUDIO("a"), line);
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "a=fmtp longer than 256") != NULL,
       "a 257-byte fmtp is refused (%s)", err);
    line[11 + 256] = '\0';
    len = (size_t) sprintf(text, "%s%s%s\n", SESSION, AUDIO("a"), line);
    is_int(rooms_sdp_parse(text, len, &offer, err, sizeof(err)), 0,
           "a 256-byte fmtp is kept (%s)", err);
    is_int(strlen(rooms_sdp_find_codec(&offer.media[0], 111)->fmtp), 256,
           "all 256 bytes of it");

    len = (size_t) sprintf(text, "%s%sa=ssrc:1 cname:", SESSION, AUDIO("a"));
    memset(text + len, 'c', 256);
    len += 256;
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "cname") != NULL, "a 256-byte cname is refused (%s)",
       err);

    len = (size_t) sprintf(text, "%sm=video 9 UDP/TLS/RTP/SAVPF 96\n"
                           "a=mid:v\na=rtpmap:96 ", SESSION);
    memset(text + len, 'C', 33);
    len += 33;
    len += (size_t) sprintf(text + len, "/90000\n");
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "encoding name") != NULL,
       "a 33-byte encoding name is refused (%s)", err);

    len = (size_t) sprintf(text, "%s%sa=extmap:1 urn:", SESSION, AUDIO("a"));
    memset(text + len, 'u', 252);
    len += 252;
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "URI longer") != NULL,
       "a 256-byte extmap URI is refused (%s)", err);

    len = (size_t) sprintf(text, "%s%sa=msid:", SESSION, AUDIO("a"));
    memset(text + len, 'm', 65);
    len += 65;
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "msid") != NULL, "a 65-byte msid is refused (%s)", err);

    len = (size_t) sprintf(text, "%s%sa=max-message-size:4294967296\n",
                           SESSION, "m=application 9 UDP/DTLS/SCTP "
                           "webrtc-datachannel\na=mid:d\n");
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "max-message-size") != NULL,
       "max-message-size over 32 bits is refused (%s)", err);

    len = (size_t) sprintf(text, "%s%sa=sctp-port:65536\n",
                           SESSION, "m=application 9 UDP/DTLS/SCTP "
                           "webrtc-datachannel\na=mid:d\n");
    ok(rooms_sdp_parse(text, len, &offer, err, sizeof(err)) == -1
       && strstr(err, "sctp-port") != NULL,
       "sctp-port 65536 is refused (%s)", err);
}


/*
 * Every prefix of every fixture (lengths 0, 7, 14, ... and the whole
 * file) either parses or fails with a message; when it parses, its
 * answer is either a clean error code or text our parser reads back.
 */
static void
test_truncations(void)
{
    int        rc, n;
    char      *copy;
    size_t     len, cut;
    unsigned   i, oks, fails, bad;

    static const char  *names[] = { FIX_SENDONLY, FIX_SIMULCAST,
                                    FIX_RECVONLY, FIX_DATA };

    init_local();

    for (i = 0; i < 4; i++) {
        len = load(names[i], fixture, sizeof(fixture));
        oks = 0;
        fails = 0;
        bad = 0;

        for (cut = 0; ; cut += 7) {
            if (cut > len) {
                cut = len;
            }

            /* an exact-size heap copy, so reading past it is caught */
            copy = malloc(cut ? cut : 1);

            if (copy == NULL) {
                tap_bail_out("out of memory");
            }

            memcpy(copy, fixture, cut);
            err[0] = 'X';
            rc = rooms_sdp_parse(copy, cut, &offer, err, sizeof(err));

            if (rc == 0) {
                oks++;

                if (offer.nmedia == 0 || offer.nmedia > ROOMS_SDP_MAX_MEDIA
                    || offer.fingerprint_len != 32)
                {
                    bad++;
                }

                n = rooms_sdp_answer(&offer, &local, out, sizeof(out));

                if (n > 0 && parse_str(out, &answer) != 0) {
                    bad++;
                    diag("%s cut at %zu: answer does not parse: %s",
                         names[i], cut, err);

                } else if (n <= 0 && n != ROOMS_SDP_EROLE) {
                    bad++;
                }

            } else if (rc == -1 && err[0] != '\0' && err[0] != 'X'
                       && strlen(err) < sizeof(err))
            {
                fails++;

            } else {
                bad++;
            }

            free(copy);

            if (cut == len) {
                break;
            }
        }

        ok(bad == 0 && oks > 0 && fails > 0,
           "%s: %u prefixes parse, %u fail cleanly, %u misbehave", names[i],
           oks, fails, bad);
    }
}


int
main(void)
{
    diag("sizeof(rooms_sdp_t) = %zu bytes", sizeof(rooms_sdp_t));

    test_sendonly();
    test_simulcast();
    test_recvonly();
    test_datachannel();
    test_answers();
    test_golden();
    test_lf();
    test_session_level();
    test_negotiation_rules();
    test_send_block();
    test_answer_errors();
    test_candidates();
    test_bad_offers();
    test_bounds();
    test_truncations();

    return done_testing();
}
