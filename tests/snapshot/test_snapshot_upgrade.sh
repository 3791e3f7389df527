#!/bin/sh
# Snapshot diffs that never lie, on real processes this test starts (other
# processes of the machine are never assumed to be anything):
#   - an upgrade: a library replaced on disk while a process maps it is kept
#     as "(deleted)" with its mapped size, never "resized" to the new file,
#     and the process is listed among the processes to restart;
#   - facts survive the default 1 MB threshold: a small new and a small
#     removed process are named, an open-file change (15 -> 315) and a
#     restart (same command, new pid) are reported;
#   - a snapshot taken without root (as nobody, --no-sudo) diffed against
#     one taken as root: unreadable processes have an unknown memory delta
#     (no fake drop), the report opens with a warning naming the side, the
#     totals are over readable processes only;
#   - the kernel breakdown explains MemTotal - MemAvailable within 5 %;
#   - msdiff orders before/after by time and picks series snapshots with
#     --snapshot; the English --pid view has English labels.
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
D=$(cd "$(dirname "$0")" && pwd)
cd "$TMP" || exit 1
chmod 755 "$TMP"
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
waitfor() { i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; }

cc -O1 -o kp "$D/knownproc.c" -ldl || { fail upgrade_build_knownproc "cc failed"; exit 1; }
mkdir lib
printf 'int svc(void) { return 1; }\n' > small.c
printf 'static const char big[3 << 20] = {1}; int svc(void) { return big[5]; }\n' > big.c
cc -shared -fPIC -o lib/libsvc.so small.c && cc -shared -fPIC -o libsvc_new.so big.c || { fail upgrade_build_lib "cc failed"; exit 1; }
OLD_SIZE=$(stat -c %s lib/libsvc.so)

./kp --dlopen "$TMP/lib/libsvc.so" --ready d.ok & DL=$!; PIDS="$PIDS $DL"
./kp --files 12 --ready f.ok & F=$!; PIDS="$PIDS $F"
./kp --ready r.ok & R=$!; PIDS="$PIDS $R"
./kp --ready x.ok & X=$!; PIDS="$PIDS $X"
waitfor d.ok; waitfor f.ok; waitfor r.ok; waitfor x.ok
F_FILES0=$(ls /proc/$F/fd | wc -l)

"$MSREC" snapshot before.memscope --no-sudo 2>/dev/null
check upgrade_before_exit 0 $?
NOBODY=0
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    mkdir -p bin nb && cp "$MSREC" bin/ && chmod 755 bin bin/msrec && chmod 777 nb
    setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/bin/msrec" snapshot "$TMP/nb/before_nobody.memscope" --no-sudo 2> nb.err \
        && NOBODY=1
fi

# the upgrade: the library is replaced by rename (as package managers do),
# a process opens 300 files, one is restarted with the same command line,
# a small one exits, a small one starts
mv -f libsvc_new.so lib/libsvc.so
kill -USR2 "$F"
kill "$R"; wait "$R" 2>/dev/null; rm -f r.ok
./kp --ready r.ok & R2=$!; PIDS="$PIDS $R2"
kill "$X"; wait "$X" 2>/dev/null
./kp --ready n.ok & N=$!; PIDS="$PIDS $N"
waitfor r.ok; waitfor n.ok
i=0; while [ "$(ls /proc/$F/fd | wc -l)" -lt $((F_FILES0 + 300)) ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
F_FILES1=$(ls /proc/$F/fd | wc -l)
sleep 0.2
"$MSREC" snapshot after.memscope --no-sudo 2>/dev/null
check upgrade_after_exit 0 $?

# ---- the snapshot itself: deleted library kept apart with its mapped size
"$MSCONV" after.memscope --json -o after.json
python3 - after.json "$DL" "$TMP/lib/libsvc.so" "$OLD_SIZE" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); DL = int(sys.argv[2]); path = sys.argv[3]; old = int(sys.argv[4])
s = d["snapshots"][0]
def ok(name, cond, why=""): print(("PASS: " + name) if cond else ("FAIL: %s: %s" % (name, why)))
p = [x for x in s["processes"] if x["pid"] == DL]
ok("upgrade_process_recorded", len(p) == 1)
if p:
    libs = [l for l in p[0]["libraries"] if l["path"] == path]
    ok("upgrade_lib_kept_deleted", len(libs) == 1 and libs[0]["deleted"] and libs[0]["executable"], str(libs))
    if libs:
        l = libs[0]
        ok("upgrade_lib_size_as_mapped", l["mapped"] < 256 << 10 and l["disk_size"] in (0, old), str(l))
    ok("upgrade_no_bss_neighbour", all(l["mapped"] < 64 << 20 for l in p[0]["libraries"]), "")
st = [x for x in s.get("processes_using_deleted_files", []) if x["pid"] == DL]
ok("upgrade_restart_list_json", st and path in st[0]["libraries"], str(s.get("processes_using_deleted_files"))[:300])
mb = s.get("memory_breakdown")
ok("kernel_breakdown_present", mb is not None and mb["zoneinfo"])
if mb:
    rows = mb["rows"]
    ok("kernel_breakdown_sums_to_used", sum(rows.values()) == mb["used"], "%d vs %d" % (sum(rows.values()), mb["used"]))
    rest = abs(rows["unexplained"]) / max(mb["used"], 1)
    ok("kernel_breakdown_explains_used_within_5pct", rest < 0.05,
       "unexplained %d of %d (%.1f%%): %s" % (rows["unexplained"], mb["used"], 100 * rest, rows))
    ok("kernel_breakdown_has_kernel_rows", rows["slab_unreclaimable"] > 0 and rows["page_tables"] > 0 and rows["kernel_stack"] > 0, str(rows))
    ok("kernel_stats_recorded", s["zoneinfo"].get("reserve", 0) > 0 and len(s["vmstat"]) > 10 and s["privilege"] in ("root", "user"))
EOF
"$MSCONV" after.memscope --text > after.txt
grep -q "需要重启的进程" after.txt && grep -q "$TMP/lib/libsvc.so（已删除" after.txt && pass upgrade_restart_list_text \
    || fail upgrade_restart_list_text "$(grep -A3 需要重启 after.txt)"
grep -q "内存去向" after.txt && grep -q "Slab 不可回收" after.txt && grep -q "页表 PageTables" after.txt && pass kernel_breakdown_text \
    || fail kernel_breakdown_text "no breakdown in --text"
"$MSCONV" after.memscope --html after.html 2>/dev/null && grep -q '"memuse":{' after.html && grep -q '"stale":\[' after.html \
    && pass kernel_breakdown_html || fail kernel_breakdown_html "no memuse/stale in the page data"

# ---- the diff, default threshold (1 MB) -------------------------------------
"$MSDIFF" before.memscope after.memscope --md d.md --json d.json 2>/dev/null
check upgrade_msdiff_exit 0 $?
python3 - d.json "$DL" "$F" "$R" "$R2" "$X" "$N" "$TMP/lib/libsvc.so" "$F_FILES0" "$F_FILES1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
DL, F, R, R2, X, N = map(int, sys.argv[2:8]); path = sys.argv[8]; f0, f1 = int(sys.argv[9]), int(sys.argv[10])
def ok(name, cond, why=""): print(("PASS: " + name) if cond else ("FAIL: %s: %s" % (name, why)))
def find(sec, pid):
    for k in ("kernel", "system", "user"):
        for e in d[sec][k]["processes"]:
            for side in ("before", "after"):
                if e[side] and e[side]["pid"] == pid: return e
e = find("changed", DL)
ok("diff_deleted_lib_entry", e is not None, "pid %d not changed" % DL)
if e:
    lc = [l for l in e["library_changes"] if l["path"] == path]
    ok("diff_deleted_lib_not_resized", len(lc) == 1 and lc[0]["change"] == "deleted" and lc[0]["deleted_after"], str(lc))
    ok("diff_deleted_lib_mapped_size", lc and lc[0]["mapped_after"] < 256 << 10, str(lc))
    ok("diff_deleted_lib_not_folded", not e["folded"])
ok("diff_restart_list", any(x["pid"] == DL for x in d["processes_using_deleted_files"]), str(d["processes_using_deleted_files"])[:300])
e = find("changed", F)
ok("diff_open_files_change_shown", e is not None and e["delta"]["open_files"] == f1 - f0 and not e["folded"],
   str(e and (e["delta"], e["folded"])))
ok("diff_restart_paired", any(r["pid_before"] == R and r["pid_after"] == R2 for r in d["restarts"]), str(d["restarts"]))
a, r = find("added", N), find("removed", X)
ok("diff_small_added_present", a is not None and a["folded"], str(a and a["folded"]))
ok("diff_small_removed_present", r is not None and r["folded"], str(r and r["folded"]))
t = d["totals"]["pss"]
ok("diff_totals_equal_net", t["delta"] == d["summary"]["net_pss"] or d["before"]["read_status"]["omitted"], "%s vs %s" % (t, d["summary"]["net_pss"]))
mb = d.get("memory_breakdown")
ok("diff_kernel_breakdown", mb and any(x["key"] == "slab_unreclaimable" for x in mb["rows"]), str(mb)[:200])
EOF
awk '/^## 新增进程/{s=1} /^## 已删除进程/{s=0} s' d.md | grep -q "kp（$N，" && pass md_small_added_named || fail md_small_added_named "$(awk '/^## 新增进程/,/^## 已删除进程/' d.md | tail -4)"
awk '/^## 已删除进程/{s=1} /^## 发生变化的进程/{s=0} s' d.md | grep -q "kp（$X，" && pass md_small_removed_named || fail md_small_removed_named "$(awk '/^## 已删除进程/,/^## 发生变化的进程/' d.md | tail -4)"
grep -q "^## 重启的进程（" d.md && grep -q "| kp | $R→$R2 |" d.md && pass md_restart_section || fail md_restart_section "$(grep -A6 '重启的进程' d.md | head -8)"
grep -q "^## 需要重启的进程" d.md && grep -q "| kp | $DL |.*libsvc.so（已删除" d.md && pass md_stale_section || fail md_stale_section "$(grep -A5 '需要重启' d.md | head -6)"
grep -q "库已删除或替换（仍在映射旧文件）：$TMP/lib/libsvc.so（已删除" d.md && pass md_deleted_lib_detail || fail md_deleted_lib_detail "$(grep "PID $DL" d.md)"
grep -q "打开文件数 $F_FILES0 → $F_FILES1" d.md && pass md_open_files_detail || fail md_open_files_detail "$(grep "PID $F)" d.md)"
grep -q "### 内存去向" d.md && grep -q "| 内核 | 页表 PageTables |" d.md && pass md_kernel_breakdown || fail md_kernel_breakdown ""
if grep -q "PSS：内核进程" d.md; then fail md_no_kernel_process_pss_row "always-zero row still there"; else pass md_no_kernel_process_pss_row; fi

# ---- time order and --snapshot -------------------------------------------------
"$MSDIFF" after.memscope before.memscope --json rev.json 2> rev.err
grep -q "is newer than the second" rev.err && python3 -c "
import json; d = json.load(open('rev.json'))
assert d['before']['file'] == 'before.memscope' and d['after']['file'] == 'after.memscope', (d['before']['file'], d['after']['file'])" \
    && pass msdiff_orders_by_time || fail msdiff_orders_by_time "$(cat rev.err)"
"$MSREC" snapshot ser.memscope --interval 0 --count 3 --no-libs 2>/dev/null
"$MSDIFF" before.memscope ser.memscope --json s1.json 2> s1.err
grep -q "a series of 3 snapshots; using the last" s1.err && pass msdiff_series_default_said || fail msdiff_series_default_said "$(cat s1.err)"
"$MSDIFF" ser.memscope ser.memscope --snapshot 0:1 --json s2.json 2>/dev/null && python3 -c "
import json; d = json.load(open('s2.json')); assert d['before']['time'] < d['after']['time'] or d['before']['wall_ms'] <= d['after']['wall_ms']" \
    && pass msdiff_snapshot_option || fail msdiff_snapshot_option ""
"$MSDIFF" ser.memscope ser.memscope --snapshot 7 --json s3.json 2> s3.err
[ $? -ne 0 ] && grep -q "^msdiff: ser.memscope: --snapshot 7: the file has 3 snapshots" s3.err && pass msdiff_snapshot_out_of_range \
    || fail msdiff_snapshot_out_of_range "$(cat s3.err)"

# ---- English --pid labels --------------------------------------------------------
"$MSCONV" after.memscope --pid "$DL" --lang en > pid_en.txt
python3 - pid_en.txt <<'EOF'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
cjk = [l for l in lines if not l.startswith('- "') and re.search("[\u3000-\u9fff\uff00-\uffef]", l)]
ok = not cjk and any(l.startswith("Name: kp") for l in lines) and any(l.startswith("User: ") for l in lines)
print("PASS: pid_view_english_labels" if ok else "FAIL: pid_view_english_labels: %s" % (cjk[:3] or lines[:8]))
EOF
grep -q "libsvc.so\" (deleted)" pid_en.txt && pass pid_view_deleted_lib || fail pid_view_deleted_lib "$(grep libsvc pid_en.txt)"

# ---- not root vs root: unknown, never a drop ---------------------------------------
if [ $NOBODY -eq 1 ]; then
    grep -q "not root (--no-sudo)" nb.err && pass nobody_no_sudo_message || fail nobody_no_sudo_message "$(cat nb.err)"
    "$MSDIFF" nb/before_nobody.memscope after.memscope --md nb.md --json nb.json 2>/dev/null
    check nonroot_diff_exit 0 $?
    python3 - nb.json "$DL" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); DL = int(sys.argv[2])
def ok(name, cond, why=""): print(("PASS: " + name) if cond else ("FAIL: %s: %s" % (name, why)))
s = d["summary"]
ok("nonroot_unknown_counted", s["memory_unknown_before"] > 0 and d["before"]["privilege"] == "user", str(s))
ok("nonroot_totals_readable_only", d["totals"]["readable_processes_only"])
ents = [e for sec in ("added", "removed", "changed") for k in ("kernel", "system", "user") for e in d[sec][k]["processes"]]
unk = [e for e in ents if e["memory_unknown"]]
ok("nonroot_unknown_entries_no_delta", unk and all(e["delta"]["pss"] is None for e in unk), str(unk[:1])[:300])
ok("nonroot_unknown_not_causes", all(not (c.get("pid") and any(e["memory_unknown"] and ((e["after"] or e["before"])["pid"] == c["pid"]) for e in ents))
                                     for c in d["causes"]), str(d["causes"]))
ok("nonroot_no_fake_drop", not any(c["type"] == "process_shrank" and c["pss_delta"] < -(100 << 20) for c in d["causes"]), str(d["causes"]))
# our own processes ran as root: unreadable to nobody, so unknown, not a drop
own = [e for e in ents if (e["after"] or {}).get("pid") == DL]
ok("nonroot_own_process_unknown", own and own[0]["memory_unknown"], str(own)[:200])
EOF
    head -3 nb.md | grep -q "⚠ \*\*注意\*\*：有进程的内存无法读取（权限不足）：之前的快照 [0-9]* 个（采集时不是 root" \
        && pass nonroot_md_warning_names_side || fail nonroot_md_warning_names_side "$(head -3 nb.md)"
    grep -q "| PSS 合计（仅可读进程） |" nb.md && pass nonroot_md_totals_readable_only || fail nonroot_md_totals_readable_only ""
else
    pass nonroot_skipped_not_root
fi
