/*
 * Heap replay: the models behind every heap report (contract and counting
 * rules in heap.h). One pass over the records; events arrive merged by
 * time from replay.c and update an open-addressing live table keyed by
 * address, per-site and per-thread counters, and the running peak.
 *
 * Per-site bytes at the global peak are exact without a second pass: the
 * peak "epoch" increases whenever a new maximum is reached, and a site
 * saves its live bytes the first time it changes after the current epoch
 * began; at the end a site touched in the last epoch reports the saved
 * value, any other site its current value.
 */
#include "heap.h"
#include "pump.h"
#include "replay.h"
#include <stdlib.h>
#include <string.h>

#define OP_LABEL 0xFE                  /* pseudo-event in the label stream  */

/* ---- u64 -> u32 map (threads, sparse stack ids, leak classes) ---- */
typedef struct u64map { uint64_t *k; uint32_t *v; size_t cap, n; } u64map;

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33;
    return x;
}

static uint32_t *map_get(const u64map *m, uint64_t k)
{
    if (!m->cap) return NULL;
    size_t j = mix(k) & (m->cap - 1);
    while (m->v[j]) {
        if (m->k[j] == k) return &m->v[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

/* Callers store value+1 (0 marks an empty slot) and subtract 1 after map_get. */
static int map_put(u64map *m, uint64_t k, uint32_t v1)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        uint64_t *nk = calloc(cap, sizeof *nk);
        uint32_t *nv = calloc(cap, sizeof *nv);
        if (!nk || !nv) { free(nk); free(nv); return MS_ENOMEM; }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->v[i]) continue;
            size_t j = mix(m->k[i]) & (cap - 1);
            while (nv[j]) j = (j + 1) & (cap - 1);
            nk[j] = m->k[i]; nv[j] = m->v[i];
        }
        free(m->k); free(m->v);
        m->k = nk; m->v = nv; m->cap = cap;
    }
    size_t j = mix(k) & (m->cap - 1);
    while (m->v[j]) {
        if (m->k[j] == k) { m->v[j] = v1; return 0; }
        j = (j + 1) & (m->cap - 1);
    }
    m->k[j] = k; m->v[j] = v1; m->n++;
    return 0;
}

static void map_free(u64map *m) { free(m->k); free(m->v); memset(m, 0, sizeof *m); }

/* ---- live table ---- */
typedef struct blk {
    uint64_t addr;
    uint64_t size, t_alloc, seq, tseq;
    uint32_t site, thr, label, align; /* site: next free block when free    */
    uint8_t op;
} blk;

typedef struct site_rec {
    ms_heap_site pub;
    uint64_t pk_bytes, pk_blocks, mod_epoch;
} site_rec;

typedef struct thr_rec {
    ms_heap_thread pub;
    uint64_t alloc_serial;            /* allocations made so far            */
} thr_rec;

typedef struct label_rec { char *var, *type; } label_rec;

struct ms_heap {
    ms_heap_opts opts;
    ms_replay *rp;
    int label_stream;
    ms_symtab *sym;
    ms_heap_summary sum;
    ms_heap_info info;
    char *exe;

    /* live table: open addressing on the addresses alone (8 bytes a slot,
     * so probes stay in cache), each slot naming its block in a dense pool
     * whose freed entries are reused first (recently touched memory) */
    uint64_t *key; uint32_t *slot_blk; size_t cap, n; unsigned shift;
    blk *pool; size_t npool, cap_pool; uint32_t free_blk;

    site_rec *sites; size_t nsites, cap_sites;
    uint32_t *site_of; size_t site_of_cap;        /* dense stack id -> site+1 */
    u64map site_map;                               /* sparse stack ids        */

    thr_rec *thr; size_t nthr, cap_thr;
    u64map thr_map;
    uint64_t last_tid; uint32_t last_thr; int have_last;
    uint32_t *stream_thr; size_t stream_thr_cap;   /* replay stream -> thr+1 */
    uint32_t cur_thr;                              /* thread of the event    */

    label_rec *labels; size_t nlabels, cap_labels;
    u64map leak_class;                             /* addr -> class+1         */

    uint64_t live_bytes, live_blocks;
    uint64_t epoch;
    uint64_t seq;
    uint64_t last_time;
    int have_time, finished;
    int err;
};

/* ---- live table (linear probing, backward-shift deletion) ---- */
static inline size_t slot_of(const ms_heap *h, uint64_t addr)
{
    return (size_t)(((addr >> 4) * 0x9e3779b97f4a7c15ull) >> h->shift);
}

#define NO_SLOT SIZE_MAX
#define NO_BLK UINT32_MAX

static int tab_grow(ms_heap *h)
{
    size_t cap = h->cap ? h->cap * 2 : 4096;
    uint64_t *k = calloc(cap, sizeof *k);
    uint32_t *v = malloc(cap * sizeof *v);
    if (!k || !v) { free(k); free(v); return MS_ENOMEM; }
    uint64_t *ok = h->key; uint32_t *ov = h->slot_blk; size_t ocap = h->cap;
    h->key = k; h->slot_blk = v; h->cap = cap;
    h->shift = 64 - (unsigned)__builtin_ctzll(cap);
    for (size_t i = 0; i < ocap; i++) {
        if (!ok[i]) continue;
        size_t j = slot_of(h, ok[i]);
        while (k[j]) j = (j + 1) & (cap - 1);
        k[j] = ok[i]; v[j] = ov[i];
    }
    free(ok); free(ov);
    return 0;
}

/* Slot of live address addr (!= 0), or NO_SLOT. */
static inline size_t tab_find(const ms_heap *h, uint64_t addr)
{
    size_t m = h->cap - 1, j = slot_of(h, addr);
    for (;;) {
        uint64_t a = h->key[j];
        if (a == addr) return j;
        if (!a) return NO_SLOT;
        j = (j + 1) & m;
    }
}

static inline blk *slot_block(const ms_heap *h, size_t j) { return &h->pool[h->slot_blk[j]]; }

/* A pool entry for a new block (may move the pool): its index or NO_BLK. */
static inline uint32_t blk_new(ms_heap *h)
{
    if (h->free_blk != NO_BLK) {
        uint32_t i = h->free_blk;
        h->free_blk = h->pool[i].site;
        return i;
    }
    if (h->npool == h->cap_pool) {
        size_t cap = h->cap_pool ? h->cap_pool * 2 : 1024;
        if (cap >= NO_BLK) return NO_BLK;
        blk *p = realloc(h->pool, cap * sizeof *p);
        if (!p) return NO_BLK;
        h->pool = p; h->cap_pool = cap;
    }
    return (uint32_t)h->npool++;
}

/* Remove slot i (backward-shift deletion) and release its block. */
static inline void tab_remove(ms_heap *h, size_t i)
{
    uint32_t bi = h->slot_blk[i];
    h->pool[bi].site = h->free_blk;
    h->free_blk = bi;
    size_t m = h->cap - 1, j = i;
    for (;;) {
        j = (j + 1) & m;
        if (!h->key[j]) break;
        size_t k = slot_of(h, h->key[j]);
        /* move j to i when its home k is not cyclically in (i, j], i.e.
         * when j is at least as far from k as from i */
        if (((j - k) & m) >= ((j - i) & m)) {
            h->key[i] = h->key[j];
            h->slot_blk[i] = h->slot_blk[j];
            i = j;
        }
    }
    h->key[i] = 0;
    h->n--;
}

/* ---- sites and threads ---- */
static long new_site(ms_heap *h, uint64_t stack)
{
    if (h->nsites == h->cap_sites) {
        size_t cap = h->cap_sites ? h->cap_sites * 2 : 1024;
        site_rec *s = realloc(h->sites, cap * sizeof *s);
        if (!s) return MS_ENOMEM;
        h->sites = s; h->cap_sites = cap;
    }
    memset(&h->sites[h->nsites], 0, sizeof h->sites[0]);
    h->sites[h->nsites].pub.stack_id = stack;
    return (long)h->nsites++;
}

static long site_index(ms_heap *h, uint64_t stack)
{
    if (stack < h->site_of_cap && h->site_of[stack]) return h->site_of[stack] - 1;
    uint64_t lim = ms_symtab_max_node(h->sym) + 1;
    if (stack < lim || stack < 65536) {
        if (stack >= h->site_of_cap) {
            size_t cap = h->site_of_cap ? h->site_of_cap : 4096;
            while (cap <= stack) cap *= 2;
            uint32_t *t = realloc(h->site_of, cap * sizeof *t);
            if (!t) return MS_ENOMEM;
            memset(t + h->site_of_cap, 0, (cap - h->site_of_cap) * sizeof *t);
            h->site_of = t; h->site_of_cap = cap;
        }
        long s = new_site(h, stack);
        if (s >= 0) h->site_of[stack] = (uint32_t)s + 1;
        return s;
    }
    uint32_t *v = map_get(&h->site_map, stack);
    if (v) return *v - 1;
    long s = new_site(h, stack);
    if (s >= 0 && map_put(&h->site_map, stack, (uint32_t)s + 1)) return MS_ENOMEM;
    return s;
}

static long thread_index(ms_heap *h, uint64_t tid)
{
    if (h->have_last && h->last_tid == tid) return h->last_thr;
    uint32_t *v = map_get(&h->thr_map, tid);
    long t;
    if (v) t = *v - 1;
    else {
        if (h->nthr == h->cap_thr) {
            size_t cap = h->cap_thr ? h->cap_thr * 2 : 16;
            thr_rec *n = realloc(h->thr, cap * sizeof *n);
            if (!n) return MS_ENOMEM;
            h->thr = n; h->cap_thr = cap;
        }
        memset(&h->thr[h->nthr], 0, sizeof h->thr[0]);
        h->thr[h->nthr].pub.tid = tid;
        h->thr[h->nthr].pub.name = "";
        t = (long)h->nthr++;
        if (map_put(&h->thr_map, tid, (uint32_t)t + 1)) return MS_ENOMEM;
    }
    h->last_tid = tid; h->last_thr = (uint32_t)t; h->have_last = 1;
    return t;
}

static inline void site_touch(ms_heap *h, site_rec *s)
{
    if (s->mod_epoch != h->epoch) {
        s->pk_bytes = s->pub.live_bytes;
        s->pk_blocks = s->pub.live_blocks;
        s->mod_epoch = h->epoch;
    }
}

/* ---- replay ---- */
static void report(ms_heap *h, const blk *b, int freed, uint64_t t_free, uint64_t free_tid,
                   uint8_t free_op, int temporary, uint32_t leak_class)
{
    if (!h->opts.on_block) return;
    ms_heap_block o;
    o.addr = b->addr; o.size = b->size; o.t_alloc = b->t_alloc; o.t_free = t_free;
    o.tid = h->thr[b->thr].pub.tid; o.free_tid = free_tid;
    o.stack_id = h->sites[b->site].pub.stack_id; o.seq = b->seq; o.site = b->site;
    o.align = b->align; o.leak_class = leak_class; o.op = b->op; o.freed = (uint8_t)freed;
    o.temporary = (uint8_t)temporary; o.free_op = free_op;
    o.var_name = b->label ? h->labels[b->label - 1].var : NULL;
    o.type_name = b->label ? h->labels[b->label - 1].type : NULL;
    h->opts.on_block(h->opts.ctx, &o);
}

/* Release the live block in slot j at event ev; counted unless `silent`. */
static void do_free(ms_heap *h, size_t j, const ms_event *ev, int silent)
{
    const blk *b = slot_block(h, j);
    site_rec *s = &h->sites[b->site];
    thr_rec *t = &h->thr[b->thr];
    int temp = t->alloc_serial == b->tseq;
    site_touch(h, s);
    s->pub.live_bytes -= b->size; s->pub.live_blocks--;
    t->pub.live_bytes -= b->size; t->pub.live_blocks--;
    h->live_bytes -= b->size; h->live_blocks--;
    if (!silent) {
        h->sum.total_deallocations++;
        h->sum.total_deallocated_bytes += b->size;
        s->pub.deallocations++;
        h->thr[h->cur_thr].pub.deallocations++;
        if (temp) {
            h->sum.temporary_allocations++;
            s->pub.temporary++;
            t->pub.temporary++;
        }
    }
    report(h, b, 1, ev->time, ev->tid, ev->op, temp && !silent, 0);
    tab_remove(h, j);
}

static int do_alloc(ms_heap *h, const ms_event *ev, uint64_t addr, uint32_t thr)
{
    long si = site_index(h, ev->stack);
    if (si < 0) return (int)si;
    if ((h->n + 1) * 2 > h->cap && tab_grow(h)) return MS_ENOMEM;
    size_t j;
    for (;;) {                        /* one probe: the match or a free slot */
        size_t m = h->cap - 1;
        j = slot_of(h, addr);
        while (h->key[j] && h->key[j] != addr) j = (j + 1) & m;
        if (!h->key[j]) break;
        h->sum.duplicate_allocs++;    /* a free we never saw                */
        do_free(h, j, ev, 1);         /* moves entries: probe again         */
    }
    uint32_t bi = blk_new(h);
    if (bi == NO_BLK) return MS_ENOMEM;
    h->key[j] = addr;
    h->slot_blk[j] = bi;
    blk *b = &h->pool[bi];
    h->n++;
    thr_rec *t = &h->thr[thr];
    site_rec *s = &h->sites[si];
    b->addr = addr; b->size = ev->size; b->t_alloc = ev->time; b->seq = h->seq++;
    b->tseq = ++t->alloc_serial; b->site = (uint32_t)si; b->thr = thr; b->label = 0;
    b->align = ev->align; b->op = ev->op;
    site_touch(h, s);
    s->pub.live_bytes += ev->size; s->pub.live_blocks++;
    s->pub.allocations++; s->pub.allocated_bytes += ev->size;
    if (ev->size > s->pub.max_size) s->pub.max_size = ev->size;
    t->pub.live_bytes += ev->size; t->pub.live_blocks++;
    t->pub.allocations++; t->pub.allocated_bytes += ev->size;
    h->live_bytes += ev->size; h->live_blocks++;
    h->sum.total_allocations++;
    h->sum.total_allocated_bytes += ev->size;
    return 0;
}

static int apply_label(ms_heap *h, const ms_event *ev)
{
    size_t j = ev->addr ? tab_find(h, ev->addr) : NO_SLOT;
    if (j == NO_SLOT) { h->sum.unmatched_labels++; return 0; }
    slot_block(h, j)->label = (uint32_t)ev->size + 1;
    return 0;
}

/* A free of an address that is not live: in a window trace a block
 * allocated before the window (spec 8.8), else unmatched. */
static void unknown_free(ms_heap *h)
{
    if (h->info.scope == MS_SCOPE_WINDOW) h->sum.frees_before_window++;
    else h->sum.unmatched_frees++;
}

static int deliver(void *ctx, const ms_event *ev, uint32_t stream)
{
    ms_heap *h = ctx;
    if ((int)stream == h->label_stream) return apply_label(h, ev);
    long ti;
    if (stream < h->stream_thr_cap && h->stream_thr[stream]) ti = (long)h->stream_thr[stream] - 1;
    else {
        ti = thread_index(h, ev->tid);
        if (ti < 0) return (int)ti;
        if (stream >= h->stream_thr_cap) {
            size_t cap = h->stream_thr_cap ? h->stream_thr_cap : 64;
            while (cap <= stream) cap *= 2;
            uint32_t *t = realloc(h->stream_thr, cap * sizeof *t);
            if (!t) return MS_ENOMEM;
            memset(t + h->stream_thr_cap, 0, (cap - h->stream_thr_cap) * sizeof *t);
            h->stream_thr = t; h->stream_thr_cap = cap;
        }
        h->stream_thr[stream] = (uint32_t)ti + 1;
    }
    h->cur_thr = (uint32_t)ti;
    thr_rec *t = &h->thr[ti];
    if (!t->pub.events++) t->pub.first_time = ev->time;
    t->pub.last_time = ev->time;
    if (!h->have_time) { h->sum.first_time = ev->time; h->have_time = 1; }
    if (ev->time > h->last_time) h->last_time = ev->time;
    h->sum.events++;
    int e = 0;
    uint8_t op = ev->op;
    if (MS_OP_IS_FREE(op)) {
        if (ev->addr) {
            size_t j = tab_find(h, ev->addr);
            if (j != NO_SLOT) do_free(h, j, ev, 0);
            else unknown_free(h);
        }
    } else if (MS_OP_IS_REALLOC(op)) {
        h->sum.reallocs++;
        if (ev->old_addr && (ev->addr || ev->size == 0)) {
            size_t j = tab_find(h, ev->old_addr);
            if (j != NO_SLOT) do_free(h, j, ev, 0);
            else unknown_free(h);
            if (!ev->addr) h->sum.realloc_frees++;
            else if (ev->addr == ev->old_addr) h->sum.reallocs_in_place++;
        }
        if (ev->addr) e = do_alloc(h, ev, ev->addr, (uint32_t)ti);
        else if (ev->size) { h->sum.failed_allocations++; t->pub.failed++; }
    } else {
        if (ev->addr) e = do_alloc(h, ev, ev->addr, (uint32_t)ti);
        else { h->sum.failed_allocations++; t->pub.failed++; }
    }
    if (h->live_bytes > h->sum.peak_memory) {
        h->sum.peak_memory = h->live_bytes;
        h->sum.peak_blocks = h->live_blocks;
        h->sum.peak_time = ev->time;
        h->epoch++;
    }
    return e;
}

/* Replay hint (replay.h): load the live-table slot of an address the
 * replay reaches in a few events, and for a nearer one (whose slot should
 * be cached by now) the block it names, so frees do not wait for memory:
 * the window of buffered events streams through the caches between two
 * SYNC records and evicts part of the table. (With a SYNC per recorder
 * epoch the window is ~0.5 MiB and the bench table ~0.5 MiB, mostly L2
 * hits; the hint still saves a few % there and much more on large live
 * sets.) */
static void prefetch(void *ctx, uint64_t far_addr, uint64_t near_addr)
{
    const ms_heap *h = ctx;
    if (far_addr) __builtin_prefetch(&h->key[slot_of(h, far_addr)]);
    if (near_addr) {
        size_t j = slot_of(h, near_addr);
        if (h->key[j] == near_addr) __builtin_prefetch(&h->pool[h->slot_blk[j]]);
    }
}

static int fits(void *ctx, const ms_event *ev)
{
    ms_heap *h = ctx;
    if (ev->op == OP_LABEL) return !ev->addr || tab_find(h, ev->addr) != NO_SLOT;   /* as before: label of 0 fits */
    if (MS_OP_IS_FREE(ev->op)) return !ev->addr || tab_find(h, ev->addr) != NO_SLOT;
    if (MS_OP_IS_REALLOC(ev->op)) {
        if (ev->old_addr && (ev->addr || !ev->size) && tab_find(h, ev->old_addr) == NO_SLOT) return 0;
        return !ev->addr || ev->addr == ev->old_addr || tab_find(h, ev->addr) == NO_SLOT;
    }
    return !ev->addr || tab_find(h, ev->addr) == NO_SLOT;
}

int ms_heap_new(ms_heap **out, const ms_heap_opts *opts)
{
    *out = NULL;
    ms_heap *h = calloc(1, sizeof *h);
    if (!h) return MS_ENOMEM;
    if (opts) h->opts = *opts;
    h->info.clock_hz = 1000000000ull;
    h->free_blk = NO_BLK;
    h->info.exe = "";
    int e;
    if ((e = ms_symtab_new(&h->sym)) || (e = ms_replay_new(&h->rp, deliver, fits, h)) ||
        (e = tab_grow(h))) {
        ms_heap_free(h);
        return e;
    }
    ms_replay_set_prefetch(h->rp, prefetch);
    h->label_stream = ms_replay_open_stream(h->rp);
    if (h->label_stream < 0 || new_site(h, 0) < 0) { ms_heap_free(h); return MS_ENOMEM; }
    h->site_of = calloc(4096, sizeof *h->site_of);
    if (!h->site_of) { ms_heap_free(h); return MS_ENOMEM; }
    h->site_of_cap = 4096;
    h->site_of[0] = 1;
    *out = h;
    return 0;
}

void ms_heap_free(ms_heap *h)
{
    if (!h) return;
    ms_replay_free(h->rp);
    ms_symtab_free(h->sym);
    for (size_t i = 0; i < h->nthr; i++)
        if (h->thr[i].pub.name[0]) free((char *)h->thr[i].pub.name);
    free(h->key); free(h->slot_blk); free(h->pool); free(h->sites); free(h->site_of); free(h->thr); free(h->stream_thr);
    map_free(&h->site_map); map_free(&h->thr_map); map_free(&h->leak_class);
    for (size_t i = 0; i < h->nlabels; i++) { free(h->labels[i].var); free(h->labels[i].type); }
    free(h->labels);
    free(h->exe);
    free(h);
}

static char *dupstr(ms_str s)
{
    size_t n = s.ptr ? strnlen(s.ptr, s.len) : 0;
    char *c = malloc(n + 1);
    if (!c) return NULL;
    if (n) memcpy(c, s.ptr, n);
    c[n] = 0;
    return c;
}

static int add_label(ms_heap *h, const ms_label_rec *l)
{
    if (h->nlabels == h->cap_labels) {
        size_t cap = h->cap_labels ? h->cap_labels * 2 : 64;
        label_rec *n = realloc(h->labels, cap * sizeof *n);
        if (!n) return MS_ENOMEM;
        h->labels = n; h->cap_labels = cap;
    }
    label_rec *r = &h->labels[h->nlabels];
    r->var = dupstr(l->var_name);
    r->type = dupstr(l->type_name);
    if (!r->var || !r->type) { free(r->var); free(r->type); return MS_ENOMEM; }
    h->sum.labels++;
    ms_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time = l->time; ev.tid = l->tid; ev.addr = l->addr; ev.op = OP_LABEL;
    ev.size = h->nlabels++;
    return ms_replay_push_stream(h->rp, h->label_stream, &ev);
}

int ms_heap_add(ms_heap *h, const ms_record *rec)
{
    if (h->err) return h->err;
    if (h->finished) return MS_ESTATE;
    int e = 0;
    switch (rec->type) {
    case MS_REC_EVENT:
        e = ms_replay_push(h->rp, &rec->u.event);
        break;
    case MS_REC_SYNC:
        e = ms_replay_sync(h->rp, rec->u.sync.time);
        break;
    case MS_REC_STACK: case MS_REC_SYMBOL: case MS_REC_MODULE: case MS_REC_MODULE_UNLOAD:
        e = ms_symtab_add(h->sym, rec);
        break;
    case MS_REC_THREAD: {
        long t = thread_index(h, rec->u.thread.tid);
        if (t < 0) { e = (int)t; break; }
        if (rec->u.thread.name.len) {
            char *n = dupstr(rec->u.thread.name);
            if (!n) { e = MS_ENOMEM; break; }
            if (h->thr[t].pub.name[0]) free((char *)h->thr[t].pub.name);
            h->thr[t].pub.name = n;
        }
        break;
    }
    case MS_REC_LABEL:
        e = add_label(h, &rec->u.label);
        break;
    case MS_REC_META: {
        const ms_meta *m = &rec->u.meta;
        if (m->clock_hz) h->info.clock_hz = m->clock_hz;
        h->info.start_wall_ns = m->start_wall_ns;
        h->info.pid = m->pid;
        h->info.mode = m->mode;
        h->info.sample_rate = m->sample_rate;
        h->info.scope = m->scope;
        h->info.process_start_ns = m->process_start_ns;
        h->info.session = m->session;
        free(h->exe);
        if (!(h->exe = dupstr(m->exe))) { e = MS_ENOMEM; break; }
        h->info.exe = h->exe;
        h->info.has_meta = 1;
        break;
    }
    case MS_REC_END:
        h->info.end = rec->u.end;
        h->info.has_end = 1;
        break;
    case MS_REC_LIVE_BLOCKS:
        for (uint32_t i = 0; i < rec->u.live_blocks.count && !e; i++) {
            const ms_live_block *b = &rec->u.live_blocks.blocks[i];
            e = map_put(&h->leak_class, b->addr, b->leak_class + 1);
        }
        break;
    default:
        break;
    }
    if (e) h->err = e;
    return e;
}

int ms_heap_add_packed(ms_heap *h, uint64_t tid, const ms_replay_packed *ev, size_t n, const ms_event *side)
{
    if (h->err) return h->err;
    if (h->finished) return MS_ESTATE;
    int e = ms_replay_push_packed(h->rp, tid, ev, n, side);
    if (e) h->err = e;
    return e;
}

/* ---- symbols for ips without SYMBOL records (heap.h) ---- */
static ms_heap_resolve_fn resolve_fn;
static void *resolve_ctx;

void ms_heap_set_resolver(ms_heap_resolve_fn fn, void *ctx) { resolve_fn = fn; resolve_ctx = ctx; }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int resolve_missing(ms_heap *h)
{
    uint64_t max = ms_symtab_max_node(h->sym);
    if (!resolve_fn || max == 0) return 0;
    uint64_t *ips = malloc(max * sizeof *ips);
    if (!ips) return MS_ENOMEM;
    size_t n = 0;
    for (uint64_t id = 1; id <= max; id++) {
        uint64_t parent, ip;
        const ms_symtab_frame *f;
        if (ms_symtab_node(&parent, &ip, h->sym, id) == 0 && ip &&
            ms_symtab_frames(&f, h->sym, ip) == 0)
            ips[n++] = ip;
    }
    if (n > 1) qsort(ips, n, sizeof *ips, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || ips[k - 1] != ips[i]) ips[k++] = ips[i];
    if (k) resolve_fn(resolve_ctx, h->sym, ips, k);
    free(ips);
    return 0;
}

static int cmp_seq(const void *a, const void *b)
{
    uint64_t x = (*(blk *const *)a)->seq, y = (*(blk *const *)b)->seq;
    return x < y ? -1 : x > y;
}

int ms_heap_finish(ms_heap *h)
{
    if (h->err) return h->err;
    if (h->finished) return MS_ESTATE;
    h->finished = 1;
    int e = ms_replay_flush(h->rp);
    if (e) return h->err = e;
    if ((e = resolve_missing(h))) return h->err = e;
    ms_replay_stats rs;
    ms_replay_get_stats(&rs, h->rp);
    h->sum.late_events = rs.late;
    h->sum.ties = rs.ties;
    h->sum.max_buffered_events = rs.max_buffered;
    uint64_t end = h->last_time;
    if (h->info.has_end && h->info.end.time > end) end = h->info.end.time;
    h->sum.end_time = end;
    h->sum.active_allocations = h->sum.leaked_allocations = h->live_blocks;
    h->sum.active_memory = h->sum.leaked_memory = h->live_bytes;
    h->sum.threads = h->nthr;
    h->sum.sites = h->nsites;
    for (size_t i = 0; i < h->nsites; i++) {
        site_rec *s = &h->sites[i];
        if (s->mod_epoch == h->epoch) {
            s->pub.peak_bytes = s->pk_bytes;
            s->pub.peak_blocks = s->pk_blocks;
        } else {
            s->pub.peak_bytes = s->pub.live_bytes;
            s->pub.peak_blocks = s->pub.live_blocks;
        }
    }
    /* live blocks: leak classes and the callback, in allocation order */
    blk **live = NULL;
    if (h->n) {
        live = malloc(h->n * sizeof *live);
        if (!live) return h->err = MS_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < h->cap; i++) if (h->key[i]) live[k++] = slot_block(h, i);
    if (k > 1) qsort(live, k, sizeof *live, cmp_seq);
    for (size_t i = 0; i < k; i++) {
        const uint32_t *c = map_get(&h->leak_class, live[i]->addr);
        uint32_t cls = c ? *c - 1 : MS_LEAK_UNKNOWN;
        if (cls > MS_LEAK_LIBC) cls = MS_LEAK_UNKNOWN;
        h->sum.leak_class_blocks[cls]++;
        h->sum.leak_class_bytes[cls] += live[i]->size;
        report(h, live[i], 0, end, 0, 0, 0, cls);
    }
    free(live);
    return 0;
}

/* ---- load progress (heap.h) ---- */
static _Thread_local ms_heap_progress_fn progress_fn;
static _Thread_local void *progress_ctx;

void ms_heap_set_progress(ms_heap_progress_fn fn, void *ctx) { progress_fn = fn; progress_ctx = ctx; }

int ms_heap_progress_enabled(void) { return progress_fn != NULL; }

void ms_heap_progress(const ms_reader *r, uint64_t *count)
{
    if (!progress_fn || (++*count & 0xffff)) return;
    ms_chunk_info ci;
    ms_integrity in;
    ms_reader_chunk(r, &ci);
    ms_reader_integrity(r, &in);
    progress_fn(progress_ctx, ci.offset < in.file_size ? ci.offset : in.file_size, in.file_size);
}

void ms_heap_progress_done(const ms_reader *r)
{
    if (!progress_fn) return;
    ms_integrity in;
    ms_reader_integrity(r, &in);
    progress_fn(progress_ctx, in.file_size, in.file_size);
}

static int pump_record(void *ctx, const ms_record *rec) { return ms_heap_add(ctx, rec); }
static int pump_events(void *ctx, uint64_t tid, const ms_replay_packed *ev, size_t n, const ms_event *side)
{
    return ms_heap_add_packed(ctx, tid, ev, n, side);
}

int ms_heap_load(ms_heap **out, ms_integrity *integ, const char *path, const ms_heap_opts *opts)
{
    *out = NULL;
    if (integ) memset(integ, 0, sizeof *integ);
    ms_reader *r;
    int e = ms_reader_open(&r, path);
    if (e) return e;
    ms_heap *h;
    if ((e = ms_heap_new(&h, opts))) { ms_reader_close(r); return e; }
    e = ms_pump_run(r, pump_record, pump_events, h);
    if (e == 0) e = ms_heap_finish(h);
    ms_heap_progress_done(r);
    if (integ) ms_reader_integrity(r, integ);
    ms_reader_close(r);
    if (e) { ms_heap_free(h); return e; }
    *out = h;
    return 0;
}

const ms_heap_summary *ms_heap_get_summary(const ms_heap *h) { return &h->sum; }
const ms_heap_info *ms_heap_get_info(const ms_heap *h) { return &h->info; }
const ms_symtab *ms_heap_symtab(const ms_heap *h) { return h->sym; }
size_t ms_heap_site_count(const ms_heap *h) { return h->nsites; }
const ms_heap_site *ms_heap_site_at(const ms_heap *h, size_t i)
{
    return i < h->nsites ? &h->sites[i].pub : NULL;
}

long ms_heap_site_find(const ms_heap *h, uint64_t stack)
{
    if (stack < h->site_of_cap) return (long)h->site_of[stack] - 1;
    const uint32_t *v = map_get(&h->site_map, stack);
    return v ? (long)*v - 1 : -1;
}

size_t ms_heap_thread_count(const ms_heap *h) { return h->nthr; }
const ms_heap_thread *ms_heap_thread_at(const ms_heap *h, size_t i)
{
    return i < h->nthr ? &h->thr[i].pub : NULL;
}

uint64_t ms_heap_ticks_ms(const ms_heap *h, uint64_t t)
{
    uint64_t hz = h->info.clock_hz ? h->info.clock_hz : 1;
    return t / hz * 1000 + (t % hz) * 1000 / hz;
}

int ms_heap_window(const ms_heap *h, double *after_start_s)
{
    const ms_heap_info *in = &h->info;
    if (in->scope != MS_SCOPE_WINDOW) return 0;
    if (after_start_s)
        *after_start_s = in->process_start_ns && in->start_wall_ns >= in->process_start_ns
                             ? (double)(in->start_wall_ns - in->process_start_ns) / 1e9 : -1;
    return 1;
}

double ms_heap_ticks_sec(const ms_heap *h, uint64_t t)
{
    return (double)t / (double)(h->info.clock_hz ? h->info.clock_hz : 1);
}
