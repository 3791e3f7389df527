/* The time-binned heap model (timebins.h): every block's life lands in
 * one cell (row, allocation bin, free bin) of the site table and one of the
 * thread table, so a viewer can answer "allocated in [a, b]" and "live at
 * the end of b" for any range of bins without the events. Bin widths are
 * powers of two that double as the trace grows (cells of neighbouring bins
 * merge), the way the live-heap timeline of calltree_heap.c grows.
 *
 * Blocks arrive as the replay frees them, in time order, so the cells
 * being added to at any moment are the few hundred of the current free
 * bin, while a long trace holds hundreds of thousands of cells: each table
 * keeps the cells of its current free bin in a small map of their own (the
 * cells of a bin above every bin seen so far are all new, so that map is
 * complete), and its map of every cell (idx) is brought up to date only
 * when a block comes out of order (a late event, a range) and when bins
 * merge. A new cell then costs a look-up in a map that stays in the
 * caches instead of two misses in one of megabytes. */
#include <stdlib.h>
#include <string.h>
#include "timebins.h"

static uint64_t cell_key(uint32_t row, uint16_t i, uint16_t j)
{
    return (uint64_t)row << 32 | (uint64_t)i << 16 | j;
}

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33;
    return x;
}

/* A table's cells of its current free bin (see the top of this file):
 * open addressing, a slot is in use when its generation is gen. */
typedef struct tb_cur {
    int on;                            /* every cell of free bin j is below   */
    uint16_t j;
    uint32_t maxj1;                    /* 1 + the largest free bin of a cell  */
    size_t idx_n;                      /* cells [0, idx_n) are in the idx map */
    uint64_t *key;
    uint32_t *at, *g;
    size_t cap, n;
    uint32_t gen;
    uint32_t *last;                    /* row -> the cell it added to last    */
    size_t nlast;
} tb_cur;

/* sites, threads; the thread row of the last block; per site the
 * (thread row, site) entry it added to last */
struct ms_tb_cur {
    tb_cur t[2];
    uint64_t last_tid;
    uint32_t last_trow;
    int have_tid;
    uint32_t *ts_last;
    size_t nts_last;
};

static void cur_free(tb_cur *f) { free(f->key); free(f->at); free(f->g); free(f->last); }

/* Empty the map (a new free bin). */
static void cur_clear(tb_cur *f)
{
    f->n = 0;
    if (++f->gen == 0) {               /* wrapped: no stale slot may match    */
        if (f->g) memset(f->g, 0, f->cap * sizeof *f->g);
        f->gen = 1;
    }
}

static uint32_t *cur_find(const tb_cur *f, uint64_t k)
{
    if (!f->cap) return NULL;
    for (size_t s = mix(k) & (f->cap - 1); f->g[s] == f->gen; s = (s + 1) & (f->cap - 1))
        if (f->key[s] == k) return &f->at[s];
    return NULL;
}

static int cur_put(tb_cur *f, uint64_t k, uint32_t at)
{
    if ((f->n + 1) * 2 > f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 256;
        uint64_t *nk = malloc(nc * sizeof *nk);
        uint32_t *na = malloc(nc * sizeof *na), *ng = calloc(nc, sizeof *ng);
        if (!nk || !na || !ng) { free(nk); free(na); free(ng); return -1; }
        for (size_t i = 0; i < f->cap; i++) {
            if (f->g[i] != f->gen) continue;
            size_t s = mix(f->key[i]) & (nc - 1);
            while (ng[s]) s = (s + 1) & (nc - 1);
            nk[s] = f->key[i]; na[s] = f->at[i]; ng[s] = 1;
        }
        free(f->key); free(f->at); free(f->g);
        f->key = nk; f->at = na; f->g = ng; f->cap = nc; f->gen = 1;
    }
    size_t s = mix(k) & (f->cap - 1);
    while (f->g[s] == f->gen) s = (s + 1) & (f->cap - 1);
    f->key[s] = k; f->at[s] = at; f->g[s] = f->gen;
    f->n++;
    return 0;
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
    if (tb->cur) { cur_free(&tb->cur->t[0]); cur_free(&tb->cur->t[1]); free(tb->cur->ts_last); }
    free(tb->cur);
    memset(tb, 0, sizeof *tb);
}

/* A new cell (row, i, j) at the end of t: its index, or -1. */
static long new_cell(ms_tb_table *t, uint32_t row, uint16_t i, uint16_t j)
{
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 256;
        ms_tb_cell *c = realloc(t->cells, nc * sizeof *c);
        if (!c) return -1;
        t->cells = c; t->cap = nc;
    }
    if (t->n >= UINT32_MAX - 1) return -1;
    t->cells[t->n] = (ms_tb_cell){ row, i, j, 0, 0, 0 };
    return (long)t->n++;
}

/* Index of cell (row, i, j) of t through the idx map, which must hold
 * every cell; -1 when out of memory. */
static long map_cell(ms_tb_table *t, uint32_t row, uint16_t i, uint16_t j)
{
    uint64_t k = cell_key(row, i, j);
    uint32_t at;
    if (ms_u64map_get(&t->idx, k, &at)) return at;
    long c = new_cell(t, row, i, j);
    if (c < 0 || ms_u64map_put(&t->idx, k, (uint32_t)c)) return -1;
    return c;
}

/* Index of cell (row, i, j) of t, whose current free bin is kept in f;
 * -1 when out of memory. */
static long find_cell(ms_tb_table *t, tb_cur *f, uint32_t row, uint16_t i, uint16_t j)
{
    uint64_t k = cell_key(row, i, j);
    if (!f->on || j != f->j) {
        if ((uint32_t)j + 1 <= f->maxj1) {
            /* out of order: bring the idx map up to date and use it */
            for (; f->idx_n < t->n; f->idx_n++) {
                const ms_tb_cell *c = &t->cells[f->idx_n];
                if (ms_u64map_put(&t->idx, cell_key(c->row, c->i, c->j), (uint32_t)f->idx_n)) return -1;
            }
            long c = map_cell(t, row, i, j);
            if (c >= 0) f->idx_n = t->n;
            return c;
        }
        f->on = 1; f->j = j; f->maxj1 = (uint32_t)j + 1;   /* a bin no cell has yet */
        cur_clear(f);
    }
    uint32_t *at = cur_find(f, k);
    if (at) return *at;
    long c = new_cell(t, row, i, j);
    if (c < 0 || cur_put(f, k, (uint32_t)c)) return -1;
    return c;
}

/* Grow a row-indexed cache to hold index k (new entries UINT32_MAX). */
static int last_reserve(uint32_t **a, size_t *n, size_t k)
{
    if (k < *n) return 0;
    size_t nc = *n ? *n : 64;
    while (nc <= k) nc *= 2;
    uint32_t *p = realloc(*a, nc * sizeof *p);
    if (!p) return -1;
    memset(p + *n, 0xff, (nc - *n) * sizeof *p);
    *a = p;
    *n = nc;
    return 0;
}

/* find_cell through the cell each row added to last: consecutive blocks
 * of a site mostly share their bins. The cached index is checked against
 * the cell it names, so cells that moved (halving, sorting) only miss. */
static long row_cell(ms_tb_table *t, tb_cur *f, uint32_t row, uint16_t i, uint16_t j)
{
    if (row < f->nlast) {
        uint32_t at = f->last[row];
        if (at < t->n && t->cells[at].row == row && t->cells[at].i == i && t->cells[at].j == j) return at;
    }
    long c = find_cell(t, f, row, i, j);
    if (c >= 0 && last_reserve(&f->last, &f->nlast, row) == 0) f->last[row] = (uint32_t)c;
    return c;
}

static void cell_add(ms_tb_cell *c, uint64_t bytes, uint64_t count, uint64_t temp)
{
    c->bytes += bytes; c->count += count; c->temporary += temp;
}

static uint16_t half_j(uint16_t j) { return j == MS_TB_LIVE ? MS_TB_LIVE : (uint16_t)(j / 2); }

/* Halve the resolution of a table: bins i -> i / 2 (j too, unless live),
 * in place (a merged cell is never behind the cells read so far). f (or
 * NULL): the table's current bin, which becomes its half and gets its
 * cells again; the idx map is dropped (rebuilt when needed) unless this
 * needed it. Cells come in
 * free-bin order unless blocks came out of order, so the merged cells of
 * one new free bin are found in f's small map, one bin at a time;
 * otherwise (or without f) in a map of all cells. */
static int table_halve(ms_tb_table *t, tb_cur *f)
{
    int grouped = f != NULL;
    for (size_t k = 1; grouped && k < t->n; k++)
        if (half_j(t->cells[k].j) < half_j(t->cells[k - 1].j)) grouped = 0;
    ms_u64map_free(&t->idx);
    if (!grouped && t->n && ms_u64map_reserve(&t->idx, t->n)) return -1;
    size_t old = t->n;
    uint16_t gj = 0;
    t->n = 0;
    for (size_t k = 0; k < old; k++) {
        const ms_tb_cell c = t->cells[k];            /* new_cell may write over it */
        uint16_t i = (uint16_t)(c.i / 2), j = half_j(c.j);
        long at;
        if (grouped) {
            if (k == 0 || j != gj) { cur_clear(f); gj = j; }
            uint64_t key = cell_key(c.row, i, j);
            uint32_t *p = cur_find(f, key);
            if (p) at = *p;
            else if ((at = new_cell(t, c.row, i, j)) >= 0 && cur_put(f, key, (uint32_t)at)) at = -1;
        } else {
            at = map_cell(t, c.row, i, j);
        }
        if (at < 0) return -1;
        cell_add(&t->cells[at], c.bytes, c.count, c.temporary);
    }
    if (!f) return 0;
    f->idx_n = grouped ? 0 : t->n;                   /* the map, when built, has every cell */
    f->maxj1 = 0;
    if (f->on) f->j = half_j(f->j);
    cur_clear(f);
    for (size_t k = 0; k < t->n; k++) {
        const ms_tb_cell *c = &t->cells[k];
        if ((uint32_t)c->j + 1 > f->maxj1) f->maxj1 = (uint32_t)c->j + 1;
        if (f->on && c->j == f->j && cur_put(f, cell_key(c->row, c->i, c->j), (uint32_t)k)) return -1;
    }
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
        if (table_halve(&tb->sites, tb->cur ? &tb->cur->t[0] : NULL)
            || table_halve(&tb->threads, tb->cur ? &tb->cur->t[1] : NULL)) { tb->oom = 1; return; }
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
    struct ms_tb_cur *cc = tb->cur;
    if (cc->have_tid && cc->last_tid == tid) { *row = cc->last_trow; return 0; }
    if (ms_u64map_get(&tb->tid_row, tid, row)) {
        cc->have_tid = 1; cc->last_tid = tid; cc->last_trow = *row;
        return 0;
    }
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
    struct ms_tb_cur *cc = tb->cur;
    uint32_t at = site < cc->nts_last ? cc->ts_last[site] : UINT32_MAX;
    if (at < tb->ts_n && tb->ts_key[at] == k) { tb->ts_bytes[at] += bytes; return 0; }
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
    if (last_reserve(&cc->ts_last, &cc->nts_last, site) == 0) cc->ts_last[site] = at;
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
    if (!tb->cur && !(tb->cur = calloc(1, sizeof *tb->cur))) { tb->oom = 1; return; }
    cover(tb, b->freed && b->t_free > b->t_alloc ? b->t_free : b->t_alloc);
    if (tb->oom) return;
    uint16_t i = (uint16_t)(b->t_alloc >> tb->shift);
    uint16_t j = b->freed ? (uint16_t)((b->t_free < b->t_alloc ? b->t_alloc : b->t_free) >> tb->shift) : MS_TB_LIVE;
    uint64_t temp = b->temporary ? b->wcount : 0;
    uint32_t trow;
    long cs, ct;
    if ((cs = row_cell(&tb->sites, &tb->cur->t[0], b->site, i, j)) < 0 || thread_row(tb, b->tid, &trow)
        || (ct = row_cell(&tb->threads, &tb->cur->t[1], trow, i, j)) < 0
        || thread_site_add(tb, trow, b->site, b->wsize)) { tb->oom = 1; return; }
    cell_add(&tb->sites.cells[cs], b->wsize, b->wcount, temp);
    cell_add(&tb->threads.cells[ct], b->wsize, b->wcount, temp);
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

/* Sort key of a cell in 20 + 32 bits, in cell_key's order: bins are below
 * MS_TB_BINS (10 bits each), the live bin is the largest free bin. */
#define RX_BITS 11
#define RX_DIGITS 5                    /* 52 bits */
static inline uint64_t rx_key(const ms_tb_cell *c)
{
    uint64_t j = c->j == MS_TB_LIVE ? 1023u : c->j;
    return (uint64_t)c->row << 20 | (uint64_t)c->i << 10 | j;
}

/* LSD radix sort by rx_key, 11 bits a pass, skipping digits every cell
 * shares (one histogram pass for all): hundreds of thousands of cells on
 * a real trace, where qsort was a tenth of the dashboard's instructions.
 * -1 when out of memory or when a cell lies outside the bins. */
static int radix_cells(ms_tb_cell *cells, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (cells[k].i >= MS_TB_BINS || (cells[k].j >= MS_TB_BINS && cells[k].j != MS_TB_LIVE)) return -1;
    size_t (*cnt)[1u << RX_BITS] = calloc(RX_DIGITS, sizeof *cnt);
    ms_tb_cell *tmp = malloc(n * sizeof *tmp);
    if (!cnt || !tmp) { free(cnt); free(tmp); return -1; }
    for (size_t k = 0; k < n; k++) {
        uint64_t key = rx_key(&cells[k]);
        for (int d = 0; d < RX_DIGITS; d++) cnt[d][(key >> (d * RX_BITS)) & ((1u << RX_BITS) - 1)]++;
    }
    ms_tb_cell *src = cells, *dst = tmp;
    for (int d = 0; d < RX_DIGITS; d++) {
        size_t *c = cnt[d], sum = 0;
        uint64_t first = (rx_key(&cells[0]) >> (d * RX_BITS)) & ((1u << RX_BITS) - 1);
        if (c[first] == n) continue;   /* one value: the order stands */
        for (size_t v = 0; v < (1u << RX_BITS); v++) { size_t t = c[v]; c[v] = sum; sum += t; }
        for (size_t k = 0; k < n; k++) dst[c[(rx_key(&src[k]) >> (d * RX_BITS)) & ((1u << RX_BITS) - 1)]++] = src[k];
        ms_tb_cell *t = src; src = dst; dst = t;
    }
    if (src != cells) memcpy(cells, src, n * sizeof *cells);
    free(cnt);
    free(tmp);
    return 0;
}

void ms_tb_sort(ms_tb_table *t)
{
    if (t->n && radix_cells(t->cells, t->n)) qsort(t->cells, t->n, sizeof *t->cells, cell_cmp);
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
