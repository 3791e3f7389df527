/* The main thread leaves by pthread_exit while a worker goes on
 * allocating; glibc ends the process with status 0 when the worker, its
 * last thread, ends. Usage: pexit N (the worker's malloc/free pairs).
 * Prints TRUTH pexit allocs=N frees=N (the worker's; glibc's own
 * pthread_create allocation comes on top). */
#include "progs.h"
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static long n_pairs;

static void *worker(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);             /* main is gone by now */
    for (long i = 0; i < n_pairs; i++) {
        void *volatile p = malloc(16 + (size_t)(i % 100));
        free(p);
    }
    out("TRUTH pexit allocs=%ld frees=%ld\n", n_pairs, n_pairs);
    return NULL;
}

int main(int argc, char **argv)
{
    n_pairs = argc > 1 ? atol(argv[1]) : 100000;
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL)) return 1;
    pthread_detach(t);
    pthread_exit(NULL);
}
