/* Window-trace wording shared by the heap reports (window.h). */
#include <stdio.h>
#include "window.h"
#include "fmt.h"

int ms_window_note(char *buf, size_t cap, const ms_heap *h, ms_lang lang)
{
    double after;
    buf[0] = 0;
    if (!ms_heap_window(h, &after)) return 0;
    const ms_heap_summary *s = ms_heap_get_summary(h);
    const ms_heap_info *in = ms_heap_get_info(h);
    double len = ms_heap_ticks_sec(h, s->end_time);
    char start[64];
    if (lang == MS_LANG_EN) {
        if (after >= 0) snprintf(start, sizeof start, "%.3f s after the process started", after);
        else snprintf(start, sizeof start, "while the process was running");
        snprintf(buf, cap, "window trace (attach session %llu): recording started %s and lasted "
                 "%.3f s; blocks allocated before it are unknown: %s frees of them are counted "
                 "apart, and blocks still live at its end are not necessarily leaks",
                 (unsigned long long)in->session, start, len,
                 ms_fmt_count(MS_FBUF, s->frees_before_window));
    } else {
        if (after >= 0) snprintf(start, sizeof start, "进程启动 %.3f 秒后", after);
        else snprintf(start, sizeof start, "进程运行期间");
        snprintf(buf, cap, "时间窗口记录（第 %llu 次附加）：%s开始记录，持续 %.3f 秒；窗口之前分配的"
                 "内存块未知：对它们的 %s 次释放单独计数，窗口结束时仍存活的内存块不一定是泄漏",
                 (unsigned long long)in->session, start, len,
                 ms_fmt_count(MS_FBUF, s->frees_before_window));
    }
    return 1;
}

const char *ms_window_leak_label(const ms_heap *h, ms_lang lang)
{
    int w = ms_heap_window(h, NULL);
    if (lang == MS_LANG_EN) return w ? "live at the end of the window" : "total memory leaked";
    return w ? "窗口结束时仍存活" : "泄漏总量";
}
