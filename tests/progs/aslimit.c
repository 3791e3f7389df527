/*
 * aslimit — a program that uses most of its address-space limit
 * (RLIMIT_AS, `ulimit -v`): one block of BIG MiB (argv[1]), touched, then
 * 3 threads x 2 000 small blocks, every one freed, all from glibc's main
 * arena (M_ARENA_MAX 1: a thread arena reserves 64 MiB, and whether that
 * fits would decide the run, recorder or not). Run under a limit a little
 * above BIG (tests/recorder/test_aslimit.sh). A recorder that
 * reserves hundreds of MiB of address space up front made its malloc fail
 * there ("malloc failed", exit 1) where the plain program ran.
 * Prints TRUTH aslimit big_mb=N allocs=N bytes=N.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include "progs.h"

#define NTHREADS 3
#define PER_THREAD 2000

static void *__attribute__((noinline)) small_alloc(size_t n)
{
    void *p = malloc(n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
    return p;
}

static void *worker(void *arg)
{
    (void)arg;
    static __thread void *b[PER_THREAD];
    for (int i = 0; i < PER_THREAD; i++)
        if (!(b[i] = small_alloc(24 + (size_t)(i % 5) * 8))) return (void *)1;
    for (int i = 0; i < PER_THREAD; i++) free(b[i]);
    return NULL;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 64;
    mallopt(M_ARENA_MAX, 1);
    char *big = malloc(mb << 20);
    if (!big) {
        out("malloc of %zu MiB failed\n", mb);
        return 1;
    }
    memset(big, 1, mb << 20);
    pthread_t t[NTHREADS];
    for (int k = 0; k < NTHREADS; k++)
        if (pthread_create(&t[k], NULL, worker, NULL) != 0) {
            out("pthread_create failed\n");
            return 1;
        }
    int bad = 0;
    for (int k = 0; k < NTHREADS; k++) {
        void *r;
        pthread_join(t[k], &r);
        bad |= r != NULL;
    }
    free(big);
    if (bad) {
        out("small malloc failed\n");
        return 1;
    }
    long bytes = (long)(mb << 20);
    for (int i = 0; i < PER_THREAD; i++) bytes += NTHREADS * (24 + i % 5 * 8);
    out("TRUTH aslimit big_mb=%zu allocs=%d bytes=%ld\n", mb, 1 + NTHREADS * PER_THREAD, bytes);
    return 0;
}
