/*
 * sites — the accuracy workload of bench/sample.sh: allocations with known
 * per-site totals, mixed sizes from 16 B to 64 KiB, each site a function of
 * its own (so every profiler names it by its innermost frame), freed at
 * once except site_keep's blocks (live at exit). Byte shares of the total:
 *   site_tiny 5 % (16..64 B)        site_small 10 % (64..512 B)
 *   site_mid 15 % (512 B..4 KiB)    site_big 20 % (4..16 KiB)
 *   site_large 25 % (16..64 KiB)    site_mixed 15 % (16 B..64 KiB, log-uniform)
 *   site_grow 5 % (realloc 64 B -> 64 KiB)   site_keep 5 % (1..8 KiB, kept)
 * The sites take turns in slices of ~1 MiB, so the heap's history mixes
 * them. usage: sites [MIB=1024] [R=524288]. Prints per site
 *   SITE name bytes count var
 * var = sum over its allocations of n^2 (1-p)/p, p = 1 - exp(-n/R): the
 * variance of a Poisson byte sampler's estimate of its bytes at rate R
 * (spec/FORMAT.md §8.8), and KEEP bytes (live at exit).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NI __attribute__((noinline))
#define ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

typedef struct site { const char *name; double share; uint64_t bytes, count; double var; } site;
static site S[] = {
    {"site_tiny", 0.05, 0, 0, 0}, {"site_small", 0.10, 0, 0, 0}, {"site_mid", 0.15, 0, 0, 0},
    {"site_big", 0.20, 0, 0, 0}, {"site_large", 0.25, 0, 0, 0}, {"site_mixed", 0.15, 0, 0, 0},
    {"site_grow", 0.05, 0, 0, 0}, {"site_keep", 0.05, 0, 0, 0},
};
enum { TINY, SMALL, MID, BIG, LARGE, MIXED, GROW, KEEP, NS };
static double rate = 524288;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t xs(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}
static size_t between(size_t lo, size_t hi) { return lo + (size_t)(xs() % (hi - lo + 1)); }

static void count(site *s, size_t n)
{
    double p = -expm1(-(double)n / rate);
    s->bytes += n;
    s->count++;
    s->var += (double)n * (double)n * (1 - p) / p;
}

/* one slice: ~1 MiB of allocation at a site (all freed but site_keep's) */
#define PAIR_SITE(fn, k, sizeexpr)                                   \
    NI static void fn(uint64_t budget)                               \
    {                                                                \
        for (uint64_t done = 0; done < budget;) {                    \
            size_t n = sizeexpr;                                     \
            void *p = malloc(n);                                     \
            ESCAPE(p);                                               \
            count(&S[k], n);                                         \
            done += n;                                               \
            free(p);                                                 \
        }                                                            \
    }
PAIR_SITE(site_tiny, TINY, between(16, 64))
PAIR_SITE(site_small, SMALL, between(64, 512))
PAIR_SITE(site_mid, MID, between(512, 4096))
PAIR_SITE(site_big, BIG, between(4096, 16384))
PAIR_SITE(site_large, LARGE, between(16384, 65536))
PAIR_SITE(site_mixed, MIXED, (size_t)(16.0 * exp((double)(xs() >> 11) * (1.0 / 9007199254740992.0) * log(4096.0))))

NI static void site_grow(uint64_t budget)
{
    for (uint64_t done = 0; done < budget;) {
        char *p = NULL;
        for (size_t n = 64; n <= 65536; n *= 2) {
            char *q = realloc(p, n);
            if (!q) break;
            p = q;
            p[n - 1] = 1;
            count(&S[GROW], n);
            done += n;
        }
        free(p);
    }
}

static void **kept;                 /* main's array, sized before the sites run */
static size_t nkept, capkept;
NI static void site_keep(uint64_t budget)
{
    for (uint64_t done = 0; done < budget && nkept < capkept;) {
        size_t n = between(1024, 8192);
        kept[nkept++] = malloc(n);
        count(&S[KEEP], n);
        done += n;
    }
}

int main(int argc, char **argv)
{
    double total = (argc > 1 ? atof(argv[1]) : 1024) * 1048576.0;
    if (argc > 2) rate = atof(argv[2]);
    capkept = (size_t)(S[KEEP].share * total / 1024) + 2;
    kept = malloc(capkept * sizeof *kept);
    if (!kept) return 1;
    void (*fn[NS])(uint64_t) = {site_tiny, site_small, site_mid, site_big, site_large, site_mixed, site_grow, site_keep};
    for (int done = 0; !done;) {
        done = 1;
        for (int k = 0; k < NS; k++) {
            double want = S[k].share * total;
            if ((double)S[k].bytes >= want) continue;
            done = 0;
            double slice = 1048576.0 * S[k].share / 0.05;
            fn[k]((uint64_t)(want - (double)S[k].bytes < slice ? want - (double)S[k].bytes : slice));
        }
    }
    for (int k = 0; k < NS; k++)
        printf("SITE %s %llu %llu %.6g\n", S[k].name, (unsigned long long)S[k].bytes,
               (unsigned long long)S[k].count, S[k].var);
    printf("KEEP %llu\n", (unsigned long long)S[KEEP].bytes);
    fflush(stdout);
    return 0;
}
