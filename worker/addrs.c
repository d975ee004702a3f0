/*
 * addrs.c: the announced addresses and their candidates (see addrs.h).
 *
 * Owns: the filters, the order and the priorities of addrs.h.
 * Must never: read the interfaces, the clock or anything else itself.
 * May not: include <sys/socket.h>, include <ifaddrs.h>, include <sys/epoll.h>, include sfu.h, call getifaddrs, call malloc, call calloc, call socket, call clock_gettime
 */

#include <stdio.h>
#include <string.h>

#include "addrs.h"


/* 1 when the address is one a browser elsewhere could never reach */
static int
rooms_addrs_unusable(const rooms_stun_addr_t *a, int loopback)
{
    static const uint8_t  zero[16];
    static const uint8_t  v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                           0xff, 0xff };
    static const uint8_t  v6loop[16] = { 0, 0, 0, 0, 0, 0, 0, 0,
                                         0, 0, 0, 0, 0, 0, 0, 1 };

    if (a->family == 4) {
        return memcmp(a->ip, zero, 4) == 0                 /* 0.0.0.0 */
               || (a->ip[0] & 0xf0) == 0xe0                /* multicast */
               || a->ip[0] == 255                          /* broadcast */
               || (a->ip[0] == 127 && !loopback);
    }

    if (a->family == 6) {
        return memcmp(a->ip, zero, 16) == 0                /* :: */
               || a->ip[0] == 0xff                         /* multicast */
               || (a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80)
                                                           /* link-local */
               || (a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0xc0)
                                                           /* site-local */
               || memcmp(a->ip, v4mapped, 12) == 0
               || (memcmp(a->ip, v6loop, 16) == 0 && !loopback);
    }

    return 1;
}


unsigned
rooms_addrs_pick(const rooms_addrs_if_t *ifs, size_t n, int loopback,
    rooms_stun_addr_t *out)
{
    size_t              i;
    unsigned            j, n4, n6, k, count;
    rooms_stun_addr_t   a, v4[ROOMS_ADDRS_MAX], v6[ROOMS_ADDRS_MAX];

    n4 = 0;
    n6 = 0;

    for (i = 0; i < n; i++) {
        if (!ifs[i].up || (ifs[i].loopback && !loopback)) {
            continue;
        }

        /* only what makes the address: the caller's port and via go */
        memset(&a, 0, sizeof(a));
        a.family = ifs[i].addr.family;
        memcpy(a.ip, ifs[i].addr.ip, a.family == 4 ? 4 : 16);

        if (rooms_addrs_unusable(&a, loopback)) {
            continue;
        }

        for (j = 0; j < n4; j++) {
            if (rooms_stun_addr_equal(&v4[j], &a)) {
                break;
            }
        }

        for (k = 0; k < n6; k++) {
            if (rooms_stun_addr_equal(&v6[k], &a)) {
                break;
            }
        }

        if (j < n4 || k < n6) {
            continue;                       /* on two interfaces */
        }

        if (a.family == 4 && n4 < ROOMS_ADDRS_MAX) {
            v4[n4++] = a;

        } else if (a.family == 6 && n6 < ROOMS_ADDRS_MAX) {
            v6[n6++] = a;
        }
    }

    /* RFC 8421 4: IPv6 and IPv4 in turn, IPv6 first */
    count = 0;

    for (j = 0; count < ROOMS_ADDRS_MAX && (j < n4 || j < n6); j++) {
        if (j < n6) {
            out[count++] = v6[j];
        }

        if (j < n4 && count < ROOMS_ADDRS_MAX) {
            out[count++] = v4[j];
        }
    }

    return count;
}


uint32_t
rooms_addrs_priority(unsigned type_pref, unsigned local_pref)
{
    return ((uint32_t) type_pref << 24) | ((uint32_t) local_pref << 8)
           | (256 - 1);
}


/* the text form of a's IP into ip (46 bytes): 0, or -1 */
static int
rooms_addrs_text(const rooms_stun_addr_t *a, char *ip, size_t size)
{
    char  *colon;

    if (a->family == 4) {
        snprintf(ip, size, "%u.%u.%u.%u", a->ip[0], a->ip[1], a->ip[2],
                 a->ip[3]);
        return 0;
    }

    if (a->family != 6) {
        return -1;
    }

    /* "[ip]:port" without the brackets and the port */
    if (rooms_stun_addr_format(a, ip, size)[0] != '[') {
        return -1;
    }

    memmove(ip, ip + 1, strlen(ip));
    colon = strrchr(ip, ']');

    if (colon == NULL) {
        return -1;
    }

    *colon = '\0';

    return 0;
}


unsigned
rooms_addrs_cands(const rooms_stun_addr_t *addrs, unsigned n,
    uint16_t udp_port, uint16_t tcp_port, rooms_sdp_cand_t *cands)
{
    unsigned           i, count;
    rooms_sdp_cand_t  *c;

    if (n > ROOMS_ADDRS_MAX) {
        return 0;
    }

    count = 0;

    for (i = 0; i < n; i++) {
        c = &cands[count++];
        memset(c, 0, sizeof(*c));

        if (rooms_addrs_text(&addrs[i], c->ip, sizeof(c->ip)) != 0) {
            return 0;
        }

        c->port = udp_port;
        c->priority = rooms_addrs_priority(ROOMS_ADDRS_TYPE_UDP, 65535 - i);
    }

    for (i = 0; tcp_port != 0 && i < n; i++) {
        c = &cands[count++];
        *c = cands[i];
        c->port = tcp_port;
        c->tcp = 1;
        c->priority = rooms_addrs_priority(ROOMS_ADDRS_TYPE_TCP,
                          (ROOMS_ADDRS_DIR_PASSIVE << 13) | (8191 - i));
    }

    return count;
}
