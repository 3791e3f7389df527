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
#include "hugeheap.h"
#include "i18n.h"
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
    fputs(MS_CM(
        "用法：msdiff A B [--md [OUT]] [--json [OUT]] [选项]\n"
        "\n"
        "比较两个 .memscope 文件。A 和 B 是文件，或各含一个 .memscope 文件的\n"
        "目录（例如 msdiff ./升级前 ./升级后）。\n"
        "\n"
        "  --md [OUT]        Markdown 报告（默认 OUT：diff_report_中文.md，\n"
        "                    --lang en 时为 diff_report_en.md）\n"
        "  --json [OUT]      JSON 报告，所有数字以字节为单位（默认 OUT：\n"
        "                    diff_report.json）\n"
        "                    不给 --md/--json 时两者都写。B 是目录时默认输出写到\n"
        "                    B 所在目录，否则写到当前目录；OUT 为 \"-\" 时写到标准输出。\n"
        "  --lang zh|en      报告语言（默认 zh）与本程序消息的语言（默认：LC_ALL、\n"
        "                    LC_MESSAGES 或 LANG 以 zh 开头时为 zh，否则 en）\n"
        "  --threshold SIZE  把变化小于 SIZE 的部分合并（0 全部显示）：\n"
        "                    快照：PSS 变化小于 SIZE 的进程，每组一行（默认 1M）；\n"
        "                    堆追踪：峰值、泄漏和分配字节的变化都小于 SIZE 的分配点，\n"
        "                    每节一行（默认 0：列出每个有变化的分配点）\n"
        "  --files-threshold N\n"
        "                    快照：打开文件数变化至少 N 个时总是显示，不论 --threshold\n"
        "                    （默认 20）\n"
        "  --snapshot N[:M]  快照：使用序列文件中的第 N 个快照（从 0 开始；负数从末尾\n"
        "                    数）；N:M 表示 A 取 N、B 取 M。默认：各文件的最后一个快照；\n"
        "                    A 和 B 是同一个序列时取第一个和最后一个\n"
        "  --match auto|pid|key\n"
        "                    进程匹配：pid = (pid, 启动时间)，key = (可执行文件, 规范化的\n"
        "                    命令行, 用户)；auto = 两个快照来自同一次开机时用 pid（默认）\n"
        "  --as-given        快照：即使 A 更新，也把 A 当作之前、B 当作之后（默认同一\n"
        "                    主机的两个快照按时间顺序比较并给出警告；不同主机的快照\n"
        "                    总是按给定顺序比较）\n"
        "  --help            本帮助\n"
        "大小一律按 1024 进位，写作 KiB、MiB、GiB；SIZE 可带 K、M、G。\n",
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
        "  --lang zh|en      language of the report (default zh) and of these messages\n"
        "                    (default: zh when LC_ALL, LC_MESSAGES or LANG starts with\n"
        "                    zh, else en)\n"
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
        "  --as-given        snapshots: keep A as before and B as after even when\n"
        "                    A is newer (by default two snapshots of one host are\n"
        "                    compared in time order, with a warning; snapshots\n"
        "                    of different hosts are always compared as given)\n"
        "  --help            this text\n"
        "Sizes are binary (1024-based), written KiB, MiB, GiB; SIZE takes K, M, G.\n"), f);
}

/* A directory input: its only .memscope file. */
static int resolve_input(const char *in, char *out, size_t cap, int *is_dir)
{
    struct stat st;
    if (stat(in, &st) != 0) {
        fprintf(stderr, "msdiff: %s: %s\n", in, ms_cli_strerror(errno));
        return -1;
    }
    *is_dir = S_ISDIR(st.st_mode);
    if (!*is_dir) { snprintf(out, cap, "%s", in); return 0; }
    DIR *d = opendir(in);
    if (!d) { fprintf(stderr, "msdiff: %s: %s\n", in, ms_cli_strerror(errno)); return -1; }
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
    if (n == 0) { fprintf(stderr, MS_CM("msdiff: %s: 此目录中没有 .memscope 文件\n", "msdiff: %s: no .memscope file in this directory\n"), in); return -1; }
    if (n > 1) { fprintf(stderr, MS_CM("msdiff: %s: 此目录中有 %d 个 .memscope 文件；请指定一个\n", "msdiff: %s: %d .memscope files in this directory; name one\n"), in, n); return -1; }
    return 0;
}

typedef int (*diff_fn)(const msdiff_args *);
static const struct { uint32_t kind; diff_fn fn; } diffs[] = {
    { MS_KIND_SNAPSHOT, msdiff_snapshot },
    { MS_KIND_HEAP, msdiff_heap },
};

int main(int argc, char **argv)
{
    ms_cli_hugeheap(argc, argv);
    msdiff_args a;
    ms_term_guard_stderr();         /* names from the trace: no raw controls */
    ms_cli_lang(argc, argv);
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
        if (!strcmp(s, "--as-given")) { a.as_given = 1; continue; }
        if (!strcmp(s, "--md") || !strcmp(s, "--json")) {
            int md = s[2] == 'm';
            const char *out = NULL;
            /* optional value: taken once both inputs are known */
            if (v && nin == 2 && (v[0] != '-' || !strcmp(v, "-"))) { out = v; i++; }
            if (md) { a.want_md = 1; a.md_out = out; } else { a.want_json = 1; a.json_out = out; }
        } else if (!strncmp(s, "--md=", 5)) { a.want_md = 1; a.md_out = s + 5; }
        else if (!strncmp(s, "--json=", 7)) { a.want_json = 1; a.json_out = s + 7; }
        else if (!strcmp(s, "--files-threshold") || !strcmp(s, "--snapshot")) {
            if (!v) { fprintf(stderr, MS_CM("msdiff: %s 需要一个值\n", "msdiff: %s needs a value\n"), s); return 2; }
            i++;
            char *end;
            if (s[2] == 'f') {
                unsigned long long n = strtoull(v, &end, 10);
                if (end == v || *end || v[0] == '-') { fprintf(stderr, MS_CM("msdiff: --files-threshold: 无效的个数 '%s'\n", "msdiff: --files-threshold: invalid count '%s'\n"), v); return 2; }
                a.files_threshold = n;
            } else {
                a.snap_a = strtol(v, &end, 10);
                a.snap_b = a.snap_a;
                if (end != v && *end == ':') { const char *m = end + 1; a.snap_b = strtol(m, &end, 10); if (end == m) end = (char *)"x"; }
                if (end == v || *end) { fprintf(stderr, MS_CM("msdiff: --snapshot: 应为 N 或 N:M，而不是 '%s'\n", "msdiff: --snapshot: expected N or N:M, got '%s'\n"), v); return 2; }
            }
        }
        else if (!strcmp(s, "--lang") || !strcmp(s, "--threshold") || !strcmp(s, "--match")) {
            if (!v) { fprintf(stderr, MS_CM("msdiff: %s 需要一个值\n", "msdiff: %s needs a value\n"), s); return 2; }
            i++;
            if (!strcmp(s, "--lang")) {
                if (ms_lang_parse(v, &a.lang)) { fprintf(stderr, MS_CM("msdiff: --lang: 只能是 zh 或 en，而不是 '%s'\n", "msdiff: --lang: expected zh or en, got '%s'\n"), v); return 2; }
            } else if (!strcmp(s, "--threshold")) {
                if (ms_parse_size(v, &a.threshold)) { fprintf(stderr, MS_CM("msdiff: --threshold: 无效的大小 '%s'\n", "msdiff: --threshold: invalid size '%s'\n"), v); return 2; }
                a.threshold_given = 1;
            } else {
                if (!strcmp(v, "auto")) a.match = SD_RULE_AUTO;
                else if (!strcmp(v, "pid")) a.match = SD_RULE_PID;
                else if (!strcmp(v, "key")) a.match = SD_RULE_KEY;
                else { fprintf(stderr, MS_CM("msdiff: --match: 只能是 auto、pid 或 key，而不是 '%s'\n", "msdiff: --match: expected auto, pid or key, got '%s'\n"), v); return 2; }
            }
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, MS_CM("msdiff: 未知选项 '%s'（见 msdiff --help）\n", "msdiff: unknown option '%s' (try msdiff --help)\n"), s);
            return 2;
        } else if (nin < 2) in[nin++] = s;
        else { fprintf(stderr, MS_CM("msdiff: 输入太多（'%s'）；请给两个\n", "msdiff: too many inputs ('%s'); give two\n"), s); return 2; }
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
        const char *heap = MS_CM("堆追踪", "heap trace"), *snap = MS_CM("快照文件", "snapshot file");
        fprintf(stderr, MS_CM("msdiff: %s: 不能把%s与%s比较\n", "msdiff: %s: cannot compare a %s with a %s\n"), pb,
                kb == MS_KIND_HEAP ? heap : snap, ka == MS_KIND_HEAP ? heap : snap);
        return 1;
    }
    for (size_t i = 0; i < sizeof diffs / sizeof *diffs; i++)
        if (diffs[i].kind == (uint32_t)ka) return diffs[i].fn(&a);
    if (ka == MS_KIND_HEAP)
        fprintf(stderr, MS_CM("msdiff: %s: 尚不支持堆追踪的比较\n", "msdiff: %s: heap trace diff not supported yet\n"), pa);
    else
        fprintf(stderr, MS_CM("msdiff: %s: 未知的文件类型 %d\n", "msdiff: %s: unknown file kind %d\n"), pa, ka);
    return 1;
}
