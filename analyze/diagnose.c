/* Findings for the dashboard's diagnostics panel (diagnose.h), computed
 * from the models so every report words the same numbers: steady growth of
 * a site across phases (from the time-binned cells), leaks by site and
 * class, temporary-allocation hot spots, and what the anonymous RSS holds
 * besides the live heap (from the maps at exit). */
#include <string.h>
#include "diagnose.h"

/* Bins at whose end the phases end: just before each mark after the
 * first bin, and the last bin; without two marks, the quarter ends. */
static size_t phase_ends(size_t *ends, const ms_hview *v, const ms_tbins *tb)
{
    size_t n = 0;
    if (!tb->nbins) return 0;
    if (v->nmarks >= 2) {
        for (size_t k = 0; k < v->nmarks && n < MS_DIAG_POINTS - 1; k++) {
            size_t b = (size_t)(v->marks[k].time >> tb->shift);
            if (b == 0 || b > tb->nbins) continue;
            if (n && ends[n - 1] >= b - 1) continue;
            ends[n++] = b - 1;
        }
    } else {
        for (size_t q = 1; q < 4; q++) {
            size_t b = tb->nbins * q / 4;
            if (b && (!n || ends[n - 1] < b - 1)) ends[n++] = b - 1;
        }
    }
    if (!n || ends[n - 1] < tb->nbins - 1) ends[n++] = tb->nbins - 1;
    return n;
}

static void add(ms_diag *out, size_t *n, ms_diag d)
{
    if (*n < MS_DIAG_MAX) out[(*n)++] = d;
}

static void growth(ms_diag *out, size_t *nd, const ms_hview *v, const ms_tbins *tb)
{
    size_t ends[MS_DIAG_POINTS];
    size_t np = phase_ends(ends, v, tb);
    if (np < 3) return;
    ms_diag best[3];
    size_t nb = 0;
    const ms_tb_table *t = &tb->sites;
    for (size_t k = 0; k < t->n;) {
        uint32_t row = t->cells[k].row;
        uint64_t live[MS_DIAG_POINTS] = { 0 };
        size_t e = k;
        for (; e < t->n && t->cells[e].row == row; e++) {
            const ms_tb_cell *c = &t->cells[e];
            for (size_t p = 0; p < np; p++)
                if (c->i <= ends[p] && (c->j == MS_TB_LIVE || c->j > ends[p])) live[p] += c->bytes;
        }
        k = e;
        int grows = live[0] > 0 || live[1] > 0;
        for (size_t p = 1; p < np && grows; p++) grows = live[p] > live[p - 1];
        if (!grows) continue;
        ms_diag d = { MS_DIAG_GROWTH, MS_DIAG_WARN, row, (uint32_t)np, { 0 } };
        memcpy(d.v, live, np * sizeof *live);
        if (nb == 3 && best[2].v[np - 1] >= live[np - 1]) continue;
        size_t pos = nb < 3 ? nb++ : 2;
        while (pos > 0 && best[pos - 1].v[np - 1] < live[np - 1]) { best[pos] = best[pos - 1]; pos--; }
        best[pos] = d;
    }
    for (size_t i = 0; i < nb; i++) add(out, nd, best[i]);
}

static void leaks(ms_diag *out, size_t *nd, const ms_hview *v)
{
    size_t ns = ms_heap_site_count(v->heap);
    size_t top[3];
    size_t nt = 0;
    uint64_t peak = ms_heap_get_summary(v->heap)->peak_memory;
    for (size_t i = 0; i < ns; i++) {
        const ms_heap_site *s = ms_heap_site_at(v->heap, i);
        if (!s->live_blocks) continue;
        /* memory still reachable (or the runtime's own) at exit is a
         * finding only when it is large: >= 1 MiB or 10 % of the peak */
        if (i < v->site_x_cap) {
            const ms_hv_site_x *x = &v->site_x[i];
            uint64_t benign = x->leak_bytes[MS_LEAK_REACHABLE] + x->leak_bytes[MS_LEAK_LIBC];
            if (benign == s->live_bytes && s->live_bytes < (1u << 20) && s->live_bytes * 10 < peak) continue;
        }
        if (nt == 3 && ms_heap_site_at(v->heap, top[2])->live_bytes >= s->live_bytes) continue;
        size_t pos = nt < 3 ? nt++ : 2;
        while (pos > 0 && ms_heap_site_at(v->heap, top[pos - 1])->live_bytes < s->live_bytes) { top[pos] = top[pos - 1]; pos--; }
        top[pos] = i;
    }
    for (size_t k = 0; k < nt; k++) {
        const ms_heap_site *s = ms_heap_site_at(v->heap, top[k]);
        ms_diag d = { MS_DIAG_LEAK, MS_DIAG_WARN, (uint32_t)top[k], 4, { s->live_bytes, s->live_blocks, MS_LEAK_UNKNOWN, 0 } };
        if (top[k] < v->site_x_cap) {
            const ms_hv_site_x *x = &v->site_x[top[k]];
            for (int c = 0; c < 6; c++)
                if (x->leak_bytes[c] > d.v[3]) { d.v[2] = (uint64_t)c; d.v[3] = x->leak_bytes[c]; }
        }
        if (d.v[2] == MS_LEAK_DEFINITE || d.v[2] == MS_LEAK_INDIRECT) d.severity = MS_DIAG_HIGH;
        if (d.v[2] == MS_LEAK_LIBC || d.v[2] == MS_LEAK_REACHABLE) d.severity = MS_DIAG_INFO;
        add(out, nd, d);
    }
}

static void temporaries(ms_diag *out, size_t *nd, const ms_hview *v)
{
    const ms_heap_summary *S = ms_heap_get_summary(v->heap);
    if (!S->temporary_allocations) return;
    size_t ns = ms_heap_site_count(v->heap), best = SIZE_MAX;
    for (size_t i = 0; i < ns; i++) {
        const ms_heap_site *s = ms_heap_site_at(v->heap, i);
        if (s->temporary && (best == SIZE_MAX || s->temporary > ms_heap_site_at(v->heap, best)->temporary)) best = i;
    }
    const ms_heap_site *s = ms_heap_site_at(v->heap, best);
    /* a hot spot: most of its allocations are temporary and it matters */
    if (s->temporary * 2 < s->allocations || s->temporary * 20 < S->total_allocations) return;
    add(out, nd, (ms_diag){ MS_DIAG_TEMPORARY, MS_DIAG_INFO, (uint32_t)best, 3,
                            { s->temporary, s->allocations, S->temporary_allocations } });
}

static void rss_gap(ms_diag *out, size_t *nd, const ms_hview *v)
{
    if (!v->has_maps) return;
    const ms_heap_summary *S = ms_heap_get_summary(v->heap);
    uint64_t heap = 0, anon = 0, stacks = 0, self = 0, all_anon = 0;
    for (size_t i = 0; i < v->nmaps; i++) {
        const ms_hv_map *m = &v->maps[i];
        const char *p = m->path ? m->path : "";
        all_anon += m->anon;
        if (!strcmp(p, "[heap]")) heap += m->rss;
        else if (!strncmp(p, "[stack", 6)) stacks += m->rss;
        else if (strstr(p, "libmemscope")) self += m->rss;
        else if (!*p || !strncmp(p, "[anon", 5)) anon += m->rss;
    }
    uint64_t anon_end = v->has_proc && v->proc.rss_anon ? v->proc.rss_anon : all_anon;
    if (!anon_end) return;
    uint64_t live = S->active_memory, gap = anon_end > live ? anon_end - live : 0;
    uint64_t est = (2u << 20) + 10 * S->peak_blocks;
    if (est > anon) est = anon;                 /* its buffers are anonymous */
    int sev = gap > (1u << 20) && gap > live ? MS_DIAG_WARN : MS_DIAG_INFO;
    add(out, nd, (ms_diag){ MS_DIAG_RSS_GAP, sev, UINT32_MAX, 8, { anon_end, live, heap, anon, stacks, self, est, gap } });
}

static int sev_cmp(const ms_diag *a, const ms_diag *b) { return b->severity - a->severity; }

size_t ms_diagnose(ms_diag *out, const ms_hview *v, const ms_tbins *tb)
{
    size_t n = 0;
    leaks(out, &n, v);
    growth(out, &n, v, tb);
    temporaries(out, &n, v);
    rss_gap(out, &n, v);
    for (size_t i = 1; i < n; i++)          /* stable: most severe first */
        for (size_t k = i; k > 0 && sev_cmp(&out[k - 1], &out[k]) > 0; k--) {
            ms_diag x = out[k]; out[k] = out[k - 1]; out[k - 1] = x;
        }
    return n;
}
