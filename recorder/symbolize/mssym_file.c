/*
 * mssym_file.c — symbolize a whole heap trace on disk (`msrec symbolize`,
 * and `msrec run` after its child exits): spec/FORMAT.md 8.7.
 *
 * One streaming pass reads the file: MODULE records go to the resolver in
 * file order, every new stack ip remembers the module that covered it when
 * its STACK record came (the latest loaded one, so an ip of a dlclose'd
 * library is not named from a later library mapped at the same place; an
 * ip no module covered yet takes any module of the file that covers it),
 * and ips that already have a SYMBOL record are skipped. Each remaining ip is
 * resolved once, in (module, address) order so each module's debug info is
 * walked in one go, and written as a SYMBOL record into RECORDS chunks
 * appended after the last chunk (ms_writer_open_append continues the
 * sequence numbers; END is not touched).
 *
 * Never damage the original: the appended file is built in a temporary
 * file in the destination's directory (a copy of the original, by
 * copy_file_range, plus the new chunks), fsynced, given the original's
 * mode (and owner, when allowed), and renamed over the destination (the
 * file a symlink points to, in place); any failure unlinks the
 * temporary and leaves the original as it was. Ips whose module file is
 * missing or has another build id get no record, so a later run with the
 * right files can still add them.
 */
#include "mssym.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct ipent {
    uint64_t ip;                 /* 0 = empty slot                          */
    long mod;                    /* module index when first seen, -1 none  */
    int had;                     /* a SYMBOL record exists                 */
} ipent;

typedef struct ipset {
    ipent *t;
    size_t cap, n;
} ipset;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* The entry of ip (inserted with mod = -1 when new); NULL on ENOMEM. */
static ipent *ipset_get(ipset *s, uint64_t ip, int *is_new)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        ipent *t = calloc(cap, sizeof *t);
        if (!t) return NULL;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->t[i].ip) continue;
            size_t j = mix(s->t[i].ip) & (cap - 1);
            while (t[j].ip) j = (j + 1) & (cap - 1);
            t[j] = s->t[i];
        }
        free(s->t);
        s->t = t;
        s->cap = cap;
    }
    size_t j = mix(ip) & (s->cap - 1);
    while (s->t[j].ip && s->t[j].ip != ip) j = (j + 1) & (s->cap - 1);
    *is_new = !s->t[j].ip;
    if (*is_new) {
        s->t[j].ip = ip;
        s->t[j].mod = -1;
        s->t[j].had = 0;
        s->n++;
    }
    return &s->t[j];
}

static int cmp_ent(const void *a, const void *b)
{
    const ipent *x = a, *y = b;
    if (x->mod != y->mod) return x->mod < y->mod ? -1 : 1;
    return x->ip < y->ip ? -1 : x->ip > y->ip;
}

static void say(char *err, size_t n, const char *fmt, ...)
{
    if (!err || !n) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

/* Copy the whole of src to dst (both at offset 0 .. size). */
static int copy_all(int src, int dst, uint64_t size)
{
    off_t in = 0, out = 0;
    while ((uint64_t)in < size) {
        ssize_t r = copy_file_range(src, &in, dst, &out, (size_t)(size - (uint64_t)in), 0);
        if (r < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ||
                      errno == EINVAL)) {
            char buf[1 << 16];
            for (;;) {
                ssize_t k = pread(src, buf, sizeof buf, in);
                if (k < 0 && errno == EINTR) continue;
                if (k < 0) return -1;
                if (k == 0) break;
                for (ssize_t w = 0; w < k;) {
                    ssize_t x = pwrite(dst, buf + w, (size_t)(k - w), out);
                    if (x < 0 && errno == EINTR) continue;
                    if (x <= 0) return -1;
                    w += x;
                    out += x;
                }
                in += k;
            }
            break;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
    }
    return (uint64_t)in == size ? 0 : -1;
}

/* Read the file: modules into sym, stack ips into ips. */
static int scan(const char *path, mssym *sym, ipset *ips, ms_integrity *integ, char *err,
                size_t errlen)
{
    ms_reader *r;
    int e = ms_reader_open(&r, path);
    if (e) {
        const char *d = ms_reader_open_error();
        say(err, errlen, "%s: %s", path,
            e == MS_EIO ? strerror(errno) : d && *d ? d : ms_strerror(e));
        return e;
    }
    if (ms_reader_header(r)->kind != MS_KIND_HEAP) {
        ms_reader_close(r);
        say(err, errlen, "%s: not a heap trace", path);
        return MS_EINVAL;
    }
    ms_reader_skip_events(r, 1);
    const ms_record *rec;
    while ((e = ms_reader_next(r, &rec)) == 1) {
        int is_new;
        ipent *p;
        switch (rec->type) {
        case MS_REC_MODULE:
            if ((e = mssym_add_module(sym, &rec->u.module))) goto out;
            break;
        case MS_REC_STACK:
            for (uint32_t i = 0; i < rec->u.stack.count; i++) {
                uint64_t ip = rec->u.stack.nodes[i].ip;
                if (!ip) continue;
                if (!(p = ipset_get(ips, ip, &is_new))) { e = MS_ENOMEM; goto out; }
                if (is_new || p->mod < 0)
                    p->mod = mssym_module_index(sym, ip, mssym_module_count(sym));
            }
            break;
        case MS_REC_SYMBOL:
            if (!rec->u.symbol.ip) break;
            if (!(p = ipset_get(ips, rec->u.symbol.ip, &is_new))) { e = MS_ENOMEM; goto out; }
            p->had = 1;
            break;
        default:
            break;
        }
    }
out:
    if (e < 0) {
        say(err, errlen, "%s: %s", path, ms_strerror(e));
    } else {
        e = 0;
        ms_reader_integrity(r, integ);
        /* A STACK written before the MODULE of a library dlopen'ed in the
         * same writer epoch: any module of the file that covers the ip. */
        for (size_t i = 0; i < ips->cap; i++)
            if (ips->t[i].ip && ips->t[i].mod < 0)
                ips->t[i].mod = mssym_module_index(sym, ips->t[i].ip, mssym_module_count(sym));
    }
    ms_reader_close(r);
    return e;
}

/* dir part of path ("." when none) into buf. */
static void dir_of(char *buf, size_t n, const char *path)
{
    const char *sl = strrchr(path, '/');
    if (!sl) snprintf(buf, n, ".");
    else if (sl == path) snprintf(buf, n, "/");
    else snprintf(buf, n, "%.*s", (int)(sl - path), path);
}

/* Write the records of todo[0..n) after a copy of path into a temporary
 * next to dest, then rename it to dest. */
static int write_out(const char *path, const char *dest, int in_place, mssym *sym,
                     ipent *todo, size_t n, mssym_stats *st, char *err, size_t errlen)
{
    int src = open(path, O_RDONLY | O_CLOEXEC);
    if (src < 0) {
        say(err, errlen, "%s: %s", path, strerror(errno));
        return MS_EIO;
    }
    struct stat sst;
    if (fstat(src, &sst) != 0) {
        say(err, errlen, "%s: %s", path, strerror(errno));
        close(src);
        return MS_EIO;
    }
    char dir[PATH_MAX], tmp[PATH_MAX + 256];
    dir_of(dir, sizeof dir, dest);
    const char *base = strrchr(dest, '/') ? strrchr(dest, '/') + 1 : dest;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%.200s.sym.XXXXXX", dir, base) >= sizeof tmp) {
        say(err, errlen, "%s: path too long", dest);
        close(src);
        return MS_EINVAL;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        say(err, errlen, "cannot create a temporary file in %s: %s", dir, strerror(errno));
        close(src);
        return MS_EIO;
    }
    int rc = 0;
    ms_writer *w = NULL;
    if (copy_all(src, fd, (uint64_t)sst.st_size) != 0) {
        say(err, errlen, "copying %s to %s: %s", path, tmp, strerror(errno));
        rc = MS_EIO;
        goto fail;
    }
    ms_writer_opts o;
    memset(&o, 0, sizeof o);
    if ((rc = ms_writer_open_append(&w, fd, 0, &o))) {
        say(err, errlen, "%s: cannot append: %s", path, ms_strerror(rc));
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t mid, off;
        const ms_frame *fr;
        size_t nf;
        int r = mssym_resolve_in(sym, todo[i].mod, todo[i].ip, &mid, &off, &fr, &nf);
        if (r < 0) { rc = r; say(err, errlen, "symbolizer: %s", ms_strerror(r)); goto fail; }
        if (r == 0) { st->unresolved++; continue; }
        ms_record rec;
        memset(&rec, 0, sizeof rec);
        rec.type = MS_REC_SYMBOL;
        rec.u.symbol.ip = todo[i].ip;
        rec.u.symbol.module_id = mid;
        rec.u.symbol.module_offset = off;
        rec.u.symbol.nframes = (uint32_t)nf;
        rec.u.symbol.frames = fr;
        if ((rc = ms_writer_add(w, &rec))) {
            say(err, errlen, "writing %s: %s", tmp, rc == MS_EIO ? strerror(errno) : ms_strerror(rc));
            goto fail;
        }
        st->added++;
        for (size_t k = 0; k < nf; k++)
            if (fr[k].function.len) { st->named++; break; }
    }
    rc = ms_writer_close(w);
    w = NULL;
    if (in_place && fchown(fd, sst.st_uid, sst.st_gid) != 0) {
        /* not the owner and not root: the copy stays ours */
    }
    if (rc || fsync(fd) != 0 || fchmod(fd, sst.st_mode & 07777) != 0) {
        say(err, errlen, "writing %s: %s", tmp, rc && rc != MS_EIO ? ms_strerror(rc) : strerror(errno));
        if (!rc) rc = MS_EIO;
        goto fail;
    }
    if (in_place) {
        if (rename(tmp, dest) != 0) {
            say(err, errlen, "rename %s -> %s: %s", tmp, dest, strerror(errno));
            rc = MS_EIO;
            goto fail;
        }
    } else {
        /* never clobber another file: link fails with EEXIST */
        if (link(tmp, dest) != 0) {
            int e = errno;
            say(err, errlen, "%s: %s", dest, strerror(e));
            rc = e == EEXIST ? MS_EEXIST : MS_EIO;
            goto fail;
        }
        unlink(tmp);
    }
    close(fd);
    close(src);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0) {}
        close(dfd);
    }
    return 0;
fail:
    if (w) ms_writer_abort(w);
    close(fd);
    unlink(tmp);
    close(src);
    st->added = st->named = 0;
    return rc ? rc : MS_EIO;
}

int mssym_file(const char *path, const char *out, unsigned flags, mssym_stats *st,
               char *err, size_t errlen)
{
    return mssym_file_warm(path, out, flags, NULL, st, err, errlen);
}

int mssym_file_warm(const char *path, const char *out, unsigned flags, mssym *warm,
                    mssym_stats *st, char *err, size_t errlen)
{
    mssym_stats local;
    if (!st) st = &local;
    memset(st, 0, sizeof *st);
    if (err && errlen) err[0] = 0;
    if (!path) return MS_EINVAL;
    int in_place = !out || !strcmp(out, path);
    if (!in_place && access(out, F_OK) == 0) {
        say(err, errlen, "%s exists (not overwritten)", out);
        return MS_EEXIST;
    }
    mssym *sym = NULL;
    ipset ips = { NULL, 0, 0 };
    ipent *todo = NULL;
    int rc = mssym_new(&sym, flags);
    if (rc) return rc;
    mssym_take_warm(sym, warm);
    ms_integrity integ;
    memset(&integ, 0, sizeof integ);
    rc = scan(path, sym, &ips, &integ, err, errlen);
    if (rc) goto done;
    if (integ.verdict != MS_OK) {
        say(err, errlen, "%s is damaged (%s at offset %llu): not symbolized", path,
            ms_strerror(integ.verdict),
            (unsigned long long)(integ.verdict == MS_ETRUNC ? integ.trunc_offset
                                                            : integ.first_bad_offset));
        rc = integ.verdict;
        goto done;
    }
    if ((flags & MSSYM_FINISHED) && !integ.has_end) {
        say(err, errlen, "%s has no END record (its process was killed, still runs, or left by a raw "
            "exit system call as Go's runtime does: the trace ends at the writer's last write): "
            "not symbolized; msconv names its frames when it reads it on this machine", path);
        rc = MS_ESTATE;
        goto done;
    }
    size_t n = 0;
    todo = malloc((ips.n ? ips.n : 1) * sizeof *todo);
    if (!todo) { rc = MS_ENOMEM; goto done; }
    for (size_t i = 0; i < ips.cap; i++) {
        if (!ips.t[i].ip) continue;
        if (ips.t[i].had) { st->had++; continue; }
        todo[n++] = ips.t[i];
    }
    st->ips = n + st->had;
    if (n) {
        qsort(todo, n, sizeof *todo, cmp_ent);
        /* in place through a symlink: replace the file it points to */
        char real[PATH_MAX];
        const char *dest = in_place ? (realpath(path, real) ? real : path) : out;
        rc = write_out(path, dest, in_place, sym, todo, n, st, err, errlen);
    } else if (!in_place) {
        /* nothing to add: the copy is the file itself */
        rc = write_out(path, out, 0, sym, todo, 0, st, err, errlen);
    }
    st->bad_modules = mssym_problems(sym, st->problems, sizeof st->problems);
done:
    free(todo);
    free(ips.t);
    mssym_free(sym);
    return rc;
}
