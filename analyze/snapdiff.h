/* Diff model of two snapshots: processes matched by (pid, starttime) on the
 * same boot or by (exe, normalized cmdline, user) across boots, several
 * instances of one key aggregated; added / removed / changed entries with
 * library, open-file, exe-size and shared-memory changes; totals, system
 * configuration changes, library totals across processes and the biggest
 * causes, restarts, processes still using deleted files, and the kernel
 * memory of both snapshots. A process whose memory could not be read on
 * either side contributes no memory delta (unknown, never 0): totals are
 * over readable processes only and say how many were left out on which
 * side. Thresholds fold numbers, never facts: every added and removed
 * process, every library set or executable change, every restart and every
 * open-file change of at least files_threshold stays visible. Renderers
 * (convert/msdiff) only format this. */
#ifndef MS_SNAPDIFF_H
#define MS_SNAPDIFF_H
#include "snap.h"
#include "snapmem.h"

enum { SD_RULE_AUTO = -1, SD_RULE_PID = 0, SD_RULE_KEY = 1 };
enum { SD_ADDED = 0, SD_REMOVED = 1, SD_CHANGED = 2, SD_UNCHANGED = 3 };
enum { SD_LIB_ADDED = 0, SD_LIB_REMOVED = 1, SD_LIB_RESIZED = 2,
       SD_LIB_DELETED = 3 };           /* still mapped, deleted or replaced on disk since */

typedef struct sd_side {
    uint64_t count;                    /* instances aggregated (0 = absent) */
    uint64_t pss, uss, rss, swap, pss_shmem, rss_shmem, exe_size, threads;
    int64_t open_files;                /* sum of known counts; -1 unknown */
    uint32_t read_status;              /* OR over instances */
    uint32_t exe_flags;                /* OR over instances (MS_EXE_*) */
    uint64_t mem_unknown;              /* instances whose memory is unreadable */
} sd_side;

typedef struct sd_lib {
    snap_str path;
    int change;                        /* SD_LIB_* */
    uint32_t flags_a, flags_b;         /* MS_LIB_* on each side */
    uint64_t disk_a, disk_b, pss_a, pss_b, rss_a, rss_b, mapped_a, mapped_b;
} sd_lib;

typedef struct sd_entry {
    int status;                        /* SD_* */
    uint32_t kind;                     /* MS_PROC_* (after, else before) */
    const snap_proc *a, *b;            /* first instance on each side */
    snap_str name, exe, user;
    char *key;                         /* matching key (printable) */
    sd_side before, after;
    int64_t d_pss, d_uss, d_rss, d_swap, d_shmem, d_exe_size, d_open_files;
    int exe_changed;                   /* exe path differs */
    int exe_deleted;                   /* the executable was deleted or replaced
                                          on disk since "before" (after side) */
    int mem_unknown;                   /* memory unreadable on a side: no memory
                                          delta (d_* are 0), not in totals   */
    int restarted;                     /* same key, other pid/starttime (key
                                          matching), or half of a restart pair */
    const struct sd_entry *restart_pair;   /* pid matching: the added entry of a
                                          removed one (and back) with the same
                                          (exe, cmdline, user); else NULL   */
    int folded;                        /* |change| below the threshold */
    size_t nlibs;
    sd_lib *libs;                      /* library changes only */
} sd_entry;

typedef struct sd_libsum {             /* one library over all processes */
    snap_str path;
    uint64_t pss_a, pss_b, rss_a, rss_b, disk_a, disk_b;
    uint64_t procs_a, procs_b;
    int64_t d_pss;
} sd_libsum;

enum { SD_CAUSE_ADDED, SD_CAUSE_REMOVED, SD_CAUSE_GREW, SD_CAUSE_SHRANK, SD_CAUSE_LIB, SD_CAUSE_SHMEM };
typedef struct sd_cause {
    int type;
    const sd_entry *entry;             /* process causes */
    const sd_libsum *lib;              /* SD_CAUSE_LIB */
    int64_t delta;                     /* bytes of PSS (Shmem for SHMEM) */
} sd_cause;

typedef struct sd_config {             /* one system configuration fact */
    const char *field;                 /* "kernel", "os_release", "page_size", "mem_total", "hostname", "swap_total" */
    snap_str before, after;            /* strings; for numbers see nbefore/nafter */
    uint64_t nbefore, nafter;
    int is_number, changed;
} sd_config;

typedef struct sd_fold {               /* entries folded under the threshold */
    uint64_t count;
    int64_t sum;
} sd_fold;

/* A process of the "after" snapshot still using files deleted or replaced
 * on disk (like needrestart): libraries or other executable mappings, or
 * its executable. */
typedef struct sd_stale {
    const snap_proc *p;
    int exe_deleted;
    size_t nlibs;
    const snap_lib **libs;             /* deleted code mappings */
} sd_stale;

typedef struct snap_diff {
    const snap *a, *b;
    int rule;                          /* SD_RULE_PID or SD_RULE_KEY */
    int same_boot;
    uint64_t threshold;
    uint64_t files_threshold;          /* open-file changes shown from this count */
    snap_totals ta, tb;
    /* totals over entries whose memory is known on both sides (matched) or
     * on its one side (added/removed): after − before = net_pss */
    uint64_t known_pss_a, known_pss_b, known_uss_a, known_uss_b, known_rss_a, known_rss_b,
             known_swap_a, known_swap_b, known_shmem_a, known_shmem_b;
    uint64_t known_kind_a[3], known_kind_b[3];   /* known PSS per MS_PROC_* */
    uint64_t unknown_a, unknown_b;     /* processes with unreadable memory per side */
    size_t nunknown_entries;           /* entries with mem_unknown */
    snap_memuse mem_a, mem_b;          /* kernel and system memory */
    size_t nrestarts;
    size_t nstale;
    sd_stale *stale;                   /* by name, pid */
    uint64_t shmem_a, shmem_b;         /* /proc/meminfo Shmem */
    uint64_t memtotal_a, memtotal_b, memavail_a, memavail_b;
    uint64_t swapused_a, swapused_b;   /* SwapTotal - SwapFree */
    size_t nconfig;
    sd_config config[8];
    size_t n;
    sd_entry *e;                       /* added, removed, changed, unchanged */
    size_t nadded, nremoved, ngrew, nshrank, nchanged_other, nunchanged;
    size_t nexcluded_a, nexcluded_b;   /* vanished records not matched */
    int64_t net_pss;                   /* sum of process PSS after - before */
    sd_fold fold[4][3];                /* [SD_*][kind] */
    int has_lib_memory;                /* some library has RSS/PSS (--lib-memory) */
    size_t nlibsums;
    sd_libsum *libsums;                /* libraries whose total PSS or disk size changed, by |d_pss| */
    size_t ncauses;
    sd_cause causes[8];
} snap_diff;

/* Build the diff. rule is SD_RULE_AUTO (same boot id -> PID), PID or KEY.
 * threshold folds memory changes below it; files_threshold keeps open-file
 * changes of at least that many files visible (0: every change). */
int snap_diff_build(const snap *a, const snap *b, int rule, uint64_t threshold,
                    uint64_t files_threshold, snap_diff *d);

/* Processes of s still using deleted or replaced executables or code
 * (libraries, executable mappings; not /dev/shm, SysV or memfd segments).
 * Returns 0 or MS_ENOMEM; free with snap_stale_free. */
int snap_stale_build(const snap *s, sd_stale **out, size_t *n);
void snap_stale_free(sd_stale *v, size_t n);

/* Whether a library entry is deleted code a process should be restarted
 * for (deleted, and executable or a shared object; not a shm segment). */
int snap_lib_is_stale(const snap_lib *l);
void snap_diff_free(snap_diff *d);

/* Entries of one section (SD_ADDED/REMOVED/CHANGED) and kind, sorted by
 * |ΔPSS| descending (PSS for added/removed). Returns a malloc'd array of
 * pointers (caller frees), count in *n. */
const sd_entry **snap_diff_section(const snap_diff *d, int status, int kind, size_t *n);
#endif
