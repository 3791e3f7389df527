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
 * Stacks are interned: every distinct frame once (frames[]), every distinct
 * stack as a chain of nodes (nodes[], each a frame and its caller's node),
 * an entry naming its innermost node. Building is linear in the stack
 * nodes of both traces however deep their stacks are (a trace of 20,000
 * stacks of depth 1..20,000 has 20,000 nodes, not 200 million frames).
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

#define MS_HD_NONE UINT32_MAX

/* A stack node: frame `frame` called from node `parent` (MS_HD_NONE: the
 * outermost frame). */
typedef struct ms_hd_node {
    uint32_t parent, frame;
} ms_hd_node;

typedef struct ms_hd_entry {
    int status;                           /* enum ms_hd_status          */
    ms_hd_side a, b;                      /* zero on the missing side   */
    int64_t d_peak, d_peak_blocks, d_leaked, d_leaked_blocks;
    int64_t d_allocated, d_allocations, d_temporary;
    uint32_t stack;                       /* innermost node; MS_HD_NONE =
                                             allocations without a stack */
    size_t depth;                         /* frames of the stack        */
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
    ms_hd_frame *frames;                  /* distinct frames            */
    size_t nframes;
    ms_hd_node *nodes;                    /* distinct stack nodes; a
                                             parent comes before its
                                             children                   */
    size_t nnodes;
} ms_heapdiff;

/* Build the diff of A (before) and B (after). Returns 0 or MS_ENOMEM
 * (then *d is empty). */
int ms_heapdiff_build(const ms_heap *a, const ms_heap *b, ms_heapdiff *d);
void ms_heapdiff_free(ms_heapdiff *d);

/* Status name for JSON: "grew", "shrank", "new", "vanished", "unchanged". */
const char *ms_hd_status_name(int status);
#endif
