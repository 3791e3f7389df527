/* Unit tests of the control-character escaper (convert/common/term.h:
 * also its eight-bytes-at-a-time skip, every byte at every offset) and
 * of the memoized stack walk (analyze/symtab.h ms_stack_memo): known
 * strings in, the exact escaped text out, also when a UTF-8 sequence is
 * split between writes; a deep chain resolved with one step per node. */
#include <stdlib.h>
#include "memscope.h"
#include "term.h"
#include "symtab.h"
#include "mstest.h"

typedef struct buf { char s[512]; size_t n; } buf;

static int out(void *ctx, const char *p, size_t n)
{
    buf *b = ctx;
    if (b->n + n >= sizeof b->s) return -1;
    memcpy(b->s + b->n, p, n);
    b->n += n;
    b->s[b->n] = 0;
    return 0;
}

/* s escaped in mode, written in pieces of `piece` bytes. */
static const char *esc(int mode, const char *s, size_t piece)
{
    static buf b;
    b.n = 0; b.s[0] = 0;
    ms_term t;
    ms_term_init(&t, mode);
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i += piece) ms_term_write(&t, s + i, n - i < piece ? n - i : piece, out, &b);
    ms_term_flush(&t, out, &b);
    return b.s;
}

static int steps;
static int extend(void *ctx, uint32_t parent, uint64_t ip, uint32_t *value)
{
    (void)ctx;
    steps++;
    *value = parent + (uint32_t)(ip & 0xff);
    return 0;
}

int main(void)
{
    const char *evil = "a\x1b[31mb\x07\r\x08\x7f\xc2\x9b\xe4\xb8\xad\t\n\xff";
    CHECK_STR("text: C0, DEL, C1, invalid escaped; CJK, tab, newline kept",
              "a\\x1b[31mb\\x07\\x0d\\x08\\x7f\\u009b\xe4\xb8\xad\t\n\\xff", esc(MS_TERM_TEXT, evil, 64));
    CHECK_STR("text: same when split byte by byte",
              "a\\x1b[31mb\\x07\\x0d\\x08\\x7f\\u009b\xe4\xb8\xad\t\n\\xff", esc(MS_TERM_TEXT, evil, 1));
    CHECK_STR("json: \\u00XX escapes", "a\\u001b[31mb\\u0007\\u000d\\u0008\\u007f\\u009b\xe4\xb8\xad\t\n\\u00ff",
              esc(MS_TERM_JSON, evil, 3));
    CHECK_STR("text: a sequence cut at the end", "x\\xe4\\xb8", esc(MS_TERM_TEXT, "x\xe4\xb8", 1));
    CHECK_STR("text: plain text untouched", "memscope 内存 ok", esc(MS_TERM_TEXT, "memscope 内存 ok", 2));
    char small[8];
    CHECK_STR("clean cuts to fit", "\\x1b[31", ms_term_clean(small, sizeof small, "\x1b[31m"));

    /* the escaper skips eight plain bytes at a time: every byte value at
     * every position of a 40-byte run of plain text (so at each offset in
     * and across 8-byte words), written whole and in 5-byte pieces, gives
     * what the same text written one byte at a time gives (the byte path) */
    int words_ok = 1;
    for (int c = 1; c < 256 && words_ok; c++) {
        for (int at = 0; at < 40 && words_ok; at++) {
            char in[41];
            for (int i = 0; i < 40; i++) in[i] = (char)('a' + i % 26);
            in[at] = (char)c;
            in[40] = 0;
            char ref[512];
            snprintf(ref, sizeof ref, "%s", esc(MS_TERM_JSON, in, 1));
            if (strcmp(ref, esc(MS_TERM_JSON, in, 40)) || strcmp(ref, esc(MS_TERM_JSON, in, 5))) words_ok = 0;
            if (c < 0x20 && c != '\n' && c != '\t' && !strstr(ref, "\\u00")) words_ok = 0;
        }
    }
    CHECK("word-at-a-time skip: every byte at every offset as byte by byte", words_ok);

    /* a chain of 5000 nodes: resolving every stack costs one step a node */
    ms_symtab *s;
    CHECK("symtab", ms_symtab_new(&s) == 0);
    enum { N = 5000 };
    ms_stack_node *nodes = malloc(N * sizeof *nodes);
    for (uint64_t k = 0; k < N; k++) nodes[k] = (ms_stack_node){ k, 1 };
    ms_record r = { .type = MS_REC_STACK };
    r.u.stack = (ms_stack){ .first_id = 1, .count = N, .nodes = nodes };
    CHECK("stack nodes", ms_symtab_add(s, &r) == 0);
    ms_stack_memo *m;
    CHECK("memo", ms_stack_memo_new(&m) == 0);
    uint32_t v = 0, all_ok = 1;
    for (uint64_t id = 1; id <= N; id++) {
        if (ms_stack_memo_get(m, s, id, 0, extend, NULL, &v) || v != id) all_ok = 0;
    }
    CHECK("memo: stack k has k frames", all_ok);
    CHECK_EQ_U64("memo: one step a node", N, steps);
    CHECK("memo: undefined id is the root", ms_stack_memo_get(m, s, N + 7, 42, extend, NULL, &v) == 0 && v == 42);
    /* ids the symtab keeps sparse (far beyond the others) and ids defined
     * after the memo sized its array: values from the memo's map, each
     * node still resolved once, on top of the dense chain */
    ms_stack_node far[3] = { { N, 1 }, { 50000000, 1 }, { 50000001, 1 } };
    r.u.stack = (ms_stack){ .first_id = 50000000, .count = 3, .nodes = far };
    CHECK("sparse stack nodes", ms_symtab_add(s, &r) == 0);
    ms_stack_node late[2] = { { N, 1 }, { N + 100, 1 } };
    r.u.stack = (ms_stack){ .first_id = N + 100, .count = 2, .nodes = late };
    CHECK("late stack nodes", ms_symtab_add(s, &r) == 0);
    steps = 0;
    int far_ok = ms_stack_memo_get(m, s, 50000002, 0, extend, NULL, &v) == 0 && v == N + 3;
    far_ok &= ms_stack_memo_get(m, s, N + 101, 0, extend, NULL, &v) == 0 && v == N + 2;
    far_ok &= ms_stack_memo_get(m, s, 50000001, 0, extend, NULL, &v) == 0 && v == N + 2;
    far_ok &= ms_stack_memo_get(m, s, N + 100, 0, extend, NULL, &v) == 0 && v == N + 1;
    CHECK("memo: sparse and late ids extend the dense chain", far_ok);
    CHECK_EQ_U64("memo: one step a new node", 5, steps);
    ms_stack_memo_free(m);
    ms_symtab_free(s);
    free(nodes);
    return ms_test_failures != 0;
}
