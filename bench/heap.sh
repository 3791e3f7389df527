#!/bin/sh
# Heap recorder benchmark (run by `make bench` through bench/run.sh).
#
# Builds the workloads of bench/heap/ (-O2, frame pointers) and runs each,
# side by side in one run, uninstrumented, under memscope (fp and libunwind
# unwinding, LD_PRELOAD; "mono": libunwind reading CLOCK_MONOTONIC instead
# of the TSC, the path of a machine without an invariant TSC; "noflush":
# libunwind with MEMSCOPE_RING_FLUSH=0, the writer leaving the ring lines it
# read in its cache, drain.c), heaptrack (`heaptrack -o FILE`) and valgrind massif
# (at 1/20 of the work; its ratio is extrapolated x20 and marked so).
# Prints one table row per (workload, tool): wall seconds, ratio to the
# uninstrumented run, trace bytes per heap event (memscope: file size;
# heaptrack: its .zst), and the tool's extra RSS (max RSS of the largest
# process, /usr/bin/time %M, minus the uninstrumented max RSS). After the
# memscope rows of a workload, one untimed run with MEMSCOPE_DEBUG=1 prints
# where the recorder's own memory is at exit ("memory:" line: the arena's
# resident MiB, the live table's share at its peak, free blocks' resident
# rest); the rest of the extra RSS is code and data of the libraries the
# recorder loads (libzstd, libunwind...) and the writer thread's stack.
# Then one line per target of the recorder issue: MET or MISSED with the
# numbers.
#
# Environment: BENCH_SCALE (default 1; e.g. 0.1 while developing),
# BENCH_TOOLS (default "none fp libunwind mono noflush heaptrack massif"),
# BENCH_ATTRIB=0 (no MEMSCOPE_DEBUG=1 memory run),
# BENCH_WORKLOADS (default "pairs1 pairs2 live grow churn"), BENCH_REPEAT (memscope
# runs: best of N, default 1; the uninstrumented run is always best of 3),
# BENCH_RESULTS=FILE (also write the table there as Markdown: between the
# "heap.sh tables" marker comments when FILE has them, keeping the rest of
# FILE, e.g. bench/convert.sh's "### Converters"; else FILE is written whole).
# MEMSCOPE_* variables in the environment reach the memscope runs (e.g.
# MEMSCOPE_UNWIND=fp to compare).
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LIB=$BUILD/lib/libmemscope.so
BIN=$BUILD/bench
SCALE=${BENCH_SCALE:-1}
REPEAT=${BENCH_REPEAT:-1}
TOOLS=${BENCH_TOOLS:-none fp libunwind mono noflush heaptrack massif}
WORKLOADS=${BENCH_WORKLOADS:-pairs1 pairs2 live grow churn}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/msbench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

mkdir -p "$BIN"
for w in pairs live grow churn; do
    if [ ! -x "$BIN/$w" ] || [ "bench/heap/$w.c" -nt "$BIN/$w" ] || [ bench/heap/common.h -nt "$BIN/$w" ]; then
        ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror -pthread \
            -o "$BIN/$w" "bench/heap/$w.c" || { echo "heap.sh: cannot build bench/heap/$w.c" >&2; exit 1; }
    fi
done
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "heap.sh: /usr/bin/time missing (Debian package 'time'; make deps)" >&2; exit 1; }

scaled() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", n * s }'; }
cmd_of() { # workload scale -> command line
    case $1 in
    pairs1) echo "$BIN/pairs $(scaled 10000000 "$2") 1" ;;
    pairs2) echo "$BIN/pairs $(scaled 10000000 "$2") 2" ;;
    live)   echo "$BIN/live $(scaled 1000000 "$2")" ;;
    grow)   echo "$BIN/grow $(scaled 4000000 "$2")" ;;
    churn)  echo "$BIN/churn $(scaled 10000 "$2")" ;;
    esac
}
desc_of() {
    case $1 in
    pairs1) echo "malloc/free pairs, depth ~10, 1 thread" ;;
    pairs2) echo "malloc/free pairs, depth ~10, 2 threads" ;;
    live)   echo "1M live blocks freed in random order" ;;
    grow)   echo "realloc growth (16 buffers x 12 steps)" ;;
    churn)  echo "10,000 short threads, 4 mallocs each (half 1 at a time, half 8)" ;;
    esac
}

now_ns() { date +%s%N; }
# run TAG CMD... : runs with /usr/bin/time; sets WALL (s), RSS (KiB), EVENTS, OK
run() {
    tag=$1; shift
    t0=$(now_ns)
    "$TIME" -f '%M %U %S' -o "$TMP/$tag.time" "$@" > "$TMP/$tag.out" 2> "$TMP/$tag.err" < /dev/null
    rc=$?
    t1=$(now_ns)
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    RSS=$(grep -E '^[0-9]+ ' "$TMP/$tag.time" | tail -1 | cut -d' ' -f1)
    CPU=$(grep -E '^[0-9]+ ' "$TMP/$tag.time" | tail -1 | awk '{ printf "%.2f", $2 + $3 }')
    EVENTS=$(sed -n 's/^EVENTS //p' "$TMP/$tag.out" | tail -1)
    OK=1; [ $rc -eq 0 ] && [ -n "$EVENTS" ] || OK=0
}
# best of N uninstrumented runs (short and noisy)
run_best() {
    tag=$1; n=$2; shift 2
    best=""; bestrss=""
    i=0
    while [ $i -lt "$n" ]; do
        run "$tag" "$@"
        if [ -z "$best" ] || awk -v a="$WALL" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$WALL; bcpu=$CPU; fi
        if [ -z "$bestrss" ] || [ "${RSS:-0}" -lt "$bestrss" ]; then bestrss=$RSS; fi
        i=$((i + 1))
    done
    WALL=$best; RSS=$bestrss; CPU=$bcpu
}

ROWS=$TMP/rows
: > "$ROWS"
MEM=$TMP/memory
: > "$MEM"
# attrib WORKLOAD UNWIND CMD... : the recorder's "memory:" debug line at exit
attrib() {
    aw=$1; au=$2; shift 2
    rm -f "$TMP/attrib.memscope"
    env LD_PRELOAD="$LIB" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_QUIET=1 MEMSCOPE_DEBUG=1 \
        MEMSCOPE_UNWIND="$au" MEMSCOPE_EXPORT_PATH="$TMP/attrib.memscope" "$@" \
        > /dev/null 2> "$TMP/attrib.err" < /dev/null
    m=$(sed -n 's/^memscope: debug: memory: arena/arena/p' "$TMP/attrib.err" | head -1)
    [ -n "$m" ] || m="no memory line (MEMSCOPE_DEBUG=1)"
    printf '%-8s %-20s %s\n' "$aw" "memory ($au)" "$m"
    printf '| %s | %s | %s |\n' "$aw" "$au" "$m" >> "$MEM"
}
row() { # workload tool wall ratio bpe xrss note
    printf '%s|%s|%s|%s|%s|%s|%s\n' "$@" >> "$ROWS"
    printf '%-8s %-20s %8s %9s %9s %10s  %s\n' "$@"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
mib() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (a - b) / 1024 }'; }
bpe() { awk -v s="$1" -v e="$2" 'BEGIN { if (e <= 0) print "-"; else if (s / e < 0.1) printf "%.3f", s / e; else printf "%.2f", s / e }'; }
fsize() { [ -f "$1" ] && stat -c %s "$1" || echo 0; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg); DATE0=$(date -u +%Y-%m-%dT%H:%MZ)
BEGIN_MARK="<!-- heap.sh tables: begin (rewritten by BENCH_RESULTS=bench/RESULTS.md sh bench/heap.sh) -->"
END_MARK="<!-- heap.sh tables: end -->"
CLOCKSRC=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)
echo "heap recorder benchmark: $(nproc) cores, $(uname -r), clocksource $CLOCKSRC, scale $SCALE, best of $REPEAT, load $LOAD0, $DATE0"
printf '%-8s %-20s %8s %9s %9s %10s  %s\n' workload tool "wall s" ratio "B/event" "xRSS MiB" note
for w in $WORKLOADS; do
    cmd=$(cmd_of "$w" "$SCALE")
    echo "# $w: $(desc_of "$w"): $cmd"
    # shellcheck disable=SC2086
    run_best "$w.none" 3 $cmd
    if [ "$OK" != 1 ]; then echo "heap.sh: $w failed: $(head -3 "$TMP/$w.none.err")" >&2; continue; fi
    base=$WALL; baserss=$RSS; ev=$EVENTS
    eval "BASE_$w=$base; EV_$w=$ev"
    for tool in $TOOLS; do
        case $tool in
        none)
            row "$w" uninstrumented "$base" 1.0x - 0.0 "cpu ${CPU} s; $ev events, max RSS $((baserss / 1024)) MiB" ;;
        fp|libunwind|mono|noflush)
            unw=$tool clk=; flush=; label="memscope $tool"
            [ $tool = mono ] && unw=libunwind clk=mono label="memscope libunwind, no TSC"
            [ $tool = noflush ] && unw=libunwind flush=0 label="memscope libunwind, ring flush off"
            if [ ! -f "$LIB" ]; then row "$w" "$label" - - - - "not built ($LIB)"; continue; fi
            f=$TMP/$w.$tool.memscope
            bw=""; brss=""; allok=1; k=0
            while [ $k -lt "$REPEAT" ]; do          # best of BENCH_REPEAT runs
                rm -f "$f"
                # shellcheck disable=SC2086
                run "$w.$tool" env LD_PRELOAD="$LIB" MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_QUIET=1 \
                    MEMSCOPE_UNWIND=$unw ${clk:+MEMSCOPE_CLOCK=$clk} ${flush:+MEMSCOPE_RING_FLUSH=$flush} \
                    MEMSCOPE_EXPORT_PATH="$f" $cmd
                [ "$OK" = 1 ] || allok=0
                if [ -z "$bw" ] || awk -v a="$WALL" -v b="$bw" 'BEGIN { exit !(a < b) }'; then bw=$WALL; bcpu=$CPU; fi
                if [ -z "$brss" ] || [ "${RSS:-0}" -lt "$brss" ]; then brss=$RSS; fi
                k=$((k + 1))
            done
            WALL=$bw; RSS=$brss; OK=$allok; CPU=$bcpu
            note="cpu ${CPU} s"; [ "$OK" = 1 ] || note="FAILED: $(head -c 200 "$TMP/$w.$tool.err" | tr '\n' ' ')"
            [ -s "$f" ] || note="$note no trace file"
            b=$(bpe "$(fsize "$f")" "$ev"); r=$(ratio "$WALL" "$base"); x=$(mib "$RSS" "$baserss")
            row "$w" "$label" "$WALL" "$r" "$b" "$x" "$note"
            eval "W_${w}_$tool=$WALL; B_${w}_$tool=$b; X_${w}_$tool=$x"
            # shellcheck disable=SC2086
            [ "${BENCH_ATTRIB:-1}" = 0 ] || [ "$tool" != libunwind ] || attrib "$w" "$tool" $cmd ;;
        heaptrack)
            command -v heaptrack > /dev/null || { row "$w" heaptrack - - - - "not installed"; continue; }
            # shellcheck disable=SC2086
            mkdir -p "$TMP/ht"
            run "$w.ht" heaptrack -o "$TMP/ht/$w" $cmd
            zf=$(ls "$TMP/ht/$w".* 2>/dev/null | head -1)
            note="cpu ${CPU} s (all processes); "; [ "$OK" = 1 ] || note="FAILED"
            b=$(bpe "$(fsize "$zf")" "$ev"); r=$(ratio "$WALL" "$base"); x=$(mib "$RSS" "$baserss")
            row "$w" heaptrack "$WALL" "$r" "$b" "$x" "$note${zf:+trace .${zf##*.}}"
            eval "W_${w}_heaptrack=$WALL" ;;
        massif)
            command -v valgrind > /dev/null || { row "$w" massif - - - - "not installed"; continue; }
            small=$(awk -v s="$SCALE" 'BEGIN { print s / 20 }')
            scmd=$(cmd_of "$w" "$small")
            # shellcheck disable=SC2086
            run_best "$w.none20" 1 $scmd
            rss20=$RSS
            # shellcheck disable=SC2086
            run "$w.massif" valgrind --tool=massif --massif-out-file="$TMP/$w.massif" $scmd
            note="cpu ${CPU} s; 1/20 of the work, ratio = wall x20 / uninstrumented (extrapolated)"
            [ "$OK" = 1 ] || note="FAILED $note"
            r=$(awk -v a="$WALL" -v b="$base" 'BEGIN { printf "~%.0fx", a * 20 / b }')
            row "$w" "massif (1/20)" "$WALL" "$r" - "$(mib "$RSS" "$rss20")" "$note" ;;
        esac
    done
done

# ---- targets
echo
echo "targets (recorder issue):"
val() { eval "echo \${$1:-}"; }
TARGETS=$TMP/targets
: > "$TARGETS"
target() { # name ok(1/0/"") text
    if [ -z "$2" ]; then v=n/a; elif [ "$2" = 1 ]; then v=MET; else v=MISSED; fi
    printf '  %-46s %-6s %s\n' "$1" "$v" "$3"
    printf '| %s | %s | %s |\n' "$1" "$v" "$3" >> "$TARGETS"
}
cmp_le() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || a == "-") exit 2; exit !(a + 0 <= b + 0) }'; r=$?; [ $r = 2 ] && echo "" || { [ $r = 0 ] && echo 1 || echo 0; }; }
for spec in "pairs1 4" "pairs2 5"; do
    set -- $spec
    for t in fp libunwind mono; do
        wf=$(val "W_$1_$t"); b=$(val "BASE_$1")
        nm=$t; [ $t = mono ] && nm="libunwind, no TSC"
        if [ -n "$wf" ]; then
            rr=$(awk -v a="$wf" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
            target "$nm <= ${2}x uninstrumented ($1)" "$(cmp_le "$rr" "$2")" "${rr}x (${wf} s vs ${b} s)"
        else target "$nm <= ${2}x uninstrumented ($1)" "" "not measured"; fi
    done
done
for w in $WORKLOADS; do
    wl=$(val "W_${w}_libunwind"); wh=$(val "W_${w}_heaptrack")
    if [ -n "$wl" ] && [ -n "$wh" ]; then
        sp=$(awk -v a="$wh" -v b="$wl" 'BEGIN { printf "%.1f", a / b }')
        target "libunwind >= 5x faster than heaptrack ($w)" "$(awk -v s="$sp" 'BEGIN { print (s >= 5) ? 1 : 0 }')" \
            "${sp}x (${wl} s vs ${wh} s)"
        target "libunwind >= 8x faster than heaptrack ($w)" "$(awk -v s="$sp" 'BEGIN { print (s >= 8) ? 1 : 0 }')" \
            "${sp}x (issue 11 as written)"
        # the same target as overhead (wall minus the uninstrumented wall):
        # where heaptrack's wall / 8 is below the program's own time, the
        # wall-time ratio cannot be met by any recorder
        b=$(val "BASE_$w")
        ov=$(awk -v l="$wl" -v h="$wh" -v b="$b" 'BEGIN { o = l - b; if (o <= 0.001) o = 0.001; printf "%.1f", (h - b) / o }')
        target "libunwind overhead <= 1/8 of heaptrack's ($w)" "$(awk -v s="$ov" 'BEGIN { print (s >= 8) ? 1 : 0 }')" \
            "${ov}x less ($(awk -v l="$wl" -v b="$b" 'BEGIN { printf "%.3f", l - b }') s vs $(awk -v h="$wh" -v b="$b" 'BEGIN { printf "%.3f", h - b }') s over ${b} s)"
    fi
done
for w in $WORKLOADS; do
    for t in libunwind fp; do
        b=$(val "B_${w}_$t")
        [ -n "$b" ] && [ "$w" != churn ] && target "<= 0.8 bytes/event ($w, $t)" "$(cmp_le "$b" 0.8)" "$b bytes/event"
    done
done
for w in $WORKLOADS; do
    for t in libunwind fp; do
        x=$(val "X_${w}_$t")
        [ -n "$x" ] && target "extra RSS <= 16 MiB ($w, $t)" "$(cmp_le "$x" 16)" "$x MiB"
    done
done
for t in libunwind fp; do
    wc=$(val "W_churn_$t"); b=$(val "BASE_churn")
    if [ -n "$wc" ]; then
        rr=$(awk -v a="$wc" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
        target "thread churn <= 1.5x uninstrumented ($t)" "$(cmp_le "$rr" 1.5)" "${rr}x (${wc} s vs ${b} s)"
    fi
done

if [ -n "${BENCH_RESULTS:-}" ]; then
    {
        echo "$BEGIN_MARK"
        echo "Run: $(nproc) cores, $(uname -r), clocksource $CLOCKSRC, scale $SCALE, best of $REPEAT, load $LOAD0, $DATE0"
        echo
        echo "| workload | tool | wall s | vs uninstrumented | trace bytes/event | extra RSS MiB | note |"
        echo "|---|---|---:|---:|---:|---:|---|"
        awk -F'|' '{ printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n" }' "$ROWS"
        echo
        if [ -s "$MEM" ]; then
            echo "Recorder memory at exit (MEMSCOPE_DEBUG=1, one untimed run; the live table at its peak):"
            echo
            echo "| workload | unwind | memory |"
            echo "|---|---|---|"
            cat "$MEM"
            echo
        fi
        echo "| target | | measured |"
        echo "|---|---|---|"
        cat "$TARGETS"
        echo "$END_MARK"
    } > "$TMP/tables.md"
    # Only the region between the markers is heap.sh's: the prose around it
    # and sections other scripts maintain (bench/convert.sh's "### Converters")
    # are kept. A file without the markers is written whole.
    if [ -f "$BENCH_RESULTS" ] && grep -qF "$BEGIN_MARK" "$BENCH_RESULTS" && grep -qF "$END_MARK" "$BENCH_RESULTS"; then
        awk -v b="$BEGIN_MARK" -v e="$END_MARK" -v t="$TMP/tables.md" '
            $0 == b { while ((getline l < t) > 0) print l; skip = 1; next }
            $0 == e { skip = 0; next }
            !skip' "$BENCH_RESULTS" > "$TMP/results.md" && cat "$TMP/results.md" > "$BENCH_RESULTS"
    else
        cat "$TMP/tables.md" > "$BENCH_RESULTS"
    fi
    echo "table written to $BENCH_RESULTS"
fi
