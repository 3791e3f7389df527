/*
 * msdiff — compares two .memscope files. The inputs are files or
 * directories holding exactly one .memscope each (seed 000's
 * `--diff dir1 dir2`); the file kind picks the implementation from the
 * table below (snapshot diffs today; heap trace diffs are one more row).
 * With no output option both reports are written, by default into the
 * second directory (diff_report_中文.md and diff_report.json), or into the
 * current directory when the second input is a file.
 */
#include "msdiff.h"
#include "term.h"
#include "memscope.h"
#include "snap.h"
#include "snapdiff.h"
#include "fmt.h"
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f)
{
    fprintf(f,
        "usage: msdiff A B [--md [OUT]] [--json [OUT]] [options]\n"
        "\n"
        "Compare two .memscope files. A and B are files, or directories holding\n"
        "one .memscope file each (e.g. msdiff ./升级前 ./升级后).\n"
        "\n"
        "  --md [OUT]        Markdown report (default OUT: diff_report_中文.md, or\n"
        "                    diff_report_en.md with --lang en)\n"
        "  --json [OUT]      JSON report with every number in bytes (default OUT:\n"
        "                    diff_report.json)\n"
        "                    Without --md/--json both are written. Default outputs go\n"
        "                    into B's directory when B is a directory, else into the\n"
        "                    current directory; OUT \"-\" is stdout.\n"
        "  --lang zh|en      report language (default zh)\n"
        "  --threshold SIZE  fold what changed by less than SIZE (0 shows all):\n"
        "                    snapshots: processes whose PSS change is below SIZE, one\n"
        "                    line per group (default 1M); heap traces: sites whose\n"
        "                    peak, leaked and allocated bytes all changed by less\n"
        "                    than SIZE, one line per section (default 0: every\n"
        "                    changed site is listed)\n"
        "  --files-threshold N\n"
        "                    snapshots: open-file changes of at least N files are\n"
        "                    always shown, whatever --threshold (default 20)\n"
        "  --snapshot N[:M]  snapshots: use snapshot N of a series file (0-based;\n"
        "                    negative counts from the end); N:M picks N from A and\n"
        "                    M from B. Default: the last snapshot of each file, or\n"
        "                    the first and the last when A and B are one series\n"
        "  --match auto|pid|key\n"
        "                    process matching: pid = (pid, starttime), key = (exe,\n"
        "                    normalized cmdline, user); auto = pid when both\n"
        "                    snapshots come from the same boot (default)\n"
        "  --help            this text\n");
}

/* A directory input: its only .memscope file. */
static int resolve_input(const char *in, char *out, size_t cap, int *is_dir)
{
    struct stat st;
    if (stat(in, &st) != 0) {
        fprintf(stderr, "msdiff: %s: %s\n", in, strerror(errno));
        return -1;
    }
    *is_dir = S_ISDIR(st.st_mode);
    if (!*is_dir) { snprintf(out, cap, "%s", in); return 0; }
    DIR *d = opendir(in);
    if (!d) { fprintf(stderr, "msdiff: %s: %s\n", in, strerror(errno)); return -1; }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 9 && !strcmp(de->d_name + l - 9, ".memscope")) {
            if (!n) snprintf(out, cap, "%s/%s", in, de->d_name);
            n++;
        }
    }
    closedir(d);
    if (n == 0) { fprintf(stderr, "msdiff: %s: no .memscope file in this directory\n", in); return -1; }
    if (n > 1) { fprintf(stderr, "msdiff: %s: %d .memscope files in this directory; name one\n", in, n); return -1; }
    return 0;
}

typedef int (*diff_fn)(const msdiff_args *);
static const struct { uint32_t kind; diff_fn fn; } diffs[] = {
    { MS_KIND_SNAPSHOT, msdiff_snapshot },
    { MS_KIND_HEAP, msdiff_heap },
};

int main(int argc, char **argv)
{
    msdiff_args a;
    ms_term_guard_stderr();         /* names from the trace: no raw controls */
    memset(&a, 0, sizeof a);
    a.lang = MS_LANG_ZH;
    a.threshold = 1024 * 1024;
    a.match = SD_RULE_AUTO;
    a.files_threshold = 20;
    a.snap_a = a.snap_b = LONG_MIN;
    const char *in[2] = {NULL, NULL};
    int nin = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) { usage(stdout); return 0; }
        if (!strcmp(s, "--version")) { printf("msdiff %s\n", MS_VERSION_STRING); return 0; }
        if (!strcmp(s, "--md") || !strcmp(s, "--json")) {
            int md = s[2] == 'm';
            const char *out = NULL;
            /* optional value: taken once both inputs are known */
            if (v && nin == 2 && (v[0] != '-' || !strcmp(v, "-"))) { out = v; i++; }
            if (md) { a.want_md = 1; a.md_out = out; } else { a.want_json = 1; a.json_out = out; }
        } else if (!strncmp(s, "--md=", 5)) { a.want_md = 1; a.md_out = s + 5; }
        else if (!strncmp(s, "--json=", 7)) { a.want_json = 1; a.json_out = s + 7; }
        else if (!strcmp(s, "--files-threshold") || !strcmp(s, "--snapshot")) {
            if (!v) { fprintf(stderr, "msdiff: %s needs a value\n", s); return 2; }
            i++;
            char *end;
            if (s[2] == 'f') {
                unsigned long long n = strtoull(v, &end, 10);
                if (end == v || *end || v[0] == '-') { fprintf(stderr, "msdiff: --files-threshold: invalid count '%s'\n", v); return 2; }
                a.files_threshold = n;
            } else {
                a.snap_a = strtol(v, &end, 10);
                a.snap_b = a.snap_a;
                if (end != v && *end == ':') { const char *m = end + 1; a.snap_b = strtol(m, &end, 10); if (end == m) end = (char *)"x"; }
                if (end == v || *end) { fprintf(stderr, "msdiff: --snapshot: expected N or N:M, got '%s'\n", v); return 2; }
            }
        }
        else if (!strcmp(s, "--lang") || !strcmp(s, "--threshold") || !strcmp(s, "--match")) {
            if (!v) { fprintf(stderr, "msdiff: %s needs a value\n", s); return 2; }
            i++;
            if (!strcmp(s, "--lang")) {
                if (ms_lang_parse(v, &a.lang)) { fprintf(stderr, "msdiff: --lang: expected zh or en, got '%s'\n", v); return 2; }
            } else if (!strcmp(s, "--threshold")) {
                if (ms_parse_size(v, &a.threshold)) { fprintf(stderr, "msdiff: --threshold: invalid size '%s'\n", v); return 2; }
                a.threshold_given = 1;
            } else {
                if (!strcmp(v, "auto")) a.match = SD_RULE_AUTO;
                else if (!strcmp(v, "pid")) a.match = SD_RULE_PID;
                else if (!strcmp(v, "key")) a.match = SD_RULE_KEY;
                else { fprintf(stderr, "msdiff: --match: expected auto, pid or key, got '%s'\n", v); return 2; }
            }
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "msdiff: unknown option '%s' (try msdiff --help)\n", s);
            return 2;
        } else if (nin < 2) in[nin++] = s;
        else { fprintf(stderr, "msdiff: too many inputs ('%s'); give two\n", s); return 2; }
    }
    if (nin != 2) { usage(stderr); return 2; }
    if (!a.want_md && !a.want_json) a.want_md = a.want_json = 1;
    static char pa[PATH_MAX], pb[PATH_MAX];
    int da = 0, db = 0;
    if (resolve_input(in[0], pa, sizeof pa, &da) || resolve_input(in[1], pb, sizeof pb, &db)) return 1;
    a.a = pa;
    a.b = pb;
    a.b_dir = db ? in[1] : NULL;
    char err[256];
    int ka = snap_file_kind(pa, err, sizeof err);
    if (ka < 0) { fprintf(stderr, "msdiff: %s: %s\n", pa, err); return 1; }
    int kb = snap_file_kind(pb, err, sizeof err);
    if (kb < 0) { fprintf(stderr, "msdiff: %s: %s\n", pb, err); return 1; }
    if (ka != kb) {
        fprintf(stderr, "msdiff: %s: cannot compare a %s with a %s\n", pb,
                kb == MS_KIND_HEAP ? "heap trace" : "snapshot file", ka == MS_KIND_HEAP ? "heap trace" : "snapshot file");
        return 1;
    }
    for (size_t i = 0; i < sizeof diffs / sizeof *diffs; i++)
        if (diffs[i].kind == (uint32_t)ka) return diffs[i].fn(&a);
    if (ka == MS_KIND_HEAP)
        fprintf(stderr, "msdiff: %s: heap trace diff not supported yet\n", pa);
    else
        fprintf(stderr, "msdiff: %s: unknown file kind %d\n", pa, ka);
    return 1;
}
