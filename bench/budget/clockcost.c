/*
 * clockcost — what one clock read costs on this machine, for bench/budget.sh:
 * rdtsc, clock_gettime(CLOCK_MONOTONIC) (the recorder's two clock paths:
 * MEMSCOPE_CLOCK=tsc|mono) and CLOCK_MONOTONIC_COARSE, each read N times
 * back to back; prints "rdtsc NS", "mono NS", "coarse NS" (ns a read).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* ns a clock_gettime(id) read, over n reads */
static double per_read(clockid_t id, long n, volatile uint64_t *sink)
{
    struct timespec t;
    uint64_t a = now_ns();
    for (long i = 0; i < n; i++) {
        clock_gettime(id, &t);
        *sink += (uint64_t)t.tv_nsec;
    }
    return (double)(now_ns() - a) / (double)n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    if (n < 1) n = 1;
    volatile uint64_t sink = 0;
    uint64_t a = now_ns();
    for (long i = 0; i < n; i++) {
        uint32_t lo, hi;
        __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
        sink += ((uint64_t)hi << 32) | lo;
    }
    printf("rdtsc %.1f\n", (double)(now_ns() - a) / (double)n);
    printf("mono %.1f\n", per_read(CLOCK_MONOTONIC, n, &sink));
    printf("coarse %.1f\n", per_read(CLOCK_MONOTONIC_COARSE, n, &sink));
    return sink == 42;
}
