/*
 * cfi.c — a return address -> unwind rule cache in front of libunwind.
 *
 * A memo miss used to unwind the whole stack with libunwind 1.6 (~3.2 us
 * for a cc1 stack: its global cache lock inside rt_sigprocmask pairs, a
 * state record per frame). Nearly every frame of compiled code is a
 * "standard" one: its canonical frame address (CFA) is %rsp or %rbp plus a
 * constant, the return address is at CFA-8 and %rbp is either kept or
 * saved at CFA plus a constant. That rule is read once per return address
 * from the module's .eh_frame (found through _dl_find_object and the
 * .eh_frame_hdr search table, the very FDE libunwind finds), kept in a
 * global lock-free table, and the stack is then walked with plain loads.
 *
 * Exactly libunwind's stacks, or none: any frame whose rule is not such a
 * simple one (signal trampolines, DW_CFA expressions, %rsp or %rbp in
 * another register, no FDE, a rule that differs between the call
 * instruction and the return address, where libunwind's row choice could
 * matter) makes the walk give up and the caller unwinds with libunwind.
 * Every stack read lies in [frame + 8, stack_hi - 8] of the thread's own
 * stack, each CFA above the previous one; .eh_frame reads stay within the
 * module's mapping. A frame whose return address rule is "undefined"
 * (_start, a thread's clone) ends the stack after it, as unw_step does;
 * a return address of 0 ends it before.
 *
 * A dlclose may unmap code whose rules are cached (and a later module may
 * take its addresses): msr_cfi_unload_begin turns the walk off, waits for
 * walks in flight and clears the table; msr_cfi_unload_end turns it back
 * on once the dlclose returned (a dlclose in a signal handler that may
 * have interrupted a walk turns it off for good). MEMSCOPE_UNWIND_CACHE=0
 * turns it off (the plain libunwind stacks, for comparison).
 */
#include "recorder_internal.h"

#include <dlfcn.h>
#include <link.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define RULE_SLOTS (1u << 16)          /* 1 MiB: cc1 -O2 uses 7.4 k return addresses */
#define RULE_PROBES 32

/* a rule: kind (bits 0-1), CFA on %rbp (bit 2), %rbp saved (bit 3), CFA
 * offset (bits 8-39, signed), %rbp save offset from the CFA (40-55) */
enum { R_NONE = 0, R_STD = 1, R_LAST = 2, R_HARD = 3 };

struct rule_slot { _Atomic uint64_t ip, rule; };
static struct rule_slot *rules;
static _Atomic int cfi_on;             /* 1 table ready, 0 off */
static _Atomic int unloading;          /* dlcloses in flight */
static _Atomic int walking;            /* walks that may read the table */

void msr_cfi_init(void)
{
    const char *v = secure_getenv("MEMSCOPE_UNWIND_CACHE");
    if (rules || (v && !strcmp(v, "0"))) return;
    rules = msr_alloc(RULE_SLOTS * sizeof *rules);
    atomic_store(&cfi_on, rules != NULL);
}

int msr_cfi_unload_begin(int wait)
{
    if (!atomic_load(&cfi_on)) return 0;
    atomic_fetch_add(&unloading, 1);
    if (!wait) {                       /* in a signal handler amid a walk */
        atomic_store(&cfi_on, 0);
        return 1;
    }
    while (atomic_load(&walking) > 0) sched_yield();
    /* a rule before its key: a fork amid this leaves no key-less rule
     * (a slot claimed later would show it before its own) */
    for (size_t i = 0; i < RULE_SLOTS; i++) {
        atomic_store_explicit(&rules[i].rule, 0, memory_order_relaxed);
        atomic_store_explicit(&rules[i].ip, 0, memory_order_release);
    }
    return 1;
}

void msr_cfi_unload_end(void)
{
    atomic_fetch_sub(&unloading, 1);
}

/* the threads that were walking or unloading did not come along */
void msr_cfi_atfork_child(void)
{
    atomic_store(&walking, 0);
    atomic_store(&unloading, 0);
}

/* ---- .eh_frame reading: every byte read lies in [p, end) ---------------- */

struct rd { const unsigned char *p, *end; int bad; };

static uint64_t rd_uleb(struct rd *r)
{
    uint64_t v = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (r->p >= r->end) break;
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) return v;
    }
    r->bad = 1;
    return 0;
}

static int64_t rd_sleb(struct rd *r)
{
    uint64_t v = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (r->p >= r->end) break;
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            if (sh + 7 < 64 && (b & 0x40)) v |= ~(uint64_t)0 << (sh + 7);
            return (int64_t)v;
        }
    }
    r->bad = 1;
    return 0;
}

static uint64_t rd_fixed(struct rd *r, size_t n)
{
    uint64_t v = 0;
    if ((size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, n);                /* little endian */
    r->p += n;
    return v;
}

/* a pointer of encoding enc (absptr, [us]data2/4/8, [us]leb; pcrel or
 * absolute; nothing indirect) */
static uint64_t rd_ptr(struct rd *r, unsigned enc)
{
    uintptr_t at = (uintptr_t)r->p;
    uint64_t v;
    switch (enc & 0x0f) {
    case 0x00: case 0x04: case 0x0c: v = rd_fixed(r, 8); break;
    case 0x01: v = rd_uleb(r); break;
    case 0x09: v = (uint64_t)rd_sleb(r); break;
    case 0x02: v = rd_fixed(r, 2); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)rd_fixed(r, 2); break;
    case 0x03: v = rd_fixed(r, 4); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)rd_fixed(r, 4); break;
    default: r->bad = 1; return 0;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += at; break;
    default: r->bad = 1;
    }
    if (enc & 0x80) r->bad = 1;
    return v;
}

/* ---- the CFA program: only what decides %rsp, %rbp and the return address */

enum { W_SAME, W_UNDEF, W_OFF, W_OTHER };      /* a register's rule */
struct reg { unsigned char where; int64_t off; };
struct cfa_state {
    int cfa_reg;                       /* DWARF 6 %rbp, 7 %rsp, else -1 */
    int64_t cfa_off;
    struct reg rbp, rsp, ra;
};

struct cie {
    uint64_t caf;
    int64_t daf;
    uint64_t ra_col;
    unsigned fde_enc;
    int has_z;
    const unsigned char *ins, *ins_end;
};

static struct reg *reg_of(const struct cfa_state *s, const struct cie *c, uint64_t r)
{
    struct cfa_state *w = (struct cfa_state *)s;
    if (r == 6) return &w->rbp;
    if (r == 7) return &w->rsp;
    if (r == c->ra_col) return &w->ra;
    return NULL;
}

/* A CFA program being run: the reader, the location of the current row
 * and the DW_CFA_remember_state stack. */
struct cfa_run {
    struct rd r;
    uint64_t loc;
    int sp;
    struct cfa_state stack[8];
};

/* Run on until the next row starts above pc (run->loc then names that row
 * and run->r its first instruction). init: the CIE's state (DW_CFA_restore).
 * Returns 0, or -1 for anything outside the subset. */
static int run_cfa(struct cfa_state *s, const struct cfa_state *init, const struct cie *c,
                   struct cfa_run *run, uint64_t pc)
{
    struct rd r = run->r;
    uint64_t loc = run->loc;
    struct cfa_state *stack = run->stack;
    int sp = run->sp;
    while (r.p < r.end && !r.bad) {
        unsigned op = *r.p++, lo = op & 0x3f;
        uint64_t reg, adv = 0;
        struct reg *g;
        switch (op >> 6) {
        case 1: adv = lo; goto advance;
        case 2:
            if ((g = reg_of(s, c, lo))) *g = (struct reg){ W_OFF, (int64_t)rd_uleb(&r) * c->daf };
            else rd_uleb(&r);
            continue;
        case 3:
            if ((g = reg_of(s, c, lo))) *g = *reg_of(init, c, lo);
            continue;
        }
        switch (op) {
        case 0x00: break;                                       /* nop */
        case 0x01: {                                            /* set_loc */
            uint64_t to = rd_ptr(&r, c->fde_enc);
            if (to < loc) return -1;
            adv = (to - loc);
            if (c->caf != 1) return -1;
            goto advance;
        }
        case 0x02: adv = rd_fixed(&r, 1); goto advance;
        case 0x03: adv = rd_fixed(&r, 2); goto advance;
        case 0x04: adv = rd_fixed(&r, 4); goto advance;
        case 0x05: case 0x11:                                   /* offset_extended(_sf) */
            reg = rd_uleb(&r);
            {
                int64_t off = op == 0x05 ? (int64_t)rd_uleb(&r) * c->daf : rd_sleb(&r) * c->daf;
                if ((g = reg_of(s, c, reg))) *g = (struct reg){ W_OFF, off };
            }
            break;
        case 0x06:                                              /* restore_extended */
            reg = rd_uleb(&r);
            if ((g = reg_of(s, c, reg))) *g = *reg_of(init, c, reg);
            break;
        case 0x07: case 0x08:                                   /* undefined, same_value */
            reg = rd_uleb(&r);
            if ((g = reg_of(s, c, reg))) *g = (struct reg){ op == 0x07 ? W_UNDEF : W_SAME, 0 };
            break;
        case 0x09:                                              /* register */
            reg = rd_uleb(&r);
            rd_uleb(&r);
            if ((g = reg_of(s, c, reg))) *g = (struct reg){ W_OTHER, 0 };
            break;
        case 0x0a:                                              /* remember_state */
            if (sp == 8) return -1;
            stack[sp++] = *s;
            break;
        case 0x0b:                                              /* restore_state */
            if (!sp) return -1;
            *s = stack[--sp];          /* the CFA rule too, as libunwind does */
            break;
        case 0x0c:                                              /* def_cfa */
            reg = rd_uleb(&r);
            s->cfa_reg = reg == 6 || reg == 7 ? (int)reg : -1;
            s->cfa_off = (int64_t)rd_uleb(&r);
            break;
        case 0x12:                                              /* def_cfa_sf */
            reg = rd_uleb(&r);
            s->cfa_reg = reg == 6 || reg == 7 ? (int)reg : -1;
            s->cfa_off = rd_sleb(&r) * c->daf;
            break;
        case 0x0d:                                              /* def_cfa_register */
            reg = rd_uleb(&r);
            s->cfa_reg = reg == 6 || reg == 7 ? (int)reg : -1;
            break;
        case 0x0e: s->cfa_off = (int64_t)rd_uleb(&r); break;   /* def_cfa_offset */
        case 0x13: s->cfa_off = rd_sleb(&r) * c->daf; break;   /* def_cfa_offset_sf */
        case 0x0f: {                                            /* def_cfa_expression */
            uint64_t n = rd_uleb(&r);
            if (n > (uint64_t)(r.end - r.p)) return -1;
            r.p += n;
            s->cfa_reg = -1;
            break;
        }
        case 0x10: case 0x16: {                                 /* (val_)expression */
            reg = rd_uleb(&r);
            uint64_t n = rd_uleb(&r);
            if (n > (uint64_t)(r.end - r.p)) return -1;
            r.p += n;
            if ((g = reg_of(s, c, reg))) *g = (struct reg){ W_OTHER, 0 };
            break;
        }
        case 0x14: case 0x15:                                   /* val_offset(_sf) */
            reg = rd_uleb(&r);
            if (op == 0x14) rd_uleb(&r); else rd_sleb(&r);
            if ((g = reg_of(s, c, reg))) *g = (struct reg){ W_OTHER, 0 };
            break;
        case 0x2e: rd_uleb(&r); break;                          /* GNU_args_size */
        default: return -1;
        }
        continue;
    advance:
        loc += adv * c->caf;
        if (loc > pc) break;
    }
    run->r = r;
    run->loc = loc;
    run->sp = sp;
    return r.bad ? -1 : 0;
}

/* parse the CIE at p (within [lo, hi)) */
static int parse_cie(const unsigned char *p, const unsigned char *lo, const unsigned char *hi,
                     struct cie *c)
{
    if (p < lo || hi - p < 8) return -1;
    uint32_t len, id;
    memcpy(&len, p, 4);
    memcpy(&id, p + 4, 4);
    if (len == 0 || len == 0xffffffffu || id != 0 || (uint64_t)(hi - p - 4) < len) return -1;
    struct rd r = { p + 8, p + 4 + len, 0 };
    unsigned ver = (unsigned)rd_fixed(&r, 1);
    if (ver != 1 && ver != 3) return -1;
    const char *aug = (const char *)r.p;
    size_t al = 0;
    while (r.p + al < r.end && aug[al]) al++;
    if (r.p + al >= r.end) return -1;
    r.p += al + 1;
    c->caf = rd_uleb(&r);
    c->daf = rd_sleb(&r);
    c->ra_col = ver == 1 ? rd_fixed(&r, 1) : rd_uleb(&r);
    c->fde_enc = 0;
    c->has_z = 0;
    if (al && aug[0] == 'z') {
        c->has_z = 1;
        uint64_t n = rd_uleb(&r);
        if (r.bad || n > (uint64_t)(r.end - r.p)) return -1;
        struct rd a = { r.p, r.p + n, 0 };
        for (size_t i = 1; i < al; i++) {
            switch (aug[i]) {
            case 'R': c->fde_enc = (unsigned)rd_fixed(&a, 1); break;
            case 'L': rd_fixed(&a, 1); break;
            case 'P': rd_ptr(&a, (unsigned)rd_fixed(&a, 1) & 0x7f); break;
            default: return -1;        /* 'S' (a signal frame) and the unknown */
            }
        }
        if (a.bad) return -1;
        r.p += n;
    } else if (al) {
        return -1;
    }
    if (r.bad || c->ra_col != 16) return -1;
    c->ins = r.p;
    c->ins_end = r.end;
    return 0;
}

/* The states of the FDE covering q = ip - 1 at q (*a) and at ip (*b: the
 * rows starting at or below ip; libunwind's choice for a return address
 * could be either). */
static int states_at(const struct dl_find_object *o, uintptr_t q, struct cfa_state *a,
                     struct cfa_state *b)
{
    const unsigned char *lo = o->dlfo_map_start, *hi = o->dlfo_map_end;
    const unsigned char *h = o->dlfo_eh_frame;
    uint32_t count;
    if (!h || h < lo || hi - h < 16) return -1;
    const unsigned char *tab = msr_eh_table(h, &count);
    if (!tab || !count || (uint64_t)(hi - tab) / 8 < count) return -1;
    uint32_t i = 0, j = count;             /* last entry with start <= q */
    while (j - i > 1) {
        uint32_t m = i + (j - i) / 2;
        int32_t st;
        memcpy(&st, tab + (size_t)m * 8, 4);
        if ((uintptr_t)h + (intptr_t)st <= q) i = m;
        else j = m;
    }
    int32_t st, fo;
    memcpy(&st, tab + (size_t)i * 8, 4);
    memcpy(&fo, tab + (size_t)i * 8 + 4, 4);
    if ((uintptr_t)h + (intptr_t)st > q) return -1;
    const unsigned char *f = h + fo;
    if (f < lo || hi - f < 12) return -1;
    uint32_t len, cptr;
    memcpy(&len, f, 4);
    memcpy(&cptr, f + 4, 4);
    if (len == 0 || len == 0xffffffffu || cptr == 0 || (uint64_t)(hi - f - 4) < len) return -1;
    struct cie c;
    if ((uintptr_t)(f + 4) < cptr || parse_cie(f + 4 - cptr, lo, hi, &c) != 0) return -1;
    struct rd r = { f + 8, f + 4 + len, 0 };
    uint64_t start = rd_ptr(&r, c.fde_enc);
    uint64_t range = rd_ptr(&r, c.fde_enc & 0x0f);
    if (c.has_z) {
        uint64_t n = rd_uleb(&r);
        if (n > (uint64_t)(r.end - r.p)) return -1;
        r.p += n;
    }
    if (r.bad || q < start || q - start >= range) return -1;
    struct cfa_state init = { -1, 0, { W_SAME, 0 }, { W_SAME, 0 }, { W_SAME, 0 } };
    struct cfa_run run = { { c.ins, c.ins_end, 0 }, start, 0, { { 0 } } };
    if (run_cfa(&init, &init, &c, &run, UINT64_MAX) != 0) return -1;
    *a = init;
    run = (struct cfa_run){ r, start, 0, { { 0 } } };
    if (run_cfa(a, &init, &c, &run, q) != 0) return -1;
    *b = *a;
    if (run.loc == q + 1 && run.r.p < run.r.end) return run_cfa(b, &init, &c, &run, q + 1);
    return 0;
}

static uint64_t rule_of(const struct cfa_state *s)
{
    if (s->cfa_reg < 0 || s->cfa_off < INT32_MIN || s->cfa_off > INT32_MAX) return R_HARD;
    if (s->rsp.where != W_SAME) return R_HARD;
    if (s->ra.where == W_UNDEF) return R_LAST;
    if (s->ra.where != W_OFF || s->ra.off != -8) return R_HARD;
    uint64_t r = R_STD | (s->cfa_reg == 6 ? 4 : 0) | (uint64_t)(uint32_t)(int32_t)s->cfa_off << 8;
    if (s->rbp.where == W_OFF) {
        if (s->rbp.off < INT16_MIN || s->rbp.off > INT16_MAX) return R_HARD;
        r |= 8 | (uint64_t)(uint16_t)(int16_t)s->rbp.off << 40;
    } else if (s->rbp.where != W_SAME) {
        return R_HARD;
    }
    return r;
}

/* The rule for the frame returning to ip: the FDE covering the call
 * (ip - 1), rows up to the call and rows up to ip alike (else R_HARD). */
static uint64_t compute_rule_raw(uint64_t ip)
{
    struct dl_find_object o;
    if (_dl_find_object((void *)(uintptr_t)(ip - 1), &o) != 0) return R_HARD;
    struct cfa_state a, b;
    if (states_at(&o, ip - 1, &a, &b) != 0) return R_HARD;
    uint64_t ra = rule_of(&a), rb = rule_of(&b);
    return ra == rb ? ra : R_HARD;
}

#ifdef MSR_PROF
uint64_t msr_cfi_prof[2];              /* TSC ticks computing rules, rules computed */
static inline uint64_t tsc_(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static uint64_t compute_rule(uint64_t ip)
{
    uint64_t a = tsc_(), r = compute_rule_raw(ip);
    msr_cfi_prof[0] += tsc_() - a;
    msr_cfi_prof[1]++;
    return r;
}
#else
#define compute_rule compute_rule_raw
#endif

static uint64_t rule_for(uint64_t ip)
{
    size_t j = (size_t)((ip * 0x9E3779B97F4A7C15ull) >> 48) & (RULE_SLOTS - 1);
    for (int k = 0; k < RULE_PROBES; k++, j = (j + 1) & (RULE_SLOTS - 1)) {
        uint64_t cur = atomic_load_explicit(&rules[j].ip, memory_order_acquire);
        if (cur == ip) {
            uint64_t r = atomic_load_explicit(&rules[j].rule, memory_order_acquire);
            return r ? r : compute_rule(ip);      /* being filled */
        }
        if (cur) continue;
        uint64_t zero = 0;
        if (!atomic_compare_exchange_strong(&rules[j].ip, &zero, ip)) {
            if (zero != ip) continue;
            uint64_t r = atomic_load_explicit(&rules[j].rule, memory_order_acquire);
            return r ? r : compute_rule(ip);
        }
        uint64_t r = compute_rule(ip);
        atomic_store_explicit(&rules[j].rule, r, memory_order_release);
        return r;
    }
    return compute_rule(ip);                   /* crowded: not cached */
}

/* (reads the program's stack slots: no sanitizer in here) */
__attribute__((no_sanitize_address, no_sanitize("undefined")))
int msr_cfi_walk(const msr_thread *t, uint64_t ret, uintptr_t frame, uint64_t *ips,
                 uint64_t *slots, int max)
{
    uintptr_t hi = t->stack_hi;
    if (!atomic_load_explicit(&cfi_on, memory_order_relaxed) || max < 1 || frame < t->stack_lo || hi < 24 || frame > hi - 24) return -1;
    atomic_fetch_add(&walking, 1);
    if (atomic_load(&unloading)) {
        atomic_fetch_sub(&walking, 1);
        return -1;
    }
    /* the entry point keeps a frame pointer: its CFA is frame + 16 and the
     * caller's %rbp is saved at frame */
    uint64_t sp = frame + 16, rbp = *(const uint64_t *)frame, ip = ret;
    int d = 0, res = -1;
    slots[d] = frame + 8;
    ips[d++] = ret;
    while (d < max) {
        uint64_t r = rule_for(ip);
        if ((r & 3) == R_LAST) break;
        if ((r & 3) != R_STD) goto out;
        uint64_t cfa = ((r & 4) ? rbp : sp) + (uint64_t)(int64_t)(int32_t)(uint32_t)(r >> 8);
        /* the return address slot cfa - 8 within [sp, hi - 8] */
        if (cfa < sp + 8 || cfa > hi) goto out;
        if (r & 8) {
            uint64_t at = cfa + (uint64_t)(int64_t)(int16_t)(uint16_t)(r >> 40);
            if (at < sp || at > hi - 8) goto out;
            rbp = *(const uint64_t *)at;
        }
        ip = *(const uint64_t *)(cfa - 8);
        if (!ip) break;
        slots[d] = cfa - 8;
        ips[d++] = ip;
        sp = cfa;
    }
    res = d;
out:
    atomic_fetch_sub(&walking, 1);
    return res;
}
