/*
 * segv — allocates 10 blocks of 1000 bytes, frees 4, then dereferences
 * NULL. The recorder must flush on SIGSEGV and let the program die by the
 * same signal: 6 blocks (6000 bytes) are live when it crashes.
 */
#include <stdlib.h>
#include "progs.h"

static void *blocks[10];

__attribute__((noinline)) void crash_now(volatile int *p) { *p = 42; }

int main(void)
{
    for (int i = 0; i < 10; i++)
        blocks[i] = malloc(1000);
    for (int i = 0; i < 4; i++)
        free(blocks[i]);
    out("TRUTH segv allocs=10 frees=4 bytes=10000 live_blocks=6 live_bytes=6000 peak=10000\n");
    crash_now(NULL);
    out("segv: not reached\n");
    return 0;
}
