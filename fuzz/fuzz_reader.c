/*
 * fuzz_reader.c — libFuzzer target for the .memscope reader.
 *
 * The reader's contract is that any byte string, however damaged, is read
 * without a crash, an out-of-bounds access or a hang: it opens the buffer
 * with ms_reader_open_mem, reads every record and touches every field of it
 * (the canonical dumper of tests/golden/msdump.h prints them all to
 * /dev/null, walking every array and every string byte), checks the promises
 * of memscope.h (strings NUL-terminated, verdict one of OK/ETRUNC/ECORRUPT,
 * chunk info consistent) and aborts when one is broken. Built with
 * -fsanitize=fuzzer by fuzz/build.sh, and as a plain object replayed over
 * fuzz/corpus/reader by build/bin/fuzz-replay in `make test`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w")))
        abort();
    ms_reader *r = NULL;
    int rc = ms_reader_open_mem(&r, data, size);
    if (rc != MS_OK) {
        if (r || rc >= 0 || !ms_reader_open_error() || !ms_strerror(rc))
            abort();
        return 0;
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
    return 0;
}
