/* Runtime-internal allocations: which live blocks the C/C++ runtime made for
 * itself, so that the leak classification at exit (leakscan.c) reports them
 * as class 5 "libc/runtime internal" instead of as the application's.
 *
 * The writer thread calls msr_leak_rt_alloc for every allocation it replays
 * and msr_leak_rt_free for every free; the decision is taken from the
 * allocating stack, once per stack node (a 2-byte memo per node id):
 *  - the innermost caller lies in the dynamic loader (ld.so allocates only
 *    for itself: link maps, dlopen scopes, dynamic TLS and DTVs); or
 *  - every frame lies in a runtime module (libc, ld.so, libstdc++, libgcc_s,
 *    libm, libc++/libc++abi, old libpthread/libdl/librt, the allocator
 *    libmemscope forwards to when that is a library) and the outermost
 *    one is the loader (constructors run by _dl_init before main:
 *    libstdc++'s emergency exception pool of 72,704 bytes, locale setup),
 *    libc (a thread's clone) or the executable's entry stub (_start,
 *    AT_ENTRY), and the stack was not cut by MEMSCOPE_MAX_DEPTH.
 * A stack with any frame of the application (its executable, its
 * libraries, the recorder) is the application's, even when the memory is
 * handed out by libc or libstdc++ (strdup, fopen, operator new, std::string).
 * Only the addresses of live runtime blocks are kept (an open-addressing set
 * in the recorder's arena, which the leak scan excludes); an application
 * that makes none pays one memo lookup per allocation and one compare per
 * free. Single-threaded: the writer lock serializes all calls. */
#include "recorder_internal.h"
#include "inspect.h"
#include "nextalloc.h"

#include <string.h>
#include <sys/auxv.h>

#define RT_DONE   0x8000u
#define RT_ALL    0x4000u       /* this frame and every outer one: runtime  */
#define RT_LOADER 0x2000u       /* this frame is in the dynamic loader      */
#define RT_DEPTH  0x01FFu       /* frames from the outermost, capped at 511 */

enum { K_APP, K_RUNTIME, K_LIBC, K_LOADER };

static uint16_t *memo;          /* by stack node id                         */
static size_t memo_cap;
static uint64_t *set;           /* live runtime block addresses, 0 = empty  */
static size_t set_cap, set_used;
static uint64_t entry_lo;

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static int module_kind(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    if (has_prefix(b, "ld-linux") || has_prefix(b, "ld64.so") || has_prefix(b, "ld-2.") ||
        has_prefix(b, "ld.so"))
        return K_LOADER;
    if (has_prefix(b, "libc.so") || has_prefix(b, "libc-2."))
        return K_LIBC;
    static const char *const rt[] = {
        "libstdc++.so", "libgcc_s.so", "libm.so", "libm-2.", "libc++.so", "libc++abi.so",
        "libpthread.so", "libpthread-", "libdl.so", "libdl-", "librt.so", "librt-" };
    for (size_t i = 0; i < sizeof rt / sizeof rt[0]; i++)
        if (has_prefix(b, rt[i]))
            return K_RUNTIME;
    /* the allocator libmemscope forwards to (jemalloc, tcmalloc: their
     * constructors allocate for themselves), when it is a library */
    const char *al = msr_next_allocator();
    const char *ab = strrchr(al, '/');
    ab = ab ? ab + 1 : al;
    if (*ab && !msr_next_in_exe() && strcmp(ab, b) == 0)
        return K_RUNTIME;
    return K_APP;
}

static int ip_kind(uint64_t ip)
{
    const char *path = NULL;
    if (!msr_module_find(ip, NULL, NULL, &path, NULL) || !path)
        return K_APP;
    return module_kind(path);
}

static int memo_fit(uint64_t id)
{
    if (id < memo_cap)
        return 1;
    size_t ncap = memo_cap ? memo_cap : 4096;
    while (ncap <= id)
        ncap *= 2;
    uint16_t *n = msr_alloc(ncap * sizeof *n);
    if (!n)
        return 0;
    msr_prefault(n, ncap * sizeof *n);   /* read and written all over */
    if (memo)
        memcpy(n, memo, memo_cap * sizeof *n);
    msr_free(memo);
    memo = n;
    memo_cap = ncap;
    return 1;
}

/* RT_* bits of stack node id, computing it and the uncomputed outer nodes. */
static uint16_t node_info(uint64_t id)
{
    if (!id || id > atomic_load_explicit(&msr_nodes_count, memory_order_acquire) || !memo_fit(id))
        return 0;
    if (memo[id] & RT_DONE)
        return memo[id];
    if (!entry_lo)
        entry_lo = (uint64_t)getauxval(AT_ENTRY);
    uint64_t chain[512];
    size_t k = 0;
    uint64_t x = id;
    while (x && !(memo[x] & RT_DONE)) {
        if (k == sizeof chain / sizeof chain[0])
            return 0;
        chain[k++] = x;
        x = msr_nodes[x - 1].parent;
    }
    uint16_t up = x ? memo[x] : 0;
    int outer = x == 0;
    while (k--) {
        uint64_t ip = msr_nodes[chain[k] - 1].ip;
        int kind = ip_kind(ip);
        unsigned depth = outer ? 1 : (up & RT_DEPTH) + 1u;
        if (depth > RT_DEPTH)
            depth = RT_DEPTH;
        int all;
        if (outer)
            all = kind == K_LOADER || kind == K_LIBC || (ip >= entry_lo && ip < entry_lo + 64);
        else
            all = (up & RT_ALL) && kind != K_APP;
        up = (uint16_t)(RT_DONE | depth | (all ? RT_ALL : 0) | (kind == K_LOADER ? RT_LOADER : 0));
        memo[chain[k]] = up;
        outer = 0;
    }
    return up;
}

static size_t slot_of(uint64_t a, size_t cap)
{
    uint64_t h = (a >> 4) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (cap - 1);
}

static int set_grow(void)
{
    size_t ncap = set_cap ? set_cap * 2 : 256;
    uint64_t *n = msr_alloc(ncap * sizeof *n);
    if (!n)
        return -1;
    msr_prefault(n, ncap * sizeof *n);   /* probed before written */
    for (size_t i = 0; i < set_cap; i++) {
        if (!set[i])
            continue;
        size_t j = slot_of(set[i], ncap);
        while (n[j])
            j = (j + 1) & (ncap - 1);
        n[j] = set[i];
    }
    msr_free(set);
    set = n;
    set_cap = ncap;
    return 0;
}

void msr_leak_rt_alloc(uint64_t addr, uint64_t stack)
{
    if (!addr || !stack)
        return;
    uint16_t v = stack < memo_cap && (memo[stack] & RT_DONE) ? memo[stack] : node_info(stack);
    int depth_ok = (int)(v & RT_DEPTH) < msr_cfg.max_depth;
    if (!(v & RT_LOADER) && !((v & RT_ALL) && depth_ok))
        return;
    if ((set_used + 1) * 2 > set_cap && set_grow() != 0)
        return;
    size_t j = slot_of(addr, set_cap);
    while (set[j]) {
        if (set[j] == addr)
            return;
        j = (j + 1) & (set_cap - 1);
    }
    set[j] = addr;
    set_used++;
}

void msr_leak_rt_free(uint64_t addr)
{
    if (!set_used || !addr)
        return;
    size_t j = slot_of(addr, set_cap);
    while (set[j] != addr) {
        if (!set[j])
            return;
        j = (j + 1) & (set_cap - 1);
    }
    set_used--;
    for (;;) {                          /* backward-shift deletion */
        set[j] = 0;
        size_t k = j;
        for (;;) {
            k = (k + 1) & (set_cap - 1);
            if (!set[k])
                return;
            size_t home = slot_of(set[k], set_cap);
            if (j <= k ? (home <= j || home > k) : (home <= j && home > k))
                break;
        }
        set[j] = set[k];
        j = k;
    }
}

int msr_leak_rt_has(uint64_t addr)
{
    if (!set_used)
        return 0;
    size_t j = slot_of(addr, set_cap);
    while (set[j]) {
        if (set[j] == addr)
            return 1;
        j = (j + 1) & (set_cap - 1);
    }
    return 0;
}

void msr_leak_rt_reset(void)
{
    msr_free(memo);
    msr_free(set);
    memo = NULL;
    set = NULL;
    memo_cap = set_cap = set_used = 0;
}
