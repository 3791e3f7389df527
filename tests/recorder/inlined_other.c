/*
 * inlined_other — a second translation unit for inlined.c, built with it
 * -gsplit-dwarf by tests/recorder/test_symbols.sh (-DINLINED_OTHER): two
 * .dwo files whose units both start at offset 0, each with its own inline
 * chain (oth_inner at "@O1" inside other_fn at "@O2").
 */
#include <stdlib.h>

static inline __attribute__((always_inline)) void *oth_inner(size_t n)
{
    void *p = malloc(n * 2); /* @O1 */
    if (p) *(volatile char *)p = 2;
    return p;
}

__attribute__((noinline)) void *other_fn(size_t n)
{
    void *p = oth_inner(n + 3); /* @O2 */
    return p;
}
