/* Block pipe: the heap replay's per-block calls (heap.h ms_heap_block_fn)
 * run on a thread of their own, in the replay's order. The dashboard's
 * per-block models (the views' histograms and timeline, the time bins)
 * cost about as much as the replay itself; with the pump's reader on one
 * core and the replay on the other, a third thread for them lets the
 * reader's idle share of its core do that work. */
#ifndef MS_BLOCKPIPE_H
#define MS_BLOCKPIPE_H
#include "heap.h"
#include "memscope.h"

typedef struct ms_blockpipe ms_blockpipe;

/* Start a pipe that calls fn(ctx, block) for every block pushed, on its
 * own thread, in push order. *out is NULL (and 0 returned) when threads
 * are not worth it for r (the pump's rule, pump.h: small files,
 * MEMSCOPE_THREADS=0) or cannot be started: call fn directly then. */
int ms_blockpipe_start(ms_blockpipe **out, const ms_reader *r, ms_heap_block_fn fn, void *ctx);
/* An ms_heap_block_fn (ctx = the pipe): queue a copy of b. */
void ms_blockpipe_push(void *pipe, const ms_heap_block *b);
/* Deliver everything queued, stop the thread, free the pipe (NULL: no-op).
 * After it returns every fn call has returned. */
void ms_blockpipe_finish(ms_blockpipe *p);
#endif
