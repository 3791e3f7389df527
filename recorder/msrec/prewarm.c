/*
 * prewarm.c — open the modules of `msrec run`'s child while it runs.
 *
 * Symbolizing a trace after the command exits spends most of its time on
 * work that does not depend on the trace: finding each module's separate
 * debug file, decompressing its DWARF sections, indexing its compile units
 * and sorting its symbol table (cc1 -O2: ~60 % of 0.25 s, libc's debug
 * info alone ~40 %). A thread of msrec does that during the run, for the
 * ELF files the child maps executable (read from /proc/PID/maps every
 * 50 ms: the program first, then libc, then in map order the others that
 * import malloc or operator new; libmemscope.so never appears in a stack
 * and is left out), in an mssym of
 * its own (mssym_warm). When the child has exited the thread finishes the
 * module it is on and stops; the symbolizer then takes the sessions over
 * (mssym_take_warm: same file and load base, build id still checked), and
 * opens any module not warmed as before. A module whose answers the
 * symbol cache holds (symcache.h) gets only its ELF file opened at first,
 * and its debug info once the command has run CACHED_AFTER_MS (in case
 * the trace has ips the cache lacks). The traced command is untouched:
 * the thread only reads /proc and files, at nice 10, and only runs while
 * msrec waits.
 */
#include <elf.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include "msrec.h"
#include "mssym.h"

#define SEEN_MAX 256
#define CACHED_MAX 64
/* Modules whose answers the symbol cache holds get their debug info opened
 * only once the command has run this long: a short command has usually
 * been recorded before (its ips are all cached) and should not share its
 * cores with ~100 ms of libdw for libc; a longer one may be new and have
 * ips the cache lacks, whose module would otherwise be opened after the
 * exit. */
#define CACHED_AFTER_MS 200

struct msrec_prewarm {
    pthread_t th;
    pid_t pid;
    unsigned flags;
    _Atomic int stop;
    mssym *warm;
    unsigned long long seen[SEEN_MAX];   /* inode ^ start of files looked at */
    int nseen;
    struct { char *path; uint64_t base; } cached[CACHED_MAX];  /* mssym_warm 2 */
    int ncached;
};

/* The load bias of the ELF file at path whose mapping of file offset off
 * starts at start, or -1 when it is not an ELF file mapped so. */
static int elf_bias(const char *path, unsigned long long start, unsigned long long off,
                    uint64_t *bias)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    Elf64_Ehdr eh;
    Elf64_Phdr ph[64];
    int rc = -1;
    if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
        !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
        eh.e_phentsize == sizeof ph[0] && eh.e_phnum > 0 && eh.e_phnum <= 64 &&
        pread(fd, ph, eh.e_phnum * sizeof ph[0], (off_t)eh.e_phoff) ==
            (ssize_t)(eh.e_phnum * sizeof ph[0])) {
        long pg = sysconf(_SC_PAGESIZE);
        uint64_t mask = ~(uint64_t)(pg > 0 ? pg - 1 : 4095);
        for (int i = 0; i < eh.e_phnum; i++) {
            if (ph[i].p_type != PT_LOAD) continue;
            /* the first PT_LOAD: mapped at bias + its page-aligned vaddr */
            if ((ph[i].p_offset & mask) == off) {
                *bias = eh.e_type == ET_EXEC ? 0 : start - (ph[i].p_vaddr & mask);
                rc = 0;
            }
            break;
        }
    }
    close(fd);
    return rc;
}

/* One /proc/PID/maps line of a file mapping: its path (the line is cut
 * at the newline), start, permissions, offset and inode; else NULL. */
static const char *maps_line(char *line, unsigned long long *lo, char perms[8],
                             unsigned long long *off, unsigned long long *ino)
{
    unsigned long long hi;
    int n = 0;
    if (sscanf(line, "%llx-%llx %7s %llx %*s %llu %n", lo, &hi, perms, off, ino, &n) < 5 ||
        !n || line[n] != '/')
        return NULL;
    line[n + strcspn(line + n, "\n")] = 0;
    return line + n;
}

/* Does the ELF file at path import an allocation function (its code may
 * call the allocator: it can be in heap stacks)? libm, for one, does not,
 * and its debug info alone costs a quarter of the warming of cc1's
 * modules. */
static int imports_alloc(const char *path)
{
    static const char *const names[] = { "malloc", "calloc", "realloc", "_Znwm", "_Znam",
                                         "posix_memalign", "aligned_alloc", "strdup" };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    int found = 0;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    for (Elf_Scn *scn = e ? elf_nextscn(e, NULL) : NULL; scn && !found;
         scn = elf_nextscn(e, scn)) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize) continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = d ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 1; i < n && !found; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx != SHN_UNDEF) continue;
            const char *nm = elf_strptr(e, sh.sh_link, sym.st_name);
            for (size_t k = 0; nm && k < sizeof names / sizeof names[0] && !found; k++)
                found = !strcmp(nm, names[k]);
        }
    }
    if (e) elf_end(e);
    close(fd);
    return found;
}

static void nap(struct msrec_prewarm *p, int ms)
{
    for (int t = 0; t < ms && !atomic_load(&p->stop); t += 5) {
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* Warm the modules of one /proc/PID/maps reading not seen before; rank 0
 * the program, 1 libc, 2 the others that import an allocation function. */
static void warm_maps(struct msrec_prewarm *p, const char *exe)
{
    char mp[64];
    snprintf(mp, sizeof mp, "/proc/%ld/maps", (long)p->pid);
    FILE *f = fopen(mp, "re");
    if (!f) return;
    struct cand { char path[PATH_MAX]; uint64_t base; int rank; } *c = NULL;
    size_t nc = 0, capc = 0;
    char line[PATH_MAX + 128];
    /* each file mapped executable, once (by inode and address) */
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, off, ino;
        char perms[8];
        const char *path = maps_line(line, &lo, perms, &off, &ino);
        if (!path) continue;
        if (strstr(path, " (deleted)") || strstr(path, "/libmemscope.so")) continue;
        if (perms[2] != 'x') continue;
        unsigned long long key = ino * 0x9E3779B97F4A7C15ull ^ lo;
        int seen = 0;
        for (int i = 0; i < p->nseen && !seen; i++) seen = p->seen[i] == key;
        if (seen) continue;
        if (p->nseen < SEEN_MAX) p->seen[p->nseen++] = key;
        if (nc == capc) {
            size_t cap = capc ? capc * 2 : 16;
            struct cand *t = realloc(c, cap * sizeof *t);
            if (!t) break;
            c = t;
            capc = cap;
        }
        snprintf(c[nc].path, sizeof c[nc].path, "%s", path);
        c[nc].base = UINT64_MAX;
        const char *b = strrchr(path, '/') + 1;
        c[nc].rank = exe && !strcmp(path, exe) ? 0 : !strncmp(b, "libc.so", 7) ? 1 : 2;
        if (c[nc].rank < 2 || imports_alloc(path)) nc++;
    }
    /* the load bias from the mapping of the first PT_LOAD (rarely the
     * executable one) */
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, off, ino;
        char perms[8];
        const char *path = maps_line(line, &lo, perms, &off, &ino);
        if (!path) continue;
        for (size_t i = 0; i < nc; i++) {
            uint64_t bias;
            if (c[i].base == UINT64_MAX && !strcmp(c[i].path, path) &&
                elf_bias(path, lo, off, &bias) == 0)
                c[i].base = bias;
        }
    }
    fclose(f);
    for (int rank = 0; rank < 3; rank++)
        for (size_t i = 0; i < nc && !atomic_load(&p->stop); i++)
            if (c[i].rank == rank && c[i].base != UINT64_MAX &&
                mssym_warm(p->warm, c[i].path, c[i].base) == 2 && p->ncached < CACHED_MAX &&
                (p->cached[p->ncached].path = strdup(c[i].path)))
                p->cached[p->ncached++].base = c[i].base;
    free(c);
}

static void *prewarm_main(void *arg)
{
    struct msrec_prewarm *p = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);   /* forwarding stays in main */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0) {
        /* not allowed: run at msrec's priority */
    }
    char self[PATH_MAX], exe[PATH_MAX], lnk[64];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    self[k > 0 ? k : 0] = 0;
    snprintf(lnk, sizeof lnk, "/proc/%ld/exe", (long)p->pid);
    /* wait for the exec: until then /proc/PID is msrec's own copy (at
     * most 2 s: the command may be msrec itself) */
    for (int waited = 0; waited < 2000; waited += 5) {
        if (atomic_load(&p->stop)) return NULL;
        k = readlink(lnk, exe, sizeof exe - 1);
        if (k < 0) return NULL;                  /* gone, or not ours to read */
        exe[k > 0 ? k : 0] = 0;
        if (k > 0 && strcmp(exe, self) != 0) break;
        nap(p, 5);
    }
    nap(p, 10);                               /* ld.so maps the libraries */
    int ran = 10, next = 0;
    while (!atomic_load(&p->stop)) {
        warm_maps(p, exe);
        for (; ran >= CACHED_AFTER_MS && next < p->ncached && !atomic_load(&p->stop); next++)
            mssym_warm_cached(p->warm, p->cached[next].path, p->cached[next].base);
        nap(p, 50);
        ran += 50;
    }
    return NULL;
}

msrec_prewarm *msrec_prewarm_start(int pid, unsigned flags)
{
    struct msrec_prewarm *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->pid = pid;
    p->flags = flags;
    if (mssym_new(&p->warm, flags) != 0) {
        free(p);
        return NULL;
    }
    if (pthread_create(&p->th, NULL, prewarm_main, p) != 0) {
        mssym_free(p->warm);
        free(p);
        return NULL;
    }
    return p;
}

mssym *msrec_prewarm_stop(msrec_prewarm *p)
{
    if (!p) return NULL;
    atomic_store(&p->stop, 1);
    pthread_join(p->th, NULL);
    mssym *w = p->warm;
    for (int i = 0; i < p->ncached; i++) free(p->cached[i].path);
    free(p);
    return w;
}
