/*
 * entry — calls every heap entry point once or more, each freed correctly,
 * and prints its exact heap truth (TRUTH line, valgrind's counting rules).
 * Covers realloc grow/shrink/in place, realloc(NULL, n), realloc(p, 0),
 * reallocarray, the aligned allocators (alignment checked), malloc(0),
 * free(NULL), strdup (libc calling malloc) and calloc overflow (NULL,
 * ENOMEM, not counted). The peak is a known 150000 bytes at the end.
 * pvalloc is reported apart: valgrind 3.19 does not intercept it.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include "progs.h"

static int bad;
static void expect(int cond, const char *what)
{
    if (!cond) {
        out("entry: FAILED %s\n", what);
        bad = 1;
    }
}
static void *touch(void *p, size_t n)
{
    if (p)
        memset(p, 0xab, n);
    return p;
}

int main(void)
{
    void *p, *q;

    p = touch(malloc(100), 100); t_alloc(100); free(p); t_free(100);

    p = calloc(10, 30); t_alloc(300);
    for (int i = 0; i < 300; i++) expect(((unsigned char *)p)[i] == 0, "calloc zeroed");
    free(p); t_free(300);

    p = touch(malloc(64), 64); t_alloc(64);
    p = realloc(p, 4096); t_realloc(64, 4096);          /* grow */
    expect(p != NULL, "realloc grow");
    touch(p, 4096);
    p = realloc(p, 32); t_realloc(4096, 32);             /* shrink */
    expect(p != NULL, "realloc shrink");
    q = touch(malloc(1000), 1000); t_alloc(1000);
    q = realloc(q, 1008); t_realloc(1000, 1008);         /* likely in place */
    expect(q != NULL, "realloc in place");
    free(q); t_free(1008);
    p = realloc(p, 0); t_free(32);                       /* realloc(p, 0) frees */
    expect(p == NULL, "realloc(p,0) returns NULL");

    void *volatile null = NULL;        /* GCC folds a literal realloc(NULL, n) to malloc */
    p = touch(realloc(null, 200), 200); t_alloc(200);    /* realloc(NULL, n) */
    free(p); t_free(200);

    p = reallocarray(null, 10, 20); t_alloc(200);
    p = touch(reallocarray(p, 20, 20), 400); t_realloc(200, 400);
    free(p); t_free(400);

    p = NULL;
    expect(posix_memalign(&p, 64, 500) == 0 && ((uintptr_t)p & 63) == 0, "posix_memalign");
    touch(p, 500); t_alloc(500); free(p); t_free(500);

    p = touch(aligned_alloc(128, 1024), 1024); t_alloc(1024);
    expect(((uintptr_t)p & 127) == 0, "aligned_alloc alignment");
    free(p); t_free(1024);

    p = touch(memalign(256, 700), 700); t_alloc(700);
    expect(((uintptr_t)p & 255) == 0, "memalign alignment");
    free(p); t_free(700);

    long pg = sysconf(_SC_PAGESIZE);
    p = touch(valloc(300), 300); t_alloc(300);
    expect(((uintptr_t)p & (uintptr_t)(pg - 1)) == 0, "valloc alignment");
    free(p); t_free(300);

    p = touch(malloc(0), 0); t_alloc(0);
    expect(p != NULL, "malloc(0) non-NULL");
    free(p); t_free(0);
    free(NULL);                                          /* not an event */

    char *s = strdup("hello"); t_alloc(6);               /* libc calls malloc */
    expect(s && !strcmp(s, "hello"), "strdup");
    free(s); t_free(6);

    volatile size_t huge = SIZE_MAX / 8;
    errno = 0;
    p = calloc(huge, 16);                                /* overflow: not counted */
    expect(p == NULL && errno == ENOMEM, "calloc overflow -> NULL/ENOMEM");

    /* The peak: 100000 + 50000 live at once; everything before was smaller. */
    p = touch(malloc(100000), 100000); t_alloc(100000);
    q = touch(malloc(50000), 50000); t_alloc(50000);
    free(q); t_free(50000);
    free(p); t_free(100000);

    /* pvalloc last and apart: valgrind 3.19 does not see it. */
    p = touch(pvalloc(5000), 5000);
    expect(((uintptr_t)p & (uintptr_t)(pg - 1)) == 0, "pvalloc alignment");
    free(p);

    t_print("entry");
    out("EXTRA pvalloc allocs=1 frees=1 bytes=5000\n");
    out("entry: %s\n", bad ? "FAILED" : "ok");
    return bad;
}
