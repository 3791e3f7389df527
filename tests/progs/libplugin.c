/*
 * libplugin — a shared library dlopen'd by dlhost. Its allocations happen in
 * code of a module loaded at run time (and unloaded before exit), so their
 * stacks are only symbolized right if the recorder follows dlopen/dlclose.
 */
#include <stdlib.h>
#include <string.h>

static void *kept;

__attribute__((noinline)) void *plugin_make(size_t n)
{
    void *p = malloc(n);
    if (p)
        memset(p, 7, n);
    return p;
}

/* 3 blocks of 777 bytes, 2 freed, 1 never freed (leaked past dlclose). */
void plugin_run(void)
{
    void *a = plugin_make(777), *b = plugin_make(777);
    kept = plugin_make(777);
    free(a);
    free(b);
}
