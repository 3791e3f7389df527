/*
 * forker — allocates in the parent, forks, allocates different sizes in the
 * child, and allocates again in the parent after the child exited. Sizes
 * tell the processes apart: parent 1111 and 3333, child 2222. The parent's
 * trace must hold only its own events; with MEMSCOPE_FOLLOW_FORK=1 the
 * child writes its own file. Prints both pids and both truths.
 */
#include <stdlib.h>
#include <sys/wait.h>
#include "progs.h"

static void *keep[16];

int main(void)
{
    for (int i = 0; i < 3; i++)
        keep[i] = malloc(1111);
    free(keep[2]);                 /* parent before fork: 3 allocs, 1 free */

    pid_t pid = fork();
    if (pid < 0) {
        out("forker: fork failed\n");
        return 1;
    }
    if (pid == 0) {
        void *c[5];
        for (int i = 0; i < 5; i++)
            c[i] = malloc(2222);
        free(c[0]);
        free(c[1]);
        out("TRUTH forker-child pid=%d allocs=5 frees=2 bytes=11110 live_blocks=3 live_bytes=6666\n",
            (int)getpid());
        exit(0);                   /* normal exit: atexit handlers run */
    }
    int st = 0;
    waitpid(pid, &st, 0);
    for (int i = 0; i < 2; i++)
        keep[3 + i] = malloc(3333);
    free(keep[3]);
    free(keep[4]);
    out("TRUTH forker-parent pid=%d allocs=5 frees=3 bytes=9999 live_blocks=2 live_bytes=2222 child_status=%d\n",
        (int)getpid(), WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
