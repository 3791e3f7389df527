/* allocstats ALLOCATOR: a known heap, measured by the allocator itself.
 * ALLOCATOR is jemalloc, tcmalloc or glibc (whatever serves malloc: the
 * program only asks that allocator's statistics, found with dlsym so it
 * builds without its headers, and only looks up symbols that exist, so a
 * failed dlsym never allocates an error string).
 *
 * With 20 MiB live in known sizes (malloc, calloc, realloc, posix_memalign,
 * aligned_alloc, memalign, valloc and, for jemalloc, mallocx/rallocx/
 * xallocx) it prints the allocator's own count of allocated bytes relative
 * to the start ("STATS ... live=N"), then frees everything (plus jemalloc's
 * dallocx/sdallocx, operator new/delete through the allocator's operators)
 * and prints the TRUTH line of progs.h. Under a recorder that steals the
 * heap from the allocator, live drops to about 0. Built without PIE
 * (Makefile): malloc's address taken here is a PLT entry of the program. */
#include "progs.h"
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

static int (*je_mallctl)(const char *, void *, size_t *, void *, size_t);
static int (*tc_prop)(const char *, size_t *);

static size_t allocated(void)
{
    size_t v = 0, len = sizeof v;
    uint64_t epoch = 1;
    if (je_mallctl) {
        je_mallctl("epoch", NULL, NULL, &epoch, sizeof epoch);
        je_mallctl("stats.allocated", &v, &len, NULL, 0);
    } else if (tc_prop) {
        tc_prop("generic.current_allocated_bytes", &v);
    } else {
        struct mallinfo2 mi = mallinfo2();
        v = mi.uordblks + mi.hblkhd;
    }
    return v;
}

#define NBLK 1024
static void *blk[NBLK];
static size_t blksz[NBLK];
static int nblk;

static void keep(void *p, size_t n)
{
    if (!p) { out("allocation of %zu failed\n", n); exit(2); }
    blk[nblk] = p;
    blksz[nblk++] = n;
}

int main(int argc, char **argv)
{
    const char *who = argc > 1 ? argv[1] : "glibc";
    int je = !strcmp(who, "jemalloc"), tc = !strcmp(who, "tcmalloc");
    if (je) *(void **)&je_mallctl = dlsym(RTLD_DEFAULT, "mallctl");
    if (tc) *(void **)&tc_prop = dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty");
    if ((je && !je_mallctl) || (tc && !tc_prop)) {
        out("%s is not loaded\n", who);
        return 2;
    }
    size_t base = allocated();
    /* the address of malloc and free, taken in a program built without PIE
     * (Makefile), is a PLT entry of this executable: dlsym(RTLD_DEFAULT,
     * "malloc") returns it, yet malloc is not defined here */
    void *(*volatile malloc_fn)(size_t);
    void (*volatile free_fn)(void *);
    malloc_fn = malloc;
    free_fn = free;
    free_fn(malloc_fn(1));
    t_alloc(1);
    t_free(1);

    /* 20 MiB live, in sizes every allocator serves exactly */
    for (int i = 0; i < 512; i++) { keep(malloc(16384), 16384); t_alloc(16384); }        /* 8 MiB */
    for (int i = 0; i < 32; i++) { keep(calloc(2, 65536), 131072); t_alloc(131072); }    /* 4 MiB */
    for (int i = 0; i < 64; i++) {                                                          /* 4 MiB */
        void *p = malloc(4096);
        t_alloc(4096);
        void *q = realloc(p, 65536);
        t_realloc(4096, 65536);
        keep(q, 65536);
    }
    for (int i = 0; i < 32; i++) {                                                          /* 1 MiB */
        void *p = NULL;
        if (posix_memalign(&p, 4096, 32768)) p = NULL;
        keep(p, 32768);
        t_alloc(32768);
    }
    for (int i = 0; i < 32; i++) { keep(aligned_alloc(256, 32768), 32768); t_alloc(32768); } /* 1 MiB */
    for (int i = 0; i < 64; i++) { keep(memalign(64, 16384), 16384); t_alloc(16384); }       /* 1 MiB */
    for (int i = 0; i < 64; i++) { keep(valloc(16384), 16384); t_alloc(16384); }             /* 1 MiB */
    /* short-lived blocks */
    for (int i = 0; i < 1000; i++) {
        void *p = malloc(100);
        t_alloc(100);
        free(p);
        t_free(100);
    }
    void *ra = reallocarray(NULL, 10, 100);
    t_alloc(1000);
    free(ra);
    t_free(1000);

    /* jemalloc's own API: 16 blocks of 8 KiB, grown in place or moved to
     * 16 KiB, one resized in place, freed with sdallocx / dallocx */
    void *(*mallocx)(size_t, int) = NULL;
    void *(*rallocx)(void *, size_t, int) = NULL;
    size_t (*xallocx)(void *, size_t, size_t, int) = NULL;
    void (*sdallocx)(void *, size_t, int) = NULL;
    void (*dallocx)(void *, int) = NULL;
    void *xb[16];
    if (je) {
        *(void **)&mallocx = dlsym(RTLD_DEFAULT, "mallocx");
        *(void **)&rallocx = dlsym(RTLD_DEFAULT, "rallocx");
        *(void **)&xallocx = dlsym(RTLD_DEFAULT, "xallocx");
        *(void **)&sdallocx = dlsym(RTLD_DEFAULT, "sdallocx");
        *(void **)&dallocx = dlsym(RTLD_DEFAULT, "dallocx");
        for (int i = 0; i < 16; i++) {
            xb[i] = mallocx(8192, 0x40);        /* MALLOCX_ZERO */
            t_alloc(8192);
            xb[i] = rallocx(xb[i], 16384, 0);
            t_realloc(8192, 16384);
        }
        /* 16384 is its own size class: resizing to it in place succeeds */
        if (xallocx(xb[0], 16384, 0, 0) >= 16384) t_realloc(16384, 16384);
    }
    size_t live = allocated() - base;
    out("STATS %s live=%zu expected=%lu\n", who, live, t_live);

    for (int i = 0; i < nblk; i++) {
        free(blk[i]);
        t_free(blksz[i]);
    }
    if (je) {
        for (int i = 0; i < 16; i++) {
            if (i & 1) sdallocx(xb[i], 16384, 0);
            else dallocx(xb[i], 0);
            t_free(16384);
        }
    }
    /* C++ operators of the allocator (jemalloc and tcmalloc define them;
     * found through the recorder when it is first) */
    if (je || tc) {
        void *(*opnew)(size_t) = NULL;
        void (*opdel)(void *) = NULL, (*opdel_sized)(void *, size_t) = NULL;
        *(void **)&opnew = dlsym(RTLD_DEFAULT, "_Znwm");
        *(void **)&opdel = dlsym(RTLD_DEFAULT, "_ZdlPv");
        *(void **)&opdel_sized = dlsym(RTLD_DEFAULT, "_ZdlPvm");
        for (int i = 0; i < 10; i++) {
            void *p = opnew(48);
            t_alloc(48);
            if (i & 1) opdel(p);
            else opdel_sized(p, 48);
            t_free(48);
        }
    }
    out("STATS %s end=%zd\n", who, (ssize_t)(allocated() - base));
    t_print("allocstats");
    return 0;
}
