#!/bin/sh
# Dormant cost (run by `make bench` through bench/run.sh): a process started
# with libmemscope preloaded and MEMSCOPE_CONTROL=1 records nothing until
# `msrec attach`, and its allocation entry points must cost no more than a
# bare passthrough interposer (bench/sample/passthrough.c, also
# bench/sample.sh's floor): the issue's target
# is within 5 % of that floor. Workload: bench/heap/pairs, 10 M malloc/free
# pairs (x BENCH_SCALE) of 8-256 bytes on 1 thread. Variants, run interleaved round by round
# (BENCH_ROUNDS, default 5; the best of each is kept, wall and CPU):
#   none       uninstrumented
#   pass       LD_PRELOAD passthrough interposer
#   dormant    LD_PRELOAD libmemscope, MEMSCOPE_CONTROL=1 (listener up)
#   off        LD_PRELOAD libmemscope, no variable (every call passes through)
# BENCH_SCALE scales 10 M pairs (default 5: 50 M, ~1 s of CPU per run, so
# /usr/bin/time's 10 ms resolution is 1 %).
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
LIB=$BUILD/lib/libmemscope.so
BIN=$BUILD/bench
ROUNDS=${BENCH_ROUNDS:-5}
SCALE=${BENCH_SCALE:-5}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/msdormant.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
mkdir -p "$BIN"
[ -f "$LIB" ] || { echo "dormant.sh: $LIB not built (make)" >&2; exit 1; }
if [ ! -x "$BIN/pairs" ] || [ bench/heap/pairs.c -nt "$BIN/pairs" ]; then
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -fno-omit-frame-pointer -pthread -o "$BIN/pairs" bench/heap/pairs.c || exit 1
fi
if [ ! -f "$BIN/passthrough.so" ] || [ bench/sample/passthrough.c -nt "$BIN/passthrough.so" ]; then
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -fno-omit-frame-pointer -fPIC -shared -o "$BIN/passthrough.so" bench/sample/passthrough.c || exit 1
fi
N=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 10000000 * s }')
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "dormant.sh: /usr/bin/time missing (Debian package 'time')" >&2; exit 1; }

now_ns() { date +%s%N; }
run() { # tag env...
    tag=$1; shift
    t0=$(now_ns)
    env "$@" "$TIME" -f '%U %S' -o "$TMP/t" "$BIN/pairs" "$N" 1 > "$TMP/out" 2>&1 < /dev/null || { echo "dormant.sh: $tag failed" >&2; exit 1; }
    t1=$(now_ns)
    w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
    c=$(tail -1 "$TMP/t" | awk '{ printf "%.3f", $1 + $2 }')
    echo "$tag $w $c" >> "$TMP/runs"
}
: > "$TMP/runs"
echo "dormant recorder: $(nproc) cores, $(uname -r), $N pairs, best of $ROUNDS interleaved rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
r=0
while [ $r -lt "$ROUNDS" ]; do
    run none
    run pass LD_PRELOAD="$BIN/passthrough.so"
    run dormant LD_PRELOAD="$LIB" MEMSCOPE_CONTROL=1
    run off LD_PRELOAD="$LIB"
    r=$((r + 1))
done
best() { awk -v t="$1" -v k="$2" '$1 == t && (m == "" || $k < m) { m = $k } END { print m }' "$TMP/runs"; }
printf '%-10s %9s %7s %9s %7s %s\n' variant "wall s" ratio "cpu s" ratio "vs passthrough (cpu)"
bw=$(best none 2); bc=$(best none 3); pc=$(best pass 3)
for v in none pass dormant off; do
    w=$(best $v 2); c=$(best $v 3)
    printf '%-10s %9s %6.2fx %9s %6.2fx %6.3fx\n' "$v" "$w" "$(awk -v a="$w" -v b="$bw" 'BEGIN{print a/b}')" \
        "$c" "$(awk -v a="$c" -v b="$bc" 'BEGIN{print a/b}')" "$(awk -v a="$c" -v b="$pc" 'BEGIN{print a/b}')"
done
dc=$(best dormant 3)
rr=$(awk -v a="$dc" -v b="$pc" 'BEGIN { printf "%.3f", a / b }')
v=$(awk -v r="$rr" 'BEGIN { print (r <= 1.05) ? "MET" : "MISSED" }')
echo "target: dormant (MEMSCOPE_CONTROL=1) within 5 % of the passthrough floor: $v (${rr}x its CPU time)"
