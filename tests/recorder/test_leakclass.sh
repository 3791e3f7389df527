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
require "$LIBMS" "$MSCONV" "$PROGS/leakclass" "$PROGS/leaks" "$PROGS/leakroots" "$PROGS/leakcxx" "$PROGS/manylive"
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
    # libc names the frame pthread_create (its symbol) or __pthread_create_2_1 (DWARF)
    check_frame $n/libc-block-is-dtv "$j" 'pthread_create\|__pthread_create_2_1' leak_class=libc
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

# memcheck's summary line "KIND: B bytes in N blocks" of file $1 as "B N"
vgc() { sed -n "s/.*$2: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p" "$1" | tail -1 | tr -d ,; }
VGLEAK="valgrind --leak-check=full --show-leak-kinds=all --run-libc-freeres=no --run-cxx-freeres=no"
# within1 NAME "B N" "B N": each number within 1 % of memcheck's
within1() {
    if python3 -c 'import sys
a = [int(x) for x in sys.argv[1].split()]; b = [int(x) for x in sys.argv[2].split()]
sys.exit(0 if len(a) == len(b) == 2 and all(abs(x - y) <= y / 100 for x, y in zip(b, a)) else 1)' "$2" "$3"
    then pass "$1"; else fail "$1" "memcheck '$2', memscope '$3' (not within 1 %)"; fi
}
HAVE_VG=0; command -v valgrind > /dev/null 2>&1 && HAVE_VG=1

record plain leakroots.plain - -- "$PROGS/leakroots"
record preload leakroots "$TMP/lr.memscope" -- "$PROGS/leakroots"
if check_trace leakclass/roots "$OUTFILE"; then
    j=$OUTFILE.json
    for k in reachable definite indirect possible; do
        check leakclass/roots/$k-truth "$(truth leakroots ${k}_bytes) $(truth leakroots ${k}_blocks)" \
            "$(cls "$j" $k)"
    done
    check_count leakclass/roots/mmap-block-reachable "$j" 1 size=262144 leak_class=reachable
    check_count leakclass/roots/mmap-block-lost "$j" 1 size=204800 leak_class=definite
    if [ $HAVE_VG = 1 ]; then
        $VGLEAK "$PROGS/leakroots" > /dev/null 2> "$TMP/lr.vg" < /dev/null
        for k in 'definitely lost:definite' 'indirectly lost:indirect' 'possibly lost:possible' \
                 'still reachable:reachable'; do
            check "leakclass/roots/valgrind/${k#*:}" "$(vgc "$TMP/lr.vg" "${k%%:*}")" "$(cls "$j" "${k#*:}")"
        done
    fi
fi

record plain leakcxx.plain - -- "$PROGS/leakcxx"
record preload leakcxx "$TMP/lx.memscope" -- "$PROGS/leakcxx"
if check_trace leakclass/cxx "$OUTFILE"; then
    j=$OUTFILE.json
    check leakclass/cxx/definite "$(truth leakcxx definite_bytes) $(truth leakcxx definite_blocks)" \
        "$(cls "$j" definite)"
    check leakclass/cxx/libc-blocks 1 "$(cls "$j" libc | cut -d' ' -f2)"
    check_count leakclass/cxx/emergency-pool-is-libc "$j" 1 size=72704 leak_class=libc
    check_count leakclass/cxx/emergency-pool-not-app "$j" 0 size=72704 leak_class=reachable
    if [ $HAVE_VG = 1 ]; then
        $VGLEAK "$PROGS/leakcxx" > /dev/null 2> "$TMP/lx.vg" < /dev/null
        for k in 'definitely lost:definite' 'indirectly lost:indirect' 'possibly lost:possible'; do
            check "leakclass/cxx/valgrind/${k#*:}" "$(vgc "$TMP/lx.vg" "${k%%:*}")" "$(cls "$j" "${k#*:}")"
        done
        # memcheck without freeres: the pool is "still reachable"
        r=$(cls "$j" reachable); l=$(cls "$j" libc)
        check leakclass/cxx/valgrind/reachable-is-ours-plus-libc "$(vgc "$TMP/lx.vg" 'still reachable')" \
            "$(( ${r% *} + ${l% *} )) $(( ${r#* } + ${l#* } ))"
    fi
fi

# real programs: their heaps hang off interpreter arenas and GC pages
if [ $HAVE_VG = 1 ]; then
    PY=$(command -v python3.11 || command -v python3)
    [ -x /usr/bin/python3 ] && PY=/usr/bin/python3   # not a pyenv shim (a shell script)
    cat > "$TMP/prog.py" <<'PYEOF'
class A:
    def __init__(self, i):
        self.i = i
        self.l = [i] * 10
x = [A(i) for i in range(2000)]
d = {i: str(i) for i in range(2000)}
import json
print(len(x), len(json.dumps(d)))
PYEOF
    CC1=$(gcc -print-prog-name=cc1 2>/dev/null)
    python3 -c 'for i in range(10):
    print("static long f%d(long *p, int n) { long t = 0; for (int i = 0; i < n; i++) { t += p[i] * %d; if (t > %d) t ^= p[0]; } return t; }" % (i, i, 1000 + i))
print("long run(long *p) { return " + " + ".join("f%d(p, %d)" % (i, i + 1) for i in range(10)) + "; }")' > "$TMP/gen.c"
    for prog in python bash cc1; do
        case $prog in
        python) set -- "$PY" "$TMP/prog.py" ;;
        bash) set -- /bin/bash -c 'x=0; for i in $(seq 1 300); do x=$((x+i)); a[$i]=$x; done; f() { echo $1; }; f $x' ;;
        cc1) [ -x "$CC1" ] || continue; set -- "$CC1" -quiet -O2 "$TMP/gen.c" -o "$TMP/gen.s" ;;
        esac
        [ -x "$1" ] || continue
        record preload real.$prog "$TMP/real.$prog.memscope" -- "$@"
        check_trace leakclass/real/$prog "$OUTFILE" || continue
        $VGLEAK "$@" > /dev/null 2> "$TMP/real.$prog.vg" < /dev/null
        within1 leakclass/real/$prog/definite "$(vgc "$TMP/real.$prog.vg" 'definitely lost')" \
            "$(cls "$OUTFILE.json" definite)"
    done
fi

# tests/progs/leaks: leak_three's blocks (the 3000 one was malloc'd last)
record preload leaks.lc "$TMP/leaks.lc.memscope" -- "$PROGS/leaks"
if check_trace leakclass/leaks "$OUTFILE"; then
    check leakclass/leaks/definite "6000 3" "$(cls "$OUTFILE.json" definite)"
fi

# 300 000 blocks live at exit (sorted by address for the scan by an
# introsort; a heapsort before): every class exact — the list reachable,
# the dropped chain one definite head and the rest indirect
record plain manylive.plain - -- "$PROGS/manylive"
for mode in preload msrec; do
    n=leakclass/manylive/$mode
    record $mode manylive.$mode "$TMP/ml.$mode.memscope" -- "$PROGS/manylive"
    check $n/exit-status 0 "$RC"
    check_trace $n "$OUTFILE" || continue
    r=$(truth manylive reachable); c=$(truth manylive lost_chain)
    check $n/classes "reachable $r definite 1 indirect $((c - 1)) possible 0" "$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["summary"]["leaks_by_class"]
print("reachable %d definite %d indirect %d possible %d" % (c["reachable"]["allocations"],
      c["definite"]["allocations"], c["indirect"]["allocations"], c["possible"]["allocations"]))' "$OUTFILE.json")"
done
rm -rf "$TMP"
