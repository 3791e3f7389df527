#!/bin/sh
# HTML dashboard tests in headless Chromium (tests/html/cdp.py):
#  1. a synthetic trace with known numbers and hostile strings
#     (tests/html/mkxss.c): every panel's numbers, interactions (sort,
#     filter, flame zoom/metric/search/inverted, timeline click, language
#     switch), trace strings rendered as text and never run;
#  2. a real program recorded with msrec (tests/progs/leaks): the page's
#     numbers equal `msconv --json`'s summary and the program's truth;
#  3. no console errors and no network request on both pages;
#  4. tests/progs/dashphases (known ms_mark phases and ms_label blocks): time
#     ranges (URL hash, phase menu, timeline brush, heap at a moment) give the program's exact
#     bytes per phase in every panel; call trees, callers, variables,
#     thread cards, memory layout and diagnostics show its real values;
#  5. tests/progs/threads (millions of allocations a second): the rate
#     chart's axis labels fit.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
HERE="$MS_ROOT/tests/html"

if ! command -v chromium >/dev/null 2>&1; then fail html "chromium not installed (make deps)"; exit 1; fi

# 1. synthetic trace
# (MS_BUILD may be the ASan+UBSan build: link the sanitizers then)
mkxss_cc() { cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$MS_ROOT/format" "$MS_ROOT/tests/html/mkxss.c" \
    "$MS_BUILD/lib/libmsformat.a" -lzstd -lxxhash -o "$TMP/mkxss" "$@" 2>/dev/null; }
if ! mkxss_cc && ! mkxss_cc -fsanitize=address,undefined; then
    fail html/mkxss "cannot build tests/html/mkxss.c"; exit 1
fi
"$TMP/mkxss" "$TMP/x.memscope" || { fail html/mkxss "mkxss failed"; exit 1; }
check_cmd "html: msconv --html (synthetic)" "$MSCONV" "$TMP/x.memscope" --html "$TMP/x.html"
grep -q '<\\/script><script>window.__xss=3<\\/script>' "$TMP/x.html" && pass "html: </script> escaped in the data" \
    || fail "html: </script> escaped in the data" "escaped thread name not found"
n=$(grep -c '</script>' "$TMP/x.html")
check "html: only the page's own </script> tags" 2 "$n"
python3 "$HERE/cdp.py" "file://$TMP/x.html" "$HERE/checks_xss.js" "html/synthetic"

# --lang en sets the default language of the page
"$MSCONV" "$TMP/x.memscope" --html "$TMP/x-en.html" --lang en
printf '## English by default\nvar h = document.querySelector("#overview h2").textContent;\nreturn h === "Overview" || h;\n' > "$TMP/en.js"
python3 "$HERE/cdp.py" "file://$TMP/x-en.html" "$TMP/en.js" "html/lang-en"

# generic panels (cards, tables: what snapshot reports use) straight from
# the template, with hostile strings
python3 - "$MS_ROOT/templates/report.html" "$TMP/g.html" <<'PY'
import json, sys
data = {"kind": "snapshot", "lang": "zh", "title": {"zh": "快照", "en": "Snapshot"},
        "meta": {"file": "s.memscope"},
        "cards": [{"id": "procs", "label": {"zh": "进程数", "en": "Processes"}, "value": "3", "raw": 3}],
        "tables": [{"id": "procs", "title": {"zh": "进程", "en": "Processes"},
                    "columns": [{"key": "cmd", "label": {"zh": "命令", "en": "Command"}, "type": "text"},
                                {"key": "rss", "label": "RSS", "type": "bytes"}],
                    "rows": [{"cmd": "</script><script>window.__xss=9</script>", "rss": 2048},
                             {"cmd": "b", "rss": 4096}, {"cmd": "a", "rss": 1024}]}]}
blob = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
page = open(sys.argv[1], encoding="utf-8").read().replace("@@MEMSCOPE_TITLE@@", "t").replace("@@MEMSCOPE_DATA@@", blob)
open(sys.argv[2], "w", encoding="utf-8").write(page)
PY
cat > "$TMP/g.js" <<'JS'
## generic card
var c = document.getElementById("card-procs");
return (c && c.getAttribute("data-v") === "3" && c.querySelector(".k").textContent === "进程数") || "card";
## generic table sorts by bytes
var t = document.getElementById("procs-t"), th = t.querySelectorAll("th")[1];
th.click();
var v = Array.prototype.map.call(t.querySelectorAll("tbody td.n"), function (c) { return c.getAttribute("data-v"); });
return v.join(",") === "4096,2048,1024" || v.join(",");
## hostile command shown as text
var cells = Array.prototype.map.call(document.querySelectorAll("#procs-t td"), function (c) { return c.textContent; });
return (cells.indexOf("</script><script>window.__xss=9</script>") >= 0 && window.__xss === undefined) || cells.join("|");
## language switch relabels
document.getElementById("lang-en").click();
return document.querySelector("#procs h2").textContent === "Processes" || document.querySelector("#procs h2").textContent;
JS
python3 "$HERE/cdp.py" "file://$TMP/g.html" "$TMP/g.js" "html/generic"

# 2. a real recorded program
if [ -x "$MS_BUILD/progs/leaks" ] && "$MSREC" run -o "$TMP/leaks.memscope" -- "$MS_BUILD/progs/leaks" > "$TMP/leaks.out" 2>&1 \
        || [ -s "$TMP/leaks.memscope" ]; then
    "$MSCONV" "$TMP/leaks.memscope" --json -o "$TMP/leaks.json"
    check_cmd "html: msconv --html (recorded leaks)" "$MSCONV" "$TMP/leaks.memscope" --html "$TMP/leaks.html"
    python3 - "$TMP/leaks.json" > "$TMP/leaks.js" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
def card(name, card_id, value):
    print("## card %s equals the JSON summary (%d)" % (name, value))
    print('var c = document.getElementById("card-%s");' % card_id)
    print('return (c && c.getAttribute("data-v") === "%d") || (c ? c.getAttribute("data-v") : "missing");' % value)
card("allocations", "allocations", s["total_allocations"])
card("allocated", "allocated", s["total_allocated_bytes"])
card("peak", "peak", s["peak_memory"])
card("leaked", "leaked", s["leaked_memory"])
card("temporary", "temporary", s["temporary_allocations"])
card("threads", "threads", s["threads"])
print("## truth of tests/progs/leaks: peak 6000, leaked 6000 in 3 blocks, 13 allocations")
print('return (document.getElementById("card-peak").getAttribute("data-v") === "6000" && '
      'document.getElementById("card-leaked").getAttribute("data-v") === "6000" && '
      'document.getElementById("card-allocations").getAttribute("data-v") === "13") || "mismatch";')
print("## three leaks with stacks through leak_three and main")
print('var l = document.querySelectorAll("#leaks .leak");')
print('if (l.length !== 3) return l.length;')
print('var st = l[0].querySelectorAll(".stack li");')
print('return (l[0].querySelector(".h").getAttribute("data-v") === "3000" && st[0].textContent.indexOf("leak_three") === 0 && '
      'st[1].textContent.indexOf("main") === 0) || l[0].textContent;')
print("## leak classes per site")
print('var n = document.querySelectorAll("#leaks .leak .leak-class").length;')
print('return n === 3 || n;')
print("## labeled variable shown")
print('var cells = Array.prototype.map.call(document.querySelectorAll("#sites-table td"), function (c) { return c.textContent; });')
print('return cells.indexOf("cache : struct cache") >= 0 || cells.join("|");')
print("## marks on the timeline")
print('var ts = Array.prototype.map.call(document.querySelectorAll("#timeline-svg .mark text"), function (c) { return c.textContent; });')
print('return ts.join(",") === "churn,leak" || ts.join(",");')
print("## diagnostics: the definitely lost 3000-byte block of leak_three comes first, severe")
print('var d = document.querySelector("#diag .diag");')
print('return (d && d.getAttribute("data-kind") === "leak" && d.className.indexOf("sev2") >= 0 && d.textContent.indexOf("leak_three") > 0 && d.textContent.indexOf("2.9 KiB") > 0 && d.textContent.indexOf("确定泄漏") > 0) || (d && d.textContent);')
print("## overview in Chinese: mode and integrity in words, no English left")
print('var m = document.getElementById("meta-mode").textContent, i = document.getElementById("meta-integrity").textContent;')
print('return (m === "完整记录" && i === "完整") || m + " / " + i;')
print("## lifetimes of 100 s and more in Chinese units (the histogram's last bucket)")
print('var lb = Array.prototype.map.call(document.querySelectorAll("#hist text, #hist .lbl, #hist td, #hist div"), function (c) { return c.textContent; }).join("|");')
print('return (lb.indexOf("≥ 1 分 40 秒") >= 0 && lb.indexOf(" min ") < 0) || lb.slice(0, 300);')
print("## flame graph click zooms")
print('var gs = document.querySelectorAll("#flame-svg g.fr"), g = null;')
print('for (var i = 0; i < gs.length; i++) if (gs[i].querySelector("title").textContent.indexOf("leak_three ") === 0) g = gs[i];')
print('if (!g) return "no leak_three frame";')
print('var node = g.getAttribute("data-node");')
print('g.dispatchEvent(new MouseEvent("click", { bubbles: true }));')
print('return document.getElementById("flame-svg").getAttribute("data-zoom") === node || "not zoomed";')
PY
    python3 "$HERE/cdp.py" "file://$TMP/leaks.html" "$TMP/leaks.js" "html/recorded"
else
    fail "html: record tests/progs/leaks" "msrec run failed: $(tail -1 "$TMP/leaks.out" 2>/dev/null)"
fi
# 4. time ranges, trees, variables, threads, layout and diagnostics on a
# program with known phases (tests/progs/dashphases: its TRUTH line gives the
# bytes allocated in each phase and still live at its end)
if [ -x "$MS_BUILD/progs/dashphases" ] && "$MSREC" run -o "$TMP/ph.memscope" -- "$MS_BUILD/progs/dashphases" > "$TMP/ph.out" 2>&1; then
    check_cmd "html: msconv --html (phases)" "$MSCONV" "$TMP/ph.memscope" --html "$TMP/ph.html"
    python3 - "$TMP/ph.out" > "$TMP/ph.js" <<'PY'
import re, sys
truth = dict((k, v.split("/")) for k, v in re.findall(r"(\S+)=(\d+/\d+)", open(sys.argv[1]).read().split("TRUTH phases", 1)[1].splitlines()[0]))
def cards(alloc, live):
    print('var a = document.getElementById("card-range-allocated"), l = document.getElementById("card-range-live");')
    print('return (a && l && a.getAttribute("data-v") === "%s" && l.getAttribute("data-v") === "%s") || (a ? a.getAttribute("data-v") + "/" + l.getAttribute("data-v") : "no range cards");' % (alloc, live))
print("## the range line in Chinese: full-width colon and parentheses, seconds as 秒")
print('var l = document.getElementById("range-label").textContent;')
print('return /^时间范围：\\d+\\.\\d{3} 秒 – \\d+\\.\\d{3} 秒（load）$/.test(l) || l;')
print("## #phase=load: allocated in the phase and live at its end = the program's truth %s" % "/".join(truth["load"]))
cards(*truth["load"])
# (the worker frees one of its 3 x 4096 B blocks inside load, and the
# runtime may allocate and free a little: a bin end that falls before those
# frees sees up to that much more, depending on timing)
print("## highest heap in the load range: at least the heap at its end, at most 4096 B + 1 KiB above it")
print('var h = document.getElementById("card-range-high"), e = document.getElementById("card-range-heap");')
print('var hv = h ? +h.getAttribute("data-v") : -1, ev = e ? +e.getAttribute("data-v") : -1;')
print('return (ev > 0 && hv >= ev && hv <= ev + 4096 + 1024) || (hv + " vs heap at end " + ev);')
print("## flame graph follows the range: root = live at the range's end")
print('var g = document.querySelector("#flame-svg g.fr title");')
print('return (g && g.textContent.indexOf("(%s ") > 0) || (g && g.textContent);' % "{:,}".format(int(truth["load"][1])))
print("## sites table follows the range: g_table's 72 bytes, 1 allocation")
print('var tr = Array.prototype.filter.call(document.querySelectorAll("#sites-table tbody tr"), function (r) { return r.textContent.indexOf("g_table") >= 0; })[0];')
print('if (!tr) return "no g_table row";')
print('var v = Array.prototype.map.call(tr.querySelectorAll("td.n"), function (c) { return c.getAttribute("data-v"); });')
print('return v.join(",") === "72,72,72,1,0" || v.join(",");')
print("## threads follow the range: the worker allocated 3 x 4096, keeps 8192")
print('var rows = Array.prototype.map.call(document.querySelectorAll("#threads-table tbody tr"), function (r) { return Array.prototype.map.call(r.querySelectorAll("td.n"), function (c) { return c.getAttribute("data-v"); }).slice(1).join(","); });')
print('return rows.indexOf("12288,3,0,8192") >= 0 || rows.join(" | ");')
print("## leaks follow the range (allocated in it, never freed)")
print('var l = document.getElementById("leaks-total");')
print('return (l && l.getAttribute("data-v") === "%d") || (l && l.getAttribute("data-v"));' % (10000 + 72 + 8192))
for ph in ("warmup", "drain"):
    print("## phase %s picked from the menu: %s" % (ph, "/".join(truth[ph])))
    print('var sel = document.getElementById("phase-select"), o = Array.prototype.filter.call(sel.options, function (x) { return x.textContent.indexOf("%s") >= 0; })[0];' % ph)
    print('sel.value = o.value; sel.dispatchEvent(new Event("change"));')
    cards(*truth[ph])
print("## temporaries in the warmup range: 100")
print('window.memscopePhase("warmup"); var c = document.getElementById("card-range-temporary");')
print('return c.getAttribute("data-v") === "100" || c.getAttribute("data-v");')
print("## brushing the timeline from the warmup pause to the load pause selects the load phase")
print('var ms = Array.prototype.map.call(document.querySelectorAll("#timeline-svg .mark line"), function (x) { return +x.getAttribute("x1"); });')
print('var svg = document.getElementById("timeline-svg"), r = svg.getBoundingClientRect();')
print('function ev(type, x) { svg.dispatchEvent(new MouseEvent(type, {clientX: r.left + x * r.width / 1000, clientY: r.top + 100, bubbles: true})); }')
print('var x0 = (ms[0] + ms[1]) / 2, x1 = (ms[1] + ms[2]) / 2;')
print('ev("mousedown", x0); ev("mousemove", x1); ev("mouseup", x1);')
cards(*truth["load"])
print("## range clear restores the whole trace")
print('document.getElementById("range-clear").click();')
print('return document.getElementById("card-range-allocated") === null && document.getElementById("phase-select").value === "" || "still a range";')
print("## brushing from the setup pause to the load pause spans two phases: %s" % "/".join(truth["warmup+load"]))
print('var ms = Array.prototype.map.call(document.querySelectorAll("#timeline-svg .mark line"), function (x) { return +x.getAttribute("x1"); });')
print('var svg = document.getElementById("timeline-svg"), r = svg.getBoundingClientRect();')
print('function ev(type, x) { svg.dispatchEvent(new MouseEvent(type, {clientX: r.left + x * r.width / 1000, clientY: r.top + 100, bubbles: true})); }')
print('var x0 = (70 + ms[0]) / 2, x1 = (ms[1] + ms[2]) / 2;')
print('ev("mousedown", x0); ev("mousemove", x1); ev("mouseup", x1);')
cards(*truth["warmup+load"])
print("## back to the whole trace")
print('var sel = document.getElementById("phase-select"); sel.value = ""; sel.dispatchEvent(new Event("change"));')
print('return document.getElementById("card-range-allocated") === null || "still a range";')
print("## heap at a moment (a click, then 'show the heap at this moment'): sites' cells = the global live curve")
print('var ms = Array.prototype.map.call(document.querySelectorAll("#timeline-svg .mark line"), function (x) { return +x.getAttribute("x1"); });')
print('var svg = document.getElementById("timeline-svg"), r = svg.getBoundingClientRect(), x = (ms[1] + ms[2]) / 2;')
print('svg.dispatchEvent(new MouseEvent("click", {clientX: r.left + x * r.width / 1000, clientY: r.top + 100, bubbles: true}));')
print('document.getElementById("moment-heap").click();')
print('var l = +document.getElementById("card-range-live").getAttribute("data-v"), h = +document.getElementById("card-range-heap").getAttribute("data-v");')
print('var ok = l === h && l >= %s && document.getElementById("phase-select").value === "custom";' % truth["warmup+load"][1])
print('document.getElementById("range-clear").click();')
print('return ok || [l, h].join(",");')
print("## inspector: grow()'s live memory over time peaks at its 3 x 10000 bytes")
print('var tr = Array.prototype.filter.call(document.querySelectorAll("#sites-table tbody tr"), function (r) { return r.textContent.indexOf("grow ") === 0; })[0];')
print('tr.click(); var n = document.getElementById("insp-live-note");')
print('return (n && n.getAttribute("data-peak") === "30000" && document.getElementById("insp-live-svg") !== null) || (n && n.getAttribute("data-peak"));')
print("## variables: one card per labelled block, with its exact size (not one per block of its site)")
print('var c = document.querySelectorAll("#vars-cards .card.var");')
print('var got = Array.prototype.map.call(c, function (x) { return x.getAttribute("data-var") + "=" + x.getAttribute("data-size"); }).sort().join(",");')
print('return got === "g_table=72,item7=256,wbuf=4096,wbuf=4096" || got;')
print("## variables by name: wbuf labels 2 blocks of the worker thread, 8192 bytes, both live at exit")
print('var r = Array.prototype.filter.call(document.querySelectorAll("#vars-names tbody tr"), function (x) { return x.firstChild.textContent === "wbuf"; })[0];')
print('if (!r) return "no wbuf row";')
print('var v = Array.prototype.map.call(r.querySelectorAll("td.n"), function (c) { return c.getAttribute("data-v"); }).join(",");')
print('var w = Array.prototype.filter.call(document.querySelectorAll("#vars-cards .card.var"), function (x) { return x.getAttribute("data-var") === "wbuf"; })[0];')
print('w.click(); var tid = document.getElementById("var-tid").textContent, wt = Array.prototype.filter.call(document.querySelectorAll("#thread-cards .card"), function (x) { return x.textContent.indexOf("worker") >= 0; })[0];')
print('return (v === "2,8192,2,8192" && wt && wt.id === "thread-" + tid) || v + " tid " + tid;')
print("## variable inspector: g_table lives to the exit, item7 was freed")
print('var c = Array.prototype.filter.call(document.querySelectorAll("#vars-cards .card.var"), function (x) { return x.getAttribute("data-var") === "g_table"; })[0];')
print('c.click(); var l1 = document.getElementById("var-life").textContent, s1 = document.getElementById("var-size").textContent;')
print('c = Array.prototype.filter.call(document.querySelectorAll("#vars-cards .card.var"), function (x) { return x.getAttribute("data-var") === "item7"; })[0];')
print('c.click(); var l2 = document.getElementById("var-life").textContent, st = document.querySelectorAll("#var-inspector .stack li")[0].textContent;')
print('return (l1 === "直到结束仍存活" && s1.indexOf("72 ") >= 0 && /ms|µs|s/.test(l2) && l2 !== l1 && st.indexOf("items") === 0 && document.getElementById("var-life-svg") !== null) || [l1, s1, l2, st].join(" | ");')
print("## sites table: the item7 label is on 1 of the 50 blocks of its site")
print('var cells = Array.prototype.map.call(document.querySelectorAll("#sites-table td"), function (c) { return c.textContent; });')
print('return cells.indexOf("item7 : struct item (1/50 个块)") >= 0 || cells.filter(function (c) { return c.indexOf("item7") >= 0; }).join("|");')
print("## diagnostics: grow() grows at every phase end (0 -> 10000 -> 20000 -> 30000)")
print('var d = document.querySelector("#diag .diag[data-kind=growth]");')
print('return (d && d.textContent.indexOf("grow ") >= 0 && d.textContent.indexOf("0 B → 9.8 KiB → 19.5 KiB → 29.3 KiB") >= 0) || (d ? d.textContent : "no growth finding");')
print("## diagnostics: tmp() is the temporary hot spot (100 of 100), RSS gap explained")
print('var d = document.querySelector("#diag .diag[data-kind=temporary]"), g = document.querySelector("#diag .diag[data-kind=rss_gap]");')
print('return (d && d.textContent.indexOf("tmp ") >= 0 && d.textContent.indexOf("100 次分配中有 100 次") >= 0 && g !== null) || (d ? d.textContent : "none");')
print("## top-down tree: the heaviest path is open; bottom-up: grow allocated 30000")
print('var td = document.querySelectorAll("#tree-table tbody tr").length;')
print('var sel = document.getElementById("tree-mode"); sel.value = "bottom"; sel.dispatchEvent(new Event("change"));')
print('var row = Array.prototype.filter.call(document.querySelectorAll("#tree-table tbody tr"), function (r) { return r.getAttribute("data-depth") === "1" && r.querySelector("a").textContent === "grow"; })[0];')
print('if (!row) return "no grow row (" + td + " top-down rows)";')
print('return (td >= 4 && row.querySelectorAll("td.n")[2].getAttribute("data-v") === "30000") || row.textContent;')
print("## callers of grow: main with 30000 allocated")
print('var row = Array.prototype.filter.call(document.querySelectorAll("#tree-table tbody tr"), function (r) { return r.querySelector("a").textContent === "grow"; })[0];')
print('row.querySelector("a").click();')
print('var c = document.querySelectorAll("#callers-table tbody tr");')
print('return (c.length === 1 && c[0].querySelector("a").textContent.indexOf("main") === 0 && c[0].querySelectorAll("td.n")[2].getAttribute("data-v") === "30000") || (c.length + " " + (c[0] && c[0].textContent));')
print("## thread cards: two threads, the worker's top site is worker()")
print('var c = document.querySelectorAll("#thread-cards .card");')
print('var w = Array.prototype.filter.call(c, function (x) { return x.textContent.indexOf("worker") >= 0; })[0];')
print('return (c.length === 2 && w && +w.getAttribute("data-peak") >= 8192 && +w.getAttribute("data-peak") <= 12288) || c.length + " " + (w && w.getAttribute("data-peak"));')
print("## memory layout at exit sized by RSS: heap, stacks, libraries and memscope itself")
print('var k = Array.prototype.map.call(document.querySelectorAll("#maps-legend .lg"), function (x) { return x.getAttribute("data-kind"); });')
print('var n = document.querySelectorAll("#maps-layout .seg").length;')
print('return (n > 5 && ["heap", "stack", "lib", "self"].every(function (x) { return k.indexOf(x) >= 0; })) || n + " " + k.join(",");')
print("## English relabels the new panels")
print('document.getElementById("lang-en").click();')
print('return [document.querySelector("#trees h2").textContent, document.querySelector("#vars h2").textContent, document.querySelector("#diag h2").textContent].join("|") === "Call trees|Variables|Diagnostics" || document.querySelector("#vars h2").textContent;')
PY
    python3 "$HERE/cdp.py" "file://$TMP/ph.html#phase=load" "$TMP/ph.js" "html/phases"
else
    fail "html: record tests/progs/dashphases" "msrec run failed: $(tail -1 "$TMP/ph.out" 2>/dev/null)"
fi

# 5. a burst of millions of allocations per second (tests/progs/threads:
# 80,000 events in a few ms): the rate chart's axis labels are written with
# k/M and stay inside the chart ("10,000,000/s" was cut at its left edge)
if [ -x "$MS_BUILD/progs/threads" ] && "$MSREC" run -q -o "$TMP/th.memscope" -- "$MS_BUILD/progs/threads" > "$TMP/th.out" 2>&1 &&
   "$MSCONV" "$TMP/th.memscope" --html "$TMP/th.html" 2> "$TMP/th.err"; then
    cat > "$TMP/th.js" <<'JS'
## rate chart: compact axis labels that stay inside the chart
var ts = document.querySelectorAll("#rate-svg text"), out = Array.prototype.filter.call(ts, function (x) { return x.getBBox().x < 0; });
var lb = Array.prototype.map.call(ts, function (x) { return x.textContent; });
return (ts.length === 3 && out.length === 0 && lb[0] === "0/s" && / [kM]\/s$/.test(lb[2]) && lb.every(function (x) { return /^([0-9]{1,3}(,[0-9]{3})?|[0-9.]+ [kMG])\/s$/.test(x); })) || (ts.length + " " + out.length + " " + lb.join("|"));
JS
    python3 "$HERE/cdp.py" "file://$TMP/th.html" "$TMP/th.js" "html/rates"
else
    fail "html: record tests/progs/threads" "$(tail -1 "$TMP/th.out" "$TMP/th.err" 2>/dev/null)"
fi
rm -rf "$TMP"
