/* Time ranges and phases of a heap trace: which events a ranged report
 * counts. The heap replay (heap.h) applies a range while it replays, so
 * every model built on it (sites, call tree, leaks, threads, heap
 * profiles) sees the same selection and no converter filters on its own.
 *
 * A request is either times (seconds from the trace start, spec §8.2 tick
 * 0; from and to inclusive, either may be missing) or a phase: the span
 * from the first MARK record named NAME (`ms_mark(NAME)`) to the next MARK
 * of any name, or to the end of the trace, [mark, next mark). Marks are
 * merged with the events by time (heap.c's label stream, spec §8.3), so a
 * phase is resolved in the same single pass: no second read of the file.
 *
 * What a ranged replay counts (heap.h has the unranged rules):
 *   - allocated in the range: allocations (and failed ones, reallocs,
 *     unmatched frees) whose event time is in the range; deallocations are
 *     the frees of those blocks at any time, so allocations - deallocations
 *     stays the blocks live at the end of the trace;
 *   - live at the range's end: the blocks allocated in the range and still
 *     live at its end. This replaces the peak (summary peak_memory,
 *     peak_blocks, peak_time = the range's end; each site's peak_bytes and
 *     peak_blocks). With from = 0 it is the whole heap at that instant;
 *   - leaked: blocks allocated in the range still live at the end of the
 *     trace (their temporary status and frees follow them past the range);
 *   - threads: their allocations in the range as above; their event
 *     counts and first/last times stay the whole trace's, as do the
 *     summary's events, first_time and end_time;
 *   - every other block is replayed too (addresses stay consistent, a free
 *     in the range of an older block is neither counted nor unmatched) but
 *     reaches no counter and no on_block callback.
 * Weights of sampled traces (§8.8) are the same as unranged: the same
 * block gets the same weight. Memory and time do not change with a range
 * (one flag per live block, one O(sites) copy at the range's end). */
#ifndef MS_RANGE_H
#define MS_RANGE_H
#include <stddef.h>
#include <stdint.h>

/* What the user asked for. phase != NULL excludes from/to. */
typedef struct ms_range_req {
    int has_from, has_to;
    double from_s, to_s;              /* >= 0, to_s >= from_s               */
    const char *phase;                /* NULL, or a mark name               */
} ms_range_req;

/* A range being applied (state owned by the heap model) and, after
 * ms_heap_finish, what it resolved to (read with ms_heap_range). */
typedef struct ms_range {
    ms_range_req req;
    char *phase;                      /* copy of req.phase                  */
    /* ticks, half-open [lo, hi); set from seconds once clock_hz is known,
     * or by the phase's marks */
    uint64_t lo, hi;
    int ticks_set;
    int open;                         /* 1 while events may be in the range */
    int closed;                       /* the range's end has been passed    */
    /* results */
    int found;                        /* phase: its mark was seen           */
    uint64_t phase_marks;             /* marks named phase (first one used) */
    double from_s, to_s;              /* the range as reported, seconds     */
    int to_clamped;                   /* to was past the end: the end used  */
    int from_past_end;                /* from is after the end of the trace */
    uint64_t end_tick;                /* the range's end, ticks             */
    /* mark names in order first seen (phase requests only), for "phases
     * that exist" */
    char **names; size_t nnames, cap_names;
    int names_capped;                 /* more names than kept               */
    uint64_t *name_hash; size_t cap_hash;   /* set of hashes of names + 1  */
} ms_range;

/* Start applying req (copied). 0 or MS_ENOMEM. */
int ms_range_init(ms_range *r, const ms_range_req *req);
void ms_range_free(ms_range *r);
/* Seconds -> ticks with the trace clock; called once before the first
 * event is placed (a phase request ignores it). */
void ms_range_set_clock(ms_range *r, uint64_t clock_hz);
/* A MARK record named name (len bytes) in file order: 1 if it names the
 * requested phase, else 0; -1 on ENOMEM (remembers the name). */
int ms_range_mark_seen(ms_range *r, const char *name, size_t len);
/* A MARK placed in time order (is_phase: ms_range_mark_seen's answer):
 * opens the phase at its first mark, ends it at the next mark. */
void ms_range_mark_at(ms_range *r, uint64_t time, int is_phase);
/* Is an event at time t in the range? Call ms_range_passed first. */
static inline int ms_range_has(const ms_range *r, uint64_t t)
{
    return r->open && t >= r->lo;
}
/* 1 exactly once: when an event (or mark) at time t is the first one at or
 * after the range's end (the caller takes the "live at the range's end"
 * picture before applying it). */
static inline int ms_range_passed(ms_range *r, uint64_t t)
{
    if (r->closed || t < r->hi) return 0;
    r->closed = 1; r->open = 0;
    return 1;
}
/* End of the replay: end = the trace's end time (ticks). Sets the
 * reported from_s/to_s, to_clamped and from_past_end. Returns 1 when the
 * range was still open (the caller then takes its picture at the end). */
int ms_range_finish(ms_range *r, uint64_t end, uint64_t clock_hz);
/* The mark names seen, comma-separated in order first seen ("" when
 * none), cut with ", ..." to fit cap (and after the first 256 names). */
void ms_range_names(const ms_range *r, char *buf, size_t cap);
#endif
