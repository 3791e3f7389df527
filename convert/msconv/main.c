/*
 * msconv: turns a .memscope file into reports. This file parses the command
 * line, opens the input once to learn its kind, and dispatches through a
 * table of modes: adding a view is one entry in `modes` plus its function.
 * Heap traces are handled here (--info, --dump, --json, ...); snapshot
 * files go to msconv_snapshot for everything but --info and --dump.
 * Errors are one line "msconv: FILE: reason"; exit 1 for bad input or
 * output, 2 for usage errors. Reports are written atomically (outfile.h).
 * Help, errors and notes follow ms_cli_lang (i18n.h): English unless
 * --lang zh or a zh locale; reports stay Chinese by default.
 */
#include "msconv.h"
#include "hugeheap.h"
#include "views.h"
#include "heap_views.h"
#include "pprof_proto.h"
#include "progress.h"
#include "term.h"
#include "symbolize.h"
#include "mssym.h"
#include "i18n.h"
#include "verdict.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KIND_HEAP (1u << MS_KIND_HEAP)
#define KIND_SNAP (1u << MS_KIND_SNAPSHOT)
#define KIND_ANY  (~0u)

typedef struct mode {
    const char *flag;
    const char *args;                 /* usage text after the flag          */
    ms_msg help;
    int (*run)(const msconv_args *);
    unsigned kinds;                   /* file kinds handled here            */
} mode;

/* One entry per view. Snapshot files go to msconv_snapshot for any mode
 * whose kinds lack KIND_SNAP. */
static const mode modes[] = {
    { "--info", "", {"文件头、数据块与记录数、大小、时间范围、完整性", "file header, chunk and record counts, sizes, time range, integrity"},
      msconv_info, KIND_ANY },
    { "--dump", "[-o OUT]", {"每条记录一行 JSON（JSON Lines）", "every record as JSON Lines (one object per line)"},
      msconv_dump, KIND_ANY },
    { "--json", "[-o OUT] [--events] [--top N]",
      {"堆报告：摘要、分配、分配点、线程、调用栈表、完整性", "heap report: summary, allocations, sites, threads, stack tables, integrity"},
      msconv_heap_json, KIND_HEAP },
    /* heap_views.h: OUT after the flag is the output file (like -o OUT) */
    { "--text", "[--metric M] [--granularity G] [--sort S]",
      {"pprof 风格的表（按函数、行、文件或地址的 flat 与 cum）、heaptrack_print 的各节、摘要",
       "pprof-style table (flat, cum per function, line, file or address), heaptrack_print's sections, a summary"},
      msconv_heap_text, KIND_HEAP },
    { "--leaks", "[-o OUT]", {"泄漏的分配点及其完整调用栈、字节数与内存块数", "leaking sites with their full stacks, bytes and blocks"},
      msconv_heap_leaks, KIND_HEAP },
    { "--svg", "OUT [--metric M]", {"调用图（用 Graphviz dot；没有 dot 时写 .dot 文件）", "call graph via Graphviz dot (a .dot file without dot)"},
      msconv_heap_svg, KIND_HEAP },
    { "--flamegraph", "OUT [--metric M] [--inverted] [--minwidth PCT]", {"独立的 SVG 火焰图", "self-contained SVG flame graph"},
      msconv_heap_flamegraph, KIND_HEAP },
    { "--folded", "OUT [--metric M] [--inverted]", {"折叠调用栈（flamegraph.pl、speedscope）", "folded stacks (flamegraph.pl, speedscope)"},
      msconv_heap_folded, KIND_HEAP },
    { "--html", "OUT", {"离线 HTML 仪表盘", "offline HTML dashboard"},
      msconv_heap_html, KIND_HEAP },
    { "--pprof", "OUT", {"gzip 压缩的 pprof profile.proto：alloc/inuse objects/space（OUT 为 - 时写到标准输出）", "gzipped pprof profile.proto: alloc/inuse objects/space (OUT - = stdout)"},
      msconv_heap_pprof, KIND_HEAP },
};
#define NMODES (sizeof modes / sizeof modes[0])

/* Options of snapshot views that take a value (skipped when scanning for
 * the input file; msconv_snapshot parses them). */
static const char *const snapshot_value_opts[] = { "--pid", "--snapshot", NULL };

/* Fallback while the snapshot views are not linked in; the real
 * msconv_snapshot (convert/msconv/snapshot_*.c) overrides it. */
__attribute__((weak)) int msconv_snapshot(int argc, char **argv)
{
    const char *file = "input";
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-') { file = argv[i]; break; }
    msconv_error(file, "%s", MS_C(((ms_msg){"未编译快照视图", "snapshot views not built"})));
    return 1;
}

void msconv_error(const char *what, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) if (*p == '\n') *p = ' ';
    fprintf(stderr, "msconv: %s: %s\n", what, msg);
}

const char *msconv_reader_error(int err)
{
    const char *d = ms_reader_open_error();
    if (err == MS_EIO && errno && (ms_cli() == MS_LANG_ZH || !d || !d[0])) return ms_cli_strerror(errno);
    if (d && d[0] && ms_cli() == MS_LANG_ZH && strcmp(d, ms_strerror(err))) {
        static _Thread_local char buf[512];    /* the reader's detail stays as written */
        snprintf(buf, sizeof buf, "%s（%s）", ms_cli_mserror(err), d);
        return buf;
    }
    if (d && d[0] && ms_cli() == MS_LANG_EN) return d;
    return ms_cli_mserror(err);
}

int msconv_verdict_lang(char *buf, size_t n, const char **word, const ms_integrity *in, ms_lang l)
{
    return ms_verdict_text(buf, n, word, in, l);
}

int msconv_verdict(char *buf, size_t n, const char **word, const ms_integrity *in)
{
    return msconv_verdict_lang(buf, n, word, in, MS_LANG_EN);
}

void msconv_warn_integrity(const char *file, const ms_integrity *in)
{
    char buf[256];
    if (msconv_verdict_lang(buf, sizeof buf, NULL, in, ms_cli())) msconv_error(file, "%s", buf);
}

static void usage(FILE *fp)
{
    int en = ms_cli() == MS_LANG_EN;
    fprintf(fp, en ? "usage: msconv FILE MODE [options]     (FILE may also follow the options)\n"
                     "Converts a .memscope heap trace or snapshot file into reports.\n\n"
                     "modes:\n"
                   : "用法：msconv FILE MODE [选项]     （FILE 也可以放在选项之后）\n"
                     "把 .memscope 堆追踪或快照文件转换成报告。\n\n"
                     "模式：\n");
    for (size_t i = 0; i < NMODES; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s %s", modes[i].flag, modes[i].args);
        fprintf(fp, "  %-36s %s%s\n", head, MS_C(modes[i].help),
                modes[i].kinds == KIND_HEAP ? (en ? " (heap traces)" : "（堆追踪）") : "");
    }
    if (en) fprintf(fp,
        "  (snapshot files: --json, --text, --pid PID and --html OUT are handled by the\n"
        "   snapshot views; --html OUT is then the snapshot dashboard: totals by kind,\n"
        "   process table, libraries, growth per process of a series)\n\n"
        "options:\n"
        "  -o, --output OUT   write the report to OUT (default stdout); never left half-written\n"
        "  --events           --json: every allocation, streamed\n"
        "  --top N            --json: the N largest allocations, and the N sites with the\n"
        "                     most bytes at the peak, when there are more than 10000\n"
        "                     (default 1000)\n"
        "  --metric M         --text, --svg, --flamegraph, --folded: peak (default), leaked,\n"
        "                     allocated, count or temporary\n"
        "  --nodecount N      --text: at most N rows\n"
        "  --nodefraction F   --text: drop rows whose cum is under F x the total and say\n"
        "                     \"Dropped N nodes (cum <= X)\" (pprof's; default 0.005, 0 keeps all)\n"
        "  --granularity G    --text: a row per functions (default; a function shows a line\n"
        "                     only when all of its value comes from that line), lines, files\n"
        "                     or addresses, as pprof; inlined frames are marked (inline)\n"
        "  --sort S           --text: also heaptrack_print's sections, each site with its\n"
        "                     call path and stack: calls (most calls to allocation\n"
        "                     functions), peak (peak memory consumers), temporary (most\n"
        "                     temporary allocations), leaked (most memory leaked), all, or a\n"
        "                     comma-separated list; --top N entries each (default 10)\n"
        "  --inverted         --flamegraph, --folded: allocating functions at the root\n"
        "  --minwidth PCT     --flamegraph: fold frames under PCT %% of the total into one\n"
        "                     \"[N folded]\" frame per caller (default 0.1; 0 folds nothing)\n"
        "  --from T, --to T   --text, --leaks, --svg, --flamegraph, --folded, --json, --pprof:\n"
        "                     count only the allocations made in [--from, --to], in seconds\n"
        "                     from the trace start (decimals allowed; either may be omitted;\n"
        "                     a --to past the end means the end, with a note); \"peak\" (pprof:\n"
        "                     inuse) is then what those allocations left live at the range's\n"
        "                     end (--to T alone: the whole heap at instant T), \"leaked\" what\n"
        "                     they left live at the end of the trace; the report's header says\n"
        "                     the range\n"
        "  --phase NAME       the same for a phase: from the app's first ms_mark(NAME) to the\n"
        "                     next mark or the end (not with --from/--to; an unknown NAME is an\n"
        "                     error listing the phases)\n"
        "  --pid PID          snapshot files: one process (exe, PSS/RSS, open files, libraries)\n"
        "  --snapshot N       snapshot files: snapshot N of a series, 0-based (default: last)\n"
        "  --lang zh|en       language of reports and of these messages (reports: zh by\n"
        "                     default; messages follow LC_ALL, LC_MESSAGES, LANG: zh...\n"
        "                     is Chinese, anything else English)\n"
        "  --no-symbolize     do not resolve addresses the trace has no symbols for\n"
        "                     (by default they are resolved from this machine's files\n"
        "                     when their build ids match)\n"
        "  --debuginfod       may also ask the servers in $DEBUGINFOD_URLS (never otherwise)\n"
        "  -h, --help         this help\n"
        "  -V, --version      version\n\n"
        "Without a mode, --info is shown. Exit status: 0 ok (a damaged but readable\n"
        "file gives a warning on stderr), 1 bad input or output, 2 usage error.\n"
        "Units: sizes are binary (1024-based), written KiB, MiB, GiB.\n");
    else fprintf(fp,
        "  （快照文件：--json、--text、--pid PID 与 --html OUT 由快照视图处理；\n"
        "   此时 --html OUT 是快照仪表盘：按类别的合计、进程表、库、\n"
        "   一个序列中每个进程的增长）\n\n"
        "选项：\n"
        "  -o, --output OUT   把报告写到 OUT（默认标准输出）；绝不留下写了一半的文件\n"
        "  --events           --json：逐条输出每次分配（流式）\n"
        "  --top N            --json：分配点多于 10000 个时，只列最大的 N 次分配和峰值时\n"
        "                     字节最多的 N 个分配点（默认 1000）\n"
        "  --metric M         --text、--svg、--flamegraph、--folded：peak（默认）、leaked、\n"
        "                     allocated、count 或 temporary\n"
        "  --nodecount N      --text：最多 N 行\n"
        "  --nodefraction F   --text：去掉 cum 小于总量 F 倍的行，并写出\n"
        "                     “已略去 N 个节点（cum <= X）”（同 pprof；默认 0.005，0 全部保留）\n"
        "  --granularity G    --text：每行一个 functions（默认；只有函数的全部值都来自同一行\n"
        "                     时才显示行号）、lines、files 或 addresses，同 pprof；\n"
        "                     内联帧标为 (inline)\n"
        "  --sort S           --text：另加 heaptrack_print 的各节，每个分配点附调用路径与\n"
        "                     调用栈：calls（调用分配函数最多）、peak（峰值内存最大）、\n"
        "                     temporary（临时分配最多）、leaked（泄漏最多）、all，或逗号\n"
        "                     分隔的列表；每节 --top N 项（默认 10）\n"
        "  --inverted         --flamegraph、--folded：分配函数在根部\n"
        "  --minwidth PCT     --flamegraph：把小于总量 PCT %% 的帧在每个调用者下合并为一个\n"
        "                     “[N folded]”帧（默认 0.1；0 不合并）\n"
        "  --from T, --to T   --text、--leaks、--svg、--flamegraph、--folded、--json、--pprof：\n"
        "                     只统计 [--from, --to] 内的分配，单位为距追踪开始的秒数（可带\n"
        "                     小数；两者都可省略；--to 超过结尾即取结尾，并给出提示）；\n"
        "                     此时 “peak”（pprof：inuse）是这些分配在范围结束时仍存活的部分\n"
        "                     （只给 --to T：时刻 T 的整个堆），“leaked” 是它们在追踪结束时\n"
        "                     仍存活的部分；报告开头写明范围\n"
        "  --phase NAME       同上，范围为一个阶段：从程序第一次 ms_mark(NAME) 到下一个标记\n"
        "                     或结尾（不能与 --from/--to 同用；未知的 NAME 是错误，并列出\n"
        "                     所有阶段）\n"
        "  --pid PID          快照文件：单个进程（可执行文件、PSS/RSS、打开的文件、库）\n"
        "  --snapshot N       快照文件：序列中的第 N 个快照，从 0 开始（默认：最后一个）\n"
        "  --lang zh|en       报告与本程序消息的语言（报告默认 zh；消息默认随 LC_ALL、\n"
        "                     LC_MESSAGES、LANG：zh 开头为中文，否则英文）\n"
        "  --no-symbolize     不解析追踪中没有符号的地址（默认用本机构建 ID 相符的文件解析）\n"
        "  --debuginfod       也可询问 $DEBUGINFOD_URLS 中的服务器（否则从不询问）\n"
        "  -h, --help         本帮助\n"
        "  -V, --version      版本\n\n"
        "不给模式时显示 --info。退出状态：0 成功（文件损坏但可读时在标准错误输出警告），\n"
        "1 输入或输出错误，2 用法错误。单位：字节大小一律按 1024 进位，写作 KiB、MiB、GiB。\n");
}

int msconv_usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, MS_C(((ms_msg){"msconv: 用法错误：%s（见 msconv --help）\n",
                                   "msconv: usage: %s (see msconv --help)\n"})), msg);
    return 2;
}

static const mode *find_mode(const char *opt)
{
    for (size_t i = 0; i < NMODES; i++)
        if (!strcmp(modes[i].flag, opt)) return &modes[i];
    return NULL;
}

static int is_snapshot_value_opt(const char *opt)
{
    for (size_t i = 0; snapshot_value_opts[i]; i++)
        if (!strcmp(snapshot_value_opts[i], opt)) return 1;
    return 0;
}

static int msconv_run(int argc, char **argv)
{
    msconv_args a;
    ms_term_guard_stderr();         /* names from the trace: no raw controls */
    ms_cli_lang(argc, argv);
    memset(&a, 0, sizeof a);
    a.top = 1000;
    a.lang = "zh";
    a.argc = argc; a.argv = argv;
    const mode *m = NULL;
    const char *unknown = NULL, *bad_mode_pair = NULL;
    int dashdash = 0, symbolize = 1;
    ms_range_req range;
    memset(&range, 0, sizeof range);   /* not static: msconv_main runs many times in the fuzz targets */
    unsigned symflags = 0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
            printf("msconv %s (format %d.%d)\n", MS_VERSION_STRING, MS_FORMAT_MAJOR, MS_FORMAT_MINOR);
            return 0;
        }
    }
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (!dashdash && !strcmp(arg, "--")) { dashdash = 1; continue; }
        if (dashdash || arg[0] != '-' || !arg[1]) {
            if (a.input) return msconv_usage_error(MS_CM("输入文件不止一个（'%s' 和 '%s'）", "more than one input file ('%s' and '%s')"), a.input, arg);
            a.input = arg;
            continue;
        }
        char opt[64];
        const char *val = NULL;
        const char *eq = strchr(arg, '=');
        if (eq && arg[1] == '-' && (size_t)(eq - arg) < sizeof opt) {
            memcpy(opt, arg, (size_t)(eq - arg));
            opt[eq - arg] = 0;
            val = eq + 1;
        } else {
            snprintf(opt, sizeof opt, "%s", arg);
        }
        const mode *mm = find_mode(opt);
        if (mm) {
            if (m && m != mm) bad_mode_pair = mm->flag;
            else m = mm;
            if (!strncmp(mm->args, "OUT", 3)) {           /* --svg OUT, --svg=OUT */
                if (val) a.output = val;
                else if (i + 1 < argc && (argv[i + 1][0] != '-' || !strcmp(argv[i + 1], "-"))) a.output = argv[++i];
            }
            continue;
        }
        int takes = !strcmp(opt, "-o") || !strcmp(opt, "--output") || !strcmp(opt, "--top") ||
                    !strcmp(opt, "--lang") || !strcmp(opt, "--metric") || !strcmp(opt, "--nodecount") ||
                    !strcmp(opt, "--minwidth") || !strcmp(opt, "--granularity") ||
                    !strcmp(opt, "--nodefraction") || !strcmp(opt, "--sort") ||
                    !strcmp(opt, "--from") || !strcmp(opt, "--to") || !strcmp(opt, "--phase");
        if (takes && !val) {
            if (i + 1 >= argc) return msconv_usage_error(MS_CM("%s 需要一个值", "%s needs a value"), opt);
            val = argv[++i];
        }
        if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) {
            if (!val[0]) return msconv_usage_error(MS_CM("%s 需要一个文件名", "%s needs a file name"), opt);
            a.output = val;
        } else if (!strcmp(opt, "--top")) {
            char *end;
            errno = 0;
            long n = strtol(val, &end, 10);
            if (errno || *end || end == val || n < 0) return msconv_usage_error(MS_CM("--top 需要一个 >= 0 的数，而不是 '%s'", "--top needs a number >= 0, not '%s'"), val);
            a.top = n;
        } else if (!strcmp(opt, "--lang")) {
            if (strcmp(val, "zh") && strcmp(val, "en")) return msconv_usage_error(MS_CM("--lang 只能是 zh 或 en，而不是 '%s'", "--lang must be zh or en, not '%s'"), val);
            a.lang = val;
        } else if (!strcmp(opt, "--from") || !strcmp(opt, "--to") || !strcmp(opt, "--phase")) {
            if (msconv_range_opt(&range, opt, val)) return 2;
        } else if (!strcmp(opt, "--events")) {
            a.events = 1;
        } else if (!strcmp(opt, "--no-symbolize")) {
            symbolize = 0;
        } else if (!strcmp(opt, "--debuginfod")) {
            symflags |= MSSYM_DEBUGINFOD;
        } else if (!strcmp(opt, "--metric") || !strcmp(opt, "--nodecount") || !strcmp(opt, "--inverted") ||
                   !strcmp(opt, "--minwidth") || !strcmp(opt, "--granularity") || !strcmp(opt, "--nodefraction") ||
                   !strcmp(opt, "--sort")) {
            /* heap views read these from argv (heap_views.h) */
        } else {
            if (!unknown) unknown = arg;
            if (!val && is_snapshot_value_opt(opt) && i + 1 < argc) i++;
        }
    }
    if (!a.input) return msconv_usage_error("%s", MS_CM("没有输入文件", "no input file"));

    /* learn the file kind (and fail early on unreadable input) */
    struct stat st;
    if (stat(a.input, &st) != 0) { msconv_error(a.input, "%s", ms_cli_strerror(errno)); return 1; }
    if (S_ISDIR(st.st_mode)) { msconv_error(a.input, "%s", ms_cli_strerror(EISDIR)); return 1; }
    ms_reader *r;
    errno = 0;
    int e = ms_reader_open(&r, a.input);
    if (e) { msconv_error(a.input, "%s", msconv_reader_error(e)); return 1; }
    uint32_t kind = ms_reader_header(r)->kind;
    ms_reader_close(r);
    ms_progress_install("msconv");    /* bar on a terminal for long loads */
    if (symbolize) msconv_symbolize_install(symflags);

    unsigned kbit = kind < 32 ? 1u << kind : 0;
    if (kind == MS_KIND_SNAPSHOT && (!m || !(m->kinds & KIND_SNAP)))
        return msconv_snapshot(argc, argv);
    if (bad_mode_pair) return msconv_usage_error(MS_CM("只能选一个模式（给了 %s 和 %s）", "choose one mode (%s and %s given)"), m->flag, bad_mode_pair);
    if (unknown) return msconv_usage_error(MS_CM("未知选项 '%s'", "unknown option '%s'"), unknown);
    if (!m) m = &modes[0];
    if (msconv_range_given(&range)) {
        if ((e = msconv_range_done(&range, m->flag))) return e;
        a.range = &range;
    }
    if (!(m->kinds & kbit)) {
        msconv_error(a.input, MS_CM("%s 需要%s文件，这是类型为 %u 的文件", "%s needs a %s file, this is a file of kind %u"),
                     m->flag, m->kinds == KIND_HEAP ? MS_CM("堆追踪", "heap trace") : MS_CM("快照", "snapshot"), kind);
        return 1;
    }
    return m->run(&a);
}

int main(int argc, char **argv)
{
    ms_cli_hugeheap(argc, argv);
    return mssym_main(msconv_run, argc, argv);   /* (libdw: symbols on the fly) */
}
