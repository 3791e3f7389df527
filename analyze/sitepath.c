/* Site names as call paths (sitepath.h). Every shown frame gets a 64-bit
 * key (a hash of its label, file, line and inline mark, cached per ip),
 * every site the running hash of its first d keys; sites whose hash at
 * their current depth is shared take one more frame, round after round,
 * until every group is a single site or cannot grow. Sites that became
 * unique never collide again (a later collision would need an equal
 * shorter prefix, which would have kept them in one group), so each round
 * only looks at the sites still in a shared group, and a site's walk
 * resumes where it stopped: O(sites x frames shown) in all, however deep
 * the stacks (a 20,000-deep chain costs 64 frames a site). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memscope.h"
#include "sitepath.h"
#include "u64map.h"

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 0x100000001b3ull; }
    return h ^ 0xff;                  /* separator: "ab"+"c" != "a"+"bc"   */
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33;
    return x;
}

typedef struct keycache {
    ms_u64map at;                     /* ip -> index of its first key      */
    uint64_t *keys; size_t n, cap;
    uint32_t *count;                  /* per first-key index: frames of ip */
} keycache;

/* Keys of ip's frames, innermost first: *first into c->keys, *cnt of them. */
static int ip_keys(keycache *c, const ms_symtab *sym, uint64_t ip, size_t *first, uint32_t *cnt)
{
    uint32_t at;
    if (ms_u64map_get(&c->at, ip, &at)) { *first = at; *cnt = c->count[at]; return 0; }
    size_t nf = ms_symtab_frame_count(sym, ip);
    if (c->n + nf > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        while (cap < c->n + nf) cap *= 2;
        uint64_t *k = realloc(c->keys, cap * sizeof *k);
        if (!k) return MS_ENOMEM;
        c->keys = k;
        uint32_t *cn = realloc(c->count, cap * sizeof *cn);
        if (!cn) return MS_ENOMEM;
        c->count = cn;
        c->cap = cap;
    }
    if (c->n >= UINT32_MAX - 1) return MS_ENOMEM;
    at = (uint32_t)c->n;
    for (size_t k = 0; k < nf; k++) {
        const ms_symtab_frame *f = ms_symtab_frame_at(sym, ip, k);
        char label[1024], line[32];
        ms_symtab_frame_label(label, sizeof label, sym, ip, k);
        snprintf(line, sizeof line, "%u%s", f->line, k + 1 < nf ? "i" : "");
        c->keys[c->n++] = fnv(fnv(fnv(0xcbf29ce484222325ull, label), f->file), line);
    }
    c->count[at] = (uint32_t)nf;
    if (ms_u64map_put(&c->at, ip, at)) return MS_ENOMEM;
    *first = at; *cnt = (uint32_t)nf;
    return 0;
}

/* At most max ips of stack id, innermost first: a walk bounded by max, not
 * by the stack's depth (ms_symtab_stack walks all of it to count). */
static size_t stack_ips(uint64_t *ips, size_t max, const ms_symtab *sym, uint64_t id)
{
    size_t n = 0;
    uint64_t parent, ip;
    while (id && n < max && ms_symtab_node(&parent, &ip, sym, id) == 0) {
        ips[n++] = ip;
        if (parent >= id) break;
        id = parent;
    }
    return n;
}

/* A site's walk: the frames shown so far and where the next one is. */
typedef struct walk {
    uint64_t node;                    /* stack node of the next frame, 0 = end */
    uint32_t k;                       /* its frame index within that ip       */
    uint32_t depth;                   /* frames taken                         */
    uint64_t hash;                    /* of the frames taken                  */
} walk;

static uint64_t walk_key(const walk *w) { return mix(w->hash ^ w->depth); }

/* Take the next frame of w; 0 = taken, 1 = the stack has no more frames. */
static int walk_step(walk *w, keycache *c, const ms_symtab *sym, int *err)
{
    uint64_t parent, ip;
    if (w->depth >= MS_SITEPATH_MAX_FRAMES || !w->node || ms_symtab_node(&parent, &ip, sym, w->node)) return 1;
    size_t first;
    uint32_t cnt;
    if ((*err = ip_keys(c, sym, ip, &first, &cnt))) return 1;
    if (cnt == 0) return 1;
    w->hash = mix(w->hash ^ c->keys[first + w->k]) + w->depth;
    w->depth++;
    if (++w->k >= cnt) {
        w->k = 0;
        w->node = parent < w->node ? parent : 0;
    }
    return 0;
}

int ms_site_depths(uint32_t *depth, const ms_symtab *sym, const uint64_t *stack_ids, size_t n, unsigned min_frames)
{
    if (n == 0) return 0;
    keycache c;
    memset(&c, 0, sizeof c);
    walk *w = malloc(n * sizeof *w);
    size_t *act = malloc(n * sizeof *act);
    uint32_t *grp = NULL;
    uint64_t *gk = NULL;
    size_t gcap = 0, nact = 0;
    int e = (!w || !act) ? MS_ENOMEM : 0;
    for (size_t i = 0; i < n && !e; i++) {
        w[i] = (walk){ stack_ids[i], 0, 0, 0x9e3779b97f4a7c15ull };
        while (w[i].depth < min_frames && !walk_step(&w[i], &c, sym, &e)) {}
        act[nact++] = i;
    }
    /* rounds: count each key among the active sites (open addressing on
     * 2 x active slots), keep the shared ones, grow those that can */
    while (!e && nact > 1) {
        size_t cap = 16;
        while (cap < 2 * nact) cap *= 2;
        if (cap > gcap) {
            uint32_t *g = realloc(grp, cap * sizeof *g);
            if (g) grp = g;
            uint64_t *k = g ? realloc(gk, cap * sizeof *k) : NULL;
            if (k) gk = k;
            if (!g || !k) { e = MS_ENOMEM; break; }
            gcap = cap;
        }
        memset(grp, 0, cap * sizeof *grp);
        for (size_t a = 0; a < nact; a++) {
            uint64_t h = walk_key(&w[act[a]]);
            size_t s = mix(h) & (cap - 1);
            while (grp[s] && gk[s] != h) s = (s + 1) & (cap - 1);
            gk[s] = h;
            if (grp[s] < 2) grp[s]++;
        }
        size_t keep = 0, grown = 0;
        for (size_t a = 0; a < nact; a++) {
            size_t i = act[a];
            uint64_t h = walk_key(&w[i]);
            size_t s = mix(h) & (cap - 1);
            while (gk[s] != h) s = (s + 1) & (cap - 1);
            if (grp[s] < 2) continue;                  /* unique: final        */
            act[keep++] = i;
            if (!walk_step(&w[i], &c, sym, &e)) grown++;
        }
        nact = keep;
        if (!grown) {                   /* same frames to the end: addresses */
            for (size_t a = 0; a < nact; a++) w[act[a]].depth |= MS_SITEPATH_ADDR;
            break;
        }
    }
    for (size_t i = 0; i < n && !e; i++) depth[i] = w[i].depth;
    free(w); free(act); free(grp); free(gk);
    free(c.keys); free(c.count); ms_u64map_free(&c.at);
    return e;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

size_t ms_site_path_name(char *buf, size_t n, const ms_symtab *sym, uint64_t stack_id, uint32_t frames)
{
    if (n == 0) return 0;
    buf[0] = 0;
    uint64_t ips[MS_SITEPATH_MAX_FRAMES];
    size_t depth = stack_ips(ips, MS_SITEPATH_MAX_FRAMES, sym, stack_id), len = 0;
    int addr = (frames & MS_SITEPATH_ADDR) != 0;
    frames &= ~MS_SITEPATH_ADDR;
    if (!frames || frames > MS_SITEPATH_MAX_FRAMES) frames = MS_SITEPATH_MAX_FRAMES;
    if (depth == 0) {
        snprintf(buf, n, "[no stack]");
        return strlen(buf);
    }
    uint32_t shown = 0;
    for (size_t i = 0; i < depth && shown < frames; i++) {
        size_t nf = ms_symtab_frame_count(sym, ips[i]);
        for (size_t k = 0; k < nf && shown < frames; k++, shown++) {
            const ms_symtab_frame *f = ms_symtab_frame_at(sym, ips[i], k);
            char label[1024], where[600] = "";
            ms_symtab_frame_label(label, sizeof label, sym, ips[i], k);
            if (addr && shown == 0 && strncmp(label, "0x", 2)) {
                size_t l = strlen(label);
                snprintf(label + l, sizeof label - l, " @0x%llx", (unsigned long long)ips[i]);
            }
            if (*f->file && f->line) snprintf(where, sizeof where, " %s:%u", base_name(f->file), f->line);
            else if (*f->file) snprintf(where, sizeof where, " %s", base_name(f->file));
            int w = snprintf(buf + len, n - len, "%s%s%s%s", shown ? " \xe2\x86\x90 " : "", label,
                             k + 1 < nf ? " (inline)" : "", where);
            if (w < 0 || (size_t)w >= n - len) { len = strlen(buf); return len; }
            len += (size_t)w;
        }
    }
    return len;
}
