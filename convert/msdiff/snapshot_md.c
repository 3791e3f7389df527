/*
 * Markdown report of a snapshot diff (diff_report_中文.md), following seed
 * 000's structure: a one-line summary and the biggest causes, then 总体分析
 * (totals with percentages, system configuration, shared memory, libraries
 * over all processes, read status), then 新增进程, 已删除进程 and 发生变化的
 * 进程, each grouped into 内核进程 / 系统进程 / 用户进程 and sorted by |ΔPSS|,
 * with changes below --threshold folded into one line per group. Every
 * text that comes from /proc goes through ms_md_text, so names holding
 * | ` < > or newlines cannot break a table. `--lang en` prints the same
 * report in English.
 */
#include "msdiff.h"
#include "snapdiff.h"
#include "fmt.h"
#include "md.h"
#include <stdlib.h>
#include <string.h>

#define B(x) ms_fmt_bytes(MS_FBUF, (x))
#define SB(x) ms_fmt_sbytes(MS_FBUF, (x))
#define PC(a, b) ms_fmt_pct_change(MS_FBUF, (a), (b))

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
    M_RULE_PID = {"两次快照来自同一次启动（boot_id 相同），按 (PID, 启动时间) 匹配进程。",
                  "both snapshots come from the same boot (same boot_id): processes are matched by (PID, start time)."},
    M_RULE_PID_FORCED = {"按 (PID, 启动时间) 匹配进程（--match pid）。", "processes are matched by (PID, start time) (--match pid)."},
    M_RULE_KEY = {"两次快照来自不同的启动（boot_id 不同），按 (可执行文件, 规范化命令行, 用户) 匹配进程，同一键的多个实例合并统计（×N 表示实例数）。",
                  "the snapshots come from different boots (boot_id differs): processes are matched by (executable, normalized command line, user); several instances of one key are added up (×N = instances)."},
    M_RULE_KEY_FORCED = {"按 (可执行文件, 规范化命令行, 用户) 匹配进程，同一键的多个实例合并统计（×N 表示实例数）（--match key）。",
                         "processes are matched by (executable, normalized command line, user); several instances of one key are added up (×N = instances) (--match key)."},
    M_THRESH = {"折叠阈值", "Folding threshold"},
    M_THRESH_TXT = {"PSS 变化小于 %s 的进程折叠为每组一行汇总。", "processes whose PSS changed by less than %s are folded into one line per group."},
    M_OVERALL = {"总体分析", "Overall analysis"},
    M_TOTALS = {"内存总量", "Memory totals"}, M_METRIC = {"指标", "Metric"},
    M_PSS_SUM = {"PSS 合计（所有进程）", "PSS total (all processes)"},
    M_USS_SUM = {"USS 合计（私有内存）", "USS total (private memory)"},
    M_RSS_SUM = {"RSS 合计（共享页重复计算）", "RSS total (shared pages counted repeatedly)"},
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
    M_R_DENIED = {"权限不足（无 PSS 等数据，以 root 采集可读取）", "permission denied (no PSS etc.; snapshot as root to read them)"},
    M_R_OMIT = {"未记录（--max-processes），PSS 合计", "not recorded (--max-processes), PSS total"},
    M_ADDED = {"新增进程", "Added processes"}, M_REMOVED = {"已删除进程", "Removed processes"},
    M_CHANGED_P = {"发生变化的进程", "Changed processes"},
    M_NONE = {"无。", "None."},
    M_PROC = {"进程", "Process"}, M_USER = {"用户", "User"}, M_FILES = {"打开文件", "Open files"},
    M_CMD = {"命令行", "Command line"},
    M_FOLD_ADD = {"另有 %llu 个 PSS 小于阈值的进程，PSS 合计 %s。", "%llu more processes below the threshold, PSS total %s."},
    M_FOLD_CHG = {"另有 %llu 个进程的 PSS 变化小于阈值，合计 %s。", "%llu more processes changed by less than the threshold, total %s."},
    M_UNCHANGED = {"%zu 个匹配的进程没有变化。", "%zu matched processes did not change."},
    M_DETAILS = {"变化详情", "Details"},
    M_D_MEM = {"内存", "memory"}, M_D_EXE = {"可执行文件大小", "executable size"},
    M_D_EXEPATH = {"可执行文件", "executable"},
    M_D_LIBADD = {"新增库", "libraries added"}, M_D_LIBDEL = {"移除库", "libraries removed"},
    M_D_LIBSZ = {"库大小变化", "libraries resized"},
    M_D_FILES = {"打开文件数", "open files"}, M_D_SHMEM = {"共享内存 PSS", "shared memory PSS"},
    M_D_INST = {"实例数", "instances"},
    M_PSS_B = {"PSS 之前", "PSS before"}, M_PSS_A = {"PSS 之后", "PSS after"},
    M_SEP = {"；", "; "}, M_COMMA = {"，", ", "}, M_LP = {"（", " ("}, M_RP = {"）", ")"};

static void md(FILE *f, snap_str s) { ms_md_text(f, s.p, s.n, 0); }

static void pid_cell(FILE *f, const sd_entry *e)
{
    if (e->a && e->b && e->a->pid != e->b->pid) fprintf(f, "%llu→%llu", (unsigned long long)e->a->pid, (unsigned long long)e->b->pid);
    else fprintf(f, "%llu", (unsigned long long)(e->b ? e->b : e->a)->pid);
    uint64_t na = e->before.count, nb = e->after.count;
    if (na > 1 || nb > 1) {
        if (e->a && e->b && na != nb) fprintf(f, " (×%llu→×%llu)", (unsigned long long)na, (unsigned long long)nb);
        else fprintf(f, " (×%llu)", (unsigned long long)(nb ? nb : na));
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
        fprintf(f, "%s **", MS_T(L, *m));
        md(f, c->entry->name);
        fprintf(f, "**%sPID ", MS_T(L, M_LP));
        pid_cell(f, c->entry);
        fprintf(f, "%s%s%s: PSS %s\n", MS_T(L, M_COMMA),
                L == MS_LANG_EN ? ms_i18n_kind(L, c->entry->kind) : ms_i18n_kind_plural(L, c->entry->kind),
                MS_T(L, M_RP), SB(c->delta));
        break;
    }
    case SD_CAUSE_LIB:
        fprintf(f, "%s ", MS_T(L, M_C_LIB));
        md(f, c->lib->path);
        fprintf(f, "%s%s %llu→%llu%s: PSS %s\n", MS_T(L, M_LP), MS_T(L, M_LIBPROCS), (unsigned long long)c->lib->procs_a,
                (unsigned long long)c->lib->procs_b, MS_T(L, M_RP), SB(c->delta));
        break;
    case SD_CAUSE_SHMEM:
        fprintf(f, "%s: %s\n", MS_T(L, M_C_SHMEM), SB(c->delta));
        break;
    }
}

static void total_row(FILE *f, ms_lang L, const ms_msg *m, uint64_t a, uint64_t b)
{
    fprintf(f, "| %s | %s | %s | %s | %s |\n", MS_T(L, *m), B(a), B(b), SB((int64_t)b - (int64_t)a), PC(a, b));
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
        pid_cell(f, e);
        if (status == SD_CHANGED) {
            fprintf(f, " | %s | %s | %s | %s | %s | %s | %s→%s | ", B(e->before.pss), B(e->after.pss), SB(e->d_pss),
                    SB(e->d_uss), SB(e->d_rss), SB(e->d_swap), files_str(fb, e->before.open_files),
                    files_str(fa, e->after.open_files));
            md(f, e->user);
            fputs(" |\n", f);
        } else {
            const sd_side *s = status == SD_ADDED ? &e->after : &e->before;
            const snap_proc *p = status == SD_ADDED ? e->b : e->a;
            fprintf(f, " | %s | %s | %s | %s | %s | ", B(s->pss), B(s->uss), B(s->rss), B(s->swap), files_str(fb, s->open_files));
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
        int has = e->nlibs || e->d_exe_size || e->exe_changed || e->d_open_files || e->d_shmem ||
                  e->before.count != e->after.count;
        if (!has) continue;
        if (!any) { fprintf(f, "\n**%s**\n\n", MS_T(L, M_DETAILS)); any = 1; }
        fputs("- **", f);
        md(f, e->name);
        fputs("** (PID ", f);
        pid_cell(f, e);
        fprintf(f, "): %s PSS %s → %s (%s)", MS_T(L, M_D_MEM), B(e->before.pss), B(e->after.pss), SB(e->d_pss));
        if (e->exe_changed) {
            fprintf(f, "%s%s ", MS_T(L, M_SEP), MS_T(L, M_D_EXEPATH));
            md(f, e->a->exe);
            fputs(" → ", f);
            md(f, e->b->exe);
        }
        if (e->d_exe_size)
            fprintf(f, "%s%s %s → %s (%s)", MS_T(L, M_SEP), MS_T(L, M_D_EXE), B(e->before.exe_size),
                    B(e->after.exe_size), SB(e->d_exe_size));
        if (e->before.count != e->after.count)
            fprintf(f, "%s%s %llu → %llu", MS_T(L, M_SEP), MS_T(L, M_D_INST), (unsigned long long)e->before.count,
                    (unsigned long long)e->after.count);
        if (e->d_open_files)
            fprintf(f, "%s%s %lld → %lld (%+lld)", MS_T(L, M_SEP), MS_T(L, M_D_FILES), (long long)e->before.open_files,
                    (long long)e->after.open_files, (long long)e->d_open_files);
        if (e->d_shmem)
            fprintf(f, "%s%s %s → %s (%s)", MS_T(L, M_SEP), MS_T(L, M_D_SHMEM), B(e->before.pss_shmem),
                    B(e->after.pss_shmem), SB(e->d_shmem));
        static const int order[3] = {SD_LIB_ADDED, SD_LIB_REMOVED, SD_LIB_RESIZED};
        const ms_msg *names[3] = {&M_D_LIBADD, &M_D_LIBDEL, &M_D_LIBSZ};
        for (int k = 0; k < 3; k++) {
            int first = 1;
            size_t shown = 0, total = 0;
            for (size_t j = 0; j < e->nlibs; j++) {
                const sd_lib *l = &e->libs[j];
                if (l->change != order[k]) continue;
                total++;
                if (shown >= 10) continue;
                fprintf(f, "%s", first ? MS_T(L, M_SEP) : MS_T(L, M_COMMA));
                if (first) fprintf(f, "%s: ", MS_T(L, *names[k]));
                first = 0;
                md(f, l->path);
                if (l->change == SD_LIB_ADDED && mem) fprintf(f, " (%s, PSS %s)", B(l->disk_b), B(l->pss_b));
                else if (l->change == SD_LIB_REMOVED && mem) fprintf(f, " (%s, PSS %s)", B(l->disk_a), B(l->pss_a));
                else if (l->change == SD_LIB_ADDED) fprintf(f, " (%s)", B(l->disk_b));
                else if (l->change == SD_LIB_REMOVED) fprintf(f, " (%s)", B(l->disk_a));
                else fprintf(f, " (%s → %s, %s)", B(l->disk_a), B(l->disk_b), SB((int64_t)l->disk_b - (int64_t)l->disk_a));
                shown++;
            }
            if (total > shown) fprintf(f, "%s… +%zu", MS_T(L, M_COMMA), total - shown);
        }
        fputc('\n', f);
    }
}

static int section(FILE *f, ms_lang L, const snap_diff *d, int status, const ms_msg *title, size_t count)
{
    fprintf(f, "\n## %s (%zu)\n", MS_T(L, *title), count);
    if (!count) { fprintf(f, "\n%s\n", MS_T(L, M_NONE)); }
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
        fprintf(f, "\n### %s (%zu%sPSS %s)\n\n", ms_i18n_kind_plural(L, (uint32_t)kind), n, MS_T(L, M_COMMA), SB(sum));
        if (shown) proc_table(f, L, vis, shown, status);
        const sd_fold *fo = &d->fold[status][kind];
        if (fo->count) {
            if (shown) fputc('\n', f);
            if (status == SD_CHANGED) fprintf(f, MS_T(L, M_FOLD_CHG), (unsigned long long)fo->count, SB(fo->sum));
            else fprintf(f, MS_T(L, M_FOLD_ADD), (unsigned long long)fo->count, B((uint64_t)(fo->sum < 0 ? -fo->sum : fo->sum)));
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
    fprintf(f, "# %s\n\n", MS_T(L, M_TITLE));
    /* one-line summary */
    uint64_t pa = d->ta.pss + d->ta.omitted_pss, pb = d->tb.pss + d->tb.omitted_pss;
    fprintf(f, "**%s**: ", MS_T(L, M_SUMMARY));
    fprintf(f, MS_T(L, M_SUM_FMT1), d->nadded, d->nremoved, d->ngrew, d->nshrank);
    fprintf(f, MS_T(L, M_SUM_NET), SB((int64_t)pb - (int64_t)pa), PC(pa, pb));
    fputs(L == MS_LANG_EN ? ".\n\n" : "。\n\n", f);
    fprintf(f, "**%s**:\n\n", MS_T(L, M_CAUSES));
    if (!d->ncauses) fprintf(f, "%s\n", MS_T(L, M_NOCAUSE));
    for (size_t i = 0; i < d->ncauses; i++) {
        fprintf(f, "%zu. ", i + 1);
        cause_line(f, L, &d->causes[i]);
    }
    fputc('\n', f);
    /* the two snapshots */
    ms_md_table_head(f, NULL, 3, "", MS_T(L, M_BEFORE), MS_T(L, M_AFTER));
    fprintf(f, "| %s | ", MS_T(L, M_SNAPSHOT)); md(f, a->label); fputs(" | ", f); md(f, b->label); fputs(" |\n", f);
    fprintf(f, "| %s | ", MS_T(L, M_FILE)); ms_md_str(f, args->a); fputs(" | ", f); ms_md_str(f, args->b); fputs(" |\n", f);
    fprintf(f, "| %s | %s | %s |\n", MS_T(L, M_TIME), ms_fmt_time(MS_FBUF, a->wall_ns), ms_fmt_time(MS_FBUF, b->wall_ns));
    fprintf(f, "| %s | ", MS_T(L, M_HOST)); md(f, a->hostname); fputs(" | ", f); md(f, b->hostname); fputs(" |\n", f);
    fprintf(f, "| %s | %llu | %llu |\n\n", MS_T(L, M_NPROC), (unsigned long long)(d->ta.nprocs + d->ta.n_omitted),
            (unsigned long long)(d->tb.nprocs + d->tb.n_omitted));
    const ms_msg *rule = d->rule == SD_RULE_PID ? (args->match == SD_RULE_AUTO ? &M_RULE_PID : &M_RULE_PID_FORCED)
                                                : (args->match == SD_RULE_AUTO ? &M_RULE_KEY : &M_RULE_KEY_FORCED);
    fprintf(f, "%s: %s\n\n", MS_T(L, M_RULE), MS_T(L, *rule));
    fprintf(f, "%s: ", MS_T(L, M_THRESH));
    fprintf(f, MS_T(L, M_THRESH_TXT), B(d->threshold));
    fputs("\n\n", f);

    /* 总体分析 */
    fprintf(f, "## %s\n\n### %s\n\n", MS_T(L, M_OVERALL), MS_T(L, M_TOTALS));
    ms_md_table_head(f, "lrrrr", 5, MS_T(L, M_METRIC), MS_T(L, M_BEFORE), MS_T(L, M_AFTER), MS_T(L, M_CHANGE), MS_T(L, M_RATE));
    total_row(f, L, &M_PSS_SUM, pa, pb);
    total_row(f, L, &M_USS_SUM, d->ta.uss, d->tb.uss);
    total_row(f, L, &M_RSS_SUM, d->ta.rss + d->ta.omitted_rss, d->tb.rss + d->tb.omitted_rss);
    total_row(f, L, &M_SWAP_SUM, d->ta.swap, d->tb.swap);
    total_row(f, L, &M_SWAP_SYS, d->swapused_a, d->swapused_b);
    total_row(f, L, &M_AVAIL, d->memavail_a, d->memavail_b);
    for (int k = 0; k < 3; k++) {
        ms_msg m = { NULL, NULL };
        char zh[64], en[64];
        snprintf(zh, sizeof zh, "PSS：%s", ms_i18n_kind_plural(MS_LANG_ZH, (uint32_t)k));
        snprintf(en, sizeof en, "PSS: %s", ms_i18n_kind_plural(MS_LANG_EN, (uint32_t)k));
        m.zh = zh; m.en = en;
        total_row(f, L, &m, d->ta.pss_kind[k], d->tb.pss_kind[k]);
    }

    fprintf(f, "\n### %s\n\n", MS_T(L, M_CONFIG));
    ms_md_table_head(f, NULL, 4, MS_T(L, M_ITEM), MS_T(L, M_BEFORE), MS_T(L, M_AFTER), MS_T(L, M_CHANGE));
    for (size_t i = 0; i < d->nconfig; i++) {
        const sd_config *c = &d->config[i];
        const ms_msg *m = !strcmp(c->field, "kernel") ? &M_CFG_kernel : !strcmp(c->field, "os_release") ? &M_CFG_os
                        : !strcmp(c->field, "page_size") ? &M_CFG_page : !strcmp(c->field, "mem_total") ? &M_CFG_mem
                        : !strcmp(c->field, "swap_total") ? &M_CFG_swap : &M_CFG_host;
        fprintf(f, "| %s | ", MS_T(L, *m));
        if (c->is_number) {
            if (!strcmp(c->field, "page_size")) fprintf(f, "%llu | %llu", (unsigned long long)c->nbefore, (unsigned long long)c->nafter);
            else fprintf(f, "%s | %s", B(c->nbefore), B(c->nafter));
        } else {
            md(f, c->before); fputs(" | ", f); md(f, c->after);
        }
        fprintf(f, " | %s", c->changed ? MS_T(L, M_CHANGED) : MS_T(L, M_SAME));
        if (c->changed && c->is_number && strcmp(c->field, "page_size"))
            fprintf(f, " (%s)", SB((int64_t)c->nafter - (int64_t)c->nbefore));
        fputs(" |\n", f);
    }

    fprintf(f, "\n### %s\n\n", MS_T(L, M_SHMEM));
    ms_md_table_head(f, "lrrrr", 5, MS_T(L, M_METRIC), MS_T(L, M_BEFORE), MS_T(L, M_AFTER), MS_T(L, M_CHANGE), MS_T(L, M_RATE));
    total_row(f, L, &M_SHMEM_SYS, d->shmem_a, d->shmem_b);
    total_row(f, L, &M_SHMEM_PSS, d->ta.pss_shmem, d->tb.pss_shmem);
    total_row(f, L, &M_SHMEM_RSS, d->ta.rss_shmem, d->tb.rss_shmem);

    fprintf(f, "\n### %s\n\n", MS_T(L, M_LIBS));
    if (!d->nlibsums) fprintf(f, "%s\n", MS_T(L, M_NOLIB));
    else {
        int mem = d->has_lib_memory;
        if (mem) ms_md_table_head(f, "lrrrrl", 6, MS_T(L, M_LIB), MS_T(L, M_LIBPROCS), MS_T(L, M_PSS_B), MS_T(L, M_PSS_A), "ΔPSS", MS_T(L, M_DISK));
        else ms_md_table_head(f, "lrl", 3, MS_T(L, M_LIB), MS_T(L, M_LIBPROCS), MS_T(L, M_DISK));
        size_t n = d->nlibsums < 15 ? d->nlibsums : 15;
        for (size_t i = 0; i < n; i++) {
            const sd_libsum *l = &d->libsums[i];
            fputs("| ", f);
            md(f, l->path);
            fprintf(f, " | %llu→%llu", (unsigned long long)l->procs_a, (unsigned long long)l->procs_b);
            if (mem) fprintf(f, " | %s | %s | %s", B(l->pss_a), B(l->pss_b), SB(l->d_pss));
            fprintf(f, " | %s", l->disk_a ? B(l->disk_a) : "-");
            if (l->disk_a != l->disk_b) fprintf(f, " → %s", l->disk_b ? B(l->disk_b) : "-");
            fputs(" |\n", f);
        }
        if (d->nlibsums > n) { fputc('\n', f); fprintf(f, MS_T(L, M_MORE_LIBS), d->nlibsums - n); fputc('\n', f); }
        if (!mem) fprintf(f, "\n%s\n", MS_T(L, M_NOLIBMEM));
    }

    fprintf(f, "\n### %s\n\n", MS_T(L, M_READ));
    ms_md_table_head(f, "lrr", 3, "", MS_T(L, M_BEFORE), MS_T(L, M_AFTER));
    fprintf(f, "| %s | %llu | %llu |\n", MS_T(L, M_R_FULL), (unsigned long long)d->ta.n_full, (unsigned long long)d->tb.n_full);
    fprintf(f, "| %s | %llu | %llu |\n", MS_T(L, M_R_VAN), (unsigned long long)d->ta.n_vanished, (unsigned long long)d->tb.n_vanished);
    fprintf(f, "| %s | %llu | %llu |\n", MS_T(L, M_R_ZOMBIE), (unsigned long long)d->ta.n_zombie, (unsigned long long)d->tb.n_zombie);
    fprintf(f, "| %s | %llu | %llu |\n", MS_T(L, M_R_DENIED), (unsigned long long)d->ta.n_denied, (unsigned long long)d->tb.n_denied);
    fprintf(f, "| %s | %llu (%s) | %llu (%s) |\n", MS_T(L, M_R_OMIT), (unsigned long long)d->ta.n_omitted, B(d->ta.omitted_pss),
            (unsigned long long)d->tb.n_omitted, B(d->tb.omitted_pss));

    if (section(f, L, d, SD_ADDED, &M_ADDED, d->nadded)) return -1;
    if (section(f, L, d, SD_REMOVED, &M_REMOVED, d->nremoved)) return -1;
    if (section(f, L, d, SD_CHANGED, &M_CHANGED_P, d->ngrew + d->nshrank + d->nchanged_other)) return -1;
    if (d->nunchanged) { fputc('\n', f); fprintf(f, MS_T(L, M_UNCHANGED), d->nunchanged); fputc('\n', f); }
    return ferror(f) ? -1 : 0;
}
