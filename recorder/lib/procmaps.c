/* Memory maps and memory counters of the traced process, recorded at exit so
 * reports can compare the heap with RSS (heap vs the "unaccounted" rest).
 *
 * msr_procmaps_write reads /proc/self/smaps (or /proc/self/maps when smaps
 * cannot be read) into one MAPS record — range, prot, offset, path and the
 * Rss, Pss, Anonymous and Swap of every mapping — and /proc/self/status into
 * one PROC_MEM record. Files are read with open/read into mmap'd buffers
 * grown with mremap (smaps of a big process is megabytes), so nothing here
 * goes through malloc or stdio. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "inspect.h"

struct mbuf {
    char *p;
    size_t len, cap;
};

static void mbuf_free(struct mbuf *b)
{
    if (b->p)
        munmap(b->p, b->cap);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Read a whole (proc) file; the buffer is NUL-terminated. */
static int read_one(const char *path, struct mbuf *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return MS_EIO;
    b->cap = 64 * 1024;
    b->len = 0;
    b->p = mmap(NULL, b->cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b->p == MAP_FAILED) {
        b->p = NULL;
        close(fd);
        return MS_ENOMEM;
    }
    for (;;) {
        if (b->cap - b->len < 4096 + 1) {
            void *np = mremap(b->p, b->cap, b->cap * 2, MREMAP_MAYMOVE);
            if (np == MAP_FAILED) {
                close(fd);
                mbuf_free(b);
                return MS_ENOMEM;
            }
            b->p = np;
            b->cap *= 2;
        }
        ssize_t r = read(fd, b->p + b->len, b->cap - b->len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            mbuf_free(b);
            return MS_EIO;
        }
        if (r == 0)
            break;
        b->len += (size_t)r;
    }
    close(fd);
    b->p[b->len] = 0;
    return 0;
}

/* Read a whole /proc/self file into a NUL-terminated buffer. Once the main
 * thread has exited (pthread_exit from main) /proc/self/{maps,smaps,status}
 * are empty or unreadable; then the calling thread's /proc/thread-self. */
static int read_all(const char *path, struct mbuf *b)
{
    int r = read_one(path, b);
    if ((r == 0 && b->len > 0) || strncmp(path, "/proc/self/", 11) != 0)
        return r;
    char alt[64] = "/proc/thread-self/";
    size_t n = strlen(path + 11);
    if (n >= sizeof alt - 19)
        return r;
    memcpy(alt + 18, path + 11, n + 1);
    struct mbuf b2 = { 0 };
    if (read_one(alt, &b2) == 0 && b2.len > 0) {
        mbuf_free(b);
        *b = b2;
        return 0;
    }
    mbuf_free(&b2);
    return r;
}

static uint64_t parse_hex(const char **s)
{
    uint64_t v = 0;
    const char *p = *s;
    for (;; p++) {
        int d;
        if (*p >= '0' && *p <= '9') d = *p - '0';
        else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
        else break;
        v = v * 16 + (uint64_t)d;
    }
    *s = p;
    return v;
}

static uint64_t parse_dec(const char **s)
{
    uint64_t v = 0;
    const char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    while (*p >= '0' && *p <= '9')
        v = v * 10 + (uint64_t)(*p++ - '0');
    *s = p;
    return v;
}

/* "Key:   123 kB" -> bytes, when line starts with key (including ':'). */
static int kb_field(const char *line, const char *key, uint64_t *out)
{
    size_t kl = strlen(key);
    if (strncmp(line, key, kl) != 0)
        return 0;
    const char *p = line + kl;
    *out = parse_dec(&p) * 1024;
    return 1;
}

static int is_header(const char *line)
{
    return (*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f');
}

/* Parse one maps line "start-end perms offset dev inode   path". */
static int parse_header(const char *line, const char *eol, ms_map *m)
{
    const char *p = line;
    memset(m, 0, sizeof *m);
    m->start = parse_hex(&p);
    if (*p++ != '-')
        return 0;
    m->end = parse_hex(&p);
    if (*p++ != ' ' || eol - p < 4)
        return 0;
    m->prot = (p[0] == 'r' ? 1u : 0u) | (p[1] == 'w' ? 2u : 0u) |
              (p[2] == 'x' ? 4u : 0u) | (p[3] == 's' ? 8u : 0u);
    p += 4;
    while (*p == ' ')
        p++;
    m->offset = parse_hex(&p);
    for (int field = 0; field < 2; field++) {     /* dev, inode */
        while (*p == ' ')
            p++;
        while (p < eol && *p != ' ')
            p++;
    }
    while (p < eol && (*p == ' ' || *p == '\t'))
        p++;
    m->path.ptr = p;
    m->path.len = (size_t)(eol - p);
    return 1;
}

static int write_maps(ms_writer *w, uint64_t time)
{
    struct mbuf b = { 0 };
    int smaps = 1;
    if (read_all("/proc/self/smaps", &b) < 0 || b.len == 0) {
        mbuf_free(&b);
        smaps = 0;
        int r = read_all("/proc/self/maps", &b);
        if (r < 0)
            return r;
    }
    size_t lines = 1;
    for (size_t i = 0; i < b.len; i++)
        lines += b.p[i] == '\n';
    size_t cap = smaps ? lines / 8 + 16 : lines + 1;
    size_t bytes = cap * sizeof(ms_map);
    ms_map *maps = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (maps == MAP_FAILED) {
        mbuf_free(&b);
        return MS_ENOMEM;
    }
    size_t n = 0;
    ms_map *cur = NULL;
    for (char *line = b.p; line < b.p + b.len;) {
        char *eol = memchr(line, '\n', (size_t)(b.p + b.len - line));
        if (!eol)
            eol = b.p + b.len;
        if (is_header(line)) {
            if (n == cap) {
                void *np = mremap(maps, bytes, bytes * 2, MREMAP_MAYMOVE);
                if (np == MAP_FAILED)
                    break;
                maps = np;
                bytes *= 2;
                cap *= 2;
            }
            cur = parse_header(line, eol, &maps[n]) ? &maps[n++] : NULL;
        } else if (cur) {
            uint64_t v;
            if (kb_field(line, "Rss:", &v)) cur->rss = v;
            else if (kb_field(line, "Pss:", &v)) cur->pss = v;
            else if (kb_field(line, "Anonymous:", &v)) cur->anon = v;
            else if (kb_field(line, "Swap:", &v)) cur->swap = v;
        }
        line = eol + 1;
    }
    ms_record rec;
    memset(&rec, 0, sizeof rec);
    rec.type = MS_REC_MAPS;
    rec.u.maps.time = time;
    rec.u.maps.count = (uint32_t)n;
    rec.u.maps.maps = maps;
    int rc = ms_writer_add(w, &rec);
    munmap(maps, bytes);
    mbuf_free(&b);
    return rc;
}

static void parse_status(struct mbuf *b, ms_proc_mem *pm)
{
    for (char *line = b->p; line < b->p + b->len;) {
        char *eol = memchr(line, '\n', (size_t)(b->p + b->len - line));
        if (!eol)
            eol = b->p + b->len;
        *eol = 0;
        if (!kb_field(line, "VmSize:", &pm->vm_size) && !kb_field(line, "VmRSS:", &pm->vm_rss) &&
            !kb_field(line, "VmHWM:", &pm->vm_hwm) && !kb_field(line, "RssAnon:", &pm->rss_anon) &&
            !kb_field(line, "RssFile:", &pm->rss_file) &&
            !kb_field(line, "RssShmem:", &pm->rss_shmem) && !kb_field(line, "VmData:", &pm->vm_data))
            kb_field(line, "VmSwap:", &pm->vm_swap);
        line = eol + 1;
    }
}

int msr_proc_mem_read(ms_proc_mem *pm)
{
    static const char *paths[2] = { "/proc/self/status", "/proc/thread-self/status" };
    uint64_t time = pm->time;
    int r = 0;
    for (int i = 0; i < 2; i++) {
        struct mbuf b = { 0 };
        r = read_one(paths[i], &b);
        if (r < 0)
            continue;
        memset(pm, 0, sizeof *pm);
        pm->time = time;
        parse_status(&b, pm);
        mbuf_free(&b);
        if (pm->vm_size)        /* a zombie main thread's status has no Vm* */
            return 0;
    }
    return r < 0 ? r : 0;
}

int msr_procmaps_write(ms_writer *w, uint64_t time)
{
    if (!w)
        return MS_EINVAL;
    int rc = write_maps(w, time);
    ms_record rec;
    memset(&rec, 0, sizeof rec);
    rec.type = MS_REC_PROC_MEM;
    rec.u.proc_mem.time = time;
    int r = msr_proc_mem_read(&rec.u.proc_mem);
    if (r == 0)
        r = ms_writer_add(w, &rec);
    return rc < 0 ? rc : r;
}
