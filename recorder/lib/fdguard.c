/*
 * fdguard.c — the recorder's file descriptors survive the application.
 *
 * A recording process holds a few descriptors of its own: the trace file
 * and libunwind's memory-validation pipe (libunwind 1.6 x86_64 opens it
 * with pipe2(O_CLOEXEC|O_NONBLOCK) at its first use, reads and writes it to
 * check addresses in frames without unwind info, and when a read on it fails
 * closes both numbers and opens a new pipe). Daemons close every descriptor
 * from 3 up at start and then reuse the numbers for their own files; without
 * protection the trace went into the application's files (or nowhere) and
 * libunwind closed the application's descriptors. As valgrind does for its
 * reserved descriptors, this file interposes close, close_range, closefrom,
 * dup2 and dup3: for the application a protected descriptor looks closed
 * (close returns -1/EBADF without closing it, close_range and closefrom
 * close around it, dup2/dup3 from or onto it fail with EBADF), which is
 * what the same calls see when the program runs unrecorded. The recorder's
 * own calls (the thread-local guard is set: libunwind runs inside it too)
 * close a protected descriptor only while it is still the file that was
 * protected (device and inode), so a number the application got back after
 * a raw close system call is never closed, written or truncated by us.
 *
 * Placement: the descriptors move near the top of RLIMIT_NOFILE (at most
 * 1000, below select's FD_SETSIZE), away from the low numbers programs
 * expect open() to return. libunwind's pipe is created there too (pipe2 is
 * interposed for calls made inside the recorder with libunwind's flags).
 * When the limit is too low to keep anything high (ulimit -n below 64) the
 * recorder does not record at all (control.c: the trace would sit at fd 3,
 * where a program's dup2 fails and its writes land in the trace); a limit
 * lowered later by the program makes the recorder refuse a new pipe (it
 * would take the application's last descriptors, and without one every
 * libunwind backtrace fails its address checks and falls to its slow path,
 * 60x slower, wrong stacks) and unwind with frame pointers (one line on
 * stderr).
 *
 * Other processes: a fork child that does not record closes them all
 * (msr_fdguard_drop_all: a daemon that forks and closes everything must
 * end up with only its own descriptors); in a vfork or raw clone child
 * (getpid() differs, no fork handler ran) close() acts on the child's own
 * copy.
 *
 * Writes: before the trace is written (msr_fdguard_check_trace) the trace
 * descriptor's identity is checked; a descriptor closed behind the guard is
 * reopened by the trace's absolute path when that is still the same file,
 * else the writer stops and counts the loss (never a write to another file).
 *
 * When no descriptor is protected (not recording) every interposer is one
 * branch and the real call. All of them are async-signal-safe.
 */
#include "recorder_internal.h"
#include "exec_internal.h"
#include "fdguard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

extern int __close(int);
extern int __dup2(int, int);

#define FDG_MAX 8
struct fdg_slot {
    _Atomic int fd1;              /* fd + 1; 0 = free                       */
    dev_t dev;
    ino_t ino;
};
static struct fdg_slot slots[FDG_MAX];
static _Atomic int fdg_count;

static int slot_of(int fd)
{
    if (fd < 0) return -1;
    for (int i = 0; i < FDG_MAX; i++)
        if (atomic_load_explicit(&slots[i].fd1, memory_order_acquire) == fd + 1) return i;
    return -1;
}

int msr_fdguard_add(int fd)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return -1;
    if (slot_of(fd) >= 0) return 0;
    for (int i = 0; i < FDG_MAX; i++) {
        if (atomic_load(&slots[i].fd1) != 0) continue;
        slots[i].dev = st.st_dev;
        slots[i].ino = st.st_ino;
        int zero = 0;
        if (atomic_compare_exchange_strong(&slots[i].fd1, &zero, fd + 1)) {
            atomic_fetch_add(&fdg_count, 1);
            return 0;
        }
    }
    return -1;
}

static void release(int i)
{
    int v = atomic_load(&slots[i].fd1);
    if (v && atomic_compare_exchange_strong(&slots[i].fd1, &v, 0))
        atomic_fetch_sub(&fdg_count, 1);
}

void msr_fdguard_remove(int fd)
{
    int i = slot_of(fd);
    if (i >= 0) release(i);
}

static int same_at(int i, int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && st.st_dev == slots[i].dev && st.st_ino == slots[i].ino;
}

int msr_fdguard_same(int fd)
{
    int i = slot_of(fd);
    return i >= 0 && same_at(i, fd);
}

/* Lowest number for the recorder's descriptors; -1 when the limit is too
 * low to keep them away from the application's. */
static long high_base(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 64) return -1;
    return rl.rlim_cur >= 1032 ? 1000 : (long)rl.rlim_cur - 32;
}

int msr_fdguard_place_high(int fd)
{
    long base = high_base();
    if (fd < 0 || base < 0 || fd >= base) return fd;
    int h = fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
    if (h < 0) return fd;
    __close(fd);
    return h;
}

/* ------------------------------------------------------------------------ */
/* The trace descriptor                                                     */
/* ------------------------------------------------------------------------ */
void msr_fdguard_check_trace(void)
{
    int fd = msr_out_fd;
    if (fd < 0 || !msr_writer) return;
    int i = slot_of(fd);
    if (i < 0 || same_at(i, fd)) return;
    /* closed behind the guard, maybe reused: the number is not ours */
    dev_t dev = slots[i].dev;
    ino_t ino = slots[i].ino;
    release(i);
    msr_out_fd = -1;
    int nfd = msr_cfg.abs_path[0] == '/'
                  ? open(msr_cfg.abs_path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    struct stat st;
    if (nfd >= 0 && fstat(nfd, &st) == 0 && st.st_dev == dev && st.st_ino == ino &&
        lseek(nfd, (off_t)ms_writer_offset(msr_writer), SEEK_SET) >= 0) {
        nfd = msr_fdguard_place_high(nfd);
        msr_fdguard_add(nfd);
        msr_out_fd = nfd;
        ms_writer_set_fd(msr_writer, nfd);
        return;
    }
    if (nfd >= 0) __close(nfd);
    ms_writer_set_fd(msr_writer, -1);
}

/* 1 when RLIMIT_NOFILE leaves room to keep the descriptors high. */
int msr_fdguard_room(void) { return high_base() >= 0; }

void msr_fdguard_drop_all(void)
{
    for (int i = 0; i < FDG_MAX; i++) {
        int v = atomic_load(&slots[i].fd1);
        if (!v) continue;
        int mine = same_at(i, v - 1);
        release(i);
        if (mine) __close(v - 1);
    }
    msr_out_fd = -1;
}

void msr_fdguard_atfork_child(void)
{
    int fd = msr_out_fd;
    if (fd < 0) return;
    int i = slot_of(fd);
    if (i >= 0) {
        int mine = same_at(i, fd);
        release(i);
        if (mine) __close(fd);
    }
    msr_out_fd = -1;
}

/* ------------------------------------------------------------------------ */
/* libunwind's validation pipe                                              */
/* ------------------------------------------------------------------------ */
int msr_unw_nopipe;

static void no_pipe(void)
{
    msr_unw_nopipe = 1;
    if (msr_cfg.unwind == MSR_UNW_NONE) return;
    int was = msr_cfg.unwind;
    msr_cfg.unwind = MSR_UNW_FP;
    if (was != MSR_UNW_LIBUNWIND) return;
    if (!msr_cfg.quiet)
        msr_say("too few file descriptors for libunwind's address checks (ulimit -n), "
                "unwinding with frame pointers", "", "");
}

static int unwind_pipe(int fds[2], int flags)
{
    int p[2];
    if (syscall(SYS_pipe2, p, flags) != 0) {
        int e = errno;
        no_pipe();
        errno = e;
        return -1;
    }
    if (high_base() < 0) {
        __close(p[0]);
        __close(p[1]);
        no_pipe();
        errno = EMFILE;
        return -1;
    }
    p[0] = msr_fdguard_place_high(p[0]);
    p[1] = msr_fdguard_place_high(p[1]);
    msr_fdguard_add(p[0]);
    msr_fdguard_add(p[1]);
    fds[0] = p[0];
    fds[1] = p[1];
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Interposers                                                              */
/* ------------------------------------------------------------------------ */
int pipe2(int fds[2], int flags)
{
    if (MSR_LIKELY(!msr_tls.guard) || flags != (O_CLOEXEC | O_NONBLOCK))
        return (int)syscall(SYS_pipe2, fds, flags);
    return unwind_pipe(fds, flags);     /* libunwind, inside the recorder */
}

/* For the program's close/dup2/dup3: 1 when fd is one of ours and still
 * the file we protected. 0 in another process sharing our memory or a copy
 * of it (a vfork or raw clone child: the descriptor is its own copy; the
 * slot stays for the recording process), and for a number closed behind
 * the guard (raw close, close_range system calls), which is given up so
 * the program can use it again (the trace's slot stays for
 * msr_fdguard_check_trace). */
static int guarded(int fd)
{
    int i = slot_of(fd);
    if (i < 0 || getpid() != msr_pid) return 0;
    if (same_at(i, fd)) return 1;
    if (!msr_tls.guard && fd != msr_out_fd) release(i);
    return 0;
}

int close(int fd)
{
    if (MSR_LIKELY(atomic_load_explicit(&fdg_count, memory_order_relaxed) == 0))
        return __close(fd);
    int i = slot_of(fd);
    if (i < 0) return __close(fd);
    if (!msr_tls.guard) {
        if (!guarded(fd)) return __close(fd);
        errno = EBADF;
        return -1;
    }
    int mine = same_at(i, fd);
    release(i);
    if (!mine) {
        errno = EBADF;
        return -1;
    }
    return __close(fd);
}

int dup2(int oldfd, int newfd)
{
    if (MSR_LIKELY(atomic_load_explicit(&fdg_count, memory_order_relaxed) == 0) ||
        (!guarded(oldfd) && !guarded(newfd)))
        return __dup2(oldfd, newfd);
    errno = EBADF;
    return -1;
}

int dup3(int oldfd, int newfd, int flags)
{
    if (MSR_LIKELY(atomic_load_explicit(&fdg_count, memory_order_relaxed) == 0) ||
        (!guarded(oldfd) && !guarded(newfd)))
        return (int)syscall(SYS_dup3, oldfd, newfd, flags);
    errno = EBADF;
    return -1;
}

/* close_range over [first, last] minus the protected descriptors. */
static int range_split(unsigned first, unsigned last, int flags)
{
    unsigned prot[FDG_MAX];
    int n = 0;
    for (int i = 0; i < FDG_MAX; i++) {
        int v = atomic_load(&slots[i].fd1);
        if (v && (unsigned)(v - 1) >= first && (unsigned)(v - 1) <= last) {
            unsigned x = (unsigned)(v - 1);
            int k = n++;
            while (k > 0 && prot[k - 1] > x) {
                prot[k] = prot[k - 1];
                k--;
            }
            prot[k] = x;
        }
    }
    int rc = 0, err = 0;
    unsigned a = first;
    for (int k = 0; k <= n; k++) {
        unsigned b = k < n ? prot[k] : last;
        int tail = k == n;
        if (tail ? a <= b : b > a) {
            if (syscall(SYS_close_range, a, tail ? b : b - 1, flags) != 0 && !rc) {
                rc = -1;
                err = errno;
            }
        }
        if (tail || b == UINT_MAX) break;
        a = b + 1;
    }
    if (rc) errno = err;
    return rc;
}

int close_range(unsigned first, unsigned last, int flags)
{
    if (MSR_LIKELY(atomic_load_explicit(&fdg_count, memory_order_relaxed) == 0) || first > last)
        return (int)syscall(SYS_close_range, first, last, flags);
    return range_split(first, last, flags);
}

void closefrom(int lowfd)
{
    unsigned lo = lowfd < 0 ? 0 : (unsigned)lowfd;
    int rc = atomic_load_explicit(&fdg_count, memory_order_relaxed) == 0
                 ? (int)syscall(SYS_close_range, lo, ~0u, 0) : range_split(lo, ~0u, 0);
    if (rc == 0 || errno != ENOSYS) return;
    /* kernel without close_range (before 5.9): one by one up to the limit */
    struct rlimit rl;
    unsigned long top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1ul << 20)
                            ? (unsigned long)rl.rlim_cur : (1ul << 20);
    for (unsigned long fd = lo; fd < top; fd++)
        if (slot_of((int)fd) < 0) __close((int)fd);
}
