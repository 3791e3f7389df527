/*
 * msdump.h — the canonical text dump of a .memscope file, used by the golden
 * generator (make_golden.c), the golden test and the robustness test.
 *
 * One line per chunk, one line per record (arrays as indented sub-lines),
 * every field of every record type, in struct order. Integers are decimal;
 * strings are quoted with bytes outside 0x20..0x7e and '"' '\' escaped as
 * \xHH / \" / \\; build ids are lowercase hex. tests/spec/spec_reader.py
 * prints exactly the same text from spec/FORMAT.md alone, so the format of
 * this dump is itself fixed: changing it means regenerating every .expected
 * file, which the golden README forbids. Header-only (static functions) so
 * that each test program stays one .c file.
 */
#ifndef MSDUMP_H
#define MSDUMP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memscope.h"

/* Called on every string printed; the fuzz target checks here that reader
 * strings are NUL-terminated. */
#ifndef MSD_STR_HOOK
#define MSD_STR_HOOK(s) ((void)0)
#endif

static inline void msd_str(FILE *f, const char *key, ms_str s)
{
    MSD_STR_HOOK(s);
    fprintf(f, " %s=\"", key);
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c >= 0x20 && c <= 0x7e)
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
    fputc('"', f);
}

static inline void msd_hex(FILE *f, const char *key, ms_str s)
{
    MSD_STR_HOOK(s);
    fprintf(f, " %s=", key);
    for (size_t i = 0; i < s.len; i++)
        fprintf(f, "%02x", (unsigned char)s.ptr[i]);
}

static inline void msd_u(FILE *f, const char *key, uint64_t v)
{
    fprintf(f, " %s=%" PRIu64, key, v);
}

static inline void msd_i(FILE *f, const char *key, int64_t v)
{
    fprintf(f, " %s=%" PRId64, key, v);
}

/* The file header line. */
static inline void msd_header(FILE *f, const ms_header_info *h)
{
    fprintf(f, "header major=%u minor=%u flags=%" PRIu32 " kind=%" PRIu32 "\n",
            (unsigned)h->major, (unsigned)h->minor, h->flags, h->kind);
}

/* One line per chunk, printed before the first record of that chunk. */
static inline void msd_chunk(FILE *f, const ms_chunk_info *c)
{
    fprintf(f, "chunk");
    msd_u(f, "offset", c->offset);
    msd_u(f, "seq", c->seq);
    msd_u(f, "type", c->type);
    msd_u(f, "flags", c->flags);
    msd_u(f, "records", c->record_count);
    msd_u(f, "raw_len", c->raw_len);
    msd_u(f, "stored_len", c->stored_len);
    msd_u(f, "t_first", c->t_first);
    msd_u(f, "t_last", c->t_last);
    fputc('\n', f);
}

static inline void msd_integrity(FILE *f, const ms_integrity *g)
{
    fprintf(f, "integrity");
    msd_i(f, "verdict", g->verdict);
    msd_u(f, "chunks_ok", g->chunks_ok);
    msd_u(f, "chunks_bad", g->chunks_bad);
    msd_u(f, "chunks_skipped", g->chunks_skipped);
    msd_u(f, "records_lost", g->records_lost);
    msd_u(f, "bytes_lost", g->bytes_lost);
    msd_u(f, "first_bad_offset", g->first_bad_offset);
    msd_u(f, "trunc_offset", g->trunc_offset);
    msd_i(f, "has_end", g->has_end);
    msd_u(f, "file_size", g->file_size);
    fputc('\n', f);
}

/* One record (without chunk information). */
static inline void msd_record(FILE *f, const ms_record *r)
{
    const void *u = &r->u;
    switch (r->type) {
    case MS_REC_META: {
        const ms_meta *m = u;
        fprintf(f, "meta");
        msd_str(f, "recorder_version", m->recorder_version);
        msd_u(f, "mode", m->mode);
        msd_u(f, "sample_rate", m->sample_rate);
        msd_u(f, "pid", m->pid);
        msd_u(f, "ppid", m->ppid);
        msd_str(f, "exe", m->exe);
        msd_str(f, "cmdline", m->cmdline);
        msd_str(f, "hostname", m->hostname);
        msd_str(f, "kernel", m->kernel);
        msd_u(f, "page_size", m->page_size);
        msd_u(f, "clock_hz", m->clock_hz);
        msd_u(f, "start_wall_ns", m->start_wall_ns);
        msd_str(f, "unwinder", m->unwinder);
        msd_u(f, "max_depth", m->max_depth);
        msd_str(f, "label", m->label);
        msd_str(f, "boot_id", m->boot_id);
        msd_str(f, "allocator", m->allocator);
        msd_u(f, "malloc_interposed", m->malloc_interposed);
        msd_u(f, "scope", m->scope);
        msd_u(f, "process_start_ns", m->process_start_ns);
        msd_u(f, "session", m->session);
        fputc('\n', f);
        break;
    }
    case MS_REC_STRING: {
        const ms_string *s = u;
        fprintf(f, "string");
        msd_u(f, "id", s->id);
        msd_str(f, "value", s->value);
        fputc('\n', f);
        break;
    }
    case MS_REC_MODULE: {
        const ms_module *m = u;
        fprintf(f, "module");
        msd_u(f, "id", m->id);
        msd_u(f, "time", m->time);
        msd_str(f, "path", m->path);
        msd_hex(f, "build_id", m->build_id);
        msd_u(f, "base", m->base);
        msd_u(f, "nsegments", m->nsegments);
        fputc('\n', f);
        for (uint32_t i = 0; i < m->nsegments; i++) {
            const ms_segment *s = &m->segments[i];
            fprintf(f, "  segment");
            msd_u(f, "vaddr", s->vaddr);
            msd_u(f, "size", s->size);
            msd_u(f, "file_offset", s->file_offset);
            msd_u(f, "prot", s->prot);
            fputc('\n', f);
        }
        break;
    }
    case MS_REC_MODULE_UNLOAD: {
        const ms_module_unload *m = u;
        fprintf(f, "module_unload");
        msd_u(f, "id", m->id);
        msd_u(f, "time", m->time);
        fputc('\n', f);
        break;
    }
    case MS_REC_STACK: {
        const ms_stack *s = u;
        fprintf(f, "stack");
        msd_u(f, "first_id", s->first_id);
        msd_u(f, "count", s->count);
        fputc('\n', f);
        for (uint32_t i = 0; i < s->count; i++) {
            fprintf(f, "  node");
            msd_u(f, "parent", s->nodes[i].parent);
            msd_u(f, "ip", s->nodes[i].ip);
            fputc('\n', f);
        }
        break;
    }
    case MS_REC_SYMBOL: {
        const ms_symbol *s = u;
        fprintf(f, "symbol");
        msd_u(f, "ip", s->ip);
        msd_u(f, "module_id", s->module_id);
        msd_u(f, "module_offset", s->module_offset);
        msd_u(f, "nframes", s->nframes);
        fputc('\n', f);
        for (uint32_t i = 0; i < s->nframes; i++) {
            const ms_frame *fr = &s->frames[i];
            fprintf(f, "  frame");
            msd_str(f, "function", fr->function);
            msd_str(f, "file", fr->file);
            msd_u(f, "line", fr->line);
            msd_u(f, "column", fr->column);
            fputc('\n', f);
        }
        break;
    }
    case MS_REC_THREAD: {
        const ms_thread *t = u;
        fprintf(f, "thread");
        msd_u(f, "tid", t->tid);
        msd_u(f, "time", t->time);
        msd_str(f, "name", t->name);
        msd_u(f, "creator_tid", t->creator_tid);
        fputc('\n', f);
        break;
    }
    case MS_REC_THREAD_END: {
        const ms_thread_end *t = u;
        fprintf(f, "thread_end");
        msd_u(f, "tid", t->tid);
        msd_u(f, "time", t->time);
        fputc('\n', f);
        break;
    }
    case MS_REC_SAMPLE: {
        const ms_sample *s = u;
        fprintf(f, "sample");
        msd_u(f, "time", s->time);
        msd_u(f, "rss", s->rss);
        msd_u(f, "heap_live", s->heap_live);
        msd_u(f, "heap_blocks", s->heap_blocks);
        fputc('\n', f);
        break;
    }
    case MS_REC_MARK: {
        const ms_mark_rec *m = u;
        fprintf(f, "mark");
        msd_u(f, "time", m->time);
        msd_u(f, "tid", m->tid);
        msd_str(f, "name", m->name);
        fputc('\n', f);
        break;
    }
    case MS_REC_LABEL: {
        const ms_label_rec *l = u;
        fprintf(f, "label");
        msd_u(f, "time", l->time);
        msd_u(f, "tid", l->tid);
        msd_u(f, "addr", l->addr);
        msd_str(f, "var_name", l->var_name);
        msd_str(f, "type_name", l->type_name);
        fputc('\n', f);
        break;
    }
    case MS_REC_SYNC: {
        const ms_sync *s = u;
        fprintf(f, "sync");
        msd_u(f, "time", s->time);
        fputc('\n', f);
        break;
    }
    case MS_REC_END: {
        const ms_end *e = u;
        fprintf(f, "end");
        msd_u(f, "time", e->time);
        msd_u(f, "reason", e->reason);
        msd_i(f, "detail", e->detail);
        msd_u(f, "n_events", e->n_events);
        msd_u(f, "n_allocs", e->n_allocs);
        msd_u(f, "n_frees", e->n_frees);
        msd_u(f, "alloc_bytes", e->alloc_bytes);
        msd_u(f, "n_dropped", e->n_dropped);
        msd_u(f, "n_chunks", e->n_chunks);
        msd_u(f, "events_lost", e->events_lost);
        msd_u(f, "write_errors", e->write_errors);
        msd_i(f, "first_errno", e->first_errno);
        fputc('\n', f);
        break;
    }
    case MS_REC_LIVE_BLOCKS: {
        const ms_live_blocks *l = u;
        fprintf(f, "live_blocks");
        msd_u(f, "time", l->time);
        msd_u(f, "count", l->count);
        fputc('\n', f);
        for (uint32_t i = 0; i < l->count; i++) {
            fprintf(f, "  block");
            msd_u(f, "addr", l->blocks[i].addr);
            msd_u(f, "size", l->blocks[i].size);
            msd_u(f, "leak_class", l->blocks[i].leak_class);
            fputc('\n', f);
        }
        break;
    }
    case MS_REC_MAPS: {
        const ms_maps *m = u;
        fprintf(f, "maps");
        msd_u(f, "time", m->time);
        msd_u(f, "count", m->count);
        fputc('\n', f);
        for (uint32_t i = 0; i < m->count; i++) {
            const ms_map *p = &m->maps[i];
            fprintf(f, "  map");
            msd_u(f, "start", p->start);
            msd_u(f, "end", p->end);
            msd_u(f, "prot", p->prot);
            msd_u(f, "offset", p->offset);
            msd_str(f, "path", p->path);
            msd_u(f, "rss", p->rss);
            msd_u(f, "pss", p->pss);
            msd_u(f, "anon", p->anon);
            msd_u(f, "swap", p->swap);
            fputc('\n', f);
        }
        break;
    }
    case MS_REC_PROC_MEM: {
        const ms_proc_mem *p = u;
        fprintf(f, "proc_mem");
        msd_u(f, "time", p->time);
        msd_u(f, "vm_size", p->vm_size);
        msd_u(f, "vm_rss", p->vm_rss);
        msd_u(f, "vm_hwm", p->vm_hwm);
        msd_u(f, "rss_anon", p->rss_anon);
        msd_u(f, "rss_file", p->rss_file);
        msd_u(f, "rss_shmem", p->rss_shmem);
        msd_u(f, "vm_data", p->vm_data);
        msd_u(f, "vm_swap", p->vm_swap);
        fputc('\n', f);
        break;
    }
    case MS_REC_SNAP_BEGIN: {
        const ms_snap_begin *s = u;
        fprintf(f, "snap_begin");
        msd_u(f, "index", s->index);
        msd_u(f, "wall_ns", s->wall_ns);
        msd_str(f, "label", s->label);
        msd_str(f, "hostname", s->hostname);
        msd_str(f, "kernel", s->kernel);
        msd_str(f, "os_release", s->os_release);
        msd_str(f, "boot_id", s->boot_id);
        msd_u(f, "page_size", s->page_size);
        msd_u(f, "uptime_ms", s->uptime_ms);
        msd_u(f, "nmeminfo", s->nmeminfo);
        msd_u(f, "nvmstat", s->nvmstat);
        msd_u(f, "nzoneinfo", s->nzoneinfo);
        msd_u(f, "nslabs", s->nslabs);
        msd_u(f, "privilege", s->privilege);
        fputc('\n', f);
        const struct { const char *name; uint32_t n; const ms_kv *kv; } kvs[4] = {
            {"meminfo", s->nmeminfo, s->meminfo}, {"vmstat", s->nvmstat, s->vmstat},
            {"zoneinfo", s->nzoneinfo, s->zoneinfo}, {"slab", s->nslabs, s->slabs}};
        for (int k = 0; k < 4; k++)
            for (uint32_t i = 0; i < kvs[k].n; i++) {
                fprintf(f, "  %s", kvs[k].name);
                msd_str(f, "key", kvs[k].kv[i].key);
                msd_u(f, "value", kvs[k].kv[i].value);
                fputc('\n', f);
            }
        break;
    }
    case MS_REC_SNAP_PROC: {
        const ms_snap_proc *p = u;
        fprintf(f, "snap_proc");
        msd_u(f, "snap_index", p->snap_index);
        msd_u(f, "pid", p->pid);
        msd_u(f, "ppid", p->ppid);
        msd_u(f, "starttime", p->starttime);
        msd_str(f, "name", p->name);
        msd_str(f, "cmdline", p->cmdline);
        msd_str(f, "exe", p->exe);
        msd_u(f, "exe_size", p->exe_size);
        msd_u(f, "uid", p->uid);
        msd_str(f, "user", p->user);
        msd_u(f, "kind", p->kind);
        msd_u(f, "state", p->state);
        msd_u(f, "read_status", p->read_status);
        msd_u(f, "threads", p->threads);
        msd_u(f, "rss", p->rss);
        msd_u(f, "pss", p->pss);
        msd_u(f, "uss", p->uss);
        msd_u(f, "swap", p->swap);
        msd_u(f, "swap_pss", p->swap_pss);
        msd_u(f, "shared_clean", p->shared_clean);
        msd_u(f, "shared_dirty", p->shared_dirty);
        msd_u(f, "private_clean", p->private_clean);
        msd_u(f, "private_dirty", p->private_dirty);
        msd_u(f, "pss_anon", p->pss_anon);
        msd_u(f, "pss_file", p->pss_file);
        msd_u(f, "pss_shmem", p->pss_shmem);
        msd_u(f, "rss_anon", p->rss_anon);
        msd_u(f, "rss_file", p->rss_file);
        msd_u(f, "rss_shmem", p->rss_shmem);
        msd_u(f, "vm_size", p->vm_size);
        msd_u(f, "vm_hwm", p->vm_hwm);
        msd_i(f, "open_files", p->open_files);
        msd_u(f, "nlibs", p->nlibs);
        msd_u(f, "nperms", p->nperms);
        msd_u(f, "nlib_flags", p->nlib_flags);
        msd_u(f, "exe_flags", p->exe_flags);
        fputc('\n', f);
        for (uint32_t i = 0; i < p->nlibs; i++) {
            const ms_snap_lib *l = &p->libs[i];
            fprintf(f, "  lib");
            msd_str(f, "path", l->path);
            msd_u(f, "disk_size", l->disk_size);
            msd_u(f, "mapped", l->mapped);
            msd_u(f, "rss", l->rss);
            msd_u(f, "pss", l->pss);
            fputc('\n', f);
        }
        for (uint32_t i = 0; i < p->nperms; i++) {
            const ms_snap_perm *q = &p->perms[i];
            fprintf(f, "  perm");
            msd_u(f, "prot", q->prot);
            msd_u(f, "size", q->size);
            msd_u(f, "rss", q->rss);
            msd_u(f, "pss", q->pss);
            fputc('\n', f);
        }
        for (uint32_t i = 0; i < p->nlib_flags; i++) {
            fprintf(f, "  lib_flag");
            msd_u(f, "flags", p->lib_flags[i].flags);
            fputc('\n', f);
        }
        break;
    }
    case MS_REC_SNAP_END: {
        const ms_snap_end *s = u;
        fprintf(f, "snap_end");
        msd_u(f, "index", s->index);
        msd_u(f, "wall_ns", s->wall_ns);
        msd_u(f, "n_procs", s->n_procs);
        msd_u(f, "n_vanished", s->n_vanished);
        msd_u(f, "n_denied", s->n_denied);
        msd_u(f, "n_omitted", s->n_omitted);
        msd_u(f, "omitted_pss", s->omitted_pss);
        msd_u(f, "omitted_rss", s->omitted_rss);
        msd_u(f, "omitted_kernel", s->omitted_kind[0]);
        msd_u(f, "omitted_system", s->omitted_kind[1]);
        msd_u(f, "omitted_user", s->omitted_kind[2]);
        fputc('\n', f);
        break;
    }
    case MS_REC_EVENT: {
        const ms_event *e = u;
        fprintf(f, "event");
        msd_u(f, "time", e->time);
        msd_u(f, "tid", e->tid);
        msd_u(f, "op", e->op);
        msd_u(f, "addr", e->addr);
        msd_u(f, "size", e->size);
        msd_u(f, "old_addr", e->old_addr);
        msd_u(f, "stack", e->stack);
        msd_u(f, "align", e->align);
        fputc('\n', f);
        break;
    }
    default:
        fprintf(f, "unknown type=%" PRIu32 "\n", r->type);
        break;
    }
}

/* The whole file from an open reader: header line, then for each chunk its
 * line followed by its records, then the integrity line. Returns the count
 * of records, or the negative error from ms_reader_next (the dump so far is
 * kept). Does not close the reader. */
static inline long msd_reader(FILE *f, ms_reader *r)
{
    int rc;
    msd_header(f, ms_reader_header(r));
    long n = 0;
    uint64_t last_off = UINT64_MAX;
    const ms_record *rec;
    while ((rc = ms_reader_next(r, &rec)) == 1) {
        ms_chunk_info ci;
        ms_reader_chunk(r, &ci);
        if (ci.offset != last_off) {
            msd_chunk(f, &ci);
            last_off = ci.offset;
        }
        msd_record(f, rec);
        n++;
    }
    ms_integrity g;
    ms_reader_integrity(r, &g);
    msd_integrity(f, &g);
    return rc < 0 ? rc : n;
}

/* Same for a memory buffer; also returns an error from ms_reader_open_mem. */
static inline long msd_file(FILE *f, const void *buf, size_t len)
{
    ms_reader *r = NULL;
    int rc = ms_reader_open_mem(&r, buf, len);
    if (rc != MS_OK)
        return rc;
    long n = msd_reader(f, r);
    ms_reader_close(r);
    return n;
}

/* Read a whole file into memory; NULL on error. */
static inline unsigned char *msd_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    unsigned char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return b;
}

#endif
