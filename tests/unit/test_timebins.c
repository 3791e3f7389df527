/*
 * test_timebins.c — the time-binned model (analyze/timebins.c) against a
 * brute-force reference: 20,000 random block lives (random sites, threads,
 * times over 10^7 ticks, a third never freed) fed in a shuffled order, so
 * the bins widen many times while cells merge. For random bin ranges
 * [a, b], "allocated in the range" and "live at the range's end" of every
 * site and thread, read from the cells, must equal sums over the blocks
 * with bin = tick >> shift; so must the global live curve and the
 * per-thread top sites. Labelled blocks are kept one by one. The same
 * blocks fed in the replay's order (by free time, live blocks at the end,
 * a few late ones: the path that keeps only the current free bin's cells
 * at hand) must give the very same cells, each (row, i, j) once.
 */
#include <stdlib.h>
#include "timebins.h"
#include "mstest.h"

#define NB 20000
#define NSITES 50
#define END 10000000ull

static ms_heap_block blk[NB];
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* replay order: by the bin-deciding time, never-freed blocks last */
static int by_free(const void *pa, const void *pb)
{
    const ms_heap_block *a = pa, *b = pb;
    uint64_t x = a->freed ? a->t_free : UINT64_MAX, y = b->freed ? b->t_free : UINT64_MAX;
    return x < y ? -1 : x > y;
}

/* 1 when sorted table a holds no key twice and, with b, the same cells
 * (b NULL: uniqueness only; thread rows are numbered as tids come) */
static int same_cells(const ms_tb_table *a, const ms_tb_table *b)
{
    if (b && a->n != b->n) return 0;
    for (size_t k = 0; k < a->n; k++) {
        const ms_tb_cell *x = &a->cells[k], *y = b ? &b->cells[k] : x;
        if (x->row != y->row || x->i != y->i || x->j != y->j || x->bytes != y->bytes || x->count != y->count
            || x->temporary != y->temporary)
            return 0;
        if (k && x->row == a->cells[k - 1].row && x->i == a->cells[k - 1].i && x->j == a->cells[k - 1].j) return 0;
    }
    return 1;
}

static void range_of(const ms_tb_table *t, uint32_t row, size_t a, size_t b, uint64_t *alloc, uint64_t *live)
{
    size_t n;
    const ms_tb_cell *c = ms_tb_row(t, row, &n);
    *alloc = *live = 0;
    for (size_t k = 0; k < n; k++) {
        if (c[k].i < a || c[k].i > b) continue;
        *alloc += c[k].bytes;
        if (c[k].j == MS_TB_LIVE || c[k].j > b) *live += c[k].bytes;
    }
}

int main(void)
{
    static const uint64_t tids[3] = { 100, 200, 300 };
    for (size_t i = 0; i < NB; i++) {
        ms_heap_block *b = &blk[i];
        b->t_alloc = next() % END;
        b->freed = next() % 3 != 0;
        b->t_free = b->freed ? b->t_alloc + next() % (END - b->t_alloc) : END;
        b->size = 1 + next() % 5000;
        b->wsize = b->size;
        b->wcount = 1;
        b->site = (uint32_t)(next() % NSITES);
        b->tid = tids[next() % 3];
        b->temporary = b->freed && next() % 4 == 0;
        b->seq = i;
        if (i % 1000 == 7) b->var_name = "v";
    }
    for (size_t i = NB - 1; i > 0; i--) {            /* any delivery order */
        size_t j = next() % (i + 1);
        ms_heap_block x = blk[i]; blk[i] = blk[j]; blk[j] = x;
    }
    ms_tbins tb;
    ms_tb_init(&tb);
    for (size_t i = 0; i < NB; i++) ms_tb_block(&tb, &blk[i]);
    ms_tb_finish(&tb, END);
    ms_tb_sort(&tb.sites);
    ms_tb_sort(&tb.threads);
    CHECK("timebins: no allocation failure", !tb.oom);
    CHECK("timebins: at most MS_TB_BINS bins, covering the end", tb.nbins <= MS_TB_BINS && (END >> tb.shift) < tb.nbins);
    CHECK("timebins: bins widened (shift > 0)", tb.shift > 10);

    int bad_site = 0, bad_thread = 0;
    for (int r = 0; r < 200; r++) {
        size_t a = next() % tb.nbins, b = a + next() % (tb.nbins - a);
        if (r == 0) { a = 0; b = tb.nbins - 1; }
        uint64_t want_a[NSITES] = { 0 }, want_l[NSITES] = { 0 }, ta[3] = { 0 }, tl[3] = { 0 };
        for (size_t i = 0; i < NB; i++) {
            const ms_heap_block *x = &blk[i];
            size_t bi = (size_t)(x->t_alloc >> tb.shift), bj = (size_t)(x->t_free >> tb.shift);
            if (bi < a || bi > b) continue;
            size_t th = x->tid == 100 ? 0 : x->tid == 200 ? 1 : 2;
            want_a[x->site] += x->size; ta[th] += x->size;
            if (!x->freed || bj > b) { want_l[x->site] += x->size; tl[th] += x->size; }
        }
        for (uint32_t s = 0; s < NSITES; s++) {
            uint64_t ga, gl;
            range_of(&tb.sites, s, a, b, &ga, &gl);
            if (ga != want_a[s] || gl != want_l[s]) bad_site++;
        }
        for (size_t th = 0; th < 3; th++) {
            uint32_t row;
            uint64_t ga = 0, gl = 0;
            if (ms_u64map_get(&tb.tid_row, tids[th], &row)) range_of(&tb.threads, row, a, b, &ga, &gl);
            if (ga != ta[th] || gl != tl[th]) bad_thread++;
        }
    }
    CHECK_EQ_U64("timebins: sites' allocated/live in 200 random ranges = brute force", 0, bad_site);
    CHECK_EQ_U64("timebins: threads' allocated/live in 200 random ranges = brute force", 0, bad_thread);

    uint64_t live[MS_TB_BINS];
    ms_tb_live(&tb, live);
    int bad_live = 0;
    for (size_t b = 0; b < tb.nbins; b += 37) {
        uint64_t want = 0;
        for (size_t i = 0; i < NB; i++)
            if ((blk[i].t_alloc >> tb.shift) <= b && (!blk[i].freed || (blk[i].t_free >> tb.shift) > b)) want += blk[i].size;
        if (want != live[b]) bad_live++;
    }
    CHECK_EQ_U64("timebins: global live curve = brute force", 0, bad_live);

    uint64_t per[NSITES] = { 0 };
    for (size_t i = 0; i < NB; i++) if (blk[i].tid == 200) per[blk[i].site] += blk[i].size;
    uint32_t row = 0, ts[3];
    uint64_t tbytes[3], best = 0;
    for (size_t s = 0; s < NSITES; s++) if (per[s] > best) best = per[s];
    ms_u64map_get(&tb.tid_row, 200, &row);
    size_t nt = ms_tb_thread_top(&tb, row, 3, ts, tbytes);
    CHECK("timebins: thread top sites, most bytes first", nt == 3 && tbytes[0] == best && per[ts[0]] == best
          && tbytes[0] >= tbytes[1] && tbytes[1] >= tbytes[2] && per[ts[2]] == tbytes[2]);
    CHECK_EQ_U64("timebins: labelled blocks kept one by one", NB / 1000, tb.nlabeled);

    qsort(blk, NB, sizeof *blk, by_free);
    for (size_t i = 100; i + 1 < NB; i += 997) {      /* late events */
        ms_heap_block x = blk[i]; blk[i] = blk[i - 50]; blk[i - 50] = x;
    }
    ms_tbins t2;
    ms_tb_init(&t2);
    for (size_t i = 0; i < NB; i++) ms_tb_block(&t2, &blk[i]);
    ms_tb_finish(&t2, END);
    ms_tb_sort(&t2.sites);
    ms_tb_sort(&t2.threads);
    CHECK("timebins: replay order gives the same cells, each once",
          !t2.oom && t2.shift == tb.shift && t2.nbins == tb.nbins && same_cells(&tb.sites, &t2.sites)
          && same_cells(&tb.threads, NULL) && same_cells(&t2.threads, NULL) && tb.threads.n == t2.threads.n);
    ms_tb_free(&t2);
    ms_tb_free(&tb);
    return ms_test_failures != 0;
}
