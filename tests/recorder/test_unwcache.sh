#!/bin/sh
# Recorder, the unwind-rule cache (recorder/lib/cfi.c): a stack unwound from
# cached .eh_frame rules is exactly libunwind's.
#  - tests/progs/unwvar (-O2 -fomit-frame-pointer: alloca frames of varying
#    size on %rbp, %rsp frames, 300-deep recursion, mallocs in a signal
#    handler on the thread's stack and on a sigaltstack, in qsort's
#    callback, the same in a second thread) recorded with the cache
#    (default) and with MEMSCOPE_UNWIND_CACHE=0 (plain libunwind): the same
#    multiset of (size, stack as module + offset of each frame) over all
#    mallocs, and the cache did unwind (MEMSCOPE_DEBUG's count > 0; 0 when
#    off).
#  - values the program knows, with the cache: every malloc recorded (TRUTH
#    allocs), the recursion of case k has its k % 13 + 1 (vla_rec) and
#    k % 17 + 1 (plain_rec) recursive frames, the 300-deep stack is cut at
#    the 64 frames of max_depth, and a handler's malloc (and one under a
#    recursion in the handler) still sees the raise_at frames below the
#    signal frame (3k + 1 for depth 3k).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=unwcache
require "$MSREC" "$MSCONV" "$PROGS/unwvar"

record plain unwvar.plain - -- "$PROGS/unwvar"
want=$(truth unwvar allocs)
MEMSCOPE_DEBUG=1 record msrec cached "$TMP/cached.memscope" -- "$PROGS/unwvar"
check unwcache/cached/exit-status 0 "$RC"
MEMSCOPE_DEBUG=1 MEMSCOPE_UNWIND_CACHE=0 record msrec plain_unw "$TMP/plain.memscope" -- "$PROGS/unwvar"
check unwcache/libunwind/exit-status 0 "$RC"

# walks SUFFIX : cached-rule walks over all threads from MEMSCOPE_DEBUG
walks() { sed -n 's/.*(\([0-9]*\) unwound by cached rules).*/\1/p' "$TMP/$1.err" | awk '{ s += $1 } END { print s + 0 }'; }
w=$(walks cached)
if [ "$w" -gt 0 ] 2>/dev/null; then pass unwcache/cache-used; else fail unwcache/cache-used "no stack unwound by cached rules ($w)"; fi
check unwcache/cache-off-unused 0 "$(walks plain_unw)"

if ! stacks "$TMP/cached.memscope" "$TMP/cached.st" || ! stacks "$TMP/plain.memscope" "$TMP/plain.st"; then
    fail unwcache/dump "msconv --dump of the traces failed"
    exit 0
fi
check unwcache/allocs "$want" "$(wc -l < "$TMP/cached.st" | tr -d ' ')"
if cmp -s "$TMP/cached.st" "$TMP/plain.st"; then
    pass unwcache/same-stacks
else
    n=$(diff "$TMP/cached.st" "$TMP/plain.st" | grep -c '^<')
    fail unwcache/same-stacks "$n stacks differ from libunwind's: $(diff "$TMP/cached.st" "$TMP/plain.st" | head -3 | cut -c1-300 | tr '\n' ' ')"
fi

# count SIZE FUNC : frames named FUNC in the stack of the (main thread's) SIZE-byte malloc
count() { awk -v s="$1" -v f=":$2\$" '$1 == s { n = 0; for (i = 2; i <= NF; i++) if ($i ~ f) n++; print n; exit }' "$TMP/cached.st"; }
bad=""
k=0
while [ $k -lt 40 ]; do
    v=$(( $(count $((1100 + k)) vla_rec) + $(count $((1100 + k)) plain_rec) ))
    [ "$v" = $((k % 13 + 1)) ] || bad="$bad vla$k=$v"
    p=$(( $(count $((1000 + k)) vla_rec) + $(count $((1000 + k)) plain_rec) ))
    [ "$p" = $((k % 17 + 1)) ] || bad="$bad plain$k=$p"
    k=$((k + 1))
done
check unwcache/recursion-depths "" "$bad"
check unwcache/deep-cut-at-max-depth 64 "$(awk '$1 == 1300 { print NF - 1; exit }' "$TMP/cached.st")"
bad=""
for k in 0 1 2 3 4 5; do
    r=$(count $((1400 + k)) raise_at)
    [ "$r" = $((k * 3 + 1)) ] || bad="$bad depth$((k * 3))=$r"
    h=$(( $(count $((1200 + k)) vla_rec) + $(count $((1200 + k)) plain_rec) ))
    r=$(count $((1200 + k)) raise_at)
    [ "$h" = $((k + 1)) ] && [ "$r" = $((k * 3 + 1)) ] || bad="$bad handler-recursion$k=$h/$r"
done
r=$(count 1407 raise_at)
[ "$r" = 5 ] || bad="$bad altstack=$r"
check unwcache/through-signal-frames "" "$bad"
[ -n "$KEEP" ] || rm -rf "$TMP"
