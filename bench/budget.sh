#!/bin/sh
# Where the recorder's time per event goes (issue 11: "make bench prints
# where the time per event goes"; run by `make bench` through bench/run.sh).
#
# For the pairs workload (bench/heap/pairs.c: 10 M malloc/free pairs at
# depth ~10, one thread) and cc1 -O2 (tests/real/gen_c.sh 60), side by side
# in one run, alternated, best of BENCH_REPEAT (default 5):
#   uninstrumented
#   recording without stacks          MEMSCOPE_UNWIND=none
#   full (the default)                stack memo + cached unwind rules
#   full, memo off                    MEMSCOPE_STACK_MEMO=0: every stack unwound
#   full, clock_gettime               MEMSCOPE_CLOCK=mono: the path of a CPU
#                                     without an invariant TSC
#   full, a reading per event         MEMSCOPE_CLOCK_REUSE=0 (by default a
#                                     reading serves up to 3 events of a
#                                     burst: spec 8.2)
# every memscope run with MEMSCOPE_DEBUG=1, whose exit lines give the
# writer thread's CPU and its time compressing, and the memo's hits and
# misses (and the clock readings per event). From these it prints the
# budget in CPU ns: per event, the clock reads (bench/budget/clockcost.c,
# times the readings per event; and what a ticker thread publishing a
# coarse time instead would cost: bench/budget/tickcost.c), the rest of
# recording an event on the application's thread (entry points, ring slot
# store), the writer thread (compression and the rest: slot conversion,
# column encoding, epochs);
# per allocation, the stack (memo path, and unwinding every stack); the
# extra cost of clock_gettime. CPU is user + sys of the whole process
# (/usr/bin/time); the application thread's share is that minus the
# writer's. Prints the clocksource (the TSC path is taken whenever the
# CPU has an invariant TSC, whatever the kernel's clocksource).
#
# Environment: BENCH_REPEAT (best of N, default 5), BENCH_SCALE (pairs
# count factor, default 1), BENCH_BUDGET_CC1=0 (skip cc1).
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LIB=$BUILD/lib/libmemscope.so
REPEAT=${BENCH_REPEAT:-5}
SCALE=${BENCH_SCALE:-1}
TIME=/usr/bin/time
[ -e "$LIB" ] || { echo "budget.sh: $LIB missing (make)" >&2; exit 1; }
[ -x "$TIME" ] || { echo "budget.sh: /usr/bin/time missing (make deps)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/msbudget.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
mkdir -p "$BUILD/bench"
CC_=${CC:-cc}
for p in clockcost tickcost; do
    if [ ! -x "$BUILD/bench/$p" ] || [ "bench/budget/$p.c" -nt "$BUILD/bench/$p" ]; then
        $CC_ -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -pthread -o "$BUILD/bench/$p" "bench/budget/$p.c" ||
            { echo "budget.sh: cannot build bench/budget/$p.c" >&2; exit 1; }
    fi
done
if [ ! -x "$BUILD/bench/pairs" ] || [ bench/heap/pairs.c -nt "$BUILD/bench/pairs" ]; then
    $CC_ -std=c11 -D_GNU_SOURCE -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror \
        -o "$BUILD/bench/pairs" bench/heap/pairs.c -lpthread || { echo "budget.sh: cannot build pairs" >&2; exit 1; }
fi

echo "recorder time budget: $(nproc) cores, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%dT%H:%MZ'), best of $REPEAT"
"$BUILD/bench/clockcost" 5000000 > "$TMP/clock" || exit 1
RDTSC=$(awk '$1 == "rdtsc" { print $2 }' "$TMP/clock")
MONO=$(awk '$1 == "mono" { print $2 }' "$TMP/clock")
echo "one clock read: rdtsc $RDTSC ns, clock_gettime(CLOCK_MONOTONIC) $MONO ns, CLOCK_MONOTONIC_COARSE $(awk '$1 == "coarse" { print $2 }' "$TMP/clock") ns (4 ms resolution)"
# the alternative to a clock read per event: a thread publishing the time
# (bench/budget/tickcost.c); its CPU and its worst lateness (= staleness)
"$BUILD/bench/tickcost" 100 1000 | awk '{ printf "a ticker thread publishing the time every %d us instead: %.0f ms of CPU per second (%.1f us a wake-up), worst wake-up %.0f us late\n", $1, $3, $3 * 1000 / $2, $4 }'

VARIANTS="none nostack full nomemo mono exact"
label() {
    case $1 in
    none)    echo "uninstrumented" ;;
    nostack) echo "recording, no stacks (MEMSCOPE_UNWIND=none)" ;;
    full)    echo "full (default: memo + cached rules)" ;;
    nomemo)  echo "full, memo off (MEMSCOPE_STACK_MEMO=0)" ;;
    mono)    echo "full, clock_gettime (MEMSCOPE_CLOCK=mono)" ;;
    exact)   echo "full, a reading per event (MEMSCOPE_CLOCK_REUSE=0)" ;;
    esac
}

# one WORKLOAD-VARIANT run: appends "wall cpu writer_cpu_ms compress_ms events hits misses readings" to $TMP/W.V
run1() {
    w=$1; v=$2; shift 2
    rm -f "$TMP/t.memscope"
    case $v in
    none)    envs="" ;;
    nostack) envs="MEMSCOPE_UNWIND=none" ;;
    full)    envs="" ;;
    nomemo)  envs="MEMSCOPE_STACK_MEMO=0" ;;
    mono)    envs="MEMSCOPE_CLOCK=mono" ;;
    exact)   envs="MEMSCOPE_CLOCK_REUSE=0" ;;
    esac
    if [ "$v" = none ]; then
        (cd "$TMP" && "$TIME" -f '%e %U %S' -o "$TMP/time" "$@") > /dev/null 2> "$TMP/err" < /dev/null
    else
        (cd "$TMP" && "$TIME" -f '%e %U %S' -o "$TMP/time" env $envs LD_PRELOAD="$LIB" MEMSCOPE_AUTO_EXPORT=1 \
            MEMSCOPE_EXPORT_PATH="$TMP/t.memscope" MEMSCOPE_DEBUG=1 "$@") > /dev/null 2> "$TMP/err" < /dev/null
    fi
    t=$(grep -E '^[0-9.]+ [0-9.]+ [0-9.]+$' "$TMP/time" | tail -1)
    wr=$(sed -n 's/.*writer: thread CPU \([0-9.]*\) ms.*compressing \([0-9.]*\) ms.*, \([0-9]*\) events$/\1 \2 \3/p' "$TMP/err" | tail -1)
    hm=$(sed -n 's/.*memo \([0-9]*\) hits \([0-9]*\) misses.*/\1 \2/p' "$TMP/err" | awk '{ h += $1; m += $2 } END { print h + 0, m + 0 }')
    rd=$(sed -n 's/.*clock: \([0-9]*\) readings for.*/\1/p' "$TMP/err" | awk '{ r += $1 } END { print r + 0 }')
    echo "$t" "${wr:-0 0 0}" "$hm" "$rd" | awk '{ printf "%s %.3f %s %s %s %s %s %s\n", $1, $2 + $3, $4, $5, $6, $7, $8, $9 }' >> "$TMP/$w.$v"
}

# best WORKLOAD VARIANT FIELD: the minimum of a field over the runs (1 wall, 2 cpu, 3 writer ms, 4 compress ms)
best() { awk -v f="$3" 'NR == 1 || $f < b { b = $f } END { print b + 0 }' "$TMP/$1.$2"; }
# last WORKLOAD VARIANT FIELD: a count from the runs (5 events, 6 memo hits, 7 misses, 8 readings)
last() { awk -v f="$3" '{ v = $f } END { print v + 0 }' "$TMP/$1.$2"; }

workload() {
    w=$1; title=$2; shift 2
    r=0
    while [ $r -lt "$REPEAT" ]; do
        r=$((r + 1))
        for v in $VARIANTS; do run1 "$w" "$v" "$@"; done
    done
    ev=$(last "$w" full 5)
    allocs=$(( $(last "$w" full 6) + $(last "$w" full 7) ))
    [ "$allocs" -gt 0 ] || allocs=1
    [ "$ev" -gt 0 ] || ev=1
    echo
    echo "# $w: $title ($ev events, $allocs stacks captured)"
    printf '%-44s %8s %8s %10s %12s\n' run "wall s" "cpu s" "writer s" "vs uninstr."
    w0=$(best "$w" none 1)
    for v in $VARIANTS; do
        printf '%-44s %8.3f %8.3f %10s %11.2fx\n' "$(label $v)" "$(best "$w" $v 1)" "$(best "$w" $v 2)" \
            "$([ $v = none ] && echo - || awk -v x="$(best "$w" $v 3)" 'BEGIN { printf "%.3f", x / 1000 }')" \
            "$(awk -v a="$(best "$w" $v 1)" -v b="$w0" 'BEGIN { print a / b }')"
    done
    # CPU ns per event / per allocation from the best CPU of each run
    awk -v ev="$ev" -v al="$allocs" -v rdtsc="$RDTSC" -v mono="$MONO" \
        -v c0="$(best "$w" none 2)" -v cn="$(best "$w" nostack 2)" -v cf="$(best "$w" full 2)" \
        -v cm="$(best "$w" nomemo 2)" -v cg="$(best "$w" mono 2)" -v cx="$(best "$w" exact 2)" \
        -v rd="$(last "$w" full 8)" \
        -v wn="$(best "$w" nostack 3)" -v wf="$(best "$w" full 3)" -v zf="$(best "$w" full 4)" \
        -v hits="$(last "$w" full 6)" -v miss="$(last "$w" full 7)" '
    BEGIN {
        ns = 1e9
        app_ev = ((cn - c0) - wn / 1000) * ns / ev          # app thread, per event, no stacks
        wr = wf / 1000 * ns / ev; z = zf / 1000 * ns / ev
        st = (cf - cn) * ns / al; stm = (cm - cn) * ns / al
        printf "where the CPU goes (ns; CPU of the best runs, %d events, %d stacks: %d memo hits, %d misses):\n", ev, al, hits, miss
        rpe = rd > 0 ? rd / ev : 1                            # readings per event
        printf "  per event, application thread: %6.1f  (clock reads %.1f: %.2f readings an event, entry points + ring slot store %.1f)\n", app_ev, rdtsc * rpe, rpe, app_ev - rdtsc * rpe
        printf "  per event, writer thread:      %6.1f  (zstd %.1f, slot conversion + column encoding + epochs %.1f)\n", wr, z, wr - z
        printf "  per stack, memo + cached rules: %5.1f  (unwinding every stack, memo off: %.1f)\n", st, stm
        printf "  per event, clock_gettime instead of rdtsc: %+.1f  (clockcost: %+.1f, times %.2f readings an event)\n", (cg - cf) * ns / ev, (mono - rdtsc) * rpe, rpe
        printf "  per event, a reading for every event:      %+.1f\n", (cx - cf) * ns / ev
        printf "  total recorder CPU per event:  %6.1f  (uninstrumented program: %.1f)\n", (cf - c0) * ns / ev, c0 * ns / ev
    }'
}

S=$(awk -v s="$SCALE" 'BEGIN { printf "%d", 10000000 * s }')
workload pairs "malloc/free pairs, depth ~10, 1 thread: pairs $S 1" "$BUILD/bench/pairs" "$S" 1
if [ "${BENCH_BUDGET_CC1:-1}" != 0 ] && command -v gcc > /dev/null; then
    CC1=$(gcc -print-prog-name=cc1)
    sh tests/real/gen_c.sh 60 > "$TMP/mid.c" && gcc -E "$TMP/mid.c" -o "$TMP/mid.i" &&
        workload cc1 "cc1 -O2 of tests/real/gen_c.sh 60" "$CC1" -quiet -O2 "$TMP/mid.i" -o "$TMP/out.s"
fi
