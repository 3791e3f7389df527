/*
 * arena.c — the recorder's private memory, and a small owner-aware lock.
 *
 * Everything libmemscope owns (thread rings, stack tables, the live table,
 * the format writer's buffers) comes from one large MAP_NORESERVE mapping
 * carved with power-of-two size classes. Why: the recorder must never call
 * the application's malloc (reentrancy, signal handlers, a corrupt heap at
 * crash time), its memory must be one address range the leak scanner can
 * exclude, and untouched reservations cost no RSS. Freed blocks of a page
 * or more give all their pages back (MADV_DONTNEED) and wait on a spare
 * stack outside the region, so a table that grows by steps (the live
 * table's 64 segments, zstd's workspace) leaves no resident page behind:
 * in-block free-list links kept one page per freed block (1 M live blocks:
 * 1.8 MiB of 4 KiB pages). A full spare stack falls back to the link.
 * The exception: the trace writer's buffers and zstd's workspace, freed and
 * taken again all the time while a trace is written, keep their pages
 * (msr_free_keep, a few per size class) until the trace is closed
 * (msr_arena_trim). When the lock is held by the
 * calling thread itself (a signal interrupted the arena), requests fall back
 * to a direct mmap so the crash path never deadlocks.
 */
#include "recorder_internal.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HDR 16u
#define MIN_SHIFT 5
#define MAX_SHIFT 40
#define DIRECT_CLASS 0xFFu
#define PAGE_SHIFT 12             /* freed blocks this big give their pages back */
#define SPARES 128                /* per class, blocks held outside the region */
#define WARM 4                    /* per class, msr_free_keep's blocks */

struct hdr { uint32_t cls; uint32_t magic; uint64_t size; };
#define MAGIC 0x6d73726fu

static char *region, *bump, *region_end;
static void *free_lists[MAX_SHIFT + 1];
static void *spare[MAX_SHIFT + 1 - PAGE_SHIFT][SPARES]; /* all pages dropped */
static unsigned n_spare[MAX_SHIFT + 1 - PAGE_SHIFT];
static void *warm[MAX_SHIFT + 1][WARM];  /* pages kept: for msr_alloc_raw */
static unsigned n_warm[MAX_SHIFT + 1];
static msr_lock arena_lock;

int msr_gettid(void) { return (int)syscall(SYS_gettid); }

MSR_TLS char msr_lock_self;

void msr_lock_take(msr_lock *l)
{
    uintptr_t me = msr_lock_me(), zero = 0;
    int spins = 0;
    while (!atomic_compare_exchange_weak_explicit(&l->owner, &zero, me,
                                                   memory_order_acquire,
                                                   memory_order_relaxed)) {
        zero = 0;
        if (++spins > 64) {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        } else {
            sched_yield();
        }
    }
}

int msr_lock_take_unless_mine(msr_lock *l)
{
    if (msr_lock_mine(l)) return 0;
    msr_lock_take(l);
    return 1;
}

int msr_lock_try_for(msr_lock *l, uint64_t ms)
{
    uintptr_t me = msr_lock_me(), zero = 0;
    uint64_t deadline = msr_mono_ns() + ms * 1000000ull;
    for (;;) {
        if (atomic_compare_exchange_strong_explicit(&l->owner, &zero, me,
                                                    memory_order_acquire,
                                                    memory_order_relaxed))
            return 1;
        if (zero == me) return -1;
        zero = 0;
        if (msr_mono_ns() > deadline) return 0;
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

void msr_lock_release(msr_lock *l)
{
    atomic_store_explicit(&l->owner, 0, memory_order_release);
}

/* Under an address-space limit (RLIMIT_AS, `ulimit -v`: fuzzers and batch
 * systems set one) every byte of the region counts against the program's
 * own mappings, reserved or not: a 256 MiB region and a node table beside
 * it made a program that ran in 600 MiB fail its malloc. The data limit
 * (RLIMIT_DATA, `ulimit -d`) counts every private writable mapping the
 * same way since Linux 4.7 (the 64 GiB region made a program's 40 MiB
 * malloc fail under `ulimit -d 300000`). Under the smaller of the two the
 * region is 1/AS_SHARE of it and nothing is mapped beside it but small
 * blocks (direct_alloc); what does not fit is not recorded (END counts it),
 * and a limit under AS_SHARE * AS_MIN leaves the recorder off. */
#define AS_SHARE 8
#define AS_MIN ((size_t)16 << 20)
#define AS_DIRECT_MAX ((size_t)256 << 10)
static size_t as_budget;                /* the region's size under a limit, else 0 */
static int as_starved;                  /* a limit too small to record under */

static int reserve(void)
{
    struct rlimit rl, rd;
    if (getrlimit(RLIMIT_AS, &rl) != 0) rl.rlim_cur = RLIM_INFINITY;
    if (getrlimit(RLIMIT_DATA, &rd) == 0 && rd.rlim_cur < rl.rlim_cur) rl.rlim_cur = rd.rlim_cur;
    if (rl.rlim_cur != RLIM_INFINITY) {
        size_t b = (size_t)(rl.rlim_cur / AS_SHARE) & ~(((size_t)2 << 20) - 1);
        if (b > ((size_t)64 << 30)) b = (size_t)64 << 30;
        if (b < AS_MIN) {
            as_starved = 1;
            return -1;
        }
        void *p = mmap(NULL, b, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            as_starved = 1;
            return -1;
        }
        region = bump = p;
        region_end = region + b;
        as_budget = b;
        return 0;
    }
    static const size_t sizes[] = {(size_t)64 << 30, (size_t)8 << 30, (size_t)1 << 30,
                                   (size_t)256 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) {
            region = bump = p;
            region_end = region + sizes[i];
            return 0;
        }
    }
    return -1;
}

size_t msr_arena_budget(void)
{
    if (!region && !as_starved && msr_lock_try_for(&arena_lock, 5000) == 1) {
        if (!region && !as_starved) reserve();
        msr_lock_release(&arena_lock);
    }
    return as_budget;
}

int msr_arena_starved(void) { return as_starved; }

static unsigned class_of(size_t n)
{
    size_t need = n + HDR;
    unsigned s = MIN_SHIFT;
    while (((size_t)1 << s) < need) s++;
    return s;
}

static void *direct_alloc(size_t n)
{
    if ((as_budget || as_starved) && n > AS_DIRECT_MAX) return NULL;
    size_t len = (n + HDR + 4095) & ~(size_t)4095;
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    struct hdr *h = p;
    h->cls = DIRECT_CLASS;
    h->magic = MAGIC;
    h->size = len;
    return (char *)p + HDR;
}

static void *arena_alloc(size_t n, int zero)
{
    if (n > ((size_t)1 << (MAX_SHIFT - 1))) return NULL;
    unsigned c = class_of(n);
    size_t sz = (size_t)1 << c;
    int r = msr_lock_try_for(&arena_lock, 5000);
    if (r != 1) return direct_alloc(n);
    if (!region && reserve() != 0) {
        msr_lock_release(&arena_lock);
        return direct_alloc(n);
    }
    char *p = NULL;
    int fresh = 0;
    if (!zero && n_warm[c]) {
        p = warm[c][--n_warm[c]];
    } else if (c >= PAGE_SHIFT && n_spare[c - PAGE_SHIFT]) {
        p = spare[c - PAGE_SHIFT][--n_spare[c - PAGE_SHIFT]];
        fresh = 1;                    /* all zero pages */
    } else if ((p = free_lists[c])) {
        free_lists[c] = *(void **)(p + HDR);
    } else {
        /* align big blocks to their size class (max 2 MiB) for THP-friendliness */
        size_t al = sz < 4096 ? 16 : (sz < ((size_t)2 << 20) ? 4096 : ((size_t)2 << 20));
        char *q = (char *)(((uintptr_t)bump + al - 1) & ~(uintptr_t)(al - 1));
        if (q + sz > region_end) {
            msr_lock_release(&arena_lock);
            return direct_alloc(n);
        }
        p = q;
        bump = q + sz;
        fresh = 1;
    }
    msr_lock_release(&arena_lock);
    struct hdr *h = (struct hdr *)p;
    h->cls = c;
    h->magic = MAGIC;
    h->size = sz;
    if (!fresh && zero) /* past a page the block was DONTNEED'd (zero) */
        memset(p + HDR, 0, (sz < 4096 ? sz : 4096) - HDR);
    return p + HDR;
}

void *msr_alloc(size_t n) { return arena_alloc(n, 1); }
void *msr_alloc_raw(size_t n) { return arena_alloc(n, 0); }

size_t msr_alloc_usable(const void *ptr)
{
    const struct hdr *h = (const struct hdr *)((const char *)ptr - HDR);
    if (h->magic != MAGIC) return 0;
    return (h->cls == DIRECT_CLASS ? h->size : (size_t)1 << h->cls) - HDR;
}

static _Atomic int ending;

void msr_arena_ending(void) { atomic_store(&ending, 1); }

void msr_free(void *ptr)
{
    if (!ptr) return;
    char *p = (char *)ptr - HDR;
    struct hdr *h = (struct hdr *)p;
    if (h->magic != MAGIC) return;
    if (h->cls == DIRECT_CLASS) {
        munmap(p, h->size);
        return;
    }
    unsigned c = h->cls;
    if (c >= PAGE_SHIFT && atomic_load_explicit(&ending, memory_order_relaxed))
        return;   /* the process is going: no page to give back */
    if (c >= PAGE_SHIFT) /* page-aligned: every page goes, header included */
        madvise(p, (size_t)1 << c, MADV_DONTNEED);
    int r = msr_lock_try_for(&arena_lock, 5000);
    if (r != 1) return; /* leak rather than deadlock */
    if (c >= PAGE_SHIFT && n_spare[c - PAGE_SHIFT] < SPARES) {
        spare[c - PAGE_SHIFT][n_spare[c - PAGE_SHIFT]++] = p;
    } else {
        h->cls = c;   /* (refaults the first page of a dropped block) */
        h->magic = MAGIC;
        h->size = (size_t)1 << c;
        *(void **)ptr = free_lists[c];
        free_lists[c] = p;
    }
    msr_lock_release(&arena_lock);
}

/* The format writer's buffers and zstd's workspace (control.c): zstd
 * frees its ~1 MiB workspace and takes it again when a chunk's parameters
 * change (small RECORDS chunks, EVENTS chunks), and msr_free gave every
 * page back each time: on pairs (20 M events) 49 MADV_DONTNEED of 1 MiB
 * and ~4 000 page faults, each madvise a TLB shootdown of the
 * application's CPU (an IPI: ~9 us of the application's time on a 2-vCPU
 * VM, 18 us of ours). Up to WARM blocks per size class wait with their
 * pages for the next msr_alloc_raw of that class; more go the usual way. */
void msr_free_keep(void *ptr)
{
    if (!ptr) return;
    struct hdr *h = (struct hdr *)((char *)ptr - HDR);
    if (h->magic != MAGIC || h->cls == DIRECT_CLASS ||
        atomic_load_explicit(&ending, memory_order_relaxed)) {
        msr_free(ptr);
        return;
    }
    unsigned c = h->cls;
    if (msr_lock_try_for(&arena_lock, 5000) != 1) return; /* leak rather than deadlock */
    if (n_warm[c] < WARM) {
        warm[c][n_warm[c]++] = (char *)h;
        msr_lock_release(&arena_lock);
        return;
    }
    msr_lock_release(&arena_lock);
    msr_free(ptr);
}

int msr_arena_fork_wipe(int on)
{
#if defined(MADV_WIPEONFORK) && defined(MADV_KEEPONFORK)
    if (!region) return -1;
    return madvise(region, (size_t)(region_end - region), on ? MADV_WIPEONFORK : MADV_KEEPONFORK);
#else
    (void)on;
    return -1;
#endif
}

void msr_arena_trim(void)
{
    for (unsigned c = 0; c <= MAX_SHIFT; c++) {
        for (;;) {
            void *p = NULL;
            if (msr_lock_try_for(&arena_lock, 5000) != 1) return;
            if (n_warm[c]) p = warm[c][--n_warm[c]];
            msr_lock_release(&arena_lock);
            if (!p) break;
            msr_free((char *)p + HDR);
        }
    }
}

/* Map [p, p+n) now, writable. For a table that is probed before it is
 * written (hash tables, the stack memo's headers): a read of an untouched
 * page maps the shared zero page, and the first write then takes a second,
 * copy-on-write fault that flushes the TLB of every CPU running one of the
 * program's threads (measured on cc1: 4.5 % of all samples). */
void msr_release_pages(void *p, size_t n)
{
    uintptr_t lo = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    if (hi <= lo) return;
    int saved = errno;
    madvise((void *)lo, hi - lo, MADV_DONTNEED);
    errno = saved;
}

void msr_prefault(void *p, size_t n)
{
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)4095;
    uintptr_t hi = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
    if (hi <= lo) return;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
    int saved = errno;
    if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) != 0) {
        for (uintptr_t a = lo < (uintptr_t)p ? (uintptr_t)p : lo; a < (uintptr_t)p + n;
             a = (a + 4096) & ~(uintptr_t)4095)
            __atomic_fetch_add((char *)a, 0, __ATOMIC_RELAXED);
    }
    errno = saved;
}

/* Ask for transparent huge pages on the 2 MiB-aligned part of [p, p+n):
 * big tables touched all over (the live table, rings) then take one page
 * fault per 2 MiB instead of 512 (measured: ~20 k faults on 1 M live
 * blocks). Harmless where THP is off. */
void msr_hugepage(void *p, size_t n)
{
    uintptr_t lo = ((uintptr_t)p + ((uintptr_t)2 << 20) - 1) & ~(((uintptr_t)2 << 20) - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(((uintptr_t)2 << 20) - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

size_t msr_arena_used(void) { return (size_t)(bump - region); }

static size_t resident(const char *p, size_t n)
{
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)4095;
    uintptr_t hi = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
    unsigned char vec[256];
    size_t r = 0;
    for (uintptr_t a = lo; a < hi; a += sizeof vec * 4096) {
        size_t len = hi - a < sizeof vec * 4096 ? hi - a : sizeof vec * 4096;
        if (mincore((void *)a, len, vec) != 0) return 0;
        for (size_t i = 0; i < len / 4096; i++) r += vec[i] & 1;
    }
    return r * 4096;
}

/* Walks the region block by block (MEMSCOPE_DEBUG=1 at exit): a block
 * starts at the bump pointer of its time, aligned to 16, 4096 or 2 MiB, so
 * a word without the header magic is an alignment gap or a spare block
 * (no header), skipped to the next page. Blocks below a page count their
 * whole size as resident. */
void msr_arena_usage(msr_arena_use *u)
{
    memset(u, 0, sizeof *u);
    if (msr_lock_try_for(&arena_lock, 1000) != 1) return;
    u->region_resident = region ? resident(region, (size_t)(bump - region)) : 0;
    char *p = region;
    while (p && p < bump) {
        struct hdr *h = (struct hdr *)p;
        if (!resident(p, HDR) || h->magic != MAGIC || h->cls < MIN_SHIFT || h->cls > MAX_SHIFT) {
            p = (char *)(((uintptr_t)p + 4096) & ~(uintptr_t)4095);
            continue;
        }
        size_t sz = (size_t)1 << h->cls;
        u->used[h->cls]++;
        u->used_resident[h->cls] += sz < 4096 ? sz : resident(p, sz);
        p += sz;
    }
    for (unsigned c = MIN_SHIFT; c <= MAX_SHIFT; c++)
        for (char *f = free_lists[c]; f; f = *(void **)(f + HDR)) {
            size_t sz = (size_t)1 << c;
            size_t res = sz < 4096 ? sz : resident(f, sz);
            u->used[c]--;               /* the walk counted it */
            u->used_resident[c] -= res;
            u->free_blocks[c]++;
            u->free_resident[c] += res;
        }
    for (unsigned c = PAGE_SHIFT; c <= MAX_SHIFT; c++)
        for (unsigned i = 0; i < n_spare[c - PAGE_SHIFT]; i++) {
            u->free_blocks[c]++;
            u->free_resident[c] += resident(spare[c - PAGE_SHIFT][i], (size_t)1 << c);
        }
    msr_lock_release(&arena_lock);
}

void msr_arena_range(uint64_t *start, uint64_t *end)
{
    *start = (uint64_t)(uintptr_t)region;
    *end = (uint64_t)(uintptr_t)region_end;
}

/* took: prepare took the lock (0: a fork from a signal handler that
 * interrupted this thread while it held it; the interrupted code releases
 * it, in the parent and in the child) */
int msr_arena_atfork_prepare(void) { return msr_lock_take_unless_mine(&arena_lock); }
void msr_arena_atfork_parent(int took) { if (took) msr_lock_release(&arena_lock); }
void msr_arena_atfork_child(int took) { if (took) atomic_store(&arena_lock.owner, 0); }
