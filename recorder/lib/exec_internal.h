/* exec_internal.h — what exec.c (the exec family wrappers) shares with
 * control.c: the descriptor of the trace file, the flag that keeps the fork
 * handlers out of the fork exec.c makes, and the output name of an image
 * that replaced a recorded one in the same process. */
#ifndef MS_EXEC_INTERNAL_H
#define MS_EXEC_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/* Descriptor of the trace file being written (msr_open_output), or -1. */
extern int msr_out_fd;

/* 1 while exec.c forks the process that finishes the trace before an exec:
 * control.c's fork handlers then do nothing (exec.c does their work). */
extern _Atomic int msr_exec_forking;

/* Called by msr_open_output after expanding the path template: when this
 * image was exec'd by a recorded process of the same pid that follows exec
 * (MEMSCOPE_FOLLOW_EXEC=1), the pid alone does not tell the two files
 * apart, so ".exec<N>" (N = MEMSCOPE_EXEC_GEN) is inserted before a
 * trailing ".memscope" (or appended). child = a fork child's file. */
void msr_exec_adjust_path(char *path, size_t cap, pid_t pid, int child);
/* The file of this process carries ".<pid>" (control.c, msr_open_output). */
extern int msr_pid_suffixed;

/* control.c: list this process in msrec's manifest as not recorded, under
 * the program name (NULL: this image's); vfork-safe. */
void msr_manifest_unrecorded(const char *name);

#endif
