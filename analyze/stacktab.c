/* Interned stack table (stacktab.h): frames keyed by ip (all inlined
 * frames of an ip get consecutive indices when the ip is first met),
 * nodes built from the caller's node by ms_stack_memo_get, so each stack
 * node of the trace is expanded once. */
#include "stacktab.h"
#include "u64map.h"
#include <stdlib.h>
#include "memscope.h"

struct ms_stacktab {
    const ms_symtab *sym;
    ms_stack_memo *memo;
    ms_u64map ipfirst;                /* ip -> its first frame index        */
    ms_stacktab_frame *frames; size_t nframes, capframes;
    ms_stacktab_node *nodes; size_t nnodes, capnodes;
};

int ms_stacktab_new(ms_stacktab **out, const ms_symtab *sym)
{
    ms_stacktab *t = calloc(1, sizeof *t);
    if (!t || ms_stack_memo_new(&t->memo)) { free(t); *out = NULL; return MS_ENOMEM; }
    t->sym = sym;
    *out = t;
    return 0;
}

void ms_stacktab_free(ms_stacktab *t)
{
    if (!t) return;
    ms_stack_memo_free(t->memo);
    ms_u64map_free(&t->ipfirst);
    free(t->frames); free(t->nodes);
    free(t);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    if (c > UINT32_MAX - 1) return MS_ENOMEM;
    void *q = realloc(*p, c * size);
    if (!q) return MS_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int extend(void *ctx, uint32_t parent, uint64_t ip, uint32_t *out)
{
    ms_stacktab *t = ctx;
    uint32_t nf = (uint32_t)ms_symtab_frame_count(t->sym, ip), first;
    if (!ms_u64map_get(&t->ipfirst, ip, &first)) {
        if (grow((void **)&t->frames, &t->capframes, t->nframes + nf, sizeof *t->frames)) return MS_ENOMEM;
        first = (uint32_t)t->nframes;
        for (uint32_t k = 0; k < nf; k++) t->frames[t->nframes++] = (ms_stacktab_frame){ ip, k, nf };
        if (ms_u64map_put(&t->ipfirst, ip, first)) return MS_ENOMEM;
    }
    if (grow((void **)&t->nodes, &t->capnodes, t->nnodes + nf, sizeof *t->nodes)) return MS_ENOMEM;
    uint32_t node = parent;
    for (uint32_t k = nf; k-- > 0;) {              /* outermost inlined frame first */
        t->nodes[t->nnodes] = (ms_stacktab_node){ node, first + k };
        node = (uint32_t)t->nnodes++;
    }
    *out = node;
    return 0;
}

int ms_stacktab_node_of(ms_stacktab *t, uint64_t stack_id, uint32_t *node)
{
    return ms_stack_memo_get(t->memo, t->sym, stack_id, MS_STACKTAB_NONE, extend, t, node);
}

size_t ms_stacktab_node_count(const ms_stacktab *t) { return t->nnodes; }
const ms_stacktab_node *ms_stacktab_node_at(const ms_stacktab *t, size_t i)
{
    return i < t->nnodes ? &t->nodes[i] : NULL;
}
size_t ms_stacktab_frame_count(const ms_stacktab *t) { return t->nframes; }
const ms_stacktab_frame *ms_stacktab_frame_at(const ms_stacktab *t, size_t i)
{
    return i < t->nframes ? &t->frames[i] : NULL;
}
