/* Diff model of two snapshots: processes matched by (pid, starttime) on the
 * same boot or by (exe, normalized cmdline, user) across boots, several
 * instances of one key aggregated; added / removed / changed entries with
 * library, open-file, exe-size and shared-memory changes; totals, system
 * configuration changes, library totals across processes and the biggest
 * causes. Renderers (convert/msdiff) only format this. */
#ifndef MS_SNAPDIFF_H
#define MS_SNAPDIFF_H
#include "snap.h"

enum { SD_RULE_AUTO = -1, SD_RULE_PID = 0, SD_RULE_KEY = 1 };
enum { SD_ADDED = 0, SD_REMOVED = 1, SD_CHANGED = 2, SD_UNCHANGED = 3 };
enum { SD_LIB_ADDED = 0, SD_LIB_REMOVED = 1, SD_LIB_RESIZED = 2 };

typedef struct sd_side {
    uint64_t count;                    /* instances aggregated (0 = absent) */
    uint64_t pss, uss, rss, swap, pss_shmem, rss_shmem, exe_size, threads;
    int64_t open_files;                /* sum of known counts; -1 unknown */
    uint32_t read_status;              /* OR over instances */
} sd_side;

typedef struct sd_lib {
    snap_str path;
    int change;                        /* SD_LIB_* */
    uint64_t disk_a, disk_b, pss_a, pss_b, rss_a, rss_b;
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

typedef struct snap_diff {
    const snap *a, *b;
    int rule;                          /* SD_RULE_PID or SD_RULE_KEY */
    int same_boot;
    uint64_t threshold;
    snap_totals ta, tb;
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

/* Build the diff. rule is SD_RULE_AUTO (same boot id -> PID), PID or KEY. */
int snap_diff_build(const snap *a, const snap *b, int rule, uint64_t threshold, snap_diff *d);
void snap_diff_free(snap_diff *d);

/* Entries of one section (SD_ADDED/REMOVED/CHANGED) and kind, sorted by
 * |ΔPSS| descending (PSS for added/removed). Returns a malloc'd array of
 * pointers (caller frees), count in *n. */
const sd_entry **snap_diff_section(const snap_diff *d, int status, int kind, size_t *n);
#endif
