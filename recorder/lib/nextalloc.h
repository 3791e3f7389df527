/*
 * nextalloc.h — the allocator libmemscope forwards to (nextalloc.c).
 *
 * msr_next holds the malloc family of the allocator the program really
 * uses (glibc, or jemalloc / tcmalloc / another one loaded after
 * libmemscope): the entry points of interpose.c call through it. Before the
 * first call resolves it, every field points at a stub that resolves the
 * table and calls on; while the resolving thread is inside dlsym, the stubs
 * serve its allocations from a static pool whose blocks are never given to
 * the allocator (frees of them are ignored: msr_pool_owns).
 */
#ifndef MS_NEXTALLOC_H
#define MS_NEXTALLOC_H

#include "recorder_internal.h"

struct msr_next {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    /* jemalloc's non-standard API and C23's sized frees: the allocator's
     * own, else equivalents built on the functions above */
    void *(*mallocx)(size_t, int);
    void *(*rallocx)(void *, size_t, int);
    size_t (*xallocx)(void *, size_t, size_t, int);
    void (*dallocx)(void *, int);
    void (*sdallocx)(void *, size_t, int);
    void (*free_sized)(void *, size_t);
    void (*free_aligned_sized)(void *, size_t, size_t);
};
extern MSR_HIDDEN struct msr_next msr_next;
/* tcmalloc's tc_malloc_skip_new_handler (its only tc_* name that is not an
 * alias of a standard one), NULL elsewhere */
extern MSR_HIDDEN void *(*msr_next_tc_skip_nh)(size_t);

/* The allocator's own C++ operators (tcmalloc and jemalloc define them),
 * by mangled name; NULL when it has none (glibc: libstdc++'s operators
 * would call malloc again, so interpose.c uses msr_next.malloc instead).
 * Only the nothrow news: interpose.c calls them inside the recorder's
 * guard (the allocator's operators may call its public functions, e.g.
 * jemalloc's sized delete calls sdallocx) and throws bad_alloc itself. */
struct msr_next_cxx {
    void *_ZnwmRKSt9nothrow_t, *_ZnamRKSt9nothrow_t;
    void *_ZnwmSt11align_val_tRKSt9nothrow_t, *_ZnamSt11align_val_tRKSt9nothrow_t;
    void *_ZdlPv, *_ZdaPv, *_ZdlPvm, *_ZdaPvm;
    void *_ZdlPvSt11align_val_t, *_ZdaPvSt11align_val_t;
    void *_ZdlPvmSt11align_val_t, *_ZdaPvmSt11align_val_t;
    void *_ZdlPvRKSt9nothrow_t, *_ZdaPvRKSt9nothrow_t;
    void *_ZdlPvSt11align_val_tRKSt9nothrow_t, *_ZdaPvSt11align_val_tRKSt9nothrow_t;
};
extern MSR_HIDDEN struct msr_next_cxx msr_next_cxx_tab;
extern MSR_HIDDEN _Atomic int msr_next_ready;

/* Fill msr_next (idempotent; any thread; a nested call from the resolving
 * thread returns at once). */
void msr_next_resolve(void) MSR_HIDDEN;

static inline const struct msr_next_cxx *msr_next_cxx(void)
{
    if (MSR_UNLIKELY(!atomic_load_explicit(&msr_next_ready, memory_order_acquire)))
        msr_next_resolve();
    return &msr_next_cxx_tab;
}

/* For the IFUNC resolvers of the extras (interpose.c): ours, when the
 * object that serves malloc after libmemscope defines name; else the first
 * later object's own definition; NULL when no object after libmemscope
 * defines it (the name then looks absent, as without libmemscope). Safe
 * before libmemscope is relocated (answers ours then). */
void *msr_next_lookup(const char *name, void *ours) MSR_HIDDEN;

#define MSR_POOL_SIZE (64u * 1024u)
extern MSR_HIDDEN char msr_pool[MSR_POOL_SIZE];
static inline int msr_pool_owns(const void *p)
{
    return (uintptr_t)p - (uintptr_t)msr_pool < MSR_POOL_SIZE;
}
size_t msr_pool_used(void) MSR_HIDDEN;   /* bytes handed out so far     */
/* realloc of a pool block: a new block of the allocator with its bytes
 * (the pool block stays where it is). */
void *msr_pool_realloc(void *old, size_t n) MSR_HIDDEN;

/* After msr_next_resolve: 1 when the program's malloc is ours (every call
 * passes through the recorder), 0 when an allocator before libmemscope in
 * symbol lookup serves it; and that allocator's file (the executable's
 * path when it defines malloc itself). */
int msr_next_interposed(void) MSR_HIDDEN;
const char *msr_next_allocator(void) MSR_HIDDEN;
int msr_next_in_exe(void) MSR_HIDDEN;

#endif
