/*
 * forkfds — a daemon's start: fork; the child closes every descriptor from
 * 3 to 1023, then lists what /proc/self/fd still shows above 2 (plain: none)
 * and allocates a little; the parent waits and prints the child's list:
 * "TRUTH forkfds child_fds=[...]". Recorded without following forks, the
 * child once kept the recorder's libunwind pipe (it could not close it:
 * tests/recorder/test_rawclone.sh).
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "progs.h"

int main(void)
{
    int p[2];
    char *warm = malloc(100);          /* the recorder is up and unwinding */
    free(warm);
    if (pipe(p) != 0) return 2;
    pid_t c = fork();
    if (c == 0) {
        int wfd = dup(p[1]);
        for (int fd = 3; fd < 1024; fd++)
            if (fd != wfd) close(fd);
        char list[256] = "";
        size_t o = 0;
        DIR *d = opendir("/proc/self/fd");
        int dfd = d ? dirfd(d) : -1;
        struct dirent *e;
        while (d && (e = readdir(d))) {
            int fd = atoi(e->d_name);
            if (e->d_name[0] == '.' || fd < 3 || fd == dfd || fd == wfd) continue;
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%d", o ? " " : "", fd);
            if (o >= sizeof list) break;
        }
        if (d) closedir(d);
        char *q = malloc(200);
        free(q);
        if (write(wfd, list, strlen(list)) < 0) _exit(3);
        _exit(0);
    }
    close(p[1]);
    char buf[256];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    int st = -1;
    waitpid(c, &st, 0);
    out("TRUTH forkfds child_fds=[%s] child_status=%d\n", buf, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
