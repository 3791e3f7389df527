/*
 * threads — 2 producer and 2 consumer threads share a bounded queue: every
 * block is allocated in a producer and freed in a consumer (cross-thread
 * frees). 5 threads in all (main + 4). Prints the program's own truth; the
 * whole-process totals also include glibc's pthread_create allocations
 * (one DTV calloc per thread), which valgrind sees too.
 */
#include <pthread.h>
#include <stdlib.h>
#include "progs.h"

#define PER_PRODUCER 20000
#define QCAP 256

static void *queue[QCAP];
static int qhead, qtail, qcount, producers_left = 2;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;

static size_t block_size(int k) { return 16 + (size_t)(k % 64) * 8; }

static void *__attribute__((noinline)) producer_alloc(size_t n)
{
    char *p = malloc(n);
    if (p)
        memset(p, 1, n);
    return p;
}

static void *producer(void *arg)
{
    pthread_setname_np(pthread_self(), (const char *)arg);
    for (int k = 0; k < PER_PRODUCER; k++) {
        void *p = producer_alloc(block_size(k));
        pthread_mutex_lock(&mu);
        while (qcount == QCAP)
            pthread_cond_wait(&not_full, &mu);
        queue[qtail] = p;
        qtail = (qtail + 1) % QCAP;
        qcount++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    producers_left--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void *consumer(void *arg)
{
    pthread_setname_np(pthread_self(), (const char *)arg);
    for (;;) {
        pthread_mutex_lock(&mu);
        while (qcount == 0 && producers_left > 0)
            pthread_cond_wait(&not_empty, &mu);
        if (qcount == 0) {
            pthread_mutex_unlock(&mu);
            return NULL;
        }
        void *p = queue[qhead];
        qhead = (qhead + 1) % QCAP;
        qcount--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&mu);
        free(p);
    }
}

int main(void)
{
    pthread_t t[4];
    static char *names[4] = { "producer-0", "producer-1", "consumer-0", "consumer-1" };
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, i < 2 ? producer : consumer, names[i]) != 0) {
            out("threads: pthread_create failed\n");
            return 1;
        }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    unsigned long bytes = 0;
    for (int k = 0; k < PER_PRODUCER; k++)
        bytes += block_size(k);
    bytes *= 2;
    /* peak depends on scheduling; not part of the truth */
    out("TRUTH threads allocs=%d frees=%d bytes=%lu live_blocks=0 live_bytes=0 threads=5\n",
        2 * PER_PRODUCER, 2 * PER_PRODUCER, bytes);
    out("threads: ok\n");
    return 0;
}
