/* Flame graphs of a call tree: folded stacks (flamegraph.pl, speedscope,
 * inferno input) and one self-contained SVG drawn by memscope itself, with
 * embedded JavaScript (search, click-to-zoom, reset, hover details), a
 * <title> tooltip per frame "function (N bytes, x%)", frames under 0.1 %
 * of the total folded (so a trace of 262,000 stacks stays a few MB and
 * renders at once), flamegraph.pl's
 * "mem" colors and an icicle (top-down) option. No external script, font
 * or network access; every name is XML-escaped. */
#ifndef MS_FLAME_H
#define MS_FLAME_H
#include <stdio.h>
#include <stdint.h>
#include "calltree.h"

/* Root-first folded stacks of metric, one line per stack with a non-zero
 * value: "main;run;leaf 123". ';' inside a name becomes ':', control
 * characters become spaces. Returns 0 or -1 on a write error. */
int ms_folded_write(FILE *fp, const ms_calltree *t, int metric);

typedef struct ms_flame_opts {
    int metric;            /* MS_CT_*                                        */
    int icicle;            /* 1 = root at the top (for inverted trees)       */
    int lang_en;           /* 0 = Chinese labels (default)                   */
    const char *title;     /* NULL = "内存火焰图（峰值）" / "Memory flame graph (peak)" */
    const char *subtitle;  /* NULL = none (e.g. the trace's program)         */
    unsigned width;        /* 0 = 1200                                       */
    double min_pct;        /* frames under this percent of the total are
                              folded: one "[N folded]" frame per parent
                              (drawn when they add up to min_pct), and a
                              line saying how many and how much; 0 = 0.1
                              (flamegraph.pl's minwidth idea), < 0 = none */
} ms_flame_opts;

/* Draw the tree (children in their current order: call
 * ms_calltree_sort_children first for alphabetical order). Returns 0 or
 * -1 on a write error. */
int ms_flame_svg(FILE *fp, const ms_calltree *t, const ms_flame_opts *o);

/* Localized metric name: "峰值"/"peak", ... */
const char *ms_flame_metric_label(int metric, int lang_en);
/* Unit after a value in tooltips: "字节"/"bytes", "次"/"allocations". */
const char *ms_flame_unit_label(int metric, int lang_en);
#endif
