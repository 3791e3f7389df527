/*
 * Report output (outfile.h). Converters write every report through this
 * so a failure (bad input half-way, full disk, a signal) never leaves a
 * truncated file at the requested path: data goes to PATH.tmp.XXXXXX in
 * the same directory, created with mode 0666 so the umask applies (or the
 * replaced file's mode), and is renamed over PATH only when complete. The
 * temporary files open at any moment are listed for a SIGINT / SIGTERM /
 * SIGHUP / SIGQUIT handler that unlinks them and then dies of the signal
 * as before. The stream is a stdio cookie stream over the descriptor, so
 * every write is seen here: the first failed write's errno is kept, and
 * text / JSON outputs pass through the control-character escaper.
 */
#include "outfile.h"
#include "i18n.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static _Thread_local char why[256];

const char *ms_outfile_strerror(void) { return why; }

static int fail(int e, const char *msg)
{
    snprintf(why, sizeof why, "%s", msg ? msg : ms_cli_strerror(e));
    errno = e;
    return -1;
}

/* ---- temporary files removed on a fatal signal ---- */
#define MAX_TMP 16
static char *volatile tmp_live[MAX_TMP];
static const int cleanup_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void on_signal(int sig)
{
    for (int i = 0; i < MAX_TMP; i++)
        if (tmp_live[i]) unlink(tmp_live[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void block(sigset_t *old)
{
    sigset_t s;
    sigemptyset(&s);
    for (size_t i = 0; i < sizeof cleanup_sigs / sizeof *cleanup_sigs; i++) sigaddset(&s, cleanup_sigs[i]);
    pthread_sigmask(SIG_BLOCK, &s, old);
}

static void install_handlers(void)
{
    static int done;
    if (done) return;
    done = 1;
    for (size_t i = 0; i < sizeof cleanup_sigs / sizeof *cleanup_sigs; i++) {
        struct sigaction old, sa;
        if (sigaction(cleanup_sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL) continue;  /* ignored: stays so */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(cleanup_sigs[i], &sa, NULL);
    }
}

static void tmp_forget(const char *p)
{
    for (int i = 0; i < MAX_TMP; i++)
        if (tmp_live[i] == p) tmp_live[i] = NULL;
}

/* ---- the stream ---- */
static int write_all(ms_outfile *o, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(o->fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (!o->werr) o->werr = w < 0 ? errno : EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int term_out(void *ctx, const char *p, size_t n) { return write_all(ctx, p, n); }

static ssize_t cookie_write(void *c, const char *p, size_t n)
{
    ms_outfile *o = c;
    if (o->werr) { errno = o->werr; return -1; }
    int rc = o->escape ? ms_term_write(&o->term, p, n, term_out, o) : write_all(o, p, n);
    if (rc) { errno = o->werr; return -1; }
    return (ssize_t)n;
}

static int cookie_close(void *c)
{
    ms_outfile *o = c;
    int rc = 0;
    if (o->escape && !o->werr) rc = ms_term_flush(&o->term, term_out, o);
    if (o->own_fd && close(o->fd) != 0 && !o->werr) { o->werr = errno; rc = -1; }
    o->own_fd = 0;
    return rc || o->werr ? -1 : 0;
}

static int attach(ms_outfile *o, int fd, int own, int escape)
{
    o->fd = fd;
    o->own_fd = own;
    o->escape = escape;
    if (escape) ms_term_init(&o->term, escape);
    cookie_io_functions_t io = { NULL, cookie_write, NULL, cookie_close };
    o->fp = fopencookie(o, "w", io);
    if (!o->fp) return -1;
    setvbuf(o->fp, NULL, _IOFBF, 1 << 16);
    return 0;
}

/* PATH.tmp.XXXXXX created O_EXCL with mode (the umask applies). */
static int make_tmp(ms_outfile *o, const char *path, mode_t mode)
{
    static const char az[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t n = strlen(path);
    o->tmp = malloc(n + 12);
    if (!o->tmp) return -1;
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".tmp.", 5);
    for (int tries = 0; tries < 100; tries++) {
        unsigned char r[6];
        if (getrandom(r, sizeof r, 0) != sizeof r)
            for (int i = 0; i < 6; i++) r[i] = (unsigned char)(rand() ^ (getpid() >> i));
        for (int i = 0; i < 6; i++) o->tmp[n + 5 + i] = az[r[i] % (sizeof az - 1)];
        o->tmp[n + 11] = 0;
        int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

int ms_outfile_open_as(ms_outfile *o, const char *path, int escape)
{
    memset(o, 0, sizeof *o);
    why[0] = 0;
    if (!path || !strcmp(path, "-")) {
        fflush(stdout);
        if (attach(o, STDOUT_FILENO, 0, escape)) return fail(errno, NULL);
        return 0;
    }
    struct stat st;
    mode_t mode = 0666;
    int keep = 0;
    if (lstat(path, &st) == 0) {
        if (st.st_uid != geteuid()) {
            char msg[160];
            snprintf(msg, sizeof msg, MS_CM("属于另一个用户（uid %lu），不替换它", "owned by another user (uid %lu); not replacing it"), (unsigned long)st.st_uid);
            return fail(EPERM, msg);
        }
        if (S_ISDIR(st.st_mode)) return fail(EISDIR, NULL);
        if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {   /* /dev/null, a FIFO: in place */
            int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
            if (fd < 0) return fail(errno, NULL);
            if (attach(o, fd, 1, escape)) { int e = errno; close(fd); return fail(e, NULL); }
            return 0;
        }
        if (S_ISREG(st.st_mode)) { mode = st.st_mode & 07777; keep = 1; }
    }
    o->path = strdup(path);
    if (!o->path) return fail(ENOMEM, NULL);
    install_handlers();
    sigset_t old;
    block(&old);
    int fd = make_tmp(o, path, mode), e = errno;
    int slot = -1;
    if (fd >= 0) {
        if (keep) fchmod(fd, mode);                       /* the replaced file's mode, as is */
        for (int i = 0; i < MAX_TMP && slot < 0; i++)
            if (!tmp_live[i]) { tmp_live[i] = o->tmp; slot = i; }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (fd < 0) {
        free(o->path); free(o->tmp);
        o->path = o->tmp = NULL;
        return fail(e, NULL);
    }
    if (attach(o, fd, 1, escape)) {
        e = errno;
        close(fd);
        ms_outfile_abort(o);
        return fail(e, NULL);
    }
    return 0;
}

int ms_outfile_open(ms_outfile *o, const char *path) { return ms_outfile_open_as(o, path, 0); }

int ms_outfile_write_error(const ms_outfile *o) { return o->werr; }

static void drop_tmp(ms_outfile *o)
{
    sigset_t old;
    block(&old);
    if (o->tmp) { unlink(o->tmp); tmp_forget(o->tmp); }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    free(o->path); free(o->tmp);
    o->path = o->tmp = NULL;
}

int ms_outfile_commit(ms_outfile *o)
{
    why[0] = 0;
    int bad = o->fp ? ferror(o->fp) : 1;
    if (o->fp && fclose(o->fp) != 0) bad = 1;
    o->fp = NULL;
    int e = o->werr ? o->werr : bad ? (errno ? errno : EIO) : 0;
    if (!o->path) {                                   /* stdout or in place */
        return e ? fail(e, NULL) : 0;
    }
    if (!e) {
        struct stat st;                               /* appeared meanwhile? */
        if (lstat(o->path, &st) == 0 && st.st_uid != geteuid()) {
            char msg[160];
            snprintf(msg, sizeof msg, MS_CM("属于另一个用户（uid %lu），不替换它", "owned by another user (uid %lu); not replacing it"), (unsigned long)st.st_uid);
            drop_tmp(o);
            return fail(EPERM, msg);
        }
        sigset_t old;
        block(&old);
        if (rename(o->tmp, o->path) != 0) e = errno;
        else tmp_forget(o->tmp);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (e) { drop_tmp(o); return fail(e, NULL); }
    free(o->path); free(o->tmp);
    o->path = o->tmp = NULL;
    return 0;
}

void ms_outfile_abort(ms_outfile *o)
{
    if (o->fp) fclose(o->fp);
    o->fp = NULL;
    if (o->own_fd) { close(o->fd); o->own_fd = 0; }
    if (o->path) drop_tmp(o);
}
