/*
 * killme — allocates 1000 blocks of 4242 bytes (kept), prints "ready", then
 * allocates and frees 16-byte blocks every 10 ms until killed (at most 60 s).
 * A test kills it with SIGKILL: the trace must still hold the 1000 blocks
 * (chunks are flushed at least every second).
 */
#include <stdlib.h>
#include <time.h>
#include "progs.h"

static void *keep[1000];

__attribute__((noinline)) void fill_before_ready(void)
{
    for (int i = 0; i < 1000; i++)
        keep[i] = malloc(4242);
}

int main(void)
{
    fill_before_ready();
    out("TRUTH killme before_ready allocs=1000 size=4242\nready\n");
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    for (int i = 0; i < 6000; i++) {
        void *p = malloc(16);
        nanosleep(&ts, NULL);
        free(p);
    }
    return 0;
}
