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
 *
 * Sampled traces (META mode 1, spec/FORMAT.md §8.8) are weighted here and
 * nowhere else: every count and byte total below adds a block's weight
 * (weigh(): 1 and its size in a full trace) when it is allocated and
 * subtracts the same weight when it is freed, so every model and view built
 * on this replay (sites, peak, leaks, threads, the per-block callback:
 * timeline, lifetimes, histograms; the call tree, heap profiles, diffs)
 * shows estimates of the whole program without knowing about sampling.
 * The weight is not stored: it is computed again from the block's size and
 * allocation number (both in blk) wherever it is needed.
 */
#include "heap.h"
#include "pump.h"
#include "replay.h"
#include "u64map.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const char no_name[] = "";     /* an unnamed thread's name         */

#define OP_LABEL 0xFE                  /* pseudo-event in the label stream  */
#define OP_MARK 0xFD                   /* a MARK placed by time (range.h)   */

/* threads and sparse stack ids: ms_u64map (u64map.h) */

/* ---- live table ----
 * A block is 40 bytes in a dense pool (freed entries reused first, so the
 * memory touched stays recent); the table is 8-byte slots (top 32 bits of
 * the address hash, pool index + 1) at most 1/2 full: 56 to 72 bytes a
 * live block, with the rare extras (alignment, label) in a side array
 * that exists only once some block has one. (At 3/4 the probes of a free,
 * an allocation and the deletion's backward shift ran long enough to cost
 * ~15% of a replay whose table sits in the caches.) */
typedef struct blk {
    uint64_t addr, size, t_alloc;
    uint64_t seq_op;                  /* seq << 16 | leak class << 8 | op   */
    uint32_t site, thr;               /* free entry: site = next free,
                                         thr = FREE_THR                     */
} blk;

typedef struct blk_ext { uint32_t align, label; } blk_ext;

#define FREE_THR UINT32_MAX
#define OUT_THR (UINT32_MAX - 1)      /* a block allocated outside the range
                                         (range.h): replayed, never counted */
#define SEQ_OF(b) ((b)->seq_op >> 16)
#define OP_OF(b) ((uint8_t)(b)->seq_op)
#define CLS_OF(b) ((uint32_t)((b)->seq_op >> 8) & 0xff)

typedef struct site_rec {
    ms_heap_site pub;
    uint64_t pk_bytes, pk_blocks, mod_epoch;
} site_rec;

typedef struct thr_rec {
    ms_heap_thread pub;
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

    /* live table (see blk): linear probing on 8-byte slots */
    uint64_t *slot; size_t cap, n; unsigned shift;
    blk *pool; size_t npool, cap_pool; uint32_t free_blk;
    blk_ext *ext;                                  /* NULL until needed, else
                                                      cap_pool entries        */

    site_rec *sites; size_t nsites, cap_sites;
    uint32_t *site_of; size_t site_of_cap;        /* dense stack id -> site+1 */
    ms_u64map site_map;                               /* sparse stack ids        */

    thr_rec *thr; size_t nthr, cap_thr;
    ms_u64map thr_map;
    uint64_t last_tid; uint32_t last_thr; int have_last;
    uint32_t *stream_thr; size_t stream_thr_cap;   /* replay stream -> thr+1 */
    uint32_t cur_thr;                              /* thread of the event    */

    label_rec *labels; size_t nlabels, cap_labels;
    uint64_t *lk_addr; uint8_t *lk_cls;           /* LIVE_BLOCKS, file order */
    size_t nlk, cap_lk;

    uint64_t live_bytes, live_blocks;
    uint64_t rate;                                 /* sampled trace: R; 0 = full */
    uint64_t failed_seq;
    uint64_t last_alloc;              /* seq + 1 of the allocation that was
                                         the last allocation event (alloc or
                                         free), 0 after a free: heap.h
                                         "temporary"                        */
    uint64_t epoch;
    uint64_t seq;
    uint64_t last_time;
    int have_time, finished;
    int err;
    ms_range *range;                               /* NULL: the whole trace  */
};

/* ---- live table (linear probing, backward-shift deletion) ----
 * A slot is hash(addr) >> 32 (the fingerprint, whose top bits are the home
 * slot) << 32 | pool index + 1; 0 is empty. Capacity stays <= 2^32 slots. */
#define NO_SLOT SIZE_MAX
#define NO_BLK (UINT32_MAX - 1)
#define SLOT_FP(v) ((uint32_t)((v) >> 32))
#define SLOT_BLK(v) ((uint32_t)(v) - 1)

static inline uint64_t addr_hash(uint64_t addr) { return addr * 0x9e3779b97f4a7c15ull; }
static inline size_t home_of_fp(const ms_heap *h, uint32_t fp) { return (size_t)(fp >> (h->shift - 32)); }

static void prefetch(void *ctx, uint64_t far_addr, uint64_t near_addr);
#define PF_MIN_CAP 65536              /* slots: 512 KiB, blocks 1.3 MiB    */

/* Double the table. The old table is read in slot order, which is nearly
 * the order of the new homes (top hash bits), and given back to the
 * system 2 MiB at a time behind the read, so the peak stays near the new
 * table's size instead of old + new. The new table is written (memset)
 * before it is read: a read of a fresh page maps the zero page, and the
 * first write then costs a TLB flush, which dominated large replays. */
static int tab_grow(ms_heap *h)
{
    size_t cap = h->cap ? h->cap * 2 : 4096;
    if (cap > ((size_t)1 << 32)) return MS_ENOMEM;
    uint64_t *k = malloc(cap * sizeof *k);
    if (!k) return MS_ENOMEM;
    __asm__ volatile("" : : "r"(k) : "memory");   /* keep the compiler from making this calloc */
    memset(k, 0, cap * sizeof *k);
    uint64_t *ok = h->slot; size_t ocap = h->cap;
    h->slot = k; h->cap = cap;
    h->shift = 64 - (unsigned)__builtin_ctzll(cap);
    const size_t page = (2u << 20) / sizeof *ok;
    uintptr_t lo = ((uintptr_t)ok + 4095) & ~(uintptr_t)4095;   /* first whole page */
    size_t given = ok ? (size_t)((uint64_t *)lo - ok) : 0;
    for (size_t i = 0; i < ocap; i++) {
        uint64_t v = ok[i];
        if (v) {
            size_t j = home_of_fp(h, SLOT_FP(v));
            while (k[j]) j = (j + 1) & (cap - 1);
            k[j] = v;
        }
        if (i + 1 >= given + page && ocap > 2 * page) {
            madvise(ok + given, page * sizeof *ok, MADV_DONTNEED);
            given += page;
        }
    }
    free(ok);
    /* the replay hint pays only once the table outgrows the caches: on a
     * table of 16 384 slots (~310 KiB with its blocks, in L2) it was ~6 %
     * of the replay thread for nothing */
    ms_replay_set_prefetch(h->rp, cap >= PF_MIN_CAP ? prefetch : NULL);
    return 0;
}

static inline blk *slot_block(const ms_heap *h, size_t j) { return &h->pool[SLOT_BLK(h->slot[j])]; }

/* Slot of live address addr (!= 0), or NO_SLOT. */
static inline size_t tab_find(const ms_heap *h, uint64_t addr)
{
    uint64_t hh = addr_hash(addr);
    uint32_t fp = (uint32_t)(hh >> 32);
    size_t m = h->cap - 1, j = (size_t)(hh >> h->shift);
    for (;;) {
        uint64_t v = h->slot[j];
        if (!v) return NO_SLOT;
        if (SLOT_FP(v) == fp && h->pool[SLOT_BLK(v)].addr == addr) return j;
        j = (j + 1) & m;
    }
}

/* A pool entry for a new block (may move the pool): its index or NO_BLK. */
static inline uint32_t blk_new(ms_heap *h)
{
    uint32_t i;
    if (h->free_blk != NO_BLK) {
        i = h->free_blk;
        h->free_blk = h->pool[i].site;
        if (h->ext) h->ext[i] = (blk_ext){ 0, 0 };
        return i;
    }
    if (h->npool == h->cap_pool) {
        size_t cap = h->cap_pool ? h->cap_pool * 2 : 1024;
        if (cap >= NO_BLK) return NO_BLK;
        blk *p = realloc(h->pool, cap * sizeof *p);
        if (!p) return NO_BLK;
        h->pool = p;
        if (h->ext) {
            blk_ext *x = realloc(h->ext, cap * sizeof *x);
            if (!x) return NO_BLK;
            memset(x + h->cap_pool, 0, (cap - h->cap_pool) * sizeof *x);
            h->ext = x;
        }
        h->cap_pool = cap;
    }
    return (uint32_t)h->npool++;
}

/* The extras of pool entry i, creating the side array; NULL on ENOMEM. */
static blk_ext *blk_ext_of(ms_heap *h, uint32_t i)
{
    if (!h->ext) {
        h->ext = calloc(h->cap_pool ? h->cap_pool : 1, sizeof *h->ext);
        if (!h->ext) return NULL;
    }
    return &h->ext[i];
}

/* Remove slot i (backward-shift deletion) and release its block. */
static inline void tab_remove(ms_heap *h, size_t i)
{
    uint32_t bi = SLOT_BLK(h->slot[i]);
    h->pool[bi].site = h->free_blk;
    h->pool[bi].thr = FREE_THR;
    h->free_blk = bi;
    size_t m = h->cap - 1, j = i;
    for (;;) {
        j = (j + 1) & m;
        uint64_t v = h->slot[j];
        if (!v) break;
        size_t k = home_of_fp(h, SLOT_FP(v));
        /* move j to i when its home k is not cyclically in (i, j], i.e.
         * when j is at least as far from k as from i */
        if (((j - k) & m) >= ((j - i) & m)) {
            h->slot[i] = v;
            i = j;
        }
    }
    h->slot[i] = 0;
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
    /* dense by id while ids stay near the number of sites (a hostile id
     * of 60 million must not make a 240 MB array) */
    if (stack < 65536 || stack <= 4 * (uint64_t)h->nsites + 65536) {
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
    uint32_t v;
    if (ms_u64map_get(&h->site_map, stack, &v)) return v;
    long s = new_site(h, stack);
    if (s >= 0 && ms_u64map_put(&h->site_map, stack, (uint32_t)s)) return MS_ENOMEM;
    return s;
}

static long thread_index(ms_heap *h, uint64_t tid)
{
    if (h->have_last && h->last_tid == tid) return h->last_thr;
    uint32_t v;
    long t;
    if (ms_u64map_get(&h->thr_map, tid, &v)) t = v;
    else {
        if (h->nthr == h->cap_thr) {
            size_t cap = h->cap_thr ? h->cap_thr * 2 : 16;
            thr_rec *n = realloc(h->thr, cap * sizeof *n);
            if (!n) return MS_ENOMEM;
            h->thr = n; h->cap_thr = cap;
        }
        memset(&h->thr[h->nthr], 0, sizeof h->thr[0]);
        h->thr[h->nthr].pub.tid = tid;
        h->thr[h->nthr].pub.name = no_name;
        t = (long)h->nthr++;
        if (ms_u64map_put(&h->thr_map, tid, (uint32_t)t)) return MS_ENOMEM;
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

/* ---- weights of sampled traces ---- */
double ms_heap_sample_weight(uint64_t size, uint64_t rate)
{
    if (!rate || !size) return 1.0;
    double x = (double)size / (double)rate;
    return x > 50 ? 1.0 : 1.0 / -expm1(-x);
}

/* A uniform number in [0, 1) from a block's allocation number and a salt. */
static double unit_of(uint64_t seq, uint64_t salt)
{
    uint64_t x = seq * 0x9e3779b97f4a7c15ull + salt;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

/* Integer weights of a block (count, bytes): 1 and size in a full trace;
 * in a sampled one w = 1/p and w * size, each rounded down or up at random
 * (floor(v + u), u uniform from the block's allocation number: unbiased,
 * and the same at its allocation and at its free). */
static inline void weigh(const ms_heap *h, uint64_t size, uint64_t seq, uint64_t *wc, uint64_t *wb)
{
    if (__builtin_expect(!h->rate, 1)) { *wc = 1; *wb = size; return; }
    double w = ms_heap_sample_weight(size, h->rate), b = w * (double)size;
    *wc = (uint64_t)(w + unit_of(seq, 1));
    *wb = b >= 1.8e19 ? UINT64_MAX : (uint64_t)(b + unit_of(seq, 2));
}

/* ---- replay ---- */
static void report(ms_heap *h, const blk *b, int freed, uint64_t t_free, uint64_t free_tid,
                   uint8_t free_op, int temporary, uint32_t leak_class)
{
    if (!h->opts.on_block) return;
    ms_heap_block o;
    o.addr = b->addr; o.size = b->size; o.t_alloc = b->t_alloc; o.t_free = t_free;
    o.tid = h->thr[b->thr].pub.tid; o.free_tid = free_tid;
    o.stack_id = h->sites[b->site].pub.stack_id; o.seq = SEQ_OF(b); o.site = b->site;
    const blk_ext *x = h->ext ? &h->ext[b - h->pool] : NULL;
    uint32_t label = x ? x->label : 0;
    o.align = x ? x->align : 0; o.leak_class = leak_class; o.op = OP_OF(b); o.freed = (uint8_t)freed;
    o.temporary = (uint8_t)temporary; o.free_op = free_op;
    o.var_name = label ? h->labels[label - 1].var : NULL;
    o.type_name = label ? h->labels[label - 1].type : NULL;
    weigh(h, b->size, SEQ_OF(b), &o.wcount, &o.wsize);
    h->opts.on_block(h->opts.ctx, &o);
}

/* Release the live block in slot j at event ev; counted unless `silent`. */
static void do_free(ms_heap *h, size_t j, const ms_event *ev, int silent)
{
    const blk *b = slot_block(h, j);
    if (b->thr == OUT_THR) {          /* not in the range: state only       */
        h->last_alloc = 0;
        tab_remove(h, j);
        return;
    }
    site_rec *s = &h->sites[b->site];
    thr_rec *t = &h->thr[b->thr];
    /* (a sampled trace lacks the unsampled allocations that would end a
     * temporary: none is counted) */
    int temp = h->last_alloc == SEQ_OF(b) + 1 && !h->rate;
    h->last_alloc = 0;
    uint64_t wc, wb;
    weigh(h, b->size, SEQ_OF(b), &wc, &wb);
    site_touch(h, s);
    s->pub.live_bytes -= wb; s->pub.live_blocks -= wc;
    t->pub.live_bytes -= wb; t->pub.live_blocks -= wc;
    h->live_bytes -= wb; h->live_blocks -= wc;
    if (!silent) {
        h->sum.total_deallocations += wc;
        h->sum.total_deallocated_bytes += wb;
        s->pub.deallocations += wc;
        h->thr[h->cur_thr].pub.deallocations += wc;
        if (temp) {
            h->sum.temporary_allocations++;
            s->pub.temporary++;
            t->pub.temporary++;
        }
    }
    if (h->opts.on_block) report(h, b, 1, ev->time, ev->tid, ev->op, temp && !silent, 0);
    tab_remove(h, j);
}

static int do_alloc(ms_heap *h, const ms_event *ev, uint64_t addr, uint32_t thr, int in)
{
    long si = in ? site_index(h, ev->stack) : 0;
    if (si < 0) return (int)si;
    if ((h->n + 1) * 2 > h->cap && tab_grow(h)) return MS_ENOMEM;
    uint64_t hh = addr_hash(addr);
    uint32_t fp = (uint32_t)(hh >> 32);
    size_t j;
    for (;;) {                        /* one probe: the match or a free slot */
        size_t m = h->cap - 1;
        j = (size_t)(hh >> h->shift);
        uint64_t v;
        while ((v = h->slot[j]) && !(SLOT_FP(v) == fp && h->pool[SLOT_BLK(v)].addr == addr)) j = (j + 1) & m;
        if (!v) break;
        h->sum.duplicate_allocs++;    /* a free we never saw                */
        do_free(h, j, ev, 1);         /* moves entries: probe again         */
    }
    uint32_t bi = blk_new(h);
    if (bi == NO_BLK) return MS_ENOMEM;
    blk_ext *x = NULL;
    if (ev->align && !(x = blk_ext_of(h, bi))) return MS_ENOMEM;
    if (x) x->align = ev->align;
    h->slot[j] = (uint64_t)fp << 32 | (bi + 1);
    blk *b = &h->pool[bi];
    h->n++;
    thr_rec *t = &h->thr[thr];
    site_rec *s = &h->sites[si];
    uint64_t seq = h->seq++;
    b->addr = addr; b->size = ev->size; b->t_alloc = ev->time;
    b->seq_op = seq << 16 | ev->op;
    h->last_alloc = (seq & (UINT64_MAX >> 16)) + 1;
    b->site = (uint32_t)si; b->thr = thr;
    if (!in) { b->thr = OUT_THR; return 0; }
    uint64_t wc, wb;
    weigh(h, ev->size, SEQ_OF(b), &wc, &wb);
    site_touch(h, s);
    s->pub.live_bytes += wb; s->pub.live_blocks += wc;
    s->pub.allocations += wc; s->pub.allocated_bytes += wb;
    if (ev->size > s->pub.max_size) s->pub.max_size = ev->size;
    t->pub.live_bytes += wb; t->pub.live_blocks += wc;
    t->pub.allocations += wc; t->pub.allocated_bytes += wb;
    h->live_bytes += wb; h->live_blocks += wc;
    h->sum.total_allocations += wc;
    h->sum.total_allocated_bytes += wb;
    return 0;
}

static void failed(ms_heap *h, thr_rec *t, uint64_t size)
{
    uint64_t wc, wb;
    weigh(h, size, h->failed_seq++ | (1ull << 63), &wc, &wb);
    h->sum.failed_allocations += wc;
    t->pub.failed += wc;
}

static int apply_label(ms_heap *h, const ms_event *ev)
{
    size_t j = ev->addr ? tab_find(h, ev->addr) : NO_SLOT;
    if (j == NO_SLOT) { h->sum.unmatched_labels++; return 0; }
    blk_ext *x = blk_ext_of(h, SLOT_BLK(h->slot[j]));
    if (!x) return MS_ENOMEM;
    x->label = (uint32_t)ev->size + 1;
    return 0;
}

/* A free of an address that is not live: in a window trace a block
 * allocated before the window (spec 8.9), else unmatched. */
static void unknown_free(ms_heap *h)
{
    if (h->info.scope == MS_SCOPE_WINDOW) h->sum.frees_before_window++;
    else h->sum.unmatched_frees++;
}

/* A ranged replay at its range's end (range.h): what is live now (only
 * blocks allocated in the range are counted) is its "peak", per site too
 * (ms_heap_finish reports pk_* of sites touched in the current epoch). */
static void range_picture(ms_heap *h)
{
    h->epoch++;
    for (size_t i = 0; i < h->nsites; i++) {
        site_rec *s = &h->sites[i];
        s->pk_bytes = s->pub.live_bytes;
        s->pk_blocks = s->pub.live_blocks;
        s->mod_epoch = h->epoch;
    }
    h->sum.peak_memory = h->live_bytes;
    h->sum.peak_blocks = h->live_blocks;
}

static int deliver(void *ctx, const ms_event *ev, uint32_t stream)
{
    ms_heap *h = ctx;
    int in = 1;
    if (h->range) {
        ms_range *r = h->range;
        if (!r->ticks_set) ms_range_set_clock(r, h->info.clock_hz);
        if (ev->op == OP_MARK && (int)stream == h->label_stream) ms_range_mark_at(r, ev->time, (int)ev->size);
        if (ms_range_passed(r, ev->time)) range_picture(h);
        in = ms_range_has(r, ev->time);
    }
    if ((int)stream == h->label_stream) return ev->op == OP_MARK ? 0 : apply_label(h, ev);
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
            else if (in) unknown_free(h);
        }
    } else if (MS_OP_IS_REALLOC(op)) {
        h->sum.reallocs += (uint64_t)in;
        if (ev->old_addr && (ev->addr || ev->size == 0)) {
            size_t j = tab_find(h, ev->old_addr);
            if (j != NO_SLOT) do_free(h, j, ev, 0);
            else if (in) unknown_free(h);
            if (in && !ev->addr) h->sum.realloc_frees++;
            else if (in && ev->addr == ev->old_addr) h->sum.reallocs_in_place++;
        }
        if (ev->addr) e = do_alloc(h, ev, ev->addr, (uint32_t)ti, in);
        else if (ev->size && in) failed(h, t, ev->size);
    } else {
        if (ev->addr) e = do_alloc(h, ev, ev->addr, (uint32_t)ti, in);
        else if (in) failed(h, t, ev->size);
    }
    if (h->live_bytes > h->sum.peak_memory && !h->range) {
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
 * SYNC records and evicts part of the table. Set only once the table
 * outgrows the caches (tab_grow). */
static void prefetch(void *ctx, uint64_t far_addr, uint64_t near_addr)
{
    const ms_heap *h = ctx;
    if (far_addr) __builtin_prefetch(&h->slot[addr_hash(far_addr) >> h->shift]);
    if (near_addr) {
        uint64_t v = h->slot[addr_hash(near_addr) >> h->shift];
        if (v) __builtin_prefetch(&h->pool[SLOT_BLK(v)]);
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
    if (h->opts.range) {
        if (!(h->range = malloc(sizeof *h->range))) { free(h); return MS_ENOMEM; }
        if (ms_range_init(h->range, h->opts.range)) { free(h->range); free(h); return MS_ENOMEM; }
    }
    h->info.clock_hz = 1000000000ull;
    h->free_blk = NO_BLK;
    h->info.exe = "";
    int e;
    if ((e = ms_symtab_new(&h->sym)) || (e = ms_replay_new(&h->rp, deliver, fits, h)) ||
        (e = tab_grow(h))) {
        ms_heap_free(h);
        return e;
    }
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
        if (h->thr[i].pub.name != no_name) free((char *)h->thr[i].pub.name);
    free(h->slot); free(h->pool); free(h->ext); free(h->sites); free(h->site_of); free(h->thr); free(h->stream_thr);
    ms_u64map_free(&h->site_map); ms_u64map_free(&h->thr_map);
    free(h->lk_addr); free(h->lk_cls);
    for (size_t i = 0; i < h->nlabels; i++) { free(h->labels[i].var); free(h->labels[i].type); }
    free(h->labels);
    free(h->exe);
    ms_range_free(h->range);
    free(h->range);
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

/* A phase request (range.h): the mark joins the label stream, so it is
 * placed among the events by time and sorts before events of its tick. */
static int add_mark(ms_heap *h, const ms_mark_rec *m)
{
    int is = ms_range_mark_seen(h->range, m->name.ptr, m->name.len);
    if (is < 0) return MS_ENOMEM;
    ms_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time = m->time; ev.tid = m->tid; ev.op = OP_MARK; ev.size = (uint64_t)is;
    return ms_replay_push_stream(h->rp, h->label_stream, &ev);
}

/* Leak classes of blocks live at exit, applied by ms_heap_finish (9 bytes
 * an entry until then; the last entry for an address wins). */
static int add_live_blocks(ms_heap *h, const ms_live_blocks *lb)
{
    if (h->nlk + lb->count > h->cap_lk) {
        size_t cap = h->cap_lk ? h->cap_lk : 256;
        while (cap < h->nlk + lb->count) cap *= 2;
        uint64_t *a = realloc(h->lk_addr, cap * sizeof *a);
        if (a) h->lk_addr = a;
        uint8_t *c = realloc(h->lk_cls, cap);
        if (c) h->lk_cls = c;
        if (!a || !c) return MS_ENOMEM;
        h->cap_lk = cap;
    }
    for (uint32_t i = 0; i < lb->count; i++) {
        uint32_t c = lb->blocks[i].leak_class;
        h->lk_addr[h->nlk] = lb->blocks[i].addr;
        h->lk_cls[h->nlk++] = (uint8_t)(c > MS_LEAK_LIBC ? MS_LEAK_UNKNOWN : c);
    }
    return 0;
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
            if (h->thr[t].pub.name != no_name) free((char *)h->thr[t].pub.name);   /* a name may be "" */
            h->thr[t].pub.name = n;
        }
        break;
    }
    case MS_REC_LABEL:
        e = add_label(h, &rec->u.label);
        break;
    case MS_REC_MARK:
        if (h->range && h->range->req.phase) e = add_mark(h, &rec->u.mark);
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
        /* weights apply from the first event on: META comes first */
        h->rate = m->mode == MS_MODE_SAMPLED && !h->sum.events ? m->sample_rate : h->rate;
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
        e = add_live_blocks(h, &rec->u.live_blocks);
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
    if (!resolve_fn || ms_symtab_max_node(h->sym) == 0) return 0;
    uint64_t *ips;
    size_t all = ms_symtab_node_ips(h->sym, &ips), n = 0;
    if (!ips) return MS_ENOMEM;
    for (size_t i = 0; i < all; i++) {
        const ms_symtab_frame *f;
        if (ips[i] && ms_symtab_frames(&f, h->sym, ips[i]) == 0) ips[n++] = ips[i];
    }
    if (n > 1) qsort(ips, n, sizeof *ips, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || ips[k - 1] != ips[i]) ips[k++] = ips[i];
    if (k) resolve_fn(resolve_ctx, h->sym, ips, k);
    free(ips);
    return 0;
}

static int cmp_pool_seq(const void *a, const void *b, void *ctx)
{
    const blk *p = ctx;
    uint64_t x = SEQ_OF(&p[*(const uint32_t *)a]), y = SEQ_OF(&p[*(const uint32_t *)b]);
    return x < y ? -1 : x > y;
}

static inline size_t seq_bucket(const blk *b, double f, size_t n)
{
    size_t k = (size_t)((double)SEQ_OF(b) * f);
    return k < n ? k : n - 1;
}

/* Pool indices of the n live blocks in allocation order, malloc'd: a
 * counting sort into n buckets of the seq range, then each bucket sorted
 * (linear for the usual spread; 8 bytes a block). NULL on ENOMEM. */
static uint32_t *live_in_order(const ms_heap *h, size_t n)
{
    uint32_t *cnt = calloc(n + 1, sizeof *cnt), *ord = malloc(n * sizeof *ord);
    if (!cnt || !ord) { free(cnt); free(ord); return NULL; }
    double f = (double)n / (double)(h->seq ? h->seq : 1);
    for (size_t i = 0; i < h->npool; i++)
        if (h->pool[i].thr != FREE_THR) cnt[seq_bucket(&h->pool[i], f, n) + 1]++;
    for (size_t k = 0; k < n; k++) cnt[k + 1] += cnt[k];
    for (size_t i = 0; i < h->npool; i++)
        if (h->pool[i].thr != FREE_THR) ord[cnt[seq_bucket(&h->pool[i], f, n)]++] = (uint32_t)i;
    /* cnt[k] is now the end of bucket k */
    for (size_t k = 0, lo = 0; k < n; lo = cnt[k++]) {
        size_t len = cnt[k] - lo;
        if (len < 2) continue;
        if (len <= 16) {
            for (size_t a = lo + 1; a < cnt[k]; a++)
                for (size_t b = a; b > lo && SEQ_OF(&h->pool[ord[b]]) < SEQ_OF(&h->pool[ord[b - 1]]); b--) {
                    uint32_t t = ord[b]; ord[b] = ord[b - 1]; ord[b - 1] = t;
                }
        } else {
            qsort_r(ord + lo, len, sizeof *ord, cmp_pool_seq, h->pool);
        }
    }
    free(cnt);
    return ord;
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
    if (h->range) {
        if (ms_range_finish(h->range, end, h->info.clock_hz)) range_picture(h);
        h->sum.peak_time = h->range->end_tick;
    }
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
    /* leak classes from LIVE_BLOCKS, then the table is no longer needed */
    for (size_t i = 0; i < h->nlk; i++) {
        size_t j = h->lk_addr[i] ? tab_find(h, h->lk_addr[i]) : NO_SLOT;
        if (j == NO_SLOT) continue;
        blk *b = slot_block(h, j);
        b->seq_op = (b->seq_op & ~(uint64_t)0xff00) | (uint64_t)h->lk_cls[i] << 8;
    }
    free(h->lk_addr); free(h->lk_cls);
    h->lk_addr = NULL; h->lk_cls = NULL; h->nlk = h->cap_lk = 0;
    size_t n = h->n;
    free(h->slot);
    h->slot = NULL; h->cap = h->n = 0;
    /* live blocks: leak classes and the callback, in allocation order */
    uint32_t *ord = n ? live_in_order(h, n) : NULL;
    if (n && !ord) return h->err = MS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const blk *b = &h->pool[ord[i]];
        if (b->thr == OUT_THR) continue;
        uint32_t cls = CLS_OF(b);
        uint64_t wc, wb;
        weigh(h, b->size, SEQ_OF(b), &wc, &wb);
        h->sum.leak_class_blocks[cls] += wc;
        h->sum.leak_class_bytes[cls] += wb;
        report(h, b, 0, end, 0, 0, 0, cls);
    }
    free(ord);
    free(h->pool); free(h->ext);
    h->pool = NULL; h->ext = NULL; h->npool = h->cap_pool = 0;
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
uint64_t ms_heap_sampled(const ms_heap *h) { return h->rate; }
const ms_range *ms_heap_range(const ms_heap *h) { return h->range; }
const ms_symtab *ms_heap_symtab(const ms_heap *h) { return h->sym; }
size_t ms_heap_site_count(const ms_heap *h) { return h->nsites; }
const ms_heap_site *ms_heap_site_at(const ms_heap *h, size_t i)
{
    return i < h->nsites ? &h->sites[i].pub : NULL;
}

long ms_heap_site_find(const ms_heap *h, uint64_t stack)
{
    if (stack < h->site_of_cap) return (long)h->site_of[stack] - 1;
    uint32_t v;
    return ms_u64map_get(&h->site_map, stack, &v) ? (long)v : -1;
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

uint64_t ms_heap_ticks_ns(const ms_heap *h, uint64_t t)
{
    uint64_t hz = h->info.clock_hz ? h->info.clock_hz : 1;
    unsigned __int128 ns = (unsigned __int128)t * 1000000000u / hz;
    return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

double ms_heap_ticks_sec(const ms_heap *h, uint64_t t)
{
    return (double)t / (double)(h->info.clock_hz ? h->info.clock_hz : 1);
}
