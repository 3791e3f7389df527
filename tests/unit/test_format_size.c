/*
 * test_format_size.c — measures the size and read speed of the .memscope
 * EVENTS encoding on a synthetic but realistic heap workload, for the
 * "Measured size" section of spec/FORMAT.md.
 *
 * Workload: 1 M malloc/free pairs (2 M events) of one thread; sizes from a
 * glibc-like mix (mostly small, a tail of large blocks), 4 hot stacks plus
 * a long tail of 200 colder ones, time deltas of 30-100 ticks with jitter,
 * and addresses handed out like glibc does (per-size-class LIFO reuse of
 * freed blocks, new blocks carved from the top of the heap, 16-aligned).
 * It prints bytes/event after compression, the reader's event rate, and a
 * side experiment: the stack column coded as deltas versus plain ids.
 * Only sanity is asserted (the file reads back); the numbers are printed.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>
#include "memscope.h"
#include "mstest.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t pick_size(void)
{
    unsigned r = (unsigned)(rnd() % 100);
    if (r < 55) return 8 + rnd() % 57;          /* 8..64       */
    if (r < 80) return 65 + rnd() % 448;        /* ..512       */
    if (r < 95) return 513 + rnd() % 3584;      /* ..4096      */
    return 4097 + rnd() % 61440;                /* ..64 KiB    */
}

#define NCLASS 64
#define MAXLIVE 4096

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t uv(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (unsigned char)(v | 0x80); v >>= 7; }
    p[n++] = (unsigned char)v;
    return n;
}
static uint64_t zz(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

int main(void)
{
    const size_t pairs = 1000000, n = 2 * pairs;
    ms_event *ev = calloc(n, sizeof *ev);
    /* glibc-like address reuse */
    static uint64_t freelist[NCLASS][256];
    static int nfree[NCLASS];
    static struct { uint64_t addr, size; } live[MAXLIVE];
    int nlive = 0;
    uint64_t top = 0x5555555a0000ull, t = 1000;
    size_t k = 0;
    for (size_t i = 0; i < pairs; i++) {
        uint64_t size = pick_size();
        unsigned cls = (unsigned)((size + 15) / 16);
        if (cls >= NCLASS) cls = NCLASS - 1;
        uint64_t addr;
        if (nfree[cls] > 0) addr = freelist[cls][--nfree[cls]];
        else { addr = top + 16; top += ((size + 16 + 15) & ~15ull); }
        unsigned r = (unsigned)(rnd() % 100);
        uint64_t stack = r < 90 ? 1 + r % 4 : 5 + rnd() % 200;
        t += 30 + rnd() % 71;
        ev[k++] = (ms_event){ t, 0, addr, size, 0, stack, 0, MS_OP_MALLOC };
        if (nlive < MAXLIVE) { live[nlive].addr = addr; live[nlive].size = size; nlive++; }
        /* free: usually the most recent block, sometimes an older one */
        int victim = (rnd() % 4) ? nlive - 1 : (int)(rnd() % (uint64_t)nlive);
        uint64_t fa = live[victim].addr, fs = live[victim].size;
        live[victim] = live[--nlive];
        unsigned fc = (unsigned)((fs + 15) / 16);
        if (fc >= NCLASS) fc = NCLASS - 1;
        if (nfree[fc] < 256) freelist[fc][nfree[fc]++] = fa;
        t += 30 + rnd() % 71;
        ev[k++] = (ms_event){ t, 0, fa, 0, 0, 0, 0, MS_OP_FREE };
    }

    char path[256];
    snprintf(path, sizeof path, "%s/ms_size.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int tfd = mkstemp(path);
    unlink(path);
    ms_writer_opts o;
    memset(&o, 0, sizeof o);
    o.kind = MS_KIND_HEAP;
    ms_writer *w;
    int rc = ms_writer_fdopen(&w, tfd, 0, &o);
    double t0 = now();
    for (size_t i = 0; i < n && rc == 0; i += 10000)
        rc = ms_writer_events(w, 1234, ev + i, n - i < 10000 ? n - i : 10000);
    /* batches of 10000 as a recorder would flush per-thread buffers */
    double t1 = now();
    uint64_t bytes = ms_writer_offset(w);
    ms_writer_close(w);
    CHECK_EQ_U64("size: write", 0, (uint64_t)(int64_t)rc);
    printf("size: %zu events, %llu bytes, %.3f bytes/event (zstd level 3, batches of 10000)\n", n,
           (unsigned long long)bytes, (double)bytes / (double)n);
    printf("size: writer %.1f M events/s\n", n / (t1 - t0) / 1e6);

    /* same with one 2 M batch (chunks of 65536) */
    {
        char p2[256];
        snprintf(p2, sizeof p2, "%s/ms_size2.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        int fd2 = mkstemp(p2);
        unlink(p2);
        ms_writer *w2;
        ms_writer_fdopen(&w2, fd2, 1, &o);
        ms_writer_events(w2, 1234, ev, n);
        printf("size: %.3f bytes/event with full 65536-event chunks\n", (double)ms_writer_offset(w2) / (double)n);
        ms_writer_close(w2);
    }

    /* read back from memory and time it */
    unsigned char *buf = malloc(bytes);
    size_t got = 0;
    while (got < bytes) {
        ssize_t m = pread(tfd, buf + got, bytes - got, (off_t)got);
        if (m <= 0) break;
        got += (size_t)m;
    }
    close(tfd);
    double best = 0;
    int ok = 1;
    for (int rep = 0; rep < 3; rep++) {
        ms_reader *r;
        if (ms_reader_open_mem(&r, buf, got)) { ok = 0; break; }
        const ms_record *rec;
        size_t cnt = 0;
        uint64_t sum = 0;
        double a = now();
        while (ms_reader_next(r, &rec) == 1) { sum += rec->u.event.addr; cnt++; }
        double b = now();
        if (cnt != n) ok = 0;
        if (rep == 0) {
            /* verify content once */
            ms_reader_close(r);
            ms_reader_open_mem(&r, buf, got);
            size_t j = 0;
            while (ms_reader_next(r, &rec) == 1 && j < n) {
                const ms_event *e = &rec->u.event;
                if (e->time != ev[j].time || e->addr != ev[j].addr || e->size != ev[j].size ||
                    e->stack != ev[j].stack || e->op != ev[j].op) ok = 0;
                j++;
            }
        }
        ms_reader_close(r);
        double rate = cnt / (b - a);
        if (rate > best) best = rate;
        (void)sum;
    }
    CHECK("size: read back equal", ok);
    printf("size: reader %.1f M events/s (from memory, best of 3)\n", best / 1e6);

    /* side experiment: stack column as zigzag deltas vs plain varints,
     * each compressed per 65536 events at level 3 */
    {
        size_t cap = 65536 * 10, zcap = ZSTD_compressBound(cap);
        unsigned char *d = malloc(cap), *p = malloc(cap), *z = malloc(zcap);
        size_t zd = 0, zp = 0;
        for (size_t base = 0; base < n; base += 65536) {
            size_t m = n - base < 65536 ? n - base : 65536, ld = 0, lp = 0;
            uint64_t prev = 0;
            for (size_t i = base; i < base + m; i++) {
                if (ev[i].op == MS_OP_FREE) continue;
                ld += uv(d + ld, zz((int64_t)(ev[i].stack - prev)));
                prev = ev[i].stack;
                lp += uv(p + lp, ev[i].stack);
            }
            zd += ZSTD_compress(z, zcap, d, ld, 3);
            zp += ZSTD_compress(z, zcap, p, lp, 3);
        }
        printf("size: stack column compressed: delta %zu bytes, plain %zu bytes\n", zd, zp);
        free(d); free(p); free(z);
    }
    free(buf);
    free(ev);
    return ms_test_failures != 0;
}
