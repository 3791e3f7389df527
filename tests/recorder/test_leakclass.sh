#!/bin/sh
# Recorder leak classes (recorder/lib/leakscan.c) against valgrind memcheck
# and LeakSanitizer on a program with one block of each class
# (tests/progs/leakclass.c): memscope's definite / indirect / reachable
# bytes and blocks equal memcheck's "definitely lost" / "indirectly lost" /
# "still reachable"; memcheck's "possibly lost" is memscope's possible plus
# glibc's DTV of the joined thread, which memscope reports as libc-internal
# (class "libc") — before, that DTV was "definite" and the last block
# malloc'd before exit (its tail holds the top chunk header main_arena
# points to) was "possible". LSan's direct + indirect leaks equal memscope's
# definite + indirect. Also tests/progs/leaks: its 3 lost blocks are definite.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
T=leakclass
require "$LIBMS" "$MSCONV" "$PROGS/leakclass" "$PROGS/leaks"
P=$PROGS/leakclass
cls() { python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["summary"]["leaks_by_class"][sys.argv[2]]
print("%d %d" % (c["bytes"], c["allocations"]))' "$1" "$2" 2>/dev/null; }

record plain leakclass.plain - -- "$P"
for mode in preload msrec; do
    n=leakclass/$mode
    record $mode leakclass.$mode "$TMP/lc.$mode.memscope" -- "$P"
    check $n/exit-status 0 "$RC"
    check_same_output $n leakclass.$mode leakclass.plain
    check_trace $n "$OUTFILE" || continue
    j=$OUTFILE.json
    check $n/definite "8552 5" "$(cls "$j" definite)"
    check $n/indirect "96 2" "$(cls "$j" indirect)"
    check $n/reachable "700 1" "$(cls "$j" reachable)"
    check $n/possible "900 1" "$(cls "$j" possible)"
    check $n/libc-blocks 1 "$(cls "$j" libc | cut -d' ' -f2)"
    for s in 1000 2000 3000 2504; do
        check_count $n/definite-$s "$j" 1 size=$s leak_class=definite
    done
    check_count $n/list-head-definite "$j" 1 size=48 leak_class=definite
    check_count $n/list-nodes-indirect "$j" 2 size=48 leak_class=indirect
    check_frame $n/libc-block-is-dtv "$j" pthread_create leak_class=libc
done

# valgrind memcheck on the same program
j=$TMP/lc.preload.memscope.json
if command -v valgrind > /dev/null 2>&1 && [ -s "$j" ]; then
    valgrind --leak-check=full --run-libc-freeres=no --run-cxx-freeres=no "$P" > /dev/null 2> "$TMP/lc.vg" < /dev/null
    vgl() { sed -n "s/.*$1: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p" "$TMP/lc.vg" | tail -1 | tr -d ,; }
    check leakclass/valgrind/definite "$(vgl 'definitely lost')" "$(cls "$j" definite)"
    check leakclass/valgrind/indirect "$(vgl 'indirectly lost')" "$(cls "$j" indirect)"
    check leakclass/valgrind/reachable "$(vgl 'still reachable')" "$(cls "$j" reachable)"
    # memcheck's possibly lost = our possible + the DTV (its size differs
    # under valgrind, so compare blocks)
    vp=$(vgl 'possibly lost' | cut -d' ' -f2)
    ours=$(( $(cls "$j" possible | cut -d' ' -f2) + $(cls "$j" libc | cut -d' ' -f2) ))
    check leakclass/valgrind/possible-plus-libc-blocks "$vp" "$ours"
else
    fail leakclass/valgrind "valgrind not installed or no trace"
fi

# LeakSanitizer: direct + indirect leaks
if cc -fsanitize=leak -g -O0 -D_GNU_SOURCE -I"$MS_ROOT/format" -o "$TMP/lc.lsan" \
        "$MS_ROOT/tests/progs/leakclass.c" -pthread > /dev/null 2>&1 && [ -s "$j" ]; then
    "$TMP/lc.lsan" > /dev/null 2> "$TMP/lc.lsan.err"
    lsan=$(sed -n 's/^SUMMARY: LeakSanitizer: \([0-9]*\) byte(s) leaked in \([0-9]*\) allocation(s).*/\1 \2/p' "$TMP/lc.lsan.err")
    d=$(cls "$j" definite); i=$(cls "$j" indirect)
    check leakclass/lsan/direct-plus-indirect "$lsan" "$(( ${d% *} + ${i% *} )) $(( ${d#* } + ${i#* } ))"
fi

# tests/progs/leaks: leak_three's blocks (the 3000 one was malloc'd last)
record preload leaks.lc "$TMP/leaks.lc.memscope" -- "$PROGS/leaks"
if check_trace leakclass/leaks "$OUTFILE"; then
    check leakclass/leaks/definite "6000 3" "$(cls "$OUTFILE.json" definite)"
fi
rm -rf "$TMP"
