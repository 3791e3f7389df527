/* The time-binned heap model (timebins.h): every block's life lands in
 * one cell (row, allocation bin, free bin) of the site table and one of the
 * thread table, so a viewer can answer "allocated in [a, b]" and "live at
 * the end of b" for any range of bins without the events. Bin widths are
 * powers of two that double as the trace grows (cells of neighbouring bins
 * merge), the way the live-heap timeline of calltree_heap.c grows. */
#include <stdlib.h>
#include <string.h>
#include "timebins.h"

static uint64_t cell_key(uint32_t row, uint16_t i, uint16_t j)
{
    return (uint64_t)row << 32 | (uint64_t)i << 16 | j;
}

void ms_tb_init(ms_tbins *tb)
{
    memset(tb, 0, sizeof *tb);
    tb->sites.idx = (ms_u64map)MS_U64MAP_INIT;
    tb->threads.idx = (ms_u64map)MS_U64MAP_INIT;
    tb->tid_row = (ms_u64map)MS_U64MAP_INIT;
    tb->ts_idx = (ms_u64map)MS_U64MAP_INIT;
}

static void table_free(ms_tb_table *t)
{
    free(t->cells);
    ms_u64map_free(&t->idx);
    memset(t, 0, sizeof *t);
}

void ms_tb_free(ms_tbins *tb)
{
    table_free(&tb->sites);
    table_free(&tb->threads);
    ms_u64map_free(&tb->tid_row);
    ms_u64map_free(&tb->ts_idx);
    free(tb->ts_key);
    free(tb->ts_bytes);
    free(tb->tids);
    free(tb->labeled);
    memset(tb, 0, sizeof *tb);
}

static int table_add(ms_tb_table *t, uint32_t row, uint16_t i, uint16_t j, uint64_t bytes, uint64_t count, uint64_t temp)
{
    uint64_t k = cell_key(row, i, j);
    uint32_t at;
    if (!ms_u64map_get(&t->idx, k, &at)) {
        if (t->n == t->cap) {
            size_t nc = t->cap ? t->cap * 2 : 256;
            ms_tb_cell *c = realloc(t->cells, nc * sizeof *c);
            if (!c) return -1;
            t->cells = c; t->cap = nc;
        }
        if (t->n >= UINT32_MAX - 1) return -1;
        at = (uint32_t)t->n;
        if (ms_u64map_put(&t->idx, k, at)) return -1;
        t->cells[t->n++] = (ms_tb_cell){ row, i, j, 0, 0, 0 };
    }
    ms_tb_cell *c = &t->cells[at];
    c->bytes += bytes; c->count += count; c->temporary += temp;
    return 0;
}

/* Halve the resolution of a table: bins i -> i / 2 (j too, unless live). */
static int table_halve(ms_tb_table *t)
{
    ms_tb_table n = { NULL, 0, 0, MS_U64MAP_INIT };
    for (size_t k = 0; k < t->n; k++) {
        const ms_tb_cell *c = &t->cells[k];
        uint16_t j = c->j == MS_TB_LIVE ? MS_TB_LIVE : (uint16_t)(c->j / 2);
        if (table_add(&n, c->row, (uint16_t)(c->i / 2), j, c->bytes, c->count, c->temporary)) { table_free(&n); return -1; }
    }
    table_free(t);
    *t = n;
    return 0;
}

static void halve_bins(uint64_t *a)
{
    for (size_t i = 0; i < MS_TB_BINS / 2; i++) a[i] = a[2 * i] + a[2 * i + 1];
    memset(a + MS_TB_BINS / 2, 0, MS_TB_BINS / 2 * sizeof *a);
}

/* Widen the bins until tick t falls in one. */
static void cover(ms_tbins *tb, uint64_t t)
{
    while ((t >> tb->shift) >= MS_TB_BINS) {
        if (table_halve(&tb->sites) || table_halve(&tb->threads)) { tb->oom = 1; return; }
        halve_bins(tb->alloc_count); halve_bins(tb->alloc_bytes); halve_bins(tb->temporary);
        halve_bins(tb->freed_bytes); halve_bins(tb->freed_count);
        tb->shift++;
        tb->nbins = (tb->nbins + 1) / 2;
    }
    size_t b = (size_t)(t >> tb->shift) + 1;
    if (b > tb->nbins) tb->nbins = b;
}

static int thread_row(ms_tbins *tb, uint64_t tid, uint32_t *row)
{
    if (ms_u64map_get(&tb->tid_row, tid, row)) return 0;
    if (tb->ntids == tb->cap_tids) {
        size_t nc = tb->cap_tids ? tb->cap_tids * 2 : 16;
        uint64_t *n = realloc(tb->tids, nc * sizeof *n);
        if (!n) return -1;
        tb->tids = n; tb->cap_tids = nc;
    }
    *row = (uint32_t)tb->ntids;
    if (ms_u64map_put(&tb->tid_row, tid, *row)) return -1;
    tb->tids[tb->ntids++] = tid;
    return 0;
}

static void keep_labeled(ms_tbins *tb, const ms_heap_block *b)
{
    tb->labeled_total++;
    if (tb->nlabeled == MS_TB_MAX_LABELED) return;
    if (tb->nlabeled == tb->cap_labeled) {
        size_t nc = tb->cap_labeled ? tb->cap_labeled * 2 : 64;
        ms_tb_labeled *n = realloc(tb->labeled, nc * sizeof *n);
        if (!n) { tb->oom = 1; return; }
        tb->labeled = n; tb->cap_labeled = nc;
    }
    tb->labeled[tb->nlabeled++] = (ms_tb_labeled){ b->addr, b->size, b->t_alloc, b->t_free, b->tid, b->seq,
                                                   b->site, b->freed, b->var_name, b->type_name };
}

static int thread_site_add(ms_tbins *tb, uint32_t row, uint32_t site, uint64_t bytes)
{
    uint64_t k = (uint64_t)row << 32 | site;
    uint32_t at;
    if (!ms_u64map_get(&tb->ts_idx, k, &at)) {
        if (tb->ts_n == tb->ts_cap) {
            size_t nc = tb->ts_cap ? tb->ts_cap * 2 : 64;
            uint64_t *a = realloc(tb->ts_key, nc * sizeof *a);
            if (a) tb->ts_key = a;
            uint64_t *b = realloc(tb->ts_bytes, nc * sizeof *b);
            if (b) tb->ts_bytes = b;
            if (!a || !b) return -1;
            tb->ts_cap = nc;
        }
        at = (uint32_t)tb->ts_n;
        if (ms_u64map_put(&tb->ts_idx, k, at)) return -1;
        tb->ts_key[tb->ts_n] = k;
        tb->ts_bytes[tb->ts_n++] = 0;
    }
    tb->ts_bytes[at] += bytes;
    return 0;
}

size_t ms_tb_thread_top(const ms_tbins *tb, uint32_t row, size_t n, uint32_t *sites, uint64_t *bytes)
{
    size_t used = 0;
    for (size_t k = 0; k < tb->ts_n && n; k++) {
        if ((uint32_t)(tb->ts_key[k] >> 32) != row) continue;
        uint64_t b = tb->ts_bytes[k];
        if (used == n && b <= bytes[n - 1]) continue;
        size_t pos = used < n ? used++ : n - 1;
        while (pos > 0 && bytes[pos - 1] < b) { sites[pos] = sites[pos - 1]; bytes[pos] = bytes[pos - 1]; pos--; }
        sites[pos] = (uint32_t)tb->ts_key[k];
        bytes[pos] = b;
    }
    return used;
}

void ms_tb_block(void *ctx, const ms_heap_block *b)
{
    ms_tbins *tb = ctx;
    if (tb->oom) return;
    cover(tb, b->freed && b->t_free > b->t_alloc ? b->t_free : b->t_alloc);
    if (tb->oom) return;
    uint16_t i = (uint16_t)(b->t_alloc >> tb->shift);
    uint16_t j = b->freed ? (uint16_t)((b->t_free < b->t_alloc ? b->t_alloc : b->t_free) >> tb->shift) : MS_TB_LIVE;
    uint64_t temp = b->temporary ? b->wcount : 0;
    uint32_t trow;
    if (table_add(&tb->sites, b->site, i, j, b->wsize, b->wcount, temp) || thread_row(tb, b->tid, &trow)
        || table_add(&tb->threads, trow, i, j, b->wsize, b->wcount, temp)
        || thread_site_add(tb, trow, b->site, b->wsize)) { tb->oom = 1; return; }
    tb->alloc_count[i] += b->wcount;
    tb->alloc_bytes[i] += b->wsize;
    tb->temporary[i] += temp;
    if (b->freed) { tb->freed_bytes[j] += b->wsize; tb->freed_count[j] += b->wcount; }
    if (b->var_name || b->type_name) keep_labeled(tb, b);
}

void ms_tb_finish(ms_tbins *tb, uint64_t end_tick)
{
    cover(tb, end_tick);
}

static int cell_cmp(const void *pa, const void *pb)
{
    const ms_tb_cell *a = pa, *b = pb;
    uint64_t x = cell_key(a->row, a->i, a->j), y = cell_key(b->row, b->i, b->j);
    return x < y ? -1 : x > y;
}

void ms_tb_sort(ms_tb_table *t)
{
    if (t->n) qsort(t->cells, t->n, sizeof *t->cells, cell_cmp);
    ms_u64map_free(&t->idx);            /* indexes no longer valid */
}

const ms_tb_cell *ms_tb_row(const ms_tb_table *t, uint32_t row, size_t *n)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->cells[mid].row < row) lo = mid + 1; else hi = mid;
    }
    size_t e = lo;
    while (e < t->n && t->cells[e].row == row) e++;
    *n = e - lo;
    return *n ? &t->cells[lo] : NULL;
}

void ms_tb_live(const ms_tbins *tb, uint64_t *out)
{
    uint64_t live = 0;
    for (size_t b = 0; b < tb->nbins; b++) {
        live += tb->alloc_bytes[b];
        live -= tb->freed_bytes[b];
        out[b] = live;
    }
}
