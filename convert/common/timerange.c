/* Range wording shared by the heap reports (timerange.h). */
#include <stdio.h>
#include "timerange.h"

int ms_range_note(char *buf, size_t cap, const ms_heap *h, ms_lang lang, int long_form)
{
    const ms_range *r = ms_heap_range(h);
    buf[0] = 0;
    if (!r) return 0;
    int en = lang == MS_LANG_EN;
    char head[400], phase[300] = "";
    if (r->req.phase)
        snprintf(phase, sizeof phase, en ? " (phase %s)" : "（阶段 %s）", r->req.phase);
    snprintf(head, sizeof head, en ? "time range %.3f\u2013%.3f s%s" : "时间范围 %.3f\u2013%.3f 秒%s",
             r->from_s, r->to_s, phase);
    if (!long_form) snprintf(buf, cap, "%s", head);
    else if (en)
        snprintf(buf, cap, "%s: allocations made in the range only; peak = their blocks still live at "
                 "%.3f s; leaked = those still live at the end of the trace", head, r->to_s);
    else
        snprintf(buf, cap, "%s：只计该范围内的分配；峰值 = 其中在第 %.3f 秒仍存活的内存块；泄漏 = 其中到追踪"
                 "结束仍未释放的", head, r->to_s);
    return 1;
}
