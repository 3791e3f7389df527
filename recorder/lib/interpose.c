/*
 * interpose.c — the allocation entry points of libmemscope and its hot path.
 *
 * Every malloc-family function and every C++ operator new/delete variant is
 * defined here and forwards to the allocator the program really uses
 * (nextalloc.c: glibc, or jemalloc / tcmalloc loaded after libmemscope,
 * whose own C++ operators are called when it has them), as do jemalloc's
 * mallocx/rallocx/xallocx/dallocx/sdallocx and C23's free_sized /
 * free_aligned_sized. Frees of the bootstrap pool's blocks (dlsym's
 * allocations while the table was resolved) are dropped. When recording,
 * an allocation is captured after the real allocator returns and a free
 * before the real free is called, so the timestamps order address reuse
 * across threads. The path takes no global lock: a thread-local guard (the unwinder, stdio and the writer allocate),
 * the thread's own state (created on first use, or taken from the pool of
 * states of exited threads), an unwind + per-thread stack-cache lookup,
 * then one 32-byte slot (two for reallocs and aligned allocations) stored
 * into the thread's ring. The `busy` flag around timestamp+store lets the
 * writer thread, after a membarrier(2), know that every event older than
 * its barrier time is published (see drain.c). A ring half full grows (x4,
 * from 16 KiB to 1 MiB) or wakes the writer; a full one waits. Why the pool
 * and the small first ring: a program that creates 10,000 short threads
 * used to pay 1.4 MiB of fresh, zeroed recorder memory for each (60 s and
 * 199 MiB instead of 4 s).
 * In a sampled trace (sample.c) an allocation goes to that path only when
 * its bytes hold a sample point, a free only when its block was recorded;
 * the rest costs a thread-local subtract (allocations) or one filter byte
 * (frees). malloc and free have nothing else on their fast path, in any
 * mode: the counter's threshold and the filter send every call that may
 * need more (a full trace, not started yet, pool blocks) to a slow path
 * that decides as before (msr_fast_thr in recorder_internal.h). Counted
 * with callgrind on malloc/free pairs: 2 instructions per pair above the
 * bare passthrough interposer of bench/sample (~39 before, bench/RESULTS.md).
 */
#include "recorder_internal.h"
#include "nextalloc.h"

#include <errno.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

MSR_TLS struct msr_tls msr_tls;
_Atomic(msr_thread *) msr_threads;
int msr_use_membarrier;
_Atomic uint32_t msr_wake_word;
_Atomic uint32_t msr_names_gen;
_Atomic int msr_mode = MSR_PENDING;
_Atomic int msr_paused;

/* ------------------------------------------------------------------------ */
/* Thread state                                                             */
/* ------------------------------------------------------------------------ */

static msr_thread *thread_attach(void);
msr_thread *msr_thread_attach(void)
{
    int saved = errno;
    /* glibc allocates for it (pthread_setspecific past 32 keys,
     * pthread_getattr_np): the recorder's, not a signal handler's */
    int g = msr_tls.guard;
    msr_tls.guard = 1;
    msr_thread *t = thread_attach();
    msr_tls.guard = g;
    errno = saved;
    return t;
}

/* A ring's slots start on a cache line (two slots a line: a slot store
 * never straddles two lines, and the writer gives whole lines back,
 * drain.c ring_flush); the two words before them hold the slot count (for
 * the writer's snapshot) and the block to free. */
#define RING_HDR 64u
static msr_slot *ring_new(uint64_t cap)
{
    char *m = msr_alloc_raw(RING_HDR + 64 + cap * sizeof(msr_slot));
    if (!m) return NULL;
    uint64_t *r = (uint64_t *)(((uintptr_t)m + RING_HDR + 63) & ~(uintptr_t)63);
    r[-1] = cap;
    r[-2] = (uint64_t)(uintptr_t)m;
    return (msr_slot *)r;
}
static void ring_free(msr_slot *r)
{
    if (r) msr_free((void *)(uintptr_t)((const uint64_t *)r)[-2]);
}
static inline uint64_t ring_cap(const msr_slot *r) { return ((const uint64_t *)r)[-1]; }

/* Thread states of exited threads, drained by the writer, wait here for
 * the next new thread: ring, stack cache and memo included (the cache maps
 * hashes to global stack ids, the memo is checked against the new thread's
 * stack bounds), so creating a thread costs no allocation once the pool
 * holds as many states as threads ran at once. */
static msr_lock pool_lock;
static msr_thread *pool;

/* A thread-specific value whose destructor runs as the thread exits tells
 * the writer to look for the thread's end at once (tgkill ESRCH, drain.c)
 * rather than at its next 50 ms timer: fewer states are in flight, so
 * fewer new ones are made. The writer polls every 1 ms while some are
 * pending, at most 50 times in a row without a retirement (a tid the
 * kernel reused would keep one pending). */
static pthread_key_t exit_key;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static int exit_key_ok;
static _Atomic uint32_t exiting_n, fast_polls;

/* The stack cache and memo of an exiting thread (62 of a state's ~83
 * resident KiB) go at once to the next new thread, linked through their
 * first word: its ring must wait for the writer to drain it, they need
 * not. Under a lagging writer 10,000 short threads kept 170 states in
 * flight (+14 MiB); now each costs its ring and header. The cache maps
 * hashes to global stack ids and the memo is checked against the taker's
 * stack (stacks.c), so both stay valid; the linking word is zeroed, an
 * empty cache entry / memo tags. A thread allocating after its exit hint
 * (later TSD destructors) unwinds without them. */
static msr_lock spare_lock;
static void *spare_cache, *spare_memo;

static void spare_put(void **list, void *p)
{
    if (!p) return;
    msr_lock_take(&spare_lock);
    *(void **)p = *list;
    *list = p;
    msr_lock_release(&spare_lock);
}

static void *spare_take(void **list)
{
    msr_lock_take(&spare_lock);
    void *p = *list;
    if (p) *list = *(void **)p;
    msr_lock_release(&spare_lock);
    if (p) memset(p, 0, 16);
    return p;
}

/* gives t a stack cache and a memo (spares first); -1 when out of memory */
static int thread_provision(msr_thread *t)
{
    if (!t->cache && !(t->cache = spare_take(&spare_cache)))
        t->cache = msr_alloc((size_t)MSR_CACHE_SIZE * sizeof(struct msr_cache_ent));
    if (msr_memo_bytes() && !t->memo && !(t->memo = spare_take(&spare_memo)))
        t->memo = msr_alloc(msr_memo_bytes());
    return t->cache && (t->memo || !msr_memo_bytes()) ? 0 : -1;
}

static void pool_put(msr_thread *t)
{
    msr_lock_take(&pool_lock);
    t->next_free = pool;
    pool = t;
    msr_lock_release(&pool_lock);
}

static void exit_hint(void *p)
{
    msr_thread *t = p;
    if (!t || atomic_exchange(&t->exiting, 1)) return;
    if (t == msr_tls.t) {
        void *c = t->cache, *m = t->memo;
        t->cache = NULL;
        t->memo = NULL;
        spare_put(&spare_cache, c);
        spare_put(&spare_memo, m);
    }
    if (atomic_fetch_add(&exiting_n, 1) == 0) {
        atomic_store(&fast_polls, 0);
        msr_wake_writer();
    }
}

static void exit_key_init(void) { exit_key_ok = pthread_key_create(&exit_key, exit_hint) == 0; }

int msr_exiting_poll(void)
{
    if (!atomic_load_explicit(&exiting_n, memory_order_relaxed)) return 0;
    return atomic_fetch_add(&fast_polls, 1) < 50;
}

void msr_ring_release_pages(msr_thread *t)
{
    msr_slot *r = atomic_load_explicit(&t->ring, memory_order_acquire);
    if (r) msr_release_pages(r, ring_cap(r) * sizeof(msr_slot));   /* (the header's page stays) */
}

void msr_thread_release(msr_thread *t)
{
    if (atomic_exchange(&t->exiting, 0)) {
        atomic_fetch_sub(&exiting_n, 1);
        atomic_store(&fast_polls, 0);
    }
    /* (equal but in a fork child, where the parent's threads are dropped) */
    atomic_store_explicit(&t->consumed, atomic_load_explicit(&t->n, memory_order_relaxed),
                          memory_order_relaxed);
    msr_ring_release_pages(t);         /* the thread is gone: nothing writes it */
    pool_put(t);
}

void msr_threads_atfork_child(void)
{
    atomic_store(&pool_lock.owner, 0);
    atomic_store(&spare_lock.owner, 0);
}

static msr_thread *pool_take(void)
{
    msr_lock_take(&pool_lock);
    msr_thread *t = pool;
    if (t) pool = t->next_free;
    msr_lock_release(&pool_lock);
    return t;
}

static msr_thread *thread_new(void)
{
    msr_thread *t = msr_alloc(sizeof *t);
    if (!t) return NULL;
    msr_slot *r = ring_new(MSR_RING_MIN);
    if (!r || thread_provision(t) < 0) {
        ring_free(r);
        spare_put(&spare_cache, t->cache);
        spare_put(&spare_memo, t->memo);
        msr_free(t);
        return NULL;
    }
    atomic_store_explicit(&t->ring, r, memory_order_relaxed);
    t->mask = t->wmask = MSR_RING_MIN - 1;
    t->wake_at = MSR_RING_MIN / 2;
    t->wring = r;
    return t;
}

/* The calling thread's stack bounds (the stack memo and the cached-rule
 * and frame-pointer walks read only inside them); left 0, 0 (unknown:
 * stacks are unwound by libunwind) when glibc cannot tell. Not from
 * inside pthread_getattr_np (see its wrapper below). */
void msr_thread_bounds(msr_thread *t)
{
    t->bounds_pending = 0;
    pthread_attr_t a;
    /* (its allocations and frees are glibc's, not a signal handler's) */
    int g = msr_tls.guard;
    msr_tls.guard = 1;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *addr = NULL;
        size_t sz = 0;
        if (pthread_attr_getstack(&a, &addr, &sz) == 0) {
            t->stack_lo = (uintptr_t)addr;
            t->stack_hi = (uintptr_t)addr + sz;
        }
        pthread_attr_destroy(&a);
    }
    msr_tls.guard = g;
}

static msr_thread *thread_attach(void)
{
    if (msr_tls.no_thread) return NULL;
    msr_thread *t = pool_take();
    if (t) {
        /* n and consumed stay as they are (equal, monotonic); the rest of
         * what the last owner and the writer knew is reset */
        atomic_store_explicit(&t->busy, 0, memory_order_relaxed);
        atomic_store_explicit(&t->waiting, 0, memory_order_relaxed);
        t->wake_sent = 0;
        t->n_dropped = 0;
        atomic_store_explicit(&t->pend_n, 0, memory_order_relaxed);
        t->memo_hits = t->memo_misses = t->cache_misses = t->cfi_walks = 0;
        t->clk_last = 0;
        t->clk_left = t->clk_gen = 0;
        t->clk_reads = t->clk_reused = 0;
        memset(t->clk_late, 0, sizeof t->clk_late);
        t->set_name_seen = atomic_load_explicit(&t->set_name_seq, memory_order_relaxed);
        t->announced = t->dead = 0;
        t->batch_end = atomic_load_explicit(&t->n, memory_order_relaxed);
        t->stack_lo = t->stack_hi = 0;
        memset(t->name, 0, sizeof t->name);
        if (thread_provision(t) < 0) {
            pool_put(t);
            msr_tls.no_thread = 1;
            return NULL;
        }
    } else if (!(t = thread_new())) {
        msr_tls.no_thread = 1;
        return NULL;
    }
    t->tid = (uint64_t)msr_gettid();
    prctl(PR_GET_NAME, (unsigned long)t->name, 0, 0, 0);
    t->bounds_pending = msr_tls.in_getattr != 0;    /* see pthread_getattr_np below */
    if (!t->bounds_pending) msr_thread_bounds(t);
    pthread_once(&exit_once, exit_key_init);
    if (exit_key_ok) pthread_setspecific(exit_key, t);
    msr_thread *head = atomic_load_explicit(&msr_threads, memory_order_acquire);
    do {
        t->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&msr_threads, &head, t,
                                                    memory_order_release,
                                                    memory_order_acquire));
    msr_tls.t = t;
    /* a second thread records: from now on every reading is published
     * (spec 8.2); the new gen ends the runs under way, whose readings were
     * not. Both stores are locked instructions: they are visible before
     * this thread takes its first reading. */
    static _Atomic uint32_t attached;
    if (atomic_fetch_add(&attached, 1) == 1) {
        atomic_store(&msr_clk_multi, 1);
        atomic_fetch_add(&msr_clk.gen, 1);
    }
    return t;
}

/* Writer side, at the cut (after t->n was loaded with acquire: a ring the
 * thread switched to before publishing those events is seen). A replaced
 * ring is freed once a cut reads the new one: the previous epoch, the last
 * reader of the old ring, is over. */
void msr_ring_snapshot(msr_thread *t)
{
    msr_slot *r = atomic_load_explicit(&t->ring, memory_order_acquire);
    t->wring = r;
    t->wmask = ring_cap(r) - 1;
    msr_slot *old = atomic_load_explicit(&t->old_ring, memory_order_acquire);
    if (old && old != r) {
        atomic_store_explicit(&t->old_ring, NULL, memory_order_release);
        ring_free(old);
    }
}

/* The thread filled half its ring before the writer drained it: move to a
 * ring 4x as big (up to MSR_RING_CAP). The writer may be reading the old
 * ring: the unconsumed slots are copied, not moved, and the old ring stays
 * until the writer has taken the new one (msr_ring_snapshot). Returns 1 if
 * the ring grew. Called by the owning thread only, inside the guard. */
static int ring_grow(msr_thread *t)
{
    uint64_t cap = t->mask + 1;
    if (cap >= MSR_RING_CAP ||
        atomic_load_explicit(&t->old_ring, memory_order_acquire))
        return 0;
    uint64_t ncap = cap * 4 > MSR_RING_CAP ? MSR_RING_CAP : cap * 4;
    int saved = errno;
    msr_slot *nr = ring_new(ncap);
    /* a ring grows when its thread outruns the writer, so every slot of
     * the new one is written soon: map it in one MADV_POPULATE_WRITE, not
     * a page fault at a time on the program's own thread (~17 us each on
     * a PVM guest: 1 MiB was ~4 ms) */
    if (nr) msr_prefault(nr, ncap * sizeof *nr);
    errno = saved;
    if (!nr) return 0;
    msr_slot *r = atomic_load_explicit(&t->ring, memory_order_relaxed);
    uint64_t n = atomic_load_explicit(&t->n, memory_order_relaxed);
    uint64_t c = atomic_load_explicit(&t->consumed, memory_order_acquire);
    for (uint64_t i = c; i < n; i++) nr[i & (ncap - 1)] = r[i & (cap - 1)];
    atomic_store_explicit(&t->old_ring, r, memory_order_relaxed);
    atomic_store_explicit(&t->ring, nr, memory_order_release);
    t->mask = ncap - 1;
    t->wake_at = ncap / 2;
    return 1;
}

void msr_wake_writer(void)
{
    int saved = errno;
    atomic_fetch_add_explicit(&msr_wake_word, 1, memory_order_release);
    syscall(SYS_futex, &msr_wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved;
}

/* The writer is giving an idle ring's pages back (drain.c, release_idle):
 * step out of the slot store (busy = 0, which it waits for), wait until it
 * is done, step in again. busy = 1 on return, the hold seen clear after it
 * (the same order as emit's: the writer's membarrier or fence pairs with
 * it). */
int msr_wait_hold(msr_thread *t)
{
    int saved = errno;
    do {
        atomic_store_explicit(&t->busy, 0, memory_order_release);
        for (int i = 0; atomic_load_explicit(&t->hold, memory_order_acquire); i++) {
            if (i == 50 && getpid() != msr_pid) {
                /* a copy made without fork's handlers (wait_space): its
                 * hold is never lifted; drop the event */
                errno = saved;
                return -1;
            }
            if (i < 50) {
                sched_yield();
            } else {               /* sleep: a real-time thread must let the writer run */
                struct timespec ts = {0, 20000};
                nanosleep(&ts, NULL);
            }
        }
        if (MSR_LIKELY(msr_use_membarrier))
            atomic_store_explicit(&t->busy, 1, memory_order_relaxed);
        else
            atomic_exchange_explicit(&t->busy, 1, memory_order_seq_cst);
        atomic_signal_fence(memory_order_seq_cst);
    } while (atomic_load_explicit(&t->hold, memory_order_acquire));
    errno = saved;
    return 0;
}

static void wait_space(msr_thread *t, unsigned k);
void msr_wait_space(msr_thread *t, unsigned k)
{
    int saved = errno;
    wait_space(t, k);
    errno = saved;
}

void msr_futex_wake(_Atomic uint32_t *w)
{
    int saved = errno;
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved;
}

/* The writer hands slots back in pieces of 512 events: yield a while,
 * then sleep on a futex the writer wakes once a quarter of the ring is free
 * (msr_space_given) instead of spinning, which on a busy machine takes CPU
 * from the writer itself; the 1 ms timeout covers a writer that stops. */
static void wait_space(msr_thread *t, unsigned k)
{
    /* a copy of the process made without fork's handlers (a raw clone or
     * clone3 system call, or a vfork child's malloc): no writer of its own
     * will ever make room; the event is dropped, never waited for */
    if (getpid() != msr_pid) return;
    msr_wake_writer();
    for (int i = 0;; i++) {
        uint64_t used = atomic_load_explicit(&t->n, memory_order_relaxed) -
                        atomic_load_explicit(&t->consumed, memory_order_acquire);
        if (used + k <= t->mask + 1) break;
        if (ring_grow(t)) break;
        if (atomic_load_explicit(&msr_mode, memory_order_relaxed) != MSR_REC) break;
        if (!atomic_load_explicit(&msr_writer_alive, memory_order_relaxed)) break;
        if (i < 50) {
            sched_yield();
            continue;
        }
        uint32_t seq = atomic_load_explicit(&t->space_seq, memory_order_acquire);
        atomic_store_explicit(&t->waiting, 1, memory_order_seq_cst);
        used = atomic_load_explicit(&t->n, memory_order_relaxed) -
               atomic_load_explicit(&t->consumed, memory_order_seq_cst);
        if (used + k <= t->mask + 1) break;
        if ((i & 63) == 0) msr_wake_writer();
        struct timespec ts = {0, 1000000};
        syscall(SYS_futex, &t->space_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
    }
    atomic_store_explicit(&t->waiting, 0, memory_order_relaxed);
}

/* A clock reading: with two threads recording, publish it (the
 * process-wide maximum, before the event's effect can reach another
 * thread: an allocation's hook runs before the program sees the block, a
 * free's before the real free); does it start a run of reused readings
 * (spec 8.2)? */
static inline void clk_read(msr_thread *t, uint64_t now)
{
    if (!msr_clk_reuse) return;
    if (atomic_load_explicit(&msr_clk_multi, memory_order_relaxed)) {
        /* worth the compare-and-swap only where a reading is dear: with
         * the TSC (~11 ns) pairs2 went 0.62 -> 0.68 s (two threads writing
         * one line), with CLOCK_MONOTONIC (~30 ns) 0.91 -> 0.82 s */
        if (msr_use_tsc) return;
        uint64_t g = atomic_load_explicit(&msr_clk.pub, memory_order_relaxed);
        while (now > g && !atomic_compare_exchange_weak_explicit(&msr_clk.pub, &g, now,
                                                                 memory_order_relaxed,
                                                                 memory_order_relaxed)) {
        }
    }
    uint32_t gen = atomic_load_explicit(&msr_clk.gen, memory_order_relaxed);
    volatile uint64_t *cs = msr_rseq_cs_word();
    /* cpu_id (the word before): negative when this thread's area is not
     * registered with the kernel (nobody would clear rseq_cs) */
    if (now - t->clk_last < msr_clk_burst && t->clk_gen == gen && (int32_t)((volatile uint32_t *)cs)[-1] >= 0) {
        t->clk_left = msr_clk_reuse;
        *cs = (uintptr_t)msr_rseq_mark;
    }
    t->clk_last = now;
    t->clk_gen = gen;
    t->clk_reads++;
}

/* MEMSCOPE_CLOCK_CHECK=1: how late a reused time is against a reading now */
__attribute__((noinline, cold))
static void clk_check(msr_thread *t, uint64_t used)
{
    uint64_t real = msr_now();
    t->clk_reused++;
    if (real > used) {
        unsigned b = 63 - (unsigned)__builtin_clzll(real - used);
        t->clk_late[b < 31 ? b : 31]++;
    }
}

__attribute__((always_inline))
static inline void emit(msr_thread *t, uint8_t op, uint64_t addr, uint64_t size,
                        uint64_t old, uint64_t stack, uint32_t align, int after)
{
    uint64_t n = atomic_load_explicit(&t->n, memory_order_relaxed);
    unsigned k = msr_op_ext(op) ? 2 : 1;
    uint64_t used = n - atomic_load_explicit(&t->consumed, memory_order_relaxed);
    if (MSR_UNLIKELY(used >= t->wake_at)) {
        if (ring_grow(t)) {
        } else if (used + k > t->mask + 1) {
            msr_wait_space(t, k);
            used = n - atomic_load_explicit(&t->consumed, memory_order_acquire);
            if (used + k > t->mask + 1) {
                t->n_dropped++;
                return;
            }
        } else if (!t->wake_sent) {
            t->wake_sent = 1;
            msr_wake_writer();
        }
    }
    if (MSR_LIKELY(msr_use_membarrier))
        atomic_store_explicit(&t->busy, 1, memory_order_relaxed);
    else
        atomic_exchange_explicit(&t->busy, 1, memory_order_seq_cst);
    atomic_signal_fence(memory_order_seq_cst);
    if (MSR_UNLIKELY(atomic_load_explicit(&t->hold, memory_order_acquire)) && msr_wait_hold(t)) {
        t->n_dropped++;
        return;
    }
    msr_slot *ring = atomic_load_explicit(&t->ring, memory_order_relaxed);
    uint64_t mask = t->mask;
    msr_slot *e = &ring[n & mask];
    /* own the cache line a few events ahead (the writer thread read it
     * last): without this each new line stalls the store buffer */
    __builtin_prefetch(&ring[(n + 16) & mask], 1, 3);
    uint64_t now;
    if (t->clk_left && *msr_rseq_cs_word() == (uintptr_t)msr_rseq_mark &&
        t->clk_gen == atomic_load_explicit(&msr_clk.gen, memory_order_relaxed)) {
        t->clk_left--;
        uint64_t f = atomic_load_explicit(&msr_clk.floor, memory_order_relaxed);
        uint64_t g = atomic_load_explicit(&msr_clk.pub, memory_order_relaxed);
        now = t->clk_last > f ? t->clk_last : f;
        now = now > g ? now : g;
        if (MSR_UNLIKELY(msr_clk_check)) clk_check(t, now);
    } else {
        now = after ? msr_now_after() : msr_now();
        clk_read(t, now);
    }
    e->time = now;
    e->addr = addr;
    e->size = size;
    e->stack = (uint32_t)stack;
    e->op = op;
    if (MSR_UNLIKELY(k == 2)) {
        msr_slot *x = &ring[(n + 1) & mask];
        x->time = now;
        x->addr = 0;
        x->size = old;
        x->stack = align;
        x->op = MSR_SLOT_EXT;
    }
    atomic_store_explicit(&t->n, n + k, memory_order_release);
    atomic_store_explicit(&t->busy, 0, memory_order_release);
}

/* ------------------------------------------------------------------------ */
/* Recording helpers (cold relative to the passthrough, but the hot path    */
/* when recording)                                                          */
/* ------------------------------------------------------------------------ */

/* One load when not recording (off, or dormant under MEMSCOPE_CONTROL):
 * "not started yet" is a mode of its own, MSR_PENDING, not a second word. */
static inline int mode_rec(void)
{
    int m = atomic_load_explicit(&msr_mode, memory_order_relaxed);
    if (MSR_UNLIKELY(m == MSR_PENDING) && !msr_tls.guard) {
        msr_early_init();
        m = atomic_load_explicit(&msr_mode, memory_order_relaxed);
    }
    return m == MSR_REC;
}

_Atomic uint64_t msr_missed, msr_deferred;

/* Inside the recorder: not recorded. Inside a hook's stack capture or slot
 * store the call comes from a signal handler that interrupted it: its
 * event is deferred (rec_alloc/rec_free), except in a sampled trace, whose
 * sampling state the hook may be updating: counted, so END says events are
 * missing instead of "complete". */
static inline int guarded(void)
{
    if (MSR_LIKELY(!msr_tls.guard)) return 0;
    if (MSR_UNLIKELY(msr_tls.guard == MSR_GUARD_HOOK)) {
        if (!atomic_load_explicit(&msr_sampling, memory_order_relaxed)) return 0;
        atomic_fetch_add_explicit(&msr_missed, 1, memory_order_relaxed);
    }
    return 1;
}

static inline int rec_alloc_on(void)
{
    return MSR_LIKELY(mode_rec()) && !guarded() &&
           !atomic_load_explicit(&msr_paused, memory_order_relaxed);
}

static inline int rec_free_on(void)
{
    return mode_rec() && !guarded();
}

/* Sampled traces (sample.c): an allocation is recorded when it holds a
 * sample point, a free when its block was recorded. */
static inline int sampling(void) { return atomic_load_explicit(&msr_sampling, memory_order_relaxed); }

static inline int rec_alloc_want(uint64_t n)
{
    if (MSR_UNLIKELY(sampling())) return msr_sample_take(n) && rec_alloc_on();
    /* (the first call may have started a sampled trace: msr_early_init) */
    return rec_alloc_on() && (MSR_LIKELY(!sampling()) || msr_sample_take(n));
}

__attribute__((noinline))
static int sampled_free_want(void *p) { return msr_sample_forget(p) && rec_free_on(); }

static inline int rec_free_want(void *p)
{
    if (MSR_UNLIKELY(sampling())) return p && msr_sample_maybe(p) && sampled_free_want(p);
    return p && rec_free_on();
}

_Atomic uint64_t msr_unrecorded;

/* NULL when the thread has no state (no memory for it): its event is
 * counted as lost (END says so) */
static inline msr_thread *self_thread(void)
{
    msr_thread *t = msr_tls.t;
    if (MSR_UNLIKELY(!t) && !(t = msr_thread_attach()))
        atomic_fetch_add_explicit(&msr_unrecorded, 1, memory_order_relaxed);
    return t;
}

/* Signal handlers. A handler that allocates or frees while it interrupts
 * a hook of its thread cannot take a slot (the hook may be half-way
 * through its own) nor walk the stack (the thread's stack cache and memo
 * may be half-updated): its event waits in the thread's pend[] with the
 * one frame it has (the handler's call site) and the interrupted hook
 * records it after its own event, before it returns. That order is the
 * real one: an allocation's hook runs after the allocator returned, a
 * free's before the block is released, so no handler event can concern
 * the interrupted event's block. A handler interrupted by another handler
 * takes its own entry (fetch_add). No room, or no thread state: counted
 * (END n_dropped). */
static void defer(uint8_t op, uint64_t addr, uint64_t size, uint32_t align, uint64_t old,
                  void *ret, int after)
{
    msr_thread *t = msr_tls.t;
    uint32_t i = t ? atomic_fetch_add_explicit(&t->pend_n, 1, memory_order_relaxed) : MSR_PEND;
    if (i >= MSR_PEND) {
        atomic_fetch_add_explicit(&msr_missed, 1, memory_order_relaxed);
        return;
    }
    t->pend[i] = (struct msr_pend){addr, size, old, (uint64_t)(uintptr_t)ret, align, op, (uint8_t)after};
    atomic_signal_fence(memory_order_seq_cst);
}

/* Records the deferred events (guard MSR_GUARD_HOOK: a handler that
 * interrupts this appends; it is recorded in this loop). */
__attribute__((noinline))
static void record_deferred(msr_thread *t)
{
    uint32_t done = 0;
    for (;;) {
        uint32_t n = atomic_load_explicit(&t->pend_n, memory_order_relaxed);
        if (done >= n || done >= MSR_PEND) {
            /* (events past MSR_PEND were counted by defer) */
            if (atomic_compare_exchange_strong(&t->pend_n, &n, 0)) return;
            continue;
        }
        atomic_signal_fence(memory_order_seq_cst);
        struct msr_pend e = t->pend[done++];
        atomic_fetch_add_explicit(&msr_deferred, 1, memory_order_relaxed);
        emit(t, e.op, e.addr, e.size, e.old, msr_stack_of_ip(t, e.ret), e.align, e.after);
    }
}

/* A hook's end: guard 0 once no handler event waits. A handler that comes
 * after the guard is down records its event itself. */
static inline void hook_end(msr_thread *t)
{
    for (;;) {
        if (MSR_UNLIKELY(t && atomic_load_explicit(&t->pend_n, memory_order_relaxed)))
            record_deferred(t);
        msr_tls.guard = 0;
        atomic_signal_fence(memory_order_seq_cst);
        if (MSR_LIKELY(!t || !atomic_load_explicit(&t->pend_n, memory_order_relaxed))) return;
        msr_tls.guard = MSR_GUARD_HOOK;
    }
}

/* errno: the fast path makes no system call; the slow paths (thread attach,
 * writer wake-up and waits, stack interning) preserve errno themselves. */
__attribute__((noinline))
static void rec_alloc(uint8_t op, void *p, uint64_t size, uint32_t align, uint64_t old,
                      void *ret, void *frame)
{
    if (MSR_UNLIKELY(msr_tls.guard)) {
        defer(op, (uint64_t)(uintptr_t)p, size, align, old, ret, p != NULL);
        return;
    }
    msr_tls.guard = MSR_GUARD_HOOK;
    msr_thread *t = self_thread();
    /* a sampled block is known as such before the app can free it */
    if (t && (!p || !sampling() || msr_sample_remember(p) == 0)) {
        uint64_t stack = msr_capture_stack(t, ret, frame);
        emit(t, op, (uint64_t)(uintptr_t)p, size, old, stack, align, p != NULL);
    }
    hook_end(t);
}

__attribute__((noinline))
static void rec_free(uint8_t op, void *p)
{
    if (MSR_UNLIKELY(msr_tls.guard)) {
        defer(op, (uint64_t)(uintptr_t)p, 0, 0, 0, NULL, 0);
        return;
    }
    msr_tls.guard = MSR_GUARD_HOOK;
    msr_thread *t = self_thread();
    if (t) emit(t, op, (uint64_t)(uintptr_t)p, 0, 0, 0, 0, 0);
    hook_end(t);
}

/* Keep the entry point's frame alive across the recorder call (no tail
 * call), so the frame-pointer walk can start from it. */
#define KEEP(x) __asm__ __volatile__("" : : "r"(x) : "memory")
#define RET() __builtin_return_address(0)
#define FRAME() __builtin_frame_address(0)

/* ------------------------------------------------------------------------ */
/* C allocator                                                              */
/* ------------------------------------------------------------------------ */

/* malloc and free: the fast paths the other entry points would pay for
 * too much code (see msr_fast_thr). The slow paths are tail calls, so their
 * frame is the entry point's own (RET and FRAME name the program's call). */
__attribute__((noinline))
static void *malloc_slow(void *p, size_t n, int64_t left)
{
    int want;
    if (MSR_UNLIKELY(sampling())) {
        want = left <= 0 && msr_sample_due(n) && rec_alloc_on();
    } else {
        /* (the first call may have started a sampled trace: msr_early_init) */
        want = rec_alloc_on() && (MSR_LIKELY(!sampling()) || (left <= 0 && msr_sample_due(n)));
    }
    if (want) {
        rec_alloc(MS_OP_MALLOC, p, n, 0, 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
}

void *malloc(size_t n)
{
    void *p = msr_next.malloc(n);
    int64_t left = (int64_t)((uint64_t)msr_stls.left - n);
    msr_stls.left = left;
    if (MSR_LIKELY(left > atomic_load_explicit(&msr_fast_thr, memory_order_relaxed))) return p;
    return malloc_slow(p, n, left);
}

__attribute__((noinline))
static void free_slow(void *p)
{
    if (MSR_UNLIKELY(msr_pool_owns(p))) return;
    if (rec_free_want(p)) rec_free(MS_OP_FREE, p);
    else msr_filter_settle();
    msr_next.free(p);
}

void free(void *p)
{
    if (MSR_UNLIKELY(atomic_load_explicit(&msr_sfilter[msr_sf_index((uint64_t)(uintptr_t)p)],
                                          memory_order_relaxed))) {
        free_slow(p);
        return;
    }
    msr_next.free(p);
}

void *calloc(size_t n, size_t m)
{
    void *p = msr_next.calloc(n, m);
    size_t s;
    if (__builtin_mul_overflow(n, m, &s)) s = SIZE_MAX;
    if (rec_alloc_want(s)) {
        rec_alloc(MS_OP_CALLOC, p, s, 0, 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
}

/* A move in a sampled trace (realloc, rallocx) is free(old) + malloc(n),
 * each sampled on its own: old_s says old was a recorded block (already
 * forgotten, so no other thread's new block at that address is mistaken
 * for it), new_s that the n bytes hold a sample point. After the allocator
 * moved old to q (NULL: failed, old still live), a recorded old block is
 * released (a realloc event naming it when q is recorded too, else a
 * free). */
static void sampled_moved(uint8_t op, void *old, int old_s, void *q, size_t n, int new_s,
                          void *ret, void *frame)
{
    if (!q) {
        if (old_s) msr_sample_remember(old);
        return;
    }
    if (!old_s && !new_s) return;
    int on = rec_free_on();     /* (once: a handler's event counts once) */
    if (!on || atomic_load_explicit(&msr_paused, memory_order_relaxed)) {
        if (old_s && on) rec_free(MS_OP_FREE, old);
        return;
    }
    if (new_s) rec_alloc(op, q, n, 0, old_s ? (uint64_t)(uintptr_t)old : 0, ret, frame);
    else if (old_s) rec_free(MS_OP_FREE, old);
}

static void *realloc_sampled(uint8_t op, void *old, size_t n, void *ret, void *frame)
{
    int old_s = old && msr_sample_maybe(old) && msr_sample_forget(old);
    if (old && n == 0) {
        /* a free, stamped before (a new minimal block some allocators
         * return has no bytes to sample: not recorded) */
        if (old_s && rec_free_on()) {
            if (atomic_load_explicit(&msr_paused, memory_order_relaxed))
                rec_free(MS_OP_FREE, old);
            else
                rec_alloc(op, NULL, 0, 0, (uint64_t)(uintptr_t)old, ret, frame);
        }
        return msr_next.realloc(old, 0);
    }
    int new_s = n && msr_sample_take(n);
    void *q = msr_next.realloc(old, n);
    sampled_moved(op, old, old_s, q, n, new_s, ret, frame);
    return q;
}

static void *do_realloc(uint8_t op, void *old, size_t n, void *ret, void *frame)
{
    if (MSR_UNLIKELY(msr_pool_owns(old))) {
        /* a bootstrap block moves to the allocator: an allocation */
        void *q = msr_pool_realloc(old, n);
        if (rec_alloc_want(n)) rec_alloc(op, q, n, 0, 0, ret, frame);
        return q;
    }
    if (MSR_UNLIKELY(sampling())) return realloc_sampled(op, old, n, ret, frame);
    if (!rec_free_on()) return msr_next.realloc(old, n);
    if (atomic_load_explicit(&msr_paused, memory_order_relaxed)) {
        void *q = msr_next.realloc(old, n);
        if (old && (q || n == 0)) rec_free(MS_OP_FREE, old);
        return q;
    }
    if (old && n == 0) {
        /* glibc, jemalloc and tcmalloc free the block and return NULL: a
         * free, stamped before; an allocator that returns a new minimal
         * block instead gets it recorded as realloc(NULL, 0) */
        rec_alloc(op, NULL, 0, 0, (uint64_t)(uintptr_t)old, ret, frame);
        void *q = msr_next.realloc(old, 0);
        if (MSR_UNLIKELY(q != NULL)) rec_alloc(op, q, 0, 0, 0, ret, frame);
        return q;
    }
    void *q = msr_next.realloc(old, n);
    rec_alloc(op, q, n, 0, (uint64_t)(uintptr_t)old, ret, frame);
    return q;
}

void *realloc(void *old, size_t n)
{
    void *q = do_realloc(MS_OP_REALLOC, old, n, RET(), FRAME());
    KEEP(q);
    return q;
}

void *reallocarray(void *old, size_t n, size_t m)
{
    size_t s;
    if (__builtin_mul_overflow(n, m, &s)) {
        if (!sampling() && rec_alloc_on()) {     /* a sample has no weight for it */
            rec_alloc(MS_OP_REALLOCARRAY, NULL, SIZE_MAX, 0, (uint64_t)(uintptr_t)old,
                      RET(), FRAME());
        }
        errno = ENOMEM;
        return NULL;
    }
    void *q = do_realloc(MS_OP_REALLOCARRAY, old, s, RET(), FRAME());
    KEEP(q);
    return q;
}

static inline int pow2(size_t a) { return a && !(a & (a - 1)); }

int posix_memalign(void **out, size_t al, size_t n)
{
    if (!pow2(al) || al % sizeof(void *) != 0) return EINVAL;
    int saved = errno;
    void *p = msr_next.memalign(al, n);
    if (rec_alloc_want(n)) {
        rec_alloc(MS_OP_POSIX_MEMALIGN, p, n, (uint32_t)(al > UINT32_MAX ? UINT32_MAX : al), 0,
                  RET(), FRAME());
        KEEP(p);
    }
    if (!p) {
        errno = saved;
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *aligned_alloc(size_t al, size_t n)
{
    void *p = msr_next.aligned_alloc(al, n);
    if (rec_alloc_want(n)) {
        rec_alloc(MS_OP_ALIGNED_ALLOC, p, n, (uint32_t)(al > UINT32_MAX ? UINT32_MAX : al), 0,
                  RET(), FRAME());
        KEEP(p);
    }
    return p;
}

void *memalign(size_t al, size_t n)
{
    void *p = msr_next.memalign(al, n);
    if (rec_alloc_want(n)) {
        rec_alloc(MS_OP_MEMALIGN, p, n, (uint32_t)(al > UINT32_MAX ? UINT32_MAX : al), 0,
                  RET(), FRAME());
        KEEP(p);
    }
    return p;
}

/* tcmalloc's valloc and pvalloc call tc_memalign through its PLT, which
 * is ours: called inside the guard, so the block is recorded once */
static inline void *page_alloc(void *(*f)(size_t), size_t n)
{
    int g = msr_tls.guard;
    msr_tls.guard = 1;
    void *p = f(n);
    msr_tls.guard = g;
    return p;
}

void *valloc(size_t n)
{
    void *p = page_alloc(msr_next.valloc, n);
    if (rec_alloc_want(n)) {
        rec_alloc(MS_OP_VALLOC, p, n, (uint32_t)sysconf(_SC_PAGESIZE), 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
}

void *pvalloc(size_t n)
{
    void *p = page_alloc(msr_next.pvalloc, n);
    if (rec_alloc_want(n)) {
        rec_alloc(MS_OP_PVALLOC, p, n, (uint32_t)sysconf(_SC_PAGESIZE), 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
}

/* ------------------------------------------------------------------------ */
/* jemalloc's non-standard API and C23's sized frees (glibc has none of     */
/* them: nextalloc.c builds them on malloc & co. then)                      */
/* ------------------------------------------------------------------------ */
#define X_ALIGN(fl) (((fl) & 63) ? (size_t)1 << ((fl) & 63) : 0)

static void *x_mallocx(size_t n, int fl)
{
    void *p = msr_next.mallocx(n, fl);
    if (rec_alloc_want(n)) {
        size_t al = X_ALIGN(fl);
        rec_alloc(al ? MS_OP_ALIGNED_ALLOC : (fl & 0x40) ? MS_OP_CALLOC : MS_OP_MALLOC, p, n,
                  (uint32_t)(al > UINT32_MAX ? UINT32_MAX : al), 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
}

/* like realloc, but a failure leaves the block and n is never 0 */
static void *x_rallocx(void *old, size_t n, int fl)
{
    if (MSR_UNLIKELY(sampling())) {
        int old_s = old && msr_sample_maybe(old) && msr_sample_forget(old);
        int new_s = msr_sample_take(n);
        void *q = msr_next.rallocx(old, n, fl);
        sampled_moved(MS_OP_REALLOC, old, old_s, q, n, new_s, RET(), FRAME());
        KEEP(q);
        return q;
    }
    void *q = msr_next.rallocx(old, n, fl);
    if (!rec_free_on()) return q;
    if (atomic_load_explicit(&msr_paused, memory_order_relaxed)) {
        if (q) rec_free(MS_OP_FREE, old);
    } else {
        rec_alloc(MS_OP_REALLOC, q, n, 0, (uint64_t)(uintptr_t)old, RET(), FRAME());
        KEEP(q);
    }
    return q;
}

/* resizes in place: at least n bytes on success (the real size returned
 * >= n), recorded as a realloc to min(real, n + extra) at the same address.
 * Not recorded in a sampled trace: a block resized in place keeps the
 * weight it was sampled with (its sampled or unsampled state too). */
static size_t x_xallocx(void *p, size_t n, size_t extra, int fl)
{
    size_t r = msr_next.xallocx(p, n, extra, fl);
    if (r >= n && !sampling() && rec_alloc_on()) {
        size_t want = n + extra < n ? SIZE_MAX : n + extra;
        rec_alloc(MS_OP_REALLOC, p, r < want ? r : want, 0, (uint64_t)(uintptr_t)p,
                  RET(), FRAME());
        KEEP(r);
    }
    return r;
}

/* a free of the extras: pool blocks are dropped; 1 when the allocator is
 * to be called */
static inline int extra_free(void *p)
{
    if (MSR_UNLIKELY(msr_pool_owns(p))) return 0;
    if (rec_free_want(p)) rec_free(MS_OP_FREE, p);
    return 1;
}

static void x_dallocx(void *p, int fl)
{
    if (extra_free(p)) msr_next.dallocx(p, fl);
}

static void x_sdallocx(void *p, size_t n, int fl)
{
    if (extra_free(p)) msr_next.sdallocx(p, n, fl);
}

static void x_free_sized(void *p, size_t n)
{
    if (extra_free(p)) msr_next.free_sized(p, n);
}

static void x_free_aligned_sized(void *p, size_t al, size_t n)
{
    if (extra_free(p)) msr_next.free_aligned_sized(p, al, n);
}

/* ------------------------------------------------------------------------ */
/* C++ operators                                                            */
/* ------------------------------------------------------------------------ */

typedef void (*new_handler_fn)(void);
static new_handler_fn get_new_handler(void)
{
    static new_handler_fn (*get)(void);
    if (!get) get = (new_handler_fn (*)(void))dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv");
    return get ? get() : NULL;
}

__attribute__((noreturn)) static void throw_bad_alloc(void)
{
    void (*thr)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv");
    if (thr) thr();
    abort();
}

static void *cxx_new(uint8_t op, size_t n, size_t al, int nothrow, void *ret, void *frame)
{
    for (;;) {
        void *p = al ? msr_next.memalign(al, n) : msr_next.malloc(n);
        if ((p || !get_new_handler()) && rec_alloc_want(n))
            rec_alloc(op, p, n, 0, 0, ret, frame);
        if (p) return p;
        new_handler_fn h = get_new_handler();
        if (!h) {
            if (nothrow) return NULL;
            throw_bad_alloc();
        }
        h();
    }
}

/* The allocator's own nothrow operator (tcmalloc, jemalloc) did the
 * work: record it; the throwing operators throw when it gave NULL (its
 * new-handler loop has run: the nothrow new returns NULL exactly where the
 * throwing one throws bad_alloc). */
static inline void *cxx_newed(uint8_t op, void *p, size_t n, int nothrow, void *ret, void *frame)
{
    if (rec_alloc_want(n)) rec_alloc(op, p, n, 0, 0, ret, frame);
    if (!p && !nothrow) throw_bad_alloc();
    return p;
}

/* fwd: the allocator's own nothrow operator new, or its operator delete of
 * the same name and signature, called inside the guard so calls it makes to
 * the allocator's public functions (jemalloc's sized delete calls sdallocx)
 * are not recorded twice; else malloc/memalign/free of the table. */
#define NEW_FN(name, op, params, fwd_name, fwd_params, fwd_args, size, al, nothrow) \
    void *name params;                                                      \
    void *name params                                                       \
    {                                                                       \
        void *(*fwd) fwd_params = (void *(*) fwd_params)msr_next_cxx()->fwd_name; \
        void *p;                                                            \
        if (fwd) {                                                          \
            int g = msr_tls.guard;                                          \
            msr_tls.guard = 1;                                              \
            p = fwd fwd_args;                                               \
            msr_tls.guard = g;                                              \
            p = cxx_newed(op, p, size, nothrow, RET(), FRAME());            \
        } else {                                                            \
            p = cxx_new(op, size, al, nothrow, RET(), FRAME());             \
        }                                                                   \
        KEEP(p);                                                            \
        return p;                                                           \
    }
#define DEL_FN(name, op, params, args)                                      \
    void name params;                                                       \
    void name params                                                        \
    {                                                                       \
        void (*fwd) params = (void (*) params)msr_next_cxx()->name;         \
        if (rec_free_want(p)) rec_free(op, p);                              \
        if (fwd) {                                                          \
            int g = msr_tls.guard;                                          \
            msr_tls.guard = 1;                                              \
            fwd args;                                                       \
            msr_tls.guard = g;                                              \
        } else {                                                            \
            msr_next.free(p);                                               \
        }                                                                   \
    }

typedef struct { int x; } msr_nothrow_t;
#pragma GCC diagnostic ignored "-Wunused-parameter"


/* stands for std::nothrow (the operators do not read it) */
static const msr_nothrow_t nt0;
#define NT1 (size_t n, const msr_nothrow_t *nt)
#define NT2 (size_t n, size_t al, const msr_nothrow_t *nt)

NEW_FN(_Znwm, MS_OP_NEW, (size_t n), _ZnwmRKSt9nothrow_t, NT1, (n, &nt0), n, 0, 0)
NEW_FN(_Znam, MS_OP_NEW_ARRAY, (size_t n), _ZnamRKSt9nothrow_t, NT1, (n, &nt0), n, 0, 0)
NEW_FN(_ZnwmRKSt9nothrow_t, MS_OP_NEW, (size_t n, const msr_nothrow_t *nt),
       _ZnwmRKSt9nothrow_t, NT1, (n, nt), n, 0, 1)
NEW_FN(_ZnamRKSt9nothrow_t, MS_OP_NEW_ARRAY, (size_t n, const msr_nothrow_t *nt),
       _ZnamRKSt9nothrow_t, NT1, (n, nt), n, 0, 1)
NEW_FN(_ZnwmSt11align_val_t, MS_OP_NEW, (size_t n, size_t al),
       _ZnwmSt11align_val_tRKSt9nothrow_t, NT2, (n, al, &nt0), n, al, 0)
NEW_FN(_ZnamSt11align_val_t, MS_OP_NEW_ARRAY, (size_t n, size_t al),
       _ZnamSt11align_val_tRKSt9nothrow_t, NT2, (n, al, &nt0), n, al, 0)
NEW_FN(_ZnwmSt11align_val_tRKSt9nothrow_t, MS_OP_NEW, (size_t n, size_t al, const msr_nothrow_t *nt),
       _ZnwmSt11align_val_tRKSt9nothrow_t, NT2, (n, al, nt), n, al, 1)
NEW_FN(_ZnamSt11align_val_tRKSt9nothrow_t, MS_OP_NEW_ARRAY,
       (size_t n, size_t al, const msr_nothrow_t *nt),
       _ZnamSt11align_val_tRKSt9nothrow_t, NT2, (n, al, nt), n, al, 1)

DEL_FN(_ZdlPv, MS_OP_DELETE, (void *p), (p))
DEL_FN(_ZdaPv, MS_OP_DELETE_ARRAY, (void *p), (p))
DEL_FN(_ZdlPvm, MS_OP_DELETE, (void *p, size_t n), (p, n))
DEL_FN(_ZdaPvm, MS_OP_DELETE_ARRAY, (void *p, size_t n), (p, n))
DEL_FN(_ZdlPvSt11align_val_t, MS_OP_DELETE, (void *p, size_t al), (p, al))
DEL_FN(_ZdaPvSt11align_val_t, MS_OP_DELETE_ARRAY, (void *p, size_t al), (p, al))
DEL_FN(_ZdlPvmSt11align_val_t, MS_OP_DELETE, (void *p, size_t n, size_t al), (p, n, al))
DEL_FN(_ZdaPvmSt11align_val_t, MS_OP_DELETE_ARRAY, (void *p, size_t n, size_t al), (p, n, al))
DEL_FN(_ZdlPvRKSt9nothrow_t, MS_OP_DELETE, (void *p, const msr_nothrow_t *nt), (p, nt))
DEL_FN(_ZdaPvRKSt9nothrow_t, MS_OP_DELETE_ARRAY, (void *p, const msr_nothrow_t *nt), (p, nt))
DEL_FN(_ZdlPvSt11align_val_tRKSt9nothrow_t, MS_OP_DELETE,
       (void *p, size_t al, const msr_nothrow_t *nt), (p, al, nt))
DEL_FN(_ZdaPvSt11align_val_tRKSt9nothrow_t, MS_OP_DELETE_ARRAY,
       (void *p, size_t al, const msr_nothrow_t *nt), (p, al, nt))

/* ------------------------------------------------------------------------ */
/* Extras, exported only where the allocator has them                       */
/* ------------------------------------------------------------------------ */
/* jemalloc's API, C23's sized frees and tcmalloc's tc_* names are IFUNCs:
 * a program that probes for them (weak reference, dlsym) finds them exactly
 * where it would without libmemscope (msr_next_lookup; the first law).
 * tcmalloc's tc_* functions are aliases of its malloc, free, operator new...
 * (one address each, libtcmalloc 2.10), so each resolves to our entry point
 * of the standard name, reached through a hidden alias (no GOT: a resolver
 * may run before libmemscope is relocated); a program linked with
 * libtcmalloc that calls tc_malloc, tc_delete_sized... is recorded like
 * malloc, operator delete... tc_malloc_skip_new_handler is tcmalloc's own
 * (malloc that never calls the new-handler in tc_set_new_mode(1)). Not
 * wrapped: size queries (malloc_usable_size, tc_malloc_size, nallocx: the
 * allocator's answer for its own block), statistics, cfree (glibc's is a
 * compat symbol only; tc_cfree is). */
static void *x_tc_malloc_skip_new_handler(size_t n)
{
    void *p = msr_next_tc_skip_nh ? msr_next_tc_skip_nh(n) : msr_next.malloc(n);
    if (rec_alloc_want(n)) {
        rec_alloc(MS_OP_MALLOC, p, n, 0, 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-attributes"   /* leaf, nothrow: libc's declarations */
#define H_ALIAS(name) extern __typeof__(name) h_##name __attribute__((alias(#name), visibility("hidden")));
H_ALIAS(malloc) H_ALIAS(free) H_ALIAS(calloc) H_ALIAS(realloc) H_ALIAS(memalign)
H_ALIAS(posix_memalign) H_ALIAS(valloc) H_ALIAS(pvalloc)
H_ALIAS(_Znwm) H_ALIAS(_Znam) H_ALIAS(_ZnwmRKSt9nothrow_t) H_ALIAS(_ZnamRKSt9nothrow_t)
H_ALIAS(_ZnwmSt11align_val_t) H_ALIAS(_ZnamSt11align_val_t)
H_ALIAS(_ZnwmSt11align_val_tRKSt9nothrow_t) H_ALIAS(_ZnamSt11align_val_tRKSt9nothrow_t)
H_ALIAS(_ZdlPv) H_ALIAS(_ZdaPv) H_ALIAS(_ZdlPvm) H_ALIAS(_ZdaPvm)
H_ALIAS(_ZdlPvSt11align_val_t) H_ALIAS(_ZdaPvSt11align_val_t)
H_ALIAS(_ZdlPvmSt11align_val_t) H_ALIAS(_ZdaPvmSt11align_val_t)
H_ALIAS(_ZdlPvRKSt9nothrow_t) H_ALIAS(_ZdaPvRKSt9nothrow_t)
H_ALIAS(_ZdlPvSt11align_val_tRKSt9nothrow_t) H_ALIAS(_ZdaPvSt11align_val_tRKSt9nothrow_t)
#undef H_ALIAS
#pragma GCC diagnostic pop

/* name: an IFUNC resolving to impl where the allocator defines name */
#define EXTRA(name, impl)                                                   \
    __typeof__(impl) name;                                                  \
    static __typeof__(&impl) r_##name(void)                                 \
    {                                                                       \
        return (__typeof__(&impl))msr_next_lookup(#name, (void *)impl);     \
    }                                                                       \
    __typeof__(impl) name __attribute__((ifunc("r_" #name)));

EXTRA(mallocx, x_mallocx) EXTRA(rallocx, x_rallocx) EXTRA(xallocx, x_xallocx)
EXTRA(dallocx, x_dallocx) EXTRA(sdallocx, x_sdallocx)
EXTRA(free_sized, x_free_sized) EXTRA(free_aligned_sized, x_free_aligned_sized)

EXTRA(tc_malloc, h_malloc) EXTRA(tc_free, h_free) EXTRA(tc_cfree, h_free)
EXTRA(tc_calloc, h_calloc) EXTRA(tc_realloc, h_realloc) EXTRA(tc_memalign, h_memalign)
EXTRA(tc_posix_memalign, h_posix_memalign) EXTRA(tc_valloc, h_valloc)
EXTRA(tc_pvalloc, h_pvalloc) EXTRA(tc_free_sized, x_free_sized)
EXTRA(tc_malloc_skip_new_handler, x_tc_malloc_skip_new_handler)
EXTRA(tc_new, h__Znwm) EXTRA(tc_newarray, h__Znam)
EXTRA(tc_new_nothrow, h__ZnwmRKSt9nothrow_t) EXTRA(tc_newarray_nothrow, h__ZnamRKSt9nothrow_t)
EXTRA(tc_new_aligned, h__ZnwmSt11align_val_t) EXTRA(tc_newarray_aligned, h__ZnamSt11align_val_t)
EXTRA(tc_new_aligned_nothrow, h__ZnwmSt11align_val_tRKSt9nothrow_t)
EXTRA(tc_newarray_aligned_nothrow, h__ZnamSt11align_val_tRKSt9nothrow_t)
EXTRA(tc_delete, h__ZdlPv) EXTRA(tc_deletearray, h__ZdaPv)
EXTRA(tc_delete_sized, h__ZdlPvm) EXTRA(tc_deletearray_sized, h__ZdaPvm)
EXTRA(tc_delete_aligned, h__ZdlPvSt11align_val_t) EXTRA(tc_deletearray_aligned, h__ZdaPvSt11align_val_t)
EXTRA(tc_delete_sized_aligned, h__ZdlPvmSt11align_val_t)
EXTRA(tc_deletearray_sized_aligned, h__ZdaPvmSt11align_val_t)
EXTRA(tc_delete_nothrow, h__ZdlPvRKSt9nothrow_t) EXTRA(tc_deletearray_nothrow, h__ZdaPvRKSt9nothrow_t)
EXTRA(tc_delete_aligned_nothrow, h__ZdlPvSt11align_val_tRKSt9nothrow_t)
EXTRA(tc_deletearray_aligned_nothrow, h__ZdaPvSt11align_val_tRKSt9nothrow_t)
#undef EXTRA

/* ------------------------------------------------------------------------ */
/* Stack bounds                                                             */
/* ------------------------------------------------------------------------ */
/* glibc's pthread_getattr_np holds the thread's descriptor lock while it
 * allocates: it reallocs a CPU set, and for the main thread reads
 * /proc/self/maps through fopen and getline. The JVM (every thread it
 * starts), Rust's std and V8 call it for their own thread before anything
 * else, so such a thread's first heap event can come from inside it, and
 * asking pthread_getattr_np for the thread's bounds then (thread_attach)
 * waits for ever on the lock the thread holds (the lock is not recursive:
 * `java -version` hung). Calls are counted here; a thread met inside one
 * is attached without bounds and its next stack outside reads them
 * (msr_capture_stack, on the path of a thread without bounds only; until
 * then its stacks are unwound by libunwind, which needs none). Resolved at load time, like exec.c's execvpe. */
typedef int (*getattr_fn)(pthread_t, pthread_attr_t *);
static getattr_fn real_getattr;
/* glibc's own name, for a static program (no RTLD_NEXT there) */
extern int __pthread_getattr_np(pthread_t, pthread_attr_t *) __attribute__((weak));

__attribute__((constructor)) static void getattr_resolve(void)
{
    real_getattr = (getattr_fn)dlsym(RTLD_NEXT, "pthread_getattr_np");
    if (!real_getattr && __pthread_getattr_np) real_getattr = __pthread_getattr_np;
}

int pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
    if (!real_getattr) getattr_resolve();
    if (!real_getattr) return ENOSYS;
    msr_tls.in_getattr++;
    int r = real_getattr(th, attr);
    msr_tls.in_getattr--;
    return r;
}

/* ------------------------------------------------------------------------ */
/* Thread names                                                             */
/* ------------------------------------------------------------------------ */
int pthread_setname_np(pthread_t th, const char *name)
{
    static int (*real)(pthread_t, const char *);
    if (!real) real = (int (*)(pthread_t, const char *))dlsym(RTLD_NEXT, "pthread_setname_np");
    if (!real) return ENOSYS;
    int r = real(th, name);
    if (r == 0 && atomic_load_explicit(&msr_mode, memory_order_relaxed) == MSR_REC) {
        if (pthread_equal(th, pthread_self())) msr_thread_renamed(name);
        else atomic_fetch_add_explicit(&msr_names_gen, 1, memory_order_release);
    }
    return r;
}

/* The calling thread took a new name (pthread_setname_np, prctl
 * PR_SET_NAME): remember it here, the thread may be gone before the writer
 * writes it, and the writer reads no /proc file for it. */
void msr_thread_renamed(const char *name)
{
    msr_thread *t = msr_tls.t;
    if (!t || !name || atomic_load_explicit(&msr_mode, memory_order_relaxed) != MSR_REC) return;
    size_t n = strnlen(name, sizeof t->set_name - 1);
    memcpy(t->set_name, name, n);
    t->set_name[n] = 0;
    atomic_fetch_add_explicit(&t->set_name_seq, 1, memory_order_release);
}
