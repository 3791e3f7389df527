/* fork() from a signal handler (async-signal-safe) while the main thread
 * allocates from ever new call chains: every allocation names a new stack,
 * so the recorder often holds its stack table's lock, or in a sampled
 * trace a stripe of its sampled-block table, when the handler forks. The
 * fork's atfork handlers used to wait for that lock, held by the very
 * thread they ran on: the program hung for ever. Usage: sigfork N (N
 * allocations, a SIGALRM every SIGFORK_US µs, default 5000, each forking
 * a child that exits 7). Prints "TRUTH sigfork allocs=N forks=F" (F: the
 * children that exited 7). */
#include "progs.h"
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>

static volatile long forks;

static void on_alarm(int s)
{
    (void)s;
    pid_t c = fork();
    if (c == 0) _exit(7);
    int st;
    if (c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 7) forks++;
}

__attribute__((noinline)) static void leaf(int k)
{
    void *volatile p = malloc(16 + (size_t)(k % 64));
    free(p);
}
__attribute__((noinline)) static void f(int d, int k);
__attribute__((noinline)) static void g(int d, int k) { if (d) f(d - 1, k); else leaf(k); __asm__ volatile(""); }
__attribute__((noinline)) static void h(int d, int k) { if (d) f(d - 1, k); else leaf(k); __asm__ volatile(""); }
/* bit d of k picks g or h at depth d: 2^20 different chains */
__attribute__((noinline)) static void f(int d, int k)
{
    if ((k >> (d % 20)) & 1) g(d, k); else h(d, k);
    __asm__ volatile("");
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    long n = atol(argv[1]);
    const char *u = getenv("SIGFORK_US");
    int us = u ? atoi(u) : 5000;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, us}, {0, us}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (long k = 0; k < n; k++) f(20, (int)k);
    struct itimerval z = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &z, NULL);
    out("TRUTH sigfork allocs=%ld forks=%ld\n", n, (long)forks);
    return 0;
}
