/*
 * System facts recorded at the start of every snapshot: hostname, kernel
 * release, OS name (PRETTY_NAME of /etc/os-release), boot id, page size,
 * uptime and all of /proc/meminfo in bytes. The diff report uses them for
 * its "system configuration changes" section and to pick the process
 * matching rule (same boot id or not).
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
    return 0;
}

void sn_sys_free(sn_sys *s)
{
    free(s->meminfo);
    free(s->names);
    s->meminfo = NULL;
    s->names = NULL;
    s->nmeminfo = 0;
}
