/* Heap profiles in the Go heap-profile shape (pprof, and any exporter of
 * per-stack samples): one sample per heap site (unique allocating stack)
 * with four values, named as Go's runtime names them so pprof's
 * -sample_index works unchanged:
 *   alloc_objects  count   allocations of the site over the whole trace
 *   alloc_space    bytes   bytes those allocations asked for
 *   inuse_objects  count   its blocks live at the end of the trace
 *   inuse_space    bytes   their bytes
 * (a model built for a time range, range.h: allocations in the range, and
 * in use = their blocks live at the range's end, as a Go heap profile
 * taken at that moment would have it)
 * The values are the heap model's site counters (heap.h), never recounted
 * here: a sampled trace (META mode 1) will weight each event where the
 * model replays it, and every exporter built on these samples then writes
 * estimates of the whole program without a change. */
#ifndef MS_HEAP_PROFILE_H
#define MS_HEAP_PROFILE_H
#include <stddef.h>
#include <stdint.h>
#include "heap.h"

enum {
    MS_HPROF_ALLOC_OBJECTS,
    MS_HPROF_ALLOC_SPACE,
    MS_HPROF_INUSE_OBJECTS,
    MS_HPROF_INUSE_SPACE,
    MS_HPROF_NVALUES
};
#define MS_HPROF_DEFAULT MS_HPROF_INUSE_SPACE

/* Go's name ("alloc_objects", ...) and unit ("count" or "bytes") of value
 * k (0 <= k < MS_HPROF_NVALUES); NULL for another k. */
const char *ms_hprof_type(int k);
const char *ms_hprof_unit(int k);

typedef struct ms_hprof_sample {
    uint64_t stack_id;                /* 0 = the site of events without one */
    int64_t value[MS_HPROF_NVALUES];
} ms_hprof_sample;

/* Sample of heap site i (0 <= i < ms_heap_site_count(h)), after
 * ms_heap_finish. Returns 1 when the site is a sample (any value is not
 * zero), 0 when it has nothing to show (an unused site 0). Values beyond
 * INT64_MAX are clamped. */
int ms_hprof_site(ms_hprof_sample *out, const ms_heap *h, size_t i);

/* Sum of every sample's values: what a profile viewer shows as totals. */
void ms_hprof_totals(int64_t out[MS_HPROF_NVALUES], const ms_heap *h);
#endif
