/* Writes a small synthetic heap trace with known numbers and hostile
 * strings (thread, mark, function, file and map names holding "</script>",
 * "<img onerror>", quotes) for the view tests: the HTML must show them as
 * text and run none of them, the SVGs must stay well-formed XML.
 *
 * Truth (tests/html/test_html.sh, tests/views/test_views.sh):
 *   4 allocations, 1864 bytes; peak 1500 at t=20 ms
 *   (evil 1000, leafy 500); leaked 1300 in 2 blocks (evil 1000, work 300);
 *   temporary 2; stacks main;EVIL, main;work, main;work;work;leafy.
 * Usage: mkxss OUT.memscope */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memscope.h"

#define S(lit) ((ms_str){ (lit), sizeof(lit) - 1 })
#define EVIL "<img src=x onerror=window.__xss=2>"
static ms_writer *w;

static void add(uint32_t type, const void *body, size_t size)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = type;
    memcpy(&r.u, body, size);
    int rc = ms_writer_add(w, &r);
    if (rc) { fprintf(stderr, "mkxss: add: %s\n", ms_strerror(rc)); ms_writer_abort(w); exit(1); }
}
#define ADD(type, ...) do { __typeof__(__VA_ARGS__) b_ = __VA_ARGS__; add(type, &b_, sizeof b_); } while (0)

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: mkxss OUT\n"); return 2; }
    ms_writer_opts o = { .kind = MS_KIND_HEAP };
    int rc = ms_writer_open(&w, argv[1], &o);
    if (rc) { fprintf(stderr, "mkxss: %s: %s\n", argv[1], ms_strerror(rc)); return 1; }
    const uint64_t ms = 1000000;   /* clock 1e9 Hz: 1 ms = 1e6 ticks */
    ADD(MS_REC_META, (ms_meta){ .recorder_version = S("0.1.0"), .mode = MS_MODE_FULL, .pid = 4242,
        .exe = S("/opt/</script><script>window.__xss=1</script>/prog"), .cmdline = S("prog"), .hostname = S("h"),
        .kernel = S("6"), .page_size = 4096, .clock_hz = 1000000000, .start_wall_ns = 1790000000000000000ULL,
        .unwinder = S("fp"), .max_depth = 64 });
    ADD(MS_REC_THREAD, (ms_thread){ .tid = 7, .time = 0, .name = S("</script><script>window.__xss=3</script>") });
    ADD(MS_REC_THREAD, (ms_thread){ .tid = 8, .time = 0, .name = S("worker \"q\" & <b>") });
    static const ms_stack_node nodes[5] = { { 0, 0x1000 }, { 1, 0x2000 }, { 1, 0x3000 }, { 3, 0x3000 }, { 4, 0x4000 } };
    ADD(MS_REC_STACK, (ms_stack){ .first_id = 1, .count = 5, .nodes = nodes });
    static const ms_frame f1[1] = { { S("main"), S("x.c"), 5, 0 } };
    static const ms_frame f2[1] = { { S(EVIL), S("</script>.c"), 7, 0 } };
    static const ms_frame f3[1] = { { S("work"), S("x.c"), 9, 0 } };
    static const ms_frame f4[1] = { { S("leafy"), S("x.c"), 11, 0 } };
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = 0x1000, .nframes = 1, .frames = f1 });
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = 0x2000, .nframes = 1, .frames = f2 });
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = 0x3000, .nframes = 1, .frames = f3 });
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = 0x4000, .nframes = 1, .frames = f4 });
    ADD(MS_REC_MARK, (ms_mark_rec){ .time = 5 * ms, .tid = 7, .name = S("</script><script>window.__xss=4</script>") });
    ADD(MS_REC_MARK, (ms_mark_rec){ .time = 35 * ms, .tid = 7, .name = S("phase two") });
    ADD(MS_REC_SAMPLE, (ms_sample){ .time = 10 * ms, .rss = 4 << 20, .heap_live = 1000 });
    ADD(MS_REC_SAMPLE, (ms_sample){ .time = 50 * ms, .rss = 5 << 20, .heap_live = 1300 });
    ms_event t7[4] = {
        { .time = 10 * ms, .addr = 0x100, .size = 1000, .stack = 2, .op = MS_OP_MALLOC },
        { .time = 20 * ms, .addr = 0x200, .size = 500, .stack = 5, .op = MS_OP_MALLOC },
        { .time = 30 * ms, .addr = 0x200, .op = MS_OP_FREE },
        { .time = 40 * ms, .addr = 0x300, .size = 300, .stack = 3, .op = MS_OP_MALLOC } };
    ms_event t8[2] = {
        { .time = 15 * ms, .addr = 0x400, .size = 64, .stack = 5, .op = MS_OP_MALLOC },
        { .time = 16 * ms, .addr = 0x400, .op = MS_OP_FREE } };
    if ((rc = ms_writer_events(w, 7, t7, 4)) || (rc = ms_writer_events(w, 8, t8, 2))) {
        fprintf(stderr, "mkxss: events: %s\n", ms_strerror(rc));
        ms_writer_abort(w);
        return 1;
    }
    ADD(MS_REC_SYNC, (ms_sync){ .time = 100 * ms });
    static const ms_map maps[2] = {
        { 0x10000, 0x30000, 3, 0, S("[heap]"), 65536, 65536, 65536, 0 },
        { 0x40000, 0x41000, 5, 0, S("/lib/</script><script>window.__xss=5</script>.so"), 4096, 4096, 0, 0 } };
    ADD(MS_REC_MAPS, (ms_maps){ .time = 100 * ms, .count = 2, .maps = maps });
    ADD(MS_REC_PROC_MEM, (ms_proc_mem){ .time = 100 * ms, .vm_size = 10 << 20, .vm_rss = 5 << 20, .vm_hwm = 6 << 20,
        .rss_anon = 1 << 20 });
    ADD(MS_REC_END, (ms_end){ .time = 100 * ms, .reason = MS_END_EXIT, .n_events = 6, .n_allocs = 4, .n_frees = 2,
        .alloc_bytes = 1864 });
    rc = ms_writer_close(w);
    if (rc) { fprintf(stderr, "mkxss: close: %s\n", ms_strerror(rc)); return 1; }
    return 0;
}
