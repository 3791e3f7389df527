/*
 * JSON report of a heap trace diff (diff_report.json): every number in
 * exact bytes and counts. The inputs (file, program, pid, duration), the
 * summary counts (sites new / vanished / grew / shrank / unchanged) with the
 * net change in peak and leaked bytes, the totals before/after/delta/percent,
 * and every matched key sorted by impact with both sides, the deltas, a
 * "shown" flag (false = below --threshold, folded in the Markdown) and its
 * stack: "stack" is a node of the "stacks" table ([caller node or -1,
 * frame]), frames are in the "frames" table, so walking a node's callers
 * gives the full symbolized stack innermost first and the document grows
 * with the distinct stack nodes, not with sites x depth (version 2; in
 * version 1 every site carried its own frame list).
 */
#include "heap_diff.h"
#include "verdict.h"
#include "fmt.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static void num(cJSON *o, const char *k, double v) { cJSON_AddItemToObject(o, k, cJSON_CreateNumber(v)); }
#define U(o, k, v) num((o), (k), (double)(uint64_t)(v))
#define I(o, k, v) num((o), (k), (double)(int64_t)(v))

static cJSON *jstr(const char *s)
{
    char *c = ms_utf8_clean(s, strlen(s), ' ');
    cJSON *j = cJSON_CreateString(c ? c : "");
    free(c);
    return j;
}

static cJSON *change(uint64_t a, uint64_t b)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    U(o, "before", a);
    U(o, "after", b);
    I(o, "delta", (int64_t)(b - a));
    if (a) num(o, "percent", ms_pct_change(a, b));
    else cJSON_AddNullToObject(o, "percent");
    return o;
}

static cJSON *input(const char *file, const ms_heap *h, const ms_integrity *integ, ms_lang lang)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const ms_heap_info *in = ms_heap_get_info(h);
    const ms_heap_summary *s = ms_heap_get_summary(h);
    cJSON_AddItemToObject(o, "file", jstr(file));
    cJSON_AddItemToObject(o, "exe", jstr(in->exe));
    U(o, "pid", in->pid);
    U(o, "start_wall_ms", in->start_wall_ns / 1000000u);
    U(o, "duration_ms", s->end_time > s->first_time ? ms_heap_ticks_ms(h, s->end_time - s->first_time) : 0);
    U(o, "events", s->events);
    /* sampled traces (spec §8.8): the numbers are estimates */
    char note[400] = "";
    if (ms_heap_sampled(h)) ms_i18n_sampled_long(lang, ms_heap_sampled(h), note, sizeof note);
    cJSON_AddItemToObject(o, "mode", jstr(ms_heap_sampled(h) ? "sampled" : "full"));
    U(o, "sample_rate", ms_heap_sampled(h));
    cJSON_AddBoolToObject(o, "estimated", ms_heap_sampled(h) != 0);
    cJSON_AddItemToObject(o, "estimate_note", jstr(note));
    /* spec 8.5: "complete", "incomplete", "truncated" or "corrupt", and why */
    const char *word;
    char why[256];
    ms_verdict_text(why, sizeof why, &word, integ, MS_LANG_EN);
    cJSON_AddItemToObject(o, "integrity", jstr(word));
    cJSON_AddItemToObject(o, "integrity_message", jstr(why));
    return o;
}

static cJSON *side(const ms_hd_side *s)
{
    if (!s->sites) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    U(o, "peak_bytes", s->peak_bytes);
    U(o, "peak_allocations", s->peak_blocks);
    U(o, "leaked_bytes", s->leaked_bytes);
    U(o, "leaked_allocations", s->leaked_blocks);
    U(o, "allocated_bytes", s->allocated_bytes);
    U(o, "allocations", s->allocations);
    U(o, "temporary_allocations", s->temporary);
    U(o, "sites", s->sites);
    return o;
}

static cJSON *frame(const ms_hd_frame *f)
{
    cJSON *fr = cJSON_CreateObject();
    if (!fr) return NULL;
    if (f->symbolized) {
        cJSON_AddItemToObject(fr, "function", jstr(f->function));
        cJSON_AddItemToObject(fr, "file", jstr(f->file));
        U(fr, "line", f->line);
    } else {
        cJSON_AddNullToObject(fr, "function");
    }
    cJSON_AddItemToObject(fr, "module", jstr(f->module));
    char off[32];
    snprintf(off, sizeof off, "0x%llx", (unsigned long long)f->offset);
    cJSON_AddStringToObject(fr, f->module[0] ? "module_offset" : "address", off);
    return fr;
}

static cJSON *entry(const ms_hd_entry *e, uint64_t threshold)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "status", ms_hd_status_name(e->status));
    cJSON_AddBoolToObject(o, "shown", msdiff_heap_shown(e, threshold));
    cJSON_AddItemToObject(o, "before", side(&e->a));
    cJSON_AddItemToObject(o, "after", side(&e->b));
    cJSON *d = cJSON_AddObjectToObject(o, "delta");
    if (d) {
        I(d, "peak_bytes", e->d_peak);
        I(d, "peak_allocations", e->d_peak_blocks);
        I(d, "leaked_bytes", e->d_leaked);
        I(d, "leaked_allocations", e->d_leaked_blocks);
        I(d, "allocated_bytes", e->d_allocated);
        I(d, "allocations", e->d_allocations);
        I(d, "temporary_allocations", e->d_temporary);
    }
    if (e->stack == MS_HD_NONE) cJSON_AddNullToObject(o, "stack");
    else U(o, "stack", e->stack);
    U(o, "depth", e->depth);
    return o;
}

int msdiff_heap_json(FILE *f, const msdiff_heap_ctx *c)
{
    const ms_heapdiff *d = c->d;
    cJSON *r = cJSON_CreateObject();
    if (!r) return -1;
    cJSON_AddStringToObject(r, "format", "memscope-heap-diff");
    U(r, "version", 2);
    cJSON_AddItemToObject(r, "before", input(c->args->a, c->ha, &c->ia, c->args->lang));
    cJSON_AddItemToObject(r, "after", input(c->args->b, c->hb, &c->ib, c->args->lang));
    cJSON_AddStringToObject(r, "matching", "symbolized stack: function, file, line per frame (module + offset when unsymbolized); addresses ignored");
    U(r, "threshold", c->args->threshold);
    cJSON *s = cJSON_AddObjectToObject(r, "summary");
    if (s) {
        U(s, "sites_new", d->n_new);
        U(s, "sites_vanished", d->n_vanished);
        U(s, "sites_grew", d->n_grew);
        U(s, "sites_shrank", d->n_shrank);
        U(s, "sites_unchanged", d->n_unchanged);
        I(s, "peak_delta", (int64_t)(d->tb.peak_memory - d->ta.peak_memory));
        I(s, "leaked_delta", (int64_t)(d->tb.leaked_memory - d->ta.leaked_memory));
    }
    cJSON *t = cJSON_AddObjectToObject(r, "totals");
    if (t) {
        cJSON_AddItemToObject(t, "peak_memory", change(d->ta.peak_memory, d->tb.peak_memory));
        cJSON_AddItemToObject(t, "peak_allocations", change(d->ta.peak_blocks, d->tb.peak_blocks));
        cJSON_AddItemToObject(t, "leaked_memory", change(d->ta.leaked_memory, d->tb.leaked_memory));
        cJSON_AddItemToObject(t, "leaked_allocations", change(d->ta.leaked_blocks, d->tb.leaked_blocks));
        cJSON_AddItemToObject(t, "allocated_bytes", change(d->ta.allocated_bytes, d->tb.allocated_bytes));
        cJSON_AddItemToObject(t, "allocations", change(d->ta.allocations, d->tb.allocations));
        cJSON_AddItemToObject(t, "temporary_allocations", change(d->ta.temporary, d->tb.temporary));
        cJSON_AddItemToObject(t, "sites", change(d->ta.keys, d->tb.keys));
        cJSON_AddItemToObject(t, "events", change(d->ta.events, d->tb.events));
        cJSON_AddItemToObject(t, "duration_ms", change(d->ta.duration_ms, d->tb.duration_ms));
    }
    cJSON *arr = cJSON_AddArrayToObject(r, "sites");
    for (size_t i = 0; arr && i < d->nentries; i++) {
        cJSON *e = entry(&d->entries[i], c->args->threshold);
        if (!e) { cJSON_Delete(r); return -1; }
        cJSON_AddItemToArray(arr, e);
    }
    cJSON *fr = cJSON_AddArrayToObject(r, "frames");
    for (size_t i = 0; fr && i < d->nframes; i++) {
        cJSON *x = frame(&d->frames[i]);
        if (!x) { cJSON_Delete(r); return -1; }
        cJSON_AddItemToArray(fr, x);
    }
    cJSON *sn = cJSON_AddArrayToObject(r, "stacks");
    for (size_t i = 0; sn && i < d->nnodes; i++) {
        const ms_hd_node *n = &d->nodes[i];
        cJSON *x = cJSON_CreateArray();
        if (!x) { cJSON_Delete(r); return -1; }
        cJSON_AddItemToArray(x, cJSON_CreateNumber(n->parent == MS_HD_NONE ? -1 : (double)n->parent));
        cJSON_AddItemToArray(x, cJSON_CreateNumber((double)n->frame));
        cJSON_AddItemToArray(sn, x);
    }
    char *out = cJSON_PrintBuffered(r, 1 << 16, 1);
    cJSON_Delete(r);
    if (!out) return -1;
    fputs(out, f);
    fputc('\n', f);
    free(out);
    return ferror(f) ? -1 : 0;
}
