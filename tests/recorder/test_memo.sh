#!/bin/sh
# Recorder, the validated stack memo (recorder/lib/stacks.c): a call whose
# return address, depth and first two frames were seen before takes the
# remembered stack when the words at its remembered slots still hash to
# the same value. A memo that took a wrong stack would give every
# recording path the same wrong answer, so the stacks are compared with
# the memo off (MEMSCOPE_STACK_MEMO=0: every stack unwound):
#  - tests/progs/memostress (-O2 -fomit-frame-pointer): pairs of chains
#    that share the memo's key and differ in the third frame, in the
#    outermost frame only, in recursion depth, below an alloca: the same
#    multiset of (size, stack as module:offset:function) with and without
#    the memo, the memo did hit (MEMSCOPE_DEBUG), and what the program
#    knows: each size's stacks name its own chain and never the other one,
#    rec appears j + 1 times for size 1010 + j; chains through 4 KiB
#    frames (slot distances over 255 words) are told apart and memoised
#    (fewer misses than rounds: only the 60-deep chain, more frames than
#    an entry holds with two-byte distances, is unwound every time);
#  - tests/progs/unwvar (alloca frames of varying size, recursion, signal
#    handlers, a sigaltstack, qsort callbacks, a second thread): the same
#    multiset with and without the memo.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=memo
require "$MSREC" "$MSCONV" "$PROGS/memostress" "$PROGS/unwvar"


# hits NAME: memo hits over all threads from MEMSCOPE_DEBUG
hits() { sed -n 's/.*memo \([0-9]*\) hits.*/\1/p' "$TMP/$1.err" | awk '{ s += $1 } END { print s + 0 }'; }
misses() { sed -n 's/.*hits \([0-9]*\) misses.*/\1/p' "$TMP/$1.err" | awk '{ s += $1 } END { print s + 0 }'; }

for p in memostress unwvar; do
    record plain $p.plain - -- "$PROGS/$p"
    MEMSCOPE_DEBUG=1 record msrec $p.memo "$TMP/$p.memo.memscope" -- "$PROGS/$p"
    check memo/$p/exit-status 0 "$RC"
    MEMSCOPE_DEBUG=1 MEMSCOPE_STACK_MEMO=0 record msrec $p.nomemo "$TMP/$p.nomemo.memscope" -- "$PROGS/$p"
    check memo/$p/exit-status-without-memo 0 "$RC"
    h=$(hits $p.memo)
    if [ "$h" -gt 0 ] 2>/dev/null; then pass memo/$p/memo-used; else fail memo/$p/memo-used "no memo hit ($h)"; fi
    check memo/$p/memo-off-unused 0 "$(hits $p.nomemo)"
    # bench/budget.sh divides this line's writer CPU among the events
    w=$(sed -n 's/.*writer: thread CPU \([0-9.]*\) ms.*/\1/p' "$TMP/$p.memo.err" | tail -1)
    if awk -v w="$w" 'BEGIN { exit !(w + 0 > 0) }'; then pass memo/$p/debug-writer-cpu
    else fail memo/$p/debug-writer-cpu "MEMSCOPE_DEBUG=1 gave writer thread CPU '$w' ms"; fi
    if ! stacks "$TMP/$p.memo.memscope" "$TMP/$p.memo.st" || ! stacks "$TMP/$p.nomemo.memscope" "$TMP/$p.nomemo.st"; then
        fail memo/$p/dump "msconv --dump of the traces failed"
        continue
    fi
    check memo/$p/allocs "$(truth $p allocs)" "$(wc -l < "$TMP/$p.memo.st" | tr -d ' ')"
    if cmp -s "$TMP/$p.memo.st" "$TMP/$p.nomemo.st"; then
        pass memo/$p/same-stacks-as-unwinding
    else
        n=$(diff "$TMP/$p.memo.st" "$TMP/$p.nomemo.st" | grep -c '^<')
        fail memo/$p/same-stacks-as-unwinding "$n stacks differ: $(diff "$TMP/$p.memo.st" "$TMP/$p.nomemo.st" | head -3 | cut -c1-300 | tr '\n' ' ')"
    fi
done

# every SIZE stack names FUNC exactly N times (N = -1: at least once)
# names SIZE FUNC N -> number of SIZE stacks that do not
names() {
    awk -v s="$1" -v f=":$2\$" -v want="$3" '$1 == s {
        n = 0; for (i = 2; i <= NF; i++) if ($i ~ f) n++
        if (want < 0 ? n < 1 : n != want) bad++
        seen++
    } END { print (seen ? bad + 0 : "none") }' "$TMP/memostress.memo.st"
}
bad=""
for c in "1001 via_a -1" "1001 via_b 0" "1002 via_b -1" "1002 via_a 0" \
         "1003 outer_a 1" "1003 outer_b 0" "1003 d8 1" "1003 d1 1" \
         "1004 outer_b 1" "1004 outer_a 0" "1004 d5 1" \
         "1010 rec 1" "1011 rec 2" "1012 rec 3" "1013 rec 4" "1014 rec 5" \
         "1020 via_alloca 1" "1023 via_alloca 1" "1021 rec 0" \
         "1030 big_a 1" "1030 big_b 0" "1031 big_b 1" "1031 big_a 0" "1030 big_outer 1" \
         "1040 deep 60" "1040 big_a 0"; do
    set -- $c
    r=$(names "$1" "$2" "$3")
    [ "$r" = 0 ] || bad="$bad $1/$2=$r"
done
check memo/memostress/each-chain-its-own "" "$bad"
m=$(misses memostress.memo)
if [ "$m" -lt 500 ]; then pass memo/memostress/wide-distances-memoised
else fail memo/memostress/wide-distances-memoised "$m memo misses in 400 rounds (over 1 200: 4 KiB frames never memoised)"; fi
[ -n "$KEEP" ] || rm -rf "$TMP"
