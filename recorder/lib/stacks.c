/*
 * stacks.c — call-stack capture and interning for libmemscope.
 *
 * Capture: by default from cached .eh_frame rules (cfi.c), else libunwind's
 * unw_backtrace (for the stacks cfi.c gives up on), or a
 * frame-pointer walk (MEMSCOPE_UNWIND=fp) that only dereferences frame
 * addresses inside the thread's own stack bounds, each strictly above the
 * previous one, so a broken chain ends the walk instead of faulting. In fp
 * mode a stack whose caller lies in a module built without frame pointers
 * (most distribution binaries; decided once per module from its code, see
 * caller_nofp), or whose frame is outside the thread's known stack, is
 * unwound with libunwind. The recorder's own frames are cut by locating the
 * public entry point's return address. A validated memo of recent stacks
 * (per thread) skips the unwind for a call site seen before. Interning: the ip array is hashed (xxh3); a per-thread
 * direct-mapped cache maps hash -> stack id without any lock. On a miss, a
 * shared trie (outermost frame at the root) under a lock appends new
 * (parent, ip) nodes with consecutive ids from 1; the writer thread emits
 * them as STACK records before any event that uses them. A stack id names
 * its innermost node.
 *
 * Built with -DMSR_PROF, the capture path counts TSC cycles spent in
 * libunwind, interning and memo filling, printed with MEMSCOPE_DEBUG=1 at
 * exit (where a miss's time goes; off in every normal build).
 */
#include "recorder_internal.h"
#include <signal.h>
#include "fdguard.h"

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef MSR_UNWCHECK
#include <stdio.h>
#endif

#ifdef MSR_PROF
uint64_t msr_prof[8];
#endif
#define MAX_FRAMES 256
/* 8 M nodes less one: with the arena block's header, 128 MiB of address
 * space, not a 256 MiB size class; under an address-space limit as many as
 * fill a quarter of the recorder's share (msr_arena_budget) */
#define NODE_CAP ((8u << 20) - 1)
/* Nodes are appended: their pages are mapped 64 KiB at a time with one
 * MADV_POPULATE_WRITE instead of a fault each (a fault costs ~17 us on a
 * PVM guest, a populated page ~0.6 us; cc1 appends ~190 k nodes, 3 MiB). */
#define NODES_AHEAD ((64u << 10) / sizeof(ms_stack_node))
static size_t node_cap = NODE_CAP;

ms_stack_node *msr_nodes;
_Atomic uint64_t msr_nodes_count;
msr_lock msr_stack_lock;

struct full { uint64_t hash; uint64_t id; };

/* the trie's child index: (parent, ip) -> node id, a slot holding only the
 * id (the key is read from msr_nodes): 4 bytes a slot, not 16 */
static uint32_t *edges;
static size_t edges_cap, edges_used;
static struct full *fulls;
static size_t fulls_cap, fulls_used;
/* the path (outermost frame first) of the stack interned last */
static uint64_t path_ip[MAX_FRAMES], path_id[MAX_FRAMES];
static int path_d;

static void dyn_register(void);

int msr_stacks_init(void)
{
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    dyn_register();
    if (msr_cfg.unwind != MSR_UNW_NONE) msr_cfi_init();
    path_d = 0;
    size_t budget = msr_arena_budget();
    node_cap = NODE_CAP;
    if (budget) {
        size_t c = 1;
        while (c * 2 * sizeof *msr_nodes <= budget / 4) c *= 2;
        if (c - 1 < node_cap) node_cap = c - 1;
    }
    msr_nodes = msr_alloc(node_cap * sizeof *msr_nodes);
    edges_cap = 1u << 14;
    edges = msr_alloc(edges_cap * sizeof *edges);
    fulls_cap = 1u << 12;
    fulls = msr_alloc(fulls_cap * sizeof *fulls);
    if (edges) msr_prefault(edges, edges_cap * sizeof *edges);
    if (fulls) msr_prefault(fulls, fulls_cap * sizeof *fulls);
    return (msr_nodes && edges && fulls) ? 0 : -1;
}

void msr_stacks_atfork_child(int reset_lock)
{
    if (reset_lock) atomic_store(&msr_stack_lock.owner, 0);
    msr_cfi_atfork_child();
}

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
    uint32_t *ne = msr_alloc(ncap * sizeof *ne);
    if (!ne) return -1;
    msr_prefault(ne, ncap * sizeof *ne);
    for (size_t i = 0; i < edges_cap; i++) {
        uint32_t id = edges[i];
        if (!id) continue;
        const ms_stack_node *n = &msr_nodes[id - 1];
        size_t j = mix(n->parent, n->ip) & (ncap - 1);
        while (ne[j]) j = (j + 1) & (ncap - 1);
        ne[j] = id;
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
    msr_prefault(nf, ncap * sizeof *nf);
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
    /* the outer frames shared with the path interned last need no probe
     * of the cold child index (a new stack mostly differs from the one
     * before in its inner frames: on cc1 -O2 59 % of the 1.23 M levels of
     * its 29.7 k new stacks) */
    int lv = 0;
    while (lv < path_d && lv < d && path_ip[lv] == ips[d - 1 - lv]) parent = path_id[lv++];
    path_d = lv;
    for (int i = d - 1 - lv; i >= 0; i--) {
        if ((edges_used + 1) * 4 > edges_cap * 3 && edges_grow() != 0) return 0;
        size_t k = mix(parent, ips[i]) & (edges_cap - 1);
        uint64_t found = 0;
        while (edges[k]) {
            const ms_stack_node *n = &msr_nodes[edges[k] - 1];
            if (n->parent == parent && n->ip == ips[i]) {
                found = edges[k];
                break;
            }
            k = (k + 1) & (edges_cap - 1);
        }
        if (!found) {
            if (count >= node_cap) return parent;  /* table full: truncate */
            found = count + 1;
            if (!(count & (NODES_AHEAD - 1)))  /* map the next 64 KiB at once */
                msr_prefault(&msr_nodes[count], (node_cap - count < NODES_AHEAD ? node_cap - count : NODES_AHEAD)
                                                    * sizeof *msr_nodes);
            msr_nodes[count].parent = parent;
            msr_nodes[count].ip = ips[i];
            count++;
            atomic_store_explicit(&msr_nodes_count, count, memory_order_release);
            edges[k] = (uint32_t)found;
            edges_used++;
        }
        parent = found;
        path_ip[d - 1 - i] = ips[i];
        path_id[d - 1 - i] = found;
        path_d = d - i;
    }
    if ((fulls_used + 1) * 4 > fulls_cap * 3 && fulls_grow() != 0) return parent;
    j = h & (fulls_cap - 1);
    while (fulls[j].id) j = (j + 1) & (fulls_cap - 1);
    fulls[j].hash = h;
    fulls[j].id = parent;
    fulls_used++;
#ifdef MSR_PROF
    msr_prof[4] = fulls_used;
#endif
    return parent;
}

/* Frame-pointer walk from the entry point's frame. Every read lies inside
 * [lo, hi), the thread's stack, and every frame is above the previous
 * one; the bounds are compared as `fp > hi - 16`, never `fp + 16 > hi`,
 * which wraps for a garbage fp near 2^64 (binutils crashed so). */
static int fp_walk(msr_thread *t, void *ret, void *frame, uint64_t *ips, uint64_t *slots,
                   int max)
{
    int d = 0;
    slots[d] = (uint64_t)(uintptr_t)frame + 8;
    ips[d++] = (uint64_t)(uintptr_t)ret;
    uintptr_t lo = t->stack_lo, hi = t->stack_hi;
    uintptr_t prev = (uintptr_t)frame;
    if (!lo || hi - lo < 16 || prev < lo || prev > hi - 16) return d;
    uintptr_t fp = *(const uintptr_t *)prev;
    while (d < max) {
        if (fp <= prev || fp > hi - 16 || (fp & 7)) break;
        uintptr_t ip = ((const uintptr_t *)fp)[1];
        if (ip < 4096) break;
        slots[d] = fp + 8;
        ips[d++] = ip;
        prev = fp;
        fp = *(const uintptr_t *)fp;
    }
    return d;
}

/* Which modules have frame pointers (MEMSCOPE_UNWIND=fp). Debian's
 * binaries and libraries are built without them: there %rbp is a general
 * register, and a frame-pointer walk from a malloc called there ends after
 * one frame or wanders off. A stack whose caller (the entry point's return
 * address) lies in such a module is unwound with libunwind instead, and
 * the module is named once on stderr (unless MEMSCOPE_QUIET=1).
 *
 * The verdict is taken once per module from its code, in memory: the
 * .eh_frame_hdr search table lists every function start; 16 runs of 4
 * consecutive functions spread over the table are classified by their
 * first bytes (after an endbr64): `push %rbp` followed within 24 bytes by
 * `mov %rsp,%rbp` (a frame), `push %rbp` alone (%rbp used as a general
 * register: the mark of -fomit-frame-pointer), anything else (a frameless
 * leaf, or code that never touches %rbp); PLT stubs and _start are
 * skipped. Measured over every function of Debian 12's as, ld, libbfd,
 * libc, libm, libz, libzstd, python3.11 and cc1: frames 0-4 % and `push
 * %rbp` alone 4-9 %; code built -fno-omit-frame-pointer: frames 53 %
 * (-O2, the rest frameless leaves and shrink-wrapped entries) to 100 %
 * (-O0), `push %rbp` alone never. A module has no frame pointers when
 * `push %rbp` alone outnumbers frames or frames are under 1/5 of at least
 * 4 functions classified. Modules are found with _dl_find_object (lock-free,
 * no loader lock inside malloc); reads stay within the module's executable
 * PT_LOAD segments (from its ELF program headers in memory) and within the
 * page of each function start. Code outside any module (JIT) keeps the
 * frame-pointer walk. */
#define FPM_CAP 512
struct fpm { uintptr_t start, end, eh; int nofp; };
static struct fpm fpm_tab[FPM_CAP];
static _Atomic uint32_t fpm_used[FPM_CAP];   /* 0 empty, 1 filling, 2 ready */

static int prologue_class(const unsigned char *p, size_t n)
{
    if (n >= 4 && p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa) {
        p += 4;
        n -= 4;
    }
    if (n < 2) return 0;
    if (p[0] == 0xff && (p[1] == 0x25 || p[1] == 0x35)) return -1;      /* PLT */
    if (n >= 3 && p[0] == 0xf2 && p[1] == 0xff && p[2] == 0x25) return -1;
    if (p[0] == 0x31 && p[1] == 0xed) return -1;            /* _start: xor %ebp */
    if (p[0] != 0x55) return 0;
    for (size_t i = 1; i + 3 <= n && i < 24; i++)
        if (p[i] == 0x48 && ((p[i + 1] == 0x89 && p[i + 2] == 0xe5) ||
                             (p[i + 1] == 0x8b && p[i + 2] == 0xec)))
            return 1;
    return 2;
}

/* executable segments of the module mapped at start (its ELF header) */
static int exec_segments(uintptr_t start, uintptr_t bias, uintptr_t *lo, uintptr_t *hi, int max)
{
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)start;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_phentsize != sizeof(ElfW(Phdr)) ||
        eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(ElfW(Phdr)) > 4096)
        return 0;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(start + eh->e_phoff);
    int k = 0;
    for (int i = 0; i < eh->e_phnum && k < max; i++) {
        if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X) || !(ph[i].p_flags & PF_R))
            continue;
        lo[k] = bias + ph[i].p_vaddr;
        hi[k] = lo[k] + ph[i].p_memsz;
        k++;
    }
    return k;
}

/* The binary-search table of an .eh_frame_hdr (version 1, fde_count
 * udata4, table datarel|sdata4: 8-byte entries relative to h), or NULL. */
const unsigned char *msr_eh_table(const unsigned char *h, uint32_t *count)
{
    if (h[0] != 1 || h[2] != 0x03 || h[3] != 0x3b) return NULL;
    size_t ptr_len;
    switch (h[1] & 0x0f) {
    case 0x03: case 0x0b: ptr_len = 4; break;
    case 0x00: case 0x04: case 0x0c: ptr_len = 8; break;
    default: return NULL;
    }
    memcpy(count, h + 4 + ptr_len, 4);
    return h + 8 + ptr_len;
}

static int module_nofp(const struct dl_find_object *o)
{
    const unsigned char *h = o->dlfo_eh_frame;
    uintptr_t start = (uintptr_t)o->dlfo_map_start, end = (uintptr_t)o->dlfo_map_end;
    uintptr_t xlo[8], xhi[8];
    int nx = o->dlfo_link_map ? exec_segments(start, o->dlfo_link_map->l_addr, xlo, xhi, 8) : 0;
    if (!h || !nx || (uintptr_t)h < start || (uintptr_t)h > end - 16) return 0;
    uint32_t count;
    const unsigned char *tab = msr_eh_table(h, &count);
    if (!tab || count < 2 || (uintptr_t)tab + (uint64_t)count * 8 > end) return 0;
    int fp = 0, push = 0, other = 0;
    uint32_t runs = count / 4 < 16 ? (count + 3) / 4 : 16;
    for (uint32_t r = 0; r < runs; r++) {
        uint32_t first = (uint32_t)((uint64_t)count * r / runs);
        for (uint32_t i = first; i < first + 4 && i + 1 < count; i++) {
            int32_t off, next;
            memcpy(&off, tab + (size_t)i * 8, 4);
            memcpy(&next, tab + (size_t)(i + 1) * 8, 4);
            uintptr_t f = (uintptr_t)h + (intptr_t)off, g = (uintptr_t)h + (intptr_t)next;
            int in = 0;
            for (int x = 0; x < nx && !in; x++) in = f >= xlo[x] && f < xhi[x];
            if (!in || g <= f) continue;
            size_t n = 32;
            if (g - f < n) n = g - f;
            uintptr_t page_end = (f | 4095) + 1;
            if (page_end - f < n) n = page_end - f;
            int c = prologue_class((const unsigned char *)f, n);
            if (c == 1) fp++;
            else if (c == 2) push++;
            else if (c == 0) other++;
        }
    }
    int counted = fp + push + other;
    return push > fp || (counted >= 4 && fp * 5 < counted);
}

static void say_nofp(const struct dl_find_object *o)
{
    if (msr_cfg.quiet) return;
    char exe[1024];
    const char *name = o->dlfo_link_map ? o->dlfo_link_map->l_name : NULL;
    if (!name || !*name) {
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[k > 0 ? k : 0] = 0;
        name = k > 0 ? exe : "the main program";
    }
    msr_say(name, " has no frame pointers: its stacks are unwound with libunwind",
            " (MEMSCOPE_UNWIND=fp)");
}

/* Does the code at ip lie in a module without frame pointers? The table
 * is filled once per module (slot states: 0 empty, 1 being filled, 2
 * ready) and read without a lock. */
static int caller_nofp(uint64_t ip)
{
    struct dl_find_object o;
    if (_dl_find_object((void *)(uintptr_t)ip, &o) != 0) return 0;
    uintptr_t start = (uintptr_t)o.dlfo_map_start;
    size_t j = (size_t)((start >> 12) * 0x9E3779B97F4A7C15ull >> 40) & (FPM_CAP - 1);
    for (size_t probe = 0; probe < FPM_CAP; probe++, j = (j + 1) & (FPM_CAP - 1)) {
        uint32_t u = atomic_load_explicit(&fpm_used[j], memory_order_acquire);
        if (u == 0) {
            if (!atomic_compare_exchange_strong(&fpm_used[j], &u, 1)) {
                if (u == 1) return module_nofp(&o);
                u = 2;
            } else {
                int saved = errno;
                struct fpm *e = &fpm_tab[j];
                e->start = start;
                e->end = (uintptr_t)o.dlfo_map_end;
                e->eh = (uintptr_t)o.dlfo_eh_frame;
                e->nofp = module_nofp(&o);
                atomic_store_explicit(&fpm_used[j], 2, memory_order_release);
                if (e->nofp) say_nofp(&o);
                errno = saved;
                return e->nofp;
            }
        }
        if (u == 1) return module_nofp(&o);   /* being filled: maybe ours */
        const struct fpm *e = &fpm_tab[j];
        if (e->start == start && e->end == (uintptr_t)o.dlfo_map_end &&
            e->eh == (uintptr_t)o.dlfo_eh_frame)
            return e->nofp;
    }
    return module_nofp(&o);                   /* table full: decide again */
}

/* libunwind 1.6 finds the unwind table of an ip it has not seen (every
 * new ip of a thread, and every ip again each time its per-thread cache
 * grows, which empties it) with dl_iterate_phdr inside two
 * rt_sigprocmask(SIG_SETMASK, all) system calls: on cc1 -O2 53 k pairs,
 * ~2 us a pair here (page-table isolation). It asks its dynamic unwind
 * info list (_U_dyn_register, meant for JITs) first, and an entry of format
 * UNW_INFO_FORMAT_REMOTE_TABLE over a module's .eh_frame_hdr search table
 * is searched by the very routine its dl_iterate_phdr path ends in
 * (dwarf_search_unwind_table), so the stacks do not change. The modules
 * loaded when recording starts are registered (modules loaded later take
 * libunwind's own path); the first dlclose withdraws them all, for good,
 * and waits for the unwinds in flight, before the module goes. */
#define DYN_MAX 128
static unw_dyn_info_t dyn_tab[DYN_MAX];
static int dyn_n;
static _Atomic int dyn_state;          /* 0 none, 1 registered, 2 withdrawn */
static _Atomic int dyn_inflight;       /* unwinds that may read dyn_tab */

static int dyn_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    (void)arg;
    const unsigned char *h = NULL;
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_EH_FRAME)
            h = (const unsigned char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    uint32_t count = 0;
    const unsigned char *tab = h ? msr_eh_table(h, &count) : NULL;
    if (!tab || !count) return 0;
    for (int i = 0; i < info->dlpi_phnum && dyn_n < DYN_MAX; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        unw_dyn_info_t *di = &dyn_tab[dyn_n++];
        memset(di, 0, sizeof *di);
        di->start_ip = info->dlpi_addr + ph->p_vaddr;
        di->end_ip = di->start_ip + ph->p_memsz;
        di->format = UNW_INFO_FORMAT_REMOTE_TABLE;
        di->u.rti.segbase = (unw_word_t)(uintptr_t)h;
        di->u.rti.table_data = (unw_word_t)(uintptr_t)tab;
        di->u.rti.table_len = (unw_word_t)count * 8 / sizeof(unw_word_t);
    }
    return 0;
}

static void dyn_register(void)
{
    int zero = 0;
    if (msr_cfg.unwind == MSR_UNW_NONE || !atomic_compare_exchange_strong(&dyn_state, &zero, 1))
        return;
    dl_iterate_phdr(dyn_module, NULL);
    for (int i = 0; i < dyn_n; i++) _U_dyn_register(&dyn_tab[i]);
}

void msr_unw_dyn_withdraw(int wait)
{
    int one = 1;
    if (!atomic_compare_exchange_strong(&dyn_state, &one, 2)) return;
    for (int i = 0; i < dyn_n; i++) _U_dyn_cancel(&dyn_tab[i]);
    atomic_thread_fence(memory_order_seq_cst);
    while (wait && atomic_load(&dyn_inflight)) sched_yield();
}

/* Validated stack memo. Keyed by the entry point's return address and the
 * depth of the stack slot holding it (its distance to the top of the
 * thread's stack); remembers where the return addresses of the last full
 * unwind from there were found (each slot's distance in words from the
 * previous one) and a 64-bit check value of those return addresses
 * (memo_sum). A later call from the same place is the same stack when the
 * words at the remembered slots give the same value (same call chain at
 * the same stack positions; a different chain passes for it only if its
 * differences happen to cancel in the sum modulo 2^64); then the unwind is
 * skipped. A hit reads the set's tags (one cache line) and one entry: a
 * 26-byte header followed by the distances, one byte each (two when one
 * exceeds 255 words, a frame of 2 KiB or more), in one aligned block of
 * whole cache lines: 128 bytes for the default depth of 64, so a hit
 * touches three lines besides the stack (on cc1 -O2 the memo's own cache
 * misses were most of a hit's time when header and distances lay in
 * separate arrays). A stack whose distances do not fit its entry (two-byte
 * distances beyond 51 frames at the default depth) is not memoised.
 * 16384 entries take 2.2 MiB of address space, resident only as far as a
 * thread fills it. Depths, not addresses: a new thread running
 * the same code has the same frames at the same depths, and takes its
 * state (memo included) from an exited thread (interpose.c's pool), so a
 * program that creates many short threads unwinds each call site once,
 * not once per thread (libunwind's unw_backtrace also sets up a 256 KiB
 * cache in every thread it runs in). Slots are read only inside the
 * current thread's stack bounds, above the current frame. */
struct memo_ent {
    uint64_t ret0, hash;
    uint32_t off0, id;
    uint8_t n;                         /* distances: depth - 1 */
    uint8_t wide;                      /* distances are uint16_t */
};                                     /* then the distances */
#define MEMO_HDR (offsetof(struct memo_ent, wide) + 1)
static inline uint8_t *memo_g8(const struct memo_ent *m) { return (uint8_t *)m + MEMO_HDR; }
static inline uint16_t *memo_g16(const struct memo_ent *m) { return (uint16_t *)(void *)((uint8_t *)m + MEMO_HDR); }
/* a frame distance: return address << 16 | gap (user addresses < 2^48) */
typedef uint64_t memo_frame;
#ifndef MSR_MEMO_KEYFRAMES
#define MSR_MEMO_KEYFRAMES 2
#endif
#ifndef MEMO_FRAMES
#define MEMO_FRAMES 16384
#endif
struct msr_memo {
    uint32_t tag[MSR_MEMO_SIZE];       /* a set's tags share a cache line */
    memo_frame fr[MEMO_FRAMES];        /* return address -> next slot's gap */
    unsigned char ent[];               /* 64 bytes of slack, then entries
                                          aligned to 64 (memo_ents) */
};
static int memo_on = -1;
static size_t memo_esize;              /* bytes an entry, a multiple of 64 */

static inline size_t memo_ent_size(void)
{
    if (!memo_esize) {
        size_t n = MEMO_HDR + (size_t)msr_cfg.max_depth - 1;
        memo_esize = (n + 63) & ~(size_t)63;
        if (memo_esize < 128) memo_esize = 128;
    }
    return memo_esize;
}

size_t msr_memo_bytes(void)
{
    if (memo_on < 0) {
        const char *v = secure_getenv("MEMSCOPE_STACK_MEMO");
        memo_on = msr_cfg.unwind != MSR_UNW_NONE && !(v && !strcmp(v, "0"));
    }
    if (!memo_on) return 0;
    return sizeof(struct msr_memo) + 64 + (size_t)MSR_MEMO_SIZE * memo_ent_size();
}

static inline struct memo_ent *memo_ent(const msr_thread *t, size_t i)
{
    uintptr_t base = ((uintptr_t)t->memo->ent + 63) & ~(uintptr_t)63;
    return (struct memo_ent *)(base + i * memo_esize);
}

/* The set of a call: one call site (same return address and depth) is
 * reached from many callers (helpers such as xmalloc called from
 * everywhere, identical-code folding, recursion), more than a set has
 * ways, so the key also takes the return addresses of the next
 * MSR_MEMO_KEYFRAMES - 1 frames. Their slots are found without unwinding:
 * a function's frame has one size (save for alloca), so the distance from
 * the slot of a return address into it to the next return address is
 * remembered per return address (fr, direct-mapped, filled by memo_fill).
 * A wrong or missing distance only changes the key: a miss, never a wrong
 * stack (memo_hit checks every frame). */
static inline size_t memo_frame_slot(uint64_t ret)
{
    return (size_t)((ret * 0x9E3779B97F4A7C15ull) >> 40) & (MEMO_FRAMES - 1);
}

static inline uint64_t memo_key(const msr_thread *t, uint64_t ret0, uintptr_t slot0,
                                uint64_t off0)
{
    uint64_t k = (ret0 ^ (off0 << 7)) * 0x9E3779B97F4A7C15ull;
    uintptr_t p = slot0, top = t->stack_hi - 8;
    uint64_t r = ret0;
    for (int lv = 1; lv < MSR_MEMO_KEYFRAMES; lv++) {
        memo_frame f = t->memo->fr[memo_frame_slot(r)];
        uint64_t gap = f & 0xFFFF;
        if (f >> 16 != r || !gap || gap > (top - p) / 8) break;
        p += gap * 8;
        r = *(const uint64_t *)p;
        k = (k ^ r) * 0xBF58476D1CE4E5B9ull;
        k ^= k >> 31;
    }
    return k;
}

/* The memo's check value of the return addresses above the first: a
 * multilinear hash (word k times a fixed random odd 64-bit constant k,
 * summed, then mixed). Two different chains collide only when the
 * constants weighted by the words' differences cancel modulo 2^64. The
 * products are independent, so they run side by side while the words
 * are gathered: no copy, no call (XXH3 of the copied words was 7 % of the
 * recorder's CPU on pairs). */
static const uint64_t memo_k[MAX_FRAMES] = {
#include "memo_keys.h"
};

static inline uint64_t memo_mix(uint64_t h, uint32_t n)
{
    h ^= (uint64_t)n * 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}

static uint64_t memo_sum(const uint64_t *w, uint32_t n)
{
    uint64_t a = 0, b = 0;
    uint32_t k = 0;
    for (; k + 2 <= n; k += 2) {
        a += w[k] * memo_k[k];
        b += w[k + 1] * memo_k[k + 1];
    }
    if (k < n) a += w[k] * memo_k[k];
    return memo_mix(a + b, n);
}

/* The check value of the words at the slots the distances G (of type
 * T) lead to from slot0. */
#define MEMO_GATHER(T, G, n, slot0, out)                                   \
    do {                                                                   \
        const T *g_ = (G);                                                 \
        uintptr_t p_ = (slot0);                                            \
        uint64_t a_ = 0, b_ = 0;                                           \
        uint32_t k_ = 0;                                                   \
        for (; k_ + 2 <= (n); k_ += 2) {                                   \
            p_ += (uintptr_t)g_[k_] * 8;                                   \
            a_ += *(const uint64_t *)p_ * memo_k[k_];                      \
            p_ += (uintptr_t)g_[k_ + 1] * 8;                               \
            b_ += *(const uint64_t *)p_ * memo_k[k_ + 1];                  \
        }                                                                  \
        if (k_ < (n)) {                                                    \
            p_ += (uintptr_t)g_[k_] * 8;                                   \
            a_ += *(const uint64_t *)p_ * memo_k[k_];                      \
        }                                                                  \
        (out) = memo_mix(a_ + b_, (n));                                    \
    } while (0)

/* off0 = stack_hi - slot0, with slot0 inside the stack (checked by the
 * caller): every slot of an entry lies in [slot0, stack_hi - 8]. */
static inline uint64_t memo_hit(msr_thread *t, size_t i, uint64_t ret0, uintptr_t slot0,
                                uint64_t off0)
{
    const struct memo_ent *m = memo_ent(t, i);
    if (m->ret0 != ret0 || m->off0 != off0 || !m->id) return 0;
    uint32_t n = m->n;
    uint64_t h;
    if (MSR_LIKELY(!m->wide)) MEMO_GATHER(uint8_t, memo_g8(m), n, slot0, h);
    else MEMO_GATHER(uint16_t, memo_g16(m), n, slot0, h);
    if (h != m->hash) return 0;
    return m->id;
}

/* Remember a stack just unwound: find the slot of each return address
 * (known_slots; else one frame distance up when the distance table knows
 * the frame and the word there is that return address; else scanning up
 * from the previous slot: 800 words a miss on cc1, 16 with the table),
 * learn the frame distances, then store the entry in its set (an empty
 * way, else way). */
static void memo_fill(msr_thread *t, uint64_t ret0, uintptr_t slot0, const uint64_t *ips,
                      const uint64_t *known_slots, int d, uint64_t id, size_t way)
{
    uintptr_t hi = t->stack_hi;
    uint16_t gaps[MAX_FRAMES];
    if (*(const uint64_t *)slot0 != ret0 || ips[0] != ret0) return;
    if (hi - slot0 > UINT32_MAX || id > UINT32_MAX) return;
    uintptr_t prev = slot0;
    for (int k = 1; k < d; k++) {
        uintptr_t p;
        /* with the slots known, only the first frame's distance is looked
         * up and learnt (memo_key's); the others serve the search below */
        int learn = !known_slots || k == 1;
        memo_frame f = learn ? t->memo->fr[memo_frame_slot(ips[k - 1])] : 0;
        uint64_t g = f & 0xFFFF;
        if (known_slots) {
            p = known_slots[k];
        } else if (f >> 16 == ips[k - 1] && g && g <= (hi - 8 - prev) / 8 &&
                   *(const uint64_t *)(prev + g * 8) == ips[k]) {
            p = prev + g * 8;          /* the frame's size, seen before */
        } else {
            uintptr_t pos = prev + 8;
            uintptr_t lim = pos + 65536 < hi ? pos + 65536 : hi;
            p = pos;
            const uint64_t want = ips[k];
            while (p + 32 <= lim) {    /* four words per test */
                const uint64_t *w = (const uint64_t *)p;
                if ((w[0] == want) | (w[1] == want) | (w[2] == want) | (w[3] == want)) break;
                p += 32;
            }
            while (p + 8 <= lim && *(const uint64_t *)p != want) p += 8;
#ifdef MSR_PROF
            msr_prof[3] += (p - pos) / 8;
#endif
            if (p + 8 > lim) return;
        }
        if (p <= prev || p > hi - 8 || ((p - prev) & 7) || (p - prev) / 8 > UINT16_MAX) return;
        gaps[k - 1] = (uint16_t)((p - prev) / 8);
        if (learn && gaps[k - 1] != g && !(ips[k - 1] >> 48))
            t->memo->fr[memo_frame_slot(ips[k - 1])] = ips[k - 1] << 16 | gaps[k - 1];
        prev = p;
    }
    int wide = 0;
    for (int k = 0; k < d - 1; k++) wide |= gaps[k] > UINT8_MAX;
    if ((size_t)(d - 1) > (memo_esize - MEMO_HDR) / (wide ? 2 : 1)) return;
    uint64_t off0 = hi - slot0;
    uint64_t key = memo_key(t, ret0, slot0, off0);
    size_t set = ((size_t)(key >> 40) & (MSR_MEMO_SIZE / MSR_MEMO_WAYS - 1)) * MSR_MEMO_WAYS;
    size_t i = set + way;
    for (size_t w = 0; w < MSR_MEMO_WAYS; w++)
        if (!t->memo->tag[set + w]) {
            i = set + w;
            break;
        }
    t->memo->tag[i] = 0;
    struct memo_ent *m = memo_ent(t, i);
    m->ret0 = ret0;
    m->off0 = (uint32_t)off0;
    m->n = (uint8_t)(d - 1);
    m->wide = (uint8_t)wide;
    for (int k = 0; k < d - 1; k++) {
        if (wide) memo_g16(m)[k] = gaps[k];
        else memo_g8(m)[k] = (uint8_t)gaps[k];
    }
    m->hash = memo_sum(ips + 1, (uint32_t)(d - 1));
    m->id = (uint32_t)id;
    t->memo->tag[i] = (uint32_t)key | 1;
}

/* An idle thread's stack cache and memo pages go back to the kernel
 * (drain.c, release_idle). Safe at any time, even while the thread or the
 * next owner of these blocks (they are only ever a cache or a memo, or on
 * their spare list) uses them: every word reads back as its value or 0, a
 * cache entry with hash or id 0 is a miss, a memo tag 0 an empty way, an
 * entry written in part has ret0 (written first) 0 or is whole, and a
 * frame distance 0 changes only the key. */
void msr_stacks_release_pages(msr_thread *t)
{
    /* (the first partial page, which holds a spare list's link, stays) */
    struct msr_cache_ent *c = __atomic_load_n(&t->cache, __ATOMIC_RELAXED);
    struct msr_memo *m = __atomic_load_n(&t->memo, __ATOMIC_RELAXED);
    if (c) msr_release_pages(c, (size_t)MSR_CACHE_SIZE * sizeof *c);
    if (m) msr_release_pages(m, msr_memo_bytes());
}

static int unw_walk(void *ret, uint64_t *ips, int max)
{
    void *buf[max + 8];
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

#ifdef MSR_UNWCHECK
/* test builds (-DMSR_UNWCHECK): every stack of cfi.c's walk is compared
 * with libunwind's, mismatches counted and the first few printed */
uint64_t msr_unwcheck_bad;
static void unw_check(void *ret, const uint64_t *ips, int d, int max)
{
    uint64_t u[MAX_FRAMES];
    int saved = errno;
    atomic_fetch_add(&dyn_inflight, 1);
    int n = unw_walk(ret, u, max);
    atomic_fetch_sub(&dyn_inflight, 1);
    errno = saved;
    if (n == d && !memcmp(u, ips, (size_t)d * sizeof *u)) return;
    if (msr_unwcheck_bad++ >= 5) return;
    char line[200];
    int k = 0;
    while (k < n && k < d && u[k] == ips[k]) k++;
    snprintf(line, sizeof line, "unwcheck: cfi %d frames, libunwind %d, first difference at %d: %#llx vs %#llx",
             d, n, k, k < d ? (unsigned long long)ips[k] : 0ull, k < n ? (unsigned long long)u[k] : 0ull);
    msr_say("debug: ", line, "");
}
#endif

/* Off the thread's own stack (a signal stack, a coroutine's, a thread of
 * unknown bounds) only libunwind can unwind, and it needs ~11 KiB of stack
 * below the entry point: a handler on an 8 KiB sigaltstack or a coroutine
 * on a 16 KiB one had the bytes below its stack overwritten (a heap block's
 * header: "munmap_chunk(): invalid pointer", or SIGSEGV). Only a signal
 * stack tells its bounds (sigaltstack): libunwind runs there when UNW_ROOM
 * or more lies below the frame; anywhere else the stack is the caller's
 * return address alone. */
static uintptr_t foreign_room(uintptr_t frame)
{
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0 || !(ss.ss_flags & SS_ONSTACK)) return 0;
    uintptr_t lo = (uintptr_t)ss.ss_sp;
    return frame > lo && frame <= lo + ss.ss_size ? frame - lo : 0;
}

/* On the thread's own stack the room below the entry point is known: a
 * thread of 16 KiB (PTHREAD_STACK_MIN) deep in its calls took a SIGSEGV in
 * the unwinder. Below SLOW_ROOM the stack is the caller's return address
 * alone; below UNW_ROOM the cached rules unwind it (~3 KiB with the frame
 * arrays at the default depth) but libunwind (~11 KiB) does not. */
#define SLOW_ROOM ((uintptr_t)6 << 10)
#define UNW_ROOM ((uintptr_t)24 << 10)

#ifdef MSR_PROF
static inline uint64_t tsc_(void) { unsigned lo, hi; __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
#define P0(x) uint64_t x = tsc_()
#define P1(i, x) msr_prof[i] += tsc_() - x
#else
#define P0(x)
#define P1(i, x)
#endif
/* The stack id of ips[0..d) through the thread's stack cache (the global
 * table, under its lock, on a miss). */
static uint64_t stack_id_of(msr_thread *t, const uint64_t *ips, int d)
{
    uint64_t h = XXH3_64bits(ips, (size_t)d * sizeof ips[0]);
    /* no cache after the thread's exit hint (interpose.c) */
    struct msr_cache_ent none = {0, 0};
    struct msr_cache_ent *e = t->cache ? &t->cache[h & (MSR_CACHE_SIZE - 1)] : &none;
    uint64_t id;
    if (MSR_LIKELY(e->hash == h && e->id)) {
        id = e->id;
    } else {
        int saved = errno;
        t->cache_misses++;
        P0(b);
        msr_lock_take(&msr_stack_lock);
        id = intern_locked(ips, d, h);
        P1(1, b);
        msr_lock_release(&msr_stack_lock);
        errno = saved;
        e->hash = h;
        e->id = id;
    }
    return id;
}

/* A stack the memo did not have: unwound (fp, cached rules, or
 * libunwind), named, memoised (fill). Its own frame holds the 4 KiB of
 * frame arrays, so the memo's hits (msr_capture_stack) and the one-frame
 * stacks of foreign stacks do not take that much of a small stack. */
__attribute__((noinline))
static uint64_t capture_slow(msr_thread *t, void *ret, void *frame, int on_stack, int fill, uintptr_t room)
{
    int max = msr_cfg.max_depth;
    uint64_t ips[max], slots[max];
    const uint64_t *known = NULL;
    int d;
    uintptr_t slot0 = (uintptr_t)frame + 8;
    /* without its validation pipe (fdguard.c) libunwind must not run: its
     * address checks fail and every backtrace takes its slow path */
    P0(w);
    if (msr_cfg.unwind == MSR_UNW_FP &&
        (msr_unw_nopipe || (on_stack && !caller_nofp((uint64_t)(uintptr_t)ret)))) {
        d = fp_walk(t, ret, frame, ips, slots, max);
        known = slots;
    } else if (on_stack &&
               (d = msr_cfi_walk(t, (uint64_t)(uintptr_t)ret, (uintptr_t)frame, ips, slots,
                                 max)) > 0) {
        known = slots;
        t->cfi_walks++;
#ifdef MSR_PROF
        msr_prof[5] += d; msr_prof[6]++;
#endif
#ifdef MSR_UNWCHECK
        unw_check(ret, ips, d, max);
#endif
    } else if (room < UNW_ROOM) {
        ips[0] = (uint64_t)(uintptr_t)ret;      /* no room for libunwind */
        d = 1;
    } else {
        int saved = errno;   /* libunwind may probe memory with syscalls */
        P0(a);
        atomic_fetch_add(&dyn_inflight, 1);
        d = unw_walk(ret, ips, max);
        atomic_fetch_sub(&dyn_inflight, 1);
        P1(0, a);
#ifdef MSR_PROF
        msr_prof[5] += d; msr_prof[6]++;
#endif
        errno = saved;
    }
    P1(7, w);
    if (d <= 0) return 0;
    uint64_t id = stack_id_of(t, ips, d);
    P0(c);
    if (fill && id)
        memo_fill(t, (uint64_t)(uintptr_t)ret, slot0, ips, known, d, id,
                  (size_t)(t->memo_misses & (MSR_MEMO_WAYS - 1)));
    P1(2, c);
    return id;
}

uint64_t msr_stack_of_ip(msr_thread *t, uint64_t ip)
{
    return msr_cfg.unwind == MSR_UNW_NONE || !ip ? 0 : stack_id_of(t, &ip, 1);
}

uint64_t msr_capture_stack(msr_thread *t, void *ret, void *frame)
{
    int fill = 0;
    uintptr_t slot0 = (uintptr_t)frame + 8;
    /* a thread attached inside pthread_getattr_np reads its bounds at its
     * first stack outside one (interpose.c); never on the memo's path */
    if (MSR_UNLIKELY(!t->stack_lo) && t->bounds_pending && !msr_tls.in_getattr) msr_thread_bounds(t);
    /* the entry point's frame lies in the thread's stack (not on a signal
     * stack, a coroutine's, or a thread of unknown bounds) */
    int on_stack = t->stack_lo && slot0 >= t->stack_lo && t->stack_hi >= 16 &&
                   slot0 <= t->stack_hi - 8;
    if (msr_cfg.unwind == MSR_UNW_NONE) return 0;
    if (t->memo && on_stack) {
        /* MSR_MEMO_WAYS-way set (memo_key); the set's 32-bit tags (0 =
         * empty) are compared first, in one cache line. Measured on cc1
         * -O2 (1.17 M allocations, 29.7 k distinct stacks), misses: 128
         * entries 4-way keyed by the call site 530 k, 2048 16-way 218 k,
         * 8192 16-way 135 k; keyed by call site and caller's return
         * address 8192 69 k, 16384 48 k (20 k fewer unwinds of ~4.4 us
         * for +1.3 MiB resident), by three frames 84 k (the
         * frame-distance table thrashes). */
        uint64_t off0 = t->stack_hi - slot0;
        uint64_t k = memo_key(t, (uint64_t)(uintptr_t)ret, slot0, off0);
        size_t set = ((size_t)(k >> 40) & (MSR_MEMO_SIZE / MSR_MEMO_WAYS - 1)) * MSR_MEMO_WAYS;
        uint32_t tag = (uint32_t)k | 1;
        const uint32_t *tags = t->memo->tag + set;
        for (size_t w = 0; w < MSR_MEMO_WAYS; w++) {
            if (tags[w] != tag) continue;
            uint64_t id = memo_hit(t, set + w, (uint64_t)(uintptr_t)ret, slot0, off0);
            if (MSR_LIKELY(id != 0)) {
                t->memo_hits++;
                return id;
            }
        }
        fill = 1;
        t->memo_misses++;
    }
    /* off the thread's stack only libunwind could unwind, and its ~11 KiB
     * may not be there; on it, the room below is known */
    uintptr_t room = on_stack ? slot0 - t->stack_lo
                   : msr_cfg.unwind == MSR_UNW_FP && msr_unw_nopipe ? UNW_ROOM
                   : foreign_room((uintptr_t)frame);
    if (room < SLOW_ROOM) {
        uint64_t ip = (uint64_t)(uintptr_t)ret;
        return stack_id_of(t, &ip, 1);
    }
    return capture_slow(t, ret, frame, on_stack, fill, room);
}
