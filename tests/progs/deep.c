/*
 * deep — allocates 31337 bytes at the bottom of a recursion of N frames of
 * deep_recurse (default 200, beyond the default MEMSCOPE_MAX_DEPTH of 64).
 * The recorder must truncate the stack at its depth limit without failing.
 */
#include <stdlib.h>
#include "progs.h"

static volatile int sink;

__attribute__((noinline)) int deep_recurse(int n)
{
    if (n == 0) {
        char *p = malloc(31337);
        if (!p)
            return 0;
        p[0] = 1;
        sink += p[0];
        free(p);
        return 1;
    }
    return deep_recurse(n - 1) + 1;     /* not a tail call */
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    int r = deep_recurse(n);
    out("TRUTH deep allocs=1 frees=1 bytes=31337 live_blocks=0 live_bytes=0 peak=31337 depth=%d\n", r);
    out("deep: ok\n");
    return 0;
}
