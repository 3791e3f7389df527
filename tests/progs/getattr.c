/*
 * getattr — threads whose first heap event happens inside
 * pthread_getattr_np(pthread_self()), as in the JVM (every thread reads its
 * own stack bounds first), Rust's std and V8. glibc holds the thread's
 * descriptor lock while it reallocs a CPU set there (and, for the main
 * thread, while fopen and getline read /proc/self/maps); a recorder that
 * asks pthread_getattr_np for the bounds of a thread it meets for the first
 * time at that realloc waits on the same lock for ever (the JVM hung so).
 * NTHREADS threads do that, then allocate PER_THREAD blocks each from
 * getattr_alloc; the main thread asks for its own attributes before it
 * allocates anything itself and one thread asks for the main thread's.
 * Prints TRUTH getattr threads=N allocs=N bytes=N.
 */
#include <pthread.h>
#include <stdlib.h>
#include "progs.h"

#define NTHREADS 6
#define PER_THREAD 500

static pthread_t ids[NTHREADS], main_id;

static void *__attribute__((noinline)) getattr_alloc(size_t n)
{
    void *p = malloc(n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
    return p;
}

static size_t stack_size_of(pthread_t t)
{
    pthread_attr_t a;
    void *addr = NULL;
    size_t sz = 0;
    if (pthread_getattr_np(t, &a) != 0) return 0;
    pthread_attr_getstack(&a, &addr, &sz);
    pthread_attr_destroy(&a);
    return sz;
}

static void *worker(void *arg)
{
    long k = (long)arg;
    if (!stack_size_of(pthread_self())) return (void *)1;
    if (k == 1 && !stack_size_of(main_id)) return (void *)2;  /* another thread's */
    void *blocks[PER_THREAD];
    for (int i = 0; i < PER_THREAD; i++) blocks[i] = getattr_alloc(32 + (size_t)i % 7 * 16);
    for (int i = 0; i < PER_THREAD; i++) free(blocks[i]);
    return NULL;
}

int main(void)
{
    main_id = pthread_self();
    if (!stack_size_of(main_id)) return 1;
    long bytes = 0;
    for (int i = 0; i < PER_THREAD; i++) bytes += 32 + i % 7 * 16;
    for (long k = 0; k < NTHREADS; k++)
        if (pthread_create(&ids[k], NULL, worker, (void *)k) != 0) return 1;
    int bad = 0;
    for (int k = 0; k < NTHREADS; k++) {
        void *r;
        pthread_join(ids[k], &r);
        bad |= r != NULL;
    }
    if (bad) return 1;
    out("TRUTH getattr threads=%d allocs=%d bytes=%ld\n", NTHREADS, NTHREADS * PER_THREAD,
        NTHREADS * bytes);
    return 0;
}
