/*
 * reader.c — the streaming .memscope reader (ms_reader_*).
 *
 * Reads a file front to back with read() through one buffer (so pipes and
 * FIFOs work; nothing is mapped or seeked), one chunk at a time: it checks
 * the envelope, the payload checksum, decompresses into a reused buffer,
 * validates the whole payload, and only then yields its records (RECORDS)
 * or events (EVENTS, decoded lazily from seven column cursors without any
 * per-event allocation; a v1.1 MODEL chunk also runs the block model of
 * spec 7.5 to decode its addresses). A chunk is therefore delivered whole or not at all.
 *
 * Damage never stops reading: a cut tail, a corrupt chunk, a resync scan
 * over garbage and sequence gaps are counted in ms_integrity and reported
 * through the problem callback (spec/FORMAT.md "Reading damaged files").
 * Only I/O errors, out-of-memory and must-understand features this reader
 * does not know stop it. Every length from the file is checked against the
 * format limits and what is left before it is used.
 */
#define ZSTD_STATIC_LINKING_ONLY
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>
#include "format_internal.h"

#define IN_INITIAL (256u << 10)

enum { CUR_NONE, CUR_RECORDS, CUR_EVENTS };

struct ms_reader {
    int fd, mem;
    unsigned char *buf;            /* input buffer (or the caller's memory) */
    size_t cap, pos, end;
    uint64_t buf_off;              /* file offset of buf[0]                 */
    int eof;
    int size_known;
    int fatal;                     /* sticky stopping error                 */
    int done;
    ms_header_info hdr;
    ms_integrity integ;
    ms_problem_fn pfn;
    void *pctx;

    uint32_t expect_seq;
    int region_open;               /* inside a corrupt region (resync scan) */
    uint64_t region_start, region_bytes;

    /* current chunk */
    int cur;
    ms_chunk_info info;
    const unsigned char *raw;
    size_t raw_len;
    unsigned char *rawbuf;
    size_t rawcap;
    ZSTD_DCtx *dctx;

    /* RECORDS iteration */
    const unsigned char *rp, *rend;
    uint32_t rec_index, unsup_index;
    uint64_t unsup_type;

    /* EVENTS iteration */
    uint32_t ev_left;
    unsigned shift;
    int model;                     /* chunk flag MODEL: addr per spec 7.5   */
    msf_model mdl;
    uint64_t tid, t, a;
    const unsigned char *c_op, *c_time, *c_addr, *c_size, *c_stack, *c_align, *c_old;

    ms_record rec;
    msf_arena arena;
    int skip_arrays;               /* ms_reader_skip_arrays                 */
    int skip_events;               /* ms_reader_skip_events                 */
    char msg[256];
};

/* ---- error detail (last failed open, or the error that stopped next) --------------------------------------------------- */
static _Thread_local char open_err[200];

const char *ms_reader_open_error(void) { return open_err; }

__attribute__((format(printf, 2, 3)))
static int open_fail(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(open_err, sizeof open_err, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- input --------------------------------------------------------------- */

static uint64_t cur_off(const ms_reader *r) { return r->buf_off + r->pos; }

/* Make at least need bytes available at pos (fewer only at EOF). Returns
 * the number available or a negative error. */
static long long fill(ms_reader *r, size_t need)
{
    size_t avail = r->end - r->pos;
    if (avail >= need || r->mem || r->eof) return (long long)avail;
    if (r->cap - r->pos < need) {
        if (r->pos) {
            memmove(r->buf, r->buf + r->pos, avail);
            r->buf_off += r->pos;
            r->end = avail;
            r->pos = 0;
        }
        if (r->cap < need) {
            size_t ncap = r->cap ? r->cap : IN_INITIAL;
            while (ncap < need) ncap *= 2;
            unsigned char *nb = realloc(r->buf, ncap);
            if (!nb) return MS_ENOMEM;
            r->buf = nb;
            r->cap = ncap;
        }
    }
    while (r->end - r->pos < need) {
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0) {
            if (errno == EINTR) continue;
            return MS_EIO;
        }
        if (n == 0) { r->eof = 1; break; }
        r->end += (size_t)n;
    }
    return (long long)(r->end - r->pos);
}

/* ---- problems ------------------------------------------------------------ */

__attribute__((format(printf, 4, 5)))
static void problem(ms_reader *r, int err, uint64_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    if (err == MS_ECORRUPT) {
        if (r->integ.verdict != MS_ECORRUPT) r->integ.first_bad_offset = off;
        r->integ.verdict = MS_ECORRUPT;
    } else if (err == MS_ETRUNC) {
        if (r->integ.verdict == MS_OK) r->integ.verdict = MS_ETRUNC;
        r->integ.trunc_offset = off;
    }
    if (r->pfn) r->pfn(r->pctx, err, off, r->msg);
}

/* End a resync scan; next_seq is the seq of the valid chunk that ended it,
 * or -1 at end of file. */
static void close_region(ms_reader *r, long long next_seq)
{
    if (!r->region_open) return;
    uint64_t lost = 1;
    if (next_seq >= 0 && (uint64_t)next_seq > r->expect_seq)
        lost = (uint64_t)next_seq - r->expect_seq;
    r->integ.chunks_bad += lost;
    r->region_open = 0;
    problem(r, MS_ECORRUPT, r->region_start,
            "corrupt data at offset %llu: %llu bytes skipped to resynchronize (%llu chunk(s) lost)",
            (unsigned long long)r->region_start, (unsigned long long)r->region_bytes,
            (unsigned long long)lost);
}

/* ---- envelope ------------------------------------------------------------ */

/* 1 if the 48 bytes at p are a usable envelope (sync, header checksum,
 * header_len >= 48, lengths within limits, raw chunks have equal lengths). */
static int env_ok(const unsigned char *p)
{
    if (msf_get32(p) != MSF_SYNC) return 0;
    if (msf_get32(p + 44) != msf_check32(p, 44)) return 0;
    uint16_t hl = msf_get16(p + 6);
    uint32_t raw = msf_get32(p + 16), stored = msf_get32(p + 20);
    if (hl < MSF_ENV_LEN || raw > MSF_CHUNK_MAX || stored > MSF_CHUNK_MAX) return 0;
    if (!(p[5] & MSF_CF_ZSTD) && raw != stored) return 0;
    return 1;
}

/* ---- payload validation -------------------------------------------------- */

/* A column of `expect` varints, none longer than 10 bytes (the 10th, if
 * any, 0 or 1). Eight bytes at a time: the terminators (high bit clear)
 * are counted per word, and a run of 9 continuation bytes, the only way
 * to reach a 10th byte, sends the column to the byte loop. (This pass
 * over every column byte cost about a third of decoding an EVENTS chunk.) */
static int col_ok_bytes(const unsigned char *p, size_t len, uint64_t n, unsigned run, uint64_t expect)
{
    for (size_t i = 0; i < len; i++) {
        unsigned b = p[i];
        run++;
        if (run == 10 && b > 1) return 0;
        if (b < 0x80) { n++; run = 0; }
    }
    return run == 0 && n == expect;
}

static int col_ok(const unsigned char *p, size_t len, uint64_t expect)
{
    const uint64_t hi = 0x8080808080808080ull;
    uint64_t n = 0;
    unsigned run = 0;                  /* continuation bytes since the last terminator */
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w = msf_get64(p + i);                    /* byte k in bits 8k..8k+7 */
        uint64_t c = w & hi, t = ~c & hi;                 /* continuation, terminator flags */
        if (!t) {
            if ((run += 8) >= 9) return col_ok_bytes(p, len, 0, 0, expect);
            continue;
        }
        n += ((t >> 7) * 0x0101010101010101ull) >> 56;     /* terminators: one bit a byte */
        if (run + (unsigned)__builtin_ctzll(t) / 8 >= 9) return col_ok_bytes(p, len, 0, 0, expect);
        run = (unsigned)__builtin_clzll(t) / 8;
    }
    return col_ok_bytes(p + i, len - i, n, run, expect);
}

static int op_known(unsigned op)
{
    return op <= MS_OP_DELETE_ARRAY || (op >= MS_OP_MALLOC && op <= MS_OP_NEW_ARRAY);
}

/* Validate an EVENTS payload and set up the cursors. 0 or a message. */
static const char *events_setup(ms_reader *r)
{
    const unsigned char *p = r->raw, *end = r->raw + r->raw_len;
    uint64_t tid, count, tbase, shift;
    if (msf_get_uv(&p, end, &tid) || msf_get_uv(&p, end, &count) ||
        msf_get_uv(&p, end, &tbase) || msf_get_uv(&p, end, &shift))
        return "EVENTS header is cut";
    if (count != r->info.record_count) return "EVENTS count differs from the envelope's record_count";
    if (shift > MSF_SHIFT_MAX) return "EVENTS shift > 12";
    const unsigned char *col[MSF_NCOLS];
    uint64_t clen[MSF_NCOLS];
    for (int c = 0; c < MSF_NCOLS; c++) {
        if (msf_get_uv(&p, end, &clen[c])) return "EVENTS column length is cut";
        if (clen[c] > (uint64_t)(end - p)) return "EVENTS column runs past the payload";
        col[c] = p;
        p += clen[c];
    }
    /* trailing bytes after the seventh column are ignored (newer minor) */
    if (clen[0] != count) return "EVENTS op column length differs from count";
    uint64_t nf = 0, na = 0, nr = 0;
    for (uint64_t i = 0; i < count; i++) {
        unsigned op = col[0][i];
        if (!op_known(op)) return "EVENTS unknown op";
        if (!MS_OP_IS_FREE(op)) {
            nf++;
            if (MS_OP_HAS_ALIGN(op)) na++;
            if (MS_OP_IS_REALLOC(op)) nr++;
        }
    }
    if (!col_ok(col[1], clen[1], count)) return "EVENTS time column malformed";
    if (!col_ok(col[2], clen[2], count)) return "EVENTS addr column malformed";
    if (!col_ok(col[3], clen[3], nf)) return "EVENTS size column malformed";
    if (!col_ok(col[4], clen[4], nf)) return "EVENTS stack column malformed";
    if (!col_ok(col[5], clen[5], na)) return "EVENTS align column malformed";
    for (const unsigned char *q = col[5], *qe = col[5] + clen[5]; q < qe;) {
        uint64_t v;
        if (msf_get_uv(&q, qe, &v) || v > UINT32_MAX) return "EVENTS align value > 2^32-1";
    }
    if (!col_ok(col[6], clen[6], nr)) return "EVENTS old-address column malformed";
    r->ev_left = (uint32_t)count;
    r->shift = (unsigned)shift;
    r->model = (r->info.flags & MSF_CF_MODEL) != 0;
    if (r->model) memset(&r->mdl, 0, sizeof r->mdl);
    r->tid = tid;
    r->t = tbase;
    r->a = 0;
    r->c_op = col[0]; r->c_time = col[1]; r->c_addr = col[2]; r->c_size = col[3];
    r->c_stack = col[4]; r->c_align = col[5]; r->c_old = col[6];
    return NULL;
}

/* Validate a RECORDS payload (framing of all records, full decode of the
 * known ones before the first unknown must-understand one). */
static const char *records_setup(ms_reader *r, int *nomem)
{
    const unsigned char *p = r->raw, *end = r->raw + r->raw_len;
    uint32_t n = 0;
    r->unsup_index = UINT32_MAX;
    while (p < end) {
        uint64_t type, len;
        if (msf_get_uv(&p, end, &type) || msf_get_uv(&p, end, &len)) return "record header is cut";
        if (len > (uint64_t)(end - p)) return "record body runs past the payload";
        if (type == 0) return "record type 0";
        if (n == UINT32_MAX) return "too many records";
        if (type < MSF_REC_OPTIONAL && r->unsup_index == UINT32_MAX) {
            if (!msf_rec_known(type)) {
                r->unsup_index = n;
                r->unsup_type = type;
            } else {
                int rc = msf_rec_check((uint32_t)type, p, (size_t)len);
                if (rc == MS_ENOMEM) { *nomem = 1; return "out of memory"; }
                if (rc) return "malformed record";
            }
        }
        p += len;
        n++;
    }
    if (n != r->info.record_count) return "record count differs from the envelope's record_count";
    r->rp = r->raw;
    r->rend = end;
    r->rec_index = 0;
    return NULL;
}

/* ---- chunk loop ---------------------------------------------------------- */

static void at_eof(ms_reader *r)
{
    close_region(r, -1);
    if (!r->size_known) r->integ.file_size = r->buf_off + r->end;
    r->done = 1;
}

/* Position on the next deliverable chunk. 1 = a chunk is ready, 0 = end of
 * file, < 0 = stopping error. */
static int next_chunk(ms_reader *r)
{
    r->cur = CUR_NONE;
    for (;;) {
        uint64_t off = cur_off(r);
        long long n = fill(r, MSF_ENV_LEN);
        if (n < 0) return (int)n;
        if (n == 0) { at_eof(r); return 0; }
        if (n < MSF_ENV_LEN) {
            if (r->region_open) {
                r->region_bytes += (uint64_t)n;
                r->integ.bytes_lost += (uint64_t)n;
            } else {
                r->integ.bytes_lost += (uint64_t)n;
                problem(r, MS_ETRUNC, off, "file cut at offset %llu: %lld trailing bytes are not a whole chunk header",
                        (unsigned long long)off, n);
            }
            r->pos += (size_t)n;
            at_eof(r);
            return 0;
        }
        const unsigned char *e = r->buf + r->pos;
        if (!env_ok(e)) {
            /* resync: scan forward for the next 'MSCK' with a valid envelope */
            if (!r->region_open) {
                r->region_open = 1;
                r->region_start = off;
                r->region_bytes = 0;
            }
            size_t avail = r->end - r->pos, step = 1;
            const unsigned char *q = memchr(e + 1, 'M', avail - 1);
            if (q) step = (size_t)(q - e);
            else step = avail;
            r->pos += step;
            r->region_bytes += step;
            r->integ.bytes_lost += step;
            continue;
        }
        uint32_t seq = msf_get32(e + 8);
        ms_chunk_info ci;
        ci.offset = off;
        ci.seq = seq;
        ci.type = e[4];
        ci.flags = e[5];
        ci.record_count = msf_get32(e + 12);
        ci.raw_len = msf_get32(e + 16);
        ci.stored_len = msf_get32(e + 20);
        ci.t_first = msf_get64(e + 24);
        ci.t_last = msf_get64(e + 32);
        uint32_t pcheck = msf_get32(e + 40);
        size_t hl = msf_get16(e + 6);
        size_t total = hl + (size_t)ci.stored_len;

        /* sequence accounting */
        if (r->region_open) close_region(r, seq);
        else if (seq != r->expect_seq) {
            if (seq > r->expect_seq) {
                r->integ.chunks_bad += seq - r->expect_seq;
                problem(r, MS_ECORRUPT, off, "chunk sequence jumps from %u to %u at offset %llu (%u chunk(s) missing)",
                        r->expect_seq, seq, (unsigned long long)off, seq - r->expect_seq);
            } else {
                problem(r, MS_ECORRUPT, off, "chunk sequence goes back from %u to %u at offset %llu",
                        r->expect_seq, seq, (unsigned long long)off);
            }
        }
        r->expect_seq = seq + 1;

        /* whole chunk present? */
        int cut = 0;
        uint64_t left = 0;
        if (r->size_known && !r->mem && off + total > r->integ.file_size) {
            struct stat st;   /* the file may still be growing */
            if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode)) r->integ.file_size = (uint64_t)st.st_size;
        }
        if (r->size_known && off + total > r->integ.file_size) {
            cut = 1;
            left = r->integ.file_size > off ? r->integ.file_size - off : 0;
        } else {
            n = fill(r, total);
            if (n < 0) return (int)n;
            if (n < (long long)total) { cut = 1; left = (uint64_t)n; }
        }
        if (cut) {
            r->integ.records_lost += ci.record_count;
            r->integ.bytes_lost += left;
            problem(r, MS_ETRUNC, off, "file cut at offset %llu inside chunk %u (%llu of %llu bytes present, %u records lost)",
                    (unsigned long long)off, seq, (unsigned long long)left, (unsigned long long)total,
                    ci.record_count);
            r->pos = r->end;
            at_eof(r);
            return 0;
        }
        e = r->buf + r->pos;
        const unsigned char *payload = e + hl;
        if (msf_check32(payload, ci.stored_len) != pcheck) {
            r->pos += total;
            r->integ.chunks_bad++;
            r->integ.records_lost += ci.record_count;
            r->integ.bytes_lost += total;
            problem(r, MS_ECORRUPT, off, "chunk %u at offset %llu: payload checksum mismatch (%u records lost)",
                    seq, (unsigned long long)off, ci.record_count);
            continue;
        }
        if (ci.flags & MSF_CF_MUST & ~(ci.type == MS_CHUNK_EVENTS ? MSF_CF_MODEL : 0u)) {
            return open_fail(MS_EUNSUPPORTED, "chunk %u at offset %llu uses unknown must-understand flags 0x%x",
                             seq, (unsigned long long)off, ci.flags & MSF_CF_MUST);
        }
        if (ci.type >= MSF_CHUNK_OPTIONAL) {
            r->pos += total;
            r->integ.chunks_skipped++;
            snprintf(r->msg, sizeof r->msg, "skipped optional chunk type 0x%02x at offset %llu",
                     ci.type, (unsigned long long)off);
            if (r->pfn) r->pfn(r->pctx, MS_OK, off, r->msg);
            continue;
        }
        if (ci.type != MS_CHUNK_RECORDS && ci.type != MS_CHUNK_EVENTS) {
            return open_fail(MS_EUNSUPPORTED, "chunk %u at offset %llu has unknown must-understand type 0x%02x",
                             seq, (unsigned long long)off, ci.type);
        }
        /* payload -> raw */
        const char *bad = NULL;
        if (ci.flags & MSF_CF_ZSTD) {
            if (r->rawcap < ci.raw_len || !r->rawbuf) {
                unsigned char *nb = realloc(r->rawbuf, ci.raw_len ? ci.raw_len : 1);
                if (!nb) return MS_ENOMEM;
                r->rawbuf = nb;
                r->rawcap = ci.raw_len;
            }
            if (!r->dctx && !(r->dctx = ZSTD_createDCtx())) return MS_ENOMEM;
            if (ci.stored_len < 4 || msf_get32(payload) != ZSTD_MAGICNUMBER ||
                ZSTD_findFrameCompressedSize(payload, ci.stored_len) != ci.stored_len) {
                bad = "payload is not exactly one zstd frame";
            } else {
                size_t z = ZSTD_decompressDCtx(r->dctx, r->rawbuf, ci.raw_len, payload, ci.stored_len);
                if (ZSTD_isError(z)) bad = "zstd decompression failed";
                else if (z != ci.raw_len) bad = "decompressed size differs from raw_len";
            }
            r->raw = r->rawbuf;
        } else {
            r->raw = payload;
        }
        r->raw_len = ci.raw_len;
        ms_chunk_info prev_info = r->info;  /* kept if this chunk is bad */
        r->info = ci;
        r->pos += total;
        if (!bad) {
            int nomem = 0;
            if (ci.type == MS_CHUNK_EVENTS) {
                bad = events_setup(r);
                if (r->skip_events) r->ev_left = 0;   /* validated, not delivered */
            } else {
                bad = records_setup(r, &nomem);
            }
            if (nomem) return MS_ENOMEM;
        }
        if (bad) {
            r->info = prev_info;
            r->integ.chunks_bad++;
            r->integ.records_lost += ci.record_count;
            r->integ.bytes_lost += total;
            problem(r, MS_ECORRUPT, off, "chunk %u at offset %llu: %s (%u records lost)",
                    seq, (unsigned long long)off, bad, ci.record_count);
            continue;
        }
        r->integ.chunks_ok++;
        r->cur = ci.type == MS_CHUNK_EVENTS ? CUR_EVENTS : CUR_RECORDS;
        return 1;
    }
}

/* ---- iteration ----------------------------------------------------------- */

static inline uint64_t rd_uv(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint64_t v = *p++;
    if (v >= 0x80) {
        v &= 0x7F;
        unsigned s = 7;
        for (;;) {
            uint64_t b = *p++;
            v |= (b & 0x7F) << s;
            if (b < 0x80) break;
            s += 7;
        }
    }
    *pp = p;
    return v;
}

int ms_reader_next(ms_reader *r, const ms_record **rec)
{
    if (!r || !rec) return MS_EINVAL;
    if (r->fatal) return r->fatal;
    if (r->arena.total) msf_arena_reset(&r->arena);   /* nothing to reset after an event */
    for (;;) {
        if (r->cur == CUR_EVENTS && r->ev_left) {
            ms_event *e = &r->rec.u.event;
            unsigned op = *r->c_op++;
            r->t += rd_uv(&r->c_time);
            uint64_t u = rd_uv(&r->c_addr);
            e->time = r->t;
            e->tid = r->tid;
            e->op = (uint8_t)op;
            e->old_addr = 0;
            e->align = 0;
            if (MS_OP_IS_FREE(op)) {
                if (!r->model) r->a += (uint64_t)msf_unzz(u);
                else if (u < MSF_MODEL_K) r->a = msf_model_take(&r->mdl, (unsigned)u);
                else r->a += (uint64_t)msf_unzz(u - MSF_MODEL_K);
                e->size = 0;
                e->stack = 0;
            } else {
                e->size = rd_uv(&r->c_size);
                e->stack = rd_uv(&r->c_stack);
                if (!r->model) {
                    r->a += (uint64_t)msf_unzz(u);
                } else {
                    r->mdl.p = r->a;
                    r->a = msf_model_base(&r->mdl, e->size) + (uint64_t)msf_unzz(u);
                    msf_model_push(&r->mdl, r->a, e->size);
                }
                if (MS_OP_HAS_ALIGN(op)) e->align = (uint32_t)rd_uv(&r->c_align);
                if (MS_OP_IS_REALLOC(op))
                    e->old_addr = (r->a + (uint64_t)msf_unzz(rd_uv(&r->c_old))) << r->shift;
            }
            e->addr = r->a << r->shift;
            r->ev_left--;
            r->rec.type = MS_REC_EVENT;
            *rec = &r->rec;
            return 1;
        }
        if (r->cur == CUR_RECORDS && r->rp < r->rend) {
            uint64_t type = 0, len = 0;
            msf_get_uv(&r->rp, r->rend, &type);
            msf_get_uv(&r->rp, r->rend, &len);
            const unsigned char *body = r->rp;
            r->rp += len;
            uint32_t idx = r->rec_index++;
            if (idx == r->unsup_index) {
                r->fatal = open_fail(MS_EUNSUPPORTED,
                                     "record type 0x%llx in chunk %llu at offset %llu is must-understand and unknown",
                                     (unsigned long long)type, (unsigned long long)r->info.seq,
                                     (unsigned long long)r->info.offset);
                return r->fatal;
            }
            if (type >= MSF_REC_OPTIONAL) continue;
            int rc = msf_rec_decode_opt((uint32_t)type, body, (size_t)len, &r->rec, &r->arena, !r->skip_arrays);
            if (rc) { r->fatal = rc; return rc; }   /* validated: only ENOMEM */
            if (type == MS_REC_END) {
                r->integ.has_end = 1;
                r->integ.end_n_events = r->rec.u.end.n_events;
                r->integ.end_events_lost = r->rec.u.end.events_lost;
                r->integ.end_n_dropped = r->rec.u.end.n_dropped;
                r->integ.end_write_errors = r->rec.u.end.write_errors;
                r->integ.end_first_errno = r->rec.u.end.first_errno;
            }
            *rec = &r->rec;
            return 1;
        }
        if (r->done) return 0;
        int rc = next_chunk(r);
        if (rc < 0) {
            if (rc != MS_EUNSUPPORTED)
                open_fail(rc, "%s", rc == MS_EIO ? "read error" : ms_strerror(rc));
            r->fatal = rc;
            return rc;
        }
        if (rc == 0) return 0;
        r->rec.chunk_offset = r->info.offset;
        r->rec.chunk_seq = r->info.seq;
    }
}

/* ---- open / close -------------------------------------------------------- */

static int read_header(ms_reader *r)
{
    long long n = fill(r, MSF_FILE_HDR_LEN);
    if (n < 0) return open_fail((int)n, "read error: %s", n == MS_EIO ? "I/O error" : "out of memory");
    const unsigned char *h = r->buf + r->pos;
    if (n == 0) return open_fail(MS_EEMPTY, "file is empty");
    size_t m = n < MSF_MAGIC_LEN ? (size_t)n : MSF_MAGIC_LEN;
    if (memcmp(h, MSF_MAGIC, m) != 0) return open_fail(MS_ENOTMS, "not a .memscope file (bad magic)");
    if (n < 12) return open_fail(MS_ETRUNC, "file cut inside the file header (%lld of 24 bytes)", n);
    uint16_t major = msf_get16(h + 8), minor = msf_get16(h + 10);
    if (major > MS_FORMAT_MAJOR)
        return open_fail(MS_EVERSION, "file format version %u.%u is newer than the supported version %d.x",
                         major, minor, MS_FORMAT_MAJOR);
    if (major == 0) return open_fail(MS_ECORRUPT, "file header has major version 0");
    if (n < MSF_FILE_HDR_LEN)
        return open_fail(MS_ETRUNC, "file cut inside the file header (%lld of 24 bytes)", n);
    if (msf_get32(h + 20) != msf_check32(h, 20))
        return open_fail(MS_ECORRUPT, "file header checksum mismatch");
    uint16_t hl = msf_get16(h + 18);
    if (hl < MSF_FILE_HDR_LEN) return open_fail(MS_ECORRUPT, "file header_len %u < 24", hl);
    uint32_t flags = msf_get32(h + 12);
    r->hdr.major = major;
    r->hdr.minor = minor;
    r->hdr.flags = flags;
    r->hdr.kind = msf_get16(h + 16);
    n = fill(r, hl);
    if (n < 0) return open_fail((int)n, "read error");
    if (n < hl) return open_fail(MS_ETRUNC, "file cut inside the file header (%lld of %u bytes)", n, hl);
    if (flags & MSF_HDR_FLAGS_MUST & ~MSF_HDR_FLAGS_KNOWN)
        return open_fail(MS_EUNSUPPORTED, "file header has unknown must-understand flags 0x%x",
                         flags & MSF_HDR_FLAGS_MUST & ~MSF_HDR_FLAGS_KNOWN);
    r->pos += hl;
    return 0;
}

static ms_reader *new_reader(void)
{
    ms_reader *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->fd = -1;
    r->integ.verdict = MS_OK;
    return r;
}

int ms_reader_open(ms_reader **out, const char *path)
{
    open_err[0] = 0;
    if (!out) return MS_EINVAL;
    *out = NULL;
    if (!path) return MS_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return open_fail(MS_EIO, "cannot open %s", path);
    ms_reader *r = new_reader();
    if (!r) { close(fd); return MS_ENOMEM; }
    r->fd = fd;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        r->size_known = 1;
        r->integ.file_size = (uint64_t)st.st_size;
    }
    int rc = read_header(r);
    if (rc) {
        int e = errno;
        ms_reader_close(r);
        errno = e;
        return rc;
    }
    *out = r;
    return 0;
}

int ms_reader_open_mem(ms_reader **out, const void *buf, size_t len)
{
    open_err[0] = 0;
    if (!out) return MS_EINVAL;
    *out = NULL;
    if (!buf && len) return MS_EINVAL;
    ms_reader *r = new_reader();
    if (!r) return MS_ENOMEM;
    r->mem = 1;
    r->eof = 1;
    r->buf = (unsigned char *)(uintptr_t)buf;
    r->cap = r->end = len;
    r->size_known = 1;
    r->integ.file_size = len;
    static const unsigned char none[1];
    if (!buf) r->buf = (unsigned char *)(uintptr_t)none;
    int rc = read_header(r);
    if (rc) { ms_reader_close(r); return rc; }
    *out = r;
    return 0;
}

const ms_header_info *ms_reader_header(const ms_reader *r) { return r ? &r->hdr : NULL; }

void ms_reader_integrity(const ms_reader *r, ms_integrity *out)
{
    if (!r || !out) return;
    *out = r->integ;
    if (!r->size_known && !r->done) out->file_size = r->buf_off + r->end;
}

void ms_reader_on_problem(ms_reader *r, ms_problem_fn fn, void *ctx)
{
    if (!r) return;
    r->pfn = fn;
    r->pctx = ctx;
}

void ms_reader_chunk(const ms_reader *r, ms_chunk_info *out)
{
    if (!r || !out) return;
    *out = r->info;
}

void ms_reader_close(ms_reader *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    if (!r->mem) free(r->buf);
    free(r->rawbuf);
    if (r->dctx) ZSTD_freeDCtx(r->dctx);
    msf_arena_free(&r->arena);
    free(r);
}

void ms_reader_skip_arrays(ms_reader *r, int skip) { r->skip_arrays = skip != 0; }

void ms_reader_skip_events(ms_reader *r, int skip) { r->skip_events = skip != 0; }
