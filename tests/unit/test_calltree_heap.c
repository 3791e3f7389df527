/* Unit tests of the heap view model (analyze/calltree_heap.c) on a trace
 * written here with known numbers: the call tree's totals from the sites,
 * the live-heap timeline and per-site moments, size and lifetime
 * histograms, the largest blocks, labels per site, RSS samples, marks,
 * maps and process memory at exit; and on a random trace of 300 sites,
 * the moments read from the time bins' cells (ms_hview_load_bins) equal
 * the per-site rows. */
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "memscope.h"
#include "calltree_heap.h"
#include "timebins.h"
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

/* Moments of path through per-site rows and through time-bin cells:
 * the same counts, sites and bytes. */
static void same_moments(const char *what, const char *path, size_t topn)
{
    ms_hview *v = NULL, *vb = NULL;
    ms_tbins tb;
    ms_tb_init(&tb);
    int ok = ms_hview_load(&v, path) == 0 && ms_hview_load_bins(&vb, path, &tb) == 0 && !tb.oom;
    char name[200];
    snprintf(name, sizeof name, "%s: both load", what);
    CHECK(name, ok);
    if (!ok) { ms_hview_free(v); ms_hview_free(vb); ms_tb_free(&tb); return; }
    ms_tb_finish(&tb, ms_heap_get_summary(vb->heap)->end_time);
    ms_tb_sort(&tb.sites);
    uint32_t *s1 = calloc(MS_HV_MOMENTS * topn, sizeof *s1), *s2 = calloc(MS_HV_MOMENTS * topn, sizeof *s2);
    uint64_t *b1 = calloc(MS_HV_MOMENTS * topn, sizeof *b1), *b2 = calloc(MS_HV_MOMENTS * topn, sizeof *b2);
    size_t c1[MS_HV_MOMENTS], c2[MS_HV_MOMENTS];
    size_t n1 = ms_hview_moments(v, topn, s1, b1, c1), n2 = ms_hview_moments(vb, topn, s2, b2, c2);
    int same = n1 == n2 && n1 > 1 && v->moment_ticks == vb->moment_ticks && !vb->site_moments, nonempty = 0;
    for (size_t k = 0; same && k < n1; k++) {
        same = c1[k] == c2[k];
        nonempty += c1[k] == topn;
        for (size_t i = 0; same && i < c1[k]; i++)
            same = s1[k * topn + i] == s2[k * topn + i] && b1[k * topn + i] == b2[k * topn + i];
    }
    snprintf(name, sizeof name, "%s: moments from the bins equal the rows (%zu moments, %d full)", what, n1, nonempty);
    CHECK(name, same && nonempty > 0);
    free(s1); free(s2); free(b1); free(b2);
    ms_hview_free(v); ms_hview_free(vb); ms_tb_free(&tb);
}

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13; *x ^= *x >> 7; *x ^= *x << 17;
    return *x;
}

/* 300 sites, 40 000 allocations at random times over ~3 s, 5 in 8
 * followed by the free of a random live block (the live set grows to
 * ~15 000), through several writer chunks. */
static void random_trace(const char *path)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    ms_writer_opts o = { .kind = MS_KIND_HEAP };
    if (fd < 0 || ms_writer_fdopen(&w, fd, 1, &o) != 0) { printf("FAIL: writer\n"); exit(1); }
    ADD(MS_REC_META, (ms_meta){ .recorder_version = S("t"), .pid = 2, .exe = S("/bin/r"), .clock_hz = 1000000000,
        .page_size = 4096, .unwinder = S("fp") });
    ADD(MS_REC_THREAD, (ms_thread){ .tid = 1, .name = S("main") });
    enum { NS = 300, NA = 40000 };
    static ms_stack_node nodes[NS];
    for (int i = 0; i < NS; i++) nodes[i] = (ms_stack_node){ 0, 0x1000 + 16 * (uint64_t)i };
    ADD(MS_REC_STACK, (ms_stack){ .first_id = 1, .count = NS, .nodes = nodes });
    static ms_event ev[2 * NA];
    static uint64_t live[NA];
    size_t ne = 0, nlive = 0;
    uint64_t x = 88172645463325252ull, t = 1000;
    for (int i = 0; i < NA; i++) {
        t += rnd(&x) % 150000;
        uint64_t addr = 0x100000 + 64 * (uint64_t)i;
        ev[ne++] = (ms_event){ .time = t, .addr = addr, .size = 1 + rnd(&x) % 5000, .stack = 1 + rnd(&x) % NS,
                               .op = MS_OP_MALLOC };
        live[nlive++] = addr;
        if (nlive && rnd(&x) % 8 < 5) {                /* free a random live block */
            size_t j = rnd(&x) % nlive;
            t += rnd(&x) % 20000;
            ev[ne++] = (ms_event){ .time = t, .addr = live[j], .op = MS_OP_FREE };
            live[j] = live[--nlive];
        }
    }
    for (size_t i = 0; i < ne; i += 4096)
        if (ms_writer_events(w, 1, ev + i, ne - i < 4096 ? ne - i : 4096) != 0) { printf("FAIL: events\n"); exit(1); }
    ADD(MS_REC_END, (ms_end){ .time = t + 5000, .n_events = ne });
    if (ms_writer_close(w) != 0) { printf("FAIL: close\n"); exit(1); }
}

int main(void)
{
    char path[] = "/tmp/msctheapXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { printf("FAIL: mkstemp\n"); return 1; }
    ms_writer_opts o = { .kind = MS_KIND_HEAP };
    if (ms_writer_fdopen(&w, fd, 1, &o) != 0) { printf("FAIL: writer\n"); return 1; }
    const uint64_t ms = 1000000;
    ADD(MS_REC_META, (ms_meta){ .recorder_version = S("t"), .pid = 1, .exe = S("/bin/t"), .clock_hz = 1000000000,
        .page_size = 4096, .unwinder = S("fp") });
    ADD(MS_REC_THREAD, (ms_thread){ .tid = 1, .name = S("main") });
    static const ms_stack_node nodes[3] = { { 0, 0x10 }, { 1, 0x20 }, { 1, 0x30 } };
    ADD(MS_REC_STACK, (ms_stack){ .first_id = 1, .count = 3, .nodes = nodes });
    static const ms_frame fm[1] = { { S("main"), S("m.c"), 3, 0 } };
    static const ms_frame fa[2] = { { S("inl"), S("a.h"), 8, 0 }, { S("a"), S("a.c"), 5, 0 } };  /* inl inlined into a */
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = 0x10, .nframes = 1, .frames = fm });
    ADD(MS_REC_SYMBOL, (ms_symbol){ .ip = 0x20, .nframes = 2, .frames = fa });
    /* ip 0x30 has no symbol: named by address */
    ADD(MS_REC_MARK, (ms_mark_rec){ .time = 50 * ms, .tid = 1, .name = S("half") });
    ADD(MS_REC_SAMPLE, (ms_sample){ .time = 10 * ms, .rss = 100, .heap_live = 1 });
    ADD(MS_REC_SAMPLE, (ms_sample){ .time = 90 * ms, .rss = 300, .heap_live = 2 });
    ms_event ev[] = {
        { .time = 1 * ms, .addr = 0xa0, .size = 4000, .stack = 2, .op = MS_OP_MALLOC },      /* freed at 60: lifetime 59 ms */
        { .time = 2 * ms, .addr = 0xb0, .size = 10, .stack = 3, .op = MS_OP_MALLOC },        /* leaked */
        { .time = 3 * ms, .addr = 0xc0, .size = 0, .stack = 3, .op = MS_OP_MALLOC },         /* size 0, freed at 3.0005 */
        { .time = 3 * ms + 500, .addr = 0xc0, .op = MS_OP_FREE },
        { .time = 60 * ms, .addr = 0xa0, .op = MS_OP_FREE },
        { .time = 70 * ms, .addr = 0xd0, .size = 1 << 20, .stack = 2, .op = MS_OP_MALLOC },  /* leaked */
    };
    if (ms_writer_events(w, 1, ev, sizeof ev / sizeof ev[0]) != 0) { printf("FAIL: events\n"); return 1; }
    ADD(MS_REC_LABEL, (ms_label_rec){ .time = 71 * ms, .tid = 1, .addr = 0xd0, .var_name = S("buf"), .type_name = S("char[]") });
    static const ms_map maps[1] = { { 0x1000, 0x3000, 3, 0, S("[heap]"), 8192, 8192, 8192, 0 } };
    ADD(MS_REC_MAPS, (ms_maps){ .time = 100 * ms, .count = 1, .maps = maps });
    ADD(MS_REC_PROC_MEM, (ms_proc_mem){ .time = 100 * ms, .vm_rss = 200, .vm_hwm = 400, .rss_anon = 150 });
    ADD(MS_REC_END, (ms_end){ .time = 100 * ms, .n_events = 6, .n_allocs = 4, .n_frees = 2 });
    if (ms_writer_close(w) != 0) { printf("FAIL: close\n"); return 1; }

    ms_hview *v;
    int rc = ms_hview_load(&v, path);
    CHECK("load", rc == 0);
    if (rc) return 1;
    CHECK_EQ_U64("integrity", MS_OK, v->integ.verdict);
    const ms_calltree *t = v->tree;
    CHECK_EQ_U64("tree allocated", 4000 + 10 + 0 + (1 << 20), ms_calltree_total(t, MS_CT_ALLOCATED));
    CHECK_EQ_U64("tree leaked", 10 + (1 << 20), ms_calltree_total(t, MS_CT_LEAKED));
    CHECK_EQ_U64("tree count", 4, ms_calltree_total(t, MS_CT_COUNT));
    CHECK_EQ_U64("tree peak", 10 + (1 << 20), ms_calltree_total(t, MS_CT_PEAK));
    /* functions: main, a, inl (inlined, below a), and the unsymbolized ip */
    int found_inl = 0, found_hex = 0;
    for (size_t i = 0; i < ms_calltree_func_count(t); i++) {
        const ms_ct_func *f = ms_calltree_func(t, (uint32_t)i);
        if (!strcmp(f->name, "inl")) { found_inl = 1; CHECK_EQ_U64("inlined leaf flat", 4000 + (1 << 20), f->flat[MS_CT_ALLOCATED]); }
        if (!strcmp(f->name, "a")) CHECK_EQ_U64("a has cum only", 0, f->flat[MS_CT_ALLOCATED]);
        if (strstr(f->name, "0x30")) { found_hex = 1; CHECK_EQ_U64("unsymbolized flat count", 2, f->flat[MS_CT_COUNT]); }
    }
    CHECK("inlined frame is a function", found_inl);
    CHECK("unsymbolized ip named by address", found_hex);

    /* timeline: live heap at the end of buckets */
    uint64_t curve[MS_HV_BUCKETS];
    size_t n = ms_hview_live_curve(v, curve);
    CHECK("curve covers the trace", n > 1 && n * v->bucket_ticks > 100 * ms && (n - 1) * v->bucket_ticks <= 100 * ms);
    CHECK_EQ_U64("live at 30 ms", 4010, curve[30 * ms / v->bucket_ticks]);
    CHECK_EQ_U64("live at 65 ms", 10, curve[65 * ms / v->bucket_ticks]);
    CHECK_EQ_U64("live at the end", 10 + (1 << 20), curve[n - 1]);
    /* moments: per-site live */
    uint32_t sites[MS_HV_MOMENTS * 2];
    uint64_t bytes[MS_HV_MOMENTS * 2];
    size_t cnt[MS_HV_MOMENTS];
    size_t nm = ms_hview_moments(v, 2, sites, bytes, cnt);
    CHECK("moments cover the trace", nm > 1 && nm * v->moment_ticks > 100 * ms);
    size_t k = 30 * ms / v->moment_ticks;
    CHECK("moment at 30 ms", cnt[k] == 2 && bytes[2 * k] == 4000 && bytes[2 * k + 1] == 10);
    k = nm - 1;
    CHECK("moment at the end", cnt[k] == 2 && bytes[2 * k] == (1 << 20) && bytes[2 * k + 1] == 10);
    CHECK("moment sites", ms_heap_site_at(v->heap, sites[2 * k])->stack_id == 2);
    same_moments("known trace", path, 2);
    /* histograms */
    CHECK_EQ_U64("size 0 bucket", 1, v->size_count[0]);
    CHECK_EQ_U64("size 10 in [8,16)", 1, v->size_count[4]);
    CHECK_EQ_U64("size 4000 in [2048,4096)", 1, v->size_count[12]);
    CHECK_EQ_U64("size 1 MiB in [1M,2M)", 1, v->size_count[21]);
    CHECK_EQ_U64("lifetime 500 ns < 1 us", 1, v->life_count[0]);
    CHECK_EQ_U64("lifetime 59 ms in [10ms,100ms)", 1, v->life_count[5]);
    CHECK_EQ_U64("lifetime leaked", 2, v->life_count[MS_HV_LIFE_BUCKETS]);
    CHECK_EQ_U64("lifetime leaked bytes", 10 + (1 << 20), v->life_bytes[MS_HV_LIFE_BUCKETS]);
    /* largest blocks, labels */
    CHECK_EQ_U64("top blocks", 4, v->ntop);
    CHECK("top order", v->top[0].size == (1 << 20) && v->top[1].size == 4000 && v->top[3].size == 0);
    CHECK("top label", v->top[0].var_name && !strcmp(v->top[0].var_name, "buf") && !strcmp(v->top[0].type_name, "char[]"));
    long s2 = ms_heap_site_find(v->heap, 2);
    CHECK("site label", s2 >= 0 && (size_t)s2 < v->site_label_cap && v->site_var[s2] && !strcmp(v->site_var[s2], "buf"));
    /* per-site block lives */
    long s3 = ms_heap_site_find(v->heap, 3);
    CHECK("site x allocated", s2 >= 0 && s3 >= 0 && (size_t)s2 < v->site_x_cap && (size_t)s3 < v->site_x_cap);
    if (s2 >= 0 && s3 >= 0 && (size_t)s2 < v->site_x_cap && (size_t)s3 < v->site_x_cap) {
        CHECK("site 2 lives", v->site_x[s2].freed == 1 && v->site_x[s2].life_sum == 59 * ms && v->site_x[s2].min_size == 4000);
        CHECK("site 3 lives", v->site_x[s3].freed == 1 && v->site_x[s3].life_max == 500 && v->site_x[s3].min_size == 0);
    }
    /* samples, marks, maps, process memory */
    CHECK_EQ_U64("samples", 2, v->nsamples);
    CHECK_EQ_U64("peak rss (VmHWM)", 400, v->peak_rss);
    CHECK("marks", v->nmarks == 1 && !strcmp(v->marks[0].name, "half") && v->marks[0].time == 50 * ms);
    CHECK("maps", v->has_maps && v->nmaps == 1 && !strcmp(v->maps[0].path, "[heap]") && v->maps[0].anon == 8192);
    CHECK("proc mem", v->has_proc && v->proc.rss_anon == 150);
    ms_hview_free(v);
    unlink(path);
    CHECK("missing file fails", ms_hview_load(&v, "/nonexistent/x.memscope") != 0 && v == NULL);
    char rpath[] = "/tmp/msctrandXXXXXX";
    int rfd = mkstemp(rpath);
    if (rfd < 0) { printf("FAIL: mkstemp\n"); return 1; }
    close(rfd);
    random_trace(rpath);
    same_moments("random trace", rpath, 10);
    unlink(rpath);
    return ms_test_failures != 0;
}
