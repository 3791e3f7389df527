/* msconv SNAPSHOT --html OUT: the snapshot dashboard. Writes the page of
 * convert/common/html.c (templates/report.html in its "snapshot" mode) with
 * a JSON blob built from analyze's models: the system facts, /proc/meminfo
 * and totals by process kind of one snapshot (the same keys and numbers as
 * `msconv --json`), its process table, its libraries totalled over the
 * processes (analyze/snapreport.c), and for a series the growth of every
 * process between its first and last snapshot with a sampled PSS trend.
 * The blob is bounded: at most SH_MAX_PROCS processes (the largest by PSS),
 * SH_MAX_LIBS libraries, SH_MAX_GROWTH growth rows, SH_TREND points per
 * trend and command lines cut at SH_CMD_MAX bytes, so ~1000 processes give
 * a page of a few hundred KB. Every string goes through ms_json_string.
 * The page also gets where MemTotal − MemAvailable goes ("memuse", the
 * rows of analyze/snapmem.c with their labels in both languages) and the
 * processes still using deleted files ("stale", analyze/snapdiff.c). */
#include <stdlib.h>
#include <string.h>
#include "memscope.h"
#include "snapshot_int.h"
#include "snapreport.h"
#include "snapdiff.h"
#include "snapmem.h"
#include "snaplabels.h"
#include "html.h"
#include "html_esc.h"
#include "fmt.h"

#define SH_MAX_PROCS 5000
#define SH_MAX_LIBS 3000
#define SH_MAX_GROWTH 2000
#define SH_TREND 24
#define SH_SERIES_POINTS 240
#define SH_CMD_MAX 400
#define SH_PATH_MAX 1024

typedef struct shctx {
    const snap_file *sf;
    size_t use;
    ms_lang lang;
    const char *input;
} shctx;

static void ju(FILE *fp, const char *k, uint64_t v) { fprintf(fp, "\"%s\":%llu", k, (unsigned long long)v); }
static void ji(FILE *fp, const char *k, int64_t v) { fprintf(fp, "\"%s\":%lld", k, (long long)v); }

/* A snapshot string as a JSON string: cleaned like --json (NULs of a
 * cmdline become spaces, invalid UTF-8 U+FFFD), cut at max bytes on a
 * character boundary with "…" appended (max 0 = no limit). */
static int jstr(FILE *fp, snap_str s, size_t max)
{
    char *c = ms_utf8_clean(s.p ? s.p : "", s.p ? s.n : 0, ' ');
    if (!c) return -1;
    size_t n = strlen(c);
    if (max && n > max) {
        size_t cut = max;
        while (cut > 0 && ((unsigned char)c[cut] & 0xC0) == 0x80) cut--;
        char *t = realloc(c, cut + sizeof "…");
        if (!t) { free(c); return -1; }
        c = t;
        memcpy(c + cut, "…", sizeof "…");
    }
    ms_json_string(fp, c);
    free(c);
    return 0;
}

/* Command line: arguments joined by spaces, trailing NUL dropped. */
static int jcmd(FILE *fp, snap_str s)
{
    snap_str t = s;
    while (t.n && t.p[t.n - 1] == 0) t.n--;
    return jstr(fp, t, SH_CMD_MAX);
}

static void write_totals(FILE *fp, const snap *s)
{
    snap_totals t;
    snap_totals_of(s, &t);
    fputs("\"totals\":{", fp);
    ju(fp, "processes", t.nprocs + t.n_omitted); fputc(',', fp);
    ju(fp, "processes_recorded", t.nprocs); fputc(',', fp);
    ju(fp, "memory_unknown", t.n_mem_unknown); fputc(',', fp);
    ju(fp, "pss", t.pss); fputc(',', fp);
    ju(fp, "uss", t.uss); fputc(',', fp);
    ju(fp, "rss_summed", t.rss); fputc(',', fp);
    ju(fp, "swap", t.swap); fputc(',', fp);
    ju(fp, "swap_pss", t.swap_pss); fputc(',', fp);
    ju(fp, "pss_shmem", t.pss_shmem); fputc(',', fp);
    ju(fp, "open_files", t.open_files); fputc(',', fp);
    ju(fp, "omitted_processes", t.n_omitted); fputc(',', fp);
    ju(fp, "omitted_pss", t.omitted_pss); fputc(',', fp);
    ju(fp, "omitted_rss", t.omitted_rss); fputc(',', fp);
    fputs("\"by_kind\":{", fp);
    for (uint32_t k = 0; k < 3; k++) {
        fprintf(fp, "%s\"%s\":{", k ? "," : "", msconv_snap_kind_word(k));
        ju(fp, "processes", t.all_kind[k]); fputc(',', fp);
        ju(fp, "pss", t.pss_kind[k]); fputc(',', fp);
        ju(fp, "rss", t.rss_kind[k]); fputc(',', fp);
        ju(fp, "uss", t.uss_kind[k]); fputc(',', fp);
        ju(fp, "swap", t.swap_kind[k]);
        fputc('}', fp);
    }
    fputs("}},\"read_status\":{", fp);
    ju(fp, "complete", t.n_full); fputc(',', fp);
    ju(fp, "vanished", t.n_vanished); fputc(',', fp);
    ju(fp, "zombie", t.n_zombie); fputc(',', fp);
    ju(fp, "denied", t.n_denied); fputc(',', fp);
    ju(fp, "no_smaps_rollup", t.n_no_rollup);
    fputc('}', fp);
}

static int write_snap_facts(FILE *fp, const shctx *c, const snap *s)
{
    fputs("\"snap\":{", fp);
    ju(fp, "index", s->index); fputc(',', fp);
    ju(fp, "position", c->use); fputc(',', fp);
    ju(fp, "count", c->sf->nsnaps); fputc(',', fp);
    fputs("\"label\":", fp); if (jstr(fp, s->label, SH_PATH_MAX)) return -1;
    fputs(",\"hostname\":", fp); if (jstr(fp, s->hostname, SH_PATH_MAX)) return -1;
    fputs(",\"kernel\":", fp); if (jstr(fp, s->kernel, SH_PATH_MAX)) return -1;
    fputs(",\"os_release\":", fp); if (jstr(fp, s->os_release, SH_PATH_MAX)) return -1;
    fprintf(fp, ",\"time\":\"%s\",", ms_fmt_time_iso(MS_FBUF, s->wall_ns));
    ju(fp, "wall_ms", s->wall_ns / 1000000); fputc(',', fp);
    ju(fp, "uptime_ms", s->uptime_ms); fputc(',', fp);
    ju(fp, "page_size", s->page_size);
    fprintf(fp, ",\"privilege\":\"%s\"", s->privilege == MS_PRIV_ROOT ? "root" : s->privilege == MS_PRIV_USER ? "user" : "unknown");
    fputs("},\"meminfo\":{", fp);
    for (uint32_t i = 0; i < s->nmeminfo; i++) {
        if (i) fputc(',', fp);
        if (jstr(fp, s->meminfo_keys[i], 64)) return -1;
        fprintf(fp, ":%llu", (unsigned long long)s->meminfo_vals[i]);
    }
    fputc('}', fp);
    return 0;
}

static int cmp_pss_ptr(const void *x, const void *y)
{
    const snap_proc *a = *(const snap_proc *const *)x, *b = *(const snap_proc *const *)y;
    if (a->pss != b->pss) return a->pss < b->pss ? 1 : -1;
    if (a->rss != b->rss) return a->rss < b->rss ? 1 : -1;
    return (a->pid > b->pid) - (a->pid < b->pid);
}

/* "procs": rows [pid, ppid, name, kind (0..2), user, pss, rss, uss, swap,
 * threads, open files (null = unknown), exe, cmdline, read-status words,
 * state]; the column names are in "proc_cols". */
static int write_procs(FILE *fp, const snap *s)
{
    const snap_proc **v = malloc((s->nprocs + 1) * sizeof *v);
    if (!v) return -1;
    for (size_t i = 0; i < s->nprocs; i++) v[i] = &s->procs[i];
    size_t n = s->nprocs;
    if (n > SH_MAX_PROCS) {
        qsort(v, n, sizeof *v, cmp_pss_ptr);
        n = SH_MAX_PROCS;
    }
    fputs("\"proc_cols\":[\"pid\",\"ppid\",\"name\",\"kind\",\"user\",\"pss\",\"rss\",\"uss\",\"swap\",\"threads\","
          "\"open_files\",\"exe\",\"cmdline\",\"read_status\",\"state\"],", fp);
    ju(fp, "procs_total", s->nprocs);
    fputs(",\"procs\":[", fp);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const snap_proc *p = v[i];
        fprintf(fp, "%s[%llu,%llu,", i ? "," : "", (unsigned long long)p->pid, (unsigned long long)p->ppid);
        rc |= jstr(fp, p->name, SH_PATH_MAX);
        fprintf(fp, ",%u,", p->kind);
        rc |= jstr(fp, p->user, 256);
        fprintf(fp, ",%llu,%llu,%llu,%llu,%llu,", (unsigned long long)p->pss, (unsigned long long)p->rss,
                (unsigned long long)p->uss, (unsigned long long)p->swap, (unsigned long long)p->threads);
        if (p->open_files >= 0) fprintf(fp, "%lld,", (long long)p->open_files);
        else fputs("null,", fp);
        rc |= jstr(fp, p->exe, SH_PATH_MAX);
        fputc(',', fp);
        rc |= jcmd(fp, p->cmdline);
        const char *w[8];
        size_t nw = msconv_snap_read_words(p->read_status, w);
        fputs(",[", fp);
        for (size_t k = 0; k < nw; k++) fprintf(fp, "%s\"%s\"", k ? "," : "", w[k]);
        char st[2] = { (char)(p->state >= 0x20 && p->state < 0x7f ? p->state : '?'), 0 };
        fputs("],", fp);
        ms_json_string(fp, st);
        fputc(']', fp);
    }
    fputc(']', fp);
    free(v);
    return rc;
}

/* "libs": rows [path, processes, mapped, rss, pss, disk size]. */
static int write_libs(FILE *fp, const snap *s)
{
    snap_libtotals lt;
    if (snap_libtotals_build(s, &lt)) return -1;
    fprintf(fp, "\"libs_memory\":%s,", lt.has_memory ? "true" : "false");
    ju(fp, "libs_total", lt.n);
    fputs(",\"libs\":[", fp);
    int rc = 0;
    for (size_t i = 0; i < lt.n && i < SH_MAX_LIBS && !rc; i++) {
        const snap_libtotal *l = &lt.libs[i];
        fputs(i ? ",[" : "[", fp);
        rc |= jstr(fp, l->path, SH_PATH_MAX);
        fprintf(fp, ",%llu,%llu,%llu,%llu,%llu]", (unsigned long long)l->procs, (unsigned long long)l->mapped,
                (unsigned long long)l->rss, (unsigned long long)l->pss, (unsigned long long)l->disk_size);
    }
    fputc(']', fp);
    snap_libtotals_free(&lt);
    return rc;
}

static int cmp_abs_dpss(const void *x, const void *y)
{
    const snap_growth *a = x, *b = y;
    uint64_t da = (uint64_t)(a->d_pss < 0 ? -a->d_pss : a->d_pss), db = (uint64_t)(b->d_pss < 0 ? -b->d_pss : b->d_pss);
    if (da != db) return da < db ? 1 : -1;
    return (a->last->pid > b->last->pid) - (a->last->pid < b->last->pid);
}

/* "series" (files with >= 2 snapshots): totals per sampled snapshot and
 * the growth rows [pid, name, kind, snapshots seen, pss first, pss last,
 * d_pss, d_rss, d_uss, fitted PSS MB/hour (null: not present long enough
 * for a rate), [sampled PSS, -1 = absent], R² of the fit], the same
 * numbers as the "growth" object of --json. */
static int write_series(FILE *fp, const snap_file *sf)
{
    size_t idx[SH_SERIES_POINTS > SH_TREND ? SH_SERIES_POINTS : SH_TREND];
    snap_series g;
    if (snap_series_build(sf, &g)) return -1;
    fputs("\"series\":{", fp);
    ju(fp, "count", sf->nsnaps); fputc(',', fp);
    ju(fp, "span_ms", g.span_ns / 1000000); fputc(',', fp);
    ji(fp, "total_pss_delta", g.d_total_pss);
    fprintf(fp, ",\"total_pss_mb_per_hour\":%.15g,\"points\":[", g.total_mb_per_hour);
    size_t np = snap_sample(sf->nsnaps, SH_SERIES_POINTS, idx);
    int rc = 0;
    for (size_t k = 0; k < np && !rc; k++) {
        const snap *s = &sf->snaps[idx[k]];
        snap_totals t;
        snap_totals_of(s, &t);
        fprintf(fp, "%s[%zu,%llu,", k ? "," : "", idx[k], (unsigned long long)(s->wall_ns / 1000000));
        rc |= jstr(fp, s->label, 200);
        fprintf(fp, ",%llu,%llu,%llu,%llu,%llu]", (unsigned long long)t.pss, (unsigned long long)t.rss,
                (unsigned long long)t.uss, (unsigned long long)t.swap,
                (unsigned long long)snap_meminfo(s, "MemAvailable"));
    }
    fputs("],", fp);
    ju(fp, "growth_total", g.n);
    fputs(",\"growth\":[", fp);
    if (g.n > SH_MAX_GROWTH) qsort(g.g, g.n, sizeof *g.g, cmp_abs_dpss);
    size_t nt = snap_sample(sf->nsnaps, SH_TREND, idx);
    int64_t trend[SH_TREND];
    for (size_t i = 0; i < g.n && i < SH_MAX_GROWTH && !rc; i++) {
        const snap_growth *x = &g.g[i];
        fprintf(fp, "%s[%llu,", i ? "," : "", (unsigned long long)x->last->pid);
        rc |= jstr(fp, x->last->name, SH_PATH_MAX);
        fprintf(fp, ",%u,%u,%llu,%llu,%lld,%lld,%lld,", x->last->kind, x->seen,
                (unsigned long long)x->first->pss, (unsigned long long)x->last->pss, (long long)x->d_pss,
                (long long)x->d_rss, (long long)x->d_uss);
        if (x->rated) fprintf(fp, "%.15g,[", x->pss_mb_per_hour);
        else fputs("null,[", fp);
        snap_growth_trend(sf, x, idx, nt, trend);
        for (size_t k = 0; k < nt; k++) fprintf(fp, "%s%lld", k ? "," : "", (long long)trend[k]);
        if (x->rated) fprintf(fp, "],%.4f]", x->r2);
        else fputs("],null]", fp);
    }
    fputs("]}", fp);
    snap_series_free(&g);
    return rc;
}

/* "memuse": {used, total, available, zoneinfo, rows: [[key, group, zh, en,
 * bytes]], processes_pss, cached} (absent without /proc/meminfo). */
static void write_memuse(FILE *fp, const snap *s)
{
    snap_memuse m;
    snap_memuse_of(s, &m);
    if (!m.have) return;
    fputs(",\"memuse\":{", fp);
    ju(fp, "used", m.used); fputc(',', fp);
    ju(fp, "total", m.total); fputc(',', fp);
    ju(fp, "available", m.avail); fputc(',', fp);
    ju(fp, "processes_pss", m.proc_pss); fputc(',', fp);
    ju(fp, "cached", m.cached); fputc(',', fp);
    ju(fp, "unknown_processes", m.n_unknown);
    fprintf(fp, ",\"zoneinfo\":%s,\"rows\":[", m.have_zone ? "true" : "false");
    for (int r = 0; r < SM_NROWS; r++) {
        fprintf(fp, "%s[\"%s\",%d,", r ? "," : "", snap_memrow_key(r), snap_memrow_group(r));
        ms_json_string(fp, ms_memrow_label(MS_LANG_ZH, r));
        fputc(',', fp);
        ms_json_string(fp, ms_memrow_label(MS_LANG_EN, r));
        fprintf(fp, ",%lld]", (long long)m.row[r]);
    }
    fputs("]}", fp);
}

/* "stale": [[pid, name, user, exe deleted (0/1), exe, [[path, mapped]]]]. */
static int write_stale(FILE *fp, const snap *s)
{
    sd_stale *v;
    size_t n;
    if (snap_stale_build(s, &v, &n)) return -1;
    fputs(",\"stale\":[", fp);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        fprintf(fp, "%s[%llu,", i ? "," : "", (unsigned long long)v[i].p->pid);
        rc |= jstr(fp, v[i].p->name, SH_PATH_MAX);
        fputc(',', fp);
        rc |= jstr(fp, v[i].p->user, 256);
        fprintf(fp, ",%d,", v[i].exe_deleted);
        rc |= jstr(fp, v[i].p->exe, SH_PATH_MAX);
        fputs(",[", fp);
        for (size_t j = 0; j < v[i].nlibs && !rc; j++) {
            fputs(j ? ",[" : "[", fp);
            rc |= jstr(fp, v[i].libs[j]->path, SH_PATH_MAX);
            fprintf(fp, ",%llu]", (unsigned long long)v[i].libs[j]->mapped);
        }
        fputs("]]", fp);
    }
    fputc(']', fp);
    snap_stale_free(v, n);
    return rc;
}

static int snapshot_json(FILE *fp, void *ctx)
{
    const shctx *c = ctx;
    const snap_file *sf = c->sf;
    const snap *s = &sf->snaps[c->use];
    fprintf(fp, "{\"kind\":\"snapshot\",\"lang\":\"%s\",\"meta\":{\"file\":", c->lang == MS_LANG_EN ? "en" : "zh");
    ms_json_string(fp, c->input);
    fprintf(fp, ",\"integrity\":\"%s\",\"complete\":%s},",
            sf->integrity.verdict == MS_OK ? "ok" : ms_strerror(sf->integrity.verdict), sf->has_end ? "true" : "false");
    if (write_snap_facts(fp, c, s)) return -1;
    fputc(',', fp);
    write_totals(fp, s);
    fputc(',', fp);
    if (write_procs(fp, s)) return -1;
    fputc(',', fp);
    if (write_libs(fp, s)) return -1;
    write_memuse(fp, s);
    if (write_stale(fp, s)) return -1;
    if (sf->nsnaps > 1) {
        fputc(',', fp);
        if (write_series(fp, sf)) return -1;
    }
    fputc('}', fp);
    return ferror(fp) ? -1 : 0;
}

int msconv_snapshot_html(FILE *fp, ms_lang lang, const snap_file *sf, size_t use, const char *input)
{
    shctx c = { sf, use, lang, input };
    const snap *s = &sf->snaps[use];
    char *host = ms_utf8_clean(s->hostname.p ? s->hostname.p : "", s->hostname.p ? s->hostname.n : 0, ' ');
    if (!host) return -1;
    char title[400];
    snprintf(title, sizeof title, "memscope: %s %s", lang == MS_LANG_EN ? "snapshot" : "快照", host);
    free(host);
    return ms_html_write(fp, title, snapshot_json, &c);
}
