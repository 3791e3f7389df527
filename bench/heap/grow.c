/*
 * grow — realloc growth: each round grows 16 buffers side by side from 16
 * bytes by x1.5 + 8 over 12 reallocs (to ~1.5 KB, touching the new tail),
 * so some reallocs extend in place and others move, then frees them.
 * N = total reallocs. Prints EVENTS.
 * usage: grow [N=4000000]
 */
#include "common.h"

#define NBUF 16
#define STEPS 12

__attribute__((noinline)) static void *grow_to(void *p, size_t sz) { p = realloc(p, sz); ESCAPE(p); return p; }

static void run(void *arg)
{
    unsigned long rounds = *(unsigned long *)arg;
    for (unsigned long r = 0; r < rounds; r++) {
        void *p[NBUF] = { 0 };
        size_t sz = 16;
        for (int k = 0; k < STEPS; k++) {
            for (int b = 0; b < NBUF; b++) {
                p[b] = grow_to(p[b], sz + (size_t)b);
                if (!p[b])
                    abort();
                ((char *)p[b])[sz - 1] = (char)k;
            }
            sz = sz * 3 / 2 + 8;
        }
        for (int b = 0; b < NBUF; b++)
            free(p[b]);
    }
}

int main(int argc, char **argv)
{
    unsigned long n = arg_ul(argc, argv, 1, 4000000UL);
    unsigned long rounds = n / (NBUF * STEPS);
    descend(8, run, &rounds);
    printf("EVENTS %lu\n", rounds * NBUF * (STEPS + 1));
    return 0;
}
