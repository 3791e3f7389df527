/* msconv --from T / --to T / --phase NAME (analyze/range.h): parsing and
 * checking them, once for every heap view, so each view only passes the
 * request to its loader and calls msconv_range_check after the load.
 * Choices (documented in --help and README): negative, non-numeric or
 * reversed times and --phase with --from/--to are usage errors before the
 * file is read; a --to past the end of the trace is clamped to the end
 * with a one-line note (pprof's and heaptrack's users expect "until the
 * end" rather than an error); a --from past the end, an unknown phase or a
 * trace without marks are errors (exit 2) naming the trace's end or its
 * phases, after the load. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "views.h"
#include "heap.h"

#define RANGE_MODES "--text, --leaks, --svg, --flamegraph, --folded, --json and --pprof"
#define RANGE_MODES_ZH "--text、--leaks、--svg、--flamegraph、--folded、--json 和 --pprof"

static int range_usage(const char *fmt, const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, b);
    return msconv_usage_error("%s", msg);
}

int msconv_range_opt(ms_range_req *r, const char *opt, const char *val)
{
    if (!strcmp(opt, "--phase")) {
        if (!val[0]) return range_usage(MS_CM("%s 需要一个阶段名%s", "%s needs a phase name%s"), opt, "");
        r->phase = val;
        return 0;
    }
    char *end;
    errno = 0;
    double x = strtod(val, &end);
    if (errno || end == val || *end || !isfinite(x) || x < 0)
        return range_usage(MS_CM("%s 需要距追踪开始的秒数（>= 0，可带小数），而不是 '%s'", "%s needs seconds from the start of the trace (>= 0, decimals allowed), not '%s'"), opt, val);
    if (!strcmp(opt, "--from")) { r->has_from = 1; r->from_s = x; }
    else { r->has_to = 1; r->to_s = x; }
    return 0;
}

int msconv_range_given(const ms_range_req *r)
{
    return r->has_from || r->has_to || r->phase;
}

int msconv_range_done(const ms_range_req *r, const char *mode)
{
    if (r->phase && (r->has_from || r->has_to))
        return range_usage(MS_CM("--phase 不能与 --from/--to 同用%s%s", "--phase cannot be combined with --from/--to%s%s"), "", "");
    if (r->has_from && r->has_to && r->to_s < r->from_s) {
        char a[64], b[64];
        snprintf(a, sizeof a, "%g", r->to_s);
        snprintf(b, sizeof b, "%g", r->from_s);
        return range_usage(MS_CM("--to %s 早于 --from %s", "--to %s is before --from %s"), a, b);
    }
    static const char *const ok[] = { "--text", "--leaks", "--svg", "--flamegraph", "--folded",
                                       "--json", "--pprof", NULL };
    for (size_t i = 0; ok[i]; i++)
        if (!strcmp(ok[i], mode)) return 0;
    return range_usage(MS_CM("--from/--to/--phase 只能用于 " RANGE_MODES_ZH "，不能用于 %s%s", "--from/--to/--phase work with " RANGE_MODES ", not with %s%s"), mode, "");
}

int msconv_range_check(const char *input, const ms_heap *h)
{
    const ms_range *r = ms_heap_range(h);
    if (!r) return 0;
    double end = ms_heap_ticks_sec(h, ms_heap_get_summary(h)->end_time);
    if (r->req.phase && !r->found) {
        char names[1024];
        ms_range_names(r, names, sizeof names);
        if (names[0]) fprintf(stderr, MS_CM("msconv: %s: 没有阶段 '%s'（已有阶段：%s）\n", "msconv: %s: no phase '%s' (phases: %s)\n"),
                              input, r->req.phase, names);
        else fprintf(stderr, MS_CM("msconv: %s: 没有阶段 '%s'（追踪中没有 ms_mark 阶段）\n",
                                   "msconv: %s: no phase '%s' (the trace has no ms_mark phases)\n"), input, r->req.phase);
        return 2;
    }
    if (r->from_past_end) {
        fprintf(stderr, MS_CM("msconv: %s: --from %.3f 秒已超过追踪的结尾（%.3f 秒）\n",
                              "msconv: %s: --from %.3f s is past the end of the trace (%.3f s)\n"), input, r->req.from_s, end);
        return 2;
    }
    if (r->to_clamped)
        fprintf(stderr, MS_CM("msconv: %s: 提示：--to %.3f 秒超过追踪的结尾，改用结尾 %.3f 秒\n",
                              "msconv: %s: note: --to %.3f s is past the end of the trace; using its end, %.3f s\n"),
                input, r->req.to_s, end);
    return 0;
}
