/*
 * replay_main.c — a plain main() for fuzz targets: runs
 * LLVMFuzzerTestOneInput once on every file named on the command line and
 * on every file in every directory named (not recursive, sorted), so the
 * fuzz corpora are regression tests in `make test` without clang/libFuzzer.
 * Prints "PASS: fuzz-replay NAME (N inputs)" per argument; a crash or an
 * abort in the target ends the program, the name of the input being run is
 * on stderr just before.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The converter targets' custom mutator calls libFuzzer's byte mutator;
 * replaying never mutates, so a stub satisfies the link. */
__attribute__((weak)) size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
__attribute__((weak)) size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
{
    (void)data; (void)max_size;
    return size;
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; }
            buf = nb;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    fprintf(stderr, "replay %s (%zu bytes)\n", path, n);
    /* Exact-size copy, so ASan sees any read past the end. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) { free(buf); return -1; }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            printf("FAIL: fuzz-replay %s: cannot stat\n", argv[i]);
            failed = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]) == 0)
                printf("PASS: fuzz-replay %s\n", argv[i]);
            else {
                printf("FAIL: fuzz-replay %s: cannot read\n", argv[i]);
                failed = 1;
            }
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            printf("FAIL: fuzz-replay %s: cannot open directory\n", argv[i]);
            failed = 1;
            continue;
        }
        char **names = NULL;
        size_t nn = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            if (nn == cap) {
                char **nb = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
                if (!nb) abort();
                names = nb;
            }
            names[nn++] = strdup(e->d_name);
        }
        closedir(d);
        qsort(names, nn, sizeof *names, cmp);
        size_t ran = 0, bad = 0;
        for (size_t k = 0; k < nn; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                if (run_file(path) == 0) ran++;
                else bad++;
            }
            free(names[k]);
        }
        free(names);
        if (bad || ran == 0) {
            printf("FAIL: fuzz-replay %s: %zu inputs run, %zu unreadable\n", argv[i], ran, bad);
            failed = 1;
        } else {
            printf("PASS: fuzz-replay %s (%zu inputs)\n", argv[i], ran);
        }
    }
    return failed;
}
