/* Output files for the converters: write to a temporary file beside the
 * target, rename over it on success, unlink it on failure or when the
 * process is interrupted, so an error never leaves a half-written report
 * nor a stray temporary file. "-" means stdout.
 *
 * New files get mode 0666 & ~umask; a replaced file keeps its mode; a file
 * owned by another user is never replaced (-o over someone else's file is
 * refused). An existing target that is not a regular file (a device such
 * as /dev/null, a FIFO) is written in place. The first failed write is
 * remembered (ms_outfile_write_error), so a full disk is reported as such.
 * Text and JSON outputs escape control characters (term.h). */
#ifndef MS_OUTFILE_H
#define MS_OUTFILE_H
#include <stdio.h>
#include "term.h"

typedef struct ms_outfile {
    FILE *fp;          /* write here                                     */
    char *path;        /* final path (NULL for stdout or in place)      */
    char *tmp;         /* temporary path                                 */
    int fd;            /* the file's descriptor                          */
    int own_fd;        /* fd is ours to close                            */
    int werr;          /* errno of the first failed write, 0 = none      */
    int escape;        /* 0, MS_TERM_TEXT or MS_TERM_JSON                */
    ms_term term;
} ms_outfile;

/* Open PATH ("-" or NULL = stdout) for a binary or markup output (no
 * escaping). On error returns -1 with errno set; ms_outfile_strerror()
 * says why in words. */
int ms_outfile_open(ms_outfile *o, const char *path);
/* Same for a text report (MS_TERM_TEXT) or a JSON document
 * (MS_TERM_JSON): control characters are escaped on the way out. */
int ms_outfile_open_as(ms_outfile *o, const char *path, int escape);
/* Flush, close and rename into place. Returns 0, or -1 (errno; the first
 * failed write's errno when there was one) after removing the temporary
 * file. */
int ms_outfile_commit(ms_outfile *o);
/* Close and remove the temporary file (no-op for stdout). */
void ms_outfile_abort(ms_outfile *o);
/* errno of the first write that failed so far (ENOSPC, EIO...), 0 if none. */
int ms_outfile_write_error(const ms_outfile *o);
/* Why the last ms_outfile_open / ms_outfile_commit of this thread failed
 * ("No space left on device", "owned by another user (uid 65534); not
 * replacing it"...). */
const char *ms_outfile_strerror(void);
#endif
