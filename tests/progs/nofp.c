/*
 * nofp — built WITHOUT frame pointers (-O2 -fomit-frame-pointer, see the
 * Makefile), as distribution binaries are: main -> nofp_level1 -> ... ->
 * nofp_level5 -> malloc(7771), then free. Under MEMSCOPE_UNWIND=fp the
 * recorder must notice the module has no frame pointers and still record
 * the full stack (7 frames or more up to main), not one frame.
 */
#include <stdlib.h>
#include "progs.h"

static volatile int sink;

#define LEVEL(name, next)                                          \
    __attribute__((noinline)) int name(int n)                      \
    {                                                              \
        int r = next(n + 1);                                       \
        sink += r;                                                 \
        return r + 1; /* not a tail call */                        \
    }

__attribute__((noinline)) int nofp_level5(int n)
{
    char *p = malloc(7771 + (size_t)(n & 0));
    if (!p)
        return 0;
    p[0] = (char)n;
    sink += p[0];
    free(p);
    return 1;
}
LEVEL(nofp_level4, nofp_level5)
LEVEL(nofp_level3, nofp_level4)
LEVEL(nofp_level2, nofp_level3)
LEVEL(nofp_level1, nofp_level2)

int main(void)
{
    int r = nofp_level1(0);
    out("TRUTH nofp allocs=1 frees=1 bytes=7771 live_blocks=0 live_bytes=0 peak=7771 r=%d\n", r);
    return 0;
}
