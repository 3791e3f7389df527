/*
 * sandbox — a program that sandboxes itself with seccomp: 1 000
 * allocations from before_sandbox, then a filter that allows only the
 * system calls it needs itself (read, write, memory, futex, clocks, exit)
 * and kills the process on any other, then 100 000 allocations for 0.3 s
 * (the recorder's writer thread has woken by then) and a normal exit. How
 * the filter goes in: argv[1] "prctl" (prctl(PR_SET_SECCOMP)), "seccomp"
 * (seccomp(2) through libc's syscall, as libseccomp's seccomp_load does),
 * "tsync" (seccomp(2) with SECCOMP_FILTER_FLAG_TSYNC: every thread, the
 * recorder's too). Under the recorder it was killed by SIGSYS (exit status
 * 159) where it exits 0 alone. Prints TRUTH sandbox before=N.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include "progs.h"

#define ALLOW(n) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define BEFORE 1000

static void *__attribute__((noinline)) before_sandbox(size_t n)
{
    void *p = malloc(n);
    __asm__ __volatile__("" : : "r"(p) : "memory");
    return p;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "prctl";
    static void *kept[BEFORE];
    for (int i = 0; i < BEFORE; i++) kept[i] = before_sandbox(40 + (size_t)(i % 8) * 8);
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        ALLOW(SYS_read), ALLOW(SYS_write), ALLOW(SYS_close), ALLOW(SYS_fstat), ALLOW(SYS_newfstatat),
        ALLOW(SYS_lseek), ALLOW(SYS_mmap), ALLOW(SYS_munmap), ALLOW(SYS_mprotect), ALLOW(SYS_brk),
        ALLOW(SYS_futex), ALLOW(SYS_exit), ALLOW(SYS_exit_group), ALLOW(SYS_rt_sigreturn),
        ALLOW(SYS_rt_sigprocmask), ALLOW(SYS_clock_gettime), ALLOW(SYS_clock_nanosleep),
        ALLOW(SYS_nanosleep), ALLOW(SYS_sched_yield), ALLOW(SYS_getpid), ALLOW(SYS_gettid),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    struct sock_fprog prog = { (unsigned short)(sizeof f / sizeof f[0]), f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
    long r;
    if (!strcmp(how, "prctl")) r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
    else if (!strcmp(how, "seccomp")) r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
    else r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
    if (r != 0) return 3;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int i = 0; i < 1000; i++) {
            char *p = malloc(32 + (size_t)(i % 100));
            p[0] = 1;
            free(p);
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 300000000L);
    for (int i = 0; i < BEFORE; i++) free(kept[i]);
    out("TRUTH sandbox before=%d\n", BEFORE);
    return 0;
}
