/*
 * lowfd — open() must keep returning the lowest free number: for about
 * SECS seconds (argv[1], default 1) the main thread opens /dev/null,
 * allocates, frees and closes it, counting the times the descriptor was
 * not 3; a second thread names itself with prctl(PR_SET_NAME, "lowfd-prctl")
 * and allocates. Prints "TRUTH lowfd misses=N". Under the recorder the
 * writer thread's own opens (/proc/self/statm at every sample, thread names
 * from /proc/self/task/TID/comm, the command line, a perf event) took
 * number 3 now and then (tests/recorder/test_procfds.sh).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include "progs.h"

static void *named(void *arg)
{
    (void)arg;
    prctl(PR_SET_NAME, (unsigned long)"lowfd-prctl", 0, 0, 0);
    for (int i = 0; i < 1000; i++) free(malloc(64));
    return NULL;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    pthread_t th;
    if (pthread_create(&th, NULL, named, NULL) != 0) return 2;
    pthread_join(th, NULL);
    struct timespec s, n;
    clock_gettime(CLOCK_MONOTONIC, &s);
    long it = 0, misses = 0;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY);
        if (fd != 3) misses++;
        free(malloc(64));
        if (fd >= 0) close(fd);
        if ((++it & 1023) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &n);
            if ((double)(n.tv_sec - s.tv_sec) + (double)(n.tv_nsec - s.tv_nsec) / 1e9 > secs) break;
        }
    }
    out("TRUTH lowfd misses=%ld\n", misses);
    return 0;
}
