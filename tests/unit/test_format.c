/*
 * test_format.c — unit tests of the .memscope writer and reader.
 *
 * Round-trips every record type with every field set (zeros, maximum
 * values, INT64_MIN, empty strings, strings with NUL bytes, big arrays),
 * heap events of every op (alignment, all realloc cases, failed allocs,
 * unaligned addresses, the shift choice), several chunks, raw mode, pipes,
 * the never-clobber rule, error strings, and damaged files (a cut tail
 * keeps the valid prefix; a flipped payload byte costs exactly one chunk).
 * Values are asserted exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "memscope.h"
#include "mstest.h"

static char tmpdir[256];

static void mkpath(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    fstat(fd, &st);
    unsigned char *b = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t k = read(fd, b + got, (size_t)st.st_size - got);
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    *len = got;
    return b;
}

/* ---- record fixtures ----------------------------------------------------- */

#define S(lit) ((ms_str){ lit, sizeof(lit) - 1 })
static const char nul_str[] = "a\0b\0\0c";
#define NULS ((ms_str){ nul_str, 6 })

static ms_segment segs[3] = {
    { 0, 0, 0, 0 }, { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT32_MAX }, { 0x1000, 0x2345, 0x1000, 5 }
};
static ms_stack_node nodes[5000];
static ms_frame frames[3] = {
    { { "main", 4 }, { "main.c", 6 }, 12, 3 }, { { NULL, 0 }, { NULL, 0 }, 0, 0 },
    { { nul_str, 6 }, { "x", 1 }, UINT32_MAX, UINT32_MAX }
};
static ms_live_block blocks[3000];
static ms_map maps[4] = {
    { 0x400000, 0x401000, 5, 0, { "/bin/x", 6 }, 4096, 4096, 0, 0 },
    { 0, 0, 0, 0, { NULL, 0 }, 0, 0, 0, 0 },
    { UINT64_MAX - 4095, UINT64_MAX, 15, UINT64_MAX, { "[heap]", 6 }, UINT64_MAX, 1, 2, 3 },
    { 0x7fff0000, 0x7fff1000, 3, 0, { nul_str, 6 }, 1, 2, 3, 4 },
};
static ms_kv kvs[2] = { { { "MemTotal", 8 }, 16ull << 30 }, { { NULL, 0 }, UINT64_MAX } };
static ms_snap_lib libs[2] = { { { "/lib/libc.so.6", 14 }, 2000000, 3000000, 100, 50 },
                               { { NULL, 0 }, 0, 0, 0, 0 } };
static ms_snap_perm perms[2] = { { 5, 10, 20, 30 }, { 3, UINT64_MAX, 0, 1 } };
static ms_snap_flag lflags[2] = { { MS_LIB_DELETED | MS_LIB_EXEC }, { UINT32_MAX } };

#define NFIX 30
static ms_record fix[NFIX];
static int nfix;

static void add_fix(uint32_t type, ms_record r) { r.type = type; fix[nfix++] = r; }

static void build_fixtures(void)
{
    for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
        nodes[i].parent = i;  /* node first_id+i has parent first_id+i-1 ... */
        nodes[i].ip = (i % 7 == 3) ? UINT64_MAX - i : 0x400000 + i * 0x1234567ull;
    }
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        blocks[i].addr = 0x555500000000ull + i * 48 + (i % 5);
        blocks[i].size = i * 13;
        blocks[i].leak_class = (uint32_t)(i % 6);
    }
    blocks[2999].addr = 8;   /* not ascending: must still round-trip */
    ms_record r;
    memset(&r, 0, sizeof r);
    r.u.meta = (ms_meta){ S("0.1.0"), MS_MODE_SAMPLED, 524288, 1234, 1, S("/usr/bin/prog"),
                          NULS, S("host"), S("6.1.0"), 4096, 1000000000, 1700000000000000000ull,
                          S("libunwind"), 64, S(""), S("0123456789abcdef"),
                          S("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"), MS_MALLOC_NOT_INTERPOSED,
                          MS_SCOPE_WINDOW, 1699999990000000000ull, 2 };
    add_fix(MS_REC_META, r);
    memset(&r, 0, sizeof r);
    add_fix(MS_REC_META, r);                                   /* all zero/empty */
    memset(&r, 0, sizeof r);
    r.u.meta = (ms_meta){ NULS, UINT32_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, NULS, NULS, NULS,
                          NULS, UINT64_MAX, UINT64_MAX, UINT64_MAX, NULS, UINT32_MAX, NULS, NULS,
                          NULS, UINT32_MAX, UINT32_MAX, UINT64_MAX, UINT64_MAX };
    add_fix(MS_REC_META, r);
    memset(&r, 0, sizeof r);
    r.u.string = (ms_string){ 7, NULS };
    add_fix(MS_REC_STRING, r);
    memset(&r, 0, sizeof r);
    r.u.module = (ms_module){ 1, 99, S("/lib/x.so"), { "\x01\x00\xff", 3 }, 0x7f0000000000ull, 3, segs };
    add_fix(MS_REC_MODULE, r);
    memset(&r, 0, sizeof r);
    r.u.module = (ms_module){ UINT64_MAX, UINT64_MAX, S(""), S(""), UINT64_MAX, 0, NULL };
    add_fix(MS_REC_MODULE, r);
    memset(&r, 0, sizeof r);
    r.u.module_unload = (ms_module_unload){ UINT64_MAX, 5 };
    add_fix(MS_REC_MODULE_UNLOAD, r);
    memset(&r, 0, sizeof r);
    r.u.stack = (ms_stack){ 1, 5000, nodes };
    add_fix(MS_REC_STACK, r);
    memset(&r, 0, sizeof r);
    r.u.symbol = (ms_symbol){ 0x401234, 2, 0x1234, 3, frames };
    add_fix(MS_REC_SYMBOL, r);
    memset(&r, 0, sizeof r);
    r.u.thread = (ms_thread){ 4242, 1000, S("worker-1"), 4241 };
    add_fix(MS_REC_THREAD, r);
    memset(&r, 0, sizeof r);
    r.u.thread_end = (ms_thread_end){ 4242, UINT64_MAX };
    add_fix(MS_REC_THREAD_END, r);
    memset(&r, 0, sizeof r);
    r.u.sample = (ms_sample){ 10, 1 << 20, UINT64_MAX, 0 };
    add_fix(MS_REC_SAMPLE, r);
    memset(&r, 0, sizeof r);
    r.u.mark = (ms_mark_rec){ 11, 4242, S("phase 1") };
    add_fix(MS_REC_MARK, r);
    memset(&r, 0, sizeof r);
    r.u.label = (ms_label_rec){ 12, 4242, 0x5555000010ull, S("buf"), S("struct foo *") };
    add_fix(MS_REC_LABEL, r);
    memset(&r, 0, sizeof r);
    r.u.sync = (ms_sync){ 13 };
    add_fix(MS_REC_SYNC, r);
    memset(&r, 0, sizeof r);
    r.u.end = (ms_end){ 14, MS_END_SIGNAL, INT64_MIN, 1, 2, 3, 4, 5, 6, 7, 8, 28 };
    add_fix(MS_REC_END, r);
    memset(&r, 0, sizeof r);
    r.u.end = (ms_end){ UINT64_MAX, UINT32_MAX, INT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
                        UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, INT64_MIN };
    add_fix(MS_REC_END, r);
    memset(&r, 0, sizeof r);
    r.u.end = (ms_end){ 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, -1 };
    add_fix(MS_REC_END, r);
    memset(&r, 0, sizeof r);
    r.u.live_blocks = (ms_live_blocks){ 15, 3000, blocks };
    add_fix(MS_REC_LIVE_BLOCKS, r);
    memset(&r, 0, sizeof r);
    r.u.maps = (ms_maps){ 16, 4, maps };
    add_fix(MS_REC_MAPS, r);
    memset(&r, 0, sizeof r);
    r.u.proc_mem = (ms_proc_mem){ 17, 1, 2, 3, 4, 5, 6, 7, UINT64_MAX };
    add_fix(MS_REC_PROC_MEM, r);
    memset(&r, 0, sizeof r);
    r.u.snap_begin = (ms_snap_begin){ 0, 1700000000123456789ull, S("before"), S("h"), S("k"),
                                      S("Debian GNU/Linux 12 (bookworm)"), NULS, 4096, 123456, 2, kvs,
                                      1, kvs, 0, NULL, 2, kvs, MS_PRIV_USER };
    add_fix(MS_REC_SNAP_BEGIN, r);
    memset(&r, 0, sizeof r);
    ms_snap_proc *sp = &r.u.snap_proc;
    sp->snap_index = 0; sp->pid = 1; sp->ppid = 0; sp->starttime = UINT64_MAX;
    sp->name = S("systemd"); sp->cmdline = NULS; sp->exe = S(""); sp->exe_size = 99;
    sp->uid = UINT64_MAX; sp->user = S("root"); sp->kind = MS_PROC_SYSTEM; sp->state = 'S';
    sp->read_status = MS_READ_DENIED_SMAPS | MS_READ_NO_ROLLUP; sp->threads = 1;
    sp->rss = 1; sp->pss = 2; sp->uss = 3; sp->swap = 4; sp->swap_pss = 5; sp->shared_clean = 6;
    sp->shared_dirty = 7; sp->private_clean = 8; sp->private_dirty = 9; sp->pss_anon = 10;
    sp->pss_file = 11; sp->pss_shmem = 12; sp->rss_anon = 13; sp->rss_file = 14; sp->rss_shmem = 15;
    sp->vm_size = 16; sp->vm_hwm = UINT64_MAX; sp->open_files = -1;
    sp->nlibs = 2; sp->libs = libs; sp->nperms = 2; sp->perms = perms;
    sp->nlib_flags = 2; sp->lib_flags = lflags; sp->exe_flags = MS_EXE_DELETED;
    add_fix(MS_REC_SNAP_PROC, r);
    memset(&r, 0, sizeof r);
    r.u.snap_proc.open_files = INT64_MIN;
    add_fix(MS_REC_SNAP_PROC, r);
    memset(&r, 0, sizeof r);
    r.u.snap_end = (ms_snap_end){ 0, 1700000000999999999ull, 300, 1, 2, 3, UINT64_MAX, 7, { 1, 0, UINT64_MAX } };
    add_fix(MS_REC_SNAP_END, r);
}

static int str_eq(ms_str a, ms_str b)
{
    return a.len == b.len && b.ptr && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0) && b.ptr[b.len] == 0;
}

#define F(x) do { if (a->x != b->x) return #x; } while (0)
#define FS(x) do { if (!str_eq(a->x, b->x)) return #x; } while (0)

/* Compare a written record a with a read record b; NULL or the field name. */
static const char *rec_diff(const ms_record *ra, const ms_record *rb)
{
    if (ra->type != rb->type) return "type";
    switch (ra->type) {
    case MS_REC_META: {
        const ms_meta *a = &ra->u.meta, *b = &rb->u.meta;
        FS(recorder_version); F(mode); F(sample_rate); F(pid); F(ppid); FS(exe); FS(cmdline);
        FS(hostname); FS(kernel); F(page_size); F(clock_hz); F(start_wall_ns); FS(unwinder);
        F(max_depth); FS(label); FS(boot_id); FS(allocator); F(malloc_interposed);
        return NULL;
    }
    case MS_REC_STRING: { const ms_string *a = &ra->u.string, *b = &rb->u.string; F(id); FS(value); return NULL; }
    case MS_REC_MODULE: {
        const ms_module *a = &ra->u.module, *b = &rb->u.module;
        F(id); F(time); FS(path); FS(build_id); F(base); F(nsegments);
        for (uint32_t i = 0; i < a->nsegments; i++) {
            F(segments[i].vaddr); F(segments[i].size); F(segments[i].file_offset); F(segments[i].prot);
        }
        return NULL;
    }
    case MS_REC_MODULE_UNLOAD: { const ms_module_unload *a = &ra->u.module_unload, *b = &rb->u.module_unload; F(id); F(time); return NULL; }
    case MS_REC_STACK: {
        const ms_stack *a = &ra->u.stack, *b = &rb->u.stack;
        F(first_id); F(count);
        for (uint32_t i = 0; i < a->count; i++) { F(nodes[i].parent); F(nodes[i].ip); }
        return NULL;
    }
    case MS_REC_SYMBOL: {
        const ms_symbol *a = &ra->u.symbol, *b = &rb->u.symbol;
        F(ip); F(module_id); F(module_offset); F(nframes);
        for (uint32_t i = 0; i < a->nframes; i++) {
            FS(frames[i].function); FS(frames[i].file); F(frames[i].line); F(frames[i].column);
        }
        return NULL;
    }
    case MS_REC_THREAD: { const ms_thread *a = &ra->u.thread, *b = &rb->u.thread; F(tid); F(time); FS(name); F(creator_tid); return NULL; }
    case MS_REC_THREAD_END: { const ms_thread_end *a = &ra->u.thread_end, *b = &rb->u.thread_end; F(tid); F(time); return NULL; }
    case MS_REC_SAMPLE: { const ms_sample *a = &ra->u.sample, *b = &rb->u.sample; F(time); F(rss); F(heap_live); F(heap_blocks); return NULL; }
    case MS_REC_MARK: { const ms_mark_rec *a = &ra->u.mark, *b = &rb->u.mark; F(time); F(tid); FS(name); return NULL; }
    case MS_REC_LABEL: {
        const ms_label_rec *a = &ra->u.label, *b = &rb->u.label;
        F(time); F(tid); F(addr); FS(var_name); FS(type_name);
        return NULL;
    }
    case MS_REC_SYNC: { const ms_sync *a = &ra->u.sync, *b = &rb->u.sync; F(time); return NULL; }
    case MS_REC_END: {
        const ms_end *a = &ra->u.end, *b = &rb->u.end;
        F(time); F(reason); F(detail); F(n_events); F(n_allocs); F(n_frees); F(alloc_bytes);
        F(n_dropped); F(n_chunks);
        return NULL;
    }
    case MS_REC_LIVE_BLOCKS: {
        const ms_live_blocks *a = &ra->u.live_blocks, *b = &rb->u.live_blocks;
        F(time); F(count);
        for (uint32_t i = 0; i < a->count; i++) { F(blocks[i].addr); F(blocks[i].size); F(blocks[i].leak_class); }
        return NULL;
    }
    case MS_REC_MAPS: {
        const ms_maps *a = &ra->u.maps, *b = &rb->u.maps;
        F(time); F(count);
        for (uint32_t i = 0; i < a->count; i++) {
            F(maps[i].start); F(maps[i].end); F(maps[i].prot); F(maps[i].offset); FS(maps[i].path);
            F(maps[i].rss); F(maps[i].pss); F(maps[i].anon); F(maps[i].swap);
        }
        return NULL;
    }
    case MS_REC_PROC_MEM: {
        const ms_proc_mem *a = &ra->u.proc_mem, *b = &rb->u.proc_mem;
        F(time); F(vm_size); F(vm_rss); F(vm_hwm); F(rss_anon); F(rss_file); F(rss_shmem); F(vm_data); F(vm_swap);
        return NULL;
    }
    case MS_REC_SNAP_BEGIN: {
        const ms_snap_begin *a = &ra->u.snap_begin, *b = &rb->u.snap_begin;
        F(index); F(wall_ns); FS(label); FS(hostname); FS(kernel); FS(os_release); FS(boot_id);
        F(page_size); F(uptime_ms); F(nmeminfo);
        for (uint32_t i = 0; i < a->nmeminfo; i++) { FS(meminfo[i].key); F(meminfo[i].value); }
        return NULL;
    }
    case MS_REC_SNAP_PROC: {
        const ms_snap_proc *a = &ra->u.snap_proc, *b = &rb->u.snap_proc;
        F(snap_index); F(pid); F(ppid); F(starttime); FS(name); FS(cmdline); FS(exe); F(exe_size);
        F(uid); FS(user); F(kind); F(state); F(read_status); F(threads); F(rss); F(pss); F(uss);
        F(swap); F(swap_pss); F(shared_clean); F(shared_dirty); F(private_clean); F(private_dirty);
        F(pss_anon); F(pss_file); F(pss_shmem); F(rss_anon); F(rss_file); F(rss_shmem); F(vm_size);
        F(vm_hwm); F(open_files); F(nlibs); F(nperms);
        for (uint32_t i = 0; i < a->nlibs; i++) {
            FS(libs[i].path); F(libs[i].disk_size); F(libs[i].mapped); F(libs[i].rss); F(libs[i].pss);
        }
        for (uint32_t i = 0; i < a->nperms; i++) {
            F(perms[i].prot); F(perms[i].size); F(perms[i].rss); F(perms[i].pss);
        }
        return NULL;
    }
    case MS_REC_SNAP_END: {
        const ms_snap_end *a = &ra->u.snap_end, *b = &rb->u.snap_end;
        F(index); F(wall_ns); F(n_procs); F(n_vanished); F(n_denied); F(n_omitted); F(omitted_pss); F(omitted_rss);
        return NULL;
    }
    case MS_REC_EVENT: {
        const ms_event *a = &ra->u.event, *b = &rb->u.event;
        F(time); F(tid); F(addr); F(size); F(old_addr); F(stack); F(align); F(op);
        return NULL;
    }
    }
    return "unknown type";
}

/* ---- events fixture ------------------------------------------------------ */

static ms_event mkev(uint8_t op, uint64_t t, uint64_t addr, uint64_t size, uint64_t old,
                     uint64_t stack, uint32_t align)
{
    ms_event e = { t, 0, addr, size, old, stack, align, op };
    return e;
}

/* every op, every realloc case; frees have size/stack 0, non-reallocs old 0 */
static size_t build_events(ms_event *ev, uint64_t addr_or)
{
    size_t n = 0;
    uint64_t t = 1000;
    ev[n++] = mkev(MS_OP_MALLOC, t, 0x5555aaaa0010ull | addr_or, 24, 0, 1, 0);
    ev[n++] = mkev(MS_OP_CALLOC, t, 0x5555aaaa0040ull | addr_or, 0, 0, 2, 0);                 /* same time */
    ev[n++] = mkev(MS_OP_REALLOC, t += 5, 0x5555aaaa0010ull | addr_or, 100, 0x5555aaaa0010ull | addr_or, 3, 0); /* in place */
    ev[n++] = mkev(MS_OP_REALLOC, t += 5, 0x5555bbbb0000ull | addr_or, 5000, 0x5555aaaa0010ull | addr_or, 3, 0); /* moved */
    ev[n++] = mkev(MS_OP_REALLOC, t += 5, 0, 0, 0x5555bbbb0000ull | addr_or, 4, 0);             /* to zero */
    ev[n++] = mkev(MS_OP_REALLOCARRAY, t += 5, 0, UINT64_MAX, 0x5555aaaa0040ull | addr_or, 4, 0); /* failed */
    ev[n++] = mkev(MS_OP_REALLOC, t += 5, 0x5555cccc0000ull | addr_or, 8, 0, 5, 0);            /* from NULL */
    ev[n++] = mkev(MS_OP_MEMALIGN, t += 1, 0x7f0000001000ull, 4096, 0, 6, 4096);
    ev[n++] = mkev(MS_OP_POSIX_MEMALIGN, t += 1, 0x7f0000002000ull, 64, 0, 6, 64);
    ev[n++] = mkev(MS_OP_ALIGNED_ALLOC, t += 1, 0x7f0000003000ull, 128, 0, 6, UINT32_MAX);
    ev[n++] = mkev(MS_OP_VALLOC, t += 1, 0x7f0000004000ull, 10, 0, 7, 4096);
    ev[n++] = mkev(MS_OP_PVALLOC, t += 1, 0x7f0000005000ull, 10, 0, 7, 4096);
    ev[n++] = mkev(MS_OP_NEW, t += 1000000, 0x5555aaaa0100ull | addr_or, 32, 0, UINT64_MAX, 0);
    ev[n++] = mkev(MS_OP_NEW_ARRAY, t += 1, 0x5555aaaa0200ull | addr_or, 320, 0, 1, 0);
    ev[n++] = mkev(MS_OP_MALLOC, t += 1, 0, 1ull << 50, 0, 8, 0);                               /* failed */
    ev[n++] = mkev(MS_OP_FREE, t += 1, 0x5555aaaa0040ull | addr_or, 0, 0, 0, 0);
    ev[n++] = mkev(MS_OP_FREE, t += 1, 0, 0, 0, 0, 0);                                          /* free(NULL) */
    ev[n++] = mkev(MS_OP_DELETE, t += 1, 0x5555aaaa0100ull | addr_or, 0, 0, 0, 0);
    ev[n++] = mkev(MS_OP_DELETE_ARRAY, t += 1, 0x5555aaaa0200ull | addr_or, 0, 0, 0, 0);
    ev[n++] = mkev(MS_OP_MALLOC, t += 1, (UINT64_MAX & ~(uint64_t)15) | addr_or, 1, 0, 0, 0);    /* top address */
    ev[n++] = mkev(MS_OP_FREE, t += 1, 0x10, 0, 0, 0, 0);
    ev[n++] = mkev(MS_OP_MALLOC, UINT64_MAX, 0x20, 0, 0, 1, 0);                                 /* max time */
    ev[n++] = mkev(MS_OP_FREE, 3, 0x20, 0, 0, 0, 0);                                          /* time goes back */
    return n;
}

/* ---- helpers ------------------------------------------------------------- */

struct problems { int n; int err[16]; uint64_t off[16]; };
static void on_problem(void *ctx, int err, uint64_t off, const char *msg)
{
    struct problems *p = ctx;
    if (p->n < 16) { p->err[p->n] = err; p->off[p->n] = off; }
    p->n++;
    (void)msg;
}

static ms_writer_opts opts_kind(uint32_t kind)
{
    ms_writer_opts o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    return o;
}

/* Write fixtures + events into path. */
static int write_all_fixtures(const char *path, const ms_writer_opts *o, int raw, const ms_event *ev, size_t nev)
{
    ms_writer *w;
    int rc = ms_writer_open(&w, path, o);
    if (rc) return rc;
    if (raw) ms_writer_set_raw(w, 1);
    for (int i = 0; i < nfix; i++)
        if ((rc = ms_writer_add(w, &fix[i]))) { ms_writer_abort(w); return rc; }
    if ((rc = ms_writer_events(w, 77, ev, nev))) { ms_writer_abort(w); return rc; }
    ms_record end;
    memset(&end, 0, sizeof end);
    end.type = MS_REC_END;
    end.u.end.time = 99;
    if ((rc = ms_writer_add(w, &end))) { ms_writer_abort(w); return rc; }
    return ms_writer_close(w);
}

/* Read everything and compare with fixtures, events and END. */
static void check_read(const char *name, ms_reader *r, const ms_event *ev, size_t nev, uint64_t tid)
{
    char nm[200];
    const ms_record *rec;
    int i = 0, rc;
    size_t k = 0;
    int ok = 1, ends = 0;
    while ((rc = ms_reader_next(r, &rec)) == 1) {
        if (i < nfix) {
            const char *d = rec_diff(&fix[i], rec);
            if (d) { printf("FAIL: %s: fixture %d (%s) field %s\n", name, i, ms_record_type_name(fix[i].type), d); ms_test_failures++; ok = 0; }
            i++;
        } else if (rec->type == MS_REC_EVENT && k < nev) {
            ms_record want;
            memset(&want, 0, sizeof want);
            want.type = MS_REC_EVENT;
            want.u.event = ev[k];
            want.u.event.tid = tid;
            const char *d = rec_diff(&want, rec);
            if (d) { printf("FAIL: %s: event %zu field %s\n", name, k, d); ms_test_failures++; ok = 0; }
            k++;
        } else if (rec->type == MS_REC_END) {
            ends++;
        } else {
            printf("FAIL: %s: unexpected record %s\n", name, ms_record_type_name(rec->type));
            ms_test_failures++;
            ok = 0;
        }
    }
    snprintf(nm, sizeof nm, "%s: next returns 0 at end", name);
    CHECK_EQ_U64(nm, 0, (uint64_t)(int64_t)rc);
    snprintf(nm, sizeof nm, "%s: all fixtures", name);
    CHECK_EQ_U64(nm, nfix, i);
    snprintf(nm, sizeof nm, "%s: all events", name);
    CHECK_EQ_U64(nm, nev, k);
    snprintf(nm, sizeof nm, "%s: end record", name);
    CHECK_EQ_U64(nm, 1, ends);
    snprintf(nm, sizeof nm, "%s: all fields equal", name);
    CHECK(nm, ok);
    ms_integrity in;
    ms_reader_integrity(r, &in);
    snprintf(nm, sizeof nm, "%s: verdict ok", name);
    CHECK_EQ_U64(nm, MS_OK, (uint64_t)(int64_t)in.verdict);
    snprintf(nm, sizeof nm, "%s: has_end", name);
    CHECK_EQ_U64(nm, 1, in.has_end);
    snprintf(nm, sizeof nm, "%s: nothing lost", name);
    CHECK(nm, in.chunks_bad == 0 && in.records_lost == 0 && in.bytes_lost == 0 && in.chunks_skipped == 0);
}

/* ---- tests --------------------------------------------------------------- */

static void test_roundtrip(void)
{
    static ms_event ev[64];
    size_t nev = build_events(ev, 0);
    char path[300];
    struct { const char *name; size_t chunk; int raw; } cases[] = {
        { "roundtrip default", 0, 0 }, { "roundtrip small chunks", 100, 0 }, { "roundtrip raw", 0, 1 },
        { "roundtrip raw small chunks", 1, 1 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snprintf(path, sizeof path, "%s/rt%zu.memscope", tmpdir, c);
        ms_writer_opts o = opts_kind(MS_KIND_HEAP);
        o.chunk_bytes = cases[c].chunk;
        int rc = write_all_fixtures(path, &o, cases[c].raw, ev, nev);
        char nm[200];
        snprintf(nm, sizeof nm, "%s: write", cases[c].name);
        CHECK_EQ_U64(nm, 0, (uint64_t)(int64_t)rc);
        ms_reader *r;
        rc = ms_reader_open(&r, path);
        snprintf(nm, sizeof nm, "%s: open", cases[c].name);
        CHECK_EQ_U64(nm, 0, (uint64_t)(int64_t)rc);
        if (rc) continue;
        const ms_header_info *h = ms_reader_header(r);
        snprintf(nm, sizeof nm, "%s: header", cases[c].name);
        CHECK(nm, h->major == 1 && h->minor == MS_FORMAT_MINOR && h->flags == 0 && h->kind == MS_KIND_HEAP);
        check_read(cases[c].name, r, ev, nev, 77);
        ms_integrity in;
        ms_reader_integrity(r, &in);
        struct stat st;
        stat(path, &st);
        snprintf(nm, sizeof nm, "%s: file_size", cases[c].name);
        CHECK_EQ_U64(nm, (uint64_t)st.st_size, in.file_size);
        snprintf(nm, sizeof nm, "%s: chunk count", cases[c].name);
        if (cases[c].chunk == 1)  /* one chunk per record + events + end */
            CHECK_EQ_U64(nm, (uint64_t)nfix + 2, in.chunks_ok);
        else if (cases[c].chunk == 0)
            CHECK_EQ_U64(nm, 3, in.chunks_ok);
        else
            CHECK(nm, in.chunks_ok > 3);
        ms_reader_close(r);
    }
}

/* Check raw byte layout of header and the first envelope. */
static void test_layout(void)
{
    char path[300];
    mkpath(path, sizeof path, "layout.memscope");
    ms_writer_opts o = opts_kind(MS_KIND_SNAPSHOT);
    ms_writer *w;
    CHECK_EQ_U64("layout: open", 0, (uint64_t)(int64_t)ms_writer_open(&w, path, &o));
    CHECK_EQ_U64("layout: offset after header", 24, ms_writer_offset(w));
    ms_writer_set_raw(w, 1);
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SYNC;
    r.u.sync.time = 300;     /* varint ac 02 */
    CHECK_EQ_U64("layout: add", 0, (uint64_t)(int64_t)ms_writer_add(w, &r));
    CHECK_EQ_U64("layout: nothing written before flush", 24, ms_writer_offset(w));
    CHECK_EQ_U64("layout: flush", 0, (uint64_t)(int64_t)ms_writer_flush(w));
    CHECK_EQ_U64("layout: offset after chunk", 24 + 48 + 4, ms_writer_offset(w));
    CHECK_EQ_U64("layout: close", 0, (uint64_t)(int64_t)ms_writer_close(w));
    size_t len;
    unsigned char *b = slurp(path, &len);
    CHECK_EQ_U64("layout: size", 76, len);
    static const unsigned char hdr[20] = { 0x89, 'M', 'S', 'C', 0x0D, 0x0A, 0x1A, 0x0A, 1, 0, MS_FORMAT_MINOR, 0,
                                           0, 0, 0, 0, 2, 0, 24, 0 };
    CHECK("layout: header bytes", memcmp(b, hdr, 20) == 0);
    const unsigned char *e = b + 24;
    CHECK("layout: sync", memcmp(e, "MSCK", 4) == 0);
    CHECK("layout: type/flags/hlen", e[4] == 1 && e[5] == 0 && e[6] == 48 && e[7] == 0);
    CHECK("layout: seq 0 count 1", e[8] == 0 && e[9] == 0 && e[12] == 1 && e[13] == 0);
    CHECK("layout: raw_len = stored_len = 4", e[16] == 4 && e[20] == 4 && e[17] == 0 && e[21] == 0);
    CHECK("layout: t_first = t_last = 300", e[24] == 0x2c && e[25] == 1 && e[32] == 0x2c && e[33] == 1);
    static const unsigned char payload[4] = { 0x0c, 0x02, 0xac, 0x02 };
    CHECK("layout: payload bytes", memcmp(e + 48, payload, 4) == 0);
    free(b);
}

static void test_events_shift(void)
{
    /* addresses with low bits set force shift 0; the chunk's shift byte is
     * the 4th payload varint of a raw EVENTS chunk */
    static const struct { uint64_t or_bits; unsigned shift; } cases[] = {
        { 0, 4 }, { 8, 3 }, { 4, 2 }, { 2, 1 }, { 1, 0 }
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        static ms_event ev[64];
        size_t nev = build_events(ev, cases[c].or_bits);
        char path[300], nm[100];
        snprintf(path, sizeof path, "%s/shift%zu.memscope", tmpdir, c);
        ms_writer_opts o = opts_kind(MS_KIND_HEAP);
        ms_writer *w;
        ms_writer_open(&w, path, &o);
        ms_writer_set_raw(w, 1);
        int rc = ms_writer_events(w, 5, ev, nev);
        ms_writer_close(w);
        snprintf(nm, sizeof nm, "events shift %u: write", cases[c].shift);
        CHECK_EQ_U64(nm, 0, (uint64_t)(int64_t)rc);
        size_t len;
        unsigned char *b = slurp(path, &len);
        const unsigned char *p = b + 24 + 48;   /* tid 5, count, t_base (2 bytes), shift */
        snprintf(nm, sizeof nm, "events shift %u: shift byte", cases[c].shift);
        CHECK(nm, p[0] == 5 && p[1] == nev && p[2] == (0x80 | (1000 & 0x7f)) && p[3] == (1000 >> 7) &&
                  p[4] == cases[c].shift);
        free(b);
        ms_reader *r;
        ms_reader_open(&r, path);
        const ms_record *rec;
        size_t k = 0;
        int ok = 1;
        while (ms_reader_next(r, &rec) == 1) {
            ms_record want;
            memset(&want, 0, sizeof want);
            want.type = MS_REC_EVENT;
            want.u.event = ev[k];
            want.u.event.tid = 5;
            const char *d = rec_diff(&want, rec);
            if (d) { printf("  event %zu differs in %s\n", k, d); ok = 0; }
            k++;
        }
        snprintf(nm, sizeof nm, "events shift %u: round trip", cases[c].shift);
        CHECK(nm, ok && k == nev);
        ms_reader_close(r);
    }
}

/* ms_writer_events_begin/add/end: the same bytes as ms_writer_events when
 * fed in pieces; misuse is refused without writing anything. */
static void test_events_streaming(void)
{
    static ms_event ev[64];
    size_t nev = build_events(ev, 0);
    uint64_t bits = 0;
    for (size_t i = 0; i < nev; i++) {
        bits |= ev[i].addr;
        if (MS_OP_IS_REALLOC(ev[i].op)) bits |= ev[i].old_addr;
    }
    char pa[300], pb[300];
    snprintf(pa, sizeof pa, "%s/stream-a.memscope", tmpdir);
    snprintf(pb, sizeof pb, "%s/stream-b.memscope", tmpdir);
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    ms_writer *wa, *wb;
    ms_writer_open(&wa, pa, &o);
    ms_writer_open(&wb, pb, &o);
    CHECK_EQ_U64("streaming: whole", 0, (uint64_t)(int64_t)ms_writer_events(wa, 9, ev, nev));
    CHECK_EQ_U64("streaming: add before begin", (uint64_t)(int64_t)MS_ESTATE,
                 (uint64_t)(int64_t)ms_writer_events_add(wb, ev, 1));
    CHECK_EQ_U64("streaming: end before begin", (uint64_t)(int64_t)MS_ESTATE,
                 (uint64_t)(int64_t)ms_writer_events_end(wb));
    CHECK_EQ_U64("streaming: begin", 0, (uint64_t)(int64_t)ms_writer_events_begin(wb, 9, bits));
    CHECK_EQ_U64("streaming: second begin", (uint64_t)(int64_t)MS_ESTATE,
                 (uint64_t)(int64_t)ms_writer_events_begin(wb, 9, bits));
    CHECK_EQ_U64("streaming: events while open", (uint64_t)(int64_t)MS_ESTATE,
                 (uint64_t)(int64_t)ms_writer_events(wb, 9, ev, 1));
    ms_event odd = ev[0];
    odd.addr |= 1;                         /* not covered by bits (shift 4) */
    CHECK_EQ_U64("streaming: address not covered", (uint64_t)(int64_t)MS_EINVAL,
                 (uint64_t)(int64_t)ms_writer_events_add(wb, &odd, 1));
    /* a bad event after good ones in the same piece: the whole piece is
     * refused and leaves nothing (columns, block model), so the file still
     * equals the one written whole (compared below) */
    ms_event mixed[4] = { ev[0], ev[1], odd, ev[2] };
    CHECK_EQ_U64("streaming: bad address mid-piece refused", (uint64_t)(int64_t)MS_EINVAL,
                 (uint64_t)(int64_t)ms_writer_events_add(wb, mixed, 4));
    mixed[2] = ev[2];
    mixed[2].op = 0x7E;
    CHECK_EQ_U64("streaming: unknown op mid-piece refused", (uint64_t)(int64_t)MS_EINVAL,
                 (uint64_t)(int64_t)ms_writer_events_add(wb, mixed, 4));
    size_t done = 0, step = 1;
    int rc = 0;
    while (done < nev && rc == 0) {         /* pieces of 1, 2, 3, ... events */
        size_t k = nev - done < step ? nev - done : step;
        rc = ms_writer_events_add(wb, ev + done, k);
        done += k;
        step++;
    }
    CHECK_EQ_U64("streaming: add pieces", 0, (uint64_t)(int64_t)rc);
    CHECK_EQ_U64("streaming: end", 0, (uint64_t)(int64_t)ms_writer_events_end(wb));
    CHECK_EQ_U64("streaming: empty chunk writes nothing", 0,
                 (uint64_t)(int64_t)(ms_writer_events_begin(wb, 9, 0) | ms_writer_events_end(wb)));
    ms_writer_close(wa);
    ms_writer_close(wb);
    size_t la, lb;
    unsigned char *a = slurp(pa, &la), *b = slurp(pb, &lb);
    CHECK("streaming: same bytes as ms_writer_events", a && b && la == lb && memcmp(a, b, la) == 0);
    free(a);
    free(b);

    /* more than 65536 events in one open chunk: MS_ELIMIT */
    snprintf(pb, sizeof pb, "%s/stream-c.memscope", tmpdir);
    ms_writer_open(&wb, pb, &o);
    ms_event *many = calloc(65537, sizeof *many);
    for (size_t i = 0; i < 65537; i++) {
        many[i].op = MS_OP_MALLOC;
        many[i].addr = 0x1000 + 16 * i;
        many[i].time = i;
    }
    ms_writer_events_begin(wb, 1, 0x10);
    CHECK_EQ_U64("streaming: 65536 events fit", 0, (uint64_t)(int64_t)ms_writer_events_add(wb, many, 65536));
    CHECK_EQ_U64("streaming: one more is MS_ELIMIT", (uint64_t)(int64_t)MS_ELIMIT,
                 (uint64_t)(int64_t)ms_writer_events_add(wb, many + 65536, 1));
    CHECK_EQ_U64("streaming: close ends the open chunk", 0, (uint64_t)(int64_t)ms_writer_close(wb));
    ms_reader *r;
    size_t k = 0;
    if (ms_reader_open(&r, pb) == 0) {
        const ms_record *rec;
        while (ms_reader_next(r, &rec) == 1)
            if (rec->type == MS_REC_EVENT && rec->u.event.addr == 0x1000 + 16 * k) k++;
        ms_reader_close(r);
    }
    CHECK_EQ_U64("streaming: 65536 events read back", 65536, k);
    free(many);
}

static void test_many_events(void)
{
    /* 200000 events: 4 chunks of <= 65536, times/tids/chunk info checked */
    size_t n = 200000;
    ms_event *ev = calloc(n, sizeof *ev);
    uint64_t t = 5;
    for (size_t i = 0; i < n; i++) {
        t += i % 97;
        if (i % 2 == 0) ev[i] = mkev(MS_OP_MALLOC, t, 0x555555550000ull + (i % 1000) * 32, i % 300, 0, 1 + i % 4, 0);
        else ev[i] = mkev(MS_OP_FREE, t, 0x555555550000ull + ((i - 1) % 1000) * 32, 0, 0, 0, 0);
    }
    char path[300];
    mkpath(path, sizeof path, "many.memscope");
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    ms_writer *w;
    ms_writer_open(&w, path, &o);
    CHECK_EQ_U64("many events: write", 0, (uint64_t)(int64_t)ms_writer_events(w, 9, ev, n));
    ms_writer_close(w);
    ms_reader *r;
    ms_reader_open(&r, path);
    const ms_record *rec;
    size_t k = 0;
    int ok = 1;
    uint64_t last_seq = 99, nchunks = 0, bad_info = 0;
    while (ms_reader_next(r, &rec) == 1) {
        if (rec->type != MS_REC_EVENT || rec->u.event.time != ev[k].time || rec->u.event.addr != ev[k].addr ||
            rec->u.event.size != ev[k].size || rec->u.event.stack != ev[k].stack || rec->u.event.tid != 9)
            ok = 0;
        if (rec->chunk_seq != last_seq) {
            ms_chunk_info ci;
            ms_reader_chunk(r, &ci);
            if (ci.seq != rec->chunk_seq || ci.offset != rec->chunk_offset || ci.type != MS_CHUNK_EVENTS ||
                ci.t_first != ev[k].time || ci.flags != (1 | 2) /* ZSTD | MODEL (v1.1) */ || ci.stored_len >= ci.raw_len ||
                ci.record_count != (nchunks < 3 ? 65536u : 200000u - 3 * 65536u))
                bad_info++;
            last_seq = rec->chunk_seq;
            nchunks++;
        }
        k++;
    }
    CHECK("many events: all equal", ok && k == n);
    CHECK_EQ_U64("many events: 4 chunks", 4, nchunks);
    CHECK_EQ_U64("many events: chunk info", 0, bad_info);
    ms_integrity in;
    ms_reader_integrity(r, &in);
    CHECK_EQ_U64("many events: no END -> has_end 0", 0, in.has_end);
    CHECK_EQ_U64("many events: verdict", MS_OK, (uint64_t)(int64_t)in.verdict);
    ms_reader_close(r);
    free(ev);
}

static void test_pipe(void)
{
    static ms_event ev[64];
    size_t nev = build_events(ev, 0);
    int fds[2];
    if (pipe(fds) != 0) { CHECK("pipe", 0); return; }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        ms_writer_opts o = opts_kind(MS_KIND_HEAP);
        o.chunk_bytes = 1000;
        ms_writer *w;
        if (ms_writer_fdopen(&w, fds[1], 1, &o)) _exit(1);
        for (int i = 0; i < nfix; i++) if (ms_writer_add(w, &fix[i])) _exit(2);
        if (ms_writer_events(w, 77, ev, nev)) _exit(3);
        ms_record end;
        memset(&end, 0, sizeof end);
        end.type = MS_REC_END;
        if (ms_writer_add(w, &end)) _exit(4);
        _exit(ms_writer_close(w) ? 5 : 0);
    }
    close(fds[1]);
    char dev[64];
    snprintf(dev, sizeof dev, "/dev/fd/%d", fds[0]);
    ms_reader *r;
    int rc = ms_reader_open(&r, dev);
    CHECK_EQ_U64("pipe: open /dev/fd/N", 0, (uint64_t)(int64_t)rc);
    if (rc == 0) {
        check_read("pipe", r, ev, nev, 77);
        ms_reader_close(r);
    }
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    CHECK("pipe: writer exit 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_mem_and_exist(void)
{
    static ms_event ev[64];
    size_t nev = build_events(ev, 0);
    char path[300], link[300];
    mkpath(path, sizeof path, "exist.memscope");
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    CHECK_EQ_U64("exist: first write", 0, (uint64_t)(int64_t)write_all_fixtures(path, &o, 0, ev, nev));
    size_t len;
    unsigned char *b = slurp(path, &len);
    ms_writer *w = (ms_writer *)1;
    CHECK_EQ_U64("exist: EEXIST on existing", (uint64_t)(int64_t)MS_EEXIST,
                 (uint64_t)(int64_t)ms_writer_open(&w, path, &o));
    CHECK("exist: *out NULL on error", w == NULL);
    size_t len2;
    unsigned char *b2 = slurp(path, &len2);
    CHECK("exist: file untouched", len == len2 && memcmp(b, b2, len) == 0);
    free(b2);
    mkpath(link, sizeof link, "link.memscope");
    char target[300];
    mkpath(target, sizeof target, "target-not-there");
    symlink(target, link);
    CHECK_EQ_U64("exist: EEXIST on dangling symlink", (uint64_t)(int64_t)MS_EEXIST,
                 (uint64_t)(int64_t)ms_writer_open(&w, link, &o));
    CHECK("exist: symlink target not created", access(target, F_OK) != 0);
    char link2[300];
    mkpath(link2, sizeof link2, "link2.memscope");
    symlink(path, link2);
    CHECK_EQ_U64("exist: EEXIST on symlink to a file", (uint64_t)(int64_t)MS_EEXIST,
                 (uint64_t)(int64_t)ms_writer_open(&w, link2, &o));
    size_t len3;
    unsigned char *b3 = slurp(path, &len3);
    CHECK("exist: symlinked file untouched", len == len3 && memcmp(b, b3, len) == 0);
    free(b3);
    ms_reader *r;
    CHECK_EQ_U64("mem: open", 0, (uint64_t)(int64_t)ms_reader_open_mem(&r, b, len));
    check_read("mem", r, ev, nev, 77);
    ms_reader_close(r);
    /* abort unlinks */
    mkpath(path, sizeof path, "aborted.memscope");
    ms_writer_open(&w, path, &o);
    ms_writer_abort(w);
    CHECK("abort: file removed", access(path, F_OK) != 0);
    free(b);
}

static void test_strerror(void)
{
    int codes[] = { MS_OK, MS_EIO, MS_ENOMEM, MS_EINVAL, MS_ENOTMS, MS_EVERSION, MS_ETRUNC, MS_ECORRUPT,
                    MS_EUNSUPPORTED, MS_EZSTD, MS_EEXIST, MS_ESTATE, MS_EEMPTY, MS_ELIMIT };
    size_t n = sizeof codes / sizeof codes[0];
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        const char *a = ms_strerror(codes[i]);
        if (!a || !*a) ok = 0;
        for (size_t j = 0; j < i; j++) if (strcmp(a, ms_strerror(codes[j])) == 0) ok = 0;
    }
    CHECK("strerror: distinct non-empty", ok);
    CHECK("strerror: unknown", ms_strerror(-999) && *ms_strerror(-999));
    CHECK_STR("op name malloc", "malloc", ms_op_name(MS_OP_MALLOC));
    CHECK_STR("op name new[]", "operator new[]", ms_op_name(MS_OP_NEW_ARRAY));
    CHECK_STR("op name delete", "operator delete", ms_op_name(MS_OP_DELETE));
    CHECK_STR("op name pvalloc", "pvalloc", ms_op_name(MS_OP_PVALLOC));
    CHECK_STR("op name unknown", "unknown", ms_op_name(0x55));
    CHECK_STR("type name snap_proc", "snap_proc", ms_record_type_name(MS_REC_SNAP_PROC));
    CHECK_STR("type name event", "event", ms_record_type_name(MS_REC_EVENT));
    CHECK_STR("type name string", "string", ms_record_type_name(MS_REC_STRING));
    CHECK_STR("type name unknown", "unknown", ms_record_type_name(0x30));
}

static void test_writer_refuses(void)
{
    char path[300];
    mkpath(path, sizeof path, "refuse.memscope");
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    ms_writer *w;
    ms_writer_open(&w, path, &o);
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_EVENT;
    CHECK_EQ_U64("writer refuses EVENT record", (uint64_t)(int64_t)MS_EINVAL, (uint64_t)(int64_t)ms_writer_add(w, &r));
    r.type = 0x30;
    CHECK_EQ_U64("writer refuses unknown type", (uint64_t)(int64_t)MS_EINVAL, (uint64_t)(int64_t)ms_writer_add(w, &r));
    r.type = MS_REC_MARK;
    r.u.mark.name.ptr = NULL;
    r.u.mark.name.len = 3;
    CHECK_EQ_U64("writer refuses NULL string", (uint64_t)(int64_t)MS_EINVAL, (uint64_t)(int64_t)ms_writer_add(w, &r));
    r.type = MS_REC_STACK;
    memset(&r.u, 0, sizeof r.u);
    r.u.stack.count = 2;
    CHECK_EQ_U64("writer refuses NULL array", (uint64_t)(int64_t)MS_EINVAL, (uint64_t)(int64_t)ms_writer_add(w, &r));
    ms_event e = mkev(0x30, 1, 0, 0, 0, 0, 0);
    CHECK_EQ_U64("writer refuses unknown op", (uint64_t)(int64_t)MS_EINVAL, (uint64_t)(int64_t)ms_writer_events(w, 1, &e, 1));
    ms_writer_opts bad = opts_kind(0);
    ms_writer *w2 = NULL;
    char p2[300];
    mkpath(p2, sizeof p2, "refuse2.memscope");
    CHECK_EQ_U64("writer refuses kind 0", (uint64_t)(int64_t)MS_EINVAL, (uint64_t)(int64_t)ms_writer_open(&w2, p2, &bad));
    CHECK_EQ_U64("refusals leave file valid", 0, (uint64_t)(int64_t)ms_writer_close(w));
    ms_reader *rd;
    CHECK_EQ_U64("refusals: readable", 0, (uint64_t)(int64_t)ms_reader_open(&rd, path));
    const ms_record *rec;
    CHECK_EQ_U64("refusals: empty file of chunks", 0, (uint64_t)(int64_t)ms_reader_next(rd, &rec));
    ms_reader_close(rd);
}

/* hook allocator counts */
static long hook_live, hook_calls;
static void *hook_alloc(size_t n) { hook_calls++; hook_live++; return malloc(n); }
static void hook_free(void *p) { if (p) hook_live--; free(p); }

static void test_alloc_hooks(void)
{
    static ms_event ev[64];
    size_t nev = build_events(ev, 0);
    char path[300];
    mkpath(path, sizeof path, "hooks.memscope");
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    o.alloc_fn = hook_alloc;
    o.free_fn = hook_free;
    o.chunk_bytes = 2000;
    CHECK_EQ_U64("hooks: write", 0, (uint64_t)(int64_t)write_all_fixtures(path, &o, 0, ev, nev));
    CHECK("hooks: used", hook_calls > 3);   /* writer, buffers, zstd context */
    CHECK_EQ_U64("hooks: all freed", 0, (uint64_t)hook_live);
    ms_reader *r;
    ms_reader_open(&r, path);
    check_read("hooks", r, ev, nev, 77);
    ms_reader_close(r);
}

/* An allocator that fails from the writer's creation on (RLIMIT_AS in
 * the recorder): every record added then fails, but after
 * ms_writer_recover a small END and its uncompressed flush need no
 * allocation and reach the file. */
static int fail_now;
static void *fail_alloc(size_t n) { return fail_now ? NULL : malloc(n); }

static void test_room_for_end(void)
{
    char path[300];
    mkpath(path, sizeof path, "room.memscope");
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    o.alloc_fn = fail_alloc;
    o.free_fn = free;
    fail_now = 0;
    ms_writer *w = NULL;
    CHECK_EQ_U64("room: open", 0, (uint64_t)(int64_t)ms_writer_open(&w, path, &o));
    if (!w) return;
    fail_now = 1;
    static char big[8000];
    memset(big, 'x', sizeof big - 1);
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_MARK;
    r.u.mark.time = 2;
    r.u.mark.name = S(big);
    CHECK_EQ_U64("room: big record has no buffer", (uint64_t)(int64_t)MS_ENOMEM,
                 (uint64_t)(int64_t)ms_writer_add(w, &r));
    ms_writer_stats st;
    ms_writer_get_stats(w, &st);
    CHECK_EQ_U64("room: counted", 1, st.write_errors);
    CHECK_EQ_U64("room: errno", ENOMEM, (uint64_t)st.first_errno);
    ms_writer_recover(w);
    ms_writer_set_raw(w, 1);
    memset(&r, 0, sizeof r);
    r.type = MS_REC_END;
    r.u.end.time = 3;
    r.u.end.n_events = 123456789;
    r.u.end.events_lost = 123456789;
    r.u.end.write_errors = 1;
    r.u.end.first_errno = ENOMEM;
    uint64_t chunks = ms_writer_chunks(w);
    CHECK_EQ_U64("room: END added without memory", 0, (uint64_t)(int64_t)ms_writer_add(w, &r));
    CHECK_EQ_U64("room: END flushed", 0, (uint64_t)(int64_t)ms_writer_flush(w));
    CHECK_EQ_U64("room: END chunk written", chunks + 1, ms_writer_chunks(w));
    ms_writer_close(w);
    fail_now = 0;
    ms_reader *rd = NULL;
    CHECK_EQ_U64("room: readable", 0, (uint64_t)(int64_t)ms_reader_open(&rd, path));
    if (!rd) return;
    const ms_record *rec;
    int others = 0, ends = 0;
    while (ms_reader_next(rd, &rec) > 0) {
        if (rec->type == MS_REC_END && rec->u.end.events_lost == 123456789 &&
            rec->u.end.first_errno == ENOMEM)
            ends++;
        else
            others++;
    }
    ms_reader_close(rd);
    CHECK_EQ_U64("room: END in the file", 1, (uint64_t)ends);
    CHECK_EQ_U64("room: nothing else", 0, (uint64_t)others);
}

static void test_open_errors(void)
{
    ms_reader *r = (ms_reader *)1;
    CHECK_EQ_U64("open: empty", (uint64_t)(int64_t)MS_EEMPTY, (uint64_t)(int64_t)ms_reader_open_mem(&r, "", 0));
    CHECK("open: out NULL", r == NULL);
    CHECK_EQ_U64("open: not ms", (uint64_t)(int64_t)MS_ENOTMS, (uint64_t)(int64_t)ms_reader_open_mem(&r, "hello world, this is text", 25));
    CHECK_EQ_U64("open: short prefix", (uint64_t)(int64_t)MS_ETRUNC, (uint64_t)(int64_t)ms_reader_open_mem(&r, "\x89MSC\r", 5));
    CHECK_EQ_U64("open: short non-prefix", (uint64_t)(int64_t)MS_ENOTMS, (uint64_t)(int64_t)ms_reader_open_mem(&r, "\x89MSX", 4));
    unsigned char h[24] = { 0x89, 'M', 'S', 'C', 0x0D, 0x0A, 0x1A, 0x0A, 2, 0, 3, 0, 0, 0, 0, 0, 1, 0, 24, 0 };
    CHECK_EQ_U64("open: version 2", (uint64_t)(int64_t)MS_EVERSION, (uint64_t)(int64_t)ms_reader_open_mem(&r, h, 24));
    CHECK("open: version message", strstr(ms_reader_open_error(), "2.3") && strstr(ms_reader_open_error(), "1."));
    CHECK_EQ_U64("open: crlf-converted", (uint64_t)(int64_t)MS_ENOTMS,
                 (uint64_t)(int64_t)ms_reader_open_mem(&r, "\x89MSC\n\x1a\n\x01\x00", 10));
    CHECK_EQ_U64("open: missing file", (uint64_t)(int64_t)MS_EIO, (uint64_t)(int64_t)ms_reader_open(&r, "/nonexistent/x.memscope"));
}

/* Build a multi-chunk file in memory for damage tests. Returns buffer and
 * chunk offsets. Each RECORDS chunk holds one SYNC record (raw mode). */
static unsigned char *make_chunks(size_t *len, uint64_t *offs, int nchunks, int raw)
{
    char path[300];
    static int serial;
    snprintf(path, sizeof path, "%s/dmg%d.memscope", tmpdir, serial++);
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    o.chunk_bytes = 1;
    ms_writer *w;
    ms_writer_open(&w, path, &o);
    if (raw) ms_writer_set_raw(w, 1);
    for (int i = 0; i < nchunks; i++) {
        offs[i] = ms_writer_offset(w);
        ms_record r;
        memset(&r, 0, sizeof r);
        if (i == nchunks - 1) { r.type = MS_REC_END; r.u.end.time = (uint64_t)i; }
        else { r.type = MS_REC_MARK; r.u.mark.time = (uint64_t)i; r.u.mark.name = S("a fairly long phase name, repeated repeated repeated repeated"); }
        ms_writer_add(w, &r);
    }
    offs[nchunks] = ms_writer_offset(w);
    ms_writer_close(w);
    return slurp(path, len);
}

static void read_times(ms_reader *r, uint64_t *times, int *n)
{
    const ms_record *rec;
    *n = 0;
    while (ms_reader_next(r, &rec) == 1)
        times[(*n)++] = rec->type == MS_REC_END ? rec->u.end.time : rec->u.mark.time;
}

static void test_damage(void)
{
    uint64_t offs[11], times[16];
    size_t len;
    int n;
    for (int raw = 0; raw <= 1; raw++) {
        unsigned char *b = make_chunks(&len, offs, 10, raw);
        char nm[200];
        const char *mode = raw ? "raw" : "zstd";
        /* cut in the middle of chunk 6 */
        size_t cut = (size_t)(offs[6] + 60);
        ms_reader *r;
        struct problems pr = { 0 };
        ms_reader_open_mem(&r, b, cut);
        ms_reader_on_problem(r, on_problem, &pr);
        read_times(r, times, &n);
        ms_integrity in;
        ms_reader_integrity(r, &in);
        snprintf(nm, sizeof nm, "cut %s: prefix delivered", mode);
        CHECK(nm, n == 6 && times[0] == 0 && times[5] == 5);
        snprintf(nm, sizeof nm, "cut %s: verdict ETRUNC", mode);
        CHECK_EQ_U64(nm, (uint64_t)(int64_t)MS_ETRUNC, (uint64_t)(int64_t)in.verdict);
        snprintf(nm, sizeof nm, "cut %s: trunc_offset", mode);
        CHECK_EQ_U64(nm, offs[6], in.trunc_offset);
        snprintf(nm, sizeof nm, "cut %s: records_lost 1, bytes_lost 60", mode);
        CHECK(nm, in.records_lost == 1 && in.bytes_lost == 60 && in.chunks_ok == 6 && in.chunks_bad == 0);
        snprintf(nm, sizeof nm, "cut %s: no end", mode);
        CHECK(nm, in.has_end == 0 && in.file_size == cut);
        snprintf(nm, sizeof nm, "cut %s: one problem callback", mode);
        CHECK(nm, pr.n == 1 && pr.err[0] == MS_ETRUNC && pr.off[0] == offs[6]);
        ms_reader_close(r);

        /* cut inside an envelope (< 48 bytes left) */
        cut = (size_t)(offs[3] + 20);
        ms_reader_open_mem(&r, b, cut);
        read_times(r, times, &n);
        ms_reader_integrity(r, &in);
        snprintf(nm, sizeof nm, "cut %s in envelope", mode);
        CHECK(nm, n == 3 && in.verdict == MS_ETRUNC && in.trunc_offset == offs[3] && in.bytes_lost == 20 &&
                  in.records_lost == 0);
        ms_reader_close(r);

        /* flip a payload byte of chunk 4 */
        unsigned char *c = malloc(len);
        memcpy(c, b, len);
        c[offs[4] + 48 + 2] ^= 0x40;
        memset(&pr, 0, sizeof pr);
        ms_reader_open_mem(&r, c, len);
        ms_reader_on_problem(r, on_problem, &pr);
        read_times(r, times, &n);
        ms_reader_integrity(r, &in);
        snprintf(nm, sizeof nm, "flip payload %s: later chunks delivered", mode);
        CHECK(nm, n == 9 && times[3] == 3 && times[4] == 5 && times[8] == 9);
        snprintf(nm, sizeof nm, "flip payload %s: verdict ECORRUPT at chunk", mode);
        CHECK(nm, in.verdict == MS_ECORRUPT && in.first_bad_offset == offs[4]);
        snprintf(nm, sizeof nm, "flip payload %s: counts", mode);
        CHECK(nm, in.chunks_bad == 1 && in.records_lost == 1 && in.bytes_lost == offs[5] - offs[4] &&
                  in.chunks_ok == 9 && in.has_end == 1);
        snprintf(nm, sizeof nm, "flip payload %s: callback", mode);
        CHECK(nm, pr.n == 1 && pr.err[0] == MS_ECORRUPT && pr.off[0] == offs[4]);
        ms_reader_close(r);

        /* flip an envelope byte of chunk 2: resync scan */
        memcpy(c, b, len);
        c[offs[2] + 13] ^= 0x01;
        memset(&pr, 0, sizeof pr);
        ms_reader_open_mem(&r, c, len);
        ms_reader_on_problem(r, on_problem, &pr);
        read_times(r, times, &n);
        ms_reader_integrity(r, &in);
        snprintf(nm, sizeof nm, "flip envelope %s: resync", mode);
        CHECK(nm, n == 9 && times[2] == 3 && in.verdict == MS_ECORRUPT && in.first_bad_offset == offs[2] &&
                  in.chunks_bad == 1 && in.bytes_lost == offs[3] - offs[2] && in.has_end == 1);
        snprintf(nm, sizeof nm, "flip envelope %s: callback", mode);
        CHECK(nm, pr.n == 1 && pr.err[0] == MS_ECORRUPT && pr.off[0] == offs[2]);
        ms_reader_close(r);

        /* corruption in the middle wins over a cut tail */
        memcpy(c, b, len);
        c[offs[4] + 48 + 2] ^= 0x40;
        ms_reader_open_mem(&r, c, (size_t)offs[8] + 50);
        read_times(r, times, &n);
        ms_reader_integrity(r, &in);
        snprintf(nm, sizeof nm, "corrupt+cut %s: verdict ECORRUPT", mode);
        CHECK(nm, n == 7 && in.verdict == MS_ECORRUPT && in.first_bad_offset == offs[4] &&
                  in.trunc_offset == offs[8] && in.records_lost == 2);
        ms_reader_close(r);

        /* a chunk removed: sequence gap */
        size_t gl = len - (size_t)(offs[6] - offs[5]);
        memcpy(c, b, (size_t)offs[5]);
        memcpy(c + offs[5], b + offs[6], len - (size_t)offs[6]);
        ms_reader_open_mem(&r, c, gl);
        read_times(r, times, &n);
        ms_reader_integrity(r, &in);
        snprintf(nm, sizeof nm, "seq gap %s", mode);
        CHECK(nm, n == 9 && in.verdict == MS_ECORRUPT && in.chunks_bad == 1 && in.first_bad_offset == offs[5] &&
                  in.bytes_lost == 0);
        ms_reader_close(r);

        /* garbage tail of zeros after a complete file: corrupt, all kept */
        unsigned char *z = calloc(1, len + 100);
        memcpy(z, b, len);
        ms_reader_open_mem(&r, z, len + 100);
        read_times(r, times, &n);
        ms_reader_integrity(r, &in);
        snprintf(nm, sizeof nm, "zero tail %s", mode);
        CHECK(nm, n == 10 && in.verdict == MS_ECORRUPT && in.bytes_lost == 100 && in.first_bad_offset == len &&
                  in.has_end == 1);
        ms_reader_close(r);
        free(z);
        free(c);
        free(b);
    }
}


/* ---- hand-built files (spec rules the writer never exercises) ----------- */

#include <xxhash.h>
#include <zstd.h>

typedef struct { unsigned char b[1 << 16]; size_t n; uint32_t seq; } fbuf;

static void put_le(unsigned char *p, uint64_t v, int n) { for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t c32(const void *p, size_t n) { return (uint32_t)XXH3_64bits(p, n); }

static void f_header(fbuf *f, uint16_t major, uint32_t flags, uint16_t hlen)
{
    memset(f->b, 0, sizeof f->b);
    memcpy(f->b, "\x89MSC\r\n\x1a\n", 8);
    put_le(f->b + 8, major, 2);
    put_le(f->b + 10, 0, 2);
    put_le(f->b + 12, flags, 4);
    put_le(f->b + 16, 1, 2);
    put_le(f->b + 18, hlen, 2);
    put_le(f->b + 20, c32(f->b, 20), 4);
    f->n = hlen;
    f->seq = 0;
}

/* append a chunk; ext = extra envelope bytes; zstd = compress the payload */
static void f_chunk(fbuf *f, unsigned type, unsigned flags, uint32_t count, const void *pl, size_t len,
                    unsigned ext, int zstd)
{
    unsigned char *e = f->b + f->n;
    unsigned char z[4096];
    const void *stored = pl;
    size_t slen = len;
    if (zstd) {
        slen = ZSTD_compress(z, sizeof z, pl, len, 3);
        stored = z;
        flags |= 1;
    }
    memcpy(e, "MSCK", 4);
    e[4] = (unsigned char)type;
    e[5] = (unsigned char)flags;
    put_le(e + 6, 48 + ext, 2);
    put_le(e + 8, f->seq++, 4);
    put_le(e + 12, count, 4);
    put_le(e + 16, len, 4);
    put_le(e + 20, slen, 4);
    put_le(e + 24, 0, 8);
    put_le(e + 32, 0, 8);
    put_le(e + 40, c32(stored, slen), 4);
    put_le(e + 44, c32(e, 44), 4);
    memset(e + 48, 0xEE, ext);
    memcpy(e + 48 + ext, stored, slen);
    f->n += 48 + ext + slen;
}

/* a RECORDS payload with one SYNC(time) record */
static size_t sync_rec(unsigned char *p, uint64_t time)
{
    p[0] = 0x0C;
    size_t n = 0;
    unsigned char v[10];
    while (time >= 0x80) { v[n++] = (unsigned char)(time | 0x80); time >>= 7; }
    v[n++] = (unsigned char)time;
    p[1] = (unsigned char)n;
    memcpy(p + 2, v, n);
    return 2 + n;
}

struct rd_result { int rc, n, types[32]; uint64_t times[32]; ms_integrity in; struct problems pr; };

static void rd_all(const fbuf *f, struct rd_result *res)
{
    memset(res, 0, sizeof *res);
    ms_reader *r;
    res->rc = ms_reader_open_mem(&r, f->b, f->n);
    if (res->rc) return;
    ms_reader_on_problem(r, on_problem, &res->pr);
    const ms_record *rec;
    while ((res->rc = ms_reader_next(r, &rec)) == 1) {
        if (res->n < 32) {
            res->types[res->n] = (int)rec->type;
            res->times[res->n] = rec->type == MS_REC_SYNC ? rec->u.sync.time :
                                 rec->type == MS_REC_MARK ? rec->u.mark.time : 0;
        }
        res->n++;
    }
    ms_reader_integrity(r, &res->in);
    ms_reader_close(r);
}

static fbuf F;

static void test_crafted(void)
{
    unsigned char pl[512];
    size_t n;
    struct rd_result res;

    /* baseline: header extension + envelope extension are skipped */
    f_header(&F, 1, 0x00010000u /* ignorable */, 30);
    n = sync_rec(pl, 5);
    f_chunk(&F, 1, 0xF0 /* ignorable bits */, 1, pl, n, 8, 0);
    n = sync_rec(pl, 6);
    f_chunk(&F, 1, 0, 1, pl, n, 0, 1);
    rd_all(&F, &res);
    CHECK("crafted: header/envelope extensions skipped",
          res.rc == 0 && res.n == 2 && res.times[0] == 5 && res.times[1] == 6 && res.in.verdict == MS_OK);

    /* must-understand header flag */
    f_header(&F, 1, 0x1, 24);
    ms_reader *r;
    CHECK_EQ_U64("crafted: header must-understand flag", (uint64_t)(int64_t)MS_EUNSUPPORTED,
                 (uint64_t)(int64_t)ms_reader_open_mem(&r, F.b, F.n));
    /* header checksum */
    f_header(&F, 1, 0, 24);
    F.b[16] = 2;
    CHECK_EQ_U64("crafted: header checksum", (uint64_t)(int64_t)MS_ECORRUPT,
                 (uint64_t)(int64_t)ms_reader_open_mem(&r, F.b, F.n));
    /* header_len > file */
    f_header(&F, 1, 0, 40);
    CHECK_EQ_U64("crafted: header_len past end", (uint64_t)(int64_t)MS_ETRUNC,
                 (uint64_t)(int64_t)ms_reader_open_mem(&r, F.b, 30));
    f_header(&F, 1, 0, 20);
    CHECK_EQ_U64("crafted: header_len < 24", (uint64_t)(int64_t)MS_ECORRUPT,
                 (uint64_t)(int64_t)ms_reader_open_mem(&r, F.b, 24));

    /* optional chunk skipped with a notice; optional record skipped */
    f_header(&F, 1, 0, 24);
    n = sync_rec(pl, 1);
    f_chunk(&F, 1, 0, 1, pl, n, 0, 0);
    f_chunk(&F, 0x80, 0, 0, "whatever", 8, 0, 0);
    n = 0;
    pl[n++] = 0x40; pl[n++] = 3; pl[n++] = 1; pl[n++] = 2; pl[n++] = 3;   /* optional record */
    pl[n++] = 0x7F; pl[n++] = 0;                                            /* EVENT pseudo type: optional */
    n += sync_rec(pl + n, 2);
    f_chunk(&F, 1, 0, 3, pl, n, 0, 0);
    rd_all(&F, &res);
    CHECK("crafted: optional chunk skipped", res.rc == 0 && res.n == 2 && res.times[1] == 2 &&
          res.in.chunks_skipped == 1 && res.in.verdict == MS_OK && res.pr.n == 1 && res.pr.err[0] == MS_OK);

    /* unknown must-understand chunk type: stop after earlier records */
    f_header(&F, 1, 0, 24);
    n = sync_rec(pl, 1);
    f_chunk(&F, 1, 0, 1, pl, n, 0, 0);
    f_chunk(&F, 0x03, 0, 0, "x", 1, 0, 0);
    f_chunk(&F, 1, 0, 1, pl, n, 0, 0);
    rd_all(&F, &res);
    CHECK("crafted: must-understand chunk type stops", res.rc == MS_EUNSUPPORTED && res.n == 1 &&
          strstr(ms_reader_open_error(), "0x03"));
    /* must-understand chunk flag */
    f_header(&F, 1, 0, 24);
    f_chunk(&F, 1, 0x2, 1, pl, n, 0, 0);
    rd_all(&F, &res);
    CHECK("crafted: must-understand chunk flag stops", res.rc == MS_EUNSUPPORTED && res.n == 0);

    /* unknown must-understand record type 0x11: earlier records delivered */
    f_header(&F, 1, 0, 24);
    n = sync_rec(pl, 7);
    pl[n++] = 0x11; pl[n++] = 0;
    n += sync_rec(pl + n, 8);
    f_chunk(&F, 1, 0, 3, pl, n, 0, 0);
    rd_all(&F, &res);
    CHECK("crafted: must-understand record stops", res.rc == MS_EUNSUPPORTED && res.n == 1 && res.times[0] == 7);

    /* older writer: missing trailing fields are zero/empty; newer writer:
     * extra trailing bytes ignored; non-minimal varints accepted */
    f_header(&F, 1, 0, 24);
    n = 0;
    pl[n++] = 0x0A; pl[n++] = 1; pl[n++] = 9;                                  /* MARK time=9 only */
    pl[n++] = 0x0A; pl[n++] = 8; pl[n++] = 10; pl[n++] = 4; pl[n++] = 1; pl[n++] = 'x';
    pl[n++] = 0xAA; pl[n++] = 0xBB; pl[n++] = 0xCC; pl[n++] = 0xDD;           /* + 4 unknown bytes */
    pl[n++] = 0x0C; pl[n++] = 3; pl[n++] = 0x8B; pl[n++] = 0x80; pl[n++] = 0x00;  /* SYNC 11, 3-byte varint */
    pl[n++] = 0x0C; pl[n++] = 0;                                                /* SYNC, no fields */
    f_chunk(&F, 1, 0, 4, pl, n, 0, 0);
    {
        ms_reader_open_mem(&r, F.b, F.n);
        const ms_record *rec;
        int ok = 1;
        if (ms_reader_next(r, &rec) != 1 || rec->type != MS_REC_MARK || rec->u.mark.time != 9 ||
            rec->u.mark.tid != 0 || !rec->u.mark.name.ptr || rec->u.mark.name.len != 0 || rec->u.mark.name.ptr[0])
            ok = 0;
        CHECK("crafted: missing fields are zero/empty", ok);
        ok = ms_reader_next(r, &rec) == 1 && rec->u.mark.time == 10 && rec->u.mark.tid == 4 &&
             rec->u.mark.name.len == 1 && rec->u.mark.name.ptr[0] == 'x';
        CHECK("crafted: extra trailing bytes ignored", ok);
        ok = ms_reader_next(r, &rec) == 1 && rec->type == MS_REC_SYNC && rec->u.sync.time == 11;
        CHECK("crafted: non-minimal varint accepted", ok);
        ok = ms_reader_next(r, &rec) == 1 && rec->type == MS_REC_SYNC && rec->u.sync.time == 0;
        CHECK("crafted: empty body", ok);
        CHECK("crafted: end", ms_reader_next(r, &rec) == 0);
        ms_reader_close(r);
    }

    /* malformed records inside checksum-valid chunks: each chunk is corrupt,
     * the good chunk after it is still delivered */
    static const struct { const char *name; unsigned char b[16]; size_t n; uint32_t count; } bad[] = {
        { "record type 0", { 0x00, 0 }, 2, 1 },
        { "body past payload", { 0x0C, 5, 1 }, 3, 1 },
        { "varint 11 bytes", { 0x0C, 11, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0 }, 13, 1 },
        { "varint overflow", { 0x0C, 10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02 }, 12, 1 },
        { "field cut inside varint", { 0x0C, 1, 0x80 }, 3, 1 },
        { "u32 field too big", { 0x09 - 0x09 + 0x0D, 7, 0, 0x80, 0x80, 0x80, 0x80, 0x10 }, 8, 1 },
        { "string past body", { 0x0A, 4, 1, 2, 5, 'a' }, 6, 1 },
        { "array count past body", { 0x05, 3, 1, 0x7F, 0 }, 5, 1 },
        { "record_count mismatch", { 0x0C, 1, 1 }, 3, 2 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f_header(&F, 1, 0, 24);
        f_chunk(&F, 1, 0, bad[i].count, bad[i].b, bad[i].n, 0, 0);
        uint64_t off2 = F.n;
        n = sync_rec(pl, 3);
        f_chunk(&F, 1, 0, 1, pl, n, 0, 0);
        rd_all(&F, &res);
        char nm[120];
        snprintf(nm, sizeof nm, "crafted corrupt: %s", bad[i].name);
        CHECK(nm, res.rc == 0 && res.n == 1 && res.times[0] == 3 && res.in.verdict == MS_ECORRUPT &&
                  res.in.first_bad_offset == 24 && res.in.chunks_bad == 1 && res.in.records_lost == bad[i].count &&
                  res.in.bytes_lost == off2 - 24 && res.in.chunks_ok == 1);
    }

    /* EVENTS: hand-built payloads */
    {
        /* tid 3, count 2, t_base 100, shift 4; ops malloc, free */
        static const unsigned char good[] = { 3, 2, 100, 4,
            2, 0x10, 0x00,          /* ops */
            2, 0, 5,                /* time: +0, +5 */
            2, 0x02, 0x00,          /* addr: zz(1) -> a=1 (addr 16), +0 */
            1, 24,                  /* size */
            1, 7,                   /* stack */
            0,                      /* align */
            0 };                    /* old */
        f_header(&F, 1, 0, 24);
        f_chunk(&F, 2, 0, 2, good, sizeof good, 0, 0);
        ms_reader_open_mem(&r, F.b, F.n);
        const ms_record *rec;
        int ok = ms_reader_next(r, &rec) == 1 && rec->type == MS_REC_EVENT && rec->u.event.op == MS_OP_MALLOC &&
                 rec->u.event.time == 100 && rec->u.event.addr == 16 && rec->u.event.size == 24 &&
                 rec->u.event.stack == 7 && rec->u.event.tid == 3;
        ok = ok && ms_reader_next(r, &rec) == 1 && rec->u.event.op == MS_OP_FREE && rec->u.event.time == 105 &&
             rec->u.event.addr == 16 && rec->u.event.size == 0 && rec->u.event.stack == 0;
        ok = ok && ms_reader_next(r, &rec) == 0;
        CHECK("crafted events: decode by the spec", ok);
        ms_reader_close(r);

        struct { const char *name; int at; unsigned char v; uint32_t count; } mut[] = {
            { "count mismatch", -1, 0, 3 },
            { "shift 13", 3, 13, 2 },
            { "unknown op", 5, 0x20, 2 },
            { "time column short", 8, 0x85, 2 },   /* 0 then 0x85: unterminated */
            { "size column count", 13, 0, 2 },     /* size column length 0 */
        };
        for (size_t i = 0; i < sizeof mut / sizeof mut[0]; i++) {
            unsigned char b[sizeof good + 4];
            memcpy(b, good, sizeof good);
            size_t bn = sizeof good;
            if (mut[i].at >= 0) b[mut[i].at] = mut[i].v;
            if (i == 4) { memmove(b + 14, b + 15, bn - 15); bn--; }
            f_header(&F, 1, 0, 24);
            f_chunk(&F, 2, 0, mut[i].count, b, bn, 0, 0);
            n = sync_rec(pl, 3);
            f_chunk(&F, 1, 0, 1, pl, n, 0, 0);
            rd_all(&F, &res);
            char nm[120];
            snprintf(nm, sizeof nm, "crafted events corrupt: %s", mut[i].name);
            CHECK(nm, res.rc == 0 && res.n == 1 && res.in.verdict == MS_ECORRUPT && res.in.chunks_bad == 1 &&
                      res.in.first_bad_offset == 24);
        }
    }

    /* zstd payload with a trailing byte / wrong raw_len */
    {
        f_header(&F, 1, 0, 24);
        n = sync_rec(pl, 1);
        f_chunk(&F, 1, 0, 1, pl, n, 0, 1);
        unsigned char *e = F.b + 24;
        uint32_t slen = (uint32_t)(e[20] | e[21] << 8);
        F.b[F.n++] = 0;                         /* trailing byte after the frame */
        put_le(e + 20, slen + 1, 4);
        put_le(e + 40, c32(e + 48, slen + 1), 4);
        put_le(e + 44, c32(e, 44), 4);
        rd_all(&F, &res);
        CHECK("crafted: zstd trailing byte corrupt", res.n == 0 && res.in.verdict == MS_ECORRUPT && res.in.chunks_bad == 1);
        f_header(&F, 1, 0, 24);
        f_chunk(&F, 1, 0, 1, pl, n, 0, 1);
        put_le(e + 16, n + 1, 4);
        put_le(e + 44, c32(e, 44), 4);
        rd_all(&F, &res);
        CHECK("crafted: zstd raw_len mismatch corrupt", res.n == 0 && res.in.verdict == MS_ECORRUPT);
    }

    /* sequence going back: reported, chunk still delivered */
    f_header(&F, 1, 0, 24);
    n = sync_rec(pl, 1);
    f_chunk(&F, 1, 0, 1, pl, n, 0, 0);
    F.seq = 0;
    f_chunk(&F, 1, 0, 1, pl, n, 0, 0);
    rd_all(&F, &res);
    CHECK("crafted: sequence goes back", res.n == 2 && res.in.verdict == MS_ECORRUPT && res.in.chunks_bad == 0 &&
          res.in.first_bad_offset == 24 + 48 + n);
}

/* Random damage must never crash, hang, or break the API's promises. */
static void test_mutations(void)
{
    static ms_event ev[64];
    size_t nev = build_events(ev, 0);
    char path[300];
    mkpath(path, sizeof path, "mut.memscope");
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    o.chunk_bytes = 300;
    write_all_fixtures(path, &o, 0, ev, nev);
    size_t len;
    unsigned char *b = slurp(path, &len);
    unsigned char *c = malloc(len);
    uint64_t seed = 12345;
    int bad = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(c, b, len);
        size_t cl = len;
        int nflip = 1 + it % 4;
        for (int k = 0; k < nflip; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t pos = 24 + (size_t)((seed >> 20) % (len - 24));
            c[pos] ^= (unsigned char)(1u << ((seed >> 8) & 7));
        }
        if (it % 5 == 0) cl = 24 + (size_t)((seed >> 33) % (len - 24));
        ms_reader *r;
        if (ms_reader_open_mem(&r, c, cl)) { bad++; continue; }
        const ms_record *rec;
        int rc;
        while ((rc = ms_reader_next(r, &rec)) == 1) { }
        ms_integrity in;
        ms_reader_integrity(r, &in);
        if (rc != 0 || (in.verdict != MS_OK && in.verdict != MS_ETRUNC && in.verdict != MS_ECORRUPT)) bad++;
        if (cl == len && in.verdict == MS_OK) bad++;   /* a flip in a chunk is always detected */
        ms_reader_close(r);
    }
    CHECK_EQ_U64("mutations: handled, all damage detected", 0, bad);
    free(c);
    free(b);
}

static void test_eio_and_steady_state(void)
{
    char path[300];
    mkpath(path, sizeof path, "eio.memscope");
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    ms_writer *w;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK_EQ_U64("eio: fdopen", 0, (uint64_t)(int64_t)ms_writer_fdopen(&w, fd, 1, &o));
    int full = open("/dev/full", O_WRONLY);
    if (full >= 0) {
        dup2(full, fd);
        close(full);
        ms_record r;
        memset(&r, 0, sizeof r);
        r.type = MS_REC_SYNC;
        CHECK_EQ_U64("eio: add buffers", 0, (uint64_t)(int64_t)ms_writer_add(w, &r));
        CHECK_EQ_U64("eio: flush fails", (uint64_t)(int64_t)MS_EIO, (uint64_t)(int64_t)ms_writer_flush(w));
        CHECK_EQ_U64("eio: sticky add", (uint64_t)(int64_t)MS_EIO, (uint64_t)(int64_t)ms_writer_add(w, &r));
        ms_event e = mkev(MS_OP_MALLOC, 1, 16, 1, 0, 1, 0);
        CHECK_EQ_U64("eio: sticky events", (uint64_t)(int64_t)MS_EIO, (uint64_t)(int64_t)ms_writer_events(w, 1, &e, 1));
        CHECK_EQ_U64("eio: close reports", (uint64_t)(int64_t)MS_EIO, (uint64_t)(int64_t)ms_writer_close(w));
        int fd2 = open("/dev/full", O_WRONLY);
        ms_writer *w2 = (ms_writer *)1;
        CHECK_EQ_U64("eio: header write fails", (uint64_t)(int64_t)MS_EIO,
                     (uint64_t)(int64_t)ms_writer_fdopen(&w2, fd2, 0, &o));
        CHECK("eio: out NULL", w2 == NULL);
        close(fd2);
    } else {
        ms_writer_close(w);
    }

    /* no allocation per chunk once buffers have grown */
    static ms_event ev[5000];
    for (int i = 0; i < 5000; i++)
        ev[i] = mkev(i % 2 ? MS_OP_FREE : MS_OP_MALLOC, (uint64_t)i * 40, 0x5555000000ull + (uint64_t)(i / 2 % 50) * 64,
                     i % 2 ? 0 : (uint64_t)(i % 200), 0, i % 2 ? 0 : (uint64_t)(1 + i % 3), 0);
    mkpath(path, sizeof path, "steady.memscope");
    o.alloc_fn = hook_alloc;
    o.free_fn = hook_free;
    o.chunk_bytes = 4096;
    hook_calls = 0;
    ms_writer_open(&w, path, &o);
    ms_record mk;
    memset(&mk, 0, sizeof mk);
    mk.type = MS_REC_MARK;
    mk.u.mark.name = S("some phase name that is not too short");
    for (int round = 0; round < 3; round++) {
        for (int j = 0; j < 200; j++) ms_writer_add(w, &mk);
        ms_writer_events(w, 1, ev, 5000);
    }
    long before = hook_calls;
    for (int round = 0; round < 20; round++) {
        for (int j = 0; j < 200; j++) ms_writer_add(w, &mk);
        ms_writer_events(w, 1, ev, 5000);
    }
    CHECK_EQ_U64("steady state: no allocation per chunk", (uint64_t)before, (uint64_t)hook_calls);
    CHECK_EQ_U64("steady state: close", 0, (uint64_t)(int64_t)ms_writer_close(w));
    CHECK_EQ_U64("steady state: all freed", 0, (uint64_t)hook_live);
}

/* The streaming paths (file, pipe) must agree with the memory path on a
 * damaged file whose chunks and corrupt regions exceed the input buffer. */
struct summary { int rc; uint64_t n, hash; ms_integrity in; int np; };

static void summarize(ms_reader *r, struct summary *s)
{
    const ms_record *rec;
    memset(s, 0, sizeof *s);
    struct problems pr = { 0 };
    ms_reader_on_problem(r, on_problem, &pr);
    while ((s->rc = ms_reader_next(r, &rec)) == 1) {
        s->n++;
        s->hash = s->hash * 31 + rec->type + (rec->type == MS_REC_EVENT ? rec->u.event.addr + rec->u.event.time : 0);
    }
    ms_reader_integrity(r, &s->in);
    s->np = pr.n;
}

static int same_summary(const struct summary *a, const struct summary *b)
{
    return a->rc == b->rc && a->n == b->n && a->hash == b->hash && a->np == b->np &&
           a->in.verdict == b->in.verdict && a->in.chunks_ok == b->in.chunks_ok &&
           a->in.chunks_bad == b->in.chunks_bad && a->in.records_lost == b->in.records_lost &&
           a->in.bytes_lost == b->in.bytes_lost && a->in.first_bad_offset == b->in.first_bad_offset &&
           a->in.trunc_offset == b->in.trunc_offset && a->in.has_end == b->in.has_end &&
           a->in.file_size == b->in.file_size;
}

static void test_streaming_damage(void)
{
    size_t n = 400000;
    ms_event *ev = calloc(n, sizeof *ev);
    for (size_t i = 0; i < n; i++)
        ev[i] = mkev(MS_OP_MALLOC, i * 1000003, (i * 0x9E3779B97F4A7C15ull) & ~15ull, i * 7919, 0, i, 0);
    char path[300], dpath[300];
    mkpath(path, sizeof path, "stream.memscope");
    ms_writer_opts o = opts_kind(MS_KIND_HEAP);
    ms_writer *w;
    ms_writer_open(&w, path, &o);
    ms_writer_set_raw(w, 1);                    /* big chunks: ~1.5 MB each */
    uint64_t offs[8];
    int nc = 0;
    for (size_t i = 0; i < n; i += 65536) {
        offs[nc++] = ms_writer_offset(w);
        ms_writer_events(w, 2, ev + i, n - i < 65536 ? n - i : 65536);
    }
    ms_record end;
    memset(&end, 0, sizeof end);
    end.type = MS_REC_END;
    offs[nc++] = ms_writer_offset(w);
    ms_writer_add(w, &end);
    ms_writer_close(w);
    size_t len;
    unsigned char *b = slurp(path, &len);
    b[offs[1] + 20] ^= 1;                        /* envelope of chunk 1: resync over 1.5 MB */
    b[offs[3] + 48 + 1000] ^= 1;                 /* payload of chunk 3 */
    len = (size_t)offs[5] + 100000;              /* cut inside chunk 5 */
    mkpath(dpath, sizeof dpath, "stream-damaged.memscope");
    int fd = open(dpath, O_WRONLY | O_CREAT | O_EXCL, 0644);
    CHECK("streaming: write damaged copy", write(fd, b, len) == (ssize_t)len);
    close(fd);

    struct summary sm, sf, sp;
    ms_reader *r;
    ms_reader_open_mem(&r, b, len);
    summarize(r, &sm);
    ms_reader_close(r);
    CHECK("streaming: memory result as expected",
          sm.rc == 0 && sm.n == 3 * 65536 && sm.in.verdict == MS_ECORRUPT && sm.in.chunks_bad == 2 &&
          sm.in.first_bad_offset == offs[1] && sm.in.trunc_offset == offs[5] &&
          sm.in.records_lost == 65536 + 65536 && sm.np == 3 &&
          sm.in.bytes_lost == (offs[2] - offs[1]) + (offs[4] - offs[3]) + 100000);
    ms_reader_open(&r, dpath);
    summarize(r, &sf);
    ms_reader_close(r);
    CHECK("streaming: file path agrees with memory", same_summary(&sm, &sf));

    int fds[2];
    if (pipe(fds) == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            size_t off = 0;
            while (off < len) {                  /* odd-sized writes */
                size_t k = len - off < 7777 ? len - off : 7777;
                ssize_t m = write(fds[1], b + off, k);
                if (m <= 0) _exit(1);
                off += (size_t)m;
            }
            _exit(0);
        }
        close(fds[1]);
        char dev[64];
        snprintf(dev, sizeof dev, "/dev/fd/%d", fds[0]);
        if (ms_reader_open(&r, dev) == 0) {
            summarize(r, &sp);
            ms_reader_close(r);
            CHECK("streaming: pipe agrees with memory", same_summary(&sm, &sp));
        } else {
            CHECK("streaming: pipe open", 0);
        }
        close(fds[0]);
        int st;
        waitpid(pid, &st, 0);
    }
    free(b);
    free(ev);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/test_format.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) { printf("FAIL: mkdtemp\n"); return 1; }
    build_fixtures();
    test_layout();
    test_roundtrip();
    test_events_shift();
    test_events_streaming();
    test_many_events();
    test_pipe();
    test_mem_and_exist();
    test_strerror();
    test_writer_refuses();
    test_alloc_hooks();
    test_room_for_end();
    test_open_errors();
    test_damage();
    test_crafted();
    test_mutations();
    test_eio_and_steady_state();
    test_streaming_damage();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) printf("note: could not remove %s\n", tmpdir);
    return ms_test_failures != 0;
}
