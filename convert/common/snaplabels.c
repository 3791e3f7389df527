/* Bilingual labels of the memory breakdown rows (snaplabels.h), kept in
 * one table so text, Markdown and HTML reports agree. */
#include "snaplabels.h"
#include "snapmem.h"

static const ms_msg rows[SM_NROWS] = {
    {"进程匿名内存（可读进程的 Pss_Anon）", "Processes' anonymous memory (Pss_Anon of readable processes)"},
    {"其他匿名内存（无法读取的进程等：AnonPages − 上一行）", "Other anonymous memory (unreadable processes etc.: AnonPages − row above)"},
    {"共享内存 Shmem（tmpfs、/dev/shm、SysV）", "Shared memory Shmem (tmpfs, /dev/shm, SysV)"},
    {"Slab 不可回收（SUnreclaim）", "Slab, unreclaimable (SUnreclaim)"},
    {"Slab 可回收中不计为可用的部分", "Slab, reclaimable part not counted as available"},
    {"页表 PageTables", "Page tables (PageTables)"},
    {"内核栈 KernelStack", "Kernel stacks (KernelStack)"},
    {"Vmalloc（VmallocUsed）", "Vmalloc (VmallocUsed)"},
    {"Percpu", "Per-CPU allocations (Percpu)"},
    {"大页 HugeTLB", "Huge pages (HugeTLB)"},
    {"每 CPU 空闲页列表（不计入 MemFree）", "Per-CPU free page lists (not in MemFree)"},
    {"页缓存中不计为可用的部分", "Page cache not counted as available"},
    {"内核保留（水位线、lowmem 保护）", "Kernel reserve (watermarks, lowmem protection)"},
    {"其余未解释部分（驱动等直接分配的页）", "Unexplained rest (pages drivers allocate directly, ...)"},
};
static const ms_msg groups[6] = {
    {"进程", "processes"}, {"共享内存", "shared memory"}, {"内核", "kernel"},
    {"页缓存", "page cache"}, {"保留", "reserve"}, {"其余", "rest"},
};

const char *ms_memrow_label(ms_lang l, int row)
{
    return row >= 0 && row < SM_NROWS ? MS_T(l, rows[row]) : "?";
}

const char *ms_memgroup_label(ms_lang l, int group)
{
    return group >= 0 && group < 6 ? MS_T(l, groups[group]) : "?";
}
