/*
 * msconv --info: what a .memscope file holds, in one streaming pass and a
 * screenful of text: header (version, kind, flags), chunks and records by
 * type (events by op), raw vs stored bytes and the compression ratio,
 * stored bytes per event, time range, the recorder's META/END facts and
 * the integrity verdict. Works for heap traces and snapshot files; needs
 * no symbol or heap model, so it is the first thing to run on a file that
 * other views refuse. Its language is the command's (ms_cli_lang: --lang,
 * else the locale), not the reports' Chinese default.
 */
#include "views.h"
#include "outfile.h"
#include "i18n.h"
#include "fmt.h"
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

static void human(char *buf, size_t n, uint64_t b, ms_lang l)
{
    const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int i = 0;
    char c[MS_FBUF_LEN];
    while (v >= 1024 && i < 4) { v /= 1024; i++; }
    if (i == 0) snprintf(buf, n, "%" PRIu64 " B", b);
    else if (l == MS_LANG_EN) snprintf(buf, n, "%.1f %s (%s bytes)", v, u[i], ms_fmt_count(c, b));
    else snprintf(buf, n, "%.1f %s（%s 字节）", v, u[i], ms_fmt_count(c, b));
}

static void wall(char *buf, size_t n, uint64_t ns, ms_lang l)
{
    time_t s = (time_t)(ns / 1000000000ull);
    struct tm tm;
    if (!ns || !gmtime_r(&s, &tm)) { snprintf(buf, n, "%s", l == MS_LANG_EN ? "unknown" : "未知"); return; }
    char t[64];
    strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03u UTC", t, (unsigned)(ns / 1000000 % 1000));
}

static const char *end_reason(uint32_t r, ms_lang l)
{
    static const ms_msg m[] = { {"正常退出", "exit"}, {"信号", "signal"}, {"_exit", "_exit"},
                                {"已停止", "stopped"}, {"快照结束", "end of snapshots"},
                                {"被 exec 替换", "exec"}, {"未知", "unknown"} };
    return MS_T(l, m[r <= MS_END_EXEC ? r : 6]);
}

/* "label:" padded to 14 columns (a CJK character is two columns wide). */
static void label(FILE *fp, ms_lang l, ms_msg m)
{
    const char *t = MS_T(l, m);
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if ((*p & 0xC0) != 0x80) cols += *p >= 0xE0 ? 2 : 1;
    fprintf(fp, "%s%s%*s", t, l == MS_LANG_EN ? ":" : "：", 13 - cols - (l == MS_LANG_EN ? 0 : 1), "");
}

/* A count with thousands separators (the Chinese --info; the English one
 * keeps plain numbers that scripts parse). */
#define N(v) ms_fmt_count(MS_FBUF, (v))

static void report(FILE *fp, const char *file, const ms_header_info *h, const info *x,
                   const ms_integrity *in, ms_lang l)
{
    static const ms_msg
        L_FILE = {"文件", "file"}, L_FORMAT = {"格式", "format"}, L_SIZE = {"文件大小", "file size"},
        L_CHUNKS = {"数据块", "chunks"}, L_RECS = {"记录", "records"}, L_RAW = {"原始字节", "raw bytes"},
        L_STORED = {"存储字节", "stored bytes"}, L_COMP = {"压缩比", "compression"},
        L_BPE = {"每事件字节", "bytes/event"}, L_TIME = {"时间范围", "time range"},
        L_START = {"开始时间", "started"}, L_CLOCK = {"时钟", "clock"}, L_PROC = {"进程", "process"},
        L_REC = {"记录器", "recorder"}, L_ALLOC = {"分配器", "allocator"}, L_EST = {"估算", "estimates"},
        L_SCOPE = {"范围", "scope"}, L_END = {"结束", "end"}, L_SNAPS = {"快照", "snapshots"},
        L_INTEG = {"文件完整性", "integrity"};
    char a[96], b[96];
    int en = l == MS_LANG_EN;
    int heap = h->kind == MS_KIND_HEAP, snap = h->kind == MS_KIND_SNAPSHOT;
    label(fp, l, L_FILE); fprintf(fp, "%s\n", file);
    label(fp, l, L_FORMAT);
    fprintf(fp, en ? "memscope %u.%u (magic ok), kind %s, flags 0x%" PRIx32 "\n"
                   : "memscope %u.%u（文件头标识正确），类型：%s，标志 0x%" PRIx32 "\n",
            h->major, h->minor, heap ? (en ? "heap trace" : "堆追踪") : snap ? (en ? "snapshot" : "快照")
                                                                           : (en ? "unknown" : "未知"), h->flags);
    human(a, sizeof a, in->file_size, l);
    label(fp, l, L_SIZE); fprintf(fp, "%s\n", a);
    label(fp, l, L_CHUNKS);
    if (en) fprintf(fp, "%" PRIu64 " (records %" PRIu64 ", events %" PRIu64, x->chunks, x->chunks_by_type[1], x->chunks_by_type[2]);
    else fprintf(fp, "%s（记录块 %s，事件块 %s", N(x->chunks), N(x->chunks_by_type[1]), N(x->chunks_by_type[2]));
    if (x->chunks_by_type[3]) fprintf(fp, en ? ", other %" PRIu64 : "，其他 %" PRIu64, x->chunks_by_type[3]);
    fprintf(fp, en ? ")\n" : "）\n");
    label(fp, l, L_RECS);
    if (en) fprintf(fp, "%" PRIu64 "\n", x->nrecs);
    else fprintf(fp, "%s\n", N(x->nrecs));
    for (unsigned t = 0; t < 256; t++) {
        if (!x->recs[t]) continue;
        fprintf(fp, "  %-14s %" PRIu64 "\n", ms_record_type_name(t), x->recs[t]);
        if (t == MS_REC_EVENT)
            for (unsigned o = 0; o < 256; o++)
                if (x->ops[o]) fprintf(fp, "    %-20s %" PRIu64 "\n", ms_op_name(o), x->ops[o]);
    }
    human(a, sizeof a, x->raw, l);
    human(b, sizeof b, x->stored, l);
    label(fp, l, L_RAW); fprintf(fp, "%s\n", a);
    label(fp, l, L_STORED); fprintf(fp, "%s\n", b);
    if (x->stored) { label(fp, l, L_COMP); fprintf(fp, en ? "%.2fx\n" : "%.2f 倍\n", (double)x->raw / (double)x->stored); }
    uint64_t nev = x->recs[MS_REC_EVENT];
    if (nev) {
        label(fp, l, L_BPE);
        fprintf(fp, en ? "%.2f stored (%.2f raw) in EVENTS chunks\n" : "事件块中存储 %.2f（原始 %.2f）\n",
                (double)x->ev_stored / (double)nev, (double)x->ev_raw / (double)nev);
    }
    if (x->have_t) {
        label(fp, l, L_TIME);
        if (snap) {
            wall(a, sizeof a, x->tmin, l); wall(b, sizeof b, x->tmax, l);
            fprintf(fp, "%s .. %s\n", a, b);
        } else {
            double hz = (double)(x->clock_hz ? x->clock_hz : 1000000000ull);
            fprintf(fp, en ? "%" PRIu64 " .. %" PRIu64 " ticks = %.6f s .. %.6f s (%.6f s)%s\n"
                           : "%" PRIu64 " .. %" PRIu64 " 个时钟周期 = %.6f 秒 .. %.6f 秒（%.6f 秒）%s\n",
                    x->tmin, x->tmax, (double)x->tmin / hz, (double)x->tmax / hz,
                    (double)(x->tmax - x->tmin) / hz,
                    x->have_meta ? "" : en ? " (no META: 1 GHz assumed)" : "（没有 META 记录：按 1 GHz 计）");
        }
    }
    if (x->have_meta) {
        wall(a, sizeof a, x->start_wall_ns, l);
        label(fp, l, L_START); fprintf(fp, "%s\n", a);
        label(fp, l, L_CLOCK); fprintf(fp, en ? "%" PRIu64 " ticks/s\n" : "每秒 %" PRIu64 " 个时钟周期\n", x->clock_hz);
        label(fp, l, L_PROC);
        fprintf(fp, "pid %" PRIu64, x->pid);
        fprintf(fp, en ? ", %s%s%s\n" : "，%s%s%s\n",
                x->exe[0] ? x->exe : en ? "(unknown exe)" : "（可执行文件未知）",
                x->host[0] ? (en ? " on " : "，主机 ") : "", x->host);
        label(fp, l, L_REC);
        fprintf(fp, en ? "%s, mode %s" : "%s，模式：%s", x->recver[0] ? x->recver : "?",
                x->mode == MS_MODE_SAMPLED ? (en ? "sampled" : "采样") : (en ? "full" : "完整记录"));
        if (x->mode == MS_MODE_SAMPLED)
            fprintf(fp, en ? " (mean %" PRIu64 " bytes between samples)" : "（平均每 %" PRIu64 " 字节采样一次）", x->sample_rate);
        if (x->unwinder[0]) fprintf(fp, en ? ", unwinder %s" : "，栈回溯：%s", x->unwinder);
        fprintf(fp, "\n");
        if (x->allocator[0] || x->malloc_interposed) {
            label(fp, l, L_ALLOC);
            fprintf(fp, "%s", x->allocator[0] ? x->allocator : en ? "(unknown)" : "（未知）");
            if (x->malloc_interposed == MS_MALLOC_INTERPOSED)
                fprintf(fp, en ? ", malloc interposed\n" : "，malloc 已被接管\n");
            else if (x->malloc_interposed == MS_MALLOC_NOT_INTERPOSED)
                fprintf(fp, en ? ", malloc NOT interposed: it comes before the recorder, so the "
                                 "program's malloc/free calls are missing from this trace\n"
                               : "，malloc 未被接管：它排在记录器之前，所以本追踪中缺少程序的 malloc/free 调用\n");
            else
                fprintf(fp, "\n");
        }
        char est[400];
        if (x->mode == MS_MODE_SAMPLED && x->sample_rate) {
            label(fp, l, L_EST); fprintf(fp, "%s\n", ms_i18n_sampled_long(l, x->sample_rate, est, sizeof est));
        }
        if (heap && x->scope == MS_SCOPE_WINDOW) {
            label(fp, l, L_SCOPE);
            fprintf(fp, en ? "window (attach session %" PRIu64 "), recording started "
                           : "时间窗口（attach 会话 %" PRIu64 "），记录开始于", x->session);
            if (x->process_start_ns && x->start_wall_ns >= x->process_start_ns)
                fprintf(fp, en ? "%.3f s after the process started" : "进程启动后 %.3f 秒",
                        (double)(x->start_wall_ns - x->process_start_ns) / 1e9);
            else
                fprintf(fp, en ? "while the process was running" : "进程运行期间");
            fprintf(fp, en ? "; frees of blocks allocated before it are not unmatched\n"
                           : "；释放此前分配的内存块不算作无匹配的释放\n");
        } else if (heap) {
            label(fp, l, L_SCOPE);
            fprintf(fp, "%s%s\n", en ? "the whole process" : "整个进程",
                    x->scope > MS_SCOPE_WINDOW ? (en ? " (unknown scope value)" : "（未知的范围值）") : "");
        }
    }
    if (x->have_end) {
        label(fp, l, L_END);
        fprintf(fp, "%s", end_reason(x->end.reason, l));
        if (x->end.reason == MS_END_SIGNAL) fprintf(fp, " %" PRId64, x->end.detail);
        else if (x->end.reason == MS_END_STOPPED && x->end.detail == MS_STOP_SANDBOX)
            fputs(en ? " (the program was entering a seccomp sandbox: recording stopped before its filter)"
                     : "（程序进入 seccomp 沙箱：在其过滤器生效前停止记录）", fp);
        else if (x->end.reason == MS_END_STOPPED && heap && x->scope == MS_SCOPE_WINDOW)
            fprintf(fp, en ? " (%s)" : "（%s）", x->end.detail == MS_STOP_DURATION ? (en ? "duration elapsed" : "时长已到")
                                 : x->end.detail == MS_STOP_LOST ? (en ? "controller lost" : "控制端丢失")
                                 : (en ? "detach" : "分离"));
        else if (x->end.reason == MS_END_EXIT || x->end.reason == MS_END_UEXIT)
            fprintf(fp, en ? " status %" PRId64 : "，状态 %" PRId64, x->end.detail);
        if (heap) {
            uint64_t lost = x->end.events_lost < x->end.n_events ? x->end.events_lost
                                                                   : x->end.n_events;
            if (en)
                fprintf(fp, ", %" PRIu64 " events written (%" PRIu64 " allocs, %" PRIu64 " frees)",
                        x->end.n_events - lost, x->end.n_allocs, x->end.n_frees);
            else
                fprintf(fp, "，写入 %s 个事件（%s 次分配，%s 次释放）", N(x->end.n_events - lost),
                        N(x->end.n_allocs), N(x->end.n_frees));
            if (lost || x->end.write_errors)
                fprintf(fp, en ? ", %" PRIu64 " of %" PRIu64 " NOT WRITTEN (%" PRIu64 " write errors, errno %" PRId64 ")"
                               : "，%" PRIu64 " / %" PRIu64 " 个未写入（%" PRIu64 " 次写入错误，errno %" PRId64 "）",
                        lost, x->end.n_events, x->end.write_errors, x->end.first_errno);
            if (x->end.n_dropped) fprintf(fp, en ? ", %" PRIu64 " DROPPED" : "，丢弃 %" PRIu64 " 个", x->end.n_dropped);
        }
        fprintf(fp, "\n");
    }
    if (snap) {
        label(fp, l, L_SNAPS);
        fprintf(fp, en ? "%" PRIu64 " (%" PRIu64 " process records)\n" : "%" PRIu64 "（%" PRIu64 " 条进程记录）\n",
                x->recs[MS_REC_SNAP_BEGIN], x->snap_procs);
    }
    char v[256];
    msconv_verdict_lang(v, sizeof v, NULL, in, l);
    label(fp, l, L_INTEG); fprintf(fp, "%s\n", v);
    if (in->chunks_bad || in->chunks_skipped)
        fprintf(fp, en ? "              %" PRIu64 " chunks ok, %" PRIu64 " corrupt, %" PRIu64 " unknown skipped\n"
                       : "              正常数据块 %" PRIu64 " 个，损坏 %" PRIu64 " 个，跳过未知 %" PRIu64 " 个\n",
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
    report(out.fp, a->input, &h, x, &in, ms_cli());   /* --info is a message: --lang or the locale */
    free(x);
    if (ms_outfile_commit(&out) != 0) {
        msconv_error(a->output ? a->output : "stdout", "%s", ms_outfile_strerror());
        return 1;
    }
    msconv_warn_integrity(a->input, &in);
    return 0;
}
