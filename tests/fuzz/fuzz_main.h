/*
 * fuzz_main.h: a main() for the fuzz targets without libFuzzer (gcc):
 * built with -DROOMS_FUZZ_MAIN, it runs LLVMFuzzerTestOneInput() once on
 * each file named on the command line (a crash input, a corpus file).
 * Included last by each target; without the define it adds nothing.
 */

#ifdef ROOMS_FUZZ_MAIN

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>


int
main(int argc, char **argv)
{
    int       i;
    long      len;
    FILE     *f;
    uint8_t  *buf;

    for (i = 1; i < argc; i++) {
        f = fopen(argv[i], "rb");

        if (f == NULL) {
            continue;
        }

        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc(len > 0 ? (size_t) len : 1);

        if (buf != NULL && fread(buf, 1, (size_t) len, f) == (size_t) len) {
            LLVMFuzzerTestOneInput(buf, (size_t) len);
        }

        free(buf);
        fclose(f);
    }

    return 0;
}

#endif
