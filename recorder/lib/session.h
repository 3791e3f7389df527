/* session.h — recording sessions in a running process (session.c), used by
 * the control channel (ctlsock.c). All of it is called from the control
 * thread only, with the recorder's guard set. */
#ifndef MS_SESSION_H
#define MS_SESSION_H

#include <stddef.h>
#include <stdint.h>

/* What the process is doing (status). */
enum { MSR_SESS_DORMANT = 0, MSR_SESS_RECORDING = 1, MSR_SESS_EXITING = 2 };
int msr_session_state(void);

/* Begin a window trace into fd (an empty regular file open for writing;
 * the session owns it from here, success or not). path names it for
 * messages. sample_rate 0 = every allocation. Returns the session number
 * (>= 1), or -1 with a one-line reason in err. */
long msr_session_begin(int fd, const char *path, uint64_t sample_rate, char *err, size_t errlen);

/* End the session (detail MS_STOP_*): finish the file as at exit with END
 * reason 3, then the process is dormant again. When the exit, a fatal
 * signal or an exec finished the file first, only waits for that. The
 * END facts are in msr_last_end. */
void msr_session_end(int detail);

/* In a dormant fork child: no session has begun in this process. */
void msr_session_atfork_child(void);

/* Sessions begun so far, and facts of the one recording now. */
uint64_t msr_session_count(void);
struct msr_session_info {
    uint64_t session;        /* 0: recording since the process started   */
    uint64_t since_ns;       /* Unix ns                                   */
    uint64_t events, bytes;  /* so far; ~0 when the writer was busy       */
    uint64_t sample_rate;
    int window;
    const char *path;
};
void msr_session_info(struct msr_session_info *si);

#endif
