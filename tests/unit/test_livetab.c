/*
 * test_livetab.c — the recorder's live-block table (recorder/lib/livetab.c)
 * against a plain reference model: a million random inserts, removes,
 * replacements and lookups over ordinary, unaligned, high (>= 2^47) and
 * big (>= 1 MiB) blocks; live bytes, count, membership and the drained list
 * at the end must equal the model's exactly. Then its size: N live blocks
 * (heap-like addresses, sizes below 1 MiB) take at least N * 8 bytes of
 * slots and at most N * 8 * 1.25 / 0.88 plus the 64 first segments (the
 * growth policy of livetab.c; the recorder's extra RSS on 1 M live blocks
 * is mostly this table, with the scratch copy segments grow through). The
 * table's source is compiled in here with the arena replaced by calloc/free
 * in the arena's power-of-two size classes.
 */
#include "../../recorder/lib/livetab.c"

#include "mstest.h"

#include <stdlib.h>

/* the arena's size classes: a block holds the next power of two minus its
 * 16-byte header, so segments grow inside their block two times in three */
static size_t class_bytes(size_t n)
{
    size_t c = 32;
    while (c < n + 16) c *= 2;
    return c;
}
void *msr_alloc(size_t n)
{
    size_t c = class_bytes(n);
    char *p = calloc(1, c);
    if (!p) return NULL;
    *(size_t *)p = c - 16;
    return p + 16;
}
void *msr_alloc_raw(size_t n) { return msr_alloc(n); }
size_t msr_alloc_usable(const void *p) { return *(const size_t *)((const char *)p - 16); }
void msr_free(void *p) { if (p) free((char *)p - 16); }
void msr_prefault(void *p, size_t n) { (void)p; (void)n; }

#define N_ADDR 200000
static uint64_t addrs[N_ADDR], sizes[N_ADDR];
static unsigned char live[N_ADDR], seen[N_ADDR];

static uint64_t rng = 0x1234567887654321ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int find_addr(uint64_t a)
{
    int lo = 0, hi = N_ADDR - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (addrs[mid] == a) return mid;
        if (addrs[mid] < a) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static int drained_bad;
static size_t drained_n;
static void each(void *arg, uint64_t a, uint64_t size)
{
    (void)arg;
    int i = find_addr(a);
    if (i < 0 || !live[i] || seen[i] || sizes[i] != size) drained_bad++;
    else seen[i] = 1;
    drained_n++;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

int main(void)
{
    /* distinct addresses: mostly 16-aligned heap-like, some 8-aligned,
     * some odd, some above 2^47 */
    for (int i = 0; i < N_ADDR; i++) {
        uint64_t r = next(), a;
        switch (i % 10) {
        case 0: a = (0x7f0000000000ull + (r % (1ull << 36))) | 1; break;   /* odd */
        case 1: a = (1ull << 47) + ((r % (1ull << 40)) << 4); break;     /* high */
        case 2: a = 0x600000000ull + ((r % (1ull << 32)) << 3); break;   /* 8-aligned */
        default: a = 0x10000ull + ((r % (1ull << 40)) << 4); break;
        }
        addrs[i] = a;
    }
    qsort(addrs, N_ADDR, sizeof addrs[0], cmp_u64);
    int j = 0;
    for (int i = 0; i < N_ADDR; i++)
        if (!j || addrs[i] != addrs[j - 1]) addrs[j++] = addrs[i];
    for (; j < N_ADDR; j++) addrs[j] = addrs[j - 1] + 16;   /* keep unique */

    uint64_t bytes = 0, used = 0;
    int has_bad = 0;
    for (int step = 0; step < 1000000; step++) {
        int i = (int)(next() % N_ADDR);
        uint64_t r = next();
        if (!live[i] || r % 7 == 0) {          /* insert or replace */
            uint64_t sz = r % 97 == 0 ? (1ull << 20) + (r >> 40) :       /* big */
                          r % 89 == 0 ? (1ull << 20) - 1 :               /* the edge */
                          r % 83 == 0 ? 0 : 16 + (r >> 50) % 4096;
            if (live[i]) bytes -= sizes[i];
            else used++;
            msr_lt_insert(addrs[i], sz);
            live[i] = 1;
            sizes[i] = sz;
            bytes += sz;
        } else {
            msr_lt_remove(addrs[i]);
            live[i] = 0;
            bytes -= sizes[i];
            used--;
        }
        if (step % 997 == 0) {
            int k = (int)(next() % N_ADDR);
            if (msr_lt_has(addrs[k]) != live[k]) has_bad++;
        }
        if (step == 500000) {
            CHECK_EQ_U64("livetab/mid/bytes", bytes, msr_lt_bytes);
            CHECK_EQ_U64("livetab/mid/blocks", used, msr_lt_used);
        }
    }
    msr_lt_remove(0x12345678ull);               /* never inserted: no effect */
    CHECK_EQ_U64("livetab/bytes", bytes, msr_lt_bytes);
    CHECK_EQ_U64("livetab/blocks", used, msr_lt_used);
    CHECK_EQ_U64("livetab/lookups", 0, has_bad);
    size_t n = msr_lt_drain(each, NULL);
    CHECK_EQ_U64("livetab/drained", used, n);
    CHECK_EQ_U64("livetab/drained-match", 0, drained_bad);
    CHECK_EQ_U64("livetab/drained-count", used, drained_n);
    CHECK_EQ_U64("livetab/empty-after-drain", 0, msr_lt_used + msr_lt_bytes);
    msr_lt_insert(0x1000, 32);                  /* usable again */
    CHECK("livetab/reuse", msr_lt_has(0x1000) && msr_lt_bytes == 32);
    msr_lt_reset();

    /* size bound, at several counts (each segment sits anywhere in its
     * growth cycle) */
    int size_bad = 0;
    uint64_t a = 0x5555500000ull, lo = 0, hi = 0;
    for (size_t live_n = 1; live_n <= 1000000; live_n++) {
        msr_lt_insert(a, 16 + live_n % 128);
        a += 16 + 16 * (next() % 8);
        if (live_n % 99991 == 0 || live_n == 1000000) {
            size_t b = msr_lt_table_bytes();
            size_t max = live_n * 8 * 125 / 88 + SEGS * SEG_MIN * 8;
            if (b < live_n * 8 || b > max) size_bad++;
            lo = b, hi = max;
        }
    }
    CHECK_EQ_U64("livetab/size/blocks", 1000000, msr_lt_used);
    CHECK_EQ_U64("livetab/size/within-bound", 0, size_bad);
    /* 256 -> ~20 000 slots a segment: 19 growths each, 7 of them to a new
     * size class; the other 12 inside the block they had */
    CHECK("livetab/size/grown-in-place", msr_lt_grown[1] >= SEGS * 10 && msr_lt_grown[0] >= SEGS * 6);
    CHECK("livetab/size/1M-blocks-le-10.5MiB", lo <= (size_t)21 << 19 && lo <= hi);
    msr_lt_reset();
    return ms_test_failures != 0;
}
