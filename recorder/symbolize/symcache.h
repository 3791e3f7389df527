/*
 * symcache.h — the symbolizer's on-disk cache of resolved instruction
 * pointers, one file per build id (internal to libmssym).
 *
 * Opening a module's debug info is most of what symbolizing a short run
 * costs: libdw decompresses every DWARF section of libc6-dbg at open
 * (~100 ms here) to name the ~50 ips `sqlite3 -version` allocates from.
 * The answer for (build id, ip - load base) never changes while the debug
 * file that gave it stays the same, so it is kept in
 * $MEMSCOPE_SYMBOL_CACHE, else $XDG_CACHE_HOME/memscope/symbols, else
 * ~/.cache/memscope/symbols ("0" or "off" turns the cache off), like
 * perf's ~/.debug and debuginfod's client cache. A file records which
 * debug file (path, device, inode, size, mtime) its answers came from, or,
 * when there was none, the places a debug file would be looked for: when
 * that changes (libc6-dbg installed, a .debug file dropped next to the
 * program) the file is ignored and rewritten. Damaged or foreign files
 * (checksum, bounds, version, symbolizer build) are ignored, never
 * trusted; failures to write are silent (it is only a cache).
 */
#ifndef SYMCACHE_H
#define SYMCACHE_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"

typedef struct symcache symcache;

/* The cache of one build id: what the file holds when it is valid (and,
 * with debuginfod allowed, not an answer made without debug info), else
 * empty. NULL when the cache is off, the build id is empty or out of
 * memory. */
symcache *symcache_open(const unsigned char *bid, size_t bidlen, int debuginfod);

/* 1 and the frames of offset (ip - load base) when the file read at
 * symcache_open has them (answers added since are not looked up); strings
 * stay valid until symcache_close. 0 when not. */
int symcache_lookup(const symcache *c, uint64_t offset, ms_frame *out, size_t max,
                    size_t *nframes);

/* Where new answers come from: the module's file, the debug file libdwfl
 * used (NULL: none, its own DWARF when equal to mainfile) and the
 * .gnu_debuglink name (NULL: none). Called before the first symcache_add;
 * answers cached from another debug file are dropped. */
void symcache_source(symcache *c, const char *mainfile, const char *debugfile,
                     const char *debuglink);

/* Remember the frames of offset (copied). */
void symcache_add(symcache *c, uint64_t offset, const ms_frame *fr, size_t n);

/* 1 when a valid file was read (it may hold no answers: a module that was
 * opened ahead but had no ip to name). */
int symcache_valid(const symcache *c);

/* Write the file at symcache_close even without answers, so that the
 * next run knows the module's source without opening its debug info. */
void symcache_want_file(symcache *c);

/* Write the new answers (merged with what the file holds now) and free c. */
void symcache_close(symcache *c);
#endif
