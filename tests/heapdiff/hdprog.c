/* Test program for the heap diff (test_heapdiff.sh), built twice:
 * -DV=1 ("before") and -DV=2 ("after"). Known truth, all sizes exact:
 *   grow_site:    V1 4 x 256 KiB, V2 4 x 512 KiB, all live at the peak,
 *                 freed before exit (Δpeak +1 MiB, Δallocated +1 MiB);
 *   steady_site:  10 x 1000 B in both, freed (unchanged);
 *   old_site:     V1 only: 300000 B, live at the peak, freed (vanished);
 *   new_site:     V2 only: 200000 B, live at the peak, freed (new);
 *   leak_site:    V1 leaks 1 x 4096 B, V2 leaks 3 x 4096 B (Δleaked
 *                 +8192 B, 2 more blocks); never freed, so live at the
 *                 peak too.
 * The peak is reached when every block above is live at once. */
#include <stdlib.h>
#include <string.h>

#ifndef V
#define V 1
#endif

static void *keep[64];
void *leaked[3];        /* global: the leaks stay reachable */
static int nkeep;

__attribute__((noinline)) static void *grow_site(size_t n) { void *p = malloc(n); memset(p, 1, n); return p; }
__attribute__((noinline)) static void *steady_site(size_t n) { void *p = malloc(n); memset(p, 2, n); return p; }
#if V == 1
__attribute__((noinline)) static void *old_site(size_t n) { void *p = malloc(n); memset(p, 3, n); return p; }
#else
__attribute__((noinline)) static void *new_site(size_t n) { void *p = malloc(n); memset(p, 4, n); return p; }
#endif
__attribute__((noinline)) static void *leak_site(size_t n) { void *p = malloc(n); memset(p, 5, n); return p; }

int main(void)
{
    for (int i = 0; i < 4; i++) keep[nkeep++] = grow_site(V == 1 ? 256 * 1024 : 512 * 1024);
    for (int i = 0; i < 10; i++) keep[nkeep++] = steady_site(1000);
#if V == 1
    keep[nkeep++] = old_site(300000);
#else
    keep[nkeep++] = new_site(200000);
#endif
    for (int i = 0; i < (V == 1 ? 1 : 3); i++) leaked[i] = leak_site(4096);
    for (int i = 0; i < nkeep; i++) free(keep[i]);
    return 0;
}
