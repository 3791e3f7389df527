/*
 * sigterm — allocates 4 blocks of 900 bytes (3 freed), prints "ready" and
 * waits in pause() for a signal. With argument "handler" it installs its own
 * SIGTERM handler, which allocates and frees 123 bytes, prints "handled"
 * and calls exit(5); without it SIGTERM kills the process. Under the
 * recorder the same must happen (same output, status 5 or death by
 * SIGTERM), and the trace must end properly in both cases.
 */
#include <signal.h>
#include <stdlib.h>
#include "progs.h"

static void *keep;

static void on_term(int sig)
{
    (void)sig;
    void *p = malloc(123);          /* main is in pause(): not inside malloc */
    free(p);
    out("handled\n");
    exit(5);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "handler")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
    }
    void *b[4];
    for (int i = 0; i < 4; i++)
        b[i] = malloc(900);
    keep = b[3];
    for (int i = 0; i < 3; i++)
        free(b[i]);
    out("ready\n");
    for (int i = 0; i < 600; i++)
        pause();
    return 0;
}
