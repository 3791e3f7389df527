/*
 * Block pipe (blockpipe.h): a ring of BP_BATCHES batches of BP_BLOCKS
 * block copies between the replay thread (producer) and one consumer
 * thread that makes the per-block calls. A batch changes hands under one
 * mutex (~10 000 times for 10 M blocks); the producer waits only when
 * every batch is full, the consumer only when none is. One consumer and
 * FIFO order: the calls are exactly the ones, in exactly the order, the
 * replay would have made itself, so every model comes out the same.
 */
#include "blockpipe.h"
#include "pump.h"
#include "cacheline.h"
#include <pthread.h>
#include <stdlib.h>

#define BP_BLOCKS 8192                 /* blocks per batch (896 KiB)        */
#define BP_BATCHES 4                   /* batches in the ring               */

typedef struct bp_batch {
    size_t n;
    ms_heap_block b[BP_BLOCKS];
} bp_batch;

struct ms_blockpipe {
    ms_heap_block_fn fn;
    void *ctx;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv_full, cv_free;
    bp_batch *ring[BP_BATCHES];
    size_t fill;                       /* producer's batch                  */
    size_t full;                       /* handed over, not yet consumed     */
    int done;
};

static void *consumer(void *arg)
{
    ms_blockpipe *p = arg;
    size_t c = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->full && !p->done) pthread_cond_wait(&p->cv_full, &p->mu);
        if (!p->full) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        pthread_mutex_unlock(&p->mu);
        bp_batch *b = p->ring[c];
        for (size_t i = 0; i < b->n; i++) p->fn(p->ctx, &b->b[i]);
        ms_cacheline_release(b->b, b->n * sizeof b->b[0]);   /* refilled next */
        pthread_mutex_lock(&p->mu);
        p->full--;
        pthread_cond_signal(&p->cv_free);
        pthread_mutex_unlock(&p->mu);
        c = (c + 1) % BP_BATCHES;
    }
}

static void free_ring(ms_blockpipe *p)
{
    for (size_t i = 0; i < BP_BATCHES; i++) free(p->ring[i]);
    free(p);
}

int ms_blockpipe_start(ms_blockpipe **out, const ms_reader *r, ms_heap_block_fn fn, void *ctx)
{
    *out = NULL;
    if (!ms_pump_threads(r)) return 0;
    ms_blockpipe *p = calloc(1, sizeof *p);
    if (!p) return MS_ENOMEM;
    for (size_t i = 0; i < BP_BATCHES; i++)
        if (!(p->ring[i] = malloc(sizeof *p->ring[i]))) { free_ring(p); return MS_ENOMEM; }
    p->fn = fn;
    p->ctx = ctx;
    p->ring[0]->n = 0;
    if (pthread_mutex_init(&p->mu, NULL)) { free_ring(p); return 0; }
    pthread_cond_init(&p->cv_full, NULL);
    pthread_cond_init(&p->cv_free, NULL);
    if (pthread_create(&p->th, NULL, consumer, p)) {
        pthread_cond_destroy(&p->cv_full); pthread_cond_destroy(&p->cv_free);
        pthread_mutex_destroy(&p->mu);
        free_ring(p);
        return 0;
    }
    *out = p;
    return 0;
}

/* Hand the producer's batch over; wait for a free one to fill next. */
static void hand_over(ms_blockpipe *p)
{
    pthread_mutex_lock(&p->mu);
    p->full++;
    pthread_cond_signal(&p->cv_full);
    while (p->full == BP_BATCHES) pthread_cond_wait(&p->cv_free, &p->mu);
    pthread_mutex_unlock(&p->mu);
    p->fill = (p->fill + 1) % BP_BATCHES;
    p->ring[p->fill]->n = 0;
}

void ms_blockpipe_push(void *pipe, const ms_heap_block *b)
{
    ms_blockpipe *p = pipe;
    bp_batch *bt = p->ring[p->fill];
    bt->b[bt->n++] = *b;
    if (bt->n == BP_BLOCKS) hand_over(p);
}

void ms_blockpipe_finish(ms_blockpipe *p)
{
    if (!p) return;
    if (p->ring[p->fill]->n) hand_over(p);
    pthread_mutex_lock(&p->mu);
    p->done = 1;
    pthread_cond_signal(&p->cv_full);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    pthread_cond_destroy(&p->cv_full); pthread_cond_destroy(&p->cv_free);
    pthread_mutex_destroy(&p->mu);
    free_ring(p);
}
