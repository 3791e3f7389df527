/*
 * Heap trace diff driver of msdiff: replays both heap traces (analyze/heap),
 * matches their sites by symbolized stack (analyze/heapdiff) and writes the
 * requested reports the same way as the snapshot diff: default names
 * diff_report_中文.md / diff_report_en.md / diff_report.json in B's directory
 * (or the current one), and every output committed atomically only when all
 * of them were written completely. Loading shows a progress bar on a
 * terminal (convert/common/progress.h).
 */
#include "heap_diff.h"
#include "outfile.h"
#include "progress.h"
#include "verdict.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int msdiff_heap_shown(const ms_hd_entry *e, uint64_t threshold)
{
    if (!threshold) return 1;
    uint64_t m;
    if (e->status == MS_HD_NEW || e->status == MS_HD_VANISHED) {
        const ms_hd_side *s = e->status == MS_HD_NEW ? &e->b : &e->a;
        m = s->peak_bytes;
        if (s->leaked_bytes > m) m = s->leaked_bytes;
        if (s->allocated_bytes > m) m = s->allocated_bytes;
    } else {
        const int64_t v[3] = {e->d_peak, e->d_leaked, e->d_allocated};
        m = 0;
        for (int k = 0; k < 3; k++) {
            uint64_t x = v[k] < 0 ? (uint64_t)0 - (uint64_t)v[k] : (uint64_t)v[k];
            if (x > m) m = x;
        }
    }
    return m >= threshold;
}

/* A file that is not complete (spec 8.5) is diffed as far as it goes, with
 * one warning line saying why; the reports say it too (input rows). */
static int load(const char *path, ms_heap **h, ms_integrity *in)
{
    errno = 0;
    int e = ms_heap_load(h, in, path, NULL);
    if (e) {
        const char *d = ms_reader_open_error();
        fprintf(stderr, "msdiff: %s: %s\n", path,
                e == MS_EIO && errno ? ms_cli_strerror(errno) : d && d[0] && ms_cli() == MS_LANG_EN ? d : ms_cli_mserror(e));
        return -1;
    }
    char v[256];
    if (ms_verdict_text(v, sizeof v, NULL, in, ms_cli()))
        fprintf(stderr, MS_CM("msdiff: %s: 警告：%s，使用能读出的部分\n", "msdiff: %s: warning: %s; using what could be read\n"), path, v);
    return 0;
}

static int render_md(FILE *f, const void *c) { return msdiff_heap_md(f, c); }
static int render_json(FILE *f, const void *c) { return msdiff_heap_json(f, c); }

int msdiff_heap(const msdiff_args *args)
{
    /* heap diffs list every changed site unless --threshold was given (the
     * 1 MiB default is the snapshot diff's) */
    msdiff_args ha_args = *args;
    if (!args->threshold_given) ha_args.threshold = 0;
    const msdiff_args *a = &ha_args;
    ms_heap *ha = NULL, *hb = NULL;
    ms_integrity ia, ib;
    ms_progress_install("msdiff");
    if (load(a->a, &ha, &ia)) return 1;
    if (load(a->b, &hb, &ib)) { ms_heap_free(ha); return 1; }
    ms_heapdiff d;
    if (ms_heapdiff_build(ha, hb, &d)) {
        fprintf(stderr, "msdiff: %s: %s\n", a->b, ms_cli_mserror(MS_ENOMEM));
        ms_heap_free(ha); ms_heap_free(hb);
        return 1;
    }
    msdiff_heap_ctx c = { a, ha, hb, &d, ia, ib };
    int status = msdiff_write_reports(a, render_md, render_json, &c);
    ms_heapdiff_free(&d);
    ms_heap_free(ha);
    ms_heap_free(hb);
    return status;
}
