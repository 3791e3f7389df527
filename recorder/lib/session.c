/*
 * session.c — recording sessions started and stopped in a running process
 * (`msrec attach PID`, `msrec detach PID`; the requests arrive through
 * ctlsock.c, whose thread is the only caller).
 *
 * A process started with MEMSCOPE_CONTROL=1 is dormant: msr_mode stays
 * MSR_OFF, so every allocation entry point tests that one word and calls
 * the real allocator, and no writer thread exists. A session begins with
 * the file msrec created (its descriptor came over the control socket):
 * the writer state of the last trace is forgotten (msr_drain_reset:
 * tables, counters, stack nodes and modules written, threads that exited
 * meanwhile), tick 0 moves to now, msr_cfg gets the session's settings
 * (scope window, session number, path; messages muted: msrec reports),
 * sampling starts at the requested rate (sample.c; 0 = every allocation:
 * msrec attach -c), the writer thread starts and msr_mode becomes MSR_REC. The
 * file is a window trace (spec 8.9): META says when the window started
 * after the process, frees of older blocks are not unmatched.
 *
 * It ends like a recording at exit: msr_finish writes the last events,
 * MAPS, LIVE_BLOCKS (unclassified in a window) and END reason 3 with the
 * detail MS_STOP_*, closes the file, and msr_mode goes back to MSR_OFF.
 * When the process exits, dies of a fatal signal or execs during a
 * session, the usual paths (control.c, exec.c) finish the file with that
 * reason and the process never goes back to dormant.
 *
 * Edges of the window: a thread that tested msr_mode just before it
 * changed may still store one event into its ring after the session ended
 * (it is dropped at the next begin: consumed = n) or miss the first
 * instant of the next one; a block allocated just before tick 0 and freed
 * inside the window is a "free of a block allocated before the window".
 */
#include "recorder_internal.h"
#include "exec_internal.h"
#include "inspect.h"
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t sessions;
static uint64_t since_ns;
static int saved_quiet;

static uint64_t wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int msr_session_state(void)
{
    int m = atomic_load(&msr_mode);
    if (m == MSR_OFF) return MSR_SESS_DORMANT;
    if (m == MSR_REC) return MSR_SESS_RECORDING;
    return MSR_SESS_EXITING;
}

uint64_t msr_session_count(void) { return sessions; }

void msr_session_atfork_child(void)
{
    sessions = 0;
    if (msr_cfg.scope == MS_SCOPE_WINDOW) msr_cfg.quiet = saved_quiet;
    msr_cfg.scope = MS_SCOPE_PROCESS;
    msr_cfg.session = 0;
}

void msr_session_info(struct msr_session_info *si)
{
    memset(si, 0, sizeof *si);
    si->window = msr_cfg.scope == MS_SCOPE_WINDOW;
    si->session = si->window ? msr_cfg.session : 0;
    si->since_ns = si->window ? since_ns : msr_proc_start_ns;
    si->sample_rate = msr_cfg.sample_rate;
    si->path = msr_cfg.abs_path[0] ? msr_cfg.abs_path : msr_cfg.path;
    si->events = si->bytes = ~0ull;
    if (msr_lock_try_for(&msr_writer_lock, 200) == 1) {
        if (atomic_load(&msr_mode) == MSR_REC) msr_drain_progress(&si->events, &si->bytes);
        msr_lock_release(&msr_writer_lock);
    }
}

static long refuse(int fd, char *err, size_t n, const char *why, const char *what)
{
    snprintf(err, n, "%s%s", why, what);
    if (fd >= 0) close(fd);
    return -1;
}

long msr_session_begin(int fd, const char *path, uint64_t sample_rate, char *err, size_t errlen)
{
    int m = atomic_load(&msr_mode);
    if (m != MSR_OFF)
        return refuse(fd, err, errlen, m == MSR_REC ? "already recording to " : "the process is exiting",
                      m == MSR_REC ? msr_cfg.path : "");
    struct stat st;
    int acc = fcntl(fd, F_GETFL);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != 0 || acc < 0 ||
        (acc & O_ACCMODE) == O_RDONLY)
        return refuse(fd, err, errlen, "the output must be an empty regular file open for writing", "");
    if (sample_rate > MSR_SAMPLE_RATE_MAX)
        return refuse(fd, err, errlen, "sample rate too large (at most 1 TiB)", "");
    if (!msr_stacks_ready) {
        if (msr_stacks_init() != 0) return refuse(fd, err, errlen, "out of memory", "");
        msr_stacks_ready = 1;
    }

    msr_lock_take(&msr_writer_lock);
    msr_drain_reset();
    msr_modules_reset();
    saved_quiet = msr_cfg.quiet;
    msr_cfg.quiet = 2;
    msr_cfg.scope = MS_SCOPE_WINDOW;
    /* a window trace has frees of blocks from before it that fit nowhere,
     * which the writer could not tell from a reused reading's misorder
     * (spec 8.2): every event gets its own reading */
    msr_clk_reuse = 0;
    msr_cfg.session = sessions + 1;
    msr_sample_start(sample_rate);      /* (0: every allocation) */
    snprintf(msr_cfg.path, sizeof msr_cfg.path, "%s", path);
    snprintf(msr_cfg.abs_path, sizeof msr_cfg.abs_path, "%s", path);
    msr_last_end.reason = ~0u;
    msr_clock_restart();
    since_ns = wall_now();
    int r = msr_writer_on_fd(fd);
    if (r != MS_OK) {
        msr_sample_stop();
        msr_cfg.quiet = saved_quiet;
        msr_lock_release(&msr_writer_lock);
        return refuse(-1, err, errlen, "cannot write the trace: ",
                      r == MS_EIO ? strerror(errno) : ms_strerror(r));
    }
    msr_fast_set(1);
    atomic_store(&msr_mode, MSR_REC);
    msr_lock_release(&msr_writer_lock);
    if (msr_drain_start() != 0) {
        atomic_store(&msr_mode, MSR_OFF);
        msr_fast_set(0);
        msr_sample_stop();
        msr_lock_take(&msr_writer_lock);
        ms_writer_close(msr_writer);
        msr_writer = NULL;
        msr_arena_trim();
        msr_out_fd = -1;
        msr_cfg.quiet = saved_quiet;
        msr_lock_release(&msr_writer_lock);
        return refuse(-1, err, errlen, "cannot start the writer thread", "");
    }
    return (long)++sessions;
}

void msr_session_end(int detail)
{
    msr_finish(MS_END_STOPPED, detail, 0);
    /* dormant again, unless the exit (or a signal, an exec) finished it */
    if (msr_last_end.reason == MS_END_STOPPED && atomic_load(&msr_mode) == MSR_DONE) {
        msr_sample_stop();
        msr_out_fd = -1;
        if (msr_cfg.scope == MS_SCOPE_WINDOW) msr_cfg.quiet = saved_quiet;
        atomic_store(&msr_mode, MSR_OFF);
        msr_fast_set(0);
    }
}
