/*
 * fuzz_msconv.c — libFuzzer target for msconv: every input (a .memscope
 * file, kept valid by the structure-aware mutator of structure.h) is
 * converted in-process by msconv's own main (built with -Dmain=msconv_main)
 * through three of its views chosen by a hash of the input: --info,
 * --dump, --json (also --events), --text, --leaks, --folded, --flamegraph
 * (also --inverted), --svg (DOT only), --html and --pprof, some of them
 * with a time range or phase, for heap traces
 * and snapshot files alike, output to /dev/null. So fuzzing reaches the
 * reader, the heap replay, the call tree, the diff-free models of analyze/
 * and every renderer of convert/. Built with clang -fsanitize=fuzzer by
 * fuzz/build.sh; replayed over fuzz/corpus/msconv by build/bin/fuzz-replay-
 * msconv in `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "structure.h"

int msconv_main(int argc, char **argv);

static const char *const views[][6] = {
    { "--info", "-o", "/dev/null", NULL },
    { "--dump", "-o", "/dev/null", NULL },
    { "--json", "-o", "/dev/null", NULL },
    { "--json", "--events", "--top", "3", "-o", "/dev/null" },
    { "--text", "--lang", "en", "-o", "/dev/null", NULL },
    { "--text", "--metric", "temporary", "--nodecount", "2", "-o" },
    { "--leaks", "-o", "/dev/null", NULL },
    { "--folded", "/dev/null", "--inverted", NULL },
    { "--flamegraph", "/dev/null", "--minwidth", "0", NULL },
    { "--flamegraph", "/dev/null", "--inverted", "--metric", "count", NULL },
    { "--svg", "@DOT", NULL },
    { "--html", "/dev/null", NULL },
    { "--pprof", "/dev/null", NULL },
    /* time ranges and phases (analyze/range.c) */
    { "--text", "--from", "0.000001", "--to", "0.5", "-o" },
    { "--json", "--to", "0.0002", "-o", "/dev/null", NULL },
    { "--folded", "/dev/null", "--from", "0", "--to", "1" },
    { "--pprof", "/dev/null", "--to", "0.001", NULL },
    { "--leaks", "--phase", "a", "-o", "/dev/null", NULL },
};
#define NVIEWS (sizeof views / sizeof views[0])

static char dotpath[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dotpath[0]) snprintf(dotpath, sizeof dotpath, "/tmp/fuzz-msconv-%d.dot", (int)getpid());
    int fd = memfd_create("fuzz-msconv", MFD_CLOEXEC);
    if (fd < 0) return 0;
    for (size_t done = 0; done < size;) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) { close(fd); return 0; }
        done += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    uint64_t h = XXH3_64bits(data, size);
    for (int k = 0; k < 3; k++, h >>= 8) {
        const char *const *v = views[h % NVIEWS];
        char *argv[16];
        int argc = 0;
        argv[argc++] = "msconv";
        argv[argc++] = path;
        argv[argc++] = "--no-symbolize";
        for (int i = 0; i < 6 && v[i]; i++) argv[argc++] = strcmp(v[i], "@DOT") ? (char *)v[i] : dotpath;
        if (!strcmp(argv[argc - 1], "-o")) argv[argc++] = "/dev/null";
        argv[argc] = NULL;
        msconv_main(argc, argv);
    }
    unlink(dotpath);
    close(fd);
    return 0;
}
