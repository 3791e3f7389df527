/*
 * inlined — a heap allocation at the bottom of a chain of always_inline
 * functions, built -O2 -g by tests/recorder/test_symbols.sh: the symbolizer
 * must show every inlined frame with its own file:line (as addr2line -i):
 * inl_inner at its malloc line, inl_middle at its call of inl_inner,
 * outer_fn at its call of inl_middle. The lines are marked "@L1".."@L3"
 * for the test to find. One block is leaked so the site shows in reports.
 * With -DINLINED_OTHER it also calls other_fn of inlined_other.c.
 */
#include <stdio.h>
#include <stdlib.h>

static void *volatile keep[4];

static inline __attribute__((always_inline)) void *inl_inner(size_t n)
{
    void *p = malloc(n); /* @L1 */
    if (p) *(volatile char *)p = 1;
    return p;
}

static inline __attribute__((always_inline)) void *inl_middle(size_t n)
{
    void *p = inl_inner(n + 8); /* @L2 */
    keep[1] = p;
    return p;
}

__attribute__((noinline)) void *outer_fn(size_t n)
{
    void *p = inl_middle(n); /* @L3 */
    keep[0] = p;
    return p;
}

#ifdef INLINED_OTHER
void *other_fn(size_t n);       /* inlined_other.c */
#endif

int main(int argc, char **argv)
{
    (void)argv;
    void *p = outer_fn(100 + (size_t)argc);
#ifdef INLINED_OTHER
    keep[2] = other_fn(40);
#endif
    printf("%p\n", p);
    return 0;
}
