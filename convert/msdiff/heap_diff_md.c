/*
 * Markdown report of a heap trace diff (diff_report_中文.md): the two
 * inputs, a one-line summary (sites new / vanished / grew / shrank, net
 * change in peak and leaked bytes), 总体对比 (summary numbers before, after,
 * change, percent), then 增长最多的分配点, 减少最多的分配点, 新增分配点 and
 * 消失的分配点 in impact order, each site with the top frames of its
 * symbolized stack. Sites whose change is below --threshold are folded into
 * one line per section (the JSON report lists them all). Every string from
 * the traces (function and file names, paths) goes through ms_md_text.
 * `--lang en` prints the same report in English.
 */
#include "heap_diff.h"
#include "verdict.h"
#include "fmt.h"
#include "md.h"
#include <stdlib.h>
#include <string.h>

#define B(x) ms_fmt_bytes(MS_FBUF, (x))
#define SB(x) ms_fmt_sbytes(MS_FBUF, (x))
#define PC(a, b) ms_i18n_pct_change(L, (a), (b), MS_FBUF)
#define CNT(x) ms_fmt_count(MS_FBUF, (x))
#define SI(x) ms_fmt_sint(MS_FBUF, (x))

enum { MAX_ROWS = 20, TOP_FRAMES = 6 };

static const ms_msg
    M_TITLE = {"堆内存差异分析报告", "Heap diff report"},
    M_INPUTS = {"输入", "Inputs"}, M_ITEM = {"项目", "Item"},
    M_BEFORE = {"之前", "Before"}, M_AFTER = {"之后", "After"}, M_CHANGE = {"变化", "Change"},
    M_RATE = {"变化率", "Change %"}, M_METRIC = {"指标", "Metric"},
    M_FILE = {"文件", "File"}, M_PROG = {"程序", "Program"}, M_START = {"开始时间", "Started"},
    M_DUR = {"时长", "Duration"}, M_EVENTS = {"事件数", "Events"},
    M_MODE = {"记录方式", "Recording"}, M_FULL = {"全部分配", "every allocation"},
    M_INTEG = {"文件完整性", "Integrity"},
    M_PARTIAL = {"注意：%s文件：%s。差异只包含文件中记录下来的事件。",
                 "Note: %s file: %s. The diff covers only the events the file holds."},
    M_WHICH_A = {"之前的", "the before"}, M_WHICH_B = {"之后的", "the after"},
    M_SUMMARY = {"摘要", "Summary"},
    M_SUM_FMT = {"分配点：新增 %zu 个，消失 %zu 个，增长 %zu 个，减少 %zu 个；峰值内存净变化 %s（%s），泄漏内存净变化 %s（%s）。",
                 "Sites: %zu new, %zu vanished, %zu grew, %zu shrank; net change in peak memory %s (%s), in leaked memory %s (%s)."},
    M_MATCH = {"分配点按符号化调用栈匹配（每帧的函数、文件和行号；无符号的帧用模块路径+偏移），忽略地址；同一调用栈的多个分配点合并统计。",
               "Sites are matched by their symbolized stacks (function, file and line of every frame; module path + offset for frames without symbols), addresses ignored; sites with the same stack are added up."},
    M_THRESH = {"变化小于 %s 的分配点折叠为每节一行（JSON 报告包含全部分配点）。",
                "Sites that changed by less than %s are folded into one line per section (the JSON report lists them all)."},
    M_OVERALL = {"总体对比", "Overall comparison"},
    M_T_PEAK = {"峰值内存", "Peak memory"},
    M_T_PEAKB = {"峰值时的内存块数", "Blocks live at the peak"},
    M_T_LEAK = {"泄漏内存（结束时未释放）", "Leaked memory (live at the end)"},
    M_T_LEAKB = {"泄漏块数", "Leaked blocks"},
    M_T_ALLOC = {"分配总量", "Allocated bytes"},
    M_T_CALLS = {"分配次数", "Allocations"},
    M_T_TEMP = {"临时分配次数", "Temporary allocations"},
    M_T_SITES = {"分配点数（按调用栈）", "Sites (by stack)"},
    M_GREW = {"增长最多的分配点", "Sites that grew most"},
    M_SHRANK = {"减少最多的分配点", "Sites that shrank most"},
    M_NEW = {"新增分配点", "New sites"},
    M_VANISHED = {"消失的分配点", "Vanished sites"},
    M_NONE = {"无。", "None."},
    M_C_PEAK = {"峰值", "Peak"}, M_C_LEAK = {"泄漏", "Leaked"}, M_C_ALLOC = {"分配量", "Allocated"},
    M_C_CALLS = {"分配次数", "Allocations"}, M_C_STACK = {"调用栈（最内层在前）", "Stack (innermost first)"},
    M_D_PEAK = {"峰值变化", "Δ peak"}, M_D_LEAK = {"泄漏变化", "Δ leaked"}, M_D_ALLOC = {"分配量变化", "Δ allocated"},
    M_D_CALLS = {"次数变化", "Δ allocations"},
    M_NOSTACK = {"（无调用栈）", "(no stack)"},
    M_MORE = {"另有 %zu 个分配点（见 JSON 报告）。", "%zu more sites (see the JSON report)."},
    M_FOLD = {"另有 %zu 个分配点的变化小于阈值，峰值合计 %s，泄漏合计 %s，分配量合计 %s。",
              "%zu more sites changed by less than the threshold: peak %s, leaked %s, allocated %s in total."},
    M_UNCHANGED = {"%zu 个匹配的分配点没有变化。", "%zu matched sites did not change."},
    M_NA = {"未知", "unknown"};

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void frame(FILE *f, const ms_hd_frame *fr)
{
    if (fr->symbolized && fr->function[0]) {
        ms_md_str(f, fr->function);
        if (fr->file[0]) {
            fputs(" (", f);
            ms_md_str(f, base_name(fr->file));
            if (fr->line) fprintf(f, ":%u", fr->line);
            fputc(')', f);
        }
    } else if (fr->module[0]) {
        ms_md_str(f, base_name(fr->module));
        fprintf(f, "+0x%llx", (unsigned long long)fr->offset);
    } else {
        fprintf(f, "0x%llx", (unsigned long long)fr->offset);
    }
}

static void stack(FILE *f, ms_lang L, const ms_heapdiff *d, const ms_hd_entry *e)
{
    if (e->stack == MS_HD_NONE) { fputs(MS_T(L, M_NOSTACK), f); return; }
    uint32_t node = e->stack;
    for (size_t i = 0; i < TOP_FRAMES && node != MS_HD_NONE; i++, node = d->nodes[node].parent) {
        if (i) fputs(" ← ", f);
        frame(f, &d->frames[d->nodes[node].frame]);
    }
    if (node != MS_HD_NONE) fputs(" ← …", f);
}

/* Rows of one section: entries with status st, impact order. */
static void section(FILE *f, const msdiff_heap_ctx *c, int st, const ms_msg *title)
{
    ms_lang L = c->args->lang;
    const ms_heapdiff *d = c->d;
    fprintf(f, "## %s\n\n", MS_T(L, *title));
    size_t shown = 0, more = 0, folded = 0, total = 0;
    int64_t fp = 0, fl = 0, fa = 0;
    int side_only = st == MS_HD_NEW || st == MS_HD_VANISHED;
    for (size_t i = 0; i < d->nentries; i++) {
        const ms_hd_entry *e = &d->entries[i];
        if (e->status != st) continue;
        total++;
        if (!msdiff_heap_shown(e, c->args->threshold)) {
            folded++; fp += e->d_peak; fl += e->d_leaked; fa += e->d_allocated;
            continue;
        }
        if (shown == MAX_ROWS) { more++; continue; }
        if (!shown) {
            if (side_only)
                ms_md_table_head(f, "rrrrrl", 6, "#", MS_T(L, M_C_PEAK), MS_T(L, M_C_LEAK), MS_T(L, M_C_ALLOC),
                                 MS_T(L, M_C_CALLS), MS_T(L, M_C_STACK));
            else
                ms_md_table_head(f, "rrrrrl", 6, "#", MS_T(L, M_D_PEAK), MS_T(L, M_D_LEAK), MS_T(L, M_D_ALLOC),
                                 MS_T(L, M_D_CALLS), MS_T(L, M_C_STACK));
        }
        shown++;
        if (side_only) {
            const ms_hd_side *s = st == MS_HD_NEW ? &e->b : &e->a;
            fprintf(f, "| %zu | %s | %s | %s | %s | ", shown, B(s->peak_bytes), B(s->leaked_bytes),
                    B(s->allocated_bytes), CNT(s->allocations));
        } else {
            fprintf(f, "| %zu | %s | %s | %s | %s | ", shown, SB(e->d_peak), SB(e->d_leaked), SB(e->d_allocated),
                    SI(e->d_allocations));
        }
        stack(f, L, d, e);
        fputs(" |\n", f);
    }
    if (!total) { fprintf(f, "%s\n\n", MS_T(L, M_NONE)); return; }
    if (shown) fputc('\n', f);
    if (more) { fprintf(f, MS_T(L, M_MORE), more); fputs("\n\n", f); }
    if (folded) { fprintf(f, MS_T(L, M_FOLD), folded, SB(fp), SB(fl), SB(fa)); fputs("\n\n", f); }
}

static void total_row(FILE *f, ms_lang L, const ms_msg *m, uint64_t a, uint64_t b, int bytes)
{
    if (bytes)
        fprintf(f, "| %s | %s | %s | %s | %s |\n", MS_T(L, *m), B(a), B(b), SB((int64_t)(b - a)), PC(a, b));
    else
        fprintf(f, "| %s | %s | %s | %s | %s |\n", MS_T(L, *m), CNT(a), CNT(b), SI((int64_t)(b - a)), PC(a, b));
}

static void input_rows(FILE *f, const msdiff_heap_ctx *c)
{
    ms_lang L = c->args->lang;
    const ms_heap_info *ia = ms_heap_get_info(c->ha), *ib = ms_heap_get_info(c->hb);
    fprintf(f, "| %s | ", MS_T(L, M_FILE)); ms_md_str(f, c->args->a); fputs(" | ", f); ms_md_str(f, c->args->b); fputs(" |\n", f);
    fprintf(f, "| %s | ", MS_T(L, M_PROG));
    ms_md_str(f, ia->exe[0] ? ia->exe : MS_T(L, M_NA));
    fputs(" | ", f);
    ms_md_str(f, ib->exe[0] ? ib->exe : MS_T(L, M_NA));
    fputs(" |\n", f);
    fprintf(f, "| PID | %llu | %llu |\n", (unsigned long long)ia->pid, (unsigned long long)ib->pid);
    if (ia->start_wall_ns || ib->start_wall_ns)
        fprintf(f, "| %s | %s | %s |\n", MS_T(L, M_START), ms_fmt_time(MS_FBUF, ia->start_wall_ns), ms_fmt_time(MS_FBUF, ib->start_wall_ns));
    fprintf(f, "| %s | %s | %s |\n", MS_T(L, M_DUR), ms_i18n_duration(L, c->d->ta.duration_ms * 1000000u, MS_FBUF),
            ms_i18n_duration(L, c->d->tb.duration_ms * 1000000u, MS_FBUF));
    fprintf(f, "| %s | %s | %s |\n", MS_T(L, M_EVENTS), CNT(c->d->ta.events), CNT(c->d->tb.events));
    char sa[200], sb[200];
    uint64_t ra = ms_heap_sampled(c->ha), rb = ms_heap_sampled(c->hb);
    fprintf(f, "| %s | %s | %s |\n", MS_T(L, M_MODE), ra ? ms_i18n_sampled(L, ra, sa, sizeof sa) : MS_T(L, M_FULL),
            rb ? ms_i18n_sampled(L, rb, sb, sizeof sb) : MS_T(L, M_FULL));
    char va[256], vb[256];
    ms_verdict_text(va, sizeof va, NULL, &c->ia, L);
    ms_verdict_text(vb, sizeof vb, NULL, &c->ib, L);
    fprintf(f, "| %s | ", MS_T(L, M_INTEG)); ms_md_str(f, va); fputs(" | ", f); ms_md_str(f, vb); fputs(" |\n\n", f);
}

/* a file that is not complete: said before any number (spec 8.5) */
static void partial_notes(FILE *f, const msdiff_heap_ctx *c)
{
    ms_lang L = c->args->lang;
    const ms_integrity *in[2] = {&c->ia, &c->ib};
    const ms_msg *which[2] = {&M_WHICH_A, &M_WHICH_B};
    for (int k = 0; k < 2; k++) {
        char v[256];
        if (!ms_verdict_text(v, sizeof v, NULL, in[k], L)) continue;
        fputs("> ", f);
        char line[600];
        snprintf(line, sizeof line, MS_T(L, M_PARTIAL), MS_T(L, *which[k]), v);
        ms_md_str(f, line);
        fputs("\n\n", f);
    }
}

int msdiff_heap_md(FILE *f, const msdiff_heap_ctx *c)
{
    ms_lang L = c->args->lang;
    const ms_heapdiff *d = c->d;
    const ms_hd_totals *a = &d->ta, *b = &d->tb;
    fprintf(f, "# %s\n\n", MS_T(L, M_TITLE));
    /* sampled traces (spec §8.8): every number below is an estimate */
    uint64_t rate = ms_heap_sampled(c->ha) ? ms_heap_sampled(c->ha) : ms_heap_sampled(c->hb);
    char est[400];
    if (rate) fprintf(f, "> %s\n\n", ms_i18n_sampled_long(L, rate, est, sizeof est));
    partial_notes(f, c);
    fprintf(f, L == MS_LANG_EN ? "**%s**: " : "**%s**：", MS_T(L, M_SUMMARY));
    fprintf(f, MS_T(L, M_SUM_FMT), d->n_new, d->n_vanished, d->n_grew, d->n_shrank,
            SB((int64_t)(b->peak_memory - a->peak_memory)), PC(a->peak_memory, b->peak_memory),
            SB((int64_t)(b->leaked_memory - a->leaked_memory)), PC(a->leaked_memory, b->leaked_memory));
    fputs("\n\n", f);
    fprintf(f, "## %s\n\n", MS_T(L, M_INPUTS));
    ms_md_table_head(f, "lll", 3, MS_T(L, M_ITEM), MS_T(L, M_BEFORE), MS_T(L, M_AFTER));
    input_rows(f, c);
    fprintf(f, "%s", MS_T(L, M_MATCH));
    if (c->args->threshold) { fputs(L == MS_LANG_EN ? " " : "", f); fprintf(f, MS_T(L, M_THRESH), B(c->args->threshold)); }
    fputs("\n\n", f);

    fprintf(f, "## %s\n\n", MS_T(L, M_OVERALL));
    ms_md_table_head(f, "lrrrr", 5, MS_T(L, M_METRIC), MS_T(L, M_BEFORE), MS_T(L, M_AFTER), MS_T(L, M_CHANGE), MS_T(L, M_RATE));
    total_row(f, L, &M_T_PEAK, a->peak_memory, b->peak_memory, 1);
    total_row(f, L, &M_T_PEAKB, a->peak_blocks, b->peak_blocks, 0);
    total_row(f, L, &M_T_LEAK, a->leaked_memory, b->leaked_memory, 1);
    total_row(f, L, &M_T_LEAKB, a->leaked_blocks, b->leaked_blocks, 0);
    total_row(f, L, &M_T_ALLOC, a->allocated_bytes, b->allocated_bytes, 1);
    total_row(f, L, &M_T_CALLS, a->allocations, b->allocations, 0);
    total_row(f, L, &M_T_TEMP, a->temporary, b->temporary, 0);
    total_row(f, L, &M_T_SITES, a->keys, b->keys, 0);
    fprintf(f, "\n> %s\n>\n> %s\n\n", ms_i18n_temporary_def(L), ms_i18n_units(L));

    section(f, c, MS_HD_GREW, &M_GREW);
    section(f, c, MS_HD_SHRANK, &M_SHRANK);
    section(f, c, MS_HD_NEW, &M_NEW);
    section(f, c, MS_HD_VANISHED, &M_VANISHED);
    if (d->n_unchanged) { fprintf(f, MS_T(L, M_UNCHANGED), d->n_unchanged); fputs("\n", f); }
    return ferror(f) ? -1 : 0;
}
