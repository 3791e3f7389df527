/* A producer hands blocks to a consumer that frees them at once, both
 * spinning (never blocking), the producer allocating in bursts after
 * stretches of computation: glibc gives the consumer's frees back to the
 * producer's next allocations, so an address often goes free (consumer)
 * -> malloc (producer) while the producer's last clock reading is older
 * than the consumer's (spec 8.2, reused readings: the recorder must still
 * write the pair in order). Usage: handoff ROUNDS SPIN_US.
 * Prints TRUTH handoff allocs=N frees=N. */
#include "progs.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define Q 64
static void *_Atomic q[Q];
static _Atomic unsigned long head, tail, frees;
static _Atomic int done;

static void spin_us(long us)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < us * 1000L);
}

static void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned long h = atomic_load(&head);
        if (h == atomic_load(&tail)) {
            if (atomic_load(&done) && h == atomic_load(&tail)) break;
            continue;
        }
        void *p = atomic_load(&q[h % Q]);
        atomic_store(&head, h + 1);
        free(p);
        atomic_fetch_add(&frees, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) return 2;
    long rounds = atol(argv[1]), us = atol(argv[2]);
    pthread_t th;
    if (pthread_create(&th, NULL, consumer, NULL)) return 1;
    unsigned long allocs = 0, own = 0;
    for (long i = 0; i < rounds; i++) {
        void *volatile a = malloc(24), *volatile b = malloc(24);
        free(a); free(b);
        allocs += 2; own += 2;
        spin_us(us);
        for (int k = 0; k < 3; k++) {
            void *p = malloc(48);
            allocs++;
            while (atomic_load(&tail) - atomic_load(&head) >= Q) ;
            unsigned long t = atomic_load(&tail);
            atomic_store(&q[t % Q], p);
            atomic_store(&tail, t + 1);
        }
    }
    atomic_store(&done, 1);
    pthread_join(th, NULL);
    out("TRUTH handoff allocs=%lu frees=%lu\n", allocs, own + atomic_load(&frees));
    return 0;
}
