/*
 * uexit — allocates 5 blocks of 500 bytes, frees 2 and leaves with
 * _exit(7), or with argument "syscall" with syscall(SYS_exit_group, 7) as
 * fast-exit code does: no atexit handler runs, yet the trace must be
 * complete.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include "progs.h"

static void *b[5];

int main(int argc, char **argv)
{
    for (int i = 0; i < 5; i++)
        b[i] = malloc(500);
    free(b[0]);
    free(b[1]);
    out("TRUTH uexit allocs=5 frees=2 bytes=2500 live_blocks=3 live_bytes=1500 peak=2500\n");
    if (argc > 1 && !strcmp(argv[1], "syscall")) syscall(SYS_exit_group, 7);
    _exit(7);
}
