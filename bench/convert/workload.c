/*
 * workload — the allocation pattern converted by bench/convert.sh: N
 * allocations (default 5,100,000, so about 10.2 M heap events with their
 * frees) from 192 distinct call stacks (4 entry functions x 6 chain
 * depths x 8 leaf functions), mixed sizes (mostly 16 B..4 KiB in 16 B steps, 1 in
 * 64 up to 256 KiB in 4 KiB steps), held in a ring of 4096 live blocks so frees come in a
 * different order than the allocations, and 1 allocation in 10,000
 * deliberately leaked. Deterministic (fixed xorshift seed). Prints
 * "EVENTS n" (allocations + frees).
 * usage: workload [N]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING 4096
#define ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

static void *ring[RING];
static unsigned long frees;
void *leaked_list;                 /* global: leaks stay reachable */

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

#define LEAF(name) \
    __attribute__((noinline)) static void *name(size_t sz) { void *p = malloc(sz); ESCAPE(p); return p; }
LEAF(leaf_parse) LEAF(leaf_buffer) LEAF(leaf_node) LEAF(leaf_string)
LEAF(leaf_vector) LEAF(leaf_hash) LEAF(leaf_cache) LEAF(leaf_message)
typedef void *(*leaf_fn)(size_t);
static leaf_fn const leaves[8] = {leaf_parse, leaf_buffer, leaf_node, leaf_string,
                                  leaf_vector, leaf_hash, leaf_cache, leaf_message};

/* Call chains: one of 4 entry functions, then 1..6 distinct level frames,
 * then one of 8 leaves = 192 stacks. Sizes are quantized (320 distinct)
 * because heaptrack 1.4 dies with std::bad_alloc after ~170 k allocations
 * when there are ~10^5 distinct (size, stack) pairs, as with byte-exact
 * random sizes from 200 stacks. */
#define LEVEL(k, next) \
    __attribute__((noinline)) static void *level##k(int depth, int leaf, size_t sz) \
    { void *p = depth <= k ? leaves[leaf](sz) : next(depth, leaf, sz); ESCAPE(&p); return p; }
static void *level5(int depth, int leaf, size_t sz) { (void)depth; return leaves[leaf](sz); }
LEVEL(4, level5) LEVEL(3, level4) LEVEL(2, level3) LEVEL(1, level2) LEVEL(0, level1)
#define ENTRY(name) \
    __attribute__((noinline)) static void *name(int depth, int leaf, size_t sz) \
    { void *p = level0(depth, leaf, sz); ESCAPE(&p); return p; }
ENTRY(load_config) ENTRY(handle_request) ENTRY(render_page) ENTRY(flush_log)

static void *make(int site, size_t sz)
{
    int depth = site / 32 % 6, leaf = site % 8;
    switch (site / 8 % 4) {
    case 0: return load_config(depth, leaf, sz);
    case 1: return handle_request(depth, leaf, sz);
    case 2: return render_page(depth, leaf, sz);
    default: return flush_log(depth, leaf, sz);
    }
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 5100000UL;
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (unsigned long i = 0; i < n; i++) {
        uint64_t r = xorshift(&s);
        size_t sz = (r >> 40) % 64 == 0 ? 4096 * (1 + (r >> 16) % 64) : 16 * (1 + (r >> 16) % 256);
        int site = (int)((r >> 8) % 192);
        void *p = make(site, sz);
        size_t slot = (r >> 24) % RING;
        if (i % 10000 == 9999) {              /* leak: chain it, never free */
            *(void **)p = leaked_list;
            leaked_list = p;
            continue;
        }
        if (ring[slot]) { free(ring[slot]); frees++; }
        ring[slot] = p;
    }
    for (size_t i = 0; i < RING; i++)
        if (ring[i]) { free(ring[i]); frees++; }
    printf("EVENTS %lu\n", n + frees);
    return 0;
}
