/* pprof-style text table (pprof_text.h): seed 002's text view and the
 * `msconv --text` body. Numbers come from the call tree's per-function
 * flat/cum, so they agree with the folded stacks and the graphs. Header
 * wording is Chinese by default, English with lang_en; the column names
 * stay pprof's (flat flat% sum% cum cum%) because users know them. Rows
 * under pprof's node cutoff are dropped and counted as pprof does. */
#include <stdlib.h>
#include <string.h>
#include "memscope.h"
#include "pprof_text.h"
#include "flame.h"

int ms_pprof_unit_for(uint64_t total, int bytes)
{
    if (!bytes) return MS_PPROF_UNIT_COUNT;
    if (total >= 1024ULL * 1024) return MS_PPROF_UNIT_MB;
    if (total >= 1024) return MS_PPROF_UNIT_KB;
    return MS_PPROF_UNIT_B;
}

void ms_pprof_value(char *buf, size_t n, uint64_t v, int unit)
{
    static const char *const names[] = { "B", "B", "KiB", "MiB", "GiB" };
    static const double div[] = { 1, 1, 1024.0, 1048576.0, 1073741824.0 };
    if (unit == MS_PPROF_UNIT_COUNT || unit < 0 || unit > MS_PPROF_UNIT_GB) {
        snprintf(buf, n, "%llu", (unsigned long long)v);
        return;
    }
    if (v == 0) { snprintf(buf, n, "0"); return; }
    /* a value that would print as 0.00 in the table's unit gets a smaller
     * one: a 1,344 B row under MiB is "1.31KiB", never "0" */
    while (unit > MS_PPROF_UNIT_B && (double)v / div[unit] < 0.005) unit--;
    char tmp[64];
    snprintf(tmp, sizeof tmp, unit == MS_PPROF_UNIT_B ? "%.0f" : "%.2f", (double)v / div[unit]);
    size_t l = strlen(tmp);
    if (l > 3 && strcmp(tmp + l - 3, ".00") == 0) tmp[l - 3] = 0;
    snprintf(buf, n, "%s%s", tmp, names[unit]);
}

void ms_pprof_percent(char *buf, size_t n, uint64_t v, uint64_t total)
{
    double r = total ? (double)v / (double)total * 100.0 : 0.0;
    if (r >= 99.95 && r <= 100.05) snprintf(buf, n, "  100%%");
    else if (r >= 1.0) snprintf(buf, n, "%5.2f%%", r);
    else snprintf(buf, n, "%5.2g%%", r);
}

/* Percentage without the padding, for the header sentence. */
static void pct_trim(char *buf, size_t n, uint64_t v, uint64_t total)
{
    char tmp[32];
    ms_pprof_percent(tmp, sizeof tmp, v, total);
    const char *p = tmp;
    while (*p == ' ') p++;
    snprintf(buf, n, "%s", p);
}

int ms_pprof_text(FILE *fp, const ms_calltree *t, const ms_pprof_opts *o)
{
    int m = o->metric;
    uint64_t total = ms_calltree_total(t, m);
    int unit = o->unit ? o->unit : ms_pprof_unit_for(total, ms_ct_metric_is_bytes(m));
    if (!ms_ct_metric_is_bytes(m)) unit = MS_PPROF_UNIT_COUNT;
    size_t nf;
    uint32_t *ids = ms_calltree_sorted_funcs(t, m, 0, &nf);
    /* pprof's node cutoff: nodes with cum below total x nodefraction go */
    uint64_t cutoff = o->nodefraction > 0 ? (uint64_t)((double)total * o->nodefraction) : 0;
    size_t kept = 0;
    for (size_t i = 0; i < nf; i++)
        if (ms_calltree_func(t, ids[i])->cum[m] >= cutoff) ids[kept++] = ids[i];
    size_t dropped = nf - kept;
    nf = kept;
    size_t shown = o->nodecount && o->nodecount < nf ? o->nodecount : nf;
    uint64_t shown_flat = 0;
    for (size_t i = 0; i < shown; i++) shown_flat += ms_calltree_func(t, ids[i])->flat[m];

    char a[64], b[64], c[64];
    if (!o->type_line)
        fprintf(fp, o->lang_en ? "Type: %s\n" : "类型：%s\n", o->lang_en ? ms_ct_metric_name(m) : ms_flame_metric_label(m, 0));
    else if (*o->type_line)
        fprintf(fp, "%s\n", o->type_line);
    ms_pprof_value(a, sizeof a, shown_flat, unit);
    pct_trim(b, sizeof b, shown_flat, total);
    ms_pprof_value(c, sizeof c, total, unit);
    if (o->lang_en)
        fprintf(fp, "Showing nodes accounting for %s, %s of %s total\n", a, b, c);
    else
        fprintf(fp, "显示的节点合计 %s，占总量 %s 的 %s\n", a, c, b);
    if (dropped) {
        ms_pprof_value(a, sizeof a, cutoff, unit);
        if (o->lang_en) fprintf(fp, "Dropped %zu nodes (cum <= %s)\n", dropped, a);
        else fprintf(fp, "已略去 %zu 个节点（cum <= %s）\n", dropped, a);
    }
    if (shown < nf) {
        if (o->lang_en) fprintf(fp, "Showing top %zu nodes out of %zu\n", shown, nf);
        else fprintf(fp, "显示前 %zu 个节点（共 %zu 个）\n", shown, nf);
    }
    fprintf(fp, "%10s %6s %6s %10s %6s\n", "flat", "flat%", "sum%", "cum", "cum%");
    uint64_t sum = 0;
    for (size_t i = 0; i < shown; i++) {
        const ms_ct_func *f = ms_calltree_func(t, ids[i]);
        char fl[64], flp[32], sp[32], cu[64], cup[32];
        sum += f->flat[m];
        ms_pprof_value(fl, sizeof fl, f->flat[m], unit);
        ms_pprof_percent(flp, sizeof flp, f->flat[m], total);
        ms_pprof_percent(sp, sizeof sp, sum, total);
        ms_pprof_value(cu, sizeof cu, f->cum[m], unit);
        ms_pprof_percent(cup, sizeof cup, f->cum[m], total);
        /* pprof -lines writes "name file:line (inline)": the mark goes last */
        size_t nl = strlen(f->name);
        int inl = o->rows == MS_PPROF_ROWS_LINES && *f->file && nl > 9 && !strcmp(f->name + nl - 9, " (inline)");
        fprintf(fp, "%10s %s %s %10s %s  %.*s", fl, flp, sp, cu, cup, (int)(inl ? nl - 9 : nl), f->name);
        if (o->rows == MS_PPROF_ROWS_LINES && *f->file) {
            if (f->line) fprintf(fp, " %s:%u%s", f->file, f->line, inl ? " (inline)" : "");
            else fprintf(fp, " %s%s", f->file, inl ? " (inline)" : "");
        } else if (o->rows == MS_PPROF_ROWS_FUNCTIONS && *f->file) {
            uint32_t line = ms_calltree_func_sole_line(t, ids[i], m);
            if (line) fprintf(fp, " (%s:%u)", f->file, line);
            else fprintf(fp, " (%s)", f->file);
        }
        fputc('\n', fp);
    }
    free(ids);
    return ferror(fp) ? -1 : 0;
}
