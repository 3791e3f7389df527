/* Unit tests of the weighted call tree (analyze/calltree.c) on synthetic
 * stacks with known answers: flat and cum per function (recursion counted
 * once per stack), edges, totals, folded lines, sorting and the inverted
 * tree. */
#include <stdlib.h>
#include "memscope.h"
#include "calltree.h"
#include "mstest.h"

static char folded[4096];

static int collect(void *ctx, const char *const *names, size_t depth, uint64_t value)
{
    (void)ctx;
    size_t n = strlen(folded);
    for (size_t i = 0; i < depth; i++)
        n += (size_t)snprintf(folded + n, sizeof folded - n, "%s%s", i ? ";" : "", names[i]);
    snprintf(folded + n, sizeof folded - n, " %" PRIu64 "\n", value);
    return 0;
}

static uint32_t fid(ms_calltree *t, const char *name)
{
    uint32_t id = 0;
    if (ms_calltree_func_id(t, &id, name, "x.c", 10) != 0) abort();
    return id;
}

static void add(ms_calltree *t, const uint32_t *f, size_t n, uint64_t peak, uint64_t count)
{
    uint64_t v[MS_CT_NMETRICS] = { peak, 0, peak * 2, count, 0 };
    if (ms_calltree_add(t, f, n, v) != 0) abort();
}

static const ms_ct_edge *find_edge(const ms_calltree *t, uint32_t a, uint32_t b)
{
    for (size_t i = 0; i < ms_calltree_edge_count(t); i++) {
        const ms_ct_edge *e = ms_calltree_edge(t, i);
        if (e->caller == a && e->callee == b) return e;
    }
    return NULL;
}

int main(void)
{
    ms_calltree *t;
    CHECK("calltree new", ms_calltree_new(&t, 0) == 0);
    uint32_t M = fid(t, "main"), A = fid(t, "a"), L = fid(t, "leaf"), B = fid(t, "b");
    CHECK_EQ_U64("intern same id", M, fid(t, "main"));
    uint32_t id;
    ms_calltree_func_id(t, &id, "main", "x.c", 3);
    CHECK_EQ_U64("intern ignores line", M, id);
    CHECK_EQ_U64("smallest line kept", 3, ms_calltree_func(t, M)->line);

    add(t, (uint32_t[]){ M, A, L }, 3, 100, 1);
    add(t, (uint32_t[]){ M, A, A, L }, 4, 50, 2);
    add(t, (uint32_t[]){ M, B }, 2, 30, 3);
    add(t, (uint32_t[]){ M }, 1, 20, 4);
    add(t, (uint32_t[]){ M, A, L }, 3, 0, 5);      /* same stack again */

    CHECK_EQ_U64("total peak", 200, ms_calltree_total(t, MS_CT_PEAK));
    CHECK_EQ_U64("total allocated", 400, ms_calltree_total(t, MS_CT_ALLOCATED));
    CHECK_EQ_U64("total count", 15, ms_calltree_total(t, MS_CT_COUNT));
    CHECK_EQ_U64("unique stacks", 4, ms_calltree_stack_count(t));
    CHECK_EQ_U64("main flat", 20, ms_calltree_func(t, M)->flat[MS_CT_PEAK]);
    CHECK_EQ_U64("main cum", 200, ms_calltree_func(t, M)->cum[MS_CT_PEAK]);
    CHECK_EQ_U64("a flat", 0, ms_calltree_func(t, A)->flat[MS_CT_PEAK]);
    CHECK_EQ_U64("a cum once per stack (recursion)", 150, ms_calltree_func(t, A)->cum[MS_CT_PEAK]);
    CHECK_EQ_U64("a cum count", 8, ms_calltree_func(t, A)->cum[MS_CT_COUNT]);
    CHECK_EQ_U64("leaf flat", 150, ms_calltree_func(t, L)->flat[MS_CT_PEAK]);
    CHECK_EQ_U64("leaf cum", 150, ms_calltree_func(t, L)->cum[MS_CT_PEAK]);
    CHECK_EQ_U64("b flat", 30, ms_calltree_func(t, B)->flat[MS_CT_PEAK]);

    const ms_ct_edge *e = find_edge(t, M, A);
    CHECK("edge main->a", e && e->value[MS_CT_PEAK] == 150);
    e = find_edge(t, A, A);
    CHECK("edge a->a", e && e->value[MS_CT_PEAK] == 50);
    e = find_edge(t, A, L);
    CHECK("edge a->leaf once per stack", e && e->value[MS_CT_PEAK] == 150);
    CHECK_EQ_U64("edge count", 4, ms_calltree_edge_count(t));

    size_t n;
    uint32_t *ids = ms_calltree_sorted_funcs(t, MS_CT_PEAK, 0, &n);
    CHECK_EQ_U64("sorted flat n (a has cum only)", 4, n);
    CHECK("sorted flat order", ids && ids[0] == L && ids[1] == B && ids[2] == M && ids[3] == A);
    free(ids);
    ids = ms_calltree_sorted_funcs(t, MS_CT_PEAK, 1, &n);
    CHECK("sorted cum order", ids && n == 4 && ids[0] == M && ids[1] == L && ids[2] == A && ids[3] == B);
    free(ids);
    ids = ms_calltree_sorted_funcs(t, MS_CT_LEAKED, 0, &n);
    CHECK("sorted empty metric", ids == NULL && n == 0);

    ms_calltree_sort_children(t);
    folded[0] = 0;
    CHECK("folded walk", ms_calltree_folded(t, MS_CT_PEAK, collect, NULL) == 0);
    CHECK_STR("folded lines", "main 20\nmain;a;a;leaf 50\nmain;a;leaf 100\nmain;b 30\n", folded);
    folded[0] = 0;
    ms_calltree_folded(t, MS_CT_COUNT, collect, NULL);
    CHECK_STR("folded count metric", "main 4\nmain;a;a;leaf 2\nmain;a;leaf 6\nmain;b 3\n", folded);

    ms_calltree *inv;
    CHECK("invert", ms_calltree_invert(&inv, t) == 0);
    ms_calltree_sort_children(inv);
    folded[0] = 0;
    ms_calltree_folded(inv, MS_CT_PEAK, collect, NULL);
    CHECK_STR("inverted folded", "b;main 30\nleaf;a;a;main 50\nleaf;a;main 100\nmain 20\n", folded);
    CHECK_EQ_U64("inverted total", 200, ms_calltree_total(inv, MS_CT_PEAK));
    CHECK_EQ_U64("inverted main flat", 200, ms_calltree_func(inv, M)->flat[MS_CT_PEAK]);
    CHECK_EQ_U64("inverted a cum", 150, ms_calltree_func(inv, A)->cum[MS_CT_PEAK]);
    CHECK_STR("inverted same ids", "leaf", ms_calltree_func(inv, L)->name);
    ms_calltree_free(inv);

    CHECK("bad func id", ms_calltree_add(t, (uint32_t[]){ 99 }, 1, (uint64_t[MS_CT_NMETRICS]){ 0 }) == MS_EINVAL);
    CHECK_EQ_U64("metric parse", MS_CT_TEMPORARY, ms_ct_metric_parse("temporary"));
    CHECK("metric parse bad", ms_ct_metric_parse("nope") == -1);
    ms_calltree_free(t);

    /* lines mode: same function, different lines = different entries */
    CHECK("calltree lines", ms_calltree_new(&t, 1) == 0);
    uint32_t x1, x2;
    ms_calltree_func_id(t, &x1, "f", "f.c", 1);
    ms_calltree_func_id(t, &x2, "f", "f.c", 2);
    CHECK("lines mode distinct", x1 != x2);
    /* many stacks: forces hash growth */
    uint32_t fr[3];
    for (int i = 0; i < 3000; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "fn%d", i % 500);
        ms_calltree_func_id(t, &fr[0], "root", "", 0);
        ms_calltree_func_id(t, &fr[1], nm, "", 0);
        snprintf(nm, sizeof nm, "leaf%d", i);
        ms_calltree_func_id(t, &fr[2], nm, "", 0);
        add(t, fr, 3, 1, 1);
    }
    CHECK_EQ_U64("many stacks", 3000, ms_calltree_stack_count(t));
    CHECK_EQ_U64("many funcs", 3503, ms_calltree_func_count(t));
    CHECK_EQ_U64("many nodes", 1 + 1 + 500 + 3000, ms_calltree_node_count(t));
    ms_calltree_free(t);

    /* function mode: paths that differ only in lines end at one node,
     * whose own values are their sum (kept apart from the node) */
    CHECK("calltree functions", ms_calltree_new(&t, 0) == 0);
    M = fid(t, "main"); A = fid(t, "a"); L = fid(t, "leaf");
    uint64_t v7[MS_CT_NMETRICS] = { 7, 0, 14, 1, 0 }, v5[MS_CT_NMETRICS] = { 5, 0, 10, 1, 0 };
    CHECK("add line 10", ms_calltree_add_lines(t, (uint32_t[]){ M, A, L }, (uint32_t[]){ 1, 10, 4 }, 3, v7) == 0);
    CHECK("add line 20", ms_calltree_add_lines(t, (uint32_t[]){ M, A, L }, (uint32_t[]){ 1, 20, 4 }, 3, v5) == 0);
    CHECK("add at a", ms_calltree_add_lines(t, (uint32_t[]){ M, A }, (uint32_t[]){ 1, 30 }, 2, v5) == 0);
    CHECK_EQ_U64("one node a path", 4, ms_calltree_node_count(t));
    uint32_t leaf_node = MS_CT_NONE, a_node = MS_CT_NONE;
    for (uint32_t i = 1; i < ms_calltree_node_count(t); i++) {
        if (ms_calltree_node(t, i)->func == L) leaf_node = i;
        if (ms_calltree_node(t, i)->func == A) a_node = i;
    }
    CHECK_EQ_U64("leaf self: both lines", 12, ms_calltree_node_self(t, leaf_node, MS_CT_PEAK));
    CHECK_EQ_U64("leaf self count", 2, ms_calltree_node_self(t, leaf_node, MS_CT_COUNT));
    CHECK_EQ_U64("a self", 5, ms_calltree_node_self(t, a_node, MS_CT_PEAK));
    CHECK_EQ_U64("a total", 17, ms_calltree_node_total(t, a_node, MS_CT_PEAK));
    CHECK_EQ_U64("root total", 17, ms_calltree_node_total(t, MS_CT_ROOT, MS_CT_PEAK));
    CHECK_EQ_U64("leaf total count", 2, ms_calltree_node_total(t, leaf_node, MS_CT_COUNT));
    CHECK_EQ_U64("main self: none", 0, ms_calltree_node_self(t, ms_calltree_node(t, a_node)->parent, MS_CT_PEAK));
    CHECK_EQ_U64("stacks: two nodes", 2, ms_calltree_stack_count(t));
    CHECK_EQ_U64("leaf flat", 12, ms_calltree_func(t, L)->flat[MS_CT_PEAK]);
    CHECK_EQ_U64("a line of most peak", 10, ms_calltree_func_line(t, A, MS_CT_PEAK));
    folded[0] = 0;
    CHECK("folded walk (functions)", ms_calltree_folded(t, MS_CT_PEAK, collect, NULL) == 0);
    CHECK_STR("folded: one row a node", "main;a 5\nmain;a;leaf 12\n", folded);
    ms_calltree_free(t);
    return ms_test_failures != 0;
}
