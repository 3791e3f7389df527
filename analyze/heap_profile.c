/* Heap-profile samples (heap_profile.h): maps each heap site of the replay
 * model to the four Go heap-profile values, so profile exporters (msconv's
 * pprof writer, later others) agree with each other and with msconv's own
 * totals by construction instead of each recounting blocks. */
#include "heap_profile.h"

static const char *const type_names[MS_HPROF_NVALUES] = {
    "alloc_objects", "alloc_space", "inuse_objects", "inuse_space",
};
static const char *const unit_names[MS_HPROF_NVALUES] = { "count", "bytes", "count", "bytes" };

const char *ms_hprof_type(int k) { return k >= 0 && k < MS_HPROF_NVALUES ? type_names[k] : NULL; }
const char *ms_hprof_unit(int k) { return k >= 0 && k < MS_HPROF_NVALUES ? unit_names[k] : NULL; }

static int64_t clamp64(uint64_t v) { return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v; }

int ms_hprof_site(ms_hprof_sample *out, const ms_heap *h, size_t i)
{
    const ms_heap_site *s = ms_heap_site_at(h, i);
    out->stack_id = s->stack_id;
    out->value[MS_HPROF_ALLOC_OBJECTS] = clamp64(s->allocations);
    out->value[MS_HPROF_ALLOC_SPACE] = clamp64(s->allocated_bytes);
    /* a ranged model (range.h): in use at the range's end, its "peak" */
    int ranged = ms_heap_range(h) != NULL;
    out->value[MS_HPROF_INUSE_OBJECTS] = clamp64(ranged ? s->peak_blocks : s->live_blocks);
    out->value[MS_HPROF_INUSE_SPACE] = clamp64(ranged ? s->peak_bytes : s->live_bytes);
    for (int k = 0; k < MS_HPROF_NVALUES; k++)
        if (out->value[k]) return 1;
    return 0;
}

void ms_hprof_totals(int64_t out[MS_HPROF_NVALUES], const ms_heap *h)
{
    for (int k = 0; k < MS_HPROF_NVALUES; k++) out[k] = 0;
    size_t n = ms_heap_site_count(h);
    for (size_t i = 0; i < n; i++) {
        ms_hprof_sample smp;
        if (!ms_hprof_site(&smp, h, i)) continue;
        for (int k = 0; k < MS_HPROF_NVALUES; k++)
            out[k] = smp.value[k] > INT64_MAX - out[k] ? INT64_MAX : out[k] + smp.value[k];
    }
}
