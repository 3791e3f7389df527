/*
 * exec.c — the exec family (execve, execv, execvp, execvpe, execl, execle,
 * execlp, fexecve, execveat) for a recording process.
 *
 * An exec replaces the image without running exit handlers, so without
 * these wrappers a recorded process that execs (no fork) loses its pending
 * events and leaves a file without LIVE_BLOCKS, MAPS and END.
 * Before the real exec the wrapper finishes the trace as at exit, with END
 * reason "exec" (MS_END_EXEC, format 1.1; detail 0).
 *
 * A failed exec (it returns -1 and the old image goes on) must not lose
 * later events nor leave a finished file that then grows. So the finishing
 * is done by a forked copy of the process and undone if the exec fails:
 *   1. let the writer thread drain every event published so far, then hold
 *      the writer lock (the writer thread stops writing);
 *   2. fork (control.c's fork handlers stand aside: msr_exec_forking); the
 *      child runs msr_finish on its copy of the recorder state — last
 *      events, MAPS/PROC_MEM, LIVE_BLOCKS with leak classes, END —
 *      appending to the shared trace descriptor, reports the outcome on a
 *      pipe and exits; the parent waits for it;
 *   3. the parent calls the real exec, still holding the writer lock;
 *   4. if the exec fails, the parent cuts the file back to the size its own
 *      writer had reached (ftruncate + lseek: the child only appended),
 *      releases the lock and records on, as if no exec had been tried.
 * The fork is a real fork(): glibc makes malloc and stdio usable in the
 * child, and the application's own pthread_atfork handlers run as for any
 * fork. If the fork or the child fails, the trace is finished in the process
 * itself (msr_finish) and recording stops there even if the exec fails:
 * the file is complete, events after a failed exec are not recorded.
 * The same happens to another thread's events published after step 1
 * (they race with the exec, which kills that thread anyway).
 *
 * Which image records next (see also control.c and msrec run):
 *   - without MEMSCOPE_FOLLOW_EXEC the new image must not record (exec'd
 *     programs are traced only with `msrec run --follow-children`). The
 *     environment passed to it gets MEMSCOPE_ACTIVE_PID=0, a pid no process
 *     has, so a library there stays passive, and so do its descendants;
 *     under msrec run (MEMSCOPE_ACTIVE_PID was set) its LD_PRELOAD also
 *     loses libmemscope (strip_wanted), and so does that of every program
 *     a fork or vfork child or a passive descendant execs;
 *   - with MEMSCOPE_FOLLOW_EXEC=1 it records into its own file: the
 *     environment gets MEMSCOPE_ACTIVE_PID=<this pid> and
 *     MEMSCOPE_EXEC_GEN=<N> (1 for the first exec of this pid, then 2...),
 *     and the new image inserts ".exec<N>" before ".memscope" in its path
 *     (msr_exec_adjust_path), since the pid is the same.
 * An environment the application builds itself is respected otherwise: the
 * recorder does not add LD_PRELOAD or MEMSCOPE_AUTO_EXPORT to it.
 *
 * Processes that do not record (not enabled, a fork child not followed, a
 * vfork child: its pid differs from msr_pid) pass straight through, touching
 * no shared state (the environment without libmemscope is built on the
 * stack), so a vfork child's exec stays safe.
 */
#include "recorder_internal.h"
#include "exec_internal.h"
#include "fdguard.h"
#include "inspect.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;

int msr_out_fd = -1;
_Atomic int msr_exec_forking;

/* MEMSCOPE_EXEC_GEN of this image, valid while getpid() == gen_pid. */
static long exec_gen;
static pid_t gen_pid;

/* How long the finishing child may take (symbols of big programs). */
#define FINISH_TIMEOUT_MS 120000
/* How long to wait for the writer thread to drain published events. */
#define DRAIN_TIMEOUT_NS 2000000000ull
#define DRAIN_MAX_THREADS 256

/* ------------------------------------------------------------------------ */
/* Output name of an exec'd image                                           */
/* ------------------------------------------------------------------------ */
void msr_exec_adjust_path(char *path, size_t cap, pid_t pid, int child)
{
    const char *g = secure_getenv("MEMSCOPE_EXEC_GEN");
    const char *ap = secure_getenv("MEMSCOPE_ACTIVE_PID");
    if (child || !g || !*g || !ap || atol(ap) != (long)pid) return;
    long n = atol(g);
    if (n < 1) return;
    exec_gen = n;
    gen_pid = pid;
    size_t len = strlen(path);
    const char *ext = ".memscope";
    size_t el = strlen(ext);
    char tail[16] = "";
    if (len > el && !strcmp(path + len - el, ext)) {
        memcpy(tail, ext, el + 1);
        path[len - el] = 0;
    }
    size_t cur = strlen(path);
    snprintf(path + cur, cap - cur, ".exec%ld%s", n, tail);
}

/* ------------------------------------------------------------------------ */
/* The real calls                                                           */
/* ------------------------------------------------------------------------ */
enum { K_EXECVE, K_EXECVPE, K_FEXECVE, K_EXECVEAT };

struct exec_req {
    int kind;
    int fd, flags;
    const char *path;
    char *const *argv;
    char *const *envp;
};

typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);
static execvpe_fn real_execvpe;

/* Resolved at load time, so that a vfork child never runs dlsym. */
__attribute__((constructor)) static void exec_resolve(void)
{
    real_execvpe = (execvpe_fn)dlsym(RTLD_NEXT, "execvpe");
}

static int real_exec(const struct exec_req *r, char *const *envp)
{
    switch (r->kind) {
    case K_EXECVE:
        return (int)syscall(SYS_execve, r->path, r->argv, envp);
    case K_EXECVPE:
        if (!real_execvpe) {
            errno = ENOSYS;
            return -1;
        }
        return real_execvpe(r->path, r->argv, envp);
    case K_EXECVEAT:
        return (int)syscall(SYS_execveat, r->fd, r->path, r->argv, envp, r->flags);
    default: { /* K_FEXECVE, as glibc does it */
        if (r->fd < 0 || !r->argv || !envp) {
            errno = EINVAL;
            return -1;
        }
        syscall(SYS_execveat, r->fd, "", r->argv, envp, AT_EMPTY_PATH);
        if (errno != ENOSYS) return -1;
        char p[40];
        snprintf(p, sizeof p, "/proc/self/fd/%d", r->fd);
        syscall(SYS_execve, p, r->argv, envp);
        if (errno == ENOENT) errno = EBADF;
        return -1;
    }
    }
}

/* ------------------------------------------------------------------------ */
/* The environment of the new image                                         */
/* ------------------------------------------------------------------------ */
static char env_active[48], env_gen[48], env_preload[4096];

static int is_var(const char *e, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(e, name, n) && e[n] == '=';
}

/* Under `msrec run` (MEMSCOPE_ACTIVE_PID set by it), without
 * --follow-children and MEMSCOPE_CONTROL, an exec'd program does not
 * record: it gets LD_PRELOAD without libmemscope, as the user had it
 * before msrec added it, so it and its descendants run as they would
 * without memscope (the passive library cost a shell script's every
 * command ~0.8 ms of loading: 2x on a fork/exec loop). */
static int follow_exec(void)
{
    const char *fv = secure_getenv("MEMSCOPE_FOLLOW_EXEC");
    return fv && (!strcmp(fv, "1") || !strcmp(fv, "yes") || !strcmp(fv, "true"));
}

static int strip_wanted(int follow)
{
    const char *ap = secure_getenv("MEMSCOPE_ACTIVE_PID");
    const char *ctl = secure_getenv("MEMSCOPE_CONTROL");
    return !follow && ap && *ap && !(ctl && *ctl == '1');
}

/* "LD_PRELOAD=" + value without the libmemscope entries (separators ':'
 * and ' ', as ld.so takes them; kept entries joined by ':') into buf;
 * 0 = nothing to take out or no room, 1 = buf holds the new entry, 2 = no
 * entry is left (drop the variable). */
static int preload_without_us(const char *e, char *buf, size_t cap)
{
    const char *v = e + sizeof "LD_PRELOAD=" - 1;
    size_t o = sizeof "LD_PRELOAD=" - 1;
    if (o >= cap) return 0;
    memcpy(buf, "LD_PRELOAD=", o);
    int took = 0, kept = 0;
    while (*v) {
        while (*v == ':' || *v == ' ') v++;
        const char *w = v;
        while (*w && *w != ':' && *w != ' ') w++;
        if (w == v) break;
        const char *b = v;
        for (const char *q = v; q < w; q++)
            if (*q == '/') b = q + 1;
        size_t bl = (size_t)(w - b);
        if (bl >= sizeof "libmemscope.so" - 1 && !memcmp(b, "libmemscope.so", sizeof "libmemscope.so" - 1)) {
            took = 1;
        } else {
            size_t l = (size_t)(w - v);
            if (o + kept + l + 1 >= cap) return 0;
            if (kept) buf[o++] = ':';
            memcpy(buf + o, v, l);
            o += l;
            kept = 1;
        }
        v = w;
    }
    buf[o] = 0;
    return !took ? 0 : kept ? 1 : 2;
}

/* msrec run set PYTHONMALLOC=malloc for the command (MEMSCOPE_PYTHONMALLOC
 * =1 says so; a user's own value stays): a program that does not record
 * gets its environment without it, so a python3 it runs keeps pymalloc. */
static int py_marked(char *const *envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        if (is_var(envp[i], "MEMSCOPE_PYTHONMALLOC")) return 1;
    return 0;
}

/* envp with libmemscope out of LD_PRELOAD (and msrec's PYTHONMALLOC), in
 * out (cap pointers, the last NULL) and buf; envp itself when there is
 * nothing to take out or the copy does not fit. Stack memory only: a
 * vfork child runs this. */
static char *const *envp_without_us(char *const *envp, char **out, size_t cap, char *buf, size_t bcap)
{
    if (!envp) return envp;
    size_t n = 0, k = 0;
    int found = 0, py = py_marked(envp), dropped = 0;
    while (envp[n]) n++;
    if (n + 1 > cap) return envp;
    for (size_t i = 0; i < n; i++) {
        if (!found && is_var(envp[i], "LD_PRELOAD")) {
            int r = preload_without_us(envp[i], buf, bcap);
            if (r == 0) {
                out[k++] = envp[i];
                continue;
            }
            found = 1;
            if (r == 1) out[k++] = buf;
            continue;
        }
        if (py && (is_var(envp[i], "PYTHONMALLOC") || is_var(envp[i], "MEMSCOPE_PYTHONMALLOC"))) {
            dropped = 1;
            continue;
        }
        out[k++] = envp[i];
    }
    if (!found && !dropped) return envp;
    out[k] = NULL;
    return out;
}

/* A copy of envp (msr_alloc) with MEMSCOPE_ACTIVE_PID / MEMSCOPE_EXEC_GEN
 * replaced as the header says; NULL when out of memory. */
static char **new_env(char *const *envp, int follow)
{
    size_t n = 0;
    while (envp && envp[n]) n++;
    char **out = msr_alloc((n + 4) * sizeof *out);
    if (!out) return NULL;
    size_t k = 0;
    int strip = strip_wanted(follow), py = strip && py_marked(envp);
    for (size_t i = 0; i < n; i++) {
        if (is_var(envp[i], "MEMSCOPE_ACTIVE_PID") || is_var(envp[i], "MEMSCOPE_EXEC_GEN") ||
            is_var(envp[i], "MEMSCOPE_EXEC_SUFFIX"))
            continue;
        if (py && (is_var(envp[i], "PYTHONMALLOC") || is_var(envp[i], "MEMSCOPE_PYTHONMALLOC")))
            continue;
        if (strip && is_var(envp[i], "LD_PRELOAD")) {
            int r = preload_without_us(envp[i], env_preload, sizeof env_preload);
            strip = 0;
            if (r == 2) continue;
            if (r == 1) {
                out[k++] = env_preload;
                continue;
            }
        }
        out[k++] = envp[i];
    }
    pid_t me = getpid();
    if (follow) {
        long base = gen_pid == me ? exec_gen : 0;
        snprintf(env_active, sizeof env_active, "MEMSCOPE_ACTIVE_PID=%d", (int)me);
        snprintf(env_gen, sizeof env_gen, "MEMSCOPE_EXEC_GEN=%ld", base + 1);
        out[k++] = env_active;
        out[k++] = env_gen;
        /* this pid's file carries ".<pid>" (a followed fork child or exec'd
         * descendant): the next image keeps it, ".<pid>.exec<N>" */
        if (msr_pid_suffixed) out[k++] = (char *)"MEMSCOPE_EXEC_SUFFIX=1";
    } else {
        snprintf(env_active, sizeof env_active, "MEMSCOPE_ACTIVE_PID=0");
        out[k++] = env_active;
    }
    out[k] = NULL;
    return out;
}

/* ------------------------------------------------------------------------ */
/* Finishing the trace before the exec                                      */
/* ------------------------------------------------------------------------ */
/* Let the writer thread write every event published so far (by any thread)
 * and return holding the writer lock. */
static void drain_and_lock(void)
{
    struct { msr_thread *t; uint64_t tid, n; } snap[DRAIN_MAX_THREADS];
    size_t ns = 0;
    msr_lock_take(&msr_writer_lock);
    for (msr_thread *t = atomic_load(&msr_threads); t && ns < DRAIN_MAX_THREADS; t = t->next) {
        snap[ns].t = t;
        snap[ns].tid = t->tid;
        snap[ns].n = atomic_load(&t->n);
        ns++;
    }
    uint64_t deadline = msr_mono_ns() + DRAIN_TIMEOUT_NS;
    for (;;) {
        int pending = 0;
        /* the list is stable under the lock; a thread retired since the
         * snapshot was fully drained */
        for (size_t i = 0; i < ns && !pending; i++)
            for (msr_thread *t = atomic_load(&msr_threads); t; t = t->next)
                if (t == snap[i].t && t->tid == snap[i].tid) {
                    if (atomic_load(&t->consumed) < snap[i].n) pending = 1;
                    break;
                }
        if (!pending || !atomic_load(&msr_writer_alive) || msr_mono_ns() > deadline) return;
        msr_lock_release(&msr_writer_lock);
        msr_wake_writer();
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        msr_lock_take(&msr_writer_lock);
    }
}

/* The program an exec without MEMSCOPE_FOLLOW_EXEC is about to run (NULL
 * when following): the finishing child says that it will not be recorded,
 * since a wrapper (env, a pyenv shim, `sh -c CMD`) would otherwise leave
 * the user with a trace of the wrapper and no word why. */
static const char *unfollowed_target;

/* Child side: finish the copy of the trace, report on fd, exit. */
static void finish_child(int fd)
{
    msr_arena_atfork_child(1);
    msr_stacks_atfork_child(1);
    msr_drain_atfork_child(0);   /* writer lock, thread list, no writer thread */
    atomic_store(&msr_exec_forking, 0);
    msr_finish(MS_END_EXEC, 0, 0);
    if (unfollowed_target && !msr_cfg.quiet)
        msr_say("note: the traced process exec'd ", unfollowed_target,
                ", which is not recorded (msrec run --follow-children or "
                "MEMSCOPE_FOLLOW_EXEC=1 records it)");
    char ok = msr_writer == NULL && atomic_load(&msr_mode) == MSR_DONE ? 'k' : 'x';
    ssize_t w = write(fd, &ok, 1);
    (void)w;
    for (;;) syscall(SYS_exit_group, 0);
}

/* Returns 1: finished by a child, the writer lock is held and *off is the
 * size to cut the file back to if the exec fails; 2: finished here for
 * good; 0: nothing was recording. */
static int finish_for_exec(uint64_t *off)
{
    if (atomic_load(&msr_mode) != MSR_REC) return 0;
    drain_and_lock();
    if (atomic_load(&msr_mode) != MSR_REC || !msr_writer) {
        msr_lock_release(&msr_writer_lock);
        return 0;
    }
    if (!msr_meta_written) msr_ensure_meta();
    *off = ms_writer_offset(msr_writer);
    int p[2];
    pid_t pid = -1;
    if (msr_out_fd >= 0 && pipe2(p, O_CLOEXEC) == 0) {
        atomic_store(&msr_exec_forking, 1);
        msr_lock_take(&msr_stack_lock);
        int took = msr_arena_atfork_prepare();
        pid = fork();
        if (pid == 0) {
            close(p[0]);
            finish_child(p[1]);
        }
        msr_arena_atfork_parent(took);
        msr_lock_release(&msr_stack_lock);
        atomic_store(&msr_exec_forking, 0);
        close(p[1]);
        char ok = 0;
        if (pid > 0) {
            struct pollfd pf = {p[0], POLLIN, 0};
            uint64_t deadline = msr_mono_ns() + FINISH_TIMEOUT_MS * 1000000ull;
            for (;;) {
                int r = poll(&pf, 1, 1000);
                if (r > 0) {
                    if (read(p[0], &ok, 1) != 1) ok = 0;
                    break;
                }
                if ((r < 0 && errno != EINTR) || msr_mono_ns() > deadline) break;
            }
            if (ok != 'k') kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        }
        close(p[0]);
        if (ok == 'k') return 1;
        if (pid > 0 && msr_fdguard_same(msr_out_fd)) {
            /* the child failed: undo what it wrote, finish here (only on
             * the trace itself: never on a number the program reused) */
            if (ftruncate(msr_out_fd, (off_t)*off) != 0) {}
            lseek(msr_out_fd, (off_t)*off, SEEK_SET);
        }
    }
    msr_lock_release(&msr_writer_lock);
    msr_finish(MS_END_EXEC, 0, 0);
    return 2;
}

/* 0 when the exec is sure to fail because no file it could run exists
 * (execve of a missing or non-executable path, execvp of a name found in
 * no $PATH directory): the trace is then not finished and resumed, which
 * costs a fork, and a shell trying each $PATH directory in turn would
 * otherwise print a "wrote" line per directory. 1 when it may succeed. */
static int may_exec(const struct exec_req *r)
{
    if (r->kind != K_EXECVE && r->kind != K_EXECVPE) return 1;
    if (!r->path || !*r->path) return 0;
    if (r->kind == K_EXECVE || strchr(r->path, '/')) return access(r->path, X_OK) == 0;
    const char *p = getenv("PATH");
    if (!p) p = "/bin:/usr/bin";    /* glibc's default for execvp */
    size_t fl = strlen(r->path);
    for (;;) {
        const char *e = strchr(p, ':');
        size_t dl = e ? (size_t)(e - p) : strlen(p);
        char cand[4096];
        if (dl + fl + 2 <= sizeof cand) {
            if (dl) memcpy(cand, p, dl);
            else cand[0] = '.';     /* an empty entry is the current directory */
            size_t o = dl ? dl : 1;
            cand[o] = '/';
            memcpy(cand + o + 1, r->path, fl + 1);
            if (access(cand, X_OK) == 0) return 1;
        } else {
            return 1;               /* cannot tell: behave as before */
        }
        if (!e) return 0;
        p = e + 1;
    }
}

static int exec_common(const struct exec_req *r)
{
    int mode = atomic_load(&msr_mode);
    if (mode == MSR_OFF || msr_tls.guard || msr_pid != getpid() || !may_exec(r)) {
        /* not recording here (a fork or vfork child, a passive
         * descendant): under msrec run, the program goes without us and
         * msrec hears its name; stack only (vfork) */
        const char *ap = secure_getenv("MEMSCOPE_ACTIVE_PID");
        /* (ACTIVE_PID = this pid: msrec's own child about to exec the
         * command, the library preloaded by the user into msrec) */
        if (!msr_tls.guard && strip_wanted(follow_exec()) && atol(ap) != (long)getpid()) {
            char *out[512];
            char buf[2048];
            char *const *env = envp_without_us(r->envp, out, sizeof out / sizeof out[0], buf, sizeof buf);
            if (r->path && getpid() != msr_pid && may_exec(r)) msr_manifest_unrecorded(r->path);
            return real_exec(r, env);
        }
        return real_exec(r, r->envp);
    }
    int g = msr_tls.guard;
    msr_tls.guard = 1;
    int follow = follow_exec();
    char **env = new_env(r->envp, follow);
    unfollowed_target = follow ? NULL : r->path ? r->path : "a program (fexecve)";
    uint64_t off = 0;
    msr_leak_entry_frame(__builtin_frame_address(0));
    int how = finish_for_exec(&off);
    int rc = real_exec(r, env ? env : r->envp);
    int e = errno;
    /* still here: the exec failed */
    if (how == 1) {
        if (msr_fdguard_same(msr_out_fd)) {
            if (ftruncate(msr_out_fd, (off_t)off) != 0) {}
            lseek(msr_out_fd, (off_t)off, SEEK_SET);
        }
        msr_lock_release(&msr_writer_lock);
    }
    msr_free(env);
    msr_tls.guard = g;
    errno = e;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The exported wrappers                                                    */
/* ------------------------------------------------------------------------ */
int execve(const char *path, char *const argv[], char *const envp[])
{
    struct exec_req r = {K_EXECVE, -1, 0, path, argv, envp};
    return exec_common(&r);
}

int execv(const char *path, char *const argv[])
{
    struct exec_req r = {K_EXECVE, -1, 0, path, argv, environ};
    return exec_common(&r);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
    struct exec_req r = {K_EXECVPE, -1, 0, file, argv, envp};
    return exec_common(&r);
}

int execvp(const char *file, char *const argv[])
{
    struct exec_req r = {K_EXECVPE, -1, 0, file, argv, environ};
    return exec_common(&r);
}

int fexecve(int fd, char *const argv[], char *const envp[])
{
    struct exec_req r = {K_FEXECVE, fd, 0, NULL, argv, envp};
    return exec_common(&r);
}

int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    struct exec_req r = {K_EXECVEAT, dirfd, flags, path, argv, envp};
    return exec_common(&r);
}

/* execl, execle, execlp: the arguments into an array on the stack (the
 * list ends with NULL; execle's environment follows it), then as execve /
 * execvpe. A macro because va_start needs the caller's own frame. */
#define EXEC_LIST(kind, target, arg, take_env)                       \
    do {                                                             \
        size_t n_ = 1;                                               \
        va_list ap_;                                                 \
        va_start(ap_, arg);                                          \
        while (va_arg(ap_, char *)) n_++;                            \
        va_end(ap_);                                                 \
        char *argv_[n_ + 1];                                         \
        va_start(ap_, arg);                                          \
        argv_[0] = (char *)(arg);                                    \
        for (size_t i_ = 1; i_ <= n_; i_++)                          \
            argv_[i_] = va_arg(ap_, char *);                         \
        char *const *envp_ = environ;                                \
        if (take_env) envp_ = va_arg(ap_, char *const *);            \
        va_end(ap_);                                                 \
        struct exec_req r_ = {kind, -1, 0, target, argv_, envp_};    \
        return exec_common(&r_);                                     \
    } while (0)

int execl(const char *path, const char *arg, ...)
{
    EXEC_LIST(K_EXECVE, path, arg, 0);
}

int execlp(const char *file, const char *arg, ...)
{
    EXEC_LIST(K_EXECVPE, file, arg, 0);
}

int execle(const char *path, const char *arg, ...)
{
    EXEC_LIST(K_EXECVE, path, arg, 1);
}
