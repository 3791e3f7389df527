/* u64 -> u32 hash map (u64map.h): linear probing over a power-of-two
 * table, doubled when half full; values are stored + 1 so a zeroed slot
 * is empty whatever the key. */
#include "u64map.h"
#include <stdlib.h>
#include <string.h>
#include "memscope.h"

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33;
    return x;
}

int ms_u64map_get(const ms_u64map *m, uint64_t key, uint32_t *v)
{
    if (!m->cap) return 0;
    for (size_t j = mix(key) & (m->cap - 1); m->v[j]; j = (j + 1) & (m->cap - 1))
        if (m->k[j] == key) { *v = m->v[j] - 1; return 1; }
    return 0;
}

/* Rehash into nc slots (a power of two above 2 n). */
static int rehash(ms_u64map *m, size_t nc)
{
    uint64_t *nk = malloc(nc * sizeof *nk);
    uint32_t *nv = malloc(nc * sizeof *nv);
    if (!nk || !nv) { free(nk); free(nv); return MS_ENOMEM; }
    /* written before read: a fresh page read first maps the zero page
     * and its first write then faults again (a calloc'd value array of
     * megabytes cost as much as the look-ups) */
    __asm__ volatile("" : : "r"(nv) : "memory");
    memset(nv, 0, nc * sizeof *nv);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->v[i]) continue;
        size_t j = mix(m->k[i]) & (nc - 1);
        while (nv[j]) j = (j + 1) & (nc - 1);
        nk[j] = m->k[i]; nv[j] = m->v[i];
    }
    free(m->k); free(m->v);
    m->k = nk; m->v = nv; m->cap = nc;
    return 0;
}

int ms_u64map_reserve(ms_u64map *m, size_t n)
{
    size_t nc = m->cap ? m->cap : 1024;
    while (n * 2 > nc) nc *= 2;
    return nc == m->cap ? 0 : rehash(m, nc);
}

int ms_u64map_put(ms_u64map *m, uint64_t key, uint32_t v)
{
    if ((m->n + 1) * 2 > m->cap && rehash(m, m->cap ? m->cap * 2 : 1024)) return MS_ENOMEM;
    size_t j = mix(key) & (m->cap - 1);
    while (m->v[j] && m->k[j] != key) j = (j + 1) & (m->cap - 1);
    if (!m->v[j]) m->n++;
    m->k[j] = key; m->v[j] = v + 1;
    return 0;
}

int ms_u64map_find(ms_u64map *m, uint64_t key, uint32_t *v, size_t *slot)
{
    if ((m->n + 1) * 2 > m->cap && rehash(m, m->cap ? m->cap * 2 : 1024)) return MS_ENOMEM;
    size_t j = mix(key) & (m->cap - 1);
    for (; m->v[j]; j = (j + 1) & (m->cap - 1))
        if (m->k[j] == key) { *v = m->v[j] - 1; return 1; }
    *slot = j;
    return 0;
}

void ms_u64map_fill(ms_u64map *m, size_t slot, uint64_t key, uint32_t v)
{
    m->k[slot] = key;
    m->v[slot] = v + 1;
    m->n++;
}

void ms_u64map_free(ms_u64map *m)
{
    free(m->k); free(m->v);
    m->k = NULL; m->v = NULL; m->cap = m->n = 0;
}
