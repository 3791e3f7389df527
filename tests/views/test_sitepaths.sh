#!/bin/sh
# Sites as call stacks, pprof's granularities and node cutoff, heaptrack's
# temporary rule and sections, on tests/views/sitepaths.c (built here with
# -O0 so every allocation stays; its comment lists what it knows):
#   - three sites share the leaf dup_value and differ in callers: --json,
#     the dashboard's data and --text --sort show three distinct call paths
#     naming the callers (and "(inline)" for the inlined one);
#   - two_lines' bytes come from two lines: --granularity lines gives a row
#     per line (12KiB on 37, 4KiB on 38), functions names no line for it;
#     churn's two mallocs on line 52 differ by the leaf address;
#   - exactly 100 temporary allocations (heaptrack's rule), in the summary,
#     --metric temporary, --json and the temporary section;
#   - --nodefraction 0.01: "Dropped 3 nodes (cum <= 0.54KiB)", tiny1..3 gone;
#   - files and addresses granularities, usage errors.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
trap 'rm -rf "$TMP"' EXIT
P="$TMP/sitepaths"; S="$TMP/s.memscope"
cc -g -O0 -o "$P" "$MS_ROOT/tests/views/sitepaths.c" 2> "$TMP/cc.err" \
    || { fail sitepaths/build "$(head -c 300 "$TMP/cc.err")"; exit 0; }
MEMSCOPE_QUIET=1 "$MSREC" run -q -o "$S" -- "$P" > /dev/null 2>&1 < /dev/null
check "sitepaths: program ran under msrec" 0 "$?"
[ -s "$S" ] || { fail sitepaths/trace "no trace"; exit 0; }
text() { "$MSCONV" "$S" --text --lang en "$@"; }

# ---- granularity -----------------------------------------------------------------
text --metric allocated --nodefraction 0 > "$TMP/f.txt"
check "functions: two-line function names no line" \
    "     16KiB 29.36% 92.07%      16KiB 29.36%  two_lines ($MS_ROOT/tests/views/sitepaths.c)" \
    "$(grep ' two_lines ' "$TMP/f.txt")"
check "functions: one-line function names its line" 1 "$(grep -c ' dup_value (.*sitepaths.c:22)$' "$TMP/f.txt")"
check "functions: inlined frame marked" 1 "$(grep -c ' inl_put (inline) (.*sitepaths.c:23)$' "$TMP/f.txt")"
text --metric allocated --granularity lines > "$TMP/l.txt"
check "lines: two_lines split by line" "12KiB 37
4KiB 38" "$(grep ' two_lines ' "$TMP/l.txt" | sed -n 's/^ *\([0-9.]*KiB\) .*sitepaths.c:\([0-9]*\)$/\1 \2/p')"
check "lines: inlined frame marked last" 1 "$(grep -c ' inl_put .*sitepaths.c:23 (inline)$' "$TMP/l.txt")"
text --metric allocated --granularity files --nodefraction 0 > "$TMP/fi.txt"
check "files: one row for the program's file" "54.50KiB" \
    "$(grep " $MS_ROOT/tests/views/sitepaths.c\$" "$TMP/fi.txt" | awk '{print $4}')"
text --metric allocated --granularity addresses > "$TMP/a.txt"
check "addresses: one row for dup_value's one malloc call" 1 \
    "$(grep -c '  0x[0-9a-f]* dup_value .*sitepaths.c:22$' "$TMP/a.txt")"
check "addresses: a row per call in main" 8 \
    "$(text --metric allocated --granularity addresses --nodefraction 0 | grep -c '  0x[0-9a-f]* main .*sitepaths.c:[0-9]*$')"

# ---- node cutoff -----------------------------------------------------------------
text --metric allocated --nodefraction 0.01 > "$TMP/d.txt"
check "dropped line" "Dropped 3 nodes (cum <= 0.54KiB)" "$(sed -n 4p "$TMP/d.txt")"
check "dropped nodes are the tiny ones" 0 "$(grep -c ' tiny[123] ' "$TMP/d.txt")"
check "default nodefraction 0.005 drops the three 8 B nodes" 3 \
    "$(text --metric allocated | sed -n 's/^Dropped \([0-9]*\) nodes.*/\1/p')"
"$MSCONV" "$S" --text --metric allocated --nodefraction 0.01 | grep -q '^已略去 3 个节点（cum <= 0.54KiB）$' \
    && pass "dropped line zh" || fail "dropped line zh" "missing"

# ---- temporary (heaptrack's rule) -----------------------------------------------------
grep -q '^temporary memory allocations: 100 (41.32%)$' "$TMP/f.txt" && pass "summary: 100 temporary" \
    || fail "summary: 100 temporary" "$(grep temporary "$TMP/f.txt" | head -1)"
check "temporary by function: churn only" "100 churn" \
    "$(text --metric temporary | grep '^ *[0-9]' | awk '$1 > 0 {print $1, $6}')"
"$MSCONV" "$S" --json -o "$TMP/s.json"
check "json: temporary total" 100 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["temporary_allocations"])' "$TMP/s.json")"

# ---- sites as call paths ---------------------------------------------------------------
python3 - "$TMP/s.json" > "$TMP/jp.txt" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for s in sorted(d["sites"], key=lambda s: s["path"]):
    if s["path"].startswith("dup_value"):
        print(s["allocations"], s["path"])
EOF
check "json: three dup_value sites, distinct caller paths" "10 dup_value sitepaths.c:22 ← cache_put sitepaths.c:24 ← main sitepaths.c:66
20 dup_value sitepaths.c:22 ← index_put sitepaths.c:26 ← main sitepaths.c:67
5 dup_value sitepaths.c:22 ← inl_put (inline) sitepaths.c:23 ← cache_put_inl sitepaths.c:25" "$(cat "$TMP/jp.txt")"
check "json: every site's path is distinct; two calls on one line add the address" "12 12 2" \
    "$(python3 -c 'import json,sys; p=[s["path"] for s in json.load(open(sys.argv[1]))["sites"]]; print(len(p), len(set(p)), sum(x.startswith("churn @0x") and "sitepaths.c:52 " in x for x in p))' "$TMP/s.json")"
"$MSCONV" "$S" --html "$TMP/s.html" --lang en
python3 - "$TMP/s.html" > "$TMP/hp.txt" <<'EOF'
import html, json, re, sys
t = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<script type="application/json" id="msdata">(.*?)</script>', t, re.S)
d = json.loads(m.group(1).replace("<\\/", "</"))
print(d["temporary_def"][:22])
for s in sorted(d["sites"], key=lambda s: s["path"]):
    if s["path"].startswith("dup_value"):
        print(s["count"], s["path"])
EOF
check "html: three dup_value sites, distinct caller paths, temporary defined" "temporary allocation: 
$(cat "$TMP/jp.txt")" "$(cat "$TMP/hp.txt")"
grep -q 'function sitePath(s)' "$TMP/s.html" && grep -q 'if (k === "function") return sitePath(s);' "$TMP/s.html" \
    && pass "html: sites table and moment list name sites by path" || fail "html: sites table names" "sitePath missing"

# ---- heaptrack_print's sections -----------------------------------------------------------
text --sort calls,temporary,leaked --top 3 --nodecount 1 > "$TMP/sec.txt"
check "sections: heaptrack's titles in order" "MOST CALLS TO ALLOCATION FUNCTIONS
MOST TEMPORARY ALLOCATIONS
MOST MEMORY LEAKED" "$(grep '^MOST ' "$TMP/sec.txt")"
check "sections: most calls first entry" "100 calls to allocation functions with 0 B peak consumption from
  churn sitepaths.c:47 ← main sitepaths.c:70 ← __libc_start_call_main libc_start_call_main.h:58" \
    "$(sed -n '/^MOST CALLS/{n;p;n;p;}' "$TMP/sec.txt")"
check "sections: temporary entry" "100 temporary allocations of 100 allocations in total (100.00%) from" \
    "$(sed -n '/^MOST TEMPORARY/{n;p;}' "$TMP/sec.txt")"
check "sections: leaked entries distinct paths" "  dup_value sitepaths.c:22 ← index_put sitepaths.c:26 ← main sitepaths.c:67
  dup_value sitepaths.c:22 ← cache_put sitepaths.c:24 ← main sitepaths.c:66
  dup_value sitepaths.c:22 ← inl_put (inline) sitepaths.c:23 ← cache_put_inl sitepaths.c:25" \
    "$(sed -n '/^MOST MEMORY LEAKED/,/^$/p' "$TMP/sec.txt" | grep '^  [^ ]')"
check "sections: leak entry has its stack" "    #0 dup_value ($MS_ROOT/tests/views/sitepaths.c:22)
    #1 index_put ($MS_ROOT/tests/views/sitepaths.c:26)" \
    "$(sed -n '/^MOST MEMORY LEAKED/,$p' "$TMP/sec.txt" | grep '^    #[01] ' | head -2)"
"$MSCONV" "$S" --text --sort temporary --nodecount 1 | grep -q '^临时分配最多$' && pass "sections zh" || fail "sections zh" "missing"
"$MSCONV" "$S" --leaks --lang en > "$TMP/lk.txt"
check "leaks: site paths" 3 "$(grep -c '^  site: dup_value sitepaths.c:22 ← ' "$TMP/lk.txt")"

# ---- usage errors -----------------------------------------------------------------------
for bad in "--granularity x" "--nodefraction 2" "--sort nope"; do
    # shellcheck disable=SC2086
    "$MSCONV" "$S" --text $bad > "$TMP/u.out" 2> "$TMP/u.err"
    rc=$?
    check "usage error ($bad): status 2, one line" "2 1" "$rc $(wc -l < "$TMP/u.err")"
done
