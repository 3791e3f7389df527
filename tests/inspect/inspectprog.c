/* Test of the inspection functions of libmemscope that write records and
 * of the out-of-process symbolizer that reads them: msr_modules_sync (main
 * exe, libc build id, vdso, a dlopen'd library and its MODULE_UNLOAD), a
 * STACK record of three ips symbolized by mssym_file (recorder/symbolize/)
 * from those MODULE records (a noinline function and an always_inline one
 * inlined into it, built -O2 -g: names, file and lines exactly as in this
 * source; a libc function; an ip of the dlclose'd library), the same file
 * symbolized from modules opened ahead (mssym_warm, as msrec run does while
 * its child runs: the same bytes, the warmed modules taken over),
 * msr_procmaps_write ([heap] in MAPS, PROC_MEM vm_rss against
 * /proc/self/status). Everything is written with the real writer and read
 * back with ms_reader_open.
 *
 *   inspectprog OUT.memscope LIBDL.so      checks (PASS:/FAIL: lines)
 *   inspectprog --bench N [exe]            time symbolizing N ips spread over
 *                                          all modules (or the executable)
 *                                          with mssym_file */
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "memscope.h"
#include "inspect.h"
#include "mssym.h"

static int failures;
#define CHECK(name, cond, ...) do { if (cond) printf("PASS: %s\n", name); else { \
    printf("FAIL: %s: ", name); printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

/* ---- code with known symbols ------------------------------------------ */
static volatile uint64_t g_ret;
static volatile int g_line_call, g_line_inl, g_sink;

__attribute__((noinline)) void insp_leaf(void)
{
    g_ret = (uint64_t)(uintptr_t)__builtin_return_address(0);
    __asm__ volatile("");
}

static inline __attribute__((always_inline)) void insp_inlined(void)
{
    insp_leaf(); g_line_call = __LINE__;
    g_sink++;
}

__attribute__((noinline)) void insp_outer(void)
{
    g_sink++;
    insp_inlined(); g_line_inl = __LINE__;
    g_sink++;
}

/* ---- helpers ----------------------------------------------------------- */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int ends_with(ms_str s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && memcmp(s.ptr + s.len - n, suffix, n) == 0;
}

static int str_eq(ms_str s, const char *z)
{
    return s.len == strlen(z) && memcmp(s.ptr, z, s.len) == 0;
}

static uint64_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t v = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtoull(line + strlen(key), NULL, 10);
    if (f)
        fclose(f);
    return v * 1024;
}

/* A STACK record holding ips[0..n) as n one-frame stacks (ids from 1). */
static int write_stack(ms_writer *w, const uint64_t *ips, size_t n)
{
    ms_stack_node *nodes = calloc(n ? n : 1, sizeof *nodes);
    if (!nodes)
        return MS_ENOMEM;
    for (size_t i = 0; i < n; i++)
        nodes[i].ip = ips[i];
    ms_record rec;
    memset(&rec, 0, sizeof rec);
    rec.type = MS_REC_STACK;
    rec.u.stack.first_id = 1;
    rec.u.stack.count = (uint32_t)n;
    rec.u.stack.nodes = nodes;
    int rc = ms_writer_add(w, &rec);
    free(nodes);
    return rc;
}

struct ips { uint64_t *v; size_t n, cap, step; int exe_only; };

static int collect_ips(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct ips *c = arg;
    (void)size;
    if (c->exe_only && info->dlpi_name && info->dlpi_name[0])
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        for (uint64_t off = 64; off < ph->p_memsz && c->n < c->cap; off += c->step)
            c->v[c->n++] = info->dlpi_addr + ph->p_vaddr + off;
    }
    return 0;
}

static int bench(size_t n, int exe_only)
{
    char path[] = "/tmp/inspect-bench.XXXXXX";
    int fd = mkstemp(path);
    ms_writer *w;
    ms_writer_opts o = { .kind = MS_KIND_HEAP };
    if (fd < 0 || ms_writer_fdopen(&w, fd, 1, &o) < 0)
        return 2;
    msr_modules_sync(w, 0);
    struct ips c = { calloc(n, 8), 0, n, 0, exe_only };
    /* spread n ips evenly over every executable segment of the process */
    size_t total = 0;
    for (c.step = 1u << 20; c.step > 16; c.step /= 2) {
        c.n = 0;
        dl_iterate_phdr(collect_ips, &c);
        total = c.n;
        if (c.n >= n)
            break;
    }
    int rc = write_stack(w, c.v, total);
    ms_writer_close(w);
    double t0 = now();
    mssym_stats st;
    char err[256];
    if (!rc) rc = mssym_file(path, NULL, 0, &st, err, sizeof err);
    double dt = now() - t0;
    unlink(path);
    printf("symbols: %zu ips (%s), %llu named, in %.1f ms (rc %d)\n", total,
           exe_only ? "main executable, with DWARF" : "all modules",
           (unsigned long long)st.named, dt * 1e3, rc);
    free(c.v);
    return rc != 0;
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[65536];
    size_t n;
    int rc = a && b ? 0 : -1;
    while (!rc && (n = fread(buf, 1, sizeof buf, a)) > 0)
        if (fwrite(buf, 1, n, b) != n) rc = -1;
    if (a) fclose(a);
    if (b && fclose(b) != 0) rc = -1;
    return rc;
}

static int same_file(const char *x, const char *y)
{
    FILE *a = fopen(x, "rb"), *b = fopen(y, "rb");
    int same = a && b;
    while (same) {
        int c = fgetc(a), d = fgetc(b);
        if (c != d) same = 0;
        if (c == EOF) break;
    }
    if (a) fclose(a);
    if (b) fclose(b);
    return same;
}

struct warm_ctx { mssym *warm; int *n; };

static int warm_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct warm_ctx *c = arg;
    char exe[4096];
    const char *path = info->dlpi_name;
    if (!path || !*path) {
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[k > 0 ? k : 0] = 0;
        path = exe;
    }
    if (path[0] == '/' && mssym_warm(c->warm, path, info->dlpi_addr) == 1) (*c->n)++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--bench") == 0)
        return bench((size_t)strtoull(argv[2], NULL, 10), argc > 3 && strcmp(argv[3], "exe") == 0);
    if (argc != 3) {
        fprintf(stderr, "usage: inspectprog OUT LIBDL\n");
        return 2;
    }
    unlink(argv[1]);
    ms_writer *w;
    ms_writer_opts o = { .kind = MS_KIND_HEAP };
    int rc = ms_writer_open(&w, argv[1], &o);
    if (rc < 0) {
        printf("FAIL: inspect/writer_open: %s\n", ms_strerror(rc));
        return 1;
    }
    free(malloc(100));                  /* make sure [heap] exists */

    CHECK("inspect/modules_sync", msr_modules_sync(w, 1) == 0, "rc");
    void *h = dlopen(argv[2], RTLD_NOW);
    CHECK("inspect/dlopen", h != NULL, "%s", dlerror());
    if (!h)
        return 1;
    CHECK("inspect/modules_sync_dlopen", msr_modules_sync(w, 2) == 0, "rc");
    uint64_t (*outer)(void) = (uint64_t (*)(void))dlsym(h, "insp_dl_outer");
    int *dl_line = dlsym(h, "insp_dl_line");
    uint64_t dl_ip = outer();
    int dl_expect_line = *dl_line;
    uint64_t dl_id = 0, base = 0;
    msr_module_find(dl_ip, &dl_id, &base, NULL, NULL);
    dlclose(h);
    CHECK("inspect/modules_sync_dlclose", msr_modules_sync(w, 3) == 0, "rc");
    /* a second sync with nothing changed writes nothing */
    CHECK("inspect/modules_sync_again", msr_modules_sync(w, 4) == 0, "rc");

    insp_outer();
    uint64_t ips[3] = { g_ret, (uint64_t)(uintptr_t)&getpid + 1, dl_ip };
    CHECK("inspect/stack_write", write_stack(w, ips, 3) == 0, "STACK record");
    rc = msr_procmaps_write(w, 5);
    uint64_t rss_now = status_kb("VmRSS:");
    CHECK("inspect/procmaps_write", rc == 0, "rc %d", rc);
    CHECK("inspect/writer_close", ms_writer_close(w) == 0, "close");
    char warm_path[4096];
    snprintf(warm_path, sizeof warm_path, "%s.warm", argv[1]);
    CHECK("inspect/copy", copy_file(argv[1], warm_path) == 0, "copy to %s", warm_path);
    double t0 = now();
    mssym_stats st;
    char err[256];
    rc = mssym_file(argv[1], NULL, 0, &st, err, sizeof err);
    double dt = now() - t0;
    CHECK("inspect/symbolize_file", rc == 0 && st.added == 3, "rc %d (%s), %llu added", rc, err,
          (unsigned long long)st.added);
    /* the loaded modules opened ahead (the dlclose'd library is not: it is
     * opened as before); the exe's and libc's sessions are taken over */
    mssym *warm = NULL;
    int nwarm = 0;
    if (mssym_new(&warm, 0) == 0)
        dl_iterate_phdr(warm_module, &(struct warm_ctx){ warm, &nwarm });
    mssym_stats wst;
    int wrc = mssym_file_warm(warm_path, NULL, 0, warm, &wst, err, sizeof err);
    size_t left = mssym_warm_left(warm);
    CHECK("symbols/warm_taken", wrc == 0 && nwarm >= 2 && left + 2 <= (size_t)nwarm,
          "rc %d, %d warmed, %zu not taken", wrc, nwarm, left);
    CHECK("symbols/warm_same_bytes", same_file(argv[1], warm_path), "%s differs from %s",
          warm_path, argv[1]);
    mssym_free(warm);
    unlink(warm_path);

    /* ---- read back ---- */
    ms_reader *r;
    rc = ms_reader_open(&r, argv[1]);
    CHECK("inspect/reader_open", rc == 0, "%s", ms_strerror(rc));
    if (rc)
        return 1;
    char exe[4096];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[el > 0 ? el : 0] = 0;
    int saw_exe = 0, saw_vdso = 0, libc_bid = -1, saw_dl = 0, dl_unloaded = 0, n_module = 0;
    int n_unload = 0, saw_heap = 0, nmaps = 0, n_sym = 0, dup_ids = 0;
    uint64_t seen_ids[256], nseen = 0, dl_mod = 0, rss_rec = 0, rss_maps = 0;
    const ms_record *rec;
    while ((rc = ms_reader_next(r, &rec)) == 1) {
        switch (rec->type) {
        case MS_REC_MODULE: {
            const ms_module *m = &rec->u.module;
            n_module++;
            for (uint64_t i = 0; i < nseen; i++)
                dup_ids += seen_ids[i] == m->id;
            if (nseen < 256)
                seen_ids[nseen++] = m->id;
            if (str_eq(m->path, exe) && m->time == 1)
                saw_exe = 1;
            if (str_eq(m->path, "[vdso]"))
                saw_vdso = 1;
            if (strstr(m->path.ptr, "/libc.so.6"))
                libc_bid = (int)m->build_id.len;
            if (str_eq(m->path, argv[2]) && m->time == 2 && m->nsegments > 0) {
                saw_dl = 1;
                dl_mod = m->id;
            }
            break;
        }
        case MS_REC_MODULE_UNLOAD:
            n_unload++;
            if (rec->u.module_unload.id == dl_mod && dl_mod && rec->u.module_unload.time == 3)
                dl_unloaded = 1;
            break;
        case MS_REC_SYMBOL: {
            const ms_symbol *s = &rec->u.symbol;
            n_sym++;
            if (s->ip == ips[0]) {
                int ok = s->nframes == 2;
                CHECK("symbols/inline_chain_depth", ok, "nframes %u", s->nframes);
                if (s->nframes >= 1) {
                    CHECK("symbols/inlined_name", str_eq(s->frames[0].function, "insp_inlined"),
                          "'%s'", s->frames[0].function.ptr);
                    CHECK("symbols/inlined_file", ends_with(s->frames[0].file, "/tests/inspect/inspectprog.c") &&
                          s->frames[0].file.ptr[0] == '/', "'%s'", s->frames[0].file.ptr);
                    CHECK("symbols/inlined_line", s->frames[0].line == (uint32_t)g_line_call,
                          "line %u, want %d", s->frames[0].line, g_line_call);
                }
                if (s->nframes >= 2) {
                    CHECK("symbols/outer_name", str_eq(s->frames[1].function, "insp_outer"),
                          "'%s'", s->frames[1].function.ptr);
                    CHECK("symbols/outer_file", ends_with(s->frames[1].file, "/tests/inspect/inspectprog.c"),
                          "'%s'", s->frames[1].file.ptr);
                    CHECK("symbols/outer_line", s->frames[1].line == (uint32_t)g_line_inl,
                          "line %u, want %d", s->frames[1].line, g_line_inl);
                }
                CHECK("symbols/module_id", s->module_id == seen_ids[0] && s->module_offset &&
                      s->module_offset < s->ip, "module %llu", (unsigned long long)s->module_id);
            } else if (s->ip == ips[1]) {
                CHECK("symbols/libc_name", s->nframes >= 1 && strstr(s->frames[0].function.ptr, "getpid"),
                      "'%s'", s->nframes ? s->frames[0].function.ptr : "(none)");
            } else if (s->ip == ips[2]) {
                CHECK("symbols/unloaded_module_id", s->module_id == dl_id && dl_id &&
                      s->module_offset == dl_ip - base, "module %llu want %llu",
                      (unsigned long long)s->module_id, (unsigned long long)dl_id);
                CHECK("symbols/unloaded_name", s->nframes >= 1 &&
                      str_eq(s->frames[s->nframes - 1].function, "insp_dl_outer"),
                      "'%s'", s->nframes ? s->frames[s->nframes - 1].function.ptr : "(none)");
                CHECK("symbols/unloaded_line", s->nframes >= 1 &&
                      s->frames[s->nframes - 1].line == (uint32_t)dl_expect_line &&
                      ends_with(s->frames[s->nframes - 1].file, "dlib.c"),
                      "line %u want %d", s->nframes ? s->frames[s->nframes - 1].line : 0, dl_expect_line);
            }
            break;
        }
        case MS_REC_MAPS:
            nmaps = (int)rec->u.maps.count;
            for (uint32_t i = 0; i < rec->u.maps.count; i++) {
                const ms_map *m = &rec->u.maps.maps[i];
                if (str_eq(m->path, "[heap]") && (m->prot & 3) == 3 && m->end > m->start)
                    saw_heap = 1;
                rss_maps += m->rss;
            }
            break;
        case MS_REC_PROC_MEM:
            rss_rec = rec->u.proc_mem.vm_rss;
            CHECK("procmaps/proc_mem_fields", rec->u.proc_mem.vm_size > rss_rec &&
                  rec->u.proc_mem.vm_hwm >= rss_rec && rec->u.proc_mem.rss_file > 0 &&
                  rec->u.proc_mem.vm_data > 0 && rec->u.proc_mem.time == 5, "fields");
            break;
        }
    }
    CHECK("inspect/reader_end", rc == 0, "%s", ms_strerror(rc));
    ms_reader_close(r);
    CHECK("modules/main_exe", saw_exe, "no MODULE with path %s", exe);
    CHECK("modules/vdso", saw_vdso, "no [vdso]");
    CHECK("modules/libc_build_id_20", libc_bid == 20, "libc build id length %d", libc_bid);
    CHECK("modules/dlopen_appears", saw_dl, "no MODULE for %s at time 2", argv[2]);
    CHECK("modules/dlclose_unload", dl_unloaded && n_unload == 1, "unloads %d", n_unload);
    CHECK("modules/ids_unique", dup_ids == 0 && n_module >= 4, "dups %d modules %d", dup_ids, n_module);
    CHECK("symbols/count", n_sym == 3, "%d SYMBOL records", n_sym);
    CHECK("procmaps/heap", saw_heap && nmaps > 5, "maps %d heap %d", nmaps, saw_heap);
    int64_t d = (int64_t)rss_rec - (int64_t)rss_now;
    CHECK("procmaps/vm_rss", rss_rec > 0 && d < 256 * 1024 && d > -256 * 1024,
          "recorded %llu, now %llu", (unsigned long long)rss_rec, (unsigned long long)rss_now);
    int64_t dm = (int64_t)rss_maps - (int64_t)rss_rec;
    CHECK("procmaps/rss_sum", dm < 1024 * 1024 && dm > -1024 * 1024,
          "sum of smaps Rss %llu vs VmRSS %llu", (unsigned long long)rss_maps, (unsigned long long)rss_rec);
    fprintf(stderr, "symbols for 3 ips (with session setup): %.1f ms\n", dt * 1e3);
    return failures != 0;
}
