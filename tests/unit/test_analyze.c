/*
 * Unit tests of the heap replay (analyze/heap.h, replay.h, symtab.h).
 * Synthetic traces are written with the writer API where the truth is
 * known by construction: two threads, a cross-thread free and an address
 * reuse at equal timestamps, every realloc case, a peak in the middle,
 * leaks, a label, events split over chunks and written out of time order
 * between threads, with and without SYNC barriers. A randomized trace is
 * checked against a straightforward simulation of its global order.
 * A sampled trace (META mode 1, spec §8.8) is weighted per event: totals
 * against the sums of 1/p computed here, frees giving back exactly what
 * their blocks added, the per-block weights, the same events unweighted in
 * a full trace.
 * Time ranges and phases (range.h): per range the counted allocations,
 * frees, live at the range's end and leaks of a trace built for it.
 *
 * `test_analyze --bench N [THREADS [KEEP]]` writes a trace of N events (THREADS
 * threads, default 4, interleaved event by event: the merge's worst case)
 * and prints the replay speed instead (not part of the test run); the
 * trace is kept as KEEP when given.
 */
#include "heap.h"
#include "replay.h"
#include "symtab.h"
#include "mstest.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S(lit) ((ms_str){ (lit), sizeof(lit) - 1 })

static char tmpdir[] = "/tmp/ms_test_analyze.XXXXXX";
static int file_no;

static void die(const char *what, int e)
{
    printf("FAIL: %s: %s\n", what, ms_strerror(e));
    exit(1);
}

static ms_writer *open_trace_mode(char *path, size_t n, uint64_t clock_hz, uint32_t mode, uint64_t rate)
{
    snprintf(path, n, "%s/t%d.memscope", tmpdir, file_no++);
    ms_writer_opts o = { .kind = MS_KIND_HEAP };
    ms_writer *w;
    int e = ms_writer_open(&w, path, &o);
    if (e) die("writer open", e);
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_META;
    r.u.meta.clock_hz = clock_hz;
    r.u.meta.exe = S("/usr/bin/synthetic");
    r.u.meta.pid = 77;
    r.u.meta.mode = mode;
    r.u.meta.sample_rate = rate;
    if ((e = ms_writer_add(w, &r))) die("meta", e);
    return w;
}

static ms_writer *open_trace(char *path, size_t n, uint64_t clock_hz)
{
    return open_trace_mode(path, n, clock_hz, MS_MODE_FULL, 0);
}

static void add(ms_writer *w, const ms_record *r)
{
    int e = ms_writer_add(w, r);
    if (e) die("writer add", e);
}

static void thread_rec(ms_writer *w, uint64_t tid, const char *name)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_THREAD;
    r.u.thread.tid = tid;
    r.u.thread.name = (ms_str){ name, strlen(name) };
    add(w, &r);
}

static void sync_rec(ms_writer *w, uint64_t t)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SYNC;
    r.u.sync.time = t;
    add(w, &r);
}

static void end_rec(ms_writer *w, uint64_t t)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_END;
    r.u.end.time = t;
    add(w, &r);
}

static void events(ms_writer *w, uint64_t tid, const ms_event *ev, size_t n)
{
    int e = ms_writer_events(w, tid, ev, n);
    if (e) die("writer events", e);
}

#define EV(t, o, a, s, old, st) { .time = (t), .op = (o), .addr = (a), .size = (s), .old_addr = (old), .stack = (st) }
enum { A = 100, B = 200 };

/* ---- collected blocks ---- */
typedef struct got { ms_heap_block b[64]; int n; } got;
static void on_block(void *ctx, const ms_heap_block *b)
{
    got *g = ctx;
    if (g->n < 64) g->b[g->n++] = *b;
}
static const ms_heap_block *block_at(const got *g, uint64_t addr, uint64_t t_alloc)
{
    for (int i = 0; i < g->n; i++)
        if (g->b[i].addr == addr && g->b[i].t_alloc == t_alloc) return &g->b[i];
    return NULL;
}

/* The scenario of the file comment; with_sync = 0 writes no SYNC. */
static void write_scenario(char *path, size_t n, int with_sync)
{
    ms_writer *w = open_trace(path, n, 1000);    /* 1 tick = 1 ms */
    thread_rec(w, A, "main");
    thread_rec(w, B, "worker");
    ms_record r;
    memset(&r, 0, sizeof r);
    ms_stack_node nodes[] = { { 0, 0x1000 }, { 1, 0x2000 }, { 1, 0x3000 } };
    r.type = MS_REC_STACK;
    r.u.stack.first_id = 1; r.u.stack.count = 3; r.u.stack.nodes = nodes;
    add(w, &r);
    ms_frame fr[] = { { S("inner"), S("a.c"), 10, 0 }, { S("outer"), S("a.c"), 20, 0 } };
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SYMBOL;
    r.u.symbol.ip = 0x2000; r.u.symbol.nframes = 2; r.u.symbol.frames = fr;
    add(w, &r);

    ms_event b1[] = {
        EV(60, MS_OP_FREE, 0x200, 0, 0, 0),
        EV(65, MS_OP_MALLOC, 0x900, 5000, 0, 3),
        EV(66, MS_OP_FREE, 0x900, 0, 0, 0),
    };
    ms_event a1[] = {
        EV(10, MS_OP_MALLOC, 0x100, 100, 0, 2),
        EV(20, MS_OP_MALLOC, 0x200, 200, 0, 3),
        EV(30, MS_OP_FREE, 0x100, 0, 0, 0),
        EV(40, MS_OP_CALLOC, 0x300, 50, 0, 2),
        EV(50, MS_OP_REALLOC, 0x400, 500, 0x300, 2),
    };
    ms_event a2[] = {
        EV(60, MS_OP_MALLOC, 0x200, 64, 0, 3),          /* reuse at the same tick */
        EV(70, MS_OP_REALLOC, 0, 0, 0x400, 2),          /* realloc(p, 0) frees */
        EV(80, MS_OP_REALLOC, 0, 1000, 0x200, 3),       /* failed: old stays */
        EV(90, MS_OP_MALLOC, 0, 999, 0, 2),             /* failed malloc */
        EV(100, MS_OP_NEW, 0x500, 1000, 0, 2),
    };
    ms_event a3[] = { EV(110, MS_OP_FREE, 0x700, 0, 0, 0) };  /* frees B's block */
    ms_event b2[] = {
        EV(110, MS_OP_MALLOC, 0x700, 10, 0, 2),
        EV(120, MS_OP_FREE, 0xdead, 0, 0, 0),            /* unmatched */
    };
    events(w, B, b1, 3);             /* B's chunk first: out of time order */
    events(w, A, a1, 5);
    events(w, A, a2, 5);
    if (with_sync) sync_rec(w, 101);
    memset(&r, 0, sizeof r);
    r.type = MS_REC_LABEL;
    r.u.label.time = 101; r.u.label.tid = A; r.u.label.addr = 0x500;
    r.u.label.var_name = S("buf"); r.u.label.type_name = S("char[]");
    add(w, &r);
    events(w, A, a3, 1);             /* the free before its alloc in the file */
    events(w, B, b2, 2);
    if (with_sync) sync_rec(w, 121);
    end_rec(w, 200);
    int e = ms_writer_close(w);
    if (e) die("writer close", e);
}

static void check_scenario(int with_sync)
{
    char path[256], name[128];
    write_scenario(path, sizeof path, with_sync);
    got g = { .n = 0 };
    ms_heap_opts o = { on_block, &g, NULL };
    ms_heap *h;
    ms_integrity in;
    int e = ms_heap_load(&h, &in, path, &o);
    snprintf(name, sizeof name, "scenario%s: load", with_sync ? "" : " (no sync)");
    CHECK(name, e == 0);
    if (e) return;
    const ms_heap_summary *s = ms_heap_get_summary(h);
    const char *p = with_sync ? "sync" : "nosync";
#define CK(field, val) do { snprintf(name, sizeof name, "%s: %s", p, #field); CHECK_EQ_U64(name, val, s->field); } while (0)
    CK(total_allocations, 8);
    CK(total_deallocations, 6);
    CK(total_allocated_bytes, 6924);
    CK(total_deallocated_bytes, 5860);
    CK(peak_memory, 5564);
    CK(peak_blocks, 3);
    CK(peak_time, 65);
    CK(active_allocations, 2);
    CK(active_memory, 1064);
    CK(leaked_allocations, 2);
    CK(leaked_memory, 1064);
    CK(temporary_allocations, 3);
    CK(failed_allocations, 2);
    CK(unmatched_frees, 1);
    CK(frees_before_window, 0);
    CK(reallocs, 3);
    CK(reallocs_in_place, 0);
    CK(realloc_frees, 1);
    CK(duplicate_allocs, 0);
    CK(events, 16);
    CK(labels, 1);
    CK(unmatched_labels, 0);
    CK(end_time, 200);
    CK(threads, 2);
    CK(late_events, 0);
#undef CK
    snprintf(name, sizeof name, "%s: duration_ms", p);
    CHECK_EQ_U64(name, 200, ms_heap_ticks_ms(h, s->end_time));
    snprintf(name, sizeof name, "%s: ties resolved", p);
    CHECK(name, s->ties >= 2);
    snprintf(name, sizeof name, "%s: integrity complete", p);
    CHECK(name, in.verdict == MS_OK && in.has_end);

    /* sites */
    long s2 = ms_heap_site_find(h, 2), s3 = ms_heap_site_find(h, 3);
    snprintf(name, sizeof name, "%s: sites found", p);
    CHECK(name, s2 > 0 && s3 > 0);
    if (s2 > 0 && s3 > 0) {
        const ms_heap_site *a = ms_heap_site_at(h, (size_t)s2), *b = ms_heap_site_at(h, (size_t)s3);
#define SK(site, field, val) do { snprintf(name, sizeof name, "%s: site %s %s", p, #site, #field); \
        CHECK_EQ_U64(name, val, site->field); } while (0)
        SK(a, allocations, 5); SK(a, allocated_bytes, 1660); SK(a, deallocations, 4);
        SK(a, peak_bytes, 500); SK(a, peak_blocks, 1);
        SK(a, live_bytes, 1000); SK(a, live_blocks, 1); SK(a, temporary, 2); SK(a, max_size, 1000);
        SK(b, allocations, 3); SK(b, allocated_bytes, 5264); SK(b, deallocations, 2);
        SK(b, peak_bytes, 5064); SK(b, peak_blocks, 2);
        SK(b, live_bytes, 64); SK(b, live_blocks, 1); SK(b, temporary, 1);
#undef SK
    }
    /* threads */
    snprintf(name, sizeof name, "%s: thread count", p);
    CHECK_EQ_U64(name, 2, ms_heap_thread_count(h));
    const ms_heap_thread *ta = ms_heap_thread_at(h, 0), *tb = ms_heap_thread_at(h, 1);
    if (ta && tb) {
        snprintf(name, sizeof name, "%s: thread names", p);
        CHECK(name, !strcmp(ta->name, "main") && !strcmp(tb->name, "worker"));
        snprintf(name, sizeof name, "%s: thread A allocations", p);
        CHECK_EQ_U64(name, 6, ta->allocations);
        snprintf(name, sizeof name, "%s: thread A failed", p);
        CHECK_EQ_U64(name, 2, ta->failed);
        snprintf(name, sizeof name, "%s: thread B deallocations (cross-thread)", p);
        CHECK_EQ_U64(name, 2, tb->deallocations);
        snprintf(name, sizeof name, "%s: thread A live bytes", p);
        CHECK_EQ_U64(name, 1064, ta->live_bytes);
        snprintf(name, sizeof name, "%s: thread B temporary", p);
        CHECK_EQ_U64(name, 2, tb->temporary);
    }
    /* per-allocation records */
    snprintf(name, sizeof name, "%s: one record per allocation", p);
    CHECK_EQ_U64(name, 8, g.n);
    const ms_heap_block *b;
    b = block_at(&g, 0x500, 100);
    snprintf(name, sizeof name, "%s: labelled leak", p);
    CHECK(name, b && !b->freed && b->var_name && !strcmp(b->var_name, "buf") &&
          b->type_name && !strcmp(b->type_name, "char[]") && b->t_free == 200 && b->op == MS_OP_NEW);
    b = block_at(&g, 0x400, 50);
    snprintf(name, sizeof name, "%s: realloc block lifetime", p);
    CHECK(name, b && b->freed && b->t_free == 70 && b->op == MS_OP_REALLOC && !b->temporary &&
          b->size == 500 && b->free_op == MS_OP_REALLOC);
    b = block_at(&g, 0x300, 40);
    snprintf(name, sizeof name, "%s: realloc'd-away block is temporary", p);
    CHECK(name, b && b->freed && b->t_free == 50 && b->temporary);
    b = block_at(&g, 0x200, 20);
    snprintf(name, sizeof name, "%s: cross-thread free at equal time first", p);
    CHECK(name, b && b->freed && b->t_free == 60 && b->free_tid == B && b->tid == A && b->size == 200);
    b = block_at(&g, 0x200, 60);
    snprintf(name, sizeof name, "%s: reused address then live", p);
    CHECK(name, b && !b->freed && b->size == 64 && b->stack_id == 3);
    b = block_at(&g, 0x700, 110);
    snprintf(name, sizeof name, "%s: alloc before cross-thread free at equal time", p);
    CHECK(name, b && b->freed && b->tid == B && b->free_tid == A && b->temporary);
    /* leaked blocks come last, in allocation order */
    snprintf(name, sizeof name, "%s: live blocks reported last in alloc order", p);
    CHECK(name, g.n == 8 && !g.b[6].freed && !g.b[7].freed && g.b[6].seq < g.b[7].seq);

    /* symbols */
    const ms_symtab *sym = ms_heap_symtab(h);
    uint64_t ips[8];
    snprintf(name, sizeof name, "%s: stack walk", p);
    CHECK(name, ms_symtab_stack(ips, 8, sym, 2) == 2 && ips[0] == 0x2000 && ips[1] == 0x1000);
    char buf[128];
    ms_symtab_ip_name(buf, sizeof buf, sym, 0x2000);
    snprintf(name, sizeof name, "%s: symbol name", p);
    CHECK_STR(name, "inner (a.c:10)", buf);
    ms_symtab_frame_name(buf, sizeof buf, sym, 0x2000, 1);
    snprintf(name, sizeof name, "%s: inlined frame name", p);
    CHECK_STR(name, "outer (a.c:20)", buf);
    ms_symtab_ip_name(buf, sizeof buf, sym, 0x3000);
    snprintf(name, sizeof name, "%s: unknown ip as hex", p);
    CHECK_STR(name, "0x3000", buf);
    ms_heap_free(h);
    unlink(path);
}

/* ---- temporary: the block itself, not its size and stack ----
 * heaptrack names a freed block by its (size, stack) only, so the free of
 * an older block of the same size and stack right after an allocation
 * counts as temporary there; here only a block freed by the next event
 * after its own allocation does (heap.h). */
static void check_temporary_identity(void)
{
    char path[256], name[128];
    ms_writer *w = open_trace(path, sizeof path, 1000);
    ms_event ev[] = {
        EV(1, MS_OP_MALLOC, 0x100, 32, 0, 2),
        EV(2, MS_OP_MALLOC, 0x200, 32, 0, 2),
        EV(3, MS_OP_FREE, 0x100, 0, 0, 0),      /* older twin: not temporary */
        EV(4, MS_OP_MALLOC, 0x300, 32, 0, 2),
        EV(5, MS_OP_FREE, 0x300, 0, 0, 0),      /* temporary */
        EV(6, MS_OP_FREE, 0x200, 0, 0, 0),      /* a free in between: not */
    };
    events(w, A, ev, sizeof ev / sizeof ev[0]);
    end_rec(w, 10);
    int e = ms_writer_close(w);
    if (e) die("writer close", e);
    ms_heap *h;
    ms_integrity in;
    e = ms_heap_load(&h, &in, path, NULL);
    CHECK("temporary identity: load", e == 0);
    if (e) return;
    snprintf(name, sizeof name, "temporary identity: count");
    CHECK_EQ_U64(name, 1, ms_heap_get_summary(h)->temporary_allocations);
    ms_heap_free(h);
    unlink(path);
}

/* ---- randomized: global order known, file order scrambled ---- */
typedef struct ref { uint64_t allocs, frees, bytes, peak, live, live_blocks, temporary; } ref;

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* The counts both randomized scenarios must get exactly; name: the
 * scenario's prefix. */
static void check_counts(const char *name, const ref *r, const ms_heap_summary *s)
{
    char nm[160];
#define RN(what) (snprintf(nm, sizeof nm, "%s: %s", name, what), nm)
    CHECK_EQ_U64(RN("allocations"), r->allocs, s->total_allocations);
    CHECK_EQ_U64(RN("deallocations"), r->frees, s->total_deallocations);
    CHECK_EQ_U64(RN("bytes"), r->bytes, s->total_allocated_bytes);
    CHECK_EQ_U64(RN("live blocks at end"), r->live_blocks, s->active_allocations);
    CHECK_EQ_U64(RN("no unmatched frees"), 0, s->unmatched_frees);
    CHECK_EQ_U64(RN("no duplicate allocs"), 0, s->duplicate_allocs);
#undef RN
}

static void check_random(int NT)
{
    enum { MAXT = 32, NEV = 20000, NADDR = 64 };
    ms_event *per[MAXT];
    size_t cnt[MAXT] = { 0 };
    for (int i = 0; i < NT; i++) per[i] = calloc(NEV, sizeof *per[i]);
    uint64_t live_size[NADDR] = { 0 };
    uint64_t live_tseq[NADDR], serial = 0, last_alloc = 0;
    ref r = { 0 };
    uint64_t t = 1;
    int prev_th = -1, prev_a = 0, tick_n = 0, tick_multi = 0;
    for (int k = 0; k < NEV; k++) {
        int th = (int)(rnd() % NT);
        int a = (int)(rnd() % NADDR);
        ms_event ev;
        memset(&ev, 0, sizeof ev);
        /* Equal times are frequent. Only ties whose order the data decides
         * are generated: runs of one thread, or two threads acting on the
         * same address (cross-thread free, address reuse). */
        int tie = k > 0 && rnd() % 2 == 0;
        if (tie && th == prev_th && !tick_multi) { /* same thread, same tick */ }
        else if (tie && th != prev_th && tick_n == 1) { a = prev_a; tick_multi = 1; }
        else { t++; tick_n = 0; tick_multi = 0; }
        tick_n++;
        prev_th = th; prev_a = a;
        ev.time = t;
        ev.addr = 0x10000 + (uint64_t)a * 16;
        if (live_size[a]) {
            ev.op = MS_OP_FREE;
            r.frees++;
            r.live -= live_size[a]; r.live_blocks--;
            /* heaptrack's rule: freed by the very next event (heap.h) */
            if (last_alloc == live_tseq[a]) r.temporary++;
            last_alloc = 0;
            live_size[a] = 0;
        } else {
            ev.op = MS_OP_MALLOC;
            ev.size = 1 + rnd() % 1000;
            ev.stack = 0;
            r.allocs++; r.bytes += ev.size;
            r.live += ev.size; r.live_blocks++;
            live_size[a] = ev.size; live_tseq[a] = last_alloc = ++serial;
            if (r.live > r.peak) r.peak = r.live;
        }
        per[th][cnt[th]++] = ev;
    }
    char path[256];
    ms_writer *w = open_trace(path, sizeof path, 1000000000ull);
    /* write in 20 time windows like a recorder's drain cycles: per window,
     * each thread's events older than the window end, in one or two
     * chunks, threads in a scrambled order; then SYNC(window end) */
    size_t pos[MAXT] = { 0 };
    for (int round = 1; round <= 20; round++) {
        uint64_t lim = round == 20 ? UINT64_MAX : (t * (uint64_t)round) / 20;
        for (int i = 0; i < NT; i++) {
            int th = (int)((i * 7 + round) % NT);
            size_t end = pos[th];
            while (end < cnt[th] && per[th][end].time < lim) end++;
            size_t n = end - pos[th];
            if (!n) continue;
            size_t half = n > 1 ? 1 + rnd() % (n - 1) : n;
            events(w, 1000 + (uint64_t)th, per[th] + pos[th], half);
            if (n > half) events(w, 1000 + (uint64_t)th, per[th] + pos[th] + half, n - half);
            pos[th] = end;
        }
        if (round < 20) sync_rec(w, lim);
    }
    end_rec(w, t + 1);
    int e = ms_writer_close(w);
    if (e) die("writer close", e);
    ms_heap *h;
    char nm[96];
#define RN(what) (snprintf(nm, sizeof nm, "random %d threads: %s", NT, what), nm)
    e = ms_heap_load(&h, NULL, path, NULL);
    CHECK(RN("load"), e == 0);
    if (!e) {
        const ms_heap_summary *s = ms_heap_get_summary(h);
        check_counts(RN("totals"), &r, s);
        CHECK_EQ_U64(RN("peak"), r.peak, s->peak_memory);
        CHECK_EQ_U64(RN("live at end"), r.live, s->active_memory);
        CHECK_EQ_U64(RN("temporary"), r.temporary, s->temporary_allocations);
        CHECK(RN("ties seen"), s->ties > 0);
        CHECK(RN("buffer bounded by barriers"), s->max_buffered_events < NEV / 5);
        ms_heap_free(h);
    }
#undef RN
    unlink(path);
    for (int i = 0; i < NT; i++) free(per[i]);
}

/* ---- coarse ticks: many threads' events share each tick (§8.3) ----
 * A true global order of NT threads allocating from and freeing into one
 * small LIFO address pool (any thread frees any block, so addresses move
 * between threads and are reused within a tick: a free of X before the
 * reuse of X, chains of X through three threads), then every event's time
 * is coarsened to k / per_tick. The reader must find an order in which
 * every free meets its block: no unmatched frees, no duplicate
 * allocations, exact counts. (Far denser reuse, e.g. 200 events a tick
 * over 48 addresses, still defeats the bounded search now and then.) (The first-fitting-stream rule got 4-30
 * anomalies per 80,000 events on tests/progs/threads with 131 us ticks.) */
static void check_coarse(int NT, int per_tick, int NADDR)
{
    enum { MAXT = 32, NEV = 40000, MAXADDR = 1024 };
    ms_event *per[MAXT];
    size_t cnt[MAXT] = { 0 };
    for (int i = 0; i < NT; i++) per[i] = calloc(NEV, sizeof *per[i]);
    uint64_t pool[MAXADDR], live[MAXADDR], live_size[MAXADDR];
    size_t npool = NADDR, nlive = 0;
    for (int a = 0; a < NADDR; a++) pool[a] = 0x20000 + (uint64_t)a * 32;
    ref r = { 0 };
    for (int k = 0; k < NEV; k++) {
        int th = (int)(rnd() % NT);
        ms_event ev;
        memset(&ev, 0, sizeof ev);
        ev.time = 1 + (uint64_t)k / (uint64_t)per_tick;
        if (npool && (nlive == 0 || rnd() % 2)) {
            ev.op = MS_OP_MALLOC;
            ev.addr = pool[--npool];                     /* LIFO: the latest freed */
            ev.size = 1 + rnd() % 500;
            live[nlive] = ev.addr; live_size[nlive++] = ev.size;
            r.allocs++; r.bytes += ev.size; r.live += ev.size; r.live_blocks++;
        } else {
            size_t j = rnd() % nlive;
            ev.op = MS_OP_FREE;
            ev.addr = live[j];
            r.frees++; r.live -= live_size[j]; r.live_blocks--;
            pool[npool++] = live[j];
            live[j] = live[--nlive]; live_size[j] = live_size[nlive];
        }
        per[th][cnt[th]++] = ev;
    }
    uint64_t t = 1 + (uint64_t)NEV / (uint64_t)per_tick;
    char path[256];
    ms_writer *w = open_trace(path, sizeof path, 1000000000ull);
    size_t pos[MAXT] = { 0 };
    for (int round = 1; round <= 10; round++) {
        uint64_t lim = round == 10 ? UINT64_MAX : (t * (uint64_t)round) / 10;
        for (int i = NT - 1; i >= 0; i--) {
            size_t end = pos[i];
            while (end < cnt[i] && per[i][end].time < lim) end++;
            if (end > pos[i]) events(w, 2000 + (uint64_t)i, per[i] + pos[i], end - pos[i]);
            pos[i] = end;
        }
        if (round < 10) sync_rec(w, lim);
    }
    end_rec(w, t + 1);
    int e = ms_writer_close(w);
    if (e) die("writer close", e);
    ms_heap *h;
    char nm[96];
#define RN(what) (snprintf(nm, sizeof nm, "coarse %d threads, %d a tick, %d addresses: %s", NT, per_tick, NADDR, what), nm)
    e = ms_heap_load(&h, NULL, path, NULL);
    CHECK(RN("load"), e == 0);
    if (!e) {
        const ms_heap_summary *s = ms_heap_get_summary(h);
        /* not the live bytes: when two threads allocate X within one
         * tick, which size is freed in the tick and which one stays is not
         * in the file (§8.3); the number of blocks is */
        check_counts(RN("totals"), &r, s);
        CHECK(RN("ties seen"), s->ties > (uint64_t)NEV / 2);
        ms_heap_free(h);
    }
#undef RN
    unlink(path);
    for (int i = 0; i < NT; i++) free(per[i]);
}

/* ---- replay alone: feeding records directly ---- */
static int deliver_order(void *ctx, const ms_event *ev, uint32_t stream)
{
    (void)stream;
    uint64_t *v = ctx;
    v[++v[0]] = ev->time;
    return 0;
}

static void check_replay(void)
{
    ms_replay *r;
    uint64_t got_t[16] = { 0 };
    CHECK("replay: new", ms_replay_new(&r, deliver_order, NULL, got_t) == 0);
    ms_event e;
    memset(&e, 0, sizeof e);
    uint64_t ta[] = { 1, 4, 9 }, tb[] = { 2, 3, 10 };
    for (int i = 0; i < 3; i++) { e.tid = 1; e.time = ta[i]; ms_replay_push(r, &e); }
    for (int i = 0; i < 3; i++) { e.tid = 2; e.time = tb[i]; ms_replay_push(r, &e); }
    ms_replay_sync(r, 5);
    CHECK_EQ_U64("replay: barrier delivers older events", 4, got_t[0]);
    ms_replay_flush(r);
    int ok = got_t[0] == 6;
    uint64_t want[] = { 1, 2, 3, 4, 9, 10 };
    for (int i = 0; i < 6 && ok; i++) ok = got_t[i + 1] == want[i];
    CHECK("replay: merged by time", ok);
    ms_replay_free(r);
}

/* ---- benchmark ---- */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);   /* CPU time: the machine may be shared */
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench(uint64_t n, int NT, const char *keep)
{
    char path[256];
    ms_writer *w = open_trace(path, sizeof path, 1000000000ull);
    enum { BATCH = 65536 };
    if (NT < 1 || NT > 8) NT = 4;
    ms_event *ev = calloc(BATCH, sizeof *ev);
    uint64_t t = 0, done = 0;
    /* NT threads, malloc/free pairs with a small live set, 64 stacks */
    ms_record r;
    memset(&r, 0, sizeof r);
    ms_stack_node nodes[64];
    for (int i = 0; i < 64; i++) { nodes[i].parent = i ? (uint64_t)i : 0; nodes[i].ip = 0x400000 + (uint64_t)i * 16; }
    r.type = MS_REC_STACK; r.u.stack.first_id = 1; r.u.stack.count = 64; r.u.stack.nodes = nodes;
    add(w, &r);
    while (done < n) {
        for (int th = 0; th < NT && done < n; th++) {
            size_t k = 0;
            uint64_t base = 0x10000000ull * (uint64_t)(th + 1);
            for (; k + 1 < BATCH && done + k + 1 < n + 1; k += 2) {
                uint64_t a = base + ((t + k) % 4096) * 64;
                /* threads interleave finely (distinct ns times) */
                ev[k] = (ms_event){ .time = (t + k) * 8 + (uint64_t)th, .op = MS_OP_MALLOC, .addr = a,
                                    .size = 16 + (k * 7) % 512, .stack = 1 + (k % 64) };
                ev[k + 1] = (ms_event){ .time = (t + k + 1) * 8 + (uint64_t)th, .op = MS_OP_FREE, .addr = a };
            }
            events(w, 1000 + (uint64_t)th, ev, k);
            done += k;
        }
        t += BATCH;
        sync_rec(w, t * 8);
    }
    end_rec(w, t * 8);
    ms_writer_close(w);
    free(ev);
    /* reader alone, then reader + replay */
    double t0 = now();
    ms_reader *rd;
    if (ms_reader_open(&rd, path)) return 1;
    const ms_record *rec;
    uint64_t cnt = 0;
    while (ms_reader_next(rd, &rec) == 1) cnt += rec->type == MS_REC_EVENT;
    ms_reader_close(rd);
    double t1 = now();
    ms_heap *h;
    int e = ms_heap_load(&h, NULL, path, NULL);
    double t2 = now();
    if (e) die("bench load", e);
    printf("events: %llu\nreader only:     %.2f s, %.1f M events/s\nreader + replay: %.2f s, %.1f M events/s\n",
           (unsigned long long)cnt, t1 - t0, cnt / (t1 - t0) / 1e6, t2 - t1, cnt / (t2 - t1) / 1e6);
    printf("replay share:    %.1f M events/s (replay time alone)\n", cnt / ((t2 - t1) - (t1 - t0)) / 1e6);
    ms_heap_free(h);
    if (keep && rename(path, keep) != 0) perror(keep);
    unlink(path);
    rmdir(tmpdir);
    return 0;
}

/* A window trace (spec 8.9, the v1.3 golden): frees of addresses never
 * allocated in it are frees of blocks allocated before the window, not
 * unmatched frees; the window starts 3600.5 s after the process. */
static void check_window(void)
{
    const char *root = getenv("MS_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/golden/v1.3-heap.memscope", root && *root ? root : ".");
    ms_heap *h;
    int e = ms_heap_load(&h, NULL, path, NULL);
    CHECK("window: load", e == 0);
    if (e) return;
    const ms_heap_summary *s = ms_heap_get_summary(h);
    CHECK_EQ_U64("window: frees before the window", 3, s->frees_before_window);
    CHECK_EQ_U64("window: no unmatched frees", 0, s->unmatched_frees);
    CHECK_EQ_U64("window: allocations", 4, s->total_allocations);
    CHECK_EQ_U64("window: deallocations", 2, s->total_deallocations);
    CHECK_EQ_U64("window: deallocated bytes", 80, s->total_deallocated_bytes);
    CHECK_EQ_U64("window: live at the end", 4160, s->active_memory);
    CHECK_EQ_U64("window: live blocks at the end", 2, s->active_allocations);
    double after = 0;
    CHECK("window: is a window", ms_heap_window(h, &after) == 1);
    CHECK("window: 3600.5 s after the process start", after > 3600.49 && after < 3600.51);
    CHECK_EQ_U64("window: session", 2, ms_heap_get_info(h)->session);
    ms_heap_free(h);
}

/* ---- sampled traces (spec §8.8) ---- */
typedef struct wsum { uint64_t count, bytes, live_count, live_bytes, n; } wsum;
static void on_block_sum(void *ctx, const ms_heap_block *b)
{
    wsum *w = ctx;
    w->count += b->wcount; w->bytes += b->wsize; w->n++;
    if (!b->freed) { w->live_count += b->wcount; w->live_bytes += b->wsize; }
}

static int near(double got, double want, double tol) { return got >= want - tol && got <= want + tol; }

/* 20000 pairs of 64-byte blocks, 500 of 1 MiB, a realloc chain 64 ->
 * 4096 -> 1 MiB, 300 blocks of 4096 bytes left live, a failed malloc. */
static void write_sampled(char *path, size_t n, uint32_t mode)
{
    const uint64_t R = 4096;
    ms_writer *w = open_trace_mode(path, n, 1000, mode, mode == MS_MODE_SAMPLED ? R : 0);
    thread_rec(w, A, "main");
    static ms_event ev[42000];
    size_t k = 0;
    uint64_t t = 1;
    for (int i = 0; i < 20000; i++) {
        ev[k++] = (ms_event)EV(t++, MS_OP_MALLOC, 0x10000 + 16 * (uint64_t)i, 64, 0, 0);
        ev[k++] = (ms_event)EV(t++, MS_OP_FREE, 0x10000 + 16 * (uint64_t)i, 0, 0, 0);
    }
    for (int i = 0; i < 500; i++) {
        ev[k++] = (ms_event)EV(t++, MS_OP_MALLOC, 0x100000000ull + 0x200000 * (uint64_t)i, 1 << 20, 0, 0);
        ev[k++] = (ms_event)EV(t++, MS_OP_FREE, 0x100000000ull + 0x200000 * (uint64_t)i, 0, 0, 0);
    }
    ev[k++] = (ms_event)EV(t++, MS_OP_MALLOC, 0x50, 64, 0, 0);
    ev[k++] = (ms_event)EV(t++, MS_OP_REALLOC, 0x60, 4096, 0x50, 0);
    ev[k++] = (ms_event)EV(t++, MS_OP_REALLOC, 0x70, 1 << 20, 0x60, 0);
    ev[k++] = (ms_event)EV(t++, MS_OP_FREE, 0x70, 0, 0, 0);
    for (int i = 0; i < 300; i++)
        ev[k++] = (ms_event)EV(t++, MS_OP_MALLOC, 0x9000000 + 0x2000 * (uint64_t)i, 4096, 0, 0);
    ev[k++] = (ms_event)EV(t++, MS_OP_MALLOC, 0, 64, 0, 0);
    for (size_t i = 0; i < k; i += 10000) events(w, A, ev + i, k - i < 10000 ? k - i : 10000);
    sync_rec(w, t);
    end_rec(w, t);
    int e = ms_writer_close(w);
    if (e) die("writer close", e);
}

static void check_sampled(void)
{
    const uint64_t R = 4096;
    CHECK("sampled: weight of size 0 is 1", ms_heap_sample_weight(0, R) == 1.0);
    CHECK("sampled: weight in a full trace is 1", ms_heap_sample_weight(100, 0) == 1.0);
    CHECK("sampled: weight of R bytes is 1/(1-1/e)", near(ms_heap_sample_weight(R, R), 1.5819767068693265, 1e-12));
    CHECK("sampled: weight of 64 B at 4096 is 64.50", near(ms_heap_sample_weight(64, R), 64.50130, 1e-4));
    CHECK("sampled: weight of 1 MiB at 4096 is 1", ms_heap_sample_weight(1 << 20, R) == 1.0);

    char path[256];
    double w64 = ms_heap_sample_weight(64, R), w4k = ms_heap_sample_weight(4096, R);
    for (int sampled = 1; sampled >= 0; sampled--) {
        write_sampled(path, sizeof path, sampled ? MS_MODE_SAMPLED : MS_MODE_FULL);
        wsum ws = { 0, 0, 0, 0, 0 };
        ms_heap_opts o = { on_block_sum, &ws, NULL };
        ms_heap *h;
        ms_integrity in;
        int e = ms_heap_load(&h, &in, path, &o);
        CHECK(sampled ? "sampled: load" : "sampled (full trace): load", e == 0);
        if (e) return;
        const ms_heap_summary *s = ms_heap_get_summary(h);
        /* the weights' sums; each block rounds w and w*size down or up
         * (variance <= 1/4 each): 5 SD over 20301 blocks is ~360 */
        double c = 20000 * w64 + 500 + w64 + w4k + 1 + 300 * w4k;
        double b = 20000 * 64 * w64 + 500.0 * (1 << 20) + 64 * w64 + 4096 * w4k + (1 << 20) + 300 * 4096 * w4k;
        if (sampled) {
            CHECK_EQ_U64("sampled: rate", R, ms_heap_sampled(h));
            CHECK("sampled: allocations = sum of 1/p", near((double)s->total_allocations, c, 360));
            CHECK("sampled: bytes = sum of size/p", near((double)s->total_allocated_bytes, b, 360));
            CHECK("sampled: 300 live blocks of 4096 weigh 300/p", near((double)s->active_allocations, 300 * w4k, 30));
            CHECK("sampled: their bytes", near((double)s->active_memory, 300 * 4096 * w4k, 30));
            CHECK("sampled: failed malloc of 64 B weighs 1/p", near((double)s->failed_allocations, w64, 1));
            CHECK_EQ_U64("sampled: temporaries not counted", 0, s->temporary_allocations);
        } else {
            CHECK_EQ_U64("full: rate 0", 0, ms_heap_sampled(h));
            CHECK_EQ_U64("full: allocations", 20000 + 500 + 3 + 300, s->total_allocations);
            CHECK_EQ_U64("full: bytes", 20000 * 64 + 500ull * (1 << 20) + 64 + 4096 + (1 << 20) + 300 * 4096,
                         s->total_allocated_bytes);
            CHECK_EQ_U64("full: live", 300 * 4096, s->active_memory);
            CHECK_EQ_U64("full: failed", 1, s->failed_allocations);
        }
        const char *p = sampled ? "sampled" : "full";
        char name[128];
        /* frees give back exactly what their blocks added */
        snprintf(name, sizeof name, "%s: freed = allocated - live (count)", p);
        CHECK_EQ_U64(name, s->total_allocations - s->active_allocations, s->total_deallocations);
        snprintf(name, sizeof name, "%s: freed = allocated - live (bytes)", p);
        CHECK_EQ_U64(name, s->total_allocated_bytes - s->active_memory, s->total_deallocated_bytes);
        snprintf(name, sizeof name, "%s: per-block weights sum to the totals", p);
        CHECK(name, ws.count == s->total_allocations && ws.bytes == s->total_allocated_bytes &&
                    ws.live_count == s->active_allocations && ws.live_bytes == s->active_memory);
        snprintf(name, sizeof name, "%s: one site holds it all", p);
        const ms_heap_site *site = ms_heap_site_at(h, 0);
        CHECK(name, site && site->allocated_bytes == s->total_allocated_bytes && site->live_bytes == s->active_memory);
        /* the peak: the 300 blocks of 4 KiB live at the end (more than a
         * 1 MiB block, weight 1, alone earlier) */
        double pk = 300 * 4096 * (sampled ? w4k : 1.0);
        snprintf(name, sizeof name, "%s: peak", p);
        CHECK(name, near((double)s->peak_memory, pk, 30));
        ms_heap_free(h);
        unlink(path);
    }
}

/* ---- time ranges and phases (range.h) ----
 * clock 1000 Hz (1 tick = 1 ms), thread 1:
 *   10 alloc 0x1000 100 | mark "one" 100 | 100 alloc 0x2000 200 (the mark's
 *   tick: in "one") | 150 free 0x1000 (older block) | 160 free 0x9999
 *   (unmatched) | 170 realloc 0x2000 -> 0x3000 300 | mark "two" 200 |
 *   200 alloc 0x4000 400 | 250 free 0x3000 | mark "one" 300 | end 400;
 * plus, with many = 1, 300 more distinct marks after the end's events. */
static void write_ranged(char *path, size_t n, int many)
{
    ms_writer *w = open_trace(path, n, 1000);
    static const char *const names[] = { "one", "two", "one" };
    static const uint64_t at[] = { 100, 200, 300 };
    for (int i = 0; i < 3; i++) {
        ms_record r;
        memset(&r, 0, sizeof r);
        r.type = MS_REC_MARK;
        r.u.mark.time = at[i]; r.u.mark.tid = 1;
        r.u.mark.name = (ms_str){ names[i], strlen(names[i]) };
        add(w, &r);
    }
    for (int i = 0; many && i < 300; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "m%d", i);
        ms_record r;
        memset(&r, 0, sizeof r);
        r.type = MS_REC_MARK;
        r.u.mark.time = 390; r.u.mark.tid = 1;
        r.u.mark.name = (ms_str){ nm, strlen(nm) };
        add(w, &r);
    }
    ms_event ev[] = {
        EV(10, MS_OP_MALLOC, 0x1000, 100, 0, 0), EV(100, MS_OP_MALLOC, 0x2000, 200, 0, 0),
        EV(150, MS_OP_FREE, 0x1000, 0, 0, 0), EV(160, MS_OP_FREE, 0x9999, 0, 0, 0),
        EV(170, MS_OP_REALLOC, 0x3000, 300, 0x2000, 0), EV(200, MS_OP_MALLOC, 0x4000, 400, 0, 0),
        EV(250, MS_OP_FREE, 0x3000, 0, 0, 0),
    };
    events(w, 1, ev, sizeof ev / sizeof ev[0]);
    end_rec(w, 400);
    int e = ms_writer_close(w);
    if (e) die("writer close", e);
}

/* allocs bytes deallocs unmatched / peak blocks peak_time / leaked blocks */
static void check_one_range(const char *path, const ms_range_req *q, const char *name, const uint64_t want[9])
{
    ms_heap *h;
    ms_heap_opts o = { NULL, NULL, q };
    int e = ms_heap_load(&h, NULL, path, &o);
    CHECK(name, e == 0);
    if (e) return;
    const ms_heap_summary *s = ms_heap_get_summary(h);
    uint64_t got[9] = { s->total_allocations, s->total_allocated_bytes, s->total_deallocations, s->unmatched_frees,
                        s->peak_memory, s->peak_blocks, s->peak_time, s->leaked_memory, s->leaked_allocations };
    static const char *const what[9] = { "allocations", "bytes", "deallocations", "unmatched frees", "live at the end",
                                         "its blocks", "its time", "leaked", "leaked blocks" };
    char msg[200];
    for (int i = 0; i < 9; i++) {
        snprintf(msg, sizeof msg, "%s: %s", name, what[i]);
        CHECK_EQ_U64(msg, want[i], got[i]);
    }
    ms_heap_free(h);
}

static void check_range(void)
{
    char path[512], many[512];
    write_ranged(path, sizeof path, 0);
    write_ranged(many, sizeof many, 1);
    ms_range_req one = { .phase = "one" }, two = { .phase = "two" };
    check_one_range(path, &one, "range: phase one", (const uint64_t[9]){ 2, 500, 2, 1, 300, 1, 200, 0, 0 });
    check_one_range(path, &two, "range: phase two", (const uint64_t[9]){ 1, 400, 0, 0, 400, 1, 300, 400, 1 });
    ms_range_req ft = { .has_from = 1, .from_s = 0.15, .has_to = 1, .to_s = 0.2 };
    check_one_range(path, &ft, "range: 0.15-0.2 s", (const uint64_t[9]){ 2, 700, 1, 1, 700, 2, 200, 400, 1 });
    ms_range_req to = { .has_to = 1, .to_s = 0.15 };
    check_one_range(path, &to, "range: to 0.15 s", (const uint64_t[9]){ 2, 300, 2, 0, 200, 1, 150, 0, 0 });
    ms_range_req all = { .has_from = 1, .from_s = 0, .has_to = 1, .to_s = 9 };
    check_one_range(path, &all, "range: everything", (const uint64_t[9]){ 4, 1000, 3, 1, 400, 1, 400, 400, 1 });

    ms_heap *h;
    ms_heap_opts o = { NULL, NULL, &all };
    if (ms_heap_load(&h, NULL, path, &o) == 0) {
        const ms_range *r = ms_heap_range(h);
        CHECK("range: to past the end clamped", r && r->to_clamped && r->to_s > 0.399 && r->to_s < 0.401);
        ms_heap_free(h);
    }
    o.range = &one;
    if (ms_heap_load(&h, NULL, path, &o) == 0) {
        const ms_range *r = ms_heap_range(h);
        CHECK("range: phase one found, first of 2 marks", r && r->found && r->phase_marks == 2);
        CHECK("range: phase one 0.1-0.2 s", r && r->from_s > 0.0999 && r->from_s < 0.1001 && r->to_s > 0.1999 && r->to_s < 0.2001);
        ms_heap_free(h);
    }
    ms_range_req none = { .phase = "three" };
    o.range = &none;
    if (ms_heap_load(&h, NULL, many, &o) == 0) {
        const ms_range *r = ms_heap_range(h);
        char buf[4096];
        ms_range_names(r, buf, sizeof buf);
        CHECK("range: unknown phase not found", !r->found);
        CHECK("range: names in order first seen", !strncmp(buf, "one, two, m0, m1, ", 18));
        size_t len = strlen(buf);
        CHECK("range: names capped with ...", r->nnames == 256 && len > 5 && !strcmp(buf + len - 5, ", ..."));
        CHECK_EQ_U64("range: unknown phase counts nothing", 0, ms_heap_get_summary(h)->total_allocations);
        ms_heap_free(h);
    }
    unlink(path);
    unlink(many);
}

int main(int argc, char **argv)
{
    if (!mkdtemp(tmpdir)) { printf("FAIL: mkdtemp\n"); return 1; }
    if (argc >= 3 && !strcmp(argv[1], "--bench"))
        return bench(strtoull(argv[2], NULL, 10), argc > 3 ? atoi(argv[3]) : 4, argc > 4 ? argv[4] : NULL);
    check_replay();
    check_scenario(1);
    check_scenario(0);
    check_temporary_identity();
    check_random(4);      /* linear-scan merge */
    check_random(24);     /* heap merge (more than 16 streams) */
    check_coarse(4, 16, 48);
    check_coarse(4, 32, 512);
    check_coarse(24, 24, 512);  /* heap merge */
    check_window();
    check_sampled();
    check_range();
    rmdir(tmpdir);
    return ms_test_failures != 0;
}
