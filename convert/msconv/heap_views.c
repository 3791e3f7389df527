/* msconv's call-tree views of heap traces (heap_views.h): --text, --leaks,
 * --svg, --flamegraph, --folded. Each loads the trace once into the heap
 * view model (analyze/calltree_heap.h), then hands the call tree to a
 * renderer in convert/common (pprof_text, dot, flame). Output goes through
 * ms_outfile so a failure never leaves a half-written report. The HTML
 * dashboard's data blob is in heap_views_html.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "memscope.h"
#include "heap_views.h"
#include "heap_views_int.h"
#include "calltree_heap.h"
#include "pprof_text.h"
#include "flame.h"
#include "dot.h"
#include "outfile.h"
#include "fmt.h"
#include "i18n.h"
#include "window.h"
#include "timerange.h"
#include "sitepath.h"

/* ---- options -------------------------------------------------------------- */
/* A number in [0, hi]: 0, or -1 when val is not one. */
static int parse_real(const char *val, double hi, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(val, &end);
    if (errno || *end || end == val || !(x >= 0 && x <= hi)) return -1;
    *out = x;
    return 0;
}

int hv_parse_opts(hv_opts *o, const msconv_args *a)
{
    memset(o, 0, sizeof *o);
    o->metric = MS_CT_PEAK;
    o->nodefraction = 0.005;          /* pprof's default */
    /* Reports are Chinese unless --lang says otherwise (read from argv so
     * the default does not depend on main.c's). */
    ms_lang l = MS_LANG_ZH;
    for (int i = 1; i < a->argc; i++) {
        const char *arg = a->argv[i];
        if (!strcmp(arg, "--")) break;
        if (!strcmp(arg, "--lang") && i + 1 < a->argc) ms_lang_parse(a->argv[i + 1], &l);
        else if (!strncmp(arg, "--lang=", 7)) ms_lang_parse(arg + 7, &l);
    }
    o->en = l == MS_LANG_EN;
    for (int i = 1; i < a->argc; i++) {
        const char *arg = a->argv[i], *val = NULL;
        if (!strcmp(arg, "--")) break;
        if (!strcmp(arg, "--inverted")) { o->inverted = 1; continue; }
        if (!strcmp(arg, "--top") && i + 1 < a->argc) { o->top = (size_t)strtoul(a->argv[i + 1], NULL, 10); continue; }
        if (!strncmp(arg, "--top=", 6)) { o->top = (size_t)strtoul(arg + 6, NULL, 10); continue; }
        int is_metric = !strncmp(arg, "--metric", 8) && (arg[8] == 0 || arg[8] == '=');
        int is_nc = !strncmp(arg, "--nodecount", 11) && (arg[11] == 0 || arg[11] == '=');
        int is_mw = !strncmp(arg, "--minwidth", 10) && (arg[10] == 0 || arg[10] == '=');
        int is_gran = !strncmp(arg, "--granularity", 13) && (arg[13] == 0 || arg[13] == '=');
        int is_nf = !strncmp(arg, "--nodefraction", 14) && (arg[14] == 0 || arg[14] == '=');
        int is_sort = !strncmp(arg, "--sort", 6) && (arg[6] == 0 || arg[6] == '=');
        if (!is_metric && !is_nc && !is_mw && !is_gran && !is_nf && !is_sort) continue;
        const char *eq = strchr(arg, '=');
        if (eq) val = eq + 1;
        else if (i + 1 < a->argc) val = a->argv[++i];
        else {
            return msconv_usage_error(MS_CM("%s 需要一个值", "%s needs a value"), arg);
        }
        if (is_gran) {
            o->gran = ms_hview_gran_parse(val);
            if (o->gran < 0) {
                return msconv_usage_error(MS_CM("--granularity 只能是 functions、lines、files 或 addresses，而不是 '%s'",
                                                "--granularity must be functions, lines, files or addresses, not '%s'"), val);
            }
        } else if (is_sort) {
            int k = hv_sections_parse(val);
            if (k < 0) {
                return msconv_usage_error(MS_CM("--sort 只能是 calls、peak、temporary、leaked 或 all（逗号分隔），而不是 '%s'",
                                                "--sort must be calls, peak, temporary, leaked or all (comma-separated), not '%s'"), val);
            }
            o->sections |= (unsigned)k;
        } else if (is_nf) {
            if (parse_real(val, 1, &o->nodefraction)) {
                return msconv_usage_error(MS_CM("--nodefraction 需要 0..1 之间的比例，而不是 '%s'",
                                                "--nodefraction needs a fraction 0..1, not '%s'"), val);
            }
        } else if (is_mw) {
            double p;
            if (parse_real(val, 100, &p)) {
                return msconv_usage_error(MS_CM("--minwidth 需要 0..100 之间的百分比，而不是 '%s'",
                                                "--minwidth needs a percentage 0..100, not '%s'"), val);
            }
            o->min_pct = p > 0 ? p : -1;
        } else if (is_metric) {
            o->metric = ms_ct_metric_parse(val);
            if (o->metric < 0) {
                return msconv_usage_error(MS_CM("--metric 只能是 peak、leaked、allocated、count 或 temporary，而不是 '%s'",
                                                "--metric must be peak, leaked, allocated, count or temporary, not '%s'"), val);
            }
        } else {
            char *end;
            errno = 0;
            long n = strtol(val, &end, 10);
            if (errno || *end || end == val || n < 0) {
                return msconv_usage_error(MS_CM("--nodecount 需要一个 >= 0 的数，而不是 '%s'",
                                                "--nodecount needs a number >= 0, not '%s'"), val);
            }
            o->nodecount = (size_t)n;
        }
    }
    return 0;
}

int hv_load(ms_hview **v, const msconv_args *a, int lean)
{
    errno = 0;
    int e = lean == 3 ? ms_hview_load_tree(v, a->input, a->range)
          : lean == 2 ? ms_hview_load_sites(v, a->input, a->range)
          : lean ? ms_hview_load_lean(v, a->input, a->range) : ms_hview_load_range(v, a->input, a->range);
    if (e) {
        msconv_error(a->input, "%s", msconv_reader_error(e));
        return 1;
    }
    msconv_warn_integrity(a->input, &(*v)->integ);
    if ((e = msconv_range_check(a->input, (*v)->heap))) { ms_hview_free(*v); *v = NULL; }
    return e;
}

int hv_open(ms_outfile *o, const char *input, const char *path, int escape)
{
    if (ms_outfile_open_as(o, path, escape) != 0) {
        msconv_error(path && strcmp(path, "-") ? path : input, "%s", ms_outfile_strerror());
        return 1;
    }
    return 0;
}

int hv_commit(ms_outfile *o, const char *input, const char *path, int write_failed)
{
    if (write_failed) {
        int err = ms_outfile_write_error(o);
        ms_outfile_abort(o);
        msconv_error(path && strcmp(path, "-") ? path : input, "%s%s%s", MS_CM("写入失败", "write failed"),
                     err ? MS_CM("：", ": ") : "", err ? ms_cli_strerror(err) : "");
        return 1;
    }
    if (ms_outfile_commit(o) != 0) {
        msconv_error(path && strcmp(path, "-") ? path : input, "%s", ms_outfile_strerror());
        return 1;
    }
    return 0;
}

static const char *plural(uint64_t n, const char *one, const char *many) { return n == 1 ? one : many; }

/* The estimate line of a sampled trace (spec §8.8), "" for a full one. */
const char *hv_sampled_line(char *buf, size_t n, const ms_hview *v, int en, int long_form)
{
    uint64_t rate = ms_heap_sampled(v->heap);
    buf[0] = 0;
    if (rate && long_form) ms_i18n_sampled_long(en ? MS_LANG_EN : MS_LANG_ZH, rate, buf, (unsigned)n);
    else if (rate) ms_i18n_sampled(en ? MS_LANG_EN : MS_LANG_ZH, rate, buf, (unsigned)n);
    return buf;
}

/* "prog (pid N)" for titles. */
static void trace_title(char *buf, size_t n, const ms_hview *v, int en)
{
    const ms_heap_info *in = ms_heap_get_info(v->heap);
    const char *exe = in->exe && *in->exe ? in->exe : "?";
    snprintf(buf, n, en ? "%s (pid %llu)" : "%s（pid %llu）", exe, (unsigned long long)in->pid);
}

/* ---- --text ------------------------------------------------------------------ */
static void text_summary(FILE *fp, const ms_hview *v, int en)
{
    const ms_heap_summary *s = ms_heap_get_summary(v->heap);
    double dur = ms_heap_ticks_sec(v->heap, s->end_time > s->first_time ? s->end_time : 0);
    double rate = dur > 0 ? (double)s->total_allocations / dur : 0;
    double tpct = s->total_allocations ? 100.0 * (double)s->temporary_allocations / (double)s->total_allocations : 0;
    const char *leaked = ms_window_leak_label(v->heap, en ? MS_LANG_EN : MS_LANG_ZH);
    char note[600];
    char temp[64];
    if (ms_heap_sampled(v->heap)) snprintf(temp, sizeof temp, "%s", ms_i18n_sampled_na(en ? MS_LANG_EN : MS_LANG_ZH));
    else snprintf(temp, sizeof temp, en ? "%s (%.2f%%)" : "%s 次（%.2f%%）", ms_fmt_count(MS_FBUF, s->temporary_allocations), tpct);
    fputc('\n', fp);
    if (ms_window_note(note, sizeof note, v->heap, en ? MS_LANG_EN : MS_LANG_ZH)) fprintf(fp, "%s\n", note);
    const ms_range *rg = ms_heap_range(v->heap);
    if (rg) {
        ms_range_note(note, sizeof note, v->heap, en ? MS_LANG_EN : MS_LANG_ZH, 0);
        dur = rg->to_s - rg->from_s;
        rate = dur > 0 ? (double)s->total_allocations / dur : 0;
        fprintf(fp, en ? "%s, %.3f s long\n" : "%s，时长 %.3f 秒\n", note, dur);
    }
    if (en) {
        if (!rg) fprintf(fp, "total runtime: %.3f s\n", dur);
        fprintf(fp, "calls to allocation functions: %s (%s/s)\n", ms_fmt_count(MS_FBUF, s->total_allocations),
                ms_fmt_count(MS_FBUF, (uint64_t)(rate + 0.5)));
        fprintf(fp, "temporary memory allocations: %s\n  (%s)\n", temp, ms_i18n_temporary_def(MS_LANG_EN));
        if (rg)
            fprintf(fp, "live at the range's end (%.3f s), allocated in the range: %s in %s %s\n", rg->to_s,
                    ms_fmt_bytes(MS_FBUF, s->peak_memory), ms_fmt_count(MS_FBUF, s->peak_blocks),
                    plural(s->peak_blocks, "block", "blocks"));
        else
            fprintf(fp, "peak heap memory consumption: %s at %.3f s\n", ms_fmt_bytes(MS_FBUF, s->peak_memory),
                    ms_heap_ticks_sec(v->heap, s->peak_time));
        if (v->peak_rss) fprintf(fp, "peak RSS (including memscope overhead): %s\n", ms_fmt_bytes(MS_FBUF, v->peak_rss));
        fprintf(fp, "%s: %s in %s %s\n", leaked, ms_fmt_bytes(MS_FBUF, s->leaked_memory),
                ms_fmt_count(MS_FBUF, s->leaked_allocations), plural(s->leaked_allocations, "block", "blocks"));
    } else {
        if (!rg) fprintf(fp, "总运行时间：%.3f 秒\n", dur);
        fprintf(fp, "分配函数调用：%s 次（%s 次/秒）\n", ms_fmt_count(MS_FBUF, s->total_allocations),
                ms_fmt_count(MS_FBUF, (uint64_t)(rate + 0.5)));
        fprintf(fp, "临时分配：%s\n  （%s）\n", temp, ms_i18n_temporary_def(MS_LANG_ZH));
        if (rg)
            fprintf(fp, "范围结束时（第 %.3f 秒）仍存活的范围内分配：%s，%s 个内存块\n", rg->to_s,
                    ms_fmt_bytes(MS_FBUF, s->peak_memory), ms_fmt_count(MS_FBUF, s->peak_blocks));
        else
            fprintf(fp, "堆内存峰值：%s（第 %.3f 秒）\n", ms_fmt_bytes(MS_FBUF, s->peak_memory),
                    ms_heap_ticks_sec(v->heap, s->peak_time));
        if (v->peak_rss) fprintf(fp, "RSS 峰值（含 memscope 开销）：%s\n", ms_fmt_bytes(MS_FBUF, v->peak_rss));
        fprintf(fp, "%s：%s，%s 个内存块\n", leaked, ms_fmt_bytes(MS_FBUF, s->leaked_memory),
                ms_fmt_count(MS_FBUF, s->leaked_allocations));
    }
    fprintf(fp, "%s\n", ms_i18n_units(en ? MS_LANG_EN : MS_LANG_ZH));
}

int msconv_heap_text(const msconv_args *a)
{
    hv_opts o;
    int rc = hv_parse_opts(&o, a);
    if (rc) return rc;
    ms_hview *v;
    /* the sites' tree and the summary need no per-block model; sections do */
    if ((rc = hv_load(&v, a, o.sections ? 1 : 2))) return rc;
    ms_outfile out;
    if (hv_open(&out, a->input, a->output, MS_TERM_TEXT)) { ms_hview_free(v); return 1; }
    char title[600], type[1800], est[300], rng[600];
    trace_title(title, sizeof title, v, o.en);
    hv_sampled_line(est, sizeof est, v, o.en, 1);
    ms_range_note(rng, sizeof rng, v->heap, o.en ? MS_LANG_EN : MS_LANG_ZH, 1);
    snprintf(type, sizeof type, o.en ? "File: %s\nType: %s%s%s%s%s" : "文件：%s\n类型：%s%s%s%s%s", title,
             o.en ? ms_ct_metric_name(o.metric) : ms_flame_metric_label(o.metric, 0), *est ? "\n" : "", est,
             *rng ? "\n" : "", rng);
    ms_calltree *tree;
    if (ms_hview_tree(&tree, v, o.gran)) {
        ms_outfile_abort(&out);
        msconv_error(a->input, "%s", ms_cli_strerror(ENOMEM));
        ms_hview_free(v);
        return 1;
    }
    ms_pprof_opts po = { .metric = o.metric, .nodecount = o.nodecount, .lang_en = o.en, .type_line = type,
                         .nodefraction = o.nodefraction,
                         .rows = o.gran == MS_HV_GRAN_FUNCTIONS ? MS_PPROF_ROWS_FUNCTIONS
                               : o.gran == MS_HV_GRAN_FILES ? MS_PPROF_ROWS_FILES : MS_PPROF_ROWS_LINES };
    int bad = ms_pprof_text(out.fp, tree, &po);
    ms_calltree_free(tree);
    if (!bad && o.sections) bad = hv_sections(out.fp, v, o.sections, o.top, o.en);
    text_summary(out.fp, v, o.en);
    rc = hv_commit(&out, a->input, a->output, bad || ferror(out.fp));
    ms_hview_free(v);
    return rc;
}

/* ---- --leaks ------------------------------------------------------------------ */
void hv_print_stack(FILE *fp, const ms_hview *v, uint64_t stack_id, const char *indent, int en)
{
    static const ms_msg m_inl = {" [内联]", " [inlined]"}, m_more = {"%s……另有 %zu 帧\n", "%s... %zu more frames\n"},
                        m_nostack = {"（无调用栈）", "(no stack)"};
    const ms_symtab *sym = ms_heap_symtab(v->heap);
    uint64_t ips[256];
    size_t depth = ms_symtab_stack(ips, 256, sym, stack_id), shown = depth < 256 ? depth : 256, no = 0;
    for (size_t i = 0; i < shown; i++) {
        size_t nf = ms_symtab_frame_count(sym, ips[i]);
        for (size_t k = 0; k < nf; k++) {
            char name[1024];
            ms_symtab_frame_name(name, sizeof name, sym, ips[i], k);
            fprintf(fp, "%s#%zu %s%s\n", indent, no++, name, k + 1 < nf ? MS_T(en, m_inl) : "");
        }
    }
    if (depth > shown) fprintf(fp, MS_T(en, m_more), indent, depth - shown);
    if (depth == 0) fprintf(fp, "%s%s\n", indent, MS_T(en, m_nostack));
}

static const ms_hview *sort_v;
static int leak_cmp(const void *pa, const void *pb)
{
    const ms_heap_site *a = ms_heap_site_at(sort_v->heap, *(const size_t *)pa);
    const ms_heap_site *b = ms_heap_site_at(sort_v->heap, *(const size_t *)pb);
    if (a->live_bytes != b->live_bytes) return a->live_bytes > b->live_bytes ? -1 : 1;
    if (a->live_blocks != b->live_blocks) return a->live_blocks > b->live_blocks ? -1 : 1;
    return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

uint32_t *hv_site_depths(const ms_hview *v, const size_t *idx, size_t n)
{
    uint64_t *ids = malloc((n ? n : 1) * sizeof *ids);
    uint32_t *depth = malloc((n ? n : 1) * sizeof *depth);
    for (size_t i = 0; ids && i < n; i++) ids[i] = ms_heap_site_at(v->heap, idx[i])->stack_id;
    if (!ids || !depth || ms_site_depths(depth, ms_heap_symtab(v->heap), ids, n, MS_SITE_MIN_FRAMES)) {
        free(depth);
        depth = NULL;
    }
    free(ids);
    return depth;
}

size_t *hv_leak_sites(const ms_hview *v, size_t *n)
{
    size_t ns = ms_heap_site_count(v->heap), k = 0;
    size_t *idx = malloc((ns ? ns : 1) * sizeof *idx);
    if (!idx) { *n = 0; return NULL; }
    for (size_t i = 0; i < ns; i++)
        if (ms_heap_site_at(v->heap, i)->live_blocks) idx[k++] = i;
    sort_v = v;
    qsort(idx, k, sizeof *idx, leak_cmp);
    *n = k;
    return idx;
}

int msconv_heap_leaks(const msconv_args *a)
{
    hv_opts o;
    int rc = hv_parse_opts(&o, a);
    if (rc) return rc;
    ms_hview *v;
    if ((rc = hv_load(&v, a, 1))) return rc;
    size_t n;
    size_t *idx = hv_leak_sites(v, &n);
    if (!idx) { msconv_error(a->input, "%s", ms_cli_strerror(ENOMEM)); ms_hview_free(v); return 1; }
    ms_outfile out;
    if (hv_open(&out, a->input, a->output, MS_TERM_TEXT)) { free(idx); ms_hview_free(v); return 1; }
    const ms_heap_summary *s = ms_heap_get_summary(v->heap);
    FILE *fp = out.fp;
    char title[600];
    trace_title(title, sizeof title, v, o.en);
    if (o.en)
        fprintf(fp, "File: %s\nLeaked: %s in %s %s from %zu allocation %s (still live at the end of the trace)\n",
                title, ms_fmt_bytes(MS_FBUF, s->leaked_memory), ms_fmt_count(MS_FBUF, s->leaked_allocations),
                plural(s->leaked_allocations, "block", "blocks"), n, plural(n, "site", "sites"));
    else
        fprintf(fp, "文件：%s\n泄漏：%s，%s 个内存块，来自 %zu 个分配点（追踪结束时仍未释放）\n",
                title, ms_fmt_bytes(MS_FBUF, s->leaked_memory), ms_fmt_count(MS_FBUF, s->leaked_allocations), n);
    char est[300], rng[600];
    if (ms_range_note(rng, sizeof rng, v->heap, o.en ? MS_LANG_EN : MS_LANG_ZH, 0))
        fprintf(fp, o.en ? "%s: blocks allocated in the range only\n" : "%s：只计该范围内分配的内存块\n", rng);
    if (*hv_sampled_line(est, sizeof est, v, o.en, 1)) fprintf(fp, "%s\n", est);
    char note[600];
    if (ms_window_note(note, sizeof note, v->heap, o.en ? MS_LANG_EN : MS_LANG_ZH)) fprintf(fp, "%s\n", note);
    fprintf(fp, "%s\n", ms_i18n_units(o.en ? MS_LANG_EN : MS_LANG_ZH));
    static const ms_msg classes[6] = {
        { "未分类", "unclassified" }, { "仍可达", "still reachable" }, { "确定泄漏", "definitely lost" },
        { "间接泄漏", "indirectly lost" }, { "可能泄漏", "possibly lost" }, { "libc 内部", "libc internal" } };
    int any_class = 0;
    for (int c = 1; c < 6; c++) any_class |= s->leak_class_blocks[c] != 0;
    if (any_class) {
        for (int c = 0; c < 6; c++)
            if (s->leak_class_blocks[c])
                fprintf(fp, o.en ? "  %s: %s, %s %s\n" : "  %s：%s，%s %s\n", MS_T(o.en, classes[c]),
                        ms_fmt_bytes(MS_FBUF, s->leak_class_bytes[c]), ms_fmt_count(MS_FBUF, s->leak_class_blocks[c]),
                        o.en ? plural(s->leak_class_blocks[c], "block", "blocks") : "个块");
    }
    uint32_t *depth = hv_site_depths(v, idx, n);
    for (size_t i = 0; i < n && depth; i++) {
        const ms_heap_site *st = ms_heap_site_at(v->heap, idx[i]);
        char pct[32], path[2048];
        ms_site_path_name(path, sizeof path, ms_heap_symtab(v->heap), st->stack_id, depth[i]);
        snprintf(pct, sizeof pct, "%.2f%%", s->leaked_memory ? 100.0 * (double)st->live_bytes / (double)s->leaked_memory : 0);
        fputc('\n', fp);
        if (o.en)
            fprintf(fp, "%s leaked in %s %s (%s bytes, %s of leaks), %s %s at this site\n",
                    ms_fmt_bytes(MS_FBUF, st->live_bytes), ms_fmt_count(MS_FBUF, st->live_blocks),
                    plural(st->live_blocks, "block", "blocks"), ms_fmt_count(MS_FBUF, st->live_bytes), pct,
                    ms_fmt_count(MS_FBUF, st->allocations), plural(st->allocations, "allocation", "allocations"));
        else
            fprintf(fp, "泄漏 %s，%s 个块（%s 字节，占泄漏的 %s），该分配点共分配 %s 次\n",
                    ms_fmt_bytes(MS_FBUF, st->live_bytes), ms_fmt_count(MS_FBUF, st->live_blocks),
                    ms_fmt_count(MS_FBUF, st->live_bytes), pct, ms_fmt_count(MS_FBUF, st->allocations));
        if (any_class && idx[i] < v->site_x_cap) {
            const ms_hv_site_x *x = &v->site_x[idx[i]];
            fputs(o.en ? "  leak class:" : "  泄漏类别：", fp);
            for (int c = 0, first = 1; c < 6; c++) {
                if (!x->leak_blocks[c]) continue;
                fprintf(fp, o.en ? "%s %s %s (%s)" : "%s%s %s（%s 个块）", first ? "" : o.en ? "," : "，", MS_T(o.en, classes[c]),
                        ms_fmt_bytes(MS_FBUF, x->leak_bytes[c]), ms_fmt_count(MS_FBUF, x->leak_blocks[c]));
                first = 0;
            }
            fputc('\n', fp);
        }
        if (v->site_var && idx[i] < v->site_label_cap && (v->site_var[idx[i]] || v->site_type[idx[i]]))
            fprintf(fp, "  %s%s%s%s\n", o.en ? "variable: " : "变量：", v->site_var[idx[i]] ? v->site_var[idx[i]] : "?",
                    v->site_type[idx[i]] ? " : " : "", v->site_type[idx[i]] ? v->site_type[idx[i]] : "");
        fprintf(fp, "  %s%s\n", o.en ? "site: " : "分配点：", path);
        hv_print_stack(fp, v, st->stack_id, "  ", o.en);
    }
    if (n == 0) fputs(o.en ? "\nNo leaks.\n" : "\n没有泄漏。\n", fp);
    free(idx);
    rc = hv_commit(&out, a->input, a->output, ferror(fp) || !depth);
    free(depth);
    ms_hview_free(v);
    return rc;
}

/* ---- --flamegraph / --folded ------------------------------------------------------ */
static int tree_for(ms_calltree **owned, const ms_calltree **t, const ms_hview *v, int inverted)
{
    *owned = NULL;
    *t = v->tree;
    if (!inverted) return 0;
    if (ms_calltree_invert(owned, v->tree)) return -1;
    ms_calltree_sort_children(*owned);
    *t = *owned;
    return 0;
}

static int need_output(const msconv_args *a, const char *mode)
{
    if (a->output) return 0;
    return msconv_usage_error(MS_CM("%s 需要输出文件（%s OUT 或 -o OUT；'-' 为标准输出）",
                                    "%s needs an output file (%s OUT or -o OUT; '-' for stdout)"), mode, mode);
}

/* Writes a view of the (possibly inverted) call tree: parses the options,
 * loads the trace, builds the tree, renders it into the output file and
 * commits that file only when everything was written. */
typedef int (*tree_render_fn)(FILE *f, const ms_calltree *t, const hv_opts *o, const ms_hview *v);

static int tree_view(const msconv_args *a, const char *mode, tree_render_fn render, int escape)
{
    hv_opts o;
    int rc = hv_parse_opts(&o, a);
    if (rc || (rc = need_output(a, mode))) return rc;
    ms_hview *v;
    if ((rc = hv_load(&v, a, 3))) return rc;
    ms_calltree *inv;
    const ms_calltree *t;
    if (tree_for(&inv, &t, v, o.inverted)) { msconv_error(a->input, "%s", ms_cli_strerror(ENOMEM)); ms_hview_free(v); return 1; }
    ms_outfile out;
    if (hv_open(&out, a->input, a->output, escape)) { ms_calltree_free(inv); ms_hview_free(v); return 1; }
    int bad = render(out.fp, t, &o, v);
    rc = hv_commit(&out, a->input, a->output, bad);
    ms_calltree_free(inv);
    ms_hview_free(v);
    return rc;
}

static int render_flame(FILE *f, const ms_calltree *t, const hv_opts *o, const ms_hview *v)
{
    char sub[1800], title[600], num[64], est[300], rng[400];
    trace_title(title, sizeof title, v, o->en);
    ms_range_note(rng, sizeof rng, v->heap, o->en ? MS_LANG_EN : MS_LANG_ZH, 0);
    uint64_t total = ms_calltree_total(t, o->metric);
    if (ms_ct_metric_is_bytes(o->metric)) ms_fmt_bytes(num, total);
    else ms_fmt_count(num, total);
    hv_sampled_line(est, sizeof est, v, o->en, 0);
    snprintf(sub, sizeof sub, "%s — %s %s%s%s%s%s%s", title, ms_flame_metric_label(o->metric, o->en), num,
             o->inverted ? (o->en ? " (inverted: allocating functions at the top)" : "（倒置：分配函数在上）") : "",
             *rng ? " — " : "", rng, *est ? " — " : "", est);
    ms_flame_opts fo = { .metric = o->metric, .icicle = o->inverted, .lang_en = o->en, .subtitle = sub,
                         .min_pct = o->min_pct };
    return ms_flame_svg(f, t, &fo);
}

/* A ranged file starts with a "# time range ..." line (flamegraph.pl and
 * speedscope skip lines that are not "stack count"). */
static int render_folded(FILE *f, const ms_calltree *t, const hv_opts *o, const ms_hview *v)
{
    char rng[400];
    if (ms_range_note(rng, sizeof rng, v->heap, o->en ? MS_LANG_EN : MS_LANG_ZH, 0)) fprintf(f, "# %s\n", rng);
    return ms_folded_write(f, t, o->metric);
}

int msconv_heap_flamegraph(const msconv_args *a)
{
    return tree_view(a, "--flamegraph", render_flame, 0);
}

int msconv_heap_folded(const msconv_args *a)
{
    return tree_view(a, "--folded", render_folded, MS_TERM_TEXT);
}

/* ---- --svg (call graph) ------------------------------------------------------------ */
static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int msconv_heap_svg(const msconv_args *a)
{
    hv_opts o;
    int rc = hv_parse_opts(&o, a);
    if (rc || (rc = need_output(a, "--svg"))) return rc;
    ms_hview *v;
    if ((rc = hv_load(&v, a, 3))) return rc;
    char *dot = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&dot, &len);
    char title[1000], est[300], rng[400];
    trace_title(title, sizeof title, v, o.en);
    if (ms_range_note(rng, sizeof rng, v->heap, o.en ? MS_LANG_EN : MS_LANG_ZH, 0)) {
        size_t n = strlen(title);
        snprintf(title + n, sizeof title - n, " — %s", rng);
    }
    hv_sampled_line(est, sizeof est, v, o.en, 0);
    ms_dot_opts dopt = { .metric = o.metric, .lang_en = o.en, .title = title, .note = *est ? est : NULL };
    ms_dot_stats st;
    int bad = !mf || ms_dot_write(mf, v->tree, &dopt, &st) != 0;
    if (mf) fclose(mf);
    ms_hview_free(v);
    if (bad) { free(dot); msconv_error(a->input, "%s", ms_cli_strerror(ENOMEM)); return 1; }

    const char *path = a->output;
    int to_dot = ends_with(path, ".dot");
    char *dotpath = NULL;
    if (!to_dot && !ms_dot_find()) {
        size_t n = strlen(path);
        dotpath = malloc(n + 5);
        if (!dotpath) { free(dot); msconv_error(a->input, "%s", ms_cli_strerror(ENOMEM)); return 1; }
        if (strcmp(path, "-") == 0) strcpy(dotpath, "-");
        else if (ends_with(path, ".svg")) { memcpy(dotpath, path, n - 4); strcpy(dotpath + n - 4, ".dot"); }
        else { memcpy(dotpath, path, n); strcpy(dotpath + n, ".dot"); }
        to_dot = 1;
        path = dotpath;
        msconv_error(a->output, MS_CM("未安装 Graphviz 的 dot 命令，已改为写出 DOT 文件 %s（可用 dot -Tsvg %s -o %s 生成 SVG）",
                                      "Graphviz 'dot' is not installed; wrote the call graph as DOT to %s instead "
                                      "(render it with: dot -Tsvg %s -o %s)"),
                     path, path, a->output);
    }
    ms_outfile out;
    if (hv_open(&out, a->input, path, 0)) { free(dot); free(dotpath); return 1; }
    char err[600] = "";
    if (to_dot) {
        bad = fwrite(dot, 1, len, out.fp) != len;
        rc = hv_commit(&out, a->input, path, bad);
    } else if (ms_dot_svg(dot, len, out.fp, err, sizeof err) != 0) {
        ms_outfile_abort(&out);
        msconv_error(path, "%s", err);
        rc = 1;
    } else {
        rc = hv_commit(&out, a->input, path, 0);
    }
    free(dot);
    free(dotpath);
    return rc;
}
