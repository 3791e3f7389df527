/*
 * idleburst — NTHREADS threads each allocate and free ROUNDS x 64 blocks
 * (sizes 100..163) as fast as they can (a burst that grows the recorder's
 * rings to their largest) and allocate 2048 times from 1024 call chains (sizes
 * 300..363: their stack caches and memos fill), then all sit idle for IDLE_MS while main reads
 * its own VmRSS, then each does a second, smaller burst (sizes 200..263)
 * into the rings the recorder gave back meanwhile and the chains again
 * (through the emptied stack caches and memos). Prints the RSS (kB)
 * during the idle time and the truth of both bursts.
 */
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>
#include <time.h>
#include "progs.h"

#define NTHREADS 48
#define ROUNDS 1000
#define ROUNDS2 100
#define IDLE_MS 1500
#define CHAINS 2048

static pthread_barrier_t bar;
static volatile long sink;

/* 1024 call chains (a/b chosen by the bits of k): the threads' stack
 * caches and memos fill */
__attribute__((noinline)) static void leaf(int k) { void *volatile p = malloc(300 + (size_t)(k & 63)); free(p); }
__attribute__((noinline)) static void cb(int lv, int k);
__attribute__((noinline)) static void ca(int lv, int k)
{
    if (!lv) leaf(k); else if ((k >> lv) & 1) ca(lv - 1, k); else cb(lv - 1, k);
    sink++;
}
__attribute__((noinline)) static void cb(int lv, int k)
{
    if (!lv) leaf(k); else if ((k >> lv) & 1) ca(lv - 1, k); else cb(lv - 1, k);
    sink--;
}

static void burst(int rounds, size_t base)
{
    void *p[64];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 64; i++) p[i] = malloc(base + (size_t)i);
        for (int i = 0; i < 64; i++) free(p[i]);
    }
}

static void *run(void *a)
{
    (void)a;
    burst(ROUNDS, 100);
    for (int k = 0; k < CHAINS; k++) ca(10, k);
    pthread_barrier_wait(&bar);        /* bursts done */
    pthread_barrier_wait(&bar);        /* main has read its RSS */
    burst(ROUNDS2, 200);
    for (int k = 0; k < CHAINS; k++) ca(10, k);   /* through emptied memos */
    return NULL;
}

static long rss_kb(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *s = strstr(buf, "VmRSS:");
    return s ? atol(s + 6) : -1;
}

int main(void)
{
    pthread_t t[NTHREADS];
    pthread_barrier_init(&bar, NULL, NTHREADS + 1);
    for (int i = 0; i < NTHREADS; i++) pthread_create(&t[i], NULL, run, NULL);
    pthread_barrier_wait(&bar);
    struct timespec ts = {IDLE_MS / 1000, (IDLE_MS % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    long kb = rss_kb();
    pthread_barrier_wait(&bar);
    for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
    out("IDLE_RSS_KB %ld\n", kb);
    /* sizes base..base+63 sum to 64 * base + 2016 */
    long bytes = (long)NTHREADS * (ROUNDS * (64L * 100 + 2016) + ROUNDS2 * (64L * 200 + 2016));
    long cbytes = 2L * NTHREADS * (CHAINS / 64) * (64L * 300 + 2016);
    out("TRUTH idleburst allocs=%d bytes=%ld chains=%d chain_bytes=%ld\n", NTHREADS * 64 * (ROUNDS + ROUNDS2),
        bytes, 2 * NTHREADS * CHAINS, cbytes);
    return 0;
}
