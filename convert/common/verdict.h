/* Integrity verdict of a .memscope file in words (verdict.c). */
#ifndef MS_CONVERT_VERDICT_H
#define MS_CONVERT_VERDICT_H
#include <stddef.h>
#include "memscope.h"
#include "i18n.h"

/* Writes the verdict of IN into BUF (N bytes) in language L, e.g.
 * "complete", "incomplete: disk full, 6 of 8 events written (1 write
 * errors)"; *WORD (when WORD is not NULL) gets the English word of the
 * JSON outputs: "complete", "incomplete", "truncated" or "corrupt".
 * Returns 0 for a complete file, 1 otherwise. */
int ms_verdict_text(char *buf, size_t n, const char **word, const ms_integrity *in, ms_lang l);
#endif
