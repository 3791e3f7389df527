/*
 * cxx — C++ allocations through operator new/delete, new[]/delete[] (with
 * the array cookie of a type with a destructor), nothrow and aligned new,
 * and a std::string beyond the small-string buffer; one new[] is leaked.
 * Prints its own truth; libstdc++ also allocates its exception emergency
 * pool before main (valgrind sees it as one block in use at exit).
 */
#include <new>
#include <string>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

struct Obj {
    long a = 1, b = 2;
    ~Obj() { a = 0; }
};
struct alignas(64) Big {
    char x[128];
};
static int *leaked;

static void say(const char *s) { ssize_t r = write(1, s, strlen(s)); (void)r; }

int main()
{
    int *i = new int(5);                              // 4
    delete i;
    Obj *o = new Obj[10];                             // 10*16 + 8 cookie = 168
    delete[] o;
    char *c = new char[100];                          // 100
    memset(c, 0, 100);
    delete[] c;
    int *n = new (std::nothrow) int[3];               // 12
    delete[] n;
    Big *b = new Big;                                 // 128, aligned new
    delete b;
    {
        std::string s(50, 'x');                       // 51
        if (s.size() != 50) return 1;
    }
    leaked = new int[7];                              // 28, never freed
    leaked[0] = 1;
    char buf[160];
    snprintf(buf, sizeof buf,
             "TRUTH cxx allocs=7 frees=6 bytes=%zu live_blocks=1 live_bytes=28 peak=168\ncxx: ok\n",
             (size_t)(4 + 168 + 100 + 12 + 128 + 51 + 28));
    say(buf);
    return 0;
}
