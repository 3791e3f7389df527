/*
 * execer — allocates, then replaces itself with another program through one
 * of the exec functions, without fork: the recorder must finish its trace
 * before the image goes (tests/recorder/test_exec.sh).
 *
 *   execer [--fail-first] FUNC PROG [ARGS...]
 *
 * FUNC is execve, execv, execvp, execvpe, execl, execle, execlp or fexecve
 * (execl* pass at most 4 arguments). Before the exec it allocates 3 blocks of
 * 500 bytes (frees one, keeps two in a global) and leaks one of 777 bytes.
 * With --fail-first it first calls FUNC on a program that cannot run (which
 * returns -1; $EXECER_BAD names it, default a missing path), then allocates 2 blocks of 4444 bytes and frees one: a failed
 * exec must not stop the recording. Exits 99 when the real exec fails too.
 * Prints its truth before the exec; output through write(2) (progs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "progs.h"

extern char **environ;
static void *keep[4];

__attribute__((noinline)) static void before_exec(void)
{
    for (int i = 0; i < 3; i++)
        keep[i] = malloc(500);
    free(keep[2]);
    keep[2] = NULL;
    void *lost = malloc(777);
    memset(lost, 1, 777);
    lost = NULL;                        /* definitely lost */
}

/* The dead stack below main's frame, zeroed: the frames of malloc(777)
 * (the allocator's, the recorder's) left copies of the lost pointer there,
 * and execl's frame does not overwrite all of it (its variadic register
 * save area for vector registers stays unwritten when no double is
 * passed), so a conservative scan at the exec would find the pointer or
 * not depending on the recorder's frame sizes. memcheck runs the allocator
 * off the program's stack and never sees such copies. */
__attribute__((noinline)) static void clear_dead_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

__attribute__((noinline)) static void after_failed_exec(void)
{
    keep[2] = malloc(4444);
    void *t = malloc(4444);
    free(t);
}

static int run(const char *func, const char *prog, char **argv)
{
    char *a[5] = {NULL, NULL, NULL, NULL, NULL};
    for (int i = 0; i < 5 && argv[i]; i++)
        a[i] = argv[i];
    if (!strcmp(func, "execve")) return execve(prog, argv, environ);
    if (!strcmp(func, "execv")) return execv(prog, argv);
    if (!strcmp(func, "execvp")) return execvp(prog, argv);
    if (!strcmp(func, "execvpe")) return execvpe(prog, argv, environ);
    if (!strcmp(func, "execl")) return execl(prog, a[0], a[1], a[2], a[3], a[4], (char *)NULL);
    if (!strcmp(func, "execlp")) return execlp(prog, a[0], a[1], a[2], a[3], a[4], (char *)NULL);
    if (!strcmp(func, "execle"))
        return execle(prog, a[0], a[1], a[2], a[3], a[4], (char *)NULL, environ);
    if (!strcmp(func, "fexecve")) {
        int fd = open(prog, O_RDONLY);
        if (fd < 0) return -1;
        int r = fexecve(fd, argv, environ);
        int e = errno;
        close(fd);
        errno = e;
        return r;
    }
    errno = EINVAL;
    return -1;
}

int main(int argc, char **argv)
{
    int fail_first = argc > 1 && !strcmp(argv[1], "--fail-first");
    int i = 1 + fail_first;
    if (argc < i + 2) {
        out("usage: execer [--fail-first] FUNC PROG [ARGS...]\n");
        return 2;
    }
    const char *func = argv[i], *prog = argv[i + 1];
    before_exec();
    clear_dead_stack();
    if (fail_first) {
        /* $EXECER_BAD: a program that exists but cannot run (ENOEXEC) */
        char *bad[] = {getenv("EXECER_BAD") ? getenv("EXECER_BAD") : "/nonexistent/execer-target", NULL};
        const char *bp = !strcmp(func, "fexecve") ? "/dev/null" : bad[0];
        int r = run(func, bp, bad);
        out("execer: failed exec returned %d\n", r);
        after_failed_exec();
        out("TRUTH execer allocs=6 frees=2 bytes=11165 live_blocks=4 live_bytes=6221\n");
    } else {
        out("TRUTH execer allocs=4 frees=1 bytes=2277 live_blocks=3 live_bytes=1777\n");
    }
    run(func, prog, argv + i + 1);
    out("execer: exec %s failed: %s\n", prog, strerror(errno));
    return 99;
}
