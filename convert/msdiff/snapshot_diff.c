/*
 * Snapshot diff driver of msdiff: loads both snapshot files (the last
 * snapshot of each; the first and last when both inputs are the same
 * series file), builds the diff model (analyze/snapdiff) and writes the
 * requested reports atomically: all outputs are committed only when every
 * one of them was written completely.
 */
#include "msdiff.h"
#include "snap.h"
#include "snapdiff.h"
#include "outfile.h"
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
        fprintf(stderr, "msdiff: %s: warning: damaged file (%s), using what could be read\n", a->a, ms_strerror(fa->integrity.verdict));
    if (fb->integrity.verdict != MS_OK)
        fprintf(stderr, "msdiff: %s: warning: damaged file (%s), using what could be read\n", a->b, ms_strerror(fb->integrity.verdict));
    const snap *sa = &fa->snaps[fa->nsnaps - 1], *sb = &fb->snaps[fb->nsnaps - 1];
    if (!strcmp(a->a, a->b) && fa->nsnaps > 1) sa = &fa->snaps[0];
    snap_diff d;
    int rc = snap_diff_build(sa, sb, a->match, a->threshold, &d);
    if (rc) {
        fprintf(stderr, "msdiff: %s: %s\n", a->b, ms_strerror(rc));
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
