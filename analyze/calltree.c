/* Weighted call tree (calltree.h): interned functions, a prefix tree of
 * root-first stacks with per-node values, per-function flat/cum and
 * caller->callee edges, each counted once per stack. All views that show
 * "who allocated what" (pprof text, DOT, flame graphs, folded stacks, the
 * dashboard) read this one model so their numbers agree.
 *
 * Stacks are paths in a trie of (function, line) frames (ms_ct_path); in
 * function mode a tree node merges the paths that differ only in lines.
 * Adding a stack only adds its values where its path ends; flat, cum,
 * edges and the per-line sums are derived in one depth-first pass the
 * first time they are read after an add (settle()), counting a function,
 * an edge or a (function, line) once per stack by keeping a count of how
 * often each is on the current path, and taking a subtree's values as the
 * running sum of the walk between its entry and its exit. So a stack that
 * extends another one costs O(its new frames), and a 20,000-deep chain of
 * 20,000 stacks costs O(20,000) instead of O(20,000^2). A node is 24 bytes
 * (values live in side arrays: a row per node where a stack ends, subtree
 * totals only once a view asks for them), since real traces have several
 * times more nodes than stacks (cc1: 167 k nodes, 26 k stacks). Lookups
 * use open-addressing hash tables of 32-bit indices. */
#include <stdlib.h>
#include <string.h>
#include "memscope.h"
#include "calltree.h"
#include "u64map.h"

typedef struct func_ent {
    ms_ct_func f;
    uint64_t hash;
    char *key;                   /* name \0 file \0 (line) for comparison */
    size_t keylen;
    uint32_t first_line;         /* its line_ent list, MS_CT_NONE = none   */
} func_ent;

typedef struct line_ent {        /* one (function, line) in function mode */
    uint32_t func, line, next;
    uint64_t cum[MS_CT_NMETRICS];
} line_ent;

typedef struct pnode {           /* one path: a frame under its parent    */
    uint32_t parent, func, line;
    uint32_t node;               /* its tree node                         */
    uint32_t lent;               /* its line_ent, MS_CT_NONE = none       */
    uint32_t first_child, next_sibling;
    uint32_t stack;              /* its values in stacks[], MS_CT_NONE when
                                    no added stack ends here (most paths:
                                    32 bytes a path instead of 72)        */
} pnode;

struct ms_calltree {
    int lines;
    func_ent *funcs;
    size_t nfuncs, capfuncs;
    uint32_t *fhash;             /* func hash table: slot -> id           */
    size_t fcap;
    ms_ct_node *nodes;
    size_t nnodes, capnodes;
    uint32_t *node_edge;         /* per node: edge from its parent        */
    uint32_t *node_self;         /* per node: its row of nself, MS_CT_NONE
                                    when no stack ends there (settle)     */
    uint64_t (*nself)[MS_CT_NMETRICS];     /* values of stacks ending at a node */
    size_t capnself;
    uint32_t maxdepth;           /* of any node (and so of any path)      */
    uint64_t (*ntotal)[MS_CT_NMETRICS];    /* per node: it and below, made when a
                                              view asks (ms_calltree_node_total) */
    size_t capntotal;
    int totals_ok;               /* ntotal is up to date                  */
    uint32_t *nhash;             /* node hash table: slot -> node + 1, keyed
                                    by (parent, func) read from the node
                                    (4 bytes a slot, not a 12-byte map)   */
    size_t ncap;
    ms_ct_edge *edges;
    size_t nedges, capedges;
    ms_u64map edgemap;           /* (caller << 32 | callee) -> edge       */
    line_ent *lines_v;
    size_t nlines, caplines;
    ms_u64map linemap;           /* (func << 32 | line) -> line_ent       */
    pnode *paths;
    size_t npaths, cappaths;
    uint64_t (*stacks)[MS_CT_NMETRICS];   /* self values of the stack paths */
    size_t nstacks, capstacks;
    uint32_t *phash;             /* path hash table: slot -> path + 1     */
    size_t pcap;
    int dirty;                   /* adds since the last settle()          */
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

/* ---- construction -------------------------------------------------------- */
static int edge_of(ms_calltree *t, uint32_t caller, uint32_t callee, uint32_t *out)
{
    uint64_t key = (uint64_t)caller << 32 | callee;
    size_t s = 0;
    uint32_t e;
    int f = ms_u64map_find(&t->edgemap, key, &e, &s);
    if (f < 0) return f;
    if (!f) {
        if (t->nedges == t->capedges) {
            size_t nc = t->capedges ? t->capedges * 2 : 64;
            ms_ct_edge *ne = realloc(t->edges, nc * sizeof *ne);
            if (!ne) return MS_ENOMEM;
            t->edges = ne; t->capedges = nc;
        }
        e = (uint32_t)t->nedges++;
        memset(&t->edges[e], 0, sizeof t->edges[e]);
        t->edges[e].caller = caller; t->edges[e].callee = callee;
        ms_u64map_fill(&t->edgemap, s, key, e);
    }
    *out = e;
    return 0;
}

static int new_node(ms_calltree *t, uint32_t func, uint32_t parent, uint32_t *id)
{
    if (t->nnodes >= MS_CT_NONE - 1) return MS_ENOMEM;
    if (t->nnodes == t->capnodes) {
        size_t nc = t->capnodes ? t->capnodes * 2 : 256;
        uint32_t *ne = realloc(t->node_edge, nc * sizeof *ne);
        if (!ne) return MS_ENOMEM;
        t->node_edge = ne;
        uint32_t *ns = realloc(t->node_self, nc * sizeof *ns);
        if (!ns) return MS_ENOMEM;
        t->node_self = ns;
        ms_ct_node *nn = realloc(t->nodes, nc * sizeof *nn);
        if (!nn) return MS_ENOMEM;
        t->nodes = nn;
        t->capnodes = nc;
    }
    uint32_t e = MS_CT_NONE;
    if (parent != MS_CT_NONE && parent != MS_CT_ROOT) {
        int rc = edge_of(t, t->nodes[parent].func, func, &e);
        if (rc) return rc;
    }
    uint32_t i = (uint32_t)t->nnodes++;
    ms_ct_node *n = &t->nodes[i];
    memset(n, 0, sizeof *n);
    n->func = func; n->parent = parent;
    n->first_child = n->next_sibling = MS_CT_NONE;
    t->node_edge[i] = e;
    t->node_self[i] = MS_CT_NONE;
    if (parent != MS_CT_NONE) {
        ms_ct_node *p = &t->nodes[parent];
        n->depth = p->depth + 1;
        if (n->depth > t->maxdepth) t->maxdepth = n->depth;
        n->next_sibling = p->first_child;
        p->first_child = i;
    }
    *id = i;
    return 0;
}

static uint64_t node_hash(uint32_t parent, uint32_t func)
{
    return mix64((uint64_t)parent << 32 | func);
}

static int nhash_grow(ms_calltree *t)
{
    size_t ncap = t->ncap ? t->ncap * 2 : 1024;
    uint32_t *nh = malloc(ncap * sizeof *nh);
    if (!nh) return MS_ENOMEM;
    __asm__ volatile("" : : "r"(nh) : "memory");   /* written before read (see heap.c tab_grow) */
    memset(nh, 0, ncap * sizeof *nh);
    for (size_t i = 1; i < t->nnodes; i++) {
        size_t s = node_hash(t->nodes[i].parent, t->nodes[i].func) & (ncap - 1);
        while (nh[s]) s = (s + 1) & (ncap - 1);
        nh[s] = (uint32_t)i + 1;
    }
    free(t->nhash);
    t->nhash = nh; t->ncap = ncap;
    return 0;
}

/* Tree node of func under parent, created when missing. */
static int child_node(ms_calltree *t, uint32_t parent, uint32_t func, uint32_t *out)
{
    if ((t->nnodes + 1) * 2 > t->ncap && nhash_grow(t)) return MS_ENOMEM;
    size_t s = node_hash(parent, func) & (t->ncap - 1);
    for (; t->nhash[s]; s = (s + 1) & (t->ncap - 1)) {
        const ms_ct_node *n = &t->nodes[t->nhash[s] - 1];
        if (n->parent == parent && n->func == func) { *out = t->nhash[s] - 1; return 0; }
    }
    uint32_t id;
    int rc = new_node(t, func, parent, &id);
    if (rc) return rc;
    t->nhash[s] = id + 1;
    *out = id;
    return 0;
}

/* The (func, line) entry, created when missing; NULL on ENOMEM. */
static line_ent *line_entry(ms_calltree *t, uint32_t func, uint32_t line, uint32_t *idx)
{
    uint64_t key = (uint64_t)func << 32 | line;
    size_t s = 0;
    uint32_t at;
    int f = ms_u64map_find(&t->linemap, key, &at, &s);
    if (f < 0) return NULL;
    if (f) {
        if (idx) *idx = at;
        return &t->lines_v[at];
    }
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
    ms_u64map_fill(&t->linemap, s, key, i);
    if (idx) *idx = i;
    return l;
}

static int new_path(ms_calltree *t, uint32_t parent, uint32_t func, uint32_t line, uint32_t node, uint32_t *id)
{
    if (t->npaths >= MS_CT_NONE - 1) return MS_ENOMEM;
    if (t->npaths == t->cappaths) {
        size_t nc = t->cappaths ? t->cappaths * 2 : 256;
        pnode *np = realloc(t->paths, nc * sizeof *np);
        if (!np) return MS_ENOMEM;
        t->paths = np; t->cappaths = nc;
    }
    uint32_t lent = MS_CT_NONE;
    if (line && !t->lines && parent != MS_CT_NONE && !line_entry(t, func, line, &lent)) return MS_ENOMEM;
    uint32_t i = (uint32_t)t->npaths++;
    pnode *p = &t->paths[i];
    memset(p, 0, sizeof *p);
    p->parent = parent; p->func = func; p->line = line; p->node = node; p->lent = lent;
    p->first_child = p->next_sibling = p->stack = MS_CT_NONE;
    if (parent != MS_CT_NONE) {
        p->next_sibling = t->paths[parent].first_child;
        t->paths[parent].first_child = i;
    }
    *id = i;
    return 0;
}

static uint64_t path_hash(uint32_t parent, uint32_t func, uint32_t line)
{
    return mix64(((uint64_t)parent << 32 | func) ^ mix64((uint64_t)line + 0x9e3779b97f4a7c15ULL));
}

static int phash_grow(ms_calltree *t)
{
    size_t ncap = t->pcap ? t->pcap * 2 : 1024;
    uint32_t *nh = calloc(ncap, sizeof *nh);
    if (!nh) return MS_ENOMEM;
    for (size_t i = 1; i < t->npaths; i++) {
        const pnode *p = &t->paths[i];
        size_t s = path_hash(p->parent, p->func, p->line) & (ncap - 1);
        while (nh[s]) s = (s + 1) & (ncap - 1);
        nh[s] = (uint32_t)i + 1;
    }
    free(t->phash);
    t->phash = nh; t->pcap = ncap;
    return 0;
}

int ms_calltree_new(ms_calltree **out, int lines)
{
    *out = NULL;
    ms_calltree *t = calloc(1, sizeof *t);
    if (!t) return MS_ENOMEM;
    t->lines = lines;
    uint32_t root, proot;
    if (new_node(t, MS_CT_NONE, MS_CT_NONE, &root) ||
        new_path(t, MS_CT_NONE, MS_CT_NONE, 0, MS_CT_ROOT, &proot) || phash_grow(t)) {
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
    free(t->funcs); free(t->fhash); free(t->nodes); free(t->node_edge); free(t->node_self); free(t->nself); free(t->ntotal);
    free(t->nhash); free(t->edges);
    free(t->lines_v); free(t->paths); free(t->stacks); free(t->phash);
    ms_u64map_free(&t->edgemap); ms_u64map_free(&t->linemap);
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
    if (t->nfuncs >= MS_CT_NONE - 1) { free(key); return MS_ENOMEM; }
    if (t->nfuncs == t->capfuncs) {
        size_t nc = t->capfuncs ? t->capfuncs * 2 : 64;
        func_ent *nf = realloc(t->funcs, nc * sizeof *nf);
        if (!nf) { free(key); return MS_ENOMEM; }
        t->funcs = nf;
        t->capfuncs = nc;
    }
    uint32_t i = (uint32_t)t->nfuncs++;
    func_ent *e = &t->funcs[i];
    memset(e, 0, sizeof *e);
    e->key = key; e->keylen = keylen; e->hash = h;
    e->f.name = key; e->f.file = key + ln + 1; e->f.line = line;
    e->first_line = MS_CT_NONE;
    t->fhash[s] = i;
    *id = i;
    return 0;
}

/* Capacity for n more paths and tree nodes without moving the arrays
 * (memory is only reserved: pages a path never uses are never touched). */
static int reserve(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    void *q = realloc(*p, need * size);
    if (!q) return MS_ENOMEM;
    *p = q;
    *cap = need;
    return 0;
}

int ms_calltree_reserve(ms_calltree *t, size_t n)
{
    if (n > MS_CT_NONE - 2 - t->npaths || n > MS_CT_NONE - 2 - t->nnodes) return MS_ENOMEM;
    size_t cape = t->capnodes, caps = t->capnodes;   /* per-node arrays first: never
                                                         smaller than capnodes says */
    if (reserve((void **)&t->paths, &t->cappaths, t->npaths + n, sizeof *t->paths)
        || reserve((void **)&t->node_edge, &cape, t->nnodes + n, sizeof *t->node_edge)
        || reserve((void **)&t->node_self, &caps, t->nnodes + n, sizeof *t->node_self)
        || reserve((void **)&t->nodes, &t->capnodes, t->nnodes + n, sizeof *t->nodes))
        return MS_ENOMEM;
    return 0;
}

int ms_calltree_path_child(ms_calltree *t, ms_ct_path *out, ms_ct_path path, uint32_t func, uint32_t line)
{
    if (func >= t->nfuncs || path >= t->npaths) return MS_EINVAL;
    if (t->lines) line = 0;                    /* the function id holds it */
    if ((t->npaths + 1) * 2 > t->pcap && phash_grow(t)) return MS_ENOMEM;
    size_t s = path_hash(path, func, line) & (t->pcap - 1);
    for (; t->phash[s]; s = (s + 1) & (t->pcap - 1)) {
        const pnode *p = &t->paths[t->phash[s] - 1];
        if (p->parent == path && p->func == func && p->line == line) { *out = t->phash[s] - 1; return 0; }
    }
    uint32_t node, id;
    int rc = child_node(t, t->paths[path].node, func, &node);
    if (!rc) rc = new_path(t, path, func, line, node, &id);
    if (rc) return rc;
    t->phash[s] = id + 1;
    *out = id;
    return 0;
}

int ms_calltree_path_add(ms_calltree *t, ms_ct_path path, const uint64_t *values)
{
    if (path >= t->npaths) return MS_EINVAL;
    pnode *p = &t->paths[path];
    if (p->stack == MS_CT_NONE) {
        if (t->nstacks >= MS_CT_NONE - 1) return MS_ENOMEM;
        if (t->nstacks == t->capstacks) {
            size_t nc = t->capstacks ? t->capstacks * 2 : 64;
            uint64_t (*ns)[MS_CT_NMETRICS] = realloc(t->stacks, nc * sizeof *ns);
            if (!ns) return MS_ENOMEM;
            t->stacks = ns; t->capstacks = nc;
        }
        memset(t->stacks[t->nstacks], 0, sizeof t->stacks[0]);
        p->stack = (uint32_t)t->nstacks++;
    }
    uint64_t *self = t->stacks[p->stack];
    for (int m = 0; m < MS_CT_NMETRICS; m++) {
        self[m] += values[m];
        t->total[m] += values[m];
    }
    t->dirty = 1;
    return 0;
}

uint32_t ms_calltree_path_node(const ms_calltree *t, ms_ct_path path)
{
    return path < t->npaths ? t->paths[path].node : MS_CT_NONE;
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
    ms_ct_path p = MS_CT_ROOT_PATH;
    for (size_t i = 0; i < n; i++) {
        int rc = ms_calltree_path_child(t, &p, p, frames[i], lines ? lines[i] : 0);
        if (rc) return rc;
    }
    return ms_calltree_path_add(t, p, values);
}

/* Pre-order walk of a first_child/next_sibling tree with an exit step:
 * enter(i) on the way down, leave(i) once its subtree is done. */
#define WALK(first_child_of, next_sibling_of, parent_of, root, enter, leave) do { \
    uint32_t cur_ = first_child_of(root); \
    while (cur_ != MS_CT_NONE) { \
        enter(cur_); \
        if (first_child_of(cur_) != MS_CT_NONE) { cur_ = first_child_of(cur_); continue; } \
        for (;;) { \
            leave(cur_); \
            if (next_sibling_of(cur_) != MS_CT_NONE) { cur_ = next_sibling_of(cur_); break; } \
            cur_ = parent_of(cur_); \
            if (cur_ == (root)) { cur_ = MS_CT_NONE; break; } \
        } \
    } \
} while (0)

/* Running sums of a walk (settle): entering a node or path saves the sum
 * of the stacks' values met so far and adds its own (self, or NULL); on
 * leaving, its subtree's values are the sum now minus the one saved. */
static inline void run_enter(uint64_t *run, uint64_t (*open)[MS_CT_NMETRICS], size_t *depth, const uint64_t *self)
{
    memcpy(open[(*depth)++], run, MS_CT_NMETRICS * sizeof *run);
    if (self)
        for (int m = 0; m < MS_CT_NMETRICS; m++) run[m] += self[m];
}

static inline void add_subtree(uint64_t *dst, const uint64_t *run, const uint64_t *opened)
{
    for (int m = 0; m < MS_CT_NMETRICS; m++) dst[m] += run[m] - opened[m];
}

/* Per (function, line) cum of settle(): lact is zeroed, a counter per
 * line entry; open has a row per depth (maxdepth + 1). */
static void line_sums(ms_calltree *t, uint32_t *lact, uint64_t (*open)[MS_CT_NMETRICS])
{
    uint64_t run[MS_CT_NMETRICS] = { 0 };
    size_t depth = 0;
#define PFC(i) (t->paths[i].first_child)
#define PNS(i) (t->paths[i].next_sibling)
#define PPA(i) (t->paths[i].parent)
#define PENTER(i) do { \
        const pnode *p_ = &t->paths[i]; \
        run_enter(run, open, &depth, p_->stack != MS_CT_NONE ? t->stacks[p_->stack] : NULL); \
        if (p_->lent != MS_CT_NONE) lact[p_->lent]++; \
    } while (0)
#define PLEAVE(i) do { \
        uint32_t l_ = t->paths[i].lent; \
        depth--; \
        if (l_ != MS_CT_NONE && !--lact[l_]) add_subtree(t->lines_v[l_].cum, run, open[depth]); \
    } while (0)
    WALK(PFC, PNS, PPA, MS_CT_ROOT_PATH, PENTER, PLEAVE);
}

/* Derive every total of the tree from the values at the paths' ends (see
 * the top of the file). Returns 0 or MS_ENOMEM (the tree keeps its old
 * totals and stays dirty). */
static int settle(ms_calltree *t)
{
    if (!t->dirty) return 0;
    uint32_t *fact = calloc(t->nfuncs ? t->nfuncs : 1, sizeof *fact);
    uint32_t *eact = calloc(t->nedges ? t->nedges : 1, sizeof *eact);
    uint32_t *lact = calloc(t->nlines ? t->nlines : 1, sizeof *lact);
    uint64_t (*open)[MS_CT_NMETRICS] = malloc(((size_t)t->maxdepth + 1) * sizeof *open);
    if (!fact || !eact || !lact || !open) { free(fact); free(eact); free(lact); free(open); return MS_ENOMEM; }
    /* a row of nself per node where some stack ends: at most nstacks */
    if (t->nstacks > t->capnself) {
        uint64_t (*ns)[MS_CT_NMETRICS] = realloc(t->nself, t->nstacks * sizeof *ns);
        if (!ns) { free(fact); free(eact); free(lact); free(open); return MS_ENOMEM; }
        t->nself = ns; t->capnself = t->nstacks;
    }
    size_t nself = 0;
    for (size_t i = 0; i < t->nnodes; i++) {
        t->nodes[i].is_stack = 0;
        t->node_self[i] = MS_CT_NONE;
    }
    for (size_t i = 0; i < t->nfuncs; i++) {
        memset(t->funcs[i].f.flat, 0, sizeof t->funcs[i].f.flat);
        memset(t->funcs[i].f.cum, 0, sizeof t->funcs[i].f.cum);
    }
    for (size_t i = 0; i < t->nedges; i++) memset(t->edges[i].value, 0, sizeof t->edges[i].value);
    for (size_t i = 0; i < t->nlines; i++) memset(t->lines_v[i].cum, 0, sizeof t->lines_v[i].cum);
    /* self: paths -> nodes */
    for (size_t i = 0; i < t->npaths; i++) {
        const pnode *p = &t->paths[i];
        if (p->stack == MS_CT_NONE) continue;
        uint32_t *row = &t->node_self[p->node];
        if (*row == MS_CT_NONE) {
            *row = (uint32_t)nself;
            memset(t->nself[nself++], 0, sizeof t->nself[0]);
        }
        const uint64_t *self = t->stacks[p->stack];
        for (int m = 0; m < MS_CT_NMETRICS; m++) t->nself[*row][m] += self[m];
        if (p->node != MS_CT_ROOT) t->nodes[p->node].is_stack = 1;
    }
    /* flat: stacks ending in the function */
    for (size_t i = 1; i < t->nnodes; i++) {
        if (t->node_self[i] == MS_CT_NONE) continue;
        for (int m = 0; m < MS_CT_NMETRICS; m++) t->funcs[t->nodes[i].func].f.flat[m] += t->nself[t->node_self[i]][m];
    }
    /* cum and edges once per stack: the topmost occurrence of a function
     * (an edge) on a path adds its node's subtree, the running sum of the
     * stacks' values met in the walk since the node was entered (a row per
     * open depth: the tree keeps no total a node unless a view asks,
     * ms_calltree_node_total) */
    uint64_t run[MS_CT_NMETRICS] = { 0 };
    size_t depth = 0;
#define NFC(i) (t->nodes[i].first_child)
#define NNS(i) (t->nodes[i].next_sibling)
#define NPA(i) (t->nodes[i].parent)
#define NENTER(i) do { \
        run_enter(run, open, &depth, t->node_self[i] != MS_CT_NONE ? t->nself[t->node_self[i]] : NULL); \
        fact[t->nodes[i].func]++; \
        if (t->node_edge[i] != MS_CT_NONE) eact[t->node_edge[i]]++; \
    } while (0)
#define NLEAVE(i) do { \
        const uint64_t *o_ = open[--depth]; \
        uint32_t f_ = t->nodes[i].func, e_ = t->node_edge[i]; \
        if (!--fact[f_]) add_subtree(t->funcs[f_].f.cum, run, o_); \
        if (e_ != MS_CT_NONE && !--eact[e_]) add_subtree(t->edges[e_].value, run, o_); \
    } while (0)
    WALK(NFC, NNS, NPA, MS_CT_ROOT, NENTER, NLEAVE);
    /* (function, line) sums the same way, over the paths */
    if (t->nlines) line_sums(t, lact, open);
    free(fact); free(eact); free(lact); free(open);
    t->totals_ok = 0;
    t->dirty = 0;
    return 0;
}

/* Read access settles the tree first (queries take a const tree that the
 * caller allocated as non-const, so the cast is safe). */
static const ms_calltree *ready(const ms_calltree *t)
{
    if (t->dirty) settle((ms_calltree *)t);
    return t;
}

int ms_calltree_finish(ms_calltree *t) { return settle(t); }

uint32_t ms_calltree_func_line(const ms_calltree *t, uint32_t id, int metric)
{
    t = ready(t);
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

uint32_t ms_calltree_func_sole_line(const ms_calltree *t, uint32_t id, int metric)
{
    t = ready(t);
    if (id >= t->nfuncs || metric < 0 || metric >= MS_CT_NMETRICS) return 0;
    const func_ent *f = &t->funcs[id];
    if (t->lines || f->first_line == MS_CT_NONE) return f->f.line;   /* no per-line sums: as interned */
    uint32_t line = 0;
    for (uint32_t i = f->first_line; i != MS_CT_NONE; i = t->lines_v[i].next) {
        const line_ent *l = &t->lines_v[i];
        if (!l->cum[metric]) continue;
        if (line || !l->line) return 0;
        line = l->line;
    }
    return line;
}

/* ---- queries ------------------------------------------------------------- */
uint64_t ms_calltree_total(const ms_calltree *t, int m)
{
    return m >= 0 && m < MS_CT_NMETRICS ? t->total[m] : 0;
}
size_t ms_calltree_stack_count(const ms_calltree *t)
{
    t = ready(t);
    size_t n = 0;
    for (size_t i = 1; i < t->nnodes; i++) n += t->nodes[i].is_stack != 0;
    return n;
}
size_t ms_calltree_func_count(const ms_calltree *t) { return t->nfuncs; }
const ms_ct_func *ms_calltree_func(const ms_calltree *t, uint32_t id)
{
    t = ready(t);
    return id < t->nfuncs ? &t->funcs[id].f : NULL;
}
size_t ms_calltree_node_count(const ms_calltree *t) { return t->nnodes; }
const ms_ct_node *ms_calltree_node(const ms_calltree *t, uint32_t id)
{
    t = ready(t);
    return id < t->nnodes ? &t->nodes[id] : NULL;
}
/* Node totals: a node's own values plus its children's (children have
 * larger ids than their parent). On ENOMEM a total is summed over the
 * node's subtree at each call instead. */
static int make_totals(ms_calltree *t)
{
    if (t->totals_ok) return 0;
    if (t->nnodes > t->capntotal) {
        uint64_t (*nt)[MS_CT_NMETRICS] = realloc(t->ntotal, t->nnodes * sizeof *nt);
        if (!nt) return MS_ENOMEM;
        t->ntotal = nt; t->capntotal = t->nnodes;
    }
    for (size_t i = 0; i < t->nnodes; i++) {
        if (t->node_self[i] == MS_CT_NONE) memset(t->ntotal[i], 0, sizeof t->ntotal[i]);
        else memcpy(t->ntotal[i], t->nself[t->node_self[i]], sizeof t->ntotal[i]);
    }
    for (size_t i = t->nnodes; i-- > 1;)
        for (int m = 0; m < MS_CT_NMETRICS; m++) t->ntotal[t->nodes[i].parent][m] += t->ntotal[i][m];
    t->totals_ok = 1;
    return 0;
}

uint64_t ms_calltree_node_total(const ms_calltree *t, uint32_t id, int m)
{
    t = ready(t);
    if (id >= t->nnodes || m < 0 || m >= MS_CT_NMETRICS) return 0;
    if (t->totals_ok || make_totals((ms_calltree *)t) == 0) return t->ntotal[id][m];
    uint64_t sum = 0;
    uint32_t cur = id;
    do {                                /* pre-order over id's subtree */
        if (t->node_self[cur] != MS_CT_NONE) sum += t->nself[t->node_self[cur]][m];
        if (t->nodes[cur].first_child != MS_CT_NONE) { cur = t->nodes[cur].first_child; continue; }
        while (cur != id && t->nodes[cur].next_sibling == MS_CT_NONE) cur = t->nodes[cur].parent;
        cur = cur == id ? MS_CT_NONE : t->nodes[cur].next_sibling;
    } while (cur != MS_CT_NONE);
    return sum;
}

uint64_t ms_calltree_node_self(const ms_calltree *t, uint32_t id, int m)
{
    t = ready(t);
    if (id >= t->nnodes || m < 0 || m >= MS_CT_NMETRICS || t->node_self[id] == MS_CT_NONE) return 0;
    return t->nself[t->node_self[id]][m];
}
size_t ms_calltree_edge_count(const ms_calltree *t) { return t->nedges; }
const ms_ct_edge *ms_calltree_edge(const ms_calltree *t, size_t i)
{
    t = ready(t);
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
    t = ready(t);
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
    t = ready(t);
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
        uint64_t self = ms_calltree_node_self(t, cur, metric);
        if (self) rc = fn(ctx, names, nd->depth, self);
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
    /* every stack path leaf first, with its lines; the inverted tree of
     * long stacks that share no suffix grows with the sum of their
     * depths, so it is capped */
    uint64_t frames = 0;
    for (size_t i = 1; i < t->npaths && rc == 0; i++) {
        const pnode *p = &t->paths[i];
        if (p->stack == MS_CT_NONE) continue;
        ms_ct_path q = MS_CT_ROOT_PATH;
        for (uint32_t c = (uint32_t)i; c != MS_CT_ROOT_PATH && rc == 0; c = t->paths[c].parent) {
            if (++frames > MS_CT_INVERT_MAX_FRAMES) rc = MS_ELIMIT;
            else rc = ms_calltree_path_child(r, &q, q, t->paths[c].func, t->paths[c].line);
        }
        if (rc == 0) rc = ms_calltree_path_add(r, q, t->stacks[p->stack]);
    }
    if (rc == 0 && t->paths[MS_CT_ROOT_PATH].stack != MS_CT_NONE)
        rc = ms_calltree_path_add(r, MS_CT_ROOT_PATH, t->stacks[t->paths[0].stack]);
    if (rc) { ms_calltree_free(r); return rc; }
    *out = r;
    return 0;
}
