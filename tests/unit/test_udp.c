/*
 * test_udp.c: the event loop's side of addresses (worker/udp.*): the
 * conversions between kernel socket addresses and rooms_stun_addr_t,
 * and the text forms of rooms_stun_addr_t (worker/stun.*) they are
 * checked with.
 *
 * Covers: AF_INET in; a v4-mapped AF_INET6 address is the IPv4 one,
 * byte for byte; IPv4 out through an AF_INET6 socket becomes v4-mapped,
 * through an AF_INET one stays; IPv6 cannot go through AF_INET; a short
 * sockaddr is refused; IPv4 and IPv6 formats; a bad IP is refused; the
 * port takes part in equality.
 */

#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "stun.h"
#include "udp.h"
#include "tap.h"


static void
test_addresses(void)
{
    char                  s[64];
    socklen_t             n;
    rooms_stun_addr_t     a, b;
    struct sockaddr_in    sin;
    struct sockaddr_in6   sin6;
    struct sockaddr_storage  ss;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(5000);
    inet_pton(AF_INET, "198.51.100.7", &sin.sin_addr);
    is_int(rooms_udp_addr_from_sockaddr(&a, (struct sockaddr *) &sin,
                                        sizeof(sin)), 0, "from AF_INET");
    is_str(rooms_stun_addr_format(&a, s, sizeof(s)), "198.51.100.7:5000",
           "AF_INET address");

    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(5000);
    inet_pton(AF_INET6, "::ffff:198.51.100.7", &sin6.sin6_addr);
    is_int(rooms_udp_addr_from_sockaddr(&b, (struct sockaddr *) &sin6,
                                        sizeof(sin6)), 0, "from v4-mapped");
    ok(rooms_stun_addr_equal(&a, &b) && memcmp(&a, &b, sizeof(a)) == 0,
       "a v4-mapped address is the IPv4 address, byte for byte");

    n = rooms_udp_addr_to_sockaddr(&a, AF_INET6, &ss);
    is_int(n, sizeof(struct sockaddr_in6), "IPv4 to an AF_INET6 socket");
    ok(memcmp(&((struct sockaddr_in6 *) &ss)->sin6_addr, &sin6.sin6_addr,
              16) == 0, "becomes v4-mapped");
    n = rooms_udp_addr_to_sockaddr(&a, AF_INET, &ss);
    ok(n == sizeof(struct sockaddr_in)
       && memcmp(&((struct sockaddr_in *) &ss)->sin_addr, &sin.sin_addr, 4)
          == 0
       && ((struct sockaddr_in *) &ss)->sin_port == htons(5000),
       "IPv4 to an AF_INET socket");

    rooms_stun_addr_set(&b, "2001:db8::1", 443);
    is_int(rooms_udp_addr_to_sockaddr(&b, AF_INET, &ss), 0,
           "IPv6 cannot go through an AF_INET socket");
    is_str(rooms_stun_addr_format(&b, s, sizeof(s)), "[2001:db8::1]:443",
           "IPv6 format");
    is_int(rooms_stun_addr_set(&b, "not-an-ip", 1), -1, "bad IP refused");
    is_int(rooms_udp_addr_from_sockaddr(&b, (struct sockaddr *) &sin,
                                        sizeof(sin) - 1), -1,
           "a short sockaddr refused");

    rooms_stun_addr_set(&a, "10.0.0.1", 1);
    rooms_stun_addr_set(&b, "10.0.0.1", 2);
    ok(!rooms_stun_addr_equal(&a, &b), "ports differ: not equal");
}


int
main(void)
{
    test_addresses();

    return done_testing();
}
