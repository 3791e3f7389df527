/*
 * memostress — call chains the recorder's stack memo (recorder/lib/stacks.c)
 * must tell apart. The memo skips the unwind for a call from the same
 * return address at the same stack depth whose remembered return-address
 * slots hold the same words; its key takes the first two frames only, so
 * every pair below shares a key and only the check of the outer words
 * separates them. Built -O2 like distribution code (see the Makefile);
 * bodies differ so that no two functions are folded into one.
 *   1001 / 1002  leaf <- mid <- via_a / via_b (same frame sizes: the chains
 *                differ in the third frame only)
 *   1003 / 1004  leaf <- mid <- d1 <- ... <- d8 <- outer_a / outer_b (they
 *                differ in the outermost frame below main only)
 *   1010 + j     leaf <- mid <- rec x (j + 1) (j = 0..4: the same call
 *                site at five depths)
 *   1020 + j     leaf <- mid <- via_alloca (an alloca of 16 * (j + 1)
 *                bytes moves mid and leaf down the stack)
 *   1030 / 1031  leaf <- mid <- big_a / big_b <- big_outer: 4 KiB frames,
 *                whose slot distances (over 255 words) the memo keeps in
 *                two bytes
 *   1040         leaf <- mid <- deep x 60 <- big_outer: more frames than a
 *                memo entry holds with two-byte distances
 * interleaved ROUNDS times. Prints TRUTH allocs=N.
 */
#include <alloca.h>
#include <stdlib.h>
#include "progs.h"

#define ROUNDS 400

static volatile long sink;
static int nallocs;

__attribute__((noinline)) static void leaf(size_t n)
{
    char *p = malloc(n);
    if (p) {
        p[0] = (char)n;
        sink += p[0];
    }
    free(p);
    nallocs++;
    __asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) static void mid(size_t n, int k)
{
    sink += k * 3;
    leaf(n);
    sink += 1;
}

__attribute__((noinline)) static void via_a(size_t n) { sink += 11; mid(n, 1); sink ^= 5; }
__attribute__((noinline)) static void via_b(size_t n) { sink += 13; mid(n, 2); sink ^= 7; }

#define D(i, next) \
    __attribute__((noinline)) static void d##i(size_t n) { sink += i * 17; next; sink -= i; }
D(1, mid(n, 4))
D(2, d1(n))
D(3, d2(n))
D(4, d3(n))
D(5, d4(n))
D(6, d5(n))
D(7, d6(n))
D(8, d7(n))

__attribute__((noinline)) static void outer_a(size_t n) { sink += 19; d8(n); sink ^= 3; }
__attribute__((noinline)) static void outer_b(size_t n) { sink += 23; d8(n); sink ^= 9; }

__attribute__((noinline)) static void rec(size_t n, int k)
{
    sink += k;
    if (k == 0) mid(n, 5);
    else rec(n, k - 1);
    sink -= 2;
}

__attribute__((noinline)) static void via_alloca(size_t n, int j)
{
    volatile char *buf = alloca(16 * (size_t)(j + 1));
    buf[0] = (char)j;
    mid(n, 6 + buf[0]);
    sink += buf[0];
}

__attribute__((noinline)) static void big_a(size_t n)
{
    volatile char buf[4096];
    buf[n % 4096] = (char)n;
    mid(n, 7 + buf[n % 4096] % 2);
    sink += buf[100];
}
__attribute__((noinline)) static void big_b(size_t n)
{
    volatile char buf[4096];
    buf[n % 4096] = (char)n;
    mid(n, 9 + buf[n % 4096] % 2);
    sink -= buf[200];
}
__attribute__((noinline)) static void deep(size_t n, int k)
{
    sink += k;
    if (k == 0) mid(n, 11);
    else deep(n, k - 1);
    sink -= 3;
}
__attribute__((noinline)) static void big_outer(size_t n)
{
    volatile char buf[4096];
    buf[n % 4096] = (char)n;
    if (n == 1030) big_a(n);
    else if (n == 1031) big_b(n);
    else deep(n, 59);
    sink += buf[300];
}
int main(void)
{
    for (int r = 0; r < ROUNDS; r++) {
        via_a(1001);
        via_b(1002);
        outer_a(1003);
        outer_b(1004);
        for (int j = 0; j < 5; j++) rec(1010 + (size_t)j, j);
        via_alloca(1020 + (size_t)(r % 4), r % 4);
        big_outer(1030);
        big_outer(1031);
        big_outer(1040);
        if (r & 1) {                   /* the other order too */
            via_b(1002);
            via_a(1001);
            outer_b(1004);
            outer_a(1003);
        }
    }
    out("TRUTH memostress allocs=%d\n", nallocs);
    return 0;
}
