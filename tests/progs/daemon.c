/*
 * daemon — a daemon-style program that takes over every descriptor number:
 *   daemon MODE DIR N
 * MODE close: close(fd) for fd 3..1023; range: close_range(3, ~0U, 0);
 * from: closefrom(3); none: nothing; dup2: dup2 one of its own files onto every number
 * that /proc/self/fd shows open above 2 (the recorder's, when recorded);
 * stderr: close(2), so that its first file takes number 2, and leave that
 * one open at exit (what the recorder says at exit must not land in it:
 * the test compares DIR/f0 with a plain run's).
 * Then it opens 8 files DIR/f0..f7 (getting the low numbers back) and a
 * pipe, and during N malloc(4321)/free pairs (all from work_alloc) writes a
 * known line to each file and one byte through the pipe every 1000 pairs.
 * At the end it reads its files back and prints "files ok" or what is
 * wrong; exit status 0 when everything was intact, else 1. Output through
 * write(2) only (progs.h), so stdout is the same recorded or not.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "progs.h"

#define NFILES 8

static int files[NFILES];
static unsigned long lines[NFILES];

__attribute__((noinline)) static void *work_alloc(void) { return malloc(4321); }

static void dup2_over_foreign(int mine)
{
    int seen[64], n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    int dfd = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        int fd = atoi(e->d_name);
        int own = fd == dfd;
        for (int i = 0; i < NFILES; i++) own |= fd == files[i];
        if (fd > 2 && !own) seen[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        dup2(mine, seen[i]);     /* refused (EBADF) for the recorder's own */
}

static int check_file(int i, const char *dir)
{
    char path[4096], want[64], buf[64];
    snprintf(path, sizeof path, "%s/f%d", dir, i);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int wl = snprintf(want, sizeof want, "file %d line\n", i);
    unsigned long got = 0;
    for (;;) {
        ssize_t r = read(fd, buf, (size_t)wl);
        if (r == 0) break;
        if (r != wl || memcmp(buf, want, (size_t)wl) != 0) {
            close(fd);
            return -1;
        }
        got++;
    }
    close(fd);
    return got == lines[i] ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        out("usage: daemon close|range|from|dup2|stderr DIR N\n");
        return 2;
    }
    const char *mode = argv[1], *dir = argv[2];
    long n = atol(argv[3]);
    if (!strcmp(mode, "close")) {
        for (int fd = 3; fd < 1024; fd++) close(fd);
    } else if (!strcmp(mode, "range")) {
        close_range(3, ~0u, 0);
    } else if (!strcmp(mode, "from")) {
        closefrom(3);
    } else if (!strcmp(mode, "stderr")) {
        close(2);
    }
    int keep0 = !strcmp(mode, "stderr");
    for (int i = 0; i < NFILES; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/f%d", dir, i);
        files[i] = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (files[i] < 0) {
            out("cannot open %s\n", path);
            return 1;
        }
    }
    if (keep0 && files[0] != 2) {
        out("first file got %d, not 2\n", files[0]);
        return 1;
    }
    if (!strcmp(mode, "dup2")) dup2_over_foreign(files[0]);
    int p[2];
    if (pipe(p) != 0) {
        out("pipe failed\n");
        return 1;
    }
    int bad = 0;
    for (long k = 0; k < n; k++) {
        void *b = work_alloc();
        if (b) memset(b, 0, 64);
        free(b);
        if (k % 1000 == 0) {
            for (int i = 0; i < NFILES; i++) {
                char line[64];
                int l = snprintf(line, sizeof line, "file %d line\n", i);
                if (write(files[i], line, (size_t)l) != l) bad = 1;
                else lines[i]++;
            }
            char c = 'x';
            if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1 || c != 'x') bad = 1;
        }
    }
    for (int i = keep0; i < NFILES; i++)
        if (close(files[i]) != 0) bad = 1;
    for (int i = 0; i < NFILES; i++)
        if (check_file(i, dir) != 0) {
            out("file f%d damaged\n", i);
            bad = 1;
        }
    out(bad ? "files BAD\n" : "files ok\n");
    out("pairs %ld\n", n);
    return bad;
}
