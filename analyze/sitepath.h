/* Names of allocation sites as call paths, for every report that lists
 * sites (the dashboard's sites table and moment list, --json site rows,
 * --leaks and the --text sections): the innermost frame, then its callers,
 * "dup_value kvcache.c:85 ← cache_put kvcache.c:120 ← main". A leaf shared
 * by several sites never makes two of them look alike: each site shows as
 * many callers as it takes to tell it from every other site in the set
 * (at least min_frames frames, at most MS_SITEPATH_MAX_FRAMES).
 *
 * Frames are the symbolized ones every report shows (ms_symtab_frame_at:
 * inlined frames first, each ip's own function last); an inlined frame is
 * marked " (inline)" as pprof marks them. */
#ifndef MS_SITEPATH_H
#define MS_SITEPATH_H
#include <stddef.h>
#include <stdint.h>
#include "symtab.h"

#define MS_SITEPATH_MAX_FRAMES 64u
/* Flag in a depth: the site's frames read the same as another site's to
 * the end (two calls on one source line): its name adds the leaf's
 * address, "churn @0x4011c2 sitepaths.c:52 ← ...". */
#define MS_SITEPATH_ADDR 0x80000000u
/* Frames every report shows at least: the site and two callers. */
#define MS_SITE_MIN_FRAMES 3u

/* depth[i] = frames to show for stack_ids[i] so that no two sites whose
 * shown frames differ somewhere in their stacks get the same name: start
 * at min(min_frames, the stack's frames) and add a caller to every site of
 * a group sharing a name until the names differ or the stacks end; those
 * still alike then get MS_SITEPATH_ADDR. Time
 * O(sites x frames shown) with a per-ip cache, never O(stack depth). Returns 0 or MS_ENOMEM. */
int ms_site_depths(uint32_t *depth, const ms_symtab *sym, const uint64_t *stack_ids, size_t n,
                   unsigned min_frames);

/* The name of stack_id with its first `frames` frames (0 = all, up to
 * MS_SITEPATH_MAX_FRAMES; a depth from ms_site_depths, flag included): "func file:line ← caller file:line ← ...",
 * files as basenames, "func (inline) file:line" for an inlined frame,
 * "[no stack]" for an empty stack. Always NUL-terminates buf (n > 0);
 * returns the length written. */
size_t ms_site_path_name(char *buf, size_t n, const ms_symtab *sym, uint64_t stack_id, uint32_t frames);
#endif
