/* ownmalloc: a program that defines malloc, free, calloc and realloc
 * itself (a bump allocator over a static array; free keeps the memory), as
 * a program with a statically linked allocator does. A preloaded recorder's
 * malloc is then never called for the program's allocations: the recorder
 * must say so instead of writing a trace without them. */
#include "progs.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

static _Alignas(16) char heap[4 << 20];
static size_t used;

void *malloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof heap - used - 16) {
        errno = ENOMEM;
        return NULL;
    }
    char *p = heap + used + 16;
    ((size_t *)p)[-1] = n;
    used += n + 16;
    return p;
}

void free(void *p) { (void)p; }

void *calloc(size_t n, size_t m)
{
    size_t s;
    if (__builtin_mul_overflow(n, m, &s)) {
        errno = ENOMEM;
        return NULL;
    }
    return malloc(s);       /* never reused: still zero */
}

void *realloc(void *p, size_t n)
{
    void *q = malloc(n);
    if (p && q) {
        size_t was = ((size_t *)p)[-1];
        memcpy(q, p, was < n ? was : n);
    }
    return q;
}

int main(void)
{
    void *keep[100];
    for (int i = 0; i < 100; i++) {
        keep[i] = malloc(1000);
        t_alloc(1000);
    }
    for (int i = 0; i < 100; i++) {
        free(keep[i]);
        t_free(1000);
    }
    t_print("ownmalloc");
    return 0;
}
