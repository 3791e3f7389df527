/*
 * Markdown report of a snapshot diff (diff_report_中文.md), following seed
 * 000's structure: a one-line summary and the biggest causes, then 总体分析
 * (totals with percentages, system configuration, shared memory, libraries
 * over all processes, read status), then 新增进程, 已删除进程 and 发生变化的
 * 进程, each grouped into 内核进程 / 系统进程 / 用户进程 and sorted by |ΔPSS|,
 * with memory changes below --threshold folded into one line per group —
 * numbers fold, facts never do: small added and removed processes are
 * still named in a compact list, and restarts, library and executable
 * changes and open-file changes stay. A warning opens the report when a
 * side has processes whose memory could not be read; the totals are then
 * over readable processes only. 总体分析 also shows where MemTotal −
 * MemAvailable goes (processes, shmem, kernel, page cache, reserve), and
 * two sections list restarts and the processes still using deleted files.
 * Every text that comes from /proc goes through ms_md_text, so names
 * holding | ` < > or newlines cannot break a table. `--lang en` prints the
 * same report in English.
 */
#include "msdiff.h"
#include "snapdiff.h"
#include "fmt.h"
#include "md.h"
#include "snaplabels.h"
#include <stdlib.h>
#include <string.h>

#define B(x) ms_fmt_bytes(MS_FBUF, (x))
#define SB(x) ms_fmt_sbytes(MS_FBUF, (x))
#define PC(a, b) ms_i18n_pct_change(L, (a), (b), MS_FBUF)

static const ms_msg
    M_TITLE = {"内存差异分析报告", "Memory diff report"},
    M_SUMMARY = {"摘要", "Summary"},
    M_SUM_FMT1 = {"新增 %zu 个进程，删除 %zu 个，增长 %zu 个，减少 %zu 个", "added %zu processes, removed %zu, %zu grew, %zu shrank"},
    M_SUM_NET = {"；进程 PSS 合计净变化 %s（%s）", "; net change of process PSS %s (%s)"},
    M_CAUSES = {"主要原因", "Biggest causes"},
    M_NOCAUSE = {"没有超过阈值的变化。", "No change above the threshold."},
    M_C_ADDED = {"新增进程", "new process"}, M_C_REMOVED = {"已删除进程", "removed process"},
    M_C_GREW = {"进程增长", "process grew"}, M_C_SHRANK = {"进程减少", "process shrank"},
    M_C_LIB = {"动态库（所有进程合计）", "library (all processes)"},
    M_C_SHMEM = {"系统共享内存 Shmem", "system shared memory (Shmem)"},
    M_BEFORE = {"之前", "Before"}, M_AFTER = {"之后", "After"}, M_CHANGE = {"变化", "Change"},
    M_RATE = {"变化率", "Change %"},
    M_SNAPSHOT = {"快照", "Snapshot"}, M_FILE = {"文件", "File"}, M_TIME = {"时间", "Time"},
    M_HOST = {"主机", "Host"}, M_NPROC = {"进程数", "Processes"},
    M_RULE = {"进程匹配规则", "Process matching rule"},
    M_RULE_PID = {"两次快照来自同一次启动（boot_id 相同），按（PID，启动时间）匹配进程。",
                  "both snapshots come from the same boot (same boot_id): processes are matched by (PID, start time)."},
    M_RULE_PID_FORCED = {"按（PID，启动时间）匹配进程（--match pid）。", "processes are matched by (PID, start time) (--match pid)."},
    M_RULE_KEY = {"两次快照来自不同的启动（boot_id 不同），按（可执行文件，规范化命令行，用户）匹配进程，同一键的多个实例合并统计（×N 表示实例数）。",
                  "the snapshots come from different boots (boot_id differs): processes are matched by (executable, normalized command line, user); several instances of one key are added up (×N = instances)."},
    M_RULE_KEY_FORCED = {"按（可执行文件，规范化命令行，用户）匹配进程，同一键的多个实例合并统计（×N 表示实例数）（--match key）。",
                         "processes are matched by (executable, normalized command line, user); several instances of one key are added up (×N = instances) (--match key)."},
    M_THRESH = {"折叠阈值", "Folding threshold"},
    M_THRESH_TXT = {"PSS 变化小于 %s 的进程折叠为每组一行汇总。", "processes whose PSS changed by less than %s are folded into one line per group."},
    M_OVERALL = {"总体分析", "Overall analysis"},
    M_TOTALS = {"内存总量", "Memory totals"}, M_METRIC = {"指标", "Metric"},
    M_PSS_SUM = {"PSS 合计（所有进程）", "PSS total (all processes)"},
    M_USS_SUM = {"USS 合计（私有内存）", "USS total (private memory)"},
    M_RSS_SUM = {"RSS 合计（共享页重复计算）", "RSS total (shared pages counted repeatedly)"},
    M_PSS_SUM_K = {"PSS 合计（仅可读进程）", "PSS total (readable processes only)"},
    M_USS_SUM_K = {"USS 合计（仅可读进程）", "USS total (readable processes only)"},
    M_RSS_SUM_K = {"RSS 合计（仅可读进程，共享页重复计算）", "RSS total (readable processes only, shared pages counted repeatedly)"},
    M_SWAP_SUM_K = {"Swap 合计（仅可读进程）", "Swap total (readable processes only)"},
    M_WARN = {"注意", "Warning"},
    M_WARN_TXT = {"有进程的内存无法读取（权限不足）：", "Processes whose memory could not be read (permission denied): "},
    M_WARN_A = {"之前的快照 %llu 个%s", "%llu in the snapshot before%s"},
    M_WARN_B = {"之后的快照 %llu 个%s", "%llu in the snapshot after%s"},
    M_WARN_AND = {"，", "; "},
    M_WARN_NOTROOT = {"（采集时不是 root，用 sudo msrec snapshot 采集可读取）", " (not taken as root: take it with sudo msrec snapshot)"},
    M_WARN_END = {"。它们的内存变化未知：不计入净变化、合计和主要原因，合计只含可读的进程（%zu 个匹配项受影响）。",
                  ". Their memory change is unknown: it is left out of the net change, the totals and the causes; the totals cover readable processes only (%zu entries affected)."},
    M_UNKNOWN_MEM = {"内存未知", "memory unknown"},
    M_MEMUSE = {"内存去向（已用 = MemTotal − MemAvailable）", "Where memory goes (used = MemTotal − MemAvailable)"},
    M_GROUP = {"类别", "Group"},
    M_USED = {"已用 MemTotal − MemAvailable", "Used: MemTotal − MemAvailable"},
    M_REF_PSS = {"参考：可读进程 PSS 合计（含文件映射页，内核将其计入可用内存）", "For reference: PSS of readable processes (incl. file-backed pages, which the kernel counts as available)"},
    M_REF_CACHE = {"参考：页缓存 Cached", "For reference: page cache (Cached)"},
    M_REF_SRECL = {"参考：Slab 可回收 SReclaimable", "For reference: reclaimable slab (SReclaimable)"},
    M_NOZONE = {"（旧格式快照没有 /proc/zoneinfo：保留、每 CPU 列表与不计为可用的缓存都算在“其余”里。）",
                "(A snapshot of an older format has no /proc/zoneinfo: the reserve, per-CPU lists and kept caches are in the rest.)"},
    M_RESTARTS = {"重启的进程", "Restarted processes"},
    M_RESTART_TXT = {"同一可执行文件、命令行和用户，新的 PID 或启动时间。", "same executable, command line and user; a new PID or start time."},
    M_STALE = {"需要重启的进程（仍在使用已删除或已替换的文件）", "Processes to restart (still using deleted or replaced files)"},
    M_STALE_TXT = {"之后的快照中，这些进程仍映射着磁盘上已删除或已被替换的可执行文件或库（升级后未重启，类似 needrestart）。",
                   "In the snapshot after, these processes still map executables or libraries that were deleted or replaced on disk (not restarted after an upgrade, like needrestart)."},
    M_STALE_EXE = {"可执行文件已删除或替换", "executable deleted or replaced"},
    M_FILES_D = {"已删除的文件（映射大小）", "Deleted files (mapped size)"},
    M_SMALL_ADD = {"PSS 小于阈值的 %llu 个进程（PSS 合计 %s）：", "%llu processes below the threshold (PSS total %s): "},
    M_SMALL_CHG_FOLD = {"另有 %llu 个进程的 PSS 变化小于阈值，合计 %s。", "%llu more processes changed by less than the threshold, total %s."},
    M_D_LIBDELD = {"库已删除或替换（仍在映射旧文件）", "libraries deleted or replaced on disk (old file still mapped)"},
    M_D_EXEDEL = {"可执行文件已删除或替换（仍在运行旧文件）", "executable deleted or replaced on disk (old file still running)"},
    M_D_RESTART = {"已重启", "restarted"},
    M_SWAP_SUM = {"Swap 合计（进程）", "Swap total (processes)"},
    M_SWAP_SYS = {"系统 Swap 已用", "System swap used"},
    M_AVAIL = {"可用内存 MemAvailable", "MemAvailable"},
    M_CONFIG = {"系统配置变化", "System configuration changes"}, M_ITEM = {"项目", "Item"},
    M_CHANGED = {"已变化", "changed"}, M_SAME = {"未变", "same"},
    M_CFG_kernel = {"内核版本", "Kernel"}, M_CFG_os = {"操作系统", "OS"}, M_CFG_page = {"页大小", "Page size"},
    M_CFG_mem = {"总内存 MemTotal", "Total memory (MemTotal)"}, M_CFG_swap = {"Swap 总量", "Swap total"},
    M_CFG_host = {"主机名", "Hostname"},
    M_SHMEM = {"共享内存变化", "Shared memory change"},
    M_SHMEM_SYS = {"系统共享内存 Shmem（/proc/meminfo，含 tmpfs、SysV/POSIX 共享内存）", "System Shmem (/proc/meminfo: tmpfs, SysV/POSIX shared memory)"},
    M_SHMEM_PSS = {"进程共享内存 PSS 合计（Pss_Shmem）", "Process shared memory PSS total (Pss_Shmem)"},
    M_SHMEM_RSS = {"进程共享内存 RSS 合计（RssShmem）", "Process shared memory RSS total (RssShmem)"},
    M_LIBS = {"动态库与映射文件变化（所有进程合计）", "Library and mapped file changes (all processes)"},
    M_LIB = {"库", "Library"}, M_LIBPROCS = {"进程数", "Processes"}, M_DISK = {"磁盘大小", "Size on disk"},
    M_NOLIB = {"没有变化。", "No change."},
    M_NOLIBMEM = {"快照未包含各库的 RSS/PSS（用 `msrec snapshot --lib-memory` 采集可得）。",
                  "The snapshots hold no per-library RSS/PSS (take them with `msrec snapshot --lib-memory`)."},
    M_MORE_LIBS = {"另有 %zu 个库有变化（见 JSON 报告）。", "%zu more libraries changed (see the JSON report)."},
    M_READ = {"读取状态", "Read status"},
    M_R_FULL = {"完整读取", "read completely"}, M_R_VAN = {"扫描中退出（不参与匹配）", "exited during the scan (not matched)"},
    M_R_ZOMBIE = {"僵尸进程", "zombies"},
    M_R_DENIED = {"权限不足（无 PSS 等数据）", "permission denied (no PSS etc.)"},
    M_R_OMIT = {"未记录（--max-processes），PSS 合计", "not recorded (--max-processes), PSS total"},
    M_ADDED = {"新增进程", "Added processes"}, M_REMOVED = {"已删除进程", "Removed processes"},
    M_CHANGED_P = {"发生变化的进程", "Changed processes"},
    M_NONE = {"无。", "None."},
    M_PROC = {"进程", "Process"}, M_USER = {"用户", "User"}, M_FILES = {"打开文件", "Open files"},
    M_CMD = {"命令行", "Command line"},
    M_UNCHANGED = {"%zu 个匹配的进程没有变化。", "%zu matched processes did not change."},
    M_DETAILS = {"变化详情", "Details"},
    M_D_MEM = {"内存", "memory"}, M_D_EXE = {"可执行文件大小", "executable size"},
    M_D_EXEPATH = {"可执行文件", "executable"},
    M_D_LIBADD = {"新增库", "libraries added"}, M_D_LIBDEL = {"移除库", "libraries removed"},
    M_D_LIBSZ = {"库大小变化", "libraries resized"},
    M_D_FILES = {"打开文件数", "open files"}, M_D_SHMEM = {"共享内存 PSS", "shared memory PSS"},
    M_D_INST = {"实例数", "instances"},
    M_PSS_B = {"PSS 之前", "PSS before"}, M_PSS_A = {"PSS 之后", "PSS after"},
    M_DELETED = {"已删除", "deleted"}, M_SEP = {"；", "; "}, M_COMMA = {"，", ", "}, M_LP = {"（", " ("}, M_RP = {"）", ")"};

static void md(FILE *f, snap_str s) { ms_md_text(f, s.p, s.n, 0); }

static void pid_cell(FILE *f, ms_lang L, const sd_entry *e)
{
    if (e->a && e->b && e->a->pid != e->b->pid) ms_lang_fprintf(f, L, "%llu→%llu", (unsigned long long)e->a->pid, (unsigned long long)e->b->pid);
    else ms_lang_fprintf(f, L, "%llu", (unsigned long long)(e->b ? e->b : e->a)->pid);
    uint64_t na = e->before.count, nb = e->after.count;
    if (na > 1 || nb > 1) {
        if (e->a && e->b && na != nb) ms_lang_fprintf(f, L, " (×%llu→×%llu)", (unsigned long long)na, (unsigned long long)nb);
        else ms_lang_fprintf(f, L, " (×%llu)", (unsigned long long)(nb ? nb : na));
    }
}

static const char *files_str(char *buf, int64_t v)
{
    if (v < 0) strcpy(buf, "?");
    else snprintf(buf, 32, "%lld", (long long)v);
    return buf;
}

static void cause_line(FILE *f, ms_lang L, const sd_cause *c)
{
    switch (c->type) {
    case SD_CAUSE_ADDED: case SD_CAUSE_REMOVED: case SD_CAUSE_GREW: case SD_CAUSE_SHRANK: {
        const ms_msg *m = c->type == SD_CAUSE_ADDED ? &M_C_ADDED : c->type == SD_CAUSE_REMOVED ? &M_C_REMOVED
                        : c->type == SD_CAUSE_GREW ? &M_C_GREW : &M_C_SHRANK;
        ms_lang_fprintf(f, L, "%s **", MS_T(L, *m));
        md(f, c->entry->name);
        ms_lang_fprintf(f, L, "**%sPID ", MS_T(L, M_LP));
        pid_cell(f, L, c->entry);
        ms_lang_fprintf(f, L, "%s%s%s: PSS %s\n", MS_T(L, M_COMMA),
                L == MS_LANG_EN ? ms_i18n_kind(L, c->entry->kind) : ms_i18n_kind_plural(L, c->entry->kind),
                MS_T(L, M_RP), SB(c->delta));
        break;
    }
    case SD_CAUSE_LIB:
        ms_lang_fprintf(f, L, "%s ", MS_T(L, M_C_LIB));
        md(f, c->lib->path);
        ms_lang_fprintf(f, L, "%s%s %llu→%llu%s: PSS %s\n", MS_T(L, M_LP), MS_T(L, M_LIBPROCS), (unsigned long long)c->lib->procs_a,
                (unsigned long long)c->lib->procs_b, MS_T(L, M_RP), SB(c->delta));
        break;
    case SD_CAUSE_SHMEM:
        ms_lang_fprintf(f, L, "%s: %s\n", MS_T(L, M_C_SHMEM), SB(c->delta));
        break;
    }
}

static void total_row(FILE *f, ms_lang L, const ms_msg *m, uint64_t a, uint64_t b)
{
    ms_lang_fprintf(f, L, "| %s | %s | %s | %s | %s |\n", MS_T(L, *m), B(a), B(b), SB((int64_t)b - (int64_t)a), PC(a, b));
}

static void proc_table(FILE *f, ms_lang L, const sd_entry *const *v, size_t n, int status)
{
    char fb[32], fa[32];
    if (status == SD_CHANGED) {
        ms_md_table_head(f, "llrrrrrrrl", 10, MS_T(L, M_PROC), "PID", MS_T(L, M_PSS_B), MS_T(L, M_PSS_A), "ΔPSS", "ΔUSS", "ΔRSS", "ΔSwap",
                         MS_T(L, M_FILES), MS_T(L, M_USER));
    } else {
        ms_md_table_head(f, "llrrrrrll", 9, MS_T(L, M_PROC), "PID", "PSS", "USS", "RSS", "Swap", MS_T(L, M_FILES),
                         MS_T(L, M_USER), MS_T(L, M_CMD));
    }
    for (size_t i = 0; i < n; i++) {
        const sd_entry *e = v[i];
        fputs("| ", f);
        md(f, e->name);
        fputs(" | ", f);
        pid_cell(f, L, e);
        if (status == SD_CHANGED && e->mem_unknown) {
            ms_lang_fprintf(f, L, " | %s | %s | ? | ? | ? | ? | %s→%s | ", e->before.mem_unknown ? "?" : B(e->before.pss),
                    e->after.mem_unknown ? "?" : B(e->after.pss), files_str(fb, e->before.open_files),
                    files_str(fa, e->after.open_files));
            md(f, e->user);
            fputs(" |\n", f);
        } else if (status == SD_CHANGED) {
            ms_lang_fprintf(f, L, " | %s | %s | %s | %s | %s | %s | %s→%s | ", B(e->before.pss), B(e->after.pss), SB(e->d_pss),
                    SB(e->d_uss), SB(e->d_rss), SB(e->d_swap), files_str(fb, e->before.open_files),
                    files_str(fa, e->after.open_files));
            md(f, e->user);
            fputs(" |\n", f);
        } else if (e->mem_unknown) {
            const sd_side *s = status == SD_ADDED ? &e->after : &e->before;
            const snap_proc *p = status == SD_ADDED ? e->b : e->a;
            ms_lang_fprintf(f, L, " | ? | ? | %s | ? | %s | ", B(s->rss), files_str(fb, s->open_files));
            md(f, e->user);
            fputs(" | ", f);
            ms_md_text(f, p->cmdline.p, p->cmdline.n, 120);
            fputs(" |\n", f);
        } else {
            const sd_side *s = status == SD_ADDED ? &e->after : &e->before;
            const snap_proc *p = status == SD_ADDED ? e->b : e->a;
            ms_lang_fprintf(f, L, " | %s | %s | %s | %s | %s | ", B(s->pss), B(s->uss), B(s->rss), B(s->swap), files_str(fb, s->open_files));
            md(f, e->user);
            fputs(" | ", f);
            ms_md_text(f, p->cmdline.p, p->cmdline.n, 120);
            fputs(" |\n", f);
        }
    }
}

static void details(FILE *f, ms_lang L, const sd_entry *const *v, size_t n, int mem)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        const sd_entry *e = v[i];
        int has = e->nlibs || e->d_exe_size || e->exe_changed || e->exe_deleted || e->restarted || e->d_open_files ||
                  e->d_shmem || e->before.count != e->after.count;
        if (!has) continue;
        if (!any) { ms_lang_fprintf(f, L, "\n**%s**\n\n", MS_T(L, M_DETAILS)); any = 1; }
        fputs("- **", f);
        md(f, e->name);
        fputs(L == MS_LANG_EN ? "** (PID " : "**（PID ", f);
        pid_cell(f, L, e);
        if (e->mem_unknown) ms_lang_fprintf(f, L, "): %s PSS %s", MS_T(L, M_D_MEM), MS_T(L, M_UNKNOWN_MEM));
        else ms_lang_fprintf(f, L, "): %s PSS %s → %s (%s)", MS_T(L, M_D_MEM), B(e->before.pss), B(e->after.pss), SB(e->d_pss));
        if (e->restarted) ms_lang_fprintf(f, L, "%s%s", MS_T(L, M_SEP), MS_T(L, M_D_RESTART));
        if (e->exe_deleted) ms_lang_fprintf(f, L, "%s%s", MS_T(L, M_SEP), MS_T(L, M_D_EXEDEL));
        if (e->exe_changed) {
            ms_lang_fprintf(f, L, "%s%s ", MS_T(L, M_SEP), MS_T(L, M_D_EXEPATH));
            md(f, e->a->exe);
            fputs(" → ", f);
            md(f, e->b->exe);
        }
        if (e->d_exe_size)
            ms_lang_fprintf(f, L, "%s%s %s → %s (%s)", MS_T(L, M_SEP), MS_T(L, M_D_EXE), B(e->before.exe_size),
                    B(e->after.exe_size), SB(e->d_exe_size));
        if (e->before.count != e->after.count)
            ms_lang_fprintf(f, L, "%s%s %llu → %llu", MS_T(L, M_SEP), MS_T(L, M_D_INST), (unsigned long long)e->before.count,
                    (unsigned long long)e->after.count);
        if (e->d_open_files)
            ms_lang_fprintf(f, L, "%s%s %lld → %lld (%+lld)", MS_T(L, M_SEP), MS_T(L, M_D_FILES), (long long)e->before.open_files,
                    (long long)e->after.open_files, (long long)e->d_open_files);
        if (e->d_shmem)
            ms_lang_fprintf(f, L, "%s%s %s → %s (%s)", MS_T(L, M_SEP), MS_T(L, M_D_SHMEM), B(e->before.pss_shmem),
                    B(e->after.pss_shmem), SB(e->d_shmem));
        static const int order[4] = {SD_LIB_DELETED, SD_LIB_ADDED, SD_LIB_REMOVED, SD_LIB_RESIZED};
        const ms_msg *names[4] = {&M_D_LIBDELD, &M_D_LIBADD, &M_D_LIBDEL, &M_D_LIBSZ};
        for (int k = 0; k < 4; k++) {
            int first = 1;
            size_t shown = 0, total = 0;
            for (size_t j = 0; j < e->nlibs; j++) {
                const sd_lib *l = &e->libs[j];
                if (l->change != order[k]) continue;
                total++;
                if (shown >= 10) continue;
                ms_lang_fprintf(f, L, "%s", first ? MS_T(L, M_SEP) : MS_T(L, M_COMMA));
                if (first) ms_lang_fprintf(f, L, "%s: ", MS_T(L, *names[k]));
                first = 0;
                md(f, l->path);
                if (l->change == SD_LIB_DELETED) {
                    ms_lang_fprintf(f, L, " (%s%s%s %s", MS_T(L, M_DELETED), MS_T(L, M_COMMA), L == MS_LANG_EN ? "mapped" : "映射", B(l->mapped_b));
                    if (l->disk_a) ms_lang_fprintf(f, L, "%s%s %s", MS_T(L, M_COMMA), L == MS_LANG_EN ? "was" : "原文件", B(l->disk_a));
                    fputs(MS_T(L, M_RP), f);
                    shown++;
                    continue;
                }
                if (l->change == SD_LIB_ADDED && mem) ms_lang_fprintf(f, L, " (%s, PSS %s)", B(l->disk_b), B(l->pss_b));
                else if (l->change == SD_LIB_REMOVED && mem) ms_lang_fprintf(f, L, " (%s, PSS %s)", B(l->disk_a), B(l->pss_a));
                else if (l->change == SD_LIB_ADDED) ms_lang_fprintf(f, L, " (%s)", B(l->disk_b));
                else if (l->change == SD_LIB_REMOVED) ms_lang_fprintf(f, L, " (%s)", B(l->disk_a));
                else ms_lang_fprintf(f, L, " (%s → %s, %s)", B(l->disk_a), B(l->disk_b), SB((int64_t)l->disk_b - (int64_t)l->disk_a));
                shown++;
            }
            if (total > shown) ms_lang_fprintf(f, L, "%s… +%zu", MS_T(L, M_COMMA), total - shown);
        }
        fputc('\n', f);
    }
}

static int section(FILE *f, ms_lang L, const snap_diff *d, int status, const ms_msg *title, size_t count)
{
    ms_lang_fprintf(f, L, "\n## %s (%zu)\n", MS_T(L, *title), count);
    if (!count) { ms_lang_fprintf(f, L, "\n%s\n", MS_T(L, M_NONE)); }
    for (int kind = 0; kind < 3 && count; kind++) {
        size_t n;
        const sd_entry **v = snap_diff_section(d, status, kind, &n);
        if (!v) return -1;
        if (!n) { free(v); continue; }
        size_t shown = 0;
        const sd_entry **vis = malloc((n + 1) * sizeof *vis);
        if (!vis) { free(v); return -1; }
        for (size_t i = 0; i < n; i++) if (!v[i]->folded) vis[shown++] = v[i];
        int64_t sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += status == SD_ADDED ? (int64_t)v[i]->after.pss : status == SD_REMOVED ? -(int64_t)v[i]->before.pss : v[i]->d_pss;
        ms_lang_fprintf(f, L, "\n### %s (%zu%sPSS %s)\n\n", ms_i18n_kind_plural(L, (uint32_t)kind), n, MS_T(L, M_COMMA), SB(sum));
        if (shown) proc_table(f, L, vis, shown, status);
        const sd_fold *fo = &d->fold[status][kind];
        if (fo->count && status == SD_CHANGED) {
            if (shown) fputc('\n', f);
            ms_lang_fprintf(f, L, MS_T(L, M_SMALL_CHG_FOLD), (unsigned long long)fo->count, SB(fo->sum));
            fputc('\n', f);
        } else if (fo->count) {
            /* small added/removed processes: still named, in one line */
            if (shown) fputc('\n', f);
            ms_lang_fprintf(f, L, MS_T(L, M_SMALL_ADD), (unsigned long long)fo->count, B((uint64_t)(fo->sum < 0 ? -fo->sum : fo->sum)));
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                const sd_entry *e = v[i];
                if (!e->folded) continue;
                const sd_side *sd = status == SD_ADDED ? &e->after : &e->before;
                if (k++) fputs(MS_T(L, M_COMMA), f);
                md(f, e->name);
                fputs(MS_T(L, M_LP), f);
                pid_cell(f, L, e);
                ms_lang_fprintf(f, L, ", %s)", sd->mem_unknown ? "PSS ?" : B(sd->pss));
            }
            fputc('\n', f);
        }
        if (status == SD_CHANGED) details(f, L, vis, shown, d->has_lib_memory);
        free(vis);
        free(v);
    }
    return 0;
}

int msdiff_snapshot_md(FILE *f, const snap_diff *d, const msdiff_args *args)
{
    ms_lang L = args->lang;
    const snap *a = d->a, *b = d->b;
    ms_lang_fprintf(f, L, "# %s\n\n", MS_T(L, M_TITLE));
    int unknown = d->unknown_a || d->unknown_b;
    if (unknown) {
        const char *nr_a = a->privilege == MS_PRIV_USER ? MS_T(L, M_WARN_NOTROOT) : "";
        const char *nr_b = b->privilege == MS_PRIV_USER ? MS_T(L, M_WARN_NOTROOT) : "";
        ms_lang_fprintf(f, L, "> ⚠ **%s**: %s", MS_T(L, M_WARN), MS_T(L, M_WARN_TXT));
        if (d->unknown_a) ms_lang_fprintf(f, L, MS_T(L, M_WARN_A), (unsigned long long)d->unknown_a, nr_a);
        if (d->unknown_a && d->unknown_b) fputs(MS_T(L, M_WARN_AND), f);
        if (d->unknown_b) ms_lang_fprintf(f, L, MS_T(L, M_WARN_B), (unsigned long long)d->unknown_b, nr_b);
        ms_lang_fprintf(f, L, MS_T(L, M_WARN_END), d->nunknown_entries);
        fputs("\n\n", f);
    }
    /* one-line summary: readable processes only */
    uint64_t pa = d->known_pss_a + d->ta.omitted_pss, pb = d->known_pss_b + d->tb.omitted_pss;
    ms_lang_fprintf(f, L, "**%s**: ", MS_T(L, M_SUMMARY));
    ms_lang_fprintf(f, L, MS_T(L, M_SUM_FMT1), d->nadded, d->nremoved, d->ngrew, d->nshrank);
    ms_lang_fprintf(f, L, MS_T(L, M_SUM_NET), SB((int64_t)pb - (int64_t)pa), PC(pa, pb));
    fputs(L == MS_LANG_EN ? ".\n\n" : "。\n\n", f);
    ms_lang_fprintf(f, L, "**%s**:\n\n", MS_T(L, M_CAUSES));
    if (!d->ncauses) ms_lang_fprintf(f, L, "%s\n", MS_T(L, M_NOCAUSE));
    for (size_t i = 0; i < d->ncauses; i++) {
        ms_lang_fprintf(f, L, "%zu. ", i + 1);
        cause_line(f, L, &d->causes[i]);
    }
    fputc('\n', f);
    /* the two snapshots */
    ms_md_table_head(f, NULL, 3, "", MS_T(L, M_BEFORE), MS_T(L, M_AFTER));
    ms_lang_fprintf(f, L, "| %s | ", MS_T(L, M_SNAPSHOT)); md(f, a->label); fputs(" | ", f); md(f, b->label); fputs(" |\n", f);
    ms_lang_fprintf(f, L, "| %s | ", MS_T(L, M_FILE)); ms_md_str(f, args->a); fputs(" | ", f); ms_md_str(f, args->b); fputs(" |\n", f);
    ms_lang_fprintf(f, L, "| %s | %s | %s |\n", MS_T(L, M_TIME), ms_fmt_time(MS_FBUF, a->wall_ns), ms_fmt_time(MS_FBUF, b->wall_ns));
    ms_lang_fprintf(f, L, "| %s | ", MS_T(L, M_HOST)); md(f, a->hostname); fputs(" | ", f); md(f, b->hostname); fputs(" |\n", f);
    ms_lang_fprintf(f, L, "| %s | %llu | %llu |\n\n", MS_T(L, M_NPROC), (unsigned long long)(d->ta.nprocs + d->ta.n_omitted),
            (unsigned long long)(d->tb.nprocs + d->tb.n_omitted));
    const ms_msg *rule = d->rule == SD_RULE_PID ? (args->match == SD_RULE_AUTO ? &M_RULE_PID : &M_RULE_PID_FORCED)
                                                : (args->match == SD_RULE_AUTO ? &M_RULE_KEY : &M_RULE_KEY_FORCED);
    ms_lang_fprintf(f, L, "%s: %s\n\n", MS_T(L, M_RULE), MS_T(L, *rule));
    ms_lang_fprintf(f, L, "%s: ", MS_T(L, M_THRESH));
    ms_lang_fprintf(f, L, MS_T(L, M_THRESH_TXT), B(d->threshold));
    fprintf(f, "\n\n%s\n\n", ms_i18n_units(L));

    /* 总体分析 */
    ms_lang_fprintf(f, L, "## %s\n\n### %s\n\n", MS_T(L, M_OVERALL), MS_T(L, M_TOTALS));
    ms_md_table_head(f, "lrrrr", 5, MS_T(L, M_METRIC), MS_T(L, M_BEFORE), MS_T(L, M_AFTER), MS_T(L, M_CHANGE), MS_T(L, M_RATE));
    total_row(f, L, unknown ? &M_PSS_SUM_K : &M_PSS_SUM, pa, pb);
    total_row(f, L, unknown ? &M_USS_SUM_K : &M_USS_SUM, d->known_uss_a, d->known_uss_b);
    total_row(f, L, unknown ? &M_RSS_SUM_K : &M_RSS_SUM, d->known_rss_a + d->ta.omitted_rss, d->known_rss_b + d->tb.omitted_rss);
    total_row(f, L, unknown ? &M_SWAP_SUM_K : &M_SWAP_SUM, d->known_swap_a, d->known_swap_b);
    total_row(f, L, &M_SWAP_SYS, d->swapused_a, d->swapused_b);
    total_row(f, L, &M_AVAIL, d->memavail_a, d->memavail_b);
    /* kernel threads have no PSS: their row would always be 0 (kernel
     * memory is in the breakdown below) */
    for (int k = MS_PROC_SYSTEM; k < 3; k++) {
        ms_msg m = { NULL, NULL };
        char zh[64], en[64];
        snprintf(zh, sizeof zh, "PSS：%s", ms_i18n_kind_plural(MS_LANG_ZH, (uint32_t)k));
        snprintf(en, sizeof en, "PSS: %s", ms_i18n_kind_plural(MS_LANG_EN, (uint32_t)k));
        m.zh = zh; m.en = en;
        total_row(f, L, &m, d->known_kind_a[k], d->known_kind_b[k]);
    }

    if (d->mem_a.have && d->mem_b.have) {
        const snap_memuse *ma = &d->mem_a, *mb = &d->mem_b;
        ms_lang_fprintf(f, L, "\n### %s\n\n", MS_T(L, M_MEMUSE));
        ms_md_table_head(f, "llrrrr", 6, MS_T(L, M_GROUP), MS_T(L, M_ITEM), MS_T(L, M_BEFORE), MS_T(L, M_AFTER),
                         MS_T(L, M_CHANGE), MS_T(L, M_RATE));
        for (int r = 0; r < SM_NROWS; r++) {
            int64_t x = ma->row[r], y = mb->row[r];
            ms_lang_fprintf(f, L, "| %s | %s | %s%s | %s%s | %s | %s |\n", ms_memgroup_label(L, snap_memrow_group(r)),
                    ms_memrow_label(L, r), x < 0 ? "-" : "", B((uint64_t)(x < 0 ? -x : x)), y < 0 ? "-" : "",
                    B((uint64_t)(y < 0 ? -y : y)), SB(y - x), x > 0 && y >= 0 ? PC((uint64_t)x, (uint64_t)y) : (L == MS_LANG_EN ? "n/a" : "不适用"));
        }
        ms_lang_fprintf(f, L, "| | **%s** | **%s** | **%s** | **%s** | %s |\n", MS_T(L, M_USED), B(ma->used), B(mb->used),
                SB((int64_t)mb->used - (int64_t)ma->used), PC(ma->used, mb->used));
        ms_lang_fprintf(f, L, "| | %s | %s | %s | %s | %s |\n", MS_T(L, M_REF_PSS), B(ma->proc_pss), B(mb->proc_pss),
                SB((int64_t)mb->proc_pss - (int64_t)ma->proc_pss), PC(ma->proc_pss, mb->proc_pss));
        ms_lang_fprintf(f, L, "| | %s | %s | %s | %s | %s |\n", MS_T(L, M_REF_CACHE), B(ma->cached), B(mb->cached),
                SB((int64_t)mb->cached - (int64_t)ma->cached), PC(ma->cached, mb->cached));
        ms_lang_fprintf(f, L, "| | %s | %s | %s | %s | %s |\n", MS_T(L, M_REF_SRECL), B(ma->slab_recl), B(mb->slab_recl),
                SB((int64_t)mb->slab_recl - (int64_t)ma->slab_recl), PC(ma->slab_recl, mb->slab_recl));
        if (!ma->have_zone || !mb->have_zone) ms_lang_fprintf(f, L, "\n%s\n", MS_T(L, M_NOZONE));
    }

    ms_lang_fprintf(f, L, "\n### %s\n\n", MS_T(L, M_CONFIG));
    ms_md_table_head(f, NULL, 4, MS_T(L, M_ITEM), MS_T(L, M_BEFORE), MS_T(L, M_AFTER), MS_T(L, M_CHANGE));
    for (size_t i = 0; i < d->nconfig; i++) {
        const sd_config *c = &d->config[i];
        const ms_msg *m = !strcmp(c->field, "kernel") ? &M_CFG_kernel : !strcmp(c->field, "os_release") ? &M_CFG_os
                        : !strcmp(c->field, "page_size") ? &M_CFG_page : !strcmp(c->field, "mem_total") ? &M_CFG_mem
                        : !strcmp(c->field, "swap_total") ? &M_CFG_swap : &M_CFG_host;
        ms_lang_fprintf(f, L, "| %s | ", MS_T(L, *m));
        if (c->is_number) {
            if (!strcmp(c->field, "page_size")) ms_lang_fprintf(f, L, "%llu | %llu", (unsigned long long)c->nbefore, (unsigned long long)c->nafter);
            else ms_lang_fprintf(f, L, "%s | %s", B(c->nbefore), B(c->nafter));
        } else {
            md(f, c->before); fputs(" | ", f); md(f, c->after);
        }
        ms_lang_fprintf(f, L, " | %s", c->changed ? MS_T(L, M_CHANGED) : MS_T(L, M_SAME));
        if (c->changed && c->is_number && strcmp(c->field, "page_size"))
            ms_lang_fprintf(f, L, " (%s)", SB((int64_t)c->nafter - (int64_t)c->nbefore));
        fputs(" |\n", f);
    }

    ms_lang_fprintf(f, L, "\n### %s\n\n", MS_T(L, M_SHMEM));
    ms_md_table_head(f, "lrrrr", 5, MS_T(L, M_METRIC), MS_T(L, M_BEFORE), MS_T(L, M_AFTER), MS_T(L, M_CHANGE), MS_T(L, M_RATE));
    total_row(f, L, &M_SHMEM_SYS, d->shmem_a, d->shmem_b);
    total_row(f, L, &M_SHMEM_PSS, d->known_shmem_a, d->known_shmem_b);
    total_row(f, L, &M_SHMEM_RSS, d->ta.rss_shmem, d->tb.rss_shmem);

    ms_lang_fprintf(f, L, "\n### %s\n\n", MS_T(L, M_LIBS));
    if (!d->nlibsums) ms_lang_fprintf(f, L, "%s\n", MS_T(L, M_NOLIB));
    else {
        int mem = d->has_lib_memory;
        if (mem) ms_md_table_head(f, "lrrrrl", 6, MS_T(L, M_LIB), MS_T(L, M_LIBPROCS), MS_T(L, M_PSS_B), MS_T(L, M_PSS_A), "ΔPSS", MS_T(L, M_DISK));
        else ms_md_table_head(f, "lrl", 3, MS_T(L, M_LIB), MS_T(L, M_LIBPROCS), MS_T(L, M_DISK));
        size_t n = d->nlibsums < 15 ? d->nlibsums : 15;
        for (size_t i = 0; i < n; i++) {
            const sd_libsum *l = &d->libsums[i];
            fputs("| ", f);
            md(f, l->path);
            ms_lang_fprintf(f, L, " | %llu→%llu", (unsigned long long)l->procs_a, (unsigned long long)l->procs_b);
            if (mem) ms_lang_fprintf(f, L, " | %s | %s | %s", B(l->pss_a), B(l->pss_b), SB(l->d_pss));
            ms_lang_fprintf(f, L, " | %s", l->disk_a ? B(l->disk_a) : "-");
            if (l->disk_a != l->disk_b) ms_lang_fprintf(f, L, " → %s", l->disk_b ? B(l->disk_b) : "-");
            fputs(" |\n", f);
        }
        if (d->nlibsums > n) { fputc('\n', f); ms_lang_fprintf(f, L, MS_T(L, M_MORE_LIBS), d->nlibsums - n); fputc('\n', f); }
        if (!mem) ms_lang_fprintf(f, L, "\n%s\n", MS_T(L, M_NOLIBMEM));
    }

    ms_lang_fprintf(f, L, "\n### %s\n\n", MS_T(L, M_READ));
    ms_md_table_head(f, "lrr", 3, "", MS_T(L, M_BEFORE), MS_T(L, M_AFTER));
    ms_lang_fprintf(f, L, "| %s | %llu | %llu |\n", MS_T(L, M_R_FULL), (unsigned long long)d->ta.n_full, (unsigned long long)d->tb.n_full);
    ms_lang_fprintf(f, L, "| %s | %llu | %llu |\n", MS_T(L, M_R_VAN), (unsigned long long)d->ta.n_vanished, (unsigned long long)d->tb.n_vanished);
    ms_lang_fprintf(f, L, "| %s | %llu | %llu |\n", MS_T(L, M_R_ZOMBIE), (unsigned long long)d->ta.n_zombie, (unsigned long long)d->tb.n_zombie);
    ms_lang_fprintf(f, L, "| %s | %llu | %llu |\n", MS_T(L, M_R_DENIED), (unsigned long long)d->ta.n_denied, (unsigned long long)d->tb.n_denied);
    ms_lang_fprintf(f, L, "| %s | %llu (%s) | %llu (%s) |\n", MS_T(L, M_R_OMIT), (unsigned long long)d->ta.n_omitted, B(d->ta.omitted_pss),
            (unsigned long long)d->tb.n_omitted, B(d->tb.omitted_pss));

    if (d->nstale) {
        ms_lang_fprintf(f, L, "\n## %s (%zu)\n\n%s\n\n", MS_T(L, M_STALE), d->nstale, MS_T(L, M_STALE_TXT));
        ms_md_table_head(f, "llll", 4, MS_T(L, M_PROC), "PID", MS_T(L, M_USER), MS_T(L, M_FILES_D));
        for (size_t i = 0; i < d->nstale; i++) {
            const sd_stale *x = &d->stale[i];
            fputs("| ", f);
            md(f, x->p->name);
            ms_lang_fprintf(f, L, " | %llu | ", (unsigned long long)x->p->pid);
            md(f, x->p->user);
            fputs(" | ", f);
            size_t k = 0;
            if (x->exe_deleted) {
                md(f, x->p->exe);
                ms_lang_fprintf(f, L, " (%s%s%s)", MS_T(L, M_DELETED), MS_T(L, M_COMMA), MS_T(L, M_STALE_EXE));
                k++;
            }
            for (size_t j = 0; j < x->nlibs && j < 8; j++, k++) {
                if (k) fputs(MS_T(L, M_COMMA), f);
                md(f, x->libs[j]->path);
                ms_lang_fprintf(f, L, " (%s%s%s)", MS_T(L, M_DELETED), MS_T(L, M_COMMA), B(x->libs[j]->mapped));
            }
            if (x->nlibs > 8) ms_lang_fprintf(f, L, "%s… +%zu", MS_T(L, M_COMMA), x->nlibs - 8);
            fputs(" |\n", f);
        }
    }
    if (d->nrestarts) {
        ms_lang_fprintf(f, L, "\n## %s (%zu)\n\n%s\n\n", MS_T(L, M_RESTARTS), d->nrestarts, MS_T(L, M_RESTART_TXT));
        ms_md_table_head(f, "llrrl", 5, MS_T(L, M_PROC), "PID", MS_T(L, M_PSS_B), MS_T(L, M_PSS_A), MS_T(L, M_USER));
        for (size_t i = 0; i < d->n; i++) {
            const sd_entry *e = &d->e[i], *o = e->restart_pair;
            if (!e->restarted || e->status == SD_ADDED) continue;
            const sd_side *sa = &e->before, *sb = o ? &o->after : &e->after;
            const snap_proc *pb = o ? o->b : e->b;
            fputs("| ", f);
            md(f, e->name);
            ms_lang_fprintf(f, L, " | %llu→%llu | %s | %s | ", (unsigned long long)e->a->pid, (unsigned long long)pb->pid,
                    sa->mem_unknown ? "?" : B(sa->pss), sb->mem_unknown ? "?" : B(sb->pss));
            md(f, e->user);
            fputs(" |\n", f);
        }
    }
    if (section(f, L, d, SD_ADDED, &M_ADDED, d->nadded)) return -1;
    if (section(f, L, d, SD_REMOVED, &M_REMOVED, d->nremoved)) return -1;
    if (section(f, L, d, SD_CHANGED, &M_CHANGED_P, d->ngrew + d->nshrank + d->nchanged_other)) return -1;
    if (d->nunchanged) { fputc('\n', f); ms_lang_fprintf(f, L, MS_T(L, M_UNCHANGED), d->nunchanged); fputc('\n', f); }
    return ferror(f) ? -1 : 0;
}
