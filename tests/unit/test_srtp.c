/*
 * test_srtp.c: the SRTP glue (worker/srtp.*) on libsrtp2 built against
 * OpenSSL.
 *
 * Covers, for both profiles (AES_CM_128_HMAC_SHA1_80, AEAD_AES_128_GCM):
 * keying material sizes, a server and a client set up from the same DTLS
 * material talk to each other (RTP and RTCP) and not to themselves,
 * replays and old packets are refused, a flipped bit fails
 * authentication, a resent packet can be protected again (NACK answers),
 * and bad profiles or lengths are refused.
 */

#include <stdint.h>
#include <string.h>

#include "srtp.h"
#include "tap.h"


static const unsigned  profiles[] = {
    ROOMS_SRTP_AES128_CM_SHA1_80, ROOMS_SRTP_AEAD_AES_128_GCM
};


/* an RTP packet: V=2, PT 96, the given seq, ts and ssrc, payload bytes */
static size_t
make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload)
{
    size_t  i;

    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t) (seq >> 8);
    buf[3] = (uint8_t) seq;
    buf[4] = 0;
    buf[5] = 0;
    buf[6] = (uint8_t) (seq >> 8);
    buf[7] = (uint8_t) seq;
    buf[8] = (uint8_t) (ssrc >> 24);
    buf[9] = (uint8_t) (ssrc >> 16);
    buf[10] = (uint8_t) (ssrc >> 8);
    buf[11] = (uint8_t) ssrc;

    for (i = 0; i < payload; i++) {
        buf[12 + i] = (uint8_t) (i * 7 + seq);
    }

    return 12 + payload;
}


/* an RTCP receiver report with no blocks */
static size_t
make_rtcp(uint8_t *buf, uint32_t ssrc)
{
    buf[0] = 0x80;
    buf[1] = 201;
    buf[2] = 0;
    buf[3] = 1;
    buf[4] = (uint8_t) (ssrc >> 24);
    buf[5] = (uint8_t) (ssrc >> 16);
    buf[6] = (uint8_t) (ssrc >> 8);
    buf[7] = (uint8_t) ssrc;

    return 8;
}


static void
test_profile(unsigned profile)
{
    int           rc;
    size_t        klen, len, plen, i;
    uint8_t       material[64], pkt[1400], orig[1400], copy[1400];
    rooms_srtp_t  server, client;
    const char   *name;

    name = profile == ROOMS_SRTP_AEAD_AES_128_GCM ? "GCM" : "SHA1_80";

    klen = rooms_srtp_keying_len(profile);
    is_int((int) klen, profile == ROOMS_SRTP_AEAD_AES_128_GCM ? 56 : 60,
           "%s: keying material length", name);

    for (i = 0; i < sizeof(material); i++) {
        material[i] = (uint8_t) (i * 13 + 1);
    }

    is_int(rooms_srtp_create(&server, profile, material, klen, 1),
           ROOMS_SRTP_OK, "%s: server context", name);
    is_int(rooms_srtp_create(&client, profile, material, klen, 0),
           ROOMS_SRTP_OK, "%s: client context", name);

    /* server to client */
    len = make_rtp(pkt, 1000, 0x11223344, 1000);
    memcpy(orig, pkt, len);
    plen = len;
    is_int(rooms_srtp_protect(&server, pkt, &len), ROOMS_SRTP_OK,
           "%s: protect", name);
    is_int((int) (len - plen),
           profile == ROOMS_SRTP_AEAD_AES_128_GCM ? 16 : 10,
           "%s: the auth tag is added", name);
    ok(memcmp(pkt + 12, orig + 12, 100) != 0, "%s: payload is encrypted",
       name);
    memcpy(copy, pkt, len);

    is_int(rooms_srtp_unprotect(&client, pkt, &len), ROOMS_SRTP_OK,
           "%s: client unprotects", name);
    ok(len == plen && memcmp(pkt, orig, plen) == 0,
       "%s: round trip gives the original packet", name);

    /* the same packet again: a replay */
    len = plen + (profile == ROOMS_SRTP_AEAD_AES_128_GCM ? 16 : 10);
    memcpy(pkt, copy, len);
    is_int(rooms_srtp_unprotect(&client, pkt, &len), ROOMS_SRTP_REPLAY,
           "%s: a replayed packet is refused", name);

    /* a flipped bit in a new packet */
    len = make_rtp(pkt, 1001, 0x11223344, 200);
    rooms_srtp_protect(&server, pkt, &len);
    pkt[20] ^= 0x01;
    is_int(rooms_srtp_unprotect(&client, pkt, &len), ROOMS_SRTP_AUTH_FAIL,
           "%s: a flipped bit fails authentication", name);

    /* the server cannot read its own packets: directions have own keys */
    len = make_rtp(pkt, 1002, 0x11223344, 200);
    rooms_srtp_protect(&server, pkt, &len);
    rc = rooms_srtp_unprotect(&server, pkt, &len);
    ok(rc == ROOMS_SRTP_AUTH_FAIL, "%s: directions use different keys",
       name);

    /* client to server, then the same seq resent from history */
    len = make_rtp(pkt, 5, 0x55667788, 500);
    is_int(rooms_srtp_protect(&client, pkt, &len), ROOMS_SRTP_OK,
           "%s: client protects", name);
    is_int(rooms_srtp_unprotect(&server, pkt, &len), ROOMS_SRTP_OK,
           "%s: server unprotects", name);
    len = make_rtp(pkt, 1003, 0x11223344, 300);
    is_int(rooms_srtp_protect(&server, pkt, &len), ROOMS_SRTP_OK,
           "%s: protect seq 1003", name);
    len = make_rtp(pkt, 1003, 0x11223344, 300);
    is_int(rooms_srtp_protect(&server, pkt, &len), ROOMS_SRTP_OK,
           "%s: the same seq can be protected again (a NACK resend)",
           name);

    /* packets far behind the window are too old */
    for (i = 0; i < 2000; i++) {
        len = make_rtp(pkt, (uint16_t) (2000 + i), 0x99, 20);
        rooms_srtp_protect(&server, pkt, &len);
        rooms_srtp_unprotect(&client, pkt, &len);
    }
    len = make_rtp(pkt, 900, 0x99, 20);
    rooms_srtp_protect(&server, pkt, &len);
    is_int(rooms_srtp_unprotect(&client, pkt, &len), ROOMS_SRTP_REPLAY,
           "%s: a packet behind the replay window is refused", name);

    /* RTCP */
    len = make_rtcp(pkt, 0x55667788);
    plen = len;
    is_int(rooms_srtp_protect_rtcp(&client, pkt, &len), ROOMS_SRTP_OK,
           "%s: protect RTCP", name);
    ok(len > plen && len <= plen + ROOMS_SRTCP_MAX_TRAILER,
       "%s: SRTCP trailer fits the documented bound", name);
    memcpy(copy, pkt, len);
    plen = len;
    is_int(rooms_srtp_unprotect_rtcp(&server, pkt, &len), ROOMS_SRTP_OK,
           "%s: unprotect RTCP", name);
    is_int((int) len, 8, "%s: RTCP back to its length", name);
    memcpy(pkt, copy, plen);
    len = plen;
    is_int(rooms_srtp_unprotect_rtcp(&server, pkt, &len), ROOMS_SRTP_REPLAY,
           "%s: a replayed RTCP packet is refused", name);

    rooms_srtp_destroy(&server);
    rooms_srtp_destroy(&client);
    ok(server.in == NULL && server.out == NULL, "%s: destroy clears", name);
}


int
main(void)
{
    uint8_t       material[64];
    rooms_srtp_t  s;

    memset(material, 7, sizeof(material));

    is_int(rooms_srtp_global_init(), 0, "libsrtp initializes");

    test_profile(profiles[0]);
    test_profile(profiles[1]);

    is_int((int) rooms_srtp_keying_len(0x0002), 0,
           "AES_CM_128_HMAC_SHA1_32 is not offered");
    is_int(rooms_srtp_create(&s, 0x0008, material, 56, 1), ROOMS_SRTP_ERROR,
           "an unknown profile is refused");
    is_int(rooms_srtp_create(&s, ROOMS_SRTP_AEAD_AES_128_GCM, material, 60,
                             1),
           ROOMS_SRTP_ERROR, "material of the wrong length is refused");

    return done_testing();
}
