/* Heap replay models: the one-pass analysis every heap view builds on.
 *
 * Feed the records of a heap trace in file order (ms_heap_add), or let
 * ms_heap_load read a file; events are merged across threads by time
 * (replay.h) and replayed against a live table address -> block. Memory is
 * O(live blocks + unique stacks + threads + events between SYNC barriers),
 * never O(events) for files with SYNC records.
 *
 * Results:
 *   - ms_heap_summary: totals, peak, leaks, temporaries, anomalies;
 *   - sites: one per unique stack id (site 0 = "no stack"), with counts,
 *     bytes, bytes live at the global peak, bytes live at the end;
 *   - threads;
 *   - every block's life through the on_block callback (freed blocks when
 *     they are freed, in replay order; blocks still live at the end, in
 *     allocation order, from ms_heap_finish);
 *   - the symbol table (symtab.h) for stacks and frames.
 *
 * Counting rules (also in spec-like words for reports):
 *   - allocation = a successful alloc op or the new block of a realloc
 *     (realloc(NULL, n) included); deallocation = a free op of a live block
 *     or the old block released by a realloc (moved, or realloc(p, 0));
 *   - failed allocation = an alloc with address 0 or a realloc with address
 *     0 and size > 0 (the old block stays live);
 *   - unmatched free = a free (or realloc old address) of an address that
 *     is not live (allocated before recording, or a lost event);
 *   - in a window trace (META scope 1, spec 8.9: recording started in a
 *     running process) such a free is a free of a block allocated before
 *     the window (frees_before_window), never an unmatched free: those
 *     blocks were never seen, their sizes are unknown and change no total;
 *   - temporary (heaptrack's rule, applied to the block): a block whose
 *     free is the process's next allocation event (alloc, realloc or free)
 *     after its allocation (a realloc frees its old block first, then
 *     allocates). heaptrack names a freed block by its (size, stack) only,
 *     so it also counts the free of an older block of the same size and
 *     stack when that follows an allocation: on python3 it shows ~6x more;
 *   - peak = the largest live total after any event (a realloc is one
 *     event: old and new are never counted together); peak time = the time
 *     of the event that first reached it;
 *   - leaked = still live at the end of the trace ("active" at the end);
 *     LIVE_BLOCKS records, when present, add a leak class per block.
 *
 * Sampled traces (META mode 1 with a sample_rate R; spec/FORMAT.md §8.8):
 * every count and byte total is an estimate of the whole program. Each
 * recorded block weighs w = 1/p, p = 1 - exp(-size/R) (ms_heap_sample_
 * weight): it adds w allocations and w * size bytes where it is allocated
 * and subtracts exactly the same where it is freed, so a program that frees
 * everything ends with 0 estimated live. The counters stay integers: each
 * block's w and w * size are rounded down or up at random, unbiased, with a
 * stream fixed by the block's allocation number (the same numbers on every
 * run). Not weighted: events, anomalies (unmatched frees, duplicates,
 * late events, ties), realloc event counts, labels, max_size and the
 * per-block size/addr/times; temporaries are not known (0) because the
 * unsampled allocations that end them are not in the trace. */
#ifndef MS_HEAP_H
#define MS_HEAP_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"
#include "range.h"
#include "replay.h"
#include "symtab.h"

typedef struct ms_heap ms_heap;

/* One block's life, passed to on_block. Strings stay valid until
 * ms_heap_free. */
typedef struct ms_heap_block {
    uint64_t addr, size;
    uint64_t t_alloc;                 /* ticks                              */
    uint64_t t_free;                  /* ticks; the end time when !freed    */
    uint64_t tid;                     /* allocating thread                  */
    uint64_t free_tid;                /* freeing thread; 0 when !freed      */
    uint64_t stack_id;
    uint64_t seq;                     /* allocation number, 0-based         */
    uint32_t site;                    /* index for ms_heap_site_at          */
    uint32_t align;
    uint32_t leak_class;              /* MS_LEAK_*; live blocks only        */
    uint8_t op;                       /* allocating op (enum ms_op)         */
    uint8_t freed;                    /* 0 = live at the end (leaked)       */
    uint8_t temporary;
    uint8_t free_op;                  /* op that released it                */
    const char *var_name, *type_name; /* from LABEL; NULL when unlabeled    */
    uint64_t wcount, wsize;           /* its weight: the allocations and    */
                                      /* bytes it stands for (1 and size in */
                                      /* a full trace; heap.h top)          */
} ms_heap_block;

typedef void (*ms_heap_block_fn)(void *ctx, const ms_heap_block *b);

typedef struct ms_heap_opts {
    ms_heap_block_fn on_block;        /* NULL = no per-block callback       */
    void *ctx;
    const ms_range_req *range;        /* NULL = the whole trace; else only  */
                                      /* what range.h selects is counted    */
} ms_heap_opts;

typedef struct ms_heap_summary {
    uint64_t total_allocations, total_deallocations;
    uint64_t total_allocated_bytes, total_deallocated_bytes;
    uint64_t peak_memory, peak_blocks, peak_time;      /* peak_time: ticks */
    uint64_t active_allocations, active_memory;        /* live at the end  */
    uint64_t leaked_allocations, leaked_memory;        /* == active        */
    uint64_t leak_class_blocks[6], leak_class_bytes[6];/* by MS_LEAK_*     */
    uint64_t temporary_allocations;
    uint64_t failed_allocations;
    uint64_t unmatched_frees;
    uint64_t frees_before_window;     /* window traces: frees of unknown blocks */
    uint64_t reallocs;                /* realloc/reallocarray events        */
    uint64_t reallocs_in_place;       /* new address == old address         */
    uint64_t realloc_frees;           /* realloc(p, 0)                      */
    uint64_t duplicate_allocs;        /* alloc of an address already live   */
    uint64_t events, late_events, ties;
    uint64_t labels, unmatched_labels;
    uint64_t first_time, end_time;    /* ticks; end = END time or last seen */
    uint64_t threads;                 /* threads with events or THREAD rec. */
    uint64_t sites;
    uint64_t max_buffered_events;     /* merge buffer high-water mark       */
} ms_heap_summary;

typedef struct ms_heap_site {
    uint64_t stack_id;                /* 0 = no stack                       */
    uint64_t allocations, deallocations, allocated_bytes;
    uint64_t temporary;
    uint64_t peak_bytes, peak_blocks; /* live at the global peak            */
    uint64_t live_bytes, live_blocks; /* live at the end = leaked           */
    uint64_t max_size;                /* largest single block               */
} ms_heap_site;

typedef struct ms_heap_thread {
    uint64_t tid;
    const char *name;                 /* "" when unnamed                    */
    uint64_t allocations, deallocations, allocated_bytes;
    uint64_t temporary, failed;
    uint64_t live_bytes, live_blocks; /* its blocks live at the end         */
    uint64_t first_time, last_time;   /* its events, ticks                  */
    uint64_t events;
} ms_heap_thread;

/* Trace facts from META and END. */
typedef struct ms_heap_info {
    uint64_t clock_hz;                /* 1e9 when META is missing           */
    uint64_t start_wall_ns, pid;
    uint32_t mode;
    uint64_t sample_rate;
    const char *exe;                  /* "" when unknown                    */
    uint32_t scope;                   /* MS_SCOPE_*: MS_SCOPE_WINDOW = window */
    uint64_t process_start_ns;        /* Unix ns, 0 unknown (window traces)  */
    uint64_t session;                 /* attach session of a window trace    */
    int has_meta, has_end;
    ms_end end;                       /* valid when has_end                 */
} ms_heap_info;

int ms_heap_new(ms_heap **out, const ms_heap_opts *opts);
void ms_heap_free(ms_heap *h);
/* Feed one record in file order (events, SYNC, STACK/SYMBOL/MODULE,
 * THREAD, LABEL, META, END, LIVE_BLOCKS; others are ignored). */
int ms_heap_add(ms_heap *h, const ms_record *rec);
/* Feed n EVENT records of thread tid at once, packed (replay.h; side holds
 * the whole events of full entries): the same as n calls of ms_heap_add,
 * without the per-record cost. Used by the record pump (pump.h). */
int ms_heap_add_packed(ms_heap *h, uint64_t tid, const ms_replay_packed *ev, size_t n, const ms_event *side);
/* End of input: deliver buffered events, report live blocks. Once. */
int ms_heap_finish(ms_heap *h);

/* Open PATH, feed every record, finish. *integ (may be NULL) gets the
 * reader's integrity (damage is not an error: what could be read is
 * modelled). Returns reader/open errors (MS_EIO, MS_ENOTMS, MS_EVERSION,
 * MS_EUNSUPPORTED, ...) or MS_ENOMEM; on error *out is NULL. */
int ms_heap_load(ms_heap **out, ms_integrity *integ, const char *path, const ms_heap_opts *opts);

/* Load progress, for a progress bar in the converters (analyze never
 * prints). While this thread reads a file with ms_heap_load, fn gets the
 * bytes read so far and the file size about every 64 Ki records, and
 * (size, size) once at the end. NULL fn (the default) disables it. Another
 * loader reading a heap trace record by record reports the same way by
 * calling ms_heap_progress after each record (*count starts at 0) and
 * ms_heap_progress_done at the end. */
typedef void (*ms_heap_progress_fn)(void *ctx, uint64_t done, uint64_t total);
void ms_heap_set_progress(ms_heap_progress_fn fn, void *ctx);
void ms_heap_progress(const ms_reader *r, uint64_t *count);
/* 1 if this thread has a progress fn (a loader may skip the calls above). */
int ms_heap_progress_enabled(void);
void ms_heap_progress_done(const ms_reader *r);

/* Symbols for stack ips that have no SYMBOL record (a trace recorded
 * without `msrec run`, or symbolized on another machine). analyze never
 * symbolizes itself (it does not link libdw): msconv sets a resolver built
 * on libmssym. ms_heap_finish calls fn once with the heap's symbol table
 * and the distinct stack ips (ascending) that have no SYMBOL record or one
 * without frames; fn adds a SYMBOL record (ms_symtab_add) for each ip it
 * can name. Process-wide; NULL fn (the default) disables it. */
typedef void (*ms_heap_resolve_fn)(void *ctx, ms_symtab *sym, const uint64_t *ips, size_t n);
void ms_heap_set_resolver(ms_heap_resolve_fn fn, void *ctx);

const ms_heap_summary *ms_heap_get_summary(const ms_heap *h);
const ms_heap_info *ms_heap_get_info(const ms_heap *h);
/* R when the model weights a sampled trace (every number is an estimate,
 * "sampled 1 in R bytes"), 0 for a full trace. */
uint64_t ms_heap_sampled(const ms_heap *h);
/* Weight 1/p of a sampled allocation of size bytes at mean rate R,
 * p = 1 - exp(-size/R); 1 when size or rate is 0. */
double ms_heap_sample_weight(uint64_t size, uint64_t rate);
const ms_symtab *ms_heap_symtab(const ms_heap *h);

size_t ms_heap_site_count(const ms_heap *h);
const ms_heap_site *ms_heap_site_at(const ms_heap *h, size_t i);
/* Index of the site of stack_id, or -1. */
long ms_heap_site_find(const ms_heap *h, uint64_t stack_id);

size_t ms_heap_thread_count(const ms_heap *h);      /* in order first seen */
const ms_heap_thread *ms_heap_thread_at(const ms_heap *h, size_t i);

/* A window trace (spec 8.9): 1 and *after_start_s = seconds from the
 * process start to the window's start (-1 when the process start is
 * unknown); 0 for a trace of the whole process. after_start_s may be NULL. */
int ms_heap_window(const ms_heap *h, double *after_start_s);

/* The range the model was built for (range.h: from_s, to_s, phase,
 * found, ...), resolved by ms_heap_finish; NULL for the whole trace. */
const ms_range *ms_heap_range(const ms_heap *h);

/* Ticks -> milliseconds / seconds with the trace clock. */
uint64_t ms_heap_ticks_ms(const ms_heap *h, uint64_t ticks);
double ms_heap_ticks_sec(const ms_heap *h, uint64_t ticks);
/* Ticks -> nanoseconds, exact, UINT64_MAX when it does not fit. */
uint64_t ms_heap_ticks_ns(const ms_heap *h, uint64_t ticks);
#endif
