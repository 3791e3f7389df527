/* msconv's heap-trace views built on the call tree (convert/msconv/
 * heap_views*.c). Each is a mode entry for main.c's table:
 *   --text [--metric M] [--nodecount N]   pprof-style table + summary
 *   --leaks                               leaking sites with full stacks
 *   --svg OUT [--metric M]                Graphviz call graph (.dot if no dot)
 *   --flamegraph OUT [--metric M] [--inverted] [--minwidth PCT]   SVG
 *   --folded OUT [--metric M] [--inverted]       flamegraph.pl input
 *   --html OUT                            offline dashboard
 * M is peak (default), leaked, allocated, count or temporary. The output is
 * a->output (-o OUT, or the OUT after the mode flag; "-" / NULL = stdout).
 * --metric, --nodecount and --inverted are read from a->argv. */
#ifndef MSCONV_HEAP_VIEWS_H
#define MSCONV_HEAP_VIEWS_H
#include "views.h"

int msconv_heap_text(const msconv_args *a);
int msconv_heap_leaks(const msconv_args *a);
int msconv_heap_svg(const msconv_args *a);
int msconv_heap_flamegraph(const msconv_args *a);
int msconv_heap_folded(const msconv_args *a);
int msconv_heap_html(const msconv_args *a);
#endif
