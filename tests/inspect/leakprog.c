/* Leak classification test: builds heap blocks whose class is known by
 * construction and checks what msr_leak_classify says about each, without
 * the recorder (plain libc malloc; the block list is kept in an mmap'd,
 * excluded table as the recorder does).
 *
 *   leakprog            run the checks (PASS:/FAIL: lines)
 *   leakprog --bench N  time a scan of N live blocks (a linked list held
 *                       from a global, plus N/10 lost ones)
 *
 * Then blocks of every size the scanner indexes apart (leakscan.c): small
 * blocks in glibc's heap and in a second cluster far from it (an mmap),
 * big blocks (over 16 pages) reached from their start, through an
 * interior pointer only, or not at all, a huge block (over 4 GiB of
 * address space, reserved, untouched) reached only 4.5 GiB into it, and
 * the small blocks each of them holds the only pointer to. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>

#include "memscope.h"
#include "inspect.h"

#define NI __attribute__((noinline))

enum role { R_KEEP, R_KEEP_CHILD, R_LOST, R_LOST_CHILD, R_CYC1, R_CYC2, R_POSS,
            R_POSS_CHILD, R_THREAD_STACK, R_THREAD_TLS, R_MAIN_TLS, R_BLOCKED_STACK,
            R_EXCLUDED, R_DSO_GLOBAL, R_DSO_TLS, R_DSO_TLS_THREAD, R_NROLES };
static const char *role_name[R_NROLES] = {
    "reachable_global", "reachable_child", "definite", "indirect", "cycle_a", "cycle_b",
    "possible_interior", "possible_child", "thread_stack", "thread_tls", "main_tls",
    "sigblocked_thread_stack", "excluded_root", "own_dso_global", "own_dso_tls",
    "own_dso_tls_thread" };

#ifdef LS_DSO
/* built with -DLS_DSO: leakscan.c lives in a shared object with these */
void insp_dso_set_tls(void *p);
void insp_dso_set_global(void *p);
#define NROLES R_NROLES
#else
#define NROLES R_DSO_GLOBAL
#endif

struct node { struct node *next; char pad[56]; };

/* The table of block addresses: mmap'd and excluded, never a root. */
static uint64_t *addr_of;               /* by role */
static ms_live_block *blocks;
static size_t nblocks;

static struct node *volatile g_keep;    /* roots (volatile: stores kept) */
static char *volatile g_interior;
static void *volatile g_excluded[2];
static __thread void *t_ptr;

static atomic_int ready, done_flag;

static void *xmap(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(2); }
    return p;
}

static NI struct node *new_node(enum role r)
{
    struct node *n = calloc(1, sizeof *n);
    addr_of[r] = (uint64_t)(uintptr_t)n;
    return n;
}

static void *holder(void *arg)
{
    (void)arg;
    volatile uintptr_t held = (uintptr_t)new_node(R_THREAD_STACK);
    t_ptr = new_node(R_THREAD_TLS);
#ifdef LS_DSO
    insp_dso_set_tls(new_node(R_DSO_TLS_THREAD));
#endif
    atomic_fetch_add(&ready, 1);
    while (!atomic_load(&done_flag)) {
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    free((void *)held);
    free(t_ptr);
    return NULL;
}

static void *blocked_holder(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    volatile uintptr_t held = (uintptr_t)new_node(R_BLOCKED_STACK);
    atomic_fetch_add(&ready, 1);
    while (!atomic_load(&done_flag)) {
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    free((void *)held);
    return NULL;
}

static NI void make_blocks(void)
{
    g_keep = new_node(R_KEEP);
    g_keep->next = new_node(R_KEEP_CHILD);
    struct node *lost = new_node(R_LOST);
    lost->next = new_node(R_LOST_CHILD);
    struct node *a = new_node(R_CYC1), *b = new_node(R_CYC2);
    a->next = b;
    b->next = a;
    struct node *p = new_node(R_POSS);
    p->next = new_node(R_POSS_CHILD);
    g_interior = (char *)p + 16;
    t_ptr = new_node(R_MAIN_TLS);
    g_excluded[0] = new_node(R_EXCLUDED);
#ifdef LS_DSO
    insp_dso_set_global(new_node(R_DSO_GLOBAL));
    insp_dso_set_tls(new_node(R_DSO_TLS));
#endif
}

/* Overwrite dead stack below the caller so no stale copy of a block
 * address is left where msr_leak_classify's frame will be. */
static NI void scrub_stack(void)
{
    volatile char buf[64 * 1024];
    memset((char *)buf, 0, sizeof buf);
}

static int cmp_block(const void *a, const void *b)
{
    uint64_t x = ((const ms_live_block *)a)->addr, y = ((const ms_live_block *)b)->addr;
    return x < y ? -1 : x > y;
}

static uint32_t class_of(uint64_t addr)
{
    for (size_t i = 0; i < nblocks; i++)
        if (blocks[i].addr == addr)
            return blocks[i].leak_class;
    return 99;
}

static NI int classify(void)
{
    uint64_t ex[4] = {
        (uint64_t)(uintptr_t)g_excluded, (uint64_t)(uintptr_t)(g_excluded + 2),
        (uint64_t)(uintptr_t)addr_of, (uint64_t)(uintptr_t)addr_of + 4096 };
    scrub_stack();
    /* as the recorder does at its entry points: the scanner's own frames
     * (block addresses in its locals) are not roots */
    msr_leak_entry_frame(__builtin_frame_address(0));
    return msr_leak_classify(blocks, nblocks, ex, 2);
}

static const char *cname(uint32_t c)
{
    static const char *n[] = { "unknown", "reachable", "definite", "indirect", "possible", "libc" };
    return c < 6 ? n[c] : "?";
}

static int failures;
static void expect(enum role r, uint32_t want)
{
    uint32_t got = class_of(addr_of[r]);
    char name[96];
    snprintf(name, sizeof name, "leak/%s", role_name[r]);
    if (got == want)
        printf("PASS: %s\n", name);
    else {
        printf("FAIL: %s: expected %s, got %s\n", name, cname(want), cname(got));
        failures++;
    }
}

/* ---- blocks of every size ------------------------------------------------ */

static void *volatile g_big, *volatile g_big2_in, *volatile g_huge_in, *volatile g_c2;
static void *volatile g_empty;          /* a region with no block at all */

enum { S_HEAP_KEEP, S_HEAP_LOST, S_C2_KEEP, S_C2_LOST, S_C2_CHILD, S_BIG, S_BIG_CHILD,
       S_BIG2, S_BIG2_CHILD, S_BIG3, S_BIG3_CHILD, S_HUGE, S_HUGE_CHILD, S_N };
static const char *sname[S_N] = { "heap_reachable", "heap_definite", "cluster2_reachable",
    "cluster2_definite", "cluster2_child_of_reachable", "big_reachable", "big_child",
    "big_interior_only", "big_interior_child", "big_lost", "big_lost_child",
    "huge_interior_only", "huge_interior_child" };

/* Blocks and pointers; their addresses are kept only in the excluded page
 * (addr_of + 256, + 256 + S_N): no local of a live frame holds them. */
static NI int sizes_setup(void)
{
    uint64_t *at = addr_of + 256, *size = addr_of + 256 + S_N;
    const size_t big = 256 << 10;
    const uint64_t huge = (4096ull + 2) << 20;
    char *c2 = xmap(1 << 20), *bigs = xmap(4 * big);
    char *h = mmap(NULL, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (h == MAP_FAILED) return -1;
    at[S_HEAP_KEEP] = (uint64_t)(uintptr_t)calloc(1, sizeof(struct node));
    at[S_HEAP_LOST] = (uint64_t)(uintptr_t)calloc(1, sizeof(struct node));
    for (int i = S_C2_KEEP; i <= S_C2_CHILD; i++) at[i] = (uint64_t)(uintptr_t)(c2 + 4096 * (i - S_C2_KEEP + 1));
    for (int i = 0; i < 3; i++) at[S_BIG + 2 * i] = (uint64_t)(uintptr_t)(bigs + big * (size_t)i);
    for (int i = 0; i < 3; i++) at[S_BIG_CHILD + 2 * i] = (uint64_t)(uintptr_t)(c2 + 65536 + 128 * i);
    at[S_HUGE] = (uint64_t)(uintptr_t)h;
    at[S_HUGE_CHILD] = (uint64_t)(uintptr_t)(c2 + 65536 + 1024);
    for (int i = 0; i < S_N; i++) size[i] = sizeof(struct node);
    size[S_BIG] = size[S_BIG2] = size[S_BIG3] = big;
    size[S_HUGE] = huge;
    /* the pointers: from globals, and from inside the blocks */
    g_keep = (struct node *)(uintptr_t)at[S_HEAP_KEEP];
    g_c2 = (void *)(uintptr_t)at[S_C2_KEEP];
    *(uint64_t *)(uintptr_t)at[S_C2_KEEP] = at[S_C2_CHILD];
    g_big = (void *)(uintptr_t)at[S_BIG];
    *(uint64_t *)(uintptr_t)(at[S_BIG] + big - 64) = at[S_BIG_CHILD];
    g_big2_in = (void *)(uintptr_t)(at[S_BIG2] + 1000);
    *(uint64_t *)(uintptr_t)(at[S_BIG2] + 8) = at[S_BIG2_CHILD];
    *(uint64_t *)(uintptr_t)(at[S_BIG3] + 8) = at[S_BIG3_CHILD];
    g_huge_in = h + (huge - (512ull << 20));
    *(uint64_t *)(uintptr_t)(at[S_HUGE] + 4096) = at[S_HUGE_CHILD];
    /* between the blocks, in a 1 MiB region none of them touches */
    uint64_t e = at[S_HEAP_KEEP] / 2 + at[S_HUGE] / 2;
    for (int again = 1; again;) {
        again = 0;
        for (int i = 0; i < S_N; i++)
            if (e >> 20 >= at[i] >> 20 && e >> 20 <= (at[i] + size[i]) >> 20) { e += 8ull << 20; again = 1; }
    }
    g_empty = (void *)(uintptr_t)e;
    blocks = xmap(S_N * sizeof *blocks);
    nblocks = 0;
    for (int i = 0; i < S_N; i++) {
        blocks[nblocks].addr = at[i];
        blocks[nblocks++].size = size[i];
    }
    qsort(blocks, nblocks, sizeof *blocks, cmp_block);
    return 0;
}

static NI int sizes_test(void)
{
    if (sizes_setup() != 0) {
        printf("PASS: leak/sizes/skipped (no 4 GiB reservation: %s)\n", strerror(errno));
        return 0;
    }
    int rc = classify();
    static const uint32_t want[S_N] = { MS_LEAK_REACHABLE, MS_LEAK_DEFINITE, MS_LEAK_REACHABLE,
        MS_LEAK_DEFINITE, MS_LEAK_REACHABLE, MS_LEAK_REACHABLE, MS_LEAK_REACHABLE,
        MS_LEAK_POSSIBLE, MS_LEAK_POSSIBLE, MS_LEAK_DEFINITE, MS_LEAK_INDIRECT,
        MS_LEAK_POSSIBLE, MS_LEAK_POSSIBLE };
    const uint64_t *at = addr_of + 256, *size = addr_of + 256 + S_N;
    int bad = rc != 0;
    if (rc) printf("FAIL: leak/sizes/classify_rc: %d\n", rc);
    for (int i = 0; i < S_N; i++) {
        uint32_t got = class_of(at[i]);
        if (got == want[i]) printf("PASS: leak/sizes/%s\n", sname[i]);
        else { printf("FAIL: leak/sizes/%s: expected %s, got %s\n", sname[i], cname(want[i]), cname(got)); bad++; }
    }
    g_keep = NULL;
    g_big = g_big2_in = g_huge_in = g_c2 = NULL;
    munmap((void *)(uintptr_t)at[S_HUGE], size[S_HUGE]);
    free((void *)(uintptr_t)at[S_HEAP_KEEP]);
    free((void *)(uintptr_t)at[S_HEAP_LOST]);
    return bad;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench(size_t n)
{
    nblocks = n + n / 10;
    blocks = xmap(nblocks * sizeof *blocks);
    addr_of = xmap(4096);
    struct node *head = NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct node *x = malloc(sizeof *x);
        x->next = head;
        head = x;
        blocks[k].addr = (uint64_t)(uintptr_t)x;
        blocks[k++].size = sizeof *x;
    }
    g_keep = head;
    for (size_t i = 0; i < n / 10; i++) {
        void *x = malloc(48);
        memset(x, 0, 48);
        blocks[k].addr = (uint64_t)(uintptr_t)x;
        blocks[k++].size = 48;
    }
    head = NULL;
    qsort(blocks, nblocks, sizeof *blocks, cmp_block);
    double t0 = now();
    int rc = classify();
    double dt = now() - t0;
    size_t cnt[6] = { 0 };
    for (size_t i = 0; i < nblocks; i++)
        cnt[blocks[i].leak_class < 6 ? blocks[i].leak_class : 0]++;
    printf("leak scan: %zu blocks in %.1f ms (rc %d; reachable %zu definite %zu indirect %zu possible %zu)\n",
           nblocks, dt * 1e3, rc, cnt[1], cnt[2], cnt[3], cnt[4]);
    return !(rc == 0 && cnt[1] == n && cnt[2] == n / 10);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--bench") == 0)
        return bench((size_t)strtoull(argv[2], NULL, 10));

    addr_of = xmap(4096);
    pthread_t th, th2;
    pthread_create(&th, NULL, holder, NULL);
    pthread_create(&th2, NULL, blocked_holder, NULL);
    make_blocks();
    while (atomic_load(&ready) < 2)
        usleep(1000);

    blocks = xmap(R_NROLES * sizeof *blocks);
    for (int r = 0; r < NROLES; r++) {
        blocks[nblocks].addr = addr_of[r];
        blocks[nblocks++].size = sizeof(struct node);
    }
    qsort(blocks, nblocks, sizeof *blocks, cmp_block);

    double t0 = now();
    int rc = classify();
    double dt = now() - t0;
    if (rc == 0)
        printf("PASS: leak/classify_rc\n");
    else {
        printf("FAIL: leak/classify_rc: %d (%s)\n", rc, ms_strerror(rc));
        failures++;
    }
    expect(R_KEEP, MS_LEAK_REACHABLE);
    expect(R_KEEP_CHILD, MS_LEAK_REACHABLE);
    expect(R_LOST, MS_LEAK_DEFINITE);
    expect(R_LOST_CHILD, MS_LEAK_INDIRECT);
    expect(R_POSS, MS_LEAK_POSSIBLE);
    expect(R_POSS_CHILD, MS_LEAK_POSSIBLE);
    expect(R_THREAD_STACK, MS_LEAK_REACHABLE);
    expect(R_THREAD_TLS, MS_LEAK_REACHABLE);
    expect(R_MAIN_TLS, MS_LEAK_REACHABLE);
    expect(R_BLOCKED_STACK, MS_LEAK_REACHABLE);
    expect(R_EXCLUDED, MS_LEAK_DEFINITE);
#ifdef LS_DSO
    expect(R_DSO_GLOBAL, MS_LEAK_DEFINITE);
    expect(R_DSO_TLS, MS_LEAK_DEFINITE);
    expect(R_DSO_TLS_THREAD, MS_LEAK_DEFINITE);
#endif
    /* a lost cycle: the first one met leads (definite), the other is indirect */
    uint32_t c1 = class_of(addr_of[R_CYC1]), c2 = class_of(addr_of[R_CYC2]);
    if ((c1 == MS_LEAK_DEFINITE && c2 == MS_LEAK_INDIRECT) ||
        (c2 == MS_LEAK_DEFINITE && c1 == MS_LEAK_INDIRECT))
        printf("PASS: leak/lost_cycle\n");
    else {
        printf("FAIL: leak/lost_cycle: got %s and %s\n", cname(c1), cname(c2));
        failures++;
    }

    /* a second scan (handler reused, threads stop again) gives the same answer */
    rc = classify();
    int same = rc == 0 && class_of(addr_of[R_THREAD_STACK]) == MS_LEAK_REACHABLE &&
               class_of(addr_of[R_LOST]) == MS_LEAK_DEFINITE;
    printf(same ? "PASS: leak/second_scan\n" : "FAIL: leak/second_scan: differs\n");
    failures += !same;

    failures += sizes_test();

    atomic_store(&done_flag, 1);
    pthread_join(th, NULL);
    pthread_join(th2, NULL);
    printf("PASS: leak/threads_resumed\n");
    fprintf(stderr, "leak scan of %zu blocks, 3 threads: %.2f ms\n", nblocks, dt * 1e3);
    return failures != 0;
}
