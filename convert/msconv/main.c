/*
 * msconv: turns a .memscope file into reports. This file parses the command
 * line, opens the input once to learn its kind, and dispatches through a
 * table of modes: adding a view is one entry in `modes` plus its function.
 * Heap traces are handled here (--info, --dump, --json, ...); snapshot
 * files go to msconv_snapshot for everything but --info and --dump.
 * Errors are one line "msconv: FILE: reason"; exit 1 for bad input or
 * output, 2 for usage errors. Reports are written atomically (outfile.h).
 */
#include "msconv.h"
#include "views.h"
#include "heap_views.h"
#include "pprof_proto.h"
#include "progress.h"
#include "term.h"
#include "symbolize.h"
#include "mssym.h"
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
    const char *help;
    int (*run)(const msconv_args *);
    unsigned kinds;                   /* file kinds handled here            */
} mode;

/* One entry per view. Snapshot files go to msconv_snapshot for any mode
 * whose kinds lack KIND_SNAP. */
static const mode modes[] = {
    { "--info", "", "file header, chunk and record counts, sizes, time range, integrity",
      msconv_info, KIND_ANY },
    { "--dump", "[-o OUT]", "every record as JSON Lines (one object per line)",
      msconv_dump, KIND_ANY },
    { "--json", "[-o OUT] [--events] [--top N]",
      "heap report: summary, allocations, sites, threads, stack tables, integrity",
      msconv_heap_json, KIND_HEAP },
    /* heap_views.h: OUT after the flag is the output file (like -o OUT) */
    { "--text", "[--metric M] [--granularity G] [--sort S]",
      "pprof-style table (flat, cum per function, line, file or address), heaptrack_print's sections, a summary",
      msconv_heap_text, KIND_HEAP },
    { "--leaks", "[-o OUT]", "leaking sites with their full stacks, bytes and blocks",
      msconv_heap_leaks, KIND_HEAP },
    { "--svg", "OUT [--metric M]", "call graph via Graphviz dot (a .dot file without dot)",
      msconv_heap_svg, KIND_HEAP },
    { "--flamegraph", "OUT [--metric M] [--inverted] [--minwidth PCT]", "self-contained SVG flame graph",
      msconv_heap_flamegraph, KIND_HEAP },
    { "--folded", "OUT [--metric M] [--inverted]", "folded stacks (flamegraph.pl, speedscope)",
      msconv_heap_folded, KIND_HEAP },
    { "--html", "OUT", "offline HTML dashboard",
      msconv_heap_html, KIND_HEAP },
    { "--pprof", "OUT", "gzipped pprof profile.proto: alloc/inuse objects/space (OUT - = stdout)",
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
    msconv_error(file, "snapshot views not built");
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
    if (d && d[0]) return d;
    if (err == MS_EIO && errno) return strerror(errno);
    return ms_strerror(err);
}

int msconv_verdict(char *buf, size_t n, const char **word, const ms_integrity *in)
{
    const char *w;
    if (in->verdict == MS_ECORRUPT) {
        w = "corrupt";
        snprintf(buf, n, "corrupt chunk at offset %llu (%llu chunks skipped, %llu bytes)",
                 (unsigned long long)in->first_bad_offset, (unsigned long long)in->chunks_bad,
                 (unsigned long long)in->bytes_lost);
    } else if (in->verdict == MS_ETRUNC) {
        w = "truncated";
        snprintf(buf, n, "truncated at offset %llu: %llu records lost (%llu bytes)",
                 (unsigned long long)in->trunc_offset, (unsigned long long)in->records_lost,
                 (unsigned long long)in->bytes_lost);
    } else if (!in->has_end) {
        w = "incomplete";
        snprintf(buf, n, "incomplete: no end-of-trace record (recorder killed?)");
    } else if (in->end_events_lost || in->end_write_errors) {
        /* spec 8.5: the recorder could not write everything (1.2 END) */
        int e = (int)in->end_first_errno;
        const char *why = e == ENOSPC || e == EDQUOT ? "disk full"
                        : e == EFBIG ? "file size limit reached"
                        : e == ENOMEM ? "out of memory"
                        : e > 0 ? strerror(e) : "write errors";
        uint64_t got = in->end_n_events >= in->end_events_lost
                           ? in->end_n_events - in->end_events_lost : 0;
        w = "incomplete";
        snprintf(buf, n, "incomplete: %s, %llu of %llu events written (%llu write errors)", why,
                 (unsigned long long)got, (unsigned long long)in->end_n_events,
                 (unsigned long long)in->end_write_errors);
    } else {
        w = "complete";
        snprintf(buf, n, "complete");
    }
    if (word) *word = w;
    return strcmp(w, "complete") != 0;
}

void msconv_warn_integrity(const char *file, const ms_integrity *in)
{
    char buf[256];
    if (msconv_verdict(buf, sizeof buf, NULL, in)) msconv_error(file, "%s", buf);
}

static void usage(FILE *fp)
{
    fprintf(fp,
        "usage: msconv FILE MODE [options]     (FILE may also follow the options)\n"
        "Converts a .memscope heap trace or snapshot file into reports.\n\n"
        "modes:\n");
    for (size_t i = 0; i < NMODES; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s %s", modes[i].flag, modes[i].args);
        fprintf(fp, "  %-36s %s%s\n", head, modes[i].help,
                modes[i].kinds == KIND_HEAP ? " (heap traces)" : "");
    }
    fprintf(fp,
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
        "  --lang zh|en       language of text reports (default zh)\n"
        "  --no-symbolize     do not resolve addresses the trace has no symbols for\n"
        "                     (by default they are resolved from this machine's files\n"
        "                     when their build ids match)\n"
        "  --debuginfod       may also ask the servers in $DEBUGINFOD_URLS (never otherwise)\n"
        "  -h, --help         this help\n"
        "  -V, --version      version\n\n"
        "Without a mode, --info is shown. Exit status: 0 ok (a damaged but readable\n"
        "file gives a warning on stderr), 1 bad input or output, 2 usage error.\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "msconv: usage: %s (see msconv --help)\n", msg);
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

int main(int argc, char **argv)
{
    msconv_args a;
    ms_term_guard_stderr();         /* names from the trace: no raw controls */
    memset(&a, 0, sizeof a);
    a.top = 1000;
    a.lang = "zh";
    a.argc = argc; a.argv = argv;
    const mode *m = NULL;
    const char *unknown = NULL, *bad_mode_pair = NULL;
    int dashdash = 0, symbolize = 1;
    static ms_range_req range;
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
            if (a.input) return usage_error("more than one input file ('%s' and '%s')", a.input, arg);
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
            if (i + 1 >= argc) return usage_error("%s needs a value", opt);
            val = argv[++i];
        }
        if (!strcmp(opt, "-o") || !strcmp(opt, "--output")) {
            if (!val[0]) return usage_error("%s needs a file name", opt);
            a.output = val;
        } else if (!strcmp(opt, "--top")) {
            char *end;
            errno = 0;
            long n = strtol(val, &end, 10);
            if (errno || *end || end == val || n < 0) return usage_error("--top needs a number >= 0, not '%s'", val);
            a.top = n;
        } else if (!strcmp(opt, "--lang")) {
            if (strcmp(val, "zh") && strcmp(val, "en")) return usage_error("--lang must be zh or en, not '%s'", val);
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
    if (!a.input) return usage_error("no input file");

    /* learn the file kind (and fail early on unreadable input) */
    struct stat st;
    if (stat(a.input, &st) != 0) { msconv_error(a.input, "%s", strerror(errno)); return 1; }
    if (S_ISDIR(st.st_mode)) { msconv_error(a.input, "%s", strerror(EISDIR)); return 1; }
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
    if (bad_mode_pair) return usage_error("choose one mode (%s and %s given)", m->flag, bad_mode_pair);
    if (unknown) return usage_error("unknown option '%s'", unknown);
    if (!m) m = &modes[0];
    if (msconv_range_given(&range)) {
        if ((e = msconv_range_done(&range, m->flag))) return e;
        a.range = &range;
    }
    if (!(m->kinds & kbit)) {
        msconv_error(a.input, "%s needs a %s file, this is a file of kind %u", m->flag,
                     m->kinds == KIND_HEAP ? "heap trace" : "snapshot", kind);
        return 1;
    }
    return m->run(&a);
}
