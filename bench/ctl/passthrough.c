/*
 * passthrough.c — the floor for a dormant or sampling recorder: a bare
 * LD_PRELOAD interposer whose malloc/free/calloc/realloc call glibc's
 * __libc_* functions and add the size to a thread-local counter (the least
 * an interposer that keeps any state does). bench/dormant.sh measures
 * libmemscope with MEMSCOPE_CONTROL=1 (dormant) against it.
 */
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static __thread __attribute__((tls_model("initial-exec"))) size_t bytes;

void *malloc(size_t n)
{
    bytes += n;
    return __libc_malloc(n);
}

void free(void *p) { __libc_free(p); }

void *calloc(size_t n, size_t m)
{
    bytes += n * m;
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    bytes += n;
    return __libc_realloc(p, n);
}
