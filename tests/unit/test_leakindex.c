/*
 * test_leakindex.c — the leak scanner's block look-up (recorder/lib/
 * leakscan.c, find_block through its page index) against a plain search
 * over the blocks: every address in and around sets of blocks that stress
 * the index — many small blocks sharing pages, blocks ending and starting
 * on page boundaries, zero-size blocks, blocks over more than PG_SPAN pages
 * next to small ones on their first and last pages, a block up to the top
 * of the address space — must name the same block (or none). The exit
 * scan's classes are only as right as this look-up; tests/recorder checks
 * them on real programs. The scanner's source is compiled in.
 */
#include "../../recorder/lib/leakscan.c"

#include "mstest.h"

#include <stdlib.h>

size_t msr_next_mappings(uint64_t *lohi, size_t max) { (void)lohi; (void)max; return 0; }

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static long brute(const ms_live_block *b, size_t n, uint64_t a)
{
    for (size_t i = 0; i < n; i++)
        if (a == b[i].addr || a - b[i].addr < b[i].size) return (long)i;
    return -1;
}

#define MAXB 20000
static ms_live_block blocks[MAXB];

/* Lay out n blocks from base: gaps and sizes by kind, sorted, disjoint. */
static size_t layout(int kind, uint64_t base)
{
    size_t n = 0;
    uint64_t a = base;
    while (n < MAXB - 1) {
        uint64_t r = next(), size, gap;
        switch (kind) {
        case 0: size = 16 + r % 64; gap = 16 * (r >> 60); break;          /* dense small */
        case 1: size = r % 5 == 0 ? 0 : 4096 - (a & 4095); gap = r % 3 ? 0 : 4096; break; /* page edges */
        default:                                                       /* mixed, big */
            size = r % 11 == 0 ? (uint64_t)(PG_SPAN + 1 + r % 40) << PG_SHIFT : 8 + r % 3000;
            gap = (r >> 40) % 5000;
            break;
        }
        blocks[n].addr = a;
        blocks[n].size = size;
        blocks[n].leak_class = 0;
        n++;
        a += (size ? size : 1) + gap;
        if (kind == 2 && n == 3000) break;
        if (kind < 2 && n == 12000) break;
    }
    if (kind == 2) {                  /* the last one ends at the top */
        blocks[n].addr = UINT64_MAX - 5 * 4096;
        blocks[n].size = 5 * 4096;
        n++;
    }
    return n;
}

int main(void)
{
    for (int kind = 0; kind < 3; kind++) {
        size_t n = layout(kind, 0x5555550000ull + 8 * (uint64_t)kind);
        struct scan *s = map_anon(sizeof *s);
        CHECK("leakindex/scan-mapped", s != NULL);
        if (!s) return 1;
        CHECK_EQ_U64("leakindex/prepare", 0, prepare(s, blocks, n, NULL, 0));
        CHECK("leakindex/index-built", s->pg != NULL);
        size_t bad = 0, probes = 0, hits = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t a = blocks[i].addr, len = blocks[i].size ? blocks[i].size : 1;
            uint64_t probe[] = { a - 1, a, a + 1, a + len / 2, a + len - 1, a + len, a + len + 7,
                                 (a & ~(uint64_t)4095) - 1, (a | 4095) + 1, a + 4096 * (next() % 40) };
            for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++) {
                long want = brute(blocks, n, probe[k]), got = find_block(s, probe[k]);
                probes++;
                hits += want >= 0;
                if (want != got && bad++ < 8)
                    printf("  %#llx: want block %ld, got %ld\n", (unsigned long long)probe[k], want, got);
            }
        }
        CHECK_EQ_U64(kind == 0 ? "leakindex/dense/mismatches" : kind == 1 ? "leakindex/page-edges/mismatches"
                                                              : "leakindex/big-mixed/mismatches", 0, bad);
        CHECK("leakindex/probes-hit-and-miss", hits > probes / 4 && hits < probes);
        if (kind == 2) CHECK("leakindex/big-blocks-apart", s->nbig > 100);
        munmap(s->pg, s->pg_bytes);
        munmap(s->lib, n);
        munmap(s->work, n * sizeof(size_t));
        munmap(s->slots, MAX_SLOTS * sizeof(struct slot));
        munmap(s->ex, s->excap * sizeof *s->ex);
        munmap(s, sizeof *s);
    }
    return ms_test_failures != 0;
}
