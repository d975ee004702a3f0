/*
 * fuzz_rtcp.c: libFuzzer target for the RTCP core (worker/rtcp.*).
 *
 * Feeds any bytes to the compound walker and to every typed parser (also
 * the ones that do not match a packet's type: they must refuse, not
 * read), rewrites feedback SSRCs in a copy, and checks two properties:
 * rooms_rtcp_check() succeeds exactly when a walk of rooms_rtcp_next()
 * does and the typed parsers it uses accept; a NACK's lost set survives
 * expand -> build -> expand.  A property failure aborts.
 *
 *     clang -g -O1 -fsanitize=fuzzer,address,undefined -Iworker \
 *         tests/fuzz/fuzz_rtcp.c worker/rtcp.c -o build/fuzz_rtcp
 *     build/fuzz_rtcp -max_total_time=60
 *
 * Without libFuzzer, -DROOMS_FUZZ_MAIN builds a main() that runs the
 * target once over each file named on the command line.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp.h"


#define LOST_MAX  2048


static int
has(const uint16_t *set, int n, uint16_t v)
{
    int  i;

    for (i = 0; i < n; i++) {
        if (set[i] == v) {
            return 1;
        }
    }

    return 0;
}


static void
nack_property(const rooms_rtcp_fb_t *fb)
{
    int               n, m, i;
    size_t            len, off;
    uint8_t          *pkt;
    rooms_rtcp_fb_t   fb2;
    rooms_rtcp_hdr_t  h;
    static uint16_t   lost[LOST_MAX], back[LOST_MAX];

    n = rooms_rtcp_nack_expand(fb, lost, LOST_MAX);

    if (n <= 0 || n == LOST_MAX) {
        return;
    }

    /* the worst case is one item per number */
    len = ROOMS_RTCP_NACK_LEN((size_t) n);
    pkt = malloc(len);

    if (pkt == NULL) {
        return;
    }

    len = rooms_rtcp_build_nack(pkt, len, 1, 2, lost, (size_t) n);
    off = 0;

    if (len == 0 || rooms_rtcp_next(pkt, len, &off, &h) != ROOMS_RTCP_OK
        || rooms_rtcp_fb_parse(&h, &fb2) != 0)
    {
        abort();
    }

    m = rooms_rtcp_nack_expand(&fb2, back, LOST_MAX);

    if (m <= 0) {
        abort();
    }

    for (i = 0; i < n; i++) {
        if (!has(back, m, lost[i])) {
            abort();
        }
    }

    for (i = 0; i < m; i++) {
        if (!has(lost, n, back[i])) {
            abort();
        }
    }

    free(pkt);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     rc, checked, walk_ok, n;
    size_t                  off;
    uint8_t                *copy;
    rooms_rtcp_fb_t         fb;
    rooms_rtcp_hdr_t        h;
    rooms_rtcp_bye_t        bye;
    rooms_rtcp_remb_t       remb;
    rooms_rtcp_report_t     report;
    rooms_rtcp_fir_entry_t  fir[4];
    uint16_t                lost[64], pid, blp;

    checked = rooms_rtcp_check(data, size);

    copy = malloc(size ? size : 1);

    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);

    off = 0;
    n = 0;
    walk_ok = 1;

    for ( ;; ) {
        rc = rooms_rtcp_next(data, size, &off, &h);

        if (rc == ROOMS_RTCP_END) {
            break;
        }

        if (rc != ROOMS_RTCP_OK) {
            walk_ok = 0;
            break;
        }

        n++;

        /* a packet lies inside the buffer, its body inside the packet */
        if (h.off + h.len > size || h.body != data + h.off + 4
            || h.body_len + 4 > h.len)
        {
            abort();
        }

        if (rooms_rtcp_report_parse(&h, &report) != 0
            && (h.pt == ROOMS_RTCP_SR || h.pt == ROOMS_RTCP_RR))
        {
            walk_ok = 0;
        }

        if (rooms_rtcp_bye_parse(&h, &bye) != 0 && h.pt == ROOMS_RTCP_BYE) {
            walk_ok = 0;
        }

        if (rooms_rtcp_fb_parse(&h, &fb) != 0) {
            if (h.pt == ROOMS_RTCP_RTPFB || h.pt == ROOMS_RTCP_PSFB) {
                walk_ok = 0;
            }

        } else {
            if (rooms_rtcp_nack_count(&fb) > 0) {
                rooms_rtcp_nack_item(&fb, 0, &pid, &blp);
                rooms_rtcp_nack_expand(&fb, lost, 64);
                nack_property(&fb);

            } else if (fb.pt == ROOMS_RTCP_RTPFB
                       && fb.fmt == ROOMS_RTCP_FMT_NACK)
            {
                walk_ok = 0;
            }

            if (rooms_rtcp_fir_parse(&fb, fir, 4) < 0
                && fb.pt == ROOMS_RTCP_PSFB && fb.fmt == ROOMS_RTCP_FMT_FIR)
            {
                walk_ok = 0;
            }

            if (!rooms_rtcp_is_pli(&fb) && fb.pt == ROOMS_RTCP_PSFB
                && fb.fmt == ROOMS_RTCP_FMT_PLI)
            {
                walk_ok = 0;
            }

            if (rooms_rtcp_remb_parse(&fb, &remb) != 0
                && fb.pt == ROOMS_RTCP_PSFB && fb.fmt == ROOMS_RTCP_FMT_REMB
                && fb.fci_len >= 4 && memcmp(fb.fci, "REMB", 4) == 0)
            {
                walk_ok = 0;
            }

            /* rewrites stay inside the copy (ASan checks) */
            rooms_rtcp_set_media_ssrc(copy, &h, 0x01020304);
            rooms_rtcp_set_sender_ssrc(copy, &h, 0x05060708);
        }
    }

    /* check() is exactly a walk plus the typed parsers it names */
    if ((checked >= 0) != walk_ok || (checked >= 0 && checked != n)) {
        abort();
    }

    /* a rewritten compound is exactly as valid as the original */
    if ((rooms_rtcp_check(copy, size) >= 0) != (checked >= 0)) {
        abort();
    }

    free(copy);

    return 0;
}


#include "fuzz_main.h"
