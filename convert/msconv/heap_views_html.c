/* msconv --html for heap traces: writes the dashboard (convert/common/
 * html.c) with a JSON data blob built from the heap view model. The blob
 * is aggregated and bounded, never per event: the call tree pruned to
 * nodes carrying >= 0.01% of some metric, at most HV_MAX_SITES sites (the
 * heaviest by any metric, all leaking sites first), the timeline in at
 * most MS_HV_BUCKETS points, histograms, the largest blocks, threads and
 * the maps at exit. Every trace string goes through ms_json_string. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "memscope.h"
#include "heap_views.h"
#include "heap_views_int.h"
#include "html.h"
#include "html_esc.h"
#include "fmt.h"
#include "i18n.h"
#include "sitepath.h"
#include "heap_bins_html.h"
#include "u64map.h"

#define HV_MAX_SITES 5000
#define HV_MAX_SAMPLES 2000
#define HV_STACK_MAX 128
#define HV_MOMENT_TOP 10

typedef struct hctx {
    const ms_hview *v;
    int en;
    ms_calltree *frames;          /* interner for exact (name, file, line) */
    ms_tbins *tb;                 /* time bins (heap_bins_html.h)          */
    uint8_t *shown;               /* per heap site: its cells were written */
    size_t nshown, cells;
    ms_u64map frame_ids;          /* ip << 8 | inline depth -> frames id   */
} hctx;

static void jkey(FILE *fp, const char *k) { fprintf(fp, "\"%s\":", k); }
static void ju(FILE *fp, const char *k, uint64_t x) { fprintf(fp, "\"%s\":%llu", k, (unsigned long long)x); }

static uint64_t ns_of(const ms_hview *v, uint64_t ticks)
{
    return ms_heap_ticks_ns(v->heap, ticks);
}

/* Site order for the table: heaviest share of any metric first. The
 * scores are computed once per site, before sorting (cc1 -O2: 30 k sites,
 * ~0.5 M comparisons). */
static double site_score(const ms_hview *v, size_t i)
{
    const ms_heap_site *s = ms_heap_site_at(v->heap, i);
    uint64_t vals[MS_CT_NMETRICS];
    ms_hview_site_values(vals, s);
    double best = 0;
    for (int m = 0; m < MS_CT_NMETRICS; m++) {
        uint64_t tot = ms_calltree_total(v->tree, m);
        double sc = tot ? (double)vals[m] / (double)tot : 0;
        if (m == MS_CT_LEAKED && vals[m]) sc += 1.0;          /* leaks first */
        if (sc > best) best = sc;
    }
    return best;
}
typedef struct ranked { double score; size_t i; } ranked;
static int site_rank_cmp(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    return a->i < b->i ? -1 : 1;
}

/* Id of frame k of ip in c->frames, remembered per (ip, k): the outer
 * frames of the sites' stacks repeat, and a label costs a snprintf and a
 * string hash. */
static int frame_id(hctx *c, const ms_symtab *sym, uint64_t ip, size_t k, uint32_t *id)
{
    int memo = !(ip >> 56) && k < 256;
    uint64_t key = ip << 8 | k;
    if (memo && ms_u64map_get(&c->frame_ids, key, id)) return 0;
    const ms_symtab_frame *fr = ms_symtab_frame_at(sym, ip, k);
    char label[1024];
    ms_symtab_frame_label(label, sizeof label, sym, ip, k);
    if (ms_calltree_func_id(c->frames, id, label, fr->file, fr->line)) return -1;
    if (memo && ms_u64map_put(&c->frame_ids, key, *id)) return -1;
    return 0;
}

static int write_stack(FILE *fp, hctx *c, uint64_t stack_id)
{
    const ms_symtab *sym = ms_heap_symtab(c->v->heap);
    uint64_t ips[HV_STACK_MAX];
    size_t depth = ms_symtab_stack(ips, HV_STACK_MAX, sym, stack_id);
    if (depth > HV_STACK_MAX) depth = HV_STACK_MAX;
    fputc('[', fp);
    int first = 1;
    for (size_t i = 0; i < depth; i++) {
        size_t nf = ms_symtab_frame_count(sym, ips[i]);
        for (size_t k = 0; k < nf; k++) {
            uint32_t id;
            if (frame_id(c, sym, ips[i], k, &id)) return -1;
            ms_fput_u64(fp, first ? "" : ",", id);
            first = 0;
        }
    }
    fputc(']', fp);
    return 0;
}

static void write_summary(FILE *fp, const ms_hview *v)
{
    const ms_heap_summary *s = ms_heap_get_summary(v->heap);
    fputs("\"summary\":{", fp);
    ju(fp, "allocations", s->total_allocations); fputc(',', fp);
    ju(fp, "deallocations", s->total_deallocations); fputc(',', fp);
    ju(fp, "allocated_bytes", s->total_allocated_bytes); fputc(',', fp);
    ju(fp, "peak", s->peak_memory); fputc(',', fp);
    ju(fp, "peak_blocks", s->peak_blocks); fputc(',', fp);
    ju(fp, "peak_time_ns", ns_of(v, s->peak_time)); fputc(',', fp);
    ju(fp, "leaked", s->leaked_memory); fputc(',', fp);
    ju(fp, "leaked_blocks", s->leaked_allocations); fputc(',', fp);
    ju(fp, "temporary", s->temporary_allocations); fputc(',', fp);
    ju(fp, "failed", s->failed_allocations); fputc(',', fp);
    ju(fp, "unmatched_frees", s->unmatched_frees); fputc(',', fp);
    ju(fp, "frees_before_window", s->frees_before_window); fputc(',', fp);
    ju(fp, "reallocs", s->reallocs); fputc(',', fp);
    ju(fp, "threads", s->threads); fputc(',', fp);
    ju(fp, "sites", s->sites); fputc(',', fp);
    ju(fp, "events", s->events); fputc(',', fp);
    ju(fp, "labels", s->labels); fputc(',', fp);
    ju(fp, "first_ns", ns_of(v, s->first_time)); fputc(',', fp);
    ju(fp, "end_ns", ns_of(v, s->end_time)); fputc(',', fp);
    ju(fp, "duration_ns", ns_of(v, s->end_time > s->first_time ? s->end_time : 0)); fputc(',', fp);
    ju(fp, "peak_rss", v->peak_rss); fputc(',', fp);
    /* heap vs RSS at exit: anonymous + [heap] resident memory from the maps,
     * or RssAnon from PROC_MEM, against the live heap at the end. */
    uint64_t rss_end = v->has_proc ? v->proc.vm_rss : 0, anon_end = v->has_proc ? v->proc.rss_anon : 0;
    if (!anon_end && v->has_maps)
        for (size_t i = 0; i < v->nmaps; i++) anon_end += v->maps[i].anon;
    ju(fp, "rss_end", rss_end); fputc(',', fp);
    ju(fp, "rss_anon_end", anon_end); fputc(',', fp);
    ju(fp, "heap_end", s->active_memory); fputc(',', fp);
    ju(fp, "unaccounted", anon_end > s->active_memory ? anon_end - s->active_memory : 0); fputc(',', fp);
    fputs("\"leak_classes\":[", fp);
    for (int i = 0; i < 6; i++)
        fprintf(fp, "%s[%llu,%llu]", i ? "," : "", (unsigned long long)s->leak_class_blocks[i],
                (unsigned long long)s->leak_class_bytes[i]);
    fputs("]}", fp);
}

static void write_meta(FILE *fp, const ms_hview *v, const char *input)
{
    const ms_heap_info *in = ms_heap_get_info(v->heap);
    fputs("\"meta\":{\"file\":", fp);
    ms_json_string(fp, input);
    fputs(",\"exe\":", fp);
    ms_json_string(fp, in->exe ? in->exe : "");
    fputc(',', fp);
    ju(fp, "pid", in->pid); fputc(',', fp);
    ju(fp, "clock_hz", in->clock_hz); fputc(',', fp);
    ju(fp, "start_wall_ns", in->start_wall_ns); fputc(',', fp);
    fputs("\"start\":", fp);
    ms_json_string(fp, in->start_wall_ns ? ms_fmt_time(MS_FBUF, in->start_wall_ns) : "");
    fprintf(fp, ",\"mode\":\"%s\",", in->mode == MS_MODE_SAMPLED ? "sampled" : "full");
    ju(fp, "sample_rate", in->sample_rate); fputc(',', fp);
    double after;
    if (ms_heap_window(v->heap, &after))
        fprintf(fp, "\"window\":{\"session\":%llu,\"after_start_ms\":%.0f},",
                (unsigned long long)in->session, after >= 0 ? after * 1000 : -1.0);
    char verdict[256];
    const char *word;
    msconv_verdict(verdict, sizeof verdict, &word, &v->integ);
    fprintf(fp, "\"integrity\":\"%s\",\"integrity_detail\":", word);
    ms_json_string(fp, verdict);
    msconv_verdict_lang(verdict, sizeof verdict, &word, &v->integ, MS_LANG_ZH);
    fputs(",\"integrity_detail_zh\":", fp);
    ms_json_string(fp, verdict);
    fprintf(fp, ",\"end_reason\":%d,\"end_detail\":%lld,\"version\":\"%s\"}", in->has_end ? (int)in->end.reason : -1,
            in->has_end ? (long long)in->end.detail : 0LL, MS_VERSION_STRING);
}

static void write_timeline(FILE *fp, const ms_hview *v)
{
    uint64_t *live = malloc(MS_HV_BUCKETS * sizeof *live);
    size_t n = live ? ms_hview_live_curve(v, live) : 0;
    fputs("\"timeline\":{\"bucket_ns\":", fp);
    fprintf(fp, "%llu,\"t_ns\":[", (unsigned long long)ns_of(v, v->bucket_ticks));
    for (size_t i = 0; i < n; i++) fprintf(fp, "%s%llu", i ? "," : "", (unsigned long long)ns_of(v, (i + 1) * v->bucket_ticks));
    fputs("],\"live\":[", fp);
    for (size_t i = 0; i < n; i++) fprintf(fp, "%s%llu", i ? "," : "", (unsigned long long)live[i]);
    free(live);
    /* RSS samples, thinned to at most HV_MAX_SAMPLES (max per group). */
    size_t step = v->nsamples > HV_MAX_SAMPLES ? (v->nsamples + HV_MAX_SAMPLES - 1) / HV_MAX_SAMPLES : 1;
    fputs("],\"rss\":[", fp);
    for (size_t i = 0, k = 0; i < v->nsamples; i += step, k++) {
        uint64_t mx = 0, hl = 0;
        for (size_t j = i; j < i + step && j < v->nsamples; j++) {
            if (v->samples[j].rss > mx) mx = v->samples[j].rss;
            if (v->samples[j].heap_live > hl) hl = v->samples[j].heap_live;
        }
        fprintf(fp, "%s[%llu,%llu,%llu]", k ? "," : "", (unsigned long long)ns_of(v, v->samples[i].time),
                (unsigned long long)mx, (unsigned long long)hl);
    }
    fputs("],\"marks\":[", fp);
    for (size_t i = 0; i < v->nmarks && i < 1000; i++) {
        fprintf(fp, "%s{\"t_ns\":%llu,\"tid\":%llu,\"name\":", i ? "," : "", (unsigned long long)ns_of(v, v->marks[i].time),
                (unsigned long long)v->marks[i].tid);
        ms_json_string(fp, v->marks[i].name);
        fputc('}', fp);
    }
    fputs("]}", fp);
}

/* Pruned call tree in pre-order: [func, parent, peak, leaked, allocated,
 * count, temporary]; funcs renumbered to those used. */
static int write_tree(FILE *fp, const ms_hview *v, int32_t **node_out)
{
    const ms_calltree *t = v->tree;
    size_t nn = ms_calltree_node_count(t), nf = ms_calltree_func_count(t);
    int32_t *out_idx = malloc(nn * sizeof *out_idx);
    int32_t *fmap = malloc((nf ? nf : 1) * sizeof *fmap);
    uint32_t *order = malloc(nn * sizeof *order), *fused = malloc((nf ? nf : 1) * sizeof *fused);
    if (!out_idx || !fmap || !order || !fused) { free(out_idx); free(fmap); free(order); free(fused); return -1; }
    for (size_t i = 0; i < nn; i++) out_idx[i] = -1;
    for (size_t i = 0; i < nf; i++) fmap[i] = -1;
    uint64_t tot[MS_CT_NMETRICS];
    for (int m = 0; m < MS_CT_NMETRICS; m++) tot[m] = ms_calltree_total(t, m);
    /* pre-order walk */
    size_t no = 0, nfu = 0;
    uint32_t cur = MS_CT_ROOT;
    while (cur != MS_CT_NONE) {
        const ms_ct_node *nd = ms_calltree_node(t, cur);
        int keep = cur == MS_CT_ROOT;
        for (int m = 0; m < MS_CT_NMETRICS && !keep; m++)
            keep = tot[m] && ms_calltree_node_total(t, cur, m) && ms_calltree_node_total(t, cur, m) * 10000 >= tot[m];
        if (keep) {
            out_idx[cur] = (int32_t)no;
            order[no++] = cur;
            if (cur != MS_CT_ROOT && fmap[nd->func] < 0) { fmap[nd->func] = (int32_t)nfu; fused[nfu++] = nd->func; }
        }
        if (keep && nd->first_child != MS_CT_NONE) { cur = nd->first_child; continue; }
        while (cur != MS_CT_ROOT && ms_calltree_node(t, cur)->next_sibling == MS_CT_NONE) cur = ms_calltree_node(t, cur)->parent;
        cur = cur == MS_CT_ROOT ? MS_CT_NONE : ms_calltree_node(t, cur)->next_sibling;
    }
    fputs("\"funcs\":[", fp);
    for (size_t i = 0; i < nfu; i++) {
        const ms_ct_func *f = ms_calltree_func(t, fused[i]);
        fputs(i ? ",[" : "[", fp);
        ms_json_string(fp, f->name);
        fputc(',', fp);
        ms_json_string(fp, f->file);
        fprintf(fp, ",%u]", f->line);
    }
    fputs("],\"tree\":[", fp);
    for (size_t i = 0; i < no; i++) {
        const ms_ct_node *nd = ms_calltree_node(t, order[i]);
        ms_fput_i64(fp, i ? ",[" : "[", order[i] == MS_CT_ROOT ? -1 : fmap[nd->func]);
        ms_fput_i64(fp, ",", nd->parent == MS_CT_NONE ? -1 : out_idx[nd->parent]);
        for (int m = 0; m < MS_CT_NMETRICS; m++) ms_fput_u64(fp, ",", ms_calltree_node_total(t, order[i], m));
        fputc(']', fp);
    }
    fputs("]", fp);
    free(fmap); free(order); free(fused);
    *node_out = out_idx;
    return 0;
}

static const char *lbl(const char *const *arr, size_t cap, size_t i)
{
    return arr && i < cap ? arr[i] : NULL;
}

/* The heaviest sites, plus every site named in `must` (the moments). */
static int write_sites(FILE *fp, hctx *c, const int32_t *node_idx, const uint8_t *must)
{
    const ms_hview *v = c->v;
    size_t ns = ms_heap_site_count(v->heap);
    size_t *idx = malloc((ns ? ns : 1) * sizeof *idx);
    ranked *rk = malloc((ns ? ns : 1) * sizeof *rk);
    if (!idx || !rk) { free(idx); free(rk); return -1; }
    size_t used = 0;
    for (size_t i = 0; i < ns; i++) {
        const ms_heap_site *s = ms_heap_site_at(v->heap, i);
        if (s->allocations || s->live_blocks) rk[used++] = (ranked){ site_score(v, i), i };
    }
    ns = used;
    qsort(rk, ns, sizeof *rk, site_rank_cmp);
    size_t n = 0;
    for (size_t k = 0; k < ns; k++)
        if (k < HV_MAX_SITES || must[rk[k].i]) idx[n++] = rk[k].i;
    free(rk);
    uint32_t *depth = hv_site_depths(v, idx, n);
    if (!depth) { free(idx); return -1; }
    fprintf(fp, "\"sites_total\":%zu,\"sites\":[", ns);
    for (size_t k = 0; k < n; k++) {
        size_t i = idx[k];
        const ms_heap_site *s = ms_heap_site_at(v->heap, i);
        char path[2048];
        ms_site_path_name(path, sizeof path, ms_heap_symtab(v->heap), s->stack_id, depth[k]);
        fputs("{\"path\":", fp);
        ms_json_string(fp, path);
        fputc(',', fp);
        fprintf(fp, "\"id\":%zu,\"node\":%d,", i, node_idx[v->site_node[i]]);
        ju(fp, "peak", s->peak_bytes); fputc(',', fp);
        ju(fp, "peak_blocks", s->peak_blocks); fputc(',', fp);
        ju(fp, "leaked", s->live_bytes); fputc(',', fp);
        ju(fp, "leaked_blocks", s->live_blocks); fputc(',', fp);
        ju(fp, "allocated", s->allocated_bytes); fputc(',', fp);
        ju(fp, "count", s->allocations); fputc(',', fp);
        ju(fp, "frees", s->deallocations); fputc(',', fp);
        ju(fp, "temporary", s->temporary); fputc(',', fp);
        ju(fp, "max", s->max_size); fputc(',', fp);
        const char *var = lbl(v->site_var, v->site_label_cap, i), *type = lbl(v->site_type, v->site_label_cap, i);
        fputs("\"var\":", fp);
        if (var) ms_json_string(fp, var); else fputs("null", fp);
        fputs(",\"type\":", fp);
        if (type) ms_json_string(fp, type); else fputs("null", fp);
        if (i < v->site_x_cap) {
            const ms_hv_site_x *x = &v->site_x[i];
            fprintf(fp, ",\"min\":%llu,\"life_avg_ns\":%llu,\"life_max_ns\":%llu",
                    (unsigned long long)(x->min_size == UINT64_MAX ? 0 : x->min_size),
                    (unsigned long long)(x->freed ? ns_of(v, x->life_sum / x->freed) : 0),
                    (unsigned long long)ns_of(v, x->life_max));
            if (s->live_blocks) {
                fputs(",\"leak_classes\":[", fp);
                for (int c = 0; c < 6; c++)
                    fprintf(fp, "%s[%llu,%llu]", c ? "," : "", (unsigned long long)x->leak_blocks[c],
                            (unsigned long long)x->leak_bytes[c]);
                fputc(']', fp);
            }
        }
        if (k < HB_TOP_SITES && i < c->nshown) {
            size_t nc;
            ms_tb_row(&c->tb->sites, (uint32_t)i, &nc);
            if (c->cells + nc <= HB_CELL_BUDGET) {
                c->cells += hb_write_row(fp, &c->tb->sites, (uint32_t)i);
                c->shown[i] = 1;
            }
        }
        fputs(",\"stack\":", fp);
        if (write_stack(fp, c, s->stack_id)) { free(idx); free(depth); return -1; }
        fputs(k + 1 < n ? "}," : "}", fp);
    }
    fputs("]", fp);
    free(depth);
    free(idx);
    return 0;
}

static void write_threads(FILE *fp, const ms_hview *v, const ms_tbins *tb)
{
    size_t n = ms_heap_thread_count(v->heap);
    fputs("\"threads\":[", fp);
    for (size_t i = 0; i < n && i < 10000; i++) {
        const ms_heap_thread *t = ms_heap_thread_at(v->heap, i);
        fprintf(fp, "%s{\"tid\":%llu,\"name\":", i ? "," : "", (unsigned long long)t->tid);
        ms_json_string(fp, t->name ? t->name : "");
        fputc(',', fp);
        ju(fp, "allocations", t->allocations); fputc(',', fp);
        ju(fp, "deallocations", t->deallocations); fputc(',', fp);
        ju(fp, "allocated", t->allocated_bytes); fputc(',', fp);
        ju(fp, "temporary", t->temporary); fputc(',', fp);
        ju(fp, "leaked", t->live_bytes); fputc(',', fp);
        ju(fp, "leaked_blocks", t->live_blocks); fputc(',', fp);
        ju(fp, "first_ns", ns_of(v, t->first_time)); fputc(',', fp);
        ju(fp, "last_ns", ns_of(v, t->last_time));
        uint32_t row;
        if (ms_u64map_get(&tb->tid_row, t->tid, &row)) {
            uint32_t ts[5];
            uint64_t tbytes[5];
            size_t nt = ms_tb_thread_top(tb, row, 5, ts, tbytes);
            fputs(",\"top\":[", fp);
            for (size_t k = 0; k < nt; k++) fprintf(fp, "%s[%u,%llu]", k ? "," : "", ts[k], (unsigned long long)tbytes[k]);
            fputc(']', fp);
            hb_write_row(fp, &tb->threads, row);
        }
        fputc('}', fp);
    }
    fputs("]", fp);
}

static void write_hist(FILE *fp, const ms_hview *v)
{
    fputs("\"hist\":{\"size\":[", fp);
    int first = 1;
    for (size_t k = 0; k < MS_HV_SIZE_BUCKETS; k++) {
        if (!v->size_count[k]) continue;
        uint64_t lo = k == 0 ? 0 : 1ULL << (k - 1);
        fprintf(fp, "%s[%llu,%llu,%llu]", first ? "" : ",", (unsigned long long)lo, (unsigned long long)v->size_count[k],
                (unsigned long long)v->size_bytes[k]);
        first = 0;
    }
    fputs("],\"life\":[", fp);
    for (size_t k = 0; k <= MS_HV_LIFE_BUCKETS; k++)
        fprintf(fp, "%s[%lld,%llu,%llu]", k ? "," : "", k == MS_HV_LIFE_BUCKETS ? -1LL : (long long)ms_hview_life_floor_ns(k),
                (unsigned long long)v->life_count[k], (unsigned long long)v->life_bytes[k]);
    fputs("]}", fp);
}

static void write_blocks(FILE *fp, const ms_hview *v)
{
    fputs("\"blocks\":[", fp);
    for (size_t i = 0; i < v->ntop; i++) {
        const ms_hv_block *b = &v->top[i];
        fprintf(fp, "%s{\"addr\":\"0x%llx\",", i ? "," : "", (unsigned long long)b->addr);
        ju(fp, "size", b->size); fputc(',', fp);
        ju(fp, "site", b->site); fputc(',', fp);
        ju(fp, "tid", b->tid); fputc(',', fp);
        ju(fp, "t_alloc_ns", ns_of(v, b->t_alloc)); fputc(',', fp);
        ju(fp, "t_free_ns", ns_of(v, b->t_free)); fputc(',', fp);
        fprintf(fp, "\"freed\":%d,\"temporary\":%d,\"op\":\"%s\",\"var\":", b->freed, b->temporary, ms_op_name(b->op));
        if (b->var_name) ms_json_string(fp, b->var_name); else fputs("null", fp);
        fputs(",\"type\":", fp);
        if (b->type_name) ms_json_string(fp, b->type_name); else fputs("null", fp);
        fputc('}', fp);
    }
    fputs("]", fp);
}

static void write_maps(FILE *fp, const ms_hview *v)
{
    fputs("\"maps\":[", fp);
    for (size_t i = 0; i < v->nmaps && i < 20000; i++) {
        const ms_hv_map *m = &v->maps[i];
        char perm[5] = { m->prot & 1 ? 'r' : '-', m->prot & 2 ? 'w' : '-', m->prot & 4 ? 'x' : '-', m->prot & 8 ? 's' : 'p', 0 };
        fprintf(fp, "%s{\"start\":\"0x%llx\",\"size\":%llu,\"perm\":\"%s\",\"path\":", i ? "," : "",
                (unsigned long long)m->start, (unsigned long long)(m->end - m->start), perm);
        ms_json_string(fp, m->path);
        fputc(',', fp);
        ju(fp, "rss", m->rss); fputc(',', fp);
        ju(fp, "pss", m->pss); fputc(',', fp);
        ju(fp, "anon", m->anon); fputc(',', fp);
        ju(fp, "swap", m->swap);
        fputc('}', fp);
    }
    fprintf(fp, "],\"has_maps\":%s", v->has_maps ? "true" : "false");
}

typedef struct hjob { hctx c; const char *input; } hjob;

static int heap_json(FILE *fp, void *ctx)
{
    hjob *j = ctx;
    hctx *c = &j->c;
    const ms_hview *v = c->v;
    fprintf(fp, "{\"kind\":\"heap\",\"lang\":\"%s\",", c->en ? "en" : "zh");
    jkey(fp, "metrics");
    fputs("[\"peak\",\"leaked\",\"allocated\",\"count\",\"temporary\"],", fp);
    jkey(fp, "temporary_def");
    ms_json_string(fp, ms_i18n_temporary_def(c->en ? MS_LANG_EN : MS_LANG_ZH));
    fputc(',', fp);
    write_meta(fp, v, j->input);
    fputc(',', fp);
    write_summary(fp, v);
    fputc(',', fp);
    write_timeline(fp, v);
    fputc(',', fp);
    /* sites live at each coarse moment (timeline clicks) */
    size_t nsites = ms_heap_site_count(v->heap);
    uint32_t *msites = malloc(MS_HV_MOMENTS * HV_MOMENT_TOP * sizeof *msites);
    uint64_t *mbytes = malloc(MS_HV_MOMENTS * HV_MOMENT_TOP * sizeof *mbytes);
    uint8_t *must = calloc(nsites ? nsites : 1, 1);
    size_t mcount[MS_HV_MOMENTS];
    if (!msites || !mbytes || !must) { free(msites); free(mbytes); free(must); return -1; }
    size_t nm = ms_hview_moments(v, HV_MOMENT_TOP, msites, mbytes, mcount);
    fprintf(fp, "\"moments\":{\"ns\":%llu,\"capped\":%s,\"top\":[", (unsigned long long)ns_of(v, v->moment_ticks),
            v->moments_capped ? "true" : "false");
    for (size_t k = 0; k < nm; k++) {
        fputs(k ? ",[" : "[", fp);
        for (size_t i = 0; i < mcount[k]; i++) {
            uint32_t st = msites[k * HV_MOMENT_TOP + i];
            if (st < nsites) must[st] = 1;
            fprintf(fp, "%s[%u,%llu]", i ? "," : "", st, (unsigned long long)mbytes[k * HV_MOMENT_TOP + i]);
        }
        fputc(']', fp);
    }
    fputs("]},", fp);
    free(msites); free(mbytes);
    int32_t *node_idx = NULL;
    if (write_tree(fp, v, &node_idx)) { free(must); return -1; }
    fputc(',', fp);
    int rc = write_sites(fp, c, node_idx, must);
    free(node_idx);
    free(must);
    if (rc) return -1;
    /* exact frames referenced by the sites' stacks */
    fputs(",\"frames\":[", fp);
    size_t nf = ms_calltree_func_count(c->frames);
    for (size_t i = 0; i < nf; i++) {
        const ms_ct_func *f = ms_calltree_func(c->frames, (uint32_t)i);
        fputs(i ? ",[" : "[", fp);
        ms_json_string(fp, f->name);
        fputc(',', fp);
        ms_json_string(fp, f->file);
        fprintf(fp, ",%u]", f->line);
    }
    fputs("],", fp);
    write_threads(fp, v, c->tb);
    fputc(',', fp);
    if (hb_write_bins(fp, v, c->tb, c->shown, c->nshown)) return -1;
    fputc(',', fp);
    hb_write_vars(fp, v, c->tb);
    fputc(',', fp);
    ms_diag diag[MS_DIAG_MAX];
    hb_write_diag(fp, v, diag, ms_diagnose(diag, v, c->tb));
    fputc(',', fp);
    write_hist(fp, v);
    fputc(',', fp);
    write_blocks(fp, v);
    fputc(',', fp);
    write_maps(fp, v);
    fputs("}", fp);
    return ferror(fp) ? -1 : 0;
}

int msconv_heap_html(const msconv_args *a)
{
    hv_opts o;
    int rc = hv_parse_opts(&o, a);
    if (rc) return rc;
    if (!a->output) {
        fprintf(stderr, "%s", MS_CM("msconv: 用法错误：--html 需要输出文件（--html OUT；'-' 表示标准输出）（见 msconv --help）\n",
                                    "msconv: usage: --html needs an output file (--html OUT; '-' for stdout) (see msconv --help)\n"));
        return 2;
    }
    ms_hview *v;
    ms_tbins tb;
    ms_tb_init(&tb);
    errno = 0;
    int e = ms_hview_load_bins(&v, a->input, &tb);
    if (!e && tb.oom) { ms_hview_free(v); e = MS_ENOMEM; }
    if (e) {
        msconv_error(a->input, "%s", msconv_reader_error(e));
        ms_tb_free(&tb);
        return 1;
    }
    msconv_warn_integrity(a->input, &v->integ);
    ms_tb_finish(&tb, ms_heap_get_summary(v->heap)->end_time);
    ms_tb_sort(&tb.sites);
    ms_tb_sort(&tb.threads);
    hjob j = { { v, o.en, NULL, &tb, calloc(ms_heap_site_count(v->heap) + 1, 1), ms_heap_site_count(v->heap), 0, MS_U64MAP_INIT }, a->input };
    if (!j.c.shown || ms_calltree_new(&j.c.frames, 1)) {
        msconv_error(a->input, "%s", ms_cli_strerror(ENOMEM));
        free(j.c.shown); ms_tb_free(&tb); ms_hview_free(v);
        return 1;
    }
    ms_outfile out;
    if (hv_open(&out, a->input, a->output, 0)) { free(j.c.shown); ms_tb_free(&tb); ms_calltree_free(j.c.frames); ms_hview_free(v); return 1; }
    const ms_heap_info *in = ms_heap_get_info(v->heap);
    char title[600];
    const char *exe = in->exe && *in->exe ? in->exe : a->input, *base = strrchr(exe, '/');
    snprintf(title, sizeof title, "memscope: %s", base ? base + 1 : exe);
    int bad = ms_html_write(out.fp, title, heap_json, &j);
    rc = hv_commit(&out, a->input, a->output, bad);
    free(j.c.shown);
    ms_tb_free(&tb);
    ms_calltree_free(j.c.frames);
    ms_u64map_free(&j.c.frame_ids);
    ms_hview_free(v);
    return rc;
}
