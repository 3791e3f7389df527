/*
 * memscope.h — the one public header of memscope.
 *
 * It declares three things:
 *   1. error codes and ms_strerror();
 *   2. the .memscope file format API: record structs, a writer that builds
 *      checksummed, independently zstd-compressed chunks, and a streaming
 *      reader that yields records with memory bounded by one chunk;
 *   3. the link-in API of libmemscope (ms_label, ms_mark, ms_pause, ms_resume).
 *
 * spec/FORMAT.md is the normative description of the bytes; this header is
 * the C view of it. Everything exported is prefixed ms_ / MS_.
 */
#ifndef MEMSCOPE_H
#define MEMSCOPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MS_VERSION_STRING "0.1.0"

/* Format version written by this library (spec/FORMAT.md, "Versioning"). */
#define MS_FORMAT_MAJOR 1
#define MS_FORMAT_MINOR 3

/* ------------------------------------------------------------------------ */
/* Errors: 0 is success, negative values are errors. Never renumbered.      */
/* ------------------------------------------------------------------------ */
#define MS_OK            0
#define MS_EIO          -1  /* read/write/open failed; errno has details      */
#define MS_ENOMEM       -2  /* out of memory                                  */
#define MS_EINVAL       -3  /* invalid argument                               */
#define MS_ENOTMS       -4  /* not a .memscope file (bad magic)               */
#define MS_EVERSION     -5  /* unsupported (newer) major version              */
#define MS_ETRUNC       -6  /* file ends inside a chunk / header (cut tail)   */
#define MS_ECORRUPT     -7  /* checksum or structure error in a chunk         */
#define MS_EUNSUPPORTED -8  /* must-understand chunk/record/flag unknown       */
#define MS_EZSTD        -9  /* zstd (de)compression failed                    */
#define MS_EEXIST      -10  /* output exists (writer never clobbers)          */
#define MS_ESTATE      -11  /* call not valid in this state                   */
#define MS_EEMPTY      -12  /* empty file                                     */
#define MS_ELIMIT      -13  /* a length exceeds a spec limit                  */

/* A short English description of an error code; never NULL. */
const char *ms_strerror(int err);

/* ------------------------------------------------------------------------ */
/* File kinds, chunk types, record types (spec/FORMAT.md)                   */
/* ------------------------------------------------------------------------ */
#define MS_KIND_HEAP     1  /* heap trace written by libmemscope              */
#define MS_KIND_SNAPSHOT 2  /* /proc snapshots written by msrec snapshot      */

#define MS_CHUNK_RECORDS 0x01 /* generic TLV records                          */
#define MS_CHUNK_EVENTS  0x02 /* column-wise heap events of one thread        */

enum ms_record_type {
    MS_REC_META          = 0x01,
    MS_REC_STRING        = 0x02, /* reserved in v1.0 (interned strings)     */
    MS_REC_MODULE        = 0x03,
    MS_REC_MODULE_UNLOAD = 0x04,
    MS_REC_STACK         = 0x05, /* a batch of (parent, ip) stack nodes      */
    MS_REC_SYMBOL        = 0x06,
    MS_REC_THREAD        = 0x07,
    MS_REC_THREAD_END    = 0x08,
    MS_REC_SAMPLE        = 0x09,
    MS_REC_MARK          = 0x0A,
    MS_REC_LABEL         = 0x0B,
    MS_REC_SYNC          = 0x0C,
    MS_REC_END           = 0x0D,
    MS_REC_LIVE_BLOCKS   = 0x0E,
    MS_REC_MAPS          = 0x0F,
    MS_REC_PROC_MEM      = 0x10,
    MS_REC_SNAP_BEGIN    = 0x20,
    MS_REC_SNAP_PROC     = 0x21,
    MS_REC_SNAP_END      = 0x22,
    /* Not a record type in the file: one heap event decoded from an EVENTS
     * chunk. The reader yields events as records of this type. */
    MS_REC_EVENT         = 0x7F
};

/* Heap event operations (the op byte of an EVENTS chunk). */
enum ms_op {
    MS_OP_FREE           = 0x00, /* free()                                   */
    MS_OP_DELETE         = 0x01, /* operator delete                          */
    MS_OP_DELETE_ARRAY   = 0x02, /* operator delete[]                        */
    MS_OP_MALLOC         = 0x10,
    MS_OP_CALLOC         = 0x11,
    MS_OP_REALLOC        = 0x12, /* realloc: old -> new, see ms_event        */
    MS_OP_REALLOCARRAY   = 0x13, /* reallocarray: old -> new                 */
    MS_OP_MEMALIGN       = 0x14,
    MS_OP_POSIX_MEMALIGN = 0x15,
    MS_OP_ALIGNED_ALLOC  = 0x16,
    MS_OP_VALLOC         = 0x17,
    MS_OP_PVALLOC        = 0x18,
    MS_OP_NEW            = 0x19, /* operator new                             */
    MS_OP_NEW_ARRAY      = 0x1A  /* operator new[]                           */
};
#define MS_OP_IS_FREE(op)    ((op) <= MS_OP_DELETE_ARRAY)
#define MS_OP_IS_REALLOC(op) ((op) == MS_OP_REALLOC || (op) == MS_OP_REALLOCARRAY)
#define MS_OP_HAS_ALIGN(op)  ((op) >= MS_OP_MEMALIGN && (op) <= MS_OP_PVALLOC)
/* Name of an op ("malloc", "free", "operator new", ...); "unknown" otherwise. */
const char *ms_op_name(unsigned op);

/* ------------------------------------------------------------------------ */
/* Records                                                                  */
/* ------------------------------------------------------------------------ */

/* A byte string. Strings the reader returns are also NUL-terminated
 * (ptr[len] == 0) but may contain NUL bytes (cmdline separates arguments
 * with NUL). For the writer, ptr may be NULL when len is 0. */
typedef struct ms_str {
    const char *ptr;
    size_t len;
} ms_str;

/* Times ("ticks") are unsigned counts of the trace clock since the trace
 * start; ms_meta.clock_hz says how many ticks make a second. Snapshot files
 * use wall-clock nanoseconds since the Unix epoch instead. */

#define MS_MODE_FULL    0
#define MS_MODE_SAMPLED 1

typedef struct ms_meta {              /* MS_REC_META: once, first record      */
    ms_str recorder_version;
    uint32_t mode;                    /* MS_MODE_*                            */
    uint64_t sample_rate;             /* mean bytes between samples (sampled) */
    uint64_t pid, ppid;
    ms_str exe;                       /* absolute path of the executable      */
    ms_str cmdline;                   /* argv joined with NUL bytes           */
    ms_str hostname;
    ms_str kernel;                    /* uname release                        */
    uint64_t page_size;
    uint64_t clock_hz;                /* ticks per second, > 0                */
    uint64_t start_wall_ns;           /* Unix time (ns) at tick 0             */
    ms_str unwinder;                  /* "libunwind", "fp", "none"            */
    uint32_t max_depth;
    ms_str label;
    ms_str boot_id;
    ms_str allocator;                 /* (1.2) file whose malloc the process
                                         uses: a shared object, or the
                                         executable; "" unknown             */
    uint32_t malloc_interposed;       /* (1.2) MS_MALLOC_*                    */
    uint32_t scope;                   /* MS_SCOPE_* (1.3)                     */
    uint64_t process_start_ns;        /* Unix ns of the process start, 0 unknown (1.3) */
    uint64_t session;                 /* window traces: attach session 1, 2... (1.3) */
} ms_meta;

/* ms_meta.malloc_interposed */
#define MS_MALLOC_UNKNOWN         0   /* writer before this field             */
#define MS_MALLOC_INTERPOSED      1   /* every malloc-family call recorded    */
#define MS_MALLOC_NOT_INTERPOSED  2   /* the allocator precedes the recorder:
                                         malloc/free calls are missing        */

/* ms_meta.scope (spec 8.9): what part of the process's life a trace covers. */
#define MS_SCOPE_PROCESS 0            /* from the process start               */
#define MS_SCOPE_WINDOW  1            /* a window: recording started later     */

typedef struct ms_segment {
    uint64_t vaddr;                   /* address in the ELF file (p_vaddr)    */
    uint64_t size;                    /* p_memsz                              */
    uint64_t file_offset;             /* p_offset                             */
    uint32_t prot;                    /* 1 read, 2 write, 4 exec              */
} ms_segment;

typedef struct ms_module {            /* MS_REC_MODULE                        */
    uint64_t id;                      /* >= 1, never reused                   */
    uint64_t time;
    ms_str path;
    ms_str build_id;                  /* raw bytes of NT_GNU_BUILD_ID         */
    uint64_t base;                    /* load bias: runtime = vaddr + base    */
    uint32_t nsegments;
    const ms_segment *segments;
} ms_module;

typedef struct ms_string {            /* MS_REC_STRING (reserved in v1.0)     */
    uint64_t id;                      /* >= 1, never reused                   */
    ms_str value;
} ms_string;

typedef struct ms_module_unload {     /* MS_REC_MODULE_UNLOAD (dlclose)       */
    uint64_t id;
    uint64_t time;
} ms_module_unload;

typedef struct ms_stack_node {
    uint64_t parent;                  /* 0 = outermost frame, else < own id   */
    uint64_t ip;
} ms_stack_node;

/* MS_REC_STACK: nodes first_id, first_id+1, ... A stack id names its
 * innermost frame; following parent ids walks toward main/_start. */
typedef struct ms_stack {
    uint64_t first_id;                /* >= 1                                 */
    uint32_t count;
    const ms_stack_node *nodes;
} ms_stack;

typedef struct ms_frame {
    ms_str function;                  /* demangled when possible; may be ""   */
    ms_str file;                      /* source file; may be ""               */
    uint32_t line;                    /* 0 = unknown                          */
    uint32_t column;
} ms_frame;

typedef struct ms_symbol {            /* MS_REC_SYMBOL                        */
    uint64_t ip;
    uint64_t module_id;               /* 0 = unknown                          */
    uint64_t module_offset;           /* ip - module base                     */
    uint32_t nframes;                 /* innermost (inlined) first            */
    const ms_frame *frames;
} ms_symbol;

typedef struct ms_thread {            /* MS_REC_THREAD: start or rename       */
    uint64_t tid;
    uint64_t time;
    ms_str name;
    uint64_t creator_tid;             /* 0 = unknown                          */
} ms_thread;

typedef struct ms_thread_end {        /* MS_REC_THREAD_END                    */
    uint64_t tid;
    uint64_t time;
} ms_thread_end;

typedef struct ms_sample {            /* MS_REC_SAMPLE: periodic              */
    uint64_t time;
    uint64_t rss;                     /* bytes                                */
    uint64_t heap_live;               /* bytes live by the recorder's count   */
    uint64_t heap_blocks;             /* blocks live                          */
} ms_sample;

typedef struct ms_mark_rec {            /* MS_REC_MARK: named phase (ms_mark)   */
    uint64_t time;
    uint64_t tid;
    ms_str name;
} ms_mark_rec;

typedef struct ms_label_rec {            /* MS_REC_LABEL: ms_label(ptr, ...)     */
    uint64_t time;
    uint64_t tid;
    uint64_t addr;                    /* the block live at addr at time       */
    ms_str var_name;
    ms_str type_name;
} ms_label_rec;

typedef struct ms_sync {              /* MS_REC_SYNC: ordering barrier        */
    uint64_t time;                    /* every event with time < this one is
                                         in a chunk before this record        */
} ms_sync;

#define MS_END_EXIT    0              /* normal exit()/return from main      */
#define MS_END_SIGNAL  1              /* fatal signal; detail = signal number */
#define MS_END_UEXIT   2              /* _exit()                              */
#define MS_END_STOPPED 3              /* recording stopped by request         */
#define MS_END_SNAPSHOT 4             /* end of a snapshot file               */
#define MS_END_EXEC    5              /* image replaced by exec* (v1.1)       */
/* END.detail of MS_END_STOPPED (1.3, window traces: spec 8.8) */
#define MS_STOP_DETACH   0            /* a detach request                     */
#define MS_STOP_DURATION 1            /* the requested duration elapsed       */
#define MS_STOP_LOST     2            /* the controlling connection was lost  */
#define MS_STOP_SANDBOX  3            /* a seccomp filter was about to be set */

typedef struct ms_end {               /* MS_REC_END: last record of a file    */
    uint64_t time;
    uint32_t reason;                  /* MS_END_*                             */
    int64_t detail;                   /* exit status or signal number         */
    uint64_t n_events;                /* heap events written                  */
    uint64_t n_allocs, n_frees;
    uint64_t alloc_bytes;             /* sum of sizes of successful allocs    */
    uint64_t n_dropped;               /* events lost by the recorder          */
    uint64_t n_chunks;                /* chunks before the one holding END    */
    uint64_t events_lost;             /* 1.2: events not in the file (writes  */
                                      /* failed / buffers not allocated)      */
    uint64_t write_errors;            /* 1.2: failed or short writes, failed  */
                                      /* buffer allocations                   */
    int64_t first_errno;              /* 1.2: errno of the first; 0 = none    */
} ms_end;

#define MS_LEAK_UNKNOWN    0          /* not classified                       */
#define MS_LEAK_REACHABLE  1          /* still reachable                      */
#define MS_LEAK_DEFINITE   2          /* definitely lost                      */
#define MS_LEAK_INDIRECT   3          /* indirectly lost                      */
#define MS_LEAK_POSSIBLE   4          /* possibly lost (interior pointers)    */
#define MS_LEAK_LIBC       5          /* libc/runtime internal (stdio, TLS)   */

typedef struct ms_live_block {
    uint64_t addr;
    uint64_t size;
    uint32_t leak_class;              /* MS_LEAK_*                            */
} ms_live_block;

typedef struct ms_live_blocks {       /* MS_REC_LIVE_BLOCKS: at exit, batches */
    uint64_t time;
    uint32_t count;
    const ms_live_block *blocks;      /* addresses ascending within a batch  */
} ms_live_blocks;

typedef struct ms_map {
    uint64_t start, end;
    uint32_t prot;                    /* 1 r, 2 w, 4 x, 8 shared (s)          */
    uint64_t offset;
    ms_str path;                      /* "" anonymous; "[heap]", "[stack]"... */
    uint64_t rss, pss, anon, swap;    /* bytes; from smaps, 0 if unknown      */
} ms_map;

typedef struct ms_maps {              /* MS_REC_MAPS: /proc/self/maps (+smaps) */
    uint64_t time;
    uint32_t count;
    const ms_map *maps;
} ms_maps;

typedef struct ms_proc_mem {          /* MS_REC_PROC_MEM: /proc/self/status   */
    uint64_t time;
    uint64_t vm_size, vm_rss, vm_hwm, rss_anon, rss_file, rss_shmem,
             vm_data, vm_swap;        /* bytes                                */
} ms_proc_mem;

typedef struct ms_kv {
    ms_str key;
    uint64_t value;
} ms_kv;

typedef struct ms_snap_begin {        /* MS_REC_SNAP_BEGIN                    */
    uint64_t index;                   /* 0, 1, 2 ... within the file          */
    uint64_t wall_ns;                 /* Unix time in ns                      */
    ms_str label;
    ms_str hostname;
    ms_str kernel;
    ms_str os_release;                /* PRETTY_NAME of /etc/os-release       */
    ms_str boot_id;
    uint64_t page_size;
    uint64_t uptime_ms;
    uint32_t nmeminfo;
    const ms_kv *meminfo;             /* /proc/meminfo, values in bytes      */
    uint32_t nvmstat;                 /* (1.2) nr_* of /proc/vmstat (pages)   */
    const ms_kv *vmstat;
    uint32_t nzoneinfo;               /* (1.2) zone sums in bytes: min, low,
                                         high, managed, reserve, pcp          */
    const ms_kv *zoneinfo;
    uint32_t nslabs;                  /* (1.2) largest slab caches, bytes     */
    const ms_kv *slabs;
    uint32_t privilege;               /* (1.2) MS_PRIV_*                      */
} ms_snap_begin;

#define MS_PRIV_UNKNOWN 0
#define MS_PRIV_ROOT    1
#define MS_PRIV_USER    2

#define MS_PROC_KERNEL 0
#define MS_PROC_SYSTEM 1
#define MS_PROC_USER   2

/* read_status bits: what could not be read, and why. 0 = all read. */
#define MS_READ_VANISHED     0x01     /* process exited during the scan       */
#define MS_READ_DENIED_SMAPS 0x02     /* smaps/smaps_rollup: EACCES           */
#define MS_READ_DENIED_FD    0x04     /* fd/: EACCES                          */
#define MS_READ_DENIED_EXE   0x08     /* exe link: EACCES                     */
#define MS_READ_DENIED_MAPS  0x10     /* maps: EACCES                         */
#define MS_READ_ZOMBIE       0x20
#define MS_READ_NO_ROLLUP    0x40     /* smaps_rollup absent, smaps summed    */

typedef struct ms_snap_lib {
    ms_str path;                      /* without " (deleted)"                 */
    uint64_t disk_size;               /* size on disk, 0 if unknown           */
    uint64_t mapped;                  /* sum of mapping sizes                 */
    uint64_t rss, pss;                /* bytes                                */
} ms_snap_lib;

typedef struct ms_snap_perm {
    uint32_t prot;                    /* as ms_map.prot                       */
    uint64_t size, rss, pss;
} ms_snap_perm;

#define MS_LIB_DELETED 0x1            /* mapping shown as "PATH (deleted)"    */
#define MS_LIB_EXEC    0x2            /* some mapping of the file is r-x      */
#define MS_EXE_DELETED 0x1

typedef struct ms_snap_flag {         /* (1.2) one per lib, same order        */
    uint32_t flags;                   /* MS_LIB_*                             */
} ms_snap_flag;

typedef struct ms_snap_proc {         /* MS_REC_SNAP_PROC                     */
    uint64_t snap_index;
    uint64_t pid, ppid;
    uint64_t starttime;               /* field 22 of /proc/PID/stat (ticks)  */
    ms_str name;                      /* comm                                 */
    ms_str cmdline;                   /* NUL-separated                        */
    ms_str exe;                       /* "" if unreadable                     */
    uint64_t exe_size;                /* bytes on disk, 0 if unknown          */
    uint64_t uid;
    ms_str user;
    uint32_t kind;                    /* MS_PROC_*                            */
    uint32_t state;                   /* state letter of /proc/PID/stat       */
    uint32_t read_status;             /* MS_READ_* bits                       */
    uint64_t threads;
    uint64_t rss, pss, uss, swap, swap_pss,
             shared_clean, shared_dirty, private_clean, private_dirty,
             pss_anon, pss_file, pss_shmem,
             rss_anon, rss_file, rss_shmem,
             vm_size, vm_hwm;         /* bytes                                */
    int64_t open_files;               /* -1 = unknown                         */
    uint32_t nlibs;
    const ms_snap_lib *libs;
    uint32_t nperms;
    const ms_snap_perm *perms;
    uint32_t nlib_flags;              /* (1.2) 0 or nlibs                     */
    const ms_snap_flag *lib_flags;
    uint32_t exe_flags;               /* (1.2) MS_EXE_*                       */
} ms_snap_proc;

typedef struct ms_snap_end {          /* MS_REC_SNAP_END                      */
    uint64_t index;
    uint64_t wall_ns;
    uint64_t n_procs;                 /* SNAP_PROC records written           */
    uint64_t n_vanished, n_denied, n_omitted;
    uint64_t omitted_pss;             /* --max-processes remainder            */
    uint64_t omitted_rss;
    uint64_t omitted_kind[3];         /* (1.2) omitted per MS_PROC_*          */
} ms_snap_end;

/* One heap event. addr is the block returned (allocs, realloc new) or
 * released (frees). For realloc: old_addr -> addr; addr 0 with size 0
 * means realloc(p, 0) freed old_addr; addr 0 with size > 0 means it failed
 * and old_addr stayed live. An alloc with addr 0 is a failed allocation. */
typedef struct ms_event {
    uint64_t time;
    uint64_t tid;
    uint64_t addr;
    uint64_t size;                    /* allocs/reallocs; 0 for frees         */
    uint64_t old_addr;                /* reallocs only                        */
    uint64_t stack;                   /* allocs/reallocs; 0 = no stack        */
    uint32_t align;                   /* MS_OP_HAS_ALIGN ops, else 0          */
    uint8_t op;                       /* enum ms_op                           */
} ms_event;

/* A decoded record. Pointers inside stay valid until the next call on the
 * reader that produced it. */
typedef struct ms_record {
    uint32_t type;                    /* enum ms_record_type                  */
    uint64_t chunk_offset;            /* file offset of its chunk             */
    uint64_t chunk_seq;
    union {
        ms_meta meta;
        ms_string string;
        ms_module module;
        ms_module_unload module_unload;
        ms_stack stack;
        ms_symbol symbol;
        ms_thread thread;
        ms_thread_end thread_end;
        ms_sample sample;
        ms_mark_rec mark;
        ms_label_rec label;
        ms_sync sync;
        ms_end end;
        ms_live_blocks live_blocks;
        ms_maps maps;
        ms_proc_mem proc_mem;
        ms_snap_begin snap_begin;
        ms_snap_proc snap_proc;
        ms_snap_end snap_end;
        ms_event event;
    } u;
} ms_record;

/* Name of a record type ("meta", "event", "snap_proc", ...) or "unknown". */
const char *ms_record_type_name(uint32_t type);

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */
typedef struct ms_writer ms_writer;

typedef struct ms_writer_opts {
    uint32_t kind;              /* MS_KIND_*; required                        */
    int level;                  /* zstd level; 0 = default (3)                */
    size_t chunk_bytes;         /* raw bytes that close a RECORDS chunk;
                                   0 = default (256 KiB)                      */
    /* Allocator used for every internal buffer; NULL = malloc/free. The
     * recorder passes the underlying libc allocator here. */
    void *(*alloc_fn)(size_t);
    void (*free_fn)(void *);
} ms_writer_opts;

/* Create PATH (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0644) and write the file
 * header. Never clobbers: MS_EEXIST if PATH exists. On success *out owns
 * the file; release with ms_writer_close or ms_writer_abort. */
int ms_writer_open(ms_writer **out, const char *path, const ms_writer_opts *opts);

/* Same on an already-open fd (positioned at offset 0 or the end of a pipe).
 * The writer does not close fd unless close_fd is nonzero. */
int ms_writer_fdopen(ms_writer **out, int fd, int close_fd, const ms_writer_opts *opts);

/* Continue a finished file (spec 8.7: a symbolizer appends SYMBOL chunks
 * after END). fd is open read-write on a .memscope file that is chunks back
 * to back up to its end: usable envelopes, sequence numbers 0, 1, 2...
 * (payloads are not checked; read the file first to know it is sound). The
 * writer appends after the last chunk, numbering from its seq + 1, and
 * changes no byte already in the file (not even the header's version).
 * opts->kind 0 takes the file's kind; another kind than the file's is
 * MS_EINVAL. Errors: MS_EEMPTY, MS_ENOTMS, MS_EVERSION (another major),
 * MS_EUNSUPPORTED (unknown must-understand header flag), MS_ECORRUPT (not
 * chunks back to back), MS_ETRUNC (a cut tail), MS_EIO. The writer does
 * not close fd unless close_fd is nonzero; to make the appended chunks
 * durable the caller fsyncs fd. */
int ms_writer_open_append(ms_writer **out, int fd, int close_fd, const ms_writer_opts *opts);

/* Append one record (any type but MS_REC_EVENT) to the current RECORDS
 * chunk; the chunk is written when it reaches chunk_bytes. Strings and arrays
 * are copied; the caller keeps ownership. */
int ms_writer_add(ms_writer *w, const ms_record *rec);

/* Write n events of one thread as EVENTS chunk(s), after first writing the
 * pending RECORDS chunk (so definitions they use come first). Events must be
 * in the thread's order; ev[i].tid is ignored in favour of tid. */
int ms_writer_events(ms_writer *w, uint64_t tid, const ms_event *ev, size_t n);

/* The same, fed in pieces (for callers that convert events from their own
 * layout through a small buffer): begin writes the pending RECORDS chunk
 * and opens an EVENTS chunk of thread tid whose addresses (addr, and
 * old_addr of reallocs) OR together to addr_bits (this fixes the chunk's
 * shift); add appends events (at most 65 536 per chunk: MS_ELIMIT; an
 * address not covered by addr_bits or an unknown op: MS_EINVAL, nothing
 * added); end writes the chunk (nothing when no event was added). Other
 * event calls while a chunk is open: MS_ESTATE. */
int ms_writer_events_begin(ms_writer *w, uint64_t tid, uint64_t addr_bits);
int ms_writer_events_add(ms_writer *w, const ms_event *ev, size_t n);
int ms_writer_events_end(ms_writer *w);

/* Write the pending RECORDS chunk now (no-op when empty). */
int ms_writer_flush(ms_writer *w);

/* Ask the writer not to compress from now on (for crash paths: no zstd
 * allocation). */
void ms_writer_set_raw(ms_writer *w, int raw);

/* Flush, fsync nothing, close the file and free the writer (also on error). */
int ms_writer_close(ms_writer *w);

/* Close and unlink the file (writer created it by path), free the writer. */
void ms_writer_abort(ms_writer *w);

/* Bytes written so far (file size). */
uint64_t ms_writer_offset(const ms_writer *w);

/* Chunks written so far (the next chunk's seq; END.n_chunks after a flush). */
uint64_t ms_writer_chunks(const ms_writer *w);

/* What reached the file and what did not (END fields 10-12, spec 1.2), and
 * what compressing it cost. */
typedef struct ms_writer_stats {
    uint64_t events_written;    /* events in EVENTS chunks written in full    */
    uint64_t write_errors;      /* failed writes (ENOSPC, EFBIG, EIO, a write
                                   that made no progress) and failed buffer
                                   allocations; after a failed write the
                                   writer refuses further writes              */
    int first_errno;            /* errno of the first of them; 0 if none      */
    uint64_t compress_ns;       /* time spent compressing chunks (monotonic)  */
    uint64_t raw_bytes;         /* chunk payloads written, before and after   */
    uint64_t stored_bytes;      /* compression (envelopes not counted)        */
} ms_writer_stats;
void ms_writer_get_stats(const ms_writer *w, ms_writer_stats *st);

/* After a failed write (the writer cut the failed chunk off, so the file
 * ends at a chunk boundary) or a failed buffer allocation: drop what is
 * pending and accept writes again, for one last small chunk (the
 * recorder's END saying what was lost; on a full disk the cut chunk's
 * space makes room for it). A record of up to ~1000 encoded bytes added
 * then, and its flush with compression off (ms_writer_set_raw), allocate
 * nothing: a writer holds that room from its creation. The counters stay.
 * MS_EINVAL when the writer has no descriptor any more. */
int ms_writer_recover(ms_writer *w);

/* Go on writing through fd, another descriptor of the same file positioned
 * at ms_writer_offset (the recorder reopens a trace whose descriptor the
 * application closed). fd < 0: the file is lost; the writer stops writing
 * and never touches its old descriptor again (one write error, EBADF). */
void ms_writer_set_fd(ms_writer *w, int fd);

/* ------------------------------------------------------------------------ */
/* Reader                                                                   */
/* ------------------------------------------------------------------------ */
typedef struct ms_reader ms_reader;

typedef struct ms_header_info {
    uint16_t major, minor;
    uint32_t flags;
    uint32_t kind;                    /* MS_KIND_*                            */
} ms_header_info;

/* Integrity of what has been read so far (final after the last record). */
typedef struct ms_integrity {
    int verdict;                 /* MS_OK, MS_ETRUNC (cut tail) or MS_ECORRUPT
                                    (a bad chunk in the middle; wins over a
                                    cut tail when both occur)                 */
    uint64_t chunks_ok;          /* chunks decoded                            */
    uint64_t chunks_bad;         /* corrupt chunks skipped                    */
    uint64_t chunks_skipped;     /* unknown optional chunks skipped           */
    uint64_t records_lost;       /* records in bad/cut chunks, where known    */
    uint64_t bytes_lost;         /* bytes skipped or cut                      */
    uint64_t first_bad_offset;   /* offset of the first corrupt chunk        */
    uint64_t trunc_offset;       /* offset where the cut tail starts         */
    int has_end;                 /* an END record was read                    */
    uint64_t file_size;
    /* From END (1.2): what the writer could not write (0 = no loss known) */
    uint64_t end_n_events, end_events_lost, end_write_errors;
    int64_t end_first_errno;
    uint64_t end_n_dropped;      /* END n_dropped: events the recorder saw and
                                    did not record                             */
} ms_integrity;

/* Open PATH for streaming. Fails with MS_EIO (errno set), MS_EEMPTY,
 * MS_ENOTMS, MS_EVERSION, MS_ETRUNC (header cut). *out is NULL on error. */
int ms_reader_open(ms_reader **out, const char *path);

/* Same on a memory buffer (not copied; must outlive the reader). */
int ms_reader_open_mem(ms_reader **out, const void *buf, size_t len);

/* Detail of the last failed ms_reader_open / ms_reader_open_mem, or of the
 * error that stopped ms_reader_next (e.g. which must-understand type was
 * unknown), in the calling thread: e.g. "file format version 2.0 is newer
 * than the supported version 1.x"; "" when there is none. Never NULL. */
const char *ms_reader_open_error(void);

/* Next record. Returns 1 and sets *rec, 0 at the end, or a negative error
 * that stops reading (MS_EIO, MS_ENOMEM, MS_EUNSUPPORTED). Truncation and
 * corrupt chunks are not returned here: the reader skips what it cannot
 * trust, keeps going, and reports it through ms_reader_integrity. */
int ms_reader_next(ms_reader *r, const ms_record **rec);

const ms_header_info *ms_reader_header(const ms_reader *r);
void ms_reader_integrity(const ms_reader *r, ms_integrity *out);

/* Called once per problem found (corrupt chunk, cut tail, unknown optional
 * chunk skipped), with the error code, file offset and an English message.
 * err is MS_ECORRUPT, MS_ETRUNC, or MS_OK for a notice that does not affect
 * the verdict (an unknown optional chunk was skipped). */
typedef void (*ms_problem_fn)(void *ctx, int err, uint64_t offset, const char *msg);
void ms_reader_on_problem(ms_reader *r, ms_problem_fn fn, void *ctx);

/* Per chunk statistics of the chunk that produced the last record. */
typedef struct ms_chunk_info {
    uint64_t offset, seq;
    uint32_t type, flags;
    uint32_t record_count;
    uint32_t raw_len, stored_len;
    uint64_t t_first, t_last;
} ms_chunk_info;
void ms_reader_chunk(const ms_reader *r, ms_chunk_info *out);

/* skip nonzero: array fields of the records that follow (module segments,
 * live blocks, maps, snapshot libraries...) are still checked but
 * delivered with their count and a NULL pointer, so a reader that only
 * counts (msconv --info) needs no memory for them: a 64 MiB record of
 * 12 million libraries would otherwise decode into ~600 MB. */
void ms_reader_skip_arrays(ms_reader *r, int skip);

/* skip nonzero: the events of EVENTS chunks that follow are not delivered
 * (MS_REC_EVENT never comes); their chunks are still decompressed and
 * validated, so the integrity verdict is the same as when reading them
 * all. For readers that only want records (the symbolizer: MODULE, STACK
 * and SYMBOL of a trace with millions of events). */
void ms_reader_skip_events(ms_reader *r, int skip);

void ms_reader_close(ms_reader *r);

/* ------------------------------------------------------------------------ */
/* libmemscope link-in API (no-ops unless recording is enabled)             */
/* ------------------------------------------------------------------------ */

/* Give the live block at ptr a variable name and type, shown in reports. */
void ms_label(const void *ptr, const char *var_name, const char *type_name);
/* Start a named phase on the timeline. */
void ms_mark(const char *name);
/* Stop/resume recording allocations of the calling process (all threads).
 * Frees of blocks allocated before the pause are still recorded. */
void ms_pause(void);
void ms_resume(void);
/* 1 if this process is recording. */
int ms_recording(void);

#ifdef __cplusplus
}
#endif
#endif /* MEMSCOPE_H */
