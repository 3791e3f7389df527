/* Subcommands of msrec. Each takes argv with argv[0] = the subcommand name
 * and returns the process exit status. */
#ifndef MSREC_H
#define MSREC_H
#include "memscope.h"
#define MSREC_VERSION MS_VERSION_STRING
int msrec_run(int argc, char **argv);      /* recorder/msrec/run.c        */
int msrec_snapshot(int argc, char **argv); /* recorder/snapshot/        */
#endif
