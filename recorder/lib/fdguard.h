/*
 * fdguard.h — descriptors the recorder owns, protected from the application
 * (fdguard.c).
 */
#ifndef MS_FDGUARD_H
#define MS_FDGUARD_H

/* Protect fd (the trace, libunwind's pipe): the application's close,
 * close_range, closefrom, dup2 and dup3 then treat it as not open. Records
 * its identity (device and inode). 0, or -1 when the table is full. */
int msr_fdguard_add(int fd);

/* Stop protecting fd (the recorder closes it itself, or it is no longer
 * the file that was protected). */
void msr_fdguard_remove(int fd);

/* 1 when fd is protected and still refers to the file it had when it was
 * protected, else 0. Async-signal-safe. */
int msr_fdguard_same(int fd);

/* A duplicate of fd (close-on-exec) near the top of the descriptor limit,
 * where daemons that reuse low numbers do not reach, with fd closed; fd
 * itself when the limit is too low for that or the duplicate fails. */
int msr_fdguard_place_high(int fd);

/* Before the trace is written: the trace descriptor must still be the trace
 * file. When the application closed it behind the guard (a raw system
 * call) the file is reopened by its absolute path if that still names the
 * same file; otherwise the writer stops writing (counted as a write error,
 * EBADF). Under the writer lock. */
void msr_fdguard_check_trace(void);

/* libunwind has no validation pipe (too few descriptors): stacks.c then
 * never calls it, and msr_cfg.unwind is MSR_UNW_FP. */
extern int msr_unw_nopipe;

/* In a fork child that will not write the parent's trace: close the
 * inherited trace descriptor (its writer belongs to the parent). */
void msr_fdguard_atfork_child(void);

/* In a fork child that does not record: close every inherited descriptor
 * of the recorder (the trace, libunwind's pipe) and protect none, so the
 * child's descriptors are the program's alone. */
void msr_fdguard_drop_all(void);

/* 1 when the descriptor limit (RLIMIT_NOFILE) leaves room to keep the
 * recorder's descriptors away from the numbers programs use (64 or more). */
int msr_fdguard_room(void);

#endif
