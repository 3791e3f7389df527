/*
 * Decode-only driver for bench/convert.sh: reads a .memscope file through
 * the public reader (ms_reader_next, every record, events delivered) and
 * does nothing with the records but count them and fold each event's
 * fields into a checksum (so the decoding cannot be optimized away). Its
 * rate is the limit of a converter that reads on one thread: msconv
 * cannot deliver events faster than the reader decodes them.
 * Usage: decode FILE  (prints "EVENTS n RECORDS m SUM x").
 */
#include "memscope.h"
#include <inttypes.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: decode FILE\n"); return 2; }
    ms_reader *r;
    int e = ms_reader_open(&r, argv[1]);
    if (e) { fprintf(stderr, "decode: %s: %s\n", argv[1], ms_strerror(e)); return 1; }
    const ms_record *rec;
    uint64_t nev = 0, nrec = 0, sum = 0;
    while ((e = ms_reader_next(r, &rec)) == 1) {
        nrec++;
        if (rec->type == MS_REC_EVENT) {
            const ms_event *ev = &rec->u.event;
            nev++;
            sum += ev->time ^ ev->addr ^ ev->size ^ ev->stack ^ ev->tid ^ ev->op;
        }
    }
    ms_reader_close(r);
    if (e < 0) { fprintf(stderr, "decode: %s: %s\n", argv[1], ms_strerror(e)); return 1; }
    printf("EVENTS %" PRIu64 " RECORDS %" PRIu64 " SUM %" PRIx64 "\n", nev, nrec, sum);
    return 0;
}
