/* Process inspection used by libmemscope at start, at dlopen/dlclose and at
 * exit: module map, embedded symbols, memory maps and leak classification.
 * Implemented in modules.c, symbols.c, procmaps.c, leakscan.c.
 * None of these may call the interposed malloc in a way that records: the
 * caller holds the recorder's reentrancy guard while calling them. */
#ifndef MS_INSPECT_H
#define MS_INSPECT_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"

/* Write a MODULE record for every module currently loaded (dl_iterate_phdr)
 * that has not been written yet, and MODULE_UNLOAD for written modules that
 * are gone. Safe to call repeatedly (after dlopen/dlclose). time = ticks. */
int msr_modules_sync(ms_writer *w, uint64_t time);

/* Symbolize n unique instruction pointers with libdw (function, file:line,
 * inlined chain, demangled) and write one SYMBOL record each. ips are return
 * addresses as captured by the unwinder except the innermost frame; the
 * symbolizer looks up ip-1 for them (the call instruction) but records the
 * ip as given. */
int msr_symbols_write(ms_writer *w, const uint64_t *ips, size_t n);

/* Read /proc/self/smaps (fallback: maps) and /proc/self/status and write a
 * MAPS record and a PROC_MEM record stamped with time. */
int msr_procmaps_write(ms_writer *w, uint64_t time);

/* Classify live heap blocks as LeakSanitizer/memcheck do: roots are the
 * writable segments of loaded modules, thread stacks from SP, TLS and
 * registers; a flood fill marks reachable blocks. blocks[] is sorted by addr
 * ascending; sets blocks[i].leak_class. exclude[] lists address ranges
 * (pairs start,end) that hold the recorder's own tables and must not be
 * scanned. Returns 0 or a negative MS_E* code (blocks left MS_LEAK_UNKNOWN).
 * Called at exit while other threads may still run; it must not malloc. */
int msr_leak_classify(ms_live_block *blocks, size_t n,
                      const uint64_t *exclude, size_t nexclude);
#endif
