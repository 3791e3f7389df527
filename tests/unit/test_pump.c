/*
 * Unit tests of the record pump (analyze/pump.h). A synthetic trace is
 * written with a STACK record before each of 300 EVENTS chunks (as the
 * recorder writes new stack nodes before the events that use them), with
 * MODULE, SYMBOL, THREAD, MARK and LIVE_BLOCKS records between them. The
 * pump must deliver every record and event, with every byte they point
 * to, identically on one thread and on two (checked by a digest of each
 * delivery, in order, against the digest of the records as written), and
 * on two threads hand no record over in place but META: a record handed
 * over in place makes the reader wait for the consumer, and one such wait
 * per STACK record made msconv three times slower on two threads than on
 * one on cc1 -O2 (~16 000 STACK records).
 */
#include "pump.h"
#include "mstest.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 300
#define EV 40

static char dir[] = "/tmp/ms_test_pump.XXXXXX";
static char path[sizeof dir + 16];

static uint64_t mixin(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xBF58476D1CE4E5B9ull;
}

static uint64_t mix_str(uint64_t h, ms_str s)
{
    h = mixin(h, s.len);
    for (size_t i = 0; i < s.len; i++) h = mixin(h, (unsigned char)s.ptr[i]);
    return h;
}

/* digest of a record as the consumer sees it (every pointed-to byte) */
static uint64_t rec_digest(const ms_record *r)
{
    uint64_t h = mixin(0, r->type);
    switch (r->type) {
    case MS_REC_STACK:
        h = mixin(h, r->u.stack.first_id);
        for (uint32_t i = 0; i < r->u.stack.count; i++)
            h = mixin(mixin(h, r->u.stack.nodes[i].parent), r->u.stack.nodes[i].ip);
        break;
    case MS_REC_MODULE:
        h = mix_str(mix_str(mixin(h, r->u.module.id), r->u.module.path), r->u.module.build_id);
        for (uint32_t i = 0; i < r->u.module.nsegments; i++)
            h = mixin(mixin(h, r->u.module.segments[i].vaddr), r->u.module.segments[i].size);
        break;
    case MS_REC_SYMBOL:
        h = mixin(h, r->u.symbol.ip);
        for (uint32_t i = 0; i < r->u.symbol.nframes; i++)
            h = mixin(mix_str(mix_str(h, r->u.symbol.frames[i].function),
                              r->u.symbol.frames[i].file), r->u.symbol.frames[i].line);
        break;
    case MS_REC_LIVE_BLOCKS:
        for (uint32_t i = 0; i < r->u.live_blocks.count; i++)
            h = mixin(mixin(h, r->u.live_blocks.blocks[i].addr), r->u.live_blocks.blocks[i].size);
        break;
    case MS_REC_THREAD: h = mix_str(mixin(h, r->u.thread.tid), r->u.thread.name); break;
    case MS_REC_MARK: h = mix_str(h, r->u.mark.name); break;
    case MS_REC_EVENT:
        h = mixin(mixin(mixin(h, r->u.event.time), r->u.event.addr), r->u.event.size);
        h = mixin(mixin(h, r->u.event.stack), r->u.event.op);
        break;
    default:
        break;
    }
    return h;
}

typedef struct seen {
    uint64_t *d;
    size_t n, cap;
    uint64_t events, stacks;
} seen;

static void push(seen *s, uint64_t v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->d = realloc(s->d, s->cap * sizeof *s->d);
        if (!s->d) { printf("FAIL: out of memory\n"); exit(1); }
    }
    s->d[s->n++] = v;
}

static int on_record(void *ctx, const ms_record *rec)
{
    seen *s = ctx;
    if (rec->type == MS_REC_STACK) s->stacks++;
    push(s, rec_digest(rec));
    return 0;
}

static int on_events(void *ctx, uint64_t tid, const ms_replay_packed *ev, size_t n,
                     const ms_event *side)
{
    seen *s = ctx;
    (void)side;
    for (size_t i = 0; i < n; i++) {
        ms_record r;
        memset(&r, 0, sizeof r);
        r.type = MS_REC_EVENT;
        r.u.event.time = ev[i].time;
        r.u.event.addr = ev[i].addr;
        r.u.event.size = ev[i].full ? side[ev[i].size].size : ev[i].size;
        r.u.event.stack = ev[i].full ? side[ev[i].size].stack : ev[i].stack;
        r.u.event.op = ev[i].op;
        r.u.event.tid = tid;
        push(s, rec_digest(&r));
        s->events++;
    }
    return 0;
}

static void add(ms_writer *w, const ms_record *r, seen *truth)
{
    int e = ms_writer_add(w, r);
    if (e) { printf("FAIL: writer add: %s\n", ms_strerror(e)); exit(1); }
    if (truth && r->type != MS_REC_META && r->type != MS_REC_END) push(truth, rec_digest(r));
}

static void write_trace(seen *truth)
{
    ms_writer_opts o = { .kind = MS_KIND_HEAP };
    ms_writer *w;
    int e = ms_writer_open(&w, path, &o);
    if (e) { printf("FAIL: writer open: %s\n", ms_strerror(e)); exit(1); }
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_META;
    r.u.meta.clock_hz = 1000000;
    r.u.meta.exe = (ms_str){ "/usr/bin/pumped", 15 };
    r.u.meta.pid = 4242;
    add(w, &r, NULL);
    memset(&r, 0, sizeof r);
    r.type = MS_REC_THREAD;
    r.u.thread.tid = 7;
    r.u.thread.name = (ms_str){ "pumper", 6 };
    add(w, &r, truth);
    static char strs[ROUNDS][3][48];
    uint64_t t = 10;
    for (int k = 0; k < ROUNDS; k++) {
        ms_stack_node nodes[3] = {
            { 0, 0x400000u + (uint64_t)k * 64 },
            { (uint64_t)k * 3 + 1, 0x500000u + (uint64_t)k * 16 },
            { (uint64_t)k * 3 + 2, 0x600000u + (uint64_t)k * 8 },
        };
        memset(&r, 0, sizeof r);
        r.type = MS_REC_STACK;
        r.u.stack.first_id = (uint64_t)k * 3 + 1;
        r.u.stack.count = 3;
        r.u.stack.nodes = nodes;
        add(w, &r, truth);
        if (k % 10 == 0) {
            ms_segment seg[2] = { { 0, 4096, 0, 1 }, { 4096, 8192 + (uint64_t)k, 4096, 5 } };
            snprintf(strs[k][0], sizeof strs[k][0], "/usr/lib/libpump%d.so", k);
            memset(&r, 0, sizeof r);
            r.type = MS_REC_MODULE;
            r.u.module.id = (uint64_t)k / 10 + 1;
            r.u.module.path = (ms_str){ strs[k][0], strlen(strs[k][0]) };
            r.u.module.build_id = (ms_str){ "\x01\x02\x03\x04", 4 };
            r.u.module.base = 0x7f0000000000ull + (uint64_t)k * 0x100000;
            r.u.module.nsegments = 2;
            r.u.module.segments = seg;
            add(w, &r, truth);
        }
        if (k % 7 == 0) {
            snprintf(strs[k][1], sizeof strs[k][1], "pump_function_%d", k);
            snprintf(strs[k][2], sizeof strs[k][2], "src/pump%d.c", k % 13);
            ms_frame fr[2] = {
                { { strs[k][1], strlen(strs[k][1]) }, { strs[k][2], strlen(strs[k][2]) }, (uint32_t)k + 1, 0 },
                { { "outer", 5 }, { "src/outer.c", 11 }, 99, 0 },
            };
            memset(&r, 0, sizeof r);
            r.type = MS_REC_SYMBOL;
            r.u.symbol.ip = 0x600000u + (uint64_t)k * 8;
            r.u.symbol.nframes = 2;
            r.u.symbol.frames = fr;
            add(w, &r, truth);
        }
        if (k % 50 == 25) {
            memset(&r, 0, sizeof r);
            r.type = MS_REC_MARK;
            r.u.mark.time = t;
            r.u.mark.tid = 7;
            r.u.mark.name = (ms_str){ "phase", 5 };
            add(w, &r, truth);
        }
        if ((e = ms_writer_flush(w))) { printf("FAIL: flush: %s\n", ms_strerror(e)); exit(1); }
        ms_event ev[EV];
        memset(ev, 0, sizeof ev);
        for (int i = 0; i < EV; i++) {
            ev[i].time = t++;
            ev[i].tid = 7;
            ev[i].addr = 0x10000000u + (uint64_t)(i % (EV / 2)) * 32;
            if (i < EV / 2) {
                ev[i].op = MS_OP_MALLOC;
                ev[i].size = 16 + (uint64_t)(k + i) % 200;
                ev[i].stack = (uint64_t)k * 3 + 1 + (uint64_t)(i % 3);
            } else {
                ev[i].op = MS_OP_FREE;
            }
            ms_record er;
            memset(&er, 0, sizeof er);
            er.type = MS_REC_EVENT;
            er.u.event = ev[i];
            push(truth, rec_digest(&er));
        }
        if ((e = ms_writer_events(w, 7, ev, EV))) { printf("FAIL: events: %s\n", ms_strerror(e)); exit(1); }
    }
    ms_live_block lb[3] = { { 0x20000000u, 64, MS_LEAK_DEFINITE }, { 0x20001000u, 128, MS_LEAK_REACHABLE },
                            { 0x20002000u, 256, MS_LEAK_INDIRECT } };
    memset(&r, 0, sizeof r);
    r.type = MS_REC_LIVE_BLOCKS;
    r.u.live_blocks.time = t;
    r.u.live_blocks.count = 3;
    r.u.live_blocks.blocks = lb;
    add(w, &r, truth);
    memset(&r, 0, sizeof r);
    r.type = MS_REC_END;
    r.u.end.time = t + 1;
    r.u.end.n_events = (uint64_t)ROUNDS * EV;
    add(w, &r, NULL);
    if ((e = ms_writer_close(w))) { printf("FAIL: writer close: %s\n", ms_strerror(e)); exit(1); }
}

/* pump the file with MEMSCOPE_THREADS=threads; the deliveries but META and END */
static ms_pump_stats run(const char *threads, seen *s)
{
    setenv("MEMSCOPE_THREADS", threads, 1);
    ms_reader *rd;
    int e = ms_reader_open(&rd, path);
    if (e) { printf("FAIL: reader open: %s\n", ms_strerror(e)); exit(1); }
    ms_pump_stats st;
    memset(&st, 0, sizeof st);
    e = ms_pump_run_stats(&st, rd, on_record, on_events, s);
    ms_reader_close(rd);
    CHECK("pump runs to the end", e == 0);
    size_t j = 0;                      /* drop META and END */
    uint64_t meta = mixin(0, MS_REC_META), end = mixin(0, MS_REC_END);
    for (size_t i = 0; i < s->n; i++)
        if (s->d[i] != meta && s->d[i] != end) s->d[j++] = s->d[i];
    s->n = j;
    return st;
}

int main(void)
{
    if (!mkdtemp(dir)) { printf("FAIL: mkdtemp\n"); return 1; }
    snprintf(path, sizeof path, "%s/t.memscope", dir);
    seen truth = {0}, one = {0}, two = {0};
    write_trace(&truth);

    ms_pump_stats s1 = run("0", &one);
    ms_pump_stats s2 = run("1", &two);
    CHECK("one thread: single-threaded", !s1.threaded);
    CHECK("two threads: a consumer thread ran", s2.threaded);
    CHECK_EQ_U64("one thread: every event delivered", (uint64_t)ROUNDS * EV, one.events);
    CHECK_EQ_U64("two threads: every event delivered", (uint64_t)ROUNDS * EV, two.events);
    CHECK_EQ_U64("one thread: every STACK record delivered", ROUNDS, one.stacks);
    CHECK_EQ_U64("two threads: every STACK record delivered", ROUNDS, two.stacks);
    CHECK_EQ_U64("one thread: deliveries as written", truth.n, one.n);
    CHECK_EQ_U64("two threads: deliveries as written", truth.n, two.n);
    size_t bad1 = 0, bad2 = 0;
    for (size_t i = 0; i < truth.n; i++) {
        if (i >= one.n || one.d[i] != truth.d[i]) bad1++;
        if (i >= two.n || two.d[i] != truth.d[i]) bad2++;
    }
    CHECK_EQ_U64("one thread: every delivery equals what was written, in order", 0, bad1);
    CHECK_EQ_U64("two threads: every delivery equals what was written, in order", 0, bad2);
    /* only META waits for the consumer: STACK, MODULE, SYMBOL, LIVE_BLOCKS
     * and the rest are copied into their batch */
    CHECK_EQ_U64("two threads: only META handed over in place", 1, s2.in_place);
    CHECK("two threads: events travel in batches, not one by one", s2.batches < (uint64_t)ROUNDS * EV / 8);
    unlink(path);
    rmdir(dir);
    free(truth.d); free(one.d); free(two.d);
    return ms_test_failures != 0;
}
