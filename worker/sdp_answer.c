/*
 * sdp_answer.c: negotiation (what the worker accepts of each m= line)
 * and the answer's text.  The answer is built from rooms_sdp_negotiate()
 * alone, so the SFU and the text the browser gets cannot disagree.  It
 * only formats: no clock, no randomness, no allocation, so the same
 * inputs give the same bytes.
 *
 * Must never: allocate, do I/O, keep static mutable state, or write
 * beyond the buffer it is given.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include rtp.h, include rtcp.h, include srtp.h, include dtls.h, include ice.h, call json_, call malloc, call calloc, call RAND_bytes, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdp_int.h"


/* the answer under construction */
typedef struct {
    char               *pos;
    char               *end;              /* one past the last byte */
    int                 full;
} rooms_sdp_buf_t;


/* host candidate priority (RFC 8445): type 126, local 65535, component 1 */
#define ROOMS_SDP_HOST_PRIORITY  2130706431u

/* "255.255.255.255" and the longest IPv6 text form both fit */
#define ROOMS_SDP_IP_MAX     45


static void rooms_sdp_put(rooms_sdp_buf_t *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;


/* ------------------------------------------------------------------ */
/* negotiation                                                          */
/* ------------------------------------------------------------------ */


static int
rooms_sdp_reject(rooms_sdp_neg_t *neg, const char *reason)
{
    memset(neg, 0, sizeof(*neg));
    neg->pt = -1;
    neg->rtx_pt = -1;
    neg->direction = ROOMS_SDP_INACTIVE;
    neg->reason = reason;

    return 0;
}


static int
rooms_sdp_codec_is(const rooms_sdp_codec_t *c, const char *name,
    uint32_t clock, unsigned channels)
{
    return c->has_rtpmap && c->clock == clock
           && rooms_sdp_eq_nocase(c->name, strlen(c->name), name)
           && (channels == 0 || c->channels == channels);
}


/* What we would accept of media[i] on its own, BUNDLE aside. */
static int
rooms_sdp_choose(const rooms_sdp_t *offer, unsigned i, rooms_sdp_neg_t *neg)
{
    unsigned                  k, simulcast;
    const char               *uri;
    const rooms_sdp_codec_t  *c, *best;
    const rooms_sdp_media_t  *m;

    m = &offer->media[i];

    if (m->port == 0 && !m->bundle_only) {
        return rooms_sdp_reject(neg, "the offer disabled this m= line");
    }

    /*
     * Data channels need SCTP over DTLS in the media worker, which is not
     * built yet; refusing the m= line lets the browser keep audio and
     * video and fail only createDataChannel's channel.
     */
    if (m->kind == ROOMS_SDP_KIND_APPLICATION) {
        return rooms_sdp_reject(neg, "data channels are not supported yet");
    }

    if (m->kind == ROOMS_SDP_KIND_OTHER) {
        return rooms_sdp_reject(neg, "only audio and video are supported");
    }

    /* one UDP port carries everything: RTCP must be muxed with RTP */
    if (!m->rtcp_mux) {
        return rooms_sdp_reject(neg, "no a=rtcp-mux");
    }

    rooms_sdp_reject(neg, NULL);
    best = NULL;

    for (k = 0; k < m->ncodecs && best == NULL; k++) {
        c = &m->codecs[k];

        if (m->kind == ROOMS_SDP_KIND_AUDIO
            ? rooms_sdp_codec_is(c, "opus", 48000, 2)
            : rooms_sdp_codec_is(c, "VP8", 90000, 0))
        {
            best = c;
        }
    }

    if (best == NULL) {
        return rooms_sdp_reject(neg, m->kind == ROOMS_SDP_KIND_AUDIO
                                     ? "no opus/48000/2 in the offer"
                                     : "no VP8/90000 in the offer");
    }

    neg->pt = best->pt;

    if (m->kind == ROOMS_SDP_KIND_AUDIO) {
        neg->fb = best->fb & ROOMS_SDP_FB_ANSWER_AUDIO;

    } else {
        neg->fb = best->fb & ROOMS_SDP_FB_ANSWER_VIDEO;

        for (k = 0; k < m->ncodecs; k++) {
            c = &m->codecs[k];

            if (rooms_sdp_codec_is(c, "rtx", 90000, 0) && c->apt == best->pt)
            {
                neg->rtx_pt = c->pt;
                break;
            }
        }
    }

    /* we relay both ways: the answer is the offer's direction mirrored */
    neg->direction = (uint8_t) (((m->direction & ROOMS_SDP_SEND) << 1)
                                | ((m->direction & ROOMS_SDP_RECV) >> 1));

    simulcast = m->kind == ROOMS_SDP_KIND_VIDEO && m->nsim_send > 0
                && (m->direction & ROOMS_SDP_SEND);
    neg->simulcast = (uint8_t) simulcast;
    neg->rtcp_rsize = m->rtcp_rsize;

    for (k = 0; k < m->nextmaps; k++) {
        uri = m->extmaps[k].uri;

        if (strcmp(uri, ROOMS_SDP_EXT_MID) == 0 && !neg->ext_mid) {
            neg->ext_mid = m->extmaps[k].id;

        } else if (strcmp(uri, ROOMS_SDP_EXT_ABS_SEND_TIME) == 0
                   && !neg->ext_abs_send_time)
        {
            neg->ext_abs_send_time = m->extmaps[k].id;

        } else if (strcmp(uri, ROOMS_SDP_EXT_AUDIO_LEVEL) == 0
                   && m->kind == ROOMS_SDP_KIND_AUDIO
                   && !neg->ext_audio_level)
        {
            neg->ext_audio_level = m->extmaps[k].id;

        /* both ways: ROOMS_SDP_FB_ANSWER_VIDEO */
        } else if (strcmp(uri, ROOMS_SDP_EXT_TWCC) == 0 && !neg->ext_twcc)
        {
            neg->ext_twcc = m->extmaps[k].id;

        } else if (strcmp(uri, ROOMS_SDP_EXT_RID) == 0 && simulcast
                   && !neg->ext_rid)
        {
            neg->ext_rid = m->extmaps[k].id;

        } else if (strcmp(uri, ROOMS_SDP_EXT_RRID) == 0 && simulcast
                   && !neg->ext_rrid)
        {
            neg->ext_rrid = m->extmaps[k].id;
        }
    }

    neg->accepted = 1;

    return 0;
}


static int
rooms_sdp_in_bundle(const rooms_sdp_t *offer, const char *mid)
{
    unsigned  i;

    for (i = 0; i < offer->nbundle; i++) {
        if (strcmp(offer->bundle[i], mid) == 0) {
            return 1;
        }
    }

    return 0;
}


int
rooms_sdp_negotiate(const rooms_sdp_t *offer, unsigned index,
    rooms_sdp_neg_t *neg)
{
    unsigned         j;
    rooms_sdp_neg_t  other;

    if (index >= offer->nmedia || index >= ROOMS_SDP_MAX_MEDIA) {
        return -1;
    }

    rooms_sdp_choose(offer, index, neg);

    if (!neg->accepted) {
        return 0;
    }

    /*
     * We have one transport per peer, so everything must be bundled.
     * Without a BUNDLE group in the offer we may not add one (RFC 8843):
     * only the first acceptable m= line gets the transport.
     */
    if (offer->nbundle > 0) {
        if (!rooms_sdp_in_bundle(offer, offer->media[index].mid)) {
            rooms_sdp_reject(neg, "not in the offer's BUNDLE group");
        }

        return 0;
    }

    for (j = 0; j < index; j++) {
        rooms_sdp_choose(offer, j, &other);

        if (other.accepted) {
            rooms_sdp_reject(neg, "no BUNDLE group: only the first m= line "
                             "is used");
            break;
        }
    }

    return 0;
}


/* ------------------------------------------------------------------ */
/* the answer                                                           */
/* ------------------------------------------------------------------ */


static void
rooms_sdp_put(rooms_sdp_buf_t *b, const char *fmt, ...)
{
    int      n;
    size_t   room;
    va_list  args;

    if (b->full) {
        return;
    }

    room = (size_t) (b->end - b->pos);

    va_start(args, fmt);
    n = vsnprintf(b->pos, room, fmt, args);
    va_end(args);

    if (n < 0 || (size_t) n >= room) {
        b->full = 1;
        return;
    }

    b->pos += n;
}


/* strlen that stops looking after max bytes */
static size_t
rooms_sdp_strnlen(const char *s, size_t max)
{
    size_t  n;

    for (n = 0; n < max && s[n] != '\0'; n++) {
        /* void */
    }

    return n;
}


/* a local string: a token, or with visible set any visible ASCII */
static int
rooms_sdp_local_word(const char *s, size_t max, int visible)
{
    rooms_sdp_str_t  str;

    if (s == NULL) {
        return 0;
    }

    str.p = s;
    str.n = rooms_sdp_strnlen(s, max + 1);

    return visible ? rooms_sdp_is_visible(str, max)
                   : rooms_sdp_is_token(str, max);
}


/* 1 when ip is an IPv4 or IPv6 literal (a name could not go into c=) */
static int
rooms_sdp_local_ip(const char *ip)
{
    size_t  n;

    if (ip == NULL) {
        return 0;
    }

    n = rooms_sdp_strnlen(ip, ROOMS_SDP_IP_MAX + 1);

    return n > 0 && n <= ROOMS_SDP_IP_MAX
           && strspn(ip, "0123456789abcdefABCDEF.:") == n
           && strpbrk(ip, ".:") != NULL;
}


/* Everything local goes into the text: check it cannot break a line. */
static int
rooms_sdp_check_local(const rooms_sdp_local_t *local)
{
    size_t                   i, n;
    const rooms_sdp_send_t  *s;

    if (local->ice_ufrag == NULL || local->ice_pwd == NULL
        || local->ip == NULL || local->port == 0)
    {
        return -1;
    }

    n = rooms_sdp_strnlen(local->ice_ufrag, ROOMS_SDP_UFRAG_MAX + 1);

    if (!rooms_sdp_is_ice(local->ice_ufrag, n, ROOMS_SDP_UFRAG_MIN,
                          ROOMS_SDP_UFRAG_MAX))
    {
        return -1;
    }

    n = rooms_sdp_strnlen(local->ice_pwd, ROOMS_SDP_PWD_MAX + 1);

    if (!rooms_sdp_is_ice(local->ice_pwd, n, ROOMS_SDP_PWD_MIN,
                          ROOMS_SDP_PWD_MAX))
    {
        return -1;
    }

    if (!rooms_sdp_local_ip(local->ip)
        || local->ncands > ROOMS_SDP_MAX_CANDS
        || (local->ncands > 0 && local->cands == NULL))
    {
        return -1;
    }

    for (i = 0; i < local->ncands; i++) {
        if (!rooms_sdp_local_ip(local->cands[i].ip)
            || local->cands[i].port == 0)
        {
            return -1;
        }
    }

    for (i = 0; i < ROOMS_SDP_MAX_MEDIA; i++) {
        s = &local->send[i];

        if (s->ssrc == 0 && s->rtx_ssrc != 0) {
            return -1;
        }

        if (s->ssrc != 0
            && (s->ssrc == s->rtx_ssrc
                || !rooms_sdp_local_word(local->cname,
                                         ROOMS_SDP_CNAME_MAX, 1)))
        {
            return -1;
        }

        if ((s->msid_stream != NULL
             && !rooms_sdp_local_word(s->msid_stream, ROOMS_SDP_MSID_MAX, 0))
            || (s->msid_track != NULL
                && (s->msid_stream == NULL
                    || !rooms_sdp_local_word(s->msid_track,
                                             ROOMS_SDP_MSID_MAX, 0))))
        {
            return -1;
        }
    }

    return 0;
}


static const char *
rooms_sdp_direction_name(uint8_t dir)
{
    switch (dir) {

    case ROOMS_SDP_SENDRECV:
        return "sendrecv";

    case ROOMS_SDP_SENDONLY:
        return "sendonly";

    case ROOMS_SDP_RECVONLY:
        return "recvonly";

    default:
        return "inactive";
    }
}


static void
rooms_sdp_put_simulcast(rooms_sdp_buf_t *b, const rooms_sdp_media_t *m)
{
    unsigned  i;

    for (i = 0; i < m->nsim_send; i++) {
        rooms_sdp_put(b, "a=rid:%s recv\r\n", m->sim_send[i].rid);
    }

    rooms_sdp_put(b, "a=simulcast:recv ");

    for (i = 0; i < m->nsim_send; i++) {
        rooms_sdp_put(b, "%s%s%s", i ? ";" : "",
                      m->sim_send[i].paused ? "~" : "", m->sim_send[i].rid);
    }

    rooms_sdp_put(b, "\r\n");
}


/* The accepted codec of m= line m, its feedback, and its RTX. */
static void
rooms_sdp_put_codecs(rooms_sdp_buf_t *b, const rooms_sdp_media_t *m,
    const rooms_sdp_neg_t *neg)
{
    unsigned                  k;
    const rooms_sdp_codec_t  *c;

    static const struct {
        uint8_t      flag;
        const char  *text;
    } fbs[] = {
        { ROOMS_SDP_FB_NACK, "nack" },
        { ROOMS_SDP_FB_PLI,  "nack pli" },
        { ROOMS_SDP_FB_FIR,  "ccm fir" },
        { ROOMS_SDP_FB_REMB, "goog-remb" },
        { ROOMS_SDP_FB_TWCC, "transport-cc" }
    };

    c = rooms_sdp_find_codec(m, (unsigned) neg->pt);

    if (c->channels) {
        rooms_sdp_put(b, "a=rtpmap:%d %s/%u/%u\r\n", neg->pt, c->name,
                      (unsigned) c->clock, (unsigned) c->channels);

    } else {
        rooms_sdp_put(b, "a=rtpmap:%d %s/%u\r\n", neg->pt, c->name,
                      (unsigned) c->clock);
    }

    for (k = 0; k < sizeof(fbs) / sizeof(fbs[0]); k++) {
        if (neg->fb & fbs[k].flag) {
            rooms_sdp_put(b, "a=rtcp-fb:%d %s\r\n", neg->pt, fbs[k].text);
        }
    }

    if (m->kind == ROOMS_SDP_KIND_AUDIO) {
        rooms_sdp_put(b, "a=fmtp:%d minptime=10;useinbandfec=1\r\n",
                      neg->pt);
    }

    if (neg->rtx_pt >= 0) {
        c = rooms_sdp_find_codec(m, (unsigned) neg->rtx_pt);
        rooms_sdp_put(b, "a=rtpmap:%d %s/%u\r\na=fmtp:%d apt=%d\r\n",
                      neg->rtx_pt, c->name, (unsigned) c->clock,
                      neg->rtx_pt, neg->pt);
    }
}


static void
rooms_sdp_put_media(rooms_sdp_buf_t *b, const rooms_sdp_t *offer,
    const rooms_sdp_local_t *local, unsigned i, const rooms_sdp_neg_t *neg,
    const char *family, const char *fp, int first)
{
    unsigned                  k;
    uint8_t                   dir;
    uint16_t                  id;
    const rooms_sdp_cand_t   *c;
    const rooms_sdp_media_t  *m;
    const rooms_sdp_send_t   *s;

    m = &offer->media[i];

    if (!neg->accepted) {
        rooms_sdp_put(b, "m=%s 0 %s %s\r\nc=IN %s %s\r\na=mid:%s\r\n",
                      m->media, m->proto, m->fmt, family, local->ip, m->mid);

        if (m->kind == ROOMS_SDP_KIND_AUDIO
            || m->kind == ROOMS_SDP_KIND_VIDEO)
        {
            rooms_sdp_put(b, "a=inactive\r\n");
        }

        return;
    }

    rooms_sdp_put(b, "m=%s %u %s %d", m->media, (unsigned) local->port,
                  m->proto, neg->pt);

    if (neg->rtx_pt >= 0) {
        rooms_sdp_put(b, " %d", neg->rtx_pt);
    }

    rooms_sdp_put(b, "\r\nc=IN %s %s\r\n", family, local->ip);

    /*
     * ICE-lite: our host candidates, on the BUNDLE tag only; each its own
     * foundation (RFC 8445 5.1.1.3: a base address and transport each)
     */
    if (first && local->ncands == 0) {
        rooms_sdp_put(b, "a=candidate:1 1 udp %u %s %u typ host\r\n",
                      ROOMS_SDP_HOST_PRIORITY, local->ip,
                      (unsigned) local->port);
    }

    for (k = 0; first && k < local->ncands; k++) {
        c = &local->cands[k];
        rooms_sdp_put(b, "a=candidate:%u 1 %s %u %s %u typ host%s\r\n",
                      k + 1, c->tcp ? "tcp" : "udp", c->priority, c->ip,
                      (unsigned) c->port, c->tcp ? " tcptype passive" : "");
    }

    if (first) {
        rooms_sdp_put(b, "a=end-of-candidates\r\n");
    }

    rooms_sdp_put(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                  "a=fingerprint:sha-256 %s\r\na=setup:passive\r\n"
                  "a=mid:%s\r\n", local->ice_ufrag, local->ice_pwd, fp,
                  m->mid);

    /* the offer's order and ids, only for the extensions we keep */
    for (k = 0; k < m->nextmaps; k++) {
        id = m->extmaps[k].id;

        if (id == neg->ext_mid || id == neg->ext_abs_send_time
            || id == neg->ext_audio_level || id == neg->ext_twcc
            || id == neg->ext_rid || id == neg->ext_rrid)
        {
            rooms_sdp_put(b, "a=extmap:%u %s\r\n", (unsigned) id,
                          m->extmaps[k].uri);
        }
    }

    s = &local->send[i];

    /* a held line announces no sending, so no msid and no ssrc either */
    dir = s->hold ? (uint8_t) (neg->direction & ~ROOMS_SDP_SEND)
                  : neg->direction;

    rooms_sdp_put(b, "a=%s\r\n", rooms_sdp_direction_name(dir));

    if ((dir & ROOMS_SDP_SEND) && s->msid_stream != NULL) {
        rooms_sdp_put(b, "a=msid:%s%s%s\r\n", s->msid_stream,
                      s->msid_track ? " " : "",
                      s->msid_track ? s->msid_track : "");
    }

    rooms_sdp_put(b, "a=rtcp-mux\r\n");

    if (neg->rtcp_rsize) {
        rooms_sdp_put(b, "a=rtcp-rsize\r\n");
    }

    rooms_sdp_put_codecs(b, m, neg);

    if (neg->simulcast) {
        rooms_sdp_put_simulcast(b, m);
    }

    if ((dir & ROOMS_SDP_SEND) && s->ssrc != 0) {
        if (s->rtx_ssrc != 0 && neg->rtx_pt >= 0) {
            rooms_sdp_put(b, "a=ssrc-group:FID %u %u\r\n"
                          "a=ssrc:%u cname:%s\r\na=ssrc:%u cname:%s\r\n",
                          (unsigned) s->ssrc, (unsigned) s->rtx_ssrc,
                          (unsigned) s->ssrc, local->cname,
                          (unsigned) s->rtx_ssrc, local->cname);

        } else {
            rooms_sdp_put(b, "a=ssrc:%u cname:%s\r\n", (unsigned) s->ssrc,
                          local->cname);
        }
    }
}


int
rooms_sdp_answer(const rooms_sdp_t *offer, const rooms_sdp_local_t *local,
    char *out, size_t outlen)
{
    int              first;
    char             fp[ROOMS_SDP_FP_LEN * 3];
    unsigned         i;
    const char      *family;
    rooms_sdp_buf_t  b;
    rooms_sdp_neg_t  neg[ROOMS_SDP_MAX_MEDIA];

    static const char  hex[] = "0123456789ABCDEF";

    if (out == NULL || outlen == 0) {
        return ROOMS_SDP_ENOSPC;
    }

    out[0] = '\0';

    if (rooms_sdp_check_local(local) != 0) {
        return ROOMS_SDP_ELOCAL;
    }

    /* two lite agents: nobody would send connectivity checks */
    if (offer->ice_lite) {
        return ROOMS_SDP_ELITE;
    }

    for (i = 0; i < offer->nmedia && i < ROOMS_SDP_MAX_MEDIA; i++) {
        rooms_sdp_negotiate(offer, i, &neg[i]);

        /* we are always the DTLS server: the offer must let us be */
        if (neg[i].accepted
            && (offer->media[i].setup == ROOMS_SDP_SETUP_PASSIVE
                || offer->media[i].setup == ROOMS_SDP_SETUP_HOLDCONN))
        {
            return ROOMS_SDP_EROLE;
        }
    }

    if (offer->setup == ROOMS_SDP_SETUP_PASSIVE
        || offer->setup == ROOMS_SDP_SETUP_HOLDCONN)
    {
        return ROOMS_SDP_EROLE;
    }

    for (i = 0; i < ROOMS_SDP_FP_LEN; i++) {
        fp[i * 3] = hex[local->fingerprint[i] >> 4];
        fp[i * 3 + 1] = hex[local->fingerprint[i] & 0x0f];
        fp[i * 3 + 2] = ':';
    }

    fp[ROOMS_SDP_FP_LEN * 3 - 1] = '\0';

    family = strchr(local->ip, ':') ? "IP6" : "IP4";

    b.pos = out;
    b.end = out + outlen;
    b.full = 0;

    rooms_sdp_put(&b, "v=0\r\no=- %llu %llu IN %s %s\r\ns=-\r\nt=0 0\r\n"
                  "a=ice-lite\r\n",
                  (unsigned long long) local->session_id,
                  (unsigned long long) local->session_version, family,
                  local->ip);

    if (offer->nbundle > 0) {
        first = 1;

        for (i = 0; i < offer->nmedia; i++) {
            if (neg[i].accepted) {
                rooms_sdp_put(&b, "%s %s",
                              first ? "a=group:BUNDLE" : "",
                              offer->media[i].mid);
                first = 0;
            }
        }

        if (!first) {
            rooms_sdp_put(&b, "\r\n");
        }
    }

    first = 1;

    for (i = 0; i < offer->nmedia; i++) {
        rooms_sdp_put_media(&b, offer, local, i, &neg[i], family, fp,
                            first && neg[i].accepted);

        if (neg[i].accepted) {
            first = 0;
        }
    }

    if (b.full || b.pos - out > 0x7fffffff) {
        out[0] = '\0';
        return ROOMS_SDP_ENOSPC;
    }

    return (int) (b.pos - out);
}
