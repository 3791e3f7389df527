/*
 * Test helper for the snapshot tests, two jobs:
 *   synth units          unit checks of the shared helpers (fmt, md), printed
 *                        as PASS/FAIL lines;
 *   synth write A B      two synthetic snapshot files from different boots
 *                        (kernel upgrade), so msdiff's across-boot matching,
 *                        instance aggregation, exe/library size changes and
 *                        configuration changes can be checked with exact
 *                        numbers that /proc on this machine cannot give;
 *   synth series F       a series of 20 snapshots a minute apart: a steady
 *                        leaker (+5 MiB/s, pid 500), a process seen in only
 *                        4 snapshots that grows faster (pid 600), a flat one
 *                        (pid 700) and one denied to a non-root reader (pid
 *                        800): the growth ranking must put the leaker first.
 */
#include "memscope.h"
#include "fmt.h"
#include "md.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fails;
static void ok(const char *name, int cond, const char *got)
{
    if (cond) printf("PASS: %s\n", name);
    else { printf("FAIL: %s: got '%s'\n", name, got ? got : "(null)"); fails++; }
}

static int units(void)
{
    char b[MS_FBUF_LEN];
    ok("fmt_bytes_small", !strcmp(ms_fmt_bytes(b, 512), "512 B"), b);
    ok("fmt_bytes_kb", !strcmp(ms_fmt_bytes(b, 131072), "128.0 KiB"), b);
    ok("fmt_bytes_mb", !strcmp(ms_fmt_bytes(b, 16462643), "15.7 MiB"), b);
    ok("fmt_bytes_gb", !strcmp(ms_fmt_bytes(b, 3ULL << 30), "3.00 GiB"), b);
    ok("fmt_sbytes_neg", !strcmp(ms_fmt_sbytes(b, -204800), "-200.0 KiB"), b);
    ok("fmt_sbytes_pos", !strcmp(ms_fmt_sbytes(b, 1572864), "+1.5 MiB"), b);
    ok("fmt_sbytes_zero", !strcmp(ms_fmt_sbytes(b, 0), "0 B"), b);
    ok("fmt_pct", !strcmp(ms_fmt_pct_change(b, 200, 250), "+25.0%"), b);
    ok("fmt_pct_from_zero", !strcmp(ms_fmt_pct_change(b, 0, 5), "n/a"), b);
    ok("fmt_count", !strcmp(ms_fmt_count(b, 1234567), "1,234,567"), b);
    uint64_t v = 0;
    ok("parse_size_M", ms_parse_size("1M", &v) == 0 && v == 1048576, "");
    ok("parse_size_KiB", ms_parse_size("512KiB", &v) == 0 && v == 524288, "");
    ok("parse_size_plain", ms_parse_size("4096", &v) == 0 && v == 4096, "");
    ok("parse_size_frac", ms_parse_size("1.5mb", &v) == 0 && v == 1572864, "");
    ok("parse_size_bad", ms_parse_size("12x", &v) != 0 && ms_parse_size("", &v) != 0 && ms_parse_size("-1", &v) != 0, "");
    static const char sp[] = "a|b`c<d>e&f\ng*h_i[j]\\k";
    char *e = ms_md_escape(sp, sizeof sp - 1, 0);
    ok("md_escape_specials", e && !strcmp(e, "a\\|b\\`c&lt;d&gt;e&amp;f\\ng\\*h\\_i\\[j\\]\\\\k"), e);
    free(e);
    e = ms_md_escape("x\0y\x01\xff", 5, 0);
    ok("md_escape_nul_ctrl_invalid_utf8", e && !strcmp(e, "x y\\x01\\xFF"), e);
    free(e);
    e = ms_md_escape("升级前abc", strlen("升级前abc"), 4);
    ok("md_escape_truncates_by_char", e && !strcmp(e, "升级前a…"), e);
    free(e);
    char *c = ms_utf8_clean("a\0b\xc3", 4, ' ');
    ok("utf8_clean", c && !strcmp(c, "a b\xEF\xBF\xBD"), c);
    free(c);
    return fails != 0;
}

/* ---- synthetic snapshots ------------------------------------------------ */

#define MB (1024ULL * 1024)
static ms_str S(const char *s) { ms_str r = { s, strlen(s) }; return r; }
static ms_str SN(const char *s, size_t n) { ms_str r = { s, n }; return r; }

static int add_proc(ms_writer *w, uint64_t pid, const char *name, const char *cmd, size_t cmdlen,
                    const char *exe, uint64_t exe_size, uint64_t uid, const char *user, uint32_t kind,
                    uint64_t pss, int64_t files, const ms_snap_lib *libs, uint32_t nlibs, uint32_t rs)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SNAP_PROC;
    ms_snap_proc *p = &r.u.snap_proc;
    p->pid = pid; p->ppid = 1; p->starttime = pid * 10;
    p->name = S(name); p->cmdline = SN(cmd, cmdlen); p->exe = S(exe); p->exe_size = exe_size;
    p->uid = uid; p->user = S(user); p->kind = kind; p->state = 'S'; p->read_status = rs;
    p->threads = 1; p->rss = pss + MB; p->pss = pss; p->uss = pss / 2; p->private_dirty = pss / 2;
    p->open_files = files; p->libs = libs; p->nlibs = nlibs;
    return ms_writer_add(w, &r);
}

static int write_snap(const char *path, int after, const char *host)
{
    ms_writer *w;
    ms_writer_opts o = { .kind = MS_KIND_SNAPSHOT };
    if (ms_writer_open(&w, path, &o)) return 1;
    ms_kv mi[3] = { { S("MemTotal"), after ? 16 * 1024 * MB : 8 * 1024 * MB }, { S("Shmem"), after ? 200 * MB : 100 * MB },
                    { S("MemAvailable"), 4 * 1024 * MB } };
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SNAP_BEGIN;
    r.u.snap_begin.wall_ns = after ? 1700003600000000000ULL : 1700000000000000000ULL;
    r.u.snap_begin.label = S(after ? "升级后" : "升级前");
    r.u.snap_begin.hostname = S(host);
    r.u.snap_begin.kernel = S(after ? "6.18.0" : "6.1.0");
    r.u.snap_begin.os_release = S("Debian GNU/Linux 12 (bookworm)");
    r.u.snap_begin.boot_id = S(after ? "bbbb" : "aaaa");
    r.u.snap_begin.page_size = 4096;
    r.u.snap_begin.nmeminfo = 3;
    r.u.snap_begin.meminfo = mi;
    int rc = ms_writer_add(w, &r);
    ms_snap_lib la[2] = { { S("/usr/lib/libssl.so.3"), 600 * 1024, MB, 0, 0 }, { S("/usr/lib/libold.so"), 100 * 1024, MB, 0, 0 } };
    ms_snap_lib lb[2] = { { S("/usr/lib/libfoo.so"), 50 * 1024, MB, 0, 0 }, { S("/usr/lib/libssl.so.3"), 700 * 1024, MB, 0, 0 } };
    static const char ngx[] = "nginx: worker process";
    static const char hostile[] = "/opt/app/bin/app\0--name=a|b`c<d>\nx";
    if (!after) {
        rc |= add_proc(w, 2, "kworker/0:1", "", 0, "", 0, 0, "root", MS_PROC_KERNEL, 0, -1, NULL, 0, 0);
        rc |= add_proc(w, 100, "nginx", ngx, sizeof ngx - 1, "/usr/sbin/nginx", 1200 * 1024, 33, "www-data",
                       MS_PROC_SYSTEM, 10 * MB, 20, la, 2, 0);
        rc |= add_proc(w, 101, "nginx", ngx, sizeof ngx - 1, "/usr/sbin/nginx", 1200 * 1024, 33, "www-data",
                       MS_PROC_SYSTEM, 10 * MB, 20, la, 2, 0);
        rc |= add_proc(w, 150, "oldsvc", "oldsvc", 6, "/usr/bin/oldsvc", 1000, 1000, "alice", MS_PROC_USER,
                       5 * MB, 4, NULL, 0, 0);
    } else {
        rc |= add_proc(w, 3, "kworker/1:2", "", 0, "", 0, 0, "root", MS_PROC_KERNEL, 0, -1, NULL, 0, 0);
        for (uint64_t i = 0; i < 3; i++)
            rc |= add_proc(w, 200 + i, "nginx", ngx, sizeof ngx - 1, "/usr/sbin/nginx", 1300 * 1024, 33, "www-data",
                           MS_PROC_SYSTEM, 12 * MB, 25, lb, 2, 0);
        rc |= add_proc(w, 300, "a|b`c<d>\nx", hostile, sizeof hostile - 1, "/opt/app/bin/app", 4096, 1000, "alice",
                       MS_PROC_USER, 64 * MB, 9, NULL, 0, 0);
        rc |= add_proc(w, 400, "", "", 0, "", 0, 0, "root", MS_PROC_USER, 0, -1, NULL, 0, MS_READ_VANISHED);
    }
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SNAP_END;
    r.u.snap_end.n_procs = after ? 5 : 4;
    r.u.snap_end.n_vanished = after ? 1 : 0;
    r.u.snap_end.wall_ns = 1;
    rc |= ms_writer_add(w, &r);
    memset(&r, 0, sizeof r);
    r.type = MS_REC_END;
    r.u.end.reason = MS_END_SNAPSHOT;
    rc |= ms_writer_add(w, &r);
    rc |= ms_writer_close(w);
    return rc != 0;
}

static int write_series(const char *path)
{
    ms_writer *w;
    ms_writer_opts o = { .kind = MS_KIND_SNAPSHOT };
    if (ms_writer_open(&w, path, &o)) return 1;
    int rc = 0;
    for (uint64_t k = 0; k < 20; k++) {
        ms_record r;
        memset(&r, 0, sizeof r);
        r.type = MS_REC_SNAP_BEGIN;
        r.u.snap_begin.index = k;
        r.u.snap_begin.wall_ns = 1700000000000000000ULL + k * 60000000000ULL;
        r.u.snap_begin.label = S("series");
        r.u.snap_begin.boot_id = S("aaaa");
        r.u.snap_begin.page_size = 4096;
        rc |= ms_writer_add(w, &r);
        rc |= add_proc(w, 500, "leaker", "leaker", 6, "/usr/bin/leaker", 1000, 1000, "alice", MS_PROC_USER,
                       100 * MB + k * 300 * MB, 5, NULL, 0, 0);
        if (k >= 8 && k < 12)
            rc |= add_proc(w, 600, "burst", "burst", 5, "/usr/bin/burst", 1000, 1000, "alice", MS_PROC_USER,
                           10 * MB + (k - 8) * 1024 * MB, 5, NULL, 0, 0);
        rc |= add_proc(w, 700, "flat", "flat", 4, "/usr/bin/flat", 1000, 1000, "alice", MS_PROC_USER,
                       50 * MB, 5, NULL, 0, 0);
        rc |= add_proc(w, 800, "secret", "secret", 6, "/usr/bin/secret", 1000, 0, "root", MS_PROC_SYSTEM,
                       k % 2 ? 0 : 7 * MB, -1, NULL, 0, k % 2 ? MS_READ_DENIED_SMAPS : 0);
        memset(&r, 0, sizeof r);
        r.type = MS_REC_SNAP_END;
        r.u.snap_end.index = k;
        r.u.snap_end.wall_ns = r.u.snap_end.index;
        rc |= ms_writer_add(w, &r);
    }
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_END;
    r.u.end.reason = MS_END_SNAPSHOT;
    rc |= ms_writer_add(w, &r);
    rc |= ms_writer_close(w);
    return rc != 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "series")) return write_series(argv[2]);
    if (argc == 2 && !strcmp(argv[1], "units")) return units();
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "write"))
        return write_snap(argv[2], 0, "db1") || write_snap(argv[3], 1, argc == 5 ? argv[4] : "db1");
    fprintf(stderr, "usage: synth units | synth write A B | synth series F\n");
    return 2;
}
