/* Views of msconv that main.c dispatches to (one entry each in main.c's
 * mode table), plus the small helpers they share: error lines, integrity
 * verdicts, JSON string escaping. */
#ifndef MSCONV_VIEWS_H
#define MSCONV_VIEWS_H
#include <stdint.h>
#include <stdio.h>
#include "memscope.h"
#include "range.h"
#include "i18n.h"

/* Parsed command line handed to a view. */
typedef struct msconv_args {
    const char *input;
    const char *output;           /* NULL or "-" = stdout                 */
    int events;                   /* --events                             */
    long top;                     /* --top N (default 1000)               */
    const char *lang;             /* "en" or "zh"                         */
    int argc; char **argv;        /* the original command line            */
    const ms_range_req *range;    /* --from/--to/--phase; NULL = all      */
} msconv_args;

/* A view returns the exit status (0 ok, 1 bad input/output, 2 usage) and
 * prints its own one-line errors via msconv_error. */
int msconv_info(const msconv_args *a);
int msconv_dump(const msconv_args *a);
int msconv_heap_json(const msconv_args *a);

/* --from/--to/--phase (range_opts.c). msconv_range_opt parses one of them
 * into r; msconv_range_done checks the whole request for mode (a mode
 * flag); both return 0 or 2 after a usage error line. */
int msconv_range_opt(ms_range_req *r, const char *opt, const char *val);
int msconv_range_given(const ms_range_req *r);
int msconv_range_done(const ms_range_req *r, const char *mode);
/* After a ranged load (h: the heap model, any view's): 0, or the exit
 * status (2) after an error line for an unknown phase (listing the phases
 * that exist) or a --from past the end; a --to past the end gets a note. */
struct ms_heap;
int msconv_range_check(const char *input, const struct ms_heap *h);

/* "msconv: WHAT: reason" on stderr (one line). */
void msconv_error(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "msconv: usage: MSG (see msconv --help)" in ms_cli()'s language; returns 2. */
int msconv_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Message for a failed ms_reader_open / ms_reader_next (uses the reader's
 * detail when there is one). */
const char *msconv_reader_error(int err);

/* Integrity verdict: writes "complete", "truncated at offset N: ...",
 * "corrupt chunk at offset N (...)" or "incomplete: no end-of-trace record
 * (recorder killed?)" into buf; returns 0 for complete, 1 otherwise.
 * *word gets "complete" / "truncated" / "corrupt" / "incomplete". */
int msconv_verdict(char *buf, size_t n, const char **word, const ms_integrity *in);
/* The same in language l (the JSON outputs keep msconv_verdict's English). */
int msconv_verdict_lang(char *buf, size_t n, const char **word, const ms_integrity *in, ms_lang l);
/* Print the verdict as a warning line on stderr when the file is damaged. */
void msconv_warn_integrity(const char *file, const ms_integrity *in);

/* Write s (len bytes, may hold NULs / invalid UTF-8) as a JSON string
 * literal: NUL as \u0000, invalid UTF-8 bytes as \u00XX. */
void msconv_json_str(FILE *fp, const char *s, size_t len);
/* Same into a malloc'd NUL-terminated buffer (NULL on ENOMEM). */
char *msconv_json_str_dup(const char *s, size_t len);
#endif
