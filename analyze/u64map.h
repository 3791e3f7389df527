/* A small open-addressing hash map from 64-bit keys to 32-bit values, for
 * the interning tables of the analysis models (stack memo, stack tables,
 * the heap diff). Any key is allowed (0 included); memory is 12 bytes a
 * slot at most half full. */
#ifndef MS_U64MAP_H
#define MS_U64MAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct ms_u64map {
    uint64_t *k;
    uint32_t *v;                      /* value + 1; 0 = empty slot          */
    size_t cap, n;
} ms_u64map;

#define MS_U64MAP_INIT { NULL, NULL, 0, 0 }

/* 1 and *v when key is present, else 0. */
int ms_u64map_get(const ms_u64map *m, uint64_t key, uint32_t *v);
/* Insert or replace (v < UINT32_MAX). Returns 0 or MS_ENOMEM. */
int ms_u64map_put(ms_u64map *m, uint64_t key, uint32_t v);
/* "Find or insert" in one probe: 1 and *v when key is present; else 0
 * and *slot, where ms_u64map_fill puts key once its value is known (room
 * for one more key is made first, so nothing moves in between, as long as
 * no other call on m comes between). MS_ENOMEM when growing fails. */
int ms_u64map_find(ms_u64map *m, uint64_t key, uint32_t *v, size_t *slot);
void ms_u64map_fill(ms_u64map *m, size_t slot, uint64_t key, uint32_t v);
/* Room for n keys without growing. Returns 0 or MS_ENOMEM. */
int ms_u64map_reserve(ms_u64map *m, size_t n);
void ms_u64map_free(ms_u64map *m);
#endif
