/*
 * make_golden.c — writes the golden .memscope files of the current format
 * version (v1.3; the v1.0 and v1.1 ones were made by its earlier forms, the
 * v1.2 one by make_heap_v12 below, kept for `make_golden --v1.2 DIR`) and
 * their canonical dumps (.expected).
 *
 * The goldens pin the bytes of the format: tests/unit/test_golden.c reads
 * them with the library, tests/spec/spec_reader.py with the spec alone, and
 * both must produce the .expected text exactly, forever. So this program is
 * run by hand once per format version and refuses to overwrite anything
 * (see tests/golden/README.md). It covers every record type and field the
 * version has: heap file (META, MODULE/MODULE_UNLOAD, STACK, SYMBOL with an
 * inlined chain, THREAD/THREAD_END, SAMPLE, MARK, LABEL, SYNC, events of
 * every op on two threads, LIVE_BLOCKS of every leak class, MAPS, PROC_MEM,
 * END) and snapshot file (two snapshots, every read_status bit).
 *
 * Before writing a .expected file it checks that the records read back are
 * exactly the records it fed to the writer, so a golden can never freeze a
 * writer or reader bug.
 *
 * Usage: make_golden [DIR]   (DIR defaults to tests/golden)
 *        make_golden --v1.2 DIR   the v1.2 golden again, into an empty DIR
 *        make_golden --dump FILE   prints the canonical dump of any file
 *        (tests/spec/test_spec_reader.sh compares it with the spec reader's
 *        on damaged files).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memscope.h"
#include "msdump.h"

#define S(lit) ((ms_str){ (lit), sizeof(lit) - 1 })

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "make_golden: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* The writer plus a dump of everything fed to it, in file order. */
typedef struct gen {
    ms_writer *w;
    const char *path;
    FILE *fed;
    char *fed_buf;
    size_t fed_len;
} gen;

static void gen_open(gen *g, const char *path, uint32_t kind, size_t chunk_bytes)
{
    ms_writer_opts o = { .kind = kind, .level = 3, .chunk_bytes = chunk_bytes };
    g->path = path;
    int rc = ms_writer_open(&g->w, path, &o);
    if (rc != MS_OK)
        die("%s: %s", path, ms_strerror(rc));
    g->fed = open_memstream(&g->fed_buf, &g->fed_len);
    if (!g->fed)
        die("open_memstream failed");
}

static void add(gen *g, uint32_t type, const void *body, size_t size)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = type;
    memcpy(&r.u, body, size);
    int rc = ms_writer_add(g->w, &r);
    if (rc != MS_OK) {
        ms_writer_abort(g->w);
        die("%s: adding a %s record: %s", g->path, ms_record_type_name(type), ms_strerror(rc));
    }
    msd_record(g->fed, &r);
}
#define ADD(g, type, ...) do { __typeof__(__VA_ARGS__) b_ = __VA_ARGS__; add(g, type, &b_, sizeof b_); } while (0)

static void events(gen *g, uint64_t tid, ms_event *ev, size_t n)
{
    int rc = ms_writer_events(g->w, tid, ev, n);
    if (rc != MS_OK) {
        ms_writer_abort(g->w);
        die("%s: events: %s", g->path, ms_strerror(rc));
    }
    for (size_t i = 0; i < n; i++) {
        ms_record r;
        memset(&r, 0, sizeof r);
        r.type = MS_REC_EVENT;
        r.u.event = ev[i];
        r.u.event.tid = tid;
        msd_record(g->fed, &r);
    }
}

/* Chunks in the file so far (after a flush): what END.n_chunks says. */
static uint64_t chunks_so_far(gen *g)
{
    int rc = ms_writer_flush(g->w);
    if (rc != MS_OK)
        die("%s: flush: %s", g->path, ms_strerror(rc));
    ms_reader *r;
    rc = ms_reader_open(&r, g->path);
    if (rc != MS_OK)
        die("%s: reopen: %s", g->path, ms_strerror(rc));
    const ms_record *rec;
    while ((rc = ms_reader_next(r, &rec)) == 1)
        ;
    ms_integrity in;
    ms_reader_integrity(r, &in);
    ms_reader_close(r);
    if (rc < 0 || in.verdict != MS_OK)
        die("%s: partial file does not read back cleanly", g->path);
    return in.chunks_ok;
}

/* Close, read back, compare with what was fed, write the .expected dump. */
static void gen_finish(gen *g, const char *expected_path)
{
    int rc = ms_writer_close(g->w);
    if (rc != MS_OK)
        die("%s: close: %s", g->path, ms_strerror(rc));
    fclose(g->fed);

    size_t len;
    unsigned char *buf = msd_slurp(g->path, &len);
    if (!buf)
        die("%s: %s", g->path, strerror(errno));

    /* Record lines only (drop header/chunk/integrity lines) vs what was fed. */
    char *full = NULL, *recs = NULL;
    size_t full_len = 0, recs_len = 0;
    FILE *ff = open_memstream(&full, &full_len);
    long n = msd_file(ff, buf, len);
    fclose(ff);
    if (n < 0)
        die("%s: reading back: %s", g->path, ms_strerror((int)n));
    FILE *rf = open_memstream(&recs, &recs_len);
    for (char *line = full; *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (strncmp(line, "header ", 7) && strncmp(line, "chunk ", 6) && strncmp(line, "integrity ", 10))
            fwrite(line, 1, ll, rf);
        line += ll;
    }
    fclose(rf);
    if (recs_len != g->fed_len || memcmp(recs, g->fed_buf, recs_len) != 0) {
        char a[4096], b[4096];
        snprintf(a, sizeof a, "%s.fed", g->path);
        snprintf(b, sizeof b, "%s.read", g->path);
        FILE *fa = fopen(a, "w"), *fb = fopen(b, "w");
        if (fa) { fwrite(g->fed_buf, 1, g->fed_len, fa); fclose(fa); }
        if (fb) { fwrite(recs, 1, recs_len, fb); fclose(fb); }
        unlink(g->path);
        die("%s: records read back differ from records written; see %s and %s "
            "(golden removed)", g->path, a, b);
    }
    if (!strstr(full, "integrity verdict=0 ") || !strstr(full, " has_end=1 ")) {
        unlink(g->path);
        die("%s: integrity not OK on read back (golden removed)", g->path);
    }

    FILE *ef = fopen(expected_path, "wx");
    if (!ef)
        die("%s: %s", expected_path, strerror(errno));
    fwrite(full, 1, full_len, ef);
    if (fclose(ef) != 0)
        die("%s: write failed", expected_path);
    printf("wrote %s (%zu bytes, %ld records) and %s\n", g->path, len, n, expected_path);
    free(full);
    free(recs);
    free(buf);
    free(g->fed_buf);
}

/* ---------------------------------------------------------------- heap -- */

/* Addresses of the blocks in the heap trace. */
#define A1  0x55555556a010ULL
#define A2  0x55555556a030ULL
#define A3  0x55555556a080ULL
#define A4  0x55555556a0c0ULL
#define A5  0x55555556a140ULL
#define A6  0x55555556b000ULL
#define A7  0x55555556c020ULL
#define A8  0x55555556d000ULL
#define A9  0x55555556e000ULL
#define A10 0x55555556f010ULL
#define A11 0x55555556f040ULL
#define A12 0x55555556f0a0ULL
#define A13 0x555555570000ULL
#define A14 0x555555570410ULL
#define B1  0x7ffff0000b70ULL

#define EV(t, o, a, s, old, st, al) \
    { .time = (t), .op = (o), .addr = (a), .size = (s), .old_addr = (old), .stack = (st), .align = (al) }

static void tally(const ms_event *ev, size_t n, ms_end *e)
{
    for (size_t i = 0; i < n; i++) {
        e->n_events++;
        if (MS_OP_IS_FREE(ev[i].op)) {
            e->n_frees++;
        } else if (ev[i].addr != 0) {
            e->n_allocs++;
            e->alloc_bytes += ev[i].size;
            if (MS_OP_IS_REALLOC(ev[i].op) && ev[i].old_addr != 0)
                e->n_frees++;
        } else if (MS_OP_IS_REALLOC(ev[i].op) && ev[i].size == 0) {
            e->n_frees++; /* realloc(p, 0) */
        }
    }
}

/* Made the v1.0 goldens with the 1.0 writer; kept for reference and not
 * run any more (the writer now writes 1.1 bytes, and goldens are never
 * regenerated). */
__attribute__((unused)) static void make_heap(const char *path, const char *expected)
{
    gen g;
    gen_open(&g, path, MS_KIND_HEAP, 384); /* small chunks: several RECORDS chunks */
    ms_end end = { .time = 900, .reason = MS_END_EXIT, .detail = 3, .n_dropped = 2 };

    ADD(&g, MS_REC_META, (ms_meta){
        .recorder_version = S("0.1.0"), .mode = MS_MODE_FULL, .sample_rate = 0,
        .pid = 4242, .ppid = 4200, .exe = S("/usr/bin/demo"),
        .cmdline = S("demo\0--size=3\0caf\xc3\xa9 \"q\"\\"), .hostname = S("golden-host"),
        .kernel = S("6.1.0-18-amd64"), .page_size = 4096, .clock_hz = 1000000,
        .start_wall_ns = 1790000000123456789ULL, .unwinder = S("libunwind"),
        .max_depth = 64, .label = S("golden v1.0"),
        .boot_id = S("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0") });

    static const ms_segment seg1[2] = {
        { .vaddr = 0, .size = 0x1000, .file_offset = 0, .prot = 1 },
        { .vaddr = 0x1000, .size = 0x2345, .file_offset = 0x1000, .prot = 5 } };
    static const ms_segment seg2[2] = {
        { .vaddr = 0, .size = 0x800, .file_offset = 0, .prot = 1 },
        { .vaddr = 0x2e00, .size = 0x1200, .file_offset = 0x1e00, .prot = 3 } };
    static const ms_segment seg3[1] = {
        { .vaddr = 0x10000, .size = 0x4000, .file_offset = 0, .prot = 5 } };
    ADD(&g, MS_REC_MODULE, (ms_module){ .id = 1, .time = 0, .path = S("/usr/bin/demo"),
        .build_id = S("\x8a\x1c\x00\xff\x42\x10\x99\xab\xcd\xef\x01\x23\x45\x67\x89\x0a\xbb\xcc\xdd\xee"),
        .base = 0x555555554000, .nsegments = 2, .segments = seg1 });
    ADD(&g, MS_REC_MODULE, (ms_module){ .id = 2, .time = 5, .path = S("/usr/lib/x86_64-linux-gnu/libfoo.so.1"),
        .build_id = S("\x01\x02\x03\x04\x05\x06\x07\x08"),
        .base = 0x7ffff7f00000, .nsegments = 2, .segments = seg2 });
    ADD(&g, MS_REC_MODULE, (ms_module){ .id = 3, .time = 6, .path = S("/tmp/plugin (deleted)"),
        .build_id = { NULL, 0 }, .base = 0x7ffff7e00000, .nsegments = 1, .segments = seg3 });
    ADD(&g, MS_REC_THREAD, (ms_thread){ .tid = 4242, .time = 0, .name = S("demo"), .creator_tid = 0 });

    static const ms_stack_node st1[5] = {
        { 0, 0x555555555100 },  /* 1: main */
        { 1, 0x555555555234 },  /* 2 */
        { 2, 0x7ffff7f01abc },  /* 3: in libfoo */
        { 2, 0x555555555300 },  /* 4 */
        { 1, 0x555555555400 } };/* 5 */
    ADD(&g, MS_REC_STACK, (ms_stack){ .first_id = 1, .count = 5, .nodes = st1 });

    static const ms_frame fr_inl[3] = {
        { S("std::vector<int>::push_back(int const&)"), S("/usr/include/c++/12/bits/stl_vector.h"), 1287, 18 },
        { S("fill(std::vector<int>&)"), S("src/demo.cc"), 42, 7 },
        { S("main"), S("src/demo.cc"), 77, 0 } };
    static const ms_frame fr_foo[1] = { { S("foo_alloc"), S(""), 0, 0 } };
    static const ms_frame fr_none[1] = { { S(""), S(""), 0, 0 } };
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = 0x555555555234, .module_id = 1, .module_offset = 0x1234,
        .nframes = 3, .frames = fr_inl });
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = 0x7ffff7f01abc, .module_id = 2, .module_offset = 0x1abc,
        .nframes = 1, .frames = fr_foo });
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = 0xdeadbeef, .module_id = 0, .module_offset = 0,
        .nframes = 1, .frames = fr_none });
    ADD(&g, MS_REC_SAMPLE, (ms_sample){ .time = 50, .rss = 2 << 20, .heap_live = 0, .heap_blocks = 0 });
    ADD(&g, MS_REC_MARK, (ms_mark_rec){ .time = 90, .tid = 4242, .name = S("phase-1: fill") });

    ms_event ev1[] = {
        EV(100, MS_OP_MALLOC, A1, 16, 0, 3, 0),
        EV(110, MS_OP_CALLOC, A2, 64, 0, 4, 0),
        EV(120, MS_OP_REALLOC, A3, 32, A1, 4, 0),          /* moved */
        EV(130, MS_OP_REALLOC, A3, 24, A3, 4, 0),          /* in place */
        EV(140, MS_OP_REALLOC, 0, 0, A2, 5, 0),            /* to zero: frees A2 */
        EV(150, MS_OP_REALLOC, 0, 1ULL << 40, A3, 5, 0),   /* failed: A3 stays */
        EV(160, MS_OP_MALLOC, 0, 1ULL << 50, 0, 5, 0),     /* failed malloc */
        EV(170, MS_OP_REALLOCARRAY, A4, 48, A3, 2, 0),
        EV(180, MS_OP_MEMALIGN, A5, 100, 0, 2, 64),
        EV(190, MS_OP_POSIX_MEMALIGN, A6, 200, 0, 2, 4096),
        EV(191, MS_OP_ALIGNED_ALLOC, A7, 256, 0, 3, 32),
        EV(191, MS_OP_VALLOC, A8, 300, 0, 3, 4096),        /* same tick */
        EV(220, MS_OP_PVALLOC, A9, 4096, 0, 1, 4096),
        EV(230, MS_OP_NEW, A10, 40, 0, 5, 0),
        EV(240, MS_OP_NEW_ARRAY, A11, 80, 0, 5, 0),
        EV(241, MS_OP_CALLOC, 0, 0xffffffffffffULL, 0, 0, 0), /* failed, no stack */
    };
    events(&g, 4242, ev1, sizeof ev1 / sizeof ev1[0]);
    tally(ev1, sizeof ev1 / sizeof ev1[0], &end);

    ADD(&g, MS_REC_THREAD, (ms_thread){ .tid = 4243, .time = 245, .name = S("worker-1"), .creator_tid = 4242 });
    static const ms_stack_node st2[2] = {
        { 4, 0x555555555310 },  /* 6 */
        { 0, 0x7ffff7c29d90 } };/* 7: thread start, outermost */
    ADD(&g, MS_REC_STACK, (ms_stack){ .first_id = 6, .count = 2, .nodes = st2 });
    ADD(&g, MS_REC_LABEL, (ms_label_rec){ .time = 246, .tid = 4242, .addr = A7,
        .var_name = S("table"), .type_name = S("struct entry[8]") });

    ms_event ev2[] = {
        EV(250, MS_OP_MALLOC, B1, 512, 0, 7, 0),
        EV(260, MS_OP_FREE, A5, 0, 0, 0, 0),               /* cross-thread free */
        EV(280, MS_OP_FREE, B1, 0, 0, 0, 0),
        EV(281, MS_OP_NEW, B1, 24, 0, 7, 0),               /* address reused */
        EV(282, MS_OP_DELETE, B1, 0, 0, 0, 0),
    };
    events(&g, 4243, ev2, sizeof ev2 / sizeof ev2[0]);
    tally(ev2, sizeof ev2 / sizeof ev2[0], &end);

    ADD(&g, MS_REC_SYNC, (ms_sync){ .time = 290 });
    ADD(&g, MS_REC_THREAD_END, (ms_thread_end){ .tid = 4243, .time = 291 });
    ADD(&g, MS_REC_MODULE_UNLOAD, (ms_module_unload){ .id = 3, .time = 292 });
    ADD(&g, MS_REC_THREAD, (ms_thread){ .tid = 4242, .time = 293, .name = S("demo-main"), .creator_tid = 0 });
    ADD(&g, MS_REC_SAMPLE, (ms_sample){ .time = 295, .rss = 3 << 20, .heap_live = 5000, .heap_blocks = 9 });
    ADD(&g, MS_REC_MARK, (ms_mark_rec){ .time = 296, .tid = 4242, .name = S("phase-2") });

    ms_event ev3[] = {
        EV(300, MS_OP_DELETE, A10, 0, 0, 0, 0),
        EV(310, MS_OP_DELETE_ARRAY, A11, 0, 0, 0, 0),
        EV(320, MS_OP_FREE, A4, 0, 0, 0, 0),
        EV(330, MS_OP_FREE, A6, 0, 0, 0, 0),
        EV(340, MS_OP_MALLOC, A12, 8, 0, 6, 0),
        EV(350, MS_OP_MALLOC, A13, 1024, 0, 1, 0),
        EV(360, MS_OP_CALLOC, A14, 1, 0, 6, 0),
        EV(1000000360ULL, MS_OP_MALLOC, 0x7fffe0000010, 1ULL << 32, 0, 6, 0), /* big time jump */
    };
    events(&g, 4242, ev3, sizeof ev3 / sizeof ev3[0]);
    tally(ev3, sizeof ev3 / sizeof ev3[0], &end);

    static const ms_live_block lb1[3] = {
        { A7, 256, MS_LEAK_DEFINITE }, { A8, 300, MS_LEAK_REACHABLE }, { A9, 4096, MS_LEAK_INDIRECT } };
    static const ms_live_block lb2[4] = {
        { A12, 8, MS_LEAK_POSSIBLE }, { A13, 1024, MS_LEAK_LIBC }, { A14, 1, MS_LEAK_UNKNOWN },
        { 0x7fffe0000010, 1ULL << 32, MS_LEAK_DEFINITE } };
    ADD(&g, MS_REC_LIVE_BLOCKS, (ms_live_blocks){ .time = 1000000400ULL, .count = 3, .blocks = lb1 });
    ADD(&g, MS_REC_LIVE_BLOCKS, (ms_live_blocks){ .time = 1000000400ULL, .count = 4, .blocks = lb2 });

    static const ms_map maps[5] = {
        { 0x555555554000, 0x555555555000, 1, 0, S("/usr/bin/demo"), 4096, 4096, 0, 0 },
        { 0x555555555000, 0x555555558000, 5, 0x1000, S("/usr/bin/demo"), 8192, 8192, 0, 0 },
        { 0x555555569000, 0x55555558a000, 3, 0, S("[heap]"), 65536, 65536, 65536, 4096 },
        { 0x7ffff0000000, 0x7ffff0021000, 3, 0, S(""), 12288, 12288, 12288, 0 },
        { 0x7ffff7ff0000, 0x7ffff7ff8000, 11, 0x2000, S("/dev/shm/ring"), 32768, 16384, 0, 0 } };
    ADD(&g, MS_REC_MAPS, (ms_maps){ .time = 1000000401ULL, .count = 5, .maps = maps });
    ADD(&g, MS_REC_PROC_MEM, (ms_proc_mem){ .time = 1000000402ULL, .vm_size = 10 << 20, .vm_rss = 3 << 20,
        .vm_hwm = 4 << 20, .rss_anon = 1 << 20, .rss_file = 2 << 20, .rss_shmem = 16384,
        .vm_data = 5 << 20, .vm_swap = 4096 });

    end.time = 1000000500ULL;
    end.n_chunks = chunks_so_far(&g);
    add(&g, MS_REC_END, &end, sizeof end);
    gen_finish(&g, expected);
}

/* ------------------------------------------------------------ snapshot -- */

__attribute__((unused)) static void make_snapshot(const char *path, const char *expected)
{
    gen g;
    gen_open(&g, path, MS_KIND_SNAPSHOT, 1024);
    const uint64_t t0 = 1790000000000000000ULL;
    static const ms_kv mi[6] = {
        { S("MemTotal"), 16ULL << 30 }, { S("MemFree"), 3ULL << 30 }, { S("MemAvailable"), 9ULL << 30 },
        { S("Buffers"), 200 << 20 }, { S("Cached"), 5ULL << 30 }, { S("SwapTotal"), 0 } };
    static const ms_kv mi2[2] = { { S("MemTotal"), 16ULL << 30 }, { S("MemFree"), 2ULL << 30 } };
    static const ms_snap_lib libs[3] = {
        { S("/usr/lib/x86_64-linux-gnu/libc.so.6"), 1922136, 2154496, 1597440, 98304 },
        { S("/usr/lib/x86_64-linux-gnu/libm.so.6"), 0, 921600, 0, 0 },
        { S("/opt/app/libold.so"), 0, 8192, 8192, 8192 } };
    static const ms_snap_perm perms[4] = {
        { 1, 1 << 20, 900000, 300000 }, { 3, 8 << 20, 6 << 20, 6 << 20 },
        { 5, 2 << 20, 1 << 20, 200000 }, { 11, 65536, 65536, 32768 } };
    static const ms_snap_perm perms_sys[1] = { { 5, 123 << 12, 100 << 12, 50 << 12 } };

    for (uint64_t s = 0; s < 2; s++) {
        uint64_t t = t0 + s * 60000000000ULL;
        ADD(&g, MS_REC_SNAP_BEGIN, (ms_snap_begin){ .index = s, .wall_ns = t,
            .label = s ? S("after") : S("before"), .hostname = S("golden-host"),
            .kernel = S("6.1.0-18-amd64"), .os_release = S("Debian GNU/Linux 12 (bookworm)"),
            .boot_id = S("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"), .page_size = 4096,
            .uptime_ms = 123456789 + s * 60000, .nmeminfo = s ? 2 : 6, .meminfo = s ? mi2 : mi });
        /* kernel thread: no cmdline, no exe, no memory */
        ADD(&g, MS_REC_SNAP_PROC, (ms_snap_proc){ .snap_index = s, .pid = 2, .ppid = 0, .starttime = 0,
            .name = S("kthreadd"), .cmdline = S(""), .exe = S(""), .uid = 0, .user = S("root"),
            .kind = MS_PROC_KERNEL, .state = 'S', .read_status = 0, .threads = 1, .open_files = 0 });
        /* system process we may not look into: permission denied everywhere */
        ADD(&g, MS_REC_SNAP_PROC, (ms_snap_proc){ .snap_index = s, .pid = 1, .ppid = 0, .starttime = 5,
            .name = S("systemd"), .cmdline = S("/sbin/init\0splash"), .exe = S(""), .exe_size = 0,
            .uid = 0, .user = S("root"), .kind = MS_PROC_SYSTEM, .state = 'S',
            .read_status = MS_READ_DENIED_SMAPS | MS_READ_DENIED_FD | MS_READ_DENIED_EXE | MS_READ_DENIED_MAPS,
            .threads = 1, .rss = 12 << 20, .rss_anon = 4 << 20, .rss_file = 8 << 20, .vm_size = 160 << 20,
            .vm_hwm = 13 << 20, .open_files = -1, .nperms = s ? 1 : 0, .perms = perms_sys });
        /* user process with everything */
        ADD(&g, MS_REC_SNAP_PROC, (ms_snap_proc){ .snap_index = s, .pid = 31337, .ppid = 1200,
            .starttime = 987654 + s, .name = S("app \xe2\x9c\x93"), .cmdline = S("/opt/app/app\0-v\0--name=x y"),
            .exe = S("/opt/app/app"), .exe_size = 5242880, .uid = 1000, .user = S("alice"),
            .kind = MS_PROC_USER, .state = 'R', .read_status = s ? MS_READ_NO_ROLLUP : 0, .threads = 4,
            .rss = 11 << 20, .pss = 9 << 20, .uss = 8 << 20, .swap = 4096, .swap_pss = 2048,
            .shared_clean = 2 << 20, .shared_dirty = 1 << 20, .private_clean = 3 << 20,
            .private_dirty = 5 << 20, .pss_anon = 6 << 20, .pss_file = 3 << 20, .pss_shmem = 1 << 19,
            .rss_anon = 6 << 20, .rss_file = 4 << 20, .rss_shmem = 1 << 20, .vm_size = 300 << 20,
            .vm_hwm = (12 << 20) + s, .open_files = 17, .nlibs = 3, .libs = libs, .nperms = 4, .perms = perms });
        if (s == 0) {
            ADD(&g, MS_REC_SNAP_PROC, (ms_snap_proc){ .snap_index = s, .pid = 31400, .ppid = 31337,
                .starttime = 999000, .name = S("defunct"), .cmdline = S(""), .exe = S(""), .uid = 1000,
                .user = S("alice"), .kind = MS_PROC_USER, .state = 'Z', .read_status = MS_READ_ZOMBIE,
                .threads = 1, .open_files = 0 });
            ADD(&g, MS_REC_SNAP_PROC, (ms_snap_proc){ .snap_index = s, .pid = 31401, .ppid = 31337,
                .starttime = 999100, .name = S("short-lived"), .cmdline = S("sleep\0" "0.01"),
                .exe = S("/usr/bin/sleep"), .exe_size = 35336, .uid = 65534, .user = S(""),
                .kind = MS_PROC_USER, .state = 'S', .read_status = MS_READ_VANISHED, .threads = 1,
                .rss = 1 << 20, .open_files = -1 });
        }
        ADD(&g, MS_REC_SNAP_END, (ms_snap_end){ .index = s, .wall_ns = t + 250000000, .n_procs = s ? 3 : 5,
            .n_vanished = s ? 0 : 1, .n_denied = 1, .n_omitted = s ? 7 : 0,
            .omitted_pss = s ? 3 << 20 : 0, .omitted_rss = s ? 5 << 20 : 0 });
    }
    ms_end end = { .time = t0 + 60250000001ULL, .reason = MS_END_SNAPSHOT, .detail = 0 };
    end.n_chunks = chunks_so_far(&g);
    add(&g, MS_REC_END, &end, sizeof end);
    gen_finish(&g, expected);
}

/* ----------------------------------------------------------- heap v1.1 -- */
/* Made the v1.1 golden with the 1.1 writer; kept for reference and not run
 * any more (goldens are never regenerated). */

/* v1.1: EVENTS chunks with the MODEL flag (spec 7.5). The events walk every
 * path of the block model: frees by list index 0 (malloc/free pairs) and
 * by a deeper index (nested blocks), a free of a block that fell off the
 * 8-entry list and of a block allocated in an earlier chunk (escape:
 * 8 + zigzag delta), allocations predicted by their size class (tcache
 * reuse) and not (class empty, or a different block returned), sizes that
 * share the last class (>= 1000), free(NULL) matching an empty list entry,
 * failed allocations (address 0: not listed), reallocs and aligned ops, a
 * cross-thread free, an odd address (shift 0) and a time decrease. */
#define C(i) (0x5555555a0000ULL + 0x40ULL * (i))
__attribute__((unused)) static void make_heap_v11(const char *path, const char *expected)
{
    gen g;
    gen_open(&g, path, MS_KIND_HEAP, 0);
    ms_end end = { .time = 5000, .reason = MS_END_EXIT, .detail = 0 };
    ADD(&g, MS_REC_META, (ms_meta){
        .recorder_version = S("0.2.0"), .mode = MS_MODE_FULL, .pid = 777, .ppid = 1,
        .exe = S("/usr/bin/model"), .cmdline = S("model"), .hostname = S("golden-host"),
        .kernel = S("6.1.0-18-amd64"), .page_size = 4096, .clock_hz = 10141087,
        .start_wall_ns = 1790000000000000000ULL, .unwinder = S("fp"), .max_depth = 64,
        .label = S("golden v1.1"), .boot_id = S("") });
    ADD(&g, MS_REC_THREAD, (ms_thread){ .tid = 777, .time = 0, .name = S("model"), .creator_tid = 0 });
    ADD(&g, MS_REC_THREAD, (ms_thread){ .tid = 778, .time = 1, .name = S("model-w"), .creator_tid = 777 });
    static const ms_stack_node st[3] = { { 0, 0x555555555100 }, { 1, 0x555555555200 },
                                         { 1, 0x555555555300 } };
    ADD(&g, MS_REC_STACK, (ms_stack){ .first_id = 1, .count = 3, .nodes = st });

    ms_event ev1[] = {
        EV(10, MS_OP_MALLOC, C(1), 24, 0, 2, 0),           /* class empty: delta from 0 */
        EV(11, MS_OP_FREE, C(1), 0, 0, 0, 0),              /* index 0 */
        EV(11, MS_OP_MALLOC, C(1), 20, 0, 2, 0),           /* predicted (same class) */
        EV(12, MS_OP_FREE, C(1), 0, 0, 0, 0),
        EV(12, MS_OP_MALLOC, C(2), 200, 0, 3, 0),          /* other class: from previous */
        EV(13, MS_OP_MALLOC, C(1), 30, 0, 3, 0),           /* predicted */
        EV(13, MS_OP_NEW, C(3), 40, 0, 3, 0),
        EV(14, MS_OP_DELETE, C(2), 0, 0, 0, 0),            /* index 2 */
        EV(14, MS_OP_MALLOC, C(4), 199, 0, 2, 0),          /* predicted C(2), got C(4) */
        EV(15, MS_OP_FREE, 0, 0, 0, 0, 0),                 /* free(NULL): an empty entry */
        EV(15, MS_OP_MALLOC, C(5), 1000, 0, 2, 0),
        EV(16, MS_OP_MALLOC, C(6), 5000, 0, 2, 0),         /* same last class as 1000 */
        EV(16, MS_OP_FREE, C(5), 0, 0, 0, 0),              /* class 63 -> C(5) */
        EV(17, MS_OP_MALLOC, C(5), 1ULL << 20, 0, 2, 0),   /* predicted through class 63 */
        EV(17, MS_OP_MALLOC, 0, 1ULL << 45, 0, 2, 0),      /* failed: not listed */
        EV(18, MS_OP_REALLOC, C(7), 64, C(4), 3, 0),       /* listed, old by delta */
        EV(18, MS_OP_POSIX_MEMALIGN, C(8), 100, 0, 3, 64),
        EV(19, MS_OP_CALLOC, C(9), 16, 0, 1, 0),
        EV(19, MS_OP_MALLOC, C(10), 16, 0, 1, 0),
        EV(20, MS_OP_MALLOC, C(11), 16, 0, 1, 0),
        EV(20, MS_OP_MALLOC, C(12), 16, 0, 1, 0),          /* list full: C(1) falls off */
        EV(21, MS_OP_FREE, C(1), 0, 0, 0, 0),              /* escape: 8 + zigzag delta */
        EV(21, MS_OP_FREE, C(12), 0, 0, 0, 0),             /* index 0 */
        EV(22, MS_OP_FREE, C(6), 0, 0, 0, 0),
        EV(22, MS_OP_REALLOC, 0, 0, C(7), 3, 0),           /* realloc(p, 0) */
        EV(21, MS_OP_MALLOC, C(12), 8, 0, 1, 0),           /* time goes back */
    };
    events(&g, 777, ev1, sizeof ev1 / sizeof ev1[0]);
    tally(ev1, sizeof ev1 / sizeof ev1[0], &end);

    ms_event ev2[] = {
        EV(30, MS_OP_FREE, C(3), 0, 0, 0, 0),              /* cross-thread: escape */
        EV(31, MS_OP_MALLOC, 0x7ffff0000011ULL, 7, 0, 2, 0), /* odd: shift 0 */
        EV(32, MS_OP_FREE, 0x7ffff0000011ULL, 0, 0, 0, 0),
        EV(33, MS_OP_MALLOC, 0x7ffff0000011ULL, 9, 0, 2, 0),
    };
    events(&g, 778, ev2, sizeof ev2 / sizeof ev2[0]);
    tally(ev2, sizeof ev2 / sizeof ev2[0], &end);

    ms_event ev3[] = {                                    /* new chunk: model reset */
        EV(40, MS_OP_FREE, C(9), 0, 0, 0, 0),              /* from the earlier chunk: escape */
        EV(41, MS_OP_MALLOC, C(9), 16, 0, 1, 0),           /* class empty again */
        EV(42, MS_OP_FREE, C(10), 0, 0, 0, 0),
        EV(42, MS_OP_FREE, C(9), 0, 0, 0, 0),              /* index 0 */
        EV(43, MS_OP_MALLOC, C(9), 16, 0, 1, 0),           /* predicted */
        EV(44, MS_OP_MALLOC, C(10), 16, 0, 1, 0),          /* class used up: from previous */
    };
    events(&g, 777, ev3, sizeof ev3 / sizeof ev3[0]);
    tally(ev3, sizeof ev3 / sizeof ev3[0], &end);

    ADD(&g, MS_REC_SYNC, (ms_sync){ .time = 50 });
    ADD(&g, MS_REC_THREAD_END, (ms_thread_end){ .tid = 778, .time = 51 });
    end.n_chunks = chunks_so_far(&g);
    add(&g, MS_REC_END, &end, sizeof end);
    gen_finish(&g, expected);
}

/* ----------------------------------------------------------- heap v1.2 -- */

/* Reopen the finished file at g->path for appending (spec 8.7), as a
 * symbolizer does; later add() calls go to the appended chunks. */
static void gen_append(gen *g, size_t chunk_bytes)
{
    int rc = ms_writer_close(g->w);
    if (rc != MS_OK)
        die("%s: close: %s", g->path, ms_strerror(rc));
    int fd = open(g->path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        die("%s: %s", g->path, strerror(errno));
    ms_writer_opts o = { .kind = 0, .level = 3, .chunk_bytes = chunk_bytes };
    rc = ms_writer_open_append(&g->w, fd, 1, &o);
    if (rc != MS_OK)
        die("%s: append: %s", g->path, ms_strerror(rc));
}

/* v1.2: END fields 10-12 (events lost to a full disk) and SYMBOL records
 * appended after the chunk holding END by two symbolizer runs (spec 8.7):
 * the first appends two chunks (small chunk size), the second one more;
 * sequence numbers continue, END.n_chunks stays. The symbols cover an
 * inlined chain of three frames with a file:line each, a name from the ELF
 * symbol table only (file "", line 0), a C++ demangled name, a clone
 * suffix kept as recorded, an ip whose module's file was found but names
 * nothing (function "" with module id and offset), and an ip of a
 * dlclose'd module. One ip already had a SYMBOL record before END (a 1.1
 * recorder wrote it) and gets no second one. */
#define V12_EXE 0x55d0a0000000ULL
#define V12_LIBC 0x7f3c10000000ULL
#define V12_PLUG 0x7f3c20000000ULL
static void make_heap_v12(const char *path, const char *expected)
{
    gen g;
    gen_open(&g, path, MS_KIND_HEAP, 0);
    ms_end end = { .time = 9000, .reason = MS_END_EXIT, .detail = 0, .events_lost = 2,
                   .write_errors = 1, .first_errno = 28 };
    ADD(&g, MS_REC_META, (ms_meta){
        .recorder_version = S("0.3.0"), .mode = MS_MODE_FULL, .pid = 31337, .ppid = 1,
        .exe = S("/usr/bin/symdemo"), .cmdline = S("symdemo\0-v"), .hostname = S("golden-host"),
        .kernel = S("6.1.0-18-amd64"), .page_size = 4096, .clock_hz = 1953125,
        .start_wall_ns = 1800000000000000000ULL, .unwinder = S("libunwind"), .max_depth = 64,
        .label = S("golden v1.2"), .boot_id = S("8d4f0a4e-1b2c-4d5e-9f00-112233445566") });
    static const ms_segment exe_seg[2] = { { 0, 0x1000, 0, 1 }, { 0x1000, 0x3000, 0x1000, 5 } };
    static const ms_segment libc_seg[2] = { { 0, 0x28000, 0, 1 }, { 0x28000, 0x155000, 0x28000, 5 } };
    static const ms_segment plug_seg[1] = { { 0, 0x2000, 0, 5 } };
    ADD(&g, MS_REC_MODULE, (ms_module){ .id = 1, .time = 0, .path = S("/usr/bin/symdemo"),
        .build_id = S("\x12\x34\x56\x78\x9a\xbc\xde\xf0\x01\x23\x45\x67\x89\xab\xcd\xef\x10\x20\x30\x40"),
        .base = V12_EXE, .nsegments = 2, .segments = exe_seg });
    ADD(&g, MS_REC_MODULE, (ms_module){ .id = 2, .time = 0, .path = S("/usr/lib/x86_64-linux-gnu/libc.so.6"),
        .build_id = S("\xaa\xbb\xcc\xdd\xee\xff\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xa0\xb0\xc0\xd0"),
        .base = V12_LIBC, .nsegments = 2, .segments = libc_seg });
    ADD(&g, MS_REC_MODULE, (ms_module){ .id = 3, .time = 5, .path = S("/opt/plugins/libplug.so"),
        .build_id = S("\x01\x02\x03\x04\x05\x06\x07\x08"), .base = V12_PLUG, .nsegments = 1,
        .segments = plug_seg });
    ADD(&g, MS_REC_THREAD, (ms_thread){ .tid = 31337, .time = 0, .name = S("symdemo"), .creator_tid = 0 });
    static const ms_stack_node st[7] = {
        { 0, V12_LIBC + 0x2724a },        /* 1: __libc_start_call_main      */
        { 1, V12_EXE + 0x1185 },          /* 2: main -> parse (inlined)     */
        { 2, V12_EXE + 0x1260 },          /* 3: Parser::grow                */
        { 2, V12_EXE + 0x12f0 },          /* 4: helper.isra.0               */
        { 2, V12_PLUG + 0x1104 },         /* 5: plugin_alloc (dlclose'd)    */
        { 2, V12_LIBC + 0x9a0c0 },        /* 6: strdup (symbol table only)  */
        { 2, V12_EXE + 0x1400 },          /* 7: no name                     */
    };
    ADD(&g, MS_REC_STACK, (ms_stack){ .first_id = 1, .count = 7, .nodes = st });
    /* a SYMBOL before END, as a 1.1 recorder wrote them */
    static const ms_frame f_start[1] = { { S("__libc_start_call_main"),
        S("./csu/../sysdeps/nptl/libc_start_call_main.h"), 58, 16 } };
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = V12_LIBC + 0x2724a, .module_id = 2,
        .module_offset = 0x2724a, .nframes = 1, .frames = f_start });
    ms_event ev[] = {
        EV(100, MS_OP_MALLOC, 0x55d0a1000010ULL, 64, 0, 3, 0),
        EV(110, MS_OP_NEW, 0x55d0a1000060ULL, 24, 0, 4, 0),
        EV(120, MS_OP_MALLOC, 0x55d0a10000a0ULL, 100, 0, 5, 0),
        EV(130, MS_OP_FREE, 0x55d0a1000010ULL, 0, 0, 0, 0),
        EV(140, MS_OP_MALLOC, 0x55d0a1000010ULL, 7, 0, 6, 0),
        EV(150, MS_OP_CALLOC, 0x55d0a1000110ULL, 48, 0, 7, 0),
    };
    events(&g, 31337, ev, sizeof ev / sizeof ev[0]);
    tally(ev, sizeof ev / sizeof ev[0], &end);
    end.n_events += end.events_lost;      /* seen by the recorder, never written */
    ADD(&g, MS_REC_MODULE_UNLOAD, (ms_module_unload){ .id = 3, .time = 160 });
    ADD(&g, MS_REC_SYNC, (ms_sync){ .time = 200 });
    ADD(&g, MS_REC_THREAD_END, (ms_thread_end){ .tid = 31337, .time = 8999 });
    end.n_chunks = chunks_so_far(&g);
    add(&g, MS_REC_END, &end, sizeof end);

    /* first symbolizer run: two small chunks */
    gen_append(&g, 200);
    static const ms_frame f_main[3] = {
        { S("grow_buffer"), S("/src/symdemo/buf.h"), 41, 12 },     /* inlined into   */
        { S("parse"), S("/src/symdemo/parse.c"), 88, 5 },          /* inlined into   */
        { S("main"), S("/src/symdemo/main.c"), 17, 3 } };
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = V12_EXE + 0x1185, .module_id = 1,
        .module_offset = 0x1185, .nframes = 3, .frames = f_main });
    static const ms_frame f_grow[1] = { { S("demo::Parser::grow(unsigned long)"),
        S("/src/symdemo/parser.cc"), 203, 0 } };
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = V12_EXE + 0x1260, .module_id = 1,
        .module_offset = 0x1260, .nframes = 1, .frames = f_grow });
    static const ms_frame f_isra[1] = { { S("helper.isra.0"), S("/src/symdemo/main.c"), 9, 1 } };
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = V12_EXE + 0x12f0, .module_id = 1,
        .module_offset = 0x12f0, .nframes = 1, .frames = f_isra });
    static const ms_frame f_plug[1] = { { S("plugin_alloc"), S("/src/plug/plug.c"), 12, 0 } };
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = V12_PLUG + 0x1104, .module_id = 3,
        .module_offset = 0x1104, .nframes = 1, .frames = f_plug });
    /* second symbolizer run (libc's debug info installed since) */
    gen_append(&g, 0);
    static const ms_frame f_strdup[1] = { { S("strdup"), S(""), 0, 0 } };
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = V12_LIBC + 0x9a0c0, .module_id = 2,
        .module_offset = 0x9a0c0, .nframes = 1, .frames = f_strdup });
    static const ms_frame f_none[1] = { { S(""), S(""), 0, 0 } };
    ADD(&g, MS_REC_SYMBOL, (ms_symbol){ .ip = V12_EXE + 0x1400, .module_id = 1,
        .module_offset = 0x1400, .nframes = 1, .frames = f_none });
    gen_finish(&g, expected);
}

/* ----------------------------------------------------------- heap v1.3 -- */

/* v1.3: a window trace (spec 8.9), as `msrec attach` writes one: META
 * fields 17-18 (allocator, malloc interposed; 1.2) and 19-21: scope 1 with the process start 3600.5 s before the window and session 2;
 * frees and a realloc of addresses allocated before the window (not live
 * in the trace), a block allocated and freed inside it, blocks still live
 * at its end (LIVE_BLOCKS class 0: not classified in a window), END reason
 * 3 (stopped by request) with detail 1 (the requested duration elapsed). */
#define V13_EXE 0x5600a0000000ULL
#define V13_HEAP 0x5600a1000000ULL
static void make_heap_v13(const char *path, const char *expected)
{
    gen g;
    gen_open(&g, path, MS_KIND_HEAP, 0);
    ms_end end = { .time = 2000000, .reason = MS_END_STOPPED, .detail = MS_STOP_DURATION };
    ADD(&g, MS_REC_META, (ms_meta){
        .recorder_version = S("0.4.0"), .mode = MS_MODE_FULL, .pid = 4711, .ppid = 1,
        .exe = S("/usr/sbin/serviced"), .cmdline = S("serviced\0--port=8080"),
        .hostname = S("golden-host"), .kernel = S("6.1.0-18-amd64"), .page_size = 4096,
        .clock_hz = 1000000, .start_wall_ns = 1810003600500000000ULL, .unwinder = S("fp"),
        .max_depth = 64, .label = S("golden v1.3"), .boot_id = S("5b6c7d8e-0000-4111-8222-933344455566"),
        .allocator = S("/lib/x86_64-linux-gnu/libc.so.6"), .malloc_interposed = MS_MALLOC_INTERPOSED,
        .scope = MS_SCOPE_WINDOW, .process_start_ns = 1810000000000000000ULL, .session = 2 });
    static const ms_segment exe_seg[1] = { { 0, 0x4000, 0, 5 } };
    ADD(&g, MS_REC_MODULE, (ms_module){ .id = 1, .time = 0, .path = S("/usr/sbin/serviced"),
        .build_id = S("\x0a\x0b\x0c\x0d"), .base = V13_EXE, .nsegments = 1, .segments = exe_seg });
    ADD(&g, MS_REC_THREAD, (ms_thread){ .tid = 4711, .time = 0, .name = S("serviced"), .creator_tid = 0 });
    ADD(&g, MS_REC_THREAD, (ms_thread){ .tid = 4712, .time = 0, .name = S("worker"), .creator_tid = 0 });
    static const ms_stack_node st[3] = {
        { 0, V13_EXE + 0x1100 },          /* 1: main                        */
        { 1, V13_EXE + 0x1200 },          /* 2: handle_request              */
        { 1, V13_EXE + 0x1300 },          /* 3: grow_cache                  */
    };
    ADD(&g, MS_REC_STACK, (ms_stack){ .first_id = 1, .count = 3, .nodes = st });
    ms_event ev1[] = {
        EV(10, MS_OP_FREE, V13_HEAP + 0x10, 0, 0, 0, 0),          /* allocated before   */
        EV(20, MS_OP_MALLOC, V13_HEAP + 0x10, 48, 0, 2, 0),
        EV(30, MS_OP_REALLOC, V13_HEAP + 0x400, 4096, V13_HEAP + 0x200, 3, 0), /* old: before */
        EV(40, MS_OP_FREE, V13_HEAP + 0x10, 0, 0, 0, 0),
        EV(50, MS_OP_MALLOC, V13_HEAP + 0x10, 64, 0, 2, 0),       /* live at the end    */
    };
    ms_event ev2[] = {
        EV(15, MS_OP_DELETE, V13_HEAP + 0x900, 0, 0, 0, 0),       /* allocated before   */
        EV(25, MS_OP_NEW, V13_HEAP + 0x1000, 32, 0, 2, 0),
        EV(35, MS_OP_DELETE, V13_HEAP + 0x1000, 0, 0, 0, 0),
    };
    events(&g, 4711, ev1, sizeof ev1 / sizeof ev1[0]);
    events(&g, 4712, ev2, sizeof ev2 / sizeof ev2[0]);
    tally(ev1, sizeof ev1 / sizeof ev1[0], &end);
    tally(ev2, sizeof ev2 / sizeof ev2[0], &end);
    ADD(&g, MS_REC_SYNC, (ms_sync){ .time = 60 });
    static const ms_live_block lb[2] = {
        { V13_HEAP + 0x10, 64, MS_LEAK_UNKNOWN }, { V13_HEAP + 0x400, 4096, MS_LEAK_UNKNOWN } };
    ADD(&g, MS_REC_LIVE_BLOCKS, (ms_live_blocks){ .time = 1999999, .count = 2, .blocks = lb });
    ADD(&g, MS_REC_THREAD_END, (ms_thread_end){ .tid = 4712, .time = 1999999 });
    ADD(&g, MS_REC_THREAD_END, (ms_thread_end){ .tid = 4711, .time = 1999999 });
    end.n_chunks = chunks_so_far(&g);
    add(&g, MS_REC_END, &end, sizeof end);
    gen_finish(&g, expected);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
        size_t len;
        unsigned char *buf = msd_slurp(argv[2], &len);
        if (!buf)
            die("%s: %s", argv[2], strerror(errno));
        ms_reader *r;
        int rc = ms_reader_open_mem(&r, buf, len);
        long n = rc;
        if (rc != MS_OK) {
            printf("open failed: %d\n", rc);
        } else {
            n = msd_reader(stdout, r);
            ms_reader_close(r);
            if (n < 0)
                fprintf(stderr, "stopped: %ld\n", n);
        }
        free(buf);
        return n < 0;
    }
    int v12 = argc > 1 && strcmp(argv[1], "--v1.2") == 0;
    const char *dir = argc > 1 + v12 ? argv[1 + v12] : "tests/golden";
    /* the goldens of the current version only (1.3); older versions' files
     * were written by their own writer and stay as they are */
    static const char *names[2][2] = { { "v1.3-heap.memscope", "v1.3-heap.expected" },
                                       { "v1.2-heap.memscope", "v1.2-heap.expected" } };
    char p[2][4096];
    for (int i = 0; i < 2; i++) {
        snprintf(p[i], sizeof p[i], "%s/%s", dir, names[v12][i]);
        if (access(p[i], F_OK) == 0)
            die("%s exists: goldens are never regenerated (tests/golden/README.md)", p[i]);
    }
    if (v12) make_heap_v12(p[0], p[1]);
    else make_heap_v13(p[0], p[1]);
    return 0;
}
