/* The time-range, variables and diagnostics parts of msconv --html's data
 * blob (heap_bins_html.h), from the time-binned model (analyze/timebins.h)
 * and the findings of analyze/diagnose.h. Bounded: global curves of at
 * most MS_TB_BINS points, cells for the heaviest HB_TOP_SITES sites within
 * HB_CELL_BUDGET cells, every other site merged into one "other" row (at
 * most bins x (bins + 1) cells), at most MS_TB_MAX_LABELED labelled
 * blocks. Cells are flat arrays [i, j, bytes, count, temporary, ...] with
 * j = -1 for blocks live at the end. */
#include <stdlib.h>
#include "memscope.h"
#include "heap_bins_html.h"
#include "html_esc.h"
#include "fmt.h"

static uint64_t ns_of(const ms_hview *v, uint64_t ticks) { return ms_heap_ticks_ns(v->heap, ticks); }

/* one cell, built in a buffer: 5 numbers a cell, hundreds of thousands
 * of cells, where fprintf was a fifth of the dashboard's instructions */
static void cell(FILE *fp, int first, const ms_tb_cell *c)
{
    char b[128], *p = b;
    if (!first) *p++ = ',';
    p = ms_put_u64(p, c->i);
    *p++ = ',';
    if (c->j == MS_TB_LIVE) { *p++ = '-'; *p++ = '1'; }
    else p = ms_put_u64(p, c->j);
    *p++ = ',';
    p = ms_put_u64(p, c->bytes);
    *p++ = ',';
    p = ms_put_u64(p, c->count);
    *p++ = ',';
    p = ms_put_u64(p, c->temporary);
    fwrite(b, 1, (size_t)(p - b), fp);
}

size_t hb_write_row(FILE *fp, const ms_tb_table *t, uint32_t row)
{
    size_t n;
    const ms_tb_cell *c = ms_tb_row(t, row, &n);
    if (!n) return 0;
    fputs(",\"tb\":[", fp);
    for (size_t k = 0; k < n; k++) cell(fp, k == 0, &c[k]);
    fputc(']', fp);
    return n;
}

static void series(FILE *fp, const char *k, const uint64_t *a, size_t n)
{
    fprintf(fp, ",\"%s\":[", k);
    for (size_t i = 0; i < n; i++) ms_fput_u64(fp, i ? "," : "", a[i]);
    fputc(']', fp);
}

int hb_write_bins(FILE *fp, const ms_hview *v, const ms_tbins *tb, const uint8_t *shown, size_t nshown)
{
    size_t nb = tb->nbins;
    uint64_t live[MS_TB_BINS];
    ms_tb_live(tb, live);
    fprintf(fp, "\"bins\":{\"n\":%zu,\"t_ns\":[", nb);
    for (size_t i = 0; i < nb; i++) fprintf(fp, "%s%llu", i ? "," : "", (unsigned long long)ns_of(v, (uint64_t)(i + 1) << tb->shift));
    fputc(']', fp);
    series(fp, "alloc_count", tb->alloc_count, nb);
    series(fp, "alloc_bytes", tb->alloc_bytes, nb);
    series(fp, "temporary", tb->temporary, nb);
    series(fp, "freed_bytes", tb->freed_bytes, nb);
    series(fp, "live", live, nb);
    /* other: the folded sites' cells merged by (i, j) */
    ms_tb_table other = { NULL, 0, 0, MS_U64MAP_INIT };
    size_t folded = 0;
    ms_tb_cell *oc = NULL;
    const ms_tb_table *t = &tb->sites;
    uint32_t last = UINT32_MAX;
    for (size_t k = 0; k < t->n; k++) {
        const ms_tb_cell *c = &t->cells[k];
        if (c->row < nshown && shown[c->row]) continue;
        if (c->row != last) { folded++; last = c->row; }
        uint64_t key = (uint64_t)c->i << 16 | c->j;
        uint32_t at;
        if (!ms_u64map_get(&other.idx, key, &at)) {
            if (other.n == other.cap) {
                size_t nc = other.cap ? other.cap * 2 : 64;
                ms_tb_cell *n = realloc(other.cells, nc * sizeof *n);
                if (!n) { free(other.cells); ms_u64map_free(&other.idx); return -1; }
                other.cells = n; other.cap = nc;
            }
            at = (uint32_t)other.n;
            if (ms_u64map_put(&other.idx, key, at)) { free(other.cells); ms_u64map_free(&other.idx); return -1; }
            other.cells[other.n++] = (ms_tb_cell){ 0, c->i, c->j, 0, 0, 0 };
        }
        oc = &other.cells[at];
        oc->bytes += c->bytes; oc->count += c->count; oc->temporary += c->temporary;
    }
    fprintf(fp, ",\"folded_sites\":%zu,\"other\":[", folded);
    ms_tb_sort(&other);
    for (size_t k = 0; k < other.n; k++) cell(fp, k == 0, &other.cells[k]);
    fputs("]}", fp);
    free(other.cells);
    return 0;
}

void hb_write_vars(FILE *fp, const ms_hview *v, const ms_tbins *tb)
{
    fprintf(fp, "\"vars_total\":%llu,\"vars\":[", (unsigned long long)tb->labeled_total);
    for (size_t i = 0; i < tb->nlabeled; i++) {
        const ms_tb_labeled *b = &tb->labeled[i];
        fputs(i ? ",{\"var\":" : "{\"var\":", fp);
        if (b->var_name) ms_json_string(fp, b->var_name); else fputs("null", fp);
        fputs(",\"type\":", fp);
        if (b->type_name) ms_json_string(fp, b->type_name); else fputs("null", fp);
        fprintf(fp, ",\"addr\":\"0x%llx\",\"size\":%llu,\"tid\":%llu,\"site\":%u,\"seq\":%llu,\"t_alloc_ns\":%llu,\"t_free_ns\":",
                (unsigned long long)b->addr, (unsigned long long)b->size, (unsigned long long)b->tid, b->site,
                (unsigned long long)b->seq, (unsigned long long)ns_of(v, b->t_alloc));
        if (b->freed) fprintf(fp, "%llu}", (unsigned long long)ns_of(v, b->t_free));
        else fputs("null}", fp);
    }
    fputc(']', fp);
}

void hb_write_diag(FILE *fp, const ms_hview *v, const ms_diag *d, size_t n)
{
    static const char *const kinds[] = { "", "growth", "leak", "temporary", "rss_gap" };
    (void)v;
    fputs("\"diag\":[", fp);
    for (size_t i = 0; i < n; i++) {
        fprintf(fp, "%s{\"kind\":\"%s\",\"severity\":%d,\"site\":%lld,\"v\":[", i ? "," : "", kinds[d[i].kind], d[i].severity,
                d[i].site == UINT32_MAX ? -1LL : (long long)d[i].site);
        for (uint32_t k = 0; k < d[i].n; k++) fprintf(fp, "%s%llu", k ? "," : "", (unsigned long long)d[i].v[k]);
        fputs("]}", fp);
    }
    fputc(']', fp);
}
