/* Diagnostics: plain findings computed from the heap view model
 * (calltree_heap.h) and the time-binned model (timebins.h), for a report
 * to word in the reader's language and link to its evidence:
 *   MS_DIAG_GROWTH     a site whose live bytes grew at every phase end
 *                      (phases = the ms_mark marks; without two marks, the
 *                      four quarters of the trace): v[0..n) = its live
 *                      bytes at each phase end, n points;
 *   MS_DIAG_LEAK       a site with blocks live at the end (the 3 largest;
 *                      all of it still reachable or the runtime's own
 *                      only when >= 1 MiB or 10 % of the peak): v[0] bytes,
 *                      v[1] blocks, v[2] its dominant leak class (MS_LEAK_*),
 *                      v[3] that class's bytes;
 *   MS_DIAG_TEMPORARY  a temporary-allocation hot spot: v[0] the site's
 *                      temporaries, v[1] its allocations, v[2] all
 *                      temporaries of the trace;
 *   MS_DIAG_RSS_GAP    anonymous RSS at exit against the live heap: v[0]
 *                      anonymous RSS, v[1] live heap, v[2] RSS of [heap],
 *                      v[3] of other anonymous mappings, v[4] of thread
 *                      stacks ([stack*]), v[5] of the recorder's library
 *                      (libmemscope), v[6] the recorder's buffers as
 *                      estimated (2 MiB + 10 B per block live at the peak,
 *                      at most v[3]: they are anonymous mappings),
 *                      v[7] the gap (v[0] - v[1], 0 when negative).
 * Findings come most severe first. */
#ifndef MS_DIAGNOSE_H
#define MS_DIAGNOSE_H
#include <stddef.h>
#include <stdint.h>
#include "calltree_heap.h"
#include "timebins.h"

enum { MS_DIAG_GROWTH = 1, MS_DIAG_LEAK, MS_DIAG_TEMPORARY, MS_DIAG_RSS_GAP };
enum { MS_DIAG_INFO = 0, MS_DIAG_WARN = 1, MS_DIAG_HIGH = 2 };
#define MS_DIAG_MAX 16
#define MS_DIAG_POINTS 16

typedef struct ms_diag {
    int kind, severity;
    uint32_t site;                    /* heap site, UINT32_MAX: none          */
    uint32_t n;                       /* values used in v                     */
    uint64_t v[MS_DIAG_POINTS];
} ms_diag;

/* Fill out[0..MS_DIAG_MAX) and return the number of findings. tb's site
 * table must be sorted (ms_tb_sort). */
size_t ms_diagnose(ms_diag *out, const ms_hview *v, const ms_tbins *tb);
#endif
