/*
 * msrec attach | detach | status — record a window of a running process.
 *
 * The process runs libmemscope (preloaded or linked in) started with
 * MEMSCOPE_CONTROL=1: dormant, it records nothing and listens on its
 * control channel (recorder/lib/ctlsock.c; protocol in ctlproto.h).
 * `msrec attach PID` creates the output file itself (msrec's working
 * directory, umask and permissions apply; never clobbering one), passes
 * the open descriptor to the process (SCM_RIGHTS), which records into it
 * until the duration (-s) elapses, Ctrl+C, `msrec detach PID` or the
 * process's own end; the process then finishes the file (END) and goes
 * dormant again, and msrec symbolizes the file in its own process (as
 * `msrec run` does) and prints its path on stdout. The attached connection
 * stays open for the session: if msrec dies, the process stops recording
 * and finishes the file by itself. `-o` ending in ".memscope" names the
 * file; anything else is a prefix, PREFIX<pid>.<n>.memscope with n the
 * process's session number (the next free one), as in seed 002's
 * `mem_profiler -s 60 -c 1024 -o /tmp/custom_prof_`.
 *
 * msrec talks only to a socket whose peer is the given pid (SO_PEERCRED);
 * the process accepts only its own user and root. A process without the
 * channel gets a one-line error naming MEMSCOPE_CONTROL=1.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "msrec.h"
#include "mssym.h"
#include "../lib/ctlproto.h"

static volatile sig_atomic_t stop_requests;

static void on_stop(int sig)
{
    (void)sig;
    stop_requests++;
}

static void attach_usage(FILE *f)
{
    fprintf(f,
        "usage: msrec attach PID [-s SECONDS] [-c SAMPLE_BYTES] [-o FILE|PREFIX] [--force]\n"
        "                    [--no-symbolize] [--debuginfod] [-q]\n"
        "       msrec detach PID\n"
        "       msrec status PID\n"
        "\n"
        "Records the heap of a running process that has libmemscope loaded (LD_PRELOAD\n"
        "or linked in) and was started with MEMSCOPE_CONTROL=1: until then it records\n"
        "nothing. attach records from now on into one file, for SECONDS or until\n"
        "Ctrl+C or `msrec detach PID`; the process goes on and can be attached again.\n"
        "The file is a window trace: blocks allocated before it are unknown, their\n"
        "frees are counted apart. msrec prints the file's path on stdout.\n"
        "  -s, --seconds N    stop after N seconds (default: until Ctrl+C or detach)\n"
        "  -c, --sample N     sample one allocation per N bytes on average (needs a\n"
        "                     libmemscope with sampling; default: every allocation)\n"
        "  -o, --output OUT   OUT ending in .memscope: the file (must not exist unless\n"
        "                     --force); else a prefix: OUT<pid>.<n>.memscope, n = the\n"
        "                     session number (default prefix ./<exe>.)\n"
        "  --force            replace an existing -o FILE\n"
        "  --no-symbolize     leave the file unsymbolized (msconv resolves ips later)\n"
        "  --debuginfod       let the symbolizer ask $DEBUGINFOD_URLS servers\n"
        "  -q, --quiet        no progress lines on stderr\n"
        "detach stops a recording (the attached msrec finishes its work); status says\n"
        "whether PID is dormant or recording (file, since when, events so far).\n"
        "Only PID's own user or root may control it.\n");
}

/* ------------------------------------------------------------------------ */
/* The channel                                                              */
/* ------------------------------------------------------------------------ */
static int parse_pid(const char *s, long *pid)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v <= 0 || v > INT_MAX) return -1;
    *pid = v;
    return 0;
}

/* Does PID map a libmemscope? -1 when its maps cannot be read. */
static int has_library(long pid)
{
    char p[64], line[4096];
    snprintf(p, sizeof p, "/proc/%ld/maps", pid);
    FILE *f = fopen(p, "re");
    if (!f) return -1;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, "/libmemscope") != NULL;
    fclose(f);
    return found;
}

static void set_timeout(int fd, int seconds)
{
    struct timeval tv = {seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connect to PID's control channel; -1 after one error line. */
static int ctl_connect(long pid)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%ld", pid);
    if (access(p, F_OK) != 0) {
        fprintf(stderr, "msrec: %ld: no such process\n", pid);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "msrec: socket: %s\n", strerror(errno));
        return -1;
    }
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, MSR_CTL_NAME "%ld", pid);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    if (connect(fd, (struct sockaddr *)&a, len) != 0) {
        int lib = has_library(pid);
        if (lib == 1)
            fprintf(stderr, "msrec: %ld: libmemscope is loaded but its control channel is off: "
                    "start the process with MEMSCOPE_CONTROL=1\n", pid);
        else
            fprintf(stderr, "msrec: %ld: no memscope control channel: start the process with "
                    "libmemscope (LD_PRELOAD or linked in) and MEMSCOPE_CONTROL=1\n", pid);
        close(fd);
        return -1;
    }
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 || cr.pid != (pid_t)pid) {
        fprintf(stderr, "msrec: %ld: its control socket is held by pid %d: not using it\n", pid,
                (int)cr.pid);
        close(fd);
        return -1;
    }
    set_timeout(fd, 10);
    return fd;
}

/* Send one request (with passfd unless -1). */
static int ctl_send(int fd, const char *text, int passfd)
{
    struct iovec iov = {(void *)text, strlen(text)};
    struct msghdr m;
    union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } cm;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (passfd >= 0) {
        memset(&cm, 0, sizeof cm);
        m.msg_control = cm.b;
        m.msg_controllen = sizeof cm.b;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &passfd, sizeof passfd);
    }
    return sendmsg(fd, &m, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* One reply into buf; its length, 0 when the process closed the channel,
 * -1 on error (errno: EINTR, EAGAIN on timeout). */
static ssize_t ctl_recv(int fd, char *buf, size_t cap)
{
    ssize_t n = recv(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

static long long ival(const char *msg, const char *key)
{
    char b[32];
    return msr_ctl_val(msg, key, b, sizeof b) ? strtoll(b, NULL, 10) : -1;
}

/* "error X" replies: print X; returns 1 when msg was an error. */
static int ctl_error(long pid, const char *msg)
{
    if (strncmp(msg, "error ", 6)) return 0;
    const char *nl = strchr(msg + 6, '\n');
    fprintf(stderr, "msrec: %ld: %.*s\n", pid, (int)(nl ? nl - msg - 6 : (long)strlen(msg + 6)), msg + 6);
    return 1;
}

/* Request, reply; -1 after an error line. */
static int ctl_ask(long pid, int fd, const char *req, char *reply, size_t cap)
{
    ssize_t n = -1;
    if (ctl_send(fd, req, -1) != 0 || (n = ctl_recv(fd, reply, cap)) <= 0) {
        fprintf(stderr, "msrec: %ld: no answer on its control channel (%s)\n", pid,
                n == 0 ? "closed" : strerror(errno));
        return -1;
    }
    return ctl_error(pid, reply) ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* status                                                                   */
/* ------------------------------------------------------------------------ */
static void fmt_wall(char *b, size_t n, long long ns)
{
    time_t s = (time_t)(ns / 1000000000LL);
    struct tm tm;
    if (ns <= 0 || !localtime_r(&s, &tm)) snprintf(b, n, "?");
    else strftime(b, n, "%Y-%m-%d %H:%M:%S", &tm);
}

static double now_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* `msrec status|detach PID`: the connection to PID, or -1 and the exit
 * status in *rc (--help: 0; usage: 2; no channel: 1). */
static int pid_command(int argc, char **argv, long *pid, int *rc)
{
    *rc = 0;
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        attach_usage(stdout);
        return -1;
    }
    *rc = 2;
    if (argc != 2 || parse_pid(argv[1], pid)) {
        fprintf(stderr, "msrec: usage: msrec %s PID\n", argv[0]);
        return -1;
    }
    *rc = 1;
    return ctl_connect(*pid);
}

int msrec_status(int argc, char **argv)
{
    long pid;
    int rc, fd = pid_command(argc, argv, &pid, &rc);
    if (fd < 0) return rc;
    char r[MSR_CTL_MAX];
    rc = ctl_ask(pid, fd, MSR_CTL_MAGIC " status\n", r, sizeof r);
    close(fd);
    if (rc) return 1;
    char state[32], path[1100], since[64], left[80] = "";
    msr_ctl_val(r, "state", state, sizeof state);
    long long sessions = ival(r, "sessions");
    if (strcmp(state, "recording") != 0) {
        printf("pid %ld: %s (memscope control channel open), %lld recording session%s so far\n",
               pid, state, sessions, sessions == 1 ? "" : "s");
        return 0;
    }
    msr_ctl_val(r, "path", path, sizeof path);
    char scope[16];
    msr_ctl_val(r, "scope", scope, sizeof scope);
    long long since_ns = ival(r, "since_ns"), ev = ival(r, "events"), by = ival(r, "bytes");
    long long dur = ival(r, "duration_ms"), lft = ival(r, "left_ms"), rate = ival(r, "sample_rate");
    fmt_wall(since, sizeof since, since_ns);
    double el = since_ns > 0 ? now_wall_s() - since_ns / 1e9 : 0;
    if (dur > 0) snprintf(left, sizeof left, "stops in %.1f s", lft / 1e3);
    else snprintf(left, sizeof left, "until msrec detach %ld", pid);
    printf("pid %ld: recording to %s since %s (%.1f s, %s %lld%s), ", pid, path, since, el,
           strcmp(scope, "window") ? "since the process started; session" : "window, session",
           ival(r, "session"), rate > 0 ? ", sampled" : "");
    if (ev >= 0) printf("%lld heap events, %.2f MB written so far; ", ev, by / 1e6);
    else printf("event count busy; ");
    printf("%s\n", left);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* detach                                                                   */
/* ------------------------------------------------------------------------ */
static const char *why_text(const char *reason)
{
    if (!strcmp(reason, "detach")) return "stopped by msrec detach";
    if (!strcmp(reason, "duration")) return "stopped after the requested duration";
    if (!strcmp(reason, "lost")) return "stopped: the attached msrec went away";
    if (!strcmp(reason, "exit")) return "the process exited";
    if (!strcmp(reason, "_exit")) return "the process exited (_exit)";
    if (!strcmp(reason, "signal")) return "the process died of a signal";
    if (!strcmp(reason, "exec")) return "the process replaced its image (exec)";
    return reason;
}

int msrec_detach(int argc, char **argv)
{
    long pid;
    int rc, fd = pid_command(argc, argv, &pid, &rc);
    if (fd < 0) return rc;
    set_timeout(fd, 120);         /* the process finishes the file first */
    char r[MSR_CTL_MAX], path[1100], reason[32];
    rc = ctl_ask(pid, fd, MSR_CTL_MAGIC " detach\n", r, sizeof r);
    close(fd);
    if (rc) return 1;
    msr_ctl_val(r, "path", path, sizeof path);
    msr_ctl_val(r, "reason", reason, sizeof reason);
    fprintf(stderr, "msrec: %ld: %s; %s: %lld heap events, %.2f MB\n", pid, why_text(reason), path,
            ival(r, "events"), ival(r, "bytes") / 1e6);
    printf("%s\n", path);
    return ival(r, "write_errors") > 0 ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* attach                                                                   */
/* ------------------------------------------------------------------------ */
/* END of a file the process left (it ended during the session). */
static int file_end(const char *path, ms_end *end)
{
    ms_reader *r;
    if (ms_reader_open(&r, path) != MS_OK) return 0;
    const ms_record *rec;
    int got = 0;
    while (ms_reader_next(r, &rec) == 1)
        if (rec->type == MS_REC_END) {
            *end = rec->u.end;
            got = 1;
        }
    ms_reader_close(r);
    return got;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* Create the output file (O_EXCL): FILE, or PREFIX<pid>.<n>.memscope from
 * n = first on. Fills path (absolute); the descriptor, or -1 after an
 * error line. */
static int create_output(const char *out, long pid, long first, int force, char *path, size_t cap)
{
    char name[PATH_MAX];
    int fd = -1;
    if (ends_with(out, ".memscope")) {
        snprintf(name, sizeof name, "%s", out);
        if (msrec_clear_output(name, force) != 0) return -1;
        fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    } else {
        for (long n = first; n < first + 10000; n++) {
            snprintf(name, sizeof name, "%s%ld.%ld.memscope", out, pid, n);
            fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
            if (fd >= 0 || errno != EEXIST) break;
        }
    }
    if (fd < 0) {
        fprintf(stderr, "msrec: %s: %s\n", name, strerror(errno));
        return -1;
    }
    char cwd[PATH_MAX];
    size_t len;
    if (name[0] != '/' && getcwd(cwd, sizeof cwd)) {
        const char *r = name;
        while (r[0] == '.' && r[1] == '/') r += 2;
        len = (size_t)snprintf(path, cap, "%s/%s", cwd, r);
    } else {
        len = (size_t)snprintf(path, cap, "%s", name);
    }
    if (len >= cap || strchr(path, '\n')) {
        fprintf(stderr, "msrec: %s: %s\n", name, len >= cap ? "output path too long" :
                "a newline in the output path");
        close(fd);
        unlink(name);
        return -1;
    }
    return fd;
}

static int parse_bytes(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-') return -1;
    if (*end == 'k' || *end == 'K') v <<= 10, end++;
    else if (*end == 'm' || *end == 'M') v <<= 20, end++;
    if (*end || v == 0) return -1;
    *out = v;
    return 0;
}

/* Report the end of the session; returns msrec's exit status. */
static int report_end(long pid, const char *path, const char *msg, int quiet, unsigned symflags,
                      int symbolize)
{
    char reason[32] = "";
    long long events = -1, bytes = -1, werr = 0;
    int complete;
    if (msg) {
        msr_ctl_val(msg, "reason", reason, sizeof reason);
        events = ival(msg, "events");
        bytes = ival(msg, "bytes");
        werr = ival(msg, "write_errors");
        complete = werr <= 0;
    } else {
        /* the process closed the channel without a word: it exited, died
         * or exec'd during the session; what does the file say? */
        ms_end e;
        memset(&e, 0, sizeof e);
        complete = file_end(path, &e);
        struct stat st;
        bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
        if (complete) {
            events = (long long)e.n_events;
            werr = (long long)e.write_errors;
            complete = !e.write_errors && !e.events_lost;
            snprintf(reason, sizeof reason, "%s", e.reason == MS_END_EXIT ? "exit"
                     : e.reason == MS_END_UEXIT ? "_exit" : e.reason == MS_END_SIGNAL ? "signal"
                     : e.reason == MS_END_EXEC ? "exec" : e.reason == MS_END_STOPPED ? "detach" : "?");
        }
    }
    if (!reason[0]) {
        fprintf(stderr, "msrec: %ld ended during the session without finishing %s (killed?): it is "
                "readable up to its last flush (msconv --info %s)\n", pid, path, path);
        printf("%s\n", path);
        return 1;
    }
    if (werr > 0)
        fprintf(stderr, "msrec: %s is incomplete: %lld write errors in the process (msconv --info "
                "%s)\n", path, werr, path);
    if (!quiet)
        fprintf(stderr, "msrec: %ld: %s; wrote %s: %lld heap events, %.2f MB\n", pid, why_text(reason),
                path, events, bytes / 1e6);
    if (symbolize) msrec_symbolize_one(path, NULL, symflags | MSSYM_FINISHED, quiet, NULL);
    printf("%s\n", path);
    return complete ? 0 : 1;
}

int msrec_attach(int argc, char **argv)
{
    long pid = 0;
    double seconds = 0;
    uint64_t rate = 0;
    const char *out = NULL;
    int force = 0, symbolize = 1, quiet = 0;
    unsigned symflags = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            attach_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--force")) { force = 1; continue; }
        if (!strcmp(a, "--no-symbolize")) { symbolize = 0; continue; }
        if (!strcmp(a, "--debuginfod")) { symflags |= MSSYM_DEBUGINFOD; continue; }
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) { quiet = 1; continue; }
        const char *names[3][2] = { {"-s", "--seconds"}, {"-c", "--sample"}, {"-o", "--output"} };
        int which = -1;
        const char *v = NULL;
        for (int k = 0; k < 3 && which < 0; k++)
            for (int j = 0; j < 2; j++) {
                size_t n = strlen(names[k][j]);
                if (!strcmp(a, names[k][j])) {
                    if (i + 1 >= argc) {
                        fprintf(stderr, "msrec: %s needs a value\n", a);
                        return 2;
                    }
                    which = k;
                    v = argv[++i];
                    break;
                }
                if (!strncmp(a, names[k][j], n) && a[n] == '=') {
                    which = k;
                    v = a + n + 1;
                    break;
                }
            }
        if (which == 0) {
            char *end;
            seconds = strtod(v, &end);
            if (*end || end == v || !(seconds > 0) || seconds > 1e7) {
                fprintf(stderr, "msrec: -s: expected a number of seconds > 0, got '%s'\n", v);
                return 2;
            }
        } else if (which == 1) {
            if (parse_bytes(v, &rate)) {
                fprintf(stderr, "msrec: -c: expected a number of bytes > 0 (e.g. 1024, 512k), got '%s'\n", v);
                return 2;
            }
        } else if (which == 2) {
            if (!*v) {
                fprintf(stderr, "msrec: -o needs a value\n");
                return 2;
            }
            out = v;
        } else if (a[0] == '-') {
            fprintf(stderr, "msrec: unknown option '%s' (try msrec attach --help)\n", a);
            return 2;
        } else if (pid || parse_pid(a, &pid)) {
            fprintf(stderr, "msrec: attach: expected one PID, got '%s'\n", a);
            return 2;
        }
    }
    if (!pid) {
        fprintf(stderr, "msrec: usage: msrec attach PID [-s SECONDS] [-c SAMPLE_BYTES] [-o FILE|PREFIX]\n");
        return 2;
    }
    int fd = ctl_connect(pid);
    if (fd < 0) return 1;
    char r[MSR_CTL_MAX], state[32], path[1000];   /* (the process keeps 1 KiB) */
    if (ctl_ask(pid, fd, MSR_CTL_MAGIC " status\n", r, sizeof r)) {
        close(fd);
        return 1;
    }
    msr_ctl_val(r, "state", state, sizeof state);
    if (strcmp(state, "dormant") != 0) {
        char cur[1100];
        if (!strcmp(state, "recording"))
            fprintf(stderr, "msrec: %ld: already recording to %s (msrec detach %ld first)\n", pid,
                    msr_ctl_val(r, "path", cur, sizeof cur) ? cur : "?", pid);
        else
            fprintf(stderr, "msrec: %ld: %s, not attaching\n", pid, state);
        close(fd);
        return 1;
    }
    /* a fresh connection for the session (the status one is done) */
    close(fd);
    char prefix[PATH_MAX];
    if (!out) {
        char exe[PATH_MAX], lp[64];
        snprintf(lp, sizeof lp, "/proc/%ld/exe", pid);
        ssize_t n = readlink(lp, exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        const char *b = strrchr(exe, '/');
        if ((size_t)snprintf(prefix, sizeof prefix, "./%s.", b ? b + 1 : (n > 0 ? exe : "process")) >=
            sizeof prefix)
            snprintf(prefix, sizeof prefix, "./process.");
        out = prefix;
    }
    int ofd = create_output(out, pid, ival(r, "sessions") + 1, force, path, sizeof path);
    if (ofd < 0) return 1;
    if ((fd = ctl_connect(pid)) < 0) {
        close(ofd);
        unlink(path);
        return 1;
    }
    char req[MSR_CTL_MAX];
    (void)!snprintf(req, sizeof req, MSR_CTL_MAGIC " attach\nduration_ms=%llu\nsample_rate=%llu\npath=%s\n",
             (unsigned long long)(seconds * 1000 + 0.5), (unsigned long long)rate, path);
    ssize_t n = -1;
    if (ctl_send(fd, req, ofd) == 0) n = ctl_recv(fd, r, sizeof r);
    close(ofd);
    if (n <= 0 || ctl_error(pid, r) || strncmp(r, "ok", 2)) {
        if (n <= 0) fprintf(stderr, "msrec: %ld: no answer on its control channel\n", pid);
        close(fd);
        unlink(path);
        return 1;
    }
    if (!quiet) {
        if (seconds > 0)
            fprintf(stderr, "msrec: recording pid %ld into %s for %g s (Ctrl+C stops sooner)\n", pid,
                    path, seconds);
        else
            fprintf(stderr, "msrec: recording pid %ld into %s until Ctrl+C or msrec detach %ld\n",
                    pid, path, pid);
    }
    /* wait for the end of the session: its "ended" message, or the
     * channel closing (the process exited, died or exec'd) */
    struct sigaction sa, old[3];
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    for (int k = 0; k < 3; k++) sigaction(sigs[k], &sa, &old[k]);
    set_timeout(fd, 0);
    int asked = 0;
    for (;;) {
        if (stop_requests && !asked) {
            asked = 1;
            set_timeout(fd, 120);
            if (ctl_send(fd, MSR_CTL_MAGIC " detach\n", -1) != 0) break;
        }
        if (stop_requests > 1) {
            fprintf(stderr, "msrec: %ld: not waiting any longer; the process finishes %s itself\n",
                    pid, path);
            close(fd);
            return 130;
        }
        n = ctl_recv(fd, r, sizeof r);
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    for (int k = 0; k < 3; k++) sigaction(sigs[k], &old[k], NULL);
    close(fd);
    return report_end(pid, path, n > 0 && !strncmp(r, "ended", 5) ? r : NULL, quiet, symflags,
                      symbolize);
}
