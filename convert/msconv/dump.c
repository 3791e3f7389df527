/*
 * msconv --dump: every record of a .memscope file as JSON Lines, streamed.
 * Each record becomes one cJSON object that is printed and freed at once,
 * so memory stays bounded by one record whatever the file size. The first
 * line describes the file header, the last one the integrity verdict.
 * Every field is written; 64-bit integers are written exactly (as raw JSON
 * numbers, not doubles); strings may hold NUL bytes (cmdline) and come out
 * as \u0000; invalid UTF-8 bytes come out as \u00XX; build ids are hex.
 * EVENT lines (nearly all of a heap trace) are written straight from the
 * record, byte for byte what its cJSON object would print.
 * Also holds the JSON string helpers the other views share.
 */
#include "views.h"
#include "outfile.h"
#include "fmt.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t k; unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { k = 2; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { k = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 4; min = 0x10000; }
    else return 0;
    if (n < k) return 0;
    unsigned v = c & (0x7F >> k);
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    return k;
}

/* Escapes into out (NULL = only count); returns the length. */
static size_t json_escape(char *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
#define PUT(c) do { if (out) out[o] = (char)(c); o++; } while (0)
    PUT('"');
    for (size_t i = 0; i < len;) {
        unsigned c = p[i];
        size_t k = utf8_len(p + i, len - i);
        if (k > 1) { for (size_t j = 0; j < k; j++) PUT(p[i + j]); i += k; continue; }
        i++;
        if (k == 1 && c >= 0x20 && c != '"' && c != '\\' && c != 0x7F) { PUT(c); continue; }
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\t': esc = "\\t"; break;
        case '\r': esc = "\\r"; break;
        default: break;
        }
        if (esc) { PUT(esc[0]); PUT(esc[1]); continue; }
        char hex[8];
        snprintf(hex, sizeof hex, "\\u%04x", c);
        for (int j = 0; j < 6; j++) PUT(hex[j]);
    }
    PUT('"');
#undef PUT
    return o;
}

char *msconv_json_str_dup(const char *s, size_t len)
{
    if (!s) len = 0;
    size_t n = json_escape(NULL, s, len);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    json_escape(out, s, len);
    out[n] = 0;
    return out;
}

void msconv_json_str(FILE *fp, const char *s, size_t len)
{
    char *e = msconv_json_str_dup(s, len);
    if (e) { fputs(e, fp); free(e); }
    else fputs("\"\"", fp);
}

/* ---- building one record ---- */
typedef struct jb { int oom; } jb;

static void add_raw(jb *b, cJSON *o, const char *k, const char *raw)
{
    if (!cJSON_AddRawToObject(o, k, raw)) b->oom = 1;
}

static void add_u64(jb *b, cJSON *o, const char *k, uint64_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%" PRIu64, v);
    add_raw(b, o, k, t);
}

static void add_i64(jb *b, cJSON *o, const char *k, int64_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%" PRId64, v);
    add_raw(b, o, k, t);
}

static void add_str(jb *b, cJSON *o, const char *k, ms_str s)
{
    char *e = msconv_json_str_dup(s.ptr, s.len);
    if (!e) { b->oom = 1; return; }
    add_raw(b, o, k, e);
    free(e);
}

static void add_cstr(jb *b, cJSON *o, const char *k, const char *s)
{
    if (!cJSON_AddStringToObject(o, k, s)) b->oom = 1;
}

static void add_hex(jb *b, cJSON *o, const char *k, ms_str s)
{
    char *h = malloc(s.len * 2 + 1);
    if (!h) { b->oom = 1; return; }
    for (size_t i = 0; i < s.len; i++) snprintf(h + 2 * i, 3, "%02x", (unsigned char)s.ptr[i]);
    h[s.len * 2] = 0;
    add_cstr(b, o, k, h);
    free(h);
}

static cJSON *add_arr(jb *b, cJSON *o, const char *k)
{
    cJSON *a = cJSON_AddArrayToObject(o, k);
    if (!a) b->oom = 1;
    return a;
}

static cJSON *push_obj(jb *b, cJSON *arr)
{
    cJSON *x = cJSON_CreateObject();
    if (!x || !arr) { b->oom = 1; cJSON_Delete(x); return NULL; }
    cJSON_AddItemToArray(arr, x);
    return x;
}

#define U(k, v) add_u64(b, o, k, v)
#define S(k, v) add_str(b, o, k, v)

static void rec_meta(jb *b, cJSON *o, const ms_meta *m)
{
    S("recorder_version", m->recorder_version); U("mode", m->mode);
    U("sample_rate", m->sample_rate); U("pid", m->pid); U("ppid", m->ppid);
    S("exe", m->exe); S("cmdline", m->cmdline); S("hostname", m->hostname);
    S("kernel", m->kernel); U("page_size", m->page_size); U("clock_hz", m->clock_hz);
    U("start_wall_ns", m->start_wall_ns); S("unwinder", m->unwinder);
    U("max_depth", m->max_depth); S("label", m->label); S("boot_id", m->boot_id);
    S("allocator", m->allocator); U("malloc_interposed", m->malloc_interposed);
}

static void rec_module(jb *b, cJSON *o, const ms_module *m)
{
    U("id", m->id); U("time", m->time); S("path", m->path); add_hex(b, o, "build_id", m->build_id);
    U("base", m->base);
    cJSON *a = add_arr(b, o, "segments");
    for (uint32_t i = 0; i < m->nsegments && a; i++) {
        cJSON *x = push_obj(b, a);
        if (!x) break;
        add_u64(b, x, "vaddr", m->segments[i].vaddr); add_u64(b, x, "size", m->segments[i].size);
        add_u64(b, x, "file_offset", m->segments[i].file_offset); add_u64(b, x, "prot", m->segments[i].prot);
    }
}

static void rec_symbol(jb *b, cJSON *o, const ms_symbol *y)
{
    U("ip", y->ip); U("module_id", y->module_id); U("module_offset", y->module_offset);
    cJSON *a = add_arr(b, o, "frames");
    for (uint32_t i = 0; i < y->nframes && a; i++) {
        cJSON *x = push_obj(b, a);
        if (!x) break;
        add_str(b, x, "function", y->frames[i].function); add_str(b, x, "file", y->frames[i].file);
        add_u64(b, x, "line", y->frames[i].line); add_u64(b, x, "column", y->frames[i].column);
    }
}

static void rec_snap_begin(jb *b, cJSON *o, const ms_snap_begin *s)
{
    U("index", s->index); U("wall_ns", s->wall_ns); S("label", s->label); S("hostname", s->hostname);
    S("kernel", s->kernel); S("os_release", s->os_release); S("boot_id", s->boot_id);
    U("page_size", s->page_size); U("uptime_ms", s->uptime_ms);
    cJSON *mi = cJSON_CreateObject();
    if (!mi) { b->oom = 1; return; }
    cJSON_AddItemToObject(o, "meminfo", mi);
    for (uint32_t i = 0; i < s->nmeminfo; i++) {
        char *k = malloc(s->meminfo[i].key.len + 1);
        if (!k) { b->oom = 1; return; }
        memcpy(k, s->meminfo[i].key.ptr, s->meminfo[i].key.len);
        k[s->meminfo[i].key.len] = 0;
        add_u64(b, mi, k, s->meminfo[i].value);
        free(k);
    }
}

static void rec_snap_proc(jb *b, cJSON *o, const ms_snap_proc *p)
{
    U("snap_index", p->snap_index); U("pid", p->pid); U("ppid", p->ppid);
    U("starttime", p->starttime); S("name", p->name); S("cmdline", p->cmdline); S("exe", p->exe);
    U("exe_size", p->exe_size); U("uid", p->uid); S("user", p->user);
    U("kind", p->kind); {
        char st[2] = { (char)(p->state >= 0x20 && p->state < 0x7F ? p->state : '?'), 0 };
        add_cstr(b, o, "state", st);
    } U("read_status", p->read_status);
    U("threads", p->threads); U("rss", p->rss); U("pss", p->pss); U("uss", p->uss);
    U("swap", p->swap); U("swap_pss", p->swap_pss); U("shared_clean", p->shared_clean);
    U("shared_dirty", p->shared_dirty); U("private_clean", p->private_clean);
    U("private_dirty", p->private_dirty); U("pss_anon", p->pss_anon); U("pss_file", p->pss_file);
    U("pss_shmem", p->pss_shmem); U("rss_anon", p->rss_anon); U("rss_file", p->rss_file);
    U("rss_shmem", p->rss_shmem); U("vm_size", p->vm_size); U("vm_hwm", p->vm_hwm);
    add_i64(b, o, "open_files", p->open_files);
    cJSON *a = add_arr(b, o, "libs");
    for (uint32_t i = 0; i < p->nlibs && a; i++) {
        cJSON *x = push_obj(b, a);
        if (!x) break;
        add_str(b, x, "path", p->libs[i].path); add_u64(b, x, "disk_size", p->libs[i].disk_size);
        add_u64(b, x, "mapped", p->libs[i].mapped); add_u64(b, x, "rss", p->libs[i].rss);
        add_u64(b, x, "pss", p->libs[i].pss);
    }
    a = add_arr(b, o, "perms");
    for (uint32_t i = 0; i < p->nperms && a; i++) {
        cJSON *x = push_obj(b, a);
        if (!x) break;
        add_u64(b, x, "prot", p->perms[i].prot); add_u64(b, x, "size", p->perms[i].size);
        add_u64(b, x, "rss", p->perms[i].rss); add_u64(b, x, "pss", p->perms[i].pss);
    }
}

static cJSON *record_json(jb *b, const ms_record *rec)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) { b->oom = 1; return NULL; }
    add_cstr(b, o, "type", ms_record_type_name(rec->type));
    U("chunk_offset", rec->chunk_offset);
    U("chunk_seq", rec->chunk_seq);
    switch (rec->type) {
    case MS_REC_META: rec_meta(b, o, &rec->u.meta); break;
    case MS_REC_STRING: U("id", rec->u.string.id); S("value", rec->u.string.value); break;
    case MS_REC_MODULE: rec_module(b, o, &rec->u.module); break;
    case MS_REC_MODULE_UNLOAD: U("id", rec->u.module_unload.id); U("time", rec->u.module_unload.time); break;
    case MS_REC_STACK: {
        const ms_stack *s = &rec->u.stack;
        U("first_id", s->first_id);
        cJSON *a = add_arr(b, o, "nodes");
        for (uint32_t i = 0; i < s->count && a; i++) {
            cJSON *x = push_obj(b, a);
            if (!x) break;
            add_u64(b, x, "id", s->first_id + i);
            add_u64(b, x, "parent", s->nodes[i].parent);
            add_u64(b, x, "ip", s->nodes[i].ip);
        }
        break;
    }
    case MS_REC_SYMBOL: rec_symbol(b, o, &rec->u.symbol); break;
    case MS_REC_THREAD:
        U("tid", rec->u.thread.tid); U("time", rec->u.thread.time); S("name", rec->u.thread.name);
        U("creator_tid", rec->u.thread.creator_tid);
        break;
    case MS_REC_THREAD_END: U("tid", rec->u.thread_end.tid); U("time", rec->u.thread_end.time); break;
    case MS_REC_SAMPLE:
        U("time", rec->u.sample.time); U("rss", rec->u.sample.rss);
        U("heap_live", rec->u.sample.heap_live); U("heap_blocks", rec->u.sample.heap_blocks);
        break;
    case MS_REC_MARK: U("time", rec->u.mark.time); U("tid", rec->u.mark.tid); S("name", rec->u.mark.name); break;
    case MS_REC_LABEL:
        U("time", rec->u.label.time); U("tid", rec->u.label.tid); U("addr", rec->u.label.addr);
        S("var_name", rec->u.label.var_name); S("type_name", rec->u.label.type_name);
        break;
    case MS_REC_SYNC: U("time", rec->u.sync.time); break;
    case MS_REC_END: {
        const ms_end *e = &rec->u.end;
        U("time", e->time); U("reason", e->reason); add_i64(b, o, "detail", e->detail);
        U("n_events", e->n_events); U("n_allocs", e->n_allocs); U("n_frees", e->n_frees);
        U("alloc_bytes", e->alloc_bytes); U("n_dropped", e->n_dropped); U("n_chunks", e->n_chunks);
        U("events_lost", e->events_lost); U("write_errors", e->write_errors);
        add_i64(b, o, "first_errno", e->first_errno);
        break;
    }
    case MS_REC_LIVE_BLOCKS: {
        const ms_live_blocks *l = &rec->u.live_blocks;
        U("time", l->time);
        cJSON *a = add_arr(b, o, "blocks");
        for (uint32_t i = 0; i < l->count && a; i++) {
            cJSON *x = push_obj(b, a);
            if (!x) break;
            add_u64(b, x, "addr", l->blocks[i].addr); add_u64(b, x, "size", l->blocks[i].size);
            add_u64(b, x, "leak_class", l->blocks[i].leak_class);
        }
        break;
    }
    case MS_REC_MAPS: {
        const ms_maps *m = &rec->u.maps;
        U("time", m->time);
        cJSON *a = add_arr(b, o, "maps");
        for (uint32_t i = 0; i < m->count && a; i++) {
            cJSON *x = push_obj(b, a);
            if (!x) break;
            const ms_map *p = &m->maps[i];
            add_u64(b, x, "start", p->start); add_u64(b, x, "end", p->end); add_u64(b, x, "prot", p->prot);
            add_u64(b, x, "offset", p->offset); add_str(b, x, "path", p->path); add_u64(b, x, "rss", p->rss);
            add_u64(b, x, "pss", p->pss); add_u64(b, x, "anon", p->anon); add_u64(b, x, "swap", p->swap);
        }
        break;
    }
    case MS_REC_PROC_MEM: {
        const ms_proc_mem *p = &rec->u.proc_mem;
        U("time", p->time); U("vm_size", p->vm_size); U("vm_rss", p->vm_rss); U("vm_hwm", p->vm_hwm);
        U("rss_anon", p->rss_anon); U("rss_file", p->rss_file); U("rss_shmem", p->rss_shmem);
        U("vm_data", p->vm_data); U("vm_swap", p->vm_swap);
        break;
    }
    case MS_REC_SNAP_BEGIN: rec_snap_begin(b, o, &rec->u.snap_begin); break;
    case MS_REC_SNAP_PROC: rec_snap_proc(b, o, &rec->u.snap_proc); break;
    case MS_REC_SNAP_END: {
        const ms_snap_end *s = &rec->u.snap_end;
        U("index", s->index); U("wall_ns", s->wall_ns); U("n_procs", s->n_procs);
        U("n_vanished", s->n_vanished); U("n_denied", s->n_denied); U("n_omitted", s->n_omitted);
        U("omitted_pss", s->omitted_pss); U("omitted_rss", s->omitted_rss);
        break;
    }
    case MS_REC_EVENT: {
        const ms_event *e = &rec->u.event;
        U("time", e->time); U("tid", e->tid); add_cstr(b, o, "op", ms_op_name(e->op));
        U("addr", e->addr); U("size", e->size);
        if (MS_OP_IS_REALLOC(e->op)) U("old_addr", e->old_addr);
        U("stack", e->stack);
        if (MS_OP_HAS_ALIGN(e->op) || e->align) U("align", e->align);
        break;
    }
    default:
        U("raw_type", rec->type);
        break;
    }
    return o;
}
#undef U
#undef S

static int put_obj(FILE *fp, cJSON *o, jb *b)
{
    if (b->oom) return MS_ENOMEM;
    char *s = cJSON_PrintUnformatted(o);
    if (!s) return MS_ENOMEM;
    fputs(s, fp);
    fputc('\n', fp);
    free(s);
    return 0;
}

/* ---- the fast path for EVENT records (nearly every line of a heap trace)
 * The same bytes record_json and cJSON give (fields in the same order,
 * numbers raw, op names need no escaping), written straight into a line
 * buffer: 14 M events went out at ~70 MB/s through a cJSON object each. */
static int put_event(FILE *fp, const ms_record *rec)
{
    const ms_event *e = &rec->u.event;
    char line[384];
    char *p = line;
    p = ms_put_field(p, "{\"type\":\"event\",\"chunk_offset\":", rec->chunk_offset);
    p = ms_put_field(p, ",\"chunk_seq\":", rec->chunk_seq);
    p = ms_put_field(p, ",\"time\":", e->time);
    p = ms_put_field(p, ",\"tid\":", e->tid);
    const char *op = ms_op_name(e->op);
    size_t k = strlen(op);
    memcpy(p, ",\"op\":\"", 7);
    memcpy(p + 7, op, k);
    p += 7 + k;
    p = ms_put_field(p, "\",\"addr\":", e->addr);
    p = ms_put_field(p, ",\"size\":", e->size);
    if (MS_OP_IS_REALLOC(e->op)) p = ms_put_field(p, ",\"old_addr\":", e->old_addr);
    p = ms_put_field(p, ",\"stack\":", e->stack);
    if (MS_OP_HAS_ALIGN(e->op) || e->align) p = ms_put_field(p, ",\"align\":", e->align);
    *p++ = '}';
    *p++ = '\n';
    return fwrite(line, 1, (size_t)(p - line), fp) == (size_t)(p - line) ? 0 : MS_EIO;
}

static const char *kind_name(uint32_t k)
{
    return k == MS_KIND_HEAP ? "heap" : k == MS_KIND_SNAPSHOT ? "snapshot" : "unknown";
}

int msconv_dump(const msconv_args *a)
{
    ms_reader *r;
    errno = 0;
    int e = ms_reader_open(&r, a->input);
    if (e) { msconv_error(a->input, "%s", msconv_reader_error(e)); return 1; }
    ms_outfile out;
    if (ms_outfile_open_as(&out, a->output, MS_TERM_JSON) != 0) {
        msconv_error(a->output, "%s", ms_outfile_strerror());
        ms_reader_close(r);
        return 1;
    }
    jb b = { 0 };
    const ms_header_info *h = ms_reader_header(r);
    cJSON *o = cJSON_CreateObject();
    if (!o) e = MS_ENOMEM;
    else {
        add_cstr(&b, o, "type", "header");
        add_u64(&b, o, "major", h->major); add_u64(&b, o, "minor", h->minor);
        add_u64(&b, o, "flags", h->flags); add_cstr(&b, o, "kind", kind_name(h->kind));
        add_u64(&b, o, "kind_id", h->kind);
        e = put_obj(out.fp, o, &b);
        cJSON_Delete(o);
    }
    const ms_record *rec;
    int n = 0;
    while (!e && (n = ms_reader_next(r, &rec)) == 1) {
        if (rec->type == MS_REC_EVENT) {
            e = put_event(out.fp, rec);
        } else {
            o = record_json(&b, rec);
            e = o ? put_obj(out.fp, o, &b) : MS_ENOMEM;
            cJSON_Delete(o);
        }
        if (!e && ferror(out.fp)) e = MS_EIO;
    }
    if (!e && n < 0) e = n;
    ms_integrity in;
    ms_reader_integrity(r, &in);
    ms_reader_close(r);
    if (!e) {
        char verdict[256];
        const char *word;
        msconv_verdict(verdict, sizeof verdict, &word, &in);
        o = cJSON_CreateObject();
        if (!o) e = MS_ENOMEM;
        else {
            add_cstr(&b, o, "type", "integrity");
            add_cstr(&b, o, "verdict", word);
            add_cstr(&b, o, "message", verdict);
            add_u64(&b, o, "chunks_ok", in.chunks_ok); add_u64(&b, o, "chunks_bad", in.chunks_bad);
            add_u64(&b, o, "chunks_skipped", in.chunks_skipped);
            add_u64(&b, o, "records_lost", in.records_lost); add_u64(&b, o, "bytes_lost", in.bytes_lost);
            add_u64(&b, o, "first_bad_offset", in.first_bad_offset);
            add_u64(&b, o, "trunc_offset", in.trunc_offset);
            if (!cJSON_AddBoolToObject(o, "has_end", in.has_end)) b.oom = 1;
            add_u64(&b, o, "file_size", in.file_size);
            e = put_obj(out.fp, o, &b);
            cJSON_Delete(o);
        }
    }
    if (e) {
        ms_outfile_abort(&out);
        int werr = ms_outfile_write_error(&out);
        ms_outfile_abort(&out);
        if (werr) msconv_error(a->output ? a->output : "stdout", MS_CM("写入失败：%s", "write failed: %s"), ms_cli_strerror(werr));
        else msconv_error(a->input, "%s", e == MS_EIO && errno ? ms_cli_strerror(errno) : msconv_reader_error(e));
        return 1;
    }
    if (ms_outfile_commit(&out) != 0) {
        msconv_error(a->output ? a->output : "stdout", "%s", ms_outfile_strerror());
        return 1;
    }
    msconv_warn_integrity(a->input, &in);
    return 0;
}
