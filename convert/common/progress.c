/*
 * Progress bar for the converters (progress.h): loading a trace of tens of
 * millions of events takes seconds, and a silent terminal looks hung. The
 * analysis reports bytes read vs file size through ms_heap_set_progress;
 * this draws one self-overwriting stderr line from it, rate-limited to 10
 * redraws a second, only on a terminal and only for loads longer than
 * half a second, and clears it when the load is done.
 */
#include "progress.h"
#include "heap.h"
#include "fmt.h"
#include "term.h"
#include "i18n.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct {
    const char *prog;
    int force;
    uint64_t start_ns, last_ns;
    int shown;
} P;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void draw(void *ctx, uint64_t done, uint64_t total)
{
    (void)ctx;
    FILE *err = ms_term_raw_stderr();
    uint64_t t = now_ns();
    int end = total && done >= total;
    if (!P.start_ns) P.start_ns = t;
    if (end) {
        if (P.shown) {
            if (P.force) fprintf(err, MS_CM("\r%s: 读取 100%%\n", "\r%s: reading 100%%\n"), P.prog);
            else fputs("\r\033[K", err);
            fflush(err);
        }
        P.start_ns = P.last_ns = 0;
        P.shown = 0;
        return;
    }
    if (!P.force && t - P.start_ns < 500000000u) return;
    if (P.shown && t - P.last_ns < 100000000u) return;
    P.last_ns = t;
    P.shown = 1;
    enum { W = 30 };
    unsigned pct = total ? (unsigned)(done * 100 / total) : 0;
    char bar[W + 1];
    unsigned fill = pct * W / 100;
    for (unsigned i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
    bar[W] = 0;
    fprintf(err, MS_CM("\r%s: 读取 %3u%% [%s] %s / %s\033[K", "\r%s: reading %3u%% [%s] %s / %s\033[K"), P.prog, pct, bar,
            ms_fmt_bytes(MS_FBUF, done), ms_fmt_bytes(MS_FBUF, total));
    fflush(err);
}

void ms_progress_install(const char *prog)
{
    const char *env = getenv("MEMSCOPE_PROGRESS");
    memset(&P, 0, sizeof P);
    P.prog = prog;
    if (env && !strcmp(env, "0")) return;
    P.force = env && !strcmp(env, "1");
    if (!P.force && !isatty(STDERR_FILENO)) return;
    ms_heap_set_progress(draw, NULL);
}
