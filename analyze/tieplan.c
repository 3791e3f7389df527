/*
 * Tie-group planner (tieplan.h): finds an order of the events that several
 * threads logged with the same time such that every free meets a live
 * block and every allocation a free address. Coarse ticks (§8.2) make such
 * groups hold hundreds of events per thread; the reader used to take the
 * first stream whose head fitted, which on a producer/consumer program
 * paired a free with the wrong instance of a reused address about once per
 * 3,000 cross-thread frees and then counted unmatched frees and duplicate
 * allocations. The planner works on a private copy of the state of the
 * group's addresses (an overlay over the caller's live set) with an undo
 * journal, so nothing reaches the heap model until the order is final.
 */
#include "tieplan.h"
#include <stdlib.h>
#include <string.h>
#include "memscope.h"

/* Fuzz builds (fuzz/build.sh) run ~20x slower under a 10 s timeout per
 * input: they plan with a 16th of the exact search's allowance. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define TP_CREDIT_SHIFT 4
#else
#define TP_CREDIT_SHIFT 0
#endif

typedef struct slot {
    uint64_t key;
    uint8_t used, live, shared, owner;
} slot;

typedef struct jent { uint32_t slot; uint8_t live; } jent;

typedef struct cpoint {
    uint32_t npicks;
    uint32_t njr;
    uint64_t excl;
    uint64_t a[2];
    uint8_t na, chosen;
} cpoint;

struct ms_tieplan {
    slot *tab; size_t cap;
    jent *jr; size_t njr, capjr;
    cpoint *cp; size_t ncp, capcp;
    uint32_t *snap; size_t capsnap;   /* ns positions per choice point */
    ms_tieplan_stats st;
    uint64_t credit;                  /* heads the exact search may still check */
    uint64_t *memo; size_t memocap;   /* exact: dead positions, all 0 between calls */
    uint32_t *mslot;                  /* exact: the memo slots filled by this call */
};

int ms_tieplan_new(ms_tieplan **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : MS_ENOMEM;
}

void ms_tieplan_free(ms_tieplan *p)
{
    if (!p) return;
    free(p->tab); free(p->jr); free(p->cp); free(p->snap); free(p->memo); free(p->mslot);
    free(p);
}

void ms_tieplan_get_stats(ms_tieplan_stats *out, const ms_tieplan *p) { *out = p->st; }

static inline size_t hash(uint64_t a, size_t mask)
{
    a ^= a >> 29; a *= 0xbf58476d1ce4e5b9ull; a ^= a >> 32;
    return (size_t)a & mask;
}

static inline uint32_t find(const ms_tieplan *p, uint64_t a)
{
    size_t m = p->cap - 1, j = hash(a, m);
    while (p->tab[j].key != a) j = (j + 1) & m;     /* every address was inserted */
    return (uint32_t)j;
}

/* Insert the group's addresses, with their state before the group and
 * whether more than one stream touches them. */
static int build(ms_tieplan *p, const ms_tie_ev *ev, const uint32_t *cnt, size_t ns, size_t n,
                 ms_tie_live_fn live, void *ctx)
{
    size_t need = 16;
    while (need < 4 * n) need *= 2;
    if (need > p->cap) {
        slot *t = malloc(need * sizeof *t);
        if (!t) return MS_ENOMEM;
        free(p->tab);
        p->tab = t; p->cap = need;
    }
    memset(p->tab, 0, p->cap * sizeof *p->tab);
    size_t m = p->cap - 1, k = 0;
    for (size_t s = 0; s < ns; s++)
        for (uint32_t i = 0; i < cnt[s]; i++, k++)
            for (int x = 0; x < ev[k].na; x++) {
                uint64_t a = ev[k].a[x];
                size_t j = hash(a, m);
                while (p->tab[j].used && p->tab[j].key != a) j = (j + 1) & m;
                slot *sl = &p->tab[j];
                if (!sl->used) {
                    sl->used = 1; sl->key = a; sl->owner = (uint8_t)s;
                    sl->live = live(ctx, a) ? 1 : 0;
                } else if (sl->owner != s) sl->shared = 1;
            }
    return 0;
}

static inline int fits(const ms_tieplan *p, const ms_tie_ev *e)
{
    for (int x = 0; x < e->na; x++)
        if (p->tab[find(p, e->a[x])].live != ((e->need >> x) & 1)) return 0;
    return 1;
}

static inline int shared(const ms_tieplan *p, const ms_tie_ev *e)
{
    for (int x = 0; x < e->na; x++)
        if (p->tab[find(p, e->a[x])].shared) return 1;
    return 0;
}

static int apply(ms_tieplan *p, const ms_tie_ev *e)
{
    if (p->njr + 2 > p->capjr) {
        size_t cap = p->capjr ? p->capjr * 2 : 256;
        jent *j = realloc(p->jr, cap * sizeof *j);
        if (!j) return MS_ENOMEM;
        p->jr = j; p->capjr = cap;
    }
    for (int x = 0; x < e->na; x++) {
        uint32_t s = find(p, e->a[x]);
        p->jr[p->njr++] = (jent){ s, p->tab[s].live };
        p->tab[s].live = (e->after >> x) & 1;
    }
    return 0;
}

/* Undo the journal's changes down to entry `mark` (0: the state before
 * the group). */
static void undo_to(ms_tieplan *p, size_t mark)
{
    while (p->njr > mark) { p->njr--; p->tab[p->jr[p->njr].slot].live = p->jr[p->njr].live; }
}

/* Stream a goes before stream b: first streams, then the earlier
 * estimated position in the tick, then the lower number. */
static inline int ahead(size_t a, size_t b, const uint32_t *pos, const uint32_t *cnt, const uint8_t *first)
{
    int fa = first && first[a], fb = first && first[b];
    if (fa != fb) return fa;
    uint64_t ka = (2ull * pos[a] + 1) * cnt[b], kb = (2ull * pos[b] + 1) * cnt[a];
    return ka < kb || (ka == kb && a < b);
}

static int push_cp(ms_tieplan *p, size_t npicks, uint64_t excl, const ms_tie_ev *e, uint8_t chosen,
                   const uint32_t *pos, size_t ns)
{
    if (p->ncp == p->capcp) {
        size_t cap = p->capcp ? p->capcp * 2 : 64;
        cpoint *c = realloc(p->cp, cap * sizeof *c);
        if (!c) return MS_ENOMEM;
        p->cp = c; p->capcp = cap;
    }
    if ((p->ncp + 1) * ns > p->capsnap) {
        size_t cap = p->capsnap ? p->capsnap * 2 : 64 * ns;
        while (cap < (p->ncp + 1) * ns) cap *= 2;
        uint32_t *s = realloc(p->snap, cap * sizeof *s);
        if (!s) return MS_ENOMEM;
        p->snap = s; p->capsnap = cap;
    }
    cpoint *c = &p->cp[p->ncp];
    c->npicks = (uint32_t)npicks; c->njr = (uint32_t)p->njr; c->excl = excl;
    c->na = e->na; c->a[0] = e->a[0]; c->a[1] = e->a[1]; c->chosen = chosen;
    memcpy(p->snap + p->ncp * ns, pos, ns * sizeof *pos);
    p->ncp++;
    return 0;
}

/* The heuristic search; returns the number of
 * forced events (0: every event fitted) or a negative error. The state
 * table is left as the picks leave it; the journal holds every change. */
static long run_once(ms_tieplan *p, uint32_t *picks, const ms_tie_ev *ev, const uint32_t *cnt,
                     const uint8_t *first, size_t ns, size_t n, const uint32_t *off)
{
    uint32_t pos[64];
    for (size_t s = 0; s < ns; s++) pos[s] = 0;
    p->njr = 0; p->ncp = 0;
    size_t npicks = 0, excl_at = SIZE_MAX;
    uint64_t excl = 0, steps = 0, budget = 64ull * n + 1024;
    long forced = 0;
    int e;
    while (npicks < n) {
        int search = ++steps <= budget;
        uint64_t ex = npicks == excl_at ? excl : 0;
        size_t best = SIZE_MAX, nfit = 0;
        for (size_t s = 0; s < ns; s++) {
            if (pos[s] >= cnt[s] || ((ex >> s) & 1) || !fits(p, &ev[off[s] + pos[s]])) continue;
            nfit++;
            if (best == SIZE_MAX || ahead(s, best, pos, cnt, first)) best = s;
        }
        if (best == SIZE_MAX && search) {
            /* stuck: back to the latest choice on an address a head waits for */
            size_t k = p->ncp;
            while (k-- > 0) {
                const cpoint *c = &p->cp[k];
                int hit = 0;
                for (size_t s = 0; s < ns && !hit; s++) {
                    if (pos[s] >= cnt[s]) continue;
                    const ms_tie_ev *h = &ev[off[s] + pos[s]];
                    for (int x = 0; x < h->na && !hit; x++)
                        for (int y = 0; y < c->na; y++) if (h->a[x] == c->a[y]) { hit = 1; break; }
                }
                if (hit) break;
            }
            if (k != SIZE_MAX) {
                const cpoint *c = &p->cp[k];
                undo_to(p, c->njr);
                npicks = c->npicks;
                memcpy(pos, p->snap + k * ns, ns * sizeof *pos);
                excl_at = npicks; excl = c->excl | (1ull << c->chosen);
                p->ncp = k;
                p->st.backjumps++;
                continue;
            }
        }
        if (best == SIZE_MAX) {
            /* nothing explains the dead end: a fitting excluded head, else
             * the earliest head, goes first */
            for (size_t s = 0; s < ns; s++) {
                if (pos[s] >= cnt[s]) continue;
                if (!fits(p, &ev[off[s] + pos[s]])) continue;
                if (best == SIZE_MAX || ahead(s, best, pos, cnt, first)) best = s;
            }
            if (best == SIZE_MAX) {
                for (size_t s = 0; s < ns; s++)
                    if (pos[s] < cnt[s] && (best == SIZE_MAX || ahead(s, best, pos, cnt, first))) best = s;
                forced++;
            }
        } else if (search && nfit > 1 && shared(p, &ev[off[best] + pos[best]])) {
            if ((e = push_cp(p, npicks, ex, &ev[off[best] + pos[best]], (uint8_t)best, pos, ns))) return e;
        }
        if ((e = apply(p, &ev[off[best] + pos[best]]))) return e;
        picks[npicks++] = (uint32_t)best;
        pos[best]++;
    }
    return forced;
}

/* The memo slot holding key k (odd, never 0), else the empty slot where
 * it would go (linear probing; the memo is never full: at most half). */
static inline size_t memo_slot(const uint64_t *memo, size_t mcap, uint64_t k)
{
    size_t j = (size_t)(k * 0x9E3779B97F4A7C15ull >> 20) & (mcap - 1);
    while (memo[j] && memo[j] != k) j = (j + 1) & (mcap - 1);
    return j;
}

/* Exact search, when the heuristic one ends in forced events: depth-first
 * over the streams' positions, the fitting heads tried in the heuristic's
 * order, with a memo of positions from which no order completes (the
 * state of every address is a function of the positions, so a position
 * vector that failed once fails again). Measured on producer/consumer
 * traces with 131 us ticks: every group of up to ~750 events solved in at
 * most ~82,000 nodes where the heuristic forced up to 66 events. The
 * order of the heads matters: the heuristic's first, then the lowest
 * stream number first, then the highest (on one such trace the first
 * needed more than 600,000 nodes where the second took a few thousand).
 * Bounded by `budget` heads checked, taken from *credit; returns 0 (picks
 * filled), -1 (no order found within the budget or none exists), or a
 * negative error. */
static long exact(ms_tieplan *p, uint32_t *picks, const ms_tie_ev *ev, const uint32_t *cnt,
                  const uint8_t *first, size_t ns, size_t n, const uint32_t *off, uint64_t budget,
                  int order, uint64_t *credit)
{
    uint32_t pos[64];
    uint64_t mul[64], key = 0, nodes = 0;
    for (size_t s = 0; s < ns; s++) {
        uint64_t z = (uint64_t)(s + 1) * 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        mul[s] = (z ^ (z >> 31)) | 1;
        pos[s] = 0;
    }
    size_t mcap = 1024;
    while (mcap < 2 * (budget / ns) && mcap < ((size_t)1 << 22)) mcap *= 2;   /* ~2 slots a node */
    /* one memo for every call (cleared slot by slot): a fresh 32 MB one
     * per call cost more than the search on small groups */
    if (mcap > p->memocap) {
        free(p->memo); free(p->mslot);
        p->memo = calloc(mcap, sizeof *p->memo);
        p->mslot = malloc((mcap / 2 + 1) * sizeof *p->mslot);
        p->memocap = p->memo && p->mslot ? mcap : 0;
        if (!p->memocap) { free(p->memo); free(p->mslot); p->memo = NULL; p->mslot = NULL; return MS_ENOMEM; }
    }
    uint64_t *memo = p->memo;
    uint64_t *tried = malloc((n + 1) * sizeof *tried);
    uint32_t *jmark = malloc((n + 1) * sizeof *jmark);
    long rc = -1;
    size_t mused = 0, d = 0;
    if (!tried || !jmark) { rc = MS_ENOMEM; goto out; }
    tried[0] = 0;
    for (;;) {
        if (d == n) { rc = 0; break; }
        size_t best = SIZE_MAX;
        for (size_t s = 0; s < ns; s++) {
            if (pos[s] >= cnt[s] || ((tried[d] >> s) & 1) || !fits(p, &ev[off[s] + pos[s]])) continue;
            if (best == SIZE_MAX || (order == 0 ? ahead(s, best, pos, cnt, first) : order == 2)) best = s;
        }
        if (best != SIZE_MAX) {
            if ((nodes += ns) > budget) break;   /* work: heads checked per node */
            tried[d] |= 1ull << best;
            jmark[d] = (uint32_t)p->njr;
            int e = apply(p, &ev[off[best] + pos[best]]);
            if (e) { rc = e; break; }
            picks[d] = (uint32_t)best;
            pos[best]++;
            key += mul[best];
            if (!memo[memo_slot(memo, mcap, key | 1)]) { tried[++d] = 0; continue; }
            /* a known dead end: undo the move, try the next head */
            pos[best]--;
            key -= mul[best];
            undo_to(p, jmark[d]);
            continue;
        }
        /* every head at this position fails: remember it, step back */
        if (mused * 2 < mcap) {
            size_t j = memo_slot(memo, mcap, key | 1);
            if (!memo[j]) { memo[j] = key | 1; p->mslot[mused++] = (uint32_t)j; }
        }
        if (d == 0) break;
        d--;
        size_t s = picks[d];
        pos[s]--;
        key -= mul[s];
        undo_to(p, jmark[d]);
    }
out:
    *credit -= nodes < *credit ? nodes : *credit;
    while (mused > 0) memo[p->mslot[--mused]] = 0;
    free(tried); free(jmark);
    return rc;
}

int ms_tieplan_run(ms_tieplan *p, uint32_t *picks, const ms_tie_ev *ev, const uint32_t *cnt,
                   const uint8_t *first, size_t ns, ms_tie_live_fn live, void *ctx)
{
    uint32_t off[64];
    size_t n = 0;
    if (ns > 64) return MS_EINVAL;
    for (size_t s = 0; s < ns; s++) { off[s] = (uint32_t)n; n += cnt[s]; }
    int e = build(p, ev, cnt, ns, n, live, ctx);
    if (e) return e;
    p->st.groups++;
    /* the exact search's allowance, counted in heads checked (a node of
     * the search checks every stream's head): 4 M plus 256 per event
     * planned, so a file's planning time stays linear in its events
     * whatever the number of threads (the hard 4-thread producer/consumer
     * traces used at most 2.6 M nodes in 80,000 events; a fuzzed one took
     * 1.4 s with a larger allowance, 0.26 s with this one) */
    if (p->st.groups == 1) p->credit = (4u << 20) >> TP_CREDIT_SHIFT;
    p->credit += (256ull * n) >> TP_CREDIT_SHIFT;
    long f = run_once(p, picks, ev, cnt, first, ns, n, off);
    if (f <= 0) return (int)f;
    /* forced events: the exact search, keeping the heuristic's order when
     * it finds none (a free of a block allocated before a window has no
     * fitting place at all) */
    uint32_t *keep = malloc(n * sizeof *keep);
    if (!keep) return MS_ENOMEM;
    memcpy(keep, picks, n * sizeof *keep);
    long r = -1;
    for (uint64_t mult = 16; mult <= 1024 && r == -1; mult *= 8)
        for (int order = 0; order < 3 && r == -1; order++) {
            uint64_t b = mult * ns * (n + 256);
            if (b > p->credit) b = p->credit;
            if (!b) break;
            undo_to(p, 0);
            r = exact(p, picks, ev, cnt, first, ns, n, off, b, order, &p->credit);
        }
    if (r < -1) { free(keep); return (int)r; }
    if (r == 0) p->st.exact++;
    else {
        memcpy(picks, keep, n * sizeof *keep);
        p->st.forced += (uint64_t)f;
    }
    free(keep);
    return 0;
}
