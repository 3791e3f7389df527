/*
 * nextalloc.c — find the allocator the program really uses and forward to it.
 *
 * The entry points of interpose.c used to call glibc's __libc_* functions,
 * so a program run with jemalloc or tcmalloc preloaded after libmemscope
 * silently lost its allocator. Here the malloc family is resolved once, at
 * the first call (or by the constructor): if no object before libmemscope
 * in symbol lookup defines malloc, the process-wide `malloc` is ours and
 * the allocator is dlsym(RTLD_NEXT) — whoever defines malloc after
 * libmemscope (glibc, or jemalloc / tcmalloc in LD_PRELOAD or linked by the
 * program); otherwise (an allocator loaded before us, or malloc linked into
 * the executable) nothing passes through our malloc, the allocator is that
 * object, and control.c says so. (Not dlsym(RTLD_DEFAULT): in an executable
 * built without PIE that takes malloc's address, python3.11 for one, it
 * returns the executable's PLT entry, which leads back to us.) Every other function is taken
 * only from the object that defines that malloc (never mixing two
 * allocators on one block), else built from its core functions (pvalloc
 * and reallocarray for jemalloc; sdallocx, mallocx... for glibc). For glibc
 * the table ends up holding the very functions __libc_malloc & co. are
 * aliases of, so the glibc path costs what the direct calls cost.
 *
 * dlsym may allocate (error strings of failed lookups): while this thread
 * resolves, the stubs serve it from a static pool; frees of pool blocks are
 * ignored forever after (interpose.c checks msr_pool_owns first). The
 * recorder's guard is held meanwhile, so none of it is recorded and the
 * recorder does not start inside dlsym. The recorder's own memory
 * (arena.c, mmap) never comes from here.
 */
#include "nextalloc.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static MSR_TLS int resolving;
_Atomic int msr_next_ready;
static int interposed = 1, in_exe;
static char alloc_path[1024];

/* ------------------------------------------------------------------------ */
/* Bootstrap pool                                                           */
/* ------------------------------------------------------------------------ */
_Alignas(64) char msr_pool[MSR_POOL_SIZE];
static _Atomic size_t pool_used;

/* 16-byte header holding the size, then the block (zeroed: never reused) */
static void *pool_alloc(size_t n, size_t al)
{
    if (al < 16) al = 16;
    size_t u = atomic_load(&pool_used);
    for (;;) {
        size_t start = (u + 16 + al - 1) & ~(al - 1);
        if (n > MSR_POOL_SIZE || start + n > MSR_POOL_SIZE) {
            errno = ENOMEM;
            return NULL;
        }
        if (atomic_compare_exchange_weak(&pool_used, &u, start + n)) {
            ((size_t *)(msr_pool + start))[-1] = n;
            msr_sf_mark(msr_pool + start);    /* free() must see it */
            return msr_pool + start;
        }
    }
}

size_t msr_pool_used(void) { return atomic_load(&pool_used); }

void *msr_pool_realloc(void *old, size_t n)
{
    size_t was = ((size_t *)old)[-1];
    void *q = msr_next.malloc(n ? n : 1);
    if (q) memcpy(q, old, was < n ? was : n);
    return q;
}

/* ------------------------------------------------------------------------ */
/* Stubs: the table before resolution                                       */
/* ------------------------------------------------------------------------ */
static void *stub_malloc(size_t n)
{
    if (resolving) return pool_alloc(n, 16);
    msr_next_resolve();
    return msr_next.malloc(n);
}
static void stub_free(void *p)
{
    if (resolving) return;   /* not a pool block: leave it */
    msr_next_resolve();
    msr_next.free(p);
}
static void *stub_calloc(size_t n, size_t m)
{
    size_t s;
    if (__builtin_mul_overflow(n, m, &s)) {
        errno = ENOMEM;
        return NULL;
    }
    if (resolving) return pool_alloc(s, 16);
    msr_next_resolve();
    return msr_next.calloc(n, m);
}
static void *stub_realloc(void *p, size_t n)
{
    if (resolving) {
        void *q = pool_alloc(n, 16);
        if (q && p && msr_pool_owns(p)) {
            size_t was = ((size_t *)p)[-1];
            memcpy(q, p, was < n ? was : n);
        }
        return q;
    }
    msr_next_resolve();
    return msr_next.realloc(p, n);
}
static void *stub_memalign(size_t al, size_t n)
{
    if (resolving) return pool_alloc(n, al);
    msr_next_resolve();
    return msr_next.memalign(al, n);
}
static void *stub_aligned_alloc(size_t al, size_t n)
{
    if (resolving) return pool_alloc(n, al);
    msr_next_resolve();
    return msr_next.aligned_alloc(al, n);
}
static void *stub_valloc(size_t n)
{
    if (resolving) return pool_alloc(n, 4096);
    msr_next_resolve();
    return msr_next.valloc(n);
}
static void *stub_pvalloc(size_t n)
{
    if (resolving) return pool_alloc((n + 4095) & ~(size_t)4095, 4096);
    msr_next_resolve();
    return msr_next.pvalloc(n);
}
static void *stub_mallocx(size_t n, int fl)
{
    if (resolving) return pool_alloc(n, (fl & 63) ? (size_t)1 << (fl & 63) : 16);
    msr_next_resolve();
    return msr_next.mallocx(n, fl);
}
static void *stub_rallocx(void *p, size_t n, int fl)
{
    if (resolving) return NULL;
    msr_next_resolve();
    return msr_next.rallocx(p, n, fl);
}
static size_t stub_xallocx(void *p, size_t n, size_t x, int fl)
{
    if (resolving) return 0;
    msr_next_resolve();
    return msr_next.xallocx(p, n, x, fl);
}
static void stub_dallocx(void *p, int fl)
{
    if (resolving) return;
    msr_next_resolve();
    msr_next.dallocx(p, fl);
}
static void stub_sdallocx(void *p, size_t n, int fl)
{
    if (resolving) return;
    msr_next_resolve();
    msr_next.sdallocx(p, n, fl);
}
static void stub_free_sized(void *p, size_t n)
{
    if (resolving) return;
    msr_next_resolve();
    msr_next.free_sized(p, n);
}
static void stub_free_aligned_sized(void *p, size_t al, size_t n)
{
    if (resolving) return;
    msr_next_resolve();
    msr_next.free_aligned_sized(p, al, n);
}

struct msr_next msr_next = {
    stub_malloc, stub_free, stub_calloc, stub_realloc, stub_memalign, stub_aligned_alloc,
    stub_valloc, stub_pvalloc, stub_mallocx, stub_rallocx, stub_xallocx, stub_dallocx,
    stub_sdallocx, stub_free_sized, stub_free_aligned_sized,
};
struct msr_next_cxx msr_next_cxx_tab;
void *(*msr_next_tc_skip_nh)(size_t);

/* ------------------------------------------------------------------------ */
/* Equivalents for what the allocator lacks, built on the resolved table    */
/* ------------------------------------------------------------------------ */
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static size_t (*next_usable)(void *);

static size_t page_size(void)
{
    static size_t ps;
    if (!ps) ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

static void *syn_memalign(size_t al, size_t n)
{
    void *p = NULL;
    if (next_posix_memalign) {
        if (al < sizeof(void *)) al = sizeof(void *);
        int r = next_posix_memalign(&p, al, n);
        if (r) errno = r;
        return r ? NULL : p;
    }
    if (next_aligned_alloc) return next_aligned_alloc(al, (n + al - 1) & ~(al - 1));
    if (al <= 16) return msr_next.malloc(n);
    errno = ENOMEM;
    return NULL;
}
static void *syn_aligned_alloc(size_t al, size_t n) { return msr_next.memalign(al, n); }
static void *syn_valloc(size_t n) { return msr_next.memalign(page_size(), n); }
static void *syn_pvalloc(size_t n)
{
    size_t ps = page_size();
    size_t r = n ? (n + ps - 1) & ~(ps - 1) : ps;
    if (r < n) {
        errno = ENOMEM;
        return NULL;
    }
    return msr_next.memalign(ps, r);
}
static void *syn_calloc(size_t n, size_t m)
{
    size_t s;
    if (__builtin_mul_overflow(n, m, &s)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = msr_next.malloc(s);
    if (p) memset(p, 0, s);
    return p;
}

/* jemalloc's flags: low 6 bits log2 of the alignment, 0x40 zeroed */
#define X_ALIGN(fl) (((fl) & 63) ? (size_t)1 << ((fl) & 63) : 0)
#define X_ZERO(fl)  ((fl) & 0x40)

static void *syn_mallocx(size_t n, int fl)
{
    size_t al = X_ALIGN(fl);
    void *p = al ? msr_next.memalign(al, n) : msr_next.malloc(n);
    if (p && X_ZERO(fl)) memset(p, 0, n);
    return p;
}
static void *syn_rallocx(void *p, size_t n, int fl)
{
    size_t al = X_ALIGN(fl);
    if (!al && !X_ZERO(fl)) return msr_next.realloc(p, n);
    if (!next_usable) return NULL;
    size_t old = next_usable(p);
    void *q;
    if (al) {
        if (!(q = msr_next.memalign(al, n))) return NULL;
        memcpy(q, p, old < n ? old : n);
        msr_next.free(p);
    } else {
        q = msr_next.realloc(p, n);
    }
    if (q && X_ZERO(fl) && n > old) memset((char *)q + old, 0, n - old);
    return q;
}
static size_t syn_xallocx(void *p, size_t n, size_t x, int fl)
{
    (void)n, (void)x, (void)fl;
    return next_usable ? next_usable(p) : 0;
}
static void syn_dallocx(void *p, int fl) { (void)fl; msr_next.free(p); }
static void syn_sdallocx(void *p, size_t n, int fl) { (void)n, (void)fl; msr_next.free(p); }
static void syn_free_sized(void *p, size_t n) { (void)n; msr_next.free(p); }
static void syn_free_aligned_sized(void *p, size_t al, size_t n)
{
    (void)al, (void)n;
    msr_next.free(p);
}

/* ------------------------------------------------------------------------ */
/* The allocator's own mappings                                             */
/* ------------------------------------------------------------------------ */
/* jemalloc keeps its metadata (extent descriptors holding each slab's and
 * large block's address, tcache arrays) and its slabs' free regions with
 * stale words in anonymous mappings it makes itself: scanned as roots, they
 * made every leaked block of a slab's first region "reachable". glibc's
 * arenas are recognised by shape (leakscan.c); for another allocator the
 * mappings made by calls to mmap from its own code are remembered here
 * (its text range, from its program headers, against the caller's return
 * address; munmap trims them) and the leak scan treats them as glibc's
 * heap: not roots, the blocks in them scanned when reached. The allocator
 * served by glibc records nothing (glibc's malloc calls its internal mmap).
 * mmap and munmap forward to the next definition (glibc's, or tcmalloc's
 * own hooked mmap), by a system call before that is known. */
#define AMAPS_MAX 1024
static struct { uint64_t lo, hi; } amaps[AMAPS_MAX];
static size_t namaps;
static int amaps_full;
static msr_lock amaps_lock;
static uintptr_t alloc_lo, alloc_hi;
static void *(*next_mmap)(void *, size_t, int, int, int, off_t);
static int (*next_munmap)(void *, size_t);

/* lo/hi of the object's PT_LOAD segments (its ELF header is mapped at
 * l_addr: the first segment of a shared object starts at offset 0) */
static void object_span(struct link_map *lm, uintptr_t *lo, uintptr_t *hi)
{
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)lm->l_addr;
    if (!lm->l_addr || memcmp(eh->e_ident, ELFMAG, SELFMAG)) return;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(lm->l_addr + eh->e_phoff);
    uintptr_t a = UINTPTR_MAX, b = 0;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
            if (lm->l_addr + ph[i].p_vaddr < a) a = lm->l_addr + ph[i].p_vaddr;
            if (lm->l_addr + ph[i].p_vaddr + ph[i].p_memsz > b) b = lm->l_addr + ph[i].p_vaddr + ph[i].p_memsz;
        }
    if (a < b) *lo = a, *hi = b;
}

static void amaps_cut(uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; i < namaps; i++) {
        uint64_t a = amaps[i].lo, b = amaps[i].hi;
        if (b <= lo || a >= hi) continue;
        if (a < lo && b > hi && namaps < AMAPS_MAX) {       /* a hole: split */
            amaps[namaps].lo = hi;
            amaps[namaps++].hi = b;
            amaps[i].hi = lo;
        } else if (a < lo) {
            amaps[i].hi = lo;
        } else if (b > hi) {
            amaps[i].lo = hi;
        } else {
            amaps[i--] = amaps[--namaps];
        }
    }
}

void *mmap(void *addr, size_t len, int prot, int fl, int fd, off_t off)
{
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    void *p = next_mmap ? next_mmap(addr, len, prot, fl, fd, off)
                        : (void *)syscall(SYS_mmap, addr, len, prot, fl, fd, off);
    if (ra - alloc_lo < alloc_hi - alloc_lo && p != MAP_FAILED) {
        int saved = errno;
        msr_lock_take(&amaps_lock);
        uint64_t lo = (uint64_t)(uintptr_t)p, hi = lo + len;
        amaps_cut(lo, hi);   /* MAP_FIXED over an old one */
        if (namaps < AMAPS_MAX) {
            amaps[namaps].lo = lo;
            amaps[namaps++].hi = hi;
        } else {
            amaps_full = 1;
        }
        msr_lock_release(&amaps_lock);
        errno = saved;
    }
    return p;
}

int munmap(void *addr, size_t len)
{
    if (alloc_hi && len) {
        int saved = errno;
        uint64_t lo = (uint64_t)(uintptr_t)addr;
        msr_lock_take(&amaps_lock);
        amaps_cut(lo, lo + len);
        msr_lock_release(&amaps_lock);
        errno = saved;
    }
    return next_munmap ? next_munmap(addr, len) : (int)syscall(SYS_munmap, addr, len);
}

size_t msr_next_mappings(uint64_t *lohi, size_t max)
{
    msr_lock_take(&amaps_lock);
    size_t n = namaps < max ? namaps : max;
    for (size_t i = 0; i < n; i++) {
        lohi[2 * i] = amaps[i].lo;
        lohi[2 * i + 1] = amaps[i].hi;
    }
    msr_lock_release(&amaps_lock);
    return amaps_full ? 0 : n;
}

/* ------------------------------------------------------------------------ */
/* Resolution                                                               */
/* ------------------------------------------------------------------------ */
/* (_dl_find_object: a lookup in the loader's sorted table; dladdr1 also
 * searches the object's symbol table for the nearest symbol, ~0.3 ms for
 * the four calls at start) */
static struct link_map *object_of(void *addr)
{
    struct dl_find_object o;
    if (!addr || _dl_find_object(addr, &o) != 0) return NULL;
    return o.dlfo_link_map;
}

/* Does lm itself define name (not merely a PLT entry of an executable
 * that takes its address)? Its address, else NULL. Read from the object's
 * own dynamic symbol table (GNU or SysV hash): dlsym with a link_map as
 * handle faults for objects loaded at start (no search list of their own)
 * and dlopen may not run this early. */
static void *defined_in(struct link_map *lm, const char *name)
{
    const ElfW(Sym) *symtab = NULL;
    const char *strtab = NULL;
    const uint32_t *gnu = NULL, *sysv = NULL;
    for (const ElfW(Dyn) *d = lm->l_ld; d && d->d_tag != DT_NULL; d++) {
        uintptr_t v = d->d_un.d_ptr;
        if (v < lm->l_addr) v += lm->l_addr;    /* not relocated in place */
        switch (d->d_tag) {
        case DT_SYMTAB: symtab = (const ElfW(Sym) *)v; break;
        case DT_STRTAB: strtab = (const char *)v; break;
        case DT_GNU_HASH: gnu = (const uint32_t *)v; break;
        case DT_HASH: sysv = (const uint32_t *)v; break;
        }
    }
    if (!symtab || !strtab) return NULL;
    const ElfW(Sym) *hit = NULL;
    if (gnu) {
        uint32_t h = 5381;
        for (const unsigned char *c = (const unsigned char *)name; *c; c++) h = h * 33 + *c;
        uint32_t nb = gnu[0], off = gnu[1], nbloom = gnu[2];
        const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(gnu + 4) + nbloom);
        const uint32_t *chain = buckets + nb;
        uint32_t i = nb ? buckets[h % nb] : 0;
        for (; i >= off && i; i++) {
            uint32_t h2 = chain[i - off];
            if ((h | 1) == (h2 | 1) && !strcmp(strtab + symtab[i].st_name, name)) {
                hit = &symtab[i];
                break;
            }
            if (h2 & 1) break;
        }
    } else if (sysv) {
        uint32_t h = 0;
        for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
            h = (h << 4) + *c;
            uint32_t g = h & 0xf0000000u;
            if (g) h ^= g >> 24;
            h &= ~g;
        }
        uint32_t nb = sysv[0];
        const uint32_t *chain = sysv + 2 + nb;
        for (uint32_t i = nb ? sysv[2 + h % nb] : 0; i; i = chain[i])
            if (!strcmp(strtab + symtab[i].st_name, name)) {
                hit = &symtab[i];
                break;
            }
    }
    if (!hit || hit->st_shndx == SHN_UNDEF || !hit->st_value) return NULL;
    void *addr = (void *)(lm->l_addr + hit->st_value);
    if (ELF64_ST_TYPE(hit->st_info) == STT_GNU_IFUNC) return ((void *(*)(void))addr)();
    return ELF64_ST_TYPE(hit->st_info) == STT_FUNC ? addr : NULL;
}

/* The first object before self in the global lookup order (the load order
 * of the objects loaded at start: the executable, LD_PRELOAD, then their
 * dependencies) that defines malloc; NULL when self comes first. */
static struct link_map *malloc_before(struct link_map *self, void **addr)
{
    struct link_map *lm = self;
    while (lm && lm->l_prev) lm = lm->l_prev;
    for (; lm && lm != self; lm = lm->l_next)
        if ((*addr = defined_in(lm, "malloc"))) return lm;
    return NULL;
}

/* name from the lookup scope h: never one of ours; with `own` only from
 * the allocator's object. h NULL: the allocator comes before us, look in
 * its own symbol table. */
static void *pick(void *h, const char *name, struct link_map *self, struct link_map *own)
{
    if (!h) return own ? defined_in(own, name) : NULL;
    void *s = dlsym(h, name);
    if (!s) return NULL;
    struct link_map *lm = object_of(s);
    if (lm == self || (own && lm != own)) return NULL;
    return s;
}

#define SET(field, val) __atomic_store_n(&msr_next.field, (val), __ATOMIC_RELAXED)

void msr_next_resolve(void)
{
    if (resolving || atomic_load_explicit(&msr_next_ready, memory_order_acquire)) return;
    resolving = 1;
    int guard = msr_tls.guard, saved = errno;
    msr_tls.guard = 1;

    struct link_map *self = object_of((void *)msr_next_resolve);
    void *m = NULL;
    struct link_map *before = self ? malloc_before(self, &m) : NULL;
    void *h = before ? NULL : RTLD_NEXT;
    if (!before) m = pick(RTLD_NEXT, "malloc", self, NULL);
    struct link_map *own = object_of(m);
    void *f = pick(h, "free", self, own), *c = pick(h, "calloc", self, own);
    void *r = pick(h, "realloc", self, own);
    void *(*n_malloc)(size_t) = m ? (void *(*)(size_t))m : __libc_malloc;
    void (*n_free)(void *) = f ? (void (*)(void *))f : __libc_free;
    void *(*n_realloc)(void *, size_t) = r ? (void *(*)(void *, size_t))r : __libc_realloc;
    void *(*n_calloc)(size_t, size_t) = c ? (void *(*)(size_t, size_t))c : syn_calloc;
    void *ma = pick(h, "memalign", self, own);
    if (!m) ma = (void *)__libc_memalign;   /* no dlsym (static program): glibc's */
    next_posix_memalign = (int (*)(void **, size_t, size_t))pick(h, "posix_memalign", self, own);
    next_aligned_alloc = (void *(*)(size_t, size_t))pick(h, "aligned_alloc", self, own);
    next_usable = (size_t (*)(void *))pick(h, "malloc_usable_size", self, own);
    void *aa = pick(h, "aligned_alloc", self, own), *va = pick(h, "valloc", self, own);
    void *pv = pick(h, "pvalloc", self, own);
    void *mx = pick(h, "mallocx", self, own), *rx = pick(h, "rallocx", self, own);
    void *xx = pick(h, "xallocx", self, own), *dx = pick(h, "dallocx", self, own);
    void *sdx = pick(h, "sdallocx", self, own), *fs = pick(h, "free_sized", self, own);
    void *fas = pick(h, "free_aligned_sized", self, own);
    void *tcs = pick(h, "tc_malloc_skip_new_handler", self, own);
    void *mm = before ? NULL : pick(RTLD_NEXT, "mmap", self, NULL);
    void *mu = before ? NULL : pick(RTLD_NEXT, "munmap", self, NULL);
    struct link_map *libc = object_of((void *)__libc_malloc);

    struct msr_next_cxx cx;
    memset(&cx, 0, sizeof cx);
#define CXX(name) cx.name = own ? pick(h, #name, self, own) : NULL
    CXX(_ZnwmRKSt9nothrow_t); CXX(_ZnamRKSt9nothrow_t); CXX(_ZnwmSt11align_val_tRKSt9nothrow_t); CXX(_ZnamSt11align_val_tRKSt9nothrow_t);
    CXX(_ZdlPv); CXX(_ZdaPv); CXX(_ZdlPvm); CXX(_ZdaPvm);
    CXX(_ZdlPvSt11align_val_t); CXX(_ZdaPvSt11align_val_t);
    CXX(_ZdlPvmSt11align_val_t); CXX(_ZdaPvmSt11align_val_t);
    CXX(_ZdlPvRKSt9nothrow_t); CXX(_ZdaPvRKSt9nothrow_t);
    CXX(_ZdlPvSt11align_val_tRKSt9nothrow_t); CXX(_ZdaPvSt11align_val_tRKSt9nothrow_t);
#undef CXX

    interposed = !before;
    in_exe = own && own->l_name && !own->l_name[0];
    if (in_exe) {
        ssize_t k = readlink("/proc/self/exe", alloc_path, sizeof alloc_path - 1);
        alloc_path[k > 0 ? k : 0] = 0;
    } else if (own && own->l_name) {
        size_t k = strnlen(own->l_name, sizeof alloc_path - 1);
        memcpy(alloc_path, own->l_name, k);
        alloc_path[k] = 0;
    }

    /* core first: the synthesized functions below call through them */
    SET(malloc, n_malloc);
    SET(free, n_free);
    SET(realloc, n_realloc);
    SET(calloc, n_calloc);
    SET(memalign, ma ? (void *(*)(size_t, size_t))ma : syn_memalign);
    SET(aligned_alloc, aa ? (void *(*)(size_t, size_t))aa : syn_aligned_alloc);
    SET(valloc, va ? (void *(*)(size_t))va : syn_valloc);
    SET(pvalloc, pv ? (void *(*)(size_t))pv : syn_pvalloc);
    SET(mallocx, mx ? (void *(*)(size_t, int))mx : syn_mallocx);
    SET(rallocx, rx ? (void *(*)(void *, size_t, int))rx : syn_rallocx);
    SET(xallocx, xx ? (size_t (*)(void *, size_t, size_t, int))xx : syn_xallocx);
    SET(dallocx, dx ? (void (*)(void *, int))dx : syn_dallocx);
    SET(sdallocx, sdx ? (void (*)(void *, size_t, int))sdx : syn_sdallocx);
    SET(free_sized, fs ? (void (*)(void *, size_t))fs : syn_free_sized);
    SET(free_aligned_sized, fas ? (void (*)(void *, size_t, size_t))fas : syn_free_aligned_sized);
    msr_next_cxx_tab = cx;
    if (!before) {
        next_mmap = (void *(*)(void *, size_t, int, int, int, off_t))mm;
        next_munmap = (int (*)(void *, size_t))mu;
        if (own && own != libc && !in_exe) object_span(own, &alloc_lo, &alloc_hi);
    }
    msr_next_tc_skip_nh = (void *(*)(size_t))tcs;
    atomic_store_explicit(&msr_next_ready, 1, memory_order_release);

    errno = saved;
    msr_tls.guard = guard;
    resolving = 0;
}

/* ------------------------------------------------------------------------ */
/* Names exported only where the allocator has them (IFUNC resolvers)       */
/* ------------------------------------------------------------------------ */
/* The extras (jemalloc's mallocx..., C23's sized frees, tcmalloc's tc_*)
 * are IFUNCs whose resolvers ask this, so a program probing for them
 * (`if (&mallocx)`, dlsym(RTLD_DEFAULT, "mallocx")) sees what it would see
 * without libmemscope: ours where the first object after libmemscope that
 * defines name is the one serving malloc, that object's own function where
 * another object defines it, NULL (absent) where none does. Resolvers run
 * while the dynamic linker relocates the object that refers to the name,
 * which can be before libmemscope itself is relocated (a library bound
 * with BIND_NOW): then nothing that needs our GOT may run, and the answer
 * is ours (a probe there is fooled as before; glibc also prints its
 * "Relink ... for IFUNC symbol" line, which no resolver can avoid). A RELATIVE
 * relocation tells which: reloc_probe holds reloc_mark's address only once
 * libmemscope is relocated. A static executable (no _DYNAMIC) gets ours. */
static void reloc_mark(void) {}
static void (*volatile reloc_probe)(void) = reloc_mark;
extern ElfW(Dyn) _DYNAMIC[] __attribute__((weak, visibility("hidden")));

void *msr_next_lookup(const char *name, void *ours)
{
    if (reloc_probe != reloc_mark || !_DYNAMIC) return ours;
    struct link_map *self = _r_debug.r_map;
    while (self && self->l_ld != _DYNAMIC) self = self->l_next;
    if (!self) return ours;
    struct link_map *own = NULL;
    for (struct link_map *lm = self->l_next; lm; lm = lm->l_next) {
        if (!own && defined_in(lm, "malloc")) own = lm;
        void *a = defined_in(lm, name);
        if (a) return lm == own ? ours : a;
    }
    return NULL;
}

int msr_next_interposed(void) { return interposed; }
const char *msr_next_allocator(void) { return alloc_path; }
int msr_next_in_exe(void) { return in_exe; }
