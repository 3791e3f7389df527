/*
 * leaks — known leaks: leak_three() allocates 1000, 2000 and 3000 bytes and
 * never frees them; 10 blocks of 64 bytes are freed. Labels the 3000-byte
 * block "cache" / "struct cache" with ms_label and marks two phases with
 * ms_mark. The ms_* functions are weak references: they resolve when the
 * program is linked with -lmemscope (leaks_linked) or when libmemscope is
 * preloaded, and are skipped otherwise. Exits with status 3.
 */
#include <stdlib.h>
#include "memscope.h"
#include "progs.h"

#pragma weak ms_label
#pragma weak ms_mark

static void *kept[3];

__attribute__((noinline)) void leak_three(void)
{
    kept[0] = malloc(1000);
    kept[1] = malloc(2000);
    kept[2] = malloc(3000);
    if (ms_label)
        ms_label(kept[2], "cache", "struct cache");
    kept[0] = kept[1] = kept[2] = NULL;     /* definitely lost */
}

__attribute__((noinline)) void churn(void)
{
    void *p[10];
    for (int i = 0; i < 10; i++)
        p[i] = malloc(64);
    for (int i = 0; i < 10; i++)
        free(p[i]);
}

int main(void)
{
    if (ms_mark)
        ms_mark("churn");
    churn();
    if (ms_mark)
        ms_mark("leak");
    leak_three();
    out("TRUTH leaks allocs=13 frees=10 bytes=6640 live_blocks=3 live_bytes=6000 peak=6000\n");
    out("leaks: done\n");
    return 3;
}
