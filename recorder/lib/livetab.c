/*
 * livetab.c — the writer's table of live blocks (address -> size).
 *
 * The writer replays every allocation and free into it: it gives SAMPLE's
 * live bytes, decides the order of events on a reused address, and lists
 * the blocks live at exit. It is the recorder's largest structure (one
 * entry per live block of the program), so it is built for size:
 *   - a slot is 8 bytes: address/8 (44 bits: user addresses are below
 *     2^47) and the size (20 bits); sizes of 1 MiB - 1 and more, addresses
 *     not 8-aligned or above 2^47 live in a small side map;
 *   - 64 segments chosen by hash, each open-addressed (linear probing,
 *     backward-shift deletion) and grown by a quarter on its own past load
 *     0.88, so its load stays between 0.70 and 0.88 (N live blocks take at
 *     most N * 8 / 0.704 bytes plus 64 first segments of 2 KiB, the bound
 *     tests/unit/test_livetab.c checks; 1 M blocks: ~9.8 MiB) and growing
 *     copies 1/64 of the table at a time instead of holding an old and a
 *     new full copy. An insert probes once: the end of an address's run is
 *     where it goes. Measured on bench `live`: load 0.85 with +1/8 steps
 *     saves ~0.4 MiB more but costs ~20 % more writer CPU (more copies).
 *     A segment whose arena block has room grows inside it (seg_grow),
 *     through one scratch copy of the largest segment's old slots.
 * Single-threaded: only the writer thread (or the exit path that replaces
 * it) calls these.
 */
#include "recorder_internal.h"

#include <string.h>

#define SEGS 64
#define SEG_SHIFT 58                    /* 64 - log2(SEGS) */
#define SZ_BITS 20
#define SZ_BIG ((1u << SZ_BITS) - 1)    /* size kept in the side map */
#define ADDR_LIMIT ((uint64_t)1 << 47)
#define LOAD_PCT 88                     /* grow past this load (percent) */
#define GROW_DIV 4                      /* by cap / GROW_DIV slots */
#define SEG_MIN 256                     /* first capacity of a segment */

struct seg { uint64_t *slot; size_t cap, used; };
static struct seg segs[SEGS];
struct big { uint64_t addr, size; };
static struct big *bigs;                /* side map: addr -> size */
static size_t big_cap, big_used;

uint64_t msr_lt_bytes;                  /* sum of live sizes */
size_t msr_lt_used;                     /* live blocks */
size_t msr_lt_slots_max;                /* high-water mark of slots (debug) */
size_t msr_lt_grown[2];                 /* segment growths: new block, in place (debug) */
static size_t slots_now;

static inline uint64_t hash(uint64_t a)
{
    uint64_t h = (a >> 3) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static inline int plain(uint64_t a) { return !(a & 7) && a < ADDR_LIMIT; }
static inline uint64_t key_of(uint64_t slot) { return (slot >> SZ_BITS) << 3; }
static inline size_t home(uint64_t h, size_t cap)
{
    return (size_t)(((unsigned __int128)(h << 6) * cap) >> 64);
}

/* ---- side map (open addressing, power-of-two capacity) ---------------- */
static size_t big_find(uint64_t a)
{
    if (!big_cap) return SIZE_MAX;
    size_t m = big_cap - 1, j = (size_t)hash(a) & m;
    while (bigs[j].addr) {
        if (bigs[j].addr == a) return j;
        j = (j + 1) & m;
    }
    return SIZE_MAX;
}

static int big_put(uint64_t a, uint64_t size)
{
    size_t j = big_find(a);
    if (j != SIZE_MAX) {
        bigs[j].size = size;
        return 0;
    }
    if ((big_used + 1) * 2 > big_cap) {
        size_t nc = big_cap ? big_cap * 2 : 64;
        struct big *nb = msr_alloc(nc * sizeof *nb);
        if (!nb) return -1;
        for (size_t i = 0; i < big_cap; i++) {
            if (!bigs[i].addr) continue;
            size_t k = (size_t)hash(bigs[i].addr) & (nc - 1);
            while (nb[k].addr) k = (k + 1) & (nc - 1);
            nb[k] = bigs[i];
        }
        msr_free(bigs);
        bigs = nb;
        big_cap = nc;
    }
    j = (size_t)hash(a) & (big_cap - 1);
    while (bigs[j].addr) j = (j + 1) & (big_cap - 1);
    bigs[j].addr = a;
    bigs[j].size = size;
    big_used++;
    return 0;
}

/* removes a's entry; returns its size or UINT64_MAX when absent */
static uint64_t big_take(uint64_t a)
{
    size_t j = big_find(a);
    if (j == SIZE_MAX) return UINT64_MAX;
    uint64_t size = bigs[j].size;
    size_t m = big_cap - 1, i = j;
    for (;;) {                          /* backward-shift deletion */
        bigs[i].addr = 0;
        size_t k = i;
        for (;;) {
            k = (k + 1) & m;
            if (!bigs[k].addr) {
                big_used--;
                return size;
            }
            size_t h = (size_t)hash(bigs[k].addr) & m;
            if (((k - h) & m) >= ((k - i) & m)) break;
        }
        bigs[i] = bigs[k];
        i = k;
    }
}

/* ---- segments ----------------------------------------------------------- */
/* Old slots of a segment that grows inside its own block (seg_grow). */
static uint64_t *scratch;
static size_t scratch_cap;              /* slots */

static void rehash(uint64_t *ns, size_t ncap, const uint64_t *old, size_t cap)
{
    for (size_t i = 0; i < cap; i++) {
        uint64_t v = old[i];
        if (!v) continue;
        size_t j = home(hash(key_of(v)), ncap);
        while (ns[j]) j = j + 1 == ncap ? 0 : j + 1;
        ns[j] = v;
    }
}

/* Grow s in place when its block's size class has room for the new
 * capacity (two growths in three): the old slots go to a scratch copy and
 * come back rehashed. A new block instead would cost freeing the old one
 * (MADV_DONTNEED: a TLB shootdown that interrupts the program's threads,
 * ~40 us on a 2-vCPU VM) and faulting in all of the new one, ~1 300 times
 * on 1 M live blocks; here only the few new pages at the end are mapped. */
static int seg_grow_in_place(struct seg *s, size_t ncap)
{
    if (msr_alloc_usable(s->slot) < ncap * sizeof *s->slot) return -1;
    if (scratch_cap < s->cap) {
        uint64_t *n = msr_alloc_raw(ncap * sizeof *n);
        if (!n) return -1;
        msr_free(scratch);
        scratch = n;
        scratch_cap = msr_alloc_usable(n) / sizeof *n;
    }
    memcpy(scratch, s->slot, s->cap * sizeof *s->slot);
    msr_prefault(s->slot + s->cap, (ncap - s->cap) * sizeof *s->slot);
    memset(s->slot, 0, ncap * sizeof *s->slot);
    rehash(s->slot, ncap, scratch, s->cap);
    return 0;
}

static int seg_grow(struct seg *s)
{
    size_t ncap = s->cap ? s->cap + s->cap / GROW_DIV : SEG_MIN;
    int in_place = s->cap && seg_grow_in_place(s, ncap) == 0;
    if (!in_place) {
        uint64_t *ns = msr_alloc(ncap * sizeof *ns);
        if (!ns) return -1;
        msr_prefault(ns, ncap * sizeof *ns);
        rehash(ns, ncap, s->slot, s->cap);
        msr_free(s->slot);
        s->slot = ns;
    }
    msr_lt_grown[in_place]++;
    slots_now += ncap - s->cap;
    if (slots_now > msr_lt_slots_max) msr_lt_slots_max = slots_now;
    s->cap = ncap;
    return 0;
}

static inline uint64_t slot_size(uint64_t v)
{
    uint64_t sz = v & SZ_BIG;
    if (sz != SZ_BIG) return sz;
    size_t j = big_find(key_of(v));
    return j == SIZE_MAX ? 0 : bigs[j].size;
}

/* index of a's slot in its segment, or SIZE_MAX */
static inline size_t seg_find(const struct seg *s, uint64_t a, uint64_t h)
{
    if (!s->cap) return SIZE_MAX;
    size_t j = home(h, s->cap);
    uint64_t want = (a >> 3);
    while (s->slot[j]) {
        if ((s->slot[j] >> SZ_BITS) == want) return j;
        j = j + 1 == s->cap ? 0 : j + 1;
    }
    return SIZE_MAX;
}

void msr_lt_insert(uint64_t a, uint64_t size)
{
    if (!plain(a)) {
        uint64_t old = big_take(a);
        if (old != UINT64_MAX) {        /* its free was lost: replace */
            msr_lt_bytes -= old;
            msr_lt_used--;
        }
        if (big_put(a, size) == 0) {
            msr_lt_bytes += size;
            msr_lt_used++;
        }
        return;
    }
    uint64_t h = hash(a);
    struct seg *s = &segs[h >> SEG_SHIFT];
    if ((s->used + 1) * 100 > s->cap * LOAD_PCT && seg_grow(s) != 0) return;
    /* one probe: a's slot (its free was lost: replace) or the empty one
     * that ends a's run, where it goes */
    size_t j = home(h, s->cap);
    uint64_t want = a >> 3, v;
    while ((v = s->slot[j]) && (v >> SZ_BITS) != want) j = j + 1 == s->cap ? 0 : j + 1;
    if (v) {
        msr_lt_bytes -= slot_size(v);
        if ((v & SZ_BIG) == SZ_BIG) big_take(a);
    } else {
        s->used++;
        msr_lt_used++;
    }
    uint64_t sz = size;
    if (size >= SZ_BIG) {
        if (big_put(a, size) != 0) sz = SZ_BIG - 1;   /* no memory: clamp */
        else sz = SZ_BIG;
    }
    s->slot[j] = ((a >> 3) << SZ_BITS) | sz;
    msr_lt_bytes += sz == SZ_BIG ? size : sz;
}

int msr_lt_has(uint64_t a)
{
    if (!plain(a)) return big_find(a) != SIZE_MAX;
    uint64_t h = hash(a);
    return seg_find(&segs[h >> SEG_SHIFT], a, h) != SIZE_MAX;
}

void msr_lt_remove(uint64_t a)
{
    if (!plain(a)) {
        uint64_t old = big_take(a);
        if (old != UINT64_MAX) {
            msr_lt_bytes -= old;
            msr_lt_used--;
        }
        return;
    }
    uint64_t h = hash(a);
    struct seg *s = &segs[h >> SEG_SHIFT];
    size_t j = seg_find(s, a, h);
    if (j == SIZE_MAX) return;
    uint64_t v = s->slot[j];
    if ((v & SZ_BIG) == SZ_BIG) {
        uint64_t old = big_take(a);
        msr_lt_bytes -= old == UINT64_MAX ? 0 : old;
    } else {
        msr_lt_bytes -= v & SZ_BIG;
    }
    s->used--;
    msr_lt_used--;
    size_t i = j, cap = s->cap;
    for (;;) {                          /* backward-shift deletion */
        s->slot[i] = 0;
        size_t k = i;
        for (;;) {
            k = k + 1 == cap ? 0 : k + 1;
            if (!s->slot[k]) return;
            size_t hk = home(hash(key_of(s->slot[k])), cap);
            /* the entry at k may move to i unless its home is in (i, k] */
            if (i <= k ? (hk <= i || hk > k) : (hk <= i && hk > k)) break;
        }
        s->slot[i] = s->slot[k];
        i = k;
    }
}

void msr_lt_prefetch(uint64_t a)
{
    if (!plain(a)) return;
    uint64_t h = hash(a);
    const struct seg *s = &segs[h >> SEG_SHIFT];
    if (s->cap) __builtin_prefetch(&s->slot[home(h, s->cap)], 1, 1);
}

size_t msr_lt_drain(void (*each)(void *arg, uint64_t addr, uint64_t size), void *arg)
{
    size_t n = 0;
    for (int g = 0; g < SEGS; g++) {
        struct seg *s = &segs[g];
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i] || (s->slot[i] & SZ_BIG) == SZ_BIG) continue;
            each(arg, key_of(s->slot[i]), s->slot[i] & SZ_BIG);
            n++;
        }
        msr_free(s->slot);              /* pages back as we go */
        memset(s, 0, sizeof *s);
    }
    for (size_t i = 0; i < big_cap; i++) {
        if (!bigs[i].addr) continue;
        each(arg, bigs[i].addr, bigs[i].size);
        n++;
    }
    msr_lt_reset();
    return n;
}

size_t msr_lt_table_bytes(void)
{
    return (slots_now + scratch_cap) * sizeof(uint64_t) + big_cap * sizeof(struct big);
}

void msr_lt_reset(void)
{
    for (int g = 0; g < SEGS; g++) {
        msr_free(segs[g].slot);
        memset(&segs[g], 0, sizeof segs[g]);
    }
    msr_free(bigs);
    bigs = NULL;
    big_cap = big_used = 0;
    msr_free(scratch);
    scratch = NULL;
    scratch_cap = 0;
    msr_lt_grown[0] = msr_lt_grown[1] = 0;
    slots_now = 0;
    msr_lt_bytes = 0;
    msr_lt_used = 0;
}
