/* The time-range part of the heap dashboard's data blob (heap_bins_html.c),
 * used by heap_views_html.c only. */
#ifndef MSCONV_HEAP_BINS_HTML_H
#define MSCONV_HEAP_BINS_HTML_H
#include <stdio.h>
#include "calltree_heap.h"
#include "timebins.h"
#include "diagnose.h"

/* Sites given their own cells (the rest is folded into "other"), and the
 * cells they may use in all. */
#define HB_TOP_SITES 1000
#define HB_CELL_BUDGET 120000

/* ,"tb":[i, j, bytes, count, temporary, ...] (j = -1: live at the end)
 * for row `row` of table t, nothing when it has no cells. Returns the
 * number of cells written. */
size_t hb_write_row(FILE *fp, const ms_tb_table *t, uint32_t row);
/* "bins":{...} global per-bin curves, and "other": the cells of every site
 * row whose shown[row] is 0 merged by (i, j), and the count of such sites
 * with cells. shown has nshown entries (rows past it count as not shown). */
int hb_write_bins(FILE *fp, const ms_hview *v, const ms_tbins *tb, const uint8_t *shown, size_t nshown);
/* "vars":[...] the labelled blocks, "vars_total". */
void hb_write_vars(FILE *fp, const ms_hview *v, const ms_tbins *tb);
/* "diag":[...] the diagnostics of diagnose.h. */
void hb_write_diag(FILE *fp, const ms_hview *v, const ms_diag *d, size_t n);
#endif
