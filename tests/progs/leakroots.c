/*
 * leakroots — blocks whose only pointers live outside the heap and the
 * modules' data, for comparing memscope's root set with valgrind memcheck's
 * (tests/recorder/test_leakclass.sh). memcheck scans every readable,
 * writable mapping as a root, except its own heap; blocks glibc serves with
 * mmap (> 128 KiB) are blocks, not roots:
 *   reachable  111 B held only in a MAP_PRIVATE|MAP_ANONYMOUS page whose
 *              address is dropped (the mapping is a root all the same);
 *              222 B only in a MAP_SHARED|MAP_ANONYMOUS page; a 256 KiB
 *              mmap-served block held from a global, and the 333 B block
 *              only it points to; 555 B only in a MAP_PRIVATE page of a
 *              /dev/zero mapping;
 *   definite   a 200 KiB mmap-served block whose pointer is dropped (its
 *              mapping is not a root); 1000 B lost outright; 666 B whose
 *              only pointer was in a 300 KiB block that was freed
 *              (unmapped); the last malloc before exit (2504 B); the
 *              head (48 B) of a lost 3-node list;
 *   indirect   444 B held only by the lost 200 KiB block; the two other
 *              nodes of that list;
 *   possible   g_inner points 64 bytes into a 900 B block.
 * No stdio (progs.h).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "progs.h"

struct node { struct node *next; char pad[40]; };

static void **g_big;
static char *g_inner;

static void *page(int flags, int fd)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, flags, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void *filled(size_t n)
{
    void *p = malloc(n);
    memset(p, 0x5a, n);
    return p;
}

__attribute__((noinline)) static void in_mappings(void)
{
    void **a = page(MAP_PRIVATE | MAP_ANONYMOUS, -1);
    void **s = page(MAP_SHARED | MAP_ANONYMOUS, -1);
    int fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
    void **z = fd >= 0 ? page(MAP_PRIVATE, fd) : NULL;
    if (fd >= 0)
        close(fd);
    if (!a || !s || !z)
        _exit(3);
    a[7] = filled(111);
    s[9] = filled(222);
    z[3] = filled(555);
}

__attribute__((noinline)) static void in_big_blocks(void)
{
    g_big = malloc(256 << 10);
    memset(g_big, 0, 256 << 10);
    g_big[100] = filled(333);
    void **lost = malloc(200 << 10);
    memset(lost, 0, 200 << 10);
    lost[1000] = filled(444);
    void **gone = malloc(300 << 10);
    gone[5] = filled(666);
    free(gone);
}

__attribute__((noinline)) static void lose(void)
{
    volatile void *p = filled(1000);
    (void)p;
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

int main(void)
{
    in_mappings();
    in_big_blocks();
    lose();
    g_inner = (char *)filled(900) + 64;
    out("TRUTH leakroots reachable_bytes=%d reachable_blocks=5 definite_bytes=%d definite_blocks=5 "
        "indirect_bytes=%d indirect_blocks=3 possible_bytes=900 possible_blocks=1\n",
        111 + 222 + 555 + (256 << 10) + 333, (200 << 10) + 1000 + 666 + 2504 + 48, 444 + 96);
    last_one();
    return 0;
}
