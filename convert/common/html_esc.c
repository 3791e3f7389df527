/* Escaping for XML/SVG/HTML and for JSON inside <script> (html_esc.h).
 * Shared by the flame graph SVG, the DOT/SVG call graph labels and the
 * HTML dashboard, so that a name like "<script>" or a stray byte in a
 * trace can never break the markup or run as code. */
#include <string.h>
#include "html_esc.h"
#include "fmt.h"

/* Both writers below copy runs of bytes that need no escape with one
 * fwrite: a call per byte cost ~25 instructions a character, a tenth of
 * the dashboard of a trace with 30 000 stacks. */
void ms_xml_escape_n(FILE *fp, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;             /* bytes [run, i) not written yet */
    while (i < n && s[i]) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'') {
            i++;
            continue;
        }
        const char *esc = NULL;
        size_t l = 1;
        switch (c) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = "&quot;"; break;
        case '\'': esc = "&#39;"; break;
        default:
            if (c < 0x20 || c == 0x7f) { esc = " "; break; }
            size_t avail = 0;
            while (i + avail < n && s[i + avail] && avail < 4) avail++;
            l = ms_utf8_seq(s + i, avail);
            if (l == 0) { esc = "\xef\xbf\xbd"; l = 1; }
            break;
        }
        if (!esc) { i += l; continue; }  /* a valid multibyte sequence */
        if (i > run) fwrite(s + run, 1, i - run, fp);
        fputs(esc, fp);
        i += l;
        run = i;
    }
    if (i > run) fwrite(s + run, 1, i - run, fp);
}

void ms_xml_escape(FILE *fp, const char *s)
{
    ms_xml_escape_n(fp, s ? s : "", (size_t)-1);
}

void ms_json_string(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    size_t n = strlen((const char *)s), run = 0;
    fputc('"', fp);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<') { i++; continue; }
        char buf[8];
        const char *esc = NULL;
        size_t l = 1;
        if (c == '"' || c == '\\') { buf[0] = '\\'; buf[1] = (char)c; buf[2] = 0; esc = buf; }
        else if (c == '<' && s[i + 1] == '/') { esc = "<\\/"; l = 2; }
        else if (c == '<' && s[i + 1] == '!') esc = "\\u003c";
        else if (c == '<') { i++; continue; }
        else if (c == '\n') esc = "\\n";
        else if (c == '\t') esc = "\\t";
        else if (c < 0x20 || c == 0x7f) { snprintf(buf, sizeof buf, "\\u%04x", c); esc = buf; }
        else if (!(l = ms_utf8_seq(s + i, n - i))) { esc = "\\ufffd"; l = 1; }
        else if (l == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
            esc = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";   /* JS line separators */
        if (!esc) { i += l; continue; }  /* a valid multibyte sequence */
        if (i > run) fwrite(s + run, 1, i - run, fp);
        fputs(esc, fp);
        i += l;
        run = i;
    }
    if (n > run) fwrite(s + run, 1, n - run, fp);
    fputc('"', fp);
}
