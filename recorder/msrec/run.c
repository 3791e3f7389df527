/*
 * msrec run — record every heap allocation of a command.
 *
 * Runs CMD with libmemscope injected: finds libmemscope.so next to this
 * binary (../lib/libmemscope.so relative to /proc/self/exe), puts it first
 * in LD_PRELOAD (the user's entries follow: an allocator preloaded there,
 * jemalloc or tcmalloc, keeps serving CMD through the library) and sets the
 * MEMSCOPE_* variables the library reads. Only the
 * command itself records: MEMSCOPE_ACTIVE_PID names its pid (overriding one
 * inherited from an outer recording), and the library stays passive in
 * exec'd descendants unless --follow-children set MEMSCOPE_FOLLOW_EXEC=1.
 * That includes an exec without fork: the recorder finishes CMD's trace
 * before the exec (recorder/lib/exec.c) and, with --follow-children, the
 * new image writes FILE with ".exec<N>" inserted (the pid is the same).
 * stdin/stdout/stderr pass through, SIGINT,
 * SIGTERM, SIGHUP and SIGQUIT sent to msrec are forwarded to the command,
 * and msrec exits with the command's status (128+signal if it was killed),
 * so a script cannot tell msrec run apart from running CMD directly.
 *
 * Once CMD has exited, msrec symbolizes every finished trace it produced
 * (recorder/symbolize/: libdw runs here, never in CMD): the library appends
 * each trace's path to a manifest file named by MEMSCOPE_MANIFEST, so the
 * files of followed children are found too. --no-symbolize skips that step.
 * While CMD runs, a thread opens its modules' debug info and symbol tables
 * for that step (prewarm.c), so little of it is left after the exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "msrec.h"
#include "mssym.h"

static volatile sig_atomic_t child_pid;

static void run_usage(FILE *f)
{
    fprintf(f,
        "usage: msrec run [-o FILE [--force]] [--unwind libunwind|fp] [--export json|html|both]\n"
        "                 [--sample [BYTES]] [--follow-children] [--quiet] -- CMD ARGS...\n"
        "\n"
        "Runs CMD with libmemscope preloaded and records every heap allocation.\n"
        "  -o, --output FILE    trace file (default ./CMD.PID.memscope); %%p = pid,\n"
        "                       %%e = executable name\n"
        "  --unwind MODE        libunwind (default, exact) or fp (frame pointers, fast)\n"
        "  --export FMT         also write json, html or both reports next to the trace\n"
        "  --sample [BYTES]     record a sample: one allocation per BYTES allocated on\n"
        "                       average (Poisson byte sampling as jemalloc and Go; K, M,\n"
        "                       G suffixes; default 512K); reports then show estimates\n"
        "                       of the whole program at a fraction of the cost\n"
        "  --follow-children    also record exec'd child processes (one file each;\n"
        "                       the default path then contains %%p; a program that\n"
        "                       execs without fork writes FILE.exec<N>.memscope)\n"
        "  -q, --quiet          no message from the recorder at exit\n"
        "  --force              replace FILE if it exists (else msrec refuses to\n"
        "                       start CMD; so it does when FILE cannot be created)\n"
        "  --no-symbolize       leave the trace unsymbolized (msrec symbolize or\n"
        "                       msconv resolve the ips later)\n"
        "  --debuginfod         let the symbolizer ask $DEBUGINFOD_URLS servers\n"
        "  -h, --help           this help\n"
        "An allocator in $LD_PRELOAD (libjemalloc.so.2, libtcmalloc_minimal.so.4...)\n"
        "keeps serving CMD: libmemscope goes first and forwards to it.\n"
        "Python: PYTHONMALLOC=malloc is set for CMD unless PYTHONMALLOC is already\n"
        "set, so objects pymalloc would carve out of its arenas show as allocations.\n"
        "stdin/stdout/stderr pass through; msrec exits with CMD's status, or\n"
        "128+N when CMD was killed by signal N. The library is found at\n"
        "../lib/libmemscope.so next to msrec, or at $MEMSCOPE_LIB.\n");
}

/* Forward signals that were sent to msrec (kill, systemd, a parent shell).
 * Terminal-generated signals (si_code SI_KERNEL) already reach the whole
 * foreground process group, so forwarding them would deliver them twice. */
static void forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    pid_t c = (pid_t)child_pid;
    if (c <= 0)
        return;
    if (si && si->si_code > 0)          /* kernel-generated (tty, ...) */
        return;
    if (si && si->si_pid == c)          /* the child signalled us */
        return;
    kill(c, sig);
}

/* Absolute path of libmemscope.so: $MEMSCOPE_LIB if set, else
 * <dir of /proc/self/exe>/../lib/libmemscope.so. */
static int find_library(char *out, size_t outsz)
{
    const char *env = getenv("MEMSCOPE_LIB");
    char buf[PATH_MAX];
    if (env && *env) {
        if (!realpath(env, out) || access(out, R_OK) != 0) {
            fprintf(stderr, "msrec: MEMSCOPE_LIB=%s: %s\n", env, strerror(errno));
            return -1;
        }
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        fprintf(stderr, "msrec: cannot read /proc/self/exe: %s\n", strerror(errno));
        return -1;
    }
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = 0;
    char cand[PATH_MAX + 32];
    snprintf(cand, sizeof cand, "%s/../lib/libmemscope.so", buf);
    if (!realpath(cand, out) || access(out, R_OK) != 0) {
        fprintf(stderr, "msrec: cannot find libmemscope.so (looked for %s)\n", cand);
        return -1;
    }
    (void)outsz;
    return 0;
}

/* Is this LD_PRELOAD entry a libmemscope (ours under another path, or
 * another build)? */
static int is_memscope(const char *entry, size_t n, const char *lib)
{
    char path[PATH_MAX], real[PATH_MAX];
    if (n >= sizeof path)
        return 0;
    memcpy(path, entry, n);
    path[n] = 0;
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    if (!strncmp(b, "libmemscope.so", 14))
        return 1;
    return realpath(path, real) && !strcmp(real, lib);
}

/* LD_PRELOAD for CMD: libmemscope first, then the user's entries in their
 * order (an allocator such as libjemalloc.so.2 keeps serving the program,
 * and libmemscope, first in symbol lookup, forwards to it), without any
 * other copy of libmemscope. NULL when out of memory. */
static char *preload_list(const char *lib, const char *pre)
{
    size_t cap = strlen(lib) + (pre ? strlen(pre) : 0) + 2;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = (size_t)snprintf(out, cap, "%s", lib);
    for (const char *p = pre; p && *p;) {
        while (*p == ':' || *p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ':' && *e != ' ')
            e++;
        if (e > p && !is_memscope(p, (size_t)(e - p), lib)) {
            out[o++] = ':';
            memcpy(out + o, p, (size_t)(e - p));
            o += (size_t)(e - p);
            out[o] = 0;
        }
        p = e;
    }
    return out;
}

/* Append src to dst (size cap), replacing every "%p" by pid. */
static int expand_pid(char *dst, size_t cap, const char *src, long pid)
{
    size_t o = 0;
    for (const char *s = src; *s; s++) {
        char tmp[32];
        const char *piece = tmp;
        size_t len;
        if (s[0] == '%' && s[1] == 'p') {
            len = (size_t)snprintf(tmp, sizeof tmp, "%ld", pid);
            s++;
        } else {
            tmp[0] = *s;
            len = 1;
        }
        if (o + len >= cap)
            return -1;
        memcpy(dst + o, piece, len);
        o += len;
    }
    dst[o] = 0;
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int msrec_clear_output(const char *path, int force)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!force) {
        fprintf(stderr, "msrec: %s: exists (use --force to replace it)\n", path);
        return -1;
    }
    if (S_ISDIR(st.st_mode) || unlink(path) != 0) {
        fprintf(stderr, "msrec: %s: cannot replace it: %s\n", path,
                S_ISDIR(st.st_mode) ? strerror(EISDIR) : strerror(errno));
        return -1;
    }
    return 0;
}

/* Before CMD starts: can the trace be created? A path without '%' must not
 * exist (--force removes a file there) and must be creatable (tried for
 * real, then removed); for a path with %p/%e in its name a probe file in
 * its directory is created and removed instead. 0 when fine, else one line
 * on stderr and -1: CMD must not run unrecorded. */
static int check_output(const char *tmpl, int force)
{
    const char *name = base_name(tmpl);
    char dir[PATH_MAX];
    size_t dl = (size_t)(name - tmpl);
    if (dl >= sizeof dir)
        return 0;
    memcpy(dir, tmpl, dl);
    dir[dl] = 0;
    if (strchr(dir, '%'))
        return 0;                        /* a directory per process */
    if (!strchr(name, '%')) {
        if (msrec_clear_output(tmpl, force) != 0)
            return -1;
        int fd = open(tmpl, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "msrec: %s: %s\n", tmpl, strerror(errno));
            return -1;
        }
        close(fd);
        unlink(tmpl);
        return 0;
    }
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s.msrec-probe.XXXXXX", dl ? dir : "./");
    int fd = mkstemp(probe);
    if (fd < 0) {
        fprintf(stderr, "msrec: %s: %s\n", dl ? dir : ".", strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);
    return 0;
}

/* Symbolize each finished trace listed in the manifest (once per path).
 * A trace without END (its process was killed, or a descendant still
 * writes it) is left alone: rewriting it could lose what is still being
 * appended; msconv resolves its ips on the fly. */
static void symbolize_manifest(const char *manifest, unsigned flags, int quiet, mssym *warm)
{
    FILE *f = fopen(manifest, "re");
    if (!f) return;
    char **seen = NULL;
    size_t nseen = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n') line[--n] = 0;
        if (n == 0 || line[0] == '!') continue;   /* an unrecorded process */
        int dup = 0;
        for (size_t k = 0; k < nseen && !dup; k++) dup = !strcmp(seen[k], line);
        if (dup) continue;
        char **t = realloc(seen, (nseen + 1) * sizeof *t);
        if (!t) break;
        seen = t;
        if (!(seen[nseen] = strdup(line))) break;
        nseen++;
        if (access(line, F_OK) != 0) continue;   /* moved or removed by CMD */
        msrec_symbolize_one(line, NULL, flags | MSSYM_FINISHED, quiet, warm);
    }
    free(line);
    for (size_t k = 0; k < nseen; k++) free(seen[k]);
    free(seen);
    fclose(f);
}

/* One line naming the processes of CMD's tree that were not recorded:
 * the recorder lists each in the manifest as "!PID NAME" (a fork child,
 * then again under the program it exec'd: the last name of a pid counts).
 * CMD's own pid is left out (an exec of CMD itself: the recorder has said
 * so already). Names by how many processes ran them, at most MAX_NAMES,
 * then how many more. Sorting, not searching: a shell script may start
 * hundreds of thousands of processes. */
#define MAX_NAMES 6
struct unrec { long pid; size_t seq; char name[64]; };

static int by_pid_seq(const void *a, const void *b)
{
    const struct unrec *x = a, *y = b;
    if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct unrec *)a)->name, ((const struct unrec *)b)->name);
}

struct name_count { const char *name; size_t n; };

static int by_count(const void *a, const void *b)
{
    const struct name_count *x = a, *y = b;
    if (x->n != y->n) return x->n > y->n ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void note_unrecorded(const char *manifest, long self)
{
    FILE *f = fopen(manifest, "re");
    if (!f) return;
    struct unrec *u = NULL;
    size_t nu = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    while ((n = getline(&line, &lcap, f)) > 0) {
        if (line[0] != '!') continue;
        if (line[n - 1] == '\n') line[--n] = 0;
        char *end;
        long pid = strtol(line + 1, &end, 10);
        if (end == line + 1 || *end != ' ' || pid == self) continue;
        if (nu == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct unrec *t = realloc(u, nc * sizeof *t);
            if (!t) break;
            u = t;
            cap = nc;
        }
        u[nu].pid = pid;
        u[nu].seq = nu;
        snprintf(u[nu].name, sizeof u[nu].name, "%s", end + 1);
        nu++;
    }
    free(line);
    fclose(f);
    /* the last line of each pid */
    qsort(u, nu, sizeof *u, by_pid_seq);
    size_t np = 0;
    for (size_t k = 0; k < nu; k++)
        if (k + 1 == nu || u[k + 1].pid != u[k].pid) u[np++] = u[k];
    if (np > 0) {
        qsort(u, np, sizeof *u, by_name);
        struct name_count *c = malloc(np * sizeof *c);
        size_t nc = 0;
        for (size_t k = 0; c && k < np; k++) {
            if (nc && !strcmp(c[nc - 1].name, u[k].name)) c[nc - 1].n++;
            else c[nc++] = (struct name_count){ u[k].name, 1 };
        }
        if (c) qsort(c, nc, sizeof *c, by_count);
        char names[MAX_NAMES * 66 + 32] = "";
        size_t shown = c ? (nc < MAX_NAMES ? nc : MAX_NAMES) : 0;
        for (size_t k = 0; k < shown; k++) {
            if (k) strcat(names, ", ");
            strcat(names, c[k].name);
        }
        if (nc > shown) {
            char more[40];
            snprintf(more, sizeof more, "%s%zu more", shown ? " and " : "", nc - shown);
            strcat(names, more);
        }
        fprintf(stderr, "msrec: note: %zu child process%s of the command %s not recorded (%s); "
                "msrec run --follow-children records the programs they exec, "
                "MEMSCOPE_FOLLOW_FORK=1 msrec run ... the forked copies that exec nothing\n",
                np, np == 1 ? "" : "es", np == 1 ? "was" : "were", names);
        free(c);
    }
    free(u);
}

/* "4096", "512K", "512KiB", "1M", "2G" -> bytes (1 ..  2^40); -1 if not a size. */
static int parse_rate(const char *s, unsigned long long *out)
{
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    int shift = 0;
    if (*end == 'k' || *end == 'K') shift = 10;
    else if (*end == 'm' || *end == 'M') shift = 20;
    else if (*end == 'g' || *end == 'G') shift = 30;
    if (shift) end++;
    if (shift && (!strcmp(end, "iB") || !strcmp(end, "B"))) end += strlen(end);
    if (errno || *end || v == 0 || v > (1ull << 40) >> shift) return -1;
    *out = v << shift;
    return 0;
}

int msrec_run(int argc, char **argv)
{
    const char *output = NULL, *unwind = NULL, *export_fmt = NULL;
    unsigned long long sample = 0;
    int follow = 0, quiet = 0, symbolize = 1, force = 0;
    unsigned symflags = 0;
    int i = 1;

    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || !a[1])
            break;                           /* first word of CMD */
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            run_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--follow-children")) { follow = 1; continue; }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { quiet = 1; continue; }
        if (!strcmp(a, "--no-symbolize")) { symbolize = 0; continue; }
        if (!strcmp(a, "--force")) { force = 1; continue; }
        if (!strcmp(a, "--debuginfod")) { symflags |= MSSYM_DEBUGINFOD; continue; }
        if (!strcmp(a, "--sample") || !strncmp(a, "--sample=", 9)) {
            /* the value is optional: the next word is one only if it is a size */
            const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[i + 1] : NULL);
            if (parse_rate(v, &sample) == 0) {
                if (a[8] != '=') i++;
            } else if (a[8] == '=') {
                fprintf(stderr, "msrec: --sample: expected a size in bytes (e.g. 4096, 512K, 1M), got '%s'\n", v);
                return 2;
            } else {
                sample = 512 * 1024;
            }
            continue;
        }
        /* options with a value: "--opt V", "--opt=V", "-oV" */
        const char *names[] = { "-o", "--output", "--unwind", "--export" };
        int which = -1;
        for (int k = 0; k < 4; k++) {
            size_t n = strlen(names[k]);
            if (!strcmp(a, names[k])) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "msrec: %s needs a value\n", names[k]);
                    return 2;
                }
                which = k;
                val = argv[++i];
                break;
            }
            if (!strncmp(a, names[k], n) && (a[n] == '=' || (k == 0 && a[n]))) {
                which = k;
                val = a + n + (a[n] == '=');
                break;
            }
        }
        if (which < 0) {
            fprintf(stderr, "msrec: unknown option '%s' (try msrec run --help)\n", a);
            return 2;
        }
        if (!*val) {
            fprintf(stderr, "msrec: %s needs a value\n", names[which]);
            return 2;
        }
        if (which <= 1)
            output = val;
        else if (which == 2) {
            if (strcmp(val, "libunwind") && strcmp(val, "fp")) {
                fprintf(stderr, "msrec: --unwind: expected libunwind or fp, got '%s'\n", val);
                return 2;
            }
            unwind = val;
        } else {
            if (strcmp(val, "json") && strcmp(val, "html") && strcmp(val, "both")) {
                fprintf(stderr, "msrec: --export: expected json, html or both, got '%s'\n", val);
                return 2;
            }
            export_fmt = val;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "msrec: run: no command given (usage: msrec run [OPTIONS] -- CMD ARGS...)\n");
        return 2;
    }
    char **cmd = argv + i;

    char lib[PATH_MAX];
    if (find_library(lib, sizeof lib) < 0)
        return 2;

    /* Output path template, made absolute so a command that chdir()s still
     * writes where the user asked. %p is expanded in the child. */
    char tmpl[PATH_MAX];
    const char *rel = output;
    char defbuf[PATH_MAX];
    if (!rel) {
        snprintf(defbuf, sizeof defbuf, "./%s.%%p.memscope", base_name(cmd[0]));
        rel = defbuf;
    }
    if (rel[0] == '/') {
        if (strlen(rel) >= sizeof tmpl) {
            fprintf(stderr, "msrec: output path too long\n");
            return 2;
        }
        strcpy(tmpl, rel);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) {
            fprintf(stderr, "msrec: getcwd: %s\n", strerror(errno));
            return 2;
        }
        const char *r = rel;
        while (r[0] == '.' && r[1] == '/')
            r += 2;
        if ((size_t)snprintf(tmpl, sizeof tmpl, "%s/%s", cwd, r) >= sizeof tmpl) {
            fprintf(stderr, "msrec: output path too long\n");
            return 2;
        }
    }

    if (check_output(tmpl, force) != 0)
        return 2;

    /* The manifest the recording processes list their traces in. */
    char manifest[PATH_MAX] = "";
    if (symbolize || (!quiet && !follow)) {
        const char *td = getenv("TMPDIR");
        snprintf(manifest, sizeof manifest, "%s/msrec-manifest.XXXXXX",
                 td && td[0] == '/' ? td : "/tmp");
        int mfd = mkstemp(manifest);
        if (mfd < 0) {
            snprintf(manifest, sizeof manifest, "/tmp/msrec-manifest.XXXXXX");
            mfd = mkstemp(manifest);
        }
        if (mfd < 0) {
            if (symbolize)
                fprintf(stderr, "msrec: warning: cannot create a manifest file (%s): the trace "
                        "will not be symbolized (msconv resolves it on the fly)\n", strerror(errno));
            manifest[0] = 0;
        } else {
            close(mfd);
        }
    }

    /* Install forwarding before fork so no signal is lost in between. */
    struct sigaction sa, old[4];
    const int fwd[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int k = 0; k < 4; k++)
        sigaction(fwd[k], &sa, &old[k]);

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "msrec: fork: %s\n", strerror(errno));
        if (manifest[0]) unlink(manifest);
        return 2;
    }
    if (pid == 0) {
        /* Child: restore dispositions msrec found, then set the environment. */
        for (int k = 0; k < 4; k++)
            sigaction(fwd[k], &old[k], NULL);
        long me = (long)getpid();
        char path[PATH_MAX], num[32];
        char *preload = preload_list(lib, getenv("LD_PRELOAD"));
        if (!preload)
            _exit(127);
        if (follow)                       /* every process expands %p itself */
            snprintf(path, sizeof path, "%s", tmpl);
        else if (expand_pid(path, sizeof path, tmpl, me) < 0) {
            fprintf(stderr, "msrec: output path too long\n");
            _exit(127);
        }
        snprintf(num, sizeof num, "%ld", me);
        setenv("LD_PRELOAD", preload, 1);
        setenv("MEMSCOPE_AUTO_EXPORT", "1", 1);
        setenv("MEMSCOPE_EXPORT_PATH", path, 1);
        setenv("MEMSCOPE_ACTIVE_PID", num, 1);
        /* the library's lines go only where msrec's own go: never into a
         * descendant's redirected stderr (control.c stderr_remember) */
        struct stat est;
        if (fstat(2, &est) == 0) {
            char id[64];
            snprintf(id, sizeof id, "%llu:%llu", (unsigned long long)est.st_dev,
                     (unsigned long long)est.st_ino);
            setenv("MEMSCOPE_STDERR", id, 1);
        } else {
            unsetenv("MEMSCOPE_STDERR");
        }
        if (follow)
            setenv("MEMSCOPE_FOLLOW_EXEC", "1", 1);
        else
            unsetenv("MEMSCOPE_FOLLOW_EXEC");
        unsetenv("MEMSCOPE_EXEC_GEN");    /* CMD is no exec'd image (exec.c) */
        if (manifest[0])
            setenv("MEMSCOPE_MANIFEST", manifest, 1);
        else
            unsetenv("MEMSCOPE_MANIFEST");
        /* pymalloc arenas would hide objects; the user's value wins. The
         * mark lets programs that do not record drop ours (exec.c) */
        if (!getenv("PYTHONMALLOC")) {
            setenv("PYTHONMALLOC", "malloc", 1);
            setenv("MEMSCOPE_PYTHONMALLOC", "1", 1);
        } else {
            unsetenv("MEMSCOPE_PYTHONMALLOC");
        }
        if (unwind)
            setenv("MEMSCOPE_UNWIND", unwind, 1);
        if (export_fmt)
            setenv("MEMSCOPE_EXPORT_FORMAT", export_fmt, 1);
        if (quiet)
            setenv("MEMSCOPE_QUIET", "1", 1);
        if (sample) {
            char rate[32];
            snprintf(rate, sizeof rate, "%llu", sample);
            setenv("MEMSCOPE_SAMPLE_RATE", rate, 1);
        }
        execvp(cmd[0], cmd);
        int e = errno;
        if (e == ENOENT && !strchr(cmd[0], '/'))
            fprintf(stderr, "msrec: %s: command not found\n", cmd[0]);
        else
            fprintf(stderr, "msrec: %s: %s\n", cmd[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
    }

    child_pid = pid;
    /* the child's modules are opened for the symbolizer while it runs */
    msrec_prewarm *pw = manifest[0] && symbolize ? msrec_prewarm_start(pid, symflags) : NULL;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, 0);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "msrec: waitpid: %s\n", strerror(errno));
            mssym_free(msrec_prewarm_stop(pw));
            if (manifest[0]) unlink(manifest);
            return 2;
        }
    }
    child_pid = 0;
    mssym *warm = msrec_prewarm_stop(pw);
    for (int k = 0; k < 4; k++)
        sigaction(fwd[k], &old[k], NULL);

    int rc;
    if (WIFEXITED(status))
        rc = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        rc = 128 + WTERMSIG(status);
    else
        rc = 2;

    /* Warn when the command could not be traced at all (statically linked,
     * setuid, or it replaced its environment). Only for a plain path. */
    if (!quiet && !follow && rc != 127 && rc != 126) {
        char path[PATH_MAX];
        struct stat st;
        struct rlimit rl;
        if (expand_pid(path, sizeof path, tmpl, (long)pid) == 0 && !strchr(path, '%') &&
            stat(path, &st) != 0) {
            if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 64)
                fprintf(stderr, "msrec: warning: no trace was written to %s (the open-file limit "
                        "is %llu; the recorder needs 64)\n", path, (unsigned long long)rl.rlim_cur);
            else
                fprintf(stderr, "msrec: warning: no trace was written to %s "
                        "(statically linked or setuid command?)\n", path);
        }
    }
    if (manifest[0]) {
        if (!quiet && !follow) note_unrecorded(manifest, (long)pid);
        /* (the pool the traces hand their opened modules to: each file is
         * opened once for all processes of the run) */
        if (symbolize && !warm) mssym_new(&warm, symflags);
        if (symbolize) symbolize_manifest(manifest, symflags, quiet, warm);
        unlink(manifest);
    }
    mssym_free(warm);
    return rc;
}
