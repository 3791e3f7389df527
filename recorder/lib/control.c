/*
 * control.c — lifecycle of libmemscope: start, settings, clock, META,
 * signals, fork, _exit, dlclose, reports at exit and the link-in API.
 *
 * The constructor decides whether this process records (MEMSCOPE_AUTO_EXPORT
 * =1 and not an exec'd descendant of a recorded process) or waits dormant
 * for `msrec attach` (MEMSCOPE_CONTROL=1: ctlsock.c, session.c), reads the
 * settings, creates the output file (never clobbering, never following a
 * symlink), installs handlers for the fatal signals, registers fork handlers
 * and an on_exit handler (registered from a preload constructor it runs
 * after every other exit handler and destructor, and it gets the exit
 * status), and starts the writer thread. Fatal signals: the app's own
 * handlers are remembered (sigaction/signal are interposed) and still run;
 * when the effective action is the default one, the trace is finished (raw,
 * no compression, no malloc) and the signal is re-raised with SIG_DFL so the
 * exit status and core dump are unchanged.
 */
#include "recorder_internal.h"
#include "inspect.h"
#include "exec_internal.h"
#include "fdguard.h"
#include "nextalloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cpuid.h>
#include <linux/membarrier.h>
#include <linux/perf_event.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

struct msr_settings msr_cfg;
uint64_t msr_proc_start_ns;
int msr_ctl_enabled;
int msr_stacks_ready;
int msr_use_tsc;
uint64_t msr_tsc0, msr_mono0_ns, msr_wall0_ns;
unsigned msr_tick_shift;
pid_t msr_pid;

extern char **environ;
extern int __sigaction(int, const struct sigaction *, struct sigaction *);

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */
/* The stderr the process started with (device and inode of fd 2, read at
 * the first of msr_early_init and msr_say): a line goes out only while fd
 * 2 is still that file. A program that closes its stderr and opens a file
 * (which gets fd 2) had "memscope: wrote ..." appended to that file. */
static int err_state;                 /* 0 not read yet, 1 known, -1 closed */
static dev_t err_dev;
static ino_t err_ino;

static void stderr_remember(void)
{
    struct stat st;
    int saved = errno;
    /* under msrec run: msrec's stderr (MEMSCOPE_STDERR=dev:ino), so a
     * descendant whose fd 2 is a file of its own (`cc -c t.c 2>err`) and
     * an image the command exec'd with its stderr redirected stay silent */
    const char *id = secure_getenv("MEMSCOPE_STDERR");
    unsigned long long d, i;
    if (id && sscanf(id, "%llu:%llu", &d, &i) == 2) {
        err_dev = (dev_t)d;
        err_ino = (ino_t)i;
        err_state = 1;
    } else if (fstat(2, &st) == 0) {
        err_dev = st.st_dev;
        err_ino = st.st_ino;
        err_state = 1;
    } else {
        err_state = -1;
    }
    errno = saved;
}

static int stderr_same(void)
{
    if (!err_state) stderr_remember();
    if (err_state < 0) return 0;
    struct stat st;
    int saved = errno;
    int same = fstat(2, &st) == 0 && st.st_dev == err_dev && st.st_ino == err_ino;
    errno = saved;
    return same;
}

void msr_say(const char *a, const char *b, const char *c)
{
    if (msr_cfg.quiet > 1) return;   /* an attached session: msrec reports */
    if (!stderr_same()) return;
    char buf[2300];
    size_t n = 0;
    const char *parts[] = {"memscope: ", a, b, c, "\n"};
    for (size_t i = 0; i < 5; i++) {
        size_t l = strlen(parts[i]);
        if (n + l >= sizeof buf) l = sizeof buf - 1 - n;
        memcpy(buf + n, parts[i], l);
        n += l;
    }
    ssize_t r = write(2, buf, n);
    (void)r;
}

static void bad_value(const char *name, const char *val)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s=%.200s, using default", name, val);
    msr_say("bad ", tmp, "");
}

/* ------------------------------------------------------------------------ */
/* Clock                                                                    */
/* ------------------------------------------------------------------------ */
uint64_t msr_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* lfence; rdtsc, not rdtscp: some CPUs (and VMs) have an invariant TSC
 * but no rdtscp */
static inline uint64_t rdtsc_abs(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every
 * P- and C-state (and the kernel keeps it in step across CPUs) */
static int invariant_tsc(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007) return 0;
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d)) return 0;
    return (d >> 8) & 1;
}

static uint64_t clock_hz_cached;

/* a TSC read and the CLOCK_MONOTONIC time it was taken at (the middle of
 * the tightest of 5 bracketing pairs of clock reads); *width: that pair's
 * span, twice the most the time can be off */
static uint64_t tsc_at(uint64_t *mono, uint64_t *width)
{
    uint64_t a = 0, t = 0, b = UINT64_MAX / 2;
    for (int i = 0; i < 5; i++) {
        uint64_t a1 = msr_mono_ns();
        uint64_t t1 = rdtsc_abs();
        uint64_t b1 = msr_mono_ns();
        if (b1 - a1 < b - a) a = a1, t = t1, b = b1;
    }
    *mono = a + (b - a) / 2;
    *width = b - a;
    return t;
}

static uint64_t zero_width;       /* clock_zero's bracket (msr_clock_hz) */

static void clock_zero(void)
{
    atomic_store_explicit(&msr_clk.floor, 0, memory_order_relaxed);
    atomic_store_explicit(&msr_clk.pub, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&msr_clk.gen, 1, memory_order_relaxed);
    uint64_t m;
    msr_tsc0 = msr_use_tsc ? tsc_at(&m, &zero_width) : 0;
    if (!msr_use_tsc) m = msr_mono_ns();
    uint64_t w = wall_ns();
    uint64_t c = msr_mono_ns();
    msr_mono0_ns = m;
    msr_wall0_ns = w - (c - msr_mono0_ns);
}

void msr_clock_restart(void) { clock_zero(); }

/* ---- reused readings (spec 8.2) ----
 * A thread allocating in a burst takes its last reading for its next 3
 * events while the kernel says it ran on undisturbed: its rseq area's
 * rseq_cs word (glibc registers the area: __rseq_offset/__rseq_size since
 * 2.35) is pointed at msr_rseq_mark at the reading, and the kernel clears
 * the word whenever it preempts or deschedules the thread or delivers a
 * signal outside the descriptor's range. The range is empty (nothing ever
 * aborts), the abort address sits after the rseq signature the kernel
 * checks (glibc registers RSEQ_SIG), and the descriptor is in the
 * library's own read-only data (libmemscope is never unloaded). */
__asm__(".pushsection .data.rel.ro, \"aw\"\n"
        ".balign 32\n"
        ".globl msr_rseq_mark\n"
        ".hidden msr_rseq_mark\n"
        "msr_rseq_mark:\n"
        ".long 0, 0\n"                      /* version, flags             */
        ".quad msr_rseq_abort\n"            /* start_ip                   */
        ".quad 0\n"                         /* post_commit_offset: empty  */
        ".quad msr_rseq_abort\n"            /* abort_ip                   */
        ".long 0x53053053\n"                /* RSEQ_SIG (x86)             */
        "msr_rseq_abort:\n"
        ".long 0\n"
        ".popsection\n");
extern const long __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));
struct msr_clk_shared msr_clk;
unsigned msr_clk_reuse;
_Atomic int msr_clk_multi;
uint64_t msr_clk_burst;
long msr_rseq_off;
int msr_clk_check;

static void clock_reuse_init(void)
{
    unsigned k = 3;
    const char *v = secure_getenv("MEMSCOPE_CLOCK_REUSE");
    if (v && *v) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (*end || n > 8) bad_value("MEMSCOPE_CLOCK_REUSE", v);
        else k = (unsigned)n;
    }
    /* glibc's registration: both symbols and a size covering rseq_cs */
    if (!&__rseq_offset || !&__rseq_size || __rseq_size < 16) k = 0;
    msr_rseq_off = k ? __rseq_offset : 0;
    msr_clk_reuse = k;
    /* 20 us in ticks: the TSC's rate is not calibrated yet; 4 GHz is an
     * upper bound for it (a slower TSC makes the window longer, <= 80 us
     * at 1 GHz); CLOCK_MONOTONIC ticks are 2^shift ns */
    msr_clk_burst = msr_use_tsc ? (20000ull * 4) >> msr_tick_shift : 20000ull >> msr_tick_shift;
    const char *d = secure_getenv("MEMSCOPE_CLOCK_CHECK");
    msr_clk_check = k && d && *d == '1';
}

static uint64_t kernel_tsc_hz(void);
static uint64_t kernel_hz;            /* kernel_tsc_hz() at start, 0: none */

void msr_clock_init(void)
{
    const char *v = secure_getenv("MEMSCOPE_CLOCK");
    /* TSC whenever it is invariant, whatever the kernel's clocksource: a
     * read costs ~8 ns against ~30 ns for a vDSO clock_gettime on
     * kvm-clock (measured on cc1 -O2, 2.3 M events: 2 % of its cycles);
     * calibrated against CLOCK_MONOTONIC (msr_clock_hz) */
    int tsc = invariant_tsc();
    if (v && *v) {
        if (!strcmp(v, "tsc")) tsc = 1;
        else if (!strcmp(v, "mono")) tsc = 0;
        else bad_value("MEMSCOPE_CLOCK", v);
    }
    msr_use_tsc = tsc;
    /* the kernel's calibration now, while the program runs no thread of its
     * own: its perf event descriptor, opened later by the writer thread,
     * took a low number a program's open() on another thread expected */
    if (tsc) kernel_hz = kernel_tsc_hz();
    /* default tick: TSC/1024 (~0.4 us at 2.6 GHz) or 512 ns: exact enough
     * for lifetimes and for the order of cross-thread events on one address
     * (ties: spec 8.3). MEMSCOPE_TICK_SHIFT=17 (~50 us) halves some real
     * traces (bench/tracesize.sh) but makes most cross-thread events tie,
     * which the readers' tie rule cannot always order (spec 8.3) */
    msr_tick_shift = tsc ? 10 : 9;
    const char *sh = secure_getenv("MEMSCOPE_TICK_SHIFT");
    if (sh && *sh) msr_tick_shift = (unsigned)atoi(sh) & 31;
    clock_reuse_init();
    clock_zero();
}

/* The kernel's own TSC calibration, from a perf event's user page
 * (time_mult/time_shift convert TSC to ns). 0 when unavailable. */
static uint64_t kernel_tsc_hz(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.type = PERF_TYPE_SOFTWARE;
    a.size = sizeof a;
    a.config = PERF_COUNT_SW_DUMMY;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) return 0;
    long pg = sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, fd, 0);
    uint64_t hz = 0;
    if (p != MAP_FAILED) {
        const struct perf_event_mmap_page *m = p;
        if (m->cap_user_time && m->time_mult)
            hz = (uint64_t)(((unsigned __int128)1000000000u << m->time_shift) / m->time_mult);
        munmap(p, (size_t)pg);
    }
    close(fd);
    return hz;
}

uint64_t msr_clock_hz(void)
{
    if (clock_hz_cached) return clock_hz_cached;
    if (!msr_use_tsc) return clock_hz_cached = 1000000000ull >> msr_tick_shift;
    uint64_t khz = kernel_hz;
    if (khz > 1000000ull) return clock_hz_cached = khz >> msr_tick_shift;
    /* measured against CLOCK_MONOTONIC since clock_zero: each end's time
     * is off by at most half its bracket, so a span of 20,000 times the
     * two half-brackets is right to 0.005 % (spec 8.2 promises 0.01 %);
     * at least 1 ms, at most 10 ms. A trace written after that span (the
     * writer's first epoch comes 25 ms in) never waits; a program that
     * ends sooner waits for the rest of it (~40 ns brackets: 1 ms) */
    uint64_t m, w, t;
    for (;;) {
        t = tsc_at(&m, &w);
        uint64_t need = (zero_width + w) / 2 * 20000;
        if (need < 1000000ull) need = 1000000ull;
        if (need > 10000000ull) need = 10000000ull;
        uint64_t el = m - msr_mono0_ns;
        if (el >= need) break;
        int saved = errno;
        struct timespec ts = {0, (long)(need - el)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        errno = saved;
    }
    uint64_t ns = m - msr_mono0_ns;
    if (ns == 0) ns = 1;
    unsigned __int128 hz = (unsigned __int128)(t - msr_tsc0) * 1000000000u / ns;
    hz >>= msr_tick_shift;
    clock_hz_cached = hz ? (uint64_t)hz : 1;
    return clock_hz_cached;
}

/* ------------------------------------------------------------------------ */
/* Settings and the output file                                             */
/* ------------------------------------------------------------------------ */
static char exe_path[1024];

static const char *exe_name(void)
{
    const char *s = strrchr(exe_path, '/');
    return s ? s + 1 : (exe_path[0] ? exe_path : "app");
}

static int flag_env(const char *name, int def)
{
    const char *v = secure_getenv(name);
    if (!v || !*v) return def;
    if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true")) return 1;
    if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false")) return 0;
    bad_value(name, v);
    return def;
}

static void read_settings(void)
{
    const char *v;
    msr_cfg.unwind = MSR_UNW_LIBUNWIND;
    if ((v = secure_getenv("MEMSCOPE_UNWIND")) && *v) {
        if (!strcmp(v, "libunwind")) msr_cfg.unwind = MSR_UNW_LIBUNWIND;
        else if (!strcmp(v, "fp")) msr_cfg.unwind = MSR_UNW_FP;
        else if (!strcmp(v, "none")) msr_cfg.unwind = MSR_UNW_NONE;
        else bad_value("MEMSCOPE_UNWIND", v);
    }
    msr_cfg.max_depth = 64;
    if ((v = secure_getenv("MEMSCOPE_MAX_DEPTH")) && *v) {
        char *end;
        long d = strtol(v, &end, 10);
        if (*end || d < 1 || d > 256) bad_value("MEMSCOPE_MAX_DEPTH", v);
        else msr_cfg.max_depth = (int)d;
    }
    msr_cfg.quiet = flag_env("MEMSCOPE_QUIET", 0);
    msr_cfg.follow_fork = flag_env("MEMSCOPE_FOLLOW_FORK", 0);
    if ((v = secure_getenv("MEMSCOPE_EXPORT_FORMAT")) && *v) {
        if (!strcmp(v, "json")) msr_cfg.export_json = 1;
        else if (!strcmp(v, "html")) msr_cfg.export_html = 1;
        else if (!strcmp(v, "both")) msr_cfg.export_json = msr_cfg.export_html = 1;
        else if (strcmp(v, "none") != 0) bad_value("MEMSCOPE_EXPORT_FORMAT", v);
    }
    v = secure_getenv("MEMSCOPE_EXPORT_PATH");
    snprintf(msr_cfg.path_template, sizeof msr_cfg.path_template, "%s",
             (v && *v) ? v : "./%e.%p.memscope");
    v = secure_getenv("MEMSCOPE_LABEL");
    snprintf(msr_cfg.label, sizeof msr_cfg.label, "%s", v ? v : "");
    msr_cfg.sample_rate = 0;
    if ((v = secure_getenv("MEMSCOPE_SAMPLE_RATE")) && *v && msr_sample_parse(v, &msr_cfg.sample_rate) != 0) {
        bad_value("MEMSCOPE_SAMPLE_RATE", v);
        msr_cfg.sample_rate = 0;
    }
}

static void expand_path(pid_t pid, int child)
{
    const char *t = msr_cfg.path_template;
    char *o = msr_cfg.path, *end = msr_cfg.path + sizeof msr_cfg.path - 1;
    int had_p = 0;
    char num[24];
    snprintf(num, sizeof num, "%d", (int)pid);
    for (; *t && o < end; t++) {
        const char *ins = NULL;
        if (t[0] == '%' && t[1] == 'p') ins = num, had_p = 1;
        else if (t[0] == '%' && t[1] == 'e') ins = exe_name();
        else if (t[0] == '%' && t[1] == '%') ins = "%";
        if (ins) {
            t++;
            while (*ins && o < end) *o++ = *ins++;
        } else {
            *o++ = *t;
        }
    }
    *o = 0;
    if (child && !had_p) {
        /* a fork child needs its own file: insert .<pid> */
        size_t len = strlen(msr_cfg.path);
        const char *ext = ".memscope";
        size_t el = strlen(ext);
        char tail[16] = "";
        if (len > el && !strcmp(msr_cfg.path + len - el, ext)) {
            memcpy(tail, ext, el + 1);
            msr_cfg.path[len - el] = 0;
        }
        size_t cur = strlen(msr_cfg.path);
        snprintf(msr_cfg.path + cur, sizeof msr_cfg.path - cur, ".%s%s", num, tail);
    }
}

/* MEMSCOPE_MANIFEST=FILE (set by `msrec run`): append this trace's
 * absolute path to FILE as one line, so msrec can symbolize every trace its
 * command produced (followed forks and exec'd images included). One
 * O_APPEND write per line, so lines of concurrent processes never mix; the
 * file is never created here. */
static void manifest_add(const char *path)
{
    const char *m = secure_getenv("MEMSCOPE_MANIFEST");
    char line[sizeof msr_cfg.abs_path + 1];
    size_t n = strlen(path);
    if (!m || !*m || n == 0 || n + 1 > sizeof line) return;
    int fd = open(m, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    memcpy(line, path, n);
    line[n] = '\n';
    ssize_t w = write(fd, line, n + 1);
    (void)w;
    close(fd);
}

/* A process of the traced command's tree that is not recorded (a fork
 * child, or a program a descendant exec'd, without --follow-children):
 * one manifest line "!PID NAME", so `msrec run` can say which programs
 * ran unrecorded (a wrapper, a shell script or make leave the programs
 * the user meant to trace to children). NAME: the program's (NULL: this
 * image's). Nothing without msrec's manifest; async-signal-safe calls and
 * the stack only, errno kept (a fork child of a threaded program, a vfork
 * child about to exec). */
void msr_manifest_unrecorded(const char *name)
{
    const char *m = secure_getenv("MEMSCOPE_MANIFEST");
    if (!m || !*m) return;
    int e = errno;
    char exe[512], line[600];
    if (name) {
        snprintf(exe, sizeof exe, "%s", name);
    } else {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
    }
    const char *b = strrchr(exe, '/');
    b = b ? b + 1 : exe[0] ? exe : "?";
    char num[24];
    size_t k = sizeof num;
    unsigned long v = (unsigned long)getpid();
    num[--k] = 0;
    do num[--k] = (char)('0' + v % 10); while ((v /= 10) && k);
    size_t o = 0;
    const char *parts[] = {"!", num + k, " ", b};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t l = strlen(parts[i]);
        if (o + l + 1 >= sizeof line) break;
        memcpy(line + o, parts[i], l);
        o += l;
    }
    line[o++] = '\n';
    int fd = open(m, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t w = write(fd, line, o);
        (void)w;
        close(fd);
    }
    errno = e;
}

int msr_pid_suffixed;
static int exec_suffix;       /* same-pid image of a ".<pid>" file (exec.c) */

/* The writer on fd, moved to a high descriptor and protected (fdguard.c),
 * so an application that closes or reuses descriptors does not hit the
 * trace. fd is closed when this fails. */
static int writer_fdopen(int fd, ms_writer **w)
{
    ms_writer_opts o;
    memset(&o, 0, sizeof o);
    o.kind = MS_KIND_HEAP;
    o.level = 1;              /* the writer thread must keep up */
    const char *lv = secure_getenv("MEMSCOPE_ZSTD_LEVEL");
    if (lv && *lv) o.level = atoi(lv);
    o.alloc_fn = msr_alloc_raw;
    o.free_fn = msr_free_keep;
    fd = msr_fdguard_place_high(fd);
    int r = ms_writer_fdopen(w, fd, 1, &o);
    msr_out_fd = r == MS_OK ? fd : -1;
    if (r == MS_OK) {
        msr_fdguard_add(fd);
    } else {
        int e = errno;
        close(fd);
        errno = e;
    }
    return r;
}

int msr_writer_on_fd(int fd)
{
    ms_writer *w = NULL;
    int r = writer_fdopen(fd, &w);
    if (r == MS_OK) msr_writer = w;
    return r;
}

int msr_open_output(pid_t pid, int child)
{
    msr_pid_suffixed = child || exec_suffix;
    expand_path(pid, msr_pid_suffixed);
    msr_exec_adjust_path(msr_cfg.path, sizeof msr_cfg.path, pid, child);
    ms_writer *w = NULL;
    /* Opened here with the flags of ms_writer_open: never clobber, never
     * follow a symlink. */
    int r;
    int fd = open(msr_cfg.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        r = errno == EEXIST || errno == ELOOP ? MS_EEXIST : MS_EIO;
    } else if ((r = writer_fdopen(fd, &w)) != MS_OK) {
        int e = errno;
        unlink(msr_cfg.path);
        errno = e;
    }
    if (r == MS_OK) {
        char cwd[1024];
        if (msr_cfg.path[0] != '/' && getcwd(cwd, sizeof cwd))
            snprintf(msr_cfg.abs_path, sizeof msr_cfg.abs_path, "%s/%s", cwd, msr_cfg.path);
        else
            snprintf(msr_cfg.abs_path, sizeof msr_cfg.abs_path, "%s", msr_cfg.path);
    }
    if (r == MS_EEXIST) {
        msr_say(msr_cfg.path, " exists, not recording", "");
        return -1;
    }
    if (r != MS_OK) {
        char why[160];
        snprintf(why, sizeof why, ": %s, not recording",
                 r == MS_EIO ? strerror(errno) : ms_strerror(r));
        msr_say("cannot create ", msr_cfg.path, why);
        return -1;
    }
    msr_writer = w;
    manifest_add(msr_cfg.abs_path);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* META                                                                     */
/* ------------------------------------------------------------------------ */
static ms_str s_of(const char *s) { ms_str r = {s, s ? strlen(s) : 0}; return r; }

static char cmdline[65536], boot_id[64];
static size_t cmdline_len;
static int meta_read;

/* The command line and boot id, read once; msr_init calls it before the
 * program runs (the writer thread's own opens took low numbers a program's
 * open() on another thread expected). */
void msr_meta_prefetch(void)
{
    if (meta_read) return;
    meta_read = 1;
    size_t cl = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r;
        while (cl < sizeof cmdline && (r = read(fd, cmdline + cl, sizeof cmdline - cl)) > 0)
            cl += (size_t)r;
        close(fd);
    }
    while (cl > 0 && cmdline[cl - 1] == 0) cl--;
    cmdline_len = cl;
    boot_id[0] = 0;
    fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r = read(fd, boot_id, sizeof boot_id - 1);
        if (r < 0) r = 0;
        boot_id[r] = 0;
        char *nl = strchr(boot_id, '\n');
        if (nl) *nl = 0;
        close(fd);
    }
}

void msr_write_meta(void)
{
    struct utsname u;
    memset(&u, 0, sizeof u);
    uname(&u);
    msr_meta_prefetch();
    size_t cl = cmdline_len;
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_META;
    ms_meta *m = &r.u.meta;
    m->recorder_version = s_of(MS_VERSION_STRING);
    m->mode = atomic_load(&msr_sampling) ? MS_MODE_SAMPLED : MS_MODE_FULL;
    m->sample_rate = atomic_load(&msr_sampling) ? msr_cfg.sample_rate : 0;
    m->pid = (uint64_t)getpid();
    m->ppid = (uint64_t)getppid();
    m->exe = s_of(exe_path);
    m->cmdline.ptr = cmdline;
    m->cmdline.len = cl;
    m->hostname = s_of(u.nodename);
    m->kernel = s_of(u.release);
    m->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
    m->clock_hz = msr_clock_hz();
    m->start_wall_ns = msr_wall0_ns;
    m->unwinder = s_of(msr_cfg.unwind == MSR_UNW_FP ? "fp"
                       : msr_cfg.unwind == MSR_UNW_NONE ? "none" : "libunwind");
    m->max_depth = msr_cfg.unwind == MSR_UNW_NONE ? 0 : (uint32_t)msr_cfg.max_depth;
    m->label = s_of(msr_cfg.label);
    m->boot_id = s_of(boot_id);
    m->allocator = s_of(msr_next_allocator());
    m->malloc_interposed = msr_next_interposed() ? MS_MALLOC_INTERPOSED : MS_MALLOC_NOT_INTERPOSED;
    m->scope = msr_cfg.scope;
    m->process_start_ns = msr_proc_start_ns;
    m->session = msr_cfg.session;
    ms_writer_add(msr_writer, &r);
}

/* ------------------------------------------------------------------------ */
/* Signals                                                                  */
/* ------------------------------------------------------------------------ */
#define NSIG_MAX 65
/* Signals whose default action ends the process: finish the trace first.
 * (SIGKILL and SIGSTOP cannot be caught; SIGTRAP is left to debuggers.) */
static const int fatal_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTERM, SIGINT,
                                 SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2,
                                 SIGXCPU, SIGXFSZ, SIGVTALRM, SIGSYS};
static struct sigaction app_act[NSIG_MAX];
static unsigned char managed[NSIG_MAX];

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    struct sigaction a = app_act[sig];
    if (a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN) {
        if (a.sa_flags & SA_RESETHAND) {
            app_act[sig].sa_handler = SIG_DFL;
            app_act[sig].sa_flags &= ~SA_SIGINFO;
        }
        errno = saved;
        if (a.sa_flags & SA_SIGINFO) a.sa_sigaction(sig, si, uc);
        else a.sa_handler(sig);
        return;
    }
    int hw = si && si->si_code > 0 &&
             (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL);
    if (a.sa_handler == SIG_IGN && !hw) {
        errno = saved;
        return;
    }
    int mode = atomic_load(&msr_mode);
    if ((mode == MSR_REC || mode == MSR_FINISHING) && getpid() == msr_pid)
        msr_finish(MS_END_SIGNAL, sig, 1);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    __sigaction(sig, &dfl, NULL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    syscall(SYS_tgkill, getpid(), msr_gettid(), sig);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    errno = saved;
}

static void install_signals(void)
{
    for (size_t i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++) {
        int sig = fatal_sigs[i];
        struct sigaction old;
        if (__sigaction(sig, NULL, &old) != 0) continue;
        app_act[sig] = old;
        managed[sig] = 1;
        if (old.sa_handler == SIG_IGN) continue;
        struct sigaction ours;
        memset(&ours, 0, sizeof ours);
        if (old.sa_handler != SIG_DFL) {
            ours = old;
            ours.sa_flags &= ~SA_RESETHAND;
        } else {
            sigemptyset(&ours.sa_mask);
            ours.sa_flags = SA_RESTART | SA_ONSTACK;
        }
        ours.sa_sigaction = on_signal;
        ours.sa_flags |= SA_SIGINFO;
        __sigaction(sig, &ours, NULL);
    }
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (sig <= 0 || sig >= NSIG_MAX || !managed[sig]) return __sigaction(sig, act, old);
    struct sigaction prev = app_act[sig];
    if (act) {
        int r;
        if (act->sa_handler == SIG_IGN) {
            r = __sigaction(sig, act, NULL);
        } else {
            struct sigaction ours = *act;
            ours.sa_sigaction = on_signal;
            ours.sa_flags = (act->sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
            r = __sigaction(sig, &ours, NULL);
        }
        if (r != 0) return r;
        app_act[sig] = *act;
    }
    if (old) *old = prev;
    return 0;
}

sighandler_t signal(int sig, sighandler_t h)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask);
    if (sig > 0 && sig < NSIG_MAX) sigaddset(&sa.sa_mask, sig);
    sa.sa_flags = SA_RESTART;
    if (sigaction(sig, &sa, &old) < 0) return SIG_ERR;
    return old.sa_handler;
}

/* ------------------------------------------------------------------------ */
/* fork, exit, _exit, dlclose                                               */
/* ------------------------------------------------------------------------ */
static int fork_locked, fork_saved_guard, fork_took_writer, fork_took_stack, fork_took_arena;

/* A fork from a signal handler that interrupted this thread inside the
 * recorder may find it holding a lock (the stack table's, while it named a
 * new stack): taking it again would wait for ever. Such a lock is left to
 * the interrupted code, which releases it in the parent and in the child
 * (the child is a copy of this thread) when the handler returns. */
/* A child that will not record needs none of the recorder's memory: it
 * sets msr_mode off, drops the parent's descriptors and passes every call
 * straight through (exec.c: a process that does not record touches no
 * shared state). Copying the region instead made every fork cost the
 * parent a write fault on each recorder page it wrote afterwards (the
 * fork write-protects them all, child gone or not): ~3 300 faults per
 * fork with 40 MiB of stack tables, a fork every 20 ms then took all of
 * the program's time on a 2-vCPU VM (~20 us a fault). Not when the fork
 * interrupted recorder code (a signal handler's fork, guard set): the
 * child returns into that code, which needs its state. */
static int fork_wiped;

static void fork_prepare(void)
{
    if (atomic_load(&msr_mode) != MSR_REC) return;
    if (atomic_load(&msr_exec_forking)) return;   /* exec.c's own fork */
    fork_saved_guard = msr_tls.guard;
    msr_tls.guard = 1;
    fork_wiped = !msr_cfg.follow_fork && !fork_saved_guard && msr_arena_fork_wipe(1) == 0;
    fork_took_writer = msr_lock_take_unless_mine(&msr_writer_lock);
    fork_took_stack = msr_lock_take_unless_mine(&msr_stack_lock);
    msr_sample_atfork_prepare();
    fork_took_arena = msr_arena_atfork_prepare();
    fork_locked = 1;
}

/* daemon(3): glibc's parent leaves by its internal _exit, which no
 * interposer sees; the parent's trace is finished in the fork's parent
 * handler instead (the frame: daemon's caller's, for the leak scan).
 * glibc runs that handler after a failed fork too, when daemon returns -1
 * and the parent goes on: recording then ends early (rare: EAGAIN). */
static __thread void *daemon_frame;

static void fork_parent(void)
{
    msr_clk_forget();
    if (!fork_locked) return;
    fork_locked = 0;
    if (fork_wiped) msr_arena_fork_wipe(0);
    fork_wiped = 0;
    msr_arena_atfork_parent(fork_took_arena);
    msr_sample_atfork_parent();
    if (fork_took_stack) msr_lock_release(&msr_stack_lock);
    if (fork_took_writer) msr_lock_release(&msr_writer_lock);
    msr_tls.guard = fork_saved_guard;
    if (daemon_frame) {
        void *f = daemon_frame;
        daemon_frame = NULL;
        msr_uexit(0, f);
    }
}

/* pthread_exit on the main thread: glibc ends the process (exit(0)) when
 * its last thread ends, and the writer thread would stay that last
 * thread for ever (the program's process never ended, and with all
 * signals blocked on the writer not even SIGTERM ended it). Noted here;
 * the writer ends itself once it is alone (drain.c). */
_Atomic int msr_main_exited;

void pthread_exit(void *retval)
{
    typedef void (*exit_fn)(void *) __attribute__((noreturn));
    static exit_fn real;
    if (!real) real = (exit_fn)dlsym(RTLD_NEXT, "pthread_exit");
    if (msr_gettid() == getpid()) {
        atomic_store(&msr_main_exited, 1);
        msr_wake_writer();
    }
    if (real) real(retval);
    syscall(SYS_exit, 0);             /* (no libc pthread_exit: unreachable) */
    __builtin_unreachable();
}

int daemon(int nochdir, int noclose)
{
    static int (*real)(int, int);
    if (!real) real = (int (*)(int, int))dlsym(RTLD_NEXT, "daemon");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    daemon_frame = __builtin_frame_address(0);
    int r = real(nochdir, noclose);          /* (returns in the child only) */
    daemon_frame = NULL;
    return r;
}

extern void msr_modules_reset(void) __attribute__((weak));

#define MSR_NPROC_MIN 256             /* RLIMIT_NPROC to record under (msr_early_init) */
static _Atomic int exit_tid;     /* the thread in exit() (exit below), 0 */

static void fork_child(void)
{
    daemon_frame = NULL;
    fork_wiped = 0;
    atomic_store(&exit_tid, 0);      /* a copy made while a thread exits */
    if (!fork_locked) return;
    fork_locked = 0;
    msr_arena_atfork_child(fork_took_arena);
    msr_sample_atfork_child(msr_cfg.follow_fork);
    msr_stacks_atfork_child(fork_took_stack);
    msr_fdguard_atfork_child();     /* the parent's trace is not ours */
    /* a limit lowered since the start (setrlimit): the child's trace would
     * take a low number (msr_early_init's rule) */
    int room = msr_fdguard_room();
    if (msr_cfg.follow_fork && !room)
        msr_say("not recording the fork child: the open-file limit (RLIMIT_NOFILE) is below 64",
                "", ": raise it to 64 or more to record it");
    if (!msr_cfg.follow_fork || !room) {
        msr_fdguard_drop_all();     /* (libunwind's pipe, statm: not needed here) */
        atomic_store(&msr_mode, MSR_OFF);
        msr_fast_set_child();
        msr_drain_atfork_child(0);
        msr_manifest_unrecorded(NULL);
        msr_tls.guard = fork_saved_guard;
        return;
    }
    msr_drain_atfork_child(1);
    msr_writer = NULL;          /* the parent's writer is not ours to touch */
    msr_pid = getpid();
    msr_statm_open();           /* (it named the parent's /proc entry) */
    clock_zero();
    if (msr_modules_reset) msr_modules_reset();
    msr_meta_written = 0;
    /* msr_open_output inserts the pid when the template has no %p */
    int r = msr_open_output(msr_pid, 1);
    if (r != 0) {
        msr_writer = NULL;
        atomic_store(&msr_mode, MSR_OFF);
        msr_fast_set(0);
    } else if (msr_drain_start() != 0) {
        atomic_store(&msr_mode, MSR_OFF);
        msr_fast_set(0);
    }
    msr_tls.guard = fork_saved_guard;
}

static void on_exit_cb(int status, void *arg)
{
    (void)arg;
    msr_leak_entry_frame(__builtin_frame_address(0));
    if (atomic_load(&msr_mode) == MSR_REC && getpid() == msr_pid)
        msr_finish(MS_END_EXIT, status, 0);
}

/* quick_exit: its at_quick_exit handlers run, no atexit/on_exit handler,
 * then glibc's internal _exit (which is not ours): the trace had no END.
 * The status is noted here; at_quick_exit(quick_cb), registered before
 * any of the program's, runs after them and finishes the trace. */
static int quick_status;

static void quick_cb(void)
{
    msr_leak_entry_frame(__builtin_frame_address(0));
    if (atomic_load(&msr_mode) == MSR_REC && getpid() == msr_pid)
        msr_finish(MS_END_EXIT, quick_status, 0);
}

void quick_exit(int status)
{
    typedef void (*qexit_fn)(int) __attribute__((noreturn));
    static qexit_fn real;
    if (!real) real = (qexit_fn)dlsym(RTLD_NEXT, "quick_exit");
    quick_status = status;
    if (real) real(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

/* exit: glibc 2.36 lets two threads run it at once; the second one,
 * finding the exit handlers taken, reached glibc's internal _exit while the
 * first was still finishing the trace in the last handler (no END, 5 of 5).
 * A second caller waits here for the first to end the process (as later
 * glibc versions make it wait). Calls from an exit handler of the same
 * thread (undefined behaviour) go through. The exit after main returns is
 * glibc's internal call, not this one: a thread's exit() racing main's
 * return is not serialized. */
void exit(int status)
{
    typedef void (*exit_fn)(int) __attribute__((noreturn));
    static exit_fn real;
    if (!real) real = (exit_fn)dlsym(RTLD_NEXT, "exit");
    int me = msr_gettid(), none = 0, m = atomic_load(&msr_mode);
    if (!atomic_compare_exchange_strong(&exit_tid, &none, me) && none != me && m != MSR_OFF &&
        m != MSR_PENDING)
        for (;;) pause();
    if (real) real(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

/* _exit, _Exit and syscall(SYS_exit_group) (sandbox.c): the process goes
 * without its exit handlers; the trace is finished here. frame: the entry
 * point's (the leak scan reads the stack above it). */
void msr_uexit(int status, void *frame)
{
    msr_leak_entry_frame(frame);
    if (atomic_load(&msr_mode) == MSR_REC && getpid() == msr_pid)
        msr_finish(MS_END_UEXIT, status, 0);
}

void _exit(int status)
{
    msr_uexit(status, __builtin_frame_address(0));
    for (;;) syscall(SYS_exit_group, status);
}

void _Exit(int status)
{
    msr_uexit(status, __builtin_frame_address(0));
    for (;;) syscall(SYS_exit_group, status);
}

int dlclose(void *h)
{
    static int (*real)(void *);
    if (!real) real = (int (*)(void *))dlsym(RTLD_NEXT, "dlclose");
    if (!real) return -1;
    msr_unw_dyn_withdraw(!msr_tls.guard);
    if (atomic_load(&msr_mode) == MSR_REC && !msr_tls.guard) {
        /* make sure the module about to go has its MODULE record */
        msr_tls.guard = 1;
        msr_lock_take(&msr_writer_lock);
        if (msr_writer) {
            if (!msr_meta_written) msr_ensure_meta();
            else msr_modules_sync(msr_writer, msr_now());
        }
        msr_lock_release(&msr_writer_lock);
        msr_tls.guard = 0;
        int began = msr_cfi_unload_begin(1);
        int r = real(h);
        if (began) msr_cfi_unload_end();
        atomic_store(&msr_modules_dirty, 1);
        return r;
    }
    int began = msr_cfi_unload_begin(!msr_tls.guard);
    int r = real(h);
    if (began) msr_cfi_unload_end();
    return r;
}

/* ------------------------------------------------------------------------ */
/* Reports at exit (MEMSCOPE_EXPORT_FORMAT)                                 */
/* ------------------------------------------------------------------------ */
static int run_msconv(const char *fmt_opt, const char *out)
{
    char prog[4200];
    Dl_info di;
    int found = 0;
    char lib[4096];
    if (dladdr((void *)run_msconv, &di) && di.dli_fname && strchr(di.dli_fname, '/') &&
        realpath(di.dli_fname, lib)) {
        snprintf(prog, sizeof prog, "%s", lib);
        char *sl = strrchr(prog, '/');
        *sl = 0;
        size_t l = strlen(prog);
        snprintf(prog + l, sizeof prog - l, "/../bin/msconv");
        found = access(prog, X_OK) == 0;
    }
    if (!found) {
        /* never a program found through PATH: only the msconv installed
         * with this library */
        msr_say("no msconv next to libmemscope, no ", fmt_opt + 2, " report written");
        return 1;
    }
    size_t ne = 0;
    while (environ && environ[ne]) ne++;
    char **envp = msr_alloc((ne + 2) * sizeof *envp);
    if (!envp) return -1;
    size_t k = 0;
    for (size_t i = 0; i < ne; i++) {
        if (!strncmp(environ[i], "LD_PRELOAD=", 11) ||
            !strncmp(environ[i], "MEMSCOPE_AUTO_EXPORT=", 21))
            continue;
        envp[k++] = environ[i];
    }
    envp[k++] = "MEMSCOPE_AUTO_EXPORT=0";
    envp[k] = NULL;
    char *argv[] = {"msconv", msr_cfg.abs_path, (char *)fmt_opt, "-o", (char *)out, NULL};
    pid_t pid;
    int r = posix_spawn(&pid, prog, NULL, NULL, argv, envp);
    msr_free(envp);
    if (r != 0) return -1;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

void msr_export_reports(void)
{
    const char *fmts[2][2] = {{"--json", ".json"}, {"--html", ".html"}};
    int want[2] = {msr_cfg.export_json, msr_cfg.export_html};
    for (int i = 0; i < 2; i++) {
        if (!want[i]) continue;
        char out[2100];
        snprintf(out, sizeof out, "%s%s", msr_cfg.abs_path, fmts[i][1]);
        int r = run_msconv(fmts[i][0], out);
        if (r == 0) {
            if (!msr_cfg.quiet) msr_say("wrote ", msr_cfg.path, fmts[i][1]);
        } else if (r < 0) {
            msr_say("msconv ", fmts[i][0], " failed, no report written");
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Constructor                                                              */
/* ------------------------------------------------------------------------ */
/* Light part of the start, run by the first interposed call (libraries
 * initialised before ours allocate too: libstdc++'s emergency pool, locale
 * data) or by the constructor, whichever comes first: decide, read the
 * settings, start the clock and the stack tables, and begin recording into
 * the thread rings. The file, the writer thread, signals, fork and exit
 * handlers come in the constructor; until then events wait in the rings
 * (dropped if a ring fills). */
_Atomic int msr_init_state;   /* 0 not yet, 1 running, 2 done */
static void set_active_pid(void);
static int exec_child;        /* exec'd descendant recorded by FOLLOW_EXEC */

void msr_early_init(void)
{
    int zero = 0;
    if (!atomic_compare_exchange_strong(&msr_init_state, &zero, 1)) return;
    int g = msr_tls.guard;
    msr_tls.guard = 1;
    if (!err_state) stderr_remember();
    if (getauxval(AT_SECURE)) {
        /* setuid/setgid/capabilities: the caller's environment is not to
         * be obeyed (secure_getenv hides it anyway); stay off */
        if (getenv("MEMSCOPE_AUTO_EXPORT") || getenv("MEMSCOPE_CONTROL"))
            msr_say("secure-execution (setuid) program, not recording", "", "");
        goto out;
    }
    /* MEMSCOPE_CONTROL=1: dormant with a control channel (the constructor
     * starts it); the exec'd-descendant rule below is about recording at
     * start only */
    int rec = flag_env("MEMSCOPE_AUTO_EXPORT", 0), ctl = flag_env("MEMSCOPE_CONTROL", 0);
    if (!rec && !ctl) goto out;
    msr_pid = getpid();
    const char *ap = secure_getenv("MEMSCOPE_ACTIVE_PID");
    if (rec && ap && *ap && atol(ap) != (long)msr_pid) {
        if (!flag_env("MEMSCOPE_FOLLOW_EXEC", 0)) {         /* exec'd descendant */
            rec = 0;
            msr_manifest_unrecorded(NULL);
        }
        else exec_child = 1;  /* its own file: .<pid> when the path has no %p */
    } else if (rec && ap && *ap) {
        const char *sx = secure_getenv("MEMSCOPE_EXEC_SUFFIX");
        exec_suffix = sx && !strcmp(sx, "1");
    }
    if (!rec && !ctl) goto out;
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "/vgpreload_")) {
        /* a program run by valgrind (msrec run --follow-children --
         * valgrind ...): valgrind's own malloc serves it, and the writer
         * thread's memory would show in memcheck's leak report and its
         * exit status */
        msr_say("not recording a program run by valgrind", "", "");
        goto out;
    }
    if (!msr_fdguard_room()) {
        /* the trace would take a low number the program expects open() or
         * dup2() to give it (and its writes could land in the trace) */
        struct rlimit rl;
        char lim[64] = "";
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
            snprintf(lim, sizeof lim, " is %llu", (unsigned long long)rl.rlim_cur);
        msr_say("not recording: the open-file limit (RLIMIT_NOFILE, ulimit -n)", lim,
                ": raise it to 64 or more to record");
        goto out;
    }
    /* the writer thread counts against the user's process limit: under a
     * small one (ulimit -u 4) it took the thread the program's last
     * pthread_create wanted (root's limit is not enforced) */
    struct rlimit np;
    if (getrlimit(RLIMIT_NPROC, &np) == 0 && np.rlim_cur < MSR_NPROC_MIN && geteuid() != 0) {
        char lim[64];
        snprintf(lim, sizeof lim, " is %llu", (unsigned long long)np.rlim_cur);
        msr_say("not recording: the process limit (RLIMIT_NPROC, ulimit -u)", lim,
                ": the recorder's thread would take one of the program's; raise it to 256 or more to record");
        goto out;
    }
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof exe_path - 1);
    exe_path[n > 0 ? n : 0] = 0;
    read_settings();
    /* a descendant msrec run --follow-children records: msrec names its
     * trace; a line of ours would go to the descendant's own stderr (an
     * autoconf check's `2>conftest.err`, ninja's captured output) */
    if (exec_child && secure_getenv("MEMSCOPE_MANIFEST")) msr_cfg.quiet = 2;
    msr_clock_init();
    msr_proc_start_ns = msr_wall0_ns;
    msr_use_membarrier =
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
    /* (dormant: at the first attach, so a dormant process holds no table
     * and no descriptor of libunwind's) */
    if (rec && msr_stacks_init() != 0) {
        if (msr_arena_starved())
            msr_say("not recording: the address-space or data limit (RLIMIT_AS, ulimit -v; RLIMIT_DATA,"
                    " ulimit -d) is too small",
                    " (the recorder keeps to 1/8 of it and needs 16 MiB there)",
                    ": raise it to 128 MiB or more to record");
        else
            msr_say("out of memory, not recording", "", "");
        goto out;
    }
    msr_stacks_ready = rec;
    msr_ctl_enabled = ctl;
    if (rec) {
        if (msr_cfg.sample_rate) msr_sample_start(msr_cfg.sample_rate);
        msr_fast_set(1);
        atomic_store(&msr_mode, MSR_REC);
    }
out:
    if (atomic_load(&msr_mode) == MSR_PENDING) {
        atomic_store(&msr_mode, MSR_OFF);
        msr_fast_set(0);
    }
    atomic_store(&msr_init_state, 2);
    msr_tls.guard = g;
}

__attribute__((constructor)) static void msr_init(void)
{
    msr_early_init();
    int rec = atomic_load(&msr_mode) == MSR_REC;
    if (!rec && !msr_ctl_enabled) return;
    msr_tls.guard = 1;
    if (rec && msr_open_output(msr_pid, exec_child) != 0) {
        atomic_store(&msr_mode, MSR_OFF);
        msr_fast_set(0);
        rec = 0;
        if (!msr_ctl_enabled) goto out;
    }
    msr_next_resolve();
    if (!msr_next_interposed() && !msr_cfg.quiet) {
        char why[1200];
        if (msr_next_in_exe())
            snprintf(why, sizeof why, "malloc is defined by the program itself (%s): "
                     "its malloc/free calls are not recorded", msr_next_allocator());
        else
            snprintf(why, sizeof why, "malloc comes from %s, loaded before libmemscope: "
                     "malloc/free calls are not recorded (put libmemscope.so first in "
                     "LD_PRELOAD, or use msrec run)", msr_next_allocator());
        msr_say(why, "", "");
    }
    if (rec) {
        set_active_pid();
        msr_meta_prefetch();
        msr_statm_open();
    }
    install_signals();
    /* (before msr_ctl_start: its fork handlers must run first in prepare,
     * after these in the child) */
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    on_exit(on_exit_cb, NULL);
    at_quick_exit(quick_cb);
    if (rec && msr_drain_start() != 0) {
        atomic_store(&msr_mode, MSR_OFF);
        msr_fast_set(0);
        ms_writer_abort(msr_writer);
        unlink(msr_cfg.path);
        msr_writer = NULL;
        msr_say("cannot start the writer thread, not recording", "", "");
    }
    if (msr_ctl_enabled) msr_ctl_start();
out:
    msr_tls.guard = 0;
}

/* MEMSCOPE_ACTIVE_PID=<this pid>: exec'd descendants stay passive. */
static void set_active_pid(void)
{
    char pidbuf[24];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)msr_pid);
    /* A program may define setenv itself (bash: its variable hash tables,
     * which later hold its parse trees): what that allocates is the
     * program's and is recorded, else those blocks are missing from the
     * trace and what they hold looks lost. libc's setenv stays unrecorded. */
    struct dl_find_object o;
    int app_setenv = _dl_find_object((void *)setenv, &o) == 0 && o.dlfo_link_map &&
                     !strstr(o.dlfo_link_map->l_name, "/libc.so");
    msr_tls.guard = !app_setenv;
    setenv("MEMSCOPE_ACTIVE_PID", pidbuf, 1);
    msr_tls.guard = 1;
}

/* ------------------------------------------------------------------------ */
/* Link-in API                                                              */
/* ------------------------------------------------------------------------ */
void ms_label(const void *ptr, const char *var_name, const char *type_name)
{
    if (atomic_load(&msr_mode) != MSR_REC || !ptr) return;
    int g = msr_tls.guard;
    msr_tls.guard = 1;
    msr_queue_label(ptr, var_name, type_name);
    msr_tls.guard = g;
}

void ms_mark(const char *name)
{
    if (atomic_load(&msr_mode) != MSR_REC) return;
    int g = msr_tls.guard;
    msr_tls.guard = 1;
    msr_queue_mark(name);
    msr_tls.guard = g;
}

void ms_pause(void) { atomic_store(&msr_paused, 1); }
void ms_resume(void) { atomic_store(&msr_paused, 0); }
int ms_recording(void) { return atomic_load(&msr_mode) == MSR_REC; }
