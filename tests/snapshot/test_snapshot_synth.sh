#!/bin/sh
# Shared helper units (byte formatting, Markdown escaping) and msdiff on two
# synthetic snapshots from different boots: matching by (exe, cmdline,
# user) with instances aggregated, exe and library size changes, config
# changes, a hostile cmdline, a vanished record kept out of matching; a
# synthetic series where a steady leaker must outrank a process seen in 4
# of 20 snapshots (growth: fitted slope with R², only for processes present
# in at least half of the series).
. "${MS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
D=$(cd "$(dirname "$0")" && pwd)
trap 'rm -rf "$TMP"' EXIT INT TERM
O="$MS_BUILD/obj/convert/common"
SAN=""; nm "$O/fmt.o" 2>/dev/null | grep -q __asan && SAN="-fsanitize=address,undefined"
cc $SAN -std=c11 -D_GNU_SOURCE -O1 -I"$MS_ROOT/format" -I"$MS_ROOT/convert/common" -o "$TMP/synth" "$D/synth.c" \
    "$O/fmt.o" "$O/md.o" "$MS_BUILD/lib/libmsformat.a" -lzstd -lxxhash -lm || { fail synth_build "cc failed"; exit 1; }
"$TMP/synth" units
cd "$TMP" || exit 1
mkdir a b && "$TMP/synth" write a/a.memscope b/b.memscope || { fail synth_write "could not write"; exit 1; }
"$MSDIFF" a b 2>/dev/null
check synth_msdiff_exit 0 $?
python3 - b/diff_report.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
MB = 1 << 20
def ok(name, cond, why=""): print(("PASS: " + name) if cond else ("FAIL: %s: %s" % (name, why)))
ok("synth_rule_across_boots", d["match_rule"] == "exe_cmdline_user" and not d["same_boot"], d["match_rule"])
ch = d["changed"]["system"]["processes"]
ng = [e for e in ch if e["name"] == "nginx"]
ok("synth_instances_aggregated", ng and ng[0]["before"]["instances"] == 2 and ng[0]["after"]["instances"] == 3, str(ng[:1]))
if ng:
    e = ng[0]
    ok("synth_pss_sums_exact", e["before"]["pss"] == 20 * MB and e["after"]["pss"] == 36 * MB and e["delta"]["pss"] == 16 * MB, str(e["delta"]))
    ok("synth_exe_size_change", e["delta"]["exe_size"] == 100 * 1024, str(e["delta"]))
    ok("synth_open_files_summed", e["before"]["open_files"] == 40 and e["after"]["open_files"] == 75, str(e["delta"]))
    lc = {l["path"]: l for l in e["library_changes"]}
    ok("synth_lib_added", lc.get("/usr/lib/libfoo.so", {}).get("change") == "added", str(lc))
    ok("synth_lib_removed", lc.get("/usr/lib/libold.so", {}).get("change") == "removed", str(lc))
    ok("synth_lib_resized", lc.get("/usr/lib/libssl.so.3", {}).get("disk_size_delta") == 100 * 1024, str(lc))
kt = d["changed"]["kernel"]["processes"] + [x for x in d["added"]["kernel"]["processes"]]
ok("synth_kernel_threads_match_by_name", d["added"]["kernel"]["count"] == 0 and d["removed"]["kernel"]["count"] == 0, str(kt))
ok("synth_added_user", d["added"]["user"]["count"] == 1 and d["added"]["user"]["processes"][0]["after"]["pss"] == 64 * MB, str(d["added"]["user"]))
ok("synth_removed_user", d["removed"]["user"]["count"] == 1 and d["removed"]["user"]["processes"][0]["name"] == "oldsvc")
ok("synth_vanished_not_matched", d["summary"]["vanished_not_matched_after"] == 1 and d["after"]["read_status"]["vanished"] == 1)
cfg = {c["field"]: c for c in d["system_config"]}
ok("synth_kernel_change", cfg["kernel"]["changed"] and cfg["kernel"]["after"] == "6.18.0")
ok("synth_memtotal_change", cfg["mem_total"]["before"] == 8 << 30 and cfg["mem_total"]["after"] == 16 << 30)
ok("synth_shmem_change", d["shared_memory"]["meminfo_shmem"]["delta"] == 100 * MB)
ok("synth_net", d["summary"]["net_pss"] == (36 + 64) * MB - (20 + 5) * MB, str(d["summary"]))
ok("synth_percent", abs(d["totals"]["pss"]["percent"] - 300.0) < 1e-9, str(d["totals"]["pss"]))
ok("synth_cmdline_args", d["added"]["user"]["processes"][0]["after"]["cmdline"] == ["/opt/app/bin/app", "--name=a|b`c<d>\nx"])
PY
MD=b/diff_report_中文.md
grep -q "内核版本 | 6.1.0 | 6.18.0 | 已变化" "$MD" && pass synth_md_kernel_row || fail synth_md_kernel_row "$(grep 内核版本 "$MD")"
grep -q "| nginx | 100→200（×2→×3） |" "$MD" && pass synth_md_instances || fail synth_md_instances "$(grep nginx "$MD" | head -2)"
grep -q "新增库：/usr/lib/libfoo.so（50.0 KiB）" "$MD" && grep -q "移除库：/usr/lib/libold.so" "$MD" && \
    grep -q "库大小变化：/usr/lib/libssl.so.3（600.0 KiB → 700.0 KiB，+100.0 KiB）" "$MD" && pass synth_md_lib_details || fail synth_md_lib_details "$(grep 'nginx\*\*' "$MD")"
grep -q "可执行文件大小 1.2 MiB → 1.3 MiB（+100.0 KiB）" "$MD" && pass synth_md_exe_size || fail synth_md_exe_size "$(grep 'nginx\*\*' "$MD")"
grep -qF '| a\|b\`c&lt;d&gt;\nx | 300 |' "$MD" && grep -qF -- '--name=a\|b\`c&lt;d&gt;\nx |' "$MD" && pass synth_md_hostile_cmdline || fail synth_md_hostile_cmdline "$(grep 300 "$MD")"
grep -q "不同的启动" "$MD" && pass synth_md_rule_across_boots || fail synth_md_rule_across_boots ""
grep -q "系统共享内存 Shmem：+100.0 MiB" "$MD" && pass synth_md_shmem_cause || fail synth_md_shmem_cause "$(sed -n '/主要原因/,/^$/p' "$MD")"

# ---- order: one host in time order unless --as-given; two hosts as given -----
"$MSDIFF" b/b.memscope a/a.memscope --json rev1.json 2> rev1.err
grep -q "is newer than the second" rev1.err && python3 -c "
import json; d = json.load(open('rev1.json')); assert d['before']['file'] == 'a/a.memscope', d['before']['file']" \
    && pass synth_one_host_time_order || fail synth_one_host_time_order "$(cat rev1.err)"
"$MSDIFF" b/b.memscope a/a.memscope --as-given --json rev2.json 2> rev2.err
! grep -q "newer" rev2.err && python3 -c "
import json; d = json.load(open('rev2.json')); assert d['before']['file'] == 'b/b.memscope', d['before']['file']" \
    && pass synth_as_given_keeps_order || fail synth_as_given_keeps_order "$(cat rev2.err)"
mkdir h && "$TMP/synth" write h/db1.memscope h/db2.memscope db2 || fail synth_write_hosts "could not write"
"$MSDIFF" h/db2.memscope h/db1.memscope --json rev3.json 2> rev3.err
! grep -q "newer" rev3.err && python3 -c "
import json; d = json.load(open('rev3.json')); assert d['before']['file'] == 'h/db2.memscope', d['before']['file']" \
    && pass synth_two_hosts_as_given || fail synth_two_hosts_as_given "$(cat rev3.err)"

# ---- series growth ranking ---------------------------------------------------
"$TMP/synth" series series.memscope || { fail synth_series_write "could not write"; exit 1; }
"$MSCONV" series.memscope --json -o series.json
python3 - series.json <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["growth"]
def ok(name, cond, why=""): print(("PASS: " + name) if cond else ("FAIL: %s: %s" % (name, why)))
ps = {p["pid"]: p for p in g["processes"]}
ok("series_min_snapshots_half", g["min_snapshots_for_rate"] == 10, str(g["min_snapshots_for_rate"]))
ok("series_leaker_ranked_first", g["processes"][0]["pid"] == 500, str([(p["pid"], p["pss_mb_per_hour"]) for p in g["processes"]]))
lk = ps.get(500, {})
ok("series_leaker_rate_5mb_per_s", lk.get("rated") and abs(lk["pss_mb_per_hour"] - 5 * 3600) < 1, str(lk))
ok("series_leaker_r2", lk.get("r2") is not None and lk["r2"] > 0.999, str(lk))
b = ps.get(600, {})
ok("series_short_lived_not_rated", b and not b["rated"] and b["pss_mb_per_hour"] is None and b["snapshots_seen"] == 4, str(b))
ok("series_flat_rated_zero", ps.get(700, {}).get("rated") and abs(ps[700]["pss_mb_per_hour"]) < 1e-6, str(ps.get(700)))
ok("series_denied_samples_skipped", ps.get(800, {}).get("snapshots_seen") == 10 and abs(ps[800]["pss_mb_per_hour"]) < 1e-6, str(ps.get(800)))
PY
"$MSCONV" series.memscope --text > series.txt
awk '/增长最快的进程/{getline; getline; print $1; exit}' series.txt | grep -qx 500 && pass series_text_leaker_first || fail series_text_leaker_first "$(grep -A4 增长最快 series.txt)"
grep -q "另有 1 个进程出现在少于 10 个快照中" series.txt && pass series_text_short_lived_said || fail series_text_short_lived_said "$(grep -A8 增长最快 series.txt)"
