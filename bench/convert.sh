#!/bin/sh
# Converter benchmark (issues 6 and 11; run by `make bench` through
# bench/run.sh). Records bench/convert/workload.c (192 stacks, mixed sizes,
# leaks; ~10.2 M heap events) once with `msrec run` and once under heaptrack
# (`heaptrack -o FILE`), then converts both side by side: msconv --text,
# --html and --json against heaptrack_print on heaptrack's trace of the
# same workload, and against the limit: the same trace merely decoded by
# our reader (bench/convert/decode.c: ms_reader_next over every record,
# one thread), the rate no converter that reads the file can beat. Then the
# same for real programs (cc1 -O2, sqlite3, python3 with ~40 000 stacks:
# bench/convert/pywork.py), whose deep stacks and large live sets the
# synthetic workload lacks. Prints wall seconds, heap events per second,
# peak RSS (/usr/bin/time %M), each mode's share of the decode rate and
# its multiple of heaptrack_print's rate, then MET/MISSED lines for the
# targets of issue 11: every mode >= 8x heaptrack_print's events/s and
# >= 0.7x the decode rate (on the synthetic workload).
#
# msconv reads on one thread and replays on a second (analyze/pump.c), so
# its wall time needs both cores idle; MEMSCOPE_THREADS=0 in the
# environment measures the one-thread path instead.
#
# Environment: BENCH_CONVERT_N (allocations, default 5100000 = ~10.2 M
# events; the target needs >= 10 M), BENCH_REPEAT (runs of each command:
# best of N, default 3), BENCH_CONVERT_REAL=0 (skip the real programs),
# BENCH_CONVERT_BASE=MSCONV (also time this older msconv on the same
# traces, in the same rounds: before/after side by side), BENCH_RESULTS=FILE
# (also write the tables as Markdown into FILE, replacing an earlier
# "### Converters" section there and keeping the rest; bench/RESULTS.md is
# made with BENCH_RESULTS=bench/RESULTS.md after bench/heap.sh, which
# rewrites its marked tables (or the whole file when the markers are
# missing): bench/run.sh runs heap.sh first, then this).
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MSREC=$BUILD/bin/msrec; MSCONV=$BUILD/bin/msconv
N=${BENCH_CONVERT_N:-5100000}
REPEAT=${BENCH_REPEAT:-3}
REAL=${BENCH_CONVERT_REAL:-1}
BASE=${BENCH_CONVERT_BASE:-}
HT_X=8        # target: >= 8x heaptrack_print's events/s
LIM_X=0.7     # target: >= 0.7x the decode-only rate
TMP=$(mktemp -d "${TMPDIR:-/tmp}/msbench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

for b in "$MSREC" "$MSCONV" "$BUILD/lib/libmsformat.a"; do
    [ -e "$b" ] || { echo "convert.sh: $b missing (make)" >&2; exit 1; }
done
[ -z "$BASE" ] || [ -x "$BASE" ] || { echo "convert.sh: BENCH_CONVERT_BASE=$BASE is not executable" >&2; exit 1; }
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "convert.sh: /usr/bin/time missing (Debian package 'time'; make deps)" >&2; exit 1; }
mkdir -p "$BUILD/bench"
WL=$BUILD/bench/convert-workload
if [ ! -x "$WL" ] || [ bench/convert/workload.c -nt "$WL" ]; then
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror \
        -o "$WL" bench/convert/workload.c || { echo "convert.sh: cannot build bench/convert/workload.c" >&2; exit 1; }
fi
DEC=$BUILD/bench/convert-decode
if [ ! -x "$DEC" ] || [ bench/convert/decode.c -nt "$DEC" ] || [ "$BUILD/lib/libmsformat.a" -nt "$DEC" ]; then
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Iformat -I"$BUILD/include" \
        -o "$DEC" bench/convert/decode.c "$BUILD/lib/libmsformat.a" -lzstd -lxxhash \
        || { echo "convert.sh: cannot build bench/convert/decode.c" >&2; exit 1; }
fi

now_ns() { date +%s%N; }
# timed TAG CMD... : stdout to TMP/TAG.out; sets WALL (s), RSS (KiB), RC
timed() {
    tag=$1; shift
    t0=$(now_ns)
    "$TIME" -f '%e %M' -o "$TMP/$tag.time" "$@" > "$TMP/$tag.out" 2> "$TMP/$tag.err" < /dev/null
    RC=$?
    t1=$(now_ns)
    WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    RSS=$(awk 'NF == 2 && $2 ~ /^[0-9]+$/ { r = $2 } END { print r + 0 }' "$TMP/$tag.time")
}
# keep TAG WALL RSS RC: keep the best wall of TAG (its RSS); TAG.best
keep() {
    f=$TMP/$1.best
    if [ ! -f "$f" ] || awk -v a="$2" -v b="$(cut -d' ' -f1 "$f")" 'BEGIN { exit !(a < b) }'; then
        echo "$2 $3 $4" > "$f"
    fi
    [ "$4" -eq 0 ] || echo "$(cut -d' ' -f1-2 "$f") $4" > "$f"
}
get() { cut -d' ' -f"$2" "$TMP/$1.best"; }     # get TAG 1|2|3: wall, rss, rc
mps() { awk -v e="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", e / s / 1e6; else print "-" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%.2f", a / b; else print "-" }'; }
summary_of() { # FILE KEY: a field of msconv --json's summary
    "$MSCONV" "$1" --json -o "$TMP/summary.json" 2>/dev/null
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"][sys.argv[2]])' "$TMP/summary.json" "$2" 2>/dev/null
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg); DATE0=$(date -u +%Y-%m-%dT%H:%MZ)
echo "converter benchmark: $(nproc) cores, $(uname -r), load $LOAD0, $DATE0, best of $REPEAT"

# ---- traces: name|memscope trace|heaptrack trace|events|description
TRACES=$TMP/traces
: > "$TRACES"
# record NAME DESCRIPTION CMD...: a memscope trace and (when installed) a
# heaptrack trace of CMD
have_ht=0
command -v heaptrack > /dev/null && command -v heaptrack_print > /dev/null && have_ht=1
record() {
    name=$1 desc=$2; shift 2
    mkdir -p "$TMP/$name.d"
    T=$TMP/$name.memscope
    (cd "$TMP/$name.d" && exec "$MSREC" run -q -o "$T" -- "$@") > "$TMP/$name.rec.out" 2> "$TMP/$name.rec.err" < /dev/null
    if [ ! -s "$T" ]; then echo "# $name: msrec run failed: $(head -2 "$TMP/$name.rec.err" | tr '\n' ' ')"; return; fi
    ev=$(summary_of "$T" events)
    [ -n "$ev" ] || { echo "# $name: cannot read the event count of $T"; return; }
    ht=""
    if [ $have_ht = 1 ]; then
        mkdir -p "$TMP/$name.ht"
        (cd "$TMP/$name.d" && exec heaptrack -o "$TMP/$name.ht/t" "$@") > "$TMP/$name.ht.out" 2>&1 < /dev/null
        ht=$(ls "$TMP/$name.ht"/t.* 2>/dev/null | head -1)
        if [ -z "$ht" ] || grep -q 'bad_alloc\|terminate called' "$TMP/$name.ht.out"; then
            echo "# $name: heaptrack failed: $(grep -h 'bad_alloc\|rror' "$TMP/$name.ht.out" | head -2 | tr '\n' ' ')"
            ht=""
        fi
        # the same work? (python3 without PYTHONMALLOC=malloc: pymalloc
        # arenas, a hundredth of the calls)
        hc=$(heaptrack_print "$ht" 2>/dev/null | sed -n 's/^calls to allocation functions: \([0-9]*\).*/\1/p')
        mc=$(summary_of "$T" total_allocations)
        if [ -n "$ht" ] && ! awk -v h="${hc:-0}" -v m="${mc:-0}" 'BEGIN { exit !(h * 2 >= m && m * 2 >= h) }'; then
            echo "# $name: heaptrack saw ${hc:-?} allocation calls, memscope $mc: not the same work, no comparison"
            ht=""
        fi
    fi
    echo "# $name: $desc: $ev heap events, $(stat -c %s "$T") bytes${ht:+; heaptrack trace $(stat -c %s "$ht") bytes}"
    echo "$name|$T|$ht|$ev|$desc" >> "$TRACES"
}
[ $have_ht = 1 ] || echo "# heaptrack not installed (make deps): no comparison"
record synthetic "bench/convert/workload.c $N (192 stacks, 16 B..256 KiB, 1 in 10,000 leaked)" "$WL" "$N"
[ "$(cut -d'|' -f4 "$TRACES" | head -1)" -ge 10000000 ] 2>/dev/null || echo "# note: fewer than 10 M events (BENCH_CONVERT_N=$N)"
if [ "$REAL" != 0 ]; then
    CC1=$(gcc -print-prog-name=cc1 2>/dev/null)
    if [ -x "$CC1" ]; then
        sh tests/real/gen_c.sh 60 > "$TMP/mid.c" && gcc -E "$TMP/mid.c" -o "$TMP/mid.i" \
            && record cc1 "cc1 -O2 of tests/real/gen_c.sh 60" "$CC1" -quiet -O2 "$TMP/mid.i" -o out.s
    fi
    if command -v sqlite3 > /dev/null; then
        sh tests/real/gen_sql.sh > "$TMP/big.sql"
        record sqlite3 "sqlite3 :memory: with 20000 inserts + queries" sqlite3 -batch :memory: ".read $TMP/big.sql"
    fi
    # the interpreter itself, not a wrapper that execs it (pyenv shims)
    PY=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))' 2>/dev/null)
    # PYTHONMALLOC=malloc (msrec run sets it too): heaptrack sees the same calls
    export PYTHONMALLOC=malloc
    [ -x "$PY" ] && record python3 "python3 bench/convert/pywork.py (~40 000 stacks, PYTHONMALLOC=malloc)" "$PY" "$ROOT/bench/convert/pywork.py"
    unset PYTHONMALLOC
fi

# ---- convert: REPEAT rounds, every command once per round (side by side)
MODES="--text --html --json"
run_mode() { # TAG MSCONV TRACE MODE
    case $4 in
    --html) timed "$1" "$2" "$3" --html "$TMP/out.html" ;;
    --json) timed "$1" "$2" "$3" --json -o "$TMP/out.json" ;;
    *)      timed "$1" "$2" "$3" "$4" ;;
    esac
    keep "$1" "$WALL" "$RSS" "$RC"
}
k=0
while [ $k -lt "$REPEAT" ]; do
    while IFS='|' read -r name T ht ev desc; do
        timed "$name.dec" "$DEC" "$T"; keep "$name.dec" "$WALL" "$RSS" "$RC"
        for m in $MODES; do
            run_mode "$name.new$m" "$MSCONV" "$T" "$m"
            [ -n "$BASE" ] && run_mode "$name.base$m" "$BASE" "$T" "$m"
        done
        if [ -n "$ht" ]; then timed "$name.htp" heaptrack_print "$ht"; keep "$name.htp" "$WALL" "$RSS" "$RC"; fi
    done < "$TRACES"
    k=$((k + 1))
done

# ---- report
ROWS=$TMP/rows
: > "$ROWS"
fmt='%-9s %-34s %8s %10s %8s %9s %8s  %s\n'
row() { # trace command wall M/s rss x-limit x-htp note
    printf "$fmt" "$@"
    printf '| %s | `%s` | %s | %s | %s | %s | %s | %s |\n' "$@" >> "$ROWS"
}
printf "$fmt" trace command "wall s" "M ev/s" "RSS MiB" "x limit" "x htp" note
VERD=$TMP/verdicts
: > "$VERD"
while IFS='|' read -r name T ht ev desc; do
    dw=$(get "$name.dec" 1); drate=$(mps "$ev" "$dw")
    hrate=-
    [ -n "$ht" ] && hrate=$(mps "$ev" "$(get "$name.htp" 1)")
    note=""; [ "$(get "$name.dec" 3)" = 0 ] || note="FAILED"
    row "$name" "decode only (the limit)" "$dw" "$drate" "$(mb "$(get "$name.dec" 2)")" 1.00 "$(ratio "$drate" "$hrate")" "${note:-one thread, ms_reader_next}"
    for m in $MODES; do
        for who in new base; do
            [ $who = base ] && [ -z "$BASE" ] && continue
            w=$(get "$name.$who$m" 1); r=$(mps "$ev" "$w")
            note=""; [ "$(get "$name.$who$m" 3)" = 0 ] || { note="FAILED"; r=0; }
            label="msconv $m"; [ $who = base ] && label="msconv $m (before)"
            xl=$(ratio "$r" "$drate"); xh=$(ratio "$r" "$hrate")
            row "$name" "$label" "$w" "$r" "$(mb "$(get "$name.$who$m" 2)")" "$xl" "$xh" "$note"
            [ $who = new ] && echo "$name $m $xl $xh" >> "$VERD"
        done
    done
    if [ -n "$ht" ]; then
        note="same program, heaptrack's trace"; [ "$(get "$name.htp" 3)" = 0 ] || note="FAILED"
        row "$name" "heaptrack_print FILE" "$(get "$name.htp" 1)" "$hrate" "$(mb "$(get "$name.htp" 2)")" "$(ratio "$hrate" "$drate")" 1.00 "$note"
    fi
done < "$TRACES"

echo
echo "targets (issue 11, synthetic workload; real programs for information):"
TG=$TMP/targets
: > "$TG"
target() { # name mode col want label
    v=$(awk -v n="$1" -v m="$2" -v c="$3" '$1 == n && $2 == m { print $c }' "$VERD")
    res=MISSED
    awk -v a="$v" -v t="$4" 'BEGIN { exit !(a != "-" && a + 0 >= t) }' && res=MET
    [ "$1" = synthetic ] || res=info
    printf '  %-50s %-6s %sx\n' "$5" "$res" "$v"
    echo "| $5 | $res | ${v}x |" >> "$TG"
}
while IFS='|' read -r name T ht ev desc; do
    for m in $MODES; do
        [ -n "$ht" ] && target "$name" "$m" 4 "$HT_X" "$name msconv $m >= ${HT_X}x heaptrack_print"
        target "$name" "$m" 3 "$LIM_X" "$name msconv $m >= ${LIM_X}x decode-only"
    done
done < "$TRACES"

if [ -n "${BENCH_RESULTS:-}" ]; then
    # replace this script's section (from "### Converters" to the next
    # "### " or "## " heading) so re-runs do not pile up
    if [ -f "$BENCH_RESULTS" ]; then
        awk '/^### Converters/ { skip = 1; next } skip && /^##/ { skip = 0 } !skip' "$BENCH_RESULTS" > "$TMP/results.md" \
            && cat "$TMP/results.md" > "$BENCH_RESULTS"
    fi
    {
        [ -s "$BENCH_RESULTS" ] && [ -n "$(tail -n 1 "$BENCH_RESULTS")" ] && echo
        echo "### Converters"
        echo
        echo "Measured with \`bench/convert.sh\` ($(nproc) cores, $(uname -r), best of $REPEAT rounds, every command"
        echo "once per round, load $LOAD0 at the start, $DATE0). Traces:"
        echo
        while IFS='|' read -r name T ht ev desc; do echo "- $name: $desc, $ev heap events"; done < "$TRACES"
        echo
        echo "M ev/s = the memscope trace's heap events / wall time (heaptrack_print too: same program, its"
        echo "own trace). x limit = that rate / the rate of merely decoding the trace with our reader"
        echo "(\`bench/convert/decode.c\`, one thread); x htp = that rate / heaptrack_print's. msconv decodes"
        echo "on one thread and replays on a second one (\`analyze/pump.c\`), so it needs both cores idle."
        echo
        echo "| trace | command | wall s | M ev/s | peak RSS MiB | x limit | x htp | note |"
        echo "|---|---|---:|---:|---:|---:|---:|---|"
        cat "$ROWS"
        echo
        echo "| target (issue 11) | result | measured |"
        echo "|---|---|---|"
        cat "$TG"
        echo
    } >> "$BENCH_RESULTS"
fi
