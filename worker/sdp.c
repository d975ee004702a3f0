/*
 * sdp.c: the SDP core of the media worker (see sdp.h for the contract).
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
 * The answer is built from rooms_sdp_negotiate() alone, so the SFU and
 * the text the browser gets cannot disagree.  It only formats: no clock,
 * no randomness, no allocation, so the same inputs give the same bytes.
 *
 * Must never: allocate, do I/O, keep static mutable state, or accept
 * input over a bound by cutting it.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include rtp.h, include rtcp.h, include srtp.h, include dtls.h, include ice.h, call json_, call malloc, call calloc, call RAND_bytes, call clock_gettime, call time, call gettimeofday, call rand, call getrandom
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sdp.h"


/* a span of the input: never NUL-terminated */
typedef struct {
    const char  *p;
    size_t       n;
} rooms_sdp_str_t;


typedef struct {
    rooms_sdp_t        *sdp;
    rooms_sdp_media_t  *m;                /* NULL at session level */
    unsigned            line;             /* 0: not about one line */
    unsigned            seen_v;
    char               *err;
    size_t              errlen;

    /* session level, resolved into every m= line that lacks its own */
    char                ice_ufrag[ROOMS_SDP_UFRAG_MAX + 1];
    char                ice_pwd[ROOMS_SDP_PWD_MAX + 1];
    unsigned char       fingerprint[ROOMS_SDP_FP_LEN];
    size_t              fingerprint_len;
    unsigned            fp_seen;          /* any a=fingerprint, any hash */
    uint8_t             setup;
    uint8_t             direction;
    unsigned            has_direction;
    unsigned            has_bundle;

    /* the current m= line */
    unsigned            m_fp_seen;
    unsigned            m_has_direction;
    unsigned            m_has_msid;
    unsigned            m_has_simulcast;
    uint8_t             m_fb_any;         /* a=rtcp-fb:* kinds */
} rooms_sdp_parser_t;


typedef int (*rooms_sdp_attr_pt)(rooms_sdp_parser_t *ps, rooms_sdp_str_t name,
    rooms_sdp_str_t val);

#define ROOMS_SDP_AT_SESSION  0x01
#define ROOMS_SDP_AT_MEDIA    0x02
#define ROOMS_SDP_AT_RTP      0x04        /* audio and video m= lines only */
#define ROOMS_SDP_AT_BOTH     (ROOMS_SDP_AT_SESSION | ROOMS_SDP_AT_MEDIA)

typedef struct {
    const char         *name;
    rooms_sdp_attr_pt   handler;
    unsigned            where;
} rooms_sdp_attr_t;


/* the answer under construction */
typedef struct {
    char               *pos;
    char               *end;              /* one past the last byte */
    int                 full;
} rooms_sdp_buf_t;


#define ROOMS_SDP_PROTO_RTP  "UDP/TLS/RTP/SAVPF"

/* host candidate priority (RFC 8445): type 126, local 65535, component 1 */
#define ROOMS_SDP_HOST_PRIORITY  2130706431u

/* "255.255.255.255" and the longest IPv6 text form both fit */
#define ROOMS_SDP_IP_MAX     45


static int rooms_sdp_fail(rooms_sdp_parser_t *ps, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void rooms_sdp_put(rooms_sdp_buf_t *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;


/* ------------------------------------------------------------------ */
/* small helpers                                                        */
/* ------------------------------------------------------------------ */


static int
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


static int
rooms_sdp_is_space(char c)
{
    return c == ' ' || c == '\t';
}


/* Cuts the next space-separated word off *rest; an empty span at the end. */
static rooms_sdp_str_t
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
static rooms_sdp_str_t
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
static int
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


static int
rooms_sdp_eq(rooms_sdp_str_t s, const char *lit)
{
    size_t  n;

    n = strlen(lit);

    return s.n == n && memcmp(s.p, lit, n) == 0;
}


static int
rooms_sdp_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}


static int
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
static int
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
static int
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
static int
rooms_sdp_token_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f) {
        return 0;
    }

    return strchr("\"(),/:;<=>?@[\\]", c) == NULL;
}


static int
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
static int
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


static int
rooms_sdp_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9');
}


/* ice-char: ALPHA / DIGIT / "+" / "/" (RFC 8839) */
static int
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
static int
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


static int
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


static int
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


static rooms_sdp_codec_t *
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
static int
rooms_sdp_pt(rooms_sdp_parser_t *ps, rooms_sdp_str_t s, const char *attr,
    uint64_t *pt)
{
    if (rooms_sdp_uint(s, 127, pt) != 0) {
        return rooms_sdp_fail(ps, "bad payload type in a=%s", attr);
    }

    return 0;
}


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


static int
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
static int
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


/* m=<media> <port> <proto> <fmt> ... */
static int
rooms_sdp_m_line(rooms_sdp_parser_t *ps, rooms_sdp_str_t value)
{
    unsigned            nfmt;
    uint64_t            port, pt;
    rooms_sdp_t        *sdp;
    rooms_sdp_str_t     media, portw, proto, fmt;
    rooms_sdp_media_t  *m;
    rooms_sdp_codec_t  *c;

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

        /*
         * transport-wide-cc is not answered: its sequence numbers ask for
         * transport feedback, which the worker does not send (see
         * ROOMS_SDP_FB_ANSWER_VIDEO).
         */

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


/* Everything local goes into the text: check it cannot break a line. */
static int
rooms_sdp_check_local(const rooms_sdp_local_t *local)
{
    size_t                   i, n;
    const char              *ip;
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

    ip = local->ip;
    n = rooms_sdp_strnlen(ip, ROOMS_SDP_IP_MAX + 1);

    /* a literal address only: a name could not go into c= anyway */
    if (n == 0 || n > ROOMS_SDP_IP_MAX
        || strspn(ip, "0123456789abcdefABCDEF.:") != n
        || strpbrk(ip, ".:") == NULL)
    {
        return -1;
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


static void
rooms_sdp_put_media(rooms_sdp_buf_t *b, const rooms_sdp_t *offer,
    const rooms_sdp_local_t *local, unsigned i, const rooms_sdp_neg_t *neg,
    const char *family, const char *fp, int first)
{
    unsigned                  k;
    uint8_t                   dir;
    uint16_t                  id;
    const rooms_sdp_media_t  *m;
    const rooms_sdp_codec_t  *c;
    const rooms_sdp_send_t   *s;

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

    /* ICE-lite: one host candidate, on the BUNDLE tag only */
    if (first) {
        rooms_sdp_put(b, "a=candidate:1 1 udp %u %s %u typ host\r\n"
                      "a=end-of-candidates\r\n", ROOMS_SDP_HOST_PRIORITY,
                      local->ip, (unsigned) local->port);
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
