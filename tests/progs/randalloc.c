/*
 * randalloc — N allocations of pseudo-random sizes (16..4015 bytes) into 64
 * slots, each replacing (freeing) the slot's previous block: events that do
 * not compress away, for tests that fill a disk or a file size limit.
 *   randalloc N
 * Prints "randalloc done N" and exits with status 7.
 */
#include <stdlib.h>
#include "progs.h"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    unsigned s = 1;
    void *keep[64] = {0};
    for (long i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        unsigned k = s % 64;
        free(keep[k]);
        keep[k] = malloc(16 + (s >> 8) % 4000);
    }
    out("randalloc done %ld\n", n);
    return 7;
}
