/*
 * test_u64map.c — the hash map every analysis model shares
 * (analyze/u64map.c: heap.c's threads and sparse stack ids, calltree.c's
 * children, edges and lines, timebins.c's cells) against a brute-force
 * reference: 50,000 random keys (0 and keys differing only in their high
 * half included, as calltree's (parent << 32 | func) keys do), inserted
 * through put and through find + fill, over many table growths, then every
 * key read back with get and find, and keys never inserted not found.
 */
#include <stdlib.h>
#include "u64map.h"
#include "mstest.h"

#define NK 50000

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

int main(void)
{
    /* unique keys: the first 2,000 of four kinds (random with bit 62
     * set, high half only, low half only, and 0), the rest i << 40 ^ a
     * 32-bit scramble of i (bit 62 clear: apart from the random ones) */
    static uint64_t key[NK];
    for (size_t i = 0; i < NK; i++) {
        if (i >= 2000) key[i] = ((uint64_t)i << 40) ^ (uint32_t)(i * 2654435761u);
        else if (i == 3) key[i] = 0;
        else if (i % 3 == 0) key[i] = next() | 1ull << 62;
        else if (i % 3 == 1) key[i] = (uint64_t)(i + 1) << 32 | 7;   /* only the high half differs */
        else key[i] = (uint64_t)7 << 32 | (i + 1);                   /* only the low half differs */
    }
    for (size_t i = 0; i < 2000; i++)            /* (a random repeat, however unlikely) */
        for (size_t j = 0; j < i; j++)
            if (key[i] == key[j]) key[i] ^= 1ull << 61;

    ms_u64map m = MS_U64MAP_INIT;
    int bad_insert = 0;
    for (size_t i = 0; i < NK; i++) {
        if (i % 2) {
            if (ms_u64map_put(&m, key[i], (uint32_t)i)) bad_insert++;
        } else {
            uint32_t v;
            size_t slot;
            int f = ms_u64map_find(&m, key[i], &v, &slot);
            if (f != 0) bad_insert++;
            else ms_u64map_fill(&m, slot, key[i], (uint32_t)i);
        }
    }
    CHECK_EQ_U64("u64map: 50,000 keys inserted by put and by find + fill", 0, bad_insert);
    CHECK_EQ_U64("u64map: count", NK, m.n);

    int bad_get = 0, bad_find = 0;
    for (size_t i = 0; i < NK; i++) {
        uint32_t v = UINT32_MAX, w = UINT32_MAX;
        size_t slot;
        if (!ms_u64map_get(&m, key[i], &v) || v != (uint32_t)i) bad_get++;
        if (ms_u64map_find(&m, key[i], &w, &slot) != 1 || w != (uint32_t)i) bad_find++;
    }
    CHECK_EQ_U64("u64map: every key's value read back with get", 0, bad_get);
    CHECK_EQ_U64("u64map: find says present, with the value", 0, bad_find);

    int bad_absent = 0;
    for (size_t i = 0; i < 10000; i++) {
        uint64_t k = ((uint64_t)(i + NK) << 40) ^ (uint32_t)((i + NK) * 2654435761u);   /* i beyond NK */
        uint32_t v;
        if (ms_u64map_get(&m, k, &v)) bad_absent++;
    }
    CHECK_EQ_U64("u64map: 10,000 keys never inserted are not found", 0, bad_absent);

    CHECK("u64map: put replaces a value", ms_u64map_put(&m, key[5], 123) == 0);
    uint32_t v = 0;
    CHECK("u64map: the replaced value is read back, count unchanged",
          ms_u64map_get(&m, key[5], &v) && v == 123 && m.n == NK);
    ms_u64map_free(&m);
    CHECK("u64map: freed map is empty", m.cap == 0 && m.n == 0 && !ms_u64map_get(&m, key[0], &v));
    return ms_test_failures != 0;
}
