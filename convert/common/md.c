/*
 * Markdown helpers (see md.h). Process names and command lines come from
 * /proc and can hold anything: `|` would split a table cell, a backtick
 * would open code, `<` could open HTML, a newline would end the row. The
 * escaping here keeps every such text inside its cell and visible.
 */
#include "md.h"
#include "fmt.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static size_t emit(char *o, const char *s, size_t n, size_t max_chars)
{
    size_t len = 0, chars = 0;
    const unsigned char *u = (const unsigned char *)s;
#define PUT(str) do { size_t l_ = strlen(str); if (o) memcpy(o + len, str, l_); len += l_; } while (0)
    for (size_t i = 0; i < n; ) {
        if (max_chars && chars >= max_chars) { PUT("…"); break; }
        unsigned char c = u[i];
        char tmp[8];
        chars++;
        if (c == 0) { PUT(" "); i++; continue; }
        if (c == '\n') { PUT("\\n"); i++; continue; }
        if (c == '\r') { PUT("\\r"); i++; continue; }
        if (c == '\t') { PUT("\\t"); i++; continue; }
        if (c < 0x20 || c == 0x7f) { snprintf(tmp, sizeof tmp, "\\x%02X", c); PUT(tmp); i++; continue; }
        if (c == '<') { PUT("&lt;"); i++; continue; }
        if (c == '>') { PUT("&gt;"); i++; continue; }
        if (c == '&') { PUT("&amp;"); i++; continue; }
        if (strchr("|`*_[]\\#~", c)) { tmp[0] = '\\'; tmp[1] = (char)c; tmp[2] = 0; PUT(tmp); i++; continue; }
        if (c < 0x80) { tmp[0] = (char)c; tmp[1] = 0; PUT(tmp); i++; continue; }
        size_t k = ms_utf8_seq(u + i, n - i);
        if (!k) { snprintf(tmp, sizeof tmp, "\\x%02X", c); PUT(tmp); i++; continue; }
        if (o) memcpy(o + len, u + i, k);
        len += k;
        i += k;
    }
#undef PUT
    return len;
}

char *ms_md_escape(const char *s, size_t n, size_t max_chars)
{
    size_t len = emit(NULL, s, n, max_chars);
    char *o = malloc(len + 1);
    if (!o) return NULL;
    emit(o, s, n, max_chars);
    o[len] = 0;
    return o;
}

void ms_md_text(FILE *f, const char *s, size_t n, size_t max_chars)
{
    char *e = ms_md_escape(s, n, max_chars);
    if (e) fputs(e, f);
    free(e);
}

void ms_md_str(FILE *f, const char *s)
{
    ms_md_text(f, s, strlen(s), 0);
}

void ms_md_table_head(FILE *f, const char *align, int ncols, ...)
{
    va_list ap;
    va_start(ap, ncols);
    fputc('|', f);
    for (int i = 0; i < ncols; i++) fprintf(f, " %s |", va_arg(ap, const char *));
    va_end(ap);
    fputs("\n|", f);
    for (int i = 0; i < ncols; i++)
        fputs(align && align[i] == 'r' ? "---:|" : "---|", f);
    fputc('\n', f);
}
