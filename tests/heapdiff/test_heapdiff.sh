#!/bin/sh
# msdiff on two heap traces: one test program (hdprog.c) built twice,
# "before" (-DV=1) and "after" (-DV=2), recorded with msrec run. Known
# truth (see hdprog.c): grow_site +1 MiB at the peak, leak_site 2 more
# leaked blocks (+8192 B), new_site (200000 B) only after, old_site
# (300000 B) only before, steady_site unchanged. Checks the exact numbers
# in the JSON, the section contents of the Markdown in Chinese and
# English, threshold folding (heap default: every changed site), default output paths, Markdown escaping of a
# hostile source file name, and the one-line errors for bad inputs.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
D=$(cd "$(dirname "$0")" && pwd)
cd "$TMP" || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM

# the source under a hostile name: | < > ` end up in file names of frames
SRC='hd|prog<x>`.c'
cp "$D/hdprog.c" "$SRC"
for v in 1 2; do
    cc -std=c11 -g -O0 -fno-omit-frame-pointer -Wall -Wextra -Werror -DV=$v -o prog$v "$SRC" \
        || { fail build_prog$v "cc failed"; exit 1; }
done
mkdir before after
"$MSREC" run -o before/before.memscope -- ./prog1 2>rec1.err || { fail record_before "$(cat rec1.err)"; exit 1; }
"$MSREC" run -o after/after.memscope -- ./prog2 2>rec2.err || { fail record_after "$(cat rec2.err)"; exit 1; }
pass record_both

A=before/before.memscope; B=after/after.memscope
# diff_report.json (version 2) names each site's stack by a node of its
# "stacks" table; hdload() expands it into the frame list, innermost first
export HDLOAD='import json
def hdload(p):
    d = json.load(open(p))
    for s in d["sites"]:
        n, fr = s["stack"], []
        while n is not None and n >= 0:
            n, f = d["stacks"][n]
            fr.append(d["frames"][f])
        s["stack"] = fr
    return d'
"$MSDIFF" "$A" "$B" --json d.json --md d.md --threshold 0 2>diff.err
check diff_exit 0 $?
python3 - d.json <<'PYEOF'
import json, sys
import os; exec(os.environ["HDLOAD"])
d = hdload(sys.argv[1])
def ok(name, cond, got):
    print(("PASS: %s" % name) if cond else ("FAIL: %s: got %s" % (name, got)))
def site(fn):
    r = [s for s in d["sites"] if s["stack"] and s["stack"][0].get("function") == fn]
    return r[0] if len(r) == 1 else None
KiB, MiB = 1024, 1024 * 1024
ok("json_format", d["format"] == "memscope-heap-diff", d["format"])
s = d["summary"]
ok("json_summary_counts", (s["sites_new"], s["sites_vanished"], s["sites_grew"], s["sites_shrank"], s["sites_unchanged"]) == (1, 1, 2, 0, 1), s)
net = 4 * 256 * KiB + 200000 - 300000 + 2 * 4096
ok("json_summary_peak_delta", s["peak_delta"] == net, s["peak_delta"])
ok("json_summary_leaked_delta", s["leaked_delta"] == 8192, s["leaked_delta"])
t = d["totals"]
pa = 4 * 256 * KiB + 10 * 1000 + 300000 + 4096
ok("json_totals_peak", (t["peak_memory"]["before"], t["peak_memory"]["after"], t["peak_memory"]["delta"]) == (pa, pa + net, net), t["peak_memory"])
ok("json_totals_peak_percent", abs(t["peak_memory"]["percent"] - net * 100.0 / pa) < 1e-9, t["peak_memory"]["percent"])
ok("json_totals_leaked", (t["leaked_memory"]["before"], t["leaked_memory"]["after"]) == (4096, 12288) and (t["leaked_allocations"]["before"], t["leaked_allocations"]["after"]) == (1, 3), t["leaked_memory"])
ok("json_totals_allocations", (t["allocations"]["before"], t["allocations"]["after"]) == (16, 18), t["allocations"])
ok("json_totals_allocated", (t["allocated_bytes"]["before"], t["allocated_bytes"]["after"]) == (pa, pa + net), t["allocated_bytes"])
g = site("grow_site")
ok("json_grow_found", g is not None, [x["stack"][0] for x in d["sites"] if x["stack"]])
if g:
    ok("json_grow_status", g["status"] == "grew", g["status"])
    ok("json_grow_peak", (g["before"]["peak_bytes"], g["after"]["peak_bytes"], g["delta"]["peak_bytes"]) == (MiB, 2 * MiB, MiB), g["delta"])
    ok("json_grow_allocated", g["delta"]["allocated_bytes"] == MiB and g["delta"]["allocations"] == 0 and g["after"]["allocations"] == 4, g["delta"])
    ok("json_grow_first", d["sites"][0] is g or d["sites"][0]["stack"][0]["function"] == "grow_site", d["sites"][0]["stack"][0])
    ok("json_grow_stack", [f["function"] for f in g["stack"][:2]] == ["grow_site", "main"] and g["stack"][0]["file"].endswith("hd|prog<x>`.c") and g["stack"][0]["line"] > 0, g["stack"][:2])
l = site("leak_site")
ok("json_leak_found", l is not None, "")
if l:
    ok("json_leak_numbers", (l["status"], l["before"]["leaked_bytes"], l["after"]["leaked_bytes"], l["delta"]["leaked_bytes"], l["delta"]["leaked_allocations"], l["delta"]["allocations"]) == ("grew", 4096, 12288, 8192, 2, 2), l)
n = site("new_site")
ok("json_new_site", n is not None and n["status"] == "new" and n["before"] is None and n["after"]["peak_bytes"] == 200000 and n["after"]["allocations"] == 1 and n["delta"]["peak_bytes"] == 200000, n)
o = site("old_site")
ok("json_vanished_site", o is not None and o["status"] == "vanished" and o["after"] is None and o["before"]["peak_bytes"] == 300000 and o["delta"]["peak_bytes"] == -300000, o)
st = site("steady_site")
ok("json_unchanged_site", st is not None and st["status"] == "unchanged" and st["before"]["allocations"] == 10 and st["after"]["allocated_bytes"] == 10000 and st["before"]["peak_bytes"] == 10000, st)
order = [x["stack"][0]["function"] for x in d["sites"] if x["stack"]]
ok("json_order_by_impact", order == ["grow_site", "old_site", "new_site", "leak_site", "steady_site"], order)
ok("json_all_shown_threshold_0", d["threshold"] == 0 and all(x["shown"] for x in d["sites"]), d["threshold"])
PYEOF

# Markdown sections (zh): section text between "## X" and the next "## "
sec() { awk -v h="## $2" '$0 == h { on = 1; next } /^## / { on = 0 } on' "$1"; }
has() { # NAME FILE SECTION PATTERN
    if sec "$2" "$3" | grep -qF -- "$4"; then pass "$1"; else fail "$1" "'$4' not in section $3"; fi
}
hasnt() {
    if sec "$2" "$3" | grep -qF -- "$4"; then fail "$1" "'$4' in section $3"; else pass "$1"; fi
}
grep -qF '分配点：新增 1 个，消失 1 个，增长 2 个，减少 0 个；峰值内存净变化 +934.3 KiB（+70.2%），泄漏内存净变化 +8.0 KiB（+200.0%）' d.md \
    && pass md_zh_summary || fail md_zh_summary "$(grep 摘要 d.md)"
has md_zh_overall_peak d.md 总体对比 '| 峰值内存 | 1.3 MiB | 2.2 MiB | +934.3 KiB | +70.2% |'
has md_zh_overall_leak d.md 总体对比 '| 泄漏块数 | 1 | 3 | +2 | +200.0% |'
has md_zh_grew_grow d.md 增长最多的分配点 '| 1 | +1.0 MiB | 0 B | +1.0 MiB | 0 | grow\_site ('
has md_zh_grew_leak d.md 增长最多的分配点 '| 2 | +8.0 KiB | +8.0 KiB | +8.0 KiB | +2 | leak\_site ('
hasnt md_zh_grew_no_new d.md 增长最多的分配点 'new\_site'
has md_zh_shrank_none d.md 减少最多的分配点 '无。'
has md_zh_new d.md 新增分配点 '| 1 | 195.3 KiB | 0 B | 195.3 KiB | 1 | new\_site ('
has md_zh_vanished d.md 消失的分配点 '| 1 | 293.0 KiB | 0 B | 293.0 KiB | 1 | old\_site ('
has md_zh_stack_main d.md 增长最多的分配点 ' ← main ('
has md_zh_escaped_file d.md 增长最多的分配点 'hd\|prog&lt;x&gt;\`.c:'
if grep -qF 'hd|prog' d.md; then fail md_zh_no_raw_file "unescaped file name"; else pass md_zh_no_raw_file; fi
grep -qF '1 个匹配的分配点没有变化。' d.md && pass md_zh_unchanged || fail md_zh_unchanged "no unchanged line"
# every table row of a section has the same number of cells as its header
awk -F'|' '{ gsub(/\\\|/, "") } /^\|/ { if (!n) n = NF; else if (NF != n) bad = 1 } !/^\|/ { n = 0 } END { exit bad }' d.md \
    && pass md_tables_well_formed || fail md_tables_well_formed "ragged table"

# directories in, defaults out (B's directory), English
"$MSDIFF" before after --lang en --threshold 0 2>en.err
check diff_dirs_exit 0 $?
[ -s after/diff_report_en.md ] && pass default_md_en_in_b_dir || fail default_md_en_in_b_dir "$(ls after)"
[ -s after/diff_report.json ] && pass default_json_in_b_dir || fail default_json_in_b_dir "$(ls after)"
E=after/diff_report_en.md
grep -qF 'Sites: 1 new, 1 vanished, 2 grew, 0 shrank; net change in peak memory +934.3 KiB (+70.2%), in leaked memory +8.0 KiB (+200.0%).' $E \
    && pass md_en_summary || fail md_en_summary "$(sed -n 3p $E)"
has md_en_overall $E 'Overall comparison' '| Peak memory | 1.3 MiB | 2.2 MiB | +934.3 KiB | +70.2% |'
has md_en_grew $E 'Sites that grew most' 'grow\_site ('
has md_en_new $E 'New sites' 'new\_site ('
has md_en_vanished $E 'Vanished sites' 'old\_site ('
has md_en_shrank_none $E 'Sites that shrank most' 'None.'
python3 -c '
import re, sys
t = open(sys.argv[1], encoding="utf-8").read()
m = re.findall(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]+", t)
print("FAIL: md_en_no_chinese: %s" % m[:3] if m else "PASS: md_en_no_chinese")' $E
python3 -c '
import json,sys
a=json.load(open("d.json")); b=json.load(open("after/diff_report.json"))
for x in (a,b):
    x.pop("before"); x.pop("after")
print("PASS: json_same_for_dirs" if a==b else "FAIL: json_same_for_dirs: differs")'

# --threshold 1M: leak, new and vanished sites fold into one line
"$MSDIFF" "$A" "$B" --md dt.md --json dt.json --threshold 1M 2>/dev/null
check diff_threshold_1m_exit 0 $?
has md_fold_grow_shown dt.md 增长最多的分配点 'grow\_site ('
hasnt md_fold_leak_hidden dt.md 增长最多的分配点 'leak\_site'
has md_fold_line dt.md 增长最多的分配点 '另有 1 个分配点的变化小于阈值，峰值合计 +8.0 KiB，泄漏合计 +8.0 KiB，分配量合计 +8.0 KiB。'
has md_fold_new dt.md 新增分配点 '另有 1 个分配点的变化小于阈值'
python3 -c '
import json
import os; exec(os.environ["HDLOAD"])
d=hdload("dt.json")
sh={s["stack"][0]["function"]: s["shown"] for s in d["sites"] if s["stack"]}
ok = d["threshold"] == 1048576 and sh.get("grow_site") is True and sh.get("leak_site") is False and len(d["sites"]) == 5
print("PASS: json_threshold_flags" if ok else "FAIL: json_threshold_flags: %s" % sh)'

# no --threshold: heap diffs list every changed site (the 1 MiB default is
# the snapshot diff's); the Markdown names no threshold
"$MSDIFF" "$A" "$B" --md dd.md --json dd.json 2>/dev/null
check diff_default_threshold_exit 0 $?
has md_default_leak_shown dd.md 增长最多的分配点 'leak\_site ('
has md_default_new_shown dd.md 新增分配点 'new\_site ('
has md_default_vanished_shown dd.md 消失的分配点 'old\_site ('
if grep -qF -e '另有' -e '折叠为每节一行' dd.md; then fail md_default_nothing_folded "$(grep -F -e 另有 -e 折叠为每节一行 dd.md | head -2)"; else pass md_default_nothing_folded; fi
python3 -c '
import json
d=json.load(open("dd.json"))
ok = d["threshold"] == 0 and len(d["sites"]) == 5 and all(x["shown"] for x in d["sites"])
print("PASS: json_default_threshold_0_all_shown" if ok else "FAIL: json_default_threshold_0_all_shown: %s" % d["threshold"])'
"$MSDIFF" --help | grep -q 'heap traces: sites' && "$MSDIFF" --help | grep -q 'snapshots: processes' \
    && pass help_threshold_both_kinds || fail help_threshold_both_kinds "$("$MSDIFF" --help | grep -A5 threshold)"

# same trace twice: nothing changed
"$MSDIFF" "$A" "$A" --json same.json --md same.md --threshold 0 2>/dev/null
python3 -c '
import json
d=json.load(open("same.json")); s=d["summary"]
ok = (s["sites_new"], s["sites_vanished"], s["sites_grew"], s["sites_shrank"], s["peak_delta"]) == (0,0,0,0,0) and s["sites_unchanged"] == 4
print("PASS: json_self_diff" if ok else "FAIL: json_self_diff: %s" % s)'

# a stripped PIE recorded twice (different load addresses): frames keyed by
# module + offset, every site matched, none merged into another
cp prog1 stripped && strip stripped
"$MSREC" run -o s1.memscope -- ./stripped 2>/dev/null
"$MSREC" run -o s2.memscope -- ./stripped 2>/dev/null
"$MSDIFF" s1.memscope s2.memscope --json s.json --md s.md --threshold 0 2>/dev/null
python3 -c '
import json
import os; exec(os.environ["HDLOAD"])
d=hdload("s.json"); s=d["summary"]
top=[x["stack"][0] for x in d["sites"]]
ok = s["sites_unchanged"] == 4 and s["sites_new"] == s["sites_vanished"] == 0 and all(f["function"] is None and f["module"].endswith("/stripped") and f["module_offset"].startswith("0x") for f in top)
print("PASS: stripped_matched_by_module_offset" if ok else "FAIL: stripped_matched_by_module_offset: %s %s" % (s, top))'
grep -q '4 个匹配的分配点没有变化。' s.md && pass stripped_md_unchanged || fail stripped_md_unchanged "$(tail -2 s.md)"

# stdout
"$MSDIFF" "$A" "$B" --json - 2>/dev/null | python3 -c 'import json,sys; json.load(sys.stdin)' \
    && pass json_stdout || fail json_stdout "not JSON on stdout"

# ASan/UBSan build, when present: same report, no sanitizer report
ASAN="$MS_ROOT/build/asan/bin/msdiff"
if [ -x "$ASAN" ]; then
    "$ASAN" "$A" "$B" --json asan.json --md asan.md --threshold 0 2>asan.err
    rc=$?
    if [ $rc -eq 0 ] && ! grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' asan.err && cmp -s asan.md d.md; then
        pass asan_clean
    else
        fail asan_clean "rc=$rc $(head -3 asan.err)"
    fi
fi

# bad input: one line on stderr, exit 1, no report written
one_line_error() { # NAME EXPECTED-SUBSTRING command...
    n=$1; want=$2; shift 2
    rm -f bad.md bad.json
    "$@" --md bad.md --json bad.json > bad.out 2> bad.err
    rc=$?
    lines=$(wc -l < bad.err)
    if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q "^msdiff: .*$want" bad.err && [ ! -e bad.md ] && [ ! -e bad.json ]; then
        pass "$n"
    else
        fail "$n" "rc=$rc lines=$lines: $(cat bad.err)"
    fi
}
"$MSREC" snapshot --pid $$ snap.memscope >/dev/null 2>&1
if [ -s snap.memscope ]; then
    one_line_error error_heap_vs_snapshot "cannot compare a snapshot file with a heap trace" "$MSDIFF" "$A" snap.memscope
    one_line_error error_snapshot_vs_heap "cannot compare a heap trace with a snapshot file" "$MSDIFF" snap.memscope "$A"
else
    fail error_heap_vs_snapshot "msrec snapshot --pid failed"
fi
printf 'not a trace\n' > junk.memscope
one_line_error error_not_memscope "junk.memscope" "$MSDIFF" "$A" junk.memscope
one_line_error error_missing "missing.memscope: No such file" "$MSDIFF" "$A" missing.memscope
# a cut trace is still compared (warning), not an error
head -c $(( $(wc -c < "$B") * 2 / 3 )) "$B" > cut.memscope
"$MSDIFF" "$A" cut.memscope --json cut.json --md cut.md 2> cut.err
rc=$?
if [ $rc -eq 0 ] && grep -q 'warning' cut.err && python3 -c 'import json; json.load(open("cut.json"))'; then
    pass damaged_input_warns
else
    fail damaged_input_warns "rc=$rc $(cat cut.err)"
fi

# integrity of each input (spec 8.5): the goldens v1.2 (disk full: 6 of 8
# events written) and v1.1 (complete); the complete pair above says so
G="$MS_ROOT/tests/golden"
"$MSDIFF" "$G/v1.2-heap.memscope" "$G/v1.1-heap.memscope" --json g.json --md g.md 2> g.err
check integ_exit 0 $?
check integ_warns_once "msdiff: $G/v1.2-heap.memscope: warning: incomplete: disk full, 6 of 8 events written (1 write errors); using what could be read" \
    "$(grep -v 'wrote' g.err)"
grep -qF '| 文件完整性 | 不完整：磁盘已满，共 8 个事件，写入 6 个（1 次写入错误） | 完整 |' g.md \
    && pass integ_md_row || fail integ_md_row "$(grep 完整性 g.md)"
grep -qF '> 注意：之前的文件：不完整：磁盘已满' g.md && pass integ_md_note || fail integ_md_note "$(sed -n 1,5p g.md)"
grep -q '注意：之后的文件' g.md && fail integ_md_note_only_before "$(sed -n 1,7p g.md)" || pass integ_md_note_only_before
python3 -c '
import json, sys
d = json.load(open("g.json"))
b, a = d["before"], d["after"]
assert (b["integrity"], a["integrity"]) == ("incomplete", "complete"), (b["integrity"], a["integrity"])
assert b["integrity_message"] == "incomplete: disk full, 6 of 8 events written (1 write errors)", b["integrity_message"]
' 2> g.py.err && pass integ_json || fail integ_json "$(tail -1 g.py.err)"
grep -qF '| 文件完整性 | 完整 | 完整 |' d.md && pass integ_md_complete || fail integ_md_complete "$(grep 完整性 d.md)"
grep -q '注意：' d.md && fail integ_md_no_note "$(grep 注意 d.md)" || pass integ_md_no_note
check integ_complete_quiet "" "$(grep -v 'wrote' diff.err)"
python3 -c '
import json
d = json.load(open("d.json"))
assert d["before"]["integrity"] == d["after"]["integrity"] == "complete"
' && pass integ_json_complete || fail integ_json_complete "not complete"
"$MSDIFF" "$G/v1.2-heap.memscope" "$G/v1.1-heap.memscope" --md - --lang en 2>/dev/null > ge.md
grep -qF '| Integrity | incomplete: disk full, 6 of 8 events written (1 write errors) | complete |' ge.md \
    && pass integ_md_en || fail integ_md_en "$(grep Integrity ge.md)"

# progress bar (convert/common/progress.c): forced with MEMSCOPE_PROGRESS=1
# on a trace of > 64 Ki records; never on a non-terminal stderr by default
cc -std=c11 -D_GNU_SOURCE -O2 -g -o wl "$MS_ROOT/bench/convert/workload.c" || fail progress_build "cc failed"
"$MSREC" run -o wl.memscope -- ./wl 100000 >/dev/null 2>&1
MEMSCOPE_PROGRESS=1 "$MSDIFF" wl.memscope wl.memscope --json p.json 2> p.err
rc=$?
if [ $rc -eq 0 ] && grep -q 'msdiff: reading .*%' p.err && grep -q 'msdiff: reading 100%' p.err; then
    pass progress_forced
else
    fail progress_forced "rc=$rc $(tr '\r' '\n' < p.err | head -3)"
fi
"$MSDIFF" wl.memscope wl.memscope --json p2.json 2> p2.err
if grep -q 'reading' p2.err || tr -d '\n' < p2.err | grep -q "$(printf '\r')"; then
    fail progress_not_on_pipe "$(head -2 p2.err)"
else
    pass progress_not_on_pipe
fi
cmp -s p.json p2.json && pass progress_same_report || fail progress_same_report "reports differ"
