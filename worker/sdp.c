/*
 * sdp.c: the SDP core of the media worker (see sdp.h for the contract):
 * the parser's structure (lines, the session level, m= lines), its
 * checked string helpers, and the accessors.  One parser per a=
 * attribute is in sdp_attr.c; negotiation and the answer in
 * sdp_answer.c; their shared state in sdp_int.h.
 *
 * The parser walks the text once, line by line, without copying it: each
 * line is a (pointer, length) span checked for its bound and for control
 * characters before anything reads it, then split into words.  Values
 * are copied into the fixed-size fields of rooms_sdp_t only after they
 * are checked against their bound and character set, so every string the
 * answer echoes back (mid, rid, media, proto, msid) is a plain token and
 * can never inject a line.
 *
 * Session-level values (ICE credentials, fingerprint, setup, direction)
 * are kept aside and resolved into each m= line when it ends, so readers
 * of rooms_sdp_media_t never need to look at two levels.
 *
 * Must never: allocate, do I/O, keep static mutable state, or accept
 * input over a bound by cutting it.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include rtp.h, include rtcp.h, include srtp.h, include dtls.h, include ice.h, call json_, call malloc, call calloc, call RAND_bytes, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdp_int.h"


/* ------------------------------------------------------------------ */
/* small helpers                                                        */
/* ------------------------------------------------------------------ */


int
rooms_sdp_fail(rooms_sdp_parser_t *ps, const char *fmt, ...)
{
    int      n;
    va_list  args;

    if (ps->err == NULL || ps->errlen == 0) {
        return -1;
    }

    n = 0;

    if (ps->line > 0) {
        n = snprintf(ps->err, ps->errlen, "line %u: ", ps->line);

        if (n < 0 || (size_t) n >= ps->errlen) {
            return -1;
        }
    }

    va_start(args, fmt);
    vsnprintf(ps->err + n, ps->errlen - n, fmt, args);
    va_end(args);

    return -1;
}


int
rooms_sdp_is_space(char c)
{
    return c == ' ' || c == '\t';
}


/* Cuts the next space-separated word off *rest; an empty span at the end. */
rooms_sdp_str_t
rooms_sdp_word(rooms_sdp_str_t *rest)
{
    rooms_sdp_str_t  w;

    while (rest->n > 0 && rooms_sdp_is_space(*rest->p)) {
        rest->p++;
        rest->n--;
    }

    w.p = rest->p;
    w.n = 0;

    while (rest->n > 0 && !rooms_sdp_is_space(*rest->p)) {
        rest->p++;
        rest->n--;
        w.n++;
    }

    return w;
}


/* s without the spaces around it. */
rooms_sdp_str_t
rooms_sdp_trim(rooms_sdp_str_t s)
{
    while (s.n > 0 && rooms_sdp_is_space(*s.p)) {
        s.p++;
        s.n--;
    }

    while (s.n > 0 && rooms_sdp_is_space(s.p[s.n - 1])) {
        s.n--;
    }

    return s;
}


/* Cuts s at the first c: *head gets what precedes it; 0 when c is absent. */
int
rooms_sdp_split(rooms_sdp_str_t s, char c, rooms_sdp_str_t *head,
    rooms_sdp_str_t *tail)
{
    const char  *q;

    q = s.n ? memchr(s.p, c, s.n) : NULL;

    if (q == NULL) {
        *head = s;
        tail->p = s.p + s.n;
        tail->n = 0;
        return 0;
    }

    head->p = s.p;
    head->n = q - s.p;
    tail->p = q + 1;
    tail->n = s.n - head->n - 1;

    return 1;
}


int
rooms_sdp_eq(rooms_sdp_str_t s, const char *lit)
{
    size_t  n;

    n = strlen(lit);

    return s.n == n && memcmp(s.p, lit, n) == 0;
}


int
rooms_sdp_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}


int
rooms_sdp_eq_nocase(const char *a, size_t n, const char *lit)
{
    size_t  i;

    if (strlen(lit) != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (rooms_sdp_lower((unsigned char) a[i])
            != rooms_sdp_lower((unsigned char) lit[i]))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Reads a decimal number of at most max: digits only (no sign, no
 * spaces), nothing empty.  Returns 0 or -1.
 */
int
rooms_sdp_uint(rooms_sdp_str_t s, uint64_t max, uint64_t *out)
{
    size_t    i;
    unsigned  d;
    uint64_t  v;

    if (s.n == 0 || s.n > 20) {
        return -1;
    }

    v = 0;

    for (i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9') {
            return -1;
        }

        d = (unsigned) (s.p[i] - '0');

        if (v > max / 10 || (v == max / 10 && d > max % 10)) {
            return -1;
        }

        v = v * 10 + d;
    }

    *out = v;

    return 0;
}


/* Copies s into dst[size] with a NUL; -1 (dst untouched) if it is longer. */
int
rooms_sdp_copy(char *dst, size_t size, rooms_sdp_str_t s)
{
    if (s.n >= size) {
        return -1;
    }

    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';

    return 0;
}


/* token-char (RFC 8866): visible ASCII but " ( ) , / : ; < = > ? @ [ \ ] */
int
rooms_sdp_token_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f) {
        return 0;
    }

    return strchr("\"(),/:;<=>?@[\\]", c) == NULL;
}


int
rooms_sdp_is_token(rooms_sdp_str_t s, size_t max)
{
    size_t  i;

    if (s.n == 0 || s.n > max) {
        return 0;
    }

    for (i = 0; i < s.n; i++) {
        if (!rooms_sdp_token_char((unsigned char) s.p[i])) {
            return 0;
        }
    }

    return 1;
}


/* visible ASCII, no space: safe to write as the last word of a line */
int
rooms_sdp_is_visible(rooms_sdp_str_t s, size_t max)
{
    size_t  i;

    if (s.n == 0 || s.n > max) {
        return 0;
    }

    for (i = 0; i < s.n; i++) {
        if ((unsigned char) s.p[i] <= 0x20 || (unsigned char) s.p[i] >= 0x7f)
        {
            return 0;
        }
    }

    return 1;
}


int
rooms_sdp_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}


/* ice-char: ALPHA / DIGIT / "+" / "/" (RFC 8839) */
int
rooms_sdp_is_ice(const char *p, size_t n, size_t min, size_t max)
{
    size_t  i;

    if (n < min || n > max) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (!rooms_sdp_alnum((unsigned char) p[i])
            && p[i] != '+' && p[i] != '/')
        {
            return 0;
        }
    }

    return 1;
}


/* rid-id: 1*(alpha-numeric / "-" / "_") (RFC 8851) */
int
rooms_sdp_is_rid(rooms_sdp_str_t s)
{
    size_t  i;

    if (s.n == 0 || s.n > ROOMS_SDP_RID_MAX) {
        return 0;
    }

    for (i = 0; i < s.n; i++) {
        if (!rooms_sdp_alnum((unsigned char) s.p[i])
            && s.p[i] != '-' && s.p[i] != '_')
        {
            return 0;
        }
    }

    return 1;
}


int
rooms_sdp_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = (char) rooms_sdp_lower((unsigned char) c);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


int
rooms_sdp_direction(rooms_sdp_str_t s)
{
    if (rooms_sdp_eq(s, "sendrecv")) {
        return ROOMS_SDP_SENDRECV;
    }

    if (rooms_sdp_eq(s, "sendonly")) {
        return ROOMS_SDP_SENDONLY;
    }

    if (rooms_sdp_eq(s, "recvonly")) {
        return ROOMS_SDP_RECVONLY;
    }

    if (rooms_sdp_eq(s, "inactive")) {
        return ROOMS_SDP_INACTIVE;
    }

    return -1;
}


rooms_sdp_codec_t *
rooms_sdp_codec(rooms_sdp_media_t *m, uint64_t pt)
{
    unsigned  i;

    for (i = 0; i < m->ncodecs; i++) {
        if (m->codecs[i].pt == pt) {
            return &m->codecs[i];
        }
    }

    return NULL;
}


/* Reads "<pt>" of rtpmap, fmtp and rtcp-fb: 0..127, the RTP header's 7 bits */
int
rooms_sdp_pt(rooms_sdp_parser_t *ps, rooms_sdp_str_t s, const char *attr,
    uint64_t *pt)
{
    if (rooms_sdp_uint(s, 127, pt) != 0) {
        return rooms_sdp_fail(ps, "bad payload type in a=%s", attr);
    }

    return 0;
}


/* ------------------------------------------------------------------ */
/* m= lines and the end of each                                         */
/* ------------------------------------------------------------------ */


/*
 * Closes the current m= line: takes the session-level values it lacks,
 * then checks what needs the whole section (a=mid, transport for a line
 * with a port, FID and simulcast references).
 */
static int
rooms_sdp_end_media(rooms_sdp_parser_t *ps)
{
    int                     rc;
    uint8_t                 dir;
    unsigned                i, j, index, line, found;
    rooms_sdp_media_t      *m;
    const rooms_sdp_sim_t  *sim;

    m = ps->m;

    if (m == NULL) {
        return 0;
    }

    index = (unsigned) (m - ps->sdp->media);
    line = ps->line;
    ps->line = 0;
    rc = -1;

    if (m->mid[0] == '\0') {
        rooms_sdp_fail(ps, "m= line %u has no a=mid", index);
        goto done;
    }

    if (m->ice_ufrag[0] == '\0') {
        memcpy(m->ice_ufrag, ps->ice_ufrag, sizeof(m->ice_ufrag));
    }

    if (m->ice_pwd[0] == '\0') {
        memcpy(m->ice_pwd, ps->ice_pwd, sizeof(m->ice_pwd));
    }

    /* a line's own fingerprints, of any hash, replace the session's */
    if (!ps->m_fp_seen) {
        memcpy(m->fingerprint, ps->fingerprint, ROOMS_SDP_FP_LEN);
        m->fingerprint_len = ps->fingerprint_len;
    }

    if (m->setup == ROOMS_SDP_SETUP_NONE) {
        m->setup = ps->setup;
    }

    if (!ps->m_has_direction) {
        m->direction = ps->has_direction ? ps->direction : ROOMS_SDP_SENDRECV;
    }

    /* bundle-only lines (port 0) ride the BUNDLE tag's transport */
    if (m->port != 0) {
        if (m->ice_ufrag[0] == '\0' || m->ice_pwd[0] == '\0') {
            rooms_sdp_fail(ps, "m= line %u has no a=ice-ufrag and a=ice-pwd",
                           index);
            goto done;
        }

        if (m->fingerprint_len == 0) {
            rooms_sdp_fail(ps, "m= line %u has %s", index,
                           (ps->m_fp_seen || ps->fp_seen)
                           ? "no sha-256 a=fingerprint (only sha-256 is "
                             "accepted)"
                           : "no a=fingerprint");
            goto done;
        }
    }

    for (i = 0; i < m->ncodecs; i++) {
        m->codecs[i].fb |= ps->m_fb_any;
    }

    for (i = 0; i < m->nfids; i++) {
        if (!rooms_sdp_ssrc_declared(m, m->fids[i].primary)
            || !rooms_sdp_ssrc_declared(m, m->fids[i].rtx))
        {
            rooms_sdp_fail(ps, "m= line %u: a=ssrc-group:FID names an SSRC "
                           "without a=ssrc", index);
            goto done;
        }
    }

    for (i = 0; i < m->nsim_send + m->nsim_recv; i++) {
        sim = i < m->nsim_send ? &m->sim_send[i]
                               : &m->sim_recv[i - m->nsim_send];
        dir = i < m->nsim_send ? ROOMS_SDP_SEND : ROOMS_SDP_RECV;
        found = 0;

        for (j = 0; j < m->nrids; j++) {
            if (strcmp(m->rids[j].id, sim->rid) == 0
                && m->rids[j].direction == dir)
            {
                found = 1;
            }
        }

        if (!found) {
            rooms_sdp_fail(ps, "m= line %u: simulcast rid %s has no a=rid "
                           "line in that direction", index, sim->rid);
            goto done;
        }
    }

    rc = 0;

done:

    ps->line = line;
    ps->m = NULL;

    return rc;
}


/*
 * The formats that end an m= line (value): the first kept as text, and
 * for audio and video each one a payload type (at most
 * ROOMS_SDP_MAX_PT, none twice).  0, or -1 after rooms_sdp_fail().
 */
static int
rooms_sdp_m_formats(rooms_sdp_parser_t *ps, rooms_sdp_media_t *m,
    rooms_sdp_str_t value)
{
    unsigned            nfmt;
    uint64_t            pt;
    rooms_sdp_str_t     fmt;
    rooms_sdp_codec_t  *c;

    for (nfmt = 0; ; nfmt++) {
        fmt = rooms_sdp_word(&value);

        if (fmt.n == 0) {
            break;
        }

        if (!rooms_sdp_is_token(fmt, ROOMS_SDP_TOKEN_MAX)) {
            return rooms_sdp_fail(ps, "bad format in m= line");
        }

        if (nfmt == 0) {
            (void) rooms_sdp_copy(m->fmt, sizeof(m->fmt), fmt);
        }

        if (m->kind != ROOMS_SDP_KIND_AUDIO
            && m->kind != ROOMS_SDP_KIND_VIDEO)
        {
            continue;
        }

        if (rooms_sdp_uint(fmt, 127, &pt) != 0) {
            return rooms_sdp_fail(ps, "bad payload type in m= line");
        }

        if (rooms_sdp_codec(m, pt) != NULL) {
            return rooms_sdp_fail(ps, "payload type %u twice in m= line",
                                  (unsigned) pt);
        }

        if (m->ncodecs == ROOMS_SDP_MAX_PT) {
            return rooms_sdp_fail(ps, "more than %d payload types in m= line",
                                  ROOMS_SDP_MAX_PT);
        }

        c = &m->codecs[m->ncodecs++];
        c->pt = (uint8_t) pt;
        c->apt = -1;
    }

    if (nfmt == 0) {
        return rooms_sdp_fail(ps, "m= line without formats");
    }

    return 0;
}


/* m=<media> <port> <proto> <fmt> ... */
static int
rooms_sdp_m_line(rooms_sdp_parser_t *ps, rooms_sdp_str_t value)
{
    unsigned            nfmt;
    uint64_t            port;
    rooms_sdp_t        *sdp;
    rooms_sdp_str_t     media, portw, proto;
    rooms_sdp_media_t  *m;

    if (rooms_sdp_end_media(ps) != 0) {
        return -1;
    }

    sdp = ps->sdp;

    if (sdp->nmedia == ROOMS_SDP_MAX_MEDIA) {
        return rooms_sdp_fail(ps, "more than %d m= lines",
                              ROOMS_SDP_MAX_MEDIA);
    }

    m = &sdp->media[sdp->nmedia++];
    ps->m = m;
    ps->m_fp_seen = 0;
    ps->m_has_direction = 0;
    ps->m_has_msid = 0;
    ps->m_has_simulcast = 0;
    ps->m_fb_any = 0;

    media = rooms_sdp_word(&value);
    portw = rooms_sdp_word(&value);
    proto = rooms_sdp_word(&value);

    if (!rooms_sdp_is_token(media, ROOMS_SDP_TOKEN_MAX)) {
        return rooms_sdp_fail(ps, "bad media in m= line");
    }

    (void) rooms_sdp_copy(m->media, sizeof(m->media), media);

    if (rooms_sdp_eq(media, "audio")) {
        m->kind = ROOMS_SDP_KIND_AUDIO;

    } else if (rooms_sdp_eq(media, "video")) {
        m->kind = ROOMS_SDP_KIND_VIDEO;

    } else if (rooms_sdp_eq(media, "application")) {
        m->kind = ROOMS_SDP_KIND_APPLICATION;

    } else {
        m->kind = ROOMS_SDP_KIND_OTHER;
    }

    if (memchr(portw.p, '/', portw.n) != NULL) {
        return rooms_sdp_fail(ps, "port/count in an m= line is not used "
                              "by WebRTC");
    }

    if (rooms_sdp_uint(portw, 65535, &port) != 0) {
        return rooms_sdp_fail(ps, "bad port in m= line");
    }

    m->port = (uint16_t) port;

    /* proto is token *("/" token): '/' is the only non-token allowed */
    if (proto.n == 0 || proto.n > ROOMS_SDP_TOKEN_MAX
        || rooms_sdp_copy(m->proto, sizeof(m->proto), proto) != 0)
    {
        return rooms_sdp_fail(ps, "bad proto in m= line");
    }

    for (nfmt = 0; nfmt < proto.n; nfmt++) {
        if (proto.p[nfmt] != '/'
            && !rooms_sdp_token_char((unsigned char) proto.p[nfmt]))
        {
            return rooms_sdp_fail(ps, "bad proto in m= line");
        }
    }

    if ((m->kind == ROOMS_SDP_KIND_AUDIO || m->kind == ROOMS_SDP_KIND_VIDEO)
        && !rooms_sdp_eq(proto, ROOMS_SDP_PROTO_RTP))
    {
        return rooms_sdp_fail(ps, "audio and video must be "
                              ROOMS_SDP_PROTO_RTP);
    }

    return rooms_sdp_m_formats(ps, m, value);
}


/* ------------------------------------------------------------------ */
/* the parser                                                           */
/* ------------------------------------------------------------------ */


static int
rooms_sdp_line(rooms_sdp_parser_t *ps, rooms_sdp_str_t line)
{
    size_t           i;
    unsigned char    c;
    rooms_sdp_str_t  value;

    for (i = 0; i < line.n; i++) {
        c = (unsigned char) line.p[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return rooms_sdp_fail(ps, "control character 0x%02x", c);
        }
    }

    while (line.n > 0 && rooms_sdp_is_space(line.p[line.n - 1])) {
        line.n--;
    }

    if (line.n == 0) {
        return 0;                       /* blank lines are tolerated */
    }

    if (line.n < 2 || line.p[1] != '=' || line.p[0] < 'a' || line.p[0] > 'z')
    {
        return rooms_sdp_fail(ps, "not a <type>=<value> line");
    }

    value.p = line.p + 2;
    value.n = line.n - 2;

    if (!ps->seen_v) {
        if (line.p[0] != 'v' || !rooms_sdp_eq(value, "0")) {
            return rooms_sdp_fail(ps, "the first line must be v=0");
        }

        ps->seen_v = 1;
        return 0;
    }

    switch (line.p[0]) {

    case 'v':
        return rooms_sdp_fail(ps, "a second v= line");

    case 'm':
        return rooms_sdp_m_line(ps, value);

    case 'a':
        return rooms_sdp_attribute(ps, value);

    default:
        return 0;                       /* o= s= t= c= b=: nothing for us */
    }
}


static int
rooms_sdp_finish(rooms_sdp_parser_t *ps)
{
    unsigned            i, j;
    rooms_sdp_t        *sdp;
    rooms_sdp_media_t  *m;

    if (rooms_sdp_end_media(ps) != 0) {
        return -1;
    }

    sdp = ps->sdp;
    ps->line = 0;

    if (!ps->seen_v) {
        return rooms_sdp_fail(ps, "no v=0 line");
    }

    if (sdp->nmedia == 0) {
        return rooms_sdp_fail(ps, "no m= line");
    }

    for (i = 0; i < sdp->nmedia; i++) {
        for (j = 0; j < i; j++) {
            if (strcmp(sdp->media[i].mid, sdp->media[j].mid) == 0) {
                return rooms_sdp_fail(ps, "mid %s on two m= lines",
                                      sdp->media[i].mid);
            }
        }
    }

    for (i = 0; i < sdp->nbundle; i++) {
        if (rooms_sdp_find_mid(sdp, sdp->bundle[i]) < 0) {
            return rooms_sdp_fail(ps, "BUNDLE names mid %s, which no m= "
                                  "line has", sdp->bundle[i]);
        }
    }

    /* the transport: the first m= line with a port */
    for (i = 0; i < sdp->nmedia; i++) {
        m = &sdp->media[i];

        if (m->port != 0) {
            memcpy(sdp->ice_ufrag, m->ice_ufrag, sizeof(sdp->ice_ufrag));
            memcpy(sdp->ice_pwd, m->ice_pwd, sizeof(sdp->ice_pwd));
            memcpy(sdp->fingerprint, m->fingerprint, ROOMS_SDP_FP_LEN);
            sdp->fingerprint_len = m->fingerprint_len;
            sdp->setup = m->setup;
            return 0;
        }
    }

    return rooms_sdp_fail(ps, "every m= line has port 0");
}


int
rooms_sdp_parse(const char *text, size_t len, rooms_sdp_t *out, char *err,
    size_t errlen)
{
    size_t               n;
    const char          *p, *end, *eol, *next;
    rooms_sdp_str_t      line;
    rooms_sdp_parser_t   ps;

    memset(&ps, 0, sizeof(ps));
    ps.sdp = out;
    ps.err = err;
    ps.errlen = errlen;

    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    memset(out, 0, sizeof(*out));

    if (text == NULL || len == 0) {
        return rooms_sdp_fail(&ps, "empty description");
    }

    p = text;
    end = text + len;

    while (p < end) {
        ps.line++;

        eol = memchr(p, '\n', end - p);
        next = eol ? eol + 1 : end;
        eol = eol ? eol : end;
        n = eol - p;

        if (n > 0 && p[n - 1] == '\r') {
            n--;
        }

        if (n > ROOMS_SDP_MAX_LINE) {
            return rooms_sdp_fail(&ps, "line longer than %d bytes",
                                  ROOMS_SDP_MAX_LINE);
        }

        line.p = p;
        line.n = n;
        p = next;

        if (rooms_sdp_line(&ps, line) != 0) {
            return -1;
        }
    }

    return rooms_sdp_finish(&ps);
}


/* ------------------------------------------------------------------ */
/* accessors                                                            */
/* ------------------------------------------------------------------ */


int
rooms_sdp_find_mid(const rooms_sdp_t *sdp, const char *mid)
{
    unsigned  i;

    for (i = 0; i < sdp->nmedia; i++) {
        if (strcmp(sdp->media[i].mid, mid) == 0) {
            return (int) i;
        }
    }

    return -1;
}


const rooms_sdp_codec_t *
rooms_sdp_find_codec(const rooms_sdp_media_t *m, unsigned pt)
{
    unsigned  i;

    for (i = 0; i < m->ncodecs; i++) {
        if (m->codecs[i].pt == pt) {
            return &m->codecs[i];
        }
    }

    return NULL;
}


unsigned
rooms_sdp_find_extmap(const rooms_sdp_media_t *m, const char *uri)
{
    unsigned  i;

    for (i = 0; i < m->nextmaps; i++) {
        if (strcmp(m->extmaps[i].uri, uri) == 0) {
            return m->extmaps[i].id;
        }
    }

    return 0;
}


int
rooms_sdp_media_sources(const rooms_sdp_media_t *m, rooms_sdp_source_t *out,
    unsigned n)
{
    unsigned                 i, j, count, is_rtx;
    rooms_sdp_source_t      *s;
    const rooms_sdp_ssrc_t  *ss;

    count = 0;

    if (m->nsim_send > 0) {
        for (i = 0; i < m->nsim_send; i++) {
            if (count == n) {
                return -1;
            }

            s = &out[count++];
            memset(s, 0, sizeof(*s));
            memcpy(s->rid, m->sim_send[i].rid, sizeof(s->rid));
            s->paused = m->sim_send[i].paused;
        }

        return (int) count;
    }

    for (i = 0; i < m->nssrcs; i++) {
        ss = &m->ssrcs[i];
        is_rtx = 0;

        for (j = 0; j < m->nfids; j++) {
            if (m->fids[j].rtx == ss->ssrc) {
                is_rtx = 1;
            }
        }

        if (is_rtx) {
            continue;
        }

        if (count == n) {
            return -1;
        }

        s = &out[count++];
        memset(s, 0, sizeof(*s));
        s->ssrc = ss->ssrc;
        s->has_ssrc = 1;

        for (j = 0; j < m->nfids; j++) {
            if (m->fids[j].primary == ss->ssrc) {
                s->rtx_ssrc = m->fids[j].rtx;
                s->has_rtx = 1;
                break;
            }
        }
    }

    return (int) count;
}
