/* Record pump: the read loop shared by the heap loaders (ms_heap_load,
 * ms_hview_load). It reads a file with the format reader on the calling
 * thread and hands every record, in file order, to a consumer that runs on
 * a second thread, so decoding (decompression, varints) and the replay run
 * side by side on two cores instead of one after the other. Runs of EVENT
 * records go to the consumer in batches (no per-record call, no per-record
 * lock); other records follow in their exact place between events.
 *
 * Records that hold pointers into the reader's buffers are copied with
 * what they point to (STACK, SYMBOL, MODULE, LIVE_BLOCKS, LABEL, MARK,
 * THREAD), so the reader reads on; the rest (META, MAPS, snapshot records:
 * once or twice a file) are handed over in place while the reader waits
 * for the consumer to finish with them.
 *
 * Small files, or MEMSCOPE_THREADS=0 in the environment, run the same loop
 * on one thread (=1 forces the second thread even for tiny files, for
 * tests). The calling thread keeps everything thread-local: the reader's
 * error detail (ms_reader_open_error) and the load progress hooks of heap.h
 * (ms_heap_progress is called here once per record).
 *
 * Memory: the batches in flight, at most PB_DEPTH (32, pump.c) of about
 * 80 KiB (2048 packed events, 32 bytes each), up to PB_SLOTS (256) in a
 * trace whose SYNC windows are longer, allocated as the consumer falls
 * behind: it replays a whole SYNC window at once, so this follows the
 * window, never the number of events. Consumed batches are reused newest
 * first, so the ones in use stay in the caches. */
#ifndef MS_PUMP_H
#define MS_PUMP_H
#include <stddef.h>
#include "memscope.h"
#include "replay.h"

/* A non-zero return stops the pump and is returned by ms_pump_run. */
typedef int (*ms_pump_record_fn)(void *ctx, const ms_record *rec);
/* n consecutive EVENT records of thread tid, packed (replay.h); side holds
 * the whole events of full entries. */
typedef int (*ms_pump_events_fn)(void *ctx, uint64_t tid, const ms_replay_packed *ev, size_t n,
                                 const ms_event *side);

/* Read every record of r and deliver it: events to on_events (runs of
 * consecutive EVENT records of one thread, packed by the reading thread,
 * at least one per call), any other record to on_record. Returns 0 at the end of the file, the reader's error, or the
 * first non-zero value returned by a callback. */
int ms_pump_run(ms_reader *r, ms_pump_record_fn on_record, ms_pump_events_fn on_events, void *ctx);

/* The same, and how it went: batches handed over, records handed over in
 * place (each one a wait of the reader for the consumer), whether a
 * second thread ran. */
typedef struct ms_pump_stats {
    uint64_t batches, in_place;
    int threaded;
} ms_pump_stats;
int ms_pump_run_stats(ms_pump_stats *st, ms_reader *r, ms_pump_record_fn on_record,
                      ms_pump_events_fn on_events, void *ctx);
/* Files smaller than this are read and replayed on one thread. */
#define MS_PUMP_MIN_BYTES (1u << 20)

/* Whether the pump reads r on a second thread (the rule above: file size,
 * MEMSCOPE_THREADS). */
int ms_pump_threads(const ms_reader *r);
#endif
