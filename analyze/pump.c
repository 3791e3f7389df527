/*
 * Record pump (pump.h): the heap loaders' read loop, split over two
 * threads. Decoding a trace and replaying it cost about the same, so on a
 * machine with two cores the reader (this thread) fills batches of packed
 * events (replay.h: 32 bytes each, runs of one thread) and copied records
 * while a consumer thread replays the previous batches; a batch changes
 * hands under one mutex, a few thousand times per 10 M events. Records
 * are copied into the batch with what they point to (stack nodes, symbol
 * frames, module paths and segments, live blocks, names), so the reader
 * never waits for the consumer because of them: a trace with a STACK
 * record before every EVENTS chunk (cc1 -O2: ~16 000) used to hand over
 * and wait once for each, and took three times as long on two threads as
 * on one. The few records left (META, MAPS, snapshot records) end their
 * batch, and the reader waits until the consumer is done with them before
 * reading on, so their pointers stay valid. The
 * single-threaded mode runs the very same batches inline, so both modes
 * deliver identical calls in identical order.
 */
#include "pump.h"
#include "cacheline.h"
#include "heap.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PB_EVENTS 2048                 /* events per batch                   */
#define PB_RUNS 64                     /* runs of one tid per batch          */
#define PB_SIDE 256                    /* unpackable events per batch        */
#define PB_RECORDS 32                  /* other records per batch            */
#define PB_ARENA 65536                 /* bytes of an arena piece, at least  */
#define PB_SLOTS 256                   /* batches in flight, at most         */
#define PB_DEPTH 32                    /* ... while SYNC windows are short   */

typedef struct pitem {
    uint32_t at;                       /* events of the batch before it      */
    ms_record rec;
} pitem;

typedef struct prun {                  /* events [start, end) of thread tid  */
    uint64_t tid;
    uint32_t start, end;
    uint32_t nrec;                     /* records of the batch before it     */
} prun;

/* copies of what the batch's records point to: pieces of PB_ARENA bytes
 * or more (one large record: its own size), the newest first; a reset
 * batch keeps one piece of PB_ARENA bytes for reuse */
typedef struct piece {
    struct piece *next;
    size_t cap, used;
    _Alignas(16) char data[];
} piece;

typedef struct pbatch {
    ms_replay_packed ev[PB_EVENTS];
    uint32_t nev, nrec, nrun, nside;
    int end;                           /* the last batch                     */
    piece *arena;
    prun run[PB_RUNS];                 /* a record also ends a run           */
    ms_event side[PB_SIDE];
    pitem rec[PB_RECORDS];
} pbatch;

typedef struct pump {
    ms_pump_record_fn on_record;
    ms_pump_events_fn on_events;
    void *ctx;
    int threaded;
    pbatch *b[PB_SLOTS];               /* ring of full batches               */
    pbatch *freeb[PB_SLOTS + 1];       /* consumed batches, newest on top    */
    unsigned nfree;
    unsigned head, tail, nfull;        /* ring: consumer head, producer tail */
    unsigned depth;                    /* reader: batches in flight allowed  */
    unsigned wake_at;                  /* wake the reader when nfull < this  */
    uint64_t since_sync;               /* reader: events since the last SYNC */
    int stop, err;                     /* consumer error: stop reading       */
    ms_pump_stats st;
    pthread_mutex_t mu;
    pthread_cond_t cv_full, cv_free;
} pump;

/* Deliver one batch; returns the first callback error. */
static int consume(pump *p, const pbatch *b)
{
    uint32_t r = 0;
    int e = 0;
    for (uint32_t i = 0; i <= b->nrec && !e; i++) {
        uint32_t at = i < b->nrec ? b->rec[i].at : b->nev;
        for (; r < b->nrun && b->run[r].end <= at && !e; r++)
            e = p->on_events(p->ctx, b->run[r].tid, b->ev + b->run[r].start,
                             b->run[r].end - b->run[r].start, b->side);
        if (!e && i < b->nrec) e = p->on_record(p->ctx, &b->rec[i].rec);
    }
    return e;
}

static void *consumer(void *arg)
{
    pump *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->nfull) pthread_cond_wait(&p->cv_full, &p->mu);
        pbatch *b = p->b[p->head];
        int skip = p->stop;
        pthread_mutex_unlock(&p->mu);
        int e = skip ? 0 : consume(p, b);
        int end = b->end;
        /* the reader fills this batch again: let it have the lines */
        ms_cacheline_release(b->ev, b->nev * sizeof b->ev[0]);
        ms_cacheline_release(b->side, b->nside * sizeof b->side[0]);
        pthread_mutex_lock(&p->mu);
        if (e && !p->stop) { p->stop = 1; p->err = e; }
        p->freeb[p->nfree++] = b;
        p->head = (p->head + 1) % PB_SLOTS;
        p->nfull--;
        if (p->nfull < p->wake_at) pthread_cond_signal(&p->cv_free);
        pthread_mutex_unlock(&p->mu);
        if (end) return NULL;
    }
}

static void reset(pbatch *b)
{
    b->nev = b->nrec = b->nrun = b->nside = 0;
    b->end = 0;
    piece *keep = NULL;
    for (piece *k = b->arena, *n; k; k = n) {
        n = k->next;
        if (!keep && k->cap == PB_ARENA) {
            keep = k;
            continue;
        }
        free(k);
    }
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    b->arena = keep;
}

static void batch_free(pbatch *b)
{
    if (!b) return;
    reset(b);
    free(b->arena);
    free(b);
}

static pbatch *batch_new(void)
{
    pbatch *b = malloc(sizeof *b);
    if (b) {
        b->arena = NULL;
        reset(b);
    }
    return b;
}

/* n bytes, 16-aligned, that live as long as the batch's contents; NULL
 * when out of memory */
static void *arena_take(pbatch *b, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    piece *k = b->arena;
    if (!k || k->cap - k->used < n) {
        size_t cap = n > PB_ARENA ? n : PB_ARENA;
        if (!(k = malloc(sizeof *k + cap))) return NULL;
        k->cap = cap;
        k->used = 0;
        k->next = b->arena;
        b->arena = k;
    }
    void *d = k->data + k->used;
    k->used += n;
    return d;
}

/* Append one event; 0, or 1 when the batch is full after it (publish). A
 * run continues while the tid stays the same and no record came between. */
static int add_event(pbatch *b, const ms_event *ev)
{
    prun *r = b->nrun ? &b->run[b->nrun - 1] : NULL;
    if (!r || r->tid != ev->tid || r->nrec != b->nrec) {
        r = &b->run[b->nrun++];
        r->tid = ev->tid;
        r->start = r->end = b->nev;
        r->nrec = b->nrec;
    }
    ms_replay_packed *pk = &b->ev[b->nev++];
    if (!ms_replay_pack(pk, ev)) {
        pk->size = b->nside;
        b->side[b->nside++] = *ev;
    }
    r->end = b->nev;
    return b->nev == PB_EVENTS || b->nrun == PB_RUNS || b->nside == PB_SIDE;
}

/* Hand the current batch over and get an empty one. wait = 1: also wait
 * until the consumer has finished every batch (the last record points into
 * the reader). The consumer works in bursts (the replay delivers a whole
 * SYNC window at once) and meanwhile the reader keeps reading the next
 * window into the ring. PB_DEPTH batches (2 MiB) cover a few windows of a
 * trace with a SYNC per writer epoch (~16 K events each); a deeper ring
 * only lets the reader run further ahead into memory that has left the
 * caches by the time the consumer reads it (~4% of both threads on the
 * bench trace). A trace with longer windows (SYNC only every 50 ms, as
 * older recorders wrote) needs the reader to read on during a whole burst,
 * so the depth goes up to PB_SLOTS once a window outgrows half of it.
 * Batches are allocated the first time the ring gets that deep. Returns
 * the consumer's error, if any. */
static int publish(pump *p, pbatch **cur, int wait)
{
    p->st.batches++;
    if (!p->threaded) {
        int e = p->stop ? 0 : consume(p, *cur);
        if (e && !p->stop) { p->stop = 1; p->err = e; }
        reset(*cur);
        return p->err;
    }
    pthread_mutex_lock(&p->mu);
    p->b[p->tail] = *cur;
    p->tail = (p->tail + 1) % PB_SLOTS;
    p->nfull++;
    pthread_cond_signal(&p->cv_full);
    if (p->nfull >= p->depth) {
        /* full: sleep until half of it is consumed, not one wake-up per
         * batch (those cost a futex call each and, with other processes
         * on the cores, a trip through the scheduler) */
        p->wake_at = p->depth / 2 + 1;
        while (p->nfull >= p->wake_at) pthread_cond_wait(&p->cv_free, &p->mu);
    }
    p->wake_at = 1;
    while (wait && p->nfull) pthread_cond_wait(&p->cv_free, &p->mu);
    p->wake_at = 0;
    int e = p->err;
    int end = (*cur)->end;
    pbatch *n = !end && p->nfree ? p->freeb[--p->nfree] : NULL;
    pthread_mutex_unlock(&p->mu);
    if (end) return e;               /* the last batch: no next one        */
    if (!n && !(n = batch_new())) {
        /* no memory for more look-ahead: wait for a consumed batch */
        pthread_mutex_lock(&p->mu);
        p->wake_at = PB_SLOTS + 1;
        while (!p->nfree) pthread_cond_wait(&p->cv_free, &p->mu);
        p->wake_at = 0;
        n = p->freeb[--p->nfree];
        pthread_mutex_unlock(&p->mu);
    }
    *cur = n;
    reset(*cur);
    return e;
}

/* Copy s into the batch arena (NUL-terminated, as the reader gives it);
 * 0, or -1 when out of memory. */
static int copy_str(pbatch *b, ms_str *s)
{
    if (!s->ptr) return 0;
    char *d = arena_take(b, s->len + 1);
    if (!d) return -1;
    memcpy(d, s->ptr, s->len);
    d[s->len] = 0;
    s->ptr = d;
    return 0;
}

/* Copy n elements of size sz at *p into the arena; 0, or -1. */
static int copy_arr(pbatch *b, const void **p, size_t n, size_t sz)
{
    if (!*p || !n) return 0;
    void *d = arena_take(b, n * sz);
    if (!d) return -1;
    memcpy(d, *p, n * sz);
    *p = d;
    return 0;
}

/* Append rec to the batch as a self-contained copy: 1 done, 0 no room
 * (publish and retry), -1 cannot be copied (hand it over in place). */
static int add_copy(pbatch *b, const ms_record *rec)
{
    switch (rec->type) {
    case MS_REC_THREAD_END: case MS_REC_SAMPLE: case MS_REC_SYNC: case MS_REC_END:
    case MS_REC_PROC_MEM: case MS_REC_MODULE_UNLOAD: case MS_REC_SNAP_END:
    case MS_REC_LABEL: case MS_REC_MARK: case MS_REC_THREAD: case MS_REC_STACK:
    case MS_REC_SYMBOL: case MS_REC_MODULE: case MS_REC_LIVE_BLOCKS:
        break;
    default:
        return -1;
    }
    if (b->nrec == PB_RECORDS) return 0;
    pitem *it = &b->rec[b->nrec];
    it->at = b->nev;
    it->rec = *rec;
    ms_record *c = &it->rec;
    int bad = 0;
    switch (rec->type) {
    case MS_REC_LABEL:
        bad = copy_str(b, &c->u.label.var_name) || copy_str(b, &c->u.label.type_name);
        break;
    case MS_REC_MARK: bad = copy_str(b, &c->u.mark.name); break;
    case MS_REC_THREAD: bad = copy_str(b, &c->u.thread.name); break;
    case MS_REC_STACK:
        bad = copy_arr(b, (const void **)&c->u.stack.nodes, c->u.stack.count,
                       sizeof *c->u.stack.nodes);
        break;
    case MS_REC_LIVE_BLOCKS:
        bad = copy_arr(b, (const void **)&c->u.live_blocks.blocks, c->u.live_blocks.count,
                       sizeof *c->u.live_blocks.blocks);
        break;
    case MS_REC_MODULE:
        bad = copy_str(b, &c->u.module.path) || copy_str(b, &c->u.module.build_id) ||
              copy_arr(b, (const void **)&c->u.module.segments, c->u.module.nsegments,
                       sizeof *c->u.module.segments);
        break;
    case MS_REC_SYMBOL: {
        ms_frame *f = NULL;
        uint32_t n = c->u.symbol.nframes;
        if (c->u.symbol.frames && n && !(f = arena_take(b, (size_t)n * sizeof *f))) {
            bad = 1;
            break;
        }
        for (uint32_t i = 0; i < n && f && !bad; i++) {
            f[i] = c->u.symbol.frames[i];
            bad = copy_str(b, &f[i].function) || copy_str(b, &f[i].file);
        }
        c->u.symbol.frames = f;
        break;
    }
    default:
        break;
    }
    if (bad) return -1;              /* out of memory: hand it over in place */
    b->nrec++;
    return 1;
}

int ms_pump_threads(const ms_reader *r)
{
    const char *env = getenv("MEMSCOPE_THREADS");
    if (env && !strcmp(env, "0")) return 0;
    if (env && !strcmp(env, "1")) return 1;
    ms_integrity in;
    ms_reader_integrity(r, &in);
    return in.file_size >= MS_PUMP_MIN_BYTES;
}

int ms_pump_run(ms_reader *r, ms_pump_record_fn on_record, ms_pump_events_fn on_events, void *ctx)
{
    return ms_pump_run_stats(NULL, r, on_record, on_events, ctx);
}

int ms_pump_run_stats(ms_pump_stats *st, ms_reader *r, ms_pump_record_fn on_record,
                      ms_pump_events_fn on_events, void *ctx)
{
    pump *p = calloc(1, sizeof *p);
    if (!p) return MS_ENOMEM;
    p->on_record = on_record; p->on_events = on_events; p->ctx = ctx;
    p->threaded = ms_pump_threads(r);
    p->depth = PB_DEPTH;
    pbatch *cur = batch_new();
    if (!cur) { free(p); return MS_ENOMEM; }
    pthread_t th;
    if (p->threaded) {
        if (pthread_mutex_init(&p->mu, NULL)) p->threaded = 0;
        else {
            pthread_cond_init(&p->cv_full, NULL);
            pthread_cond_init(&p->cv_free, NULL);
            if (pthread_create(&th, NULL, consumer, p)) {
                pthread_cond_destroy(&p->cv_full); pthread_cond_destroy(&p->cv_free);
                pthread_mutex_destroy(&p->mu);
                p->threaded = 0;
            }
        }
    }
    reset(cur);
    const ms_record *rec;
    uint64_t nrec = 0;
    int e, cerr = 0, prog = ms_heap_progress_enabled();
    while (!cerr && (e = ms_reader_next(r, &rec)) == 1) {
        if (prog) ms_heap_progress(r, &nrec);
        if (rec->type == MS_REC_EVENT) {
            if (++p->since_sync > (uint64_t)PB_DEPTH / 2 * PB_EVENTS) p->depth = PB_SLOTS;
            if (add_event(cur, &rec->u.event)) cerr = publish(p, &cur, 0);
            continue;
        }
        if (rec->type == MS_REC_SYNC) p->since_sync = 0;
        int c = add_copy(cur, rec);
        if (c == 0) {
            if ((cerr = publish(p, &cur, 0))) break;
            c = add_copy(cur, rec);
        }
        if (c < 0) {                  /* in place: wait until it is consumed */
            p->st.in_place++;
            if (cur->nrec == PB_RECORDS && (cerr = publish(p, &cur, 0))) break;
            pitem *it = &cur->rec[cur->nrec++];
            it->at = cur->nev;
            it->rec = *rec;
            cerr = publish(p, &cur, 1);
        }
    }
    if (cerr) e = 0;
    cur->end = 1;
    if (p->threaded) {
        publish(p, &cur, 1);
        pthread_join(th, NULL);
        pthread_cond_destroy(&p->cv_full); pthread_cond_destroy(&p->cv_free);
        pthread_mutex_destroy(&p->mu);
    } else {
        publish(p, &cur, 0);
    }
    int ce = p->err;
    p->st.threaded = p->threaded;
    if (st) *st = p->st;
    if (p->threaded) for (unsigned i = 0; i < p->nfree; i++) batch_free(p->freeb[i]);   /* every batch, cur too */
    else batch_free(cur);
    free(p);
    if (ce) return ce;                /* the consumer failed first in file order */
    return e < 0 ? e : 0;
}
