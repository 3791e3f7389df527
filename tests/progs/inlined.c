/*
 * inlined — allocations made in inlined code, for exports that must keep
 * inlined frames (msconv --pprof, tests/views/test_pprof.sh): new_node()
 * and its caller node_alloc() are always_inline, so the malloc of each
 * 48-byte node has two inlined frames inside build_list(); scratch() makes
 * 100-byte blocks it frees at once. N (argv[1], default 10) nodes and N
 * scratch blocks: N x 48 bytes stay live (never freed).
 */
#include <stdlib.h>
#include "progs.h"

static void **nodes;

static inline __attribute__((always_inline)) void *new_node(void)
{
    return malloc(48);
}

static inline __attribute__((always_inline)) void *node_alloc(void)
{
    return new_node();
}

__attribute__((noinline)) void build_list(int n)
{
    for (int i = 0; i < n; i++)
        nodes[i] = node_alloc();
}

__attribute__((noinline)) void scratch(int n)
{
    for (int i = 0; i < n; i++)
        free(malloc(100));
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    if (n < 1)
        n = 1;
    nodes = malloc((size_t)n * sizeof *nodes);
    build_list(n);
    scratch(n);
    free(nodes);
    out("TRUTH inlined allocs=%d live_blocks=%d live_bytes=%d\n", 2 * n + 1, n, 48 * n);
    return 0;
}
