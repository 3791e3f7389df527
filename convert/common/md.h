/* Markdown output helpers shared by the converters: escaping untrusted text
 * (process names, command lines, paths) so it cannot break a table or
 * inject HTML, and table rows. */
#ifndef MS_MD_H
#define MS_MD_H
#include <stddef.h>
#include <stdio.h>

/* Write (s, n) as inline Markdown text safe inside a table cell:
 * | ` * _ [ ] \ # are backslash-escaped, < > & become entities, a newline
 * becomes the visible two characters \n, other control bytes and invalid
 * UTF-8 become \xNN, NUL bytes (cmdline separators) become spaces.
 * max_chars > 0 truncates to that many characters and appends "…". */
void ms_md_text(FILE *f, const char *s, size_t n, size_t max_chars);
/* Same for a NUL-terminated string, no truncation. */
void ms_md_str(FILE *f, const char *s);
/* The escaped form in a malloc'd string. */
char *ms_md_escape(const char *s, size_t n, size_t max_chars);

/* Table header: ms_md_table_head(f, 3, "a", "b", "c") writes the header row
 * and the separator; align is a string of 'l'/'r' per column (NULL = all
 * left). */
void ms_md_table_head(FILE *f, const char *align, int ncols, ...);
#endif
