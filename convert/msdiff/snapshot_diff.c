/*
 * Snapshot diff driver of msdiff: loads both snapshot files, picks one
 * snapshot of each (--snapshot N[:M] for series files; by default the last
 * snapshot of each, saying so on stderr when a file is a series, or the
 * first and last when both inputs are the same series file), puts two
 * snapshots of one host in time order (a "before" newer than the "after" is
 * swapped, with a warning: a diff that runs backwards in time reads every
 * growth as a drop; snapshots of two hosts, or --as-given, keep the order
 * the user gave), builds the diff model (analyze/snapdiff) and writes the requested
 * reports atomically: all outputs are committed only when every one of
 * them was written completely.
 */
#include "msdiff.h"
#include "i18n.h"
#include "snap.h"
#include "snapdiff.h"
#include "outfile.h"
#include "fmt.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct snap_ctx { const snap_diff *d; const msdiff_args *a; };
static int render_md(FILE *f, const void *c)
{
    const struct snap_ctx *s = c;
    return msdiff_snapshot_md(f, s->d, s->a);
}
static int render_json(FILE *f, const void *c)
{
    const struct snap_ctx *s = c;
    return msdiff_snapshot_json(f, s->d, s->a);
}

/* The snapshot of f to compare: index want (negative: from the end) when
 * given, else dflt (negative: from the end). A series used by default is
 * named on stderr. NULL (after one error line) when want is out of range. */
static const snap *pick(const snap_file *f, const char *path, long want, long dflt)
{
    long n = (long)f->nsnaps;
    if (want != LONG_MIN) {
        long i = want < 0 ? n + want : want;
        if (i < 0 || i >= n) {
            if (ms_cli() == MS_LANG_ZH) fprintf(stderr, "msdiff: %s: --snapshot %ld：文件只有 %ld 个快照\n", path, want, n);
            else fprintf(stderr, "msdiff: %s: --snapshot %ld: the file has %ld snapshot%s\n", path, want, n, n == 1 ? "" : "s");
            return NULL;
        }
        return &f->snaps[i];
    }
    long i = dflt < 0 ? n + dflt : dflt;
    if (n > 1 && dflt < 0)
        fprintf(stderr, MS_CM("msdiff: %s: 一个含 %ld 个快照的序列；使用最后一个（#%ld，%s）；可用 --snapshot N 选择\n",
                              "msdiff: %s: a series of %ld snapshots; using the last (#%ld, %s); choose one with --snapshot N\n"),
                path, n, i, ms_fmt_time(MS_FBUF, f->snaps[i].wall_ns));
    return &f->snaps[i];
}

int msdiff_snapshot(const msdiff_args *a)
{
    char err[256];
    snap_file *fa = NULL, *fb = NULL;
    if (snap_file_load(a->a, &fa, err, sizeof err)) {
        fprintf(stderr, "msdiff: %s: %s\n", a->a, err);
        return 1;
    }
    if (snap_file_load(a->b, &fb, err, sizeof err)) {
        fprintf(stderr, "msdiff: %s: %s\n", a->b, err);
        snap_file_free(fa);
        return 1;
    }
    if (fa->integrity.verdict != MS_OK)
        fprintf(stderr, MS_CM("msdiff: %s: 警告：文件已损坏（%s），使用能读出的部分\n", "msdiff: %s: warning: damaged file (%s), using what could be read\n"), a->a, ms_cli_mserror(fa->integrity.verdict));
    if (fb->integrity.verdict != MS_OK)
        fprintf(stderr, MS_CM("msdiff: %s: 警告：文件已损坏（%s），使用能读出的部分\n", "msdiff: %s: warning: damaged file (%s), using what could be read\n"), a->b, ms_cli_mserror(fb->integrity.verdict));
    int same = !strcmp(a->a, a->b);
    const snap *sa = pick(fa, a->a, a->snap_a, same ? 0 : -1), *sb = pick(fb, a->b, a->snap_b, same ? (long)fb->nsnaps - 1 : -1);
    if (!sa || !sb) { snap_file_free(fa); snap_file_free(fb); return 1; }
    msdiff_args ra = *a;
    int one_host = sa->hostname.n == sb->hostname.n
                   && !memcmp(sa->hostname.p, sb->hostname.p, sa->hostname.n);
    if (!a->as_given && one_host && sa->wall_ns > sb->wall_ns) {
        fprintf(stderr, MS_CM("msdiff: 警告：第一个快照（%s，%s）比第二个（%s，%s）新；"
                              "按时间顺序比较（之前 = %s）\n",
                              "msdiff: warning: the first snapshot (%s, %s) is newer than the second (%s, %s); "
                              "comparing them in time order (before = %s)\n"), a->a, ms_fmt_time(MS_FBUF, sa->wall_ns),
                a->b, ms_fmt_time(MS_FBUF, sb->wall_ns), a->b);
        const snap *t = sa; sa = sb; sb = t;
        ra.a = a->b; ra.b = a->a;
    }
    a = &ra;
    snap_diff d;
    int rc = snap_diff_build(sa, sb, a->match, a->threshold, a->files_threshold, &d);
    if (rc) {
        fprintf(stderr, "msdiff: %s: %s\n", a->b, ms_cli_mserror(rc));
        snap_file_free(fa); snap_file_free(fb);
        return 1;
    }
    struct snap_ctx c = { &d, a };
    int status = msdiff_write_reports(a, render_md, render_json, &c);
    snap_diff_free(&d);
    snap_file_free(fa);
    snap_file_free(fb);
    return status;
}
