/* The sentence every heap report prints about a window trace (spec 8.9:
 * recorded by `msrec attach` in a running process), so text, SVG and
 * markdown views say the same thing in both languages. */
#ifndef MS_WINDOW_H
#define MS_WINDOW_H
#include <stddef.h>
#include "heap.h"
#include "i18n.h"

/* For a window trace: one line (no newline) into buf — when the window
 * started after the process, how long it lasted, how many frees of blocks
 * allocated before it were counted apart, and that blocks live at its end
 * are not leaks — and 1. For a trace of the whole process: 0, buf "". */
int ms_window_note(char *buf, size_t cap, const ms_heap *h, ms_lang lang);

/* "leaked" for a whole-process trace, "live at the end of the window"
 * for a window trace (the label of the leaked totals). */
const char *ms_window_leak_label(const ms_heap *h, ms_lang lang);
#endif
