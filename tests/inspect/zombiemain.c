/* The main thread leaves with pthread_exit and another thread inspects the
 * process: /proc/self/{maps,status} then read as empty, so leakscan.c and
 * procmaps.c must fall back to /proc/thread-self, and the zombie main
 * thread must not be waited for. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "memscope.h"
#include "inspect.h"

static void *volatile g_block;

static void *worker(void *a)
{
    (void)a;
    struct timespec ts = { 0, 100 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    ms_live_block b[1] = { { (uint64_t)(uintptr_t)g_block, 64, 0 } };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = msr_leak_classify(b, 1, NULL, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("%s: zombie/leak_classify%s rc %d class %u\n",
           rc == 0 && b[0].leak_class == MS_LEAK_REACHABLE ? "PASS" : "FAIL",
           rc == 0 && b[0].leak_class == MS_LEAK_REACHABLE ? "" : ":", rc, b[0].leak_class);
    printf("%s: zombie/no_wait%s %.1f ms\n", ms < 500 ? "PASS" : "FAIL", ms < 500 ? "" : ":", ms);
    ms_proc_mem pm = { 0 };
    rc = msr_proc_mem_read(&pm);
    printf("%s: zombie/proc_mem%s rss %llu\n", rc == 0 && pm.vm_rss > 0 ? "PASS" : "FAIL",
           rc == 0 && pm.vm_rss > 0 ? "" : ":", (unsigned long long)pm.vm_rss);
    fflush(stdout);
    exit(0);
}

int main(void)
{
    g_block = malloc(64);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    pthread_exit(NULL);
}
