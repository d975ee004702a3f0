/*
 * test_resend.c: repairs towards a subscriber sent again when its
 * transport feedback reports them lost (worker/resend.*), on a virtual
 * clock.
 *
 * Covers: a lost repair returned once, at the feedback, with its line and
 * number; no resend when the feedback says received, nor for numbers
 * that were not repairs, nor twice for one report; the bound of
 * ROOMS_RESEND_TRIES per packet (a resend lost again is resent until
 * then, then never), carried on when Chromium NACKs the packet again;
 * the age bound; the budget (a share of the estimate, refilled with
 * time, at least one packet); a slot reused 256 numbers later; the
 * 16-bit wrap; and the counters adding up.
 */

#include <stdint.h>
#include <string.h>

#include "resend.h"
#include "tap.h"


static rooms_resend_t  rs;


/* feedback at now reporting number tw with status st */
static size_t
fb1(int64_t now, uint16_t tw, unsigned received, uint32_t est,
    rooms_resend_due_t *out)
{
    rooms_twcc_status_t  s;

    memset(&s, 0, sizeof(s));
    s.seq = tw;
    s.status = received ? ROOMS_TWCC_SMALL_DELTA : ROOMS_TWCC_NOT_RECEIVED;

    return rooms_resend_feedback(&rs, now, &s, 1, est, out, 8);
}


static void
test_lost_resent_once(void)
{
    size_t               n;
    rooms_resend_due_t   out[8];
    rooms_twcc_status_t  st[3];

    rooms_resend_init(&rs);

    /* a NACK's answer for line 2's packet 1000 went out as number 50 */
    rooms_resend_sent(&rs, 1000000, 50, 2, 1000, 1100, 0);

    /* feedback: 49 received, 50 lost, 51 received (not repairs) */
    memset(st, 0, sizeof(st));
    st[0].seq = 49;
    st[0].status = ROOMS_TWCC_SMALL_DELTA;
    st[1].seq = 50;
    st[1].status = ROOMS_TWCC_NOT_RECEIVED;
    st[2].seq = 51;
    st[2].status = ROOMS_TWCC_NOT_RECEIVED;

    n = rooms_resend_feedback(&rs, 1080000, st, 3, 1000000, out, 8);
    is_int(n, 1, "one lost repair to resend (51 lost too, not a repair)");
    is_int(out[0].line, 2, "its line");
    is_int(out[0].seq, 1000, "its number on that line");
    is_int(out[0].tries, 1, "its first resend");

    /* the same report again (a later feedback): forgotten already */
    n = rooms_resend_feedback(&rs, 1090000, st, 3, 1000000, out, 8);
    is_int(n, 0, "a repair is resent once per report of its loss");

    /* received: nothing */
    rooms_resend_sent(&rs, 2000000, 60, 0, 7, 1100, 0);
    is_int(fb1(2050000, 60, 1, 1000000, out), 0,
           "no resend when the feedback says received");
    is_int(fb1(2060000, 60, 0, 1000000, out), 0,
           "and a later report of that number is not a repair any more");
    is_int(rs.received, 1, "counted received");
}


static void
test_tries_bound(void)
{
    unsigned             k, resent;
    uint16_t             tw;
    int64_t              now;
    rooms_resend_due_t   out[8];

    rooms_resend_init(&rs);

    now = 1000000;
    tw = 100;
    rooms_resend_sent(&rs, now, tw, 1, 500, 1000, 0);
    resent = 0;

    /* every copy lost: resent ROOMS_RESEND_TRIES times, then not */
    for (k = 0; k < 5; k++) {
        now += 40000;

        if (fb1(now, tw, 0, 2000000, out) == 0) {
            break;
        }

        resent++;
        is_int(out[0].tries, resent, "resend %u counts its tries", resent);
        tw++;
        rooms_resend_sent(&rs, now, tw, out[0].line, out[0].seq, 1000,
                          out[0].tries);
    }

    is_int(resent, ROOMS_RESEND_TRIES,
           "a packet is resent ROOMS_RESEND_TRIES times at most");
    is_int(rs.spent, 1, "then its loss is left to the subscriber's NACK");

    /* Chromium NACKs it again: the answer carries the count on */
    tw = 300;
    now += 10000;
    rooms_resend_init(&rs);
    rooms_resend_sent(&rs, now, 200, 1, 500, 1000, 0);
    is_int(fb1(now + 40000, 200, 0, 2000000, out), 1, "resent once");
    rooms_resend_sent(&rs, now + 40000, 201, 1, 500, 1000, out[0].tries);
    /* the resend is in flight when the NACK's answer goes out */
    rooms_resend_sent(&rs, now + 60000, tw, 1, 500, 1000, 0);
    is_int(fb1(now + 100000, tw, 0, 2000000, out), 1,
           "the NACK's answer, lost, is resent");
    is_int(out[0].tries, 2, "as the packet's second resend of ours");
    rooms_resend_sent(&rs, now + 100000, tw + 1, 1, 500, 1000, out[0].tries);
    is_int(fb1(now + 140000, tw + 1, 0, 2000000, out), 0,
           "and not a third time");
    is_int(fb1(now + 140000, 201, 0, 2000000, out), 0,
           "the older resend was forgotten when the NACK's answer took "
           "over its count");
}


static void
test_age(void)
{
    rooms_resend_due_t  out[8];

    rooms_resend_init(&rs);
    rooms_resend_sent(&rs, 0, 7, 0, 1, 1000, 0);
    is_int(fb1(ROOMS_RESEND_AGE_US + 1, 7, 0, 2000000, out), 0,
           "a loss reported after the age is not resent");
    rooms_resend_sent(&rs, 0, 8, 0, 2, 1000, 0);
    is_int(fb1(ROOMS_RESEND_AGE_US, 8, 0, 2000000, out), 1,
           "at the age it is");
}


static void
test_budget(void)
{
    unsigned             k, got;
    int64_t              now;
    rooms_resend_due_t   out[8];

    /*
     * 480 kbit/s: 1/20 is 3000 bytes a second, half a second of it 1500
     * bytes: one 1200-byte repair, then none until 400 ms have refilled
     * the next (3 bytes a ms)
     */
    rooms_resend_init(&rs);
    now = 1000000;
    got = 0;

    for (k = 0; k < 4; k++) {
        rooms_resend_sent(&rs, now, (uint16_t) k, 0, (uint16_t) k, 1200, 0);
    }

    for (k = 0; k < 4; k++) {
        got += (unsigned) fb1(now + 10000, (uint16_t) k, 0, 480000, out);
    }

    is_int(got, 1, "the budget holds one repair of 1200 bytes (1500)");
    is_int(rs.capped, 3, "the others are capped");

    rooms_resend_sent(&rs, now + 20000, 10, 0, 10, 1200, 0);
    is_int(fb1(now + 200000, 10, 0, 480000, out), 0,
           "190 ms later the budget has 300 + 570 bytes: not enough");
    rooms_resend_sent(&rs, now + 300000, 11, 0, 11, 1200, 0);
    is_int(fb1(now + 400000, 11, 0, 480000, out), 1,
           "390 ms later it has: resent");

    /* a tiny estimate still allows one packet (the floor of the burst) */
    rooms_resend_init(&rs);
    rooms_resend_sent(&rs, 0, 1, 0, 1, 1200, 0);
    is_int(fb1(1000, 1, 0, 30000, out), 1,
           "at 30 kbit/s one packet still goes");
    rooms_resend_sent(&rs, 1000, 2, 0, 2, 1200, 0);
    is_int(fb1(2000, 2, 0, 30000, out), 0, "and then the budget is spent");

    /* many lost at once at a large estimate: each goes, up to cap */
    rooms_resend_init(&rs);
    for (k = 0; k < 12; k++) {
        rooms_resend_sent(&rs, 0, (uint16_t) (65530 + k), 0,
                          (uint16_t) k, 1000, 0);
    }
    {
        rooms_twcc_status_t  st[12];

        memset(st, 0, sizeof(st));
        for (k = 0; k < 12; k++) {
            st[k].seq = (uint16_t) (65530 + k);
        }
        is_int(rooms_resend_feedback(&rs, 50000, st, 12, 8000000, out, 8), 8,
               "across the 16-bit wrap, at most cap at once");
        is_int(rs.spent, 4, "the rest counted as not resent");
    }
}


static void
test_slot_reuse(void)
{
    rooms_resend_due_t  out[8];

    rooms_resend_init(&rs);
    rooms_resend_sent(&rs, 0, 5, 0, 1, 1000, 0);
    rooms_resend_sent(&rs, 1000, 5 + ROOMS_RESEND_SLOTS, 0, 2, 1000, 0);
    is_int(fb1(2000, 5, 0, 2000000, out), 0,
           "a slot reused 256 numbers later forgets the older repair");
    is_int(fb1(2000, 5 + ROOMS_RESEND_SLOTS, 0, 2000000, out), 1,
           "and keeps the newer");
    is_int(out[0].seq, 2, "by its own number");
    ok(rs.sent >= rs.received + rs.lost,
       "counts add up (sent %llu, received %llu, lost %llu)",
       (unsigned long long) rs.sent, (unsigned long long) rs.received,
       (unsigned long long) rs.lost);
    is_int(rs.lost, rs.resent + rs.capped + rs.spent,
           "every loss reported was resent, capped or spent");
}


int
main(void)
{
    test_lost_resent_once();
    test_tries_bound();
    test_age();
    test_budget();
    test_slot_reuse();

    return done_testing();
}
