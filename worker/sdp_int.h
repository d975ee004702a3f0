/*
 * sdp_int.h: what the files of the SDP core share, and nothing else may
 * include: the parser's state, the input span and the lexing helpers
 * (defined in sdp.c).
 *
 * Owns: rooms_sdp_parser_t, rooms_sdp_str_t, and the declarations of the
 * helpers that sdp_attr.c (the a= handlers) and sdp_answer.c (the checks
 * of local strings, which use the same character classes as the parser)
 * call.  Must never: be included outside worker/sdp*.c, declare anything
 * that keeps state between calls, or grow a function a caller outside
 * the SDP core would need: that belongs in sdp.h.
 *
 * May not: include <sys/socket.h>, include <stdlib.h>, include <stdio.h>, include sfu.h, call malloc, call json_
 */

#ifndef ROOMS_SDP_INT_H
#define ROOMS_SDP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "sdp.h"


/* a span of the input: never NUL-terminated */
typedef struct {
    const char  *p;
    size_t       n;
} rooms_sdp_str_t;


/* one call of rooms_sdp_parse(): on its stack, never kept after it */
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


/* the current m= line's a=<name>[:<value>] or the session's (sdp_attr.c) */
int rooms_sdp_attribute(rooms_sdp_parser_t *ps, rooms_sdp_str_t value);

/*
 * Writes "line N: <message>" into the caller's err buffer (the line part
 * when ps->line is not 0) and returns -1, so a check reads
 * "return rooms_sdp_fail(...)".
 */
int rooms_sdp_fail(rooms_sdp_parser_t *ps, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;


/* lexing: spans of the input, never copied until checked */
rooms_sdp_str_t rooms_sdp_word(rooms_sdp_str_t *rest);
rooms_sdp_str_t rooms_sdp_trim(rooms_sdp_str_t s);
int rooms_sdp_split(rooms_sdp_str_t s, char c, rooms_sdp_str_t *head,
    rooms_sdp_str_t *tail);
int rooms_sdp_eq(rooms_sdp_str_t s, const char *lit);
int rooms_sdp_eq_nocase(const char *a, size_t n, const char *lit);
int rooms_sdp_uint(rooms_sdp_str_t s, uint64_t max, uint64_t *out);
int rooms_sdp_copy(char *dst, size_t size, rooms_sdp_str_t s);

/* character classes: 1 when s is one, 0 otherwise */
int rooms_sdp_is_token(rooms_sdp_str_t s, size_t max);
int rooms_sdp_is_visible(rooms_sdp_str_t s, size_t max);
int rooms_sdp_is_ice(const char *p, size_t n, size_t min, size_t max);
int rooms_sdp_is_rid(rooms_sdp_str_t s);

/* one hex digit's value, or -1 */
int rooms_sdp_hex(char c);

/* a direction attribute's name as ROOMS_SDP_SENDRECV...; -1 if none */
int rooms_sdp_direction(rooms_sdp_str_t s);

/* the codec of payload type pt listed on m's m= line, or NULL */
rooms_sdp_codec_t *rooms_sdp_codec(rooms_sdp_media_t *m, uint64_t pt);


#endif /* ROOMS_SDP_INT_H */
