/*
 * hugeheap.c — let a converter's heap fault in 2 MiB pages.
 *
 * Replaying a real program's trace builds tens of MiB of tables (live
 * blocks, stacks, call tree). Each first touch of a 4 KiB page is a page
 * fault, and on a virtual machine a fault costs ~20 us: cc1's `--text`
 * took 18 700 faults (about a third of its 0.37 s), python3's 29 000.
 * glibc's malloc asks the kernel for transparent huge pages only when the
 * tunable glibc.malloc.hugetlb=1 is set when the process starts, so a
 * converter given a large input (a regular file of MS_PUMP_MIN_BYTES
 * or more: the pump's two-thread rule) re-executes itself once with the tunable added, where the kernel
 * gives huge pages on request only ("[madvise]" in
 * /sys/kernel/mm/transparent_hugepage/enabled; with "[always]" the heap
 * has them already, with "[never]" nothing can). The new image puts
 * GLIBC_TUNABLES back as the user had it before it reads any input, so
 * the programs it runs (dot) see the user's environment. Nothing changes
 * in what is computed or written. MEMSCOPE_HUGEPAGES=0 turns it off; a
 * tunable the user set already is left as it is.
 */
#include "hugeheap.h"
#include "pump.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ORIG "MEMSCOPE_HUGEHEAP_ORIG"  /* "-" unset, else "=" + the value */
#define TUNABLE "glibc.malloc.hugetlb=1"

static int thp_on_request(void)
{
    char buf[128];
    int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    return strstr(buf, "[madvise]") != NULL;
}

static int large_input(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (argv[i][0] != '-' && stat(argv[i], &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_size >= (off_t)MS_PUMP_MIN_BYTES)
            return 1;
    }
    return 0;
}

/* GLIBC_TUNABLES as keep ("-" or "=" + value) says the user had it */
static void restore(const char *keep)
{
    if (keep[0] == '=') setenv("GLIBC_TUNABLES", keep + 1, 1);
    else unsetenv("GLIBC_TUNABLES");
    unsetenv(ORIG);
}

void ms_cli_hugeheap(int argc, char **argv)
{
    const char *orig = getenv(ORIG);
    if (orig) {                        /* the second image: undo the first's */
        restore(orig);
        return;
    }
    const char *off = getenv("MEMSCOPE_HUGEPAGES");
    if (off && !strcmp(off, "0")) return;
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc.hugetlb")) return;
    if (!large_input(argc, argv) || !thp_on_request()) return;
    size_t tl = t ? strlen(t) : 0;
    char *keep = malloc(tl + 2), *nt = malloc(tl + sizeof TUNABLE + 1);
    if (!keep || !nt) { free(keep); free(nt); return; }
    keep[0] = t ? '=' : '-';
    memcpy(keep + 1, t ? t : "", tl + 1);
    if (t && tl) snprintf(nt, tl + sizeof TUNABLE + 1, "%s:%s", TUNABLE, t);
    else memcpy(nt, TUNABLE, sizeof TUNABLE);
    /* the file itself, not /proc/self/exe (under valgrind that is the tool) */
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0 && setenv(ORIG, keep, 1) == 0 && setenv("GLIBC_TUNABLES", nt, 1) == 0) {
        exe[n] = 0;
        fflush(NULL);
        execv(exe, argv);
    }
    restore(keep);                     /* no exec: on as before */
    free(keep);
    free(nt);
}
