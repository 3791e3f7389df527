/* Progress bar on stderr for long loads of heap traces (issue 6): shown
 * only when stderr is a terminal, and only once a load has taken 0.5 s, so
 * short runs and pipes/logs never see it; erased when the load ends.
 * Environment MEMSCOPE_PROGRESS=0 turns it off, =1 shows it at once even
 * when stderr is not a terminal (for tests). */
#ifndef MS_PROGRESS_H
#define MS_PROGRESS_H

/* Report the heap loads of this thread (analyze/heap.h's
 * ms_heap_set_progress) as "PROG: reading  42% [#####.....] 25.1 / 61.2 MB". */
void ms_progress_install(const char *prog);
#endif
