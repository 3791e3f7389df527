/* Time ranges and phases (range.h): turns a request in seconds or a phase
 * name into a tick span while the heap replay runs, and says when the
 * replay enters and leaves it. The replay (heap.c) owns the counting; this
 * file only decides times, so the rules of a range live in one place.
 * Mark names are kept (each distinct name once, found through a set of
 * their 64-bit hashes) only for phase requests, to list the phases that
 * exist when the requested one does not: at most RANGE_NAMES of them, each
 * cut to RANGE_NAME_LEN bytes, so a hostile trace of millions of distinct
 * or huge names (or of names built to collide in the set) costs O(1) a
 * mark once the list is full. */
#include "range.h"
#include "memscope.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANGE_NAMES 256
#define RANGE_NAME_LEN 200

int ms_range_init(ms_range *r, const ms_range_req *req)
{
    memset(r, 0, sizeof *r);
    r->req = *req;
    r->hi = UINT64_MAX;
    if (req->phase) {
        if (!(r->phase = strdup(req->phase))) return MS_ENOMEM;
        r->req.phase = r->phase;
    }
    return 0;
}

void ms_range_free(ms_range *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->nnames; i++) free(r->names[i]);
    free(r->names);
    free(r->name_hash);
    free(r->phase);
    memset(r, 0, sizeof *r);
}

static uint64_t to_ticks(double s, uint64_t hz)
{
    double t = floor(s * (double)hz + 0.5);
    return t >= 1.8e19 ? UINT64_MAX : (uint64_t)t;
}

void ms_range_set_clock(ms_range *r, uint64_t hz)
{
    if (r->ticks_set) return;
    r->ticks_set = 1;
    if (r->req.phase) return;                   /* opened by its mark */
    if (!hz) hz = 1;
    r->lo = r->req.has_from ? to_ticks(r->req.from_s, hz) : 0;
    if (r->req.has_to) {
        uint64_t t = to_ticks(r->req.to_s, hz);
        r->hi = t == UINT64_MAX ? t : t + 1;    /* to is inclusive */
    }
    r->open = 1;
}

static uint64_t name_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;         /* FNV-1a */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h | 1;                               /* 0 = empty slot */
}

/* Remember name once; 0 or -1 on ENOMEM. */
static int remember(ms_range *r, const char *name, size_t len)
{
    if (r->nnames >= RANGE_NAMES) { r->names_capped = 1; return 0; }
    if ((r->nnames + 1) * 2 > r->cap_hash) {
        size_t cap = r->cap_hash ? r->cap_hash * 2 : 64;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t) return -1;
        for (size_t i = 0; i < r->cap_hash; i++) {
            if (!r->name_hash[i]) continue;
            size_t j = r->name_hash[i] & (cap - 1);
            while (t[j]) j = (j + 1) & (cap - 1);
            t[j] = r->name_hash[i];
        }
        free(r->name_hash);
        r->name_hash = t; r->cap_hash = cap;
    }
    uint64_t h = name_hash(name, len);
    size_t j = h & (r->cap_hash - 1);
    while (r->name_hash[j]) {
        if (r->name_hash[j] == h) return 0;
        j = (j + 1) & (r->cap_hash - 1);
    }
    if (r->nnames == r->cap_names) {
        size_t cap = r->cap_names ? r->cap_names * 2 : 16;
        char **n = realloc(r->names, cap * sizeof *n);
        if (!n) return -1;
        r->names = n; r->cap_names = cap;
    }
    size_t keep = len < RANGE_NAME_LEN ? len : RANGE_NAME_LEN;
    char *c = malloc(keep + 1);
    if (!c) return -1;
    memcpy(c, name, keep);
    c[keep] = 0;
    r->names[r->nnames++] = c;
    r->name_hash[j] = h;
    return 0;
}

int ms_range_mark_seen(ms_range *r, const char *name, size_t len)
{
    if (!r->req.phase) return 0;
    if (!name) len = 0;
    if (remember(r, name ? name : "", len)) return -1;
    int is = strlen(r->phase) == len && (!len || !memcmp(r->phase, name, len));
    r->phase_marks += (uint64_t)is;
    return is;
}

void ms_range_mark_at(ms_range *r, uint64_t time, int is_phase)
{
    if (!r->req.phase || r->closed) return;
    if (r->found) {                             /* the next mark ends it */
        r->hi = time;
        return;
    }
    if (!is_phase) return;
    r->found = 1;
    r->lo = time;
    r->open = 1;
}

int ms_range_finish(ms_range *r, uint64_t end, uint64_t hz)
{
    if (!hz) hz = 1;
    int was_open = !r->closed;
    r->closed = 1; r->open = 0;
    double end_s = (double)end / (double)hz;
    if (r->req.phase) {
        r->from_s = r->found ? (double)r->lo / (double)hz : 0;
        r->end_tick = r->found && r->hi != UINT64_MAX ? r->hi : end;
        r->to_s = (double)r->end_tick / (double)hz;
        return was_open && r->found;
    }
    r->from_s = r->req.has_from ? r->req.from_s : 0;
    r->from_past_end = r->req.has_from && r->lo > end;
    if (r->req.has_to && r->hi - 1 <= end) {
        r->to_s = r->req.to_s;
        r->end_tick = r->hi - 1;
    } else {
        r->to_clamped = r->req.has_to;
        r->to_s = end_s;
        r->end_tick = end;
    }
    return was_open;
}

void ms_range_names(const ms_range *r, char *buf, size_t cap)
{
    size_t n = 0;
    if (!cap) return;
    buf[0] = 0;
    for (size_t i = 0; i < r->nnames; i++) {
        const char *sep = i ? ", " : "";
        size_t need = strlen(sep) + strlen(r->names[i]);
        if (n + need + 6 >= cap) {              /* room for ", ..." */
            if (n + 6 < cap) memcpy(buf + n, ", ...", 6);
            return;
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", sep, r->names[i]);
    }
    if (r->names_capped && n + 6 < cap) memcpy(buf + n, ", ...", 6);
}
