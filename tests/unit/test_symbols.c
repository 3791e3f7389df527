/* Unit tests of how frames are named in the heap reports (analyze/symtab.c
 * labels, analyze/calltree_heap.c, convert/common renderers), on a trace
 * written here: two unnamed ips in one module (one with an empty SYMBOL
 * frame, one with a SYMBOL record without frames), an ip with no SYMBOL
 * record inside a MODULE segment, an ip outside every module, the clones
 * foo.lto_priv.0 and foo.isra.0, and an inline chain of three frames.
 * Asserts the exact rows of the pprof text, the folded stacks, the DOT
 * graph, the --leaks stack lines and the diff keys: unnamed frames are
 * module+offset (never one merged "??"), clone suffixes fold into one
 * function, inlined frames are frames of their own with their own lines,
 * and a function row names the line contributing most. */
#include <stdlib.h>
#include <unistd.h>
#include "memscope.h"
#include "calltree_heap.h"
#include "heapdiff.h"
#include "symtab.h"
#include "pprof_text.h"
#include "flame.h"
#include "dot.h"
#include "mstest.h"

#define S(lit) ((ms_str){ (lit), sizeof(lit) - 1 })
static ms_writer *w;
static void add(uint32_t type, const void *body, size_t size)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = type;
    memcpy(&r.u, body, size);
    if (ms_writer_add(w, &r) != 0) { printf("FAIL: writer add\n"); exit(1); }
}
#define ADD(type, ...) do { __typeof__(__VA_ARGS__) b_ = __VA_ARGS__; add(type, &b_, sizeof b_); } while (0)

#define LIBX 0x7f0000000000ull             /* libx.so.1 load bias           */
#define APP 0x555500000000ull              /* the executable's load bias    */
#define IP_MAIN (APP + 0x1000)
#define IP_A (LIBX + 0x1234)               /* SYMBOL with an empty frame    */
#define IP_B (LIBX + 0x5678)               /* SYMBOL without frames         */
#define IP_C (LIBX + 0x2abc)               /* no SYMBOL: found by segment   */
#define IP_OUT 0x1234567ull                /* in no module                  */
#define IP_LTO (APP + 0x2000)
#define IP_ISRA (APP + 0x3000)
#define IP_INL (APP + 0x4000)

static void capture(char **buf, size_t *len, FILE **fp)
{
    *fp = open_memstream(buf, len);
    if (!*fp) { printf("FAIL: open_memstream\n"); exit(1); }
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == 0)) return 1;
    return 0;
}

/* The pprof row of the function ending with "  name": flat and cum text. */
static int row(const char *text, const char *name, const char *flat, const char *cum)
{
    char want[256];
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p), nl = strlen(name);
        if (l < nl + 2 || strncmp(p + l - nl - 2, "  ", 2) || strncmp(p + l - nl, name, nl)) continue;
        char fl[32], c1[32], c2[32], cu[32];
        if (sscanf(p, "%31s %31s %31s %31s", fl, c1, c2, cu) != 4) return 0;
        snprintf(want, sizeof want, "%s/%s", flat, cum);
        char got[80];
        snprintf(got, sizeof got, "%s/%s", fl, cu);
        if (strcmp(want, got)) printf("  row %s: expected %s, got %s\n", name, want, got);
        return strcmp(want, got) == 0;
    }
    printf("  row %s: missing\n", name);
    return 0;
}

static void fold_cases(void)
{
    static const struct { const char *in, *out; } c[] = {
        { "foo.lto_priv.0", "foo" }, { "foo.isra.0", "foo" }, { "foo.constprop.12", "foo" },
        { "foo.part.3", "foo" }, { "foo.cold", "foo" }, { "foo.cold.7", "foo" },
        { "foo.isra.0.constprop.1", "foo" }, { "foo.part.0.cold", "foo" }, { "foo.llvm.1234567", "foo" },
        { "ns::f(int) [clone .isra.0]", "ns::f(int)" }, { "f() [clone .constprop.0] [clone .cold]", "f()" },
        { "foo.0", "foo.0" }, { "foo", "foo" }, { ".cold", ".cold" }, { "cold", "cold" },
        { "x.coldish", "x.coldish" }, { "f[abi:cxx11]()", "f[abi:cxx11]()" }, { "g() [abi:x]", "g() [abi:x]" },
        { "", "" },
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char name[96], got[96];
        size_t l = ms_symtab_fold_name(c[i].in, strlen(c[i].in));
        snprintf(got, sizeof got, "%.*s", (int)l, c[i].in);
        snprintf(name, sizeof name, "fold '%s'", c[i].in);
        CHECK_STR(name, c[i].out, got);
    }
}

int main(void)
{
    fold_cases();

    char path[] = "/tmp/mssymXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { printf("FAIL: mkstemp\n"); return 1; }
    ms_writer_opts o = { .kind = MS_KIND_HEAP };
    if (ms_writer_fdopen(&w, fd, 1, &o) != 0) { printf("FAIL: writer\n"); return 1; }
    ADD(MS_REC_META, (ms_meta){ .recorder_version = S("t"), .pid = 1, .exe = S("/usr/bin/app"), .clock_hz = 1000000000,
        .page_size = 4096, .unwinder = S("fp") });
    ADD(MS_REC_THREAD, (ms_thread){ .tid = 1, .name = S("main") });
    static const ms_segment app_seg[1] = { { 0, 0x20000, 0, 5 } };
    static const ms_segment libx_seg[2] = { { 0, 0x1000, 0, 1 }, { 0x1000, 0x10000, 0x1000, 5 } };
    ADD(MS_REC_MODULE, (ms_module){ .id = 1, .path = S("/usr/bin/app"), .base = APP, .nsegments = 1, .segments = app_seg });
    ADD(MS_REC_MODULE, (ms_module){ .id = 2, .path = S("/usr/lib/libx.so.1"), .base = LIBX, .nsegments = 2,
        .segments = libx_seg });
    static const ms_stack_node nodes[8] = {
        { 0, IP_MAIN }, { 1, IP_A }, { 1, IP_B }, { 1, IP_C }, { 1, IP_OUT }, { 1, IP_LTO }, { 1, IP_ISRA }, { 1, IP_INL },
    };
    ADD(MS_REC_STACK, (ms_stack){ .first_id = 1, .count = 8, .nodes = nodes });
    static const ms_frame fmain[1] = { { S("main"), S("m.c"), 10, 0 } };
    static const ms_frame fnone[1] = { { S(""), S(""), 0, 0 } };
    static const ms_frame flto[1] = { { S("foo.lto_priv.0"), S("f.c"), 20, 0 } };
    static const ms_frame fisra[1] = { { S("foo.isra.0"), S("f.c"), 30, 0 } };
    /* innermost first: inner inlined into middle inlined into outer */
    static const ms_frame finl[3] = { { S("inner"), S("i.h"), 5, 0 }, { S("middle"), S("m.h"), 6, 0 },
                                      { S("outer"), S("o.c"), 7, 0 } };
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = IP_MAIN, .module_id = 1, .module_offset = 0x1000, .nframes = 1, .frames = fmain });
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = IP_A, .module_id = 2, .module_offset = 0x1234, .nframes = 1, .frames = fnone });
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = IP_B, .module_id = 2, .module_offset = 0x5678 });
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = IP_LTO, .module_id = 1, .module_offset = 0x2000, .nframes = 1, .frames = flto });
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = IP_ISRA, .module_id = 1, .module_offset = 0x3000, .nframes = 1, .frames = fisra });
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = IP_INL, .module_id = 1, .module_offset = 0x4000, .nframes = 3, .frames = finl });
    ms_event ev[] = {
        { .time = 1, .addr = 0x1000, .size = 100, .stack = 2, .op = MS_OP_MALLOC },
        { .time = 2, .addr = 0x2000, .size = 200, .stack = 3, .op = MS_OP_MALLOC },
        { .time = 3, .addr = 0x3000, .size = 300, .stack = 4, .op = MS_OP_MALLOC },
        { .time = 4, .addr = 0x4000, .size = 400, .stack = 5, .op = MS_OP_MALLOC },
        { .time = 5, .addr = 0x5000, .size = 1000, .stack = 6, .op = MS_OP_MALLOC },
        { .time = 6, .addr = 0x6000, .size = 2000, .stack = 7, .op = MS_OP_MALLOC },
        { .time = 7, .addr = 0x7000, .size = 50, .stack = 8, .op = MS_OP_MALLOC },
    };
    size_t nev = sizeof ev / sizeof ev[0];
    if (ms_writer_events(w, 1, ev, nev) != 0) { printf("FAIL: events\n"); return 1; }
    ADD(MS_REC_END, (ms_end){ .time = 10, .n_events = nev, .n_allocs = nev });
    if (ms_writer_close(w) != 0) { printf("FAIL: close\n"); return 1; }

    ms_hview *v;
    int rc = ms_hview_load(&v, path);
    CHECK("load", rc == 0);
    if (rc) return 1;
    const ms_symtab *sym = ms_heap_symtab(v->heap);
    char name[256];

    /* labels straight from the symbol table */
    ms_symtab_frame_label(name, sizeof name, sym, IP_A, 0);
    CHECK_STR("unnamed SYMBOL frame: module+offset", "libx.so.1+0x1234", name);
    ms_symtab_frame_label(name, sizeof name, sym, IP_B, 0);
    CHECK_STR("SYMBOL without frames: module+offset", "libx.so.1+0x5678", name);
    ms_symtab_frame_label(name, sizeof name, sym, IP_C, 0);
    CHECK_STR("no SYMBOL: module found by segment", "libx.so.1+0x2abc", name);
    ms_symtab_frame_label(name, sizeof name, sym, IP_OUT, 0);
    CHECK_STR("outside every module: address", "0x1234567", name);
    ms_symtab_frame_name(name, sizeof name, sym, IP_LTO, 0);
    CHECK_STR("lto_priv folded", "foo (f.c:20)", name);
    CHECK_STR("raw symbol kept", "foo.lto_priv.0", ms_symtab_frame_at(sym, IP_LTO, 0)->symbol);
    CHECK_EQ_U64("inline chain frames", 3, ms_symtab_frame_count(sym, IP_INL));
    ms_symtab_frame_name(name, sizeof name, sym, IP_INL, 1);
    CHECK_STR("inlined frame keeps its own line", "middle (m.h:6)", name);

    /* pprof text: one row per unnamed ip, one foo, inlined frames as rows */
    char *buf = NULL;
    size_t len = 0;
    FILE *fp;
    capture(&buf, &len, &fp);
    ms_pprof_opts po = { .metric = MS_CT_ALLOCATED, .lang_en = 1, .unit = MS_PPROF_UNIT_B };
    CHECK("pprof text", ms_pprof_text(fp, v->tree, &po) == 0);
    fclose(fp);
    CHECK("no ?? row", !strstr(buf, "??"));
    CHECK("row libx.so.1+0x1234", row(buf, "libx.so.1+0x1234", "100B", "100B"));
    CHECK("row libx.so.1+0x5678", row(buf, "libx.so.1+0x5678", "200B", "200B"));
    CHECK("row libx.so.1+0x2abc", row(buf, "libx.so.1+0x2abc", "300B", "300B"));
    CHECK("row 0x1234567", row(buf, "0x1234567", "400B", "400B"));
    /* foo: 1000 B from line 20 (lto_priv clone), 2000 B from line 30
     * (isra): its row names no line (issue 12: never one line of several) */
    CHECK("row foo, two lines: no line claimed", row(buf, "foo (f.c)", "3000B", "3000B"));
    CHECK("row inner (leaf of the chain)", row(buf, "inner (i.h:5)", "50B", "50B"));
    CHECK("row middle (inlined caller)", row(buf, "middle (m.h:6)", "0", "50B"));
    CHECK("row outer", row(buf, "outer (o.c:7)", "0", "50B"));
    CHECK("row main", row(buf, "main (m.c:10)", "0", "4050B"));
    CHECK("no clone suffix shown", !strstr(buf, "lto_priv") && !strstr(buf, "isra"));
    free(buf);

    /* count metric: the line with the most allocations may differ; a tie
     * (1 each) names the smaller line */
    uint32_t foo_id = UINT32_MAX;
    for (uint32_t i = 0; i < ms_calltree_func_count(v->tree); i++)
        if (!strcmp(ms_calltree_func(v->tree, i)->name, "foo")) foo_id = i;
    CHECK("one foo function", foo_id != UINT32_MAX);
    CHECK_EQ_U64("foo line by bytes", 30, ms_calltree_func_line(v->tree, foo_id, MS_CT_ALLOCATED));
    CHECK_EQ_U64("foo line by count (tie: smaller)", 20, ms_calltree_func_line(v->tree, foo_id, MS_CT_COUNT));
    ms_calltree *inv;
    CHECK("invert", ms_calltree_invert(&inv, v->tree) == 0);
    CHECK_EQ_U64("inverted tree keeps line weights", 30, ms_calltree_func_line(inv, foo_id, MS_CT_ALLOCATED));
    ms_calltree_free(inv);

    /* folded stacks, root first, children by name */
    capture(&buf, &len, &fp);
    CHECK("folded", ms_folded_write(fp, v->tree, MS_CT_ALLOCATED) == 0);
    fclose(fp);
    CHECK("folded address", has_line(buf, "main;0x1234567 400"));
    CHECK("folded foo merged", has_line(buf, "main;foo 3000"));
    CHECK("folded unnamed 1", has_line(buf, "main;libx.so.1+0x1234 100"));
    CHECK("folded unnamed by segment", has_line(buf, "main;libx.so.1+0x2abc 300"));
    CHECK("folded unnamed 2", has_line(buf, "main;libx.so.1+0x5678 200"));
    CHECK("folded inline chain", has_line(buf, "main;outer;middle;inner 50"));
    CHECK("folded: nothing else", !strstr(buf, "??"));
    free(buf);

    /* DOT graph: every unnamed ip a node of its own; foo's bytes come from
     * two lines, so its tooltip names its file without a line */
    capture(&buf, &len, &fp);
    ms_dot_opts dopt = { .metric = MS_CT_ALLOCATED, .lang_en = 1, .node_frac = 1e-9, .edge_frac = 1e-9 };
    ms_dot_stats dst;
    CHECK("dot", ms_dot_write(fp, v->tree, &dopt, &dst) == 0);
    fclose(fp);
    CHECK("dot unnamed 1", strstr(buf, "label=\"libx.so.1+0x1234\\n") != NULL);
    CHECK("dot unnamed 2", strstr(buf, "label=\"libx.so.1+0x5678\\n") != NULL);
    CHECK("dot foo: file, no line", strstr(buf, "foo (f.c)") != NULL && !strstr(buf, "foo (f.c:"));
    CHECK("dot no ??", !strstr(buf, "??"));
    free(buf);

    /* --leaks stack lines: the names hv_print_stack prints per frame */
    long site = ms_heap_site_find(v->heap, 8);
    CHECK("inline site", site >= 0);
    if (site >= 0) {
        uint64_t ips[8];
        size_t depth = ms_symtab_stack(ips, 8, sym, ms_heap_site_at(v->heap, (size_t)site)->stack_id);
        static const char *const want[] = { "inner (i.h:5)", "middle (m.h:6)", "outer (o.c:7)", "main (m.c:10)" };
        size_t no = 0, ok = depth == 2;
        for (size_t i = 0; i < depth && ok; i++)
            for (size_t k = 0; k < ms_symtab_frame_count(sym, ips[i]) && ok; k++, no++) {
                ms_symtab_frame_name(name, sizeof name, sym, ips[i], k);
                ok = no < 4 && !strcmp(name, want[no]);
            }
        CHECK("leak stack frames innermost first, own lines", ok && no == 4);
    }

    /* diff keys: unnamed ips stay apart, seven sites match themselves */
    ms_heapdiff d;
    CHECK("heapdiff", ms_heapdiff_build(v->heap, v->heap, &d) == 0);
    CHECK_EQ_U64("diff keys", 7, d.nentries);
    CHECK_EQ_U64("diff unchanged", 7, d.n_unchanged);
    int unnamed = 0;
    for (size_t i = 0; i < d.nentries; i++) {
        if (d.entries[i].stack == MS_HD_NONE) continue;
        const ms_hd_frame *f0 = &d.frames[d.nodes[d.entries[i].stack].frame];
        if (!f0->symbolized && f0->module[0]) unnamed++;
    }
    CHECK_EQ_U64("diff unnamed keys by module+offset", 3, unnamed);
    ms_heapdiff_free(&d);

    ms_hview_free(v);
    unlink(path);
    return ms_test_failures != 0;
}
