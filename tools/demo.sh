#!/bin/sh
# `make demo`: records the bundled example program (tools/demo/example.c,
# linked with -lmemscope) and writes every report msconv and msdiff offer,
# plus a before/after /proc snapshot diff in Chinese Markdown. Outputs go to
# build/demo/; the last lines say where each file is.
set -u
cd "$(dirname "$0")/.." || exit 2
B=build; OUT=$B/demo
MSREC=$B/bin/msrec; MSCONV=$B/bin/msconv; MSDIFF=$B/bin/msdiff
rm -rf "$OUT"; mkdir -p "$OUT"
written=""
note() { written="$written
  $1"; }

echo "== building the example (tools/demo/example.c, linked with -lmemscope)"
cc -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -I$B/include tools/demo/example.c \
   -L$B/lib -Wl,-rpath,"$PWD/$B/lib" -lmemscope -lpthread -o "$OUT/example" || exit 1

echo "== recording it: MEMSCOPE_AUTO_EXPORT=1 ./example"
MEMSCOPE_AUTO_EXPORT=1 MEMSCOPE_EXPORT_PATH="$OUT/example.memscope" "$OUT/example" || exit 1
[ -s "$OUT/example.memscope" ] || { echo "demo: no trace was written" >&2; exit 1; }
note "trace:        $OUT/example.memscope"

echo "== msconv --info"
"$MSCONV" "$OUT/example.memscope" --info || exit 1

has() { "$MSCONV" --help 2>&1 | grep -q -- "$1"; }
conv() { # option, output file, description (--json takes -o OUT)
    opt=$1; out=$2; what=$3
    if ! has "$opt"; then note "$what (not in this build: msconv has no $opt yet)"; return; fi
    case "$opt" in --json) set -- "$opt" -o "$out";; *) set -- "$opt" "$out";; esac
    "$MSCONV" "$OUT/example.memscope" "$@" >/dev/null || { echo "demo: msconv $opt failed" >&2; exit 1; }
    note "$what $out"
}
conv --json "$OUT/example.json"            "JSON:        "
"$MSCONV" "$OUT/example.memscope" --dump -o "$OUT/example.dump.json" >/dev/null && note "record dump:  $OUT/example.dump.json"
if has --text; then
    "$MSCONV" "$OUT/example.memscope" --text > "$OUT/example.txt" && note "text (pprof): $OUT/example.txt"
    echo "== msconv --text"; head -20 "$OUT/example.txt"
else note "text (not in this build: msconv has no --text yet)"; fi
conv --svg "$OUT/example.callgraph.svg"    "call graph:  "
conv --flamegraph "$OUT/example.flame.svg" "flame graph: "
conv --folded "$OUT/example.folded"        "folded:      "
conv --html "$OUT/example.html"            "HTML:        "

echo "== /proc snapshots before and after starting a 64 MiB process"
mkdir -p "$OUT/升级前" "$OUT/升级后"
"$MSREC" snapshot "$OUT/升级前/升级前.memscope" || exit 1
python3 -c 'import time,sys; b=bytearray(64<<20); [b.__setitem__(i,1) for i in range(0,len(b),4096)]; sys.stdout.write("ready\n"); sys.stdout.flush(); time.sleep(30)' > "$OUT/hog.out" &
hog=$!
i=0; while [ ! -s "$OUT/hog.out" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
"$MSREC" snapshot "$OUT/升级后/升级后.memscope"; rc=$?
kill $hog 2>/dev/null; wait $hog 2>/dev/null
[ $rc -eq 0 ] || exit 1
"$MSDIFF" "$OUT/升级前" "$OUT/升级后" --md || exit 1
note "snapshot diff: $OUT/升级后/diff_report_中文.md"
"$MSDIFF" "$OUT/升级前" "$OUT/升级后" --json >/dev/null && note "snapshot diff JSON: $OUT/升级后/diff_report.json"
"$MSCONV" "$OUT/升级后/升级后.memscope" --text > "$OUT/snapshot.txt" && note "snapshot table: $OUT/snapshot.txt"
"$MSCONV" "$OUT/升级后/升级后.memscope" --html "$OUT/snapshot.html" && note "snapshot dashboard: $OUT/snapshot.html"
echo "== diff report (head)"; head -30 "$OUT/升级后/diff_report_中文.md"

echo
echo "demo: reports written:$written"
