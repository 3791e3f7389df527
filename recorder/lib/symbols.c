/* Embedded symbols: turn the unique instruction pointers of a trace into
 * SYMBOL records (function, file:line:column, the chain of inlined frames,
 * demangled C++ names) so a .memscope file can be analyzed on a machine that
 * does not have the traced binaries.
 *
 * It keeps one libdwfl session on the live process (dwfl_linux_proc_report)
 * and, for ips of modules already unloaded by dlclose, one offline session
 * per such module from its file on disk. DWARF is used when the object or
 * its separate debuginfo has it; otherwise the ELF symbol table gives the
 * function name and the file stays "" with line 0. Called about once a
 * second by the writer thread (the ips new since the last batch) and at exit,
 * always under the writer lock and with the recorder's reentrancy guard
 * held, so libdw's mallocs pass through and no two calls overlap.
 *
 * The sessions stay open between calls: creating the live session and
 * loading the ELF/DWARF indexes of libc and the program costs ~30 ms, which
 * each batch (and the exit) would otherwise pay again. Each call re-reports
 * the process's mappings into the kept session (dwfl_report_begin ... end
 * keeps the modules that are still mapped at the same place, with their
 * parsed data, and drops the others), so dlopen/dlclose between calls are
 * seen. msr_symbols_reset (fork child) closes everything.
 *
 * Warm-up: loading those indexes (libdw inflates the whole compressed
 * separate debug info of libc, ~30 ms) used to fall on the exit path of
 * every traced run. msr_symbols_warm (called by drain.c's low-priority
 * warm-up thread a little after start-up, then for new ips) symbolizes ips
 * into nothing, so the kept session's modules, aranges, CUs and line tables
 * are loaded when the writer's batches and the exit need them; the SYMBOL
 * records themselves are still written by the writer (batches and exit), so
 * a kill -9 loses nothing more than before. A lock of this file serializes
 * the warm-up with msr_symbols_write*. A fork child whose parent's warm-up
 * held the lock abandons the kept session (it may be half-updated) and
 * starts anew; exec.c's finishing fork holds the lock itself
 * (msr_symbols_quiesce), so its child inherits the warm session. */
#include <dlfcn.h>
#include <stdatomic.h>
#include <time.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inspect.h"

#define SYM_MAX_FRAMES 64
#define SYM_ARENA (256 * 1024)
#define SYM_MAX_UNLOADED 32

typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);

struct sym_ctx {
    Dwfl *live;
    struct { uint64_t id; Dwfl *dwfl; } unl[SYM_MAX_UNLOADED];
    int nunl;
    demangle_fn demangle;
    char *arena;               /* mmap'd SYM_ARENA bytes, reset per ip   */
    size_t used;
    char *to_free[SYM_MAX_FRAMES];
    int nfree;
};

static char *debuginfo_path;

/* Serializes every use of the kept context (writer batches, exit, the
 * warm-up thread): owner tid or 0; waiters sleep 100 us at a time. */
static _Atomic int sym_owner;
static int sym_held_for_fork;    /* exec.c's fork holds the lock itself */

/* 1 taken, 0 timeout, -1 already held by the caller. */
static int sym_lock_for(unsigned ms)
{
    int me = (int)syscall(SYS_gettid), zero = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (atomic_compare_exchange_strong(&sym_owner, &zero, me))
            return 1;
        if (zero == me)
            return -1;
        zero = 0;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > (long)ms)
            return 0;
        struct timespec d = {0, 100000};
        nanosleep(&d, NULL);
    }
}

static void sym_unlock(void)
{
    atomic_store(&sym_owner, 0);
}

static const Dwfl_Callbacks live_cb = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

static const Dwfl_Callbacks file_cb = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

/* Report the process's current mappings into d (new or kept session).
 * /proc/PID/maps is unreadable once the main thread has exited; the calling
 * thread's /proc/TID/maps always works. */
static int report_live(Dwfl *d)
{
    dwfl_report_begin(d);
    if (dwfl_linux_proc_report(d, getpid()) != 0) {
        dwfl_report_begin(d);
        if (dwfl_linux_proc_report(d, (pid_t)syscall(SYS_gettid)) != 0) {
            dwfl_report_end(d, NULL, NULL);
            return -1;
        }
    }
    dwfl_report_end(d, NULL, NULL);
    return 0;
}

static Dwfl *open_live(void)
{
    Dwfl *d = dwfl_begin(&live_cb);
    if (!d)
        return NULL;
    if (report_live(d) != 0) {
        dwfl_end(d);
        return NULL;
    }
    return d;
}

static Dwfl *open_file(const char *path, uint64_t base)
{
    if (!path || path[0] != '/' || access(path, R_OK) != 0)
        return NULL;
    Dwfl *d = dwfl_begin(&file_cb);
    if (!d)
        return NULL;
    dwfl_report_begin(d);
    if (!dwfl_report_elf(d, path, path, -1, base, false)) {
        dwfl_end(d);
        return NULL;
    }
    dwfl_report_end(d, NULL, NULL);
    return d;
}

/* Concatenate a, b and c into the per-ip arena; an empty string when the
 * arena is full. */
static ms_str arena_cat(struct sym_ctx *c, const char *a, const char *b, const char *d)
{
    size_t la = strlen(a), lb = strlen(b), ld = strlen(d);
    ms_str s = { "", 0 };
    if (c->used + la + lb + ld + 1 > SYM_ARENA)
        return s;
    char *p = c->arena + c->used;
    memcpy(p, a, la);
    memcpy(p + la, b, lb);
    memcpy(p + la + lb, d, ld);
    p[la + lb + ld] = 0;
    c->used += la + lb + ld + 1;
    s.ptr = p;
    s.len = la + lb + ld;
    return s;
}

static ms_str plain(const char *s)
{
    ms_str r = { s ? s : "", s ? strlen(s) : 0 };
    return r;
}

static ms_str fn_name(struct sym_ctx *c, const char *name)
{
    if (!name)
        return plain("");
    if (name[0] == '_' && name[1] == 'Z' && c->demangle && c->nfree < SYM_MAX_FRAMES) {
        int status = -1;
        char *d = c->demangle(name, NULL, NULL, &status);
        if (d && status == 0) {
            c->to_free[c->nfree++] = d;
            return plain(d);
        }
        free(d);
    }
    return plain(name);
}

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute a;
    const char *s = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a))
        s = dwarf_formstring(&a);
    if (!s && dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
        s = dwarf_formstring(&a);
    if (!s && dwarf_attr_integrate(die, DW_AT_name, &a))
        s = dwarf_formstring(&a);
    return s;
}

/* Absolute file name: relative names are joined to the CU's comp_dir. */
static ms_str file_name(struct sym_ctx *c, Dwarf_Die *cudie, const char *f)
{
    if (!f)
        return plain("");
    if (f[0] == '/' || !cudie)
        return plain(f);
    Dwarf_Attribute a;
    const char *dir = NULL;
    if (dwarf_attr(cudie, DW_AT_comp_dir, &a))
        dir = dwarf_formstring(&a);
    if (!dir || !dir[0])
        return plain(f);
    ms_str r = arena_cat(c, dir, dir[strlen(dir) - 1] == '/' ? "" : "/", f);
    return r.len ? r : plain(f);
}

static int symbolize(struct sym_ctx *c, Dwfl_Module *mod, Dwarf_Addr addr,
                     ms_frame *fr)
{
    int nf = 0;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cudie = dwfl_module_addrdie(mod, addr, &bias);
    const char *file = NULL;
    int line = 0, col = 0;
    Dwfl_Line *ln = dwfl_module_getsrc(mod, addr);
    if (ln)
        file = dwfl_lineinfo(ln, NULL, &line, &col, NULL, NULL);

    if (cudie) {
        Dwarf_Die *scopes = NULL;
        int ns = dwarf_getscopes(cudie, addr - bias, &scopes);
        if (ns > 0) {
            Dwarf_Die first = scopes[0];
            free(scopes);
            scopes = NULL;
            ns = dwarf_getscopes_die(&first, &scopes);
        }
        Dwarf_Files *files = NULL;
        size_t nfiles = 0;
        if (ns > 0 && dwarf_getsrcfiles(cudie, &files, &nfiles) != 0)
            files = NULL;
        ms_str cur_file = file_name(c, cudie, file);
        uint32_t cur_line = line > 0 ? (uint32_t)line : 0;
        uint32_t cur_col = col > 0 ? (uint32_t)col : 0;
        for (int i = 0; i < ns && nf < SYM_MAX_FRAMES; i++) {
            int tag = dwarf_tag(&scopes[i]);
            if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
                continue;
            fr[nf].function = fn_name(c, die_name(&scopes[i]));
            fr[nf].file = cur_file;
            fr[nf].line = cur_line;
            fr[nf].column = cur_col;
            nf++;
            if (tag == DW_TAG_subprogram)
                break;
            /* The next (outer) frame is at the inlined call site. */
            Dwarf_Attribute a;
            Dwarf_Word v;
            cur_file = plain("");
            cur_line = cur_col = 0;
            if (files && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &a), &v) == 0 &&
                v < nfiles)
                cur_file = file_name(c, cudie, dwarf_filesrc(files, v, NULL, NULL));
            if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &a), &v) == 0)
                cur_line = (uint32_t)v;
            if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_column, &a), &v) == 0)
                cur_col = (uint32_t)v;
        }
        free(scopes);
    }
    if (nf == 0) {
        /* No DWARF scope: the ELF symbol table name, line info if any. */
        const char *sym = dwfl_module_addrname(mod, addr);
        fr[0].function = fn_name(c, sym);
        fr[0].file = file_name(c, cudie, file);
        fr[0].line = line > 0 ? (uint32_t)line : 0;
        fr[0].column = col > 0 ? (uint32_t)col : 0;
        nf = 1;
    }
    return nf;
}

static Dwfl *dwfl_for_unloaded(struct sym_ctx *c, uint64_t id, const char *path,
                               uint64_t base)
{
    for (int i = 0; i < c->nunl; i++)
        if (c->unl[i].id == id)
            return c->unl[i].dwfl;
    if (c->nunl >= SYM_MAX_UNLOADED) {
        /* the cache is kept across calls: drop the oldest session */
        if (c->unl[0].dwfl)
            dwfl_end(c->unl[0].dwfl);
        memmove(&c->unl[0], &c->unl[1], (SYM_MAX_UNLOADED - 1) * sizeof c->unl[0]);
        c->nunl--;
    }
    Dwfl *d = open_file(path, base);
    c->unl[c->nunl].id = id;
    c->unl[c->nunl].dwfl = d;
    c->nunl++;
    return d;
}

/* The kept context (mmap'd once with its arena; see the header). */
static struct sym_ctx *kept;

static void ctx_close(struct sym_ctx *c)
{
    for (int i = 0; i < c->nunl; i++)
        if (c->unl[i].dwfl)
            dwfl_end(c->unl[i].dwfl);
    c->nunl = 0;
    if (c->live)
        dwfl_end(c->live);
    c->live = NULL;
}

void msr_symbols_reset(void)
{
    if (!kept)
        return;
    ctx_close(kept);
    munmap(kept, sizeof(*kept) + SYM_ARENA);
    kept = NULL;
}

/* The kept context, with the live session re-reported (or opened). */
static struct sym_ctx *ctx_get(void)
{
    /* A fork child keeps the session: its address space is the parent's
     * (exec.c's finishing child relies on that; a MEMSCOPE_FOLLOW_FORK
     * child was reset by msr_modules_reset anyway). */
    if (!kept) {
        struct sym_ctx *c = mmap(NULL, sizeof(*c) + SYM_ARENA, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (c == MAP_FAILED)
            return NULL;
        memset(c, 0, sizeof(*c));
        c->arena = (char *)(c + 1);
        c->demangle = (demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
        kept = c;
    }
    if (kept->live && report_live(kept->live) != 0) {
        dwfl_end(kept->live);
        kept->live = NULL;
    }
    if (!kept->live)
        kept->live = open_live();
    return kept;
}

int msr_symbols_write_ex(ms_writer *w, const uint64_t *ips,
                         const unsigned char *is_return, size_t n)
{
    if (!w || (!ips && n))
        return MS_EINVAL;
    if (n == 0)
        return 0;
    int locked = sym_lock_for(60000);
    if (locked == 0)
        return MS_EIO;
    struct sym_ctx *c = ctx_get();
    if (!c) {
        if (locked == 1)
            sym_unlock();
        return MS_ENOMEM;
    }
    int rc = 0;
    ms_frame frames[SYM_MAX_FRAMES];

    for (size_t i = 0; i < n; i++) {
        uint64_t ip = ips[i];
        uint64_t addr = (is_return && !is_return[i]) || ip == 0 ? ip : ip - 1;
        uint64_t id = 0, base = 0;
        const char *path = NULL;
        int alive = 1;
        int known = msr_module_find(ip, &id, &base, &path, &alive);
        Dwfl *d = c->live;
        if (known && !alive)
            d = dwfl_for_unloaded(c, id, path, base);
        Dwfl_Module *mod = d ? dwfl_addrmodule(d, addr) : NULL;
        if (!known && mod) {
            Dwarf_Addr b = 0;
            if (dwfl_module_getelf(mod, &b))
                base = b;
        }
        c->used = 0;
        c->nfree = 0;
        uint32_t nf = 0;
        if (mod)
            nf = (uint32_t)symbolize(c, mod, addr, frames);

        ms_record rec;
        memset(&rec, 0, sizeof rec);
        rec.type = MS_REC_SYMBOL;
        rec.u.symbol.ip = ip;
        rec.u.symbol.module_id = known ? id : 0;
        rec.u.symbol.module_offset = (known || mod) ? ip - base : 0;
        rec.u.symbol.nframes = nf;
        rec.u.symbol.frames = frames;
        int r = ms_writer_add(w, &rec);
        for (int k = 0; k < c->nfree; k++)
            free(c->to_free[k]);
        if (r < 0) {
            rc = r;
            break;
        }
    }
    if (locked == 1)
        sym_unlock();
    return rc;
}

int msr_symbols_write(ms_writer *w, const uint64_t *ips, size_t n)
{
    return msr_symbols_write_ex(w, ips, NULL, n);
}

/* ------------------------------------------------------------------------ */
/* Warm-up (the helper thread is drain.c's)                                 */
/* ------------------------------------------------------------------------ */
int msr_symbols_warm(const uint64_t *ips, size_t n, const _Atomic int *stop)
{
    if (sym_lock_for(100) != 1)
        return MS_EIO;
    struct sym_ctx *c = atomic_load(stop) ? NULL : ctx_get();
    ms_frame frames[SYM_MAX_FRAMES];
    for (size_t i = 0; c && c->live && i < n && !atomic_load(stop); i++) {
        uint64_t addr = ips[i] ? ips[i] - 1 : 0;
        Dwfl_Module *mod = dwfl_addrmodule(c->live, addr);
        c->used = 0;
        c->nfree = 0;
        if (mod)
            symbolize(c, mod, addr, frames);
        for (int k = 0; k < c->nfree; k++)
            free(c->to_free[k]);
    }
    sym_unlock();
    return 0;
}

int msr_symbols_drop(void)
{
    if (sym_lock_for(0) != 1)
        return 0;
    if (kept)
        ctx_close(kept);
    sym_unlock();
    return 1;
}

void msr_symbols_quiesce(void)
{
    if (sym_lock_for(60000) == 1)
        sym_held_for_fork = 1;
}

void msr_symbols_unquiesce(void)
{
    if (sym_held_for_fork) {
        sym_held_for_fork = 0;
        sym_unlock();
    }
}

void msr_symbols_atfork_child(void)
{
    if (atomic_load(&sym_owner) != 0 && !sym_held_for_fork)
        kept = NULL;          /* maybe half-updated: never touch it again */
    sym_held_for_fork = 0;
    atomic_store(&sym_owner, 0);
}
