/* Snapshot report models beyond snap.h, for the dashboard (msconv --html on
 * a snapshot file): each library totalled over the processes mapping it,
 * and a process's PSS sampled over a series (a small trend per process).
 * No printing here: convert/msconv/snapshot_html.c renders these. */
#ifndef MS_SNAPREPORT_H
#define MS_SNAPREPORT_H
#include "snap.h"

/* One library (file mapping path) over all processes of a snapshot. */
typedef struct snap_libtotal {
    snap_str path;                     /* points into the snap_file        */
    uint64_t procs;                    /* processes mapping it             */
    uint64_t mapped, rss, pss;         /* summed over those processes      */
    uint64_t disk_size;                /* file size (largest seen)         */
} snap_libtotal;

typedef struct snap_libtotals {
    size_t n;
    snap_libtotal *libs;               /* by PSS, RSS, processes (desc), path */
    int has_memory;                    /* some library has RSS/PSS: recorded
                                        * with `msrec snapshot --lib-memory` */
} snap_libtotals;

/* Build the library totals of s. Returns 0 or MS_ENOMEM. */
int snap_libtotals_build(const snap *s, snap_libtotals *out);
void snap_libtotals_free(snap_libtotals *t);

/* Snapshot indexes of a series sampled for a chart: min(nsnaps, max)
 * indexes evenly spread over 0..nsnaps-1, first and last always included,
 * written to idx (room for max). Returns the count (max >= 2). */
size_t snap_sample(size_t nsnaps, size_t max, size_t *idx);

/* PSS of the process of g (same pid and starttime as g->last) in each of
 * the n snapshots idx[] of f: pss[k], or -1 where it is absent or exited
 * during the scan. */
void snap_growth_trend(const snap_file *f, const snap_growth *g, const size_t *idx, size_t n, int64_t *pss);
#endif
