/* What a fork costs the parent afterwards (tests/recorder/test_fork.sh): a
 * fork write-protects every private page of the parent, so each page the
 * parent writes after it takes a fault, the child gone or not. The
 * recorder's own memory (rings, stack tables, the writer's buffers) must
 * not be among them when the child does not record. Usage: forkfaults N:
 * 20 000 allocations through 4 096 call chains (the recorder's tables
 * grow), then N times: fork (the child exits at once), wait, and the same
 * 4 096 call chains allocate and free again. Prints "TRUTH forkfaults
 * forks=N faults=F" (F: minor faults of the whole process during the N
 * rounds, getrusage). */
#include "progs.h"
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>

__attribute__((noinline)) static void leaf(int k)
{
    void *volatile p = malloc(24 + (size_t)(k % 40));
    free(p);
}
__attribute__((noinline)) static void f(int d, int k);
__attribute__((noinline)) static void g(int d, int k) { if (d) f(d - 1, k); else leaf(k); __asm__ volatile(""); }
__attribute__((noinline)) static void h(int d, int k) { if (d) f(d - 1, k); else leaf(k); __asm__ volatile(""); }
/* bit d of k picks g or h at depth d: 4 096 different chains */
__attribute__((noinline)) static void f(int d, int k)
{
    if ((k >> d) & 1) g(d, k); else h(d, k);
    __asm__ volatile("");
}

static long minflt(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_minflt;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    int n = atoi(argv[1]);
    for (int k = 0; k < 20000; k++) f(12, k % 4096);
    long before = minflt();
    int forks = 0;
    for (int i = 0; i < n; i++) {
        pid_t c = fork();
        if (c == 0) _exit(0);
        int st;
        if (c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st)) forks++;
        for (int k = 0; k < 4096; k++) f(12, k);
    }
    out("TRUTH forkfaults forks=%d faults=%ld\n", forks, minflt() - before);
    return 0;
}
