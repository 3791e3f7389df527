/*
 * format_internal.h — shared internals of the .memscope format library
 * (writer.c, reader.c, records.c, names.c). Not installed, not public.
 *
 * It holds the byte-level constants of spec/FORMAT.md, the little-endian
 * and LEB128 helpers, the EVENTS block model (spec 7.5) that writer and
 * reader must run identically, a growable byte buffer that allocates only through
 * caller-supplied hooks (the writer runs inside the heap recorder), and
 * the record encoder/decoder shared by writer and reader so the field
 * order of every record lives in exactly one place (records.c).
 */
#ifndef MS_FORMAT_INTERNAL_H
#define MS_FORMAT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "memscope.h"

/* ---- constants of spec/FORMAT.md ---------------------------------------- */
#define MSF_MAGIC           "\x89MSC\r\n\x1a\n"
#define MSF_MAGIC_LEN       8
#define MSF_FILE_HDR_LEN    24
#define MSF_HDR_FLAGS_MUST  0x0000FFFFu   /* must-understand header flags   */
#define MSF_HDR_FLAGS_KNOWN 0x00000000u   /* must-understand bits known     */

#define MSF_SYNC            0x4B43534Du   /* 'M','S','C','K' little-endian  */
#define MSF_ENV_LEN         48
#define MSF_CHUNK_MAX       (64u << 20)   /* raw_len / stored_len limit     */
#define MSF_CF_ZSTD         0x01u
#define MSF_CF_MUST         0x0Eu         /* bits 1-3: must-understand      */
#define MSF_CF_MODEL        0x02u         /* EVENTS: addr column uses the
                                             block model (spec 7.5, v1.1)   */
#define MSF_CHUNK_OPTIONAL  0x80u         /* types >= 0x80 may be skipped   */

#define MSF_REC_OPTIONAL    0x40u         /* record types >= 0x40 optional  */
#define MSF_EVENTS_MAX      65536u        /* events per EVENTS chunk (writer) */
#define MSF_SHIFT_MAX       12u           /* reader limit for the shift     */
#define MSF_SHIFT_WRITE_MAX 4u            /* writer picks shift <= 4        */
#define MSF_DEFAULT_CHUNK   (256u << 10)
#define MSF_DEFAULT_LEVEL   3
#define MSF_NCOLS           7
#define MSF_MODEL_K         8u            /* recent blocks (spec 7.5)       */
#define MSF_MODEL_CLASSES   64u           /* size classes (spec 7.5)        */

/* ---- little-endian ------------------------------------------------------ */
static inline void msf_put16(unsigned char *p, uint16_t v)
{ p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static inline void msf_put32(unsigned char *p, uint32_t v)
{ for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static inline void msf_put64(unsigned char *p, uint64_t v)
{ for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static inline uint16_t msf_get16(const unsigned char *p)
{ return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t msf_get32(const unsigned char *p)
{ return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
static inline uint64_t msf_get64(const unsigned char *p)
{ return (uint64_t)msf_get32(p) | ((uint64_t)msf_get32(p + 4) << 32); }

/* Low 32 bits of XXH3_64bits (the checksum of spec/FORMAT.md). */
uint32_t msf_check32(const void *p, size_t n);

/* ---- zigzag / LEB128 ---------------------------------------------------- */
static inline uint64_t msf_zz(int64_t v)
{ return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t msf_unzz(uint64_t u)
{ return (int64_t)((u >> 1) ^ (~(u & 1) + 1)); }

/* Encode v at p (room for 10 bytes); returns the number of bytes. */
static inline size_t msf_put_uv(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (unsigned char)(v | 0x80); v >>= 7; }
    p[n++] = (unsigned char)v;
    return n;
}

/* Checked decode from [*pp, end). Returns 0 and advances *pp, or -1 when
 * the varint runs past end, is longer than 10 bytes or overflows 64 bits. */
static inline int msf_get_uv(const unsigned char **pp, const unsigned char *end, uint64_t *out)
{
    const unsigned char *p = *pp;
    if (p < end && p[0] < 0x80) { *out = p[0]; *pp = p + 1; return 0; }
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (p >= end) return -1;
        unsigned b = *p++;
        if (i == 9 && b > 1) return -1;       /* overflow or 11th byte */
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (b < 0x80) { *out = v; *pp = p; return 0; }
    }
    return -1;
}

/* ---- EVENTS block model (spec/FORMAT.md 7.5) ---------------------------
 * Shared by the writer (encoding) and the reader (decoding); both run the
 * same state machine over the chunk's events. Addresses are in shifted
 * units. The list: the MSF_MODEL_K most recent blocks allocated in the
 * chunk and not yet freed by index (address, size), most recent first, 0 =
 * empty; kept in a circular buffer of 2K entries whose entries outside the
 * K-entry window are always 0, so push and take-at-0 cost O(1).
 * f[class]: the last block freed by index, per size class, 0 = none;
 * p: the previous event's address. */
typedef struct msf_model {
    uint64_t la[2 * MSF_MODEL_K], ls[2 * MSF_MODEL_K];
    uint64_t f[MSF_MODEL_CLASSES];
    uint64_t p;
    unsigned h;                   /* physical index of list entry 0       */
} msf_model;
#define MSF_MODEL_AT(m, j) (((m)->h + (j)) & (2 * MSF_MODEL_K - 1))

static inline unsigned msf_size_class(uint64_t s)
{
    return (unsigned)(((s < 1000 ? s : 1000) + 23) >> 4);
}

/* Index of address a in the list, or MSF_MODEL_K. */
static inline unsigned msf_model_find(const msf_model *m, uint64_t a)
{
    unsigned j = 0;
    while (j < MSF_MODEL_K && m->la[MSF_MODEL_AT(m, j)] != a) j++;
    return j;
}

/* A free coded by index i < MSF_MODEL_K: its address; the entry leaves the
 * list (the ones after it move up, an empty entry enters at the end) and,
 * when not empty, becomes the prediction of its size class. */
static inline uint64_t msf_model_take(msf_model *m, unsigned i)
{
    unsigned x = MSF_MODEL_AT(m, i);
    uint64_t a = m->la[x], s = m->ls[x];
    for (unsigned j = i; j > 0; j--) {          /* entries before i move back */
        unsigned d = MSF_MODEL_AT(m, j), q = MSF_MODEL_AT(m, j - 1);
        m->la[d] = m->la[q];
        m->ls[d] = m->ls[q];
    }
    m->la[m->h] = 0;
    m->h = (m->h + 1) & (2 * MSF_MODEL_K - 1);
    if (a) m->f[msf_size_class(s)] = a;
    return a;
}

/* An allocation of size s: the base its address delta is taken from. */
static inline uint64_t msf_model_base(msf_model *m, uint64_t s)
{
    unsigned c = msf_size_class(s);
    uint64_t b = m->f[c] ? m->f[c] : m->p;
    m->f[c] = 0;
    return b;
}

/* An allocation returned address a (size s): enters the list in front (the
 * last entry drops out). */
static inline void msf_model_push(msf_model *m, uint64_t a, uint64_t s)
{
    if (!a) return;
    m->h = (m->h - 1) & (2 * MSF_MODEL_K - 1);
    m->la[m->h] = a;
    m->ls[m->h] = s;
    m->la[MSF_MODEL_AT(m, MSF_MODEL_K)] = 0;
}

/* ---- growable buffer with allocator hooks -------------------------------- */
typedef struct msf_buf {
    unsigned char *p;
    size_t len, cap;
    void *(*alloc_fn)(size_t);
    void (*free_fn)(void *);
    int err;                      /* sticky MS_ENOMEM / MS_ELIMIT           */
} msf_buf;

int msf_buf_reserve(msf_buf *b, size_t extra);   /* 0 or MS_ENOMEM        */
#define MSF_SMALL_ROOM 1024   /* a writer's record buffers hold this from the start */
void msf_buf_free(msf_buf *b);
static inline void msf_buf_uv(msf_buf *b, uint64_t v)
{
    if (b->cap - b->len < 10 && msf_buf_reserve(b, 10)) return;
    b->len += msf_put_uv(b->p + b->len, v);
}
static inline void msf_buf_zz(msf_buf *b, int64_t v) { msf_buf_uv(b, msf_zz(v)); }
static inline void msf_buf_bytes(msf_buf *b, const void *p, size_t n)
{
    if (n == 0) return;
    if (b->cap - b->len < n && msf_buf_reserve(b, n)) return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}
static inline void msf_buf_byte(msf_buf *b, unsigned char c)
{
    if (b->cap == b->len && msf_buf_reserve(b, 1)) return;
    b->p[b->len++] = c;
}

/* ---- records (records.c) ------------------------------------------------ */

/* 1 if type is a record type this library encodes/decodes in a RECORDS
 * chunk (MS_REC_EVENT is not). */
int msf_rec_known(uint64_t type);

/* Append the body of rec (fields only, no type/length) to b. Returns 0 or
 * MS_EINVAL (bad type, NULL array with a count, NULL string with a length)
 * or the buffer's error. */
int msf_rec_encode(msf_buf *b, const ms_record *rec);

/* Time of a record for the chunk's t_first/t_last; 0 if untimed. */
int msf_rec_time(const ms_record *rec, uint64_t *t);

/* Bump allocator for decoded strings/arrays of one record. Blocks are kept
 * between records; msf_arena_reset makes them reusable. */
typedef struct msf_arena_blk {
    struct msf_arena_blk *next;
    size_t cap, used;
    /* data follows, max_align_t aligned */
} msf_arena_blk;
typedef struct msf_arena {
    msf_arena_blk *head;          /* current block first                    */
    size_t total;                 /* bytes requested since the last reset    */
} msf_arena;
void *msf_arena_alloc(msf_arena *a, size_t n);  /* NULL on ENOMEM         */
void msf_arena_reset(msf_arena *a);
void msf_arena_free(msf_arena *a);

/* Decode the body [p, p+len) of a record of known type into rec->u.
 * Returns 0, MS_ECORRUPT (malformed) or MS_ENOMEM. */
int msf_rec_decode(uint32_t type, const unsigned char *p, size_t len,
                   ms_record *rec, msf_arena *a);
/* Same; arrays 0 leaves array fields with their count and a NULL pointer
 * (still checked). */
int msf_rec_decode_opt(uint32_t type, const unsigned char *p, size_t len,
                       ms_record *rec, msf_arena *a, int arrays);
/* Check a record body as msf_rec_decode would, storing nothing. */
int msf_rec_check(uint32_t type, const unsigned char *p, size_t len);

#endif
