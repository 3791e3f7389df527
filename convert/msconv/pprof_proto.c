/* msconv --pprof OUT: writes a heap trace as the gzipped profile.proto that
 * `go tool pprof` / `pprof` read, so a memscope trace can be explored with
 * pprof's own views (-top, -traces, -web, -base) next to Go heap profiles.
 *
 * The samples and their four values come from analyze/heap_profile.h (one
 * per heap site, Go's alloc_objects/alloc_space/inuse_objects/inuse_space),
 * so pprof's totals are msconv's by construction. This file only renders
 * them: a Location per distinct stack address with its frames as Lines,
 * innermost first (pprof: the last line is the caller the others were
 * inlined into), a Function per (display name, recorded symbol, file), a
 * Mapping per executable segment of every MODULE record (page-aligned
 * start/limit/offset as in /proc/PID/maps, build id as a hex string).
 * Frames are named exactly as msconv's other reports name them (a frame
 * without a function is "libfoo.so+0x1a2b"), and every mapping says it has
 * functions, files, lines and inline frames so pprof never re-symbolizes
 * what memscope already resolved. The messages are the protobuf-c code
 * generated at build time from Debian's profile.proto; zlib gzips the
 * packed bytes as protobuf-c emits them, through ms_outfile (atomic). A
 * sampled trace's values are the model's estimates; its comment (pprof
 * -comments) says so in the --lang language and period is the rate. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "memscope.h"
#include "pprof_proto.h"
#include "heap_views_int.h"
#include "heap.h"
#include "heap_profile.h"
#include "timerange.h"
#include "symtab.h"
#include "outfile.h"
#include "i18n.h"
#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile PProfile;
typedef Perftools__Profiles__ValueType PValueType;
typedef Perftools__Profiles__Sample PSample;
typedef Perftools__Profiles__Mapping PMapping;
typedef Perftools__Profiles__Location PLocation;
typedef Perftools__Profiles__Line PLine;
typedef Perftools__Profiles__Function PFunction;

#define PAGE 4096u

/* Growable array helper: ensures room for one more element. */
static int grow(void **p, size_t *cap, size_t n, size_t elt)
{
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 64;
    void *q = realloc(*p, nc * elt);
    if (!q) return -1;
    *p = q; *cap = nc;
    return 0;
}
#define GROW(arr, cap, n) grow((void **)&(arr), &(cap), (n), sizeof *(arr))

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_str(const char *p)
{
    uint64_t h = 1469598103934665603ull;
    for (; *p; p++) { h ^= (unsigned char)*p; h *= 1099511628211ull; }
    return h;
}

/* Open-addressing index: slots hold entry number + 1 (0 = empty). */
typedef struct hindex { uint32_t *slot; size_t cap; } hindex;

static int index_grow(hindex *ix, size_t n, uint64_t (*hash)(void *, size_t), void *ctx)
{
    if (n * 2 < ix->cap) return 0;
    size_t nc = ix->cap ? ix->cap * 2 : 1024;
    uint32_t *s = calloc(nc, sizeof *s);
    if (!s) return -1;
    for (size_t i = 0; i < ix->cap; i++) {
        if (!ix->slot[i]) continue;
        size_t j = hash(ctx, ix->slot[i] - 1) & (nc - 1);
        while (s[j]) j = (j + 1) & (nc - 1);
        s[j] = ix->slot[i];
    }
    free(ix->slot);
    ix->slot = s; ix->cap = nc;
    return 0;
}

typedef struct fkey { int64_t name, system_name, file; } fkey;
typedef struct lrange { size_t first, n; } lrange;

typedef struct pp {
    const ms_heap *heap;
    ms_lang lang;                     /* of the comment (--lang)             */
    const ms_symtab *sym;
    /* string table: strs[0] = "" */
    char **strs; size_t nstrs, strs_cap; hindex str_ix;
    /* functions (id = index + 1) */
    fkey *funcs; size_t nfuncs, funcs_cap; hindex func_ix;
    /* mappings (id = index + 1); per module its mappings */
    PMapping *maps; size_t nmaps, maps_cap;
    size_t *mod_first, *mod_n;
    /* locations (id = index + 1), their lines in one pool */
    uint64_t *loc_ip, *loc_map; lrange *loc_lines; size_t nlocs, locs_cap, locs_cap2, locs_cap3;
    hindex loc_ix;
    PLine *lines; size_t nlines, lines_cap;
    /* samples: location ids in one pool */
    uint64_t *sloc; size_t nsloc, sloc_cap;
    lrange *samp; size_t nsamp, samp_cap;
    int64_t *vals; size_t vals_cap;       /* MS_HPROF_NVALUES per sample */
    uint64_t *ips; size_t ips_cap;
    int64_t s_bytes, s_space;             /* string indexes of the period type */
} pp;

static uint64_t str_hash(void *ctx, size_t i) { return hash_str(((pp *)ctx)->strs[i]); }

/* Index of s in the string table, added when new; -1 on ENOMEM. */
static int64_t str_id(pp *p, const char *s)
{
    if (index_grow(&p->str_ix, p->nstrs + 1, str_hash, p)) return -1;
    size_t j = hash_str(s) & (p->str_ix.cap - 1);
    for (; p->str_ix.slot[j]; j = (j + 1) & (p->str_ix.cap - 1))
        if (!strcmp(p->strs[p->str_ix.slot[j] - 1], s)) return p->str_ix.slot[j] - 1;
    if (GROW(p->strs, p->strs_cap, p->nstrs)) return -1;
    char *c = strdup(s);
    if (!c) return -1;
    p->strs[p->nstrs] = c;
    p->str_ix.slot[j] = (uint32_t)++p->nstrs;
    return (int64_t)p->nstrs - 1;
}

static uint64_t fkey_hash(const fkey *k) { return mix64((uint64_t)k->name * 31 + mix64((uint64_t)k->system_name) * 7 + (uint64_t)k->file); }
static uint64_t func_hash(void *ctx, size_t i) { return fkey_hash(&((pp *)ctx)->funcs[i]); }

/* Function id (>= 1) of (name, system_name, file); 0 on ENOMEM. */
static uint64_t func_id(pp *p, const char *name, const char *system_name, const char *file)
{
    fkey k = { str_id(p, name), str_id(p, system_name), str_id(p, file) };
    if (k.name < 0 || k.system_name < 0 || k.file < 0) return 0;
    if (index_grow(&p->func_ix, p->nfuncs + 1, func_hash, p)) return 0;
    size_t j = fkey_hash(&k) & (p->func_ix.cap - 1);
    for (; p->func_ix.slot[j]; j = (j + 1) & (p->func_ix.cap - 1)) {
        const fkey *f = &p->funcs[p->func_ix.slot[j] - 1];
        if (f->name == k.name && f->system_name == k.system_name && f->file == k.file) return p->func_ix.slot[j];
    }
    if (GROW(p->funcs, p->funcs_cap, p->nfuncs)) return 0;
    p->funcs[p->nfuncs] = k;
    p->func_ix.slot[j] = (uint32_t)++p->nfuncs;
    return p->nfuncs;
}

static int add_mapping(pp *p, uint64_t start, uint64_t limit, uint64_t offset, int64_t file, int64_t build_id)
{
    if (GROW(p->maps, p->maps_cap, p->nmaps)) return -1;
    PMapping m = PERFTOOLS__PROFILES__MAPPING__INIT;
    m.id = p->nmaps + 1;
    m.memory_start = start; m.memory_limit = limit; m.file_offset = offset;
    m.filename = file; m.build_id = build_id;
    m.has_functions = m.has_filenames = m.has_line_numbers = m.has_inline_frames = 1;
    p->maps[p->nmaps++] = m;
    return 0;
}

/* Mappings of every module, in load order: one per executable segment,
 * or the module's whole range when it recorded none. */
static int build_mappings(pp *p)
{
    size_t nm = ms_symtab_module_count(p->sym);
    p->mod_first = calloc(nm ? nm : 1, sizeof *p->mod_first);
    p->mod_n = calloc(nm ? nm : 1, sizeof *p->mod_n);
    if (!p->mod_first || !p->mod_n) return -1;
    for (size_t i = 0; i < nm; i++) {
        const ms_symtab_module *m = ms_symtab_module_at(p->sym, i);
        char hex[2 * 64 + 1];
        size_t bl = m->build_id_len < 64 ? m->build_id_len : 64;
        for (size_t k = 0; k < bl; k++) snprintf(hex + 2 * k, 3, "%02x", m->build_id[k]);
        hex[2 * bl] = 0;
        int64_t file = str_id(p, m->path), bid = str_id(p, hex);
        if (file < 0 || bid < 0) return -1;
        p->mod_first[i] = p->nmaps;
        for (uint32_t k = 0; k < m->nsegments; k++) {
            const ms_segment *sg = &m->segments[k];
            if (!(sg->prot & 4) || !sg->size) continue;
            uint64_t lo = sg->vaddr + m->base, slack = lo % PAGE;
            uint64_t hi = (lo + sg->size + PAGE - 1) / PAGE * PAGE;
            uint64_t off = sg->file_offset >= slack ? sg->file_offset - slack : 0;
            if (add_mapping(p, lo - slack, hi, off, file, bid)) return -1;
        }
        if (p->nmaps == p->mod_first[i] && m->hi > m->lo && add_mapping(p, m->lo, m->hi, 0, file, bid)) return -1;
        p->mod_n[i] = p->nmaps - p->mod_first[i];
    }
    return 0;
}

/* Mapping id of ip: the mapping of its module that holds it; 0 for none. */
static uint64_t mapping_of(pp *p, uint64_t ip)
{
    uint64_t off;
    const ms_symtab_module *m = ms_symtab_module_of(&off, p->sym, ip);
    if (!m) return 0;
    size_t i = (size_t)(m - ms_symtab_module_at(p->sym, 0));
    for (size_t k = p->mod_first[i]; k < p->mod_first[i] + p->mod_n[i]; k++)
        if (ip >= p->maps[k].memory_start && ip < p->maps[k].memory_limit) return k + 1;
    return 0;
}

static uint64_t loc_hash(void *ctx, size_t i) { return mix64(((pp *)ctx)->loc_ip[i]); }

static int add_line(pp *p, uint64_t fid, uint32_t line)
{
    if (!fid || GROW(p->lines, p->lines_cap, p->nlines)) return -1;
    PLine l = PERFTOOLS__PROFILES__LINE__INIT;
    l.function_id = fid; l.line = line;
    p->lines[p->nlines++] = l;
    return 0;
}

/* Location id (>= 1) of ip, or of the "[no stack]" pseudo frame when
 * nostack; 0 on ENOMEM. */
static uint64_t loc_id(pp *p, uint64_t ip, int nostack)
{
    if (index_grow(&p->loc_ix, p->nlocs + 1, loc_hash, p)) return 0;
    size_t j = mix64(ip) & (p->loc_ix.cap - 1);
    for (; p->loc_ix.slot[j]; j = (j + 1) & (p->loc_ix.cap - 1)) {
        size_t i = p->loc_ix.slot[j] - 1;
        if (p->loc_ip[i] == ip && (p->loc_map[i] == UINT64_MAX) == nostack) return i + 1;
    }
    if (GROW(p->loc_ip, p->locs_cap, p->nlocs) || GROW(p->loc_map, p->locs_cap2, p->nlocs) ||
        GROW(p->loc_lines, p->locs_cap3, p->nlocs))
        return 0;
    size_t first = p->nlines;
    if (nostack) {
        if (add_line(p, func_id(p, "[no stack]", "", ""), 0)) return 0;
    } else {
        size_t nf = ms_symtab_frame_count(p->sym, ip);
        for (size_t k = 0; k < nf; k++) {                 /* innermost first */
            char label[1024];
            ms_symtab_frame_label(label, sizeof label, p->sym, ip, k);
            const ms_symtab_frame *f = ms_symtab_frame_at(p->sym, ip, k);
            if (add_line(p, func_id(p, label, f->symbol, f->file), f->line)) return 0;
        }
    }
    size_t i = p->nlocs++;
    p->loc_ip[i] = ip;
    p->loc_map[i] = nostack ? UINT64_MAX : mapping_of(p, ip);
    p->loc_lines[i] = (lrange){ first, p->nlines - first };
    p->loc_ix.slot[j] = (uint32_t)(i + 1);
    return i + 1;
}

/* pprof lists every location of every sample (no shared prefixes), so a
 * sample keeps at most its SAMPLE_MAX_DEPTH innermost frames: deep
 * stacks cost linear, not quadratic, space. */
#define SAMPLE_MAX_DEPTH 1024

static int add_sample(pp *p, const ms_hprof_sample *smp)
{
    size_t depth = ms_symtab_stack(p->ips, p->ips_cap, p->sym, smp->stack_id);
    if (depth > SAMPLE_MAX_DEPTH) depth = SAMPLE_MAX_DEPTH;
    if (depth > p->ips_cap) {
        uint64_t *n = realloc(p->ips, depth * sizeof *n);
        if (!n) return -1;
        p->ips = n; p->ips_cap = depth;
        depth = ms_symtab_stack(p->ips, p->ips_cap, p->sym, smp->stack_id);
    }
    if (GROW(p->samp, p->samp_cap, p->nsamp)) return -1;
    if (p->vals_cap < (p->nsamp + 1) * MS_HPROF_NVALUES) {
        size_t nc = p->vals_cap ? p->vals_cap * 2 : 64 * MS_HPROF_NVALUES;
        int64_t *v = realloc(p->vals, nc * sizeof *v);
        if (!v) return -1;
        p->vals = v; p->vals_cap = nc;
    }
    size_t first = p->nsloc;
    for (size_t k = 0; k < (depth ? depth : 1); k++) {   /* leaf first */
        uint64_t id = depth ? loc_id(p, p->ips[k], 0) : loc_id(p, 0, 1);
        if (!id || GROW(p->sloc, p->sloc_cap, p->nsloc)) return -1;
        p->sloc[p->nsloc++] = id;
    }
    memcpy(p->vals + p->nsamp * MS_HPROF_NVALUES, smp->value, sizeof smp->value);
    p->samp[p->nsamp++] = (lrange){ first, p->nsloc - first };
    return 0;
}

static int build(pp *p)
{
    if (str_id(p, "") != 0) return -1;
    if ((p->s_bytes = str_id(p, "bytes")) < 0 || (p->s_space = str_id(p, "space")) < 0) return -1;
    if (build_mappings(p)) return -1;
    p->ips_cap = 256;
    if (!(p->ips = malloc(p->ips_cap * sizeof *p->ips))) return -1;
    size_t n = ms_heap_site_count(p->heap);
    for (size_t i = 0; i < n; i++) {
        ms_hprof_sample smp;
        if (ms_hprof_site(&smp, p->heap, i) && add_sample(p, &smp)) return -1;
    }
    return 0;
}

/* ---- gzip stream fed by protobuf-c's pack_to_buffer --------------------- */
typedef struct gzbuf {
    ProtobufCBuffer base;
    z_stream z;
    FILE *fp;
    int err;
    unsigned char out[1 << 16];
} gzbuf;

static void gz_drain(gzbuf *g, int flush)
{
    do {
        g->z.next_out = g->out;
        g->z.avail_out = sizeof g->out;
        int rc = deflate(&g->z, flush);
        if (rc == Z_STREAM_ERROR) { g->err = 1; return; }
        size_t have = sizeof g->out - g->z.avail_out;
        if (have && fwrite(g->out, 1, have, g->fp) != have) { g->err = 1; return; }
        if (flush == Z_FINISH && rc == Z_STREAM_END) return;
    } while (g->z.avail_out == 0 || (flush == Z_FINISH));
}

static void gz_append(ProtobufCBuffer *b, size_t len, const uint8_t *data)
{
    gzbuf *g = (gzbuf *)b;
    while (len && !g->err) {
        uInt chunk = len > (1u << 30) ? 1u << 30 : (uInt)len;
        g->z.next_in = (Bytef *)data;
        g->z.avail_in = chunk;
        gz_drain(g, Z_NO_FLUSH);
        data += chunk; len -= chunk;
    }
}

/* Pack prof into fp, gzipped. Returns 0 or -1 (write or zlib error). */
static int write_gz(FILE *fp, const PProfile *prof)
{
    gzbuf *g = calloc(1, sizeof *g);
    if (!g) return -1;
    g->base.append = gz_append;
    g->fp = fp;
    if (deflateInit2(&g->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(g);
        return -1;
    }
    perftools__profiles__profile__pack_to_buffer(prof, &g->base);
    if (!g->err) {
        g->z.next_in = NULL;
        g->z.avail_in = 0;
        gz_drain(g, Z_FINISH);
    }
    deflateEnd(&g->z);
    int err = g->err;
    free(g);
    return err ? -1 : 0;
}

/* ---- assembling the message --------------------------------------------- */
typedef struct msgs {
    PValueType vt[MS_HPROF_NVALUES], period;
    PValueType *vtp[MS_HPROF_NVALUES];
    PSample *samples; PSample **samplep;
    PMapping **mapp;
    PLocation *locs; PLocation **locp;
    PLine **linep;
    PFunction *funcs; PFunction **funcp;
    int64_t comment[2];
} msgs;

static void msgs_free(msgs *m)
{
    free(m->samples); free(m->samplep); free(m->mapp); free(m->locs); free(m->locp);
    free(m->linep); free(m->funcs); free(m->funcp);
}

/* seconds -> nanoseconds, 0 below 0 (or NaN), INT64_MAX above */
static int64_t sec_ns(double s)
{
    double ns = s * 1e9;
    if (!(ns > 0)) return 0;
    return ns >= 9.2e18 ? INT64_MAX : (int64_t)ns;
}

static int assemble(PProfile *prof, msgs *m, pp *p)
{
    const ms_heap_info *in = ms_heap_get_info(p->heap);
    const ms_heap_summary *su = ms_heap_get_summary(p->heap);
    for (int k = 0; k < MS_HPROF_NVALUES; k++) {
        PValueType v = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
        v.type = str_id(p, ms_hprof_type(k));
        v.unit = str_id(p, ms_hprof_unit(k));
        if (v.type < 0 || v.unit < 0) return -1;
        m->vt[k] = v;
        m->vtp[k] = &m->vt[k];
    }
    char comment[900], est[400] = "";
    if (ms_heap_sampled(p->heap)) ms_i18n_sampled_long(p->lang, ms_heap_sampled(p->heap), est, sizeof est);
    snprintf(comment, sizeof comment, "memscope heap trace of %s (pid %llu)%s%s", in->exe && *in->exe ? in->exe : "?",
             (unsigned long long)in->pid, *est ? "; " : "", est);
    if ((m->comment[0] = str_id(p, comment)) < 0) return -1;
    /* a range (msconv --from/--to/--phase): said in a second comment; the
     * profile's time and duration are the range's, inuse its end's */
    char rng[700];
    const ms_range *r = ms_heap_range(p->heap);
    if (ms_range_note(rng, sizeof rng, p->heap, p->lang, 1) && (m->comment[1] = str_id(p, rng)) < 0) return -1;

    m->samples = calloc(p->nsamp + 1, sizeof *m->samples);
    m->samplep = calloc(p->nsamp + 1, sizeof *m->samplep);
    m->mapp = calloc(p->nmaps + 1, sizeof *m->mapp);
    m->locs = calloc(p->nlocs + 1, sizeof *m->locs);
    m->locp = calloc(p->nlocs + 1, sizeof *m->locp);
    m->linep = calloc(p->nlines + 1, sizeof *m->linep);
    m->funcs = calloc(p->nfuncs + 1, sizeof *m->funcs);
    m->funcp = calloc(p->nfuncs + 1, sizeof *m->funcp);
    if (!m->samples || !m->samplep || !m->mapp || !m->locs || !m->locp || !m->linep || !m->funcs || !m->funcp)
        return -1;
    for (size_t i = 0; i < p->nsamp; i++) {
        PSample s = PERFTOOLS__PROFILES__SAMPLE__INIT;
        s.n_location_id = p->samp[i].n;
        s.location_id = p->sloc + p->samp[i].first;
        s.n_value = MS_HPROF_NVALUES;
        s.value = p->vals + i * MS_HPROF_NVALUES;
        m->samples[i] = s;
        m->samplep[i] = &m->samples[i];
    }
    for (size_t i = 0; i < p->nmaps; i++) m->mapp[i] = &p->maps[i];
    for (size_t i = 0; i < p->nlines; i++) m->linep[i] = &p->lines[i];
    for (size_t i = 0; i < p->nlocs; i++) {
        PLocation l = PERFTOOLS__PROFILES__LOCATION__INIT;
        l.id = i + 1;
        l.mapping_id = p->loc_map[i] == UINT64_MAX ? 0 : p->loc_map[i];
        l.address = p->loc_ip[i];
        l.n_line = p->loc_lines[i].n;
        l.line = m->linep + p->loc_lines[i].first;
        m->locs[i] = l;
        m->locp[i] = &m->locs[i];
    }
    for (size_t i = 0; i < p->nfuncs; i++) {
        PFunction f = PERFTOOLS__PROFILES__FUNCTION__INIT;
        f.id = i + 1;
        f.name = p->funcs[i].name;
        f.system_name = p->funcs[i].system_name;
        f.filename = p->funcs[i].file;
        m->funcs[i] = f;
        m->funcp[i] = &m->funcs[i];
    }
    PValueType per = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    per.type = p->s_space; per.unit = p->s_bytes;
    m->period = per;

    prof->n_sample_type = MS_HPROF_NVALUES; prof->sample_type = m->vtp;
    prof->n_sample = p->nsamp; prof->sample = m->samplep;
    prof->n_mapping = p->nmaps; prof->mapping = m->mapp;
    prof->n_location = p->nlocs; prof->location = m->locp;
    prof->n_function = p->nfuncs; prof->function = m->funcp;
    prof->n_string_table = p->nstrs; prof->string_table = p->strs;
    prof->time_nanos = (int64_t)in->start_wall_ns;
    uint64_t dur = ms_heap_ticks_ns(p->heap, su->end_time > su->first_time ? su->end_time : 0);
    if (r) {
        /* seconds of a hostile trace may exceed int64 nanoseconds: saturate */
        int64_t from = sec_ns(r->from_s);
        prof->time_nanos = prof->time_nanos > INT64_MAX - from ? INT64_MAX : prof->time_nanos + from;
        dur = (uint64_t)sec_ns(r->to_s - r->from_s);
    }
    prof->duration_nanos = dur > INT64_MAX ? INT64_MAX : (int64_t)dur;
    prof->period_type = &m->period;
    prof->period = ms_heap_sampled(p->heap) ? (int64_t)ms_heap_sampled(p->heap) : 1;
    prof->n_comment = r ? 2 : 1; prof->comment = m->comment;
    prof->default_sample_type = m->vt[MS_HPROF_DEFAULT].type;
    return 0;
}

static void pp_free(pp *p)
{
    for (size_t i = 0; i < p->nstrs; i++) free(p->strs[i]);
    free(p->strs); free(p->str_ix.slot);
    free(p->funcs); free(p->func_ix.slot);
    free(p->maps); free(p->mod_first); free(p->mod_n);
    free(p->loc_ip); free(p->loc_map); free(p->loc_lines); free(p->loc_ix.slot);
    free(p->lines); free(p->sloc); free(p->samp); free(p->vals); free(p->ips);
}

int msconv_heap_pprof(const msconv_args *a)
{
    if (!a->output) {
        return msconv_usage_error("%s", MS_CM("--pprof 需要输出文件（- 为标准输出）", "--pprof needs an output file (- for stdout)"));
    }
    ms_heap *h;
    ms_integrity integ;
    errno = 0;
    ms_heap_opts ho = { NULL, NULL, a->range };
    int e = ms_heap_load(&h, &integ, a->input, &ho);
    if (e) {
        msconv_error(a->input, "%s", msconv_reader_error(e));
        return 1;
    }
    msconv_warn_integrity(a->input, &integ);
    if ((e = msconv_range_check(a->input, h))) { ms_heap_free(h); return e; }

    pp p;
    memset(&p, 0, sizeof p);
    p.heap = h;
    p.lang = a->lang && !strcmp(a->lang, "en") ? MS_LANG_EN : MS_LANG_ZH;
    p.sym = ms_heap_symtab(h);
    msgs m;
    memset(&m, 0, sizeof m);
    PProfile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
    int rc = 1;
    if (build(&p) || assemble(&prof, &m, &p)) {
        msconv_error(a->input, "%s", ms_cli_strerror(ENOMEM));
    } else {
        ms_outfile o;
        if (!hv_open(&o, a->input, a->output, 0)) {
            int bad = write_gz(o.fp, &prof);
            rc = hv_commit(&o, a->input, a->output, bad);
        }
    }
    msgs_free(&m);
    pp_free(&p);
    ms_heap_free(h);
    return rc;
}
