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

static void default_path(char *buf, size_t cap, const msdiff_args *a, const char *name)
{
    if (a->b_dir) snprintf(buf, cap, "%s/%s", a->b_dir, name);
    else snprintf(buf, cap, "%s", name);
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
    char mdp[PATH_MAX + 64], jsp[PATH_MAX + 64];
    const char *mdpath = a->md_out, *jspath = a->json_out;
    if (a->want_md && !mdpath) {
        default_path(mdp, sizeof mdp, a, a->lang == MS_LANG_EN ? "diff_report_en.md" : "diff_report_中文.md");
        mdpath = mdp;
    }
    if (a->want_json && !jspath) { default_path(jsp, sizeof jsp, a, "diff_report.json"); jspath = jsp; }
    ms_outfile om, oj;
    memset(&om, 0, sizeof om);
    memset(&oj, 0, sizeof oj);
    int status = 0;
    if (a->want_md && ms_outfile_open(&om, mdpath)) {
        fprintf(stderr, "msdiff: %s: %s\n", mdpath, strerror(errno));
        status = 1;
    } else if (a->want_json && ms_outfile_open(&oj, jspath)) {
        fprintf(stderr, "msdiff: %s: %s\n", jspath, strerror(errno));
        if (a->want_md) ms_outfile_abort(&om);
        status = 1;
    }
    if (!status) {
        int bad = 0;
        if (a->want_md && msdiff_snapshot_md(om.fp, &d, a)) bad = 1;
        if (!bad && a->want_json && msdiff_snapshot_json(oj.fp, &d, a)) bad = 1;
        if (bad) {
            fprintf(stderr, "msdiff: %s: out of memory\n", a->b);
            if (a->want_md) ms_outfile_abort(&om);
            if (a->want_json) ms_outfile_abort(&oj);
            status = 1;
        } else {
            if (a->want_md && ms_outfile_commit(&om)) {
                fprintf(stderr, "msdiff: %s: %s\n", mdpath, strerror(errno));
                if (a->want_json) ms_outfile_abort(&oj);
                status = 1;
            } else if (a->want_json && ms_outfile_commit(&oj)) {
                fprintf(stderr, "msdiff: %s: %s\n", jspath, strerror(errno));
                status = 1;
            }
            if (!status) {
                if (a->want_md && strcmp(mdpath, "-")) fprintf(stderr, "msdiff: wrote %s\n", mdpath);
                if (a->want_json && strcmp(jspath, "-")) fprintf(stderr, "msdiff: wrote %s\n", jspath);
            }
        }
    }
    snap_diff_free(&d);
    snap_file_free(fa);
    snap_file_free(fb);
    return status;
}
