/*
 * ctlsock.c — the control channel of a process running libmemscope with
 * MEMSCOPE_CONTROL=1: `msrec attach PID` starts a recording session in it
 * (session.c), `msrec detach PID` stops it, `msrec status PID` asks what
 * it is doing. Protocol and socket name: ctlproto.h.
 *
 * The channel is a SOCK_SEQPACKET socket in the abstract AF_UNIX namespace
 * named after the pid. Why abstract rather than a file in a 0700
 * directory: it disappears with the process (exit, crash, kill -9, exec:
 * it is close-on-exec), so nothing stale is left behind and a new process
 * that reuses the pid binds its own; it needs no directory that the
 * operator and a service with a private /tmp would both have to see; and a
 * forked child can cheaply get its own. What the directory's mode would
 * have done is done by credentials: every connection's SO_PEERCRED uid
 * must be this process's effective uid or root, else it gets one "error"
 * line and is closed; msrec in turn talks only to a socket whose peer pid
 * is the pid it was given (nobody else can bind the name and receive its
 * file). Nothing is created in the file system, nothing is
 * world-writable, and without MEMSCOPE_CONTROL=1 (or in a setuid program)
 * there is no listener at all.
 *
 * One thread ("memscope-ctl") serves it: all signals blocked, the
 * recorder's guard set (what it allocates is never recorded), its stack
 * left out of leak scans, no library beyond libc. It sleeps in poll(2) on
 * the listening socket and, during a session, on the attached msrec's
 * connection and the session's deadline (-s): the dormant process pays
 * nothing for it. Requests are served one at a time and every connection
 * has 2 s send/receive timeouts, so a stuck client cannot hold it.
 * Closing the attached connection (msrec killed) ends the session as a
 * detach would (END detail MS_STOP_LOST): a file never stays open without
 * a controller.
 *
 * Descriptors follow the recorder's first law: the listening socket and
 * the session's connection are close-on-exec, moved near the top of the
 * descriptor limit and protected like the trace (fdguard.c: the program's
 * close/dup2/closefrom cannot take them); identity is checked before each
 * use, and a listener closed behind our back (raw system call) is made
 * anew instead of accepting on whatever reused the number.
 *
 * fork: a child must not share the parent's channel (it would keep the
 * attached msrec's connection open after the parent died, and steal
 * requests meant for the parent). The fork handlers close the inherited
 * descriptors in the child, forget the parent's session (the child is
 * dormant; control.c already stopped recording there) and start the
 * child's own listener under its own pid, so a service that daemonizes
 * (fork, parent exits) can still be attached. exec.c's own finishing fork
 * is left alone. An exec'd image gets a new channel from its constructor
 * when MEMSCOPE_CONTROL=1 is still in its environment. The prepare handler
 * waits until no request is being served, so the child never inherits a
 * half-changed recorder.
 */
#include "recorder_internal.h"
#include "exec_internal.h"
#include "fdguard.h"
#include "inspect.h"
#include "session.h"
#include "ctlproto.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>

static msr_lock ctl_lock;        /* held while a request is served         */
static int lfd = -1;             /* the listening socket                   */
static int owner = -1;           /* the attached msrec's connection        */
static uint64_t deadline_ns;     /* monotonic; 0 = until detach            */
static uint64_t duration_ms;

/* ------------------------------------------------------------------------ */
/* Sockets                                                                  */
/* ------------------------------------------------------------------------ */
static socklen_t ctl_addr(struct sockaddr_un *a, pid_t pid)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(a->sun_path + 1, sizeof a->sun_path - 1, MSR_CTL_NAME "%d", (int)pid);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

/* A protected, close-on-exec descriptor placed high. */
static int keep(int fd)
{
    fd = msr_fdguard_place_high(fd);
    msr_fdguard_add(fd);
    return fd;
}

static int make_listener(void)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un a;
    socklen_t len = ctl_addr(&a, getpid());
    if (bind(fd, (struct sockaddr *)&a, len) != 0 || listen(fd, 8) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return keep(fd);
}

/* (close() with the guard set closes a protected descriptor only while it
 * is still ours: fdguard.c) */
static void drop(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void say(int fd, const char *text)
{
    ssize_t r = send(fd, text, strlen(text), MSG_NOSIGNAL);
    (void)r;
}

/* One datagram into buf (NUL-terminated); a descriptor passed with it goes
 * to *rfd (else -1). Returns its length, 0 at end of file, -1 on error. */
static ssize_t take(int fd, char *buf, size_t cap, int *rfd)
{
    union { struct cmsghdr h; char b[CMSG_SPACE(4 * sizeof(int))]; } cm;
    struct iovec iov = {buf, cap - 1};
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = cm.b;
    m.msg_controllen = sizeof cm.b;
    *rfd = -1;
    ssize_t n = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
    for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int got;
            memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
            if (*rfd < 0) *rfd = got;
            else close(got);          /* one descriptor per request */
        }
    }
    if (n < 0) return -1;
    buf[n] = 0;
    return n;
}

static uint64_t num(const char *msg, const char *key)
{
    char b[32];
    return msr_ctl_val(msg, key, b, sizeof b) ? strtoull(b, NULL, 10) : 0;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */
static void reply_status(int cfd)
{
    char b[MSR_CTL_MAX];
    int s = msr_session_state();
    size_t n = (size_t)snprintf(b, sizeof b, "ok\nstate=%s\nsessions=%llu\npid=%d\n",
                                s == MSR_SESS_DORMANT ? "dormant"
                                : s == MSR_SESS_RECORDING ? "recording" : "exiting",
                                (unsigned long long)msr_session_count(), (int)getpid());
    if (s == MSR_SESS_RECORDING && n < sizeof b) {
        struct msr_session_info si;
        msr_session_info(&si);
        uint64_t now = msr_mono_ns();
        uint64_t left = deadline_ns > now ? (deadline_ns - now) / 1000000 : 0;
        snprintf(b + n, sizeof b - n,
                 "path=%s\nsession=%llu\nscope=%s\nsince_ns=%llu\nduration_ms=%llu\nleft_ms=%llu\n"
                 "events=%lld\nbytes=%lld\nsample_rate=%llu\n",
                 si.path, (unsigned long long)si.session, si.window ? "window" : "process",
                 (unsigned long long)si.since_ns, (unsigned long long)(deadline_ns ? duration_ms : 0),
                 (unsigned long long)left, si.events == ~0ull ? -1LL : (long long)si.events,
                 si.bytes == ~0ull ? -1LL : (long long)si.bytes,
                 (unsigned long long)si.sample_rate);
    }
    say(cfd, b);
}

static void ended_text(char *b, size_t cap)
{
    const struct msr_end_note *e = &msr_last_end;
    const char *why = "unknown";
    switch (e->reason) {
    case MS_END_STOPPED:
        why = e->detail == MS_STOP_DURATION ? "duration" : e->detail == MS_STOP_LOST ? "lost" : "detach";
        break;
    case MS_END_EXIT: why = "exit"; break;
    case MS_END_SIGNAL: why = "signal"; break;
    case MS_END_UEXIT: why = "_exit"; break;
    case MS_END_EXEC: why = "exec"; break;
    }
    snprintf(b, cap, "ended\nreason=%s\ndetail=%lld\npath=%s\nevents=%llu\nevents_written=%llu\n"
             "bytes=%llu\nwrite_errors=%llu\nerrno=%d\n", why, (long long)e->detail,
             msr_cfg.abs_path[0] ? msr_cfg.abs_path : msr_cfg.path,
             (unsigned long long)e->events, (unsigned long long)e->events_written,
             (unsigned long long)e->bytes, (unsigned long long)e->write_errors, e->first_errno);
}

/* End the recording (detail MS_STOP_*): the attached msrec and the one
 * that asked (requester, or -1) get the "ended" message. */
static void end_session(int detail, int requester)
{
    msr_session_end(detail);
    char b[MSR_CTL_MAX];
    ended_text(b, sizeof b);
    if (owner >= 0) {
        if (msr_fdguard_same(owner)) say(owner, b);
        drop(&owner);
    }
    if (requester >= 0) say(requester, b);
    deadline_ns = 0;
}

/* attach: the session owns rfd from here; cfd stays open as the owner. */
static int do_attach(int cfd, const char *msg, int rfd)
{
    char err[300], path[1024], line[400];
    if (rfd < 0) {
        say(cfd, "error no output file descriptor was passed\n");
        return 0;
    }
    if (!msr_ctl_val(msg, "path", path, sizeof path)) snprintf(path, sizeof path, "(unnamed)");
    uint64_t dur = num(msg, "duration_ms"), rate = num(msg, "sample_rate");
    long sn = msr_session_begin(rfd, path, rate, err, sizeof err);
    if (sn < 0) {
        snprintf(line, sizeof line, "error %s\n", err);
        say(cfd, line);
        return 0;
    }
    duration_ms = dur;
    deadline_ns = dur ? msr_mono_ns() + dur * 1000000ull : 0;
    owner = cfd;
    snprintf(line, sizeof line, "ok\nsession=%ld\n", sn);
    if (send(cfd, line, strlen(line), MSG_NOSIGNAL) < 0) end_session(MS_STOP_LOST, -1);
    return 1;
}

static void serve(void)
{
    int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (cfd < 0) return;
    cfd = keep(cfd);
    struct timeval tv = {2, 0};
    setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    /* the request is read in any case: closing a socket with unread data
     * would make the peer's recv fail before it reads our answer */
    char msg[MSR_CTL_MAX];
    int rfd;
    ssize_t n = take(cfd, msg, sizeof msg, &rfd);
    struct ucred cr;
    socklen_t cl = sizeof cr;
    if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0 ||
        (cr.uid != 0 && cr.uid != geteuid())) {
        char line[200];
        snprintf(line, sizeof line, "error permission denied: pid %d runs as uid %u; only that "
                 "user or root may control it\n", (int)getpid(), (unsigned)geteuid());
        say(cfd, line);
        if (rfd >= 0) close(rfd);
        drop(&cfd);
        return;
    }
    size_t ml = strlen(MSR_CTL_MAGIC);
    const char *cmd = n > 0 && !strncmp(msg, MSR_CTL_MAGIC " ", ml + 1) ? msg + ml + 1 : NULL;
    int kept = 0;
    if (!cmd) {
        if (n > 0) say(cfd, "error unknown protocol (msrec and libmemscope of different versions?)\n");
    } else if (!strncmp(cmd, "status", 6)) {
        reply_status(cfd);
    } else if (!strncmp(cmd, "attach", 6)) {
        kept = do_attach(cfd, msg, rfd);
        rfd = -1;
    } else if (!strncmp(cmd, "detach", 6)) {
        if (msr_session_state() != MSR_SESS_RECORDING) say(cfd, "error not recording\n");
        else end_session(MS_STOP_DETACH, cfd);
    } else {
        say(cfd, "error unknown request\n");
    }
    if (rfd >= 0) close(rfd);
    if (!kept) drop(&cfd);
}

/* The attached msrec wrote (a detach) or went away. */
static void owner_input(void)
{
    char msg[MSR_CTL_MAX];
    int rfd;
    ssize_t n = msr_fdguard_same(owner) ? take(owner, msg, sizeof msg, &rfd) : -1;
    if (n > 0 && rfd >= 0) close(rfd);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    end_session(n > 0 ? MS_STOP_DETACH : MS_STOP_LOST, -1);
}

/* ------------------------------------------------------------------------ */
/* Thread                                                                   */
/* ------------------------------------------------------------------------ */
static void *ctl_main(void *arg)
{
    (void)arg;
    msr_tls.guard = 1;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    prctl(PR_SET_NAME, (unsigned long)"memscope-ctl", 0, 0, 0);
    msr_leak_ignore_thread(msr_gettid());
    for (;;) {
        struct pollfd p[2] = {{lfd, POLLIN, 0}, {owner, POLLIN, 0}};
        int timeout = -1;
        if (deadline_ns) {
            uint64_t now = msr_mono_ns();
            timeout = deadline_ns > now ? (int)((deadline_ns - now) / 1000000 + 1) : 0;
        }
        if (lfd < 0 && owner < 0 && !deadline_ns) return NULL;
        int r = poll(p, 2, timeout);
        if (r < 0) {
            struct timespec ts = {0, 100000000};
            if (errno != EINTR) nanosleep(&ts, NULL);
            continue;
        }
        msr_lock_take(&ctl_lock);
        if (deadline_ns && msr_mono_ns() >= deadline_ns)
            end_session(MS_STOP_DURATION, -1);
        else if (owner >= 0 && p[1].revents)
            owner_input();
        if (lfd >= 0 && (p[0].revents & (POLLERR | POLLHUP | POLLNVAL) || !msr_fdguard_same(lfd))) {
            msr_fdguard_remove(lfd);    /* not ours any more (closed behind us) */
            lfd = make_listener();
        } else if (lfd >= 0 && (p[0].revents & POLLIN)) {
            serve();
        }
        msr_lock_release(&ctl_lock);
    }
}

static int start_listener(void)
{
    lfd = make_listener();
    if (lfd < 0) return -1;
    pthread_t thr;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    /* born with every signal blocked (the program's handlers never run on
     * it, not even before ctl_main blocks them) */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&thr, &a, ctl_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    if (r != 0) {
        drop(&lfd);
        errno = r;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* fork                                                                     */
/* ------------------------------------------------------------------------ */
static int fork_held;

static void at_prepare(void)
{
    if (atomic_load(&msr_exec_forking)) return;   /* exec.c's finishing child */
    int g = msr_tls.guard;
    msr_tls.guard = 1;
    msr_lock_take(&ctl_lock);
    msr_tls.guard = g;
    fork_held = 1;
}

static void at_parent(void)
{
    if (!fork_held) return;
    fork_held = 0;
    msr_lock_release(&ctl_lock);
}

static void at_child(void)
{
    if (!fork_held) return;
    fork_held = 0;
    int g = msr_tls.guard;
    msr_tls.guard = 1;
    drop(&lfd);
    drop(&owner);
    deadline_ns = 0;
    if (atomic_load(&msr_mode) == MSR_OFF) {
        /* a dormant child (control.c stopped a recording at the fork):
         * nothing of the parent's threads or trace is ours */
        msr_drain_atfork_child(1);
        msr_session_atfork_child();
        msr_pid = getpid();
    }
    atomic_store(&ctl_lock.owner, 0);
    start_listener();
    msr_tls.guard = g;
}

void msr_ctl_start(void)
{
    if (start_listener() != 0) {
        char why[160];
        snprintf(why, sizeof why, "%s, MEMSCOPE_CONTROL ignored", strerror(errno));
        if (!msr_cfg.quiet) msr_say("no control channel: ", why, "");
        return;
    }
    pthread_atfork(at_prepare, at_parent, at_child);
}
