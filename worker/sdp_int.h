/*
 * sdp_int.h: the SDP core's private header, shared by sdp.c (the
 * parser's structure: lines, m= lines, the session level, accessors),
 * sdp_attr.c (one parser per a= attribute) and sdp_answer.c
 * (negotiation and the answer): the parser's state and the checked
 * string helpers every part reads the input with.
 *
 * Owns: the shape of the parser's state.
 * Must never: be included outside worker/sdp*.c.
 * May not: include <sys/socket.h>, include <netinet/in.h>, include <sys/epoll.h>, include <jansson.h>, include sfu.h, include rtp.h, include rtcp.h, include srtp.h, include dtls.h, include ice.h
 */

#ifndef ROOMS_SDP_INT_H
#define ROOMS_SDP_INT_H

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


#define ROOMS_SDP_PROTO_RTP  "UDP/TLS/RTP/SAVPF"


/* one a= line: 0, or -1 after rooms_sdp_fail() */
int rooms_sdp_attribute(rooms_sdp_parser_t *ps, rooms_sdp_str_t value);

/* 1 when m= line m announced ssrc in an a=ssrc line (sdp_attr.c) */
int rooms_sdp_ssrc_declared(const rooms_sdp_media_t *m, uint32_t ssrc);

/* the checked helpers (sdp.c) */
int rooms_sdp_fail(rooms_sdp_parser_t *ps, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
int rooms_sdp_is_space(char c);
rooms_sdp_str_t rooms_sdp_word(rooms_sdp_str_t *rest);
rooms_sdp_str_t rooms_sdp_trim(rooms_sdp_str_t s);
int rooms_sdp_split(rooms_sdp_str_t s, char c, rooms_sdp_str_t *head,
    rooms_sdp_str_t *tail);
int rooms_sdp_eq(rooms_sdp_str_t s, const char *lit);
int rooms_sdp_lower(int c);
int rooms_sdp_eq_nocase(const char *a, size_t n, const char *lit);
int rooms_sdp_uint(rooms_sdp_str_t s, uint64_t max, uint64_t *out);
int rooms_sdp_copy(char *dst, size_t size, rooms_sdp_str_t s);
int rooms_sdp_token_char(unsigned char c);
int rooms_sdp_is_token(rooms_sdp_str_t s, size_t max);
int rooms_sdp_is_visible(rooms_sdp_str_t s, size_t max);
int rooms_sdp_alnum(unsigned char c);
int rooms_sdp_is_ice(const char *p, size_t n, size_t min, size_t max);
int rooms_sdp_is_rid(rooms_sdp_str_t s);
int rooms_sdp_hex(char c);
int rooms_sdp_direction(rooms_sdp_str_t s);
rooms_sdp_codec_t *rooms_sdp_codec(rooms_sdp_media_t *m, uint64_t pt);
int rooms_sdp_pt(rooms_sdp_parser_t *ps, rooms_sdp_str_t s, const char *attr,
    uint64_t *pt);


#endif /* ROOMS_SDP_INT_H */
