/*
 * Per-process /proc reader of `msrec snapshot`. For each pid it opens
 * /proc/PID once as a directory and reads everything relative to that fd
 * (stat, status, cmdline, exe, fd/, smaps_rollup, smaps), so a pid reused
 * mid-scan cannot mix two processes. Every failure is recorded in the
 * record's read_status instead of dropping the process: vanished (ESRCH /
 * ENOENT), zombie, or EACCES on smaps / fd / exe / maps. Totals come from
 * smaps_rollup (exact kernel sums); libraries and the per-permission sums
 * come from one pass over smaps (smaps is also summed when there is no
 * smaps_rollup on old kernels). A library is the mappings of one file and
 * nothing else (an anonymous mapping that follows it may be its .bss or an
 * unrelated heap: counting it made a 32 KB library look like megabytes).
 * A mapping the kernel shows as "PATH (deleted)" (a library or executable
 * replaced by an upgrade while the process runs) stays apart from a new
 * file at PATH and keeps that fact in its flags; its size is the mapped,
 * deleted file's (through map_files, root only), never the new file's.
 * Sizes on disk are cached per path for processes that share our root
 * directory.
 */
#include "snap_internal.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define PF_KTHREAD 0x00200000UL

int sn_buf_reserve(sn_buf *b, size_t want)
{
    if (want <= b->cap) return 0;
    size_t c = b->cap ? b->cap : 4096;
    while (c < want) c *= 2;
    char *p = realloc(b->p, c);
    if (!p) return -ENOMEM;
    b->p = p;
    b->cap = c;
    return 0;
}

void sn_buf_free(sn_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int sn_read_at(int dirfd, const char *name, sn_buf *b)
{
    b->n = 0;
    int single = (dirfd != AT_FDCWD || !strncmp(name, "/proc/", 6)) &&
                 strcmp(name, "maps") && strcmp(name, "smaps");
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    for (;;) {
        if (sn_buf_reserve(b, b->n + 65536 + 1)) { close(fd); return -ENOMEM; }
        size_t want = b->cap - b->n - 1;
        ssize_t r = read(fd, b->p + b->n, want);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            b->p[b->n] = 0;
            return -e;
        }
        if (r == 0) break;
        b->n += (size_t)r;
        /* single-record /proc files (stat, status, cmdline, smaps_rollup,
         * meminfo: one show into a buffer grown to fit) return everything
         * in one read, so a short read is the end: skip the read() for EOF.
         * maps and smaps return one seq_file page per read: read to EOF. */
        if ((size_t)r < want && single) break;
    }
    close(fd);
    b->p[b->n] = 0;
    return 0;
}

/* ---- caches ------------------------------------------------------------ */

typedef struct size_ent { char *path; uint64_t hash; int64_t size; } size_ent;
typedef struct user_ent { uint64_t uid; char *name; } user_ent;

struct sn_scanner {
    sn_opts o;
    size_ent *sizes; size_t nsizes, capsizes;   /* open addressing, pow2 */
    user_ent *users; size_t nusers;
    dev_t root_dev; ino_t root_ino;
    sn_buf b1, b2, big, passwd;
    int passwd_read;
    int test_no_rollup;     /* MSREC_TEST_NO_ROLLUP: act as on kernels < 4.14 */
};

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) { h ^= (unsigned char)s[i]; h *= 1099511628211ULL; }
    return h ? h : 1;
}

sn_scanner *sn_scanner_new(const sn_opts *o)
{
    sn_scanner *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->o = *o;
    s->test_no_rollup = getenv("MSREC_TEST_NO_ROLLUP") != NULL;
    struct stat st;
    if (stat("/", &st) == 0) { s->root_dev = st.st_dev; s->root_ino = st.st_ino; }
    return s;
}

void sn_scanner_free(sn_scanner *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->capsizes; i++) free(s->sizes[i].path);
    free(s->sizes);
    for (size_t i = 0; i < s->nusers; i++) free(s->users[i].name);
    free(s->users);
    sn_buf_free(&s->b1); sn_buf_free(&s->b2); sn_buf_free(&s->big); sn_buf_free(&s->passwd);
    free(s);
}

/* Size on disk of PATH (len n) as seen from our root; -1 if unknown. */
static int64_t cached_size(sn_scanner *s, const char *path, size_t n)
{
    if (s->nsizes * 2 >= s->capsizes) {
        size_t nc = s->capsizes ? s->capsizes * 2 : 1024;
        size_ent *ne = calloc(nc, sizeof *ne);
        if (!ne) return -1;
        for (size_t i = 0; i < s->capsizes; i++) {
            if (!s->sizes[i].path) continue;
            size_t j = s->sizes[i].hash & (nc - 1);
            while (ne[j].path) j = (j + 1) & (nc - 1);
            ne[j] = s->sizes[i];
        }
        free(s->sizes);
        s->sizes = ne;
        s->capsizes = nc;
    }
    uint64_t h = hash_str(path, n);
    size_t j = h & (s->capsizes - 1);
    while (s->sizes[j].path) {
        if (s->sizes[j].hash == h && !strncmp(s->sizes[j].path, path, n) && !s->sizes[j].path[n])
            return s->sizes[j].size;
        j = (j + 1) & (s->capsizes - 1);
    }
    char *copy = strndup(path, n);
    if (!copy) return -1;
    struct stat st;
    int64_t size = stat(copy, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    s->sizes[j].path = copy;
    s->sizes[j].hash = h;
    s->sizes[j].size = size;
    s->nsizes++;
    return size;
}

static uint64_t parse_u64(const char **pp);

/* Name of uid from /etc/passwd (read once: no NSS module loading for the
 * common case), else getpwuid (LDAP etc.), else the number. */
static const char *passwd_name(sn_scanner *s, uint64_t uid, char *out, size_t cap)
{
    if (!s->passwd_read) {
        s->passwd_read = 1;
        if (sn_read_at(AT_FDCWD, "/etc/passwd", &s->passwd)) s->passwd.n = 0;
    }
    for (const char *l = s->passwd.n ? s->passwd.p : ""; *l; ) {
        const char *nl = strchr(l, '\n');
        const char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 && (!nl || c2 < nl) && c1 - l > 0) {
            const char *q = c2 + 1;
            if (*q >= '0' && *q <= '9' && parse_u64(&q) == uid && *q == ':' && (size_t)(c1 - l) < cap) {
                memcpy(out, l, (size_t)(c1 - l));
                out[c1 - l] = 0;
                return out;
            }
        }
        if (!nl) break;
        l = nl + 1;
    }
    return NULL;
}

static const char *user_name(sn_scanner *s, uint64_t uid)
{
    for (size_t i = 0; i < s->nusers; i++)
        if (s->users[i].uid == uid) return s->users[i].name;
    user_ent *nu = realloc(s->users, (s->nusers + 1) * sizeof *nu);
    if (!nu) return "";
    s->users = nu;
    char pbuf[256];
    const char *pn = passwd_name(s, uid, pbuf, sizeof pbuf);
    if (pn) {
        char *name = strdup(pn);
        if (!name) return "";
        s->users[s->nusers].uid = uid;
        s->users[s->nusers].name = name;
        return s->users[s->nusers++].name;
    }
    struct passwd *pw = getpwuid((uid_t)uid);
    char tmp[32];
    if (!pw) snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)uid);
    char *name = strdup(pw ? pw->pw_name : tmp);
    if (!name) return "";
    s->users[s->nusers].uid = uid;
    s->users[s->nusers].name = name;
    s->nusers++;
    return name;
}

/* ---- parsing helpers --------------------------------------------------- */

static uint64_t parse_u64(const char **pp)
{
    const char *p = *pp;
    while (*p == ' ' || *p == '\t') p++;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + (uint64_t)(*p++ - '0');
    *pp = p;
    return v;
}

/* "Key:   123 kB" lines: value in bytes. */
static uint64_t kb_value(const char *p)
{
    return parse_u64(&p) * 1024;
}

static int is_err_gone(int e) { return e == -ESRCH || e == -ENOENT; }

void sn_proc_free(sn_proc *p)
{
    free(p->name); free(p->cmdline); free(p->exe);
    for (uint32_t i = 0; i < p->r.nlibs; i++) free((char *)p->libs[i].path.ptr);
    free(p->libs);
    free(p->lflags);
    memset(p, 0, sizeof *p);
}

static int parse_stat(sn_proc *p, const char *buf, uint64_t *flags)
{
    const char *l = strchr(buf, '(');
    const char *r = strrchr(buf, ')');
    if (!l || !r || r < l) return -1;
    p->name = strndup(l + 1, (size_t)(r - l - 1));
    if (!p->name) return -1;
    p->r.name.ptr = p->name;
    p->r.name.len = (size_t)(r - l - 1);
    const char *q = r + 1;
    while (*q == ' ') q++;
    p->r.state = (unsigned char)*q;
    if (*q) q++;
    /* tokens after the state: field 4 (ppid) onwards */
    for (int field = 4; field <= 22 && *q; field++) {
        uint64_t v = 0;
        while (*q == ' ') q++;
        int neg = 0;
        if (*q == '-') { neg = 1; q++; }
        v = parse_u64(&q);
        if (neg) v = 0;
        if (field == 4) p->r.ppid = v;
        else if (field == 9) *flags = v;
        else if (field == 20) p->r.threads = v;
        else if (field == 22) p->r.starttime = v;
        while (*q && *q != ' ') q++;
    }
    return 0;
}

static void parse_status(sn_proc *p, const char *buf, int *kthread, uint64_t *uid)
{
    for (const char *l = buf; l && *l; ) {
        const char *nl = strchr(l, '\n');
        const char *c = strchr(l, ':');
        if (c && (!nl || c < nl)) {
            size_t k = (size_t)(c - l);
            const char *v = c + 1;
#define K(s) (k == sizeof(s) - 1 && !memcmp(l, s, k))
            if (K("Uid")) { parse_u64(&v); *uid = parse_u64(&v); }  /* effective */
            else if (K("Kthread")) *kthread = (int)parse_u64(&v);
            else if (K("Threads")) p->r.threads = parse_u64(&v);
            else if (K("VmSize")) p->r.vm_size = kb_value(v);
            else if (K("VmHWM")) p->r.vm_hwm = kb_value(v);
            else if (K("VmRSS")) p->r.rss = kb_value(v);
            else if (K("RssAnon")) p->r.rss_anon = kb_value(v);
            else if (K("RssFile")) p->r.rss_file = kb_value(v);
            else if (K("RssShmem")) p->r.rss_shmem = kb_value(v);
            else if (K("VmSwap")) p->r.swap = kb_value(v);
#undef K
        }
        l = nl ? nl + 1 : NULL;
    }
}

/* Sum lines of smaps_rollup or of one smaps VMA into the record. */
typedef struct mem_acc {
    uint64_t rss, pss, pss_anon, pss_file, pss_shmem, sc, sd, pc, pd, swap, swap_pss, anon;
} mem_acc;

static void acc_line(mem_acc *a, const char *l, size_t k, const char *v)
{
#define K(s) (k == sizeof(s) - 1 && !memcmp(l, s, k))
    switch (l[0]) {
    case 'R': if (K("Rss")) a->rss += kb_value(v); break;
    case 'P':
        if (K("Pss")) a->pss += kb_value(v);
        else if (K("Pss_Anon")) a->pss_anon += kb_value(v);
        else if (K("Pss_File")) a->pss_file += kb_value(v);
        else if (K("Pss_Shmem")) a->pss_shmem += kb_value(v);
        else if (K("Private_Clean")) a->pc += kb_value(v);
        else if (K("Private_Dirty")) a->pd += kb_value(v);
        break;
    case 'S':
        if (K("Shared_Clean")) a->sc += kb_value(v);
        else if (K("Shared_Dirty")) a->sd += kb_value(v);
        else if (K("Swap")) a->swap += kb_value(v);
        else if (K("SwapPss")) a->swap_pss += kb_value(v);
        break;
    case 'A': if (K("Anonymous")) a->anon += kb_value(v); break;
    default: break;
    }
#undef K
}

static void acc_to_rec(const mem_acc *a, ms_snap_proc *r)
{
    r->rss = a->rss; r->pss = a->pss;
    r->pss_anon = a->pss_anon; r->pss_file = a->pss_file; r->pss_shmem = a->pss_shmem;
    r->shared_clean = a->sc; r->shared_dirty = a->sd;
    r->private_clean = a->pc; r->private_dirty = a->pd;
    r->uss = a->pc + a->pd;
    r->swap = a->swap; r->swap_pss = a->swap_pss;
}

static void parse_rollup(const char *buf, mem_acc *a)
{
    for (const char *l = buf; l && *l; ) {
        const char *nl = strchr(l, '\n');
        const char *c = memchr(l, ':', nl ? (size_t)(nl - l) : strlen(l));
        if (c && l[0] >= 'A' && l[0] <= 'Z') acc_line(a, l, (size_t)(c - l), c + 1);
        l = nl ? nl + 1 : NULL;
    }
}

static uint32_t perm_bits(const char *p)
{
    uint32_t b = 0;
    if (p[0] == 'r') b |= 1;
    if (p[1] == 'w') b |= 2;
    if (p[2] == 'x') b |= 4;
    if (p[3] == 's') b |= 8;
    return b;
}

/* The lib of PATH (len n) with the deleted bit `del`, created on first
 * use. A deleted file's size comes from map_files/START-END (the mapped
 * inode itself; needs CAP_SYS_ADMIN), else it stays 0 (unknown). */
static ms_snap_lib *lib_get(sn_scanner *s, sn_proc *p, int dirfd, int same_root,
                            const char *path, size_t n, uint32_t del, uint64_t start, uint64_t end,
                            uint32_t *last)
{
#define SAME(i) (p->libs[i].path.len == n && (p->lflags[i].flags & MS_LIB_DELETED) == del && \
                 !memcmp(p->libs[i].path.ptr, path, n))
    if (*last < p->r.nlibs && SAME(*last)) return &p->libs[*last];
    for (uint32_t i = 0; i < p->r.nlibs; i++)
        if (SAME(i)) { *last = i; return &p->libs[i]; }
#undef SAME
    if (p->r.nlibs == p->caplibs) {
        uint32_t nc = p->caplibs ? p->caplibs * 2 : 32;
        ms_snap_lib *nl = realloc(p->libs, nc * sizeof *nl);
        if (!nl) return NULL;
        p->libs = nl;
        ms_snap_flag *nf = realloc(p->lflags, nc * sizeof *nf);
        if (!nf) return NULL;
        p->lflags = nf;
        p->caplibs = nc;
    }
    char *copy = strndup(path, n);
    if (!copy) return NULL;
    ms_snap_lib *l = &p->libs[p->r.nlibs];
    memset(l, 0, sizeof *l);
    p->lflags[p->r.nlibs].flags = del;
    l->path.ptr = copy;
    l->path.len = n;
    int64_t sz = -1;
    if (del) {
        char mf[64];
        struct stat st;
        snprintf(mf, sizeof mf, "map_files/%llx-%llx", (unsigned long long)start, (unsigned long long)end);
        if (fstatat(dirfd, mf, &st, 0) == 0 && S_ISREG(st.st_mode)) sz = (int64_t)st.st_size;
    } else if (same_root) sz = cached_size(s, copy, n);
    else {
        char rp[4200];
        struct stat st;
        if (snprintf(rp, sizeof rp, "root%s", copy) < (int)sizeof rp &&
            fstatat(dirfd, rp, &st, 0) == 0 && S_ISREG(st.st_mode))
            sz = (int64_t)st.st_size;
    }
    l->disk_size = sz > 0 ? (uint64_t)sz : 0;
    *last = p->r.nlibs++;
    return l;
}

/* One pass over smaps (or maps): libraries (file mappings grouped by path
 * and deleted bit), sums by permission, and the totals when there is no
 * smaps_rollup (sum_totals). */
static int parse_smaps(sn_scanner *s, sn_proc *p, int dirfd, int same_root, const char *buf,
                       int sum_totals)
{
    mem_acc tot = {0};
    ms_snap_lib *cur_lib = NULL;
    ms_snap_perm *cur_perm = NULL;
    uint32_t last = 0, nperms = 0;
    for (const char *l = buf; l && *l; ) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        char c0 = l[0];
        if ((c0 >= '0' && c0 <= '9') || (c0 >= 'a' && c0 <= 'f')) {
            /* header: start-end perms offset dev inode path */
            const char *q = l;
            uint64_t start = strtoull(q, (char **)&q, 16);
            uint64_t end = (*q == '-') ? strtoull(q + 1, (char **)&q, 16) : start;
            while (*q == ' ') q++;
            const char *perms = q;
            uint32_t prot = (size_t)(l + len - q) >= 4 ? perm_bits(perms) : 0;
            /* skip perms, offset, dev, inode */
            for (int f = 0; f < 4 && q < l + len; f++) {
                while (q < l + len && *q != ' ') q++;
                while (q < l + len && *q == ' ') q++;
            }
            const char *path = q;
            size_t plen = (size_t)(l + len - q);
            static const char del[] = " (deleted)";
            uint32_t deleted = 0;
            if (plen > sizeof del - 1 && !memcmp(path + plen - (sizeof del - 1), del, sizeof del - 1)) {
                plen -= sizeof del - 1;
                deleted = MS_LIB_DELETED;
            }
            uint64_t size = end - start;
            cur_lib = NULL;
            if (plen && path[0] == '/') {
                cur_lib = lib_get(s, p, dirfd, same_root, path, plen, deleted, start, end, &last);
                if (!cur_lib) return -ENOMEM;
                cur_lib->mapped += size;
                if (prot & 4) p->lflags[cur_lib - p->libs].flags |= MS_LIB_EXEC;
            }
            cur_perm = NULL;
            for (uint32_t i = 0; i < nperms; i++)
                if (p->perms[i].prot == prot) { cur_perm = &p->perms[i]; break; }
            if (!cur_perm && nperms < 16) {
                cur_perm = &p->perms[nperms++];
                memset(cur_perm, 0, sizeof *cur_perm);
                cur_perm->prot = prot;
            }
            if (cur_perm) cur_perm->size += size;
        } else if (c0 >= 'A' && c0 <= 'Z') {
            const char *c = memchr(l, ':', len);
            if (c) {
                size_t k = (size_t)(c - l);
                if (k == 3 && !memcmp(l, "Rss", 3)) {
                    uint64_t v = kb_value(c + 1);
                    if (cur_lib) cur_lib->rss += v;
                    if (cur_perm) cur_perm->rss += v;
                } else if (k == 3 && !memcmp(l, "Pss", 3)) {
                    uint64_t v = kb_value(c + 1);
                    if (cur_lib) cur_lib->pss += v;
                    if (cur_perm) cur_perm->pss += v;
                }
                if (sum_totals) acc_line(&tot, l, k, c + 1);
            }
        }
        l = nl ? nl + 1 : NULL;
    }
    p->r.nperms = nperms;
    p->r.perms = p->perms;
    p->r.libs = p->libs;
    p->r.lib_flags = p->lflags;
    p->r.nlib_flags = p->r.nlibs;
    if (sum_totals) acc_to_rec(&tot, &p->r);   /* Pss_Anon/File/Shmem: rollup only, stay 0 */
    return 0;
}

static int open_files(int dirfd, int64_t *out)
{
    struct stat st;
    if (fstatat(dirfd, "fd", &st, 0) == 0 && st.st_size > 0) {
        *out = (int64_t)st.st_size;
        return 0;
    }
    int fd = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    DIR *d = fdopendir(fd);
    if (!d) { int e = errno; close(fd); return -e; }
    int64_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.') n++;
    closedir(d);
    *out = n;
    return 0;
}

static int classify(const sn_proc *p, int kthread, uint64_t flags)
{
    if (kthread == 1 || (flags & PF_KTHREAD)) return MS_PROC_KERNEL;
    if (p->r.uid == 0) return MS_PROC_SYSTEM;
    static const char *const dirs[] = {"/usr/bin/", "/usr/sbin/", "/usr/lib/", "/usr/libexec/",
                                       "/lib/", "/bin/", "/sbin/", "/usr/local/sbin/"};
    const char *exe = p->exe ? p->exe : "";
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        if (!strncmp(exe, dirs[i], strlen(dirs[i]))) return MS_PROC_SYSTEM;
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    static const char *const kw[] = {"daemon", "server"};
    for (size_t i = 0; i < 2; i++)
        if (strstr(base, kw[i]) || (p->name && strstr(p->name, kw[i]))) return MS_PROC_SYSTEM;
    return MS_PROC_USER;
}

int sn_scan_pid(sn_scanner *s, long pid, sn_proc *p)
{
    memset(p, 0, sizeof *p);
    p->r.pid = (uint64_t)pid;
    p->r.open_files = -1;
    char dname[32];
    snprintf(dname, sizeof dname, "/proc/%ld", pid);
    int dirfd = open(dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) { p->r.read_status = MS_READ_VANISHED; return -1; }
    uint64_t flags = 0, uid = 0;
    int kthread = -1, rc;
    rc = sn_read_at(dirfd, "stat", &s->b1);
    if (rc || parse_stat(p, s->b1.p, &flags)) {
        close(dirfd);
        p->r.read_status = MS_READ_VANISHED;
        return -1;
    }
    if (p->r.state == 'Z' || p->r.state == 'X') p->r.read_status |= MS_READ_ZOMBIE;
    /* kernel threads (PF_KTHREAD in stat): root, no memory, no cmdline */
    int is_kernel = (flags & PF_KTHREAD) != 0;
    uid = is_kernel ? 0 : UINT64_MAX;
    if (!is_kernel) {
        if (sn_read_at(dirfd, "status", &s->b1) == 0) parse_status(p, s->b1.p, &kthread, &uid);
        else p->r.read_status |= MS_READ_VANISHED;
        if (kthread == 1) is_kernel = 1;
    }
    struct stat dst;
    if (uid == UINT64_MAX) uid = fstat(dirfd, &dst) == 0 ? dst.st_uid : 0;
    p->r.uid = uid;
    p->r.user.ptr = user_name(s, uid);
    p->r.user.len = strlen(p->r.user.ptr);

    /* cmdline */
    rc = is_kernel ? 0 : sn_read_at(dirfd, "cmdline", &s->b1);
    if (is_kernel) s->b1.n = 0;
    if (rc == 0 && s->b1.n) {
        size_t n = s->b1.n;
        if (n > (256u << 10)) n = 256u << 10;   /* keep records small */
        while (n && s->b1.p[n - 1] == 0) n--;
        p->cmdline = malloc(n + 1);
        if (p->cmdline) {
            memcpy(p->cmdline, s->b1.p, n);
            p->cmdline[n] = 0;
            p->r.cmdline.ptr = p->cmdline;
            p->r.cmdline.len = n;
        }
    } else if (is_err_gone(rc)) p->r.read_status |= MS_READ_VANISHED;

    if (!is_kernel && !(p->r.read_status & (MS_READ_ZOMBIE | MS_READ_VANISHED))) {
        char lbuf[4200];
        ssize_t ln = readlinkat(dirfd, "exe", lbuf, sizeof lbuf - 1);
        if (ln > 0) {
            static const char del[] = " (deleted)";
            if ((size_t)ln > sizeof del - 1 && !memcmp(lbuf + ln - (sizeof del - 1), del, sizeof del - 1)) {
                ln -= sizeof del - 1;
                p->r.exe_flags |= MS_EXE_DELETED;
            }
            p->exe = strndup(lbuf, (size_t)ln);
            if (p->exe) { p->r.exe.ptr = p->exe; p->r.exe.len = (size_t)ln; }
            struct stat st;
            if (fstatat(dirfd, "exe", &st, 0) == 0) p->r.exe_size = (uint64_t)st.st_size;
        } else if (ln < 0 && errno == EACCES) p->r.read_status |= MS_READ_DENIED_EXE;
        else if (ln < 0 && (errno == ESRCH || errno == ENOENT)) {
            /* exe of a process that is exiting */
        }
        int64_t nf = -1;
        rc = open_files(dirfd, &nf);
        if (rc == -EACCES) p->r.read_status |= MS_READ_DENIED_FD;
        else if (rc == 0) p->r.open_files = nf;

        mem_acc a = {0};
        rc = s->test_no_rollup ? -ENOENT : sn_read_at(dirfd, "smaps_rollup", &s->b2);
        int no_rollup = 0;
        if (rc == 0 && s->b2.n) {
            parse_rollup(s->b2.p, &a);
            acc_to_rec(&a, &p->r);
        } else if (rc == -EACCES) {
            p->r.read_status |= MS_READ_DENIED_SMAPS;
        } else if (rc == -ENOENT && faccessat(dirfd, "maps", F_OK, 0) == 0) {
            no_rollup = 1;
            p->r.read_status |= MS_READ_NO_ROLLUP;
        } else if (rc == 0) {
            /* empty: the process exited (or became a zombie) meanwhile */
            p->r.read_status |= MS_READ_VANISHED;
        } else if (is_err_gone(rc)) p->r.read_status |= MS_READ_VANISHED;

        /* libraries and permission sums: from smaps (with RSS/PSS) when
         * asked or when there is no smaps_rollup, else from maps (mapped
         * size only; as cheap as the totals) */
        int use_smaps = s->o.libs >= 2 || no_rollup;
        if ((s->o.libs || no_rollup) &&
            !(p->r.read_status & MS_READ_VANISHED) &&
            !(use_smaps && (p->r.read_status & MS_READ_DENIED_SMAPS))) {
            rc = sn_read_at(dirfd, use_smaps ? "smaps" : "maps", &s->big);
            if (rc == 0) {
                int same_root = 1;
                struct stat rst;
                if (fstatat(dirfd, "root", &rst, 0) == 0)
                    same_root = rst.st_dev == s->root_dev && rst.st_ino == s->root_ino;
                if (parse_smaps(s, p, dirfd, same_root, s->big.p, no_rollup)) {
                    close(dirfd);
                    return -2;
                }
            } else if (rc == -EACCES) p->r.read_status |= MS_READ_DENIED_MAPS;
            else if (is_err_gone(rc)) p->r.read_status |= MS_READ_VANISHED;
        }
    }
    p->r.kind = (uint32_t)classify(p, is_kernel, flags);
    p->r.libs = p->libs;
    p->r.perms = p->perms;
    p->r.lib_flags = p->lflags;
    p->r.nlib_flags = p->r.nlibs;
    close(dirfd);
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int sn_scan_all(sn_scanner *s, sn_proc **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    long *pids = NULL;
    size_t np = 0, cap = 0;
    if (s->o.only_pid > 0) {
        pids = malloc(sizeof *pids);
        if (!pids) return -ENOMEM;
        pids[np++] = s->o.only_pid;
    } else {
        DIR *d = opendir("/proc");
        if (!d) return -errno;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
            char *end;
            long pid = strtol(de->d_name, &end, 10);
            if (*end || pid == s->o.self_pid) continue;
            if (np == cap) {
                cap = cap ? cap * 2 : 1024;
                long *npids = realloc(pids, cap * sizeof *npids);
                if (!npids) { free(pids); closedir(d); return -ENOMEM; }
                pids = npids;
            }
            pids[np++] = pid;
        }
        closedir(d);
        qsort(pids, np, sizeof *pids, cmp_pid);
    }
    sn_proc *procs = calloc(np ? np : 1, sizeof *procs);
    if (!procs) { free(pids); return -ENOMEM; }
    /* Test hook: MSREC_SCAN_DELAY_US widens the window between listing
     * /proc and reading each process, so tests can make processes exit
     * mid-scan deterministically. */
    const char *dl = getenv("MSREC_SCAN_DELAY_US");
    long delay_us = dl ? atol(dl) : 0;
    size_t k = 0;
    for (size_t i = 0; i < np; i++) {
        if (delay_us > 0) usleep((useconds_t)delay_us);
        int rc = sn_scan_pid(s, pids[i], &procs[k]);
        if (rc == -2) {
            for (size_t j = 0; j <= k; j++) sn_proc_free(&procs[j]);
            free(procs); free(pids);
            return -ENOMEM;
        }
        /* rc == -1: gone between readdir and open; the bare record (pid,
         * MS_READ_VANISHED) is kept so the process is counted, not dropped */
        k++;
    }
    free(pids);
    *out = procs;
    *n = k;
    return 0;
}
