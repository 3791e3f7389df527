/* gen_hostile — writes valid but hostile heap traces (checksums right, every
 * record well-formed) through the public writer API, for the converter
 * bound tests (tests/hostile/test_hostile.sh) and to seed the structure-
 * aware fuzz targets. Each file is cheap to make and was once expensive to
 * read:
 *
 *   chain OUT N [rec]   a stack chain N deep (node k's parent is k-1), one
 *                       malloc per node, so N sites of depth 1..N; "rec":
 *                       every node has the same ip (one recursive function)
 *   live OUT N [nosync] N mallocs never freed (N live blocks at the end);
 *                       a SYNC record after every chunk unless "nosync"
 *   modules OUT N       N MODULE records (N libraries) in 60 MiB chunks
 *   libs OUT N          a snapshot file: one process mapping N libraries
 *   threads OUT N       N threads with one malloc and one free each
 *   stacks OUT N        N unique stacks 16 frames deep (a 10-frame common
 *                       root, then a trie of 8 distinct functions per
 *                       level), one malloc each with sizes spread over
 *                       four orders of magnitude
 *   names OUT           control characters (ESC, BEL, CR, BS, DEL, C1) in
 *                       every string a report shows: exe, thread, mark,
 *                       function, file, module and label names
 *   sparse OUT          stack node ids 1 and 60,000,000 (caller 1), allocations
 *                       at stack 60,000,000 (sparse_leaf) and at an undefined
 *                       id 4,000,000,000: 100 and 200 bytes, leaked
 *   overflow OUT        sizes and times near 2^64 (sums and differences
 *                       that overflow), a 2^63-byte block freed and live
 *   marks OUT N         N marks with distinct names "phase-K" (K = 0..N-1,
 *                       at tick 2K+1), each followed by a 16-byte malloc at
 *                       tick 2K+1 that is never freed (msconv --phase)
 *
 * Truth for the tests is in each mode's comment below. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memscope.h"

#define S(lit) ((ms_str){ (lit), sizeof(lit) - 1 })
static ms_writer *w;
static const char *prog = "gen_hostile";

static void die(const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, ms_strerror(rc));
    if (w) ms_writer_abort(w);
    exit(1);
}

static void add(const ms_record *r)
{
    int rc = ms_writer_add(w, r);
    if (rc) die("add", rc);
}

static void events(uint64_t tid, const ms_event *ev, size_t n)
{
    int rc = ms_writer_events(w, tid, ev, n);
    if (rc) die("events", rc);
}

static void meta(const char *exe)
{
    ms_record r = { .type = MS_REC_META };
    r.u.meta = (ms_meta){ .recorder_version = S("0.1.0"), .mode = MS_MODE_FULL, .pid = 77,
        .exe = { exe, strlen(exe) }, .cmdline = S("hostile"), .hostname = S("h"), .kernel = S("6"),
        .page_size = 4096, .clock_hz = 1000000000, .start_wall_ns = 1790000000000000000ULL,
        .unwinder = S("fp"), .max_depth = 64 };
    add(&r);
}

static void sync_at(uint64_t t)
{
    ms_record r = { .type = MS_REC_SYNC };
    r.u.sync.time = t;
    add(&r);
}

static void end_at(uint64_t t, uint64_t nev, uint64_t nalloc, uint64_t nfree)
{
    ms_record r = { .type = MS_REC_END };
    r.u.end = (ms_end){ .time = t, .reason = MS_END_EXIT, .n_events = nev, .n_allocs = nalloc,
                        .n_frees = nfree };
    add(&r);
}

static void stack_nodes(uint64_t first, const ms_stack_node *nodes, uint32_t n)
{
    ms_record r = { .type = MS_REC_STACK };
    r.u.stack = (ms_stack){ .first_id = first, .count = n, .nodes = nodes };
    add(&r);
}

static void symbol(uint64_t ip, const char *fn, const char *file, uint32_t line)
{
    ms_frame f = { { fn, strlen(fn) }, { file, strlen(file) }, line, 0 };
    ms_record r = { .type = MS_REC_SYMBOL };
    r.u.symbol = (ms_symbol){ .ip = ip, .nframes = 1, .frames = &f };
    add(&r);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) die("calloc", MS_ENOMEM);
    return p;
}

/* Events of one thread in chunks of at most 65536, then SYNC. */
static void flush_events(uint64_t tid, ms_event *ev, size_t n, int sync)
{
    for (size_t i = 0; i < n; i += 65536) {
        size_t k = n - i < 65536 ? n - i : 65536;
        events(tid, ev + i, k);
        if (sync) sync_at(ev[i + k - 1].time + 1);
    }
}

/* chain: N nodes, ip 0x400000 + 16 k (rec: all 0x400000, function "recurse"),
 * functions f<k> (file chain.c, line k); malloc k (time k us, size 16,
 * address 0x10000 * (k + 1)) at stack k; every block freed except the
 * deepest one: N allocations, N - 1 frees, peak 16 * N bytes, leaked 16. */
static void gen_chain(uint64_t n, int rec)
{
    meta("/bin/chain");
    ms_stack_node *nodes = xcalloc(n, sizeof *nodes);
    for (uint64_t k = 0; k < n; k++) nodes[k] = (ms_stack_node){ k, rec ? 0x400000 : 0x400000 + 16 * k };
    for (uint64_t k = 0; k < n; k += 4096) stack_nodes(k + 1, nodes + k, (uint32_t)(n - k < 4096 ? n - k : 4096));
    free(nodes);
    char name[32];
    for (uint64_t k = 0; k < (rec ? 1 : n); k++) {
        snprintf(name, sizeof name, rec ? "recurse" : "f%" PRIu64, k);
        symbol(0x400000 + 16 * k, name, "chain.c", (uint32_t)k + 1);
    }
    ms_event *ev = xcalloc(2 * n, sizeof *ev);
    size_t m = 0;
    for (uint64_t k = 0; k < n; k++)
        ev[m++] = (ms_event){ .time = 1000 * (k + 1), .addr = 0x10000 * (k + 1), .size = 16, .stack = k + 1, .op = MS_OP_MALLOC };
    for (uint64_t k = 0; k + 1 < n; k++)
        ev[m++] = (ms_event){ .time = 1000 * (n + k + 1), .addr = 0x10000 * (k + 1), .op = MS_OP_FREE };
    flush_events(1, ev, m, 1);
    end_at(1000 * (2 * n + 1), m, n, n - 1);
    free(ev);
}

/* live: N mallocs of 32 bytes at 0x100000 + 32 k, time k + 1 ns, stack 1
 * (main, live.c:1). */
static void gen_live(uint64_t n, int sync)
{
    meta("/bin/live");
    ms_stack_node node = { 0, 0x401000 };
    stack_nodes(1, &node, 1);
    symbol(0x401000, "main", "live.c", 1);
    ms_event *ev = xcalloc(65536, sizeof *ev);
    for (uint64_t k = 0; k < n;) {
        size_t c = 0;
        for (; c < 65536 && k < n; c++, k++)
            ev[c] = (ms_event){ .time = k + 1, .addr = 0x100000 + 32 * k, .size = 32, .stack = 1, .op = MS_OP_MALLOC };
        events(1, ev, c);
        if (sync) sync_at(k + 1);
    }
    free(ev);
    end_at(n + 1, n, n, 0);
}

/* marks: see the file comment; a SYNC after every 65,536 marks. */
static void gen_marks(uint64_t n)
{
    meta("/bin/marks");
    ms_event *ev = xcalloc(65536, sizeof *ev);
    for (uint64_t k = 0; k < n;) {
        size_t c = 0;
        for (; c < 65536 && k < n; c++, k++) {
            char name[32];
            snprintf(name, sizeof name, "phase-%" PRIu64, k);
            ms_record r = { .type = MS_REC_MARK };
            r.u.mark = (ms_mark_rec){ .time = 2 * k + 1, .tid = 1, .name = { name, strlen(name) } };
            add(&r);
            ev[c] = (ms_event){ .time = 2 * k + 1, .addr = 0x100000 + 16 * k, .size = 16, .op = MS_OP_MALLOC };
        }
        events(1, ev, c);
        sync_at(2 * k + 1);
    }
    free(ev);
    end_at(2 * n + 1, n, n, 0);
}

/* modules: N identical MODULE records (id 1, no path, no segment), packed
 * into RECORDS chunks of up to 60 MiB raw, so they compress to almost
 * nothing. */
static void gen_modules(uint64_t n)
{
    meta("/bin/modules");
    for (uint64_t k = 0; k < n; k++) {
        ms_record r = { .type = MS_REC_MODULE };
        r.u.module = (ms_module){ .id = 1 };
        add(&r);
    }
    end_at(1, 0, 0, 0);
}

/* libs: a snapshot file with one process (pid 1, "init") mapping N
 * libraries, unnamed, 1 byte each (5 bytes per library). */
static void gen_libs(uint64_t n)
{
    ms_record r = { .type = MS_REC_SNAP_BEGIN };
    r.u.snap_begin = (ms_snap_begin){ .index = 0, .wall_ns = 1790000000000000000ULL, .hostname = S("h"),
                                      .page_size = 4096 };
    add(&r);
    ms_snap_lib *libs = xcalloc(n, sizeof *libs);
    for (uint64_t k = 0; k < n; k++) libs[k] = (ms_snap_lib){ S(""), 1, 1, 1, 1 };
    r = (ms_record){ .type = MS_REC_SNAP_PROC };
    r.u.snap_proc = (ms_snap_proc){ .snap_index = 0, .pid = 1, .name = S("init"), .kind = MS_PROC_USER,
                                    .rss = 4096, .pss = 4096, .nlibs = (uint32_t)n, .libs = libs };
    add(&r);
    free(libs);
    r = (ms_record){ .type = MS_REC_SNAP_END };
    r.u.snap_end = (ms_snap_end){ .index = 0, .wall_ns = 1790000000000000001ULL, .n_procs = 1 };
    add(&r);
    r = (ms_record){ .type = MS_REC_END };
    r.u.end = (ms_end){ .time = 1790000000000000001ULL, .reason = MS_END_SNAPSHOT };
    add(&r);
}

/* threads: thread k (tid k + 1000, named t<k>) mallocs 64 bytes at
 * 0x100000 + 64 k (time 2k + 1) and frees it (time 2k + 2). */
static void gen_threads(uint64_t n)
{
    meta("/bin/threads");
    ms_stack_node node = { 0, 0x402000 };
    stack_nodes(1, &node, 1);
    symbol(0x402000, "worker", "threads.c", 1);
    char name[32];
    for (uint64_t k = 0; k < n; k++) {
        snprintf(name, sizeof name, "t%" PRIu64, k);
        ms_record r = { .type = MS_REC_THREAD };
        r.u.thread = (ms_thread){ .tid = k + 1000, .time = 2 * k, .name = { name, strlen(name) } };
        add(&r);
        ms_event ev[2] = {
            { .time = 2 * k + 1, .addr = 0x100000 + 64 * k, .size = 64, .stack = 1, .op = MS_OP_MALLOC },
            { .time = 2 * k + 2, .addr = 0x100000 + 64 * k, .op = MS_OP_FREE } };
        events(k + 1000, ev, 2);
    }
    sync_at(2 * n + 1);
    end_at(2 * n + 1, 2 * n, n, n);
}

/* stacks: stack j (1 <= j <= N) is main;r1;...;r9 then six levels L<l>_<d>
 * with d the l-th octal digit of j - 1 (so every stack is unique and 16
 * frames deep); its malloc has size 16 << (j % 13) bytes, never freed. */
static void gen_stacks(uint64_t n)
{
    meta("/bin/stacks");
    /* ids: 1..10 the common root, then a trie: level l (0..5) node of
     * prefix p gets an id in creation order */
    enum { ROOT = 10, LEVELS = 6 };
    ms_stack_node root[ROOT];
    for (uint64_t k = 0; k < ROOT; k++) root[k] = (ms_stack_node){ k, 0x500000 + 16 * k };
    stack_nodes(1, root, ROOT);
    symbol(0x500000, "main", "stacks.c", 1);
    char name[32];
    for (int k = 1; k < ROOT; k++) {
        snprintf(name, sizeof name, "r%d", k);
        symbol(0x500000 + 16 * (uint64_t)k, name, "stacks.c", (uint32_t)k + 1);
    }
    for (int l = 0; l < LEVELS; l++)
        for (int d = 0; d < 8; d++) {
            snprintf(name, sizeof name, "L%d_%d", l, d);
            symbol(0x600000 + 0x100 * (uint64_t)l + 16 * (uint64_t)d, name, "stacks.c", (uint32_t)(100 + 10 * l + d));
        }
    /* node id of prefix (level, value) = base[level] + value */
    uint64_t base[LEVELS], next = ROOT + 1, span = 1;
    for (int l = 0; l < LEVELS; l++) { span *= 8; base[l] = next; next += span; }
    ms_stack_node *buf = xcalloc(4096, sizeof *buf);
    span = 1;
    for (int l = 0; l < LEVELS; l++) {
        span *= 8;
        uint64_t lim = span, used = (n + (1ull << (3 * (LEVELS - 1 - l))) - 1) >> (3 * (LEVELS - 1 - l));
        if (used < lim) lim = used;                      /* prefixes in use at this level */
        for (uint64_t v = 0; v < lim;) {
            uint32_t c = 0;
            uint64_t first = base[l] + v;
            for (; c < 4096 && v < lim; c++, v++)
                buf[c] = (ms_stack_node){ l ? base[l - 1] + v / 8 : ROOT,
                                          0x600000 + 0x100 * (uint64_t)l + 16 * (v % 8) };
            stack_nodes(first, buf, c);
        }
    }
    free(buf);
    ms_event *ev = xcalloc(65536, sizeof *ev);
    for (uint64_t j = 1; j <= n;) {
        size_t c = 0;
        for (; c < 65536 && j <= n; c++, j++)
            ev[c] = (ms_event){ .time = j, .addr = 0x1000000 + 0x10000 * j, .size = 16ull << (j % 13),
                                .stack = base[LEVELS - 1] + (j - 1), .op = MS_OP_MALLOC };
        events(1, ev, c);
        sync_at(j);
    }
    free(ev);
    end_at(n + 1, n, n, 0);
}

/* names: every shown string carries ESC [ 3 1 m, BEL, CR, BS, DEL and the
 * C1 control U+009B; function "evil\x1b]0;pwned\x07" at evil.c allocates
 * 100 bytes (leaked), thread 5 "thr\x1b[2J", mark "mark\r\x1b[K", label
 * var "v\x1b[5m" type "t\x08". */
#define EVIL "\x1b[31m\x07\r\x08\x7f\xc2\x9b"
static void gen_names(void)
{
    meta("/bin/" EVIL "exe");
    ms_record r = { .type = MS_REC_THREAD };
    r.u.thread = (ms_thread){ .tid = 5, .time = 0, .name = S("thr\x1b[2J" EVIL) };
    add(&r);
    ms_segment seg = { 0, 0x10000, 0, 5 };
    r = (ms_record){ .type = MS_REC_MODULE };
    r.u.module = (ms_module){ .id = 1, .time = 0, .path = S("/lib/" EVIL "lib.so"), .base = 0x700000,
                              .nsegments = 1, .segments = &seg };
    add(&r);
    ms_stack_node nodes[3] = { { 0, 0x700010 }, { 1, 0x700020 }, { 2, 0x700030 } };
    stack_nodes(1, nodes, 3);
    symbol(0x700010, "main" EVIL, "m" EVIL ".c", 1);
    symbol(0x700020, "evil\x1b]0;pwned\x07" EVIL, "evil" EVIL ".c", 2);   /* 0x700030: unnamed */
    r = (ms_record){ .type = MS_REC_MARK };
    r.u.mark = (ms_mark_rec){ .time = 1, .tid = 5, .name = S("mark\r\x1b[K" EVIL) };
    add(&r);
    ms_event ev[2] = {
        { .time = 10, .addr = 0x100000, .size = 100, .stack = 2, .op = MS_OP_MALLOC },
        { .time = 20, .addr = 0x200000, .size = 50, .stack = 3, .op = MS_OP_MALLOC } };
    events(5, ev, 2);
    r = (ms_record){ .type = MS_REC_LABEL };
    r.u.label = (ms_label_rec){ .time = 11, .tid = 5, .addr = 0x100000, .var_name = S("v\x1b[5m" EVIL),
                                .type_name = S("t\x08" EVIL) };
    add(&r);
    sync_at(30);
    end_at(30, 2, 2, 0);
}

static void gen_sparse(void)
{
    meta("/bin/sparse");
    ms_stack_node a = { 0, 0x401000 }, b = { 1, 0x402000 };
    stack_nodes(1, &a, 1);
    stack_nodes(60000000, &b, 1);
    symbol(0x401000, "main", "sparse.c", 1);
    symbol(0x402000, "sparse_leaf", "sparse.c", 2);
    ms_event ev[2] = {
        { .time = 1, .addr = 0x1000, .size = 100, .stack = 60000000, .op = MS_OP_MALLOC },
        { .time = 2, .addr = 0x2000, .size = 200, .stack = 4000000000u, .op = MS_OP_MALLOC } };
    events(1, ev, 2);
    sync_at(3);
    end_at(3, 2, 2, 0);
}

/* overflow: sizes near 2^64 (a 2^63-byte block freed, one of 2^63 + 5
 * live, a 2^64 - 1 one freed by realloc to 0), times near 2^64 and going
 * back, a realloc of an unknown block, a label with size-sized index. */
static void gen_overflow(void)
{
    meta("/bin/overflow");
    ms_stack_node node = { 0, 0x401000 };
    stack_nodes(1, &node, 1);
    symbol(0x401000, "big", "overflow.c", 1);
    const uint64_t H = 1ull << 63, T = UINT64_MAX - 1000;
    ms_event ev[8] = {
        { .time = 5, .addr = 0x1000, .size = H, .stack = 1, .op = MS_OP_MALLOC },
        { .time = T, .addr = 0x1000, .op = MS_OP_FREE },
        { .time = 7, .addr = 0x2000, .size = H + 5, .stack = 1, .op = MS_OP_MALLOC },
        { .time = 8, .addr = 0x3000, .size = UINT64_MAX, .stack = 1, .op = MS_OP_CALLOC },
        { .time = UINT64_MAX, .addr = 0, .old_addr = 0x3000, .size = 0, .stack = 1, .op = MS_OP_REALLOC },
        { .time = 3, .addr = 0x4000, .size = UINT64_MAX - 3, .stack = UINT64_MAX, .align = UINT32_MAX, .op = MS_OP_MEMALIGN },
        { .time = T + 1, .addr = 0x5000, .old_addr = 0x9000, .size = H, .stack = 0, .op = MS_OP_REALLOC },
        { .time = 9, .addr = 0x4000, .op = MS_OP_FREE } };
    events(9, ev, 8);
    ms_record r = { .type = MS_REC_SAMPLE };
    r.u.sample = (ms_sample){ .time = UINT64_MAX, .rss = UINT64_MAX, .heap_live = UINT64_MAX };
    add(&r);
    sync_at(UINT64_MAX);
    end_at(UINT64_MAX, 8, 6, 2);
}

static uint64_t num(const char *s)
{
    char *e;
    unsigned long long v = strtoull(s, &e, 10);
    if (!*s || *e) { fprintf(stderr, "%s: not a number: %s\n", prog, s); exit(2); }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gen_hostile chain|live|modules|libs|threads|stacks|names|sparse|overflow|marks OUT [N] [rec|nosync]\n");
        return 2;
    }
    const char *mode = argv[1];
    ms_writer_opts o = { .kind = strcmp(mode, "libs") ? MS_KIND_HEAP : MS_KIND_SNAPSHOT,
                         .chunk_bytes = 60u << 20 };
    int rc = ms_writer_open(&w, argv[2], &o);
    if (rc) { fprintf(stderr, "%s: %s: %s\n", prog, argv[2], ms_strerror(rc)); return 1; }
    uint64_t n = argc > 3 ? num(argv[3]) : 0;
    const char *flag = argc > 4 ? argv[4] : "";
    if (!strcmp(mode, "chain") && n) gen_chain(n, !strcmp(flag, "rec"));
    else if (!strcmp(mode, "live") && n) gen_live(n, strcmp(flag, "nosync") != 0);
    else if (!strcmp(mode, "modules") && n) gen_modules(n);
    else if (!strcmp(mode, "libs") && n) gen_libs(n);
    else if (!strcmp(mode, "threads") && n) gen_threads(n);
    else if (!strcmp(mode, "stacks") && n) gen_stacks(n);
    else if (!strcmp(mode, "names")) gen_names();
    else if (!strcmp(mode, "overflow")) gen_overflow();
    else if (!strcmp(mode, "sparse")) gen_sparse();
    else if (!strcmp(mode, "marks") && n) gen_marks(n);
    else { ms_writer_abort(w); fprintf(stderr, "%s: bad mode or count\n", prog); return 2; }
    rc = ms_writer_close(w);
    w = NULL;
    if (rc) die("close", rc);
    return 0;
}
