/*
 * test_layer.c: choosing simulcast layers per subscriber (worker/layer.*).
 *
 * Covers: the layer a tile's size asks for (the 90% cover rule, unknown
 * sizes, inactive layers, no layer at all); a table of views x estimates
 * (a pinned large tile with small ones, three large tiles, a row of
 * small ones) with the expected layer of every tile; the end of the view
 * going down to its smallest layer before the tile before it moves;
 * pausing from the end, the first tile only when its smallest layer
 * alone does not fit; the hysteresis on a
 * virtual clock (up only after 2 s with 15% to spare, down at once, an
 * oscillating estimate that never flaps, the timeout); pause and resume
 * from the end; a view change taking effect at once within the budget;
 * unmeasured bitrates; what the subscriber would want.
 */

#include <stdint.h>
#include <string.h>

#include "layer.h"
#include "tap.h"


#define Q  0
#define H  1
#define F  2
#define P  ROOMS_LAYER_PAUSED
#define N  ROOMS_LAYER_NONE


static rooms_layer_pub_t  pubs[16];


/* a publisher with q 320x180, h 640x360, f 1280x720 at the given rates */
static void
pub_init(rooms_layer_pub_t *p, uint32_t q, uint32_t h, uint32_t f)
{
    memset(p, 0, sizeof(*p));
    p->n = 3;
    p->layer[0].width = 320;
    p->layer[0].height = 180;
    p->layer[0].bps = q;
    p->layer[0].active = 1;
    p->layer[1].width = 640;
    p->layer[1].height = 360;
    p->layer[1].bps = h;
    p->layer[1].active = 1;
    p->layer[2].width = 1280;
    p->layer[2].height = 720;
    p->layer[2].bps = f;
    p->layer[2].active = 1;
}


/* n tiles of the given heights (16:9), the first pinned when asked */
static void
view_init(rooms_layer_tile_t *t, size_t n, const unsigned *heights,
    int pin_first)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        memset(&t[i], 0, sizeof(t[i]));
        t[i].pub = &pubs[i];
        t[i].height = (uint16_t) heights[i];
        t[i].width = (uint16_t) (heights[i] * 16 / 9);
        t[i].pinned = pin_first && i == 0;
        t[i].layer = ROOMS_LAYER_NONE;
    }
}


static int
same(const rooms_layer_tile_t *t, size_t n, const int *want)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (t[i].layer != want[i]) {
            return 0;
        }
    }

    return 1;
}


static const char *
show(const rooms_layer_tile_t *t, size_t n)
{
    size_t       i;
    static char  buf[128];

    for (i = 0; i < n && i < sizeof(buf) - 1; i++) {
        buf[i] = t[i].layer == Q ? 'q' : t[i].layer == H ? 'h'
                 : t[i].layer == F ? 'f' : t[i].layer == P ? '-' : '.';
    }

    buf[i] = '\0';

    return buf;
}


static void
test_desired(void)
{
    rooms_layer_pub_t  p;

    pub_init(&p, 150000, 500000, 1500000);

    is_int(rooms_layer_desired(&p, 100, 0), Q, "100 px high: q");
    is_int(rooms_layer_desired(&p, 200, 0), Q, "200 px: q (180 >= 90%%)");
    is_int(rooms_layer_desired(&p, 201, 0), H, "201 px: h");
    is_int(rooms_layer_desired(&p, 400, 0), H, "400 px: h (360 >= 90%%)");
    is_int(rooms_layer_desired(&p, 401, 0), F, "401 px: f");
    is_int(rooms_layer_desired(&p, 2160, 0), F, "2160 px: the top layer");
    is_int(rooms_layer_desired(&p, 0, 0), Q, "unknown size: the smallest");
    is_int(rooms_layer_desired(&p, 0, 1), F, "unknown size, pinned: the top");

    p.layer[2].active = 0;
    is_int(rooms_layer_desired(&p, 720, 1), H,
           "f not arriving: a large tile gets h, the highest active");
    p.layer[0].active = 0;
    is_int(rooms_layer_desired(&p, 100, 0), H,
           "only h arriving: a small tile gets h");
    p.layer[1].active = 0;
    is_int(rooms_layer_desired(&p, 100, 0), N, "no layer arriving: none");
    is_int(rooms_layer_desired(NULL, 100, 0), N, "no publisher: none");

    /* a publisher without simulcast: one layer */
    memset(&p, 0, sizeof(p));
    p.n = 1;
    p.layer[0].height = 480;
    p.layer[0].width = 640;
    p.layer[0].active = 1;
    is_int(rooms_layer_desired(&p, 1080, 1), 0, "a single layer: it");
    ok(rooms_layer_bps(&p, 0) == 640 * 480 * 2,
       "an unmeasured layer counts 2 bit/pixel/s (%u)", rooms_layer_bps(&p, 0));
    p.layer[0].height = 10;
    p.layer[0].width = 10;
    ok(rooms_layer_bps(&p, 0) == ROOMS_LAYER_NOMINAL_MIN,
       "and at least 30 kbit/s");
}


typedef struct {
    const char   *what;
    size_t        n;
    unsigned      heights[8];
    int           pin;
    uint32_t      estimate;
    unsigned      audio;
    int           want[8];
} row_t;


static const row_t  table[] = {
    { "pinned 720 + 3 thumbnails, 5 Mbit/s", 4, { 720, 180, 180, 180 }, 1,
      5000000, 4, { F, Q, Q, Q } },
    { "pinned 720 + 3 thumbnails, 2 Mbit/s", 4, { 720, 180, 180, 180 }, 1,
      2000000, 4, { H, Q, Q, Q } },
    { "pinned 720 + 3 thumbnails, 800 kbit/s", 4, { 720, 180, 180, 180 }, 1,
      800000, 4, { Q, Q, Q, Q } },
    { "pinned 720 + 3 thumbnails, 500 kbit/s", 4, { 720, 180, 180, 180 }, 1,
      500000, 4, { Q, Q, P, P } },
    { "pinned 720 + 3 thumbnails, 350 kbit/s", 4, { 720, 180, 180, 180 }, 1,
      350000, 4, { Q, P, P, P } },
    { "pinned 720 + 3 thumbnails, 300 kbit/s: not even the first", 4,
      { 720, 180, 180, 180 }, 1, 300000, 4, { P, P, P, P } },
    { "three 720 tiles, 4.6 Mbit/s", 3, { 720, 720, 720 }, 0,
      4620000, 3, { F, F, F } },
    { "three 720 tiles, 3.3 Mbit/s: the last to q first", 3,
      { 720, 720, 720 }, 0, 3300000, 3, { F, F, Q } },
    { "three 720 tiles, 2.5 Mbit/s", 3, { 720, 720, 720 }, 0,
      2500000, 3, { F, H, Q } },
    { "three 720 tiles, 1.0 Mbit/s", 3, { 720, 720, 720 }, 0,
      1000000, 3, { H, Q, Q } },
    { "a grid of 360 tiles, 3 Mbit/s", 6, { 360, 360, 360, 360, 360, 360 },
      0, 3000000, 6, { H, H, H, H, H, Q } },
    { "a grid of 360 tiles, 1 Mbit/s", 6, { 360, 360, 360, 360, 360, 360 },
      0, 1000000, 6, { Q, Q, Q, Q, Q, P } },
    { "phone: one 1080 tile, 600 kbit/s", 1, { 1080 }, 1, 600000, 2,
      { H } },
    { "phone: one 1080 tile, 230 kbit/s: q just fits", 1,
      { 1080 }, 1, 230000, 2, { Q } },
    { "phone: one 1080 tile, 200 kbit/s: audio only", 1,
      { 1080 }, 1, 200000, 2, { P } },
    { "tiles of 200, 201, 400, 401 px, plenty", 4, { 200, 201, 400, 401 },
      0, 10000000, 4, { Q, H, H, F } },
};


static void
test_table(void)
{
    size_t                i;
    rooms_layer_tile_t    t[8];
    rooms_layer_state_t   s;
    rooms_layer_result_t  r;

    for (i = 0; i < 16; i++) {
        pub_init(&pubs[i], 150000, 500000, 1500000);
    }

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        view_init(t, table[i].n, table[i].heights, table[i].pin);
        rooms_layer_init(&s);
        rooms_layer_choose(&s, 0, table[i].estimate, table[i].audio, t,
                           table[i].n, &r);

        /* it fits, or everything is paused */
        ok(same(t, table[i].n, table[i].want)
           && (r.video_bps + table[i].audio * ROOMS_LAYER_AUDIO_BPS
               <= table[i].estimate || r.paused == table[i].n),
           "%s: %s (video %u kbit/s, %u paused)", table[i].what,
           show(t, table[i].n), r.video_bps / 1000, r.paused);
    }

    /* what it would take: every tile at its size's layer, plus audio */
    view_init(t, 4, table[3].heights, 1);
    rooms_layer_init(&s);
    rooms_layer_choose(&s, 0, 500000, 4, t, 4, &r);
    is_int(r.want_bps, (1500000 + 3 * 150000) * 115 / 100 + 4 * 40000,
           "want: (f + 3 q) x 1.15 + 4 audio streams, whatever the"
           " estimate: what an upgrade to all of it needs");
    is_int(r.changed, 4, "every tile changed from none");
}


static void
test_hysteresis(void)
{
    int                   i, flips, last;
    int64_t               now;
    unsigned              heights[4] = { 720, 180, 180, 180 };
    rooms_layer_tile_t    t[4];
    rooms_layer_state_t   s;
    rooms_layer_result_t  r;

    view_init(t, 4, heights, 1);
    rooms_layer_init(&s);

    /* 2 Mbit/s: h for the pinned tile (f + 3 q is 1.95 Mbit/s of video) */
    rooms_layer_choose(&s, 0, 2000000, 4, t, 4, &r);
    ok(t[0].layer == H, "2 Mbit/s: the pinned tile at h");

    /*
     * start-up: the estimate has only grown (probes finding the link),
     * so 2.5 Mbit/s (2.34 for video, 1.95 x 1.15 = 2.24 fits) is granted
     * at once
     */
    rooms_layer_choose(&s, 50, 2500000, 4, t, 4, &r);
    ok(t[0].layer == F && rooms_layer_timeout(&s) == -1,
       "start-up: f at once when the estimate rose (%s)", show(t, 4));

    /* its first fall ends start-up: down at once, ups wait from now */
    rooms_layer_choose(&s, 80, 2000000, 4, t, 4, &r);
    ok(t[0].layer == H, "the first fall: h at once");

    for (now = 100; now < 2100; now += 100) {
        rooms_layer_choose(&s, now, 2500000, 4, t, 4, &r);

        if (t[0].layer != H) {
            break;
        }
    }

    ok(now == 2100, "up: still h for 2 s after the estimate rose (%lld ms)",
       (long long) now);
    ok(rooms_layer_timeout(&s) == 2100,
       "up: the timeout is when the hold ends (%lld)",
       (long long) rooms_layer_timeout(&s));
    rooms_layer_choose(&s, 2100, 2500000, 4, t, 4, &r);
    ok(t[0].layer == F && r.changed == 1 && t[0].prev_layer == H,
       "up: f once the estimate carried it for 2 s");
    ok(rooms_layer_timeout(&s) == -1, "up: nothing pending after");

    /* the estimate falls under what f + 3 q need: down at once */
    rooms_layer_choose(&s, 2200, 2100000, 4, t, 4, &r);
    ok(t[0].layer == H, "down: at once when it does not fit (%s)",
       show(t, 4));

    /* 15% is not met: 2.3 Mbit/s leaves 2.14 < 2.24 */
    for (now = 2300; now < 10000; now += 100) {
        rooms_layer_choose(&s, now, 2300000, 4, t, 4, &r);
    }

    ok(t[0].layer == H, "no up without 15%% to spare, however long");

    /* an estimate that swings 2.0 / 2.6 every 500 ms never flaps */
    flips = 0;
    last = t[0].layer;

    for (i = 0; i < 100; i++) {
        now = 10000 + i * 250;
        rooms_layer_choose(&s, now, (i / 2) % 2 ? 2600000 : 2000000, 4, t,
                           4, &r);

        flips += t[0].layer != last;
        last = t[0].layer;
    }

    ok(flips == 0, "a swinging estimate (2.0 / 2.6 Mbit/s every 500 ms):"
       " %d switches in 25 s", flips);

    /* the hold takes the lowest budget of its time */
    rooms_layer_init(&s);
    view_init(t, 4, heights, 1);
    rooms_layer_choose(&s, 0, 1200000, 4, t, 4, &r);
    rooms_layer_choose(&s, 50, 1000000, 4, t, 4, &r);
    rooms_layer_choose(&s, 100, 5000000, 4, t, 4, &r);
    rooms_layer_choose(&s, 1000, 1400000, 4, t, 4, &r);
    rooms_layer_choose(&s, 2100, 5000000, 4, t, 4, &r);
    ok(s.granted_bps == (1400000 - 160000) * 100 / 115 && t[0].layer == H,
       "the budget granted after a hold is the lowest of it / 1.15 (%u)",
       s.granted_bps);
}


/* a layer's bitrate: a keyframe's second moves it by a quarter */
static void
test_rate(void)
{
    int            i;
    rooms_layer_t  l;

    memset(&l, 0, sizeof(l));
    rooms_layer_rate(&l, 500000);
    is_int(l.bps, 500000, "rate: the first measure as it is");
    rooms_layer_rate(&l, 1300000);
    is_int(l.bps, 700000, "rate: a keyframe's second (1.3 Mbit/s) moves "
           "it by a quarter");
    rooms_layer_rate(&l, 500000);
    is_int(l.bps, 650000, "rate: and back");

    for (i = 0; i < 20; i++) {
        rooms_layer_rate(&l, 200000);
    }

    ok(l.bps < 202000, "rate: a lasting change is followed (%u after 20 s)",
       l.bps);
}


static void
test_pause_resume(void)
{
    int64_t               now;
    unsigned              heights[6] = { 180, 180, 180, 180, 180, 180 };
    rooms_layer_tile_t    t[6];
    rooms_layer_state_t   s;
    rooms_layer_result_t  r;
    static const int      all[6] = { Q, Q, Q, Q, Q, Q };
    static const int      three[6] = { Q, Q, Q, P, P, P };
    static const int      one[6] = { Q, P, P, P, P, P };

    view_init(t, 6, heights, 0);
    rooms_layer_init(&s);

    rooms_layer_choose(&s, 0, 1500000, 6, t, 6, &r);
    ok(same(t, 6, all), "six thumbnails at 1.5 Mbit/s: all q (%s)",
       show(t, 6));

    /* 700 kbit/s: 460 for video, three q */
    rooms_layer_choose(&s, 100, 700000, 6, t, 6, &r);
    ok(same(t, 6, three) && r.paused == 3 && r.changed == 3,
       "700 kbit/s: the last three paused at once (%s)", show(t, 6));

    rooms_layer_choose(&s, 200, 400000, 6, t, 6, &r);
    ok(same(t, 6, one), "400 kbit/s: only the first (%s)", show(t, 6));

    rooms_layer_choose(&s, 300, 0, 6, t, 6, &r);
    ok(r.paused == 6, "no estimate at all: even the first (%s)",
       show(t, 6));
    rooms_layer_choose(&s, 350, 1000000, 6, t, 6, &r);
    ok(r.paused == 6, "and it does not come back at once (%s)", show(t, 6));

    /* recovery: nothing comes back for 2 s, then the first ones first */
    for (now = 400; now < 2350; now += 50) {
        rooms_layer_choose(&s, now, 1000000, 6, t, 6, &r);
        if (r.paused != 6) {
            break;
        }
    }

    ok(now == 2350, "recovering: still paused for 2 s");
    rooms_layer_choose(&s, 2350, 1000000, 6, t, 6, &r);
    ok(t[1].layer == Q && t[5].layer == P && r.paused > 0,
       "then tiles come back from the front of the view (%s)", show(t, 6));

    for (now = 2500; now < 9000; now += 100) {
        rooms_layer_choose(&s, now, 1500000, 6, t, 6, &r);
    }

    ok(same(t, 6, all), "at 1.5 Mbit/s again: all back (%s)", show(t, 6));
}


static void
test_view_change(void)
{
    unsigned              heights[4] = { 180, 180, 180, 180 };
    rooms_layer_tile_t    t[4];
    rooms_layer_state_t   s;
    rooms_layer_result_t  r;

    view_init(t, 4, heights, 0);
    rooms_layer_init(&s);
    rooms_layer_choose(&s, 0, 3000000, 4, t, 4, &r);
    ok(t[0].layer == Q, "four thumbnails at 3 Mbit/s: q");

    /* the user pins the third: it moves first and grows */
    t[0].pub = &pubs[2];
    t[2].pub = &pubs[0];
    t[0].height = 720;
    t[0].pinned = 1;
    rooms_layer_choose(&s, 100, 3000000, 4, t, 4, &r);
    ok(t[0].layer == F && t[0].pub == &pubs[2],
       "a pin that fits the granted budget takes effect at once (%s)",
       show(t, 4));

    /* and shrinks back: down at once */
    t[0].height = 180;
    rooms_layer_choose(&s, 200, 3000000, 4, t, 4, &r);
    ok(t[0].layer == Q && r.changed == 1, "unpinned and small: q again");

    /* the publisher's f stops: a large tile takes h until it returns */
    t[0].height = 720;
    pubs[2].layer[2].active = 0;
    rooms_layer_choose(&s, 300, 3000000, 4, t, 4, &r);
    ok(t[0].layer == H, "f stopped: h (%s)", show(t, 4));
    pubs[2].layer[2].active = 1;

    /* a tile whose publisher has no video: none, and it costs nothing */
    pubs[3].layer[0].active = 0;
    pubs[3].layer[1].active = 0;
    pubs[3].layer[2].active = 0;
    rooms_layer_choose(&s, 400, 3000000, 4, t, 4, &r);
    ok(t[3].layer == N && r.paused == 0, "no active layer: none, not"
       " paused (%s)", show(t, 4));
    pub_init(&pubs[3], 150000, 500000, 1500000);
}


int
main(void)
{
    test_desired();
    test_table();
    test_hysteresis();
    test_rate();
    test_pause_resume();
    test_view_change();

    return done_testing();
}
