/*
 * fuzz_reader.c — libFuzzer target for the .memscope reader.
 *
 * The reader's contract is that any byte string, however damaged, is read
 * without a crash, an out-of-bounds access or a hang: it opens the buffer
 * with ms_reader_open_mem, reads every record and touches every field of it
 * (the canonical dumper of tests/golden/msdump.h prints them all to
 * /dev/null, walking every array and every string byte), checks the promises
 * of memscope.h (strings NUL-terminated, verdict one of OK/ETRUNC/ECORRUPT,
 * chunk info consistent) and aborts when one is broken.
 *
 * Random mutations almost never keep the XXH3 checksums right, so on their
 * own they would only ever test the checksum rejection. Each input is
 * therefore read twice: as it is, and after a "fix-up" that walks it as
 * spec/FORMAT.md lays it out and rewrites the file header check, and for
 * every envelope found the payload check, the header check, raw_len of raw
 * chunks and the record_count of raw RECORDS/EVENTS payloads. The second
 * read takes mutated payloads through the record and column decoders.
 * Both variants are also read through the streaming file path
 * (ms_reader_open on a memfd), whose dump must equal the memory reader's.
 *
 * Built with
 * -fsanitize=fuzzer by fuzz/build.sh, and as a plain object replayed over
 * fuzz/corpus/reader by build/bin/fuzz-replay in `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xxhash.h>

#include "memscope.h"

static void check_str(ms_str s)
{
    if (s.len && !s.ptr)
        abort();
    if (s.ptr && s.ptr[s.len] != 0)
        abort();               /* reader strings are NUL-terminated */
}
#define MSD_STR_HOOK(s) check_str(s)
#include "../tests/golden/msdump.h"

static void on_problem(void *ctx, int err, uint64_t off, const char *msg)
{
    (void)off;
    if (!msg || (err != MS_OK && err != MS_ETRUNC && err != MS_ECORRUPT))
        abort();
    (*(unsigned *)ctx)++;
}

static uint32_t check32(const uint8_t *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned i = 0; i < 10 && *p < end; i++) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b < 0x80)
            return 0;
    }
    return -1;
}

/* Rewrites checksums and counts of buf in place (see the top). */
static void fixup(uint8_t *b, size_t n)
{
    if (n < 24 || memcmp(b, "\x89MSC\r\n\x1a\n", 8) != 0)
        return;
    put32(b + 20, check32(b, 20));
    size_t off = (size_t)(b[18] | b[19] << 8);
    if (off < 24)
        off = 24;
    while (off + 48 <= n) {
        uint8_t *e = b + off;
        if (memcmp(e, "MSCK", 4) != 0) {
            off++;
            continue;
        }
        size_t hlen = (size_t)(e[6] | e[7] << 8);
        uint32_t stored = get32(e + 20);
        if (hlen < 48 || stored > n - off - 48 || hlen > n - off - stored) {
            put32(e + 44, check32(e, 44));
            off++;
            continue;
        }
        const uint8_t *p = e + hlen, *end = p + stored;
        if (!(e[5] & 1)) {
            put32(e + 16, stored);
            uint64_t cnt = 0, t, l;
            if (e[4] == MS_CHUNK_RECORDS) {
                while (p < end && varint(&p, end, &t) == 0 && varint(&p, end, &l) == 0 &&
                       l <= (uint64_t)(end - p)) {
                    p += l;
                    cnt++;
                }
                put32(e + 12, (uint32_t)cnt);
            } else if (e[4] == MS_CHUNK_EVENTS && varint(&p, end, &t) == 0 &&
                       varint(&p, end, &cnt) == 0) {
                put32(e + 12, (uint32_t)cnt);
            }
        }
        put32(e + 40, check32(e + hlen, stored));
        put32(e + 44, check32(e, 44));
        off += hlen + stored;
    }
}

/* Reads data from memory (path NULL) or from path; returns the canonical
 * dump (malloc'd) after checking the API's promises. */
static char *read_all(const uint8_t *data, size_t size, const char *path)
{
    char *text = NULL;
    size_t tlen = 0;
    FILE *sink = open_memstream(&text, &tlen);
    if (!sink)
        abort();
    ms_reader *r = NULL;
    int rc = path ? ms_reader_open(&r, path) : ms_reader_open_mem(&r, data, size);
    if (rc != MS_OK) {
        if (r || rc >= 0 || !ms_reader_open_error() || !ms_strerror(rc))
            abort();
        fprintf(sink, "open failed: %d\n", rc);
        fclose(sink);
        return text;
    }
    unsigned problems = 0;
    ms_reader_on_problem(r, on_problem, &problems);
    const ms_header_info *h = ms_reader_header(r);
    if (!h)
        abort();
    msd_header(sink, h);
    const ms_record *rec;
    uint64_t n = 0;
    while ((rc = ms_reader_next(r, &rec)) == 1) {
        ms_chunk_info ci;
        ms_reader_chunk(r, &ci);
        if (ci.offset >= size || rec->chunk_offset != ci.offset || rec->chunk_seq != ci.seq)
            abort();
        msd_chunk(sink, &ci);
        msd_record(sink, rec);
        n++;
    }
    ms_integrity g;
    ms_reader_integrity(r, &g);
    msd_integrity(sink, &g);
    if (rc < 0 && !ms_strerror(rc))
        abort();
    fprintf(sink, "%llu records\n", (unsigned long long)n);
    if (g.verdict != MS_OK && g.verdict != MS_ETRUNC && g.verdict != MS_ECORRUPT)
        abort();
    if (g.verdict == MS_OK && (g.chunks_bad || problems > g.chunks_skipped))
        abort();
    if (g.verdict != MS_OK && problems == 0)
        abort();               /* every problem is reported */
    if (g.file_size != size)
        abort();
    ms_reader_close(r);
    fclose(sink);
    return text;
}

/* Mem and file readers of data must agree. */
static void read_both(const uint8_t *data, size_t size)
{
    char *a = read_all(data, size, NULL);
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0) {
        free(a);
        return;
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *b = read_all(data, size, path);
    close(fd);
    if (strcmp(a, b) != 0) {
        fprintf(stderr, "memory and file readers differ:\n--- memory\n%s--- file\n%s", a, b);
        abort();
    }
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_both(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    fixup(copy, size);
    if (memcmp(copy, data, size) != 0)
        read_both(copy, size);
    free(copy);
    return 0;
}
