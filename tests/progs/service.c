/*
 * service — a long-running program whose heap phases are driven through
 * stdin, so a test knows exactly what happened inside an attach window
 * (tests/recorder/test_attach.sh). One command per line; after each one it
 * prints "ok K CMD" (K = commands so far), then waits for the next:
 *   alloc N SIZE   N blocks of SIZE bytes from site_alloc, kept (FIFO)
 *   free N         free the N oldest kept blocks
 *   churn N SIZE   N malloc/free pairs from site_churn
 *   closefrom      closefrom(3), as daemons do (the recorder's descriptors
 *                  must survive it)
 *   fork           fork a child that waits in pause() (prints its pid)
 *   exit N         exit(N) at once
 *   crash          a null-pointer write (SIGSEGV)
 * SERVICE_KEYS=N in the environment: N pthread keys made at the start
 * (a recorder attached later gets a key past glibc's first 32, whose
 * pthread_setspecific allocates: glibc's, not the program's).
 * At the end of stdin it prints "done" and exits 0. Output through
 * write(2) only and input through read(2) (progs.h): no stdio buffers, so
 * the program allocates exactly what the commands say.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "progs.h"

#define KEEP_MAX 100000

static void *kept[KEEP_MAX];
static unsigned long head, tail;

__attribute__((noinline)) static void site_alloc(unsigned long n, size_t size)
{
    for (unsigned long i = 0; i < n && tail - head < KEEP_MAX; i++) {
        void *p = malloc(size);
        memset(p, 1, size);
        kept[tail++ % KEEP_MAX] = p;
    }
}

__attribute__((noinline)) static void site_free(unsigned long n)
{
    for (unsigned long i = 0; i < n && head < tail; i++) free(kept[head++ % KEEP_MAX]);
}

__attribute__((noinline)) static void site_churn(unsigned long n, size_t size)
{
    for (unsigned long i = 0; i < n; i++) {
        volatile char *p = malloc(size);
        p[0] = 1;
        free((void *)p);
    }
}

/* One line of stdin into buf; 0 at its end. */
static int read_line(char *buf, size_t cap)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(0, &c, 1);
        if (r <= 0) return n > 0;
        if (c == '\n') break;
        if (n + 1 < cap) buf[n++] = c;
    }
    buf[n] = 0;
    return 1;
}

int main(void)
{
    char line[256];
    unsigned long k = 0;
    const char *keys = getenv("SERVICE_KEYS");
    for (long n = keys ? atol(keys) : 0; n > 0; n--) {
        pthread_key_t key;
        if (pthread_key_create(&key, NULL)) break;
    }
    while (read_line(line, sizeof line)) {
        char cmd[32] = "";
        unsigned long a = 0, b = 0;
        char *p = line;
        size_t i = 0;
        while (*p && *p != ' ' && i + 1 < sizeof cmd) cmd[i++] = *p++;
        a = strtoul(p, &p, 10);
        b = strtoul(p, &p, 10);
        if (!strcmp(cmd, "alloc")) site_alloc(a, b);
        else if (!strcmp(cmd, "free")) site_free(a);
        else if (!strcmp(cmd, "churn")) site_churn(a, b);
        else if (!strcmp(cmd, "closefrom")) closefrom(3);
        else if (!strcmp(cmd, "exit")) exit((int)a);
        else if (!strcmp(cmd, "crash")) *(volatile int *)(uintptr_t)a = 1;
        else if (!strcmp(cmd, "fork")) {
            pid_t c = fork();
            if (c == 0) {
                close(0);
                for (;;) pause();
            }
            out("forked %d\n", (int)c);
        }
        out("ok %lu %s\n", ++k, line);
    }
    out("done\n");
    return 0;
}
