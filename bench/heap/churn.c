/*
 * churn — thread churn: N short-lived threads (default 10,000), half of
 * them one at a time and half 8 at a time, each making 4 allocations about
 * 10 frames deep and freeing them. What it measures: the recorder's cost
 * per thread lifetime (its per-thread state, first stack unwinds, the
 * writer noticing the thread's end), in time and in RSS.
 */
#include <pthread.h>
#include "common.h"

static void work(void *arg)
{
    uint64_t s = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ULL + 1;
    void *p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = malloc(16 + 8 * (xorshift(&s) % 64));
        ESCAPE(p[i]);
    }
    for (int i = 0; i < 4; i++)
        free(p[i]);
}

static void *thread_main(void *arg)
{
    descend(8, work, arg);
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned long n = arg_ul(argc, argv, 1, 10000UL), i = 0;
    for (; i < n / 2; i++) {
        pthread_t th;
        if (pthread_create(&th, NULL, thread_main, (void *)(uintptr_t)i) != 0)
            return 1;
        pthread_join(th, NULL);
    }
    while (i < n) {
        pthread_t th[8];
        unsigned long k = 0;
        for (; k < 8 && i + k < n; k++)
            if (pthread_create(&th[k], NULL, thread_main, (void *)(uintptr_t)(i + k)) != 0)
                return 1;
        for (unsigned long j = 0; j < k; j++)
            pthread_join(th[j], NULL);
        i += k;
    }
    printf("EVENTS %lu\n", 8 * n);
    return 0;
}
