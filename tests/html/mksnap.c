/* Writes a synthetic snapshot series for the snapshot dashboard's size and
 * scale test (tests/html/test_html_snapshot.sh): NPROCS processes in each
 * of two snapshots one hour apart, every process with a 300-byte command
 * line and 60 of 500 distinct libraries (RSS 256 KiB, PSS 64 KiB each, as
 * with `msrec snapshot --lib-memory`); process i maps libraries
 * (i + 8k) mod 500, k < 60, so with NPROCS a multiple of 500 every library
 * is mapped by NPROCS * 60 / 500 processes. Process i (pid 1000 + i) has
 * PSS (i + 1) * 64 KiB in the first snapshot; even i grow by 1 MiB in the
 * second. The page must stay a few MB and open in Chromium.
 * Usage: mksnap OUT.memscope NPROCS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memscope.h"

#define KB 1024ULL
#define MB (1024ULL * 1024)
static ms_str S(const char *s) { ms_str r = { s, strlen(s) }; return r; }

static int snapshot(ms_writer *w, uint64_t idx, long nprocs, char (*libpaths)[64], ms_snap_lib *libs)
{
    ms_kv mi[4] = { { S("MemTotal"), 64 * 1024 * MB }, { S("MemAvailable"), 32 * 1024 * MB },
                    { S("Shmem"), 512 * MB }, { S("SwapTotal"), 0 } };
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SNAP_BEGIN;
    r.u.snap_begin.index = idx;
    r.u.snap_begin.wall_ns = 1790000000000000000ULL + idx * 3600000000000ULL;
    r.u.snap_begin.label = S(idx ? "after" : "before");
    r.u.snap_begin.hostname = S("bighost");
    r.u.snap_begin.kernel = S("6.1.0");
    r.u.snap_begin.boot_id = S("b00t");
    r.u.snap_begin.page_size = 4096;
    r.u.snap_begin.nmeminfo = 4;
    r.u.snap_begin.meminfo = mi;
    int rc = ms_writer_add(w, &r);
    char name[32], cmd[320], exe[64];
    for (long i = 0; i < nprocs && !rc; i++) {
        memset(&r, 0, sizeof r);
        r.type = MS_REC_SNAP_PROC;
        ms_snap_proc *p = &r.u.snap_proc;
        snprintf(name, sizeof name, "worker-%ld", i);
        snprintf(exe, sizeof exe, "/usr/lib/app/bin/worker-%ld", i % 50);
        int n = snprintf(cmd, sizeof cmd, "%s", exe);
        while (n < 300) n += snprintf(cmd + n, sizeof cmd - (size_t)n, "%c--option-%d=value", 0, n);
        p->snap_index = idx;
        p->pid = 1000 + (uint64_t)i; p->ppid = 1; p->starttime = 5000 + (uint64_t)i;
        p->name = S(name); p->cmdline = (ms_str){ cmd, (size_t)n }; p->exe = S(exe); p->exe_size = 1 * MB;
        p->uid = 1000; p->user = S("alice"); p->kind = (uint32_t)(i % 3); p->state = 'S';
        p->threads = 4;
        p->pss = (uint64_t)(i + 1) * 64 * KB + (idx && i % 2 == 0 ? MB : 0);
        p->rss = p->pss + 2 * MB; p->uss = p->pss / 2; p->private_dirty = p->uss;
        p->open_files = 10;
        for (int k = 0; k < 60; k++) {
            int li = (int)((i + 8 * k) % 500);
            libs[k] = (ms_snap_lib){ S(libpaths[li]), 100 * KB, 2 * MB, 256 * KB, 64 * KB };
        }
        p->nlibs = 60;
        p->libs = libs;
        rc = ms_writer_add(w, &r);
    }
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SNAP_END;
    r.u.snap_end.index = idx;
    r.u.snap_end.n_procs = (uint64_t)nprocs;
    r.u.snap_end.wall_ns = 1790000000000000000ULL + idx * 3600000000000ULL + 1;
    rc |= ms_writer_add(w, &r);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: mksnap OUT NPROCS\n"); return 2; }
    long nprocs = atol(argv[2]);
    static char libpaths[500][64];
    static ms_snap_lib libs[60];
    for (int i = 0; i < 500; i++) snprintf(libpaths[i], sizeof libpaths[i], "/usr/lib/x86_64-linux-gnu/libsynthetic%03d.so.1", i);
    ms_writer *w;
    ms_writer_opts o = { .kind = MS_KIND_SNAPSHOT };
    int rc = ms_writer_open(&w, argv[1], &o);
    if (rc) { fprintf(stderr, "mksnap: %s: %s\n", argv[1], ms_strerror(rc)); return 1; }
    rc = snapshot(w, 0, nprocs, libpaths, libs) || snapshot(w, 1, nprocs, libpaths, libs);
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_END;
    r.u.end.reason = MS_END_SNAPSHOT;
    rc |= ms_writer_add(w, &r);
    if (rc || (rc = ms_writer_close(w))) { fprintf(stderr, "mksnap: write failed\n"); return 1; }
    return 0;
}
