/*
 * interpose.c — the allocation entry points of libmemscope and its hot path.
 *
 * Every malloc-family function and every C++ operator new/delete variant is
 * defined here and forwards to glibc's __libc_* allocator (no dlsym, so no
 * bootstrap problem). When recording, an allocation is captured after the
 * real allocator returns and a free before the real free is called, so the
 * timestamps order address reuse across threads. The path takes no global
 * lock: a thread-local guard (the unwinder, stdio and the writer allocate),
 * the thread's own state (created on first use), an unwind + per-thread
 * stack-cache lookup, then one 32-byte slot (two for reallocs and aligned
 * allocations) stored into the thread's ring. The
 * `busy` flag around timestamp+store lets the writer thread, after a
 * membarrier(2), know that every event older than its barrier time is
 * published (see drain.c). A full ring wakes the writer and waits.
 */
#include "recorder_internal.h"

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

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

MSR_TLS struct msr_tls msr_tls;
_Atomic(msr_thread *) msr_threads;
int msr_use_membarrier;
_Atomic uint32_t msr_wake_word;
_Atomic uint32_t msr_names_gen;
_Atomic int msr_mode;
_Atomic int msr_paused;

/* ------------------------------------------------------------------------ */
/* Thread state                                                             */
/* ------------------------------------------------------------------------ */

static msr_thread *thread_attach(void);
msr_thread *msr_thread_attach(void)
{
    int saved = errno;
    msr_thread *t = thread_attach();
    errno = saved;
    return t;
}

static msr_thread *thread_attach(void)
{
    if (msr_tls.no_thread) return NULL;
    msr_thread *t = msr_alloc(sizeof *t);
    if (t) {
        t->ring = msr_alloc((size_t)MSR_RING_CAP * sizeof(msr_slot));
        t->cache = msr_alloc((size_t)MSR_CACHE_SIZE * sizeof(struct msr_cache_ent));
        if (msr_memo_bytes()) t->memo = msr_alloc(msr_memo_bytes());
    }
    if (!t || !t->ring || !t->cache) {
        if (t) {
            msr_free(t->ring);
            msr_free(t->cache);
            msr_free(t->memo);
            msr_free(t);
        }
        msr_tls.no_thread = 1;
        return NULL;
    }
    t->tid = (uint64_t)msr_gettid();
    prctl(PR_GET_NAME, (unsigned long)t->name, 0, 0, 0);
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *addr = NULL;
        size_t sz = 0;
        if (pthread_attr_getstack(&a, &addr, &sz) == 0) {
            t->stack_lo = (uintptr_t)addr;
            t->stack_hi = (uintptr_t)addr + sz;
        }
        pthread_attr_destroy(&a);
    }
    msr_thread *head = atomic_load_explicit(&msr_threads, memory_order_acquire);
    do {
        t->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&msr_threads, &head, t,
                                                    memory_order_release,
                                                    memory_order_acquire));
    msr_tls.t = t;
    return t;
}

void msr_wake_writer(void)
{
    int saved = errno;
    atomic_fetch_add_explicit(&msr_wake_word, 1, memory_order_release);
    syscall(SYS_futex, &msr_wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    errno = saved;
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
    msr_wake_writer();
    for (int i = 0;; i++) {
        uint64_t used = atomic_load_explicit(&t->n, memory_order_relaxed) -
                        atomic_load_explicit(&t->consumed, memory_order_acquire);
        if (used + k <= MSR_RING_CAP) break;
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
        if (used + k <= MSR_RING_CAP) break;
        if ((i & 63) == 0) msr_wake_writer();
        struct timespec ts = {0, 1000000};
        syscall(SYS_futex, &t->space_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
    }
    atomic_store_explicit(&t->waiting, 0, memory_order_relaxed);
}

__attribute__((always_inline))
static inline void emit(msr_thread *t, uint8_t op, uint64_t addr, uint64_t size,
                        uint64_t old, uint64_t stack, uint32_t align, int after)
{
    uint64_t n = atomic_load_explicit(&t->n, memory_order_relaxed);
    unsigned k = msr_op_ext(op) ? 2 : 1;
    uint64_t used = n - atomic_load_explicit(&t->consumed, memory_order_relaxed);
    if (MSR_UNLIKELY(used >= MSR_RING_WAKE)) {
        if (used + k > MSR_RING_CAP) {
            msr_wait_space(t, k);
            used = n - atomic_load_explicit(&t->consumed, memory_order_acquire);
            if (used + k > MSR_RING_CAP) {
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
    msr_slot *e = &t->ring[n & (MSR_RING_CAP - 1)];
    /* own the cache line a few events ahead (the writer thread read it
     * last): without this each new line stalls the store buffer */
    __builtin_prefetch(&t->ring[(n + 16) & (MSR_RING_CAP - 1)], 1, 3);
    uint64_t now = after ? msr_now_after() : msr_now();
    e->time = now;
    e->addr = addr;
    e->size = size;
    e->stack = (uint32_t)stack;
    e->op = op;
    if (MSR_UNLIKELY(k == 2)) {
        msr_slot *x = &t->ring[(n + 1) & (MSR_RING_CAP - 1)];
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

static inline int mode_rec(void)
{
    int m = atomic_load_explicit(&msr_mode, memory_order_relaxed);
    if (MSR_UNLIKELY(m == MSR_OFF) &&
        MSR_UNLIKELY(atomic_load_explicit(&msr_init_state, memory_order_relaxed) == 0)) {
        msr_early_init();
        m = atomic_load_explicit(&msr_mode, memory_order_relaxed);
    }
    return m == MSR_REC;
}

static inline int rec_alloc_on(void)
{
    return MSR_LIKELY(mode_rec()) && !msr_tls.guard &&
           !atomic_load_explicit(&msr_paused, memory_order_relaxed);
}

static inline int rec_free_on(void)
{
    return mode_rec() && !msr_tls.guard;
}

static inline msr_thread *self_thread(void)
{
    msr_thread *t = msr_tls.t;
    if (MSR_UNLIKELY(!t)) t = msr_thread_attach();
    return t;
}

/* errno: the fast path makes no system call; the slow paths (thread attach,
 * writer wake-up and waits, stack interning) preserve errno themselves. */
__attribute__((noinline))
static void rec_alloc(uint8_t op, void *p, uint64_t size, uint32_t align, uint64_t old,
                      void *ret, void *frame)
{
    msr_tls.guard = 1;
    msr_thread *t = self_thread();
    if (t) {
        uint64_t stack = msr_capture_stack(t, ret, frame);
        emit(t, op, (uint64_t)(uintptr_t)p, size, old, stack, align, p != NULL);
    }
    msr_tls.guard = 0;
}

__attribute__((noinline))
static void rec_free(uint8_t op, void *p)
{
    msr_tls.guard = 1;
    msr_thread *t = self_thread();
    if (t) emit(t, op, (uint64_t)(uintptr_t)p, 0, 0, 0, 0, 0);
    msr_tls.guard = 0;
}

/* Keep the entry point's frame alive across the recorder call (no tail
 * call), so the frame-pointer walk can start from it. */
#define KEEP(x) __asm__ __volatile__("" : : "r"(x) : "memory")
#define RET() __builtin_return_address(0)
#define FRAME() __builtin_frame_address(0)

/* ------------------------------------------------------------------------ */
/* C allocator                                                              */
/* ------------------------------------------------------------------------ */

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    if (rec_alloc_on()) {
        rec_alloc(MS_OP_MALLOC, p, n, 0, 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
}

void free(void *p)
{
    if (p && rec_free_on()) rec_free(MS_OP_FREE, p);
    __libc_free(p);
}

void *calloc(size_t n, size_t m)
{
    void *p = __libc_calloc(n, m);
    if (rec_alloc_on()) {
        size_t s;
        if (__builtin_mul_overflow(n, m, &s)) s = SIZE_MAX;
        rec_alloc(MS_OP_CALLOC, p, s, 0, 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
}

static void *do_realloc(uint8_t op, void *old, size_t n, void *ret, void *frame)
{
    if (!rec_free_on()) return __libc_realloc(old, n);
    if (atomic_load_explicit(&msr_paused, memory_order_relaxed)) {
        void *q = __libc_realloc(old, n);
        if (old && (q || n == 0)) rec_free(MS_OP_FREE, old);
        return q;
    }
    if (old && n == 0) {
        /* glibc frees the block and returns NULL: a free, stamped before */
        rec_alloc(op, NULL, 0, 0, (uint64_t)(uintptr_t)old, ret, frame);
        return __libc_realloc(old, 0);
    }
    void *q = __libc_realloc(old, n);
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
        if (rec_alloc_on()) {
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
    void *p = __libc_memalign(al, n);
    if (rec_alloc_on()) {
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
    void *p = __libc_memalign(al, n);
    if (rec_alloc_on()) {
        rec_alloc(MS_OP_ALIGNED_ALLOC, p, n, (uint32_t)(al > UINT32_MAX ? UINT32_MAX : al), 0,
                  RET(), FRAME());
        KEEP(p);
    }
    return p;
}

void *memalign(size_t al, size_t n)
{
    void *p = __libc_memalign(al, n);
    if (rec_alloc_on()) {
        rec_alloc(MS_OP_MEMALIGN, p, n, (uint32_t)(al > UINT32_MAX ? UINT32_MAX : al), 0,
                  RET(), FRAME());
        KEEP(p);
    }
    return p;
}

void *valloc(size_t n)
{
    void *p = __libc_valloc(n);
    if (rec_alloc_on()) {
        rec_alloc(MS_OP_VALLOC, p, n, (uint32_t)sysconf(_SC_PAGESIZE), 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
}

void *pvalloc(size_t n)
{
    void *p = __libc_pvalloc(n);
    if (rec_alloc_on()) {
        rec_alloc(MS_OP_PVALLOC, p, n, (uint32_t)sysconf(_SC_PAGESIZE), 0, RET(), FRAME());
        KEEP(p);
    }
    return p;
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
        void *p = al ? __libc_memalign(al, n) : __libc_malloc(n);
        if (rec_alloc_on() && (p || !get_new_handler()))
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

static inline void cxx_delete(uint8_t op, void *p)
{
    if (p && rec_free_on()) rec_free(op, p);
    __libc_free(p);
}

#define NEW_FN(name, op, params, size, al, nothrow)                        \
    void *name params;                                                      \
    void *name params                                                       \
    {                                                                       \
        void *p = cxx_new(op, size, al, nothrow, RET(), FRAME());           \
        KEEP(p);                                                            \
        return p;                                                           \
    }
#define DEL_FN(name, op, params)                                            \
    void name params;                                                       \
    void name params { cxx_delete(op, p); }

typedef struct { int x; } msr_nothrow_t;
#pragma GCC diagnostic ignored "-Wunused-parameter"


NEW_FN(_Znwm, MS_OP_NEW, (size_t n), n, 0, 0)
NEW_FN(_Znam, MS_OP_NEW_ARRAY, (size_t n), n, 0, 0)
NEW_FN(_ZnwmRKSt9nothrow_t, MS_OP_NEW, (size_t n, const msr_nothrow_t *nt), n, 0, 1)
NEW_FN(_ZnamRKSt9nothrow_t, MS_OP_NEW_ARRAY, (size_t n, const msr_nothrow_t *nt), n, 0, 1)
NEW_FN(_ZnwmSt11align_val_t, MS_OP_NEW, (size_t n, size_t al), n, al, 0)
NEW_FN(_ZnamSt11align_val_t, MS_OP_NEW_ARRAY, (size_t n, size_t al), n, al, 0)
NEW_FN(_ZnwmSt11align_val_tRKSt9nothrow_t, MS_OP_NEW,
       (size_t n, size_t al, const msr_nothrow_t *nt), n, al, 1)
NEW_FN(_ZnamSt11align_val_tRKSt9nothrow_t, MS_OP_NEW_ARRAY,
       (size_t n, size_t al, const msr_nothrow_t *nt), n, al, 1)

DEL_FN(_ZdlPv, MS_OP_DELETE, (void *p))
DEL_FN(_ZdaPv, MS_OP_DELETE_ARRAY, (void *p))
DEL_FN(_ZdlPvm, MS_OP_DELETE, (void *p, size_t n))
DEL_FN(_ZdaPvm, MS_OP_DELETE_ARRAY, (void *p, size_t n))
DEL_FN(_ZdlPvSt11align_val_t, MS_OP_DELETE, (void *p, size_t al))
DEL_FN(_ZdaPvSt11align_val_t, MS_OP_DELETE_ARRAY, (void *p, size_t al))
DEL_FN(_ZdlPvmSt11align_val_t, MS_OP_DELETE, (void *p, size_t n, size_t al))
DEL_FN(_ZdaPvmSt11align_val_t, MS_OP_DELETE_ARRAY, (void *p, size_t n, size_t al))
DEL_FN(_ZdlPvRKSt9nothrow_t, MS_OP_DELETE, (void *p, const msr_nothrow_t *nt))
DEL_FN(_ZdaPvRKSt9nothrow_t, MS_OP_DELETE_ARRAY, (void *p, const msr_nothrow_t *nt))
DEL_FN(_ZdlPvSt11align_val_tRKSt9nothrow_t, MS_OP_DELETE,
       (void *p, size_t al, const msr_nothrow_t *nt))
DEL_FN(_ZdaPvSt11align_val_tRKSt9nothrow_t, MS_OP_DELETE_ARRAY,
       (void *p, size_t al, const msr_nothrow_t *nt))

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
        msr_thread *t = msr_tls.t;
        if (t && pthread_equal(th, pthread_self())) {
            /* remember it here: the thread may be gone before the writer
             * could read /proc/self/task/TID/comm */
            size_t n = strnlen(name, sizeof t->set_name - 1);
            memcpy(t->set_name, name, n);
            t->set_name[n] = 0;
            atomic_fetch_add_explicit(&t->set_name_seq, 1, memory_order_release);
        } else {
            atomic_fetch_add_explicit(&msr_names_gen, 1, memory_order_release);
        }
    }
    return r;
}
