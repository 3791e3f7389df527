/* Escaping of control characters for terminal-bound output (term.h). The
 * escaper walks UTF-8 sequences with ms_utf8_seq (fmt.h) and keeps the
 * start of a sequence cut by a buffer boundary until its next piece. */
#include "term.h"
#include "fmt.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void ms_term_init(ms_term *t, int mode)
{
    memset(t, 0, sizeof *t);
    t->mode = mode;
}

static int esc(ms_term *t, unsigned c, int uni, ms_term_out_fn out, void *ctx)
{
    char b[8];
    int n = snprintf(b, sizeof b, uni || t->mode == MS_TERM_JSON ? "\\u%04x" : "\\x%02x", c);
    return out(ctx, b, (size_t)n);
}

/* Bytes a UTF-8 lead byte announces (0 = not a lead byte). */
static size_t seq_len(unsigned char c)
{
    return c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
}

/* Escape p[0..n) completely (no sequence continues past n unless fin = 0:
 * then a cut sequence at the end is left in t->pend). */
static int run(ms_term *t, const unsigned char *p, size_t n, int fin, ms_term_out_fn out, void *ctx)
{
    size_t i = 0, plain = 0;
    int rc = 0;
#define FLUSH_PLAIN() do { if (i > plain && (rc = out(ctx, (const char *)p + plain, i - plain))) return rc; } while (0)
    while (i < n) {
        /* eight plain bytes at a time: a word is skipped whole when no byte
         * is below 0x20 (the borrow test), 0x7f (+1 sets bit 7) or above
         * (bit 7 set); a word with \n or \t goes byte by byte */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((((w - 0x2020202020202020ull) & ~w) | w | (w + 0x0101010101010101ull)) &
                0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f) { i++; continue; }
        if (c == '\n' || c == '\t') { i++; continue; }
        if (c < 0x80) {                               /* C0 or DEL */
            FLUSH_PLAIN();
            if ((rc = esc(t, c, 0, out, ctx))) return rc;
            plain = ++i;
            continue;
        }
        size_t want = seq_len(c);
        if (want && i + want > n && !fin) {            /* cut: keep for later */
            FLUSH_PLAIN();
            memcpy(t->pend, p + i, n - i);
            t->npend = n - i;
            return 0;
        }
        size_t l = ms_utf8_seq(p + i, n - i);
        if (!l) {                                      /* invalid byte */
            FLUSH_PLAIN();
            if ((rc = esc(t, c, 0, out, ctx))) return rc;
            plain = ++i;
            continue;
        }
        if (l == 2 && c == 0xc2 && p[i + 1] < 0xa0) {  /* C1 control */
            FLUSH_PLAIN();
            if ((rc = esc(t, p[i + 1], 1, out, ctx))) return rc;
            plain = i += 2;
            continue;
        }
        i += l;
    }
    FLUSH_PLAIN();
#undef FLUSH_PLAIN
    return 0;
}

int ms_term_write(ms_term *t, const char *s, size_t n, ms_term_out_fn out, void *ctx)
{
    const unsigned char *p = (const unsigned char *)s;
    if (t->npend) {                                    /* complete the cut sequence */
        unsigned char b[8];
        size_t k = t->npend, want = seq_len(t->pend[0]);
        memcpy(b, t->pend, k);
        while (k < want && n && (*p & 0xc0) == 0x80) { b[k++] = *p++; n--; }
        if (k < want && !n) {                          /* still cut */
            memcpy(t->pend, b, k);
            t->npend = k;
            return 0;
        }
        t->npend = 0;
        int rc = run(t, b, k, 1, out, ctx);
        if (rc) return rc;
    }
    return run(t, p, n, 0, out, ctx);
}

int ms_term_flush(ms_term *t, ms_term_out_fn out, void *ctx)
{
    size_t k = t->npend;
    t->npend = 0;
    return k ? run(t, t->pend, k, 1, out, ctx) : 0;
}

typedef struct sbuf { char *p; size_t n, cap; } sbuf;

static int to_buf(void *ctx, const char *p, size_t n)
{
    sbuf *b = ctx;
    if (b->n + 1 >= b->cap) return 0;
    if (n > b->cap - 1 - b->n) n = b->cap - 1 - b->n;
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}

char *ms_term_clean(char *buf, size_t cap, const char *s)
{
    if (!cap) return buf;
    sbuf b = { buf, 0, cap };
    ms_term t;
    ms_term_init(&t, MS_TERM_TEXT);
    ms_term_write(&t, s, strlen(s), to_buf, &b);
    ms_term_flush(&t, to_buf, &b);
    buf[b.n] = 0;
    return buf;
}

/* ---- guarded stderr ---- */
static FILE *raw_err;
static ms_term err_term;

static int fd2_out(void *ctx, const char *p, size_t n)
{
    (void)ctx;
    while (n) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static ssize_t err_write(void *c, const char *p, size_t n)
{
    (void)c;
    fflush(raw_err);
    return ms_term_write(&err_term, p, n, fd2_out, NULL) ? -1 : (ssize_t)n;
}

void ms_term_guard_stderr(void)
{
    if (raw_err) return;
    cookie_io_functions_t io = { NULL, err_write, NULL, NULL };
    ms_term_init(&err_term, MS_TERM_TEXT);
    FILE *f = fopencookie(NULL, "w", io);
    if (!f) return;
    setvbuf(f, NULL, _IOLBF, 4096);
    raw_err = stderr;
    stderr = f;
}

FILE *ms_term_raw_stderr(void) { return raw_err ? raw_err : stderr; }
