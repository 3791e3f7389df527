/*
 * churn — many short thread lifetimes: N threads (default 10000), each
 * making 3 allocations of sizes no library uses (601, 602 + i % 8, 611)
 * and freeing them, except that every thread leaves its 611-byte block
 * live until main frees all of them at the end. The first half of the
 * threads run one at a time (create, join), the second half 8 at a time.
 * Prints the truth of these blocks (the sizes are unique: glibc's own
 * pthread_create allocations are counted by the test apart from them).
 */
#include <pthread.h>
#include <stdlib.h>
#include "progs.h"

static void **keep;
static volatile unsigned long sink;

__attribute__((noinline)) static void *churn_alloc(size_t n)
{
    char *p = malloc(n);
    if (p)
        p[0] = (char)n;
    return p;
}

static void *worker(void *arg)
{
    size_t i = (size_t)arg;
    void *a = churn_alloc(601);
    void *b = churn_alloc(602 + i % 8);
    keep[i] = churn_alloc(611);
    sink += (unsigned long)a ^ (unsigned long)b;
    free(b);
    free(a);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    keep = calloc((size_t)n, sizeof *keep);
    if (!keep)
        return 1;
    unsigned long bytes = 0;
    int half = n / 2, i = 0;
    for (; i < half; i++) {
        pthread_t th;
        if (pthread_create(&th, NULL, worker, (void *)(size_t)i) != 0)
            return 2;
        pthread_join(th, NULL);
    }
    while (i < n) {
        pthread_t th[8];
        int k = 0;
        for (; k < 8 && i + k < n; k++)
            if (pthread_create(&th[k], NULL, worker, (void *)(size_t)(i + k)) != 0)
                return 2;
        for (int j = 0; j < k; j++)
            pthread_join(th[j], NULL);
        i += k;
    }
    for (i = 0; i < n; i++) {
        bytes += 601 + 602 + (size_t)i % 8 + 611;
        free(keep[i]);
    }
    free(keep);
    out("TRUTH churn threads=%d allocs=%d bytes=%lu\n", n, 3 * n, bytes);
    return 0;
}
