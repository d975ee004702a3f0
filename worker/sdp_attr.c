/*
 * sdp_attr.c: one parser per a= attribute of an offer, and the table
 * that says where each may appear (session level, m= line, RTP m= lines
 * only).  Each checks its value against its bound and character set
 * before it copies anything into rooms_sdp_t (sdp.h's contract).
 *
 * Must never: allocate, do I/O, keep static mutable state, or accept
 * input over a bound by cutting it.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include rtp.h, include rtcp.h, include srtp.h, include dtls.h, include ice.h, call json_, call malloc, call calloc, call RAND_bytes, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <stdio.h>
#include <string.h>

#include "sdp_int.h"


/* ------------------------------------------------------------------ */
/* attributes                                                           */
/* ------------------------------------------------------------------ */


static int
rooms_sdp_a_ice_ufrag(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    char  *dst;

    (void) name;

    dst = ps->m ? ps->m->ice_ufrag : ps->ice_ufrag;

    if (dst[0] != '\0') {
        return rooms_sdp_fail(ps, "a second a=ice-ufrag");
    }

    if (!rooms_sdp_is_ice(val.p, val.n, ROOMS_SDP_UFRAG_MIN,
                          ROOMS_SDP_UFRAG_MAX))
    {
        return rooms_sdp_fail(ps, "a=ice-ufrag must be 4 to 256 ice-chars");
    }

    return rooms_sdp_copy(dst, ROOMS_SDP_UFRAG_MAX + 1, val);
}


static int
rooms_sdp_a_ice_pwd(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    char  *dst;

    (void) name;

    dst = ps->m ? ps->m->ice_pwd : ps->ice_pwd;

    if (dst[0] != '\0') {
        return rooms_sdp_fail(ps, "a second a=ice-pwd");
    }

    if (!rooms_sdp_is_ice(val.p, val.n, ROOMS_SDP_PWD_MIN,
                          ROOMS_SDP_PWD_MAX))
    {
        return rooms_sdp_fail(ps, "a=ice-pwd must be 22 to 256 ice-chars");
    }

    return rooms_sdp_copy(dst, ROOMS_SDP_PWD_MAX + 1, val);
}


/*
 * a=fingerprint:<hash> <XX:XX:...>.  Several lines may name several
 * hashes; the first sha-256 one is kept, the others are only noted, so
 * an offer with sha-1 alone is refused when its m= line ends.
 */
static int
rooms_sdp_a_fingerprint(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    int              hi, lo;
    size_t           i, *len;
    unsigned char    fp[ROOMS_SDP_FP_LEN], *dst;
    rooms_sdp_str_t  hash, hex;

    (void) name;

    hash = rooms_sdp_word(&val);
    hex = rooms_sdp_word(&val);

    if (hash.n == 0 || hex.n == 0 || rooms_sdp_trim(val).n != 0) {
        return rooms_sdp_fail(ps, "a=fingerprint needs a hash and a value");
    }

    if (ps->m) {
        ps->m_fp_seen = 1;
        dst = ps->m->fingerprint;
        len = &ps->m->fingerprint_len;

    } else {
        ps->fp_seen = 1;
        dst = ps->fingerprint;
        len = &ps->fingerprint_len;
    }

    if (!rooms_sdp_eq_nocase(hash.p, hash.n, "sha-256")) {
        return 0;
    }

    /* 32 bytes as XX, separated by ':' */
    if (hex.n != ROOMS_SDP_FP_LEN * 3 - 1) {
        return rooms_sdp_fail(ps, "a sha-256 fingerprint has 32 bytes");
    }

    for (i = 0; i < ROOMS_SDP_FP_LEN; i++) {
        hi = rooms_sdp_hex(hex.p[i * 3]);
        lo = rooms_sdp_hex(hex.p[i * 3 + 1]);

        if (hi < 0 || lo < 0
            || (i + 1 < ROOMS_SDP_FP_LEN && hex.p[i * 3 + 2] != ':'))
        {
            return rooms_sdp_fail(ps, "bad sha-256 fingerprint");
        }

        fp[i] = (unsigned char) (hi << 4 | lo);
    }

    if (*len == 0) {
        memcpy(dst, fp, ROOMS_SDP_FP_LEN);
        *len = ROOMS_SDP_FP_LEN;
    }

    return 0;
}


static int
rooms_sdp_a_setup(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    uint8_t  *dst, setup;

    (void) name;

    dst = ps->m ? &ps->m->setup : &ps->setup;

    if (*dst != ROOMS_SDP_SETUP_NONE) {
        return rooms_sdp_fail(ps, "a second a=setup");
    }

    if (rooms_sdp_eq(val, "actpass")) {
        setup = ROOMS_SDP_SETUP_ACTPASS;

    } else if (rooms_sdp_eq(val, "active")) {
        setup = ROOMS_SDP_SETUP_ACTIVE;

    } else if (rooms_sdp_eq(val, "passive")) {
        setup = ROOMS_SDP_SETUP_PASSIVE;

    } else if (rooms_sdp_eq(val, "holdconn")) {
        setup = ROOMS_SDP_SETUP_HOLDCONN;

    } else {
        return rooms_sdp_fail(ps, "bad a=setup");
    }

    *dst = setup;

    return 0;
}


static int
rooms_sdp_a_direction(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    unsigned  *has;

    (void) val;

    has = ps->m ? &ps->m_has_direction : &ps->has_direction;

    if (*has) {
        return rooms_sdp_fail(ps, "a second direction attribute");
    }

    *has = 1;

    if (ps->m) {
        ps->m->direction = (uint8_t) rooms_sdp_direction(name);

    } else {
        ps->direction = (uint8_t) rooms_sdp_direction(name);
    }

    return 0;
}


static int
rooms_sdp_a_flag(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    (void) val;

    if (rooms_sdp_eq(name, "ice-lite")) {
        ps->sdp->ice_lite = 1;

    } else if (rooms_sdp_eq(name, "extmap-allow-mixed")) {
        ps->sdp->extmap_allow_mixed = 1;

    } else if (rooms_sdp_eq(name, "rtcp-mux")) {
        ps->m->rtcp_mux = 1;

    } else if (rooms_sdp_eq(name, "rtcp-rsize")) {
        ps->m->rtcp_rsize = 1;

    } else if (rooms_sdp_eq(name, "bundle-only")) {
        ps->m->bundle_only = 1;
    }

    return 0;
}


/* a=group:BUNDLE <mid> ...; other semantics (LS, FID) mean nothing here */
static int
rooms_sdp_a_group(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    unsigned          i;
    rooms_sdp_t      *sdp;
    rooms_sdp_str_t   sem, mid;

    (void) name;

    sdp = ps->sdp;
    sem = rooms_sdp_word(&val);

    if (!rooms_sdp_eq(sem, "BUNDLE")) {
        return 0;
    }

    if (ps->has_bundle) {
        return rooms_sdp_fail(ps, "more than one BUNDLE group");
    }

    ps->has_bundle = 1;

    for ( ;; ) {
        mid = rooms_sdp_word(&val);

        if (mid.n == 0) {
            return 0;
        }

        if (!rooms_sdp_is_token(mid, ROOMS_SDP_MID_MAX)) {
            return rooms_sdp_fail(ps, "bad mid in a=group:BUNDLE");
        }

        if (sdp->nbundle == ROOMS_SDP_MAX_MEDIA) {
            return rooms_sdp_fail(ps, "more than %d mids in BUNDLE",
                                  ROOMS_SDP_MAX_MEDIA);
        }

        for (i = 0; i < sdp->nbundle; i++) {
            if (rooms_sdp_eq(mid, sdp->bundle[i])) {
                return rooms_sdp_fail(ps, "a mid twice in BUNDLE");
            }
        }

        (void) rooms_sdp_copy(sdp->bundle[sdp->nbundle++],
                              ROOMS_SDP_MID_MAX + 1, mid);
    }
}


static int
rooms_sdp_a_mid(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    (void) name;

    if (ps->m->mid[0] != '\0') {
        return rooms_sdp_fail(ps, "a second a=mid");
    }

    if (!rooms_sdp_is_token(val, ROOMS_SDP_MID_MAX)) {
        return rooms_sdp_fail(ps, "a=mid must be a token of 1 to %d bytes",
                              ROOMS_SDP_MID_MAX);
    }

    return rooms_sdp_copy(ps->m->mid, ROOMS_SDP_MID_MAX + 1, val);
}


/* a=rtpmap:<pt> <name>/<clock>[/<channels>] */
static int
rooms_sdp_a_rtpmap(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    uint64_t            pt, clock, channels;
    rooms_sdp_str_t     ptw, enc, codec, rate, rest, chan;
    rooms_sdp_codec_t  *c;

    (void) name;

    ptw = rooms_sdp_word(&val);
    enc = rooms_sdp_word(&val);

    if (rooms_sdp_pt(ps, ptw, "rtpmap", &pt) != 0) {
        return -1;
    }

    if (enc.n == 0 || rooms_sdp_trim(val).n != 0) {
        return rooms_sdp_fail(ps, "a=rtpmap needs <name>/<clock>");
    }

    (void) rooms_sdp_split(enc, '/', &codec, &rest);

    if (!rooms_sdp_is_token(codec, ROOMS_SDP_CODEC_MAX)) {
        return rooms_sdp_fail(ps, "bad encoding name in a=rtpmap");
    }

    channels = 0;

    if (rooms_sdp_split(rest, '/', &rate, &chan)) {
        /* digits only: a further '/' fails here too */
        if (rooms_sdp_uint(chan, 255, &channels) != 0 || channels == 0) {
            return rooms_sdp_fail(ps, "bad channel count in a=rtpmap");
        }
    }

    if (rooms_sdp_uint(rate, UINT32_MAX, &clock) != 0 || clock == 0) {
        return rooms_sdp_fail(ps, "bad clock rate in a=rtpmap");
    }

    c = rooms_sdp_codec(ps->m, pt);

    if (c == NULL) {
        return 0;                       /* not on the m= line: ignored */
    }

    if (c->has_rtpmap) {
        return rooms_sdp_fail(ps, "a second a=rtpmap for %u",
                              (unsigned) pt);
    }

    c->has_rtpmap = 1;
    c->clock = (uint32_t) clock;
    c->channels = (uint8_t) channels;

    return rooms_sdp_copy(c->name, sizeof(c->name), codec);
}


/* a=fmtp:<pt> <params>; apt= is read for RTX */
static int
rooms_sdp_a_fmtp(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    uint64_t            pt, apt;
    rooms_sdp_str_t     ptw, params, rest, param, key, value;
    rooms_sdp_codec_t  *c;

    (void) name;

    ptw = rooms_sdp_word(&val);
    params = rooms_sdp_trim(val);

    if (rooms_sdp_pt(ps, ptw, "fmtp", &pt) != 0) {
        return -1;
    }

    if (params.n > ROOMS_SDP_FMTP_MAX) {
        return rooms_sdp_fail(ps, "a=fmtp longer than %d bytes",
                              ROOMS_SDP_FMTP_MAX);
    }

    c = rooms_sdp_codec(ps->m, pt);

    if (c == NULL) {
        return 0;
    }

    if (c->has_fmtp) {
        return rooms_sdp_fail(ps, "a second a=fmtp for %u", (unsigned) pt);
    }

    c->has_fmtp = 1;
    (void) rooms_sdp_copy(c->fmtp, sizeof(c->fmtp), params);

    rest = params;

    while (rest.n > 0) {
        (void) rooms_sdp_split(rest, ';', &param, &rest);
        param = rooms_sdp_trim(param);

        if (!rooms_sdp_split(param, '=', &key, &value)
            || !rooms_sdp_eq(rooms_sdp_trim(key), "apt"))
        {
            continue;
        }

        if (rooms_sdp_uint(rooms_sdp_trim(value), 127, &apt) != 0) {
            return rooms_sdp_fail(ps, "bad apt= in a=fmtp");
        }

        c->apt = (int16_t) apt;
    }

    return 0;
}


/* a=rtcp-fb:<pt|*> <type> [<subtype>] */
static int
rooms_sdp_a_rtcp_fb(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    uint8_t             kind;
    uint64_t            pt;
    rooms_sdp_str_t     ptw, type, sub;
    rooms_sdp_codec_t  *c;

    (void) name;
    pt = 0;
    ptw = rooms_sdp_word(&val);
    type = rooms_sdp_word(&val);
    sub = rooms_sdp_word(&val);

    if (!rooms_sdp_eq(ptw, "*") && rooms_sdp_pt(ps, ptw, "rtcp-fb", &pt)) {
        return -1;
    }

    if (type.n == 0) {
        return rooms_sdp_fail(ps, "a=rtcp-fb needs a type");
    }

    kind = 0;

    if (rooms_sdp_eq(type, "nack")) {
        if (sub.n == 0) {
            kind = ROOMS_SDP_FB_NACK;

        } else if (rooms_sdp_eq(sub, "pli")) {
            kind = ROOMS_SDP_FB_PLI;
        }

    } else if (rooms_sdp_eq(type, "ccm")) {
        if (rooms_sdp_eq(sub, "fir")) {
            kind = ROOMS_SDP_FB_FIR;
        }

    } else if (rooms_sdp_eq(type, "goog-remb") && sub.n == 0) {
        kind = ROOMS_SDP_FB_REMB;

    } else if (rooms_sdp_eq(type, "transport-cc") && sub.n == 0) {
        kind = ROOMS_SDP_FB_TWCC;
    }

    if (rooms_sdp_eq(ptw, "*")) {
        ps->m_fb_any |= kind;
        return 0;
    }

    c = rooms_sdp_codec(ps->m, pt);

    if (c != NULL) {
        c->fb |= kind;
    }

    return 0;
}


/* a=extmap:<id>[/<direction>] <uri> [<extension attributes>] */
static int
rooms_sdp_a_extmap(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    unsigned             i;
    uint64_t             id;
    rooms_sdp_str_t      idw, idn, dir, uri;
    rooms_sdp_media_t   *m;
    rooms_sdp_extmap_t  *e;

    (void) name;

    m = ps->m;
    idw = rooms_sdp_word(&val);
    uri = rooms_sdp_word(&val);

    /* 1-14 fit the one-byte header form, up to 255 the two-byte form */
    if (rooms_sdp_split(idw, '/', &idn, &dir)
        && rooms_sdp_direction(dir) < 0)
    {
        return rooms_sdp_fail(ps, "bad direction in a=extmap");
    }

    if (rooms_sdp_uint(idn, 255, &id) != 0 || id == 0) {
        return rooms_sdp_fail(ps, "bad a=extmap id");
    }

    if (uri.n == 0) {
        return rooms_sdp_fail(ps, "a=extmap needs a URI");
    }

    if (uri.n > ROOMS_SDP_URI_MAX) {
        return rooms_sdp_fail(ps, "a=extmap URI longer than %d bytes",
                              ROOMS_SDP_URI_MAX);
    }

    for (i = 0; i < m->nextmaps; i++) {
        if (m->extmaps[i].id == id) {
            return rooms_sdp_fail(ps, "a=extmap id %u used twice",
                                  (unsigned) id);
        }
    }

    if (m->nextmaps == ROOMS_SDP_MAX_EXTMAP) {
        return rooms_sdp_fail(ps, "more than %d a=extmap on an m= line",
                              ROOMS_SDP_MAX_EXTMAP);
    }

    e = &m->extmaps[m->nextmaps++];
    e->id = (uint16_t) id;

    return rooms_sdp_copy(e->uri, sizeof(e->uri), uri);
}


/* "<stream> [<track>]" of a=msid or of a=ssrc:<n> msid: */
static int
rooms_sdp_msid(rooms_sdp_parser_t *ps, rooms_sdp_str_t val)
{
    rooms_sdp_str_t  stream, track;

    stream = rooms_sdp_word(&val);
    track = rooms_sdp_word(&val);

    if (!rooms_sdp_is_token(stream, ROOMS_SDP_MSID_MAX)
        || (track.n > 0 && !rooms_sdp_is_token(track, ROOMS_SDP_MSID_MAX))
        || rooms_sdp_trim(val).n != 0)
    {
        return rooms_sdp_fail(ps, "bad msid");
    }

    (void) rooms_sdp_copy(ps->m->msid_stream, ROOMS_SDP_MSID_MAX + 1,
                          stream);
    (void) rooms_sdp_copy(ps->m->msid_track, ROOMS_SDP_MSID_MAX + 1, track);

    return 0;
}


/* a=msid: the first one wins (a track may be in several streams) */
static int
rooms_sdp_a_msid(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    (void) name;

    if (ps->m_has_msid) {
        return 0;
    }

    ps->m_has_msid = 1;

    return rooms_sdp_msid(ps, val);
}


int
rooms_sdp_ssrc_declared(const rooms_sdp_media_t *m, uint32_t ssrc)
{
    unsigned  i;

    for (i = 0; i < m->nssrcs; i++) {
        if (m->ssrcs[i].ssrc == ssrc) {
            return 1;
        }
    }

    return 0;
}


/* a=ssrc:<ssrc> <attribute>[:<value>]; cname and msid are read */
static int
rooms_sdp_a_ssrc(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    unsigned            i;
    uint64_t            ssrc;
    rooms_sdp_str_t     num, attr, key, value;
    rooms_sdp_ssrc_t   *s;
    rooms_sdp_media_t  *m;

    (void) name;

    m = ps->m;
    num = rooms_sdp_word(&val);
    attr = rooms_sdp_trim(val);

    if (rooms_sdp_uint(num, UINT32_MAX, &ssrc) != 0) {
        return rooms_sdp_fail(ps, "bad a=ssrc");
    }

    s = NULL;

    for (i = 0; i < m->nssrcs; i++) {
        if (m->ssrcs[i].ssrc == ssrc) {
            s = &m->ssrcs[i];
            break;
        }
    }

    if (s == NULL) {
        if (m->nssrcs == ROOMS_SDP_MAX_SSRC) {
            return rooms_sdp_fail(ps, "more than %d SSRCs on an m= line",
                                  ROOMS_SDP_MAX_SSRC);
        }

        s = &m->ssrcs[m->nssrcs++];
        s->ssrc = (uint32_t) ssrc;
    }

    (void) rooms_sdp_split(attr, ':', &key, &value);

    /* a byte-string: base64 CNAMEs have '/' and '+'; never echoed */
    if (rooms_sdp_eq(key, "cname")) {
        if (value.n == 0 || value.n > ROOMS_SDP_CNAME_MAX) {
            return rooms_sdp_fail(ps, "bad cname in a=ssrc");
        }

        return rooms_sdp_copy(s->cname, sizeof(s->cname), value);
    }

    if (rooms_sdp_eq(key, "msid") && !ps->m_has_msid
        && m->msid_stream[0] == '\0')
    {
        return rooms_sdp_msid(ps, value);
    }

    return 0;
}


/* a=ssrc-group:FID <primary> <rtx>; other semantics are not used here */
static int
rooms_sdp_a_ssrc_group(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    uint64_t            a, b;
    rooms_sdp_str_t     sem, w1, w2;
    rooms_sdp_media_t  *m;

    (void) name;

    m = ps->m;
    sem = rooms_sdp_word(&val);

    if (!rooms_sdp_eq(sem, "FID")) {
        return 0;
    }

    w1 = rooms_sdp_word(&val);
    w2 = rooms_sdp_word(&val);

    if (rooms_sdp_uint(w1, UINT32_MAX, &a) != 0
        || rooms_sdp_uint(w2, UINT32_MAX, &b) != 0
        || rooms_sdp_trim(val).n != 0 || a == b)
    {
        return rooms_sdp_fail(ps, "a=ssrc-group:FID needs two SSRCs");
    }

    if (m->nfids == ROOMS_SDP_MAX_FID) {
        return rooms_sdp_fail(ps, "more than %d FID groups",
                              ROOMS_SDP_MAX_FID);
    }

    m->fids[m->nfids].primary = (uint32_t) a;
    m->fids[m->nfids].rtx = (uint32_t) b;
    m->nfids++;

    return 0;
}


/* a=rid:<id> <send|recv> [<restrictions>]; restrictions are not kept */
static int
rooms_sdp_a_rid(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    unsigned            i;
    rooms_sdp_str_t     id, dir;
    rooms_sdp_rid_t    *r;
    rooms_sdp_media_t  *m;

    (void) name;

    m = ps->m;
    id = rooms_sdp_word(&val);
    dir = rooms_sdp_word(&val);

    if (!rooms_sdp_is_rid(id)) {
        return rooms_sdp_fail(ps, "bad a=rid id");
    }

    if (!rooms_sdp_eq(dir, "send") && !rooms_sdp_eq(dir, "recv")) {
        return rooms_sdp_fail(ps, "a=rid direction must be send or recv");
    }

    for (i = 0; i < m->nrids; i++) {
        if (rooms_sdp_eq(id, m->rids[i].id)) {
            return rooms_sdp_fail(ps, "a=rid id used twice");
        }
    }

    if (m->nrids == ROOMS_SDP_MAX_RID) {
        return rooms_sdp_fail(ps, "more than %d a=rid on an m= line",
                              ROOMS_SDP_MAX_RID);
    }

    r = &m->rids[m->nrids++];
    r->direction = rooms_sdp_eq(dir, "send") ? ROOMS_SDP_SEND : ROOMS_SDP_RECV;

    return rooms_sdp_copy(r->id, sizeof(r->id), id);
}


/*
 * One a=simulcast list: streams split by ';', alternatives by ','.  Only
 * the first alternative of each stream is kept: the SFU does not pick
 * between formats of one layer.
 */
static int
rooms_sdp_sim_list(rooms_sdp_parser_t *ps, rooms_sdp_str_t list,
    rooms_sdp_sim_t *sims, unsigned *n)
{
    unsigned         i, first, paused, more, more_alt;
    rooms_sdp_str_t  rest, stream, alt;

    rest = list;

    do {
        more = (unsigned) rooms_sdp_split(rest, ';', &stream, &rest);

        if (*n == ROOMS_SDP_MAX_RID) {
            return rooms_sdp_fail(ps, "more than %d simulcast streams",
                                  ROOMS_SDP_MAX_RID);
        }

        first = 1;

        do {
            more_alt = (unsigned) rooms_sdp_split(stream, ',', &alt, &stream);

            paused = alt.n > 0 && alt.p[0] == '~';

            if (paused) {
                alt.p++;
                alt.n--;
            }

            if (!rooms_sdp_is_rid(alt)) {
                return rooms_sdp_fail(ps, "bad rid in a=simulcast");
            }

            if (first) {
                /* a rid names one stream once (RFC 8853) */
                for (i = 0; i < *n; i++) {
                    if (rooms_sdp_eq(alt, sims[i].rid)) {
                        return rooms_sdp_fail(ps, "rid %.*s twice in "
                                              "a=simulcast", (int) alt.n,
                                              alt.p);
                    }
                }

                (void) rooms_sdp_copy(sims[*n].rid, ROOMS_SDP_RID_MAX + 1,
                                      alt);
                sims[*n].paused = (uint8_t) paused;
                first = 0;
            }

        } while (more_alt);

        (*n)++;

    } while (more);

    return 0;
}


/* a=simulcast:<send|recv> <list> [<recv|send> <list>] (RFC 8853) */
static int
rooms_sdp_a_simulcast(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    unsigned            i;
    rooms_sdp_str_t     dir, list;
    rooms_sdp_media_t  *m;

    (void) name;

    m = ps->m;

    if (ps->m_has_simulcast) {
        return rooms_sdp_fail(ps, "a second a=simulcast");
    }

    ps->m_has_simulcast = 1;

    for (i = 0; i < 2; i++) {
        dir = rooms_sdp_word(&val);
        list = rooms_sdp_word(&val);

        if (dir.n == 0 && i > 0) {
            break;
        }

        if (list.n == 0) {
            return rooms_sdp_fail(ps, "a=simulcast needs a direction and "
                                  "a list");
        }

        if (rooms_sdp_eq(dir, "send") && m->nsim_send == 0) {
            if (rooms_sdp_sim_list(ps, list, m->sim_send, &m->nsim_send)) {
                return -1;
            }

        } else if (rooms_sdp_eq(dir, "recv") && m->nsim_recv == 0) {
            if (rooms_sdp_sim_list(ps, list, m->sim_recv, &m->nsim_recv)) {
                return -1;
            }

        } else {
            return rooms_sdp_fail(ps, "bad direction in a=simulcast");
        }
    }

    if (rooms_sdp_trim(val).n != 0) {
        return rooms_sdp_fail(ps, "trailing text in a=simulcast");
    }

    return 0;
}


static int
rooms_sdp_a_sctp(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val)
{
    uint64_t  v;

    if (rooms_sdp_eq(name, "sctp-port")) {
        if (rooms_sdp_uint(val, 65535, &v) != 0) {
            return rooms_sdp_fail(ps, "bad a=sctp-port");
        }

        ps->m->sctp_port = (uint16_t) v;
        return 0;
    }

    if (rooms_sdp_uint(val, UINT32_MAX, &v) != 0) {
        return rooms_sdp_fail(ps, "bad a=max-message-size");
    }

    ps->m->max_message_size = (uint32_t) v;

    return 0;
}


static const rooms_sdp_attr_t  rooms_sdp_attrs[] = {
    { "ice-ufrag",          rooms_sdp_a_ice_ufrag,   ROOMS_SDP_AT_BOTH },
    { "ice-pwd",            rooms_sdp_a_ice_pwd,     ROOMS_SDP_AT_BOTH },
    { "fingerprint",        rooms_sdp_a_fingerprint, ROOMS_SDP_AT_BOTH },
    { "setup",              rooms_sdp_a_setup,       ROOMS_SDP_AT_BOTH },
    { "sendrecv",           rooms_sdp_a_direction,   ROOMS_SDP_AT_BOTH },
    { "sendonly",           rooms_sdp_a_direction,   ROOMS_SDP_AT_BOTH },
    { "recvonly",           rooms_sdp_a_direction,   ROOMS_SDP_AT_BOTH },
    { "inactive",           rooms_sdp_a_direction,   ROOMS_SDP_AT_BOTH },
    { "ice-lite",           rooms_sdp_a_flag,        ROOMS_SDP_AT_SESSION },
    { "extmap-allow-mixed", rooms_sdp_a_flag,        ROOMS_SDP_AT_BOTH },
    { "group",              rooms_sdp_a_group,       ROOMS_SDP_AT_SESSION },
    { "mid",                rooms_sdp_a_mid,         ROOMS_SDP_AT_MEDIA },
    { "rtcp-mux",           rooms_sdp_a_flag,        ROOMS_SDP_AT_MEDIA },
    { "rtcp-rsize",         rooms_sdp_a_flag,        ROOMS_SDP_AT_MEDIA },
    { "bundle-only",        rooms_sdp_a_flag,        ROOMS_SDP_AT_MEDIA },
    { "msid",               rooms_sdp_a_msid,        ROOMS_SDP_AT_MEDIA },
    { "sctp-port",          rooms_sdp_a_sctp,        ROOMS_SDP_AT_MEDIA },
    { "max-message-size",   rooms_sdp_a_sctp,        ROOMS_SDP_AT_MEDIA },
    { "rtpmap",             rooms_sdp_a_rtpmap,      ROOMS_SDP_AT_RTP },
    { "fmtp",               rooms_sdp_a_fmtp,        ROOMS_SDP_AT_RTP },
    { "rtcp-fb",            rooms_sdp_a_rtcp_fb,     ROOMS_SDP_AT_RTP },
    { "extmap",             rooms_sdp_a_extmap,      ROOMS_SDP_AT_RTP },
    { "ssrc",               rooms_sdp_a_ssrc,        ROOMS_SDP_AT_RTP },
    { "ssrc-group",         rooms_sdp_a_ssrc_group,  ROOMS_SDP_AT_RTP },
    { "rid",                rooms_sdp_a_rid,         ROOMS_SDP_AT_RTP },
    { "simulcast",          rooms_sdp_a_simulcast,   ROOMS_SDP_AT_RTP },
    { NULL, NULL, 0 }
};


/*
 * a=<name>[:<value>].  Attributes we do not know, or that sit at a level
 * where they mean nothing to us (a=candidate: ICE-lite learns addresses
 * from STUN), are ignored as SDP asks.
 */
int
rooms_sdp_attribute(rooms_sdp_parser_t *ps, rooms_sdp_str_t value)
{
    int                      rtp;
    rooms_sdp_str_t          name, val;
    const rooms_sdp_attr_t  *a;

    (void) rooms_sdp_split(value, ':', &name, &val);

    rtp = ps->m != NULL && (ps->m->kind == ROOMS_SDP_KIND_AUDIO
                            || ps->m->kind == ROOMS_SDP_KIND_VIDEO);

    for (a = rooms_sdp_attrs; a->name; a++) {
        if (!rooms_sdp_eq(name, a->name)) {
            continue;
        }

        if (((a->where & ROOMS_SDP_AT_SESSION) && ps->m == NULL)
            || ((a->where & ROOMS_SDP_AT_MEDIA) && ps->m != NULL)
            || ((a->where & ROOMS_SDP_AT_RTP) && rtp))
        {
            return a->handler(ps, name, val);
        }

        return 0;
    }

    return 0;
}
