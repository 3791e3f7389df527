/* The sentence every ranged heap report carries (analyze/range.h: msconv
 * --from/--to/--phase), so text, SVG, flame graph, folded, JSON and pprof
 * state the range the same way in both languages. */
#ifndef MS_TIMERANGE_H
#define MS_TIMERANGE_H
#include <stddef.h>
#include "heap.h"
#include "i18n.h"

/* For a model built for a range: one line (no newline) into buf and 1:
 * "time range 1.200–3.400 s (phase parse)" / "时间范围 1.200–3.400 s（阶段
 * parse）"; long_form adds what the numbers then mean (allocations in the
 * range, peak = their blocks live at the range's end, leaked = those live
 * at the end of the trace). For the whole trace: 0 and "". */
int ms_range_note(char *buf, size_t cap, const ms_heap *h, ms_lang lang, int long_form);
#endif
