// Checks of the dashboard of tests/html/mkxss.c's trace (see its truth),
// run in page context by cdp.py: "## name" then a function body returning
// true or a failure reason. Order matters (later checks click).
## rendered
return document.body.getAttribute("data-rendered") === "1" || "not rendered";
## no script from the trace ran
return window.__xss === undefined || "window.__xss = " + window.__xss;
## no element injected from the trace
return document.querySelectorAll("img, b, main script").length === 0 || "found injected elements";
## Chinese by default
var h = document.querySelector("#overview h2").textContent;
return h === "概览" || h;
## exe shown as text
var t = document.getElementById("meta-exe").textContent;
return t === "/opt/</script><script>window.__xss=1</script>/prog" || t;
## thread name shown as text
var cells = Array.prototype.map.call(document.querySelectorAll("#threads-table td"), function (c) { return c.textContent; });
return cells.indexOf("</script><script>window.__xss=3</script>") >= 0 || cells.join("|");
## thread name with quotes
var cells = Array.prototype.map.call(document.querySelectorAll("#threads-table td"), function (c) { return c.textContent; });
return cells.indexOf("worker \"q\" & <b>") >= 0 || cells.join("|");
## mark name shown as text on the timeline
var ts = Array.prototype.map.call(document.querySelectorAll("#timeline-svg .mark text"), function (c) { return c.textContent; });
return ts.join("|") === "</script><script>window.__xss=4</script>|phase two" || ts.join("|");
## card allocations
return document.getElementById("card-allocations").getAttribute("data-v") === "4" || document.getElementById("card-allocations").textContent;
## card allocated
return document.getElementById("card-allocated").getAttribute("data-v") === "1864";
## card peak
var c = document.getElementById("card-peak");
return (c.getAttribute("data-v") === "1500" && c.querySelector(".v").textContent === "1.5 KiB" && c.textContent.indexOf("0.020 s") >= 0) || c.textContent;
## card leaked
var c = document.getElementById("card-leaked");
return (c.getAttribute("data-v") === "1300" && c.textContent.indexOf("2 个块") >= 0) || c.textContent;
## card temporary
return document.getElementById("card-temporary").getAttribute("data-v") === "2";
## card threads
return document.getElementById("card-threads").getAttribute("data-v") === "2";
## card duration
return document.getElementById("card-duration").getAttribute("data-v") === "100000000";
## card peak RSS
return document.getElementById("card-peak-rss").getAttribute("data-v") === String(6 << 20);
## card heap vs RSS gap
return document.getElementById("card-gap").getAttribute("data-v") === String((1 << 20) - 1300);
## sites table rows
var n = document.querySelectorAll("#sites-table tbody tr").length;
return n === 3 || n;
## sites table function name as text
var f = document.querySelector("#sites-table tbody tr td").textContent;
return f === "<img src=x onerror=window.__xss=2> script>.c:7 \u2190 main x.c:5" || f;
## sites table sort by leaked
var th = document.querySelector('#sites-table th[data-key="leaked"]');
th.click();
var v = Array.prototype.map.call(document.querySelectorAll("#sites-table tbody tr td:nth-child(4)"), function (c) { return c.getAttribute("data-v"); });
if (v.join(",") !== "1000,300,0") return "desc: " + v.join(",");
th.click();
v = Array.prototype.map.call(document.querySelectorAll("#sites-table tbody tr td:nth-child(4)"), function (c) { return c.getAttribute("data-v"); });
return v.join(",") === "0,300,1000" || "asc: " + v.join(",");
## sites table filter
var f = document.getElementById("sites-filter");
f.value = "leafy";
f.dispatchEvent(new Event("input"));
var n = document.querySelectorAll("#sites-table tbody tr").length;
f.value = "";
f.dispatchEvent(new Event("input"));
return n === 1 || n;
## leaks listed with stacks
var l = document.querySelectorAll("#leaks .leak");
if (l.length !== 2) return l.length;
var st = l[0].querySelectorAll(".stack li");
return (l[0].querySelector(".h").getAttribute("data-v") === "1000" && st.length === 2 &&
  st[0].textContent === "<img src=x onerror=window.__xss=2>  </script>.c:7" &&
  l[1].querySelector(".h").getAttribute("data-v") === "300") || l[0].textContent;
## leaks total
return document.getElementById("leaks-total").getAttribute("data-v") === "1300";
## inspector from a leak
document.querySelectorAll("#leaks .leak a")[1].click();
var t = document.getElementById("inspector-title").textContent;
return (t.indexOf("work x.c:9 \u2190 main x.c:5") >= 0 && document.getElementById("insp-allocated").textContent === "300 B" &&
  !document.getElementById("insp-life")) || t;
## inspector lifetime of a freed site
var rows = document.querySelectorAll("#sites-table tbody tr"), r = null;
for (var i = 0; i < rows.length; i++) if (rows[i].querySelector("td").textContent.indexOf("leafy ") === 0) r = rows[i];
r.click();
var l = document.getElementById("insp-life").textContent, mn = document.getElementById("insp-min").textContent;
return (l === "5.5 ms (最长 10.0 ms)" && mn === "64 B") || l + " " + mn;
## flame graph root tooltip
var t = document.querySelector('#flame-svg g.fr[data-node="0"] title').textContent;
return t === "全部 (1,500 字节, 100.00%)" || t;
## flame graph frames
var n = document.querySelectorAll("#flame-svg g.fr").length;
return n === 6 || n;
## flame graph click zooms
var g = document.querySelector('#flame-svg g.fr[data-node="5"]');
g.dispatchEvent(new MouseEvent("click", { bubbles: true }));
var svg = document.getElementById("flame-svg");
if (svg.getAttribute("data-zoom") !== "5") return "zoom " + svg.getAttribute("data-zoom");
var w = +document.querySelector('#flame-svg g.fr[data-node="5"] rect').getAttribute("width");
var anc = document.querySelectorAll("#flame-svg g.anc").length;
return (w > 1190 && anc === 4 && !document.querySelector('#flame-svg g.fr[data-node="2"]')) || ("width " + w + " anc " + anc);
## flame graph reset
document.getElementById("flame-reset").click();
return document.getElementById("flame-svg").getAttribute("data-zoom") === "0";
## flame graph metric switch
var s = document.getElementById("flame-metric");
s.value = "allocated";
s.dispatchEvent(new Event("change"));
var t = document.querySelector('#flame-svg g.fr[data-node="0"] title').textContent;
return t === "全部 (1,864 字节, 100.00%)" || t;
## flame graph search
var f = document.getElementById("flame-search");
f.value = "work";
f.dispatchEvent(new Event("input"));
var m = document.getElementById("flame-matched").textContent;
f.value = "";
f.dispatchEvent(new Event("input"));
return m === "匹配: 46.4%" || m;
## flame graph inverted
var c = document.getElementById("flame-inverted");
c.checked = true;
c.dispatchEvent(new Event("change"));
var names = Array.prototype.map.call(document.querySelectorAll("#flame-svg g.fr"), function (g) { return g.querySelector("title").textContent; });
c.checked = false;
c.dispatchEvent(new Event("change"));
return names.indexOf("leafy (564 字节, 30.26%)") >= 0 && names.indexOf("<img src=x onerror=window.__xss=2> (1,000 字节, 53.65%)") >= 0 || names.join("|");
## timeline click shows a moment
var svg = document.getElementById("timeline-svg"), r = svg.getBoundingClientRect();
svg.dispatchEvent(new MouseEvent("click", { clientX: r.left + r.width * (70 + 0.25 * 920) / 1000, clientY: r.top + 50, bubbles: true }));
var live = document.getElementById("moment-live"), mark = document.getElementById("moment-mark");
return (live && live.textContent === "1.5 KiB" && mark && mark.textContent === "</script><script>window.__xss=4</script>") || (live && live.textContent) + " / " + (mark && mark.textContent);
## timeline click lists the sites live then
var v = Array.prototype.map.call(document.querySelectorAll("#moment-sites li"), function (c) { return c.getAttribute("data-v"); });
var n = document.querySelector("#moment-sites li a").textContent;
return (v.join(",") === "1000,500" && n === "<img src=x onerror=window.__xss=2> script>.c:7 \u2190 main x.c:5") || v.join(",") + " " + n;
## size histogram
var v = Array.prototype.map.call(document.querySelectorAll("#hist-size .val"), function (c) { return c.getAttribute("data-v"); });
return v.join(",") === "1,2,1" || v.join(",");
## lifetime histogram leaked bucket
var v = Array.prototype.map.call(document.querySelectorAll("#hist-life .val"), function (c) { return c.getAttribute("data-v"); });
return v[v.length - 1] === "2" || v.join(",");
## maps by permission
var n = document.querySelectorAll("#maps-perm tbody tr").length;
return n === 2 || n;
## maps file name as text
var cells = Array.prototype.map.call(document.querySelectorAll("#maps-file td"), function (c) { return c.textContent; });
return cells.indexOf("/lib/</script><script>window.__xss=5</script>.so") >= 0 || cells.join("|");
## switch to English
document.getElementById("lang-en").click();
var h = document.querySelector("#overview h2").textContent, k = document.querySelector("#card-peak .k").textContent;
return (h === "Overview" && k === "Peak heap") || h + " " + k;
## English flame tooltip
var t = document.querySelector('#flame-svg g.fr[data-node="0"] title').textContent;
return t === "all (1,864 bytes, 100.00%)" || t;
## still no script ran
return window.__xss === undefined || "window.__xss = " + window.__xss;
