/*
 * The demo program `make demo` records: a small "image cache" service with
 * the allocation patterns memscope reports on — a steady working set, a
 * temporary-allocation hot loop, a worker thread freeing blocks another
 * thread allocated, a realloc-grown buffer, named phases and labelled
 * variables (ms_mark/ms_label), and a deliberate leak of 3 blocks.
 * Linked with -lmemscope; recording is enabled by MEMSCOPE_AUTO_EXPORT=1.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memscope.h"

#define NIMAGES 64

struct image { char name[32]; size_t size; unsigned char *pixels; };

static struct image *cache[NIMAGES];
static void *queue[256];
static int qhead, qtail;
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;

__attribute__((noinline)) static struct image *load_image(int i)
{
    struct image *img = malloc(sizeof *img);
    snprintf(img->name, sizeof img->name, "img%02d.png", i);
    img->size = 4096u * (size_t)(1 + i % 8);
    img->pixels = calloc(1, img->size);
    return img;
}

__attribute__((noinline)) static void fill_cache(void)
{
    for (int i = 0; i < NIMAGES; i++)
        cache[i] = load_image(i);
    ms_label(cache[0], "cache[0]", "struct image");
}

__attribute__((noinline)) static size_t parse_request(int n)
{
    char *tmp = malloc(64 + (size_t)(n % 200));   /* temporary: freed at once */
    size_t len = (size_t)snprintf(tmp, 64, "GET /img%02d.png", n % NIMAGES);
    free(tmp);
    return len;
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (qhead == qtail) pthread_cond_wait(&qcond, &qlock);
        void *p = queue[qhead++ % 256];
        pthread_mutex_unlock(&qlock);
        if (!p) return NULL;
        free(p);                                  /* freed in another thread */
    }
}

__attribute__((noinline)) static void send_responses(int n)
{
    for (int i = 0; i < n; i++) {
        void *resp = malloc(1024);
        memset(resp, 'x', 1024);
        pthread_mutex_lock(&qlock);
        while (qtail - qhead >= 255) {
            pthread_mutex_unlock(&qlock);
            pthread_mutex_lock(&qlock);
        }
        queue[qtail++ % 256] = resp;
        pthread_cond_signal(&qcond);
        pthread_mutex_unlock(&qlock);
    }
}

__attribute__((noinline)) static char *build_log(int lines)
{
    char *log = NULL;
    size_t len = 0;
    for (int i = 0; i < lines; i++) {
        log = realloc(log, len + 48);
        len += (size_t)snprintf(log + len, 48, "request %d served\n", i);
    }
    ms_label(log, "access_log", "char[]");
    return log;
}

__attribute__((noinline)) static void leak_session_state(void)
{
    for (int i = 1; i <= 3; i++) {
        char *s = malloc(1000u * (size_t)i);       /* never freed: 6000 bytes */
        memset(s, i, 1000u * (size_t)i);
    }
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    ms_mark("startup");
    fill_cache();
    ms_mark("serving");
    size_t total = 0;
    for (int i = 0; i < 20000; i++) total += parse_request(i);
    send_responses(2000);
    char *log = build_log(500);
    leak_session_state();
    ms_mark("shutdown");
    pthread_mutex_lock(&qlock);
    queue[qtail++ % 256] = NULL;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
    pthread_join(t, NULL);
    for (int i = 0; i < NIMAGES; i++) { free(cache[i]->pixels); free(cache[i]); }
    free(log);
    printf("served %zu request bytes\n", total);
    return 0;
}
