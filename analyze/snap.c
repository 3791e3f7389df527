/*
 * Snapshot model: streams a .memscope snapshot file through the format
 * reader and copies every snapshot (system facts, /proc/meminfo, processes
 * with their libraries and permission sums) into one arena, so the
 * converters (msconv views, msdiff) work on plain arrays. Also computes the
 * totals of a snapshot (only PSS and USS add up across processes; RSS is
 * summed for reference) and the growth of each process over a series: a
 * least-squares slope with its R², only for processes present in at least
 * half of the series, so a process seen briefly cannot outrank a steady
 * leak.
 */
#include "snap.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---------------------------------------------------------------- */
typedef struct ablock { struct ablock *next; size_t used, cap; unsigned char data[]; } ablock;
typedef struct arena { ablock *head; } arena;

static void *aalloc(arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > (1u << 20) ? n : (1u << 20);
        ablock *b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = a->head; b->used = 0; b->cap = cap;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static void afree(arena *a)
{
    while (a && a->head) { ablock *b = a->head; a->head = b->next; free(b); }
}

static int acopy(arena *a, snap_str *dst, ms_str src)
{
    char *p = aalloc(a, src.len + 1);
    if (!p) return -1;
    if (src.len) memcpy(p, src.ptr, src.len);
    p[src.len] = 0;
    dst->p = p;
    dst->n = src.len;
    return 0;
}

/* ---- growable vectors ------------------------------------------------------ */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need) c *= 2;
    void *np = realloc(*p, c * elem);
    if (!np) return -1;
    *p = np;
    *cap = c;
    return 0;
}

static int cmp_lib(const void *a, const void *b)
{
    const snap_lib *x = a, *y = b;
    int c = strcmp(x->path.p, y->path.p);
    if (c) return c;
    return (x->flags > y->flags) - (x->flags < y->flags);
}

int snap_proc_mem_known(const snap_proc *p)
{
    return !(p->read_status & (MS_READ_VANISHED | MS_READ_DENIED_SMAPS));
}

static int copy_kv(arena *a, const ms_kv *kv, uint32_t n, snap_str **keys, uint64_t **vals)
{
    *keys = aalloc(a, (n + 1) * sizeof **keys);
    *vals = aalloc(a, (n + 1) * sizeof **vals);
    if (!*keys || !*vals) return -1;
    int oom = 0;
    for (uint32_t i = 0; i < n; i++) {
        oom |= acopy(a, &(*keys)[i], kv[i].key);
        (*vals)[i] = kv[i].value;
    }
    return oom;
}

static int cmp_proc(const void *a, const void *b)
{
    const snap_proc *x = a, *y = b;
    if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
    return (x->starttime > y->starttime) - (x->starttime < y->starttime);
}

int snap_file_kind(const char *path, char *err, size_t errlen)
{
    ms_reader *r = NULL;
    int rc = ms_reader_open(&r, path);
    if (rc) {
        const char *d = ms_reader_open_error();
        if (rc == MS_EIO) snprintf(err, errlen, "%s", strerror(errno));
        else snprintf(err, errlen, "%s", *d ? d : ms_strerror(rc));
        return rc;
    }
    int kind = (int)ms_reader_header(r)->kind;
    ms_reader_close(r);
    return kind;
}

int snap_file_load(const char *path, snap_file **out, char *err, size_t errlen)
{
    *out = NULL;
    ms_reader *r = NULL;
    int rc = ms_reader_open(&r, path);
    if (rc) {
        const char *d = ms_reader_open_error();
        if (rc == MS_EIO) snprintf(err, errlen, "%s", strerror(errno));
        else snprintf(err, errlen, "%s", *d ? d : ms_strerror(rc));
        return rc;
    }
    if (ms_reader_header(r)->kind != MS_KIND_SNAPSHOT) {
        snprintf(err, errlen, "not a snapshot file (%s)",
                 ms_reader_header(r)->kind == MS_KIND_HEAP ? "heap trace" : "unknown kind");
        ms_reader_close(r);
        return MS_EINVAL;
    }
    snap_file *f = calloc(1, sizeof *f);
    arena *a = calloc(1, sizeof *a);
    if (f) f->path = strdup(path);
    if (!f || !a || !f->path) {
        free(a); if (f) free(f->path); free(f); ms_reader_close(r);
        snprintf(err, errlen, "out of memory");
        return MS_ENOMEM;
    }
    f->arena = a;
    size_t capsnaps = 0, capprocs = 0;
    snap *cur = NULL;
    const ms_record *rec;
    int oom = 0;
    while (!oom && (rc = ms_reader_next(r, &rec)) == 1) {
        switch (rec->type) {
        case MS_REC_SNAP_BEGIN: {
            const ms_snap_begin *b = &rec->u.snap_begin;
            if (cur && cur->nprocs > 1) qsort(cur->procs, cur->nprocs, sizeof *cur->procs, cmp_proc);
            if (grow((void **)&f->snaps, &capsnaps, f->nsnaps + 1, sizeof *f->snaps)) { oom = 1; break; }
            cur = &f->snaps[f->nsnaps++];
            memset(cur, 0, sizeof *cur);
            capprocs = 0;
            cur->index = b->index; cur->wall_ns = b->wall_ns; cur->page_size = b->page_size;
            cur->uptime_ms = b->uptime_ms;
            oom |= acopy(a, &cur->label, b->label) | acopy(a, &cur->hostname, b->hostname) |
                   acopy(a, &cur->kernel, b->kernel) | acopy(a, &cur->os_release, b->os_release) |
                   acopy(a, &cur->boot_id, b->boot_id);
            cur->nmeminfo = b->nmeminfo;
            cur->nvmstat = b->nvmstat;
            cur->nzoneinfo = b->nzoneinfo;
            cur->nslabs = b->nslabs;
            cur->privilege = b->privilege;
            oom |= copy_kv(a, b->meminfo, b->nmeminfo, &cur->meminfo_keys, &cur->meminfo_vals) |
                   copy_kv(a, b->vmstat, b->nvmstat, &cur->vmstat_keys, &cur->vmstat_vals) |
                   copy_kv(a, b->zoneinfo, b->nzoneinfo, &cur->zoneinfo_keys, &cur->zoneinfo_vals) |
                   copy_kv(a, b->slabs, b->nslabs, &cur->slab_keys, &cur->slab_vals);
            break;
        }
        case MS_REC_SNAP_PROC: {
            if (!cur) break;   /* a proc before any BEGIN (damaged file): skip */
            const ms_snap_proc *s = &rec->u.snap_proc;
            if (grow((void **)&cur->procs, &capprocs, cur->nprocs + 1, sizeof *cur->procs)) { oom = 1; break; }
            snap_proc *p = &cur->procs[cur->nprocs++];
            memset(p, 0, sizeof *p);
            p->pid = s->pid; p->ppid = s->ppid; p->starttime = s->starttime; p->uid = s->uid;
            oom |= acopy(a, &p->name, s->name) | acopy(a, &p->cmdline, s->cmdline) |
                   acopy(a, &p->exe, s->exe) | acopy(a, &p->user, s->user);
            p->exe_size = s->exe_size;
            p->kind = s->kind <= MS_PROC_USER ? s->kind : MS_PROC_USER;
            p->state = s->state; p->read_status = s->read_status; p->threads = s->threads;
            p->rss = s->rss; p->pss = s->pss; p->uss = s->uss; p->swap = s->swap;
            p->swap_pss = s->swap_pss; p->shared_clean = s->shared_clean;
            p->shared_dirty = s->shared_dirty; p->private_clean = s->private_clean;
            p->private_dirty = s->private_dirty; p->pss_anon = s->pss_anon;
            p->pss_file = s->pss_file; p->pss_shmem = s->pss_shmem; p->rss_anon = s->rss_anon;
            p->rss_file = s->rss_file; p->rss_shmem = s->rss_shmem; p->vm_size = s->vm_size;
            p->vm_hwm = s->vm_hwm; p->open_files = s->open_files;
            p->exe_flags = s->exe_flags;
            p->nlibs = s->nlibs;
            p->libs = aalloc(a, (s->nlibs + 1) * sizeof *p->libs);
            p->nperms = s->nperms;
            p->perms = aalloc(a, (s->nperms + 1) * sizeof *p->perms);
            if (!p->libs || !p->perms) { oom = 1; break; }
            for (uint32_t i = 0; i < s->nlibs; i++) {
                oom |= acopy(a, &p->libs[i].path, s->libs[i].path);
                p->libs[i].disk_size = s->libs[i].disk_size;
                p->libs[i].mapped = s->libs[i].mapped;
                p->libs[i].rss = s->libs[i].rss;
                p->libs[i].pss = s->libs[i].pss;
                p->libs[i].flags = s->nlib_flags == s->nlibs ? s->lib_flags[i].flags : 0;
            }
            if (!oom && p->nlibs > 1) qsort(p->libs, p->nlibs, sizeof *p->libs, cmp_lib);
            for (uint32_t i = 0; i < s->nperms; i++) {
                p->perms[i].prot = s->perms[i].prot;
                p->perms[i].size = s->perms[i].size;
                p->perms[i].rss = s->perms[i].rss;
                p->perms[i].pss = s->perms[i].pss;
            }
            break;
        }
        case MS_REC_SNAP_END:
            if (!cur) break;
            cur->has_end = 1;
            cur->end_wall_ns = rec->u.snap_end.wall_ns;
            cur->n_vanished = rec->u.snap_end.n_vanished;
            cur->n_denied = rec->u.snap_end.n_denied;
            cur->n_omitted = rec->u.snap_end.n_omitted;
            cur->omitted_pss = rec->u.snap_end.omitted_pss;
            cur->omitted_rss = rec->u.snap_end.omitted_rss;
            memcpy(cur->omitted_kind, rec->u.snap_end.omitted_kind, sizeof cur->omitted_kind);
            break;
        case MS_REC_END:
            f->has_end = 1;
            break;
        default:
            break;
        }
    }
    if (cur && cur->nprocs > 1) qsort(cur->procs, cur->nprocs, sizeof *cur->procs, cmp_proc);   /* procs may be NULL */
    ms_reader_integrity(r, &f->integrity);
    ms_reader_close(r);
    if (oom || rc < 0) {
        snprintf(err, errlen, "%s", oom ? "out of memory" : ms_strerror(rc));
        snap_file_free(f);
        return oom ? MS_ENOMEM : rc;
    }
    if (f->nsnaps == 0) {
        snprintf(err, errlen, "%s", f->integrity.verdict ? "damaged file: no complete snapshot"
                                                         : "no snapshot in file");
        snap_file_free(f);
        return MS_ECORRUPT;
    }
    *out = f;
    return 0;
}

void snap_file_free(snap_file *f)
{
    if (!f) return;
    for (size_t i = 0; i < f->nsnaps; i++) free(f->snaps[i].procs);
    free(f->snaps);
    afree(f->arena);
    free(f->arena);
    free(f->path);
    free(f);
}

uint64_t snap_meminfo(const snap *s, const char *key)
{
    for (uint32_t i = 0; i < s->nmeminfo; i++)
        if (!strcmp(s->meminfo_keys[i].p, key)) return s->meminfo_vals[i];
    return 0;
}

int snap_meminfo_has(const snap *s, const char *key)
{
    for (uint32_t i = 0; i < s->nmeminfo; i++)
        if (!strcmp(s->meminfo_keys[i].p, key)) return 1;
    return 0;
}

int64_t snap_zoneinfo(const snap *s, const char *key)
{
    for (uint32_t i = 0; i < s->nzoneinfo; i++)
        if (!strcmp(s->zoneinfo_keys[i].p, key)) return (int64_t)s->zoneinfo_vals[i];
    return -1;
}

const snap_proc *snap_find_pid(const snap *s, uint64_t pid)
{
    size_t lo = 0, hi = s->nprocs;
    while (lo < hi) {
        size_t m = lo + (hi - lo) / 2;
        if (s->procs[m].pid < pid) lo = m + 1; else hi = m;
    }
    return lo < s->nprocs && s->procs[lo].pid == pid ? &s->procs[lo] : NULL;
}

void snap_totals_of(const snap *s, snap_totals *t)
{
    memset(t, 0, sizeof *t);
    t->nprocs = s->nprocs;
    for (size_t i = 0; i < s->nprocs; i++) {
        const snap_proc *p = &s->procs[i];
        t->by_kind[p->kind]++;
        t->pss += p->pss; t->uss += p->uss; t->rss += p->rss; t->swap += p->swap;
        t->swap_pss += p->swap_pss; t->pss_shmem += p->pss_shmem; t->rss_shmem += p->rss_shmem;
        t->pss_anon += p->pss_anon; t->pss_file += p->pss_file;
        t->pss_kind[p->kind] += p->pss; t->rss_kind[p->kind] += p->rss;
        t->uss_kind[p->kind] += p->uss; t->swap_kind[p->kind] += p->swap;
        if (p->open_files > 0) t->open_files += (uint64_t)p->open_files;
        if (p->read_status & MS_READ_VANISHED) t->n_vanished++;
        if (p->read_status & MS_READ_ZOMBIE) t->n_zombie++;
        if (p->read_status & SNAP_DENIED_BITS) t->n_denied++;
        if (p->read_status & MS_READ_NO_ROLLUP) t->n_no_rollup++;
        if (!(p->read_status & ~(uint32_t)MS_READ_NO_ROLLUP)) t->n_full++;
        if ((p->read_status & MS_READ_DENIED_SMAPS) && !(p->read_status & MS_READ_VANISHED)) t->n_mem_unknown++;
    }
    for (int k = 0; k < 3; k++) t->all_kind[k] = t->by_kind[k] + s->omitted_kind[k];
    t->n_omitted = s->n_omitted;
    t->omitted_pss = s->omitted_pss;
    t->omitted_rss = s->omitted_rss;
}

static int cmp_growth(const void *a, const void *b)
{
    const snap_growth *x = a, *y = b;
    if (x->rated != y->rated) return y->rated - x->rated;
    if (x->rated && x->pss_mb_per_hour != y->pss_mb_per_hour) return x->pss_mb_per_hour < y->pss_mb_per_hour ? 1 : -1;
    if (!x->rated && x->d_pss != y->d_pss) return x->d_pss < y->d_pss ? 1 : -1;
    return (x->last->pid > y->last->pid) - (x->last->pid < y->last->pid);
}

int snap_series_build(const snap_file *f, snap_series *out)
{
    memset(out, 0, sizeof *out);
    if (!f->nsnaps) return 0;
    const snap *first = &f->snaps[0], *last = &f->snaps[f->nsnaps - 1];
    out->span_ns = last->wall_ns > first->wall_ns ? last->wall_ns - first->wall_ns : 0;
    snap_totals t0, t1;
    snap_totals_of(first, &t0);
    snap_totals_of(last, &t1);
    out->d_total_pss = (int64_t)(t1.pss + t1.omitted_pss) - (int64_t)(t0.pss + t0.omitted_pss);
    double hours = (double)out->span_ns / 3.6e12;
    if (hours > 0) out->total_mb_per_hour = (double)out->d_total_pss / 1048576.0 / hours;
    out->min_seen = (uint32_t)((f->nsnaps + 1) / 2);
    if (out->min_seen < 3) out->min_seen = f->nsnaps < 3 ? (uint32_t)f->nsnaps : 3;
    if (out->min_seen < 2) out->min_seen = 2;
    /* every process of any snapshot, once: (pid, starttime) seen for the
     * first time in snapshot k, traced through the later ones */
    size_t cap = 0;
    for (size_t k = 0; k < f->nsnaps; k++) cap += f->snaps[k].nprocs;
    out->g = calloc(cap ? cap : 1, sizeof *out->g);
    if (!out->g) return MS_ENOMEM;
    for (size_t k0 = 0; k0 < f->nsnaps; k0++) {
        const snap *s0 = &f->snaps[k0];
        for (size_t i = 0; i < s0->nprocs; i++) {
            const snap_proc *p = &s0->procs[i];
            if (!snap_proc_mem_known(p)) continue;
            int earlier = 0;
            for (size_t k = 0; k < k0 && !earlier; k++) {
                const snap_proc *q = snap_find_pid(&f->snaps[k], p->pid);
                earlier = q && q->starttime == p->starttime && snap_proc_mem_known(q);
            }
            if (earlier) continue;
            snap_growth *g = &out->g[out->n++];
            g->first = g->last = p;
            g->first_ns = g->last_ns = s0->wall_ns;
            double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
            for (size_t k = k0; k < f->nsnaps; k++) {
                const snap_proc *q = snap_find_pid(&f->snaps[k], p->pid);
                if (!q || q->starttime != p->starttime || !snap_proc_mem_known(q)) continue;
                g->seen++;
                g->last = q;
                g->last_ns = f->snaps[k].wall_ns;
                double x = (double)(f->snaps[k].wall_ns - first->wall_ns) / 3.6e12;   /* hours */
                double y = (double)q->pss / 1048576.0;                              /* MiB */
                n += 1; sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y;
            }
            g->d_pss = (int64_t)g->last->pss - (int64_t)g->first->pss;
            g->d_rss = (int64_t)g->last->rss - (int64_t)g->first->rss;
            g->d_uss = (int64_t)g->last->uss - (int64_t)g->first->uss;
            double vx = n * sxx - sx * sx, vy = n * syy - sy * sy, cxy = n * sxy - sx * sy;
            if (g->seen >= out->min_seen && vx > 0) {
                g->rated = 1;
                g->pss_mb_per_hour = cxy / vx;
                g->r2 = vy > 0 ? (cxy * cxy) / (vx * vy) : 0.0;
                if (g->r2 > 1) g->r2 = 1;
                if (!isfinite(g->r2)) g->r2 = 0;
            }
        }
    }
    if (out->n > 1) qsort(out->g, out->n, sizeof *out->g, cmp_growth);
    return 0;
}

void snap_series_free(snap_series *s)
{
    free(s->g);
    memset(s, 0, sizeof *s);
}

void snap_perm_str(uint32_t prot, char out[5])
{
    out[0] = prot & 1 ? 'r' : '-';
    out[1] = prot & 2 ? 'w' : '-';
    out[2] = prot & 4 ? 'x' : '-';
    out[3] = prot & 8 ? 's' : 'p';
    out[4] = 0;
}
