#!/bin/sh
# msconv's call-tree views on a synthetic trace with known truth
# (tests/html/mkxss.c) and on a recorded program: exact --text and --folded
# output for every metric, inverted folded stacks, --leaks stacks, the flame
# graph and call graph SVGs parsed as XML (names with markup escaped), the
# flame graph's click-to-zoom in Chromium, --svg without Graphviz (a .dot
# file and a one-line message), usage and output errors (one line, no
# half-written file).
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
X="$TMP/x.memscope"
mkxss_cc() { cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$MS_ROOT/format" "$MS_ROOT/tests/html/mkxss.c" \
    "$MS_BUILD/lib/libmsformat.a" -lzstd -lxxhash -o "$TMP/mkxss" "$@" 2>/dev/null; }
{ mkxss_cc || mkxss_cc -fsanitize=address,undefined; } && "$TMP/mkxss" "$X" \
    || { fail views/mkxss "cannot build or run tests/html/mkxss.c"; exit 1; }
EVIL='<img src=x onerror=window.__xss=2>'
xml_ok() { python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$1" 2>"$TMP/xml.err"; }

# --folded: exact lines, every metric
folded() { "$MSCONV" "$X" --folded - "$@"; }
check "folded peak" "main;$EVIL 1000
main;work;work;leafy 500" "$(folded)"
check "folded leaked" "main;$EVIL 1000
main;work 300" "$(folded --metric leaked)"
check "folded allocated" "main;$EVIL 1000
main;work 300
main;work;work;leafy 564" "$(folded --metric allocated)"
check "folded count" "main;$EVIL 1
main;work 1
main;work;work;leafy 2" "$(folded --metric=count)"
check "folded temporary" "main;work;work;leafy 2" "$(folded --metric temporary)"
check "folded inverted" "$EVIL;main 1000
leafy;work;work;main 564
work;main 300" "$(folded --metric allocated --inverted)"
"$MSCONV" "$X" --folded "$TMP/f.txt" --metric allocated
check "folded to a file" "$(folded --metric allocated)" "$(cat "$TMP/f.txt")"
# flamegraph.pl's parser: stack, space, integer
awk '{ if ($NF !~ /^[0-9]+$/) bad = 1 } END { exit bad }' "$TMP/f.txt" && pass "folded: value after the last space" \
    || fail "folded: value after the last space" "bad line"

# --text: pprof table, English and Chinese
"$MSCONV" "$X" --text --lang en > "$TMP/t.txt"
check "text en header" "Showing nodes accounting for 1.46KiB, 100% of 1.46KiB total" "$(sed -n 3p "$TMP/t.txt")"
check "text en columns" "      flat  flat%   sum%        cum   cum%" "$(sed -n 4p "$TMP/t.txt")"
check "text en first row" "   0.98KiB 66.67% 66.67%    0.98KiB 66.67%  $EVIL (</script>.c:7)" "$(sed -n 5p "$TMP/t.txt")"
check "text en recursion counted once" "         0     0%   100%    0.49KiB 33.33%  work (x.c:9)" "$(sed -n 8p "$TMP/t.txt")"
grep -q "^calls to allocation functions: 4 (40/s)$" "$TMP/t.txt" && pass "text en summary calls" || fail "text en summary calls" "$(tail -6 "$TMP/t.txt")"
grep -q "^total memory leaked: 1.3 KiB in 2 blocks$" "$TMP/t.txt" && pass "text en summary leaked" || fail "text en summary leaked" "missing"
grep -q "^temporary memory allocations: 2 (50.00%)$" "$TMP/t.txt" && pass "text en summary temporary" || fail "text en summary temporary" "missing"
"$MSCONV" "$X" --text --metric count --nodecount 2 > "$TMP/tz.txt"
check "text zh header" "显示的节点合计 3，占总量 4 的 75.00%" "$(sed -n 3p "$TMP/tz.txt")"
check "text zh nodecount" "显示前 2 个节点（共 4 个）" "$(sed -n 4p "$TMP/tz.txt")"
check "text nodecount rows" 2 "$(grep -c '%  [^ ]' "$TMP/tz.txt")"
grep -q "^泄漏总量：1.3 KiB，2 个内存块$" "$TMP/tz.txt" && pass "text zh summary" || fail "text zh summary" "missing"

# --leaks
"$MSCONV" "$X" --leaks --lang en > "$TMP/l.txt"
check "leaks header" "Leaked: 1.3 KiB in 2 blocks from 2 allocation sites (still live at the end of the trace)" "$(sed -n 2p "$TMP/l.txt")"
check "leaks unit rule" "units: KiB = 1024 bytes, MiB = 1024 KiB, GiB = 1024 MiB" "$(sed -n 3p "$TMP/l.txt")"
check "leaks first site path" "  site: $EVIL script>.c:7 ← main x.c:5" "$(sed -n 6p "$TMP/l.txt")"
check "leaks first stack" "  #0 $EVIL (</script>.c:7)
  #1 main (x.c:5)" "$(sed -n 7,8p "$TMP/l.txt")"
check "leaks second site" "300 B leaked in 1 block (300 bytes, 23.08% of leaks), 1 allocation at this site" "$(sed -n 10p "$TMP/l.txt")"

# --flamegraph: XML, tooltips, escaping, inverted
"$MSCONV" "$X" --flamegraph "$TMP/fg.svg" --lang en
xml_ok "$TMP/fg.svg" && pass "flamegraph is XML" || fail "flamegraph is XML" "$(cat "$TMP/xml.err")"
grep -q '<title>leafy (500 bytes, 33.33%)</title>' "$TMP/fg.svg" && pass "flamegraph tooltip" || fail "flamegraph tooltip" "missing"
grep -q '<title>&lt;img src=x onerror=window.__xss=2&gt; (1,000 bytes, 66.67%)</title>' "$TMP/fg.svg" \
    && pass "flamegraph escapes names" || fail "flamegraph escapes names" "missing"
grep -q '<img' "$TMP/fg.svg" && fail "flamegraph raw markup" "found <img" || pass "flamegraph raw markup"
grep -Eq 'src=|href=' "$TMP/fg.svg" && grep -Eq '(src|href)="(http|//)' "$TMP/fg.svg" \
    && fail "flamegraph self-contained" "external reference" || pass "flamegraph self-contained"
"$MSCONV" "$X" --flamegraph "$TMP/fgi.svg" --inverted --metric allocated
xml_ok "$TMP/fgi.svg" && pass "inverted flamegraph is XML" || fail "inverted flamegraph is XML" "$(cat "$TMP/xml.err")"
grep -q '<title>leafy (564 字节, 30.26%)</title>' "$TMP/fgi.svg" && pass "inverted flamegraph: leaf at the root" \
    || fail "inverted flamegraph: leaf at the root" "missing"
if command -v chromium >/dev/null 2>&1; then
    cat > "$TMP/fg.js" <<'JS'
## flame SVG renders with its script
return typeof window.msFlame === "object" || "no msFlame";
## click on a frame zooms
var gs = document.querySelectorAll("g.f"), g = null;
for (var i = 0; i < gs.length; i++) if (gs[i].querySelector("title").textContent.indexOf("leafy ") === 0) g = gs[i];
g.dispatchEvent(new MouseEvent("click", { bubbles: true }));
var w = +g.querySelector("rect").getAttribute("width");
return (document.documentElement.getAttribute("data-zoomed") === "leafy" && w > 1170) || ("width " + w);
## frames outside the zoomed one are hidden
var hidden = document.querySelectorAll("g.f.hide").length;
return hidden === 1 || hidden;
## reset zoom
window.msFlame.unzoom();
return document.querySelectorAll("g.f.hide").length === 0;
## search
var m = window.msFlame.search("work");
return m === "Matched: 33.3%" || m;
JS
    python3 "$MS_ROOT/tests/html/cdp.py" "file://$TMP/fg.svg" "$TMP/fg.js" "views/flamegraph"
else
    fail "views/flamegraph in chromium" "chromium not installed (make deps)"
fi

# --svg: Graphviz call graph
if command -v dot >/dev/null 2>&1; then
    "$MSCONV" "$X" --svg "$TMP/g.svg" --lang en 2> "$TMP/g.err"
    xml_ok "$TMP/g.svg" && pass "call graph is XML" || fail "call graph is XML" "$(cat "$TMP/xml.err" "$TMP/g.err")"
    grep -q 'Total: 1.46KiB' "$TMP/g.svg" && pass "call graph legend" || fail "call graph legend" "$(grep -o 'Total[^<]*' "$TMP/g.svg")"
    grep -q '&lt;img src=x onerror=window.__xss=2&gt;' "$TMP/g.svg" && pass "call graph escapes names" || fail "call graph escapes names" "missing"
    grep -q '<img' "$TMP/g.svg" && fail "call graph raw markup" "found" || pass "call graph raw markup"
    grep -q '>of 0.49KiB (33.33%)<' "$TMP/g.svg" && pass "call graph node label" || fail "call graph node label" "missing"
else
    fail "call graph" "graphviz not installed (make deps)"
fi
"$MSCONV" "$X" --svg "$TMP/g.dot"
grep -q '^digraph "memscope" {' "$TMP/g.dot" && pass "--svg OUT.dot writes DOT" || fail "--svg OUT.dot writes DOT" "not DOT"
# without dot in PATH: .dot instead, one line on stderr, exit 0
mkdir -p "$TMP/nodot"
PATH="$TMP/nodot" "$MSCONV" "$X" --svg "$TMP/nd.svg" --lang en 2> "$TMP/nd.err"; rc=$?
check "no dot: exit status" 0 "$rc"
check "no dot: one line" 1 "$(wc -l < "$TMP/nd.err")"
grep -q "Graphviz 'dot' is not installed; wrote the call graph as DOT to $TMP/nd.dot" "$TMP/nd.err" \
    && pass "no dot: message" || fail "no dot: message" "$(cat "$TMP/nd.err")"
[ -s "$TMP/nd.dot" ] && [ ! -e "$TMP/nd.svg" ] && pass "no dot: .dot written, no .svg" || fail "no dot: .dot written, no .svg" "files"

# errors
"$MSCONV" "$X" --text --metric bogus > "$TMP/o" 2> "$TMP/e"; rc=$?
check "bad metric: exit 2" 2 "$rc"
check "bad metric: one line" 1 "$(wc -l < "$TMP/e")"
"$MSCONV" "$X" --flamegraph > "$TMP/o" 2> "$TMP/e"; rc=$?
check "flamegraph without OUT: exit 2" 2 "$rc"
"$MSCONV" "$X" --flamegraph "$TMP/nodir/x.svg" 2> "$TMP/e"; rc=$?
check "unwritable output: exit 1" 1 "$rc"
grep -q "^msconv: $TMP/nodir/x.svg: " "$TMP/e" && pass "unwritable output: message" || fail "unwritable output: message" "$(cat "$TMP/e")"
printf 'garbage' > "$TMP/bad.memscope"
"$MSCONV" "$TMP/bad.memscope" --html "$TMP/bad.html" 2> "$TMP/e"; rc=$?
check "bad input: exit 1" 1 "$rc"
[ ! -e "$TMP/bad.html" ] && pass "bad input: no output file" || fail "bad input: no output file" "exists"
ls "$TMP" | grep -q '\.tmp' && fail "no temporary files left" "$(ls "$TMP")" || pass "no temporary files left"

# a recorded program: folded stacks agree with --json totals
if [ -x "$MS_BUILD/progs/leaks" ]; then
    "$MSREC" run -o "$TMP/leaks.memscope" -- "$MS_BUILD/progs/leaks" > /dev/null 2>&1
    peak=$("$MSCONV" "$TMP/leaks.memscope" --folded - | awk '{ s += $NF } END { print s }')
    check "recorded: folded peak sums to the truth" 6000 "$peak"
    alloc=$("$MSCONV" "$TMP/leaks.memscope" --folded - --metric allocated | awk '{ s += $NF } END { print s }')
    check "recorded: folded allocated sums to the truth" 6640 "$alloc"
    "$MSCONV" "$TMP/leaks.memscope" --folded - --metric leaked | grep -q 'main;leak_three 6000$' \
        && pass "recorded: leak stack" || fail "recorded: leak stack" "$("$MSCONV" "$TMP/leaks.memscope" --folded - --metric leaked)"
    "$MSCONV" "$TMP/leaks.memscope" --leaks --lang en > "$TMP/ll.txt"
    check "recorded: --leaks sites" 3 "$(grep -c '^[0-9].* leaked in ' "$TMP/ll.txt")"
    check "recorded: --leaks classes per site" 3 "$(grep -c '^  leak class: ' "$TMP/ll.txt")"
    grep -q '^  #0 leak_three (.*tests/progs/leaks.c:2[012])$' "$TMP/ll.txt" && pass "recorded: --leaks stack" \
        || fail "recorded: --leaks stack" "$(head -12 "$TMP/ll.txt")"
    "$MSCONV" "$TMP/leaks.memscope" --flamegraph "$TMP/lf.svg" && xml_ok "$TMP/lf.svg" \
        && pass "recorded: flamegraph is XML" || fail "recorded: flamegraph is XML" "$(cat "$TMP/xml.err")"
fi

# progress bar (convert/common/progress.c, wired in msconv's main): forced
# with MEMSCOPE_PROGRESS=1 on a trace of > 64 Ki records, never on a
# non-terminal stderr by default; and the two-thread record pump
# (analyze/pump.c) gives byte-identical reports to the one-thread loop
W="$TMP/wl.memscope"
if cc -std=c11 -D_GNU_SOURCE -O2 -o "$TMP/wl" "$MS_ROOT/bench/convert/workload.c" 2>/dev/null \
    && "$MSREC" run -o "$W" -- "$TMP/wl" 100000 >/dev/null 2>&1; then
    # conv TAG MODE [env...]: report of MODE into $TMP/TAG$MODE (stdout for --text)
    conv() { t=$1; m=$2; shift 2
        if [ "$m" = --text ] || [ "$m" = --leaks ]; then env "$@" "$MSCONV" "$W" $m > "$TMP/$t$m"
        else env "$@" "$MSCONV" "$W" $m -o "$TMP/$t$m" > /dev/null; fi; }
    # (--html and --leaks make their per-block models on a third thread
    # with two: blockpipe.h)
    for m in --text --html --json --leaks; do
        conv p1 $m MEMSCOPE_PROGRESS=1 2> "$TMP/p1$m.err"
        if grep -q 'msconv: reading .*%' "$TMP/p1$m.err" && grep -q 'msconv: reading 100%' "$TMP/p1$m.err"; then
            pass "progress forced $m"
        else
            fail "progress forced $m" "$(tr '\r' '\n' < "$TMP/p1$m.err" | head -3)"
        fi
        conv p2 $m 2> "$TMP/p2$m.err"
        if [ -s "$TMP/p2$m.err" ]; then fail "progress not on a pipe $m" "$(head -c 200 "$TMP/p2$m.err")"
        else pass "progress not on a pipe $m"; fi
        conv t0 $m MEMSCOPE_THREADS=0 2>/dev/null
        conv t1 $m MEMSCOPE_THREADS=1 2>/dev/null
        [ "$m" = --html ] && for f in p1 p2 t0 t1; do grep 'id="msdata"' "$TMP/$f$m" > "$TMP/$f$m.d"; mv "$TMP/$f$m.d" "$TMP/$f$m"; done
        a="$TMP/p1$m"; b="$TMP/p2$m"; c="$TMP/t0$m"; d="$TMP/t1$m"
        [ -s "$a" ] && cmp -s "$a" "$b" && pass "progress: same report $m" || fail "progress: same report $m" "differs"
        [ -s "$c" ] && cmp -s "$c" "$d" && pass "one thread = two threads $m" || fail "one thread = two threads $m" "differs"
    done
else
    fail "progress: record workload" "cannot build or record bench/convert/workload.c"
fi
rm -rf "$TMP"
