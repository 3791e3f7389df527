/* Creates N threads (each 100 000 malloc/free pairs), stops at the first
 * pthread_create that fails and says so. Usage: nproc N. Under a process
 * limit of a few (ulimit -u) the recorder's writer thread took one of
 * them. Prints "created K" (and the failure). */
#include "progs.h"
#include <pthread.h>
#include <stdlib.h>

static void *w(void *a)
{
    (void)a;
    for (int i = 0; i < 100000; i++) {
        void *volatile p = malloc((size_t)(i % 300));
        free(p);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    int n = atoi(argv[1]), ok = 0;
    pthread_t t[64];
    for (int i = 0; i < n && i < 64; i++) {
        int e = pthread_create(&t[i], NULL, w, NULL);
        if (e) {
            out("thread %d: %s\n", i, strerror(e));
            break;
        }
        ok++;
    }
    for (int i = 0; i < ok; i++) pthread_join(t[i], NULL);
    out("created %d\n", ok);
    return 0;
}
