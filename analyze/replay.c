/*
 * K-way merge of per-thread heap event streams (see replay.h for the
 * ordering contract). Events are copied into one growable queue per stream;
 * at a barrier the queues' ready prefixes (time < barrier) are merged with
 * a binary heap keyed by (time, stream number). A stream keeps the floor
 * while its next event is strictly older than every other head, so runs of
 * one thread cost no heap operations; equal times go through the tie rule.
 *
 * Only streams that hold buffers are visited at a barrier (the `listed`
 * array), so a trace with many threads and many barriers costs O(events),
 * not O(threads x barriers); a stream that stays empty for a whole window
 * gives its buffers back, so finished threads cost nothing (a trace of
 * 200 000 short threads once kept 4 KiB of buffers per thread).
 */
#include "replay.h"
#include <stdlib.h>
#include <string.h>
#include "tieplan.h"

/* Buffered events are packed (replay.h): a stream holds every event of a
 * SYNC window (~16 K with a SYNC per recorder epoch, hundreds of thousands
 * in older traces), so this halves the memory and the
 * bytes written and read back per event. Whole events (full entries, and
 * events of another tid than the stream's, as labels) sit in the stream's
 * side array; a full entry's size is its absolute side index. */
typedef ms_replay_packed cev;

typedef struct stream {
    uint64_t tid;
    cev *ev;
    size_t head, n, cap;
    size_t ready;                     /* events [head, ready) deliverable   */
    ms_event *side;                   /* whole events, see cev              */
    size_t nside, cap_side;
    uint64_t side_base;               /* absolute index of side[0]          */
    uint8_t listed;                   /* in ms_replay.listed                */
    uint8_t fresh;                    /* pushed to since the last barrier   */
    uint8_t opened;                   /* ms_replay_open_stream: labels      */
} stream;

struct ms_replay {
    ms_replay_event_fn deliver;
    ms_replay_fits_fn fits;
    ms_replay_prefetch_fn prefetch;
    void *ctx;
    stream *st; size_t nst, cap_st;
    /* tid -> stream index (open addressing; slot value index+1) */
    uint64_t *tkey; uint32_t *tval; size_t tcap;
    uint64_t last_tid; size_t last_idx; int have_last;
    uint32_t *heap; size_t nheap;     /* stream indices                     */
    uint32_t *listed; size_t nlisted; /* streams holding buffers            */
    uint32_t *tied;
    /* tie groups (tieplan.h) */
    ms_tieplan *tp;
    ms_tie_ev *tev; uint32_t *tpick; size_t cap_tev;
    uint64_t barrier;                 /* last barrier time                  */
    uint64_t buffered;
    ms_replay_stats stats;
};

int ms_replay_new(ms_replay **out, ms_replay_event_fn deliver, ms_replay_fits_fn fits, void *ctx)
{
    ms_replay *r = calloc(1, sizeof *r);
    if (!r) return *out = NULL, MS_ENOMEM;
    r->deliver = deliver; r->fits = fits; r->ctx = ctx;
    *out = r;
    return 0;
}

void ms_replay_set_prefetch(ms_replay *r, ms_replay_prefetch_fn fn) { r->prefetch = fn; }

/* Look-ahead of the prefetch hint: the event PF_FAR places ahead has its
 * first stage announced, the one PF_NEAR places ahead its second. */
#define PF_FAR 16
#define PF_NEAR 6
static inline void hint(const ms_replay *r, const cev *p, const cev *l)
{
    if (l - p > PF_FAR) r->prefetch(r->ctx, p[PF_FAR].addr, p[PF_NEAR].addr);
    else if (l - p > PF_NEAR) r->prefetch(r->ctx, 0, p[PF_NEAR].addr);
}

void ms_replay_free(ms_replay *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nst; i++) { free(r->st[i].ev); free(r->st[i].side); }
    free(r->st); free(r->tkey); free(r->tval); free(r->heap); free(r->tied); free(r->listed);
    free(r->tev); free(r->tpick); ms_tieplan_free(r->tp);
    free(r);
}

static uint64_t hash_tid(uint64_t x)
{
    x ^= x >> 31; x *= 0x9e3779b97f4a7c15ull; x ^= x >> 29;
    return x;
}

static int new_stream(ms_replay *r, uint64_t tid)
{
    if (r->nst >= UINT32_MAX - 1) return MS_ELIMIT;
    if (r->nst == r->cap_st) {
        size_t cap = r->cap_st ? r->cap_st * 2 : 16;
        stream *s = realloc(r->st, cap * sizeof *s);
        if (!s) return MS_ENOMEM;
        r->st = s;
        uint32_t *h = realloc(r->heap, cap * sizeof *h);
        if (!h) return MS_ENOMEM;
        r->heap = h;
        uint32_t *t = realloc(r->tied, cap * sizeof *t);
        if (!t) return MS_ENOMEM;
        r->tied = t;
        uint32_t *l = realloc(r->listed, cap * sizeof *l);
        if (!l) return MS_ENOMEM;
        r->listed = l;
        r->cap_st = cap;
    }
    memset(&r->st[r->nst], 0, sizeof r->st[0]);
    r->st[r->nst].tid = tid;
    r->stats.streams++;
    return (int)r->nst++;
}

int ms_replay_open_stream(ms_replay *r)
{
    int s = new_stream(r, 0);
    if (s >= 0) r->st[s].opened = 1;
    return s;
}

static int stream_of(ms_replay *r, uint64_t tid, size_t *idx)
{
    if (r->have_last && r->last_tid == tid) { *idx = r->last_idx; return 0; }
    if ((r->stats.streams + 1) * 2 > r->tcap) {
        size_t cap = r->tcap ? r->tcap * 2 : 64;
        uint64_t *k = calloc(cap, sizeof *k);
        uint32_t *v = calloc(cap, sizeof *v);
        if (!k || !v) { free(k); free(v); return MS_ENOMEM; }
        for (size_t i = 0; i < r->tcap; i++) {
            if (!r->tval[i]) continue;
            size_t j = hash_tid(r->tkey[i]) & (cap - 1);
            while (v[j]) j = (j + 1) & (cap - 1);
            k[j] = r->tkey[i]; v[j] = r->tval[i];
        }
        free(r->tkey); free(r->tval);
        r->tkey = k; r->tval = v; r->tcap = cap;
    }
    size_t j = hash_tid(tid) & (r->tcap - 1);
    while (r->tval[j]) {
        if (r->tkey[j] == tid) goto found;
        j = (j + 1) & (r->tcap - 1);
    }
    int s = new_stream(r, tid);
    if (s < 0) return s;
    r->tkey[j] = tid; r->tval[j] = (uint32_t)s + 1;
found:
    r->last_tid = tid; r->last_idx = r->tval[j] - 1; r->have_last = 1;
    *idx = r->last_idx;
    return 0;
}

static inline void unpack(ms_event *out, const stream *s, const cev *c)
{
    if (c->full) { *out = s->side[c->size - s->side_base]; return; }
    out->time = c->time; out->tid = s->tid; out->addr = c->addr; out->size = c->size;
    out->old_addr = 0; out->stack = c->stack; out->align = 0; out->op = c->op;
}

/* Drop the delivered prefix [0, head) of s (and the side entries only it
 * used). */
static void compact(stream *s)
{
    size_t keep = s->n - s->head;
    if (keep) memmove(s->ev, s->ev + s->head, keep * sizeof *s->ev);
    s->n = keep; s->ready -= s->head; s->head = 0;
    uint64_t first = s->side_base + s->nside;         /* first side entry in use */
    for (size_t i = 0; i < keep; i++) if (s->ev[i].full) { first = s->ev[i].size; break; }
    size_t drop = (size_t)(first - s->side_base);
    if (drop) {
        memmove(s->side, s->side + drop, (s->nside - drop) * sizeof *s->side);
        s->nside -= drop; s->side_base = first;
    }
}

/* Room for n more events in stream s of r (listing it). */
static int reserve(ms_replay *r, stream *s, size_t n)
{
    s->fresh = 1;
    if (!s->listed) { s->listed = 1; r->listed[r->nlisted++] = (uint32_t)(s - r->st); }
    if (s->n + n <= s->cap) return 0;
    if (s->head > 0 && s->head * 2 >= s->n) compact(s);
    if (s->n + n <= s->cap) return 0;
    size_t cap = s->cap ? s->cap * 2 : 8;
    while (cap < s->n + n) cap *= 2;
    cev *e = realloc(s->ev, cap * sizeof *e);
    if (!e) return MS_ENOMEM;
    s->ev = e; s->cap = cap;
    return 0;
}

static inline int store(stream *s, cev *c, const ms_event *ev)
{
    if (ms_replay_pack(c, ev) && ev->tid == s->tid) return 0;
    if (s->nside == s->cap_side) {
        size_t cap = s->cap_side ? s->cap_side * 2 : 8;
        ms_event *n = realloc(s->side, cap * sizeof *n);
        if (!n) return MS_ENOMEM;
        s->side = n; s->cap_side = cap;
    }
    c->size = s->side_base + s->nside; c->stack = 0; c->full = 1;
    s->side[s->nside++] = *ev;
    return 0;
}

static inline void pushed(ms_replay *r, size_t n, uint64_t late)
{
    r->stats.pushed += n;
    r->stats.late += late;
    r->buffered += n;
    if (r->buffered > r->stats.max_buffered) r->stats.max_buffered = r->buffered;
}

/* n events into stream s (of their tid, or an opened stream). */
static int push_run(ms_replay *r, stream *s, const ms_event *ev, size_t n)
{
    if (reserve(r, s, n)) return MS_ENOMEM;
    cev *c = s->ev + s->n;
    uint64_t late = 0, lim = r->stats.syncs ? r->barrier : 0;
    for (size_t i = 0; i < n; i++) {
        if (store(s, c + i, ev + i)) { s->n += i; return MS_ENOMEM; }
        late += ev[i].time < lim;
    }
    s->n += n;
    pushed(r, n, late);
    return 0;
}

int ms_replay_push_packed(ms_replay *r, uint64_t tid, const ms_replay_packed *ev, size_t n,
                          const ms_event *side)
{
    size_t si;
    int e = stream_of(r, tid, &si);
    if (e) return e;
    stream *s = &r->st[si];
    if (reserve(r, s, n)) return MS_ENOMEM;
    cev *c = s->ev + s->n;
    uint64_t late = 0, lim = r->stats.syncs ? r->barrier : 0;
    memcpy(c, ev, n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].full && store(s, c + i, &side[ev[i].size])) { s->n += i; return MS_ENOMEM; }
        late += ev[i].time < lim;
    }
    s->n += n;
    pushed(r, n, late);
    return 0;
}

int ms_replay_push(ms_replay *r, const ms_event *ev)
{
    size_t i;
    int e = stream_of(r, ev->tid, &i);
    if (e) return e;
    return push_run(r, &r->st[i], ev, 1);
}

int ms_replay_push_stream(ms_replay *r, int stream, const ms_event *ev)
{
    if (stream < 0 || (size_t)stream >= r->nst) return MS_EINVAL;
    return push_run(r, &r->st[stream], ev, 1);
}

/* heap order: (head time, stream index) */
static inline int before(const ms_replay *r, uint32_t a, uint32_t b)
{
    uint64_t ta = r->st[a].ev[r->st[a].head].time, tb = r->st[b].ev[r->st[b].head].time;
    return ta < tb || (ta == tb && a < b);
}

static void heap_push(ms_replay *r, uint32_t s)
{
    size_t i = r->nheap++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(r, s, r->heap[p])) break;
        r->heap[i] = r->heap[p];
        i = p;
    }
    r->heap[i] = s;
}

static uint32_t heap_pop(ms_replay *r)
{
    uint32_t top = r->heap[0];
    uint32_t last = r->heap[--r->nheap];
    size_t i = 0, n = r->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(r, r->heap[c + 1], r->heap[c])) c++;
        if (!before(r, r->heap[c], last)) break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (n) r->heap[i] = last;
    return top;
}

static inline uint64_t head_time(const ms_replay *r, uint32_t s)
{
    return r->st[s].ev[r->st[s].head].time;
}

/* Deliver the head of stream s and advance. */
static inline int take(ms_replay *r, uint32_t s)
{
    stream *st = &r->st[s];
    ms_event ev;
    unpack(&ev, st, &st->ev[st->head++]);
    r->buffered--;
    r->stats.delivered++;
    return r->deliver(r->ctx, &ev, s);
}

/* What an event needs of the per-address state and leaves (tieplan.h);
 * the same rules as the caller's `fits` (replay.h). */
static void tie_ev(ms_tie_ev *t, const ms_event *ev, int opened)
{
    t->na = t->need = t->after = 0;
#define ADD(addr, nd, af) do { t->a[t->na] = (addr); t->need |= (uint8_t)((nd) << t->na); \
        t->after |= (uint8_t)((af) << t->na); t->na++; } while (0)
    if (opened) { if (ev->addr) ADD(ev->addr, 1, 1); }
    else if (MS_OP_IS_FREE(ev->op)) { if (ev->addr) ADD(ev->addr, 1, 0); }
    else if (MS_OP_IS_REALLOC(ev->op)) {
        int frees_old = ev->old_addr && (ev->addr || !ev->size);
        if (frees_old && ev->addr == ev->old_addr) ADD(ev->addr, 1, 1);
        else {
            if (frees_old) ADD(ev->old_addr, 1, 0);
            if (ev->addr) ADD(ev->addr, 0, 1);
        }
    } else if (ev->addr) ADD(ev->addr, 0, 1);
#undef ADD
}

static int live_probe(void *ctx, uint64_t addr)
{
    const ms_replay *r = ctx;
    ms_event ev;
    memset(&ev, 0, sizeof ev);
    ev.op = MS_OP_FREE; ev.addr = addr;
    return r->fits(r->ctx, &ev);
}

/* Deliver a tie group: streams ids[0..nt) (nt <= 64) each with its events
 * [beg[i], end[i]) of one time, in the order the planner finds. */
static int deliver_group(ms_replay *r, const uint32_t *ids, const cev *const *beg, const cev *const *end,
                         size_t nt)
{
    size_t n = 0;
    uint32_t cnt[64];
    uint8_t first[64];
    for (size_t i = 0; i < nt; i++) { cnt[i] = (uint32_t)(end[i] - beg[i]); n += cnt[i]; }
    int e;
    if (!r->tp && (e = ms_tieplan_new(&r->tp))) return e;
    if (n > r->cap_tev) {
        size_t cap = r->cap_tev ? r->cap_tev : 64;
        while (cap < n) cap *= 2;
        ms_tie_ev *t = realloc(r->tev, cap * sizeof *t);
        if (!t) return MS_ENOMEM;
        r->tev = t;
        uint32_t *k = realloc(r->tpick, cap * sizeof *k);
        if (!k) return MS_ENOMEM;
        r->tpick = k; r->cap_tev = cap;
    }
    ms_event ev;
    size_t k = 0;
    for (size_t i = 0; i < nt; i++) {
        const stream *q = &r->st[ids[i]];
        first[i] = q->opened;
        for (const cev *c = beg[i]; c < end[i]; c++) { unpack(&ev, q, c); tie_ev(&r->tev[k++], &ev, q->opened); }
    }
    if ((e = ms_tieplan_run(r->tp, r->tpick, r->tev, cnt, first, nt, live_probe, r))) return e;
    const cev *cur[64];
    for (size_t i = 0; i < nt; i++) cur[i] = beg[i];
    r->stats.ties += n;
    for (size_t j = 0; j < n; j++) {
        uint32_t i = r->tpick[j];
        unpack(&ev, &r->st[ids[i]], cur[i]++);
        if ((e = r->deliver(r->ctx, &ev, ids[i])) < 0) return e;
    }
    return 0;
}

/* The group at time t among streams ids[0..nt) whose heads are at cur[]
 * (ready up to lim[]): at most 64 streams, their events of time t.
 * Advances cur[]. */
static int tie_at(ms_replay *r, uint64_t t, const uint32_t *ids, const cev **cur, const cev *const *lim, size_t nt)
{
    uint32_t gid[64];
    const cev *gb[64], *ge[64];
    size_t gi[64], ng = 0;
    for (size_t i = 0; i < nt && ng < 64; i++) {
        if (cur[i] >= lim[i] || cur[i]->time != t) continue;
        const cev *p = cur[i];
        while (p < lim[i] && p->time == t) p++;
        size_t j = ng++;                  /* sorted by stream number */
        for (; j > 0 && gid[j - 1] > ids[i]; j--) {
            gid[j] = gid[j - 1]; gb[j] = gb[j - 1]; ge[j] = ge[j - 1]; gi[j] = gi[j - 1];
        }
        gid[j] = ids[i]; gb[j] = cur[i]; ge[j] = p; gi[j] = i;
    }
    int e = deliver_group(r, gid, gb, ge, ng);
    for (size_t j = 0; j < ng; j++) cur[gi[j]] = ge[j];
    return e;
}

/* Few streams: a linear scan for the oldest and second-oldest head beats
 * heap maintenance. act[] holds the streams with ready events. */
static int merge_scan(ms_replay *r, uint32_t *act, size_t na)
{
    const cev *cur[16], *lim[16];
    ms_event ev;
    for (size_t i = 0; i < na; i++) {
        stream *q = &r->st[act[i]];
        cur[i] = q->ev + q->head;
        lim[i] = q->ev + q->ready;
    }
    uint64_t taken = 0;
    int e = 0;
    while (na) {
        size_t bi = 0;
        uint64_t bt = cur[0]->time, st = UINT64_MAX;
        for (size_t i = 1; i < na; i++) {
            uint64_t t = cur[i]->time;
            if (t < bt || (t == bt && act[i] < act[bi])) { st = bt; bt = t; bi = i; }
            else if (t < st) st = t;
        }
        if (st == bt) {
            const cev *before[16];
            memcpy(before, cur, na * sizeof *cur);
            e = tie_at(r, bt, act, cur, lim, na);
            for (size_t i = 0; i < na; i++) taken += (uint64_t)(cur[i] - before[i]);
            if (e < 0) break;
            for (size_t i = 0; i < na;) {
                if (cur[i] < lim[i]) { i++; continue; }
                r->st[act[i]].head = r->st[act[i]].ready;
                --na;
                act[i] = act[na]; cur[i] = cur[na]; lim[i] = lim[na];
            }
            continue;
        } else {
            /* run: this stream stays strictly first until st */
            uint32_t s = act[bi];
            const stream *q = &r->st[s];
            const cev *p = cur[bi], *l = lim[bi];
            do {
                taken++;
                if (r->prefetch) hint(r, p, l);
                unpack(&ev, q, p++);
                if ((e = r->deliver(r->ctx, &ev, s)) < 0) break;
            } while (p < l && p->time < st);
            cur[bi] = p;
            if (e < 0) break;
        }
        if (cur[bi] >= lim[bi]) {
            r->st[act[bi]].head = r->st[act[bi]].ready;
            --na;
            act[bi] = act[na]; cur[bi] = cur[na]; lim[bi] = lim[na];
        }
    }
    for (size_t i = 0; i < na; i++) r->st[act[i]].head = (size_t)(cur[i] - r->st[act[i]].ev);
    r->buffered -= taken;
    r->stats.delivered += taken;
    return e;
}

static int merge(ms_replay *r, uint64_t limit, int all)
{
    r->nheap = 0;
    size_t nready = 0; uint32_t only = 0;
    for (size_t li = 0; li < r->nlisted; li++) {
        uint32_t i = r->listed[li];
        stream *s = &r->st[i];
        size_t k = s->head;
        /* a thread's times do not decrease: when its newest event is
         * older than the barrier, all of it is ready */
        if (all || (s->n > k && s->ev[s->n - 1].time < limit)) k = s->n;
        else while (k < s->n && s->ev[k].time < limit) k++;
        s->ready = k;
        if (k > s->head) { nready++; only = i; }
    }
    int e = 0;
    if (nready == 1) {                /* one stream: no merge needed        */
        stream *s = &r->st[only];
        const cev *p = s->ev + s->head, *l = s->ev + s->ready;
        ms_event ev;
        while (p < l) {
            if (r->prefetch) hint(r, p, l);
            unpack(&ev, s, p++);
            if ((e = r->deliver(r->ctx, &ev, only)) < 0) break;
        }
        size_t k = (size_t)(p - (s->ev + s->head));
        s->head += k;
        r->buffered -= k;
        r->stats.delivered += k;
        if (e < 0) return e;
    } else if (nready > 1 && nready <= 16) {
        size_t na = 0;
        for (size_t li = 0; li < r->nlisted; li++)
            if (r->st[r->listed[li]].ready > r->st[r->listed[li]].head) r->tied[na++] = r->listed[li];
        if ((e = merge_scan(r, r->tied, na)) < 0) return e;
    } else if (nready > 1) {
        for (size_t li = 0; li < r->nlisted; li++)
            if (r->st[r->listed[li]].ready > r->st[r->listed[li]].head) heap_push(r, r->listed[li]);
        while (r->nheap) {
            uint32_t s = heap_pop(r);
            if (r->nheap && head_time(r, r->heap[0]) == head_time(r, s)) {
                /* tie: plan the group of this time (up to 64 streams) */
                uint64_t t = head_time(r, s);
                size_t nt = 0;
                r->tied[nt++] = s;
                while (r->nheap && nt < 64 && head_time(r, r->heap[0]) == t) r->tied[nt++] = heap_pop(r);
                const cev *cur[64], *lim[64], *before[64];
                for (size_t i = 0; i < nt; i++) {
                    stream *q = &r->st[r->tied[i]];
                    before[i] = cur[i] = q->ev + q->head;
                    lim[i] = q->ev + q->ready;
                }
                e = tie_at(r, t, r->tied, cur, lim, nt);
                for (size_t i = 0; i < nt; i++) {
                    stream *q = &r->st[r->tied[i]];
                    size_t k = (size_t)(cur[i] - before[i]);
                    q->head += k;
                    r->buffered -= k;
                    r->stats.delivered += k;
                }
                if (e < 0) return e;
                for (size_t i = 0; i < nt; i++)
                    if (r->st[r->tied[i]].head < r->st[r->tied[i]].ready) heap_push(r, r->tied[i]);
                continue;
            }
            /* run: keep taking from s while it stays strictly first */
            stream *st = &r->st[s];
            for (;;) {
                if ((e = take(r, s)) < 0) return e;
                if (st->head >= st->ready) break;
                if (r->nheap && st->ev[st->head].time >= head_time(r, r->heap[0])) {
                    heap_push(r, s);
                    break;
                }
            }
        }
    }
    /* compact: drop delivered prefixes; a stream drained and idle since
     * the last barrier (or at the end) gives its buffers back */
    for (size_t li = 0; li < r->nlisted;) {
        stream *s = &r->st[r->listed[li]];
        if (s->head == s->n) { s->head = s->n = 0; s->side_base += s->nside; s->nside = 0; }
        else if (s->head > 0 && s->head * 2 >= s->n) { s->ready = s->head; compact(s); }
        s->ready = s->head;
        if (s->n == 0 && (!s->fresh || all)) {
            free(s->ev); free(s->side);
            s->ev = NULL; s->side = NULL; s->cap = s->cap_side = 0;
            s->listed = 0;
            r->listed[li] = r->listed[--r->nlisted];
            continue;
        }
        s->fresh = 0;
        li++;
    }
    return 0;
}

int ms_replay_sync(ms_replay *r, uint64_t t)
{
    r->stats.syncs++;
    if (t > r->barrier) r->barrier = t;
    return merge(r, t, 0);
}

int ms_replay_flush(ms_replay *r)
{
    return merge(r, 0, 1);
}

uint64_t ms_replay_stream_tid(const ms_replay *r, uint32_t stream)
{
    return stream < r->nst ? r->st[stream].tid : 0;
}

void ms_replay_get_stats(ms_replay_stats *out, const ms_replay *r)
{
    *out = r->stats;
}
