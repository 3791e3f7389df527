/* Ordering of one tie group: the events of several threads that carry the
 * same time (FORMAT.md §8.3). The replay hands over, per tied stream, its
 * events of that tick (in stream order) reduced to what they need of the
 * per-address state and what they leave; the planner returns an
 * interleaving in which every event fits that state, if it finds one.
 *
 * Each stream's events are placed by their estimated position inside the
 * tick (event k of n at (k + 1/2) / n: threads that run side by side
 * progress at similar rates), an event that does not fit yet waits, and
 * when two streams could both act on an address that other streams of the
 * group also touch, the choice is remembered: when the group later gets
 * stuck (no head fits) the planner jumps back to the latest choice that
 * touched one of the stuck addresses and takes the next candidate there.
 * That search is bounded (64 steps per event); when it ends with a head
 * that fits nowhere, an exact depth-first search over the streams'
 * positions with a memo of dead positions (bounded: a file-wide allowance
 * of stream heads checked, 4 M plus 256 per event) looks for an order; only when that finds none either (a free of a block
 * allocated before the trace, say) does the heuristic's order stand, with
 * the stuck head of the earliest estimated position taken first, and the
 * heap model counts the anomaly.
 */
#ifndef MS_TIEPLAN_H
#define MS_TIEPLAN_H
#include <stddef.h>
#include <stdint.h>

/* One event as the planner sees it: up to two addresses (a realloc's old
 * and new block); bit k of `need` says address k must be live before the
 * event (else free), bit k of `after` whether it is live after it. */
typedef struct ms_tie_ev {
    uint64_t a[2];
    uint8_t na, need, after;
} ms_tie_ev;

/* Live state of an address before the group (1 live, 0 not). */
typedef int (*ms_tie_live_fn)(void *ctx, uint64_t addr);

typedef struct ms_tieplan ms_tieplan;

int ms_tieplan_new(ms_tieplan **out);
void ms_tieplan_free(ms_tieplan *p);

typedef struct ms_tieplan_stats {
    uint64_t groups, backjumps, forced, exact;   /* exact: solved by the exact search */
} ms_tieplan_stats;

/* Plan a group of ns streams (ns <= 64): stream i has cnt[i] events,
 * stored one stream after another in ev; first[i] != 0 puts stream i's
 * events before the others whenever they fit (labels and marks, §8.3).
 * Writes the stream number of each successive event to picks (sum of cnt
 * entries). 0, or MS_ENOMEM. */
int ms_tieplan_run(ms_tieplan *p, uint32_t *picks, const ms_tie_ev *ev, const uint32_t *cnt,
                   const uint8_t *first, size_t ns, ms_tie_live_fn live, void *ctx);

void ms_tieplan_get_stats(ms_tieplan_stats *out, const ms_tieplan *p);
#endif
