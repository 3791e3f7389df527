/* Subcommands of msrec. Each takes argv with argv[0] = the subcommand name
 * and returns the process exit status. */
#ifndef MSREC_H
#define MSREC_H
#include "memscope.h"
#define MSREC_VERSION MS_VERSION_STRING
int msrec_run(int argc, char **argv);      /* recorder/msrec/run.c        */
int msrec_snapshot(int argc, char **argv); /* recorder/snapshot/        */
int msrec_symbolize(int argc, char **argv); /* recorder/msrec/symbolize.c */
int msrec_attach(int argc, char **argv);   /* recorder/msrec/attach.c     */
int msrec_detach(int argc, char **argv);   /* recorder/msrec/attach.c     */
int msrec_status(int argc, char **argv);   /* recorder/msrec/attach.c     */
/* An output FILE that exists: removed with force (0), else, or when it
 * cannot be, one error line and -1. 0 when there is none. (run.c) */
int msrec_clear_output(const char *path, int force);
/* Symbolize one trace in place (out NULL) or into out, taking over the
 * modules of warm (may be NULL; see prewarm.c); prints one summary line
 * on stderr unless quiet, or the error. Returns 0 or an MS_E* code. */
struct mssym;
int msrec_symbolize_one(const char *path, const char *out, unsigned flags, int quiet,
                        struct mssym *warm);
/* Open the modules of the running process pid ahead of symbolizing its
 * trace, in a thread (prewarm.c); NULL when it cannot start. stop ends
 * the thread and returns its modules (mssym_free them), NULL for NULL. */
typedef struct msrec_prewarm msrec_prewarm;
msrec_prewarm *msrec_prewarm_start(int pid, unsigned flags);
struct mssym *msrec_prewarm_stop(msrec_prewarm *p);
#endif
