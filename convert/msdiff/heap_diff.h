/* Heap trace diff of msdiff (heap_diff.c drives, heap_diff_md.c and
 * heap_diff_json.c render the analyze/heapdiff model). */
#ifndef MSDIFF_HEAP_DIFF_H
#define MSDIFF_HEAP_DIFF_H
#include <stdio.h>
#include "msdiff.h"
#include "heapdiff.h"

/* What the renderers need besides the model. */
typedef struct msdiff_heap_ctx {
    const msdiff_args *args;
    const ms_heap *ha, *hb;
    const ms_heapdiff *d;
    ms_integrity ia, ib;          /* what the reader found in A and B       */
} msdiff_heap_ctx;

int msdiff_heap_md(FILE *f, const msdiff_heap_ctx *c);
int msdiff_heap_json(FILE *f, const msdiff_heap_ctx *c);

/* Entry shown in the Markdown sections: its largest |delta| (or size for a
 * new / vanished key) reaches the threshold. */
int msdiff_heap_shown(const ms_hd_entry *e, uint64_t threshold);
#endif
