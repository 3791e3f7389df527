/* Call graph in Graphviz DOT, like pprof's -svg / seed 002: one node per
 * function labeled "function\nflat (x%)\nof cum (y%)", font size growing
 * with flat, caller -> callee edges labeled with the value and drawn wider
 * for heavier edges, pprof's red/grey colors, and a legend box with the
 * metric and "Total MB: N". Small nodes and edges are dropped and the
 * legend says how many. ms_dot_svg runs Graphviz `dot -Tsvg`. */
#ifndef MS_DOT_H
#define MS_DOT_H
#include <stdio.h>
#include <stddef.h>
#include "calltree.h"

typedef struct ms_dot_opts {
    int metric;               /* MS_CT_*                                    */
    int lang_en;              /* 0 = Chinese legend (default)               */
    const char *title;        /* first legend line (e.g. the program); NULL */
    const char *note;         /* next legend line (e.g. "estimated, sampled
                                 1 in R bytes"); NULL */
    size_t max_nodes;         /* 0 = 80                                     */
    double node_frac;         /* drop nodes with cum < this x total; 0 = 0.005 */
    double edge_frac;         /* drop edges < this x total; 0 = 0.001      */
} ms_dot_opts;

typedef struct ms_dot_stats {
    size_t nodes, nodes_dropped;
    size_t edges, edges_dropped;
} ms_dot_stats;

/* Write the DOT text. st may be NULL. Returns 0 or -1 (write error or
 * out of memory). */
int ms_dot_write(FILE *fp, const ms_calltree *t, const ms_dot_opts *o, ms_dot_stats *st);

/* Full path of Graphviz `dot` found in $PATH, or NULL. Static storage. */
const char *ms_dot_find(void);

/* Run `dot -Tsvg` on the DOT text (len bytes), writing the SVG to out.
 * Returns 0, or -1 with a one-line reason in err. */
int ms_dot_svg(const char *dot, size_t len, FILE *out, char *err, size_t errlen);
#endif
