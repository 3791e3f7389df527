#!/bin/sh
# gen_c.sh N > file.c : a deterministic, self-contained C11 file of N groups of
# functions (structs, loops, switches, recursion, string handling) for the
# gcc/cc1 runs of tests/real and bench/real.sh. N=60 is about 2000 lines;
# cc1 -O2 takes about a second on it.
awk -v n="${1:-60}" 'BEGIN {
    print "#include <stdio.h>"
    print "#include <stdlib.h>"
    print "#include <string.h>"
    print "#include <stdint.h>"
    print "struct node { struct node *next; int key; double w; char name[24]; };"
    print "static uint32_t mix(uint32_t x) { x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; return x ^ (x >> 16); }"
    for (i = 0; i < n; i++) {
        printf "struct rec%d { int a[%d]; double d; struct node *list; const char *tag; };\n", i, 4 + i % 9
        printf "static struct node *build%d(int k) {\n", i
        printf "    struct node *h = NULL;\n"
        printf "    for (int j = 0; j < k; j++) {\n"
        printf "        struct node *p = malloc(sizeof *p);\n"
        printf "        if (!p) return h;\n"
        printf "        p->key = (int)mix((uint32_t)(j * %d + %d));\n", i + 3, i
        printf "        p->w = p->key * %d.25 / (j + 1);\n", i + 1
        printf "        snprintf(p->name, sizeof p->name, \"n%d_%%d\", j);\n", i
        printf "        p->next = h; h = p;\n"
        printf "    }\n    return h;\n}\n"
        printf "static double walk%d(const struct node *h, int mode) {\n", i
        printf "    double s = 0;\n"
        printf "    for (; h; h = h->next) {\n"
        printf "        switch ((h->key ^ mode) & 7) {\n"
        for (c = 0; c < 8; c++)
            printf "        case %d: s += h->w * %d - (double)strlen(h->name); break;\n", c, (c * 13 + i) % 17 + 1
        printf "        }\n    }\n    return s;\n}\n"
        printf "static int fib%d(int x) { return x < 2 ? x + %d : fib%d(x - 1) + fib%d(x - 2); }\n", i, i % 3, i, i
        printf "static void fill%d(struct rec%d *r, int seed) {\n", i, i
        printf "    for (unsigned j = 0; j < sizeof r->a / sizeof r->a[0]; j++)\n"
        printf "        r->a[j] = (int)(mix((uint32_t)(seed + (int)j)) %% 1000) - %d;\n", i * 7
        printf "    r->d = 0;\n"
        printf "    for (unsigned j = 0; j < sizeof r->a / sizeof r->a[0]; j++) r->d += r->a[j] * 0.5;\n"
        printf "    r->list = build%d(%d + seed %% 5);\n", i, 10 + i % 11
        printf "    r->tag = (r->d > 0) ? \"pos%d\" : \"neg%d\";\n", i, i
        printf "}\n"
        printf "static double run%d(int seed) {\n", i
        printf "    struct rec%d r; fill%d(&r, seed);\n", i, i
        printf "    double s = walk%d(r.list, seed) + fib%d(%d) + r.d + (double)strlen(r.tag);\n", i, i, 5 + i % 6
        printf "    while (r.list) { struct node *p = r.list; r.list = p->next; free(p); }\n"
        printf "    return s;\n}\n"
    }
    print "int main(int argc, char **argv) {"
    print "    int seed = argc > 1 ? atoi(argv[1]) : 1;"
    print "    double t = 0;"
    for (i = 0; i < n; i++) printf "    t += run%d(seed + %d);\n", i, i
    print "    printf(\"%.3f\\n\", t);"
    print "    (void)argv;"
    print "    return 0;"
    print "}"
}'
