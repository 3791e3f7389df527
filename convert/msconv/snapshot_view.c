/*
 * msconv views of snapshot files (msconv's main hands every snapshot-file
 * invocation here except --info/--dump):
 *   --text (default)  top processes by PSS, totals, read-status summary; for
 *                     a series also the per-process growth rate (MiB/hour)
 *                     and the fastest growers;
 *   --pid PID         one process like seed 000's `--pid` output: name, exe,
 *                     exe size, PSS, RSS, shared, open files, libraries;
 *   --json            seed 000-style JSON of every snapshot and process, all
 *                     sizes in bytes (plus the growth table for a series);
 *   --html OUT        the offline dashboard (snapshot_html.c) with the same
 *                     numbers as --json.
 * Every view shows where MemTotal − MemAvailable goes (analyze/snapmem.c)
 * and the processes still using deleted or replaced files; a series ranks
 * growth by a fitted slope (with R²) of processes present long enough.
 * Reports are Chinese by default, English with --lang en; every output file
 * goes through ms_outfile (atomic).
 */
#include "msconv.h"
#include "views.h"
#include "snap.h"
#include "snapshot_int.h"
#include "snapdiff.h"
#include "snapmem.h"
#include "snaplabels.h"
#include "fmt.h"
#include "i18n.h"
#include "outfile.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define B(x) ms_fmt_bytes(MS_FBUF, (x))
#define SB(x) ms_fmt_sbytes(MS_FBUF, (x))

static void usage(FILE *f)
{
    fputs(MS_CM(
        "用法：msconv SNAPSHOT.memscope [--text | --json | --html OUT] [选项]\n"
        "\n"
        "`msrec snapshot` 写出的快照文件的视图：\n"
        "  --text            占用最多的进程、合计、读取状态（默认）；序列还给出每个\n"
        "                    进程的增长率（MiB/小时）\n"
        "  --json            每个快照与进程的 JSON，大小以字节为单位\n"
        "  --pid PID         单个进程：可执行文件、大小、打开的文件、库\n"
        "  --html OUT        离线 HTML 仪表盘：概览、进程表（排序、筛选、按类别）、\n"
        "                    库、序列的增长\n"
        "选项：\n"
        "  --snapshot N      使用序列中的第 N 个快照（从 0 开始；默认最后一个）\n"
        "  --top N           进程表的行数（默认 20，0 = 全部）\n"
        "  --lang zh|en      报告与消息的语言（报告默认 zh）\n"
        "  -o FILE           写到 FILE 而不是标准输出\n"
        "  --help            本帮助\n",
        "usage: msconv SNAPSHOT.memscope [--text | --json | --html OUT] [options]\n"
        "\n"
        "views of a snapshot file written by `msrec snapshot`:\n"
        "  --text            top processes, totals, read status (default); for a\n"
        "                    series also the growth rate per process (MiB/hour)\n"
        "  --json            every snapshot and process as JSON, sizes in bytes\n"
        "  --pid PID         one process: exe, sizes, open files, libraries\n"
        "  --html OUT        offline HTML dashboard: overview, process table (sort,\n"
        "                    filter, by kind), libraries, growth of a series\n"
        "options:\n"
        "  --snapshot N      use snapshot N of a series (0-based; default: last)\n"
        "  --top N           rows of the process table (default 20, 0 = all)\n"
        "  --lang zh|en      report and message language (reports: default zh)\n"
        "  -o FILE           write to FILE instead of stdout\n"
        "  --help            this text\n"), f);
}

/* Printable copy for a terminal line: control bytes become '?', NULs
 * become spaces, invalid UTF-8 becomes U+FFFD; at most max chars. */
static char *tclean(snap_str s, size_t max)
{
    char *c = ms_utf8_clean(s.p, s.n, ' ');
    if (!c) return NULL;
    size_t chars = 0;
    for (unsigned char *p = (unsigned char *)c; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) *p = '?';
        if ((*p & 0xC0) != 0x80 && ++chars > max && max) {
            strcpy((char *)p, "…");
            break;
        }
    }
    return c;
}

static const ms_msg M_DELETED = {"已删除", "deleted"}, M_DELETED_P = {"（已删除）", " (deleted)"}, M_LISTSEP = {"，", ","},
    M_SNAP = {"快照", "Snapshot"}, M_HOST = {"主机", "host"}, M_KERNEL = {"内核", "kernel"},
    M_OS = {"系统", "OS"}, M_TIME = {"时间", "time"}, M_PROCS = {"进程", "Processes"},
    M_MEM = {"内存", "Memory"}, M_RSS_NOTE = {"RSS 累加（共享页重复计算）", "RSS summed (shared pages counted repeatedly)"},
    M_TOP = {"PSS 最高的进程", "Top processes by PSS"}, M_REST = {"其余", "other"},
    M_READ = {"读取状态", "Read status"}, M_FULL = {"完整", "complete"},
    M_VAN = {"扫描中退出", "exited during the scan"}, M_ZOMBIE = {"僵尸进程", "zombies"},
    M_DENIED = {"权限不足（以 root 运行 msrec snapshot 可读取）", "permission denied (run msrec snapshot as root to read them)"},
    M_DENIED_ROOT = {"权限不足（内存未知）", "permission denied (memory unknown)"},
    M_MEMUSE = {"内存去向（已用 = MemTotal − MemAvailable）", "Where memory goes (used = MemTotal − MemAvailable)"},
    M_USED = {"已用", "used"},
    M_REF_PSS = {"参考：可读进程 PSS 合计（含文件映射页，内核将其计入可用内存）", "for reference: PSS of readable processes (incl. file-backed pages, counted as available)"},
    M_NOZONE = {"（旧格式快照没有 /proc/zoneinfo：保留、每 CPU 列表与不计为可用的缓存都算在“其余”里）", "(older snapshot format without /proc/zoneinfo: reserve, per-CPU lists and kept caches are in the rest)"},
    M_STALE = {"需要重启的进程（仍在使用已删除或已替换的文件）", "Processes to restart (still using deleted or replaced files)"},
    M_STALE_EXE = {"可执行文件已删除或替换", "executable deleted or replaced"},
    M_R2 = {"拟合 R²", "fit R²"}, M_SEEN = {"出现", "seen"},
    M_NORATE = {"另有 %zu 个进程出现在少于 %u 个快照中（少于一半），不计算增长率。", "%zu more processes were in fewer than %u snapshots (less than half): no rate."},
    M_OMIT = {"未记录（--max-processes）", "not recorded (--max-processes)"},
    M_SERIES = {"快照序列", "Snapshot series"}, M_GROWTH = {"增长最快的进程", "Fastest growing processes"},
    M_RATE = {"MiB/小时", "MiB/hour"}, M_NOGROW = {"没有进程增长。", "No process grew."}, M_TOTAL_RATE = {"总 PSS 增长率", "Total PSS growth rate"},
    M_NAME = {"名称", "name"}, M_USER = {"用户", "user"}, M_KIND = {"类型", "kind"}, M_FILES = {"文件数", "files"};

static void print_totals(FILE *f, ms_lang L, const snap *s, size_t idx, size_t n)
{
    snap_totals t;
    snap_totals_of(s, &t);
    char *label = tclean(s->label, 80), *host = tclean(s->hostname, 80);
    ms_lang_fprintf(f, L, "%s: %s (%zu/%zu)  %s %s  %s %s  %s %s\n", MS_T(L, M_SNAP), label ? label : "", idx + 1, n,
            MS_T(L, M_HOST), host ? host : "", MS_T(L, M_KERNEL), s->kernel.p, MS_T(L, M_TIME),
            ms_fmt_time(MS_FBUF, s->wall_ns));
    free(label); free(host);
    if (s->os_release.n) ms_lang_fprintf(f, L, "%s: %s\n", MS_T(L, M_OS), s->os_release.p);
    ms_lang_fprintf(f, L, "%s: %llu (%s %llu, %s %llu, %s %llu", MS_T(L, M_PROCS),
            (unsigned long long)(t.nprocs + t.n_omitted),
            ms_i18n_kind(L, 0), (unsigned long long)t.all_kind[0], ms_i18n_kind(L, 1),
            (unsigned long long)t.all_kind[1], ms_i18n_kind(L, 2), (unsigned long long)t.all_kind[2]);
    uint64_t kinds = t.all_kind[0] + t.all_kind[1] + t.all_kind[2];
    if (kinds < t.nprocs + t.n_omitted)   /* files before 1.2: omitted ones have no kind */
        ms_lang_fprintf(f, L, ", %s %llu", MS_T(L, M_OMIT), (unsigned long long)(t.nprocs + t.n_omitted - kinds));
    fputs(L == MS_LANG_EN ? ")\n" : "）\n", f);
    ms_lang_fprintf(f, L, "%s: PSS %s  USS %s  Swap %s  %s %s\n", MS_T(L, M_MEM), B(t.pss + t.omitted_pss), B(t.uss),
            B(t.swap), MS_T(L, M_RSS_NOTE), B(t.rss + t.omitted_rss));
    ms_lang_fprintf(f, L, "/proc/meminfo: MemTotal %s  MemAvailable %s  Shmem %s  SwapTotal %s  SwapFree %s\n",
            B(snap_meminfo(s, "MemTotal")), B(snap_meminfo(s, "MemAvailable")), B(snap_meminfo(s, "Shmem")),
            B(snap_meminfo(s, "SwapTotal")), B(snap_meminfo(s, "SwapFree")));
}

/* Where MemTotal − MemAvailable goes, one row per line. */
static void print_memuse(FILE *f, ms_lang L, const snap *s)
{
    snap_memuse m;
    snap_memuse_of(s, &m);
    if (!m.have) return;
    ms_lang_fprintf(f, L, "\n%s: %s %s\n", MS_T(L, M_MEMUSE), MS_T(L, M_USED), B(m.used));
    for (int r = 0; r < SM_NROWS; r++) {
        int64_t v = m.row[r];
        char num[40];
        snprintf(num, sizeof num, "%s%s", v < 0 ? "-" : "", B((uint64_t)(v < 0 ? -v : v)));
        ms_lang_fprintf(f, L, "  %12s %6.1f%%  %s · %s\n", num, m.used ? 100.0 * (double)v / (double)m.used : 0.0,
                ms_memgroup_label(L, snap_memrow_group(r)), ms_memrow_label(L, r));
    }
    ms_lang_fprintf(f, L, "  %s: %s\n", MS_T(L, M_REF_PSS), B(m.proc_pss));
    if (!m.have_zone) ms_lang_fprintf(f, L, "  %s\n", MS_T(L, M_NOZONE));
}

/* Processes still using deleted or replaced executables or libraries. */
static int print_stale(FILE *f, ms_lang L, const snap *s)
{
    sd_stale *v;
    size_t n;
    if (snap_stale_build(s, &v, &n)) return -1;
    if (n) ms_lang_fprintf(f, L, "\n%s (%zu):\n", MS_T(L, M_STALE), n);
    for (size_t i = 0; i < n; i++) {
        char *name = tclean(v[i].p->name, 40);
        ms_lang_fprintf(f, L, "%8llu  %s:", (unsigned long long)v[i].p->pid, name ? name : "");
        free(name);
        if (v[i].exe_deleted) {
            char *exe = tclean(v[i].p->exe, 0);
            ms_lang_fprintf(f, L, " %s (%s, %s)", exe ? exe : "", MS_T(L, M_DELETED), MS_T(L, M_STALE_EXE));
            free(exe);
        }
        for (size_t j = 0; j < v[i].nlibs; j++) {
            char *path = tclean(v[i].libs[j]->path, 0);
            ms_lang_fprintf(f, L, "%s %s (%s, %s)", j || v[i].exe_deleted ? MS_T(L, M_LISTSEP) : "", path ? path : "",
                            MS_T(L, M_DELETED), B(v[i].libs[j]->mapped));
            free(path);
        }
        fputc('\n', f);
    }
    snap_stale_free(v, n);
    return 0;
}

static void print_read_status(FILE *f, ms_lang L, const snap *s)
{
    snap_totals t;
    snap_totals_of(s, &t);
    ms_lang_fprintf(f, L, "%s: %s %llu", MS_T(L, M_READ), MS_T(L, M_FULL), (unsigned long long)t.n_full);
    ms_lang_fprintf(f, L, ", %s %llu", MS_T(L, M_VAN), (unsigned long long)t.n_vanished);
    ms_lang_fprintf(f, L, ", %s %llu", MS_T(L, M_ZOMBIE), (unsigned long long)t.n_zombie);
    ms_lang_fprintf(f, L, ", %s %llu", MS_T(L, s->privilege == MS_PRIV_USER ? M_DENIED : M_DENIED_ROOT), (unsigned long long)t.n_denied);
    if (t.n_omitted) ms_lang_fprintf(f, L, ", %s %llu", MS_T(L, M_OMIT), (unsigned long long)t.n_omitted);
    fputc('\n', f);
}

static int cmp_pss_ptr(const void *x, const void *y)
{
    const snap_proc *a = *(const snap_proc *const *)x, *b = *(const snap_proc *const *)y;
    if (a->pss != b->pss) return a->pss < b->pss ? 1 : -1;
    if (a->rss != b->rss) return a->rss < b->rss ? 1 : -1;
    return (a->pid > b->pid) - (a->pid < b->pid);
}

static int print_table(FILE *f, ms_lang L, const snap *s, long top)
{
    const snap_proc **v = malloc((s->nprocs + 1) * sizeof *v);
    if (!v) return -1;
    for (size_t i = 0; i < s->nprocs; i++) v[i] = &s->procs[i];
    qsort(v, s->nprocs, sizeof *v, cmp_pss_ptr);
    size_t n = top > 0 && (size_t)top < s->nprocs ? (size_t)top : s->nprocs;
    ms_lang_fprintf(f, L, "\n%s (%zu/%zu):\n", MS_T(L, M_TOP), n, s->nprocs);
    ms_lang_fprintf(f, L, "%8s  %-6s %-10s %10s %10s %10s %10s %6s  %s\n", "PID", MS_T(L, M_KIND), MS_T(L, M_USER),
            "PSS", "USS", "RSS", "Swap", MS_T(L, M_FILES), MS_T(L, M_NAME));
    uint64_t rest_pss = 0, rest_rss = 0;
    for (size_t i = 0; i < s->nprocs; i++) {
        const snap_proc *p = v[i];
        if (i >= n) { rest_pss += p->pss; rest_rss += p->rss; continue; }
        char *name = tclean(p->name, 40), *user = tclean(p->user, 10);
        char files[24];
        if (p->open_files >= 0) snprintf(files, sizeof files, "%lld", (long long)p->open_files);
        else strcpy(files, "?");
        ms_lang_fprintf(f, L, "%8llu  %-6s %-10s %10s %10s %10s %10s %6s  %s%s\n", (unsigned long long)p->pid,
                ms_i18n_kind(L, p->kind), user ? user : "", B(p->pss), B(p->uss), B(p->rss), B(p->swap), files,
                name ? name : "", p->read_status & ~(uint32_t)MS_READ_NO_ROLLUP ? " *" : "");
        free(name); free(user);
    }
    if (n < s->nprocs)
        ms_lang_fprintf(f, L, "%s %zu: PSS %s, RSS %s\n", MS_T(L, M_REST), s->nprocs - n, B(rest_pss), B(rest_rss));
    if (s->n_omitted)
        ms_lang_fprintf(f, L, "%s %llu: PSS %s, RSS %s\n", MS_T(L, M_OMIT), (unsigned long long)s->n_omitted,
                B(s->omitted_pss), B(s->omitted_rss));
    free(v);
    return 0;
}

static int view_text(FILE *f, ms_lang L, const snap_file *sf, size_t idx, long top)
{
    if (sf->nsnaps > 1) {
        ms_lang_fprintf(f, L, "%s: %zu\n", MS_T(L, M_SERIES), sf->nsnaps);
        ms_lang_fprintf(f, L, "%4s  %-23s %8s %12s %12s\n", "#", MS_T(L, M_TIME), MS_T(L, M_PROCS), "PSS", "ΔPSS");
        uint64_t prev = 0;
        for (size_t i = 0; i < sf->nsnaps; i++) {
            snap_totals t;
            snap_totals_of(&sf->snaps[i], &t);
            uint64_t pss = t.pss + t.omitted_pss;
            ms_lang_fprintf(f, L, "%4zu  %-23s %8llu %12s %12s\n", i, ms_fmt_time(MS_FBUF, sf->snaps[i].wall_ns),
                    (unsigned long long)(t.nprocs + t.n_omitted), B(pss), i ? SB((int64_t)pss - (int64_t)prev) : "");
            prev = pss;
        }
        snap_series g;
        if (snap_series_build(sf, &g)) return -1;
        ms_lang_fprintf(f, L, "%s: %+.2f %s (%s)\n", MS_T(L, M_TOTAL_RATE), g.total_mb_per_hour, MS_T(L, M_RATE),
                ms_i18n_duration(L, g.span_ns, MS_FBUF));
        ms_lang_fprintf(f, L, "\n%s (%s):\n", MS_T(L, M_GROWTH), MS_T(L, M_RATE));
        ms_lang_fprintf(f, L, "%8s %12s %8s %6s %12s %12s %12s  %s\n", "PID", MS_T(L, M_RATE), MS_T(L, M_R2), MS_T(L, M_SEEN),
                "PSS0", "PSS1", "ΔPSS", MS_T(L, M_NAME));
        size_t shown = 0, unrated = 0;
        for (size_t i = 0; i < g.n; i++) {
            const snap_growth *x = &g.g[i];
            if (!x->rated) { unrated += x->seen < sf->nsnaps; continue; }
            if (shown >= 10 || x->pss_mb_per_hour <= 0) continue;
            char *name = tclean(x->last->name, 40);
            ms_lang_fprintf(f, L, "%8llu %12.2f %8.3f %3u/%-2zu %12s %12s %12s  %s\n", (unsigned long long)x->last->pid,
                    x->pss_mb_per_hour, x->r2, x->seen, sf->nsnaps, B(x->first->pss), B(x->last->pss), SB(x->d_pss),
                    name ? name : "");
            free(name);
            shown++;
        }
        if (!shown) ms_lang_fprintf(f, L, "%s\n", MS_T(L, M_NOGROW));
        if (unrated) { ms_lang_fprintf(f, L, MS_T(L, M_NORATE), unrated, g.min_seen); fputc('\n', f); }
        snap_series_free(&g);
        fputc('\n', f);
    }
    const snap *s = &sf->snaps[idx];
    print_totals(f, L, s, idx, sf->nsnaps);
    print_memuse(f, L, s);
    if (print_table(f, L, s, top)) return -1;
    if (print_stale(f, L, s)) return -1;
    print_read_status(f, L, s);
    fprintf(f, "%s\n", ms_i18n_units(L));
    return 0;
}

static const ms_msg M_PINFO = {"进程信息", "Process"}, M_CMD = {"命令行", "Command line"},
    M_EXE = {"可执行文件", "Executable"}, M_EXESZ = {"可执行文件大小", "Executable size"},
    M_SHARED = {"共享", "Shared"}, M_CLEAN = {"干净", "clean"}, M_DIRTY = {"脏", "dirty"},
    M_SHMEM = {"共享内存（shmem）", "Shared memory (shmem)"}, M_OPEN = {"打开文件数", "Open files"},
    M_THREADS = {"线程数", "Threads"}, M_LIBS = {"动态库与映射文件", "Libraries and mapped files"},
    M_PERMS = {"按权限的映射", "Mappings by permission"},
    M_MAPPED = {"映射", "mapped"}, M_UNKNOWN = {"未知", "unknown"}, M_PPID = {"父进程", "Parent"},
    M_PNAME = {"名称", "Name"}, M_PUSER = {"用户", "User"}, M_PKIND = {"类型", "kind"},
    M_EXE_DEL = {"（已删除或替换，运行的是旧文件）", " (deleted or replaced on disk; the old file is running)"},
    M_LIB_DEL = {"已删除或替换，仍在映射旧文件", "deleted or replaced on disk, old file still mapped"},
    M_PERM = {"权限", "perm"}, M_SIZE = {"大小", "size"}, M_LP2 = {"  （", "  ("}, M_RP2 = {"）", ")"};

static int cmp_lib_pss(const void *x, const void *y)
{
    const snap_lib *a = x, *b = y;
    if (a->pss != b->pss) return a->pss < b->pss ? 1 : -1;
    if (a->disk_size != b->disk_size) return a->disk_size < b->disk_size ? 1 : -1;
    return strcmp(a->path.p, b->path.p);
}

static int view_pid(FILE *f, ms_lang L, const snap *s, const snap_proc *p)
{
    char rs[256];
    char *name = tclean(p->name, 0), *cmd = tclean(p->cmdline, 300), *exe = tclean(p->exe, 0),
         *user = tclean(p->user, 0);
    ms_lang_fprintf(f, L, "%s (PID: %llu)\n", MS_T(L, M_PINFO), (unsigned long long)p->pid);
    ms_lang_fprintf(f, L, "%s: %s\n", MS_T(L, M_PNAME), name ? name : "");
    ms_lang_fprintf(f, L, "%s: %s\n", MS_T(L, M_CMD), cmd ? cmd : "");
    ms_lang_fprintf(f, L, "%s: \"%s\"%s\n", MS_T(L, M_EXE), exe ? exe : "", p->exe_flags & MS_EXE_DELETED ? MS_T(L, M_EXE_DEL) : "");
    ms_lang_fprintf(f, L, "%s: %s\n", MS_T(L, M_EXESZ), p->exe_size ? B(p->exe_size) : MS_T(L, M_UNKNOWN));
    ms_lang_fprintf(f, L, "%s: %s (uid %llu, %s %s)\n", MS_T(L, M_PUSER), user ? user : "", (unsigned long long)p->uid,
            MS_T(L, M_PKIND), ms_i18n_kind(L, p->kind));
    ms_lang_fprintf(f, L, "%s: %llu\n", MS_T(L, M_PPID), (unsigned long long)p->ppid);
    ms_lang_fprintf(f, L, "PSS: %s\n", B(p->pss));
    ms_lang_fprintf(f, L, "RSS: %s\n", B(p->rss));
    ms_lang_fprintf(f, L, "USS: %s\n", B(p->uss));
    ms_lang_fprintf(f, L, "%s: %s (%s %s, %s %s)\n", MS_T(L, M_SHARED), B(p->shared_clean + p->shared_dirty),
            MS_T(L, M_CLEAN), B(p->shared_clean), MS_T(L, M_DIRTY), B(p->shared_dirty));
    ms_lang_fprintf(f, L, "%s: PSS %s, RSS %s\n", MS_T(L, M_SHMEM), B(p->pss_shmem), B(p->rss_shmem));
    ms_lang_fprintf(f, L, "Swap: %s (SwapPss %s)\n", B(p->swap), B(p->swap_pss));
    if (p->open_files >= 0) ms_lang_fprintf(f, L, "%s: %lld\n", MS_T(L, M_OPEN), (long long)p->open_files);
    else ms_lang_fprintf(f, L, "%s: %s\n", MS_T(L, M_OPEN), MS_T(L, M_UNKNOWN));
    ms_lang_fprintf(f, L, "%s: %llu\n", MS_T(L, M_THREADS), (unsigned long long)p->threads);
    ms_lang_fprintf(f, L, "%s: %s\n", MS_T(L, M_READ), ms_i18n_read_status(L, p->read_status, rs, sizeof rs));
    free(name); free(cmd); free(exe); free(user);
    (void)s;
    snap_lib *libs = malloc((p->nlibs + 1) * sizeof *libs);
    if (!libs) return -1;
    memcpy(libs, p->libs, p->nlibs * sizeof *libs);
    qsort(libs, p->nlibs, sizeof *libs, cmp_lib_pss);
    ms_lang_fprintf(f, L, "\n%s (%u):\n", MS_T(L, M_LIBS), p->nlibs);
    for (uint32_t i = 0; i < p->nlibs; i++) {
        char *path = tclean(libs[i].path, 0);
        ms_lang_fprintf(f, L, "- \"%s\"%s (%s)  %s %s  RSS %s  PSS %s%s%s%s\n", path ? path : "",
                libs[i].flags & MS_LIB_DELETED ? MS_T(L, M_DELETED_P) : "",
                libs[i].disk_size ? B(libs[i].disk_size) : MS_T(L, M_UNKNOWN), MS_T(L, M_MAPPED),
                B(libs[i].mapped), B(libs[i].rss), B(libs[i].pss),
                libs[i].flags & MS_LIB_DELETED ? MS_T(L, M_LP2) : "", libs[i].flags & MS_LIB_DELETED ? MS_T(L, M_LIB_DEL) : "",
                libs[i].flags & MS_LIB_DELETED ? MS_T(L, M_RP2) : "");
        free(path);
    }
    free(libs);
    if (p->nperms) {
        ms_lang_fprintf(f, L, "\n%s:\n", MS_T(L, M_PERMS));
        ms_lang_fprintf(f, L, "  %-6s %12s %12s %12s\n", MS_T(L, M_PERM), MS_T(L, M_SIZE), "RSS", "PSS");
        for (uint32_t i = 0; i < p->nperms; i++) {
            char ps[5];
            snap_perm_str(p->perms[i].prot, ps);
            ms_lang_fprintf(f, L, "  %-6s %12s %12s %12s\n", ps, B(p->perms[i].size), B(p->perms[i].rss), B(p->perms[i].pss));
        }
    }
    return 0;
}

/* ---- JSON ----------------------------------------------------------------- */

static cJSON *jstr(snap_str s)
{
    char *c = ms_utf8_clean(s.p, s.n, ' ');
    cJSON *j = cJSON_CreateString(c ? c : "");
    free(c);
    return j;
}

static void jnum(cJSON *o, const char *k, uint64_t v) { cJSON_AddItemToObject(o, k, cJSON_CreateNumber((double)v)); }

static cJSON *jcmdline(snap_str s)
{
    cJSON *a = cJSON_CreateArray();
    const char *c = s.p, *end = s.p + s.n;
    while (a && c < end) {
        const char *z = memchr(c, 0, (size_t)(end - c));
        if (!z) z = end;
        snap_str arg = { c, (size_t)(z - c) };
        cJSON_AddItemToArray(a, jstr(arg));
        c = z + 1;
    }
    return a;
}

static const char *kind_word(uint32_t k) { return k == MS_PROC_KERNEL ? "kernel" : k == MS_PROC_SYSTEM ? "system" : "user"; }
const char *msconv_snap_kind_word(uint32_t k) { return kind_word(k); }

size_t msconv_snap_read_words(uint32_t rs, const char *out[8])
{
    static const struct { uint32_t bit; const char *w; } names[] = {
        {MS_READ_VANISHED, "vanished"}, {MS_READ_ZOMBIE, "zombie"}, {MS_READ_DENIED_SMAPS, "denied_smaps"},
        {MS_READ_DENIED_MAPS, "denied_maps"}, {MS_READ_DENIED_FD, "denied_fd"}, {MS_READ_DENIED_EXE, "denied_exe"},
        {MS_READ_NO_ROLLUP, "no_smaps_rollup"}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names && n < 8; i++)
        if (rs & names[i].bit) out[n++] = names[i].w;
    return n;
}

static cJSON *jread_status(uint32_t rs)
{
    const char *w[8];
    size_t n = msconv_snap_read_words(rs, w);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(w[i]));
    return a;
}

static cJSON *jproc(const snap_proc *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    jnum(o, "pid", p->pid); jnum(o, "ppid", p->ppid); jnum(o, "starttime", p->starttime);
    cJSON_AddItemToObject(o, "name", jstr(p->name));
    cJSON_AddItemToObject(o, "cmdline", jcmdline(p->cmdline));
    cJSON_AddItemToObject(o, "exe", jstr(p->exe));
    jnum(o, "exe_size", p->exe_size);
    cJSON_AddBoolToObject(o, "exe_deleted", (p->exe_flags & MS_EXE_DELETED) != 0);
    cJSON_AddBoolToObject(o, "memory_known", snap_proc_mem_known(p));
    jnum(o, "uid", p->uid);
    cJSON_AddItemToObject(o, "user", jstr(p->user));
    cJSON_AddStringToObject(o, "kind", kind_word(p->kind));
    char st[2] = { (char)(p->state >= 0x20 && p->state < 0x7f ? p->state : '?'), 0 };
    cJSON_AddStringToObject(o, "state", st);
    cJSON_AddItemToObject(o, "read_status", jread_status(p->read_status));
    jnum(o, "threads", p->threads);
    jnum(o, "rss", p->rss); jnum(o, "pss", p->pss); jnum(o, "uss", p->uss);
    jnum(o, "swap", p->swap); jnum(o, "swap_pss", p->swap_pss);
    jnum(o, "shared_clean", p->shared_clean); jnum(o, "shared_dirty", p->shared_dirty);
    jnum(o, "private_clean", p->private_clean); jnum(o, "private_dirty", p->private_dirty);
    jnum(o, "pss_anon", p->pss_anon); jnum(o, "pss_file", p->pss_file); jnum(o, "pss_shmem", p->pss_shmem);
    jnum(o, "rss_anon", p->rss_anon); jnum(o, "rss_file", p->rss_file); jnum(o, "rss_shmem", p->rss_shmem);
    jnum(o, "vm_size", p->vm_size); jnum(o, "vm_hwm", p->vm_hwm);
    if (p->open_files >= 0) jnum(o, "open_files", (uint64_t)p->open_files);
    else cJSON_AddNullToObject(o, "open_files");
    cJSON *libs = cJSON_AddArrayToObject(o, "libraries");
    for (uint32_t i = 0; libs && i < p->nlibs; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToObject(l, "path", jstr(p->libs[i].path));
        jnum(l, "disk_size", p->libs[i].disk_size); jnum(l, "mapped", p->libs[i].mapped);
        jnum(l, "rss", p->libs[i].rss); jnum(l, "pss", p->libs[i].pss);
        cJSON_AddBoolToObject(l, "deleted", (p->libs[i].flags & MS_LIB_DELETED) != 0);
        cJSON_AddBoolToObject(l, "executable", (p->libs[i].flags & MS_LIB_EXEC) != 0);
        cJSON_AddItemToArray(libs, l);
    }
    cJSON *perms = cJSON_AddArrayToObject(o, "mappings_by_permission");
    for (uint32_t i = 0; perms && i < p->nperms; i++) {
        cJSON *l = cJSON_CreateObject();
        char ps[5];
        snap_perm_str(p->perms[i].prot, ps);
        cJSON_AddStringToObject(l, "perm", ps);
        jnum(l, "size", p->perms[i].size); jnum(l, "rss", p->perms[i].rss); jnum(l, "pss", p->perms[i].pss);
        cJSON_AddItemToArray(perms, l);
    }
    return o;
}

static cJSON *jsnap(const snap *s, long only_pid)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    jnum(o, "index", s->index);
    cJSON_AddItemToObject(o, "label", jstr(s->label));
    cJSON_AddStringToObject(o, "time", ms_fmt_time_iso(MS_FBUF, s->wall_ns));
    jnum(o, "wall_ms", s->wall_ns / 1000000);
    cJSON_AddItemToObject(o, "hostname", jstr(s->hostname));
    cJSON_AddItemToObject(o, "kernel", jstr(s->kernel));
    cJSON_AddItemToObject(o, "os_release", jstr(s->os_release));
    cJSON_AddItemToObject(o, "boot_id", jstr(s->boot_id));
    jnum(o, "page_size", s->page_size);
    jnum(o, "uptime_ms", s->uptime_ms);
    cJSON_AddStringToObject(o, "privilege", s->privilege == MS_PRIV_ROOT ? "root" : s->privilege == MS_PRIV_USER ? "user" : "unknown");
    cJSON *mi = cJSON_AddObjectToObject(o, "meminfo");
    for (uint32_t i = 0; mi && i < s->nmeminfo; i++) jnum(mi, s->meminfo_keys[i].p, s->meminfo_vals[i]);
    cJSON *vm = cJSON_AddObjectToObject(o, "vmstat");
    for (uint32_t i = 0; vm && i < s->nvmstat; i++) jnum(vm, s->vmstat_keys[i].p, s->vmstat_vals[i]);
    cJSON *zi = cJSON_AddObjectToObject(o, "zoneinfo");
    for (uint32_t i = 0; zi && i < s->nzoneinfo; i++) jnum(zi, s->zoneinfo_keys[i].p, s->zoneinfo_vals[i]);
    cJSON *sl = cJSON_AddObjectToObject(o, "slabs");
    for (uint32_t i = 0; sl && i < s->nslabs; i++) jnum(sl, s->slab_keys[i].p, s->slab_vals[i]);
    snap_memuse m;
    snap_memuse_of(s, &m);
    if (m.have) {
        cJSON *mb = cJSON_AddObjectToObject(o, "memory_breakdown");
        if (mb) {
            jnum(mb, "used", m.used); jnum(mb, "mem_total", m.total); jnum(mb, "mem_available", m.avail);
            cJSON_AddBoolToObject(mb, "zoneinfo", m.have_zone);
            cJSON *rows = cJSON_AddObjectToObject(mb, "rows");
            for (int r = 0; rows && r < SM_NROWS; r++)
                cJSON_AddItemToObject(rows, snap_memrow_key(r), cJSON_CreateNumber((double)m.row[r]));
            jnum(mb, "kernel_total", m.kernel_total);
            jnum(mb, "processes_pss", m.proc_pss); jnum(mb, "processes_pss_file", m.proc_pss_file);
            jnum(mb, "processes_memory_unknown", m.n_unknown);
        }
    }
    snap_totals t;
    snap_totals_of(s, &t);
    cJSON *tot = cJSON_AddObjectToObject(o, "totals");
    if (tot) {
        jnum(tot, "processes", t.nprocs); jnum(tot, "processes_all", t.nprocs + t.n_omitted);
        jnum(tot, "kernel_processes", t.all_kind[0]);
        jnum(tot, "system_processes", t.all_kind[1]); jnum(tot, "user_processes", t.all_kind[2]);
        jnum(tot, "memory_unknown", t.n_mem_unknown);
        jnum(tot, "pss", t.pss); jnum(tot, "uss", t.uss); jnum(tot, "rss_summed", t.rss);
        jnum(tot, "swap", t.swap); jnum(tot, "swap_pss", t.swap_pss); jnum(tot, "pss_shmem", t.pss_shmem);
        jnum(tot, "open_files", t.open_files);
        jnum(tot, "omitted_processes", t.n_omitted); jnum(tot, "omitted_pss", t.omitted_pss);
        jnum(tot, "omitted_rss", t.omitted_rss);
        cJSON *bk = cJSON_AddObjectToObject(tot, "by_kind");
        for (uint32_t k = 0; bk && k < 3; k++) {
            cJSON *x = cJSON_AddObjectToObject(bk, kind_word(k));
            if (!x) break;
            jnum(x, "processes", t.all_kind[k]); jnum(x, "pss", t.pss_kind[k]); jnum(x, "rss", t.rss_kind[k]);
            jnum(x, "uss", t.uss_kind[k]); jnum(x, "swap", t.swap_kind[k]);
        }
    }
    cJSON *rs = cJSON_AddObjectToObject(o, "read_status");
    if (rs) {
        jnum(rs, "complete", t.n_full); jnum(rs, "vanished", t.n_vanished); jnum(rs, "zombie", t.n_zombie);
        jnum(rs, "denied", t.n_denied); jnum(rs, "no_smaps_rollup", t.n_no_rollup);
    }
    sd_stale *sv;
    size_t nsv;
    if (snap_stale_build(s, &sv, &nsv) == 0) {
        cJSON *sa = cJSON_AddArrayToObject(o, "processes_using_deleted_files");
        for (size_t i = 0; sa && i < nsv; i++) {
            cJSON *x = cJSON_CreateObject();
            jnum(x, "pid", sv[i].p->pid);
            cJSON_AddItemToObject(x, "name", jstr(sv[i].p->name));
            cJSON_AddBoolToObject(x, "exe_deleted", sv[i].exe_deleted);
            cJSON *la = cJSON_AddArrayToObject(x, "libraries");
            for (size_t j = 0; la && j < sv[i].nlibs; j++) cJSON_AddItemToArray(la, jstr(sv[i].libs[j]->path));
            cJSON_AddItemToArray(sa, x);
        }
        snap_stale_free(sv, nsv);
    }
    cJSON *procs = cJSON_AddArrayToObject(o, "processes");
    for (size_t i = 0; procs && i < s->nprocs; i++)
        if (only_pid <= 0 || s->procs[i].pid == (uint64_t)only_pid)
            cJSON_AddItemToArray(procs, jproc(&s->procs[i]));
    return o;
}

static char *json_of(const snap_file *sf, long only_pid, long only_snap)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "format", "memscope-snapshot");
    cJSON_AddStringToObject(root, "version", MS_VERSION_STRING);
    cJSON_AddStringToObject(root, "units", "bytes");
    cJSON *arr = cJSON_AddArrayToObject(root, "snapshots");
    for (size_t i = 0; arr && i < sf->nsnaps; i++)
        if (only_snap < 0 || (size_t)only_snap == i) cJSON_AddItemToArray(arr, jsnap(&sf->snaps[i], only_pid));
    if (sf->nsnaps > 1 && only_snap < 0) {
        snap_series g;
        if (snap_series_build(sf, &g) == 0) {
            cJSON *gr = cJSON_AddObjectToObject(root, "growth");
            jnum(gr, "span_ms", g.span_ns / 1000000);
            cJSON_AddNumberToObject(gr, "total_pss_delta", (double)g.d_total_pss);
            cJSON_AddNumberToObject(gr, "total_pss_mb_per_hour", g.total_mb_per_hour);
            jnum(gr, "min_snapshots_for_rate", g.min_seen);
            cJSON *pa = cJSON_AddArrayToObject(gr, "processes");
            for (size_t i = 0; pa && i < g.n; i++) {
                const snap_growth *x = &g.g[i];
                if (only_pid > 0 && x->last->pid != (uint64_t)only_pid) continue;
                cJSON *o = cJSON_CreateObject();
                jnum(o, "pid", x->last->pid);
                cJSON_AddItemToObject(o, "name", jstr(x->last->name));
                jnum(o, "snapshots_seen", x->seen);
                jnum(o, "pss_first", x->first->pss); jnum(o, "pss_last", x->last->pss);
                cJSON_AddNumberToObject(o, "pss_delta", (double)x->d_pss);
                cJSON_AddNumberToObject(o, "rss_delta", (double)x->d_rss);
                cJSON_AddNumberToObject(o, "uss_delta", (double)x->d_uss);
                cJSON_AddBoolToObject(o, "rated", x->rated);
                if (x->rated) {
                    cJSON_AddNumberToObject(o, "pss_mb_per_hour", x->pss_mb_per_hour);
                    cJSON_AddNumberToObject(o, "r2", x->r2);
                } else {
                    cJSON_AddNullToObject(o, "pss_mb_per_hour");
                    cJSON_AddNullToObject(o, "r2");
                }
                cJSON_AddItemToArray(pa, o);
            }
            snap_series_free(&g);
        }
    }
    ms_integrity *in = (ms_integrity *)&sf->integrity;
    cJSON *ig = cJSON_AddObjectToObject(root, "integrity");
    if (ig) {
        cJSON_AddStringToObject(ig, "verdict", in->verdict == MS_OK ? "ok" : ms_strerror(in->verdict));
        cJSON_AddBoolToObject(ig, "complete", sf->has_end);
    }
    char *out = cJSON_PrintBuffered(root, 1 << 16, 1);
    cJSON_Delete(root);
    return out;
}

/* ---- entry ------------------------------------------------------------------ */

static int parse_num(const char *s, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min) return -1;
    *out = v;
    return 0;
}

int msconv_snapshot(int argc, char **argv)
{
    const char *file = NULL, *out = NULL, *lang_s = NULL;
    int view = 't';
    long pid = 0, top = 20, idx = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--text")) view = 't';
        else if (!strcmp(a, "--json")) view = 'j';
        else if (!strcmp(a, "--html") || !strncmp(a, "--html=", 7)) {
            /* --html OUT, --html=OUT, or --html with -o OUT (as for heap traces) */
            view = 'h';
            if (a[6] == '=') out = a + 7;
            else if (v && (v[0] != '-' || !strcmp(v, "-"))) out = argv[++i];
        }
        else if (!strcmp(a, "--pid") || !strcmp(a, "--top") || !strcmp(a, "--snapshot") ||
                 !strcmp(a, "--lang") || !strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!v) { fprintf(stderr, MS_CM("msconv: %s 需要一个值\n", "msconv: %s needs a value\n"), a); return 2; }
            i++;
            int bad = 0;
            if (!strcmp(a, "--pid")) bad = parse_num(v, 1, &pid);
            else if (!strcmp(a, "--top")) bad = parse_num(v, 0, &top);
            else if (!strcmp(a, "--snapshot")) bad = parse_num(v, 0, &idx);
            else if (!strcmp(a, "--lang")) lang_s = v;
            else out = v;
            if (bad) { fprintf(stderr, MS_CM("msconv: %s: 无效的值 '%s'\n", "msconv: %s: invalid value '%s'\n"), a, v); return 2; }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, MS_CM("msconv: 快照文件不支持选项 '%s'（见 msconv --help）\n", "msconv: unknown option '%s' for a snapshot file (try msconv --help)\n"), a);
            return 2;
        } else if (!file) file = a;
        else { fprintf(stderr, MS_CM("msconv: 输入文件不止一个（'%s'）\n", "msconv: more than one input file ('%s')\n"), a); return 2; }
    }
    if (!file) { usage(stderr); return 2; }
    ms_lang L = MS_LANG_ZH;
    if (lang_s && ms_lang_parse(lang_s, &L)) {
        fprintf(stderr, MS_CM("msconv: --lang: 只能是 zh 或 en，而不是 '%s'\n", "msconv: --lang: expected zh or en, got '%s'\n"), lang_s);
        return 2;
    }
    if (view == 'h' && (!out || !out[0])) {
        return msconv_usage_error("%s", MS_CM("--html 需要输出文件（--html OUT；'-' 为标准输出）",
                                              "--html needs an output file (--html OUT; '-' for stdout)"));
    }
    char err[256];
    snap_file *sf = NULL;
    if (snap_file_load(file, &sf, err, sizeof err)) {
        fprintf(stderr, "msconv: %s: %s\n", file, err);
        return 1;
    }
    if (idx >= 0 && (size_t)idx >= sf->nsnaps) {
        if (ms_cli() == MS_LANG_ZH)
            fprintf(stderr, "msconv: %s: --snapshot %ld：文件只有 %zu 个快照\n", file, idx, sf->nsnaps);
        else
            fprintf(stderr, "msconv: %s: --snapshot %ld: the file has %zu snapshot%s\n", file, idx, sf->nsnaps,
                    sf->nsnaps == 1 ? "" : "s");
        snap_file_free(sf);
        return 1;
    }
    if (sf->integrity.verdict != MS_OK)
        fprintf(stderr, MS_CM("msconv: %s: 警告：文件已损坏（%s），只显示能读出的部分\n",
                              "msconv: %s: warning: damaged file (%s), showing what could be read\n"), file,
                ms_cli_mserror(sf->integrity.verdict));
    size_t use = idx >= 0 ? (size_t)idx : sf->nsnaps - 1;
    const snap_proc *p = NULL;
    if (pid > 0) {
        /* the chosen snapshot, else the last one holding the process */
        p = snap_find_pid(&sf->snaps[use], (uint64_t)pid);
        for (size_t k = sf->nsnaps; !p && idx < 0 && k-- > 0; ) {
            p = snap_find_pid(&sf->snaps[k], (uint64_t)pid);
            if (p) use = k;
        }
        if (!p) {
            fprintf(stderr, MS_CM("msconv: %s: 快照中没有进程 %ld\n", "msconv: %s: process %ld is not in the snapshot\n"), file, pid);
            snap_file_free(sf);
            return 1;
        }
    }
    ms_outfile of;
    if (ms_outfile_open_as(&of, out, view == 'j' ? MS_TERM_JSON : view == 'h' ? 0 : MS_TERM_TEXT)) {
        fprintf(stderr, "msconv: %s: %s\n", out, ms_outfile_strerror());
        snap_file_free(sf);
        return 1;
    }
    int rc = 0;
    if (view == 'j') {
        char *js = json_of(sf, pid, idx);
        if (!js) rc = -1;
        else { fputs(js, of.fp); fputc('\n', of.fp); free(js); }
    } else if (view == 'h') {
        rc = msconv_snapshot_html(of.fp, L, sf, use, file);
    } else if (p) {
        rc = view_pid(of.fp, L, &sf->snaps[use], p);
    } else {
        rc = view_text(of.fp, L, sf, use, top);
    }
    if (rc) {
        int werr = ms_outfile_write_error(&of);
        ms_outfile_abort(&of);
        if (werr) fprintf(stderr, MS_CM("msconv: %s: 写入失败：%s\n", "msconv: %s: write failed: %s\n"),
                         out && strcmp(out, "-") ? out : "stdout", ms_cli_strerror(werr));
        else fprintf(stderr, "msconv: %s: %s\n", file, ms_cli_strerror(ENOMEM));
    } else if (ms_outfile_commit(&of)) {
        fprintf(stderr, "msconv: %s: %s\n", out ? out : "stdout", ms_outfile_strerror());
        rc = -1;
    }
    snap_file_free(sf);
    return rc ? 1 : 0;
}
