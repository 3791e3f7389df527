#!/bin/sh
# Symbol warm-up (recorder/lib/drain.c's "memscope-sym" thread, symbols.c's
# msr_symbols_warm): loading the debug info early must not change what the
# file holds. The same multi-threaded program recorded with the warm-up
# (default) and without it (MEMSCOPE_SYMBOL_WARMUP=0) must embed the same
# SYMBOL records (module offset, inlined frames, file:line:column; ips
# differ with ASLR), the same THREAD count (the helper thread records
# nothing), and still name the program's own allocation function.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=symwarm
require "$LIBMS" "$MSCONV" "$PROGS/threads"

# syms FILE: the SYMBOL records without chunk position and ip, sorted
syms() {
    "$MSCONV" "$1" --dump 2>/dev/null | grep '"type":"symbol"' |
        sed 's/"chunk_offset":[0-9]*,"chunk_seq":[0-9]*,"ip":[0-9]*,//' | sort
}
nthreads() { "$MSCONV" "$1" --info --lang en 2>/dev/null | sed -n 's/^ *thread  *\([0-9]*\)$/\1/p'; }

for w in 1 0; do
    MEMSCOPE_SYMBOL_WARMUP=$w record preload symwarm.$w "$TMP/w$w.memscope" -- "$PROGS/threads"
    check symwarm/$w/exit-status 0 "$RC"
    check symwarm/$w/no-stderr "" "$(cat "$TMP/symwarm.$w.err")"
    syms "$TMP/w$w.memscope" > "$TMP/w$w.syms"
done
check symwarm/has-symbols 1 "$([ -s "$TMP/w1.syms" ] && echo 1 || echo 0)"
check symwarm/same-symbols "" "$(diff "$TMP/w0.syms" "$TMP/w1.syms" | head -5)"
check symwarm/producer_alloc 1 "$(grep -c '"function":"producer_alloc","file":"[^"]*threads.c"' "$TMP/w1.syms")"
check symwarm/same-threads "$(nthreads "$TMP/w0.memscope")" "$(nthreads "$TMP/w1.memscope")"
check symwarm/five-threads 5 "$(nthreads "$TMP/w1.memscope")"
rm -rf "$TMP"
