/*
 * test_robust.c — the reader on every damaged variant of each golden file:
 * cut at every byte offset, and every byte flipped (xor 0xFF, then a single
 * bit). Built normally and under ASan+UBSan, so "never crashes, never reads
 * out of bounds" is checked on thousands of inputs; an alarm turns a hang
 * into a FAIL.
 *
 * What must hold (spec/FORMAT.md §3, §4.4, §9):
 *  - A prefix shorter than the file header does not open (MS_EEMPTY,
 *    MS_ETRUNC or MS_ENOTMS). A longer prefix opens and yields exactly the
 *    records of the chunks that are complete, in order and unchanged. When
 *    the cut is inside chunk k the verdict is MS_ETRUNC, trunc_offset = its
 *    offset, bytes_lost = the bytes of it present, records_lost = its
 *    record_count when its envelope (48 bytes) is complete, else 0. A cut
 *    exactly between chunks leaves nothing partial: MS_OK (END only when
 *    the cut lies after its chunk: a symbolizer may append chunks, 8.7).
 *  - A flipped byte is always detected; no field of the goldens is
 *    ignorable. The file header check covers bytes 0..19 and is itself
 *    compared, so a header flip refuses the open. The envelope's
 *    header_check covers envelope bytes 0..43 (sync, lengths, seq, times,
 *    payload_check) and is compared, so a flip there makes the envelope
 *    unusable and the reader resyncs at the next chunk; the payload_check
 *    covers every payload byte. The goldens have no header or envelope
 *    extension bytes (header_len 24 / 48), the only bytes the spec leaves
 *    unchecked. So a flip anywhere in chunk k costs exactly chunk k: all
 *    other records arrive unchanged, the verdict is MS_ECORRUPT with
 *    first_bad_offset = offset of chunk k, chunks_bad = 1, bytes_lost = the
 *    chunk's size, records_lost = its record_count if the flip is in the
 *    payload (a trusted envelope) else 0. A flip never yields a record that
 *    is not in the original file.
 * Every cut and every xor flip is also read through a pipe (the streaming
 * path, file size unknown), whose dump must equal the memory reader's.
 * One PASS line per golden and property; the FAIL line names the first
 * offset that violates it.
 */
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memscope.h"
#include "mstest.h"
#include "../golden/msdump.h"

#define FILE_HEADER 24

typedef struct ref {
    size_t n;                  /* records */
    char **rec;                /* canonical dump of each record */
    size_t *chunk_of;          /* chunk index of each record */
    size_t nchunks;
    uint64_t *chunk_off;       /* chunk k spans [chunk_off[k], chunk_off[k+1]) */
    size_t *chunk_first;       /* first record index of chunk k; [nchunks] = n */
    uint64_t size;
    size_t end_chunk;          /* chunk holding END (symbols may follow, 8.7) */
} ref;

typedef struct result {
    int open_rc, next_rc;
    size_t n;                  /* records delivered */
    long *match;               /* index in ref of each delivered record, -1 if none */
    ms_integrity g;
    int n_trunc_problems, n_corrupt_problems;
    int overflow;              /* more records than the original has */
} result;

static void on_problem(void *ctx, int err, uint64_t off, const char *msg)
{
    (void)off;
    (void)msg;
    result *res = ctx;
    if (err == MS_ETRUNC)
        res->n_trunc_problems++;
    else if (err == MS_ECORRUPT)
        res->n_corrupt_problems++;
}

static char *dump_one(const ms_record *r)
{
    char *s = NULL;
    size_t l = 0;
    FILE *f = open_memstream(&s, &l);
    msd_record(f, r);
    fclose(f);
    return s;
}

/* Read buf; match each record against ref as an in-order subsequence. */
static void run(const ref *rf, const unsigned char *buf, size_t len, result *res)
{
    res->open_rc = res->next_rc = 0;
    res->n = 0;
    res->overflow = 0;
    res->n_trunc_problems = res->n_corrupt_problems = 0;
    memset(&res->g, 0, sizeof res->g);
    ms_reader *r = NULL;
    res->open_rc = ms_reader_open_mem(&r, buf, len);
    if (res->open_rc != MS_OK)
        return;
    ms_reader_on_problem(r, on_problem, res);
    const ms_record *rec;
    size_t from = 0;
    int rc;
    while ((rc = ms_reader_next(r, &rec)) == 1) {
        if (res->n >= rf->n) {
            res->overflow = 1;
            break;
        }
        char *s = dump_one(rec);
        long m = -1;
        for (size_t j = from; j < rf->n; j++)
            if (strcmp(s, rf->rec[j]) == 0) {
                m = (long)j;
                from = j + 1;
                break;
            }
        free(s);
        res->match[res->n++] = m;
    }
    res->next_rc = rc < 0 ? rc : 0;
    ms_reader_integrity(r, &res->g);
    ms_reader_close(r);
}

static int load_ref(const unsigned char *buf, size_t len, ref *rf)
{
    memset(rf, 0, sizeof *rf);
    rf->size = len;
    ms_reader *r = NULL;
    if (ms_reader_open_mem(&r, buf, len) != MS_OK)
        return -1;
    size_t cap = 0, ccap = 0;
    const ms_record *rec;
    int rc;
    while ((rc = ms_reader_next(r, &rec)) == 1) {
        ms_chunk_info ci;
        ms_reader_chunk(r, &ci);
        if (rf->nchunks == 0 || rf->chunk_off[rf->nchunks - 1] != ci.offset) {
            if (rf->nchunks + 2 > ccap) {
                ccap = ccap ? ccap * 2 : 16;
                rf->chunk_off = realloc(rf->chunk_off, ccap * sizeof *rf->chunk_off);
                rf->chunk_first = realloc(rf->chunk_first, ccap * sizeof *rf->chunk_first);
            }
            rf->chunk_off[rf->nchunks] = ci.offset;
            rf->chunk_first[rf->nchunks] = rf->n;
            rf->nchunks++;
        }
        if (rf->n == cap) {
            cap = cap ? cap * 2 : 64;
            rf->rec = realloc(rf->rec, cap * sizeof *rf->rec);
            rf->chunk_of = realloc(rf->chunk_of, cap * sizeof *rf->chunk_of);
        }
        if (rec->type == MS_REC_END) rf->end_chunk = rf->nchunks - 1;
        rf->rec[rf->n] = dump_one(rec);
        rf->chunk_of[rf->n] = rf->nchunks - 1;
        rf->n++;
    }
    ms_integrity g;
    ms_reader_integrity(r, &g);
    ms_reader_close(r);
    if (rc != 0 || g.verdict != MS_OK || !g.has_end || rf->nchunks == 0 ||
        g.chunks_ok != rf->nchunks)
        return -1;
    rf->chunk_off[rf->nchunks] = len;
    rf->chunk_first[rf->nchunks] = rf->n;
    return 0;
}

static void free_ref(ref *rf)
{
    for (size_t i = 0; i < rf->n; i++)
        free(rf->rec[i]);
    free(rf->rec);
    free(rf->chunk_of);
    free(rf->chunk_off);
    free(rf->chunk_first);
}

/* Chunk holding offset off (off >= first chunk). */
static size_t chunk_at(const ref *rf, uint64_t off)
{
    size_t k = 0;
    while (k + 1 < rf->nchunks && rf->chunk_off[k + 1] <= off)
        k++;
    return k;
}

/* A property: PASS unless a first violation was recorded. */
typedef struct prop {
    const char *what;
    char why[512];
    int bad;
} prop;

static void violate(prop *p, const char *fmt, unsigned long long off, const char *detail)
{
    if (p->bad++)
        return;
    snprintf(p->why, sizeof p->why, fmt, off, detail);
}

static void report(const char *name, prop *p)
{
    if (p->bad) {
        printf("FAIL: robust/%s: %s: %s (%d offsets)\n", name, p->what, p->why, p->bad);
        ms_test_failures++;
    } else {
        printf("PASS: robust/%s: %s\n", name, p->what);
    }
}

/* Delivered records == ref minus records of chunks [lo, hi), in order. */
static int delivered_except(const ref *rf, const result *res, size_t lo, size_t hi)
{
    size_t skip_a = rf->chunk_first[lo], skip_b = rf->chunk_first[hi];
    size_t want = rf->n - (skip_b - skip_a), j = 0;
    if (res->overflow || res->n != want)
        return 0;
    for (size_t i = 0; i < rf->n; i++) {
        if (i >= skip_a && i < skip_b)
            continue;
        if (res->match[j++] != (long)i)
            return 0;
    }
    return 1;
}

static void truncations(const char *name, const unsigned char *buf, const ref *rf, result *res)
{
    prop shortp = { "prefixes shorter than the file header do not open", "", 0 };
    prop prefix = { "cut at every offset: exactly the complete chunks' records, unchanged", "", 0 };
    prop verdict = { "cut inside a chunk: MS_ETRUNC, trunc_offset = that chunk, reported", "", 0 };
    prop boundary = { "cut between chunks: MS_OK, no END", "", 0 };
    prop counters = { "cuts: chunks_ok, bytes_lost, records_lost as spec section 9.1", "", 0 };
    char d[256];
    for (size_t L = 0; L < rf->size; L++) {
        run(rf, buf, L, res);
        if (L < FILE_HEADER) {
            int rc = res->open_rc;
            if (!(rc == MS_ETRUNC || rc == MS_ENOTMS || (rc == MS_EEMPTY && L == 0))) {
                snprintf(d, sizeof d, "open returned %d (%s)", rc, ms_strerror(rc));
                violate(&shortp, "length %llu: %s", L, d);
            }
            continue;
        }
        if (res->open_rc != MS_OK || res->next_rc != 0) {
            snprintf(d, sizeof d, "open %d, next %d", res->open_rc, res->next_rc);
            violate(&prefix, "length %llu: %s", L, d);
            continue;
        }
        /* Complete chunks: those ending at or before L. */
        size_t complete = 0;
        while (complete < rf->nchunks && rf->chunk_off[complete + 1] <= L)
            complete++;
        if (!delivered_except(rf, res, complete, rf->nchunks)) {
            snprintf(d, sizeof d, "%zu records delivered, %zu expected", res->n, rf->chunk_first[complete]);
            violate(&prefix, "length %llu: %s", L, d);
        }
        int at_boundary = 0;
        for (size_t k = 0; k <= rf->nchunks; k++)
            at_boundary |= rf->chunk_off[k] == L;
        if (at_boundary) {
            if (res->g.verdict != MS_OK || res->g.has_end != (complete > rf->end_chunk) || res->g.chunks_bad ||
                res->g.chunks_ok != complete || res->g.bytes_lost || res->g.records_lost) {
                snprintf(d, sizeof d, "verdict %d trunc_offset %llu has_end %d", res->g.verdict,
                         (unsigned long long)res->g.trunc_offset, res->g.has_end);
                violate(&boundary, "length %llu: %s", L, d);
            }
        } else {
            size_t k = chunk_at(rf, L);
            if (res->g.verdict != MS_ETRUNC || res->g.trunc_offset != rf->chunk_off[k] ||
                res->g.has_end != (k > rf->end_chunk) || res->g.chunks_bad || res->n_trunc_problems != 1 ||
                res->n_corrupt_problems) {
                snprintf(d, sizeof d, "verdict %d trunc_offset %llu (chunk at %llu) has_end %d "
                         "chunks_bad %llu problems trunc %d corrupt %d", res->g.verdict,
                         (unsigned long long)res->g.trunc_offset, (unsigned long long)rf->chunk_off[k],
                         res->g.has_end, (unsigned long long)res->g.chunks_bad,
                         res->n_trunc_problems, res->n_corrupt_problems);
                violate(&verdict, "length %llu: %s", L, d);
            }
            uint64_t present = L - rf->chunk_off[k];
            uint64_t lost = present >= 48 ? rf->chunk_first[k + 1] - rf->chunk_first[k] : 0;
            if (res->g.chunks_ok != k || res->g.bytes_lost != present || res->g.records_lost != lost) {
                snprintf(d, sizeof d, "chunks_ok %llu (want %zu) bytes_lost %llu (want %llu) "
                         "records_lost %llu (want %llu)", (unsigned long long)res->g.chunks_ok, k,
                         (unsigned long long)res->g.bytes_lost, (unsigned long long)present,
                         (unsigned long long)res->g.records_lost, (unsigned long long)lost);
                violate(&counters, "length %llu: %s", L, d);
            }
        }
    }
    report(name, &shortp);
    report(name, &prefix);
    report(name, &verdict);
    report(name, &boundary);
    report(name, &counters);
}

static void flips(const char *name, const unsigned char *buf, const ref *rf, result *res, int bit)
{
    char w1[128], w2[128], w3[128];
    const char *mode = bit ? "single-bit flip" : "xor-0xFF flip";
    snprintf(w1, sizeof w1, "%s in the file header: open refused", mode);
    snprintf(w2, sizeof w2, "%s in chunk k: exactly chunk k lost, all other records unchanged", mode);
    snprintf(w3, sizeof w3, "%s in chunk k: verdict MS_ECORRUPT, first_bad_offset = chunk k, reported", mode);
    char w4[128];
    snprintf(w4, sizeof w4, "%s in chunk k: chunks_bad, bytes_lost, records_lost as spec section 9.2", mode);
    prop header = { w1, "", 0 }, records = { w2, "", 0 }, verdict = { w3, "", 0 }, counters = { w4, "", 0 };
    unsigned char *m = malloc(rf->size);
    char d[256];
    for (size_t i = 0; i < rf->size; i++) {
        memcpy(m, buf, rf->size);
        m[i] ^= bit ? (unsigned char)(1u << (i % 8)) : 0xFF;
        run(rf, m, rf->size, res);
        if (i < FILE_HEADER) {
            if (res->open_rc == MS_OK)
                violate(&header, "offset %llu: %s", i, "opened");
            continue;
        }
        size_t k = chunk_at(rf, i);
        int last = k == rf->end_chunk;
        if (res->open_rc != MS_OK || res->next_rc != 0 || !delivered_except(rf, res, k, k + 1)) {
            snprintf(d, sizeof d, "chunk %zu at %llu: open %d next %d, %zu records (want %zu)%s", k,
                     (unsigned long long)rf->chunk_off[k], res->open_rc, res->next_rc, res->n,
                     rf->n - (rf->chunk_first[k + 1] - rf->chunk_first[k]),
                     res->overflow ? ", too many" : "");
            violate(&records, "offset %llu: %s", i, d);
        }
        int vok = res->g.verdict == MS_ECORRUPT && res->g.first_bad_offset == rf->chunk_off[k] &&
                  res->n_corrupt_problems == 1 && res->n_trunc_problems == 0;
        if (!vok || res->g.has_end != !last) {
            snprintf(d, sizeof d, "chunk %zu at %llu: verdict %d first_bad_offset %llu has_end %d "
                     "problems corrupt %d trunc %d", k, (unsigned long long)rf->chunk_off[k],
                     res->g.verdict, (unsigned long long)res->g.first_bad_offset, res->g.has_end,
                     res->n_corrupt_problems, res->n_trunc_problems);
            violate(&verdict, "offset %llu: %s", i, d);
        }
        uint64_t csize = rf->chunk_off[k + 1] - rf->chunk_off[k];
        uint64_t lost = i - rf->chunk_off[k] >= 48 ? rf->chunk_first[k + 1] - rf->chunk_first[k] : 0;
        if (res->g.chunks_bad != 1 || res->g.chunks_ok != rf->nchunks - 1 ||
            res->g.bytes_lost != csize || res->g.records_lost != lost) {
            snprintf(d, sizeof d, "chunk %zu: chunks_bad %llu chunks_ok %llu bytes_lost %llu (want %llu) "
                     "records_lost %llu (want %llu)", k, (unsigned long long)res->g.chunks_bad,
                     (unsigned long long)res->g.chunks_ok, (unsigned long long)res->g.bytes_lost,
                     (unsigned long long)csize, (unsigned long long)res->g.records_lost,
                     (unsigned long long)lost);
            violate(&counters, "offset %llu: %s", i, d);
        }
    }
    free(m);
    report(name, &header);
    report(name, &records);
    report(name, &verdict);
    report(name, &counters);
}

/* Canonical dump of buf read from memory (pipe 0) or through a pipe. */
static char *dump_via(const unsigned char *buf, size_t len, int via_pipe)
{
    char *s = NULL;
    size_t l = 0;
    FILE *f = open_memstream(&s, &l);
    ms_reader *r = NULL;
    int rc, fds[2] = { -1, -1 };
    if (via_pipe) {
        /* The goldens are far below the pipe capacity: one write, no thread. */
        if (pipe(fds) != 0 || write(fds[1], buf, len) != (ssize_t)len) {
            fprintf(f, "pipe failed\n");
            fclose(f);
            return s;
        }
        close(fds[1]);
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
        rc = ms_reader_open(&r, path);
    } else {
        rc = ms_reader_open_mem(&r, buf, len);
    }
    if (rc != MS_OK) {
        fprintf(f, "open failed: %d\n", rc);
    } else {
        long n = msd_reader(f, r);
        if (n < 0)
            fprintf(f, "stopped: %ld\n", n);
        ms_reader_close(r);
    }
    if (fds[0] >= 0)
        close(fds[0]);
    fclose(f);
    return s;
}

static void pipes(const char *name, const unsigned char *buf, const ref *rf)
{
    prop p = { "cut/flipped files read through a pipe: same dump as from memory", "", 0 };
    unsigned char *m = malloc(rf->size);
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < rf->size; i++) {
            size_t len = rf->size;
            memcpy(m, buf, rf->size);
            if (pass == 0)
                len = i;
            else
                m[i] ^= 0xFF;
            char *a = dump_via(m, len, 0), *b = dump_via(m, len, 1);
            if (strcmp(a, b) != 0)
                violate(&p, "offset %llu (%s): dumps differ", i, pass ? "xor flip" : "cut");
            free(a);
            free(b);
        }
    free(m);
    report(name, &p);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "FAIL: robust: timed out (reader hangs?)\n";
    ssize_t w = write(1, msg, sizeof msg - 1);
    (void)w;
    _exit(2);
}

static void check_golden(const char *path, const char *name)
{
    size_t len = 0;
    unsigned char *buf = msd_slurp(path, &len);
    ref rf;
    char tname[640];
    snprintf(tname, sizeof tname, "robust/%s: golden reads cleanly", name);
    int ok = buf && load_ref(buf, len, &rf) == 0;
    CHECK(tname, ok);
    if (!ok) {
        free(buf);
        return;
    }
    result res;
    res.match = malloc((rf.n + 1) * sizeof *res.match);
    truncations(name, buf, &rf, &res);
    flips(name, buf, &rf, &res, 0);
    flips(name, buf, &rf, &res, 1);
    pipes(name, buf, &rf);
    free(res.match);
    free_ref(&rf);
    free(buf);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGALRM, on_alarm);
    alarm(240);
    const char *root = getenv("MS_ROOT");
    char pat[4200];
    snprintf(pat, sizeof pat, "%s/tests/golden/*.memscope", root && *root ? root : ".");
    glob_t gl;
    size_t n = 0;
    if (glob(pat, 0, NULL, &gl) == 0) {
        for (size_t i = 0; i < gl.gl_pathc; i++) {
            const char *base = strrchr(gl.gl_pathv[i], '/');
            base = base ? base + 1 : gl.gl_pathv[i];
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(strlen(base) - strlen(".memscope")), base);
            check_golden(gl.gl_pathv[i], name);
            n++;
        }
        globfree(&gl);
    }
    CHECK("robust: goldens found", n >= 2);
    return ms_test_failures != 0;
}
