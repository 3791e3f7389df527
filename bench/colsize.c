/*
 * colsize.c — where the bytes of a .memscope file go (bench/tracesize.sh).
 *
 * Walks the chunks of a heap trace as spec/FORMAT.md §4 lays them out (no
 * validation beyond what it needs: a damaged file gives wrong numbers, not
 * a crash) and prints, per EVENTS column and per record type of RECORDS
 * chunks, the raw bytes and the bytes the same data takes when each piece
 * is compressed on its own with zstd at the writer's level (1): the stored
 * chunks compress columns in one frame with a block per column (§7.4), so
 * the per-column figures add up to about the stored size, not exactly.
 * Usage: colsize FILE [zstd-level]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

enum { NCOL = 7, NREC = 64 };
static const char *colname[NCOL] = {"ops", "time", "addr", "size", "stack", "align", "old"};
static uint64_t col_raw[NCOL], col_z[NCOL], rec_raw[NREC], rec_z[NREC], rec_n[NREC];
static uint64_t ev_stored, rec_stored, env_bytes, n_events, n_chunks;
static int level = 1;

static uint64_t zsize(const void *p, size_t n)
{
    if (!n) return 0;
    size_t cap = ZSTD_compressBound(n);
    void *out = malloc(cap);
    if (!out) return n;
    size_t r = ZSTD_compress(out, cap, p, n, level);
    free(out);
    return ZSTD_isError(r) || r > n ? n : r;
}

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int s = 0; s < 70 && *p < end; s += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) { *v = x; return 0; }
    }
    return -1;
}

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void events(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    uint64_t v;
    for (int i = 0; i < 4; i++) if (varint(&p, end, &v)) return;
    for (int c = 0; c < NCOL && p < end; c++) {
        uint64_t len;
        if (varint(&p, end, &len) || len > (uint64_t)(end - p)) return;
        col_raw[c] += len;
        col_z[c] += zsize(p, len);
        p += len;
    }
}

static void records(const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    /* per type: concatenate this chunk's bodies, compress them together */
    static uint8_t *buf[NREC];
    static size_t len[NREC], cap[NREC];
    memset(len, 0, sizeof len);
    while (p < end) {
        uint64_t t, bl;
        const uint8_t *r0 = p;
        if (varint(&p, end, &t) || varint(&p, end, &bl) || bl > (uint64_t)(end - p)) break;
        p += bl;
        unsigned k = t < NREC ? (unsigned)t : NREC - 1;
        size_t sz = (size_t)(p - r0);
        if (len[k] + sz > cap[k]) {
            cap[k] = (len[k] + sz) * 2;
            buf[k] = realloc(buf[k], cap[k]);
            if (!buf[k]) exit(1);
        }
        memcpy(buf[k] + len[k], r0, sz);
        len[k] += sz;
        rec_n[k]++;
    }
    for (int k = 0; k < NREC; k++) if (len[k]) { rec_raw[k] += len[k]; rec_z[k] += zsize(buf[k], len[k]); }
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: colsize FILE [level]\n"); return 2; }
    if (argc > 2) level = atoi(argv[2]);
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    uint8_t hdr[24], env[48];
    if (fread(hdr, 1, 24, f) != 24) return 1;
    uint64_t fsize = 24;
    while (fread(env, 1, 48, f) == 48) {
        uint32_t stored = le32(env + 20), raw = le32(env + 16), cnt = le32(env + 12);
        uint8_t type = env[4], flags = env[5];
        uint16_t hl = (uint16_t)(env[6] | env[7] << 8);
        if (hl > 48 && fseek(f, hl - 48, SEEK_CUR)) break;
        uint8_t *s = malloc(stored ? stored : 1), *r = malloc(raw ? raw : 1);
        if (!s || !r || fread(s, 1, stored, f) != stored) break;
        if (flags & 1) {
            if (ZSTD_isError(ZSTD_decompress(r, raw, s, stored))) { free(s); free(r); break; }
        } else memcpy(r, s, stored);
        env_bytes += hl;
        n_chunks++;
        fsize += hl + stored;
        if (type == 2) { ev_stored += stored; n_events += cnt; events(r, raw); }
        else { rec_stored += stored; records(r, raw); }
        free(s); free(r);
    }
    fclose(f);
    double ev = n_events ? (double)n_events : 1;
    printf("file %llu bytes, %llu chunks (envelopes %llu B), %llu events (%.3f B/event)\n",
           (unsigned long long)fsize, (unsigned long long)n_chunks, (unsigned long long)env_bytes,
           (unsigned long long)n_events, fsize / ev);
    printf("EVENTS chunks stored %llu B (%.3f B/event); per column, raw / alone-compressed B (B/event):\n",
           (unsigned long long)ev_stored, ev_stored / ev);
    for (int c = 0; c < NCOL; c++)
        printf("  %-6s %10llu %10llu (%.3f)\n", colname[c], (unsigned long long)col_raw[c],
               (unsigned long long)col_z[c], col_z[c] / ev);
    printf("RECORDS chunks stored %llu B; per record type, count raw / alone-compressed B:\n",
           (unsigned long long)rec_stored);
    for (int k = 0; k < NREC; k++)
        if (rec_n[k]) printf("  0x%02x %8llu %10llu %10llu\n", k, (unsigned long long)rec_n[k],
                             (unsigned long long)rec_raw[k], (unsigned long long)rec_z[k]);
    return 0;
}
