/*
 * Writing msdiff's reports, shared by the snapshot and the heap diff: the
 * default names (diff_report_中文.md / diff_report_en.md /
 * diff_report.json, in B's directory when B was a directory, else in the
 * current one) and the all-or-nothing rule: every requested output is
 * written to a temporary file and committed only when all of them were
 * written completely, so a failure never leaves a half-written report.
 */
#include "msdiff.h"
#include "i18n.h"
#include "outfile.h"
#include "memscope.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char *out_path(char *buf, size_t cap, const msdiff_args *a,
                            const char *given, const char *name)
{
    if (given) return given;
    if (a->b_dir) snprintf(buf, cap, "%s/%s", a->b_dir, name);
    else snprintf(buf, cap, "%s", name);
    return buf;
}

int msdiff_write_reports(const msdiff_args *a, msdiff_render_fn md,
                         msdiff_render_fn json, const void *ctx)
{
    char mdp[PATH_MAX + 64], jsp[PATH_MAX + 64];
    const char *mdpath = out_path(mdp, sizeof mdp, a, a->md_out,
        a->lang == MS_LANG_EN ? "diff_report_en.md" : "diff_report_中文.md");
    const char *jspath = out_path(jsp, sizeof jsp, a, a->json_out, "diff_report.json");
    ms_outfile om, oj;
    memset(&om, 0, sizeof om);
    memset(&oj, 0, sizeof oj);
    if (a->want_md && ms_outfile_open_as(&om, mdpath, MS_TERM_TEXT)) {
        fprintf(stderr, "msdiff: %s: %s\n", mdpath, ms_outfile_strerror());
        return 1;
    }
    if (a->want_json && ms_outfile_open_as(&oj, jspath, MS_TERM_JSON)) {
        fprintf(stderr, "msdiff: %s: %s\n", jspath, ms_outfile_strerror());
        if (a->want_md) ms_outfile_abort(&om);
        return 1;
    }
    /* everything written out (a full disk shows here) before any commit */
    int bad_md = a->want_md && (md(om.fp, ctx) || fflush(om.fp));
    int bad = bad_md || (a->want_json && (json(oj.fp, ctx) || fflush(oj.fp)));
    if (bad) {
        /* a write that failed (a full disk) is named as such, else it was memory */
        const ms_outfile *w = bad_md ? &om : &oj;
        int werr = ms_outfile_write_error(w);
        if (werr) fprintf(stderr, MS_CM("msdiff: %s: 写入失败：%s\n", "msdiff: %s: write failed: %s\n"),
                         bad_md ? mdpath : jspath, ms_cli_strerror(werr));
        else fprintf(stderr, "msdiff: %s: %s\n", a->b, ms_cli_mserror(MS_ENOMEM));
        if (a->want_md) ms_outfile_abort(&om);
        if (a->want_json) ms_outfile_abort(&oj);
        return 1;
    }
    if (a->want_md && ms_outfile_commit(&om)) {
        fprintf(stderr, "msdiff: %s: %s\n", mdpath, ms_outfile_strerror());
        if (a->want_json) ms_outfile_abort(&oj);
        return 1;
    }
    if (a->want_json && ms_outfile_commit(&oj)) {
        fprintf(stderr, "msdiff: %s: %s\n", jspath, ms_outfile_strerror());
        return 1;
    }
    const char *wrote = MS_CM("msdiff: 已写出 %s\n", "msdiff: wrote %s\n");
    if (a->want_md && strcmp(mdpath, "-")) fprintf(stderr, wrote, mdpath);
    if (a->want_json && strcmp(jspath, "-")) fprintf(stderr, wrote, jspath);
    return 0;
}
