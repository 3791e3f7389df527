/*
 * fdreuse — descriptor numbers a program takes back from the recorder:
 *   fdreuse rlim      lowers RLIMIT_NOFILE to 10 after start, forks; the
 *                     child's first open() number and open count, as in a
 *                     plain run. With MEMSCOPE_FOLLOW_FORK=1 the child's
 *                     trace once took 3 and 4 (the limit left no room).
 *   fdreuse rawclose  closes every descriptor from 3 with the close_range
 *                     system call itself (not libc's), then dup2()s four
 *                     files onto 1000..1003: every dup2 must succeed (the
 *                     recorder's old numbers were still refused).
 * Prints one TRUTH line (tests/recorder/test_procfds.sh).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "progs.h"

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d))) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n - 1;                       /* not the directory's own */
}

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    for (int i = 0; i < 1000; i++) free(malloc(64));
    if (!strcmp(argv[1], "rlim")) {
        struct rlimit r = { 10, 10 };
        if (setrlimit(RLIMIT_NOFILE, &r) != 0) return 3;
        int p[2];
        if (pipe(p) != 0) return 4;
        pid_t c = fork();
        if (c == 0) {
            close(p[0]);
            free(malloc(100));
            int fd = open("/dev/null", O_RDONLY);
            char buf[64];
            int n = snprintf(buf, sizeof buf, "fd=%d open=%d", fd, count_fds());
            if (write(p[1], buf, (size_t)n) != n) _exit(5);
            _exit(0);
        }
        close(p[1]);
        char buf[64];
        ssize_t n = read(p[0], buf, sizeof buf - 1);
        buf[n > 0 ? n : 0] = 0;
        int st;
        waitpid(c, &st, 0);
        out("TRUTH fdreuse rlim child %s\n", buf);
        return 0;
    }
    if (!strcmp(argv[1], "rawclose")) {
        syscall(SYS_close_range, 3u, ~0u, 0u);
        int ok = 0;
        for (int t = 0; t < 4; t++) {
            int fd = open("/dev/null", O_RDONLY);
            if (dup2(fd, 1000 + t) == 1000 + t) ok++;
            close(fd);
        }
        for (int i = 0; i < 1000; i++) free(malloc(64));
        out("TRUTH fdreuse rawclose dup2_ok=%d\n", ok);
        return 0;
    }
    return 2;
}
