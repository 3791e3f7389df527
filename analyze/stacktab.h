/* Interned stack table of one heap trace, for reports that name many
 * stacks (msconv --json): every distinct frame (an ip and the index of
 * one of its inlined frames) once, every stack as a node (its caller's
 * node, its frame), a stack named by its innermost node. Stacks are
 * resolved through ms_stack_memo, so the table and the time to build it
 * grow with the distinct stack nodes asked for, not with stacks x depth.
 * Frame k of an ip is ms_symtab_frame_at(sym, ip, k), k = 0 innermost. */
#ifndef MS_STACKTAB_H
#define MS_STACKTAB_H
#include <stddef.h>
#include <stdint.h>
#include "symtab.h"

#define MS_STACKTAB_NONE UINT32_MAX

typedef struct ms_stacktab ms_stacktab;
typedef struct ms_stacktab_frame { uint64_t ip; uint32_t k, nframes; } ms_stacktab_frame;
typedef struct ms_stacktab_node { uint32_t parent, frame; } ms_stacktab_node;

int ms_stacktab_new(ms_stacktab **out, const ms_symtab *sym);
void ms_stacktab_free(ms_stacktab *t);
/* Innermost node of stack_id (MS_STACKTAB_NONE for an empty stack),
 * adding its nodes and frames when new. Returns 0 or MS_ENOMEM. */
int ms_stacktab_node_of(ms_stacktab *t, uint64_t stack_id, uint32_t *node);
/* Nodes in creation order: a node's parent comes before it. */
size_t ms_stacktab_node_count(const ms_stacktab *t);
const ms_stacktab_node *ms_stacktab_node_at(const ms_stacktab *t, size_t i);
size_t ms_stacktab_frame_count(const ms_stacktab *t);
const ms_stacktab_frame *ms_stacktab_frame_at(const ms_stacktab *t, size_t i);
#endif
