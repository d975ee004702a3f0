/*
 * test_addrs.c: the announced addresses and their candidates
 * (worker/addrs.*), from faked interface lists.
 *
 * Covers: interfaces that are down and loopback ones are left out
 * (loopback kept when asked for), and so are IPv6 link-local, site-local
 * and v4-mapped, unspecified and multicast addresses, and repeats;
 * IPv6 and IPv4 alternate, IPv6 first, each in the list's order; the
 * bound on addresses; the candidates: UDP then TCP, each with its own
 * priority by RFC 8445's formula (and RFC 6544's for TCP), strictly
 * falling, every UDP one above every TCP one; text forms.  (test_sdp
 * checks an answer carries them, one a=candidate each.)
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addrs.h"
#include "stun.h"
#include "tap.h"


static rooms_addrs_if_t
test_if(const char *ip, int up, int loopback)
{
    rooms_addrs_if_t  f;

    memset(&f, 0, sizeof(f));
    rooms_stun_addr_set(&f.addr, ip, 0);
    f.up = (uint8_t) up;
    f.loopback = (uint8_t) loopback;

    return f;
}


static void
test_pick(void)
{
    char               s[64], all[512];
    unsigned           n, i;
    rooms_addrs_if_t   ifs[16];
    rooms_stun_addr_t  out[ROOMS_ADDRS_MAX];

    i = 0;
    ifs[i++] = test_if("127.0.0.1", 1, 1);
    ifs[i++] = test_if("::1", 1, 1);
    ifs[i++] = test_if("192.0.2.10", 1, 0);
    ifs[i++] = test_if("fe80::1", 1, 0);            /* link-local */
    ifs[i++] = test_if("2001:db8::10", 1, 0);
    ifs[i++] = test_if("198.51.100.3", 0, 0);       /* down */
    ifs[i++] = test_if("10.1.2.3", 1, 0);
    ifs[i++] = test_if("192.0.2.10", 1, 0);         /* again (2 ifaces) */
    ifs[i++] = test_if("fec0::5", 1, 0);            /* site-local */
    ifs[i++] = test_if("::ffff:192.0.2.77", 1, 0);  /* v4-mapped */
    ifs[i++] = test_if("0.0.0.0", 1, 0);
    ifs[i++] = test_if("ff02::1", 1, 0);
    ifs[i++] = test_if("224.0.0.1", 1, 0);
    ifs[i++] = test_if("fd00::7", 1, 0);
    ifs[i++] = test_if("127.0.0.2", 1, 0);  /* loopback, other iface */

    n = rooms_addrs_pick(ifs, i, 0, out);
    all[0] = '\0';

    for (i = 0; i < n; i++) {
        strcat(all, rooms_stun_addr_format(&out[i], s, sizeof(s)));
        strcat(all, " ");
    }

    is_str(all, "[2001:db8::10]:0 192.0.2.10:0 [fd00::7]:0 10.1.2.3:0 ",
           "up, usable, once each, IPv6 and IPv4 in turn, no loopback");

    i = 0;
    ifs[i++] = test_if("127.0.0.1", 1, 1);
    ifs[i++] = test_if("::1", 1, 1);
    ifs[i++] = test_if("192.0.2.10", 1, 0);
    n = rooms_addrs_pick(ifs, i, 1, out);
    ok(n == 3 && out[0].family == 6 && out[1].family == 4
       && out[1].ip[0] == 127 && out[2].ip[0] == 192,
       "loopback kept when asked for");

    n = rooms_addrs_pick(ifs, 2, 0, out);
    is_int((int) n, 0, "only loopback, not asked for: none");

    for (i = 0; i < 16; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.0.%u.1", i);
        ifs[i] = test_if(ip, 1, 0);
    }

    n = rooms_addrs_pick(ifs, 16, 0, out);
    ok(n == ROOMS_ADDRS_MAX && out[0].ip[2] == 0
       && out[n - 1].ip[2] == ROOMS_ADDRS_MAX - 1,
       "at most ROOMS_ADDRS_MAX (%d), the first ones", ROOMS_ADDRS_MAX);
}


static void
test_cands(void)
{
    int                i, n, falling, above;
    rooms_stun_addr_t  a[3];
    rooms_sdp_cand_t   c[6];

    rooms_stun_addr_set(&a[0], "2001:db8::10", 0);
    rooms_stun_addr_set(&a[1], "192.0.2.10", 0);
    rooms_stun_addr_set(&a[2], "10.1.2.3", 0);

    n = (int) rooms_addrs_cands(a, 3, 40000, 40001, c);
    is_int(n, 6, "three addresses, UDP and TCP: six candidates");

    ok(!c[0].tcp && !c[2].tcp && c[3].tcp && c[5].tcp,
       "UDP first, then TCP");
    is_str(c[0].ip, "2001:db8::10", "IPv6 text, no brackets");
    is_str(c[1].ip, "192.0.2.10", "IPv4 text");
    ok(c[0].port == 40000 && c[3].port == 40001, "each on its port");

    /* RFC 8445 5.1.2.1: 2^24 * 126 + 2^8 * 65535 + (256 - 1) */
    is_int((long long) c[0].priority, 2130706431LL,
           "the best UDP host: RFC 8445's formula");
    is_int((long long) c[1].priority, 2130706431LL - 256,
           "the next: local preference one less");
    /* RFC 6544 4.2: local pref (2^13 * 4 (passive) + 8191), type 90 */
    is_int((long long) c[3].priority,
           (90LL << 24) + (((4LL << 13) + 8191) << 8) + 255,
           "the best passive TCP host: RFC 6544's local preference");

    falling = 1;
    above = 1;

    for (i = 1; i < n; i++) {
        if (c[i].priority >= c[i - 1].priority) {
            falling = 0;
        }
    }

    for (i = 0; i < 3; i++) {
        if (c[i].priority <= c[3].priority) {
            above = 0;
        }
    }

    ok(falling, "every candidate its own priority, falling");
    ok(above, "every UDP candidate above every TCP one");

    n = (int) rooms_addrs_cands(a, 3, 40000, 0, c);
    ok(n == 3 && !c[2].tcp, "TCP off: UDP candidates only");
}


int
main(void)
{
    test_pick();
    test_cands();

    return done_testing();
}
