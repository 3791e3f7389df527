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
 * Ties (equal times in different streams) are ordered so the per-address
 * state stays consistent (FORMAT.md §8.3): all events of the tied time
 * form a group that tieplan.h orders so that every free meets a live
 * block, every allocation a free address and every event of an opened
 * stream (labels) a live block; the caller's `fits` callback gives the
 * state of an address before the group (asked with a free of it) and must
 * follow the same rules. Within a stream the order is never changed. */
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

/* Optional memory hint: while delivering a run of one stream, the replay
 * passes the addresses of events some places ahead (far: a few more
 * places; 0 when there is none), so the caller can start loading the
 * state they will touch. Never changes what is delivered or when. */
typedef void (*ms_replay_prefetch_fn)(void *ctx, uint64_t far_addr, uint64_t near_addr);
void ms_replay_set_prefetch(ms_replay *r, ms_replay_prefetch_fn fn);

/* A stream that is not a thread (e.g. labels): returns its number (>= 0)
 * or a negative error. Open it before any event so it sorts first on ties.
 * Push to it with ms_replay_push_stream. */
int ms_replay_open_stream(ms_replay *r);
int ms_replay_push_stream(ms_replay *r, int stream, const ms_event *ev);

/* Buffer one event of thread ev->tid (in file order). */
int ms_replay_push(ms_replay *r, const ms_event *ev);
/* A packed event: 32 bytes instead of ms_event's 56, for runs of one
 * thread (the tid is the run's). Events with a realloc's old address, an
 * alignment or a stack id above 32 bits do not pack: they are kept whole
 * in a side array and the packed entry (full = 1) holds their index there
 * in `size`; time, addr and op are always set. The replay buffers every
 * event of a SYNC window in this form, and the record pump hands events
 * over in it, so the bytes copied and held per event are about halved. */
typedef struct ms_replay_packed {
    uint64_t time, addr, size;
    uint32_t stack;
    uint8_t op, full;
} ms_replay_packed;

/* A field of an event the reader has just stored: one 8-byte load each.
 * (The compiler otherwise loads two fields with one 16-byte load, which
 * cannot take its bytes from the two 8-byte stores still in flight: a
 * store-forwarding stall that was half of the packing's time.) */
static inline uint64_t ms_replay_ld(const uint64_t *f)
{
    uint64_t v = *f;
    __asm__("" : "+r"(v));
    return v;
}

/* Pack ev; 1 if it fits, 0 if it must be kept whole (p->full = 1, p->size
 * to be set by the caller to its side index). */
static inline int ms_replay_pack(ms_replay_packed *p, const ms_event *ev)
{
    p->time = ms_replay_ld(&ev->time); p->addr = ms_replay_ld(&ev->addr); p->op = ev->op;
    uint64_t stack = ms_replay_ld(&ev->stack);
    if (!ms_replay_ld(&ev->old_addr) && !ev->align && stack <= UINT32_MAX) {
        p->size = ms_replay_ld(&ev->size); p->stack = (uint32_t)stack; p->full = 0;
        return 1;
    }
    p->stack = 0; p->full = 1;
    return 0;
}

/* Buffer n packed events of thread tid, in file order (side: the whole
 * events of full entries): the same as n calls of ms_replay_push. */
int ms_replay_push_packed(ms_replay *r, uint64_t tid, const ms_replay_packed *ev, size_t n,
                          const ms_event *side);
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
