/* Heap trace diff model (msdiff A B on two heap traces).
 *
 * Sites of the two traces are matched by their symbolized stacks, as
 * heaptrack_print -d does: a stack's key is its frames innermost first,
 * each frame function + file + line (every inlined frame of an ip counts);
 * an ip without a SYMBOL record is keyed by module path + offset, so load
 * addresses (ASLR) never matter. Sites of one trace with the same key
 * (e.g. two call sites on one source line, or one stack recorded under two
 * ids) are added up. Per key the model has both sides' numbers: bytes and
 * blocks live at that trace's global peak, leaked (live at the end),
 * allocated bytes, allocation count and temporaries; keys present on one
 * side only are new or vanished. Entries are sorted by impact: |Δpeak|,
 * then |Δleaked|, then |Δallocated| (descending), then by key.
 *
 * The model points into both heaps' symbol tables: keep the heaps until
 * ms_heapdiff_free. Builds a model only; rendering is convert/msdiff. */
#ifndef MS_HEAPDIFF_H
#define MS_HEAPDIFF_H
#include <stddef.h>
#include <stdint.h>
#include "heap.h"

enum ms_hd_status {
    MS_HD_GREW = 0,        /* matched; first non-zero of Δpeak, Δleaked,
                              Δallocated, Δcount is positive             */
    MS_HD_SHRANK = 1,      /* matched; that first non-zero delta is < 0   */
    MS_HD_NEW = 2,         /* only in B                                   */
    MS_HD_VANISHED = 3,    /* only in A                                   */
    MS_HD_UNCHANGED = 4    /* matched, every number equal                 */
};

/* One side's numbers for a key (sum over its sites). */
typedef struct ms_hd_side {
    uint64_t peak_bytes, peak_blocks;     /* live at the trace's peak  */
    uint64_t leaked_bytes, leaked_blocks; /* live at the end           */
    uint64_t allocated_bytes, allocations;
    uint64_t temporary;
    uint32_t sites;                       /* sites folded into the key */
} ms_hd_side;

/* One frame of a key. Strings never NULL. */
typedef struct ms_hd_frame {
    const char *function;                 /* "" when unsymbolized       */
    const char *file;                     /* "" when unknown            */
    uint32_t line;
    uint8_t symbolized;                   /* 0: module + offset only    */
    const char *module;                   /* "" when unknown            */
    uint64_t offset;                      /* ip - module base, or the ip
                                             when the module is unknown */
} ms_hd_frame;

typedef struct ms_hd_entry {
    int status;                           /* enum ms_hd_status          */
    ms_hd_side a, b;                      /* zero on the missing side   */
    int64_t d_peak, d_peak_blocks, d_leaked, d_leaked_blocks;
    int64_t d_allocated, d_allocations, d_temporary;
    const ms_hd_frame *frames;            /* innermost first            */
    size_t nframes;                       /* 0 = allocations without a stack */
} ms_hd_entry;

/* Totals of one trace, from its summary. */
typedef struct ms_hd_totals {
    uint64_t peak_memory, peak_blocks;
    uint64_t leaked_memory, leaked_blocks;
    uint64_t allocated_bytes, allocations;
    uint64_t temporary, events, keys;
    uint64_t duration_ms;
} ms_hd_totals;

typedef struct ms_heapdiff {
    ms_hd_entry *entries;                 /* sorted by impact           */
    size_t nentries;
    ms_hd_totals ta, tb;
    size_t n_new, n_vanished, n_grew, n_shrank, n_unchanged;
    /* internal */
    ms_hd_frame *frame_pool;
    size_t frame_pool_len;
} ms_heapdiff;

/* Build the diff of A (before) and B (after). Returns 0 or MS_ENOMEM
 * (then *d is empty). */
int ms_heapdiff_build(const ms_heap *a, const ms_heap *b, ms_heapdiff *d);
void ms_heapdiff_free(ms_heapdiff *d);

/* Status name for JSON: "grew", "shrank", "new", "vanished", "unchanged". */
const char *ms_hd_status_name(int status);
#endif
