/* The JSON and XML escapers (convert/common/html_esc.c) against reference
 * copies of their byte-at-a-time versions: every crafted case (each
 * escape, "</" and "<!" at a string's end, invalid and overlong UTF-8,
 * U+2028/9, a NUL inside an XML length) and 20 000 random strings drawn
 * from the bytes that matter must give the same output, byte for byte. */
#include <stdlib.h>
#include <string.h>
#include "html_esc.h"
#include "fmt.h"
#include "mstest.h"

static void ref_xml(FILE *fp, const char *str, size_t n)
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

static void ref_json(FILE *fp, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
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
            fprintf(fp, "\\u%04x", s[i + 2] == 0xa8 ? 0x2028 : 0x2029);
            i += 3;
            continue;
        }
        fwrite(s + i, 1, l, fp);
        i += l;
    }
    fputc('"', fp);
}

/* out[0]: json, out[1]: xml of the first n bytes; new (k = 0) or ref (1) */
static void both(int k, const char *s, size_t n, char **json, char **xml)
{
    size_t len;
    FILE *fp = open_memstream(json, &len);
    if (k == 0) ms_json_string(fp, s); else ref_json(fp, s);
    fclose(fp);
    fp = open_memstream(xml, &len);
    if (k == 0) ms_xml_escape_n(fp, s, n); else ref_xml(fp, s, n);
    fclose(fp);
}

static int same(const char *s, size_t n)
{
    char *j0, *x0, *j1, *x1;
    both(0, s, n, &j0, &x0);
    both(1, s, n, &j1, &x1);
    int ok = !strcmp(j0, j1) && !strcmp(x0, x1);
    if (!ok) printf("differs on '%s': json '%s' vs '%s', xml '%s' vs '%s'\n", s, j0, j1, x0, x1);
    free(j0); free(x0); free(j1); free(x1);
    return ok;
}

int main(void)
{
    static const char *cases[] = {
        "", "plain ascii name", "</script>", "<!-- x", "a<", "a</", "<<//<!<", "\"q\" \\ back",
        "tab\there\nnl\r\x01\x1f\x7f", "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87", "\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xa7",
        "\xff\xfe bad", "\xc0\xaf overlong", "\xed\xa0\x80 surrogate", "\xf0\x9f\x98\x80 emoji",
        "cut \xe4\xb8", "\xf4\x90\x80\x80 too big", "&amp; 'x' <b>", "operator<<(std::ostream&)",
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t n = strlen(cases[i]);
        ok &= same(cases[i], n);
        ok &= same(cases[i], n / 2);           /* XML: a length inside the string */
        ok &= same(cases[i], (size_t)-1);
    }
    CHECK("crafted strings escaped as before", ok);

    static const unsigned char pool[] = {
        'a', 'Z', ' ', '<', '/', '!', '>', '&', '"', '\'', '\\', '\n', '\t', 0x01, 0x7f,
        0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xa9, 0xe4, 0xb8, 0xad, 0xf0, 0x9f, 0x98, 0xff, 0xed, 0xa0,
    };
    uint64_t x = 88172645463325252ull;
    char buf[64];
    ok = 1;
    for (int r = 0; r < 20000 && ok; r++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t len = (size_t)(x % 40);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            buf[i] = (char)pool[x % sizeof pool];
        }
        buf[len] = 0;
        ok &= same(buf, (size_t)(x >> 20) % (len + 2));
    }
    CHECK("20000 random strings escaped as before", ok);
    return ms_test_failures != 0;
}
