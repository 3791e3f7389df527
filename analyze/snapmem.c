/*
 * Kernel and system memory of one snapshot (snapmem.h). The kernel
 * computes MemAvailable as MemFree − reserve + page cache − min(page
 * cache / 2, low watermark) + reclaimable kernel memory − min(that / 2,
 * low watermark) (si_mem_available()). So MemTotal − MemAvailable, the
 * memory in use, is exactly: everything not free, minus the page cache
 * and reclaimable slab the kernel would hand out, plus the halves of them
 * it keeps and its reserve. Everything not free is anonymous memory
 * (AnonPages), shmem, slab, page tables, kernel stacks, vmalloc, per-CPU
 * allocations, huge pages, pages parked on per-CPU free lists, page cache
 * — and pages drivers take straight from the page allocator, which no
 * counter shows: that is the rest. The processes' part is their Pss_Anon
 * (their file-backed PSS is page cache, which MemAvailable counts as
 * available; it is shown for reference); anonymous memory of processes we
 * could not read is AnonPages minus that sum.
 */
#include "snapmem.h"
#include <string.h>

static const char *const keys[SM_NROWS] = {
    "processes_anon", "other_anon", "shmem", "slab_unreclaimable", "slab_reclaimable_kept",
    "page_tables", "kernel_stack", "vmalloc", "percpu", "hugetlb", "per_cpu_free_lists",
    "page_cache_kept", "reserve", "unexplained",
};
static const int groups[SM_NROWS] = {
    SMG_PROC, SMG_PROC, SMG_SHMEM, SMG_KERNEL, SMG_KERNEL, SMG_KERNEL, SMG_KERNEL, SMG_KERNEL,
    SMG_KERNEL, SMG_KERNEL, SMG_KERNEL, SMG_CACHE, SMG_RESERVE, SMG_REST,
};

const char *snap_memrow_key(int row) { return row >= 0 && row < SM_NROWS ? keys[row] : "?"; }
int snap_memrow_group(int row) { return row >= 0 && row < SM_NROWS ? groups[row] : SMG_REST; }

static uint64_t min_u(uint64_t a, uint64_t b) { return a < b ? a : b; }

void snap_memuse_of(const snap *s, snap_memuse *m)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < s->nprocs; i++) {
        const snap_proc *p = &s->procs[i];
        if (!snap_proc_mem_known(p)) {
            if (p->kind != MS_PROC_KERNEL && !(p->read_status & MS_READ_VANISHED)) m->n_unknown++;
            continue;
        }
        /* Pss_Anon needs Linux >= 5.3; before, PSS minus its file and shmem
         * parts (also 0 there) is the closest: then it is all of PSS */
        uint64_t anon = p->pss_anon;
        if (!anon && !p->pss_file && !p->pss_shmem) anon = p->pss;
        m->row[SM_PROC_ANON] += (int64_t)anon;
        m->proc_pss += p->pss;
        m->proc_pss_file += p->pss_file;
        m->proc_pss_shmem += p->pss_shmem;
    }
    m->have = snap_meminfo_has(s, "MemTotal") && snap_meminfo_has(s, "MemAvailable");
    if (!m->have) return;
    m->total = snap_meminfo(s, "MemTotal");
    m->avail = snap_meminfo(s, "MemAvailable");
    m->free = snap_meminfo(s, "MemFree");
    m->used = m->total > m->avail ? m->total - m->avail : 0;
    m->cached = snap_meminfo(s, "Cached");
    m->buffers = snap_meminfo(s, "Buffers");
    m->slab_recl = snap_meminfo(s, "SReclaimable");
    m->anon_pages = snap_meminfo(s, "AnonPages");
    m->row[SM_OTHER_ANON] = (int64_t)m->anon_pages - m->row[SM_PROC_ANON];
    m->row[SM_SHMEM] = (int64_t)snap_meminfo(s, "Shmem");
    m->row[SM_SLAB_UNRECL] = (int64_t)snap_meminfo(s, "SUnreclaim");
    m->row[SM_PAGETABLES] = (int64_t)(snap_meminfo(s, "PageTables") + snap_meminfo(s, "SecPageTables"));
    m->row[SM_KSTACK] = (int64_t)snap_meminfo(s, "KernelStack");
    m->row[SM_VMALLOC] = (int64_t)snap_meminfo(s, "VmallocUsed");
    m->row[SM_PERCPU] = (int64_t)snap_meminfo(s, "Percpu");
    m->row[SM_HUGETLB] = (int64_t)snap_meminfo(s, "Hugetlb");
    if (!m->row[SM_HUGETLB])
        m->row[SM_HUGETLB] = (int64_t)(snap_meminfo(s, "HugePages_Total") * snap_meminfo(s, "Hugepagesize"));
    int64_t low = snap_zoneinfo(s, "low"), reserve = snap_zoneinfo(s, "reserve"), pcp = snap_zoneinfo(s, "pcp");
    m->have_zone = low >= 0 && reserve >= 0 && pcp >= 0;
    if (m->have_zone) {
        uint64_t pagecache = snap_meminfo(s, "Active(file)") + snap_meminfo(s, "Inactive(file)");
        uint64_t krecl = snap_meminfo_has(s, "KReclaimable") ? snap_meminfo(s, "KReclaimable") : m->slab_recl;
        m->row[SM_SLAB_KEPT] = (int64_t)min_u(krecl / 2, (uint64_t)low);
        m->row[SM_CACHE_KEPT] = (int64_t)min_u(pagecache / 2, (uint64_t)low);
        m->row[SM_RESERVE] = reserve;
        m->row[SM_PCP] = pcp;
    }
    int64_t sum = 0;
    for (int r = 0; r < SM_REST; r++) sum += m->row[r];
    m->row[SM_REST] = (int64_t)m->used - sum;
    for (int r = SM_SLAB_UNRECL; r <= SM_PCP; r++) m->kernel_total += (uint64_t)m->row[r];
}
