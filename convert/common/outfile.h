/* Atomic output files for the converters: write to a temporary file beside
 * the target, rename over it on success, unlink it on failure, so an error
 * never leaves a half-written report. "-" means stdout. */
#ifndef MS_OUTFILE_H
#define MS_OUTFILE_H
#include <stdio.h>

typedef struct ms_outfile {
    FILE *fp;          /* write here                                     */
    char *path;        /* final path (NULL for stdout)                   */
    char *tmp;         /* temporary path                                 */
} ms_outfile;

/* Open PATH ("-" or NULL = stdout). On error returns -1 with errno set. */
int ms_outfile_open(ms_outfile *o, const char *path);
/* Flush, close and rename into place. Returns 0, or -1 (errno) after
 * removing the temporary file. */
int ms_outfile_commit(ms_outfile *o);
/* Close and remove the temporary file (no-op for stdout). */
void ms_outfile_abort(ms_outfile *o);
#endif
