/* Leak classification at exit, as valgrind memcheck and LeakSanitizer do it.
 *
 * msr_leak_classify stops the other threads of the process, scans the roots
 * for pointer-aligned words that point into live heap blocks, flood-fills
 * through the blocks found, and labels every block REACHABLE (a chain of
 * start pointers from a root), POSSIBLE (reached, but only through an
 * interior pointer somewhere), INDIRECT (reached only from lost blocks),
 * DEFINITE (the leader of a lost group: nothing else lost points to it) or
 * LIBC (runtime-internal, see below).
 *
 * Roots are what memcheck scans: every readable and writable mapping of
 * /proc/self/maps (file-backed .data/.bss, anonymous mmaps private or
 * shared — interpreter arenas, GC pages, the loader's TLS and link maps —
 * and /dev/zero; other device mappings are skipped), minus:
 *  - the heap itself: [heap] (glibc's main arena), glibc's non-main arena
 *    heaps (a heap_info header at a 64 MiB-aligned start: the whole 64 MiB
 *    reservation) and the mapping of every live block glibc served with
 *    mmap (IS_MMAPPED chunk header: [chunk - prev_size, chunk + size)).
 *    Such blocks are blocks, scanned only when reached; no root range is
 *    ever scanned over a live block's bytes;
 *  - the recorder's own memory: the exclude ranges given by the caller (its
 *    arena: rings, tables, the block list), the writable segments and the
 *    static TLS block of the shared object holding this code, this scan's
 *    scratch and the blocks[] array;
 *  - the dead part of every stack: a live thread's stack below its SP (the
 *    calling thread: below the frame where the recorder was entered,
 *    msr_leak_entry_frame, because the recorder's own frames sit where the
 *    application's dead frames were and keep their stale words; a thread
 *    stopped in user code keeps its 128-byte red zone, one blocked in a
 *    system call does not: stale argument copies live there); a [stack]
 *    mapping holding no live SP; and the stack of an exited thread that
 *    glibc keeps for reuse (a tcb, tcb->tcb == tcb->self == tcb, found at
 *    a 64-byte boundary of an anonymous mapping that sits on a PROT_NONE
 *    guard and holds no live SP): only its static TLS and struct pthread
 *    stay roots; threads named by msr_leak_ignore_thread (the recorder's)
 *    lose their whole stack block.
 * In a sampled trace (msr_leak_set_sampled) the heap itself is a root
 * too, outside the sampled blocks: most of its blocks are unknown to us.
 * Plus each stopped thread's registers (from the signal frame; the calling
 * thread's from getcontext). Pages of private mappings that were never
 * touched (neither present nor swapped in /proc/self/pagemap) hold zeros
 * and are skipped, so big sparse reservations cost nothing.
 *
 * LIBC (class 5, "libc/runtime internal", not an application leak):
 *  - blocks the caller marks MS_LEAK_LIBC on input: the recorder marks
 *    those whose allocating stack belongs to the runtime (leakrt.c: the
 *    innermost caller is the dynamic loader — link maps, dlopen scopes,
 *    dynamic TLS — or every frame lies in libc, ld.so, libstdc++, libgcc_s
 *    or libm and the outermost is the loader's or libc's entry, i.e. the
 *    runtime's own constructors before main such as libstdc++'s 72,704-byte
 *    emergency exception pool, and no frame was cut by the depth limit);
 *  - glibc's DTVs (calloc'd by pthread_create/_dl_allocate_tls, 16 bytes
 *    before the tcb's dtv pointer) and the dynamic TLS blocks they own, for
 *    live threads and for the cached stacks of exited ones.
 * They are roots for what they point to. memcheck reports them as still
 * reachable with --run-libc-freeres=no --run-cxx-freeres=no (the pool) or
 * possibly lost (a cached thread's DTV); by default it frees them first
 * (__libc_freeres, __gnu_cxx::__freeres) and does not report them.
 *
 * Other threads are stopped with a private real-time signal whose handler
 * saves the signal context and SP and waits on a futex until released (1 s
 * timeout on both sides). A thread that blocks the signal (SigBlk in
 * /proc/self/task/TID/status) is not signaled and is scanned from the SP in
 * /proc/self/task/TID/syscall when it sits in a system call; a zombie (main
 * after pthread_exit) is skipped; threads named by msr_leak_ignore_thread
 * are neither stopped nor scanned. Only ranges /proc/self/maps shows
 * readable are read ([vvar], device mappings and guard pages are skipped),
 * so the scan never faults. No malloc, no stdio, no locks: all scratch
 * memory comes from mmap. Cost: per scanned word between the lowest and
 * highest block that does not fall in the block the previous one did, a
 * probe of a page index and a search among that page's blocks (find_block),
 * ~45 ns per live block.
 *
 * Precision, beyond the root set (compared with memcheck and LSan):
 *  - glibc's malloc keeps pointers to the next chunk header (the top chunk
 *    in main_arena, free-chunk bins), and that header overlaps the last
 *    8 bytes of the previous chunk's user area: such a word is not an
 *    interior pointer into the block before it (it made the last block
 *    malloc'd before exit "possible" instead of "definite").
 * What stays different from memcheck/LSan: memcheck ignores words it knows
 * are undefined (uninitialised padding, bytes above a realloc'd size), we
 * cannot; glibc reuses freed memory at once (their allocators do not), so a
 * stale pointer the application kept to a freed block may now point inside
 * a leaked block and make it "possible" (tools/demo/example.c: queue[]
 * keeps the freed responses' addresses, and the 3000-byte session block can
 * reuse that memory); an exited thread's last frames are not scanned
 * (memcheck scans its stack from its last SP). */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/futex.h>

#include "inspect.h"

#define ST_NONE   0u
#define ST_REACH  MS_LEAK_REACHABLE
#define ST_DEF    MS_LEAK_DEFINITE
#define ST_IND    MS_LEAK_INDIRECT
#define ST_POSS   MS_LEAK_POSSIBLE
#define ST_IHIT   0x100u       /* interior pointer seen from root/reachable */

#define MODE_REACH 0
#define MODE_POSS  1
#define MODE_LOST  2

#define SLOT_SIGNALED 0
#define SLOT_STOPPED  1
#define SLOT_DONE     2
#define SLOT_GONE     3
#define SLOT_BLOCKED  4        /* our signal is blocked there: not sent */

#define MAX_SLOTS   8192
#define MAX_IGNORED 8
#define MAX_TCBS    4096
#define MAX_OWNSEG  16
#define ALLOC_MAPS  1024       /* nextalloc.c's table */
#define MR_READ    1u
#define MR_STACK   2u
#define MR_ANON    4u
#define MR_WRITE   8u
#define MR_HEAP    16u
#define MR_SHARED  32u
#define HEAP_MAX   ((uint64_t)64 << 20)  /* glibc HEAP_MAX_SIZE, 64-bit */
#define PM_BATCH   512
#define PM_MIN     ((uint64_t)256 << 10) /* ranges checked against pagemap */

struct slot {
    _Atomic int state;
    int tid;
    uint64_t sp, tp;
    unsigned char regs[offsetof(ucontext_t, uc_sigmask)];
};

struct mrange { uint64_t lo, hi; uint32_t flags; };
struct span { uint64_t lo, hi; };

struct scan {
    ms_live_block *b;
    size_t n;
    uint64_t min_addr, max_end;
    struct pg { uint64_t key; uint32_t first, cnt; } *pg; /* page index (pg_build) */
    unsigned pg_bits;           /* 2^pg_bits entries                       */
    struct rg { uint64_t key; uint32_t first, cnt; } *rg; /* region index  */
    unsigned rg_bits;
    struct dpg { uint32_t first, cnt; } *dense; /* pages dbase.. of the    */
    uint64_t dbase, dn;         /* densest cluster of small blocks         */
    uint32_t *big;              /* blocks over PG_SPAN pages, in order     */
    uint32_t *huge;             /* ... of them, those over RG_HUGE regions */
    size_t nbig, nhuge, pg_bytes;
    struct span *ex;            /* not roots; sorted and merged by merge_ex */
    size_t nex, excap;
    struct mrange *maps;
    size_t nmaps, mapcap;
    size_t *work;
    size_t nwork;
    size_t leader;
    unsigned char *lib;         /* per block: 1 = MS_LEAK_LIBC             */
    uint64_t amaps[2 * ALLOC_MAPS]; /* msr_next_mappings' ranges           */
    uint64_t page;
    int pagemap;                /* fd of /proc/self/pagemap or -1          */
    uint64_t tls_static;        /* estimated static TLS bytes below tp */
    uint64_t own_tls_off;       /* this DSO's static TLS block: tp - off */
    uint64_t own_tls_size;      /* 0 = none / unknown */
    struct span ownseg[MAX_OWNSEG];
    size_t nownseg;
    int pid, self_tid;
    _Atomic int release;
    _Atomic size_t nslots;
    struct slot *slots;
    ucontext_t self_uc;
    uint64_t self_sp, self_tp;
    uint64_t live_sp[MAX_SLOTS + 1];
    size_t nlive;
    uint64_t tcb[MAX_TCBS];
    size_t ntcb;
    uint64_t pm[PM_BATCH];
    char dirbuf[32768];
    char pathbuf[128];
    char statbuf[8192];
};

static uint64_t hexnum(const char **pp, const char *end);

/* The scan reads memory the program never handed out (global redzones,
 * stack slots): keep sanitizers out of the functions that do. */
#if defined(__clang__) || defined(__GNUC__)
#define NO_SANITIZE __attribute__((no_sanitize_address, no_sanitize("undefined")))
#else
#define NO_SANITIZE
#endif

static struct scan *_Atomic g_scan;
static _Atomic uint64_t g_entry_frame;

void msr_leak_entry_frame(const void *frame)
{
    atomic_store(&g_entry_frame, (uint64_t)(uintptr_t)frame);
}
static _Atomic int g_in_handler;
static _Atomic int g_ignored[MAX_IGNORED];
static _Atomic uint64_t g_ignored_tp[MAX_IGNORED];  /* when self-registered */

void msr_leak_ignore_thread(int tid)
{
    uint64_t tp = tid == (int)syscall(SYS_gettid) ? (uint64_t)pthread_self() : 0;
    for (int i = 0; i < MAX_IGNORED; i++) {
        int z = 0;
        if (atomic_load(&g_ignored[i]) == tid || atomic_compare_exchange_strong(&g_ignored[i], &z, tid)) {
            if (tp)
                atomic_store(&g_ignored_tp[i], tp);
            return;
        }
    }
}

static int is_ignored(int tid)
{
    for (int i = 0; i < MAX_IGNORED; i++)
        if (atomic_load(&g_ignored[i]) == tid)
            return 1;
    return 0;
}

static int is_ignored_tp(uint64_t tp)
{
    for (int i = 0; i < MAX_IGNORED; i++)
        if (atomic_load(&g_ignored[i]) && atomic_load(&g_ignored_tp[i]) == tp)
            return 1;
    return 0;
}

static void *map_anon(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static long futex(_Atomic int *addr, int op, int val, const struct timespec *ts)
{
    return syscall(SYS_futex, (int *)addr, op, val, ts, NULL, 0);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t ctx_sp(const ucontext_t *uc)
{
#if defined(__x86_64__)
    return (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uint64_t)uc->uc_mcontext.sp;
#elif defined(__i386__)
    return (uint64_t)uc->uc_mcontext.gregs[REG_ESP];
#else
    (void)uc;
    return 0;
#endif
}

#if defined(__x86_64__)
#define RED_ZONE 128u
#else
#define RED_ZONE 0u
#endif

/* ---- thread stop ------------------------------------------------------ */

NO_SANITIZE static void stop_handler(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    int saved = errno;
    atomic_fetch_add(&g_in_handler, 1);
    struct scan *s = atomic_load(&g_scan);
    if (s && si->si_code == SI_TKILL && si->si_pid == s->pid) {
        int tid = (int)syscall(SYS_gettid);
        size_t ns = atomic_load(&s->nslots);
        struct slot *sl = NULL;
        for (size_t i = 0; i < ns; i++)
            if (s->slots[i].tid == tid) {
                sl = &s->slots[i];
                break;
            }
        if (sl && atomic_load(&sl->state) == SLOT_SIGNALED) {
            const ucontext_t *uc = uctx;
            memcpy(sl->regs, uc, sizeof sl->regs);
            sl->sp = ctx_sp(uc);
            if (!sl->sp)
                sl->sp = (uint64_t)(uintptr_t)&tid;
            sl->tp = (uint64_t)pthread_self();
            atomic_store(&sl->state, SLOT_STOPPED);
            futex(&sl->state, FUTEX_WAKE_PRIVATE, 1, NULL);
            struct timespec ts = { 0, 20 * 1000 * 1000 };
            for (int i = 0; i < 50 && !atomic_load(&s->release); i++)
                futex(&s->release, FUTEX_WAIT_PRIVATE, 0, &ts);
            atomic_store(&sl->state, SLOT_DONE);
            futex(&sl->state, FUTEX_WAKE_PRIVATE, 1, NULL);
        }
    }
    atomic_fetch_sub(&g_in_handler, 1);
    errno = saved;
}

static int stop_sig;
static struct sigaction stop_old;
static int stop_installed;

static int install_handler(void)
{
    if (stop_installed)
        return stop_sig;
    for (int sig = SIGRTMAX; sig > SIGRTMIN; sig--) {
        struct sigaction old;
        if (sigaction(sig, NULL, &old) != 0)
            continue;
        if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = stop_handler;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigfillset(&sa.sa_mask);
        if (sigaction(sig, &sa, NULL) != 0)
            continue;
        stop_sig = sig;
        stop_old = old;
        stop_installed = 1;
        return sig;
    }
    return 0;
}

/* "/proc/self/task/TID/<leaf>" into s->pathbuf. */
static const char *task_path(struct scan *s, int tid, const char *leaf)
{
    char *p = s->pathbuf;
    const char *pre = "/proc/self/task/";
    size_t n = strlen(pre);
    memcpy(p, pre, n);
    char digits[16];
    int k = 0;
    do {
        digits[k++] = (char)('0' + tid % 10);
        tid /= 10;
    } while (tid && k < 15);
    while (k)
        p[n++] = digits[--k];
    p[n++] = '/';
    memcpy(p + n, leaf, strlen(leaf) + 1);
    return p;
}

/* 1 when sig is in the SigBlk mask of thread tid, 2 when the thread is a
 * zombie or dead (a signal would never be handled). */
static int sig_blocked(struct scan *s, int tid, int sig)
{
    int fd = open(task_path(s, tid, "status"), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t r = read(fd, s->statbuf, sizeof s->statbuf - 1);
    close(fd);
    if (r <= 0)
        return 0;
    s->statbuf[r] = 0;
    const char *st = strstr(s->statbuf, "State:");
    if (st) {
        st += 6;
        while (*st == ' ' || *st == '\t')
            st++;
        if (*st == 'Z' || *st == 'X')
            return 2;
    }
    const char *p = strstr(s->statbuf, "SigBlk:");
    if (!p)
        return 0;
    p += 7;
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t mask = hexnum(&p, s->statbuf + r);
    return sig >= 1 && sig <= 64 && ((mask >> (sig - 1)) & 1);
}

/* Signal every task not signaled yet; returns how many were signaled. */
static size_t signal_new_tasks(struct scan *s, int sig)
{
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t added = 0;
    for (;;) {
        long nr = syscall(SYS_getdents64, fd, s->dirbuf, sizeof s->dirbuf);
        if (nr <= 0)
            break;
        for (long off = 0; off < nr;) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; }
                *d = (void *)(s->dirbuf + off);
            off += d->reclen;
            int tid = 0;
            for (const char *p = d->name; *p >= '0' && *p <= '9'; p++)
                tid = tid * 10 + (*p - '0');
            if (tid <= 0 || tid == s->self_tid || is_ignored(tid))
                continue;
            size_t ns = atomic_load(&s->nslots), i;
            for (i = 0; i < ns && s->slots[i].tid != tid; i++)
                ;
            if (i < ns || ns >= MAX_SLOTS)
                continue;
            struct slot *sl = &s->slots[ns];
            sl->tid = tid;
            int blk = sig_blocked(s, tid, sig);
            if (blk) {
                atomic_store(&sl->state, blk == 2 ? SLOT_GONE : SLOT_BLOCKED);
                atomic_store(&s->nslots, ns + 1);
                continue;
            }
            atomic_store(&sl->state, SLOT_SIGNALED);
            atomic_store(&s->nslots, ns + 1);
            if (syscall(SYS_tgkill, s->pid, tid, sig) != 0)
                atomic_store(&sl->state, SLOT_GONE);
            else
                added++;
        }
    }
    close(fd);
    return added;
}

static void wait_state_change(struct scan *s, int from, uint64_t deadline)
{
    size_t ns = atomic_load(&s->nslots);
    for (size_t i = 0; i < ns; i++) {
        struct slot *sl = &s->slots[i];
        while (atomic_load(&sl->state) == from) {
            uint64_t t = now_ns();
            if (t >= deadline)
                return;
            struct timespec ts = { 0, 5 * 1000 * 1000 };
            futex(&sl->state, FUTEX_WAIT_PRIVATE, from, &ts);
        }
    }
}

static void stop_threads(struct scan *s, int sig)
{
    uint64_t deadline = now_ns() + 1000000000u;
    for (int round = 0; round < 4; round++) {
        if (signal_new_tasks(s, sig) == 0)
            break;
        wait_state_change(s, SLOT_SIGNALED, deadline);
    }
}

/* Returns 1 when every handler is finished and the scratch can go. */
static int release_threads(struct scan *s)
{
    atomic_store(&s->release, 1);
    futex(&s->release, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL);
    wait_state_change(s, SLOT_STOPPED, now_ns() + 1000000000u);
    int all_answered = 1;
    size_t ns = atomic_load(&s->nslots);
    for (size_t i = 0; i < ns; i++) {
        int st = atomic_load(&s->slots[i].state);
        if (st == SLOT_SIGNALED)
            all_answered = 0;           /* signal may still be pending */
        if (st == SLOT_STOPPED)
            return 0;
    }
    atomic_store(&g_scan, NULL);
    uint64_t deadline = now_ns() + 1000000000u;
    while (atomic_load(&g_in_handler) != 0) {
        if (now_ns() >= deadline)
            return 0;
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    if (all_answered && stop_installed) {
        sigaction(stop_sig, &stop_old, NULL);
        stop_installed = 0;
    }
    return 1;
}

/* ---- memory map ------------------------------------------------------- */

static uint64_t hexnum(const char **pp, const char *end)
{
    uint64_t v = 0;
    const char *p = *pp;
    for (; p < end; p++) {
        int d;
        if (*p >= '0' && *p <= '9') d = *p - '0';
        else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
        else break;
        v = v * 16 + (uint64_t)d;
    }
    *pp = p;
    return v;
}

static int add_map(struct scan *s, uint64_t lo, uint64_t hi, uint32_t flags)
{
    if (s->nmaps == s->mapcap) {
        size_t old = s->mapcap * sizeof(struct mrange);
        void *np = s->maps ? mremap(s->maps, old, old * 2, MREMAP_MAYMOVE)
                           : mmap(NULL, 4096 * sizeof(struct mrange), PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (np == MAP_FAILED)
            return -1;
        s->maps = np;
        s->mapcap = s->mapcap ? s->mapcap * 2 : 4096;
    }
    s->maps[s->nmaps].lo = lo;
    s->maps[s->nmaps].hi = hi;
    s->maps[s->nmaps].flags = flags;
    s->nmaps++;
    return 0;
}

static void parse_line(struct scan *s, const char *p, const char *end)
{
    uint64_t lo = hexnum(&p, end);
    if (p >= end || *p++ != '-')
        return;
    uint64_t hi = hexnum(&p, end);
    if (p + 5 > end || *p++ != ' ')
        return;
    int readable = p[0] == 'r';
    uint32_t flags = 0;
    if (p[1] == 'w')
        flags |= MR_WRITE;
    if (p[3] == 's')
        flags |= MR_SHARED;
    p += 4;
    /* offset, dev, inode, then the path */
    const char *dev = NULL;
    for (int f = 0; f < 3; f++) {
        while (p < end && *p == ' ')
            p++;
        if (f == 1)
            dev = p;
        while (p < end && *p != ' ')
            p++;
    }
    while (p < end && *p == ' ')
        p++;
    size_t plen = (size_t)(end - p);
    if (plen >= 6 && memcmp(p, "[vvar", 5) == 0)
        readable = 0;
    if (plen >= 10 && memcmp(p, "[vsyscall]", 10) == 0)
        readable = 0;
    if (plen >= 5 && memcmp(p, "/dev/", 5) == 0 && !(dev && memcmp(dev, "00:", 3) == 0))
        readable = 0;                   /* device mapping (not /dev/zero, shm) */
    if (plen == 7 && memcmp(p, "[stack]", 7) == 0)
        flags |= MR_STACK;
    if (plen == 6 && memcmp(p, "[heap]", 6) == 0)
        flags |= MR_HEAP;
    if (plen == 0)
        flags |= MR_ANON;
    if (readable)
        flags |= MR_READ;
    add_map(s, lo, hi, flags);
}

static void read_maps_from(struct scan *s, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    /* Line by line through dirbuf; a partial line is carried over. */
    size_t have = 0;
    for (;;) {
        ssize_t r = read(fd, s->dirbuf + have, sizeof s->dirbuf - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        have += (size_t)r;
        char *start = s->dirbuf, *end = s->dirbuf + have, *nl;
        while ((nl = memchr(start, '\n', (size_t)(end - start))) != NULL) {
            parse_line(s, start, nl);
            start = nl + 1;
        }
        have = (size_t)(end - start);
        memmove(s->dirbuf, start, have);
        if (have == sizeof s->dirbuf)
            have = 0;                   /* absurd line: drop it */
    }
    if (have)
        parse_line(s, s->dirbuf, s->dirbuf + have);
    close(fd);
}

static int read_maps(struct scan *s)
{
    read_maps_from(s, "/proc/self/maps");
    /* empty once the main thread has exited (pthread_exit from main):
     * then the calling thread's view */
    if (!s->nmaps)
        read_maps_from(s, "/proc/thread-self/maps");
    return s->nmaps ? 0 : MS_EIO;
}

/* Index of the mapping containing a, or -1. */
static long find_map(const struct scan *s, uint64_t a)
{
    size_t lo = 0, hi = s->nmaps;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->maps[mid].hi <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->nmaps && s->maps[lo].lo <= a ? (long)lo : -1;
}

static int readable(const struct scan *s, uint64_t a, uint64_t len)
{
    long m = find_map(s, a);
    return m >= 0 && (s->maps[m].flags & MR_READ) && a + len <= s->maps[m].hi;
}

/* ---- blocks ------------------------------------------------------------ */

/* The page index: for every 4 KiB page a live block's bytes touch, the
 * blocks overlapping it (a run of consecutive indices: the blocks are
 * sorted and disjoint), in an open-addressed table keyed by page. A word
 * is then found with one probe of a table that stays in the caches and a
 * search among the few blocks of its page; a page with no entry proves at
 * once that no small block holds the word. Blocks over more than PG_SPAN
 * pages are kept apart, in address order, so a big block costs one entry.
 * An earlier static search tree cost ~35 ns a word, 10 % of a perl run
 * whose exit scan follows ~3 M pointers.
 *
 * In front of it, the region index: for every 1 MiB region a block
 * touches, whether small blocks lie there (then the page index is asked)
 * and the run of big blocks overlapping it (in big[]). Most words that
 * look like heap pointers point elsewhere: cc1's exit scan reads 4.8 M
 * words of its GC heap, 2.1 M of them between the lowest and the highest
 * block, 98 % into GC pages; each cost a page probe and a binary search
 * of the big blocks (~20 ns), now one probe of a table of a few dozen
 * entries, none at all for the next word in the same empty region.
 * Blocks over RG_HUGE regions are tried first, one by one (normally none).
 *
 * The pages of the cluster of small blocks with the most pages (clusters
 * split at gaps over DENSE_GAP pages: glibc's [heap]) are indexed by an
 * array instead of the page table when the span is at most DENSE_FILL
 * times its pages with blocks: perl's exit scan follows 2.2 M pointers
 * into its 13 k SV arenas, each a probe of a 512 KiB table, now a read of
 * 8 bytes of a 120 KiB array. */
#define PG_SHIFT 12
#define PG_SPAN  16
#define RG_SHIFT 20
#define RG_HUGE  4096
#define DENSE_GAP  ((uint64_t)1 << 14)
#define DENSE_FILL 16

static inline size_t pg_slot(const struct scan *s, uint64_t page)
{
    return (size_t)((page * 0x9E3779B97F4A7C15u) >> (64 - s->pg_bits));
}

static inline uint64_t block_last_page(const ms_live_block *b)
{
    uint64_t len = b->size ? b->size : 1;
    uint64_t end = b->addr + len - 1;
    return (end < b->addr ? UINT64_MAX : end) >> PG_SHIFT;
}

static struct pg *pg_put(struct scan *s, uint64_t page, size_t i)
{
    size_t m = ((size_t)1 << s->pg_bits) - 1, h = pg_slot(s, page);
    while (s->pg[h].key) h = (h + 1) & m;
    s->pg[h].key = page + 1;
    s->pg[h].first = (uint32_t)i;
    s->pg[h].cnt = 1;
    return &s->pg[h];
}

static inline size_t rg_slot(const struct scan *s, uint64_t region)
{
    return (size_t)((region * 0x9E3779B97F4A7C15u) >> (64 - s->rg_bits));
}

/* The entry of region (made, empty, when new). */
static struct rg *rg_get(struct scan *s, uint64_t region)
{
    size_t m = ((size_t)1 << s->rg_bits) - 1, h = rg_slot(s, region);
    while (s->rg[h].key && s->rg[h].key != region + 1) h = (h + 1) & m;
    if (!s->rg[h].key) {
        s->rg[h].key = region + 1;
        s->rg[h].first = s->rg[h].cnt = 0;
    }
    return &s->rg[h];
}

static inline const struct rg *rg_find(const struct scan *s, uint64_t region)
{
    size_t m = ((size_t)1 << s->rg_bits) - 1;
    for (size_t h = rg_slot(s, region); s->rg[h].key; h = (h + 1) & m)
        if (s->rg[h].key == region + 1) return &s->rg[h];
    return NULL;
}

/* entry cnt of a region holding small blocks (page index) besides its big run */
#define RG_SMALL 0x80000000u

static size_t bits_for(size_t n)
{
    unsigned bits = 4;
    while (((size_t)1 << bits) < n + n / 2 + 1) bits++;
    return bits;
}

/* Build the page and region indexes (none when out of memory or over
 * 2^31 blocks: find_block then searches all blocks). */
static void pg_build(struct scan *s)
{
    size_t pages = 0, nbig = 0, regions = 0;
    uint64_t lastp = UINT64_MAX, lastr = UINT64_MAX;
    uint64_t c0 = 0, cpages = 0, best0 = 0, bestend = 0, bestpages = 0;   /* clusters */
    if (s->n >= RG_SMALL) return;
    for (size_t i = 0; i < s->n; i++) {
        uint64_t f = s->b[i].addr >> PG_SHIFT, l = block_last_page(&s->b[i]);
        uint64_t fr = f >> (RG_SHIFT - PG_SHIFT), lr = l >> (RG_SHIFT - PG_SHIFT);
        if (lr - fr < RG_HUGE) {
            regions += lr - fr + 1 - (fr == lastr);
            lastr = lr;
        }
        if (l - f >= PG_SPAN) { nbig++; continue; }
        if (lastp == UINT64_MAX || f - lastp > DENSE_GAP) { c0 = f; cpages = 0; }
        cpages += l - f + 1 - (f == lastp);
        if (cpages > bestpages) { bestpages = cpages; best0 = c0; bestend = l + 1; }
        pages += l - f + 1 - (f == lastp);
        lastp = l;
    }
    uint64_t dn = bestpages && bestend - best0 <= DENSE_FILL * bestpages ? bestend - best0 : 0;
    unsigned bits = (unsigned)bits_for(pages - (dn ? bestpages : 0)), rbits = (unsigned)bits_for(regions);
    s->pg_bytes = ((size_t)1 << bits) * sizeof *s->pg + ((size_t)1 << rbits) * sizeof *s->rg +
                  dn * sizeof *s->dense + 2 * (nbig ? nbig : 1) * sizeof *s->big;
    s->pg = map_anon(s->pg_bytes);
    if (!s->pg) return;
    s->pg_bits = bits;
    s->rg_bits = rbits;
    s->rg = (struct rg *)(s->pg + ((size_t)1 << bits));
    s->dense = (struct dpg *)(s->rg + ((size_t)1 << rbits));
    s->dbase = best0;
    s->dn = dn;
    s->big = (uint32_t *)(s->dense + dn);
    s->huge = s->big + (nbig ? nbig : 1);
    lastp = UINT64_MAX;
    struct pg *last = NULL;             /* the entry of page lastp */
    for (size_t i = 0; i < s->n; i++) {
        uint64_t f = s->b[i].addr >> PG_SHIFT, l = block_last_page(&s->b[i]);
        uint64_t fr = f >> (RG_SHIFT - PG_SHIFT), lr = l >> (RG_SHIFT - PG_SHIFT);
        if (l - f >= PG_SPAN) {
            if (lr - fr >= RG_HUGE) {
                s->huge[s->nhuge++] = (uint32_t)i;
                continue;
            }
            /* big blocks are sorted and disjoint: those of a region are a run */
            uint32_t k = (uint32_t)s->nbig++;
            s->big[k] = (uint32_t)i;
            for (uint64_t r = fr; r <= lr; r++) {
                struct rg *e = rg_get(s, r);
                if (!(e->cnt & ~RG_SMALL)) e->first = k;
                e->cnt = (e->cnt & RG_SMALL) | (k - e->first + 1);
            }
            continue;
        }
        for (uint64_t r = fr; r <= lr; r++) rg_get(s, r)->cnt |= RG_SMALL;
        if (f - s->dbase < s->dn) {     /* (a cluster holds whole blocks) */
            for (uint64_t p = f; p <= l; p++) {
                struct dpg *d = &s->dense[p - s->dbase];
                if (!d->cnt) d->first = (uint32_t)i;
                d->cnt++;
            }
            continue;
        }
        uint64_t p = f;
        if (f == lastp) { last->cnt++; p++; }
        for (; p <= l; p++) last = pg_put(s, p, i);
        lastp = l;
    }
}

static inline int holds(const ms_live_block *bl, uint64_t a)
{
    return a == bl->addr || a - bl->addr < bl->size;
}

/* Index of the block containing a (start or interior), or -1. */
/* The block of blocks[lo, hi) (sorted) holding a, or -1. */
static inline long search_blocks(const struct scan *s, size_t lo, size_t hi, uint64_t a)
{
    size_t l = lo, e = hi;              /* first block above a */
    while (l < e) {
        size_t mid = (l + e) / 2;
        if (s->b[mid].addr <= a) l = mid + 1;
        else e = mid;
    }
    return l > lo && holds(&s->b[l - 1], a) ? (long)(l - 1) : -1;
}

/* The block holding a, or -1; -2 when no block lies in a's region at all
 * (so none holds another address of that region). */
static inline long find_block(const struct scan *s, uint64_t a)
{
    if (a < s->min_addr || a >= s->max_end)
        return -1;
    if (!s->pg)
        return search_blocks(s, 0, s->n, a);
    for (size_t i = 0; i < s->nhuge; i++)
        if (holds(&s->b[s->huge[i]], a)) return (long)s->huge[i];
    uint64_t pgno = a >> PG_SHIFT;
    int in_dense = pgno - s->dbase < s->dn;
    if (in_dense && s->dense[pgno - s->dbase].cnt) {
        const struct dpg *d = &s->dense[pgno - s->dbase];
        long j = search_blocks(s, d->first, (size_t)d->first + d->cnt, a);
        if (j >= 0) return j;
    }
    const struct rg *r = rg_find(s, a >> RG_SHIFT);
    if (!r)
        return s->nhuge ? -1 : -2;
    if ((r->cnt & RG_SMALL) && !in_dense) {
        uint64_t key = (a >> PG_SHIFT) + 1;
        size_t m = ((size_t)1 << s->pg_bits) - 1;
        for (size_t h = pg_slot(s, key - 1); s->pg[h].key; h = (h + 1) & m) {
            if (s->pg[h].key != key) continue;
            long j = search_blocks(s, s->pg[h].first, (size_t)s->pg[h].first + s->pg[h].cnt, a);
            if (j >= 0) return j;
            break;
        }
    }
    for (uint32_t k = r->first, e = r->first + (r->cnt & ~RG_SMALL); k < e; k++)
        if (holds(&s->b[s->big[k]], a)) return (long)s->big[k];
    return -1;
}

/* Index of the first block ending above a. */
static size_t first_block_after(const struct scan *s, uint64_t a)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->b[mid].addr + (s->b[mid].size ? s->b[mid].size : 1) <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* glibc malloc (x86-64/aarch64: 16-byte chunks, 8-byte size field): the
 * header of the chunk after block bl starts in bl's last 8 bytes when the
 * request used the next chunk's prev_size field. A word equal to that header
 * address is malloc's own pointer (top chunk, bins), not into bl. */
static inline int is_next_chunk(const ms_live_block *bl, uint64_t w)
{
#if defined(__GLIBC__) && UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
    uint64_t csz = (bl->size + 8 + 15) & ~(uint64_t)15;
    if (csz < 32)
        csz = 32;
    return w == bl->addr - 16 + csz;
#else
    (void)bl;
    (void)w;
    return 0;
#endif
}

static inline void push(struct scan *s, size_t i)
{
    s->work[s->nwork++] = i;
}

NO_SANITIZE static void scan_words(struct scan *s, uint64_t lo, uint64_t hi, int mode)
{
    lo = (lo + 7) & ~(uint64_t)7;
    long last = -1;                     /* the block the last hit fell in */
    uint64_t empty = UINT64_MAX;        /* a region find_block said is empty */
    for (uint64_t a = lo; a + 8 <= hi; a += 8) {
        uint64_t w = *(const volatile uint64_t *)(uintptr_t)a;
        if (w < s->min_addr || w >= s->max_end || w >> RG_SHIFT == empty)
            continue;
        long j = last;
        if (j < 0 || !holds(&s->b[j], w)) {
            if ((j = find_block(s, w)) < 0) {
                if (j == -2) empty = w >> RG_SHIFT;
                continue;
            }
            last = j;
        }
        ms_live_block *bl = &s->b[j];
        if (w != bl->addr && is_next_chunk(bl, w))
            continue;
        uint32_t st = bl->leak_class;
        int start = w == bl->addr;
        switch (mode) {
        case MODE_REACH:
            if (st == ST_REACH)
                break;
            if (start) {
                bl->leak_class = ST_REACH;
                push(s, (size_t)j);
            } else {
                bl->leak_class = st | ST_IHIT;
            }
            break;
        case MODE_POSS:
            if (st == ST_NONE || st == ST_IHIT) {
                bl->leak_class = ST_POSS;
                push(s, (size_t)j);
            }
            break;
        default: /* MODE_LOST */
            if ((size_t)j == s->leader)
                break;
            if (st == ST_NONE) {
                bl->leak_class = ST_IND;
                push(s, (size_t)j);
            } else if (st == ST_DEF) {
                bl->leak_class = ST_IND;    /* an earlier leader joins this group */
            }
            break;
        }
    }
}

/* A 64-byte-aligned word that points to itself, with the word 16 bytes on
 * pointing there too: a glibc tcb (x86-64 tcbhead_t: tcb, dtv, self). */
NO_SANITIZE static void find_tcb_words(struct scan *s, uint64_t lo, uint64_t hi, int mode)
{
    (void)mode;
    for (uint64_t a = (lo + 63) & ~(uint64_t)63; a + 24 <= hi; a += 64) {
        const volatile uint64_t *t = (const volatile uint64_t *)(uintptr_t)a;
        if (t[0] == a && t[2] == a && s->ntcb < MAX_TCBS)
            s->tcb[s->ntcb++] = a;
    }
}

typedef void (*words_fn)(struct scan *s, uint64_t lo, uint64_t hi, int mode);

/* fn over the pages of [lo, hi) (inside one readable mapping with flags)
 * that may hold data: a private mapping's pages that are neither present
 * nor swapped out were never written and read as zeros (or as the file's
 * unrelocated bytes), so big ranges are filtered through /proc/self/pagemap. */
static void scan_resident(struct scan *s, uint64_t lo, uint64_t hi, uint32_t flags,
                          int mode, words_fn fn)
{
    if (hi - lo < PM_MIN || (flags & MR_SHARED) || s->pagemap < 0) {
        fn(s, lo, hi, mode);
        return;
    }
    uint64_t pg = s->page;
    uint64_t first = lo / pg, last = (hi + pg - 1) / pg;
    uint64_t run = 0;                   /* start of the pending run, 0 = none */
    for (uint64_t p = first; p < last;) {
        size_t k = last - p < PM_BATCH ? (size_t)(last - p) : PM_BATCH;
        ssize_t r = pread(s->pagemap, s->pm, k * 8, (off_t)(p * 8));
        if (r < 8) {                    /* no pagemap: scan the rest */
            fn(s, run ? run : (p * pg > lo ? p * pg : lo), hi, mode);
            return;
        }
        k = (size_t)r / 8;
        for (size_t i = 0; i < k; i++) {
            uint64_t pa = (p + i) * pg;
            int data = (s->pm[i] >> 62) != 0;     /* bit 63 present, 62 swapped */
            if (data && !run)
                run = pa > lo ? pa : lo;
            else if (!data && run) {
                fn(s, run, pa, mode);
                run = 0;
            }
        }
        p += k;
    }
    if (run)
        fn(s, run, hi, mode);
}

/* Scan the readable parts of [lo, hi) (a block's bytes). */
static void scan_readable(struct scan *s, uint64_t lo, uint64_t hi, int mode)
{
    while (lo < hi) {
        long m = find_map(s, lo);
        if (m < 0) {
            /* skip to the next mapping */
            size_t a = 0, b = s->nmaps;
            while (a < b) {
                size_t mid = (a + b) / 2;
                if (s->maps[mid].lo <= lo) a = mid + 1; else b = mid;
            }
            if (a >= s->nmaps)
                return;
            lo = s->maps[a].lo;
            continue;
        }
        uint64_t end = s->maps[m].hi < hi ? s->maps[m].hi : hi;
        if (s->maps[m].flags & MR_READ)
            scan_resident(s, lo, end, s->maps[m].flags, mode, scan_words);
        lo = end;
    }
}

static void drain(struct scan *s, int mode)
{
    while (s->nwork) {
        const ms_live_block *bl = &s->b[s->work[--s->nwork]];
        scan_readable(s, bl->addr, bl->addr + bl->size, mode);
    }
}

/* ---- exclusions: memory that is not a root ------------------------------ */

static void add_ex(struct scan *s, uint64_t lo, uint64_t hi)
{
    if (lo < hi && s->nex < s->excap) {
        s->ex[s->nex].lo = lo;
        s->ex[s->nex].hi = hi;
        s->nex++;
    }
}

static void sift(struct span *v, size_t k, size_t n)
{
    for (;;) {
        size_t l = 2 * k + 1, m = k;
        if (l < n && v[l].lo > v[m].lo) m = l;
        if (l + 1 < n && v[l + 1].lo > v[m].lo) m = l + 1;
        if (m == k) return;
        struct span t = v[k]; v[k] = v[m]; v[m] = t;
        k = m;
    }
}

/* Sort by start (heapsort: no malloc) and merge overlapping spans. */
static void merge_ex(struct scan *s)
{
    struct span *v = s->ex;
    size_t n = s->nex;
    for (size_t i = n / 2; i-- > 0;)
        sift(v, i, n);
    for (size_t end = n; end-- > 1;) {
        struct span t = v[0]; v[0] = v[end]; v[end] = t;
        sift(v, 0, end);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && v[i].lo <= v[k - 1].hi) {
            if (v[i].hi > v[k - 1].hi)
                v[k - 1].hi = v[i].hi;
        } else {
            v[k++] = v[i];
        }
    }
    s->nex = k;
}

/* Index of the first (merged) exclusion ending above a. */
static size_t first_ex_after(const struct scan *s, uint64_t a)
{
    size_t lo = 0, hi = s->nex;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->ex[mid].hi <= a) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static int excluded(const struct scan *s, uint64_t a)
{
    size_t i = first_ex_after(s, a);
    return i < s->nex && s->ex[i].lo <= a;
}

/* fn over the parts of mapping m outside the exclusions and outside every
 * live block's bytes (blocks are scanned as blocks, when reached). */
static void for_root_parts(struct scan *s, const struct mrange *m, int mode, words_fn fn)
{
    uint64_t lo = m->lo;
    size_t e = first_ex_after(s, lo), b = first_block_after(s, lo);
    while (lo < m->hi) {
        uint64_t hi = m->hi;
        if (e < s->nex && s->ex[e].lo <= lo) {
            lo = s->ex[e++].hi;
            continue;
        }
        if (b < s->n && s->b[b].addr <= lo) {
            lo = s->b[b].addr + (s->b[b].size ? s->b[b].size : 1);
            b++;
            continue;
        }
        if (e < s->nex && s->ex[e].lo < hi)
            hi = s->ex[e].lo;
        if (b < s->n && s->b[b].addr < hi)
            hi = s->b[b].addr;
        scan_resident(s, lo, hi, m->flags, mode, fn);
        lo = hi;
    }
}

static int is_root_map(const struct mrange *m)
{
    return (m->flags & (MR_READ | MR_WRITE)) == (MR_READ | MR_WRITE);
}

/* glibc's non-main arena heaps: a heap_info header at a 64 MiB-aligned
 * start (ar_ptr, prev, size, mprotect_size; the first heap of an arena
 * holds its malloc_state right after the header). The whole reservation is
 * malloc's: live blocks, free chunks with stale words, tcaches. */
NO_SANITIZE static void find_heaps(struct scan *s)
{
#if defined(__GLIBC__) && UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
    for (size_t i = 0; i < s->nmaps; i++) {
        const struct mrange *m = &s->maps[i];
        if ((m->flags & (MR_READ | MR_WRITE | MR_ANON | MR_SHARED)) != (MR_READ | MR_WRITE | MR_ANON))
            continue;
        for (uint64_t a = (m->lo + HEAP_MAX - 1) & ~(HEAP_MAX - 1); a + 64 <= m->hi; a += HEAP_MAX) {
            if (excluded(s, a))
                continue;
            const uint64_t *h = (const uint64_t *)(uintptr_t)a;
            uint64_t ar = h[0], prev = h[1], size = h[2], mprot = h[3];
            if (!size || (size & 4095) || size > HEAP_MAX || mprot < size || mprot > HEAP_MAX ||
                (mprot & 4095) || !ar)
                continue;
            if (prev ? (prev & (HEAP_MAX - 1)) != 0 : !(ar > a && ar < a + 256))
                continue;
            add_ex(s, a, a + HEAP_MAX);
        }
    }
#else
    (void)s;
#endif
}

/* Blocks glibc served with mmap (IS_MMAPPED in the chunk's size field):
 * their mapping [chunk - prev_size, chunk + size) is the block, not a root. */
NO_SANITIZE static void find_mmapped_blocks(struct scan *s)
{
#if defined(__GLIBC__) && UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
    long m = -1;
    for (size_t i = 0; i < s->n; i++) {
        uint64_t a = s->b[i].addr;
        if (a < 16)
            continue;
        if (m < 0 || a - 16 < s->maps[m].lo || a > s->maps[m].hi)
            m = find_map(s, a - 16);
        if (m < 0 || !(s->maps[m].flags & MR_READ) || (s->maps[m].flags & MR_HEAP) ||
            a > s->maps[m].hi)
            continue;
        const uint64_t *c = (const uint64_t *)(uintptr_t)(a - 16);
        uint64_t sz = c[1];
        if (!(sz & 2))
            continue;
        uint64_t lo = a - 16 - c[0], hi = a - 16 + (sz & ~(uint64_t)7);
        if (c[0] > a - 16 || ((lo | hi) & (s->page - 1)) || hi < a + s->b[i].size ||
            lo < s->maps[m].lo || hi > s->maps[m].hi)
            continue;
        add_ex(s, lo, hi);
    }
#else
    (void)s;
#endif
}

/* ---- threads: TLS, tcbs, stacks --------------------------------------- */

/* Lowest static TLS block of the thread whose thread pointer is tp, read
 * from its DTV (glibc x86-64: tcbhead_t.dtv at tp + 8; dtv[-1] holds the
 * length, entries are {val, to_free}); 0 when it cannot be read. */
NO_SANITIZE static uint64_t static_tls_low(const struct scan *s, uint64_t tp)
{
#if defined(__x86_64__) && defined(__GLIBC__)
    if (!readable(s, tp + 8, 8))
        return 0;
    uint64_t dtv = *(const uint64_t *)(uintptr_t)(tp + 8);
    if (dtv < 16 || !readable(s, dtv - 16, 16))
        return 0;
    uint64_t len = *(const uint64_t *)(uintptr_t)(dtv - 16);
    if (len > 65536)
        return 0;
    uint64_t low = tp;
    for (uint64_t i = 1; i <= len; i++) {
        uint64_t e = dtv + 16 * i;
        if (!readable(s, e, 8))
            break;
        uint64_t val = *(const uint64_t *)(uintptr_t)e;
        if (val < low && tp - val < (16u << 20))
            low = val;
    }
    return low < tp ? low : 0;
#else
    (void)s;
    (void)tp;
    return 0;
#endif
}

static void mark_libc(struct scan *s, uint64_t addr)
{
    long j = find_block(s, addr);
    if (j >= 0 && s->b[j].addr == addr)
        s->lib[j] = 1;
}

/* tp is a glibc tcb when tcb->tcb == tp and tcb->self == tp (x86-64
 * tcbhead_t: tcb, dtv, self). Its DTV was calloc'd with a 16-byte header
 * (dtv[-1] holds the length) and each entry {val, to_free} names a dynamic
 * TLS block malloc'd by libc. Returns 1 for a tcb. */
NO_SANITIZE static int note_tcb(struct scan *s, uint64_t tp)
{
#if defined(__x86_64__) && defined(__GLIBC__)
    if (!tp || (tp & 7) || !readable(s, tp, 24))
        return 0;
    const uint64_t *t = (const uint64_t *)(uintptr_t)tp;
    if (t[0] != tp || t[2] != tp)
        return 0;
    uint64_t dtv = t[1];
    if (dtv < 16 || !readable(s, dtv - 16, 16))
        return 1;
    mark_libc(s, dtv - 16);
    uint64_t len = *(const uint64_t *)(uintptr_t)(dtv - 16);
    if (len > 4096)
        return 1;
    for (uint64_t i = 1; i <= len; i++) {
        uint64_t e = dtv + 16 * i;
        if (!readable(s, e, 16))
            break;
        uint64_t to_free = *(const uint64_t *)(uintptr_t)(e + 8);
        if (to_free)
            mark_libc(s, to_free);
    }
    return 1;
#else
    (void)s;
    (void)tp;
    return 0;
#endif
}

/* This DSO's static TLS block in the thread whose thread pointer is tp. */
static void exclude_own_tls(struct scan *s, uint64_t tp)
{
    if (s->own_tls_size && tp > s->own_tls_off)
        add_ex(s, tp - s->own_tls_off, tp - s->own_tls_off + s->own_tls_size);
}

/* A live thread's stack: not a root below from (its SP, or where the
 * recorder was entered). */
static void live_stack(struct scan *s, uint64_t sp, uint64_t from)
{
    long m = sp ? find_map(s, sp) : -1;
    if (m < 0)
        return;
    if (from < s->maps[m].lo || from > s->maps[m].hi)
        from = sp;
    add_ex(s, s->maps[m].lo, from);
    if (s->nlive < MAX_SLOTS + 1)
        s->live_sp[s->nlive++] = sp;
}

static int is_live_tp(const struct scan *s, uint64_t tp)
{
    if (tp == s->self_tp)
        return 1;
    size_t ns = atomic_load(&s->nslots);
    for (size_t i = 0; i < ns; i++)
        if (atomic_load(&s->slots[i].state) == SLOT_STOPPED && s->slots[i].tp == tp)
            return 1;
    return 0;
}

/* The tcbs found in anonymous memory that belong to no live thread: an
 * exited thread's stack kept by glibc for reuse (struct pthread at the top
 * of the stack block, a PROT_NONE guard below it) keeps only its static TLS
 * and struct pthread as roots; an ignored thread's stack block is no root. */
static void dead_stacks(struct scan *s)
{
    for (size_t i = 0; i < s->ntcb; i++) {
        uint64_t tp = s->tcb[i];
        note_tcb(s, tp);
        exclude_own_tls(s, tp);
        long m = find_map(s, tp);
        if (m < 0)
            continue;
        const struct mrange *r = &s->maps[m];
        if (is_ignored_tp(tp)) {
            uint64_t top = (tp + s->page) & ~(s->page - 1);
            add_ex(s, r->lo, top < r->hi ? top : r->hi);
            continue;
        }
        if (is_live_tp(s, tp))
            continue;
        int live = 0;
        for (size_t k = 0; k < s->nlive && !live; k++)
            live = s->live_sp[k] >= r->lo && s->live_sp[k] < tp;
        int guard = m > 0 && s->maps[m - 1].hi == r->lo && !(s->maps[m - 1].flags & MR_READ);
        if (live || !guard)
            continue;
        uint64_t low = static_tls_low(s, tp);
        if (!low)
            low = tp - (s->tls_static + 2048 < tp - r->lo ? s->tls_static + 2048 : tp - r->lo);
        add_ex(s, r->lo, low);
    }
}

/* SP of a thread blocked in a system call, from /proc/self/task/TID/syscall. */
static uint64_t syscall_sp(struct scan *s, int tid)
{
    int fd = open(task_path(s, tid, "syscall"), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[512];
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0)
        return 0;
    buf[r] = 0;
    if (buf[0] < '0' || buf[0] > '9')
        return 0;                       /* "running" or "-1 ..." */
    /* nr a1..a6 sp pc */
    const char *q = buf;
    for (int f = 0; f < 7; f++) {
        while (*q && *q != ' ')
            q++;
        while (*q == ' ')
            q++;
    }
    if (q[0] != '0' || q[1] != 'x')
        return 0;
    q += 2;
    return hexnum(&q, buf + r);
}

/* ---- this DSO ----------------------------------------------------------- */

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct scan *s = arg;
    (void)size;
    int self = 0;
    if (info->dlpi_name && info->dlpi_name[0]) {
        uint64_t me = (uint64_t)(uintptr_t)&phdr_cb;
        for (int i = 0; i < info->dlpi_phnum; i++) {
            const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
            if (ph->p_type == PT_LOAD && me >= info->dlpi_addr + ph->p_vaddr &&
                me < info->dlpi_addr + ph->p_vaddr + ph->p_memsz)
                self = 1;
        }
    }
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_TLS)
            s->tls_static += info->dlpi_phdr[i].p_memsz + info->dlpi_phdr[i].p_align;
    if (!self)
        return 0;
    /* Our static TLS block sits at the same offset from every thread's tp
     * (x86-64: below it); dlpi_tls_data is the calling thread's. */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_TLS && info->dlpi_tls_data &&
            s->self_tp > (uint64_t)(uintptr_t)info->dlpi_tls_data &&
            s->self_tp - (uint64_t)(uintptr_t)info->dlpi_tls_data < (16u << 20)) {
            s->own_tls_off = s->self_tp - (uint64_t)(uintptr_t)info->dlpi_tls_data;
            s->own_tls_size = ph->p_memsz;
        }
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && s->nownseg < MAX_OWNSEG) {
            uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
            s->ownseg[s->nownseg].lo = lo & ~(s->page - 1);
            s->ownseg[s->nownseg].hi = (hi + s->page - 1) & ~(s->page - 1);
            s->nownseg++;
        }
    }
    return 0;
}

/* ---- main -------------------------------------------------------------- */

static size_t ex_cap(size_t n, size_t nexclude)
{
    return nexclude + n + 2 * MAX_TCBS + MAX_SLOTS + ALLOC_MAPS + 64;
}

static int prepare(struct scan *s, ms_live_block *blocks, size_t n,
                   const uint64_t *exclude, size_t nexclude)
{
    s->b = blocks;
    s->n = n;
    s->pid = getpid();
    s->self_tid = (int)syscall(SYS_gettid);
    s->page = (uint64_t)sysconf(_SC_PAGESIZE);
    s->pagemap = -1;
    s->lib = map_anon(n ? n : 1);
    s->work = map_anon((n ? n : 1) * sizeof(size_t));
    s->slots = map_anon(MAX_SLOTS * sizeof(struct slot));
    s->excap = ex_cap(n, nexclude);
    s->ex = map_anon(s->excap * sizeof *s->ex);
    if (!s->lib || !s->work || !s->slots || !s->ex)
        return MS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        s->lib[i] = blocks[i].leak_class == MS_LEAK_LIBC;
        blocks[i].leak_class = ST_NONE;
        if (i && blocks[i].addr <= blocks[i - 1].addr)
            return MS_EINVAL;
        uint64_t e = blocks[i].addr + (blocks[i].size ? blocks[i].size : 1);
        if (e > s->max_end)
            s->max_end = e;
    }
    s->min_addr = n ? blocks[0].addr : 0;
    pg_build(s);
    for (size_t i = 0; i < nexclude; i++)
        add_ex(s, exclude[2 * i], exclude[2 * i + 1]);
    return 0;
}

/* 1 when the stopped thread was interrupted right after a syscall
 * instruction (blocked in a system call). Its red zone then holds only
 * stale words of earlier calls (a pointer just handed to a callee), so it
 * is not scanned; a thread stopped in user code keeps it (a leaf function
 * may hold live data there). */
NO_SANITIZE static int in_syscall(const struct scan *s, const struct slot *sl)
{
#if defined(__x86_64__)
    uint64_t pc;
    memcpy(&pc, sl->regs + offsetof(ucontext_t, uc_mcontext.gregs) + REG_RIP * sizeof(greg_t),
           sizeof pc);
    if (pc < 2 || !readable(s, pc - 2, 2))
        return 0;
    const unsigned char *c = (const unsigned char *)(uintptr_t)(pc - 2);
    return c[0] == 0x0f && c[1] == 0x05;
#else
    (void)s;
    (void)sl;
    return 0;
#endif
}

/* Where to start scanning the calling thread's stack: the frame where the
 * recorder was entered, when it lies above sp in the same mapping. */
static uint64_t self_scan_sp(const struct scan *s)
{
    uint64_t e = atomic_load(&g_entry_frame);
    long m = find_map(s, s->self_sp);
    if (e > s->self_sp && m >= 0 && e < s->maps[m].hi && e - s->self_sp < (8u << 20))
        return e;
    return s->self_sp;
}

static _Atomic int leak_sampled;
void msr_leak_set_sampled(int on) { atomic_store(&leak_sampled, on); }

/* The root set: see the header (and msr_leak_set_sampled). */
static void exclude_non_roots(struct scan *s, const ms_live_block *blocks)
{
    uint64_t sb = (uint64_t)(uintptr_t)s;
    add_ex(s, sb, sb + sizeof *s);
    add_ex(s, (uint64_t)(uintptr_t)s->maps, (uint64_t)(uintptr_t)(s->maps + s->mapcap));
    add_ex(s, (uint64_t)(uintptr_t)s->work, (uint64_t)(uintptr_t)(s->work + (s->n ? s->n : 1)));
    add_ex(s, (uint64_t)(uintptr_t)s->lib, (uint64_t)(uintptr_t)(s->lib + (s->n ? s->n : 1)));
    add_ex(s, (uint64_t)(uintptr_t)s->slots, (uint64_t)(uintptr_t)(s->slots + MAX_SLOTS));
    add_ex(s, (uint64_t)(uintptr_t)s->ex, (uint64_t)(uintptr_t)(s->ex + s->excap));
    if (s->pg)
        add_ex(s, (uint64_t)(uintptr_t)s->pg, (uint64_t)(uintptr_t)s->pg + s->pg_bytes);
    add_ex(s, (uint64_t)(uintptr_t)blocks, (uint64_t)(uintptr_t)(blocks + s->n));
    for (size_t i = 0; i < s->nownseg; i++)
        add_ex(s, s->ownseg[i].lo, s->ownseg[i].hi);
    int sampled = atomic_load(&leak_sampled);
    /* another allocator's own mappings (jemalloc's extents and metadata):
     * its heap, like glibc's below */
    if (msr_next_mappings && !sampled) {
        size_t k = msr_next_mappings(s->amaps, ALLOC_MAPS);
        for (size_t i = 0; i < k; i++)
            add_ex(s, s->amaps[2 * i], s->amaps[2 * i + 1]);
    }
    for (size_t i = 0; i < s->nmaps && !sampled; i++)
        if (s->maps[i].flags & MR_HEAP)
            add_ex(s, s->maps[i].lo, s->maps[i].hi);
    find_mmapped_blocks(s);
    merge_ex(s);
    if (!sampled)
        find_heaps(s);
    merge_ex(s);

    /* thread stacks and TLS */
    for (size_t i = 0; i < s->nmaps; i++) {
        const struct mrange *m = &s->maps[i];
        if ((m->flags & (MR_ANON | MR_SHARED)) == MR_ANON && is_root_map(m) && m->hi - m->lo >= 16384)
            for_root_parts(s, m, 0, find_tcb_words);
    }
    live_stack(s, s->self_sp, self_scan_sp(s));
    exclude_own_tls(s, s->self_tp);
    note_tcb(s, s->self_tp);
    size_t ns = atomic_load(&s->nslots);
    for (size_t i = 0; i < ns; i++) {
        struct slot *sl = &s->slots[i];
        int st = atomic_load(&sl->state);
        if (st == SLOT_STOPPED) {
            uint64_t from = sl->sp - (in_syscall(s, sl) ? 0 : RED_ZONE);
            live_stack(s, sl->sp, from);
            exclude_own_tls(s, sl->tp);
            note_tcb(s, sl->tp);
        } else if (st == SLOT_SIGNALED || st == SLOT_BLOCKED) {
            uint64_t sp = syscall_sp(s, sl->tid);
            live_stack(s, sp, sp - RED_ZONE);
        }
    }
    dead_stacks(s);
    /* a [stack] no live thread runs on (main exited with pthread_exit) */
    for (size_t i = 0; i < s->nmaps; i++) {
        if (!(s->maps[i].flags & MR_STACK))
            continue;
        int live = 0;
        for (size_t k = 0; k < s->nlive && !live; k++)
            live = s->live_sp[k] >= s->maps[i].lo && s->live_sp[k] < s->maps[i].hi;
        if (!live)
            add_ex(s, s->maps[i].lo, s->maps[i].hi);
    }
    merge_ex(s);
}

static void scan_all(struct scan *s, const ms_live_block *blocks)
{
    s->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    exclude_non_roots(s, blocks);
    for (size_t i = 0; i < s->nmaps; i++)
        if (is_root_map(&s->maps[i]))
            for_root_parts(s, &s->maps[i], MODE_REACH, scan_words);
    scan_words(s, (uint64_t)(uintptr_t)&s->self_uc,
               (uint64_t)(uintptr_t)&s->self_uc + offsetof(ucontext_t, uc_sigmask), MODE_REACH);
    size_t ns = atomic_load(&s->nslots);
    for (size_t i = 0; i < ns; i++) {
        struct slot *sl = &s->slots[i];
        if (atomic_load(&sl->state) == SLOT_STOPPED)
            scan_words(s, (uint64_t)(uintptr_t)sl->regs,
                       (uint64_t)(uintptr_t)sl->regs + sizeof sl->regs, MODE_REACH);
    }
    /* runtime-internal blocks: roots for what they point to */
    for (size_t j = 0; j < s->n; j++)
        if (s->lib[j] && s->b[j].leak_class != ST_REACH) {
            s->b[j].leak_class = ST_REACH;
            push(s, j);
        }
    drain(s, MODE_REACH);

    for (size_t i = 0; i < s->n; i++)
        if (s->b[i].leak_class == ST_IHIT) {
            s->b[i].leak_class = ST_POSS;
            push(s, i);
        }
    drain(s, MODE_POSS);

    for (size_t i = 0; i < s->n; i++)
        if (s->b[i].leak_class == ST_NONE) {
            s->b[i].leak_class = ST_DEF;
            s->leader = i;
            push(s, i);
            drain(s, MODE_LOST);
        }
    for (size_t j = 0; j < s->n; j++)
        if (s->lib[j])
            s->b[j].leak_class = MS_LEAK_LIBC;
    if (s->pagemap >= 0)
        close(s->pagemap);
    s->pagemap = -1;
}

int msr_leak_classify(ms_live_block *blocks, size_t n,
                      const uint64_t *exclude, size_t nexclude)
{
    if (!blocks && n)
        return MS_EINVAL;
    struct scan *s = map_anon(sizeof *s);
    if (!s)
        return MS_ENOMEM;
    getcontext(&s->self_uc);
    s->self_sp = ctx_sp(&s->self_uc);
    if (!s->self_sp)
        s->self_sp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
    s->self_tp = (uint64_t)pthread_self();

    int rc = prepare(s, blocks, n, exclude, nexclude);
    int keep_scratch = 0;
    if (rc == 0 && n) {
        dl_iterate_phdr(phdr_cb, s);    /* before stopping: takes the loader lock */
        int sig = install_handler();
        if (sig) {
            atomic_store(&g_scan, s);
            stop_threads(s, sig);
        }
        rc = read_maps(s);
        if (rc == 0)
            scan_all(s, blocks);
        if (sig)
            keep_scratch = !release_threads(s);
        if (rc != 0)
            for (size_t i = 0; i < n; i++)
                blocks[i].leak_class = MS_LEAK_UNKNOWN;
    } else if (rc != 0) {
        for (size_t i = 0; i < n; i++)
            blocks[i].leak_class = MS_LEAK_UNKNOWN;
    }
    if (s->ex)
        munmap(s->ex, s->excap * sizeof *s->ex);
    if (s->work)
        munmap(s->work, (n ? n : 1) * sizeof(size_t));
    if (s->pg)
        munmap(s->pg, s->pg_bytes);
    if (s->lib)
        munmap(s->lib, n ? n : 1);
    if (s->maps)
        munmap(s->maps, s->mapcap * sizeof(struct mrange));
    if (!keep_scratch) {
        if (s->slots)
            munmap(s->slots, MAX_SLOTS * sizeof(struct slot));
        munmap(s, sizeof *s);
    }
    return rc;
}
