#!/bin/sh
# HTML dashboard tests in headless Chromium (tests/html/cdp.py):
#  1. a synthetic trace with known numbers and hostile strings
#     (tests/html/mkxss.c): every panel's numbers, interactions (sort,
#     filter, flame zoom/metric/search/inverted, timeline click, language
#     switch), trace strings rendered as text and never run;
#  2. a real program recorded with msrec (tests/progs/leaks): the page's
#     numbers equal `msconv --json`'s summary and the program's truth;
#  3. no console errors and no network request on both pages.
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
rm -rf "$TMP"
