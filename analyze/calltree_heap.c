/* One pass over a heap trace feeding the heap replay (heap.h) and
 * collecting what the heap views need besides it (calltree_heap.h): the
 * call tree of the sites' symbolized stacks, a bounded live-heap timeline,
 * RSS samples, marks, histograms, the largest blocks, labels per site, and
 * the maps / process memory at exit. Keeping this in analyze/ lets every
 * converter (text, SVG, HTML, diff) read the same numbers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memscope.h"
#include "timebins.h"
#include "calltree_heap.h"
#include "blockpipe.h"
#include "pump.h"
#include "symtab.h"

static char *dup_str(ms_str s)
{
    char *p = malloc(s.len + 1);
    if (!p) return NULL;
    if (s.len) memcpy(p, s.ptr, s.len);
    p[s.len] = 0;
    for (size_t i = 0; i < s.len; i++) if (!p[i]) p[i] = ' ';
    return p;
}

void ms_hview_site_values(uint64_t out[MS_CT_NMETRICS], const ms_heap_site *s)
{
    out[MS_CT_PEAK] = s->peak_bytes;
    out[MS_CT_LEAKED] = s->live_bytes;
    out[MS_CT_ALLOCATED] = s->allocated_bytes;
    out[MS_CT_COUNT] = s->allocations;
    out[MS_CT_TEMPORARY] = s->temporary;
}

uint64_t ms_hview_life_floor_ns(size_t k)
{
    uint64_t f = 0;
    if (k > 0) { f = 1000; for (size_t i = 1; i < k; i++) f *= 10; }
    return f;
}

/* Byte deltas add modulo 2^64: a hostile trace's sizes (up to 2^64 - 1)
 * must not overflow a signed sum (real ones are far below 2^63). */
static inline int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

/* ---- timeline buckets --------------------------------------------------- */
/* Bucket widths are powers of two (they start at 1 tick and double), so
 * the bucket of t is t >> shift: no division per event. */
static void bucket_add_slow(ms_hview *v, uint64_t t, int64_t d)
{
    while ((t >> v->bucket_shift) >= MS_HV_BUCKETS) {
        for (size_t i = 0; i < MS_HV_BUCKETS / 2; i++) v->delta[i] = wadd(v->delta[2 * i], v->delta[2 * i + 1]);
        memset(v->delta + MS_HV_BUCKETS / 2, 0, sizeof v->delta / 2);
        v->bucket_ticks *= 2;
        v->bucket_shift++;
    }
    v->delta[t >> v->bucket_shift] = wadd(v->delta[t >> v->bucket_shift], d);
}

static inline void bucket_add(ms_hview *v, uint64_t t, int64_t d)
{
    uint64_t k = t >> v->bucket_shift;
    if (k < MS_HV_BUCKETS) v->delta[k] = wadd(v->delta[k], d);
    else bucket_add_slow(v, t, d);
}

size_t ms_hview_live_curve(const ms_hview *v, uint64_t *out)
{
    const ms_heap_summary *s = ms_heap_get_summary(v->heap);
    uint64_t end = s->end_time;
    size_t n = (size_t)(end / v->bucket_ticks) + 1;
    if (n > MS_HV_BUCKETS) n = MS_HV_BUCKETS;
    int64_t run = 0;
    for (size_t i = 0; i < n; i++) {
        run = wadd(run, v->delta[i]);
        out[i] = run > 0 ? (uint64_t)run : 0;
    }
    return n;
}

/* ---- per-site coarse timeline ------------------------------------------- */
static void moment_add_slow(ms_hview *v, size_t site, uint64_t t, int64_t d)
{
    while ((t >> v->moment_shift) >= MS_HV_MOMENTS) {
        for (size_t r = 0; r < v->moment_used; r++) {   /* the rest is zero */
            int64_t *row = v->site_moments + r * MS_HV_MOMENTS;
            for (size_t i = 0; i < MS_HV_MOMENTS / 2; i++) row[i] = wadd(row[2 * i], row[2 * i + 1]);
            memset(row + MS_HV_MOMENTS / 2, 0, MS_HV_MOMENTS / 2 * sizeof *row);
        }
        v->moment_ticks *= 2;
        v->moment_shift++;
    }
    if (site == SIZE_MAX) return;
    if (site >= v->moment_rows) {
        if (site >= MS_HV_MOMENT_SITES) { v->moments_capped = 1; return; }
        /* half again what is needed; rows are zeroed (touched) only as
         * they come into use, and the halving above reads used rows only
         * (doubling and zeroing made 40 000 sites cost 65 536 rows) */
        size_t nr = site + 1 + (site + 1) / 2;
        if (nr < 64) nr = 64;
        if (nr > MS_HV_MOMENT_SITES) nr = MS_HV_MOMENT_SITES;
        int64_t *nm = realloc(v->site_moments, nr * MS_HV_MOMENTS * sizeof *nm);
        if (!nm) { v->oom = 1; return; }
        v->site_moments = nm;
        v->moment_rows = nr;
    }
    if (site >= v->moment_used) {                      /* rows are zeroed as they come into use */
        memset(v->site_moments + v->moment_used * MS_HV_MOMENTS, 0,
               (site + 1 - v->moment_used) * MS_HV_MOMENTS * sizeof *v->site_moments);
        v->moment_used = site + 1;
    }
    int64_t *cell = &v->site_moments[site * MS_HV_MOMENTS + (t >> v->moment_shift)];
    *cell = wadd(*cell, d);
}

static inline void moment_add(ms_hview *v, size_t site, uint64_t t, int64_t d)
{
    uint64_t k = t >> v->moment_shift;
    if (k < MS_HV_MOMENTS && site < v->moment_used) v->site_moments[site * MS_HV_MOMENTS + k] = wadd(v->site_moments[site * MS_HV_MOMENTS + k], d);
    else moment_add_slow(v, site, t, d);
}

/* Moment widths only (ms_hview_load_bins: the rows come from the bins). */
static inline void moment_cover(ms_hview *v, uint64_t t)
{
    if ((t >> v->moment_shift) >= MS_HV_MOMENTS) moment_add_slow(v, SIZE_MAX, t, 0);
}

/* Site r's live bytes at the end of each moment (prefix sums of its
 * deltas row[0..nm)) into the top-topn lists. */
static void moments_top(size_t r, const int64_t *row, size_t nm, size_t topn, uint32_t *sites, uint64_t *bytes,
                        size_t *n)
{
    int64_t run = 0;
    for (size_t k = 0; k < nm; k++) {
        run = wadd(run, row[k]);
        if (run <= 0) continue;
        uint64_t b = (uint64_t)run;
        uint32_t *ss = sites + k * topn;
        uint64_t *bb = bytes + k * topn;
        if (n[k] == topn && b <= bb[topn - 1]) continue;
        size_t pos = n[k] < topn ? n[k]++ : topn - 1;
        while (pos > 0 && bb[pos - 1] < b) { ss[pos] = ss[pos - 1]; bb[pos] = bb[pos - 1]; pos--; }
        ss[pos] = (uint32_t)r;
        bb[pos] = b;
    }
}

/* The moment of time bin b: bins and moments are both powers of two
 * wide from tick 0 and cover the same times (every block's and the end),
 * and 512 bins are finer than 48 moments, so a moment is a run of bins. */
static inline size_t bin_moment(const ms_hview *v, uint32_t b)
{
    unsigned bs = v->bins->shift, ms = v->moment_shift;
    size_t k = ms >= bs ? (size_t)(b >> (ms - bs)) : (size_t)b << (bs - ms);
    return k < MS_HV_MOMENTS ? k : MS_HV_MOMENTS - 1;
}

size_t ms_hview_moments(const ms_hview *v, size_t topn, uint32_t *sites, uint64_t *bytes, size_t *n)
{
    uint64_t end = ms_heap_get_summary(v->heap)->end_time;
    size_t nm = (size_t)(end / v->moment_ticks) + 1;
    if (nm > MS_HV_MOMENTS) nm = MS_HV_MOMENTS;
    for (size_t k = 0; k < nm; k++) n[k] = 0;
    if (topn == 0) return nm;
    if (!v->bins) {
        for (size_t r = 0; r < v->moment_used; r++)
            moments_top(r, v->site_moments + r * MS_HV_MOMENTS, nm, topn, sites, bytes, n);
        return nm;
    }
    /* a site's row from its cells (allocation bin i, free bin j), which
     * ms_tb_sort groups by site */
    ms_tb_table *t = &v->bins->sites;
    for (size_t c = 1; c < t->n; c++)
        if (t->cells[c].row < t->cells[c - 1].row) { ms_tb_sort(t); break; }
    int64_t row[MS_HV_MOMENTS];
    for (size_t c = 0; c < t->n;) {
        uint32_t r = t->cells[c].row;
        memset(row, 0, sizeof row);
        for (; c < t->n && t->cells[c].row == r; c++) {
            const ms_tb_cell *x = &t->cells[c];
            int64_t w = x->bytes > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x->bytes;
            size_t ka = bin_moment(v, x->i);
            row[ka] = wadd(row[ka], w);
            if (x->j != MS_TB_LIVE) {
                size_t kf = bin_moment(v, x->j);
                row[kf] = wadd(row[kf], -w);
            }
        }
        moments_top(r, row, nm, topn, sites, bytes, n);
    }
    return nm;
}

/* ---- per-block callback ------------------------------------------------- */
static int grow_labels(ms_hview *v, size_t site)
{
    if (site < v->site_label_cap) return 0;
    size_t nc = v->site_label_cap ? v->site_label_cap : 64;
    while (nc <= site) nc *= 2;
    const char **a = realloc(v->site_var, nc * sizeof *a);
    if (a) v->site_var = a;
    const char **b = realloc(v->site_type, nc * sizeof *b);
    if (b) v->site_type = b;
    if (!a || !b) return -1;
    for (size_t i = v->site_label_cap; i < nc; i++) v->site_var[i] = v->site_type[i] = NULL;
    v->site_label_cap = nc;
    return 0;
}

static ms_hv_site_x *site_x_grow(ms_hview *v, size_t site)
{
    size_t nc = v->site_x_cap ? v->site_x_cap : 64;
    while (nc <= site) nc *= 2;
    ms_hv_site_x *n = realloc(v->site_x, nc * sizeof *n);
    if (!n) return NULL;
    for (size_t i = v->site_x_cap; i < nc; i++) {
        memset(&n[i], 0, sizeof n[i]);
        n[i].min_size = UINT64_MAX;
    }
    v->site_x = n;
    v->site_x_cap = nc;
    return &v->site_x[site];
}

static inline ms_hv_site_x *site_x(ms_hview *v, size_t site)
{
    return site < v->site_x_cap ? &v->site_x[site] : site_x_grow(v, site);
}

/* Lifetime bucket k holds blocks whose life in ns, computed as
 * (double)ticks * 1e9 / hz, is >= ms_hview_life_floor_ns(k). That test is
 * monotone in the tick count, so each floor becomes the smallest tick count
 * that passes it (found by bisection with the very same double
 * expression): per block it is then integer compares, same buckets. */
static int life_reaches(uint64_t dt, uint64_t hz, size_t k)
{
    double ns = hz ? (double)dt * 1e9 / (double)hz : (double)dt;
    return ns >= (double)ms_hview_life_floor_ns(k);
}

static void life_thresholds(ms_hview *v, uint64_t hz)
{
    v->life_min_ticks[0] = 0;
    v->life_lim = MS_HV_LIFE_BUCKETS;
    for (size_t k = 1; k < MS_HV_LIFE_BUCKETS; k++) {
        /* floors grow with k: once one is out of reach, so are the rest */
        if (!life_reaches(UINT64_MAX, hz, k)) { v->life_lim = k; break; }
        uint64_t lo = 0, hi = UINT64_MAX;          /* !reaches(lo) ... reaches(hi) */
        if (life_reaches(0, hz, k)) hi = 0;
        else while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (life_reaches(mid, hz, k)) hi = mid; else lo = mid;
        }
        v->life_min_ticks[k] = hi;
    }
    v->life_hz = hz;
    v->life_ready = 1;
}

static void on_block(void *ctx, const ms_heap_block *b)
{
    ms_hview *v = ctx;
    if (v->also) v->also(v->also_ctx, b);
    ms_hv_site_x *sx = site_x(v, b->site);
    if (!sx) { v->oom = 1; return; }
    if (b->size < sx->min_size) sx->min_size = b->size;
    /* counts and bytes are the block's weight (heap.h: sampled traces) */
    size_t k = b->size ? (size_t)(64 - __builtin_clzll(b->size)) : 0;   /* bit length */
    v->size_count[k] += b->wcount;
    v->size_bytes[k] += b->wsize;
    size_t lk = MS_HV_LIFE_BUCKETS;
    bucket_add(v, b->t_alloc, (int64_t)b->wsize);
    if (v->bins) moment_cover(v, b->t_alloc);
    else if (!v->lean) moment_add(v, b->site, b->t_alloc, (int64_t)b->wsize);
    if (b->freed) {
        /* one branch for everything a freed block adds (hot: most blocks) */
        uint64_t life = b->t_free >= b->t_alloc ? b->t_free - b->t_alloc : 0;
        uint64_t lw;
        sx->freed += b->wcount;
        if (__builtin_mul_overflow(life, b->wcount, &lw)) lw = UINT64_MAX;
        sx->life_sum = sx->life_sum + lw < sx->life_sum ? UINT64_MAX : sx->life_sum + lw;
        if (life > sx->life_max) sx->life_max = life;
        uint64_t hz = v->hinfo->clock_hz;
        if (hz != v->life_hz || !v->life_ready) life_thresholds(v, hz);
        lk = 0;
        while (lk + 1 < v->life_lim && life >= v->life_min_ticks[lk + 1]) lk++;
        bucket_add(v, b->t_free, (int64_t)(0 - b->wsize));
        if (v->bins) moment_cover(v, b->t_free);
        else if (!v->lean) moment_add(v, b->site, b->t_free, (int64_t)(0 - b->wsize));
    } else {
        uint32_t c = b->leak_class < 6 ? b->leak_class : MS_LEAK_UNKNOWN;
        sx->leak_blocks[c] += b->wcount;
        sx->leak_bytes[c] += b->wsize;
    }
    v->life_count[lk] += b->wcount;
    v->life_bytes[lk] += b->wsize;

    if (b->var_name || b->type_name) {
        v->labeled_blocks++;
        if (grow_labels(v, b->site) == 0) {
            if (!v->site_var[b->site] && !v->site_type[b->site]) {
                v->site_var[b->site] = b->var_name;
                v->site_type[b->site] = b->type_name;
            }
        } else {
            v->oom = 1;
        }
    }

    /* Largest blocks, sorted descending (insertion into a short array). */
    if (v->ntop == MS_HV_TOP_BLOCKS && b->size <= v->top[MS_HV_TOP_BLOCKS - 1].size) return;
    size_t pos = v->ntop < MS_HV_TOP_BLOCKS ? v->ntop++ : MS_HV_TOP_BLOCKS - 1;
    while (pos > 0 && v->top[pos - 1].size < b->size) { v->top[pos] = v->top[pos - 1]; pos--; }
    ms_hv_block *t = &v->top[pos];
    t->addr = b->addr; t->size = b->size; t->t_alloc = b->t_alloc; t->t_free = b->t_free;
    t->tid = b->tid; t->site = b->site; t->freed = b->freed; t->temporary = b->temporary; t->op = b->op;
    t->var_name = b->var_name; t->type_name = b->type_name;
}

/* ---- other records -------------------------------------------------------- */
static int add_record(ms_hview *v, const ms_record *rec)
{
    switch (rec->type) {
    case MS_REC_SAMPLE: {
        if (v->nsamples == v->cap_samples) {
            size_t nc = v->cap_samples ? v->cap_samples * 2 : 256;
            ms_hv_sample *ns = realloc(v->samples, nc * sizeof *ns);
            if (!ns) return MS_ENOMEM;
            v->samples = ns; v->cap_samples = nc;
        }
        /* a sampled trace's heap_live counts the recorded blocks only (spec
         * §8.8): the weighted timeline stands in for it */
        uint64_t hl = ms_heap_sampled(v->heap) ? 0 : rec->u.sample.heap_live;
        v->samples[v->nsamples++] = (ms_hv_sample){ rec->u.sample.time, rec->u.sample.rss, hl };
        if (rec->u.sample.rss > v->peak_rss) v->peak_rss = rec->u.sample.rss;
        break;
    }
    case MS_REC_MARK: {
        if (v->nmarks == v->cap_marks) {
            size_t nc = v->cap_marks ? v->cap_marks * 2 : 16;
            ms_hv_mark *nm = realloc(v->marks, nc * sizeof *nm);
            if (!nm) return MS_ENOMEM;
            v->marks = nm; v->cap_marks = nc;
        }
        char *name = dup_str(rec->u.mark.name);
        if (!name) return MS_ENOMEM;
        v->marks[v->nmarks++] = (ms_hv_mark){ rec->u.mark.time, rec->u.mark.tid, name };
        break;
    }
    case MS_REC_MAPS: {
        /* Keep the last MAPS record (the at-exit one). */
        for (size_t i = 0; i < v->nmaps; i++) free(v->maps[i].path);
        free(v->maps);
        v->maps = NULL; v->nmaps = 0;
        const ms_maps *m = &rec->u.maps;
        if (m->count) {
            v->maps = calloc(m->count, sizeof *v->maps);
            if (!v->maps) return MS_ENOMEM;
        }
        for (uint32_t i = 0; i < m->count; i++) {
            const ms_map *s = &m->maps[i];
            ms_hv_map *d = &v->maps[v->nmaps];
            d->start = s->start; d->end = s->end; d->offset = s->offset; d->prot = s->prot;
            d->rss = s->rss; d->pss = s->pss; d->anon = s->anon; d->swap = s->swap;
            if (!(d->path = dup_str(s->path))) return MS_ENOMEM;
            v->nmaps++;
        }
        v->has_maps = 1;
        break;
    }
    case MS_REC_PROC_MEM:
        v->proc = rec->u.proc_mem;
        v->has_proc = 1;
        if (rec->u.proc_mem.vm_hwm > v->peak_rss) v->peak_rss = rec->u.proc_mem.vm_hwm;
        if (rec->u.proc_mem.vm_rss > v->peak_rss) v->peak_rss = rec->u.proc_mem.vm_rss;
        break;
    default:
        break;
    }
    return 0;
}

/* ---- call tree from the sites' stacks -------------------------------------- */
typedef struct ipcache {
    int gran;                     /* MS_HV_GRAN_*, or -1: the views' tree  */
    uint64_t *ips;
    uint32_t *start, *count;      /* into funcs[]; count UINT32_MAX = empty */
    size_t cap, n;
    uint32_t *funcs, *lines;      /* function id and source line per frame */
    size_t nfuncs, capfuncs;
} ipcache;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
    return x;
}

static int cache_grow(ipcache *c)
{
    size_t nc = c->cap ? c->cap * 2 : 1024;
    uint64_t *ni = malloc(nc * sizeof *ni);
    uint32_t *ns = malloc(nc * sizeof *ns), *nn = malloc(nc * sizeof *nn);
    if (!ni || !ns || !nn) { free(ni); free(ns); free(nn); return MS_ENOMEM; }
    for (size_t i = 0; i < nc; i++) nn[i] = UINT32_MAX;
    for (size_t i = 0; i < c->cap; i++) {
        if (c->count[i] == UINT32_MAX) continue;
        size_t s = mix(c->ips[i]) & (nc - 1);
        while (nn[s] != UINT32_MAX) s = (s + 1) & (nc - 1);
        ni[s] = c->ips[i]; ns[s] = c->start[i]; nn[s] = c->count[i];
    }
    free(c->ips); free(c->start); free(c->count);
    c->ips = ni; c->start = ns; c->count = nn; c->cap = nc;
    return 0;
}

static int push_func(ipcache *c, uint32_t f, uint32_t line)
{
    if (c->nfuncs == c->capfuncs) {
        size_t nc = c->capfuncs ? c->capfuncs * 2 : 1024;
        uint32_t *nf = realloc(c->funcs, nc * sizeof *nf);
        if (nf) c->funcs = nf;
        uint32_t *nl = realloc(c->lines, nc * sizeof *nl);
        if (nl) c->lines = nl;
        if (!nf || !nl) return MS_ENOMEM;
        c->capfuncs = nc;
    }
    c->lines[c->nfuncs] = line;
    c->funcs[c->nfuncs++] = f;
    return 0;
}

/* The function a frame of ip (k of nf, k = 0 innermost) is in the tree
 * of granularity c->gran (calltree_heap.h). */
static int frame_func(ipcache *c, ms_calltree *t, const ms_symtab *sym, uint64_t ip, size_t k, size_t nf, uint32_t *id)
{
    const ms_symtab_frame *fr = ms_symtab_frame_at(sym, ip, k);
    char label[1024], name[1200];
    ms_symtab_frame_label(label, sizeof label, sym, ip, k);
    const char *inl = c->gran >= 0 && k + 1 < nf ? " (inline)" : "";
    switch (c->gran) {
    case MS_HV_GRAN_FILES:
        return ms_calltree_func_id(t, id, *fr->file ? fr->file : label, "", 0);
    case MS_HV_GRAN_ADDRESSES:
        snprintf(name, sizeof name, "0x%llx %s%s", (unsigned long long)ip, label, inl);
        return ms_calltree_func_id(t, id, name, fr->file, fr->line);
    default:
        snprintf(name, sizeof name, "%s%s", label, inl);
        return ms_calltree_func_id(t, id, name, fr->file, fr->line);
    }
}

/* Function ids of ip, outermost inlined frame first (frame_func). */
static int ip_funcs(ipcache *c, ms_calltree *t, const ms_symtab *sym, uint64_t ip, uint32_t *start, uint32_t *count)
{
    if ((c->n + 1) * 2 > c->cap && cache_grow(c)) return MS_ENOMEM;
    size_t s = mix(ip) & (c->cap - 1);
    while (c->count[s] != UINT32_MAX && c->ips[s] != ip) s = (s + 1) & (c->cap - 1);
    if (c->count[s] != UINT32_MAX) { *start = c->start[s]; *count = c->count[s]; return 0; }
    uint32_t st = (uint32_t)c->nfuncs, id;
    int rc;
    size_t nf = ms_symtab_frame_count(sym, ip);
    for (size_t k = nf; k-- > 0;) {
        if ((rc = frame_func(c, t, sym, ip, k, nf, &id)) ||
            (rc = push_func(c, id, c->gran == MS_HV_GRAN_FILES ? 0 : ms_symtab_frame_at(sym, ip, k)->line)))
            return rc;
    }
    c->ips[s] = ip; c->start[s] = st; c->count[s] = (uint32_t)(c->nfuncs - st); c->n++;
    *start = st; *count = c->count[s];
    return 0;
}

/* Call-tree path of a stack node: its caller's path followed by the
 * frames of its ip, outermost inlined frame first (ms_stack_memo_get). */
typedef struct path_ctx { const ms_hview *v; ipcache *c; ms_calltree *t; } path_ctx;

static int extend_path(void *ctx, uint32_t parent, uint64_t ip, uint32_t *out)
{
    path_ctx *p = ctx;
    const ms_symtab *sym = ms_heap_symtab(p->v->heap);
    uint32_t st, cnt;
    int rc = ip_funcs(p->c, p->t, sym, ip, &st, &cnt);
    ms_ct_path path = parent;
    for (uint32_t k = 0; k < cnt && !rc; k++)
        rc = ms_calltree_path_child(p->t, &path, path, p->c->funcs[st + k], p->c->lines[st + k]);
    *out = path;
    return rc;
}

/* The call tree of every site's stack at granularity gran (-1: the views'
 * tree); site_node (nsites entries, or NULL) gets each site's node. */
static int build_tree_into(const ms_hview *v, ms_calltree *tree, int gran, uint32_t *site_node)
{
    int rc = 0;
    size_t nsites = ms_heap_site_count(v->heap);
    ipcache c;
    memset(&c, 0, sizeof c);
    c.gran = gran;
    path_ctx pc = { v, &c, tree };
    ms_stack_memo *memo = NULL;
    ms_ct_path *site_path = malloc((nsites ? nsites : 1) * sizeof *site_path);
    uint32_t nostack;
    ms_ct_path nostack_path = MS_CT_ROOT_PATH;
    if (!site_path || ms_stack_memo_new(&memo)) rc = MS_ENOMEM;
    /* a path per stack node and its inlined frames (python3: 1.5 a node);
     * room never used is never touched */
    if (!rc) rc = ms_calltree_reserve(tree, 2 * (size_t)ms_symtab_max_node(ms_heap_symtab(v->heap)) + 2);
    if (!rc) rc = ms_calltree_func_id(tree, &nostack, "[no stack]", "", 0);
    if (!rc) rc = ms_calltree_path_child(tree, &nostack_path, MS_CT_ROOT_PATH, nostack, 0);
    for (size_t i = 0; i < nsites && !rc; i++) {
        const ms_heap_site *s = ms_heap_site_at(v->heap, i);
        site_path[i] = MS_CT_ROOT_PATH;
        if (s->allocations == 0 && s->live_blocks == 0) continue;     /* e.g. site 0 unused */
        uint64_t vals[MS_CT_NMETRICS];
        ms_hview_site_values(vals, s);
        ms_ct_path p = MS_CT_ROOT_PATH;
        rc = ms_stack_memo_get(memo, ms_heap_symtab(v->heap), s->stack_id, MS_CT_ROOT_PATH, extend_path, &pc, &p);
        if (!rc && p == MS_CT_ROOT_PATH) p = nostack_path;
        if (!rc) rc = ms_calltree_path_add(tree, p, vals);
        site_path[i] = p;
    }
    if (!rc) rc = ms_calltree_finish(tree);
    for (size_t i = 0; i < nsites && !rc && site_node; i++)
        site_node[i] = site_path[i] == MS_CT_ROOT_PATH ? MS_CT_ROOT : ms_calltree_path_node(tree, site_path[i]);
    free(site_path);
    ms_stack_memo_free(memo);
    free(c.ips); free(c.start); free(c.count); free(c.funcs); free(c.lines);
    if (!rc) ms_calltree_sort_children(tree);
    return rc;
}

static int build_tree(ms_hview *v)
{
    int rc = ms_calltree_new(&v->tree, 0);
    if (rc) return rc;
    v->nsites = ms_heap_site_count(v->heap);
    v->site_node = calloc(v->nsites ? v->nsites : 1, sizeof *v->site_node);
    if (!v->site_node) return MS_ENOMEM;
    return build_tree_into(v, v->tree, -1, v->site_node);
}

int ms_hview_tree(ms_calltree **out, const ms_hview *v, int gran)
{
    *out = NULL;
    if (gran < MS_HV_GRAN_FUNCTIONS || gran > MS_HV_GRAN_ADDRESSES) return MS_EINVAL;
    ms_calltree *t;
    int rc = ms_calltree_new(&t, gran == MS_HV_GRAN_LINES || gran == MS_HV_GRAN_ADDRESSES);
    if (rc) return rc;
    if ((rc = build_tree_into(v, t, gran, NULL))) { ms_calltree_free(t); return rc; }
    *out = t;
    return 0;
}

int ms_hview_gran_parse(const char *s)
{
    static const char *const names[] = { "functions", "lines", "files", "addresses" };
    for (int i = 0; i < 4; i++)
        if (s && !strcmp(s, names[i])) return i;
    return -1;
}

static int pump_record(void *ctx, const ms_record *rec)
{
    ms_hview *v = ctx;
    int e = ms_heap_add(v->heap, rec);
    return e ? e : add_record(v, rec);
}

static int pump_events(void *ctx, uint64_t tid, const ms_replay_packed *ev, size_t n, const ms_event *side)
{
    return ms_heap_add_packed(((ms_hview *)ctx)->heap, tid, ev, n, side);
}

int ms_hview_load(ms_hview **out, const char *path)
{
    return ms_hview_load_opts(out, path, NULL, NULL, NULL);
}

int ms_hview_load_range(ms_hview **out, const char *path, const ms_range_req *range)
{
    return ms_hview_load_opts(out, path, range, NULL, NULL);
}

static int load(ms_hview **out, const char *path, const ms_range_req *range, ms_heap_block_fn fn, void *ctx,
                int lean, ms_tbins *bins)
{
    *out = NULL;
    ms_hview *v = calloc(1, sizeof *v);
    if (!v) return MS_ENOMEM;
    v->also = fn;
    v->also_ctx = ctx;
    v->bins = bins;
    v->lean = lean;
    v->bucket_ticks = 1;
    v->moment_ticks = 1;
    ms_reader *r;
    int e = ms_reader_open(&r, path);
    if (e) { free(v); return e; }
    ms_heap_opts ho = { lean >= 2 ? NULL : on_block, v, range };
    /* the per-block models on a third thread (blockpipe.h) */
    ms_blockpipe *pipe = NULL;
    if (ho.on_block && (e = ms_blockpipe_start(&pipe, r, on_block, v))) { ms_reader_close(r); free(v); return e; }
    if (pipe) { ho.on_block = ms_blockpipe_push; ho.ctx = pipe; }
    if ((e = ms_heap_new(&v->heap, &ho))) {
        ms_blockpipe_finish(pipe);
        ms_reader_close(r);
        ms_hview_free(v);
        return e;
    }
    v->hinfo = ms_heap_get_info(v->heap);
    /* the pump reads on this thread (and reports ms_heap_progress per
     * record) while the replay below runs on a second one */
    e = ms_pump_run(r, pump_record, pump_events, v);
    if (e == 0) e = ms_heap_finish(v->heap);
    ms_blockpipe_finish(pipe);
    ms_heap_progress_done(r);
    if (e == 0) {                                   /* cover the whole trace */
        bucket_add(v, ms_heap_get_summary(v->heap)->end_time, 0);
        moment_add(v, SIZE_MAX, ms_heap_get_summary(v->heap)->end_time, 0);
    }
    ms_reader_integrity(r, &v->integ);
    ms_reader_close(r);
    if (e == 0 && v->oom) e = MS_ENOMEM;
    if (e == 0 && (!lean || lean == 3)) e = build_tree(v);
    if (e) { ms_hview_free(v); return e; }
    *out = v;
    return 0;
}

int ms_hview_load_opts(ms_hview **out, const char *path, const ms_range_req *range,
                       ms_heap_block_fn fn, void *ctx)
{
    return load(out, path, range, fn, ctx, 0, NULL);
}

int ms_hview_load_bins(ms_hview **out, const char *path, ms_tbins *bins)
{
    return load(out, path, NULL, ms_tb_block, bins, 0, bins);
}

int ms_hview_load_lean(ms_hview **out, const char *path, const ms_range_req *range)
{
    return load(out, path, range, NULL, NULL, 1, NULL);
}

int ms_hview_load_sites(ms_hview **out, const char *path, const ms_range_req *range)
{
    return load(out, path, range, NULL, NULL, 2, NULL);
}

int ms_hview_load_tree(ms_hview **out, const char *path, const ms_range_req *range)
{
    return load(out, path, range, NULL, NULL, 3, NULL);
}

void ms_hview_free(ms_hview *v)
{
    if (!v) return;
    ms_calltree_free(v->tree);
    ms_heap_free(v->heap);
    free(v->site_node);
    free(v->samples);
    for (size_t i = 0; i < v->nmarks; i++) free(v->marks[i].name);
    free(v->marks);
    for (size_t i = 0; i < v->nmaps; i++) free(v->maps[i].path);
    free(v->maps);
    free(v->site_var); free(v->site_type);
    free(v->site_moments);
    free(v->site_x);
    free(v);
}
