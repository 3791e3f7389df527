/*
 * Diff of two snapshots (the model behind msdiff's Markdown and JSON
 * reports). Processes are matched on the same boot by (pid, starttime) and
 * across boots by a key (exe path, normalized cmdline, user); several
 * instances of one key are aggregated (count, sums). Each matched pair gets
 * its memory deltas and its library changes (added, removed, resized on
 * disk, still mapped but deleted on disk since); libraries are also summed
 * over all processes so a library that grew everywhere shows as one cause.
 * Records of processes that vanished during the scan are not matched
 * (their data is partial) but counted. A process whose memory could not be
 * read (permission denied) on either side has an unknown memory delta: it
 * is kept out of the net change, the totals and the causes, and counted.
 * Restarts are found in both rules: under pid matching a removed and an
 * added process with the same (exe, cmdline, user) are paired; under key
 * matching an entry whose pids or start times changed was restarted.
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
    s->exe_flags |= p->exe_flags;
    if (!snap_proc_mem_known(p)) s->mem_unknown++;
    s->count++;
    s->pss += p->pss; s->uss += p->uss; s->rss += p->rss; s->swap += p->swap;
    s->pss_shmem += p->pss_shmem; s->rss_shmem += p->rss_shmem;
    s->threads += p->threads;
    if (p->exe_size > s->exe_size) s->exe_size = p->exe_size;
    if (p->open_files >= 0) s->open_files = (s->open_files < 0 ? 0 : s->open_files) + p->open_files;
    s->read_status |= p->read_status;
}

/* ---- library changes of one entry ------------------------------------------ */

typedef struct libv { snap_str path; uint64_t disk, pss, rss, mapped; uint32_t flags; } libv;

static int libv_cmp(const libv *a, const libv *b)
{
    int c = strcmp(a->path.p, b->path.p);
    if (c) return c;
    uint32_t x = a->flags & MS_LIB_DELETED, y = b->flags & MS_LIB_DELETED;
    return (x > y) - (x < y);
}

static int cmp_libv(const void *x, const void *y) { return libv_cmp(x, y); }

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
            v[m].mapped = l->mapped; v[m].flags = l->flags;
            m++;
        }
    qsort(v, m, sizeof *v, cmp_libv);
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u && !libv_cmp(&v[u - 1], &v[i])) {
            v[u - 1].pss += v[i].pss; v[u - 1].rss += v[i].rss; v[u - 1].mapped += v[i].mapped;
            v[u - 1].flags |= v[i].flags;
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
        int c = i >= la_n ? 1 : j >= lb_n ? -1 : libv_cmp(&la[i], &lb[j]);
        sd_lib *l = &e->libs[e->nlibs];
        memset(l, 0, sizeof *l);
        if (c <= 0) {
            l->path = la[i].path; l->flags_a = la[i].flags; l->disk_a = la[i].disk;
            l->pss_a = la[i].pss; l->rss_a = la[i].rss; l->mapped_a = la[i].mapped;
        }
        if (c >= 0) {
            l->path = lb[j].path; l->flags_b = lb[j].flags; l->disk_b = lb[j].disk;
            l->pss_b = lb[j].pss; l->rss_b = lb[j].rss; l->mapped_b = lb[j].mapped;
        }
        if (c < 0) { l->change = SD_LIB_REMOVED; e->nlibs++; i++; }
        else if (c > 0) {
            l->change = (l->flags_b & MS_LIB_DELETED) ? SD_LIB_DELETED : SD_LIB_ADDED;
            e->nlibs++; j++;
        } else {
            if (la[i].disk != lb[j].disk && la[i].disk && lb[j].disk) { l->change = SD_LIB_RESIZED; e->nlibs++; }
            i++; j++;
        }
    }
    /* a file mapped before and mapped deleted after: one "deleted" change
     * (the before side's file, the after side's mapping), not a removal
     * and an addition */
    for (size_t k = 0; k < e->nlibs; k++) {
        sd_lib *d = &e->libs[k];
        if (d->change != SD_LIB_DELETED || d->flags_a) continue;
        for (size_t r = 0; r < e->nlibs; r++) {
            sd_lib *o = &e->libs[r];
            if (o->change != SD_LIB_REMOVED || (o->flags_a & MS_LIB_DELETED) || strcmp(o->path.p, d->path.p)) continue;
            d->flags_a = o->flags_a; d->disk_a = o->disk_a; d->pss_a = o->pss_a; d->rss_a = o->rss_a;
            d->mapped_a = o->mapped_a;
            o->change = -1;
            break;
        }
    }
    size_t keep = 0;
    for (size_t k = 0; k < e->nlibs; k++) if (e->libs[k].change >= 0) e->libs[keep++] = e->libs[k];
    e->nlibs = keep;
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
            v[m].flags = l->flags;
            if (l->flags & MS_LIB_DELETED) v[m].disk = 0;
            m++;
        }
    qsort(v, m, sizeof *v, cmp_libv);
    uint64_t *pc = calloc(m + 1, sizeof *pc);
    if (!pc) { free(v); return NULL; }
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u && !strcmp(v[u - 1].path.p, v[i].path.p)) {
            v[u - 1].pss += v[i].pss; v[u - 1].rss += v[i].rss; pc[u - 1]++;
            if (!(v[i].flags & MS_LIB_DELETED) && v[i].disk > v[u - 1].disk) v[u - 1].disk = v[i].disk;
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
    if (d->nlibsums > 1) qsort(d->libsums, d->nlibsums, sizeof *d->libsums, cmp_libsum);
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

/* Paths of mappings that are never files on disk (shm segments, memfd,
 * DRM buffers): always shown as deleted, never a reason to restart. */
static int special_path(const char *p)
{
    static const char *const special[] = {"/dev/", "/SYSV", "/memfd:", "/[", "/anon_hugepage", "/drm"};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        if (!strncmp(p, special[i], strlen(special[i]))) return 1;
    return 0;
}

/* Whether the two sides of a matched entry are other processes (a restart):
 * a pid or start time of one side not on the other. */
static int pids_differ(const snap_proc *const *pa, size_t na, const snap_proc *const *pb, size_t nb)
{
    for (size_t i = 0; i < na; i++) {
        int found = 0;
        for (size_t j = 0; j < nb && !found; j++) found = pa[i]->pid == pb[j]->pid && pa[i]->starttime == pb[j]->starttime;
        if (!found) return 1;
    }
    return 0;
}

typedef struct rkey { char *key; sd_entry *e; } rkey;
static int cmp_rkey(const void *x, const void *y)
{
    const rkey *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    if (c) return c;
    const snap_proc *pa = a->e->b ? a->e->b : a->e->a, *pb = b->e->b ? b->e->b : b->e->a;
    return (pa->pid > pb->pid) - (pa->pid < pb->pid);
}

/* Pid matching: pair removed and added entries of one (exe, cmdline,
 * user) key as restarts, the k-th removed with the k-th added. */
static int pair_restarts(snap_diff *d)
{
    rkey *rem = calloc(d->n + 1, sizeof *rem), *add = calloc(d->n + 1, sizeof *add);
    size_t nr = 0, na = 0;
    int rc = 0;
    if (!rem || !add) { rc = MS_ENOMEM; goto out; }
    for (size_t i = 0; i < d->n; i++) {
        sd_entry *e = &d->e[i];
        if (e->status != SD_REMOVED && e->status != SD_ADDED) continue;
        const snap_proc *p = e->b ? e->b : e->a;
        if (p->kind == MS_PROC_KERNEL) continue;
        char *k = make_key(p, SD_RULE_KEY);
        if (!k) { rc = MS_ENOMEM; goto out; }
        if (e->status == SD_REMOVED) { rem[nr].key = k; rem[nr++].e = e; }
        else { add[na].key = k; add[na++].e = e; }
    }
    qsort(rem, nr, sizeof *rem, cmp_rkey);
    qsort(add, na, sizeof *add, cmp_rkey);
    for (size_t i = 0, j = 0; i < nr && j < na; ) {
        int c = strcmp(rem[i].key, add[j].key);
        if (c < 0) i++;
        else if (c > 0) j++;
        else {
            rem[i].e->restart_pair = add[j].e;
            add[j].e->restart_pair = rem[i].e;
            rem[i].e->restarted = add[j].e->restarted = 1;
            d->nrestarts++;
            i++; j++;
        }
    }
out:
    if (rem) for (size_t i = 0; i < nr; i++) free(rem[i].key);
    if (add) for (size_t i = 0; i < na; i++) free(add[i].key);
    free(rem); free(add);
    return rc;
}

int snap_diff_build(const snap *a, const snap *b, int rule, uint64_t threshold,
                    uint64_t files_threshold, snap_diff *d)
{
    memset(d, 0, sizeof *d);
    d->a = a; d->b = b; d->threshold = threshold; d->files_threshold = files_threshold;
    d->same_boot = a->boot_id.n && a->boot_id.n == b->boot_id.n && !memcmp(a->boot_id.p, b->boot_id.p, a->boot_id.n);
    d->rule = rule == SD_RULE_AUTO ? (d->same_boot ? SD_RULE_PID : SD_RULE_KEY) : rule;
    snap_totals_of(a, &d->ta);
    snap_totals_of(b, &d->tb);
    snap_memuse_of(a, &d->mem_a);
    snap_memuse_of(b, &d->mem_b);
    d->unknown_a = d->ta.n_mem_unknown;
    d->unknown_b = d->tb.n_mem_unknown;
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
        e->mem_unknown = e->before.mem_unknown || e->after.mem_unknown;
        if (!e->mem_unknown) {
            e->d_pss = sdelta(e->before.pss, e->after.pss);
            e->d_uss = sdelta(e->before.uss, e->after.uss);
            e->d_rss = sdelta(e->before.rss, e->after.rss);
            e->d_swap = sdelta(e->before.swap, e->after.swap);
            e->d_shmem = sdelta(e->before.pss_shmem, e->after.pss_shmem);
        }
        e->d_exe_size = n1 && n2 && e->before.exe_size && e->after.exe_size
                            ? sdelta(e->before.exe_size, e->after.exe_size) : 0;
        e->d_open_files = e->before.open_files >= 0 && e->after.open_files >= 0
                              ? e->after.open_files - e->before.open_files : 0;
        int facts = 0;
        if (n1 && n2) {
            e->exe_changed = e->a->exe.n != e->b->exe.n || memcmp(e->a->exe.p, e->b->exe.p, e->a->exe.n);
            e->exe_deleted = (e->after.exe_flags & MS_EXE_DELETED) && !(e->before.exe_flags & MS_EXE_DELETED) &&
                             !special_path(e->b->exe.p);
            if (d->rule == SD_RULE_KEY && e->kind != MS_PROC_KERNEL && pids_differ(ga, n1, gb, n2)) {
                e->restarted = 1;
                d->nrestarts++;
            }
            if (lib_changes(e, ga, n1, gb, n2)) { rc = MS_ENOMEM; goto out; }
            facts = e->nlibs || e->d_exe_size || e->exe_changed || e->exe_deleted || e->restarted ||
                    e->before.count != e->after.count ||
                    (e->d_open_files && uabs(e->d_open_files) >= files_threshold);
            int any = e->d_pss || e->d_uss || e->d_rss || e->d_swap || e->d_shmem || facts || e->d_open_files;
            e->status = any ? SD_CHANGED : SD_UNCHANGED;
        } else {
            e->status = n1 ? SD_REMOVED : SD_ADDED;
        }
        uint64_t mag = e->mem_unknown ? 0 : e->status == SD_ADDED ? e->after.pss
                     : e->status == SD_REMOVED ? e->before.pss : uabs(e->d_pss);
        e->folded = e->status == SD_UNCHANGED || mag < threshold;
        if (e->status == SD_CHANGED && e->folded && (facts || uabs(e->d_shmem) >= threshold))
            e->folded = 0;            /* facts are always shown */
        switch (e->status) {
        case SD_ADDED: d->nadded++; break;
        case SD_REMOVED: d->nremoved++; break;
        case SD_CHANGED:
            if (e->d_pss > 0) d->ngrew++; else if (e->d_pss < 0) d->nshrank++; else d->nchanged_other++;
            break;
        default: d->nunchanged++; break;
        }
        if (e->mem_unknown) { d->nunknown_entries++; }
        else {
            if (e->status != SD_ADDED) {
                d->known_pss_a += e->before.pss; d->known_uss_a += e->before.uss; d->known_rss_a += e->before.rss;
                d->known_swap_a += e->before.swap; d->known_shmem_a += e->before.pss_shmem;
                d->known_kind_a[e->kind] += e->before.pss;
            }
            if (e->status != SD_REMOVED) {
                d->known_pss_b += e->after.pss; d->known_uss_b += e->after.uss; d->known_rss_b += e->after.rss;
                d->known_swap_b += e->after.swap; d->known_shmem_b += e->after.pss_shmem;
                d->known_kind_b[e->kind] += e->after.pss;
            }
        }
        int64_t net = e->mem_unknown ? 0 : e->status == SD_ADDED ? (int64_t)e->after.pss
                    : e->status == SD_REMOVED ? -(int64_t)e->before.pss : e->d_pss;
        d->net_pss += net;
        if (e->folded) { d->fold[e->status][e->kind].count++; d->fold[e->status][e->kind].sum += net; }
    }
    if (d->rule == SD_RULE_PID && (rc = pair_restarts(d))) goto out;
    if (build_libsums(d)) { rc = MS_ENOMEM; goto out; }
    if ((rc = snap_stale_build(b, &d->stale, &d->nstale))) goto out;

    /* biggest causes: processes and libraries by |ΔPSS|, Shmem */
    sd_cause *all = calloc(d->n + 8, sizeof *all);
    if (!all) { rc = MS_ENOMEM; goto out; }
    size_t nc = 0;
    for (size_t k = 0; k < d->n; k++) {
        const sd_entry *e = &d->e[k];
        sd_cause c = { 0, e, NULL, 0 };
        if (e->mem_unknown) continue;
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
    snap_stale_free(d->stale, d->nstale);
    memset(d, 0, sizeof *d);
}

int snap_lib_is_stale(const snap_lib *l)
{
    if (!(l->flags & MS_LIB_DELETED) || special_path(l->path.p)) return 0;
    return (l->flags & MS_LIB_EXEC) || strstr(l->path.p, ".so") != NULL;
}

static int cmp_stale(const void *x, const void *y)
{
    const sd_stale *a = x, *b = y;
    int c = strcmp(a->p->name.p, b->p->name.p);
    if (c) return c;
    return (a->p->pid > b->p->pid) - (a->p->pid < b->p->pid);
}

int snap_stale_build(const snap *s, sd_stale **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sd_stale *v = calloc(s->nprocs + 1, sizeof *v);
    if (!v) return MS_ENOMEM;
    size_t m = 0;
    for (size_t i = 0; i < s->nprocs; i++) {
        const snap_proc *p = &s->procs[i];
        if (p->read_status & MS_READ_VANISHED) continue;
        size_t nl = 0;
        for (uint32_t k = 0; k < p->nlibs; k++) nl += snap_lib_is_stale(&p->libs[k]);
        int exe = (p->exe_flags & MS_EXE_DELETED) && !special_path(p->exe.p);
        if (!nl && !exe) continue;
        sd_stale *x = &v[m++];
        x->p = p;
        x->exe_deleted = exe;
        x->libs = calloc(nl + 1, sizeof *x->libs);
        if (!x->libs) { snap_stale_free(v, m); return MS_ENOMEM; }
        for (uint32_t k = 0; k < p->nlibs; k++)
            if (snap_lib_is_stale(&p->libs[k])) x->libs[x->nlibs++] = &p->libs[k];
    }
    qsort(v, m, sizeof *v, cmp_stale);
    *out = v;
    *n = m;
    return 0;
}

void snap_stale_free(sd_stale *v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i].libs);
    free(v);
}

static int cmp_entry_ptr(const void *x, const void *y)
{
    const sd_entry *a = *(const sd_entry *const *)x, *b = *(const sd_entry *const *)y;
    uint64_t ma = a->mem_unknown ? 0 : a->status == SD_ADDED ? a->after.pss : a->status == SD_REMOVED ? a->before.pss : uabs(a->d_pss);
    uint64_t mb = b->mem_unknown ? 0 : b->status == SD_ADDED ? b->after.pss : b->status == SD_REMOVED ? b->before.pss : uabs(b->d_pss);
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
