/* Number and text formatting shared by every converter: human byte sizes
 * ("15.7 MiB", signed deltas "+1.5 MiB"), percentages, times, size parsing
 * ("1M", "512K") and UTF-8 sanitizing for JSON. Functions write into a
 * caller buffer and return it, so they nest inside printf arguments:
 *     printf("%s", ms_fmt_bytes(MS_FBUF, n));                               */
#ifndef MS_FMT_H
#define MS_FMT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MS_FBUF_LEN 48
/* A fresh buffer for one call (compound literal, lives to the end of the
 * enclosing block). */
#define MS_FBUF ((char[MS_FBUF_LEN]){0})

/* 1024-based: "0 B", "512 B", "128.0 KiB", "15.7 MiB", "2.50 GiB". */
char *ms_fmt_bytes(char *buf, uint64_t bytes);
/* Signed: "+1.5 MiB", "-200.0 KiB", "0 B". */
char *ms_fmt_sbytes(char *buf, int64_t delta);
/* Percentage change of after vs before: "+12.3%", "-4.0%", "0.0%", or
 * "n/a" when before is 0 and after is not. */
char *ms_fmt_pct_change(char *buf, uint64_t before, uint64_t after);
/* Percentage change as a number (0 when before is 0). */
double ms_pct_change(uint64_t before, uint64_t after);
/* Signed integer with sign: "+12", "-3", "0". */
char *ms_fmt_sint(char *buf, int64_t v);
/* Integer with thousands separators: "1,234,567". */
char *ms_fmt_count(char *buf, uint64_t v);
/* v in decimal at p (no NUL); returns the end. ms_put_field: the text key
 * (e.g. ",\"size\":") then v. For hot output lines (msconv --dump,
 * --json --events), where printf cost more than the rest of the work. */
char *ms_put_u64(char *p, uint64_t v);
char *ms_put_field(char *p, const char *key, uint64_t v);
/* pre (at most 40 bytes) then v, with one fwrite: the numbers of the
 * dashboard's big arrays (printf cost ~700 instructions a number). */
void ms_fput_u64(FILE *fp, const char *pre, uint64_t v);
void ms_fput_i64(FILE *fp, const char *pre, int64_t v);
/* Unix time in ns as "2026-11-24 13:36:08 UTC". */
char *ms_fmt_time(char *buf, uint64_t wall_ns);
/* Unix time in ns as ISO 8601 "2026-11-24T13:36:08Z". */
char *ms_fmt_time_iso(char *buf, uint64_t wall_ns);
/* Duration in ns: "1.2 s", "5 min 3 s", "2 h 10 min". */
char *ms_fmt_duration(char *buf, uint64_t ns);

/* Parse a byte size: "1048576", "512K", "1M", "1.5MB", "2GiB" (1024-based,
 * case-insensitive). Returns 0 or -1. */
int ms_parse_size(const char *s, uint64_t *out);

/* Copy of (s, n) as valid UTF-8 without NUL bytes: invalid bytes become
 * U+FFFD, NUL bytes become sep (e.g. ' ' for a cmdline). malloc'd. */
char *ms_utf8_clean(const char *s, size_t n, char sep);
/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t ms_utf8_seq(const unsigned char *s, size_t n);
#endif
