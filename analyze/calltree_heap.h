/* Heap trace -> the models behind msconv's heap views (text, leaks, flame
 * graph, call graph, folded, HTML dashboard), in one pass over the file.
 *
 * The heap replay (heap.h) gets every record; this layer adds what the
 * views need on top of it:
 *   - the call tree (calltree.h) of the sites' symbolized stacks with the
 *     five metrics (peak, leaked, allocated, count, temporary);
 *   - a live-heap timeline from every block's life (exact deltas in at most
 *     MS_HV_BUCKETS time buckets whose width doubles as the trace grows),
 *     RSS from SAMPLE records, named marks;
 *   - size and lifetime histograms, the largest blocks, the first
 *     variable label (ms_label) seen per site;
 *   - the last MAPS and PROC_MEM records (memory maps at exit, peak RSS).
 * Memory is O(live blocks + unique stacks + samples), never O(events). */
#ifndef MS_CALLTREE_HEAP_H
#define MS_CALLTREE_HEAP_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"
#include "heap.h"
#include "calltree.h"

#define MS_HV_BUCKETS 1024
#define MS_HV_SIZE_BUCKETS 65      /* 0: size 0; k: [2^(k-1), 2^k)          */
#define MS_HV_LIFE_BUCKETS 10      /* <1us <10us ... <10s, >=10s, (leaked)  */
#define MS_HV_TOP_BLOCKS 50
#define MS_HV_MOMENTS 48           /* coarse time buckets for per-site live */
#define MS_HV_MOMENT_SITES 65536   /* sites tracked per moment, at most     */

typedef struct ms_hv_sample { uint64_t time, rss, heap_live; } ms_hv_sample;
typedef struct ms_hv_mark { uint64_t time, tid; char *name; } ms_hv_mark;
typedef struct ms_hv_map {
    uint64_t start, end, offset, rss, pss, anon, swap;
    uint32_t prot;
    char *path;
} ms_hv_map;

typedef struct ms_hv_block {               /* one of the largest blocks     */
    uint64_t addr, size, t_alloc, t_free, tid;
    uint32_t site;
    uint8_t freed, temporary, op;
    const char *var_name, *type_name;      /* NULL when unlabeled           */
} ms_hv_block;

typedef struct ms_hv_site_x {             /* per-site block lives          */
    uint64_t freed;                        /* blocks freed                  */
    uint64_t life_sum, life_max;           /* ticks, over freed blocks      */
    uint64_t min_size;                     /* smallest block (UINT64_MAX: none) */
    uint64_t leak_blocks[6], leak_bytes[6];/* live at the end, by MS_LEAK_* */
} ms_hv_site_x;

typedef struct ms_hview {
    ms_heap *heap;
    ms_integrity integ;
    ms_calltree *tree;                     /* function granularity          */
    uint32_t *site_node;                   /* per heap site: its tree node  */
    size_t nsites;
    /* timeline */
    uint64_t bucket_ticks;                 /* width of one bucket           */
    int64_t delta[MS_HV_BUCKETS];          /* live-heap change per bucket   */
    ms_hv_sample *samples;
    size_t nsamples;
    ms_hv_mark *marks;
    size_t nmarks;
    /* at exit */
    ms_hv_map *maps;
    size_t nmaps;
    int has_maps, has_proc;
    ms_proc_mem proc;                      /* last PROC_MEM                 */
    uint64_t peak_rss;                     /* max of VmHWM and SAMPLE rss   */
    /* histograms: [bucket] counts and bytes */
    uint64_t size_count[MS_HV_SIZE_BUCKETS], size_bytes[MS_HV_SIZE_BUCKETS];
    uint64_t life_count[MS_HV_LIFE_BUCKETS + 1], life_bytes[MS_HV_LIFE_BUCKETS + 1];   /* last = leaked */
    ms_hv_block top[MS_HV_TOP_BLOCKS];     /* largest first                 */
    size_t ntop;
    const char **site_var, **site_type;    /* first label per site, or NULL */
    size_t site_label_cap;
    ms_hv_site_x *site_x;                  /* per heap site, site_x_cap rows */
    size_t site_x_cap;
    size_t labeled_blocks;
    /* per-site live bytes over MS_HV_MOMENTS coarse buckets (deltas,
     * site-major), for "which sites were live at time t" */
    uint64_t moment_ticks;
    int64_t *site_moments;
    size_t moment_rows, moment_used;       /* rows allocated, rows used      */
    int moments_capped;                    /* sites beyond the cap ignored  */
    struct ms_tbins *bins;                 /* ms_hview_load_bins: the moments
                                              come from its site cells     */
    /* internal */
    unsigned bucket_shift, moment_shift;   /* log2 of bucket/moment_ticks   */
    uint64_t life_min_ticks[MS_HV_LIFE_BUCKETS];   /* per lifetime floor    */
    uint64_t life_hz;
    const ms_heap_info *hinfo;             /* the replay's, for clock_hz    */
    size_t life_lim;                       /* floors below it are reachable */
    int life_ready;
    size_t cap_samples, cap_marks;
    int oom;
    ms_heap_block_fn also;                 /* ms_hview_load_opts's callback */
    void *also_ctx;
    int lean;                              /* 1: ms_hview_load_lean, 2: _sites,
                                              3: _tree                      */
} ms_hview;

/* Read PATH (a heap trace) and build everything. On failure returns a
 * negative MS_E* code (the reader's ms_reader_open_error() has details for
 * open errors) and *out is NULL. A damaged but readable file succeeds;
 * check (*out)->integ. */
int ms_hview_load(ms_hview **out, const char *path);
/* The same for a time range or phase (range.h; NULL = the whole trace):
 * every model above counts only what the range selects. */
int ms_hview_load_range(ms_hview **out, const char *path, const ms_range_req *range);
/* ms_hview_load_range (whole trace) that also hands every block's life to
 * the time-binned model bins (timebins.h), in the replay's order, and keeps
 * no per-site moment rows (384 bytes a site; 11 MB on cc1): ms_hview_moments
 * then reads the same live bytes from the bins' site cells, after
 * ms_tb_finish. bins must outlive *out. */
struct ms_tbins;
int ms_hview_load_bins(ms_hview **out, const char *path, struct ms_tbins *bins);
/* A range (or NULL) and a callback handed every block's life, in the
 * replay's order (or NULL). */
int ms_hview_load_opts(ms_hview **out, const char *path, const ms_range_req *range,
                       ms_heap_block_fn fn, void *ctx);
/* ms_hview_load_range without what only the dashboard reads: the views'
 * tree (tree and site_node stay NULL) and the per-site moments (empty;
 * ms_hview_moments finds no site), for a view that builds its own tree
 * (ms_hview_tree) or none. The tree of a trace with deep stacks costs as
 * much as its replay, and the moments 384 bytes a site. */
int ms_hview_load_lean(ms_hview **out, const char *path, const ms_range_req *range);
/* ms_hview_load_lean without any per-block model either: the sites, the
 * summary and the symbols only (site_x, the size and lifetime histograms,
 * the timeline buckets and the labels stay empty). For a view that prints
 * the sites' call tree and the summary (msconv --text without sections):
 * the per-block callback is a tenth of a replay's time. */
int ms_hview_load_sites(ms_hview **out, const char *path, const ms_range_req *range);
/* ms_hview_load_sites and the views' tree (v->tree, v->site_node): for the
 * views that draw only the call tree (flame graph, folded stacks, DOT call
 * graph). A trace of 262 144 stacks made the per-block models 60 MB of the
 * flame graph's 196. */
int ms_hview_load_tree(ms_hview **out, const char *path, const ms_range_req *range);
void ms_hview_free(ms_hview *v);

/* Live heap (bytes) at the end of each timeline bucket: fills out[0..n)
 * (out has MS_HV_BUCKETS entries) and returns n, the buckets covering the
 * trace up to its end time. Bucket i ends at tick (i + 1) * bucket_ticks. */
size_t ms_hview_live_curve(const ms_hview *v, uint64_t *out);

/* Largest live sites at the end of each coarse bucket: for moment k
 * (0 <= k < returned count; bucket k ends at tick (k + 1) * moment_ticks)
 * stores up to topn (site, bytes) pairs, most bytes first, at
 * sites[k * topn + i] / bytes[k * topn + i] and their number in n[k].
 * Arrays hold MS_HV_MOMENTS * topn (sites, bytes) and MS_HV_MOMENTS (n).
 * Returns the number of moments covering the trace, or 0 on ENOMEM. */
size_t ms_hview_moments(const ms_hview *v, size_t topn, uint32_t *sites, uint64_t *bytes, size_t *n);

/* Values of one heap site in call-tree metric order (peak, leaked,
 * allocated, count, temporary). */
void ms_hview_site_values(uint64_t out[MS_CT_NMETRICS], const ms_heap_site *s);

/* pprof's granularities for the text table: a row per function (name,
 * file), per source line (name, file, line), per file, or per instruction
 * address ("0x4011a6 name", file, line). Inlined frames are named
 * "name (inline)" (not in files granularity), as pprof marks them. */
enum { MS_HV_GRAN_FUNCTIONS = 0, MS_HV_GRAN_LINES, MS_HV_GRAN_FILES, MS_HV_GRAN_ADDRESSES };
/* "functions", "lines", "files", "addresses" -> MS_HV_GRAN_*, else -1. */
int ms_hview_gran_parse(const char *s);
/* A new call tree of the sites' stacks at granularity gran (the views'
 * tree v->tree is a function tree without inline marks). *out is freed by
 * ms_calltree_free. Returns 0, MS_EINVAL or MS_ENOMEM. */
int ms_hview_tree(ms_calltree **out, const ms_hview *v, int gran);

/* Lower bound (ns) of lifetime bucket k: 0, 1us, 10us, ..., 10s. */
uint64_t ms_hview_life_floor_ns(size_t k);
#endif
