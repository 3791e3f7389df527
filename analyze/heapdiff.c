/* Heap trace diff (heapdiff.h): matches the allocation sites of two heap
 * replays by their symbolized stacks, addresses ignored, so two runs of
 * one program (or two builds of it) can be compared site by site the way
 * heaptrack_print -d does. A frame's key is its function, file and line
 * (module path + offset for an ip without symbols, the address for one
 * in no module); frames are interned across both traces, stacks become
 * chains of interned (caller node, frame) nodes, resolved once per stack
 * node id of each trace (memoized), so a site's key is one node id and
 * building costs O(stack nodes), never O(sites x depth). Sites sharing a
 * node are summed, and the entries are sorted by impact for the reports.
 * Memory is O(sites + stack nodes + distinct frames of both traces). */
#include "heapdiff.h"
#include "u64map.h"
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

typedef struct fkey { char *key; size_t len; uint64_t hash; } fkey;

typedef struct ent {
    ms_hd_entry pub;
    uint32_t node;                      /* its stack node, MS_HD_NONE     */
} ent;

typedef struct builder {
    ms_heapdiff *d;
    size_t capframes, capnodes;
    fkey *keys;                         /* per frame                      */
    uint32_t *ftab; size_t ftabcap;     /* frame hash table: index + 1    */
    ms_u64map nodemap;                       /* (parent + 1) << 32 | frame     */
    uint32_t *depth;                    /* per node                       */
    ent *v; size_t n, cap;
    uint32_t *entry_of;                 /* per node + 1 (0: no stack)     */
    size_t entry_cap;
    char *buf; size_t blen, bcap;       /* key under construction         */
    /* per trace */
    const ms_symtab *sym;
    ms_stack_memo *memo;                /* stack node id -> node          */
    ms_u64map ipf;                           /* ip -> first index in ipfr      */
    uint32_t *ipfr; size_t nipfr, capipfr; /* per ip: count, then frames
                                           outermost inlined first      */
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

static int ftab_grow(builder *b)
{
    size_t nc = b->ftabcap ? b->ftabcap * 2 : 1024;
    uint32_t *t = calloc(nc, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < b->d->nframes; i++) {
        size_t j = (size_t)b->keys[i].hash & (nc - 1);
        while (t[j]) j = (j + 1) & (nc - 1);
        t[j] = (uint32_t)(i + 1);
    }
    free(b->ftab);
    b->ftab = t;
    b->ftabcap = nc;
    return 0;
}

/* The frame whose key is in b->buf, created (shown as *shown) when new. */
static int intern_frame(builder *b, const ms_hd_frame *shown, uint32_t *out)
{
    ms_heapdiff *d = b->d;
    if ((d->nframes + 1) * 2 > b->ftabcap && ftab_grow(b)) return -1;
    uint64_t hash = XXH3_64bits(b->buf, b->blen);
    size_t j = (size_t)hash & (b->ftabcap - 1);
    for (; b->ftab[j]; j = (j + 1) & (b->ftabcap - 1)) {
        const fkey *k = &b->keys[b->ftab[j] - 1];
        if (k->hash == hash && k->len == b->blen && !memcmp(k->key, b->buf, b->blen)) {
            *out = b->ftab[j] - 1;
            return 0;
        }
    }
    if (d->nframes == b->capframes) {
        size_t c = b->capframes ? b->capframes * 2 : 256;
        ms_hd_frame *f = realloc(d->frames, c * sizeof *f);
        if (f) d->frames = f;
        fkey *k = realloc(b->keys, c * sizeof *k);
        if (k) b->keys = k;
        if (!f || !k) return -1;
        b->capframes = c;
    }
    fkey *k = &b->keys[d->nframes];
    k->key = malloc(b->blen);
    if (!k->key) return -1;
    memcpy(k->key, b->buf, b->blen);
    k->len = b->blen;
    k->hash = hash;
    d->frames[d->nframes] = *shown;
    b->ftab[j] = (uint32_t)(++d->nframes);
    *out = (uint32_t)(d->nframes - 1);
    return 0;
}

/* Frames of ip in trace s (outermost inlined first): index into b->ipfr
 * of their count followed by the frame ids; cached per ip. */
static int ip_frames(builder *b, const ms_symtab *s, uint64_t ip, uint32_t *at)
{
    if (ms_u64map_get(&b->ipf, ip, at)) return 0;
    const ms_symtab_frame *fr;
    size_t nf = src_frames(&fr, s, ip), n = nf ? nf : 1;
    if (b->nipfr + n + 1 > b->capipfr) {
        size_t c = b->capipfr ? b->capipfr : 1024;
        while (c < b->nipfr + n + 1) c *= 2;
        uint32_t *q = realloc(b->ipfr, c * sizeof *q);
        if (!q) return -1;
        b->ipfr = q;
        b->capipfr = c;
    }
    uint32_t start = (uint32_t)b->nipfr;
    b->ipfr[b->nipfr++] = (uint32_t)n;
    uint64_t off = 0;
    const ms_symtab_module *m = ms_symtab_module_of(&off, s, ip);
    ms_hd_frame shown = { "", "", 0, 0, m ? m->path : "", m ? off : ip };
    for (size_t i = n; i-- > 0;) {
        b->blen = 0;
        if (nf) {
            uint32_t line = fr[i].line;
            if (put(b, "S", 1) || put_str(b, fr[i].function) || put_str(b, fr[i].file) || put(b, &line, sizeof line))
                return -1;
            shown.function = fr[i].function; shown.file = fr[i].file; shown.line = line; shown.symbolized = 1;
        } else if (m && m->path[0]) {
            if (put(b, "M", 1) || put_str(b, m->path) || put(b, &off, sizeof off)) return -1;
        } else if (put(b, "A", 1) || put(b, &ip, sizeof ip)) {
            return -1;
        }
        uint32_t id;
        if (intern_frame(b, &shown, &id)) return -1;
        b->ipfr[b->nipfr++] = id;
    }
    *at = start;
    return ms_u64map_put(&b->ipf, ip, start);
}

/* The node of frame under parent (MS_HD_NONE: outermost), created when new. */
static int intern_node(builder *b, uint32_t parent, uint32_t frame, uint32_t *out)
{
    ms_heapdiff *d = b->d;
    uint64_t key = (uint64_t)(parent + 1u) << 32 | frame;
    if (ms_u64map_get(&b->nodemap, key, out)) return 0;
    if (d->nnodes >= MS_HD_NONE - 1) return -1;
    if (d->nnodes == b->capnodes) {
        size_t c = b->capnodes ? b->capnodes * 2 : 1024;
        ms_hd_node *q = realloc(d->nodes, c * sizeof *q);
        if (q) d->nodes = q;
        uint32_t *dp = realloc(b->depth, c * sizeof *dp);
        if (dp) b->depth = dp;
        if (!q || !dp) return -1;
        b->capnodes = c;
    }
    uint32_t id = (uint32_t)d->nnodes++;
    d->nodes[id] = (ms_hd_node){ parent, frame };
    b->depth[id] = parent == MS_HD_NONE ? 1 : b->depth[parent] + 1;
    *out = id;
    return ms_u64map_put(&b->nodemap, key, id);
}

/* Node of a stack node: its caller's node followed by the frames of its
 * ip, outermost inlined first (ms_stack_memo_get; MS_HD_NONE = empty). */
static int extend_node(void *ctx, uint32_t parent, uint64_t ip, uint32_t *out)
{
    builder *b = ctx;
    uint32_t at, node = parent;
    if (ip_frames(b, b->sym, ip, &at)) return MS_ENOMEM;
    for (uint32_t k = 0, nf = b->ipfr[at]; k < nf; k++)
        if (intern_node(b, node, b->ipfr[at + 1 + k], &node)) return MS_ENOMEM;
    *out = node;
    return 0;
}

/* Entry of node (MS_HD_NONE: the no-stack entry), created when missing. */
static ent *entry_of(builder *b, uint32_t node)
{
    size_t slot = node == MS_HD_NONE ? 0 : (size_t)node + 1;
    if (slot >= b->entry_cap) {
        size_t c = b->entry_cap ? b->entry_cap : 1024;
        while (c <= slot) c *= 2;
        uint32_t *q = realloc(b->entry_of, c * sizeof *q);
        if (!q) return NULL;
        memset(q + b->entry_cap, 0, (c - b->entry_cap) * sizeof *q);
        b->entry_of = q;
        b->entry_cap = c;
    }
    if (b->entry_of[slot]) return &b->v[b->entry_of[slot] - 1];
    if (b->n == b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        ent *q = realloc(b->v, c * sizeof *q);
        if (!q) return NULL;
        b->v = q;
        b->cap = c;
    }
    ent *e = &b->v[b->n];
    memset(e, 0, sizeof *e);
    e->node = node;
    b->entry_of[slot] = (uint32_t)(++b->n);
    return e;
}

static int add_heap(builder *b, const ms_heap *h, int side)
{
    const ms_symtab *s = ms_heap_symtab(h);
    size_t n = ms_heap_site_count(h);
    ms_stack_memo_free(b->memo);
    b->memo = NULL;
    ms_u64map_free(&b->ipf);
    b->nipfr = 0;
    b->sym = s;
    if (ms_stack_memo_new(&b->memo)) return -1;
    for (size_t i = 0; i < n; i++) {
        const ms_heap_site *st = ms_heap_site_at(h, i);
        if (!st->allocations && !st->peak_bytes && !st->live_bytes && !st->live_blocks) continue;
        uint32_t node;
        if (ms_stack_memo_get(b->memo, s, st->stack_id, MS_HD_NONE, extend_node, b, &node)) return -1;
        ent *e = entry_of(b, node);
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

static const builder *sort_b;          /* qsort has no context argument */

/* Stable order of two stacks of equal impact: their frame keys innermost
 * first (the first 8 frames), then the depth, then the order first seen. */
static int cmp_stack(uint32_t x, uint32_t y)
{
    const builder *b = sort_b;
    uint32_t p = x, q = y;
    for (int k = 0; k < 8; k++) {
        if (p == MS_HD_NONE || q == MS_HD_NONE) {
            if (p != q) return p == MS_HD_NONE ? -1 : 1;
            break;
        }
        const fkey *a = &b->keys[b->d->nodes[p].frame], *c = &b->keys[b->d->nodes[q].frame];
        size_t n = a->len < c->len ? a->len : c->len;
        int r = memcmp(a->key, c->key, n);
        if (r) return r;
        if (a->len != c->len) return a->len < c->len ? -1 : 1;
        p = b->d->nodes[p].parent;
        q = b->d->nodes[q].parent;
    }
    uint32_t dx = x == MS_HD_NONE ? 0 : b->depth[x], dy = y == MS_HD_NONE ? 0 : b->depth[y];
    if (dx != dy) return dx < dy ? -1 : 1;
    return x == y ? 0 : (x + 1u) < (y + 1u) ? -1 : 1;
}

static int cmp_impact(const void *x, const void *y)
{
    const ent *a = x, *b = y;
    const int64_t da[3] = {a->pub.d_peak, a->pub.d_leaked, a->pub.d_allocated};
    const int64_t db[3] = {b->pub.d_peak, b->pub.d_leaked, b->pub.d_allocated};
    for (int k = 0; k < 3; k++) {
        uint64_t ma = mag(da[k]), mb = mag(db[k]);
        if (ma != mb) return ma > mb ? -1 : 1;
    }
    /* equal impact: larger sites first, then the stack for a stable order */
    uint64_t sa = a->pub.a.peak_bytes + a->pub.b.peak_bytes, sb = b->pub.a.peak_bytes + b->pub.b.peak_bytes;
    if (sa != sb) return sa > sb ? -1 : 1;
    sa = a->pub.a.allocated_bytes + a->pub.b.allocated_bytes;
    sb = b->pub.a.allocated_bytes + b->pub.b.allocated_bytes;
    if (sa != sb) return sa > sb ? -1 : 1;
    return cmp_stack(a->node, b->node);
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
    bl.d = d;
    int rc = MS_ENOMEM;
    if (add_heap(&bl, a, 0) || add_heap(&bl, b, 1)) goto out;
    totals(&d->ta, a);
    totals(&d->tb, b);
    for (size_t i = 0; i < bl.n; i++) finish_entry(d, &bl.v[i].pub);
    sort_b = &bl;
    if (bl.n) qsort(bl.v, bl.n, sizeof *bl.v, cmp_impact);
    d->entries = calloc(bl.n ? bl.n : 1, sizeof *d->entries);
    if (!d->entries) goto out;
    d->nentries = bl.n;
    for (size_t i = 0; i < bl.n; i++) {
        d->entries[i] = bl.v[i].pub;
        d->entries[i].stack = bl.v[i].node;
        d->entries[i].depth = bl.v[i].node == MS_HD_NONE ? 0 : bl.depth[bl.v[i].node];
    }
    rc = 0;
out:
    for (size_t i = 0; i < d->nframes; i++) free(bl.keys[i].key);
    free(bl.keys); free(bl.ftab); free(bl.depth);
    ms_u64map_free(&bl.nodemap); ms_stack_memo_free(bl.memo); ms_u64map_free(&bl.ipf);
    free(bl.ipfr); free(bl.v); free(bl.entry_of); free(bl.buf);
    if (rc) ms_heapdiff_free(d);
    return rc;
}

void ms_heapdiff_free(ms_heapdiff *d)
{
    free(d->entries);
    free(d->frames);
    free(d->nodes);
    memset(d, 0, sizeof *d);
}

const char *ms_hd_status_name(int st)
{
    static const char *const n[] = {"grew", "shrank", "new", "vanished", "unchanged"};
    return st >= 0 && st <= MS_HD_UNCHANGED ? n[st] : "?";
}
