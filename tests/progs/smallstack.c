/* Allocations on small stacks, each with a canary below the stack:
 *   threads  4 threads of 16 KiB (PTHREAD_STACK_MIN) allocate 2 000 times
 *            at a call depth of DEPTH frames of ~100 bytes
 *   coro     a makecontext coroutine on a 16 KiB malloc'd stack does the
 *            same (the canary: 2 KiB below the stack in the same block)
 *   altstack a SIGUSR1 handler on an 8 KiB sigaltstack (SIGSTKSZ)
 *            allocates and frees 100 blocks
 * Usage: smallstack DEPTH. Prints per part the bytes below a stack that
 * were written (0 plain) and TRUTH smallstack allocs=N. The recorder's
 * hook once needed ~11 KiB (libunwind off the thread's own stack, 4 KiB of
 * frame arrays, lazy binding): heap corruption or SIGSEGV. */
#include "progs.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <ucontext.h>

#define SS 16384
#define CANARY 2048
static int depth;

__attribute__((noinline)) static void *rec(int d, size_t n)
{
    volatile char pad[64];
    pad[0] = (char)d;
    if (d == 0) return malloc(n);
    void *r = rec(d - 1, n + 1);
    pad[1] = pad[0];
    return r;
}

static void *thr(void *a)
{
    (void)a;
    for (int i = 0; i < 2000; i++) free(rec(depth, (size_t)(i % 300)));
    return NULL;
}

static ucontext_t mc, cc;
static void co(void)
{
    for (int i = 0; i < 500; i++) {
        free(rec(depth, (size_t)i));
        swapcontext(&cc, &mc);
    }
}

static void handler(int s)
{
    (void)s;
    for (int i = 0; i < 100; i++) {
        void *volatile p = malloc(100 + (size_t)i);
        free(p);
    }
}

static int touched(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xAA) return (int)(n - i);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    depth = atoi(argv[1]);
    /* threads: the canary is the guard-side end of each thread's stack */
    pthread_attr_t at;
    pthread_attr_init(&at);
    unsigned char *tst[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        tst[i] = malloc(SS + CANARY);
        memset(tst[i], 0xAA, CANARY);
        pthread_attr_setstack(&at, tst[i] + CANARY, SS);
        if (pthread_create(&t[i], &at, thr, NULL)) return 3;
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        bad += touched(tst[i], CANARY);
        free(tst[i]);
    }
    out("threads: %d bytes below the stacks written\n", bad);
    unsigned char *cst = malloc(SS + CANARY);
    memset(cst, 0xAA, CANARY);
    getcontext(&cc);
    cc.uc_stack.ss_sp = cst + CANARY;
    cc.uc_stack.ss_size = SS;
    cc.uc_link = &mc;
    makecontext(&cc, co, 0);
    for (int i = 0; i < 501; i++) swapcontext(&mc, &cc);
    out("coro: %d bytes below the stack written\n", touched(cst, CANARY));
    free(cst);
    unsigned char *ast = malloc(SIGSTKSZ + CANARY);
    memset(ast, 0xAA, CANARY);
    stack_t st = {.ss_sp = ast + CANARY, .ss_size = SIGSTKSZ, .ss_flags = 0};
    sigaltstack(&st, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    st.ss_flags = SS_DISABLE;
    sigaltstack(&st, NULL);
    out("altstack: %d bytes below the stack written\n", touched(ast, CANARY));
    free(ast);
    out("TRUTH smallstack allocs=%d\n", 4 * 2000 + 500 + 100);
    return 0;
}
