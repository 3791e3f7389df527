/* pprof-style text table of a call tree (`pprof -top`, seed 002's text
 * view): a "Showing nodes accounting for ..." header, then one row per
 * function sorted by flat: flat flat% sum% cum cum% function (file:line).
 * Values use pprof's formatting ("%.2f" + unit, ".00" trimmed) with one
 * unit for the whole table: MB when the total is at least 1 MB (so large
 * totals read "2031.25MB" as in pprof's heap output), else kB or B. */
#ifndef MS_PPROF_TEXT_H
#define MS_PPROF_TEXT_H
#include <stdio.h>
#include <stdint.h>
#include "calltree.h"

typedef struct ms_pprof_opts {
    int metric;             /* MS_CT_*                                     */
    size_t nodecount;       /* rows at most; 0 = all                       */
    int lang_en;            /* 0 = Chinese header (default), 1 = English   */
    const char *type_line;  /* NULL = "Type: <metric>"; "" = none          */
    int unit;               /* MS_PPROF_UNIT_*; AUTO = from the total      */
    double nodefraction;    /* drop rows whose cum < total x this, saying  */
                            /* "Dropped N nodes (cum <= X)" (pprof's       */
                            /* -nodefraction; 0 = keep all)                */
    int rows;               /* MS_PPROF_ROWS_*: how a row names its place  */
} ms_pprof_opts;

/* Row names by granularity: FUNCTIONS "name (file)", or "name (file:line)"
 * when every value of the row comes from that one line (never one line
 * picked among several); LINES "name file:line" (also addresses, whose
 * name starts with the address); FILES the name (the file) alone. */
enum { MS_PPROF_ROWS_FUNCTIONS = 0, MS_PPROF_ROWS_LINES, MS_PPROF_ROWS_FILES };

enum { MS_PPROF_UNIT_AUTO = 0, MS_PPROF_UNIT_B, MS_PPROF_UNIT_KB, MS_PPROF_UNIT_MB, MS_PPROF_UNIT_GB,
       MS_PPROF_UNIT_COUNT /* plain integer */ };

/* Unit for a table whose total is `total` (bytes metrics), or COUNT. */
int ms_pprof_unit_for(uint64_t total, int bytes);

/* pprof's ScaledLabel in a fixed unit, written as binary units: "0",
 * "512B", "12.50KiB", "2000MiB" (two decimals, ".00" trimmed); a value
 * that would show as 0.00 takes the next smaller unit ("1.31KiB" in a MiB
 * table); COUNT -> the integer. */
void ms_pprof_value(char *buf, size_t n, uint64_t v, int unit);
/* pprof's Percentage: "  100%", "98.46%", " 0.12%", "0.0042%" style. */
void ms_pprof_percent(char *buf, size_t n, uint64_t v, uint64_t total);

/* Write the table. Returns 0, or -1 if fp reported a write error. */
int ms_pprof_text(FILE *fp, const ms_calltree *t, const ms_pprof_opts *o);
#endif
