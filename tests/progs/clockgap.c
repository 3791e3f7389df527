/* Reused clock readings (spec 8.2) around gaps. Usage: clockgap MODE ROUNDS US
 *   sleep: each round allocates 6 blocks of 100..105 bytes in a burst (the
 *          readings of a burst are reused), sleeps US µs and frees them, so
 *          every such block lives at least US µs; then a burst of 2 blocks
 *          of 200 bytes, a fork whose child leaves at once (fork copies the
 *          page tables without descheduling the parent), a block of 210
 *          bytes right after the fork, waitpid, frees.
 *   spin:  each round a burst of 2 blocks of 300 bytes, a spin of US µs
 *          with no blocking call, then 3 blocks of 400 bytes freed at once
 *          (a stretch of computation the recorder cannot see: at most the 3
 *          events after it may carry a reading from before it).
 * Prints TRUTH clockgap allocs=N frees=N. */
#include "progs.h"
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

static void spin_us(long us)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < us * 1000L);
}

int main(int argc, char **argv)
{
    if (argc != 4) return 2;
    int spin = !strcmp(argv[1], "spin");
    long rounds = atol(argv[2]), us = atol(argv[3]);
    unsigned long allocs = 0, frees = 0;
    for (long r = 0; r < rounds; r++) {
        if (!spin) {
            void *volatile p[6];
            for (int k = 0; k < 6; k++) p[k] = malloc(100 + k);
            struct timespec ts = {0, us * 1000L};
            nanosleep(&ts, NULL);
            for (int k = 0; k < 6; k++) free(p[k]);
            void *volatile a = malloc(200), *volatile b = malloc(200);
            pid_t pid = fork();
            if (pid == 0) _exit(0);
            void *volatile c = malloc(210);
            if (pid > 0) waitpid(pid, NULL, 0);
            free(a); free(b); free(c);
            allocs += 9; frees += 9;
        } else {
            void *volatile a = malloc(300), *volatile b = malloc(300);
            spin_us(us);
            void *volatile q[3];
            for (int k = 0; k < 3; k++) q[k] = malloc(400);
            for (int k = 0; k < 3; k++) free(q[k]);
            free(a); free(b);
            allocs += 5; frees += 5;
        }
    }
    out("TRUTH clockgap allocs=%lu frees=%lu\n", allocs, frees);
    return 0;
}
