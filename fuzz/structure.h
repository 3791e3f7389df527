/*
 * structure.h — a structure-aware libFuzzer mutator for .memscope files,
 * included by the converter targets (fuzz_msconv.c, fuzz_msdiff.c).
 *
 * Byte mutations of a compressed, checksummed file almost never survive
 * the envelope checks, so they only ever test the rejection of damaged
 * chunks. This mutator takes the file apart as spec/FORMAT.md lays it out
 * (header, chunks, records of RECORDS chunks, columns of EVENTS chunks),
 * decompresses every payload, mutates one piece with libFuzzer's own
 * byte mutator or reorders the pieces (records duplicated, dropped, moved
 * between chunks; chunks duplicated, dropped, swapped), and writes the
 * file back valid: payloads stored raw, lengths, record counts and the
 * events count recomputed, chunks renumbered, every checksum rewritten.
 * So most mutated inputs reach the record decoders, the heap replay and
 * every converter behind them. Inputs it cannot parse get plain byte
 * mutations (libFuzzer's), which a later round may turn back into a file.
 */
#ifndef MS_FUZZ_STRUCTURE_H
#define MS_FUZZ_STRUCTURE_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

#define FZ_MAX_CHUNKS 256
#define FZ_MAX_RAW (1u << 20)

typedef struct fz_chunk {
    uint8_t type, flags;
    uint8_t env[48];                  /* original envelope (times kept)    */
    uint8_t *raw;                     /* decompressed payload (malloc'd)   */
    size_t len;
} fz_chunk;

typedef struct fz_file {
    uint8_t head[64];
    size_t hlen;
    fz_chunk c[FZ_MAX_CHUNKS];
    size_t n;
} fz_file;

static uint32_t fz_get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void fz_put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t fz_check(const uint8_t *p, size_t n) { return (uint32_t)XXH3_64bits(p, n); }

static int fz_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned i = 0; i < 10 && *p < end; i++) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b < 0x80) return 0;
    }
    return -1;
}

static size_t fz_put_varint(uint8_t *o, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) { o[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    o[n++] = (uint8_t)v;
    return n;
}

static void fz_free(fz_file *f)
{
    for (size_t i = 0; i < f->n; i++) free(f->c[i].raw);
    f->n = 0;
}

/* 0 when data is a header followed by chunks the mutator can take apart. */
static int fz_parse(fz_file *f, const uint8_t *d, size_t n)
{
    memset(f, 0, sizeof *f);
    if (n < 24 || memcmp(d, "\x89MSC\r\n\x1a\n", 8) != 0) return -1;
    f->hlen = (size_t)(d[18] | d[19] << 8);
    if (f->hlen < 24 || f->hlen > sizeof f->head || f->hlen > n) return -1;
    memcpy(f->head, d, f->hlen);
    size_t off = f->hlen;
    while (off + 48 <= n && f->n < FZ_MAX_CHUNKS) {
        const uint8_t *e = d + off;
        size_t hl = (size_t)(e[6] | e[7] << 8);
        uint32_t raw_len = fz_get32(e + 16), stored = fz_get32(e + 20);
        if (memcmp(e, "MSCK", 4) != 0 || hl < 48 || stored > n - off - 48 || hl > n - off - stored ||
            raw_len > FZ_MAX_RAW)
            break;
        fz_chunk *c = &f->c[f->n];
        c->type = e[4]; c->flags = e[5];
        memcpy(c->env, e, 48);
        const uint8_t *pay = e + hl;
        if (c->flags & 1) {
            c->raw = malloc(raw_len ? raw_len : 1);
            if (!c->raw) break;
            size_t got = ZSTD_decompress(c->raw, raw_len, pay, stored);
            if (ZSTD_isError(got)) { free(c->raw); c->raw = NULL; break; }
            c->len = got;
        } else {
            c->raw = malloc(stored ? stored : 1);
            if (!c->raw) break;
            memcpy(c->raw, pay, stored);
            c->len = stored;
        }
        c->flags &= (uint8_t)~1;
        f->n++;
        off += hl + stored;
    }
    if (!f->n) return -1;
    return 0;
}

/* Records of a RECORDS payload: offsets of each record's start. */
static size_t fz_records(const uint8_t *p, size_t n, size_t *start, size_t max)
{
    const uint8_t *q = p, *end = p + n;
    size_t k = 0;
    while (q < end && k < max) {
        const uint8_t *s = q;
        uint64_t t, l;
        if (fz_varint(&q, end, &t) || fz_varint(&q, end, &l) || l > (uint64_t)(end - q)) break;
        start[k++] = (size_t)(s - p);
        q += l;
    }
    start[k] = (size_t)(q - p);
    return k;
}

static int fz_replace(fz_chunk *c, size_t at, size_t cut, const uint8_t *ins, size_t nins)
{
    size_t nl = c->len - cut + nins;
    uint8_t *b = malloc(nl ? nl : 1);
    if (!b) return -1;
    memcpy(b, c->raw, at);
    if (nins) memcpy(b + at, ins, nins);
    memcpy(b + at + nins, c->raw + at + cut, c->len - at - cut);
    free(c->raw);
    c->raw = b;
    c->len = nl;
    return 0;
}

/* Mutate body [off, off + len) of chunk c in place (libFuzzer's mutator),
 * rewriting the varint length at lenpos when lenpos != SIZE_MAX. */
static void fz_mutate_piece(fz_chunk *c, size_t lenpos, size_t off, size_t len)
{
    size_t cap = len * 2 + 64;
    uint8_t *b = malloc(cap);
    if (!b) return;
    memcpy(b, c->raw + off, len);
    size_t nl = LLVMFuzzerMutate(b, len, cap);
    if (lenpos == SIZE_MAX) { fz_replace(c, off, len, b, nl); free(b); return; }
    uint8_t hdr[10];
    size_t hn = fz_put_varint(hdr, nl);
    size_t oldh = off - lenpos;
    uint8_t *all = malloc(hn + nl);
    if (all) {
        memcpy(all, hdr, hn);
        memcpy(all + hn, b, nl);
        fz_replace(c, lenpos, oldh + len, all, hn + nl);
        free(all);
    }
    free(b);
}

static void fz_mutate_records(fz_chunk *c, unsigned r)
{
    size_t st[1025];
    size_t k = fz_records(c->raw, c->len, st, 1024);
    if (!k) { fz_mutate_piece(c, SIZE_MAX, 0, c->len); return; }
    size_t i = r % k;
    const uint8_t *q = c->raw + st[i], *end = c->raw + c->len;
    uint64_t t, l;
    fz_varint(&q, end, &t);
    size_t lenpos = (size_t)(q - c->raw);
    fz_varint(&q, end, &l);
    size_t body = (size_t)(q - c->raw);
    switch ((r >> 8) % 5) {
    case 0: case 1: fz_mutate_piece(c, lenpos, body, (size_t)l); break;    /* a record's body */
    case 2: {                                                              /* duplicate it */
        size_t rl = st[i + 1] - st[i];
        uint8_t *cp = malloc(rl ? rl : 1);
        if (cp) { memcpy(cp, c->raw + st[i], rl); fz_replace(c, st[(r >> 12) % (k + 1)], 0, cp, rl); free(cp); }
        break;
    }
    case 3: fz_replace(c, st[i], st[i + 1] - st[i], NULL, 0); break;        /* drop it */
    default: {                                                             /* another type */
        uint8_t ty[10];
        size_t tn = fz_put_varint(ty, (r >> 12) % 0x24 + 1);
        fz_replace(c, st[i], lenpos - st[i], ty, tn);
        break;
    }
    }
}

/* One column (or the four header varints) of an EVENTS payload. */
static void fz_mutate_events(fz_chunk *c, unsigned r)
{
    const uint8_t *q = c->raw, *end = c->raw + c->len;
    uint64_t v;
    for (int i = 0; i < 4; i++) if (fz_varint(&q, end, &v)) { fz_mutate_piece(c, SIZE_MAX, 0, c->len); return; }
    size_t pos[8], lp[8], ln[8];
    int ncol = 0;
    while (ncol < 7 && q < end) {
        lp[ncol] = (size_t)(q - c->raw);
        if (fz_varint(&q, end, &v) || v > (uint64_t)(end - q)) break;
        pos[ncol] = (size_t)(q - c->raw);
        ln[ncol] = (size_t)v;
        q += v;
        ncol++;
    }
    int col = (int)(r % 8);
    if (col >= ncol) fz_mutate_piece(c, SIZE_MAX, 0, c->len);     /* header varints too */
    else fz_mutate_piece(c, lp[col], pos[col], ln[col]);
}

/* Write f back as a valid file into out (cap bytes); returns its size or 0. */
static size_t fz_write(fz_file *f, uint8_t *out, size_t cap)
{
    if (f->hlen > cap) return 0;
    memcpy(out, f->head, f->hlen);
    fz_put32(out + 20, fz_check(out, 20));
    size_t off = f->hlen;
    for (size_t i = 0; i < f->n; i++) {
        fz_chunk *c = &f->c[i];
        if (off + 48 + c->len > cap) return 0;
        uint8_t *e = out + off;
        memcpy(e, c->env, 48);
        e[5] = c->flags;
        e[6] = 48; e[7] = 0;
        fz_put32(e + 8, (uint32_t)i);
        uint32_t cnt = 0;
        if (c->type == 0x01) {
            const uint8_t *q = c->raw, *end = c->raw + c->len;
            uint64_t t, l;
            while (q < end && fz_varint(&q, end, &t) == 0 && fz_varint(&q, end, &l) == 0 && l <= (uint64_t)(end - q)) {
                q += l;
                cnt++;
            }
        } else if (c->type == 0x02) {
            const uint8_t *q = c->raw, *end = c->raw + c->len;
            uint64_t t, n;
            if (fz_varint(&q, end, &t) == 0 && fz_varint(&q, end, &n) == 0) cnt = (uint32_t)n;
        } else {
            cnt = fz_get32(c->env + 12);
        }
        fz_put32(e + 12, cnt);
        fz_put32(e + 16, (uint32_t)c->len);
        fz_put32(e + 20, (uint32_t)c->len);
        if (c->len) memcpy(e + 48, c->raw, c->len);
        fz_put32(e + 40, fz_check(e + 48, c->len));
        fz_put32(e + 44, fz_check(e, 44));
        off += 48 + c->len;
    }
    return off;
}

static size_t fz_mutate(uint8_t *data, size_t size, size_t max, unsigned seed)
{
    fz_file *f = malloc(sizeof *f);
    if (!f) return LLVMFuzzerMutate(data, size, max);
    if (fz_parse(f, data, size)) { free(f); return LLVMFuzzerMutate(data, size, max); }
    unsigned r = seed * 2654435761u;
    size_t i = (r >> 4) % f->n, j = (r >> 12) % f->n;
    switch (r % 12) {
    case 0: case 1: case 2: case 3: case 4: case 5:
        if (f->c[i].type == 0x01) fz_mutate_records(&f->c[i], r >> 8);
        else if (f->c[i].type == 0x02) fz_mutate_events(&f->c[i], r >> 8);
        else fz_mutate_piece(&f->c[i], SIZE_MAX, 0, f->c[i].len);
        break;
    case 6:                                                   /* duplicate a chunk */
        if (f->n < FZ_MAX_CHUNKS) {
            uint8_t *cp = malloc(f->c[i].len ? f->c[i].len : 1);
            if (cp) {
                memcpy(cp, f->c[i].raw, f->c[i].len);
                memmove(&f->c[j + 1], &f->c[j], (f->n - j) * sizeof f->c[0]);
                f->c[j] = f->c[i < j ? i : i + 1];
                f->c[j].raw = cp;
                f->n++;
            }
        }
        break;
    case 7:                                                   /* drop a chunk */
        if (f->n > 1) {
            free(f->c[i].raw);
            memmove(&f->c[i], &f->c[i + 1], (f->n - i - 1) * sizeof f->c[0]);
            f->n--;
        }
        break;
    case 8: { fz_chunk t = f->c[i]; f->c[i] = f->c[j]; f->c[j] = t; break; }   /* swap */
    case 9:                                                   /* move a record */
        if (f->c[i].type == 0x01 && f->c[j].type == 0x01 && i != j) {
            size_t st[1025], sj[1025];
            size_t k = fz_records(f->c[i].raw, f->c[i].len, st, 1024);
            size_t kj = fz_records(f->c[j].raw, f->c[j].len, sj, 1024);
            if (k) {
                size_t a = (r >> 16) % k, rl = st[a + 1] - st[a];
                uint8_t *cp = malloc(rl ? rl : 1);
                if (cp) {
                    memcpy(cp, f->c[i].raw + st[a], rl);
                    fz_replace(&f->c[j], sj[(r >> 20) % (kj + 1)], 0, cp, rl);
                    fz_replace(&f->c[i], st[a], rl, NULL, 0);
                    free(cp);
                }
            }
        }
        break;
    default:                                                  /* bytes of the payload */
        fz_mutate_piece(&f->c[i], SIZE_MAX, 0, f->c[i].len);
        break;
    }
    uint8_t *out = malloc(max);
    size_t n = out ? fz_write(f, out, max) : 0;
    fz_free(f);
    free(f);
    if (!n) { free(out); return LLVMFuzzerMutate(data, size, max); }
    memcpy(data, out, n);
    free(out);
    return n;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    return fz_mutate(data, size, max_size, seed);
}
#endif
