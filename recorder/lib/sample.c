/*
 * sample.c — Poisson byte sampling (MEMSCOPE_SAMPLE_RATE=R, `msrec run
 * --sample`): record an allocation with probability p = 1 - exp(-size/R),
 * so a reader can weight it by 1/p (spec/FORMAT.md §8.8) and estimate the
 * whole program's heap from a trace costing a few events per R bytes.
 *
 * The sample points form a Poisson process over the bytes each thread
 * allocates: a thread-local counter holds the bytes left to the next point,
 * drawn from an exponential distribution with mean R. An allocation
 * subtracts its size (recorder_internal.h, msr_sample_take: one subtract
 * and one branch, no stack, no clock, no ring slot); when the counter
 * reaches zero the allocation holds a point and is recorded, and the next
 * gap is drawn fresh from its end (the process is memoryless, so points
 * beyond the first inside one block do not matter): P(recorded) = P(gap <=
 * size) = 1 - exp(-size/R) exactly, gaps being rounded up to whole bytes.
 * Allocations the recorder cannot record (its own, paused) consume points
 * without bias for the others.
 *
 * Frees: only frees of recorded blocks are recorded, so the recorder keeps
 * the set of live sampled addresses: 64 stripes of open-addressing tables
 * (a spin lock each; they grow in the recorder's arena) behind a counting
 * filter of 65,536 saturating byte counters indexed by address bits 4-19
 * (nearby blocks share cache lines). An unsampled free reads one counter
 * (free's whole fast path, interpose.c); a zero means "not sampled" with
 * certainty, a non-zero one costs a table lookup (about 1 % of frees per
 * 650 live sampled blocks). A counter that reaches 255 stays there (never
 * decremented), so it can only cost lookups, never hide a sampled block.
 * The filter also sends free's other cases to its slow path: the bootstrap
 * pool's blocks (255 from the start) and, in a full trace, every address
 * (all 255, msr_fast_set).
 *
 * No libm: the exponential gap -ln(u)*R uses a short atanh series for ln
 * (relative error < 1e-9), as the recorder links nothing beyond libc,
 * libunwind, zstd and xxhash. The generator is xorshift64* per thread,
 * seeded from the TSC, the tid and a TLS address, or from
 * MEMSCOPE_SAMPLE_SEED=N (tests: the same program then records the same
 * allocations; threads get N mixed with their order of first allocation).
 */
#include "recorder_internal.h"
#include "inspect.h"
#include "nextalloc.h"

#include <stdlib.h>
#include <string.h>

_Atomic int msr_sampling;
MSR_TLS struct msr_stls msr_stls;
_Atomic uint8_t msr_sfilter[1u << MSR_SF_BITS];
_Atomic int64_t msr_fast_thr = INT64_MAX;
static int filter_full;                /* all counters 255: a full trace    */

static _Atomic uint64_t rate_now;      /* R of the running session          */
static _Atomic uint64_t session;       /* bumped by each msr_sample_start   */
static uint64_t seed_fixed;            /* MEMSCOPE_SAMPLE_SEED, 0 = none     */
static _Atomic uint64_t thread_order;

/* ---- random gaps -------------------------------------------------------- */
static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t next_rand(struct msr_stls *s)
{
    uint64_t x = s->rng;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    s->rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* ln(u) for 0 < u <= 1: u = m * 2^e with m in [sqrt(1/2), sqrt(2)), ln m =
 * 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172. */
static double ln_unit(double u)
{
    uint64_t bits;
    memcpy(&bits, &u, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.4142135623730951) { m *= 0.5; e++; }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double series = s * (1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 / 11)))));
    return (double)e * 0.6931471805599453 + 2.0 * series;
}

/* Bytes to the next sample point: ceil(Exp(R)), at least 1. */
static int64_t draw_gap(struct msr_stls *s, uint64_t rate)
{
    double u = (double)((next_rand(s) >> 11) + 1) * (1.0 / 9007199254740992.0);  /* (0, 1] */
    double g = -ln_unit(u) * (double)rate;
    if (g > 4.0e18) g = 4.0e18;
    int64_t n = (int64_t)g;
    if ((double)n < g) n++;
    return n > 0 ? n : 1;
}

static void seed_thread(struct msr_stls *s)
{
    uint64_t x;
    if (seed_fixed) {
        x = splitmix(seed_fixed ^ splitmix(atomic_fetch_add(&thread_order, 1)));
    } else {
        uint32_t lo, hi;
        __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
        x = splitmix((((uint64_t)hi << 32) | lo) ^ ((uint64_t)msr_gettid() << 40) ^
                     (uint64_t)(uintptr_t)s);
    }
    s->rng = x ? x : 0x9e3779b97f4a7c15ull;
}

int msr_sample_due(uint64_t n)
{
    struct msr_stls *s = &msr_stls;
    uint64_t rate = atomic_load_explicit(&rate_now, memory_order_relaxed);
    uint64_t gen = atomic_load_explicit(&session, memory_order_relaxed);
    if (MSR_UNLIKELY(!rate)) {
        s->left = INT64_MAX;
        return 0;
    }
    if (MSR_UNLIKELY(s->gen != gen)) {
        /* this thread's first allocation of the session: its own gap */
        if (!s->rng) seed_thread(s);
        s->gen = gen;
        s->left = draw_gap(s, rate) - (int64_t)n;
        if (s->left > 0) return 0;
    }
    s->left = draw_gap(s, rate);
    return 1;
}

/* ---- the set of live sampled blocks --------------------------------------- */
#define NSTRIPES 64
struct stripe {
    msr_lock lock;                      /* (spun on: held for a few lookups) */
    uint32_t cap, n;                    /* cap: 0 or a power of two           */
    uint64_t *key;                      /* 0 = empty slot                    */
} __attribute__((aligned(64)));
static struct stripe stripes[NSTRIPES];

static inline uint64_t mix(uint64_t a)
{
    a ^= a >> 33; a *= 0xff51afd7ed558ccdull; a ^= a >> 33;
    return a;
}

/* A stripe's lock names its owner thread (msr_lock). A signal handler that
 * interrupted this thread while it held one must not wait for it: the
 * handler's free is counted instead of recorded (msr_sample_forget), a fork
 * leaves it to the interrupted code (atfork below). */
static inline int stripe_mine(struct stripe *st) { return msr_lock_mine(&st->lock); }

static void stripe_lock(struct stripe *st)
{
    uintptr_t zero = 0;
    while (!atomic_compare_exchange_weak_explicit(&st->lock.owner, &zero, msr_lock_me(),
                                                  memory_order_acquire, memory_order_relaxed)) {
        zero = 0;
        __builtin_ia32_pause();
    }
}

static void stripe_unlock(struct stripe *st) { atomic_store_explicit(&st->lock.owner, 0, memory_order_release); }

static void filter_add(uint64_t a, int d)
{
    _Atomic uint8_t *c = &msr_sfilter[msr_sf_index(a)];
    uint8_t v = atomic_load_explicit(c, memory_order_relaxed);
    while (v != 255 && (d > 0 || v != 0) &&
           !atomic_compare_exchange_weak_explicit(c, &v, (uint8_t)(v + d), memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static int stripe_grow(struct stripe *st)
{
    uint32_t cap = st->cap ? st->cap * 2 : 256;
    if (cap > (1u << 28)) return -1;
    uint64_t *k = msr_alloc((size_t)cap * sizeof *k);
    if (!k) return -1;
    for (uint32_t i = 0; i < st->cap; i++) {
        uint64_t a = st->key[i];
        if (!a) continue;
        uint32_t j = (uint32_t)(mix(a) >> 6) & (cap - 1);
        while (k[j]) j = (j + 1) & (cap - 1);
        k[j] = a;
    }
    msr_free(st->key);
    st->key = k;
    st->cap = cap;
    return 0;
}

int msr_sample_remember(const void *p)
{
    uint64_t a = (uint64_t)(uintptr_t)p, h = mix(a);
    struct stripe *st = &stripes[h & (NSTRIPES - 1)];
    stripe_lock(st);
    if ((st->n + 1) * 2 > st->cap && stripe_grow(st) != 0 && st->n + 1 >= st->cap) {
        stripe_unlock(st);
        return -1;
    }
    uint32_t m = st->cap - 1, j = (uint32_t)(h >> 6) & m;
    while (st->key[j] && st->key[j] != a) j = (j + 1) & m;
    if (!st->key[j]) {
        st->key[j] = a;
        st->n++;
        filter_add(a, 1);
    }
    stripe_unlock(st);
    return 0;
}

int msr_sample_forget(const void *p)
{
    uint64_t a = (uint64_t)(uintptr_t)p, h = mix(a);
    struct stripe *st = &stripes[h & (NSTRIPES - 1)];
    if (MSR_UNLIKELY(stripe_mine(st))) {     /* a handler: see stripe_mine */
        atomic_fetch_add_explicit(&msr_missed, 1, memory_order_relaxed);
        return 0;
    }
    stripe_lock(st);
    int found = 0;
    if (st->n) {
        uint32_t m = st->cap - 1, i = (uint32_t)(h >> 6) & m;
        while (st->key[i] && st->key[i] != a) i = (i + 1) & m;
        if (st->key[i]) {
            found = 1;
            /* backward-shift deletion */
            for (uint32_t j = i;;) {
                j = (j + 1) & m;
                if (!st->key[j]) break;
                uint32_t k = (uint32_t)(mix(st->key[j]) >> 6) & m;
                if (((j - k) & m) >= ((j - i) & m)) {
                    st->key[i] = st->key[j];
                    i = j;
                }
            }
            st->key[i] = 0;
            st->n--;
            filter_add(a, -1);
        }
    }
    stripe_unlock(st);
    return found;
}

void msr_sf_mark(const void *p)
{
    atomic_store_explicit(&msr_sfilter[msr_sf_index((uint64_t)(uintptr_t)p)], 255,
                          memory_order_relaxed);
}

/* every counter v, the pool's blocks 255 */
static void filter_fill(uint8_t v)
{
    for (size_t i = 0; i < (1u << MSR_SF_BITS); i++)
        atomic_store_explicit(&msr_sfilter[i], v, memory_order_relaxed);
    filter_full = v == 255;
    for (size_t o = 16, used = msr_pool_used(); o < used; o += 16) msr_sf_mark(msr_pool + o);
}

static void forget_all(void)
{
    for (int i = 0; i < NSTRIPES; i++) {
        stripe_lock(&stripes[i]);
        if (stripes[i].key) memset(stripes[i].key, 0, (size_t)stripes[i].cap * sizeof(uint64_t));
        stripes[i].n = 0;
    }
    filter_fill(0);
    for (int i = 0; i < NSTRIPES; i++) stripe_unlock(&stripes[i]);
}

/* A fork child that does not record (control.c): the filter is left
 * full, so its frees take free_slow until the first of them empties it
 * (msr_filter_settle). A child that execs at once (most) no longer writes
 * 64 KiB (16 copy-on-write faults) it never reads: a fork cost ~40 us more
 * under the recorder for that alone. */
static _Atomic int filter_stale;

void msr_fast_set_child(void)
{
    atomic_store(&msr_fast_thr, INT64_MIN);
    if (filter_full) atomic_store(&filter_stale, 1);
}

void msr_filter_settle(void)
{
    if (MSR_LIKELY(!atomic_load_explicit(&filter_stale, memory_order_relaxed))) return;
    if (atomic_exchange(&filter_stale, 0) && filter_full && atomic_load(&msr_mode) == MSR_OFF)
        filter_fill(0);
}

void msr_fast_set(int rec)
{
    atomic_store(&filter_stale, 0);
    if (rec && atomic_load(&msr_sampling)) {
        atomic_store(&msr_fast_thr, 0);
    } else if (rec) {
        if (!filter_full) filter_fill(255);
        atomic_store(&msr_fast_thr, INT64_MAX);
    } else {
        atomic_store(&msr_fast_thr, INT64_MIN);
        if (filter_full) filter_fill(0);
    }
}

/* ---- sessions, settings, fork ----------------------------------------------- */
int msr_sample_parse(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K') shift = 10, end++;
    else if (*end == 'm' || *end == 'M') shift = 20, end++;
    else if (*end == 'g' || *end == 'G') shift = 30, end++;
    if (shift && (!strcmp(end, "iB") || !strcmp(end, "B") || !strcmp(end, "b"))) end += strlen(end);
    if (*end || v > (MSR_SAMPLE_RATE_MAX >> shift)) return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

void msr_sample_start(uint64_t rate)
{
    if (rate > MSR_SAMPLE_RATE_MAX) rate = MSR_SAMPLE_RATE_MAX;
    const char *sd = secure_getenv("MEMSCOPE_SAMPLE_SEED");
    seed_fixed = 0;
    if (sd && *sd) seed_fixed = splitmix(strtoull(sd, NULL, 0)) | 1;
    atomic_store(&thread_order, 0);
    /* (the first session of a process that never filled the filter finds
     * it as forget_all leaves it: 64 KiB of stores and faults saved) */
    if (atomic_load(&session) || filter_full) forget_all();
    msr_cfg.sample_rate = rate;
    atomic_store(&rate_now, rate);
    atomic_fetch_add(&session, 1);
    msr_leak_set_sampled(rate != 0);
    atomic_store(&msr_sampling, rate != 0);
}

void msr_sample_stop(void)
{
    atomic_store(&msr_sampling, 0);
    atomic_store(&rate_now, 0);
}

static struct stripe *fork_mine;      /* held by the interrupted code   */

void msr_sample_atfork_prepare(void)
{
    if (!atomic_load(&msr_sampling)) return;
    fork_mine = NULL;
    for (int i = 0; i < NSTRIPES; i++) {
        if (stripe_mine(&stripes[i])) fork_mine = &stripes[i];
        else stripe_lock(&stripes[i]);
    }
}

void msr_sample_atfork_parent(void)
{
    if (!atomic_load(&msr_sampling)) return;
    for (int i = 0; i < NSTRIPES; i++)
        if (&stripes[i] != fork_mine) stripe_unlock(&stripes[i]);
}

/* keep = the child records on (MEMSCOPE_FOLLOW_FORK): the parent's sampled
 * blocks are its blocks too, so their frees are still recognised (and shown
 * as frees of blocks from before its trace). The child draws its own gaps. */
void msr_sample_atfork_child(int keep)
{
    if (!atomic_load(&msr_sampling)) return;
    for (int i = 0; i < NSTRIPES; i++)
        if (&stripes[i] != fork_mine) stripe_unlock(&stripes[i]);
    if (!keep) {
        msr_sample_stop();
        return;
    }
    msr_stls.rng = 0;
    atomic_fetch_add(&session, 1);
}
