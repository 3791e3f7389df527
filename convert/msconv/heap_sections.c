/* heaptrack_print's sections for msconv --text --sort: MOST CALLS TO
 * ALLOCATION FUNCTIONS, PEAK MEMORY CONSUMERS, MOST TEMPORARY ALLOCATIONS,
 * MOST MEMORY LEAKED, in heaptrack's order and wording, each entry one
 * site (a unique stack) with its numbers, its call path (analyze/
 * sitepath.h: enough callers to tell it from the other entries) and its
 * stack. The numbers are the heap model's per-site counters (heap.h:
 * "temporary" is heaptrack's rule). */
#include <stdlib.h>
#include <string.h>
#include "heap_views_int.h"
#include "sitepath.h"
#include "fmt.h"
#include "i18n.h"

typedef struct section {
    unsigned bit;
    const char *word;
    ms_msg title;
} section;

static const section sections[] = {
    { HV_SEC_CALLS, "calls", { "分配函数调用最多", "MOST CALLS TO ALLOCATION FUNCTIONS" } },
    { HV_SEC_PEAK, "peak", { "峰值内存占用最多", "PEAK MEMORY CONSUMERS" } },
    { HV_SEC_TEMPORARY, "temporary", { "临时分配最多", "MOST TEMPORARY ALLOCATIONS" } },
    { HV_SEC_LEAKED, "leaked", { "泄漏内存最多", "MOST MEMORY LEAKED" } },
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

int hv_sections_parse(const char *s)
{
    int bits = 0;
    while (s && *s) {
        size_t n = strcspn(s, ",");
        int found = 0;
        if (n == 3 && !strncmp(s, "all", 3)) { bits |= HV_SEC_ALL; found = 1; }
        for (size_t i = 0; i < NSECTIONS && !found; i++)
            if (strlen(sections[i].word) == n && !strncmp(s, sections[i].word, n)) { bits |= (int)sections[i].bit; found = 1; }
        if (!found) return -1;
        s += n;
        if (*s == ',') s++;
    }
    return bits ? bits : -1;
}

static uint64_t key_of(const ms_heap_site *s, unsigned bit)
{
    switch (bit) {
    case HV_SEC_CALLS: return s->allocations;
    case HV_SEC_PEAK: return s->peak_bytes;
    case HV_SEC_TEMPORARY: return s->temporary;
    default: return s->live_bytes;
    }
}

static const ms_hview *sort_v;
static unsigned sort_bit;
static int cmp_key(const void *pa, const void *pb)
{
    const ms_heap_site *a = ms_heap_site_at(sort_v->heap, *(const size_t *)pa);
    const ms_heap_site *b = ms_heap_site_at(sort_v->heap, *(const size_t *)pb);
    uint64_t x = key_of(a, sort_bit), y = key_of(b, sort_bit);
    if (x != y) return x > y ? -1 : 1;
    if (a->allocated_bytes != b->allocated_bytes) return a->allocated_bytes > b->allocated_bytes ? -1 : 1;
    return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

/* The entry's heading, in heaptrack_print's words. */
static void heading(FILE *fp, const ms_heap_site *s, unsigned bit, int en)
{
    char a[MS_FBUF_LEN], b[MS_FBUF_LEN];
    switch (bit) {
    case HV_SEC_CALLS:
        ms_fmt_count(a, s->allocations);
        ms_fmt_bytes(b, s->peak_bytes);
        fprintf(fp, en ? "%s calls to allocation functions with %s peak consumption from\n"
                       : "%s 次分配函数调用，峰值占用 %s，来自\n", a, b);
        break;
    case HV_SEC_PEAK:
        ms_fmt_bytes(a, s->peak_bytes);
        ms_fmt_count(b, s->allocations);
        fprintf(fp, en ? "%s peak memory consumed over %s calls from\n" : "峰值占用 %s，共 %s 次调用，来自\n", a, b);
        break;
    case HV_SEC_TEMPORARY: {
        ms_fmt_count(a, s->temporary);
        ms_fmt_count(b, s->allocations);
        double pct = s->allocations ? 100.0 * (double)s->temporary / (double)s->allocations : 0;
        fprintf(fp, en ? "%s temporary allocations of %s allocations in total (%.2f%%) from\n"
                       : "%s 次临时分配，共 %s 次分配（%.2f%%），来自\n", a, b, pct);
        break;
    }
    default:
        ms_fmt_bytes(a, s->live_bytes);
        ms_fmt_count(b, s->allocations);
        fprintf(fp, en ? "%s leaked over %s calls from\n" : "泄漏 %s，共 %s 次调用，来自\n", a, b);
        break;
    }
}

static int one_section(FILE *fp, const ms_hview *v, const section *sec, size_t *idx, size_t ns, size_t top, int en)
{
    fprintf(fp, "\n%s\n", MS_T(en, sec->title));
    if (sec->bit == HV_SEC_TEMPORARY && ms_heap_sampled(v->heap)) {
        fprintf(fp, "%s\n", ms_i18n_sampled_na(en ? MS_LANG_EN : MS_LANG_ZH));
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < ns; i++)
        if (key_of(ms_heap_site_at(v->heap, idx[i]), sec->bit)) idx[n++] = idx[i];
    sort_v = v;
    sort_bit = sec->bit;
    qsort(idx, n, sizeof *idx, cmp_key);
    if (n > top) n = top;
    if (n == 0) { fputs(en ? "(none)\n" : "（无）\n", fp); return 0; }
    uint32_t *depth = hv_site_depths(v, idx, n);
    if (!depth) return -1;
    for (size_t i = 0; i < n; i++) {
        const ms_heap_site *s = ms_heap_site_at(v->heap, idx[i]);
        char path[2048];
        ms_site_path_name(path, sizeof path, ms_heap_symtab(v->heap), s->stack_id, depth[i]);
        heading(fp, s, sec->bit, en);
        fprintf(fp, "  %s\n", path);
        hv_print_stack(fp, v, s->stack_id, "    ", en);
    }
    free(depth);
    return 0;
}

int hv_sections(FILE *fp, const ms_hview *v, unsigned bits, size_t top, int en)
{
    size_t ns = ms_heap_site_count(v->heap);
    size_t *idx = malloc((ns ? ns : 1) * sizeof *idx);
    if (!idx) return -1;
    int bad = 0;
    for (size_t k = 0; k < NSECTIONS && !bad; k++) {
        if (!(bits & sections[k].bit)) continue;
        for (size_t i = 0; i < ns; i++) idx[i] = i;
        bad = one_section(fp, v, &sections[k], idx, ns, top ? top : 10, en);
    }
    free(idx);
    return bad || ferror(fp) ? -1 : 0;
}
