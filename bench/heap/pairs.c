/*
 * pairs — N malloc/free pairs split over T threads, each made ~10 frames
 * below main (8 descend frames + a leaf chosen among 4 call sites), sizes 8
 * to 256 bytes from a fixed pseudo-random sequence. The workload of the
 * recorder targets (fp <= 4x on 1 thread, <= 5x on 2). Prints EVENTS.
 * usage: pairs [N=10000000] [T=1]
 */
#include <pthread.h>
#include "common.h"

typedef struct job { unsigned long n; uint64_t seed; } job;

#define LEAF(name) \
    __attribute__((noinline)) static void name(size_t sz) { void *p = malloc(sz); ESCAPE(p); free(p); }
LEAF(leaf_a) LEAF(leaf_b) LEAF(leaf_c) LEAF(leaf_d)

static void loop(void *arg)
{
    job *j = arg;
    uint64_t s = j->seed;
    for (unsigned long i = 0; i < j->n; i++) {
        uint64_t r = xorshift(&s);
        size_t sz = 8 * (1 + (r % 32));
        switch ((r >> 8) & 3) {
        case 0: leaf_a(sz); break;
        case 1: leaf_b(sz); break;
        case 2: leaf_c(sz); break;
        default: leaf_d(sz); break;
        }
    }
}

static void *thread_main(void *arg)
{
    descend(8, loop, arg);
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned long n = arg_ul(argc, argv, 1, 10000000UL);
    unsigned long t = arg_ul(argc, argv, 2, 1);
    if (t < 1 || t > 64)
        t = 1;
    pthread_t th[64];
    job jobs[64];
    for (unsigned long i = 0; i < t; i++) {
        jobs[i].n = n / t;
        jobs[i].seed = 0x9e3779b97f4a7c15ULL * (i + 1);
    }
    if (t == 1) {
        thread_main(&jobs[0]);
    } else {
        for (unsigned long i = 0; i < t; i++)
            pthread_create(&th[i], NULL, thread_main, &jobs[i]);
        for (unsigned long i = 0; i < t; i++)
            pthread_join(th[i], NULL);
    }
    printf("EVENTS %lu\n", 2 * (n / t) * t);
    return 0;
}
