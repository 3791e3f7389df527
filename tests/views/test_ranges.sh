#!/bin/sh
# msconv --from/--to/--phase (analyze/range.h) on a trace of tests/progs/
# phases (three ms_mark phases with known bytes, 150 ms pauses after each
# phase's work; its TRUTH lines give every number):
#   - per phase: allocations, bytes, temporaries, live at the phase's end
#     (the peak metric) and leaked, in --json, --text, --folded and the real
#     pprof (pprof_bin.sh), against the program's truth;
#   - --from/--to in the pauses around parse: parse's numbers; --to alone
#     in a pause: the whole heap at that instant (truth, and the unranged
#     --events allocations live then);
#   - a range covering everything (--to past the end: clamped with a note)
#     gives the unranged allocated/count/leaked/temporary numbers;
#   - the range in the header: --text zh and en, --leaks, --folded, --svg
#     (.dot), --json "range", pprof -comments;
#   - errors: unknown phase (one line naming the phases, exit 2, no output
#     file), --phase with --from, --to before --from, negative, --from past
#     the end, a mode without ranges.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$MS_ROOT/tests/recorder/common.sh"
T=ranges
require "$MSREC" "$MSCONV" "$PROGS/phases"
trap 'rm -rf "$TMP"' EXIT

P="$TMP/p.memscope"
record msrec p "$P" -- "$PROGS/phases"
check_trace ranges/p "$P" || exit 0
check "ranges: program exit" 0 "$RC"
# truth KEY of phase NAME (TRUTH phases NAME: k=v ...)
tr_of() { sed -n "s/^TRUTH phases $1: .*\<$2=\([0-9/]*\).*/\1/p" "$TMP/p.out"; }

# mark times (seconds, %.6f) from --dump
"$MSCONV" "$P" --dump > "$TMP/dump.jsonl"
marks=$(awk '
    /^\{"type":"meta"/ { match($0, /"clock_hz":[0-9]+/); hz = substr($0, RSTART + 11, RLENGTH - 11) }
    /^\{"type":"mark"/ { match($0, /"time":[0-9]+/); t = substr($0, RSTART + 7, RLENGTH - 7)
                         match($0, /"name":"[a-z]*"/); m[substr($0, RSTART + 8, RLENGTH - 9)] = t }
    END { printf "%.6f %.6f %.6f", m["setup"] / hz, m["parse"] / hz, m["solve"] / hz }' "$TMP/dump.jsonl")
set -- $marks
M_SETUP=$1 M_PARSE=$2 M_SOLVE=$3
awk -v a="$M_SETUP" -v b="$M_PARSE" -v c="$M_SOLVE" 'BEGIN { exit !(a > 0 && b - a >= 0.14 && c - b >= 0.14) }' \
    && pass "ranges: three marks 150 ms apart" || fail "ranges: three marks 150 ms apart" "$marks"
fmt3() { awk -v x="$1" 'BEGIN { printf "%.3f", x }'; }
minus() { awk -v x="$1" -v d="$2" 'BEGIN { printf "%.6f", x - d }'; }
F=$(minus "$M_PARSE" 0.05); TO=$(minus "$M_SOLVE" 0.05)

# ranged --json reports, read by one python run (a line per report: allocs
# bytes temp peak/blocks leaked/blocks; and a few more values)
J="$TMP/j"
for ph in setup parse solve; do "$MSCONV" "$P" --json --phase $ph > "$J.$ph"; done
"$MSCONV" "$P" --json --from "$F" --to "$TO" > "$J.fromto"
"$MSCONV" "$P" --json --to "$TO" > "$J.to"
"$MSCONV" "$P" --json --from 0 --to 1000 > "$J.all" 2> "$J.all.err"
"$MSCONV" "$P" --json --phase parse --lang en > "$J.en"
python3 -c '
import json, sys
j, unranged, to = sys.argv[1], sys.argv[2], float(sys.argv[3]) * 1000
def summ(s, peak=True):
    v = [s["total_allocations"], s["total_allocated_bytes"], s["temporary_allocations"]]
    if peak: v.append("%d/%d" % (s["peak_memory"], s["peak_allocations"]))
    return " ".join(map(str, v + ["%d/%d" % (s["leaked_memory"], s["leaked_allocations"])]))
for k in ("setup", "parse", "solve", "fromto", "to", "all"):
    print(k, summ(json.load(open(j + "." + k))["summary"]))
r = json.load(open(j + ".en"))["range"]
print("range %.6f %.6f %s %s" % (r["from_s"], r["to_s"], r["phase"], r["to_clamped"]))
u = json.load(open(unranged))
print("unranged", summ(u["summary"], False))
print("unranged_has_range", "range" in u)
live = [a for a in u["allocations"] if a["timestamp_alloc"] <= to and (a["timestamp_dealloc"] is None or a["timestamp_dealloc"] > to)]
print("live_at_to %d/%d" % (sum(a["size"] for a in live), len(live)))
' "$J" "$P.json" "$TO" > "$TMP/jv" 2>&1
jv() { sed -n "s/^$1 //p" "$TMP/jv"; }
want() { echo "$(tr_of "$1" allocs) $(tr_of "$1" bytes) $(tr_of "$1" temp) $(tr_of "$1" end_live) $(tr_of "$1" leaked)"; }
field() { echo "$1" | cut -d' ' -f"$2"; }

# ---- phases: --json --------------------------------------------------------------
for ph in setup parse solve; do
    check "ranges json --phase $ph: allocs bytes temp live-at-end leaked" "$(want $ph)" "$(jv $ph)"
done
check "ranges json: range object" "$M_PARSE $M_SOLVE parse False" "$(jv range)"
check "ranges json: no range object unranged" "False" "$(jv unranged_has_range)"

# ---- --from/--to ---------------------------------------------------------------------
check "ranges json --from/--to around parse = parse" "$(want parse)" "$(jv fromto)"
check "ranges json --to T in parse's pause: live heap at T" "$(tr_of all live_in_parse_pause)" "$(field "$(jv to)" 4)"
# the same from the unranged trace's allocations (ms times; T is 50 ms from any event)
check "ranges --to T = unranged allocations live at T" "$(jv live_at_to)" "$(field "$(jv to)" 4)"

# ---- everything: equals unranged ----------------------------------------------------
check "ranges --to past the end: a one-line note" 1 "$(grep -c 'note: --to 1000.000 s is past the end of the trace; using its end' "$J.all.err")"
all=$(jv all | awk '{ print $1, $2, $3, $5 }')
check "ranges whole trace = unranged (allocs bytes temp leaked)" "$(jv unranged)" "$all"
check "ranges whole trace = truth" "$(tr_of all allocs) $(tr_of all bytes) $(tr_of all temp) $(tr_of all leaked)" "$all"
for m in allocated leaked; do
    check "ranges whole trace: folded --metric $m = unranged" "$("$MSCONV" "$P" --folded - --metric $m)" \
        "$("$MSCONV" "$P" --folded - --metric $m --to 1000 2>/dev/null | grep -v '^#')"
done

# ---- --folded and --text per phase ----------------------------------------------------
fold() { "$MSCONV" "$P" --folded - "$@" | grep -v '^#' | sed 's/.*;//'; }
check "ranges folded --phase parse allocated" "parse_work $(tr_of parse bytes)" "$(fold --phase parse --metric allocated)"
check "ranges folded --phase parse peak = live at its end" "parse_work $(tr_of parse end_live | cut -d/ -f1)" "$(fold --phase parse)"
check "ranges folded --phase setup leaked" "setup_work $(tr_of setup leaked | cut -d/ -f1)" "$(fold --phase setup --metric leaked)"
check "ranges folded --phase solve count" "solve_work $(tr_of solve allocs)" "$(fold --phase solve --metric count)"
check "ranges folded --phase parse temporary" "parse_work $(tr_of parse temp)" "$(fold --phase parse --metric temporary)"
check "ranges folded: header line (zh)" "# 时间范围 $(fmt3 "$M_PARSE")–$(fmt3 "$M_SOLVE") 秒（阶段 parse）" \
    "$("$MSCONV" "$P" --folded - --phase parse | head -1)"
tcount() { "$MSCONV" "$P" --text --lang en --metric count "$@" | sed -n 's/^Showing nodes accounting for [0-9]*, .* of \([0-9]*\) total$/\1/p'; }
check "ranges text --phase parse: count" "$(tr_of parse allocs)" "$(tcount --phase parse)"
check "ranges text --from/--to: count" "$(tr_of parse allocs)" "$(tcount --from "$F" --to "$TO")"
"$MSCONV" "$P" --text --lang en --phase parse > "$TMP/t.en" 2>&1
"$MSCONV" "$P" --text --phase parse > "$TMP/t.zh" 2>&1
HEAD_EN="time range $(fmt3 "$M_PARSE")–$(fmt3 "$M_SOLVE") s (phase parse)"
HEAD_ZH="时间范围 $(fmt3 "$M_PARSE")–$(fmt3 "$M_SOLVE") 秒（阶段 parse）"
check "ranges text en: header line" 1 "$(sed -n 3p "$TMP/t.en" | grep -cF "$HEAD_EN: allocations made in the range only")"
check "ranges text zh: header line" 1 "$(sed -n 3p "$TMP/t.zh" | grep -cF "$HEAD_ZH：只计该范围内的分配")"
check "ranges text en: live at the range's end" 1 \
    "$(grep -c "^live at the range's end ($(fmt3 "$M_SOLVE") s), allocated in the range: 4.9 KiB in 5 blocks$" "$TMP/t.en")"
check "ranges text en: calls in the range" 1 "$(grep -c '^calls to allocation functions: 27 ' "$TMP/t.en")"
check "ranges text zh: live at the range's end" 1 "$(grep -c "^范围结束时（第 $(fmt3 "$M_SOLVE") 秒）仍存活的范围内分配：4.9 KiB，5 个内存块$" "$TMP/t.zh")"
check "ranges text --from/--to header" 1 \
    "$("$MSCONV" "$P" --text --lang en --from "$F" --to "$TO" | sed -n 3p | grep -cF "time range $(fmt3 "$F")–$(fmt3 "$TO") s: ")"
"$MSCONV" "$P" --leaks --lang en --phase setup > "$TMP/l.en"
check "ranges leaks en: header and setup's leak" "2" \
    "$(grep -c -e "^time range $(fmt3 "$M_SETUP")–$(fmt3 "$M_PARSE") s (phase setup): blocks allocated in the range only$" \
        -e '^Leaked: 400 B in 4 blocks' "$TMP/l.en")"
"$MSCONV" "$P" --svg "$TMP/g.dot" --lang en --phase solve 2>/dev/null
check "ranges svg (.dot): title has the range" 1 \
    "$(grep -cF "time range $(fmt3 "$M_SOLVE")" "$TMP/g.dot" | awk '{ print ($1 > 0) }')"

# ---- the real pprof -----------------------------------------------------------------------
. "$MS_ROOT/tests/views/pprof_bin.sh"
if pprof_bin; then
    # pprof -raw: one line a sample, "alloc_objects alloc_space inuse_objects inuse_space: locations"
    raw_sums() { pp -raw "$1" | awk '/^Samples:/ { on = 1; next } /^Locations/ { on = 0 }
        on && /:/ { a += $1; b += $2; c += $3; d += $4 } END { print a + 0, b + 0, c + 0, d + 0 }'; }
    "$MSCONV" "$P" --pprof "$TMP/parse.pb.gz" --phase parse --lang en
    check "ranges pprof --phase parse: alloc_space (pprof -top)" "$(tr_of parse bytes)" \
        "$(pp_total -unit=B -sample_index=alloc_space "$TMP/parse.pb.gz")"
    check "ranges pprof --phase parse: alloc_objects alloc_space inuse_objects inuse_space (pprof -raw)" \
        "$(tr_of parse allocs) $(tr_of parse bytes) $(tr_of parse end_live | cut -d/ -f2) $(tr_of parse end_live | cut -d/ -f1)" \
        "$(raw_sums "$TMP/parse.pb.gz")"
    check "ranges pprof: comment" 1 "$(pp -comments "$TMP/parse.pb.gz" | grep -cF "$HEAD_EN")"
    "$MSCONV" "$P" --pprof "$TMP/to.pb.gz" --to "$TO"
    check "ranges pprof --to T: inuse_space = heap at T" "$(tr_of all live_in_parse_pause | cut -d/ -f1)" \
        "$(raw_sums "$TMP/to.pb.gz" | cut -d' ' -f4)"
fi

# ---- errors ---------------------------------------------------------------------------------
"$MSCONV" "$P" --text --phase nope -o "$TMP/nope.txt" > "$TMP/e.out" 2> "$TMP/e.err"
check "ranges error: unknown phase exit 2" 2 "$?"
check "ranges error: unknown phase names the phases" "msconv: $P: no phase 'nope' (phases: setup, parse, solve)" "$(cat "$TMP/e.err")"
[ -e "$TMP/nope.txt" ] && fail "ranges error: no output file" "$TMP/nope.txt written" || pass "ranges error: no output file"
for args in "--phase parse --from 1" "--from 2 --to 1" "--from -1" "--to abc" "--from 1e9"; do
    "$MSCONV" "$P" --json $args > /dev/null 2> "$TMP/e.err"; rc=$?
    check "ranges error: $args: exit 2" 2 "$rc"
    check "ranges error: $args: one line" 1 "$(wc -l < "$TMP/e.err" | tr -d ' ')"
done
"$MSCONV" "$P" --html "$TMP/x.html" --from 0.1 2> "$TMP/e.err"
check "ranges error: --html with a range" "2 1" "$? $(grep -c 'work with --text' "$TMP/e.err")"
