/* Time-binned heap model for "any time range" views (the HTML dashboard's
 * range brush): per row (a heap site, a thread), per (allocation bin i,
 * free bin j) the bytes, count and temporaries of the blocks allocated in
 * bin i and freed in bin j (j = MS_TB_LIVE: live at the end). From it, for
 * any range of bins [a, b]:
 *   allocated in the range  = sum over a <= i <= b, any j;
 *   live at the range's end = sum over a <= i <= b, j > b (or live),
 * with a = 0 that is the heap at the end of bin b ("heap at any instant").
 * Plus the bytes each thread allocated per site, per-bin global curves (allocations, bytes, temporaries, frees, live
 * heap) and the labelled blocks (ms_label) one by one, capped.
 *
 * Bins are MS_TB_BINS at most; their width in ticks is a power of two that
 * doubles (merging neighbours) as the trace grows, so memory stays
 * O(distinct (row, i, j) cells) <= O(rows x bins^2) and never O(events).
 * Feed it every block's life from the heap replay (ms_heap_opts.on_block);
 * blocks may arrive in any order. */
#ifndef MS_TIMEBINS_H
#define MS_TIMEBINS_H
#include <stddef.h>
#include <stdint.h>
#include "heap.h"
#include "u64map.h"

#define MS_TB_BINS 512
#define MS_TB_LIVE 0xFFFFu             /* free bin of a block live at the end */
#define MS_TB_MAX_LABELED 20000        /* labelled blocks kept one by one     */

typedef struct ms_tb_cell {
    uint32_t row;                      /* site index or thread index          */
    uint16_t i, j;                     /* allocation bin, free bin / LIVE     */
    uint64_t bytes, count, temporary;
} ms_tb_cell;

typedef struct ms_tb_table {           /* cells of one kind of row            */
    ms_tb_cell *cells;
    size_t n, cap;
    ms_u64map idx;                     /* (row, i, j) -> cell index           */
} ms_tb_table;

typedef struct ms_tb_labeled {         /* one labelled block                  */
    uint64_t addr, size, t_alloc, t_free, tid, seq;
    uint32_t site;
    uint8_t freed;
    const char *var_name, *type_name;  /* the heap's strings (heap.h)         */
} ms_tb_labeled;

typedef struct ms_tbins {
    unsigned shift;                    /* bin of tick t = t >> shift          */
    size_t nbins;                      /* bins in use (last one + 1)          */
    ms_tb_table sites, threads;
    uint64_t *tids;                    /* thread row -> tid                   */
    size_t ntids, cap_tids;
    ms_u64map tid_row;
    /* global per bin: allocations, allocated bytes, temporaries (by
     * allocation bin), freed bytes and frees (by free bin) */
    uint64_t alloc_count[MS_TB_BINS], alloc_bytes[MS_TB_BINS], temporary[MS_TB_BINS];
    uint64_t freed_bytes[MS_TB_BINS], freed_count[MS_TB_BINS];
    /* bytes allocated per (thread row, site): key row << 32 | site */
    ms_u64map ts_idx;
    uint64_t *ts_key, *ts_bytes;
    size_t ts_n, ts_cap;
    ms_tb_labeled *labeled;
    size_t nlabeled, cap_labeled;
    /* cells of the current free bin of both tables (timebins.c) */
    struct ms_tb_cur *cur;
    uint64_t labeled_total;            /* all labelled blocks, kept or not    */
    int oom;
} ms_tbins;

/* An empty model (ms_tb_free releases it). */
void ms_tb_init(ms_tbins *tb);
void ms_tb_free(ms_tbins *tb);
/* Add one block's life (an ms_heap_block_fn; ctx is the ms_tbins). Sets
 * tb->oom on allocation failure (the model is then incomplete). */
void ms_tb_block(void *ctx, const ms_heap_block *b);
/* Cover the trace up to end_tick (the summary's end_time): nbins grows to
 * the bin of end_tick + 1. Call once after the last block. */
void ms_tb_finish(ms_tbins *tb, uint64_t end_tick);
/* Width of one bin in ticks. */
static inline uint64_t ms_tb_width(const ms_tbins *tb) { return (uint64_t)1 << tb->shift; }
/* Cells of row `row` of table t, sorted by (row, i, j) after ms_tb_sort:
 * *n cells starting at the returned pointer (NULL when none). */
void ms_tb_sort(ms_tb_table *t);
const ms_tb_cell *ms_tb_row(const ms_tb_table *t, uint32_t row, size_t *n);
/* The (at most) n sites that allocated the most bytes in thread row
 * `row`: sites[k], bytes[k], most first; returns how many. */
size_t ms_tb_thread_top(const ms_tbins *tb, uint32_t row, size_t n, uint32_t *sites, uint64_t *bytes);
/* Live heap (bytes) at the end of every bin: out[0..nbins). */
void ms_tb_live(const ms_tbins *tb, uint64_t *out);
#endif
