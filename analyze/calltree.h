/* Weighted call tree: the model behind the pprof table, the DOT call graph,
 * the flame graph, the folded stacks and the dashboard's flame graph.
 *
 * Stacks are added root first as arrays of interned function ids, each with
 * a vector of MS_CT_NMETRICS values (peak, leaked, allocated, count,
 * temporary). Identical stacks merge into one tree path, so memory is
 * O(unique stacks x depth), never O(events).
 *
 * Per function:
 *   flat = values of stacks whose leaf frame is the function;
 *   cum  = values of every stack containing the function, counted once per
 *          stack even when the function appears several times (recursion).
 * Per caller -> callee edge: values of the stacks containing that adjacent
 * pair, once per stack.
 *
 * A function is (name, file), or (name, file, line) with lines = 1 at
 * creation (pprof's -lines granularity); in function mode ms_ct_func.line
 * is the smallest non-zero line seen and ms_calltree_func_line names the
 * line that contributes most to a metric. */
#ifndef MS_CALLTREE_H
#define MS_CALLTREE_H
#include <stddef.h>
#include <stdint.h>

enum ms_ct_metric {
    MS_CT_PEAK = 0,       /* bytes live at the global peak                 */
    MS_CT_LEAKED,         /* bytes live at the end                         */
    MS_CT_ALLOCATED,      /* bytes allocated in total                      */
    MS_CT_COUNT,          /* number of allocations                         */
    MS_CT_TEMPORARY,      /* number of temporary allocations               */
    MS_CT_NMETRICS
};

/* "peak", "leaked", "allocated", "count", "temporary"; NULL if out of range. */
const char *ms_ct_metric_name(int metric);
/* Metric from its name, or -1. */
int ms_ct_metric_parse(const char *name);
/* 1 if the metric counts bytes, 0 if it counts allocations. */
int ms_ct_metric_is_bytes(int metric);

typedef struct ms_calltree ms_calltree;

/* Node 0 is the root (no function); ids are dense, 0..node_count-1. */
#define MS_CT_ROOT 0u
#define MS_CT_NONE UINT32_MAX

typedef struct ms_ct_func {
    const char *name;     /* never NULL                                    */
    const char *file;     /* "" when unknown                               */
    uint32_t line;        /* 0 when unknown                                */
    uint64_t flat[MS_CT_NMETRICS];
    uint64_t cum[MS_CT_NMETRICS];
} ms_ct_func;

typedef struct ms_ct_node {
    uint32_t func;        /* MS_CT_NONE for the root                       */
    uint32_t parent;      /* MS_CT_NONE for the root                       */
    uint32_t first_child, next_sibling;   /* MS_CT_NONE when none          */
    uint32_t depth;       /* root 0                                        */
    uint32_t is_stack;    /* 1 if some added stack ends here               */
} ms_ct_node;             /* (24 bytes: values are kept apart, read with
                             ms_calltree_node_self and _node_total)        */

typedef struct ms_ct_edge {
    uint32_t caller, callee;              /* function ids                  */
    uint64_t value[MS_CT_NMETRICS];
} ms_ct_edge;

/* lines: 1 = a function is (name, file, line); 0 = (name, file). */
int ms_calltree_new(ms_calltree **out, int lines);
void ms_calltree_free(ms_calltree *t);

/* Intern a function; *id gets its id. name NULL or "" becomes "??",
 * file NULL becomes "". Returns 0 or MS_ENOMEM. */
int ms_calltree_func_id(ms_calltree *t, uint32_t *id, const char *name, const char *file, uint32_t line);

/* Paths: a handle for a root-first sequence of (function, line) frames;
 * MS_CT_ROOT_PATH is the empty one. Building stacks frame by frame from a
 * shared prefix costs O(1) per new frame, so stacks that extend each other
 * (deep recursion, a stack-node tree) are added in time linear in their
 * distinct frames. */
typedef uint32_t ms_ct_path;
#define MS_CT_ROOT_PATH 0u

/* The path of `path` followed by (func, line) (line 0 = unknown; ignored
 * in lines mode, where the function id holds the line). Returns 0, MS_EINVAL
 * (bad function id or path) or MS_ENOMEM. */
int ms_calltree_path_child(ms_calltree *t, ms_ct_path *out, ms_ct_path path, uint32_t func, uint32_t line);
/* Room for about n more paths (and tree nodes) before the arrays grow
 * again: a caller that knows how many frames it will add saves the copies
 * of growing one by one. Never needed for correctness. 0 or MS_ENOMEM. */
int ms_calltree_reserve(ms_calltree *t, size_t n);
/* Add values for one stack ending at path (MS_CT_ROOT_PATH: the totals
 * only). Returns 0 or MS_EINVAL. */
int ms_calltree_path_add(ms_calltree *t, ms_ct_path path, const uint64_t *values);
/* Tree node where path ends (function mode merges paths that differ only
 * in lines); MS_CT_NONE for a bad path. */
uint32_t ms_calltree_path_node(const ms_calltree *t, ms_ct_path path);

/* Derive totals, flat, cum, edges and line sums now (they are otherwise
 * derived on the first read after an add). Returns 0 or MS_ENOMEM. */
int ms_calltree_finish(ms_calltree *t);

/* Add one stack: frames[0] is the outermost (root-most) function,
 * frames[n-1] the leaf; values has MS_CT_NMETRICS entries. n == 0 adds the
 * values to the root only (they count in the totals). Returns 0, MS_EINVAL
 * (bad function id) or MS_ENOMEM. */
int ms_calltree_add(ms_calltree *t, const uint32_t *frames, size_t n, const uint64_t *values);

/* ms_calltree_add with the source line of every frame (lines[i] for
 * frames[i], 0 = unknown; lines NULL = all unknown). In function mode each
 * (function, line) pair sums the values of the stacks holding it, once per
 * stack, for ms_calltree_func_line. */
int ms_calltree_add_lines(ms_calltree *t, const uint32_t *frames, const uint32_t *lines, size_t n,
                          const uint64_t *values);

/* Line to show for function id under metric: in function mode the line
 * whose stacks hold the most of the metric (ties: the smaller line), as
 * given to ms_calltree_add_lines; otherwise, or when no line has a value,
 * ms_ct_func.line. */
uint32_t ms_calltree_func_line(const ms_calltree *t, uint32_t id, int metric);

/* The line all of function id's metric comes from: in function mode the
 * one line whose stacks hold a non-zero value (0 when there are several,
 * or one of them is unknown, or none has a value: a row then names no
 * line); in lines mode, or for a function added without lines
 * (ms_calltree_add), ms_ct_func.line. */
uint32_t ms_calltree_func_sole_line(const ms_calltree *t, uint32_t id, int metric);

/* Sum of every added stack's values. */
uint64_t ms_calltree_total(const ms_calltree *t, int metric);
size_t ms_calltree_stack_count(const ms_calltree *t);   /* unique stacks     */

size_t ms_calltree_func_count(const ms_calltree *t);
const ms_ct_func *ms_calltree_func(const ms_calltree *t, uint32_t id);
size_t ms_calltree_node_count(const ms_calltree *t);
const ms_ct_node *ms_calltree_node(const ms_calltree *t, uint32_t id);
/* Metric m of the stacks that end at node id (0 when none ends there). */
uint64_t ms_calltree_node_self(const ms_calltree *t, uint32_t id, int m);
/* Metric m of the stacks through node id (it and below). The first call
 * after an add makes every node's totals (40 bytes a node, only for the
 * views that draw the tree). */
uint64_t ms_calltree_node_total(const ms_calltree *t, uint32_t id, int m);

/* Order every node's children by function name (then file, line), for
 * deterministic drawing and folded output. Idempotent. */
void ms_calltree_sort_children(ms_calltree *t);

/* Function ids sorted by flat (by_cum = 0) or cum (by_cum = 1) of metric,
 * descending; ties by the other value, then name. Functions whose flat and
 * cum are both 0 for the metric are left out. Returns a malloc'd array
 * (*n entries; free() it) or NULL (*n = 0) when empty or out of memory. */
uint32_t *ms_calltree_sorted_funcs(const ms_calltree *t, int metric, int by_cum, size_t *n);

/* Edges, unsorted; valid until the next add. */
size_t ms_calltree_edge_count(const ms_calltree *t);
const ms_ct_edge *ms_calltree_edge(const ms_calltree *t, size_t i);

/* Folded stacks: calls fn once per node with a non-zero self value for
 * metric, in depth-first order (children in their current order), with
 * the frame names root first. names[] holds depth entries. A non-zero
 * return from fn stops the walk and is returned. */
typedef int (*ms_ct_folded_fn)(void *ctx, const char *const *names, size_t depth, uint64_t value);
int ms_calltree_folded(const ms_calltree *t, int metric, ms_ct_folded_fn fn, void *ctx);

/* Inverted tree: every stack added leaf first (callers under callees), same
 * functions and ids. Returns 0, MS_ENOMEM, or MS_ELIMIT when the stacks
 * hold more than MS_CT_INVERT_MAX_FRAMES frames in all (the inverted tree
 * of deep stacks sharing no suffix grows with the sum of their depths). */
#define MS_CT_INVERT_MAX_FRAMES (64u << 20)
int ms_calltree_invert(ms_calltree **out, const ms_calltree *t);
#endif
