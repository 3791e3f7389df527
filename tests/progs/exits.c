/* Ways a process ends that skip the usual path: exits MODE
 *   quick   quick_exit(4) after an at_quick_exit handler that allocates
 *   twice   two threads call exit(6) at the same moment, each after 1 000
 *           malloc/free pairs and one kept block of 4 444 bytes
 * Prints TRUTH exits mode=MODE before leaving. */
#include "progs.h"
#include <pthread.h>
#include <stdlib.h>

static void *volatile sink[4];
static pthread_barrier_t bar;

static void handler(void) { sink[3] = malloc(333); }

static void *worker(void *arg)
{
    for (int i = 0; i < 1000; i++) {
        void *volatile p = malloc((size_t)i + 1);
        free(p);
    }
    sink[(long)arg] = malloc(4444);
    pthread_barrier_wait(&bar);
    exit(6);
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    sink[0] = malloc(1234);
    if (!strcmp(argv[1], "quick")) {
        at_quick_exit(handler);
        out("TRUTH exits mode=quick\n");
        quick_exit(4);
    }
    pthread_t a, b;
    pthread_barrier_init(&bar, NULL, 2);
    out("TRUTH exits mode=twice\n");
    pthread_create(&a, NULL, worker, (void *)1);
    pthread_create(&b, NULL, worker, (void *)2);
    pthread_join(a, NULL);
    return 0;
}
