/*
 * mssym.c — resolve instruction pointers of a trace with libdwfl, offline,
 * in the symbolizing process (msrec, msconv), never in the traced one.
 *
 * Each MODULE gets its own Dwfl session, opened the first time an ip of
 * that module is resolved (most modules of a process never appear in a
 * heap stack): the file at the MODULE's path is reported at the MODULE's
 * load base (dwfl_report_elf, bias = base), and its NT_GNU_BUILD_ID must
 * equal the MODULE's, otherwise the session is dropped and the module
 * counted as "build id differs" (symbols of another build would be
 * silently wrong). Separate debug files are found by
 * dwfl_standard_find_debuginfo under /usr/lib/debug (build id, then
 * .gnu_debuglink). libdwfl 0.188 asks debuginfod there too whenever
 * DEBUGINFOD_URLS is set; unless MSSYM_DEBUGINFOD is given the variable is
 * taken out of the environment while an mssym exists and put back by
 * mssym_free (our tools create and free them in one thread; msrec run's
 * prewarm thread, recorder/msrec/prewarm.c, only reads it).
 *
 * Frames follow `addr2line -i`: the innermost scope's name with the line
 * table's file:line for the address, then for each enclosing inlined
 * subroutine / subprogram its name with the call site (DW_AT_call_file,
 * DW_AT_call_line) of the scope inside it, so a frame's name and its
 * file:line always come from the same scope. Split DWARF (-gsplit-dwarf)
 * is read from the skeleton's .dwo unit. Without DWARF the name comes
 * from .symtab/.dynsym (sorted once per module, see syms_find). Linkage
 * names are demangled by libiberty's cplus_demangle, the demangler of
 * binutils, gdb, perf and valgrind: C++, and Rust's legacy and v0 schemes
 * (libstdc++'s __cxa_demangle, used before, left Rust's v0 names, the
 * default of rustc's std, as "_RNvNtCs..._5alloc5alloc5alloc").
 */
#include "mssym.h"
#include "symcache.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <elfutils/libdwelf.h>
#include <libiberty/demangle.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FRAMES 64

enum { M_UNOPENED = 0, M_OK, M_MISSING, M_MISMATCH, M_NOFILE };

/* One function symbol of a module's ELF symbol table, runtime addresses. */
typedef struct fsym {
    uint64_t lo, hi;
    const char *name;            /* owned by the module's Dwfl             */
    int rank;                    /* 0 global, 1 weak, 2 local              */
} fsym;

/* The code ranges of a CU's outermost scopes (subprograms, mostly), so
 * that an address finds its function by binary search instead of a walk
 * over the whole CU (scope_of). */
typedef struct scope_ix { Dwarf_Addr lo, hi; Dwarf_Off off; } scope_ix;
typedef struct cu_ix { const Dwarf_CU *cu; scope_ix *v; size_t n, cap; } cu_ix;

/* What an open module holds: its Dwfl session and what is cached of it
 * (all addresses are the session's: its load base). It moves whole from a
 * pool to a trace's module and back (mssym_take_warm, mssym_free). */
typedef struct session {
    Dwfl *dwfl;
    Dwfl_Module *dm;
    fsym *syms;                  /* sorted by lo; built on first use       */
    size_t nsyms;
    int syms_built;
    cu_ix *cus;                  /* CUs met so far, built on first use     */
    size_t ncus, capcus, last_cu;
    scope_ix *cur;               /* every CU's ranges (off: into curdie),  */
    size_t ncur, capcur;         /* built when libdw finds no CU for an    */
    Dwarf_Die *curdie;           /* address (no .debug_aranges: clang)     */
    size_t ncurdie, capcurdie;
    int cur_built;
} session;

typedef struct mod {
    uint64_t id, base, lo, hi;
    char *path;
    unsigned char *bid;
    size_t bidlen;
    int state;
    session ses;
    dev_t dev;                   /* the file opened (warm modules)         */
    ino_t ino;
    uint64_t delta;              /* its session's base minus its own       */
    int returned;                /* in a pool: given back by a trace's     */
    symcache *cache;             /* answers kept on disk (symcache.h)      */
    int cache_tried, cache_src;
    int debug_warm;              /* mssym_warm opened its debug info       */
} mod;

struct mssym {
    unsigned flags;
    mod *mods;
    size_t nmods, capmods;
    ms_frame frames[MAX_FRAMES];
    char *strbuf;                     /* strings of the last answer          */
    size_t strused, strcap;
    mssym *warm;                      /* modules opened ahead (mssym_take_warm) */
};

static char *debuginfo_path;          /* NULL: libdwfl's default path     */

/* DEBUGINFOD_URLS hidden from libdwfl while any mssym without
 * MSSYM_DEBUGINFOD exists. */
static int env_hidden;
static char *env_saved;

static void env_hide(void)
{
    if (env_hidden++ > 0) return;
    const char *v = getenv("DEBUGINFOD_URLS");
    if (!v) return;
    env_saved = strdup(v);
    unsetenv("DEBUGINFOD_URLS");
}

static void env_restore(void)
{
    if (env_hidden == 0 || --env_hidden > 0) return;
    if (env_saved) {
        setenv("DEBUGINFOD_URLS", env_saved, 0);
        free(env_saved);
        env_saved = NULL;
    }
}

static int find_elf_none(Dwfl_Module *m, void **ud, const char *name, Dwarf_Addr base,
                         char **file_name, Elf **elfp)
{
    (void)m; (void)ud; (void)name; (void)base; (void)file_name; (void)elfp;
    return -1;
}

static const Dwfl_Callbacks offline_cb = {
    .find_elf = find_elf_none,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

int mssym_new(mssym **out, unsigned flags)
{
    if (!out) return MS_EINVAL;
    *out = calloc(1, sizeof **out);
    if (!*out) return MS_ENOMEM;
    (*out)->flags = flags;
    if (!(flags & MSSYM_DEBUGINFOD)) env_hide();
    return 0;
}

/* Room for one more element in *p (n used of *cap, each size bytes),
 * doubling from first; -1 when out of memory. */
static int grow(void *p, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : first;
    void *t = realloc(*(void **)p, nc * size);
    if (!t) return -1;
    *(void **)p = t;
    *cap = nc;
    return 0;
}

/* Close a session and free what it cached. */
static void session_end(session *x)
{
    if (x->dwfl) dwfl_end(x->dwfl);
    for (size_t k = 0; k < x->ncus; k++) free(x->cus[k].v);
    free(x->cus);
    free(x->cur);
    free(x->curdie);
    free(x->syms);
    memset(x, 0, sizeof *x);
}

/* Hand m's open session to the pool (mssym_take_warm), so the trace of
 * the next process that maps the same file opens nothing: msrec run
 * --follow-children of a script that starts 800 shells spent 18 s
 * opening libc's debug info 800 times. 0 when taken. */
static int give_back(mssym *pool, mod *m)
{
    if (!pool || m->state != M_OK || !m->ses.dwfl || !m->dev) return -1;
    if (grow(&pool->mods, pool->nmods, &pool->capmods, sizeof *pool->mods, 32)) return -1;
    char *path = strdup(m->path);
    if (!path) return -1;
    mod *w = &pool->mods[pool->nmods++];
    memset(w, 0, sizeof *w);
    w->path = path;
    w->base = m->base + m->delta;       /* where its session has it */
    w->state = M_OK;
    w->dev = m->dev;
    w->ino = m->ino;
    w->returned = 1;
    w->ses = m->ses;
    memset(&m->ses, 0, sizeof m->ses);
    return 0;
}

void mssym_free(mssym *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nmods; i++) {
        if (!s->warm || give_back(s->warm, &s->mods[i]) != 0) session_end(&s->mods[i].ses);
        symcache_close(s->mods[i].cache);
        free(s->mods[i].path);
        free(s->mods[i].bid);
    }
    free(s->mods);
    free(s->strbuf);
    if (!(s->flags & MSSYM_DEBUGINFOD)) env_restore();
    free(s);
}

int mssym_add_module(mssym *s, const ms_module *m)
{
    if (!s || !m) return MS_EINVAL;
    if (grow(&s->mods, s->nmods, &s->capmods, sizeof *s->mods, 32)) return MS_ENOMEM;
    mod *d = &s->mods[s->nmods];
    memset(d, 0, sizeof *d);
    d->id = m->id;
    d->base = m->base;
    d->path = strndup(m->path.ptr ? m->path.ptr : "", m->path.len);
    if (!d->path) return MS_ENOMEM;
    if (m->build_id.len) {
        d->bid = malloc(m->build_id.len);
        if (!d->bid) { free(d->path); return MS_ENOMEM; }
        memcpy(d->bid, m->build_id.ptr, m->build_id.len);
        d->bidlen = m->build_id.len;
    }
    d->lo = UINT64_MAX;
    for (uint32_t i = 0; i < m->nsegments; i++) {
        uint64_t lo = m->segments[i].vaddr + m->base, hi = lo + m->segments[i].size;
        if (lo < d->lo) d->lo = lo;
        if (hi > d->hi) d->hi = hi;
    }
    if (d->lo > d->hi) d->lo = d->hi = 0;
    if (d->path[0] != '/') d->state = M_NOFILE;   /* [vdso], "" */
    s->nmods++;
    return 0;
}

size_t mssym_module_count(const mssym *s) { return s ? s->nmods : 0; }

long mssym_module_index(const mssym *s, uint64_t ip, size_t nvisible)
{
    if (!s) return -1;
    if (nvisible > s->nmods) nvisible = s->nmods;
    for (size_t i = nvisible; i-- > 0;)
        if (ip >= s->mods[i].lo && ip < s->mods[i].hi) return (long)i;
    return -1;
}

/* The open session of pool for m's file: the same device and inode, else
 * (m has a build id) the same path: a file replaced since it was warmed,
 * e.g. rebuilt while the program ran, whose warm session still holds the
 * old build (the build id check accepts or refuses it). -1: none. */
static long warm_of(const mssym *pool, const mod *m, const struct stat *st)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < pool->nmods; i++) {
            const mod *w = &pool->mods[i];
            if (w->state != M_OK || !w->ses.dwfl) continue;
            if (pass == 0 ? w->dev == st->st_dev && w->ino == st->st_ino
                          : m->bidlen && !strcmp(w->path, m->path))
                return (long)i;
        }
    }
    return -1;
}

/* Open the module's file and check its build id (once). */
static void mod_open(mssym *s, mod *m)
{
    m->state = M_MISSING;
    if (access(m->path, R_OK) != 0) return;
    struct stat st;
    m->delta = 0;
    if (s->warm && stat(m->path, &st) == 0) {
        m->dev = st.st_dev;
        m->ino = st.st_ino;
        /* the same file, opened ahead (prewarm.c) or by the trace of another
         * process (given back by mssym_free): take it over; at another load
         * base its addresses are shifted by delta */
        long wi = warm_of(s->warm, m, &st);
        if (wi >= 0) {
            mod *w = &s->warm->mods[wi];
            m->ses = w->ses;
            m->delta = w->base - m->base;
            memset(&w->ses, 0, sizeof w->ses);
            w->state = M_UNOPENED;
        }
    }
    if (!m->ses.dwfl) {
        Dwfl *d = dwfl_begin(&offline_cb);
        if (!d) return;
        dwfl_report_begin(d);
        Dwfl_Module *dm = dwfl_report_elf(d, m->path, m->path, -1, m->base, true);
        dwfl_report_end(d, NULL, NULL);
        if (!dm) { dwfl_end(d); return; }
        m->ses.dwfl = d;
        m->ses.dm = dm;
    }
    if (m->bidlen) {
        const unsigned char *bits = NULL;
        GElf_Addr vaddr = 0;
        int n = dwfl_module_build_id(m->ses.dm, &bits, &vaddr);
        if (n <= 0 || (size_t)n != m->bidlen || memcmp(bits, m->bid, m->bidlen) != 0) {
            session_end(&m->ses);
            m->state = M_MISMATCH;
            return;
        }
    }
    m->state = M_OK;
}

/* ---- strings of one answer --------------------------------------------- */
static const char *keep(mssym *s, const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = b ? strlen(b) : 0, lc = c ? strlen(c) : 0;
    size_t need = la + lb + lc + 1;
    if (s->strused + need > s->strcap) {
        /* frames point into strbuf: grow only between answers */
        return NULL;
    }
    char *p = s->strbuf + s->strused;
    memcpy(p, a, la);
    if (lb) memcpy(p + la, b, lb);
    if (lc) memcpy(p + la + lb, c, lc);
    p[la + lb + lc] = 0;
    s->strused += need;
    return p;
}

static ms_str str_of(const char *p)
{
    ms_str r = { p ? p : "", p ? strlen(p) : 0 };
    return r;
}

static const char *fn_name(mssym *s, const char *name)
{
    if (!name) return "";
    if (name[0] == '_' && (name[1] == 'Z' || name[1] == 'R')) {
        char *d = cplus_demangle(name, DMGL_PARAMS | DMGL_ANSI | DMGL_AUTO);
        if (d) {
            const char *k = keep(s, d, NULL, NULL);
            free(d);
            if (k) return k;
        }
    }
    const char *k = keep(s, name, NULL, NULL);
    return k ? k : "";
}

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    const char *n = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a)) n = dwarf_formstring(&a);
    if (!n && dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a)) n = dwarf_formstring(&a);
    if (!n && dwarf_attr_integrate(die, DW_AT_name, &a)) n = dwarf_formstring(&a);
    return n;
}

/* Absolute file name: a relative one is joined to the CU's comp_dir. */
static const char *file_name(mssym *s, Dwarf_Die *cudie, const char *f)
{
    if (!f) return "";
    const char *k = NULL;
    if (f[0] != '/' && cudie) {
        Dwarf_Attribute a;
        const char *dir = NULL;
        if (dwarf_attr(cudie, DW_AT_comp_dir, &a)) dir = dwarf_formstring(&a);
        if (dir && dir[0]) k = keep(s, dir, dir[strlen(dir) - 1] == '/' ? "" : "/", f);
    }
    if (!k) k = keep(s, f, NULL, NULL);
    return k ? k : "";
}

/* ---- ELF symbol table -----------------------------------------------------
 * dwfl_module_addrinfo searches the whole table linearly on every call
 * (cc1: ~100 000 symbols, 7 000 ips = seconds), so the function symbols
 * are sorted once per module and looked up by binary search. Among symbols
 * at the same address a global one wins over a weak one over a local one,
 * as in dwfl_module_addrinfo; a symbol of size 0 covers up to the next. */
static int cmp_fsym(const void *a, const void *b)
{
    const fsym *x = a, *y = b;
    if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
    return x->rank - y->rank;
}

static void syms_build(mod *m)
{
    m->ses.syms_built = 1;
    int n = dwfl_module_getsymtab(m->ses.dm);
    if (n <= 1) return;
    m->ses.syms = malloc((size_t)n * sizeof *m->ses.syms);
    if (!m->ses.syms) return;
    size_t k = 0;
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr = 0;
        GElf_Word shndx = 0;
        const char *name = dwfl_module_getsym_info(m->ses.dm, i, &sym, &addr, &shndx, NULL, NULL);
        int type = GELF_ST_TYPE(sym.st_info);
        if (!name || !name[0] || shndx == SHN_UNDEF ||
            (type != STT_FUNC && type != STT_GNU_IFUNC && !(type == STT_NOTYPE && sym.st_size)))
            continue;
        int bind = GELF_ST_BIND(sym.st_info);
        m->ses.syms[k].lo = addr;
        m->ses.syms[k].hi = addr + sym.st_size;
        m->ses.syms[k].name = name;
        m->ses.syms[k].rank = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
        k++;
    }
    m->ses.nsyms = k;
    qsort(m->ses.syms, k, sizeof *m->ses.syms, cmp_fsym);
}

static const char *syms_find(mod *m, uint64_t addr)
{
    if (!m->ses.syms_built) syms_build(m);
    size_t lo = 0, hi = m->ses.nsyms;
    while (lo < hi) {                       /* first symbol with lo > addr */
        size_t mid = lo + (hi - lo) / 2;
        if (m->ses.syms[mid].lo <= addr) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return NULL;
    size_t i = lo - 1;
    uint64_t at = m->ses.syms[i].lo;
    while (i > 0 && m->ses.syms[i - 1].lo == at) i--;   /* best rank at that address */
    const fsym *f = &m->ses.syms[i];
    uint64_t end = f->hi > f->lo ? f->hi : lo < m->ses.nsyms ? m->ses.syms[lo].lo : UINT64_MAX;
    return addr < end ? f->name : NULL;
}

/* Tags of DIEs that own code ranges (those dwarf_getscopes matches), and
 * of DIEs without ranges that hold such DIEs. */
static int code_scope(int tag)
{
    switch (tag) {
    case DW_TAG_subprogram: case DW_TAG_inlined_subroutine: case DW_TAG_lexical_block:
    case DW_TAG_entry_point: case DW_TAG_catch_block: case DW_TAG_try_block:
    case DW_TAG_with_stmt: case DW_TAG_module:
        return 1;
    case DW_TAG_namespace: case DW_TAG_class_type: case DW_TAG_structure_type:
        return 2;
    default:
        return 0;
    }
}

static int ix_add(cu_ix *c, Dwarf_Addr lo, Dwarf_Addr hi, Dwarf_Off off)
{
    if (grow(&c->v, c->n, &c->cap, sizeof *c->v, 256)) return -1;
    c->v[c->n++] = (scope_ix){ lo, hi, off };
    return 0;
}

/* Every range of the code scopes directly under parent (through
 * namespaces and classes) into c. */
static int ix_walk(cu_ix *c, Dwarf_Die *parent, int depth)
{
    Dwarf_Die d;
    if (depth > 64 || dwarf_child(parent, &d) != 0) return 0;
    do {
        int k = code_scope(dwarf_tag(&d));
        if (k == 1) {
            Dwarf_Addr base, lo, hi;
            ptrdiff_t o = 0;
            while ((o = dwarf_ranges(&d, o, &base, &lo, &hi)) > 0)
                if (hi > lo && ix_add(c, lo, hi, dwarf_dieoffset(&d))) return -1;
        } else if (k == 2 && ix_walk(c, &d, depth + 1)) {
            return -1;
        }
    } while (dwarf_siblingof(&d, &d) == 0);
    return 0;
}

static int cmp_scope(const void *a, const void *b)
{
    const scope_ix *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The range of v (n, sorted by lo) holding pc, or NULL: the last one
 * starting at or before pc, or one of the 16 before it (ranges of one
 * function may interleave with another's). */
static const scope_ix *range_of(const scope_ix *v, size_t n, Dwarf_Addr pc)
{
    size_t lo = 0, hi = n;                 /* first entry with lo > pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].lo <= pc) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i-- > 0 && lo - i <= 16;)
        if (pc < v[i].hi) return &v[i];
    return NULL;
}

/* The index of the CU cudie of module m, built the first time; NULL when
 * out of memory. */
static const cu_ix *cu_index(mod *m, Dwarf_Die *cudie)
{
    const Dwarf_CU *cu = cudie->cu;   /* (offsets repeat across .dwo files) */
    if (m->ses.last_cu < m->ses.ncus && m->ses.cus[m->ses.last_cu].cu == cu) return &m->ses.cus[m->ses.last_cu];
    for (size_t i = 0; i < m->ses.ncus; i++)
        if (m->ses.cus[i].cu == cu) return &m->ses.cus[m->ses.last_cu = i];
    if (grow(&m->ses.cus, m->ses.ncus, &m->ses.capcus, sizeof *m->ses.cus, 16)) return NULL;
    cu_ix *c = &m->ses.cus[m->ses.ncus];
    memset(c, 0, sizeof *c);
    c->cu = cu;
    if (ix_walk(c, cudie, 0)) { free(c->v); return NULL; }
    if (c->n) qsort(c->v, c->n, sizeof *c->v, cmp_scope);
    m->ses.last_cu = m->ses.ncus++;
    return c;
}

/* The scopes holding pc in the CU cudie, innermost first, into out (at
 * most max): the outermost one found through the CU's index, then each
 * child holding pc. Returns their count, 0 when no scope holds pc.
 * (dwarf_getscopes walks the whole CU for every address, and libdw 0.188's
 * finds nothing at all when an inlined call's abstract origin is in
 * another CU, as in every LTO build: python3.11, gcc's cc1.) */
static int scopes_of(mod *m, Dwarf_Die *cudie, Dwarf_Addr pc, Dwarf_Die *out, int max)
{
    const cu_ix *c = cu_index(m, cudie);
    const scope_ix *r = c ? range_of(c->v, c->n, pc) : NULL;
    Dwarf_Die chain[MAX_FRAMES * 2];
    int n = r && dwarf_offdie(dwarf_cu_getdwarf(cudie->cu), r->off, &chain[0]) ? 1 : 0;
    while (n > 0 && n < (int)(sizeof chain / sizeof chain[0])) {
        Dwarf_Die d;
        int found = 0;
        if (dwarf_child(&chain[n - 1], &d) == 0) {
            do {
                if (code_scope(dwarf_tag(&d)) == 1 && dwarf_haspc(&d, pc) > 0) { found = 1; break; }
            } while (dwarf_siblingof(&d, &d) == 0);
        }
        if (!found) break;
        chain[n++] = d;
    }
    int k = 0;
    for (int i = n; i-- > 0 && k < max;) out[k++] = chain[i];
    return k;
}

/* The CU of m holding pc (in DWARF addresses), from the CUs' own ranges:
 * libdw 0.188 finds a CU through .debug_aranges only, and clang emits
 * none (before, a clang -g program had no file:line at all). */
static Dwarf_Die *cu_of(mod *m, Dwarf_Addr pc)
{
    if (!m->ses.cur_built) {
        m->ses.cur_built = 1;
        Dwarf_Addr bias;
        Dwarf *dw = dwfl_module_getdwarf(m->ses.dm, &bias);
        Dwarf_CU *cu = NULL;
        Dwarf_Die d;
        uint8_t ut;
        while (dw && dwarf_get_units(dw, cu, &cu, NULL, &ut, &d, NULL) == 0) {
            if (ut == DW_UT_type || ut == DW_UT_split_type) continue;
            if (grow(&m->ses.curdie, m->ses.ncurdie, &m->ses.capcurdie, sizeof *m->ses.curdie, 64)) break;
            m->ses.curdie[m->ses.ncurdie] = d;
            Dwarf_Addr base, lo, hi;
            ptrdiff_t o = 0;
            while ((o = dwarf_ranges(&d, o, &base, &lo, &hi)) > 0) {
                if (hi <= lo) continue;
                if (grow(&m->ses.cur, m->ses.ncur, &m->ses.capcur, sizeof *m->ses.cur, 64)) break;
                m->ses.cur[m->ses.ncur++] = (scope_ix){ lo, hi, m->ses.ncurdie };
            }
            m->ses.ncurdie++;
        }
        if (m->ses.ncur) qsort(m->ses.cur, m->ses.ncur, sizeof *m->ses.cur, cmp_scope);
    }
    const scope_ix *r = range_of(m->ses.cur, m->ses.ncur, pc);
    return r ? &m->ses.curdie[r->off] : NULL;
}

/* Frames of addr in module m; returns their count. */
static size_t frames_of(mssym *s, mod *m, Dwarf_Addr addr)
{
    ms_frame *fr = s->frames;
    size_t nf = 0;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cudie = dwfl_module_addrdie(m->ses.dm, addr, &bias);
    const char *file = NULL;
    int line = 0, col = 0;
    Dwfl_Line *ln = cudie ? dwfl_module_getsrc(m->ses.dm, addr) : NULL;
    if (ln) {
        file = dwfl_lineinfo(ln, NULL, &line, &col, NULL, NULL);
    } else if (!cudie && dwfl_module_getdwarf(m->ses.dm, &bias) && (cudie = cu_of(m, addr - bias))) {
        Dwarf_Line *dl = dwarf_getsrc_die(cudie, addr - bias);
        if (dl) {
            file = dwarf_linesrc(dl, NULL, NULL);
            dwarf_lineno(dl, &line);
            dwarf_linecol(dl, &col);
        }
    }

    if (cudie) {
        /* split DWARF (-gsplit-dwarf): the scopes and the file table of the
         * call sites are in the skeleton's split unit (the .dwo file) */
        Dwarf_Die split, *unit = cudie;
        uint8_t ut = 0;
        if (dwarf_tag(cudie) == DW_TAG_skeleton_unit &&
            dwarf_cu_info(cudie->cu, NULL, &ut, NULL, &split, NULL, NULL, NULL) == 0 &&
            ut == DW_UT_skeleton && dwarf_tag(&split) == DW_TAG_compile_unit)
            unit = &split;
        Dwarf_Die scopes[MAX_FRAMES * 2];
        int ns = scopes_of(m, unit, addr - bias, scopes, MAX_FRAMES * 2);
        Dwarf_Files *files = NULL;
        size_t nfiles = 0;
        if (ns > 0 && dwarf_getsrcfiles(unit, &files, &nfiles) != 0) files = NULL;
        const char *cur_file = file_name(s, cudie, file);
        uint32_t cur_line = line > 0 ? (uint32_t)line : 0;
        uint32_t cur_col = col > 0 ? (uint32_t)col : 0;
        for (int i = 0; i < ns && nf < MAX_FRAMES; i++) {
            int tag = dwarf_tag(&scopes[i]);
            if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine) continue;
            fr[nf].function = str_of(fn_name(s, die_name(&scopes[i])));
            fr[nf].file = str_of(cur_file);
            fr[nf].line = cur_line;
            fr[nf].column = cur_col;
            nf++;
            if (tag == DW_TAG_subprogram) break;
            /* the next (outer) frame is at this inlined call's site */
            Dwarf_Attribute a;
            Dwarf_Word v;
            cur_file = "";
            cur_line = cur_col = 0;
            if (files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &v) == 0 &&
                v < nfiles)
                cur_file = file_name(s, cudie, dwarf_filesrc(files, v, NULL, NULL));
            if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &v) == 0)
                cur_line = (uint32_t)v;
            if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_column, &a), &v) == 0)
                cur_col = (uint32_t)v;
        }
    }
    /* No DWARF scope, or one without a name: the ELF symbol tables. */
    if (nf == 0 || !fr[nf - 1].function.len) {
        const char *name = syms_find(m, addr);
        if (nf == 0) {
            /* nothing known: one frame with function "" (spec 8.7), shown
             * as module+offset by readers */
            fr[0].file = str_of(file_name(s, cudie, file));
            fr[0].line = line > 0 ? (uint32_t)line : 0;
            fr[0].column = col > 0 ? (uint32_t)col : 0;
            nf = 1;
        }
        fr[nf - 1].function = str_of(name ? fn_name(s, name) : "");
    }
    return nf;
}

/* Tell c which files the answers of dm (the file at path) come from
 * (after a lookup: libdwfl names the debug file once it has looked for
 * the DWARF). */
static void cache_source(symcache *c, Dwfl_Module *dm, const char *path)
{
    const char *mainfile = NULL, *debugfile = NULL, *link = NULL;
    dwfl_module_info(dm, NULL, NULL, NULL, NULL, NULL, &mainfile, &debugfile);
    GElf_Addr bias = 0;
    Elf *elf = dwfl_module_getelf(dm, &bias);
    GElf_Word crc;
    if (elf) link = dwelf_elf_gnu_debuglink(elf, &crc);
    symcache_source(c, mainfile ? mainfile : path, debugfile, link);
}

int mssym_resolve_in(mssym *s, long idx, uint64_t ip, uint64_t *module_id, uint64_t *offset,
                     const ms_frame **frames, size_t *nframes)
{
    if (!s || !module_id || !offset || !frames || !nframes) return MS_EINVAL;
    *module_id = 0;
    *offset = 0;
    *frames = s->frames;
    *nframes = 0;
    if (idx < 0 || (size_t)idx >= s->nmods) return 0;
    mod *m = &s->mods[idx];
    *module_id = m->id;
    *offset = ip - m->base;
    if (!m->cache_tried) {
        m->cache_tried = 1;
        m->cache = symcache_open(m->bid, m->bidlen, !!(s->flags & MSSYM_DEBUGINFOD));
    }
    if (m->cache && symcache_lookup(m->cache, *offset, s->frames, MAX_FRAMES, nframes)) return 1;
    if (m->state == M_UNOPENED) mod_open(s, m);
    if (m->state != M_OK) return 0;
    if (!s->strbuf) {
        s->strcap = 64 * 1024;
        s->strbuf = malloc(s->strcap);
        if (!s->strbuf) { s->strcap = 0; return MS_ENOMEM; }
    }
    s->strused = 0;
    *nframes = frames_of(s, m, (ip ? ip - 1 : 0) + m->delta);
    if (m->cache) {
        if (!m->cache_src) {
            m->cache_src = 1;
            cache_source(m->cache, m->ses.dm, m->path);
        }
        symcache_add(m->cache, *offset, s->frames, *nframes);
    }
    return 1;
}

/* What the first lookup in m would do: find and decompress the debug
 * info, index its compile units, sort the symbol table. */
static void warm_debug(mod *m)
{
    Dwarf_Addr bias = 0, lo = 0;
    m->debug_warm = 1;
    dwfl_module_getdwarf(m->ses.dm, &bias);
    dwfl_module_info(m->ses.dm, NULL, &lo, NULL, NULL, NULL, NULL, NULL);
    dwfl_module_addrdie(m->ses.dm, lo, &bias);
    syms_build(m);
}

int mssym_warm(mssym *s, const char *path, uint64_t base)
{
    if (!s || !path || path[0] != '/') return MS_EINVAL;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    for (size_t i = 0; i < s->nmods; i++)
        if (s->mods[i].base == base && s->mods[i].dev == st.st_dev && s->mods[i].ino == st.st_ino)
            return 0;
    ms_module mm;
    memset(&mm, 0, sizeof mm);
    mm.path.ptr = path;
    mm.path.len = strlen(path);
    mm.base = base;
    int rc = mssym_add_module(s, &mm);
    if (rc) return rc;
    mod *m = &s->mods[s->nmods - 1];
    m->dev = st.st_dev;
    m->ino = st.st_ino;
    mod_open(s, m);
    if (m->state != M_OK) return 0;
    /* a file whose answers are cached (symcache.h) needs no debug info
     * until an ip the cache lacks: later, if at all (mssym_warm_cached) */
    const unsigned char *bits = NULL;
    GElf_Addr bva = 0;
    int bn = dwfl_module_build_id(m->ses.dm, &bits, &bva);
    symcache *c = bn > 0 ? symcache_open(bits, (size_t)bn, !!(s->flags & MSSYM_DEBUGINFOD)) : NULL;
    if (symcache_valid(c)) {
        symcache_close(c);
        return 2;
    }
    warm_debug(m);
    /* a file even when no ip of it is ever named: the next run then
     * skips this */
    if (c) {
        cache_source(c, m->ses.dm, m->path);
        symcache_want_file(c);
        symcache_close(c);
    }
    return 1;
}

int mssym_warm_cached(mssym *s, const char *path, uint64_t base)
{
    if (!s || !path) return MS_EINVAL;
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    for (size_t i = 0; i < s->nmods; i++) {
        mod *m = &s->mods[i];
        if (m->base == base && m->dev == st.st_dev && m->ino == st.st_ino && m->state == M_OK &&
            m->ses.dwfl && !m->debug_warm) {
            warm_debug(m);
            return 1;
        }
    }
    return 0;
}

void mssym_take_warm(mssym *s, mssym *warm)
{
    if (s && warm != s) s->warm = warm;
}

size_t mssym_warm_left(const mssym *warm)
{
    size_t n = 0;
    for (size_t i = 0; warm && i < warm->nmods; i++)
        n += warm->mods[i].ses.dwfl != NULL && !warm->mods[i].returned;
    return n;
}

int mssym_resolve(mssym *s, uint64_t ip, uint64_t *module_id, uint64_t *offset,
                  const ms_frame **frames, size_t *nframes)
{
    return mssym_resolve_in(s, mssym_module_index(s, ip, SIZE_MAX), ip, module_id, offset,
                            frames, nframes);
}

static void add_name(char *buf, size_t n, size_t *o, const char *label, int *first,
                     const char *path)
{
    if (*o >= n) return;
    int r = snprintf(buf + *o, n - *o, "%s%s", *first ? label : ", ", path);
    *first = 0;
    if (r > 0) *o += (size_t)r < n - *o ? (size_t)r : n - *o - 1;
}

int mssym_problems(const mssym *s, char *buf, size_t n)
{
    if (!buf || !n) return 0;
    buf[0] = 0;
    if (!s) return 0;
    size_t o = 0;
    int count = 0;
    static const struct { int state; const char *label; } kinds[] = {
        { M_MISSING, "not found: " }, { M_MISMATCH, "build id differs: " } };
    for (int k = 0; k < 2; k++) {
        int first = 1;
        for (size_t i = 0; i < s->nmods; i++) {
            const mod *m = &s->mods[i];
            if (m->state != kinds[k].state) continue;
            /* one name per path (a module dlopen'ed twice) */
            int dup = 0;
            for (size_t j = 0; j < i && !dup; j++)
                dup = s->mods[j].state == m->state && !strcmp(s->mods[j].path, m->path);
            if (dup) continue;
            if (first && count && o + 2 < n) { memcpy(buf + o, "; ", 3); o += 2; }
            add_name(buf, n, &o, kinds[k].label, &first, m->path);
            count++;
        }
    }
    return count;
}

typedef struct main_call { int (*fn)(int, char **); int argc; char **argv; int rc; } main_call;

static void *main_thread(void *arg)
{
    main_call *c = arg;
    c->rc = c->fn(c->argc, c->argv);
    return NULL;
}

int mssym_main(int (*fn)(int, char **), int argc, char **argv)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (8u << 20)) {
        main_call c = { fn, argc, argv, 1 };
        pthread_attr_t a;
        pthread_t t;
        if (pthread_attr_init(&a) == 0) {
            /* (the default too: every thread of the tool, msrec's prewarm
             * thread among them, would get the limit as its stack size) */
            int ok = pthread_attr_setstacksize(&a, 16u << 20) == 0 &&
                     pthread_setattr_default_np(&a) == 0 &&
                     pthread_create(&t, &a, main_thread, &c) == 0;
            pthread_attr_destroy(&a);
            if (ok) {
                pthread_join(t, NULL);
                return c.rc;
            }
        }
    }
    return fn(argc, argv);
}
