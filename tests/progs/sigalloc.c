/* A signal handler that allocates while the main thread allocates in a
 * loop: SIGALRM every 200 µs for N malloc/free pairs of the main thread,
 * each handler run a malloc(48)/free pair. Most handler runs interrupt the
 * recorder's hook; their events must still be recorded (deferred to the
 * interrupted hook), with the handler in their stacks. Usage: sigalloc N.
 * Prints TRUTH sigalloc allocs=A (the program's own, the handler's
 * included) and handlers=H. */
#include "progs.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>

static volatile long handlers;

static void on_alarm(int s)
{
    (void)s;
    void *volatile p = malloc(48);
    free(p);
    handlers++;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    long n = atol(argv[1]);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    /* a thread's first recorded allocation attaches it to the recorder
     * (its stack bounds: /proc/self/maps for the main thread); a handler
     * that allocates during that is neither recorded nor counted, and is
     * not what this test is about */
    void *volatile first = malloc(32);
    free(first);
    struct itimerval it = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (long i = 0; i < n; i++) {
        void *volatile p = malloc(32);
        free(p);
    }
    struct itimerval z = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &z, NULL);
    signal(SIGALRM, SIG_IGN);
    out("TRUTH sigalloc allocs=%ld handlers=%ld\n", n + 1 + handlers, (long)handlers);
    return 0;
}
