/* Escaping for XML/SVG/HTML and for JSON inside <script> (html_esc.h).
 * Shared by the flame graph SVG, the DOT/SVG call graph labels and the
 * HTML dashboard, so that a name like "<script>" or a stray byte in a
 * trace can never break the markup or run as code. */
#include <string.h>
#include "html_esc.h"
#include "fmt.h"

void ms_xml_escape_n(FILE *fp, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n && s[i]) {
        unsigned char c = s[i];
        switch (c) {
        case '&': fputs("&amp;", fp); i++; continue;
        case '<': fputs("&lt;", fp); i++; continue;
        case '>': fputs("&gt;", fp); i++; continue;
        case '"': fputs("&quot;", fp); i++; continue;
        case '\'': fputs("&#39;", fp); i++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) { fputc(' ', fp); i++; continue; }
        size_t avail = 0;
        while (i + avail < n && s[i + avail] && avail < 4) avail++;
        size_t l = ms_utf8_seq(s + i, avail);
        if (l == 0) { fputs("\xef\xbf\xbd", fp); i++; continue; }
        fwrite(s + i, 1, l, fp);
        i += l;
    }
}

void ms_xml_escape(FILE *fp, const char *s)
{
    ms_xml_escape_n(fp, s ? s : "", (size_t)-1);
}

void ms_json_string(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)s);
    fputc('"', fp);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') { fputc('\\', fp); fputc(c, fp); i++; continue; }
        if (c == '<' && s[i + 1] == '/') { fputs("<\\/", fp); i += 2; continue; }
        if (c == '<' && s[i + 1] == '!') { fputs("\\u003c", fp); i++; continue; }
        if (c == '\n') { fputs("\\n", fp); i++; continue; }
        if (c == '\t') { fputs("\\t", fp); i++; continue; }
        if (c < 0x20 || c == 0x7f) { fprintf(fp, "\\u%04x", c); i++; continue; }
        size_t l = ms_utf8_seq(s + i, n - i);
        if (l == 0) { fputs("\\ufffd", fp); i++; continue; }
        if (l == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
            fprintf(fp, "\\u%04x", s[i + 2] == 0xa8 ? 0x2028 : 0x2029);   /* JS line separators */
            i += 3;
            continue;
        }
        fwrite(s + i, 1, l, fp);
        i += l;
    }
    fputc('"', fp);
}
