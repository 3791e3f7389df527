/*
 * sandbox.c — stop recording before the program sandboxes itself (and
 * finish the trace when it leaves by syscall(SYS_exit_group), as _exit).
 *
 * A program that installs a seccomp filter (its own sandbox: libseccomp's
 * seccomp_load, prctl(PR_SET_SECCOMP), seccomp(2)) allows the system calls
 * it needs and kills the process on any other; the recorder's (membarrier
 * and the trace's writes at exit, thread names from /proc, giving pages
 * back) are not on its list. A program that ran to exit status 0 alone was
 * killed by SIGSYS at its exit under the recorder. So the two libc entry
 * points that install filters are wrapped here: when the call would install
 * one (a filter or strict mode) in a recording process, the trace is
 * finished first, in full (END reason "stopped", detail MS_STOP_SANDBOX:
 * spec §0x0D), and the recorder stays off from then on. A filter installed
 * with a raw system call instruction, or before the program started (a
 * container's), is not seen. The forwarding keeps the call's result and
 * errno exactly; `syscall` is variadic in libc, and like libc's it reads
 * six argument words whatever the call takes (the ABI passes them in
 * registers).
 */
#include "recorder_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

typedef long (*syscall_fn)(long, ...);
typedef int (*prctl_fn)(int, ...);
static syscall_fn real_syscall;
static prctl_fn real_prctl;

/* Resolved at load time (a vfork child must not run dlsym); until then the
 * calls go to the kernel directly. */
__attribute__((constructor)) static void sandbox_resolve(void)
{
    real_syscall = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
    real_prctl = (prctl_fn)dlsym(RTLD_NEXT, "prctl");
}

static long raw6(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
    long r;
    register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
    __asm__ __volatile__("syscall"
                         : "=a"(r)
                         : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                         : "rcx", "r11", "memory");
    if ((unsigned long)r > -4096ul) {
        errno = (int)-r;
        return -1;
    }
    return r;
#else
    (void)n; (void)a; (void)b; (void)c; (void)d; (void)e; (void)f;
    errno = ENOSYS;
    return -1;
#endif
}

static void entering_sandbox(void)
{
    if (atomic_load_explicit(&msr_mode, memory_order_acquire) != MSR_REC) return;
    int saved = errno;
    msr_say("the program is entering a seccomp sandbox: recording stops here", "",
            " (the trace is complete up to this point)");
    msr_finish(MS_END_STOPPED, MS_STOP_SANDBOX, 0);
    errno = saved;
}

long syscall(long n, ...)
{
    va_list ap;
    va_start(ap, n);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
    long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);
    if (MSR_UNLIKELY(n == SYS_seccomp) &&
        (a == SECCOMP_SET_MODE_FILTER || a == SECCOMP_SET_MODE_STRICT))
        entering_sandbox();
    else if (MSR_UNLIKELY(n == SYS_exit_group))
        msr_uexit((int)a, __builtin_frame_address(0));   /* as _exit */
    if (MSR_LIKELY(real_syscall != NULL)) return real_syscall(n, a, b, c, d, e, f);
    return raw6(n, a, b, c, d, e, f);
}

int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a = va_arg(ap, unsigned long), b = va_arg(ap, unsigned long);
    unsigned long c = va_arg(ap, unsigned long), d = va_arg(ap, unsigned long);
    va_end(ap);
    if (MSR_UNLIKELY(option == PR_SET_SECCOMP) && (a == SECCOMP_MODE_FILTER || a == SECCOMP_MODE_STRICT))
        entering_sandbox();
    int r = MSR_LIKELY(real_prctl != NULL) ? real_prctl(option, a, b, c, d)
                                           : (int)raw6(SYS_prctl, option, (long)a, (long)b, (long)c, (long)d, 0);
    if (MSR_UNLIKELY(option == PR_SET_NAME) && r == 0) {
        int saved = errno;
        msr_thread_renamed((const char *)a);
        errno = saved;
    }
    return r;
}
