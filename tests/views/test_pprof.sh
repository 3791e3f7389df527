#!/bin/sh
# msconv --pprof against the real pprof (built once, pprof_bin.sh). On
# traces of tests/progs/inlined (N nodes allocated through two
# always_inline functions) recorded with msrec run:
#   - the file is gzip and pprof reads it; default sample type inuse_space;
#   - `pprof -top -sample_index=X` totals for alloc_objects, alloc_space,
#     inuse_objects, inuse_space equal msconv's (--json summary, --text);
#   - `pprof -traces` shows new_node (inline) / node_alloc (inline) /
#     build_list / main, innermost first;
#   - `pprof -base` of two runs gives msdiff's deltas, per type and site;
#   - mappings carry path, build id (readelf's) and the page-aligned file
#     offset of the executable segment (`pprof -raw`);
#   - a sampled trace (tests/progs/sampled, msrec run --sample 4096): pprof's
#     totals are msconv's estimates and match the program's truth, and its
#     comment says "estimated, sampled 1 in 4,096 bytes" (zh / --lang en);
#   - errors: one line, exit status, no half-written or clobbered file.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$MS_ROOT/tests/recorder/common.sh"
T=pprof
require "$MSREC" "$MSCONV" "$MSDIFF" "$PROGS/inlined" "$PROGS/sampled"
trap 'rm -rf "$TMP"' EXIT

# ---- the real pprof, built once (pprof_bin.sh) ------------------------------------
. "$MS_ROOT/tests/views/pprof_bin.sh"
pprof_bin || exit 0

# ---- traces ---------------------------------------------------------------------
A="$TMP/a.memscope"; B="$TMP/b.memscope"
record msrec a "$A" -- "$PROGS/inlined" 300
record msrec b "$B" -- "$PROGS/inlined" 1000
check_trace pprof/a "$A" || exit 0
check_trace pprof/b "$B" || exit 0

"$MSCONV" "$A" --pprof "$TMP/a.pb.gz" 2> "$TMP/a.pprof.err"
check "pprof: exit status" 0 "$?"
check "pprof: nothing on stderr" "" "$(cat "$TMP/a.pprof.err")"
check_cmd "pprof: gzip" gzip -t "$TMP/a.pb.gz"
"$MSCONV" "$B" --pprof="$TMP/b.pb.gz"
"$MSCONV" "$A" --pprof - > "$TMP/stdout.pb.gz"
check "pprof: - writes to stdout" "$(gzip -dc "$TMP/a.pb.gz" | md5sum)" "$(gzip -dc "$TMP/stdout.pb.gz" | md5sum)"

check "pprof: default sample type" "Type: inuse_space" "$(pp -top "$TMP/a.pb.gz" | grep '^Type:')"
[ -s "$TMP/pprof.err" ] && fail "pprof: reads the profile" "$(head -c 300 "$TMP/pprof.err")" || pass "pprof: reads the profile"

# ---- totals: pprof vs msconv ----------------------------------------------------
for f in a b; do
    J="$TMP/$f.memscope.json"
    check "pprof $f: alloc_objects = total_allocations" "$(sumval "$J" total_allocations)" \
        "$(pp_total -sample_index=alloc_objects "$TMP/$f.pb.gz")"
    check "pprof $f: alloc_space = total_allocated_bytes" "$(sumval "$J" total_allocated_bytes)" \
        "$(pp_total -unit=B -sample_index=alloc_space "$TMP/$f.pb.gz")"
    check "pprof $f: inuse_objects = active_allocations" "$(sumval "$J" active_allocations)" \
        "$(pp_total -sample_index=inuse_objects "$TMP/$f.pb.gz")"
    check "pprof $f: inuse_space = active_memory" "$(sumval "$J" active_memory)" \
        "$(pp_total -unit=B -sample_index=inuse_space "$TMP/$f.pb.gz")"
done
# the program's own truth and msconv --text --metric count
check "pprof: inuse_space = 300 x 48" 14400 "$(pp_total -unit=B -sample_index=inuse_space "$TMP/a.pb.gz")"
check "pprof: alloc_objects = msconv --text --metric count" \
    "$("$MSCONV" "$A" --text --lang en --metric count | sed -n 's/^Showing nodes accounting for [0-9]*, .* of \([0-9]*\) total$/\1/p')" \
    "$(pp_total -sample_index=alloc_objects "$TMP/a.pb.gz")"

# ---- inlined frames, innermost first ------------------------------------------
# the trace of the live nodes: its first four frames
nodes=$(pp -traces -sample_index=inuse_space "$TMP/a.pb.gz" | awk '
    /^-+\+/ { if (blk ~ /new_node/) { print blk; exit } blk = ""; next }
    { sub(/^ *[0-9.kMGB]+ +/, ""); sub(/^ +/, ""); blk = blk $0 "|" }' | cut -d'|' -f1-4)
check "pprof -traces: inlined frames" "new_node (inline)|node_alloc (inline)|build_list|main" "$nodes"
check "pprof -top: flat of the inlined allocator" "new_node (inline)" \
    "$(pp -top -sample_index=inuse_space "$TMP/a.pb.gz" | awk '/flat%/ { getline; print $6, $7; exit }')"

# ---- -base: pprof's difference vs msdiff's --------------------------------------
"$MSDIFF" "$A" "$B" --json "$TMP/diff.json" > /dev/null 2>&1
dj() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["totals"][sys.argv[2]]["delta"]; print(d)' "$TMP/diff.json" "$1" 2>/dev/null; }
check "pprof -base: alloc_objects = msdiff allocations delta" "$(dj allocations)" \
    "$(pp_total -sample_index=alloc_objects -base "$TMP/a.pb.gz" "$TMP/b.pb.gz")"
check "pprof -base: alloc_space = msdiff allocated_bytes delta" "$(dj allocated_bytes)" \
    "$(pp_total -unit=B -sample_index=alloc_space -base "$TMP/a.pb.gz" "$TMP/b.pb.gz")"
check "pprof -base: inuse_objects = msdiff leaked_allocations delta" "$(dj leaked_allocations)" \
    "$(pp_total -sample_index=inuse_objects -base "$TMP/a.pb.gz" "$TMP/b.pb.gz")"
check "pprof -base: inuse_space = msdiff leaked_memory delta" "$(dj leaked_memory)" \
    "$(pp_total -unit=B -sample_index=inuse_space -base "$TMP/a.pb.gz" "$TMP/b.pb.gz")"
site_delta=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["sites"]:
    if s["stack"] is not None and d["frames"][d["stacks"][s["stack"]][1]]["function"] == "new_node": print(s["delta"]["leaked_bytes"])' "$TMP/diff.json" 2>/dev/null)
check "pprof -base: new_node site = msdiff site delta" "$site_delta" \
    "$(pp -top -unit=B -sample_index=inuse_space -base "$TMP/a.pb.gz" "$TMP/b.pb.gz" | awk '/new_node/ { sub(/B$/, "", $1); print $1; exit }')"

# ---- a sampled trace (spec §8.8): weighted values, said in the comment ----------
# tests/progs/sampled prints its per-site truth; at rate R the byte estimate
# of B bytes has SD <= sqrt(R*B) (~1 % here); an unweighted sum of the
# recorded sizes would be about half of B (16-64 B blocks are recorded 1 in
# ~100, 64 KiB ones nearly always)
S="$TMP/s.memscope"
MEMSCOPE_SAMPLE_SEED=3 "$MSREC" run -q --sample 4096 -o "$S" -- "$PROGS/sampled" free 0.1 > "$TMP/s.out" 2>&1
"$MSCONV" "$S" --json > "$S.json" 2> /dev/null
"$MSCONV" "$S" --pprof "$TMP/s.pb.gz" 2> /dev/null
"$MSCONV" "$S" --pprof "$TMP/s.en.pb.gz" --lang en 2> /dev/null
check "pprof sampled: alloc_space = msconv's estimate" "$(sumval "$S.json" total_allocated_bytes)" \
    "$(pp_total -unit=B -sample_index=alloc_space "$TMP/s.pb.gz")"
check "pprof sampled: alloc_objects = msconv's estimate" "$(sumval "$S.json" total_allocations)" \
    "$(pp_total -sample_index=alloc_objects "$TMP/s.pb.gz")"
truth=$(awk '$1 == "SITE" { b += $3 } END { print b }' "$TMP/s.out")
est=$(pp_total -unit=B -sample_index=alloc_space "$TMP/s.pb.gz")
awk -v t="$truth" -v e="$est" 'BEGIN { d = e - t; if (d < 0) d = -d; exit !(t > 0 && d <= 5 * sqrt(4096 * t)) }' \
    && pass "pprof sampled: alloc_space is weighted (the program's truth within 5 SD)" \
    || fail "pprof sampled: alloc_space is weighted (the program's truth within 5 SD)" "pprof $est, truth $truth"
check "pprof sampled: comment (zh)" 1 "$(pp -comments "$TMP/s.pb.gz" | grep -c '估算值，按每 4,096 字节（4.0 KiB）采样 1 次')"
check "pprof sampled: comment (en)" 1 "$(pp -comments "$TMP/s.en.pb.gz" | grep -c 'estimated, sampled 1 in 4,096 bytes (4.0 KiB)')"

# ---- mappings: path, build id, offset -------------------------------------------
pp -raw "$TMP/a.pb.gz" > "$TMP/raw.txt"
bid=$(readelf -n "$PROGS/inlined" | sed -n 's/.*Build ID: *//p' | head -1)
map=$(sed -n '/^Mappings/,$p' "$TMP/raw.txt" | grep " $PROGS/inlined ")
case "$map" in
*" $bid "*) pass "pprof -raw: mapping of the program has its build id" ;;
*) fail "pprof -raw: mapping of the program has its build id" "want $bid in '$map'" ;;
esac
exec_off=$(readelf -lW "$PROGS/inlined" | awk '$1 == "LOAD" { f = ""; for (i = 7; i < NF; i++) f = f $i; if (f ~ /E/) { print $2; exit } }')
check "pprof -raw: mapping offset = executable segment's, page-aligned" \
    "$(printf '0x%x' $(( exec_off / 4096 * 4096 )))" "$(printf '%s\n' "$map" | awk -F/ '{ split($3, a, " "); print a[1] }')"
libc=$(sed -n '/^Mappings/,$p' "$TMP/raw.txt" | grep -m1 '/libc\.so\.6 ')
libc_path=$(printf '%s\n' "$libc" | awk '{ print $3 }')
libc_bid=$([ -n "$libc_path" ] && readelf -n "$libc_path" | sed -n 's/.*Build ID: *//p' | head -1)
case "$libc" in
*" ${libc_bid:-none} "*) pass "pprof -raw: libc mapping has its build id" ;;
*) fail "pprof -raw: libc mapping has its build id" "want '$libc_bid' in '$libc'" ;;
esac
# every location of the program's functions lies in a mapping
unmapped=$(sed -n '/^Locations/,/^Mappings/p' "$TMP/raw.txt" | grep -E ' (build_list|scratch|main) ' | grep -c ' M=0 ')
check "pprof -raw: program locations are mapped" 0 "$unmapped"

# ---- errors -------------------------------------------------------------------------
"$MSCONV" "$A" --pprof > /dev/null 2> "$TMP/e1"
check "pprof error: no OUT is a usage error" 2 "$?"
"$MSCONV" "$TMP/missing.memscope" --pprof "$TMP/m.pb.gz" 2> "$TMP/e2"
rc=$?
check "pprof error: missing input exits 1" 1 "$rc"
check "pprof error: one line" 1 "$(wc -l < "$TMP/e2")"
case "$(cat "$TMP/e2")" in "msconv: $TMP/missing.memscope: "*) pass "pprof error: names the file" ;;
*) fail "pprof error: names the file" "$(cat "$TMP/e2")" ;; esac
check "pprof error: no output written" "" "$(ls "$TMP" | grep '^m\.pb\.gz')"
echo "not a trace" > "$TMP/bad.memscope"
echo "old" > "$TMP/keep.pb.gz"
"$MSCONV" "$TMP/bad.memscope" --pprof "$TMP/keep.pb.gz" 2> "$TMP/e3"
check "pprof error: bad input exits 1" 1 "$?"
check "pprof error: existing output untouched" old "$(cat "$TMP/keep.pb.gz")"
"$MSCONV" "$A" --pprof "$TMP/nodir/x.pb.gz" 2> "$TMP/e4"
check "pprof error: unwritable output exits 1" 1 "$?"
check "pprof error: unwritable output, one line" 1 "$(wc -l < "$TMP/e4")"
check "pprof error: no temporary files left" "" "$(ls "$TMP" | grep '\.tmp\.')"
if [ -w /dev/full ]; then
    "$MSCONV" "$A" --pprof - > /dev/full 2> "$TMP/e5"
    check "pprof error: full disk exits 1" 1 "$?"
fi
"$MSCONV" --help | grep -q -- '--pprof OUT' && pass "pprof: in msconv --help" || fail "pprof: in msconv --help" "no --pprof OUT line"
