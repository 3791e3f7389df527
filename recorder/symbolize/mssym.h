/*
 * mssym.h — the out-of-process symbolizer (libmssym.a, linked into msrec
 * and msconv; never into libmemscope).
 *
 * The traced process records raw instruction pointers (STACK) and its
 * module map (MODULE: path, build id, load base, segments). This library
 * turns ips into source frames with libdwfl, offline, from the modules'
 * files on this machine: DWARF when the file or its separate debug file
 * (/usr/lib/debug/.build-id/xx/yyyy.debug, .gnu_debuglink) has it,
 * inlined chains innermost first with a file:line per frame as
 * `addr2line -i` prints them, else the ELF symbol tables; C++ names
 * demangled. A file whose build id differs from the MODULE's is never
 * used. debuginfod is consulted only with MSSYM_DEBUGINFOD: without it the
 * symbolizer hides DEBUGINFOD_URLS from libdwfl while it exists.
 *
 * Every recorded ip is a return address (the recorder drops the
 * allocator's own frame), so ip - 1 is looked up (the call instruction)
 * and the ip is reported as given.
 *
 * Functions return 0 or a negative MS_E* code (memscope.h). Not thread
 * safe: one mssym per thread.
 */
#ifndef MSSYM_H
#define MSSYM_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"

#define MSSYM_DEBUGINFOD 1u      /* may ask debuginfod servers (DEBUGINFOD_URLS) */
#define MSSYM_FINISHED   2u      /* mssym_file: leave a file without END alone
                                    (MS_ESTATE): its writer may still run  */

typedef struct mssym mssym;

int mssym_new(mssym **out, unsigned flags);
void mssym_free(mssym *s);

/* Add one MODULE (copied). Modules are added in file order; an ip belongs
 * to the most recently added module whose segments cover it (a dlclose'd
 * range may be reused by a later dlopen). Nothing is opened until an ip of
 * the module is resolved. */
int mssym_add_module(mssym *s, const ms_module *m);

/* Resolve ip. *module_id / *offset get the covering module's id and
 * ip - base (0, 0 when no module covers ip); *frames / *nframes the
 * source frames, innermost first (valid until the next call on s; a
 * frame's function is "" when no symbol covers the address: a stripped
 * object gives one frame with function "", file "" and line 0). Returns 1
 * when the module's file was found and matches (the answer is final),
 * 0 (no frames) when nothing can be said on this
 * machine (no module covers ip, its file is missing, its build id differs,
 * or it is not a file, e.g. [vdso]), or a negative MS_E* code. */
int mssym_resolve(mssym *s, uint64_t ip, uint64_t *module_id, uint64_t *offset,
                  const ms_frame **frames, size_t *nframes);

/* Index (0-based, order of mssym_add_module) of the module that covers ip
 * among the first nvisible added, or -1. */
long mssym_module_index(const mssym *s, uint64_t ip, size_t nvisible);
size_t mssym_module_count(const mssym *s);

/* The same as mssym_resolve with the module chosen by the caller (an index
 * from mssym_module_index; -1 = none). */
int mssym_resolve_in(mssym *s, long module_index, uint64_t ip, uint64_t *module_id,
                     uint64_t *offset, const ms_frame **frames, size_t *nframes);

/* Open the ELF file at path (absolute) as loaded at base, ahead of any
 * lookup: its Dwfl session, separate debug file (decompressed), compile
 * unit index and sorted symbol table. `msrec run` does this for its
 * child's modules while the child runs, in a thread of its own with its
 * own mssym. Returns 1 when opened, 2 when the symbol cache holds the
 * file's answers (only its ELF file is opened: see mssym_warm_cached), 0
 * when it cannot be (missing, not an ELF file, opened before), or a
 * negative MS_E* code. */
int mssym_warm(mssym *s, const char *path, uint64_t base);

/* The rest of mssym_warm for a module it returned 2 for: its debug info,
 * in case the trace has ips the cache lacks. 1 when done, 0 when there is
 * nothing to do. */
int mssym_warm_cached(mssym *s, const char *path, uint64_t base);

/* Let s take over modules of warm (mssym_warm) instead of opening them
 * again: a MODULE of s whose file is open in warm (the same device and
 * inode; else, with a build id, the same path: a file replaced since)
 * gets warm's session, at whatever base (addresses are shifted), build id
 * still checked. mssym_free(s) gives the sessions s opened back to warm,
 * for the next trace of the same run. warm must outlive s and is used by
 * one thread at a time. */
void mssym_take_warm(mssym *s, mssym *warm);

/* Warm modules (mssym_warm) not taken over yet; sessions given back by
 * mssym_free are not counted. */
size_t mssym_warm_left(const mssym *warm);

/* One line naming the modules that could not be used so far, e.g.
 * "not found: libfoo.so; build id differs: /usr/bin/app" ("" when none).
 * Returns the number of such modules. Only modules some ip was looked up
 * in count. */
int mssym_problems(const mssym *s, char *buf, size_t n);

typedef struct mssym_stats {
    uint64_t ips;                /* distinct ips in the file's STACK records */
    uint64_t had;                /* ... that already had a SYMBOL record     */
    uint64_t added;              /* SYMBOL records appended                  */
    uint64_t named;              /* ... of them with a function name         */
    uint64_t unresolved;         /* ips left without a SYMBOL record         */
    int bad_modules;             /* modules missing or with another build id */
    char problems[1024];         /* mssym_problems of the run                */
} mssym_stats;

/* Symbolize a whole heap trace: every distinct stack ip without a SYMBOL
 * record gets one (spec/FORMAT.md 8.7), appended in RECORDS chunks after
 * the last chunk. Ips whose module file is missing or differs get none
 * (a later run with the right files or MSSYM_DEBUGINFOD can add them).
 * out NULL or equal to path: in place. Either way the result is written
 * to a temporary file in the destination directory, fsynced and renamed
 * over the destination, so a failure at any point leaves the original
 * as it was; out (when another path) must not exist (MS_EEXIST). The file
 * must read without damage (verdict OK): MS_ETRUNC / MS_ECORRUPT otherwise,
 * nothing written. When no ip needs a record the file is not rewritten.
 * st (may be NULL) gets the counts; err (may be NULL) a one-line English
 * reason on failure. */
int mssym_file(const char *path, const char *out, unsigned flags, mssym_stats *st,
               char *err, size_t errlen);

/* mssym_file taking over modules of warm (mssym_take_warm; may be NULL). */
int mssym_file_warm(const char *path, const char *out, unsigned flags, mssym *warm,
                    mssym_stats *st, char *err, size_t errlen);

/* main(argc, argv) of a tool that symbolizes: run on a thread with a 16 MiB
 * stack when RLIMIT_STACK is below 8 MiB (libdw's line-table and DIE
 * readers need more than `ulimit -s 256` gives), as every later thread,
 * else on this one. Returns its status. The limit itself is left as it is
 * (a command msrec starts inherits it). */
int mssym_main(int (*fn)(int, char **), int argc, char **argv);
#endif
