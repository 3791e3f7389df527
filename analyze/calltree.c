/* Weighted call tree (calltree.h): interned functions, a prefix tree of
 * root-first stacks with per-node totals, per-function flat/cum and
 * caller->callee edges, each counted once per stack. All views that show
 * "who allocated what" (pprof text, DOT, flame graphs, folded stacks, the
 * dashboard) read this one model so their numbers agree. Lookups use
 * open-addressing hash tables of 32-bit indices; adding a stack costs
 * O(depth). */
#include <stdlib.h>
#include <string.h>
#include "memscope.h"
#include "calltree.h"

typedef struct u64map {          /* key -> uint32 value, open addressing  */
    uint64_t *keys;
    uint32_t *vals;              /* MS_CT_NONE = empty slot               */
    size_t cap, n;
} u64map;

typedef struct func_ent {
    ms_ct_func f;
    uint64_t hash;
    char *key;                   /* name \0 file \0 (line) for comparison */
    size_t keylen;
    uint32_t first_line;         /* its line_ent list, MS_CT_NONE = none   */
} func_ent;

typedef struct line_ent {        /* one (function, line) in function mode */
    uint32_t func, line, next;
    uint64_t stamp;              /* last add that counted it              */
    uint64_t cum[MS_CT_NMETRICS];
} line_ent;

struct ms_calltree {
    int lines;
    func_ent *funcs;
    size_t nfuncs, capfuncs;
    uint32_t *fhash;             /* func hash table: slot -> id           */
    size_t fcap;
    ms_ct_node *nodes;
    size_t nnodes, capnodes;
    u64map children;             /* (parent << 32 | func) -> node         */
    ms_ct_edge *edges;
    size_t nedges, capedges;
    u64map edgemap;              /* (caller << 32 | callee) -> edge       */
    uint64_t *fstamp;            /* per func: last add that counted it    */
    uint64_t *estamp;            /* per edge                              */
    uint64_t stamp;
    line_ent *lines_v;
    size_t nlines, caplines;
    u64map linemap;              /* (func << 32 | line) -> line_ent       */
    size_t nstacks;
    uint64_t total[MS_CT_NMETRICS];
};

static const char *const metric_names[MS_CT_NMETRICS] = {
    "peak", "leaked", "allocated", "count", "temporary"
};

const char *ms_ct_metric_name(int m)
{
    return m >= 0 && m < MS_CT_NMETRICS ? metric_names[m] : NULL;
}

int ms_ct_metric_parse(const char *name)
{
    for (int i = 0; name && i < MS_CT_NMETRICS; i++)
        if (strcmp(name, metric_names[i]) == 0) return i;
    return -1;
}

int ms_ct_metric_is_bytes(int m)
{
    return m == MS_CT_PEAK || m == MS_CT_LEAKED || m == MS_CT_ALLOCATED;
}

/* ---- hashing ------------------------------------------------------------ */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 1099511628211ULL; }
    return mix64(h);
}

static int map_grow(u64map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    uint64_t *nk = malloc(ncap * sizeof *nk);
    uint32_t *nv = malloc(ncap * sizeof *nv);
    if (!nk || !nv) { free(nk); free(nv); return MS_ENOMEM; }
    for (size_t i = 0; i < ncap; i++) nv[i] = MS_CT_NONE;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->vals[i] == MS_CT_NONE) continue;
        size_t s = mix64(m->keys[i]) & (ncap - 1);
        while (nv[s] != MS_CT_NONE) s = (s + 1) & (ncap - 1);
        nk[s] = m->keys[i]; nv[s] = m->vals[i];
    }
    free(m->keys); free(m->vals);
    m->keys = nk; m->vals = nv; m->cap = ncap;
    return 0;
}

/* Slot of key: either holding it or the empty slot where it goes. */
static size_t map_slot(const u64map *m, uint64_t key)
{
    size_t s = mix64(key) & (m->cap - 1);
    while (m->vals[s] != MS_CT_NONE && m->keys[s] != key) s = (s + 1) & (m->cap - 1);
    return s;
}

static void map_free(u64map *m) { free(m->keys); free(m->vals); }

/* ---- construction -------------------------------------------------------- */
static int new_node(ms_calltree *t, uint32_t func, uint32_t parent, uint32_t *id)
{
    if (t->nnodes == t->capnodes) {
        size_t nc = t->capnodes ? t->capnodes * 2 : 256;
        ms_ct_node *nn = realloc(t->nodes, nc * sizeof *nn);
        if (!nn) return MS_ENOMEM;
        t->nodes = nn; t->capnodes = nc;
    }
    uint32_t i = (uint32_t)t->nnodes++;
    ms_ct_node *n = &t->nodes[i];
    memset(n, 0, sizeof *n);
    n->func = func; n->parent = parent;
    n->first_child = n->next_sibling = MS_CT_NONE;
    if (parent != MS_CT_NONE) {
        ms_ct_node *p = &t->nodes[parent];
        n->depth = p->depth + 1;
        n->next_sibling = p->first_child;
        p->first_child = i;
    }
    *id = i;
    return 0;
}

int ms_calltree_new(ms_calltree **out, int lines)
{
    *out = NULL;
    ms_calltree *t = calloc(1, sizeof *t);
    if (!t) return MS_ENOMEM;
    t->lines = lines;
    uint32_t root;
    if (new_node(t, MS_CT_NONE, MS_CT_NONE, &root) || map_grow(&t->children) || map_grow(&t->edgemap)) {
        ms_calltree_free(t);
        return MS_ENOMEM;
    }
    *out = t;
    return 0;
}

void ms_calltree_free(ms_calltree *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nfuncs; i++) free(t->funcs[i].key);
    free(t->funcs); free(t->fhash); free(t->nodes); free(t->edges);
    free(t->fstamp); free(t->estamp); free(t->lines_v);
    map_free(&t->children); map_free(&t->edgemap); map_free(&t->linemap);
    free(t);
}

static int fhash_grow(ms_calltree *t)
{
    size_t ncap = t->fcap ? t->fcap * 2 : 64;
    uint32_t *nh = malloc(ncap * sizeof *nh);
    if (!nh) return MS_ENOMEM;
    for (size_t i = 0; i < ncap; i++) nh[i] = MS_CT_NONE;
    for (size_t i = 0; i < t->nfuncs; i++) {
        size_t s = t->funcs[i].hash & (ncap - 1);
        while (nh[s] != MS_CT_NONE) s = (s + 1) & (ncap - 1);
        nh[s] = (uint32_t)i;
    }
    free(t->fhash);
    t->fhash = nh; t->fcap = ncap;
    return 0;
}

int ms_calltree_func_id(ms_calltree *t, uint32_t *id, const char *name, const char *file, uint32_t line)
{
    if (!name || !*name) name = "??";
    if (!file) file = "";
    size_t ln = strlen(name), lf = strlen(file);
    size_t keylen = ln + 1 + lf + 1 + (t->lines ? sizeof line : 0);
    char *key = malloc(keylen);
    if (!key) return MS_ENOMEM;
    memcpy(key, name, ln + 1);
    memcpy(key + ln + 1, file, lf + 1);
    if (t->lines) memcpy(key + ln + lf + 2, &line, sizeof line);
    uint64_t h = hash_bytes(key, keylen);
    if ((t->nfuncs + 1) * 2 > t->fcap && fhash_grow(t)) { free(key); return MS_ENOMEM; }
    size_t s = h & (t->fcap - 1);
    for (; t->fhash[s] != MS_CT_NONE; s = (s + 1) & (t->fcap - 1)) {
        func_ent *e = &t->funcs[t->fhash[s]];
        if (e->hash == h && e->keylen == keylen && memcmp(e->key, key, keylen) == 0) {
            free(key);
            if (line && (!e->f.line || line < e->f.line)) e->f.line = line;
            *id = t->fhash[s];
            return 0;
        }
    }
    if (t->nfuncs == t->capfuncs) {
        size_t nc = t->capfuncs ? t->capfuncs * 2 : 64;
        func_ent *nf = realloc(t->funcs, nc * sizeof *nf);
        uint64_t *ns = realloc(t->fstamp, nc * sizeof *ns);
        if (ns) t->fstamp = ns;
        if (nf) t->funcs = nf;
        if (!nf || !ns) { free(key); return MS_ENOMEM; }
        t->capfuncs = nc;
    }
    uint32_t i = (uint32_t)t->nfuncs++;
    func_ent *e = &t->funcs[i];
    memset(e, 0, sizeof *e);
    e->key = key; e->keylen = keylen; e->hash = h;
    e->f.name = key; e->f.file = key + ln + 1; e->f.line = line;
    e->first_line = MS_CT_NONE;
    t->fstamp[i] = 0;
    t->fhash[s] = i;
    *id = i;
    return 0;
}

static int edge_add(ms_calltree *t, uint32_t caller, uint32_t callee, const uint64_t *v)
{
    if ((t->edgemap.n + 1) * 2 > t->edgemap.cap && map_grow(&t->edgemap)) return MS_ENOMEM;
    uint64_t key = (uint64_t)caller << 32 | callee;
    size_t s = map_slot(&t->edgemap, key);
    uint32_t e = t->edgemap.vals[s];
    if (e == MS_CT_NONE) {
        if (t->nedges == t->capedges) {
            size_t nc = t->capedges ? t->capedges * 2 : 64;
            ms_ct_edge *ne = realloc(t->edges, nc * sizeof *ne);
            uint64_t *ns = realloc(t->estamp, nc * sizeof *ns);
            if (ne) t->edges = ne;
            if (ns) t->estamp = ns;
            if (!ne || !ns) return MS_ENOMEM;
            t->capedges = nc;
        }
        e = (uint32_t)t->nedges++;
        memset(&t->edges[e], 0, sizeof t->edges[e]);
        t->edges[e].caller = caller; t->edges[e].callee = callee;
        t->estamp[e] = 0;
        t->edgemap.keys[s] = key; t->edgemap.vals[s] = e; t->edgemap.n++;
    }
    if (t->estamp[e] != t->stamp) {
        t->estamp[e] = t->stamp;
        for (int m = 0; m < MS_CT_NMETRICS; m++) t->edges[e].value[m] += v[m];
    }
    return 0;
}

/* The (func, line) entry, created when missing; NULL on ENOMEM. */
static line_ent *line_entry(ms_calltree *t, uint32_t func, uint32_t line)
{
    if ((t->linemap.n + 1) * 2 > t->linemap.cap && map_grow(&t->linemap)) return NULL;
    uint64_t key = (uint64_t)func << 32 | line;
    size_t s = map_slot(&t->linemap, key);
    if (t->linemap.vals[s] != MS_CT_NONE) return &t->lines_v[t->linemap.vals[s]];
    if (t->nlines == t->caplines) {
        size_t nc = t->caplines ? t->caplines * 2 : 64;
        line_ent *nl = realloc(t->lines_v, nc * sizeof *nl);
        if (!nl) return NULL;
        t->lines_v = nl; t->caplines = nc;
    }
    uint32_t i = (uint32_t)t->nlines++;
    line_ent *l = &t->lines_v[i];
    memset(l, 0, sizeof *l);
    l->func = func; l->line = line;
    l->next = t->funcs[func].first_line;
    t->funcs[func].first_line = i;
    t->linemap.keys[s] = key; t->linemap.vals[s] = i; t->linemap.n++;
    return l;
}

uint32_t ms_calltree_func_line(const ms_calltree *t, uint32_t id, int metric)
{
    if (id >= t->nfuncs) return 0;
    const func_ent *f = &t->funcs[id];
    if (metric < 0 || metric >= MS_CT_NMETRICS) return f->f.line;
    const line_ent *best = NULL;
    for (uint32_t i = f->first_line; i != MS_CT_NONE; i = t->lines_v[i].next) {
        const line_ent *l = &t->lines_v[i];
        if (!l->cum[metric]) continue;
        if (!best || l->cum[metric] > best->cum[metric] || (l->cum[metric] == best->cum[metric] && l->line < best->line))
            best = l;
    }
    return best ? best->line : f->f.line;
}

int ms_calltree_add(ms_calltree *t, const uint32_t *frames, size_t n, const uint64_t *values)
{
    return ms_calltree_add_lines(t, frames, NULL, n, values);
}

int ms_calltree_add_lines(ms_calltree *t, const uint32_t *frames, const uint32_t *lines, size_t n,
                          const uint64_t *values)
{
    for (size_t i = 0; i < n; i++)
        if (frames[i] >= t->nfuncs) return MS_EINVAL;
    t->stamp++;
    uint32_t cur = MS_CT_ROOT;
    for (size_t i = 0; i < n; i++) {
        if ((t->children.n + 1) * 2 > t->children.cap && map_grow(&t->children)) return MS_ENOMEM;
        uint64_t key = (uint64_t)cur << 32 | frames[i];
        size_t s = map_slot(&t->children, key);
        uint32_t next = t->children.vals[s];
        if (next == MS_CT_NONE) {
            int rc = new_node(t, frames[i], cur, &next);
            if (rc) return rc;
            t->children.keys[s] = key; t->children.vals[s] = next; t->children.n++;
        }
        if (i > 0) {
            int rc = edge_add(t, frames[i - 1], frames[i], values);
            if (rc) return rc;
        }
        cur = next;
    }
    /* Every node on the path (root included) gets the values in total. */
    for (uint32_t k = cur; k != MS_CT_NONE; k = t->nodes[k].parent)
        for (int m = 0; m < MS_CT_NMETRICS; m++) t->nodes[k].total[m] += values[m];
    ms_ct_node *leaf = &t->nodes[cur];
    for (int m = 0; m < MS_CT_NMETRICS; m++) {
        leaf->self[m] += values[m];
        t->total[m] += values[m];
    }
    if (!leaf->is_stack && cur != MS_CT_ROOT) { leaf->is_stack = 1; t->nstacks++; }
    if (n > 0) {
        ms_ct_func *lf = &t->funcs[frames[n - 1]].f;
        for (int m = 0; m < MS_CT_NMETRICS; m++) lf->flat[m] += values[m];
    }
    for (size_t i = 0; i < n; i++) {
        if (t->fstamp[frames[i]] == t->stamp) continue;   /* recursion: once */
        t->fstamp[frames[i]] = t->stamp;
        ms_ct_func *f = &t->funcs[frames[i]].f;
        for (int m = 0; m < MS_CT_NMETRICS; m++) f->cum[m] += values[m];
    }
    for (size_t i = 0; lines && !t->lines && i < n; i++) {
        if (!lines[i]) continue;
        line_ent *l = line_entry(t, frames[i], lines[i]);
        if (!l) return MS_ENOMEM;
        if (l->stamp == t->stamp) continue;
        l->stamp = t->stamp;
        for (int m = 0; m < MS_CT_NMETRICS; m++) l->cum[m] += values[m];
    }
    return 0;
}

/* ---- queries ------------------------------------------------------------- */
uint64_t ms_calltree_total(const ms_calltree *t, int m)
{
    return m >= 0 && m < MS_CT_NMETRICS ? t->total[m] : 0;
}
size_t ms_calltree_stack_count(const ms_calltree *t) { return t->nstacks; }
size_t ms_calltree_func_count(const ms_calltree *t) { return t->nfuncs; }
const ms_ct_func *ms_calltree_func(const ms_calltree *t, uint32_t id)
{
    return id < t->nfuncs ? &t->funcs[id].f : NULL;
}
size_t ms_calltree_node_count(const ms_calltree *t) { return t->nnodes; }
const ms_ct_node *ms_calltree_node(const ms_calltree *t, uint32_t id)
{
    return id < t->nnodes ? &t->nodes[id] : NULL;
}
size_t ms_calltree_edge_count(const ms_calltree *t) { return t->nedges; }
const ms_ct_edge *ms_calltree_edge(const ms_calltree *t, size_t i)
{
    return i < t->nedges ? &t->edges[i] : NULL;
}

static int func_cmp_name(const ms_ct_func *a, const ms_ct_func *b)
{
    int c = strcmp(a->name, b->name);
    if (c) return c;
    c = strcmp(a->file, b->file);
    if (c) return c;
    return (a->line > b->line) - (a->line < b->line);
}

static const ms_calltree *sort_tree;   /* qsort has no context argument */

static int child_cmp(const void *pa, const void *pb)
{
    const ms_ct_node *a = &sort_tree->nodes[*(const uint32_t *)pa];
    const ms_ct_node *b = &sort_tree->nodes[*(const uint32_t *)pb];
    return func_cmp_name(&sort_tree->funcs[a->func].f, &sort_tree->funcs[b->func].f);
}

void ms_calltree_sort_children(ms_calltree *t)
{
    uint32_t *buf = NULL;
    size_t cap = 0;
    sort_tree = t;
    for (size_t i = 0; i < t->nnodes; i++) {
        size_t k = 0;
        for (uint32_t c = t->nodes[i].first_child; c != MS_CT_NONE; c = t->nodes[c].next_sibling) {
            if (k == cap) {
                size_t nc = cap ? cap * 2 : 64;
                uint32_t *nb = realloc(buf, nc * sizeof *nb);
                if (!nb) { free(buf); return; }   /* order stays as it was */
                buf = nb; cap = nc;
            }
            buf[k++] = c;
        }
        if (k < 2) continue;
        qsort(buf, k, sizeof *buf, child_cmp);
        t->nodes[i].first_child = buf[0];
        for (size_t j = 0; j + 1 < k; j++) t->nodes[buf[j]].next_sibling = buf[j + 1];
        t->nodes[buf[k - 1]].next_sibling = MS_CT_NONE;
    }
    free(buf);
}

static int sort_metric, sort_by_cum;

static int func_rank_cmp(const void *pa, const void *pb)
{
    const ms_ct_func *a = &sort_tree->funcs[*(const uint32_t *)pa].f;
    const ms_ct_func *b = &sort_tree->funcs[*(const uint32_t *)pb].f;
    uint64_t a1 = sort_by_cum ? a->cum[sort_metric] : a->flat[sort_metric];
    uint64_t b1 = sort_by_cum ? b->cum[sort_metric] : b->flat[sort_metric];
    if (a1 != b1) return a1 > b1 ? -1 : 1;
    uint64_t a2 = sort_by_cum ? a->flat[sort_metric] : a->cum[sort_metric];
    uint64_t b2 = sort_by_cum ? b->flat[sort_metric] : b->cum[sort_metric];
    if (a2 != b2) return a2 > b2 ? -1 : 1;
    return func_cmp_name(a, b);
}

uint32_t *ms_calltree_sorted_funcs(const ms_calltree *t, int metric, int by_cum, size_t *n)
{
    *n = 0;
    if (metric < 0 || metric >= MS_CT_NMETRICS || t->nfuncs == 0) return NULL;
    uint32_t *ids = malloc(t->nfuncs * sizeof *ids);
    if (!ids) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < t->nfuncs; i++)
        if (t->funcs[i].f.flat[metric] || t->funcs[i].f.cum[metric]) ids[k++] = (uint32_t)i;
    if (k == 0) { free(ids); return NULL; }
    sort_tree = t; sort_metric = metric; sort_by_cum = by_cum;
    qsort(ids, k, sizeof *ids, func_rank_cmp);
    *n = k;
    return ids;
}

int ms_calltree_folded(const ms_calltree *t, int metric, ms_ct_folded_fn fn, void *ctx)
{
    if (metric < 0 || metric >= MS_CT_NMETRICS) return MS_EINVAL;
    size_t maxd = 1;
    for (size_t i = 0; i < t->nnodes; i++)
        if (t->nodes[i].depth + 1 > maxd) maxd = t->nodes[i].depth + 1;
    const char **names = malloc(maxd * sizeof *names);
    if (!names) return MS_ENOMEM;
    int rc = 0;
    /* Iterative pre-order walk: descend to first child, else next sibling,
     * else climb until a sibling exists. */
    uint32_t cur = t->nodes[MS_CT_ROOT].first_child;
    while (cur != MS_CT_NONE && rc == 0) {
        const ms_ct_node *nd = &t->nodes[cur];
        names[nd->depth - 1] = t->funcs[nd->func].f.name;
        if (nd->self[metric]) rc = fn(ctx, names, nd->depth, nd->self[metric]);
        if (nd->first_child != MS_CT_NONE) { cur = nd->first_child; continue; }
        while (cur != MS_CT_ROOT && t->nodes[cur].next_sibling == MS_CT_NONE) cur = t->nodes[cur].parent;
        cur = cur == MS_CT_ROOT ? MS_CT_NONE : t->nodes[cur].next_sibling;
    }
    free(names);
    return rc;
}

int ms_calltree_invert(ms_calltree **out, const ms_calltree *t)
{
    *out = NULL;
    ms_calltree *r;
    int rc = ms_calltree_new(&r, t->lines);
    if (rc) return rc;
    uint32_t id;
    for (size_t i = 0; i < t->nfuncs && rc == 0; i++) {
        const ms_ct_func *f = &t->funcs[i].f;
        rc = ms_calltree_func_id(r, &id, f->name, f->file, f->line);
        if (rc == 0) r->funcs[id].f.line = f->line;
    }
    size_t maxd = 1;
    for (size_t i = 0; i < t->nnodes; i++)
        if (t->nodes[i].depth + 1 > maxd) maxd = t->nodes[i].depth + 1;
    uint32_t *path = rc ? NULL : malloc(maxd * sizeof *path);
    if (!path && rc == 0) rc = MS_ENOMEM;
    for (size_t i = 0; i < t->nnodes && rc == 0; i++) {
        const ms_ct_node *nd = &t->nodes[i];
        if (!nd->is_stack && i != MS_CT_ROOT) continue;
        size_t k = 0;   /* leaf first = this node, then its parents */
        for (uint32_t c = (uint32_t)i; c != MS_CT_ROOT; c = t->nodes[c].parent) path[k++] = t->nodes[c].func;
        rc = ms_calltree_add(r, path, k, nd->self);
    }
    free(path);
    for (size_t i = 0; i < t->nlines && rc == 0; i++) {   /* same ids, same stacks */
        const line_ent *l = &t->lines_v[i];
        line_ent *c = line_entry(r, l->func, l->line);
        if (!c) rc = MS_ENOMEM;
        else memcpy(c->cum, l->cum, sizeof c->cum);
    }
    if (rc) { ms_calltree_free(r); return rc; }
    *out = r;
    return 0;
}
