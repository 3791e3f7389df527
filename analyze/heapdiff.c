/* Heap trace diff (heapdiff.h): matches the allocation sites of two heap
 * replays by their symbolized stacks, addresses ignored, so two runs of
 * one program (or two builds of it) can be compared site by site the way
 * heaptrack_print -d does. Each site's stack becomes a byte key (function,
 * file, line per source frame; module path + offset for an ip without
 * symbols), keys go into one hash table for both traces, sites sharing a
 * key are summed, and the entries are sorted by impact for the reports.
 * Memory is O(sites of both traces + their stack depths). */
#include "heapdiff.h"
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct ent {
    ms_hd_entry pub;
    char *key;
    size_t keylen;
    uint64_t hash;
    const ms_heap *rep;                 /* heap + stack shown for the key */
    uint64_t rep_stack;
} ent;

typedef struct builder {
    ent *v;
    size_t n, cap;
    uint32_t *tab;                      /* index + 1; 0 = empty           */
    size_t tabcap;
    char *buf;                          /* key under construction         */
    size_t blen, bcap;
    uint64_t *ips;
    size_t ipcap;
} builder;

static int put(builder *b, const void *p, size_t n)
{
    if (b->blen + n > b->bcap) {
        size_t c = b->bcap ? b->bcap : 256;
        while (c < b->blen + n) c *= 2;
        char *q = realloc(b->buf, c);
        if (!q) return -1;
        b->buf = q;
        b->bcap = c;
    }
    memcpy(b->buf + b->blen, p, n);
    b->blen += n;
    return 0;
}

static int put_str(builder *b, const char *s) { return put(b, s, strlen(s) + 1); }

/* Source frames of ip; 0 when there are none or when the SYMBOL record
 * names nothing (stripped binary): such ips are keyed by module + offset. */
static size_t src_frames(const ms_symtab_frame **fr, const ms_symtab *s, uint64_t ip)
{
    size_t nf = ms_symtab_frames(fr, s, ip);
    for (size_t k = 0; k < nf; k++)
        if ((*fr)[k].function[0] || (*fr)[k].file[0]) return nf;
    return 0;
}

/* Key of stack_id in b->buf. */
static int make_key(builder *b, const ms_symtab *s, uint64_t stack_id)
{
    b->blen = 0;
    size_t depth = ms_symtab_stack(b->ips, b->ipcap, s, stack_id);
    if (depth > b->ipcap) {
        uint64_t *q = realloc(b->ips, depth * sizeof *q);
        if (!q) return -1;
        b->ips = q;
        b->ipcap = depth;
        depth = ms_symtab_stack(b->ips, b->ipcap, s, stack_id);
    }
    for (size_t i = 0; i < depth; i++) {
        const ms_symtab_frame *fr;
        size_t nf = src_frames(&fr, s, b->ips[i]);
        for (size_t k = 0; k < nf; k++) {
            uint32_t line = fr[k].line;
            if (put(b, "S", 1) || put_str(b, fr[k].function) || put_str(b, fr[k].file) || put(b, &line, sizeof line))
                return -1;
        }
        if (nf) continue;
        uint64_t off;
        const ms_symtab_module *m = ms_symtab_module_of(&off, s, b->ips[i]);
        if (m && m->path[0]) {
            if (put(b, "M", 1) || put_str(b, m->path) || put(b, &off, sizeof off)) return -1;
        } else if (put(b, "A", 1) || put(b, &b->ips[i], sizeof b->ips[i])) {
            return -1;
        }
    }
    return 0;
}

static int tab_grow(builder *b)
{
    size_t nc = b->tabcap ? b->tabcap * 2 : 1024;
    uint32_t *t = calloc(nc, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < b->n; i++) {
        size_t j = (size_t)b->v[i].hash & (nc - 1);
        while (t[j]) j = (j + 1) & (nc - 1);
        t[j] = (uint32_t)(i + 1);
    }
    free(b->tab);
    b->tab = t;
    b->tabcap = nc;
    return 0;
}

/* Entry for the key in b->buf, created when missing; NULL on ENOMEM. */
static ent *lookup(builder *b, const ms_heap *h, uint64_t stack_id)
{
    if ((b->n + 1) * 2 > b->tabcap && tab_grow(b)) return NULL;
    uint64_t hash = XXH3_64bits(b->buf, b->blen);
    size_t j = (size_t)hash & (b->tabcap - 1);
    while (b->tab[j]) {
        ent *e = &b->v[b->tab[j] - 1];
        if (e->hash == hash && e->keylen == b->blen && !memcmp(e->key, b->buf, b->blen)) return e;
        j = (j + 1) & (b->tabcap - 1);
    }
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        ent *q = realloc(b->v, c * sizeof *q);
        if (!q) return NULL;
        b->v = q;
        b->cap = c;
    }
    ent *e = &b->v[b->n];
    memset(e, 0, sizeof *e);
    e->key = malloc(b->blen ? b->blen : 1);
    if (!e->key) return NULL;
    if (b->blen) memcpy(e->key, b->buf, b->blen);
    e->keylen = b->blen;
    e->hash = hash;
    e->rep = h;
    e->rep_stack = stack_id;
    b->tab[j] = (uint32_t)(++b->n);
    return e;
}

static int add_heap(builder *b, const ms_heap *h, int side)
{
    const ms_symtab *s = ms_heap_symtab(h);
    size_t n = ms_heap_site_count(h);
    for (size_t i = 0; i < n; i++) {
        const ms_heap_site *st = ms_heap_site_at(h, i);
        if (!st->allocations && !st->peak_bytes && !st->live_bytes && !st->live_blocks) continue;
        if (make_key(b, s, st->stack_id)) return -1;
        ent *e = lookup(b, h, st->stack_id);
        if (!e) return -1;
        ms_hd_side *d = side ? &e->pub.b : &e->pub.a;
        d->peak_bytes += st->peak_bytes;
        d->peak_blocks += st->peak_blocks;
        d->leaked_bytes += st->live_bytes;
        d->leaked_blocks += st->live_blocks;
        d->allocated_bytes += st->allocated_bytes;
        d->allocations += st->allocations;
        d->temporary += st->temporary;
        d->sites++;
    }
    return 0;
}

static uint64_t mag(int64_t v) { return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; }

static int cmp_impact(const void *x, const void *y)
{
    const ent *a = x, *b = y;
    const int64_t da[3] = {a->pub.d_peak, a->pub.d_leaked, a->pub.d_allocated};
    const int64_t db[3] = {b->pub.d_peak, b->pub.d_leaked, b->pub.d_allocated};
    for (int k = 0; k < 3; k++) {
        uint64_t ma = mag(da[k]), mb = mag(db[k]);
        if (ma != mb) return ma > mb ? -1 : 1;
    }
    /* equal impact: larger sites first, then the key for a stable order */
    uint64_t sa = a->pub.a.peak_bytes + a->pub.b.peak_bytes, sb = b->pub.a.peak_bytes + b->pub.b.peak_bytes;
    if (sa != sb) return sa > sb ? -1 : 1;
    sa = a->pub.a.allocated_bytes + a->pub.b.allocated_bytes;
    sb = b->pub.a.allocated_bytes + b->pub.b.allocated_bytes;
    if (sa != sb) return sa > sb ? -1 : 1;
    size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
    int c = memcmp(a->key, b->key, n);
    if (c) return c;
    return a->keylen < b->keylen ? -1 : a->keylen > b->keylen;
}

static int64_t dlt(uint64_t a, uint64_t b) { return (int64_t)(b - a); }

static void finish_entry(ms_heapdiff *d, ms_hd_entry *e)
{
    e->d_peak = dlt(e->a.peak_bytes, e->b.peak_bytes);
    e->d_peak_blocks = dlt(e->a.peak_blocks, e->b.peak_blocks);
    e->d_leaked = dlt(e->a.leaked_bytes, e->b.leaked_bytes);
    e->d_leaked_blocks = dlt(e->a.leaked_blocks, e->b.leaked_blocks);
    e->d_allocated = dlt(e->a.allocated_bytes, e->b.allocated_bytes);
    e->d_allocations = dlt(e->a.allocations, e->b.allocations);
    e->d_temporary = dlt(e->a.temporary, e->b.temporary);
    if (!e->a.sites) { e->status = MS_HD_NEW; d->n_new++; d->tb.keys++; return; }
    d->ta.keys++;
    if (!e->b.sites) { e->status = MS_HD_VANISHED; d->n_vanished++; return; }
    d->tb.keys++;
    const int64_t order[] = {e->d_peak, e->d_leaked, e->d_allocated, e->d_allocations,
                             e->d_leaked_blocks, e->d_peak_blocks, e->d_temporary};
    e->status = MS_HD_UNCHANGED;
    for (size_t k = 0; k < sizeof order / sizeof *order; k++)
        if (order[k]) { e->status = order[k] > 0 ? MS_HD_GREW : MS_HD_SHRANK; break; }
    if (e->status == MS_HD_GREW) d->n_grew++;
    else if (e->status == MS_HD_SHRANK) d->n_shrank++;
    else d->n_unchanged++;
}

/* Frames of the representative stack of each entry, from one pool. */
static int fill_frames(ms_heapdiff *d, builder *b)
{
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t at = 0;
        for (size_t i = 0; i < d->nentries; i++) {
            const ent *src = &b->v[i];
            const ms_symtab *s = ms_heap_symtab(src->rep);
            size_t depth = ms_symtab_stack(b->ips, b->ipcap, s, src->rep_stack);
            if (depth > b->ipcap) depth = b->ipcap;    /* sized by make_key */
            size_t start = at;
            for (size_t k = 0; k < depth; k++) {
                const ms_symtab_frame *fr;
                size_t nf = src_frames(&fr, s, b->ips[k]);
                if (pass == 0) { at += nf ? nf : 1; continue; }
                for (size_t j = 0; j < nf; j++) {
                    ms_hd_frame *o = &d->frame_pool[at++];
                    uint64_t off = 0;
                    const ms_symtab_module *m = ms_symtab_module_of(&off, s, b->ips[k]);
                    o->function = fr[j].function;
                    o->file = fr[j].file;
                    o->line = fr[j].line;
                    o->symbolized = 1;
                    o->module = m ? m->path : "";
                    o->offset = m ? off : b->ips[k];
                }
                if (nf) continue;
                ms_hd_frame *o = &d->frame_pool[at++];
                uint64_t off = 0;
                const ms_symtab_module *m = ms_symtab_module_of(&off, s, b->ips[k]);
                o->function = "";
                o->file = "";
                o->line = 0;
                o->symbolized = 0;
                o->module = m ? m->path : "";
                o->offset = m ? off : b->ips[k];
            }
            if (pass == 1) {
                d->entries[i].frames = at > start ? &d->frame_pool[start] : NULL;
                d->entries[i].nframes = at - start;
            }
        }
        if (pass == 0) {
            total = at;
            d->frame_pool = calloc(total ? total : 1, sizeof *d->frame_pool);
            if (!d->frame_pool) return -1;
            d->frame_pool_len = total;
        }
    }
    return 0;
}

static void totals(ms_hd_totals *t, const ms_heap *h)
{
    const ms_heap_summary *s = ms_heap_get_summary(h);
    t->peak_memory = s->peak_memory;
    t->peak_blocks = s->peak_blocks;
    t->leaked_memory = s->leaked_memory;
    t->leaked_blocks = s->leaked_allocations;
    t->allocated_bytes = s->total_allocated_bytes;
    t->allocations = s->total_allocations;
    t->temporary = s->temporary_allocations;
    t->events = s->events;
    t->duration_ms = s->end_time > s->first_time ? ms_heap_ticks_ms(h, s->end_time - s->first_time) : 0;
}

int ms_heapdiff_build(const ms_heap *a, const ms_heap *b, ms_heapdiff *d)
{
    memset(d, 0, sizeof *d);
    builder bl;
    memset(&bl, 0, sizeof bl);
    int rc = MS_ENOMEM;
    if (add_heap(&bl, a, 0) || add_heap(&bl, b, 1)) goto out;
    totals(&d->ta, a);
    totals(&d->tb, b);
    for (size_t i = 0; i < bl.n; i++) finish_entry(d, &bl.v[i].pub);
    if (bl.n) qsort(bl.v, bl.n, sizeof *bl.v, cmp_impact);
    d->entries = calloc(bl.n ? bl.n : 1, sizeof *d->entries);
    if (!d->entries) goto out;
    d->nentries = bl.n;
    for (size_t i = 0; i < bl.n; i++) d->entries[i] = bl.v[i].pub;
    if (fill_frames(d, &bl)) goto out;
    rc = 0;
out:
    for (size_t i = 0; i < bl.n; i++) free(bl.v[i].key);
    free(bl.v);
    free(bl.tab);
    free(bl.buf);
    free(bl.ips);
    if (rc) ms_heapdiff_free(d);
    return rc;
}

void ms_heapdiff_free(ms_heapdiff *d)
{
    free(d->entries);
    free(d->frame_pool);
    memset(d, 0, sizeof *d);
}

const char *ms_hd_status_name(int st)
{
    static const char *const n[] = {"grew", "shrank", "new", "vanished", "unchanged"};
    return st >= 0 && st <= MS_HD_UNCHANGED ? n[st] : "?";
}
