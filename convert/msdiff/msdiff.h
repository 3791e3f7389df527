/* Internal interface of msdiff: main.c parses the command line, resolves
 * the two inputs (files, or directories holding one .memscope each) and
 * dispatches on their file kind to one diff implementation. */
#ifndef MSDIFF_H
#define MSDIFF_H
#include <stdint.h>
#include <stdio.h>
#include "i18n.h"

typedef struct msdiff_args {
    const char *a, *b;            /* resolved input files              */
    const char *b_dir;            /* B was a directory: default output dir; else NULL */
    int want_md, want_json;       /* outputs requested                 */
    const char *md_out, *json_out;/* NULL = default path, "-" = stdout */
    ms_lang lang;
    uint64_t threshold;           /* bytes                             */
    int threshold_given;          /* --threshold was on the command line:
                                     heap diffs fold only then (their
                                     default is every changed site)    */
    int match;                    /* SD_RULE_AUTO / PID / KEY          */
    uint64_t files_threshold;     /* open-file changes always shown from
                                     this many files (snapshots)       */
    long snap_a, snap_b;          /* --snapshot: index in a series file,
                                     -1 = default                      */
    int as_given;                 /* --as-given: never reorder A and B */
} msdiff_args;

/* Diff of two snapshot files (snapshot_diff.c). Returns the exit status. */
int msdiff_snapshot(const msdiff_args *a);
/* Diff of two heap traces (heap_diff.c). Returns the exit status. */
int msdiff_heap(const msdiff_args *a);

/* A report renderer: writes the report for ctx to f; non-zero on failure. */
typedef int (*msdiff_render_fn)(FILE *f, const void *ctx);

/* Writes the requested reports (a->want_md / want_json) to their paths
 * (given, or the default names in B's directory or the current one) with
 * md and json; all outputs are committed only when every one was written
 * completely, and each problem is reported as one "msdiff: PATH: reason"
 * line. Returns the exit status (0 or 1). (output.c) */
int msdiff_write_reports(const msdiff_args *a, msdiff_render_fn md,
                         msdiff_render_fn json, const void *ctx);

/* Renderers of the snapshot diff model (snapshot_md.c, snapshot_json.c). */
struct snap_diff;
int msdiff_snapshot_md(FILE *f, const struct snap_diff *d, const msdiff_args *a);
int msdiff_snapshot_json(FILE *f, const struct snap_diff *d, const msdiff_args *a);
#endif
