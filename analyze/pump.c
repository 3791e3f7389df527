/*
 * Record pump (pump.h): the heap loaders' read loop, split over two
 * threads. Decoding a trace and replaying it cost about the same, so on a
 * machine with two cores the reader (this thread) fills batches of packed
 * events (replay.h: 32 bytes each, runs of one thread) and copied records
 * while a consumer thread replays the previous batches; a batch changes
 * hands under one mutex, a few thousand times per 10 M events. Records that point into the reader's buffers and are not
 * worth copying end their batch, and the reader waits until the consumer
 * is done with them before reading on, so those pointers stay valid. The
 * single-threaded mode runs the very same batches inline, so both modes
 * deliver identical calls in identical order.
 */
#include "pump.h"
#include "heap.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PB_EVENTS 2048                 /* events per batch                   */
#define PB_RUNS 64                     /* runs of one tid per batch          */
#define PB_SIDE 256                    /* unpackable events per batch        */
#define PB_RECORDS 32                  /* other records per batch            */
#define PB_ARENA 16384                 /* bytes of copied strings per batch  */
#define PB_SLOTS 256                   /* batches in flight, at most         */
#define PUMP_MIN_BYTES (1u << 20)      /* smaller files: one thread          */

typedef struct pitem {
    uint32_t at;                       /* events of the batch before it      */
    ms_record rec;
} pitem;

typedef struct prun {                  /* events [start, end) of thread tid  */
    uint64_t tid;
    uint32_t start, end;
    uint32_t nrec;                     /* records of the batch before it     */
} prun;

typedef struct pbatch {
    ms_replay_packed ev[PB_EVENTS];
    uint32_t nev, nrec, nrun, nside;
    size_t narena;
    int end;                           /* the last batch                     */
    prun run[PB_RUNS];                 /* a record also ends a run           */
    ms_event side[PB_SIDE];
    pitem rec[PB_RECORDS];
    char arena[PB_ARENA];
} pbatch;

typedef struct pump {
    ms_pump_record_fn on_record;
    ms_pump_events_fn on_events;
    void *ctx;
    int threaded;
    pbatch *b[PB_SLOTS];               /* allocated when first needed        */
    unsigned head, tail, nfull;        /* ring: consumer head, producer tail */
    int stop, err;                     /* consumer error: stop reading       */
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
        pthread_mutex_lock(&p->mu);
        if (e && !p->stop) { p->stop = 1; p->err = e; }
        p->head = (p->head + 1) % PB_SLOTS;
        p->nfull--;
        pthread_cond_signal(&p->cv_free);
        pthread_mutex_unlock(&p->mu);
        if (end) return NULL;
    }
}

static void reset(pbatch *b) { b->nev = b->nrec = b->nrun = b->nside = 0; b->narena = 0; b->end = 0; }

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
 * the reader). The ring is deep (PB_SLOTS) because the consumer works in
 * bursts: the replay delivers a whole SYNC window at once, and meanwhile
 * the reader should keep reading the next window instead of blocking.
 * Batches are allocated the first time the ring gets that deep, so memory
 * follows the SYNC window size, never the event count. Returns the
 * consumer's error, if any. */
static int publish(pump *p, pbatch **cur, int wait)
{
    if (!p->threaded) {
        int e = p->stop ? 0 : consume(p, *cur);
        if (e && !p->stop) { p->stop = 1; p->err = e; }
        reset(*cur);
        return p->err;
    }
    pthread_mutex_lock(&p->mu);
    p->tail = (p->tail + 1) % PB_SLOTS;
    p->nfull++;
    pthread_cond_signal(&p->cv_full);
    while (p->nfull == PB_SLOTS || (wait && p->nfull)) pthread_cond_wait(&p->cv_free, &p->mu);
    int e = p->err;
    pthread_mutex_unlock(&p->mu);
    if ((*cur)->end) return e;       /* the last batch: no next one        */
    if (!p->b[p->tail] && !(p->b[p->tail] = malloc(sizeof *p->b[0]))) {
        /* no memory for more look-ahead: wait for the slot before */
        unsigned prev = (p->tail + PB_SLOTS - 1) % PB_SLOTS;
        pthread_mutex_lock(&p->mu);
        while (p->nfull) pthread_cond_wait(&p->cv_free, &p->mu);
        pthread_mutex_unlock(&p->mu);
        p->b[p->tail] = p->b[prev];
        p->b[prev] = NULL;
    }
    *cur = p->b[p->tail];
    reset(*cur);
    return e;
}

/* Copy s into the batch arena; 0, or -1 when it does not fit. */
static int copy_str(pbatch *b, ms_str *s)
{
    if (!s->ptr) return 0;
    if (s->len >= PB_ARENA - b->narena) return -1;
    char *d = b->arena + b->narena;
    memcpy(d, s->ptr, s->len);
    d[s->len] = 0;
    b->narena += s->len + 1;
    s->ptr = d;
    return 0;
}

/* Append rec to the batch as a self-contained copy: 1 done, 0 no room
 * (publish and retry), -1 cannot be copied (hand it over in place). */
static int add_copy(pbatch *b, const ms_record *rec)
{
    switch (rec->type) {
    case MS_REC_THREAD_END: case MS_REC_SAMPLE: case MS_REC_SYNC: case MS_REC_END:
    case MS_REC_PROC_MEM: case MS_REC_MODULE_UNLOAD: case MS_REC_SNAP_END:
    case MS_REC_LABEL: case MS_REC_MARK: case MS_REC_THREAD:
        break;
    default:
        return -1;
    }
    if (b->nrec == PB_RECORDS) return 0;
    pitem *it = &b->rec[b->nrec];
    size_t mark = b->narena;
    it->at = b->nev;
    it->rec = *rec;
    int bad = 0;
    if (rec->type == MS_REC_LABEL)
        bad = copy_str(b, &it->rec.u.label.var_name) || copy_str(b, &it->rec.u.label.type_name);
    else if (rec->type == MS_REC_MARK)
        bad = copy_str(b, &it->rec.u.mark.name);
    else if (rec->type == MS_REC_THREAD)
        bad = copy_str(b, &it->rec.u.thread.name);
    if (bad) {
        b->narena = mark;
        return b->nrec || b->nev || mark ? 0 : -1;   /* retry in an empty batch */
    }
    b->nrec++;
    return 1;
}

static int use_threads(const ms_reader *r)
{
    const char *env = getenv("MEMSCOPE_THREADS");
    if (env && !strcmp(env, "0")) return 0;
    if (env && !strcmp(env, "1")) return 1;
    ms_integrity in;
    ms_reader_integrity(r, &in);
    return in.file_size >= PUMP_MIN_BYTES;
}

int ms_pump_run(ms_reader *r, ms_pump_record_fn on_record, ms_pump_events_fn on_events, void *ctx)
{
    pump *p = calloc(1, sizeof *p);
    if (!p) return MS_ENOMEM;
    p->on_record = on_record; p->on_events = on_events; p->ctx = ctx;
    p->threaded = use_threads(r);
    if (!(p->b[0] = malloc(sizeof *p->b[0]))) { free(p); return MS_ENOMEM; }
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
    pbatch *cur = p->b[0];
    reset(cur);
    const ms_record *rec;
    uint64_t nrec = 0;
    int e, cerr = 0, prog = ms_heap_progress_enabled();
    while (!cerr && (e = ms_reader_next(r, &rec)) == 1) {
        if (prog) ms_heap_progress(r, &nrec);
        if (rec->type == MS_REC_EVENT) {
            if (add_event(cur, &rec->u.event)) cerr = publish(p, &cur, 0);
            continue;
        }
        int c = add_copy(cur, rec);
        if (c == 0) {
            if ((cerr = publish(p, &cur, 0))) break;
            c = add_copy(cur, rec);
        }
        if (c < 0) {                  /* in place: wait until it is consumed */
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
    for (size_t i = 0; i < PB_SLOTS; i++) free(p->b[i]);
    free(p);
    if (ce) return ce;                /* the consumer failed first in file order */
    return e < 0 ? e : 0;
}
