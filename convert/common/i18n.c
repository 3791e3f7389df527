/*
 * Language selection and the words several reports share (see i18n.h):
 * the one policy for the language of msconv's and msdiff's own messages
 * (ms_cli_lang: --lang, else the locale), the translations of the system's
 * and the format library's error texts those messages carry, and the
 * full-width rule for templates shared by both languages. Report- and
 * message-specific texts live with the code that prints them as ms_msg
 * pairs, so a new converter adds its strings without touching a central
 * table.
 */
#include "i18n.h"
#include "fmt.h"
#include "memscope.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ms_lang_parse(const char *s, ms_lang *out)
{
    if (!s) return -1;
    if (!strncasecmp(s, "zh", 2) || !strcasecmp(s, "cn") || !strcasecmp(s, "chinese")) { *out = MS_LANG_ZH; return 0; }
    if (!strncasecmp(s, "en", 2) || !strcasecmp(s, "english")) { *out = MS_LANG_EN; return 0; }
    return -1;
}

static ms_lang cli_lang = MS_LANG_EN;

ms_lang ms_cli(void) { return cli_lang; }

ms_lang ms_cli_lang(int argc, char **argv)
{
    const char *v = NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--lang") && i + 1 < argc) v = argv[i + 1];
        else if (!strncmp(argv[i], "--lang=", 7)) v = argv[i] + 7;
    }
    ms_lang l;
    if (v && !ms_lang_parse(v, &l)) return cli_lang = l;
    static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *e = getenv(vars[i]);
        if (e && e[0]) return cli_lang = strncasecmp(e, "zh", 2) ? MS_LANG_EN : MS_LANG_ZH;
    }
    return cli_lang = MS_LANG_EN;
}

const char *ms_cli_strerror(int e)
{
    static const struct { int e; const char *zh; } t[] = {
        {ENOENT, "没有那个文件或目录"}, {EACCES, "权限不够"}, {EPERM, "不允许的操作"},
        {EISDIR, "是一个目录"}, {ENOTDIR, "不是目录"}, {ENOSPC, "设备上没有空间"},
        {EDQUOT, "超出磁盘配额"}, {ENOMEM, "内存不足"}, {EROFS, "只读文件系统"},
        {EEXIST, "文件已存在"}, {EFBIG, "文件过大"}, {EIO, "输入/输出错误"},
        {ENAMETOOLONG, "文件名过长"}, {ELOOP, "符号链接层数过多"},
    };
    if (cli_lang == MS_LANG_ZH)
        for (size_t i = 0; i < sizeof t / sizeof *t; i++)
            if (t[i].e == e) return t[i].zh;
    return strerror(e);
}

const char *ms_cli_mserror(int code)
{
    static const struct { int code; const char *zh; } t[] = {
        {MS_EIO, "输入/输出错误"}, {MS_ENOMEM, "内存不足"}, {MS_EINVAL, "无效参数"},
        {MS_ENOTMS, "不是 .memscope 文件（文件头标识不符）"},
        {MS_EVERSION, "不支持的格式版本（本程序读取主版本 1）"},
        {MS_ETRUNC, "文件被截断（断在文件头或数据块中间）"},
        {MS_ECORRUPT, "数据损坏（校验和或结构错误）"},
        {MS_EUNSUPPORTED, "文件使用了本程序不认识的必需特性"},
        {MS_EZSTD, "zstd 压缩或解压失败"}, {MS_EEXIST, "输出文件已存在（从不覆盖）"},
        {MS_EEMPTY, "文件为空"}, {MS_ELIMIT, "长度超出格式限制"},
    };
    if (cli_lang == MS_LANG_ZH)
        for (size_t i = 0; i < sizeof t / sizeof *t; i++)
            if (t[i].code == code) return t[i].zh;
    return ms_strerror(code);
}

int ms_lang_fprintf(FILE *f, ms_lang l, const char *fmt, ...)
{
    char z[1024];
    const char *use = fmt;
    if (l == MS_LANG_ZH && strlen(fmt) * 3 < sizeof z) {
        char *o = z;
        for (const char *p = fmt; *p; p++) {
            const char *w = NULL;
            if ((*p == ':' || *p == ',' || *p == ';') && p[1] == ' ') {
                w = *p == ':' ? "：" : *p == ',' ? "，" : "；";
                p++;
            } else if (*p == ':' && (p[1] == '\n' || !p[1])) {
                w = "：";
            } else if (*p == '(') {
                w = "（";
                if (o > z && o[-1] == ' ') o--;
            } else if (*p == ')') {
                w = "）";
                if (p[1] == ' ') p++;
            }
            if (w) { size_t n = strlen(w); memcpy(o, w, n); o += n; }
            else *o++ = *p;
        }
        *o = 0;
        use = z;
    }
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f, use, ap);
    va_end(ap);
    return r;
}

static const ms_msg kinds_pl[3] = {
    {"内核进程", "Kernel processes"}, {"系统进程", "System processes"}, {"用户进程", "User processes"}};
static const ms_msg kinds[3] = {{"内核", "kernel"}, {"系统", "system"}, {"用户", "user"}};

const char *ms_i18n_kind_plural(ms_lang l, uint32_t k) { return MS_T(l, kinds_pl[k > 2 ? 2 : k]); }
const char *ms_i18n_kind(ms_lang l, uint32_t k) { return MS_T(l, kinds[k > 2 ? 2 : k]); }

const char *ms_i18n_read_status(ms_lang l, uint32_t bits, char *buf, unsigned cap)
{
    static const struct { uint32_t bit; ms_msg m; } names[] = {
        {MS_READ_VANISHED, {"扫描中退出", "exited during the scan"}},
        {MS_READ_ZOMBIE, {"僵尸进程", "zombie"}},
        {MS_READ_DENIED_SMAPS, {"无权限读取 smaps", "smaps: permission denied"}},
        {MS_READ_DENIED_MAPS, {"无权限读取 maps", "maps: permission denied"}},
        {MS_READ_DENIED_FD, {"无权限读取 fd", "fd: permission denied"}},
        {MS_READ_DENIED_EXE, {"无权限读取 exe", "exe: permission denied"}},
        {MS_READ_NO_ROLLUP, {"无 smaps_rollup（已汇总 smaps）", "no smaps_rollup (smaps summed)"}},
    };
    buf[0] = 0;
    if (!bits) { snprintf(buf, cap, "%s", l == MS_LANG_EN ? "complete" : "完整"); return buf; }
    size_t len = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (!(bits & names[i].bit)) continue;
        int w = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", MS_T(l, names[i].m));
        if (w < 0 || (size_t)w >= cap - len) break;
        len += (size_t)w;
    }
    return buf;
}

const char *ms_i18n_sampled(ms_lang l, uint64_t rate, char *buf, unsigned cap)
{
    char n[MS_FBUF_LEN], b[MS_FBUF_LEN];
    ms_fmt_count(n, rate);
    ms_fmt_bytes(b, rate);
    if (l == MS_LANG_EN) snprintf(buf, cap, "estimated, sampled 1 in %s bytes (%s)", n, b);
    else snprintf(buf, cap, "估算值，按每 %s 字节（%s）采样 1 次", n, b);
    return buf;
}

const char *ms_i18n_sampled_long(ms_lang l, uint64_t rate, char *buf, unsigned cap)
{
    char s[160];
    ms_i18n_sampled(l, rate, s, sizeof s);
    snprintf(buf, cap, "%s%s", s, l == MS_LANG_EN ? ": every count and size is an estimate of the whole program"
                                                  : "：所有次数与字节数均为对整个程序的估算");
    return buf;
}

const char *ms_i18n_units(ms_lang l)
{
    return l == MS_LANG_EN ? "units: KiB = 1024 bytes, MiB = 1024 KiB, GiB = 1024 MiB"
                           : "单位：KiB = 1024 字节，MiB = 1024 KiB，GiB = 1024 MiB";
}

const char *ms_i18n_duration(ms_lang l, uint64_t ns, char *buf)
{
    if (l == MS_LANG_EN) return ms_fmt_duration(buf, ns);
    uint64_t s = ns / 1000000000ULL;
    if (s < 60) snprintf(buf, MS_FBUF_LEN, "%.1f 秒", (double)ns / 1e9);
    else if (s < 3600) snprintf(buf, MS_FBUF_LEN, "%llu 分 %llu 秒", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
    else snprintf(buf, MS_FBUF_LEN, "%llu 小时 %llu 分", (unsigned long long)(s / 3600), (unsigned long long)(s % 3600 / 60));
    return buf;
}

const char *ms_i18n_pct_change(ms_lang l, uint64_t a, uint64_t b, char *buf)
{
    ms_fmt_pct_change(buf, a, b);
    if (l == MS_LANG_ZH && !strcmp(buf, "n/a")) snprintf(buf, MS_FBUF_LEN, "不适用");
    return buf;
}

const char *ms_i18n_sampled_na(ms_lang l) { return l == MS_LANG_EN ? "n/a (sampled trace)" : "不适用（采样追踪）"; }

const char *ms_i18n_temporary_def(ms_lang l)
{
    return l == MS_LANG_EN
        ? "temporary allocation: a block whose free is the very next allocation event of the process after "
          "its allocation, with no other allocation or free in between (heaptrack's rule, applied to the "
          "block itself: heaptrack knows a freed block only by its size and call stack, so it also counts "
          "the free of an older block of the same size and stack, and can show more; a realloc frees "
          "the old block, then allocates the new one)"
        : "临时分配：分配之后，整个进程的下一个分配事件就是它的释放，中间没有任何其他分配或释放"
          "（heaptrack 的规则，按块本身判断：heaptrack 只凭大小和调用栈识别被释放的块，"
          "释放同大小、同调用栈的更早的块也会被它算作临时分配，所以它的计数可能更多；"
          "realloc 先释放旧块，再分配新块）";
}
