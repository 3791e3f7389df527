/*
 * stacks.c — call-stack capture and interning for libmemscope.
 *
 * Capture: libunwind's unw_backtrace (per-thread cache) by default, or a
 * frame-pointer walk (MEMSCOPE_UNWIND=fp) that only dereferences frame
 * addresses inside the thread's own stack bounds, each strictly above the
 * previous one, so a broken chain ends the walk instead of faulting. The
 * recorder's own frames are cut by locating the public entry point's return
 * address. Interning: the ip array is hashed (xxh3); a per-thread
 * direct-mapped cache maps hash -> stack id without any lock. On a miss, a
 * shared trie (outermost frame at the root) under a lock appends new
 * (parent, ip) nodes with consecutive ids from 1; the writer thread emits
 * them as STACK records before any event that uses them. A stack id names
 * its innermost node.
 */
#include "recorder_internal.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 256
#define NODE_CAP (8u << 20)          /* 8 M nodes = 128 MiB of reservation */

ms_stack_node *msr_nodes;
_Atomic uint64_t msr_nodes_count;
msr_lock msr_stack_lock;

struct edge { uint64_t ip; uint32_t parent; uint32_t id; };
struct full { uint64_t hash; uint64_t id; };

static struct edge *edges;
static size_t edges_cap, edges_used;
static struct full *fulls;
static size_t fulls_cap, fulls_used;

int msr_stacks_init(void)
{
    if (msr_cfg.unwind == MSR_UNW_LIBUNWIND)
        unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    msr_nodes = msr_alloc((size_t)NODE_CAP * sizeof *msr_nodes);
    edges_cap = 1u << 14;
    edges = msr_alloc(edges_cap * sizeof *edges);
    fulls_cap = 1u << 12;
    fulls = msr_alloc(fulls_cap * sizeof *fulls);
    return (msr_nodes && edges && fulls) ? 0 : -1;
}

void msr_stacks_atfork_child(void) { atomic_store(&msr_stack_lock.owner, 0); }

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 32);
}

static int edges_grow(void)
{
    size_t ncap = edges_cap * 2;
    struct edge *ne = msr_alloc(ncap * sizeof *ne);
    if (!ne) return -1;
    for (size_t i = 0; i < edges_cap; i++) {
        if (!edges[i].id) continue;
        size_t j = mix(edges[i].parent, edges[i].ip) & (ncap - 1);
        while (ne[j].id) j = (j + 1) & (ncap - 1);
        ne[j] = edges[i];
    }
    msr_free(edges);
    edges = ne;
    edges_cap = ncap;
    return 0;
}

static int fulls_grow(void)
{
    size_t ncap = fulls_cap * 2;
    struct full *nf = msr_alloc(ncap * sizeof *nf);
    if (!nf) return -1;
    for (size_t i = 0; i < fulls_cap; i++) {
        if (!fulls[i].id) continue;
        size_t j = fulls[i].hash & (ncap - 1);
        while (nf[j].id) j = (j + 1) & (ncap - 1);
        nf[j] = fulls[i];
    }
    msr_free(fulls);
    fulls = nf;
    fulls_cap = ncap;
    return 0;
}

/* Under msr_stack_lock. ips[0] is the innermost frame. */
static uint64_t intern_locked(const uint64_t *ips, int d, uint64_t h)
{
    size_t j = h & (fulls_cap - 1);
    while (fulls[j].id) {
        if (fulls[j].hash == h) return fulls[j].id;
        j = (j + 1) & (fulls_cap - 1);
    }
    uint64_t parent = 0;
    uint64_t count = atomic_load_explicit(&msr_nodes_count, memory_order_relaxed);
    for (int i = d - 1; i >= 0; i--) {
        if ((edges_used + 1) * 2 > edges_cap && edges_grow() != 0) return 0;
        size_t k = mix(parent, ips[i]) & (edges_cap - 1);
        uint64_t found = 0;
        while (edges[k].id) {
            if (edges[k].parent == parent && edges[k].ip == ips[i]) {
                found = edges[k].id;
                break;
            }
            k = (k + 1) & (edges_cap - 1);
        }
        if (!found) {
            if (count >= NODE_CAP) return parent;  /* table full: truncate */
            found = count + 1;
            msr_nodes[count].parent = parent;
            msr_nodes[count].ip = ips[i];
            count++;
            atomic_store_explicit(&msr_nodes_count, count, memory_order_release);
            edges[k].ip = ips[i];
            edges[k].parent = (uint32_t)parent;
            edges[k].id = (uint32_t)found;
            edges_used++;
        }
        parent = found;
    }
    if ((fulls_used + 1) * 2 > fulls_cap && fulls_grow() != 0) return parent;
    j = h & (fulls_cap - 1);
    while (fulls[j].id) j = (j + 1) & (fulls_cap - 1);
    fulls[j].hash = h;
    fulls[j].id = parent;
    fulls_used++;
    return parent;
}

static int fp_walk(msr_thread *t, void *ret, void *frame, uint64_t *ips, uint64_t *slots,
                   int max)
{
    int d = 0;
    slots[d] = (uint64_t)(uintptr_t)frame + 8;
    ips[d++] = (uint64_t)(uintptr_t)ret;
    uintptr_t lo = t->stack_lo, hi = t->stack_hi;
    uintptr_t prev = (uintptr_t)frame;
    if (!lo || prev < lo || prev + 16 > hi) return d;
    uintptr_t fp = *(const uintptr_t *)prev;
    while (d < max) {
        if (fp <= prev || fp < lo || fp + 16 > hi || (fp & 7)) break;
        uintptr_t ip = ((const uintptr_t *)fp)[1];
        if (ip < 4096) break;
        slots[d] = fp + 8;
        ips[d++] = ip;
        prev = fp;
        fp = *(const uintptr_t *)fp;
    }
    return d;
}

/* Validated stack memo (libunwind mode). Keyed by the entry point's return
 * address and the stack slot holding it; remembers the ips of the last
 * full unwind from there and the stack slots where each return address
 * was found. A later call from the same place is the same stack when every
 * remembered slot still holds the same return address (same call chain at
 * the same stack positions); then the DWARF unwind is skipped. Slots are
 * read only inside the thread's stack bounds, above the current frame. */
struct msr_memo {
    uint64_t ret0, slot0, id;
    uint32_t d, pad;
    uint64_t ips[];               /* d ips, then d slots                    */
};
static int memo_on = -1;

size_t msr_memo_bytes(void)
{
    if (memo_on < 0) {
        const char *v = getenv("MEMSCOPE_STACK_MEMO");
        memo_on = msr_cfg.unwind != MSR_UNW_NONE && !(v && !strcmp(v, "0"));
    }
    if (!memo_on) return 0;
    return (size_t)MSR_MEMO_SIZE *
           (sizeof(struct msr_memo) + 2 * sizeof(uint64_t) * (size_t)msr_cfg.max_depth);
}

static inline struct msr_memo *memo_at(msr_thread *t, size_t i)
{
    size_t sz = sizeof(struct msr_memo) + 2 * sizeof(uint64_t) * (size_t)msr_cfg.max_depth;
    return (struct msr_memo *)((char *)t->memo + i * sz);
}

static inline uint64_t memo_hit(msr_thread *t, struct msr_memo *m, uint64_t ret0,
                                uintptr_t slot0)
{
    (void)t;
    if (m->ret0 != ret0 || m->slot0 != slot0 || !m->id) return 0;
    const uint64_t *ips = m->ips, *slots = m->ips + m->d;
    for (uint32_t i = 1; i < m->d; i++)
        if (*(const uint64_t *)(uintptr_t)slots[i] != ips[i]) return 0;
    return m->id;
}

static void memo_fill(msr_thread *t, struct msr_memo *m, uint64_t ret0, uintptr_t slot0,
                      const uint64_t *ips, const uint64_t *known_slots, int d, uint64_t id)
{
    m->id = 0;
    uintptr_t hi = t->stack_hi;
    if (!hi || slot0 < t->stack_lo || slot0 + 8 > hi) return;
    if (*(const uint64_t *)slot0 != ret0 || ips[0] != ret0) return;
    uint64_t *mi = m->ips, *ms = m->ips + d;
    mi[0] = ret0;
    ms[0] = slot0;
    uintptr_t pos = slot0 + 8;
    if (known_slots) {
        for (int i = 1; i < d; i++) {
            mi[i] = ips[i];
            ms[i] = known_slots[i];
        }
        goto done;
    }
    for (int i = 1; i < d; i++) {
        uintptr_t lim = pos + 65536 < hi ? pos + 65536 : hi;
        uintptr_t p = pos;
        while (p + 8 <= lim && *(const uint64_t *)p != ips[i]) p += 8;
        if (p + 8 > lim) return;
        mi[i] = ips[i];
        ms[i] = p;
        pos = p + 8;
    }
done:
    m->ret0 = ret0;
    m->slot0 = slot0;
    m->d = (uint32_t)d;
    m->id = id;
}

static int unw_walk(void *ret, uint64_t *ips, int max)
{
    void *buf[MAX_FRAMES + 8];
    int n = unw_backtrace(buf, max + 6);
    int skip = -1;
    for (int i = 0; i < n && i < 6; i++) {
        if (buf[i] == ret) {
            skip = i;
            break;
        }
    }
    if (skip < 0) skip = n < 2 ? n : 2;
    int d = n - skip;
    if (d > max) d = max;
    for (int i = 0; i < d; i++) ips[i] = (uint64_t)(uintptr_t)buf[skip + i];
    return d;
}

uint64_t msr_capture_stack(msr_thread *t, void *ret, void *frame)
{
    uint64_t ips[MAX_FRAMES], slots[MAX_FRAMES];
    const uint64_t *known = NULL;
    int d;
    int max = msr_cfg.max_depth;
    struct msr_memo *m = NULL;
    uintptr_t slot0 = (uintptr_t)frame + 8;
    if (msr_cfg.unwind == MSR_UNW_NONE) return 0;
    if (t->memo) {
        /* 4-way set: one call site (same return address and stack slot)
         * may be reached from several callers (identical-code folding,
         * helpers called from many places) */
        uint64_t k = ((uint64_t)(uintptr_t)ret ^ (slot0 << 7)) * 0x9E3779B97F4A7C15ull;
        size_t set = (size_t)(k >> 40) & (MSR_MEMO_SIZE / 4 - 1);
        for (size_t w = 0; w < 4; w++) {
            struct msr_memo *c = memo_at(t, set * 4 + w);
            uint64_t id = memo_hit(t, c, (uint64_t)(uintptr_t)ret, slot0);
            if (MSR_LIKELY(id != 0)) {
                t->memo_hits++;
                return id;
            }
            if (!m && !c->id) m = c;
        }
        if (!m) m = memo_at(t, set * 4 + (size_t)(t->memo_misses & 3));
        t->memo_misses++;
    }
    if (msr_cfg.unwind == MSR_UNW_FP) {
        d = fp_walk(t, ret, frame, ips, slots, max);
        known = slots;
    } else {
        int saved = errno;   /* libunwind may probe memory with syscalls */
        d = unw_walk(ret, ips, max);
        errno = saved;
    }
    if (d <= 0) return 0;
    uint64_t h = XXH3_64bits(ips, (size_t)d * sizeof ips[0]);
    struct msr_cache_ent *e = &t->cache[h & (MSR_CACHE_SIZE - 1)];
    uint64_t id;
    if (MSR_LIKELY(e->hash == h && e->id)) {
        id = e->id;
    } else {
        int saved = errno;
        t->cache_misses++;
        msr_lock_take(&msr_stack_lock);
        id = intern_locked(ips, d, h);
        msr_lock_release(&msr_stack_lock);
        errno = saved;
        e->hash = h;
        e->id = id;
    }
    if (m && id) memo_fill(t, m, (uint64_t)(uintptr_t)ret, slot0, ips, known, d, id);
    return id;
}
