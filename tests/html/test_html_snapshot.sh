#!/bin/sh
# Snapshot dashboard (msconv SNAPSHOT --html OUT) in headless Chromium
# (tests/html/cdp.py):
#  1. a real snapshot of this machine (--lib-memory) with a known process
#     (tests/snapshot/knownproc.c, 40 MiB touched) whose name, command line,
#     exe path, a mapped "library" and the snapshot's label hold
#     <script>/<img onerror> strings:
#     every panel rendered, cards and per-kind totals equal `msconv --json`,
#     the known process's row has the JSON's PSS/RSS/USS, sorting, the text
#     and kind filters, grouping by kind, libraries, the 中文/English switch,
#     hostile strings shown as text and never run;
#  2. a series (--interval 1 --count 3) with a growing process: the growth
#     table and the series cards equal the JSON's "growth";
#  3. --lang en, a synthetic 1000-process series (tests/html/mksnap.c): the
#     page stays small; error cases leave no output file;
#  and on every page: no console errors, no network request.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
HERE="$MS_ROOT/tests/html"
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

if ! command -v chromium >/dev/null 2>&1; then fail html-snapshot "chromium not installed (make deps)"; exit 1; fi
cc -O1 -o "$TMP/kp" "$MS_ROOT/tests/snapshot/knownproc.c" -ldl 2>/dev/null || { fail html-snapshot/build "cannot build knownproc"; exit 1; }
waitfor() { i=0; while [ ! -e "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; }

# ---- 1. one snapshot with a known, hostile process -----------------------------
# exe path, comm (15 bytes max), command line and a mapped file all hostile
EXE="$TMP/<script>window.__xss=1<\\script>kp"
cp "$TMP/kp" "$EXE"
LIB="$TMP/lib<img src=y onerror=window.__xss=4>.so"
head -c 1048576 /dev/urandom > "$LIB"
NAME='<script>x=5'
TAG='</script><script>window.__xss=2</script><img src=x onerror="window.__xss=3">'
"$EXE" --alloc 40 --map "$LIB" --name "$NAME" --tag "$TAG" --ready "$TMP/k.ok" & K=$!; PIDS="$PIDS $K"
waitfor "$TMP/k.ok"
[ -e "$TMP/k.ok" ] || { fail html-snapshot/knownproc "known process did not start"; exit 1; }
LABEL='</script><script>window.__xss=6</script> 升级前'
"$MSREC" snapshot "$TMP/one.memscope" --lib-memory --label "$LABEL" 2> "$TMP/rec.err"
check "html-snapshot: msrec snapshot --lib-memory" 0 $?
"$MSCONV" "$TMP/one.memscope" --json -o "$TMP/one.json"
check "html-snapshot: msconv --json" 0 $?
"$MSCONV" "$TMP/one.memscope" --html "$TMP/one.html" 2> "$TMP/h.err"
check "html-snapshot: msconv --html exit status" 0 $?
[ -s "$TMP/one.html" ] && [ ! -s "$TMP/h.err" ] && pass "html-snapshot: page written, nothing on stderr" \
    || fail "html-snapshot: page written, nothing on stderr" "$(cat "$TMP/h.err")"
n=$(grep -c '</script>' "$TMP/one.html")
check "html-snapshot: only the page's own </script> tags" 2 "$n"
grep -q '<\\/script><script>window.__xss=2<\\/script>' "$TMP/one.html" && pass "html-snapshot: </script> escaped in the data" \
    || fail "html-snapshot: </script> escaped in the data" "escaped command line not found"

python3 - "$TMP/one.json" "$K" "$EXE" "$NAME" "$TAG" "$LIB" "$LABEL" > "$TMP/one.js" <<'PY'
import json, sys
js, pid, exe, name, tag, lib, label = sys.argv[1:]
pid = int(pid)
d = json.load(open(js))
s = d["snapshots"][-1]
T, M = s["totals"], s["meminfo"]
procs = s["processes"]
me = [p for p in procs if p["pid"] == pid]
me = me[0] if me else None
J = json.dumps
def check(name, body):
    print("## " + name)
    print(body.strip())
print("## page loaded")
print("window.$ = function (q) { return document.querySelector(q); }; window.$$ = function (q) { return Array.prototype.slice.call(document.querySelectorAll(q)); };")
print('return document.body.getAttribute("data-rendered") === "1" || "not rendered";')
check("every panel rendered", '''
var ids = ["overview", "procs", "libs"].filter(function (i) { return !document.getElementById(i); });
var nav = $$("#nav a").map(function (a) { return a.getAttribute("href"); }).join(",");
return (document.body.getAttribute("data-rendered") === "1" && !ids.length && nav === "#overview,#procs,#libs" && !$("#series")) || ("missing " + ids + " nav " + nav);''')
check("Chinese by default", 'return ($("#procs h2").textContent === "进程" && $("#overview h2").textContent === "概览") || $("#procs h2").textContent;')
cards = {"processes": T["processes"], "pss": T["pss"], "uss": T["uss"], "rss": T["rss_summed"], "swap": T["swap"],
         "open-files": T["open_files"], "mem-total": M["MemTotal"], "mem-available": M["MemAvailable"],
         "mem-used": M["MemTotal"] - M["MemAvailable"]}
check("overview cards equal the JSON totals and meminfo", '''
var want = %s, bad = [];
for (var k in want) { var c = document.getElementById("card-" + k); if (!c || c.getAttribute("data-v") !== String(want[k])) bad.push(k + "=" + (c ? c.getAttribute("data-v") : "missing") + " want " + want[k]); }
return !bad.length || bad.join("; ");''' % J(cards))
check("host, kernel and hostile label shown as text", 'return ($("#meta-host").textContent === %s && $("#meta-kernel").textContent === %s && $("#meta-label").textContent === %s) || $("#meta-label").textContent;'
      % (J(s["hostname"]), J(s["kernel"]), J(label)))
check("totals by kind equal the JSON", '''
var bk = %s, bad = [];
["kernel", "system", "user"].forEach(function (k) {
  ["processes", "pss", "rss", "uss", "swap"].forEach(function (f) {
    var c = $("#class-table tr[data-kind=" + k + "] td[data-k=" + f + "]");
    if (!c || c.getAttribute("data-v") !== String(bk[k][f])) bad.push(k + "." + f);
  });
});
return !bad.length || bad.join(",");''' % J(T["by_kind"]))
check("process table has every process", 'var n = $$("#proc-table tbody tr").length; return n === %d || n;' % min(len(procs), 1000))
if me:
    check("known process: PSS/RSS/USS equal the JSON", '''
var tr = $("#proc-table tbody tr[data-pid='%d']");
if (!tr) return "no row";
var v = function (k) { return tr.querySelector("td[data-k=" + k + "]").getAttribute("data-v"); };
return (v("pss") === "%d" && v("rss") === "%d" && v("uss") === "%d") || [v("pss"), v("rss"), v("uss")].join(",");''' % (pid, me["pss"], me["rss"], me["uss"]))
    check("known process: at least 40 MiB", 'return %d >= 41943040 || "pss %d";' % (me["pss"], me["pss"]))
    check("known process: hostile name, command line and exe shown as text", '''
var tr = $("#proc-table tbody tr[data-pid='%d']");
var name = tr.querySelector("td[data-k=name] .nm").textContent, cmd = tr.querySelector("td[data-k=cmdline]").textContent,
    exe = tr.querySelector("td[data-k=exe]").textContent;
return (name === %s && cmd.indexOf(%s) >= 0 && exe === %s && !tr.querySelector("script,img,b")) || [name, cmd, exe].join(" | ");'''
          % (pid, J(name), J(tag), J(exe)))
else:
    print("## known process in the JSON\nreturn 'pid %d not in the snapshot';" % pid)
check("no hostile string ran", '''
return (window.__xss === undefined && window.x === undefined && !$("img") && $$("script").length === 2) || ("xss " + window.__xss + " imgs " + $$("img").length);''')
check("sort: click RSS sorts descending, again ascending", '''
var th = $("#proc-table th[data-key=rss]");
th.click();
var v = $$("#proc-table tbody td[data-k=rss]").map(function (c) { return +c.getAttribute("data-v"); });
for (var i = 1; i < v.length; i++) if (v[i - 1] < v[i]) return "not descending at " + i;
if (th.textContent.indexOf("▼") < 0) return "no arrow " + th.textContent;
th.click();
v = $$("#proc-table tbody td[data-k=rss]").map(function (c) { return +c.getAttribute("data-v"); });
for (i = 1; i < v.length; i++) if (v[i - 1] > v[i]) return "not ascending at " + i;
return true;''')
check("sort: every column header sorts", '''
var bad = [];
$$("#proc-table th").forEach(function (th) {
  var k = th.getAttribute("data-key");
  th.click();
  var cells = $$("#proc-table tbody td[data-k=" + k + "]"), num = cells.length && cells[0].hasAttribute("data-v");
  var v = cells.map(function (c) { var s = c.querySelector(".nm") || c; return num ? (c.getAttribute("data-v") === "" ? -Infinity : +c.getAttribute("data-v")) : s.textContent.toLowerCase(); });
  var asc = th.textContent.indexOf("▲") >= 0;
  for (var i = 1; i < v.length; i++) if (asc ? v[i - 1] > v[i] : v[i - 1] < v[i]) { bad.push(k); break; }
});
return !bad.length || bad.join(",");''')
check("sort: name column orders names", '''
var th = $("#proc-table th[data-key=name]");
th.click(); if (th.textContent.indexOf("▲") < 0) th.click();
var v = $$("#proc-table tbody td[data-k=name] .nm").map(function (c) { return c.textContent.toLowerCase(); });
for (var i = 1; i < v.length; i++) if (v[i - 1] > v[i]) return "not sorted at " + i + ": " + v[i - 1] + " > " + v[i];
return true;''')
check("filter by text finds the known process only", '''
var f = $("#proc-filter"); f.value = "%d"; f.dispatchEvent(new Event("input"));
var trs = $$("#proc-table tbody tr"), rows = trs.map(function (r) { return r.getAttribute("data-pid"); });
var all = trs.every(function (r) { return r.textContent.indexOf("%d") >= 0; });
f.value = ""; f.dispatchEvent(new Event("input"));
return (rows.indexOf("%d") >= 0 && all && $$("#proc-table tbody tr").length === %d) || rows.join(",");''' % (pid, pid, pid, min(len(procs), 1000)))
check("filter by the hostile tag finds the known process", '''
var f = $("#proc-filter"); f.value = "window.__xss=2"; f.dispatchEvent(new Event("input"));
var rows = $$("#proc-table tbody tr").map(function (r) { return r.getAttribute("data-pid"); });
f.value = ""; f.dispatchEvent(new Event("input"));
return rows.join(",") === "%d" || rows.join(",");''' % pid)
for k in ("kernel", "system", "user"):
    n = T["by_kind"][k]["processes"]
    check("kind filter %s shows its %d processes" % (k, n), '''
var sel = $("#proc-kind"); sel.value = "%s"; sel.dispatchEvent(new Event("change"));
var kinds = $$("#proc-table tbody td[data-k=kind]").map(function (c) { return c.getAttribute("data-v"); });
sel.value = "all"; sel.dispatchEvent(new Event("change"));
return (kinds.length === %d && kinds.every(function (x) { return x === "%d"; })) || kinds.length;''' % (k, min(n, 1000), ["kernel", "system", "user"].index(k)))
present = [k for k in ("kernel", "system", "user") if T["by_kind"][k]["processes"]]
check("group by kind: one group row per kind, in order", '''
var g = $("#proc-group"); g.click();
var groups = $$("#proc-table tbody tr.grp").map(function (r) { return r.getAttribute("data-group"); });
var kinds = $$("#proc-table tbody td[data-k=kind]").map(function (c) { return +c.getAttribute("data-v"); });
var sorted = kinds.every(function (k, i) { return !i || kinds[i - 1] <= k; });
g.click();
return (groups.join(",") === %s && sorted && !$("#proc-table tbody tr.grp")) || groups.join(",");''' % J(",".join(present)))
libs = {}
for p in procs:
    for l in p["libraries"]:
        e = libs.setdefault(l["path"], [0, 0, 0, 0])
        e[0] += 1; e[1] += l["mapped"]; e[2] += l["rss"]; e[3] += l["pss"]
check("libraries: one row per library, as many as the JSON has", 'var n = $$("#lib-table tbody tr").length; return n === %d || n;' % min(len(libs), 1000))
if lib in libs:
    e = libs[lib]
    check("libraries: hostile library mapped by 1 process, RSS/PSS summed as the JSON", '''
var row = $$("#lib-table tbody tr").filter(function (r) { return r.querySelector("td[data-k=path]").textContent === %s; })[0];
if (!row) return "no row";
var v = function (k) { return row.querySelector("td[data-k=" + k + "]").getAttribute("data-v"); };
return (v("procs") === "%d" && v("mapped") === "%d" && v("rss") === "%d" && v("pss") === "%d" && +v("rss") >= 1048576) || [v("procs"), v("mapped"), v("rss"), v("pss")].join(",");'''
          % (J(lib), e[0], e[1], e[2], e[3]))
else:
    print("## hostile library in the JSON\nreturn 'not recorded';")
top = max(libs.items(), key=lambda kv: (kv[1][0], kv[0]))
check("libraries: sort by process count", '''
var th = $("#lib-table th[data-key=procs]"); th.click(); if (th.textContent.indexOf("▼") < 0) th.click();
var first = $("#lib-table tbody tr td[data-k=procs]").getAttribute("data-v");
return first === "%d" || first;''' % top[1][0])
check("libraries: per-library memory noted as --lib-memory", 'return $("#libs-note").textContent.indexOf("--lib-memory") >= 0 || $("#libs-note").textContent;')
check("language switch to English and back", '''
$("#lang-en").click();
var en = [$("#procs h2").textContent, $("#libs h2").textContent, $("#proc-table th[data-key=name]").textContent.replace(/ [▲▼]$/, ""), $("#card-processes .k").textContent];
var still = !!$("#proc-table tbody tr[data-pid='%d']");
$("#lang-zh").click();
var zh = [$("#procs h2").textContent, $("#proc-table th[data-key=name]").textContent.replace(/ [▲▼]$/, "")];
return (en.join("|") === "Processes|Libraries|Name|Processes" && still && zh.join("|") === "进程|名称" && document.documentElement.lang === "zh-CN") || en.join("|") + " / " + zh.join("|");''' % pid)
PY
python3 "$HERE/cdp.py" "file://$TMP/one.html" "$TMP/one.js" "html-snapshot/real"

# --lang en sets the page's default language
"$MSCONV" "$TMP/one.memscope" --html "$TMP/one-en.html" --lang en
printf '## English by default\nvar h = document.querySelector("#procs h2").textContent;\nreturn (h === "Processes" && document.querySelector("#overview h2").textContent === "Overview") || h;\n' > "$TMP/en.js"
python3 "$HERE/cdp.py" "file://$TMP/one-en.html" "$TMP/en.js" "html-snapshot/lang-en"

# ---- 2. a series with a growing process ------------------------------------------
"$TMP/kp" --alloc 8 --grow 4 --ready "$TMP/g.ok" & G=$!; PIDS="$PIDS $G"
waitfor "$TMP/g.ok"
"$MSREC" snapshot "$TMP/series.memscope" --interval 1 --count 3 2> "$TMP/series.err"
check "html-snapshot: msrec snapshot series" 0 $?
kill "$G" 2>/dev/null
"$MSCONV" "$TMP/series.memscope" --json -o "$TMP/series.json"
check_cmd "html-snapshot: msconv --html (series)" "$MSCONV" "$TMP/series.memscope" --html "$TMP/series.html"
python3 - "$TMP/series.json" "$G" > "$TMP/series.js" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); pid = int(sys.argv[2])
g = d["growth"]
me = [x for x in g["processes"] if x["pid"] == pid]
print("## page loaded")
print("window.$ = function (q) { return document.querySelector(q); }; window.$$ = function (q) { return Array.prototype.slice.call(document.querySelectorAll(q)); };")
print('return document.body.getAttribute("data-rendered") === "1" || "not rendered";')
print("## series panel rendered with the chart")
print('return (!!$("#series") && $$("#nav a").length === 4 && $$("#series-svg circle").length === %d) || "no series";' % len(d["snapshots"]))
print("## series cards equal the JSON growth")
print('var c = function (k) { return $("#card-series-" + k).getAttribute("data-v"); };')
print('return (c("count") === "%d" && c("dpss") === "%d" && c("span") === "%d") || [c("count"), c("dpss"), c("span")].join(",");'
      % (len(d["snapshots"]), g["total_pss_delta"], g["span_ms"]))
print("## growth table has every process of the JSON")
print('var n = $$("#growth-table tbody tr").length; return n === %d || n;' % min(len(g["processes"]), 1000))
if me:
    me = me[0]
    print("## growing process: first/last PSS and deltas equal the JSON")
    print('var tr = $("#growth-table tbody tr[data-pid=\'%d\']"); if (!tr) return "no row";' % pid)
    print('var v = function (k) { return tr.querySelector("td[data-k=" + k + "]").getAttribute("data-v"); };')
    print('return (v("pss_first") === "%d" && v("pss_last") === "%d" && v("d_pss") === "%d" && v("d_rss") === "%d" && v("d_uss") === "%d" && v("seen") === "%d") '
          '|| [v("pss_first"), v("pss_last"), v("d_pss"), v("seen")].join(",");'
          % (me["pss_first"], me["pss_last"], me["pss_delta"], me["rss_delta"], me["uss_delta"], me["snapshots_seen"]))
    print("## growing process grew at least 4 MiB")
    print('return %d >= 4194304 || "%d";' % (me["pss_delta"], me["pss_delta"]))
    print("## growing process has a trend line over its snapshots")
    print('var tr = $("#growth-table tbody tr[data-pid=\'%d\']"), pl = tr.querySelector("svg.spark polyline");' % pid)
    print('return (pl && pl.getAttribute("points").split(" ").length === %d) || (pl ? pl.getAttribute("points") : "no sparkline");' % me["snapshots_seen"])
else:
    print("## growing process in the JSON growth\nreturn 'pid %d missing';" % pid)
print("## growth sorted by ΔPSS, click sorts ascending")
print('var v = $$("#growth-table tbody td[data-k=d_pss]").map(function (c) { return +c.getAttribute("data-v"); });')
print('for (var i = 1; i < v.length; i++) if (v[i - 1] < v[i]) return "default not descending";')
print('$("#growth-table th[data-key=d_pss]").click();')
print('v = $$("#growth-table tbody td[data-k=d_pss]").map(function (c) { return +c.getAttribute("data-v"); });')
print('for (i = 1; i < v.length; i++) if (v[i - 1] > v[i]) return "not ascending";')
print('return true;')
print("## the last snapshot is the one shown")
print('return $("#meta-position").textContent === "%d / %d" || $("#meta-position").textContent;' % (len(d["snapshots"]), len(d["snapshots"])))
PY
python3 "$HERE/cdp.py" "file://$TMP/series.html" "$TMP/series.js" "html-snapshot/series"

# ---- 3. scale: 1000 processes x 60 libraries, two snapshots ------------------------
mksnap_cc() { cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$MS_ROOT/format" "$HERE/mksnap.c" \
    "$MS_BUILD/lib/libmsformat.a" -lzstd -lxxhash -o "$TMP/mksnap" "$@" 2>/dev/null; }
if (mksnap_cc || mksnap_cc -fsanitize=address,undefined) && "$TMP/mksnap" "$TMP/big.memscope" 1000; then
    check_cmd "html-snapshot: msconv --html (1000 processes)" "$MSCONV" "$TMP/big.memscope" --html "$TMP/big.html"
    sz=$(wc -c < "$TMP/big.html")
    [ "$sz" -lt 3000000 ] && pass "html-snapshot: 1000 processes give a page under 3 MB ($sz bytes)" \
        || fail "html-snapshot: 1000 processes give a page under 3 MB" "$sz bytes"
    cat > "$TMP/big.js" <<'JS'
## 1000 process rows, 500 libraries, 1000 growth rows
var n = [document.querySelectorAll("#proc-table tbody tr").length, document.querySelectorAll("#lib-table tbody tr").length,
         document.querySelectorAll("#growth-table tbody tr").length].join(",");
return n === "1000,500,1000" || n;
## synthetic truth: worker-0 grew 1 MiB (64 KiB -> 1088 KiB), 1.00 MiB/hour
var tr = document.querySelector("#growth-table tbody tr[data-pid='1000']"), v = function (k) { return tr.querySelector("td[data-k=" + k + "]").getAttribute("data-v"); };
return (v("pss_first") === "65536" && v("pss_last") === "1114112" && v("d_pss") === "1048576" && v("rate") === "1") || [v("pss_first"), v("pss_last"), v("rate")].join(",");
## synthetic truth: 500 growing processes, total +500 MiB
return document.getElementById("card-series-dpss").getAttribute("data-v") === String(500 * 1048576) || document.getElementById("card-series-dpss").getAttribute("data-v");
## synthetic truth: every library mapped by 120 processes, PSS 120 x 64 KiB, RSS 120 x 256 KiB
var r = document.querySelector("#lib-table tbody tr"), v = function (k) { return r.querySelector("td[data-k=" + k + "]").getAttribute("data-v"); };
return (v("procs") === "120" && v("pss") === String(120 * 65536) && v("rss") === String(120 * 262144)) || [v("procs"), v("pss")].join(",");
JS
    python3 "$HERE/cdp.py" "file://$TMP/big.html" "$TMP/big.js" "html-snapshot/1000-processes"
else
    fail "html-snapshot: synthetic 1000-process file" "cannot build or run tests/html/mksnap.c"
fi

# ---- errors: one line, non-zero exit, no output file --------------------------------
"$MSCONV" "$TMP/one.memscope" --html 2> "$TMP/e1"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l < "$TMP/e1")" -eq 1 ] && grep -q "^msconv: usage: --html needs an output file" "$TMP/e1" \
    && pass "html-snapshot: --html without OUT is a usage error" || fail "html-snapshot: --html without OUT is a usage error" "rc=$rc $(cat "$TMP/e1")"
"$MSCONV" "$TMP/one.memscope" --html "$TMP/nodir/x.html" 2> "$TMP/e2"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$TMP/e2")" -eq 1 ] && grep -q "^msconv: $TMP/nodir/x.html: " "$TMP/e2" \
    && pass "html-snapshot: unwritable output: one error line" || fail "html-snapshot: unwritable output: one error line" "rc=$rc $(cat "$TMP/e2")"
"$MSCONV" "$TMP/one.memscope" --html "$TMP/s1.html" --snapshot 5 2> "$TMP/e3"; rc=$?
[ $rc -eq 1 ] && [ ! -e "$TMP/s1.html" ] && grep -q "^msconv: $TMP/one.memscope: --snapshot 5" "$TMP/e3" \
    && pass "html-snapshot: bad --snapshot: error, no file" || fail "html-snapshot: bad --snapshot: error, no file" "rc=$rc $(cat "$TMP/e3")"
"$MSCONV" "$TMP/series.memscope" --snapshot 0 --html="$TMP/s0.html" 2> "$TMP/e4"
check "html-snapshot: --snapshot 0 --html=OUT" 0 $?
grep -q '"position":0,"count":3' "$TMP/s0.html" && pass "html-snapshot: --snapshot picks the snapshot shown" \
    || fail "html-snapshot: --snapshot picks the snapshot shown" "$(grep -o '"position":[0-9]*,"count":[0-9]*' "$TMP/s0.html")"
ls "$TMP"/*.tmp* >/dev/null 2>&1 && fail "html-snapshot: no temporary files left" "$(ls "$TMP"/*.tmp*)" \
    || pass "html-snapshot: no temporary files left"
