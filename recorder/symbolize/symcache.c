/*
 * symcache.c — the symbolizer's per-build-id cache files (symcache.h).
 *
 * A file is read whole, checked (magic, version, length, XXH3 of the
 * body, the symbolizer build, every field's bounds) and indexed by offset;
 * answers are then served from its bytes. New answers are kept in memory
 * and written at symcache_close: the file as it is on disk then (another
 * process may have added to it) is merged with them into a temporary file
 * in the cache directory, renamed over the old one. Nothing is fsynced: a
 * torn file fails its checksum and is rebuilt. The directory must belong
 * to the user and be writable by nobody else (it feeds function names to
 * reports); above 2048 files the least recently written quarter goes.
 *
 * Layout (host byte order; the magic's version byte changes with it):
 *   "MSSYMC01", u32 version, u32 0, u64 body length, u64 XXH3-64(body),
 *   body: str build id, str symbolizer ("memscope X libdw Y"),
 *         u32 kind (0 no debug info, 1 the module's own, 2 a debug file),
 *         kind 2: str path, u64 dev, ino, size, mtime (ns);
 *         u32 n, n x str: debug file paths that did not exist;
 *         u64 count, count x (u64 offset, u32 nframes,
 *                             nframes x (u32 line, u32 column, str fn, str file)),
 *         offsets strictly increasing;
 *   str = u32 length, the bytes, one NUL.
 */
#include "symcache.h"

#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#define MAGIC "MSSYMC01"
#define VERSION 1u
#define HDR 32
#define MAX_FILE (256u << 20)
#define MAX_ENTRIES (1u << 20)
#define MAX_FRAMES 64
#define MAX_STR 65536
#define MAX_ABSENT 8
#define MAX_FILES 2048

enum { K_NONE = 0, K_OWN = 1, K_FILE = 2 };

typedef struct src {
    uint32_t kind;
    char *path;                          /* K_FILE                          */
    uint64_t dev, ino, size, mtime;
    char *absent[MAX_ABSENT];            /* K_NONE                          */
    uint32_t nabsent;
} src;

typedef struct ent { uint64_t off; size_t pos; } ent;   /* pos: in buf or in news */

typedef struct fresh {                   /* a new answer                    */
    uint64_t off;
    uint32_t n;
    ms_frame fr[];
} fresh;

struct symcache {
    unsigned char *bid;
    size_t bidlen;
    int debuginfod;
    unsigned char *buf;                  /* the file read, or NULL          */
    size_t len;
    ent *ix;                             /* its answers, by offset          */
    size_t nix;
    src disk;                            /* where buf's answers came from   */
    src now;                             /* where new answers come from     */
    int have_now, want_file;
    fresh **news;
    size_t nnews, capnews;
};

/* ---- the directory ----------------------------------------------------- */

static char dir_buf[4096];
static pthread_once_t dir_once = PTHREAD_ONCE_INIT;

static void dir_init(void)
{
    char *path = dir_buf;
    const char *v = getenv("MEMSCOPE_SYMBOL_CACHE");
    const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    int n = -1;
    if (v) {
        if (*v && strcmp(v, "0") && strcmp(v, "off")) n = snprintf(path, sizeof dir_buf, "%s", v);
    } else if (x && x[0] == '/') {
        n = snprintf(path, sizeof dir_buf, "%s/memscope/symbols", x);
    } else if (h && h[0] == '/') {
        n = snprintf(path, sizeof dir_buf, "%s/.cache/memscope/symbols", h);
    }
    if (n <= 0 || (size_t)n >= sizeof dir_buf - 200) path[0] = 0;
}

/* The cache directory ("" = off), resolved once (msrec's prewarm thread
 * and its main thread both ask). */
static const char *dir_path(void)
{
    pthread_once(&dir_once, dir_init);
    return dir_buf;
}

/* 1 when dir is (or links to) a directory of ours that nobody else may
 * write. */
static int dir_ok(const char *dir)
{
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
           !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* mkdir -p with mode 0700 for what is missing. */
static int make_dirs(const char *dir)
{
    char p[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p) return -1;
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, 0700) != 0 && errno != EEXIST) return -1;
        p[i] = c;
    }
    return dir_ok(dir) ? 0 : -1;
}

/* out[o..]: the build id's bytes from..bidlen as lowercase hex; the new o. */
static size_t put_hex(char *out, size_t n, size_t o, const unsigned char *bid, size_t from,
                      size_t bidlen)
{
    for (size_t i = from; i < bidlen && o + 3 < n; i++) o += (size_t)snprintf(out + o, n - o, "%02x", bid[i]);
    return o;
}

static void file_name(const unsigned char *bid, size_t bidlen, char *out, size_t n)
{
    size_t o = put_hex(out, n, (size_t)snprintf(out, n, "%s/", dir_path()), bid, 0, bidlen);
    snprintf(out + o, n - o, ".sym");
}

static char tool_buf[128];
static pthread_once_t tool_once = PTHREAD_ONCE_INIT;

#ifndef MSSYM_SRC_ID                   /* (the Makefile: a checksum of mssym.c) */
#define MSSYM_SRC_ID "dev"
#endif

static void tool_init(void)
{
    const char *v = dwfl_version(NULL);
    snprintf(tool_buf, sizeof tool_buf, "memscope " MS_VERSION_STRING " cache %u mssym %s libdw %s",
             VERSION, MSSYM_SRC_ID, v ? v : "?");
}

/* Who wrote a file: answers of another symbolizer (another mssym.c, libdw)
 * are not used. */
static const char *tool_id(void)
{
    pthread_once(&tool_once, tool_init);
    return tool_buf;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct cur { const unsigned char *p; size_t n, o; int bad; } cur;

static const void *take(cur *c, size_t k)
{
    if (c->bad || c->n - c->o < k) { c->bad = 1; return NULL; }
    const void *p = c->p + c->o;
    c->o += k;
    return p;
}

static uint32_t u32(cur *c)
{
    const void *p = take(c, 4);
    uint32_t v = 0;
    if (p) memcpy(&v, p, 4);
    return v;
}

static uint64_t u64(cur *c)
{
    const void *p = take(c, 8);
    uint64_t v = 0;
    if (p) memcpy(&v, p, 8);
    return v;
}

static ms_str str(cur *c)
{
    ms_str s = { "", 0 };
    uint32_t k = u32(c);
    if (k > MAX_STR) { c->bad = 1; return s; }
    const char *p = take(c, (size_t)k + 1);
    if (!p || p[k] != 0) { c->bad = 1; return s; }
    s.ptr = p;
    s.len = k;
    return s;
}

static char *dup_str(ms_str s) { return strndup(s.ptr, s.len); }

static void src_free(src *s)
{
    free(s->path);
    for (uint32_t i = 0; i < s->nabsent; i++) free(s->absent[i]);
    memset(s, 0, sizeof *s);
}

/* 1 when the files named by s are still as they were. */
static int src_current(const src *s)
{
    struct stat st;
    if (s->kind == K_FILE)
        return stat(s->path, &st) == 0 && (uint64_t)st.st_dev == s->dev &&
               (uint64_t)st.st_ino == s->ino && (uint64_t)st.st_size == s->size &&
               (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec == s->mtime;
    for (uint32_t i = 0; i < s->nabsent; i++)
        if (stat(s->absent[i], &st) == 0) return 0;
    return 1;
}

static int src_same(const src *a, const src *b)
{
    if (a->kind != b->kind) return 0;
    if (a->kind != K_FILE) return 1;
    return !strcmp(a->path, b->path) && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime == b->mtime;
}

/* Parse buf (len bytes) for build id bid: 0 and *out, *ix filled, or -1. */
static int parse(const unsigned char *buf, size_t len, const unsigned char *bid, size_t bidlen,
                 src *out, ent **ix, size_t *nix)
{
    memset(out, 0, sizeof *out);
    *ix = NULL;
    *nix = 0;
    if (len < HDR || memcmp(buf, MAGIC, 8)) return -1;
    uint32_t ver;
    uint64_t blen, sum;
    memcpy(&ver, buf + 8, 4);
    memcpy(&blen, buf + 16, 8);
    memcpy(&sum, buf + 24, 8);
    if (ver != VERSION || blen != len - HDR || XXH3_64bits(buf + HDR, len - HDR) != sum) return -1;
    cur c = { buf + HDR, len - HDR, 0, 0 };
    ms_str b = str(&c), tool = str(&c);
    if (c.bad || b.len != bidlen || memcmp(b.ptr, bid, bidlen) || strcmp(tool.ptr, tool_id()))
        return -1;
    out->kind = u32(&c);
    if (out->kind == K_FILE) {
        ms_str p = str(&c);
        out->dev = u64(&c);
        out->ino = u64(&c);
        out->size = u64(&c);
        out->mtime = u64(&c);
        if (c.bad || !p.len || !(out->path = dup_str(p))) goto bad;
    } else if (out->kind != K_NONE && out->kind != K_OWN) {
        goto bad;
    }
    uint32_t na = u32(&c);
    if (na > MAX_ABSENT) goto bad;
    for (uint32_t i = 0; i < na; i++) {
        ms_str p = str(&c);
        if (c.bad || !(out->absent[i] = dup_str(p))) goto bad;
        out->nabsent = i + 1;
    }
    uint64_t count = u64(&c);
    if (c.bad || count > MAX_ENTRIES || count > (c.n - c.o) / 12) goto bad;
    ent *v = malloc((count ? count : 1) * sizeof *v);
    if (!v) goto bad;
    for (uint64_t i = 0; i < count; i++) {
        v[i].pos = HDR + c.o;
        v[i].off = u64(&c);
        uint32_t nf = u32(&c);
        if (nf == 0 || nf > MAX_FRAMES || (i && v[i].off <= v[i - 1].off)) c.bad = 1;
        for (uint32_t k = 0; k < nf && !c.bad; k++) {
            u32(&c);
            u32(&c);
            str(&c);
            str(&c);
        }
        if (c.bad) { free(v); goto bad; }
    }
    if (c.o != c.n) { free(v); goto bad; }
    *ix = v;
    *nix = (size_t)count;
    return 0;
bad:
    src_free(out);
    return -1;
}

/* The file of bid, read whole (NULL when missing or unreadable). */
static unsigned char *read_file(const unsigned char *bid, size_t bidlen, size_t *len)
{
    char path[4400];
    file_name(bid, bidlen, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return NULL;
    struct stat st;
    unsigned char *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
        st.st_size >= HDR && st.st_size <= MAX_FILE && (buf = malloc((size_t)st.st_size))) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += (size_t)r;
        }
        if (got != (size_t)st.st_size) { free(buf); buf = NULL; }
        *len = got;
    }
    close(fd);
    return buf;
}

symcache *symcache_open(const unsigned char *bid, size_t bidlen, int debuginfod)
{
    if (!bid || !bidlen || bidlen > 64 || !dir_path()[0]) return NULL;
    symcache *c = calloc(1, sizeof *c);
    if (!c || !(c->bid = malloc(bidlen))) { free(c); return NULL; }
    memcpy(c->bid, bid, bidlen);
    c->bidlen = bidlen;
    c->debuginfod = debuginfod;
    if (!dir_ok(dir_path())) return c;
    size_t len = 0;
    unsigned char *buf = read_file(bid, bidlen, &len);
    if (!buf) return c;
    /* answers made without debug info are not final when debuginfod may
     * be asked */
    if (parse(buf, len, bid, bidlen, &c->disk, &c->ix, &c->nix) == 0 && src_current(&c->disk) &&
        !(debuginfod && c->disk.kind == K_NONE)) {
        c->buf = buf;
        c->len = len;
    } else {
        free(c->ix);
        c->ix = NULL;
        c->nix = 0;
        src_free(&c->disk);
        free(buf);
    }
    return c;
}

int symcache_valid(const symcache *c) { return c && c->buf; }

void symcache_want_file(symcache *c)
{
    if (c) c->want_file = 1;
}

static long find(const ent *v, size_t n, uint64_t off)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].off < off) lo = mid + 1; else hi = mid;
    }
    return lo < n && v[lo].off == off ? (long)lo : -1;
}

/* Frames of the entry at pos of a checked buffer. */
static size_t decode(const unsigned char *buf, size_t len, size_t pos, ms_frame *out, size_t max)
{
    cur c = { buf, len, pos, 0 };
    u64(&c);
    uint32_t nf = u32(&c);
    size_t k = 0;
    for (; k < nf && k < max; k++) {
        out[k].line = u32(&c);
        out[k].column = u32(&c);
        out[k].function = str(&c);
        out[k].file = str(&c);
    }
    return k;
}

int symcache_lookup(const symcache *c, uint64_t offset, ms_frame *out, size_t max, size_t *nframes)
{
    *nframes = 0;
    if (!c) return 0;
    /* (answers added since are not looked up: the callers resolve each
     * ip once) */
    long j = c->buf ? find(c->ix, c->nix, offset) : -1;
    if (j < 0) return 0;
    *nframes = decode(c->buf, c->len, c->ix[j].pos, out, max);
    return *nframes > 0;
}

/* ---- new answers --------------------------------------------------------- */

static void add_absent(src *s, const char *dir, const char *name)
{
    if (s->nabsent >= MAX_ABSENT || !name || !*name) return;
    char p[8800];
    snprintf(p, sizeof p, "%s%s%s", dir, *dir ? "/" : "", name);
    struct stat st;
    if (stat(p, &st) == 0) return;
    if ((s->absent[s->nabsent] = strdup(p))) s->nabsent++;
}

void symcache_source(symcache *c, const char *mainfile, const char *debugfile,
                     const char *debuglink)
{
    if (!c || c->have_now) return;
    c->have_now = 1;
    src *s = &c->now;
    struct stat st;
    if (debugfile && mainfile && !strcmp(debugfile, mainfile)) {
        s->kind = K_OWN;
    } else if (debugfile && stat(debugfile, &st) == 0 && (s->path = strdup(debugfile))) {
        s->kind = K_FILE;
        s->dev = (uint64_t)st.st_dev;
        s->ino = (uint64_t)st.st_ino;
        s->size = (uint64_t)st.st_size;
        s->mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
    } else {
        /* where libdwfl's default search (":.debug:/usr/lib/debug") would
         * find one: by build id, then by .gnu_debuglink next to the file */
        s->kind = K_NONE;
        char hex[140];
        size_t o = put_hex(hex, sizeof hex, (size_t)snprintf(hex, sizeof hex, ".build-id/%02x/", c->bid[0]),
                           c->bid, 1, c->bidlen);
        snprintf(hex + o, sizeof hex - o, ".debug");
        add_absent(s, "/usr/lib/debug", hex);
        /* the .gnu_debuglink name, else the file's name + ".debug", next
         * to the file, in .debug/ there and under /usr/lib/debug, for
         * the path as given and for the file it links to */
        char name[512], dirs[2][4096];
        const char *base = mainfile ? strrchr(mainfile, '/') : NULL;
        if (debuglink) snprintf(name, sizeof name, "%s", debuglink);
        else if (base) snprintf(name, sizeof name, "%s.debug", base + 1);
        else name[0] = 0;
        char *rp = mainfile ? realpath(mainfile, NULL) : NULL;
        snprintf(dirs[0], sizeof dirs[0], "%s", mainfile ? mainfile : "");
        snprintf(dirs[1], sizeof dirs[1], "%s", rp ? rp : "");
        free(rp);
        int same = !strcmp(dirs[0], dirs[1]);
        for (int k = 0; k < 2 && name[0]; k++) {
            char *slash = strrchr(dirs[k], '/');
            if (!slash || (k == 1 && same)) continue;
            *slash = 0;
            char sub[sizeof dirs + 64];
            add_absent(s, dirs[k], name);
            snprintf(sub, sizeof sub, "%s/.debug", dirs[k]);
            add_absent(s, sub, name);
            snprintf(sub, sizeof sub, "/usr/lib/debug%s", dirs[k]);
            add_absent(s, sub, name);
        }
    }
    /* answers from another debug file are not mixed with these */
    if (c->buf && !src_same(&c->disk, s)) {
        free(c->buf);
        c->buf = NULL;
        free(c->ix);
        c->ix = NULL;
        c->nix = 0;
        src_free(&c->disk);
    }
}

void symcache_add(symcache *c, uint64_t offset, const ms_frame *fr, size_t n)
{
    if (!c || !c->have_now || n == 0 || n > MAX_FRAMES || c->nnews + c->nix >= MAX_ENTRIES) return;
    size_t bytes = sizeof(fresh) + n * sizeof(ms_frame);
    for (size_t k = 0; k < n; k++) {
        if (fr[k].function.len > MAX_STR || fr[k].file.len > MAX_STR) return;
        bytes += fr[k].function.len + fr[k].file.len + 2;
    }
    if (c->nnews == c->capnews) {
        size_t nc = c->capnews ? c->capnews * 2 : 64;
        fresh **t = realloc(c->news, nc * sizeof *t);
        if (!t) return;
        c->news = t;
        c->capnews = nc;
    }
    fresh *f = malloc(bytes);
    if (!f) return;
    f->off = offset;
    f->n = (uint32_t)n;
    char *p = (char *)&f->fr[n];
    for (size_t k = 0; k < n; k++) {
        f->fr[k] = fr[k];
        const ms_str *ss[2] = { &fr[k].function, &fr[k].file };
        ms_str *ds[2] = { &f->fr[k].function, &f->fr[k].file };
        for (int j = 0; j < 2; j++) {
            if (ss[j]->len) memcpy(p, ss[j]->ptr, ss[j]->len);
            p[ss[j]->len] = 0;
            ds[j]->ptr = p;
            ds[j]->len = ss[j]->len;
            p += ss[j]->len + 1;
        }
    }
    c->news[c->nnews++] = f;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct out { unsigned char *p; size_t n, cap; int bad; } out;

static void put(out *o, const void *v, size_t k)
{
    if (o->bad) return;
    if (o->n + k > o->cap) {
        size_t nc = o->cap ? o->cap : 4096;
        while (nc < o->n + k) nc *= 2;
        unsigned char *t = nc <= MAX_FILE ? realloc(o->p, nc) : NULL;
        if (!t) { o->bad = 1; return; }
        o->p = t;
        o->cap = nc;
    }
    memcpy(o->p + o->n, v, k);
    o->n += k;
}
static void put32(out *o, uint32_t v) { put(o, &v, 4); }
static void put64(out *o, uint64_t v) { put(o, &v, 8); }
static void put_str(out *o, const char *s, size_t k)
{
    put32(o, (uint32_t)k);
    put(o, s, k);
    put(o, "", 1);
}

/* One answer, its offset first: from a checked file or a fresh one. */
typedef struct row { uint64_t off; const unsigned char *buf; size_t len, pos; const fresh *f; } row;

static int cmp_row(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    return (x->f == NULL) - (y->f == NULL);     /* fresh first */
}

typedef struct mt { char *path; long long t; } mt;

static int cmp_mt(const void *a, const void *b)
{
    const mt *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

/* Above MAX_FILES cache files, remove the least recently written quarter;
 * temporary files an hour old (their writer died) go too. */
static void prune(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    mt *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d))) {
        size_t k = strlen(e->d_name);
        if (!strncmp(e->d_name, ".tmp.", 5)) {   /* a writer that died: after an hour */
            struct stat st;
            char p[4400];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < now - 3600) unlink(p);
            continue;
        }
        if (k < 5 || strcmp(e->d_name + k - 4, ".sym")) continue;
        if (n == cap) {
            mt *t = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof *t);
            if (!t) break;
            v = t;
        }
        struct stat st;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lstat(p, &st) != 0 || !(v[n].path = strdup(p))) continue;
        v[n++].t = (long long)st.st_mtim.tv_sec;
    }
    closedir(d);
    if (n > MAX_FILES) {
        qsort(v, n, sizeof *v, cmp_mt);
        for (size_t i = 0; i < n - MAX_FILES * 3 / 4; i++) unlink(v[i].path);
    }
    for (size_t i = 0; i < n; i++) free(v[i].path);
    free(v);
}

static void save(symcache *c)
{
    const char *dir = dir_path();
    if (make_dirs(dir) != 0) return;
    /* what the file holds now, when it came from the same debug file */
    size_t dlen = 0, ndix = 0;
    unsigned char *dbuf = read_file(c->bid, c->bidlen, &dlen);
    ent *dix = NULL;
    src dsrc;
    memset(&dsrc, 0, sizeof dsrc);
    if (dbuf && (parse(dbuf, dlen, c->bid, c->bidlen, &dsrc, &dix, &ndix) != 0 ||
                 !src_same(&dsrc, &c->now))) {
        free(dix);
        dix = NULL;
        ndix = 0;
    }
    size_t nrow = c->nnews + ndix + c->nix;
    row *r = malloc((nrow ? nrow : 1) * sizeof *r);
    out o = { NULL, 0, 0, 0 };
    if (!r) goto done;
    size_t k = 0;
    for (size_t i = 0; i < c->nnews; i++) r[k++] = (row){ c->news[i]->off, NULL, 0, 0, c->news[i] };
    for (size_t i = 0; i < ndix; i++) r[k++] = (row){ dix[i].off, dbuf, dlen, dix[i].pos, NULL };
    for (size_t i = 0; i < c->nix; i++) r[k++] = (row){ c->ix[i].off, c->buf, c->len, c->ix[i].pos, NULL };
    qsort(r, k, sizeof *r, cmp_row);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (!u || r[u - 1].off != r[i].off) r[u++] = r[i];
    if (u > MAX_ENTRIES) u = MAX_ENTRIES;

    put(&o, MAGIC, 8);
    put32(&o, VERSION);
    put32(&o, 0);
    put64(&o, 0);
    put64(&o, 0);
    put_str(&o, (const char *)c->bid, c->bidlen);
    put_str(&o, tool_id(), strlen(tool_id()));
    put32(&o, c->now.kind);
    if (c->now.kind == K_FILE) {
        put_str(&o, c->now.path, strlen(c->now.path));
        put64(&o, c->now.dev);
        put64(&o, c->now.ino);
        put64(&o, c->now.size);
        put64(&o, c->now.mtime);
    }
    put32(&o, c->now.nabsent);
    for (uint32_t i = 0; i < c->now.nabsent; i++) put_str(&o, c->now.absent[i], strlen(c->now.absent[i]));
    put64(&o, u);
    ms_frame fr[MAX_FRAMES];
    for (size_t i = 0; i < u; i++) {
        size_t nf;
        const ms_frame *f;
        if (r[i].f) {
            nf = r[i].f->n;
            f = r[i].f->fr;
        } else {
            nf = decode(r[i].buf, r[i].len, r[i].pos, fr, MAX_FRAMES);
            f = fr;
        }
        put64(&o, r[i].off);
        put32(&o, (uint32_t)nf);
        for (size_t j = 0; j < nf; j++) {
            put32(&o, f[j].line);
            put32(&o, f[j].column);
            put_str(&o, f[j].function.ptr, f[j].function.len);
            put_str(&o, f[j].file.ptr, f[j].file.len);
        }
    }
    if (o.bad) goto done;
    uint64_t blen = o.n - HDR, sum = XXH3_64bits(o.p + HDR, o.n - HDR);
    memcpy(o.p + 16, &blen, 8);
    memcpy(o.p + 24, &sum, 8);

    char final[4400], tmp[4500];
    file_name(c->bid, c->bidlen, final, sizeof final);
    snprintf(tmp, sizeof tmp, "%s/.tmp.XXXXXX", dir);
    int fd = mkstemp(tmp);
    if (fd < 0) goto done;
    size_t w = 0;
    while (w < o.n) {
        ssize_t x = write(fd, o.p + w, o.n - w);
        if (x < 0 && errno == EINTR) continue;
        if (x <= 0) break;
        w += (size_t)x;
    }
    if (close(fd) != 0 || w != o.n || rename(tmp, final) != 0) unlink(tmp);
    else if (!dbuf) prune(dir);                 /* a new file: the count grew */
done:
    free(o.p);
    free(r);
    free(dix);
    src_free(&dsrc);
    free(dbuf);
}

void symcache_close(symcache *c)
{
    if (!c) return;
    if (c->have_now && (c->nnews || (c->want_file && !c->buf))) save(c);
    for (size_t i = 0; i < c->nnews; i++) free(c->news[i]);
    free(c->news);
    free(c->ix);
    free(c->buf);
    src_free(&c->disk);
    src_free(&c->now);
    free(c->bid);
    free(c);
}
