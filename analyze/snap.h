/* Snapshot model: a .memscope snapshot file loaded into memory (every
 * snapshot of a series, every process with its libraries and permission
 * sums), per-snapshot totals, and the growth of processes over a series.
 * No printing here: convert/ renders these models. */
#ifndef MS_SNAP_H
#define MS_SNAP_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"

/* An owned byte string, NUL-terminated (may contain NULs: cmdline). */
typedef struct snap_str {
    const char *p;
    size_t n;
} snap_str;

typedef struct snap_lib {
    snap_str path;
    uint64_t disk_size, mapped, rss, pss;
    uint32_t flags;                    /* MS_LIB_* (files of format >= 1.2) */
} snap_lib;

typedef struct snap_perm {
    uint32_t prot;
    uint64_t size, rss, pss;
} snap_perm;

typedef struct snap_proc {
    uint64_t pid, ppid, starttime, uid;
    snap_str name, cmdline, exe, user;
    uint64_t exe_size;
    uint32_t kind, state, read_status;
    uint64_t threads;
    uint64_t rss, pss, uss, swap, swap_pss, shared_clean, shared_dirty,
             private_clean, private_dirty, pss_anon, pss_file, pss_shmem,
             rss_anon, rss_file, rss_shmem, vm_size, vm_hwm;
    int64_t open_files;                /* -1 unknown */
    uint32_t nlibs, nperms;
    snap_lib *libs;                    /* sorted by path, then flags */
    snap_perm *perms;
    uint32_t exe_flags;                /* MS_EXE_* */
} snap_proc;

/* Its memory (PSS, USS, swap...) was read: not denied, not vanished. A
 * process whose memory is unknown has 0 in those fields, which is not a
 * measurement: diffs must not count it. */
int snap_proc_mem_known(const snap_proc *p);

typedef struct snap {
    uint64_t index, wall_ns, page_size, uptime_ms;
    snap_str label, hostname, kernel, os_release, boot_id;
    uint32_t nmeminfo;
    snap_str *meminfo_keys;
    uint64_t *meminfo_vals;
    uint32_t nvmstat, nzoneinfo, nslabs;   /* format 1.2; 0 in older files */
    snap_str *vmstat_keys, *zoneinfo_keys, *slab_keys;
    uint64_t *vmstat_vals, *zoneinfo_vals, *slab_vals;
    uint32_t privilege;                /* MS_PRIV_* */
    size_t nprocs;
    snap_proc *procs;                  /* sorted by pid */
    int has_end;                       /* SNAP_END seen */
    uint64_t end_wall_ns, n_vanished, n_denied, n_omitted, omitted_pss, omitted_rss;
    uint64_t omitted_kind[3];          /* omitted per MS_PROC_* (1.2)     */
} snap;

typedef struct snap_file {
    char *path;
    size_t nsnaps;
    snap *snaps;
    ms_integrity integrity;
    int has_end;                       /* final END record seen */
    void *arena;
} snap_file;

/* Load PATH. Returns 0, or a negative MS_* error with a one-line English
 * reason in err (e.g. "not a snapshot file (heap trace)"). A cut or
 * partly corrupt file loads what could be trusted (see integrity). */
int snap_file_load(const char *path, snap_file **out, char *err, size_t errlen);
void snap_file_free(snap_file *f);

/* File kind of PATH without loading it (MS_KIND_*), or a negative MS_*
 * error with err filled. */
int snap_file_kind(const char *path, char *err, size_t errlen);

/* Value of a /proc/meminfo key in bytes; 0 if absent. */
uint64_t snap_meminfo(const snap *s, const char *key);
/* Whether /proc/meminfo has KEY. */
int snap_meminfo_has(const snap *s, const char *key);
/* A zone sum of /proc/zoneinfo ("reserve", "low", "pcp"...) in bytes;
 * -1 when the snapshot has none (files before format 1.2). */
int64_t snap_zoneinfo(const snap *s, const char *key);

/* Find a process by pid (binary search); NULL if absent. */
const snap_proc *snap_find_pid(const snap *s, uint64_t pid);

#define SNAP_DENIED_BITS (MS_READ_DENIED_SMAPS | MS_READ_DENIED_FD | MS_READ_DENIED_EXE | MS_READ_DENIED_MAPS)

typedef struct snap_totals {
    uint64_t nprocs;                   /* records */
    uint64_t by_kind[3];               /* records per MS_PROC_* */
    uint64_t all_kind[3];              /* processes per MS_PROC_*, with the
                                          ones --max-processes left out   */
    uint64_t n_mem_unknown;            /* memory not readable (denied)     */
    uint64_t pss, uss, rss, swap, swap_pss, pss_shmem, rss_shmem, pss_anon, pss_file;
    uint64_t pss_kind[3], rss_kind[3], uss_kind[3], swap_kind[3];   /* per MS_PROC_* */
    uint64_t open_files;               /* sum of known counts */
    uint64_t n_full;                   /* read completely */
    uint64_t n_vanished, n_zombie, n_denied, n_no_rollup;
    uint64_t n_omitted, omitted_pss, omitted_rss;
} snap_totals;
void snap_totals_of(const snap *s, snap_totals *t);

/* Growth of one process (same pid and starttime) over a series. A rate is
 * only given for a process present long enough: in at least half of the
 * snapshots (and >= 3 of them, or both of a 2-snapshot series) with its
 * memory readable; it is the least-squares slope of PSS over time through
 * every snapshot holding it, with the fit's R² (1 = a straight line: a
 * steady leak; near 0 = noise). Short-lived processes get no rate. */
typedef struct snap_growth {
    const snap_proc *first, *last;     /* in the first/last snapshot holding it */
    uint64_t first_ns, last_ns;
    int64_t d_pss, d_rss, d_uss;
    double pss_mb_per_hour;            /* fitted slope, MiB per hour; 0 when
                                          not rated                        */
    double r2;                         /* fit quality 0..1; 0 when not rated */
    uint32_t seen;                     /* snapshots holding the process    */
    int rated;                         /* present long enough for a rate   */
} snap_growth;

typedef struct snap_series {
    size_t n;
    snap_growth *g;                    /* rated first, by pss_mb_per_hour
                                          desc; then the others by d_pss   */
    uint32_t min_seen;                 /* snapshots needed for a rate      */
    uint64_t span_ns;                  /* last - first snapshot time       */
    int64_t d_total_pss;
    double total_mb_per_hour;
} snap_series;
int snap_series_build(const snap_file *f, snap_series *out);
void snap_series_free(snap_series *s);

/* Permission bits as "r-xp" (5 bytes with NUL). */
void snap_perm_str(uint32_t prot, char out[5]);
#endif
