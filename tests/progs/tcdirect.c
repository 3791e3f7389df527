/* tcdirect: the allocator extras called by name (issue 10), through weak
 * references, as a program built with gperftools/tcmalloc.h or
 * jemalloc.h calls them — here without their headers or libraries, so it
 * builds everywhere and each name is bound at run time to whatever object
 * defines it.
 *
 * First a PROBE line: for each extra, whether the weak reference and
 * dlsym(RTLD_DEFAULT) find it (1) or not (0). It must read the same with
 * and without libmemscope: a program deciding "am I on jemalloc?" from
 * them must decide the same (tests/recorder/test_allocators.sh).
 *
 * Then, where tcmalloc serves the program (tc_malloc found): 16 blocks of
 * 16 KiB from each tc_* allocation function (tc_realloc grows 4 KiB blocks
 * to 16 KiB), all live at once while tcmalloc's own count of allocated
 * bytes is printed (STATS tcmalloc live=N expected=M), the usable size
 * tcmalloc reports for one block (USABLE, tc_malloc_size and
 * malloc_usable_size: the allocator answers for its block, libmemscope
 * does not change it), then everything freed by the matching tc_* free
 * (tc_free, tc_cfree, tc_free_sized, tc_delete* sized/aligned/nothrow),
 * and the TRUTH line of progs.h. */
#include "progs.h"
#include <dlfcn.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#define W __attribute__((weak))
/* jemalloc and C23 */
extern void *mallocx(size_t, int) W;
extern void sdallocx(void *, size_t, int) W;
extern void free_sized(void *, size_t) W;
extern void free_aligned_sized(void *, size_t, size_t) W;
/* tcmalloc (gperftools/tcmalloc.h; std::nothrow_t& is a pointer here) */
extern void *tc_malloc(size_t) W;
extern void *tc_malloc_skip_new_handler(size_t) W;
extern void tc_free(void *) W;
extern void tc_free_sized(void *, size_t) W;
extern void tc_cfree(void *) W;
extern void *tc_calloc(size_t, size_t) W;
extern void *tc_realloc(void *, size_t) W;
extern void *tc_memalign(size_t, size_t) W;
extern int tc_posix_memalign(void **, size_t, size_t) W;
extern void *tc_valloc(size_t) W;
extern void *tc_pvalloc(size_t) W;
extern size_t tc_malloc_size(void *) W;
extern void *tc_new(size_t) W;
extern void *tc_newarray(size_t) W;
extern void *tc_new_nothrow(size_t, const void *) W;
extern void *tc_newarray_nothrow(size_t, const void *) W;
extern void *tc_new_aligned(size_t, size_t) W;
extern void *tc_newarray_aligned(size_t, size_t) W;
extern void *tc_new_aligned_nothrow(size_t, size_t, const void *) W;
extern void *tc_newarray_aligned_nothrow(size_t, size_t, const void *) W;
extern void tc_delete(void *) W;
extern void tc_deletearray(void *) W;
extern void tc_delete_sized(void *, size_t) W;
extern void tc_deletearray_sized(void *, size_t) W;
extern void tc_delete_aligned(void *, size_t) W;
extern void tc_deletearray_aligned(void *, size_t) W;
extern void tc_delete_sized_aligned(void *, size_t, size_t) W;
extern void tc_deletearray_sized_aligned(void *, size_t, size_t) W;
extern void tc_delete_nothrow(void *, const void *) W;
extern void tc_deletearray_nothrow(void *, const void *) W;
extern void tc_delete_aligned_nothrow(void *, size_t, const void *) W;
extern void tc_deletearray_aligned_nothrow(void *, size_t, const void *) W;

#define SZ 16384
#define PER 16
enum { NKIND = 17 };
static void *blk[NKIND][PER];
static const char nothrow_tag = 0;   /* stands for std::nothrow */

static void probe(void)
{
    struct { const char *name; void *weak; } p[] = {
        {"mallocx", (void *)mallocx}, {"sdallocx", (void *)sdallocx},
        {"free_sized", (void *)free_sized}, {"free_aligned_sized", (void *)free_aligned_sized},
        {"tc_malloc", (void *)tc_malloc}, {"tc_delete_sized", (void *)tc_delete_sized},
        {"tc_malloc_skip_new_handler", (void *)tc_malloc_skip_new_handler},
    };
    char line[400];
    size_t o = 0;
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, " %s=%d/%d", p[i].name, p[i].weak != NULL,
                              dlsym(RTLD_DEFAULT, p[i].name) != NULL);
    out("PROBE%s\n", line);
}

static void *need(void *p)
{
    if (!p) {
        out("allocation failed\n");
        exit(2);
    }
    return p;
}
static void got(void *p)
{
    need(p);
    t_alloc(SZ);
}

int main(void)
{
    probe();
    if (!tc_malloc) {
        t_print("tcdirect");
        return 0;
    }
    int (*prop)(const char *, size_t *);
    *(void **)&prop = dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty");
    size_t base = 0, now = 0;
    if (prop) prop("generic.current_allocated_bytes", &base);

    const void *nt = &nothrow_tag;
    for (int i = 0; i < PER; i++) {
        got(blk[0][i] = tc_malloc(SZ));
        got(blk[1][i] = tc_malloc_skip_new_handler(SZ));
        got(blk[2][i] = tc_calloc(4, SZ / 4));
        void *r = need(tc_malloc(4096));
        t_alloc(4096);
        blk[3][i] = need(tc_realloc(r, SZ));
        t_realloc(4096, SZ);
        got(blk[4][i] = tc_memalign(256, SZ));
        void *pm = NULL;
        got(tc_posix_memalign(&pm, 4096, SZ) == 0 ? (blk[5][i] = pm) : NULL);
        got(blk[6][i] = tc_valloc(SZ));
        got(blk[7][i] = tc_pvalloc(SZ));
        got(blk[8][i] = tc_new(SZ));
        got(blk[9][i] = tc_newarray(SZ));
        got(blk[10][i] = tc_new_nothrow(SZ, nt));
        got(blk[11][i] = tc_newarray_nothrow(SZ, nt));
        got(blk[12][i] = tc_new_aligned(SZ, 64));
        got(blk[13][i] = tc_newarray_aligned(SZ, 64));
        got(blk[14][i] = tc_new_aligned_nothrow(SZ, 128, nt));
        got(blk[15][i] = tc_newarray_aligned_nothrow(SZ, 128, nt));
        got(blk[16][i] = tc_malloc(SZ));
    }
    if (prop) prop("generic.current_allocated_bytes", &now);
    out("STATS tcmalloc live=%zu expected=%lu\n", now - base, t_live);
    out("USABLE tc_malloc_size=%zu malloc_usable_size=%zu\n", tc_malloc_size(blk[0][0]),
        malloc_usable_size(blk[3][0]));

    for (int i = 0; i < PER; i++) {
        tc_free(blk[0][i]);
        tc_cfree(blk[1][i]);
        tc_free_sized(blk[2][i], SZ);
        tc_free(blk[3][i]);
        tc_free(blk[4][i]);
        tc_free(blk[5][i]);
        tc_free(blk[6][i]);
        tc_free(blk[7][i]);
        if (i & 1) tc_delete(blk[8][i]); else tc_delete_sized(blk[8][i], SZ);
        if (i & 1) tc_deletearray(blk[9][i]); else tc_deletearray_sized(blk[9][i], SZ);
        tc_delete_nothrow(blk[10][i], nt);
        tc_deletearray_nothrow(blk[11][i], nt);
        if (i & 1) tc_delete_aligned(blk[12][i], 64); else tc_delete_sized_aligned(blk[12][i], SZ, 64);
        if (i & 1) tc_deletearray_aligned(blk[13][i], 64);
        else tc_deletearray_sized_aligned(blk[13][i], SZ, 64);
        tc_delete_aligned_nothrow(blk[14][i], 128, nt);
        tc_deletearray_aligned_nothrow(blk[15][i], 128, nt);
        free(blk[16][i]);
        for (int k = 0; k < NKIND; k++) t_free(SZ);
    }
    t_print("tcdirect");
    return 0;
}
