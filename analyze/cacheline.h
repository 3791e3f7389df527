/* Cache lines handed between threads (cacheline.c). */
#ifndef MS_CACHELINE_H
#define MS_CACHELINE_H
#include <stddef.h>

/* The consumer of a buffer that its producer thread will fill again calls
 * this once it has read [p, p + n): the lines leave this core's cache
 * (CLFLUSHOPT, else CLFLUSH; nothing on other CPUs), so the producer's
 * next stores need not take each line back from here first. Contents are
 * unchanged. MEMSCOPE_PUMP_FLUSH=0 turns it off (for comparison). */
void ms_cacheline_release(const void *p, size_t n);

#endif
