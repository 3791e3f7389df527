/*
 * Formatting helpers shared by the converters (see fmt.h): byte sizes in
 * binary units, written as such
 * ("2.5 MiB", "128.0 KiB": the one unit rule every report states), signed deltas,
 * percentage changes, times, size arguments, and UTF-8 cleaning so process
 * names and command lines from /proc can be put into JSON and Markdown.
 */
#include "fmt.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *ms_fmt_bytes(char *buf, uint64_t b)
{
    static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (b < 1024) { snprintf(buf, MS_FBUF_LEN, "%llu B", (unsigned long long)b); return buf; }
    double v = (double)b;
    int i = 0;
    while (v >= 1024.0 && i < 5) { v /= 1024.0; i++; }
    snprintf(buf, MS_FBUF_LEN, i >= 3 ? "%.2f %s" : "%.1f %s", v, u[i]);
    return buf;
}

char *ms_fmt_sbytes(char *buf, int64_t d)
{
    if (d == 0) { strcpy(buf, "0 B"); return buf; }
    char tmp[MS_FBUF_LEN];
    ms_fmt_bytes(tmp, d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d);
    buf[0] = d < 0 ? '-' : '+';
    memcpy(buf + 1, tmp, MS_FBUF_LEN - 1);
    buf[MS_FBUF_LEN - 1] = 0;
    return buf;
}

double ms_pct_change(uint64_t a, uint64_t b)
{
    if (!a) return 0;
    return ((double)b - (double)a) * 100.0 / (double)a;
}

char *ms_fmt_pct_change(char *buf, uint64_t a, uint64_t b)
{
    if (!a) { strcpy(buf, b ? "n/a" : "0.0%"); return buf; }
    double p = ms_pct_change(a, b);
    if (fabs(p) < 0.05) snprintf(buf, MS_FBUF_LEN, "%s0.0%%", p < 0 ? "-" : p > 0 ? "+" : "");
    else snprintf(buf, MS_FBUF_LEN, "%+.1f%%", p);
    return buf;
}

char *ms_fmt_sint(char *buf, int64_t v)
{
    snprintf(buf, MS_FBUF_LEN, v > 0 ? "+%lld" : "%lld", (long long)v);
    return buf;
}

char *ms_fmt_count(char *buf, uint64_t v)
{
    char t[32];
    int n = snprintf(t, sizeof t, "%llu", (unsigned long long)v);
    char *o = buf;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) *o++ = ',';
        *o++ = t[i];
    }
    *o = 0;
    return buf;
}

char *ms_fmt_time(char *buf, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000ULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, MS_FBUF_LEN, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

char *ms_fmt_time_iso(char *buf, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000ULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, MS_FBUF_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

char *ms_fmt_duration(char *buf, uint64_t ns)
{
    uint64_t s = ns / 1000000000ULL;
    if (s < 60) snprintf(buf, MS_FBUF_LEN, "%.1f s", (double)ns / 1e9);
    else if (s < 3600) snprintf(buf, MS_FBUF_LEN, "%llu min %llu s", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
    else snprintf(buf, MS_FBUF_LEN, "%llu h %llu min", (unsigned long long)(s / 3600), (unsigned long long)(s % 3600 / 60));
    return buf;
}

int ms_parse_size(const char *s, uint64_t *out)
{
    if (!s || !*s) return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0 || !isfinite(v)) return -1;
    double mul = 1;
    char u = (char)tolower((unsigned char)*end);
    if (u == 'k') mul = 1024.0;
    else if (u == 'm') mul = 1048576.0;
    else if (u == 'g') mul = 1073741824.0;
    else if (u == 't') mul = 1099511627776.0;
    else if (u == 'b' || u == 0) mul = 1;
    else return -1;
    if (*end) {
        end++;
        if (u != 'b') {
            if (tolower((unsigned char)*end) == 'i') end++;
            if (tolower((unsigned char)*end) == 'b') end++;
        }
    }
    if (*end) return -1;
    double r = v * mul;
    if (r > 1.8e19) return -1;
    *out = (uint64_t)(r + 0.5);
    return 0;
}

size_t ms_utf8_seq(const unsigned char *s, size_t n)
{
    if (!n) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; c &= 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; c &= 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; c &= 0x07; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    return len;
}

char *ms_utf8_clean(const char *s, size_t n, char sep)
{
    char *o = malloc(n * 3 + 1), *p = o;
    if (!o) return NULL;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; ) {
        if (u[i] == 0) { *p++ = sep ? sep : ' '; i++; continue; }
        size_t k = ms_utf8_seq(u + i, n - i);
        if (!k) { memcpy(p, "\xEF\xBF\xBD", 3); p += 3; i++; continue; }
        memcpy(p, u + i, k); p += k; i += k;
    }
    *p = 0;
    return o;
}

char *ms_put_u64(char *p, uint64_t v)
{
    char t[20];
    int n = 0;
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) *p++ = t[--n];
    return p;
}

char *ms_put_field(char *p, const char *key, uint64_t v)
{
    size_t k = strlen(key);
    memcpy(p, key, k);
    return ms_put_u64(p + k, v);
}

void ms_fput_u64(FILE *fp, const char *pre, uint64_t v)
{
    char b[64], *p = b;
    while (*pre && p < b + 40) *p++ = *pre++;
    p = ms_put_u64(p, v);
    fwrite(b, 1, (size_t)(p - b), fp);
}

void ms_fput_i64(FILE *fp, const char *pre, int64_t v)
{
    if (v >= 0) { ms_fput_u64(fp, pre, (uint64_t)v); return; }
    fputs(pre, fp);
    ms_fput_u64(fp, "-", (uint64_t)0 - (uint64_t)v);
}
