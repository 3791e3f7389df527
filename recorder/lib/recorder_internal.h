/*
 * recorder_internal.h — internals shared by the files of libmemscope.
 *
 * Layout of the recorder:
 *   interpose.c  malloc family, C++ operators, hot path, per-thread buffers
 *   stacks.c     unwinding (libunwind / frame pointers) and stack interning
 *   drain.c      background writer thread, epochs, live table, finishing
 *   control.c    constructor, settings, META, signals, fork, _exit, dlopen,
 *                export at exit, the link-in API (ms_label, ms_mark, ...)
 *   arena.c      private mmap allocator for everything the recorder owns
 *
 * Environment variables read by libmemscope:
 *   MEMSCOPE_AUTO_EXPORT=1        record this process (otherwise every call
 *                                 passes straight through)
 *   MEMSCOPE_EXPORT_PATH=PATH     output file; %p = pid, %e = exe name, %% = %
 *                                 (default ./<exe>.<pid>.memscope). Created
 *                                 with O_EXCL|O_NOFOLLOW: if it exists, one
 *                                 warning and no recording.
 *   MEMSCOPE_EXPORT_FORMAT=json|html|both   at exit run msconv to write
 *                                 PATH.json / PATH.html next to the trace
 *   MEMSCOPE_UNWIND=libunwind|fp|none        (default libunwind)
 *   MEMSCOPE_MAX_DEPTH=N          1..256 frames (default 64)
 *   MEMSCOPE_QUIET=1              no stderr lines except bad-setting warnings
 *   MEMSCOPE_FOLLOW_FORK=1        fork children record into their own file:
 *                                 the path template with %p = child pid; a
 *                                 template without %p gets ".<pid>" inserted
 *                                 before a trailing ".memscope" (or appended)
 *   MEMSCOPE_FOLLOW_EXEC=1        exec'd descendants record too (set by
 *                                 `msrec run --follow-children`), each into
 *                                 its own file (a path without %p gets
 *                                 ".<pid>" inserted as for fork). Without it
 *                                 a process whose MEMSCOPE_ACTIVE_PID names
 *                                 another pid is an exec'd descendant of a
 *                                 recorded process and does not record.
 *   MEMSCOPE_ACTIVE_PID           set by the recorder itself (pid of the
 *                                 recording process) for the rule above.
 *   MEMSCOPE_LABEL=TEXT           copied into META.label
 *   MEMSCOPE_CLOCK=tsc|mono       trace clock (default: tsc when the kernel
 *                                 uses the TSC clocksource, else mono)
 * Tuning and diagnostics (not user-facing):
 *   MEMSCOPE_STACK_MEMO=0         no validated stack memo (always unwind)
 *   MEMSCOPE_TICK_SHIFT=N         ticks = TSC >> N (default 0)
 *   MEMSCOPE_ZSTD_LEVEL=N         zstd level of the writer (default 1)
 *   MEMSCOPE_DEBUG=1              per-thread stack-memo/cache stats at exit
 *
 * Signals whose default action terminates (SEGV BUS FPE ILL ABRT TERM INT
 * HUP QUIT PIPE ALRM USR1 USR2 XCPU XFSZ VTALRM SYS) finish the trace and
 * re-raise; the application's handlers (sigaction/signal are interposed)
 * run instead when it installed some.
 * A bad value prints `memscope: bad MEMSCOPE_X=value, using default`.
 */
#ifndef MS_RECORDER_INTERNAL_H
#define MS_RECORDER_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "memscope.h"

#define MSR_LIKELY(x)   __builtin_expect(!!(x), 1)
#define MSR_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MSR_HIDDEN      __attribute__((visibility("hidden")))
#define MSR_TLS         __thread __attribute__((tls_model("initial-exec")))

/* ---- global mode ------------------------------------------------------- */
enum { MSR_OFF = 0, MSR_REC = 1, MSR_FINISHING = 2, MSR_DONE = 3 };
extern _Atomic int msr_mode;      /* MSR_*                                  */
extern _Atomic int msr_paused;    /* ms_pause()                             */
extern _Atomic int msr_init_state; /* 2 once msr_early_init has run         */
void msr_early_init(void);
extern _Atomic int msr_writer_alive; /* the writer thread runs              */

/* ---- settings ---------------------------------------------------------- */
enum { MSR_UNW_LIBUNWIND = 0, MSR_UNW_FP = 1, MSR_UNW_NONE = 2 };
struct msr_settings {
    int unwind;                   /* MSR_UNW_*                              */
    int max_depth;
    int quiet;
    int follow_fork;
    int export_json, export_html;
    char path_template[1024];
    char path[1024];              /* the file being written                 */
    char abs_path[2048];          /* same, absolute (the app may chdir)     */
    char label[256];
};
extern struct msr_settings msr_cfg;

/* ---- clock ------------------------------------------------------------- */
extern int msr_use_tsc;
extern uint64_t msr_tsc0, msr_mono0_ns, msr_wall0_ns;
extern unsigned msr_tick_shift;  /* trace tick = TSC >> shift              */
uint64_t msr_mono_ns(void);
/* Timestamps: plain rdtsc (no lfence/rdtscp: those cost 2x here). An
 * alloc reads the clock after the real allocator returned and a free
 * before it is called, in program order. */
static inline uint64_t msr_now(void)
{
    if (MSR_LIKELY(msr_use_tsc)) {
        uint32_t lo, hi;
        __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
        return ((((uint64_t)hi << 32) | lo) - msr_tsc0) >> msr_tick_shift;
    }
    return msr_mono_ns() - msr_mono0_ns;
}
#define msr_now_after msr_now
void msr_clock_init(void);
uint64_t msr_clock_hz(void);      /* calibrates once (may wait a few ms)   */

/* ---- arena: the recorder's private memory (one mmap region) ------------ */
void *msr_alloc(size_t n);        /* 16-aligned, zeroed; NULL on failure    */
void *msr_alloc_raw(size_t n);    /* same, not zeroed (the format writer)   */
void msr_free(void *p);
void msr_arena_range(uint64_t *start, uint64_t *end);
void msr_arena_atfork_prepare(void);
void msr_arena_atfork_parent(void);
void msr_arena_atfork_child(void);

/* ---- a small lock with owner (usable from signal handlers) ------------- */
typedef struct { _Atomic int owner; } msr_lock;   /* 0 = free, else tid     */
int msr_gettid(void);
void msr_lock_take(msr_lock *l);
int msr_lock_try_for(msr_lock *l, uint64_t ms); /* 1 taken, 0 timeout, -1 self */
void msr_lock_release(msr_lock *l);

/* ---- per-thread state -------------------------------------------------- */
#define MSR_RING_BITS 14          /* 16384 events per thread                */
#define MSR_RING_CAP  (1u << MSR_RING_BITS)
#define MSR_CACHE_SIZE 4096       /* per-thread stack cache entries         */

struct msr_cache_ent { uint64_t hash; uint64_t id; };
struct msr_memo;
#define MSR_MEMO_SIZE 128         /* per-thread memo entries, 4-way (stacks.c) */
size_t msr_memo_bytes(void);

typedef struct msr_thread {
    /* written by the owning thread */
    _Atomic uint64_t n;           /* events published                       */
    _Atomic uint32_t busy;        /* between timestamp and publish          */
    uint32_t wake_sent;
    ms_event *ring;
    uint64_t tid;
    uintptr_t stack_lo, stack_hi;
    struct msr_cache_ent *cache;
    struct msr_memo *memo;        /* libunwind mode: validated stack memo   */
    uint64_t n_dropped;
    uint64_t memo_hits, memo_misses, cache_misses; /* MEMSCOPE_DEBUG=1 stats */
    _Atomic uint32_t set_name_seq; /* bumped after set_name is written      */
    char set_name[16];            /* pthread_setname_np on itself           */
    /* written by the writer */
    _Atomic uint64_t consumed __attribute__((aligned(64)));
    int announced, dead;
    uint64_t batch_end;           /* writer scratch: end of current batch   */
    char name[20];                /* last name written (writer)             */
    uint32_t set_name_seen;       /* writer's copy of set_name_seq          */
    struct msr_thread *next;      /* global list                            */
} msr_thread;

struct msr_tls {
    msr_thread *t;
    int guard;                    /* inside the recorder                    */
    int no_thread;                /* thread state could not be created      */
};
extern MSR_TLS struct msr_tls msr_tls;

extern _Atomic(msr_thread *) msr_threads;   /* list head                    */
extern int msr_use_membarrier;
msr_thread *msr_thread_attach(void);
void msr_wait_space(msr_thread *t);
void msr_wake_writer(void);
extern _Atomic uint32_t msr_wake_word;
extern _Atomic uint32_t msr_names_gen;  /* a thread renamed another      */

/* ---- stacks ------------------------------------------------------------ */
int msr_stacks_init(void);
/* Capture the caller's stack: ret = return address of the public entry
 * point, frame = its frame address. Returns the interned stack id. */
uint64_t msr_capture_stack(msr_thread *t, void *ret, void *frame);
extern _Atomic uint64_t msr_nodes_count;  /* nodes published (ids 1..count) */
extern ms_stack_node *msr_nodes;          /* msr_nodes[id-1]                */
extern msr_lock msr_stack_lock;
void msr_stacks_atfork_child(void);

/* ---- drain / writer ---------------------------------------------------- */
extern ms_writer *msr_writer;
extern msr_lock msr_writer_lock;
int msr_drain_start(void);        /* start the writer thread                */
void msr_drain_atfork_child(int follow);
/* Finish the trace. reason MS_END_*; detail = status or signal. Only the
 * first caller does anything. crash = from a fatal signal handler. */
void msr_finish(uint32_t reason, int64_t detail, int crash);
void msr_write_meta(void);        /* called by drain before anything else   */
void msr_ensure_meta(void);       /* META + modules if not written (lock)   */
void msr_queue_mark(const char *name);
void msr_queue_label(const void *p, const char *var, const char *type);
int msr_open_output(pid_t pid, int child); /* open msr_writer (cfg, pid) */
extern _Atomic int msr_modules_dirty;
extern int msr_meta_written;       /* META is in the file (writer lock)     */
extern pid_t msr_pid;               /* pid of the recording process          */
void msr_export_reports(void);    /* MEMSCOPE_EXPORT_FORMAT after close     */
void msr_say(const char *a, const char *b, const char *c); /* stderr line */

#endif
