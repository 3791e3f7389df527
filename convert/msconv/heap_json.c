/*
 * msconv --json for heap traces: the heap models of analyze/heap.h as one
 * JSON document (version 2)
 *   {"summary": {...}, "allocations": [...], "sites": [...],
 *    "threads": [...], "frames": [...], "stacks": [...], "integrity": {...}}
 * with bytes and milliseconds as integers. Allocations follow the
 * AllocationInfo shape users know (ptr, size, thread_id, timestamp_alloc,
 * timestamp_dealloc, lifetime_ms, is_leaked, var_name, type_name);
 * lifetime_ms is never null: a block live at the end lives until the end
 * of the trace. Stacks are interned (analyze/stacktab.h): an allocation or
 * site names its stack by "stack", a node of "stacks" ([caller node or -1,
 * frame]), frames are objects of "frames"; so the document grows with the
 * distinct stacks shown, not with rows x depth (version 1 repeated every
 * frame in every row: 2 GB for a trace of 262,000 stacks).
 * All allocations are listed when there are at most 10000, else the --top
 * N largest (default 1000); sites the same way (the N with the most bytes
 * at the peak, then allocated); --events lists every allocation, streamed
 * from a second replay of the file so memory stays O(live blocks) instead
 * of O(allocations). The document is written piece by piece, never built
 * in memory. A sampled trace (spec §8.8) has estimated numbers: the
 * summary says so ("estimated", "estimate_note" in the --lang language),
 * and each listed allocation, a recorded one, carries its "weight" (the
 * allocations it stands for, 1/p).
 */
#include "views.h"
#include "outfile.h"
#include "fmt.h"
#include "heap.h"
#include "i18n.h"
#include "stacktab.h"
#include "sitepath.h"
#include "timerange.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ALL_LIMIT 10000

typedef struct arec {
    uint64_t addr, size, t_alloc, t_free, tid, seq;
    uint32_t site, leak_class;
    uint8_t op, freed, temporary;
    const char *var, *type;
} arec;

typedef struct collect {
    arec *v; size_t n, cap;
    uint64_t total;
    int topmode;
    size_t top;
    int oom;
} collect;

/* "worse" for the top-N min-heap: smaller, or as large but later */
static int worse_than(uint64_t size_a, uint64_t seq_a, uint64_t size_b, uint64_t seq_b)
{
    return size_a < size_b || (size_a == size_b && seq_a > seq_b);
}

static int worse(const arec *a, const arec *b) { return worse_than(a->size, a->seq, b->size, b->seq); }

static void sift_down(arec *v, size_t n, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && worse(&v[c + 1], &v[c])) c++;
        if (!worse(&v[c], &v[i])) return;
        arec t = v[c]; v[c] = v[i]; v[i] = t;
        i = c;
    }
}

static int cmp_top(const void *x, const void *y)
{
    const arec *a = x, *b = y;
    if (a->size != b->size) return a->size > b->size ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_seq(const void *x, const void *y)
{
    const arec *a = x, *b = y;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void to_arec(arec *r, const ms_heap_block *b)
{
    r->addr = b->addr; r->size = b->size; r->t_alloc = b->t_alloc; r->t_free = b->t_free;
    r->tid = b->tid; r->seq = b->seq; r->site = b->site; r->leak_class = b->leak_class;
    r->op = b->op; r->freed = b->freed; r->temporary = b->temporary;
    r->var = b->var_name; r->type = b->type_name;
}

static void on_block_collect(void *ctx, const ms_heap_block *b)
{
    collect *c = ctx;
    c->total++;
    if (c->oom) return;
    /* a full top-N heap: most blocks lose to its smallest; not copied */
    if (c->topmode && c->top && c->n == c->top && !worse_than(c->v[0].size, c->v[0].seq, b->size, b->seq))
        return;
    arec r;
    to_arec(&r, b);
    if (c->topmode) {
        if (!c->top) return;
        if (c->n < c->top) {
            c->v[c->n++] = r;
            if (c->n == c->top)
                for (size_t i = c->n / 2; i-- > 0;) sift_down(c->v, c->n, i);
        } else if (worse(&c->v[0], &r)) {
            c->v[0] = r;
            sift_down(c->v, c->n, 0);
        }
        return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        arec *v = realloc(c->v, cap * sizeof *v);
        if (!v) { c->oom = 1; return; }
        c->v = v; c->cap = cap;
    }
    c->v[c->n++] = r;
    if (c->n > ALL_LIMIT) {
        /* too many for "all": keep the top N by size from now on */
        qsort(c->v, c->n, sizeof *c->v, cmp_top);
        c->topmode = 1;
        if (c->n > c->top) c->n = c->top;
        if (c->n == c->top)
            for (size_t i = c->n / 2; i-- > 0;) sift_down(c->v, c->n, i);
    }
}

/* ---- writing ---- */
typedef struct writer {
    FILE *fp;
    const ms_heap *h;           /* the model whose sites/symbols we name  */
    ms_stacktab *st;            /* stacks named so far                    */
    int oom;
    uint64_t written;
} writer;

static const char *leak_class_name(uint32_t c)
{
    switch (c) {
    case MS_LEAK_REACHABLE: return "reachable";
    case MS_LEAK_DEFINITE: return "definite";
    case MS_LEAK_INDIRECT: return "indirect";
    case MS_LEAK_POSSIBLE: return "possible";
    case MS_LEAK_LIBC: return "libc";
    default: return "unknown";
    }
}

/* "stack": the node of stack_id in the stack table, or null. */
static void put_stack(writer *w, uint64_t stack_id)
{
    uint32_t node;
    if (ms_stacktab_node_of(w->st, stack_id, &node)) { w->oom = 1; node = MS_STACKTAB_NONE; }
    if (node == MS_STACKTAB_NONE) fputs("\"stack\": null", w->fp);
    else fprintf(w->fp, "\"stack\": %" PRIu32, node);
}

static void put_opt_str(FILE *fp, const char *s)
{
    if (s) msconv_json_str(fp, s, strlen(s));
    else fputs("null", fp);
}

/* One allocation object. The numbers and fixed words go through a line
 * buffer (ms_put_field) and one fwrite: with --events this runs once per
 * allocation (7 M on python3), where a dozen printf calls a line cost more
 * than the replay. Labels (rare) are escaped by msconv_json_str. */
static void write_alloc(writer *w, const arec *r, int comma)
{
    FILE *fp = w->fp;
    const ms_heap *h = w->h;
    uint64_t ta = ms_heap_ticks_ms(h, r->t_alloc), tf = ms_heap_ticks_ms(h, r->t_free);
    char line[512];
    char *p = line;
#define PUT(lit) (memcpy(p, lit, sizeof lit - 1), p += sizeof lit - 1)
    if (comma) *p++ = ',';
    p = ms_put_field(p, "\n    {\"ptr\": ", r->addr);
    p = ms_put_field(p, ", \"size\": ", r->size);
    PUT(", \"kind\": \"");
    const char *op = ms_op_name(r->op);
    size_t k = strlen(op);
    memcpy(p, op, k);
    p += k;
    p = ms_put_field(p, "\", \"thread_id\": ", r->tid);
    p = ms_put_field(p, ", \"timestamp_alloc\": ", ta);
    PUT(", \"timestamp_dealloc\": ");
    if (r->freed) p = ms_put_u64(p, tf);
    else PUT("null");
    if (ms_heap_sampled(h))
        p += snprintf(p, 64, ", \"weight\": %.6g", ms_heap_sample_weight(r->size, ms_heap_sampled(h)));
    p = ms_put_field(p, ", \"lifetime_ms\": ", tf >= ta ? tf - ta : 0);
    if (r->freed) PUT(", \"is_leaked\": false, \"is_temporary\": ");
    else PUT(", \"is_leaked\": true, \"is_temporary\": ");
    if (r->temporary) PUT("true, \"leak_class\": ");
    else PUT("false, \"leak_class\": ");
    if (r->freed) {
        PUT("null");
    } else {
        const char *lc = leak_class_name(r->leak_class);
        *p++ = '"';
        k = strlen(lc);
        memcpy(p, lc, k);
        p += k;
        *p++ = '"';
    }
    PUT(", \"var_name\": ");
    if (r->var || r->type) {                   /* labelled: strings of any length */
        fwrite(line, 1, (size_t)(p - line), fp);
        p = line;
        put_opt_str(fp, r->var);
        fputs(", \"type_name\": ", fp);
        put_opt_str(fp, r->type);
    } else {
        PUT("null, \"type_name\": null");
    }
    p = ms_put_field(p, ", \"alloc_index\": ", r->seq);
    p = ms_put_field(p, ", \"site\": ", r->site);
    const ms_heap_site *s = ms_heap_site_at(h, r->site);
    uint32_t node;
    if (ms_stacktab_node_of(w->st, s ? s->stack_id : 0, &node)) { w->oom = 1; node = MS_STACKTAB_NONE; }
    if (node == MS_STACKTAB_NONE) PUT(", \"stack\": null}");
    else {
        p = ms_put_field(p, ", \"stack\": ", node);
        *p++ = '}';
    }
#undef PUT
    fwrite(line, 1, (size_t)(p - line), fp);
    w->written++;
}

static void on_block_stream(void *ctx, const ms_heap_block *b)
{
    writer *w = ctx;
    arec r;
    to_arec(&r, b);
    write_alloc(w, &r, w->written > 0);
}

static void kv(FILE *fp, const char *k, uint64_t v, int comma)
{
    fprintf(fp, "    \"%s\": %" PRIu64 "%s\n", k, v, comma ? "," : "");
}

static void write_summary(FILE *fp, const ms_heap *h, const char *lang)
{
    const ms_heap_summary *s = ms_heap_get_summary(h);
    const ms_heap_info *in = ms_heap_get_info(h);
    fputs("  \"summary\": {\n", fp);
    kv(fp, "total_allocations", s->total_allocations, 1);
    kv(fp, "total_deallocations", s->total_deallocations, 1);
    kv(fp, "total_allocated_bytes", s->total_allocated_bytes, 1);
    kv(fp, "total_deallocated_bytes", s->total_deallocated_bytes, 1);
    kv(fp, "peak_memory", s->peak_memory, 1);
    kv(fp, "peak_allocations", s->peak_blocks, 1);
    kv(fp, "peak_time_ms", ms_heap_ticks_ms(h, s->peak_time), 1);
    kv(fp, "active_allocations", s->active_allocations, 1);
    kv(fp, "active_memory", s->active_memory, 1);
    kv(fp, "leaked_allocations", s->leaked_allocations, 1);
    kv(fp, "leaked_memory", s->leaked_memory, 1);
    fputs("    \"leaks_by_class\": {", fp);
    for (uint32_t c = 0; c <= MS_LEAK_LIBC; c++)
        fprintf(fp, "%s\"%s\": {\"allocations\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", c ? ", " : "",
                leak_class_name(c), s->leak_class_blocks[c], s->leak_class_bytes[c]);
    fputs("},\n", fp);
    kv(fp, "temporary_allocations", s->temporary_allocations, 1);
    fputs("    \"temporary_rule\": ", fp);
    const char *tdef = ms_i18n_temporary_def(MS_LANG_EN);
    msconv_json_str(fp, tdef, strlen(tdef));
    fputs(",\n", fp);
    kv(fp, "failed_allocations", s->failed_allocations, 1);
    kv(fp, "unmatched_frees", s->unmatched_frees, 1);
    kv(fp, "frees_before_window", s->frees_before_window, 1);
    kv(fp, "reallocs", s->reallocs, 1);
    kv(fp, "reallocs_in_place", s->reallocs_in_place, 1);
    kv(fp, "realloc_frees", s->realloc_frees, 1);
    kv(fp, "duplicate_allocations", s->duplicate_allocs, 1);
    kv(fp, "events", s->events, 1);
    kv(fp, "dropped_events", in->has_end ? in->end.n_dropped : 0, 1);
    kv(fp, "labels", s->labels, 1);
    kv(fp, "unmatched_labels", s->unmatched_labels, 1);
    kv(fp, "start_time_ms", ms_heap_ticks_ms(h, s->first_time), 1);
    kv(fp, "end_time_ms", ms_heap_ticks_ms(h, s->end_time), 1);
    kv(fp, "duration_ms", ms_heap_ticks_ms(h, s->end_time), 1);
    kv(fp, "start_wall_ms", in->start_wall_ns / 1000000, 1);
    kv(fp, "pid", in->pid, 1);
    fputs("    \"exe\": ", fp);
    msconv_json_str(fp, in->exe, strlen(in->exe));
    fprintf(fp, ",\n    \"mode\": \"%s\",\n", in->mode == MS_MODE_SAMPLED ? "sampled" : "full");
    kv(fp, "sample_rate", in->sample_rate, 1);
    double after;
    int window = ms_heap_window(h, &after);
    fprintf(fp, "    \"scope\": \"%s\",\n", window ? "window" : "process");
    if (window) {
        kv(fp, "session", in->session, 1);
        fprintf(fp, "    \"window_after_start_ms\": %.0f,\n", after >= 0 ? after * 1000 : -1.0);
    }
    char note[400] = "";
    if (ms_heap_sampled(h))
        ms_i18n_sampled_long(lang && !strcmp(lang, "en") ? MS_LANG_EN : MS_LANG_ZH, ms_heap_sampled(h), note, sizeof note);
    fprintf(fp, "    \"estimated\": %s,\n    \"estimate_note\": ", ms_heap_sampled(h) ? "true" : "false");
    msconv_json_str(fp, note, strlen(note));
    fputs(",\n", fp);
    kv(fp, "clock_hz", in->clock_hz, 1);
    kv(fp, "sites", s->sites, 1);
    kv(fp, "threads", s->threads, 0);
    fputs("  },\n", fp);
}

static int cmp_site(const void *x, const void *y, void *hp)
{
    const ms_heap *h = hp;
    const ms_heap_site *a = ms_heap_site_at(h, *(const uint32_t *)x);
    const ms_heap_site *b = ms_heap_site_at(h, *(const uint32_t *)y);
    if (a->peak_bytes != b->peak_bytes) return a->peak_bytes > b->peak_bytes ? -1 : 1;
    if (a->allocated_bytes != b->allocated_bytes) return a->allocated_bytes > b->allocated_bytes ? -1 : 1;
    return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

/* Sites: all when there are at most ALL_LIMIT, else the top N in the
 * order most bytes at the peak, then allocated. */
static int write_sites(writer *w, size_t top)
{
    FILE *fp = w->fp;
    const ms_heap *h = w->h;
    size_t n = ms_heap_site_count(h), used = 0;
    uint32_t *ord = malloc((n ? n : 1) * sizeof *ord);
    if (!ord) return MS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const ms_heap_site *s = ms_heap_site_at(h, i);
        if (s->allocations || i != 0) ord[used++] = (uint32_t)i;   /* not the unused "no stack" site */
    }
    qsort_r(ord, used, sizeof *ord, cmp_site, (void *)h);
    size_t shown = used <= ALL_LIMIT ? used : top < used ? top : used;
    fprintf(fp, "  \"sites_selection\": \"%s\",\n  \"sites_total\": %zu,\n  \"sites_shown\": %zu,\n",
            used <= ALL_LIMIT ? "all" : "top_by_peak", used, shown);
    /* "path": the call path naming the site among the shown ones (sitepath.h) */
    uint64_t *ids = malloc((shown ? shown : 1) * sizeof *ids);
    uint32_t *depth = malloc((shown ? shown : 1) * sizeof *depth);
    if (!ids || !depth) { free(ids); free(depth); free(ord); return MS_ENOMEM; }
    for (size_t j = 0; j < shown; j++) ids[j] = ms_heap_site_at(h, ord[j])->stack_id;
    int e = ms_site_depths(depth, ms_heap_symtab(h), ids, shown, MS_SITE_MIN_FRAMES);
    if (e) { free(ids); free(depth); free(ord); return e; }
    fputs("  \"sites\": [", fp);
    for (size_t j = 0; j < shown; j++) {
        const ms_heap_site *s = ms_heap_site_at(h, ord[j]);
        char path[2048];
        size_t plen = ms_site_path_name(path, sizeof path, ms_heap_symtab(h), s->stack_id, depth[j]);
        fprintf(fp, "%s\n    {\"site\": %" PRIu32 ", \"stack_id\": %" PRIu64 ", \"allocations\": %" PRIu64
                ", \"deallocations\": %" PRIu64 ", \"allocated_bytes\": %" PRIu64
                ", \"peak_bytes\": %" PRIu64 ", \"peak_allocations\": %" PRIu64
                ", \"leaked_bytes\": %" PRIu64 ", \"leaked_allocations\": %" PRIu64
                ", \"temporary_allocations\": %" PRIu64 ", \"max_size\": %" PRIu64 ", ",
                j ? "," : "", ord[j], s->stack_id, s->allocations, s->deallocations,
                s->allocated_bytes, s->peak_bytes, s->peak_blocks, s->live_bytes, s->live_blocks,
                s->temporary, s->max_size);
        fputs("\"path\": ", fp);
        msconv_json_str(fp, path, plen);
        fputs(", ", fp);
        put_stack(w, s->stack_id);
        fputc('}', fp);
    }
    fputs(shown ? "\n  ],\n" : "],\n", fp);
    free(ids); free(depth);
    free(ord);
    return 0;
}

/* The "frames" and "stacks" tables of every stack named above. */
static void write_stack_tables(writer *w)
{
    FILE *fp = w->fp;
    const ms_symtab *sym = ms_heap_symtab(w->h);
    size_t nf = ms_stacktab_frame_count(w->st), nn = ms_stacktab_node_count(w->st);
    fputs("  \"frames\": [", fp);
    for (size_t i = 0; i < nf; i++) {
        const ms_stacktab_frame *fr = ms_stacktab_frame_at(w->st, i);
        const ms_symtab_frame *f;
        size_t n = ms_symtab_frames(&f, sym, fr->ip);
        uint64_t off;
        const ms_symtab_module *m = ms_symtab_module_of(&off, sym, fr->ip);
        fprintf(fp, "%s\n    {\"ip\": \"0x%" PRIx64 "\"", i ? "," : "", fr->ip);
        if (fr->k < n) {
            const ms_symtab_frame *x = &f[fr->k];
            fputs(", \"function\": ", fp);
            msconv_json_str(fp, x->function, strlen(x->function));
            if (strcmp(x->symbol, x->function)) {
                fputs(", \"symbol\": ", fp);
                msconv_json_str(fp, x->symbol, strlen(x->symbol));
            }
            fputs(", \"file\": ", fp);
            msconv_json_str(fp, x->file, strlen(x->file));
            fprintf(fp, ", \"line\": %" PRIu32 ", \"inlined\": %s", x->line, fr->k + 1 < n ? "true" : "false");
        }
        if (m) {
            fputs(", \"module\": ", fp);
            msconv_json_str(fp, m->path, strlen(m->path));
            fprintf(fp, ", \"module_offset\": \"0x%" PRIx64 "\"", off);
        }
        fputc('}', fp);
    }
    fputs(nf ? "\n  ],\n" : "],\n", fp);
    fputs("  \"stacks\": [", fp);
    for (size_t i = 0; i < nn; i++) {
        const ms_stacktab_node *n = ms_stacktab_node_at(w->st, i);
        if (n->parent == MS_STACKTAB_NONE) fprintf(fp, "%s[-1,%" PRIu32 "]", i ? "," : "", n->frame);
        else fprintf(fp, "%s[%" PRIu32 ",%" PRIu32 "]", i ? "," : "", n->parent, n->frame);
        if (i % 16 == 15) fputs("\n   ", fp);
    }
    fputs("],\n", fp);
}

static void write_threads(FILE *fp, const ms_heap *h)
{
    size_t n = ms_heap_thread_count(h);
    fputs("  \"threads\": [", fp);
    for (size_t i = 0; i < n; i++) {
        const ms_heap_thread *t = ms_heap_thread_at(h, i);
        fprintf(fp, "%s\n    {\"thread_id\": %" PRIu64 ", \"name\": ", i ? "," : "", t->tid);
        msconv_json_str(fp, t->name, strlen(t->name));
        fprintf(fp, ", \"allocations\": %" PRIu64 ", \"deallocations\": %" PRIu64
                ", \"allocated_bytes\": %" PRIu64 ", \"temporary_allocations\": %" PRIu64
                ", \"failed_allocations\": %" PRIu64 ", \"leaked_allocations\": %" PRIu64
                ", \"leaked_memory\": %" PRIu64 ", \"events\": %" PRIu64, t->allocations,
                t->deallocations, t->allocated_bytes, t->temporary, t->failed, t->live_blocks,
                t->live_bytes, t->events);
        if (t->events)
            fprintf(fp, ", \"first_ms\": %" PRIu64 ", \"last_ms\": %" PRIu64 "}",
                    ms_heap_ticks_ms(h, t->first_time), ms_heap_ticks_ms(h, t->last_time));
        else fputs(", \"first_ms\": null, \"last_ms\": null}", fp);
    }
    fputs(n ? "\n  ],\n" : "],\n", fp);
}

static void write_integrity(FILE *fp, const ms_heap *h, const ms_integrity *in)
{
    const ms_heap_summary *s = ms_heap_get_summary(h);
    char msg[256];
    const char *word;
    msconv_verdict(msg, sizeof msg, &word, in);
    fprintf(fp, "  \"integrity\": {\n    \"verdict\": \"%s\",\n    \"message\": ", word);
    msconv_json_str(fp, msg, strlen(msg));
    fputs(",\n", fp);
    kv(fp, "chunks_ok", in->chunks_ok, 1);
    kv(fp, "chunks_bad", in->chunks_bad, 1);
    kv(fp, "chunks_skipped", in->chunks_skipped, 1);
    kv(fp, "records_lost", in->records_lost, 1);
    kv(fp, "bytes_lost", in->bytes_lost, 1);
    kv(fp, "file_size", in->file_size, 1);
    fprintf(fp, "    \"has_end\": %s,\n", in->has_end ? "true" : "false");
    kv(fp, "late_events", s->late_events, 1);
    kv(fp, "max_buffered_events", s->max_buffered_events, 0);
    fputs("  }\n", fp);
}

/* "range": the time range or phase the numbers are restricted to (only
 * in a ranged report; analyze/range.h has what each number then means). */
static void write_range(FILE *fp, const ms_heap *h, const char *lang)
{
    const ms_range *r = ms_heap_range(h);
    if (!r) return;
    char note[700];
    ms_range_note(note, sizeof note, h, lang && !strcmp(lang, "en") ? MS_LANG_EN : MS_LANG_ZH, 1);
    fprintf(fp, "  \"range\": {\"from_s\": %.6f, \"to_s\": %.6f, \"phase\": ", r->from_s, r->to_s);
    if (r->req.phase) msconv_json_str(fp, r->req.phase, strlen(r->req.phase));
    else fputs("null", fp);
    fprintf(fp, ", \"to_clamped\": %s, \"note\": ", r->to_clamped ? "true" : "false");
    msconv_json_str(fp, note, strlen(note));
    fputs("},\n", fp);
}

static int load_error(const char *file, int e)
{
    msconv_error(file, "%s", msconv_reader_error(e));
    return 1;
}

int msconv_heap_json(const msconv_args *a)
{
    collect c;
    memset(&c, 0, sizeof c);
    c.top = a->top < 0 ? 0 : (size_t)a->top;
    if (c.top > ALL_LIMIT * 100) c.top = ALL_LIMIT * 100;
    ms_heap_opts ho = { NULL, NULL, a->range };
    if (!a->events) { ho.on_block = on_block_collect; ho.ctx = &c; }
    if (!a->events && c.top) {
        /* the top-N heap must hold N records without growing */
        size_t need = c.top > ALL_LIMIT + 1 ? c.top : ALL_LIMIT + 1;
        c.v = malloc(need * sizeof *c.v);
        if (!c.v) return load_error(a->input, MS_ENOMEM);
        c.cap = need;
    }
    ms_heap *h;
    ms_integrity in;
    errno = 0;
    int e = ms_heap_load(&h, &in, a->input, &ho);
    if (!e && c.oom) { ms_heap_free(h); e = MS_ENOMEM; }
    if (e) { free(c.v); return load_error(a->input, e); }
    if ((e = msconv_range_check(a->input, h))) { ms_heap_free(h); free(c.v); return e; }

    ms_outfile out;
    if (ms_outfile_open_as(&out, a->output, MS_TERM_JSON) != 0) {
        msconv_error(a->output, "%s", ms_outfile_strerror());
        ms_heap_free(h); free(c.v);
        return 1;
    }
    FILE *fp = out.fp;
    writer w;
    memset(&w, 0, sizeof w);
    w.fp = fp; w.h = h;
    if (ms_stacktab_new(&w.st, ms_heap_symtab(h))) e = MS_ENOMEM;

    if (!e) {
        fputs("{\n  \"format\": \"memscope-heap\",\n  \"version\": 2,\n  \"file\": ", fp);
        msconv_json_str(fp, a->input, strlen(a->input));
        fputs(",\n", fp);
        write_range(fp, h, a->lang);
        write_summary(fp, h, a->lang);
        const char *sel;
        uint64_t total = ms_heap_get_summary(h)->total_allocations;
        if (a->events) sel = "all";
        else if (c.topmode) sel = "top_by_size";
        else sel = "all";
        fprintf(fp, "  \"allocations_selection\": \"%s\",\n", sel);
        fprintf(fp, "  \"allocations_total\": %" PRIu64 ",\n", total);
        fputs("  \"allocations\": [", fp);
        if (a->events) {
            ms_heap *h2;
            ms_heap_opts o2 = { on_block_stream, &w, a->range };
            ms_integrity in2;
            e = ms_heap_load(&h2, &in2, a->input, &o2);
            if (!e) ms_heap_free(h2);
        } else {
            qsort(c.v, c.n, sizeof *c.v, c.topmode ? cmp_top : cmp_seq);
            for (size_t i = 0; i < c.n; i++) write_alloc(&w, &c.v[i], i > 0);
        }
        fputs(w.written ? "\n  ],\n" : "],\n", fp);
        fprintf(fp, "  \"allocations_shown\": %" PRIu64 ",\n", w.written);
    }
    if (!e) e = write_sites(&w, c.top);
    if (!e) {
        write_threads(fp, h);
        write_stack_tables(&w);
        write_integrity(fp, h, &in);
        fputs("}\n", fp);
    }
    if (!e && w.oom) e = MS_ENOMEM;
    ms_stacktab_free(w.st);
    free(c.v);
    ms_heap_free(h);
    if (e) {
        ms_outfile_abort(&out);
        return load_error(a->input, e);
    }
    if (ms_outfile_commit(&out) != 0) {
        msconv_error(a->output ? a->output : "stdout", "%s", ms_outfile_strerror());
        return 1;
    }
    msconv_warn_integrity(a->input, &in);
    return 0;
}
