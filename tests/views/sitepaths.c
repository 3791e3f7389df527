/*
 * sitepaths — a program with known sites for tests/views/test_sitepaths.sh
 * (built by the script; line numbers below are asserted there, keep them):
 *   - dup_value() is the one leaf of three sites that differ only in their
 *     callers: cache_put() (10 x 1000 B), index_put() (20 x 1000 B) and
 *     cache_put() -> inl_put() (inlined, 5 x 1000 B); all stay live;
 *   - two_lines() allocates 3 x 4096 B on its line 37 and 1 x 4096 B on
 *     line 38 (its bytes come from two lines);
 *   - churn() makes exactly 100 temporary allocations by heaptrack's rule
 *     (malloc then free with nothing in between), and 50 pairs that are
 *     not temporary by that rule (another free, or another allocation of
 *     the same size and stack, comes between);
 *   - tiny1/2/3 allocate 8 B each (kept live): the only nodes whose
 *     allocated cum is under 1 KB.
 */
#include <stdio.h>
#include <stdlib.h>

static void *keep[64];
static int nkeep;

__attribute__((noinline)) void *dup_value(size_t n) { return malloc(n); }
static inline __attribute__((always_inline)) void *inl_put(size_t n) { return dup_value(n); }
__attribute__((noinline)) void cache_put(int k) { for (int i = 0; i < k; i++) keep[nkeep++] = dup_value(1000); }
__attribute__((noinline)) void cache_put_inl(int k) { for (int i = 0; i < k; i++) keep[nkeep++] = inl_put(1000); }
__attribute__((noinline)) void index_put(int k) { for (int i = 0; i < k; i++) keep[nkeep++] = dup_value(1000); }

__attribute__((noinline)) void tiny1(void) { keep[nkeep++] = malloc(8); }
__attribute__((noinline)) void tiny2(void) { keep[nkeep++] = malloc(8); }
__attribute__((noinline)) void tiny3(void) { keep[nkeep++] = malloc(8); }

__attribute__((noinline)) void two_lines(void)
{
    void *p[4];
    for (int i = 0; i < 3; i++)
        p[i] =
            malloc(4096);
    p[3] = malloc(4096);
    for (int i = 0; i < 4; i++) free(p[i]);
}

__attribute__((noinline)) void *same_site(void) { return malloc(24); }

__attribute__((noinline)) void churn(void)
{
    for (int i = 0; i < 100; i++) {
        void *p = malloc(16);
        __asm__ volatile("" : : "r"(p) : "memory");
        free(p);                                       /* temporary        */
    }
    for (int i = 0; i < 25; i++) {
        void *x = malloc(32), *a = malloc(32);
        free(x);                                       /* a is not last    */
        free(a);                                       /* a free came first */
    }
    for (int i = 0; i < 25; i++) {
        void *p[2];
        for (int j = 0; j < 2; j++) p[j] = same_site();
        free(p[0]);                                    /* heaptrack counts this one */
        free(p[1]);
    }
}

int main(void)
{
    cache_put(10);
    index_put(20);
    cache_put_inl(5);
    two_lines();
    churn();
    tiny1();
    tiny2();
    tiny3();
    return nkeep == 38 ? 0 : 1;
}
