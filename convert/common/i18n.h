/* Report and message languages. Reports are Chinese by default, English
 * with `--lang en`; the commands' own messages follow ms_cli_lang. A
 * converter keeps its texts as ms_msg pairs next to the code that prints
 * them and picks one with MS_T(lang, msg) (messages: MS_C / MS_CM); common
 * words used by several reports (process kinds, read status) are here. */
#ifndef MS_I18N_H
#define MS_I18N_H
#include <stdint.h>
#include <stdio.h>

typedef enum ms_lang { MS_LANG_ZH = 0, MS_LANG_EN = 1 } ms_lang;

typedef struct ms_msg { const char *zh, *en; } ms_msg;
#define MS_T(lang, m) ((lang) == MS_LANG_EN ? (m).en : (m).zh)

/* "zh", "zh_CN", "zh-CN", "cn", "chinese" -> ZH; "en", "en_US", "english"
 * -> EN. Returns 0 or -1. */
int ms_lang_parse(const char *s, ms_lang *out);

/* Language of a command's own messages (help, errors, warnings, notes,
 * --info, "wrote" lines); reports keep their own default (Chinese). Policy:
 * `--lang zh|en` (or --lang=...) in argv decides when given; otherwise the
 * first non-empty of LC_ALL, LC_MESSAGES, LANG: a value starting with "zh"
 * is Chinese, anything else (C, POSIX, unset: CI and the test suites) is
 * English. Remembers the choice for ms_cli() and returns it. */
ms_lang ms_cli_lang(int argc, char **argv);
/* The language ms_cli_lang chose (English before it was called). */
ms_lang ms_cli(void);
#define MS_C(m) MS_T(ms_cli(), (m))
/* An inline pair where the message is printed: MS_CM("中文", "English"). */
#define MS_CM(zh, en) MS_C(((ms_msg){ zh, en }))
/* strerror(errnum) in ms_cli()'s language (common errors translated). */
const char *ms_cli_strerror(int errnum);
/* ms_strerror(code) in ms_cli()'s language. */
const char *ms_cli_mserror(int code);

/* fprintf for report text whose template is shared by both languages: in
 * Chinese the template's ASCII punctuation becomes full-width first
 * (": " and a line-ending ":" -> "：", ", " -> "，", "; " -> "；", "(" ->
 * "（", ")" -> "）"), so
 * labels read "进程：12（内核 3，…）"; arguments are printed unchanged. */
int ms_lang_fprintf(FILE *f, ms_lang l, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Process kinds (MS_PROC_KERNEL/SYSTEM/USER): "内核进程" / "kernel processes". */
const char *ms_i18n_kind_plural(ms_lang l, uint32_t kind);
/* Singular short form: "内核" / "kernel". */
const char *ms_i18n_kind(ms_lang l, uint32_t kind);
/* Read status bits as words joined by ", " into buf: "已退出, 无权限读取 smaps". */
const char *ms_i18n_read_status(ms_lang l, uint32_t bits, char *buf, unsigned cap);
/* The line every report of a sampled heap trace carries (spec §8.8), rate R
 * in bytes: "估算值，按每 524,288 字节（512.0 KB）采样 1 次" / "estimated,
 * sampled 1 in 524,288 bytes (512.0 KB)". */
const char *ms_i18n_sampled(ms_lang l, uint64_t rate, char *buf, unsigned cap);
/* The same with what it means for the numbers, for report headers:
 * "...: every count and size is an estimate of the whole program". */
const char *ms_i18n_sampled_long(ms_lang l, uint64_t rate, char *buf, unsigned cap);
/* The unit rule every report states once: "单位：KiB = 1024 字节，..." /
 * "units: KiB = 1024 bytes, MiB = 1024 KiB, GiB = 1024 MiB". */
const char *ms_i18n_units(ms_lang l);
/* A duration in ns as ms_fmt_duration, with Chinese units for ZH:
 * "1.2 秒", "5 分 3 秒", "2 小时 10 分". */
const char *ms_i18n_duration(ms_lang l, uint64_t ns, char *buf);
/* ms_fmt_pct_change with its "n/a" (before was 0) as "不适用" in Chinese. */
const char *ms_i18n_pct_change(ms_lang l, uint64_t before, uint64_t after, char *buf);
/* Temporary allocations are not known in a sampled trace: "不适用（采样追踪）"
 * / "n/a (sampled trace)". */
const char *ms_i18n_sampled_na(ms_lang l);
/* What every report that shows temporary allocations means by them (the
 * rule of analyze/heap.h, heaptrack's), one sentence for a legend. */
const char *ms_i18n_temporary_def(ms_lang l);
#endif
