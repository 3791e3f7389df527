/* Process inspection used by libmemscope at start, at dlopen/dlclose and at
 * exit: module map, memory maps and leak classification (symbols are
 * resolved outside the traced process: recorder/symbolize/).
 * Implemented in modules.c, procmaps.c, leakscan.c.
 * None of these may call the interposed malloc in a way that records: the
 * caller holds the recorder's reentrancy guard while calling them. */
#ifndef MS_INSPECT_H
#define MS_INSPECT_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"

/* Write a MODULE record for every module currently loaded (dl_iterate_phdr)
 * that has not been written yet, and MODULE_UNLOAD for written modules that
 * are gone. Safe to call repeatedly (after dlopen/dlclose) and from any
 * thread (internal mutex); w may be NULL to update the table only. Module
 * ids start at 1 and are never reused. Main program path: /proc/self/exe;
 * the vdso is "[vdso]". time = ticks. No malloc (mmap'd table). */
int msr_modules_sync(ms_writer *w, uint64_t time);

/* The module of the table kept by msr_modules_sync that contains ip (live
 * modules first, then the most recently unloaded one). Returns 1 and fills
 * the non-NULL outputs, or 0. *path stays valid until the next sync. */
int msr_module_find(uint64_t ip, uint64_t *id, uint64_t *base,
                    const char **path, int *alive);

/* Forget every module of the table (ids restart at 1; the next sync writes
 * them all again). For a
 * MEMSCOPE_FOLLOW_FORK child, whose new file needs its own MODULE records;
 * called from the fork child handler. */
void msr_modules_reset(void);

/* Read /proc/self/smaps (fallback: maps) and /proc/self/status and write a
 * MAPS record and a PROC_MEM record stamped with time. */
int msr_procmaps_write(ms_writer *w, uint64_t time);

/* Fill *pm (all fields but time) from /proc/self/status without malloc or
 * stdio; usable for periodic samples too. Returns 0 or MS_EIO/MS_ENOMEM. */
int msr_proc_mem_read(ms_proc_mem *pm);

/* Classify live heap blocks as memcheck/LeakSanitizer do: roots are every
 * readable, writable mapping (anonymous ones included) except the heap
 * ([heap], glibc's arena heaps, the mappings of mmap-served live blocks),
 * the recorder's own memory and dead stack (below each live thread's SP,
 * exited threads' cached stacks), plus registers; a flood fill marks
 * reachable blocks (details in leakscan.c). blocks[] is sorted by addr
 * ascending; on input a leak_class of MS_LEAK_LIBC marks a runtime-internal
 * block (msr_leak_rt_has), any other value is ignored. Sets
 * blocks[i].leak_class to REACHABLE, POSSIBLE (reached only through an
 * interior pointer somewhere), INDIRECT (reached only from lost blocks),
 * DEFINITE (lost, and no other lost block points to it; in a lost cycle
 * the lowest block is definite) or LIBC (the blocks marked on input,
 * glibc's thread DTVs and dynamic TLS blocks; roots for what they point
 * to). exclude[] lists address ranges (pairs start,end) that hold the
 * recorder's own tables and must not be scanned; they are subtracted from
 * every root, stacks included. The writable segments and the static TLS
 * block of the shared object containing this code are never roots (when
 * it is linked statically into the executable, exclude its tables; keep no
 * block address in __thread variables of the recorder then).
 * Returns 0 or a negative MS_E* code (blocks left MS_LEAK_UNKNOWN).
 * Called at exit while other threads may still run; it must not malloc:
 * it does not (mmap scratch, open/read of /proc, a real-time signal from
 * SIGRTMAX downward whose action is SIG_DFL stops the other threads for
 * at most ~1 s). Costs ~45 ns per live block plus the bytes scanned
 * (untouched pages of big private mappings are skipped via pagemap). */
/* The next allocator's own mappings (nextalloc.c; weak: absent where
 * leakscan.c is linked alone): up to max [lo, hi) pairs into lohi, their
 * count; 0 when none are known or the table overflowed. */
size_t msr_next_mappings(uint64_t *lohi, size_t max)
    __attribute__((weak, visibility("hidden")));

int msr_leak_classify(ms_live_block *blocks, size_t n,
                      const uint64_t *exclude, size_t nexclude);

/* The frame where the recorder was entered on the way to
 * msr_leak_classify (on_exit handler, _exit, an exec wrapper): the calling
 * thread's stack is scanned from there up, skipping the recorder's own
 * frames and the stale words in them. Ignored unless it lies above the
 * classifier's SP on the same stack. */
void msr_leak_entry_frame(const void *frame);

/* Never signal, stop or scan thread tid in msr_leak_classify (the
 * recorder's own writer/timer threads); called by the thread itself, its
 * whole stack block is no root either. Up to 8 threads. */
void msr_leak_ignore_thread(int tid);

/* The blocks given to msr_leak_classify are a sample of the heap (a
 * sampled trace, sample.c): the heap's own memory (the [heap] mapping and
 * glibc's arena heaps), which then holds blocks nobody told the scan about,
 * is a root like any other writable mapping, outside the given blocks'
 * bytes. A sampled block reachable only through unsampled blocks is then
 * reachable, never lost; stale words in free chunks can make a lost block
 * look reachable (the classes err on the side of "reachable"). */
void msr_leak_set_sampled(int on);

/* Runtime-internal allocations (leakrt.c), fed by the writer thread under
 * the writer lock: every replayed allocation with its stack id, every free.
 * msr_leak_rt_has(addr): the live block at addr was allocated by the C/C++
 * runtime for itself (class 5). msr_leak_rt_reset forgets everything (a
 * followed fork child's new trace). */
void msr_leak_rt_alloc(uint64_t addr, uint64_t stack);
void msr_leak_rt_free(uint64_t addr);
int msr_leak_rt_has(uint64_t addr);
void msr_leak_rt_reset(void);
#endif
