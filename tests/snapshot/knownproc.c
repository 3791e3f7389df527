/*
 * Test helper for the snapshot tests: a process with known memory facts.
 *   --alloc MB     malloc and touch MB MiB of private memory
 *   --files N      keep N extra files open (/dev/null)
 *   --map FILE     map FILE read-only and touch every page (a "library")
 *   --dlopen LIB   dlopen LIB (a real shared library)
 *   --many N       with the next --map: also map N single pages of the file
 *                  (every other page, so N separate mappings)
 *   --name NAME    set the process name (prctl PR_SET_NAME)
 *   --grow MB      every 200 ms allocate and touch MB MiB more
 *   --ready FILE   create FILE when set up
 * Then waits until killed. SIGUSR1 allocates and touches 32 MiB more;
 * SIGUSR2 opens 300 more files.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>

static volatile sig_atomic_t more, files;
static void on_usr1(int s) { (void)s; more++; }
static void on_usr2(int s) { (void)s; files++; }

static volatile char *keep[64];
static int nkeep;

static void touch_alloc(size_t mb)
{
    size_t n = mb << 20;
    volatile char *p = malloc(n);
    if (!p) exit(3);
    for (size_t i = 0; i < n; i += 4096) p[i] = (char)(i >> 12 | 1);
    keep[nkeep++ & 63] = p;
}

int main(int argc, char **argv)
{
    const char *ready = NULL;
    long grow = 0, many = 0;
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--alloc")) touch_alloc((size_t)atol(v));
        else if (!strcmp(a, "--files")) { for (long k = 0; k < atol(v); k++) if (open("/dev/null", O_RDONLY) < 0) return 4; }
        else if (!strcmp(a, "--map")) {
            int fd = open(v, O_RDONLY);
            struct stat st;
            if (fd < 0 || fstat(fd, &st)) return 5;
            volatile const char *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m == MAP_FAILED) return 6;
            for (long k = 0; k < many && (k * 2 + 1) * 4096 <= st.st_size; k++)
                if (mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, (off_t)k * 8192) == MAP_FAILED) return 6;
            close(fd);
            unsigned s = 0;
            for (off_t k = 0; k < st.st_size; k += 4096) s += (unsigned)m[k];
            (void)s;
        } else if (!strcmp(a, "--dlopen")) { if (!dlopen(v, RTLD_NOW)) return 7; }
        else if (!strcmp(a, "--name")) prctl(PR_SET_NAME, v, 0, 0, 0);
        else if (!strcmp(a, "--grow")) grow = atol(v);
        else if (!strcmp(a, "--many")) many = atol(v);
        else if (!strcmp(a, "--ready")) ready = v;
    }
    if (ready) { int fd = open(ready, O_WRONLY | O_CREAT, 0644); if (fd >= 0) close(fd); }
    for (;;) {
        if (more) { more--; touch_alloc(32); }
        if (files) { files--; for (int k = 0; k < 300; k++) if (open("/dev/null", O_RDONLY) < 0) return 4; }
        if (grow) { usleep(200000); touch_alloc((size_t)grow); }
        else pause();
    }
}
