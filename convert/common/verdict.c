/*
 * The integrity verdict of a .memscope file in words (spec 8.5): complete,
 * corrupt, truncated, or incomplete and why (no END record, events the
 * writer could not write, events the recorder saw and could not record).
 * One text for every converter: msconv's --info, JSON, HTML and warnings,
 * and msdiff's inputs, so no report calls a file complete that another
 * calls incomplete.
 */
#include "verdict.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

int ms_verdict_text(char *buf, size_t n, const char **word, const ms_integrity *in, ms_lang l)
{
    static const ms_msg
        M_CORRUPT = {"损坏：偏移 %llu 处的数据块损坏（跳过 %llu 个数据块，%llu 字节）",
                     "corrupt chunk at offset %llu (%llu chunks skipped, %llu bytes)"},
        M_TRUNC = {"截断：在偏移 %llu 处截断，丢失 %llu 条记录（%llu 字节）",
                   "truncated at offset %llu: %llu records lost (%llu bytes)"},
        M_NOEND = {"不完整：没有追踪结束记录（记录器被杀死？）",
                   "incomplete: no end-of-trace record (recorder killed?)"},
        M_LOST = {"不完整：%s，共 %llu 个事件，写入 %llu 个（%llu 次写入错误）",
                  "incomplete: %s, %llu of %llu events written (%llu write errors)"},
        M_DISK = {"磁盘已满", "disk full"}, M_FBIG = {"达到文件大小上限", "file size limit reached"},
        M_NOMEM = {"内存不足", "out of memory"}, M_WERR = {"写入错误", "write errors"},
        M_DROP = {"不完整：记录器看到但未记录 %llu 个事件（信号处理函数中无法等待记录的分配和释放，或某线程的事件缓冲区一直满）",
                  "incomplete: %llu events seen but not recorded (allocations and frees of signal"
                  " handlers that could not wait for the recorder, or a thread's event buffer stayed full)"},
        M_OK = {"完整", "complete"};
    const char *w;
    if (in->verdict == MS_ECORRUPT) {
        w = "corrupt";
        snprintf(buf, n, MS_T(l, M_CORRUPT), (unsigned long long)in->first_bad_offset,
                 (unsigned long long)in->chunks_bad, (unsigned long long)in->bytes_lost);
    } else if (in->verdict == MS_ETRUNC) {
        w = "truncated";
        snprintf(buf, n, MS_T(l, M_TRUNC), (unsigned long long)in->trunc_offset,
                 (unsigned long long)in->records_lost, (unsigned long long)in->bytes_lost);
    } else if (!in->has_end) {
        w = "incomplete";
        snprintf(buf, n, "%s", MS_T(l, M_NOEND));
    } else if (in->end_events_lost || in->end_write_errors) {
        /* spec 8.5: the recorder could not write everything (1.2 END) */
        int e = (int)in->end_first_errno;
        const char *why = e == ENOSPC || e == EDQUOT ? MS_T(l, M_DISK)
                        : e == EFBIG ? MS_T(l, M_FBIG)
                        : e == ENOMEM ? MS_T(l, M_NOMEM)
                        : e > 0 ? (l == MS_LANG_EN ? strerror(e) : ms_cli_strerror(e)) : MS_T(l, M_WERR);
        uint64_t got = in->end_n_events >= in->end_events_lost
                           ? in->end_n_events - in->end_events_lost : 0;
        w = "incomplete";
        if (l == MS_LANG_EN)
            snprintf(buf, n, M_LOST.en, why, (unsigned long long)got, (unsigned long long)in->end_n_events,
                     (unsigned long long)in->end_write_errors);
        else
            snprintf(buf, n, M_LOST.zh, why, (unsigned long long)in->end_n_events, (unsigned long long)got,
                     (unsigned long long)in->end_write_errors);
    } else if (in->end_n_dropped) {
        w = "incomplete";
        snprintf(buf, n, MS_T(l, M_DROP), (unsigned long long)in->end_n_dropped);
    } else {
        w = "complete";
        snprintf(buf, n, "%s", MS_T(l, M_OK));
    }
    if (word) *word = w;
    return strcmp(w, "complete") != 0;
}
