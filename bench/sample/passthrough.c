/*
 * passthrough.so — the cost floor of any malloc interposer (bench/sample.sh):
 * malloc and free forwarded to glibc's __libc_* entry points with a
 * thread-local byte counter (what a sampler must at least do), nothing
 * else. Sampled recording and a dormant recorder are measured against it.
 */
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);

static __thread int64_t left __attribute__((tls_model("initial-exec"))) = 1 << 30;
static volatile uint64_t crossings;

void *malloc(size_t n)
{
    void *p = __libc_malloc(n);
    if ((left -= (int64_t)n) <= 0) {
        left = 1 << 30;
        crossings++;
    }
    return p;
}

void free(void *p) { __libc_free(p); }
