/* Helpers shared by heap_views.c and heap_views_html.c (not used
 * elsewhere): option parsing for the call-tree views, loading with
 * one-line errors, atomic output open/commit, leak site order, stacks. */
#ifndef MSCONV_HEAP_VIEWS_INT_H
#define MSCONV_HEAP_VIEWS_INT_H
#include <stdio.h>
#include "views.h"
#include "calltree_heap.h"
#include "outfile.h"

typedef struct hv_opts {
    int metric;           /* MS_CT_*, default peak            */
    size_t nodecount;     /* 0 = all                          */
    int inverted;
    double min_pct;       /* --minwidth PCT (flame graph), 0 = default */
    int en;               /* --lang en                        */
    int gran;             /* --granularity: MS_HV_GRAN_*      */
    double nodefraction;  /* --nodefraction, default 0.005    */
    unsigned sections;    /* --sort: HV_SEC_* bits            */
    size_t top;           /* --top: entries per section       */
} hv_opts;

/* heaptrack_print's sections of --text (heap_sections.c). */
enum { HV_SEC_CALLS = 1, HV_SEC_PEAK = 2, HV_SEC_TEMPORARY = 4, HV_SEC_LEAKED = 8, HV_SEC_ALL = 15 };
/* "calls", "peak", "temporary", "leaked", "all" or a comma-separated list
 * -> HV_SEC_* bits, -1 when a word is unknown. */
int hv_sections_parse(const char *s);
/* Write the sections in `sections` (top entries each, 0 = 10), each entry
 * a site: its numbers, call path and stack. 0, or -1 on a write error. */
int hv_sections(FILE *fp, const ms_hview *v, unsigned sections, size_t top, int en);

/* 0, or 2 after printing a usage error. */
int hv_parse_opts(hv_opts *o, const msconv_args *a);
/* 0, or the exit status after printing "msconv: FILE: reason" (1; 2 for
 * a --phase the trace lacks or a --from past its end). lean 1: without the
 * views' tree and moments (ms_hview_load_lean); 2: without any per-block
 * model either (ms_hview_load_sites); 3: the sites and the views' tree,
 * no per-block model (ms_hview_load_tree); 0: everything. */
int hv_load(ms_hview **v, const msconv_args *a, int lean);
/* escape: 0 (SVG, HTML, binary), MS_TERM_TEXT or MS_TERM_JSON (term.h). */
int hv_open(ms_outfile *o, const char *input, const char *path, int escape);
/* Commit (or abort when write_failed); 0 or 1 after an error line. */
int hv_commit(ms_outfile *o, const char *input, const char *path, int write_failed);
/* Indexes of sites with live blocks, most leaked bytes first (malloc'd). */
size_t *hv_leak_sites(const ms_hview *v, size_t *n);
/* Frames to show for each site idx[0..n) (ms_site_depths with
 * MS_SITE_MIN_FRAMES): malloc'd, NULL on ENOMEM. */
uint32_t *hv_site_depths(const ms_hview *v, const size_t *idx, size_t n);
/* Symbolized stack, innermost first, one "#N function (file:line)" line
 * per frame (inlined frames included). */
void hv_print_stack(FILE *fp, const ms_hview *v, uint64_t stack_id, const char *indent, int en);
/* The line a report of a sampled trace carries (spec §8.8; i18n.h:
 * long_form adds what it means), "" for a full trace; returns buf. */
const char *hv_sampled_line(char *buf, size_t n, const ms_hview *v, int en, int long_form);
#endif
