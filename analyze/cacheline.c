/*
 * Giving read buffers back to memory (cacheline.h). The two-thread
 * converters (pump.c: reader -> replay; blockpipe.c: replay -> per-block
 * models) recycle their batches: the producer writes a batch the consumer
 * read a moment ago, and every line of it sits shared in the consumer's
 * cache, so each of the producer's stores first has to take the line back
 * from the other core. On a 2-vCPU AMD EPYC VM that made msconv --text on
 * a 10.2 M-event trace no faster on two threads than on one (0.41-0.54 s
 * against 0.44 s, 0.7 s of CPU against 0.43); with the consumer flushing
 * each batch once it is done, 0.28-0.29 s (0.48 s of CPU).
 */
#include "cacheline.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

static int kind = -1;                  /* 0 none, 1 clflush, 2 clflushopt */

static int flush_kind(void)
{
    int k = __atomic_load_n(&kind, __ATOMIC_RELAXED);
    if (k >= 0) return k;
    k = 0;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (d & (1u << 19))) k = 1;
    if (k && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 23))) k = 2;
#endif
    const char *v = getenv("MEMSCOPE_PUMP_FLUSH");
    if (v && !strcmp(v, "0")) k = 0;
    __atomic_store_n(&kind, k, __ATOMIC_RELAXED);
    return k;
}

void ms_cacheline_release(const void *p, size_t n)
{
#if defined(__x86_64__)
    int k = flush_kind();
    if (!k || !n) return;
    uintptr_t l = (uintptr_t)p & ~(uintptr_t)63, e = (uintptr_t)p + n;
    if (k == 2)
        for (; l < e; l += 64) __asm__ __volatile__("clflushopt %0" : : "m"(*(const char *)l));
    else
        for (; l < e; l += 64) __asm__ __volatile__("clflush %0" : : "m"(*(const char *)l));
#else
    (void)p, (void)n;
#endif
}
