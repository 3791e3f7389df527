#!/bin/sh
# msrec snapshot + msdiff with known processes: one that allocates and
# touches a known amount (and later 32 MiB more), one with N open files and
# a mapped file of known size and a hostile name, one that is stopped.
# Every number checked is compared with /proc read by this script.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
D=$(cd "$(dirname "$0")" && pwd)
cd "$TMP" || exit 1
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

cc -O1 -o kp "$D/knownproc.c" -ldl || { fail build_knownproc "cc failed"; exit 1; }
head -c 8388608 /dev/urandom > blob.bin
waitfor() { i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; }
kb() { awk -v k="$2:" '$1 == k { print $2 * 1024 }' "/proc/$1/smaps_rollup"; }

./kp --alloc 16 --ready s.ok & S=$!; PIDS="$PIDS $S"
./kp --alloc 24 --ready r.ok & R=$!; PIDS="$PIDS $R"
./kp --alloc 12 --ready p.ok & P=$!; PIDS="$PIDS $P"
waitfor s.ok; waitfor r.ok; waitfor p.ok
"$MSREC" snapshot "$TMP/升级前" 2> before.err
check snapshot_dir_mode_exit 0 $?
[ -f "$TMP/升级前/升级前.memscope" ] && pass snapshot_dir_mode_file || fail snapshot_dir_mode_file "no 升级前/升级前.memscope"
grep -q "wrote" before.err && pass snapshot_reports_written || fail snapshot_reports_written "$(cat before.err)"

HOSTILE=$(printf 'h|`<x>\ny')
./kp --alloc 48 --files 40 --many 300 --map "$TMP/blob.bin" --name "$HOSTILE" --ready a.ok & A=$!; PIDS="$PIDS $A"
waitfor a.ok
kill -USR1 "$S"; kill "$R"; wait "$R" 2>/dev/null
# "restart after an upgrade": same command line, new pid
kill "$P"; wait "$P" 2>/dev/null; rm -f p.ok
./kp --alloc 12 --ready p.ok & P2=$!; PIDS="$PIDS $P2"
waitfor p.ok
sleep 0.3
"$MSREC" snapshot "$TMP/升级后" --lib-memory 2> after.err
check snapshot_after_exit 0 $?
# what /proc says, read independently right after the snapshot
A_PSS=$(kb "$A" Pss); A_RSS=$(kb "$A" Rss); S_PSS=$(kb "$S" Pss)
A_FD=$(ls "/proc/$A/fd" | wc -l)
A_BLOB_MAPPED=$(python3 -c '
import sys
s = 0
for l in open("/proc/%s/maps" % sys.argv[1]):
    f = l.split()
    if len(f) >= 6 and f[5] == sys.argv[2]:
        a, b = f[0].split("-"); s += int(b, 16) - int(a, 16)
print(s)' "$A" "$TMP/blob.bin")
A_BLOB_RSS=$(awk -v f="$TMP/blob.bin" '$0 ~ /^[0-9a-f]+-/ { cur = ($6 == f) } cur && $1 == "Rss:" { s += $2 } END { print s * 1024 }' "/proc/$A/smaps")

"$MSDIFF" "$TMP/升级前" "$TMP/升级后" --threshold 512K 2> diff.err
check msdiff_exit 0 $?
MD="$TMP/升级后/diff_report_中文.md"; JS="$TMP/升级后/diff_report.json"
[ -s "$MD" ] && pass msdiff_default_md_in_second_dir || fail msdiff_default_md_in_second_dir "missing $MD"
[ -s "$JS" ] && pass msdiff_default_json_in_second_dir || fail msdiff_default_json_in_second_dir "missing $JS"

# JSON: sections and exact numbers against /proc (PSS within 1% + 64 KiB:
# other processes may map or unmap shared pages between the two reads)
python3 - "$JS" "$A" "$S" "$R" "$A_PSS" "$A_RSS" "$S_PSS" "$A_FD" "$HOSTILE" <<'EOF'
import json, sys
js, A, S, R, a_pss, a_rss, s_pss, a_fd, hostile = sys.argv[1:]
A, S, R, a_pss, a_rss, s_pss, a_fd = map(int, (A, S, R, a_pss, a_rss, s_pss, a_fd))
d = json.load(open(js))
def find(sec, pid):
    for kind in ("kernel", "system", "user"):
        for p in d[sec][kind]["processes"]:
            side = p["after"] if p["after"] else p["before"]
            if side["pid"] == pid: return p
def ok(name, cond, why=""):
    print(("PASS: " + name) if cond else ("FAIL: %s: %s" % (name, why)))
def near(x, y): return abs(x - y) <= y / 100 + 65536
a = find("added", A); s = find("changed", S); r = find("removed", R)
ok("json_added_has_new_process", a is not None, "pid %d not in added" % A)
ok("json_removed_has_stopped_process", r is not None, "pid %d not in removed" % R)
ok("json_changed_has_grown_process", s is not None, "pid %d not in changed" % S)
if a:
    ok("json_added_pss_matches_smaps_rollup", near(a["after"]["pss"], a_pss), "%d vs %d" % (a["after"]["pss"], a_pss))
    ok("json_added_rss_matches_smaps_rollup", near(a["after"]["rss"], a_rss), "%d vs %d" % (a["after"]["rss"], a_rss))
    ok("json_added_pss_at_least_48MiB", a["after"]["pss"] >= 48 << 20, str(a["after"]["pss"]))
    ok("json_open_files_match_proc_fd", a["after"]["open_files"] == a_fd, "%s vs %d" % (a["after"]["open_files"], a_fd))
    ok("json_hostile_name_exact", a["name"] == hostile, repr(a["name"]))
if s:
    dp = s["delta"]["pss"]
    ok("json_changed_delta_is_32MiB", abs(dp - (32 << 20)) <= 256 << 10, str(dp))
    ok("json_changed_after_matches_smaps_rollup", near(s["after"]["pss"], s_pss), "%d vs %d" % (s["after"]["pss"], s_pss))
ok("json_match_rule_same_boot", d["match_rule"] == "pid_starttime" and d["same_boot"], d["match_rule"])
ok("json_summary_counts", d["summary"]["added"] >= 1 and d["summary"]["removed"] >= 1 and d["summary"]["grew"] >= 1, str(d["summary"]))
t = d["totals"]["pss"]
ok("json_totals_exact_bytes", t["delta"] == t["after"] - t["before"] and isinstance(t["before"], int), str(t))
# (other processes of this machine may change more meanwhile: only require it among the causes)
ok("json_causes_name_new_process", any(c["type"] == "process_added" and c.get("pid") == A for c in d["causes"]), str(d["causes"]))
ok("json_causes_name_grown_process", any(c["type"] == "process_grew" and c.get("pid") == S for c in d["causes"]) or len(d["causes"]) == 5, str(d["causes"]))
EOF

# the mapped file: size on disk and RSS, from the snapshot vs stat/smaps
"$MSCONV" "$TMP/升级后/升级后.memscope" --json -o snap.json
check msconv_json_exit 0 $?
python3 - snap.json "$A" "$TMP/blob.bin" "$A_BLOB_RSS" "$A_BLOB_MAPPED" <<'EOF'
import json, os, sys
d = json.load(open(sys.argv[1])); A = int(sys.argv[2]); blob = sys.argv[3]; brss = int(sys.argv[4]); bmap = int(sys.argv[5])
procs = d["snapshots"][0]["processes"]
p = [x for x in procs if x["pid"] == A]
def ok(name, cond, why=""):
    print(("PASS: " + name) if cond else ("FAIL: %s: %s" % (name, why)))
ok("snapshot_has_process", len(p) == 1)
if p:
    p = p[0]
    libs = {l["path"]: l for l in p["libraries"]}
    ok("snapshot_lib_listed", blob in libs, str(list(libs)[:5]))
    if blob in libs:
        ok("snapshot_lib_disk_size", libs[blob]["disk_size"] == os.path.getsize(blob), str(libs[blob]))
        ok("snapshot_lib_rss_matches_smaps", libs[blob]["rss"] == brss, "%d vs %d" % (libs[blob]["rss"], brss))
        ok("snapshot_lib_301_mappings_summed", libs[blob]["mapped"] == bmap and bmap == (8 << 20) + 300 * 4096,
           "%d vs %d" % (libs[blob]["mapped"], bmap))
    ok("snapshot_libc_listed", any("libc.so" in k for k in libs))
    ok("snapshot_uss_is_private_sum", p["uss"] == p["private_clean"] + p["private_dirty"])
    ok("snapshot_perms_sum_to_rss", abs(sum(x["rss"] for x in p["mappings_by_permission"]) - p["rss"]) <= 64 << 10,
       "%d vs %d" % (sum(x["rss"] for x in p["mappings_by_permission"]), p["rss"]))
    ok("snapshot_exe_size", p["exe_size"] == os.path.getsize("kp"), str(p["exe_size"]))
s = d["snapshots"][0]
ok("snapshot_meminfo_bytes", s["meminfo"]["MemTotal"] % 1024 == 0 and s["meminfo"]["MemTotal"] > 1 << 20)
ok("snapshot_label_default_dir_name", s["label"] == "升级后", s["label"])
kinds = {x["kind"] for x in procs}
ok("snapshot_kernel_threads_classified", "kernel" in kinds or not os.path.exists("/proc/2/status"), str(kinds))
EOF

# kernels without smaps_rollup (< 4.14): totals summed from smaps
MSREC_TEST_NO_ROLLUP=1 "$MSREC" snapshot norollup.memscope --pid "$A" 2>/dev/null
A_PSS2=$(kb "$A" Pss); A_RSS2=$(kb "$A" Rss); A_NV=$(grep -c '^[0-9a-f]*-' "/proc/$A/smaps")
"$MSCONV" norollup.memscope --json | python3 -c "
import json, sys
p = json.load(sys.stdin)['snapshots'][0]['processes'][0]
ok = 'no_smaps_rollup' in p['read_status'] and p['rss'] == $A_RSS2 and abs(p['pss'] - $A_PSS2) <= 1024 * $A_NV
print('PASS: no_rollup_smaps_summed' if ok else 'FAIL: no_rollup_smaps_summed: %s %d %d' % (p['read_status'], p['pss'], $A_PSS2))"

# Markdown: sections, names, escaping, tables intact
for h in "## 总体分析" "## 新增进程" "## 已删除进程" "## 发生变化的进程" "### 系统配置变化" "### 共享内存变化" "**摘要**" "**主要原因**" "进程匹配规则"; do
    grep -qF "$h" "$MD" && pass "md_has_$h" || fail "md_has_$h" "missing"
done
grep -qF 'h\|\`&lt;x&gt;\ny' "$MD" && pass md_hostile_name_escaped || fail md_hostile_name_escaped "$(grep -n 'h\\' "$MD" | head -2)"
if grep -q '<x>' "$MD"; then fail md_no_raw_html "raw <x> in report"; else pass md_no_raw_html; fi
python3 - "$MD" <<'EOF'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
bad = []; cols = None
for i, l in enumerate(lines):
    if l.startswith("|"):
        n = len(re.findall(r"(?<!\\)\|", l))
        if cols is None: cols = n
        elif n != cols: bad.append(i + 1)
    else:
        cols = None
print("PASS: md_tables_intact" if not bad else "FAIL: md_tables_intact: rows with wrong cell count at lines %s" % bad[:5])
EOF
awk '/^## 新增进程/{s=1} /^## 已删除进程/{s=0} s' "$MD" | grep -q "| $A |" && pass md_new_process_in_added || fail md_new_process_in_added "pid $A"
awk '/^## 已删除进程/{s=1} /^## 发生变化的进程/{s=0} s' "$MD" | grep -q "| $R |" && pass md_stopped_process_in_removed || fail md_stopped_process_in_removed "pid $R"
awk '/^## 发生变化的进程/{s=1} s' "$MD" | grep -q "| kp | $S | .*+32.0 MiB" && pass md_grown_process_in_changed || fail md_grown_process_in_changed "pid $S"

# default snapshot (before): libraries from maps with size on disk
"$MSCONV" "$TMP/升级前/升级前.memscope" --json | python3 -c "
import json, os, sys
ps = json.load(sys.stdin)['snapshots'][0]['processes']
p = [x for x in ps if x['pid'] == $S][0]
libc = [l for l in p['libraries'] if 'libc.so' in l['path']]
ok = libc and libc[0]['disk_size'] == os.stat(libc[0]['path']).st_size and libc[0]['mapped'] > 0
print('PASS: default_snapshot_libs_from_maps' if ok else 'FAIL: default_snapshot_libs_from_maps: %s' % libc)"

# matching by pid vs by (exe, cmdline, user): the restarted process
"$MSDIFF" "$TMP/升级前" "$TMP/升级后" --json pid.json --threshold 0 2>/dev/null
"$MSDIFF" "$TMP/升级前" "$TMP/升级后" --json key.json --md key.md --match key --threshold 0 2>/dev/null
python3 - pid.json key.json "$P" "$P2" <<'EOF2'
import json, sys
pj, kj = (json.load(open(f)) for f in sys.argv[1:3]); P, P2 = int(sys.argv[3]), int(sys.argv[4])
def where(d, pid):
    out = []
    for sec in ("added", "removed", "changed"):
        for kind in ("kernel", "system", "user"):
            for e in d[sec][kind]["processes"]:
                for side in ("before", "after"):
                    if e[side] and e[side]["pid"] == pid: out.append(sec)
    return out
def ok(name, cond, why=""): print(("PASS: " + name) if cond else ("FAIL: %s: %s" % (name, why)))
ok("match_pid_restart_is_removed_and_added", where(pj, P) == ["removed"] and where(pj, P2) == ["added"], "%s %s" % (where(pj, P), where(pj, P2)))
ok("match_key_rule_named", kj["match_rule"] == "exe_cmdline_user")
ok("match_key_restart_is_matched", "added" not in where(kj, P2) and "removed" not in where(kj, P), "%s %s" % (where(kj, P), where(kj, P2)))
EOF2
grep -q "按（可执行文件，规范化命令行，用户）匹配进程" key.md && pass md_states_key_rule || fail md_states_key_rule "rule not stated"

# English report, explicit outputs
"$MSDIFF" "$TMP/升级前/升级前.memscope" "$TMP/升级后/升级后.memscope" --md en.md --json en.json --lang en --threshold 0 2>/dev/null
check msdiff_en_exit 0 $?
grep -qF "## Overall analysis" en.md && grep -qF "## Added processes" en.md && pass md_english || fail md_english "no English headings"
python3 -c "import json,sys; json.load(open('en.json'))" && pass json_valid_utf8 || fail json_valid_utf8 "invalid"

# single-process views
"$MSCONV" "$TMP/升级后/升级后.memscope" --pid "$A" > pid.txt
check msconv_pid_exit 0 $?
grep -q "进程信息（PID：$A）" pid.txt && grep -qF "$TMP/blob.bin\"（8.0 MiB）" pid.txt && grep -q "打开文件数：$A_FD" pid.txt \
    && pass msconv_pid_view || fail msconv_pid_view "$(head -5 pid.txt)"
"$MSREC" snapshot --pid "$A" --print > print.txt 2>print.err
check msrec_print_exit 0 $?
grep -q "进程信息（PID：$A）" print.txt && grep -q "动态库" print.txt && pass msrec_pid_print || fail msrec_pid_print "$(cat print.err)"
"$MSCONV" "$TMP/升级后/升级后.memscope" --text > text.txt
grep -q "PSS 最高的进程" text.txt && grep -q "读取状态" text.txt && pass msconv_text_view || fail msconv_text_view "$(head -3 text.txt)"

# --max-processes keeps the largest, counts the rest. Other large processes
# may run on this machine: the test's 48 MiB process is either kept, or
# every kept process is at least as large (its PSS read from /proc now).
"$MSREC" snapshot max.memscope --max-processes 3 2>/dev/null
A_PSS3=$(kb "$A" Pss)
"$MSCONV" max.memscope --json -o max.json
python3 - max.json "$A" "$A_PSS3" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["snapshots"][0]
A, a_pss = int(sys.argv[2]), int(sys.argv[3])
pids = [p["pid"] for p in s["processes"]]
print("PASS: max_processes_kept_3" if len(pids) == 3 else "FAIL: max_processes_kept_3: %d" % len(pids))
ok = A in pids or all(p["pss"] >= a_pss * 0.99 for p in s["processes"])
print("PASS: max_processes_keeps_largest" if ok else "FAIL: max_processes_keeps_largest: %s (pid %d PSS %d)" %
      ([(p["pid"], p["pss"]) for p in s["processes"]], A, a_pss))
t = s["totals"]
print("PASS: max_processes_remainder" if t["omitted_processes"] > 0 and t["omitted_rss"] > 0 else "FAIL: max_processes_remainder: %s" % t)
k = t["kernel_processes"] + t["system_processes"] + t["user_processes"]
print("PASS: max_processes_header_counts_all" if k == t["processes_all"] == 3 + t["omitted_processes"] and k > 3
      else "FAIL: max_processes_header_counts_all: %s" % t)
EOF
ALL=$(python3 -c "import json; print(json.load(open('max.json'))['snapshots'][0]['totals']['processes_all'])")
"$MSCONV" max.memscope --text | grep -q "^进程：$ALL（" && pass max_processes_text_header_all \
    || fail max_processes_text_header_all "$("$MSCONV" max.memscope --text | grep '^进程')"

# series: a process growing 4 MiB every 200 ms is the fastest grower
./kp --grow 4 --ready g.ok & G=$!; PIDS="$PIDS $G"
waitfor g.ok
"$MSREC" snapshot series.memscope --interval 1 --count 3 2>/dev/null
check series_exit 0 $?
"$MSCONV" series.memscope --text > series.txt
grep -q "快照序列：3" series.txt && pass series_three_snapshots || fail series_three_snapshots "$(head -2 series.txt)"
awk '/增长最快的进程/{getline; getline; print $1; exit}' series.txt | grep -qx "$G" && pass series_fastest_grower || fail series_fastest_grower "$(grep -A3 增长最快 series.txt)"
"$MSCONV" series.memscope --json | python3 -c "
import json,sys; d=json.load(sys.stdin); g=[p for p in d['growth']['processes'] if p['pid']==$G]
print('PASS: series_growth_rate' if g and g[0]['pss_mb_per_hour']>1000 else 'FAIL: series_growth_rate: %s' % g)"
# same series file twice: first vs last snapshot
"$MSDIFF" series.memscope series.memscope --md series.md --threshold 0 2>/dev/null && grep -q "| kp | $G |" series.md \
    && pass msdiff_series_first_vs_last || fail msdiff_series_first_vs_last "no grower in report"
