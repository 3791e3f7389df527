/*
 * manylive — many blocks live at exit: N (argv[1], default 300 000) list
 * nodes of 40..136 bytes reachable from a global, and N/10 of 40 bytes in
 * a chain whose head is dropped (one definitely lost, the rest indirectly).
 * The recorder sorts the live blocks by address at exit for the leak scan
 * (a heapsort took ~0.45 s of the exit for 1.1 M blocks; now an introsort);
 * tests/recorder/test_leakclass.sh checks the classes come out exact.
 * Prints TRUTH manylive reachable=N lost_chain=M.
 */
#include <stdlib.h>
#include "progs.h"

struct node { struct node *next; char pad[24]; };
struct node *head;                      /* global: the list stays reachable */
static struct node *volatile lost;

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 300000;
    for (int i = 0; i < n; i++) {
        struct node *x = malloc(sizeof *x + (size_t)(i % 7) * 16);
        if (!x) return 1;
        x->next = head;
        head = x;
    }
    for (int i = 0; i < n / 10; i++) {
        struct node *x = malloc(40);
        if (!x) return 1;
        x->next = lost;
        lost = x;
    }
    lost = NULL;
    out("TRUTH manylive reachable=%d lost_chain=%d\n", n, n / 10);
    return 0;
}
