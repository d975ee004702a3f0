/*
 * fuzz_sdp.c: libFuzzer target for the SDP core (worker/sdp*).
 *
 * Beyond "no crash, no out-of-bounds access", each input checks the
 * properties the media worker relies on:
 *
 *   - rooms_sdp_parse() returns 0 or -1, and err is a NUL-terminated
 *     message on -1;
 *   - a parsed offer keeps every count within its bound and every string
 *     NUL-terminated inside its field;
 *   - its answer either is a defined refusal (EROLE, ELITE) or fits a
 *     64 KB buffer, is the same bytes twice, and, when it accepts any m=
 *     line, is read back by our own parser with the offer's m= lines and
 *     mids in the same order.
 *
 * Build and run (clang ships libFuzzer in Debian 12):
 *
 *   mkdir -p build/fuzz/corpus
 *   cp tests/fixtures/sdp/chromium* build/fuzz/corpus/
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iworker \
 *       -o build/fuzz/fuzz_sdp tests/fuzz/fuzz_sdp.c worker/sdp*.c
 *   build/fuzz/fuzz_sdp -max_total_time=60 -max_len=16384 build/fuzz/corpus
 *
 * The corpus directory is written to, so it is a copy, never the
 * fixtures themselves.  Without libFuzzer, -DROOMS_FUZZ_MAIN adds a main()
 * that runs the target once per file named on the command line:
 *
 *   cc -DROOMS_FUZZ_MAIN -Iworker -o fuzz_sdp tests/fuzz/fuzz_sdp.c \
 *       worker/sdp*.c && ./fuzz_sdp tests/fixtures/sdp/chromium*
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"


#define FUZZ_OUT  65536

/* large: static, one input at a time */
static rooms_sdp_t  fuzz_offer, fuzz_answer;
static char         fuzz_out[FUZZ_OUT], fuzz_out2[FUZZ_OUT];


static void
fuzz_check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_sdp: property broken: %s\n", what);
        abort();
    }
}


static int
fuzz_terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}


static void
fuzz_check_offer(const rooms_sdp_t *sdp)
{
    unsigned                  i, k;
    const rooms_sdp_media_t  *m;

    fuzz_check(sdp->nmedia >= 1 && sdp->nmedia <= ROOMS_SDP_MAX_MEDIA,
               "m= line count");
    fuzz_check(sdp->nbundle <= ROOMS_SDP_MAX_MEDIA, "BUNDLE count");
    fuzz_check(sdp->fingerprint_len == ROOMS_SDP_FP_LEN,
               "transport fingerprint");
    fuzz_check(fuzz_terminated(sdp->ice_ufrag, sizeof(sdp->ice_ufrag))
               && fuzz_terminated(sdp->ice_pwd, sizeof(sdp->ice_pwd)),
               "transport credentials terminated");

    for (i = 0; i < sdp->nmedia; i++) {
        m = &sdp->media[i];

        fuzz_check(m->ncodecs <= ROOMS_SDP_MAX_PT
                   && m->nextmaps <= ROOMS_SDP_MAX_EXTMAP
                   && m->nssrcs <= ROOMS_SDP_MAX_SSRC
                   && m->nfids <= ROOMS_SDP_MAX_FID
                   && m->nrids <= ROOMS_SDP_MAX_RID
                   && m->nsim_send <= ROOMS_SDP_MAX_RID
                   && m->nsim_recv <= ROOMS_SDP_MAX_RID, "media counts");
        fuzz_check(m->mid[0] != '\0', "every m= line has a mid");
        fuzz_check(fuzz_terminated(m->mid, sizeof(m->mid))
                   && fuzz_terminated(m->media, sizeof(m->media))
                   && fuzz_terminated(m->proto, sizeof(m->proto))
                   && fuzz_terminated(m->fmt, sizeof(m->fmt))
                   && fuzz_terminated(m->msid_stream, sizeof(m->msid_stream))
                   && fuzz_terminated(m->msid_track, sizeof(m->msid_track)),
                   "media strings terminated");
        fuzz_check(m->port == 0 || m->fingerprint_len == ROOMS_SDP_FP_LEN,
                   "a line with a port has a fingerprint");

        for (k = 0; k < m->ncodecs; k++) {
            fuzz_check(m->codecs[k].pt <= 127
                       && m->codecs[k].apt <= 127
                       && fuzz_terminated(m->codecs[k].name,
                                          sizeof(m->codecs[k].name))
                       && fuzz_terminated(m->codecs[k].fmtp,
                                          sizeof(m->codecs[k].fmtp)),
                       "codec fields");
        }

        for (k = 0; k < m->nextmaps; k++) {
            fuzz_check(m->extmaps[k].id >= 1 && m->extmaps[k].id <= 255,
                       "extmap id range");
        }
    }
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                n, n2, accepted;
    char               err[128];
    unsigned           i;
    rooms_sdp_neg_t    neg;
    rooms_sdp_local_t  local;

    memset(err, 'X', sizeof(err));

    if (rooms_sdp_parse((const char *) data, size, &fuzz_offer, err,
                        sizeof(err)) != 0)
    {
        fuzz_check(fuzz_terminated(err, sizeof(err)) && err[0] != '\0'
                   && err[0] != 'X', "a refusal has a message");
        return 0;
    }

    fuzz_check_offer(&fuzz_offer);

    memset(&local, 0, sizeof(local));
    local.ice_ufrag = "FuZz";
    local.ice_pwd = "fuzzfuzzfuzzfuzzfuzzfuzz";
    local.ip = "192.0.2.1";
    local.port = 9999;
    local.session_id = 1;
    local.session_version = 1;
    local.cname = "fuzz";

    /* announce sources on every line, so that path is fuzzed too */
    for (i = 0; i < ROOMS_SDP_MAX_MEDIA; i++) {
        local.send[i].ssrc = 1000 + i;
        local.send[i].rtx_ssrc = (i & 1) ? 2000 + i : 0;
        local.send[i].msid_stream = "s";
        local.send[i].msid_track = (i & 2) ? "t" : NULL;
    }

    n = rooms_sdp_answer(&fuzz_offer, &local, fuzz_out, sizeof(fuzz_out));

    if (n == ROOMS_SDP_EROLE || n == ROOMS_SDP_ELITE) {
        return 0;
    }

    fuzz_check(n > 0, "an answer fits 64 KB");
    fuzz_check((size_t) n == strlen(fuzz_out), "answer length");

    n2 = rooms_sdp_answer(&fuzz_offer, &local, fuzz_out2, sizeof(fuzz_out2));
    fuzz_check(n2 == n && memcmp(fuzz_out, fuzz_out2, (size_t) n) == 0,
               "the answer is deterministic");

    accepted = 0;

    for (i = 0; i < fuzz_offer.nmedia; i++) {
        fuzz_check(rooms_sdp_negotiate(&fuzz_offer, i, &neg) == 0,
                   "negotiate in range");
        accepted += neg.accepted;
    }

    if (accepted == 0) {
        return 0;
    }

    if (rooms_sdp_parse(fuzz_out, (size_t) n, &fuzz_answer, err,
                        sizeof(err)) != 0)
    {
        fprintf(stderr, "answer refused: %s\n%s\n", err, fuzz_out);
        fuzz_check(0, "our parser reads our answer");
    }

    fuzz_check(fuzz_answer.nmedia == fuzz_offer.nmedia, "answer m= count");
    fuzz_check(fuzz_answer.ice_lite
               && fuzz_answer.setup == ROOMS_SDP_SETUP_PASSIVE,
               "answer is lite and passive");

    for (i = 0; i < fuzz_offer.nmedia; i++) {
        fuzz_check(strcmp(fuzz_answer.media[i].mid,
                          fuzz_offer.media[i].mid) == 0, "answer mids");
    }

    return 0;
}


#ifdef ROOMS_FUZZ_MAIN

int
main(int argc, char **argv)
{
    int     i;
    long    len;
    FILE   *f;
    char   *buf;

    for (i = 1; i < argc; i++) {
        f = fopen(argv[i], "rb");

        if (f == NULL || fseek(f, 0, SEEK_END) != 0
            || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }

        buf = malloc(len ? (size_t) len : 1);

        if (buf == NULL || fread(buf, 1, (size_t) len, f) != (size_t) len) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }

        fclose(f);
        LLVMFuzzerTestOneInput((const uint8_t *) buf, (size_t) len);
        free(buf);
        printf("%s: ok\n", argv[i]);
    }

    return 0;
}

#endif
