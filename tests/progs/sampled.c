/*
 * sampled — a workload with known per-site totals for the sampling tests
 * (tests/recorder/test_sample.sh): mixed sizes from 16 B to 64 KiB made at
 * distinct sites (one noinline function each), so the estimates of a
 * sampled trace can be checked against what the program really did.
 *
 *   site_small   malloc/free pairs, 16..64 B
 *   site_mid     calloc/free pairs, 256..4096 B
 *   site_large   operator-new-sized malloc/free pairs, 16..64 KiB
 *   site_grow    buffers grown by realloc from 64 B to 64 KiB (each
 *                realloc's new size is an allocation of the site), then freed
 *   site_hold    HOLD_MB MiB of 4 KiB blocks held at once (the peak), freed
 *   site_thread  a second thread's malloc/free pairs, 128..1024 B
 *   site_leak    (mode "leak" only) 8 MiB in 1 KiB blocks never freed
 *
 * usage: sampled [free|leak] [SCALE]  (SCALE multiplies the volume, default 1:
 * ~48 MiB per site). Prints for every site one line
 *   SITE name bytes count inv
 * (inv = sum of 1/size over its allocations, for the tests' variance
 * bounds), LEAK bytes blocks (site_leak's, its array included) and PEAK
 * bytes (the site_hold plateau, with main's array of its blocks).
 * Deterministic: a fixed xorshift sequence.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include "progs.h"

#define NI __attribute__((noinline))
#define ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

typedef struct site { const char *name; unsigned long bytes, count; double inv; } site;
static site s_small = {"site_small", 0, 0, 0}, s_mid = {"site_mid", 0, 0, 0},
            s_large = {"site_large", 0, 0, 0}, s_grow = {"site_grow", 0, 0, 0},
            s_hold = {"site_hold", 0, 0, 0}, s_thread = {"site_thread", 0, 0, 0},
            s_leak = {"site_leak", 0, 0, 0};
static unsigned long volume = 48ul << 20;

static uint64_t xs(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return *s = x;
}

static void count(site *s, size_t n)
{
    s->bytes += n;
    s->count++;
    s->inv += 1.0 / (double)n;
}

static size_t between(uint64_t *r, size_t lo, size_t hi) { return lo + (size_t)(xs(r) % (hi - lo + 1)); }

/* A site of malloc/free (or calloc/free) pairs, sizes lo..hi. */
#define PAIR_SITE(fn, st, lo, hi, alloc)                 \
    NI static void fn(uint64_t *r)                       \
    {                                                    \
        while (st.bytes < volume) {                      \
            size_t n = between(r, lo, hi);               \
            void *p = alloc;                             \
            ESCAPE(p);                                   \
            count(&st, n);                               \
            free(p);                                     \
        }                                                \
    }
PAIR_SITE(site_small, s_small, 16, 64, malloc(n))
PAIR_SITE(site_mid, s_mid, 256, 4096, calloc(1, n))
PAIR_SITE(site_large, s_large, 16384, 65536, malloc(n))
PAIR_SITE(site_thread, s_thread, 128, 1024, malloc(n))

NI static void site_grow(uint64_t *r)
{
    (void)r;
    while (s_grow.bytes < volume) {
        char *p = NULL;
        for (size_t n = 64; n <= 65536; n *= 2) {
            char *q = realloc(p, n);
            if (!q) break;
            p = q;
            p[n - 1] = 1;
            count(&s_grow, n);
        }
        free(p);
    }
}

NI static void site_hold(void **v, size_t nb)
{
    for (size_t i = 0; i < nb; i++) {
        v[i] = malloc(4096);
        ESCAPE(v[i]);
        count(&s_hold, 4096);
    }
}

static void *thread_main(void *arg)
{
    uint64_t r = 0x51ed2701u;
    site_thread(&r);
    return arg;
}

static void **leaked;
NI static void site_leak(void)
{
    size_t nb = (8u << 20) / 1024;
    leaked = malloc(nb * sizeof *leaked);
    if (!leaked) return;
    count(&s_leak, nb * sizeof *leaked);
    for (size_t i = 0; i < nb; i++) {
        leaked[i] = malloc(1024);
        count(&s_leak, 1024);
    }
    leaked = NULL;     /* lost */
}

static void report(const site *s)
{
    out("SITE %s %lu %lu %.9g\n", s->name, s->bytes, s->count, s->inv);
}

int main(int argc, char **argv)
{
    int leak = argc > 1 && !strcmp(argv[1], "leak");
    if (argc > 2) volume = (unsigned long)((double)volume * atof(argv[2]));
    uint64_t r = 0x9e3779b97f4a7c15ull;
    pthread_t th;
    if (pthread_create(&th, NULL, thread_main, NULL) != 0) return 1;
    site_small(&r);
    site_mid(&r);
    site_large(&r);
    site_grow(&r);
    size_t nb = volume / 4096;
    void **v = malloc(nb * sizeof *v);   /* main's block, not a site's */
    if (!v) return 1;
    site_hold(v, nb);
    for (size_t i = 0; i < nb; i++) free(v[i]);
    free(v);
    pthread_join(th, NULL);
    if (leak) site_leak();
    const site *all[] = {&s_small, &s_mid, &s_large, &s_grow, &s_hold, &s_thread, &s_leak};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) report(all[i]);
    out("LEAK %lu %lu\n", s_leak.bytes, s_leak.count);
    /* the plateau: site_hold's blocks and main's array of them */
    out("PEAK %lu\n", s_hold.bytes + s_hold.count * (unsigned long)sizeof(void *));
    return 0;
}
