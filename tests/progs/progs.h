/* Shared helpers of the recorder test programs (tests/progs/NAME.c).
 * Output goes through write(2), never stdio, so the programs make no
 * libc-internal allocations of their own (stdio buffers): their heap truth is
 * exactly the calls they make, and valgrind's "total heap usage" agrees. */
#ifndef MS_PROGS_H
#define MS_PROGS_H
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* printf-like output to fd 1 without stdio (vsnprintf does not allocate for
 * the integer and string conversions used here). */
static inline void out(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    for (int o = 0; o < n;) {
        ssize_t w = write(1, buf + o, (size_t)(n - o));
        if (w <= 0)
            break;
        o += (int)w;
    }
}

/* The program's own heap truth, counted the way valgrind counts: a
 * successful realloc of a non-NULL block is one alloc and one free,
 * realloc(p, 0) is one free, failed calls count nothing. Peak treats a
 * realloc as an atomic replacement. */
static unsigned long t_allocs, t_frees, t_bytes, t_live, t_live_blocks, t_peak;
static inline void t_alloc(unsigned long n)
{
    t_allocs++; t_bytes += n; t_live += n; t_live_blocks++;
    if (t_live > t_peak) t_peak = t_live;
}
static inline void t_free(unsigned long n)
{
    t_frees++; t_live -= n; t_live_blocks--;
}
static inline void t_realloc(unsigned long oldn, unsigned long newn)
{
    t_frees++; t_allocs++; t_bytes += newn;
    t_live = t_live - oldn + newn;
    if (t_live > t_peak) t_peak = t_live;
}
static inline void t_print(const char *prog)
{
    out("TRUTH %s allocs=%lu frees=%lu bytes=%lu live_blocks=%lu live_bytes=%lu peak=%lu\n",
        prog, t_allocs, t_frees, t_bytes, t_live_blocks, t_live, t_peak);
}
#endif
