/* Module map of the traced process: which ELF objects are loaded where.
 *
 * msr_modules_sync walks dl_iterate_phdr and writes a MODULE record (path,
 * GNU build id read from the PT_NOTE segment in memory, load bias, PT_LOAD
 * segments) for every object not written before, and MODULE_UNLOAD for
 * written objects that have disappeared (dlclose). The symbolizer
 * (recorder/symbolize/, in msrec and msconv) uses these records to find
 * each ip's file and check its build id, so a path is always absolute: a
 * relative dlopen name is joined to the working directory at load time.
 *
 * The table lives in mmap'd memory so it never touches the interposed
 * malloc, and the records are written after dl_iterate_phdr returns so the
 * writer is never entered with the loader lock held.
 *
 * msr_modules_reset forgets every module (a MEMSCOPE_FOLLOW_FORK child
 * starts a new file that needs its own MODULE records, ids from 1 again). */
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "inspect.h"

#define MOD_MAX_SEGS  16
#define MOD_PATH_MAX  4096
#define MOD_BUILDID_MAX 64

/* One module known to the table (written once, maybe unloaded since). */
struct mod_entry {
    uint64_t id;
    uint64_t base;
    uint64_t lo, hi;               /* runtime range of its PT_LOAD segments  */
    uint64_t name_hash;
    int alive;
    uint32_t path_len;
    char path[MOD_PATH_MAX];
};

/* One module seen by the current dl_iterate_phdr pass. */
struct mod_seen {
    uint64_t base, lo, hi, name_hash;
    uint32_t nsegs, path_len, build_id_len;
    ms_segment segs[MOD_MAX_SEGS];
    unsigned char build_id[MOD_BUILDID_MAX];
    char path[MOD_PATH_MAX];
};

static pthread_mutex_t mod_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mod_entry *mod_tab;       /* mmap'd, grows by remapping     */
static size_t mod_n, mod_cap;
static uint64_t mod_next_id = 1;

static void *map_anon(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Find the NT_GNU_BUILD_ID note in the PT_NOTE segments mapped in memory. */
static uint32_t find_build_id(const struct dl_phdr_info *info, unsigned char *out)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        size_t align = ph->p_align == 8 ? 8 : 4;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
            size_t namesz = (nh->n_namesz + align - 1) & ~(align - 1);
            size_t descsz = (nh->n_descsz + align - 1) & ~(align - 1);
            const unsigned char *name = p + sizeof(*nh);
            const unsigned char *desc = name + namesz;
            if (desc + nh->n_descsz > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                memcmp(name, "GNU", 4) == 0 && nh->n_descsz > 0 &&
                nh->n_descsz <= MOD_BUILDID_MAX) {
                memcpy(out, desc, nh->n_descsz);
                return nh->n_descsz;
            }
            p = desc + descsz;
        }
    }
    return 0;
}

struct iter_ctx {
    struct mod_seen *seen;
    size_t n, cap;
    uintptr_t vdso;
    int overflow;
};

static int iter_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    struct iter_ctx *c = arg;
    (void)size;
    if (c->n >= c->cap) {
        c->overflow = 1;
        return 0;
    }
    struct mod_seen *m = &c->seen[c->n];
    memset(m, 0, offsetof(struct mod_seen, path) + 1);
    m->base = info->dlpi_addr;
    m->lo = UINT64_MAX;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (lo < m->lo) m->lo = lo;
        if (hi > m->hi) m->hi = hi;
        if (m->nsegs < MOD_MAX_SEGS) {
            ms_segment *s = &m->segs[m->nsegs++];
            s->vaddr = ph->p_vaddr;
            s->size = ph->p_memsz;
            s->file_offset = ph->p_offset;
            s->prot = ((ph->p_flags & PF_R) ? 1u : 0u) | ((ph->p_flags & PF_W) ? 2u : 0u) |
                      ((ph->p_flags & PF_X) ? 4u : 0u);
        }
    }
    if (m->nsegs == 0)
        return 0;                       /* nothing mapped: ignore */
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    int is_vdso = 0;
    if (c->vdso) {
        for (int i = 0; i < info->dlpi_phnum; i++)
            if (info->dlpi_phdr[i].p_type == PT_LOAD &&
                info->dlpi_addr + info->dlpi_phdr[i].p_vaddr <= c->vdso &&
                c->vdso < info->dlpi_addr + info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz)
                is_vdso = 1;
    }
    size_t len;
    if (is_vdso) {
        memcpy(m->path, "[vdso]", 7);
        len = 6;
    } else if (name[0] == 0) {
        ssize_t r = readlink("/proc/self/exe", m->path, MOD_PATH_MAX - 1);
        if (r <= 0)                     /* main thread gone (pthread_exit) */
            r = readlink("/proc/thread-self/exe", m->path, MOD_PATH_MAX - 1);
        len = r > 0 ? (size_t)r : 0;
        m->path[len] = 0;
    } else {
        len = 0;
        if (name[0] != '/' && getcwd(m->path, MOD_PATH_MAX - 2)) {
            len = strlen(m->path);          /* dlopen("./libx.so"): absolute */
            if (len && m->path[len - 1] != '/') m->path[len++] = '/';
            while (name[0] == '.' && name[1] == '/') name += 2;
        }
        size_t k = strnlen(name, MOD_PATH_MAX - 1 - len);
        memcpy(m->path + len, name, k);
        len += k;
        m->path[len] = 0;
    }
    m->path_len = (uint32_t)len;
    m->name_hash = hash_str(m->path, len);
    m->build_id_len = find_build_id(info, m->build_id);
    c->n++;
    return 0;
}

static int tab_reserve(size_t want)
{
    if (want <= mod_cap)
        return 0;
    size_t ncap = mod_cap ? mod_cap * 2 : 64;
    while (ncap < want)
        ncap *= 2;
    struct mod_entry *t = map_anon(ncap * sizeof(*t));
    if (!t)
        return MS_ENOMEM;
    if (mod_tab) {
        memcpy(t, mod_tab, mod_n * sizeof(*t));
        munmap(mod_tab, mod_cap * sizeof(*t));
    }
    mod_tab = t;
    mod_cap = ncap;
    return 0;
}

int msr_modules_sync(ms_writer *w, uint64_t time)
{
    size_t cap = 512;
    struct mod_seen *seen = NULL;
    struct iter_ctx c;
    int rc = 0;

    pthread_mutex_lock(&mod_lock);
    for (;;) {
        seen = map_anon(cap * sizeof(*seen));
        if (!seen) {
            rc = MS_ENOMEM;
            goto out;
        }
        memset(&c, 0, sizeof c);
        c.seen = seen;
        c.cap = cap;
        c.vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
        dl_iterate_phdr(iter_cb, &c);
        if (!c.overflow)
            break;
        munmap(seen, cap * sizeof(*seen));
        cap *= 4;
    }

    /* Unloads: alive entries not seen any more. */
    for (size_t i = 0; i < mod_n; i++) {
        struct mod_entry *e = &mod_tab[i];
        if (!e->alive)
            continue;
        int found = 0;
        for (size_t j = 0; j < c.n && !found; j++)
            found = seen[j].base == e->base && seen[j].lo == e->lo &&
                    seen[j].name_hash == e->name_hash;
        if (found)
            continue;
        e->alive = 0;
        if (w) {
            ms_record rec;
            memset(&rec, 0, sizeof rec);
            rec.type = MS_REC_MODULE_UNLOAD;
            rec.u.module_unload.id = e->id;
            rec.u.module_unload.time = time;
            int r = ms_writer_add(w, &rec);
            if (r < 0 && rc == 0)
                rc = r;
        }
    }

    /* Loads: seen modules without an alive entry. */
    for (size_t j = 0; j < c.n; j++) {
        struct mod_seen *m = &seen[j];
        int found = 0;
        for (size_t i = 0; i < mod_n && !found; i++)
            found = mod_tab[i].alive && mod_tab[i].base == m->base &&
                    mod_tab[i].lo == m->lo && mod_tab[i].name_hash == m->name_hash;
        if (found)
            continue;
        if (tab_reserve(mod_n + 1) < 0) {
            rc = MS_ENOMEM;
            break;
        }
        struct mod_entry *e = &mod_tab[mod_n++];
        e->id = mod_next_id++;
        e->base = m->base;
        e->lo = m->lo;
        e->hi = m->hi;
        e->name_hash = m->name_hash;
        e->alive = 1;
        e->path_len = m->path_len;
        memcpy(e->path, m->path, m->path_len + 1);
        if (w) {
            ms_record rec;
            memset(&rec, 0, sizeof rec);
            rec.type = MS_REC_MODULE;
            rec.u.module.id = e->id;
            rec.u.module.time = time;
            rec.u.module.path.ptr = m->path;
            rec.u.module.path.len = m->path_len;
            rec.u.module.build_id.ptr = (const char *)m->build_id;
            rec.u.module.build_id.len = m->build_id_len;
            rec.u.module.base = m->base;
            rec.u.module.nsegments = m->nsegs;
            rec.u.module.segments = m->segs;
            int r = ms_writer_add(w, &rec);
            if (r < 0 && rc == 0)
                rc = r;
        }
    }
out:
    pthread_mutex_unlock(&mod_lock);
    if (seen)
        munmap(seen, cap * sizeof(*seen));
    return rc;
}

int msr_module_find(uint64_t ip, uint64_t *id, uint64_t *base,
                    const char **path, int *alive)
{
    int ok = 0;
    pthread_mutex_lock(&mod_lock);
    /* Prefer the live module; among unloaded ones the most recent. */
    for (size_t k = mod_n; k-- > 0 && ok != 2;) {
        struct mod_entry *e = &mod_tab[k];
        if (ip < e->lo || ip >= e->hi)
            continue;
        if (ok && !e->alive)
            continue;
        if (id) *id = e->id;
        if (base) *base = e->base;
        if (path) *path = e->path;
        if (alive) *alive = e->alive;
        ok = e->alive ? 2 : 1;
    }
    pthread_mutex_unlock(&mod_lock);
    return ok != 0;
}

/* In a MEMSCOPE_FOLLOW_FORK child (called from the fork child handler, one
 * thread, recorder guard held): the table describes the parent's file. Keep
 * the mapping, forget its entries, and re-initialise the mutex, which
 * another parent thread may have held at fork time. The next sync writes
 * every loaded module again with ids from 1. */
void msr_modules_reset(void)
{
    static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&mod_lock, &fresh, sizeof mod_lock);
    if (mod_tab)
        memset(mod_tab, 0, mod_n * sizeof(*mod_tab));
    mod_n = 0;
    mod_next_id = 1;
}
