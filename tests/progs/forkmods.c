/*
 * forkmods — forks only after the recorder has written its module map
 * (META and MODULE records go out at the writer thread's first pass, a few
 * ms after start), so a MEMSCOPE_FOLLOW_FORK child's new file gets MODULE
 * records only if the recorder forgets the parent's module table in the
 * child (msr_modules_reset). The child allocates 4 blocks of 4321 bytes in
 * child_work() and frees one; the parent allocates 2 of 1234 and frees both.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include "progs.h"

static void *keep[4];

__attribute__((noinline)) void child_work(void)
{
    for (int i = 0; i < 4; i++)
        keep[i] = malloc(4321);
    free(keep[0]);
    keep[0] = NULL;
}

int main(void)
{
    void *a = malloc(1234);
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);                     /* let the module map be written */
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        child_work();
        out("TRUTH forkmods-child pid=%d allocs=4 frees=1 live_bytes=12963\n", (int)getpid());
        return 0;
    }
    int st = 0;
    waitpid(pid, &st, 0);
    void *b = malloc(1234);
    free(a);
    free(b);
    out("TRUTH forkmods-parent pid=%d child_status=%d\n", (int)getpid(),
        WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
