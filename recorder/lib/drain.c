/*
 * drain.c — the background writer thread of libmemscope and trace finishing.
 *
 * Application threads only store events (32-byte slots) into their own
 * rings. This thread wakes when a ring is half full or every 25 ms and runs
 * an "epoch" under the writer lock: it reads its clock (barrier time T),
 * forces a memory barrier on every running thread (membarrier(2)
 * PRIVATE_EXPEDITED; without it the app threads use a locked exchange
 * instead), waits for threads that are between timestamp and publish, and
 * then knows that every event with time < T is in some ring. It writes the
 * new STACK nodes and THREAD records, replays the events with time < T
 * merged by time (ties: spec 8.3) into the live table (address -> size),
 * which gives SAMPLE's live bytes and the LIVE_BLOCKS at exit, and then
 * streams each thread's events into EVENTS chunks of up to 16 384 events
 * (ms_writer_events_begin/add/end through a small buffer), handing each
 * converted piece of ring back to its thread at once so the thread need not
 * wait for compression. Why this order: the app thread is the critical path
 * and the writer's work per event (~15-20 ns) is about the app's, so the
 * ring must be freed as early as possible. Every 50 ms it adds
 * SAMPLE and SYNC{T} and flushes, so a kill -9 loses at most ~50 ms; the
 * other epochs end with SYNC{T} too, so readers merge short windows.
 * msr_finish (exit, _exit, fatal signal, a detach) stops the thread (joins it
 * only when the process goes on) and does a last epoch in the caller, then MAPS/PROC_MEM, LIVE_BLOCKS (leak classes;
 * not in a window trace, whose older blocks are unknown) and END; on the
 * crash path the writer goes raw (no zstd). msr_drain_reset readies
 * everything for the next session's file (session.c). The trace holds raw
 * ips (STACK) and the module map (MODULE): symbols are resolved later by
 * msrec/msconv in their own process (recorder/symbolize/), so nothing of
 * libdw runs (or is even loaded) in the traced program.
 */
#include "recorder_internal.h"
#include "fdguard.h"
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <linux/membarrier.h>
#include <sys/syscall.h>

ms_writer *msr_writer;
msr_lock msr_writer_lock;
_Atomic int msr_modules_dirty;

static pthread_t writer_thr;
static int writer_running;
static _Atomic int writer_tid;
_Atomic int msr_writer_alive;
static _Atomic int writer_stop;
static uint64_t nodes_written;
int msr_meta_written;
static uint64_t last_sync_ns;
static unsigned long long dl_adds = ~0ull, dl_subs = ~0ull;

static struct {
    uint64_t n_events, n_allocs, n_frees, alloc_bytes, n_dropped;
} st;
static uint64_t rec_alloc_errors;   /* recorder buffers not allocated */
struct msr_end_note msr_last_end;

static void replay(const ms_event *e)
{
    st.n_events++;
    uint8_t op = e->op;
    if (MS_OP_IS_FREE(op)) {
        if (e->addr) {
            st.n_frees++;
            msr_lt_remove(e->addr);
            msr_leak_rt_free(e->addr);
        }
    } else if (MS_OP_IS_REALLOC(op)) {
        if (e->addr == 0 && e->size > 0) return; /* failed: old stays live */
        if (e->old_addr) {
            st.n_frees++;
            msr_lt_remove(e->old_addr);
            msr_leak_rt_free(e->old_addr);
        }
        if (e->addr) {
            st.n_allocs++;
            st.alloc_bytes += e->size;
            msr_lt_insert(e->addr, e->size);
            msr_leak_rt_alloc(e->addr, e->stack);
        }
    } else if (e->addr) {
        st.n_allocs++;
        st.alloc_bytes += e->size;
        msr_lt_insert(e->addr, e->size);
        msr_leak_rt_alloc(e->addr, e->stack);
    }
}

/* ------------------------------------------------------------------------ */
/* Marks and labels queued by application threads                          */
/* ------------------------------------------------------------------------ */
struct qent {
    struct qent *next;
    uint32_t type;
    uint64_t time, tid, addr;
    char *a, *b;
};
static msr_lock q_lock;
static struct qent *q_head, *q_tail;

static char *dupstr(const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s);
    if (n > 4096) n = 4096;
    char *d = msr_alloc(n + 1);
    if (d) memcpy(d, s, n);
    return d;
}

static void queue(uint32_t type, uint64_t addr, const char *a, const char *b)
{
    struct qent *q = msr_alloc(sizeof *q);
    if (!q) return;
    q->type = type;
    q->tid = (uint64_t)msr_gettid();
    q->addr = addr;
    q->a = dupstr(a);
    q->b = dupstr(b);
    msr_lock_take(&q_lock);
    q->time = msr_now();
    if (q_tail) q_tail->next = q;
    else q_head = q;
    q_tail = q;
    msr_lock_release(&q_lock);
}

void msr_queue_mark(const char *name) { queue(MS_REC_MARK, 0, name, NULL); }
void msr_queue_label(const void *p, const char *var, const char *type)
{
    queue(MS_REC_LABEL, (uint64_t)(uintptr_t)p, var, type);
}

static ms_str mkstr(const char *s) { ms_str r = {s, s ? strlen(s) : 0}; return r; }

static void write_queue(uint64_t T)
{
    for (;;) {
        msr_lock_take(&q_lock);
        struct qent *q = q_head;
        if (!q || q->time >= T) {
            msr_lock_release(&q_lock);
            return;
        }
        q_head = q->next;
        if (!q_head) q_tail = NULL;
        msr_lock_release(&q_lock);
        ms_record r;
        memset(&r, 0, sizeof r);
        r.type = q->type;
        if (q->type == MS_REC_MARK) {
            r.u.mark.time = q->time;
            r.u.mark.tid = q->tid;
            r.u.mark.name = mkstr(q->a);
        } else {
            r.u.label.time = q->time;
            r.u.label.tid = q->tid;
            r.u.label.addr = q->addr;
            r.u.label.var_name = mkstr(q->a);
            r.u.label.type_name = mkstr(q->b);
        }
        ms_writer_add(msr_writer, &r);
        msr_free(q->a);
        msr_free(q->b);
        msr_free(q);
    }
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = 0;
    while ((size_t)n < cap) {
        ssize_t r = read(fd, buf + n, cap - (size_t)n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += r;
    }
    close(fd);
    return n;
}

/* /proc/self/statm, opened once before the program runs and kept (high,
 * protected): read at every SAMPLE, its open took the lowest free number
 * while the program's other threads were opening files. */
static int statm_fd = -1;

void msr_statm_open(void)
{
    if (statm_fd >= 0) {
        msr_fdguard_remove(statm_fd);
        close(statm_fd);
        statm_fd = -1;
    }
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    fd = msr_fdguard_place_high(fd);
    msr_fdguard_add(fd);
    statm_fd = fd;
}

static uint64_t read_rss(void)
{
    char buf[128];
    if (statm_fd >= 0 && !msr_fdguard_same(statm_fd)) {
        /* closed behind the guard (a raw close), maybe reused: not ours */
        msr_fdguard_remove(statm_fd);
        statm_fd = -1;
    }
    ssize_t n = statm_fd >= 0 ? pread(statm_fd, buf, sizeof buf - 1, 0)
                              : read_small("/proc/self/statm", buf, sizeof buf - 1);
    if (n <= 0) return 0;
    buf[n] = 0;
    const char *p = buf;
    while (*p && *p != ' ') p++;
    while (*p == ' ') p++;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + (uint64_t)(*p++ - '0');
    return v * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void thread_name(uint64_t tid, char *out, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%llu/comm", (unsigned long long)tid);
    ssize_t n = read_small(path, out, cap - 1);
    if (n < 0) n = 0;
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == 0)) n--;
    out[n] = 0;
}

static int dl_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    unsigned long long *v = arg;
    v[0] = info->dlpi_adds;
    v[1] = info->dlpi_subs;
    return 1;
}

static void write_sample(uint64_t T)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SAMPLE;
    r.u.sample.time = T;
    r.u.sample.rss = read_rss();
    r.u.sample.heap_live = msr_lt_bytes;
    r.u.sample.heap_blocks = msr_lt_used;
    ms_writer_add(msr_writer, &r);
}

/* the SYNC window being written (spec 8.3): its start, and whether every
 * event written since that SYNC is this epoch's (an epoch that could not
 * promise SYNC joins its events to the next window) */
static uint64_t win_lo;
static int win_fresh = 1;

static void write_sync(uint64_t T)
{
    win_lo = T;
    win_fresh = 1;
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_SYNC;
    r.u.sync.time = T;
    ms_writer_add(msr_writer, &r);
}

static void write_nodes(void)
{
    uint64_t count = atomic_load_explicit(&msr_nodes_count, memory_order_acquire);
    while (nodes_written < count) {
        uint64_t k = count - nodes_written;
        if (k > 8192) k = 8192;
        ms_record r;
        memset(&r, 0, sizeof r);
        r.type = MS_REC_STACK;
        r.u.stack.first_id = nodes_written + 1;
        r.u.stack.count = (uint32_t)k;
        r.u.stack.nodes = msr_nodes + nodes_written;
        if (ms_writer_add(msr_writer, &r) < 0) return;
        nodes_written += k;
    }
}

static void write_thread(msr_thread *t, uint64_t time)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_THREAD;
    r.u.thread.tid = t->tid;
    r.u.thread.time = time;
    r.u.thread.name = mkstr(t->name);
    ms_writer_add(msr_writer, &r);
}

static void write_thread_end(msr_thread *t, uint64_t time)
{
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_THREAD_END;
    r.u.thread_end.tid = t->tid;
    r.u.thread_end.time = time;
    ms_writer_add(msr_writer, &r);
}

/* Take t (preceded by prev, NULL at the head) out of the thread list; the
 * head may have new threads pushed in front meanwhile. 1 when unlinked. */
static int thread_unlink(msr_thread *prev, msr_thread *t)
{
    msr_thread *next = t->next;
    if (prev) {
        prev->next = next;
        return 1;
    }
    msr_thread *exp = t;
    if (atomic_compare_exchange_strong(&msr_threads, &exp, next)) return 1;
    for (msr_thread *p = atomic_load(&msr_threads); p; p = p->next)
        if (p->next == t) {
            p->next = next;
            return 1;
        }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Epoch                                                                    */
/* ------------------------------------------------------------------------ */

/* Ring slots -> events. A slot with an extension (realloc, aligned ops)
 * is followed by its MSR_SLOT_EXT slot. */
#define RING(t, i) (&(t)->wring[(i) & (t)->wmask])    /* the ring as of the cut */

/* Give converted ring lines back to memory. A line this thread read is
 * shared between its cache and the application thread's, which writes it
 * again one lap later and must first take it from this core: measured on a
 * 2-vCPU AMD EPYC VM, merely reading each slot here made pairs (one thread,
 * 20 M events) take 1.1-1.5 s instead of 0.54-0.65 s (1.2 s of CPU instead
 * of 0.6), prefetching on the application's side notwithstanding; with the
 * lines flushed after reading, 0.53-0.74 s. A flush only changes where
 * the line is cached, never its contents (a line the thread writes in the
 * meantime is merely fetched again). CLFLUSHOPT where the CPU has it
 * (unordered), else CLFLUSH; MEMSCOPE_RING_FLUSH=0 turns it off. */
static int msr_ring_flush = -1;  /* 0 off, 1 clflush, 2 clflushopt */

static void ring_flush_init(void)
{
    int f = 0;
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (d & (1u << 19))) f = 1;
    if (f && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 23))) f = 2;
#endif
    const char *v = secure_getenv("MEMSCOPE_RING_FLUSH");
    if (v && !strcmp(v, "0")) f = 0;
    msr_ring_flush = f;
}

/* slots [from, to) of t's ring, as of the cut: two slots a line, the
 * first of each pair on a line's start (interpose.c ring_new) */
_Static_assert(sizeof(msr_slot) == 32, "ring_flush pairs two slots a cache line");
static void ring_flush(const msr_thread *t, uint64_t from, uint64_t to)
{
#if defined(__x86_64__)
    if (!msr_ring_flush) return;
    for (uint64_t i = from & ~(uint64_t)1; i < to; i += 2) {
        const char *l = (const char *)&t->wring[i & t->wmask];
        if (msr_ring_flush == 2)
            __asm__ __volatile__("clflushopt %0" : : "m"(*l));
        else
            __asm__ __volatile__("clflush %0" : : "m"(*l));
    }
#else
    (void)t, (void)from, (void)to;
#endif
}

static inline unsigned slot_event(const msr_thread *t, uint64_t i, ms_event *e)
{
    const msr_slot *s = RING(t, i);
    e->time = s->time;
    e->tid = t->tid;
    e->addr = s->addr;
    e->size = s->size;
    e->stack = s->stack;
    e->op = s->op;
    e->old_addr = 0;
    e->align = 0;
    if (MSR_UNLIKELY(msr_op_ext(s->op))) {
        const msr_slot *x = RING(t, i + 1);
        if (MS_OP_IS_REALLOC(s->op)) e->old_addr = x->size;
        else e->align = x->stack;
        return 2;
    }
    return 1;
}

/* Merge heap for replay in time order across threads. */
struct cur { msr_thread *t; uint64_t i, end; };

static inline uint64_t cur_time(const struct cur *c)
{
    return RING(c->t, c->i)->time;
}

static void heap_down(struct cur *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cur_time(&h[l]) < cur_time(&h[m])) m = l;
        if (r < n && cur_time(&h[r]) < cur_time(&h[m])) m = r;
        if (m == i) return;
        struct cur tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

static struct cur *curs;
static size_t curs_cap;
static ms_event *scratch;             /* slots -> events for the writer      */
#define SCRATCH_CAP 512u              /* events per piece (28 KiB)           */
#define CHUNK_EVENTS 16384u           /* events per EVENTS chunk             */

/* Does this thread's next event fit the live table? (the tie rule of spec
 * 8.3: on equal times a free goes after the allocation of its address, an
 * allocation after the free of the address it returns) */
static int fits(const msr_slot *s, const msr_slot *x)
{
    if (MS_OP_IS_FREE(s->op)) return !s->addr || msr_lt_has(s->addr);
    if (MS_OP_IS_REALLOC(s->op)) return !x->size || msr_lt_has(x->size);
    return !s->addr || !msr_lt_has(s->addr);
}

/* An alloc immediately followed, in the same thread, by the free of that
 * block cancels out in the live table whatever other threads did meanwhile
 * (nobody else can touch a live block): count it, skip the table. Returns
 * the slots consumed by the event (or the cancelling pair). */
struct pairs { uint64_t n, bytes; };   /* cancelled pairs, added to st later */

static inline int pair_at(const msr_thread *t, uint64_t i, uint64_t end)
{
    const msr_slot *a = RING(t, i);
    if (msr_op_ext(a->op) || i + 1 >= end || MS_OP_IS_FREE(a->op) || !a->addr) return 0;
    const msr_slot *b = RING(t, i + 1);
    return MS_OP_IS_FREE(b->op) && b->addr == a->addr;
}

static inline unsigned replay_at(msr_thread *t, uint64_t i, uint64_t end, struct pairs *pc)
{
    if (pair_at(t, i, end)) {
        pc->n++;                      /* (a local: no store-forwarding chain) */
        pc->bytes += RING(t, i)->size;
        return 2;
    }
    ms_event e;
    unsigned k = slot_event(t, i, &e);
    replay(&e);
    return k;
}

static void replay_cursors(size_t n, struct pairs *pc);

/* Prefetch the live-table slot of the event at ring position j (unless it
 * is half of a cancelling pair): blocks freed in random order otherwise
 * cost a cache miss each in a table of tens of MiB. */
static inline void lt_prefetch(const msr_thread *t, uint64_t j, uint64_t lo, uint64_t end)
{
    if (j >= end) return;
    const msr_slot *s = RING(t, j);
    uint64_t a = s->addr;
    if (!a || s->op == MSR_SLOT_EXT) return;
    if (MS_OP_IS_FREE(s->op)) {
        if (j > lo) {
            const msr_slot *p = RING(t, j - 1);
            if (p->addr == a && !MS_OP_IS_FREE(p->op)) return;
        }
    } else if (j + 1 < end) {
        const msr_slot *q = RING(t, j + 1);
        if (q->addr == a && MS_OP_IS_FREE(q->op)) return;
    }
    msr_lt_prefetch(a);
}

static void replay_merged(size_t n)
{
    struct pairs pc = {0, 0};
    replay_cursors(n, &pc);
    st.n_events += 2 * pc.n;
    st.n_allocs += pc.n;
    st.n_frees += pc.n;
    st.alloc_bytes += pc.bytes;
}

static void replay_cursors(size_t n, struct pairs *pc)
{
    if (n == 1) {
        msr_thread *t = curs[0].t;
        uint64_t i = curs[0].i, end = curs[0].end, lo = i;
        for (uint64_t j = i; j < i + 8; j++) lt_prefetch(t, j, lo, end);
        while (i < end) {
            unsigned k = replay_at(t, i, end, pc);
            for (unsigned x = 0; x < k; x++) lt_prefetch(t, i + 8 + x, lo, end);
            i += k;
        }
        return;
    }
    for (size_t i = n / 2; i-- > 0;) heap_down(curs, n, i);
    while (n > 0) {
        /* tie at the top: take a child with the same time whose event
         * fits the table when the root's does not (equal keys: the heap
         * order holds after the swap) */
        uint64_t t0 = cur_time(&curs[0]);
        for (size_t c = 1; c <= 2 && c < n; c++) {
            if (cur_time(&curs[c]) != t0) continue;
            const msr_slot *s = RING(curs[0].t, curs[0].i);
            if (fits(s, RING(curs[0].t, curs[0].i + 1))) break;
            const msr_slot *o = RING(curs[c].t, curs[c].i);
            if (fits(o, RING(curs[c].t, curs[c].i + 1))) {
                struct cur tmp = curs[0];
                curs[0] = curs[c];
                curs[c] = tmp;
                break;
            }
        }
        /* then a run: this thread stays first while its next event is
         * older than every other head, or as old and either half of a
         * cancelling pair (touches no shared state) or fitting the table;
         * with ~0.4 us ticks most heads tie, so this saves a heap step and
         * a table lookup per event */
        struct cur *c = &curs[0];
        uint64_t lim = n > 1 ? cur_time(&curs[1]) : UINT64_MAX;
        if (n > 2 && cur_time(&curs[2]) < lim) lim = cur_time(&curs[2]);
        for (;;) {
            c->i += replay_at(c->t, c->i, c->end, pc);
            if (c->i >= c->end) break;
            uint64_t tc = cur_time(c);
            if (tc < lim) continue;
            if (tc > lim) break;
            const msr_slot *s = RING(c->t, c->i), *x = RING(c->t, c->i + 1);
            if (pair_at(c->t, c->i, c->end) || fits(s, x)) continue;
            break;
        }
        if (c->i >= c->end) curs[0] = curs[--n];
        heap_down(curs, n, 0);
    }
}

/* ------------------------------------------------------------------------ */
/* Time grid of one-thread windows (spec 8.2)                               */
/* ------------------------------------------------------------------------ */
/* In a SYNC window (previous SYNC to this one) where only one thread wrote
 * heap events and no MARK or LABEL falls, no order across threads exists
 * to keep and a thread's own order is its stream order, so the times are
 * rounded down to a grid of 2^k ticks (the largest <= MEMSCOPE_TIME_GRID
 * us, default 100: 256 ticks = 97 us with TSC/1024 at 2.7 GHz; 50-100 us
 * for any clock), never below the window's start. Tick-level deltas are
 * the most random bytes of a single-threaded trace (bench/tracesize.sh);
 * multiples of the grid mostly repeat. Not on the crash path (the queue
 * lock may be held by the interrupted thread). */
static uint64_t grid_mask;            /* 2^k - 1 ticks; 0 = exact times     */
static int grid_ready;

static void grid_init(void)
{
    grid_ready = 1;
    grid_mask = 0;
    uint64_t us = 100;
    const char *v = secure_getenv("MEMSCOPE_TIME_GRID");
    if (v && *v) {
        char *end;
        unsigned long long n = strtoull(v, &end, 10);
        if (*end || n > 150) {
            char tmp[300];
            snprintf(tmp, sizeof tmp, "MEMSCOPE_TIME_GRID=%.200s, using default", v);
            msr_say("bad ", tmp, "");
        } else {
            us = n;
        }
    }
    uint64_t ticks = (uint64_t)((unsigned __int128)msr_clock_hz() * us / 1000000u);
    while (ticks >= 2 * (grid_mask + 1)) grid_mask = 2 * grid_mask + 1;
}

static inline uint64_t grid_time(uint64_t t, uint64_t lo)
{
    uint64_t r = t & ~grid_mask;
    return r >= lo ? r : t < lo ? t : lo;
}

/* One EVENTS chunk per CHUNK_EVENTS events: a first pass over the slots
 * ORs the addresses (the chunk's shift), then the events go to the format
 * writer through a small scratch array that stays in the L1/L2 cache, and
 * each converted piece of slots goes back to its thread at once. grid:
 * round times to the grid (the window's one thread). */
static void write_events(msr_thread *t, uint64_t from, uint64_t to, int grid)
{
    if (!scratch) {
        scratch = msr_alloc_raw(SCRATCH_CAP * sizeof *scratch);
        if (!scratch) {
            rec_alloc_errors++;       /* these events are lost: END says so */
            return;
        }
    }
    while (from < to) {
        uint64_t bits = 0, end = from;
        size_t nev = 0;
        while (end < to && nev < CHUNK_EVENTS) {
            const msr_slot *s = RING(t, end);
            bits |= s->addr;
            if (MSR_UNLIKELY(msr_op_ext(s->op))) {
                if (MS_OP_IS_REALLOC(s->op)) bits |= RING(t, end + 1)->size;
                end += 2;
            } else {
                end++;
            }
            nev++;
        }
        if (ms_writer_events_begin(msr_writer, t->tid, bits) != 0) {
            atomic_store_explicit(&t->consumed, end, memory_order_release);
            msr_space_given(t, 0);
            from = end;
            continue;
        }
        while (from < end) {
            size_t k = 0;
            uint64_t piece = from;
            while (from < end && k < SCRATCH_CAP) from += slot_event(t, from, &scratch[k++]);
            if (grid)
                for (size_t j = 0; j < k; j++) scratch[j].time = grid_time(scratch[j].time, win_lo);
            ring_flush(t, piece, from);
            atomic_store_explicit(&t->consumed, from, memory_order_release);
            msr_space_given(t, 0);
            ms_writer_events_add(msr_writer, scratch, k);
        }
        ms_writer_events_end(msr_writer);
    }
}

enum { EP_NORMAL = 0, EP_FINAL = 1, EP_CRASH = 2 };

/* Idle threads. A ring grows to 1 MiB in a burst and would keep its pages
 * for good (64 threads idle after a burst held 64 MiB), and a stack cache
 * and memo (256 KiB and up to 2 MiB) keep what their thread once touched.
 * A thread whose n has not moved for IDLE_EPOCHS timer epochs (50 ms
 * apart) is held for one epoch (hold: its next slot store waits,
 * msr_wait_hold) and, its ring all consumed, the pages of its ring, cache
 * and memo go back to the kernel; later events fault them in again (the
 * cache and memo refill like any cold cache). The hold is set before the
 * epoch's barrier, which with the wait for busy makes sure no slot store
 * of the thread is under way while the ring's pages go. */
#define IDLE_EPOCHS 8

static void hold_idle(int me)
{
    for (msr_thread *t = atomic_load_explicit(&msr_threads, memory_order_acquire); t; t = t->next) {
        uint64_t n = atomic_load_explicit(&t->n, memory_order_relaxed);
        if (n != t->idle_n) {
            t->idle_n = n;
            t->idle_epochs = 0;
            t->ring_released = 0;
            continue;
        }
        if (t->ring_released || t->dead || (int)t->tid == me || ++t->idle_epochs < IDLE_EPOCHS)
            continue;
        atomic_store_explicit(&t->hold, 1, memory_order_seq_cst);
    }
}

/* After the barrier and the wait for busy: np = t's n as read then. */
static void release_idle(msr_thread *t, uint64_t np)
{
    if (!atomic_load_explicit(&t->busy, memory_order_acquire) &&
        np == atomic_load_explicit(&t->consumed, memory_order_relaxed)) {
        msr_ring_release_pages(t);
        msr_stacks_release_pages(t);
        t->ring_released = 1;
    }
    atomic_store_explicit(&t->hold, 0, memory_order_release);
}

static void epoch(int kind, int timer)
{
    int me = msr_gettid();
    uint64_t T = msr_now();
    if (kind != EP_NORMAL) T = UINT64_MAX;
    if (timer && kind == EP_NORMAL) hold_idle(me);
    /* reused readings stay >= T from here on (spec 8.2): set before the
     * barrier, like a reading taken after T */
    if (kind == EP_NORMAL) atomic_store_explicit(&msr_clk.floor, T, memory_order_relaxed);
    if (msr_use_membarrier)
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    else
        atomic_thread_fence(memory_order_seq_cst);

    msr_thread *head = atomic_load_explicit(&msr_threads, memory_order_acquire);
    size_t nthreads = 0;
    pid_t pid = getpid();
    for (msr_thread *t = head; t; t = t->next) {
        nthreads++;
        if ((timer || atomic_load_explicit(&t->exiting, memory_order_relaxed)) && !t->dead &&
            syscall(SYS_tgkill, pid, (pid_t)t->tid, 0) != 0 && errno == ESRCH)
            t->dead = 1;
    }
    if (nthreads > curs_cap) {
        size_t nc = nthreads * 2 + 16;
        struct cur *c = msr_alloc(nc * sizeof *c);
        if (c) {
            msr_free(curs);
            curs = c;
            curs_cap = nc;
        }
    }
    size_t ncur = 0, nact = 0;
    int sync_ok = 1;
    for (msr_thread *t = head; t; t = t->next) {
        /* Wait (bounded) for a thread between timestamp and publish. The
         * calling thread itself may be busy (a signal handler that calls
         * exit interrupted it); a thread stuck longer than the deadline is
         * skipped and this epoch writes no SYNC. */
        if ((int)t->tid != me) {
            uint64_t deadline = 0;
            int spins = 0;
            while (atomic_load_explicit(&t->busy, memory_order_acquire)) {
                if (++spins > 100) {
                    if (!deadline) deadline = msr_mono_ns() + 200000000ull;
                    else if (msr_mono_ns() > deadline) {
                        sync_ok = 0;
                        break;
                    }
                    struct timespec ts = {0, 20000};
                    nanosleep(&ts, NULL);
                }
            }
        }
        uint64_t np = atomic_load_explicit(&t->n, memory_order_acquire);
        if (MSR_UNLIKELY(atomic_load_explicit(&t->hold, memory_order_relaxed))) release_idle(t, np);
        msr_ring_snapshot(t);
        uint64_t c = atomic_load_explicit(&t->consumed, memory_order_relaxed);
        uint64_t e = np;
        while (e > c && RING(t, e - 1)->time >= T) e--;   /* an EXT slot has its event's time */
        t->batch_end = e;
        nact += e > c;
        if (e > c && ncur < curs_cap) {
            curs[ncur].t = t;
            curs[ncur].i = c;
            curs[ncur].end = e;
            ncur++;
        }
    }

    uint64_t now = kind == EP_NORMAL ? T : msr_now();
    if (!msr_meta_written) {
        msr_ensure_meta();
    } else if ((timer || kind != EP_NORMAL || msr_modules_dirty) && kind != EP_CRASH) {
        /* (not in a fatal signal handler: the loader lock may be held) */
        unsigned long long v[2] = {0, 0};
        dl_iterate_phdr(dl_cb, v);
        if (v[0] != dl_adds || v[1] != dl_subs || msr_modules_dirty) {
            dl_adds = v[0];
            dl_subs = v[1];
            msr_modules_dirty = 0;
            msr_modules_sync(msr_writer, now);
        }
    }
    write_nodes();

    static uint32_t names_gen_seen;
    uint32_t gen = atomic_load_explicit(&msr_names_gen, memory_order_acquire);
    /* another thread was renamed (pthread_setname_np of another thread):
     * read every name again; a thread's own renames come through
     * set_name_seq (pthread_setname_np, prctl PR_SET_NAME) */
    int names = gen != names_gen_seen;
    names_gen_seen = gen;
    for (msr_thread *t = head; t; t = t->next) {
        uint32_t seq = atomic_load_explicit(&t->set_name_seq, memory_order_acquire);
        if (seq != t->set_name_seen) {
            t->set_name_seen = seq;
            char nm[sizeof t->name];
            memcpy(nm, t->set_name, sizeof t->set_name);
            nm[sizeof t->set_name - 1] = 0;
            if (strcmp(nm, t->name) != 0) {
                memcpy(t->name, nm, sizeof nm);
                if (t->announced) write_thread(t, now);
            }
        }
        if (!t->announced) {
            /* t->name: the thread's own, read with PR_GET_NAME when it
             * attached (no /proc file opened by this thread while the
             * program opens its own) */
            write_thread(t, now);
            t->announced = 1;
        } else if (names && !t->dead) {
            char nm[sizeof t->name];
            thread_name(t->tid, nm, sizeof nm);
            if (nm[0] && strcmp(nm, t->name) != 0) {
                memcpy(t->name, nm, sizeof nm);
                write_thread(t, now);
            }
        }
    }
    if (kind != EP_CRASH && !grid_ready) grid_init();
    int grid = 0;
    if (grid_mask && win_fresh && sync_ok && nact == 1 && kind != EP_CRASH) {
        msr_lock_take(&q_lock);
        grid = !q_head || q_head->time >= T;
        msr_lock_release(&q_lock);
    }
    /* replay first: then the batch is only needed until write_events has
     * copied it out, and each copied piece goes back to its thread at once
     * (the thread keeps running while the piece is compressed) */
    replay_merged(ncur);
    for (msr_thread *t = head; t; t = t->next) {
        uint64_t c = atomic_load_explicit(&t->consumed, memory_order_relaxed);
        if (t->batch_end > c) write_events(t, c, t->batch_end, grid);
        atomic_store_explicit(&t->consumed, t->batch_end, memory_order_release);
        msr_space_given(t, 1);
        t->wake_sent = 0;
    }
    write_queue(T);

    /* retire dead threads that are fully drained */
    if (kind == EP_NORMAL) {
        msr_thread *prev = NULL, *t = atomic_load_explicit(&msr_threads, memory_order_acquire);
        while (t) {
            msr_thread *next = t->next;
            if (t->dead && atomic_load(&t->consumed) == atomic_load(&t->n)) {
                write_thread_end(t, now);
                st.n_dropped += t->n_dropped;
                if (thread_unlink(prev, t)) {
                    msr_thread_release(t);
                    t = next;
                    continue;
                }
            }
            prev = t;
            t = next;
        }
    }

    if (timer || kind != EP_NORMAL) {
        uint64_t ts = kind == EP_NORMAL ? T : now;
        write_sample(ts);
        if (sync_ok) write_sync(ts);
        ms_writer_flush(msr_writer);
        last_sync_ns = msr_mono_ns();
    } else if (sync_ok) {
        /* Every other epoch (a ring half full) also ends with SYNC{T}: all
         * events with time < T were cut above and written before it, so a
         * reader's merge window is one epoch (tens of thousands of events)
         * instead of 50 ms of them. No flush: the record goes out with the
         * next chunk, still before any later EVENTS chunk (spec 8.3). */
        write_sync(T);
    }
    if (!sync_ok) win_fresh = 0;
}

/* Under the writer lock: META (and the initial module map) if not yet. */
void msr_ensure_meta(void)
{
    if (msr_meta_written || !msr_writer) return;
    msr_write_meta();
    msr_meta_written = 1;
    msr_modules_sync(msr_writer, msr_now());
    msr_modules_dirty = 0;
}

/* ------------------------------------------------------------------------ */
/* Writer thread                                                            */
/* ------------------------------------------------------------------------ */
/* After the main thread's pthread_exit: is this (the writer) the last
 * thread? /proc/self/stat: the leader a zombie ('Z') and 2 threads (it
 * and this one). Read with a transient open only when no thread the
 * recorder knows is alive, so no thread of the program opens files
 * meanwhile (the open takes the lowest free number). */
static int writer_alone(void)
{
    pid_t pid = getpid();
    for (msr_thread *t = atomic_load_explicit(&msr_threads, memory_order_acquire); t; t = t->next)
        if (!t->dead && (pid_t)t->tid != pid) return 0;
    char buf[1024];
    ssize_t n = read_small("/proc/self/stat", buf, sizeof buf - 1);
    if (n <= 0) return 0;
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || p[2] != 'Z') return 0;
    p += 2;                                /* field 3, the state */
    for (int f = 3; f < 20; f++) {         /* to field 20, num_threads */
        p = strchr(p, ' ');
        if (!p) return 0;
        p++;
    }
    return atol(p) <= 2;
}

static void *writer_main(void *arg)
{
    (void)arg;
    msr_tls.guard = 1;
    atomic_store(&writer_tid, msr_gettid());
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    prctl(PR_SET_NAME, (unsigned long)"memscope-wr", 0, 0, 0);
    while (!atomic_load(&writer_stop)) {
        uint32_t w = atomic_load(&msr_wake_word);
        /* a thread said it is exiting: look again in 1 ms, so its state
         * is soon back in the pool (interpose.c) for the next new thread */
        struct timespec ts = {0, msr_exiting_poll() ? 1000000 : 25000000};
        syscall(SYS_futex, &msr_wake_word, FUTEX_WAIT_PRIVATE, w, &ts, NULL, 0);
        if (atomic_load(&writer_stop)) break;
        msr_lock_take(&msr_writer_lock);
        int timer = 0;
        if (atomic_load(&msr_mode) == MSR_REC && msr_writer) {
            timer = msr_mono_ns() - last_sync_ns >= 50000000ull;
            msr_fdguard_check_trace();
            epoch(EP_NORMAL, timer);
        }
        msr_lock_release(&msr_writer_lock);
        /* alone after main's pthread_exit: end, so that glibc's exit(0)
         * of the last thread runs (here: exit handlers, then msr_finish) */
        if (timer && atomic_load(&msr_main_exited) && writer_alone()) {
            atomic_store(&msr_writer_alive, 0);
            break;
        }
    }
    return NULL;
}

int msr_drain_start(void)
{
    if (msr_ring_flush < 0) ring_flush_init();
    atomic_store(&writer_stop, 0);
    last_sync_ns = msr_mono_ns();
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    /* born with every signal blocked: the program's handlers never run on
     * the recorder's thread, not even before writer_main blocks them */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&writer_thr, &a, writer_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    writer_running = r == 0;
    atomic_store(&msr_writer_alive, r == 0);
    return r == 0 ? 0 : -1;
}

/* The state of the trace being written: nothing written yet. */
static void trace_reset(void)
{
    nodes_written = 0;
    msr_meta_written = 0;
    memset(&st, 0, sizeof st);
    rec_alloc_errors = 0;
    atomic_store(&msr_unrecorded, 0);
    msr_lt_reset();
    msr_leak_rt_reset();
    dl_adds = dl_subs = ~0ull;
    win_lo = 0;
    win_fresh = 1;
    grid_ready = 0;
}

void msr_drain_reset(void)
{
    /* threads gone since the last trace go back to the pool unannounced;
     * the others start where they are (events left in their rings after
     * the last trace ended are not this trace's) */
    pid_t pid = getpid();
    msr_thread *prev = NULL, *t = atomic_load(&msr_threads);
    while (t) {
        msr_thread *next = t->next;
        if (syscall(SYS_tgkill, pid, (pid_t)t->tid, 0) != 0 && errno == ESRCH &&
            thread_unlink(prev, t)) {
            msr_thread_release(t);
            t = next;
            continue;
        }
        uint64_t n = atomic_load(&t->n);
        atomic_store(&t->consumed, n);
        t->batch_end = n;
        t->announced = t->dead = 0;
        t->n_dropped = 0;
        t->wake_sent = 0;
        prev = t;
        t = next;
    }
    msr_lock_take(&q_lock);
    struct qent *q = q_head;
    q_head = q_tail = NULL;
    msr_lock_release(&q_lock);
    while (q) {
        struct qent *next = q->next;
        msr_free(q->a);
        msr_free(q->b);
        msr_free(q);
        q = next;
    }
    trace_reset();
}

void msr_drain_progress(uint64_t *events, uint64_t *bytes)
{
    *events = st.n_events;
    *bytes = msr_writer ? ms_writer_offset(msr_writer) : 0;
}

/* In a fork child: forget the parent's threads and pending events. */
void msr_drain_atfork_child(int follow)
{
    atomic_store(&msr_writer_lock.owner, 0);
    atomic_store(&q_lock.owner, 0);
    msr_threads_atfork_child();
    writer_running = 0;
    atomic_store(&msr_writer_alive, 0);
    msr_thread *me = msr_tls.t;
    msr_thread *t = atomic_load(&msr_threads);
    while (t) {
        msr_thread *next = t->next;
        if (t != me && follow) msr_thread_release(t);
        t = next;
    }
    if (me) {
        me->next = NULL;
        atomic_store(&me->consumed, atomic_load(&me->n));
        atomic_store(&me->waiting, 0);
        atomic_store(&me->busy, 0);
        me->announced = 0;
        me->dead = 0;
        me->tid = (uint64_t)msr_gettid();
        me->wake_sent = 0;
        me->n_dropped = 0;
    }
    atomic_store(&msr_threads, me);
    q_head = q_tail = NULL;
    if (follow) trace_reset();
    /* a followed fork child under msrec run: msrec names its trace (a line
     * of ours would land in the child's own stderr, control.c) */
    if (follow && secure_getenv("MEMSCOPE_MANIFEST")) msr_cfg.quiet = 2;
}

/* ------------------------------------------------------------------------ */
/* Finishing                                                                */
/* ------------------------------------------------------------------------ */
static void heap_sort_blocks(ms_live_block *b, size_t n)
{
    for (size_t i = n / 2; i-- > 0;) {
        size_t k = i;
        for (;;) {
            size_t l = 2 * k + 1, m = k;
            if (l < n && b[l].addr > b[m].addr) m = l;
            if (l + 1 < n && b[l + 1].addr > b[m].addr) m = l + 1;
            if (m == k) break;
            ms_live_block t = b[k]; b[k] = b[m]; b[m] = t;
            k = m;
        }
    }
    for (size_t end = n; end-- > 1;) {
        ms_live_block t = b[0]; b[0] = b[end]; b[end] = t;
        size_t k = 0;
        for (;;) {
            size_t l = 2 * k + 1, m = k;
            if (l < end && b[l].addr > b[m].addr) m = l;
            if (l + 1 < end && b[l + 1].addr > b[m].addr) m = l + 1;
            if (m == k) break;
            ms_live_block x = b[k]; b[k] = b[m]; b[m] = x;
            k = m;
        }
    }
}

/* The blocks live at exit by address, in place (no allocation: this runs
 * on the crash path too). Introsort: quicksort on the median of three
 * (recursing into the smaller side only: depth <= log2 n), insertion sort
 * below 16 blocks, heapsort when the partitions go bad. Heapsort alone
 * jumped across the whole array at every step: 1.1 M blocks live at exit
 * took ~0.45 s of the exit, most of it cache misses. Addresses are unique. */
static void swap_blocks(ms_live_block *x, ms_live_block *y)
{
    ms_live_block t = *x;
    *x = *y;
    *y = t;
}

static void intro_sort_blocks(ms_live_block *b, size_t n, int depth)
{
    while (n > 16) {
        if (depth-- <= 0) {
            heap_sort_blocks(b, n);
            return;
        }
        size_t m = n / 2;
        if (b[m].addr < b[0].addr) swap_blocks(&b[m], &b[0]);
        if (b[n - 1].addr < b[0].addr) swap_blocks(&b[n - 1], &b[0]);
        if (b[n - 1].addr < b[m].addr) swap_blocks(&b[n - 1], &b[m]);
        uint64_t pivot = b[m].addr;      /* b[0] <= pivot <= b[n-1]: sentinels */
        size_t i = 0, j = n - 1;
        for (;;) {
            while (b[++i].addr < pivot) {}
            while (b[--j].addr > pivot) {}
            if (i >= j) break;
            swap_blocks(&b[i], &b[j]);
        }
        /* [0, j] <= pivot <= [j + 1, n) */
        size_t left = j + 1, right = n - left;
        if (left < right) {
            intro_sort_blocks(b, left, depth);
            b += left;
            n = right;
        } else {
            intro_sort_blocks(b + left, right, depth);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        ms_live_block x = b[i];
        size_t k = i;
        while (k > 0 && b[k - 1].addr > x.addr) {
            b[k] = b[k - 1];
            k--;
        }
        b[k] = x;
    }
}

static void sort_blocks(ms_live_block *b, size_t n)
{
    int depth = 0;
    for (size_t k = n; k > 1; k >>= 1) depth += 2;
    intro_sort_blocks(b, n, depth);
}

struct lb_fill { ms_live_block *b; size_t k, n; };

static void lb_add(void *arg, uint64_t addr, uint64_t size)
{
    struct lb_fill *f = arg;
    if (f->k == f->n) return;
    f->b[f->k].addr = addr;
    f->b[f->k].size = size;
    f->b[f->k].leak_class = msr_leak_rt_has(addr) ? MS_LEAK_LIBC : MS_LEAK_UNKNOWN;
    f->k++;
}

static void write_live_blocks(uint64_t time)
{
    size_t n = msr_lt_used;
    ms_live_block *b = msr_alloc((n ? n : 1) * sizeof *b);
    if (!b) return;
    msr_prefault(b, n * sizeof *b);     /* filled right below */
    /* the table gives its pages back segment by segment as it is copied */
    struct lb_fill f = {b, 0, n};
    msr_lt_drain(lb_add, &f);
    size_t k = f.k;
    sort_blocks(b, k);
    uint64_t ex[2];
    msr_arena_range(&ex[0], &ex[1]);
    /* (a window trace: the blocks allocated before it, which may point to
     * these, are unknown; spec 8.9) */
    if (k && msr_cfg.scope != MS_SCOPE_WINDOW) msr_leak_classify(b, k, ex, 1);
    for (size_t off = 0; off < k;) {
        size_t m = k - off;
        if (m > 16384) m = 16384;
        ms_record r;
        memset(&r, 0, sizeof r);
        r.type = MS_REC_LIVE_BLOCKS;
        r.u.live_blocks.time = time;
        r.u.live_blocks.count = (uint32_t)m;
        r.u.live_blocks.blocks = b + off;
        ms_writer_add(msr_writer, &r);
        off += m;
    }
    msr_free(b);
}

static void fmt_u64(char *out, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *out++ = tmp[--n];
    *out = 0;
}

/* MEMSCOPE_DEBUG=1: where the recorder's own memory is, at exit before
 * the live table is drained (it never shrinks, so this is its peak): the
 * arena's resident bytes, the live table's share, then per size class the
 * blocks in use and the free lists' resident rest. */
static void debug_memory(void)
{
    static msr_arena_use u;
    msr_arena_usage(&u);
    char line[200];
    size_t fr = 0;
    for (int c = 0; c < 41; c++) fr += u.free_resident[c];
    snprintf(line, sizeof line, "memory: arena resident %.2f MiB: live table %.2f MiB "
             "(%zu blocks, max %.2f MiB, grown %zu times, %zu in place), free lists %.2f MiB",
             u.region_resident / 1048576.0, msr_lt_table_bytes() / 1048576.0, msr_lt_used,
             msr_lt_slots_max * 8 / 1048576.0, msr_lt_grown[0] + msr_lt_grown[1], msr_lt_grown[1],
             fr / 1048576.0);
    msr_say("debug: ", line, "");
    for (int c = 0; c < 41; c++) {
        if (u.used_resident[c] + u.free_resident[c] < 65536) continue;
        snprintf(line, sizeof line, "memory: class %zu KiB: %zu in use %.2f MiB resident, "
                 "%zu free %.2f MiB resident", ((size_t)1 << c) / 1024, u.used[c],
                 u.used_resident[c] / 1048576.0, u.free_blocks[c], u.free_resident[c] / 1048576.0);
        msr_say("debug: ", line, "");
    }
}

void msr_finish(uint32_t reason, int64_t detail, int crash)
{
    int expected = MSR_REC;
    if (!atomic_compare_exchange_strong(&msr_mode, &expected, MSR_FINISHING)) {
        /* someone else is finishing: let them complete before we go on */
        if (expected == MSR_FINISHING) {
            uint64_t deadline = msr_mono_ns() + 10000000000ull;
            while (atomic_load(&msr_mode) == MSR_FINISHING && msr_mono_ns() < deadline) {
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
            }
        }
        return;
    }
    int saved_guard = msr_tls.guard;
    msr_tls.guard = 1;
    uint64_t fin0 = msr_mono_ns();
    /* A process that ends here (exit, _exit, a fatal signal) does not wait
     * for the writer thread to wake up and exit (on a busy machine that
     * took up to 5 ms): taking the lock waits for an epoch it may be in;
     * afterwards it finds the trace finished (msr_mode) and stops at its
     * next wake-up, or goes with the process. A detach or an exec (which
     * may fail) joins it: the process goes on and may start a new one. */
    int ending = crash || reason == MS_END_EXIT || reason == MS_END_UEXIT;
    /* the writer thread's CPU for MEMSCOPE_DEBUG, read while it is sure to
     * exist: once stopped it may exit unjoined (ending) or be joined */
    uint64_t wcpu = 0;
    const char *dbg0 = crash ? NULL : secure_getenv("MEMSCOPE_DEBUG");
    if (dbg0 && *dbg0 == '1' && writer_running && !pthread_equal(pthread_self(), writer_thr)) {
        clockid_t cid;
        struct timespec c;
        if (pthread_getcpuclockid(writer_thr, &cid) == 0 && clock_gettime(cid, &c) == 0)
            wcpu = (uint64_t)c.tv_sec * 1000000000ull + (uint64_t)c.tv_nsec;
    }
    atomic_store(&writer_stop, 1);
    atomic_store(&msr_writer_alive, 0);
    if (!ending) msr_wake_writer();
    if (!ending && writer_running && !pthread_equal(pthread_self(), writer_thr)) {
        pthread_join(writer_thr, NULL);
        writer_running = 0;
    }
    if (ending) {
        msr_arena_ending();
        /* the leak scan must not take its stack for a root (the thread
         * goes with the process, so its tid is never reused) */
        int wt = atomic_load(&writer_tid);
        if (writer_running && wt) msr_leak_ignore_thread(wt);
    }
    int got = msr_lock_try_for(&msr_writer_lock, crash ? 3000 : 60000);
    if (got != 1 || !msr_writer) {
        atomic_store(&msr_mode, MSR_DONE);
        msr_tls.guard = saved_guard;
        return;
    }
    uint64_t fin1 = msr_mono_ns();
    msr_fdguard_check_trace();
    if (crash) ms_writer_set_raw(msr_writer, 1);
    epoch(crash ? EP_CRASH : EP_FINAL, 1);
    uint64_t fin2 = msr_mono_ns();
    uint64_t now = msr_now();
    const char *dbg = secure_getenv("MEMSCOPE_DEBUG");
    for (msr_thread *t = atomic_load(&msr_threads); t; t = t->next) {
        write_thread_end(t, now);
        st.n_dropped += t->n_dropped;
        if (dbg && *dbg == '1' && !crash) {
            char line[200];
            snprintf(line, sizeof line, "tid %llu: %llu events, memo %llu hits %llu misses (%llu unwound by cached rules), "
                     "stack cache %llu misses, %llu dropped",
                     (unsigned long long)t->tid, (unsigned long long)atomic_load(&t->n),
                     (unsigned long long)t->memo_hits, (unsigned long long)t->memo_misses,
                     (unsigned long long)t->cfi_walks,
                     (unsigned long long)t->cache_misses, (unsigned long long)t->n_dropped);
            msr_say("debug: ", line, "");
            if (msr_clk_reuse && !msr_clk_check) {
                snprintf(line, sizeof line, "tid %llu: clock: %llu readings for %llu events",
                         (unsigned long long)t->tid, (unsigned long long)t->clk_reads,
                         (unsigned long long)atomic_load(&t->n));
                msr_say("debug: ", line, "");
            } else if (msr_clk_check) {
                /* reused times against a reading at the event, in log2
                 * buckets of ticks counted by their upper bound (so the
                 * counts overestimate) */
                double tick_ms = 1e3 / (double)msr_clock_hz();
                uint64_t l01 = 0, l1 = 0;
                int top = -1;
                for (int b = 0; b < 32; b++) {
                    if (!t->clk_late[b]) continue;
                    double hi = (double)(2ull << b) * tick_ms;
                    top = b;
                    if (hi > 0.1) l01 += t->clk_late[b];
                    if (hi > 1.0) l1 += t->clk_late[b];
                }
                snprintf(line, sizeof line, "tid %llu: clock: %llu readings, %llu reused, late by more than 0.1 ms: %llu, "
                         "more than 1 ms: %llu (max < %.3f ms)",
                         (unsigned long long)t->tid, (unsigned long long)t->clk_reads,
                         (unsigned long long)t->clk_reused, (unsigned long long)l01, (unsigned long long)l1,
                         top < 0 ? 0.0 : (double)(2ull << top) * tick_ms);
                msr_say("debug: ", line, "");
            }
#ifdef MSR_PROF
            { extern uint64_t msr_prof[8];
              snprintf(line, sizeof line, "prof: unwind %.0f ms (%llu, %.1f frames avg), intern %.0f ms, fill %.0f ms, scanned %llu words, %llu full stacks, capture misses %.0f ms",
                msr_prof[0] / 2.69e6, (unsigned long long)msr_prof[6], (double)msr_prof[5] / (msr_prof[6] ? msr_prof[6] : 1), msr_prof[1] / 2.69e6, msr_prof[2] / 2.69e6, (unsigned long long)msr_prof[3], (unsigned long long)msr_prof[4], msr_prof[7] / 2.69e6);
              msr_say("debug: ", line, "");
              extern uint64_t msr_cfi_prof[2];
              snprintf(line, sizeof line, "prof: %llu unwind rules computed in %.0f ms",
                       (unsigned long long)msr_cfi_prof[1], msr_cfi_prof[0] / 2.69e6);
              msr_say("debug: ", line, ""); }
#endif
#ifdef MSR_UNWCHECK
            { extern uint64_t msr_unwcheck_bad;
              snprintf(line, sizeof line, "unwcheck: %llu stacks differ", (unsigned long long)msr_unwcheck_bad);
              msr_say("debug: ", line, ""); }
#endif
        }
    }
    uint64_t f0 = msr_mono_ns();
    if (!crash) {
        msr_procmaps_write(msr_writer, now);
        uint64_t f1 = msr_mono_ns();
        if (dbg && *dbg == '1') debug_memory();
        uint64_t f2 = msr_mono_ns();
        write_live_blocks(now);
        if (dbg && *dbg == '1') {
            char line[160];
            snprintf(line, sizeof line, "finish: maps %.2f ms, live blocks %.2f ms, %llu stack nodes, "
                     "arena %.1f MiB, live table max %.1f MiB",
                     (double)(f1 - f0) / 1e6, (double)(msr_mono_ns() - f2) / 1e6,
                     (unsigned long long)atomic_load(&msr_nodes_count),
                     (double)msr_arena_used() / 1048576.0,
                     (double)msr_lt_slots_max * 8 / 1048576.0);
            msr_say("debug: ", line, "");
        }
    }
    uint64_t fin3 = msr_mono_ns();
    ms_writer_flush(msr_writer);       /* END.n_chunks: the chunks before its own */
    ms_record r;
    memset(&r, 0, sizeof r);
    r.type = MS_REC_END;
    r.u.end.time = msr_now();
    r.u.end.reason = reason;
    r.u.end.detail = detail;
    r.u.end.n_allocs = st.n_allocs;
    r.u.end.n_frees = st.n_frees;
    r.u.end.alloc_bytes = st.alloc_bytes;
    /* events of threads whose state could not be allocated: seen, not in
     * the file (events_lost), one failed buffer allocation */
    uint64_t unrec = atomic_exchange(&msr_unrecorded, 0);
    st.n_events += unrec;
    if (unrec) rec_alloc_errors++;
    r.u.end.n_events = st.n_events;
    /* (and the allocations and frees of signal handlers that interrupted a
     * hook: interpose.c guarded) */
    st.n_dropped += atomic_exchange(&msr_missed, 0);
    r.u.end.n_dropped = st.n_dropped;
    /* END must reach the file: it says what the file holds. After a failed
     * write or allocation the pending chunk is dropped (room for END); when
     * END itself does not get out (no buffer, a failed write, cut off
     * again) it goes once more, uncompressed (the writer keeps room for a
     * small record, so that allocates nothing), counting that failure too. */
    ms_writer_stats ws;
    int end_ok = 0;
    for (int attempt = 0; attempt < 2 && !end_ok; attempt++) {
        ms_writer_get_stats(msr_writer, &ws);
        if (ws.write_errors) ms_writer_recover(msr_writer);
        if (attempt) ms_writer_set_raw(msr_writer, 1);
        uint64_t chunks = ms_writer_chunks(msr_writer);
        r.u.end.n_chunks = chunks;
        r.u.end.events_lost = st.n_events > ws.events_written ? st.n_events - ws.events_written : 0;
        r.u.end.write_errors = ws.write_errors + rec_alloc_errors;
        r.u.end.first_errno = ws.first_errno ? ws.first_errno : rec_alloc_errors ? ENOMEM : 0;
        end_ok = ms_writer_add(msr_writer, &r) == 0 && ms_writer_flush(msr_writer) == 0 &&
                 ms_writer_chunks(msr_writer) > chunks;
    }
    msr_last_end.reason = reason;
    msr_last_end.detail = detail;
    msr_last_end.events = st.n_events;
    msr_last_end.write_errors = r.u.end.write_errors;
    msr_last_end.first_errno = (int)r.u.end.first_errno;
    uint64_t bytes = ms_writer_offset(msr_writer);
    ms_writer_get_stats(msr_writer, &ws);   /* END's own chunk counts too */
    uint64_t fin4 = msr_mono_ns();
    if (!crash) {
        if (ms_writer_close(msr_writer) != 0 && !ws.write_errors) {
            ws.write_errors = 1;
            ws.first_errno = errno ? errno : EIO;
        }
        msr_writer = NULL;
        msr_arena_trim();
    }
    ws.write_errors += rec_alloc_errors;
    if (!ws.first_errno && rec_alloc_errors) ws.first_errno = ENOMEM;
    msr_last_end.events_written = ws.events_written;
    msr_last_end.bytes = bytes;
    if (ws.write_errors > msr_last_end.write_errors) msr_last_end.write_errors = ws.write_errors;
    if (ws.first_errno && !msr_last_end.first_errno) msr_last_end.first_errno = ws.first_errno;
    if (ws.write_errors || ws.events_written < st.n_events || !end_ok) {
        /* never claim a write that did not happen: say what reached the file */
        int e = ws.first_errno;
        const char *why = e == ENOSPC || e == EDQUOT ? "disk full"
                        : e == EFBIG ? "file size limit reached"
                        : e == ENOMEM ? "out of memory"
                        : e == EBADF ? "trace descriptor closed by the program"
                        : e == EIO ? "I/O error" : "write error";
        char got[24], all[24], num[24], msg[200];
        fmt_u64(got, ws.events_written);
        fmt_u64(all, st.n_events);
        fmt_u64(num, (uint64_t)(e > 0 ? e : 0));
        char *o = msg;
        const char *parts[] = {" incomplete: ", why, " (errno ", num, ") after ", got, " of ",
                               all, " events", end_ok ? "" : ", no END record"};
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
            size_t l = strlen(parts[i]);
            memcpy(o, parts[i], l);
            o += l;
        }
        *o = 0;
        msr_say(msr_cfg.path, msg, "");
    } else if (!msr_cfg.quiet) {
        char ev[24], mb[24], frac[4];
        fmt_u64(ev, st.n_events);
        fmt_u64(mb, bytes / 1000000);
        uint64_t f = (bytes % 1000000) / 10000;
        frac[0] = (char)('0' + f / 10);
        frac[1] = (char)('0' + f % 10);
        frac[2] = 0;
        char msg[128];
        char *o = msg;
        const char *parts[] = {" (", ev, " events, ", mb, ".", frac, " MB)"};
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
            size_t l = strlen(parts[i]);
            memcpy(o, parts[i], l);
            o += l;
        }
        *o = 0;
        msr_say("wrote ", msr_cfg.path, msg);
    }
    if (!crash && dbg && *dbg == '1') {
        char line[200];
        snprintf(line, sizeof line, "finish: %.2f ms in all (before reports): writer stop %.2f ms, "
                 "last epoch %.2f ms, END and flush %.2f ms, close %.2f ms",
                 (double)(msr_mono_ns() - fin0) / 1e6, (double)(fin1 - fin0) / 1e6,
                 (double)(fin2 - fin1) / 1e6, (double)(fin4 - fin3) / 1e6,
                 (double)(msr_mono_ns() - fin4) / 1e6);
        msr_say("debug: ", line, "");
        /* where the writer's time went (bench/budget.sh reads this line;
         * ws: the format writer's stats taken before its close) */
        uint64_t nev = st.n_events ? st.n_events : 1;
        snprintf(line, sizeof line, "writer: thread CPU %.2f ms (%.1f ns/event), compressing %.2f ms "
                 "(%.1f ns/event), payload %.2f MB -> %.2f MB, %llu events",
                 (double)wcpu / 1e6, (double)wcpu / (double)nev,
                 (double)ws.compress_ns / 1e6, (double)ws.compress_ns / (double)nev,
                 (double)ws.raw_bytes / 1e6, (double)ws.stored_bytes / 1e6, (unsigned long long)st.n_events);
        msr_say("debug: ", line, "");
        snprintf(line, sizeof line, "signal handlers: %llu events recorded after the hook they interrupted",
                 (unsigned long long)atomic_load(&msr_deferred));
        msr_say("debug: ", line, "");
    }
    atomic_store(&msr_mode, MSR_DONE);
    msr_lock_release(&msr_writer_lock);
    if (!crash) msr_export_reports();
    msr_tls.guard = saved_guard;
}
