/*
 * daemonize — daemon(3): the parent makes 1000 blocks of 1111 bytes (500
 * freed) and calls daemon(1, 1); glibc's parent leaves through its internal
 * _exit (no exit handler, no interposed _exit runs), the child makes 10
 * blocks of 2222 bytes and writes "TRUTH daemonize child=PID" to the file
 * argv[1]. The parent's trace was never finished
 * (tests/recorder/test_procfds.sh).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "progs.h"

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    static void *keep[1000];
    for (int i = 0; i < 1000; i++) keep[i] = malloc(1111);
    for (int i = 0; i < 500; i++) free(keep[i]);
    if (daemon(1, 1) != 0) return 1;
    for (int i = 0; i < 10; i++) keep[i] = malloc(2222);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 3;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "TRUTH daemonize child=%d\n", (int)getpid());
    if (write(fd, buf, (size_t)n) != n) return 4;
    close(fd);
    return 0;
}
