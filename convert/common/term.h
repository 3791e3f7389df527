/* Control characters out of everything the converters print: names in a
 * trace (functions, files, threads, marks, labels, paths) are chosen by
 * whoever made the file, and ESC, BEL, CR or a C1 control printed raw on a
 * terminal can rewrite the screen, the title or the clipboard. Every text
 * report, JSON document and error line goes through this one escaper
 * (ms_outfile streams use it, msconv/msdiff error lines call ms_term_clean).
 *
 * Text mode: C0 controls other than newline and tab, DEL and bytes that are
 * not valid UTF-8 become "\xHH"; the C1 controls U+0080..U+009F (valid
 * UTF-8 C2 80..C2 9F) become "\u00HH". JSON mode (for documents whose
 * generator already escaped C0 controls inside strings): DEL, C1 and any
 * raw C0 control but newline and tab (JSON whitespace) become "\u00HH", an
 * escape with the same meaning inside a JSON string. */
#ifndef MS_TERM_H
#define MS_TERM_H
#include <stddef.h>
#include <stdio.h>

enum { MS_TERM_TEXT = 1, MS_TERM_JSON = 2 };

/* Streaming escaper: feed bytes in any pieces (a UTF-8 sequence may be
 * split between calls); out(ctx, p, n) gets the escaped bytes. */
typedef int (*ms_term_out_fn)(void *ctx, const char *p, size_t n);
typedef struct ms_term {
    int mode;
    unsigned char pend[4];            /* start of a split UTF-8 sequence  */
    size_t npend;
} ms_term;

void ms_term_init(ms_term *t, int mode);
/* Returns 0, or the first non-zero value of out. */
int ms_term_write(ms_term *t, const char *p, size_t n, ms_term_out_fn out, void *ctx);
/* End of input: a pending partial sequence is written escaped. */
int ms_term_flush(ms_term *t, ms_term_out_fn out, void *ctx);

/* s escaped in text mode into buf (always NUL-terminated, cut to fit);
 * returns buf. For one-line messages. */
char *ms_term_clean(char *buf, size_t cap, const char *s);

/* Make `stderr` escape in text mode from now on (the converters' mains
 * call it first: error lines quote names and paths from the trace).
 * ms_term_raw_stderr() is the stream it replaced, for output that is ours
 * to the last byte (the progress bar's CR and erase-line). */
void ms_term_guard_stderr(void);
FILE *ms_term_raw_stderr(void);
#endif
