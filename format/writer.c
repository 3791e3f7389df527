/*
 * writer.c — the .memscope writer (ms_writer_*).
 *
 * Builds the 24-byte file header and then appends chunks: RECORDS chunks
 * of length-prefixed records (filled by ms_writer_add, closed at
 * chunk_bytes) and EVENTS chunks holding one thread's heap events as seven
 * varint columns (ms_writer_events; since v1.1 the addr column uses the
 * block model of spec 7.5 and each column is compressed in its own zstd
 * blocks). Each chunk is an independent zstd
 * frame (or raw when compression does not help or is switched off) behind
 * a 48-byte checksummed envelope, written with one writev loop, so a writer
 * that dies leaves a file whose complete chunks are all readable.
 *
 * The heap recorder calls this from its writer thread and from crash
 * handlers, so: every allocation (zstd's included) goes through the
 * caller's alloc_fn/free_fn, buffers are reused between chunks, and there
 * is no stdio, locale or errno-clobbering library call on the write path.
 */
#define ZSTD_STATIC_LINKING_ONLY
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include "format_internal.h"

struct ms_writer {
    int fd, close_fd, err, raw, level, by_path;
    char *path;
    uint64_t offset;
    uint32_t seq;
    size_t chunk_bytes;
    void *(*alloc_fn)(size_t);
    void (*free_fn)(void *);
    /* pending RECORDS chunk */
    msf_buf rec, body;
    uint32_t rec_count;
    int rec_timed;
    uint64_t rec_t_first, rec_t_last;
    /* EVENTS chunk being built (ms_writer_events_begin .. _end) */
    msf_buf col[MSF_NCOLS];
    msf_buf payload;
    int ev_open;
    unsigned ev_shift;
    uint64_t ev_tid, ev_n, ev_t_first, ev_pt;
    msf_model ev_m;
    /* compression */
    msf_buf zbuf;
    ZSTD_CCtx *cctx;
    int cctx_failed;
    /* what reached the file (ms_writer_get_stats) */
    uint64_t ev_written, n_errors;
    int first_errno;
    uint64_t compress_ns, raw_bytes, stored_bytes;   /* ms_writer_get_stats */
};

/* Count a failed write or buffer allocation (errno e). */
static void note_error(ms_writer *w, int e)
{
    w->n_errors++;
    if (!w->first_errno) w->first_errno = e ? e : EIO;
}

static void *w_alloc(ms_writer *w, size_t n) { return w->alloc_fn(n); }
static void w_free(ms_writer *w, void *p) { if (p) w->free_fn(p); }

static void *zalloc_hook(void *opaque, size_t n) { return ((ms_writer *)opaque)->alloc_fn(n); }
static void zfree_hook(void *opaque, void *p) { if (p) ((ms_writer *)opaque)->free_fn(p); }

static void init_buf(ms_writer *w, msf_buf *b)
{
    memset(b, 0, sizeof *b);
    b->alloc_fn = w->alloc_fn;
    b->free_fn = w->free_fn;
}

/* A write failed: count it, cut the part of the chunk that did reach the
 * file (the file ends at a chunk boundary again and a full disk gets that
 * space back for END, see ms_writer_recover) and refuse further writes. */
static int write_failed(ms_writer *w, uint64_t start, int e)
{
    note_error(w, e);
    if (w->offset > start && ftruncate(w->fd, (off_t)start) == 0 &&
        lseek(w->fd, (off_t)start, SEEK_SET) == (off_t)start)
        w->offset = start;
    w->err = MS_EIO;
    errno = e;
    return MS_EIO;
}

/* write all iov bytes, retrying on EINTR and short writes */
static int write_all(ms_writer *w, struct iovec *iov, int iovcnt)
{
    uint64_t start = w->offset;
    while (iovcnt > 0) {
        ssize_t n = writev(w->fd, iov, iovcnt);
        if (n < 0) {
            if (errno == EINTR) continue;
            return write_failed(w, start, errno);
        }
        if (n == 0) return write_failed(w, start, EIO);
        w->offset += (uint64_t)n;
        size_t left = (size_t)n;
        while (iovcnt > 0 && left >= iov->iov_len) { left -= iov->iov_len; iov++; iovcnt--; }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* Compress (unless raw) into w->zbuf. cuts[0..ncuts-1] are payload offsets
 * where the current zstd block is closed (ZSTD_e_flush), so each EVENTS
 * column gets blocks of its own with their own literal statistics (still
 * one frame; measured: 20-40% smaller than one block over mixed columns).
 * Returns the compressed size, or 0 when the payload is to be stored raw. */
static size_t compress(ms_writer *w, const unsigned char *raw, size_t raw_len,
                       const size_t *cuts, int ncuts)
{
    if (!w->cctx && !w->cctx_failed) {
        ZSTD_customMem cm = { zalloc_hook, zfree_hook, w };
        w->cctx = ZSTD_createCCtx_advanced(cm);
        if (!w->cctx) w->cctx_failed = 1;
    }
    if (!w->cctx) return 0;
    size_t bound = ZSTD_compressBound(raw_len) + 8 * (size_t)ncuts + 32;
    if (w->zbuf.cap < bound && msf_buf_reserve(&w->zbuf, bound) != 0) {
        w->zbuf.err = 0;
        return 0;
    }
    size_t z;
    if (ncuts == 0) {
        z = ZSTD_compressCCtx(w->cctx, w->zbuf.p, w->zbuf.cap, raw, raw_len, w->level);
        if (ZSTD_isError(z)) return 0;
    } else {
        ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_and_parameters);
        if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->level)) ||
            ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(w->cctx, raw_len)))
            return 0;
        ZSTD_outBuffer out = { w->zbuf.p, w->zbuf.cap, 0 };
        size_t from = 0;
        for (int i = 0; i <= ncuts; i++) {
            size_t to = i < ncuts ? cuts[i] : raw_len;
            if (to < from || to > raw_len) return 0;
            if (to == from && i < ncuts) continue;
            ZSTD_inBuffer in = { raw + from, to - from, 0 };
            ZSTD_EndDirective mode = i < ncuts ? ZSTD_e_flush : ZSTD_e_end;
            size_t left;
            do {
                left = ZSTD_compressStream2(w->cctx, &out, &in, mode);
                if (ZSTD_isError(left)) return 0;
                if (left && out.pos == out.size) return 0;
            } while (left || in.pos < in.size);
            from = to;
        }
        z = out.pos;
    }
    return z < raw_len ? z : 0;
}

/* Compress (unless raw) and write one chunk. */
static int write_chunk_cut(ms_writer *w, unsigned type, unsigned xflags, uint32_t count,
                           uint64_t t_first, uint64_t t_last, const unsigned char *raw,
                           size_t raw_len, const size_t *cuts, int ncuts)
{
    if (raw_len > MSF_CHUNK_MAX) return MS_ELIMIT;
    const unsigned char *stored = raw;
    size_t stored_len = raw_len;
    unsigned flags = xflags;
    if (!w->raw && raw_len > 0) {
        struct timespec c0, c1;
        clock_gettime(CLOCK_MONOTONIC, &c0);
        size_t z = compress(w, raw, raw_len, cuts, ncuts);
        clock_gettime(CLOCK_MONOTONIC, &c1);
        w->compress_ns += (uint64_t)((c1.tv_sec - c0.tv_sec) * 1000000000ll + (c1.tv_nsec - c0.tv_nsec));
        if (z) {
            stored = w->zbuf.p;
            stored_len = z;
            flags |= MSF_CF_ZSTD;
        }
    }
    unsigned char env[MSF_ENV_LEN];
    msf_put32(env + 0, MSF_SYNC);
    env[4] = (unsigned char)type;
    env[5] = (unsigned char)flags;
    msf_put16(env + 6, MSF_ENV_LEN);
    msf_put32(env + 8, w->seq);
    msf_put32(env + 12, count);
    msf_put32(env + 16, (uint32_t)raw_len);
    msf_put32(env + 20, (uint32_t)stored_len);
    msf_put64(env + 24, t_first);
    msf_put64(env + 32, t_last);
    msf_put32(env + 40, msf_check32(stored, stored_len));
    msf_put32(env + 44, msf_check32(env, 44));
    struct iovec iov[2] = { { env, MSF_ENV_LEN }, { (void *)stored, stored_len } };
    int rc = write_all(w, iov, stored_len ? 2 : 1);
    if (rc) return rc;
    w->raw_bytes += raw_len;
    w->stored_bytes += stored_len;
    w->seq++;
    return 0;
}

static int write_chunk(ms_writer *w, unsigned type, uint32_t count, uint64_t t_first,
                       uint64_t t_last, const unsigned char *raw, size_t raw_len)
{
    return write_chunk_cut(w, type, 0, count, t_first, t_last, raw, raw_len, NULL, 0);
}

static void free_writer(ms_writer *w)
{
    msf_buf_free(&w->rec);
    msf_buf_free(&w->body);
    for (int i = 0; i < MSF_NCOLS; i++) msf_buf_free(&w->col[i]);
    msf_buf_free(&w->payload);
    msf_buf_free(&w->zbuf);
    if (w->cctx) ZSTD_freeCCtx(w->cctx);
    w_free(w, w->path);
    void (*f)(void *) = w->free_fn;
    f(w);
}

static void *default_alloc(size_t n) { return malloc(n); }
static void default_free(void *p) { free(p); }

/* A writer on fd; header != 0 writes the file header first (a new file),
 * else the caller positions it after existing chunks (append). */
static int make_writer_ex(ms_writer **out, int fd, int close_fd, const ms_writer_opts *opts,
                          int header)
{
    void *(*af)(size_t) = opts->alloc_fn ? opts->alloc_fn : default_alloc;
    void (*ff)(void *) = opts->free_fn ? opts->free_fn : default_free;
    if ((opts->alloc_fn == NULL) != (opts->free_fn == NULL)) return MS_EINVAL;
    ms_writer *w = af(sizeof *w);
    if (!w) return MS_ENOMEM;
    memset(w, 0, sizeof *w);
    w->alloc_fn = af;
    w->free_fn = ff;
    w->fd = fd;
    w->close_fd = close_fd;
    w->level = opts->level ? opts->level : MSF_DEFAULT_LEVEL;
    w->chunk_bytes = opts->chunk_bytes ? opts->chunk_bytes : MSF_DEFAULT_CHUNK;
    if (w->chunk_bytes > MSF_CHUNK_MAX) w->chunk_bytes = MSF_CHUNK_MAX;
    init_buf(w, &w->rec);
    init_buf(w, &w->body);
    for (int i = 0; i < MSF_NCOLS; i++) init_buf(w, &w->col[i]);
    init_buf(w, &w->payload);
    init_buf(w, &w->zbuf);
    /* room for one small record from the start (buffers only grow): the
     * recorder's END needs no allocation after ms_writer_recover */
    if (msf_buf_reserve(&w->rec, MSF_SMALL_ROOM) || msf_buf_reserve(&w->body, MSF_SMALL_ROOM)) {
        w->close_fd = 0;
        free_writer(w);
        return MS_ENOMEM;
    }
    if (!header) { *out = w; return 0; }

    unsigned char h[MSF_FILE_HDR_LEN];
    memcpy(h, MSF_MAGIC, MSF_MAGIC_LEN);
    msf_put16(h + 8, MS_FORMAT_MAJOR);
    msf_put16(h + 10, MS_FORMAT_MINOR);
    msf_put32(h + 12, 0);
    msf_put16(h + 16, (uint16_t)opts->kind);
    msf_put16(h + 18, MSF_FILE_HDR_LEN);
    msf_put32(h + 20, msf_check32(h, 20));
    struct iovec iov = { h, sizeof h };
    int rc = write_all(w, &iov, 1);
    if (rc) { w->close_fd = 0; free_writer(w); return rc; }
    *out = w;
    return 0;
}

static int make_writer(ms_writer **out, int fd, int close_fd, const ms_writer_opts *opts)
{
    return make_writer_ex(out, fd, close_fd, opts, 1);
}

int ms_writer_fdopen(ms_writer **out, int fd, int close_fd, const ms_writer_opts *opts)
{
    if (!out) return MS_EINVAL;
    *out = NULL;
    if (!opts || fd < 0 || opts->kind == 0 || opts->kind > 0xFFFF) return MS_EINVAL;
    return make_writer(out, fd, close_fd, opts);
}

int ms_writer_open(ms_writer **out, const char *path, const ms_writer_opts *opts)
{
    if (!out) return MS_EINVAL;
    *out = NULL;
    if (!opts || !path || opts->kind == 0 || opts->kind > 0xFFFF) return MS_EINVAL;
    if ((opts->alloc_fn == NULL) != (opts->free_fn == NULL)) return MS_EINVAL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return (errno == EEXIST || errno == ELOOP) ? MS_EEXIST : MS_EIO;
    ms_writer *w = NULL;
    int rc = make_writer(&w, fd, 1, opts);
    if (rc) {
        int e = errno;
        close(fd);
        unlink(path);
        errno = e;
        return rc;
    }
    size_t n = strlen(path);
    w->path = w_alloc(w, n + 1);
    if (!w->path) {
        close(fd);
        unlink(path);
        w->close_fd = 0;
        free_writer(w);
        return MS_ENOMEM;
    }
    memcpy(w->path, path, n + 1);
    w->by_path = 1;
    *out = w;
    return 0;
}

/* pread exactly n bytes at off: 0, or MS_EIO / MS_ETRUNC (file shorter). */
static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return MS_EIO;
        }
        if (r == 0) return MS_ETRUNC;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Walk the envelopes of the file on fd (spec 4.1) from the header to the
 * end without reading payloads: the file must be chunks back to back, each
 * envelope usable, seqs consecutive from 0. Gives the file size, the kind
 * and the number of chunks (the next seq). */
static int scan_chunks(int fd, uint64_t *size, uint32_t *kind, uint64_t *nchunks)
{
    unsigned char h[MSF_FILE_HDR_LEN];
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) return MS_EIO;
    if (end == 0) return MS_EEMPTY;
    int rc = pread_all(fd, h, end < MSF_FILE_HDR_LEN ? (size_t)end : MSF_FILE_HDR_LEN, 0);
    if (rc) return rc;
    if (memcmp(h, MSF_MAGIC, end < MSF_MAGIC_LEN ? (size_t)end : MSF_MAGIC_LEN) != 0)
        return MS_ENOTMS;
    if (end < MSF_FILE_HDR_LEN) return MS_ETRUNC;
    if (msf_get16(h + 8) != MS_FORMAT_MAJOR) return MS_EVERSION;
    if (msf_get32(h + 20) != msf_check32(h, 20)) return MS_ECORRUPT;
    if (msf_get32(h + 12) & MSF_HDR_FLAGS_MUST) return MS_EUNSUPPORTED;
    uint64_t off = msf_get16(h + 18), seq = 0;
    if (off < MSF_FILE_HDR_LEN) return MS_ECORRUPT;
    while (off < (uint64_t)end) {
        unsigned char e[MSF_ENV_LEN];
        if ((uint64_t)end - off < MSF_ENV_LEN) return MS_ETRUNC;
        if ((rc = pread_all(fd, e, MSF_ENV_LEN, off))) return rc;
        uint16_t hl = msf_get16(e + 6);
        uint32_t raw = msf_get32(e + 16), stored = msf_get32(e + 20);
        if (msf_get32(e) != MSF_SYNC || msf_get32(e + 44) != msf_check32(e, 44) ||
            hl < MSF_ENV_LEN || raw > MSF_CHUNK_MAX || stored > MSF_CHUNK_MAX ||
            (!(e[5] & MSF_CF_ZSTD) && raw != stored) || msf_get32(e + 8) != seq)
            return MS_ECORRUPT;
        off += (uint64_t)hl + stored;
        seq++;
    }
    if (off != (uint64_t)end) return MS_ETRUNC;
    if (seq >= UINT32_MAX) return MS_ELIMIT;
    *size = (uint64_t)end;
    *kind = msf_get16(h + 16);
    *nchunks = seq;
    return 0;
}

int ms_writer_open_append(ms_writer **out, int fd, int close_fd, const ms_writer_opts *opts)
{
    if (!out) return MS_EINVAL;
    *out = NULL;
    if (!opts || fd < 0 || opts->kind > 0xFFFF) return MS_EINVAL;
    if ((opts->alloc_fn == NULL) != (opts->free_fn == NULL)) return MS_EINVAL;
    uint64_t size = 0, nchunks = 0;
    uint32_t kind = 0;
    int rc = scan_chunks(fd, &size, &kind, &nchunks);
    if (rc) return rc;
    if (opts->kind && opts->kind != kind) return MS_EINVAL;
    if (lseek(fd, (off_t)size, SEEK_SET) < 0) return MS_EIO;
    ms_writer *w = NULL;
    if ((rc = make_writer_ex(&w, fd, close_fd, opts, 0))) return rc;
    w->offset = size;
    w->seq = (uint32_t)nchunks;
    *out = w;
    return 0;
}

int ms_writer_flush(ms_writer *w)
{
    if (!w) return MS_EINVAL;
    if (w->err) return w->err;
    if (w->rec.len == 0 && w->rec_count == 0) return 0;
    int rc = write_chunk(w, MS_CHUNK_RECORDS, w->rec_count,
                         w->rec_timed ? w->rec_t_first : 0, w->rec_timed ? w->rec_t_last : 0,
                         w->rec.p, w->rec.len);
    if (rc) return rc;
    w->rec.len = 0;
    w->rec_count = 0;
    w->rec_timed = 0;
    w->rec_t_first = w->rec_t_last = 0;
    return 0;
}

int ms_writer_add(ms_writer *w, const ms_record *rec)
{
    if (!w || !rec) return MS_EINVAL;
    if (w->err) return w->err;
    if (!msf_rec_known(rec->type)) return MS_EINVAL;
    w->body.len = 0;
    w->body.err = 0;
    int rc = msf_rec_encode(&w->body, rec);
    if (rc) {
        if (rc == MS_ENOMEM) note_error(w, ENOMEM);
        w->body.err = 0;
        return rc;
    }
    size_t need = w->body.len + 20;
    if (need > MSF_CHUNK_MAX) return MS_ELIMIT;
    if (w->rec.len + need > MSF_CHUNK_MAX || w->rec_count == UINT32_MAX) {
        rc = ms_writer_flush(w);
        if (rc) return rc;
    }
    size_t old = w->rec.len;
    msf_buf_uv(&w->rec, rec->type);
    msf_buf_uv(&w->rec, w->body.len);
    msf_buf_bytes(&w->rec, w->body.p, w->body.len);
    if (w->rec.err) {
        rc = w->rec.err;
        if (rc == MS_ENOMEM) note_error(w, ENOMEM);
        w->rec.err = 0;
        w->rec.len = old;
        return rc;
    }
    w->rec_count++;
    uint64_t t;
    if (msf_rec_time(rec, &t)) {
        if (!w->rec_timed) w->rec_t_first = t;
        w->rec_t_last = t;
        w->rec_timed = 1;
    }
    if (w->rec.len >= w->chunk_bytes) return ms_writer_flush(w);
    return 0;
}

/* EVENTS chunks: the addr column is coded with the block model of spec 7.5
 * (chunk flag MODEL): a free of one of the 8 most recent blocks is its
 * index, an allocation is a delta from the block last freed by index in its
 * size class (glibc's tcache hands exactly that one back), else from the
 * previous address. A chunk is built in three steps so that a caller can
 * feed it in pieces from a small buffer: begin (fixes tid and the shift),
 * add (encodes into the seven column buffers), end (assembles, compresses
 * with a zstd block per column, writes). */
static int op_known(unsigned op)
{
    return op <= MS_OP_DELETE_ARRAY || (op >= MS_OP_MALLOC && op <= MS_OP_NEW_ARRAY);
}

static void ev_begin(ms_writer *w, uint64_t tid, uint64_t bits)
{
    unsigned shift = 0;
    while (shift < MSF_SHIFT_WRITE_MAX && !(bits & ((uint64_t)1 << shift))) shift++;
    for (int c = 0; c < MSF_NCOLS; c++) {
        w->col[c].len = 0;
        w->col[c].err = 0;
    }
    memset(&w->ev_m, 0, sizeof w->ev_m);
    w->ev_open = 1;
    w->ev_tid = tid;
    w->ev_shift = shift;
    w->ev_n = 0;
}

/* Encode n events. Each is checked as it is encoded (a known op, addresses
 * that fit the chunk's shift; a separate pass was ~6 % of the recorder's
 * writer thread): on a bad one nothing of the n is kept and MS_EINVAL is
 * returned. */
static int ev_add(ms_writer *w, const ms_event *ev, size_t n)
{
    if (n == 0) return 0;
    for (int c = 0; c < MSF_NCOLS; c++) {
        if (msf_buf_reserve(&w->col[c], c == 0 ? n : n * 10)) {
            w->col[c].err = 0;
            note_error(w, ENOMEM);
            return MS_ENOMEM;
        }
    }
    if (w->ev_n == 0) w->ev_t_first = w->ev_pt = ev[0].time;
    unsigned shift = w->ev_shift;
    unsigned char *o = w->col[0].p + w->col[0].len, *tp = w->col[1].p + w->col[1].len,
                  *ap = w->col[2].p + w->col[2].len, *sp = w->col[3].p + w->col[3].len,
                  *kp = w->col[4].p + w->col[4].len, *lp = w->col[5].p + w->col[5].len,
                  *rp = w->col[6].p + w->col[6].len;
    uint64_t pt = w->ev_pt;
    msf_model *m = &w->ev_m;
    msf_model saved = *m;
    const uint64_t mask = ((uint64_t)1 << shift) - 1;
    for (size_t i = 0; i < n; i++) {
        const ms_event *e = &ev[i];
        unsigned op = e->op;
        if (__builtin_expect(!op_known(op) || (e->addr & mask) ||
                             (MS_OP_IS_REALLOC(op) && (e->old_addr & mask)), 0)) {
            *m = saved;               /* the column lengths were not moved */
            return MS_EINVAL;
        }
        *o++ = (unsigned char)op;
        tp += msf_put_uv(tp, e->time - pt);
        pt = e->time;
        uint64_t a = e->addr >> shift;
        if (MS_OP_IS_FREE(op)) {
            unsigned k = msf_model_find(m, a);
            if (k < MSF_MODEL_K) {
                msf_model_take(m, k);
                *ap++ = (unsigned char)k;
            } else {
                ap += msf_put_uv(ap, MSF_MODEL_K + msf_zz((int64_t)(a - m->p)));
            }
        } else {
            uint64_t base = msf_model_base(m, e->size);
            ap += msf_put_uv(ap, msf_zz((int64_t)(a - base)));
            msf_model_push(m, a, e->size);
            sp += msf_put_uv(sp, e->size);
            kp += msf_put_uv(kp, e->stack);
            if (MS_OP_HAS_ALIGN(op)) lp += msf_put_uv(lp, e->align);
            if (MS_OP_IS_REALLOC(op))
                rp += msf_put_uv(rp, msf_zz((int64_t)((e->old_addr >> shift) - a)));
        }
        m->p = a;
    }
    w->col[0].len = (size_t)(o - w->col[0].p);
    w->col[1].len = (size_t)(tp - w->col[1].p);
    w->col[2].len = (size_t)(ap - w->col[2].p);
    w->col[3].len = (size_t)(sp - w->col[3].p);
    w->col[4].len = (size_t)(kp - w->col[4].p);
    w->col[5].len = (size_t)(lp - w->col[5].p);
    w->col[6].len = (size_t)(rp - w->col[6].p);
    w->ev_pt = pt;
    w->ev_n += n;
    return 0;
}

static int ev_end(ms_writer *w)
{
    w->ev_open = 0;
    if (w->ev_n == 0) return 0;
    msf_buf *pl = &w->payload;
    pl->len = 0;
    pl->err = 0;
    msf_buf_uv(pl, w->ev_tid);
    msf_buf_uv(pl, w->ev_n);
    msf_buf_uv(pl, w->ev_t_first);
    msf_buf_uv(pl, w->ev_shift);
    size_t cuts[MSF_NCOLS];
    int ncuts = 0;
    for (int c = 0; c < MSF_NCOLS; c++) {
        if (c > 0 && c < 6) cuts[ncuts++] = pl->len;   /* align+old share a block */
        msf_buf_uv(pl, w->col[c].len);
        msf_buf_bytes(pl, w->col[c].p, w->col[c].len);
    }
    if (pl->err) { pl->err = 0; note_error(w, ENOMEM); return MS_ENOMEM; }
    int rc = write_chunk_cut(w, MS_CHUNK_EVENTS, MSF_CF_MODEL, (uint32_t)w->ev_n, w->ev_t_first,
                             w->ev_pt, pl->p, pl->len, cuts, ncuts);
    if (rc == 0) w->ev_written += w->ev_n;
    return rc;
}

int ms_writer_events(ms_writer *w, uint64_t tid, const ms_event *ev, size_t n)
{
    if (!w || (n && !ev)) return MS_EINVAL;
    if (w->err) return w->err;
    if (w->ev_open) return MS_ESTATE;
    for (size_t i = 0; i < n; i++)
        if (!op_known(ev[i].op)) return MS_EINVAL;
    int rc = ms_writer_flush(w);
    if (rc) return rc;
    while (n > 0) {
        size_t k = n < MSF_EVENTS_MAX ? n : MSF_EVENTS_MAX;
        uint64_t bits = 0;
        for (size_t i = 0; i < k; i++) {
            bits |= ev[i].addr;
            if (MS_OP_IS_REALLOC(ev[i].op)) bits |= ev[i].old_addr;
        }
        ev_begin(w, tid, bits);
        rc = ev_add(w, ev, k);
        if (rc) { w->ev_open = 0; return rc; }
        rc = ev_end(w);
        if (rc) return rc;
        ev += k;
        n -= k;
    }
    return 0;
}

int ms_writer_events_begin(ms_writer *w, uint64_t tid, uint64_t addr_bits)
{
    if (!w) return MS_EINVAL;
    if (w->err) return w->err;
    if (w->ev_open) return MS_ESTATE;
    int rc = ms_writer_flush(w);
    if (rc) return rc;
    ev_begin(w, tid, addr_bits);
    return 0;
}

int ms_writer_events_add(ms_writer *w, const ms_event *ev, size_t n)
{
    if (!w || (n && !ev)) return MS_EINVAL;
    if (w->err) return w->err;
    if (!w->ev_open) return MS_ESTATE;
    if (n > MSF_EVENTS_MAX - w->ev_n) return MS_ELIMIT;
    return ev_add(w, ev, n);    /* checks each event (ops, addresses in the shift) */
}

int ms_writer_events_end(ms_writer *w)
{
    if (!w) return MS_EINVAL;
    if (!w->ev_open) return MS_ESTATE;
    if (w->err) {
        w->ev_open = 0;
        return w->err;
    }
    return ev_end(w);
}

void ms_writer_set_raw(ms_writer *w, int raw)
{
    if (w) w->raw = raw != 0;
}

int ms_writer_close(ms_writer *w)
{
    if (!w) return MS_EINVAL;
    int rc = w->ev_open ? ms_writer_events_end(w) : 0;
    int rc2 = ms_writer_flush(w);
    if (!rc) rc = rc2;
    if (w->close_fd && close(w->fd) != 0 && rc == 0) rc = MS_EIO;
    free_writer(w);
    return rc;
}

void ms_writer_abort(ms_writer *w)
{
    if (!w) return;
    if (w->close_fd) close(w->fd);
    if (w->by_path && w->path) unlink(w->path);
    free_writer(w);
}

uint64_t ms_writer_offset(const ms_writer *w)
{
    return w ? w->offset : 0;
}

uint64_t ms_writer_chunks(const ms_writer *w)
{
    return w ? w->seq : 0;
}

int ms_writer_recover(ms_writer *w)
{
    if (!w || w->fd < 0) return MS_EINVAL;
    if (w->ev_open) w->ev_open = 0;
    w->rec.len = 0;
    w->rec_count = 0;
    w->rec_timed = 0;
    w->err = 0;
    return 0;
}

void ms_writer_set_fd(ms_writer *w, int fd)
{
    if (!w) return;
    if (fd >= 0) {
        w->fd = fd;
        return;
    }
    w->fd = -1;
    w->close_fd = 0;
    if (!w->err) {
        note_error(w, EBADF);
        w->err = MS_EIO;
    }
}

void ms_writer_get_stats(const ms_writer *w, ms_writer_stats *st)
{
    if (!st) return;
    memset(st, 0, sizeof *st);
    if (!w) return;
    st->events_written = w->ev_written;
    st->write_errors = w->n_errors;
    st->first_errno = w->first_errno;
    st->compress_ns = w->compress_ns;
    st->raw_bytes = w->raw_bytes;
    st->stored_bytes = w->stored_bytes;
}
