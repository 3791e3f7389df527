/* Merge of per-thread heap event streams into one time-ordered stream.
 *
 * A heap trace stores each thread's events in that thread's order, in
 * EVENTS chunks that interleave in the file with overlapping time ranges.
 * The replay buffers events per stream (one per tid, plus any extra streams
 * the caller opens) and delivers them merged by time when a SYNC barrier
 * (time T: every event with time < T has been read) or the end of input is
 * reached. Memory is the events between two barriers; a file without SYNC
 * records is buffered until EOF (O(events)): writers should emit SYNC.
 *
 * Ties (equal times in different streams) are broken so the per-address
 * state stays consistent: the caller's `fits` callback says whether an
 * event fits the current state (a free of a live address, an alloc of a
 * free address); among the tied heads the first fitting one (lowest stream
 * number, i.e. first seen) is delivered, else the first one. Within a
 * stream the order is never changed. */
#ifndef MS_REPLAY_H
#define MS_REPLAY_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"

typedef struct ms_replay ms_replay;

/* Deliver one merged event of stream number `stream` (streams are
 * numbered 0, 1, ... in the order first seen; ms_replay_stream_tid names
 * a thread stream's tid). A negative return stops the replay and is
 * returned by the call that was delivering. */
typedef int (*ms_replay_event_fn)(void *ctx, const ms_event *ev, uint32_t stream);
/* 1 if ev fits the current state, 0 if another tied event should go first. */
typedef int (*ms_replay_fits_fn)(void *ctx, const ms_event *ev);

int ms_replay_new(ms_replay **out, ms_replay_event_fn deliver, ms_replay_fits_fn fits, void *ctx);
void ms_replay_free(ms_replay *r);

/* A stream that is not a thread (e.g. labels): returns its number (>= 0)
 * or a negative error. Open it before any event so it sorts first on ties.
 * Push to it with ms_replay_push_stream. */
int ms_replay_open_stream(ms_replay *r);
int ms_replay_push_stream(ms_replay *r, int stream, const ms_event *ev);

/* Buffer one event of thread ev->tid (in file order). */
int ms_replay_push(ms_replay *r, const ms_event *ev);
/* Barrier: deliver every buffered event with time < t, merged. */
int ms_replay_sync(ms_replay *r, uint64_t t);
/* End of input: deliver everything. */
int ms_replay_flush(ms_replay *r);

/* tid of a thread stream (0 for streams opened with ms_replay_open_stream). */
uint64_t ms_replay_stream_tid(const ms_replay *r, uint32_t stream);

typedef struct ms_replay_stats {
    uint64_t pushed, delivered;
    uint64_t syncs;
    uint64_t late;            /* events older than an earlier barrier     */
    uint64_t ties;            /* deliveries that needed the tie rule      */
    uint64_t max_buffered;    /* most events held at once                 */
    uint64_t streams;
} ms_replay_stats;
void ms_replay_get_stats(ms_replay_stats *out, const ms_replay *r);
#endif
