/*
 * rawclone — children made by the clone3 and clone system calls directly,
 * so glibc's fork handlers (and the recorder's) never run in them; each
 * child allocates and frees N blocks (argv[1], default 200 000: more than
 * a ring of events holds) and leaves with _exit(5) / exit(6). The parent
 * allocates 7 blocks of 1234 bytes (3 freed) and prints the children's
 * statuses. Under the recorder the children once waited for ever for a
 * writer thread they do not have (tests/recorder/test_rawclone.sh).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/sched.h>
#include "progs.h"

static void churn(int n)
{
    for (int i = 0; i < n; i++) {
        char *p = malloc(16 + (size_t)(i % 200));
        if (p) p[0] = 1;
        free(p);
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    void *keep[7];
    for (int i = 0; i < 7; i++) keep[i] = malloc(1234);
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    long c1 = syscall(SYS_clone3, &ca, sizeof ca);
    if (c1 == 0) {
        churn(n);
        _exit(5);
    }
    int st1 = -1, st2 = -1;
    if (c1 > 0) waitpid((pid_t)c1, &st1, 0);
    long c2 = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (c2 == 0) {
        churn(n);
        exit(6);
    }
    if (c2 > 0) waitpid((pid_t)c2, &st2, 0);
    for (int i = 0; i < 3; i++) free(keep[i]);
    out("TRUTH rawclone clone3=%d clone=%d\n", c1 > 0 && WIFEXITED(st1) ? WEXITSTATUS(st1) : -1,
        c2 > 0 && WIFEXITED(st2) ? WEXITSTATUS(st2) : -1);
    return 0;
}
