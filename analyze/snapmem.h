/* Where a machine's memory is: MemTotal − MemAvailable ("used", what the
 * kernel cannot hand out without swapping) split into the processes'
 * anonymous memory, shared memory, the kernel's own memory (slab, page
 * tables, stacks, vmalloc, per-CPU, huge pages, per-CPU page lists), the
 * page cache and reclaimable slab the kernel keeps out of MemAvailable,
 * its reserve, and the rest nothing explains. Built from /proc/meminfo and
 * /proc/zoneinfo of one snapshot plus the processes' Pss_Anon; rendered
 * by msconv (text, HTML) and msdiff (Markdown, JSON). No printing here. */
#ifndef MS_SNAPMEM_H
#define MS_SNAPMEM_H
#include "snap.h"

/* Rows of the breakdown, in display order. SM_USED is their sum. */
enum {
    SM_PROC_ANON,      /* Σ Pss_Anon of processes whose memory was read       */
    SM_OTHER_ANON,     /* AnonPages − SM_PROC_ANON: unreadable processes, ... */
    SM_SHMEM,          /* Shmem: tmpfs, /dev/shm, SysV (mapped or not)        */
    SM_SLAB_UNRECL,    /* SUnreclaim                                          */
    SM_SLAB_KEPT,      /* reclaimable kernel memory MemAvailable leaves out:
                          min(KReclaimable / 2, low watermark) + KReclaimable
                          beyond SReclaimable is not counted here             */
    SM_PAGETABLES,     /* PageTables + SecPageTables                          */
    SM_KSTACK,         /* KernelStack                                         */
    SM_VMALLOC,        /* VmallocUsed                                         */
    SM_PERCPU,         /* Percpu                                              */
    SM_HUGETLB,        /* Hugetlb (reserved huge pages)                       */
    SM_PCP,            /* free pages on per-CPU lists (not in MemFree)        */
    SM_CACHE_KEPT,     /* page cache MemAvailable leaves out:
                          min((Active(file) + Inactive(file)) / 2, low wmark) */
    SM_RESERVE,        /* the kernel's reserve (watermarks, lowmem protection) */
    SM_REST,           /* used − all of the above (may be negative: timing)   */
    SM_NROWS
};

/* Groups of rows: processes, shared memory, kernel, page cache, reserve,
 * unexplained. */
enum { SMG_PROC, SMG_SHMEM, SMG_KERNEL, SMG_CACHE, SMG_RESERVE, SMG_REST };

typedef struct snap_memuse {
    int have;                  /* meminfo has MemTotal and MemAvailable      */
    int have_zone;             /* zoneinfo recorded (format >= 1.2): the
                                  reserve, kept cache and per-CPU rows are
                                  known; else they are 0 and in SM_REST     */
    uint64_t total, avail, free, used;   /* used = total − avail             */
    int64_t row[SM_NROWS];
    /* for reference (not part of the sum) */
    uint64_t proc_pss, proc_pss_file, proc_pss_shmem;   /* readable processes */
    uint64_t cached, buffers, slab_recl, anon_pages, kernel_total;
    uint64_t n_unknown;        /* processes whose memory was not readable    */
} snap_memuse;

/* Compute the breakdown of s. */
void snap_memuse_of(const snap *s, snap_memuse *m);

/* Machine key of a row ("processes_anon", "slab_unreclaimable", ...), as
 * used in JSON reports. */
const char *snap_memrow_key(int row);
/* Group (SMG_*) of a row. */
int snap_memrow_group(int row);
#endif
