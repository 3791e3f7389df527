/*
 * recorder_internal.h — internals shared by the files of libmemscope.
 *
 * Layout of the recorder:
 *   interpose.c  malloc family, C++ operators, hot path, per-thread buffers
 *   nextalloc.c  the allocator the entry points forward to (glibc, jemalloc,
 *                tcmalloc...), resolved with dlsym at the first call
 *   stacks.c     unwinding (libunwind / frame pointers) and stack interning
 *   drain.c      background writer thread, epochs, live table, finishing
 *   control.c    constructor, settings, META, signals, fork, _exit, dlopen,
 *                export at exit, the link-in API (ms_label, ms_mark, ...)
 *   arena.c      private mmap allocator for everything the recorder owns
 *   sample.c     Poisson byte sampling: gaps, the set of sampled blocks
 *   exec.c       exec family: finish the trace before the image goes
 *   ctlsock.c    MEMSCOPE_CONTROL=1: the control channel of a dormant
 *                process (msrec attach/detach/status)
 *   session.c    a recording session started and stopped in a running
 *                process (a window trace, spec 8.9)
 *
 * Environment variables read by libmemscope:
 *   MEMSCOPE_AUTO_EXPORT=1        record this process (otherwise every call
 *                                 passes straight through)
 *   MEMSCOPE_CONTROL=1            dormant (every call passes straight
 *                                 through) and listening for `msrec attach
 *                                 PID` on a control socket only the same
 *                                 user or root may use (ctlsock.c); with
 *                                 MEMSCOPE_AUTO_EXPORT=1 too, recording
 *                                 starts at once and `msrec detach` stops it
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
 *                                 exec.c passes 0 to an image exec'd without
 *                                 MEMSCOPE_FOLLOW_EXEC (it stays passive).
 *   MEMSCOPE_EXEC_GEN=N           set by exec.c for an image exec'd (same
 *                                 pid) under MEMSCOPE_FOLLOW_EXEC: its file
 *                                 gets ".exec<N>" before ".memscope".
 *   MEMSCOPE_EXEC_SUFFIX=1        set by exec.c with MEMSCOPE_EXEC_GEN when
 *                                 the exec'ing process's file had ".<pid>"
 *                                 inserted (a followed fork child): the new
 *                                 image writes FILE.<pid>.exec<N>.memscope.
 *   MEMSCOPE_MANIFEST=FILE        set by `msrec run`: each recording
 *                                 process appends its trace's absolute path
 *                                 to FILE (control.c), which msrec then
 *                                 symbolizes (recorder/symbolize/)
 *   MEMSCOPE_LABEL=TEXT           copied into META.label
 *   MEMSCOPE_CLOCK=tsc|mono       trace clock (default: tsc when the CPU's
 *                                 TSC is invariant, else mono)
 *   MEMSCOPE_SAMPLE_RATE=BYTES    Poisson byte sampling, one sample per BYTES
 *                                 on average (K, M, G suffixes: KiB...; 0 =
 *                                 every allocation, the default); sample.c
 * Tuning and diagnostics (not user-facing):
 *   MEMSCOPE_STACK_MEMO=0         no validated stack memo (always unwind)
 *   MEMSCOPE_TICK_SHIFT=N         ticks = TSC >> N (default 10; mono: ns >> N,
 *                                 default 9; 0..31)
 *   MEMSCOPE_ZSTD_LEVEL=N         zstd level of the writer (default 1)
 *   MEMSCOPE_TIME_GRID=US         one-thread SYNC windows: times rounded down
 *                                 to 2^k ticks <= US us (default 100, 0 =
 *                                 exact, at most 150; drain.c, spec 8.2)
 *   MEMSCOPE_DEBUG=1              per-thread stack-memo/cache stats, the
 *                                 recorder's memory and the exit's phases (ms)
 *   MEMSCOPE_SAMPLE_SEED=N        fixed seed of the sampling gaps (tests)
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
/* MSR_PENDING until msr_early_init has decided (then OFF or REC) */
enum { MSR_OFF = 0, MSR_REC = 1, MSR_FINISHING = 2, MSR_DONE = 3, MSR_PENDING = 4 };
extern _Atomic int msr_mode;      /* MSR_*                                  */
extern _Atomic int msr_paused;    /* ms_pause()                             */
extern _Atomic int msr_init_state; /* 2 once msr_early_init has run         */
void msr_early_init(void);
extern _Atomic int msr_writer_alive; /* the writer thread runs              */
/* The main thread left by pthread_exit (control.c): the process ends when
 * its last thread does, and the writer thread must not be that thread
 * (drain.c writer_main) */
extern _Atomic int msr_main_exited;

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
    uint64_t sample_rate;         /* bytes between samples (mean), 0 = full */
    uint32_t scope;               /* MS_SCOPE_*: WINDOW = attached session */
    uint64_t session;             /* attach session of this trace (META)   */
};
extern struct msr_settings msr_cfg;
/* Unix ns at which libmemscope started in this process (META
 * process_start_ns: the start of the program, give or take its loader). */
extern uint64_t msr_proc_start_ns;
extern int msr_ctl_enabled;       /* MEMSCOPE_CONTROL=1 (ctlsock.c runs)    */
/* Constructor, MEMSCOPE_CONTROL=1: start the control listener (ctlsock.c);
 * one stderr line when it cannot. */
void msr_ctl_start(void);

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
    return (msr_mono_ns() - msr_mono0_ns) >> msr_tick_shift;
}
#define msr_now_after msr_now
/* Reused readings (spec 8.2): after a reading taken in a burst (< 20 us
 * after the one before) the next msr_clk_reuse events of the thread take
 * it again instead of reading the clock, while the thread's rseq_cs word
 * still points at msr_rseq_mark (the kernel clears it when the thread
 * blocks, is descheduled, migrates or takes a signal). Never below floor:
 * the time of the writer's last barrier (set before its membarrier, so an
 * event stamped without seeing it is waited for like one read before T).
 * gen changes with the clock's zero (a new session's trace) and when a
 * second thread records. From then on (multi) readings are reused only
 * where the clock is CLOCK_MONOTONIC (no invariant TSC), and every reading
 * is published
 * into pub, the process-wide latest reading (a maximum: compare-and-swap),
 * before the event's allocation or free can reach another thread, and a
 * reused time is raised to pub: an event that happens after another
 * thread's event (a free of X, then the malloc that returns X) never gets
 * an earlier time (spec 8.2, 8.3). pub has a cache line of its own: with
 * two threads it is written at most once a reading; floor and gen are
 * read-mostly. */
struct msr_clk_shared {
    _Atomic uint64_t floor;
    _Atomic uint32_t gen;
    _Alignas(64) _Atomic uint64_t pub;
    char pad_[56];
};
extern struct msr_clk_shared msr_clk;
extern unsigned msr_clk_reuse;    /* events a reading may serve after it; 0: off */
extern _Atomic int msr_clk_multi;  /* a second thread recorded: publish readings */
extern uint64_t msr_clk_burst;    /* ticks: a reading this close to the last
                                     one starts a reuse run                */
extern long msr_rseq_off;         /* the rseq area's offset from the thread
                                     pointer (glibc's __rseq_offset)       */
extern int msr_clk_check;         /* MEMSCOPE_CLOCK_CHECK=1: measure every
                                     reused time against a reading        */
extern const char msr_rseq_mark[]; /* our struct rseq_cs                    */
static inline volatile uint64_t *msr_rseq_cs_word(void)
{
    return (volatile uint64_t *)((char *)__builtin_thread_pointer() + msr_rseq_off + 8);
}
/* The calling thread's next event takes a reading: after a system call
 * that may run long without descheduling it (fork copies the page tables) */
static inline void msr_clk_forget(void)
{
    if (msr_clk_reuse) *msr_rseq_cs_word() = 0;
}
void msr_clock_init(void);
void msr_clock_restart(void);     /* tick 0 = now (a new session's trace)  */
uint64_t msr_clock_hz(void);      /* calibrates once (1-10 ms after start) */

/* ---- arena: the recorder's private memory (one mmap region) ------------ */
void *msr_alloc(size_t n);        /* 16-aligned, zeroed; NULL on failure    */
void *msr_alloc_raw(size_t n);    /* same, not zeroed (the format writer)   */
void msr_free(void *p);
/* Bytes a block of msr_alloc/msr_alloc_raw can hold (its size class). */
size_t msr_alloc_usable(const void *p);
/* Free a block msr_alloc_raw will likely want again soon: keep its pages. */
void msr_free_keep(void *p);
/* The trace is closed: msr_free_keep's blocks give their pages back. */
void msr_arena_trim(void);
/* A fork whose child will not record (control.c): on = the child gets the
 * region as zero pages (MADV_WIPEONFORK), so the fork neither copies its
 * page tables nor leaves its pages write-protected in the parent; off =
 * copied again. 0 on success. */
int msr_arena_fork_wipe(int on);
/* The process is about to end (exit, _exit): from now on msr_free keeps
 * the pages of blocks of a page or more (no madvise per free at exit). */
void msr_arena_ending(void);
void msr_hugepage(void *p, size_t n); /* MADV_HUGEPAGE on the aligned part */
void msr_arena_range(uint64_t *start, uint64_t *end);
size_t msr_arena_used(void);          /* bytes handed out from the region */
/* Under RLIMIT_AS: the region's size (the recorder's share of the limit),
 * else 0; starved: the limit is too small to record under (arena.c). */
size_t msr_arena_budget(void);
int msr_arena_starved(void);
void msr_prefault(void *p, size_t n);  /* write-map now (probed tables) */
/* The whole pages inside [p, p + n) back to the kernel (they read as
 * zeros); the first and last partial pages stay (a block's header, its
 * neighbour). errno kept. */
void msr_release_pages(void *p, size_t n);
/* Resident bytes of the region and, per size class 2^c, the blocks in use
 * and the free ones with their resident bytes (MEMSCOPE_DEBUG=1). */
typedef struct {
    size_t region_resident;
    size_t used[41], used_resident[41], free_blocks[41], free_resident[41];
} msr_arena_use;
void msr_arena_usage(msr_arena_use *u);

/* ---- live-block table (livetab.c; writer thread only) ------------------ */
extern uint64_t msr_lt_bytes;
extern size_t msr_lt_used;
extern size_t msr_lt_slots_max;
extern size_t msr_lt_grown[2];     /* segment growths: new block, in place   */
void msr_lt_insert(uint64_t a, uint64_t size);
void msr_lt_remove(uint64_t a);
int msr_lt_has(uint64_t a);
void msr_lt_prefetch(uint64_t a);
void msr_lt_reset(void);
size_t msr_lt_table_bytes(void);  /* slots and side map allocated now      */
/* calls each(arg, addr, size) for every live block, freeing the table */
size_t msr_lt_drain(void (*each)(void *arg, uint64_t addr, uint64_t size), void *arg);
int msr_arena_atfork_prepare(void);        /* 1: took the lock           */
void msr_arena_atfork_parent(int took);
void msr_arena_atfork_child(int took);

/* ---- a small lock with owner (usable from signal handlers) ------------- */
/* owner: 0 = free, else the address of a thread-local marker of the owning
 * thread (no gettid system call per lock: the stack lock is taken for every
 * new stack) */
typedef struct { _Atomic uintptr_t owner; } msr_lock;
extern MSR_TLS char msr_lock_self;     /* the marker (arena.c)             */
static inline uintptr_t msr_lock_me(void) { return (uintptr_t)&msr_lock_self; }
/* this thread holds l (a signal handler that interrupted it, asking) */
static inline int msr_lock_mine(const msr_lock *l)
{
    return atomic_load_explicit(&l->owner, memory_order_relaxed) == msr_lock_me();
}
int msr_gettid(void);
void msr_lock_take(msr_lock *l);
int msr_lock_try_for(msr_lock *l, uint64_t ms); /* 1 taken, 0 timeout, -1 self */
/* 1 taken; 0 when this thread holds it already (a signal handler that
 * interrupted it: the atfork handlers) */
int msr_lock_take_unless_mine(msr_lock *l);
void msr_lock_release(msr_lock *l);

/* ---- per-thread state -------------------------------------------------- */
/* A thread's ring starts at MSR_RING_MIN slots (16 KiB) and grows x4 up to
 * MSR_RING_CAP (1 MiB) when it fills half of it before the writer drains
 * it (interpose.c), so short-lived and quiet threads cost 16 KiB. Half a
 * ring used wakes the writer. */
#define MSR_RING_BITS 15          /* at most 32768 slots (1 MiB) per thread */
#define MSR_RING_CAP  (1u << MSR_RING_BITS)
#define MSR_RING_MIN  512u

/* One ring slot (32 bytes): the compact form of an ms_event. Reallocs and
 * ops with an alignment take a second slot (op MSR_SLOT_EXT, same time)
 * holding old_addr (in size) and align (in stack). The writer thread turns
 * slots into ms_events (drain.c). */
typedef struct msr_slot {
    uint64_t time;
    uint64_t addr;
    uint64_t size;
    uint32_t stack;
    uint8_t op;
    uint8_t pad[3];
} msr_slot;
#define MSR_SLOT_EXT 0xFFu
static inline int msr_op_ext(unsigned op) { return MS_OP_IS_REALLOC(op) || MS_OP_HAS_ALIGN(op); }
#ifndef MSR_CACHE_SIZE
#define MSR_CACHE_SIZE 16384      /* per-thread stack cache entries         */
#endif

struct msr_cache_ent { uint64_t hash; uint64_t id; };
struct msr_memo;
#ifndef MSR_MEMO_SIZE
#define MSR_MEMO_SIZE 16384       /* per-thread memo entries (stacks.c) */
#endif
#ifndef MSR_MEMO_WAYS
#define MSR_MEMO_WAYS 16          /* memo set associativity */
#endif
size_t msr_memo_bytes(void);
#define MSR_PEND 64               /* deferred signal-handler events/thread  */

typedef struct msr_thread {
    /* written by the owning thread */
    _Atomic uint64_t n;           /* events published                       */
    _Atomic uint32_t busy;        /* between timestamp and publish          */
    uint32_t wake_sent;
    _Atomic uint32_t hold;        /* set by the writer: wait before a slot  */
    _Atomic(msr_slot *) ring;     /* replaced only by the thread (growth)   */
    uint64_t mask;                /* ring slots - 1                         */
    uint64_t wake_at;             /* slots used that wake the writer / grow */
    _Atomic(msr_slot *) old_ring; /* replaced by a bigger one, writer frees */
    _Atomic uint32_t exiting;     /* set by the thread's TSD destructor     */
    uint32_t bounds_pending;      /* stack bounds still to read (attached
                                     inside pthread_getattr_np)             */
    uint64_t tid;
    uintptr_t stack_lo, stack_hi; /* 0, 0: unknown (stacks by libunwind)    */
    struct msr_cache_ent *cache;
    struct msr_memo *memo;        /* libunwind mode: validated stack memo   */
    _Atomic uint32_t waiting;     /* blocked on a full ring (space_seq)     */
    uint64_t n_dropped;
    uint64_t clk_last;            /* last clock reading (spec 8.2 reuse)    */
    uint32_t clk_left, clk_gen;   /* events it may still serve; msr_clk.gen */
    uint64_t clk_reads, clk_reused; /* readings; reused (MEMSCOPE_CLOCK_CHECK) */
    uint32_t clk_late[32];        /* reused times late by [2^i, 2^(i+1)) ticks */
    uint64_t memo_hits, memo_misses, cache_misses; /* MEMSCOPE_DEBUG=1 stats */
    uint64_t cfi_walks;           /* misses unwound by cached rules (cfi.c)  */
    _Atomic uint32_t set_name_seq; /* bumped after set_name is written      */
    char set_name[16];            /* pthread_setname_np on itself           */
    /* events of signal handlers that interrupted a hook of this thread,
     * written by the handler, recorded by the hook (interpose.c defer) */
    _Atomic uint32_t pend_n;
    struct msr_pend { uint64_t addr, size, old, ret; uint32_t align; uint8_t op, after; } pend[MSR_PEND];
    /* written by the writer */
    _Atomic uint64_t consumed __attribute__((aligned(64)));
    _Atomic uint32_t space_seq;   /* futex word: bumped to wake `waiting`   */
    int announced, dead;
    uint64_t batch_end;           /* writer scratch: end of current batch   */
    char name[20];                /* last name written (writer)             */
    uint32_t set_name_seen;       /* writer's copy of set_name_seq          */
    const msr_slot *wring;        /* the ring as of the epoch's cut         */
    uint64_t wmask;
    uint64_t idle_n;              /* n at the last timer epoch (drain.c)    */
    uint32_t idle_epochs;         /* timer epochs since n last moved        */
    uint32_t ring_released;       /* idle ring's pages given back           */
    struct msr_thread *next;      /* global list                            */
    struct msr_thread *next_free; /* pool of retired thread states          */
} msr_thread;

struct msr_tls {
    msr_thread *t;
    int guard;                    /* inside the recorder: 1, or
                                     MSR_GUARD_HOOK in a recording hook (an
                                     allocation or free seen then comes from
                                     a signal handler that interrupted it:
                                     deferred, interpose.c). Recorder code a
                                     hook calls that allocates through libc
                                     sets 1 and restores.                   */
    int no_thread;                /* thread state could not be created      */
    int in_getattr;               /* inside pthread_getattr_np (interpose.c) */
};
#define MSR_GUARD_HOOK 2
extern _Atomic uint64_t msr_deferred; /* signal handlers' events recorded
                                         by the hook they interrupted      */
extern _Atomic uint64_t msr_missed;   /* such events not recorded (no room,
                                         sampled traces): END n_dropped    */
extern MSR_TLS struct msr_tls msr_tls;

extern _Atomic(msr_thread *) msr_threads;   /* list head                    */
extern int msr_use_membarrier;
msr_thread *msr_thread_attach(void);
/* The calling thread's stack bounds into t (interpose.c). */
void msr_thread_bounds(msr_thread *t);
/* Events of threads whose state could not be allocated (not recorded). */
extern _Atomic uint64_t msr_unrecorded;
/* Writer side (interpose.c): at the epoch's cut, after loading t->n, take
 * the ring to read (wring/wmask) and free a ring the thread has replaced;
 * give the state of a retired (drained, THREAD_END written) thread back to
 * the pool the next new thread takes it from; in a fork child, forget the
 * pool lock. */
void msr_ring_snapshot(msr_thread *t);
void msr_thread_release(msr_thread *t);
void msr_threads_atfork_child(void);
int msr_exiting_poll(void);       /* writer: threads exiting, poll soon     */
void msr_wait_space(msr_thread *t, unsigned k); /* until k slots are free */
int msr_wait_hold(msr_thread *t);   /* the writer holds the ring (busy = 1 on
                                       0; -1: a copy of the process that no
                                       writer serves, busy = 0, drop)      */
/* Writer side: give the pages of t's ring back to the kernel (its slots
 * all consumed, and t exited or held: nothing writes them meanwhile). */
void msr_ring_release_pages(msr_thread *t);
void msr_stacks_release_pages(msr_thread *t);  /* its stack cache and memo */
void msr_futex_wake(_Atomic uint32_t *w);
/* Writer side: after handing slots back (consumed), wake a waiting thread
 * once a quarter of its ring is free (or always, at the end of an epoch):
 * waking it for every small piece would make it sleep again at once. */
static inline void msr_space_given(msr_thread *t, int always)
{
    atomic_thread_fence(memory_order_seq_cst);  /* consumed store | waiting load */
    if (MSR_UNLIKELY(atomic_load_explicit(&t->waiting, memory_order_relaxed)) &&
        (always || atomic_load_explicit(&t->n, memory_order_relaxed) -
                           atomic_load_explicit(&t->consumed, memory_order_relaxed) <=
                       (t->wmask + 1) - (t->wmask + 1) / 4)) {
        atomic_fetch_add_explicit(&t->space_seq, 1, memory_order_release);
        msr_futex_wake(&t->space_seq);
    }
}
void msr_wake_writer(void);
extern _Atomic uint32_t msr_wake_word;
extern _Atomic uint32_t msr_names_gen;  /* a thread renamed another      */

/* ---- Poisson byte sampling (sample.c) ----------------------------------- */
/* While msr_sampling is set, an allocation of n bytes is recorded only when
 * msr_sample_take(n) says so, and a free only when msr_sample_maybe(p) &&
 * msr_sample_forget(p) (p was recorded; it is forgotten). A recorded
 * sampled block must be msr_sample_remember'ed before the allocation
 * returns it. msr_sample_start(rate) begins a session (forgets the blocks of
 * an earlier one, sets msr_cfg.sample_rate and the leak scan's sampled
 * mode); call it before msr_mode becomes MSR_REC, and msr_sample_stop()
 * when recording stops. */
#define MSR_SAMPLE_RATE_MAX (1ull << 40)
#define MSR_SF_BITS 16
struct msr_stls {
    int64_t left;                 /* bytes to the next sample point         */
    uint64_t rng;                 /* xorshift64* state, 0 = not seeded      */
    uint64_t gen;                 /* session the gap was drawn in           */
};
extern MSR_TLS struct msr_stls msr_stls;
extern _Atomic int msr_sampling;
extern MSR_HIDDEN _Atomic uint8_t msr_sfilter[1u << MSR_SF_BITS];
int msr_sample_due(uint64_t n);
/* The unsampled fast path: one subtract and one branch. (A size above
 * INT64_MAX, which no allocator serves, adds instead and is not sampled.) */
static inline int msr_sample_take(uint64_t n)
{
    int64_t l = msr_stls.left - (int64_t)n;
    msr_stls.left = l;
    if (MSR_LIKELY(l > 0)) return 0;
    return msr_sample_due(n);
}
/* Blocks are 16-byte aligned: neighbours get neighbouring counters. */
static inline size_t msr_sf_index(uint64_t a)
{
    return (size_t)((a >> 4) & ((1u << MSR_SF_BITS) - 1));
}
/* 0: p is certainly not a live sampled block. */
static inline int msr_sample_maybe(const void *p)
{
    return atomic_load_explicit(&msr_sfilter[msr_sf_index((uint64_t)(uintptr_t)p)],
                                memory_order_relaxed) != 0;
}
/* The fast paths of malloc and free (interpose.c) read only the thread's
 * byte counter and one filter counter: malloc subtracts its size from
 * msr_stls.left and goes on to its slow path only when the result is <=
 * msr_fast_thr; free goes on to its slow path only when p's filter counter
 * is non-zero. So msr_fast_thr is 0 in a sampled trace; INT64_MAX (every
 * call slow) before msr_early_init and in a full trace, where every filter
 * counter is 255 too; INT64_MIN when not recording. The bootstrap pool's
 * blocks always have a counter of 255 (msr_sf_mark: their frees must be
 * dropped). msr_fast_set(rec): call with 1 just before msr_mode becomes
 * MSR_REC (after msr_sample_start), with 0 after it became MSR_OFF. The
 * slow paths decide everything again: a stale setting costs time, never
 * an event, as long as the setting for a trace is made before it starts. */
extern MSR_HIDDEN _Atomic int64_t msr_fast_thr;
void msr_fast_set(int rec);
/* A fork child that stops recording: as msr_fast_set(0), the filter
 * emptied only at its first free (msr_filter_settle, from free_slow). */
void msr_fast_set_child(void);
void msr_filter_settle(void);
void msr_sf_mark(const void *p);
int msr_sample_remember(const void *p);   /* 0, or -1: no memory (drop it)  */
int msr_sample_forget(const void *p);     /* 1 if p was a live sampled block */
int msr_sample_parse(const char *s, uint64_t *out);  /* "4096", "512K", "1MiB" */
void msr_sample_start(uint64_t rate);
void msr_sample_stop(void);
void msr_sample_atfork_prepare(void);
void msr_sample_atfork_parent(void);
void msr_sample_atfork_child(int keep);

/* ---- stacks ------------------------------------------------------------ */
int msr_stacks_init(void);
/* before a dlclose: libunwind stops using the module tables msr_stacks_init
 * gave it; wait: until no unwind of ours reads them (stacks.c) */
void msr_unw_dyn_withdraw(int wait);
extern int msr_stacks_ready;      /* msr_stacks_init has succeeded          */
/* the .eh_frame_hdr binary-search table (version 1, datarel sdata4 pairs)
 * at h, its entry count in *count; NULL if h is no such header */
const unsigned char *msr_eh_table(const unsigned char *h, uint32_t *count);
/* cfi.c: the unwind-rule cache. msr_cfi_walk fills ips (innermost first,
 * ips[0] = ret) and the stack slots they were read from, from the entry
 * point's frame; returns the depth, or -1: unwind with libunwind */
void msr_cfi_init(void);
int msr_cfi_walk(const msr_thread *t, uint64_t ret, uintptr_t frame, uint64_t *ips,
                 uint64_t *slots, int max);
/* around a dlclose: no cached rule outlives the module's code. begin
 * returns 1 when end must follow; wait = 0 (maybe amid a walk of this
 * thread) turns the cache off for good */
int msr_cfi_unload_begin(int wait);
void msr_cfi_unload_end(void);
void msr_cfi_atfork_child(void);
/* Capture the caller's stack: ret = return address of the public entry
 * point, frame = its frame address. Returns the interned stack id. */
uint64_t msr_capture_stack(msr_thread *t, void *ret, void *frame);
/* The one-frame stack [ip] (a signal handler's deferred event). */
uint64_t msr_stack_of_ip(msr_thread *t, uint64_t ip);
extern _Atomic uint64_t msr_nodes_count;  /* nodes published (ids 1..count) */
extern ms_stack_node *msr_nodes;          /* msr_nodes[id-1]                */
extern msr_lock msr_stack_lock;
void msr_stacks_atfork_child(int reset_lock);

/* ---- drain / writer ---------------------------------------------------- */
extern ms_writer *msr_writer;
extern msr_lock msr_writer_lock;
int msr_drain_start(void);        /* start the writer thread                */
void msr_drain_atfork_child(int follow);
/* Finish the trace. reason MS_END_*; detail = status or signal. Only the
 * first caller does anything. crash = from a fatal signal handler. */
void msr_finish(uint32_t reason, int64_t detail, int crash);
/* The process leaves without its exit handlers (_exit, _Exit,
 * syscall(SYS_exit_group)): finish the trace (control.c). */
void msr_uexit(int status, void *frame);
void msr_write_meta(void);        /* called by drain before anything else   */
void msr_ensure_meta(void);       /* META + modules if not written (lock)   */
void msr_queue_mark(const char *name);
void msr_queue_label(const void *p, const char *var, const char *type);
int msr_open_output(pid_t pid, int child); /* open msr_writer (cfg, pid) */
/* msr_writer on fd, an empty file open for writing (placed high and
 * protected like msr_open_output's); 0, or an MS_E* code with fd closed. */
int msr_writer_on_fd(int fd);
/* Forget what the last trace wrote (tables, counters, stack nodes and
 * modules written, queued marks) and the threads that have exited since,
 * so that a new file starts afresh; the writer thread must not run. */
void msr_drain_reset(void);
/* Under the writer lock: heap events seen and bytes written so far. */
void msr_drain_progress(uint64_t *events, uint64_t *bytes);
/* What the last msr_finish wrote into END (session.c reports it). */
struct msr_end_note {
    uint32_t reason;
    int64_t detail;
    uint64_t events, events_written, bytes, write_errors;
    int first_errno;
};
extern struct msr_end_note msr_last_end;

extern _Atomic int msr_modules_dirty;
extern int msr_meta_written;       /* META is in the file (writer lock)     */
extern pid_t msr_pid;               /* pid of the recording process          */
void msr_export_reports(void);    /* MEMSCOPE_EXPORT_FORMAT after close     */
void msr_say(const char *a, const char *b, const char *c); /* stderr line */
void msr_meta_prefetch(void);        /* cmdline, boot id: before the program runs */
void msr_statm_open(void);           /* the SAMPLE records' statm, kept open (drain.c) */
void msr_thread_renamed(const char *name);   /* the calling thread's new name */

#endif
