#!/bin/sh
# Leak classes of real programs, memscope against valgrind memcheck
# (without freeres, so memcheck's "still reachable" = memscope's reachable +
# libc): python3 building objects, a bash loop, and cc1 compiling a
# mid-size preprocessed C file (recorder/lib/leakscan.c: ~9,000 lines; under
# valgrind this takes a minute or two). Prints one table row per program
# and class, and memscope's recording time (leak scan included) beside
# memcheck's. The quick version of this comparison is in
# tests/recorder/test_leakclass.sh.
#   MS_BUILD=build sh bench/leakclass_real.sh
: "${MS_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${MS_BUILD:=$MS_ROOT/build}"
LIBMS=$MS_BUILD/lib/libmemscope.so
MSCONV=$MS_BUILD/bin/msconv
T=$(mktemp -d "${TMPDIR:-/tmp}/mslc.XXXXXX")
trap 'rm -rf "$T"' EXIT
command -v valgrind > /dev/null || { echo "valgrind not installed"; exit 1; }
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
cat > "$T/prog.py" <<'PYEOF'
class A:
    def __init__(self, i):
        self.i = i
        self.l = [i] * 10
x = [A(i) for i in range(20000)]
d = {i: str(i) for i in range(20000)}
import json
print(len(x), len(json.dumps(d)))
PYEOF
gcc -E -D_GNU_SOURCE -I"$MS_ROOT/format" -I"$MS_ROOT/recorder/lib" "$MS_ROOT/recorder/lib/leakscan.c" \
    -o "$T/mid.i" || exit 1
CC1=$(gcc -print-prog-name=cc1)
now() { date +%s.%N; }
printf '%-8s %-10s %22s %22s\n' program class memscope memcheck
for prog in python bash cc1; do
    case $prog in
    python) set -- "$PY" "$T/prog.py" ;;
    bash) set -- /bin/bash -c 'x=0; for i in $(seq 1 3000); do x=$((x+i)); a[$i]=$x; done; f() { echo $1; }; f $x' ;;
    cc1) set -- "$CC1" -quiet -O2 "$T/mid.i" -o "$T/mid.s" ;;
    esac
    t0=$(now)
    LD_PRELOAD=$LIBMS MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_QUIET=1 MEMSCOPE_EXPORT_PATH=$T/$prog.memscope \
        "$@" > /dev/null 2>&1 < /dev/null
    t1=$(now)
    valgrind --leak-check=full --show-leak-kinds=all --run-libc-freeres=no --run-cxx-freeres=no \
        "$@" > /dev/null 2> "$T/$prog.vg" < /dev/null
    t2=$(now)
    "$MSCONV" "$T/$prog.memscope" --json > "$T/$prog.json" 2> /dev/null
    python3 - "$prog" "$T/$prog.json" "$T/$prog.vg" "$t0" "$t1" "$t2" <<'PYEOF'
import json, re, sys
prog, js, vg, t0, t1, t2 = sys.argv[1:7]
c = json.load(open(js))["summary"]["leaks_by_class"]
v = {}
for line in open(vg, errors="replace"):
    m = re.search(r"(definitely lost|indirectly lost|possibly lost|still reachable): ([\d,]+) bytes in ([\d,]+) blocks", line)
    if m:
        v[m.group(1)] = (int(m.group(2).replace(",", "")), int(m.group(3).replace(",", "")))
for ours, theirs in (("definite", "definitely lost"), ("indirect", "indirectly lost"),
                     ("possible", "possibly lost"), ("reachable", "still reachable"), ("libc", None)):
    o = "%d B / %d" % (c[ours]["bytes"], c[ours]["allocations"])
    t = "%d B / %d" % v.get(theirs, (0, 0)) if theirs else "-"
    print("%-8s %-10s %22s %22s" % (prog, ours, o, t))
print("%-8s %-10s %21.2fs %21.2fs" % (prog, "time", float(t1) - float(t0), float(t2) - float(t1)))
PYEOF
done
