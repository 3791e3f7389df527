/*
 * records.c — encoding and decoding of the record bodies of RECORDS chunks.
 *
 * Every record type is described once, as a table of fields in the order
 * of its struct in memscope.h (which is also the order of the bytes, see
 * spec/FORMAT.md "Records"). The same table drives the writer's encoder and
 * the reader's decoder, so the two cannot drift apart. Decoding checks every
 * length against the remaining body and never reads past it; strings and
 * arrays go to a per-record arena owned by the reader.
 */
#include <stdalign.h>
#include <stdlib.h>
#include "format_internal.h"

enum fkind {
    F_END = 0,
    F_U64,      /* varint, uint64_t                                    */
    F_U32,      /* varint whose value must fit in 32 bits, uint32_t    */
    F_I64,      /* zigzag varint, int64_t                              */
    F_STR,      /* varint length + bytes, ms_str                       */
    F_DELTA,    /* (array elements only) uint64_t stored as zigzag of
                   value minus the same field of the previous element
                   (the first element from 0), modulo 2^64            */
    F_ARR       /* varint count (uint32_t at off) + elements (pointer
                   at off2), element layout in sub                    */
};

typedef struct fdesc {
    unsigned char kind;
    unsigned short off, off2;
    const struct fdesc *sub;
    unsigned short esize;          /* element size (F_ARR)            */
    unsigned char emin;            /* minimum encoded element bytes   */
} fdesc;

#define U64(T, f)  { F_U64, offsetof(T, f), 0, NULL, 0, 0 }
#define U32(T, f)  { F_U32, offsetof(T, f), 0, NULL, 0, 0 }
#define I64(T, f)  { F_I64, offsetof(T, f), 0, NULL, 0, 0 }
#define STR(T, f)  { F_STR, offsetof(T, f), 0, NULL, 0, 0 }
#define DELTA(T, f) { F_DELTA, offsetof(T, f), 0, NULL, 0, 0 }
#define ARR(T, n, p, ET, sub, emin) { F_ARR, offsetof(T, n), offsetof(T, p), sub, sizeof(ET), emin }
#define END        { F_END, 0, 0, NULL, 0, 0 }

static const fdesc d_meta[] = {
    STR(ms_meta, recorder_version), U32(ms_meta, mode), U64(ms_meta, sample_rate),
    U64(ms_meta, pid), U64(ms_meta, ppid), STR(ms_meta, exe), STR(ms_meta, cmdline),
    STR(ms_meta, hostname), STR(ms_meta, kernel), U64(ms_meta, page_size),
    U64(ms_meta, clock_hz), U64(ms_meta, start_wall_ns), STR(ms_meta, unwinder),
    U32(ms_meta, max_depth), STR(ms_meta, label), STR(ms_meta, boot_id),
    STR(ms_meta, allocator), U32(ms_meta, malloc_interposed),
    U32(ms_meta, scope), U64(ms_meta, process_start_ns), U64(ms_meta, session), END
};
static const fdesc d_string[] = { U64(ms_string, id), STR(ms_string, value), END };
static const fdesc d_segment[] = {
    U64(ms_segment, vaddr), U64(ms_segment, size), U64(ms_segment, file_offset),
    U32(ms_segment, prot), END
};
static const fdesc d_module[] = {
    U64(ms_module, id), U64(ms_module, time), STR(ms_module, path), STR(ms_module, build_id),
    U64(ms_module, base), ARR(ms_module, nsegments, segments, ms_segment, d_segment, 4), END
};
static const fdesc d_module_unload[] = { U64(ms_module_unload, id), U64(ms_module_unload, time), END };
static const fdesc d_stack_node[] = { U64(ms_stack_node, parent), DELTA(ms_stack_node, ip), END };
static const fdesc d_stack[] = {
    U64(ms_stack, first_id), ARR(ms_stack, count, nodes, ms_stack_node, d_stack_node, 2), END
};
static const fdesc d_frame[] = {
    STR(ms_frame, function), STR(ms_frame, file), U32(ms_frame, line), U32(ms_frame, column), END
};
static const fdesc d_symbol[] = {
    U64(ms_symbol, ip), U64(ms_symbol, module_id), U64(ms_symbol, module_offset),
    ARR(ms_symbol, nframes, frames, ms_frame, d_frame, 4), END
};
static const fdesc d_thread[] = {
    U64(ms_thread, tid), U64(ms_thread, time), STR(ms_thread, name), U64(ms_thread, creator_tid), END
};
static const fdesc d_thread_end[] = { U64(ms_thread_end, tid), U64(ms_thread_end, time), END };
static const fdesc d_sample[] = {
    U64(ms_sample, time), U64(ms_sample, rss), U64(ms_sample, heap_live), U64(ms_sample, heap_blocks), END
};
static const fdesc d_mark[] = { U64(ms_mark_rec, time), U64(ms_mark_rec, tid), STR(ms_mark_rec, name), END };
static const fdesc d_label[] = {
    U64(ms_label_rec, time), U64(ms_label_rec, tid), U64(ms_label_rec, addr),
    STR(ms_label_rec, var_name), STR(ms_label_rec, type_name), END
};
static const fdesc d_sync[] = { U64(ms_sync, time), END };
static const fdesc d_end[] = {
    U64(ms_end, time), U32(ms_end, reason), I64(ms_end, detail), U64(ms_end, n_events),
    U64(ms_end, n_allocs), U64(ms_end, n_frees), U64(ms_end, alloc_bytes),
    U64(ms_end, n_dropped), U64(ms_end, n_chunks), U64(ms_end, events_lost),
    U64(ms_end, write_errors), I64(ms_end, first_errno), END
};
static const fdesc d_live_block[] = {
    DELTA(ms_live_block, addr), U64(ms_live_block, size), U32(ms_live_block, leak_class), END
};
static const fdesc d_live_blocks[] = {
    U64(ms_live_blocks, time), ARR(ms_live_blocks, count, blocks, ms_live_block, d_live_block, 3), END
};
static const fdesc d_map[] = {
    U64(ms_map, start), U64(ms_map, end), U32(ms_map, prot), U64(ms_map, offset), STR(ms_map, path),
    U64(ms_map, rss), U64(ms_map, pss), U64(ms_map, anon), U64(ms_map, swap), END
};
static const fdesc d_maps[] = { U64(ms_maps, time), ARR(ms_maps, count, maps, ms_map, d_map, 9), END };
static const fdesc d_proc_mem[] = {
    U64(ms_proc_mem, time), U64(ms_proc_mem, vm_size), U64(ms_proc_mem, vm_rss),
    U64(ms_proc_mem, vm_hwm), U64(ms_proc_mem, rss_anon), U64(ms_proc_mem, rss_file),
    U64(ms_proc_mem, rss_shmem), U64(ms_proc_mem, vm_data), U64(ms_proc_mem, vm_swap), END
};
static const fdesc d_kv[] = { STR(ms_kv, key), U64(ms_kv, value), END };
static const fdesc d_snap_begin[] = {
    U64(ms_snap_begin, index), U64(ms_snap_begin, wall_ns), STR(ms_snap_begin, label),
    STR(ms_snap_begin, hostname), STR(ms_snap_begin, kernel), STR(ms_snap_begin, os_release),
    STR(ms_snap_begin, boot_id), U64(ms_snap_begin, page_size), U64(ms_snap_begin, uptime_ms),
    ARR(ms_snap_begin, nmeminfo, meminfo, ms_kv, d_kv, 2),
    ARR(ms_snap_begin, nvmstat, vmstat, ms_kv, d_kv, 2),
    ARR(ms_snap_begin, nzoneinfo, zoneinfo, ms_kv, d_kv, 2),
    ARR(ms_snap_begin, nslabs, slabs, ms_kv, d_kv, 2), U32(ms_snap_begin, privilege), END
};
static const fdesc d_snap_lib[] = {
    STR(ms_snap_lib, path), U64(ms_snap_lib, disk_size), U64(ms_snap_lib, mapped),
    U64(ms_snap_lib, rss), U64(ms_snap_lib, pss), END
};
static const fdesc d_snap_perm[] = {
    U32(ms_snap_perm, prot), U64(ms_snap_perm, size), U64(ms_snap_perm, rss), U64(ms_snap_perm, pss), END
};
static const fdesc d_snap_flag[] = { U32(ms_snap_flag, flags), END };
static const fdesc d_snap_proc[] = {
    U64(ms_snap_proc, snap_index), U64(ms_snap_proc, pid), U64(ms_snap_proc, ppid),
    U64(ms_snap_proc, starttime), STR(ms_snap_proc, name), STR(ms_snap_proc, cmdline),
    STR(ms_snap_proc, exe), U64(ms_snap_proc, exe_size), U64(ms_snap_proc, uid),
    STR(ms_snap_proc, user), U32(ms_snap_proc, kind), U32(ms_snap_proc, state),
    U32(ms_snap_proc, read_status), U64(ms_snap_proc, threads),
    U64(ms_snap_proc, rss), U64(ms_snap_proc, pss), U64(ms_snap_proc, uss),
    U64(ms_snap_proc, swap), U64(ms_snap_proc, swap_pss), U64(ms_snap_proc, shared_clean),
    U64(ms_snap_proc, shared_dirty), U64(ms_snap_proc, private_clean),
    U64(ms_snap_proc, private_dirty), U64(ms_snap_proc, pss_anon), U64(ms_snap_proc, pss_file),
    U64(ms_snap_proc, pss_shmem), U64(ms_snap_proc, rss_anon), U64(ms_snap_proc, rss_file),
    U64(ms_snap_proc, rss_shmem), U64(ms_snap_proc, vm_size), U64(ms_snap_proc, vm_hwm),
    I64(ms_snap_proc, open_files),
    ARR(ms_snap_proc, nlibs, libs, ms_snap_lib, d_snap_lib, 5),
    ARR(ms_snap_proc, nperms, perms, ms_snap_perm, d_snap_perm, 4),
    ARR(ms_snap_proc, nlib_flags, lib_flags, ms_snap_flag, d_snap_flag, 1),
    U32(ms_snap_proc, exe_flags), END
};
static const fdesc d_snap_end[] = {
    U64(ms_snap_end, index), U64(ms_snap_end, wall_ns), U64(ms_snap_end, n_procs),
    U64(ms_snap_end, n_vanished), U64(ms_snap_end, n_denied), U64(ms_snap_end, n_omitted),
    U64(ms_snap_end, omitted_pss), U64(ms_snap_end, omitted_rss),
    U64(ms_snap_end, omitted_kind[0]), U64(ms_snap_end, omitted_kind[1]),
    U64(ms_snap_end, omitted_kind[2]), END
};

static const fdesc *desc_of(uint64_t type)
{
    switch (type) {
    case MS_REC_META:          return d_meta;
    case MS_REC_STRING:        return d_string;
    case MS_REC_MODULE:        return d_module;
    case MS_REC_MODULE_UNLOAD: return d_module_unload;
    case MS_REC_STACK:         return d_stack;
    case MS_REC_SYMBOL:        return d_symbol;
    case MS_REC_THREAD:        return d_thread;
    case MS_REC_THREAD_END:    return d_thread_end;
    case MS_REC_SAMPLE:        return d_sample;
    case MS_REC_MARK:          return d_mark;
    case MS_REC_LABEL:         return d_label;
    case MS_REC_SYNC:          return d_sync;
    case MS_REC_END:           return d_end;
    case MS_REC_LIVE_BLOCKS:   return d_live_blocks;
    case MS_REC_MAPS:          return d_maps;
    case MS_REC_PROC_MEM:      return d_proc_mem;
    case MS_REC_SNAP_BEGIN:    return d_snap_begin;
    case MS_REC_SNAP_PROC:     return d_snap_proc;
    case MS_REC_SNAP_END:      return d_snap_end;
    default:                   return NULL;
    }
}

int msf_rec_known(uint64_t type) { return desc_of(type) != NULL; }

int msf_rec_time(const ms_record *rec, uint64_t *t)
{
    switch (rec->type) {
    case MS_REC_MODULE:        *t = rec->u.module.time; return 1;
    case MS_REC_MODULE_UNLOAD: *t = rec->u.module_unload.time; return 1;
    case MS_REC_THREAD:        *t = rec->u.thread.time; return 1;
    case MS_REC_THREAD_END:    *t = rec->u.thread_end.time; return 1;
    case MS_REC_SAMPLE:        *t = rec->u.sample.time; return 1;
    case MS_REC_MARK:          *t = rec->u.mark.time; return 1;
    case MS_REC_LABEL:         *t = rec->u.label.time; return 1;
    case MS_REC_SYNC:          *t = rec->u.sync.time; return 1;
    case MS_REC_END:           *t = rec->u.end.time; return 1;
    case MS_REC_LIVE_BLOCKS:   *t = rec->u.live_blocks.time; return 1;
    case MS_REC_MAPS:          *t = rec->u.maps.time; return 1;
    case MS_REC_PROC_MEM:      *t = rec->u.proc_mem.time; return 1;
    case MS_REC_SNAP_BEGIN:    *t = rec->u.snap_begin.wall_ns; return 1;
    case MS_REC_SNAP_END:      *t = rec->u.snap_end.wall_ns; return 1;
    default:                   return 0;
    }
}

/* ---- buffer ------------------------------------------------------------- */

int msf_buf_reserve(msf_buf *b, size_t extra)
{
    if (b->err) return b->err;
    if (b->cap - b->len >= extra) return 0;
    if (extra > SIZE_MAX / 2 - b->len) { b->err = MS_ENOMEM; return b->err; }
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap - b->len < extra) ncap *= 2;
    unsigned char *np = b->alloc_fn ? b->alloc_fn(ncap) : malloc(ncap);
    if (!np) { b->err = MS_ENOMEM; return b->err; }
    if (b->len) memcpy(np, b->p, b->len);
    if (b->p) { if (b->free_fn) b->free_fn(b->p); else free(b->p); }
    b->p = np;
    b->cap = ncap;
    return 0;
}

void msf_buf_free(msf_buf *b)
{
    if (b->p) { if (b->free_fn) b->free_fn(b->p); else free(b->p); }
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- encoder ------------------------------------------------------------ */

static int enc_fields(msf_buf *b, const fdesc *d, const unsigned char *s, uint64_t *prev)
{
    for (int i = 0; d[i].kind != F_END; i++) {
        const void *f = s + d[i].off;
        switch (d[i].kind) {
        case F_U64: { uint64_t v; memcpy(&v, f, 8); msf_buf_uv(b, v); break; }
        case F_U32: { uint32_t v; memcpy(&v, f, 4); msf_buf_uv(b, v); break; }
        case F_I64: { int64_t v; memcpy(&v, f, 8); msf_buf_zz(b, v); break; }
        case F_DELTA: {
            uint64_t v; memcpy(&v, f, 8);
            msf_buf_uv(b, msf_zz((int64_t)(v - prev[i])));
            prev[i] = v;
            break;
        }
        case F_STR: {
            ms_str str; memcpy(&str, f, sizeof str);
            if (str.len && !str.ptr) return MS_EINVAL;
            msf_buf_uv(b, str.len);
            msf_buf_bytes(b, str.ptr, str.len);
            break;
        }
        case F_ARR: {
            uint32_t n; const unsigned char *ep;
            memcpy(&n, f, 4);
            memcpy(&ep, s + d[i].off2, sizeof ep);
            if (n && !ep) return MS_EINVAL;
            msf_buf_uv(b, n);
            uint64_t eprev[48] = { 0 };
            for (uint32_t k = 0; k < n; k++) {
                int rc = enc_fields(b, d[i].sub, ep + (size_t)k * d[i].esize, eprev);
                if (rc) return rc;
                if (b->err) return b->err;
            }
            break;
        }
        default: return MS_EINVAL;
        }
    }
    return b->err;
}

int msf_rec_encode(msf_buf *b, const ms_record *rec)
{
    const fdesc *d = desc_of(rec->type);
    if (!d) return MS_EINVAL;
    uint64_t prev[48] = { 0 };
    return enc_fields(b, d, (const unsigned char *)&rec->u, prev);
}

/* ---- arena -------------------------------------------------------------- */

#define ARENA_HDR ((sizeof(msf_arena_blk) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))

void *msf_arena_alloc(msf_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    a->total += n;
    msf_arena_blk *b = a->head;
    if (b && b->cap - b->used >= n) {
        void *p = (unsigned char *)b + ARENA_HDR + b->used;
        b->used += n;
        return p;
    }
    size_t cap = 64 << 10;
    if (cap < n) cap = n;
    if (cap > SIZE_MAX - ARENA_HDR) return NULL;
    msf_arena_blk *nb = malloc(ARENA_HDR + cap);
    if (!nb) return NULL;
    nb->cap = cap;
    nb->used = n;
    nb->next = a->head;
    a->head = nb;
    return (unsigned char *)nb + ARENA_HDR;
}

/* Keep one block big enough for what the last record needed. */
void msf_arena_reset(msf_arena *a)
{
    if (a->head && a->head->next) {
        size_t want = a->total;
        msf_arena_free(a);
        if (want > (64 << 10)) {
            msf_arena_blk *nb = malloc(ARENA_HDR + want);
            if (nb) { nb->cap = want; nb->used = 0; nb->next = NULL; a->head = nb; }
        }
    }
    if (a->head) a->head->used = 0;
    a->total = 0;
}

void msf_arena_free(msf_arena *a)
{
    msf_arena_blk *b = a->head;
    while (b) { msf_arena_blk *n = b->next; free(b); b = n; }
    a->head = NULL;
    a->total = 0;
}

/* ---- decoder ------------------------------------------------------------ */

static const char empty_str[1] = "";

static void zero_fields(const fdesc *d, int from, unsigned char *s)
{
    for (int i = from; d[i].kind != F_END; i++) {
        if (d[i].kind == F_STR) {
            ms_str str = { empty_str, 0 };
            memcpy(s + d[i].off, &str, sizeof str);
        }
        /* everything else is already zero */
    }
}

/* top: fields may end early (only at a field boundary of the record).
 * s NULL: check only (nothing stored, nothing allocated). arrays 0: array
 * fields are checked but delivered with their count and a NULL pointer. */
static int dec_fields(const fdesc *d, const unsigned char **pp, const unsigned char *end,
                      unsigned char *s, msf_arena *a, uint64_t *prev, int top, int arrays)
{
    const unsigned char *p = *pp;
    for (int i = 0; d[i].kind != F_END; i++) {
        if (top && p == end) { if (s) zero_fields(d, i, s); break; }
        void *f = s ? s + d[i].off : NULL;
        uint64_t v;
        if (msf_get_uv(&p, end, &v)) return MS_ECORRUPT;
        switch (d[i].kind) {
        case F_U64: if (f) memcpy(f, &v, 8); break;
        case F_U32: {
            if (v > UINT32_MAX) return MS_ECORRUPT;
            uint32_t x = (uint32_t)v;
            if (f) memcpy(f, &x, 4);
            break;
        }
        case F_I64: { int64_t x = msf_unzz(v); if (f) memcpy(f, &x, 8); break; }
        case F_DELTA: {
            uint64_t x = prev[i] + (uint64_t)msf_unzz(v);
            prev[i] = x;
            if (f) memcpy(f, &x, 8);
            break;
        }
        case F_STR: {
            if (v > (uint64_t)(end - p)) return MS_ECORRUPT;
            if (f) {
                char *c = msf_arena_alloc(a, (size_t)v + 1);
                if (!c) return MS_ENOMEM;
                memcpy(c, p, (size_t)v);
                c[v] = 0;
                ms_str str = { c, (size_t)v };
                memcpy(f, &str, sizeof str);
            }
            p += v;
            break;
        }
        case F_ARR: {
            if (v > UINT32_MAX || v > (uint64_t)(end - p) / d[i].emin) return MS_ECORRUPT;
            uint32_t n = (uint32_t)v;
            unsigned char *ep = NULL;
            int store = f && arrays;
            if (n && store) {
                if ((size_t)n > SIZE_MAX / d[i].esize) return MS_ECORRUPT;
                ep = msf_arena_alloc(a, (size_t)n * d[i].esize);
                if (!ep) return MS_ENOMEM;
                memset(ep, 0, (size_t)n * d[i].esize);
            }
            uint64_t eprev[48] = { 0 };
            for (uint32_t k = 0; k < n; k++) {
                int rc = dec_fields(d[i].sub, &p, end, store ? ep + (size_t)k * d[i].esize : NULL, a, eprev, 0, 1);
                if (rc) return rc;
            }
            if (f) {
                memcpy(f, &n, 4);
                memcpy(s + d[i].off2, &ep, sizeof ep);
            }
            break;
        }
        default: return MS_ECORRUPT;
        }
    }
    *pp = p;
    return 0;
}

int msf_rec_check(uint32_t type, const unsigned char *p, size_t len)
{
    const fdesc *d = desc_of(type);
    if (!d) return MS_ECORRUPT;
    uint64_t prev[48] = { 0 };
    const unsigned char *q = p;
    return dec_fields(d, &q, p + len, NULL, NULL, prev, 1, 0);
}

int msf_rec_decode_opt(uint32_t type, const unsigned char *p, size_t len, ms_record *rec, msf_arena *a, int arrays)
{
    const fdesc *d = desc_of(type);
    if (!d) return MS_ECORRUPT;
    memset(&rec->u, 0, sizeof rec->u);
    rec->type = type;
    uint64_t prev[48] = { 0 };
    const unsigned char *q = p;
    return dec_fields(d, &q, p + len, (unsigned char *)&rec->u, a, prev, 1, arrays);
}

int msf_rec_decode(uint32_t type, const unsigned char *p, size_t len, ms_record *rec, msf_arena *a)
{
    return msf_rec_decode_opt(type, p, len, rec, a, 1);
    /* trailing bytes after the known fields are ignored (newer minor) */
}
