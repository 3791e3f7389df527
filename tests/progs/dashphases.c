/*
 * dashphases — three ms_mark phases with known allocations, for the dashboard's
 * time ranges, variables and diagnostics. Each phase allocates right after
 * its mark and then sleeps 40 ms, so the phases fall in separate time bins.
 *   setup:  a worker thread is started; it waits on a pipe.
 *   warmup: grow() keeps 10 x 1000 B; tmp() makes 100 temporary 32 B blocks.
 *   load:   grow() keeps 10 x 1000 B; items() allocates 50 x 256 B and labels
 *           only items[7] ("item7" / "struct item"); g_table = 72 B labelled
 *           "g_table" / "table_t" (kept to the end); the worker allocates
 *           3 x 4096 B, frees one, keeps two, both labelled "wbuf".
 *   drain:  the 50 items are freed; grow() keeps 10 x 1000 B.
 * TRUTH line: allocated bytes per phase and live bytes at each phase end.
 * ms_* are weak (resolved when libmemscope is preloaded). Exits 0.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "memscope.h"
#include "progs.h"

#pragma weak ms_label
#pragma weak ms_mark

static void *kept[30], *items_p[50], *g_table, *wkeep[2];
static int nkept, go[2], done[2];

static void nap(void)
{
    struct timespec ts = { 0, 40 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void grow(void)
{
    for (int i = 0; i < 10; i++) kept[nkept++] = malloc(1000);
}

__attribute__((noinline)) static void tmp(void)
{
    for (int i = 0; i < 100; i++) {
        volatile char *p = malloc(32);
        p[0] = 1;
        free((void *)p);
    }
}

__attribute__((noinline)) static void items(void)
{
    for (int i = 0; i < 50; i++) items_p[i] = malloc(256);
    if (ms_label) ms_label(items_p[7], "item7", "struct item");
}

static void *worker(void *arg)
{
    char c;
    (void)arg;
    if (read(go[0], &c, 1) != 1) return NULL;
    void *a = malloc(4096);
    wkeep[0] = malloc(4096);
    wkeep[1] = malloc(4096);
    if (ms_label) {
        ms_label(wkeep[0], "wbuf", "char[4096]");
        ms_label(wkeep[1], "wbuf", "char[4096]");
    }
    free(a);
    if (write(done[1], "x", 1) != 1) return NULL;
    for (;;) pause();
}

int main(void)
{
    static const char *const names[3] = { "warmup", "load", "drain" };
    pthread_t th;
    char c;
    if (pipe(go) || pipe(done) || pthread_create(&th, NULL, worker, NULL)) return 1;
    nap();
    for (int k = 0; k < 3; k++) {
        if (ms_mark) ms_mark(names[k]);
        grow();                                 /* one site, growing */
        if (k == 0) tmp();
        if (k == 1) {
            items();
            g_table = malloc(72);
            if (ms_label) ms_label(g_table, "g_table", "table_t");
            if (write(go[1], "x", 1) != 1 || read(done[0], &c, 1) != 1) return 1;
        }
        if (k == 2)
            for (int i = 0; i < 50; i++) free(items_p[i]);
        nap();
    }
    out("TRUTH phases warmup=13200/10000 load=35160/31064 drain=10000/10000 warmup+load=48360/41064\n");
    return 0;
}
