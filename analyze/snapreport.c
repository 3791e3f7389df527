/*
 * Snapshot report models (snapreport.h) for the snapshot dashboard: library
 * totals across processes (every process maps each path at most once in
 * its library list, so the process count is the number of records holding
 * it) and sampled per-process PSS trends over a series. Kept here, next to
 * snap.c, so the converters only format numbers computed once.
 */
#include "snapreport.h"
#include <stdlib.h>
#include <string.h>

static int cmp_str(snap_str a, snap_str b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int c = memcmp(a.p, b.p, n);
    if (c) return c;
    return (a.n > b.n) - (a.n < b.n);
}

static int cmp_libp(const void *x, const void *y)
{
    const snap_lib *a = *(const snap_lib *const *)x, *b = *(const snap_lib *const *)y;
    return cmp_str(a->path, b->path);
}

static int cmp_total(const void *x, const void *y)
{
    const snap_libtotal *a = x, *b = y;
    if (a->pss != b->pss) return a->pss < b->pss ? 1 : -1;
    if (a->rss != b->rss) return a->rss < b->rss ? 1 : -1;
    if (a->procs != b->procs) return a->procs < b->procs ? 1 : -1;
    return cmp_str(a->path, b->path);
}

int snap_libtotals_build(const snap *s, snap_libtotals *out)
{
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (size_t i = 0; i < s->nprocs; i++) total += s->procs[i].nlibs;
    const snap_lib **v = malloc((total + 1) * sizeof *v);
    if (!v) return MS_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < s->nprocs; i++)
        for (uint32_t j = 0; j < s->procs[i].nlibs; j++) v[k++] = &s->procs[i].libs[j];
    qsort(v, total, sizeof *v, cmp_libp);
    out->libs = calloc(total + 1, sizeof *out->libs);
    if (!out->libs) { free(v); return MS_ENOMEM; }
    for (size_t i = 0; i < total; i++) {
        const snap_lib *l = v[i];
        snap_libtotal *t = out->n ? &out->libs[out->n - 1] : NULL;
        if (!t || cmp_str(t->path, l->path)) {
            t = &out->libs[out->n++];
            t->path = l->path;
        }
        t->procs++;
        t->mapped += l->mapped;
        t->rss += l->rss;
        t->pss += l->pss;
        if (l->disk_size > t->disk_size) t->disk_size = l->disk_size;
        if (l->rss || l->pss) out->has_memory = 1;
    }
    free(v);
    if (out->n > 1) qsort(out->libs, out->n, sizeof *out->libs, cmp_total);
    return 0;
}

void snap_libtotals_free(snap_libtotals *t)
{
    free(t->libs);
    memset(t, 0, sizeof *t);
}

size_t snap_sample(size_t nsnaps, size_t max, size_t *idx)
{
    if (max < 2) max = 2;
    if (nsnaps <= max) {
        for (size_t k = 0; k < nsnaps; k++) idx[k] = k;
        return nsnaps;
    }
    for (size_t k = 0; k < max; k++) idx[k] = k * (nsnaps - 1) / (max - 1);
    return max;
}

void snap_growth_trend(const snap_file *f, const snap_growth *g, const size_t *idx, size_t n, int64_t *pss)
{
    for (size_t k = 0; k < n; k++) {
        const snap_proc *q = idx[k] < f->nsnaps ? snap_find_pid(&f->snaps[idx[k]], g->last->pid) : NULL;
        pss[k] = q && q->starttime == g->last->starttime && !(q->read_status & MS_READ_VANISHED)
                     ? (int64_t)q->pss : -1;
    }
}
