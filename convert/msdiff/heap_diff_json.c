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
 *
 * Written as it goes, a site, a frame or a stack node a line: two cc1
 * traces give a 30 MB document, which as a cJSON tree took 310 MB and
 * most of msdiff's time. Integers are written exactly (64-bit, not
 * doubles); a percent as the shortest of %.15g / %.17g that reads back.
 */
#include "heap_diff.h"
#include "verdict.h"
#include "fmt.h"
#include "html_esc.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A string: invalid UTF-8 as spaces (as every report), then escaped. */
static void jstr(FILE *f, const char *s)
{
    char *c = ms_utf8_clean(s ? s : "", s ? strlen(s) : 0, ' ');
    ms_json_string(f, c ? c : "");
    free(c);
}

static void key(FILE *f, const char *pre, const char *k)
{
    fputs(pre, f);
    fputc('"', f);
    fputs(k, f);
    fputs("\": ", f);
}

static void ku(FILE *f, const char *pre, const char *k, uint64_t v) { key(f, pre, k); ms_fput_u64(f, "", v); }
static void ki(FILE *f, const char *pre, const char *k, int64_t v) { key(f, pre, k); ms_fput_i64(f, "", v); }
static void ks(FILE *f, const char *pre, const char *k, const char *s) { key(f, pre, k); jstr(f, s); }

static void pct(FILE *f, double v)
{
    char b[64];
    snprintf(b, sizeof b, "%1.15g", v);
    if (strtod(b, NULL) != v) snprintf(b, sizeof b, "%1.17g", v);
    fputs(v == v && v - v == 0 ? b : "null", f);    /* NaN, inf: null */
}

static void change(FILE *f, const char *pre, const char *k, uint64_t a, uint64_t b)
{
    key(f, pre, k);
    ku(f, "{", "before", a);
    ku(f, ", ", "after", b);
    ki(f, ", ", "delta", (int64_t)(b - a));
    key(f, ", ", "percent");
    if (a) pct(f, ms_pct_change(a, b));
    else fputs("null", f);
    fputc('}', f);
}

static void input(FILE *f, const char *k, const char *file, const ms_heap *h, const ms_integrity *integ,
                  ms_lang lang)
{
    const ms_heap_info *in = ms_heap_get_info(h);
    const ms_heap_summary *s = ms_heap_get_summary(h);
    key(f, ",\n  ", k);
    ks(f, "{", "file", file);
    ks(f, ", ", "exe", in->exe);
    ku(f, ", ", "pid", in->pid);
    ku(f, ", ", "start_wall_ms", in->start_wall_ns / 1000000u);
    ku(f, ", ", "duration_ms", s->end_time > s->first_time ? ms_heap_ticks_ms(h, s->end_time - s->first_time) : 0);
    ku(f, ", ", "events", s->events);
    /* sampled traces (spec §8.8): the numbers are estimates */
    char note[400] = "";
    if (ms_heap_sampled(h)) ms_i18n_sampled_long(lang, ms_heap_sampled(h), note, sizeof note);
    ks(f, ", ", "mode", ms_heap_sampled(h) ? "sampled" : "full");
    ku(f, ", ", "sample_rate", ms_heap_sampled(h));
    key(f, ", ", "estimated");
    fputs(ms_heap_sampled(h) ? "true" : "false", f);
    ks(f, ", ", "estimate_note", note);
    /* spec 8.5: "complete", "incomplete", "truncated" or "corrupt", and why */
    const char *word;
    char why[256];
    ms_verdict_text(why, sizeof why, &word, integ, MS_LANG_EN);
    ks(f, ", ", "integrity", word);
    ks(f, ", ", "integrity_message", why);
    fputc('}', f);
}

/* the numbers of a side, and of the delta between the sides */
static const char *const num_names[7] = {
    "peak_bytes", "peak_allocations", "leaked_bytes", "leaked_allocations",
    "allocated_bytes", "allocations", "temporary_allocations",
};

static void side(FILE *f, const char *k, const ms_hd_side *s)
{
    key(f, ", ", k);
    if (!s->sites) { fputs("null", f); return; }
    const uint64_t v[7] = { s->peak_bytes, s->peak_blocks, s->leaked_bytes, s->leaked_blocks,
                            s->allocated_bytes, s->allocations, s->temporary };
    for (int i = 0; i < 7; i++) ku(f, i ? ", " : "{", num_names[i], v[i]);
    ku(f, ", ", "sites", s->sites);
    fputc('}', f);
}

static void frame(FILE *f, const ms_hd_frame *fr)
{
    if (fr->symbolized) {
        ks(f, "{", "function", fr->function);
        ks(f, ", ", "file", fr->file);
        ku(f, ", ", "line", fr->line);
    } else {
        key(f, "{", "function");
        fputs("null", f);
    }
    ks(f, ", ", "module", fr->module);
    char off[32];
    snprintf(off, sizeof off, "0x%llx", (unsigned long long)fr->offset);
    ks(f, ", ", fr->module[0] ? "module_offset" : "address", off);
    fputc('}', f);
}

static void entry(FILE *f, const ms_hd_entry *e, uint64_t threshold)
{
    ks(f, "{", "status", ms_hd_status_name(e->status));
    key(f, ", ", "shown");
    fputs(msdiff_heap_shown(e, threshold) ? "true" : "false", f);
    side(f, "before", &e->a);
    side(f, "after", &e->b);
    const int64_t dv[7] = { e->d_peak, e->d_peak_blocks, e->d_leaked, e->d_leaked_blocks,
                            e->d_allocated, e->d_allocations, e->d_temporary };
    for (int i = 0; i < 7; i++) ki(f, i ? ", " : ", \"delta\": {", num_names[i], dv[i]);
    fputc('}', f);
    key(f, ", ", "stack");
    if (e->stack == MS_HD_NONE) fputs("null", f);
    else ms_fput_u64(f, "", e->stack);
    ku(f, ", ", "depth", e->depth);
    fputc('}', f);
}

int msdiff_heap_json(FILE *f, const msdiff_heap_ctx *c)
{
    const ms_heapdiff *d = c->d;
    ks(f, "{\n  ", "format", "memscope-heap-diff");
    ku(f, ",\n  ", "version", 2);
    input(f, "before", c->args->a, c->ha, &c->ia, c->args->lang);
    input(f, "after", c->args->b, c->hb, &c->ib, c->args->lang);
    ks(f, ",\n  ", "matching", "symbolized stack: function, file, line per frame (module + offset when unsymbolized); addresses ignored");
    ku(f, ",\n  ", "threshold", c->args->threshold);
    ku(f, ",\n  \"summary\": {", "sites_new", d->n_new);
    ku(f, ", ", "sites_vanished", d->n_vanished);
    ku(f, ", ", "sites_grew", d->n_grew);
    ku(f, ", ", "sites_shrank", d->n_shrank);
    ku(f, ", ", "sites_unchanged", d->n_unchanged);
    ki(f, ", ", "peak_delta", (int64_t)(d->tb.peak_memory - d->ta.peak_memory));
    ki(f, ", ", "leaked_delta", (int64_t)(d->tb.leaked_memory - d->ta.leaked_memory));
    fputs("},\n  \"totals\": {", f);
    change(f, "\n    ", "peak_memory", d->ta.peak_memory, d->tb.peak_memory);
    change(f, ",\n    ", "peak_allocations", d->ta.peak_blocks, d->tb.peak_blocks);
    change(f, ",\n    ", "leaked_memory", d->ta.leaked_memory, d->tb.leaked_memory);
    change(f, ",\n    ", "leaked_allocations", d->ta.leaked_blocks, d->tb.leaked_blocks);
    change(f, ",\n    ", "allocated_bytes", d->ta.allocated_bytes, d->tb.allocated_bytes);
    change(f, ",\n    ", "allocations", d->ta.allocations, d->tb.allocations);
    change(f, ",\n    ", "temporary_allocations", d->ta.temporary, d->tb.temporary);
    change(f, ",\n    ", "sites", d->ta.keys, d->tb.keys);
    change(f, ",\n    ", "events", d->ta.events, d->tb.events);
    change(f, ",\n    ", "duration_ms", d->ta.duration_ms, d->tb.duration_ms);
    fputs("},\n  \"sites\": [", f);
    for (size_t i = 0; i < d->nentries; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        entry(f, &d->entries[i], c->args->threshold);
    }
    fputs("],\n  \"frames\": [", f);
    for (size_t i = 0; i < d->nframes; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        frame(f, &d->frames[i]);
    }
    fputs("],\n  \"stacks\": [", f);
    for (size_t i = 0; i < d->nnodes; i++) {
        const ms_hd_node *n = &d->nodes[i];
        fputs(i % 16 ? ", [" : i ? ",\n    [" : "\n    [", f);
        if (n->parent == MS_HD_NONE) fputs("-1", f);
        else ms_fput_u64(f, "", n->parent);
        ms_fput_u64(f, ", ", n->frame);
        fputc(']', f);
    }
    fputs("]\n}\n", f);
    return ferror(f) ? -1 : 0;
}
