/* Shared bits of the heap benchmark workloads (bench/heap/NAME.c): a
 * deterministic xorshift generator, a compiler barrier that keeps
 * malloc/free pairs from being optimised away, and a fixed-depth call
 * chain so every allocation is made about 10 frames below main. */
#ifndef BENCH_HEAP_COMMON_H
#define BENCH_HEAP_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}
#define ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

typedef void (*bench_fn)(void *arg);

/* Call fn(arg) `depth` frames further down (noinline, not a tail call). */
__attribute__((noinline)) static int descend(int depth, bench_fn fn, void *arg)
{
    if (depth <= 0) {
        fn(arg);
        return 0;
    }
    int r = descend(depth - 1, fn, arg);
    ESCAPE(&r);
    return r + 1;
}

static inline unsigned long arg_ul(int argc, char **argv, int i, unsigned long def)
{
    return argc > i ? strtoul(argv[i], NULL, 10) : def;
}
#endif
