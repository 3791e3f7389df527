/*
 * fuzz_msdiff.c — libFuzzer target for msdiff: every input (a .memscope
 * file, kept valid by the structure-aware mutator of structure.h) is
 * compared by msdiff's own main (built with -Dmain=msdiff_main) with
 * itself and with its first half (a cut copy: sites vanish, numbers
 * change), Markdown and JSON reports to /dev/null, in both languages, for
 * heap traces (analyze/heapdiff) and snapshot files (analyze/snapdiff).
 * Built with clang -fsanitize=fuzzer by fuzz/build.sh; replayed over
 * fuzz/corpus/msdiff by build/bin/fuzz-replay-msdiff in `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "structure.h"

int msdiff_main(int argc, char **argv);

static int memfile(const uint8_t *data, size_t size, char *path, size_t cap)
{
    int fd = memfd_create("fuzz-msdiff", MFD_CLOEXEC);
    if (fd < 0) return -1;
    for (size_t done = 0; done < size;) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) { close(fd); return -1; }
        done += (size_t)w;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char full[64], half[64];
    int fa = memfile(data, size, full, sizeof full);
    if (fa < 0) return 0;
    int fb = memfile(data, size / 2, half, sizeof half);
    uint64_t h = XXH3_64bits(data, size);
    char *lang = h & 1 ? "en" : "zh";
    char *self[] = { "msdiff", full, full, "--md", "/dev/null", "--json", "/dev/null", "--lang", lang, NULL };
    msdiff_main(9, self);
    if (fb >= 0) {
        char *cut[] = { "msdiff", half, full, "--md", "/dev/null", "--json", "/dev/null", "--threshold", h & 2 ? "0" : "1K", NULL };
        msdiff_main(9, cut);
        close(fb);
    }
    close(fa);
    return 0;
}
