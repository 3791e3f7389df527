/*
 * leakclass — one block of each leak class, for comparing memscope's leak
 * classification with valgrind memcheck and LeakSanitizer
 * (tests/recorder/test_leakclass.sh):
 *   definite  lose_three(): 3 blocks (1000, 2000, 3000 bytes) whose only
 *             pointers were locals of a returned frame (stale copies stay in
 *             the dead stack below main's frame); last_one(): the very last
 *             malloc before exit (3000 + 8 bytes: its end overlaps the top
 *             chunk header that main_arena points to) is lost as well;
 *   indirect  a lost 3-node list: the head (48 bytes) is definite, the two
 *             other nodes (2 x 48) are indirect;
 *   reachable g_keep points to a 700-byte block;
 *   possible  g_inner points 64 bytes into a 900-byte block;
 *   libc      a thread is created and joined: glibc's DTV for it (calloc'd
 *             by pthread_create, kept with the cached stack) is libc's.
 * No stdio (progs.h), so no libc stdio buffers are live at exit.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "progs.h"

struct node { struct node *next; char pad[40]; };

static void *g_keep;
static char *g_inner;

__attribute__((noinline)) static void lose_three(void)
{
    volatile void *p[3];
    for (int i = 0; i < 3; i++) {
        p[i] = malloc(1000u * (unsigned)(i + 1));
        memset((void *)p[i], i, 1000u * (unsigned)(i + 1));
    }
}

__attribute__((noinline)) static void lose_list(void)
{
    struct node *head = NULL;
    for (int i = 0; i < 3; i++) {
        struct node *n = malloc(sizeof *n);
        n->next = head;
        head = n;
    }
}

__attribute__((noinline)) static void last_one(void)
{
    void *volatile p = malloc(2504);
    memset(p, 7, 2504);
}

static void *thr(void *arg)
{
    return arg;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, thr, NULL) == 0)
        pthread_join(t, NULL);
    g_keep = malloc(700);
    g_inner = (char *)malloc(900) + 64;
    lose_three();
    lose_list();
    out("TRUTH leakclass definite_bytes=8552 definite_blocks=5 indirect_bytes=96 indirect_blocks=2 "
        "reachable_bytes=700 possible_bytes=900\n");
    last_one();
    return 0;
}
