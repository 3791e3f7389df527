/*
 * msconv --info: what a .memscope file holds, in one streaming pass and a
 * screenful of text: header (version, kind, flags), chunks and records by
 * type (events by op), raw vs stored bytes and the compression ratio,
 * stored bytes per event, time range, the recorder's META/END facts and
 * the integrity verdict. Works for heap traces and snapshot files; needs
 * no symbol or heap model, so it is the first thing to run on a file that
 * other views refuse.
 */
#include "views.h"
#include "outfile.h"
#include "i18n.h"
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct info {
    uint64_t chunks, chunks_by_type[4];      /* records, events, other      */
    uint64_t raw, stored, ev_stored, ev_raw;
    uint64_t recs[256], ops[256], nrecs;
    uint64_t tmin, tmax; int have_t;
    int have_meta, have_end;
    uint64_t clock_hz, start_wall_ns, pid;
    uint32_t mode, scope;
    uint64_t sample_rate, process_start_ns, session;
    char exe[512], host[256], recver[64], unwinder[32], allocator[512];
    uint32_t malloc_interposed;
    ms_end end;
    uint64_t snap_procs;
} info;

static void copy_str(char *dst, size_t n, ms_str s)
{
    size_t k = s.ptr ? strnlen(s.ptr, s.len) : 0;
    if (k >= n) k = n - 1;
    if (k) memcpy(dst, s.ptr, k);
    dst[k] = 0;
}

/* Time of a record that has one (trace ticks or snapshot wall ns). */
static int rec_time(const ms_record *r, uint64_t *t)
{
    switch (r->type) {
    case MS_REC_EVENT: *t = r->u.event.time; return 1;
    case MS_REC_MODULE: *t = r->u.module.time; return 1;
    case MS_REC_MODULE_UNLOAD: *t = r->u.module_unload.time; return 1;
    case MS_REC_THREAD: *t = r->u.thread.time; return 1;
    case MS_REC_THREAD_END: *t = r->u.thread_end.time; return 1;
    case MS_REC_SAMPLE: *t = r->u.sample.time; return 1;
    case MS_REC_MARK: *t = r->u.mark.time; return 1;
    case MS_REC_LABEL: *t = r->u.label.time; return 1;
    case MS_REC_SYNC: *t = r->u.sync.time; return 1;
    case MS_REC_END: *t = r->u.end.time; return 1;
    case MS_REC_LIVE_BLOCKS: *t = r->u.live_blocks.time; return 1;
    case MS_REC_MAPS: *t = r->u.maps.time; return 1;
    case MS_REC_PROC_MEM: *t = r->u.proc_mem.time; return 1;
    case MS_REC_SNAP_BEGIN: *t = r->u.snap_begin.wall_ns; return 1;
    case MS_REC_SNAP_END: *t = r->u.snap_end.wall_ns; return 1;
    default: return 0;
    }
}

static void human(char *buf, size_t n, uint64_t b)
{
    const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    if (i == 0) snprintf(buf, n, "%" PRIu64 " B", b);
    else snprintf(buf, n, "%.1f %s (%" PRIu64 " bytes)", v, u[i], b);
}

static void wall(char *buf, size_t n, uint64_t ns)
{
    time_t s = (time_t)(ns / 1000000000ull);
    struct tm tm;
    if (!ns || !gmtime_r(&s, &tm)) { snprintf(buf, n, "unknown"); return; }
    char t[64];
    strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03u UTC", t, (unsigned)(ns / 1000000 % 1000));
}

static const char *end_reason(uint32_t r)
{
    switch (r) {
    case MS_END_EXIT: return "exit";
    case MS_END_SIGNAL: return "signal";
    case MS_END_UEXIT: return "_exit";
    case MS_END_STOPPED: return "stopped";
    case MS_END_SNAPSHOT: return "end of snapshots";
    case MS_END_EXEC: return "exec";
    default: return "unknown";
    }
}

static void report(FILE *fp, const char *file, const ms_header_info *h, const info *x,
                   const ms_integrity *in, ms_lang lang)
{
    char a[96], b[96];
    int heap = h->kind == MS_KIND_HEAP, snap = h->kind == MS_KIND_SNAPSHOT;
    fprintf(fp, "file:         %s\n", file);
    fprintf(fp, "format:       memscope %u.%u (magic ok), kind %s, flags 0x%" PRIx32 "\n",
            h->major, h->minor, heap ? "heap trace" : snap ? "snapshot" : "unknown", h->flags);
    human(a, sizeof a, in->file_size);
    fprintf(fp, "file size:    %s\n", a);
    fprintf(fp, "chunks:       %" PRIu64 " (records %" PRIu64 ", events %" PRIu64, x->chunks,
            x->chunks_by_type[1], x->chunks_by_type[2]);
    if (x->chunks_by_type[3]) fprintf(fp, ", other %" PRIu64, x->chunks_by_type[3]);
    fprintf(fp, ")\n");
    fprintf(fp, "records:      %" PRIu64 "\n", x->nrecs);
    for (unsigned t = 0; t < 256; t++) {
        if (!x->recs[t]) continue;
        fprintf(fp, "  %-14s %" PRIu64 "\n", ms_record_type_name(t), x->recs[t]);
        if (t == MS_REC_EVENT)
            for (unsigned o = 0; o < 256; o++)
                if (x->ops[o]) fprintf(fp, "    %-20s %" PRIu64 "\n", ms_op_name(o), x->ops[o]);
    }
    human(a, sizeof a, x->raw);
    human(b, sizeof b, x->stored);
    fprintf(fp, "raw bytes:    %s\n", a);
    fprintf(fp, "stored bytes: %s\n", b);
    if (x->stored) fprintf(fp, "compression:  %.2fx\n", (double)x->raw / (double)x->stored);
    uint64_t nev = x->recs[MS_REC_EVENT];
    if (nev)
        fprintf(fp, "bytes/event:  %.2f stored (%.2f raw) in EVENTS chunks\n",
                (double)x->ev_stored / (double)nev, (double)x->ev_raw / (double)nev);
    if (x->have_t) {
        if (snap) {
            wall(a, sizeof a, x->tmin); wall(b, sizeof b, x->tmax);
            fprintf(fp, "time range:   %s .. %s\n", a, b);
        } else {
            double hz = (double)(x->clock_hz ? x->clock_hz : 1000000000ull);
            fprintf(fp, "time range:   %" PRIu64 " .. %" PRIu64 " ticks = %.6f s .. %.6f s (%.6f s)%s\n",
                    x->tmin, x->tmax, (double)x->tmin / hz, (double)x->tmax / hz,
                    (double)(x->tmax - x->tmin) / hz, x->have_meta ? "" : " (no META: 1 GHz assumed)");
        }
    }
    if (x->have_meta) {
        wall(a, sizeof a, x->start_wall_ns);
        fprintf(fp, "started:      %s\n", a);
        fprintf(fp, "clock:        %" PRIu64 " ticks/s\n", x->clock_hz);
        fprintf(fp, "process:      pid %" PRIu64 ", %s%s%s\n", x->pid, x->exe[0] ? x->exe : "(unknown exe)",
                x->host[0] ? " on " : "", x->host);
        fprintf(fp, "recorder:     %s, mode %s", x->recver[0] ? x->recver : "?",
                x->mode == MS_MODE_SAMPLED ? "sampled" : "full");
        if (x->mode == MS_MODE_SAMPLED) fprintf(fp, " (mean %" PRIu64 " bytes between samples)", x->sample_rate);
        if (x->unwinder[0]) fprintf(fp, ", unwinder %s", x->unwinder);
        fprintf(fp, "\n");
        if (x->allocator[0] || x->malloc_interposed) {
            fprintf(fp, "allocator:    %s", x->allocator[0] ? x->allocator : "(unknown)");
            if (x->malloc_interposed == MS_MALLOC_INTERPOSED)
                fprintf(fp, ", malloc interposed\n");
            else if (x->malloc_interposed == MS_MALLOC_NOT_INTERPOSED)
                fprintf(fp, ", malloc NOT interposed: it comes before the recorder, so the "
                        "program's malloc/free calls are missing from this trace\n");
            else
                fprintf(fp, "\n");
        }
        char est[400];
        if (x->mode == MS_MODE_SAMPLED && x->sample_rate)
            fprintf(fp, "estimates:    %s\n", ms_i18n_sampled_long(lang, x->sample_rate, est, sizeof est));
        if (heap && x->scope == MS_SCOPE_WINDOW) {
            fprintf(fp, "scope:        window (attach session %" PRIu64 "), recording started ", x->session);
            if (x->process_start_ns && x->start_wall_ns >= x->process_start_ns)
                fprintf(fp, "%.3f s after the process started",
                        (double)(x->start_wall_ns - x->process_start_ns) / 1e9);
            else
                fprintf(fp, "while the process was running");
            fprintf(fp, "; frees of blocks allocated before it are not unmatched\n");
        } else if (heap) {
            fprintf(fp, "scope:        the whole process%s\n",
                    x->scope > MS_SCOPE_WINDOW ? " (unknown scope value)" : "");
        }
    }
    if (x->have_end) {
        fprintf(fp, "end:          %s", end_reason(x->end.reason));
        if (x->end.reason == MS_END_SIGNAL) fprintf(fp, " %" PRId64, x->end.detail);
        else if (x->end.reason == MS_END_STOPPED && heap && x->scope == MS_SCOPE_WINDOW)
            fprintf(fp, " (%s)", x->end.detail == MS_STOP_DURATION ? "duration elapsed"
                                 : x->end.detail == MS_STOP_LOST ? "controller lost" : "detach");
        else if (x->end.reason == MS_END_EXIT || x->end.reason == MS_END_UEXIT)
            fprintf(fp, " status %" PRId64, x->end.detail);
        if (heap) {
            uint64_t lost = x->end.events_lost < x->end.n_events ? x->end.events_lost
                                                                   : x->end.n_events;
            fprintf(fp, ", %" PRIu64 " events written (%" PRIu64 " allocs, %" PRIu64 " frees)",
                    x->end.n_events - lost, x->end.n_allocs, x->end.n_frees);
            if (lost || x->end.write_errors)
                fprintf(fp, ", %" PRIu64 " of %" PRIu64 " NOT WRITTEN (%" PRIu64
                        " write errors, errno %" PRId64 ")", lost, x->end.n_events,
                        x->end.write_errors, x->end.first_errno);
            if (x->end.n_dropped) fprintf(fp, ", %" PRIu64 " DROPPED", x->end.n_dropped);
        }
        fprintf(fp, "\n");
    }
    if (snap) fprintf(fp, "snapshots:    %" PRIu64 " (%" PRIu64 " process records)\n",
                      x->recs[MS_REC_SNAP_BEGIN], x->snap_procs);
    char v[256];
    msconv_verdict(v, sizeof v, NULL, in);
    fprintf(fp, "integrity:    %s\n", v);
    if (in->chunks_bad || in->chunks_skipped)
        fprintf(fp, "              %" PRIu64 " chunks ok, %" PRIu64 " corrupt, %" PRIu64 " unknown skipped\n",
                in->chunks_ok, in->chunks_bad, in->chunks_skipped);
}

int msconv_info(const msconv_args *a)
{
    ms_reader *r;
    errno = 0;
    int e = ms_reader_open(&r, a->input);
    if (e) { msconv_error(a->input, "%s", msconv_reader_error(e)); return 1; }
    ms_reader_skip_arrays(r, 1);            /* counts only: memory stays one chunk */
    info *x = calloc(1, sizeof *x);
    if (!x) { ms_reader_close(r); msconv_error(a->input, "%s", ms_cli_mserror(MS_ENOMEM)); return 1; }
    const ms_record *rec;
    uint64_t last_off = UINT64_MAX;
    int n;
    while ((n = ms_reader_next(r, &rec)) == 1) {
        if (rec->chunk_offset != last_off) {
            ms_chunk_info ci;
            ms_reader_chunk(r, &ci);
            last_off = rec->chunk_offset;
            x->chunks++;
            x->chunks_by_type[ci.type == MS_CHUNK_RECORDS ? 1 : ci.type == MS_CHUNK_EVENTS ? 2 : 3]++;
            x->raw += ci.raw_len;
            x->stored += ci.stored_len;
            if (ci.type == MS_CHUNK_EVENTS) { x->ev_stored += ci.stored_len; x->ev_raw += ci.raw_len; }
        }
        x->nrecs++;
        x->recs[rec->type & 0xFF]++;
        uint64_t t;
        if (rec->type == MS_REC_EVENT) x->ops[rec->u.event.op]++;
        if (rec->type != MS_REC_META && rec_time(rec, &t)) {
            if (!x->have_t || t < x->tmin) x->tmin = t;
            if (!x->have_t || t > x->tmax) x->tmax = t;
            x->have_t = 1;
        }
        if (rec->type == MS_REC_META && !x->have_meta) {
            const ms_meta *m = &rec->u.meta;
            x->have_meta = 1;
            x->clock_hz = m->clock_hz; x->start_wall_ns = m->start_wall_ns; x->pid = m->pid;
            x->mode = m->mode; x->sample_rate = m->sample_rate;
            x->scope = m->scope; x->process_start_ns = m->process_start_ns; x->session = m->session;
            copy_str(x->exe, sizeof x->exe, m->exe);
            copy_str(x->host, sizeof x->host, m->hostname);
            copy_str(x->recver, sizeof x->recver, m->recorder_version);
            copy_str(x->unwinder, sizeof x->unwinder, m->unwinder);
            copy_str(x->allocator, sizeof x->allocator, m->allocator);
            x->malloc_interposed = m->malloc_interposed;
        } else if (rec->type == MS_REC_END) {
            x->have_end = 1;
            x->end = rec->u.end;
        } else if (rec->type == MS_REC_SNAP_PROC) {
            x->snap_procs++;
        }
    }
    ms_integrity in;
    ms_reader_integrity(r, &in);
    ms_header_info h = *ms_reader_header(r);
    ms_reader_close(r);
    if (n < 0) {
        free(x);
        msconv_error(a->input, "%s", msconv_reader_error(n));
        return 1;
    }
    ms_outfile out;
    if (ms_outfile_open_as(&out, a->output, MS_TERM_TEXT) != 0) {
        msconv_error(a->output, "%s", ms_outfile_strerror());
        free(x);
        return 1;
    }
    report(out.fp, a->input, &h, x, &in, a->lang && !strcmp(a->lang, "en") ? MS_LANG_EN : MS_LANG_ZH);
    free(x);
    if (ms_outfile_commit(&out) != 0) {
        msconv_error(a->output ? a->output : "stdout", "%s", ms_outfile_strerror());
        return 1;
    }
    msconv_warn_integrity(a->input, &in);
    return 0;
}
