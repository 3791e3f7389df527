/*
 * symbolize.c — msconv resolves, in memory, the ips a trace has no SYMBOL
 * records for (a preload trace not yet passed through `msrec symbolize`,
 * or one whose symbolizer lacked some files), so reports name functions
 * without the file being rewritten.
 *
 * analyze never links libdw: heap.c calls the resolver installed here
 * (ms_heap_set_resolver) at the end of each load with the symbol table and
 * the ips it lacks; this feeds the trace's modules to libmssym, which only
 * uses a file whose build id matches the MODULE's, and adds a SYMBOL record
 * per ip it can name to the table. Views that load a trace twice (--json
 * --events) reuse the resolver and its opened modules when the module list
 * is the same. The modules that could not be used (missing, other build
 * id) are named in one stderr line per process.
 */
#include "symbolize.h"
#include "i18n.h"
#include "heap.h"
#include "mssym.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    unsigned flags;
    mssym *sym;
    uint64_t sig;            /* hash of the module list sym was fed with */
    int warned;
} st;

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static uint64_t modules_sig(const ms_symtab *s)
{
    uint64_t h = ms_symtab_module_count(s);
    for (size_t i = 0; i < ms_symtab_module_count(s); i++) {
        const ms_symtab_module *m = ms_symtab_module_at(s, i);
        h = mix(h, m->id);
        h = mix(h, m->base);
        h = mix(h, m->lo);
        h = mix(h, m->hi);
        for (const char *p = m->path; *p; p++) h = mix(h, (unsigned char)*p);
        for (size_t k = 0; k < m->build_id_len; k++) h = mix(h, m->build_id[k]);
    }
    return h;
}

static void resolve(void *ctx, ms_symtab *tab, const uint64_t *ips, size_t n)
{
    (void)ctx;
    uint64_t sig = modules_sig(tab);
    if (!st.sym || st.sig != sig) {
        mssym_free(st.sym);
        st.sym = NULL;
        if (mssym_new(&st.sym, st.flags)) return;
        st.sig = sig;
        for (size_t i = 0; i < ms_symtab_module_count(tab); i++) {
            const ms_symtab_module *m = ms_symtab_module_at(tab, i);
            ms_segment seg = { m->lo - m->base, m->hi - m->lo, 0, 5 };
            ms_module mod;
            memset(&mod, 0, sizeof mod);
            mod.id = m->id;
            mod.path.ptr = m->path;
            mod.path.len = strlen(m->path);
            mod.build_id.ptr = (const char *)m->build_id;
            mod.build_id.len = m->build_id_len;
            mod.base = m->base;
            mod.nsegments = m->hi > m->lo ? 1 : 0;
            mod.segments = &seg;
            if (mssym_add_module(st.sym, &mod)) {
                mssym_free(st.sym);
                st.sym = NULL;
                return;
            }
        }
    }
    uint64_t unresolved = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t mid, off;
        const ms_frame *fr;
        size_t nf;
        int r = mssym_resolve(st.sym, ips[i], &mid, &off, &fr, &nf);
        if (r < 0) return;
        if (r == 0) {
            unresolved++;
            continue;
        }
        ms_record rec;
        memset(&rec, 0, sizeof rec);
        rec.type = MS_REC_SYMBOL;
        rec.u.symbol.ip = ips[i];
        rec.u.symbol.module_id = mid;
        rec.u.symbol.module_offset = off;
        rec.u.symbol.nframes = (uint32_t)nf;
        rec.u.symbol.frames = fr;
        if (ms_symtab_add(tab, &rec)) return;
    }
    char probs[1024];
    if (unresolved && !st.warned && mssym_problems(st.sym, probs, sizeof probs) > 0) {
        st.warned = 1;
        fprintf(stderr, MS_CM("msconv: %llu 个栈地址没有符号（%s）\n", "msconv: %llu stack addresses have no symbols (%s)\n"),
                (unsigned long long)unresolved, probs);
    }
}

/* At exit: the resolver's new answers go to the symbol cache. */
static void finish(void)
{
    mssym_free(st.sym);
    st.sym = NULL;
}

void msconv_symbolize_install(unsigned flags)
{
    st.flags = flags;
    ms_heap_set_resolver(resolve, NULL);
    atexit(finish);
}
