/*
 * unwvar — stacks that a wrong cached unwind rule would get wrong, built
 * -O2 -fomit-frame-pointer (see the Makefile) like distribution code:
 *  - recursion of variable depth with alloca frames of variable size (the
 *    same return addresses at many stack depths and frame sizes, CFA on
 *    %rbp) and without (CFA on %rsp), mutually recursive;
 *  - deep recursion (300 levels: more than the recorder's 64 frames);
 *  - mallocs in a signal handler (a signal frame, on the thread's stack
 *    and on a sigaltstack), raised at several depths;
 *  - mallocs from qsort's comparison callback (libc frames between);
 *  - a malloc after a mid-function epilogue (DW_CFA_restore_state);
 *  - the same in a second thread.
 * Every malloc has its own size: 1100 + k for vla_rec(k % 13) (k < 40),
 * 1000 + k for plain_rec(k % 17), 1300 the deep one, 1400 + d in a handler
 * raised at depth d (1407 on the sigaltstack) and 1200 + d for a recursion
 * in that handler, 1501..1503 in qsort, 1600..1602 in early(); 500 more
 * in the thread. Prints
 * TRUTH allocs=N.
 */
#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "progs.h"

static volatile long sink;
static volatile int sig_depth;
static int nallocs;
static __thread int base;      /* 0 in main, 500 in the thread */
static __thread int cur;       /* the size of the recursion's malloc */

static void take(size_t n)
{
    char *p = malloc(n);
    if (p) {
        p[0] = (char)n;
        sink += p[0];
    }
    free(p);
    __atomic_add_fetch(&nallocs, 1, __ATOMIC_RELAXED);
}

__attribute__((noinline)) static int vla_rec(int n, int k);

__attribute__((noinline)) static int plain_rec(int n, int k)
{
    if (n == 0) {
        take((size_t)cur);
        return k;
    }
    int r = (n & 1) ? vla_rec(n - 1, k) : plain_rec(n - 1, k);
    sink += r;
    return r + 1;
}

__attribute__((noinline)) static int vla_rec(int n, int k)
{
    size_t sz = (size_t)(16 + (n * 37 + k * 11) % 900);
    char *buf = alloca(sz);
    memset(buf, n, sz);
    sink += buf[sz - 1];
    int r = n == 0 ? (take((size_t)cur), 0)
                   : (n % 3) ? plain_rec(n - 1, k) : vla_rec(n - 1, k);
    sink += buf[0];
    return r + 1;
}

__attribute__((noinline)) static int deep(int n)
{
    if (n == 0) {
        take((size_t)(1300 + base));
        return 1;
    }
    int r = deep(n - 1);
    sink += r;
    return r + 1;
}

/* an early return: its epilogue sits between DW_CFA_remember_state and
 * DW_CFA_restore_state, and the malloc after it uses the restored rule */
__attribute__((noinline)) static int early(int n, int k)
{
    long a = sink, b = sink * 3, c = sink + n;
    for (int i = 0; i < n; i++) {
        a += sink;
        b ^= a;
        c += b;
    }
    if (k < 0) {
        take((size_t)(1600 + base));
        return (int)(a + b);
    }
    take((size_t)(k + base));
    a += sink;
    take((size_t)(k + 1 + base));
    return (int)(a + b + c + sink);
}

static void on_usr1(int sig)
{
    (void)sig;
    take((size_t)(1400 + base + sig_depth));
    int was = cur;
    cur = 1200 + base + sig_depth;
    plain_rec(sig_depth, 90);
    cur = was;
}

__attribute__((noinline)) static int raise_at(int n, int k)
{
    if (n == 0) {
        sig_depth = k;
        raise(SIGUSR1);
        return 1;
    }
    char *buf = alloca((size_t)(32 + n * 8));
    buf[0] = (char)n;
    int r = raise_at(n - 1, k);
    sink += buf[0];
    return r + 1;
}

static int cmp(const void *a, const void *b)
{
    static __thread int once;
    if (once++ < 3) take((size_t)(1500 + base + once));
    return *(const int *)a - *(const int *)b;
}

static void workload(void)
{
    for (int k = 0; k < 40; k++) {
        cur = 1100 + base + k;
        vla_rec(k % 13, k);
        cur = 1000 + base + k;
        plain_rec(k % 17, k);
    }
    deep(300);
    early(5, -1);
    early(5, 1601);
    for (int k = 0; k < 6; k++) raise_at(k * 3, k);
    int v[16];
    for (int i = 0; i < 16; i++) v[i] = (i * 7) % 16;
    qsort(v, 16, sizeof v[0], cmp);
}

static void *thread_main(void *arg)
{
    (void)arg;
    base = 500;
    workload();
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    workload();
    /* the handler on an alternate signal stack */
    static char alt[1 << 16];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise_at(4, 7);
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, NULL) == 0) pthread_join(th, NULL);
    out("TRUTH unwvar allocs=%d\n", nallocs);
    return 0;
}
