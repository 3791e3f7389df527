/*
 * `msrec snapshot`: command line front end of the /proc snapshotter. Parses
 * the options, resolves the output (a .memscope file, or a directory that
 * gets DIR/DIR.memscope like seed 000's "升级前/升级前.json"), writes one
 * snapshot or a series (--interval/--count) as SNAP_BEGIN, SNAP_PROC...,
 * SNAP_END records and a final END, keeps only the N largest processes with
 * --max-processes, and with --print shows the result through msconv (which
 * lives beside msrec). The file is written under a temporary name and
 * linked into place only when complete, so an error or Ctrl-C never leaves
 * a half-written snapshot at OUT. Without root most of other users'
 * processes cannot be read (no PSS, libraries, open files), so like seed
 * 000 ("自动处理 sudo") it first re-runs itself through `sudo -n` when that
 * works without a password (--no-sudo stops it; the files it writes then
 * belong to the calling user), and otherwise says at the end exactly what
 * could not be read and why.
 */
#include "../msrec/msrec.h"
#include "snap_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { (void)sig; g_stop = 1; }

static void usage(FILE *f)
{
    fprintf(f,
        "usage: msrec snapshot OUT [options]\n"
        "       msrec snapshot --pid PID --print [OUT]\n"
        "\n"
        "Record the memory of every process from /proc into OUT. OUT is a file\n"
        "ending in .memscope, or a directory: DIR gets DIR/NAME.memscope where NAME\n"
        "is the directory name (e.g. `msrec snapshot ./升级前`).\n"
        "\n"
        "options:\n"
        "  --pid PID            snapshot only process PID\n"
        "  --max-processes N    keep the N largest processes by PSS (the rest is\n"
        "                       counted in a remainder line)\n"
        "  --label TEXT         label of the snapshot (default: the output's name)\n"
        "  --interval SEC       seconds between snapshots of a series (default 60)\n"
        "  --count N            number of snapshots in the series (default 1)\n"
        "  --lib-memory         per-library and per-permission RSS and PSS (reads\n"
        "                       smaps: about 2-3x slower; default with --pid)\n"
        "  --no-libs            no library or permission data (fastest)\n"
        "  --print              show the snapshot (msconv view) on stdout; OUT is\n"
        "                       optional then\n"
        "  --lang zh|en         language of --print (default zh)\n"
        "  --no-sudo            when not root, do not re-run through `sudo -n`\n"
        "  --help               this text\n"
        "\n"
        "Not as root, msrec snapshot re-runs itself with `sudo -n` when sudo allows\n"
        "that without a password. Otherwise other users' processes are recorded with\n"
        "what /proc allows (no PSS, libraries or open files); their read status says\n"
        "so, one line counts them, and msdiff treats their memory as unknown.\n");
}

static int parse_long(const char *s, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min) return -1;
    *out = v;
    return 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_pss_desc(const void *a, const void *b)
{
    const sn_proc *x = a, *y = b;
    if (x->r.pss != y->r.pss) return x->r.pss < y->r.pss ? 1 : -1;
    if (x->r.rss != y->r.rss) return x->r.rss < y->r.rss ? 1 : -1;
    return (x->r.pid > y->r.pid) - (x->r.pid < y->r.pid);
}

static int cmp_pid_asc(const void *a, const void *b)
{
    const sn_proc *x = a, *y = b;
    return (x->r.pid > y->r.pid) - (x->r.pid < y->r.pid);
}

#define DENIED_BITS (MS_READ_DENIED_SMAPS | MS_READ_DENIED_FD | MS_READ_DENIED_EXE | MS_READ_DENIED_MAPS)

typedef struct snap_stats {
    uint64_t scanned, written, vanished, denied, zombies;
    uint64_t denied_smaps, denied_fd, denied_exe;
} snap_stats;

/* One snapshot: system facts, every process, the end record. */
static int write_one(ms_writer *w, sn_scanner *sc, uint64_t index, const char *label,
                     long max_procs, snap_stats *st, const char **why)
{
    sn_sys sys;
    if (sn_sys_read(&sys)) { *why = "out of memory"; return -1; }
    ms_record rec;
    memset(&rec, 0, sizeof rec);
    rec.type = MS_REC_SNAP_BEGIN;
    ms_snap_begin *b = &rec.u.snap_begin;
    b->index = index;
    b->wall_ns = now_ns();
    b->label.ptr = label; b->label.len = strlen(label);
    b->hostname.ptr = sys.hostname; b->hostname.len = strlen(sys.hostname);
    b->kernel.ptr = sys.kernel; b->kernel.len = strlen(sys.kernel);
    b->os_release.ptr = sys.os_release; b->os_release.len = strlen(sys.os_release);
    b->boot_id.ptr = sys.boot_id; b->boot_id.len = strlen(sys.boot_id);
    b->page_size = sys.page_size;
    b->uptime_ms = sys.uptime_ms;
    b->nmeminfo = sys.nmeminfo;
    b->meminfo = sys.meminfo;
    b->nvmstat = sys.nvmstat;
    b->vmstat = sys.vmstat;
    b->nzoneinfo = sys.nzoneinfo;
    b->zoneinfo = sys.zoneinfo;
    b->nslabs = sys.nslabs;
    b->slabs = sys.slabs;
    b->privilege = sys.privilege;
    int rc = ms_writer_add(w, &rec);
    sn_sys_free(&sys);
    if (rc) { *why = ms_strerror(rc); return -1; }

    sn_proc *procs;
    size_t n;
    if (sn_scan_all(sc, &procs, &n)) { *why = "cannot scan /proc"; return -1; }
    memset(st, 0, sizeof *st);
    st->scanned = n;
    ms_snap_end e;
    memset(&e, 0, sizeof e);
    e.index = index;
    for (size_t i = 0; i < n; i++) {
        uint32_t rs = procs[i].r.read_status;
        if (rs & MS_READ_VANISHED) st->vanished++;
        if (rs & DENIED_BITS) st->denied++;
        if (rs & MS_READ_DENIED_SMAPS) st->denied_smaps++;
        if (rs & MS_READ_DENIED_FD) st->denied_fd++;
        if (rs & MS_READ_DENIED_EXE) st->denied_exe++;
        if (rs & MS_READ_ZOMBIE) st->zombies++;
    }
    size_t keep = n;
    if (max_procs > 0 && (size_t)max_procs < n) {
        qsort(procs, n, sizeof *procs, cmp_pss_desc);
        keep = (size_t)max_procs;
        for (size_t i = keep; i < n; i++) {
            e.omitted_pss += procs[i].r.pss;
            e.omitted_rss += procs[i].r.rss;
            e.omitted_kind[procs[i].r.kind < 3 ? procs[i].r.kind : MS_PROC_USER]++;
        }
        e.n_omitted = n - keep;
        qsort(procs, keep, sizeof *procs, cmp_pid_asc);
    }
    rc = 0;
    for (size_t i = 0; i < keep && !rc; i++) {
        memset(&rec, 0, sizeof rec);
        rec.type = MS_REC_SNAP_PROC;
        rec.u.snap_proc = procs[i].r;
        rec.u.snap_proc.snap_index = index;
        rc = ms_writer_add(w, &rec);
        if (rc == MS_ELIMIT) {
            /* a record over the format's 64 MiB limit (tens of thousands of
             * mapped files): keep the process, drop its library list */
            rec.u.snap_proc.nlibs = 0;
            rec.u.snap_proc.nlib_flags = 0;
            rc = ms_writer_add(w, &rec);
        }
    }
    for (size_t i = 0; i < n; i++) sn_proc_free(&procs[i]);
    free(procs);
    if (rc) { *why = ms_strerror(rc); return -1; }
    st->written = keep;
    e.wall_ns = now_ns();
    e.n_procs = keep;
    e.n_vanished = st->vanished;
    e.n_denied = st->denied;
    memset(&rec, 0, sizeof rec);
    rec.type = MS_REC_SNAP_END;
    rec.u.snap_end = e;
    rc = ms_writer_add(w, &rec);
    if (rc) { *why = ms_strerror(rc); return -1; }
    return 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Resolve OUT into the final file path and the default label. */
static int resolve_out(const char *out, char *path, size_t cap, char *label, size_t lcap)
{
    char tmp[PATH_MAX];
    if (strlen(out) >= sizeof tmp) { errno = ENAMETOOLONG; return -1; }
    strcpy(tmp, out);
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/') tmp[--n] = 0;
    const char *base = strrchr(tmp, '/');
    base = base ? base + 1 : tmp;
    struct stat st;
    int is_dir = stat(tmp, &st) == 0 && S_ISDIR(st.st_mode);
    if (!is_dir && ends_with(tmp, ".memscope")) {
        snprintf(label, lcap, "%.*s", (int)(strlen(base) - strlen(".memscope")), base);
        if (snprintf(path, cap, "%s", tmp) >= (int)cap) { errno = ENAMETOOLONG; return -1; }
        return 0;
    }
    char name[NAME_MAX + 1];
    if (!strcmp(base, ".") || !strcmp(base, "..") || !strcmp(base, "/") || !*base) {
        char cwd[PATH_MAX];
        if (!realpath(tmp, cwd)) return -1;
        const char *b2 = strrchr(cwd, '/');
        snprintf(name, sizeof name, "%s", b2 && b2[1] ? b2 + 1 : "snapshot");
    } else {
        snprintf(name, sizeof name, "%s", base);
    }
    if (!is_dir) {
        if (stat(tmp, &st) == 0) { errno = ENOTDIR; return -1; }
        if (mkdir(tmp, 0755) != 0) return -1;
    }
    snprintf(label, lcap, "%s", name);
    if (snprintf(path, cap, "%s/%s.memscope", tmp, name) >= (int)cap) { errno = ENAMETOOLONG; return -1; }
    return 0;
}

/* Path of PROG in $PATH into out; 0 or -1. */
static int find_in_path(const char *prog, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    while (*path) {
        const char *c = strchr(path, ':');
        size_t n = c ? (size_t)(c - path) : strlen(path);
        if (n && snprintf(out, cap, "%.*s/%s", (int)n, path, prog) < (int)cap && access(out, X_OK) == 0) return 0;
        path += n + (c ? 1 : 0);
    }
    return -1;
}

/* Run ARGV with stdin and stdout/stderr on /dev/null; its exit status, or
 * -1 when it could not run. */
static int run_quiet(char *const argv[])
{
    pid_t c = fork();
    if (c < 0) return -1;
    if (c == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); }
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    while (waitpid(c, &status, 0) < 0) if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Not root: re-run `msrec snapshot ARGS --sudo-child` through `sudo -n`
 * when sudo allows it without a password. Returns only when it did not
 * happen, with the reason in why. */
static void try_sudo(int argc, char **argv, const char **why)
{
    static char sudo[PATH_MAX], self[PATH_MAX];
    if (find_in_path("sudo", sudo, sizeof sudo)) { *why = "sudo is not installed"; return; }
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) { *why = "cannot find msrec's own path"; return; }
    self[n] = 0;
    char *probe[] = { sudo, "-n", "true", NULL };
    if (run_quiet(probe) != 0) { *why = "sudo -n needs a password or is not allowed"; return; }
    char **nargv = calloc((size_t)argc + 6, sizeof *nargv);
    if (!nargv) { *why = "out of memory"; return; }
    int k = 0;
    nargv[k++] = sudo; nargv[k++] = "-n"; nargv[k++] = "--"; nargv[k++] = self;
    nargv[k++] = "snapshot";
    for (int i = 1; i < argc; i++) nargv[k++] = argv[i];
    nargv[k++] = "--sudo-child";
    nargv[k] = NULL;
    fflush(stdout);
    execv(sudo, nargv);
    free(nargv);
    *why = "could not run sudo";
}

/* Under --sudo-child: give what we created back to the user who ran sudo. */
static void chown_to_sudo_user(const char *path)
{
    const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
    if (!u || !g || geteuid() != 0) return;
    if (lchown(path, (uid_t)strtoul(u, NULL, 10), (gid_t)strtoul(g, NULL, 10)) != 0) {
        /* the snapshot is complete either way; root keeps it */
    }
}

/* Run msconv (beside this msrec) on FILE. */
static int run_msconv(const char *file, long pid, const char *lang)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 16);
    if (n <= 0) { fprintf(stderr, "msrec: cannot find msconv\n"); return 1; }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    strcpy(slash ? slash + 1 : self, "msconv");
    if (access(self, X_OK) != 0) {
        fprintf(stderr, "msrec: %s: not found (needed by --print); the snapshot is in %s\n", self, file);
        return 1;
    }
    char pidbuf[32];
    snprintf(pidbuf, sizeof pidbuf, "%ld", pid);
    char *argv[10];
    int k = 0;
    argv[k++] = self;
    argv[k++] = (char *)file;
    if (pid > 0) { argv[k++] = "--pid"; argv[k++] = pidbuf; }
    else argv[k++] = "--text";
    if (lang) { argv[k++] = "--lang"; argv[k++] = (char *)lang; }
    argv[k] = NULL;
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) { fprintf(stderr, "msrec: fork: %s\n", strerror(errno)); return 1; }
    if (c == 0) { execv(self, argv); _exit(127); }
    int status;
    while (waitpid(c, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int msrec_snapshot(int argc, char **argv)
{
    const char *out = NULL, *label = NULL, *lang = NULL;
    long pid = 0, maxp = 0, interval = 60, count = 1;
    int print = 0, libs = -1, have_interval = 0, no_sudo = 0, sudo_child = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--print")) print = 1;
        else if (!strcmp(a, "--no-sudo")) no_sudo = 1;
        else if (!strcmp(a, "--sudo-child")) sudo_child = no_sudo = 1;
        else if (!strcmp(a, "--no-libs")) libs = 0;
        else if (!strcmp(a, "--lib-memory")) libs = 2;
        else if (!strcmp(a, "--pid") || !strcmp(a, "--max-processes") || !strcmp(a, "--interval") ||
                 !strcmp(a, "--count") || !strcmp(a, "--label") || !strcmp(a, "--lang")) {
            if (!v) { fprintf(stderr, "msrec: %s needs a value\n", a); return 2; }
            i++;
            int bad = 0;
            if (!strcmp(a, "--pid")) bad = parse_long(v, 1, &pid);
            else if (!strcmp(a, "--max-processes")) bad = parse_long(v, 1, &maxp);
            else if (!strcmp(a, "--interval")) { bad = parse_long(v, 0, &interval); have_interval = 1; }
            else if (!strcmp(a, "--count")) bad = parse_long(v, 1, &count);
            else if (!strcmp(a, "--label")) label = v;
            else lang = v;
            if (bad) { fprintf(stderr, "msrec: %s: invalid value '%s'\n", a, v); return 2; }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "msrec: unknown option '%s' (try msrec snapshot --help)\n", a);
            return 2;
        } else if (!out) out = a;
        else { fprintf(stderr, "msrec: more than one output given ('%s')\n", a); return 2; }
    }
    if (lang && strcmp(lang, "zh") && strcmp(lang, "en")) {
        fprintf(stderr, "msrec: --lang: expected zh or en, got '%s'\n", lang);
        return 2;
    }
    if (have_interval && count < 2) {
        fprintf(stderr, "msrec: --interval needs --count N with N >= 2\n");
        return 2;
    }
    if (!out && !print) { usage(stderr); return 2; }
    if (libs < 0) libs = pid > 0 ? 2 : 1;
    const char *sudo_why = "--no-sudo";
    if (geteuid() != 0 && !no_sudo) try_sudo(argc, argv, &sudo_why);

    char path[PATH_MAX], deflabel[NAME_MAX + 1], tmpdir[PATH_MAX] = "";
    if (!out) {
        const char *td = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/msrec-XXXXXX", td && *td ? td : "/tmp");
        if (!mkdtemp(tmpdir)) { fprintf(stderr, "msrec: %s: %s\n", tmpdir, strerror(errno)); return 1; }
        snprintf(path, sizeof path, "%s/snapshot.memscope", tmpdir);
        snprintf(deflabel, sizeof deflabel, "pid %ld", pid);
    } else {
        struct stat ost;
        int existed = stat(out, &ost) == 0;
        if (resolve_out(out, path, sizeof path, deflabel, sizeof deflabel)) {
            fprintf(stderr, "msrec: %s: %s\n", out, strerror(errno));
            return 1;
        }
        if (sudo_child && !existed && stat(out, &ost) == 0 && S_ISDIR(ost.st_mode)) chown_to_sudo_user(out);
    }
    if (!label) label = deflabel;
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "msrec: %s: file exists (snapshots are never overwritten)\n", path);
        return 1;
    }
    if (pid > 0) {
        char d[32];
        snprintf(d, sizeof d, "/proc/%ld", pid);
        if (access(d, F_OK) != 0) { fprintf(stderr, "msrec: --pid %ld: no such process\n", pid); return 1; }
    }

    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.XXXXXX.tmp", path);
    int fd = mkstemps(tmp, 4);
    if (fd < 0) { fprintf(stderr, "msrec: %s: %s\n", path, strerror(errno)); return 1; }
    fchmod(fd, 0644);
    ms_writer *w = NULL;
    ms_writer_opts wo;
    memset(&wo, 0, sizeof wo);
    wo.kind = MS_KIND_SNAPSHOT;
    int rc = ms_writer_fdopen(&w, fd, 1, &wo);
    if (rc) {
        fprintf(stderr, "msrec: %s: %s\n", path, ms_strerror(rc));
        close(fd); unlink(tmp);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sn_opts so = { .libs = libs, .only_pid = pid, .self_pid = (long)getpid() };
    sn_scanner *sc = sn_scanner_new(&so);
    if (!sc) { ms_writer_close(w); unlink(tmp); fprintf(stderr, "msrec: out of memory\n"); return 1; }
    snap_stats st = {0}, tot = {0};
    const char *why = NULL;
    long done = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < count; i++) {
        if (i > 0) {
            uint64_t target = t0 + (uint64_t)i * (uint64_t)interval * 1000000000ULL;
            while (!g_stop) {
                uint64_t now = now_ns();
                if (now >= target) break;
                uint64_t left = target - now;
                struct timespec ts = { (time_t)(left / 1000000000ULL), (long)(left % 1000000000ULL) };
                if (ts.tv_sec > 1) { ts.tv_sec = 1; ts.tv_nsec = 0; }
                nanosleep(&ts, NULL);
            }
            if (g_stop) break;
        }
        if (write_one(w, sc, (uint64_t)i, label, maxp, &st, &why)) break;
        done++;
        tot.written += st.written;
        if (pid > 0 && st.written == 1 && st.vanished) {
            /* the one process is gone: an error for a single snapshot; a
             * series keeps the snapshots taken before it exited */
            if (done == 1) why = "the process exited during the snapshot";
            else fprintf(stderr, "msrec: process %ld exited; series stopped after %ld snapshots\n", pid, done - 1);
            break;
        }
        if (g_stop) break;
    }
    sn_scanner_free(sc);
    if (!why) {
        ms_record rec;
        memset(&rec, 0, sizeof rec);
        rec.type = MS_REC_END;
        rec.u.end.time = now_ns();
        rec.u.end.reason = g_stop ? MS_END_STOPPED : MS_END_SNAPSHOT;
        rc = ms_writer_add(w, &rec);
        if (rc) why = ms_strerror(rc);
    }
    if (!why && done == 0) why = "interrupted before the first snapshot";
    rc = ms_writer_close(w);
    if (!why && rc) why = ms_strerror(rc);
    if (!why && link(tmp, path) != 0) why = errno == EEXIST ? "file exists (snapshots are never overwritten)" : strerror(errno);
    if (!why && sudo_child && !*tmpdir) chown_to_sudo_user(path);
    unlink(tmp);
    if (why) {
        fprintf(stderr, "msrec: %s: %s\n", path, why);
        if (*tmpdir) rmdir(tmpdir);
        return 1;
    }
    if (st.denied) {
        fprintf(stderr, "msrec: %llu of %llu processes could not be fully read (permission denied: "
                "smaps %llu, fd %llu, exe %llu): their PSS/USS/swap, libraries or open files are unknown",
                (unsigned long long)st.denied, (unsigned long long)st.scanned, (unsigned long long)st.denied_smaps,
                (unsigned long long)st.denied_fd, (unsigned long long)st.denied_exe);
        if (geteuid() != 0)
            fprintf(stderr, "; not root (%s): run as root (sudo msrec snapshot ...) to include them\n", sudo_why);
        else
            fputs("\n", stderr);
    }
    int status = 0;
    if (print) {
        status = run_msconv(path, pid, lang);
        if (*tmpdir) { unlink(path); rmdir(tmpdir); }
        else fprintf(stderr, "msrec: wrote %s\n", path);
    } else {
        fprintf(stderr, "msrec: wrote %s: %ld snapshot%s, %llu processes (%llu exited during the scan)%s\n",
                path, done, done == 1 ? "" : "s", (unsigned long long)st.written,
                (unsigned long long)st.vanished, g_stop ? " (stopped early)" : "");
    }
    return status;
}
