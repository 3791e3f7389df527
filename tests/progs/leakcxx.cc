/*
 * leakcxx — leak classes of a C++ program (tests/recorder/test_leakclass.sh):
 * libstdc++ allocates its emergency exception pool (72,704 bytes with GCC
 * 12 on x86-64) from its constructor, run by the dynamic loader before
 * main; memscope classes it 5 "libc/runtime internal", not an application
 * block (memcheck frees it with __gnu_cxx::__freeres by default and calls it
 * still reachable with --run-cxx-freeres=no). The program's own blocks:
 *   reachable  g_keep: a std::string of 100 chars and a std::vector<int>
 *              of 1000 (its 4,000-byte buffer);
 *   definite   a new[]'d array of 50 longs (400 B) whose pointer is dropped;
 *   indirect   a lost node (new, 32 B: definite) owns another (32 B).
 * An exception is thrown and caught first (its object is allocated and
 * freed by __cxa_allocate_exception from the heap, not the pool).
 */
#include <stdexcept>
#include <string>
#include <vector>
#include <string.h>
#include <unistd.h>

struct Node { Node *next; long pad[3]; };
struct Keep { std::string s; std::vector<int> v; };
static Keep *g_keep;

/* Overwrites the dead frames lose() left below main's (no stale copy of
 * the lost pointers stays where the exit path does not reach). */
__attribute__((noinline)) static void say(const char *s)
{
    volatile char scrub[2048];
    memset((char *)scrub, 0, sizeof scrub);
    ssize_t r = write(1, s, strlen(s));
    (void)r;
}

__attribute__((noinline)) static void lose()
{
    long *volatile a = new long[50];
    a[0] = 1;
    Node *n = new Node();
    n->next = new Node();
}

/* Runs f 8 KiB deeper than main: its dead frames (and the recorder's,
 * under it) stay below the frames of the exit path, which the leak scan
 * starts from, as they are below memcheck's SP at exit. */
__attribute__((noinline)) static void deep(void (*f)())
{
    volatile char pad[8192];
    memset((char *)pad, 0, sizeof pad);
    f();
}

int main()
{
    try {
        throw std::runtime_error("x");
    } catch (const std::exception &) {
    }
    g_keep = new Keep{std::string(100, 'k'), std::vector<int>(1000, 7)};
    deep(lose);
    say("TRUTH leakcxx reachable_blocks=3 definite_bytes=432 definite_blocks=2 indirect_bytes=32\n");
    return 0;
}
