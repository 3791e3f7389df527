/*
 * phases — known bytes in three phases marked with ms_mark, 150 ms apart,
 * for time ranges and phases (msconv --from/--to/--phase):
 *   setup  (setup_work): 10 x 100 bytes, 4 freed at once;
 *   parse  (parse_work): 20 x 1000 bytes and 7 temporaries of 10 bytes;
 *          15 of the 1000-byte blocks freed at once, 2 setup blocks freed;
 *   solve  (solve_work): 3 x 5000 bytes never freed; the last 5 parse
 *          blocks freed.
 * Each phase's work runs right after its mark; the pauses come after the
 * work, so a time in a pause separates the phases. The TRUTH line has the
 * numbers per phase (allocs, bytes, temporaries, live at the phase's end,
 * live at the end of the program). ms_mark is a weak reference (see
 * leaks.c): the phases exist when libmemscope is preloaded.
 */
#include <stdlib.h>
#include <time.h>
#include "memscope.h"
#include "progs.h"

#pragma weak ms_mark

static void *setup_b[10], *parse_b[20], *solve_b[3];

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {}
}

static void mark(const char *name)
{
    if (ms_mark) ms_mark(name);
}

__attribute__((noinline)) void setup_work(void)
{
    for (int i = 0; i < 10; i++) setup_b[i] = malloc(100);
    for (int i = 0; i < 4; i++) free(setup_b[i]);
}

__attribute__((noinline)) void parse_work(void)
{
    for (int i = 0; i < 20; i++) parse_b[i] = malloc(1000);
    for (int i = 0; i < 7; i++) {
        void *volatile t = malloc(10);
        free(t);
    }
    for (int i = 0; i < 15; i++) free(parse_b[i]);
    free(setup_b[4]);
    free(setup_b[5]);
}

__attribute__((noinline)) void solve_work(void)
{
    for (int i = 0; i < 3; i++) solve_b[i] = malloc(5000);
    for (int i = 15; i < 20; i++) free(parse_b[i]);
}

int main(void)
{
    mark("setup");
    setup_work();
    pause_ms(150);
    mark("parse");
    parse_work();
    pause_ms(150);
    mark("solve");
    solve_work();
    pause_ms(150);
    out("TRUTH phases setup: allocs=10 bytes=1000 temp=0 end_live=600/6 leaked=400/4\n");
    out("TRUTH phases parse: allocs=27 bytes=20070 temp=7 end_live=5000/5 leaked=0/0\n");
    out("TRUTH phases solve: allocs=3 bytes=15000 temp=0 end_live=15000/3 leaked=15000/3\n");
    out("TRUTH phases all: allocs=40 bytes=36070 temp=7 leaked=15400/7 live_in_parse_pause=5400/9\n");
    return 0;
}
