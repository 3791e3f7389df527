/* Internal interface of `msrec snapshot` (recorder/snapshot/): the system
 * facts reader (snap_sys.c), the per-process /proc reader (snap_proc.c) and
 * the command line front end (snap_cli.c). */
#ifndef SNAP_INTERNAL_H
#define SNAP_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"

/* A growable byte buffer. */
typedef struct sn_buf {
    char *p;
    size_t n, cap;
} sn_buf;
int sn_buf_reserve(sn_buf *b, size_t want);
void sn_buf_free(sn_buf *b);

/* Read all of NAME under directory fd DIRFD into B (NUL-terminated, b->n
 * bytes). Returns 0 or -errno. */
int sn_read_at(int dirfd, const char *name, sn_buf *b);

/* System facts of one snapshot (owned strings). */
typedef struct sn_sys {
    char hostname[256];
    char kernel[256];
    char os_release[256];
    char boot_id[64];
    uint64_t page_size;
    uint64_t uptime_ms;
    uint32_t nmeminfo;
    ms_kv *meminfo;     /* keys point into names */
    char *names;
    uint32_t nvmstat, nzoneinfo, nslabs;
    ms_kv *vmstat;      /* nr_* lines, keys point into vmnames   */
    char *vmnames;
    ms_kv zoneinfo[6];  /* min low high managed reserve pcp, bytes */
    ms_kv *slabs;       /* keys point into slabnames             */
    char *slabnames;
    uint32_t privilege; /* MS_PRIV_*                              */
} sn_sys;
int sn_sys_read(sn_sys *s);
void sn_sys_free(sn_sys *s);

/* One scanned process: the record plus the storage its pointers use. */
typedef struct sn_proc {
    ms_snap_proc r;
    char *name, *cmdline, *exe;    /* owned                                 */
    ms_snap_lib *libs;             /* owned; paths owned                    */
    ms_snap_flag *lflags;          /* owned; one per lib                    */
    uint32_t caplibs;
    ms_snap_perm perms[16];
} sn_proc;
void sn_proc_free(sn_proc *p);

/* Options of a scan. */
typedef struct sn_opts {
    int libs;          /* libraries and permission sums: 0 none, 1 from maps
                          (sizes only), 2 from smaps (with RSS and PSS)     */
    long only_pid;     /* > 0: scan only this process                        */
    long self_pid;     /* excluded from the scan                             */
} sn_opts;

/* The scanner keeps caches (user names, file sizes) across scans. */
typedef struct sn_scanner sn_scanner;
sn_scanner *sn_scanner_new(const sn_opts *o);
void sn_scanner_free(sn_scanner *s);

/* Scan one process. Returns 0 and fills *p (even for a vanished or denied
 * process: read_status says what is missing), or -1 when the pid directory
 * no longer exists at all (then p->r.pid is set and read_status is
 * MS_READ_VANISHED). */
int sn_scan_pid(sn_scanner *s, long pid, sn_proc *p);

/* Scan every process (or only_pid). *out gets an array of *n processes. */
int sn_scan_all(sn_scanner *s, sn_proc **out, size_t *n);
#endif
