/*
 * test_symcache.c — the symbolizer's cache files (recorder/symbolize/
 * symcache.c, compiled in here; libdw's version string stubbed):
 *   roundtrip  answers written at close are read back exactly (functions,
 *              files, lines, columns, empty strings, 64-frame chains)
 *   merge      two writers of one build id: the union, the newer answer
 *              of an offset kept
 *   damage     every cut of a valid file, and every body byte changed
 *              with the checksum made right again: never trusted beyond
 *              its bounds (ASan build), cuts never valid, served strings
 *              inside the file and NUL-terminated (they may hold NULs, as
 *              any ms_str)
 *   source     a debug file rewritten, a debug file appearing where none
 *              was: the file is no longer valid; with debuginfod allowed,
 *              answers made without debug info are not served
 *   prune      above 2048 files, a new one removes the oldest quarter, and
 *              temporary files of a dead writer (an hour old)
 */
#include "../../recorder/symbolize/symcache.c"

#include "mstest.h"

#include <stdlib.h>
#include <sys/time.h>

const char *dwfl_version(Dwfl *d)
{
    (void)d;
    return "unit";
}

static char dir[256];

static void bid_of(unsigned char *b, int k)
{
    for (int i = 0; i < 20; i++) b[i] = (unsigned char)(0x40 + k * 7 + i);
}

static ms_str S(const char *s) { ms_str r = { s, strlen(s) }; return r; }

/* frames of offset off in the test's answers: n = 1 + off % 5, or 64 */
static size_t frames_for(uint64_t off, ms_frame *fr, char names[][80])
{
    size_t n = off == 999 ? 64 : 1 + off % 5;
    for (size_t k = 0; k < n; k++) {
        snprintf(names[k], 80, k % 3 == 2 ? "" : "fn_%llu_%zu", (unsigned long long)off, k);
        fr[k].function = S(names[k]);
        fr[k].file = S(k % 2 ? "" : "/src/a file.c");
        fr[k].line = (uint32_t)(off * 10 + k);
        fr[k].column = (uint32_t)k;
    }
    return n;
}

static int same_frames(const ms_frame *a, size_t na, const ms_frame *b, size_t nb)
{
    if (na != nb) return 0;
    for (size_t k = 0; k < na; k++)
        if (a[k].line != b[k].line || a[k].column != b[k].column ||
            a[k].function.len != b[k].function.len || a[k].file.len != b[k].file.len ||
            memcmp(a[k].function.ptr, b[k].function.ptr, a[k].function.len) ||
            memcmp(a[k].file.ptr, b[k].file.ptr, a[k].file.len))
            return 0;
    return 1;
}

static void write_answers(const unsigned char *bid, const uint64_t *offs, size_t n,
                          const char *debugfile, const char *mainfile, const char *link)
{
    symcache *c = symcache_open(bid, 20, 0);
    symcache_source(c, mainfile, debugfile, link);
    ms_frame fr[64];
    char names[64][80];
    for (size_t i = 0; i < n; i++) {
        size_t nf = frames_for(offs[i], fr, names);
        symcache_add(c, offs[i], fr, nf);
    }
    symcache_close(c);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *b = malloc(1 << 20);
    *len = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static void spill(const char *path, const unsigned char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, len, f);
    fclose(f);
}

/* open the file of bid as it is now: valid? and every served answer sane */
static int open_check(const unsigned char *bid, const uint64_t *offs, size_t n, int *sane)
{
    symcache *c = symcache_open(bid, 20, 0);
    int valid = symcache_valid(c);
    for (size_t i = 0; valid && i < n; i++) {
        ms_frame fr[64];
        size_t nf;
        if (!symcache_lookup(c, offs[i], fr, 64, &nf)) continue;
        for (size_t k = 0; k < nf; k++) {
            const ms_str *ss[2] = { &fr[k].function, &fr[k].file };
            for (int j = 0; j < 2; j++) {
                const unsigned char *p = (const unsigned char *)ss[j]->ptr;
                if (p < c->buf || p + ss[j]->len >= c->buf + c->len || p[ss[j]->len] != 0) *sane = 0;
            }
        }
    }
    symcache_close(c);
    return valid;
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ms_symcache_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    char cdir[300];
    snprintf(cdir, sizeof cdir, "%s/cache", dir);
    setenv("MEMSCOPE_SYMBOL_CACHE", cdir, 1);
    unsigned char bid[20], bid2[20];
    bid_of(bid, 1);
    bid_of(bid2, 2);

    /* ---- roundtrip ---- */
    uint64_t offs[] = { 7, 4096, 13, 999, 0x7fffffffffffull, 1 };
    size_t noffs = sizeof offs / sizeof offs[0];
    write_answers(bid, offs, noffs, NULL, "/nonexistent/prog", NULL);
    symcache *c = symcache_open(bid, 20, 0);
    CHECK("symcache/roundtrip/valid", symcache_valid(c));
    int all = 1;
    for (size_t i = 0; i < noffs; i++) {
        ms_frame want[64], got[64];
        char names[64][80];
        size_t nw = frames_for(offs[i], want, names), ng = 0;
        all &= symcache_lookup(c, offs[i], got, 64, &ng) && same_frames(want, nw, got, ng);
    }
    CHECK("symcache/roundtrip/every-answer", all);
    ms_frame fr[64];
    size_t nf;
    CHECK("symcache/roundtrip/absent-offset", !symcache_lookup(c, 8, fr, 64, &nf) && nf == 0);
    CHECK("symcache/roundtrip/max-frames", symcache_lookup(c, 999, fr, 3, &nf) && nf == 3);
    symcache_close(c);
    c = symcache_open(bid2, 20, 0);
    CHECK("symcache/roundtrip/other-build-id-empty", !symcache_valid(c) && !symcache_lookup(c, 7, fr, 64, &nf));
    symcache_close(c);

    /* ---- merge ---- */
    uint64_t a[] = { 1, 3 }, b[] = { 2, 3 };
    write_answers(bid2, a, 2, NULL, "/nonexistent/prog", NULL);
    char names[64][80];
    size_t n3 = frames_for(4, fr, names);       /* another answer for offset 3 */
    c = symcache_open(bid2, 20, 0);
    symcache_source(c, "/nonexistent/prog", NULL, NULL);
    symcache_add(c, b[0], fr, n3);
    symcache_add(c, b[1], fr, n3);
    symcache_close(c);
    c = symcache_open(bid2, 20, 0);
    ms_frame w1[64], got[64];
    char nm1[64][80];
    size_t nw1 = frames_for(1, w1, nm1), ng;
    int m1 = symcache_lookup(c, 1, got, 64, &ng) && same_frames(w1, nw1, got, ng);
    int m2 = symcache_lookup(c, 2, got, 64, &ng) && same_frames(fr, n3, got, ng);
    int m3 = symcache_lookup(c, 3, got, 64, &ng) && same_frames(fr, n3, got, ng);
    CHECK("symcache/merge/kept-older", m1);
    CHECK("symcache/merge/added", m2);
    CHECK("symcache/merge/newer-wins", m3);
    symcache_close(c);

    /* ---- damage ---- */
    char path[400];
    file_name(bid, 20, path, sizeof path);
    size_t len = 0;
    unsigned char *good = slurp(path, &len), *bad = malloc(len + 1);
    int cut_valid = 0, sane = 1, flips = 0, flips_valid = 0;
    for (size_t l = 0; l < len; l++) {
        spill(path, good, l);
        cut_valid += open_check(bid, offs, noffs, &sane);
    }
    for (size_t i = HDR; i < len; i++) {
        for (int v = 0; v < 3; v++) {
            memcpy(bad, good, len);
            bad[i] = (unsigned char)(v == 0 ? bad[i] ^ 0x01 : v == 1 ? 0xff : 0x00);
            if (bad[i] == good[i]) continue;
            uint64_t sum = XXH3_64bits(bad + HDR, len - HDR);
            memcpy(bad + 24, &sum, 8);
            spill(path, bad, len);
            flips++;
            flips_valid += open_check(bid, offs, noffs, &sane);
        }
    }
    printf("damage: %zu cuts, %d body changes (%d still parse)\n", len, flips, flips_valid);
    CHECK("symcache/damage/cuts-never-valid", cut_valid == 0);
    CHECK("symcache/damage/served-strings-in-bounds", sane);
    CHECK("symcache/damage/changes-tried", flips > 1000);
    memcpy(bad, good, len);
    bad[len / 2] ^= 0x10;                        /* checksum left wrong */
    spill(path, bad, len);
    CHECK("symcache/damage/checksum", !open_check(bid, offs, noffs, &sane));
    spill(path, good, len);
    CHECK("symcache/damage/restored", open_check(bid, offs, noffs, &sane));

    /* ---- source ---- */
    unsigned char bid3[20], bid4[20];
    bid_of(bid3, 3);
    bid_of(bid4, 4);
    char dbg[400], prog[400], link[400];
    snprintf(dbg, sizeof dbg, "%s/libx.debug", dir);
    spill(dbg, (const unsigned char *)"debug", 5);
    uint64_t one[] = { 42 };
    write_answers(bid3, one, 1, dbg, "/nonexistent/libx.so", NULL);
    c = symcache_open(bid3, 20, 0);
    CHECK("symcache/source/debug-file-valid", symcache_valid(c) && symcache_lookup(c, 42, fr, 64, &nf));
    symcache_close(c);
    struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    utimes(dbg, tv);
    c = symcache_open(bid3, 20, 0);
    CHECK("symcache/source/debug-file-rewritten", !symcache_valid(c) && !symcache_lookup(c, 42, fr, 64, &nf));
    symcache_close(c);
    snprintf(prog, sizeof prog, "%s/prog", dir);
    spill(prog, (const unsigned char *)"elf", 3);
    snprintf(link, sizeof link, "%s/prog.debug", dir);
    write_answers(bid4, one, 1, NULL, prog, "prog.debug");
    c = symcache_open(bid4, 20, 1);
    CHECK("symcache/source/no-debug-info-not-final-with-debuginfod", !symcache_valid(c));
    symcache_close(c);
    c = symcache_open(bid4, 20, 0);
    CHECK("symcache/source/no-debug-info-valid", symcache_valid(c));
    symcache_close(c);
    spill(link, (const unsigned char *)"debug", 5);
    c = symcache_open(bid4, 20, 0);
    CHECK("symcache/source/debuglink-appeared", !symcache_valid(c));
    symcache_close(c);

    /* ---- prune ---- */
    struct timeval old[2] = { { 1000000, 0 }, { 1000000, 0 } };
    for (int i = 0; i < 2100; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s/%040d.sym", cdir, i);
        spill(p, (const unsigned char *)"x", 1);
        old[0].tv_sec = old[1].tv_sec = 1000000 + i;
        utimes(p, old);
    }
    char tmpold[400], tmpnew[400];
    snprintf(tmpold, sizeof tmpold, "%s/.tmp.dead01", cdir);
    snprintf(tmpnew, sizeof tmpnew, "%s/.tmp.busy01", cdir);
    spill(tmpold, (const unsigned char *)"x", 1);
    spill(tmpnew, (const unsigned char *)"x", 1);
    utimes(tmpold, old);
    unsigned char bid5[20];
    bid_of(bid5, 5);
    write_answers(bid5, one, 1, NULL, "/nonexistent/prog", NULL);
    CHECK("symcache/prune/dead-writer-temp-gone", access(tmpold, F_OK) != 0);
    CHECK("symcache/prune/fresh-temp-kept", access(tmpnew, F_OK) == 0);
    size_t left = 0, oldest = 0;
    DIR *d = opendir(cdir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strstr(e->d_name, ".sym")) left++;
        if (!strcmp(e->d_name, "0000000000000000000000000000000000000000.sym")) oldest++;
    }
    if (d) closedir(d);
    printf("prune: %zu files left of %d\n", left, 2100 + 6);
    CHECK("symcache/prune/bounded", left <= MAX_FILES * 3 / 4 + 1 && left > MAX_FILES / 2);
    CHECK("symcache/prune/oldest-gone", oldest == 0);
    c = symcache_open(bid5, 20, 0);
    CHECK("symcache/prune/new-file-kept", symcache_valid(c));
    symcache_close(c);

    free(good);
    free(bad);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {}
    return ms_test_failures != 0;
}
