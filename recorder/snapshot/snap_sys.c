/*
 * System facts recorded at the start of every snapshot: hostname, kernel
 * release, OS name (PRETTY_NAME of /etc/os-release), boot id, page size,
 * uptime and all of /proc/meminfo in bytes. The diff report uses them for
 * its "system configuration changes" section and to pick the process
 * matching rule (same boot id or not). For the kernel memory breakdown
 * (analyze/snapmem.c) it also keeps what /proc/meminfo does not say: the
 * nr_* gauges of /proc/vmstat, the zone watermarks, the kernel's reserve
 * and the pages parked on per-CPU lists from /proc/zoneinfo (MemAvailable
 * is MemFree minus that reserve plus reclaimable cache, so these numbers
 * close the gap between the processes and MemTotal - MemAvailable), and
 * the largest slab caches when /proc/slabinfo is readable (root).
 */
#include "snap_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>

static void copy_trim(char *dst, size_t cap, const char *src, size_t n)
{
    while (n && (src[n - 1] == '\n' || src[n - 1] == ' ')) n--;
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

static void os_release(char *dst, size_t cap)
{
    sn_buf b = {0};
    dst[0] = 0;
    int rc = sn_read_at(AT_FDCWD, "/etc/os-release", &b);
    if (rc) rc = sn_read_at(AT_FDCWD, "/usr/lib/os-release", &b);
    if (rc == 0) {
        for (char *l = b.p; l && *l; ) {
            char *nl = strchr(l, '\n');
            if (nl) *nl = 0;
            if (!strncmp(l, "PRETTY_NAME=", 12)) {
                char *v = l + 12;
                size_t n = strlen(v);
                if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) { v++; n -= 2; }
                copy_trim(dst, cap, v, n);
                break;
            }
            l = nl ? nl + 1 : NULL;
        }
    }
    sn_buf_free(&b);
}

/* nr_* lines of /proc/vmstat ("nr_slab_unreclaimable 7508"), values as
 * read (pages). */
static void read_vmstat(sn_sys *s)
{
    sn_buf b = {0};
    if (sn_read_at(AT_FDCWD, "/proc/vmstat", &b) == 0) {
        size_t lines = 0;
        for (size_t i = 0; i < b.n; i++) lines += b.p[i] == '\n';
        s->vmstat = calloc(lines + 1, sizeof *s->vmstat);
        s->vmnames = malloc(b.n + 1);
        if (s->vmstat && s->vmnames) {
            memcpy(s->vmnames, b.p, b.n + 1);
            for (char *l = s->vmnames; l && *l; ) {
                char *nl = strchr(l, '\n');
                if (nl) *nl = 0;
                char *sp = strchr(l, ' ');
                if (sp && !strncmp(l, "nr_", 3)) {
                    *sp = 0;
                    s->vmstat[s->nvmstat].key.ptr = l;
                    s->vmstat[s->nvmstat].key.len = strlen(l);
                    s->vmstat[s->nvmstat].value = strtoull(sp + 1, NULL, 10);
                    s->nvmstat++;
                }
                l = nl ? nl + 1 : NULL;
            }
        }
    }
    sn_buf_free(&b);
}

/* Sums over the zones of /proc/zoneinfo, in bytes: watermarks, managed
 * pages, the kernel's totalreserve_pages (per zone min(high + largest
 * lowmem protection, managed), as calculate_totalreserve_pages() does) and
 * the pages on per-CPU lists ("count:" of each pageset). */
static void read_zoneinfo(sn_sys *s)
{
    static const char *const keys[6] = {"min", "low", "high", "managed", "reserve", "pcp"};
    uint64_t sum[6] = {0};
    sn_buf b = {0};
    if (sn_read_at(AT_FDCWD, "/proc/zoneinfo", &b) == 0) {
        uint64_t high = 0, managed = 0, prot = 0;
        int in_zone = 0;
        for (char *l = b.p; l && *l; ) {
            char *nl = strchr(l, '\n');
            if (nl) *nl = 0;
            char *t = l;
            while (*t == ' ') t++;
            if (!strncmp(l, "Node ", 5)) {
                if (in_zone) sum[4] += high + prot < managed ? high + prot : managed;
                in_zone = 1;
                high = managed = prot = 0;
            } else if (!strncmp(t, "min ", 4)) sum[0] += strtoull(t + 4, NULL, 10);
            else if (!strncmp(t, "low ", 4)) sum[1] += strtoull(t + 4, NULL, 10);
            else if (!strncmp(t, "high ", 5)) { high = strtoull(t + 5, NULL, 10); sum[2] += high; }
            else if (!strncmp(t, "managed ", 8)) { managed = strtoull(t + 8, NULL, 10); sum[3] += managed; }
            else if (!strncmp(t, "count:", 6)) sum[5] += strtoull(t + 6, NULL, 10);
            else if (!strncmp(t, "protection:", 11)) {
                for (char *q = strchr(t, '('); q && *q && *q != ')'; ) {
                    q++;
                    uint64_t v = strtoull(q, &q, 10);
                    if (v > prot) prot = v;
                    while (*q == ' ') q++;
                }
            }
            l = nl ? nl + 1 : NULL;
        }
        if (in_zone) sum[4] += high + prot < managed ? high + prot : managed;
        for (int i = 0; i < 6; i++) {
            s->zoneinfo[i].key.ptr = keys[i];
            s->zoneinfo[i].key.len = strlen(keys[i]);
            s->zoneinfo[i].value = sum[i] * s->page_size;
        }
        s->nzoneinfo = 6;
    }
    sn_buf_free(&b);
}

static int cmp_kv_desc(const void *a, const void *b)
{
    const ms_kv *x = a, *y = b;
    return (x->value < y->value) - (x->value > y->value);
}

/* The largest caches of /proc/slabinfo (root only): bytes = num_slabs x
 * pagesperslab x page size. */
static void read_slabinfo(sn_sys *s)
{
    sn_buf b = {0};
    if (sn_read_at(AT_FDCWD, "/proc/slabinfo", &b) == 0) {
        size_t lines = 0;
        for (size_t i = 0; i < b.n; i++) lines += b.p[i] == '\n';
        s->slabs = calloc(lines + 1, sizeof *s->slabs);
        s->slabnames = malloc(b.n + 1);
        if (s->slabs && s->slabnames) {
            memcpy(s->slabnames, b.p, b.n + 1);
            uint32_t n = 0;
            for (char *l = s->slabnames; l && *l; ) {
                char *nl = strchr(l, '\n');
                if (nl) *nl = 0;
                char *sp = strchr(l, ' ');
                char *sd = strstr(l, ": slabdata");
                if (sp && sd && l[0] != '#' && strncmp(l, "slabinfo", 8)) {
                    *sp = 0;
                    char *q = sp + 1;
                    unsigned long long f[5] = {0};
                    for (int k = 0; k < 5; k++) f[k] = strtoull(q, &q, 10);  /* active num size perslab pages */
                    q = sd + 10;
                    strtoull(q, &q, 10);
                    unsigned long long slabs = strtoull(q, &q, 10);
                    uint64_t bytes = (uint64_t)slabs * f[4] * s->page_size;
                    if (bytes) {
                        s->slabs[n].key.ptr = l;
                        s->slabs[n].key.len = strlen(l);
                        s->slabs[n].value = bytes;
                        n++;
                    }
                }
                l = nl ? nl + 1 : NULL;
            }
            qsort(s->slabs, n, sizeof *s->slabs, cmp_kv_desc);
            s->nslabs = n < 64 ? n : 64;
        }
    }
    sn_buf_free(&b);
}

int sn_sys_read(sn_sys *s)
{
    memset(s, 0, sizeof *s);
    struct utsname u;
    if (uname(&u) == 0) {
        copy_trim(s->hostname, sizeof s->hostname, u.nodename, strlen(u.nodename));
        copy_trim(s->kernel, sizeof s->kernel, u.release, strlen(u.release));
    }
    os_release(s->os_release, sizeof s->os_release);
    sn_buf b = {0};
    if (sn_read_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", &b) == 0)
        copy_trim(s->boot_id, sizeof s->boot_id, b.p, b.n);
    long ps = sysconf(_SC_PAGESIZE);
    s->page_size = ps > 0 ? (uint64_t)ps : 4096;
    if (sn_read_at(AT_FDCWD, "/proc/uptime", &b) == 0)
        s->uptime_ms = (uint64_t)(strtod(b.p, NULL) * 1000.0);
    int rc = sn_read_at(AT_FDCWD, "/proc/meminfo", &b);
    if (rc == 0) {
        size_t lines = 0;
        for (size_t i = 0; i < b.n; i++) lines += b.p[i] == '\n';
        s->meminfo = calloc(lines + 1, sizeof *s->meminfo);
        s->names = malloc(b.n + 1);
        if (!s->meminfo || !s->names) { sn_buf_free(&b); sn_sys_free(s); return -ENOMEM; }
        memcpy(s->names, b.p, b.n + 1);
        for (char *l = s->names; l && *l; ) {
            char *nl = strchr(l, '\n');
            if (nl) *nl = 0;
            char *c = strchr(l, ':');
            if (c) {
                *c = 0;
                char *v = c + 1;
                unsigned long long x = strtoull(v, &v, 10);
                while (*v == ' ') v++;
                if (!strncmp(v, "kB", 2)) x *= 1024;
                s->meminfo[s->nmeminfo].key.ptr = l;
                s->meminfo[s->nmeminfo].key.len = strlen(l);
                s->meminfo[s->nmeminfo].value = x;
                s->nmeminfo++;
            }
            l = nl ? nl + 1 : NULL;
        }
    }
    sn_buf_free(&b);
    read_zoneinfo(s);
    read_vmstat(s);
    read_slabinfo(s);
    s->privilege = geteuid() == 0 ? MS_PRIV_ROOT : MS_PRIV_USER;
    return 0;
}

void sn_sys_free(sn_sys *s)
{
    free(s->meminfo);
    free(s->names);
    free(s->vmstat);
    free(s->vmnames);
    free(s->slabs);
    free(s->slabnames);
    memset(s, 0, sizeof *s);
}
