#!/bin/sh
# Converter benchmark (issue 6 item 7; run by `make bench` through
# bench/run.sh). Records bench/convert/workload.c (192 stacks, mixed sizes,
# leaks; ~10.2 M heap events) once with `msrec run` and once under heaptrack
# (`heaptrack -o FILE`), then converts both side by side: msconv --text,
# --html (when this msconv has it) and --json against heaptrack_print on
# heaptrack's trace of the same workload. Prints wall seconds, heap events
# per second and peak RSS (/usr/bin/time %M) of each, then one MET/MISSED
# line for the analysis target (every msconv mode >= 40 M events/s).
#
# msconv reads on one thread and replays on a second (analyze/pump.c), so
# its wall time needs both cores idle; MEMSCOPE_THREADS=0 in the
# environment measures the one-thread path instead.
#
# Environment: BENCH_CONVERT_N (allocations, default 5100000 = ~10.2 M
# events; the target needs >= 10 M), BENCH_REPEAT (converter runs: best of
# N, default 1), BENCH_RESULTS=FILE (also write the table as Markdown into
# FILE, replacing an earlier "### Converters" section there and keeping the
# rest; bench/RESULTS.md is made with BENCH_RESULTS=bench/RESULTS.md after
# bench/heap.sh, which rewrites its marked tables (or the whole file when
# the markers are missing): bench/run.sh runs heap.sh first, then this).
cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
MSREC=$BUILD/bin/msrec; MSCONV=$BUILD/bin/msconv
N=${BENCH_CONVERT_N:-5100000}
REPEAT=${BENCH_REPEAT:-1}
TARGET=40
TMP=$(mktemp -d "${TMPDIR:-/tmp}/msbench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

for b in "$MSREC" "$MSCONV"; do
    [ -x "$b" ] || { echo "convert.sh: $b missing (make)" >&2; exit 1; }
done
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "convert.sh: /usr/bin/time missing (Debian package 'time'; make deps)" >&2; exit 1; }
WL=$BUILD/bench/convert-workload
mkdir -p "$BUILD/bench"
if [ ! -x "$WL" ] || [ bench/convert/workload.c -nt "$WL" ]; then
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -fno-omit-frame-pointer -Wall -Wextra -Werror \
        -o "$WL" bench/convert/workload.c || { echo "convert.sh: cannot build bench/convert/workload.c" >&2; exit 1; }
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
best() { # TAG CMD... : best wall of REPEAT runs (RSS of that run)
    tag=$1; shift
    bw=""; brss=""; brc=0; k=0
    while [ $k -lt "$REPEAT" ]; do
        timed "$tag" "$@"
        [ $RC -ne 0 ] && brc=$RC
        if [ -z "$bw" ] || awk -v a="$WALL" -v b="$bw" 'BEGIN { exit !(a < b) }'; then bw=$WALL; brss=$RSS; fi
        k=$((k + 1))
    done
    WALL=$bw; RSS=$brss; RC=$brc
}
mps() { awk -v e="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", e / s / 1e6; else print "-" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg); DATE0=$(date -u +%Y-%m-%dT%H:%MZ)
echo "converter benchmark: $(nproc) cores, $(uname -r), load $LOAD0, $DATE0"
echo "# workload: $WL $N (192 stacks, 16 B..256 KiB, 1 in 10,000 leaked)"

# ---- record
T=$TMP/wl.memscope
timed rec "$MSREC" run -o "$T" -- "$WL" "$N"
[ $RC -eq 0 ] && [ -s "$T" ] || { echo "convert.sh: msrec run failed: $(head -3 "$TMP/rec.err")" >&2; exit 1; }
REC_WALL=$WALL
"$MSCONV" "$T" --json -o "$TMP/summary.json" 2>/dev/null
EV=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["events"])' "$TMP/summary.json" 2>/dev/null)
[ -n "$EV" ] || { echo "convert.sh: cannot read the event count of $T" >&2; exit 1; }
echo "# memscope trace: $EV heap events, $(stat -c %s "$T") bytes, recorded in $REC_WALL s"
[ "$EV" -ge 10000000 ] || echo "# note: fewer than 10 M events (BENCH_CONVERT_N=$N)"
HT=""
if command -v heaptrack > /dev/null && command -v heaptrack_print > /dev/null; then
    mkdir -p "$TMP/htrace"
    timed ht heaptrack -o "$TMP/htrace/wl" "$WL" "$N"
    HT=$(ls "$TMP"/htrace/wl.* 2>/dev/null | head -1)
    if [ $RC -ne 0 ] || [ -z "$HT" ] || grep -q 'bad_alloc\|terminate called' "$TMP/ht.err" "$TMP/ht.out"; then
        echo "# heaptrack failed: $(grep -h 'bad_alloc\|rror' "$TMP/ht.err" "$TMP/ht.out" | head -2 | tr '\n' ' ')"
        HT=""
    else
        echo "# heaptrack trace: $(stat -c %s "$HT") bytes (${HT##*.}), recorded in $WALL s"
    fi
else
    echo "# heaptrack not installed (make deps): no comparison"
fi

# ---- convert
ROWS=$TMP/rows
: > "$ROWS"
row() { # tool command wall ev/s rss note
    printf '%-10s %-28s %8s %12s %10s  %s\n' "$@"
    printf '| %s | `%s` | %s | %s | %s | %s |\n' "$@" >> "$ROWS"
}
printf '%-10s %-28s %8s %12s %10s  %s\n' tool command "wall s" "M events/s" "RSS MiB" note
MODES="--text --html --json"
"$MSCONV" --help 2>&1 | grep -q -- '--html' || MODES="--text --json"
MIN=""; MINMODE=""; ALL=""
for m in $MODES; do
    case $m in
    --html) best "msconv$m" "$MSCONV" "$T" --html "$TMP/report.html"; cmd="msconv --html OUT" ;;
    --json) best "msconv$m" "$MSCONV" "$T" --json -o "$TMP/out.json"; cmd="msconv --json -o OUT" ;;
    *)      best "msconv$m" "$MSCONV" "$T" "$m"; cmd="msconv $m" ;;
    esac
    note=""; [ $RC -eq 0 ] || note="FAILED: $(head -c 160 "$TMP/msconv$m.err" | tr '\n' ' ')"
    r=$(mps "$EV" "$WALL")
    row memscope "$cmd" "$WALL" "$r" "$(mb "$RSS")" "$note"
    [ $RC -eq 0 ] || r=0
    ALL="${ALL:+$ALL, }$m $r"
    if [ -z "$MIN" ] || awk -v a="$r" -v b="$MIN" 'BEGIN { exit !(a < b) }'; then MIN=$r; MINMODE=$m; fi
done
if [ -n "$HT" ]; then
    best htp heaptrack_print "$HT"
    note="same workload, heaptrack's trace"; [ $RC -eq 0 ] || note="FAILED"
    row heaptrack "heaptrack_print FILE" "$WALL" "$(mps "$EV" "$WALL")" "$(mb "$RSS")" "$note"
    HTW=$WALL
fi

echo
echo "targets (converter issue):"
v=MISSED; awk -v a="$MIN" -v t="$TARGET" 'BEGIN { exit !(a >= t) }' && v=MET
line="msconv >= $TARGET M events/s ($EV events)"
printf '  %-46s %-6s %s\n' "$line" "$v" "slowest $MINMODE $MIN M/s ($ALL)"
if [ -n "${HTW:-}" ]; then
    sp=$(awk -v a="$HTW" -v e="$EV" -v m="$MIN" 'BEGIN { if (m > 0) printf "%.1f", (e / a / 1e6 > 0) ? m / (e / a / 1e6) : 0; else print "-" }')
    printf '  %-46s %-6s %s\n' "slowest msconv mode vs heaptrack_print" "info" "${sp}x heaptrack_print's rate (same workload's events)"
fi
if [ -n "${BENCH_RESULTS:-}" ]; then
    # replace this script's section (from "### Converters" to the next
    # "### " or "## " heading) so re-runs do not pile up
    if [ -f "$BENCH_RESULTS" ]; then
        awk '/^### Converters/ { skip = 1; next } skip && /^##/ { skip = 0 } !skip' "$BENCH_RESULTS" > "$TMP/results.md" \
            && cat "$TMP/results.md" > "$BENCH_RESULTS"
    fi
    {
        [ -s "$BENCH_RESULTS" ] && [ -n "$(tail -n 1 "$BENCH_RESULTS")" ] && echo
        echo "### Converters ($EV events)"
        echo
        echo "Measured with \`bench/convert.sh\` ($(nproc) cores, $(uname -r), best of $REPEAT, load $LOAD0 at the start, $DATE0)."
        echo "Workload \`bench/convert/workload.c $N\`: one trace recorded with \`msrec run\`, the same"
        echo "workload recorded by heaptrack for heaptrack_print. M events/s = the memscope trace's heap events /"
        echo "wall time, for heaptrack_print too (same workload). msconv decodes on one thread and replays on a"
        echo "second one (\`analyze/pump.c\`; \`MEMSCOPE_THREADS=0\` for one thread), so it needs both cores idle."
        echo
        echo "| tool | command | wall s | M events/s | peak RSS MiB | note |"
        echo "|---|---|---:|---:|---:|---|"
        cat "$ROWS"
        echo
        echo "| target | result | measured |"
        echo "|---|---|---|"
        echo "| $line | $v | slowest $MINMODE $MIN M/s |"
        echo
    } >> "$BENCH_RESULTS"
fi
