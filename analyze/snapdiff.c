/*
 * Diff of two snapshots (the model behind msdiff's Markdown and JSON
 * reports). Processes are matched on the same boot by (pid, starttime) and
 * across boots by a key (exe path, normalized cmdline, user); several
 * instances of one key are aggregated (count, sums). Each matched pair gets
 * its memory deltas and its library changes (added, removed, resized on
 * disk); libraries are also summed over all processes so a library that
 * grew everywhere shows as one cause. Records of processes that vanished
 * during the scan are not matched (their data is partial) but counted.
 */
#include "snapdiff.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t sdelta(uint64_t a, uint64_t b) { return (int64_t)b - (int64_t)a; }
static uint64_t uabs(int64_t v) { return v < 0 ? (uint64_t)-v : (uint64_t)v; }

/* ---- keys ------------------------------------------------------------------ */

static char *make_key(const snap_proc *p, int rule)
{
    if (rule == SD_RULE_PID) {
        char buf[64];
        snprintf(buf, sizeof buf, "%llu/%llu", (unsigned long long)p->pid, (unsigned long long)p->starttime);
        return strdup(buf);
    }
    size_t cap = p->exe.n + p->cmdline.n + p->name.n + p->user.n + 16;
    char *k = malloc(cap), *o = k;
    if (!k) return NULL;
    if (p->kind == MS_PROC_KERNEL || !p->exe.n) {
        /* kernel threads and unreadable exe: the name, digits folded */
        *o++ = '[';
        for (size_t i = 0; i < p->name.n; i++) {
            char c = p->name.p[i];
            if (c >= '0' && c <= '9') { if (o[-1] != '#') *o++ = '#'; }
            else *o++ = c;
        }
        *o++ = ']';
    } else {
        memcpy(o, p->exe.p, p->exe.n); o += p->exe.n;
    }
    *o++ = ' ';
    *o++ = '|';
    /* cmdline: argv[0] by its basename, arguments joined by single spaces */
    const char *c = p->cmdline.p, *end = p->cmdline.p + p->cmdline.n;
    int argi = 0;
    while (c < end) {
        const char *z = memchr(c, 0, (size_t)(end - c));
        if (!z) z = end;
        const char *s = c;
        if (argi == 0) { const char *sl = s; for (const char *q = s; q < z; q++) if (*q == '/') sl = q + 1; s = sl; }
        if (z > s) { *o++ = ' '; memcpy(o, s, (size_t)(z - s)); o += z - s; }
        argi++;
        c = z + 1;
    }
    *o++ = ' ';
    *o++ = '|';
    *o++ = ' ';
    memcpy(o, p->user.p, p->user.n); o += p->user.n;
    *o = 0;
    return k;
}

typedef struct kref { char *key; const snap_proc *p; } kref;

static int cmp_kref(const void *x, const void *y)
{
    const kref *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    if (c) return c;
    return (a->p->pid > b->p->pid) - (a->p->pid < b->p->pid);
}

static kref *keys_of(const snap *s, int rule, size_t *n, size_t *excluded)
{
    kref *k = calloc(s->nprocs + 1, sizeof *k);
    if (!k) return NULL;
    size_t m = 0;
    *excluded = 0;
    for (size_t i = 0; i < s->nprocs; i++) {
        if (s->procs[i].read_status & MS_READ_VANISHED) { (*excluded)++; continue; }
        k[m].p = &s->procs[i];
        k[m].key = make_key(&s->procs[i], rule);
        if (!k[m].key) { for (size_t j = 0; j < m; j++) free(k[j].key); free(k); return NULL; }
        m++;
    }
    qsort(k, m, sizeof *k, cmp_kref);
    *n = m;
    return k;
}

static void side_add(sd_side *s, const snap_proc *p)
{
    if (!s->count) s->open_files = -1;
    s->count++;
    s->pss += p->pss; s->uss += p->uss; s->rss += p->rss; s->swap += p->swap;
    s->pss_shmem += p->pss_shmem; s->rss_shmem += p->rss_shmem;
    s->threads += p->threads;
    if (p->exe_size > s->exe_size) s->exe_size = p->exe_size;
    if (p->open_files >= 0) s->open_files = (s->open_files < 0 ? 0 : s->open_files) + p->open_files;
    s->read_status |= p->read_status;
}

/* ---- library changes of one entry ------------------------------------------ */

typedef struct libv { snap_str path; uint64_t disk, pss, rss; } libv;

static int cmp_libv(const void *x, const void *y)
{
    return strcmp(((const libv *)x)->path.p, ((const libv *)y)->path.p);
}

/* Union of libraries over instances [p, p+n) of one side: sorted, unique. */
static libv *libs_union(const snap_proc *const *ps, size_t n, size_t *out_n)
{
    size_t tot = 0;
    for (size_t i = 0; i < n; i++) tot += ps[i]->nlibs;
    libv *v = calloc(tot + 1, sizeof *v);
    if (!v) return NULL;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < ps[i]->nlibs; j++) {
            const snap_lib *l = &ps[i]->libs[j];
            v[m].path = l->path; v[m].disk = l->disk_size; v[m].pss = l->pss; v[m].rss = l->rss;
            m++;
        }
    qsort(v, m, sizeof *v, cmp_libv);
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u && !strcmp(v[u - 1].path.p, v[i].path.p)) {
            v[u - 1].pss += v[i].pss; v[u - 1].rss += v[i].rss;
            if (v[i].disk > v[u - 1].disk) v[u - 1].disk = v[i].disk;
        } else v[u++] = v[i];
    }
    *out_n = u;
    return v;
}

static int lib_changes(sd_entry *e, const snap_proc *const *pa, size_t na,
                       const snap_proc *const *pb, size_t nb)
{
    size_t la_n = 0, lb_n = 0;
    libv *la = libs_union(pa, na, &la_n), *lb = libs_union(pb, nb, &lb_n);
    if (!la || !lb) { free(la); free(lb); return -1; }
    e->libs = calloc(la_n + lb_n + 1, sizeof *e->libs);
    if (!e->libs) { free(la); free(lb); return -1; }
    size_t i = 0, j = 0;
    while (i < la_n || j < lb_n) {
        int c = i >= la_n ? 1 : j >= lb_n ? -1 : strcmp(la[i].path.p, lb[j].path.p);
        sd_lib *l = &e->libs[e->nlibs];
        memset(l, 0, sizeof *l);
        if (c < 0) {
            l->path = la[i].path; l->change = SD_LIB_REMOVED;
            l->disk_a = la[i].disk; l->pss_a = la[i].pss; l->rss_a = la[i].rss;
            e->nlibs++; i++;
        } else if (c > 0) {
            l->path = lb[j].path; l->change = SD_LIB_ADDED;
            l->disk_b = lb[j].disk; l->pss_b = lb[j].pss; l->rss_b = lb[j].rss;
            e->nlibs++; j++;
        } else {
            if (la[i].disk != lb[j].disk && la[i].disk && lb[j].disk) {
                l->path = lb[j].path; l->change = SD_LIB_RESIZED;
                l->disk_a = la[i].disk; l->disk_b = lb[j].disk;
                l->pss_a = la[i].pss; l->pss_b = lb[j].pss; l->rss_a = la[i].rss; l->rss_b = lb[j].rss;
                e->nlibs++;
            }
            i++; j++;
        }
    }
    free(la); free(lb);
    return 0;
}

/* ---- library totals over all processes ----------------------------------- */

static libv *all_libs(const snap *s, size_t *n, uint64_t **procs_out)
{
    size_t tot = 0;
    for (size_t i = 0; i < s->nprocs; i++) tot += s->procs[i].nlibs;
    libv *v = calloc(tot + 1, sizeof *v);
    if (!v) return NULL;
    size_t m = 0;
    for (size_t i = 0; i < s->nprocs; i++)
        for (uint32_t j = 0; j < s->procs[i].nlibs; j++) {
            const snap_lib *l = &s->procs[i].libs[j];
            v[m].path = l->path; v[m].disk = l->disk_size; v[m].pss = l->pss; v[m].rss = l->rss;
            m++;
        }
    qsort(v, m, sizeof *v, cmp_libv);
    uint64_t *pc = calloc(m + 1, sizeof *pc);
    if (!pc) { free(v); return NULL; }
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u && !strcmp(v[u - 1].path.p, v[i].path.p)) {
            v[u - 1].pss += v[i].pss; v[u - 1].rss += v[i].rss; pc[u - 1]++;
            if (v[i].disk > v[u - 1].disk) v[u - 1].disk = v[i].disk;
        } else { v[u] = v[i]; pc[u] = 1; u++; }
    }
    *n = u;
    *procs_out = pc;
    return v;
}

static int cmp_libsum(const void *x, const void *y)
{
    const sd_libsum *a = x, *b = y;
    uint64_t ax = uabs(a->d_pss), bx = uabs(b->d_pss);
    if (ax != bx) return ax < bx ? 1 : -1;
    uint64_t pa = uabs((int64_t)a->procs_b - (int64_t)a->procs_a), pb = uabs((int64_t)b->procs_b - (int64_t)b->procs_a);
    if (pa != pb) return pa < pb ? 1 : -1;
    return strcmp(a->path.p, b->path.p);
}

static int build_libsums(snap_diff *d)
{
    size_t na = 0, nb = 0;
    uint64_t *pa = NULL, *pb = NULL;
    libv *la = all_libs(d->a, &na, &pa), *lb = all_libs(d->b, &nb, &pb);
    if (!la || !lb) { free(la); free(lb); free(pa); free(pb); return -1; }
    d->libsums = calloc(na + nb + 1, sizeof *d->libsums);
    if (!d->libsums) { free(la); free(lb); free(pa); free(pb); return -1; }
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        int c = i >= na ? 1 : j >= nb ? -1 : strcmp(la[i].path.p, lb[j].path.p);
        sd_libsum s;
        memset(&s, 0, sizeof s);
        if (c <= 0) { s.path = la[i].path; s.pss_a = la[i].pss; s.rss_a = la[i].rss; s.disk_a = la[i].disk; s.procs_a = pa[i]; }
        if (c >= 0) { s.path = lb[j].path; s.pss_b = lb[j].pss; s.rss_b = lb[j].rss; s.disk_b = lb[j].disk; s.procs_b = pb[j]; }
        if (c <= 0) i++;
        if (c >= 0) j++;
        s.d_pss = sdelta(s.pss_a, s.pss_b);
        d->libsums[d->nlibsums++] = s;
    }
    /* library RSS/PSS only count when both snapshots have them (taken with
     * --lib-memory); otherwise a side without them would look like 0 */
    int mem_a = 0, mem_b = 0;
    for (size_t k = 0; k < d->nlibsums; k++) {
        mem_a |= d->libsums[k].pss_a || d->libsums[k].rss_a;
        mem_b |= d->libsums[k].pss_b || d->libsums[k].rss_b;
    }
    d->has_lib_memory = mem_a && mem_b;
    size_t keep = 0;
    for (size_t k = 0; k < d->nlibsums; k++) {
        sd_libsum s = d->libsums[k];
        if (!d->has_lib_memory) { s.pss_a = s.pss_b = s.rss_a = s.rss_b = 0; s.d_pss = 0; }
        if (s.d_pss || s.disk_a != s.disk_b || s.procs_a != s.procs_b) d->libsums[keep++] = s;
    }
    d->nlibsums = keep;
    free(la); free(lb); free(pa); free(pb);
    qsort(d->libsums, d->nlibsums, sizeof *d->libsums, cmp_libsum);
    return 0;
}

/* ---- the diff --------------------------------------------------------------- */

static void set_cfg_str(sd_config *c, const char *field, snap_str a, snap_str b)
{
    c->field = field; c->before = a; c->after = b; c->is_number = 0;
    c->changed = a.n != b.n || memcmp(a.p, b.p, a.n) != 0;
}

static void set_cfg_num(sd_config *c, const char *field, uint64_t a, uint64_t b)
{
    c->field = field; c->nbefore = a; c->nafter = b; c->is_number = 1; c->changed = a != b;
}

static int cmp_cause(const void *x, const void *y)
{
    const sd_cause *a = x, *b = y;
    uint64_t ax = uabs(a->delta), bx = uabs(b->delta);
    return (ax < bx) - (ax > bx);
}

int snap_diff_build(const snap *a, const snap *b, int rule, uint64_t threshold, snap_diff *d)
{
    memset(d, 0, sizeof *d);
    d->a = a; d->b = b; d->threshold = threshold;
    d->same_boot = a->boot_id.n && a->boot_id.n == b->boot_id.n && !memcmp(a->boot_id.p, b->boot_id.p, a->boot_id.n);
    d->rule = rule == SD_RULE_AUTO ? (d->same_boot ? SD_RULE_PID : SD_RULE_KEY) : rule;
    snap_totals_of(a, &d->ta);
    snap_totals_of(b, &d->tb);
    d->shmem_a = snap_meminfo(a, "Shmem"); d->shmem_b = snap_meminfo(b, "Shmem");
    d->memtotal_a = snap_meminfo(a, "MemTotal"); d->memtotal_b = snap_meminfo(b, "MemTotal");
    d->memavail_a = snap_meminfo(a, "MemAvailable"); d->memavail_b = snap_meminfo(b, "MemAvailable");
    uint64_t st, sf;
    st = snap_meminfo(a, "SwapTotal"); sf = snap_meminfo(a, "SwapFree"); d->swapused_a = st > sf ? st - sf : 0;
    st = snap_meminfo(b, "SwapTotal"); sf = snap_meminfo(b, "SwapFree"); d->swapused_b = st > sf ? st - sf : 0;
    set_cfg_str(&d->config[d->nconfig++], "kernel", a->kernel, b->kernel);
    set_cfg_str(&d->config[d->nconfig++], "os_release", a->os_release, b->os_release);
    set_cfg_num(&d->config[d->nconfig++], "page_size", a->page_size, b->page_size);
    set_cfg_num(&d->config[d->nconfig++], "mem_total", d->memtotal_a, d->memtotal_b);
    set_cfg_num(&d->config[d->nconfig++], "swap_total", snap_meminfo(a, "SwapTotal"), snap_meminfo(b, "SwapTotal"));
    set_cfg_str(&d->config[d->nconfig++], "hostname", a->hostname, b->hostname);

    size_t na = 0, nb = 0;
    kref *ka = keys_of(a, d->rule, &na, &d->nexcluded_a);
    kref *kb = keys_of(b, d->rule, &nb, &d->nexcluded_b);
    const snap_proc **ga = calloc(na + 1, sizeof *ga), **gb = calloc(nb + 1, sizeof *gb);
    d->e = calloc(na + nb + 1, sizeof *d->e);
    int rc = 0;
    if (!ka || !kb || !ga || !gb || !d->e) { rc = MS_ENOMEM; goto out; }
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        int c = i >= na ? 1 : j >= nb ? -1 : strcmp(ka[i].key, kb[j].key);
        const char *key = c <= 0 ? ka[i].key : kb[j].key;
        size_t n1 = 0, n2 = 0;
        if (c <= 0) while (i < na && !strcmp(ka[i].key, key)) ga[n1++] = ka[i++].p;
        if (c >= 0) while (j < nb && !strcmp(kb[j].key, key)) gb[n2++] = kb[j++].p;
        sd_entry *e = &d->e[d->n++];
        e->key = strdup(key);
        if (!e->key) { rc = MS_ENOMEM; goto out; }
        for (size_t k = 0; k < n1; k++) side_add(&e->before, ga[k]);
        for (size_t k = 0; k < n2; k++) side_add(&e->after, gb[k]);
        if (!n1) e->before.open_files = -1;
        if (!n2) e->after.open_files = -1;
        e->a = n1 ? ga[0] : NULL;
        e->b = n2 ? gb[0] : NULL;
        const snap_proc *rep = e->b ? e->b : e->a;
        e->kind = rep->kind;
        e->name = rep->name; e->exe = rep->exe; e->user = rep->user;
        e->d_pss = sdelta(e->before.pss, e->after.pss);
        e->d_uss = sdelta(e->before.uss, e->after.uss);
        e->d_rss = sdelta(e->before.rss, e->after.rss);
        e->d_swap = sdelta(e->before.swap, e->after.swap);
        e->d_shmem = sdelta(e->before.pss_shmem, e->after.pss_shmem);
        e->d_exe_size = n1 && n2 && e->before.exe_size && e->after.exe_size
                            ? sdelta(e->before.exe_size, e->after.exe_size) : 0;
        e->d_open_files = e->before.open_files >= 0 && e->after.open_files >= 0
                              ? e->after.open_files - e->before.open_files : 0;
        if (n1 && n2) {
            e->exe_changed = e->a->exe.n != e->b->exe.n || memcmp(e->a->exe.p, e->b->exe.p, e->a->exe.n);
            if (lib_changes(e, ga, n1, gb, n2)) { rc = MS_ENOMEM; goto out; }
            int any = e->d_pss || e->d_uss || e->d_rss || e->d_swap || e->d_shmem || e->d_exe_size ||
                      e->d_open_files || e->nlibs || e->exe_changed || e->before.count != e->after.count;
            e->status = any ? SD_CHANGED : SD_UNCHANGED;
        } else {
            e->status = n1 ? SD_REMOVED : SD_ADDED;
        }
        uint64_t mag = e->status == SD_ADDED ? e->after.pss : e->status == SD_REMOVED ? e->before.pss : uabs(e->d_pss);
        e->folded = e->status == SD_UNCHANGED || mag < threshold;
        if (e->status == SD_CHANGED && e->folded && threshold &&
            (e->nlibs || e->d_exe_size || e->exe_changed || uabs(e->d_shmem) >= threshold))
            e->folded = 0;            /* structural changes are always shown */
        switch (e->status) {
        case SD_ADDED: d->nadded++; break;
        case SD_REMOVED: d->nremoved++; break;
        case SD_CHANGED:
            if (e->d_pss > 0) d->ngrew++; else if (e->d_pss < 0) d->nshrank++; else d->nchanged_other++;
            break;
        default: d->nunchanged++; break;
        }
        int64_t net = e->status == SD_ADDED ? (int64_t)e->after.pss
                    : e->status == SD_REMOVED ? -(int64_t)e->before.pss : e->d_pss;
        d->net_pss += net;
        if (e->folded) { d->fold[e->status][e->kind].count++; d->fold[e->status][e->kind].sum += net; }
    }
    if (build_libsums(d)) { rc = MS_ENOMEM; goto out; }

    /* biggest causes: processes and libraries by |ΔPSS|, Shmem */
    sd_cause *all = calloc(d->n + 8, sizeof *all);
    if (!all) { rc = MS_ENOMEM; goto out; }
    size_t nc = 0;
    for (size_t k = 0; k < d->n; k++) {
        const sd_entry *e = &d->e[k];
        sd_cause c = { 0, e, NULL, 0 };
        if (e->status == SD_ADDED) { c.type = SD_CAUSE_ADDED; c.delta = (int64_t)e->after.pss; }
        else if (e->status == SD_REMOVED) { c.type = SD_CAUSE_REMOVED; c.delta = -(int64_t)e->before.pss; }
        else if (e->status == SD_CHANGED && e->d_pss) { c.type = e->d_pss > 0 ? SD_CAUSE_GREW : SD_CAUSE_SHRANK; c.delta = e->d_pss; }
        else continue;
        if (uabs(c.delta) < threshold || !c.delta) continue;
        all[nc++] = c;
    }
    for (size_t k = 0; k < d->nlibsums && k < 3; k++) {
        const sd_libsum *l = &d->libsums[k];
        if (uabs(l->d_pss) < threshold || !l->d_pss || l->procs_b < 2) continue;
        sd_cause c = { SD_CAUSE_LIB, NULL, l, l->d_pss };
        all[nc++] = c;
    }
    int64_t dsh = sdelta(d->shmem_a, d->shmem_b);
    if (dsh && uabs(dsh) >= threshold) { sd_cause c = { SD_CAUSE_SHMEM, NULL, NULL, dsh }; all[nc++] = c; }
    qsort(all, nc, sizeof *all, cmp_cause);
    d->ncauses = nc < 5 ? nc : 5;
    memcpy(d->causes, all, d->ncauses * sizeof *all);
    free(all);
out:
    if (ka) for (size_t k = 0; k < na; k++) free(ka[k].key);
    if (kb) for (size_t k = 0; k < nb; k++) free(kb[k].key);
    free(ka); free(kb); free(ga); free(gb);
    if (rc) snap_diff_free(d);
    return rc;
}

void snap_diff_free(snap_diff *d)
{
    if (d->e)
        for (size_t i = 0; i < d->n; i++) { free(d->e[i].key); free(d->e[i].libs); }
    free(d->e);
    free(d->libsums);
    memset(d, 0, sizeof *d);
}

static int cmp_entry_ptr(const void *x, const void *y)
{
    const sd_entry *a = *(const sd_entry *const *)x, *b = *(const sd_entry *const *)y;
    uint64_t ma = a->status == SD_ADDED ? a->after.pss : a->status == SD_REMOVED ? a->before.pss : uabs(a->d_pss);
    uint64_t mb = b->status == SD_ADDED ? b->after.pss : b->status == SD_REMOVED ? b->before.pss : uabs(b->d_pss);
    if (ma != mb) return ma < mb ? 1 : -1;
    int c = strcmp(a->name.p, b->name.p);
    if (c) return c;
    return strcmp(a->key, b->key);
}

const sd_entry **snap_diff_section(const snap_diff *d, int status, int kind, size_t *n)
{
    const sd_entry **v = calloc(d->n + 1, sizeof *v);
    *n = 0;
    if (!v) return NULL;
    for (size_t i = 0; i < d->n; i++)
        if (d->e[i].status == status && (kind < 0 || (int)d->e[i].kind == kind)) v[(*n)++] = &d->e[i];
    qsort(v, *n, sizeof *v, cmp_entry_ptr);
    return v;
}
