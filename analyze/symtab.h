/* Symbol table of a heap trace: stack nodes (STACK), symbolized ips
 * (SYMBOL) and loaded modules (MODULE / MODULE_UNLOAD), fed in file order
 * and queried by the heap models and the converters. Strings are copied
 * (interned), so nothing points into the reader's buffers. */
#ifndef MS_SYMTAB_H
#define MS_SYMTAB_H
#include <stddef.h>
#include <stdint.h>
#include "memscope.h"

typedef struct ms_symtab ms_symtab;

/* One source-level frame of an ip (inlined frames first). Strings are
 * NUL-terminated, never NULL ("" when unknown). function is the display
 * name: symbol with compiler clone suffixes folded (ms_symtab_fold_name),
 * so "foo.isra.0" and "foo.lto_priv.0" are both "foo"; symbol is the name
 * as recorded. */
typedef struct ms_symtab_frame {
    const char *function;
    const char *file;
    uint32_t line, column;
    const char *symbol;
} ms_symtab_frame;

typedef struct ms_symtab_module {
    uint64_t id;
    const char *path;                 /* "" when unknown                    */
    const uint8_t *build_id;          /* raw bytes                          */
    size_t build_id_len;
    uint64_t base;
    uint64_t lo, hi;                  /* runtime address range [lo, hi)     */
    int unloaded;
    const ms_segment *segments;       /* as recorded (vaddr: file address)  */
    uint32_t nsegments;
} ms_symtab_module;

int ms_symtab_new(ms_symtab **out);
void ms_symtab_free(ms_symtab *s);

/* Feed one record; STACK, SYMBOL, MODULE and MODULE_UNLOAD are used, other
 * types are ignored. Returns 0 or MS_ENOMEM. */
int ms_symtab_add(ms_symtab *s, const ms_record *rec);

/* Largest stack node id defined so far (0 = none). */
uint64_t ms_symtab_max_node(const ms_symtab *s);

/* Node id -> (parent, ip). Returns 0, or MS_EINVAL for an undefined id. */
int ms_symtab_node(uint64_t *parent, uint64_t *ip, const ms_symtab *s, uint64_t id);

/* Instruction pointers of stack id, innermost first. Stores at most max
 * and returns the full depth (0 for stack 0 or an undefined id). Cycles
 * and undefined parents end the walk. */
size_t ms_symtab_stack(uint64_t *ips, size_t max, const ms_symtab *s, uint64_t stack_id);

/* Memoized walks of the stack-node tree, for models that give every stack
 * a value built from its caller's (a call-tree path, an interned stack
 * node): each node id is resolved once, walking up only to the nearest
 * node already resolved, so all the stacks of a trace cost O(their nodes)
 * however deep they are (a chain of 20,000 stacks of depth 1..20,000 costs
 * 20,000 steps, not 200 million). */
typedef struct ms_stack_memo ms_stack_memo;
int ms_stack_memo_new(ms_stack_memo **out);
void ms_stack_memo_free(ms_stack_memo *m);
/* Value of the node whose caller's value is `parent` and whose ip is ip. */
typedef int (*ms_stack_extend_fn)(void *ctx, uint32_t parent, uint64_t ip, uint32_t *value);
/* Value of stack id: `root` for an empty stack, else extend(value of its
 * caller, its ip). The walk ends, as ms_symtab_stack's, at id 0, an
 * undefined id or a parent id that is not smaller than its child's.
 * Returns 0, MS_ENOMEM or extend's error. */
int ms_stack_memo_get(ms_stack_memo *m, const ms_symtab *s, uint64_t id, uint32_t root,
                      ms_stack_extend_fn extend, void *ctx, uint32_t *out);

/* Symbolized frames of ip (innermost inlined first); returns their count,
 * 0 when no SYMBOL record named ip. */
size_t ms_symtab_frames(const ms_symtab_frame **frames, const ms_symtab *s, uint64_t ip);

/* Module containing ip (from SYMBOL's module id, else by address range);
 * NULL when unknown. *offset gets ip - base. */
const ms_symtab_module *ms_symtab_module_of(uint64_t *offset, const ms_symtab *s, uint64_t ip);

size_t ms_symtab_module_count(const ms_symtab *s);
const ms_symtab_module *ms_symtab_module_at(const ms_symtab *s, size_t i);

/* Length of name[0..len) without the suffixes compilers append to clones
 * and split parts of a function: ".lto_priv.N", ".isra.N", ".constprop.N",
 * ".part.N", ".cold", ".cold.N", ".llvm.N", ".localalias" in any
 * combination ("foo.isra.0.constprop.1" -> "foo"), and demangled C++
 * " [clone .isra.0]" tails. Never folds a name to nothing. */
size_t ms_symtab_fold_name(const char *name, size_t len);

/* Frames every report shows for ip: its SYMBOL frames, or 1 (the address)
 * when it has none. Frame k (innermost first) is ms_symtab_frame_at; with
 * no SYMBOL frames that is an empty frame (function, file "", line 0). */
size_t ms_symtab_frame_count(const ms_symtab *s, uint64_t ip);
const ms_symtab_frame *ms_symtab_frame_at(const ms_symtab *s, uint64_t ip, size_t k);

/* Display name of frame k of ip without its file:line: the function, or
 * for a frame without one its module's basename + offset
 * ("libsqlite3.so.0+0x1a2b3", offset = ip - base from the SYMBOL record or
 * the MODULE segment holding ip), or "0x7f..." for an ip in no module.
 * Two unnamed ips never share a label, so reports keyed by it (call tree,
 * flame graph, diff) keep them apart, as heaptrack does. Always
 * NUL-terminates buf (n > 0); returns the length written. */
size_t ms_symtab_frame_label(char *buf, size_t n, const ms_symtab *s, uint64_t ip, size_t k);

/* One-line name of ip (its innermost frame), for text output:
 * "function (file:line)", "function", "libfoo.so+0x1a2b" or "0x7f12...".
 * Always NUL-terminates buf (n > 0). Returns the length written. */
size_t ms_symtab_ip_name(char *buf, size_t n, const ms_symtab *s, uint64_t ip);

/* Name for one frame of ip: same as above but for frames[k] (inlined
 * frames): the label of ms_symtab_frame_label, then " (file:line)" when the
 * frame has a file. */
size_t ms_symtab_frame_name(char *buf, size_t n, const ms_symtab *s, uint64_t ip, size_t k);
#endif
