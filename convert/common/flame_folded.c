/* Folded stacks writer (flame.h): the flamegraph.pl / speedscope / inferno
 * input format, root first, value after the last space. One line per
 * unique stack of the call tree, for any metric. */
#include "memscope.h"
#include "flame.h"

static void put_name(FILE *fp, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ';') fputc(':', fp);
        else if (c < 0x20 || c == 0x7f) fputc(' ', fp);
        else fputc(c, fp);
    }
}

/* A line shows at most FOLDED_MAX frames: the outermost and innermost
 * halves around one "[N frames]" frame, so a file of deep stacks (a
 * 20,000-deep recursion of 20,000 stacks) gives lines of bounded length
 * instead of output quadratic in the depth. */
#define FOLDED_MAX 1024

static int folded_line(void *ctx, const char *const *names, size_t depth, uint64_t value)
{
    FILE *fp = ctx;
    for (size_t i = 0; i < depth; i++) {
        if (i) fputc(';', fp);
        if (depth > FOLDED_MAX && i == FOLDED_MAX / 2) {
            fprintf(fp, "[%zu frames]", depth - FOLDED_MAX + 1);
            i = depth - FOLDED_MAX / 2;
            fputc(';', fp);
        }
        put_name(fp, names[i]);
    }
    fprintf(fp, " %llu\n", (unsigned long long)value);
    return ferror(fp) ? -1 : 0;
}

int ms_folded_write(FILE *fp, const ms_calltree *t, int metric)
{
    int rc = ms_calltree_folded(t, metric, folded_line, fp);
    return rc || ferror(fp) ? -1 : 0;
}
