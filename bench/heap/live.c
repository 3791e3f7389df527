/*
 * live — allocates N blocks (16..136 bytes) that all stay live, then frees
 * them in a random order: stresses the recorder's live-block bookkeeping
 * (address table size, delta encoding of scattered frees). Prints EVENTS.
 * usage: live [N=1000000]
 */
#include "common.h"

typedef struct job { unsigned long n; void **v; } job;

__attribute__((noinline)) static void *make(size_t sz) { void *p = malloc(sz); ESCAPE(p); return p; }

static void run(void *arg)
{
    job *j = arg;
    uint64_t s = 12345;
    for (unsigned long i = 0; i < j->n; i++)
        j->v[i] = make(16 + 8 * (xorshift(&s) % 16));
    for (unsigned long i = j->n; i > 1; i--) {      /* Fisher-Yates */
        unsigned long k = (unsigned long)(xorshift(&s) % i);
        void *tmp = j->v[i - 1]; j->v[i - 1] = j->v[k]; j->v[k] = tmp;
    }
    for (unsigned long i = 0; i < j->n; i++)
        free(j->v[i]);
}

int main(int argc, char **argv)
{
    job j;
    j.n = arg_ul(argc, argv, 1, 1000000UL);
    j.v = malloc(j.n * sizeof *j.v);
    if (!j.v)
        return 1;
    descend(8, run, &j);
    free(j.v);
    printf("EVENTS %lu\n", 2 * j.n + 2);
    return 0;
}
