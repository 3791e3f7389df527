/*
 * JSON report of a snapshot diff (diff_report.json). It carries every number
 * of the Markdown report in exact bytes (no rounding): the summary counts
 * and net change, the causes, totals before/after/delta/percent, system
 * configuration, shared memory, library totals, read status, and every
 * added, removed and changed process with its library changes; folded
 * processes are included too (flag "folded"), so a script sees everything.
 * Processes whose memory could not be read carry "memory_unknown" and are
 * counted per side; the totals are over readable processes only (so their
 * delta is the net change). Also: the memory breakdown (MemTotal −
 * MemAvailable split into processes, shmem, kernel, page cache, reserve,
 * rest), restarts, and processes still using deleted files.
 */
#include "msdiff.h"
#include "snapdiff.h"
#include "fmt.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static cJSON *jstr(snap_str s)
{
    char *c = ms_utf8_clean(s.p, s.n, ' ');
    cJSON *j = cJSON_CreateString(c ? c : "");
    free(c);
    return j;
}

static void num(cJSON *o, const char *k, double v) { cJSON_AddItemToObject(o, k, cJSON_CreateNumber(v)); }
#define U(o, k, v) num((o), (k), (double)(uint64_t)(v))
#define I(o, k, v) num((o), (k), (double)(int64_t)(v))

static cJSON *change(uint64_t a, uint64_t b)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    U(o, "before", a);
    U(o, "after", b);
    num(o, "delta", b >= a ? (double)(b - a) : -(double)(a - b));   /* no int64 overflow for hostile values */
    if (a) num(o, "percent", ms_pct_change(a, b));
    else cJSON_AddNullToObject(o, "percent");
    return o;
}

static const char *kind_word(uint32_t k) { return k == MS_PROC_KERNEL ? "kernel" : k == MS_PROC_SYSTEM ? "system" : "user"; }

static cJSON *side(const sd_side *s, const snap_proc *p)
{
    if (!s->count) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    U(o, "instances", s->count);
    U(o, "pid", p->pid);
    U(o, "starttime", p->starttime);
    U(o, "pss", s->pss); U(o, "uss", s->uss); U(o, "rss", s->rss); U(o, "swap", s->swap);
    U(o, "pss_shmem", s->pss_shmem); U(o, "rss_shmem", s->rss_shmem);
    U(o, "exe_size", s->exe_size); U(o, "threads", s->threads);
    if (s->open_files >= 0) I(o, "open_files", s->open_files);
    else cJSON_AddNullToObject(o, "open_files");
    U(o, "read_status", s->read_status);
    cJSON_AddItemToObject(o, "exe", jstr(p->exe));
    cJSON *cmd = cJSON_CreateArray();
    const char *c = p->cmdline.p, *end = p->cmdline.p + p->cmdline.n;
    while (cmd && c < end) {
        const char *z = memchr(c, 0, (size_t)(end - c));
        if (!z) z = end;
        snap_str arg = { c, (size_t)(z - c) };
        cJSON_AddItemToArray(cmd, jstr(arg));
        c = z + 1;
    }
    cJSON_AddItemToObject(o, "cmdline", cmd);
    return o;
}

static cJSON *entry(const sd_entry *e)
{
    static const char *const st[] = {"added", "removed", "changed", "unchanged"};
    static const char *const lc[] = {"added", "removed", "resized", "deleted"};
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "status", st[e->status]);
    cJSON_AddStringToObject(o, "kind", kind_word(e->kind));
    cJSON_AddItemToObject(o, "name", jstr(e->name));
    cJSON_AddItemToObject(o, "user", jstr(e->user));
    snap_str key = { e->key, strlen(e->key) };
    cJSON_AddItemToObject(o, "key", jstr(key));
    cJSON_AddBoolToObject(o, "folded", e->folded);
    cJSON_AddBoolToObject(o, "memory_unknown", e->mem_unknown);
    cJSON_AddBoolToObject(o, "restarted", e->restarted);
    if (e->restart_pair) {
        const sd_entry *o2 = e->restart_pair;
        U(o, "restart_pid", (o2->b ? o2->b : o2->a)->pid);
    }
    cJSON_AddBoolToObject(o, "exe_deleted", e->exe_deleted);
    cJSON_AddItemToObject(o, "before", side(&e->before, e->a));
    cJSON_AddItemToObject(o, "after", side(&e->after, e->b));
    cJSON *d = e->mem_unknown ? NULL : cJSON_AddObjectToObject(o, "delta");
    if (e->mem_unknown) {
        d = cJSON_AddObjectToObject(o, "delta");
        if (d) {
            cJSON_AddNullToObject(d, "pss"); cJSON_AddNullToObject(d, "uss"); cJSON_AddNullToObject(d, "rss");
            cJSON_AddNullToObject(d, "swap"); cJSON_AddNullToObject(d, "pss_shmem");
            I(d, "exe_size", e->d_exe_size); I(d, "open_files", e->d_open_files);
        }
    } else if (d) {
        I(d, "pss", e->d_pss); I(d, "uss", e->d_uss); I(d, "rss", e->d_rss); I(d, "swap", e->d_swap);
        I(d, "pss_shmem", e->d_shmem); I(d, "exe_size", e->d_exe_size); I(d, "open_files", e->d_open_files);
    }
    cJSON_AddBoolToObject(o, "exe_changed", e->exe_changed);
    cJSON *libs = cJSON_AddArrayToObject(o, "library_changes");
    for (size_t i = 0; libs && i < e->nlibs; i++) {
        const sd_lib *l = &e->libs[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddItemToObject(x, "path", jstr(l->path));
        cJSON_AddStringToObject(x, "change", lc[l->change]);
        U(x, "disk_size_before", l->disk_a); U(x, "disk_size_after", l->disk_b);
        I(x, "disk_size_delta", (int64_t)l->disk_b - (int64_t)l->disk_a);
        U(x, "pss_before", l->pss_a); U(x, "pss_after", l->pss_b);
        U(x, "rss_before", l->rss_a); U(x, "rss_after", l->rss_b);
        U(x, "mapped_before", l->mapped_a); U(x, "mapped_after", l->mapped_b);
        cJSON_AddBoolToObject(x, "deleted_before", (l->flags_a & MS_LIB_DELETED) != 0);
        cJSON_AddBoolToObject(x, "deleted_after", (l->flags_b & MS_LIB_DELETED) != 0);
        cJSON_AddItemToArray(libs, x);
    }
    return o;
}

static cJSON *snapinfo(const snap *s, const snap_totals *t, const char *file)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "file", file);
    cJSON_AddItemToObject(o, "label", jstr(s->label));
    cJSON_AddStringToObject(o, "time", ms_fmt_time_iso(MS_FBUF, s->wall_ns));
    U(o, "wall_ms", s->wall_ns / 1000000);
    cJSON_AddItemToObject(o, "hostname", jstr(s->hostname));
    cJSON_AddItemToObject(o, "kernel", jstr(s->kernel));
    cJSON_AddItemToObject(o, "os_release", jstr(s->os_release));
    cJSON_AddItemToObject(o, "boot_id", jstr(s->boot_id));
    U(o, "page_size", s->page_size);
    U(o, "processes", t->nprocs + t->n_omitted);
    U(o, "processes_recorded", t->nprocs);
    cJSON_AddStringToObject(o, "privilege", s->privilege == MS_PRIV_ROOT ? "root" : s->privilege == MS_PRIV_USER ? "user" : "unknown");
    U(o, "processes_memory_unknown", t->n_mem_unknown);
    cJSON *k = cJSON_AddObjectToObject(o, "processes_by_kind");
    if (k) { U(k, "kernel", t->all_kind[0]); U(k, "system", t->all_kind[1]); U(k, "user", t->all_kind[2]); }
    cJSON *rs = cJSON_AddObjectToObject(o, "read_status");
    if (rs) {
        U(rs, "complete", t->n_full); U(rs, "vanished", t->n_vanished); U(rs, "zombie", t->n_zombie);
        U(rs, "denied", t->n_denied); U(rs, "no_smaps_rollup", t->n_no_rollup);
        U(rs, "omitted", t->n_omitted); U(rs, "omitted_pss", t->omitted_pss); U(rs, "omitted_rss", t->omitted_rss);
    }
    return o;
}

int msdiff_snapshot_json(FILE *f, const snap_diff *d, const msdiff_args *args)
{
    cJSON *r = cJSON_CreateObject();
    if (!r) return -1;
    cJSON_AddStringToObject(r, "format", "memscope-snapshot-diff");
    cJSON_AddStringToObject(r, "version", MS_VERSION_STRING);
    cJSON_AddStringToObject(r, "units", "bytes");
    cJSON_AddStringToObject(r, "match_rule", d->rule == SD_RULE_PID ? "pid_starttime" : "exe_cmdline_user");
    cJSON_AddBoolToObject(r, "match_rule_forced", args->match != SD_RULE_AUTO);
    cJSON_AddBoolToObject(r, "same_boot", d->same_boot);
    U(r, "threshold", d->threshold);
    cJSON_AddItemToObject(r, "before", snapinfo(d->a, &d->ta, args->a));
    cJSON_AddItemToObject(r, "after", snapinfo(d->b, &d->tb, args->b));
    uint64_t pa = d->known_pss_a + d->ta.omitted_pss, pb = d->known_pss_b + d->tb.omitted_pss;
    cJSON *s = cJSON_AddObjectToObject(r, "summary");
    if (s) {
        U(s, "memory_unknown_before", d->unknown_a); U(s, "memory_unknown_after", d->unknown_b);
        U(s, "memory_unknown_entries", d->nunknown_entries);
        U(s, "restarts", d->nrestarts); U(s, "processes_using_deleted_files", d->nstale);
        U(s, "files_threshold", d->files_threshold);
    }
    if (s) {
        U(s, "added", d->nadded); U(s, "removed", d->nremoved); U(s, "grew", d->ngrew); U(s, "shrank", d->nshrank);
        U(s, "changed_other", d->nchanged_other); U(s, "unchanged", d->nunchanged);
        U(s, "vanished_not_matched_before", d->nexcluded_a); U(s, "vanished_not_matched_after", d->nexcluded_b);
        I(s, "net_pss", (int64_t)pb - (int64_t)pa);
        I(s, "net_pss_matched", d->net_pss);
        if (pa) num(s, "net_pss_percent", ms_pct_change(pa, pb));
        else cJSON_AddNullToObject(s, "net_pss_percent");
    }
    static const char *const ct[] = {"process_added", "process_removed", "process_grew", "process_shrank", "library", "shmem"};
    cJSON *ca = cJSON_AddArrayToObject(r, "causes");
    for (size_t i = 0; ca && i < d->ncauses; i++) {
        const sd_cause *c = &d->causes[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", ct[c->type]);
        I(o, "pss_delta", c->delta);
        if (c->entry) {
            cJSON_AddItemToObject(o, "name", jstr(c->entry->name));
            U(o, "pid", (c->entry->b ? c->entry->b : c->entry->a)->pid);
            cJSON_AddStringToObject(o, "kind", kind_word(c->entry->kind));
        }
        if (c->lib) {
            cJSON_AddItemToObject(o, "path", jstr(c->lib->path));
            U(o, "processes_before", c->lib->procs_a); U(o, "processes_after", c->lib->procs_b);
        }
        cJSON_AddItemToArray(ca, o);
    }
    cJSON *t = cJSON_AddObjectToObject(r, "totals");
    if (t) {
        cJSON_AddBoolToObject(t, "readable_processes_only", d->unknown_a || d->unknown_b);
        cJSON_AddItemToObject(t, "pss", change(pa, pb));
        cJSON_AddItemToObject(t, "uss", change(d->known_uss_a, d->known_uss_b));
        cJSON_AddItemToObject(t, "rss_summed", change(d->known_rss_a + d->ta.omitted_rss, d->known_rss_b + d->tb.omitted_rss));
        cJSON_AddItemToObject(t, "swap", change(d->known_swap_a, d->known_swap_b));
        cJSON_AddItemToObject(t, "system_swap_used", change(d->swapused_a, d->swapused_b));
        cJSON_AddItemToObject(t, "mem_available", change(d->memavail_a, d->memavail_b));
        cJSON_AddItemToObject(t, "pss_system", change(d->known_kind_a[1], d->known_kind_b[1]));
        cJSON_AddItemToObject(t, "pss_user", change(d->known_kind_a[2], d->known_kind_b[2]));
    }
    if (d->mem_a.have && d->mem_b.have) {
        cJSON *mb = cJSON_AddObjectToObject(r, "memory_breakdown");
        if (mb) {
            cJSON_AddItemToObject(mb, "used", change(d->mem_a.used, d->mem_b.used));
            cJSON_AddBoolToObject(mb, "zoneinfo", d->mem_a.have_zone && d->mem_b.have_zone);
            static const char *const gw[] = {"processes", "shmem", "kernel", "page_cache", "reserve", "rest"};
            cJSON *rows = cJSON_AddArrayToObject(mb, "rows");
            for (int k = 0; rows && k < SM_NROWS; k++) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "key", snap_memrow_key(k));
                cJSON_AddStringToObject(o, "group", gw[snap_memrow_group(k)]);
                I(o, "before", d->mem_a.row[k]); I(o, "after", d->mem_b.row[k]);
                I(o, "delta", d->mem_b.row[k] - d->mem_a.row[k]);
                cJSON_AddItemToArray(rows, o);
            }
            cJSON_AddItemToObject(mb, "processes_pss", change(d->mem_a.proc_pss, d->mem_b.proc_pss));
            cJSON_AddItemToObject(mb, "cached", change(d->mem_a.cached, d->mem_b.cached));
        }
    }
    cJSON *rsa = cJSON_AddArrayToObject(r, "restarts");
    for (size_t i = 0; rsa && i < d->n; i++) {
        const sd_entry *e = &d->e[i], *o2 = e->restart_pair;
        if (!e->restarted || e->status == SD_ADDED) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "name", jstr(e->name));
        U(o, "pid_before", e->a->pid); U(o, "pid_after", (o2 ? o2->b : e->b)->pid);
        U(o, "starttime_before", e->a->starttime); U(o, "starttime_after", (o2 ? o2->b : e->b)->starttime);
        cJSON_AddItemToArray(rsa, o);
    }
    cJSON *sta = cJSON_AddArrayToObject(r, "processes_using_deleted_files");
    for (size_t i = 0; sta && i < d->nstale; i++) {
        const sd_stale *x = &d->stale[i];
        cJSON *o = cJSON_CreateObject();
        U(o, "pid", x->p->pid);
        cJSON_AddItemToObject(o, "name", jstr(x->p->name));
        cJSON_AddItemToObject(o, "user", jstr(x->p->user));
        cJSON_AddItemToObject(o, "exe", jstr(x->p->exe));
        cJSON_AddBoolToObject(o, "exe_deleted", x->exe_deleted);
        cJSON *la = cJSON_AddArrayToObject(o, "libraries");
        for (size_t j = 0; la && j < x->nlibs; j++) {
            cJSON *l = cJSON_CreateObject();
            cJSON_AddItemToObject(l, "path", jstr(x->libs[j]->path));
            U(l, "mapped", x->libs[j]->mapped);
            U(l, "disk_size", x->libs[j]->disk_size);
            cJSON_AddItemToArray(la, l);
        }
        cJSON_AddItemToArray(sta, o);
    }
    cJSON *cfg = cJSON_AddArrayToObject(r, "system_config");
    for (size_t i = 0; cfg && i < d->nconfig; i++) {
        const sd_config *c = &d->config[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "field", c->field);
        if (c->is_number) { U(o, "before", c->nbefore); U(o, "after", c->nafter); }
        else { cJSON_AddItemToObject(o, "before", jstr(c->before)); cJSON_AddItemToObject(o, "after", jstr(c->after)); }
        cJSON_AddBoolToObject(o, "changed", c->changed);
        cJSON_AddItemToArray(cfg, o);
    }
    cJSON *sh = cJSON_AddObjectToObject(r, "shared_memory");
    if (sh) {
        cJSON_AddItemToObject(sh, "meminfo_shmem", change(d->shmem_a, d->shmem_b));
        cJSON_AddItemToObject(sh, "pss_shmem", change(d->ta.pss_shmem, d->tb.pss_shmem));
        cJSON_AddItemToObject(sh, "rss_shmem", change(d->ta.rss_shmem, d->tb.rss_shmem));
    }
    cJSON *ls = cJSON_AddArrayToObject(r, "libraries");
    for (size_t i = 0; ls && i < d->nlibsums; i++) {
        const sd_libsum *l = &d->libsums[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "path", jstr(l->path));
        U(o, "processes_before", l->procs_a); U(o, "processes_after", l->procs_b);
        cJSON_AddItemToObject(o, "pss", change(l->pss_a, l->pss_b));
        cJSON_AddItemToObject(o, "rss", change(l->rss_a, l->rss_b));
        U(o, "disk_size_before", l->disk_a); U(o, "disk_size_after", l->disk_b);
        cJSON_AddItemToArray(ls, o);
    }
    static const char *const secs[] = {"added", "removed", "changed"};
    static const char *const kinds[] = {"kernel", "system", "user"};
    for (int st = 0; st < 3; st++) {
        cJSON *sec = cJSON_AddObjectToObject(r, secs[st]);
        for (int k = 0; sec && k < 3; k++) {
            size_t n;
            const sd_entry **v = snap_diff_section(d, st, k, &n);
            if (!v) { cJSON_Delete(r); return -1; }
            cJSON *g = cJSON_AddObjectToObject(sec, kinds[k]);
            int64_t sum = 0;
            for (size_t i = 0; i < n; i++)
                sum += st == SD_ADDED ? (int64_t)v[i]->after.pss : st == SD_REMOVED ? -(int64_t)v[i]->before.pss : v[i]->d_pss;
            U(g, "count", n);
            I(g, "pss_delta", sum);
            U(g, "folded_count", d->fold[st][k].count);
            I(g, "folded_pss_delta", d->fold[st][k].sum);
            cJSON *arr = cJSON_AddArrayToObject(g, "processes");
            for (size_t i = 0; arr && i < n; i++) cJSON_AddItemToArray(arr, entry(v[i]));
            free(v);
        }
    }
    U(r, "unchanged", d->nunchanged);
    char *out = cJSON_PrintBuffered(r, 1 << 16, 1);
    cJSON_Delete(r);
    if (!out) return -1;
    fputs(out, f);
    fputc('\n', f);
    free(out);
    return ferror(f) ? -1 : 0;
}
