/*
 * ctlproto.h — the control protocol between `msrec attach|detach|status`
 * and a process running libmemscope with MEMSCOPE_CONTROL=1 (ctlsock.c).
 * Shared by the library and msrec (recorder/msrec/attach.c): constants
 * and the reader of a message's "key=value" lines.
 *
 * Channel: an AF_UNIX SOCK_SEQPACKET socket in the abstract namespace named
 * MSR_CTL_NAME "<pid>" (a leading NUL byte, no file). Each side checks the
 * other's SO_PEERCRED: the process accepts only its own effective uid and
 * root; msrec talks only to a socket whose peer is the pid it was given.
 *
 * Messages: one datagram each, at most MSR_CTL_MAX bytes of text lines
 * "key=value\n". A request's first line is MSR_CTL_MAGIC " <command>"
 * (status, attach, detach); attach carries the output file's descriptor
 * (SCM_RIGHTS) and the lines duration_ms=, sample_rate=, path= (absolute,
 * as msrec sees it: for messages only). A reply's first line is "ok",
 * "ended" or "error <one line>". Unknown keys are ignored, so either side
 * may add keys.
 *
 *   status  -> ok: state=dormant|recording|exiting, sessions=N and, when
 *              recording: path=, session=, scope=window|process,
 *              since_ns= (Unix ns), duration_ms= (0 = until detach),
 *              left_ms=, events= (so far), bytes= (written so far),
 *              sample_rate=
 *   attach  -> ok: session=N; then, on the same connection, one "ended"
 *              message when the session ends (the connection stays open
 *              for the session; closing it, or a datagram "detach" on it,
 *              ends the session)
 *   detach  -> ended (or error when not recording)
 *   ended      reason=detach|duration|lost|exit|signal|_exit|exec,
 *              path=, events=, events_written=, bytes=, write_errors=,
 *              errno=
 */
#ifndef MS_CTLPROTO_H
#define MS_CTLPROTO_H

#define MSR_CTL_NAME  "memscope-ctl."     /* + decimal pid, abstract       */
#define MSR_CTL_MAGIC "memscope-ctl 1"
#define MSR_CTL_MAX   4096

#include <string.h>

/* The value of "key=" in msg (to the end of its line) into out (cut to
 * cap - 1 bytes); out, or NULL (out "") when the key is absent. */
static inline const char *msr_ctl_val(const char *msg, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    out[0] = 0;
    for (const char *p = msg; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) || p[kl] != '=') continue;
        const char *v = p + kl + 1, *e = strchr(v, '\n');
        size_t n = e ? (size_t)(e - v) : strlen(v);
        if (n >= cap) n = cap - 1;
        memcpy(out, v, n);
        out[n] = 0;
        return out;
    }
    return NULL;
}

#endif
