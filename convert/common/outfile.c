/*
 * Atomic report output. Converters write every report through this so a
 * failure (bad input half-way, full disk, a signal) never leaves a truncated
 * file at the requested path: data goes to PATH.tmp.XXXXXX in the same
 * directory and is renamed over PATH only when complete.
 */
#include "outfile.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

int ms_outfile_open(ms_outfile *o, const char *path)
{
    memset(o, 0, sizeof *o);
    if (!path || !strcmp(path, "-")) {
        o->fp = stdout;
        return 0;
    }
    size_t n = strlen(path);
    o->path = strdup(path);
    o->tmp = malloc(n + 16);
    if (!o->path || !o->tmp) {
        free(o->path); free(o->tmp);
        errno = ENOMEM;
        return -1;
    }
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        free(o->path); free(o->tmp);
        o->path = o->tmp = NULL;
        errno = e;
        return -1;
    }
    fchmod(fd, 0644);
    o->fp = fdopen(fd, "w");
    if (!o->fp) {
        int e = errno;
        close(fd); unlink(o->tmp);
        free(o->path); free(o->tmp);
        o->path = o->tmp = NULL;
        errno = e;
        return -1;
    }
    return 0;
}

int ms_outfile_commit(ms_outfile *o)
{
    if (!o->path) {
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
    }
    int bad = ferror(o->fp);
    if (fclose(o->fp) != 0) bad = 1;
    o->fp = NULL;
    int e = errno;
    if (bad || rename(o->tmp, o->path) != 0) {
        if (!bad) e = errno;
        unlink(o->tmp);
        free(o->path); free(o->tmp);
        o->path = o->tmp = NULL;
        errno = e ? e : EIO;
        return -1;
    }
    free(o->path); free(o->tmp);
    o->path = o->tmp = NULL;
    return 0;
}

void ms_outfile_abort(ms_outfile *o)
{
    if (!o->path) return;
    if (o->fp) fclose(o->fp);
    unlink(o->tmp);
    free(o->path); free(o->tmp);
    memset(o, 0, sizeof *o);
}
