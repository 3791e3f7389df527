/*
 * Symbol table for heap traces. The recorder defines stacks as (parent, ip)
 * nodes, symbolizes each ip once (SYMBOL) and announces modules (MODULE);
 * the reader hands those out with pointers that die at the next record, so
 * this file copies what the reports need: nodes in a dense array indexed by
 * id, symbols in an ip-keyed hash table, strings interned in an arena
 * (function and file names repeat a lot). Memory is O(unique nodes +
 * symbols + modules), independent of the number of events.
 * It also owns how a frame is named in every report: clone suffixes folded
 * at intake, and a frame without a function labelled by module + offset
 * (or its address), so unnamed frames never merge into one "??".
 */
#include "symtab.h"
#include "u64map.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODE_ID (1ull << 26)      /* ids beyond this are ignored        */

typedef struct node { uint64_t parent, ip; } node;

typedef struct sym {
    uint64_t ip;                      /* 0 = empty slot                     */
    uint64_t module_id, module_offset;
    uint32_t nframes;
    uint32_t first;                   /* index into frames                  */
} sym;

typedef struct arena_blk { struct arena_blk *next; size_t used, cap; char data[]; } arena_blk;

struct ms_symtab {
    node *nodes; uint8_t *defined; uint64_t nodes_cap, max_node;
    uint64_t ndefined;                          /* nodes stored           */
    node *sparse; size_t nsparse, sparse_cap;   /* ids far beyond the rest */
    ms_u64map sparse_of;                        /* id -> index in sparse  */
    sym *syms; size_t syms_cap, nsyms;          /* open addressing        */
    ms_symtab_frame *frames; size_t nframes, frames_cap;
    ms_symtab_module *mods; size_t nmods, mods_cap;
    ms_u64map mod_of_id;                        /* id -> newest module   */
    arena_blk *arena;
    const char **strs; size_t strs_cap, nstrs;  /* intern set             */
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static void *arena_alloc(ms_symtab *s, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (!s->arena || s->arena->cap - s->arena->used < n) {
        size_t cap = n > 60000 ? n : 60000;
        arena_blk *b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = s->arena; b->used = 0; b->cap = cap;
        s->arena = b;
    }
    void *p = s->arena->data + s->arena->used;
    s->arena->used += n;
    return p;
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 1099511628211ull; }
    return mix64(h);
}

/* Intern a string (stops at an embedded NUL: names never contain one). */
static const char *intern(ms_symtab *s, const char *p, size_t n)
{
    if (!p || !n) return "";
    size_t z = strnlen(p, n);
    n = z;
    if ((s->nstrs + 1) * 2 > s->strs_cap) {
        size_t cap = s->strs_cap ? s->strs_cap * 2 : 1024;
        const char **t = calloc(cap, sizeof *t);
        if (!t) return NULL;
        for (size_t i = 0; i < s->strs_cap; i++) {
            const char *q = s->strs[i];
            if (!q) continue;
            size_t j = hash_bytes(q, strlen(q)) & (cap - 1);
            while (t[j]) j = (j + 1) & (cap - 1);
            t[j] = q;
        }
        free(s->strs); s->strs = t; s->strs_cap = cap;
    }
    size_t j = hash_bytes(p, n) & (s->strs_cap - 1);
    while (s->strs[j]) {
        const char *q = s->strs[j];
        if (strncmp(q, p, n) == 0 && q[n] == 0) return q;
        j = (j + 1) & (s->strs_cap - 1);
    }
    char *c = arena_alloc(s, n + 1);
    if (!c) return NULL;
    memcpy(c, p, n); c[n] = 0;
    s->strs[j] = c; s->nstrs++;
    return c;
}

int ms_symtab_new(ms_symtab **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : MS_ENOMEM;
}

void ms_symtab_free(ms_symtab *s)
{
    if (!s) return;
    free(s->nodes); free(s->defined); free(s->syms); free(s->frames); free(s->mods);
    free(s->sparse); ms_u64map_free(&s->sparse_of);
    ms_u64map_free(&s->mod_of_id);
    free(s->strs);
    while (s->arena) { arena_blk *n = s->arena->next; free(s->arena); s->arena = n; }
    free(s);
}

/* A node id far beyond the ones stored (more than twice their number +
 * 64 Ki) goes to a hash map, so a file defining node 60,000,000 alone
 * does not make the dense array 60 million entries long. */
static int add_sparse(ms_symtab *s, uint64_t id, const ms_stack_node *sn)
{
    uint32_t at;
    if (!ms_u64map_get(&s->sparse_of, id, &at)) {
        if (s->nsparse == s->sparse_cap) {
            size_t cap = s->sparse_cap ? s->sparse_cap * 2 : 256;
            node *n = realloc(s->sparse, cap * sizeof *n);
            if (!n) return MS_ENOMEM;
            s->sparse = n; s->sparse_cap = cap;
        }
        at = (uint32_t)s->nsparse++;
        if (ms_u64map_put(&s->sparse_of, id, at)) return MS_ENOMEM;
        s->ndefined++;
    }
    s->sparse[at].parent = sn->parent;
    s->sparse[at].ip = sn->ip;
    return 0;
}

static const node *node_at(const ms_symtab *s, uint64_t id)
{
    if (id < s->nodes_cap) return s->defined[id] ? &s->nodes[id] : NULL;
    uint32_t at;
    return s->nsparse && ms_u64map_get(&s->sparse_of, id, &at) ? &s->sparse[at] : NULL;
}

static int add_nodes(ms_symtab *s, const ms_stack *st)
{
    if (st->first_id == 0) return 0;
    for (uint32_t i = 0; i < st->count; i++) {
        uint64_t id = st->first_id + i;
        if (id >= MAX_NODE_ID) break;
        if (id > s->max_node) s->max_node = id;
        if (id >= s->nodes_cap && id > 2 * s->ndefined + 65536) {
            int rc = add_sparse(s, id, &st->nodes[i]);
            if (rc) return rc;
            continue;
        }
        if (id >= s->nodes_cap) {
            uint64_t cap = s->nodes_cap ? s->nodes_cap : 4096;
            while (cap <= id) cap *= 2;
            node *n = realloc(s->nodes, cap * sizeof *n);
            if (!n) return MS_ENOMEM;
            s->nodes = n;
            uint8_t *d = realloc(s->defined, cap);
            if (!d) return MS_ENOMEM;
            memset(d + s->nodes_cap, 0, cap - s->nodes_cap);
            s->defined = d;
            s->nodes_cap = cap;
        }
        s->nodes[id].parent = st->nodes[i].parent;
        s->nodes[id].ip = st->nodes[i].ip;
        s->ndefined += !s->defined[id];
        s->defined[id] = 1;
    }
    return 0;
}

/* GCC names clones foo.isra.0, foo.constprop.1, foo.part.0, foo.cold and
 * with LTO foo.lto_priv.0; clang's ThinLTO adds foo.llvm.123. Users want
 * one "foo", so every report folds them (heaptrack shows them raw). */
static const char *const clone_suffixes[] = {
    "lto_priv", "isra", "constprop", "part", "cold", "llvm", "localalias",
};

/* Length of p[0..n) without one trailing clone suffix; n if none. */
static size_t strip_one_suffix(const char *p, size_t n)
{
    if (n && p[n - 1] == ']') {
        for (size_t i = n - 1; i-- > 1;) {
            if (p[i] == ']') break;
            if (p[i] == '[') return p[i - 1] == ' ' && n - i > 8 && memcmp(p + i, "[clone .", 8) == 0 ? i - 1 : n;
        }
        return n;
    }
    size_t e = n;
    while (e && p[e - 1] >= '0' && p[e - 1] <= '9') e--;
    if (e < n) {
        if (e == 0 || p[e - 1] != '.') return n;
        e--;
    }
    for (size_t k = 0; k < sizeof clone_suffixes / sizeof *clone_suffixes; k++) {
        size_t l = strlen(clone_suffixes[k]);
        if (e > l + 1 && p[e - l - 1] == '.' && memcmp(p + e - l, clone_suffixes[k], l) == 0) return e - l - 1;
    }
    return n;
}

size_t ms_symtab_fold_name(const char *name, size_t len)
{
    if (!name) return 0;
    for (;;) {
        size_t m = strip_one_suffix(name, len);
        if (m == len || m == 0) return len;
        len = m;
    }
}

static sym *sym_find(const ms_symtab *s, uint64_t ip)
{
    if (!s->syms_cap || !ip) return NULL;
    size_t j = mix64(ip) & (s->syms_cap - 1);
    while (s->syms[j].ip) {
        if (s->syms[j].ip == ip) return &s->syms[j];
        j = (j + 1) & (s->syms_cap - 1);
    }
    return NULL;
}

static int add_symbol(ms_symtab *s, const ms_symbol *y)
{
    if (!y->ip) return 0;
    if ((s->nsyms + 1) * 2 > s->syms_cap) {
        size_t cap = s->syms_cap ? s->syms_cap * 2 : 1024;
        sym *t = calloc(cap, sizeof *t);
        if (!t) return MS_ENOMEM;
        for (size_t i = 0; i < s->syms_cap; i++) {
            if (!s->syms[i].ip) continue;
            size_t j = mix64(s->syms[i].ip) & (cap - 1);
            while (t[j].ip) j = (j + 1) & (cap - 1);
            t[j] = s->syms[i];
        }
        free(s->syms); s->syms = t; s->syms_cap = cap;
    }
    sym *e = sym_find(s, y->ip);
    if (!e) {
        size_t j = mix64(y->ip) & (s->syms_cap - 1);
        while (s->syms[j].ip) j = (j + 1) & (s->syms_cap - 1);
        e = &s->syms[j];
        s->nsyms++;
    }
    if (s->nframes + y->nframes > s->frames_cap) {
        size_t cap = s->frames_cap ? s->frames_cap : 1024;
        while (cap < s->nframes + y->nframes) cap *= 2;
        ms_symtab_frame *f = realloc(s->frames, cap * sizeof *f);
        if (!f) return MS_ENOMEM;
        s->frames = f; s->frames_cap = cap;
    }
    e->ip = y->ip;
    e->module_id = y->module_id;
    e->module_offset = y->module_offset;
    e->first = (uint32_t)s->nframes;
    e->nframes = 0;
    for (uint32_t i = 0; i < y->nframes; i++) {
        ms_symtab_frame *f = &s->frames[s->nframes];
        const char *fn = y->frames[i].function.ptr;
        size_t fl = fn ? strnlen(fn, y->frames[i].function.len) : 0;
        f->symbol = intern(s, fn, fl);
        f->function = intern(s, fn, ms_symtab_fold_name(fn, fl));
        f->file = intern(s, y->frames[i].file.ptr, y->frames[i].file.len);
        if (!f->symbol || !f->function || !f->file) return MS_ENOMEM;
        f->line = y->frames[i].line;
        f->column = y->frames[i].column;
        s->nframes++;
        e->nframes++;
    }
    return 0;
}

/* The newest module announced with id, or NULL. */
static ms_symtab_module *module_by_id(const ms_symtab *s, uint64_t id)
{
    uint32_t i;
    return ms_u64map_get(&s->mod_of_id, id, &i) ? &s->mods[i] : NULL;
}

/* A MODULE record repeating the newest one of its id changes nothing and
 * is not stored again (a hostile file repeats one 12 million times). */
static int same_module(const ms_symtab_module *d, const ms_module *m)
{
    return d->base == m->base && d->nsegments == m->nsegments && !d->unloaded &&
           strlen(d->path) == m->path.len && (!m->path.len || !memcmp(d->path, m->path.ptr, m->path.len)) &&
           d->build_id_len == m->build_id.len && (!m->build_id.len || !memcmp(d->build_id, m->build_id.ptr, m->build_id.len)) &&
           (!m->nsegments || !memcmp(d->segments, m->segments, m->nsegments * sizeof *m->segments));
}

static int add_module(ms_symtab *s, const ms_module *m)
{
    const ms_symtab_module *prev = module_by_id(s, m->id);
    if (prev && same_module(prev, m)) return 0;
    if (s->nmods >= UINT32_MAX - 1) return MS_ENOMEM;
    if (s->nmods == s->mods_cap) {
        size_t cap = s->mods_cap ? s->mods_cap * 2 : 64;
        ms_symtab_module *t = realloc(s->mods, cap * sizeof *t);
        if (!t) return MS_ENOMEM;
        s->mods = t; s->mods_cap = cap;
    }
    ms_symtab_module *d = &s->mods[s->nmods];
    memset(d, 0, sizeof *d);
    d->id = m->id;
    d->path = intern(s, m->path.ptr, m->path.len);
    if (!d->path) return MS_ENOMEM;
    if (m->build_id.len) {
        uint8_t *b = arena_alloc(s, m->build_id.len);
        if (!b) return MS_ENOMEM;
        memcpy(b, m->build_id.ptr, m->build_id.len);
        d->build_id = b; d->build_id_len = m->build_id.len;
    }
    d->base = m->base;
    if (m->nsegments) {
        ms_segment *sg = arena_alloc(s, m->nsegments * sizeof *sg);
        if (!sg) return MS_ENOMEM;
        memcpy(sg, m->segments, m->nsegments * sizeof *sg);
        d->segments = sg; d->nsegments = m->nsegments;
    }
    d->lo = UINT64_MAX; d->hi = 0;
    for (uint32_t i = 0; i < m->nsegments; i++) {
        uint64_t lo = m->segments[i].vaddr + m->base, hi = lo + m->segments[i].size;
        if (lo < d->lo) d->lo = lo;
        if (hi > d->hi) d->hi = hi;
    }
    if (d->lo > d->hi) d->lo = d->hi = 0;
    if (ms_u64map_put(&s->mod_of_id, m->id, (uint32_t)s->nmods)) return MS_ENOMEM;
    s->nmods++;
    return 0;
}

int ms_symtab_add(ms_symtab *s, const ms_record *rec)
{
    switch (rec->type) {
    case MS_REC_STACK: return add_nodes(s, &rec->u.stack);
    case MS_REC_SYMBOL: return add_symbol(s, &rec->u.symbol);
    case MS_REC_MODULE: return add_module(s, &rec->u.module);
    case MS_REC_MODULE_UNLOAD: {
        ms_symtab_module *m = module_by_id(s, rec->u.module_unload.id);
        if (m) m->unloaded = 1;
        return 0;
    }
    default: return 0;
    }
}

uint64_t ms_symtab_max_node(const ms_symtab *s) { return s->max_node; }

size_t ms_symtab_node_ips(const ms_symtab *s, uint64_t **out)
{
    uint64_t *v = malloc((s->ndefined ? s->ndefined : 1) * sizeof *v);
    *out = v;
    if (!v) return 0;
    size_t n = 0;
    for (uint64_t id = 1; id < s->nodes_cap && n < s->ndefined; id++)
        if (s->defined[id]) v[n++] = s->nodes[id].ip;
    for (size_t i = 0; i < s->nsparse && n < s->ndefined; i++) v[n++] = s->sparse[i].ip;
    return n;
}

int ms_symtab_node(uint64_t *parent, uint64_t *ip, const ms_symtab *s, uint64_t id)
{
    const node *nd = id ? node_at(s, id) : NULL;
    if (!nd) return MS_EINVAL;
    *parent = nd->parent;
    *ip = nd->ip;
    return 0;
}

size_t ms_symtab_stack(uint64_t *ips, size_t max, const ms_symtab *s, uint64_t id)
{
    size_t n = 0;
    /* parents are < own id, so the walk ends; guard anyway */
    const node *nd;
    while (id && (nd = node_at(s, id)) && n < 100000) {
        if (n < max) ips[n] = nd->ip;
        n++;
        uint64_t p = nd->parent;
        if (p >= id) break;
        id = p;
    }
    return n;
}

size_t ms_symtab_frames(const ms_symtab_frame **frames, const ms_symtab *s, uint64_t ip)
{
    const sym *e = sym_find(s, ip);
    if (!e || !e->nframes) { *frames = NULL; return 0; }
    *frames = &s->frames[e->first];
    return e->nframes;
}

const ms_symtab_module *ms_symtab_module_of(uint64_t *offset, const ms_symtab *s, uint64_t ip)
{
    const sym *e = sym_find(s, ip);
    if (e && e->module_id) {
        const ms_symtab_module *m = module_by_id(s, e->module_id);
        if (m) { *offset = e->module_offset; return m; }
    }
    /* latest loaded module covering ip wins (a dlclose'd range may be reused) */
    for (size_t i = s->nmods; i-- > 0;) {
        const ms_symtab_module *m = &s->mods[i];
        if (ip >= m->lo && ip < m->hi) { *offset = ip - m->base; return m; }
    }
    *offset = 0;
    return NULL;
}

size_t ms_symtab_module_count(const ms_symtab *s) { return s->nmods; }
const ms_symtab_module *ms_symtab_module_at(const ms_symtab *s, size_t i)
{
    return i < s->nmods ? &s->mods[i] : NULL;
}

static size_t clamp(int r, size_t n) { return r < 0 ? 0 : (size_t)r >= n ? n - 1 : (size_t)r; }

static const ms_symtab_frame no_frame = { "", "", 0, 0, "" };

size_t ms_symtab_frame_count(const ms_symtab *s, uint64_t ip)
{
    const ms_symtab_frame *f;
    size_t nf = ms_symtab_frames(&f, s, ip);
    return nf ? nf : 1;
}

const ms_symtab_frame *ms_symtab_frame_at(const ms_symtab *s, uint64_t ip, size_t k)
{
    const ms_symtab_frame *f;
    size_t nf = ms_symtab_frames(&f, s, ip);
    return k < nf ? &f[k] : &no_frame;
}

size_t ms_symtab_frame_label(char *buf, size_t n, const ms_symtab *s, uint64_t ip, size_t k)
{
    if (!n) return 0;
    const ms_symtab_frame *f = ms_symtab_frame_at(s, ip, k);
    if (f->function[0]) return clamp(snprintf(buf, n, "%s", f->function), n);
    uint64_t off;
    const ms_symtab_module *m = ms_symtab_module_of(&off, s, ip);
    if (m && m->path[0]) {
        const char *b = strrchr(m->path, '/');
        return clamp(snprintf(buf, n, "%s+0x%" PRIx64, b && b[1] ? b + 1 : m->path, off), n);
    }
    return clamp(snprintf(buf, n, "0x%" PRIx64, ip), n);
}

size_t ms_symtab_frame_name(char *buf, size_t n, const ms_symtab *s, uint64_t ip, size_t k)
{
    size_t l = ms_symtab_frame_label(buf, n, s, ip, k);
    const ms_symtab_frame *f = ms_symtab_frame_at(s, ip, k);
    if (!f->file[0] || l + 1 >= n) return l;
    if (f->line) return l + clamp(snprintf(buf + l, n - l, " (%s:%" PRIu32 ")", f->file, f->line), n - l);
    return l + clamp(snprintf(buf + l, n - l, " (%s)", f->file), n - l);
}

size_t ms_symtab_ip_name(char *buf, size_t n, const ms_symtab *s, uint64_t ip)
{
    /* the innermost (possibly inlined) frame names the exact source line */
    return ms_symtab_frame_name(buf, n, s, ip, 0);
}

/* ---- memoized stack walks (symtab.h) ---- */
/* Node ids are dense (the recorder numbers its nodes from 1), so a value
 * is kept in an array indexed by id, sized once to the symtab's dense ids
 * (4 bytes a node); ids kept sparse by the symtab go to a hash map. (A map
 * for all of them took 12 bytes a slot at half load and a rehash per
 * doubling: cc1's 262 k nodes cost 6 MiB and ~10 % of `msconv --text`.) */
struct ms_stack_memo {
    uint32_t *dense; size_t dcap;     /* id < dcap: value + 1, 0 = not yet  */
    ms_u64map val;                    /* other ids -> value                 */
    uint64_t *todo; size_t todocap;
};

int ms_stack_memo_new(ms_stack_memo **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : MS_ENOMEM;
}

void ms_stack_memo_free(ms_stack_memo *m)
{
    if (!m) return;
    free(m->dense);
    ms_u64map_free(&m->val);
    free(m->todo);
    free(m);
}

int ms_stack_memo_get(ms_stack_memo *m, const ms_symtab *s, uint64_t id, uint32_t root,
                      ms_stack_extend_fn extend, void *ctx, uint32_t *out)
{
    if (!m->dense && s->nodes_cap) {
        /* every id up to the largest dense one is on some stack: the
         * array is written whole at once (a fresh page read first maps
         * the zero page, and its first write then faults again) */
        size_t n = s->max_node < s->nodes_cap ? (size_t)s->max_node + 1 : (size_t)s->nodes_cap;
        m->dense = malloc(n * sizeof *m->dense);
        if (!m->dense) return MS_ENOMEM;
        __asm__ volatile("" : : "r"(m->dense) : "memory");
        memset(m->dense, 0, n * sizeof *m->dense);
        m->dcap = n;
    }
    size_t n = 0;
    uint32_t v = root;
    const node *nd;
    for (uint64_t cur = id; cur && (nd = node_at(s, cur));) {
        if (cur < m->dcap) {
            if (m->dense[cur]) { v = m->dense[cur] - 1; break; }
        } else if (ms_u64map_get(&m->val, cur, &v)) {
            break;
        }
        if (n == m->todocap) {
            size_t c = m->todocap ? m->todocap * 2 : 256;
            uint64_t *t = realloc(m->todo, c * sizeof *t);
            if (!t) return MS_ENOMEM;
            m->todo = t; m->todocap = c;
        }
        m->todo[n++] = cur;
        uint64_t p = nd->parent;
        cur = p < cur ? p : 0;
    }
    while (n--) {
        uint64_t cur = m->todo[n];
        int rc = extend(ctx, v, node_at(s, cur)->ip, &v);
        if (rc) return rc;
        if (v == UINT32_MAX) return MS_ENOMEM;
        if (cur < m->dcap) m->dense[cur] = v + 1;
        else if ((rc = ms_u64map_put(&m->val, cur, v))) return rc;
    }
    *out = v;
    return 0;
}
